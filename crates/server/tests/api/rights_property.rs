//! The rights invariant as a property (issue 9), against the real use cases and database:
//!
//! > An administrative operation by A changes access only within what A administers, and never
//! > the access of A — nor of anyone A's delegated rights come from.
//!
//! Random organisations (three applications with their `Administrators` roles, custom roles,
//! groups carrying roles and profile seats, profiles, delegated admins of every kind) and random
//! sequences of operations by random admins. After every operation the use cases accepted, the
//! whole organisation is observed again and compared with before, by an oracle written here
//! independently of `rolecall_core::change` (effective permissions from the compiled snapshot,
//! holdings and admin rights read straight from the tables).
//!
//! The run prints its seed; `ROLECALL_PROPTEST_SEED=<n>` replays it and
//! `ROLECALL_PROPTEST_CASES=<n>` makes a long run (CI runs a bounded one).

use crate::helpers::{config_for, start_server, Backend, TestClock};
use proptest::prelude::*;
use proptest::test_runner::{Config, RngAlgorithm, TestCaseError, TestRng, TestRunner};
use rolecall::auth::{OrgAdmin, Principal};
use rolecall::directory::{Directory, NewProfile, NewRole, NewUser, ProfilePatch, RolePatch};
use rolecall_core::admin::AdminRight;
use rolecall_core::authz::ProfileId;
use rolecall_core::model::{ActionSet, Grant, GroupId, Organization, Role, RoleId, UserId};
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

const USERS: usize = 6;
const GROUPS: usize = 3;
const APPS: [&str; 3] = ["commerce-admin", "cloud-project", "site-search"];

/// An admin right by index (resolved against the organisation at run time).
#[derive(Debug, Clone)]
enum RightSpec {
    System,
    Product(usize),
    Profile(usize),
    Group(usize),
    Support,
}

#[derive(Debug, Clone)]
enum Op {
    AssignRole(usize, usize),
    UnassignRole(usize, usize),
    AddMember(usize, usize),
    RemoveMember(usize, usize),
    AddGroupRole(usize, usize),
    RemoveGroupRole(usize, usize),
    AddSeat(usize, usize),
    RemoveSeat(usize, usize),
    AddGroupSeat(usize, usize),
    RemoveGroupSeat(usize, usize),
    EditBundle(usize, Vec<usize>),
    EditRole(usize, bool),
    DeleteRole(usize),
    Grant(usize, RightSpec),
    Revoke(usize, RightSpec),
    Deactivate(usize),
    Reactivate(usize),
    CreateProfile(usize, Vec<usize>),
    DeleteProfile(usize),
    DeleteGroup(usize),
}

#[derive(Debug, Clone)]
struct Script {
    rights: Vec<(usize, RightSpec)>,
    direct: Vec<(usize, usize)>,
    members: Vec<(usize, usize)>,
    group_roles: Vec<(usize, usize)>,
    profiles: Vec<(usize, Vec<usize>)>,
    seats: Vec<(usize, usize)>,
    group_seats: Vec<(usize, usize)>,
    steps: Vec<(usize, Op)>,
}

fn right_spec() -> impl Strategy<Value = RightSpec> {
    prop_oneof![
        1 => Just(RightSpec::System),
        3 => (0..APPS.len()).prop_map(RightSpec::Product),
        3 => (0..4usize).prop_map(RightSpec::Profile),
        3 => (0..GROUPS).prop_map(RightSpec::Group),
        1 => Just(RightSpec::Support),
    ]
}

