"""port_free and kill_zombies on a real systemd host that runs more than the stack.

Services that restart, delegated subtrees, socket activation, strays, zombies
of a service's process, and patterns that would match everything. Every
process here is one the test started, on a port or with a marker of its own.
"""

import time

import pytest
from lab import port_owner_pids, run_module_on, wait_for_listener

SERVER = "/opt/tms/bin/next-server /opt/tms/server.py"


@pytest.fixture
def units(host):
    """Transient units a test starts; stopped afterwards whatever happened."""
    started = []
    yield started.append
    for unit in started:
        host.run(f"systemctl stop {unit}; systemctl reset-failed {unit}")


def cgroup_of(host, pid):
    return host.file(f"/proc/{pid}/cgroup").content_string


def test_signalling_a_service_process_by_pid_does_not_free_its_port(host, units):
    # The control: what port_free used to do, and why it must not.
    host.run_test(f"systemd-run --unit restarts-anyway -p Restart=always -p RestartSec=1 {SERVER} 3004")
    units("restarts-anyway.service")
    wait_for_listener(host, 3004)
    (first,) = port_owner_pids(host, 3004)
    host.run_test(f"kill {first}")
    time.sleep(2.5)
    again = port_owner_pids(host, 3004)
    assert again, "systemd restarted it on the same port"
    assert again != [first]


def test_a_service_holder_is_refused_then_stopped_as_a_unit(host, units):
    host.run_test(f"systemd-run --unit other-svc -p Restart=always -p RestartSec=1 {SERVER} 3002")
    units("other-svc.service")
    wait_for_listener(host, 3002)
    (holder,) = port_owner_pids(host, 3002)

    rc, result = run_module_on(host, "steadyops.stack.port_free", {"port": 3002, "allow_cmdline": ["next-server"]})
    assert rc != 0
    assert "systemd would start it again, so it is never signalled by pid" in result["msg"]
    assert "allow_units: ['other-svc.service']" in result["msg"]
    time.sleep(1.5)
    assert port_owner_pids(host, 3002) == [holder], "a refused holder is never signalled"

    args = {"port": 3002, "allow_cmdline": ["next-server"], "allow_units": ["other-svc"]}
    rc, check = run_module_on(host, "steadyops.stack.port_free", args, check=True)
    assert rc == 0
    assert check["changed"] is True
    assert check["actions"] == ["stop unit(s) other-svc.service (hold tcp/0.0.0.0:3002)"]
    assert port_owner_pids(host, 3002) == [holder]

    rc, result = run_module_on(host, "steadyops.stack.port_free", args)
    assert rc == 0, result.get("msg")
    assert result["changed"] is True
    assert result["stopped_units"] == ["other-svc.service"]
    assert result["signalled"] == []
    assert result["settle"] >= 2.0, "longer than the unit's RestartSec=1"
    time.sleep(2)
    assert port_owner_pids(host, 3002) == []

    rc, again = run_module_on(host, "steadyops.stack.port_free", args)
    assert (rc, again["changed"]) == (0, False)


def test_a_same_named_cgroup_under_another_service_is_not_the_owner(host, units):
    host.run_test(
        "systemd-run --unit engine -p Delegate=yes /usr/local/bin/delegating-engine tms-frontend.service 3003"
    )
    units("engine.service")
    wait_for_listener(host, 3003)
    (holder,) = port_owner_pids(host, 3003)
    assert "/engine.service/tms-frontend.service" in cgroup_of(host, holder)

    args = {"port": 3003, "owner_unit": "tms-frontend", "allow_cmdline": ["next-server"]}
    rc, result = run_module_on(host, "steadyops.stack.port_free", args)
    assert rc != 0
    assert result["kept"] == [], "the real tms-frontend.service does not hold 3003"
    assert "the delegated subtree tms-frontend.service of service engine.service" in result["msg"]
    assert "allow_units: ['engine.service']" in result["msg"]
    assert port_owner_pids(host, 3003) == [holder]


