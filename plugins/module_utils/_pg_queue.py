# -*- coding: utf-8 -*-
# Copyright: (c) 2026, steadyops engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

"""Maintenance of a PostgreSQL job queue: retention, rescue of stuck jobs, counts, VACUUM.

Every identifier is composed with psycopg's `sql` module. Deletes and
updates run in short batches, each its own transaction with its own
lock_timeout and statement_timeout, walking a unique key of the table (any
type PostgreSQL orders, composite keys too: _pg_keyset): each batch reads only
its own slice of the key's index, so later batches do not wade through the
dead entries of earlier ones, and a worker that shares the table waits at
most one batch. Every batch locks its rows with FOR UPDATE SKIP LOCKED and
re-checks the row filter on the rows it changes: a row a live worker holds is
never touched and never costs a lock wait, and check mode, which runs the
same batches and rolls them back, counts exactly what an apply would change.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import time

from ansible_collections.steadyops.stack.plugins.module_utils import _pg_keyset

try:
    from psycopg import errors, sql
except ImportError:  # reported with missing_required_lib by the module
    errors = sql = None

STATE_KEYS = ("pending", "processing", "retry", "completed", "dead_letter")
# A queue may have no state of its own for retries (it schedules them back to pending).
OPTIONAL_STATE_KEYS = ("retry",)
ADVISORY_NAMESPACE = "steadyops.queue_purge:"
# How a NULL in the status column is counted and named in ignored_states.
NULL_STATE = "NULL"


class QueueError(ValueError):
    """A mapping or input that does not fit the database; the message says what exists instead."""


class Mapping(object):
    """Where the queue lives and what its columns and states are called: PARAMS after _queue_profiles.resolve."""

    def __init__(self, params):
        self.schema = params["schema"]
        self.table = params["table"]
        self.key_columns = list(params["id_column"])
        self.status = params["status_column"]
        self.states = dict(params["states"])
        self.ignored_states = list(params["ignored_states"])
        self.queued_at = params["queued_at_column"]
        self.started_at = params["started_at_column"]
        self.completed_at = params["completed_at_column"]
        self.attempts = params["attempts_column"]
        self.heartbeat = params["heartbeat_column"]
        self.attempt_limit = params["attempt_limit_column"]
        self.run_timeout = params["run_timeout_column"]
        self.dead_letter_route = params["dead_letter_route_column"]
        self.rescue_to = params["rescue_to"]
        self.rescue_schedule = params["rescue_schedule_column"]
        self.rescue_attempts = params["rescue_attempts"]
        self.rescue_started_at = params["rescue_started_at"]
        self.dead_letter_table = params["dead_letter_table"]
        self.dead_letter_created_at = params["dead_letter_created_column"]
        # Tables of the queue beside its jobs: where workers beat, where job times are kept (or None).
        self.workers = params["worker_heartbeat"]
        self.events = params["event_times"]
        # Says where a column the table lacks came from (the profile), for the message; set by the module.
        self.hint = lambda columns: ""
        # The walks, set by check_mapping once the keys are known to be unique.
        self.key = None
        self.dead_letter_key = None

    @property
    def qualified(self):
        return sql.Identifier(self.schema, self.table)

    @property
    def dead_letter_qualified(self):
        return sql.Identifier(self.schema, self.dead_letter_table)

    def column(self, name):
        return sql.Identifier(name)

    def required_columns(self):
        optional = [self.queued_at, self.started_at, self.completed_at, self.heartbeat, self.attempt_limit]
        optional += [self.run_timeout, self.dead_letter_route]
        optional += [self.rescue_schedule, self.workers and self.workers["job_column"]]
        return [*self.key_columns, self.status, self.attempts] + [c for c in optional if c]

    def row_column(self, name):
        """A column of the queue row, qualified: it stays the row's inside a subquery over another table."""
        return sql.Identifier(self.schema, self.table, name)

    def finished_at(self, column=None):
        """When a row reached its state: COLUMN, else completed_at_column, else its latest event's time."""
        column = column or self.completed_at
        if column:
            return self.column(column)
        events = self.events
        return sql.SQL("(SELECT max(e.{at}) FROM {events} AS e WHERE e.{job} = {row_key})").format(
            at=sql.Identifier(events["time_column"]),
            events=sql.Identifier(self.schema, events["table"]),
            job=sql.Identifier(events["job_column"]),
            row_key=self.row_column(self.key_columns[0]),
        )


