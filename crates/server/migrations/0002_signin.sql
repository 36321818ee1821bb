-- Sign-in (issue 5): passwords, lockout, TOTP, sessions, organisation settings, sign-in events,
-- password resets and the mail outbox. One ALTER per column: SQLite adds one at a time.

ALTER TABLE users ADD COLUMN password_hash TEXT;
ALTER TABLE users ADD COLUMN password_changed_at BIGINT;
ALTER TABLE users ADD COLUMN failed_attempts BIGINT NOT NULL DEFAULT 0;
ALTER TABLE users ADD COLUMN locked_until BIGINT;
ALTER TABLE users ADD COLUMN totp_secret TEXT;
ALTER TABLE users ADD COLUMN totp_enabled BIGINT NOT NULL DEFAULT 0;
ALTER TABLE users ADD COLUMN totp_last_step BIGINT;

CREATE TABLE password_history (
    user_id TEXT NOT NULL,
    password_hash TEXT NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE INDEX password_history_user ON password_history (user_id, created_at);

CREATE TABLE recovery_codes (
    user_id TEXT NOT NULL,
    code_hash TEXT NOT NULL,
    used_at BIGINT,
    PRIMARY KEY (user_id, code_hash)
);

-- Opaque session tokens; only SHA-256 of the secret is stored. `stage` is `full` once every
-- factor is satisfied, `totp` while the second factor is pending, `enrol` while 2FA must be set up.
CREATE TABLE sessions (
    id TEXT PRIMARY KEY,
    token_hash TEXT NOT NULL,
    user_id TEXT NOT NULL,
    org_id TEXT NOT NULL,
    stage TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    last_seen_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    -- Last time the user proved their password in this session (identity verification).
    verified_at BIGINT NOT NULL,
    source_ip TEXT NOT NULL,
    user_agent TEXT NOT NULL,
    revoked_at BIGINT,
    revoke_reason TEXT
);
CREATE UNIQUE INDEX sessions_token_uq ON sessions (token_hash);
CREATE INDEX sessions_user ON sessions (user_id, revoked_at);

CREATE TABLE org_settings (
    org_id TEXT PRIMARY KEY,
    settings TEXT NOT NULL,
    version BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);

-- Organisation administration rights (issue 6 widens the kinds); `system` administers everything.
CREATE TABLE admin_rights (
    org_id TEXT NOT NULL,
    user_id TEXT NOT NULL,
    kind TEXT NOT NULL,
    target TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (org_id, user_id, kind, target)
);

CREATE TABLE auth_events (
    id TEXT PRIMARY KEY,
    org_id TEXT NOT NULL,
    user_id TEXT,
    kind TEXT NOT NULL,
    at BIGINT NOT NULL,
    source_ip TEXT NOT NULL,
    user_agent TEXT NOT NULL,
    detail TEXT NOT NULL
);
CREATE INDEX auth_events_org_at ON auth_events (org_id, at);

CREATE TABLE reset_tokens (
    token_hash TEXT PRIMARY KEY,
    user_id TEXT NOT NULL,
    expires_at BIGINT NOT NULL,
    used_at BIGINT
);

-- Transactional outbox: a message is written in the same transaction as the change that causes
-- it and delivered afterwards; `sent_at` makes delivery at-most-once per message across restarts.
CREATE TABLE outbox (
    id TEXT PRIMARY KEY,
    org_id TEXT NOT NULL,
    recipient TEXT NOT NULL,
    subject TEXT NOT NULL,
    body TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    attempts BIGINT NOT NULL DEFAULT 0,
    next_attempt_at BIGINT NOT NULL,
    sent_at BIGINT,
    last_error TEXT
);
CREATE INDEX outbox_pending ON outbox (sent_at, next_attempt_at);

-- API credentials (integrations, service accounts). Each holds roles through a service-account
-- user row (as Keycloak's service-account users), so checks treat it exactly like a person.
ALTER TABLE users ADD COLUMN kind TEXT NOT NULL DEFAULT 'person';

CREATE TABLE api_credentials (
    id TEXT PRIMARY KEY,
    org_id TEXT NOT NULL REFERENCES organizations (id),
    name TEXT NOT NULL,
    name_key TEXT NOT NULL,
    description TEXT NOT NULL,
    service_user_id TEXT NOT NULL,
    token_hash TEXT NOT NULL,
    -- The person who created it (NULL when made with a token), and a label for either.
    created_by_user TEXT,
    created_by TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT,
    last_used_at BIGINT,
    revoked_at BIGINT,
    -- Created for automation of sensitive changes: exempt from identity re-verification.
    sensitive_changes BIGINT NOT NULL DEFAULT 0
);
CREATE UNIQUE INDEX api_credentials_name_uq ON api_credentials (org_id, name_key);
CREATE UNIQUE INDEX api_credentials_token_uq ON api_credentials (token_hash);
