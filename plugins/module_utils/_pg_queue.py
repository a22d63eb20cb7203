# -*- coding: utf-8 -*-
# Copyright: (c) 2026, steadyops engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

"""Maintenance of a PostgreSQL job queue: retention, rescue of stuck jobs, counts, VACUUM.

Every identifier is composed with psycopg's `sql` module. Deletes and
updates run in short batches, each its own transaction with its own
lock_timeout and statement_timeout, walking the primary key in consecutive
ranges: each batch reads only its own slice of the index, so later batches
do not wade through the dead entries of earlier ones, and a worker that
shares the table waits at most one batch. Rescue uses FOR UPDATE SKIP LOCKED:
a row a live worker holds is never reset.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import time

try:
    from psycopg import errors, sql
except ImportError:  # reported with missing_required_lib by the module
    errors = sql = None

STATE_KEYS = ("pending", "processing", "retry", "completed", "dead_letter")
ADVISORY_NAMESPACE = "steadyops.queue_purge:"


class QueueError(ValueError):
    """A mapping or input that does not fit the database; the message says what exists instead."""


class Mapping(object):
    """Where the queue lives and what its columns and states are called."""

    def __init__(self, params):
        self.schema = params["schema"]
        self.table = params["table"]
        self.id = params["id_column"]
        self.status = params["status_column"]
        self.states = dict(params["states"])
        self.queued_at = params["queued_at_column"]
        self.started_at = params["started_at_column"]
        self.completed_at = params["completed_at_column"]
        self.attempts = params["attempts_column"]
        self.heartbeat = params["heartbeat_column"]
        self.dead_letter_table = params["dead_letter_table"]
        self.dead_letter_created_at = params["dead_letter_created_column"]

    @property
    def qualified(self):
        return sql.Identifier(self.schema, self.table)

    def column(self, name):
        return sql.Identifier(name)

    def required_columns(self):
        names = [self.id, self.status, self.queued_at, self.started_at, self.completed_at, self.attempts]
        if self.heartbeat:
            names.append(self.heartbeat)
        return names


def table_columns(conn, schema, table):
    rows = conn.execute(
        "SELECT column_name FROM information_schema.columns WHERE table_schema = %s AND table_name = %s "
        "ORDER BY ordinal_position",
        (schema, table),
    ).fetchall()
    return [r[0] for r in rows]


def check_mapping(conn, mapping, extra_columns=()):
    """Fail with what exists when a table or column of the mapping (or EXTRA_COLUMNS of the table) does not.

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
            "table %s.%s has no column(s) %s; its columns are: %s"
            % (mapping.schema, mapping.table, ", ".join(missing), ", ".join(columns))
        )
    if mapping.dead_letter_table:
        dl_columns = table_columns(conn, mapping.schema, mapping.dead_letter_table)
        if not dl_columns:
            raise QueueError("dead_letter_table %s.%s does not exist" % (mapping.schema, mapping.dead_letter_table))
        for needed in (mapping.id, mapping.dead_letter_created_at):
            if needed not in dl_columns:
                raise QueueError(
                    "dead_letter_table %s.%s has no column %s; its columns are: %s"
                    % (mapping.schema, mapping.dead_letter_table, needed, ", ".join(dl_columns))
                )


# ---------------------------------------------------------------- counts


def state_counts(conn, mapping):
    rows = conn.execute(
        sql.SQL("SELECT {status}, count(*) FROM {table} GROUP BY 1").format(
            status=mapping.column(mapping.status), table=mapping.qualified
        )
    ).fetchall()
    names = dict((value, key) for key, value in mapping.states.items())
    return dict((names.get(value, str(value)), count) for value, count in rows)


def dead_letter_count(conn, mapping):
    if not mapping.dead_letter_table:
        return None
    return conn.execute(
        sql.SQL("SELECT count(*) FROM {}").format(sql.Identifier(mapping.schema, mapping.dead_letter_table))
    ).fetchone()[0]


