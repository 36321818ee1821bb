//! What the holding rules (`rolecall_core::holding`) need, read inside the use case's
//! transaction: the roles a set of people hold with the names and ways they hold them, the
//! holders of an application's `Administrators` role, and the row locks that serialise changes
//! per person.
//!
//! A set of people is named by a [`People`] selector rather than listed, so a group of thousands
//! costs the same three queries as one person.

use super::{get_opt_str, get_str, get_uuid, sql_for, Backend};
use crate::error::Result;
use rolecall_core::authz::ProfileId;
use rolecall_core::holding::{HeldRole, HeldVia, Holder};
use rolecall_core::model::{GroupId, OrgId, RoleId, UserId};
use sqlx::AnyConnection;
use std::collections::HashMap;

/// Whose holdings to read or whose rows to lock.
#[derive(Debug, Clone, Copy)]
pub enum People {
    One(UserId),
    /// Every member of a group.
    MembersOf(GroupId),
    /// Everyone holding a seat in a profile, directly or through a group, whatever their status.
    SeatHoldersOf(ProfileId),
}

impl People {
    /// A condition on `col` (a user id column) using `$1`, and the value to bind to `$1`.
    fn condition(&self, col: &str) -> (String, String) {
        match self {
            People::One(u) => (format!("{col} = $1"), u.to_string()),
            People::MembersOf(g) => (
                format!("{col} IN (SELECT user_id FROM group_members WHERE group_id = $1)"),
                g.to_string(),
            ),
            People::SeatHoldersOf(p) => (
                format!(
                    "{col} IN (SELECT user_id FROM profile_users WHERE profile_id = $1 \
                     UNION SELECT gm.user_id FROM group_members gm \
                     JOIN profile_groups pg ON pg.group_id = gm.group_id WHERE pg.profile_id = $1)"
                ),
                p.to_string(),
            ),
        }
    }
}

fn for_update(b: Backend) -> &'static str {
    match b {
        Backend::Postgres => " FOR UPDATE",
        Backend::Sqlite => "",
    }
}

/// Locks the rows of `people` in id order (so two changes over overlapping sets of people
/// cannot deadlock) and returns each one's id and username. On SQLite the writer lock already
/// serialises every change.
pub async fn lock_people(
    c: &mut AnyConnection,
    b: Backend,
    org: OrgId,
    people: People,
) -> Result<Vec<(UserId, String)>> {
    let (cond, arg) = people.condition("id");
    let rows = sqlx::query(&sql_for(
        b,
        &format!(
            "SELECT id, username FROM users WHERE {cond} AND org_id = $2 ORDER BY id{}",
            for_update(b)
        ),
    ))
    .bind(arg)
    .bind(org.to_string())
    .fetch_all(c)
    .await?;
    rows.iter()
        .map(|r| Ok((UserId(get_uuid(r, "id")?), get_str(r, "username")?)))
        .collect()
}

