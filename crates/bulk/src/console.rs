//! The Adobe Admin Console bulk-upload template (seed 000/004): its 14 columns, the typed
//! [`ConsoleRow`], the reader (per-cell rules, admin-role spellings, duplicate e-mails) and a
//! deterministic writer whose output reads back to the same rows.

use crate::cells::{comma_items, email_domain, Cells};
use crate::digest::FileDigest;
use crate::error::{FileError, RowError, RowErrors, Rule, WriteError};
use crate::plan::{
    AdminRightRef, IdentityType, ListChange, Operation, ProfileRef, RowPlan, UserFields,
};
use crate::reader::{Column, CsvReader, ExtraColumns, Record, Schema};
use crate::seen::KeyIndex;
use crate::writer::{write_table, WriteOptions};
use serde::Serialize;
use std::collections::BTreeSet;
use std::io::{Read, Write};

const IDENTITY_TYPE: usize = 0;
const USERNAME: usize = 1;
const DOMAIN: usize = 2;
const EMAIL: usize = 3;
const FIRST_NAME: usize = 4;
const LAST_NAME: usize = 5;
const COUNTRY_CODE: usize = 6;
const PRODUCT_CONFIGURATIONS: usize = 7;
const ADMIN_ROLES: usize = 8;
const PROFILES_ADMINISTERED: usize = 9;
const USER_GROUPS: usize = 10;
const USER_GROUPS_ADMINISTERED: usize = 11;
const PRODUCTS_ADMINISTERED: usize = 12;
const DEVELOPER_ACCESS: usize = 13;

/// The template's header, in the Admin Console's order. Reading accepts any order and only
/// requires Identity Type and Email (other tools export subsets); writing emits all 14.
pub static CONSOLE_SCHEMA: Schema = Schema {
    name: "Admin Console",
    columns: &[
        Column::required("Identity Type"),
        Column::optional("Username"),
        Column::optional("Domain"),
        Column::required("Email"),
        Column::optional("First Name"),
        Column::optional("Last Name"),
        Column::optional("Country Code"),
        Column::optional("Product Configurations"),
        Column::optional("Admin Roles"),
        Column::optional("Product Configurations Administered"),
        Column::optional("User Groups"),
        Column::optional("User Groups Administered"),
        Column::optional("Products Administered"),
        Column::optional("Developer Access"),
    ],
    extra: ExtraColumns::Reject,
    // Written by `write_table`, which guards formulas: see `crate::formula`.
    formula_guard: true,
};

/// The Admin Console's administrative roles (seed 004's hierarchy).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum AdminRole {
    System,
    Product,
    ProductProfile,
    UserGroup,
    Deployment,
    Support,
    Storage,
}

impl AdminRole {
    /// The spelling written in exports (seed 004's names).
    pub fn as_str(self) -> &'static str {
        match self {
            AdminRole::System => "System Admin",
            AdminRole::Product => "Product Admin",
            AdminRole::ProductProfile => "Product Profile Admin",
            AdminRole::UserGroup => "User Group Admin",
            AdminRole::Deployment => "Deployment Admin",
            AdminRole::Support => "Support Admin",
            AdminRole::Storage => "Storage Admin",
        }
    }

    /// Reads the spellings the Admin Console, its docs and its API use: case, `_`, `-` and
    /// spaces do not matter, and a trailing "admin"/"administrator" is optional. So "System",
    /// "System Administrator", "SYSTEM_ADMIN" and "org admin" are all System; "Product
    /// Configuration Admin", "LICENSE_ADMIN" and "Product License Admin" (older names for a
    /// profile admin) are Product Profile.
    pub fn parse(s: &str) -> Option<AdminRole> {
        let lowered = s.to_lowercase().replace(['_', '-'], " ");
        let mut words: Vec<&str> = lowered.split_whitespace().collect();
        if matches!(
            words.last(),
            Some(&("admin" | "administrator" | "admins" | "administrators"))
        ) && words.len() > 1
        {
            words.pop();
        }
        Some(match words.join(" ").as_str() {
            "system" | "org" | "organization" | "organisation" => AdminRole::System,
            "product" | "product owner" => AdminRole::Product,
            "product profile"
            | "profile"
            | "product configuration"
            | "configuration"
            | "license"
            | "license group"
            | "product license"
            | "licence"
            | "product licence" => AdminRole::ProductProfile,
            "user group" | "usergroup" | "group" => AdminRole::UserGroup,
            "deployment" => AdminRole::Deployment,
            "support" => AdminRole::Support,
            "storage" => AdminRole::Storage,
            _ => return None,
        })
    }
}

