"""The outages this collection exists for, replayed end to end on the deployed demo stack.

1. An orphaned `next-server` outside its unit keeps the frontend's port, and
   the unit has failed twelve times with EADDRINUSE: the site answers 502.
   One run of the health check (as its cron job runs it) heals it and sends
   one alert; deploy.yml heals the same outage too (that deploy also carries
   3's staging case).
2. An env file full of `<CHANGE_ME>`: refused before any service is touched.
3. `test@gmail.test`: refused under the production policy, with the reason;
   accepted under staging's, and named as one production would refuse.
(4. Stuck and old queue rows: test_maintenance.py.)
"""

import json
import re
import time
from pathlib import Path

import pytest
from helpers import FIRST, ROOT, UNITS, deploy, get, main_pids, shell_quote, stop_health_checks, write_file

testinfra_hosts = ["ansible://" + FIRST]
HELPERS = "/usr/local/lib/steadyops"
CONFIG = "/run/incident/health.json"
SPOOL = "/run/incident/mail"
SINK_PORT = 2525
# A stale server that takes connections and drops them: nginx answers 502.
ORPHAN = """import socket, sys
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("0.0.0.0", int(sys.argv[1])))
s.listen()
while True:
    s.accept()[0].close()
"""
# The unit as it was before this collection: no pre-start that frees its port,
# so every start dies with EADDRINUSE, and restarts come until the twelfth
# failure (fast, so the replay takes seconds, not the outage's minutes).
UNPROTECTED = """[Unit]
StartLimitIntervalSec=600
StartLimitBurst=12
[Service]
ExecStartPre=
RestartSec=100ms
"""
SINK = (Path(__file__).resolve().parents[2] / "shared/files/smtp_sink.py").read_text()


def serving_frontend(host):
    upstream = host.file("/etc/nginx/steadyops-upstreams/tms-frontend.conf").content_string
    return int(re.search(r":(\d+);", upstream).group(1))


def orphan_pids(host):
    return host.run("pgrep -f '^next-server '").stdout.split()


def unit_state(host, unit):
    shown = host.check_output("systemctl show -p ActiveState -p Result -p NRestarts %s" % unit)
    return dict(line.split("=", 1) for line in shown.splitlines())


def outage(host):
    """The four-day outage's state: an orphan of the frontend on its port, the unit failed twelve times, 502."""
    port = serving_frontend(host)
    unit = "tms-frontend@%d.service" % port
    host.check_output("systemctl stop %s" % unit)
    write_file(host, "/usr/local/lib/incident-orphan.py", ORPHAN)
    host.check_output(
        'runuser -u tmsapp -- setsid -f bash -c \'exec -a "next-server (v14.2.3)" python3 '
        "/usr/local/lib/incident-orphan.py %d'" % port
    )
    for _attempt in range(50):
        if host.socket("tcp://0.0.0.0:%d" % port).is_listening:
            break
        time.sleep(0.1)
    assert orphan_pids(host), "the orphan did not start"

    dropin = "/run/systemd/system/%s.d/incident.conf" % unit
    write_file(host, dropin, UNPROTECTED)
    cursor = host.check_output("journalctl -u %s -n 0 --show-cursor --no-pager" % unit).split("cursor: ")[-1]
    host.check_output("systemctl daemon-reload && systemctl reset-failed %s; systemctl start %s" % (unit, unit))
    # Between attempts the unit is "activating" (auto-restart); after the last one, failed.
    for _attempt in range(150):
        if unit_state(host, unit)["ActiveState"] == "failed":
            break
        time.sleep(0.2)
    # Back to the unit the collection wrote, left failed as the outage left it.
    host.check_output("rm -r %s && systemctl daemon-reload" % dropin.rsplit("/", 1)[0])
    state = unit_state(host, unit)
    assert state["ActiveState"] == "failed", state
    journal = host.check_output("journalctl -u %s --after-cursor %s --no-pager" % (unit, shell_quote(cursor)))
    failures = journal.count("Error: listen EADDRINUSE")
    assert failures == 12, "the unit did not fail twelve times with EADDRINUSE:\n%s" % journal[-3000:]
    assert get(host, "/")[0] == 502, "the outage was not reproduced"
    return port


