//! The incremental path against the reference: random organisations, random sequences of
//! user-level changes, and after every step each check, explanation and list of effective
//! permissions of `with_users` compared with a full `compile` of the changed model.

use super::super::{AuthzModel, OrgSnapshot, ProfileId, ProfileRule, RoleRule, CHUNK};
use super::UserRights;
use crate::catalogue::tests::sample_def;
use crate::catalogue::AppTree;
use crate::model::{ActionSet, Grant, GroupId, RoleId, Scope, UserId, UserStatus};
use crate::validate::ScopeCode;
use proptest::prelude::*;
use std::sync::Arc;
use uuid::Uuid;

const APPS: [&str; 2] = ["shop", "other"];
const RESOURCES: [&str; 8] = [
    "admin",
    "sales",
    "sales.orders",
    "sales.orders.invoice",
    "sales.shipments",
    "catalog",
    "catalog.products",
    "system",
];
const ACTIONS: [&str; 4] = ["view", "add", "edit", "delete"];
const SCOPES: [&str; 5] = ["eu", "us", "eu_fr", "us_en", "gone"];

fn uid(n: usize) -> UserId {
    UserId(Uuid::from_u128(0x5eed_0000 + n as u128 * 7919))
}
fn rid(n: usize) -> RoleId {
    RoleId(Uuid::from_u128(1000 + n as u128))
}
fn gid(n: usize) -> GroupId {
    GroupId(Uuid::from_u128(2000 + n as u128))
}
fn pid(n: usize) -> ProfileId {
    ProfileId(Uuid::from_u128(3000 + n as u128))
}

fn apps() -> Vec<Arc<AppTree>> {
    APPS.iter()
        .map(|key| {
            let mut def = sample_def();
            def.key = key.to_string();
            Arc::new(AppTree::compile(def).unwrap())
        })
        .collect()
}

fn scopes() -> Vec<(String, Scope)> {
    let def = sample_def();
    APPS.iter()
        .flat_map(|app| {
            def.default_scopes.iter().map(move |s| {
                let parent =
                    (s.parent != "global").then(|| ScopeCode::parse("p", &s.parent).unwrap());
                (
                    app.to_string(),
                    Scope {
                        code: ScopeCode::parse("c", &s.code).unwrap(),
                        kind: s.kind.clone(),
                        parent,
                        name: String::new(),
                    },
                )
            })
        })
        .collect()
}

fn status(n: u8) -> UserStatus {
    match n % 4 {
        0 => UserStatus::Invited,
        1 => UserStatus::Inactive,
        _ => UserStatus::Active,
    }
}

/// Bits 0..3: actions; 4: all actions.
fn actions(mask: u8) -> ActionSet {
    if mask & 16 != 0 {
        ActionSet::All
    } else {
        ActionSet::Only(
            ACTIONS
                .iter()
                .enumerate()
                .filter(|(i, _)| mask & (1 << i) != 0)
                .map(|(_, a)| a.to_string())
                .collect(),
        )
    }
}

/// A role of the pool: (application, grants as (resource, action mask), scope mask).
type RoleSpec = (u8, Vec<(u8, u8)>, u8);

#[derive(Debug, Clone)]
struct Org {
    roles: Vec<RoleSpec>,
    groups: usize,
    users: Vec<u8>,
    group_roles: Vec<(u8, u8)>,
    /// (application, roles)
    profiles: Vec<(u8, Vec<u8>)>,
    profile_groups: Vec<(u8, u8)>,
    user_roles: Vec<(u8, u8)>,
    members: Vec<(u8, u8)>,
    seats: Vec<(u8, u8)>,
}

/// A user-level change, by indices into the pools (taken modulo their sizes).
#[derive(Debug, Clone)]
enum Op {
    Create {
        status: u8,
        roles: Vec<u8>,
        groups: Vec<u8>,
        seats: Vec<u8>,
    },
    Status(u8, u8),
    Join(u8, u8),
    Leave(u8, u8),
    Assign(u8, u8),
    Unassign(u8, u8),
    Seat(u8, u8),
    Unseat(u8, u8),
}