def test_socket_activation_is_owned_by_its_socket_and_stopped_only_when_allowed(host, units):
    host.run_test(f"systemd-run --unit sockact --socket-property=ListenStream=3012 {SERVER} 3012")
    units("sockact.socket")
    units("sockact.service")
    wait_for_listener(host, 3012)
    assert port_owner_pids(host, 3012) == [1]

    rc, refused = run_module_on(host, "steadyops.stack.port_free", {"port": 3012, "allow_cmdline": ["next-server"]})
    assert rc != 0
    assert "socket unit sockact.socket, which starts sockact.service on demand" in refused["msg"]
    assert "allow_units: ['sockact.socket']" in refused["msg"]
    assert refused["actions"] == []

    for owner in ("sockact.socket", "sockact"):
        rc, kept = run_module_on(
            host, "steadyops.stack.port_free", {"port": 3012, "owner_unit": owner, "allow_users": ["x"]}
        )
        assert (rc, kept["changed"]) == (0, False), kept.get("msg")
        assert [k["pid"] for k in kept["kept"]] == [1]

    rc, stopped = run_module_on(host, "steadyops.stack.port_free", {"port": 3012, "allow_units": ["sockact.socket"]})
    assert rc == 0, stopped.get("msg")
    assert stopped["stopped_units"] == ["sockact.socket", "sockact.service"]
    assert port_owner_pids(host, 3012) == []
    assert host.run("systemctl is-active sockact.socket").stdout.strip() != "active"


def test_strays_check_apply_reapply_leave_the_unit_and_bystanders_alone(host):
    host.run_test(f"setsid -f {SERVER} 3021")
    host.run_test("ln -sf /usr/bin/python3 /usr/local/bin/uvicorn-stand-in")
    host.run_test("setsid -f /usr/local/bin/uvicorn-stand-in /opt/tms/server.py 3022")
    wait_for_listener(host, 3021)
    wait_for_listener(host, 3022)
    (stray,) = port_owner_pids(host, 3021)
    (bystander,) = port_owner_pids(host, 3022)
    (in_unit,) = port_owner_pids(host, 3000)
    # Broad on purpose: it also matches tms-frontend's own next-server, which must stay.
    args = {"zombies": False, "grace": 2, "strays": [{"unit": "tms-frontend", "patterns": ["(^|/)next-server "]}]}
    try:
        rc, check = run_module_on(host, "steadyops.stack.kill_zombies", args, check=True)
        assert (rc, check["changed"]) == (0, True), check.get("msg")
        assert [s["pid"] for s in check["strays"]] == [stray]
        assert port_owner_pids(host, 3021) == [stray]

        rc, apply = run_module_on(host, "steadyops.stack.kill_zombies", args)
        assert (rc, apply["changed"]) == (0, True), apply.get("msg")
        assert apply["strays"][0]["outcome"] == "exited"
        assert port_owner_pids(host, 3021) == []
        assert port_owner_pids(host, 3022) == [bystander]
        assert port_owner_pids(host, 3000) == [in_unit]

        rc, again = run_module_on(host, "steadyops.stack.kill_zombies", args)
        assert (rc, again["changed"], again["strays"]) == (0, False, [])
    finally:
        host.run(f"kill {stray} {bystander}")


def test_pid_1_is_never_a_stray(host):
    args = {"zombies": False, "strays": [{"unit": "x", "patterns": ["^/lib/systemd/systemd$", "^/sbin/init"]}]}
    rc, result = run_module_on(host, "steadyops.stack.kill_zombies", args)
    assert (rc, result["changed"], result["strays"]) == (0, False, [])
    assert "PID 1" in {s["pid"]: s["reason"] for s in result["left_alone"]}[1]


def process_count(host):
    return int(host.check_output("ls -d /proc/[0-9]* | wc -l"))


@pytest.mark.parametrize("pattern", [".*", "", "."])
def test_patterns_that_match_everything_are_refused(host, pattern):
    before = process_count(host)
    args = {"zombies": False, "strays": [{"unit": "tms-frontend", "patterns": [pattern]}]}
    rc, result = run_module_on(host, "steadyops.stack.kill_zombies", args)
    assert rc != 0
    assert "matches every process" in result["msg"]
    assert process_count(host) >= before - 2  # nothing was terminated (allowing for our own short-lived helpers)


def test_more_strays_than_the_limit_signals_none(host):
    for port in (3031, 3032, 3033):
        host.run_test(f"setsid -f {SERVER} {port}")
        wait_for_listener(host, port)
    pids = [port_owner_pids(host, port)[0] for port in (3031, 3032, 3033)]
    args = {
        "zombies": False,
        "max_strays": 2,
        "strays": [{"unit": "tms-frontend", "patterns": [r"server\.py 303[123]$"]}],
    }
    try:
        rc, result = run_module_on(host, "steadyops.stack.kill_zombies", args)
        assert rc != 0
        assert "3 processes matched" in result["msg"]
        assert "max_strays=2" in result["msg"]
        assert [port_owner_pids(host, port) for port in (3031, 3032, 3033)] == [[p] for p in pids]
    finally:
        host.run("kill %s" % " ".join(map(str, pids)))


