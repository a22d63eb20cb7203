"""Fixtures the integration tests share."""

import uuid

import psycopg
import pytest
from support import queue


@pytest.fixture
def db(postgres_server):
    """A fresh database holding the demo stack's queue tables: (name, autocommit connection)."""
    name = "queue_%s" % uuid.uuid4().hex[:8]
    queue.create_database(postgres_server, name)
    with psycopg.connect(postgres_server.conninfo(name), autocommit=True) as conn:
        yield name, conn
    queue.drop_database(postgres_server, name)