fn org() -> impl Strategy<Value = Org> {
    let role = (
        0u8..2,
        prop::collection::vec((0u8..8, 0u8..32), 0..3),
        0u8..32,
    );
    (
        prop::collection::vec(role, 0..6),
        1usize..4,
        prop::collection::vec(any::<u8>(), 1..8),
        prop::collection::vec((any::<u8>(), any::<u8>()), 0..6),
        prop::collection::vec((0u8..2, prop::collection::vec(any::<u8>(), 0..3)), 0..3),
        prop::collection::vec((any::<u8>(), any::<u8>()), 0..3),
        prop::collection::vec((any::<u8>(), any::<u8>()), 0..10),
        prop::collection::vec((any::<u8>(), any::<u8>()), 0..8),
        prop::collection::vec((any::<u8>(), any::<u8>()), 0..4),
    )
        .prop_map(
            |(
                roles,
                groups,
                users,
                group_roles,
                profiles,
                profile_groups,
                user_roles,
                members,
                seats,
            )| Org {
                roles,
                groups,
                users,
                group_roles,
                profiles,
                profile_groups,
                user_roles,
                members,
                seats,
            },
        )
}

fn op() -> impl Strategy<Value = Op> {
    let pair = || (any::<u8>(), any::<u8>());
    prop_oneof![
        (
            any::<u8>(),
            prop::collection::vec(any::<u8>(), 0..3),
            prop::collection::vec(any::<u8>(), 0..2),
            prop::collection::vec(any::<u8>(), 0..2),
        )
            .prop_map(|(status, roles, groups, seats)| Op::Create {
                status,
                roles,
                groups,
                seats
            }),
        pair().prop_map(|(u, s)| Op::Status(u, s)),
        pair().prop_map(|(g, u)| Op::Join(g, u)),
        pair().prop_map(|(g, u)| Op::Leave(g, u)),
        pair().prop_map(|(u, r)| Op::Assign(u, r)),
        pair().prop_map(|(u, r)| Op::Unassign(u, r)),
        pair().prop_map(|(p, u)| Op::Seat(p, u)),
        pair().prop_map(|(p, u)| Op::Unseat(p, u)),
    ]
}

/// Roles 0 and 1 are the two applications' built-in Administrators; the rest come from the spec.
fn n_roles(o: &Org) -> usize {
    2 + o.roles.len()
}

fn push_unique<T: PartialEq>(v: &mut Vec<T>, x: T) {
    if !v.contains(&x) {
        v.push(x);
    }
}

fn model(o: &Org) -> AuthzModel {
    let mut m = AuthzModel {
        scopes: scopes(),
        ..Default::default()
    };
    for (i, app) in APPS.iter().enumerate() {
        m.roles.push(RoleRule {
            id: rid(i),
            application: app.to_string(),
            name: format!("{app} Administrators"),
            builtin_admin: true,
            grants: vec![],
            scopes: vec![],
        });
    }
    for (i, (app, grants, scope_mask)) in o.roles.iter().enumerate() {
        m.roles.push(RoleRule {
            id: rid(i + 2),
            application: APPS[*app as usize].to_string(),
            name: format!("role {i}"),
            builtin_admin: false,
            grants: grants
                .iter()
                .map(|(r, a)| Grant {
                    resource: RESOURCES[*r as usize].to_string(),
                    actions: actions(*a),
                })
                .collect(),
            scopes: SCOPES
                .iter()
                .enumerate()
                .filter(|(i, _)| scope_mask & (1 << i) != 0)
                .map(|(_, s)| s.to_string())
                .collect(),
        });
    }
    let nr = n_roles(o);
    m.groups = (0..o.groups)
        .map(|g| (gid(g), format!("group {g}")))
        .collect();
    for (g, r) in &o.group_roles {
        push_unique(
            &mut m.group_roles,
            (gid(*g as usize % o.groups), rid(*r as usize % nr)),
        );
    }
    for (i, (app, roles)) in o.profiles.iter().enumerate() {
        m.profiles.push(ProfileRule {
            id: pid(i),
            application: APPS[*app as usize].to_string(),
            name: format!("profile {i}"),
            roles: roles.iter().map(|r| rid(*r as usize % nr)).collect(),
        });
    }
    if !o.profiles.is_empty() {
        for (p, g) in &o.profile_groups {
            push_unique(
                &mut m.profile_groups,
                (
                    pid(*p as usize % o.profiles.len()),
                    gid(*g as usize % o.groups),
                ),
            );
        }
    }
    m.users = o
        .users
        .iter()
        .enumerate()
        .map(|(i, s)| (uid(i), status(*s)))
        .collect();
    let nu = o.users.len();
    for (u, r) in &o.user_roles {
        push_unique(
            &mut m.user_roles,
            (uid(*u as usize % nu), rid(*r as usize % nr)),
        );
    }
    for (g, u) in &o.members {
        push_unique(
            &mut m.group_members,
            (gid(*g as usize % o.groups), uid(*u as usize % nu)),
        );
    }
    if !o.profiles.is_empty() {
        for (p, u) in &o.seats {
            push_unique(
                &mut m.profile_users,
                (pid(*p as usize % o.profiles.len()), uid(*u as usize % nu)),
            );
        }
    }
    m
}

