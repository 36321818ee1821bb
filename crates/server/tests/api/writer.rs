//! The writer and the authentication path (issue 9 items 6 and 8): authenticating never writes
//! (last uses are kept in memory and flushed in batches), a busy database answers 503 with
//! `Retry-After`, a session guessing its password in a loop stalls neither checks nor writes,
//! and concurrent role assignments to one person are serialised.

use crate::both;
use crate::helpers::{spawn_app, spawn_app_with, Backend};
use reqwest::{Method, StatusCode};
use rolecall::directory::Clock;
use rolecall::store::Backend as Store;
use serde_json::json;
use std::time::Duration;

/// A request that must not wait for the writer: a hang is a failure, not a slow pass.
async fn promptly<T>(what: &str, f: impl std::future::Future<Output = T>) -> T {
    tokio::time::timeout(Duration::from_secs(30), f)
        .await
        .unwrap_or_else(|_| panic!("{what} waited for the database's writer"))
}

both!(authenticating_never_writes);
async fn authenticating_never_writes(b: Backend) {
    let app = spawn_app(b).await;
    app.without_2fa().await;
    let person = app.signed_in("reader@example.com", true).await;
    let r = app.post("/credentials", json!({ "name": "reader" })).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let secret = r.body["secret"].as_str().unwrap().to_string();
    let subject = app.user("subject@example.com").await;
    // Last uses were written at most every 15 s: make every kind of secret due for one.
    app.clock.advance_secs(20);

    // Hold the writer, as a long write did (or Argon2 under it, before): on SQLite the write
    // lock, on PostgreSQL the rows a last-use UPDATE would have to lock.
    let db = app.server.dir.db.clone();
    let mut w = db.write().await.unwrap();
    if db.backend == Store::Postgres {
        for table in ["api_tokens", "sessions", "api_credentials"] {
            sqlx::query(&format!("UPDATE {table} SET id = id"))
                .execute(&mut *w.tx)
                .await
                .unwrap();
        }
    }
    let check = json!({ "user_id": subject, "application": "commerce-admin", "resource": "Magento_Sales::sales" });
    // Before: the token's `UPDATE … last_used_at` waited for the writer and answered 500
    // `database is locked` (or, on PostgreSQL, waited as long as the lock was held).
    for (who, token, method, path, body) in [
        (
            "a token",
            app.token.clone(),
            Method::POST,
            "/check",
            Some(check.clone()),
        ),
        ("a token", app.token.clone(), Method::GET, "/users", None),
        (
            "a session",
            person.token.clone(),
            Method::GET,
            "/api/v1/me",
            None,
        ),
        (
            "a credential",
            secret.clone(),
            Method::POST,
            "/check",
            Some(check.clone()),
        ),
    ] {
        let r = promptly(who, app.send_as(&token, method, path, body, &[])).await;
        assert_eq!(r.status, StatusCode::OK, "{who} {path}: {}", r.body);
    }
    drop(w);

    // The uses were remembered, and a flush writes them.
    let last_used = |sql: &'static str| {
        let db = db.clone();
        async move {
            sqlx::query_scalar::<_, Option<i64>>(sql)
                .fetch_one(&db.pool)
                .await
                .unwrap()
        }
    };
    let token_sql = "SELECT last_used_at FROM api_tokens WHERE name = 'test bootstrap'";
    let credential_sql = "SELECT last_used_at FROM api_credentials WHERE name = 'reader'";
    app.server.dir.flush_activity().await.unwrap();
    let now = app.clock.now();
    assert!(last_used(token_sql).await.is_some_and(|t| now - t < 60_000));
    assert!(last_used(credential_sql)
        .await
        .is_some_and(|t| now - t < 60_000));
}

both!(a_busy_database_answers_503_with_retry_after);
async fn a_busy_database_answers_503_with_retry_after(b: Backend) {
    let app = spawn_app_with(b, |c| c.db.busy_timeout = Duration::from_millis(300)).await;
    let id = app.user("busy@example.com").await;
    let db = app.server.dir.db.clone();
    let mut w = db.write().await.unwrap();
    if db.backend == Store::Postgres {
        sqlx::query(&db.sql("SELECT id FROM users WHERE id = $1 FOR UPDATE"))
            .bind(&id)
            .fetch_one(&mut *w.tx)
            .await
            .unwrap();
    }
    let r = promptly(
        "a write",
        app.patch(&format!("/users/{id}"), json!({ "first_name": "Later" })),
    )
    .await;
    assert_eq!(
        (r.status, r.body["code"].as_str()),
        (StatusCode::SERVICE_UNAVAILABLE, Some("database_busy")),
        "{}",
        r.body
    );
    assert_eq!(r.headers["content-type"], "application/problem+json");
    assert_eq!(r.headers["retry-after"], "1");
    drop(w);
    let r = app
        .patch(&format!("/users/{id}"), json!({ "first_name": "Later" }))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    // The document says so, for every operation.
    let doc = app.get("/api/v1/openapi.json").await.body;
    let op = &doc["paths"]["/api/v1/organizations/{org}/users/{id}"]["patch"];
    // Shared errors are references to `components.responses`.
    let mut answer = &op["responses"]["503"];
    if let Some(name) = answer["$ref"]
        .as_str()
        .and_then(|r| r.strip_prefix("#/components/responses/"))
    {
        answer = &doc["components"]["responses"][name];
    }
    assert!(
        answer["content"]["application/problem+json"].is_object(),
        "{op}"
    );
}