def end_outage(host):
    """Whatever a failed test left of the outage: the orphan and the replay's drop-in."""
    host.run("pkill -f '^next-server '; rm -rf /run/systemd/system/tms-frontend@*.service.d && systemctl daemon-reload")


def healed(host, port):
    assert orphan_pids(host) == []
    assert host.service("tms-frontend@%d" % port).is_running
    assert get(host, "/")[0] == 200


def mails(host):
    """The subjects the sink received, oldest first, without the host's name."""
    found = host.run("ls %s" % SPOOL).stdout.split()
    subjects = [host.check_output("grep -h '^Subject:' %s/%s" % (SPOOL, name)) for name in sorted(found)]
    return [subject.split(" on ")[0] for subject in subjects]


@pytest.fixture
def health_with_mail(host):
    """The host's own health check config, mailing a local sink and keeping its state apart; cron stopped."""
    stop_health_checks(host)
    config = json.loads(host.file("/etc/steadyops/health.json").content_string)
    config.update(state_dir="/run/incident/state", status_file="/run/incident/state/status.json")
    config["smtp"].update(host="127.0.0.1", port=SINK_PORT, to=["oncall@tms.test"], starttls=False, user="")
    write_file(host, CONFIG, json.dumps(config) + "\n")
    write_file(host, "/run/incident/smtp_sink.py", SINK)
    host.check_output("systemd-run --unit incident-smtp --collect python3 /run/incident/smtp_sink.py %d %s"
                      % (SINK_PORT, SPOOL))  # fmt: skip
    yield "/usr/bin/python3 %s/steadyops_health.py --config %s" % (HELPERS, CONFIG)
    host.run("systemctl stop incident-smtp.service; rm -rf /run/incident")
    end_outage(host)
    host.check_output("systemctl start cron.service")


def test_the_orphan_outage_is_healed_by_one_health_check_run_with_one_alert(host, health_with_mail):
    port = outage(host)
    host.run(health_with_mail)  # exits non-zero when it found something: it did
    healed(host, port)
    assert mails(host) == ["Subject: [steadyops] CRITICAL tms-frontend"]

    host.run(health_with_mail)  # the next period: healthy, so the incident closes
    assert mails(host) == ["Subject: [steadyops] CRITICAL tms-frontend", "Subject: [steadyops] RECOVERED tms-frontend"]


def test_the_orphan_outage_is_healed_by_a_deploy_under_staging_with_a_test_address(host):
    stop_health_checks(host)  # the health check must not heal it first
    try:
        port = outage(host)
        code, output = deploy(FIRST, "-e", json.dumps({"stack_email_addresses": ["test@gmail.test"]}))
        assert code == 0, output[-3000:]
        healed(host, port)
        # Staging's policy accepts the address, and the run says production would not.
        flat = re.sub(r"\s+", " ", output)
        assert (
            "Accepted under staging, refused under another policy: test@gmail.test (would fail in production)" in flat
        )
    finally:
        end_outage(host)
        host.check_output("systemctl start cron.service")


def test_an_env_file_with_placeholders_is_refused_before_any_service_is_touched(host):
    env_file = host.file("%s/shared/tms-api.env" % ROOT).sha256sum
    pids = main_pids(host, UNITS)
    placeholder = json.dumps({"env_file_secrets": {"DATABASE_URL": "<CHANGE_ME>"}})
    code, output = deploy(FIRST, "-e", placeholder)
    assert code != 0
    assert "tms-api: key(s) DATABASE_URL still hold a placeholder value" in re.sub(r"\s+", " ", output), output
    assert "Take the deploy lock" not in output
    assert "<CHANGE_ME>" not in output
    assert main_pids(host, UNITS) == pids
    assert host.file("%s/shared/tms-api.env" % ROOT).sha256sum == env_file


def test_a_test_address_is_refused_under_production_with_the_reason(host):
    pids = main_pids(host, UNITS)
    address = json.dumps({"stack_email_addresses": ["test@gmail.test"]})
    code, output = deploy(FIRST, "-e", address, "-e", "stack_email_policy=production")
    flat = re.sub(r"\s+", " ", output)
    assert code != 0
    assert "test@gmail.test" in flat
    assert "special" in flat.lower(), output[-3000:]  # the reason: .test is a special-use name
    assert "Take the deploy lock" not in output
    assert main_pids(host, UNITS) == pids
