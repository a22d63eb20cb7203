"""queue_purge on procrastinate's own tables, judged by procrastinate's own code and workers.

procrastinate (PyPI, its current release, installed at test time) creates its
schema, defers the jobs and runs them with its own worker; a worker is killed
with SIGKILL in the middle of its jobs. queue_purge then runs through
ansible-playbook (check, apply, re-apply) with profile procrastinate, and the
library has the last word: its retry rule says which stuck job is retried and
which fails for good, its own cleanup query says which old jobs go, its own
worker finishes every rescued job, and its own listing reads every row.
"""

import pytest
from psycopg import sql
from support.procs import stop, wait_for
from support.queue_libraries import Procrastinate, check_apply_reapply, python_with

RESCUED = "rescue stuck rows to pending"
FAILED = "move stuck rows with exhausted attempts to dead letter"
DELETED = "delete completed older than 30.0 days"
# The app's tasks retry twice (RetryStrategy(max_attempts=2)): three runs, so max_attempts 3 here.
PURGE = {
    "profile": "procrastinate",
    "table": "procrastinate_jobs",
    "retention": [{"state": "completed", "older_than_days": 30}],
    "rescue_stuck_after_minutes": 0.5,
    "max_attempts": 3,
}


@pytest.fixture(scope="module")
def library_python():
    return python_with("procrastinate", "procrastinate", "psycopg[binary,pool]")


@pytest.fixture
def procrastinate(library_python, postgres_server, db):
    name, conn = db
    library = Procrastinate(library_python, postgres_server.conninfo(name))
    library.call("schema")
    print("procrastinate", library.call("version"))
    yield library, conn, postgres_server.login(name)
    library.stop_all()


def rows(conn, where="true"):
    """{id: (status, attempts, worker_id)} of the jobs WHERE says."""
    found = conn.execute(
        sql.SQL("SELECT id, status::text, attempts, worker_id FROM procrastinate_jobs WHERE ") + sql.SQL(where)
    )
    return {r[0]: r[1:] for r in found.fetchall()}


def crash(library, conn, concurrency):
    """A worker takes CONCURRENCY jobs of queue work and is killed in the middle of them; their ids.

    Its last heartbeat is then made an hour old, as an hour without one leaves it.
    """
    before = set(rows(conn, "status = 'doing' AND queue_name = 'work'"))
    worker = library.worker("work", concurrency=concurrency)
    wait_for(
        lambda: len(set(rows(conn, "status = 'doing' AND queue_name = 'work'")) - before) == concurrency,
        what="the worker to take %d jobs" % concurrency,
        timeout=60,
    )
    taken = set(rows(conn, "status = 'doing' AND queue_name = 'work'")) - before
    (worker_id,) = {rows(conn)[job][2] for job in taken}
    stop(worker)  # SIGKILL to its process group: the worker dies mid-job, as a crash leaves it
    conn.execute(
        "UPDATE procrastinate_workers SET last_heartbeat = now() - interval '1 hour' WHERE id = %s", [worker_id]
    )
    return taken


def expected_after_crash(library, conn, taken):
    """{id: (status, attempts)} the library gives each job of TAKEN when its run fails: its own decision."""
    decisions = library.call("decisions", *sorted(taken))
    attempts = {job: row[1] for job, row in rows(conn).items()}
    # procrastinate_retry_job_v2 and procrastinate_finish_job_v1 both count the run that ended.
    return {job: ("todo" if decisions[str(job)] == "retry" else "failed", attempts[job] + 1) for job in taken}


def test_jobs_of_a_killed_worker_are_retried_or_failed_by_the_librarys_rule_and_its_worker_finishes_them(
    procrastinate, tmp_path
):
    library, conn, login = procrastinate
    library.call("defer", "work", "slow", 6)
    (live_job,) = library.call("defer", "live", "slow", 1)
    live_worker = library.worker("live")
    wait_for(lambda: rows(conn, "id = %d" % live_job)[live_job][0] == "doing", what="the live worker's job", timeout=60)
    live_before = rows(conn, "id = %d" % live_job)

    rounds = []
    for concurrency in (6, 3, 6):
        taken = crash(library, conn, concurrency)
        expected = expected_after_crash(library, conn, taken)
        result = check_apply_reapply(tmp_path, dict(login, **PURGE))
        retried = sum(1 for status, _attempts in expected.values() if status == "todo")
        assert result["rescued"] == {RESCUED: retried, FAILED: len(taken) - retried}, result
        assert {job: rows(conn)[job][:2] for job in taken} == expected
        # A retried job runs at once, and the library recorded both changes as its own retry does.
        assert rows(conn, "status = 'todo' AND (scheduled_at IS NULL OR scheduled_at > now())") == {}
        events = conn.execute(
            "SELECT job_id, array_agg(type::text ORDER BY id) FROM procrastinate_events GROUP BY 1"
        ).fetchall()
        for job, types in events:
            if job in taken:
                since_started = sorted(types[len(types) - types[::-1].index("started") :])
                wanted = ["deferred_for_retry", "scheduled"] if expected[job][0] == "todo" else ["failed"]
                assert since_started == wanted, types
        rounds.append(sorted(expected.values()))
        # The live worker beats: its job is never touched.
        assert rows(conn, "id = %d" % live_job) == live_before
        assert live_worker.poll() is None

    # Six jobs, crashed once, then three of them twice more: those three are out of retries.
    assert rounds == [[("todo", 1)] * 6, [("todo", 2)] * 3, [("failed", 3)] * 3 + [("todo", 2)] * 3]
    library.burst("work")
    listed = library.call("jobs")
    work = sorted((job["status"], job["attempts"]) for job in listed if job["queue"] == "work")
    assert work == [("failed", 3)] * 3 + [("succeeded", 3)] * 3, listed
    assert [job["status"] for job in listed if job["queue"] == "live"] == ["doing"]


def test_retention_deletes_what_the_librarys_cleanup_would_with_their_events(procrastinate, tmp_path):
    library, conn, login = procrastinate
    done = library.call("defer", "done", "quick", 20)
    library.burst("done")
    assert set(rows(conn).values()) == {("succeeded", 1, None)}
    old = done[:15]
    conn.execute("UPDATE procrastinate_events SET at = at - interval '40 days' WHERE job_id = ANY(%s)", (old,))
    would = library.call("old-jobs", 30 * 24)
    assert would == 15

    result = check_apply_reapply(tmp_path, dict(login, **PURGE))
    assert result["deleted"] == {DELETED: would}
    assert sorted(rows(conn)) == sorted(done[15:])
    assert conn.execute("SELECT count(*) FROM procrastinate_events WHERE job_id = ANY(%s)", (old,)).fetchone()[0] == 0
    assert library.call("old-jobs", 30 * 24) == 0
    assert sorted(job["id"] for job in library.call("jobs")) == sorted(done[15:])