fn op() -> impl Strategy<Value = Op> {
    let u = 0..USERS;
    let g = 0..GROUPS;
    let r = 0..64usize;
    let p = 0..4usize;
    prop_oneof![
        3 => (u.clone(), r.clone()).prop_map(|(a, b)| Op::AssignRole(a, b)),
        1 => (u.clone(), r.clone()).prop_map(|(a, b)| Op::UnassignRole(a, b)),
        3 => (g.clone(), u.clone()).prop_map(|(a, b)| Op::AddMember(a, b)),
        1 => (g.clone(), u.clone()).prop_map(|(a, b)| Op::RemoveMember(a, b)),
        2 => (g.clone(), r.clone()).prop_map(|(a, b)| Op::AddGroupRole(a, b)),
        1 => (g.clone(), r.clone()).prop_map(|(a, b)| Op::RemoveGroupRole(a, b)),
        2 => (p.clone(), u.clone()).prop_map(|(a, b)| Op::AddSeat(a, b)),
        1 => (p.clone(), u.clone()).prop_map(|(a, b)| Op::RemoveSeat(a, b)),
        2 => (p.clone(), g.clone()).prop_map(|(a, b)| Op::AddGroupSeat(a, b)),
        1 => (p.clone(), g.clone()).prop_map(|(a, b)| Op::RemoveGroupSeat(a, b)),
        1 => (p.clone(), prop::collection::vec(r.clone(), 0..3)).prop_map(|(a, b)| Op::EditBundle(a, b)),
        1 => (r.clone(), any::<bool>()).prop_map(|(a, b)| Op::EditRole(a, b)),
        1 => r.clone().prop_map(Op::DeleteRole),
        3 => (u.clone(), right_spec()).prop_map(|(a, b)| Op::Grant(a, b)),
        1 => (u.clone(), right_spec()).prop_map(|(a, b)| Op::Revoke(a, b)),
        1 => u.clone().prop_map(Op::Deactivate),
        1 => u.clone().prop_map(Op::Reactivate),
        1 => (0..APPS.len(), prop::collection::vec(r.clone(), 0..3)).prop_map(|(a, b)| Op::CreateProfile(a, b)),
        1 => p.prop_map(Op::DeleteProfile),
        1 => g.prop_map(Op::DeleteGroup),
    ]
}

fn script(max_steps: usize) -> impl Strategy<Value = Script> {
    let u = 0..USERS;
    let g = 0..GROUPS;
    let r = 0..64usize;
    (
        prop::collection::vec((u.clone(), right_spec()), 4..12),
        prop::collection::vec((u.clone(), r.clone()), 0..6),
        prop::collection::vec((g.clone(), u.clone()), 0..8),
        prop::collection::vec((g.clone(), r.clone()), 0..5),
        prop::collection::vec((0..APPS.len(), prop::collection::vec(r, 0..3)), 0..4),
        prop::collection::vec((0..4usize, u.clone()), 0..5),
        prop::collection::vec((0..4usize, g), 0..3),
        prop::collection::vec((u, op()), 1..max_steps),
    )
        .prop_map(
            |(rights, direct, members, group_roles, profiles, seats, group_seats, steps)| Script {
                rights,
                direct,
                members,
                group_roles,
                profiles,
                seats,
                group_seats,
                steps,
            },
        )
}

/// The organisation's objects, by index.
struct Org {
    org: Organization,
    users: Vec<UserId>,
    groups: Vec<GroupId>,
    roles: Vec<Role>,
    profiles: Vec<(ProfileId, String)>,
}

impl Org {
    fn role(&self, i: usize) -> &Role {
        &self.roles[i % self.roles.len()]
    }
    fn right(&self, spec: &RightSpec) -> Option<AdminRight> {
        Some(match spec {
            RightSpec::System => AdminRight::System,
            RightSpec::Support => AdminRight::Support,
            RightSpec::Product(a) => AdminRight::Product {
                application: APPS[*a].to_string(),
            },
            RightSpec::Profile(p) => AdminRight::ProductProfile {
                profile_id: self.profiles.get(*p)?.0.to_string(),
            },
            RightSpec::Group(g) => AdminRight::UserGroup {
                group_id: self.groups[*g].to_string(),
            },
        })
    }
    fn as_user(&self, i: usize) -> OrgAdmin {
        OrgAdmin {
            org: self.org.clone(),
            principal: Principal::Person(self.users[i], String::new()),
        }
    }
}

