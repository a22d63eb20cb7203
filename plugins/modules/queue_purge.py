#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, steadyops engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: queue_purge
short_description: Safe, idempotent maintenance of a PostgreSQL-backed job queue
version_added: 0.1.0
description:
  - Purges old rows in terminal states (O(retention)), old rows of a dead-letter table, and rescues
    rows stuck in C(processing) after a worker crash, back to pending or, once their attempts are
    used up, to dead letter. Reports per-state and dead-letter counts before and after.
  - Works in short batches, each the next O(batch_size) rows of a unique key of the table (keyset
    pagination over any key PostgreSQL orders, such as bigint, uuid, text or a composite key), each its own
    transaction with its own O(lock_timeout_ms) and O(statement_timeout_ms), so a worker consuming the
    queue at the same time waits at most one batch. O(id_column) must be the columns of the primary key
    or of a unique index on NOT NULL columns; anything else is refused before any change.
  - Every batch skips rows a live worker holds (C(FOR UPDATE SKIP LOCKED)) without losing the rest of
    the batch, and re-checks the row filter on the rows it changes. Rescue also leaves rows whose worker
    still beats (O(heartbeat_column)).
  - Every state value found in the table must be mapped by O(states) or listed in O(ignored_states);
    counts are reported under the table's own state values.
  - A session advisory lock per table keeps two purges from running at once; the second reports
    RV(lock=busy) and exits cleanly.
  - C(VACUUM (ANALYZE)) runs per table, or per partition of a partitioned table, only on those rows were
    removed from or whose dead tuples exceed O(vacuum_dead_tuples); only then is the result changed, so a
    second run right after a purge reports no change.
  - Defaults fit TDS Core's C(tds_sync_queue); any queue with a status column maps through the
    column and state options, for example River's C(river_job).
  - Only rows in O(terminal_states) are ever deleted.
author:
  - steadyops engineering (@steadyops)
requirements:
  - psycopg >= 3.1 on the host that runs the module
extends_documentation_fragment:
  - steadyops.stack.postgres
attributes:
  check_mode:
    support: full
    description: >-
      Runs each batch's own UPDATE or DELETE, as an apply does, and rolls it back, so it counts exactly the
      rows an apply would delete or reset (rows a worker holds left out) and meets the errors an apply would
      (a foreign key that still references a row, a missing privilege, a generated column), at the same
      batch, reported as the apply would report them; changes none. A rolled-back UPDATE leaves dead row
      versions, as an aborted transaction does, for autovacuum.
  diff_mode:
    support: full
    description: Per-state counts before and after.
  platform:
    support: full
    platforms: posix
    description: Any host that reaches the database, with psycopg.
