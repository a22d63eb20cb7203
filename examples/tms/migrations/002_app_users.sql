-- The accounts that sign in through the SSO; maintenance.yml's email audit
-- reads their addresses (stack_email_audit_query).
CREATE TABLE app_users (
    id bigserial PRIMARY KEY,
    email text NOT NULL UNIQUE,
    created_at timestamptz NOT NULL DEFAULT now()
);
