//! Bulk export of user files (issue 12): the organisation's people in the Adobe Admin Console
//! template or rolecall's plain template, written by `rolecall_bulk`'s writers page by page
//! (users by e-mail key, with their groups, direct roles, direct seats and admin rights read one
//! query per kind per page), so memory is bounded by the page, not the organisation. The pages
//! come from one read transaction, so the file is one consistent state; the writers' rules
//! (sorting, quoting, refusing what would not read back) make export → import → export
//! byte-identical.

use super::Directory;
use crate::error::Result;
use crate::store::bulk as bq;
use crate::store::Backend;
use rolecall_bulk::{
    write_console, write_plain, AdminRightRef, AdminRole, ConsoleRow, IdentityType, LineEnding,
    Operation as RowOperation, PlainRow, ProfileRef, RoleRef, Status, WriteError, WriteOptions,
};
use rolecall_core::model::IdentityType as CoreIdentity;
use rolecall_core::model::{Organization, User, UserStatus};
use std::collections::{BTreeSet, HashMap};

/// Users per page of an export.
const PAGE: i64 = 1000;

/// Which template an export writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ExportTemplate {
    /// The Adobe Admin Console bulk-upload template (no status or roles columns).
    Console,
    /// rolecall's plain template (everything, exactly).
    Plain,
}

/// The organisation's names for what users hold, loaded once per export.
struct Catalog {
    groups: HashMap<String, String>,
    /// role id → (application key, name)
    roles: HashMap<String, (String, String)>,
    /// profile id → (application key, name)
    profiles: HashMap<String, (String, String)>,
    /// profile name (lower case) → how many applications have one of that name
    profile_names: HashMap<String, usize>,
    /// application key → display name
    app_names: HashMap<String, String>,
}

/// What one user holds directly, by id.
#[derive(Default)]
struct Held {
    groups: Vec<String>,
    roles: Vec<String>,
    profiles: Vec<String>,
    rights: Vec<(String, String)>,
}

/// An export refused: a row the template cannot spell.
fn unwritable(e: WriteError) -> crate::error::Error {
    match e {
        WriteError::Io { message } => crate::error::Error::Internal(message),
        other => rolecall_core::Error::conflict("unexportable", other.to_string()).into(),
    }
}

/// Streams the pages of one export; [`Exporter::next_page`] gives the bytes of the next one.
pub struct Exporter {
    tx: sqlx::Transaction<'static, sqlx::Any>,
    backend: Backend,
    org: Organization,
    template: ExportTemplate,
    catalog: Catalog,
    after: String,
    first: bool,
    done: bool,
}

impl Directory {
    /// Starts an export of `org`'s people (service accounts are their credentials' business).
    pub async fn export_users(
        &self,
        org: &Organization,
        template: ExportTemplate,
    ) -> Result<Exporter> {
        let b = self.backend();
        let mut tx = self.db.pool.begin().await?;
        if b == Backend::Postgres {
            sqlx::query("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY")
                .execute(&mut *tx)
                .await?;
        }
        let mut catalog = Catalog {
            groups: HashMap::new(),
            roles: HashMap::new(),
            profiles: HashMap::new(),
            profile_names: HashMap::new(),
            app_names: HashMap::new(),
        };
        for (id, name) in bq::groups(&mut tx, b, org.id).await? {
            catalog.groups.insert(id.0.to_string(), name);
        }
        for (id, app, name) in bq::roles(&mut tx, b, org.id).await? {
            catalog.roles.insert(id.0.to_string(), (app, name));
        }
        for (id, app, name) in bq::profiles(&mut tx, b, org.id).await? {
            *catalog
                .profile_names
                .entry(name.to_lowercase())
                .or_default() += 1;
            catalog.profiles.insert(id.0.to_string(), (app, name));
        }
        for app in &self.catalogue().apps {
            catalog
                .app_names
                .insert(app.def.key.clone(), app.def.name.clone());
        }
        Ok(Exporter {
            tx,
            backend: b,
            org: org.clone(),
            template,
            catalog,
            after: String::new(),
            first: true,
            done: false,
        })
    }
}

