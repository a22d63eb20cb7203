"""The outage in its most common form: a leftover in a stopped unit's cgroup, and stops that hang.

Units written by hand with KillMode=process (an `npm start` style shell that
starts next-server and waits) lose next-server when they stop: it stays in
system.slice/<unit>.service holding the port, and the next start loops on
EADDRINUSE. Every process here is one the test started, on a port of its own.
"""

import json
import time

import pytest
from lab import port_owner_pids, run_module_on, wait_for_listener

SERVER = "/opt/tms/bin/next-server /opt/tms/server.py"
# A server that ignores SIGTERM, as a stuck Node.js process does.
STUBBORN = (
    "/opt/tms/bin/next-server -c 'import runpy, signal, sys; signal.signal(signal.SIGTERM, signal.SIG_IGN); "
    'sys.argv = ["server.py", "%d"]; runpy.run_path("/opt/tms/server.py")\''
)


@pytest.fixture
def unit_file(host):
    """Writes a unit file as a user would (packaged or by hand); removes it and its processes afterwards."""
    written = []

    def write(name, port, service):
        host.run_test(f"cat > /etc/systemd/system/{name}.service <<'EOF'\n[Service]\n{service}\nEOF")
        host.run_test("systemctl daemon-reload")
        written.append((name, port))
        return f"{name}.service"

    yield write
    for name, port in written:
        host.run(f"systemctl stop {name}; systemctl reset-failed {name}")
        # Only what this test started: the listener on its own port.
        host.run(f"pkill -KILL -f '^/opt/tms/bin/next-server .*{port}'")
        host.run(f"rm -f /etc/systemd/system/{name}.service")
    host.run("systemctl daemon-reload")


def npm_start_style(port, extra=""):
    return f"ExecStart=/bin/bash -c '{SERVER} {port} & wait -n'\nKillMode=process\n{extra}"


def leave_behind(host, unit, port):
    """Start the unit, stop it, and return the pid it left holding the port in its cgroup."""
    host.run_test(f"systemctl start {unit}")
    wait_for_listener(host, port)
    (pid,) = port_owner_pids(host, port)
    host.run_test(f"systemctl stop {unit}")
    assert host.run(f"systemctl is-active {unit}").stdout.strip() in ("inactive", "failed")
    assert port_owner_pids(host, port) == [pid], "KillMode=process left next-server holding the port"
    assert f"/system.slice/{unit}" in host.file(f"/proc/{pid}/cgroup").content_string
    return pid


def test_a_leftover_in_a_stopped_units_cgroup_is_a_stray_and_freed(host, unit_file):
    unit = unit_file("leftover-a", 3051, npm_start_style(3051))
    pid = leave_behind(host, unit, 3051)

    strays = {"zombies": False, "grace": 2, "strays": [{"unit": unit, "patterns": ["(^|/)next-server .*3051$"]}]}
    rc, listed = run_module_on(host, "steadyops.stack.kill_zombies", strays, check=True)
    assert (rc, listed["changed"]) == (0, True), listed.get("msg")
    assert [(s["pid"], s["expected_unit"]) for s in listed["strays"]] == [(pid, unit)]
    assert "leftover in the control group of %s" % unit in listed["strays"][0]["owner"]

    args = {"port": 3051, "owner_unit": unit, "allow_cmdline": ["(^|/)next-server "], "grace": 2}
    rc, check = run_module_on(host, "steadyops.stack.port_free", args, check=True)
    assert (rc, check["changed"], check["kept"]) == (0, True, []), check.get("msg")
    assert check["actions"] == [f"signal pid {pid} (/opt/tms/bin/next-server /opt/tms/server.py 3051): SIGTERM, "
                                "SIGKILL after 2.0s"]  # fmt: skip
    assert port_owner_pids(host, 3051) == [pid], "check mode signals nothing"

    rc, apply = run_module_on(host, "steadyops.stack.port_free", args)
    assert (rc, apply["changed"]) == (0, True), apply.get("msg")
    assert [s["pid"] for s in apply["signalled"]] == [pid]
    assert port_owner_pids(host, 3051) == []

    rc, again = run_module_on(host, "steadyops.stack.port_free", args)
    assert (rc, again["changed"]) == (0, False), again.get("msg")


