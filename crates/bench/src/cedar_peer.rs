//! The workload encoded for Cedar: `User`, `Group` and `Role` entities (users are members of
//! their groups and direct roles, groups of their roles), `Resource` entities parented by their
//! tree parent and `Scope` entities parented by their parent scope. Each grant is a policy
//! `permit(principal in Role::"rN", action == Action::"access", resource in Resource::"…")`, with
//! `when { context.scope in [Scope::"w1", …] }` for website-limited roles.
//!
//! [`PolicyShape::PerRole`] is the alternative encoding, one policy per role with the grants in
//! the `when` clause, to see how much Cedar depends on the number of policies.

use crate::{Check, Workload, ROOT_SCOPE};
use cedar_policy::{
    Authorizer, Context, Decision, Entities, Entity, EntityId, EntityTypeName, EntityUid,
    PolicySet, Request, RestrictedExpression,
};
use std::collections::HashSet;
use std::str::FromStr;

/// How grants become policies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PolicyShape {
    /// One policy per (role, granted subtree): the resource test is in the policy scope.
    PerGrant,
    /// One policy per role: `resource in R1 || resource in R2 || …` in the `when` clause.
    PerRole,
}

/// Entities, policies and an authorizer for one workload (Cedar's default configuration).
pub struct CedarPeer {
    pub authorizer: Authorizer,
    pub policies: PolicySet,
    pub entities: Entities,
    types: Types,
}

struct Types {
    user: EntityTypeName,
    group: EntityTypeName,
    role: EntityTypeName,
    resource: EntityTypeName,
    scope: EntityTypeName,
    access: EntityUid,
}

impl Types {
    fn new() -> Types {
        let t = |s: &str| EntityTypeName::from_str(s).expect("entity type name");
        Types {
            user: t("User"),
            group: t("Group"),
            role: t("Role"),
            resource: t("Resource"),
            scope: t("Scope"),
            access: EntityUid::from_type_name_and_id(t("Action"), EntityId::new("access")),
        }
    }
    fn uid(t: &EntityTypeName, id: &str) -> EntityUid {
        EntityUid::from_type_name_and_id(t.clone(), EntityId::new(id))
    }
}

/// A Cedar string literal (resource ids are plain ASCII, but escape anyway).
fn lit(s: &str) -> String {
    format!("{:?}", s)
}

fn scope_condition(scopes: &[String]) -> String {
    let list: Vec<String> = scopes
        .iter()
        .map(|s| format!("Scope::{}", lit(s)))
        .collect();
    format!("context.scope in [{}]", list.join(", "))
}

/// The policy text for a workload.
pub fn policy_text(w: &Workload, shape: PolicyShape) -> String {
    let mut out = String::new();
    for (ri, r) in w.roles.iter().enumerate() {
        let principal = format!("principal in Role::\"r{ri}\", action == Action::\"access\"");
        match shape {
            PolicyShape::PerGrant => {
                for &g in &r.grants {
                    out.push_str(&format!(
                        "permit({principal}, resource in Resource::{})",
                        lit(w.resource_id(g))
                    ));
                    if !r.scopes.is_empty() {
                        out.push_str(&format!(" when {{ {} }}", scope_condition(&r.scopes)));
                    }
                    out.push_str(";\n");
                }
            }
            PolicyShape::PerRole => {
                let res: Vec<String> = r
                    .grants
                    .iter()
                    .map(|&g| format!("resource in Resource::{}", lit(w.resource_id(g))))
                    .collect();
                out.push_str(&format!(
                    "permit({principal}, resource) when {{ ({})",
                    res.join(" || ")
                ));
                if !r.scopes.is_empty() {
                    out.push_str(&format!(" && {}", scope_condition(&r.scopes)));
                }
                out.push_str(" };\n");
            }
        }
    }
    out
}

impl CedarPeer {
    pub fn build(w: &Workload, shape: PolicyShape) -> CedarPeer {
        let t = Types::new();
        let mut entities = Vec::new();
        let none = HashSet::new;
        for i in 0..w.roles.len() {
            entities.push(Entity::new_no_attrs(
                Types::uid(&t.role, &format!("r{i}")),
                none(),
            ));
        }
        for (gi, rs) in w.group_roles.iter().enumerate() {
            let parents = rs
                .iter()
                .map(|r| Types::uid(&t.role, &format!("r{r}")))
                .collect();
            entities.push(Entity::new_no_attrs(
                Types::uid(&t.group, &format!("g{gi}")),
                parents,
            ));
        }
        for u in 0..w.users.len() {
            let parents = w.user_roles[u]
                .iter()
                .map(|r| Types::uid(&t.role, &format!("r{r}")))
                .chain(
                    w.user_groups[u]
                        .iter()
                        .map(|g| Types::uid(&t.group, &format!("g{g}"))),
                )
                .collect();
            entities.push(Entity::new_no_attrs(
                Types::uid(&t.user, &format!("u{u}")),
                parents,
            ));
        }
        for n in &w.tree.resources {
            let parents = n
                .parent
                .map(|p| Types::uid(&t.resource, &w.tree.resources[p as usize].id))
                .into_iter()
                .collect();
            entities.push(Entity::new_no_attrs(
                Types::uid(&t.resource, &n.id),
                parents,
            ));
        }
        entities.push(Entity::new_no_attrs(
            Types::uid(&t.scope, ROOT_SCOPE),
            none(),
        ));
        for s in &w.scopes {
            let parent = Types::uid(&t.scope, s.parent.as_deref().unwrap_or(ROOT_SCOPE));
            entities.push(Entity::new_no_attrs(
                Types::uid(&t.scope, &s.code),
                HashSet::from([parent]),
            ));
        }
        let entities = Entities::from_entities(entities, None).expect("cedar entities");
        let policies = PolicySet::from_str(&policy_text(w, shape)).expect("cedar policies parse");
        CedarPeer {
            authorizer: Authorizer::new(),
            policies,
            entities,
            types: t,
        }
    }

    /// One check as a Cedar request (principal, action, resource and `context.scope`).
    pub fn request(&self, w: &Workload, c: &Check) -> Request {
        let t = &self.types;
        let scope =
            RestrictedExpression::new_entity_uid(Types::uid(&t.scope, w.scope_code(c.scope)));
        let context = Context::from_pairs([("scope".to_string(), scope)]).expect("cedar context");
        Request::new(
            Types::uid(&t.user, &format!("u{}", c.user)),
            t.access.clone(),
            Types::uid(&t.resource, w.resource_id(c.resource)),
            context,
            None,
        )
        .expect("cedar request")
    }

    /// Every check as a request, built once.
    pub fn requests(&self, w: &Workload) -> Vec<Request> {
        w.checks.iter().map(|c| self.request(w, c)).collect()
    }

    #[inline]
    pub fn is_authorized(&self, r: &Request) -> bool {
        self.authorizer
            .is_authorized(r, &self.policies, &self.entities)
            .decision()
            == Decision::Allow
    }
}
