"""TDS Core-shaped queue tables in a real PostgreSQL, and checksums to prove what changed."""

from pathlib import Path

import psycopg

# Shared with the queue_maintenance Molecule scenario, which loads the same file on its hosts.
# The demo stack's queue migration, then the tables only the tests need.
SCHEMA = "\n".join(
    path.read_text()
    for path in (
        Path(__file__).resolve().parents[2] / "examples/tms/migrations/001_job_queue.sql",
        Path(__file__).parent / "queue_schema.sql",
    )
)

TERMINAL = ("completed", "dead_letter")


def create_database(server, name):
    with psycopg.connect(server.conninfo(), autocommit=True) as conn:
        conn.execute("CREATE DATABASE %s" % name)
    with psycopg.connect(server.conninfo(name), autocommit=True) as conn:
        conn.execute(SCHEMA)


def drop_database(server, name):
    with psycopg.connect(server.conninfo(), autocommit=True) as conn:
        conn.execute("DROP DATABASE %s WITH (FORCE)" % name)


def add_rows(conn, count, status, age_hours=0.0, started_hours=None, attempts=0, heartbeat_hours=None):
    """count rows in one state; ages are hours before now."""
    conn.execute(
        """
        INSERT INTO tds_sync_queue (status, queued_at, started_at, completed_at, attempt_count, heartbeat_at, payload)
        SELECT %(status)s,
               now() - %(age)s * interval '1 hour' - interval '1 minute',
               CASE WHEN %(started)s::float8 IS NULL THEN NULL ELSE now() - %(started)s * interval '1 hour' END,
               CASE WHEN %(status)s IN ('completed', 'dead_letter') THEN now() - %(age)s * interval '1 hour' END,
               %(attempts)s,
               CASE WHEN %(hb)s::float8 IS NULL THEN NULL ELSE now() - %(hb)s * interval '1 hour' END,
               jsonb_build_object('n', g)
        FROM generate_series(1, %(count)s) AS g
        """,
        {
            "status": status,
            "age": age_hours,
            "started": started_hours,
            "attempts": attempts,
            "count": count,
            "hb": heartbeat_hours,
        },
    )


def checksum(conn, where="true"):
    """Row count and md5 of every row matching `where`, a predicate the test writes itself."""
    query = "SELECT count(*), md5(coalesce(string_agg(q::text, ',' ORDER BY id), '')) FROM tds_sync_queue q WHERE "
    return conn.execute(query + where).fetchone()


def states(conn):
    return dict(conn.execute("SELECT status, count(*) FROM tds_sync_queue GROUP BY 1").fetchall())
