//! What bulk imports and exports read: a user by e-mail, what one user holds directly (groups,
//! roles, seats, admin rights), the names of an organisation's groups, roles and profiles, and
//! users in pages for exports. The writes are the use cases' own (`store::directory`, …).

use super::{get_str, get_uuid, sql_for, Backend};
use crate::error::Result;
use rolecall_core::authz::ProfileId;
use rolecall_core::model::{GroupId, OrgId, RoleId, User, UserId};
use sqlx::AnyConnection;
use std::collections::{BTreeSet, HashMap};

/// The tables a bulk import grows.
const GROWN: &str = "users, user_emails, sign_in_names, group_members, user_groups, user_roles, \
     profile_users, admin_rights";

/// Gives PostgreSQL statistics that count the import's own rows, so its plans fit the tables
/// as they are now (issue 12). An import into a new organisation grows `users`,
/// `group_members`, … many times over inside its one transaction, where neither autovacuum nor
/// any other session sees the new rows. Planned while the tables were tiny, a lookup by a
/// unique key ties with any index leading with `org_id` and PostgreSQL takes the newest one,
/// which then scans every row the import added, for every row: measured, `SELECT … FROM
/// users WHERE id = $1 AND org_id = $2` through `users_external_id_c` fetched 9 million rows
/// in a 3,000-row import. `ANALYZE` inside the transaction samples its uncommitted rows and
/// invalidates the cached plans; its statistics roll back with the import. It waits at most
/// 100 ms for the lock another import's `ANALYZE` holds until that import commits, and then
/// goes on without new statistics rather than serialise imports of different organisations.
/// SQLite needs nothing: its planner prefers a unique index.
pub async fn refresh_statistics(c: &mut AnyConnection, b: Backend) -> Result<()> {
    if b != Backend::Postgres {
        return Ok(());
    }
    sqlx::query("SAVEPOINT bulk_statistics")
        .execute(&mut *c)
        .await?;
    let analyzed = async {
        sqlx::query("SET LOCAL lock_timeout = '100ms'")
            .execute(&mut *c)
            .await?;
        sqlx::query(&format!("ANALYZE {GROWN}"))
            .execute(&mut *c)
            .await
    }
    .await;
    match analyzed {
        Ok(_) => {
            sqlx::query("RELEASE SAVEPOINT bulk_statistics")
                .execute(&mut *c)
                .await?;
        }
        Err(e) => {
            tracing::info!(error = %e, "bulk import: statistics not refreshed");
            sqlx::query("ROLLBACK TO SAVEPOINT bulk_statistics")
                .execute(&mut *c)
                .await?;
            sqlx::query("RELEASE SAVEPOINT bulk_statistics")
                .execute(&mut *c)
                .await?;
        }
    }
    // `SET LOCAL` lasts until the transaction ends, whatever the savepoint: undo it.
    sqlx::query("SET LOCAL lock_timeout = DEFAULT")
        .execute(&mut *c)
        .await?;
    Ok(())
}

/// When a long import refreshes its statistics: at 128 rows and every 8 times more, so the
/// `ANALYZE`s stay few (six up to 10 million rows) while each one sees the tables at least an
/// eighth of their size.
#[derive(Debug)]
pub struct StatisticsSchedule {
    rows: u64,
    next: u64,
}

impl Default for StatisticsSchedule {
    fn default() -> Self {
        Self { rows: 0, next: 128 }
    }
}

impl StatisticsSchedule {
    /// Counts a row about to be applied, refreshing the statistics when it is due; call it
    /// between rows, never inside a row's savepoint.
    pub async fn row(&mut self, c: &mut AnyConnection, b: Backend) -> Result<()> {
        self.rows += 1;
        if self.rows == self.next {
            refresh_statistics(c, b).await?;
            self.next = self.next.saturating_mul(8);
        }
        Ok(())
    }
}

/// The user whose e-mail key is `email_key`, if any.
pub async fn user_by_email(
    c: &mut AnyConnection,
    b: Backend,
    org: OrgId,
    email_key: &str,
) -> Result<Option<User>> {
    let row = sqlx::query(&sql_for(
        b,
        "SELECT * FROM users WHERE org_id = $1 AND email_key = $2",
    ))
    .bind(org.to_string())
    .bind(email_key)
    .fetch_optional(c)
    .await?;
    row.as_ref()
        .map(super::directory::user_from_row)
        .transpose()
}

/// The people of `org` whose e-mail key is one of `keys`: an import asks once for a whole batch
/// (`directory::bulk_known`), where a row alone asks [`user_by_email`].
pub async fn users_by_email(
    c: &mut AnyConnection,
    b: Backend,
    org: OrgId,
    keys: &[String],
) -> Result<Vec<User>> {
    let mut out = Vec::new();
    for part in keys.chunks(super::rows::MAX_BINDS / 2) {
        let sql = format!(
            "SELECT * FROM users WHERE org_id = {} AND email_key IN ({})",
            super::rows::mark(b, 1),
            marks(b, 2, part.len())
        );
        let mut q = sqlx::query(&sql).bind(org.to_string());
        for k in part {
            q = q.bind(k.as_str());
        }
        for row in q.fetch_all(&mut *c).await? {
            out.push(super::directory::user_from_row(&row)?);
        }
    }
    Ok(out)
}

