//! Queries for the directory's aggregates: organizations, users, groups, roles, scopes,
//! memberships and assignments, and the load of one organization's authorization model.
//! Functions take a connection (usually a transaction) so use cases compose them atomically.

use super::{
    get_i64, get_opt_i64, get_opt_str, get_str, get_uuid, sql_for, unique_violation, Backend,
};
use crate::error::{Error, Result};
use rolecall_core::admin::OrgKind;
use rolecall_core::authz::{AuthzModel, RoleRule};
use rolecall_core::model::{
    Group, GroupId, Millis, OrgId, Organization, Role, RoleId, Scope, User, UserId, UserKind,
    UserStatus,
};
use rolecall_core::validate::{
    Description, DisplayName, Email, ExternalId, Locale, PersonName, RoleName, RoleNaming,
    ScopeCode, Slug, Username,
};
use sqlx::any::AnyRow;
use sqlx::{AnyConnection, Row};

fn corrupt(what: &str, e: impl std::fmt::Display) -> Error {
    Error::Internal(format!("stored {what} fails validation: {e}"))
}

fn conflict_on_unique(e: sqlx::Error, code: &'static str, message: String) -> Error {
    if unique_violation(&e) {
        Error::Domain(rolecall_core::Error::conflict(code, message))
    } else {
        Error::Database(e)
    }
}

// ---------------------------------------------------------------- organizations

fn org_from_row(row: &AnyRow) -> Result<Organization> {
    Ok(Organization {
        id: OrgId(get_uuid(row, "id")?),
        slug: Slug::parse("slug", &get_str(row, "slug")?)
            .map_err(|e| corrupt("slug", e.message))?,
        name: DisplayName::parse("name", &get_str(row, "name")?)
            .map_err(|e| corrupt("name", e.message))?,
        kind: if get_str(row, "kind")? == "teams" {
            OrgKind::Teams
        } else {
            OrgKind::Enterprise
        },
        owner_id: get_opt_str(row, "owner_user_id")?.and_then(|s| s.parse().ok()),
        version: get_i64(row, "version")?,
        created_at: get_i64(row, "created_at")?,
        updated_at: get_i64(row, "updated_at")?,
    })
}

pub async fn insert_org(c: &mut AnyConnection, b: Backend, org: &Organization) -> Result<()> {
    sqlx::query(&sql_for(b, "INSERT INTO organizations (id, slug, name, authz_epoch, version, created_at, updated_at, kind) VALUES ($1, $2, $3, 0, $4, $5, $6, $7)"))
        .bind(org.id.to_string())
        .bind(org.slug.as_str())
        .bind(org.name.as_str())
        .bind(org.version)
        .bind(org.created_at)
        .bind(org.updated_at)
        .bind(match org.kind { OrgKind::Teams => "teams", OrgKind::Enterprise => "enterprise" })
        .execute(c)
        .await
        .map_err(|e| conflict_on_unique(e, "duplicate_slug", format!("an organization with slug {} already exists", org.slug)))?;
    Ok(())
}

/// Finds an organization by id or slug.
pub async fn find_org(
    c: &mut AnyConnection,
    b: Backend,
    key: &str,
) -> Result<Option<Organization>> {
    let row = if uuid::Uuid::parse_str(key).is_ok() {
        sqlx::query(&sql_for(b, "SELECT * FROM organizations WHERE id = $1"))
            .bind(key.to_ascii_lowercase())
            .fetch_optional(c)
            .await?
    } else {
        sqlx::query(&sql_for(b, "SELECT * FROM organizations WHERE slug = $1"))
            .bind(key)
            .fetch_optional(c)
            .await?
    };
    row.as_ref().map(org_from_row).transpose()
}

pub async fn lock_org(
    c: &mut AnyConnection,
    b: Backend,
    id: OrgId,
) -> Result<Option<Organization>> {
    let row = sqlx::query(&sql_for(
        b,
        &format!("SELECT * FROM organizations WHERE id = $1{}", for_update(b)),
    ))
    .bind(id.to_string())
    .fetch_optional(c)
    .await?;
    row.as_ref().map(org_from_row).transpose()
}

pub async fn list_orgs(c: &mut AnyConnection, b: Backend) -> Result<Vec<Organization>> {
    let rows = sqlx::query(&sql_for(b, "SELECT * FROM organizations ORDER BY slug"))
        .fetch_all(c)
        .await?;
    rows.iter().map(org_from_row).collect()
}

pub async fn update_org(
    c: &mut AnyConnection,
    b: Backend,
    org: &Organization,
    expected_version: i64,
) -> Result<bool> {
    let r = sqlx::query(&sql_for(b, "UPDATE organizations SET name = $1, version = $2, updated_at = $3 WHERE id = $4 AND version = $5"))
        .bind(org.name.as_str())
        .bind(org.version)
        .bind(org.updated_at)
        .bind(org.id.to_string())
        .bind(expected_version)
        .execute(c)
        .await?;
    Ok(r.rows_affected() == 1)
}

/// Marks the organization's compiled rights stale; called in the same transaction as the change.
pub async fn bump_epoch(c: &mut AnyConnection, b: Backend, org: OrgId) -> Result<()> {
    sqlx::query(&sql_for(
        b,
        "UPDATE organizations SET authz_epoch = authz_epoch + 1 WHERE id = $1",
    ))
    .bind(org.to_string())
    .execute(c)
    .await?;
    Ok(())
}

