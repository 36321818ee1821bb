//! Roles, their grants and scope limits, and the checks applications call.

use super::audit::Record;
use super::{check_version, lost_race, new_id, Directory};
use crate::directory::OrgAdmin;
use crate::error::Result;
use crate::store::directory as q;
use rolecall_core::admin::Operation;
use rolecall_core::authz::{Decision, EffectivePermission, Explanation, Query, Reason};
use rolecall_core::catalogue::AppTree;
use rolecall_core::change::{Change, Effect, Reach};
use rolecall_core::error::Problems;
use rolecall_core::model::{Grant, Organization, Role, RoleId, UserId};
use rolecall_core::validate::{Description, RoleName, ScopeCode};
use rolecall_core::{Error as DomainError, FieldError};
use rustc_hash::FxHashMap;
use serde::Deserialize;

/// Editing or deleting a role changes the access of everyone holding it.
fn role_definition(role: &Role) -> Change {
    Change::new(Operation::ManageRoles)
        .reaching(Reach::Application(role.application.clone()))
        .affecting(Effect::RoleHolders(role.id))
}

#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewRole {
    pub application: String,
    pub name: String,
    pub description: Option<String>,
    #[serde(default)]
    pub grants: Vec<Grant>,
    /// Scope codes the role is limited to; empty or absent means everywhere.
    #[serde(default)]
    pub scopes: Vec<String>,
}

#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RolePatch {
    pub name: Option<String>,
    pub description: Option<String>,
    pub grants: Option<Vec<Grant>>,
    pub scopes: Option<Vec<String>>,
}

fn builtin_refused(role: &Role) -> crate::error::Error {
    DomainError::conflict("builtin_role", format!("{} is built in: it grants everything everywhere and cannot be edited, narrowed or deleted", role.name))
        .into()
}

fn role_target(r: &Role) -> rolecall_core::audit::Party {
    rolecall_core::audit::Party::new(
        "role",
        r.id,
        format!("{} ({})", r.name.as_str(), r.application),
    )
}

impl Directory {
    fn validate_scopes(
        &self,
        p: &mut Problems,
        tree: &AppTree,
        known: &[String],
        scopes: &[String],
    ) -> Vec<ScopeCode> {
        let mut out = Vec::new();
        for (i, s) in scopes.iter().enumerate() {
            let field = format!("scopes[{i}]");
            if s == &tree.def.scope_kinds[0] {
                p.push(FieldError::new(
                    field,
                    "root_scope",
                    "the root scope is everywhere; leave scopes empty instead",
                ));
                continue;
            }
            if !known.contains(s) {
                p.push(FieldError::new(
                    field,
                    "unknown_scope",
                    format!("no scope {s:?} in {}", tree.key()),
                ));
                continue;
            }
            if let Some(code) = p.check(ScopeCode::parse(&field, s)) {
                if !out.contains(&code) {
                    out.push(code);
                }
            }
        }
        out
    }

    pub async fn create_role(&self, admin: &OrgAdmin, input: NewRole) -> Result<Role> {
        let mut w = self.db.write().await?;
        let (ok, changed, out) = self.create_role_in(&mut w, admin, input).await?;
        self.commit_rights(w, admin.org.id, ok, changed).await?;
        Ok(out)
    }

    pub(crate) async fn create_role_in(
        &self,
        w: &mut crate::store::WriteTx,
        admin: &OrgAdmin,
        input: NewRole,
    ) -> Result<(rolecall_core::change::Approved, bool, Role)> {
        let org = &admin.org;
        let catalogue = self.catalogue();
        let tree = catalogue
            .require("application", &input.application)?
            .clone();
        let b = self.backend();
        let known: Vec<String> = q::list_scopes(&mut w.tx, b, org.id, Some(tree.key()))
            .await?
            .into_iter()
            .map(|(_, s)| s.code.into_string())
            .collect();
        let mut p = Problems::new();
        let name = p.check(RoleName::parse("name", &input.name, tree.def.role_names));
        if input.name.trim().eq_ignore_ascii_case(Role::ADMINISTRATORS) {
            p.push(FieldError::new(
                "name",
                "unique",
                "Administrators is the built-in role",
            ));
        }
        let description = p.check(Description::parse(
            "description",
            input.description.as_deref().unwrap_or(""),
        ));
        for e in tree.validate_grants("grants", &input.grants) {
            p.push(e);
        }
        let scopes = self.validate_scopes(&mut p, &tree, &known, &input.scopes);
        p.into_result()?;
        let (Some(name), Some(description)) = (name, description) else {
            unreachable!("problems checked")
        };
        let now = self.now();
        let role = Role {
            id: RoleId(new_id()),
            org_id: org.id,
            application: tree.key().to_string(),
            name,
            description,
            builtin: false,
            grants: rolecall_core::catalogue::collapse_grants(input.grants),
            scopes,
            version: 1,
            created_at: now,
            updated_at: now,
        };
        let ok = self
            .approve(
                &mut w.tx,
                admin,
                Change::new(Operation::ManageRoles)
                    .reaching(Reach::Application(role.application.clone())),
            )
            .await?;
        q::insert_role(&mut w.tx, b, &role).await?;
        self.record(
            w,
            admin,
            Record::new("role_created", role_target(&role)).between(None, Some(&role)),
        )
        .await?;
        Ok((ok, true, role))
    }

