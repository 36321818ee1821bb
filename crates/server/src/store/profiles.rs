//! Queries for products and product profiles: the profile aggregate (its bundled roles are a JSON
//! array on the row), seats held directly (`profile_users`) and through groups
//! (`profile_groups`), seat counts, and the profile part of the authorization model.
//!
//! Seats used by a profile = the distinct users among its direct members and the members of its
//! groups, so a user reached twice takes one seat.

use super::{get_i64, get_opt_i64, get_str, get_uuid, sql_for, unique_violation, Backend};
use crate::error::{Error, Result};
use rolecall_core::authz::{AuthzModel, ProfileId, ProfileRule};
use rolecall_core::model::{GroupId, Millis, OrgId, RoleId, UserId};
use rolecall_core::validate::{Description, DisplayName};
use serde::Serialize;
use sqlx::any::AnyRow;
use sqlx::AnyConnection;
use std::collections::HashMap;

/// A product profile: one application's licence configuration.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Profile {
    pub id: ProfileId,
    pub org_id: OrgId,
    /// The product (application key) the profile licenses.
    pub application: String,
    pub name: DisplayName,
    pub description: Description,
    /// Number of seats; `null` means unlimited.
    pub seat_quota: Option<i64>,
    /// Roles of the same application every seat holder gets.
    pub roles: Vec<RoleId>,
    pub version: i64,
    pub created_at: Millis,
    pub updated_at: Millis,
}

fn corrupt(what: &str, e: impl std::fmt::Display) -> Error {
    Error::Internal(format!("stored {what} fails validation: {e}"))
}

fn for_update(b: Backend) -> &'static str {
    match b {
        Backend::Postgres => " FOR UPDATE",
        Backend::Sqlite => "",
    }
}

fn profile_from_row(row: &AnyRow) -> Result<Profile> {
    Ok(Profile {
        id: ProfileId(get_uuid(row, "id")?),
        org_id: OrgId(get_uuid(row, "org_id")?),
        application: get_str(row, "application")?,
        name: DisplayName::parse("name", &get_str(row, "name")?)
            .map_err(|e| corrupt("profile name", e.message))?,
        description: Description::parse("description", &get_str(row, "description")?)
            .map_err(|e| corrupt("description", e.message))?,
        seat_quota: get_opt_i64(row, "seat_quota")?,
        roles: serde_json::from_str(&get_str(row, "roles")?)?,
        version: get_i64(row, "version")?,
        created_at: get_i64(row, "created_at")?,
        updated_at: get_i64(row, "updated_at")?,
    })
}

fn profile_conflict(e: sqlx::Error, p: &Profile) -> Error {
    if unique_violation(&e) {
        rolecall_core::Error::invalid(
            "name",
            "unique",
            format!(
                "a profile named {} already exists in {}",
                p.name, p.application
            ),
        )
        .into()
    } else {
        Error::Database(e)
    }
}

pub async fn insert_profile(c: &mut AnyConnection, b: Backend, p: &Profile) -> Result<()> {
    sqlx::query(&sql_for(
        b,
        "INSERT INTO profiles (id, org_id, application, name, name_key, description, seat_quota, roles, version, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
    ))
    .bind(p.id.to_string())
    .bind(p.org_id.to_string())
    .bind(p.application.as_str())
    .bind(p.name.as_str())
    .bind(p.name.as_str().to_lowercase())
    .bind(p.description.as_str())
    .bind(p.seat_quota)
    .bind(serde_json::to_string(&p.roles)?)
    .bind(p.version)
    .bind(p.created_at)
    .bind(p.updated_at)
    .execute(c)
    .await
    .map_err(|e| profile_conflict(e, p))?;
    Ok(())
}