def table_columns(conn, schema, table):
    rows = conn.execute(
        "SELECT column_name FROM information_schema.columns WHERE table_schema = %s AND table_name = %s "
        "ORDER BY ordinal_position",
        (schema, table),
    ).fetchall()
    return [r[0] for r in rows]


def walk_key(conn, schema, table, columns):
    """The keyset walk over TABLE's unique key COLUMNS; QueueError when they are not one."""
    try:
        return _pg_keyset.unique_key(conn, schema, table, columns)
    except _pg_keyset.NotAUniqueKey as exc:
        raise QueueError(str(exc)) from None


def check_mapping(conn, mapping, extra_columns=()):
    """Fail with what exists when a table, column or key of the mapping (or EXTRA_COLUMNS of the table) does not.

    Run before the first change, so a misspelled column fails a run that has
    done nothing rather than one that has committed batches.
    """
    columns = table_columns(conn, mapping.schema, mapping.table)
    if not columns:
        tables = [
            r[0]
            for r in conn.execute(
                "SELECT table_name FROM information_schema.tables WHERE table_schema = %s ORDER BY 1", (mapping.schema,)
            ).fetchall()
        ]
        raise QueueError(
            "table %s.%s does not exist; tables in schema %s: %s"
            % (mapping.schema, mapping.table, mapping.schema, ", ".join(tables) or "none")
        )
    missing = [c for c in list(mapping.required_columns()) + list(extra_columns) if c not in columns]
    if missing:
        raise QueueError(
            "table %s.%s has no column(s) %s%s; its columns are: %s"
            % (mapping.schema, mapping.table, ", ".join(missing), mapping.hint(missing), ", ".join(columns))
        )
    mapping.key = walk_key(conn, mapping.schema, mapping.table, mapping.key_columns)
    if mapping.dead_letter_table:
        dl_columns = table_columns(conn, mapping.schema, mapping.dead_letter_table)
        if not dl_columns:
            raise QueueError("dead_letter_table %s.%s does not exist" % (mapping.schema, mapping.dead_letter_table))
        for needed in [*mapping.key_columns, mapping.dead_letter_created_at]:
            if needed not in dl_columns:
                raise QueueError(
                    "dead_letter_table %s.%s has no column %s; its columns are: %s"
                    % (mapping.schema, mapping.dead_letter_table, needed, ", ".join(dl_columns))
                )
        mapping.dead_letter_key = walk_key(conn, mapping.schema, mapping.dead_letter_table, mapping.key_columns)
    for option, table, needed in related_tables(mapping):
        found = table_columns(conn, mapping.schema, table)
        if not found:
            raise QueueError("%s: table %s.%s does not exist" % (option, mapping.schema, table))
        missing = [c for c in needed if c not in found]
        if missing:
            raise QueueError(
                "%s: table %s.%s has no column(s) %s; its columns are: %s"
                % (option, mapping.schema, table, ", ".join(missing), ", ".join(found))
            )


def related_tables(mapping):
    """[(option, table, columns it must have)] of the worker and event tables the mapping names."""
    related = []
    if mapping.workers:
        workers = mapping.workers
        related.append(("worker_heartbeat", workers["table"], [workers["id_column"], workers["heartbeat_column"]]))
    if mapping.events:
        events = mapping.events
        related.append(("event_times", events["table"], [events["job_column"], events["time_column"]]))
    return related


def check_states(mapping, counts):
    """Refuse a table holding state values the mapping neither maps nor ignores (COUNTS: value -> rows).

    Counted under a name of the module's own, such a value would be mistaken
    for one of its states, and rows in it would go missing from the counts.
    """
    known = {str(v) for v in mapping.states.values()} | set(mapping.ignored_states)
    unknown = sorted(value for value in counts if value not in known)
    if unknown:
        raise QueueError(
            "%s.%s holds state value(s) that states does not map: %s. Map each to a state (states: {pending: ..., "
            "processing: ..., retry: ..., completed: ..., dead_letter: ...}) or list it in ignored_states, which "
            "counts it and never touches it"
            % (
                mapping.schema,
                mapping.table,
                ", ".join("%s (%d rows)" % (value, counts[value]) for value in unknown),
            )
        )


