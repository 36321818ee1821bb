//! The application catalogue: each governed application's resource tree, action vocabulary and
//! scope kinds. Definitions arrive as JSON (shipped files or the API) and are compiled into an
//! [`AppTree`]: resources interned in pre-order so that "a grant on a node covers its subtree"
//! becomes a contiguous index range.

use crate::error::{Error, FieldError, Problems};
use crate::model::{ActionSet, Grant};
use crate::validate::{Description, RoleName, RoleNaming, ScopeCode, Slug};
use rustc_hash::FxHashMap;
use serde::{Deserialize, Serialize};

/// Most action slots a resource can have: slot 0 is whole-resource access, the rest are the
/// application's named actions. Kept to one `u64` mask per resource.
pub const MAX_ACTIONS: usize = 63;

/// An application as written in a catalogue file or sent to the API.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct ApplicationDef {
    pub key: String,
    pub name: String,
    #[serde(default)]
    pub description: String,
    /// Magento's rule (seed 001): a user holds at most one role of the application, however
    /// they hold it (directly, through groups or through profile seats).
    #[serde(default)]
    pub one_role_per_user: bool,
    /// Magento's rule (seed 001): the last active holder of the built-in `Administrators` role
    /// cannot lose it (unassigned, through a group, deactivated or deleted).
    #[serde(default)]
    pub keep_an_administrator: bool,
    /// How the application names its roles; `printable` when absent.
    #[serde(default)]
    pub role_names: RoleNaming,
    /// Spryker's back office (seed 003): users hold roles only as members of groups, never
    /// directly; a direct assignment is refused.
    #[serde(default)]
    pub roles_through_groups: bool,
    /// The application's action vocabulary; empty means resources are allowed as a whole.
    #[serde(default)]
    pub actions: Vec<String>,
    /// Scope kinds from the root down; the root scope's code is the first kind.
    pub scope_kinds: Vec<String>,
    #[serde(default)]
    pub default_scopes: Vec<ScopeDef>,
    #[serde(default)]
    pub default_roles: Vec<RoleTemplate>,
    /// Product profiles every organisation receives when the application is added to it
    /// (seed 000: Commerce as a Cloud Service comes with its `Default` profile).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub default_profiles: Vec<ProfileTemplate>,
    pub resources: ResourceDef,
}

/// A product profile every new organisation receives for this application. Created once, when
/// the application is added: an organisation that deletes it does not get it back.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct ProfileTemplate {
    pub name: String,
    #[serde(default)]
    pub description: String,
    /// Names of the application's `default_roles` the profile bundles.
    #[serde(default)]
    pub roles: Vec<String>,
    /// Seats; absent means unlimited.
    #[serde(default)]
    pub seat_quota: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct ResourceDef {
    pub id: String,
    #[serde(default)]
    pub title: String,
    /// The subset of the application's actions this resource supports.
    #[serde(default)]
    pub actions: Vec<String>,
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(no_recursion))]
    pub children: Vec<ResourceDef>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct ScopeDef {
    pub code: String,
    pub kind: String,
    pub parent: String,
    #[serde(default)]
    pub name: String,
}

/// A role every new organization receives for this application (e.g. cloud's Viewer).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct RoleTemplate {
    pub name: String,
    #[serde(default)]
    pub description: String,
    #[serde(default)]
    pub grants: Vec<Grant>,
    /// Names this role shipped under before: an organisation that still has the role under
    /// one of them gets it renamed (grants and assignments kept) instead of a second copy.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub formerly: Vec<String>,
}

/// One interned resource.
#[derive(Debug, Clone)]
pub struct ResourceNode {
    pub id: String,
    pub title: String,
    pub parent: Option<u32>,
    pub depth: u16,
    /// Exclusive end of this node's subtree in pre-order: descendants are `index+1..end`.
    pub end: u32,
    /// Slots this node supports: bit 0 (access) always, bit `1+i` for action `i`.
    pub action_mask: u64,
}

/// A compiled application definition. Immutable; replaced as a whole when the definition changes.
#[derive(Debug, Clone)]
pub struct AppTree {
    pub def: ApplicationDef,
    pub resources: Vec<ResourceNode>,
    index: FxHashMap<String, u32>,
    action_index: FxHashMap<String, u32>,
}

