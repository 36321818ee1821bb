//! Organizations, applications and scopes.

use super::audit::Record;
use super::rights::operator_approval;
use super::{check_version, lost_race, new_id, Directory};
use crate::directory::OrgAdmin;
use crate::error::Result;
use crate::store::{directory as q, tokens, Backend};
use rolecall_core::admin::Operation;
use rolecall_core::audit::Party;
use rolecall_core::catalogue::{AppTree, ApplicationDef};
use rolecall_core::change::{Change, Effect, Reach};
use rolecall_core::error::Problems;
use rolecall_core::model::{Millis, OrgId, Organization, Role, RoleId, Scope};
use rolecall_core::validate::{Description, DisplayName, RoleName, ScopeCode, Slug};
use sqlx::AnyConnection;
use std::sync::Arc;

/// Gives an organization an application's built-in `Administrators` role, its template roles
/// and default scopes, skipping what it already has.
pub(super) async fn seed_application(
    c: &mut AnyConnection,
    b: Backend,
    org: OrgId,
    app: &AppTree,
    now: Millis,
) -> Result<()> {
    let mut existing = q::list_roles(c, b, org, Some(app.key()), None).await?;
    // The built-in role is the first thing an organisation gets of an application: without it,
    // the application is being added now.
    let added_now = !existing.iter().any(|r| r.builtin);
    let find = |existing: &[Role], name: &str| {
        let key = name.trim().to_lowercase();
        existing
            .iter()
            .position(|r| r.name.as_str().to_lowercase() == key)
    };
    let mut templates = vec![(
        Role::ADMINISTRATORS.to_string(),
        "Everything, everywhere. Built in; cannot be edited or deleted.".to_string(),
        vec![],
        true,
        Vec::new(),
    )];
    templates.extend(app.def.default_roles.iter().map(|t| {
        (
            t.name.clone(),
            t.description.clone(),
            t.grants.clone(),
            false,
            t.formerly.clone(),
        )
    }));
    for (name, description, grants, builtin, formerly) in templates {
        if find(&existing, &name).is_some() {
            continue;
        }
        let (Ok(name), Ok(description)) = (
            RoleName::parse("name", &name, app.def.role_names),
            Description::parse("description", &description),
        ) else {
            continue;
        };
        // A role shipped under an earlier name is renamed in place: its id, grants and
        // assignments stay, and the organisation never ends up with both names.
        let renamed = formerly
            .iter()
            .find_map(|old| find(&existing, old))
            .filter(|&i| !existing[i].builtin);
        if let Some(i) = renamed {
            let current = existing[i].clone();
            let next = Role {
                name,
                version: current.version + 1,
                updated_at: now,
                ..current.clone()
            };
            q::update_role(c, b, &next, current.version).await?;
            existing[i] = next;
            continue;
        }
        let role = Role {
            id: RoleId(new_id()),
            org_id: org,
            application: app.key().to_string(),
            name,
            description,
            builtin,
            grants,
            scopes: vec![],
            version: 1,
            created_at: now,
            updated_at: now,
        };
        q::insert_role(c, b, &role).await?;
        existing.push(role);
    }
    if added_now {
        for t in &app.def.default_profiles {
            let (Ok(name), Ok(description)) = (
                DisplayName::parse("name", &t.name),
                Description::parse("description", &t.description),
            ) else {
                continue;
            };
            let roles = t
                .roles
                .iter()
                .filter_map(|r| find(&existing, r).map(|i| existing[i].id))
                .collect();
            let profile = crate::store::profiles::Profile {
                id: rolecall_core::authz::ProfileId(new_id()),
                org_id: org,
                application: app.key().to_string(),
                name,
                description,
                seat_quota: t.seat_quota,
                roles,
                version: 1,
                created_at: now,
                updated_at: now,
            };
            crate::store::profiles::insert_profile(c, b, &profile).await?;
        }
    }
    let scopes = q::list_scopes(c, b, org, Some(app.key())).await?;
    let root = app.def.scope_kinds.first().cloned().unwrap_or_default();
    for s in &app.def.default_scopes {
        if scopes.iter().any(|(_, x)| x.code.as_str() == s.code) {
            continue;
        }
        let (Ok(code), parent) = (
            ScopeCode::parse("code", &s.code),
            if s.parent == root {
                None
            } else {
                ScopeCode::parse("parent", &s.parent).ok()
            },
        ) else {
            continue;
        };
        let scope = Scope {
            code,
            kind: s.kind.clone(),
            parent,
            name: s.name.clone(),
        };
        q::insert_scope(c, b, org, app.key(), &scope, now).await?;
    }
    Ok(())
}

