"""The demo worker: takes pending jobs from tds_sync_queue, one at a time, and completes them.

A job is claimed with FOR UPDATE SKIP LOCKED, so several workers never take
the same one; its heartbeat tells queue_purge it is alive. On SIGTERM the
job in hand is finished first.
"""

import os
import signal
import threading
import time

import psycopg

CLAIM = """
UPDATE tds_sync_queue SET status = 'processing', started_at = now(), heartbeat_at = now(),
       attempt_count = attempt_count + 1
 WHERE id = (SELECT id FROM tds_sync_queue WHERE status = 'pending' ORDER BY id FOR UPDATE SKIP LOCKED LIMIT 1)
RETURNING id
"""
COMPLETE = "UPDATE tds_sync_queue SET status = 'completed', completed_at = now() WHERE id = %s"


def main():
    stopping = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stopping.set())
    print("tms-worker started", flush=True)
    with psycopg.connect(os.environ["DATABASE_URL"], autocommit=True, connect_timeout=5) as conn:
        while not stopping.is_set():
            row = conn.execute(CLAIM).fetchone()
            if row is None:
                time.sleep(0.5)
                continue
            time.sleep(0.05)  # the work
            conn.execute(COMPLETE, row)
            print("completed job %d" % row[0], flush=True)


if __name__ == "__main__":
    main()
