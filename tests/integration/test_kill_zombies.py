"""kill_zombies against real zombies and real strays on this machine."""

from pathlib import Path

import pytest
from support.procs import alive, run_module, spawn_listener, spawn_zombie_parent, state_of, wait_for, warnings_of


def test_zombie_reaped_by_sigchld_check_apply_reapply(spawned):
    reaper, parent, zombie = spawn_zombie_parent("reap-on-second")
    spawned(reaper)
    args = {"min_age": 0, "reap_wait": 3}

    check = run_module("kill_zombies", args, check=True)
    mine = [z for z in check["zombies"] if z["pid"] == zombie]
    assert len(mine) == 1
    assert mine[0]["ppid"] == parent
    assert check["changed"] is True
    assert any(a.startswith("send SIGCHLD to pid %d " % parent) for a in check["actions"])
    assert state_of(zombie) == "Z", "check mode must not signal"

    apply = run_module("kill_zombies", args)
    assert apply["changed"] is True
    assert {"pid": parent, "signals": ["SIGCHLD"], "outcome": "sent"} in apply["parents_signalled"]
    assert [z["outcome"] for z in apply["zombies"] if z["pid"] == zombie] == ["reaped"]
    assert state_of(zombie) is None
    assert zombie in apply["diff"]["before"]["zombies"]
    assert zombie not in apply["diff"]["after"]["zombies"]

    reapply = run_module("kill_zombies", args)
    assert zombie not in [z["pid"] for z in reapply["zombies"]]
    assert not [a for a in reapply["actions"] if "pid %d " % parent in a]


def test_parent_that_never_reaps_is_left_alone_and_named(spawned):
    reaper, parent, zombie = spawn_zombie_parent("never-reap", argv0="legacy-supervisor")
    spawned(reaper)
    result = run_module("kill_zombies", {"min_age": 0, "reap_wait": 0.5})
    assert [z["outcome"] for z in result["zombies"] if z["pid"] == zombie] == ["left: parent did not reap"]
    assert alive(parent)
    assert state_of(zombie) == "Z"
    warning = next(w for w in warnings_of(result) if "parent pid %d" % parent in w)
    assert "ignores SIGCHLD" in warning
    assert "reap_parents" in warning
    assert "legacy-supervisor" in warning


def test_parent_matching_reap_parents_is_terminated_and_its_zombie_goes(spawned):
    reaper, parent, zombie = spawn_zombie_parent("never-reap", argv0="legacy-supervisor")
    spawned(reaper)
    args = {"min_age": 0, "reap_wait": 0.5, "reap_parents": ["/legacy-supervisor "], "grace": 2}

    check = run_module("kill_zombies", args, check=True)
    assert "terminate pid %d if it does not reap within 0.5s (matches reap_parents)" % parent in check["actions"]
    assert alive(parent)

    apply = run_module("kill_zombies", args)
    assert apply["changed"] is True
    assert [o["outcome"] for o in apply["signalled"] if o["pid"] == parent] == ["exited"]
    # The subreaper (standing in for init) adopts the zombie and reaps it.
    wait_for(lambda: state_of(zombie) is None, what="zombie %d to be reaped" % zombie)
    assert not alive(parent)

    reapply = run_module("kill_zombies", args)
    assert zombie not in [z["pid"] for z in reapply["zombies"]]


def test_young_zombies_are_not_touched(spawned):
    reaper, _parent, zombie = spawn_zombie_parent("reap-on-second")
    spawned(reaper)
    result = run_module("kill_zombies", {"min_age": 3600})
    assert zombie not in [z["pid"] for z in result["zombies"]]
    assert state_of(zombie) == "Z"


def test_strays_are_refused_where_pid_1_is_not_systemd(spawned):
    # This machine's PID 1 is not systemd: every process is outside every unit, so a
    # stray pattern would select all it matches. Strays on a systemd host are tested in
    # the lab (molecule/tms_outage/tests/test_process_safety.py).
    stray, _port = spawn_listener(argv0="next-server")
    spawned(stray)
    args = {"zombies": False, "grace": 2, "strays": [{"unit": "tms-frontend", "patterns": ["/next-server "]}]}
    for check in (True, False):
        result = run_module("kill_zombies", args, check=check)
        assert result["failed"] is True
        assert "PID 1 on this host is not systemd" in result["msg"]
        assert "Nothing was signalled" in result["msg"]
        assert alive(stray.pid)


def _cmdline(pid):
    return Path("/proc/%d/cmdline" % pid).read_bytes().rstrip(b"\0").replace(b"\0", b" ").decode()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ({"zombies": False}, "Nothing to do"),
        ({"min_age": -5}, "min_age is -5.0"),
        ({"reap_wait": "nan"}, "reap_wait is nan: it is a number of seconds from 0 to 86400"),
        ({"grace": "inf"}, "grace is inf"),
        ({"strays": [{"unit": "web", "patterns": []}]}, "strays[0] (unit web) has no patterns"),
        ({"strays": [{"unit": "web", "patterns": ["[unclosed"]}]}, "strays[0].patterns: '[unclosed' is not a valid"),
        ({"strays": [{"patterns": ["x"]}]}, "unit"),
        ({"reap_parents": ["(bad"]}, "reap_parents: '(bad' is not a valid regular expression"),
        ({"reap_parents": [".*"]}, "reap_parents: '.*' matches every process"),
        ({"strays": [{"unit": "web", "patterns": [""]}]}, "strays[0].patterns: '' matches every process"),
        ({"max_strays": 0, "strays": [{"unit": "web", "patterns": ["x"]}]}, "max_strays and max_stray_users"),
    ],
)
def test_bad_input_fails_clearly(args, message):
    result = run_module("kill_zombies", args)
    assert result["failed"] is True
    assert message in result["msg"]
