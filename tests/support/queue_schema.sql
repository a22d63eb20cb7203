-- What the queue tests need beyond the queue itself. The queue tables are the
-- demo stack's own migration, examples/tms/migrations/001_job_queue.sql: pytest
-- (tests/support/queue.py) and the queue_maintenance Molecule scenario load
-- that file first, then this one, so the queue is defined once.
CREATE TABLE users (id serial PRIMARY KEY, email text);