options:
  schema:
    description: Schema of the queue table.
    type: str
    default: public
  table:
    description: The queue table, in O(schema).
    type: str
    required: true
  profile:
    description:
      - A named mapping of a queue table's shape and rules; every mapping option below that the task
        does not set comes from it, so a profile is overridden field by field.
      - V(tds) is the demo stack's queue (C(examples/tms/migrations/001_job_queue.sql)); its values are
        given with each option as "V(tds):".
      - V(procrastinate) is the job table of the procrastinate library (PyPI, 3.x), C(procrastinate_jobs)
        in O(table). Jobs are aged by their latest event in C(procrastinate_events), a job is stuck when its
        worker is gone or stopped beating in C(procrastinate_workers), a rescued job goes back to C(todo)
        with one more attempt and C(scheduled_at) now, and one out of attempts to C(failed), as the
        library's own retry does. Its C(RetryStrategy(max_attempts=N)) allows N retries, so set
        O(max_attempts) to N + 1.
      - V(pg-boss) is the job table of pg-boss (npm, 12.x), O(table=job) in O(schema=pgboss) (its default
        schema), partitioned by queue and keyed by C((name, id)). A job is stuck once it has run longer than
        both O(rescue_stuck_after_minutes) and its own C(expire_seconds), without a heartbeat in that time.
        A stuck job with C(retry_count) below its own C(retry_limit) goes to C(retry), C(start_after) now,
        C(started_on) kept (pg-boss counts the retry when a worker takes it); one out of retries goes to
        C(failed) with C(completed_on) set, as pg-boss's own expiry does, unless its queue has a dead-letter
        queue (C(dead_letter)); that copy is pg-boss's to make, so the job is left to pg-boss's expiry and
        counted in RV(left_to_queue). C(cancelled) jobs are counted, never touched. The retry is not
        delayed by C(retry_delay), since its worker died at least O(rescue_stuck_after_minutes) ago.
    type: str
    choices: [pg-boss, procrastinate, tds]
    default: tds
  id_column:
    description:
      - The column of the table's primary key, or of a unique index on NOT NULL columns, that batches
        walk in order; a list of columns for a composite key. Any type PostgreSQL orders.
      - The same columns key O(dead_letter_table).
      - "V(tds): V([id])."
    type: list
    elements: str
  status_column:
    description: ["The column holding a row's state.", "V(tds): V(status)."]
    type: str
  states:
    description:
      - The value of each state in O(status_column), for the keys V(pending), V(processing), V(completed),
        V(dead_letter) and, for a queue that has a state of its own for retries, V(retry).
      - "V(tds): each key's own name."
    type: dict
  ignored_states:
    description:
      - Values of O(status_column) that none of O(states) names; rows in them are counted and never touched.
      - A value found in the table that is neither mapped nor listed here fails the run before any change.
      - "V(tds): none."
    type: list
    elements: str
  terminal_states:
    description:
      - States whose rows may be deleted. Anything else is never deleted.
      - "V(tds): V([completed, dead_letter])."
    type: list
    elements: str
  queued_at_column:
    description: ["When a row was queued. Empty for none.", "V(tds): V(queued_at)."]
    type: str
  started_at_column:
    description:
      - When a worker took the row; rescue measures being stuck from it. Empty for none (then a heartbeat
        tells a stuck row).
      - "V(tds): V(started_at)."
    type: str
  completed_at_column:
    description:
      - When a row reached its terminal state; the default age column of O(retention), and set by rescue
        on a row it moves to dead letter. Empty for none (then O(event_times) ages rows).
      - "V(tds): V(completed_at)."
    type: str
  attempts_column:
    description: ["How many times the row was tried.", "V(tds): V(attempt_count)."]
    type: str
  attempt_limit_column:
    description:
      - A column holding each row's own attempt limit; a stuck row whose attempts reach it goes to dead
        letter. Rows where it is NULL use O(max_attempts). Empty for none.
      - "V(tds): none (O(max_attempts) for every row)."
    type: str
  run_timeout_column:
    description:
      - A column holding each row's own run time limit in seconds (a job timeout). A row in processing is
        stuck only once it has run longer than that too, so a long job the queue lets run is never taken
        from its live worker. Needs O(started_at_column). Empty for none.
      - "V(tds): none."
    type: str
  naive_time_zone:
    description:
      - The time zone the queue writes its C(timestamp without time zone) columns in (Oban and Rails-backed
        queues write UTC there). The purge's session runs in it, so such a column is compared with the
        current time, and written, as the queue itself does, never in the database's or the server's
        C(TimeZone). Columns C(with time zone) are exact whatever it says.
      - "V(tds), V(procrastinate), V(pg-boss): V(UTC)."
    type: str
  dead_letter_route_column:
    description:
      - A column naming where the queue itself sends a row's dead letter (another queue it copies the row
        into). A stuck row out of attempts with a value there is left in processing for the queue's own
        expiry, which makes the copy, and counted in RV(left_to_queue); rows where it is NULL go to dead
        letter as usual. Empty for none.
      - "V(tds): none."
    type: str
  heartbeat_column:
    description:
      - A column a live worker updates while it holds a row (heartbeat or locked-at); a row whose worker
        still beats is never stuck. Empty for none.
      - "V(tds): V(heartbeat_at)."
    type: str
  rescue_to:
    description:
      - The state of O(states) a stuck row with attempts left goes back to, for example V(retry) for a
        queue that schedules retries. Neither processing nor a terminal state.
      - "V(tds): V(pending)."
    type: str
  rescue_schedule_column:
    description:
      - A column saying when a row may run next (run-at, scheduled-at, start-after); rescue sets it to
        now, so a rescued row runs at once. Empty for none.
      - "V(tds): none."
    type: str
  rescue_attempts:
    description:
      - What rescue does to O(attempts_column). V(keep) for a queue that counts an attempt when a worker
        takes a row; V(increment) for one that counts it when the attempt ends (the crash is an attempt
        that ended), and then the limit is checked against the count after it.
      - "V(tds): V(keep)."
    type: str
    choices: [keep, increment]
  rescue_started_at:
    description:
      - What rescue does to O(started_at_column). V(clear) sets it to NULL; V(keep) leaves it, for a queue
        that counts a retry only when a row it takes was started before (clearing it would freeze that
        count, and the row would cycle for ever).
      - "V(tds): V(clear)."
    type: str
    choices: [clear, keep]
  dead_letter_table:
    description: A separate dead-letter table in O(schema), counted and subject to O(dead_letter_retention_days).
    type: str
  dead_letter_created_column:
    description: ["When a row entered O(dead_letter_table).", "V(tds): V(created_at)."]
    type: str
  worker_heartbeat:
    description:
      - For a queue whose workers beat in a table of their own. A row in processing is stuck when the
        worker its O(worker_heartbeat.job_column) names is gone (NULL, or no such row) or has not beaten
        for O(rescue_stuck_after_minutes). An empty mapping for none.
      - "V(tds): none."
    type: dict
    suboptions:
      table:
        description: The workers' table, in O(schema).
        type: str
      id_column:
        description: Its key column.
        type: str
      heartbeat_column:
        description: Its column of the last heartbeat.
        type: str
      job_column:
        description: The column of O(table) naming the worker that holds the row.
        type: str
  event_times:
    description:
      - For a queue that keeps a row's times as events in a table of their own, one row per change. A
        row's age for O(retention) is then its latest event's, when O(completed_at_column) is empty. An
        empty mapping for none.
      - "V(tds): none."
    type: dict
    suboptions:
      table:
        description: The events' table, in O(schema).
        type: str
      job_column:
        description: Its column naming the row of O(table) (the one column of O(id_column)).
        type: str
      time_column:
        description: Its column of when the event happened.
        type: str
  retention:
    description: Rows to delete, per terminal state.
    type: list
    elements: dict
    default: []
    suboptions:
      state:
        description: A key of O(states), one of O(terminal_states).
        type: str
        required: true
      older_than_days:
        description: Age in days (fractions allowed) beyond which rows go.
        type: float
        required: true
      column:
        description: The timestamp the age is measured from.
        type: str
  dead_letter_retention_days:
    description: Delete rows of O(dead_letter_table) older than this many days.
    type: float
  rescue_stuck_after_minutes:
    description: Rows in processing longer than this are stuck. Unset means no rescue.
    type: float
  max_attempts:
    description: >-
      A stuck row with this many attempts goes to dead letter instead of back to pending, with its
      O(completed_at_column) set when it has none.
    type: int
    default: 5
  batch_size:
    description: Rows of the key per batch.
    type: int
    default: 10000
  batch_pause:
    description: Seconds to sleep between batches.
    type: float
    default: 0
  lock_timeout_ms:
    description: >-
      Per batch, how long to wait for a lock on the table (rows a worker holds are skipped, never waited
      for) before leaving that batch's rows to the next run.
    type: int
    default: 2000
  statement_timeout_ms:
    description: Per batch statement.
    type: int
    default: 30000
  vacuum:
    description: >-
      V(auto) vacuums each table or partition rows were removed from, or whose dead tuples exceed
      O(vacuum_dead_tuples).
    type: str
    choices: [auto, always, never]
    default: auto
  vacuum_dead_tuples:
    description: Dead tuples in a table or partition above which V(auto) vacuums it even when nothing was removed.
    type: int
    default: 10000
