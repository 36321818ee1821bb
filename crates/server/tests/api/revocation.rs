//! Issue 13: authentications and rights answered from memory still give way to every revocation
//! made on this node at the very next request. Each test first uses the secret (so the node
//! remembers it), then revokes through the API, then sends one request: were the memory not
//! invalidated by the revoking write, that request would pass.

use crate::both;
use crate::helpers::{spawn_app, spawn_app_with, Backend, Person, TestApp};
use reqwest::{Method, StatusCode};
use serde_json::json;

/// `GET /api/v1/me` with `token`: 200 while the session is usable.
async fn me(app: &TestApp, token: &str) -> StatusCode {
    app.send_as(token, Method::GET, "/api/v1/me", None, &[])
        .await
        .status
}

/// Signs a person in and uses the session twice (remembered after the first).
async fn warm_person(app: &TestApp, email: &str, system_admin: bool) -> Person {
    let p = app.signed_in(email, system_admin).await;
    assert_eq!(me(app, &p.token).await, StatusCode::OK);
    assert_eq!(me(app, &p.token).await, StatusCode::OK);
    p
}

both!(a_revoked_credential_is_refused_at_the_next_request);
async fn a_revoked_credential_is_refused_at_the_next_request(b: Backend) {
    let app = spawn_app(b).await;
    let r = app.post("/credentials", json!({ "name": "shop" })).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let secret = r.body["secret"].as_str().unwrap().to_string();
    let id = r.body["credential"]["id"].as_str().unwrap().to_string();
    let user = app.user("jane@example.com").await;
    let check = json!({ "user_id": user, "application": "site-search", "resource": "rules" });
    for _ in 0..3 {
        let r = app
            .send_as(&secret, Method::POST, "/check", Some(check.clone()), &[])
            .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    }
    assert_eq!(
        app.delete(&format!("/credentials/{id}")).await.status,
        StatusCode::NO_CONTENT
    );
    let r = app
        .send_as(&secret, Method::POST, "/check", Some(check), &[])
        .await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED, "{}", r.body);
}

both!(deactivation_and_deletion_end_sessions_at_the_next_request);
async fn deactivation_and_deletion_end_sessions_at_the_next_request(b: Backend) {
    let app = spawn_app(b).await;
    app.without_2fa().await;
    let jane = warm_person(&app, "jane@example.com", false).await;
    let r = app
        .patch(
            &format!("/users/{}", jane.id),
            json!({ "status": "inactive" }),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(me(&app, &jane.token).await, StatusCode::UNAUTHORIZED);

    let joe = warm_person(&app, "joe@example.com", false).await;
    let r = app.delete(&format!("/users/{}", joe.id)).await;
    assert!(r.status.is_success(), "{}", r.body);
    assert_eq!(me(&app, &joe.token).await, StatusCode::UNAUTHORIZED);
}

both!(ending_a_session_bites_at_the_next_request);
async fn ending_a_session_bites_at_the_next_request(b: Backend) {
    let app = spawn_app(b).await;
    app.without_2fa().await;
    // Signed out by its holder...
    let jane = warm_person(&app, "jane@example.com", false).await;
    let r = app
        .send_as(&jane.token, Method::POST, "/api/v1/sign-out", None, &[])
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.body);
    assert_eq!(me(&app, &jane.token).await, StatusCode::UNAUTHORIZED);
    // ...ended by an administrator...
    let joe = warm_person(&app, "joe@example.com", false).await;
    let r = app.delete(&format!("/users/{}/sessions", joe.id)).await;
    assert!(r.status.is_success(), "{}", r.body);
    assert_eq!(me(&app, &joe.token).await, StatusCode::UNAUTHORIZED);
    // ...or one of several ended from another session of the same person.
    let (_, pw) = app.person("ann@example.com", false).await;
    let first = app.sign_in("ann@example.com", &pw).await.body["token"]
        .as_str()
        .unwrap()
        .to_string();
    let mine = app
        .send_as(&first, Method::GET, "/api/v1/me/sessions", None, &[])
        .await;
    assert_eq!(
        mine.body["items"].as_array().unwrap().len(),
        1,
        "{}",
        mine.body
    );
    let first_id = mine.body["items"][0]["id"].as_str().unwrap().to_string();
    let second = app.sign_in("ann@example.com", &pw).await.body["token"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(me(&app, &first).await, StatusCode::OK);
    assert_eq!(me(&app, &second).await, StatusCode::OK);
    let r = app
        .send_as(
            &second,
            Method::DELETE,
            &format!("/api/v1/me/sessions/{first_id}"),
            None,
            &[],
        )
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.body);
    assert_eq!(me(&app, &first).await, StatusCode::UNAUTHORIZED);
    assert_eq!(me(&app, &second).await, StatusCode::OK);
}