/// One row of the Admin Console template, validated. Derived values are filled in
/// (username from the e-mail, domain from the username or e-mail), so a row read from any
/// valid file writes back out complete.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ConsoleRow {
    pub identity_type: IdentityType,
    pub username: String,
    pub domain: String,
    pub email: String,
    pub first_name: String,
    pub last_name: String,
    /// ISO 3166-1 alpha-2 shape, upper case.
    pub country_code: Option<String>,
    /// Product profiles (the template's old name: product configurations).
    pub product_configurations: BTreeSet<ProfileRef>,
    pub admin_roles: BTreeSet<AdminRole>,
    pub profiles_administered: BTreeSet<ProfileRef>,
    pub user_groups: BTreeSet<String>,
    pub user_groups_administered: BTreeSet<String>,
    /// By display name or key; the server resolves either.
    pub products_administered: BTreeSet<String>,
    /// Profiles the user is a developer of.
    pub developer_access: BTreeSet<ProfileRef>,
}

impl ConsoleRow {
    /// The row's identity in a file: the e-mail in lower case.
    pub fn key(&self) -> String {
        self.email.to_lowercase()
    }

    /// The neutral plan. The Admin Console's bulk upload adds users to profiles and groups
    /// and grants rights; it never takes any away, so every list is [`ListChange::Add`].
    pub fn to_plan(&self, line: u64) -> RowPlan {
        fn add<T: Ord + Clone>(s: &BTreeSet<T>) -> ListChange<T> {
            if s.is_empty() {
                ListChange::Unchanged
            } else {
                ListChange::Add(s.clone())
            }
        }
        let non_empty = |s: &str| (!s.is_empty()).then(|| s.to_string());
        let mut rights = BTreeSet::new();
        for role in &self.admin_roles {
            match role {
                AdminRole::System => {
                    rights.insert(AdminRightRef::System);
                }
                AdminRole::Deployment => {
                    rights.insert(AdminRightRef::Deployment);
                }
                AdminRole::Support => {
                    rights.insert(AdminRightRef::Support);
                }
                AdminRole::Storage => {
                    rights.insert(AdminRightRef::Storage);
                }
                // Targets come from their own columns (checked consistent when read).
                AdminRole::Product | AdminRole::ProductProfile | AdminRole::UserGroup => {}
            }
        }
        rights.extend(
            self.products_administered
                .iter()
                .map(|p| AdminRightRef::Product { product: p.clone() }),
        );
        rights.extend(
            self.profiles_administered
                .iter()
                .map(|p| AdminRightRef::ProductProfile { profile: p.clone() }),
        );
        rights.extend(
            self.user_groups_administered
                .iter()
                .map(|g| AdminRightRef::UserGroup { group: g.clone() }),
        );
        RowPlan {
            line,
            key: self.key(),
            operation: Operation::Upsert,
            user: UserFields {
                email: self.email.clone(),
                username: Some(self.username.clone()),
                first_name: non_empty(&self.first_name),
                last_name: non_empty(&self.last_name),
                status: None,
                identity_type: Some(self.identity_type),
                domain: Some(self.domain.clone()),
                country_code: self.country_code.clone(),
            },
            groups: add(&self.user_groups),
            profiles: add(&self.product_configurations),
            roles: ListChange::Unchanged,
            admin_rights: add(&rights),
            developer_access: add(&self.developer_access),
        }
    }

    fn cells(&self) -> Vec<String> {
        fn profiles(s: &BTreeSet<ProfileRef>) -> String {
            s.iter().map(format_profile).collect::<Vec<_>>().join(", ")
        }
        fn names(s: &BTreeSet<String>) -> String {
            s.iter().cloned().collect::<Vec<_>>().join(", ")
        }
        vec![
            self.identity_type.as_str().to_string(),
            self.username.clone(),
            self.domain.clone(),
            self.email.clone(),
            self.first_name.clone(),
            self.last_name.clone(),
            self.country_code.clone().unwrap_or_default(),
            profiles(&self.product_configurations),
            self.admin_roles
                .iter()
                .map(|r| r.as_str())
                .collect::<Vec<_>>()
                .join(", "),
            profiles(&self.profiles_administered),
            names(&self.user_groups),
            names(&self.user_groups_administered),
            names(&self.products_administered),
            profiles(&self.developer_access),
        ]
    }
}

