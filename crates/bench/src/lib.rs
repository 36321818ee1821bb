//! Workload generator shared by the benchmarks and the agreement test: one organization over the
//! shipped Magento (`commerce-admin`) resource tree, built deterministically from a seeded RNG,
//! plus a naive reference oracle and small memory helpers. The peers' encodings of the same
//! workload live in [`casbin_peer`] and [`cedar_peer`].

pub mod casbin_peer;
pub mod cedar_peer;

use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use rolecall_core::authz::{AuthzModel, CheckError, Decision, OrgSnapshot, Query, RoleRule};
use rolecall_core::catalogue::{AppTree, ApplicationDef};
use rolecall_core::model::{ActionSet, Grant, GroupId, RoleId, Scope, UserId, UserStatus};
use rolecall_core::validate::ScopeCode;
use std::collections::BTreeSet;
use std::sync::Arc;
use uuid::Uuid;

/// The application every check targets.
pub const APP: &str = "commerce-admin";
/// Code of the scope tree's root (the application's first scope kind).
pub const ROOT_SCOPE: &str = "global";
/// The shipped Magento admin ACL tree.
pub const CATALOGUE_JSON: &str = include_str!("../../../catalogue/commerce-admin.json");

/// Sizes of the generated organization.
#[derive(Debug, Clone, Copy)]
pub struct Params {
    pub seed: u64,
    pub users: usize,
    pub roles: usize,
    pub groups: usize,
    pub websites: usize,
    pub stores_per_website: usize,
    pub views_per_store: usize,
    pub checks: usize,
}

impl Default for Params {
    /// The benchmark's workload: 10,000 users, 200 roles, 500 groups, 4 websites.
    fn default() -> Self {
        Params {
            seed: 0x5eed_2024,
            users: 10_000,
            roles: 200,
            groups: 500,
            websites: 4,
            stores_per_website: 2,
            views_per_store: 2,
            checks: 10_000,
        }
    }
}

/// A role as generated: grants on whole subtrees (resource indices in the tree's pre-order) and,
/// for scope-limited roles, the website codes it is limited to.
#[derive(Debug, Clone)]
pub struct RoleSpec {
    pub id: RoleId,
    pub name: String,
    pub grants: Vec<u32>,
    /// Empty: unrestricted.
    pub scopes: Vec<String>,
}

/// A non-root scope instance.
#[derive(Debug, Clone)]
pub struct ScopeSpec {
    pub code: String,
    pub kind: &'static str,
    /// `None`: child of the root.
    pub parent: Option<String>,
}

/// How a check names its scope. Both root forms must decide the same.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ScopeArg {
    /// `scope: None`, the application's root.
    Root,
    /// The root named explicitly (`"global"`).
    RootNamed,
    /// Index into [`Workload::scopes`].
    Scope(u32),
}

/// One pre-generated check: indices into the workload's users and the tree's resources.
#[derive(Debug, Clone, Copy)]
pub struct Check {
    pub user: u32,
    pub resource: u32,
    pub scope: ScopeArg,
}

/// A check's arguments as rolecall's string API takes them (`scope: None` is the root).
#[derive(Debug, Clone)]
pub struct StringRequest {
    pub user: UserId,
    pub resource: String,
    pub scope: Option<String>,
}

impl StringRequest {
    /// `snapshot.check(...)` on these arguments.
    #[inline]
    pub fn check(&self, snap: &OrgSnapshot) -> Result<Decision, CheckError> {
        snap.check(&self.user, APP, &self.resource, None, self.scope.as_deref())
    }
}

/// The generated organization in both forms: the raw structure (for the peers and the oracle)
/// and rolecall's [`AuthzModel`].
#[derive(Debug, Clone)]
pub struct Workload {
    pub params: Params,
    pub tree: Arc<AppTree>,
    pub users: Vec<UserId>,
    pub roles: Vec<RoleSpec>,
    pub groups: Vec<GroupId>,
    /// Role indices each group holds.
    pub group_roles: Vec<Vec<u32>>,
    /// Role indices each user holds directly.
    pub user_roles: Vec<Vec<u32>>,
    /// Group indices each user belongs to.
    pub user_groups: Vec<Vec<u32>>,
    pub scopes: Vec<ScopeSpec>,
    pub checks: Vec<Check>,
    pub model: AuthzModel,
}