impl Exporter {
    /// The bytes of the next page (the header with the first), `None` after the last.
    pub async fn next_page(&mut self) -> Result<Option<Vec<u8>>> {
        if self.done {
            return Ok(None);
        }
        let b = self.backend;
        let users = bq::people_page(&mut self.tx, b, self.org.id, &self.after, PAGE).await?;
        let Some(last) = users.last() else {
            self.done = true;
            // An organisation without people still gets its header line.
            return Ok(if self.first {
                self.first = false;
                Some(self.write(&[])?)
            } else {
                None
            });
        };
        let last_key = last.email.key();
        let mut held: HashMap<String, Held> = HashMap::new();
        for (user, id) in
            bq::page_groups(&mut self.tx, b, self.org.id, &self.after, &last_key).await?
        {
            held.entry(user).or_default().groups.push(id);
        }
        for (user, id) in
            bq::page_roles(&mut self.tx, b, self.org.id, &self.after, &last_key).await?
        {
            held.entry(user).or_default().roles.push(id);
        }
        for (user, id) in
            bq::page_profiles(&mut self.tx, b, self.org.id, &self.after, &last_key).await?
        {
            held.entry(user).or_default().profiles.push(id);
        }
        for (user, kind, target) in
            bq::page_rights(&mut self.tx, b, self.org.id, &self.after, &last_key).await?
        {
            held.entry(user).or_default().rights.push((kind, target));
        }
        self.after = last_key;
        let empty = Held::default();
        let rows: Vec<(&User, &Held)> = users
            .iter()
            .map(|u| (u, held.get(&u.id.to_string()).unwrap_or(&empty)))
            .collect();
        let bytes = self.write(&rows)?;
        if (users.len() as i64) < PAGE {
            self.done = true;
        }
        Ok(Some(bytes))
    }

    /// Writes one page; every page but the first without the header line.
    fn write(&mut self, rows: &[(&User, &Held)]) -> Result<Vec<u8>> {
        let options = WriteOptions {
            line_ending: LineEnding::Crlf,
            bom: false,
        };
        let mut out = Vec::new();
        match self.template {
            ExportTemplate::Plain => {
                let rows: Vec<PlainRow> = rows.iter().map(|(u, h)| self.plain_row(u, h)).collect();
                write_plain(&rows, &mut out, options).map_err(unwritable)?;
            }
            ExportTemplate::Console => {
                let rows: Vec<ConsoleRow> =
                    rows.iter().map(|(u, h)| self.console_row(u, h)).collect();
                write_console(&rows, &mut out, options).map_err(unwritable)?;
            }
        }
        if !self.first {
            let header_end = out.iter().position(|&c| c == b'\n').map_or(0, |i| i + 1);
            out.drain(..header_end);
        }
        self.first = false;
        Ok(out)
    }

    fn right(&self, kind: &str, target: &str) -> Option<AdminRightRef> {
        let c = &self.catalog;
        Some(match kind {
            "system" => AdminRightRef::System,
            "deployment" => AdminRightRef::Deployment,
            "support" => AdminRightRef::Support,
            "storage" => AdminRightRef::Storage,
            "product" => AdminRightRef::Product {
                product: target.to_string(),
            },
            "product_profile" => {
                let (app, name) = c.profiles.get(target)?;
                AdminRightRef::ProductProfile {
                    profile: ProfileRef {
                        product: Some(app.clone()),
                        profile: name.clone(),
                    },
                }
            }
            "user_group" => AdminRightRef::UserGroup {
                group: c.groups.get(target)?.clone(),
            },
            _ => return None,
        })
    }