# ---------------------------------------------------------------- counts


def state_counts(conn, mapping):
    """Rows per state, under the table's own state values."""
    rows = conn.execute(
        sql.SQL("SELECT {status}, count(*) FROM {table} GROUP BY 1").format(
            status=mapping.column(mapping.status), table=mapping.qualified
        )
    ).fetchall()
    return dict((NULL_STATE if value is None else str(value), count) for value, count in rows)


def dead_letter_count(conn, mapping):
    if not mapping.dead_letter_table:
        return None
    return conn.execute(sql.SQL("SELECT count(*) FROM {}").format(mapping.dead_letter_qualified)).fetchone()[0]


# Every leaf of a table (the table itself when it is not partitioned), with its dead tuples:
# a partitioned parent's own statistics are always empty.
LEAVES = """
WITH rel AS (SELECT (quote_ident(%s) || '.' || quote_ident(%s))::regclass AS oid),
members AS (
    SELECT oid AS relid FROM rel
    UNION SELECT relid FROM pg_partition_tree((SELECT oid FROM rel)) WHERE isleaf
)
SELECT c.oid, n.nspname, c.relname, coalesce(s.n_dead_tup, 0)
FROM members m
JOIN pg_class c ON c.oid = m.relid
JOIN pg_namespace n ON n.oid = c.relnamespace
LEFT JOIN pg_stat_user_tables s ON s.relid = c.oid
WHERE c.relkind = 'r'
ORDER BY 2, 3
"""


def leaves(conn, schema, table):
    """[(oid, schema, name, dead tuples)] of TABLE's leaves."""
    return conn.execute(LEAVES, (schema, table)).fetchall()


# ---------------------------------------------------------------- locking


def try_lock(conn, mapping):
    """A session advisory lock per queue table, so two purges never run at once."""
    key = ADVISORY_NAMESPACE + mapping.schema + "." + mapping.table
    return conn.execute("SELECT pg_try_advisory_lock(hashtext(%s))", (key,)).fetchone()[0]


def unlock(conn, mapping):
    """Release the purge's advisory lock; on a connection the server ended, nothing is left to release.

    A session lock ends with its session, so a failed unlock on a broken
    connection is no failure of its own, and must never replace the error that
    ended the purge (the one that carries what the committed batches changed).
    """
    if conn.closed or conn.broken:
        return
    key = ADVISORY_NAMESPACE + mapping.schema + "." + mapping.table
    try:
        conn.execute("SELECT pg_advisory_unlock(hashtext(%s))", (key,))
    except errors.Error:
        if not conn.broken:
            raise


# ---------------------------------------------------------------- the work


class Action(object):
    """One batched operation: a predicate over rows, and what to do to the matching ones."""

    def __init__(self, name, key, where, args, change=None, source=None, target=None):
        self.name = name
        self.key = key  # the _pg_keyset.Key of the table it works on
        self.where = where  # sql.Composed over the row's columns
        self.args = args
        self.change = change  # sql.Composed SET clause for updates; None deletes
        self.source = source  # the state value rows leave (None for the dead-letter table)
        self.target = target  # the state value rows enter (updates only)

    @property
    def kind(self):
        return "deleted" if self.change is None else "rescued"


def retention_action(mapping, state, days, column):
    where = sql.SQL("{status} = %(state)s AND {finished} < now() - make_interval(secs => %(age)s)").format(
        status=mapping.column(mapping.status), finished=mapping.finished_at(column)
    )
    return Action(
        "delete %s older than %s days" % (state, days),
        mapping.key,
        where,
        {"state": mapping.states[state], "age": days * 86400.0},
        source=mapping.states[state],
    )


def dead_letter_retention_action(mapping, days):
    where = sql.SQL("{column} < now() - make_interval(secs => %(age)s)").format(
        column=mapping.column(mapping.dead_letter_created_at)
    )
    return Action(
        "delete dead letters older than %s days" % days,
        mapping.dead_letter_key,
        where,
        {"age": days * 86400.0},
    )


