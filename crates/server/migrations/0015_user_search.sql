-- The console's user search (issue 15) matches the start of the username, the e-mail, the first
-- or the last name, lower-cased: each is a range of an index. Username and e-mail already have
-- theirs (users_username_uq, users_email_uq); these add the names. Rows stored before 0011
-- get their keys at start-up (store/user_profile.rs, fill_missing_keys).
CREATE INDEX users_org_first_name ON users (org_id, first_name_key);
CREATE INDEX users_org_last_name ON users (org_id, last_name_key);
-- Lists filtered by status count people only (kind): with both in one index, the capped count
-- of a status filter reads the index alone, not every matching row.
CREATE INDEX users_org_status_kind ON users (org_id, status, kind);
-- It covers what users_org_status (0001) served, so that one goes: one index less per write.
DROP INDEX users_org_status;
