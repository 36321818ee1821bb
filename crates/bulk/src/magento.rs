//! Reading a Magento 2 admin export: CSV files of the `admin_user`, `authorization_role`,
//! `authorization_rule`, `store_website`, `store_group` and `store` tables (a `SELECT *` with
//! a header row, or a mysqldump converted to CSV), into typed rows ([`MagentoExport`]).
//! [`MagentoExport::plan`] then joins them into a migration plan (`magento_plan.rs`).
//!
//! NULL may be written `NULL`, `\N` (mysqldump) or as an empty cell; all three read as
//! absent, so a text value that is literally `NULL` cannot be told apart. Columns this crate
//! does not use (timestamps, `extra`, `rp_token`, extension columns) are skipped and listed.
//! A row that breaks a type rule is reported with its table and line, never patched up.

use crate::digest::FileDigest;
use crate::error::FileError;
use crate::reader::{Column, CsvReader, ExtraColumns, Record, Schema};
use serde::Serialize;
use std::io::Read;

/// The Magento tables this crate reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum MagentoTable {
    StoreWebsite,
    StoreGroup,
    Store,
    AuthorizationRole,
    AuthorizationRule,
    AdminUser,
}

impl MagentoTable {
    /// The table's name in the database.
    pub fn name(self) -> &'static str {
        self.schema().name
    }

    fn schema(self) -> &'static Schema {
        match self {
            MagentoTable::AdminUser => &ADMIN_USER,
            MagentoTable::AuthorizationRole => &AUTHORIZATION_ROLE,
            MagentoTable::AuthorizationRule => &AUTHORIZATION_RULE,
            MagentoTable::StoreWebsite => &STORE_WEBSITE,
            MagentoTable::StoreGroup => &STORE_GROUP,
            MagentoTable::Store => &STORE,
        }
    }
}

// Column lists follow Magento 2.4.8's db_schema.xml (shared/data/README.md); the ones a
// migration needs are required, the rest are known so they are not reported as ignored.
static ADMIN_USER: Schema = Schema {
    name: "admin_user",
    columns: &[
        Column::required("user_id"),
        Column::optional("firstname"),
        Column::optional("lastname"),
        Column::required("email"),
        Column::required("username"),
        Column::required("password"),
        Column::optional("created"),
        Column::optional("modified"),
        Column::optional("logdate"),
        Column::optional("lognum"),
        Column::optional("reload_acl_flag"),
        Column::required("is_active"),
        Column::optional("extra"),
        Column::optional("rp_token"),
        Column::optional("rp_token_created_at"),
        Column::optional("interface_locale"),
        Column::optional("failures_num"),
        Column::optional("first_failure"),
        Column::optional("lock_expires"),
    ],
    extra: ExtraColumns::Ignore,
    // Database exports: rolecall never writes them, so no formula guard to take off.
    formula_guard: false,
};
const U_ID: usize = 0;
const U_FIRST: usize = 1;
const U_LAST: usize = 2;
const U_EMAIL: usize = 3;
const U_USERNAME: usize = 4;
const U_PASSWORD: usize = 5;
const U_ACTIVE: usize = 11;
const U_LOCALE: usize = 15;
const U_LOCK: usize = 18;

static AUTHORIZATION_ROLE: Schema = Schema {
    name: "authorization_role",
    columns: &[
        Column::required("role_id"),
        Column::required("parent_id"),
        Column::optional("tree_level"),
        Column::optional("sort_order"),
        Column::required("role_type"),
        Column::required("user_id"),
        Column::optional("user_type"),
        Column::required("role_name"),
        // Adobe Commerce (not Open Source) adds role scopes: Magento_AdminGws.
        Column::optional("gws_is_all"),
        Column::optional("gws_websites"),
        Column::optional("gws_store_groups"),
    ],
    extra: ExtraColumns::Ignore,
    // Database exports: rolecall never writes them, so no formula guard to take off.
    formula_guard: false,
};
const R_ID: usize = 0;
const R_PARENT: usize = 1;
const R_TYPE: usize = 4;
const R_USER: usize = 5;
const R_USER_TYPE: usize = 6;
const R_NAME: usize = 7;
const R_GWS_ALL: usize = 8;
const R_GWS_WEBSITES: usize = 9;
const R_GWS_GROUPS: usize = 10;

static AUTHORIZATION_RULE: Schema = Schema {
    name: "authorization_rule",
    columns: &[
        Column::optional("rule_id"),
        Column::required("role_id"),
        Column::required("resource_id"),
        Column::optional("privileges"),
        Column::required("permission"),
    ],
    extra: ExtraColumns::Ignore,
    // Database exports: rolecall never writes them, so no formula guard to take off.
    formula_guard: false,
};

static STORE_WEBSITE: Schema = Schema {
    name: "store_website",
    columns: &[
        Column::required("website_id"),
        Column::required("code"),
        Column::optional("name"),
        Column::optional("sort_order"),
        Column::optional("default_group_id"),
        Column::optional("is_default"),
    ],
    extra: ExtraColumns::Ignore,
    // Database exports: rolecall never writes them, so no formula guard to take off.
    formula_guard: false,
};

