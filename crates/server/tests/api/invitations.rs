//! "Get started" invitations: invite, mail, accept, resend, withdraw, expiry, the permission
//! check, that accepting grants no rights, and the removal notices sent on deactivate/delete.

use crate::both;
use crate::helpers::{spawn_app, Backend, TestApp};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

const INVITE_SUBJECT: &str = "Get started with rolecall";
const REMOVAL_SUBJECT: &str = "Your rolecall access was removed";

/// The texts of every delivered message to `to` with `subject`.
fn mails(app: &TestApp, to: &str, subject: &str) -> Vec<String> {
    std::fs::read_dir(app.config.data_dir.join("mail"))
        .into_iter()
        .flatten()
        .flatten()
        .filter(|e| e.path().extension().is_some_and(|x| x == "eml"))
        .map(|e| std::fs::read_to_string(e.path()).unwrap_or_default())
        .filter(|t| {
            t.lines().any(|l| l.trim_end() == format!("To: {to}"))
                && t.lines()
                    .any(|l| l.trim_end() == format!("Subject: {subject}"))
        })
        .collect()
}

/// Waits until at least `n` messages to `to` with `subject` were delivered; returns them.
async fn wait_mails(app: &TestApp, to: &str, subject: &str, n: usize) -> Vec<String> {
    for _ in 0..100 {
        let found = mails(app, to, subject);
        if found.len() >= n {
            return found;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    panic!("expected {n} message(s) {subject:?} to {to}");
}

/// Every invitation token mailed to `to`, waiting until there are at least `n`.
async fn tokens(app: &TestApp, to: &str, n: usize) -> Vec<String> {
    wait_mails(app, to, INVITE_SUBJECT, n)
        .await
        .iter()
        .flat_map(|t| {
            t.lines()
                .filter(|l| l.starts_with("rc_"))
                .map(|l| l.trim().to_string())
                .collect::<Vec<_>>()
        })
        .collect()
}

/// The token of the next invitation mail to `to`, given the `seen` ones.
async fn next_token(app: &TestApp, to: &str, seen: &[String]) -> String {
    tokens(app, to, seen.len() + 1)
        .await
        .into_iter()
        .find(|t| !seen.contains(t))
        .expect("a new token")
}

async fn accept(app: &TestApp, token: &str, password: &str) -> crate::helpers::Reply {
    app.send_as(
        "",
        Method::POST,
        "/invitations/accept",
        Some(json!({ "token": token, "password": password })),
        &[],
    )
    .await
}

async fn invite(app: &TestApp, body: Value) -> (String, Value) {
    let r = app.post("/invitations", body).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    (r.body["user"]["id"].as_str().unwrap().to_string(), r.body)
}

fn invalid(r: &crate::helpers::Reply) -> bool {
    r.status == StatusCode::UNPROCESSABLE_ENTITY
        && r.field_errors() == vec![("token".to_string(), "invitation_invalid".to_string())]
}

const GOOD: &str = "Correct horse battery staple 42";
const DAY: i64 = 24 * 3600;

both!(invite_accept_then_sign_in);
async fn invite_accept_then_sign_in(b: Backend) {
    let app = spawn_app(b).await;
    app.without_2fa().await;
    let (id, body) = invite(
        &app,
        json!({ "email": "jane@example.com", "first_name": "Jane", "username": "jane" }),
    )
    .await;
    assert_eq!(body["user"]["status"], "invited");
    let inv = &body["invitation"];
    assert_eq!(inv["user_id"], id.as_str());
    assert_eq!(inv["status"], "pending");
    assert_eq!(
        inv["expires_at"].as_i64().unwrap() - inv["sent_at"].as_i64().unwrap(),
        7 * DAY * 1000
    );
    assert!(
        inv["invited_by"].as_str().unwrap().starts_with("token "),
        "{inv}"
    );
    assert!(
        !body.to_string().contains("rc_"),
        "the token only travels by e-mail: {body}"
    );
    let list = app.get("/invitations").await;
    assert_eq!(list.status, StatusCode::OK);
    assert_eq!(list.body["total"], 1);
    assert_eq!(list.body["items"][0]["id"], inv["id"]);

    let mail = wait_mails(&app, "jane@example.com", INVITE_SUBJECT, 1).await;
    assert!(mail[0].contains("Hello Jane"), "{}", mail[0]);
    assert!(mail[0].contains("acme"), "{}", mail[0]);
    assert!(mail[0].contains(" UTC"), "the expiry date: {}", mail[0]);
    assert!(
        mail[0].contains("Content-Transfer-Encoding: 7bit"),
        "plain text, readable as is: {}",
        mail[0]
    );
    let token = tokens(&app, "jane@example.com", 1).await.remove(0);

    // Not yet: an invited user cannot sign in.
    assert_eq!(
        app.sign_in("jane", GOOD).await.status,
        StatusCode::UNAUTHORIZED
    );
    // The password policy applies, and a refused password does not use the token up.
    let weak = accept(&app, &token, "short").await;
    assert_eq!(
        weak.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        weak.body
    );
    assert!(
        weak.field_errors().iter().all(|(f, _)| f == "password") && !weak.field_errors().is_empty(),
        "{}",
        weak.body
    );
    let ok = accept(&app, &token, GOOD).await;
    assert_eq!(ok.status, StatusCode::NO_CONTENT, "{}", ok.body);
    let user = app.get(&format!("/users/{id}")).await;
    assert_eq!(user.body["status"], "active");
    assert_eq!(app.get("/invitations").await.body["total"], 0);
    let signed = app.sign_in("jane@example.com", GOOD).await;
    assert_eq!(signed.status, StatusCode::OK, "{}", signed.body);
    assert_eq!(signed.body["stage"], "full");

    // Single use; every unusable token gets the same answer.
    let again = accept(&app, &token, "Another fine passphrase 43").await;
    assert!(invalid(&again), "{}", again.body);
    let bogus = accept(&app, "rc_not-a-real-token", GOOD).await;
    assert!(invalid(&bogus), "{}", bogus.body);
    assert_eq!(again.body, bogus.body);
    let other_org = app
        .send_as(
            "",
            Method::POST,
            "/api/v1/organizations/nope/invitations/accept",
            Some(json!({ "token": token, "password": GOOD })),
            &[],
        )
        .await;
    assert_eq!(other_org.body, bogus.body);

    let events = app.get(&format!("/auth-events?user={id}")).await;
    assert!(
        events.body["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["kind"] == "invitation_accepted"),
        "{}",
        events.body
    );
}

both!(resend_withdraw_and_expiry_kill_tokens);
async fn resend_withdraw_and_expiry_kill_tokens(b: Backend) {
    let app = spawn_app(b).await;
    let (id, _) = invite(&app, json!({ "email": "sam@example.com" })).await;
    let mut seen = tokens(&app, "sam@example.com", 1).await;
    let first = seen[0].clone();

    // Resend: a new token, the old one dead, the expiry reset.
    app.clock.advance_secs(3 * DAY);
    let r = app
        .post(&format!("/users/{id}/invitation"), json!({}))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(
        r.body["expires_at"].as_i64().unwrap() - r.body["sent_at"].as_i64().unwrap(),
        7 * DAY * 1000
    );
    let second = next_token(&app, "sam@example.com", &seen).await;
    seen.push(second.clone());
    assert!(invalid(&accept(&app, &first, GOOD).await));
    assert_eq!(app.get("/invitations").await.body["total"], 1);

    // Withdraw: the token dies, the user stays invited (without access).
    let r = app.delete(&format!("/users/{id}/invitation")).await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.body);
    assert!(invalid(&accept(&app, &second, GOOD).await));
    assert_eq!(
        app.get(&format!("/users/{id}")).await.body["status"],
        "invited"
    );
    assert_eq!(app.get("/invitations").await.body["total"], 0);
    assert_eq!(
        app.delete(&format!("/users/{id}/invitation")).await.status,
        StatusCode::NOT_FOUND
    );

    // Invited again, then the token expires after 7 days.
    let r = app
        .post(&format!("/users/{id}/invitation"), json!({}))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let third = next_token(&app, "sam@example.com", &seen).await;
    seen.push(third.clone());
    app.clock.advance_secs(7 * DAY + 1);
    assert!(invalid(&accept(&app, &third, GOOD).await));
    let list = app.get("/invitations").await;
    assert_eq!(list.body["items"][0]["status"], "expired", "{}", list.body);

    // A resend revives it.
    app.post(&format!("/users/{id}/invitation"), json!({}))
        .await;
    let fourth = next_token(&app, "sam@example.com", &seen).await;
    assert_eq!(
        accept(&app, &fourth, GOOD).await.status,
        StatusCode::NO_CONTENT
    );
    // Only invited users can be sent an invitation.
    let r = app
        .post(&format!("/users/{id}/invitation"), json!({}))
        .await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.body);
    let active = app.user("active@example.com").await;
    assert_eq!(
        app.post(&format!("/users/{active}/invitation"), json!({}))
            .await
            .status,
        StatusCode::CONFLICT
    );
}

both!(post_users_invited_sends_the_invitation_and_2fa_follows);
async fn post_users_invited_sends_the_invitation_and_2fa_follows(b: Backend) {
    let app = spawn_app(b).await;
    let r = app
        .post(
            "/users",
            json!({ "email": "bo@example.com", "status": "invited" }),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let list = app.get("/invitations").await;
    assert_eq!(list.body["total"], 1);
    assert_eq!(list.body["items"][0]["user_id"], r.body["id"]);
    assert_eq!(list.body["items"][0]["invited_by"], Value::Null);
    let token = tokens(&app, "bo@example.com", 1).await.remove(0);
    assert_eq!(
        accept(&app, &token, GOOD).await.status,
        StatusCode::NO_CONTENT
    );
    // Sign-in goes on as usual: this organization requires 2FA, so enrolment comes first.
    let signed = app.sign_in("bo@example.com", GOOD).await;
    assert_eq!(signed.status, StatusCode::OK, "{}", signed.body);
    assert_eq!(signed.body["stage"], "enrol");
    // An active user gets no invitation.
    app.user("al@example.com").await;
    tokio::time::sleep(std::time::Duration::from_millis(1200)).await;
    assert!(mails(&app, "al@example.com", INVITE_SUBJECT).is_empty());
}

both!(accepting_grants_no_rights);
async fn accepting_grants_no_rights(b: Backend) {
    let app = spawn_app(b).await;
    app.without_2fa().await;
    // A product admin may add users; whoever they invite gets nothing from the invitation.
    let product = app.signed_in("product@example.com", false).await;
    let r = app
        .post(
            &format!("/users/{}/admin-rights", product.id),
            json!({ "kind": "product", "application": "commerce-admin" }),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let r = app
        .send_as(
            &product.token,
            Method::POST,
            "/invitations",
            Some(json!({ "email": "new@example.com" })),
            &[],
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let id = r.body["user"]["id"].as_str().unwrap().to_string();
    assert_eq!(
        r.body["invitation"]["invited_by"],
        format!("user {}", product.id)
    );
    // One role granted separately, through its own permission-checked endpoint.
    let viewer = app
        .role("commerce-admin", "InviteeViewer", json!([]), json!([]))
        .await;
    let r = app
        .post(&format!("/users/{id}/roles"), json!({ "role_id": viewer }))
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let roles_before = app.get(&format!("/users/{id}/roles")).await.body;
    let token = tokens(&app, "new@example.com", 1).await.remove(0);
    assert_eq!(
        accept(&app, &token, GOOD).await.status,
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        app.get(&format!("/users/{id}/roles")).await.body,
        roles_before
    );
    let rights = app.get(&format!("/users/{id}/admin-rights")).await;
    assert_eq!(rights.status, StatusCode::OK, "{}", rights.body);
    assert_eq!(rights.body["items"], json!([]));
    let signed = app.sign_in("new@example.com", GOOD).await;
    let me = app
        .send_as(
            signed.body["token"].as_str().unwrap(),
            Method::GET,
            "/api/v1/me",
            None,
            &[],
        )
        .await;
    assert_eq!(me.body["admin_rights"], json!([]));
    assert_eq!(
        app.decide(&id, "commerce-admin", "Magento_Sales::sales", None, None)
            .await,
        "deny"
    );
}

both!(removed_people_are_notified);
async fn removed_people_are_notified(b: Backend) {
    let app = spawn_app(b).await;
    let gone = app.user("gone@example.com").await;
    let off = app.user("off@example.com").await;
    let r = app
        .patch(&format!("/users/{off}"), json!({ "status": "inactive" }))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let m = wait_mails(&app, "off@example.com", REMOVAL_SUBJECT, 1).await;
    assert!(m[0].contains("deactivated"), "{}", m[0]);
    assert!(m[0].contains("acme"), "{}", m[0]);
    let r = app.delete(&format!("/users/{gone}")).await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.body);
    let m = wait_mails(&app, "gone@example.com", REMOVAL_SUBJECT, 1).await;
    assert!(m[0].contains("deleted"), "{}", m[0]);
    // An invited person who is deleted: notified, and the invitation dies with the record.
    let (inv, _) = invite(&app, json!({ "email": "inv@example.com" })).await;
    let token = tokens(&app, "inv@example.com", 1).await.remove(0);
    assert_eq!(
        app.delete(&format!("/users/{inv}")).await.status,
        StatusCode::NO_CONTENT
    );
    wait_mails(&app, "inv@example.com", REMOVAL_SUBJECT, 1).await;
    assert!(invalid(&accept(&app, &token, GOOD).await));
    // Deactivating an invited person closes the invitation too.
    let (inv2, _) = invite(&app, json!({ "email": "inv2@example.com" })).await;
    let token = tokens(&app, "inv2@example.com", 1).await.remove(0);
    app.patch(&format!("/users/{inv2}"), json!({ "status": "inactive" }))
        .await;
    assert!(invalid(&accept(&app, &token, GOOD).await));
    assert_eq!(app.get("/invitations").await.body["total"], 0);
}

both!(support_admins_cannot_invite);
async fn support_admins_cannot_invite(b: Backend) {
    let app = spawn_app(b).await;
    app.without_2fa().await;
    let support = app.signed_in("support@example.com", false).await;
    let r = app
        .post(
            &format!("/users/{}/admin-rights", support.id),
            json!({ "kind": "support" }),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let (invited, _) = invite(&app, json!({ "email": "x@example.com" })).await;
    let as_support = |method: Method, path: String, body: Option<Value>| {
        let app = &app;
        let token = support.token.clone();
        async move { app.send_as(&token, method, &path, body, &[]).await }
    };
    let r = as_support(
        Method::POST,
        "/invitations".into(),
        Some(json!({ "email": "y@example.com" })),
    )
    .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.body);
    let r = as_support(
        Method::POST,
        format!("/users/{invited}/invitation"),
        Some(json!({})),
    )
    .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.body);
    let r = as_support(Method::DELETE, format!("/users/{invited}/invitation"), None).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.body);
    // Viewing who is invited is part of viewing users.
    let r = as_support(Method::GET, "/invitations".into(), None).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.body["total"], 1);
    // Nobody was added by the refused request.
    assert_eq!(app.get("/users?q=y%40example.com").await.body["total"], 0);
}

