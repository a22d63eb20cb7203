"""maintenance.yml as cron runs it, on a freshly deployed host: check, apply, apply again.

The queue gets old and recent finished rows, rows stuck in processing (some
with their attempts spent), live rows, and old and recent dead letters; the
accounts table an invalid address; the app root more releases and dumps than
the roles keep. A check run changes none of it; one run purges and rescues
exactly what the environment's settings say and prunes to the kept numbers,
leaving live rows, the serving release and the newest dump; the next run
changes nothing. The audit's query runs as a role that can only read: queries
that would run a program, write, read a server file or have psql run a shell
fail, on both hosts, and leave nothing behind.
"""

import json
import os
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import testinfra
from helpers import FIRST, ROOT, SECOND, playbook, recap_changed, serving_release, shell_quote, stop_health_checks

testinfra_hosts = ["ansible://" + FIRST]
RECORD = Path(os.environ["STEADYOPS_REPORT_DIR"]) / "maintenance" / ("%s.json" % FIRST)
# Staging keeps completed rows 7 days and dead letters 30 (inventories/staging/.../environment.yml).
ROWS = """
INSERT INTO tds_sync_queue (status, queued_at, started_at, completed_at, attempt_count, payload)
SELECT 'completed', now() - interval '41 days', now() - interval '40 days', now() - interval '40 days', 1,
       '{"t": "old"}' FROM generate_series(1, 20);
INSERT INTO tds_sync_queue (status, queued_at, started_at, completed_at, attempt_count, payload)
SELECT 'completed', now() - interval '1 day', now() - interval '1 day', now() - interval '1 day', 1, '{"t": "recent"}'
  FROM generate_series(1, 5);
INSERT INTO tds_sync_queue (status, queued_at, started_at, heartbeat_at, attempt_count, payload)
SELECT 'processing', now() - interval '3 hours', now() - interval '3 hours', now() - interval '3 hours', 1,
       '{"t": "stuck"}' FROM generate_series(1, 3);
INSERT INTO tds_sync_queue (status, queued_at, started_at, heartbeat_at, attempt_count, payload)
SELECT 'processing', now() - interval '3 hours', now() - interval '3 hours', now() - interval '3 hours', 5,
       '{"t": "spent"}' FROM generate_series(1, 2);
INSERT INTO tds_sync_queue (status, payload) SELECT 'pending', '{"t": "live"}' FROM generate_series(1, 4);
INSERT INTO tds_sync_queue (status, started_at, heartbeat_at, attempt_count, payload)
VALUES ('processing', now() - interval '1 minute', now(), 1, '{"t": "working"}');
INSERT INTO tds_sync_dead_letter (id, created_at, payload)
SELECT -g, now() - interval '60 days', '{"t": "old dead"}' FROM generate_series(1, 3) AS g;
INSERT INTO tds_sync_dead_letter (id, created_at, payload) VALUES (-10, now() - interval '1 day', '{"t": "new dead"}');
INSERT INTO app_users (email) VALUES ('ops@tms.test'), ('sso-test@gmail.test'), ('not-an-address@');
"""
COUNTS = (
    "SELECT payload->>'t' || ':' || status, count(*) FROM tds_sync_queue WHERE payload ? 't' GROUP BY 1 UNION ALL "
    "SELECT 'dead-letter:' || (payload->>'t'), count(*) FROM tds_sync_dead_letter WHERE payload ? 't' GROUP BY 1"
)
FAKE_RELEASES = ["0000000old%02d" % n for n in range(1, 7)]
FAKE_DUMPS = ["tms-2020010%dT000000Z-old.dump" % n for n in range(1, 7)]
STATE = {}


def psql(host, sql):
    return host.check_output(
        "runuser -u postgres -- psql -X -q -At -F '=' -v ON_ERROR_STOP=1 -d tms -c %s" % shell_quote(sql)
    )


def counts(host):
    return dict(line.split("=") for line in psql(host, COUNTS).splitlines())


def host_state(host):
    return {
        "rows": counts(host),
        "releases": sorted(host.check_output("ls %s/releases" % ROOT).split()),
        "dumps": sorted(host.check_output("ls %s/backups" % ROOT).split()),
    }


@pytest.fixture(scope="module", autouse=True)
def piled_up(host):
    """What piles up, put there by hand; the worker (and cron's health check, which would start it again)
    stay stopped so the rows stay where they are."""
    stop_health_checks(host, "tms-worker.service")
    psql(host, ROWS)
    for number, name in enumerate(FAKE_RELEASES, start=1):
        host.check_output(
            "mkdir -p %s/releases/%s && touch -d 2020-01-%02d %s/releases/%s" % (ROOT, name, number, ROOT, name)
        )
    for number, name in enumerate(FAKE_DUMPS, start=1):
        host.check_output("touch -d 2020-01-%02d %s/backups/%s" % (number, ROOT, name))
    STATE["before"] = host_state(host)
    yield
    psql(host, "DELETE FROM tds_sync_queue WHERE payload ? 't'; DELETE FROM tds_sync_dead_letter WHERE id < 0; "
               "DELETE FROM app_users")  # fmt: skip
    fakes = ["%s/releases/%s" % (ROOT, r) for r in FAKE_RELEASES] + ["%s/backups/%s" % (ROOT, d) for d in FAKE_DUMPS]
    host.run("rm -rf %s" % " ".join(fakes))
    host.check_output("systemctl start tms-worker.service cron.service")