/// Scopes shape where every role of the application applies, so they change the access of
/// everyone using it.
fn scope_change(app: &str) -> Change {
    Change::new(Operation::ManageScopes)
        .reaching(Reach::Application(app.to_string()))
        .affecting(Effect::ApplicationUsers(app.to_string()))
}

fn org_target(org: &Organization) -> Party {
    Party::new("organization", org.id, org.slug.as_str())
}

impl Directory {
    pub async fn create_org(&self, slug: &str, name: &str) -> Result<Organization> {
        self.create_org_of_kind(slug, name, rolecall_core::admin::OrgKind::Enterprise)
            .await
    }

    pub async fn create_org_of_kind(
        &self,
        slug: &str,
        name: &str,
        kind: rolecall_core::admin::OrgKind,
    ) -> Result<Organization> {
        let mut p = Problems::new();
        let slug = p.check(Slug::parse("slug", slug));
        let name = p.check(DisplayName::parse("name", name));
        p.into_result()?;
        let (Some(slug), Some(name)) = (slug, name) else {
            unreachable!("problems checked")
        };
        let now = self.now();
        let org = Organization {
            id: OrgId(new_id()),
            slug,
            name,
            kind,
            owner_id: None,
            version: 1,
            created_at: now,
            updated_at: now,
        };
        let b = self.backend();
        let mut w = self.db.write().await?;
        q::insert_org(&mut w.tx, b, &org).await?;
        crate::store::audit::create_head(&mut w.tx, b, &org.id.to_string(), now).await?;
        for app in &self.catalogue().apps {
            seed_application(&mut w.tx, b, org.id, app, now).await?;
        }
        // Creating organisations is the server operator's (the handler requires a server token).
        let ok = operator_approval(Operation::ManageSettings);
        self.record(
            &mut w,
            &OrgAdmin::operator(org.clone()),
            Record::new("organization_created", org_target(&org)).between(None, Some(&org)),
        )
        .await?;
        self.commit_rights(w, org.id, ok, true).await?;
        Ok(org)
    }

    pub async fn list_orgs(&self) -> Result<Vec<Organization>> {
        let mut c = self.db.pool.acquire().await?;
        q::list_orgs(&mut c, self.backend()).await
    }

    /// Renames the organisation; the log names `admin`, whoever they are.
    pub async fn rename_org(
        &self,
        admin: &OrgAdmin,
        name: &str,
        if_match: Option<i64>,
    ) -> Result<Organization> {
        let org = &admin.org;
        let name =
            DisplayName::parse("name", name).map_err(|e| rolecall_core::Error::Invalid(vec![e]))?;
        let b = self.backend();
        let mut w = self.db.write().await?;
        let current = q::lock_org(&mut w.tx, b, org.id)
            .await?
            .ok_or_else(|| rolecall_core::Error::not_found("organization", org.id))?;
        check_version(if_match, current.version)?;
        let updated = Organization {
            name,
            version: current.version + 1,
            updated_at: self.now(),
            ..current.clone()
        };
        if !q::update_org(&mut w.tx, b, &updated, current.version).await? {
            return Err(lost_race("organization"));
        }
        self.record(
            &mut w,
            admin,
            Record::new("organization_renamed", org_target(&current))
                .between(Some(&current), Some(&updated)),
        )
        .await?;
        w.commit().await?;
        Ok(updated)
    }

    // ------------------------------------------------------------ applications

    /// Adds or replaces an application definition for every organization.
    pub async fn put_application(&self, def: ApplicationDef) -> Result<Arc<AppTree>> {
        let json = serde_json::to_string(&def)?;
        let tree = AppTree::compile(def)?;
        let key = tree.key().to_string();
        let version = self.catalogue().get(&key).map(|_| 2).unwrap_or(1);
        let b = self.backend();
        let now = self.now();
        let mut w = self.db.write().await?;
        q::upsert_app(&mut w.tx, b, &key, &json, version, now).await?;
        let before = self.catalogue().get(&key).map(|t| t.def.clone());
        for org in q::list_orgs(&mut w.tx, b).await? {
            seed_application(&mut w.tx, b, org.id, &tree, now).await?;
            // The catalogue is shared: every organisation's log shows the change.
            let record = Record::new(
                "application_changed",
                Party::new("application", &key, tree.def.name.as_str()),
            )
            .changes(rolecall_core::audit::field(
                "definition",
                serde_json::to_value(&before).unwrap_or_default(),
                serde_json::to_value(&tree.def).unwrap_or_default(),
            ));
            self.record(&mut w, &OrgAdmin::operator(org), record)
                .await?;
        }
        q::bump_all_epochs(&mut w.tx).await?;
        w.commit().await?;
        let next = self.catalogue().with(tree);
        self.set_catalogue(next);
        for org in self.list_orgs().await? {
            self.recompile(org.id).await?;
        }
        self.catalogue()
            .get(&key)
            .cloned()
            .ok_or_else(|| crate::error::Error::Internal("application vanished".into()))
    }

