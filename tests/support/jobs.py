"""A generic job table of another queue library's making, written by the tests: its schema and helpers."""

from psycopg import sql

# A generic job table: uuid key, its own state names, and a rule that finished jobs say when.
JOBS = """
CREATE TABLE jobs (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    priority integer NOT NULL DEFAULT 0,
    external_ref text UNIQUE,
    state text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    started_at timestamptz,
    finished_at timestamptz,
    attempts integer NOT NULL DEFAULT 0,
    max_attempts integer,
    run_at timestamptz NOT NULL DEFAULT now(),
    payload jsonb,
    CONSTRAINT finished_jobs_say_when CHECK (state NOT IN ('done', 'failed') OR finished_at IS NOT NULL)
);
"""

MAPPING = {
    "table": "jobs",
    "status_column": "state",
    "states": {
        "pending": "queued",
        "processing": "running",
        "retry": "retry",
        "completed": "done",
        "dead_letter": "failed",
    },
    "queued_at_column": "created_at",
    "started_at_column": "started_at",
    "completed_at_column": "finished_at",
    "attempts_column": "attempts",
    # The tds profile's heartbeat column is not in this table: none.
    "heartbeat_column": "",
}

RETENTION = [{"state": "completed", "older_than_days": 30}, {"state": "dead_letter", "older_than_days": 30}]
DELETE_DONE = "delete completed older than 30.0 days"
TO_FAILED = "move stuck rows with exhausted attempts to dead letter"


def add_jobs(conn, count, state, finished_days=None, started_hours=None, attempts=0, table="jobs", name=None):
    """COUNT jobs in STATE; NAME is the queue name of the partitioned table's rows."""
    # One statement for both tables: the last column is the partitioned table's name, or
    # the jobs table's external_ref, which then gets NULL (a unique column that allows it).
    conn.execute(
        sql.SQL(
            "INSERT INTO {} (state, finished_at, started_at, attempts, payload, {}) "
            "SELECT %(state)s, now() - %(fin)s * interval '1 day', now() - %(start)s * interval '1 hour', "
            "%(attempts)s, jsonb_build_object('n', g), %(name)s FROM generate_series(1, %(count)s) g"
        ).format(sql.Identifier(table), sql.Identifier("name" if name else "external_ref")),
        {
            "state": state,
            "fin": finished_days,
            "start": started_hours,
            "attempts": attempts,
            "count": count,
            "name": name,
        },
    )


def checksum(conn, where, table="jobs"):
    """Count and md5 of the rows matching WHERE, a predicate the test writes itself."""
    query = sql.SQL("SELECT count(*), md5(coalesce(string_agg(j::text, ',' ORDER BY id), '')) FROM {} j WHERE ")
    return conn.execute(query.format(sql.Identifier(table)) + sql.SQL(where)).fetchone()


def states(conn, table="jobs"):
    return dict(
        conn.execute(sql.SQL("SELECT state, count(*) FROM {} GROUP BY 1").format(sql.Identifier(table))).fetchall()
    )
