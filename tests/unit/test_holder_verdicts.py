"""What port_free does with each holder: signal it, stop its unit, or refuse, and why."""

import pytest
from ansible_collections.steadyops.stack.plugins.module_utils import _port_release
from ansible_collections.steadyops.stack.plugins.module_utils._owners import classify
from ansible_collections.steadyops.stack.plugins.module_utils._process_policy import Selection, protect_patterns
from ansible_collections.steadyops.stack.plugins.module_utils._procfs import Process

SOCKET = {"protocol": "tcp", "local_address": "0.0.0.0", "local_port": 3002}


def holder(pid, cgroup, cmdline=("/opt/tms/bin/next-server", "server.py"), user="tmsapp", units=None):
    process = Process(
        pid=pid, ppid=1, state="S", comm="next-server", flags=0, uid=998, user=user,
        cmdline=list(cmdline), cgroup=cgroup, owner=classify(cgroup, "/"),
    )  # fmt: skip
    found = _port_release.Holder(process, [SOCKET])
    found.units = list(units or [])
    return found


def judge(holders, **selection):
    return _port_release.judge(holders, Selection(**selection), protect_patterns(), self_tree=set())


def test_an_orphan_in_a_login_session_is_signalled():
    (verdict,) = judge([holder(4242, "/user.slice/user-998.slice/session-3.scope")], cmdline=["next-server"])
    assert verdict.action == "signal"


def test_a_process_of_a_service_is_never_signalled_by_pid():
    (verdict,) = judge([holder(4242, "/system.slice/other-svc.service")], cmdline=["next-server"])
    assert verdict.action == "refuse"
    assert "never signalled by pid" in verdict.why
    assert "allow_units: ['other-svc.service']" in verdict.why


def test_a_service_named_in_allow_units_is_stopped_as_a_unit():
    (verdict,) = judge([holder(4242, "/system.slice/other-svc.service")], cmdline=["next-server"], units=["other-svc"])
    assert (verdict.action, verdict.units) == ("stop", ["other-svc.service"])


def test_allow_units_does_not_waive_the_other_kinds():
    (verdict,) = judge([holder(4242, "/system.slice/other-svc.service")], cmdline=["uvicorn"], units=["other-svc"])
    assert verdict.action == "refuse"
    assert "allow_cmdline: ['next-server']" in verdict.why


@pytest.mark.parametrize(
    ("cgroup", "names"),
    [
        (
            "/system.slice/other.service/tms-frontend.service",
            "the delegated subtree tms-frontend.service of service other.service",
        ),
        (
            "/user.slice/user-1000.slice/user@1000.service/app.slice/tms-frontend.service",
            "user unit tms-frontend.service of user@1000.service",
        ),
    ],
)  # fmt: skip
def test_delegated_subtrees_and_user_units_are_named_for_what_they_are(cgroup, names):
    (verdict,) = judge([holder(4242, cgroup)], cmdline=["next-server"], units=["tms-frontend"])
    assert verdict.action == "refuse"
    assert names in verdict.why
    assert "set allow_units: ['%s']" % classify(cgroup, "/").unit in verdict.why


def test_a_socket_systemd_listens_on_is_stopped_with_its_service_when_allowed():
    pid1 = holder(1, "/init.scope", cmdline=["/sbin/init"], user="root", units=["legacy.socket", "legacy.service"])
    (verdict,) = judge([pid1], units=["legacy.socket"])
    assert (verdict.action, verdict.units) == ("stop", ["legacy.socket", "legacy.service"])


def test_a_socket_systemd_listens_on_is_refused_naming_the_socket_unit():
    pid1 = holder(1, "/init.scope", cmdline=["/sbin/init"], user="root", units=["legacy.socket", "legacy.service"])
    (verdict,) = judge([pid1], cmdline=["next-server"])
    assert verdict.action == "refuse"
    assert "socket unit legacy.socket, which starts legacy.service on demand" in verdict.why
    assert "allow_units: ['legacy.socket']" in verdict.why
    assert "init.scope" not in verdict.why


def test_pid_1_without_a_socket_unit_is_never_stopped():
    (verdict,) = judge([holder(1, "/init.scope", cmdline=["/sbin/init"], user="root")], users=["root"])
    assert verdict.action == "refuse"
    assert "PID 1 is never signalled" in verdict.why


def test_a_container_process_is_refused_as_a_container():
    (verdict,) = judge([holder(4242, "/system.slice/docker-0123.scope")], cmdline=["next-server"])
    assert verdict.action == "refuse"
    assert "a container (docker-0123.scope)" in verdict.why


class FakeSystemd:
    def __init__(self, control_groups=None, triggers=None):
        self._control_groups = control_groups or {}
        self._triggers = triggers or {}

    def triggers(self, unit):
        return self._triggers.get(unit, [])

    def control_groups(self, units):
        return {u: self._control_groups.get(u) for u in units}


def test_the_owner_is_matched_by_its_real_control_group():
    owner = _port_release.Owner(
        "tms-frontend", systemd=FakeSystemd({"tms-frontend.service": "/system.slice/tms-frontend.service"})
    )
    assert owner.holds(holder(10, "/system.slice/tms-frontend.service").process)
    assert owner.holds(holder(11, "/system.slice/tms-frontend.service/worker").process)
    assert not owner.holds(holder(12, "/system.slice/other.service/tms-frontend.service").process)
    assert not owner.holds(
        holder(13, "/user.slice/user-1000.slice/user@1000.service/app.slice/tms-frontend.service").process
    )


def test_an_owner_that_is_not_running_holds_nothing():
    owner = _port_release.Owner("tms-frontend", systemd=FakeSystemd({"tms-frontend.service": None}))
    assert not owner.holds(holder(10, "/system.slice/tms-frontend.service").process)


def test_without_systemd_to_ask_the_cgroup_path_decides():
    owner = _port_release.Owner("tms-frontend", systemd=FakeSystemd())
    owner.control_groups = {}
    assert owner.holds(holder(10, "/system.slice/tms-frontend.service").process)
    assert not owner.holds(holder(12, "/system.slice/other.service/tms-frontend.service").process)


def test_a_socket_owner_includes_the_service_it_activates():
    owner = _port_release.Owner("legacy.socket", systemd=FakeSystemd(triggers={"legacy.socket": ["legacy.service"]}))
    assert owner.units == {"legacy.socket", "legacy.service"}
