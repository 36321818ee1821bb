//! What decides a few users' rights, read for an incremental snapshot update (issue 14): each
//! named user's status, direct roles, group memberships and direct seats, and nothing of the
//! rest of the organisation. Read inside the write transaction, after its writes, so the rows
//! are exactly what commits.

use super::{get_str, get_uuid, sql_for, Backend};
use crate::error::{Error, Result};
use rolecall_core::authz::{ProfileId, UserRights};
use rolecall_core::model::{GroupId, OrgId, RoleId, UserId, UserStatus};
use sqlx::AnyConnection;

/// The rights-deciding rows of `users`, in the order given. `None` when one of them is not (or
/// no longer) in the organisation: a removal is not something an incremental update expresses,
/// so the caller compiles the whole organisation instead.
pub async fn load_user_rights(
    c: &mut AnyConnection,
    b: Backend,
    org: OrgId,
    users: &[UserId],
) -> Result<Option<Vec<UserRights>>> {
    let o = org.to_string();
    let mut out = Vec::with_capacity(users.len());
    for id in users {
        let u = id.to_string();
        let Some(row) = sqlx::query(&sql_for(
            b,
            "SELECT status FROM users WHERE id = $1 AND org_id = $2",
        ))
        .bind(&u)
        .bind(&o)
        .fetch_optional(&mut *c)
        .await?
        else {
            return Ok(None);
        };
        let status = UserStatus::parse("status", &get_str(&row, "status")?).map_err(|e| {
            Error::Internal(format!("stored status fails validation: {}", e.message))
        })?;
        let mut rights = UserRights {
            id: *id,
            status,
            roles: Vec::new(),
            groups: Vec::new(),
            seats: Vec::new(),
        };
        for r in sqlx::query(&sql_for(
            b,
            "SELECT role_id FROM user_roles WHERE user_id = $1 AND org_id = $2",
        ))
        .bind(&u)
        .bind(&o)
        .fetch_all(&mut *c)
        .await?
        {
            rights.roles.push(RoleId(get_uuid(&r, "role_id")?));
        }
        for r in sqlx::query(&sql_for(
            b,
            "SELECT group_id FROM group_members WHERE user_id = $1 AND org_id = $2",
        ))
        .bind(&u)
        .bind(&o)
        .fetch_all(&mut *c)
        .await?
        {
            rights.groups.push(GroupId(get_uuid(&r, "group_id")?));
        }
        for r in sqlx::query(&sql_for(
            b,
            "SELECT profile_id FROM profile_users WHERE user_id = $1 AND org_id = $2",
        ))
        .bind(&u)
        .bind(&o)
        .fetch_all(&mut *c)
        .await?
        {
            rights.seats.push(ProfileId(get_uuid(&r, "profile_id")?));
        }
        out.push(rights);
    }
    Ok(Some(out))
}
