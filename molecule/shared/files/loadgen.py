"""Requests to this host's own nginx at a steady rate, for a bounded time; counts what failed.

    python3 steadyops-loadgen.py --rate 60 --seconds 90 --stop-file /run/loadgen.stop \
        --out /run/loadgen.json /health /api/health

Runs inside a lab host against 127.0.0.1 only. Stops at --seconds or when the
stop file appears, whichever comes first, then writes a JSON summary: sent,
failed, the failures' statuses or errors, the achieved rate, and the p50 and
p99 latency of the requests in milliseconds. Used by the deploy scenario and
by bench/deploy.py.
"""

import argparse
import http.client
import json
import os
import threading
import time

WORKERS = 8


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("paths", nargs="+")
    parser.add_argument("--rate", type=float, default=60)
    parser.add_argument("--seconds", type=float, default=90)
    parser.add_argument("--stop-file", required=True)
    parser.add_argument("--out", required=True)
    args = parser.parse_args()
    lock = threading.Lock()
    stats = {"sent": 0, "failed": 0, "failures": {}}
    latencies = []
    started = time.monotonic()
    deadline = started + min(args.seconds, 600)
    interval = WORKERS / args.rate

    def worker(index):
        next_at = started + index * interval / WORKERS
        while time.monotonic() < deadline and not os.path.exists(args.stop_file):
            path = args.paths[(index + stats["sent"]) % len(args.paths)]
            outcome = None
            sent_at = time.monotonic()
            try:
                conn = http.client.HTTPConnection("127.0.0.1", 80, timeout=5)
                conn.request("GET", path)
                status = conn.getresponse().status
                conn.close()
                if status != 200:
                    outcome = "%s %d" % (path, status)
            except OSError as exc:
                outcome = "%s %s" % (path, type(exc).__name__)
            with lock:
                latencies.append(time.monotonic() - sent_at)
                stats["sent"] += 1
                if outcome:
                    stats["failed"] += 1
                    stats["failures"][outcome] = stats["failures"].get(outcome, 0) + 1
            next_at += interval
            time.sleep(max(0.0, next_at - time.monotonic()))

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(WORKERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.monotonic() - started
    latencies.sort()

    def percentile(fraction):
        return (
            round(1000 * latencies[min(len(latencies) - 1, int(fraction * len(latencies)))], 1) if latencies else None
        )

    stats.update(
        seconds=round(elapsed, 1),
        rate=round(stats["sent"] / elapsed, 1),
        p50_ms=percentile(0.5),
        p99_ms=percentile(0.99),
    )
    with open(args.out + ".tmp", "w") as out:
        json.dump(stats, out)
    os.replace(args.out + ".tmp", args.out)


if __name__ == "__main__":
    main()
