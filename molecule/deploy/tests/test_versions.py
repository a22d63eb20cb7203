"""New versions deployed by real ansible-playbook runs, in file order, after the per-host checks.

Gapless under load, and the baseline without gapless switching that must fail
requests; env files and a unit that break a restart, put back; a release
whose health fails, rolled back; a failing migration that
ends the deploy before the switch; a lock another deploy holds; a rolling
deploy whose second host fails.
"""

import json
import os
import re
import time
from pathlib import Path

import testinfra
import yaml
from helpers import FIRST, PROJECT, ROOT, SECOND, commit, deploy, get, main_pids, playbook, post_job, serving_release

testinfra_hosts = ["ansible://" + FIRST]
LOADGEN = (
    "python3 /usr/local/lib/steadyops-loadgen.py --rate 60 --seconds 240"
    " --stop-file /run/loadgen.stop --out /run/loadgen.json /health /api/health"
)
MIN_RATE = 50
# The demo's service model, as the inventory gives it: tests change one field of it at a time.
SERVICES = yaml.safe_load((Path(PROJECT) / "inventories/staging/group_vars/staging/stack.yml").read_text())[
    "stack_services"
]
LOCKFILE = (Path(__file__).resolve().parents[3] / "examples/tms/frontend/package-lock.json").read_text()


def other_host(name):
    return testinfra.get_host("ansible://%s?ansible_inventory=%s" % (name, os.environ["MOLECULE_INVENTORY_FILE"]))


def under_load(host, action):
    """Run action() while the host's own nginx gets at least MIN_RATE requests/s; the load's summary."""
    host.check_output("rm -f /run/loadgen.stop /run/loadgen.json")
    host.check_output("systemd-run --unit steadyops-loadgen --collect --quiet %s" % LOADGEN)
    time.sleep(3)
    try:
        result = action()
    finally:
        time.sleep(2)
        host.check_output("touch /run/loadgen.stop")
    deadline = time.time() + 30
    while not host.file("/run/loadgen.json").exists and time.time() < deadline:
        time.sleep(0.5)
    load = json.loads(host.file("/run/loadgen.json").content_string)
    assert load["rate"] >= MIN_RATE, load
    return result, load


def releases(host):
    return sorted(host.check_output("ls %s/releases" % ROOT).split())


def test_preflight_refuses_before_any_host_changes(host):
    """Each refusal comes from the first play, on every host, before the lock or a build."""
    before = (serving_release(host), releases(host))
    services = json.dumps(
        {
            "stack_services": [
                {"name": "tms-api", "exec": "/bin/true", "port": 8000, "gapless_port": 3000},
                {"name": "tms-frontend", "exec": "/bin/true", "port": 3000, "after": ["tms-apii"]},
            ]
        }
    )
    cases = [
        (("-e", services), "stack_services[1] (tms-frontend).port: port 3000 is already taken"),
        (("-e", services), "stack_services[1] (tms-frontend).after[0]: 'tms-apii' is not a service"),
        (("-e", "stack_email_policy=production"), "sso-test@gmail.test"),
        (
            ("-e", json.dumps({"stack_nginx_routes": [{"path": "/x/ { alias /etc/; }", "service": "tms-api"}]})),
            "routes[0].path '/x/ { alias /etc/; }'",
        ),
        # pg_dump would take it as an option: the pre-migration backup a schema-only dump of another database
        (("-e", "stack_database=--schema-only"), "deploy_backup_database '--schema-only': would be read as an option"),
    ]
    for extra, expected in cases:
        code, output = deploy("staging", *extra)
        assert code != 0
        assert expected in re.sub(r"\s+", " ", output), output
        assert "Take the deploy lock" not in output
    assert (serving_release(host), releases(host)) == before


def test_a_release_without_its_lockfile_is_refused_before_anything_is_built(host):
    before = (serving_release(host), releases(host))
    missing = commit("no lockfile", remove=["frontend/package-lock.json"])
    code, output = deploy(FIRST)
    assert code != 0
    assert "Release %s has no frontend/package-lock.json" % missing in re.sub(r"\s+", " ", output), output
    assert (serving_release(host), releases(host)) == before
    commit("lockfile back", write={"frontend/package-lock.json": LOCKFILE})


def test_a_new_version_deploys_without_a_failed_request(host):
    before = serving_release(host)
    release = commit("v2: a new version", write={"VERSION": "v2\n"})
    (code, output), load = under_load(host, lambda: deploy(FIRST))
    assert code == 0, output
    assert serving_release(host) == release
    assert get(host, "/api/health")[1]["release"] == release
    assert "%s: serves %s (new; was %s)" % (FIRST, release, before) in output
    assert load["failed"] == 0, load
    print("gapless deploy under load:", load)


