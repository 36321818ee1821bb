//! The user list query: filters, the sort orders and both ways of paging (offset, and keyset
//! after a position) as one runtime SQL statement that SQLite and PostgreSQL both run. Where a
//! position comes from (the opaque cursor) is the directory's business, not the store's.

use super::directory::user_from_row;
use super::{get_i64, get_str, sql_for, Backend};
use crate::error::Result;
use rolecall_core::admin::RightKind;
use rolecall_core::authz::ProfileId;
use rolecall_core::model::{GroupId, Millis, OrgId, RoleId, User, UserId, UserKind, UserStatus};
use sqlx::AnyConnection;

/// Filters for listing users; every field narrows the result.
#[derive(Debug, Default, Clone)]
pub struct UserFilter {
    pub status: Option<UserStatus>,
    /// Case-insensitive substring of username, email, first or last name.
    pub q: Option<String>,
    pub group: Option<GroupId>,
    /// Holds the role directly or through a group.
    pub role: Option<RoleId>,
    /// People or service accounts; both when `None`.
    pub kind: Option<UserKind>,
    /// Assigned to the application: one of its roles or a seat in one of its profiles,
    /// directly or through a group.
    pub application: Option<String>,
    /// Holds a seat in the profile, directly or through a group.
    pub profile: Option<ProfileId>,
    /// Holds an organisation administration right (of this kind, or of any kind when `Any`).
    pub admin_right: Option<AdminRightFilter>,
    /// Last signed in strictly before this instant (users who never signed in do not match).
    pub last_sign_in_before: Option<Millis>,
    /// Last signed in strictly after this instant.
    pub last_sign_in_after: Option<Millis>,
}

/// Which administrators a list asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AdminRightFilter {
    Any,
    Kind(RightKind),
}

/// What a user list is ordered by. Ties (equal e-mails cannot happen, equal instants can) are
/// broken by the user id, so the order is total and a keyset position is unambiguous.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum UserSort {
    #[default]
    Username,
    Email,
    LastSignInAt,
    CreatedAt,
}

impl UserSort {
    pub const ALL: [UserSort; 4] = [
        UserSort::Username,
        UserSort::Email,
        UserSort::LastSignInAt,
        UserSort::CreatedAt,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            UserSort::Username => "username",
            UserSort::Email => "email",
            UserSort::LastSignInAt => "last_sign_in_at",
            UserSort::CreatedAt => "created_at",
        }
    }

    pub fn parse(s: &str) -> Option<UserSort> {
        UserSort::ALL.into_iter().find(|k| k.as_str() == s)
    }

    /// The SQL expression sorted on. Case-insensitive for names (the stored keys); "never
    /// signed in" is -1 so it sorts as the oldest on both databases (their NULL orders differ).
    fn expr(self) -> &'static str {
        match self {
            UserSort::Username => "u.username_key",
            UserSort::Email => "u.email_key",
            UserSort::LastSignInAt => "COALESCE(u.last_sign_in_at, -1)",
            UserSort::CreatedAt => "u.created_at",
        }
    }

    fn is_text(self) -> bool {
        matches!(self, UserSort::Username | UserSort::Email)
    }
}

/// Ascending or descending.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum SortOrder {
    #[default]
    Asc,
    Desc,
}

impl SortOrder {
    pub fn as_str(self) -> &'static str {
        match self {
            SortOrder::Asc => "asc",
            SortOrder::Desc => "desc",
        }
    }

    pub fn parse(s: &str) -> Option<SortOrder> {
        match s {
            "asc" => Some(SortOrder::Asc),
            "desc" => Some(SortOrder::Desc),
            _ => None,
        }
    }
}

/// The value of the sort expression for one user.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(untagged)]
pub enum SortKey {
    Text(String),
    Int(i64),
}

/// Where a page starts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Position {
    /// Skip this many users (page numbers).
    Offset(i64),
    /// The users after this one in the order. Unlike an offset, it does not shift when users
    /// are added or removed before it.
    After { key: SortKey, id: UserId },
}

/// One page: the users, how many match in all, and the sort key of the last user when more
/// follow (the position of the next page).
#[derive(Debug)]
pub struct UserListPage {
    pub items: Vec<User>,
    pub total: i64,
    pub next: Option<(SortKey, UserId)>,
}

enum Arg {
    Text(String),
    Int(i64),
}

/// Adds a bound value; its placeholder number.
fn push(args: &mut Vec<Arg>, a: Arg) -> usize {
    args.push(a);
    args.len()
}