/// The shipped Magento tree, compiled.
pub fn magento_tree() -> Arc<AppTree> {
    let def: ApplicationDef =
        serde_json::from_str(CATALOGUE_JSON).expect("catalogue/commerce-admin.json parses");
    Arc::new(AppTree::compile(def).expect("catalogue/commerce-admin.json compiles"))
}

fn uuid(rng: &mut StdRng) -> Uuid {
    Uuid::from_u128(rng.gen())
}

fn pick_distinct(rng: &mut StdRng, n: usize, of: usize) -> Vec<u32> {
    let mut all: Vec<u32> = (0..of as u32).collect();
    // `partial_shuffle` moves its picks to the end of the slice and returns them first.
    let mut picked = all.partial_shuffle(rng, n).0.to_vec();
    picked.sort_unstable();
    picked
}

impl Workload {
    /// Generates the workload; the same `params` always give the same organization and checks.
    pub fn generate(params: Params) -> Workload {
        let tree = magento_tree();
        let mut rng = StdRng::seed_from_u64(params.seed);
        let n_res = tree.resources.len();

        // Scope tree: global > w{i} > w{i}_s{j} > w{i}_s{j}_v{k}.
        let mut scopes = Vec::new();
        for w in 0..params.websites {
            let wc = format!("w{w}");
            scopes.push(ScopeSpec {
                code: wc.clone(),
                kind: "website",
                parent: None,
            });
            for s in 0..params.stores_per_website {
                let sc = format!("{wc}_s{s}");
                scopes.push(ScopeSpec {
                    code: sc.clone(),
                    kind: "store",
                    parent: Some(wc.clone()),
                });
                for v in 0..params.views_per_store {
                    scopes.push(ScopeSpec {
                        code: format!("{sc}_v{v}"),
                        kind: "store_view",
                        parent: Some(sc.clone()),
                    });
                }
            }
        }

        // Roles: 3-12 subtree grants on random non-root nodes; ~20% limited to 1-2 websites.
        let roles: Vec<RoleSpec> = (0..params.roles)
            .map(|i| {
                let n = rng.gen_range(3..=12);
                let grants = pick_distinct(&mut rng, n, n_res - 1)
                    .into_iter()
                    .map(|r| r + 1)
                    .collect();
                let scopes = if rng.gen_bool(0.2) {
                    let k = rng.gen_range(1..=2.min(params.websites));
                    pick_distinct(&mut rng, k, params.websites)
                        .into_iter()
                        .map(|w| format!("w{w}"))
                        .collect()
                } else {
                    Vec::new()
                };
                RoleSpec {
                    id: RoleId(uuid(&mut rng)),
                    name: format!("r{i}"),
                    grants,
                    scopes,
                }
            })
            .collect();

        let groups: Vec<GroupId> = (0..params.groups)
            .map(|_| GroupId(uuid(&mut rng)))
            .collect();
        let group_roles: Vec<Vec<u32>> = (0..params.groups)
            .map(|_| {
                let n = rng.gen_range(1..=3);
                pick_distinct(&mut rng, n, params.roles)
            })
            .collect();

        // Users: 0-2 direct roles and 0-2 groups, 1-5 distinct roles in total.
        let users: Vec<UserId> = (0..params.users).map(|_| UserId(uuid(&mut rng))).collect();
        let mut user_roles = Vec::with_capacity(params.users);
        let mut user_groups = Vec::with_capacity(params.users);
        for _ in 0..params.users {
            loop {
                let nd = rng.gen_range(0..=2);
                let ng = rng.gen_range(0..=2);
                let direct = pick_distinct(&mut rng, nd, params.roles);
                let grps = pick_distinct(&mut rng, ng, params.groups);
                let total: BTreeSet<u32> = direct
                    .iter()
                    .copied()
                    .chain(
                        grps.iter()
                            .flat_map(|&g| group_roles[g as usize].iter().copied()),
                    )
                    .collect();
                if (1..=5).contains(&total.len()) {
                    user_roles.push(direct);
                    user_groups.push(grps);
                    break;
                }
            }
        }

        // Checks: uniform over users and resources; ~10% at the root (half unnamed, half named).
        let checks = (0..params.checks)
            .map(|_| {
                let user = rng.gen_range(0..params.users as u32);
                let resource = rng.gen_range(0..n_res as u32);
                let scope = match rng.gen_range(0..20) {
                    0 => ScopeArg::Root,
                    1 => ScopeArg::RootNamed,
                    _ => ScopeArg::Scope(rng.gen_range(0..scopes.len() as u32)),
                };
                Check {
                    user,
                    resource,
                    scope,
                }
            })
            .collect();

        let mut w = Workload {
            params,
            tree,
            users,
            roles,
            groups,
            group_roles,
            user_roles,
            user_groups,
            scopes,
            checks,
            model: AuthzModel::default(),
        };
        w.model = w.authz_model();
        w
    }