/// Writes `p` if the stored version is still `expected_version`; false when someone else won.
pub async fn update_profile(
    c: &mut AnyConnection,
    b: Backend,
    p: &Profile,
    expected_version: i64,
) -> Result<bool> {
    let r = sqlx::query(&sql_for(
        b,
        "UPDATE profiles SET name = $1, name_key = $2, description = $3, seat_quota = $4, roles = $5, version = $6, updated_at = $7 \
         WHERE id = $8 AND org_id = $9 AND version = $10",
    ))
    .bind(p.name.as_str())
    .bind(p.name.as_str().to_lowercase())
    .bind(p.description.as_str())
    .bind(p.seat_quota)
    .bind(serde_json::to_string(&p.roles)?)
    .bind(p.version)
    .bind(p.updated_at)
    .bind(p.id.to_string())
    .bind(p.org_id.to_string())
    .bind(expected_version)
    .execute(c)
    .await
    .map_err(|e| profile_conflict(e, p))?;
    Ok(r.rows_affected() == 1)
}

pub async fn get_profile(
    c: &mut AnyConnection,
    b: Backend,
    org: OrgId,
    id: ProfileId,
) -> Result<Option<Profile>> {
    let row = sqlx::query(&sql_for(
        b,
        "SELECT * FROM profiles WHERE id = $1 AND org_id = $2",
    ))
    .bind(id.to_string())
    .bind(org.to_string())
    .fetch_optional(c)
    .await?;
    row.as_ref().map(profile_from_row).transpose()
}

/// Row lock (PostgreSQL; SQLite writers are serialised): every seat change locks the profile,
/// so two concurrent assignments cannot both take the last seat.
pub async fn lock_profile(
    c: &mut AnyConnection,
    b: Backend,
    org: OrgId,
    id: ProfileId,
) -> Result<Option<Profile>> {
    let row = sqlx::query(&sql_for(
        b,
        &format!(
            "SELECT * FROM profiles WHERE id = $1 AND org_id = $2{}",
            for_update(b)
        ),
    ))
    .bind(id.to_string())
    .bind(org.to_string())
    .fetch_optional(c)
    .await?;
    row.as_ref().map(profile_from_row).transpose()
}

/// Locks every profile of `application` (PostgreSQL; by id, the profiles' lock order) and
/// counts them: deleting the last profile lifts the application's licence gate, so two
/// deletions must not both count the other one as remaining.
pub async fn lock_profiles_of(
    c: &mut AnyConnection,
    b: Backend,
    org: OrgId,
    application: &str,
) -> Result<usize> {
    let rows = sqlx::query(&sql_for(
        b,
        &format!(
            "SELECT id FROM profiles WHERE org_id = $1 AND application = $2 ORDER BY id{}",
            for_update(b)
        ),
    ))
    .bind(org.to_string())
    .bind(application)
    .fetch_all(c)
    .await?;
    Ok(rows.len())
}

pub async fn list_profiles(
    c: &mut AnyConnection,
    b: Backend,
    org: OrgId,
    application: Option<&str>,
) -> Result<Vec<Profile>> {
    let rows = match application {
        Some(a) => {
            sqlx::query(&sql_for(
                b,
                "SELECT * FROM profiles WHERE org_id = $1 AND application = $2 ORDER BY application, name_key, id",
            ))
            .bind(org.to_string())
            .bind(a)
            .fetch_all(c)
            .await?
        }
        None => {
            sqlx::query(&sql_for(
                b,
                "SELECT * FROM profiles WHERE org_id = $1 ORDER BY application, name_key, id",
            ))
            .bind(org.to_string())
            .fetch_all(c)
            .await?
        }
    };
    rows.iter().map(profile_from_row).collect()
}

/// Deletes the profile and its seat assignments; never a user, group or role.
pub async fn delete_profile(c: &mut AnyConnection, b: Backend, id: ProfileId) -> Result<()> {
    for stmt in [
        "DELETE FROM profile_users WHERE profile_id = $1",
        "DELETE FROM profile_groups WHERE profile_id = $1",
        "DELETE FROM profiles WHERE id = $1",
    ] {
        sqlx::query(&sql_for(b, stmt))
            .bind(id.to_string())
            .execute(&mut *c)
            .await?;
    }
    Ok(())
}

