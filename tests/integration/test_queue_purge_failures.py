"""queue_purge when the server goes away mid-purge: what committed is reported, exactly.

A server of the test's own (the suite's shared one must stay up), stopped
with `pg_ctl stop -m fast` while batches run, then started again to count
what the purge really changed.
"""

import time

import psycopg
import pytest
from support import queue
from support.postgres import PostgresServer
from support.procs import module_result, start_module

ROWS = 60000


@pytest.fixture
def own_server():
    server = PostgresServer().start()
    yield server
    server.stop()


def remaining(server, status):
    with psycopg.connect(server.conninfo("q"), autocommit=True) as conn:
        return conn.execute("SELECT count(*) FROM tds_sync_queue WHERE status = %s", (status,)).fetchone()[0]


@pytest.mark.parametrize(
    ("status", "args", "counted"),
    [
        ("completed", {"retention": [{"state": "completed", "older_than_days": 30}]}, "deleted"),
        ("processing", {"retention": [], "rescue_stuck_after_minutes": 60, "max_attempts": 5}, "rescued"),
    ],
)
def test_a_server_stopped_mid_purge_leaves_the_exact_counts_and_changed(own_server, status, args, counted):
    queue.create_database(own_server, "q")
    with psycopg.connect(own_server.conninfo("q"), autocommit=True) as conn:
        if status == "completed":
            queue.add_rows(conn, ROWS, "completed", age_hours=24 * 40)
        else:
            queue.add_rows(conn, ROWS, "processing", started_hours=3, attempts=1)
    params = dict(own_server.login("q"), table="tds_sync_queue", batch_size=500, batch_pause=0.02, **args)
    purge = start_module("queue_purge", params)
    deadline = time.time() + 60
    while remaining(own_server, status) > ROWS - 3000:
        assert purge.poll() is None, "the purge ended before the server was stopped: make it longer"
        assert time.time() < deadline
        time.sleep(0.05)
    own_server.halt("fast")
    result = module_result("queue_purge", purge)
    own_server.resume()

    done = ROWS - remaining(own_server, status)
    assert result["failed"] is True
    assert result["changed"] is True, result
    assert sum(result[counted].values()) == done, result
    assert "already changed" in result["msg"]
    assert "terminat" in result["msg"] or "server" in result["msg"], result["msg"]
