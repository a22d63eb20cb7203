"""A procrastinate application for the queue_purge tests, run in the library's own virtualenv.

Not imported by the test suite's Python: tests/support/queue_libraries.py
installs procrastinate (PyPI, current release) in a virtualenv of its own and
runs this file there, as a worker (`python -m procrastinate --app
procrastinate_app.app worker`) or as a command below. The database is
PROCRASTINATE_DSN.

  python procrastinate_app.py schema                   apply the library's schema
  python procrastinate_app.py defer QUEUE TASK COUNT   defer COUNT jobs; their ids
  python procrastinate_app.py decisions ID...          the library's retry decision for each job as it is
  python procrastinate_app.py old-jobs HOURS           what the library's own cleanup would delete
  python procrastinate_app.py jobs                     every job as the library reads it
  python procrastinate_app.py version
"""

import json
import os
import sys
import time

import procrastinate
import psycopg
from procrastinate import sql as procrastinate_sql

app = procrastinate.App(connector=procrastinate.PsycopgConnector(conninfo=os.environ["PROCRASTINATE_DSN"]))
# Two retries after a failed run: the library fails a job for good at its third failed run.
RETRIES = procrastinate.RetryStrategy(max_attempts=2)


@app.task(name="slow", retry=RETRIES)
def slow(n):
    """Runs for SLOW_SECONDS: long enough to be killed in the middle, or at once when the worker is to finish it."""
    time.sleep(float(os.environ.get("SLOW_SECONDS", "3600")))
    return n


@app.task(name="quick", retry=RETRIES)
def quick(n):
    return n


TASKS = {"slow": slow, "quick": quick}


def defer(queue, task, count):
    return [TASKS[task].configure(queue=queue).defer(n=n) for n in range(int(count))]


def decisions(job_ids):
    """{id: "retry" or "fail"}: what the library's worker does when the job's current run fails."""
    found = {}
    for job_id in job_ids:
        (job,) = app.job_manager.list_jobs(id=int(job_id))
        strategy = TASKS[job.task_name].retry_strategy
        decision = strategy.get_retry_decision(exception=RuntimeError("worker killed"), job=job)
        found[job_id] = "retry" if decision else "fail"
    return found


def old_jobs(hours):
    """How many jobs the library's delete_old_jobs would delete now (run, then rolled back)."""
    with psycopg.connect(os.environ["PROCRASTINATE_DSN"]) as conn:
        cursor = conn.execute(
            procrastinate_sql.queries["delete_old_jobs"],
            {"nb_hours": int(hours), "queue": None, "statuses": ["succeeded"]},
        )
        count = cursor.rowcount
        conn.rollback()
    return count


def jobs():
    """Every job through the library's own listing (it builds a Job from each row)."""
    return [
        {"id": j.id, "status": j.status, "attempts": j.attempts, "queue": j.queue, "task": j.task_name}
        for j in app.job_manager.list_jobs()
    ]


def main(command, *args):
    if command == "version":
        return procrastinate.__version__
    if command == "schema":
        app.schema_manager.apply_schema()
        return "applied"
    if command == "defer":
        return defer(*args)
    if command == "decisions":
        return decisions(args)
    if command == "old-jobs":
        return old_jobs(*args)
    if command == "jobs":
        return jobs()
    raise SystemExit("unknown command %s" % command)


if __name__ == "__main__":
    with app.open():
        print(json.dumps(main(*sys.argv[1:])))
