"""A mapping of the task's own (no profile's) on a job table the test writes, with its own worker killed mid-job.

The table (tests/support/jobs.py): a uuid key, its own state names, and a CHECK
that finished jobs say when. Its worker (tests/support/queue_apps/generic_worker.py)
counts an attempt as it takes a job and holds the job's row lock while it works.
A worker is killed with SIGKILL in the middle of its jobs; queue_purge runs
through ansible-playbook (check, apply, re-apply); then the worker finishes
every rescued job, and the jobs a live worker held were never touched.
"""

import subprocess
import sys

import pytest
from support.jobs import JOBS, MAPPING, TO_FAILED, add_jobs, checksum, states
from support.procs import stop, wait_for
from support.queue_libraries import APPS, check_apply_reapply

TO_QUEUED = "rescue stuck rows to pending"
# The task names every option of the table's shape: no profile's value is used.
GENERIC = dict(
    MAPPING,
    id_column=["id"],
    ignored_states=[],
    terminal_states=["completed", "dead_letter"],
    attempt_limit_column="max_attempts",
    rescue_to="pending",
    rescue_schedule_column="run_at",
    rescue_attempts="keep",
    rescue_started_at="clear",
    dead_letter_created_column="",
    worker_heartbeat={},
    event_times={},
    rescue_stuck_after_minutes=60,
    max_attempts=2,
)


def worker(dsn, concurrency, seconds, *flags):
    return subprocess.Popen(
        [sys.executable, str(APPS / "generic_worker.py"), dsn, str(concurrency), str(seconds), *flags],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )


@pytest.fixture
def table(postgres_server, db):
    name, conn = db
    conn.execute(JOBS)
    add_jobs(conn, 8, "queued")
    workers = []
    yield postgres_server.conninfo(name), conn, dict(postgres_server.login(name), **GENERIC), workers
    for proc in workers:
        stop(proc)


def running(conn):
    return {r[0] for r in conn.execute("SELECT id FROM jobs WHERE state = 'running'").fetchall()}


def test_a_killed_workers_jobs_are_rescued_and_its_worker_finishes_them(table, tmp_path):
    dsn, conn, args, workers = table
    # A live worker holds one job for the whole test: its row is locked and its start is recent.
    live = worker(dsn, 1, 600)
    workers.append(live)
    wait_for(lambda: len(running(conn)) == 1, what="the live worker's job", timeout=60)
    (live_job,) = running(conn)
    crashing = worker(dsn, 4, 600)
    workers.append(crashing)
    wait_for(lambda: len(running(conn)) == 5, what="the worker to take 4 jobs", timeout=60)
    taken = running(conn) - {live_job}
    stop(crashing)  # SIGKILL to its process group: its jobs are left running
    # An hour and more later, as far as the table can tell; the live worker's job is as it was.
    conn.execute("UPDATE jobs SET started_at = started_at - interval '2 hours' WHERE id = ANY(%s)", (list(taken),))
    one_more_try = sorted(taken)[:2]
    conn.execute("UPDATE jobs SET max_attempts = 1 WHERE id = ANY(%s)", (one_more_try,))
    live_before = checksum(conn, "id = '%s'" % live_job)

    result = check_apply_reapply(tmp_path, args)

    # Their attempt counted when they started: the two whose limit is one are out of attempts.
    assert result["rescued"] == {TO_QUEUED: 2, TO_FAILED: 2}, result
    assert checksum(conn, "id = ANY(ARRAY[%s]::uuid[]) AND state = 'failed' AND finished_at IS NOT NULL"
                    % ",".join("'%s'" % j for j in one_more_try))[0] == 2  # fmt: skip
    assert checksum(conn, "state = 'queued' AND attempts = 1 AND started_at IS NULL AND run_at <= now()")[0] == 2
    assert checksum(conn, "id = '%s'" % live_job) == live_before
    assert live.poll() is None

    # The worker's next run finishes what was rescued, and what was never taken.
    finishing = worker(dsn, 2, 0, "--one-shot")
    workers.append(finishing)
    output = finishing.communicate(timeout=60)[0]
    assert finishing.returncode == 0, output
    assert states(conn) == {"done": 5, "failed": 2, "running": 1}
    assert checksum(conn, "state = 'done' AND finished_at IS NULL")[0] == 0