    pub async fn get_role(&self, org: &Organization, id: RoleId) -> Result<Role> {
        let mut c = self.db.pool.acquire().await?;
        q::get_role(&mut c, self.backend(), org.id, id)
            .await?
            .ok_or_else(|| DomainError::not_found("role", id).into())
    }

    pub async fn list_roles(
        &self,
        org: &Organization,
        application: Option<&str>,
        q_text: Option<&str>,
    ) -> Result<Vec<Role>> {
        if let Some(a) = application {
            self.catalogue().require("application", a)?;
        }
        let mut c = self.db.pool.acquire().await?;
        q::list_roles(&mut c, self.backend(), org.id, application, q_text).await
    }

    pub async fn update_role(
        &self,
        admin: &OrgAdmin,
        id: RoleId,
        patch: RolePatch,
        if_match: Option<i64>,
    ) -> Result<Role> {
        let org = &admin.org;
        let b = self.backend();
        let mut w = self.db.write().await?;
        let current = q::lock_role(&mut w.tx, b, org.id, id)
            .await?
            .ok_or_else(|| DomainError::not_found("role", id))?;
        check_version(if_match, current.version)?;
        if current.builtin {
            return Err(builtin_refused(&current));
        }
        let catalogue = self.catalogue();
        let tree = catalogue
            .require("application", &current.application)?
            .clone();
        let mut next = current.clone();
        let mut p = Problems::new();
        if let Some(n) = &patch.name {
            if n.trim().eq_ignore_ascii_case(Role::ADMINISTRATORS) {
                p.push(FieldError::new(
                    "name",
                    "unique",
                    "Administrators is the built-in role",
                ));
            }
            if let Some(v) = p.check(RoleName::parse("name", n, tree.def.role_names)) {
                next.name = v;
            }
        }
        if let Some(d) = &patch.description {
            if let Some(v) = p.check(Description::parse("description", d)) {
                next.description = v;
            }
        }
        if let Some(g) = patch.grants {
            for e in tree.validate_grants("grants", &g) {
                p.push(e);
            }
            next.grants = rolecall_core::catalogue::collapse_grants(g);
        }
        if let Some(s) = &patch.scopes {
            let known: Vec<String> = q::list_scopes(&mut w.tx, b, org.id, Some(tree.key()))
                .await?
                .into_iter()
                .map(|(_, s)| s.code.into_string())
                .collect();
            next.scopes = self.validate_scopes(&mut p, &tree, &known, s);
        }
        p.into_result()?;
        let ok = self
            .approve(&mut w.tx, admin, role_definition(&current))
            .await?;
        next.version += 1;
        next.updated_at = self.now();
        if !q::update_role(&mut w.tx, b, &next, current.version).await? {
            return Err(lost_race("role"));
        }
        self.record(
            &mut w,
            admin,
            Record::new("role_updated", role_target(&current)).between(Some(&current), Some(&next)),
        )
        .await?;
        self.commit_rights(w, org.id, ok, true).await?;
        Ok(next)
    }

    /// Deletes a role and its assignments; users and groups are never deleted with it.
    pub async fn delete_role(
        &self,
        admin: &OrgAdmin,
        id: RoleId,
        if_match: Option<i64>,
    ) -> Result<()> {
        let org = &admin.org;
        let b = self.backend();
        let mut w = self.db.write().await?;
        let current = q::lock_role(&mut w.tx, b, org.id, id)
            .await?
            .ok_or_else(|| DomainError::not_found("role", id))?;
        check_version(if_match, current.version)?;
        if current.builtin {
            return Err(builtin_refused(&current));
        }
        let ok = self
            .approve(&mut w.tx, admin, role_definition(&current))
            .await?;
        q::delete_role(&mut w.tx, b, id).await?;
        self.record(
            &mut w,
            admin,
            Record::new("role_deleted", role_target(&current)).between(Some(&current), None),
        )
        .await?;
        self.commit_rights(w, org.id, ok, true).await?;
        Ok(())
    }

