"""The health check, scheduled by cron or a systemd timer, through a sequence of incidents on a real host.

The tests run in file order and each leaves the host healthy for the next.
"""

import base64
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


TIMER_UNIT = "/etc/systemd/system/steadyops-health.timer"
LOG = "/var/log/steadyops-health.log"


def scheduler(host):
    """What the inventory says runs the check on this host: cron (the role's default) or timer."""
    return host.ansible.get_variables().get("health_check_scheduler", "cron")


def scheduled_job(host):
    jobs = [line for line in host.check_output("crontab -l -u root").splitlines() if "steadyops_health.py" in line]
    assert len(jobs) == 1, jobs
    return jobs[0].split(None, 5)[5]  # what follows the five time fields


@pytest.fixture(scope="module", autouse=True)
def scheduler_at_start(host):
    """Stop both schedulers for the tests (they run the check themselves), then start them again.

    Returns whether the timer was running when the tests began.
    """
    timer_was_active = host.run("systemctl is-active --quiet steadyops-health.timer").rc == 0
    host.run("systemctl stop cron steadyops-health.timer")
    host.run("rm -rf /var/spool/smtp-sink/* /var/lib/steadyops/health/state.json /run/tms-backend-unhealthy")
    host.run("systemctl reset-failed tms-backend; systemctl restart tms-backend")
    settle(host)
    yield {"timer_was_active": timer_was_active}
    host.run("systemctl start cron")
    if scheduler(host) == "timer":
        host.run("systemctl start steadyops-health.timer")


def test_exactly_one_scheduler_runs_the_check(host, scheduler_at_start):
    # Prepare left each host the other scheduler; converge had to switch.
    crontab = host.run("crontab -l -u root").stdout
    timer_load_state = host.check_output("systemctl show -P LoadState steadyops-health.timer")
    if scheduler(host) == "cron":
        assert "*/5 * * * * /usr/bin/python3 /usr/local/lib/steadyops/steadyops_health.py" in crontab
        assert host.service("cron").is_enabled
        assert not host.file(TIMER_UNIT).exists
        assert timer_load_state == "not-found"
        assert not scheduler_at_start["timer_was_active"]
    else:
        assert "steadyops health check" not in crontab
        assert timer_load_state == "loaded"
        assert host.service("steadyops-health.timer").is_enabled
        assert scheduler_at_start["timer_was_active"]
        assert "OnUnitActiveSec=5min" in host.file(TIMER_UNIT).content_string


def test_healthy_stack_is_ok(host):
    result, status = check(host)
    assert result.rc == 0, result.stdout
    assert status["status"] == "OK"
    assert re.search(r"^\[HEALTH\] \S+ - OK: tms-backend.service is active$", result.stdout, re.M)
    assert status["services"]["tms-backend"]["http"]["status"] == 200
    assert subjects(host) == []


METRIC = re.compile(r"^(\w+)(?:\{(.*)\})? (\S+)$")


def scraped(host):
    """{(name, ((label, value), ...)): value} of node_exporter's /metrics, as Prometheus would scrape it."""
    probe = "import urllib.request as u; print(u.urlopen('http://127.0.0.1:9100/metrics', timeout=10).read().decode())"
    found = {}
    for line in host.check_output("python3 -c %s" % json.dumps(probe)).splitlines():
        match = METRIC.match(line)
        if match and not line.startswith("#"):
            labels = tuple(sorted(re.findall(r'(\w+)="((?:[^"\\]|\\.)*)"', match.group(2) or "")))
            found[(match.group(1), labels)] = float(match.group(3))
    return found


def test_the_runs_numbers_reach_node_exporter(host):
    result, status = check(host)
    metrics = scraped(host)
    # node_exporter's own verdict on the file: it read it without an error.
    assert metrics[("node_textfile_scrape_error", ())] == 0
    assert metrics[("steadyops_health_status", ())] == result.rc == 0
    service = (("service", "tms-backend"), ("unit", "tms-backend.service"))
    assert metrics[("steadyops_service_healthy", service)] == 1
    assert metrics[("steadyops_service_restarts", (("service", "tms-backend"),))] == 0
    assert metrics[("steadyops_health_findings", (("level", "CRITICAL"),))] == 0
    assert metrics[("steadyops_deploy_in_progress", ())] == 0
    assert metrics[("steadyops_health_findings", (("level", "OK"),))] == sum(
        1 for finding in status["findings"] if finding["level"] == "OK"
    )


def test_the_scheduled_run_checks_and_logs(host):
    # Run the check exactly as its scheduler would, not through PROGRAM.
    runs_before = json.loads(host.file(STATUS).content_string)["run"]
    log_lines = len(host.file(LOG).content_string.splitlines()) if host.file(LOG).exists else 0
    if scheduler(host) == "cron":
        host.run_test("sh -c %s", scheduled_job(host))
    else:
        host.run_test("systemctl start steadyops-health.service")
        assert host.check_output("systemctl show -P Result steadyops-health.service") == "success"
    status = json.loads(host.file(STATUS).content_string)
    assert status["run"] == runs_before + 1
    assert status["status"] == "OK"
    new_lines = host.file(LOG).content_string.splitlines()[log_lines:]
    assert any(re.match(r"^\[HEALTH\] \S+ - OK: tms-backend.service is active$", line) for line in new_lines), new_lines