"""

EXAMPLES = r"""
- name: TDS Core runbook - purge, rescue, dead letters, vacuum
  steadyops.stack.queue_purge:
    login_db: tds
    login_user: tds_maint
    table: tds_sync_queue
    login_password: "{{ vault_tds_maint_password }}"
    retention:
      - {state: completed, older_than_days: 30}
      - {state: dead_letter, older_than_days: 90}
    dead_letter_table: tds_sync_dead_letter
    dead_letter_retention_days: 180
    rescue_stuck_after_minutes: 60
    max_attempts: 5

- name: River's job table - completed jobs older than a week, stuck jobs back to retryable
  steadyops.stack.queue_purge:
    login_db: app
    table: river_job
    status_column: state
    states: {pending: available, processing: running, retry: retryable, completed: completed, dead_letter: discarded}
    # River's other states: counted, never touched.
    ignored_states: [cancelled, pending, scheduled]
    queued_at_column: created_at
    started_at_column: attempted_at
    completed_at_column: finalized_at
    attempts_column: attempt
    attempt_limit_column: max_attempts
    heartbeat_column: ""
    rescue_to: retry
    rescue_schedule_column: scheduled_at
    rescue_started_at: keep
    rescue_stuck_after_minutes: 60
    retention:
      - {state: completed, older_than_days: 7}

