//! The queries behind SCIM lists and searches: users and groups matching a filter already
//! translated to SQL (`rolecall_scim::sql` with the adapter's column map), counted and paged in
//! the database, never by loading every row; and the groups of a page of users, the members of
//! a page of groups.

use super::{get_i64, get_str, get_uuid, sql_for, Backend};
use crate::error::Result;
use rolecall_core::model::{Group, GroupId, OrgId, User, UserId};
use rolecall_scim::sql::{SqlFilter, SqlValue};
use rustc_hash::FxHashMap;
use sqlx::any::AnyArguments;
use sqlx::query::Query;
use sqlx::{Any, AnyConnection};

/// One page of a search, and how many match in all.
pub struct Page<T> {
    pub items: Vec<T>,
    pub total: u64,
}

fn bind_all<'q>(
    mut q: Query<'q, Any, AnyArguments<'q>>,
    org: &str,
    filter: Option<&SqlFilter>,
) -> Query<'q, Any, AnyArguments<'q>> {
    q = q.bind(org.to_string());
    for v in filter.map(|f| f.params.as_slice()).unwrap_or(&[]) {
        q = match v {
            SqlValue::Text(s) => q.bind(s.clone()),
            SqlValue::Int(i) => q.bind(*i),
            SqlValue::Real(r) => q.bind(*r),
            SqlValue::Bool(b) => q.bind(*b),
        };
    }
    q
}

/// Where `where_sql` is the base condition with `$1` the organisation, and the filter's
/// placeholders start at `$2` (`to_sql_at(…, 2)`).
#[allow(clippy::too_many_arguments)]
async fn page<T>(
    c: &mut AnyConnection,
    b: Backend,
    table: &str,
    where_sql: &str,
    org: OrgId,
    filter: Option<&SqlFilter>,
    order: &str,
    offset: u64,
    limit: u64,
    row: fn(&sqlx::any::AnyRow) -> Result<T>,
) -> Result<Page<T>> {
    let cond = match filter {
        Some(f) => format!("{where_sql} AND ({})", f.sql),
        None => where_sql.to_string(),
    };
    let org = org.to_string();
    let count_sql = sql_for(
        b,
        &format!("SELECT COUNT(*) AS n FROM {table} WHERE {cond}"),
    );
    let total = get_i64(
        &bind_all(sqlx::query(&count_sql), &org, filter)
            .fetch_one(&mut *c)
            .await?,
        "n",
    )?;
    let mut items = Vec::new();
    if limit > 0 && (offset as i64) < total {
        let list_sql = sql_for(
            b,
            &format!(
                "SELECT * FROM {table} WHERE {cond} ORDER BY {order} LIMIT {limit} OFFSET {offset}"
            ),
        );
        for r in bind_all(sqlx::query(&list_sql), &org, filter)
            .fetch_all(&mut *c)
            .await?
        {
            items.push(row(&r)?);
        }
    }
    Ok(Page {
        items,
        total: total.max(0) as u64,
    })
}

/// People (not service accounts) of `org` matching `filter`, in `order`.
pub async fn find_users(
    c: &mut AnyConnection,
    b: Backend,
    org: OrgId,
    filter: Option<&SqlFilter>,
    order: &str,
    offset: u64,
    limit: u64,
) -> Result<Page<User>> {
    page(
        c,
        b,
        "users u",
        "u.org_id = $1 AND u.kind = 'person'",
        org,
        filter,
        order,
        offset,
        limit,
        super::directory::user_row,
    )
    .await
}

/// Groups of `org` matching `filter`, in `order`.
pub async fn find_groups(
    c: &mut AnyConnection,
    b: Backend,
    org: OrgId,
    filter: Option<&SqlFilter>,
    order: &str,
    offset: u64,
    limit: u64,
) -> Result<Page<Group>> {
    page(
        c,
        b,
        "user_groups g",
        "g.org_id = $1",
        org,
        filter,
        order,
        offset,
        limit,
        super::directory::group_row,
    )
    .await
}

fn placeholders(from: usize, n: usize) -> String {
    (from..from + n)
        .map(|i| format!("${i}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The groups each of `users` belongs to: (group, name), by name.
pub async fn groups_of(
    c: &mut AnyConnection,
    b: Backend,
    users: &[UserId],
) -> Result<FxHashMap<UserId, Vec<(GroupId, String)>>> {
    let mut out: FxHashMap<UserId, Vec<(GroupId, String)>> = FxHashMap::default();
    for chunk in users.chunks(500) {
        let sql = sql_for(
            b,
            &format!(
                "SELECT gm.user_id, g.id, g.name FROM group_members gm JOIN user_groups g ON g.id = gm.group_id \
                 WHERE gm.user_id IN ({}) ORDER BY g.name_key, g.id",
                placeholders(1, chunk.len())
            ),
        );
        let mut q = sqlx::query(&sql);
        for u in chunk {
            q = q.bind(u.to_string());
        }
        for r in q.fetch_all(&mut *c).await? {
            out.entry(UserId(get_uuid(&r, "user_id")?))
                .or_default()
                .push((GroupId(get_uuid(&r, "id")?), get_str(&r, "name")?));
        }
    }
    Ok(out)
}

/// The members of each of `groups`: (user, userName), in the order they joined.
pub async fn members_of(
    c: &mut AnyConnection,
    b: Backend,
    groups: &[GroupId],
) -> Result<FxHashMap<GroupId, Vec<(UserId, String)>>> {
    let mut out: FxHashMap<GroupId, Vec<(UserId, String)>> = FxHashMap::default();
    for chunk in groups.chunks(500) {
        let sql = sql_for(
            b,
            &format!(
                "SELECT gm.group_id, u.id, u.username FROM group_members gm JOIN users u ON u.id = gm.user_id \
                 WHERE gm.group_id IN ({}) ORDER BY gm.created_at, u.id",
                placeholders(1, chunk.len())
            ),
        );
        let mut q = sqlx::query(&sql);
        for g in chunk {
            q = q.bind(g.to_string());
        }
        for r in q.fetch_all(&mut *c).await? {
            out.entry(GroupId(get_uuid(&r, "group_id")?))
                .or_default()
                .push((UserId(get_uuid(&r, "id")?), get_str(&r, "username")?));
        }
    }
    Ok(out)
}