/// As [`bump_epoch`], returning the new epoch: one statement where a change needs both.
pub async fn next_epoch(c: &mut AnyConnection, b: Backend, org: OrgId) -> Result<i64> {
    let row = sqlx::query(&sql_for(
        b,
        "UPDATE organizations SET authz_epoch = authz_epoch + 1 WHERE id = $1 RETURNING authz_epoch",
    ))
    .bind(org.to_string())
    .fetch_one(c)
    .await?;
    get_i64(&row, "authz_epoch")
}

pub async fn epoch(c: &mut AnyConnection, b: Backend, org: OrgId) -> Result<i64> {
    let row = sqlx::query(&sql_for(
        b,
        "SELECT authz_epoch FROM organizations WHERE id = $1",
    ))
    .bind(org.to_string())
    .fetch_one(c)
    .await?;
    get_i64(&row, "authz_epoch")
}

pub async fn epochs(c: &mut AnyConnection) -> Result<Vec<(OrgId, i64)>> {
    let rows = sqlx::query("SELECT id, authz_epoch FROM organizations")
        .fetch_all(c)
        .await?;
    rows.iter()
        .map(|r| Ok((OrgId(get_uuid(r, "id")?), get_i64(r, "authz_epoch")?)))
        .collect()
}

// ---------------------------------------------------------------- users

/// A user from a `users` row (every column).
pub(crate) fn user_row(row: &AnyRow) -> Result<User> {
    user_from_row(row)
}

pub(crate) fn user_from_row(row: &AnyRow) -> Result<User> {
    let status = get_str(row, "status")?;
    let (profile, provisioned_by) = super::user_profile::from_row(row)?;
    Ok(User {
        id: UserId(get_uuid(row, "id")?),
        org_id: OrgId(get_uuid(row, "org_id")?),
        username: Username::parse("username", &get_str(row, "username")?)
            .map_err(|e| corrupt("username", e.message))?,
        email: Email::parse("email", &get_str(row, "email")?)
            .map_err(|e| corrupt("email", e.message))?,
        first_name: PersonName::parse("first_name", &get_str(row, "first_name")?)
            .map_err(|e| corrupt("first_name", e.message))?,
        last_name: PersonName::parse("last_name", &get_str(row, "last_name")?)
            .map_err(|e| corrupt("last_name", e.message))?,
        locale: Locale::parse("locale", &get_str(row, "locale")?)
            .map_err(|e| corrupt("locale", e.message))?,
        status: UserStatus::parse("status", &status).map_err(|e| corrupt("status", e.message))?,
        kind: if get_str(row, "kind")? == "service" {
            UserKind::Service
        } else {
            UserKind::Person
        },
        version: get_i64(row, "version")?,
        created_at: get_i64(row, "created_at")?,
        updated_at: get_i64(row, "updated_at")?,
        last_sign_in_at: get_opt_i64(row, "last_sign_in_at")?,
        profile,
        provisioned_by,
    })
}

fn user_conflict(e: sqlx::Error, u: &User) -> Error {
    if !unique_violation(&e) {
        return Error::Database(e);
    }
    let msg = e.to_string();
    if msg.contains("email") {
        rolecall_core::Error::Invalid(vec![rolecall_core::FieldError::new(
            "email",
            "unique",
            format!("{} is already used in this organization", u.email),
        )])
        .into()
    } else {
        rolecall_core::Error::Invalid(vec![rolecall_core::FieldError::new(
            "username",
            "unique",
            format!("{} is already used in this organization", u.username),
        )])
        .into()
    }
}

/// Claims the user's sign-in names (e-mail key, then username key when different): another
/// user's username or e-mail, whichever column, is refused with 422 naming the field (issue 9
/// item 11). The primary key of `sign_in_names` makes this hold under concurrency too.
async fn claim_sign_in_names(c: &mut AnyConnection, b: Backend, u: &User) -> Result<()> {
    for (field, key) in super::rows::sign_in_names(u) {
        let shown = if field == "email" {
            u.email.as_str()
        } else {
            u.username.as_str()
        };
        sqlx::query(&sql_for(
            b,
            "INSERT INTO sign_in_names (org_id, name_key, user_id) VALUES ($1, $2, $3)",
        ))
        .bind(u.org_id.to_string())
        .bind(&key)
        .bind(u.id.to_string())
        .execute(&mut *c)
        .await
        .map_err(|e| {
            if unique_violation(&e) {
                rolecall_core::Error::Invalid(vec![rolecall_core::FieldError::new(
                    field,
                    "unique",
                    format!("{shown} is already someone's username or e-mail in this organization"),
                )])
                .into()
            } else {
                Error::Database(e)
            }
        })?;
    }
    Ok(())
}

async fn release_sign_in_names(c: &mut AnyConnection, b: Backend, user: UserId) -> Result<()> {
    sqlx::query(&sql_for(b, "DELETE FROM sign_in_names WHERE user_id = $1"))
        .bind(user.to_string())
        .execute(c)
        .await?;
    Ok(())
}

/// The person whose e-mail or username is `login`, ignoring case as the unique keys do: an
/// indexed equality, not a search, so naming someone costs the same at any size.
pub async fn person_by_login(
    c: &mut AnyConnection,
    b: Backend,
    org: OrgId,
    login: &str,
) -> Result<Option<User>> {
    let sql = sql_for(
        b,
        "SELECT * FROM users WHERE org_id = $1 AND kind = 'person' \
         AND (email_key = $2 OR username_key = $3) ORDER BY id LIMIT 2",
    );
    let rows = sqlx::query(&sql)
        .bind(org.to_string())
        .bind(login.to_ascii_lowercase())
        .bind(login.to_lowercase())
        .fetch_all(c)
        .await?;
    // Sign-in names are unique across usernames and e-mails, so two rows cannot both match;
    // prefer the e-mail if they ever did.
    let users = rows.iter().map(user_from_row).collect::<Result<Vec<_>>>()?;
    let by_email = users
        .iter()
        .position(|u| u.email.key() == login.to_ascii_lowercase());
    Ok(match by_email {
        Some(i) => users.into_iter().nth(i),
        None => users.into_iter().next(),
    })
}