/// Every role each of `people` holds, directly, through groups and through profile seats,
/// with names, in three queries.
pub async fn held_roles(
    c: &mut AnyConnection,
    b: Backend,
    org: OrgId,
    people: People,
) -> Result<HashMap<UserId, Vec<HeldRole>>> {
    let mut out: HashMap<UserId, Vec<HeldRole>> = HashMap::new();
    let (cond, arg) = people.condition("ur.user_id");
    let direct = sqlx::query(&sql_for(
        b,
        &format!(
            "SELECT ur.user_id, r.id, r.name, r.application FROM user_roles ur \
             JOIN roles r ON r.id = ur.role_id WHERE {cond} AND r.org_id = $2"
        ),
    ))
    .bind(&arg)
    .bind(org.to_string())
    .fetch_all(&mut *c)
    .await?;
    for r in &direct {
        out.entry(UserId(get_uuid(r, "user_id")?))
            .or_default()
            .push(HeldRole {
                role: RoleId(get_uuid(r, "id")?),
                role_name: get_str(r, "name")?,
                application: get_str(r, "application")?,
                via: HeldVia::Direct,
            });
    }
    let (cond, _) = people.condition("gm.user_id");
    let via_groups = sqlx::query(&sql_for(
        b,
        &format!(
            "SELECT gm.user_id, g.id AS group_id, g.name AS group_name, r.id, r.name, r.application \
             FROM group_members gm JOIN user_groups g ON g.id = gm.group_id \
             JOIN group_roles gr ON gr.group_id = gm.group_id JOIN roles r ON r.id = gr.role_id \
             WHERE {cond} AND r.org_id = $2"
        ),
    ))
    .bind(&arg)
    .bind(org.to_string())
    .fetch_all(&mut *c)
    .await?;
    for r in &via_groups {
        out.entry(UserId(get_uuid(r, "user_id")?))
            .or_default()
            .push(HeldRole {
                role: RoleId(get_uuid(r, "id")?),
                role_name: get_str(r, "name")?,
                application: get_str(r, "application")?,
                via: HeldVia::Group {
                    id: GroupId(get_uuid(r, "group_id")?),
                    name: get_str(r, "group_name")?,
                },
            });
    }
    let (direct_cond, _) = people.condition("pu.user_id");
    let (group_cond, _) = people.condition("gm.user_id");
    let seats = sqlx::query(&sql_for(
        b,
        &format!(
            "SELECT pu.user_id, p.id, p.name, p.roles FROM profile_users pu \
             JOIN profiles p ON p.id = pu.profile_id WHERE {direct_cond} AND p.org_id = $2 \
             UNION SELECT gm.user_id, p.id, p.name, p.roles FROM group_members gm \
             JOIN profile_groups pg ON pg.group_id = gm.group_id JOIN profiles p ON p.id = pg.profile_id \
             WHERE {group_cond} AND p.org_id = $2"
        ),
    ))
    .bind(&arg)
    .bind(org.to_string())
    .fetch_all(&mut *c)
    .await?;
    if seats.is_empty() {
        return Ok(out);
    }
    let names = role_names(&mut *c, b, org).await?;
    for r in &seats {
        let user = UserId(get_uuid(r, "user_id")?);
        let profile = ProfileId(get_uuid(r, "id")?);
        let profile_name = get_str(r, "name")?;
        let bundle: Vec<RoleId> = serde_json::from_str(&get_str(r, "roles")?)?;
        for role in bundle {
            let Some((role_name, application)) = names.get(&role) else {
                continue;
            };
            out.entry(user).or_default().push(HeldRole {
                role,
                role_name: role_name.clone(),
                application: application.clone(),
                via: HeldVia::Profile {
                    id: profile,
                    name: profile_name.clone(),
                },
            });
        }
    }
    Ok(out)
}

/// Name and application of every role of the organisation.
pub async fn role_names(
    c: &mut AnyConnection,
    b: Backend,
    org: OrgId,
) -> Result<HashMap<RoleId, (String, String)>> {
    let rows = sqlx::query(&sql_for(
        b,
        "SELECT id, name, application FROM roles WHERE org_id = $1",
    ))
    .bind(org.to_string())
    .fetch_all(c)
    .await?;
    rows.iter()
        .map(|r| {
            Ok((
                RoleId(get_uuid(r, "id")?),
                (get_str(r, "name")?, get_str(r, "application")?),
            ))
        })
        .collect()
}

/// The id of an application's built-in `Administrators` role in an organisation, locked when
/// `lock` (the row every removal of the role's last holder serialises on).
pub async fn administrators_role(
    c: &mut AnyConnection,
    b: Backend,
    org: OrgId,
    application: &str,
    lock: bool,
) -> Result<Option<RoleId>> {
    let row = sqlx::query(&sql_for(
        b,
        &format!(
            "SELECT id FROM roles WHERE org_id = $1 AND application = $2 AND builtin = 1{}",
            if lock { for_update(b) } else { "" }
        ),
    ))
    .bind(org.to_string())
    .bind(application)
    .fetch_optional(c)
    .await?;
    row.map(|r| Ok(RoleId(get_uuid(&r, "id")?))).transpose()
}