impl AppTree {
    /// Validates and compiles a definition, reporting every problem with its JSON path.
    pub fn compile(def: ApplicationDef) -> Result<AppTree, Error> {
        let mut problems = Problems::new();
        problems.check(Slug::parse("key", &def.key));
        if def.name.trim().is_empty() || def.name.chars().count() > 100 {
            problems.push(FieldError::new(
                "name",
                "required",
                "must have 1 to 100 characters",
            ));
        }
        if def.actions.len() > MAX_ACTIONS {
            problems.push(FieldError::new(
                "actions",
                "max_items",
                format!("at most {MAX_ACTIONS} actions"),
            ));
        }
        let mut action_index = FxHashMap::default();
        for (i, a) in def.actions.iter().enumerate() {
            let valid = !a.is_empty()
                && a.len() <= 32
                && a != "access"
                && a != "*"
                && a.chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == '-');
            if !valid {
                problems.push(FieldError::new(
                    format!("actions[{i}]"),
                    "action_syntax",
                    "must be lower-case letters, digits, _ and - (not access or *)",
                ));
            }
            if action_index.insert(a.clone(), i as u32).is_some() {
                problems.push(FieldError::new(
                    format!("actions[{i}]"),
                    "unique",
                    format!("action {a:?} is listed twice"),
                ));
            }
        }
        if def.scope_kinds.is_empty() {
            problems.push(FieldError::new(
                "scope_kinds",
                "required",
                "must name at least the root scope kind",
            ));
        }
        for (i, k) in def.scope_kinds.iter().enumerate() {
            if let Err(mut e) = ScopeCode::parse(&format!("scope_kinds[{i}]"), k) {
                e.rule = "scope_kind_syntax".into();
                problems.push(e);
            }
        }

        let mut resources = Vec::new();
        let mut index = FxHashMap::default();
        intern(
            &def.resources,
            None,
            0,
            "resources",
            &action_index,
            &mut resources,
            &mut index,
            &mut problems,
        );

