"""Which processes in a service's control group are leftovers of an earlier run (_leftovers.verdict)."""

import pytest
from ansible_collections.steadyops.stack.plugins.module_utils import _leftovers


def unit(active, sub, main=0, control=0, inactive_exit=100.0, main_start=0.0, main_exit=0.0):
    return {
        "Id": "tms-frontend.service",
        "ActiveState": active,
        "SubState": sub,
        "MainPID": str(main),
        "ControlPID": str(control),
        "InactiveExitTimestampMonotonic": str(int(inactive_exit * 1e6)),
        "ExecMainStartTimestampMonotonic": str(int(main_start * 1e6)),
        "ExecMainExitTimestampMonotonic": str(int(main_exit * 1e6)),
    }


@pytest.mark.parametrize(
    ("props", "started_at", "lineage", "leftover"),
    [
        # Stopped with KillMode=process: whatever is left in the cgroup is a leftover, however young.
        (unit("inactive", "dead"), 150.0, [77, 1], True),
        (unit("failed", "failed"), 150.0, [77, 1], True),
        # Waiting to start again after a crash: not running, so its cgroup holds only leftovers.
        (unit("activating", "auto-restart"), 150.0, [77, 1], True),
        # The running main process and its children are the unit's own.
        (unit("active", "running", main=50, main_start=140.0), 140.0, [50, 1], False),
        (unit("active", "running", main=50, main_start=140.0), 141.0, [60, 50, 1], False),
        # Restarted on its own (never inactive in between): older than the current main process, reparented.
        (unit("active", "running", main=50, main_start=140.0), 120.0, [77, 1], True),
        # Started with or after the run: a double fork of the current main process belongs to it.
        (unit("active", "running", main=50, main_start=140.0), 140.02, [77, 1], False),
        (unit("active", "running", main=50, main_start=140.0), 145.0, [77, 1], False),
        # Pre-start steps after an automatic restart: the run began when the last main process exited.
        (unit("activating", "start-pre", control=51, main_exit=130.0), 120.0, [77, 1], True),
        (unit("activating", "start-pre", control=51, main_exit=130.0), 120.0, [51, 1], False),
        (unit("activating", "start-pre", control=51, main_exit=130.0), 131.0, [77, 1], False),
        # A oneshot that left a daemon running (active, exited): its processes started before the main exit.
        (unit("active", "exited", main_start=101.0, main_exit=102.0), 101.5, [77, 1], False),
        # systemd does not know the unit: nothing says the process is not its own.
        ({}, 1.0, [77, 1], False),
    ],
)
def test_verdict(props, started_at, lineage, leftover):
    assert bool(_leftovers.verdict(props, started_at, lineage)) is leftover


def test_the_verdict_names_the_unit_and_its_state():
    assert _leftovers.verdict(unit("inactive", "dead"), 1.0, [9]) == "tms-frontend.service is inactive (dead)"