/// Takes a deleted role out of every bundle, bumping those profiles' versions so stale
/// `If-Match` writes fail. Called by `store::directory::delete_role` in the same transaction
/// (which has no clock, so `updated_at` stays).
pub async fn remove_role_from_profiles(
    c: &mut AnyConnection,
    b: Backend,
    role: RoleId,
) -> Result<()> {
    let rows = sqlx::query(&sql_for(b, "SELECT * FROM profiles WHERE roles LIKE $1"))
        .bind(format!("%{role}%"))
        .fetch_all(&mut *c)
        .await?;
    for row in &rows {
        let mut p = profile_from_row(row)?;
        let before = p.roles.len();
        p.roles.retain(|r| *r != role);
        if p.roles.len() == before {
            continue;
        }
        sqlx::query(&sql_for(
            b,
            "UPDATE profiles SET roles = $1, version = version + 1 WHERE id = $2",
        ))
        .bind(serde_json::to_string(&p.roles)?)
        .bind(p.id.to_string())
        .execute(&mut *c)
        .await?;
    }
    Ok(())
}

// ---------------------------------------------------------------- seats

/// Adds a direct seat; false if the user already had one directly.
pub async fn add_profile_user(
    c: &mut AnyConnection,
    b: Backend,
    org: OrgId,
    p: ProfileId,
    u: UserId,
    now: Millis,
) -> Result<bool> {
    super::link(
        c,
        b,
        super::PROFILE_USERS,
        (p.to_string(), u.to_string()),
        org.to_string(),
        now,
        None,
    )
    .await
}

pub async fn remove_profile_user(
    c: &mut AnyConnection,
    b: Backend,
    p: ProfileId,
    u: UserId,
) -> Result<bool> {
    super::unlink(c, b, super::PROFILE_USERS, (p.to_string(), u.to_string())).await
}

/// Users holding a seat directly, in assignment order.
pub async fn profile_user_ids(
    c: &mut AnyConnection,
    b: Backend,
    p: ProfileId,
) -> Result<Vec<UserId>> {
    let rows = sqlx::query(&sql_for(
        b,
        "SELECT user_id FROM profile_users WHERE profile_id = $1 ORDER BY created_at, user_id",
    ))
    .bind(p.to_string())
    .fetch_all(c)
    .await?;
    rows.iter()
        .map(|r| Ok(UserId(get_uuid(r, "user_id")?)))
        .collect()
}

/// Assigns a group; false if it already was.
pub async fn add_profile_group(
    c: &mut AnyConnection,
    b: Backend,
    org: OrgId,
    p: ProfileId,
    g: GroupId,
    now: Millis,
) -> Result<bool> {
    super::link(
        c,
        b,
        super::PROFILE_GROUPS,
        (p.to_string(), g.to_string()),
        org.to_string(),
        now,
        None,
    )
    .await
}

pub async fn remove_profile_group(
    c: &mut AnyConnection,
    b: Backend,
    p: ProfileId,
    g: GroupId,
) -> Result<bool> {
    super::unlink(c, b, super::PROFILE_GROUPS, (p.to_string(), g.to_string())).await
}

pub async fn profile_group_ids(
    c: &mut AnyConnection,
    b: Backend,
    p: ProfileId,
) -> Result<Vec<GroupId>> {
    let rows = sqlx::query(&sql_for(
        b,
        "SELECT group_id FROM profile_groups WHERE profile_id = $1 ORDER BY created_at, group_id",
    ))
    .bind(p.to_string())
    .fetch_all(c)
    .await?;
    rows.iter()
        .map(|r| Ok(GroupId(get_uuid(r, "group_id")?)))
        .collect()
}