both!(a_delegated_admin_resends_and_withdraws_only_its_own_invitations);
/// Before: any admin who may add users (a product or profile admin) could resend or withdraw
/// every open invitation of the organisation, another admin's included.
async fn a_delegated_admin_resends_and_withdraws_only_its_own_invitations(b: Backend) {
    let app = spawn_app(b).await;
    app.without_2fa().await;
    let a = app.signed_in("product.a@example.com", false).await;
    let other = app.signed_in("product.b@example.com", false).await;
    let sys = app.signed_in("system@example.com", true).await;
    for p in [&a, &other] {
        let r = app
            .post(
                &format!("/users/{}/admin-rights", p.id),
                json!({ "kind": "product", "application": "commerce-admin" }),
            )
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    }
    // Each signed in a moment ago, so within the re-verification window: no password needed.
    let as_person = |p: &crate::helpers::Person, method: Method, path: String| {
        let app = &app;
        let token = p.token.clone();
        let body = (method == Method::POST).then(|| json!({}));
        async move { app.send_as(&token, method, &path, body, &[]).await }
    };
    let refused = |r: &crate::helpers::Reply| {
        r.status == StatusCode::FORBIDDEN && r.body["code"] == "invitation_of_another"
    };

    // A invites; B, another product admin of the same application, may not touch it.
    let r = app
        .send_as(
            &a.token,
            Method::POST,
            "/invitations",
            Some(json!({ "email": "invitee@example.com" })),
            &[],
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let id = r.body["user"]["id"].as_str().unwrap().to_string();
    let path = format!("/users/{id}/invitation");
    let r = as_person(&other, Method::POST, path.clone()).await;
    assert!(refused(&r), "{} {}", r.status, r.body);
    let r = as_person(&other, Method::DELETE, path.clone()).await;
    assert!(refused(&r), "{} {}", r.status, r.body);
    let list = app.get("/invitations").await.body;
    assert_eq!(list["total"], 1);
    // The list names the sender, so a client shows the buttons only to whoever may press them.
    assert_eq!(list["items"][0]["sent_by"], json!(a.id), "{list}");

    // A resends and withdraws its own.
    let r = as_person(&a, Method::POST, path.clone()).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let r = as_person(&a, Method::DELETE, path.clone()).await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.body);
    // Withdrawn, it is nobody's: inviting the person again is for a System admin.
    let r = as_person(&a, Method::POST, path.clone()).await;
    assert!(refused(&r), "{} {}", r.status, r.body);
    let r = as_person(&sys, Method::POST, path.clone()).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    // The live token is now the System admin's: A no longer withdraws it.
    let r = as_person(&a, Method::DELETE, path.clone()).await;
    assert!(refused(&r), "{} {}", r.status, r.body);

    // An invitation the operator sent: a System admin's to handle, not A's.
    let (ops, _) = invite(&app, json!({ "email": "ops.invitee@example.com" })).await;
    let ops_path = format!("/users/{ops}/invitation");
    let list = app.get("/invitations").await.body;
    let sent_by: Vec<_> = list["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|i| i["user_id"] == json!(ops))
        .map(|i| i["sent_by"].clone())
        .collect();
    assert_eq!(sent_by, vec![Value::Null], "the operator is nobody: {list}");
    let r = as_person(&a, Method::DELETE, ops_path.clone()).await;
    assert!(refused(&r), "{} {}", r.status, r.body);
    let r = as_person(&a, Method::POST, ops_path.clone()).await;
    assert!(refused(&r), "{} {}", r.status, r.body);
    let r = as_person(&sys, Method::DELETE, ops_path).await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.body);
    let r = app.delete(&path).await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.body);
    assert_eq!(app.get("/invitations").await.body["total"], 0);
}

both!(a_new_address_gets_the_invitation_and_the_old_token_dies);
/// Before: correcting an invited person's e-mail left the token mailed to the old address
/// working, so whoever read that mailbox could accept the account the person now holds.
async fn a_new_address_gets_the_invitation_and_the_old_token_dies(b: Backend) {
    let app = spawn_app(b).await;
    let (id, _) = invite(&app, json!({ "email": "jane.doe@examp1e.com" })).await;
    let old = next_token(&app, "jane.doe@examp1e.com", &[]).await;
    let r = app
        .patch(
            &format!("/users/{id}"),
            json!({ "email": "jane.doe@example.com" }),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert!(
        invalid(&accept(&app, &old, GOOD).await),
        "the old token is dead"
    );
    let new = next_token(&app, "jane.doe@example.com", &[]).await;
    assert_eq!(
        accept(&app, &new, GOOD).await.status,
        StatusCode::NO_CONTENT
    );
    let sent = app.get("/audit?action=invitation_sent").await.body;
    assert!(
        sent.to_string().contains("sent again to the new address"),
        "{sent}"
    );
}