/// Applies a change to the model; returns the user whose rows it touches.
fn apply(o: &Org, m: &mut AuthzModel, op: &Op) -> UserId {
    let nr = n_roles(o);
    let np = o.profiles.len();
    let nu = m.users.len();
    let user = |u: &u8| m.users[*u as usize % nu].0;
    let group = |g: &u8| gid(*g as usize % o.groups);
    let role = |r: &u8| rid(*r as usize % nr);
    match op {
        Op::Create {
            status: s,
            roles,
            groups,
            seats,
        } => {
            let id = uid(nu);
            m.users.push((id, status(*s)));
            for r in roles {
                push_unique(&mut m.user_roles, (id, role(r)));
            }
            for g in groups {
                push_unique(&mut m.group_members, (group(g), id));
            }
            if np > 0 {
                for p in seats {
                    push_unique(&mut m.profile_users, (pid(*p as usize % np), id));
                }
            }
            id
        }
        Op::Status(u, s) => {
            let i = *u as usize % nu;
            m.users[i].1 = status(*s);
            m.users[i].0
        }
        Op::Join(g, u) => {
            let (g, u) = (group(g), user(u));
            push_unique(&mut m.group_members, (g, u));
            u
        }
        Op::Leave(g, u) => {
            let (g, u) = (group(g), user(u));
            m.group_members.retain(|x| *x != (g, u));
            u
        }
        Op::Assign(u, r) => {
            let (u, r) = (user(u), role(r));
            push_unique(&mut m.user_roles, (u, r));
            u
        }
        Op::Unassign(u, r) => {
            let (u, r) = (user(u), role(r));
            m.user_roles.retain(|x| *x != (u, r));
            u
        }
        Op::Seat(p, u) | Op::Unseat(p, u) => {
            let u = user(u);
            if np > 0 {
                let p = pid(*p as usize % np);
                if matches!(op, Op::Seat(..)) {
                    push_unique(&mut m.profile_users, (p, u));
                } else {
                    m.profile_users.retain(|x| *x != (p, u));
                }
            }
            u
        }
    }
}

/// What the store reads for one user (`load_user_rights`), here from the model, in its order.
fn rights(m: &AuthzModel, id: UserId) -> UserRights {
    UserRights {
        id,
        status: m
            .users
            .iter()
            .find(|(u, _)| *u == id)
            .map(|(_, s)| *s)
            .unwrap(),
        roles: m
            .user_roles
            .iter()
            .filter(|(u, _)| *u == id)
            .map(|(_, r)| *r)
            .collect(),
        groups: m
            .group_members
            .iter()
            .filter(|(_, u)| *u == id)
            .map(|(g, _)| *g)
            .collect(),
        seats: m
            .profile_users
            .iter()
            .filter(|(_, u)| *u == id)
            .map(|(p, _)| *p)
            .collect(),
    }
}

