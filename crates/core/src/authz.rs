//! The authorization engine. An organization's roles, groups and assignments are compiled into
//! an immutable [`OrgSnapshot`]: resources are interned in pre-order, every role becomes a
//! bitset over `resource × action slot` with subtree grants already expanded, and every user
//! gets the union of the unrestricted roles they hold. A check is then a hash lookup, a shift
//! and an AND; scope-limited roles are kept apart and tested against the scope's pre-order range.
//!
//! Architecture Invariant: a snapshot is never mutated. Changes compile a new one (or, for
//! changes to a few users' own holdings, derive one with [`OrgSnapshot::with_users`], which
//! shares every untouched chunk of per-user rows) and the server swaps it in atomically, so
//! readers take no lock.

use crate::catalogue::AppTree;
use crate::model::{Grant, GroupId, RoleId, Scope, UserId, UserStatus, Via};
use rustc_hash::FxHashMap;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;
use std::sync::Arc;
use uuid::Uuid;

mod incremental;
pub use incremental::UserRights;

/// What the engine needs to know about a role.
#[derive(Debug, Clone)]
pub struct RoleRule {
    pub id: RoleId,
    pub application: String,
    pub name: String,
    pub builtin_admin: bool,
    pub grants: Vec<Grant>,
    /// Empty: applies everywhere.
    pub scopes: Vec<String>,
}

/// A product profile of one organization and one application (a licence configuration).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema), schema(value_type = String, format = Uuid))]
pub struct ProfileId(pub Uuid);

impl fmt::Display for ProfileId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

impl FromStr for ProfileId {
    type Err = uuid::Error;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Uuid::parse_str(s).map(Self)
    }
}

/// What the engine needs to know about a product profile: the roles of its application it
/// bundles. Holding a seat (directly or through a group) gives those roles.
#[derive(Debug, Clone)]
pub struct ProfileRule {
    pub id: ProfileId,
    pub application: String,
    pub name: String,
    pub roles: Vec<RoleId>,
}

/// Everything of one organization that affects decisions, as loaded from the store.
#[derive(Debug, Clone, Default)]
pub struct AuthzModel {
    pub users: Vec<(UserId, UserStatus)>,
    pub roles: Vec<RoleRule>,
    pub groups: Vec<(GroupId, String)>,
    pub group_members: Vec<(GroupId, UserId)>,
    pub group_roles: Vec<(GroupId, RoleId)>,
    pub user_roles: Vec<(UserId, RoleId)>,
    /// (application key, scope) for every non-root scope instance.
    pub scopes: Vec<(String, Scope)>,
    /// Product profiles. Once an application has one, its users reach it only through a
    /// profile seat or by holding its built-in Administrators role.
    pub profiles: Vec<ProfileRule>,
    /// Seats held directly.
    pub profile_users: Vec<(ProfileId, UserId)>,
    /// Groups assigned to profiles: every member holds a seat.
    pub profile_groups: Vec<(ProfileId, GroupId)>,
}

/// The result of a check. Deny reasons are data so callers can explain without a second query.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum Decision {
    Allow,
    Deny,
}

/// Why a check was denied (or, for `granted`, allowed).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum Reason {
    /// A role held by the user grants it.
    Granted,
    /// No such user in the organization (never existed, or deleted).
    UnknownUser,
    /// The user is invited or inactive.
    UserNotActive,
    /// The user holds no role in the application.
    NoRole,
    /// Roles are held, but none grants this resource and action.
    NotGranted,
    /// A role grants it, but only within other scopes.
    OutOfScope,
    /// The application is profile-gated and the user holds no seat in any of its product
    /// profiles (and is not one of its Administrators).
    NoLicence,
}

/// A check's input named a thing that does not exist: a client error, not a denial.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CheckError {
    #[error("unknown application {0:?}")]
    UnknownApplication(String),
    #[error("resource {0:?} is not in the application")]
    UnknownResource(String),
    #[error("action {0:?} is not supported by this resource")]
    UnsupportedAction(String),
    #[error("scope {0:?} does not exist in this application")]
    UnknownScope(String),
}

impl CheckError {
    /// The request field this error is about.
    pub fn field(&self) -> &'static str {
        match self {
            CheckError::UnknownApplication(_) => "application",
            CheckError::UnknownResource(_) => "resource",
            CheckError::UnsupportedAction(_) => "action",
            CheckError::UnknownScope(_) => "scope",
        }
    }
    pub fn rule(&self) -> &'static str {
        match self {
            CheckError::UnknownApplication(_) => "unknown_application",
            CheckError::UnknownResource(_) => "unknown_resource",
            CheckError::UnsupportedAction(_) => "unsupported_action",
            CheckError::UnknownScope(_) => "unknown_scope",
        }
    }
}

/// One role that contributed to an explanation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RoleMatch {
    pub role_id: RoleId,
    pub role_name: String,
    #[serde(flatten)]
    pub via: Via,
    /// Name of the group, when held through one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub group_name: Option<String>,
    /// The product profile bundling the role, when held through one (`via` then says how the
    /// user reaches the profile).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub profile_id: Option<ProfileId>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub profile_name: Option<String>,
    /// Scopes the role is limited to; empty means everywhere.
    pub scopes: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Explanation {
    pub decision: Decision,
    pub reason: Reason,
    pub message: String,
    /// Allow: every role that grants it. OutOfScope: the roles that grant it elsewhere.
    pub roles: Vec<RoleMatch>,
}

/// One resource the user may use, with the actions granted on it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct EffectivePermission {
    pub resource: String,
    pub title: String,
    pub actions: Vec<String>,
}

/// A compiled, immutable view of one organization's rights.
///
/// The per-user part is kept in chunks of [`CHUNK`] users behind `Arc`s, and the user index in
/// shards, so that [`OrgSnapshot::with_users`] can publish a change to a few users by copying
/// the chunks and shards they live in plus the two small tables, sharing everything else with
/// the snapshot it started from (issue 14: a change's cost must not grow with the organisation).
#[derive(Debug, Clone)]
pub struct OrgSnapshot {
    index: UserIndex,
    chunks: Vec<Arc<UserChunk>>,
    n_users: usize,
    apps: Arc<[AppSnapshot]>,
    group_names: Arc<FxHashMap<GroupId, String>>,
    /// What re-deriving one user's rows needs besides the user's own holdings.
    rules: Arc<incremental::Rules>,
}

