//! Optimistic concurrency: versions as ETags, If-Match, and two writers racing.

use crate::both;
use crate::helpers::{spawn_app, Backend};
use reqwest::{Method, StatusCode};
use serde_json::json;

both!(stale_if_match_is_412);
async fn stale_if_match_is_412(b: Backend) {
    let app = spawn_app(b).await;
    let id = app.user("jane@example.com").await;
    let r = app
        .send(
            Method::PATCH,
            &format!("/users/{id}"),
            Some(json!({ "first_name": "A" })),
            &[("if-match", "\"1\"")],
        )
        .await;
    assert_eq!((r.status, r.etag()), (StatusCode::OK, "\"2\"".to_string()));
    let r = app
        .send(
            Method::PATCH,
            &format!("/users/{id}"),
            Some(json!({ "first_name": "B" })),
            &[("if-match", "\"1\"")],
        )
        .await;
    assert_eq!(
        (r.status, r.body["code"].as_str()),
        (StatusCode::PRECONDITION_FAILED, Some("version_mismatch"))
    );
    assert_eq!(
        app.get(&format!("/users/{id}")).await.body["first_name"],
        "A",
        "the losing write changed nothing"
    );
    let r = app
        .send(
            Method::PATCH,
            &format!("/users/{id}"),
            Some(json!({ "first_name": "B" })),
            &[("if-match", "garbage")],
        )
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    let r = app
        .send(
            Method::DELETE,
            &format!("/users/{id}"),
            None,
            &[("if-match", "\"1\"")],
        )
        .await;
    assert_eq!(r.status, StatusCode::PRECONDITION_FAILED);
}

both!(two_concurrent_updates_one_wins);
async fn two_concurrent_updates_one_wins(b: Backend) {
    let app = spawn_app(b).await;
    let role = app.role("site-search", "Merch", json!([]), json!([])).await;
    for round in 0..5 {
        let etag = app.get(&format!("/roles/{role}")).await.etag();
        let path = format!("/roles/{role}");
        let headers = [("if-match", etag.as_str())];
        let a = app.send(
            Method::PATCH,
            &path,
            Some(json!({ "description": format!("a{round}") })),
            &headers,
        );
        let b2 = app.send(
            Method::PATCH,
            &path,
            Some(json!({ "description": format!("b{round}") })),
            &headers,
        );
        let (ra, rb) = tokio::join!(a, b2);
        let mut statuses = [ra.status, rb.status];
        statuses.sort();
        assert_eq!(
            statuses,
            [StatusCode::OK, StatusCode::PRECONDITION_FAILED],
            "round {round}"
        );
        let winner = if ra.status == StatusCode::OK {
            ra.body["description"].clone()
        } else {
            rb.body["description"].clone()
        };
        assert_eq!(
            app.get(&path).await.body["description"],
            winner,
            "the stored value is the winner's"
        );
    }
}

both!(concurrent_creates_of_one_email_yield_one_user);
async fn concurrent_creates_of_one_email_yield_one_user(b: Backend) {
    let app = spawn_app(b).await;
    let futures: Vec<_> = (0..6)
        .map(|_| app.post("/users", json!({ "email": "race@example.com" })))
        .collect();
    let replies = futures::future::join_all(futures).await;
    let created = replies
        .iter()
        .filter(|r| r.status == StatusCode::CREATED)
        .count();
    assert_eq!(created, 1);
    assert!(replies
        .iter()
        .all(|r| r.status == StatusCode::CREATED || r.status == StatusCode::UNPROCESSABLE_ENTITY));
    assert_eq!(app.get("/users").await.body["total"], 1);
}
