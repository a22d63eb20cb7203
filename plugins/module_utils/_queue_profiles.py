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

# Optional columns and tables a task turns off with an empty string.
OPTIONAL = ("heartbeat_column", "rescue_schedule_column", "attempt_limit_column", "dead_letter_table")

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
        if params.get(name) == "":
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
