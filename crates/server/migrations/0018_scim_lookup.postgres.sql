-- Indexes in the collation the SCIM filter translator compares in (0018_scim_lookup.sql).
CREATE INDEX users_id_c ON users (id COLLATE "C");
CREATE INDEX users_username_c ON users (org_id, username_key COLLATE "C");
CREATE INDEX users_external_id_c ON users (org_id, external_id COLLATE "C");
CREATE INDEX user_emails_value_c ON user_emails (value_key COLLATE "C");
CREATE INDEX user_groups_id_c ON user_groups (id COLLATE "C");
CREATE INDEX user_groups_name_c ON user_groups (org_id, name_key COLLATE "C");
CREATE INDEX user_groups_external_id_c ON user_groups (org_id, external_id COLLATE "C");
CREATE INDEX group_members_user_c ON group_members (user_id COLLATE "C");
CREATE INDEX group_members_group_c ON group_members (group_id COLLATE "C");