static STORE_GROUP: Schema = Schema {
    name: "store_group",
    columns: &[
        Column::required("group_id"),
        Column::required("website_id"),
        Column::optional("name"),
        Column::optional("root_category_id"),
        Column::optional("default_store_id"),
        Column::required("code"),
    ],
    extra: ExtraColumns::Ignore,
    // Database exports: rolecall never writes them, so no formula guard to take off.
    formula_guard: false,
};

static STORE: Schema = Schema {
    name: "store",
    columns: &[
        Column::required("store_id"),
        Column::required("code"),
        Column::required("website_id"),
        Column::required("group_id"),
        Column::optional("name"),
        Column::optional("sort_order"),
        Column::optional("is_active"),
    ],
    extra: ExtraColumns::Ignore,
    // Database exports: rolecall never writes them, so no formula guard to take off.
    formula_guard: false,
};

/// A row that could not be read or mapped: which table, which line, and why.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct MagentoProblem {
    pub table: MagentoTable,
    pub line: u64,
    pub reason: String,
}

/// An `admin_user` row.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AdminUserRow {
    pub line: u64,
    pub user_id: u32,
    pub firstname: Option<String>,
    pub lastname: Option<String>,
    pub email: Option<String>,
    pub username: Option<String>,
    /// Verbatim; checked in the plan, never altered.
    pub password: Option<String>,
    pub is_active: bool,
    pub interface_locale: Option<String>,
    pub lock_expires: Option<String>,
}

/// An `authorization_role` row: a group role (`G`) or a user's link to one (`U`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RoleRow {
    pub line: u64,
    pub role_id: u32,
    pub parent_id: u32,
    /// `G` or `U`.
    pub role_type: String,
    pub user_id: u32,
    /// `2` admin, `1` integration (API); absent in very old data.
    pub user_type: Option<String>,
    pub role_name: Option<String>,
    /// Adobe Commerce role scope, when the columns are present.
    pub gws: Option<GwsColumns>,
}

/// The raw Adobe Commerce scope columns of a role.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct GwsColumns {
    pub is_all: Option<String>,
    pub websites: Option<String>,
    pub store_groups: Option<String>,
}

/// An `authorization_rule` row.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RuleRow {
    pub line: u64,
    pub role_id: u32,
    pub resource_id: Option<String>,
    pub permission: Option<String>,
}

/// A `store_website` row.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct WebsiteRow {
    pub line: u64,
    pub website_id: u32,
    pub code: String,
}

/// A `store_group` row (Magento's "store").
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StoreGroupRow {
    pub line: u64,
    pub group_id: u32,
    pub website_id: u32,
    pub code: String,
}

/// A `store` row (Magento's "store view").
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StoreRow {
    pub line: u64,
    pub store_id: u32,
    pub code: String,
    pub website_id: u32,
    pub group_id: u32,
}

/// Every table read so far, as typed rows, with the problems met while reading.
#[derive(Debug, Clone, Default, Serialize)]
pub struct MagentoExport {
    pub admin_users: Vec<AdminUserRow>,
    pub roles: Vec<RoleRow>,
    pub rules: Vec<RuleRow>,
    pub websites: Vec<WebsiteRow>,
    pub store_groups: Vec<StoreGroupRow>,
    pub stores: Vec<StoreRow>,
    pub problems: Vec<MagentoProblem>,
    /// Which tables were read (a scoped role cannot be resolved without the store tables).
    pub tables_read: Vec<MagentoTable>,
    /// Columns skipped, per table.
    pub ignored_columns: Vec<(MagentoTable, Vec<String>)>,
    /// The SHA-256 of each file read, for the audit log.
    pub digests: Vec<(MagentoTable, FileDigest)>,
}

/// `NULL`, `\N` and an empty cell all mean SQL NULL.
fn value(rec: &Record, col: usize) -> Option<&str> {
    match rec.get(col) {
        None | Some("") | Some("NULL") | Some("\\N") => None,
        Some(v) => Some(v),
    }
}

fn text(rec: &Record, col: usize) -> Option<String> {
    value(rec, col).map(str::to_string)
}

struct RowCheck<'a> {
    rec: &'a Record,
    schema: &'static Schema,
    reasons: Vec<String>,
}

impl RowCheck<'_> {
    fn name(&self, col: usize) -> &'static str {
        self.schema.columns.get(col).map_or("", |c| c.name)
    }

    /// A required unsigned integer column.
    fn id(&mut self, col: usize) -> u32 {
        match value(self.rec, col).map(|v| v.trim().parse::<u32>()) {
            Some(Ok(n)) => n,
            Some(Err(_)) => {
                let v = self.rec.text(col).to_string();
                self.reasons.push(format!(
                    "{} \"{v}\" is not an unsigned integer",
                    self.name(col)
                ));
                0
            }
            None => {
                self.reasons.push(format!("{} is NULL", self.name(col)));
                0
            }
        }
    }

    fn required_text(&mut self, col: usize) -> String {
        match text(self.rec, col) {
            Some(v) => v,
            None => {
                self.reasons
                    .push(format!("{} is NULL or empty", self.name(col)));
                String::new()
            }
        }
    }
}

