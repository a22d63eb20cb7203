"""email_validate as Ansible runs it, against a real env file and a real PostgreSQL."""

import json
import os
import subprocess
import sys
import uuid

import psycopg
import pytest
from support.playbook import run_local
from support.procs import COLLECTIONS, run_module


@pytest.fixture
def users_db(postgres_server):
    name = "users_%s" % uuid.uuid4().hex[:8]
    with psycopg.connect(postgres_server.conninfo(), autocommit=True) as conn:
        conn.execute("CREATE DATABASE %s" % name)
    with psycopg.connect(postgres_server.conninfo(name), autocommit=True) as conn:
        conn.execute("CREATE TABLE users (id serial PRIMARY KEY, email text, name text)")
        conn.execute(
            "INSERT INTO users (email, name) VALUES (%s, 'a'), (%s, 'b'), (%s, 'c'), (NULL, 'd')",
            ("alice@example.com", "test@gmail.test", "ops@printer.local"),
        )
    yield name
    with psycopg.connect(postgres_server.conninfo(), autocommit=True) as conn:
        conn.execute("DROP DATABASE %s WITH (FORCE)" % name)


def test_outage_replayed_through_the_module():
    production = run_module("email_validate", {"emails": ["test@gmail.test"], "fail_on_invalid": False})
    assert production["changed"] is False
    (result,) = production["results"]
    assert (result["valid"], result["reason"]) == (False, "special_use_domain")

    staging = run_module("email_validate", {"emails": ["test@gmail.test"], "policy": "staging"})
    assert staging.get("failed") is not True
    (result,) = staging["results"]
    assert result["valid"] is True
    assert result["would_fail_in"] == ["production"]
    assert staging["totals"]["would_fail_in"] == {"production": 1}


def test_invalid_addresses_fail_with_the_list_by_default():
    result = run_module("email_validate", {"emails": ["ok@example.com", "test@gmail.test", "nobody"]})
    assert result["failed"] is True
    assert result["msg"].startswith("2 of 3 address(es) are invalid under policy production: ")
    assert "test@gmail.test (emails[1]): special_use_domain" in result["msg"]
    assert "nobody (emails[2]): missing_at_sign" in result["msg"]
    assert result["totals"]["by_reason"] == {"special_use_domain": 1, "missing_at_sign": 1}


def test_env_file_keys(tmp_path):
    env = tmp_path / "tms-backend.env"
    env.write_text(
        "# SSO settings\n"
        "SSO_TEST_USER_EMAIL=test@gmail.test\n"
        "export ADMIN_EMAILS='ops@example.com, oncall@example.org'\n"
        'ALERT_EMAIL="<CHANGE_ME>"\n'
        "DATABASE_URL=postgresql://tms:s3cret@db/tms\n"
        "email_from=noreply@example.com\n"
    )
    result = run_module("email_validate", {"env_file": str(env), "policy": "staging", "fail_on_invalid": False})
    by_address = {r["address"]: r for r in result["results"]}
    assert sorted(by_address) == sorted(
        ["test@gmail.test", "ops@example.com", "oncall@example.org", "<CHANGE_ME>", "noreply@example.com"]
    )
    assert by_address["test@gmail.test"]["source"] == "SSO_TEST_USER_EMAIL"
    assert by_address["oncall@example.org"]["source"] == "ADMIN_EMAILS"
    assert by_address["<CHANGE_ME>"]["valid"] is False
    assert "s3cret" not in str(result), "keys that do not match the pattern are never read out"


def test_query_source_audits_a_table(postgres_server, users_db):
    args = dict(postgres_server.login(users_db), query="SELECT email FROM users ORDER BY id", policy="staging")
    result = run_module("email_validate", dict(args, fail_on_invalid=False))
    assert [r["address"] for r in result["results"]] == [
        "alice@example.com",
        "test@gmail.test",
        "ops@printer.local",
        None,
    ]
    assert [r["valid"] for r in result["results"]] == [True, True, True, False]
    assert result["results"][3]["reason"] == "empty"
    assert result["results"][1]["source"] == "email row 2"
    assert result["totals"]["would_fail_in"] == {"production": 3}

    only_invalid = run_module("email_validate", dict(args, fail_on_invalid=False, return_valid=False))
    assert [r["address"] for r in only_invalid["results"]] == [None]


