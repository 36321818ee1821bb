//! Where SCIM attributes live in rolecall's tables: the `ColumnMap`s the filter translator
//! (`rolecall_scim::sql`) and sorting use. This is data handed to the store, which runs the
//! queries; it is the one place outside `store` that names columns, kept beside the JSON
//! rendering (`users.rs`, `groups.rs`) it must agree with.
//!
//! The contract (`crates/scim/README.md`): an absent attribute is NULL; every case-insensitive
//! text attribute compares on its `*_key` column holding `fold_case(value)`; PostgreSQL orders
//! strings by code point only under `COLLATE "C"`, which is added to every text expression
//! there; SQLite's default collation already does.

use crate::store::Backend;
use rolecall_scim::schema::{AttrRef, ResourceType};
use rolecall_scim::sql::{ChildTable, Column, Storage};
use rolecall_scim::ColumnMap;

/// Text collated by code point on PostgreSQL.
fn c(b: Backend, expr: &str) -> String {
    match b {
        Backend::Postgres => format!("{expr} COLLATE \"C\""),
        Backend::Sqlite => expr.to_string(),
    }
}

/// A case-exact text column.
fn exact(b: Backend, expr: &str) -> Column {
    Column::text(&c(b, expr))
}

/// A case-insensitive text column with its folded key.
fn folded(b: Backend, expr: &str, key: &str) -> Column {
    Column::text(&c(b, expr)).folded_in(&c(b, key))
}

fn bool_int(expr: &str) -> Column {
    Column::new(expr, Storage::BoolInt)
}

fn millis(expr: &str) -> Column {
    Column::new(expr, Storage::UnixMillis)
}

/// The SCIM User resource over `users u`.
pub struct UserColumns {
    rt: &'static ResourceType,
    b: Backend,
}

impl UserColumns {
    pub fn new(b: Backend) -> Self {
        UserColumns {
            rt: super::user_type(),
            b,
        }
    }
}

impl ColumnMap for UserColumns {
    fn resource_type(&self) -> &ResourceType {
        self.rt
    }

    fn column(&self, attr: &AttrRef<'_>) -> Option<Column> {
        let b = self.b;
        let key = |col: &str| folded(b, &format!("u.{col}"), &format!("u.{col}_key"));
        let name = attr.attr.name.as_str();
        Some(match (attr.core, name, attr.sub.map(|s| s.name.as_str())) {
            (true, "id", None) => exact(b, "u.id"),
            (true, "externalId", None) => exact(b, "u.external_id"),
            (true, "userName", None) => key("username"),
            (true, "name", Some("givenName")) => {
                folded(b, "NULLIF(u.first_name, '')", "u.first_name_key")
            }
            (true, "name", Some("familyName")) => {
                folded(b, "NULLIF(u.last_name, '')", "u.last_name_key")
            }
            (true, "name", Some("formatted")) => key("name_formatted"),
            (true, "name", Some("middleName")) => key("middle_name"),
            (true, "name", Some("honorificPrefix")) => key("honorific_prefix"),
            (true, "name", Some("honorificSuffix")) => key("honorific_suffix"),
            (true, "displayName", None) => key("display_name"),
            (true, "nickName", None) => key("nick_name"),
            (true, "title", None) => key("title"),
            (true, "userType", None) => key("user_type"),
            (true, "preferredLanguage", None) => key("preferred_language"),
            (true, "timezone", None) => key("timezone"),
            (true, "locale", None) => folded(b, "REPLACE(u.locale, '_', '-')", "u.locale_key"),
            (true, "active", None) => {
                bool_int("(CASE WHEN u.status = 'inactive' THEN 0 ELSE 1 END)")
            }
            (true, "meta", Some("created")) => millis("u.created_at"),
            (true, "meta", Some("lastModified")) => millis("u.updated_at"),
            (true, "meta", Some("resourceType")) => exact(b, "'User'"),
            (false, "employeeNumber", None) => key("employee_number"),
            (false, "costCenter", None) => key("cost_center"),
            (false, "organization", None) => key("organization"),
            (false, "division", None) => key("division"),
            (false, "department", None) => key("department"),
            (false, "manager", Some("value")) => exact(b, "u.manager_id"),
            _ => return None,
        })
    }

