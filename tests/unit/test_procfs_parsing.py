"""Pure parsing of /proc text: stat, cgroups, socket addresses."""

import pytest
from ansible_collections.steadyops.stack.plugins.module_utils import _owners, _procfs


@pytest.mark.parametrize(
    ("text", "comm", "state", "ppid"),
    [
        ("42 (bash) S 1 42 42 0 -1 4194560 0 0 0 0 0 0 0 0 20 0 1 0 1234 0 0", "bash", "S", 1),
        # comm may contain spaces and parentheses: split at the last ')'.
        ("77 (my (odd) name) R 5 77 77 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 99 0 0", "my (odd) name", "R", 5),
        ("9 (next-server) Z 8 9 9 0 -1 4194564 0 0 0 0 0 0 0 0 20 0 1 0 500 0 0", "next-server", "Z", 8),
    ],
)
def test_parse_stat(text, comm, state, ppid):
    fields = _procfs.parse_stat(text)
    assert (fields["comm"], fields["state"], fields["ppid"]) == (comm, state, ppid)


def test_parse_stat_reads_flags_and_start_time():
    fields = _procfs.parse_stat("2 (kthreadd) S 0 0 0 0 -1 2129984 0 0 0 0 0 0 0 0 20 0 1 0 7 0 0")
    assert fields["flags"] & _procfs.PF_KTHREAD
    assert fields["start_ticks"] == 7


@pytest.mark.parametrize(
    ("text", "path", "unit"),
    [
        # cgroup v2 (unified)
        ("0::/system.slice/tms-frontend.service\n", "/system.slice/tms-frontend.service", "tms-frontend.service"),
        # hybrid v1: the unified line is "/" and systemd's hierarchy names the unit
        (
            "9:name=systemd:/system.slice/nginx.service\n8:pids:/system.slice/nginx.service\n0::/\n",
            "/system.slice/nginx.service",
            "nginx.service",
        ),
        # inside a lab container
        (
            "9:name=systemd:/docker/abc123/system.slice/lab-web.service\n0::/docker/abc123/system.slice/lab-web.service\n",
            "/docker/abc123/system.slice/lab-web.service",
            "lab-web.service",
        ),
        # a login session: the orphan started by hand lives here
        (
            "0::/user.slice/user-0.slice/session-3.scope\n",
            "/user.slice/user-0.slice/session-3.scope",
            "session-3.scope",
        ),
        # a delegated sub-cgroup still belongs to its service
        ("0::/system.slice/app.service/worker\n", "/system.slice/app.service/worker", "app.service"),
        # no systemd at all
        ("9:name=systemd:/\n0::/\n", "/", None),
    ],
)
def test_parse_cgroup_and_unit(text, path, unit):
    assert _procfs.parse_cgroup(text) == path
    root = "/docker/abc123" if path.startswith("/docker/") else "/"
    assert _owners.classify(path, root).unit == unit


@pytest.mark.parametrize(
    ("hex_addr", "family", "expected"),
    [
        ("0100007F:0BB8", 4, ("127.0.0.1", 3000)),
        ("00000000:1F40", 4, ("0.0.0.0", 8000)),
        ("00000000000000000000000001000000:0BB8", 6, ("::1", 3000)),
        ("00000000000000000000000000000000:0050", 6, ("::", 80)),
        ("000080FE000000000000000001000000:1F90", 6, ("fe80::1", 8080)),
        ("0000000000000000FFFF00000100007F:0BB8", 6, ("::ffff:127.0.0.1", 3000)),
        ("B80D0120000000000000000001000000:01BB", 6, ("2001:db8::1", 443)),
    ],
)
def test_parse_hex_address(hex_addr, family, expected):
    assert _procfs.parse_hex_address(hex_addr, family) == expected


def test_parse_net_line_tcp6_listen():
    line = (
        "   3: 00000000000000000000000001000000:0BB8 00000000000000000000000000000000:0000 0A "
        "00000000:00000000 00:00000000 00000000  1000        0 555001 1 0000000000000000 100 0 0 10 0"
    )
    entry = _procfs.parse_net_line(line, "tcp", 6)
    assert entry["protocol"] == "tcp6"
    assert (entry["local_address"], entry["local_port"], entry["state"]) == ("::1", 3000, "LISTEN")
    assert (entry["uid"], entry["inode"]) == (1000, 555001)


def test_parse_net_line_skips_header():
    header = "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode"
    assert _procfs.parse_net_line(header, "tcp", 4) is None


@pytest.mark.parametrize(
    ("bound", "wanted", "matches"),
    [
        ("127.0.0.1", None, True),
        ("127.0.0.1", "127.0.0.1", True),
        ("0.0.0.0", "127.0.0.1", True),
        ("0.0.0.0", "::1", False),  # an IPv4 wildcard takes no IPv6 traffic
        ("0.0.0.0", "::", True),  # but blocks a dual-stack bind of [::] (Node's listen(port))
        ("127.0.0.1", "::", True),
        ("127.0.0.1", "0.0.0.0", True),  # a wildcard bind conflicts with every address of its family
        ("::1", "::", True),
        ("::", "10.0.0.5", True),
        ("::ffff:10.0.0.5", "10.0.0.5", True),
        ("127.0.0.1", "10.0.0.5", False),
        ("::1", "127.0.0.1", False),
        # Compared as addresses, not text.
        ("::1", "0:0:0:0:0:0:0:1", True),
        ("::1", "[::1]", True),
        ("fe80::1", "FE80:0::1", True),
        # localhost stands for both loopbacks.
        ("::1", "localhost", True),
        ("127.0.0.1", "localhost", True),
        ("10.0.0.5", "localhost", False),
    ],
)
def test_address_matches(bound, wanted, matches):
    assert _procfs.address_matches(bound, _procfs.parse_address(wanted)) is matches


@pytest.mark.parametrize(
    ("wanted", "matches"),
    [("127.0.0.1", False), ("0.0.0.0", False), ("::1", True), ("::", True)],
)
def test_an_ipv6_only_wildcard_leaves_ipv4_free(wanted, matches):
    assert _procfs.address_matches("::", _procfs.parse_address(wanted), v6only=True) is matches


@pytest.mark.parametrize("wanted", ["not-an-ip", "127.0.0.256", "example.com", "", "1.2.3.4/24"])
def test_anything_but_an_address_is_refused(wanted):
    with pytest.raises(ValueError, match="is not an IP address"):
        _procfs.parse_address(wanted)


def test_parse_cmdline_keeps_arguments_with_spaces():
    assert _procfs.parse_cmdline(b"node\0/opt/app/server.js\0--title\0tms frontend\0") == [
        "node",
        "/opt/app/server.js",
        "--title",
        "tms frontend",
    ]
    assert _procfs.parse_cmdline(b"") == []