pub async fn insert_user(c: &mut AnyConnection, b: Backend, u: &User) -> Result<()> {
    // Names first: a clash is reported on the field the caller gave (the e-mail, when the
    // username defaults to it).
    claim_sign_in_names(&mut *c, b, u).await?;
    let (cols, row) = super::rows::user_row(u)?;
    super::rows::insert_rows(&mut *c, b, "users", &cols, vec![row], "")
        .await
        .map_err(|e| user_conflict(e, u))?;
    super::user_profile::write_children(c, b, u, true).await
}

/// Writes `u` if the stored version is still `expected_version`; false when someone else won
/// (the caller then fails, and its transaction rolls the names back).
pub async fn update_user(
    c: &mut AnyConnection,
    b: Backend,
    u: &User,
    expected_version: i64,
) -> Result<bool> {
    release_sign_in_names(&mut *c, b, u.id).await?;
    claim_sign_in_names(&mut *c, b, u).await?;
    let profile = super::user_profile::columns(u)?;
    let mut set = String::from("username = $1, username_key = $2, email = $3, email_key = $4, first_name = $5, last_name = $6, locale = $7, status = $8, version = $9, updated_at = $10");
    for (i, (col, _)) in profile.iter().enumerate() {
        set.push_str(&format!(", {col} = ${}", 14 + i));
    }
    let sql = sql_for(
        b,
        &format!("UPDATE users SET {set} WHERE id = $11 AND org_id = $12 AND version = $13"),
    );
    let mut q = sqlx::query(&sql)
        .bind(u.username.as_str())
        .bind(u.username.key())
        .bind(u.email.as_str())
        .bind(u.email.key())
        .bind(u.first_name.as_str())
        .bind(u.last_name.as_str())
        .bind(u.locale.as_str())
        .bind(u.status.as_str())
        .bind(u.version)
        .bind(u.updated_at)
        .bind(u.id.to_string())
        .bind(u.org_id.to_string())
        .bind(expected_version);
    for (_, v) in profile {
        q = q.bind(v);
    }
    let r = q.execute(&mut *c).await.map_err(|e| user_conflict(e, u))?;
    if r.rows_affected() != 1 {
        return Ok(false);
    }
    super::user_profile::write_children(c, b, u, false).await?;
    Ok(true)
}

/// Row lock for read-modify-write on PostgreSQL, so a concurrent writer waits and then sees the
/// new version (412) instead of both passing the version check. SQLite writers are serialised.
fn for_update(b: Backend) -> &'static str {
    match b {
        Backend::Postgres => " FOR UPDATE",
        Backend::Sqlite => "",
    }
}

pub async fn lock_user(
    c: &mut AnyConnection,
    b: Backend,
    org: OrgId,
    id: UserId,
) -> Result<Option<User>> {
    let row = sqlx::query(&sql_for(
        b,
        &format!(
            "SELECT * FROM users WHERE id = $1 AND org_id = $2{}",
            for_update(b)
        ),
    ))
    .bind(id.to_string())
    .bind(org.to_string())
    .fetch_optional(c)
    .await?;
    row.as_ref().map(user_from_row).transpose()
}

pub async fn get_user(
    c: &mut AnyConnection,
    b: Backend,
    org: OrgId,
    id: UserId,
) -> Result<Option<User>> {
    let row = sqlx::query(&sql_for(
        b,
        "SELECT * FROM users WHERE id = $1 AND org_id = $2",
    ))
    .bind(id.to_string())
    .bind(org.to_string())
    .fetch_optional(c)
    .await?;
    row.as_ref().map(user_from_row).transpose()
}

/// A deleted user's tombstone: (username, email, deleted_at).
pub async fn get_tombstone(
    c: &mut AnyConnection,
    b: Backend,
    org: OrgId,
    id: UserId,
) -> Result<Option<(String, String, Millis)>> {
    let row = sqlx::query(&sql_for(
        b,
        "SELECT username, email, deleted_at FROM deleted_users WHERE id = $1 AND org_id = $2",
    ))
    .bind(id.to_string())
    .bind(org.to_string())
    .fetch_optional(c)
    .await?;
    row.map(|r| {
        Ok((
            get_str(&r, "username")?,
            get_str(&r, "email")?,
            get_i64(&r, "deleted_at")?,
        ))
    })
    .transpose()
}

/// Removes the user and everything that gave them access, leaving a tombstone for history.
pub async fn delete_user(c: &mut AnyConnection, b: Backend, u: &User, now: Millis) -> Result<()> {
    let id = u.id.to_string();
    super::user_profile::delete_children(&mut *c, b, &id).await?;
    for stmt in [
        "DELETE FROM group_members WHERE user_id = $1",
        "DELETE FROM user_roles WHERE user_id = $1",
        "DELETE FROM profile_users WHERE user_id = $1", // profiles: seats go with the user
        "DELETE FROM sign_in_names WHERE user_id = $1",
        "DELETE FROM users WHERE id = $1",
    ] {
        sqlx::query(&sql_for(b, stmt))
            .bind(&id)
            .execute(&mut *c)
            .await?;
    }
    sqlx::query(&sql_for(b, "INSERT INTO deleted_users (id, org_id, username, email, deleted_at, first_name, last_name) VALUES ($1, $2, $3, $4, $5, $6, $7)"))
        .bind(&id)
        .bind(u.org_id.to_string())
        .bind(u.username.as_str())
        .bind(u.email.as_str())
        .bind(now)
        .bind(u.first_name.as_str())
        .bind(u.last_name.as_str())
        .execute(c)
        .await?;
    Ok(())
}

