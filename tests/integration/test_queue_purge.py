"""queue_purge against a real PostgreSQL: batches, rescue, locks, check mode, bad input."""

import json
import os
import random
import signal
import subprocess
import sys

import psycopg
import pytest
import yaml
from ansible_collections.steadyops.stack.plugins.modules.queue_purge import RETURN
from support import queue
from support.procs import COLLECTIONS, run_module, wait_for, warnings_of

RUNBOOK = {
    "table": "tds_sync_queue",
    "retention": [{"state": "completed", "older_than_days": 30}, {"state": "dead_letter", "older_than_days": 90}],
    "rescue_stuck_after_minutes": 60,
    "max_attempts": 5,
    "dead_letter_table": "tds_sync_dead_letter",
    "dead_letter_retention_days": 180,
    "batch_size": 500,
}


TDS_STATES = {state: state for state in ("pending", "processing", "retry", "completed", "dead_letter")}


def args_for(server, name, **extra):
    return dict(server.login(name), **dict(RUNBOOK, **extra))


def fill_runbook_case(conn):
    queue.add_rows(conn, 1200, "completed", age_hours=24 * 40)  # old: purged
    queue.add_rows(conn, 300, "completed", age_hours=24 * 2)  # recent: kept
    queue.add_rows(conn, 50, "dead_letter", age_hours=24 * 100)  # old dead letters: purged
    queue.add_rows(conn, 20, "dead_letter", age_hours=24 * 10)  # kept
    queue.add_rows(conn, 400, "pending", age_hours=24 * 400)  # very old, but never deleted
    queue.add_rows(conn, 30, "retry", age_hours=24 * 400)
    queue.add_rows(conn, 7, "processing", started_hours=3, attempts=1)  # stuck: back to pending
    queue.add_rows(conn, 3, "processing", started_hours=3, attempts=5)  # stuck, attempts used up
    queue.add_rows(conn, 5, "processing", started_hours=0.1, attempts=1)  # working now
    conn.execute(
        "INSERT INTO tds_sync_dead_letter (id, created_at) "
        "SELECT g, now() - make_interval(days => CASE WHEN g <= 40 THEN 200 ELSE 5 END) FROM generate_series(1, 60) g"
    )


def test_check_apply_reapply(postgres_server, db):
    name, conn = db
    fill_runbook_case(conn)
    before = queue.checksum(conn)
    args = args_for(postgres_server, name)

    check = run_module("queue_purge", args, check=True)
    assert check["changed"] is True, check
    assert queue.checksum(conn) == before, "check mode must not change a row"
    assert check["deleted"] == {
        "delete completed older than 30.0 days": 1200,
        "delete dead_letter older than 90.0 days": 50,
        "delete dead letters older than 180.0 days": 40,
    }
    assert check["rescued"] == {
        "rescue stuck rows to pending": 7,
        "move stuck rows with exhausted attempts to dead letter": 3,
    }
    assert check["states_before"] == {
        "completed": 1500,
        "dead_letter": 70,
        "pending": 400,
        "retry": 30,
        "processing": 15,
    }
    expected_after = {"completed": 300, "dead_letter": 23, "pending": 407, "retry": 30, "processing": 5}
    assert check["states_after"] == expected_after
    assert check["vacuumed"] is True

    apply = run_module("queue_purge", args)
    assert apply["changed"] is True
    assert apply["deleted"] == check["deleted"]
    assert apply["rescued"] == check["rescued"]
    assert apply["states_after"] == expected_after == queue.states(conn)
    assert (apply["dead_letters_before"], apply["dead_letters_after"]) == (60, 20)
    assert apply["vacuumed"] is True
    assert apply["batches"]["count"] > 3
    assert apply["lock"] == "acquired"
    rescued = conn.execute(
        "SELECT count(*) FROM tds_sync_queue WHERE status = 'pending' AND started_at IS NULL AND attempt_count = 1"
    ).fetchone()[0]
    assert rescued == 7

    reapply = run_module("queue_purge", args)
    assert reapply["changed"] is False, reapply
    assert set(reapply["deleted"].values()) == {0}
    assert set(reapply["rescued"].values()) == {0}
    assert reapply["vacuumed"] is False


def test_live_worker_row_is_never_reset(postgres_server, db):
    name, conn = db
    queue.add_rows(conn, 10, "processing", started_hours=3, attempts=1)
    worker = psycopg.connect(postgres_server.conninfo(name))
    held = worker.execute(
        "SELECT id FROM tds_sync_queue WHERE status = 'processing' ORDER BY id LIMIT 1 FOR UPDATE"
    ).fetchone()[0]
    try:
        result = run_module("queue_purge", args_for(postgres_server, name, retention=[], lock_timeout_ms=200))
        assert result["rescued"]["rescue stuck rows to pending"] == 9
        assert conn.execute("SELECT status FROM tds_sync_queue WHERE id = %s", (held,)).fetchone()[0] == "processing"
    finally:
        worker.rollback()
        worker.close()


