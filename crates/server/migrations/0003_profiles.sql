-- Products and product profiles (the Adobe Admin Console model). A profile belongs to one
-- application of one organization, bundles some of that application's roles and has a seat
-- quota. Once an application has a profile, users reach it only through a seat (direct or
-- through a group) or by holding its built-in Administrators role. Same portable subset as 0001.

CREATE TABLE profiles (
    id TEXT PRIMARY KEY,
    org_id TEXT NOT NULL REFERENCES organizations (id),
    application TEXT NOT NULL,
    name TEXT NOT NULL,
    name_key TEXT NOT NULL,
    description TEXT NOT NULL,
    -- NULL: unlimited seats.
    seat_quota BIGINT,
    -- JSON array of role ids of the same application; part of the aggregate, read whole.
    roles TEXT NOT NULL,
    version BIGINT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE UNIQUE INDEX profiles_name_uq ON profiles (org_id, application, name_key);

CREATE TABLE profile_users (
    profile_id TEXT NOT NULL REFERENCES profiles (id),
    user_id TEXT NOT NULL REFERENCES users (id),
    org_id TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (profile_id, user_id)
);
CREATE INDEX profile_users_user ON profile_users (user_id);
CREATE INDEX profile_users_org ON profile_users (org_id);

CREATE TABLE profile_groups (
    profile_id TEXT NOT NULL REFERENCES profiles (id),
    group_id TEXT NOT NULL REFERENCES user_groups (id),
    org_id TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (profile_id, group_id)
);
CREATE INDEX profile_groups_group ON profile_groups (group_id);
CREATE INDEX profile_groups_org ON profile_groups (org_id);