def test_a_check_run_reports_and_changes_nothing(host):
    code, output = playbook("maintenance", FIRST, "--check")
    assert code == 0, output[-3000:]
    assert host_state(host) == STATE["before"]
    record = json.loads(RECORD.read_text())
    assert record["check_mode"] is True
    assert sum(record["queues"][0]["deleted"].values()) == 20 + 3  # what the run will delete, exactly


def test_one_run_purges_rescues_and_prunes_exactly_what_the_settings_say(host):
    serving = serving_release(host)
    code, output = playbook("maintenance", FIRST)
    assert code == 0, output[-3000:]
    assert counts(host) == {
        "recent:completed": "5",  # younger than staging's 7 days
        "stuck:pending": "3",  # rescued: back to pending for another attempt
        "spent:dead_letter": "2",  # attempts spent: dead letter, not another round
        "live:pending": "4",
        "working:processing": "1",  # its worker still beats
        "dead-letter:new dead": "1",
    }
    after = host_state(host)
    assert len(after["releases"]) == 5
    assert serving in after["releases"]
    assert FAKE_RELEASES[:2] == sorted(set(STATE["before"]["releases"]) - set(after["releases"]))
    assert len(after["dumps"]) == 5
    assert FAKE_DUMPS[:2] == sorted(set(STATE["before"]["dumps"]) - set(after["dumps"]))
    assert max(STATE["before"]["dumps"]) in after["dumps"]  # the newest real dump stays

    record = json.loads(RECORD.read_text())
    assert record["check_mode"] is False
    assert record["email_audit"]["policy"] == "staging"
    assert list(record["email_audit"]["invalid"]) == ["not-an-address@"]
    # Staging accepts its test address on a special-use name, and says production would not.
    assert record["email_audit"]["totals"]["would_fail_in"]["production"] >= 1
    assert "not-an-address@" in output


def test_the_next_run_changes_nothing(host):
    before = host_state(host)
    code, output = playbook("maintenance", FIRST)
    assert code == 0, output[-3000:]
    assert recap_changed(output, FIRST) == 0, output[-3000:]
    assert host_state(host) == before


# The audit query comes from the inventory; it runs as the reader, which can only read. Each case is
# what a query would do as the superuser the audit once ran as: run a program, leave the read-only
# transaction for a write, read a server file, or have psql run a shell.
ESCAPED = "/tmp/steadyops-audit-escaped"  # noqa: S108 - in a lab host, where the server (no PrivateTmp) and any account write
HOSTILE_QUERIES = [
    ("copy-to-program", "COPY (SELECT 1) TO PROGRAM 'touch %s'" % ESCAPED, "to COPY to or from an external program"),
    (
        "leave-read-only-to-create",
        "COMMIT; BEGIN READ WRITE; CREATE TABLE audit_escaped (x int); COMMIT",
        "permission denied for schema public",
    ),
    (
        "leave-read-only-to-write",
        "COMMIT; BEGIN READ WRITE; UPDATE app_users SET email = 'escaped@tms.test'; COMMIT",
        "permission denied for table app_users",
    ),
    ("read-a-server-file", "SELECT pg_read_file('/etc/shadow')", "permission denied for function pg_read_file"),
    ("psql-shell", "\\! touch %s" % ESCAPED, "starts with a backslash, which psql would run as a command of its own"),
    # Past the first character psql sends it all to the server, which reads no shell.
    ("psql-shell-after-sql", "SELECT 1; \\! touch %s" % ESCAPED, "syntax error at or near"),
]


def audit_state(name):
    """What a query that got out would leave on host NAME: the marker, the table, the accounts' addresses."""
    lab = testinfra.get_host("ansible://%s?ansible_inventory=%s" % (name, os.environ["MOLECULE_INVENTORY_FILE"]))
    tables = psql(lab, "SELECT count(*) FROM pg_tables WHERE tablename = 'audit_escaped'")
    return lab.file(ESCAPED).exists, tables, psql(lab, "SELECT string_agg(email, ',' ORDER BY id) FROM app_users")


def run_hostile(name, cases):
    found = {}
    for case_id, query, _expected in cases:
        before = audit_state(name)
        code, output = playbook("maintenance", name, "-e", json.dumps({"stack_email_audit_query": query}))
        found[case_id] = (code, output, before, audit_state(name))
    return found


@pytest.mark.parametrize(("case_id", "query", "expected"), HOSTILE_QUERIES, ids=[c[0] for c in HOSTILE_QUERIES])
def test_an_audit_query_can_only_read(hostile_outcomes, case_id, query, expected):
    code, output, before, after = hostile_outcomes[case_id]
    assert code != 0, output[-3000:]
    assert expected in " ".join(output.split()), output[-3000:]
    assert after == before
    assert after[:2] == (False, "0")


@pytest.fixture(scope="module")
def hostile_outcomes():
    """Every hostile query's (rc, output, state before, state after), split over both hosts, both at once."""
    hosts = [FIRST, SECOND]
    with ThreadPoolExecutor(len(hosts)) as pool:
        shares = pool.map(run_hostile, hosts, [HOSTILE_QUERIES[i :: len(hosts)] for i in range(len(hosts))])
    return {case_id: outcome for share in shares for case_id, outcome in share.items()}
