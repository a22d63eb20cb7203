"""The env_file role run by ansible-playbook on this machine: files, refusals, and a canary secret."""

import stat
import subprocess
import textwrap
import time
from pathlib import Path

import pytest
import yaml
from support.playbook import run_local

ROOT = Path(__file__).resolve().parents[2]
CANARY = "canary-7f3a9c21-do-not-print"


def write_play(tmp_path, services, secrets, **extra):
    app_root = tmp_path / "app"
    app_root.mkdir(exist_ok=True)
    play = [
        {
            "name": "Env files",
            "hosts": "localhost",
            "gather_facts": False,
            "vars": dict(
                stack_app_root=str(app_root),
                stack_app_user="nobody",
                stack_services=services,
                env_file_group="nogroup",
                env_file_secrets=secrets,
                **extra,
            ),
            "roles": ["steadyops.stack.env_file"],
        }
    ]
    path = tmp_path / "play.yml"
    path.write_text(yaml.safe_dump(play, sort_keys=False))
    return path, app_root / "shared"


def run(playbook, *flags):
    return run_local(playbook, *flags)


def recap_changed(output):
    line = next(line for line in output.splitlines() if line.startswith("localhost") and "changed=" in line)
    return int(line.split("changed=")[1].split()[0])


SERVICES = [
    {
        "name": "tms-backend",
        "exec": "/opt/tms/current/venv/bin/uvicorn app.main:app --port 8000",
        "env": {"LOG_LEVEL": "info", "GREETING": 'say "hi" $USER'},
        "env_secrets": ["DATABASE_URL", "JWT_SECRET_KEY"],
        "env_required": ["LOG_LEVEL", "DATABASE_URL"],
    },
    {"name": "tms-frontend", "exec": "/usr/bin/node server.js", "env": {"PORT": "3000"}},
    {"name": "nginx", "packaged": True},
]
SECRETS = {"DATABASE_URL": "postgresql://tms:%s@db/tms" % CANARY, "JWT_SECRET_KEY": CANARY + "-jwt"}


def test_files_check_apply_reapply_and_no_secret_anywhere(tmp_path):
    playbook, shared = write_play(tmp_path, SERVICES, SECRETS)
    outputs = []

    rc, out = run(playbook, "--check", "--diff")
    outputs.append(out)
    assert rc == 0, out
    assert not (shared / "tms-backend.env").exists(), "check mode writes nothing"

    rc, out = run(playbook, "-vvv")
    outputs.append(out)
    assert rc == 0, out
    assert recap_changed(out) > 0
    backend = shared / "tms-backend.env"
    info = backend.stat()
    assert stat.S_IMODE(info.st_mode) == 0o600
    assert info.st_uid == int(subprocess.check_output(["id", "-u", "nobody"]))
    text = backend.read_text()
    assert 'LOG_LEVEL="info"' in text
    assert 'GREETING="say \\"hi\\" \\$USER"' in text
    assert 'JWT_SECRET_KEY="%s-jwt"' % CANARY in text
    assert not (shared / "nginx.env").exists(), "packaged units get no env file"
    # systemd reads the file as the unit will.
    parsed = subprocess.run(
        ["bash", "-c", "set -a; . %s; printf '%%s' \"$GREETING\"" % backend], capture_output=True, text=True, check=True
    ).stdout
    assert parsed == 'say "hi" $USER'

    rc, out = run(playbook, "--diff")
    outputs.append(out)
    assert rc == 0, out
    assert recap_changed(out) == 0, out

    secrets = dict(SECRETS, JWT_SECRET_KEY=CANARY + "-rotated")
    playbook, _shared = write_play(tmp_path, SERVICES, secrets)
    rc, out = run(playbook, "--diff", "-vvv")
    outputs.append(out)
    assert rc == 0, out
    assert "tms-backend.env keys added [], removed [], changed ['JWT_SECRET_KEY']" in out
    backups = [p for p in shared.iterdir() if p.name.startswith("tms-backend.env.") and p.name.endswith("~")]
    assert len(backups) == 1, "the previous file is kept"

    for output in outputs:
        assert output.count(CANARY) == 0, "a secret value leaked into the output"