/// Users per chunk: one change copies this many users' rows (and the chunk table).
pub(crate) const CHUNK: usize = 256;

/// Shards of the user index: one new user copies one shard (about n/256 entries).
const SHARDS: usize = 256;

/// `UserId` → dense index, split by the id's last byte (random in v4 and v7 UUIDs).
#[derive(Debug, Clone)]
struct UserIndex {
    shards: Vec<Arc<FxHashMap<UserId, u32>>>,
}

impl UserIndex {
    fn new() -> UserIndex {
        UserIndex {
            shards: (0..SHARDS)
                .map(|_| Arc::new(FxHashMap::default()))
                .collect(),
        }
    }

    #[inline]
    fn shard(id: &UserId) -> usize {
        (id.0.as_u128() as usize) % SHARDS
    }

    #[inline]
    fn get(&self, id: &UserId) -> Option<&u32> {
        self.shards[Self::shard(id)].get(id)
    }

    /// Copy-on-write: clones the shard only when another snapshot still shares it.
    fn insert(&mut self, id: UserId, index: u32) {
        Arc::make_mut(&mut self.shards[Self::shard(&id)]).insert(id, index);
    }

    fn capacity(&self) -> usize {
        self.shards.iter().map(|s| s.capacity()).sum()
    }
}

/// The rows of up to [`CHUNK`] consecutive users.
#[derive(Debug, Clone, Default)]
struct UserChunk {
    status: Vec<UserStatus>,
    /// One per application, in the order of `OrgSnapshot::apps`.
    apps: Vec<AppRows>,
}

/// One application's per-user data for the users of a chunk.
#[derive(Debug, Clone, Default)]
struct AppRows {
    /// Union of each user's unrestricted roles: `words` u64s per user, user-major.
    unrestricted: Vec<u64>,
    /// Users holding the built-in Administrators role.
    admin: Vec<bool>,
    /// Indices into `roles` of the scope-limited roles each user holds.
    restricted: Vec<Vec<u32>>,
    /// Every (role, path) a user holds, for explanations.
    held: Vec<Vec<Held>>,
    /// Users who may reach the application at all: everyone when it has no profile, otherwise
    /// those with a seat. Roles of the others are not folded into their bits.
    licensed: Vec<bool>,
}

/// What an application's part of the snapshot shares between every user.
#[derive(Debug, Clone)]
struct AppSnapshot {
    tree: Arc<AppTree>,
    scopes: ScopeIndex,
    roles: Vec<CompiledRole>,
    words: usize,
    /// The application's product profiles (id, name); empty: not profile-gated.
    profiles: Vec<(ProfileId, String)>,
}

/// The flat per-user vectors the full compile fills before they are cut into chunks.
struct FlatRows {
    words: usize,
    unrestricted: Vec<u64>,
    admin: Vec<bool>,
    restricted: Vec<Vec<u32>>,
    held: Vec<Vec<Held>>,
    licensed: Vec<bool>,
}

/// One path by which a user holds a role.
#[derive(Debug, Clone, Copy)]
struct Held {
    role: u32,
    via: Via,
    /// Index into `AppSnapshot::profiles` when the role comes bundled in a profile.
    profile: Option<u32>,
}

#[derive(Debug, Clone)]
struct CompiledRole {
    id: RoleId,
    name: String,
    admin: bool,
    /// `None`: unrestricted. `Some`: pre-order indices of the allowed scopes (may be empty if
    /// every listed scope was deleted, which then grants nothing rather than everything).
    scopes: Option<Vec<u32>>,
    scope_codes: Vec<String>,
    bits: Box<[u64]>,
}

#[derive(Debug, Clone)]
struct ScopeIndex {
    codes: Vec<String>,
    end: Vec<u32>,
    index: FxHashMap<String, u32>,
}

impl ScopeIndex {
    fn build(tree: &AppTree, scopes: &[&Scope]) -> ScopeIndex {
        let root = tree
            .def
            .scope_kinds
            .first()
            .cloned()
            .unwrap_or_else(|| "global".to_string());
        let mut children: FxHashMap<&str, Vec<&str>> = FxHashMap::default();
        for s in scopes {
            let parent = s
                .parent
                .as_ref()
                .map(|p| p.as_str())
                .unwrap_or(root.as_str());
            children.entry(parent).or_default().push(s.code.as_str());
        }
        for list in children.values_mut() {
            list.sort_unstable();
        }
        let mut out = ScopeIndex {
            codes: Vec::new(),
            end: Vec::new(),
            index: FxHashMap::default(),
        };
        fn walk(
            code: &str,
            children: &FxHashMap<&str, Vec<&str>>,
            out: &mut ScopeIndex,
            depth: usize,
        ) {
            let idx = out.codes.len();
            out.codes.push(code.to_string());
            out.end.push(0);
            out.index.insert(code.to_string(), idx as u32);
            if depth < 16 {
                for c in children.get(code).into_iter().flatten() {
                    if !out.index.contains_key(*c) {
                        walk(c, children, out, depth + 1);
                    }
                }
            }
            out.end[idx] = out.codes.len() as u32;
        }
        walk(&root, &children, &mut out, 0);
        out
    }

    #[inline]
    fn within(&self, allowed: &[u32], scope: u32) -> bool {
        allowed
            .iter()
            .any(|&a| a <= scope && scope < self.end[a as usize])
    }
}

/// Resolved check arguments, so batch callers and benchmarks can skip string lookups.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Query {
    app: u32,
    word: u32,
    mask: u64,
    scope: u32,
}

