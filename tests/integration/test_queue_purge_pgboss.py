"""queue_purge on pg-boss's own tables, judged by pg-boss's own code and workers.

pg-boss (npm, its current release, with Node.js 22 from npm, installed at test
time) creates its schema and queues, sends the jobs and runs them with its own
worker; a worker is killed with SIGKILL in the middle of its jobs. Its
supervisor never runs, so only queue_purge touches a stuck job. queue_purge
then runs through ansible-playbook (check, apply, re-apply) with profile
pg-boss, and the library has the last word: its own fail() says which stuck job
is retried and which fails for good, its own worker finishes every rescued job
and counts its retries, its own retention sweep says which old jobs go, its own
expiry makes the dead-letter copies, and its own listing reads every row.
"""

import pytest
from psycopg import sql
from support.procs import stop, wait_for
from support.queue_libraries import PgBoss, check_apply_reapply, node_with, purge

RESCUED = "rescue stuck rows to retry"
FAILED = "move stuck rows with exhausted attempts to dead letter"
DELETED = "delete completed older than 30.0 days"
PURGE = {
    "profile": "pg-boss",
    "schema": "pgboss",
    "table": "job",
    "retention": [{"state": "completed", "older_than_days": 30}],
    "rescue_stuck_after_minutes": 0.5,
}


@pytest.fixture(scope="module")
def node():
    return node_with("pg-boss", "pg-boss", "pg")


@pytest.fixture
def pgboss(node, postgres_server, db):
    name, conn = db
    library = PgBoss(*node, postgres_server, name)
    print("pg-boss", library.call("version"))
    library.call("schema")
    yield library, conn, postgres_server.login(name)
    library.stop_all()


def rows(conn, where="true"):
    """{id: (state, retry_count)} of the jobs WHERE says."""
    found = conn.execute(sql.SQL("SELECT id::text, state::text, retry_count FROM pgboss.job WHERE ") + sql.SQL(where))
    return {r[0]: r[1:] for r in found.fetchall()}


def active(conn, queue):
    return set(rows(conn, "state = 'active' AND name = '%s'" % queue))


def crash(library, conn, queue, count):
    """A worker takes COUNT jobs of QUEUE and is killed in the middle of them; their ids.

    Their start and heartbeat are then made an hour old, as an hour leaves them: past
    the queue's own expiry (a minute) and queue_purge's stuck time.
    """
    before = active(conn, queue)
    worker = library.worker(queue, batch=count)
    wait_for(lambda: len(active(conn, queue) - before) == count, what="the worker to take %d jobs" % count, timeout=60)
    taken = active(conn, queue) - before
    stop(worker)  # SIGKILL to its process group: the worker dies mid-job, as a crash leaves it
    age(conn, taken, "1 hour")
    return taken


def age(conn, jobs, interval):
    conn.execute(
        "UPDATE pgboss.job SET started_on = started_on - %s::interval, heartbeat_on = heartbeat_on - %s::interval "
        "WHERE id = ANY(%s::uuid[])",
        (interval, interval, sorted(jobs)),
    )


def expected_after_crash(library, queue, taken):
    """{id: (state, retry_count)} the library's own fail() gives each job of TAKEN, and whether it is finished."""
    decisions = library.call("decisions", queue, *sorted(taken))
    assert not any(d["dead_letter_copy"] for d in decisions.values()), decisions
    # A job that fails for good is finished (completed_on set); one retried is not.
    assert all(d["completed"] == (d["state"] == "failed") for d in decisions.values()), decisions
    return {job: (d["state"], d["retry_count"]) for job, d in decisions.items()}