def stuck_rows(mapping, stuck_seconds, max_attempts):
    """(stale, spent, args): which rows in processing are stuck, which of those are out of attempts.

    Stuck means: started longer ago than STUCK_SECONDS, and beyond the row's own
    run timeout when the queue keeps one (a queue that lets a job run an hour
    counts it as running for that hour), and no heartbeat within STUCK_SECONDS,
    whether the row's own or its worker's.
    """
    col = mapping.column
    stale = sql.SQL("{} = %(processing)s").format(col(mapping.status))
    if mapping.started_at:
        stale += sql.SQL(" AND {} < now() - make_interval(secs => %(stuck)s)").format(col(mapping.started_at))
    if mapping.run_timeout:
        stale += sql.SQL(" AND {started} < now() - make_interval(secs => {timeout})").format(
            started=col(mapping.started_at), timeout=col(mapping.run_timeout)
        )
    if mapping.heartbeat:
        # A worker that still beats is alive, however long the job takes.
        stale += sql.SQL(" AND ({hb} IS NULL OR {hb} < now() - make_interval(secs => %(stuck)s))").format(
            hb=col(mapping.heartbeat)
        )
    if mapping.workers:
        # The worker beats in a table of its own: its job is stuck when it is gone or has stopped beating.
        workers = mapping.workers
        stale += sql.SQL(
            " AND NOT EXISTS (SELECT 1 FROM {workers} AS w WHERE w.{id} = {job_worker}"
            " AND w.{hb} >= now() - make_interval(secs => %(stuck)s))"
        ).format(
            workers=sql.Identifier(mapping.schema, workers["table"]),
            id=sql.Identifier(workers["id_column"]),
            job_worker=mapping.row_column(workers["job_column"]),
            hb=sql.Identifier(workers["heartbeat_column"]),
        )
    # The count the limit is checked against: after this crash, for a queue that counts attempts as they end.
    bump = 1 if mapping.rescue_attempts == "increment" else 0
    limit = sql.SQL("%(max)s")
    if mapping.attempt_limit:
        limit = sql.SQL("coalesce({}, %(max)s)").format(col(mapping.attempt_limit))
    spent = sql.SQL("{attempts} + %(bump)s >= {limit}").format(attempts=col(mapping.attempts), limit=limit)
    args = {
        "processing": mapping.states["processing"],
        "stuck": float(stuck_seconds),
        "max": max_attempts,
        "bump": bump,
    }
    return stale, spent, args


def routed_dead_letters(mapping):
    """Rows the queue dead-letters itself (a copy into another queue): queue_purge leaves them to it."""
    return sql.SQL("{} IS NOT NULL").format(mapping.column(mapping.dead_letter_route))


def rescue_actions(mapping, stuck_seconds, max_attempts):
    """Stuck rows back to the mapping's rescue state, or to dead letter once their attempts are used up.

    What a rescue does to a row follows the queue's own rules, as the mapping
    states them: its attempt count kept or incremented, its started time
    cleared or kept, its run-at time set to now, its own attempt limit.
    """
    col = mapping.column
    status = col(mapping.status)
    stale, spent, args = stuck_rows(mapping, stuck_seconds, max_attempts)
    common = []
    if args["bump"]:
        common.append(sql.SQL("{a} = {a} + 1").format(a=col(mapping.attempts)))
    retry = [sql.SQL("{} = %(target)s").format(status), *common]
    if mapping.rescue_started_at == "clear" and mapping.started_at:
        retry.append(sql.SQL("{} = NULL").format(col(mapping.started_at)))
    if mapping.heartbeat:
        retry.append(sql.SQL("{} = NULL").format(col(mapping.heartbeat)))
    if mapping.rescue_schedule:
        retry.append(sql.SQL("{} = now()").format(col(mapping.rescue_schedule)))
    target = mapping.states[mapping.rescue_to]
    to_retry = Action(
        "rescue stuck rows to %s" % mapping.rescue_to,
        mapping.key,
        stale + sql.SQL(" AND NOT (") + spent + sql.SQL(")"),
        dict(args, target=target),
        change=sql.SQL(", ").join(retry),
        source=mapping.states["processing"],
        target=target,
    )
    # A dead letter is finished: it gets its completion time, so a CHECK that demands one holds,
    # and dead-letter retention, which ages rows by it, reaches it in time. (A queue that keeps
    # times as events records this change itself.)
    dead = [sql.SQL("{} = %(target)s").format(status), *common]
    if mapping.completed_at:
        dead.append(sql.SQL("{c} = coalesce({c}, now())").format(c=col(mapping.completed_at)))
    exhausted = stale + sql.SQL(" AND ") + spent
    if mapping.dead_letter_route:
        exhausted += sql.SQL(" AND NOT ") + routed_dead_letters(mapping)
    to_dead = Action(
        "move stuck rows with exhausted attempts to dead letter",
        mapping.key,
        exhausted,
        dict(args, target=mapping.states["dead_letter"]),
        change=sql.SQL(", ").join(dead),
        source=mapping.states["processing"],
        target=mapping.states["dead_letter"],
    )
    return [to_retry, to_dead]