// ---------------------------------------------------------------- groups

/// A group from a `user_groups` row (every column).
pub(crate) fn group_row(row: &AnyRow) -> Result<Group> {
    group_from_row(row)
}

fn group_from_row(row: &AnyRow) -> Result<Group> {
    Ok(Group {
        id: GroupId(get_uuid(row, "id")?),
        org_id: OrgId(get_uuid(row, "org_id")?),
        name: DisplayName::parse("name", &get_str(row, "name")?)
            .map_err(|e| corrupt("group name", e.message))?,
        description: Description::parse("description", &get_str(row, "description")?)
            .map_err(|e| corrupt("description", e.message))?,
        external_id: get_opt_str(row, "external_id")?
            .map(|v| {
                ExternalId::parse("external_id", &v).map_err(|e| corrupt("external_id", e.message))
            })
            .transpose()?,
        provisioned_by: get_opt_str(row, "provisioned_by")?,
        version: get_i64(row, "version")?,
        created_at: get_i64(row, "created_at")?,
        updated_at: get_i64(row, "updated_at")?,
    })
}

fn group_conflict(e: sqlx::Error, g: &Group) -> Error {
    if unique_violation(&e) {
        rolecall_core::Error::invalid(
            "name",
            "unique",
            format!("a group named {} already exists", g.name),
        )
        .into()
    } else {
        Error::Database(e)
    }
}

pub async fn insert_group(c: &mut AnyConnection, b: Backend, g: &Group) -> Result<()> {
    sqlx::query(&sql_for(
        b,
        "INSERT INTO user_groups (id, org_id, name, name_key, description, version, created_at, updated_at, external_id, provisioned_by) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
    ))
    .bind(g.id.to_string())
    .bind(g.org_id.to_string())
    .bind(g.name.as_str())
    .bind(g.name.as_str().to_lowercase())
    .bind(g.description.as_str())
    .bind(g.version)
    .bind(g.created_at)
    .bind(g.updated_at)
    .bind(g.external_id.as_ref().map(|e| e.as_str().to_string()))
    .bind(g.provisioned_by.clone())
    .execute(c)
    .await
    .map_err(|e| group_conflict(e, g))?;
    Ok(())
}

pub async fn update_group(
    c: &mut AnyConnection,
    b: Backend,
    g: &Group,
    expected_version: i64,
) -> Result<bool> {
    let r = sqlx::query(&sql_for(
        b,
        "UPDATE user_groups SET name = $1, name_key = $2, description = $3, version = $4, updated_at = $5, external_id = $9 WHERE id = $6 AND org_id = $7 AND version = $8",
    ))
    .bind(g.name.as_str())
    .bind(g.name.as_str().to_lowercase())
    .bind(g.description.as_str())
    .bind(g.version)
    .bind(g.updated_at)
    .bind(g.id.to_string())
    .bind(g.org_id.to_string())
    .bind(expected_version)
    .bind(g.external_id.as_ref().map(|e| e.as_str().to_string()))
    .execute(c)
    .await
    .map_err(|e| group_conflict(e, g))?;
    Ok(r.rows_affected() == 1)
}

pub async fn lock_group(
    c: &mut AnyConnection,
    b: Backend,
    org: OrgId,
    id: GroupId,
) -> Result<Option<Group>> {
    let row = sqlx::query(&sql_for(
        b,
        &format!(
            "SELECT * FROM user_groups WHERE id = $1 AND org_id = $2{}",
            for_update(b)
        ),
    ))
    .bind(id.to_string())
    .bind(org.to_string())
    .fetch_optional(c)
    .await?;
    row.as_ref().map(group_from_row).transpose()
}

pub async fn get_group(
    c: &mut AnyConnection,
    b: Backend,
    org: OrgId,
    id: GroupId,
) -> Result<Option<Group>> {
    let row = sqlx::query(&sql_for(
        b,
        "SELECT * FROM user_groups WHERE id = $1 AND org_id = $2",
    ))
    .bind(id.to_string())
    .bind(org.to_string())
    .fetch_optional(c)
    .await?;
    row.as_ref().map(group_from_row).transpose()
}

pub async fn list_groups(
    c: &mut AnyConnection,
    b: Backend,
    org: OrgId,
    q: Option<&str>,
    offset: i64,
    limit: i64,
) -> Result<(Vec<Group>, i64)> {
    let (where_sql, arg) = match q {
        Some(q) => {
            let escaped = q
                .to_lowercase()
                .replace('\\', "\\\\")
                .replace('%', "\\%")
                .replace('_', "\\_");
            (
                "org_id = $1 AND name_key LIKE $2 ESCAPE '\\'",
                Some(format!("%{escaped}%")),
            )
        }
        None => ("org_id = $1", None),
    };
    let count_sql = sql_for(
        b,
        &format!("SELECT COUNT(*) AS n FROM user_groups WHERE {where_sql}"),
    );
    let list_sql = sql_for(b, &format!("SELECT * FROM user_groups WHERE {where_sql} ORDER BY name_key, id LIMIT {limit} OFFSET {offset}"));
    let mut cq = sqlx::query(&count_sql).bind(org.to_string());
    let mut lq = sqlx::query(&list_sql).bind(org.to_string());
    if let Some(a) = arg {
        cq = cq.bind(a.clone());
        lq = lq.bind(a);
    }
    let total = get_i64(&cq.fetch_one(&mut *c).await?, "n")?;
    let rows = lq.fetch_all(c).await?;
    Ok((
        rows.iter().map(group_from_row).collect::<Result<_>>()?,
        total,
    ))
}

