"""Shared pytest setup. The collection is imported from .cache/collections (make setup links it)."""

import sys
from pathlib import Path

COLLECTIONS = Path(__file__).resolve().parents[1] / ".cache" / "collections"
if str(COLLECTIONS) not in sys.path:
    sys.path.insert(0, str(COLLECTIONS))


import pytest  # noqa: E402
from support.postgres import PostgresServer  # noqa: E402


@pytest.fixture(scope="session")
def postgres_server():
    """A real PostgreSQL 15 for the whole session (installed by `make setup`)."""
    server = PostgresServer().start()
    yield server
    server.stop()
