"""PostgreSQL names as the roles pass them on, read back by PostgreSQL and pg_dump themselves.

Every generated name the rule accepts is created as a role and a database
(quoted, as community.postgresql creates them), comes back from pg_roles and
pg_database exactly, and pg_dump called the way the deploy role calls it
(`--format=custom -- NAME`) dumps that very database: pg_restore --list names
it. What the rule refuses is what the real programs misread; each kind is
shown with the program itself.
"""

import random
import string
import subprocess

import psycopg
import pytest
from ansible_collections.steadyops.stack.plugins.module_utils._pg_names import name_problem
from psycopg import sql
from support.postgres import PG_BIN

SEED = 20261207
CASES = 250
SAFE = string.ascii_letters + string.digits + "_-"
TROUBLE = "=$ .;'\"\n/\\é*"


def generated_names():
    rng = random.Random(SEED)  # noqa: S311 - reproducible names, not secrets
    names = set()
    while len(names) < CASES:
        length = rng.choice([1, 2, 8, 20, 40, 62, 63, 64, 70])
        names.add("".join(rng.choice(TROUBLE if rng.random() < 0.03 else SAFE) for _char in range(length)))
    return sorted(names)


NAMES = generated_names()
ACCEPTED = [name for name in NAMES if name_problem("x", name, "database") is None]
ACCEPTED_ROLES = [name for name in ACCEPTED if name_problem("x", name, "role") is None]


def dump_names(server, tmp_path, *name_arguments):
    """The database pg_dump really dumped, called with NAME_ARGUMENTS after its options (pg_restore --list)."""
    dump = tmp_path / "out.dump"
    command = [PG_BIN / "pg_dump", "-h", server.socket_dir, "-p", server.port, "-U", "postgres", "--format=custom",
               "--file", dump, *name_arguments]  # fmt: skip
    subprocess.run([str(part) for part in command], check=True, capture_output=True, timeout=60)
    listing = subprocess.run([PG_BIN / "pg_restore", "--list", dump], check=True, capture_output=True, text=True)
    return [line.split("dbname: ", 1)[1] for line in listing.stdout.splitlines() if "dbname: " in line]


def test_the_generator_reaches_both_sides_and_the_edges():
    assert len(ACCEPTED) > CASES // 4
    assert len(NAMES) - len(ACCEPTED) > CASES // 4
    assert any(len(name) == 63 for name in ACCEPTED), "the longest name PostgreSQL keeps"
    assert any("-" in name for name in ACCEPTED_ROLES)


def test_every_accepted_name_is_what_postgresql_and_pg_dump_read(postgres_server, tmp_path):
    failures = []
    with psycopg.connect(postgres_server.conninfo(), autocommit=True) as conn:
        for name in ACCEPTED:
            role = name if name in ACCEPTED_ROLES else None
            try:
                if role:
                    conn.execute(sql.SQL("CREATE ROLE {} LOGIN").format(sql.Identifier(role)))
                conn.execute(
                    sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name))
                    + (sql.SQL(" OWNER {}").format(sql.Identifier(role)) if role else sql.SQL(""))
                )
                found_db = conn.execute(
                    "SELECT datname::text FROM pg_database WHERE datname::text = %s", [name]
                ).fetchall()
                found_role = conn.execute(
                    "SELECT rolname::text FROM pg_roles WHERE rolname::text = %s", [name]
                ).fetchall()
                if found_db != [(name,)] or (role and found_role != [(name,)]):
                    failures.append((name, "read back as", found_db, found_role))
                elif dump_names(postgres_server, tmp_path, "--", name) != [name]:
                    failures.append((name, "pg_dump dumped another database"))
            finally:
                conn.execute(sql.SQL("DROP DATABASE IF EXISTS {}").format(sql.Identifier(name)))
                if role:
                    conn.execute(sql.SQL("DROP ROLE IF EXISTS {}").format(sql.Identifier(role)))
    assert not failures, failures[:5]


def test_an_option_reaches_pg_dump_as_an_option_without_the_separator(postgres_server, tmp_path):
    """The outage the rule prevents: the pre-migration 'backup' of --schema-only is postgres, schema only."""
    assert dump_names(postgres_server, tmp_path, "--schema-only") == ["postgres"]
    assert "would be read as an option" in name_problem("stack_database", "--schema-only", "database")


def test_a_name_with_an_equals_sign_is_a_connection_string_even_after_the_separator(postgres_server, tmp_path):
    assert dump_names(postgres_server, tmp_path, "--", "dbname=postgres") == ["postgres"]
    assert "connection string" in name_problem("stack_database", "dbname=postgres", "database")


def test_postgresql_cuts_a_long_name_so_the_created_role_is_another(postgres_server):
    name = "r" * 64
    with psycopg.connect(postgres_server.conninfo(), autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE ROLE {}").format(sql.Identifier(name)))
        try:
            # As text: a parameter compared with a name column is cut to 63 bytes itself.
            assert conn.execute("SELECT count(*) FROM pg_roles WHERE rolname::text = %s", [name]).fetchone() == (0,)
            assert conn.execute("SELECT count(*) FROM pg_roles WHERE rolname::text = %s", [name[:63]]).fetchone() == (
                1,
            )
        finally:
            conn.execute(sql.SQL("DROP ROLE {}").format(sql.Identifier(name[:63])))
    assert "longer than the 63 bytes" in name_problem("bootstrap_postgresql_user", name, "role")


@pytest.mark.parametrize("name", ["pg_app", "pg_monitor"])
def test_postgresql_reserves_the_pg_prefix_for_its_own_roles(postgres_server, name):
    with (
        psycopg.connect(postgres_server.conninfo(), autocommit=True) as conn,
        pytest.raises(psycopg.errors.ReservedName),
    ):
        conn.execute(sql.SQL("CREATE ROLE {}").format(sql.Identifier(name)))
    assert "starts with pg_" in name_problem("bootstrap_postgresql_user", name, "role")
