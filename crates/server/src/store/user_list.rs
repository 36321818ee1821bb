//! The user list query: filters, the sort orders and both ways of paging (offset, and keyset
//! after or before a position) as runtime SQL that SQLite and PostgreSQL both run. Where a
//! position comes from (the opaque cursor) is the directory's business, not the store's.
//!
//! How a page stays cheap at 100,000 users: a filter that names a set of people (a group, a
//! role, a profile, an application, an admin right, a name prefix) can list those people's ids
//! straight from an index. When one such set is small, the query starts from it and sorts only
//! those rows; otherwise it walks the sort order's index and tests each row with a correlated
//! `EXISTS`, which finds a page of a large set after a few rows. The total can be capped, so a
//! page never counts 100,000 rows to say "10,000 or more".

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
    /// Case-insensitive text of username, email, first or last name; `q_match` says how.
    pub q: Option<String>,
    /// How `q` matches: a substring anywhere (the API's meaning; a scan of every row) or the
    /// start of a field (the console's; read from the indexes of the lower-cased fields).
    pub q_match: TextMatch,
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

/// How the search text of a user list matches.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub enum TextMatch {
    /// Anywhere in the field: every row is read.
    #[default]
    Substring,
    /// At the start of the username, the e-mail, the first or the last name: an index range.
    Prefix,
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
    /// The users just before this one in the order (a "Previous" link): read backwards from
    /// it, returned in the list's order.
    Before { key: SortKey, id: UserId },
}

/// One page: the users, how many match in all, and the positions of the pages around it.
#[derive(Debug)]
pub struct UserListPage {
    pub items: Vec<User>,
    /// How many users match; when `total_capped`, at least this many (the cap was reached).
    pub total: i64,
    pub total_capped: bool,
    /// The sort key and id of the last user, when more users follow.
    pub next: Option<(SortKey, UserId)>,
    /// The sort key and id of the first user, when users come before this page.
    pub prev: Option<(SortKey, UserId)>,
}

/// A set small enough to start the query from: its rows are sorted in memory, a few
/// milliseconds at most, where walking the order's index could read every user to find them.
const DRIVE_AT_MOST: i64 = 2_000;

enum Arg {
    Text(String),
    Int(i64),
}

/// SQL text with its bound values, numbered as they are written, so pieces compose in any
/// order without counting placeholders by hand.
#[derive(Default)]
struct Sql {
    text: String,
    args: Vec<Arg>,
}

impl Sql {
    fn s(&mut self, text: &str) -> &mut Self {
        self.text.push_str(text);
        self
    }

    fn text(&mut self, v: &str) -> &mut Self {
        self.args.push(Arg::Text(v.to_string()));
        self.text.push_str(&format!("${}", self.args.len()));
        self
    }

    fn int(&mut self, v: i64) -> &mut Self {
        self.args.push(Arg::Int(v));
        self.text.push_str(&format!("${}", self.args.len()));
        self
    }

    fn key(&mut self, k: &SortKey) -> &mut Self {
        match k {
            SortKey::Text(s) => self.text(s),
            SortKey::Int(i) => self.int(*i),
        }
    }

    fn query(&self, b: Backend) -> (String, &[Arg]) {
        (sql_for(b, &self.text), &self.args)
    }
}

async fn fetch_all(c: &mut AnyConnection, b: Backend, sql: &Sql) -> Result<Vec<sqlx::any::AnyRow>> {
    let (text, args) = sql.query(b);
    let mut q = sqlx::query(&text);
    for a in args {
        q = match a {
            Arg::Text(s) => q.bind(s.clone()),
            Arg::Int(i) => q.bind(*i),
        };
    }
    Ok(q.fetch_all(c).await?)
}

async fn fetch_count(c: &mut AnyConnection, b: Backend, sql: &Sql) -> Result<i64> {
    let rows = fetch_all(c, b, sql).await?;
    match rows.first() {
        Some(r) => get_i64(r, "n"),
        None => Ok(0),
    }
}

