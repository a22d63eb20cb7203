-- The TDS Core queue after a worker crash and a month without maintenance.
-- The tables come from tests/support/queue_schema.sql, loaded first.
INSERT INTO tds_sync_queue (status, queued_at, completed_at)
    SELECT 'completed', now() - interval '45 days', now() - interval '40 days' FROM generate_series(1, 5000);
INSERT INTO tds_sync_queue (status, completed_at)
    SELECT 'completed', now() - interval '1 day' FROM generate_series(1, 200);
INSERT INTO tds_sync_queue (status) SELECT 'pending' FROM generate_series(1, 300);
INSERT INTO tds_sync_queue (status, started_at, attempt_count)
    SELECT 'processing', now() - interval '3 hours', 1 FROM generate_series(1, 12);
INSERT INTO tds_sync_queue (status, started_at, attempt_count)
    SELECT 'processing', now() - interval '3 hours', 5 FROM generate_series(1, 2);
INSERT INTO tds_sync_dead_letter (id, created_at)
    SELECT g, now() - interval '200 days' FROM generate_series(1, 30) g;