/// Everyone holding `role`, one row per way they hold it, with their status.
pub async fn holders(c: &mut AnyConnection, b: Backend, role: RoleId) -> Result<Vec<Holder>> {
    let rows = sqlx::query(&sql_for(
        b,
        "SELECT u.id, u.username, u.status, NULL AS group_id, NULL AS group_name FROM user_roles ur \
         JOIN users u ON u.id = ur.user_id WHERE ur.role_id = $1 \
         UNION ALL SELECT u.id, u.username, u.status, g.id AS group_id, g.name AS group_name \
         FROM group_roles gr JOIN group_members gm ON gm.group_id = gr.group_id \
         JOIN users u ON u.id = gm.user_id JOIN user_groups g ON g.id = gr.group_id \
         WHERE gr.role_id = $1",
    ))
    .bind(role.to_string())
    .fetch_all(c)
    .await?;
    rows.iter()
        .map(|r| {
            let via = match (get_opt_str(r, "group_id")?, get_opt_str(r, "group_name")?) {
                (Some(id), Some(name)) => HeldVia::Group {
                    id: GroupId(id.parse().map_err(|e| {
                        crate::error::Error::Internal(format!("bad group id {id}: {e}"))
                    })?),
                    name,
                },
                _ => HeldVia::Direct,
            };
            Ok(Holder {
                user: UserId(get_uuid(r, "id")?),
                name: get_str(r, "username")?,
                active: get_str(r, "status")? == "active",
                via,
            })
        })
        .collect()
}

/// What joining `group` gives a person: the group's roles and the bundles of the profiles the
/// group holds seats in, with those profiles' ids in ascending order (the order their seats
/// are locked in), so the seat check needs no second look at the same rows.
pub async fn group_carries(
    c: &mut AnyConnection,
    b: Backend,
    org: OrgId,
    group: GroupId,
) -> Result<(Vec<HeldRole>, Vec<ProfileId>)> {
    // One round trip for both halves (every membership change asks this): `kind` tells the
    // group's own roles ('r', `detail` the application) from its profiles ('p', `detail` the
    // bundle as JSON).
    let rows = sqlx::query(&sql_for(
        b,
        "SELECT 'r' AS kind, r.id, r.name, r.application AS detail, g.name AS group_name \
         FROM group_roles gr JOIN user_groups g ON g.id = gr.group_id \
         JOIN roles r ON r.id = gr.role_id WHERE gr.group_id = $1 AND r.org_id = $2 \
         UNION ALL \
         SELECT 'p' AS kind, p.id, p.name, p.roles AS detail, '' AS group_name \
         FROM profile_groups pg JOIN profiles p ON p.id = pg.profile_id \
         WHERE pg.group_id = $1 AND p.org_id = $2",
    ))
    .bind(group.to_string())
    .bind(org.to_string())
    .fetch_all(&mut *c)
    .await?;
    let mut out = Vec::new();
    let mut profiles = Vec::new();
    for r in &rows {
        let (id, name, detail) = (
            get_uuid(r, "id")?,
            get_str(r, "name")?,
            get_str(r, "detail")?,
        );
        if get_str(r, "kind")? == "p" {
            profiles.push((ProfileId(id), name, detail));
            continue;
        }
        out.push(HeldRole {
            role: RoleId(id),
            role_name: name,
            application: detail,
            via: HeldVia::Group {
                id: group,
                name: get_str(r, "group_name")?,
            },
        });
    }
    let mut ids = Vec::with_capacity(profiles.len());
    for (id, name, bundle) in profiles {
        let bundle: Vec<RoleId> = serde_json::from_str(&bundle)?;
        ids.push(id);
        out.extend(bundle_roles(&mut *c, b, org, id, &name, &bundle).await?);
    }
    ids.sort();
    Ok((out, ids))
}

/// The roles a seat in a profile gives, as held through that profile.
pub async fn bundle_roles(
    c: &mut AnyConnection,
    b: Backend,
    org: OrgId,
    profile: ProfileId,
    profile_name: &str,
    bundle: &[RoleId],
) -> Result<Vec<HeldRole>> {
    if bundle.is_empty() {
        return Ok(Vec::new());
    }
    let names = role_names(c, b, org).await?;
    Ok(bundle
        .iter()
        .filter_map(|role| {
            names.get(role).map(|(name, app)| HeldRole {
                role: *role,
                role_name: name.clone(),
                application: app.clone(),
                via: HeldVia::Profile {
                    id: profile,
                    name: profile_name.to_string(),
                },
            })
        })
        .collect())
}
