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


LAB_IMAGE = os.environ.get("STEADYOPS_LAB_IMAGE", "steadyops/systemd-debian12:latest")
# A program a container runs, named so that only this test's pattern can match it.
CONTAINER_LISTENER = (
    "import socket, sys, time\n"
    "s = socket.socket(); s.bind(('127.0.0.1', int(sys.argv[1]))); s.listen()\n"
    "print('listening', flush=True)\n"
    "time.sleep(600)\n"
)


@pytest.fixture
def docker_host_listener():
    """A container (the lab's local image; no registry) on the host network holding a port: (Container, port).

    Its process is visible in this machine's /proc, in another PID namespace.
    """
    from support.containers import Container  # noqa: PLC0415 - only tests that use Docker import it

    port = spawn_listener_port()
    container = Container.run(
        LAB_IMAGE,
        ["python3", "-c", CONTAINER_LISTENER, str(port), "steadyops-container-marker"],
        network="host",
        ready="listening",
    )
    try:
        yield container, port
    finally:
        container.remove()


def spawn_listener_port():
    import socket  # noqa: PLC0415

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]
