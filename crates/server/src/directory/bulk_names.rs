//! Names and problems of a bulk import (issue 12): the organisation's groups, roles, profiles
//! and products resolved from the names a file uses (a bare profile name several products
//! share is refused, never guessed), and a use case's refusal turned into row problems named
//! by the template's own column.

use super::bulk::RowProblem;
use crate::error::{Error, Result};
use rolecall_bulk::{AdminRightRef, ListChange, ProfileRef, RoleRef, Template};
use rolecall_core::admin::AdminRight;
use rolecall_core::authz::ProfileId;
use rolecall_core::model::{GroupId, RoleId};
use rolecall_core::Error as DomainError;
use std::collections::{BTreeSet, HashMap};

/// The parts of a row, named by each template's column.
#[derive(Debug, Clone, Copy)]
pub(super) enum Part {
    Email,
    Username,
    FirstName,
    LastName,
    Status,
    Groups,
    Profiles,
    Roles,
    AdminRights,
    DeveloperAccess,
    IdentityType,
    CountryCode,
}

pub(super) fn column(t: Template, p: Part) -> &'static str {
    match (t, p) {
        (Template::Console, Part::Email) => "Email",
        (Template::Console, Part::Username) => "Username",
        (Template::Console, Part::FirstName) => "First Name",
        (Template::Console, Part::LastName) => "Last Name",
        // The Admin Console template has no status or role columns; such problems come from
        // the row as a whole (a new user's status) and are named after the e-mail.
        (Template::Console, Part::Status) => "Email",
        (Template::Console, Part::Groups) => "User Groups",
        (Template::Console, Part::Profiles) => "Product Configurations",
        (Template::Console, Part::Roles) => "Product Configurations",
        (Template::Console, Part::AdminRights) => "Admin Roles",
        (Template::Console, Part::DeveloperAccess) => "Developer Access",
        (Template::Console, Part::IdentityType) => "Identity Type",
        (Template::Console, Part::CountryCode) => "Country Code",
        (Template::Plain, Part::Email) => "email",
        (Template::Plain, Part::Username) => "username",
        (Template::Plain, Part::FirstName) => "first_name",
        (Template::Plain, Part::LastName) => "last_name",
        (Template::Plain, Part::Status) => "status",
        (Template::Plain, Part::Groups) => "groups",
        (Template::Plain, Part::Profiles) => "profiles",
        (Template::Plain, Part::Roles) => "roles",
        (Template::Plain, Part::AdminRights) => "admin_rights",
        (Template::Plain, Part::DeveloperAccess) => "developer_access",
        // The plain template has no such columns: a problem there is the row's e-mail's.
        (Template::Plain, Part::IdentityType) => "email",
        (Template::Plain, Part::CountryCode) => "email",
    }
}

/// A use case's refusal as row problems; `part` is the column the step reads. Storage and
/// internal failures are not a row's fault: they end the import as errors.
pub(super) fn problems(
    template: Template,
    line: u64,
    part: Part,
    e: Error,
) -> Result<Vec<RowProblem>> {
    let at = |col: &str, rule: &str, reason: String| RowProblem {
        line,
        column: Some(col.to_string()),
        rule: rule.to_string(),
        reason,
    };
    let here = column(template, part);
    Ok(match e {
        Error::Domain(DomainError::Invalid(fields)) => fields
            .into_iter()
            .map(|f| {
                let col = match f.field.as_str() {
                    "email" => column(template, Part::Email),
                    "username" => column(template, Part::Username),
                    "first_name" => column(template, Part::FirstName),
                    "last_name" => column(template, Part::LastName),
                    "status" | "notify" => column(template, Part::Status),
                    "identity_type" => column(template, Part::IdentityType),
                    "country_code" => column(template, Part::CountryCode),
                    _ => here,
                };
                at(col, &f.rule, f.message)
            })
            .collect(),
        Error::Domain(DomainError::Conflict { code, message })
        | Error::Domain(DomainError::Forbidden { code, message }) => vec![at(here, code, message)],
        Error::Domain(DomainError::NotFound { entity, id }) => {
            vec![at(here, "not_found", format!("{entity} {id} not found"))]
        }
        Error::Domain(DomainError::Gone { entity, id }) => {
            vec![at(here, "gone", format!("{entity} {id} was deleted"))]
        }
        Error::Domain(DomainError::PreconditionFailed { .. }) => vec![at(
            here,
            "concurrent_update",
            "the user was changed meanwhile".into(),
        )],
        other => return Err(other),
    })
}

pub(super) fn problem(
    template: Template,
    line: u64,
    part: Part,
    rule: &str,
    reason: String,
) -> RowProblem {
    RowProblem {
        line,
        column: Some(column(template, part).to_string()),
        rule: rule.to_string(),
        reason,
    }
}

