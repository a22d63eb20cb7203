"""queue_purge on job tables of other shapes: uuid and composite keys, partitions, CHECK constraints, own states.

Each schema is written here, as another queue library would have it; the
module runs as Ansible runs it, against the suite's real PostgreSQL.
"""

import psycopg
import pytest
from ansible_collections.steadyops.stack.plugins.module_utils import _pg_queue, _queue_profiles
from support.jobs import DELETE_DONE, JOBS, MAPPING, RETENTION, TO_FAILED, add_jobs, checksum, states
from support.procs import run_module, wait_for

TO_QUEUED = "rescue stuck rows to pending"


@pytest.fixture
def jobs(db):
    name, conn = db
    conn.execute(JOBS)
    add_jobs(conn, 3000, "done", finished_days=40)  # old: purged
    add_jobs(conn, 500, "done", finished_days=2)  # recent: kept
    add_jobs(conn, 1000, "queued")
    add_jobs(conn, 20, "running", started_hours=3, attempts=1)  # stuck: back to queued
    add_jobs(conn, 5, "running", started_hours=3, attempts=5)  # stuck, attempts used up: failed
    add_jobs(conn, 5, "running", started_hours=0.05, attempts=1)  # working now
    return name, conn


def test_a_uuid_keyed_table_with_a_check_on_its_finish_time(postgres_server, jobs):
    name, conn = jobs
    args = dict(
        postgres_server.login(name),
        retention=RETENTION,
        rescue_stuck_after_minutes=60,
        max_attempts=5,
        batch_size=256,
        vacuum_dead_tuples=1000,
        **MAPPING,
    )
    untouched = (
        "(state = 'queued' AND attempts = 0) OR (state = 'running' AND started_at > now() - interval '1 hour') "
        + ("OR (state = 'done' AND finished_at > now() - interval '30 days')")
    )
    kept = checksum(conn, untouched)
    everything = checksum(conn, "true")

    check = run_module("queue_purge", args, check=True)
    assert checksum(conn, "true") == everything, "check mode changed a row"
    apply = run_module("queue_purge", args)
    assert apply.get("failed") is not True, apply.get("msg")
    assert check["deleted"] == apply["deleted"] == {DELETE_DONE: 3000, "delete dead_letter older than 30.0 days": 0}
    assert check["rescued"] == apply["rescued"] == {TO_QUEUED: 20, TO_FAILED: 5}
    assert check["states_after"] == apply["states_after"] == states(conn)
    assert apply["states_after"] == {"done": 500, "queued": 1020, "running": 5, "failed": 5}
    assert apply["batches"]["count"] > 20
    # The CHECK held because a job moved to failed got its finish time; the rescued kept their attempts.
    assert checksum(conn, "state = 'failed' AND finished_at > now() - interval '1 minute'")[0] == 5
    assert checksum(conn, "state = 'queued' AND attempts = 1 AND started_at IS NULL")[0] == 20
    assert checksum(conn, untouched) == kept

    # Right after the purge: nothing left to do, and VACUUM's statistics already say so.
    reapply = run_module("queue_purge", args)
    assert reapply["changed"] is False, reapply
    assert reapply["vacuumed_tables"] == []


@pytest.mark.parametrize(
    ("key", "message"),
    [
        (["priority"], "id_column (priority) is not a unique key of public.jobs"),
        (["state", "priority"], "id_column (state, priority) is not a unique key of public.jobs"),
        (["external_ref"], "the unique key (external_ref) of public.jobs allows NULL"),
    ],
)
def test_a_key_that_is_not_unique_is_refused_before_any_change(postgres_server, jobs, key, message):
    name, conn = jobs
    before = checksum(conn, "true")
    args = dict(
        postgres_server.login(name), retention=RETENTION, rescue_stuck_after_minutes=60, id_column=key, **MAPPING
    )
    result = run_module("queue_purge", args)
    assert result["failed"] is True
    assert message in result["msg"]
    assert "Nothing was changed" in result["msg"]
    if "not a unique key" in message:
        assert "(id) primary key" in result["msg"], "the message names the keys that would do"
    assert checksum(conn, "true") == before


def test_a_column_the_profile_gave_and_the_table_lacks_is_named_with_its_option(postgres_server, jobs):
    name, conn = jobs
    before = checksum(conn, "true")
    args = dict(postgres_server.login(name), rescue_stuck_after_minutes=60, **dict(MAPPING, heartbeat_column=None))
    result = run_module("queue_purge", {k: v for k, v in args.items() if v is not None})
    assert result["failed"] is True
    assert (
        "has no column(s) heartbeat_at (it comes from profile tds: set heartbeat_column for this table, "
        "or to an empty string for none)" in result["msg"]
    )
    assert checksum(conn, "true") == before


def test_state_values_the_mapping_does_not_name_are_refused_unless_ignored(postgres_server, jobs):
    name, conn = jobs
    # The table's own 'pending' is not the module's pending (mapped to 'queued' here).
    add_jobs(conn, 500, "pending")
    before = checksum(conn, "true")
    args = dict(postgres_server.login(name), retention=RETENTION, rescue_stuck_after_minutes=60, **MAPPING)
    refused = run_module("queue_purge", args)
    assert refused["failed"] is True
    assert "holds state value(s) that states does not map: pending (500 rows)" in refused["msg"]
    assert checksum(conn, "true") == before

    counted = run_module("queue_purge", dict(args, ignored_states=["pending"]), check=True)
    assert counted["states_before"] == {"done": 3500, "queued": 1000, "running": 30, "pending": 500}
    assert counted["states_after"]["pending"] == 500
    assert counted["states_after"]["queued"] == 1020


