"""Who owns a process, read from its cgroup path the way systemd lays cgroups out."""

import pytest
from ansible_collections.steadyops.stack.plugins.module_utils import _owners, _systemd

LAB = "/docker/abc123"


@pytest.mark.parametrize(
    ("cgroup", "root", "kind", "unit", "inner"),
    [
        ("/system.slice/tms-frontend.service", "/", "service", "tms-frontend.service", None),
        ("/system.slice/app.slice/tms-api.service", "/", "service", "tms-api.service", None),
        # A same-named sub-cgroup under another service's delegated subtree is that service's.
        ("/system.slice/other.service/tms-frontend.service", "/", "service", "other.service", "tms-frontend.service"),
        # User units live under the user manager, not among the system's units.
        (
            "/user.slice/user-1000.slice/user@1000.service/app.slice/tms-frontend.service",
            "/",
            "user",
            "user@1000.service",
            "tms-frontend.service",
        ),
        ("/user.slice/user-0.slice/session-3.scope", "/", "session", "session-3.scope", None),
        ("/system.slice/run-r1234.scope", "/", "scope", "run-r1234.scope", None),
        ("/init.scope", "/", "init", "init.scope", None),
        ("/system.slice", "/", "none", None, None),
        ("/", "/", "none", None, None),
        # Containers, by engine.
        ("/system.slice/docker-0123abcd.scope", "/", "container", "docker-0123abcd.scope", None),
        ("/machine.slice/libpod-42.scope/container", "/", "container", "libpod-42.scope", "container"),
        ("/machine.slice/systemd-nspawn@web.service/payload/system.slice/x.service", "/", "container", None, None),
        ("/docker/0123abcd/system.slice/tms-frontend.service", "/", "container", None, None),
        # Inside a lab container that shares the host's cgroup namespace.
        (LAB + "/system.slice/tms-frontend.service", LAB, "service", "tms-frontend.service", None),
        (LAB, LAB, "none", None, None),
        # Another container seen from inside one: outside this manager's tree.
        ("/docker/other/system.slice/x.service", LAB, "container", None, None),
        # No systemd at all: nothing is a unit, but containers are still containers.
        ("/system.slice/x.service", None, "none", None, None),
        ("/docker/0123abcd/system.slice/x.service", None, "container", None, None),
        (None, "/", "unknown", None, None),
    ],
)
def test_classify(cgroup, root, kind, unit, inner):
    owner = _owners.classify(cgroup, root)
    assert owner.kind == kind
    if kind != "container":
        assert (owner.unit, owner.inner) == (unit, inner)
    elif unit:
        assert owner.unit == unit


def test_another_pid_namespace_is_a_container_whatever_the_cgroup():
    owner = _owners.classify("/system.slice/tms-frontend.service", "/", pid_namespaces=2)
    assert owner.kind == "container"
    assert owner.is_foreign
    assert "another PID namespace" in owner.describe()


@pytest.mark.parametrize(
    ("cgroup", "namespaces", "own", "kind"),
    [
        # The module runs in a plain container (no systemd, the host's cgroup namespace): its neighbours there
        # share its PID namespace and cgroup, so they are not "another container".
        ("/docker/0123abcd", 1, ("/docker/0123abcd", 1), "none"),
        ("/system.slice/docker-0123abcd.scope", 1, ("/system.slice/docker-0123abcd.scope", 1), "none"),
        # Another container is one all the same.
        ("/docker/feedbeef", 1, ("/docker/0123abcd", 1), "container"),
        ("/docker/0123abcd", 1, ("/", 1), "container"),
        # PID namespaces are counted from the reader's own: inside a container its own are not nested.
        ("/docker/0123abcd", 2, ("/docker/0123abcd", 2), "none"),
        ("/docker/0123abcd", 3, ("/docker/0123abcd", 2), "container"),
    ],
)
def test_a_container_is_measured_from_the_readers_own(cgroup, namespaces, own, kind):
    assert _owners.classify(cgroup, None, namespaces, own).kind == kind


def test_a_leftover_is_not_restarted_by_systemd_and_says_so():
    owner = _owners.Owner("service", "tms-frontend.service")
    owner.leftover = "tms-frontend.service is inactive (dead)"
    assert owner.restarted_by_systemd is False
    assert owner.describe() == (
        "a leftover in the control group of tms-frontend.service (tms-frontend.service is inactive (dead))"
    )


@pytest.mark.parametrize(
    ("kind", "restarted"),
    [("service", True), ("user", True), ("unit", True), ("scope", False), ("session", False), ("none", False)],
)
def test_only_what_systemd_restarts_counts_as_restarted(kind, restarted):
    assert _owners.Owner(kind, "x").restarted_by_systemd is restarted


def test_descriptions_say_what_a_process_belongs_to():
    delegated = _owners.classify("/system.slice/other.service/tms-frontend.service", "/")
    assert delegated.describe() == "the delegated subtree tms-frontend.service of service other.service"
    user = _owners.classify("/user.slice/user-1000.slice/user@1000.service/app.slice/web.service", "/")
    assert user.describe() == "user unit web.service of user@1000.service"


@pytest.mark.parametrize(
    ("pid1", "root"),
    [
        ("/init.scope", "/"),
        ("/docker/abc123/init.scope", "/docker/abc123"),
        ("/", None),  # PID 1 is not systemd
        (None, None),
    ],
)
def test_manager_root(pid1, root):
    assert _owners.manager_root(pid1) == root


def test_parse_show_takes_blocks_in_any_property_order():
    text = (
        "Listen=[::]:3012 (Stream)\nId=a.socket\nTriggers=a.service\n\n"
        "ControlGroup=/system.slice/b.service\nId=b.service\n"
    )
    units = _systemd.parse_show(text)
    assert units["a.socket"]["Triggers"] == "a.service"
    assert units["b.service"]["ControlGroup"] == "/system.slice/b.service"


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("100ms", 0.1), ("1s", 1.0), ("1min 30s", 90.0), ("2h", 7200.0), ("0", 0.0), ("infinity", 0.0), ("", 0.0)],
)
def test_parse_usec(text, seconds):
    assert _systemd.parse_usec(text) == pytest.approx(seconds)


def test_parse_list_sockets_keeps_ports_only():
    text = (
        "/run/dbus/system_bus_socket  dbus.socket  dbus.service\n"
        "[::]:3012                    sockact.socket  sockact.service\n"
        "0.0.0.0:8080                 web.socket\n"
        "audit 1                      systemd-journald-audit.socket systemd-journald.service\n"
    )
    assert _systemd.parse_list_sockets(text) == [
        (3012, "sockact.socket", ["sockact.service"]),
        (8080, "web.socket", []),
    ]