def test_heartbeat_keeps_a_long_job_alive(postgres_server, db):
    name, conn = db
    queue.add_rows(conn, 4, "processing", started_hours=5, attempts=1, heartbeat_hours=0.01)  # slow but alive
    queue.add_rows(conn, 6, "processing", started_hours=5, attempts=1, heartbeat_hours=2)  # dead worker
    result = run_module("queue_purge", args_for(postgres_server, name, retention=[], heartbeat_column="heartbeat_at"))
    assert result["rescued"]["rescue stuck rows to pending"] == 6
    assert queue.states(conn) == {"processing": 4, "pending": 6}


def test_a_row_a_worker_holds_is_skipped_and_the_rest_of_its_batch_goes(postgres_server, db):
    name, conn = db
    queue.add_rows(conn, 100, "completed", age_hours=24 * 40)
    worker = psycopg.connect(postgres_server.conninfo(name))
    locked = worker.execute("SELECT id FROM tds_sync_queue ORDER BY id LIMIT 1 FOR UPDATE").fetchone()[0]
    args = args_for(postgres_server, name, lock_timeout_ms=200, batch_size=10, rescue_stuck_after_minutes=None)
    try:
        check = run_module("queue_purge", args, check=True)
        result = run_module("queue_purge", args)
        # Not waited for past a moment (no lock timeout), not counted by check mode, not deleted; its 9 batch
        # mates are: that one batch ran again skipping it.
        assert result["batches"]["lock_timeouts"] == 0
        assert result["batches"]["rerun_skipping_held"] == 1
        assert result["deleted"]["delete completed older than 30.0 days"] == 99
        assert check["deleted"] == result["deleted"]
        assert conn.execute("SELECT count(*) FROM tds_sync_queue WHERE id = %s", (locked,)).fetchone()[0] == 1
    finally:
        worker.rollback()
        worker.close()
    again = run_module("queue_purge", args)
    assert again["deleted"]["delete completed older than 30.0 days"] == 1
    assert queue.states(conn) == {}


def test_second_purge_reports_and_exits_cleanly(postgres_server, db):
    name, conn = db
    queue.add_rows(conn, 10, "completed", age_hours=24 * 40)
    other = psycopg.connect(postgres_server.conninfo(name), autocommit=True)
    other.execute("SELECT pg_advisory_lock(hashtext('steadyops.queue_purge:public.tds_sync_queue'))")
    try:
        result = run_module("queue_purge", args_for(postgres_server, name))
        assert result.get("failed") is not True
        assert result["lock"] == "busy"
        assert result["changed"] is False
        assert any("Another queue_purge holds the lock" in w for w in warnings_of(result))
        assert queue.states(conn) == {"completed": 10}
        # Every field the documentation says is always returned.
        always = [name for name, doc in yaml.safe_load(RETURN).items() if doc.get("returned") == "always"]
        assert sorted(name for name in always if name not in result) == []
        assert result["states_before"] == result["states_after"] == {"completed": 10}
    finally:
        other.close()


def test_interrupted_purge_is_consistent_and_the_next_run_finishes(postgres_server, db, tmp_path):
    name, conn = db
    queue.add_rows(conn, 20000, "completed", age_hours=24 * 40)
    queue.add_rows(conn, 500, "pending")
    live_before = queue.checksum(conn, "status NOT IN ('completed', 'dead_letter')")
    args = args_for(postgres_server, name, batch_size=200, batch_pause=0.02, rescue_stuck_after_minutes=None)
    args_file = tmp_path / "args.json"
    args_file.write_text(json.dumps({"ANSIBLE_MODULE_ARGS": args}))
    purge = subprocess.Popen(
        [sys.executable, "-m", "ansible_collections.steadyops.stack.plugins.modules.queue_purge", str(args_file)],
        env=dict(os.environ, PYTHONPATH=str(COLLECTIONS)),
        stdout=subprocess.DEVNULL,
    )
    wait_for(lambda: queue.states(conn).get("completed", 20000) < 15000, timeout=60, what="the purge to get going")
    purge.send_signal(signal.SIGKILL)
    purge.wait()
    left = queue.states(conn)["completed"]
    assert 0 < left < 20000
    assert left % 200 == 0, "each batch commits whole or not at all"
    assert queue.checksum(conn, "status NOT IN ('completed', 'dead_letter')") == live_before

    finish = run_module("queue_purge", dict(args, batch_pause=0))
    assert finish["deleted"]["delete completed older than 30.0 days"] == left
    assert queue.states(conn) == {"pending": 500}