/// A user's direct roles, groups and seats, as ids.
type Held = (BTreeSet<String>, BTreeSet<String>, BTreeSet<String>);

/// Everything the invariant talks about, observed from outside the rule.
#[derive(Debug, Clone, PartialEq, Eq)]
struct World {
    /// (user, application) → effective permissions.
    access: BTreeMap<(UserId, String), BTreeSet<String>>,
    /// user → (direct roles, groups, seats).
    holdings: BTreeMap<UserId, Held>,
    /// user → (kind, target, granted_by).
    rights: BTreeMap<UserId, BTreeSet<(String, String, Option<String>)>>,
    /// group → applications it carries (its roles' and its profiles').
    carried: BTreeMap<String, BTreeSet<String>>,
    /// group → applications of its roles only.
    carried_roles: BTreeMap<String, BTreeSet<String>>,
    /// group → its profiles with their application.
    carried_profiles: BTreeMap<String, BTreeSet<(String, String)>>,
    /// profile → application.
    profile_app: BTreeMap<String, String>,
}

async fn rows(dir: &Directory, sql: &str, args: &[String]) -> Vec<Vec<Option<String>>> {
    use sqlx::Row;
    let sql = rolecall::store::sql_for(dir.db.backend, sql);
    let mut q = sqlx::query(&sql);
    for a in args {
        q = q.bind(a.clone());
    }
    let out = q.fetch_all(&dir.db.pool).await.expect("query");
    out.iter()
        .map(|r| {
            (0..r.len())
                .map(|i| r.try_get::<Option<String>, _>(i).expect("text column"))
                .collect()
        })
        .collect()
}

async fn observe(dir: &Directory, o: &Org) -> World {
    let compiled = dir.recompile(o.org.id).await.expect("compile");
    let mut access = BTreeMap::new();
    for u in &o.users {
        for app in APPS {
            let perms = compiled
                .snapshot
                .effective_permissions(u, app, None)
                .expect("permissions");
            let set = perms
                .into_iter()
                .map(|p| format!("{} {:?}", p.resource, p.actions))
                .collect();
            access.insert((*u, app.to_string()), set);
        }
    }
    let mut holdings = BTreeMap::new();
    let mut rights = BTreeMap::new();
    for u in &o.users {
        let id = u.to_string();
        let one = |rows: Vec<Vec<Option<String>>>| -> BTreeSet<String> {
            rows.into_iter()
                .filter_map(|r| r.into_iter().next().flatten())
                .collect()
        };
        let direct = one(rows(
            dir,
            "SELECT role_id FROM user_roles WHERE user_id = $1",
            std::slice::from_ref(&id),
        )
        .await);
        let groups = one(rows(
            dir,
            "SELECT group_id FROM group_members WHERE user_id = $1",
            std::slice::from_ref(&id),
        )
        .await);
        let seats = one(rows(
            dir,
            "SELECT profile_id FROM profile_users WHERE user_id = $1",
            std::slice::from_ref(&id),
        )
        .await);
        holdings.insert(*u, (direct, groups, seats));
        let r = rows(
            dir,
            "SELECT kind, target, granted_by FROM admin_rights WHERE user_id = $1",
            &[id],
        )
        .await
        .into_iter()
        .map(|r| {
            (
                r[0].clone().unwrap_or_default(),
                r[1].clone().unwrap_or_default(),
                r[2].clone(),
            )
        })
        .collect();
        rights.insert(*u, r);
    }
    let mut carried: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    let mut carried_roles: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    let mut carried_profiles: BTreeMap<String, BTreeSet<(String, String)>> = BTreeMap::new();
    for r in rows(
        dir,
        "SELECT gr.group_id, r.application FROM group_roles gr JOIN roles r ON r.id = gr.role_id",
        &[],
    )
    .await
    {
        if let (Some(g), Some(a)) = (r[0].clone(), r[1].clone()) {
            carried.entry(g.clone()).or_default().insert(a.clone());
            carried_roles.entry(g).or_default().insert(a);
        }
    }
    for r in rows(
        dir,
        "SELECT pg.group_id, p.id, p.application FROM profile_groups pg JOIN profiles p ON p.id = pg.profile_id",
        &[],
    )
    .await
    {
        if let (Some(g), Some(p), Some(a)) = (r[0].clone(), r[1].clone(), r[2].clone()) {
            carried.entry(g.clone()).or_default().insert(a.clone());
            carried_profiles.entry(g).or_default().insert((p, a));
        }
    }
    let profile_app = rows(dir, "SELECT id, application FROM profiles", &[])
        .await
        .into_iter()
        .filter_map(|r| Some((r[0].clone()?, r[1].clone()?)))
        .collect();
    World {
        access,
        holdings,
        rights,
        carried,
        carried_roles,
        carried_profiles,
        profile_app,
    }
}

