"""queue_purge's check mode meets what an apply meets, at the same batch, on a real PostgreSQL.

Each case is a table an apply cannot finish: a row another table still
references, a role that may not delete, a rescue that writes a generated
column. Check mode must fail where the apply fails, say what the apply would
have changed before, and change nothing; the apply then fails the same way.
"""

import psycopg
from support import queue
from support.procs import run_module

PURGE = {
    "table": "tds_sync_queue",
    "retention": [{"state": "completed", "older_than_days": 30}],
    "rescue_stuck_after_minutes": None,
    "dead_letter_table": "tds_sync_dead_letter",
    "batch_size": 100,
    "vacuum": "never",
}


def check_then_apply(args, conn):
    """(check result, apply result); check mode must leave every row as it was."""
    before = queue.checksum(conn)
    check = run_module("queue_purge", args, check=True)
    assert queue.checksum(conn) == before, "check mode changed a row"
    return check, run_module("queue_purge", args)


def fail_alike(check, apply, said, *reasons):
    """Both failed, check mode saying it WOULD fail and the apply that it did, each after SAID, each with REASONS."""
    assert check["failed"], check
    assert apply["failed"], apply
    assert check["msg"].startswith("queue_purge would fail " + said), check["msg"]
    assert apply["msg"].startswith("queue_purge failed " + said.replace("were changed", "were already changed")), apply[
        "msg"
    ]
    for result in (check, apply):
        for reason in reasons:
            assert reason in result["msg"], result["msg"]


def test_a_row_still_referenced_stops_check_mode_at_the_batch_that_stops_the_apply(postgres_server, db):
    name, conn = db
    queue.add_rows(conn, 1000, "completed", age_hours=24 * 40)
    conn.execute("CREATE TABLE job_events (job_id bigint NOT NULL REFERENCES tds_sync_queue (id))")
    # The 651st oldest job by key: six batches of 100 go before the batch that holds it.
    conn.execute("INSERT INTO job_events SELECT id FROM tds_sync_queue ORDER BY id OFFSET 650 LIMIT 1")
    check, apply = check_then_apply(dict(postgres_server.login(name), **PURGE), conn)

    fail_alike(
        check, apply, "after 600 row(s) were changed", 'constraint "job_events_job_id_fkey"', "ON DELETE CASCADE"
    )
    assert check["changed"] is apply["changed"] is True
    assert check["deleted"] == apply["deleted"] == {"delete completed older than 30.0 days": 600}
    assert queue.states(conn) == {"completed": 400}

    # Every later run stops at the same row, and says so again, having changed nothing.
    again = run_module("queue_purge", dict(postgres_server.login(name), **PURGE))
    assert again["failed"], again
    assert again["msg"].startswith("queue_purge failed before any row changed"), again["msg"]
    assert 'constraint "job_events_job_id_fkey"' in again["msg"]
    assert queue.states(conn) == {"completed": 400}


def test_a_role_that_may_not_delete_fails_in_check_mode_too(postgres_server, db):
    name, conn = db
    queue.add_rows(conn, 300, "completed", age_hours=24 * 40)
    role = "reader_%s" % name
    conn.execute("CREATE ROLE %s LOGIN" % role)
    conn.execute("GRANT SELECT, UPDATE ON tds_sync_queue, tds_sync_dead_letter TO %s" % role)
    args = dict(postgres_server.login(name), login_user=role, **PURGE)
    try:
        check, apply = check_then_apply(args, conn)
    finally:
        conn.execute("DROP OWNED BY %s; DROP ROLE %s" % (role, role))

    fail_alike(
        check, apply, "before any row changed", "permission denied for table tds_sync_queue", "needs DELETE and UPDATE"
    )
    assert check["changed"] is apply["changed"] is False
    assert queue.states(conn) == {"completed": 300}


def test_a_rescue_that_writes_a_generated_column_fails_in_check_mode_too(postgres_server, db):
    name, conn = db
    queue.add_rows(conn, 10, "processing", started_hours=3, attempts=1)
    # A heartbeat the table derives itself: the rescue, which clears the heartbeat, cannot write it.
    conn.execute(
        "ALTER TABLE tds_sync_queue DROP COLUMN heartbeat_at, "
        "ADD COLUMN heartbeat_at timestamptz GENERATED ALWAYS AS (started_at) STORED"
    )
    args = dict(
        postgres_server.login(name),
        **dict(PURGE, retention=[], rescue_stuck_after_minutes=60, heartbeat_column="heartbeat_at"),
    )
    check, apply = check_then_apply(args, conn)

    fail_alike(
        check, apply, "before any row changed", 'column "heartbeat_at" can only be updated to DEFAULT', "generates"
    )
    assert check["rescued"] == apply["rescued"] == {}
    assert queue.states(conn) == {"processing": 10}
    with psycopg.connect(postgres_server.conninfo(name)) as other:
        assert other.execute("SELECT count(*) FROM tds_sync_queue WHERE started_at IS NULL").fetchone()[0] == 0