/// A filter that names a set of people, in the two shapes the query can use it.
enum Narrowing {
    Group(GroupId),
    Role(RoleId),
    Application(String),
    Profile(ProfileId),
    Admin(AdminRightFilter),
    /// Lower-cased start of a name field.
    Prefix(String),
    /// Lower-cased text anywhere in a name field; can only be tested row by row.
    Substring(String),
}

/// The first string after every string that starts with `p` in code-point order (SQLite's
/// binary collation of UTF-8); `None` when there is none (all of `p` is the last code point).
fn prefix_end(p: &str) -> Option<String> {
    let mut chars: Vec<char> = p.chars().collect();
    while let Some(last) = chars.pop() {
        let mut n = last as u32 + 1;
        if (0xD800..0xE000).contains(&n) {
            n = 0xE000;
        }
        if let Some(c) = char::from_u32(n) {
            chars.push(c);
            return Some(chars.into_iter().collect());
        }
    }
    None
}

fn like_escaped(s: &str) -> String {
    s.replace('\\', "\\\\")
        .replace('%', "\\%")
        .replace('_', "\\_")
}

/// The lower-cased name columns a search reads.
const NAME_KEYS: [&str; 4] = [
    "username_key",
    "email_key",
    "first_name_key",
    "last_name_key",
];

/// `alias.col` starts with `p`: a range of the column's index on SQLite (exact under its
/// binary collation); `LIKE 'p%'` on PostgreSQL, whose collation may not order by code point.
fn push_prefix(sql: &mut Sql, b: Backend, col: &str, p: &str) {
    match b {
        Backend::Sqlite => {
            sql.s(&format!("({col} >= ")).text(p);
            if let Some(end) = prefix_end(p) {
                sql.s(&format!(" AND {col} < ")).text(&end);
            }
            sql.s(")");
        }
        Backend::Postgres => {
            sql.s(&format!("{col} LIKE "))
                .text(&format!("{}%", like_escaped(p)))
                .s(" ESCAPE '\\'");
        }
    }
}

impl Narrowing {
    /// A condition on the row `u`: correlated `EXISTS` lookups by the user id, so a scan of
    /// the sort order tests each row through an index instead of building the whole set.
    fn push_test(&self, sql: &mut Sql, b: Backend, org: &str) {
        match self {
            Narrowing::Group(g) => {
                sql.s("EXISTS (SELECT 1 FROM group_members gm WHERE gm.group_id = ")
                    .text(&g.to_string())
                    .s(" AND gm.user_id = u.id)");
            }
            Narrowing::Role(r) => {
                let r = r.to_string();
                sql.s("(EXISTS (SELECT 1 FROM user_roles ur WHERE ur.user_id = u.id AND ur.role_id = ")
                    .text(&r)
                    .s(") OR EXISTS (SELECT 1 FROM group_members gm JOIN group_roles gr ON gr.group_id = gm.group_id WHERE gm.user_id = u.id AND gr.role_id = ")
                    .text(&r)
                    .s("))");
            }
            Narrowing::Application(app) => {
                sql.s("(EXISTS (SELECT 1 FROM user_roles ur JOIN roles r ON r.id = ur.role_id WHERE ur.user_id = u.id AND r.org_id = ")
                    .text(org).s(" AND r.application = ").text(app)
                    .s(") OR EXISTS (SELECT 1 FROM group_members gm JOIN group_roles gr ON gr.group_id = gm.group_id JOIN roles r ON r.id = gr.role_id WHERE gm.user_id = u.id AND r.org_id = ")
                    .text(org).s(" AND r.application = ").text(app)
                    .s(") OR EXISTS (SELECT 1 FROM profile_users pu JOIN profiles p ON p.id = pu.profile_id WHERE pu.user_id = u.id AND p.org_id = ")
                    .text(org).s(" AND p.application = ").text(app)
                    .s(") OR EXISTS (SELECT 1 FROM group_members gm JOIN profile_groups pg ON pg.group_id = gm.group_id JOIN profiles p ON p.id = pg.profile_id WHERE gm.user_id = u.id AND p.org_id = ")
                    .text(org).s(" AND p.application = ").text(app)
                    .s("))");
            }
            Narrowing::Profile(p) => {
                let p = p.0.to_string();
                sql.s("(EXISTS (SELECT 1 FROM profile_users pu WHERE pu.user_id = u.id AND pu.profile_id = ")
                    .text(&p)
                    .s(") OR EXISTS (SELECT 1 FROM group_members gm JOIN profile_groups pg ON pg.group_id = gm.group_id WHERE gm.user_id = u.id AND pg.profile_id = ")
                    .text(&p)
                    .s("))");
            }
            Narrowing::Admin(kind) => {
                sql.s("EXISTS (SELECT 1 FROM admin_rights ar WHERE ar.org_id = ")
                    .text(org)
                    .s(" AND ar.user_id = u.id");
                if let AdminRightFilter::Kind(k) = kind {
                    sql.s(" AND ar.kind = ").text(k.as_str());
                }
                sql.s(")");
            }
            Narrowing::Prefix(p) => {
                sql.s("(");
                for (i, col) in NAME_KEYS.iter().enumerate() {
                    if i > 0 {
                        sql.s(" OR ");
                    }
                    push_prefix(sql, b, &format!("u.{col}"), p);
                }
                sql.s(")");
            }
            Narrowing::Substring(q) => {
                sql.s("(");
                let pattern = format!("%{}%", like_escaped(q));
                let cols = [
                    "u.username_key",
                    "u.email_key",
                    "LOWER(u.first_name)",
                    "LOWER(u.last_name)",
                ];
                for (i, col) in cols.iter().enumerate() {
                    if i > 0 {
                        sql.s(" OR ");
                    }
                    sql.s(&format!("{col} LIKE "))
                        .text(&pattern)
                        .s(" ESCAPE '\\'");
                }
                sql.s(")");
            }
        }
    }

