//! rolecall's own bulk template (`crates/bulk/README.md`): one row per user with an
//! operation, the user's fields and the complete desired lists of groups, roles, profiles
//! and admin rights. Lists are `;`-separated with backslash escapes, so every name can be
//! written; an export re-imported changes nothing.

use crate::cells::{plain_escape, plain_items, Cells, Item};
use crate::digest::FileDigest;
use crate::error::{FileError, RowError, RowErrors, Rule, WriteError};
use crate::plan::{
    AdminRightRef, ListChange, Operation, ProfileRef, RoleRef, RowPlan, Status, UserFields,
};
use crate::reader::{Column, CsvReader, ExtraColumns, Record, Schema};
use crate::seen::KeyIndex;
use crate::writer::{write_table, WriteOptions};
use serde::Serialize;
use std::collections::BTreeSet;
use std::io::{Read, Write};

const OPERATION: usize = 0;
const USERNAME: usize = 1;
const EMAIL: usize = 2;
const FIRST_NAME: usize = 3;
const LAST_NAME: usize = 4;
const STATUS: usize = 5;
const GROUPS: usize = 6;
const ROLES: usize = 7;
const PROFILES: usize = 8;
const ADMIN_RIGHTS: usize = 9;

/// The plain template's columns. Only `email` is required; a column left out of a file
/// leaves that field or list of every user untouched.
pub static PLAIN_SCHEMA: Schema = Schema {
    name: "rolecall plain",
    columns: &[
        Column::optional("operation"),
        Column::optional("username"),
        Column::required("email"),
        Column::optional("first_name"),
        Column::optional("last_name"),
        Column::optional("status"),
        Column::optional("groups"),
        Column::optional("roles"),
        Column::optional("profiles"),
        Column::optional("admin_rights"),
    ],
    extra: ExtraColumns::Reject,
    // Written by `write_table`, which guards formulas: see `crate::formula`.
    formula_guard: true,
};

/// One row of the plain template, as written in the file (empty text = empty cell).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PlainRow {
    pub operation: Operation,
    pub username: String,
    pub email: String,
    pub first_name: String,
    pub last_name: String,
    pub status: Option<Status>,
    pub groups: BTreeSet<String>,
    pub roles: BTreeSet<RoleRef>,
    pub profiles: BTreeSet<ProfileRef>,
    pub admin_rights: BTreeSet<AdminRightRef>,
}

impl PlainRow {
    /// The row's identity in a file: the e-mail in lower case.
    pub fn key(&self) -> String {
        self.email.to_lowercase()
    }

    fn cells(&self) -> Vec<String> {
        fn join(items: impl Iterator<Item = String>) -> String {
            items.collect::<Vec<_>>().join("; ")
        }
        vec![
            operation_str(self.operation).to_string(),
            self.username.clone(),
            self.email.clone(),
            self.first_name.clone(),
            self.last_name.clone(),
            self.status.map_or("", Status::as_str).to_string(),
            join(self.groups.iter().map(|g| plain_escape(g))),
            join(
                self.roles
                    .iter()
                    .map(|r| format!("{}:{}", plain_escape(&r.application), plain_escape(&r.role))),
            ),
            join(self.profiles.iter().map(format_profile)),
            join(self.admin_rights.iter().map(format_right)),
        ]
    }
}

fn operation_str(op: Operation) -> &'static str {
    match op {
        Operation::Upsert => "upsert",
        Operation::Deactivate => "deactivate",
        Operation::Remove => "remove",
    }
}

fn format_profile(p: &ProfileRef) -> String {
    match &p.product {
        Some(app) => format!("{}:{}", plain_escape(app), plain_escape(&p.profile)),
        None => plain_escape(&p.profile),
    }
}

fn format_right(r: &AdminRightRef) -> String {
    match r {
        AdminRightRef::System => "system".into(),
        AdminRightRef::Product { product } => format!("product:{}", plain_escape(product)),
        AdminRightRef::ProductProfile { profile } => {
            format!("product_profile:{}", format_profile(profile))
        }
        AdminRightRef::UserGroup { group } => format!("user_group:{}", plain_escape(group)),
        AdminRightRef::Deployment => "deployment".into(),
        AdminRightRef::Support => "support".into(),
        AdminRightRef::Storage => "storage".into(),
    }
}

fn items(c: &mut Cells<'_>, col: usize) -> Vec<Item> {
    let cell = c.text(col);
    match plain_items(&cell) {
        Ok(items) => items,
        Err(why) => {
            c.fail(col, Rule::Escape, why);
            Vec::new()
        }
    }
}

fn profile_of(item: &Item) -> Result<ProfileRef, ()> {
    match item.split_first() {
        None => Ok(ProfileRef {
            product: None,
            profile: item.text.clone(),
        }),
        Some((app, profile)) if !app.is_empty() && !profile.is_empty() => Ok(ProfileRef {
            product: Some(app.to_string()),
            profile: profile.to_string(),
        }),
        Some(_) => Err(()),
    }
}

