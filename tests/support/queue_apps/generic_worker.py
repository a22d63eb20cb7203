"""A worker of the generic job table the queue_purge tests write (tests/support/jobs.py: JOBS).

It works the way many queue libraries do: it takes the next runnable job and
counts the attempt as it starts (state running, started_at, attempts + 1, one
committed transaction), then holds the job's row lock while it works, and
finishes it (done, finished_at) in that same transaction. Killed in the middle,
it leaves its jobs running with nobody holding them.

  python generic_worker.py DSN CONCURRENCY SECONDS [--one-shot]

Each of CONCURRENCY threads works jobs of SECONDS each; --one-shot stops when
no job is runnable. Prints "took ID" per job as it starts it.
"""

import sys
import threading
import time

import psycopg

TAKE = """
UPDATE jobs SET state = 'running', started_at = now(), attempts = attempts + 1
WHERE id = (
    SELECT id FROM jobs WHERE state IN ('queued', 'retry') AND run_at <= now()
    ORDER BY run_at, id LIMIT 1 FOR UPDATE SKIP LOCKED
)
RETURNING id
"""


def work(dsn, seconds, one_shot):
    with psycopg.connect(dsn, autocommit=True) as conn:
        while True:
            row = conn.execute(TAKE).fetchone()
            if row is None:
                if one_shot:
                    return
                time.sleep(0.2)
                continue
            print("took", row[0], flush=True)
            with conn.transaction():
                conn.execute("SELECT 1 FROM jobs WHERE id = %s FOR UPDATE", row)
                time.sleep(seconds)
                conn.execute("UPDATE jobs SET state = 'done', finished_at = now() WHERE id = %s", row)


def main(dsn, concurrency, seconds, *flags):
    threads = [
        threading.Thread(target=work, args=(dsn, float(seconds), "--one-shot" in flags))
        for _thread in range(int(concurrency))
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()


if __name__ == "__main__":
    main(*sys.argv[1:])
