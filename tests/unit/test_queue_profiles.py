"""queue_purge's profiles: each gives every mapping option, and a task's own value wins field by field."""

import pytest
from ansible_collections.steadyops.stack.plugins.module_utils import _queue_profiles


@pytest.mark.parametrize("name", sorted(_queue_profiles.PROFILES))
def test_every_profile_gives_every_mapping_option(name):
    assert sorted(_queue_profiles.PROFILES[name]) == sorted(_queue_profiles.MAPPING_OPTIONS)


def test_a_tasks_own_value_wins_and_the_rest_comes_from_the_profile():
    params = {"profile": "procrastinate", "status_column": "state"}
    filled = _queue_profiles.resolve(params)
    assert params["status_column"] == "state"
    assert "status_column" not in filled
    assert params["event_times"] == {"table": "procrastinate_events", "job_column": "job_id", "time_column": "at"}
    assert params["started_at_column"] is None  # the profile's "" is none
    # A profile's values are copies: a task that changes its own cannot change the profile.
    params["states"]["pending"] = "changed"
    assert _queue_profiles.PROFILES["procrastinate"]["states"]["pending"] == "todo"


@pytest.mark.parametrize("off", ["", {}, {"table": None, "job_column": None, "time_column": None}])
def test_an_empty_value_turns_a_profiles_table_or_column_off(off):
    # {} reaches the module as a mapping of None values once Ansible has filled its suboptions.
    params = {"profile": "procrastinate", "event_times": off, "rescue_schedule_column": ""}
    _queue_profiles.resolve(params)
    assert params["event_times"] is None
    assert params["rescue_schedule_column"] is None


def test_a_missing_column_is_traced_to_the_profile_option_that_gave_it():
    params = {"profile": "procrastinate"}
    filled = _queue_profiles.resolve(params)
    hint = _queue_profiles.origin_hint(params, filled, ["scheduled_at"])
    assert hint == (
        " (it comes from profile procrastinate: set rescue_schedule_column for this table, or to an empty string "
        "for none)"
    )
    assert _queue_profiles.origin_hint(params, filled, ["not_from_the_profile"]) == ""
