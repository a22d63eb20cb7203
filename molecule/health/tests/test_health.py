"""The health check, run as cron runs it, through a sequence of incidents on a real host.

The tests run in file order and each leaves the host healthy for the next.
"""

import json
import re

import pytest

PROGRAM = "/usr/bin/python3 /usr/local/lib/steadyops/steadyops_health.py"
STATUS = "/var/lib/steadyops/health/status.json"


def check(host):
    result = host.run(PROGRAM)
    status = json.loads(host.file(STATUS).content_string)
    assert status["exit_code"] == result.rc
    return result, status


def mails(host):
    listing = host.run("ls /var/spool/smtp-sink 2>/dev/null").stdout.split()
    return [host.file("/var/spool/smtp-sink/" + name).content_string for name in sorted(listing)]


def subjects(host):
    return [re.search(r"^Subject: (.*)$", mail, re.M).group(1) for mail in mails(host)]


def settle(host):
    host.run_test(
        "for i in $(seq 50); do systemctl is-active --quiet tms-backend && "
        "ss -Htln 'sport = :8000' | grep -q . && exit 0; sleep 0.2; done; exit 1"
    )


@pytest.fixture(scope="module", autouse=True)
def clean_start(host):
    # The tests run the check themselves; a cron run in between would add mails and restarts.
    host.run("systemctl stop cron")
    host.run("rm -rf /var/spool/smtp-sink/* /var/lib/steadyops/health/state.json /run/tms-backend-unhealthy")
    host.run("systemctl reset-failed tms-backend; systemctl restart tms-backend")
    settle(host)


def test_scheduled_from_cron(host):
    assert (
        "*/5 * * * * /usr/bin/python3 /usr/local/lib/steadyops/steadyops_health.py"
        in host.run("crontab -l -u root").stdout
    )
    assert host.service("cron").is_enabled


def test_healthy_stack_is_ok(host):
    result, status = check(host)
    assert result.rc == 0, result.stdout
    assert status["status"] == "OK"
    assert re.search(r"^\[HEALTH\] \S+ - OK: tms-backend.service is active$", result.stdout, re.M)
    assert status["services"]["tms-backend"]["http"]["status"] == 200
    assert subjects(host) == []


def test_stopped_unit_is_restarted_alerted_once_and_recovers(host):
    host.run_test("systemctl stop tms-backend")
    result, status = check(host)
    assert result.rc == 2
    assert status["services"]["tms-backend"]["active"] == "inactive"
    assert {"service": "tms-backend", "action": "restart", "rc": 0, "output": ""} in status["actions"]
    settle(host)
    assert subjects(host) == ["[steadyops] CRITICAL tms-backend on " + host.check_output("hostname")]

    result, status = check(host)
    assert result.rc == 0, result.stdout
    assert subjects(host)[1:] == ["[steadyops] RECOVERED tms-backend on " + host.check_output("hostname")]


def test_orphan_holding_the_port_is_named_and_cleared(host):
    host.run_test("systemctl stop tms-backend")
    host.run_test("runuser -u tmsapp -- setsid -f /usr/bin/python3 /opt/tms/current/server.py tms-backend 8000")
    host.run_test("for i in $(seq 50); do ss -Htln 'sport = :8000' | grep -q . && exit 0; sleep 0.1; done; exit 1")
    orphan = int(re.search(r"pid=(\d+)", host.check_output("ss -Htlnp 'sport = :8000'")).group(1))
    result, status = check(host)
    assert result.rc == 2
    assert "port 8000 is held by pid %d" % orphan in result.stdout
    assert "outside tms-backend.service: an orphan" in result.stdout
    assert [o["pid"] for o in status["services"]["tms-backend"]["port"]["orphans"]] == [orphan]
    assert any(a["action"] == "free port 8000" and a["rc"] == 0 for a in status["actions"])
    settle(host)
    assert host.run("test -d /proc/%d" % orphan).rc != 0, "the orphan was stopped"
    result, _status = check(host)
    assert result.rc == 0, result.stdout


def test_failing_endpoint_restarts_within_budget_then_stops_trying(host):
    # Start from an empty restart history: the budget is 2 restarts in 10 runs.
    host.run_test(
        "python3 -c \"import json; p='/var/lib/steadyops/health/state.json'; s=json.load(open(p)); "
        "s['restarts']={}; json.dump(s, open(p, 'w'))\""
    )
    before = len(mails(host))
    host.run_test("touch /run/tms-backend-unhealthy")
    outcomes = []
    for _run in range(4):
        result, status = check(host)
        outcomes.append((result.rc, [a["action"] for a in status["actions"] if a.get("service")]))
        settle(host)
    assert all(rc == 2 for rc, _actions in outcomes)
    assert [actions.count("restart") for _rc, actions in outcomes] == [1, 1, 0, 0]
    assert "not restarting it again until it stays up" in result.stdout
    assert status["services"]["tms-backend"]["http"]["status"] == 500
    new = subjects(host)[before:]
    assert new == ["[steadyops] CRITICAL tms-backend on " + host.check_output("hostname")], new

    host.run_test("rm /run/tms-backend-unhealthy")
    result, _status = check(host)
    assert result.rc == 0, result.stdout
    assert subjects(host)[-1] == "[steadyops] RECOVERED tms-backend on " + host.check_output("hostname")


def test_zombies_warn(host):
    host.run_test("setsid -f python3 -c 'import os, time\nif os.fork() == 0: os._exit(0)\ntime.sleep(30)'")
    host.run_test("for i in $(seq 50); do ps -eo stat | grep -q '^Z' && exit 0; sleep 0.1; done; exit 1")
    result, status = check(host)
    assert result.rc == 1, result.stdout
    assert status["host"]["zombies"] >= 1
    assert re.search(r"^\[HEALTH\] \S+ - WARNING: \d+ zombie process", result.stdout, re.M)


def test_never_two_runs_at_once(host):
    host.run_test("( flock /var/lib/steadyops/health/run.lock sleep 5 & ); sleep 0.5")
    result = host.run(PROGRAM)
    assert result.rc == 0
    assert "another run is in progress" in result.stdout