        let mut tree = AppTree {
            def,
            resources,
            index,
            action_index,
        };
        tree.validate_defaults(&mut problems);
        problems.into_result()?;
        Ok(tree)
    }

    fn validate_defaults(&mut self, problems: &mut Problems) {
        let mut kinds_of: FxHashMap<String, usize> = FxHashMap::default();
        if let Some(root) = self.def.scope_kinds.first() {
            kinds_of.insert(root.clone(), 0);
        }
        for (i, s) in self.def.default_scopes.iter().enumerate() {
            let path = format!("default_scopes[{i}]");
            problems.check(ScopeCode::parse(&format!("{path}.code"), &s.code));
            let kind_idx = self.def.scope_kinds.iter().position(|k| *k == s.kind);
            match (kinds_of.get(&s.parent), kind_idx) {
                (None, _) => problems.push(FieldError::new(
                    format!("{path}.parent"),
                    "unknown_scope",
                    "parent must be listed before its children",
                )),
                (_, None) => problems.push(FieldError::new(
                    format!("{path}.kind"),
                    "unknown_scope_kind",
                    "kind must be one of scope_kinds",
                )),
                (Some(&pk), Some(k)) if k != pk + 1 => problems.push(FieldError::new(
                    format!("{path}.kind"),
                    "scope_hierarchy",
                    "kind must be the kind right below its parent's",
                )),
                (Some(_), Some(k)) => {
                    if kinds_of.insert(s.code.clone(), k).is_some() {
                        problems.push(FieldError::new(
                            format!("{path}.code"),
                            "unique",
                            "scope code appears twice",
                        ));
                    }
                }
            }
        }
        let templates = std::mem::take(&mut self.def.default_roles);
        for (i, r) in templates.iter().enumerate() {
            problems.check(RoleName::parse(
                &format!("default_roles[{i}].name"),
                &r.name,
                self.def.role_names,
            ));
            problems.check(Description::parse(
                &format!("default_roles[{i}].description"),
                &r.description,
            ));
            if r.name
                .trim()
                .eq_ignore_ascii_case(crate::model::Role::ADMINISTRATORS)
            {
                problems.push(FieldError::new(
                    format!("default_roles[{i}].name"),
                    "reserved",
                    "Administrators is built in",
                ));
            }
            for e in self.validate_grants(&format!("default_roles[{i}].grants"), &r.grants) {
                problems.push(e);
            }
        }
        for (i, pt) in self.def.default_profiles.iter().enumerate() {
            let path = format!("default_profiles[{i}]");
            problems.check(crate::validate::DisplayName::parse(
                &format!("{path}.name"),
                &pt.name,
            ));
            problems.check(Description::parse(
                &format!("{path}.description"),
                &pt.description,
            ));
            if pt.seat_quota.is_some_and(|q| q < 0) {
                problems.push(FieldError::new(
                    format!("{path}.seat_quota"),
                    "range",
                    "must be 0 or more, or absent for unlimited seats",
                ));
            }
            for (j, r) in pt.roles.iter().enumerate() {
                if !templates.iter().any(|t| t.name == *r) {
                    problems.push(FieldError::new(
                        format!("{path}.roles[{j}]"),
                        "unknown_role",
                        "must name one of the application's default_roles",
                    ));
                }
            }
            if self.def.one_role_per_user && pt.roles.len() > 1 {
                problems.push(FieldError::new(
                    format!("{path}.roles"),
                    "one_role_per_user",
                    "the application allows one role per user, so a profile bundles at most one",
                ));
            }
        }
        self.def.default_roles = templates;
    }

    pub fn key(&self) -> &str {
        &self.def.key
    }

    pub fn resource(&self, id: &str) -> Option<u32> {
        self.index.get(id).copied()
    }

    /// Slot of a named action (1-based; 0 is whole-resource access).
    pub fn action_slot(&self, action: &str) -> Option<u32> {
        self.action_index.get(action).map(|i| i + 1)
    }

    /// Bits per resource in a compiled bitset.
    pub fn slots(&self) -> usize {
        1 + self.def.actions.len()
    }

    pub fn actions(&self) -> &[String] {
        &self.def.actions
    }

    /// Checks grants against this tree; returns every problem, keyed by `path[i].field`.
    pub fn validate_grants(&self, path: &str, grants: &[Grant]) -> Vec<FieldError> {
        let mut out = Vec::new();
        if grants.len() > MAX_GRANTS {
            out.push(FieldError::new(
                path,
                "max_items",
                format!("a role has at most {MAX_GRANTS} grants"),
            ));
            return out;
        }
        for (i, g) in grants.iter().enumerate() {
            if self.resource(&g.resource).is_none() {
                out.push(FieldError::new(
                    format!("{path}[{i}].resource"),
                    "unknown_resource",
                    format!(
                        "resource {:?} is not in application {}",
                        g.resource,
                        self.key()
                    ),
                ));
            }
            if let ActionSet::Only(actions) = &g.actions {
                if actions.is_empty() {
                    out.push(FieldError::new(
                        format!("{path}[{i}].actions"),
                        "required",
                        "name at least one action, or \"*\"",
                    ));
                }
                for (j, a) in actions.iter().enumerate() {
                    if self.action_slot(a).is_none() {
                        out.push(FieldError::new(
                            format!("{path}[{i}].actions[{j}]"),
                            "unknown_action",
                            format!("action {a:?} is not one of {}'s actions", self.key()),
                        ));
                    }
                }
            }
        }
        out
    }

    /// Slot mask a grant's action set stands for (always including whole-resource access).
    pub fn action_mask(&self, actions: &ActionSet) -> u64 {
        match actions {
            ActionSet::All => u64::MAX,
            ActionSet::Only(list) => list
                .iter()
                .filter_map(|a| self.action_slot(a))
                .fold(1u64, |m, s| m | (1u64 << s)),
        }
    }

    /// Is `ancestor` the node itself or one of its ancestors?
    pub fn covers(&self, ancestor: u32, node: u32) -> bool {
        ancestor <= node && node < self.resources[ancestor as usize].end
    }
}