    fn set_catalogue(&self, c: super::Catalogue) {
        self.catalogue.store(Arc::new(c));
    }

    /// Re-reads application definitions changed by other nodes.
    pub async fn reload_catalogue(&self) -> Result<()> {
        let mut c = self.db.pool.acquire().await?;
        let overrides = q::list_app_overrides(&mut c).await?;
        let current = self.catalogue();
        let changed = overrides.iter().any(|(k, json, _)| {
            current
                .get(k)
                .map(|t| serde_json::to_string(&t.def).ok().as_deref() != Some(json.as_str()))
                .unwrap_or(true)
        });
        if changed {
            let mut next = (*current).clone();
            for (_, json, _) in overrides {
                if let Ok(def) = serde_json::from_str::<ApplicationDef>(&json) {
                    if let Ok(tree) = AppTree::compile(def) {
                        next = next.with(tree);
                    }
                }
            }
            self.set_catalogue(next);
        }
        Ok(())
    }

    // ------------------------------------------------------------ scopes

    pub async fn list_scopes(&self, org: &Organization, app: &str) -> Result<Vec<Scope>> {
        let tree = self.catalogue().require_in_path(app)?.clone();
        let mut c = self.db.pool.acquire().await?;
        let root = tree.def.scope_kinds[0].clone();
        let mut out = vec![Scope {
            code: ScopeCode::parse("code", &root)
                .map_err(|e| rolecall_core::Error::Invalid(vec![e]))?,
            kind: root.clone(),
            parent: None,
            name: "Root".into(),
        }];
        let mut rest: Vec<Scope> = q::list_scopes(&mut c, self.backend(), org.id, Some(app))
            .await?
            .into_iter()
            .map(|(_, s)| s)
            .collect();
        // Pre-order: each scope right after its parent, siblings by code.
        rest.sort_by(|a, b| a.code.cmp(&b.code));
        fn take_children(parent: Option<&str>, rest: &mut Vec<Scope>, out: &mut Vec<Scope>) {
            let mut i = 0;
            while i < rest.len() {
                if rest[i].parent.as_ref().map(|p| p.as_str()) == parent {
                    let s = rest.remove(i);
                    let code = s.code.as_str().to_string();
                    out.push(s);
                    take_children(Some(&code), rest, out);
                } else {
                    i += 1;
                }
            }
        }
        take_children(None, &mut rest, &mut out);
        out.extend(rest);
        Ok(out)
    }

    /// Adds a scope below `parent` (the root when `None`); its kind is the level below the parent's.
    pub async fn create_scope(
        &self,
        admin: &OrgAdmin,
        app: &str,
        code: &str,
        parent: Option<&str>,
        name: &str,
    ) -> Result<Scope> {
        let mut w = self.db.write().await?;
        let (ok, changed, out) = self
            .create_scope_in(&mut w, admin, app, code, parent, name)
            .await?;
        self.commit_rights(w, admin.org.id, ok, changed).await?;
        Ok(out)
    }

