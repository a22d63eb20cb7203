"""After the maintenance: old terminal rows gone, live ones kept, stuck jobs rescued."""


def query(host, sql):
    result = host.run(f'runuser -u postgres -- psql -d tds -tAc "{sql}"')
    assert result.rc == 0, result.stderr
    return result.stdout.strip()


def test_rows_per_state(host):
    rows = query(host, "SELECT status || '=' || count(*) FROM tds_sync_queue GROUP BY status ORDER BY status")
    # 5,000 old completed rows purged; 12 stuck jobs back to pending; 2 with attempts used up to dead letter.
    assert rows.split() == ["completed=200", "dead_letter=2", "pending=312"]


def test_rescued_jobs_are_ready_to_run_again(host):
    assert query(host, "SELECT count(*) FROM tds_sync_queue WHERE status = 'pending' AND attempt_count = 1") == "12"
    assert query(host, "SELECT count(*) FROM tds_sync_queue WHERE status = 'pending' AND started_at IS NOT NULL") == "0"


def test_old_dead_letters_are_gone(host):
    assert query(host, "SELECT count(*) FROM tds_sync_dead_letter") == "0"


def test_table_was_vacuumed(host):
    assert (
        query(host, "SELECT last_vacuum IS NOT NULL FROM pg_stat_user_tables WHERE relname = 'tds_sync_queue'") == "t"
    )