/// What one person holds directly, as the row-by-row import reads it one query at a time:
/// groups, seats, roles and admin rights (kind, target).
#[derive(Debug, Default)]
pub struct DirectHoldings {
    pub groups: BTreeSet<GroupId>,
    pub profiles: BTreeSet<ProfileId>,
    pub roles: BTreeSet<RoleId>,
    pub rights: BTreeSet<(String, String)>,
}

/// What each of `users` (all of `org`) holds directly, in four queries for all of them.
pub async fn direct_holdings(
    c: &mut AnyConnection,
    b: Backend,
    org: OrgId,
    users: &[UserId],
) -> Result<HashMap<UserId, DirectHoldings>> {
    let mut out: HashMap<UserId, DirectHoldings> = users
        .iter()
        .map(|u| (*u, DirectHoldings::default()))
        .collect();
    let ids: Vec<String> = users.iter().map(|u| u.to_string()).collect();
    for part in ids.chunks(super::rows::MAX_BINDS / 2) {
        for (user, group) in linked(c, b, "group_members", "group_id", part).await? {
            if let Some(h) = out.get_mut(&user) {
                h.groups.insert(GroupId(group));
            }
        }
        for (user, profile) in linked(c, b, "profile_users", "profile_id", part).await? {
            if let Some(h) = out.get_mut(&user) {
                h.profiles.insert(ProfileId(profile));
            }
        }
        for (user, role) in linked(c, b, "user_roles", "role_id", part).await? {
            if let Some(h) = out.get_mut(&user) {
                h.roles.insert(RoleId(role));
            }
        }
        // Admin rights by their key, which leads with the organisation.
        let sql = format!(
            "SELECT user_id, kind, target FROM admin_rights WHERE org_id = {} AND user_id IN ({})",
            super::rows::mark(b, 1),
            marks(b, 2, part.len())
        );
        let mut q = sqlx::query(&sql).bind(org.to_string());
        for id in part {
            q = q.bind(id.as_str());
        }
        for row in q.fetch_all(&mut *c).await? {
            if let Some(h) = out.get_mut(&UserId(get_uuid(&row, "user_id")?)) {
                h.rights
                    .insert((get_str(&row, "kind")?, get_str(&row, "target")?));
            }
        }
    }
    Ok(out)
}

/// (user, linked id) of `table`'s rows for `users`. The users are one organisation's (read
/// with it), so the link table is asked by user alone, through its user index.
async fn linked(
    c: &mut AnyConnection,
    b: Backend,
    table: &str,
    column: &str,
    users: &[String],
) -> Result<Vec<(UserId, uuid::Uuid)>> {
    let sql = format!(
        "SELECT user_id, {column} AS item FROM {table} WHERE user_id IN ({})",
        marks(b, 1, users.len())
    );
    let mut q = sqlx::query(&sql);
    for id in users {
        q = q.bind(id.as_str());
    }
    q.fetch_all(&mut *c)
        .await?
        .iter()
        .map(|r| Ok((UserId(get_uuid(r, "user_id")?), get_uuid(r, "item")?)))
        .collect()
}