def left_to_queue(conn, mapping, stuck_seconds, max_attempts):
    """Stuck rows out of attempts whose dead letter the queue routes itself: left for its own expiry."""
    if not mapping.dead_letter_route:
        return 0
    stale, spent, args = stuck_rows(mapping, stuck_seconds, max_attempts)
    where = stale + sql.SQL(" AND ") + spent + sql.SQL(" AND ") + routed_dead_letters(mapping)
    statement = sql.SQL("SELECT count(*) FROM {} WHERE ").format(mapping.qualified) + where
    return conn.execute(statement, args).fetchone()[0]


# How long a plain delete waits on a row another transaction holds before the batch is run again
# skipping held rows: a held row in a terminal state is rare, and locking every row first to skip
# it would write each row twice.
DIRECT_LOCK_TIMEOUT_MS = 100


def batch_statement(action, first, mode):
    """The statement of one batch; on a partitioned table it returns (relation oid, rows) per partition touched.

    MODE "skip_locked": the rows are chosen and locked in the key range (SKIP
    LOCKED: a row a worker holds is left, the rest of the batch goes on), and
    the change re-checks the range and the filter on the rows it finds.
    "direct": a plain delete of the range and filter, for deletes, run first.
    Check mode runs the same statements in transactions the runner rolls back.
    """
    key = action.key
    in_range = key.range_clause(first) + sql.SQL(" AND (") + action.where + sql.SQL(")")

    def chosen(columns):
        return (
            sql.SQL("SELECT {cols} FROM {table} WHERE ").format(cols=columns, table=key.table)
            + in_range
            + sql.SQL(" FOR UPDATE SKIP LOCKED")
        )

    if action.change is None:
        head = sql.SQL("DELETE FROM {table} WHERE ").format(table=key.table)
    else:
        head = sql.SQL("UPDATE {table} SET ").format(table=key.table) + action.change + sql.SQL(" WHERE ")
    if mode == "direct":
        body = head + in_range
    else:
        body = head + in_range + sql.SQL(" AND {row} IN (").format(row=key.row) + chosen(key.order) + sql.SQL(")")
    if not key.partitioned:
        # One relation: the row count says it all, and RETURNING would cost a third of a delete batch.
        return body
    return (
        sql.SQL("WITH done AS (")
        + body
        + sql.SQL(" RETURNING tableoid) SELECT tableoid, count(*) FROM done GROUP BY 1")
    )


