//! A stolen session cannot guess the password without limit (issue 9 item 7): wrong passwords
//! at `/me/reverify`, in `X-Rolecall-Password` and as the current password of a change count
//! towards the account's lockout like sign-in failures, and are throttled per address.

use crate::both;
use crate::helpers::{spawn_app, spawn_app_with, Backend};
use reqwest::{Method, StatusCode};
use serde_json::json;

both!(wrong_reverifications_lock_the_account);
async fn wrong_reverifications_lock_the_account(b: Backend) {
    let app = spawn_app(b).await;
    app.without_2fa().await;
    let admin = app.signed_in("admin@example.com", true).await;
    let guess = |pw: &'static str| {
        let (app, token) = (&app, admin.token.clone());
        async move {
            app.send_as(
                &token,
                Method::POST,
                "/api/v1/me/reverify",
                Some(json!({ "password": pw })),
                &[],
            )
            .await
        }
    };
    // The lockout threshold is 6: five wrong guesses by re-verification...
    for _ in 0..5 {
        let r = guess("not-the-password").await;
        assert_eq!(
            (r.status, r.body["code"].as_str()),
            (StatusCode::FORBIDDEN, Some("reverification_failed"))
        );
    }
    // ...and one in the header of a sensitive change: the sixth locks the account. Before,
    // neither counted and the guessing went on for ever.
    let r = app
        .send_as(
            &admin.token,
            Method::POST,
            "/users",
            Some(json!({ "email": "new@example.com" })),
            &[("x-rolecall-password", "still-not-it")],
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.body);
    // The session is over, and the right password no longer signs in.
    let r = guess("whatever").await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED, "{}", r.body);
    assert_eq!(
        app.sign_in("admin@example.com", &admin.password)
            .await
            .status,
        StatusCode::UNAUTHORIZED
    );
    let locks = app.get("/locks").await.body;
    assert_eq!(locks["items"][0]["user_id"], admin.id.as_str());
    let events = app
        .get(&format!("/auth-events?user={}", admin.id))
        .await
        .body;
    let kinds: Vec<&str> = events["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["kind"].as_str().unwrap())
        .collect();
    assert_eq!(
        kinds
            .iter()
            .filter(|k| **k == "reverification_failed")
            .count(),
        6
    );
    assert!(kinds.contains(&"locked"), "{kinds:?}");
}

both!(a_right_password_resets_the_count);
async fn a_right_password_resets_the_count(b: Backend) {
    let app = spawn_app(b).await;
    app.without_2fa().await;
    let p = app.signed_in("someone@example.com", false).await;
    let reverify = |pw: String| {
        let (app, token) = (&app, p.token.clone());
        async move {
            app.send_as(
                &token,
                Method::POST,
                "/api/v1/me/reverify",
                Some(json!({ "password": pw })),
                &[],
            )
            .await
            .status
        }
    };
    for _ in 0..3 {
        for _ in 0..5 {
            assert_eq!(reverify("wrong".into()).await, StatusCode::FORBIDDEN);
        }
        assert_eq!(reverify(p.password.clone()).await, StatusCode::NO_CONTENT);
    }
    // A wrong current password of a change counts as well.
    for _ in 0..6 {
        let r = app
            .send_as(
                &p.token,
                Method::POST,
                "/api/v1/me/password",
                Some(json!({ "current_password": "wrong", "new_password": "Another-Horse-Battery-42" })),
                &[],
            )
            .await;
        assert!(
            r.status == StatusCode::UNPROCESSABLE_ENTITY || r.status == StatusCode::UNAUTHORIZED,
            "{}",
            r.body
        );
    }
    assert_eq!(
        app.sign_in("someone@example.com", &p.password).await.status,
        StatusCode::UNAUTHORIZED,
        "locked after six wrong current passwords"
    );
}

both!(reverifications_are_throttled_per_address);
async fn reverifications_are_throttled_per_address(b: Backend) {
    let app = spawn_app_with(b, |c| c.sign_in_limit_per_minute = 5).await;
    app.without_2fa().await;
    let mut settings = app.get("/settings").await.body;
    settings["lockout_threshold"] = json!(100);
    assert_eq!(app.put("/settings", settings).await.status, StatusCode::OK);
    // The admin's own sign-in is one attempt of the address's five.
    let p = app.signed_in("someone@example.com", true).await;
    let mut statuses = Vec::new();
    for i in 0..6 {
        let r = if i % 2 == 0 {
            app.send_as(
                &p.token,
                Method::POST,
                "/api/v1/me/reverify",
                Some(json!({ "password": "guess" })),
                &[],
            )
            .await
        } else {
            app.send_as(
                &p.token,
                Method::POST,
                "/users",
                Some(json!({ "email": format!("n{i}@example.com") })),
                &[("x-rolecall-password", "guess")],
            )
            .await
        };
        if r.status == StatusCode::TOO_MANY_REQUESTS {
            assert_eq!(r.headers["retry-after"], "60");
            assert_eq!(r.headers["content-type"], "application/problem+json");
        }
        statuses.push(r.status);
    }
    assert_eq!(
        statuses,
        [
            StatusCode::FORBIDDEN,
            StatusCode::FORBIDDEN,
            StatusCode::FORBIDDEN,
            StatusCode::FORBIDDEN,
            StatusCode::TOO_MANY_REQUESTS,
            StatusCode::TOO_MANY_REQUESTS,
        ]
    );
}