    /// A `SELECT user_id …` of the matching people read from indexes (repeats possible), or
    /// `false` when the filter can only be tested row by row.
    fn push_ids(&self, sql: &mut Sql, b: Backend, org: &str) -> bool {
        match self {
            Narrowing::Group(g) => {
                sql.s("SELECT user_id FROM group_members WHERE group_id = ")
                    .text(&g.to_string());
            }
            Narrowing::Role(r) => {
                let r = r.to_string();
                sql.s("SELECT user_id FROM user_roles WHERE role_id = ")
                    .text(&r)
                    .s(" UNION ALL SELECT gm.user_id FROM group_roles gr JOIN group_members gm ON gm.group_id = gr.group_id WHERE gr.role_id = ")
                    .text(&r);
            }
            Narrowing::Application(app) => {
                sql.s("SELECT ur.user_id FROM roles r JOIN user_roles ur ON ur.role_id = r.id WHERE r.org_id = ")
                    .text(org).s(" AND r.application = ").text(app)
                    .s(" UNION ALL SELECT gm.user_id FROM roles r JOIN group_roles gr ON gr.role_id = r.id JOIN group_members gm ON gm.group_id = gr.group_id WHERE r.org_id = ")
                    .text(org).s(" AND r.application = ").text(app)
                    .s(" UNION ALL SELECT pu.user_id FROM profiles p JOIN profile_users pu ON pu.profile_id = p.id WHERE p.org_id = ")
                    .text(org).s(" AND p.application = ").text(app)
                    .s(" UNION ALL SELECT gm.user_id FROM profiles p JOIN profile_groups pg ON pg.profile_id = p.id JOIN group_members gm ON gm.group_id = pg.group_id WHERE p.org_id = ")
                    .text(org).s(" AND p.application = ").text(app);
            }
            Narrowing::Profile(p) => {
                let p = p.0.to_string();
                sql.s("SELECT user_id FROM profile_users WHERE profile_id = ")
                    .text(&p)
                    .s(" UNION ALL SELECT gm.user_id FROM profile_groups pg JOIN group_members gm ON gm.group_id = pg.group_id WHERE pg.profile_id = ")
                    .text(&p);
            }
            Narrowing::Admin(kind) => {
                sql.s("SELECT user_id FROM admin_rights WHERE org_id = ")
                    .text(org);
                if let AdminRightFilter::Kind(k) = kind {
                    sql.s(" AND kind = ").text(k.as_str());
                }
            }
            Narrowing::Prefix(p) => {
                for (i, col) in NAME_KEYS.iter().enumerate() {
                    if i > 0 {
                        sql.s(" UNION ALL ");
                    }
                    sql.s("SELECT id AS user_id FROM users WHERE org_id = ")
                        .text(org)
                        .s(" AND ");
                    push_prefix(sql, b, col, p);
                }
            }
            Narrowing::Substring(_) => return false,
        }
        true
    }
}