/// Pre-order interning; recursion depth is the tree's depth (Magento's is 5).
#[allow(clippy::too_many_arguments)]
fn intern(
    node: &ResourceDef,
    parent: Option<u32>,
    depth: u16,
    path: &str,
    action_index: &FxHashMap<String, u32>,
    resources: &mut Vec<ResourceNode>,
    index: &mut FxHashMap<String, u32>,
    problems: &mut Problems,
) {
    if depth > 64 {
        problems.push(FieldError::new(
            path,
            "max_depth",
            "resource trees may be at most 64 levels deep",
        ));
        return;
    }
    let idx = resources.len() as u32;
    if node.id.is_empty() || node.id.len() > 255 || node.id.chars().any(char::is_control) {
        problems.push(FieldError::new(
            format!("{path}.id"),
            "resource_id_syntax",
            "must have 1 to 255 printable characters",
        ));
    }
    if index.insert(node.id.clone(), idx).is_some() {
        problems.push(FieldError::new(
            format!("{path}.id"),
            "unique",
            format!("resource {:?} appears twice", node.id),
        ));
    }
    let mut mask = 1u64;
    for (j, a) in node.actions.iter().enumerate() {
        match action_index.get(a) {
            Some(&slot) => mask |= 1u64 << (slot + 1),
            None => problems.push(FieldError::new(
                format!("{path}.actions[{j}]"),
                "unknown_action",
                format!("action {a:?} is not in the application's actions"),
            )),
        }
    }
    resources.push(ResourceNode {
        id: node.id.clone(),
        title: node.title.clone(),
        parent,
        depth,
        end: idx + 1,
        action_mask: mask,
    });
    for (ci, child) in node.children.iter().enumerate() {
        intern(
            child,
            Some(idx),
            depth + 1,
            &format!("{path}.children[{ci}]"),
            action_index,
            resources,
            index,
            problems,
        );
    }
    resources[idx as usize].end = resources.len() as u32;
}

/// Grants a role may list (issue 9 item 15: a role accepted 20,000 duplicates). Far above any
/// application's resource count; duplicates are collapsed anyway.
pub const MAX_GRANTS: usize = 1000;

/// One grant per resource: duplicates are merged (their actions united, `*` absorbing the
/// rest), in the order resources first appear. What a role allows is unchanged.
pub fn collapse_grants(grants: Vec<Grant>) -> Vec<Grant> {
    let mut out: Vec<Grant> = Vec::with_capacity(grants.len());
    for g in grants {
        match out.iter_mut().find(|x| x.resource == g.resource) {
            None => {
                let actions = match g.actions {
                    ActionSet::Only(mut list) => {
                        let mut seen = std::collections::BTreeSet::new();
                        list.retain(|a| seen.insert(a.clone()));
                        ActionSet::Only(list)
                    }
                    all => all,
                };
                out.push(Grant {
                    resource: g.resource,
                    actions,
                });
            }
            Some(x) => {
                x.actions = match (std::mem::take(&mut x.actions), g.actions) {
                    (ActionSet::Only(mut a), ActionSet::Only(b)) => {
                        for act in b {
                            if !a.contains(&act) {
                                a.push(act);
                            }
                        }
                        ActionSet::Only(a)
                    }
                    _ => ActionSet::All,
                };
            }
        }
    }
    out
}

#[cfg(test)]
pub(crate) mod tests {
    #[test]
    fn duplicate_grants_collapse_without_changing_what_they_allow() {
        let g = |r: &str, a: ActionSet| Grant {
            resource: r.into(),
            actions: a,
        };
        let only = |v: &[&str]| ActionSet::Only(v.iter().map(|s| s.to_string()).collect());
        let collapsed = collapse_grants(vec![
            g("a", only(&["view"])),
            g("b", only(&["edit", "edit"])),
            g("a", only(&["edit", "view"])),
            g("b", ActionSet::All),
            g("a", only(&["view"])),
        ]);
        assert_eq!(
            collapsed,
            vec![g("a", only(&["view", "edit"])), g("b", ActionSet::All)]
        );
    }

    use super::*;