impl MagentoExport {
    pub fn new() -> Self {
        Self::default()
    }

    /// Reads one table's CSV file and appends its rows. File-level problems (not CSV, a
    /// required column missing) refuse the file; row problems are collected in `problems`.
    pub fn read<R: Read>(&mut self, table: MagentoTable, input: R) -> Result<(), FileError> {
        let schema = table.schema();
        let mut csv = CsvReader::open(input, schema)?;
        let has_gws = table == MagentoTable::AuthorizationRole && csv.has_column(R_GWS_ALL);
        if !csv.ignored_columns().is_empty() {
            self.ignored_columns
                .push((table, csv.ignored_columns().to_vec()));
        }
        for item in csv.by_ref() {
            let rec = match item {
                Ok(rec) => rec,
                Err(errors) => {
                    for e in errors.0 {
                        let reason = match &e.column {
                            Some(c) => format!("{c}: {}", e.message),
                            None => e.message.clone(),
                        };
                        self.problems.push(MagentoProblem {
                            table,
                            line: e.line,
                            reason,
                        });
                    }
                    continue;
                }
            };
            let mut check = RowCheck {
                rec: &rec,
                schema,
                reasons: Vec::new(),
            };
            self.read_row(table, &mut check, has_gws);
            let line = rec.line;
            for reason in check.reasons {
                self.problems.push(MagentoProblem {
                    table,
                    line,
                    reason,
                });
            }
        }
        if let Some(d) = csv.digest() {
            self.digests.push((table, d));
        }
        if !self.tables_read.contains(&table) {
            self.tables_read.push(table);
        }
        Ok(())
    }

    /// Types one row; a row with any problem is not kept.
    fn read_row(&mut self, table: MagentoTable, c: &mut RowCheck<'_>, has_gws: bool) {
        let rec = c.rec;
        let line = rec.line;
        match table {
            MagentoTable::AdminUser => {
                let user_id = c.id(U_ID);
                let is_active = match value(rec, U_ACTIVE).map(str::trim) {
                    Some("1") => true,
                    Some("0") => false,
                    other => {
                        c.reasons.push(format!(
                            "is_active is {}, expected 0 or 1",
                            other.map_or("NULL".to_string(), |v| format!("\"{v}\""))
                        ));
                        false
                    }
                };
                if c.reasons.is_empty() {
                    self.admin_users.push(AdminUserRow {
                        line,
                        user_id,
                        firstname: text(rec, U_FIRST),
                        lastname: text(rec, U_LAST),
                        email: text(rec, U_EMAIL),
                        username: text(rec, U_USERNAME),
                        password: text(rec, U_PASSWORD),
                        is_active,
                        interface_locale: text(rec, U_LOCALE),
                        lock_expires: text(rec, U_LOCK),
                    });
                }
            }
            MagentoTable::AuthorizationRole => {
                let role_id = c.id(R_ID);
                let parent_id = c.id(R_PARENT);
                let user_id = c.id(R_USER);
                let role_type = c.required_text(R_TYPE);
                if !role_type.is_empty() && role_type != "G" && role_type != "U" {
                    c.reasons.push(format!(
                        "role_type \"{role_type}\" is neither G (group role) nor U (user link)"
                    ));
                }
                if c.reasons.is_empty() {
                    self.roles.push(RoleRow {
                        line,
                        role_id,
                        parent_id,
                        role_type,
                        user_id,
                        user_type: text(rec, R_USER_TYPE),
                        role_name: text(rec, R_NAME),
                        gws: has_gws.then(|| GwsColumns {
                            is_all: text(rec, R_GWS_ALL),
                            websites: text(rec, R_GWS_WEBSITES),
                            store_groups: text(rec, R_GWS_GROUPS),
                        }),
                    });
                }
            }
            MagentoTable::AuthorizationRule => {
                let role_id = c.id(1);
                if c.reasons.is_empty() {
                    self.rules.push(RuleRow {
                        line,
                        role_id,
                        resource_id: text(rec, 2),
                        permission: text(rec, 4),
                    });
                }
            }
            MagentoTable::StoreWebsite => {
                let website_id = c.id(0);
                let code = c.required_text(1);
                if c.reasons.is_empty() {
                    self.websites.push(WebsiteRow {
                        line,
                        website_id,
                        code,
                    });
                }
            }
            MagentoTable::StoreGroup => {
                let group_id = c.id(0);
                let website_id = c.id(1);
                let code = c.required_text(5);
                if c.reasons.is_empty() {
                    self.store_groups.push(StoreGroupRow {
                        line,
                        group_id,
                        website_id,
                        code,
                    });
                }
            }
            MagentoTable::Store => {
                let store_id = c.id(0);
                let code = c.required_text(1);
                let website_id = c.id(2);
                let group_id = c.id(3);
                if c.reasons.is_empty() {
                    self.stores.push(StoreRow {
                        line,
                        store_id,
                        code,
                        website_id,
                        group_id,
                    });
                }
            }
        }
    }
}