/// The oracle's view of an admin: their rights as (kind, target).
fn rights_of(w: &World, u: UserId) -> Vec<(String, String)> {
    w.rights
        .get(&u)
        .map(|s| s.iter().map(|(k, t, _)| (k.clone(), t.clone())).collect())
        .unwrap_or_default()
}

fn is_system(w: &World, u: UserId) -> bool {
    rights_of(w, u).iter().any(|(k, _)| k == "system")
}

/// Applications whose access `a` may change for others.
fn reach(w: &World, a: UserId) -> Option<BTreeSet<String>> {
    if is_system(w, a) {
        return None; // everything
    }
    let mut out = BTreeSet::new();
    for (kind, target) in rights_of(w, a) {
        match kind.as_str() {
            "product" => {
                out.insert(target);
            }
            "product_profile" => {
                if let Some(app) = w.profile_app.get(&target) {
                    out.insert(app.clone());
                }
            }
            "user_group" => {
                out.extend(w.carried.get(&target).cloned().unwrap_or_default());
            }
            _ => {}
        }
    }
    Some(out)
}

/// Who each right's authority came from when it was granted, as this oracle saw the grants:
/// (holder, kind, target) → people. Kept across the script's steps, since revoking a link in
/// the middle of a chain must not free the rest of it.
type Lineage = BTreeMap<(UserId, String, String), BTreeSet<UserId>>;

/// The people `a`'s authority came from, transitively (System admins answer to no one): the
/// grantors of the rights held now and the lineage of each.
fn upstream(w: &World, lin: &Lineage, a: UserId) -> BTreeSet<UserId> {
    let mut found = BTreeSet::new();
    let mut todo = vec![a];
    while let Some(u) = todo.pop() {
        if is_system(w, u) {
            continue;
        }
        for (kind, target, by) in w.rights.get(&u).cloned().unwrap_or_default() {
            let past = lin.get(&(u, kind, target)).cloned().unwrap_or_default();
            let by = by.and_then(|s| s.parse::<UserId>().ok());
            for up in by.into_iter().chain(past) {
                if up != a && found.insert(up) {
                    todo.push(up);
                }
            }
        }
    }
    found
}

/// After an accepted step: a right that appeared takes its grantor and the grantor's upstream
/// as they were before the step; a right that went takes its lineage with it.
fn record_lineage(before: &World, after: &World, lin: &mut Lineage) {
    for (u, rights) in &after.rights {
        let old = before.rights.get(u).cloned().unwrap_or_default();
        for (kind, target, by) in rights.difference(&old) {
            let Some(by) = by.as_ref().and_then(|s| s.parse::<UserId>().ok()) else {
                continue;
            };
            if kind == "system" {
                continue;
            }
            let mut from: BTreeSet<UserId> = upstream(before, lin, by);
            from.insert(by);
            from.remove(u);
            lin.insert((*u, kind.clone(), target.clone()), from);
        }
    }
    for (u, rights) in &before.rights {
        let now = after.rights.get(u).cloned().unwrap_or_default();
        for (kind, target, _) in rights.difference(&now) {
            lin.remove(&(*u, kind.clone(), target.clone()));
        }
    }
}