impl OrgSnapshot {
    /// Compiles an organization. Roles of applications missing from the catalogue and grants on
    /// resources the tree no longer has are ignored: they cannot grant anything.
    ///
    /// This is the reference: [`OrgSnapshot::with_users`] must give the same answers as
    /// compiling the changed model again (the property test in `authz/incremental.rs`).
    pub fn compile(apps: &[Arc<AppTree>], model: &AuthzModel) -> OrgSnapshot {
        let mut users = FxHashMap::default();
        users.reserve(model.users.len());
        let mut status = Vec::with_capacity(model.users.len());
        for (i, (id, st)) in model.users.iter().enumerate() {
            users.insert(*id, i as u32);
            status.push(*st);
        }
        let n_users = status.len();

        let mut app_index = FxHashMap::default();
        let mut snapshots: Vec<AppSnapshot> = Vec::with_capacity(apps.len());
        let mut flat: Vec<FlatRows> = Vec::with_capacity(apps.len());
        for (i, tree) in apps.iter().enumerate() {
            app_index.insert(tree.key().to_string(), i as u32);
            let scopes: Vec<&Scope> = model
                .scopes
                .iter()
                .filter(|(a, _)| a == tree.key())
                .map(|(_, s)| s)
                .collect();
            let words = (tree.resources.len() * tree.slots()).div_ceil(64);
            snapshots.push(AppSnapshot {
                tree: tree.clone(),
                scopes: ScopeIndex::build(tree, &scopes),
                roles: Vec::new(),
                words,
                profiles: Vec::new(),
            });
            flat.push(FlatRows {
                words,
                unrestricted: vec![0; words * n_users],
                admin: vec![false; n_users],
                restricted: vec![Vec::new(); n_users],
                held: vec![Vec::new(); n_users],
                licensed: vec![true; n_users],
            });
        }

        // Roles, compiled once each.
        let mut role_loc: FxHashMap<RoleId, (u32, u32)> = FxHashMap::default();
        for role in &model.roles {
            let Some(&a) = app_index.get(&role.application) else {
                continue;
            };
            let app = &mut snapshots[a as usize];
            let compiled = compile_role(app, role);
            role_loc.insert(role.id, (a, app.roles.len() as u32));
            app.roles.push(compiled);
        }

        // Who holds what: direct roles and roles through groups.
        let mut group_roles: FxHashMap<GroupId, Vec<RoleId>> = FxHashMap::default();
        for (g, r) in &model.group_roles {
            group_roles.entry(*g).or_default().push(*r);
        }
        let mut holdings: Vec<(u32, RoleId, Via, Option<u32>)> =
            Vec::with_capacity(model.user_roles.len() + model.group_members.len() * 2);
        for (u, r) in &model.user_roles {
            if let Some(&ui) = users.get(u) {
                holdings.push((ui, *r, Via::Direct, None));
            }
        }
        let mut members: FxHashMap<GroupId, Vec<u32>> = FxHashMap::default();
        for (g, u) in &model.group_members {
            let Some(&ui) = users.get(u) else {
                continue;
            };
            members.entry(*g).or_default().push(ui);
            if let Some(roles) = group_roles.get(g) {
                for r in roles {
                    holdings.push((ui, *r, Via::Group { group_id: *g }, None));
                }
            }
        }

        // Product profiles: an application with one is gated; a seat (direct or through a
        // group) licenses the user and gives the profile's roles. Roles of other applications
        // and the built-in Administrators role are never conferred by a profile.
        let mut profile_loc: FxHashMap<ProfileId, (u32, u32, Vec<RoleId>)> = FxHashMap::default();
        for p in &model.profiles {
            let Some(&a) = app_index.get(&p.application) else {
                continue;
            };
            let app = &mut snapshots[a as usize];
            if app.profiles.is_empty() {
                flat[a as usize]
                    .licensed
                    .iter_mut()
                    .for_each(|l| *l = false);
            }
            profile_loc.insert(p.id, (a, app.profiles.len() as u32, p.roles.clone()));
            app.profiles.push((p.id, p.name.clone()));
        }
        let mut seats: Vec<(u32, ProfileId, Via)> = Vec::new();
        for (p, u) in &model.profile_users {
            if let Some(&ui) = users.get(u) {
                seats.push((ui, *p, Via::Direct));
            }
        }
        for (p, g) in &model.profile_groups {
            for &ui in members.get(g).into_iter().flatten() {
                seats.push((ui, *p, Via::Group { group_id: *g }));
            }
        }
        for (ui, p, via) in seats {
            let Some((a, pi, roles)) = profile_loc.get(&p) else {
                continue;
            };
            let a = *a;
            flat[a as usize].licensed[ui as usize] = true;
            for r in roles {
                if let Some(&(ra, ri)) = role_loc.get(r) {
                    if ra == a && !snapshots[a as usize].roles[ri as usize].admin {
                        holdings.push((ui, *r, via, Some(*pi)));
                    }
                }
            }
        }

        for (ui, r, via, profile) in holdings {
            let Some(&(a, ri)) = role_loc.get(&r) else {
                continue;
            };
            let rows = &mut flat[a as usize];
            let u = ui as usize;
            rows.held[u].push(Held {
                role: ri,
                via,
                profile,
            });
            let role = &snapshots[a as usize].roles[ri as usize];
            if role.admin {
                rows.admin[u] = true;
            } else if !rows.licensed[u] {
                // Gated and unlicensed: the role is recorded but grants nothing here.
            } else if role.scopes.is_some() {
                if !rows.restricted[u].contains(&ri) {
                    rows.restricted[u].push(ri);
                }
            } else {
                let words = rows.words;
                for (dst, src) in rows.unrestricted[u * words..(u + 1) * words]
                    .iter_mut()
                    .zip(role.bits.iter())
                {
                    *dst |= *src;
                }
            }
        }

        let mut index = UserIndex::new();
        for (id, i) in users {
            index.insert(id, i);
        }
        OrgSnapshot {
            index,
            chunks: into_chunks(status, flat),
            n_users,
            apps: snapshots.into(),
            group_names: Arc::new(model.groups.iter().cloned().collect()),
            rules: Arc::new(incremental::Rules {
                role_loc,
                group_roles,
                profile_loc,
                profile_groups: model.profile_groups.clone(),
            }),
        }
    }

    /// The chunk and offset of a user's rows.
    #[inline]
    fn rows(&self, u: u32) -> (&UserChunk, usize) {
        let u = u as usize;
        (&self.chunks[u / CHUNK], u % CHUNK)
    }

    /// A handful of applications: comparing keys beats hashing them on the check path.
    #[inline]
    fn app_position(&self, application: &str) -> Result<u32, CheckError> {
        self.apps
            .iter()
            .position(|a| a.tree.key() == application)
            .map(|i| i as u32)
            .ok_or_else(|| CheckError::UnknownApplication(application.to_string()))
    }