def test_a_service_whose_process_never_reaps_is_restarted_only_when_allowed(host, units):
    host.run_test("systemd-run --unit legacy-super /usr/bin/python3 /opt/tms/non_reaping_parent.py never-reap")
    units("legacy-super.service")
    parent = int(host.check_output("systemctl show -p MainPID --value legacy-super"))
    time.sleep(1)
    zombie = int(host.check_output(f"cat /proc/{parent}/task/{parent}/children").split()[0])
    args = {"min_age": 0, "reap_wait": 1, "reap_parents": ["non_reaping_parent"]}

    rc, refused = run_module_on(host, "steadyops.stack.kill_zombies", args)
    assert rc == 0, refused.get("msg")
    (entry,) = [z for z in refused["zombies"] if z["pid"] == zombie]
    assert "restart_units: ['legacy-super.service'] would restart it" in entry["outcome"]
    assert host.run(f"test -d /proc/{parent}").rc == 0, "never terminated by pid"
    assert host.run(f"test -d /proc/{zombie}").rc == 0

    rc, restarted = run_module_on(host, "steadyops.stack.kill_zombies", dict(args, restart_units=["legacy-super"]))
    assert rc == 0, restarted.get("msg")
    assert restarted["restarted_units"][0]["unit"] == "legacy-super.service"
    assert restarted["restarted_units"][0]["ok"] is True
    assert host.run(f"test -d /proc/{zombie}").rc != 0, "the zombie went with its old parent"


def test_a_user_unit_named_like_the_owner_is_not_the_owner(host):
    uid = host.check_output("id -u tmsapp")
    host.run_test(f"systemctl start user-runtime-dir@{uid}.service user@{uid}.service")
    run_as_tmsapp = f"runuser -u tmsapp -- env XDG_RUNTIME_DIR=/run/user/{uid} systemd-run --user"
    host.run_test(f"{run_as_tmsapp} --unit tms-frontend {SERVER} 3005")
    try:
        wait_for_listener(host, 3005)
        (holder,) = port_owner_pids(host, 3005)
        assert f"/user@{uid}.service/app.slice/tms-frontend.service" in cgroup_of(host, holder)

        args = {"port": 3005, "owner_unit": "tms-frontend", "allow_cmdline": ["next-server"]}
        rc, result = run_module_on(host, "steadyops.stack.port_free", args)
        assert rc != 0
        assert result["kept"] == [], "the system's tms-frontend.service does not hold 3005"
        assert f"user unit tms-frontend.service of user@{uid}.service" in result["msg"]
        assert f"allow_units: ['user@{uid}.service']" in result["msg"]
        assert port_owner_pids(host, 3005) == [holder]
    finally:
        host.run(f"systemctl stop user@{uid}.service user-runtime-dir@{uid}.service")


def test_a_process_in_another_pid_namespace_is_never_a_stray_nor_signalled(host):
    # What a container on the same host looks like from the host: a next-server in its own PID namespace.
    host.run_test(f"setsid -f unshare --pid --fork --mount-proc {SERVER} 3041")
    wait_for_listener(host, 3041)
    (holder,) = port_owner_pids(host, 3041)
    assert len(host.file(f"/proc/{holder}/status").content_string.split("NSpid:")[1].splitlines()[0].split()) == 2
    try:
        pattern = "^/opt/tms/bin/next-server /opt/tms/server.py 3041$"
        args = {"zombies": False, "strays": [{"unit": "tms-frontend", "patterns": [pattern]}]}
        rc, result = run_module_on(host, "steadyops.stack.kill_zombies", args)
        assert (rc, result["changed"], result["strays"]) == (0, False, [])
        reasons = {s["pid"]: s["reason"] for s in result["left_alone"]}
        assert "a container (another PID namespace)" in reasons[holder]

        rc, refused = run_module_on(host, "steadyops.stack.port_free", {"port": 3041, "allow_cmdline": [pattern]})
        assert rc != 0
        assert "it runs in a container (another PID namespace)" in refused["msg"]
        assert port_owner_pids(host, 3041) == [holder]
    finally:
        # The init of a PID namespace ignores SIGTERM from outside unless it handles it; SIGKILL always works.
        host.run(f"kill -KILL {holder}")
