//! Correctness gate for the benchmark: rolecall, casbin (plain and cached) and Cedar (both policy
//! shapes) must reach the same allow/deny decision as the naive reference oracle on the same
//! checks, or the timings compare different work.

use rolecall_bench::cedar_peer::{CedarPeer, PolicyShape};
use rolecall_bench::{casbin_peer, Params, ScopeArg, Workload};

fn small() -> Workload {
    Workload::generate(Params {
        checks: 2_000,
        ..Params::default()
    })
}

#[test]
fn all_engines_agree_with_the_reference() {
    let w = small();
    let snap = w.compile();
    let prepared = w.prepared(&snap);
    let casbin = casbin_peer::enforcer(&w);
    let cached = casbin_peer::cached_enforcer(&w);
    let cedar = CedarPeer::build(&w, PolicyShape::PerGrant);
    let cedar_per_role = CedarPeer::build(&w, PolicyShape::PerRole);

    let (mut allows, mut roots, mut restricted_at_root) = (0, 0, 0);
    for (i, c) in w.checks.iter().enumerate() {
        let want = w.expected(c);
        let what = format!(
            "check {i}: user u{} resource {} scope {:?}",
            c.user,
            w.resource_id(c.resource),
            w.scope_arg(c.scope)
        );
        assert_eq!(w.rolecall_check(&snap, c), want, "rolecall check, {what}");
        let (u, q) = &prepared[i];
        assert_eq!(
            snap.decide(u, q).0 == rolecall_core::authz::Decision::Allow,
            want,
            "rolecall decide, {what}"
        );
        let req = casbin_peer::request(&w, c);
        assert_eq!(casbin_peer::enforce(&casbin, &req), want, "casbin, {what}");
        assert_eq!(
            casbin_peer::enforce(&cached, &req),
            want,
            "cached casbin (miss), {what}"
        );
        assert_eq!(
            casbin_peer::enforce(&cached, &req),
            want,
            "cached casbin (hit), {what}"
        );
        let r = cedar.request(&w, c);
        assert_eq!(cedar.is_authorized(&r), want, "cedar, {what}");
        assert_eq!(
            cedar_per_role.is_authorized(&r),
            want,
            "cedar per role, {what}"
        );
        allows += want as usize;
        if matches!(c.scope, ScopeArg::Root | ScopeArg::RootNamed) {
            roots += 1;
            let held_restricted = w
                .held_roles(c.user)
                .iter()
                .any(|&r| !w.roles[r as usize].scopes.is_empty());
            restricted_at_root += held_restricted as usize;
        }
    }
    // The sample must exercise both outcomes and the root-scope rule, or agreement means little.
    assert!(
        allows > 100 && allows < w.checks.len() - 100,
        "allows: {allows} of {}",
        w.checks.len()
    );
    assert!(
        roots > 50 && restricted_at_root > 5,
        "root checks: {roots}, by holders of restricted roles: {restricted_at_root}"
    );
}

#[test]
fn scope_rules_match_magento() {
    let w = small();
    let snap = w.compile();
    let casbin = casbin_peer::enforcer(&w);
    let cedar = CedarPeer::build(&w, PolicyShape::PerGrant);
    // A user whose only role is website-limited: allowed in the website and below, nowhere else.
    let (user, role) = (0..w.users.len() as u32)
        .find_map(|u| {
            let held = w.held_roles(u);
            let role = &w.roles[*held.first()? as usize];
            (held.len() == 1 && role.scopes.len() == 1).then_some((u, role))
        })
        .expect("a user whose only role is limited to one website");
    let website = &role.scopes[0];
    let resource = role.grants[0];
    let store_view = w
        .scopes
        .iter()
        .position(|s| s.code.starts_with(&format!("{website}_")) && s.kind == "store_view")
        .expect("a store view");
    let other = w
        .scopes
        .iter()
        .position(|s| s.kind == "website" && s.code != *website)
        .expect("another website");
    let site = w
        .scopes
        .iter()
        .position(|s| s.code == *website)
        .expect("the website");
    for (scope, want) in [
        (ScopeArg::Scope(site as u32), true),
        (ScopeArg::Scope(store_view as u32), true),
        (ScopeArg::Scope(other as u32), false),
        (ScopeArg::Root, false),
        (ScopeArg::RootNamed, false),
    ] {
        let c = rolecall_bench::Check {
            user,
            resource,
            scope,
        };
        assert_eq!(w.expected(&c), want, "reference at {scope:?}");
        assert_eq!(w.rolecall_check(&snap, &c), want, "rolecall at {scope:?}");
        assert_eq!(
            casbin_peer::enforce(&casbin, &casbin_peer::request(&w, &c)),
            want,
            "casbin at {scope:?}"
        );
        assert_eq!(
            cedar.is_authorized(&cedar.request(&w, &c)),
            want,
            "cedar at {scope:?}"
        );
    }
}
