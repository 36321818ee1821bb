-- User lists that scale (issue 10): each sort order of GET /users reads an index in order
-- (the id breaks ties, so keyset paging after a position seeks instead of scanning), and the
-- admin-right filter finds an organisation's administrators of one kind without a scan.
-- Username order already has users_username_uq (org_id, username_key).
CREATE INDEX users_org_email ON users (org_id, email_key, id);
CREATE INDEX users_org_created ON users (org_id, created_at, id);
-- The expression the list sorts by: "never signed in" is -1 on both databases.
CREATE INDEX users_org_last_sign_in ON users (org_id, (COALESCE(last_sign_in_at, -1)), id);
CREATE INDEX admin_rights_org_kind ON admin_rights (org_id, kind, user_id);