    pub(crate) fn sample_def() -> ApplicationDef {
        serde_json::from_value(serde_json::json!({
            "key": "shop",
            "name": "Shop",
            "actions": ["view", "add", "edit", "delete"],
            "scope_kinds": ["global", "website", "store_view"],
            "default_scopes": [
                {"code": "eu", "kind": "website", "parent": "global"},
                {"code": "us", "kind": "website", "parent": "global"},
                {"code": "eu_fr", "kind": "store_view", "parent": "eu"},
                {"code": "us_en", "kind": "store_view", "parent": "us"}
            ],
            "resources": {"id": "admin", "children": [
                {"id": "sales", "actions": ["view"], "children": [
                    {"id": "sales.orders", "actions": ["view", "add", "edit", "delete"], "children": [
                        {"id": "sales.orders.invoice", "actions": ["view", "add"]}
                    ]},
                    {"id": "sales.shipments", "actions": ["view"]}
                ]},
                {"id": "catalog", "actions": ["view", "edit"], "children": [
                    {"id": "catalog.products", "actions": ["view", "add", "edit", "delete"]}
                ]},
                {"id": "system"}
            ]}
        }))
        .unwrap()
    }

    #[test]
    fn subtree_ranges_follow_pre_order() {
        let t = AppTree::compile(sample_def()).unwrap();
        let ids: Vec<&str> = t.resources.iter().map(|r| r.id.as_str()).collect();
        assert_eq!(
            ids,
            [
                "admin",
                "sales",
                "sales.orders",
                "sales.orders.invoice",
                "sales.shipments",
                "catalog",
                "catalog.products",
                "system"
            ]
        );
        let sales = t.resource("sales").unwrap();
        assert!(t.covers(sales, t.resource("sales.orders.invoice").unwrap()));
        assert!(t.covers(sales, t.resource("sales.shipments").unwrap()));
        assert!(!t.covers(sales, t.resource("catalog").unwrap()));
        assert!(t.covers(t.resource("admin").unwrap(), t.resource("system").unwrap()));
        assert_eq!(t.resources[t.resource("catalog").unwrap() as usize].end, 7);
    }

    #[test]
    fn compile_reports_every_problem_with_its_path() {
        let mut def = sample_def();
        def.key = "Bad Key".into();
        def.resources.children[0].children[0]
            .actions
            .push("fly".into());
        def.resources.children[1].id = "sales".into();
        def.role_names = RoleNaming::Identifier;
        def.default_roles.push(RoleTemplate {
            name: "_x".into(),
            description: String::new(),
            grants: vec![Grant {
                resource: "nope".into(),
                actions: ActionSet::All,
            }],
            formerly: vec![],
        });
        def.default_profiles.push(ProfileTemplate {
            name: "Default".into(),
            description: String::new(),
            roles: vec!["Nobody".into()],
            seat_quota: Some(-1),
        });
        let Err(Error::Invalid(errors)) = AppTree::compile(def) else {
            panic!("expected invalid")
        };
        let fields: Vec<(&str, &str)> = errors
            .iter()
            .map(|e| (e.field.as_str(), e.rule.as_str()))
            .collect();
        assert!(fields.contains(&("key", "slug_syntax")), "{fields:?}");
        assert!(
            fields.contains(&(
                "resources.children[0].children[0].actions[4]",
                "unknown_action"
            )),
            "{fields:?}"
        );
        assert!(
            fields.contains(&("resources.children[1].id", "unique")),
            "{fields:?}"
        );
        assert!(
            fields.contains(&("default_roles[0].name", "role_name_leading")),
            "{fields:?}"
        );
        assert!(
            fields.contains(&("default_roles[0].grants[0].resource", "unknown_resource")),
            "{fields:?}"
        );
        assert!(
            fields.contains(&("default_profiles[0].roles[0]", "unknown_role")),
            "{fields:?}"
        );
        assert!(
            fields.contains(&("default_profiles[0].seat_quota", "range")),
            "{fields:?}"
        );
    }

    #[test]
    fn scope_defaults_must_follow_the_kind_hierarchy() {
        let mut def = sample_def();
        def.default_scopes.push(ScopeDef {
            code: "bad".into(),
            kind: "store_view".into(),
            parent: "global".into(),
            name: String::new(),
        });
        let Err(Error::Invalid(errors)) = AppTree::compile(def) else {
            panic!("expected invalid")
        };
        assert_eq!(errors[0].rule, "scope_hierarchy");
    }
}
