-- The TDS Core queue tables: what pytest and the queue_maintenance Molecule
-- scenario both build on. One definition, read by both.
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
CREATE TABLE users (id serial PRIMARY KEY, email text);
