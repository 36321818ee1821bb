//! The workload encoded for casbin-rs: RBAC with a user → group → role hierarchy (`g`), a
//! resource hierarchy (`g2`) so a grant covers its subtree, and a scope hierarchy (`g3`) so a
//! website-limited policy covers the website's stores and store views.
//!
//! casbin-rs 2.x registers every `g*` function over one shared role manager, so each kind of
//! name gets its own prefix (`u:`, `g:`, `r:`, `s:`; resource ids are Magento's own) to keep
//! the three graphs disjoint.

use crate::{Check, Workload};
use casbin::prelude::*;
use casbin::{CachedApi, CachedEnforcer, DefaultCache};

/// The model; `p.scope` is a scope name or `*` for unrestricted roles.
pub const MODEL: &str = r#"
[request_definition]
r = sub, obj, scope

[policy_definition]
p = sub, obj, scope

[role_definition]
g = _, _
g2 = _, _
g3 = _, _

[policy_effect]
e = some(where (p.eft == allow))

[matchers]
m = g(r.sub, p.sub) && g2(r.obj, p.obj) && (p.scope == "*" || g3(r.scope, p.scope))
"#;

/// The request strings of every check, built once so enforcing does no formatting.
pub struct CasbinChecks {
    pub requests: Vec<(String, String, String)>,
}

fn user(i: usize) -> String {
    format!("u:{i}")
}
fn group(i: usize) -> String {
    format!("g:{i}")
}
fn role(i: usize) -> String {
    format!("r:{i}")
}
fn scope(code: &str) -> String {
    format!("s:{code}")
}

/// `p` rules (role, resource, scope-or-`*`) and the `g`, `g2`, `g3` edges.
pub struct Policies {
    pub p: Vec<Vec<String>>,
    pub g: Vec<Vec<String>>,
    pub g2: Vec<Vec<String>>,
    pub g3: Vec<Vec<String>>,
}

impl Policies {
    pub fn of(w: &Workload) -> Policies {
        let mut p = Vec::new();
        for (ri, r) in w.roles.iter().enumerate() {
            for &g in &r.grants {
                if r.scopes.is_empty() {
                    p.push(vec![
                        role(ri),
                        w.resource_id(g).to_string(),
                        "*".to_string(),
                    ]);
                }
                for s in &r.scopes {
                    p.push(vec![role(ri), w.resource_id(g).to_string(), scope(s)]);
                }
            }
        }
        let mut g = Vec::new();
        for (u, rs) in w.user_roles.iter().enumerate() {
            g.extend(rs.iter().map(|&r| vec![user(u), role(r as usize)]));
        }
        for (u, gs) in w.user_groups.iter().enumerate() {
            g.extend(gs.iter().map(|&gi| vec![user(u), group(gi as usize)]));
        }
        for (gi, rs) in w.group_roles.iter().enumerate() {
            g.extend(rs.iter().map(|&r| vec![group(gi), role(r as usize)]));
        }
        let g2 = w
            .tree
            .resources
            .iter()
            .filter_map(|n| {
                n.parent
                    .map(|p| vec![n.id.clone(), w.tree.resources[p as usize].id.clone()])
            })
            .collect();
        let g3 = w
            .scopes
            .iter()
            .map(|s| {
                vec![
                    scope(&s.code),
                    scope(s.parent.as_deref().unwrap_or(crate::ROOT_SCOPE)),
                ]
            })
            .collect();
        Policies { p, g, g2, g3 }
    }

    pub fn len(&self) -> usize {
        self.p.len() + self.g.len() + self.g2.len() + self.g3.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// Loads the policies into an in-memory enforcer of either kind, building role links once.
pub async fn load<E: CoreApi + MgmtApi>(w: &Workload) -> casbin::Result<E> {
    let model = DefaultModel::from_str(MODEL).await?;
    let mut e = E::new(model, MemoryAdapter::default()).await?;
    e.enable_auto_build_role_links(false);
    let pol = Policies::of(w);
    for (ptype, rules) in [("g", pol.g), ("g2", pol.g2), ("g3", pol.g3)] {
        assert!(
            e.add_named_grouping_policies(ptype, rules).await?,
            "{ptype} rules added"
        );
    }
    assert!(e.add_policies(pol.p).await?, "p rules added");
    e.build_role_links()?;
    Ok(e)
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("a current-thread runtime")
}

/// The default (uncached) enforcer.
pub fn enforcer(w: &Workload) -> Enforcer {
    runtime()
        .block_on(load::<Enforcer>(w))
        .expect("casbin enforcer loads")
}

/// The cached enforcer, with a decision cache large enough for every distinct check (the default
/// holds 200 entries, which a 10,000-check cycle would keep evicting).
pub fn cached_enforcer(w: &Workload) -> CachedEnforcer {
    let mut e = runtime()
        .block_on(load::<CachedEnforcer>(w))
        .expect("casbin cached enforcer loads");
    e.set_cache(Box::new(DefaultCache::new(4 * w.checks.len().max(1024))));
    e
}

impl CasbinChecks {
    pub fn of(w: &Workload) -> CasbinChecks {
        CasbinChecks {
            requests: w.checks.iter().map(|c| request(w, c)).collect(),
        }
    }
}

/// One check's request strings.
pub fn request(w: &Workload, c: &Check) -> (String, String, String) {
    (
        user(c.user as usize),
        w.resource_id(c.resource).to_string(),
        scope(w.scope_code(c.scope)),
    )
}

/// Enforces one prepared request.
#[inline]
pub fn enforce<E: CoreApi>(e: &E, r: &(String, String, String)) -> bool {
    e.enforce((r.0.as_str(), r.1.as_str(), r.2.as_str()))
        .expect("casbin enforce")
}