fn right_of(item: &Item) -> Option<AdminRightRef> {
    let Some((kind, target)) = item.split_first() else {
        return match item.text.to_ascii_lowercase().as_str() {
            "system" => Some(AdminRightRef::System),
            "deployment" => Some(AdminRightRef::Deployment),
            "support" => Some(AdminRightRef::Support),
            "storage" => Some(AdminRightRef::Storage),
            _ => None,
        };
    };
    if target.is_empty() {
        return None;
    }
    match kind.to_ascii_lowercase().as_str() {
        "product" => Some(AdminRightRef::Product {
            product: target.to_string(),
        }),
        "user_group" => Some(AdminRightRef::UserGroup {
            group: target.to_string(),
        }),
        "product_profile" => {
            let rest = item.after_first()?;
            Some(AdminRightRef::ProductProfile {
                profile: profile_of(&rest).ok()?,
            })
        }
        _ => None,
    }
}

fn parse_row(rec: &Record) -> Result<PlainRow, RowErrors> {
    let mut c = Cells::new(rec, &PLAIN_SCHEMA);
    let op_text = c.text(OPERATION);
    let operation = match op_text.to_ascii_lowercase().as_str() {
        "" | "upsert" | "add" | "update" => Operation::Upsert,
        "deactivate" => Operation::Deactivate,
        "remove" => Operation::Remove,
        _ => {
            c.fail(
                OPERATION,
                Rule::Operation,
                format!("\"{op_text}\" is not an operation: write add, update (or upsert: the same), deactivate or remove"),
            );
            Operation::Upsert
        }
    };
    let email = c.email(EMAIL);
    let mut row = PlainRow {
        operation,
        username: String::new(),
        email,
        first_name: String::new(),
        last_name: String::new(),
        status: None,
        groups: BTreeSet::new(),
        roles: BTreeSet::new(),
        profiles: BTreeSet::new(),
        admin_rights: BTreeSet::new(),
    };
    // A removal needs only the e-mail: the rest of an exported row may stay in place.
    if operation != Operation::Remove {
        row.username = c.text(USERNAME);
        row.first_name = c.text(FIRST_NAME);
        row.last_name = c.text(LAST_NAME);
        let status = c.text(STATUS);
        row.status = match status.to_ascii_lowercase().as_str() {
            "" => None,
            "invited" => Some(Status::Invited),
            "active" => Some(Status::Active),
            "inactive" => Some(Status::Inactive),
            _ => {
                c.fail(
                    STATUS,
                    Rule::Status,
                    format!("\"{status}\" is not a status: write invited, active or inactive"),
                );
                None
            }
        };
        if operation == Operation::Deactivate
            && matches!(row.status, Some(Status::Active | Status::Invited))
        {
            c.fail(
                STATUS,
                Rule::Status,
                "deactivate makes the user inactive: leave status empty or write inactive",
            );
        }
        row.groups = items(&mut c, GROUPS).into_iter().map(|i| i.text).collect();
        for item in items(&mut c, ROLES) {
            match item.split_first() {
                Some((app, role)) if !app.is_empty() && !role.is_empty() => {
                    row.roles.insert(RoleRef {
                        application: app.to_string(),
                        role: role.to_string(),
                    });
                }
                _ => c.fail(
                    ROLES,
                    Rule::Role,
                    format!("\"{}\" is not a role: write application:Role Name (a ':' inside a name is written \\:)", item.text),
                ),
            }
        }
        for item in items(&mut c, PROFILES) {
            match profile_of(&item) {
                Ok(p) => {
                    row.profiles.insert(p);
                }
                Err(()) => c.fail(
                    PROFILES,
                    Rule::Profile,
                    format!(
                        "\"{}\" is not a profile: write Profile or application:Profile",
                        item.text
                    ),
                ),
            }
        }
        for item in items(&mut c, ADMIN_RIGHTS) {
            match right_of(&item) {
                Some(r) => {
                    row.admin_rights.insert(r);
                }
                None => c.fail(
                    ADMIN_RIGHTS,
                    Rule::AdminRight,
                    format!("\"{}\" is not an admin right: write system, product:<app>, product_profile:<app>:<profile>, user_group:<group>, deployment, support or storage", item.text),
                ),
            }
        }
    }
    if c.errors.is_empty() {
        Ok(row)
    } else {
        Err(RowErrors(c.errors))
    }
}

/// A parsed row and the line it started on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PlainRecord {
    pub line: u64,
    pub row: PlainRow,
}

/// Streams [`PlainRecord`]s from a plain-template file.
pub struct PlainReader<R: Read> {
    csv: CsvReader<R>,
    keys: KeyIndex,
}

impl<R: Read> PlainReader<R> {
    /// Opens the file; file-level problems (not CSV, wrong header) are refused here.
    pub fn open(input: R) -> Result<Self, FileError> {
        Ok(Self::from_csv(CsvReader::open(input, &PLAIN_SCHEMA)?))
    }

    pub(crate) fn from_csv(csv: CsvReader<R>) -> Self {
        PlainReader {
            csv,
            keys: KeyIndex::default(),
        }
    }