/// May `a` hand out (or take away) the right (kind, target)?
fn may_hand_out(w: &World, a: UserId, kind: &str, target: &str) -> bool {
    if is_system(w, a) {
        return true;
    }
    let mine = rights_of(w, a);
    let product = |app: &str| mine.iter().any(|(k, t)| k == "product" && t == app);
    let profile = |id: &str, app: &str| {
        product(app) || mine.iter().any(|(k, t)| k == "product_profile" && t == id)
    };
    match kind {
        "product" => product(target),
        "product_profile" => w
            .profile_app
            .get(target)
            .is_some_and(|app| profile(target, app)),
        "user_group" => {
            let entitled = mine.iter().any(|(k, _)| k == "product")
                || mine.iter().any(|(k, t)| k == "user_group" && t == target);
            let apps_ok = w
                .carried_roles
                .get(target)
                .is_none_or(|apps| apps.iter().all(|app| product(app)));
            let profiles_ok = w
                .carried_profiles
                .get(target)
                .map(|ps| ps.iter().all(|(id, app)| profile(id, app)))
                .unwrap_or(true);
            entitled && apps_ok && profiles_ok
        }
        _ => false,
    }
}

fn changed_for(before: &World, after: &World, u: UserId) -> Vec<String> {
    let mut out = Vec::new();
    for app in APPS {
        let k = (u, app.to_string());
        if before.access.get(&k) != after.access.get(&k) {
            out.push(format!("access in {app}"));
        }
    }
    if before.holdings.get(&u) != after.holdings.get(&u) {
        out.push("holdings".into());
    }
    if before.rights.get(&u) != after.rights.get(&u) {
        out.push("admin rights".into());
    }
    out
}

/// The invariant, checked after an accepted operation by `a`.
fn invariant(
    before: &World,
    after: &World,
    lin: &Lineage,
    o: &Org,
    a: UserId,
    what: &Op,
) -> Result<(), String> {
    let guarded: BTreeSet<UserId> = upstream(before, lin, a).into_iter().chain([a]).collect();
    for u in &guarded {
        let changed = changed_for(before, after, *u);
        if !changed.is_empty() {
            let who = if *u == a {
                "their own"
            } else {
                "an upstream admin's"
            };
            return Err(format!(
                "{what:?} by {a} changed {who} {changed:?} (user {u})"
            ));
        }
    }
    let within = reach(before, a);
    for u in &o.users {
        if guarded.contains(u) {
            continue;
        }
        for app in APPS {
            let k = (*u, app.to_string());
            if before.access.get(&k) != after.access.get(&k)
                && within.as_ref().is_some_and(|r| !r.contains(app))
            {
                return Err(format!(
                    "{what:?} by {a} changed {u}'s access in {app}, outside what they administer ({within:?})"
                ));
            }
        }
        let old = before.rights.get(u).cloned().unwrap_or_default();
        let new = after.rights.get(u).cloned().unwrap_or_default();
        for (kind, target, _) in old.symmetric_difference(&new) {
            if !may_hand_out(before, a, kind, target) {
                return Err(format!(
                    "{what:?} by {a} changed {u}'s right {kind} {target} beyond their own"
                ));
            }
        }
    }
    Ok(())
}

