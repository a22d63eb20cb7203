"""When a unit counts as up: active (running) for the stable time, counted from its last restart."""

import pytest
from ansible_collections.steadyops.stack.plugins.module_utils import _systemd

NOW = 1000.0


def unit(active="active", sub="running", entered=NOW - 60, restarts="0"):
    return {
        "Id": "tms-api.service",
        "ActiveState": active,
        "SubState": sub,
        "ActiveEnterTimestampMonotonic": str(int(entered * 1e6)),
        "NRestarts": restarts,
    }


def test_a_unit_long_up_counts_at_once():
    assert _systemd.not_up_reason(unit(), NOW, 3) is None


def test_a_unit_just_restarted_by_systemd_is_not_up_yet():
    # Between two crashes a crash-looping service is "active (running)": the answer a once-a-second poll got.
    reason = _systemd.not_up_reason(unit(entered=NOW - 0.8, restarts="4"), NOW, 3)
    assert reason == "active (running), restarted 4 times by systemd for 0.8s only, not yet 3s"


@pytest.mark.parametrize(
    ("active", "sub", "expected"),
    [
        ("activating", "auto-restart", "activating (auto-restart)"),
        ("failed", "failed", "failed (failed)"),
        ("active", "exited", "active (exited)"),
        ("inactive", "dead", "inactive (dead)"),
    ],
)
def test_any_other_state_is_named(active, sub, expected):
    assert _systemd.not_up_reason(unit(active, sub), NOW, 3) == expected


def test_the_stable_time_is_inclusive_and_zero_accepts_any_running_unit():
    assert _systemd.not_up_reason(unit(entered=NOW - 3), NOW, 3) is None
    assert _systemd.not_up_reason(unit(entered=NOW), NOW, 0) is None


def test_a_unit_systemd_does_not_know():
    assert _systemd.not_up_reason({}, NOW, 3) == "systemd does not know it"


def test_only_a_failed_unit_is_given_up_on():
    assert _systemd.gave_up(unit("failed", "failed"))
    assert not _systemd.gave_up(unit("activating", "auto-restart"))
    assert not _systemd.gave_up(None)
