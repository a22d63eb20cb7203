"""After converge (provision + deploy) and idempotence, on each host: the stack serves as the model says."""

import re
import time

from helpers import ROOT, get, post_job, serving_release

STRICT_EXPOSURE_MAX = 2.0
STANDARD_EXPOSURE_MAX = 5.0


def serving_unit(host, name):
    port = re.search(r":(\d+);", host.file("/etc/nginx/steadyops-upstreams/%s.conf" % name).content_string).group(1)
    return "%s@%s.service" % (name, port)


def test_every_route_answers_through_nginx_with_the_current_release(host):
    release = serving_release(host)
    status, body = get(host, "/api/health")
    assert status == 200, body
    assert body["release"] == release
    status, body = get(host, "/health")
    assert status == 200, body
    assert body["release"] == release
    page = host.check_output(
        "python3 -c \"import urllib.request; print(urllib.request.urlopen('http://127.0.0.1/').read())\""
    )
    assert "release %s" % release in page


def test_each_gapless_service_runs_one_enabled_instance_nginx_points_at(host):
    for name, ports in (("tms-api", (8000, 8001)), ("tms-frontend", (3000, 3001))):
        unit = serving_unit(host, name)
        assert host.service(unit).is_running, unit
        assert host.service(unit).is_enabled, unit
        other = next(u for u in ("%s@%d.service" % (name, p) for p in ports) if u != unit)
        assert not host.service(other).is_running, other
        assert host.run("systemctl is-failed --quiet %s" % other).rc != 0, "%s left failed" % other
        status, body = get(host, "/health", port=int(unit.split("@")[1].split(".")[0]))
        assert status == 200, (unit, body)


def test_a_unit_after_a_gapless_service_is_ordered_after_its_instances_as_systemd_reads_it(host):
    # tms-api runs as tms-api@8000/8001: there is no tms-api.service to order after, and wanting
    # both instances would start the idle one.
    after = host.check_output("systemctl show -p After --value tms-worker.service").split()
    wants = host.check_output("systemctl show -p Wants --value tms-worker.service").split()
    assert {"tms-api@8000.service", "tms-api@8001.service", "postgresql.service"} <= set(after), after
    assert "tms-api.service" not in after
    assert not [unit for unit in wants if unit.startswith("tms-api")], wants


def test_units_are_sandboxed_as_their_profile_says(host):
    def exposure(unit):
        out = host.check_output("systemd-analyze security --no-pager %s" % unit)
        return float(re.search(r"Overall exposure level for \S+:\s*([0-9.]+)", out).group(1))

    assert exposure(serving_unit(host, "tms-api")) <= STRICT_EXPOSURE_MAX
    assert exposure("tms-worker.service") <= STRICT_EXPOSURE_MAX
    assert exposure(serving_unit(host, "tms-frontend")) <= STANDARD_EXPOSURE_MAX
    pid = host.check_output("systemctl show -p MainPID --value %s" % serving_unit(host, "tms-api"))
    assert host.check_output("ps -o user= -p %s" % pid) == "tmsapp"


def test_env_files_are_private_to_the_service_account(host):
    for name in ("tms-api", "tms-frontend", "tms-worker"):
        env = host.file("%s/shared/%s.env" % (ROOT, name))
        assert env.user == "tmsapp"
        assert env.mode == 0o600


def test_the_worker_drains_the_queue(host):
    ids = [post_job(host) for _job in range(20)]
    deadline = time.time() + 30
    while time.time() < deadline:
        states = {get(host, "/api/jobs/%d" % i)[1]["status"] for i in ids}
        if states == {"completed"}:
            break
        time.sleep(1)
    assert states == {"completed"}


def test_the_backup_before_the_first_migrations_exists_and_lists(host):
    dumps = host.check_output("ls %s/backups" % ROOT).split()
    assert any(re.fullmatch(r"tms-\d{8}T\d{6}Z-before-[0-9a-f]{12}\.dump", d) for d in dumps), dumps
    newest = sorted(dumps)[-1]
    listing = host.run("pg_restore --list %s/backups/%s" % (ROOT, newest))
    assert listing.rc == 0, listing.stderr
    assert "Format: CUSTOM" in listing.stdout
    assert host.file("%s/backups/%s" % (ROOT, newest)).mode == 0o640


def test_no_deploy_lock_is_left_behind(host):
    assert not host.file("%s/deploy.lock" % ROOT).exists
