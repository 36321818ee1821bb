-- "Get started" invitations (seed 004): a user added as `invited` is mailed a single-use token;
-- accepting it sets their password and makes them `active`. Only the token's SHA-256 is stored.
-- An invitation is open while neither accepted nor withdrawn; a resend replaces the open row's
-- token and expiry. No foreign key to `users`: a deleted user's invitations are withdrawn in the
-- deleting transaction and the rows stay as history next to the tombstone.
CREATE TABLE invitations (
    id TEXT PRIMARY KEY,
    org_id TEXT NOT NULL,
    user_id TEXT NOT NULL,
    token_hash TEXT NOT NULL,
    -- Who sent the live token ("user <id>", "token <name>", ...); NULL when added via POST users.
    invited_by TEXT,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    sent_at BIGINT NOT NULL,
    accepted_at BIGINT,
    withdrawn_at BIGINT
);
CREATE UNIQUE INDEX invitations_token_uq ON invitations (token_hash);
-- At most one open invitation per user: resending renews it rather than adding a second token.
CREATE UNIQUE INDEX invitations_open_uq ON invitations (user_id) WHERE accepted_at IS NULL AND withdrawn_at IS NULL;
CREATE INDEX invitations_org ON invitations (org_id, created_at);