def test_stopped_unit_is_restarted_alerted_once_and_recovers(host):
    host.run_test("systemctl stop tms-backend")
    result, status = check(host)
    assert result.rc == 2
    assert status["services"]["tms-backend"]["active"] == "inactive"
    assert {"service": "tms-backend", "action": "restart", "rc": 0, "output": ""} in status["actions"]
    # The run waited for the repair to serve: nothing to wait for afterwards.
    assert status["services"]["tms-backend"]["after_restart"]["healthy"] is True
    repaired = r"^\[HEALTH\] \S+ - WARNING: restarted tms-backend.service .*: serving again after"
    assert re.search(repaired, result.stdout, re.M)
    fetch = "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/')"
    assert host.run("python3 -c %s", fetch).rc == 0
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
    outcomes, logs = [], []
    for _run in range(4):
        result, status = check(host)
        outcomes.append((result.rc, [a["action"] for a in status["actions"] if a.get("service")]))
        logs.append(result.stdout)
        settle(host)
    assert all(rc == 2 for rc, _actions in outcomes)
    assert [actions.count("restart") for _rc, actions in outcomes] == [1, 1, 0, 0]
    assert "not restarting it again until it stays up" in result.stdout
    assert status["services"]["tms-backend"]["http"]["status"] == 500
    # A restart that did not bring the endpoint back is no repair.
    for restarts, log in ((1, logs[0]), (2, logs[1])):
        assert re.search(
            r"^\[HEALTH\] \S+ - CRITICAL: restarted tms-backend.service \(%d of 2 allowed in 10 runs\): "
            r"still failing after [\d.]+ s: http://127.0.0.1:8000/\S* answered 500" % restarts,
            log,
            re.M,
        ), log
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


# A state directory of its own on the lab host, so the scheduled check's state is untouched.
HOSTILE = "/var/lib/steadyops/health-hostile"


def test_hostile_mail_and_url_values_never_crash_a_run(host):
    # The role refuses these (preflight); the program must survive them anyway, because
    # a run that dies before it saves its state never alerts again.
    config = json.loads(host.file("/etc/steadyops/health.json").content_string)
    config.update(restart=False, free_port=False, state_dir=HOSTILE)
    config["status_file"] = HOSTILE + "/status.json"
    config["smtp"]["to"] = ["ops@example.com\nBcc: someone@elsewhere.example"]
    (backend,) = [s for s in config["services"] if s["name"] == "tms-backend"]
    backend["health"] = dict(backend.get("health") or {}, url="http://127.0.0.1:8000/\r\nX-Injected: 1")
    encoded = base64.b64encode(json.dumps(config).encode()).decode()
    host.run_test(f"mkdir -p {HOSTILE} && echo {encoded} | base64 -d > {HOSTILE}/config.json")
    before = len(mails(host))

    result = host.run(f"{PROGRAM} --config {HOSTILE}/config.json")
    assert "Traceback" not in result.stderr, result.stderr
    assert result.rc == 2, result.stdout
    status = json.loads(host.file(HOSTILE + "/status.json").content_string)
    assert status["services"]["tms-backend"]["http"]["error"], "the bad URL is a finding, not a crash"
    sent = [a["result"] for a in status["actions"] if a["action"] == "mail"]
    assert sent, "an incident opened"
    assert all(r.startswith("failed:") for r in sent), sent
    assert host.file(HOSTILE + "/state.json").exists, "the state was saved"
    assert len(mails(host)) == before, "no mail with an injected header went out"


def test_a_deploy_in_progress_is_left_alone_then_repaired_after_it(host):
    # The deploy role's lock, as a deploy that is switching tms-backend holds it.
    app_root = json.loads(host.file("/etc/steadyops/health.json").content_string)["app_root"]
    lock = app_root + "/deploy.lock"
    # A fresh restart budget and no open incident: the tests before spent the budget on purpose.
    host.run_test("rm -f /var/lib/steadyops/health/state.json")
    host.run_test("mkdir %s && systemctl stop tms-backend" % lock)
    before = len(mails(host))
    try:
        result, status = check(host)
        assert result.rc == 1, result.stdout  # WARNING: what a deploy switches is not an incident
        assert [a for a in status["actions"] if a.get("service")] == [], "nothing repaired"
        assert host.run("systemctl is-active tms-backend").stdout.strip() == "inactive"
        assert "a deploy is in progress (%s): nothing repaired, nothing alerted" % lock in result.stdout
        assert "tms-backend.service is inactive (a deploy is in progress: not repaired)" in result.stdout
        assert len(mails(host)) == before, "nobody is paged for a deploy"
    finally:
        host.run("rmdir %s" % lock)
    result, status = check(host)
    assert result.rc == 2
    assert {"service": "tms-backend", "action": "restart", "rc": 0, "output": ""} in status["actions"]
    settle(host)
    result, status = check(host)
    # Serving again; the zombie the zombie test left may still WARN, nothing is CRITICAL.
    assert status["services"]["tms-backend"]["healthy"] is True, result.stdout
    assert result.rc < 2, result.stdout