/// Lists one organisation's users matching `f`, `limit` at most, ordered by `sort` then id.
#[allow(clippy::too_many_arguments)] // the parts of one query, named rather than bundled
pub async fn list_users(
    c: &mut AnyConnection,
    b: Backend,
    org: OrgId,
    f: &UserFilter,
    sort: UserSort,
    order: SortOrder,
    position: &Position,
    limit: i64,
) -> Result<UserListPage> {
    let mut wh = vec!["u.org_id = $1".to_string()];
    let mut args: Vec<Arg> = vec![Arg::Text(org.to_string())];
    if let Some(k) = f.kind {
        let n = push(&mut args, Arg::Text(k.as_str().into()));
        wh.push(format!("u.kind = ${n}"));
    }
    if let Some(s) = f.status {
        let n = push(&mut args, Arg::Text(s.as_str().into()));
        wh.push(format!("u.status = ${n}"));
    }
    if let Some(q) = &f.q {
        let escaped = q
            .to_lowercase()
            .replace('\\', "\\\\")
            .replace('%', "\\%")
            .replace('_', "\\_");
        let n = push(&mut args, Arg::Text(format!("%{escaped}%")));
        wh.push(format!(
            "(u.username_key LIKE ${n} ESCAPE '\\' OR u.email_key LIKE ${n} ESCAPE '\\' OR LOWER(u.first_name) LIKE ${n} ESCAPE '\\' OR LOWER(u.last_name) LIKE ${n} ESCAPE '\\')"
        ));
    }
    if let Some(g) = f.group {
        let n = push(&mut args, Arg::Text(g.to_string()));
        wh.push(format!(
            "u.id IN (SELECT user_id FROM group_members WHERE group_id = ${n})"
        ));
    }
    if let Some(r) = f.role {
        let n = push(&mut args, Arg::Text(r.to_string()));
        wh.push(format!(
            "(u.id IN (SELECT user_id FROM user_roles WHERE role_id = ${n}) OR u.id IN (SELECT gm.user_id FROM group_members gm JOIN group_roles gr ON gr.group_id = gm.group_id WHERE gr.role_id = ${n}))"
        ));
    }
    if let Some(app) = &f.application {
        let n = push(&mut args, Arg::Text(app.clone()));
        wh.push(format!(
            "(u.id IN (SELECT ur.user_id FROM user_roles ur JOIN roles r ON r.id = ur.role_id WHERE r.org_id = $1 AND r.application = ${n}) \
             OR u.id IN (SELECT gm.user_id FROM group_members gm JOIN group_roles gr ON gr.group_id = gm.group_id JOIN roles r ON r.id = gr.role_id WHERE r.org_id = $1 AND r.application = ${n}) \
             OR u.id IN (SELECT pu.user_id FROM profile_users pu JOIN profiles p ON p.id = pu.profile_id WHERE p.org_id = $1 AND p.application = ${n}) \
             OR u.id IN (SELECT gm.user_id FROM group_members gm JOIN profile_groups pg ON pg.group_id = gm.group_id JOIN profiles p ON p.id = pg.profile_id WHERE p.org_id = $1 AND p.application = ${n}))"
        ));
    }
    if let Some(p) = f.profile {
        let n = push(&mut args, Arg::Text(p.0.to_string()));
        wh.push(format!(
            "(u.id IN (SELECT user_id FROM profile_users WHERE profile_id = ${n}) OR u.id IN (SELECT gm.user_id FROM group_members gm JOIN profile_groups pg ON pg.group_id = gm.group_id WHERE pg.profile_id = ${n}))"
        ));
    }
    match f.admin_right {
        None => {}
        Some(AdminRightFilter::Any) => {
            wh.push("u.id IN (SELECT user_id FROM admin_rights WHERE org_id = $1)".into())
        }
        Some(AdminRightFilter::Kind(k)) => {
            let kind = k.as_str();
            let n = push(&mut args, Arg::Text(kind.into()));
            wh.push(format!(
                "u.id IN (SELECT user_id FROM admin_rights WHERE org_id = $1 AND kind = ${n})"
            ));
        }
    }
    if let Some(t) = f.last_sign_in_before {
        let n = push(&mut args, Arg::Int(t));
        wh.push(format!("u.last_sign_in_at < ${n}"));
    }
    if let Some(t) = f.last_sign_in_after {
        let n = push(&mut args, Arg::Int(t));
        wh.push(format!("u.last_sign_in_at > ${n}"));
    }
    let filtered = wh.join(" AND ");
    let count_sql = sql_for(
        b,
        &format!("SELECT COUNT(*) AS n FROM users u WHERE {filtered}"),
    );
    let mut q = sqlx::query(&count_sql);
    for a in &args {
        q = match a {
            Arg::Text(s) => q.bind(s.clone()),
            Arg::Int(i) => q.bind(*i),
        };
    }
    let total = get_i64(&q.fetch_one(&mut *c).await?, "n")?;

    let key = sort.expr();
    let (cmp, dir) = match order {
        SortOrder::Asc => (">", "ASC"),
        SortOrder::Desc => ("<", "DESC"),
    };
    let offset = match position {
        Position::Offset(n) => *n,
        Position::After { key: after, id } => {
            let k = push(
                &mut args,
                match after {
                    SortKey::Text(s) => Arg::Text(s.clone()),
                    SortKey::Int(i) => Arg::Int(*i),
                },
            );
            let i = push(&mut args, Arg::Text(id.to_string()));
            wh.push(format!(
                "({key} {cmp} ${k} OR ({key} = ${k} AND u.id {cmp} ${i}))"
            ));
            0
        }
    };
    let where_sql = wh.join(" AND ");
    // One more than asked for: whether it comes back says if a next page exists.
    let list_sql = sql_for(
        b,
        &format!(
            "SELECT u.*, {key} AS sort_key FROM users u WHERE {where_sql} ORDER BY {key} {dir}, u.id {dir} LIMIT {} OFFSET {offset}",
            limit + 1
        ),
    );
    let mut q = sqlx::query(&list_sql);
    for a in &args {
        q = match a {
            Arg::Text(s) => q.bind(s.clone()),
            Arg::Int(i) => q.bind(*i),
        };
    }
    let mut rows = q.fetch_all(c).await?;
    let more = rows.len() as i64 > limit;
    rows.truncate(limit.max(0) as usize);
    let items = rows.iter().map(user_from_row).collect::<Result<Vec<_>>>()?;
    let next = match (more, rows.last(), items.last()) {
        (true, Some(row), Some(u)) => {
            let k = if sort.is_text() {
                SortKey::Text(get_str(row, "sort_key")?)
            } else {
                SortKey::Int(get_i64(row, "sort_key")?)
            };
            Some((k, u.id))
        }
        _ => None,
    };
    Ok(UserListPage { items, total, next })
}