    /// Resolves the non-user arguments of a check once.
    pub fn query(
        &self,
        application: &str,
        resource: &str,
        action: Option<&str>,
        scope: Option<&str>,
    ) -> Result<Query, CheckError> {
        let a = self.app_position(application)?;
        let app = &self.apps[a as usize];
        let r = app
            .tree
            .resource(resource)
            .ok_or_else(|| CheckError::UnknownResource(resource.to_string()))?;
        let slot = match action {
            None | Some("access") => 0,
            Some(name) => {
                let slot = app
                    .tree
                    .action_slot(name)
                    .ok_or_else(|| CheckError::UnsupportedAction(name.to_string()))?;
                if app.tree.resources[r as usize].action_mask & (1u64 << slot) == 0 {
                    return Err(CheckError::UnsupportedAction(name.to_string()));
                }
                slot
            }
        };
        let scope = match scope {
            None => 0,
            Some(code) => *app
                .scopes
                .index
                .get(code)
                .ok_or_else(|| CheckError::UnknownScope(code.to_string()))?,
        };
        let bit = r as usize * app.tree.slots() + slot as usize;
        Ok(Query {
            app: a,
            word: (bit / 64) as u32,
            mask: 1u64 << (bit % 64),
            scope,
        })
    }

    /// The hot path: may `user` do the resolved query?
    #[inline]
    pub fn decide(&self, user: &UserId, q: &Query) -> (Decision, Reason) {
        let Some(&u) = self.index.get(user) else {
            return (Decision::Deny, Reason::UnknownUser);
        };
        let (chunk, u) = self.rows(u);
        if chunk.status[u] != UserStatus::Active {
            return (Decision::Deny, Reason::UserNotActive);
        }
        let app = &self.apps[q.app as usize];
        let rows = &chunk.apps[q.app as usize];
        if rows.admin[u] || rows.unrestricted[u * app.words + q.word as usize] & q.mask != 0 {
            return (Decision::Allow, Reason::Granted);
        }
        if !rows.licensed[u] {
            return (Decision::Deny, Reason::NoLicence);
        }
        let mut out_of_scope = false;
        for &ri in &rows.restricted[u] {
            let role = &app.roles[ri as usize];
            if role.bits[q.word as usize] & q.mask != 0 {
                if app
                    .scopes
                    .within(role.scopes.as_deref().unwrap_or(&[]), q.scope)
                {
                    return (Decision::Allow, Reason::Granted);
                }
                out_of_scope = true;
            }
        }
        if out_of_scope {
            (Decision::Deny, Reason::OutOfScope)
        } else if rows.held[u].is_empty() {
            (Decision::Deny, Reason::NoRole)
        } else {
            (Decision::Deny, Reason::NotGranted)
        }
    }

    /// `check(user, application, resource, action, scope)`; `action` `None` means any use of the
    /// resource, `scope` `None` the application's root scope.
    pub fn check(
        &self,
        user: &UserId,
        application: &str,
        resource: &str,
        action: Option<&str>,
        scope: Option<&str>,
    ) -> Result<Decision, CheckError> {
        let q = self.query(application, resource, action, scope)?;
        Ok(if self.allows(user, &q) {
            Decision::Allow
        } else {
            Decision::Deny
        })
    }

    /// The decision alone: like [`OrgSnapshot::decide`] but without working out a deny reason,
    /// so a denial touches no more of the user's data than it must.
    #[inline]
    pub fn allows(&self, user: &UserId, q: &Query) -> bool {
        let Some(&u) = self.index.get(user) else {
            return false;
        };
        let (chunk, u) = self.rows(u);
        if chunk.status[u] != UserStatus::Active {
            return false;
        }
        let app = &self.apps[q.app as usize];
        let rows = &chunk.apps[q.app as usize];
        if rows.admin[u] || rows.unrestricted[u * app.words + q.word as usize] & q.mask != 0 {
            return true;
        }
        rows.licensed[u]
            && rows.restricted[u].iter().any(|&ri| {
                let role = &app.roles[ri as usize];
                role.bits[q.word as usize] & q.mask != 0
                    && app
                        .scopes
                        .within(role.scopes.as_deref().unwrap_or(&[]), q.scope)
            })
    }

    /// A check with the roles (and groups) that decided it, for people rather than hot paths.
    pub fn explain(
        &self,
        user: &UserId,
        application: &str,
        resource: &str,
        action: Option<&str>,
        scope: Option<&str>,
    ) -> Result<Explanation, CheckError> {
        let q = self.query(application, resource, action, scope)?;
        let (decision, reason) = self.decide(user, &q);
        let app = &self.apps[q.app as usize];
        let mut roles = Vec::new();
        if let Some(&u) = self.index.get(user) {
            let (chunk, u) = self.rows(u);
            for h in &chunk.apps[q.app as usize].held[u] {
                let (ri, via) = (h.role, h.via);
                let role = &app.roles[ri as usize];
                let grants = role.admin || role.bits[q.word as usize] & q.mask != 0;
                let in_scope = match &role.scopes {
                    None => true,
                    Some(allowed) => app.scopes.within(allowed, q.scope),
                };
                let relevant = match reason {
                    Reason::Granted => grants && in_scope,
                    Reason::OutOfScope => grants && !in_scope,
                    _ => false,
                };
                if relevant {
                    roles.push(RoleMatch {
                        role_id: role.id,
                        role_name: role.name.clone(),
                        via,
                        group_name: match via {
                            Via::Group { group_id } => self.group_names.get(&group_id).cloned(),
                            Via::Direct => None,
                        },
                        scopes: role.scope_codes.clone(),
                        profile_id: h.profile.map(|p| app.profiles[p as usize].0),
                        profile_name: h.profile.map(|p| app.profiles[p as usize].1.clone()),
                    });
                }
            }
        }
        let what = match action {
            Some(a) => format!("{a} on {resource}"),
            None => resource.to_string(),
        };
        let message = match reason {
            Reason::Granted => format!("{what} is granted by {}", describe_roles(&roles)),
            Reason::UnknownUser => "no such user in this organization".to_string(),
            Reason::UserNotActive => {
                let st = self
                    .index
                    .get(user)
                    .map(|&u| {
                        let (chunk, u) = self.rows(u);
                        chunk.status[u].as_str()
                    })
                    .unwrap_or("unknown");
                format!("the user is {st}; only active users have access")
            }
            Reason::NoRole => format!("the user holds no role in {application}"),
            Reason::NoLicence => format!("the user has no product profile for {application}"),
            Reason::NotGranted => format!("no role the user holds grants {what}"),
            Reason::OutOfScope => format!(
                "{what} is granted by {}, but not in scope {}",
                describe_roles(&roles),
                scope.unwrap_or(app.scopes.codes[0].as_str())
            ),
        };
        Ok(Explanation {
            decision,
            reason,
            message,
            roles,
        })
    }