class BatchRunner(object):
    """Runs actions batch by batch over consecutive slices of their table's key.

    DRY (check mode) runs each batch's own UPDATE or DELETE and rolls it back:
    a foreign key, a missing privilege or a generated column stops check mode
    at the batch where it stops the apply, and the counts are the apply's. Each
    batch ends its own transaction, so a worker waits on the rows of one batch
    at most, as in an apply.
    """

    def __init__(self, conn, batch_size, pause, lock_timeout_ms, statement_timeout_ms, dry=False):
        self.conn = conn
        self.batch_size = batch_size
        self.pause = pause
        self.dry = dry
        self.batch_seconds = []
        self.lock_timeouts = 0
        # Delete batches that met a held row and were run again skipping held rows.
        self.rerun_skipping_held = 0
        # Rows committed so far (in check mode: would have been), per action: what a failure
        # half-way has already changed.
        self.committed = {}
        # Rows deleted (or that would be) per relation oid: the partitions VACUUM is worth running on.
        self.removed = {}
        # The limits apply to this batch's transaction only (SET LOCAL); validated integers.
        # No nested loops either: after a purge the statistics say a slice holds one row, and a
        # nested-loop semi-join then rescans the locked rows once per row of the slice (seconds to
        # minutes per batch, seen on a uuid key); a hash or merge join is linear in the batch.
        settings = "SET LOCAL lock_timeout = {}; SET LOCAL statement_timeout = {}; SET LOCAL enable_nestloop = off"
        self.settings = dict(
            (mode, sql.SQL(settings).format(sql.Literal("%dms" % wait), sql.Literal("%dms" % statement_timeout_ms)))
            for mode, wait in (
                ("direct", min(DIRECT_LOCK_TIMEOUT_MS, lock_timeout_ms)),
                ("skip_locked", lock_timeout_ms),
            )
        )

    @staticmethod
    def modes(action):
        return ["direct", "skip_locked"] if action.change is None else ["skip_locked"]

    def attempt(self, key, statement, args, mode):
        with self.conn.transaction(force_rollback=self.dry):
            self.conn.execute(self.settings[mode])
            cursor = self.conn.execute(statement, args, prepare=False)
            if not key.partitioned:
                return [(key.oid, cursor.rowcount)]
            return cursor.fetchall()

    def batch(self, action, statements, first, args):
        """(relation, rows) pairs of one batch, trying its modes in turn."""
        for mode in self.modes(action):
            try:
                return self.attempt(action.key, statements[first, mode], args, mode)
            except errors.LockNotAvailable:
                if mode == "direct":
                    # A row here is held: run the batch again, leaving held rows for the next run.
                    self.rerun_skipping_held += 1
                    continue
                # A lock on the table itself (a migration, say): leave this slice to the next run rather than wait.
                self.lock_timeouts += 1
        return []

    def run(self, action):
        # Composed once per walk, not per batch; planned per batch (prepare=False) so the
        # planner sees each slice's bounds rather than a generic plan.
        statements = dict(
            ((first, mode), batch_statement(action, first, mode).as_string(self.conn))
            for first in (True, False)
            for mode in self.modes(action)
        )
        done = 0
        for after, end in action.key.slices(self.conn, self.batch_size):
            args = dict(action.args, **action.key.args("hi", end))
            if after is not None:
                args.update(action.key.args("after", after))
            started = time.perf_counter()
            for relation, count in self.batch(action, statements, after is None, args):
                done += count
                if action.change is None:
                    self.removed[relation] = self.removed.get(relation, 0) + count
            self.committed[action.name] = done
            self.batch_seconds.append(time.perf_counter() - started)
            if self.pause:
                time.sleep(self.pause)
        return done


def vacuum_plan(conn, mapping, removed, mode, dead_tuples):
    """[(schema, name)] of the leaves to VACUUM: those rows were removed from, or with more dead tuples.

    Per leaf, because a partitioned parent reports no dead tuples of its own
    and a purge may touch one partition of many.
    """
    if mode == "never":
        return []
    tables = [mapping.table] + ([mapping.dead_letter_table] if mapping.dead_letter_table else [])
    # Deleting a job deletes its events too (a cascading foreign key, say): their table piles up dead tuples.
    tables += [mapping.events["table"]] if mapping.events else []
    plan = []
    for table in tables:
        for oid, schema, name, dead in leaves(conn, mapping.schema, table):
            if mode == "always" or removed.get(oid) or dead > dead_tuples:
                plan.append((schema, name))
    return plan


def vacuum(conn, plan):
    """VACUUM (ANALYZE) each leaf of PLAN on CONN, which is in autocommit (VACUUM cannot run in a transaction).

    This session's own deletes reach the statistics only when it next flushes
    them; were that after VACUUM, they would count again as dead tuples that
    VACUUM has already removed, and the next run would VACUUM again. So flush
    them first (PostgreSQL 15 and later).
    """
    if conn.info.server_version >= 150000:
        conn.execute("SELECT pg_stat_force_next_flush()")
    for schema, name in plan:
        conn.execute(sql.SQL("VACUUM (ANALYZE) {}").format(sql.Identifier(schema, name)))
