//! Owner takeover (issue 9, item 10): a System admin who is not the owner cannot change the
//! owner's password, second factor, lock, sessions, e-mail or username, nor take ownership; the
//! owner still can (and their own reset by mail still works), and so can the operator's token.

use crate::both;
use crate::helpers::{spawn_app, Backend, TestApp};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

/// Every reset token mailed to `to` so far.
pub fn mailed_tokens(app: &TestApp, to: &str, subject: &str) -> Vec<String> {
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
        .flat_map(|t| {
            t.lines()
                .filter(|l| l.starts_with("rc_"))
                .map(|l| l.trim().to_string())
                .collect::<Vec<_>>()
        })
        .collect()
}

/// Waits for the `n`th reset token mailed to `to`.
pub async fn reset_token(app: &TestApp, to: &str, n: usize) -> String {
    for _ in 0..100 {
        let found = mailed_tokens(app, to, "Reset your rolecall password");
        if found.len() >= n {
            return found[n - 1].clone();
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    panic!("no reset mail #{n} to {to}");
}

both!(only_the_owner_changes_the_owners_credentials);
async fn only_the_owner_changes_the_owners_credentials(b: Backend) {
    let app = spawn_app(b).await;
    app.without_2fa().await;
    let org = app.server.dir.org("acme").await.unwrap();
    let (owner, owner_pw) = app
        .server
        .dir
        .bootstrap_admin(&org, "owner@example.com", None)
        .await
        .unwrap();
    let owner_id = owner.id.to_string();
    let r = app.sign_in("owner@example.com", &owner_pw).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let owner_token = r.body["token"].as_str().unwrap().to_string();
    let owner_session = r.body["session"]["id"].as_str().unwrap().to_string();
    let admin = app.signed_in("admin@example.com", true).await;
    let pw = admin.password.clone();
    let with_pw: &[(&str, &str)] = &[("x-rolecall-password", &pw)];

    // Each path a System admin took to the owner's account (issue 9 item 10); every one was
    // 2xx before the rule reached the owner's credentials.
    let attempts: Vec<(Method, String, Option<Value>)> = vec![
        (
            Method::PUT,
            format!("/users/{owner_id}/password"),
            Some(json!({ "password": "Taken-Over-Horse-Battery-9" })),
        ),
        (Method::POST, format!("/users/{owner_id}/2fa/reset"), None),
        (
            Method::POST,
            "/2fa/reset".to_string(),
            Some(json!({ "user_ids": [owner_id] })),
        ),
        (Method::DELETE, format!("/users/{owner_id}/sessions"), None),
        (
            Method::DELETE,
            format!("/users/{owner_id}/sessions/{owner_session}"),
            None,
        ),
        (Method::DELETE, format!("/users/{owner_id}/lock"), None),
        (
            Method::PATCH,
            format!("/users/{owner_id}"),
            Some(json!({ "email": "attacker@example.com" })),
        ),
        (
            Method::PATCH,
            format!("/users/{owner_id}"),
            Some(json!({ "username": "attacker" })),
        ),
        (
            Method::PUT,
            "/owner".to_string(),
            Some(json!({ "user_id": admin.id })),
        ),
    ];
    for (method, path, body) in &attempts {
        let r = app
            .send_as(&admin.token, method.clone(), path, body.clone(), with_pw)
            .await;
        assert_eq!(
            (r.status, r.body["code"].as_str()),
            (StatusCode::FORBIDDEN, Some("owner_only")),
            "{method} {path}: {}",
            r.body
        );
    }
    // Nothing changed: the owner is still signed in, with the same address and password.
    let me = app
        .send_as(&owner_token, Method::GET, "/api/v1/me", None, &[])
        .await;
    assert_eq!(me.status, StatusCode::OK, "{}", me.body);
    assert_eq!(me.body["user"]["email"], "owner@example.com");
    assert_eq!(app.get("/owner").await.body["owner_id"], owner_id.as_str());

    // The owner changes their own address...
    let r = app
        .send_as(
            &owner_token,
            Method::PATCH,
            &format!("/users/{owner_id}"),
            Some(json!({ "email": "boss@example.com" })),
            &[("x-rolecall-password", &owner_pw)],
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    // ...and resets their own password by mail.
    let r = app
        .send_as(
            "",
            Method::POST,
            "/password-reset",
            Some(json!({ "email": "boss@example.com" })),
            &[],
        )
        .await;
    assert_eq!(r.status, StatusCode::ACCEPTED);
    let token = reset_token(&app, "boss@example.com", 1).await;
    let r = app
        .send_as(
            "",
            Method::POST,
            "/password-reset/confirm",
            Some(json!({ "token": token, "new_password": "Owner-Again-Horse-Battery-7" })),
            &[],
        )
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.body);
    let r = app
        .sign_in("boss@example.com", "Owner-Again-Horse-Battery-7")
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);

    // The operator (a token, no person) remains the way back in.
    let r = app
        .put(
            &format!("/users/{owner_id}/password"),
            json!({ "password": "Operator-Set-Horse-Battery-5" }),
        )
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.body);
}