    /// Everything the user may do in an application at a scope (the root scope by default).
    pub fn effective_permissions(
        &self,
        user: &UserId,
        application: &str,
        scope: Option<&str>,
    ) -> Result<Vec<EffectivePermission>, CheckError> {
        let a = self.app_position(application)?;
        let app = &self.apps[a as usize];
        let scope_idx = match scope {
            None => 0,
            Some(code) => *app
                .scopes
                .index
                .get(code)
                .ok_or_else(|| CheckError::UnknownScope(code.to_string()))?,
        };
        let Some(&u) = self.index.get(user) else {
            return Ok(Vec::new());
        };
        let (chunk, u) = self.rows(u);
        if chunk.status[u] != UserStatus::Active {
            return Ok(Vec::new());
        }
        let rows = &chunk.apps[a as usize];
        let mut bits: Vec<u64> = if rows.admin[u] {
            vec![u64::MAX; app.words]
        } else {
            rows.unrestricted[u * app.words..(u + 1) * app.words].to_vec()
        };
        for &ri in &rows.restricted[u] {
            let role = &app.roles[ri as usize];
            if app
                .scopes
                .within(role.scopes.as_deref().unwrap_or(&[]), scope_idx)
            {
                for (d, s) in bits.iter_mut().zip(role.bits.iter()) {
                    *d |= *s;
                }
            }
        }
        let slots = app.tree.slots();
        let mut out = Vec::new();
        for (r, node) in app.tree.resources.iter().enumerate() {
            let test = |slot: usize| {
                let bit = r * slots + slot;
                bits[bit / 64] & (1u64 << (bit % 64)) != 0 && node.action_mask & (1u64 << slot) != 0
            };
            if !test(0) {
                continue;
            }
            let actions = app
                .tree
                .actions()
                .iter()
                .enumerate()
                .filter(|(i, _)| test(i + 1))
                .map(|(_, a)| a.clone())
                .collect();
            out.push(EffectivePermission {
                resource: node.id.clone(),
                title: node.title.clone(),
                actions,
            });
        }
        Ok(out)
    }

    /// Approximate heap size, for BENCHMARKS.md.
    pub fn approx_bytes(&self) -> usize {
        let mut n = self.index.capacity() * (16 + 4 + 8) + self.chunks.capacity() * 8;
        for chunk in &self.chunks {
            n += chunk.status.capacity();
            for rows in &chunk.apps {
                n += rows.unrestricted.capacity() * 8
                    + rows.admin.capacity()
                    + rows.licensed.capacity();
                n += rows
                    .restricted
                    .iter()
                    .map(|v| 24 + v.capacity() * 4)
                    .sum::<usize>();
                n += rows
                    .held
                    .iter()
                    .map(|v| 24 + v.capacity() * std::mem::size_of::<Held>())
                    .sum::<usize>();
            }
        }
        for app in self.apps.iter() {
            n += app
                .roles
                .iter()
                .map(|r| 96 + r.bits.len() * 8 + r.name.len())
                .sum::<usize>();
        }
        n
    }

    pub fn user_count(&self) -> usize {
        self.n_users
    }
}

/// Cuts the full compile's flat vectors into chunks of [`CHUNK`] users.
fn into_chunks(status: Vec<UserStatus>, mut flat: Vec<FlatRows>) -> Vec<Arc<UserChunk>> {
    let n = status.len();
    let mut chunks = Vec::with_capacity(n.div_ceil(CHUNK));
    let mut status = status.into_iter();
    let mut restricted: Vec<_> = flat
        .iter_mut()
        .map(|f| std::mem::take(&mut f.restricted).into_iter())
        .collect();
    let mut held: Vec<_> = flat
        .iter_mut()
        .map(|f| std::mem::take(&mut f.held).into_iter())
        .collect();
    for start in (0..n).step_by(CHUNK) {
        let end = (start + CHUNK).min(n);
        let len = end - start;
        chunks.push(Arc::new(UserChunk {
            status: status.by_ref().take(len).collect(),
            apps: flat
                .iter()
                .enumerate()
                .map(|(a, f)| AppRows {
                    unrestricted: f.unrestricted[start * f.words..end * f.words].to_vec(),
                    admin: f.admin[start..end].to_vec(),
                    restricted: restricted[a].by_ref().take(len).collect(),
                    held: held[a].by_ref().take(len).collect(),
                    licensed: f.licensed[start..end].to_vec(),
                })
                .collect(),
        }));
    }
    chunks
}

fn describe_roles(roles: &[RoleMatch]) -> String {
    let parts: Vec<String> = roles
        .iter()
        .map(|r| match (&r.profile_name, &r.group_name) {
            (Some(p), Some(g)) => format!(
                "role {} (through product profile {p}, assigned to group {g})",
                r.role_name
            ),
            (Some(p), None) => format!("role {} (through product profile {p})", r.role_name),
            (None, Some(g)) => format!("role {} (through group {g})", r.role_name),
            (None, None) => format!("role {} (held directly)", r.role_name),
        })
        .collect();
    parts.join(", ")
}