/// Deletes the group and its memberships and role assignments; never a user.
pub async fn delete_group(c: &mut AnyConnection, b: Backend, id: GroupId) -> Result<()> {
    for stmt in [
        "DELETE FROM group_members WHERE group_id = $1",
        "DELETE FROM group_roles WHERE group_id = $1",
        "DELETE FROM profile_groups WHERE group_id = $1", // profiles: seats go with the group
        "DELETE FROM user_groups WHERE id = $1",
    ] {
        sqlx::query(&sql_for(b, stmt))
            .bind(id.to_string())
            .execute(&mut *c)
            .await?;
    }
    Ok(())
}

/// Marks a group changed (its membership): a new version, so its ETag changes.
pub async fn touch_group(c: &mut AnyConnection, b: Backend, g: GroupId, now: Millis) -> Result<()> {
    sqlx::query(&sql_for(
        b,
        "UPDATE user_groups SET version = version + 1, updated_at = $1 WHERE id = $2",
    ))
    .bind(now)
    .bind(g.to_string())
    .execute(c)
    .await?;
    Ok(())
}

/// Adds a member; false if already one.
pub async fn add_member(
    c: &mut AnyConnection,
    b: Backend,
    org: OrgId,
    g: GroupId,
    u: UserId,
    now: Millis,
) -> Result<bool> {
    super::link(
        c,
        b,
        super::GROUP_MEMBERS,
        (g.to_string(), u.to_string()),
        org.to_string(),
        now,
        None,
    )
    .await
}

pub async fn remove_member(
    c: &mut AnyConnection,
    b: Backend,
    g: GroupId,
    u: UserId,
) -> Result<bool> {
    super::unlink(c, b, super::GROUP_MEMBERS, (g.to_string(), u.to_string())).await
}

/// The groups `u` belongs to, by name (console: the user page's Groups tab).
pub async fn groups_of_user(
    c: &mut AnyConnection,
    b: Backend,
    org: OrgId,
    u: UserId,
) -> Result<Vec<Group>> {
    let rows = sqlx::query(&sql_for(
        b,
        "SELECT g.* FROM user_groups g JOIN group_members m ON m.group_id = g.id WHERE m.user_id = $1 AND g.org_id = $2 ORDER BY g.name_key",
    ))
    .bind(u.to_string())
    .bind(org.to_string())
    .fetch_all(c)
    .await?;
    rows.iter().map(group_from_row).collect()
}

pub async fn group_member_ids(
    c: &mut AnyConnection,
    b: Backend,
    g: GroupId,
) -> Result<Vec<UserId>> {
    let rows = sqlx::query(&sql_for(
        b,
        "SELECT user_id FROM group_members WHERE group_id = $1",
    ))
    .bind(g.to_string())
    .fetch_all(c)
    .await?;
    rows.iter()
        .map(|r| Ok(UserId(get_uuid(r, "user_id")?)))
        .collect()
}

pub async fn add_group_role(
    c: &mut AnyConnection,
    b: Backend,
    org: OrgId,
    g: GroupId,
    r: RoleId,
    now: Millis,
) -> Result<bool> {
    super::link(
        c,
        b,
        super::GROUP_ROLES,
        (g.to_string(), r.to_string()),
        org.to_string(),
        now,
        None,
    )
    .await
}

pub async fn remove_group_role(
    c: &mut AnyConnection,
    b: Backend,
    g: GroupId,
    r: RoleId,
) -> Result<bool> {
    super::unlink(c, b, super::GROUP_ROLES, (g.to_string(), r.to_string())).await
}

pub async fn group_role_ids(c: &mut AnyConnection, b: Backend, g: GroupId) -> Result<Vec<RoleId>> {
    let rows = sqlx::query(&sql_for(
        b,
        "SELECT role_id FROM group_roles WHERE group_id = $1",
    ))
    .bind(g.to_string())
    .fetch_all(c)
    .await?;
    rows.iter()
        .map(|r| Ok(RoleId(get_uuid(r, "role_id")?)))
        .collect()
}

// ---------------------------------------------------------------- roles

fn role_from_row(row: &AnyRow) -> Result<Role> {
    Ok(Role {
        id: RoleId(get_uuid(row, "id")?),
        org_id: OrgId(get_uuid(row, "org_id")?),
        application: get_str(row, "application")?,
        // Stored names passed their application's rule when written; `Printable` admits all of
        // them (an application's rule may have changed since).
        name: RoleName::parse("name", &get_str(row, "name")?, RoleNaming::Printable)
            .map_err(|e| corrupt("role name", e.message))?,
        description: Description::parse("description", &get_str(row, "description")?)
            .map_err(|e| corrupt("description", e.message))?,
        builtin: get_i64(row, "builtin")? != 0,
        grants: serde_json::from_str(&get_str(row, "grants")?)?,
        scopes: serde_json::from_str::<Vec<String>>(&get_str(row, "scopes")?)?
            .iter()
            .map(|s| ScopeCode::parse("scopes", s).map_err(|e| corrupt("scope", e.message)))
            .collect::<Result<_>>()?,
        version: get_i64(row, "version")?,
        created_at: get_i64(row, "created_at")?,
        updated_at: get_i64(row, "updated_at")?,
    })
}

