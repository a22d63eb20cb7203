-- The TDS Core queue after a worker crash and a month without maintenance.
DROP TABLE IF EXISTS tds_sync_queue, tds_sync_dead_letter;
CREATE TABLE tds_sync_queue (
    id bigserial PRIMARY KEY,
    status text NOT NULL,
    queued_at timestamptz NOT NULL DEFAULT now(),
    started_at timestamptz,
    completed_at timestamptz,
    attempt_count integer NOT NULL DEFAULT 0
);
CREATE TABLE tds_sync_dead_letter (id bigint PRIMARY KEY, created_at timestamptz NOT NULL DEFAULT now());
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