- name: pg-boss's jobs - completed ones after 14 days, jobs of dead workers retried by pg-boss's own rules
  steadyops.stack.queue_purge:
    login_db: app
    profile: pg-boss
    schema: pgboss
    table: job
    retention:
      - {state: completed, older_than_days: 14}
    rescue_stuck_after_minutes: 10

- name: procrastinate's jobs - succeeded ones after 30 days, stalled ones retried (their tasks retry 3 times)
  steadyops.stack.queue_purge:
    login_db: app
    profile: procrastinate
    table: procrastinate_jobs
    retention:
      - {state: completed, older_than_days: 30}
    rescue_stuck_after_minutes: 5
    max_attempts: 4
"""

RETURN = r"""
lock:
  description: V(acquired), or V(busy) when another purge held the table's advisory lock (nothing was done).
  returned: always
  type: str
deleted:
  description: Rows deleted (or that would be, in check mode) per action.
  returned: always
  type: dict
  sample: {"delete completed older than 30.0 days": 1000000}
rescued:
  description: Rows reset (or that would be) per action.
  returned: always
  type: dict
left_to_queue:
  description: >-
    Stuck rows out of attempts that were left for the queue's own expiry, because it dead-letters them into
    the queue O(dead_letter_route_column) names; 0 without that column.
  returned: always
  type: int
states_before:
  description: Rows per state value of the table (its own names, C(NULL) for a NULL status) before.
  returned: always
  type: dict
  sample: {completed: 1000000, pending: 100000}
states_after:
  description: Rows per state value after (in check mode, as they would be).
  returned: always
  type: dict
state_names:
  description: The table's value for each state of O(states), to read RV(states_before) by role.
  returned: always
  type: dict
  sample: {pending: available, processing: running, completed: completed, dead_letter: discarded, retry: retryable}
dead_letters_before:
  description: Rows in O(dead_letter_table) before, when one is given.
  returned: always
  type: int
dead_letters_after:
  description: Rows in O(dead_letter_table) after.
  returned: always
  type: int
vacuumed:
  description: Whether VACUUM (ANALYZE) ran (or would run).
  returned: always
  type: bool
vacuumed_tables:
  description: The tables or partitions VACUUM (ANALYZE) ran on (or would), schema-qualified.
  returned: always
  type: list
  elements: str
batches:
  description: >-
    Number of batches, lock timeouts (batches left for the next run), delete batches run again skipping rows
    another transaction held, and the slowest and p99 batch seconds.
  returned: always
  type: dict
elapsed:
  description: Seconds the module took.
  returned: always
  type: float