fn role_conflict(e: sqlx::Error, r: &Role) -> Error {
    if unique_violation(&e) {
        rolecall_core::Error::invalid(
            "name",
            "unique",
            format!(
                "a role named {} already exists in {}",
                r.name, r.application
            ),
        )
        .into()
    } else {
        Error::Database(e)
    }
}

pub async fn insert_role(c: &mut AnyConnection, b: Backend, r: &Role) -> Result<()> {
    sqlx::query(&sql_for(
        b,
        "INSERT INTO roles (id, org_id, application, name, name_key, description, builtin, grants, scopes, version, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
    ))
    .bind(r.id.to_string())
    .bind(r.org_id.to_string())
    .bind(r.application.as_str())
    .bind(r.name.as_str())
    .bind(r.name.as_str().to_lowercase())
    .bind(r.description.as_str())
    .bind(i64::from(r.builtin))
    .bind(serde_json::to_string(&r.grants)?)
    .bind(serde_json::to_string(&r.scopes)?)
    .bind(r.version)
    .bind(r.created_at)
    .bind(r.updated_at)
    .execute(c)
    .await
    .map_err(|e| role_conflict(e, r))?;
    Ok(())
}

pub async fn update_role(
    c: &mut AnyConnection,
    b: Backend,
    r: &Role,
    expected_version: i64,
) -> Result<bool> {
    let res = sqlx::query(&sql_for(
        b,
        "UPDATE roles SET name = $1, name_key = $2, description = $3, grants = $4, scopes = $5, version = $6, updated_at = $7 \
         WHERE id = $8 AND org_id = $9 AND version = $10",
    ))
    .bind(r.name.as_str())
    .bind(r.name.as_str().to_lowercase())
    .bind(r.description.as_str())
    .bind(serde_json::to_string(&r.grants)?)
    .bind(serde_json::to_string(&r.scopes)?)
    .bind(r.version)
    .bind(r.updated_at)
    .bind(r.id.to_string())
    .bind(r.org_id.to_string())
    .bind(expected_version)
    .execute(c)
    .await
    .map_err(|e| role_conflict(e, r))?;
    Ok(res.rows_affected() == 1)
}

pub async fn lock_role(
    c: &mut AnyConnection,
    b: Backend,
    org: OrgId,
    id: RoleId,
) -> Result<Option<Role>> {
    let row = sqlx::query(&sql_for(
        b,
        &format!(
            "SELECT * FROM roles WHERE id = $1 AND org_id = $2{}",
            for_update(b)
        ),
    ))
    .bind(id.to_string())
    .bind(org.to_string())
    .fetch_optional(c)
    .await?;
    row.as_ref().map(role_from_row).transpose()
}

pub async fn get_role(
    c: &mut AnyConnection,
    b: Backend,
    org: OrgId,
    id: RoleId,
) -> Result<Option<Role>> {
    let row = sqlx::query(&sql_for(
        b,
        "SELECT * FROM roles WHERE id = $1 AND org_id = $2",
    ))
    .bind(id.to_string())
    .bind(org.to_string())
    .fetch_optional(c)
    .await?;
    row.as_ref().map(role_from_row).transpose()
}

pub async fn list_roles(
    c: &mut AnyConnection,
    b: Backend,
    org: OrgId,
    application: Option<&str>,
    q: Option<&str>,
) -> Result<Vec<Role>> {
    let mut sql = "SELECT * FROM roles WHERE org_id = $1".to_string();
    let mut args = vec![org.to_string()];
    if let Some(a) = application {
        args.push(a.to_string());
        sql.push_str(&format!(" AND application = ${}", args.len()));
    }
    if let Some(q) = q {
        let escaped = q
            .to_lowercase()
            .replace('\\', "\\\\")
            .replace('%', "\\%")
            .replace('_', "\\_");
        args.push(format!("%{escaped}%"));
        sql.push_str(&format!(" AND name_key LIKE ${} ESCAPE '\\'", args.len()));
    }
    sql.push_str(" ORDER BY application, name_key");
    let sql = sql_for(b, &sql);
    let mut query = sqlx::query(&sql);
    for a in args {
        query = query.bind(a);
    }
    let rows = query.fetch_all(c).await?;
    rows.iter().map(role_from_row).collect()
}

/// Deletes the role and every assignment of it; users and groups stay.
pub async fn delete_role(c: &mut AnyConnection, b: Backend, id: RoleId) -> Result<()> {
    // profiles: a role bundled in product profiles leaves their bundles (the profiles stay),
    // like its other assignments, rather than blocking the delete.
    super::profiles::remove_role_from_profiles(&mut *c, b, id).await?;
    for stmt in [
        "DELETE FROM user_roles WHERE role_id = $1",
        "DELETE FROM group_roles WHERE role_id = $1",
        "DELETE FROM roles WHERE id = $1",
    ] {
        sqlx::query(&sql_for(b, stmt))
            .bind(id.to_string())
            .execute(&mut *c)
            .await?;
    }
    Ok(())
}

/// Roles held directly, with their application.
pub async fn user_direct_roles(
    c: &mut AnyConnection,
    b: Backend,
    u: UserId,
) -> Result<Vec<(RoleId, String)>> {
    let rows = sqlx::query(&sql_for(b, "SELECT role_id, application FROM user_roles WHERE user_id = $1 ORDER BY created_at, role_id"))
        .bind(u.to_string())
        .fetch_all(c)
        .await?;
    rows.iter()
        .map(|r| Ok((RoleId(get_uuid(r, "role_id")?), get_str(r, "application")?)))
        .collect()
}