/// The distinct users assigned a seat: direct members ∪ members of assigned groups.
const SEAT_HOLDERS: &str = "SELECT user_id FROM profile_users WHERE profile_id = $1 \
     UNION SELECT gm.user_id FROM group_members gm JOIN profile_groups pg ON pg.group_id = gm.group_id WHERE pg.profile_id = $1";

/// Joined to a set `s` of user ids, keeps those who take a seat: active and invited users.
/// A deactivated user keeps their assignments (for reactivation) but holds no seat, and a
/// deleted one has none left, so quota checks and every seat count agree (issue 10).
const SEATED: &str = "JOIN users su ON su.id = s.user_id AND su.status <> 'inactive'";

async fn count_one(c: &mut AnyConnection, b: Backend, sql: &str, args: &[String]) -> Result<i64> {
    let sql = sql_for(b, sql);
    let mut q = sqlx::query(&sql);
    for a in args {
        q = q.bind(a.clone());
    }
    get_i64(&q.fetch_one(c).await?, "n")
}

/// Seats in use.
pub async fn seats_used(c: &mut AnyConnection, b: Backend, p: ProfileId) -> Result<i64> {
    count_one(
        c,
        b,
        &format!("SELECT COUNT(*) AS n FROM ({SEAT_HOLDERS}) s {SEATED}"),
        &[p.to_string()],
    )
    .await
}

/// Seats that would be in use once `g` is assigned.
pub async fn seats_used_with_group(
    c: &mut AnyConnection,
    b: Backend,
    p: ProfileId,
    g: GroupId,
) -> Result<i64> {
    count_one(
        c,
        b,
        &format!(
            "SELECT COUNT(*) AS n FROM ({SEAT_HOLDERS} UNION SELECT user_id FROM group_members WHERE group_id = $2) s {SEATED}"
        ),
        &[p.to_string(), g.to_string()],
    )
    .await
}

/// Whether `u` already holds a seat (directly or through a group, and not deactivated).
pub async fn holds_seat(
    c: &mut AnyConnection,
    b: Backend,
    p: ProfileId,
    u: UserId,
) -> Result<bool> {
    let n = count_one(
        c,
        b,
        &format!("SELECT COUNT(*) AS n FROM ({SEAT_HOLDERS}) s {SEATED} WHERE s.user_id = $2"),
        &[p.to_string(), u.to_string()],
    )
    .await?;
    Ok(n > 0)
}

/// Whether `u` takes a seat where assigned one (active or invited, not deactivated).
pub async fn takes_seat(c: &mut AnyConnection, b: Backend, u: UserId) -> Result<bool> {
    let n = count_one(
        c,
        b,
        "SELECT COUNT(*) AS n FROM users WHERE id = $1 AND status <> 'inactive'",
        &[u.to_string()],
    )
    .await?;
    Ok(n > 0)
}

/// Seats in use for every profile of the organization that has any.
pub async fn seats_used_by_profile(
    c: &mut AnyConnection,
    b: Backend,
    org: OrgId,
) -> Result<HashMap<ProfileId, i64>> {
    let rows = sqlx::query(&sql_for(
        b,
        "SELECT profile_id, COUNT(*) AS n FROM (\
           SELECT profile_id, user_id FROM profile_users WHERE org_id = $1 \
           UNION SELECT pg.profile_id, gm.user_id FROM profile_groups pg JOIN group_members gm ON gm.group_id = pg.group_id WHERE pg.org_id = $1\
         ) s JOIN users su ON su.id = s.user_id AND su.status <> 'inactive' GROUP BY profile_id",
    ))
    .bind(org.to_string())
    .fetch_all(c)
    .await?;
    rows.iter()
        .map(|r| Ok((ProfileId(get_uuid(r, "profile_id")?), get_i64(r, "n")?)))
        .collect()
}

