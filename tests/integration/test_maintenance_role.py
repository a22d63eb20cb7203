"""The maintenance role's queues on a real PostgreSQL: every option of an entry reaches queue_purge."""

import json

import yaml
from support import queue
from support.playbook import run_local


def queues_playbook(tmp_path, entries, mode="maintain"):
    """A play running the role's queues entry point on localhost, then printing what it kept."""
    path = tmp_path / "queues.yml"
    path.write_text(
        yaml.safe_dump(
            [
                {
                    "name": "Keep the queues",
                    "hosts": "localhost",
                    "gather_facts": False,
                    "tasks": [
                        {
                            "name": "Keep them",
                            "ansible.builtin.include_role": {"name": "steadyops.stack.maintenance",
                                                             "tasks_from": "queues"},
                            "vars": {"maintenance_queues": entries, "maintenance_queue_mode": mode,
                                     "maintenance_database": "unused"},
                        },
                        {"name": "Keep what it kept",
                         "ansible.builtin.copy": {"content": "{{ maintenance_queue_results | to_json }}",
                                                  "dest": str(tmp_path / "kept.json"), "mode": "0600"}},
                    ],
                }
            ]
        )
    )  # fmt: skip
    return path


def kept(tmp_path):
    return json.loads((tmp_path / "kept.json").read_text())


def run(playbook):
    # On a host the role runs queue_purge as the postgres account (peer authentication); the test
    # server trusts every local connection, and this machine has no sudo, so the module runs as we do.
    return run_local(playbook, "-e", "ansible_become=false")


def test_every_option_of_an_entry_reaches_queue_purge(tmp_path, postgres_server, db):
    name, conn = db
    queue.add_rows(conn, 3, "completed", age_hours=48)
    queue.add_rows(conn, 2, "pending")
    entry = dict(
        postgres_server.login(name),
        table="tds_sync_queue",
        retention=[{"state": "completed", "older_than_days": 1}],
        # Options the playbooks once dropped on the way to the module (login_port among them: the run
        # would have gone to the default server).
        batch_size=1,
        batch_pause=0,
        lock_timeout_ms=500,
        statement_timeout_ms=5000,
        vacuum_dead_tuples=1,
        connect_params={"application_name": "steadyops-maintenance-test"},
    )

    status, output = run(queues_playbook(tmp_path, [entry]))

    assert status == 0, output
    [result] = kept(tmp_path)
    assert result["deleted"] == {"delete completed older than 1.0 days": 3}
    # One row per batch: batch_size reached the module (its default is 10000, one batch for all three).
    assert result["batches"]["count"] >= 3
    assert queue.states(conn) == {"pending": 2}


def test_counting_changes_nothing_whatever_the_entry_says(tmp_path, postgres_server, db):
    name, conn = db
    queue.add_rows(conn, 3, "completed", age_hours=48)
    before = queue.checksum(conn)
    entry = dict(
        postgres_server.login(name), table="tds_sync_queue", retention=[{"state": "completed", "older_than_days": 1}]
    )

    status, output = run(queues_playbook(tmp_path, [entry], mode="count"))

    assert status == 0, output
    [result] = kept(tmp_path)
    assert result["counted_only"] is True
    assert result["states_before"] == {"completed": 3}
    assert queue.checksum(conn) == before


def test_a_count_where_the_maintenance_would_fail_keeps_the_reason_and_the_maintenance_fails(
    tmp_path, postgres_server, db
):
    name, conn = db
    queue.add_rows(conn, 4, "processing", started_hours=3, attempts=1)
    # The count runs the rescue's own UPDATE (rolled back), which cannot clear a heartbeat the table generates.
    conn.execute(
        "ALTER TABLE tds_sync_queue DROP COLUMN heartbeat_at, "
        "ADD COLUMN heartbeat_at timestamptz GENERATED ALWAYS AS (started_at) STORED"
    )
    before = queue.checksum(conn)
    entry = dict(
        postgres_server.login(name),
        table="tds_sync_queue",
        retention=[],
        rescue_stuck_after_minutes=60,
        heartbeat_column="heartbeat_at",
    )

    status, output = run(queues_playbook(tmp_path, [entry], mode="count"))
    assert status == 0, output
    [result] = kept(tmp_path)
    assert result["error"].startswith("queue_purge would fail before any row changed"), result
    assert 'column "heartbeat_at" can only be updated to DEFAULT' in result["error"]
    assert queue.checksum(conn) == before

    status, output = run(queues_playbook(tmp_path, [entry]))
    assert status != 0
    assert "can only be updated to DEFAULT" in output, output[-3000:]
    assert queue.checksum(conn) == before


def test_an_unknown_key_is_refused_before_any_queue_is_touched(tmp_path, postgres_server, db):
    name, conn = db
    queue.add_rows(conn, 3, "completed", age_hours=48)
    before = queue.checksum(conn)
    entry = dict(postgres_server.login(name), table="tds_sync_queue", batch_sise=1,
                 retention=[{"state": "completed", "older_than_days": 1}])  # fmt: skip

    status, output = run(queues_playbook(tmp_path, [entry]))

    assert status != 0
    assert "batch_sise" in output
    assert "Purge, rescue or count the queue" not in output
    assert queue.checksum(conn) == before
