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
    // One statement per user (a change's cost is mostly statements, each a round trip to the
    // database): the status row first, then the user's roles, groups and seats, tagged.
    let sql = sql_for(
        b,
        "SELECT 's' AS k, status AS v FROM users WHERE id = $1 AND org_id = $2 \
         UNION ALL SELECT 'r', role_id FROM user_roles WHERE user_id = $1 AND org_id = $2 \
         UNION ALL SELECT 'g', group_id FROM group_members WHERE user_id = $1 AND org_id = $2 \
         UNION ALL SELECT 'p', profile_id FROM profile_users WHERE user_id = $1 AND org_id = $2",
    );
    let mut out = Vec::with_capacity(users.len());
    for id in users {
        let rows = sqlx::query(&sql)
            .bind(id.to_string())
            .bind(&o)
            .fetch_all(&mut *c)
            .await?;
        let mut status = None;
        let (mut roles, mut groups, mut seats) = (Vec::new(), Vec::new(), Vec::new());
        for r in &rows {
            match get_str(r, "k")?.as_str() {
                "s" => {
                    status = Some(UserStatus::parse("status", &get_str(r, "v")?).map_err(|e| {
                        Error::Internal(format!("stored status fails validation: {}", e.message))
                    })?)
                }
                "r" => roles.push(RoleId(get_uuid(r, "v")?)),
                "g" => groups.push(GroupId(get_uuid(r, "v")?)),
                _ => seats.push(ProfileId(get_uuid(r, "v")?)),
            }
        }
        let Some(status) = status else {
            return Ok(None);
        };
        out.push(UserRights {
            id: *id,
            status,
            roles,
            groups,
            seats,
        });
    }
    Ok(Some(out))
}
