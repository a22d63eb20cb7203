"""drift.yml as users run it, on the two hosts converge just deployed, in file order.

Six drifts injected on the first host (an
edited unit, the env file at 0644, a stopped service, a stray on a service
port, a zombie, the health check's schedule removed) are each reported by a
check run that changes nothing; one run corrects them; the next finds nothing.
The second host, deployed and untouched, reports no drift throughout: in
check mode too, which is how a check run on a deployed host is shown honest.
"""

import json
import os
import re
import time
from pathlib import Path

import testinfra
from helpers import playbook, recap_changed, write_file

INVENTORY = os.environ["MOLECULE_INVENTORY_FILE"]
PREFIX = os.environ.get("STEADYOPS_LAB_PREFIX", "")
DRIFTED, CLEAN = PREFIX + "staging-1", PREFIX + "staging-2"
REPORTS = Path(os.environ["STEADYOPS_REPORT_DIR"]) / "drift"
testinfra_hosts = ["ansible://" + DRIFTED]

WORKER_UNIT = "/etc/systemd/system/tms-worker.service"
API_ENV = "/opt/tms/shared/tms-api.env"
STRAY = """import socket, sys, time
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", int(sys.argv[1])))
s.listen()
time.sleep(3600)
"""
# A parent that missed its child's SIGCHLD: the zombie stays until another SIGCHLD arrives.
ZOMBIE_PARENT = """import os, signal, time
if os.fork() == 0:
    os._exit(0)
time.sleep(1)
signal.signal(signal.SIGCHLD, lambda *_: os.waitpid(-1, os.WNOHANG))
while True:
    signal.pause()
"""
# Which report items each drift explains: (role, task, item) patterns.
EXPLAINED_BY = {
    "edited unit": [
        ("systemd_hardening", r"^Write each service's unit$", r"^tms-worker\b"),
        ("systemd_hardening", r"^Start or restart each service$", r"^tms-worker\.service$"),
    ],
    "env file mode": [("env_file", r"^Keep each existing env file private$", r"^tms-api$")],
    "stopped service": [("systemd_hardening", r"^Start or restart each service$", r"^tms-api@\d+\.service$")],
    "stray": [(None, r"^Stop the services' strays$", None)],
    "zombie": [(None, r"^Reap old zombies$", None)],
    "schedule": [("health_check", r"^Run the health check from cron$", None)],
}
STATE = {}


def drift(*flags):
    """ansible-playbook drift.yml on both hosts: (exit status, output, run directory)."""
    # Zombies made a moment ago count (the default leaves those under a minute to their parents).
    status, output = playbook("drift", "%s,%s" % (DRIFTED, CLEAN), "-e", "drift_zombie_min_age=1", *flags)
    return status, output, (REPORTS / "latest").resolve()


def report(run_dir, host):
    return json.loads((run_dir / ("%s.json" % host)).read_text())


def explain(items):
    """{drift: [items]} and the items no drift explains."""
    found, unexplained = {name: [] for name in EXPLAINED_BY}, []
    for item in items:
        for name, patterns in EXPLAINED_BY.items():
            if any(matches(item, pattern) for pattern in patterns):
                found[name].append(item)
                break
        else:
            unexplained.append(item)
    return found, unexplained


def matches(item, pattern):
    role, task, label = pattern
    role_ok = (item["role"] or "").endswith(role) if role else item["role"] is None
    label_ok = re.search(label, item["item"] or "") if label else True
    return role_ok and re.search(task, item["task"]) and label_ok


def host_state(host):
    """What each drift touches, as the host shows it."""
    return {
        "unit": host.file(WORKER_UNIT).sha256sum,
        "env mode": host.file(API_ENV).mode,
        "api": host.run("systemctl is-active %s" % STATE["api"]).stdout.strip(),
        "stray": host.run("pgrep -f '^next-server '").stdout.split(),
        "zombies": host.run("ps -eo stat= | grep -c '^Z'").stdout.strip(),
        "crontab": host.run("crontab -l").stdout,
    }


def test_six_drifts_are_each_reported_and_the_check_changes_nothing(host):
    serving = [port for port in (8000, 8001) if host.service("tms-api@%d" % port).is_running]
    frontend_idle = next(port for port in (3000, 3001) if not host.service("tms-frontend@%d" % port).is_running)
    STATE["api"] = "tms-api@%d.service" % serving[0]
    host.check_output("crontab -r")
    host.check_output("sed -i 's/^KillMode=mixed$/KillMode=process/' %s && systemctl daemon-reload" % WORKER_UNIT)
    host.check_output("chmod 0644 %s" % API_ENV)
    host.check_output("systemctl stop %s" % STATE["api"])
    write_file(host, "/usr/local/lib/drift-stray.py", STRAY)
    write_file(host, "/usr/local/lib/drift-zombie.py", ZOMBIE_PARENT)
    # Outside every unit, as a hand-run `npm start` leaves them; named as the real ones are.
    as_app = "runuser -u tmsapp -- setsid -f bash -c 'exec -a %s python3 /usr/local/lib/%s'"
    host.check_output(as_app % ('"next-server (v14.2.3)"', "drift-stray.py %d" % frontend_idle))
    host.check_output(as_app % ("report-exporter", "drift-zombie.py"))
    time.sleep(3)
    before = host_state(host)
    assert before["stray"], "the stray did not start"
    assert before["zombies"] != "0", "no zombie was made"

    status, output, run_dir = drift("--check")
    assert status == 2, output
    assert "%s had drifted" % DRIFTED in output
    found, unexplained = explain(report(run_dir, DRIFTED)["drifted"])
    assert unexplained == [], output
    assert [name for name, items in found.items() if not items] == [], output
    assert report(run_dir, CLEAN)["drifted"] == []
    assert "%s: no drift" % CLEAN in output
    assert json.loads((run_dir / "summary.json").read_text())["drifted_hosts"] == [DRIFTED]
    assert host_state(host) == before


def test_one_run_corrects_every_drift(host):
    status, output, run_dir = drift()
    assert status == 2, output  # it had drifted: the exit status says so, corrected or not
    corrected, unexplained = explain(report(run_dir, DRIFTED)["corrected"])
    assert unexplained == [], output
    assert [name for name, items in corrected.items() if not items] == [], output

    after = host_state(host)
    assert "KillMode=mixed" in host.file(WORKER_UNIT).content_string
    assert host.run("systemctl show -p KillMode --value tms-worker").stdout.strip() == "mixed"
    assert after["env mode"] == 0o600
    assert after["api"] == "active"
    assert after["stray"] == []
    assert after["zombies"] == "0"
    assert "steadyops health check" in after["crontab"]


def test_the_next_run_finds_nothing():
    status, output, run_dir = drift()
    assert status == 0, output
    for name in (DRIFTED, CLEAN):
        assert report(run_dir, name)["drifted"] == []
        assert report(run_dir, name)["corrected"] == []
        assert recap_changed(output, name) == 0, output


def test_the_clean_host_was_never_touched():
    clean = testinfra.get_host("ansible://%s?ansible_inventory=%s" % (CLEAN, INVENTORY))
    assert clean.file(API_ENV).mode == 0o600
    assert "steadyops health check" in clean.run("crontab -l").stdout
