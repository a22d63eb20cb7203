"""Batched queue purge against a single DELETE, with a worker dequeuing at the same time.

Builds 1,000,000 completed rows and 100,000 live (pending) ones in a
throw-away PostgreSQL, for each key type (a bigserial key, where old rows have
the low keys, and a uuid key, where completed and live rows are interleaved
all along the key), and measures in the same run:

  single   DELETE FROM tds_sync_queue WHERE status = 'completed' AND completed_at < cutoff  (the baseline)
  batched  queue_purge's core: the same predicate over consecutive slices of the key, a commit each

Prints the throughput ratio, the ratio of the p99 batch statement time
(how long a batch holds its locks) to the single DELETE, and the p99 dequeue
latency of a concurrent worker (SELECT ... FOR UPDATE SKIP LOCKED, UPDATE,
COMMIT) during the batched purge against its idle p99. Throughput is
measured without the worker for both methods; the worker runs against a
third copy. Not a test.
"""

import argparse
import multiprocessing
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / ".cache" / "collections"))
sys.path.insert(0, str(ROOT / "tests"))

import psycopg  # noqa: E402
from ansible_collections.steadyops.stack.plugins.module_utils import _pg_queue, _queue_profiles  # noqa: E402
from support.postgres import PostgresServer  # noqa: E402
from support.queue import SCHEMA  # noqa: E402

# The demo queue's own profile, without its heartbeat or dead-letter table: the bench's table has neither in use.
MAPPING = {
    "profile": "tds",
    "schema": "public",
    "table": "tds_sync_queue",
    "heartbeat_column": "",
    "dead_letter_table": "",
}


# Per key type: how the queue's key is declared, and the order a worker dequeues in (with its index).
KEYS = {
    "bigint": ("id bigserial PRIMARY KEY", "id"),
    "uuid": ("id uuid PRIMARY KEY DEFAULT gen_random_uuid()", "queued_at, id"),
}


def build(conninfo, key, completed, live):
    declaration, order = KEYS[key]
    with psycopg.connect(conninfo, autocommit=True) as conn:
        conn.execute("DROP TABLE IF EXISTS tds_sync_queue, tds_sync_dead_letter, users")
        conn.execute(SCHEMA.replace(KEYS["bigint"][0], declaration, 1))
        conn.execute("CREATE INDEX tds_sync_queue_dequeue ON tds_sync_queue (status, %s)" % order)
        # Completed rows first, as a queue that has run for a while has them: older, lower ids.
        conn.execute(
            "INSERT INTO tds_sync_queue (status, queued_at, completed_at, payload) "
            "SELECT 'completed', now() - interval '40 days', now() - interval '40 days', jsonb_build_object('n', g) "
            "FROM generate_series(1, %s) g",
            (completed,),
        )
        conn.execute(
            "INSERT INTO tds_sync_queue (status, payload) SELECT 'pending', jsonb_build_object('n', g) "
            "FROM generate_series(1, %s) g",
            (live,),
        )
        conn.execute("VACUUM (ANALYZE) tds_sync_queue")
        conn.execute("CHECKPOINT")


def single_delete(conninfo):
    with psycopg.connect(conninfo, autocommit=True) as conn:
        started = time.perf_counter()
        deleted = conn.execute(
            "DELETE FROM tds_sync_queue WHERE status = 'completed' AND completed_at < now() - interval '30 days'"
        ).rowcount
        return deleted, time.perf_counter() - started


def batched(conninfo, batch_size):
    params = dict(MAPPING)
    _queue_profiles.resolve(params)
    mapping = _pg_queue.Mapping(params)
    with psycopg.connect(conninfo, autocommit=True) as conn:
        _pg_queue.check_mapping(conn, mapping)
        runner = _pg_queue.BatchRunner(conn, batch_size, 0, 2000, 30000)
        action = _pg_queue.retention_action(mapping, "completed", 30, "completed_at")
        started = time.perf_counter()
        deleted = runner.run(action)
        return deleted, time.perf_counter() - started, runner.batch_seconds