async fn build(dir: &Directory, s: &Script) -> Org {
    let org = dir.create_org("acme", "Acme").await.expect("org");
    let operator = OrgAdmin::operator(org.clone());
    let mut users = Vec::new();
    for i in 0..USERS {
        let u = dir
            .create_user(
                &operator,
                NewUser {
                    email: format!("u{i}@acme.example"),
                    ..Default::default()
                },
            )
            .await
            .expect("user");
        users.push(u.id);
    }
    for (i, name) in ["Sales", "Content"].iter().enumerate() {
        let res = ["Magento_Sales::sales", "Magento_Cms::page"][i];
        dir.create_role(
            &operator,
            NewRole {
                application: "commerce-admin".into(),
                name: name.to_string(),
                description: None,
                grants: vec![Grant {
                    resource: res.into(),
                    actions: ActionSet::All,
                }],
                scopes: vec![],
            },
        )
        .await
        .expect("role");
    }
    let roles = dir.list_roles(&org, None, None).await.expect("roles");
    let mut groups = Vec::new();
    for i in 0..GROUPS {
        groups.push(
            dir.create_group(&operator, &format!("group {i}"), None)
                .await
                .expect("group")
                .id,
        );
    }
    let mut o = Org {
        org,
        users,
        groups,
        roles,
        profiles: Vec::new(),
    };
    for (app, bundle) in &s.profiles {
        let roles: Vec<String> = bundle
            .iter()
            .map(|r| o.role(*r))
            .filter(|r| r.application == APPS[*app] && !r.builtin)
            .map(|r| r.id.to_string())
            // commerce-admin allows one role per user, so its profiles bundle one at most.
            .take(if APPS[*app] == "commerce-admin" {
                1
            } else {
                usize::MAX
            })
            .collect();
        let p = dir
            .create_profile(
                &operator,
                NewProfile {
                    application: APPS[*app].into(),
                    name: format!("profile {}", o.profiles.len()),
                    description: None,
                    seat_quota: None,
                    roles,
                },
            )
            .await
            .expect("profile");
        o.profiles
            .push((p.profile.id, p.profile.application.clone()));
    }
    // Setup runs as the operator; refusals (one role per user, ...) are simply skipped.
    for (u, spec) in &s.rights {
        if let Some(right) = o.right(spec) {
            let _ = dir
                .grant_right(&operator, o.users[*u], right, &Default::default())
                .await;
        }
    }
    for (u, r) in &s.direct {
        let _ = dir.assign_role(&operator, o.users[*u], o.role(*r).id).await;
    }
    for (g, u) in &s.members {
        let _ = dir.add_member(&operator, o.groups[*g], o.users[*u]).await;
    }
    for (g, r) in &s.group_roles {
        let _ = dir
            .add_group_role(&operator, o.groups[*g], o.role(*r).id)
            .await;
    }
    for (p, u) in &s.seats {
        if let Some((pid, _)) = o.profiles.get(*p) {
            let _ = dir.add_profile_user(&operator, *pid, o.users[*u]).await;
        }
    }
    for (p, g) in &s.group_seats {
        if let Some((pid, _)) = o.profiles.get(*p) {
            let _ = dir.add_profile_group(&operator, *pid, o.groups[*g]).await;
        }
    }
    o
}