def test_query_arguments(postgres_server, users_db):
    args = dict(
        postgres_server.login(users_db),
        query="SELECT email FROM users WHERE name = %s",
        query_args=["b"],
        fail_on_invalid=False,
    )
    result = run_module("email_validate", args)
    assert [r["address"] for r in result["results"]] == ["test@gmail.test"]


def test_query_runs_read_only(postgres_server, users_db):
    args = dict(postgres_server.login(users_db), query="DELETE FROM users RETURNING email")
    result = run_module("email_validate", args)
    assert result["failed"] is True
    assert "read-only transaction" in result["msg"]
    with psycopg.connect(postgres_server.conninfo(users_db)) as conn:
        assert conn.execute("SELECT count(*) FROM users").fetchone()[0] == 4


def test_check_mode_gives_the_same_answer():
    args = {"emails": ["test@gmail.test", "a@example.com"], "policy": "staging"}
    assert run_module("email_validate", args, check=True)["results"] == run_module("email_validate", args)["results"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ({"emails": ["a@example.com"], "policy": "prod"}, "unknown policy 'prod'; use one of: production, staging"),
        ({"emails": ["a@example.com"], "policy": "custom"}, "policy 'custom' needs its options"),
        ({"emails": ["a@x.com"], "policies": {"staging": {"allowed": ["test"]}}}, "unknown option(s) allowed"),
        ({"env_file": "/nonexistent/app.env"}, "Cannot read env_file /nonexistent/app.env: No such file or directory"),
        ({"env_file": "/etc"}, "Cannot read env_file /etc: Is a directory"),
        ({"env_file": "/etc/hostname", "key_pattern": "(EMAIL"}, "key_pattern '(EMAIL' is not a valid regular"),
        ({"emails": ["a@example.com"], "env_file": "/tmp/x.env"}, "mutually exclusive"),
        ({"policy": "staging"}, "one of the following is required"),
    ],
)
def test_bad_input_fails_clearly(args, message):
    result = run_module("email_validate", args)
    assert result["failed"] is True
    assert message in result["msg"]


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("SELECT FROM users", "The query returned no column"),
        ("SELECT email, name FROM users", "The query returned 2 columns (email, name)"),
        ("SELECT mail FROM users", 'column "mail" does not exist'),
    ],
)
def test_bad_queries_fail_clearly(postgres_server, users_db, query, message):
    result = run_module("email_validate", dict(postgres_server.login(users_db), query=query))
    assert result["failed"] is True
    assert message in result["msg"]


# An audit under Ansible's defaults with one address that is not UTF-8; SOURCE is the module's source option.
SURROGATE_PLAY = """
- hosts: localhost
  gather_facts: false
  tasks:
    - name: Audit addresses, one of them not UTF-8
      steadyops.stack.email_validate:
        {source}
        policy: staging
        fail_on_invalid: false
      register: audit
    - name: Show the verdicts
      ansible.builtin.copy:
        content: "{{{{ audit | to_json }}}}"
        dest: {out}
        mode: "0600"
"""


def test_an_address_that_is_not_utf8_gets_its_own_verdict_and_the_batch_survives(tmp_path):
    env = tmp_path / "app.env"
    good = ["user%d@example.com" % n for n in range(11)]
    lines = [b"USER%d_EMAIL=%s" % (n, address.encode()) for n, address in enumerate(good)]
    lines.insert(5, b"BROKEN_EMAIL=caf\xe9@example.com")  # Latin-1, as an old export wrote it
    env.write_bytes(b"\n".join(lines) + b"\n")
    out = tmp_path / "audit.json"
    playbook = tmp_path / "play.yml"
    playbook.write_text(SURROGATE_PLAY.format(source="env_file: %s" % env, out=out))
    status, output = run_local(playbook)
    assert status == 0, output
    audit = json.loads(out.read_text())
    assert audit["totals"] == {
        "checked": 12,
        "valid": 11,
        "invalid": 1,
        "by_reason": {"not_utf8": 1},
        "would_fail_in": {"production": 1},
    }
    (broken,) = [r for r in audit["results"] if not r["valid"]]
    assert (broken["address"], broken["source"], broken["reason"]) == (
        "caf\\udce9@example.com",
        "BROKEN_EMAIL",
        "not_utf8",
    )
    assert sorted(r["address"] for r in audit["results"] if r["valid"]) == sorted(good)


