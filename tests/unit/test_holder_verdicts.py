"""What port_free does with each holder: signal it, stop its unit, or refuse, and why."""

import re

import pytest
import yaml
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


def leftover(pid, cgroup, why="tms-frontend.service is inactive (dead)", **kwargs):
    found = holder(pid, cgroup, **kwargs)
    found.process.owner.leftover = why
    return found


def test_a_leftover_of_a_stopped_service_is_signalled_when_its_program_is_allowed():
    (verdict,) = judge([leftover(4242, "/system.slice/tms-frontend.service")], cmdline=["next-server"])
    assert verdict.action == "signal"


def test_a_leftover_is_allowed_by_naming_its_unit():
    (verdict,) = judge([leftover(4242, "/system.slice/tms-frontend.service")], units=["tms-frontend"])
    assert verdict.action == "signal", "stopping an inactive unit would do nothing: the leftover is signalled"


def test_a_leftover_is_never_kept_as_its_units_rightful_owner():
    process = leftover(4242, "/system.slice/tms-frontend.service").process
    owner = _port_release.Owner()
    owner.units = {"tms-frontend.service"}
    assert owner.holds(process) is False
    process.owner.leftover = None
    assert owner.holds(process) is True


def hint_values(why):
    """{option: [values]} from the 'set X: [...]' hints of a refusal, parsed as YAML would read them."""
    found = {}
    for option, value in re.findall(r"(allow_\w+): \[('(?:[^']|'')*')\]", why):
        found.setdefault(option, []).append(yaml.safe_load(value))
    return found


SESSION = "/user.slice/user-998.slice/session-3.scope"


@pytest.mark.parametrize(
    ("cgroup", "cmdline", "selection"),
    [
        (SESSION, ("/opt/tms/bin/next-server", "server.py"), {"cmdline": ["uvicorn"]}),
        (SESSION, ("   ",), {"cmdline": ["next-server"]}),  # a blank command line: no pattern may match it
        (SESSION, (), {"cmdline": ["uvicorn"]}),  # no argv at all: the command reads [comm]
        ("/", ("/opt/tms/bin/next-server", "server.py"), {"units": ["other-svc"]}),  # in no unit
        (SESSION, ("/opt/tms/bin/next-server", "server.py"), {"cmdline": ["next-server"], "users": ["www-data"]}),
    ],
)
def test_every_hint_is_a_value_that_then_allows_the_holder(cgroup, cmdline, selection):
    orphan = holder(4242, cgroup, cmdline=cmdline)
    orphan.process.exe = "/usr/bin/python3.11"
    (refused,) = judge([orphan], **selection)
    assert refused.action == "refuse"
    hints = hint_values(refused.why)
    assert hints, refused.why
    blank = bool(cmdline) and not cmdline[0].strip()
    for option, values in hints.items():
        kind = option[len("allow_") :]
        # The hint's value for its option, the caller's other kinds kept (a blank command line's hint
        # says to use it instead of allow_cmdline).
        fixed = dict(selection, **{kind: values})
        if blank and kind != "cmdline":
            fixed.pop("cmdline")
        again = holder(4242, cgroup, cmdline=cmdline)
        again.process.exe = orphan.process.exe
        (allowed,) = judge([again], **fixed)
        assert allowed.action == "signal", (option, values, allowed.why)