"""

import re
import time

from ansible.module_utils.basic import AnsibleModule, missing_required_lib

from ansible_collections.steadyops.stack.plugins.module_utils import _pg_connect, _pg_queue, _queue_profiles


class PartialFailure(Exception):
    """A failure during the batches; RESULT holds what the committed ones changed."""

    def __init__(self, error, result):
        super(PartialFailure, self).__init__(str(error).strip())
        self.result = result


def percentile(samples, fraction):
    if not samples:
        return 0.0
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


class QueuePurge(object):
    def __init__(self, module, from_profile=()):
        self.module = module
        self.params = module.params
        self.mapping = _pg_queue.Mapping(self.params)
        # A column the table lacks is named with the option of the profile it came from.
        self.mapping.hint = lambda columns: _queue_profiles.origin_hint(self.params, from_profile, columns)

    def connect(self, autocommit=True):
        # The session's TimeZone, from its start (a SET would be undone by the rolled-back batches of
        # check mode): naive columns read and written in the zone the queue writes them in.
        params = dict(self.params)
        connect_params = dict(params.get("connect_params") or {})
        zone = "-c TimeZone=%s" % params["naive_time_zone"]
        connect_params["options"] = ("%s %s" % (connect_params.get("options", ""), zone)).strip()
        params["connect_params"] = connect_params
        return _pg_connect.connect(params, autocommit=autocommit)

    def actions(self):
        mapping, params = self.mapping, self.params
        deletes = [
            _pg_queue.retention_action(mapping, r["state"], r["older_than_days"], r["column"] or mapping.completed_at)
            for r in params["retention"]
        ]
        if params["dead_letter_retention_days"] is not None:
            deletes.append(_pg_queue.dead_letter_retention_action(mapping, params["dead_letter_retention_days"]))
        rescues = []
        if params["rescue_stuck_after_minutes"] is not None:
            rescues = _pg_queue.rescue_actions(
                mapping, params["rescue_stuck_after_minutes"] * 60, params["max_attempts"]
            )
        return deletes, rescues

    def run(self):
        started = time.time()
        result = {
            "changed": False,
            "lock": "acquired",
            "deleted": {},
            "rescued": {},
            "left_to_queue": 0,
            "state_names": dict(self.mapping.states),
            "vacuumed": False,
            "vacuumed_tables": [],
            "batches": {
                "count": 0,
                "lock_timeouts": 0,
                "rerun_skipping_held": 0,
                "max_seconds": 0.0,
                "p99_seconds": 0.0,
            },
        }
        with self.connect() as conn:
            _pg_queue.check_mapping(conn, self.mapping, [r["column"] for r in self.params["retention"] if r["column"]])
            if not _pg_queue.try_lock(conn, self.mapping):
                self.module.warn(
                    "Another queue_purge holds the lock on %s.%s; nothing was done this time."
                    % (self.mapping.schema, self.mapping.table)
                )
                # Every field documented as always returned, read-only: the counts as they are.
                states = _pg_queue.state_counts(conn, self.mapping)
                dead_letters = _pg_queue.dead_letter_count(conn, self.mapping)
                result.update(
                    lock="busy",
                    states_before=states,
                    states_after=states,
                    dead_letters_before=dead_letters,
                    dead_letters_after=dead_letters,
                    elapsed=round(time.time() - started, 3),
                )
                return result
            try:
                self.work(conn, result)
            except (_pg_queue.QueueError, _pg_connect.psycopg.Error) as exc:
                # After the batches (counting dead letters left to the queue, VACUUM, the states after):
                # what they committed is in result already, and must reach the caller with the error.
                committed = any(result["deleted"].values()) or any(result["rescued"].values())
                if committed:
                    raise PartialFailure(exc, result) from None
                raise
            finally:
                _pg_queue.unlock(conn, self.mapping)
        result["elapsed"] = round(time.time() - started, 3)
        return result

    def work(self, conn, result):
        mapping, params, check = self.mapping, self.params, self.module.check_mode
        result["states_before"] = _pg_queue.state_counts(conn, mapping)
        result["dead_letters_before"] = _pg_queue.dead_letter_count(conn, mapping)
        _pg_queue.check_states(mapping, result["states_before"])
        deletes, rescues = self.actions()
        # Check mode runs the very batches an apply would, each rolled back.
        runner = _pg_queue.BatchRunner(
            conn,
            params["batch_size"],
            params["batch_pause"],
            params["lock_timeout_ms"],
            params["statement_timeout_ms"],
            dry=check,
        )
        counted = []
        # Rescue first: a stuck row that turns dead letter is not deleted in the same run.
        for action in rescues + deletes:
            try:
                count = runner.run(action)
            except (_pg_queue.QueueError, _pg_connect.psycopg.Error) as exc:
                # Batches commit one by one: say what earlier ones already changed.
                for done in rescues + deletes:
                    if runner.committed.get(done.name):
                        result[done.kind][done.name] = runner.committed[done.name]
                raise PartialFailure(exc, result) from None
            counted.append((action, count))
            result[action.kind][action.name] = count
        if rescues:
            result["left_to_queue"] = _pg_queue.left_to_queue(
                conn, mapping, params["rescue_stuck_after_minutes"] * 60, params["max_attempts"]
            )
        if result["left_to_queue"]:
            self.module.warn(
                "%d stuck row(s) out of attempts are left in %s: the queue dead-letters them itself (%s), when its "
                "own expiry runs." % (result["left_to_queue"], mapping.states["processing"], mapping.dead_letter_route)
            )
        plan = _pg_queue.vacuum_plan(conn, mapping, runner.removed, params["vacuum"], params["vacuum_dead_tuples"])
        if plan and not check:
            _pg_queue.vacuum(conn, plan)
        result["vacuumed"] = bool(plan)
        result["vacuumed_tables"] = ["%s.%s" % leaf for leaf in plan]
        touched = sum(result["deleted"].values()) + sum(result["rescued"].values())
        result["changed"] = bool(touched or plan)
        if check:
            result["states_after"] = self.predicted_states(result["states_before"], counted)
            result["dead_letters_after"] = result["dead_letters_before"]
            if result["dead_letters_after"] is not None:
                result["dead_letters_after"] -= sum(
                    count for action, count in counted if action.key is mapping.dead_letter_key
                )
        else:
            result["states_after"] = _pg_queue.state_counts(conn, mapping)
            result["dead_letters_after"] = _pg_queue.dead_letter_count(conn, mapping)
        result["batches"] = {
            "count": len(runner.batch_seconds),
            "lock_timeouts": runner.lock_timeouts,
            "rerun_skipping_held": runner.rerun_skipping_held,
            "max_seconds": round(max(runner.batch_seconds or [0.0]), 4),
            "p99_seconds": round(percentile(runner.batch_seconds, 0.99), 4),
        }
        result["diff"] = {"before": {"states": result["states_before"]}, "after": {"states": result["states_after"]}}

    @staticmethod
    def predicted_states(before, counted):
        """State values after the actions, from the counts check mode found: (action, count) pairs."""
        states = dict(before)
        for action, count in counted:
            if action.source is not None:
                states[action.source] = states.get(action.source, 0) - count
            if action.target is not None:
                states[action.target] = states.get(action.target, 0) + count
        return dict((k, v) for k, v in states.items() if v)


def validate(module):
    params = module.params
    filled = _queue_profiles.resolve(params)
    states = params["states"]
    required_states = [k for k in _pg_queue.STATE_KEYS if k not in _pg_queue.OPTIONAL_STATE_KEYS]
    missing = [k for k in required_states if k not in states]
    unknown = sorted(k for k in states if k not in _pg_queue.STATE_KEYS)
    if missing or unknown:
        wrong = "needs a value for %s" % ", ".join(missing) if missing else "has unknown key(s) %s" % ", ".join(unknown)
        module.fail_json(
            msg="states %s; it maps each of %s (and retry, if the queue has a state for it) to the value in %s."
            % (wrong, ", ".join(required_states), params["status_column"])
        )
    # A status column of numbers is matched by the number's text; anything else cannot be a stored state.
    bad_values = sorted(k for k, v in states.items() if isinstance(v, bool) or not isinstance(v, (str, int)) or v == "")
    if bad_values:
        module.fail_json(
            msg="states %s: each state's value is the text or number stored in %s, for example pending: available."
            % (", ".join(bad_values), params["status_column"])
        )
    states = params["states"] = dict((k, str(v)) for k, v in states.items())
    # One stored value is one state: two states on one value would make rows of one the other's
    # (graphile-worker's running and failed jobs on one expression: live and retryable rows deleted).
    by_value = {}
    for key in sorted(states):
        by_value.setdefault(states[key], []).append(key)
    shared = dict((value, keys) for value, keys in by_value.items() if len(keys) > 1)
    if shared:
        module.fail_json(
            msg="states maps %s to the same value in %s; a value belongs to one state only, or rows of one "
            "would be taken for the other (a live or retryable row deleted as finished). Nothing was changed."
            % (
                "; ".join(
                    "%s and %s to %r" % (", ".join(keys[:-1]), keys[-1], value) for value, keys in shared.items()
                ),
                params["status_column"],
            )
        )
    if not re.match(r"^[A-Za-z0-9_+:./-]+$", params["naive_time_zone"] or ""):
        module.fail_json(
            msg="naive_time_zone %r: give the name of a time zone, such as UTC or Europe/Berlin."
            % params["naive_time_zone"]
        )
    both = sorted(set(params["ignored_states"]) & set(states.values()))
    if both:
        module.fail_json(
            msg="ignored_states lists %s, which states maps too; a value is either mapped or ignored." % ", ".join(both)
        )
    if not params["id_column"] or len(set(params["id_column"])) != len(params["id_column"]):
        module.fail_json(msg="id_column %s: name the distinct columns of a unique key." % params["id_column"])
    if params["rescue_to"] not in states or params["rescue_to"] in ["processing", *params["terminal_states"]]:
        module.fail_json(
            msg="rescue_to is %r; it names the state of states a stuck row goes back to, neither processing nor "
            "one of terminal_states (%s)." % (params["rescue_to"], ", ".join(params["terminal_states"]))
        )
    unknown_terminal = [s for s in params["terminal_states"] if s not in states]
    if unknown_terminal:
        module.fail_json(
            msg="terminal_states %s are not keys of states (%s)."
            % (", ".join(unknown_terminal), ", ".join(sorted(states)))
        )
    for entry in params["retention"]:
        if entry["state"] not in params["terminal_states"]:
            module.fail_json(
                msg="retention for state %r refused: only terminal states (%s) are ever deleted."
                % (entry["state"], ", ".join(params["terminal_states"]))
            )
        if entry["older_than_days"] < 0:
            module.fail_json(
                msg="retention for %s: older_than_days is %s; an age is 0 or more days."
                % (entry["state"], entry["older_than_days"])
            )
    for name in ("dead_letter_retention_days", "rescue_stuck_after_minutes", "batch_pause"):
        if params[name] is not None and params[name] < 0:
            module.fail_json(msg="%s is %s; it must be 0 or more." % (name, params[name]))
    if params["dead_letter_retention_days"] is not None and not params["dead_letter_table"]:
        module.fail_json(msg="dead_letter_retention_days needs dead_letter_table: name the dead-letter table.")
    if params["dead_letter_table"] and not params["dead_letter_created_column"]:
        module.fail_json(msg="dead_letter_table needs dead_letter_created_column: when a row entered it.")
    validate_times(module)
    for name in ("batch_size", "lock_timeout_ms", "statement_timeout_ms", "max_attempts"):
        if params[name] < 1:
            module.fail_json(msg="%s is %s; it must be at least 1." % (name, params[name]))
    return filled


def validate_times(module):
    """Every age the task asks for can be measured, and rescue can tell a stuck row from a live one."""
    params = module.params
    for option in ("worker_heartbeat", "event_times"):
        unset = sorted(name for name, value in (params[option] or {}).items() if not value)
        if unset:
            module.fail_json(
                msg="%s needs %s too (it has %s); an empty mapping for none."
                % (option, ", ".join(unset), ", ".join(sorted(set(params[option]) - set(unset))))
            )
        if params[option] and len(params["id_column"]) != 1:
            module.fail_json(
                msg="%s links rows by one key column; id_column is %s. Set %s to an empty mapping for none."
                % (option, ", ".join(params["id_column"]), option)
            )
    for entry in params["retention"]:
        if not (entry["column"] or params["completed_at_column"] or params["event_times"]):
            module.fail_json(
                msg="retention for %s cannot age rows: set its column, or completed_at_column, or event_times."
                % entry["state"]
            )
    if params["run_timeout_column"] and not params["started_at_column"]:
        module.fail_json(
            msg="run_timeout_column %s limits a run from its start: set started_at_column, or run_timeout_column "
            "to an empty string for none." % params["run_timeout_column"]
        )
    stuck_rules = ("started_at_column", "heartbeat_column", "worker_heartbeat")
    if params["rescue_stuck_after_minutes"] is not None and not any(params[rule] for rule in stuck_rules):
        module.fail_json(
            msg="rescue_stuck_after_minutes needs a way to tell a stuck row: set %s." % ", or ".join(stuck_rules)
        )


def related_table_spec(*names):
    """A mapping of a related table: text suboptions, none required, since an empty mapping turns a
    profile's off (validate_times checks that a given one is whole)."""
    return dict(type="dict", options=dict((name, dict(type="str")) for name in names))