    pub(crate) async fn create_scope_in(
        &self,
        w: &mut crate::store::WriteTx,
        admin: &OrgAdmin,
        app: &str,
        code: &str,
        parent: Option<&str>,
        name: &str,
    ) -> Result<(rolecall_core::change::Approved, bool, Scope)> {
        let org = &admin.org;
        let tree = self.catalogue().require_in_path(app)?.clone();
        let kinds = &tree.def.scope_kinds;
        let code =
            ScopeCode::parse("code", code).map_err(|e| rolecall_core::Error::Invalid(vec![e]))?;
        if !name.is_empty() {
            // The display name's rules: 100 characters, no control or bidirectional characters.
            DisplayName::parse("name", name).map_err(|e| rolecall_core::Error::Invalid(vec![e]))?;
        }
        if code.as_str() == kinds[0] {
            return Err(rolecall_core::Error::invalid(
                "code",
                "unique",
                "the root scope already exists",
            )
            .into());
        }
        let b = self.backend();
        let existing = q::list_scopes(&mut w.tx, b, org.id, Some(app)).await?;
        let parent_kind = match parent {
            None => 0,
            Some(p) if p == kinds[0] => 0,
            Some(p) => {
                let found = existing.iter().find(|(_, s)| s.code.as_str() == p);
                let Some((_, ps)) = found else {
                    return Err(rolecall_core::Error::invalid(
                        "parent",
                        "unknown_scope",
                        format!("no scope {p:?} in {app}"),
                    )
                    .into());
                };
                kinds.iter().position(|k| *k == ps.kind).unwrap_or(0)
            }
        };
        let Some(kind) = kinds.get(parent_kind + 1) else {
            return Err(rolecall_core::Error::invalid(
                "parent",
                "scope_hierarchy",
                format!("{} scopes cannot have children", kinds[parent_kind]),
            )
            .into());
        };
        let parent = match parent {
            Some(p) if p != kinds[0] => Some(
                ScopeCode::parse("parent", p)
                    .map_err(|e| rolecall_core::Error::Invalid(vec![e]))?,
            ),
            _ => None,
        };
        let scope = Scope {
            code,
            kind: kind.clone(),
            parent,
            name: name.to_string(),
        };
        let ok = self.approve(&mut w.tx, admin, scope_change(app)).await?;
        q::insert_scope(&mut w.tx, b, org.id, app, &scope, self.now()).await?;
        let target = Party::new(
            "scope",
            format!("{app}/{}", scope.code.as_str()),
            scope.name.as_str(),
        );
        self.record(
            w,
            admin,
            Record::new("scope_created", target).between(None, Some(&scope)),
        )
        .await?;
        Ok((ok, true, scope))
    }

    /// Deletes a leaf scope that no role is limited to.
    pub async fn delete_scope(&self, admin: &OrgAdmin, app: &str, code: &str) -> Result<()> {
        let org = &admin.org;
        self.catalogue().require_in_path(app)?;
        let b = self.backend();
        let mut w = self.db.write().await?;
        let existing = q::list_scopes(&mut w.tx, b, org.id, Some(app)).await?;
        let Some((_, gone)) = existing.iter().find(|(_, s)| s.code.as_str() == code) else {
            return Err(rolecall_core::Error::not_found("scope", code).into());
        };
        let record = Record::new(
            "scope_deleted",
            Party::new("scope", format!("{app}/{code}"), gone.name.as_str()),
        )
        .between(Some(gone), None);
        if existing
            .iter()
            .any(|(_, s)| s.parent.as_ref().is_some_and(|p| p.as_str() == code))
        {
            return Err(rolecall_core::Error::conflict(
                "scope_has_children",
                format!("scope {code} has child scopes; delete them first"),
            )
            .into());
        }
        let users_of: Vec<String> = q::list_roles(&mut w.tx, b, org.id, Some(app), None)
            .await?
            .into_iter()
            .filter(|r| r.scopes.iter().any(|s| s.as_str() == code))
            .map(|r| r.name.into_string())
            .collect();
        if !users_of.is_empty() {
            return Err(rolecall_core::Error::conflict(
                "scope_in_use",
                format!("roles {} are limited to scope {code}", users_of.join(", ")),
            )
            .into());
        }
        let ok = self.approve(&mut w.tx, admin, scope_change(app)).await?;
        q::delete_scope(&mut w.tx, b, org.id, app, code).await?;
        self.record(&mut w, admin, record).await?;
        self.commit_rights(w, org.id, ok, true).await?;
        Ok(())
    }

    // ------------------------------------------------------------ tokens

    /// Creates a bearer token and returns its secret, which is shown this once only.
    pub async fn create_token(&self, name: &str, org: Option<OrgId>) -> Result<String> {
        let secret = crate::credentials::secret::new_secret();
        let b = self.backend();
        let mut w = self.db.write().await?;
        let id = new_id().to_string();
        tokens::insert(
            &mut w.tx,
            b,
            &id,
            &crate::credentials::secret::hash_secret(&secret),
            name,
            org,
            self.now(),
        )
        .await?;
        // A server-wide token belongs to no organisation's log; an organisation's is in it.
        if let Some(org) = org {
            if let Some(org) = q::find_org(&mut w.tx, b, &org.to_string()).await? {
                self.record(
                    &mut w,
                    &OrgAdmin::operator(org),
                    Record::new("token_created", Party::new("token", &id, name)),
                )
                .await?;
            }
        }
        w.commit().await?;
        Ok(secret)
    }

    pub async fn is_initialised(&self) -> Result<bool> {
        let mut c = self.db.pool.acquire().await?;
        Ok(tokens::count_server_tokens(&mut c).await? > 0
            || !q::list_orgs(&mut c, self.backend()).await?.is_empty())
    }
}