def test_without_gapless_switching_the_same_deploy_fails_requests(host):
    # The baseline that proves the load test can fail: restarts in place leave a gap.
    release = commit("v3: another version", write={"VERSION": "v3\n"})
    (code, output), load = under_load(host, lambda: deploy(FIRST, "-e", "deploy_gapless=false"))
    assert code == 0, output
    assert serving_release(host) == release
    assert load["failed"] > 0, load
    print("in-place deploy under load:", load)


def api_environment(host):
    """The running API's environment, as its process has it: read through /proc, not the env file."""
    pid = host.check_output("systemctl show -p MainPID --value %s" % api_unit(host))
    return dict(
        line.split("=", 1)
        for line in host.check_output("tr '\\0' '\\n' < /proc/%s/environ" % pid).splitlines()
        if "=" in line
    )


def api_unit(host):
    return host.check_output("systemctl list-units --state=active --no-legend --plain 'tms-api@*' | cut -d' ' -f1")


def test_a_deploy_whose_env_and_unit_break_the_api_puts_both_back(host):
    """A new DATABASE_URL (the wrong password) and a changed unit; the API restarts in place on them and fails.

    The release is the one serving (nothing new to build or migrate), so the failure is the restart's.

    The rollback puts the env files and the unit file back from their backups, restarts the API on them, and
    says what it put back; the API's own process has the old environment again and serves.
    """
    good = serving_release(host)
    files = ["%s/shared/tms-api.env" % ROOT, "%s/shared/tms-worker.env" % ROOT, "/etc/systemd/system/tms-api@.service"]
    before = {path: host.file(path).sha256sum for path in files}
    right_url = api_environment(host)["DATABASE_URL"]
    services = [dict(s, description="TMS API, changed") if s["name"] == "tms-api" else s for s in SERVICES]
    wrong = {
        "stack_services": services,
        "env_file_secrets": {"DATABASE_URL": "postgresql://tms:PBWRONG-pw@127.0.0.1:5432/tms"},
    }
    code, output = deploy(FIRST, "-e", json.dumps(wrong), "-e", "deploy_gapless=false")
    flat = re.sub(r"\s+", " ", output)
    assert code != 0
    assert "Rolled back to the instances that served; it serves and is healthy" in flat, output[-4000:]
    assert "Put back: the unit files /etc/systemd/system/tms-api@.service; the env files " in flat, output[-4000:]
    assert all(path in flat.split("Put back: ", 1)[1] for path in files), output[-4000:]
    assert "PBWRONG" not in output
    assert {path: host.file(path).sha256sum for path in files} == before
    # systemd reads the unit put back, and the API's process runs on the env file put back.
    assert host.check_output("systemctl show -p Description --value %s" % api_unit(host)) == "TMS API"
    assert api_environment(host)["DATABASE_URL"] == right_url
    assert serving_release(host) == good
    assert get(host, "/api/health")[0] == 200


def test_a_release_whose_health_fails_is_rolled_back(host):
    good = serving_release(host)
    broken = commit("v4: health fails", write={"BREAK_API_HEALTH": "on purpose\n"})
    code, output = deploy(FIRST)
    assert code != 0
    assert re.search(
        r"%s: the deploy of release %s failed at\s+Check each service answers its health URL\s+"
        r"\[tms-api@800[01]\.service\]" % (FIRST, broken),
        output,
    ), output
    assert "Rolled back to release %s; it serves and is healthy" % good in re.sub(r"\s+", " ", output)
    assert serving_release(host) == good
    status, body = get(host, "/api/health")
    assert (status, body["release"]) == (200, good)
    assert not host.file("%s/deploy.lock" % ROOT).exists
    commit("v5: health fixed", remove=["BREAK_API_HEALTH"])