    /// rolecall's input for this organization.
    fn authz_model(&self) -> AuthzModel {
        let code = |field: &str, c: &str| {
            ScopeCode::parse(field, c).expect("generated scope codes are valid")
        };
        AuthzModel {
            users: self
                .users
                .iter()
                .map(|&u| (u, UserStatus::Active))
                .collect(),
            roles: self.roles.iter().map(|r| self.role_rule(r)).collect(),
            groups: self
                .groups
                .iter()
                .enumerate()
                .map(|(i, &g)| (g, format!("g{i}")))
                .collect(),
            group_members: self
                .user_groups
                .iter()
                .enumerate()
                .flat_map(|(u, gs)| {
                    gs.iter()
                        .map(move |&g| (self.groups[g as usize], self.users[u]))
                })
                .collect(),
            group_roles: self
                .group_roles
                .iter()
                .enumerate()
                .flat_map(|(g, rs)| {
                    rs.iter()
                        .map(move |&r| (self.groups[g], self.roles[r as usize].id))
                })
                .collect(),
            user_roles: self
                .user_roles
                .iter()
                .enumerate()
                .flat_map(|(u, rs)| {
                    rs.iter()
                        .map(move |&r| (self.users[u], self.roles[r as usize].id))
                })
                .collect(),
            scopes: self
                .scopes
                .iter()
                .map(|s| {
                    let scope = Scope {
                        code: code("code", &s.code),
                        kind: s.kind.to_string(),
                        parent: s.parent.as_deref().map(|p| code("parent", p)),
                        name: s.code.clone(),
                    };
                    (APP.to_string(), scope)
                })
                .collect(),
            // No product profiles: the application is not profile-gated.
            ..AuthzModel::default()
        }
    }

    /// A role in rolecall's form.
    pub fn role_rule(&self, r: &RoleSpec) -> RoleRule {
        RoleRule {
            id: r.id,
            application: APP.to_string(),
            name: r.name.clone(),
            builtin_admin: false,
            grants: r.grants.iter().map(|&g| self.grant(g)).collect(),
            scopes: r.scopes.clone(),
        }
    }

    /// A whole-subtree grant on a resource (Magento has no actions).
    pub fn grant(&self, resource: u32) -> Grant {
        Grant {
            resource: self.resource_id(resource).to_string(),
            actions: ActionSet::All,
        }
    }

    pub fn apps(&self) -> Vec<Arc<AppTree>> {
        vec![self.tree.clone()]
    }

    pub fn compile(&self) -> OrgSnapshot {
        OrgSnapshot::compile(&self.apps(), &self.model)
    }

    pub fn resource_id(&self, r: u32) -> &str {
        &self.tree.resources[r as usize].id
    }

    /// The scope argument as rolecall's `check` takes it.
    pub fn scope_arg(&self, s: ScopeArg) -> Option<&str> {
        match s {
            ScopeArg::Root => None,
            ScopeArg::RootNamed => Some(ROOT_SCOPE),
            ScopeArg::Scope(i) => Some(&self.scopes[i as usize].code),
        }
    }