fn format_profile(p: &ProfileRef) -> String {
    match &p.product {
        Some(product) => format!("{product}: {}", p.profile),
        None => p.profile.clone(),
    }
}

fn parse_identity_type(s: &str) -> Option<IdentityType> {
    let squashed: String = s
        .chars()
        .filter(|c| c.is_alphanumeric())
        .collect::<String>()
        .to_lowercase();
    match squashed.as_str() {
        "adobeid" => Some(IdentityType::AdobeId),
        "enterpriseid" => Some(IdentityType::EnterpriseId),
        "federatedid" => Some(IdentityType::FederatedId),
        _ => None,
    }
}

fn profile_list(c: &mut Cells<'_>, col: usize) -> BTreeSet<ProfileRef> {
    let cell = c.text(col);
    let mut out = BTreeSet::new();
    for item in comma_items(&cell) {
        match item.split_once(':') {
            None => {
                out.insert(ProfileRef {
                    product: None,
                    profile: item.to_string(),
                });
            }
            Some((product, profile))
                if !product.trim().is_empty() && !profile.trim().is_empty() =>
            {
                out.insert(ProfileRef {
                    product: Some(product.trim().to_string()),
                    profile: profile.trim().to_string(),
                });
            }
            Some(_) => c.fail(
                col,
                Rule::Profile,
                format!("\"{item}\" is not a profile: write \"Profile\" or \"Product: Profile\""),
            ),
        }
    }
    out
}

fn name_list(c: &mut Cells<'_>, col: usize) -> BTreeSet<String> {
    let cell = c.text(col);
    comma_items(&cell).map(str::to_string).collect()
}

/// Parses one record of the template (shared by the reader and the writer's self-check).
fn parse_row(rec: &Record) -> Result<ConsoleRow, RowErrors> {
    let mut c = Cells::new(rec, &CONSOLE_SCHEMA);
    let id_text = c.required(IDENTITY_TYPE);
    let identity_type = parse_identity_type(&id_text);
    if identity_type.is_none() && !id_text.is_empty() {
        c.fail(
            IDENTITY_TYPE,
            Rule::IdentityType,
            format!("\"{id_text}\" is not an identity type: write Adobe ID, Enterprise ID or Federated ID"),
        );
    }
    let email = c.email(EMAIL);
    let mut username = c.text(USERNAME);
    if username.is_empty() {
        username = email.clone();
    }
    // A username that is an e-mail carries its domain; a plain username (Federated ID with
    // username sign-in) gets its domain from the Domain column or, failing that, the e-mail.
    let expected_domain = if username.contains('@') {
        email_domain(&username).to_string()
    } else {
        email_domain(&email).to_string()
    };
    let mut domain = c.text(DOMAIN);
    if domain.is_empty() {
        domain = expected_domain;
    } else if username.contains('@') && !domain.eq_ignore_ascii_case(&expected_domain) {
        c.fail(
            DOMAIN,
            Rule::Domain,
            format!("the domain \"{domain}\" is not the domain of the username \"{username}\" (leave Domain empty to derive it)"),
        );
    }
    let first_name = c.text(FIRST_NAME);
    let last_name = c.text(LAST_NAME);
    let country = c.text(COUNTRY_CODE);
    let country_code = if country.is_empty() {
        None
    } else if country.len() == 2 && country.chars().all(|ch| ch.is_ascii_alphabetic()) {
        Some(country.to_ascii_uppercase())
    } else {
        c.fail(
            COUNTRY_CODE,
            Rule::CountryCode,
            format!(
                "\"{country}\" is not an ISO 3166-1 alpha-2 country code (two letters, like FR)"
            ),
        );
        None
    };
    let product_configurations = profile_list(&mut c, PRODUCT_CONFIGURATIONS);
    let mut admin_roles = BTreeSet::new();
    let roles_cell = c.text(ADMIN_ROLES);
    for item in comma_items(&roles_cell) {
        match AdminRole::parse(item) {
            Some(r) => {
                admin_roles.insert(r);
            }
            None => c.fail(
                ADMIN_ROLES,
                Rule::AdminRole,
                format!("\"{item}\" is not an admin role: write System, Product, Product Profile, User Group, Deployment, Support or Storage Admin"),
            ),
        }
    }
    let profiles_administered = profile_list(&mut c, PROFILES_ADMINISTERED);
    let user_groups = name_list(&mut c, USER_GROUPS);
    let user_groups_administered = name_list(&mut c, USER_GROUPS_ADMINISTERED);
    let products_administered = name_list(&mut c, PRODUCTS_ADMINISTERED);
    let developer_access = profile_list(&mut c, DEVELOPER_ACCESS);
    for (role, col, targets) in [
        (
            AdminRole::Product,
            PRODUCTS_ADMINISTERED,
            products_administered.len(),
        ),
        (
            AdminRole::ProductProfile,
            PROFILES_ADMINISTERED,
            profiles_administered.len(),
        ),
        (
            AdminRole::UserGroup,
            USER_GROUPS_ADMINISTERED,
            user_groups_administered.len(),
        ),
    ] {
        let has_role = admin_roles.contains(&role);
        if has_role && targets == 0 {
            let column = c.name(col);
            c.fail(
                ADMIN_ROLES,
                Rule::AdminTargets,
                format!("{} needs at least one entry in {column}", role.as_str()),
            );
        } else if !has_role && targets > 0 {
            c.fail(
                col,
                Rule::AdminTargets,
                format!(
                    "lists what the user administers, but Admin Roles has no {}",
                    role.as_str()
                ),
            );
        }
    }
    match identity_type {
        Some(identity_type) if c.errors.is_empty() => Ok(ConsoleRow {
            identity_type,
            username,
            domain,
            email,
            first_name,
            last_name,
            country_code,
            product_configurations,
            admin_roles,
            profiles_administered,
            user_groups,
            user_groups_administered,
            products_administered,
            developer_access,
        }),
        _ => Err(RowErrors(c.errors)),
    }
}

