"""Who may be signalled: the caller's selection, and the lines that are never crossed."""

import pytest
from ansible_collections.steadyops.stack.plugins.module_utils._owners import classify
from ansible_collections.steadyops.stack.plugins.module_utils._process_policy import (
    PolicyError,
    Selection,
    protect_patterns,
    refusal,
)
from ansible_collections.steadyops.stack.plugins.module_utils._procfs import PF_KTHREAD, Process


def process(
    pid=4242,
    cmdline=("next-server (v14.2.3)",),
    user="tmsapp",
    uid=998,
    cgroup="/user.slice/user-998.slice/session-3.scope",
    exe="/usr/bin/node",
    cwd="/opt/tms/current",
    flags=0,
    ppid=1,
):
    return Process(
        pid=pid,
        ppid=ppid,
        cmdline=list(cmdline),
        comm="next-server",
        user=user,
        uid=uid,
        cgroup=cgroup,
        owner=classify(cgroup, "/"),
        exe=exe,
        cwd=cwd,
        flags=flags,
        state="S",
    )


ORPHAN = process()


@pytest.mark.parametrize(
    ("selection", "allowed"),
    [
        ({"cmdline": ["next-server"]}, True),
        ({"cmdline": ["uvicorn", "next-server"]}, True),  # any entry within a kind
        ({"cmdline": ["next-server"], "users": ["tmsapp"]}, True),
        ({"cmdline": ["next-server"], "users": ["998"]}, True),  # uids work too
        ({"cmdline": ["next-server"], "users": ["www-data"]}, False),  # every given kind must match
        ({"exe": ["^/usr/bin/node$"]}, True),
        ({"exe": ["python"]}, False),
        ({"units": ["session-3.scope"]}, True),
        ({"units": ["tms-frontend"]}, False),  # .service is implied
        ({"cwd": ["^/opt/tms/"]}, True),
        ({}, False),  # nothing named: nothing allowed
    ],
)
def test_selection(selection, allowed):
    assert Selection(**selection).matches(ORPHAN) is allowed


def test_mismatch_says_which_parameter_would_allow_it():
    hints = Selection(cmdline=["uvicorn"], users=["www-data"]).mismatches(ORPHAN)
    assert hints == ["allow_cmdline: ['next-server']", "allow_users: ['tmsapp']"]


def test_units_get_a_service_suffix():
    assert Selection(units=["tms-frontend"]).units == ["tms-frontend.service"]


def test_invalid_regex_names_the_parameter():
    with pytest.raises(PolicyError, match=r"allow_cmdline: '\(next' is not a valid regular expression"):
        Selection(cmdline=["(next"])


@pytest.mark.parametrize(
    ("candidate", "reason"),
    [
        (process(pid=1, cmdline=["/sbin/init"]), "PID 1"),
        (process(pid=57, cmdline=[], flags=PF_KTHREAD, ppid=2), "kernel thread"),
        (process(pid=500), "own process tree"),
        (process(pid=600, cmdline=["sshd: deploy@pts/0"]), "protected"),
        (process(pid=601, cmdline=["/usr/sbin/sshd", "-D"]), "protected"),
        (process(pid=602, cmdline=["/lib/systemd/systemd-journald"]), "protected"),
        (process(pid=603, cmdline=["/usr/bin/python3", "/root/.ansible/tmp/x/AnsiballZ_command.py"]), "protected"),
        (process(pid=604, cmdline=["/opt/vault/bin/vault", "server"]), "protected"),  # from `protect`
        (ORPHAN, None),
    ],
)
def test_refusal(candidate, reason):
    protect = protect_patterns(["^/opt/vault/"])
    why = refusal(candidate, self_tree={500, 501}, protect=protect)
    if reason is None:
        assert why is None
    else:
        assert reason in why