/// Every role a user holds, directly (group `None`) and through each group, in two queries.
pub async fn held_roles(
    c: &mut AnyConnection,
    b: Backend,
    org: OrgId,
    u: UserId,
) -> Result<Vec<(RoleId, String, String, Option<GroupId>)>> {
    let direct = sqlx::query(&sql_for(
        b,
        "SELECT r.id, r.name, r.application FROM user_roles ur JOIN roles r ON r.id = ur.role_id \
         WHERE ur.user_id = $1 AND r.org_id = $2 ORDER BY ur.created_at, r.id",
    ))
    .bind(u.to_string())
    .bind(org.to_string())
    .fetch_all(&mut *c)
    .await?;
    let via_groups = sqlx::query(&sql_for(
        b,
        "SELECT gm.group_id, r.id, r.name, r.application FROM group_members gm \
         JOIN group_roles gr ON gr.group_id = gm.group_id JOIN roles r ON r.id = gr.role_id \
         WHERE gm.user_id = $1 AND r.org_id = $2 ORDER BY gm.group_id, r.id",
    ))
    .bind(u.to_string())
    .bind(org.to_string())
    .fetch_all(c)
    .await?;
    let mut out = Vec::with_capacity(direct.len() + via_groups.len());
    for r in &direct {
        out.push((
            RoleId(get_uuid(r, "id")?),
            get_str(r, "name")?,
            get_str(r, "application")?,
            None,
        ));
    }
    for r in &via_groups {
        out.push((
            RoleId(get_uuid(r, "id")?),
            get_str(r, "name")?,
            get_str(r, "application")?,
            Some(GroupId(get_uuid(r, "group_id")?)),
        ));
    }
    Ok(out)
}

pub async fn add_user_role(
    c: &mut AnyConnection,
    b: Backend,
    org: OrgId,
    u: UserId,
    r: &Role,
    now: Millis,
) -> Result<bool> {
    let app = Some(("application", r.application.clone()));
    super::link(
        c,
        b,
        super::USER_ROLES,
        (u.to_string(), r.id.to_string()),
        org.to_string(),
        now,
        app,
    )
    .await
}

pub async fn remove_user_role(
    c: &mut AnyConnection,
    b: Backend,
    u: UserId,
    r: RoleId,
) -> Result<bool> {
    super::unlink(c, b, super::USER_ROLES, (u.to_string(), r.to_string())).await
}

// ---------------------------------------------------------------- scopes

fn scope_from_row(row: &AnyRow) -> Result<(String, Scope)> {
    Ok((
        get_str(row, "application")?,
        Scope {
            code: ScopeCode::parse("code", &get_str(row, "code")?)
                .map_err(|e| corrupt("scope", e.message))?,
            kind: get_str(row, "kind")?,
            parent: get_opt_str(row, "parent")?
                .map(|p| ScopeCode::parse("parent", &p).map_err(|e| corrupt("scope", e.message)))
                .transpose()?,
            name: get_str(row, "name")?,
        },
    ))
}

pub async fn insert_scope(
    c: &mut AnyConnection,
    b: Backend,
    org: OrgId,
    app: &str,
    s: &Scope,
    now: Millis,
) -> Result<()> {
    sqlx::query(&sql_for(b, "INSERT INTO scopes (org_id, application, code, kind, parent, name, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7)"))
        .bind(org.to_string())
        .bind(app)
        .bind(s.code.as_str())
        .bind(s.kind.as_str())
        .bind(s.parent.as_ref().map(|p| p.as_str().to_string()))
        .bind(s.name.as_str())
        .bind(now)
        .execute(c)
        .await
        .map_err(|e| {
            if unique_violation(&e) {
                rolecall_core::Error::invalid("code", "unique", format!("scope {} already exists", s.code)).into()
            } else {
                Error::Database(e)
            }
        })?;
    Ok(())
}

pub async fn list_scopes(
    c: &mut AnyConnection,
    b: Backend,
    org: OrgId,
    app: Option<&str>,
) -> Result<Vec<(String, Scope)>> {
    let rows = match app {
        Some(a) => sqlx::query(&sql_for(
            b,
            "SELECT * FROM scopes WHERE org_id = $1 AND application = $2 ORDER BY created_at, code",
        ))
        .bind(org.to_string())
        .bind(a)
        .fetch_all(c)
        .await?,
        None => {
            sqlx::query(&sql_for(
                b,
                "SELECT * FROM scopes WHERE org_id = $1 ORDER BY created_at, code",
            ))
            .bind(org.to_string())
            .fetch_all(c)
            .await?
        }
    };
    rows.iter().map(scope_from_row).collect()
}

pub async fn delete_scope(
    c: &mut AnyConnection,
    b: Backend,
    org: OrgId,
    app: &str,
    code: &str,
) -> Result<bool> {
    let r = sqlx::query(&sql_for(
        b,
        "DELETE FROM scopes WHERE org_id = $1 AND application = $2 AND code = $3",
    ))
    .bind(org.to_string())
    .bind(app)
    .bind(code)
    .execute(c)
    .await?;
    Ok(r.rows_affected() == 1)
}

// ---------------------------------------------------------------- applications

pub async fn list_app_overrides(c: &mut AnyConnection) -> Result<Vec<(String, String, i64)>> {
    let rows =
        sqlx::query("SELECT app_key, definition, version FROM applications ORDER BY app_key")
            .fetch_all(c)
            .await?;
    rows.iter()
        .map(|r| {
            Ok((
                get_str(r, "app_key")?,
                get_str(r, "definition")?,
                get_i64(r, "version")?,
            ))
        })
        .collect()
}