/// Distinct users holding a seat in at least one profile, per application.
pub async fn licensed_users_by_application(
    c: &mut AnyConnection,
    b: Backend,
    org: OrgId,
) -> Result<HashMap<String, i64>> {
    let rows = sqlx::query(&sql_for(
        b,
        "SELECT application, COUNT(*) AS n FROM (\
           SELECT p.application, pu.user_id FROM profile_users pu JOIN profiles p ON p.id = pu.profile_id WHERE pu.org_id = $1 \
           UNION SELECT p.application, gm.user_id FROM profile_groups pg JOIN profiles p ON p.id = pg.profile_id \
             JOIN group_members gm ON gm.group_id = pg.group_id WHERE pg.org_id = $1\
         ) s JOIN users su ON su.id = s.user_id AND su.status <> 'inactive' GROUP BY application",
    ))
    .bind(org.to_string())
    .fetch_all(c)
    .await?;
    rows.iter()
        .map(|r| Ok((get_str(r, "application")?, get_i64(r, "n")?)))
        .collect()
}

/// How a user reaches profiles: (profile, `None` directly or `Some(group)`).
pub async fn user_seats(
    c: &mut AnyConnection,
    b: Backend,
    u: UserId,
) -> Result<Vec<(ProfileId, Option<GroupId>)>> {
    let mut out = Vec::new();
    for r in sqlx::query(&sql_for(
        b,
        "SELECT profile_id FROM profile_users WHERE user_id = $1 ORDER BY created_at, profile_id",
    ))
    .bind(u.to_string())
    .fetch_all(&mut *c)
    .await?
    {
        out.push((ProfileId(get_uuid(&r, "profile_id")?), None));
    }
    for r in sqlx::query(&sql_for(
        b,
        "SELECT pg.profile_id, pg.group_id FROM profile_groups pg JOIN group_members gm ON gm.group_id = pg.group_id \
         WHERE gm.user_id = $1 ORDER BY pg.created_at, pg.profile_id, pg.group_id",
    ))
    .bind(u.to_string())
    .fetch_all(&mut *c)
    .await?
    {
        out.push((
            ProfileId(get_uuid(&r, "profile_id")?),
            Some(GroupId(get_uuid(&r, "group_id")?)),
        ));
    }
    Ok(out)
}

// ---------------------------------------------------------------- authorization model

/// Fills the profile part of the model; called by `store::directory::load_authz_model` in the
/// same consistent read.
pub async fn load_profiles(
    c: &mut AnyConnection,
    b: Backend,
    org: OrgId,
    model: &mut AuthzModel,
) -> Result<()> {
    let o = org.to_string();
    for r in sqlx::query(&sql_for(
        b,
        "SELECT id, application, name, roles FROM profiles WHERE org_id = $1",
    ))
    .bind(&o)
    .fetch_all(&mut *c)
    .await?
    {
        model.profiles.push(ProfileRule {
            id: ProfileId(get_uuid(&r, "id")?),
            application: get_str(&r, "application")?,
            name: get_str(&r, "name")?,
            roles: serde_json::from_str(&get_str(&r, "roles")?)?,
        });
    }
    for r in sqlx::query(&sql_for(
        b,
        "SELECT profile_id, user_id FROM profile_users WHERE org_id = $1",
    ))
    .bind(&o)
    .fetch_all(&mut *c)
    .await?
    {
        model.profile_users.push((
            ProfileId(get_uuid(&r, "profile_id")?),
            UserId(get_uuid(&r, "user_id")?),
        ));
    }
    for r in sqlx::query(&sql_for(
        b,
        "SELECT profile_id, group_id FROM profile_groups WHERE org_id = $1",
    ))
    .bind(&o)
    .fetch_all(&mut *c)
    .await?
    {
        model.profile_groups.push((
            ProfileId(get_uuid(&r, "profile_id")?),
            GroupId(get_uuid(&r, "group_id")?),
        ));
    }
    Ok(())
}