/// `count` placeholders from the `first`th, comma-separated.
fn marks(b: Backend, first: usize, count: usize) -> String {
    (first..first + count)
        .map(|n| super::rows::mark(b, n))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The groups `user` is a member of.
pub async fn group_ids_of(c: &mut AnyConnection, b: Backend, user: UserId) -> Result<Vec<GroupId>> {
    let rows = sqlx::query(&sql_for(
        b,
        "SELECT group_id FROM group_members WHERE user_id = $1",
    ))
    .bind(user.to_string())
    .fetch_all(c)
    .await?;
    rows.iter()
        .map(|r| Ok(GroupId(get_uuid(r, "group_id")?)))
        .collect()
}

/// The profiles `user` holds a seat of directly (not through a group).
pub async fn profile_ids_of(
    c: &mut AnyConnection,
    b: Backend,
    user: UserId,
) -> Result<Vec<ProfileId>> {
    let rows = sqlx::query(&sql_for(
        b,
        "SELECT profile_id FROM profile_users WHERE user_id = $1",
    ))
    .bind(user.to_string())
    .fetch_all(c)
    .await?;
    rows.iter()
        .map(|r| Ok(ProfileId(get_uuid(r, "profile_id")?)))
        .collect()
}

/// Every group of the organisation: (id, name).
pub async fn groups(
    c: &mut AnyConnection,
    b: Backend,
    org: OrgId,
) -> Result<Vec<(GroupId, String)>> {
    let rows = sqlx::query(&sql_for(
        b,
        "SELECT id, name FROM user_groups WHERE org_id = $1",
    ))
    .bind(org.to_string())
    .fetch_all(c)
    .await?;
    rows.iter()
        .map(|r| Ok((GroupId(get_uuid(r, "id")?), get_str(r, "name")?)))
        .collect()
}

/// Every role of the organisation: (id, application, name).
pub async fn roles(
    c: &mut AnyConnection,
    b: Backend,
    org: OrgId,
) -> Result<Vec<(RoleId, String, String)>> {
    let rows = sqlx::query(&sql_for(
        b,
        "SELECT id, application, name FROM roles WHERE org_id = $1",
    ))
    .bind(org.to_string())
    .fetch_all(c)
    .await?;
    rows.iter()
        .map(|r| {
            Ok((
                RoleId(get_uuid(r, "id")?),
                get_str(r, "application")?,
                get_str(r, "name")?,
            ))
        })
        .collect()
}

/// Every product profile of the organisation: (id, application, name).
pub async fn profiles(
    c: &mut AnyConnection,
    b: Backend,
    org: OrgId,
) -> Result<Vec<(ProfileId, String, String)>> {
    let rows = sqlx::query(&sql_for(
        b,
        "SELECT id, application, name FROM profiles WHERE org_id = $1",
    ))
    .bind(org.to_string())
    .fetch_all(c)
    .await?;
    rows.iter()
        .map(|r| {
            Ok((
                ProfileId(get_uuid(r, "id")?),
                get_str(r, "application")?,
                get_str(r, "name")?,
            ))
        })
        .collect()
}

/// People of the organisation (no service accounts) after `after_email_key`, by e-mail key:
/// exports walk them in pages so memory stays bounded by the page.
pub async fn people_page(
    c: &mut AnyConnection,
    b: Backend,
    org: OrgId,
    after_email_key: &str,
    limit: i64,
) -> Result<Vec<User>> {
    let rows = sqlx::query(&sql_for(
        b,
        "SELECT * FROM users WHERE org_id = $1 AND kind = 'person' AND email_key > $2 \
         ORDER BY email_key LIMIT $3",
    ))
    .bind(org.to_string())
    .bind(after_email_key)
    .bind(limit)
    .fetch_all(c)
    .await?;
    rows.iter().map(super::directory::user_from_row).collect()
}

/// The people of one export page: e-mail keys in `(after, last]`.
const PAGE_PEOPLE: &str = "JOIN users u ON u.id = x.user_id \
     WHERE u.org_id = $1 AND u.kind = 'person' AND u.email_key > $2 AND u.email_key <= $3";

async fn page_pairs(
    c: &mut AnyConnection,
    b: Backend,
    select: &str,
    org: OrgId,
    after: &str,
    last: &str,
) -> Result<Vec<(String, String)>> {
    let rows = sqlx::query(&sql_for(b, &format!("{select} {PAGE_PEOPLE}")))
        .bind(org.to_string())
        .bind(after)
        .bind(last)
        .fetch_all(c)
        .await?;
    rows.iter()
        .map(|r| Ok((get_str(r, "user_id")?, get_str(r, "item")?)))
        .collect()
}

/// (user id, group id) of the memberships of one export page.
pub async fn page_groups(
    c: &mut AnyConnection,
    b: Backend,
    org: OrgId,
    after: &str,
    last: &str,
) -> Result<Vec<(String, String)>> {
    let select = "SELECT x.user_id AS user_id, x.group_id AS item FROM group_members x";
    page_pairs(c, b, select, org, after, last).await
}

/// (user id, role id) of the direct role assignments of one export page.
pub async fn page_roles(
    c: &mut AnyConnection,
    b: Backend,
    org: OrgId,
    after: &str,
    last: &str,
) -> Result<Vec<(String, String)>> {
    let select = "SELECT x.user_id AS user_id, x.role_id AS item FROM user_roles x";
    page_pairs(c, b, select, org, after, last).await
}

/// (user id, profile id) of the direct seats of one export page.
pub async fn page_profiles(
    c: &mut AnyConnection,
    b: Backend,
    org: OrgId,
    after: &str,
    last: &str,
) -> Result<Vec<(String, String)>> {
    let select = "SELECT x.user_id AS user_id, x.profile_id AS item FROM profile_users x";
    page_pairs(c, b, select, org, after, last).await
}

/// (user id, kind, target) of the admin rights of one export page.
pub async fn page_rights(
    c: &mut AnyConnection,
    b: Backend,
    org: OrgId,
    after: &str,
    last: &str,
) -> Result<Vec<(String, String, String)>> {
    let rows = sqlx::query(&sql_for(
        b,
        &format!("SELECT x.user_id AS user_id, x.kind AS kind, x.target AS target FROM admin_rights x {PAGE_PEOPLE}"),
    ))
    .bind(org.to_string())
    .bind(after)
    .bind(last)
    .fetch_all(c)
    .await?;
    rows.iter()
        .map(|r| {
            Ok((
                get_str(r, "user_id")?,
                get_str(r, "kind")?,
                get_str(r, "target")?,
            ))
        })
        .collect()
}
