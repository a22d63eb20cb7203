"""The health check's config: typed by the role on every core, refused by the program itself when it is not.

The role's preflight runs under ansible-playbook with values as `-e key=value`
gives them (text), writes the config it would install, and the real program,
installed from the host helpers' list, reads it back with --check-config.
A file the program cannot use is refused loudly at the start of a run.
"""

import json
import subprocess
import sys

import pytest
import yaml
from support import host_helpers
from support.playbook import run_local


def preflight_playbook(tmp_path):
    """The health check's preflight, then the config it checked written where the test can read it."""
    written = tmp_path / "health.json"
    playbook = tmp_path / "preflight.yml"
    services = [{"name": "tms-api", "exec": "/bin/true", "port": 8000, "gapless_port": 8001,
                 "health": {"url": "http://127.0.0.1:8000/health", "status": "204", "timeout": "3"}}]  # fmt: skip
    playbook.write_text(
        yaml.safe_dump(
            [
                {
                    "name": "The health check's preflight",
                    "hosts": "localhost",
                    "gather_facts": False,
                    "vars": {"stack_services": services, "stack_app_user": "tmsapp", "stack_app_root": "/opt/tms"},
                    "tasks": [
                        {
                            "name": "Check",
                            "ansible.builtin.include_role": {
                                "name": "steadyops.stack.health_check",
                                "tasks_from": "preflight",
                                # Its vars (the config it built) stay visible to the next task.
                                "public": True,
                            },
                        },
                        {
                            "name": "Keep the config it checked",
                            "ansible.builtin.copy": {
                                "content": "{{ __health_check_config_data | to_json }}",
                                "dest": str(written),
                                "mode": "0600",
                            },
                        },
                    ],
                }
            ]
        )
    )
    return playbook, written


def check_config(program_dir, path):
    program = program_dir / "steadyops_health.py"
    command = [sys.executable, program, "--check-config", "--config", path]
    return subprocess.run(command, capture_output=True, text=True, check=False)


@pytest.fixture
def program_dir(tmp_path):
    target = tmp_path / "helpers"
    target.mkdir()
    return host_helpers.install(target)


def test_text_from_the_command_line_becomes_the_types_the_program_reads(tmp_path, program_dir):
    playbook, written = preflight_playbook(tmp_path)
    status, output = run_local(
        playbook,
        "-e", "health_check_restart_max=2", "-e", "health_check_smtp_port=587", "-e", "health_check_zombies=7",
        "-e", "health_check_smtp_to=ops@tms.test", "-e", "health_check_disk_paths=/var",
        "-e", "health_check_restart=no", "-e", "health_check_disk_percent=85",
    )  # fmt: skip
    assert status == 0, output[-3000:]
    config = json.loads(written.read_text())
    assert config["restart_budget"] == {"max_restarts": 2, "window_runs": 12}
    assert config["smtp"]["port"] == 587
    assert config["smtp"]["to"] == ["ops@tms.test"]
    assert config["disk_paths"] == ["/var"]
    assert config["restart"] is False
    assert config["thresholds"] == {"disk_percent": 85, "memory_percent": 90, "zombies": 7}
    assert config["services"][0]["gapless_ports"] == [8000, 8001]
    assert config["services"][0]["health"] == {"url": "http://127.0.0.1:8000/health", "status": 204, "timeout": 3}
    checked = check_config(program_dir, written)
    assert checked.returncode == 0, checked.stderr


@pytest.mark.parametrize(
    ("extra", "expected"),
    [
        ('{"health_check_disk_paths": ["var"]}', "disk_paths[0] is 'var': must be an absolute path"),
        ("health_check_restart_max=-1", "restart_budget.max_restarts is -1: must be a whole number from 0 up"),
        ("health_check_disk_percent=150", "thresholds.disk_percent is 150: must be a number from 0 to 100"),
        ("health_check_smtp_ca_file=certs/ca.pem", "smtp.ca_file is 'certs/ca.pem': must be an absolute path or empty"),
        ('{"stack_services": [{"name": "a", "exec": "/bin/true", "health": {"status": "ok"}}]}',
         "argument 'status' is of type"),
        # Not a number at all: the argument spec, which preflight applies too, refuses it by name.
        ("health_check_restart_max=three", "health_check_restart_max"),
    ],
)  # fmt: skip
def test_a_config_the_program_would_refuse_is_refused_at_preflight(tmp_path, extra, expected):
    playbook, written = preflight_playbook(tmp_path)
    status, output = run_local(playbook, "-e", extra)
    assert status != 0
    assert expected in " ".join(output.split()), output[-3000:]
    assert not written.exists()


def test_the_smtp_password_is_never_shown_in_a_refusal(tmp_path):
    playbook, _written = preflight_playbook(tmp_path)
    status, output = run_local(playbook, "-e", '{"health_check_smtp_password": ["hunter2-canary"]}')
    assert status != 0
    assert "hunter2-canary" not in output


@pytest.mark.parametrize(
    ("setting", "value", "expected"),
    [
        (("smtp", "to"), "ops@tms.test", "smtp.to is 'ops@tms.test': must be a list"),
        (("restart_budget", "max_restarts"), "3", "restart_budget.max_restarts is '3': must be a whole number"),
        (("disk_paths",), "/var", "disk_paths is '/var': must be a list"),
        (("smtp", "password"), 1234, "smtp.password is ********: must be text"),
        (("smtp", "sender"), "a@b.test", "smtp.sender is not a setting the health check knows"),
    ],
)
def test_a_file_the_program_cannot_use_fails_every_run_at_its_start_and_at_install(
    tmp_path, program_dir, setting, value, expected
):
    config = {"services": [], "state_dir": str(tmp_path / "state"), "smtp": {"host": "127.0.0.1", "to": []}}
    target = config
    for key in setting[:-1]:
        target = target.setdefault(key, {})
    target[setting[-1]] = value
    path = tmp_path / "health.json"
    path.write_text(json.dumps(config))
    checked = check_config(program_dir, path)
    assert checked.returncode == 3
    assert expected in checked.stderr
    run = subprocess.run(
        [sys.executable, program_dir / "steadyops_health.py", "--config", path],
        capture_output=True,
        text=True,
        check=False,
    )
    assert run.returncode == 2, run.stdout + run.stderr
    assert "CRITICAL: %s is not usable: " % path in run.stdout
    assert expected in run.stdout
    assert "Traceback" not in run.stderr
    assert not (tmp_path / "state").exists(), "a refused config keeps no state"
