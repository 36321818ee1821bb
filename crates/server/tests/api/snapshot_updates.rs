//! Issue 14: creates, status changes, memberships, direct roles and seats update the published
//! snapshot from the changed users' rows alone; the very next check reflects each, and a gap in
//! the epoch (another node's change) falls back to compiling the organisation.

use crate::both;
use crate::helpers::{spawn_app, Backend, TestApp};
use reqwest::StatusCode;
use rolecall::directory::OrgAdmin;
use serde_json::json;

const APP: &str = "site-search";
const RESOURCE: &str = "rules:ranking";

/// (full compiles, incremental updates) since the server started.
fn counts(app: &TestApp) -> (u64, u64) {
    app.server.dir.compile_counts()
}

async fn check(app: &TestApp, user: &str) -> (String, String) {
    let r = app
        .post(
            "/check",
            json!({ "user_id": user, "application": APP, "resource": RESOURCE, "action": "edit" }),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    (
        r.body["decision"].as_str().unwrap_or_default().to_string(),
        r.body["reason"].as_str().unwrap_or_default().to_string(),
    )
}

/// A group carrying a role that grants `edit` on RESOURCE.
async fn editors(app: &TestApp) -> (String, String) {
    let g = app.group("Merchandisers").await;
    let r = app
        .role(
            APP,
            "Merch",
            json!([{ "resource": "rules", "actions": ["view", "edit"] }]),
            json!([]),
        )
        .await;
    let added = app
        .post(&format!("/groups/{g}/roles"), json!({ "role_id": r }))
        .await;
    assert_eq!(added.status, StatusCode::CREATED, "{}", added.body);
    (g, r)
}

both!(user_level_changes_update_the_snapshot_without_compiling_the_organisation);
async fn user_level_changes_update_the_snapshot_without_compiling_the_organisation(b: Backend) {
    let app = spawn_app(b).await;
    let (g, r) = editors(&app).await;
    let other = app.user("other@example.com").await;
    assert_eq!(check(&app, &other).await.1, "no_role");
    let (full, inc) = counts(&app);

    // Create: known at once, with no role yet.
    let u = app.user("jane@example.com").await;
    assert_eq!(check(&app, &u).await, ("deny".into(), "no_role".into()));
    // Membership: the group's role follows.
    let joined = app
        .post(&format!("/groups/{g}/members"), json!({ "user_id": u }))
        .await;
    assert_eq!(joined.status, StatusCode::CREATED, "{}", joined.body);
    assert_eq!(check(&app, &u).await, ("allow".into(), "granted".into()));
    // Deactivation and reactivation.
    let off = app
        .patch(&format!("/users/{u}"), json!({ "status": "inactive" }))
        .await;
    assert_eq!(off.status, StatusCode::OK, "{}", off.body);
    assert_eq!(
        check(&app, &u).await,
        ("deny".into(), "user_not_active".into())
    );
    let on = app
        .patch(&format!("/users/{u}"), json!({ "status": "active" }))
        .await;
    assert_eq!(on.status, StatusCode::OK, "{}", on.body);
    assert_eq!(check(&app, &u).await.0, "allow");
    // Leaving the group.
    let left = app.delete(&format!("/groups/{g}/members/{u}")).await;
    assert!(left.status.is_success(), "{}", left.body);
    assert_eq!(check(&app, &u).await, ("deny".into(), "no_role".into()));
    // A direct role, given and taken.
    let given = app
        .post(&format!("/users/{u}/roles"), json!({ "role_id": r }))
        .await;
    assert_eq!(given.status, StatusCode::CREATED, "{}", given.body);
    assert_eq!(check(&app, &u).await.0, "allow");
    let taken = app.delete(&format!("/users/{u}/roles/{r}")).await;
    assert!(taken.status.is_success(), "{}", taken.body);
    assert_eq!(check(&app, &u).await.0, "deny");
    // Nobody else moved.
    assert_eq!(check(&app, &other).await.1, "no_role");

    let (full_after, inc_after) = counts(&app);
    assert_eq!(
        full_after, full,
        "no user-level change compiled the organisation"
    );
    assert_eq!(
        inc_after - inc,
        7,
        "each change derived the snapshot from its user's rows"
    );

    // A wide change (what a group carries) still compiles the whole organisation.
    let joined = app
        .post(&format!("/groups/{g}/members"), json!({ "user_id": u }))
        .await;
    assert_eq!(joined.status, StatusCode::CREATED, "{}", joined.body);
    let dropped = app.delete(&format!("/groups/{g}/roles/{r}")).await;
    assert!(dropped.status.is_success(), "{}", dropped.body);
    assert_eq!(check(&app, &u).await.0, "deny");
    assert_eq!(counts(&app).0, full + 1);
}

both!(a_gap_in_the_epoch_falls_back_to_compiling_the_organisation);
async fn a_gap_in_the_epoch_falls_back_to_compiling_the_organisation(b: Backend) {
    let app = spawn_app(b).await;
    let (g, _) = editors(&app).await;
    let u = app.user("jane@example.com").await;
    assert_eq!(check(&app, &u).await.0, "deny");
    let dir = &app.server.dir;
    let org = dir.org(&app.org).await.expect("org");
    // What another node's committed change looks like to this one: the stored epoch moved
    // past the published snapshot's.
    sqlx::query("UPDATE organizations SET authz_epoch = authz_epoch + 1")
        .execute(&dir.db.pool)
        .await
        .expect("bump");
    let (full, inc) = counts(&app);
    dir.add_member(
        &OrgAdmin::operator(org),
        g.parse().expect("group id"),
        u.parse().expect("user id"),
    )
    .await
    .expect("add member");
    assert_eq!(
        counts(&app),
        (full + 1, inc),
        "compiled whole, not derived from a stale base"
    );
    assert_eq!(check(&app, &u).await, ("allow".into(), "granted".into()));
}