@pytest.mark.parametrize("seed", range(12))
def test_no_non_terminal_row_is_ever_deleted(postgres_server, db, seed):
    """Property: over generated tables, only old rows in terminal states ever go."""
    name, conn = db
    rng = random.Random(seed)  # noqa: S311 - reproducible generated tables
    for status in ("pending", "processing", "retry", "completed", "dead_letter"):
        for _batch in range(rng.randrange(1, 4)):
            queue.add_rows(
                conn,
                rng.randrange(0, 400),
                status,
                age_hours=rng.uniform(0, 24 * 60),
                started_hours=rng.choice([None, rng.uniform(0, 5)]),
                attempts=rng.randrange(0, 7),
            )
    # Gaps in the id sequence, as deletes leave in a real queue.
    conn.execute("DELETE FROM tds_sync_queue WHERE id %% %s = 0", (rng.randrange(3, 11),))
    days = rng.uniform(0, 45)
    live = queue.checksum(conn, "status NOT IN ('completed', 'dead_letter')")
    young = queue.checksum(
        conn,
        "status IN ('completed', 'dead_letter') AND completed_at >= now() - make_interval("
        "secs => %f) + interval '1 minute'" % (days * 86400),
    )
    args = args_for(
        postgres_server,
        name,
        retention=[{"state": "completed", "older_than_days": days}, {"state": "dead_letter", "older_than_days": days}],
        rescue_stuck_after_minutes=None,
        batch_size=rng.choice([1, 7, 100, 5000]),
    )
    run_module("queue_purge", args)
    assert queue.checksum(conn, "status NOT IN ('completed', 'dead_letter')") == live
    assert (
        queue.checksum(
            conn,
            "status IN ('completed', 'dead_letter') AND completed_at >= now() - make_interval("
            "secs => %f) + interval '1 minute'" % (days * 86400),
        )
        == young
    )
    old_left = conn.execute(
        "SELECT count(*) FROM tds_sync_queue WHERE status IN ('completed', 'dead_letter') "
        "AND completed_at < now() - make_interval(secs => %s)",
        (days * 86400,),
    ).fetchone()[0]
    assert old_left == 0


def test_dead_tuples_alone_trigger_vacuum_once(postgres_server, db):
    name, conn = db
    # Dead tuples stay until the purge decides: autovacuum would remove them first on a busy machine.
    conn.execute("ALTER TABLE tds_sync_queue SET (autovacuum_enabled = false)")
    queue.add_rows(conn, 3000, "pending")
    with psycopg.connect(postgres_server.conninfo(name), autocommit=True) as churn:
        churn.execute("UPDATE tds_sync_queue SET payload = '{}'::jsonb")
    # Statistics reach pg_stat_user_tables shortly after the updating session ends.
    wait_for(
        lambda: (
            conn.execute("SELECT n_dead_tup FROM pg_stat_user_tables WHERE relname = 'tds_sync_queue'").fetchone()[0]
            >= 3000
        ),
        timeout=20,
        what="dead tuples to show in pg_stat",
    )
    args = args_for(postgres_server, name, vacuum_dead_tuples=1000)
    first = run_module("queue_purge", args)
    assert first["changed"] is True
    assert first["vacuumed"] is True
    assert set(first["deleted"].values()) == {0}
    wait_for(
        lambda: (
            conn.execute("SELECT n_dead_tup FROM pg_stat_user_tables WHERE relname = 'tds_sync_queue'").fetchone()[0]
            < 1000
        ),
        timeout=20,
        what="VACUUM to show in pg_stat",
    )
    second = run_module("queue_purge", args)
    assert second["changed"] is False
    assert second["vacuumed"] is False


def test_another_queue_maps_without_code_changes(postgres_server, db):
    name, conn = db
    conn.execute(
        "CREATE TABLE river_job (id bigserial PRIMARY KEY, state text NOT NULL, created_at timestamptz DEFAULT now(), "
        "attempted_at timestamptz, finalized_at timestamptz, attempt smallint NOT NULL DEFAULT 0)"
    )
    conn.execute(
        "INSERT INTO river_job (state, finalized_at) SELECT 'completed', now() - interval '10 days' "
        "FROM generate_series(1, 50)"
    )
    conn.execute("INSERT INTO river_job (state) SELECT 'available' FROM generate_series(1, 5)")
    args = dict(
        postgres_server.login(name),
        table="river_job",
        status_column="state",
        states={
            "pending": "available",
            "processing": "running",
            "retry": "retryable",
            "completed": "completed",
            "dead_letter": "discarded",
        },
        queued_at_column="created_at",
        started_at_column="attempted_at",
        completed_at_column="finalized_at",
        attempts_column="attempt",
        heartbeat_column="",
        retention=[{"state": "completed", "older_than_days": 7}],
    )
    result = run_module("queue_purge", args)
    assert result["deleted"] == {"delete completed older than 7.0 days": 50}
    # Counted under the table's own state values; state_names reads them by role.
    assert result["states_after"] == {"available": 5}
    assert result["state_names"]["pending"] == "available"