/// The filter's conditions that need no other table, on the row `u`.
fn push_row_conditions(sql: &mut Sql, org: &str, f: &UserFilter) {
    sql.s("u.org_id = ").text(org);
    if let Some(k) = f.kind {
        sql.s(" AND u.kind = ").text(k.as_str());
    }
    if let Some(s) = f.status {
        sql.s(" AND u.status = ").text(s.as_str());
    }
    if let Some(t) = f.last_sign_in_before {
        sql.s(" AND u.last_sign_in_at < ").int(t);
    }
    if let Some(t) = f.last_sign_in_after {
        sql.s(" AND u.last_sign_in_at > ").int(t);
    }
}

fn narrowings(f: &UserFilter) -> Vec<Narrowing> {
    let mut out = Vec::new();
    if let Some(g) = f.group {
        out.push(Narrowing::Group(g));
    }
    if let Some(r) = f.role {
        out.push(Narrowing::Role(r));
    }
    if let Some(p) = f.profile {
        out.push(Narrowing::Profile(p));
    }
    if let Some(a) = &f.application {
        out.push(Narrowing::Application(a.clone()));
    }
    if let Some(a) = f.admin_right {
        out.push(Narrowing::Admin(a));
    }
    if let Some(q) = &f.q {
        out.push(match f.q_match {
            TextMatch::Prefix => Narrowing::Prefix(rolecall_scim::fold_case(q)),
            TextMatch::Substring => Narrowing::Substring(q.to_lowercase()),
        });
    }
    out
}

/// `FROM …` and `WHERE …` of the list: from the small set `driver` when there is one, from
/// `users` otherwise; every narrowing but the driver tested on each row.
fn push_from_where(
    sql: &mut Sql,
    b: Backend,
    org: &str,
    f: &UserFilter,
    narrowings: &[Narrowing],
    driver: Option<usize>,
) {
    match driver {
        Some(d) => {
            sql.s(" FROM (SELECT DISTINCT ids.user_id FROM (");
            narrowings[d].push_ids(sql, b, org);
            // SQLite's CROSS JOIN keeps the written order: the small set first, each of its
            // users then found by primary key. PostgreSQL plans the join by its statistics.
            let join = match b {
                Backend::Sqlite => "CROSS JOIN",
                Backend::Postgres => "JOIN",
            };
            sql.s(&format!(") ids) c {join} users u ON u.id = c.user_id"));
        }
        None => {
            sql.s(" FROM users u");
        }
    }
    sql.s(" WHERE ");
    push_row_conditions(sql, org, f);
    for (i, n) in narrowings.iter().enumerate() {
        if Some(i) != driver {
            sql.s(" AND ");
            n.push_test(sql, b, org);
        }
    }
}

/// The narrowing to start from: the first whose set has at most `DRIVE_AT_MOST` entries.
async fn choose_driver(
    c: &mut AnyConnection,
    b: Backend,
    org: &str,
    narrowings: &[Narrowing],
) -> Result<Option<usize>> {
    for (i, n) in narrowings.iter().enumerate() {
        let mut sql = Sql::default();
        sql.s("SELECT COUNT(*) AS n FROM (SELECT ids.user_id FROM (");
        if !n.push_ids(&mut sql, b, org) {
            continue;
        }
        sql.s(&format!(") ids LIMIT {}) x", DRIVE_AT_MOST + 1));
        if fetch_count(c, b, &sql).await? <= DRIVE_AT_MOST {
            return Ok(Some(i));
        }
    }
    Ok(None)
}

