"""Shared pytest setup. The collection is imported from .cache/collections (make setup links it)."""

import os
import sys
from pathlib import Path

COLLECTIONS = Path(__file__).resolve().parents[1] / ".cache" / "collections"
if str(COLLECTIONS) not in sys.path:
    sys.path.insert(0, str(COLLECTIONS))


import pytest  # noqa: E402
from support.postgres import PostgresServer  # noqa: E402
from support.procs import spawn_listener, stop  # noqa: E402


@pytest.fixture(scope="session")
def postgres_server():
    """A real PostgreSQL 15 for the whole session (installed by `make setup`)."""
    server = PostgresServer().start()
    yield server
    server.stop()


@pytest.fixture
def as_root():
    """Not a skip: the suite runs as root (make setup installs packages), and a
    test that silently does not run would hide a regression."""
    if os.geteuid() != 0:
        pytest.fail(
            "this test needs root (it signals other users' processes, mounts, starts dockerd): run `make test` as root"
        )


@pytest.fixture
def spawned():
    """Keep spawned processes; kill and reap them after the test."""
    started = []

    def keep(proc):
        started.append(proc)
        return proc

    yield keep
    for proc in started:
        stop(proc)


@pytest.fixture
def listeners(spawned):
    """Start processes holding real sockets (support.procs.spawn_listener); (Popen, port) each."""

    def start(**kwargs):
        proc, port = spawn_listener(**kwargs)
        spawned(proc)
        return proc, port

    return start
