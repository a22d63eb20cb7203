"""Which PostgreSQL names the roles pass on: each refusal names the variable, the value and why."""

import pytest
from ansible.errors import AnsibleFilterError
from ansible_collections.steadyops.stack.plugins.filter.postgres import pg_name_problems


@pytest.mark.parametrize(
    ("kind", "value", "why"),
    [
        ("database", "--schema-only", "would be read as an option"),
        ("database", "host=10.0.0.9", "would be read as a connection string"),
        ("database", "tms\nhost all all 0.0.0.0/0 trust", "holds characters other than"),
        ("database", "tms db", "holds characters other than"),
        ("database", "../tms", "holds characters other than"),
        ("database", "1tms", "starts with a digit"),
        ("database", "", "is empty"),
        ("database", 5, "must be text, not int"),
        ("database", "d" * 64, "longer than the 63 bytes"),
        ("database", "é" * 32, "longer than the 63 bytes"),  # 64 bytes in UTF-8, and not a plain letter anyway
        ("database", "all", "keyword of pg_hba.conf"),
        ("database", "Replication", "keyword of pg_hba.conf"),
        ("database", "postgres", "maintenance database"),
        ("database", "template0", "a template"),
        ("role", "postgres", "PostgreSQL's own superuser"),
        ("role", "PUBLIC", "every role"),
        ("role", "current_user", "reserves in role positions"),
        ("role", "pg_read_all_data", "starts with pg_"),
        ("role", "sameuser", "keyword of pg_hba.conf"),
    ],
)
def test_a_name_a_program_would_misread_is_refused_with_the_reason(kind, value, why):
    problems = pg_name_problems({"the_variable": value}, kind)
    assert len(problems) == 1
    assert problems[0].startswith("the_variable %r: " % (value,))
    assert why in problems[0]
    assert "name a %s of the application's own" % kind in problems[0]


@pytest.mark.parametrize("value", ["tms", "tms_staging", "TMS-2", "_x", "d" * 63, "pg_app_db"])
def test_an_application_name_is_accepted(value):
    assert pg_name_problems({"bootstrap_postgresql_db": value}, "database") == []


def test_a_role_may_not_take_what_a_database_may():
    assert pg_name_problems({"u": "pg_app_db"}, "role")
    assert pg_name_problems({"u": "template1"}, "role") == []


def test_every_variable_is_named_and_misuse_of_the_filter_is_an_error():
    problems = pg_name_problems({"b": "all", "a": "--x", "c": "ok"}, "database")
    assert [p.split(" ", 1)[0] for p in problems] == ["a", "b"]
    with pytest.raises(AnsibleFilterError, match="mapping"):
        pg_name_problems(["tms"], "database")
    with pytest.raises(AnsibleFilterError, match="kind must be"):
        pg_name_problems({"a": "tms"}, "schema")
