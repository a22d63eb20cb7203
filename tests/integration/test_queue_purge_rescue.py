"""Rescue by the queue's own rules: where a stuck row goes, what happens to its counters and times.

The library's side is played in SQL by the test: a fetch that takes the next
runnable row the way the library does, and a crash that leaves it running.
"""

import pytest
from support.jobs import JOBS, MAPPING, TO_FAILED, add_jobs, checksum, states
from support.procs import run_module

TO_RETRY = "rescue stuck rows to retry"


def fetch_counting_restarts(conn):
    """Take every runnable row as a library does that counts a retry only for a row started before."""
    conn.execute(
        "UPDATE jobs SET state = 'running', "
        "attempts = CASE WHEN started_at IS NOT NULL THEN attempts + 1 ELSE attempts END, "
        "started_at = now() - interval '3 hours' "  # and crash at once: stuck from the rescue's view
        "WHERE state IN ('queued', 'retry') AND run_at <= now()"
    )


@pytest.fixture
def crashing(db):
    name, conn = db
    conn.execute(JOBS)
    # Never started; each with its own limit of 2 retries, and one with no limit of its own.
    add_jobs(conn, 9, "queued")
    conn.execute("UPDATE jobs SET max_attempts = 2, run_at = now() + interval '1 day'")
    conn.execute("UPDATE jobs SET max_attempts = NULL WHERE id = (SELECT id FROM jobs ORDER BY id LIMIT 1)")
    conn.execute("UPDATE jobs SET run_at = now()")
    return name, conn


def rescue_args(server, name, **extra):
    rescue = {
        "rescue_to": "retry",
        "rescue_schedule_column": "run_at",
        "attempt_limit_column": "max_attempts",
        "rescue_started_at": "keep",
    }
    return dict(
        server.login(name), rescue_stuck_after_minutes=60, max_attempts=4, **dict(MAPPING, **dict(rescue, **extra))
    )


def test_rescue_follows_a_queue_that_counts_a_retry_only_for_a_row_started_before(postgres_server, crashing):
    name, conn = crashing
    args = rescue_args(postgres_server, name)
    seen = []
    for _crash in range(4):
        fetch_counting_restarts(conn)
        check = run_module("queue_purge", args, check=True)
        result = run_module("queue_purge", args)
        assert result.get("failed") is not True, result.get("msg")
        assert check["rescued"] == result["rescued"]
        seen.append((result["rescued"][TO_RETRY], result["rescued"][TO_FAILED]))
        # A rescued row runs again at once, keeps its started time, and is in the retry state.
        assert checksum(conn, "state = 'retry' AND (run_at > now() OR started_at IS NULL)")[0] == 0
    # Crash 1 and 2: attempts 0 then 1, below the rows' own limit of 2; crash 3: 8 rows reach it and fail,
    # the row without a limit of its own goes on to max_attempts (4): retried at 2 and 3, failed at 4.
    assert seen == [(9, 0), (9, 0), (1, 8), (1, 0)]
    fetch_counting_restarts(conn)
    last = run_module("queue_purge", args)
    assert last["rescued"] == {TO_RETRY: 0, TO_FAILED: 1}
    assert states(conn) == {"failed": 9}
    # Failed rows are finished (the table's CHECK demands it) with the attempts the library counted.
    assert checksum(conn, "finished_at IS NOT NULL AND attempts = 2 AND max_attempts = 2")[0] == 8
    assert checksum(conn, "finished_at IS NOT NULL AND attempts = 4 AND max_attempts IS NULL")[0] == 1


def test_clearing_the_started_time_there_freezes_the_count_and_the_rows_cycle(postgres_server, crashing):
    """Why rescue_started_at exists: the default (clear) on such a queue never reaches a limit."""
    name, conn = crashing
    args = rescue_args(postgres_server, name, rescue_started_at="clear")
    for _crash in range(6):
        fetch_counting_restarts(conn)
        result = run_module("queue_purge", args)
        assert result["rescued"] == {TO_RETRY: 9, TO_FAILED: 0}
    assert checksum(conn, "attempts = 0")[0] == 9


def test_a_queue_that_counts_attempts_as_they_end_gets_the_crash_counted(postgres_server, db):
    name, conn = db
    conn.execute(JOBS)
    add_jobs(conn, 3, "running", started_hours=3, attempts=0)
    add_jobs(conn, 2, "running", started_hours=3, attempts=2)  # the third attempt crashed: the last of 3
    args = dict(
        postgres_server.login(name),
        rescue_stuck_after_minutes=60,
        max_attempts=3,
        **dict(MAPPING, rescue_attempts="increment"),
    )
    result = run_module("queue_purge", args)
    assert result["rescued"] == {"rescue stuck rows to pending": 3, TO_FAILED: 2}
    assert checksum(conn, "state = 'queued' AND attempts = 1 AND started_at IS NULL")[0] == 3
    assert checksum(conn, "state = 'failed' AND attempts = 3 AND finished_at IS NOT NULL")[0] == 2
    assert run_module("queue_purge", args)["changed"] is False


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ({"rescue_to": "processing"}, "rescue_to is 'processing'"),
        ({"rescue_to": "completed"}, "neither processing nor one of terminal_states (completed, dead_letter)"),
        ({"rescue_to": "later"}, "rescue_to is 'later'"),
        ({"rescue_schedule_column": "run_after"}, "has no column(s) run_after"),
        ({"attempt_limit_column": "limit"}, "has no column(s) limit"),
    ],
)
def test_a_rescue_mapping_that_does_not_fit_fails_before_any_change(postgres_server, crashing, extra, message):
    name, conn = crashing
    fetch_counting_restarts(conn)
    before = checksum(conn, "true")
    result = run_module("queue_purge", rescue_args(postgres_server, name, **extra))
    assert result["failed"] is True
    assert message in result["msg"]
    assert checksum(conn, "true") == before