def test_jobs_of_a_killed_worker_are_retried_or_failed_by_the_librarys_rule_and_its_worker_finishes_them(
    pgboss, tmp_path
):
    library, conn, login = pgboss
    library.call("send", "work", 6)
    # A job its worker may run for an hour, ten minutes in: alive, however long since it started.
    (live_job,) = library.call("send", "live", 1)
    live_worker = library.worker("live")
    wait_for(lambda: rows(conn, "id = '%s'" % live_job)[live_job][0] == "active", what="the live job", timeout=60)
    age(conn, [live_job], "10 minutes")
    live_before = conn.execute("SELECT * FROM pgboss.job WHERE id = %s", [live_job]).fetchone()

    rounds = []
    for count in (6, 3, 6):
        taken = crash(library, conn, "work", count)
        expected = expected_after_crash(library, "work", taken)
        result = check_apply_reapply(tmp_path, dict(login, **PURGE))
        retried = sum(1 for state, _count in expected.values() if state == "retry")
        assert result["rescued"] == {RESCUED: retried, FAILED: len(taken) - retried}, result
        assert result["left_to_queue"] == 0
        assert {job: rows(conn)[job] for job in taken} == expected
        # Finished as the library finishes a failed job; a retried one runs at once, and keeps its
        # start, so the library's fetch counts the retry.
        assert rows(conn, "state = 'failed' AND completed_on IS NULL") == {}
        assert rows(conn, "state = 'retry' AND (start_after > now() OR started_on IS NULL)") == {}
        rounds.append(sorted(expected.values()))
        assert conn.execute("SELECT * FROM pgboss.job WHERE id = %s", [live_job]).fetchone() == live_before
        assert live_worker.poll() is None

    # Six jobs, crashed once, then three of them twice more: those three are out of retries
    # (pg-boss counts a retry when its worker takes a job that was started before).
    assert rounds == [[("retry", 0)] * 6, [("retry", 1)] * 3, [("failed", 2)] * 3 + [("retry", 1)] * 3]
    assert library.call("burst", "work") == 3
    listed = library.call("jobs", "work")
    assert sorted((job["state"], job["retryCount"]) for job in listed) == [("completed", 2)] * 3 + [("failed", 2)] * 3
    assert [job["state"] for job in library.call("jobs", "live")] == ["active"]


def test_a_job_the_library_dead_letters_itself_is_left_to_its_expiry(pgboss, tmp_path):
    library, conn, login = pgboss
    library.call("send", "routed", 2)
    taken = crash(library, conn, "routed", 2)
    decisions = library.call("decisions", "routed", *sorted(taken))
    # The library fails them (no retries) and copies each into its dead-letter queue.
    assert {(d["state"], d["dead_letter_copy"]) for d in decisions.values()} == {("failed", True)}

    for flags in (["--check"], []):
        result = purge(tmp_path, dict(login, **PURGE), *flags)
        assert (result["changed"], result["rescued"], result["left_to_queue"]) == (
            False,
            {RESCUED: 0, FAILED: 0},
            2,
        ), result
        assert "left in active: the queue dead-letters them itself (dead_letter)" in " ".join(result["warnings"])
    assert set(rows(conn, "name = 'routed'").values()) == {("active", 0)}

    library.call("expire", "routed")
    assert set(rows(conn, "name = 'routed'").values()) == {("failed", 0)}
    copies = conn.execute("SELECT source_id::text FROM pgboss.job WHERE name = 'dead'").fetchall()
    assert sorted(r[0] for r in copies) == sorted(taken)
    assert purge(tmp_path, dict(login, **PURGE))["left_to_queue"] == 0


def test_retention_deletes_what_the_librarys_sweep_would_and_vacuums_that_partition(pgboss, tmp_path):
    library, conn, login = pgboss
    done = library.call("send", "done", 20)
    assert library.call("burst", "done") == 20
    old = done[:15]
    conn.execute(
        "UPDATE pgboss.job SET completed_on = completed_on - interval '40 days' WHERE id = ANY(%s::uuid[])", (old,)
    )
    assert library.call("old-jobs", "done") == 15
    (partition,) = conn.execute("SELECT table_name FROM pgboss.queue WHERE name = 'done'").fetchone()
    assert partition != "job_common"

    result = check_apply_reapply(tmp_path, dict(login, **PURGE))
    assert result["deleted"] == {DELETED: 15}
    assert result["vacuumed_tables"] == ["pgboss.%s" % partition]
    assert sorted(job["id"] for job in library.call("jobs", "done")) == sorted(done[15:])
    assert library.call("old-jobs", "done") == 0