def dead_tuples(conn, mapping):
    row = conn.execute(
        "SELECT n_dead_tup FROM pg_stat_user_tables WHERE schemaname = %s AND relname = %s",
        (mapping.schema, mapping.table),
    ).fetchone()
    return row[0] if row else 0


# ---------------------------------------------------------------- locking


def try_lock(conn, mapping):
    """A session advisory lock per queue table, so two purges never run at once."""
    key = ADVISORY_NAMESPACE + mapping.schema + "." + mapping.table
    return conn.execute("SELECT pg_try_advisory_lock(hashtext(%s))", (key,)).fetchone()[0]


def unlock(conn, mapping):
    key = ADVISORY_NAMESPACE + mapping.schema + "." + mapping.table
    conn.execute("SELECT pg_advisory_unlock(hashtext(%s))", (key,))


# ---------------------------------------------------------------- the work


class Action(object):
    """One batched operation: a predicate over rows, and what to do to the matching ones."""

    def __init__(self, name, table, where, args, change=None, source=None, target=None):
        self.name = name
        self.table = table  # an sql.Identifier
        self.where = where  # sql.Composed over the row's columns
        self.args = args
        self.change = change  # sql.Composed SET clause for updates; None deletes
        self.source = source  # the state rows leave (None for the dead-letter table)
        self.target = target  # the state rows enter (updates only)


def retention_action(mapping, state, days, column):
    where = sql.SQL("{status} = %(state)s AND {column} < now() - make_interval(secs => %(age)s)").format(
        status=mapping.column(mapping.status), column=mapping.column(column)
    )
    return Action(
        "delete %s older than %s days" % (state, days),
        mapping.qualified,
        where,
        {"state": mapping.states[state], "age": days * 86400.0},
        source=state,
    )


def dead_letter_retention_action(mapping, days):
    where = sql.SQL("{column} < now() - make_interval(secs => %(age)s)").format(
        column=mapping.column(mapping.dead_letter_created_at)
    )
    return Action(
        "delete dead letters older than %s days" % days,
        sql.Identifier(mapping.schema, mapping.dead_letter_table),
        where,
        {"age": days * 86400.0},
    )


def rescue_actions(mapping, stuck_seconds, max_attempts):
    """Stuck rows back to pending, or to dead letter once their attempts are used up."""
    stale = sql.SQL("{status} = %(processing)s AND {started} < now() - make_interval(secs => %(stuck)s)").format(
        status=mapping.column(mapping.status), started=mapping.column(mapping.started_at)
    )
    if mapping.heartbeat:
        # A worker that still beats is alive, however long the job takes.
        stale = stale + sql.SQL(" AND ({hb} IS NULL OR {hb} < now() - make_interval(secs => %(stuck)s))").format(
            hb=mapping.column(mapping.heartbeat)
        )
    attempts = mapping.column(mapping.attempts)
    args = {"processing": mapping.states["processing"], "stuck": float(stuck_seconds), "max": max_attempts}
    clear = [sql.SQL("{} = NULL").format(mapping.column(mapping.started_at))]
    if mapping.heartbeat:
        clear.append(sql.SQL("{} = NULL").format(mapping.column(mapping.heartbeat)))
    to_pending = Action(
        "rescue stuck rows to pending",
        mapping.qualified,
        stale + sql.SQL(" AND {} < %(max)s").format(attempts),
        dict(args, target=mapping.states["pending"]),
        change=sql.SQL(", ").join([sql.SQL("{} = %(target)s").format(mapping.column(mapping.status)), *clear]),
        source="processing",
        target="pending",
    )
    to_dead = Action(
        "move stuck rows with exhausted attempts to dead letter",
        mapping.qualified,
        stale + sql.SQL(" AND {} >= %(max)s").format(attempts),
        dict(args, target=mapping.states["dead_letter"]),
        change=sql.SQL("{} = %(target)s").format(mapping.column(mapping.status)),
        source="processing",
        target="dead_letter",
    )
    return [to_pending, to_dead]