    fn child_table(&self, attr: &AttrRef<'_>) -> Option<ChildTable> {
        let b = self.b;
        let k = |col: &str| folded(b, col, &format!("{col}_key"));
        let (table, columns) = match attr.attr.name.as_str() {
            "emails" => (
                "user_emails".to_string(),
                vec![
                    ("value", k("value")),
                    ("type", k("type")),
                    ("display", k("display")),
                    ("primary", bool_int("is_primary")),
                ],
            ),
            "phoneNumbers" => (
                "user_phones".to_string(),
                vec![
                    ("value", k("value")),
                    ("type", k("type")),
                    ("primary", bool_int("is_primary")),
                ],
            ),
            "addresses" => (
                "user_addresses".to_string(),
                vec![
                    ("formatted", k("formatted")),
                    ("streetAddress", k("street_address")),
                    ("locality", k("locality")),
                    ("region", k("region")),
                    ("postalCode", k("postal_code")),
                    ("country", k("country")),
                    ("type", k("type")),
                    ("primary", bool_int("is_primary")),
                ],
            ),
            "groups" => (
                "(SELECT gm.user_id AS user_id, gm.group_id AS value, g.name AS display, \
                 g.name_key AS display_key, 'direct' AS type, 'direct' AS type_key \
                 FROM group_members gm JOIN user_groups g ON g.id = gm.group_id)"
                    .to_string(),
                vec![
                    ("value", exact(b, "value")),
                    ("display", k("display")),
                    ("type", k("type")),
                ],
            ),
            _ => return None,
        };
        Some(ChildTable {
            table,
            foreign_key: "user_id".into(),
            parent_key: "u.id".into(),
            columns: columns
                .into_iter()
                .map(|(n, col)| (n.to_string(), col))
                .collect(),
        })
    }
}

/// The SCIM Group resource over `user_groups g`.
pub struct GroupColumns {
    rt: &'static ResourceType,
    b: Backend,
}

impl GroupColumns {
    pub fn new(b: Backend) -> Self {
        GroupColumns {
            rt: super::group_type(),
            b,
        }
    }
}

impl ColumnMap for GroupColumns {
    fn resource_type(&self) -> &ResourceType {
        self.rt
    }

    fn column(&self, attr: &AttrRef<'_>) -> Option<Column> {
        let b = self.b;
        Some(
            match (attr.attr.name.as_str(), attr.sub.map(|s| s.name.as_str())) {
                ("id", None) => exact(b, "g.id"),
                ("externalId", None) => exact(b, "g.external_id"),
                ("displayName", None) => folded(b, "g.name", "g.name_key"),
                ("meta", Some("created")) => millis("g.created_at"),
                ("meta", Some("lastModified")) => millis("g.updated_at"),
                ("meta", Some("resourceType")) => exact(b, "'Group'"),
                _ => return None,
            },
        )
    }

    fn child_table(&self, attr: &AttrRef<'_>) -> Option<ChildTable> {
        let b = self.b;
        if attr.attr.name != "members" {
            return None;
        }
        Some(ChildTable {
            table: "(SELECT gm.group_id AS group_id, gm.user_id AS value, 'User' AS type, \
                    'user' AS type_key, u.username AS display, u.username_key AS display_key \
                    FROM group_members gm JOIN users u ON u.id = gm.user_id)"
                .into(),
            foreign_key: "group_id".into(),
            parent_key: "g.id".into(),
            columns: vec![
                ("value".into(), exact(b, "value")),
                ("type".into(), folded(b, "type", "type_key")),
                ("display".into(), folded(b, "display", "display_key")),
            ],
        })
    }
}

/// The expression to sort by for `sortBy` (RFC 7644 §3.4.2.3): a single-valued attribute's
/// folded key (case-insensitive text sorts ignoring case), or for a multi-valued one its
/// primary value (the sign-in address for `emails`). `None`: the attribute cannot be sorted by.
pub fn sort_expression(map: &dyn ColumnMap, attr: &AttrRef<'_>) -> Option<String> {
    if attr.attr.multi_valued {
        return match (attr.attr.name.as_str(), attr.sub) {
            ("emails", None) => Some("u.email_key".into()),
            _ => None,
        };
    }
    let col = map.column(attr)?;
    let case_exact = attr.leaf().case_exact;
    Some(match col.fold {
        rolecall_scim::sql::CaseFold::Key(k) if !case_exact => k,
        _ => col.expr,
    })
}
