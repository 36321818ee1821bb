//! SQL of the access reports: who holds what in one organisation, read in a handful of
//! organisation-wide queries (not one per user), for the use cases to assemble.

use super::{get_i64, get_opt_i64, get_str, sql_for, Backend};
use crate::error::Result;
use sqlx::AnyConnection;

/// A person as the reports list them.
#[derive(Debug, Clone)]
pub struct PersonRow {
    pub id: String,
    pub username: String,
    pub email: String,
    pub first_name: String,
    pub last_name: String,
    pub status: String,
    pub created_at: i64,
    pub last_sign_in_at: Option<i64>,
}

/// A role a user holds; `group` is `(id, name)` when held through a group.
#[derive(Debug, Clone)]
pub struct RoleRow {
    pub user_id: String,
    pub role_id: String,
    pub role_name: String,
    pub application: String,
    pub group: Option<(String, String)>,
}

/// A seat a user holds; `group` is `(id, name)` when held through a group.
#[derive(Debug, Clone)]
pub struct SeatRow {
    pub user_id: String,
    pub profile_id: String,
    pub profile_name: String,
    pub application: String,
    pub group: Option<(String, String)>,
}

/// Everything the reports need about an organisation, read in one transaction.
#[derive(Debug, Default)]
pub struct Holdings {
    pub people: Vec<PersonRow>,
    pub roles: Vec<RoleRow>,
    pub seats: Vec<SeatRow>,
    /// (user, group id, group name)
    pub memberships: Vec<(String, String, String)>,
    /// (user, kind, target)
    pub admin_rights: Vec<(String, String, String)>,
    /// (creator, credential id, name)
    pub credentials: Vec<(String, String, String)>,
    /// (user, session id, created_at, last_seen_at, source_ip)
    pub sessions: Vec<(String, String, i64, i64, String)>,
}

async fn rows(
    c: &mut AnyConnection,
    b: Backend,
    sql: &str,
    binds: &[String],
) -> Result<Vec<sqlx::any::AnyRow>> {
    let sql = sql_for(b, sql);
    let mut q = sqlx::query(&sql);
    for v in binds {
        q = q.bind(v.clone());
    }
    Ok(q.fetch_all(c).await?)
}