def worker(conninfo, order, stop, latencies):
    dequeue = "SELECT id FROM tds_sync_queue WHERE status = 'pending' ORDER BY %s LIMIT 1 FOR UPDATE SKIP LOCKED"
    with psycopg.connect(conninfo) as conn:
        while not stop.is_set():
            started = time.perf_counter()
            with conn.transaction():
                row = conn.execute(dequeue % order).fetchone()
                conn.execute(
                    "UPDATE tds_sync_queue SET status = 'processing', started_at = now() WHERE id = %s", (row[0],)
                )
            latencies.append(time.perf_counter() - started)
            time.sleep(0.002)


def p99(samples):
    ordered = sorted(samples)
    return ordered[int(0.99 * (len(ordered) - 1))]


def measure_worker(conninfo, key, seconds=None, during=None):
    """Dequeue latencies for `seconds` with nothing else running, or while `during()` runs."""
    manager = multiprocessing.Manager()
    latencies, stop = manager.list(), manager.Event()
    process = multiprocessing.Process(target=worker, args=(conninfo, KEYS[key][1], stop, latencies))
    process.start()
    time.sleep(0.5)  # connected and warm
    del latencies[:]
    result = during() if during else time.sleep(seconds)
    stop.set()
    process.join()
    return list(latencies), result


def median(values):
    ordered = sorted(values)
    return ordered[len(ordered) // 2]


def measure(conninfo, key, args):
    """The three measurements of one key type, ARGS.repeats times each: the figures to print."""
    single_times, batched_times, batch_times, idle, busy = [], [], [], [], []
    for _repeat in range(args.repeats):
        build(conninfo, key, args.completed, args.live)
        single_rows, seconds = single_delete(conninfo)
        single_times.append(seconds)

        # Throughput on its own, as the single DELETE was measured.
        build(conninfo, key, args.completed, args.live)
        batched_rows, seconds, _batches = batched(conninfo, args.batch_size)
        assert single_rows == batched_rows == args.completed, (single_rows, batched_rows)
        batched_times.append(seconds)

        # Then again with a worker dequeuing: its latency, and how long each batch holds its locks.
        build(conninfo, key, args.completed, args.live)
        idle_latencies, _nothing = measure_worker(conninfo, key, seconds=2)
        busy_latencies, (_rows, _seconds, batches) = measure_worker(
            conninfo, key, during=lambda: batched(conninfo, args.batch_size)
        )
        batch_times.extend(batches)
        idle.extend(idle_latencies)
        busy.extend(busy_latencies)
    return single_times, batched_times, batch_times, idle, busy


def report(key, figures):
    single_times, batched_times, batch_times, idle, busy = figures
    single, batched_seconds = median(single_times), median(batched_times)
    print("%s key:" % key)
    print("  single DELETE (baseline): %.3f s  (runs: %s)" % (single, ", ".join("%.3f" % t for t in single_times)))
    print(
        "  batched purge:            %.3f s  (runs: %s)"
        % (batched_seconds, ", ".join("%.3f" % t for t in batched_times))
    )
    print("  throughput ratio, batched / single:          %.2f   (target >= 0.80)" % (single / batched_seconds))
    print(
        "  p99 batch statement / single DELETE:         %.4f (target <= 0.05; p99 batch %.1f ms)"
        % (p99(batch_times) / single, p99(batch_times) * 1000)
    )
    print(
        "  worker p99 dequeue, during purge / idle:     %.2f   (target <= 2.0; idle %.2f ms, during %.2f ms, "
        "%d and %d dequeues)" % (p99(busy) / p99(idle), p99(idle) * 1000, p99(busy) * 1000, len(idle), len(busy))
    )


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--completed", type=int, default=1_000_000)
    parser.add_argument("--live", type=int, default=100_000)
    parser.add_argument("--batch-size", type=int, default=10_000)
    parser.add_argument("--repeats", type=int, default=3, help="each method runs this often on a fresh table")
    parser.add_argument("--keys", nargs="+", choices=sorted(KEYS), default=sorted(KEYS))
    args = parser.parse_args()

    server = PostgresServer().start()
    try:
        figures = {key: measure(server.conninfo(), key, args) for key in args.keys}
    finally:
        server.stop()
    print(
        "%d completed + %d live rows; batch size %d; %d runs of each method, medians"
        % (args.completed, args.live, args.batch_size, args.repeats)
    )
    for key in args.keys:
        report(key, figures[key])


if __name__ == "__main__":
    main()