/// A parsed row and the line it started on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ConsoleRecord {
    pub line: u64,
    pub row: ConsoleRow,
}

/// Streams [`ConsoleRecord`]s from an Admin Console template file.
pub struct ConsoleReader<R: Read> {
    csv: CsvReader<R>,
    keys: KeyIndex,
}

impl<R: Read> ConsoleReader<R> {
    /// Opens the file; file-level problems (not CSV, wrong header) are refused here.
    pub fn open(input: R) -> Result<Self, FileError> {
        Ok(Self::from_csv(CsvReader::open(input, &CONSOLE_SCHEMA)?))
    }

    pub(crate) fn from_csv(csv: CsvReader<R>) -> Self {
        ConsoleReader {
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
}

impl<R: Read> Iterator for ConsoleReader<R> {
    type Item = Result<ConsoleRecord, RowErrors>;

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
        let parsed = parse_row(&rec);
        Some(match (parsed, duplicate) {
            (Ok(row), None) => Ok(ConsoleRecord {
                line: rec.line,
                row,
            }),
            (result, dup) => {
                let mut errors = result.err().map_or_else(Vec::new, |e| e.0);
                if let Some(first) = dup {
                    errors.push(RowError::cell(
                        rec.line,
                        "Email",
                        Rule::Duplicate,
                        format!("{email} is already on line {first} (e-mails are compared ignoring case)"),
                    ));
                }
                Err(RowErrors(errors))
            }
        })
    }
}

/// Writes `rows` as an Admin Console template: all 14 columns, rows ordered by e-mail, list
/// items sorted and joined with ", ". Every row is read back before it is written; a row
/// that would not read back identically (a name containing ',' has no spelling in this
/// format, for instance) refuses the whole export rather than writing something else.
pub fn write_console<W: Write>(
    rows: &[ConsoleRow],
    out: W,
    options: WriteOptions,
) -> Result<FileDigest, WriteError> {
    let mut sorted: Vec<(String, &ConsoleRow)> = rows.iter().map(|r| (r.key(), r)).collect();
    sorted.sort_by(|a, b| a.0.cmp(&b.0));
    let mut lines = Vec::with_capacity(sorted.len());
    for pair in sorted.windows(2) {
        if let [(a, _), (b, _)] = pair {
            if a == b {
                return Err(WriteError::Duplicate { key: a.clone() });
            }
        }
    }
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
                    .and_then(|i| CONSOLE_SCHEMA.columns.get(i))
                    .map_or("(row)", |c| c.name);
                return Err(WriteError::Unrepresentable {
                    key,
                    column: column.to_string(),
                    reason: "the value would read back differently (names in this template cannot contain ',', a product name cannot contain ':', nor a bare profile name ':'; names cannot have surrounding spaces)".into(),
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
    let header: Vec<&str> = CONSOLE_SCHEMA.columns.iter().map(|c| c.name).collect();
    write_table(out, &header, lines, options)
}