/// The organisation's names, loaded once per import (imports name existing objects; they
/// never create groups, roles or profiles).
pub(super) struct Names {
    pub(super) groups: HashMap<String, GroupId>,
    pub(super) roles: HashMap<(String, String), RoleId>,
    /// (application, profile name key) → id.
    pub(super) profiles: HashMap<(String, String), ProfileId>,
    /// profile name key → the applications having a profile of that name.
    pub(super) profile_apps: HashMap<String, Vec<String>>,
    /// application key and display name, lower case → key.
    pub(super) apps: HashMap<String, String>,
}

pub(super) fn fold(s: &str) -> String {
    s.trim().to_lowercase()
}

impl Names {
    pub(super) fn application(
        &self,
        name: &str,
    ) -> std::result::Result<String, (&'static str, String)> {
        self.apps.get(&fold(name)).cloned().ok_or_else(|| {
            (
                "unknown_product",
                format!("no product {name:?} (name it by display name or key)"),
            )
        })
    }

    pub(super) fn group(&self, name: &str) -> std::result::Result<GroupId, (&'static str, String)> {
        self.groups
            .get(&fold(name))
            .copied()
            .ok_or_else(|| ("unknown_group", format!("no user group {name:?}")))
    }

    pub(super) fn role(&self, r: &RoleRef) -> std::result::Result<RoleId, (&'static str, String)> {
        let app = self.application(&r.application)?;
        self.roles
            .get(&(app.clone(), fold(&r.role)))
            .copied()
            .ok_or_else(|| ("unknown_role", format!("no role {:?} in {app}", r.role)))
    }

    pub(super) fn profile(
        &self,
        p: &ProfileRef,
    ) -> std::result::Result<ProfileId, (&'static str, String)> {
        let key = fold(&p.profile);
        let app = match &p.product {
            Some(product) => self.application(product)?,
            None => match self.profile_apps.get(&key).map(Vec::as_slice) {
                Some([one]) => one.clone(),
                Some(many) if many.len() > 1 => {
                    return Err((
                        "ambiguous_profile",
                        format!(
                        "several products have a profile {:?} ({}): write it as Product: Profile",
                        p.profile,
                        many.join(", ")
                    ),
                    ))
                }
                _ => {
                    return Err((
                        "unknown_profile",
                        format!("no product profile {:?}", p.profile),
                    ))
                }
            },
        };
        self.profiles
            .get(&(app.clone(), key))
            .copied()
            .ok_or_else(|| {
                (
                    "unknown_profile",
                    format!("no product profile {:?} in {app}", p.profile),
                )
            })
    }

    pub(super) fn right(
        &self,
        r: &AdminRightRef,
    ) -> std::result::Result<AdminRight, (&'static str, String)> {
        Ok(match r {
            AdminRightRef::System => AdminRight::System,
            AdminRightRef::Deployment => AdminRight::Deployment,
            AdminRightRef::Support => AdminRight::Support,
            AdminRightRef::Storage => AdminRight::Storage,
            AdminRightRef::Product { product } => AdminRight::Product {
                application: self.application(product)?,
            },
            AdminRightRef::ProductProfile { profile } => AdminRight::ProductProfile {
                profile_id: self.profile(profile)?.0.to_string(),
            },
            AdminRightRef::UserGroup { group } => AdminRight::UserGroup {
                group_id: self.group(group)?.0.to_string(),
            },
        })
    }
}

/// What a list column asks for, after resolving names: `None` when the column is absent.
pub(super) struct Wanted<T> {
    pub(super) items: BTreeSet<T>,
    pub(super) replace: bool,
}

impl<T: Ord> Wanted<T> {
    /// Whether someone holding `have` already has what the column asks: every item, and with
    /// a replacing column nothing else. `import_row` changes exactly the differences.
    pub(super) fn met_by(&self, have: &BTreeSet<T>) -> bool {
        self.items.is_subset(have) && (!self.replace || have.is_subset(&self.items))
    }
}

/// Resolves every item of a list column, collecting the names that do not resolve.
pub(super) fn resolve<S: Ord, T: Ord>(
    change: &ListChange<S>,
    problems: &mut Vec<RowProblem>,
    template: Template,
    line: u64,
    part: Part,
    f: impl Fn(&S) -> std::result::Result<T, (&'static str, String)>,
) -> Option<Wanted<T>> {
    let (items, replace) = match change {
        ListChange::Unchanged => return None,
        ListChange::Add(s) => (s, false),
        ListChange::Replace(s) => (s, true),
    };
    let mut out = BTreeSet::new();
    for item in items {
        match f(item) {
            Ok(v) => {
                out.insert(v);
            }
            Err((rule, reason)) => problems.push(problem(template, line, part, rule, reason)),
        }
    }
    Some(Wanted {
        items: out,
        replace,
    })
}