/// Every check, explanation and effective-permission list of every user (and of one unknown).
fn assert_same(inc: &OrgSnapshot, full: &OrgSnapshot, m: &AuthzModel) -> Result<(), TestCaseError> {
    prop_assert_eq!(inc.user_count(), full.user_count());
    let users = m
        .users
        .iter()
        .map(|(u, _)| *u)
        .chain([UserId(Uuid::from_u128(u128::MAX))]);
    let scopes = [None, Some("eu"), Some("us"), Some("eu_fr"), Some("us_en")];
    let actions = [
        None,
        Some("view"),
        Some("add"),
        Some("edit"),
        Some("delete"),
    ];
    for u in users {
        for app in APPS {
            for scope in scopes {
                prop_assert_eq!(
                    inc.effective_permissions(&u, app, scope),
                    full.effective_permissions(&u, app, scope),
                    "effective permissions of {} in {} at {:?}",
                    u,
                    app,
                    scope
                );
                for resource in RESOURCES {
                    for action in actions {
                        let e = inc.explain(&u, app, resource, action, scope);
                        prop_assert_eq!(
                            &e,
                            &full.explain(&u, app, resource, action, scope),
                            "{} {} {} {:?} {:?}",
                            u,
                            app,
                            resource,
                            action,
                            scope
                        );
                        let c = inc.check(&u, app, resource, action, scope);
                        prop_assert_eq!(&c, &full.check(&u, app, resource, action, scope));
                        if let Ok(d) = c {
                            prop_assert_eq!(Ok(d), e.map(|e| e.decision));
                        }
                    }
                }
            }
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// After every step (one to three user-level changes, applied as one delta), the
    /// incremental snapshot answers exactly as the full compile of the changed model.
    #[test]
    fn incremental_updates_answer_as_the_full_compile(
        o in org(),
        steps in prop::collection::vec(prop::collection::vec(op(), 1..4), 1..8),
    ) {
        let apps = apps();
        let mut m = model(&o);
        let mut inc = OrgSnapshot::compile(&apps, &m);
        for step in &steps {
            let mut touched: Vec<UserId> = Vec::new();
            for op in step {
                let u = apply(&o, &mut m, op);
                push_unique(&mut touched, u);
            }
            let rows: Vec<UserRights> = touched.iter().map(|u| rights(&m, *u)).collect();
            inc = inc.with_users(&rows);
            assert_same(&inc, &OrgSnapshot::compile(&apps, &m), &m)?;
        }
    }
}

/// Changing one user copies one chunk: every other chunk is the same allocation, and a new
/// user copies only the last chunk (or starts a new one).
#[test]
fn a_change_copies_only_the_chunk_it_touches() {
    let apps = apps();
    let mut m = AuthzModel {
        scopes: scopes(),
        roles: vec![RoleRule {
            id: rid(2),
            application: "shop".into(),
            name: "viewer".into(),
            builtin_admin: false,
            grants: vec![Grant {
                resource: "sales".into(),
                actions: ActionSet::All,
            }],
            scopes: vec![],
        }],
        groups: vec![(gid(0), "g".into())],
        group_roles: vec![(gid(0), rid(2))],
        ..Default::default()
    };
    let n = CHUNK * 4 + 10;
    m.users = (0..n).map(|i| (uid(i), UserStatus::Active)).collect();
    let before = OrgSnapshot::compile(&apps, &m);
    assert_eq!(
        before.check(&uid(CHUNK + 3), "shop", "sales", None, None),
        Ok(crate::authz::Decision::Deny)
    );

    m.group_members.push((gid(0), uid(CHUNK + 3)));
    let after = before.with_users(&[rights(&m, uid(CHUNK + 3))]);
    assert_eq!(
        after.check(&uid(CHUNK + 3), "shop", "sales", None, None),
        Ok(crate::authz::Decision::Allow)
    );
    assert_eq!(
        before.check(&uid(CHUNK + 3), "shop", "sales", None, None),
        Ok(crate::authz::Decision::Deny),
        "the published snapshot is never changed"
    );
    for c in 0..before.chunks.len() {
        assert_eq!(after.shares_chunk_with(&before, c), c != 1, "chunk {c}");
    }

    m.users.push((uid(n), UserStatus::Active));
    m.group_members.push((gid(0), uid(n)));
    let grown = after.with_users(&[rights(&m, uid(n))]);
    assert_eq!(grown.user_count(), n + 1);
    assert_eq!(
        grown.check(&uid(n), "shop", "sales", None, None),
        Ok(crate::authz::Decision::Allow)
    );
    let last = before.chunks.len() - 1;
    for c in 0..=last {
        assert_eq!(grown.shares_chunk_with(&after, c), c != last, "chunk {c}");
    }
    let unchanged = before
        .index
        .shards
        .iter()
        .zip(&grown.index.shards)
        .filter(|(a, b)| Arc::ptr_eq(a, b))
        .count();
    assert_eq!(
        unchanged,
        before.index.shards.len() - 1,
        "one index shard copied"
    );
}