pub async fn upsert_app(
    c: &mut AnyConnection,
    b: Backend,
    key: &str,
    definition: &str,
    version: i64,
    now: Millis,
) -> Result<()> {
    sqlx::query(&sql_for(b, "DELETE FROM applications WHERE app_key = $1"))
        .bind(key)
        .execute(&mut *c)
        .await?;
    sqlx::query(&sql_for(b, "INSERT INTO applications (app_key, definition, version, updated_at) VALUES ($1, $2, $3, $4)"))
        .bind(key)
        .bind(definition)
        .bind(version)
        .bind(now)
        .execute(c)
        .await?;
    Ok(())
}

pub async fn bump_all_epochs(c: &mut AnyConnection) -> Result<()> {
    sqlx::query("UPDATE organizations SET authz_epoch = authz_epoch + 1")
        .execute(c)
        .await?;
    Ok(())
}

// ---------------------------------------------------------------- authorization model

/// Everything the engine needs for one organization, read in one consistent snapshot, with the
/// epoch it corresponds to.
pub async fn load_authz_model(
    c: &mut AnyConnection,
    b: Backend,
    org: OrgId,
) -> Result<(AuthzModel, i64)> {
    let o = org.to_string();
    let epoch_row = sqlx::query(&sql_for(
        b,
        "SELECT authz_epoch FROM organizations WHERE id = $1",
    ))
    .bind(&o)
    .fetch_one(&mut *c)
    .await?;
    let epoch = get_i64(&epoch_row, "authz_epoch")?;
    let mut model = AuthzModel::default();
    for r in sqlx::query(&sql_for(
        b,
        "SELECT id, status FROM users WHERE org_id = $1",
    ))
    .bind(&o)
    .fetch_all(&mut *c)
    .await?
    {
        let status = UserStatus::parse("status", &get_str(&r, "status")?)
            .map_err(|e| corrupt("status", e.message))?;
        model.users.push((UserId(get_uuid(&r, "id")?), status));
    }
    for r in sqlx::query(&sql_for(
        b,
        "SELECT id, application, name, builtin, grants, scopes FROM roles WHERE org_id = $1",
    ))
    .bind(&o)
    .fetch_all(&mut *c)
    .await?
    {
        model.roles.push(RoleRule {
            id: RoleId(get_uuid(&r, "id")?),
            application: get_str(&r, "application")?,
            name: get_str(&r, "name")?,
            builtin_admin: get_i64(&r, "builtin")? != 0,
            grants: serde_json::from_str(&get_str(&r, "grants")?)?,
            scopes: serde_json::from_str(&get_str(&r, "scopes")?)?,
        });
    }
    for r in sqlx::query(&sql_for(
        b,
        "SELECT id, name FROM user_groups WHERE org_id = $1",
    ))
    .bind(&o)
    .fetch_all(&mut *c)
    .await?
    {
        model
            .groups
            .push((GroupId(get_uuid(&r, "id")?), get_str(&r, "name")?));
    }
    for r in sqlx::query(&sql_for(
        b,
        "SELECT group_id, user_id FROM group_members WHERE org_id = $1",
    ))
    .bind(&o)
    .fetch_all(&mut *c)
    .await?
    {
        model.group_members.push((
            GroupId(get_uuid(&r, "group_id")?),
            UserId(get_uuid(&r, "user_id")?),
        ));
    }
    for r in sqlx::query(&sql_for(
        b,
        "SELECT group_id, role_id FROM group_roles WHERE org_id = $1",
    ))
    .bind(&o)
    .fetch_all(&mut *c)
    .await?
    {
        model.group_roles.push((
            GroupId(get_uuid(&r, "group_id")?),
            RoleId(get_uuid(&r, "role_id")?),
        ));
    }
    for r in sqlx::query(&sql_for(
        b,
        "SELECT user_id, role_id FROM user_roles WHERE org_id = $1",
    ))
    .bind(&o)
    .fetch_all(&mut *c)
    .await?
    {
        model.user_roles.push((
            UserId(get_uuid(&r, "user_id")?),
            RoleId(get_uuid(&r, "role_id")?),
        ));
    }
    model.scopes = list_scopes(&mut *c, b, org, None).await?;
    super::profiles::load_profiles(c, b, org, &mut model).await?; // profiles
    Ok((model, epoch))
}

/// Reads `row.get(0)` as a count.
pub async fn count(c: &mut AnyConnection, b: Backend, sql: &str, args: &[String]) -> Result<i64> {
    let sql = sql_for(b, sql);
    let mut q = sqlx::query(&sql);
    for a in args {
        q = q.bind(a.clone());
    }
    let row = q.fetch_one(c).await?;
    Ok(row.try_get::<i64, _>(0)?)
}

pub async fn set_owner(c: &mut AnyConnection, b: Backend, org: OrgId, owner: UserId) -> Result<()> {
    sqlx::query(&sql_for(
        b,
        "UPDATE organizations SET owner_user_id = $1, version = version + 1 WHERE id = $2",
    ))
    .bind(owner.to_string())
    .bind(org.to_string())
    .execute(c)
    .await?;
    Ok(())
}

/// Active users holding the System admin right.
pub async fn active_system_admins(
    c: &mut AnyConnection,
    b: Backend,
    org: OrgId,
) -> Result<Vec<UserId>> {
    let rows = sqlx::query(&sql_for(
        b,
        "SELECT u.id FROM users u JOIN admin_rights a ON a.user_id = u.id AND a.org_id = u.org_id \
         WHERE u.org_id = $1 AND a.kind = 'system' AND u.status = 'active' ORDER BY u.id",
    ))
    .bind(org.to_string())
    .fetch_all(c)
    .await?;
    rows.iter()
        .map(|r| Ok(UserId(get_uuid(r, "id")?)))
        .collect()
}