@pytest.mark.parametrize(
    ("services", "secrets", "expected"),
    [
        (
            [{"name": "api", "exec": "x", "env": {"API_KEY": "<CHANGE_ME>"}}],
            {},
            "api: key(s) API_KEY still hold a placeholder value",
        ),
        (
            [{"name": "api", "exec": "x", "env_secrets": ["JWT_SECRET_KEY"]}],
            {"JWT_SECRET_KEY": "changeme"},
            "api: key(s) JWT_SECRET_KEY still hold a placeholder value",
        ),
        (
            [{"name": "api", "exec": "x", "env_required": ["DATABASE_URL"]}],
            {},
            "api: required key(s) DATABASE_URL missing",
        ),
        (
            [{"name": "api", "exec": "x", "env_secrets": ["TOKEN"]}],
            {},
            "api: secret(s) TOKEN missing from env_file_secrets",
        ),
        ([{"name": "api", "exec": "x", "env_secrets": ["TOKEN"]}], {"TOKEN": ""}, "api: key(s) TOKEN empty"),
        ([{"name": "api", "exec": "x", "env": {"2FA-KEY": "v"}}], {}, "api: invalid key name(s) '2FA-KEY'"),
        (
            [{"name": "../../../etc/x", "exec": "x"}],
            {},
            "stack_services[1] (../../../etc/x).name: '../../../etc/x' is not a usable unit name",
        ),
        ([{"name": "api\nx", "exec": "x"}], {}, "'api\\nx' is not a usable unit name"),
        (
            [{"name": "api", "exec": "x", "env": {"TOKEN": "a"}, "env_secrets": ["TOKEN"]}],
            {"TOKEN": CANARY},
            "api: key(s) TOKEN given more than once",
        ),
    ],
)
def test_wrong_env_is_refused_before_anything_is_written(tmp_path, services, secrets, expected):
    ok_service = {"name": "web", "exec": "y", "env": {"PORT": "3000"}}
    playbook, shared = write_play(tmp_path, [ok_service, *services], dict(secrets, UNUSED=CANARY))
    rc, out = run(playbook, "-vvv")
    assert rc != 0
    assert "Refusing to write env files; nothing was changed." in out
    assert expected in out
    assert not shared.exists(), "no file of any service is written"
    assert out.count(CANARY) == 0


def test_example_file_keys_are_required(tmp_path):
    example = tmp_path / ".env.example"
    example.write_text(
        textwrap.dedent("""\
        # every service needs these
        SENTRY_DSN=
        export LOG_LEVEL=debug
    """)
    )
    playbook, _shared = write_play(
        tmp_path, [{"name": "api", "exec": "x", "env": {"LOG_LEVEL": "info"}}], {}, env_file_example=str(example)
    )
    rc, out = run(playbook)
    assert rc != 0
    assert "api: required key(s) SENTRY_DSN missing" in out


def test_only_the_newest_backups_stay_and_a_mode_fix_rewrites_nothing(tmp_path):
    for rotation in range(4):
        secrets = dict(SECRETS, JWT_SECRET_KEY="%s-%d" % (CANARY, rotation))
        playbook, shared = write_play(tmp_path, SERVICES, secrets, env_file_backup_keep=2)
        rc, out = run(playbook)
        assert rc == 0, out
        time.sleep(1.1)  # Ansible names backups by the second
    (shared / "notes.env.orig~").write_text("an operator's own copy\n")
    backups = sorted(path.name for path in shared.iterdir() if path.name.startswith("tms-backend.env."))
    assert len(backups) == 2, backups
    # Three backups were made; the two newest hold the two rotations before the last, and the oldest
    # secret is gone with its file.
    kept = "".join((shared / name).read_text() for name in backups)
    assert "%s-1" % CANARY in kept
    assert "%s-2" % CANARY in kept
    assert "%s-0" % CANARY not in kept

    backend = shared / "tms-backend.env"
    backend.chmod(0o644)
    content_before = backend.read_text()
    rc, out = run(playbook)
    assert rc == 0, out
    assert stat.S_IMODE(backend.stat().st_mode) == 0o600
    assert backend.read_text() == content_before
    assert sorted(path.name for path in shared.iterdir() if path.name.startswith("tms-backend.env.")) == backups
    assert (shared / "notes.env.orig~").exists()
    rc, out = run(playbook)
    assert recap_changed(out) == 0, out