def id_bounds(conn, action, id_column):
    """The table's id range, read from the primary key alone.

    Filtering by the action here would scan the whole table once; the batches
    apply the filter within each range anyway, and ranges without a match cost
    one short index scan each.
    """
    query = sql.SQL("SELECT min({id}), max({id}) FROM {table}").format(id=sql.Identifier(id_column), table=action.table)
    return conn.execute(query).fetchone()


def count_matching(conn, action):
    """Rows the action would touch now; rows locked by a live worker are not counted (SKIP LOCKED)."""
    query = sql.SQL("SELECT count(*) FROM (SELECT 1 FROM {table} WHERE ").format(table=action.table) + action.where
    if action.change is not None:
        query = query + sql.SQL(" FOR UPDATE SKIP LOCKED")
    query = query + sql.SQL(") AS matching")
    with conn.transaction(force_rollback=True):
        return conn.execute(query, action.args).fetchone()[0]


class BatchRunner(object):
    """Runs actions batch by batch over consecutive primary-key ranges."""

    def __init__(self, conn, mapping, batch_size, pause, lock_timeout_ms, statement_timeout_ms):
        self.conn = conn
        self.mapping = mapping
        self.batch_size = batch_size
        self.pause = pause
        self.lock_timeout_ms = lock_timeout_ms
        self.statement_timeout_ms = statement_timeout_ms
        self.batch_seconds = []
        self.lock_timeouts = 0
        # Rows committed so far, per action: what a failure half-way has already changed.
        self.committed = {}
        # Both limits apply to this batch's transaction only (SET LOCAL); validated integers.
        self.timeouts = sql.SQL("SET LOCAL lock_timeout = {}; SET LOCAL statement_timeout = {}").format(
            sql.Literal("%dms" % lock_timeout_ms), sql.Literal("%dms" % statement_timeout_ms)
        )

    def _statement(self, action):
        id_col = sql.Identifier(self.mapping.id)
        range_clause = sql.SQL("{id} >= %(lo)s AND {id} < %(hi)s AND ").format(id=id_col)
        if action.change is None:
            return sql.SQL("DELETE FROM {table} WHERE ").format(table=action.table) + range_clause + action.where
        # Updates lock their rows first and skip those a worker holds.
        return (
            sql.SQL("UPDATE {table} SET ").format(table=action.table)
            + action.change
            + sql.SQL(" WHERE {id} IN (SELECT {id} FROM {table} WHERE ").format(id=id_col, table=action.table)
            + range_clause
            + action.where
            + sql.SQL(" FOR UPDATE SKIP LOCKED)")
        )

    def run(self, action):
        bounds = id_bounds(self.conn, action, self.mapping.id)
        if bounds[0] is None:
            return 0
        low, high = bounds
        # Composed once, not per batch; planned per batch (prepare=False) so the
        # planner sees each range's bounds rather than a generic plan.
        statement = self._statement(action).as_string(self.conn)
        done = 0
        while low <= high:
            args = dict(action.args, lo=low, hi=low + self.batch_size)
            started = time.perf_counter()
            try:
                with self.conn.transaction():
                    self.conn.execute(self.timeouts)
                    rows = self.conn.execute(statement, args, prepare=False).rowcount
                done += rows
                self.committed[action.name] = done
            except errors.LockNotAvailable:
                # Someone holds a row of this range: leave it for the next run rather than wait.
                self.lock_timeouts += 1
            self.batch_seconds.append(time.perf_counter() - started)
            low += self.batch_size
            if self.pause and low <= high:
                time.sleep(self.pause)
        return done


def vacuum(conn_factory, mapping):
    """VACUUM (ANALYZE) the queue table; VACUUM cannot run inside a transaction, so autocommit."""
    with conn_factory(autocommit=True) as conn:
        conn.execute(sql.SQL("VACUUM (ANALYZE) {}").format(mapping.qualified))
