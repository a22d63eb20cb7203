"""port_free against real processes holding real sockets on this machine."""

import re
import socket

import pytest
from support.procs import alive, run_module, state_of, wait_for


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_nobody_listening_is_ok_and_unchanged():
    result = run_module("port_free", {"port": free_port(), "allow_cmdline": ["next-server"]})
    assert result.get("failed") is not True, result
    assert result["changed"] is False
    assert result["holders"] == []
    assert result["actions"] == []


def test_check_apply_reapply_on_the_tms_orphan(listeners):
    proc, port = listeners(argv0="next-server")
    args = {"port": port, "allow_cmdline": ["next-server"], "allow_users": ["root"], "grace": 5}

    check = run_module("port_free", args, check=True)
    assert check["changed"] is True
    assert [h["pid"] for h in check["holders"]] == [proc.pid]
    assert check["holders"][0]["ports"] == ["tcp/127.0.0.1:%d" % port]
    assert check["actions"] == [
        "signal pid %d (%s): SIGTERM, SIGKILL after 5.0s" % (proc.pid, check["holders"][0]["cmdline"])
    ]
    assert check["signalled"] == []
    assert alive(proc.pid), "check mode must not signal"

    apply = run_module("port_free", args)
    assert apply["changed"] is True
    assert apply["signalled"] == [
        {"pid": proc.pid, "signals": ["SIGTERM"], "outcome": "exited", "seconds": apply["signalled"][0]["seconds"]}
    ]
    assert apply["diff"]["after"] == {"holders": {}}
    assert proc.wait(timeout=5) == -15
    with socket.socket() as again:
        again.bind(("127.0.0.1", port))  # the port really is free

    reapply = run_module("port_free", args)
    assert reapply["changed"] is False
    assert reapply["actions"] == []


@pytest.mark.parametrize(("protocol", "family"), [("tcp", 6), ("udp", 4), ("udp", 6)])
def test_frees_tcp6_and_udp_holders(listeners, protocol, family):
    proc, port = listeners(protocol=protocol, family=family, argv0="relay")
    result = run_module("port_free", {"port": port, "protocol": protocol, "allow_cmdline": ["/relay "]})
    assert result["changed"] is True, result
    expected_proto = protocol if family == 4 else protocol + "6"
    assert result["holders"][0]["ports"][0].startswith(expected_proto + "/")
    assert proc.wait(timeout=5) == -15


def test_protocol_filter_leaves_other_sockets_alone(listeners):
    proc, port = listeners(protocol="udp", argv0="relay")
    result = run_module("port_free", {"port": port, "protocol": "tcp", "allow_cmdline": ["/relay "]})
    assert result["changed"] is False
    assert alive(proc.pid)


def test_both_protocols_and_several_ports(listeners):
    tcp, port = listeners(protocol="tcp", argv0="relay")
    udp, _port = listeners(protocol="udp", port=port, argv0="relay")
    other, other_port = listeners(argv0="relay")
    result = run_module("port_free", {"ports": [port, other_port], "protocol": "both", "allow_cmdline": ["/relay "]})
    assert result["changed"] is True
    assert sorted(h["pid"] for h in result["holders"]) == sorted([tcp.pid, udp.pid, other.pid])
    for proc in (tcp, udp, other):
        assert proc.wait(timeout=5) == -15


def test_address_filter(listeners):
    proc, port = listeners(argv0="relay")  # bound to 127.0.0.1
    elsewhere = run_module("port_free", {"port": port, "address": "127.0.0.2", "allow_cmdline": ["/relay "]})
    assert elsewhere["changed"] is False
    assert alive(proc.pid)
    here = run_module("port_free", {"port": port, "address": "127.0.0.1", "allow_cmdline": ["/relay "]})
    assert here["changed"] is True


def test_holder_that_ignores_sigterm_is_escalated(listeners):
    proc, port = listeners(argv0="stuck-server", ignore_term=True)
    result = run_module("port_free", {"port": port, "allow_cmdline": ["/stuck-server "], "grace": 0.5})
    assert result["changed"] is True
    (outcome,) = result["signalled"]
    assert outcome["signals"] == ["SIGTERM", "SIGKILL"]
    assert outcome["outcome"] == "killed"
    assert outcome["seconds"] >= 0.5
    assert proc.wait(timeout=5) == -9


def test_without_escalation_a_stubborn_holder_fails_clearly(listeners):
    proc, port = listeners(argv0="stuck-server", ignore_term=True)
    result = run_module(
        "port_free",
        {"port": port, "allow_cmdline": ["/stuck-server "], "grace": 0.3, "final_signal": "none", "timeout": 0.5},
    )
    assert result["failed"] is True
    assert "Port(s) %d still held after" % port in result["msg"]
    assert "pid %d" % proc.pid in result["msg"]
    assert result["signalled"][0]["outcome"] == "survived"
    assert alive(proc.pid)


def test_holder_of_another_user_is_refused_with_the_way_to_allow_it(as_root, listeners):
    proc, port = listeners(argv0="next-server", user="nobody")
    result = run_module("port_free", {"port": port, "allow_cmdline": ["next-server"], "allow_users": ["root"]})
    assert result["failed"] is True
    assert "nothing was signalled" in result["msg"]
    assert "pid %d (user nobody" % proc.pid in result["msg"]
    assert "allow_users: ['nobody']" in result["msg"]
    assert alive(proc.pid)


def test_holder_not_matching_is_refused(listeners):
    proc, port = listeners(argv0="postgres")
    result = run_module("port_free", {"port": port, "allow_cmdline": ["next-server"]})
    assert result["failed"] is True
    assert "allow_cmdline: ['postgres']" in result["msg"]
    assert alive(proc.pid)