/// Runs one operation as user `a`; Ok(true) when the use case accepted it.
async fn run_op(dir: &Directory, o: &mut Org, a: usize, op: &Op) -> bool {
    let admin = o.as_user(a);
    let client = Default::default();
    let profile = |p: usize| o.profiles.get(p).map(|x| x.0);
    let ok = match op {
        Op::AssignRole(u, r) => dir
            .assign_role(&admin, o.users[*u], o.role(*r).id)
            .await
            .is_ok(),
        Op::UnassignRole(u, r) => dir
            .unassign_role(&admin, o.users[*u], o.role(*r).id)
            .await
            .is_ok(),
        Op::AddMember(g, u) => dir
            .add_member(&admin, o.groups[*g], o.users[*u])
            .await
            .is_ok(),
        Op::RemoveMember(g, u) => dir
            .remove_member(&admin, o.groups[*g], o.users[*u])
            .await
            .is_ok(),
        Op::AddGroupRole(g, r) => dir
            .add_group_role(&admin, o.groups[*g], o.role(*r).id)
            .await
            .is_ok(),
        Op::RemoveGroupRole(g, r) => dir
            .remove_group_role(&admin, o.groups[*g], o.role(*r).id)
            .await
            .is_ok(),
        Op::AddSeat(p, u) => match profile(*p) {
            Some(pid) => dir.add_profile_user(&admin, pid, o.users[*u]).await.is_ok(),
            None => false,
        },
        Op::RemoveSeat(p, u) => match profile(*p) {
            Some(pid) => dir
                .remove_profile_user(&admin, pid, o.users[*u])
                .await
                .is_ok(),
            None => false,
        },
        Op::AddGroupSeat(p, g) => match profile(*p) {
            Some(pid) => dir
                .add_profile_group(&admin, pid, o.groups[*g])
                .await
                .is_ok(),
            None => false,
        },
        Op::RemoveGroupSeat(p, g) => match profile(*p) {
            Some(pid) => dir
                .remove_profile_group(&admin, pid, o.groups[*g])
                .await
                .is_ok(),
            None => false,
        },
        Op::EditBundle(p, roles) => match o.profiles.get(*p).cloned() {
            Some((pid, app)) => {
                let roles = roles
                    .iter()
                    .map(|r| o.role(*r))
                    .filter(|r| r.application == app && !r.builtin)
                    .map(|r| r.id.to_string())
                    .collect();
                let patch = ProfilePatch {
                    roles: Some(roles),
                    ..Default::default()
                };
                dir.update_profile(&admin, pid, patch, None).await.is_ok()
            }
            None => false,
        },
        Op::EditRole(r, widen) => {
            let role = o.role(*r).clone();
            let resource = match (role.application.as_str(), widen) {
                ("commerce-admin", true) => "Magento_Backend::admin",
                ("commerce-admin", false) => "Magento_Backend::dashboard",
                ("cloud-project", _) => "project",
                (_, _) => "search",
            };
            let patch = RolePatch {
                grants: Some(vec![Grant {
                    resource: resource.into(),
                    actions: ActionSet::All,
                }]),
                ..Default::default()
            };
            dir.update_role(&admin, role.id, patch, None).await.is_ok()
        }
        Op::DeleteRole(r) => {
            let id: RoleId = o.role(*r).id;
            dir.delete_role(&admin, id, None).await.is_ok()
        }
        Op::Grant(u, spec) => match o.right(spec) {
            Some(right) => dir
                .grant_right(&admin, o.users[*u], right, &client)
                .await
                .is_ok(),
            None => false,
        },
        Op::Revoke(u, spec) => match o.right(spec) {
            Some(right) => dir
                .revoke_right(&admin, o.users[*u], right, &client)
                .await
                .is_ok(),
            None => false,
        },
        Op::Deactivate(u) | Op::Reactivate(u) => {
            let status = if matches!(op, Op::Deactivate(_)) {
                "inactive"
            } else {
                "active"
            };
            let patch = rolecall::directory::UserPatch {
                status: Some(status.into()),
                ..Default::default()
            };
            let revoke = Some(rolecall::directory::credentials::CredentialDecision::Revoke);
            dir.update_user(&admin, o.users[*u], patch, None, revoke, &client)
                .await
                .is_ok()
        }
        Op::CreateProfile(app, bundle) => {
            let roles = bundle
                .iter()
                .map(|r| o.role(*r))
                .filter(|r| r.application == APPS[*app] && !r.builtin)
                .map(|r| r.id.to_string())
                .collect();
            let made = dir
                .create_profile(
                    &admin,
                    NewProfile {
                        application: APPS[*app].into(),
                        name: format!("profile {}", o.profiles.len()),
                        description: None,
                        seat_quota: None,
                        roles,
                    },
                )
                .await;
            match made {
                Ok(p) => {
                    o.profiles
                        .push((p.profile.id, p.profile.application.clone()));
                    true
                }
                Err(_) => false,
            }
        }
        Op::DeleteProfile(p) => match profile(*p) {
            Some(pid) => dir.delete_profile(&admin, pid, None).await.is_ok(),
            None => false,
        },
        Op::DeleteGroup(g) => dir.delete_group(&admin, o.groups[*g], None).await.is_ok(),
    };
    ok
}