    /// The separator found in the header.
    pub fn separator(&self) -> char {
        self.csv.separator()
    }

    /// SHA-256 of the input, once every row has been read.
    pub fn digest(&self) -> Option<FileDigest> {
        self.csv.digest()
    }

    /// The neutral plan of a record of this file: a column the file does not have leaves
    /// its field or list unchanged; a column it has states the desired value (an empty list
    /// cell removes every item).
    pub fn to_plan(&self, rec: &PlainRecord) -> RowPlan {
        let row = &rec.row;
        let has = |col| self.csv.has_column(col) && row.operation != Operation::Remove;
        let text = |col, value: &String| has(col).then(|| value.clone());
        fn list<T: Ord + Clone>(present: bool, s: &BTreeSet<T>) -> ListChange<T> {
            if present {
                ListChange::Replace(s.clone())
            } else {
                ListChange::Unchanged
            }
        }
        let status = match row.operation {
            Operation::Deactivate => Some(Status::Inactive),
            Operation::Remove => None,
            Operation::Upsert => row.status,
        };
        RowPlan {
            line: rec.line,
            key: row.key(),
            operation: row.operation,
            user: UserFields {
                email: row.email.clone(),
                username: (!row.username.is_empty()).then(|| row.username.clone()),
                first_name: text(FIRST_NAME, &row.first_name),
                last_name: text(LAST_NAME, &row.last_name),
                status,
                identity_type: None,
                domain: None,
                country_code: None,
            },
            groups: list(has(GROUPS), &row.groups),
            profiles: list(has(PROFILES), &row.profiles),
            roles: list(has(ROLES), &row.roles),
            admin_rights: list(has(ADMIN_RIGHTS), &row.admin_rights),
            developer_access: ListChange::Unchanged,
        }
    }
}

impl<R: Read> Iterator for PlainReader<R> {
    type Item = Result<PlainRecord, RowErrors>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.keys.broken() {
            return None;
        }
        let rec = match self.csv.next()? {
            Ok(rec) => rec,
            Err(e) => return Some(Err(e)),
        };
        let email = rec.text(EMAIL).trim().to_lowercase();
        let duplicate = if email.is_empty() {
            None
        } else {
            match self.keys.check(&email, rec.line) {
                Ok(first) => first,
                Err(e) => return Some(Err(crate::seen::lost(rec.line, &e))),
            }
        };
        Some(match (parse_row(&rec), duplicate) {
            (Ok(row), None) => Ok(PlainRecord {
                line: rec.line,
                row,
            }),
            (result, dup) => {
                let mut errors = result.err().map_or_else(Vec::new, |e| e.0);
                if let Some(first) = dup {
                    errors.push(RowError::cell(
                        rec.line,
                        "email",
                        Rule::Duplicate,
                        format!("{email} is already on line {first} (e-mails are compared ignoring case)"),
                    ));
                }
                Err(RowErrors(errors))
            }
        })
    }
}

/// Writes `rows` as a plain-template file: all columns, rows ordered by e-mail, list items
/// sorted and joined with "; ". Every row is read back before it is written; one that would
/// read back differently (a `remove` row carrying other values, a name with surrounding
/// spaces) refuses the export.
pub fn write_plain<W: Write>(
    rows: &[PlainRow],
    out: W,
    options: WriteOptions,
) -> Result<FileDigest, WriteError> {
    let mut sorted: Vec<(String, &PlainRow)> = rows.iter().map(|r| (r.key(), r)).collect();
    sorted.sort_by(|a, b| a.0.cmp(&b.0));
    for pair in sorted.windows(2) {
        if let [(a, _), (b, _)] = pair {
            if a == b {
                return Err(WriteError::Duplicate { key: a.clone() });
            }
        }
    }
    let mut lines = Vec::with_capacity(sorted.len());
    for (key, row) in sorted {
        let cells = row.cells();
        let rec = Record::from_cells(0, cells.iter().cloned().map(Some).collect());
        match parse_row(&rec) {
            Ok(back) if &back == row => lines.push(cells),
            Ok(back) => {
                let column = back
                    .cells()
                    .iter()
                    .zip(&cells)
                    .position(|(x, y)| x != y)
                    .and_then(|i| PLAIN_SCHEMA.columns.get(i))
                    .map_or("(row)", |c| c.name);
                return Err(WriteError::Unrepresentable {
                    key,
                    column: column.to_string(),
                    reason: "the value would read back differently (names cannot be empty or have surrounding spaces; a remove row carries only the e-mail)".into(),
                });
            }
            Err(errors) => {
                let first = errors.0.first();
                return Err(WriteError::Unrepresentable {
                    key,
                    column: first
                        .and_then(|e| e.column.clone())
                        .unwrap_or_else(|| "(row)".into()),
                    reason: first.map_or_else(String::new, |e| e.message.clone()),
                });
            }
        }
    }
    let header: Vec<&str> = PLAIN_SCHEMA.columns.iter().map(|c| c.name).collect();
    write_table(out, &header, lines, options)
}