    fn plain_row(&self, u: &User, h: &Held) -> PlainRow {
        let c = &self.catalog;
        PlainRow {
            operation: RowOperation::Upsert,
            username: u.username.as_str().to_string(),
            email: u.email.as_str().to_string(),
            first_name: u.first_name.as_str().to_string(),
            last_name: u.last_name.as_str().to_string(),
            status: Some(match u.status {
                UserStatus::Invited => Status::Invited,
                UserStatus::Active => Status::Active,
                UserStatus::Inactive => Status::Inactive,
            }),
            groups: h
                .groups
                .iter()
                .filter_map(|g| c.groups.get(g).cloned())
                .collect(),
            roles: h
                .roles
                .iter()
                .filter_map(|r| c.roles.get(r))
                .map(|(app, name)| RoleRef {
                    application: app.clone(),
                    role: name.clone(),
                })
                .collect(),
            profiles: h
                .profiles
                .iter()
                .filter_map(|p| c.profiles.get(p))
                .map(|(app, name)| ProfileRef {
                    product: Some(app.clone()),
                    profile: name.clone(),
                })
                .collect(),
            admin_rights: h
                .rights
                .iter()
                .filter_map(|(k, t)| self.right(k, t))
                .collect(),
        }
    }

    /// A profile as the Admin Console names it: bare, or `Product: Profile` when several
    /// products have a profile of that name.
    fn console_profile(&self, app: &str, name: &str) -> ProfileRef {
        let c = &self.catalog;
        let ambiguous = c
            .profile_names
            .get(&name.to_lowercase())
            .copied()
            .unwrap_or(0)
            > 1;
        ProfileRef {
            product: ambiguous.then(|| {
                c.app_names
                    .get(app)
                    .cloned()
                    .unwrap_or_else(|| app.to_string())
            }),
            profile: name.to_string(),
        }
    }

    fn console_row(&self, u: &User, h: &Held) -> ConsoleRow {
        let c = &self.catalog;
        let username = u.username.as_str().to_string();
        let email = u.email.as_str().to_string();
        let domain = if username.contains('@') {
            &username
        } else {
            &email
        }
        .rsplit_once('@')
        .map(|(_, d)| d.to_string())
        .unwrap_or_default();
        let mut admin_roles = BTreeSet::new();
        let mut profiles_administered = BTreeSet::new();
        let mut user_groups_administered = BTreeSet::new();
        let mut products_administered = BTreeSet::new();
        for (kind, target) in &h.rights {
            match kind.as_str() {
                "system" => {
                    admin_roles.insert(AdminRole::System);
                }
                "deployment" => {
                    admin_roles.insert(AdminRole::Deployment);
                }
                "support" => {
                    admin_roles.insert(AdminRole::Support);
                }
                "storage" => {
                    admin_roles.insert(AdminRole::Storage);
                }
                "product" => {
                    admin_roles.insert(AdminRole::Product);
                    products_administered.insert(
                        c.app_names
                            .get(target)
                            .cloned()
                            .unwrap_or_else(|| target.clone()),
                    );
                }
                "product_profile" => {
                    if let Some((app, name)) = c.profiles.get(target) {
                        admin_roles.insert(AdminRole::ProductProfile);
                        profiles_administered.insert(self.console_profile(app, name));
                    }
                }
                "user_group" => {
                    if let Some(g) = c.groups.get(target) {
                        admin_roles.insert(AdminRole::UserGroup);
                        user_groups_administered.insert(g.clone());
                    }
                }
                _ => {}
            }
        }
        ConsoleRow {
            identity_type: match u.profile.identity_type {
                CoreIdentity::AdobeId => IdentityType::AdobeId,
                CoreIdentity::EnterpriseId => IdentityType::EnterpriseId,
                CoreIdentity::FederatedId => IdentityType::FederatedId,
            },
            username,
            domain,
            email,
            first_name: u.first_name.as_str().to_string(),
            last_name: u.last_name.as_str().to_string(),
            country_code: u
                .profile
                .country_code
                .as_ref()
                .map(|c| c.as_str().to_string()),
            product_configurations: h
                .profiles
                .iter()
                .filter_map(|p| c.profiles.get(p))
                .map(|(app, name)| self.console_profile(app, name))
                .collect(),
            admin_roles,
            profiles_administered,
            user_groups: h
                .groups
                .iter()
                .filter_map(|g| c.groups.get(g).cloned())
                .collect(),
            user_groups_administered,
            products_administered,
            developer_access: BTreeSet::new(),
        }
    }
}