fn compile_role(app: &AppSnapshot, role: &RoleRule) -> CompiledRole {
    let tree = &app.tree;
    let slots = tree.slots();
    let mut bits = vec![0u64; app.words].into_boxed_slice();
    if role.builtin_admin {
        bits.iter_mut().for_each(|w| *w = u64::MAX);
    } else {
        for g in &role.grants {
            let Some(r) = tree.resource(&g.resource) else {
                continue;
            };
            let mask = tree.action_mask(&g.actions);
            let end = tree.resources[r as usize].end;
            for n in r..end {
                let m = mask & tree.resources[n as usize].action_mask;
                // A grant of named actions reaches only the nodes that support one of them:
                // "view" on a project does not open its SSH access.
                if mask != u64::MAX && m & !1 == 0 {
                    continue;
                }
                let base = n as usize * slots;
                let mut rest = m;
                while rest != 0 {
                    let slot = rest.trailing_zeros() as usize;
                    rest &= rest - 1;
                    let bit = base + slot;
                    bits[bit / 64] |= 1u64 << (bit % 64);
                }
            }
        }
    }
    let scopes = if role.builtin_admin || role.scopes.is_empty() {
        None
    } else {
        Some(
            role.scopes
                .iter()
                .filter_map(|c| app.scopes.index.get(c).copied())
                .collect(),
        )
    };
    CompiledRole {
        id: role.id,
        name: role.name.clone(),
        admin: role.builtin_admin,
        scopes,
        scope_codes: if role.builtin_admin {
            Vec::new()
        } else {
            role.scopes.clone()
        },
        bits,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalogue::tests::sample_def;
    use crate::model::ActionSet;
    use crate::validate::ScopeCode;
    use uuid::Uuid;

    struct Fixture {
        apps: Vec<Arc<AppTree>>,
        model: AuthzModel,
    }

    fn uid(n: u128) -> UserId {
        UserId(Uuid::from_u128(n))
    }
    fn rid(n: u128) -> RoleId {
        RoleId(Uuid::from_u128(1000 + n))
    }
    fn gid(n: u128) -> GroupId {
        GroupId(Uuid::from_u128(2000 + n))
    }

    fn grant(resource: &str, actions: &[&str]) -> Grant {
        Grant {
            resource: resource.into(),
            actions: if actions == ["*"] {
                ActionSet::All
            } else {
                ActionSet::Only(actions.iter().map(|s| s.to_string()).collect())
            },
        }
    }

    fn role(n: u128, name: &str, grants: Vec<Grant>, scopes: &[&str]) -> RoleRule {
        RoleRule {
            id: rid(n),
            application: "shop".into(),
            name: name.into(),
            builtin_admin: false,
            grants,
            scopes: scopes.iter().map(|s| s.to_string()).collect(),
        }
    }

    fn fixture() -> Fixture {
        let tree = Arc::new(AppTree::compile(sample_def()).unwrap());
        let scopes = tree
            .def
            .default_scopes
            .iter()
            .map(|s| {
                let parent = if s.parent == "global" {
                    None
                } else {
                    Some(ScopeCode::parse("p", &s.parent).unwrap())
                };
                (
                    "shop".to_string(),
                    Scope {
                        code: ScopeCode::parse("c", &s.code).unwrap(),
                        kind: s.kind.clone(),
                        parent,
                        name: String::new(),
                    },
                )
            })
            .collect();
        let model = AuthzModel {
            users: (1..=6)
                .map(|n| {
                    (
                        uid(n),
                        if n == 5 {
                            UserStatus::Inactive
                        } else if n == 6 {
                            UserStatus::Invited
                        } else {
                            UserStatus::Active
                        },
                    )
                })
                .collect(),
            roles: vec![
                RoleRule {
                    id: rid(0),
                    application: "shop".into(),
                    name: "Administrators".into(),
                    builtin_admin: true,
                    grants: vec![],
                    scopes: vec![],
                },
                role(1, "sales-viewer", vec![grant("sales", &["view"])], &[]),
                role(2, "catalog-editor", vec![grant("catalog", &["*"])], &[]),
                role(
                    3,
                    "eu-orders",
                    vec![grant("sales.orders", &["view", "edit"])],
                    &["eu"],
                ),
            ],
            groups: vec![(gid(1), "Merchandisers".into())],
            group_members: vec![(gid(1), uid(2))],
            group_roles: vec![(gid(1), rid(2))],
            user_roles: vec![
                (uid(1), rid(0)),
                (uid(2), rid(1)),
                (uid(3), rid(3)),
                (uid(5), rid(0)),
                (uid(6), rid(1)),
            ],
            scopes,
            ..Default::default()
        };
        Fixture {
            apps: vec![tree],
            model,
        }
    }

    fn snap(f: &Fixture) -> OrgSnapshot {
        OrgSnapshot::compile(&f.apps, &f.model)
    }

    #[test]
    fn a_grant_on_a_node_covers_its_subtree_only() {
        let s = snap(&fixture());
        let u = uid(2);
        assert_eq!(
            s.check(&u, "shop", "sales", Some("view"), None),
            Ok(Decision::Allow)
        );
        assert_eq!(
            s.check(&u, "shop", "sales.orders.invoice", Some("view"), None),
            Ok(Decision::Allow)
        );
        assert_eq!(
            s.check(&u, "shop", "sales.shipments", None, None),
            Ok(Decision::Allow)
        );
        assert_eq!(
            s.check(&u, "shop", "sales.orders", Some("edit"), None),
            Ok(Decision::Deny)
        );
        assert_eq!(
            s.check(&u, "shop", "admin", None, None),
            Ok(Decision::Deny),
            "a grant never covers ancestors"
        );
        assert_eq!(
            s.check(&u, "shop", "system", None, None),
            Ok(Decision::Deny)
        );
    }

    #[test]
    fn roles_through_groups_add_to_direct_roles() {
        let s = snap(&fixture());
        let u = uid(2);
        assert_eq!(
            s.check(&u, "shop", "catalog.products", Some("delete"), None),
            Ok(Decision::Allow)
        );
        let e = s
            .explain(&u, "shop", "catalog.products", Some("delete"), None)
            .unwrap();
        assert_eq!(e.reason, Reason::Granted);
        assert_eq!(e.roles.len(), 1);
        assert_eq!(e.roles[0].role_name, "catalog-editor");
        assert_eq!(e.roles[0].via, Via::Group { group_id: gid(1) });
        assert!(
            e.message.contains("through group Merchandisers"),
            "{}",
            e.message
        );
        let e = s.explain(&u, "shop", "sales", Some("view"), None).unwrap();
        assert_eq!(e.roles[0].via, Via::Direct);
    }

    #[test]
    fn administrators_grant_everything_everywhere() {
        let s = snap(&fixture());
        for r in ["admin", "system", "sales.orders.invoice"] {
            assert_eq!(
                s.check(&uid(1), "shop", r, None, Some("us_en")),
                Ok(Decision::Allow),
                "{r}"
            );
        }
        assert_eq!(
            s.check(
                &uid(1),
                "shop",
                "catalog.products",
                Some("delete"),
                Some("eu")
            ),
            Ok(Decision::Allow)
        );
    }

    #[test]
    fn scoped_roles_apply_within_their_scopes_only() {
        let s = snap(&fixture());
        let u = uid(3);
        assert_eq!(
            s.check(&u, "shop", "sales.orders", Some("edit"), Some("eu")),
            Ok(Decision::Allow)
        );
        assert_eq!(
            s.check(&u, "shop", "sales.orders", Some("edit"), Some("eu_fr")),
            Ok(Decision::Allow),
            "descendant scope"
        );
        assert_eq!(
            s.check(&u, "shop", "sales.orders", Some("edit"), Some("us_en")),
            Ok(Decision::Deny)
        );
        assert_eq!(
            s.check(&u, "shop", "sales.orders", Some("edit"), None),
            Ok(Decision::Deny),
            "a website role sees nothing global"
        );
        let e = s
            .explain(&u, "shop", "sales.orders", Some("edit"), Some("us"))
            .unwrap();
        assert_eq!(e.reason, Reason::OutOfScope);
        assert_eq!(e.roles[0].scopes, vec!["eu".to_string()]);
    }

    #[test]
    fn deleted_scopes_never_widen_a_role() {
        let mut f = fixture();
        f.model.roles[3].scopes = vec!["gone".into()];
        let s = snap(&f);
        assert_eq!(
            s.check(&uid(3), "shop", "sales.orders", Some("view"), Some("eu")),
            Ok(Decision::Deny)
        );
        assert_eq!(
            s.check(&uid(3), "shop", "sales.orders", Some("view"), None),
            Ok(Decision::Deny)
        );
    }

    #[test]
    fn only_active_users_get_anything() {
        let s = snap(&fixture());
        let e = s.explain(&uid(5), "shop", "system", None, None).unwrap();
        assert_eq!(
            (e.decision, e.reason),
            (Decision::Deny, Reason::UserNotActive)
        );
        assert!(e.message.contains("inactive"));
        assert_eq!(
            s.explain(&uid(6), "shop", "sales", None, None)
                .unwrap()
                .reason,
            Reason::UserNotActive
        );
        assert_eq!(
            s.explain(&uid(99), "shop", "sales", None, None)
                .unwrap()
                .reason,
            Reason::UnknownUser
        );
        assert!(s
            .effective_permissions(&uid(5), "shop", None)
            .unwrap()
            .is_empty());
    }

    #[test]
    fn deny_reasons_distinguish_no_role_from_not_granted() {
        let s = snap(&fixture());
        assert_eq!(
            s.explain(&uid(4), "shop", "sales", None, None)
                .unwrap()
                .reason,
            Reason::NoRole
        );
        assert_eq!(
            s.explain(&uid(2), "shop", "system", None, None)
                .unwrap()
                .reason,
            Reason::NotGranted
        );
    }

    #[test]
    fn bad_arguments_are_errors_not_denials() {
        let s = snap(&fixture());
        let u = uid(1);
        assert_eq!(
            s.check(&u, "nope", "sales", None, None),
            Err(CheckError::UnknownApplication("nope".into()))
        );
        assert_eq!(
            s.check(&u, "shop", "nope", None, None),
            Err(CheckError::UnknownResource("nope".into()))
        );
        assert_eq!(
            s.check(&u, "shop", "system", Some("edit"), None),
            Err(CheckError::UnsupportedAction("edit".into()))
        );
        assert_eq!(
            s.check(&u, "shop", "sales", Some("fly"), None),
            Err(CheckError::UnsupportedAction("fly".into()))
        );
        assert_eq!(
            s.check(&u, "shop", "sales", None, Some("mars")),
            Err(CheckError::UnknownScope("mars".into()))
        );
    }

    #[test]
    fn effective_permissions_are_the_union_at_a_scope() {
        let s = snap(&fixture());
        let perms = s.effective_permissions(&uid(2), "shop", None).unwrap();
        let ids: Vec<&str> = perms.iter().map(|p| p.resource.as_str()).collect();
        assert_eq!(
            ids,
            [
                "sales",
                "sales.orders",
                "sales.orders.invoice",
                "sales.shipments",
                "catalog",
                "catalog.products"
            ]
        );
        assert_eq!(perms[1].actions, vec!["view".to_string()]);
        assert_eq!(perms[5].actions, vec!["view", "add", "edit", "delete"]);
        assert!(s
            .effective_permissions(&uid(3), "shop", None)
            .unwrap()
            .is_empty());
        let eu = s
            .effective_permissions(&uid(3), "shop", Some("eu_fr"))
            .unwrap();
        assert_eq!(
            eu.iter().map(|p| p.resource.as_str()).collect::<Vec<_>>(),
            ["sales.orders", "sales.orders.invoice"]
        );
        assert_eq!(eu[0].actions, vec!["view", "edit"]);
        assert_eq!(
            s.effective_permissions(&uid(1), "shop", None)
                .unwrap()
                .len(),
            8
        );
    }

    #[test]
    fn grants_on_resources_no_longer_in_the_tree_grant_nothing() {
        let mut f = fixture();
        f.model.roles[1]
            .grants
            .push(grant("removed.section", &["*"]));
        let s = snap(&f);
        assert_eq!(
            s.check(&uid(2), "shop", "sales", Some("view"), None),
            Ok(Decision::Allow)
        );
        assert_eq!(
            s.check(&uid(2), "shop", "system", None, None),
            Ok(Decision::Deny)
        );
    }

    // ------------------------------------------------------------ product profiles

    fn pid(n: u128) -> ProfileId {
        ProfileId(Uuid::from_u128(3000 + n))
    }

    /// The fixture plus a second application `other` (same tree) where user 2 holds a role,
    /// and one profile "Shop Sales" of `shop` bundling sales-viewer.
    fn gated() -> Fixture {
        let mut f = fixture();
        let mut def = sample_def();
        def.key = "other".into();
        f.apps.push(Arc::new(AppTree::compile(def).unwrap()));
        let mut r = role(9, "other-sales", vec![grant("sales", &["view"])], &[]);
        r.application = "other".into();
        f.model.roles.push(r);
        f.model.user_roles.push((uid(2), rid(9)));
        f.model.profiles.push(ProfileRule {
            id: pid(1),
            application: "shop".into(),
            name: "Shop Sales".into(),
            roles: vec![rid(1)],
        });
        f
    }

    #[test]
    fn a_profile_gates_its_application() {
        let s = snap(&gated());
        // User 2 holds sales-viewer directly and catalog-editor through a group, but no seat.
        let e = s
            .explain(&uid(2), "shop", "sales", Some("view"), None)
            .unwrap();
        assert_eq!((e.decision, e.reason), (Decision::Deny, Reason::NoLicence));
        assert_eq!(e.message, "the user has no product profile for shop");
        assert!(e.roles.is_empty());
        assert_eq!(
            s.check(&uid(2), "shop", "catalog.products", Some("delete"), None),
            Ok(Decision::Deny)
        );
        assert!(s
            .effective_permissions(&uid(2), "shop", None)
            .unwrap()
            .is_empty());
        // A user with nothing at all is also told about the licence, not the role.
        assert_eq!(
            s.explain(&uid(4), "shop", "sales", None, None)
                .unwrap()
                .reason,
            Reason::NoLicence
        );
        // Administrators need no seat.
        assert_eq!(
            s.check(&uid(1), "shop", "system", None, Some("eu")),
            Ok(Decision::Allow)
        );
        // Inactive users stay inactive, seat or not.
        assert_eq!(
            s.explain(&uid(6), "shop", "sales", None, None)
                .unwrap()
                .reason,
            Reason::UserNotActive
        );
        // The application without profiles behaves as before.
        assert_eq!(
            s.check(&uid(2), "other", "sales", Some("view"), None),
            Ok(Decision::Allow)
        );
        assert_eq!(
            s.explain(&uid(4), "other", "sales", None, None)
                .unwrap()
                .reason,
            Reason::NoRole
        );
    }

    #[test]
    fn a_seat_gives_bundled_roles_plus_held_roles() {
        let mut f = gated();
        f.model.profile_users.push((pid(1), uid(2)));
        f.model.profile_users.push((pid(1), uid(4)));
        let s = snap(&f);
        // User 4 holds nothing but the seat: the bundle's role.
        let e = s
            .explain(&uid(4), "shop", "sales.orders", Some("view"), None)
            .unwrap();
        assert_eq!((e.decision, e.reason), (Decision::Allow, Reason::Granted));
        assert_eq!(e.roles.len(), 1);
        assert_eq!(e.roles[0].role_name, "sales-viewer");
        assert_eq!(e.roles[0].profile_id, Some(pid(1)));
        assert_eq!(e.roles[0].profile_name.as_deref(), Some("Shop Sales"));
        assert_eq!(e.roles[0].via, Via::Direct);
        assert!(
            e.message.contains("through product profile Shop Sales"),
            "{}",
            e.message
        );
        assert_eq!(
            s.check(&uid(4), "shop", "catalog", None, None),
            Ok(Decision::Deny)
        );
        assert_eq!(
            s.explain(&uid(4), "shop", "catalog", None, None)
                .unwrap()
                .reason,
            Reason::NotGranted
        );
        // User 2: the union of the bundle and the roles held directly and through groups.
        assert_eq!(
            s.check(&uid(2), "shop", "catalog.products", Some("delete"), None),
            Ok(Decision::Allow)
        );
        let e = s
            .explain(&uid(2), "shop", "sales", Some("view"), None)
            .unwrap();
        assert_eq!(e.roles.len(), 2, "held directly and through the profile");
        assert_eq!(
            s.effective_permissions(&uid(2), "shop", None)
                .unwrap()
                .len(),
            6
        );
    }

    #[test]
    fn a_seat_through_a_group_licenses_every_member() {
        let mut f = gated();
        f.model.groups.push((gid(2), "EU team".into()));
        f.model.group_members.push((gid(2), uid(3)));
        f.model.profile_groups.push((pid(1), gid(2)));
        let s = snap(&f);
        // User 3's own scoped role applies again, plus the bundle.
        assert_eq!(
            s.check(&uid(3), "shop", "sales.orders", Some("edit"), Some("eu")),
            Ok(Decision::Allow)
        );
        assert_eq!(
            s.explain(&uid(3), "shop", "sales.orders", Some("edit"), Some("us"))
                .unwrap()
                .reason,
            Reason::OutOfScope
        );
        let e = s
            .explain(&uid(3), "shop", "sales", Some("view"), None)
            .unwrap();
        assert_eq!(e.decision, Decision::Allow);
        assert_eq!(e.roles[0].via, Via::Group { group_id: gid(2) });
        assert_eq!(e.roles[0].group_name.as_deref(), Some("EU team"));
        assert!(
            e.message
                .contains("through product profile Shop Sales, assigned to group EU team"),
            "{}",
            e.message
        );
        assert_eq!(
            s.explain(&uid(2), "shop", "sales", None, None)
                .unwrap()
                .reason,
            Reason::NoLicence
        );
    }

    #[test]
    fn profiles_never_confer_administrators_or_other_applications_roles() {
        let mut f = gated();
        f.model.profiles[0].roles = vec![rid(0), rid(9)];
        f.model.profile_users.push((pid(1), uid(4)));
        let s = snap(&f);
        let e = s.explain(&uid(4), "shop", "system", None, None).unwrap();
        assert_eq!((e.decision, e.reason), (Decision::Deny, Reason::NoRole));
        assert_eq!(
            s.check(&uid(4), "other", "sales", None, None),
            Ok(Decision::Deny)
        );
        // A profile of an application missing from the catalogue gates nothing.
        let mut f = fixture();
        f.model.profiles.push(ProfileRule {
            id: pid(2),
            application: "gone".into(),
            name: "Gone".into(),
            roles: vec![],
        });
        assert_eq!(
            snap(&f).check(&uid(2), "shop", "sales", Some("view"), None),
            Ok(Decision::Allow)
        );
    }

    #[test]
    fn no_licence_serialises_in_snake_case() {
        assert_eq!(
            serde_json::to_value(Reason::NoLicence).unwrap(),
            serde_json::json!("no_licence")
        );
    }
}
