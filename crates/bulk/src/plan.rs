//! The neutral plan every template parses into: one [`RowPlan`] per row, saying which user
//! (by e-mail), what to do, and the desired fields, memberships, profiles, roles and admin
//! rights, so the server applies the Admin Console template and the plain template through
//! the same code. Also [`PlanReader`], which opens either template by its header.
//!
//! Names (groups, profiles, roles, applications) are kept as text: resolving them against
//! the organisation's real objects, and reporting the ones that do not exist or are
//! ambiguous, is the server's job.

use crate::console::{ConsoleReader, CONSOLE_SCHEMA};
use crate::digest::FileDigest;
use crate::error::{FileError, RowErrors};
use crate::plain::{PlainReader, PLAIN_SCHEMA};
use crate::reader::CsvReader;
use serde::Serialize;
use std::collections::BTreeSet;
use std::io::Read;

/// What a row asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Operation {
    /// Create the user, or update it when the e-mail exists (the default).
    Upsert,
    /// Upsert, and set the status to inactive (the user can no longer sign in; data kept).
    Deactivate,
    /// Remove the user from the organisation; every other cell of the row is ignored.
    Remove,
}

/// A user's status as the server knows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    Invited,
    Active,
    Inactive,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Invited => "invited",
            Status::Active => "active",
            Status::Inactive => "inactive",
        }
    }
}

/// Adobe's identity types (seed 000/004): who owns and authenticates the account.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum IdentityType {
    /// Created and owned by the person; Adobe authenticates.
    AdobeId,
    /// Owned by the organisation; Adobe authenticates.
    EnterpriseId,
    /// Owned by the organisation; its identity provider authenticates (SSO).
    FederatedId,
}

impl IdentityType {
    /// The Admin Console spelling, as written in exports.
    pub fn as_str(self) -> &'static str {
        match self {
            IdentityType::AdobeId => "Adobe ID",
            IdentityType::EnterpriseId => "Enterprise ID",
            IdentityType::FederatedId => "Federated ID",
        }
    }
}

/// A product profile, named as in the file. `product` is `None` for a bare profile name;
/// the server resolves it, and must refuse it when several applications have a profile of
/// that name (the file must then say which product).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub struct ProfileRef {
    pub product: Option<String>,
    pub profile: String,
}

/// A role of one application (`application:Role Name` in the plain template).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub struct RoleRef {
    pub application: String,
    pub role: String,
}

/// An administrative right (seed 004's hierarchy), with its target named as in the file.
/// Mirrors `rolecall_core::admin::AdminRight`, but by name instead of id.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum AdminRightRef {
    System,
    Product { product: String },
    ProductProfile { profile: ProfileRef },
    UserGroup { group: String },
    Deployment,
    Support,
    Storage,
}

/// How a row changes one list (groups, profiles, roles, rights).
///
/// Three cases because the templates mean different things: the Admin Console's bulk "add
/// users" file adds to what a user has, rolecall's plain template states the whole desired
/// list (so an export re-imported changes nothing), and a column absent from a file must not
/// touch that list at all.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "change", content = "items", rename_all = "snake_case")]
pub enum ListChange<T: Ord> {
    /// The file has no such column: leave the list as it is.
    Unchanged,
    /// Add these items; keep the others.
    Add(BTreeSet<T>),
    /// The list must become exactly these items (empty: remove all).
    Replace(BTreeSet<T>),
}

impl<T: Ord> ListChange<T> {
    /// The items the row names (empty for `Unchanged`).
    pub fn items(&self) -> Option<&BTreeSet<T>> {
        match self {
            ListChange::Unchanged => None,
            ListChange::Add(s) | ListChange::Replace(s) => Some(s),
        }
    }
}

/// The user's own fields. `None` means "not given: keep (or the server's default for a new
/// user)"; `Some("")` for a name means "clear it".
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct UserFields {
    /// The e-mail as written (case kept; the server normalises).
    pub email: String,
    pub username: Option<String>,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub status: Option<Status>,
    pub identity_type: Option<IdentityType>,
    /// Domain of the account (the Admin Console's Domain column, or derived from the e-mail).
    pub domain: Option<String>,
    /// ISO 3166-1 alpha-2, upper case.
    pub country_code: Option<String>,
}

/// One row of either template, as data the server applies.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RowPlan {
    /// 1-based line where the row starts, for the import report.
    pub line: u64,
    /// The e-mail in lower case: the row's identity in the file (duplicates are refused).
    pub key: String,
    pub operation: Operation,
    pub user: UserFields,
    /// User group memberships.
    pub groups: ListChange<String>,
    /// Product profiles (seats).
    pub profiles: ListChange<ProfileRef>,
    /// Roles held directly.
    pub roles: ListChange<RoleRef>,
    pub admin_rights: ListChange<AdminRightRef>,
    /// Profiles the user is a developer of (Admin Console "Developer Access").
    pub developer_access: ListChange<ProfileRef>,
}

/// Which template a file was read as.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Template {
    /// The Adobe Admin Console bulk-upload template.
    Console,
    /// rolecall's plain template.
    Plain,
}

/// Reads either template, chosen by its header, as a stream of [`RowPlan`]s: the one entry
/// point the server's import use case needs.
pub enum PlanReader<R: Read> {
    Console(ConsoleReader<R>),
    Plain(PlainReader<R>),
}

impl<R: Read> PlanReader<R> {
    /// Opens `input`; the template is the one whose columns the header names most of.
    pub fn open(input: R) -> Result<Self, FileError> {
        let (choice, csv) = CsvReader::open_any(input, &[&CONSOLE_SCHEMA, &PLAIN_SCHEMA])?;
        Ok(if choice == 0 {
            PlanReader::Console(ConsoleReader::from_csv(csv))
        } else {
            PlanReader::Plain(PlainReader::from_csv(csv))
        })
    }

    pub fn template(&self) -> Template {
        match self {
            PlanReader::Console(_) => Template::Console,
            PlanReader::Plain(_) => Template::Plain,
        }
    }

    /// The separator found in the header.
    pub fn separator(&self) -> char {
        match self {
            PlanReader::Console(r) => r.separator(),
            PlanReader::Plain(r) => r.separator(),
        }
    }

    /// SHA-256 of the input, once every row has been read.
    pub fn digest(&self) -> Option<FileDigest> {
        match self {
            PlanReader::Console(r) => r.digest(),
            PlanReader::Plain(r) => r.digest(),
        }
    }
}

impl<R: Read> Iterator for PlanReader<R> {
    type Item = Result<RowPlan, RowErrors>;

    fn next(&mut self) -> Option<Self::Item> {
        match self {
            PlanReader::Console(r) => r.next().map(|x| x.map(|rec| rec.row.to_plan(rec.line))),
            PlanReader::Plain(r) => {
                let item = r.next()?;
                Some(item.map(|rec| r.to_plan(&rec)))
            }
        }
    }
}
