-- The job queue in the shape steadyops.stack.queue_purge maintains.
CREATE TABLE tds_sync_queue (
    id bigserial PRIMARY KEY,
    status text NOT NULL,
    queued_at timestamptz NOT NULL DEFAULT now(),
    started_at timestamptz,
    completed_at timestamptz,
    attempt_count integer NOT NULL DEFAULT 0,
    heartbeat_at timestamptz,
    payload jsonb
);
CREATE INDEX tds_sync_queue_status ON tds_sync_queue (status);
CREATE TABLE tds_sync_dead_letter (
    id bigint PRIMARY KEY,
    created_at timestamptz NOT NULL DEFAULT now(),
    payload jsonb
);