/// Reads the holdings of every person of `org` (service accounts excluded: their access is
/// their credential's, reported with it).
pub async fn holdings(c: &mut AnyConnection, b: Backend, org: &str, now: i64) -> Result<Holdings> {
    let o = [org.to_string()];
    let mut h = Holdings::default();
    for r in rows(c, b, "SELECT id, username, email, first_name, last_name, status, created_at, last_sign_in_at FROM users u WHERE org_id = $1 AND NOT EXISTS (SELECT 1 FROM api_credentials a WHERE a.service_user_id = u.id) ORDER BY email_key", &o).await? {
        h.people.push(PersonRow {
            id: get_str(&r, "id")?,
            username: get_str(&r, "username")?,
            email: get_str(&r, "email")?,
            first_name: get_str(&r, "first_name")?,
            last_name: get_str(&r, "last_name")?,
            status: get_str(&r, "status")?,
            created_at: get_i64(&r, "created_at")?,
            last_sign_in_at: get_opt_i64(&r, "last_sign_in_at")?,
        });
    }
    for r in rows(c, b, "SELECT ur.user_id, r.id AS role_id, r.name AS role_name, r.application FROM user_roles ur JOIN roles r ON r.id = ur.role_id WHERE ur.org_id = $1", &o).await? {
        h.roles.push(RoleRow {
            user_id: get_str(&r, "user_id")?,
            role_id: get_str(&r, "role_id")?,
            role_name: get_str(&r, "role_name")?,
            application: get_str(&r, "application")?,
            group: None,
        });
    }
    for r in rows(c, b, "SELECT gm.user_id, r.id AS role_id, r.name AS role_name, r.application, g.id AS group_id, g.name AS group_name FROM group_members gm JOIN group_roles gr ON gr.group_id = gm.group_id JOIN roles r ON r.id = gr.role_id JOIN user_groups g ON g.id = gm.group_id WHERE g.org_id = $1", &o).await? {
        h.roles.push(RoleRow {
            user_id: get_str(&r, "user_id")?,
            role_id: get_str(&r, "role_id")?,
            role_name: get_str(&r, "role_name")?,
            application: get_str(&r, "application")?,
            group: Some((get_str(&r, "group_id")?, get_str(&r, "group_name")?)),
        });
    }
    for r in rows(c, b, "SELECT pu.user_id, p.id AS profile_id, p.name AS profile_name, p.application FROM profile_users pu JOIN profiles p ON p.id = pu.profile_id WHERE p.org_id = $1", &o).await? {
        h.seats.push(SeatRow {
            user_id: get_str(&r, "user_id")?,
            profile_id: get_str(&r, "profile_id")?,
            profile_name: get_str(&r, "profile_name")?,
            application: get_str(&r, "application")?,
            group: None,
        });
    }
    for r in rows(c, b, "SELECT gm.user_id, p.id AS profile_id, p.name AS profile_name, p.application, g.id AS group_id, g.name AS group_name FROM profile_groups pg JOIN group_members gm ON gm.group_id = pg.group_id JOIN profiles p ON p.id = pg.profile_id JOIN user_groups g ON g.id = pg.group_id WHERE p.org_id = $1", &o).await? {
        h.seats.push(SeatRow {
            user_id: get_str(&r, "user_id")?,
            profile_id: get_str(&r, "profile_id")?,
            profile_name: get_str(&r, "profile_name")?,
            application: get_str(&r, "application")?,
            group: Some((get_str(&r, "group_id")?, get_str(&r, "group_name")?)),
        });
    }
    for r in rows(c, b, "SELECT gm.user_id, g.id, g.name FROM group_members gm JOIN user_groups g ON g.id = gm.group_id WHERE g.org_id = $1 ORDER BY g.name", &o).await? {
        h.memberships.push((get_str(&r, "user_id")?, get_str(&r, "id")?, get_str(&r, "name")?));
    }
    for r in rows(
        c,
        b,
        "SELECT user_id, kind, target FROM admin_rights WHERE org_id = $1 ORDER BY kind, target",
        &o,
    )
    .await?
    {
        h.admin_rights.push((
            get_str(&r, "user_id")?,
            get_str(&r, "kind")?,
            get_str(&r, "target")?,
        ));
    }
    let live = |sql: &str| sql_for(b, sql);
    let sql = live("SELECT created_by_user, id, name FROM api_credentials WHERE org_id = $1 AND created_by_user IS NOT NULL AND revoked_at IS NULL AND (expires_at IS NULL OR expires_at > $2) ORDER BY name");
    for r in sqlx::query(&sql)
        .bind(org)
        .bind(now)
        .fetch_all(&mut *c)
        .await?
    {
        h.credentials.push((
            get_str(&r, "created_by_user")?,
            get_str(&r, "id")?,
            get_str(&r, "name")?,
        ));
    }
    let sql = live("SELECT user_id, id, created_at, last_seen_at, source_ip FROM sessions WHERE org_id = $1 AND revoked_at IS NULL AND expires_at > $2 ORDER BY created_at");
    for r in sqlx::query(&sql)
        .bind(org)
        .bind(now)
        .fetch_all(&mut *c)
        .await?
    {
        h.sessions.push((
            get_str(&r, "user_id")?,
            get_str(&r, "id")?,
            get_i64(&r, "created_at")?,
            get_i64(&r, "last_seen_at")?,
            get_str(&r, "source_ip")?,
        ));
    }
    Ok(h)
}

/// Seats in use per profile (distinct people, directly or through groups), with the quota.
/// (profile id, name, application, quota, used, direct, through groups)
pub async fn seat_usage(
    c: &mut AnyConnection,
    b: Backend,
    org: &str,
) -> Result<Vec<(String, String, String, Option<i64>, i64, i64, i64)>> {
    let o = [org.to_string()];
    let profiles = rows(c, b, "SELECT id, name, application, seat_quota FROM profiles WHERE org_id = $1 ORDER BY application, name_key", &o).await?;
    let mut out = Vec::new();
    for p in profiles {
        let id = get_str(&p, "id")?;
        let used = rows(c, b, "SELECT COUNT(*) AS n FROM (SELECT user_id FROM profile_users WHERE profile_id = $1 UNION SELECT gm.user_id FROM group_members gm JOIN profile_groups pg ON pg.group_id = gm.group_id WHERE pg.profile_id = $1) s", std::slice::from_ref(&id)).await?;
        let direct = rows(
            c,
            b,
            "SELECT COUNT(*) AS n FROM profile_users WHERE profile_id = $1",
            std::slice::from_ref(&id),
        )
        .await?;
        let grouped = rows(c, b, "SELECT COUNT(*) AS n FROM (SELECT DISTINCT gm.user_id FROM group_members gm JOIN profile_groups pg ON pg.group_id = gm.group_id WHERE pg.profile_id = $1) s", std::slice::from_ref(&id)).await?;
        let n = |r: &[sqlx::any::AnyRow]| -> Result<i64> {
            r.first()
                .map(|r| get_i64(r, "n"))
                .transpose()
                .map(|v| v.unwrap_or(0))
        };
        out.push((
            id,
            get_str(&p, "name")?,
            get_str(&p, "application")?,
            get_opt_i64(&p, "seat_quota")?,
            n(&used)?,
            n(&direct)?,
            n(&grouped)?,
        ));
    }
    Ok(out)
}