    // ------------------------------------------------------------ checks

    pub async fn check(
        &self,
        org: &Organization,
        user: UserId,
        application: &str,
        resource: &str,
        action: Option<&str>,
        scope: Option<&str>,
    ) -> Result<Explanation> {
        let compiled = self.decision_snapshot(org.id).await?;
        Ok(compiled
            .snapshot
            .explain(&user, application, resource, action, scope)?)
    }

    /// Decides many checks against one snapshot; the answer is all or nothing on bad input, so a
    /// caller never acts on half a batch.
    ///
    /// The non-user part of a check is resolved once per distinct (application, resource,
    /// action, scope) in the batch: applications ask about one page's resource for many users,
    /// and resolving is three string lookups against a 30 ns decision (issue 13).
    pub async fn check_batch(
        &self,
        org: &Organization,
        checks: &[BatchItem<'_>],
        explain: bool,
    ) -> Result<Vec<BatchAnswer>> {
        let compiled = self.decision_snapshot(org.id).await?;
        let snap = &compiled.snapshot;
        let mut out = Vec::with_capacity(checks.len());
        let mut p = Problems::new();
        let mut resolved: FxHashMap<QueryKey<'_>, Query> = FxHashMap::default();
        let mut last: Option<(QueryKey<'_>, Query)> = None;
        for (i, c) in checks.iter().enumerate() {
            let Ok(user) = c.user_id.parse::<UserId>() else {
                p.push(FieldError::new(
                    format!("checks[{i}].user_id"),
                    "uuid",
                    "must be a user id",
                ));
                continue;
            };
            let key = (c.application, c.resource, c.action, c.scope);
            let query = match last {
                Some((k, q)) if k == key => Ok(q),
                _ => match resolved.get(&key) {
                    Some(q) => Ok(*q),
                    None => snap
                        .query(c.application, c.resource, c.action, c.scope)
                        .inspect(|q| {
                            resolved.insert(key, *q);
                        }),
                },
            };
            match query {
                Err(e) => p.push(FieldError::new(
                    format!("checks[{i}].{}", e.field()),
                    e.rule(),
                    e.to_string(),
                )),
                Ok(query) if !explain => {
                    last = Some((key, query));
                    let (decision, reason) = snap.decide(&user, &query);
                    out.push(BatchAnswer {
                        decision,
                        reason,
                        explanation: None,
                    });
                }
                Ok(_) => {
                    let e = snap.explain(&user, c.application, c.resource, c.action, c.scope)?;
                    out.push(BatchAnswer {
                        decision: e.decision,
                        reason: e.reason,
                        explanation: Some(e),
                    });
                }
            }
        }
        p.into_result()?;
        Ok(out)
    }

    pub async fn effective_permissions(
        &self,
        org: &Organization,
        user: UserId,
        application: &str,
        scope: Option<&str>,
    ) -> Result<Vec<EffectivePermission>> {
        self.get_user(org, user).await?;
        let compiled = self.decision_snapshot(org.id).await?;
        Ok(compiled
            .snapshot
            .effective_permissions(&user, application, scope)?)
    }
}

#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BatchCheck {
    pub user_id: String,
    pub application: String,
    pub resource: String,
    pub action: Option<String>,
    pub scope: Option<String>,
}

impl BatchCheck {
    pub fn as_item(&self) -> BatchItem<'_> {
        BatchItem {
            user_id: &self.user_id,
            application: &self.application,
            resource: &self.resource,
            action: self.action.as_deref(),
            scope: self.scope.as_deref(),
        }
    }
}

/// One check of a batch as the decision needs it: borrowed, so the HTTP layer can hand over
/// strings that still sit in the request body instead of copying five of them per check.
#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BatchItem<'a> {
    pub user_id: &'a str,
    pub application: &'a str,
    pub resource: &'a str,
    #[serde(borrow, default)]
    pub action: Option<&'a str>,
    #[serde(borrow, default)]
    pub scope: Option<&'a str>,
}

/// What a batch resolves once: (application, resource, action, scope).
type QueryKey<'a> = (&'a str, &'a str, Option<&'a str>, Option<&'a str>);

#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct BatchAnswer {
    pub decision: Decision,
    pub reason: Reason,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub explanation: Option<Explanation>,
}
