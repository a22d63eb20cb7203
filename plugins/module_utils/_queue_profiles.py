# -*- coding: utf-8 -*-
# Copyright: (c) 2026, steadyops engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

"""Named mappings of queue tables ("profiles") for queue_purge.

A profile gives every mapping option a value; an option the task sets wins,
field by field. A profile is added here only together with an integration
test that runs the queue's own code against a purge (tests/integration).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import copy

# Optional columns and tables a task turns off with an empty string (an empty mapping for the dicts).
OPTIONAL = (
    "queued_at_column",
    "started_at_column",
    "completed_at_column",
    "heartbeat_column",
    "rescue_schedule_column",
    "attempt_limit_column",
    "run_timeout_column",
    "dead_letter_route_column",
    "dead_letter_table",
    "dead_letter_created_column",
    "worker_heartbeat",
    "event_times",
)

PROFILES = {
    # The demo stack's own queue (examples/tms/migrations/001_job_queue.sql): workers
    # count an attempt when they take a row, and beat while they hold it.
    "tds": {
        "id_column": ["id"],
        "status_column": "status",
        "states": {
            "pending": "pending",
            "processing": "processing",
            "retry": "retry",
            "completed": "completed",
            "dead_letter": "dead_letter",
        },
        "ignored_states": [],
        "terminal_states": ["completed", "dead_letter"],
        "queued_at_column": "queued_at",
        "started_at_column": "started_at",
        "completed_at_column": "completed_at",
        "attempts_column": "attempt_count",
        "heartbeat_column": "heartbeat_at",
        "dead_letter_created_column": "created_at",
        "rescue_to": "pending",
        "rescue_schedule_column": "",
        "rescue_attempts": "keep",
        "rescue_started_at": "clear",
        "attempt_limit_column": "",
        "run_timeout_column": "",
        # The zone its timestamp-without-time-zone columns are written in (it writes UTC, or uses timestamptz).
        "naive_time_zone": "UTC",
        "dead_letter_route_column": "",
        "worker_heartbeat": {},
        "event_times": {},
    },
    # procrastinate (PyPI, 3.x: procrastinate/sql/schema.sql). Its jobs table has no time columns:
    # when a job was deferred, started or finished is in procrastinate_events, written by the
    # library's own triggers, and its cleanup (delete_old_jobs) ages a job by its latest event.
    # A job is stalled when its worker is gone (worker_id NULL: pruned) or stopped beating
    # (select_stalled_jobs_by_heartbeat). A retry is todo, attempts + 1, scheduled_at set
    # (procrastinate_retry_job_v2); a job that fails for good is failed, attempts + 1
    # (procrastinate_finish_job_v1). Its RetryStrategy(max_attempts=N) gives a job N retries, N + 1
    # runs: queue_purge's max_attempts counts runs, so it is N + 1.
    "procrastinate": {
        "id_column": ["id"],
        "status_column": "status",
        "states": {
            "pending": "todo",
            "processing": "doing",
            "completed": "succeeded",
            "dead_letter": "failed",
        },
        "ignored_states": ["cancelled", "aborting", "aborted"],
        "terminal_states": ["completed", "dead_letter"],
        "queued_at_column": "",
        "started_at_column": "",
        "completed_at_column": "",
        "attempts_column": "attempts",
        "heartbeat_column": "",
        "dead_letter_created_column": "",
        "rescue_to": "pending",
        "rescue_schedule_column": "scheduled_at",
        "rescue_attempts": "increment",
        "rescue_started_at": "keep",
        "attempt_limit_column": "",
        "run_timeout_column": "",
        # The zone its timestamp-without-time-zone columns are written in (it writes UTC, or uses timestamptz).
        "naive_time_zone": "UTC",
        "dead_letter_route_column": "",
        "worker_heartbeat": {
            "table": "procrastinate_workers",
            "id_column": "id",
            "heartbeat_column": "last_heartbeat",
            "job_column": "worker_id",
        },
        "event_times": {"table": "procrastinate_events", "job_column": "job_id", "time_column": "at"},
    },
    # pg-boss (npm, 12.x: src/plans.ts), table job in its schema (pgboss by default): partitioned by
    # queue name, keyed by (name, id). Its fetch counts a retry when it takes a job that was started
    # before (retry_count + 1 only when started_on IS NOT NULL), so rescue keeps started_on; its own
    # expiry (failJobsByTimeout) retries a job while retry_count < retry_limit, else fails it with
    # completed_on set and, for a job with dead_letter, copies it into that queue. A job is running
    # until its own expire_seconds have passed; one with a dead-letter queue is left to that expiry,
    # which makes the copy. cancelled jobs are counted, never touched.
    "pg-boss": {
        "id_column": ["name", "id"],
        "status_column": "state",
        "states": {
            "pending": "created",
            "processing": "active",
            "retry": "retry",
            "completed": "completed",
            "dead_letter": "failed",
        },
        "ignored_states": ["cancelled"],
        "terminal_states": ["completed", "dead_letter"],
        "queued_at_column": "created_on",
        "started_at_column": "started_on",
        "completed_at_column": "completed_on",
        "attempts_column": "retry_count",
        "heartbeat_column": "heartbeat_on",
        "dead_letter_created_column": "",
        "rescue_to": "retry",
        "rescue_schedule_column": "start_after",
        "rescue_attempts": "keep",
        "rescue_started_at": "keep",
        "attempt_limit_column": "retry_limit",
        "run_timeout_column": "expire_seconds",
        # The zone its timestamp-without-time-zone columns are written in (it writes UTC, or uses timestamptz).
        "naive_time_zone": "UTC",
        "dead_letter_route_column": "dead_letter",
        "worker_heartbeat": {},
        "event_times": {},
    },
}

MAPPING_OPTIONS = tuple(PROFILES["tds"])


def resolve(params):
    """Fill PARAMS' unset mapping options from its profile; empty optional ones become None.

    Returns the names of the options the profile filled, so a message about
    a column the table lacks can say where that column came from.
    """
    profile = PROFILES[params["profile"]]
    filled = []
    for name in MAPPING_OPTIONS:
        if params.get(name) is None:
            params[name] = copy.deepcopy(profile[name])
            filled.append(name)
    for name in OPTIONAL:
        value = params.get(name)
        # An empty mapping comes back from Ansible's suboption handling as one of None values.
        if value == "" or (isinstance(value, dict) and not any(v is not None for v in value.values())):
            params[name] = None
    return filled


def origin_hint(params, filled, columns):
    """Where COLUMNS came from when the profile gave them: the options to set instead."""
    named = [
        name
        for name in filled
        if (isinstance(params.get(name), str) and params[name] in columns)
        or (isinstance(params.get(name), list) and set(params[name]) & set(columns))
    ]
    if not named:
        return ""
    return " (%s from profile %s: set %s for this table%s)" % (
        "it comes" if len(named) == 1 else "they come",
        params["profile"],
        ", ".join(named),
        ", or to an empty string for none" if set(named) & set(OPTIONAL) else "",
    )