@pytest.mark.parametrize(
    ("policies", "message"),
    [
        ({"qa": {"allow_display_name": "maybe"}}, "policies.qa.allow_display_name must be true or false, got 'maybe'"),
        ({"qa": {"allowed_special_use": [1]}}, "policies.qa.allowed_special_use: 1 should be a lower-case name"),
        ({"qa": {"allowed_special_use": "test"}}, "policies.qa.allowed_special_use must be a list"),
        ({"qa": {"test_enviroment": True}}, "policies.qa has unknown option(s) test_enviroment"),
    ],
)
def test_a_policy_option_of_the_wrong_type_is_refused_clearly(policies, message):
    result = run_module("email_validate", {"emails": ["a@example.com"], "policy": "qa", "policies": policies})
    assert result["failed"] is True
    assert message in result["msg"]
    assert "Traceback" not in result.get("module_stderr", "")


def test_policies_and_custom_read_an_option_the_same_way():
    address = ["QA <qa@example.com>"]
    from_policies = run_module(
        "email_validate",
        {
            "emails": address,
            "policy": "qa",
            "policies": {"qa": {"allow_display_name": "false"}},
            "fail_on_invalid": False,
        },
    )
    from_custom = run_module(
        "email_validate",
        {"emails": address, "policy": "custom", "custom": {"allow_display_name": "false"}, "fail_on_invalid": False},
    )
    for result in (from_policies, from_custom):
        assert result["policy"]["allow_display_name"] is False
        assert result["results"][0]["reason"] == "display_name_not_allowed"


def test_the_library_test_environment_is_an_option():
    result = run_module(
        "email_validate", {"emails": ["dev@app.test"], "policy": "custom", "custom": {"test_environment": True}}
    )
    assert result.get("failed") is not True, result
    assert result["results"][0]["valid"] is True
    assert result["policy"]["test_environment"] is True


@pytest.fixture(scope="module")
def old_library(tmp_path_factory):
    """email-validator 1.3.0, Debian 12's version, from PyPI into a directory of its own."""
    target = tmp_path_factory.mktemp("email-validator-1.3.0")
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "--quiet",
            "--no-deps",
            "--target",
            str(target),
            "email-validator==1.3.0",
        ],
        check=True,
        capture_output=True,
    )
    return target


def test_a_too_old_library_is_named_with_the_version_needed(old_library, tmp_path):
    args = tmp_path / "args.json"
    args.write_text(json.dumps({"ANSIBLE_MODULE_ARGS": {"emails": ["a@example.com"]}}))
    completed = subprocess.run(
        [sys.executable, "-m", "ansible_collections.steadyops.stack.plugins.modules.email_validate", str(args)],
        capture_output=True,
        text=True,
        env=dict(os.environ, PYTHONPATH="%s:%s" % (old_library, COLLECTIONS)),
        check=False,
    )
    result = json.loads(completed.stdout)
    assert result["failed"] is True
    assert result["msg"].startswith("email-validator 1.3.0 on this host lacks the option(s) ")
    assert "strict" in result["msg"]
    assert "email-validator 2.3.0 or newer is needed" in result["msg"]


def test_emails_not_utf8_from_a_file_lookup_keep_every_verdict_with_ansibles_defaults(tmp_path):
    listed = tmp_path / "addresses.txt"
    listed.write_bytes(b"first@example.com\ncaf\xe9@example.com\nthird@example.com\n")
    out = tmp_path / "audit.json"
    playbook = tmp_path / "play.yml"
    # A Latin-1 file read with lookup('file'): Ansible decodes what is not UTF-8 to lone surrogates.
    source = "emails: \"{{ lookup('ansible.builtin.file', '%s').splitlines() }}\"" % listed
    playbook.write_text(SURROGATE_PLAY.format(source=source, out=out))
    status, output = run_local(playbook)
    assert status == 0, output
    audit = json.loads(out.read_text())
    assert audit["totals"]["checked"] == 3
    assert [(r["address"], r["valid"], r["reason"]) for r in audit["results"]] == [
        ("first@example.com", True, None),
        ("caf\\udce9@example.com", False, "not_utf8"),
        ("third@example.com", True, None),
    ]
    # The arguments Ansible echoes back show the address escaped, as the verdict does.
    echoed = audit.get("invocation", {}).get("module_args", {}).get("emails")
    assert echoed in (None, ["first@example.com", "caf\\udce9@example.com", "third@example.com"]), echoed