def test_a_failure_after_committed_batches_reports_what_changed(postgres_server, db):
    name, conn = db
    queue.add_rows(conn, 1200, "processing", started_hours=5)
    # A rule of the table's own that the later rows break, as a CHECK constraint
    # or a trigger of another queue library would: batches 1 and 2 commit, 3 fails.
    conn.execute(
        "CREATE FUNCTION refuse_late() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
        "IF NEW.id > 1000 THEN RAISE EXCEPTION 'row % refused by the table''s trigger', NEW.id; END IF; "
        "RETURN NEW; END $$"
    )
    conn.execute(
        "CREATE TRIGGER refuse_late BEFORE UPDATE ON tds_sync_queue FOR EACH ROW EXECUTE FUNCTION refuse_late()"
    )
    result = run_module("queue_purge", args_for(postgres_server, name))
    assert result["failed"] is True
    assert result["changed"] is True
    assert result["msg"].startswith("queue_purge failed after 1000 row(s) were already changed")
    assert "refused by the table's trigger" in result["msg"]
    assert sum(result["rescued"].values()) == 1000
    assert queue.states(conn) == {"pending": 1000, "processing": 200}


def test_a_misspelled_retention_column_fails_before_any_change(postgres_server, db):
    name, conn = db
    fill_runbook_case(conn)
    before = queue.checksum(conn)
    retention = [{"state": "completed", "older_than_days": 30, "column": "completed_att"}]
    result = run_module("queue_purge", args_for(postgres_server, name, retention=retention))
    assert result["failed"] is True
    assert "has no column(s) completed_att" in result["msg"]
    assert "Nothing was changed" in result["msg"]
    assert queue.checksum(conn) == before


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ({"status_column": "state"}, "has no column(s) state; its columns are: id, status, queued_at"),
        (
            {"table": "tds_sync_queue; DROP TABLE users"},
            "does not exist; tables in schema public: tds_sync_dead_letter",
        ),
        ({"status_column": 'status" = status; DROP TABLE users; --'}, 'has no column(s) status" = status; DROP'),
        ({"retention": [{"state": "completed", "older_than_days": -1}]}, "older_than_days is -1.0"),
        ({"retention": [{"state": "pending", "older_than_days": 1}]}, "retention for state 'pending' refused"),
        ({"batch_size": 0}, "batch_size is 0; it must be at least 1."),
        ({"rescue_stuck_after_minutes": -5}, "rescue_stuck_after_minutes is -5.0"),
        ({"states": {"pending": "p"}}, "states needs a value for processing, completed, dead_letter"),
        ({"states": {**TDS_STATES, "failed": "failed"}}, "states has unknown key(s) failed"),
        (
            {"started_at_column": "", "heartbeat_column": "", "rescue_stuck_after_minutes": 5},
            "rescue_stuck_after_minutes needs a way to tell a stuck row",
        ),
        (
            {"completed_at_column": "", "retention": [{"state": "completed", "older_than_days": 1}]},
            "retention for completed cannot age rows",
        ),
        ({"event_times": {"table": "tds_events"}}, "event_times needs job_column, time_column too"),
        (
            {"event_times": {"table": "tds_events", "job_column": "job_id", "time_column": "at"}},
            "event_times: table public.tds_events does not exist",
        ),
        (
            {
                "worker_heartbeat": {
                    "table": "tds_sync_dead_letter",
                    "id_column": "id",
                    "heartbeat_column": "beat",
                    "job_column": "id",
                }
            },
            "worker_heartbeat: table public.tds_sync_dead_letter has no column(s) beat",
        ),
        ({"dead_letter_table": "nope"}, "dead_letter_table public.nope does not exist"),
        (
            {"started_at_column": "", "run_timeout_column": "max_seconds", "rescue_stuck_after_minutes": 5},
            "run_timeout_column max_seconds limits a run from its start: set started_at_column",
        ),
        ({"run_timeout_column": "max_seconds"}, "has no column(s) max_seconds"),
        ({"dead_letter_route_column": "dead_letter_queue"}, "has no column(s) dead_letter_queue"),
    ],
)
def test_bad_input_fails_clearly_and_changes_nothing(postgres_server, db, extra, message):
    name, conn = db
    fill_runbook_case(conn)
    before = queue.checksum(conn)
    result = run_module("queue_purge", args_for(postgres_server, name, **extra))
    assert result["failed"] is True
    assert message in result["msg"]
    assert queue.checksum(conn) == before
    assert conn.execute("SELECT to_regclass('public.users')").fetchone()[0] == "users"
