-- rolecall schema, version 1. One file for both backends: only types and syntax that SQLite and
-- PostgreSQL share (TEXT, BIGINT, expression-free unique indexes). Ids are UUID strings, times
-- are Unix milliseconds, booleans are 0/1 BIGINTs, so the sqlx Any driver maps them identically.

CREATE TABLE organizations (
    id TEXT PRIMARY KEY,
    slug TEXT NOT NULL,
    name TEXT NOT NULL,
    -- Bumped by every change that affects authorization, so every node can tell its compiled
    -- snapshot is stale.
    authz_epoch BIGINT NOT NULL DEFAULT 0,
    version BIGINT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE UNIQUE INDEX organizations_slug_uq ON organizations (slug);

-- Applications added or changed through the API; the shipped catalogue fills in the rest.
CREATE TABLE applications (
    app_key TEXT PRIMARY KEY,
    definition TEXT NOT NULL,
    version BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);

CREATE TABLE users (
    id TEXT PRIMARY KEY,
    org_id TEXT NOT NULL REFERENCES organizations (id),
    username TEXT NOT NULL,
    -- Lower-cased copies: uniqueness is case-insensitive (the issue) on both backends.
    username_key TEXT NOT NULL,
    email TEXT NOT NULL,
    email_key TEXT NOT NULL,
    first_name TEXT NOT NULL,
    last_name TEXT NOT NULL,
    locale TEXT NOT NULL,
    status TEXT NOT NULL,
    version BIGINT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    last_sign_in_at BIGINT
);
CREATE UNIQUE INDEX users_username_uq ON users (org_id, username_key);
CREATE UNIQUE INDEX users_email_uq ON users (org_id, email_key);
CREATE INDEX users_org_status ON users (org_id, status);

-- Deletion is irreversible but history must still resolve the id to a person.
CREATE TABLE deleted_users (
    id TEXT PRIMARY KEY,
    org_id TEXT NOT NULL,
    username TEXT NOT NULL,
    email TEXT NOT NULL,
    deleted_at BIGINT NOT NULL
);

CREATE TABLE user_groups (
    id TEXT PRIMARY KEY,
    org_id TEXT NOT NULL REFERENCES organizations (id),
    name TEXT NOT NULL,
    name_key TEXT NOT NULL,
    description TEXT NOT NULL,
    version BIGINT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE UNIQUE INDEX user_groups_name_uq ON user_groups (org_id, name_key);

CREATE TABLE roles (
    id TEXT PRIMARY KEY,
    org_id TEXT NOT NULL REFERENCES organizations (id),
    application TEXT NOT NULL,
    name TEXT NOT NULL,
    name_key TEXT NOT NULL,
    description TEXT NOT NULL,
    builtin BIGINT NOT NULL,
    -- JSON arrays: grants and scopes are part of the role aggregate and always read whole.
    grants TEXT NOT NULL,
    scopes TEXT NOT NULL,
    version BIGINT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE UNIQUE INDEX roles_name_uq ON roles (org_id, application, name_key);

CREATE TABLE group_members (
    group_id TEXT NOT NULL REFERENCES user_groups (id),
    user_id TEXT NOT NULL REFERENCES users (id),
    org_id TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (group_id, user_id)
);
CREATE INDEX group_members_user ON group_members (user_id);

CREATE TABLE group_roles (
    group_id TEXT NOT NULL REFERENCES user_groups (id),
    role_id TEXT NOT NULL REFERENCES roles (id),
    org_id TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (group_id, role_id)
);
CREATE INDEX group_roles_role ON group_roles (role_id);

CREATE TABLE user_roles (
    user_id TEXT NOT NULL REFERENCES users (id),
    role_id TEXT NOT NULL REFERENCES roles (id),
    org_id TEXT NOT NULL,
    application TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (user_id, role_id)
);
CREATE INDEX user_roles_role ON user_roles (role_id);

CREATE TABLE scopes (
    org_id TEXT NOT NULL REFERENCES organizations (id),
    application TEXT NOT NULL,
    code TEXT NOT NULL,
    kind TEXT NOT NULL,
    parent TEXT,
    name TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (org_id, application, code)
);

-- Bearer tokens. Only a SHA-256 of the secret is stored: the secret has 256 bits of entropy,
-- so a slow hash adds nothing and every request would pay for it.
CREATE TABLE api_tokens (
    id TEXT PRIMARY KEY,
    token_hash TEXT NOT NULL,
    name TEXT NOT NULL,
    -- NULL: server-wide (bootstrap); otherwise limited to one organization.
    org_id TEXT,
    created_at BIGINT NOT NULL,
    last_used_at BIGINT,
    revoked_at BIGINT
);
CREATE UNIQUE INDEX api_tokens_hash_uq ON api_tokens (token_hash);