both!(password_and_second_factor_resets_end_sessions_at_the_next_request);
async fn password_and_second_factor_resets_end_sessions_at_the_next_request(b: Backend) {
    let app = spawn_app(b).await;
    app.without_2fa().await;
    let jane = warm_person(&app, "jane@example.com", false).await;
    let r = app
        .put(
            &format!("/users/{}/password", jane.id),
            json!({ "password": "an entirely New passphrase 2026" }),
        )
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.body);
    assert_eq!(me(&app, &jane.token).await, StatusCode::UNAUTHORIZED);

    let joe = warm_person(&app, "joe@example.com", false).await;
    let r = app
        .post(&format!("/users/{}/2fa/reset", joe.id), json!({}))
        .await;
    assert!(r.status.is_success(), "{}", r.body);
    assert_eq!(me(&app, &joe.token).await, StatusCode::UNAUTHORIZED);
}

both!(a_lockout_ends_the_session_at_the_next_request);
async fn a_lockout_ends_the_session_at_the_next_request(b: Backend) {
    let app = spawn_app(b).await;
    app.without_2fa().await;
    let jane = warm_person(&app, "jane@example.com", false).await;
    // The lockout threshold is 6 wrong passwords; re-verification counts.
    let mut statuses = Vec::new();
    for _ in 0..6 {
        let r = app
            .send_as(
                &jane.token,
                Method::POST,
                "/api/v1/me/reverify",
                Some(json!({ "password": "not her password" })),
                &[],
            )
            .await;
        statuses.push(r.status);
    }
    assert!(
        statuses.iter().all(|s| *s == StatusCode::FORBIDDEN),
        "{statuses:?}"
    );
    assert_eq!(me(&app, &jane.token).await, StatusCode::UNAUTHORIZED);
    let locks = app.get("/locks").await.body;
    assert_eq!(locks["items"][0]["user_id"], jane.id.as_str(), "{locks}");
}

both!(role_and_admin_right_changes_decide_the_next_request);
async fn role_and_admin_right_changes_decide_the_next_request(b: Backend) {
    // Leaked so the closure below can hand out futures borrowing it.
    let app: &'static TestApp = Box::leak(Box::new(spawn_app(b).await));
    app.without_2fa().await;
    let r = app.post("/credentials", json!({ "name": "shop" })).await;
    let secret = r.body["secret"].as_str().unwrap().to_string();
    let user = app.user("jane@example.com").await;
    let viewer = app.role_id("cloud-project", "Viewer").await;
    let check = json!({ "user_id": user, "application": "cloud-project", "resource": "project", "action": "view" });
    let decide = |app: &'static TestApp| {
        let (secret, check) = (secret.clone(), check.clone());
        async move {
            let r = app
                .send_as(&secret, Method::POST, "/check", Some(check), &[])
                .await;
            assert_eq!(r.status, StatusCode::OK, "{}", r.body);
            r.body["decision"].as_str().unwrap().to_string()
        }
    };
    assert_eq!(decide(app).await, "deny");
    assert_eq!(decide(app).await, "deny");
    let r = app
        .post(
            &format!("/users/{user}/roles"),
            json!({ "role_id": viewer }),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    assert_eq!(decide(app).await, "allow");
    assert_eq!(decide(app).await, "allow");
    let r = app.delete(&format!("/users/{user}/roles/{viewer}")).await;
    assert!(r.status.is_success(), "{}", r.body);
    assert_eq!(decide(app).await, "deny");

    // An administrator losing System admin loses it at their next request.
    let _keeper = app.person("keeper@example.com", true).await;
    let admin = warm_person(app, "admin@example.com", true).await;
    let users = |token: String| async move {
        app.send_as(&token, Method::GET, "/users", None, &[])
            .await
            .status
    };
    assert_eq!(users(admin.token.clone()).await, StatusCode::OK);
    assert_eq!(users(admin.token.clone()).await, StatusCode::OK);
    let r = app
        .delete(&format!("/users/{}/admin-rights?kind=system", admin.id))
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.body);
    assert_eq!(users(admin.token.clone()).await, StatusCode::FORBIDDEN);
}

both!(strict_freshness_still_authenticates_and_revokes);
async fn strict_freshness_still_authenticates_and_revokes(b: Backend) {
    let app = spawn_app_with(b, |c| c.db.freshness = rolecall::store::Freshness::Strict).await;
    app.without_2fa().await;
    let jane = warm_person(&app, "jane@example.com", false).await;
    let r = app.delete(&format!("/users/{}/sessions", jane.id)).await;
    assert!(r.status.is_success(), "{}", r.body);
    assert_eq!(me(&app, &jane.token).await, StatusCode::UNAUTHORIZED);
}
