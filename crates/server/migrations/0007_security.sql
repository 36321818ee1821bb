-- Issue 9 (security hardening).
--
-- Sign-in identifiers are unique across usernames and e-mails, both ways, ignoring case: a
-- username may not equal another user's e-mail (that user's e-mail sign-in would fail and a
-- reset for the address be mailed to the squatter). Every user's username key and e-mail key
-- (once when they are equal) is a row here; the primary key does the rest on both databases.
CREATE TABLE sign_in_names (
    org_id TEXT NOT NULL,
    name_key TEXT NOT NULL,
    user_id TEXT NOT NULL,
    PRIMARY KEY (org_id, name_key)
);
CREATE INDEX sign_in_names_user ON sign_in_names (user_id);
-- Existing data may already hold a clash; the first claim wins and the rest are left out
-- (WHERE keeps SQLite's parser from reading ON CONFLICT as a join).
INSERT INTO sign_in_names (org_id, name_key, user_id)
    SELECT org_id, email_key, id FROM users WHERE 1 = 1 ON CONFLICT DO NOTHING;
INSERT INTO sign_in_names (org_id, name_key, user_id)
    SELECT org_id, username_key, id FROM users WHERE 1 = 1 ON CONFLICT DO NOTHING;

-- Delivered (or given-up) messages keep no body: they held one-time tokens.
UPDATE outbox SET body = '[delivered: the body is not kept]'
    WHERE sent_at IS NOT NULL OR next_attempt_at = 9223372036854775807;