def build_module():
    return AnsibleModule(
        argument_spec=dict(
            schema=dict(type="str", default="public"),
            table=dict(type="str", required=True),
            profile=dict(type="str", default="tds", choices=sorted(_queue_profiles.PROFILES)),
            # Mapping options: no defaults here; unset ones come from the profile (resolve()).
            id_column=dict(type="list", elements="str"),
            status_column=dict(type="str"),
            states=dict(type="dict"),
            ignored_states=dict(type="list", elements="str"),
            terminal_states=dict(type="list", elements="str"),
            queued_at_column=dict(type="str"),
            started_at_column=dict(type="str"),
            completed_at_column=dict(type="str"),
            attempts_column=dict(type="str"),
            attempt_limit_column=dict(type="str"),
            run_timeout_column=dict(type="str"),
            naive_time_zone=dict(type="str"),
            dead_letter_route_column=dict(type="str"),
            heartbeat_column=dict(type="str"),
            rescue_to=dict(type="str"),
            rescue_schedule_column=dict(type="str"),
            rescue_attempts=dict(type="str", choices=["keep", "increment"]),
            rescue_started_at=dict(type="str", choices=["clear", "keep"]),
            dead_letter_table=dict(type="str"),
            dead_letter_created_column=dict(type="str"),
            worker_heartbeat=related_table_spec("table", "id_column", "heartbeat_column", "job_column"),
            event_times=related_table_spec("table", "job_column", "time_column"),
            retention=dict(
                type="list",
                elements="dict",
                default=[],
                options=dict(
                    state=dict(type="str", required=True),
                    older_than_days=dict(type="float", required=True),
                    column=dict(type="str"),
                ),
            ),
            dead_letter_retention_days=dict(type="float"),
            rescue_stuck_after_minutes=dict(type="float"),
            max_attempts=dict(type="int", default=5),
            batch_size=dict(type="int", default=10000),
            batch_pause=dict(type="float", default=0),
            lock_timeout_ms=dict(type="int", default=2000),
            statement_timeout_ms=dict(type="int", default=30000),
            vacuum=dict(type="str", default="auto", choices=["auto", "always", "never"]),
            vacuum_dead_tuples=dict(type="int", default=10000),
            **_pg_connect.argument_spec(),
        ),
        supports_check_mode=True,
    )