def test_a_failing_migration_ends_the_deploy_before_the_switch(host):
    good = serving_release(host)
    units = ["tms-worker.service"]
    before = main_pids(host, units)
    broken = commit("v6: a broken migration", write={"migrations/002_broken.sql": "CREATE TABLE broken (;\n"})
    # The same run changes the API's unit and env file: written before the migrations, put back after.
    files = ["%s/shared/tms-api.env" % ROOT, "/etc/systemd/system/tms-api@.service"]
    before = dict(before, **{path: host.file(path).sha256sum for path in files})
    changed = [
        dict(s, description="TMS API v6", env={"LOG_LEVEL": "debug"}) if s["name"] == "tms-api" else s for s in SERVICES
    ]
    code, output = deploy(FIRST, "-e", json.dumps({"stack_services": changed}))
    assert code != 0
    assert "migration 002_broken.sql failed" in output, output
    flat = re.sub(r"\s+", " ", output)
    assert "Put back: the unit files %s; the env files %s." % (files[1], files[0]) in flat, output[-4000:]
    assert dict(main_pids(host, units), **{path: host.file(path).sha256sum for path in files}) == before
    assert "demo-db-password-4f1c" not in output, "the migration runs with the secret; the output never shows it"
    assert serving_release(host) == good
    assert host.run("ls %s/backups/ | grep -q before-%s" % (ROOT, broken)).rc == 0
    commit("v7: migration fixed", remove=["migrations/002_broken.sql"])


def test_a_deploy_refuses_while_another_holds_the_lock(host):
    good = serving_release(host)
    host.check_output("mkdir %s/deploy.lock" % ROOT)
    owner = json.dumps({"owner": "alice@laptop (ansible-playbook)", "since": "2026-11-29T08:00:00Z"})
    host.check_output("echo '%s' > %s/deploy.lock/owner.json" % (owner, ROOT))
    try:
        code, output = deploy(FIRST)
        assert code != 0
        holder = r"is held by alice@laptop \(ansible-playbook\) \(since\s+2026-11-29T08:00:00Z\)"
        assert re.search(holder, output), output
        assert "Wait for that deploy to finish" in re.sub(r"\s+", " ", output)
        assert host.file("%s/deploy.lock/owner.json" % ROOT).exists, "the refused run removed another run's lock"
        assert serving_release(host) == good
    finally:
        host.check_output("rm -rf %s/deploy.lock" % ROOT)


def test_a_rolling_deploy_stops_at_the_host_that_fails_and_says_what_serves_where(host):
    second = other_host(SECOND)
    before_second = serving_release(second)
    serving_port = re.search(r":(\d+);", second.file("/etc/nginx/steadyops-upstreams/tms-api.conf").content_string)
    idle = {"8000": 8001, "8001": 8000}[serving_port.group(1)]
    # Something that is not ours holds staging-2's idle port: port_free must refuse to touch it.
    squatter = "python3 -m http.server %d --bind 127.0.0.1" % idle
    second.check_output("systemd-run --unit squatter --collect --quiet %s" % squatter)
    try:
        release = commit("v8: rolled to both hosts", write={"VERSION": "v8\n"})
        code, output = deploy("staging")
        assert code != 0
        flat = re.sub(r"\s+", " ", output)
        assert serving_release(host) == release
        assert serving_release(second) == before_second
        assert "%s: serves %s (new; was" % (FIRST, release) in flat
        rolled_back = "%s: serves %s (rolled back from %s: Free the ports of the services about to start"
        assert rolled_back % (SECOND, before_second, release) in flat, flat[-3000:]
        assert "squatter.service" in flat
        assert get(second, "/api/health")[1]["release"] == before_second
    finally:
        second.run("systemctl stop squatter.service")


def restore(*extra):
    return playbook("restore", FIRST, *extra)


def test_a_backup_is_restored_only_when_confirmed_and_the_database_as_it_was_is_kept(host):
    dump = sorted(host.check_output("ls %s/backups" % ROOT).split())[-1]
    job = post_job(host)
    code, output = restore("-e", "deploy_restore_backup=%s" % dump)
    assert code != 0
    assert "repeat it in deploy_restore_confirm" in re.sub(r"\s+", " ", output), output
    assert get(host, "/api/jobs/%d" % job)[0] == 200, "a refused restore changed the database"

    confirmed = ("-e", "deploy_restore_backup=%s" % dump, "-e", "deploy_restore_confirm=%s" % dump)
    code, output = restore(*confirmed, "-e", "deploy_backup_database=host=10.0.0.9 dbname=tms")
    assert code != 0
    assert "would be read as a connection string" in re.sub(r"\s+", " ", output), output
    assert get(host, "/api/jobs/%d" % job)[0] == 200, "a refused restore changed the database"

    code, output = restore(*confirmed)
    assert code == 0, output
    assert get(host, "/api/jobs/%d" % job)[0] == 404, "the job made after the dump is still there"
    status, body = get(host, "/api/health")
    assert status == 200, body
    kept = [d for d in host.check_output("ls %s/backups" % ROOT).split() if d.endswith("-before-restore.dump")]
    assert kept, "no dump of the database as it was before the restore"
    assert host.run("pg_restore --list %s/backups/%s" % (ROOT, kept[-1])).rc == 0