both!(wrong_reverifications_stall_neither_checks_nor_writes);
async fn wrong_reverifications_stall_neither_checks_nor_writes(b: Backend) {
    // The throttle is lifted so the loop reaches the writer as often as it can.
    let app = spawn_app_with(b, |c| c.sign_in_limit_per_minute = 1_000_000).await;
    app.without_2fa().await;
    let mut settings = app.get("/settings").await.body;
    settings["lockout_threshold"] = json!(100);
    assert_eq!(app.put("/settings", settings).await.status, StatusCode::OK);
    let attacker = app.signed_in("attacker@example.com", false).await;
    let subject = app.user("subject@example.com").await;
    let group = app.group("Writers").await;

    // One session looping wrong re-verifications (four at a time)...
    let attack = futures::future::join_all((0..4).map(|_| {
        let (app, token) = (&app, attacker.token.clone());
        async move {
            for _ in 0..20 {
                let r = app
                    .send_as(
                        &token,
                        Method::POST,
                        "/api/v1/me/reverify",
                        Some(json!({ "password": "not-my-password" })),
                        &[],
                    )
                    .await;
                assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.body);
            }
        }
    }));
    // ...while checks and writes run: none answers 500 (send_as asserts it) and every write
    // completes.
    let writes = async {
        for i in 0..20 {
            let r = app
                .patch(
                    &format!("/groups/{group}"),
                    json!({ "description": format!("v{i}") }),
                )
                .await;
            assert_eq!(r.status, StatusCode::OK, "write {i}: {}", r.body);
        }
    };
    let checks = async {
        for _ in 0..40 {
            app.decide(
                &subject,
                "commerce-admin",
                "Magento_Sales::sales",
                None,
                None,
            )
            .await;
        }
    };
    tokio::join!(attack, writes, checks);
    assert_eq!(
        app.get(&format!("/groups/{group}")).await.body["description"],
        "v19"
    );
    // Every guess was counted (80 of 100 allowed) and logged.
    let events = app.get("/auth-events?limit=1000").await.body;
    let failed = events["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["kind"] == "reverification_failed")
        .count();
    assert_eq!(failed, 80);
}

both!(concurrent_assignments_keep_one_role_per_user);
async fn concurrent_assignments_keep_one_role_per_user(b: Backend) {
    let app = spawn_app(b).await;
    let mut roles = Vec::new();
    for name in ["Sales", "Catalog", "Reports"] {
        roles.push(
            app.role(
                "commerce-admin",
                name,
                json!([{ "resource": "Magento_Sales::sales" }]),
                json!([]),
            )
            .await,
        );
    }
    // Before: 2–3 roles in 15 of 20 trials on PostgreSQL.
    for trial in 0..20 {
        let user = app.user(&format!("trial{trial}@example.com")).await;
        let answers = futures::future::join_all(roles.iter().map(|role| {
            let (app, path) = (&app, format!("/users/{user}/roles"));
            async move { app.post(&path, json!({ "role_id": role })).await }
        }))
        .await;
        let created = answers
            .iter()
            .filter(|r| r.status == StatusCode::CREATED)
            .count();
        assert!(
            answers
                .iter()
                .all(|r| r.status == StatusCode::CREATED || r.status == StatusCode::CONFLICT),
            "trial {trial}: {:?}",
            answers.iter().map(|r| r.status).collect::<Vec<_>>()
        );
        let held = app.get(&format!("/users/{user}/roles")).await.body["items"]
            .as_array()
            .unwrap()
            .len();
        assert_eq!((created, held), (1, 1), "trial {trial}");
    }
}

both!(a_session_in_use_stays_alive_between_flushes);
async fn a_session_in_use_stays_alive_between_flushes(b: Backend) {
    let app = spawn_app(b).await;
    app.without_2fa().await;
    let p = app.signed_in("busy@example.com", false).await;
    let me = |token: String| {
        let app = &app;
        async move {
            app.send_as(&token, Method::GET, "/api/v1/me", None, &[])
                .await
                .status
        }
    };
    // Used every 10 minutes for an hour, flushed or not: the idle clock (15 minutes) reads
    // the last use from memory as well as from the database.
    for _ in 0..6 {
        app.clock.advance_secs(600);
        assert_eq!(me(p.token.clone()).await, StatusCode::OK);
    }
    // Left alone longer than the timeout (plus, on PostgreSQL, the other nodes' flush slack).
    app.clock.advance_secs(911);
    assert_eq!(me(p.token.clone()).await, StatusCode::UNAUTHORIZED);
    // The flush marks it ended for every node.
    app.server.dir.flush_activity().await.unwrap();
    let reason: Option<String> =
        sqlx::query_scalar("SELECT revoke_reason FROM sessions WHERE revoked_at IS NOT NULL")
            .fetch_optional(&app.server.dir.db.pool)
            .await
            .unwrap()
            .flatten();
    assert_eq!(reason.as_deref(), Some("idle timeout"));
}

both!(last_uses_are_written_at_shutdown);
async fn last_uses_are_written_at_shutdown(b: Backend) {
    let app = spawn_app(b).await;
    assert_eq!(app.get("/users").await.status, StatusCode::OK);
    let db = app.server.dir.db.clone();
    let _data = app.shut_down().await;
    let used: Option<i64> =
        sqlx::query_scalar("SELECT last_used_at FROM api_tokens WHERE name = 'test bootstrap'")
            .fetch_one(&db.pool)
            .await
            .unwrap();
    assert!(used.is_some(), "flushed on the way out");
}