def test_one_refused_holder_stops_everything(listeners):
    allowed, port = listeners(protocol="tcp", argv0="next-server")
    refused, _port = listeners(protocol="udp", port=port, argv0="postgres")
    result = run_module("port_free", {"port": port, "protocol": "both", "allow_cmdline": ["next-server"]})
    assert result["failed"] is True
    assert alive(allowed.pid)
    assert alive(refused.pid)


def test_protected_holder_is_never_signalled(listeners):
    proc, port = listeners(argv0="vault-agent")
    result = run_module("port_free", {"port": port, "allow_cmdline": ["vault"], "protect": ["/vault-agent "]})
    assert result["failed"] is True
    assert "protected by the pattern '/vault-agent '" in result["msg"]
    assert alive(proc.pid)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ({"port": 0, "allow_cmdline": ["x"]}, "Invalid port(s) 0: a port is a number from 1 to 65535."),
        ({"port": 70000, "allow_cmdline": ["x"]}, "Invalid port(s) 70000"),
        ({"port": "abc", "allow_cmdline": ["x"]}, "port"),
        ({"ports": [], "allow_cmdline": ["x"]}, "ports is empty"),
        ({"port": 3000, "ports": [3001], "allow_cmdline": ["x"]}, "mutually exclusive"),
        ({"port": 3000}, "Say which holders may be stopped"),
        ({"port": 3000, "allow_cmdline": ["(next"]}, "allow_cmdline: '(next' is not a valid regular expression"),
        ({"port": 3000, "allow_cmdline": ["x"], "grace": -1}, "grace is -1.0: it is a number of seconds from 0"),
        ({"port": 3000, "allow_cmdline": ["x"], "grace": "nan"}, "grace is nan"),
        ({"port": 3000, "allow_cmdline": ["x"], "timeout": "inf"}, "timeout is inf"),
        ({"port": 3000, "allow_cmdline": ["x"], "timeout": 1e9}, "timeout is 1000000000.0"),
        ({"port": True, "allow_cmdline": ["x"]}, "Invalid port(s) True"),
        ({"port": 3000, "allow_cmdline": ["x"], "protocol": "sctp"}, "protocol"),
        ({"port": 3000, "allow_cmdline": ["x"], "address": "not-an-ip"}, "address: 'not-an-ip' is not an IP address"),
        ({"port": 3000, "allow_cmdline": [".*"]}, "allow_cmdline: '.*' matches every process"),
    ],
)
def test_bad_input_fails_clearly(args, message):
    result = run_module("port_free", args)
    assert result["failed"] is True
    assert message in result["msg"]
    assert result.get("changed", False) is False


def test_bad_input_with_a_live_holder_signals_nothing(listeners):
    proc, port = listeners(argv0="next-server")
    result = run_module("port_free", {"port": port, "allow_cmdline": ["next-server", "(unclosed"]})
    assert result["failed"] is True
    assert re.search(r"not a valid regular expression", result["msg"])
    assert alive(proc.pid)


@pytest.mark.parametrize("address", ["::1", "0:0:0:0:0:0:0:1", "localhost", "[::1]"])
def test_addresses_are_compared_as_addresses(listeners, address):
    proc, port = listeners(argv0="relay6", family=6)  # bound to ::1, IPv6 only
    check = run_module("port_free", {"port": port, "address": address, "allow_cmdline": ["/relay6 "]}, check=True)
    assert check.get("failed") is not True, check.get("msg")
    assert [h["pid"] for h in check["holders"]] == [proc.pid]
    other = run_module("port_free", {"port": port, "address": "127.0.0.1", "allow_cmdline": ["/relay6 "]}, check=True)
    assert other["holders"] == [], "an IPv6-only socket takes nothing on 127.0.0.1"


def test_a_socket_bound_but_not_listening_is_a_holder(listeners):
    proc, port = listeners(argv0="bound-only", protocol="tcp-bound")
    # The reason it counts: the next bind to the port fails.
    with socket.socket() as probe, pytest.raises(OSError, match="Address already in use"):
        probe.bind(("127.0.0.1", port))
    result = run_module("port_free", {"port": port, "allow_cmdline": ["/bound-only "], "grace": 2})
    assert result.get("failed") is not True, result.get("msg")
    assert [h["pid"] for h in result["holders"]] == [proc.pid]
    assert result["holders"][0]["ports"] == ["tcp/127.0.0.1:%d" % port]
    assert result["changed"] is True
    assert proc.wait(timeout=5) == -15


def test_a_process_whose_first_thread_exited_is_found_and_stopped(listeners):
    proc, port = listeners(argv0="leaderless", protocol="tcp-leaderless")
    wait_for(lambda: state_of(proc.pid) == "Z", what="the first thread to exit")
    result = run_module("port_free", {"port": port, "allow_cmdline": ["/leaderless "], "grace": 2})
    assert result.get("failed") is not True, result.get("msg")
    (holder,) = result["holders"]
    assert holder["pid"] == proc.pid
    assert holder["state"] == "S", "the state of the thread that runs, not the exited first thread"
    assert "/leaderless " in holder["cmdline"]
    assert result["signalled"][0]["outcome"] == "exited"
    assert proc.wait(timeout=5) == -15


def test_a_holder_in_a_container_is_refused_as_a_container(docker_host_listener):
    container, port = docker_host_listener
    result = run_module("port_free", {"port": port, "allow_cmdline": ["steadyops-container-marker"]})
    assert result["failed"] is True
    assert "it runs in a container" in result["msg"], result["msg"]
    assert "nothing was signalled" in result["msg"]
    assert container.is_running()