fn sort_key_of(row: &sqlx::any::AnyRow, sort: UserSort) -> Result<SortKey> {
    Ok(if sort.is_text() {
        SortKey::Text(get_str(row, "sort_key")?)
    } else {
        SortKey::Int(get_i64(row, "sort_key")?)
    })
}

/// Lists one organisation's users matching `f`, `limit` at most, ordered by `sort` then id.
/// With `count_cap`, the total stops at the cap (and says so) instead of counting every match.
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
    count_cap: Option<i64>,
) -> Result<UserListPage> {
    let org = org.to_string();
    let narrowings = narrowings(f);
    let driver = choose_driver(c, b, &org, &narrowings).await?;

    // The total: exact from a small starting set, else counted up to the cap when there is one.
    let mut count = Sql::default();
    let cap = count_cap.filter(|_| driver.is_none());
    match cap {
        Some(cap) => {
            count.s("SELECT COUNT(*) AS n FROM (SELECT 1 AS one");
            push_from_where(&mut count, b, &org, f, &narrowings, driver);
            count.s(&format!(" LIMIT {}) x", cap + 1));
        }
        None => {
            count.s("SELECT COUNT(*) AS n");
            push_from_where(&mut count, b, &org, f, &narrowings, driver);
        }
    }
    let counted = fetch_count(c, b, &count).await?;
    let (total, total_capped) = match cap {
        Some(cap) if counted > cap => (cap, true),
        _ => (counted, false),
    };

    let key = sort.expr();
    // Reading backwards from a position flips both the comparison and the order.
    let backwards = matches!(position, Position::Before { .. });
    let ascending = (order == SortOrder::Asc) != backwards;
    let (cmp, dir) = if ascending {
        (">", "ASC")
    } else {
        ("<", "DESC")
    };
    let mut list = Sql::default();
    list.s(&format!("SELECT u.*, {key} AS sort_key"));
    push_from_where(&mut list, b, &org, f, &narrowings, driver);
    let offset = match position {
        Position::Offset(n) => (*n).max(0),
        Position::After { key: k, id } | Position::Before { key: k, id } => {
            // The leading `{key} {cmp}= k` is implied by what follows; it is there so both
            // databases read the sort index from the position instead of from its start.
            list.s(&format!(" AND {key} {cmp}= "))
                .key(k)
                .s(&format!(" AND ({key} {cmp} "))
                .key(k)
                .s(&format!(" OR ({key} = "))
                .key(k)
                .s(&format!(" AND u.id {cmp} "))
                .text(&id.to_string())
                .s("))");
            0
        }
    };
    // One more than asked for: whether it comes back says if a page lies beyond.
    list.s(&format!(
        " ORDER BY {key} {dir}, u.id {dir} LIMIT {} OFFSET {offset}",
        limit.saturating_add(1)
    ));
    let mut rows = fetch_all(c, b, &list).await?;
    let beyond = rows.len() as i64 > limit;
    rows.truncate(limit.max(0) as usize);
    if backwards {
        rows.reverse();
    }
    let items = rows.iter().map(user_from_row).collect::<Result<Vec<_>>>()?;
    let edge = |row: Option<&sqlx::any::AnyRow>,
                user: Option<&User>|
     -> Result<Option<(SortKey, UserId)>> {
        match (row, user) {
            (Some(r), Some(u)) => Ok(Some((sort_key_of(r, sort)?, u.id))),
            _ => Ok(None),
        }
    };
    // Forwards, users lie before the page when it did not start at the beginning; backwards,
    // after it (the page the reader came from) whenever it is not empty.
    let (more_before, more_after) = match position {
        Position::Offset(n) => (*n > 0, beyond),
        Position::After { .. } => (true, beyond),
        Position::Before { .. } => (beyond, true),
    };
    let next = if more_after {
        edge(rows.last(), items.last())?
    } else {
        None
    };
    let prev = if more_before {
        edge(rows.first(), items.first())?
    } else {
        None
    };
    Ok(UserListPage {
        items,
        total,
        total_capped,
        next,
        prev,
    })
}