PARTITIONED = """
CREATE TABLE pjobs (
    name text NOT NULL,
    id bigserial,
    state text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    started_at timestamptz,
    finished_at timestamptz,
    attempts integer NOT NULL DEFAULT 0,
    payload jsonb,
    PRIMARY KEY (name, id)
) PARTITION BY LIST (name);
CREATE TABLE pjobs_mail PARTITION OF pjobs FOR VALUES IN ('mail');
CREATE TABLE pjobs_sync PARTITION OF pjobs FOR VALUES IN ('sync');
-- Dead tuples stay until the purge decides: autovacuum would remove them first on a busy machine.
ALTER TABLE pjobs_mail SET (autovacuum_enabled = false);
ALTER TABLE pjobs_sync SET (autovacuum_enabled = false);
"""


def dead_tuples(conn, relname):
    return conn.execute("SELECT n_dead_tup FROM pg_stat_user_tables WHERE relname = %s", (relname,)).fetchone()[0]


def test_a_partitioned_queue_walks_its_composite_key_and_vacuums_only_the_partition_that_needs_it(postgres_server, db):
    name, conn = db
    conn.execute(PARTITIONED)
    add_jobs(conn, 3000, "done", finished_days=40, table="pjobs", name="mail")
    add_jobs(conn, 200, "done", finished_days=40, table="pjobs", name="sync")
    add_jobs(conn, 2000, "queued", table="pjobs", name="sync")
    live = checksum(conn, "state = 'queued'", table="pjobs")
    # The key in another order than the primary key's: the walk takes the index's own order.
    args = dict(
        postgres_server.login(name),
        retention=RETENTION,
        batch_size=500,
        vacuum_dead_tuples=1000,
        **dict(MAPPING, table="pjobs", id_column=["id", "name"]),
    )
    check = run_module("queue_purge", args, check=True)
    first = run_module("queue_purge", args)
    assert first.get("failed") is not True, first.get("msg")
    assert check["deleted"][DELETE_DONE] == first["deleted"][DELETE_DONE] == 3200
    # Rows went from both partitions; the parent has no rows and no statistics of its own.
    assert check["vacuumed_tables"] == first["vacuumed_tables"] == ["public.pjobs_mail", "public.pjobs_sync"]
    assert states(conn, "pjobs") == {"queued": 2000}
    assert checksum(conn, "state = 'queued'", table="pjobs") == live
    again = run_module("queue_purge", args)
    assert again["changed"] is False, again

    # Churn in one partition only: dead tuples there, and nothing to delete.
    with psycopg.connect(postgres_server.conninfo(name), autocommit=True) as churn:
        churn.execute("UPDATE pjobs SET payload = '{}'::jsonb WHERE name = 'sync'")
    wait_for(lambda: dead_tuples(conn, "pjobs_sync") >= 2000, timeout=20, what="dead tuples to show in pg_stat")
    churned = run_module("queue_purge", args)
    assert churned["changed"] is True
    assert churned["vacuumed_tables"] == ["public.pjobs_sync"]
    assert set(churned["deleted"].values()) == {0}
    assert run_module("queue_purge", args)["changed"] is False


def test_a_batch_plan_stays_linear_when_the_statistics_say_the_slice_is_empty(postgres_server, db):
    """After a purge the statistics claim each slice holds a row or so; a nested-loop semi-join
    planned on that rescans the locked rows once per row of the slice (a 10,000-row batch of a
    uuid-keyed table ran past the 30 s statement timeout). The runner's settings rule it out."""
    _name, conn = db
    conn.execute(JOBS)
    conn.execute("ALTER TABLE jobs SET (autovacuum_enabled = false)")
    # Analyzed while no row was done; done since, as a purge's or a worker's changes outrun ANALYZE.
    add_jobs(conn, 20000, "queued", finished_days=40)
    conn.execute("ANALYZE jobs")
    conn.execute("UPDATE jobs SET state = 'done'")
    params = dict(MAPPING, profile="tds", schema="public", dead_letter_table=None)
    _queue_profiles.resolve(params)
    mapping = _pg_queue.Mapping(params)
    _pg_queue.check_mapping(conn, mapping)
    action = _pg_queue.retention_action(mapping, "completed", 30, "finished_at")
    runner = _pg_queue.BatchRunner(conn, 10000, 0, 2000, 30000)
    after, end = next(mapping.key.slices(conn, 10000))
    statement = _pg_queue.batch_statement(action, after is None, "skip_locked").as_string(conn)
    args = dict(action.args, **mapping.key.args("hi", end))

    def plan(settings):
        with conn.transaction(force_rollback=True):
            conn.execute(settings)
            return "\n".join(row[0] for row in conn.execute("EXPLAIN " + statement, args, prepare=False))

    assert "Nested Loop" in plan("SET LOCAL enable_nestloop = on"), "the hazard is not reproduced here"
    assert "Nested Loop" not in plan(runner.settings["skip_locked"])