def test_naming_the_stopped_unit_in_allow_units_frees_its_leftover(host, unit_file):
    unit = unit_file("leftover-b", 3052, npm_start_style(3052))
    pid = leave_behind(host, unit, 3052)
    rc, result = run_module_on(host, "steadyops.stack.port_free", {"port": 3052, "allow_units": [unit], "grace": 2})
    assert (rc, result["changed"]) == (0, True), result.get("msg")
    assert [s["pid"] for s in result["signalled"]] == [pid], "stopping an inactive unit does nothing: it is signalled"
    assert result["stopped_units"] == []
    assert port_owner_pids(host, 3052) == []


def test_a_unit_crash_looping_on_its_leftover_gets_its_port_back(host, unit_file):
    # No start limit: the unit loops for as long as the leftover holds the port (the outage's twelve failures).
    unit = unit_file(
        "leftover-c", 3053, npm_start_style(3053, "Restart=always\nRestartSec=1\n[Unit]\nStartLimitIntervalSec=0")
    )
    pid = leave_behind(host, unit, 3053)
    host.run_test(f"systemctl start {unit}")
    # The outage: systemd ignores the leftover, the new next-server gets EADDRINUSE, the unit loops.
    time.sleep(2.5)
    assert port_owner_pids(host, 3053) == [pid]
    assert "Address already in use" in host.run(f"journalctl -u {unit} --no-pager").stdout

    args = {"port": 3053, "owner_unit": unit, "allow_cmdline": ["(^|/)next-server "], "grace": 2}
    rc, result = run_module_on(host, "steadyops.stack.port_free", args)
    assert (rc, result["changed"]) == (0, True), "the leftover is never kept as the unit's own: %s" % result
    assert [s["pid"] for s in result["signalled"]] == [pid]

    deadline = time.time() + 20
    while time.time() < deadline:
        owners = port_owner_pids(host, 3053)
        if owners and owners != [pid] and host.run(f"systemctl is-active {unit}").stdout.strip() == "active":
            break
        time.sleep(0.5)
    (owner,) = port_owner_pids(host, 3053)
    assert owner != pid
    assert f"/system.slice/{unit}" in host.file(f"/proc/{owner}/cgroup").content_string
    rc, again = run_module_on(host, "steadyops.stack.port_free", args)
    assert (rc, again["changed"], [k["pid"] for k in again["kept"]]) == (0, False, [owner])


def stubborn_unit(unit_file, name, port):
    return unit_file(name, port, f"ExecStart={STUBBORN % port}\nTimeoutStopSec=infinity")


def test_stopping_a_unit_that_ignores_sigterm_is_bounded_by_grace_and_timeout(host, unit_file):
    unit = stubborn_unit(unit_file, "stubborn-a", 3054)
    host.run_test(f"systemctl start {unit}")
    wait_for_listener(host, 3054)
    args = {"port": 3054, "allow_units": [unit], "grace": 1, "timeout": 5}
    rc, result = run_module_on(host, "steadyops.stack.port_free", args)
    assert (rc, result["changed"]) == (0, True), result.get("msg")
    assert result["stopped_units"] == [unit]
    assert any(step.startswith("systemctl kill --signal=SIGKILL " + unit) for step in result["stop_steps"])
    # TimeoutStopSec=infinity would have blocked a plain `systemctl stop` for ever.
    assert result["elapsed"] < args["timeout"] + result["settle"] + 2, json.dumps(result)
    assert port_owner_pids(host, 3054) == []


def test_a_stop_that_cannot_finish_fails_at_timeout_naming_the_unit_and_its_state(host, unit_file):
    unit = stubborn_unit(unit_file, "stubborn-b", 3055)
    host.run_test(f"systemctl start {unit}")
    wait_for_listener(host, 3055)
    (pid,) = port_owner_pids(host, 3055)
    args = {"port": 3055, "allow_units": [unit], "grace": 1, "timeout": 3, "final_signal": "none"}
    started = time.time()
    rc, result = run_module_on(host, "steadyops.stack.port_free", args)
    assert rc != 0
    assert f"Could not stop {unit} within timeout 3s: {unit} is deactivating (stop-sigterm)" in result["msg"]
    assert "final_signal is none, so no SIGKILL was sent" in result["msg"]
    assert time.time() - started < 30, "bounded by the caller's timeout, not the unit's infinity"
    assert port_owner_pids(host, 3055) == [pid]
    host.run(f"systemctl kill --signal=SIGKILL {unit}")
