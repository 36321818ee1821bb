//! What the rights rule (`rolecall_core::change`) needs to know, read inside the use case's
//! transaction: what a person holds, who granted each admin right, who created a credential,
//! and what a group carries.

use super::{get_opt_str, get_str, get_uuid, sql_for, Backend};
use crate::error::Result;
use rolecall_core::authz::ProfileId;
use rolecall_core::change::{Carried, Holdings};
use rolecall_core::model::{GroupId, OrgId, RoleId, UserId};
use sqlx::AnyConnection;

/// Roles (direct and through groups), memberships and seats of one person.
pub async fn holdings(c: &mut AnyConnection, b: Backend, user: UserId) -> Result<Holdings> {
    let uid = user.to_string();
    let direct_roles = super::directory::user_direct_roles(&mut *c, b, user).await?;
    let groups = sqlx::query(&sql_for(
        b,
        "SELECT group_id FROM group_members WHERE user_id = $1 ORDER BY group_id",
    ))
    .bind(&uid)
    .fetch_all(&mut *c)
    .await?
    .iter()
    .map(|r| Ok(GroupId(get_uuid(r, "group_id")?)))
    .collect::<Result<Vec<_>>>()?;
    let group_roles = sqlx::query(&sql_for(
        b,
        "SELECT gm.group_id, r.id, r.application FROM group_members gm \
         JOIN group_roles gr ON gr.group_id = gm.group_id JOIN roles r ON r.id = gr.role_id \
         WHERE gm.user_id = $1 ORDER BY gm.group_id, r.id",
    ))
    .bind(&uid)
    .fetch_all(&mut *c)
    .await?
    .iter()
    .map(|r| {
        Ok((
            GroupId(get_uuid(r, "group_id")?),
            RoleId(get_uuid(r, "id")?),
            get_str(r, "application")?,
        ))
    })
    .collect::<Result<Vec<_>>>()?;
    let seat_rows = sqlx::query(&sql_for(
        b,
        "SELECT p.id, p.application, p.roles FROM profile_users pu JOIN profiles p ON p.id = pu.profile_id \
         WHERE pu.user_id = $1 \
         UNION SELECT p.id, p.application, p.roles FROM group_members gm \
         JOIN profile_groups pg ON pg.group_id = gm.group_id JOIN profiles p ON p.id = pg.profile_id \
         WHERE gm.user_id = $1 ORDER BY 1",
    ))
    .bind(&uid)
    .fetch_all(&mut *c)
    .await?;
    let mut seats = Vec::with_capacity(seat_rows.len());
    let mut seat_roles = Vec::new();
    for r in &seat_rows {
        let profile = ProfileId(get_uuid(r, "id")?);
        seats.push((profile, get_str(r, "application")?));
        let bundle: Vec<RoleId> = serde_json::from_str(&get_str(r, "roles")?)?;
        seat_roles.extend(bundle.into_iter().map(|role| (profile, role)));
    }
    Ok(Holdings {
        user: Some(user),
        direct_roles,
        groups,
        group_roles,
        seats,
        seat_roles,
    })
}

/// A person's admin rights with where each one's authority came from: (kind, target, granted
/// by, the lineage stored when it was granted).
pub async fn rights_with_lineage(
    c: &mut AnyConnection,
    b: Backend,
    org: OrgId,
    user: UserId,
) -> Result<Vec<(String, String, Option<UserId>, Vec<UserId>)>> {
    let rows = sqlx::query(&sql_for(
        b,
        "SELECT kind, target, granted_by, lineage FROM admin_rights WHERE org_id = $1 AND user_id = $2 ORDER BY kind, target",
    ))
    .bind(org.to_string())
    .bind(user.to_string())
    .fetch_all(c)
    .await?;
    rows.iter()
        .map(|r| {
            Ok((
                get_str(r, "kind")?,
                get_str(r, "target")?,
                get_opt_str(r, "granted_by")?.and_then(|s| s.parse().ok()),
                get_str(r, "lineage")?
                    .split(',')
                    .filter_map(|s| s.parse().ok())
                    .collect(),
            ))
        })
        .collect()
}

/// The person who created the credential behind a service account, if a person did.
pub async fn credential_creator(
    c: &mut AnyConnection,
    b: Backend,
    service_user: UserId,
) -> Result<Option<UserId>> {
    let row = sqlx::query(&sql_for(
        b,
        "SELECT created_by_user FROM api_credentials WHERE service_user_id = $1",
    ))
    .bind(service_user.to_string())
    .fetch_optional(c)
    .await?;
    Ok(match row {
        Some(r) => get_opt_str(&r, "created_by_user")?.and_then(|s| s.parse().ok()),
        None => None,
    })
}

/// The applications of a group's roles and the profiles it holds seats in.
pub async fn carried(c: &mut AnyConnection, b: Backend, group: GroupId) -> Result<Carried> {
    let gid = group.to_string();
    let applications = sqlx::query(&sql_for(
        b,
        "SELECT DISTINCT r.application FROM group_roles gr JOIN roles r ON r.id = gr.role_id \
         WHERE gr.group_id = $1 ORDER BY r.application",
    ))
    .bind(&gid)
    .fetch_all(&mut *c)
    .await?
    .iter()
    .map(|r| get_str(r, "application"))
    .collect::<Result<Vec<_>>>()?;
    let profiles = sqlx::query(&sql_for(
        b,
        "SELECT p.id, p.application FROM profile_groups pg JOIN profiles p ON p.id = pg.profile_id \
         WHERE pg.group_id = $1 ORDER BY p.id",
    ))
    .bind(&gid)
    .fetch_all(&mut *c)
    .await?
    .iter()
    .map(|r| Ok((ProfileId(get_uuid(r, "id")?), get_str(r, "application")?)))
    .collect::<Result<Vec<_>>>()?;
    Ok(Carried {
        applications,
        profiles,
    })
}

/// How many profiles an application has: the first one turns its licence gate on, deleting the
/// last one turns it off (both change the access of everyone using the application).
pub async fn profile_count(
    c: &mut AnyConnection,
    b: Backend,
    org: OrgId,
    application: &str,
) -> Result<i64> {
    super::directory::count(
        c,
        b,
        "SELECT COUNT(*) FROM profiles WHERE org_id = $1 AND application = $2",
        &[org.to_string(), application.to_string()],
    )
    .await
}

/// The SCIM client that created a group, if one did.
pub async fn group_provisioned_by(
    c: &mut AnyConnection,
    b: Backend,
    group: GroupId,
) -> Result<Option<String>> {
    let row = sqlx::query(&sql_for(
        b,
        "SELECT provisioned_by FROM user_groups WHERE id = $1",
    ))
    .bind(group.to_string())
    .fetch_optional(c)
    .await?;
    Ok(match row {
        Some(r) => get_opt_str(&r, "provisioned_by")?,
        None => None,
    })
}

/// Removes every administration right `user` holds in `org` (offboarding); the use case has
/// judged each one and kept the last-System-admin rail.
pub async fn remove_all_rights(
    c: &mut AnyConnection,
    b: Backend,
    org: OrgId,
    user: UserId,
) -> Result<u64> {
    let r = sqlx::query(&sql_for(
        b,
        "DELETE FROM admin_rights WHERE org_id = $1 AND user_id = $2",
    ))
    .bind(org.to_string())
    .bind(user.to_string())
    .execute(c)
    .await?;
    Ok(r.rows_affected())
}