    /// The scope's code, naming the root explicitly (for the peers, which have no default).
    pub fn scope_code(&self, s: ScopeArg) -> &str {
        self.scope_arg(s).unwrap_or(ROOT_SCOPE)
    }

    /// rolecall's string API on one check.
    pub fn rolecall_check(&self, snap: &OrgSnapshot, c: &Check) -> bool {
        let d = snap.check(
            &self.users[c.user as usize],
            APP,
            self.resource_id(c.resource),
            None,
            self.scope_arg(c.scope),
        );
        d.expect("generated checks are well-formed") == Decision::Allow
    }

    /// Every check as the owned strings a request would carry, laid out one after another like
    /// the peers' prepared requests, so the string API is timed without chasing the workload's
    /// own tables.
    pub fn string_requests(&self) -> Vec<StringRequest> {
        self.checks
            .iter()
            .map(|c| StringRequest {
                user: self.users[c.user as usize],
                resource: self.resource_id(c.resource).to_string(),
                scope: self.scope_arg(c.scope).map(str::to_string),
            })
            .collect()
    }

    /// Every check resolved once, for the `decide` hot path.
    pub fn prepared(&self, snap: &OrgSnapshot) -> Vec<(UserId, Query)> {
        self.checks
            .iter()
            .map(|c| {
                let q = snap
                    .query(
                        APP,
                        self.resource_id(c.resource),
                        None,
                        self.scope_arg(c.scope),
                    )
                    .expect("generated checks are well-formed");
                (self.users[c.user as usize], q)
            })
            .collect()
    }

    /// Every role index a user holds, directly or through a group.
    pub fn held_roles(&self, user: u32) -> BTreeSet<u32> {
        let u = user as usize;
        self.user_roles[u]
            .iter()
            .copied()
            .chain(
                self.user_groups[u]
                    .iter()
                    .flat_map(|&g| self.group_roles[g as usize].iter().copied()),
            )
            .collect()
    }

    /// Is scope `s` the scope `ancestor` or one of its descendants? (`None`: the root.)
    fn scope_within(&self, s: Option<&str>, ancestor: &str) -> bool {
        let mut cur = s;
        while let Some(code) = cur {
            if code == ancestor {
                return true;
            }
            cur = self
                .scopes
                .iter()
                .find(|x| x.code == code)
                .and_then(|x| x.parent.as_deref());
        }
        false
    }

    /// The naive reference decision, straight from the definitions: some held role grants an
    /// ancestor-or-self of the resource, and is unrestricted or limited to an ancestor-or-self of
    /// the scope (so a website-limited role never applies at the root).
    pub fn expected(&self, c: &Check) -> bool {
        let scope = match c.scope {
            ScopeArg::Root | ScopeArg::RootNamed => None,
            ScopeArg::Scope(i) => Some(self.scopes[i as usize].code.as_str()),
        };
        self.held_roles(c.user).into_iter().any(|ri| {
            let role = &self.roles[ri as usize];
            let grants = role.grants.iter().any(|&g| self.tree.covers(g, c.resource));
            grants
                && (role.scopes.is_empty()
                    || role.scopes.iter().any(|w| self.scope_within(scope, w)))
        })
    }
}

/// Resident set size of this process in bytes, from `/proc/self/statm` (assumes 4 KiB pages);
/// `None` where that file does not exist.
pub fn rss_bytes() -> Option<u64> {
    let statm = std::fs::read_to_string("/proc/self/statm").ok()?;
    let resident: u64 = statm.split_whitespace().nth(1)?.parse().ok()?;
    Some(resident * 4096)
}

/// Runs `f` and returns its result with the growth of the resident set while it ran.
pub fn with_rss_delta<T>(f: impl FnOnce() -> T) -> (T, Option<i64>) {
    let before = rss_bytes();
    let out = f();
    let after = rss_bytes();
    let delta = match (before, after) {
        (Some(b), Some(a)) => Some(a as i64 - b as i64),
        _ => None,
    };
    (out, delta)
}
