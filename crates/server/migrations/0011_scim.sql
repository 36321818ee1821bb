-- SCIM 2.0 provisioning (issue 14): what identity providers carry about a person, the Adobe
-- Admin Console template's identity type and country, provisioned groups, and SCIM clients.
--
-- Every case-insensitive text attribute has a `*_key` column holding its Unicode lower case
-- (`rolecall_scim::fold_case`), NULL exactly when the value is: SCIM filters compare on it, so
-- SQL and in-memory evaluation agree beyond ASCII on both databases. Multi-valued attributes
-- are kept twice: whole, as JSON on the user row (what reads return), and one row per element
-- in a child table (what filters search); both are written by the same store function.

ALTER TABLE users ADD COLUMN identity_type TEXT NOT NULL DEFAULT 'enterprise_id';
ALTER TABLE users ADD COLUMN country_code TEXT;
ALTER TABLE users ADD COLUMN external_id TEXT;
ALTER TABLE users ADD COLUMN provisioned_by TEXT;
ALTER TABLE users ADD COLUMN first_name_key TEXT;
ALTER TABLE users ADD COLUMN last_name_key TEXT;
ALTER TABLE users ADD COLUMN locale_key TEXT;
ALTER TABLE users ADD COLUMN display_name TEXT;
ALTER TABLE users ADD COLUMN display_name_key TEXT;
ALTER TABLE users ADD COLUMN nick_name TEXT;
ALTER TABLE users ADD COLUMN nick_name_key TEXT;
ALTER TABLE users ADD COLUMN title TEXT;
ALTER TABLE users ADD COLUMN title_key TEXT;
ALTER TABLE users ADD COLUMN user_type TEXT;
ALTER TABLE users ADD COLUMN user_type_key TEXT;
ALTER TABLE users ADD COLUMN name_formatted TEXT;
ALTER TABLE users ADD COLUMN name_formatted_key TEXT;
ALTER TABLE users ADD COLUMN middle_name TEXT;
ALTER TABLE users ADD COLUMN middle_name_key TEXT;
ALTER TABLE users ADD COLUMN honorific_prefix TEXT;
ALTER TABLE users ADD COLUMN honorific_prefix_key TEXT;
ALTER TABLE users ADD COLUMN honorific_suffix TEXT;
ALTER TABLE users ADD COLUMN honorific_suffix_key TEXT;
ALTER TABLE users ADD COLUMN preferred_language TEXT;
ALTER TABLE users ADD COLUMN preferred_language_key TEXT;
ALTER TABLE users ADD COLUMN timezone TEXT;
ALTER TABLE users ADD COLUMN timezone_key TEXT;
ALTER TABLE users ADD COLUMN employee_number TEXT;
ALTER TABLE users ADD COLUMN employee_number_key TEXT;
ALTER TABLE users ADD COLUMN cost_center TEXT;
ALTER TABLE users ADD COLUMN cost_center_key TEXT;
ALTER TABLE users ADD COLUMN organization TEXT;
ALTER TABLE users ADD COLUMN organization_key TEXT;
ALTER TABLE users ADD COLUMN division TEXT;
ALTER TABLE users ADD COLUMN division_key TEXT;
ALTER TABLE users ADD COLUMN department TEXT;
ALTER TABLE users ADD COLUMN department_key TEXT;
ALTER TABLE users ADD COLUMN manager_id TEXT;
-- JSON arrays, read whole.
ALTER TABLE users ADD COLUMN emails TEXT NOT NULL DEFAULT '[]';
ALTER TABLE users ADD COLUMN phone_numbers TEXT NOT NULL DEFAULT '[]';
ALTER TABLE users ADD COLUMN addresses TEXT NOT NULL DEFAULT '[]';

-- Existing rows keep their sign-in address as their one e-mail. Seed 002's e-mail syntax excludes
-- `"` and `\`, so the address needs no JSON escaping. Their name keys are filled in by the
-- server at start (`store::directory::fill_missing_keys`): SQLite's LOWER folds ASCII only.
UPDATE users SET emails = '[{"value":"' || email || '","type":"work","primary":true}]';

CREATE INDEX users_external_id ON users (org_id, external_id);

CREATE TABLE user_emails (
    user_id TEXT NOT NULL REFERENCES users (id),
    org_id TEXT NOT NULL,
    position BIGINT NOT NULL,
    value TEXT NOT NULL,
    value_key TEXT NOT NULL,
    type TEXT,
    type_key TEXT,
    display TEXT,
    display_key TEXT,
    is_primary BIGINT NOT NULL,
    PRIMARY KEY (user_id, position)
);
CREATE INDEX user_emails_value ON user_emails (org_id, value_key);
INSERT INTO user_emails (user_id, org_id, position, value, value_key, type, type_key, display, display_key, is_primary)
    SELECT id, org_id, 0, email, email_key, 'work', 'work', NULL, NULL, 1 FROM users;

CREATE TABLE user_phones (
    user_id TEXT NOT NULL REFERENCES users (id),
    org_id TEXT NOT NULL,
    position BIGINT NOT NULL,
    value TEXT NOT NULL,
    value_key TEXT NOT NULL,
    type TEXT,
    type_key TEXT,
    is_primary BIGINT NOT NULL,
    PRIMARY KEY (user_id, position)
);

CREATE TABLE user_addresses (
    user_id TEXT NOT NULL REFERENCES users (id),
    org_id TEXT NOT NULL,
    position BIGINT NOT NULL,
    formatted TEXT,
    formatted_key TEXT,
    street_address TEXT,
    street_address_key TEXT,
    locality TEXT,
    locality_key TEXT,
    region TEXT,
    region_key TEXT,
    postal_code TEXT,
    postal_code_key TEXT,
    country TEXT,
    country_key TEXT,
    type TEXT,
    type_key TEXT,
    is_primary BIGINT NOT NULL,
    PRIMARY KEY (user_id, position)
);

ALTER TABLE user_groups ADD COLUMN external_id TEXT;
ALTER TABLE user_groups ADD COLUMN provisioned_by TEXT;

-- SCIM clients: a credential kind of its own, usable only on /scim/v2, in one organisation.
-- Only the SHA-256 of the bearer secret is stored.
CREATE TABLE scim_clients (
    id TEXT PRIMARY KEY,
    org_id TEXT NOT NULL REFERENCES organizations (id),
    name TEXT NOT NULL,
    name_key TEXT NOT NULL,
    description TEXT NOT NULL,
    token_hash TEXT NOT NULL,
    -- The person who created it (NULL when made with an operator token); guarded from it.
    created_by_user TEXT,
    created_by TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    last_used_at BIGINT,
    revoked_at BIGINT
);
CREATE UNIQUE INDEX scim_clients_name_uq ON scim_clients (org_id, name_key);
CREATE UNIQUE INDEX scim_clients_token_uq ON scim_clients (token_hash);