/// Admins act: the step's actor index picks among the users holding an admin right right now.
async fn pick_actor(dir: &Directory, o: &Org, i: usize) -> Option<usize> {
    let mut admins = Vec::new();
    for (n, u) in o.users.iter().enumerate() {
        if !dir
            .admin_rights(o.org.id, *u)
            .await
            .expect("rights")
            .is_empty()
        {
            admins.push(n);
        }
    }
    (!admins.is_empty()).then(|| admins[i % admins.len()])
}

async fn run_script(backend: Backend, s: Script) -> Result<usize, TestCaseError> {
    let tmp = tempfile::tempdir().expect("tempdir");
    let config = config_for(backend, tmp.path()).await;
    let server = start_server(&config, Arc::new(TestClock::default())).await;
    let dir = server.dir.clone();
    let mut o = build(&dir, &s).await;
    let mut accepted = 0;
    let mut before = observe(&dir, &o).await;
    let mut lineage = Lineage::new();
    for (i, op) in &s.steps {
        let Some(actor) = pick_actor(&dir, &o, *i).await else {
            break;
        };
        if !run_op(&dir, &mut o, actor, op).await {
            continue;
        }
        accepted += 1;
        let after = observe(&dir, &o).await;
        invariant(&before, &after, &lineage, &o, o.users[actor], op)
            .map_err(TestCaseError::fail)?;
        record_lineage(&before, &after, &mut lineage);
        before = after;
    }
    server.stop();
    // Each case has its own database; give its connections back before the next one.
    dir.db.pool.close().await;
    Ok(accepted)
}

fn seed() -> u64 {
    match std::env::var("ROLECALL_PROPTEST_SEED") {
        Ok(s) => s.parse().expect("ROLECALL_PROPTEST_SEED is a number"),
        Err(_) => {
            use std::hash::{BuildHasher, Hasher};
            let mut h = std::collections::hash_map::RandomState::new().build_hasher();
            h.write_u64(std::process::id() as u64);
            h.finish()
        }
    }
}

fn run_property(backend: Backend, default_cases: u32, max_steps: usize) {
    let cases = std::env::var("ROLECALL_PROPTEST_CASES")
        .ok()
        .and_then(|c| c.parse().ok())
        .unwrap_or(default_cases);
    let seed = seed();
    eprintln!(
        "rights property on {backend:?}: seed {seed} ({cases} cases; replay with ROLECALL_PROPTEST_SEED={seed})"
    );
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let accepted = std::sync::atomic::AtomicUsize::new(0);
    // Most generated operations are refused, so a round of `cases` scripts may accept fewer
    // than `cases` operations by chance; further rounds (new scripts, each from the seed and its
    // round number, so the seed still replays the run) go on until it has, rather than failing
    // a sound run.
    for round in 0..4u8 {
        let mut bytes = [0u8; 32];
        bytes[..8].copy_from_slice(&seed.to_le_bytes());
        bytes[8] = round;
        let rng = TestRng::from_seed(RngAlgorithm::ChaCha, &bytes);
        let config = Config {
            cases,
            failure_persistence: None,
            max_shrink_iters: 200,
            ..Config::default()
        };
        let mut runner = TestRunner::new_with_rng(config, rng);
        let result = runner.run(&script(max_steps), |s| {
            let n = rt.block_on(run_script(backend, s))?;
            accepted.fetch_add(n, std::sync::atomic::Ordering::Relaxed);
            Ok(())
        });
        if let Err(e) = result {
            panic!("rights invariant broken (seed {seed}): {e}");
        }
        if accepted.load(std::sync::atomic::Ordering::Relaxed) >= cases as usize {
            break;
        }
    }
    let accepted = accepted.into_inner();
    eprintln!("rights property on {backend:?}: {accepted} accepted operations checked");
    // A property that never sees an accepted operation proves nothing.
    assert!(
        accepted >= cases as usize,
        "too few accepted operations: {accepted}"
    );
}

#[test]
fn rights_invariant_holds_on_sqlite() {
    run_property(Backend::Sqlite, 48, 40);
}

#[test]
fn rights_invariant_holds_on_postgres() {
    run_property(Backend::Postgres, 16, 40);
}
