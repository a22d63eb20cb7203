"""group/steadyops.stack.postgres: one module_defaults block gives both PostgreSQL modules their login."""

import json
import uuid

import psycopg
import pytest
from support import queue
from support.playbook import run_local

PLAY = """
- hosts: localhost
  gather_facts: false
  module_defaults:
    group/steadyops.stack.postgres: {login}
  tasks:
    - name: Count the queue, logging in by the group's defaults
      steadyops.stack.queue_purge:
        table: tds_sync_queue
        retention:
          - {{state: completed, older_than_days: 30}}
      check_mode: true
      register: counted
    - name: Audit the app_users table the same way
      steadyops.stack.email_validate:
        query: SELECT email FROM app_users ORDER BY id
        policy: staging
        fail_on_invalid: false
      register: audit
    - name: Keep both results
      ansible.builtin.copy:
        content: "{{{{ {{'counted': counted, 'audit': audit}} | to_json }}}}"
        dest: {out}
        mode: "0600"
"""


@pytest.fixture
def stack_db(postgres_server):
    name = "group_%s" % uuid.uuid4().hex[:8]
    queue.create_database(postgres_server, name)
    with psycopg.connect(postgres_server.conninfo(name), autocommit=True) as conn:
        queue.add_rows(conn, 7, "completed", age_hours=24 * 40)
        conn.execute("CREATE TABLE app_users (id serial PRIMARY KEY, email text)")
        conn.execute("INSERT INTO app_users (email) VALUES ('ops@example.com'), ('test@gmail.test')")
    yield name
    queue.drop_database(postgres_server, name)


def test_module_defaults_reach_both_modules_through_the_group(postgres_server, stack_db, tmp_path):
    out = tmp_path / "results.json"
    playbook = tmp_path / "play.yml"
    playbook.write_text(PLAY.format(login=json.dumps(postgres_server.login(stack_db)), out=out))
    status, output = run_local(playbook)
    assert status == 0, output
    results = json.loads(out.read_text())
    assert results["counted"]["deleted"] == {"delete completed older than 30.0 days": 7}  # what an apply would delete
    assert results["audit"]["totals"]["checked"] == 2
    assert results["audit"]["totals"]["would_fail_in"] == {"production": 1}