def what_to_do(error):
    """What a batch's error asks of the user, for the errors every later run would meet at the same batch."""
    errors = _pg_connect.psycopg.errors
    if isinstance(error, errors.ForeignKeyViolation):
        return (
            ". Rows another table still references through constraint %s (on %s) cannot be deleted: every run stops"
            " at this batch until they are removed there, or the constraint deletes with them (ON DELETE CASCADE or"
            " SET NULL)" % (error.diag.constraint_name, error.diag.table_name)
        )
    if isinstance(error, errors.InsufficientPrivilege):
        return ". The role the module logs in as needs DELETE and UPDATE on the queue's tables (login_user)"
    if isinstance(error, errors.GeneratedAlways):
        return ". A rescue writes a column PostgreSQL generates: map that state's columns to ones the queue writes"
    return ""


def main():
    module = build_module()
    if not _pg_connect.HAS_PSYCOPG:
        module.fail_json(msg=missing_required_lib("psycopg"), exception=str(_pg_connect.PSYCOPG_IMPORT_ERROR))
    from_profile = validate(module)
    try:
        module.exit_json(**QueuePurge(module, from_profile).run())
    except PartialFailure as exc:
        done = sum(exc.result["deleted"].values()) + sum(exc.result["rescued"].values())
        why = "%s%s" % (exc, what_to_do(exc.__cause__ or exc.__context__))
        if module.check_mode:
            # The apply would commit the batches before the failing one, and stop there.
            exc.result.update(changed=bool(done))
            module.fail_json(
                msg="queue_purge would fail %s: %s. Check mode ran each batch and rolled it back; nothing was changed."
                % (
                    "after %d row(s) were changed (deleted and rescued say which)" % done
                    if done
                    else "before any row changed",
                    why,
                ),
                **exc.result,
            )
        if done:
            exc.result.update(changed=True)
            module.fail_json(
                msg="queue_purge failed after %d row(s) were already changed (each batch commits on its own; "
                "deleted and rescued say which): %s" % (done, why),
                **exc.result,
            )
        module.fail_json(msg="queue_purge failed before any row changed: %s. Nothing was changed." % why, **exc.result)
    except _pg_queue.QueueError as exc:
        module.fail_json(msg=str(exc) + ". Nothing was changed.")
    except _pg_connect.psycopg.Error as exc:
        module.fail_json(msg="PostgreSQL error on %s: %s" % (_pg_connect.describe(module.params), str(exc).strip()))


if __name__ == "__main__":
    main()
