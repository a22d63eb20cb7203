"""queue_purge on a queue that stores UTC in `timestamp without time zone` (Oban, Rails), whatever the session's zone.

The database's own TimeZone is set to zones on both sides of UTC: a naive
column read in the session's zone would be an hour or more off, rescuing live
jobs (they would run twice) or deleting rows before their retention ends.
"""

import psycopg
import pytest
from psycopg import sql
from support.procs import run_module

NAIVE_TABLE = """
CREATE TABLE naive_jobs (
    id bigserial PRIMARY KEY,
    status text NOT NULL,
    queued_at timestamp NOT NULL DEFAULT (now() AT TIME ZONE 'UTC'),
    started_at timestamp,
    completed_at timestamp,
    attempt_count integer NOT NULL DEFAULT 0,
    heartbeat_at timestamp,
    payload jsonb
)
"""


def add(conn, count, status, minutes_ago, column):
    """COUNT rows whose COLUMN holds the UTC wall time MINUTES_AGO, as the queue writes it."""
    query = sql.SQL(
        "INSERT INTO naive_jobs (status, {}, attempt_count) "
        "SELECT %s, (now() AT TIME ZONE 'UTC') - make_interval(mins => %s), 1 FROM generate_series(1, %s)"
    ).format(sql.Identifier(column))
    conn.execute(query, (status, minutes_ago, count))


@pytest.fixture(params=["Europe/Berlin", "America/New_York"])
def naive_queue(request, postgres_server, db):
    name, conn = db
    conn.execute(NAIVE_TABLE)
    conn.execute("ALTER DATABASE %s SET TimeZone = '%s'" % (name, request.param))
    add(conn, 55, "processing", 20, "started_at")  # live: started 20 minutes ago
    add(conn, 45, "processing", 50, "started_at")  # live: 50 minutes, inside the 60-minute window
    add(conn, 7, "processing", 180, "started_at")  # stuck for 3 hours
    add(conn, 30, "completed", 30 * 24 * 60 - 30, "completed_at")  # 30 days less half an hour: kept
    add(conn, 12, "completed", 30 * 24 * 60 + 30, "completed_at")  # 30 days and half an hour: purged
    params = dict(
        postgres_server.login(name),
        table="naive_jobs",
        dead_letter_table="",
        retention=[{"state": "completed", "older_than_days": 30}],
        rescue_stuck_after_minutes=60,
        max_attempts=5,
    )
    return request.param, params, postgres_server.conninfo(name)


def test_naive_utc_columns_are_read_as_utc_in_any_session_zone(naive_queue):
    zone, params, conninfo = naive_queue
    with psycopg.connect(conninfo, autocommit=True) as conn:
        assert conn.execute("SHOW TimeZone").fetchone()[0] == zone, "the database's own zone is the trap"
    check = run_module("queue_purge", params, check=True)
    assert check["rescued"] == {
        "rescue stuck rows to pending": 7,
        "move stuck rows with exhausted attempts to dead letter": 0,
    }, check
    assert check["deleted"] == {"delete completed older than 30.0 days": 12}, check

    apply = run_module("queue_purge", params)
    assert (apply["changed"], apply["rescued"], apply["deleted"]) == (True, check["rescued"], check["deleted"])
    with psycopg.connect(conninfo, autocommit=True) as conn:
        states = dict(conn.execute("SELECT status, count(*) FROM naive_jobs GROUP BY 1").fetchall())
    assert states == {"processing": 100, "pending": 7, "completed": 30}

    again = run_module("queue_purge", params)
    assert again["changed"] is False, again


def test_rows_the_purge_dead_letters_get_a_utc_completion_time(naive_queue):
    _zone, params, conninfo = naive_queue
    with psycopg.connect(conninfo, autocommit=True) as conn:
        conn.execute("UPDATE naive_jobs SET attempt_count = 5 WHERE status = 'processing' AND started_at < "
                     "(now() AT TIME ZONE 'UTC') - interval '1 hour'")  # fmt: skip
    result = run_module("queue_purge", dict(params, retention=[]))
    assert result["rescued"] == {
        "rescue stuck rows to pending": 0,
        "move stuck rows with exhausted attempts to dead letter": 7,
    }, result
    with psycopg.connect(conninfo, autocommit=True) as conn:
        drift = conn.execute(
            "SELECT max(abs(extract(epoch FROM completed_at - (now() AT TIME ZONE 'UTC')))) "
            "FROM naive_jobs WHERE status = 'dead_letter'"
        ).fetchone()[0]
    assert drift < 120, "written in UTC, as the queue writes it (off by %s s)" % drift


@pytest.mark.parametrize("zone", ["Mars/Olympus", "UTC; DROP TABLE naive_jobs", ""])
def test_a_zone_that_is_not_one_is_refused(postgres_server, db, zone):
    name, conn = db
    conn.execute(NAIVE_TABLE)
    result = run_module(
        "queue_purge", dict(postgres_server.login(name), table="naive_jobs", dead_letter_table="", naive_time_zone=zone)
    )
    assert result["failed"] is True
    assert "TimeZone" in result["msg"] or "naive_time_zone" in result["msg"], result["msg"]


def test_two_states_on_one_value_are_refused_naming_both(postgres_server, db):
    name, _conn = db
    states = {"pending": "new", "processing": "job", "completed": "done", "dead_letter": "job"}
    result = run_module(
        "queue_purge", dict(postgres_server.login(name), table="tds_sync_queue", states=states, terminal_states=[])
    )
    assert result["failed"] is True
    assert "states maps dead_letter and processing to 'job'" in result["msg"], result["msg"]
