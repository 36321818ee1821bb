//! Users: lifecycle, validation, filters, authentication and denials.

use crate::both;
use crate::helpers::{spawn_app, Backend};
use reqwest::{Method, StatusCode};
use serde_json::json;

both!(user_lifecycle_keeps_records_and_voids_access);
async fn user_lifecycle_keeps_records_and_voids_access(b: Backend) {
    let app = spawn_app(b).await;
    let r = app
        .post(
            "/users",
            json!({ "email": "Jane.Doe@Example.com", "first_name": "Jane", "last_name": "Doe" }),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED);
    assert_eq!(
        r.body["username"], "Jane.Doe@Example.com",
        "username defaults to the e-mail"
    );
    assert_eq!(r.body["status"], "active");
    assert_eq!(r.etag(), "\"1\"");
    let id = r.body["id"].as_str().unwrap().to_string();
    let admin = app.role_id("commerce-admin", "Administrators").await;
    // commerce-admin keeps an active Administrators holder: Jane is not the only one.
    let keeper = app.user("keeper@example.com").await;
    for user in [&id, &keeper] {
        assert_eq!(
            app.post(&format!("/users/{user}/roles"), json!({ "role_id": admin }))
                .await
                .status,
            StatusCode::CREATED
        );
    }
    assert_eq!(
        app.decide(&id, "commerce-admin", "Magento_Sales::sales", None, None)
            .await,
        "allow"
    );

    let r = app
        .patch(&format!("/users/{id}"), json!({ "status": "inactive" }))
        .await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.body["status"], "inactive");
    let c = app.post("/check", json!({ "user_id": id, "application": "commerce-admin", "resource": "Magento_Sales::sales" })).await;
    assert_eq!(
        c.body["decision"], "deny",
        "deactivation voids access at once"
    );
    assert_eq!(c.body["reason"], "user_not_active");
    assert_eq!(
        app.get(&format!("/users/{id}")).await.body["email"],
        "Jane.Doe@Example.com",
        "the record is kept"
    );

    app.patch(&format!("/users/{id}"), json!({ "status": "active" }))
        .await;
    assert_eq!(
        app.decide(&id, "commerce-admin", "Magento_Sales::sales", None, None)
            .await,
        "allow",
        "reactivation restores roles"
    );

    assert_eq!(
        app.delete(&format!("/users/{id}")).await.status,
        StatusCode::NO_CONTENT
    );
    let gone = app.get(&format!("/users/{id}")).await;
    assert_eq!(
        gone.status,
        StatusCode::GONE,
        "a deleted id stays resolvable as deleted"
    );
    assert_eq!(gone.body["code"], "deleted");
    let c = app.post("/check", json!({ "user_id": id, "application": "commerce-admin", "resource": "Magento_Sales::sales" })).await;
    assert_eq!(
        (c.body["decision"].as_str(), c.body["reason"].as_str()),
        (Some("deny"), Some("unknown_user"))
    );
    assert_eq!(
        app.delete(&format!("/users/{id}")).await.status,
        StatusCode::NOT_FOUND
    );
    // The e-mail is free again after deletion.
    assert_eq!(
        app.post("/users", json!({ "email": "jane.doe@example.com" }))
            .await
            .status,
        StatusCode::CREATED
    );
}

both!(invited_users_have_no_access);
async fn invited_users_have_no_access(b: Backend) {
    let app = spawn_app(b).await;
    let r = app
        .post(
            "/users",
            json!({ "email": "new@example.com", "status": "invited" }),
        )
        .await;
    let id = r.body["id"].as_str().unwrap().to_string();
    let admin = app.role_id("commerce-admin", "Administrators").await;
    app.post(&format!("/users/{id}/roles"), json!({ "role_id": admin }))
        .await;
    assert_eq!(
        app.decide(&id, "commerce-admin", "Magento_Sales::sales", None, None)
            .await,
        "deny"
    );
}

both!(bad_user_input_names_field_and_rule);
async fn bad_user_input_names_field_and_rule(b: Backend) {
    let app = spawn_app(b).await;
    let cases = [
        (
            json!({ "email": "jané@example.com" }),
            "email",
            "email_ascii",
        ),
        (
            json!({ "email": "a@@example.com" }),
            "email",
            "email_one_at",
        ),
        (
            json!({ "email": ".a@example.com" }),
            "email",
            "email_leading_dot",
        ),
        (
            json!({ "email": "a(b)@example.com" }),
            "email",
            "email_local_part",
        ),
        (
            json!({ "email": "a@example.com", "username": "has space" }),
            "username",
            "username_syntax",
        ),
        (
            json!({ "email": "a@example.com", "first_name": "x".repeat(65) }),
            "first_name",
            "max_length",
        ),
        (
            json!({ "email": "a@example.com", "locale": "english" }),
            "locale",
            "locale_syntax",
        ),
        (
            json!({ "email": "a@example.com", "status": "inactive" }),
            "status",
            "enum",
        ),
        (json!({ "email": 42 }), "email", "type"),
        (json!({ "first_name": "x" }), "email", "required"),
        (
            json!({ "email": "a@example.com", "role": "x" }),
            "role",
            "unknown_field",
        ),
    ];
    for (body, field, rule) in cases {
        let r = app.post("/users", body.clone()).await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
        assert_eq!(r.headers["content-type"], "application/problem+json");
        assert!(
            r.field_errors()
                .contains(&(field.to_string(), rule.to_string())),
            "{body} -> {}",
            r.body
        );
    }
    // Several problems are reported at once.
    let r = app
        .post("/users", json!({ "email": "bad", "locale": "x" }))
        .await;
    assert_eq!(r.field_errors().len(), 2, "{}", r.body);

    let r = app
        .raw(Method::POST, "/users", "application/json", "{\"email\": ")
        .await;
    assert_eq!(
        (r.status, r.body["code"].as_str()),
        (StatusCode::BAD_REQUEST, Some("malformed_json"))
    );
    let r = app.raw(Method::POST, "/users", "text/plain", "{}").await;
    assert_eq!(r.status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
    // The server may answer 413 and close before the client has finished sending: retry until
    // the client reads the answer.
    let huge = format!(
        "{{\"email\": \"{}@example.com\"}}",
        "a".repeat(1024 * 1024 + 10)
    );
    let mut status = None;
    for _ in 0..5 {
        if let Ok(res) = app
            .client
            .post(app.url("/users"))
            .bearer_auth(&app.token)
            .header("content-type", "application/json")
            .body(huge.clone())
            .send()
            .await
        {
            status = Some(res.status());
            break;
        }
    }
    assert_eq!(status, Some(StatusCode::PAYLOAD_TOO_LARGE));

    // Nothing of the failed requests was written.
    assert_eq!(app.get("/users").await.body["total"], 0);
}

both!(usernames_and_emails_are_unique_ignoring_case);
async fn usernames_and_emails_are_unique_ignoring_case(b: Backend) {
    let app = spawn_app(b).await;
    app.post(
        "/users",
        json!({ "email": "jane@example.com", "username": "Jane" }),
    )
    .await;
    let r = app
        .post(
            "/users",
            json!({ "email": "JANE@example.com", "username": "other" }),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        r.field_errors(),
        vec![("email".to_string(), "unique".to_string())]
    );
    let r = app
        .post(
            "/users",
            json!({ "email": "other@example.com", "username": "jANE" }),
        )
        .await;
    assert_eq!(
        r.field_errors(),
        vec![("username".to_string(), "unique".to_string())]
    );
    // Another organization may reuse both.
    app.post(
        "/api/v1/organizations",
        json!({ "slug": "globex", "name": "Globex" }),
    )
    .await;
    let r = app
        .post(
            "/api/v1/organizations/globex/users",
            json!({ "email": "jane@example.com", "username": "Jane" }),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED);
}

both!(unknown_ids_are_404_not_500);
async fn unknown_ids_are_404_not_500(b: Backend) {
    let app = spawn_app(b).await;
    for path in [
        "/users/not-a-uuid",
        "/users/00000000-0000-0000-0000-000000000000",
        "/groups/xyz",
        "/roles/00000000-0000-0000-0000-000000000000",
    ] {
        let r = app.get(path).await;
        assert_eq!(r.status, StatusCode::NOT_FOUND, "{path}");
        assert_eq!(r.body["code"], "not_found");
    }
    assert_eq!(
        app.get("/api/v1/organizations/nope/users").await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        app.get("/api/v1/nothing-here").await.status,
        StatusCode::NOT_FOUND
    );
    let r = app
        .patch(
            "/users/00000000-0000-0000-0000-000000000000",
            json!({ "first_name": "x" }),
        )
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
}

both!(lists_filter_and_page);
async fn lists_filter_and_page(b: Backend) {
    let app = spawn_app(b).await;
    let mut ids = Vec::new();
    for i in 0..7 {
        ids.push(app.user(&format!("user{i}@example.com")).await);
    }
    app.post(
        "/users",
        json!({ "email": "zed_100%@example.com", "first_name": "Zed" }),
    )
    .await;
    app.patch(
        &format!("/users/{}", ids[0]),
        json!({ "status": "inactive" }),
    )
    .await;
    let r = app.get("/users?per_page=3&page=2").await;
    assert_eq!(
        (
            r.body["total"].as_i64(),
            r.body["items"].as_array().map(|a| a.len())
        ),
        (Some(8), Some(3))
    );
    assert_eq!(r.body["items"][0]["email"], "user3@example.com");
    assert_eq!(app.get("/users?status=inactive").await.body["total"], 1);
    assert_eq!(app.get("/users?q=ZED").await.body["total"], 1);
    assert_eq!(
        app.get("/users?q=100%25").await.body["total"],
        1,
        "% is literal"
    );
    assert_eq!(
        app.get("/users?q=user_").await.body["total"],
        0,
        "_ is literal"
    );
    let group = app.group("Sales").await;
    app.post(
        &format!("/groups/{group}/members"),
        json!({ "user_id": ids[1] }),
    )
    .await;
    let role = app
        .role(
            "cloud-project",
            "Deployers",
            json!([{ "resource": "environment:deploy", "actions": "*" }]),
            json!([]),
        )
        .await;
    app.post(
        &format!("/groups/{group}/roles"),
        json!({ "role_id": role }),
    )
    .await;
    app.post(
        &format!("/users/{}/roles", ids[2]),
        json!({ "role_id": role }),
    )
    .await;
    assert_eq!(
        app.get(&format!("/users?group={group}")).await.body["total"],
        1
    );
    assert_eq!(
        app.get(&format!("/users?role={role}")).await.body["total"],
        2,
        "direct and through the group"
    );
    let r = app.get("/users?status=gone&per_page=0&group=x").await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(r.field_errors().len(), 2, "{}", r.body);
    assert_eq!(
        app.get("/users?per_page=abc").await.status,
        StatusCode::UNPROCESSABLE_ENTITY
    );
    assert_eq!(
        app.get("/users?per_page=501").await.status,
        StatusCode::UNPROCESSABLE_ENTITY
    );
}

both!(every_mutation_needs_a_token_and_org_tokens_stay_home);
async fn every_mutation_needs_a_token_and_org_tokens_stay_home(b: Backend) {
    let app = spawn_app(b).await;
    let r = app
        .send_as(
            "",
            Method::POST,
            "/users",
            Some(json!({ "email": "a@example.com" })),
            &[],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    assert_eq!(r.headers["www-authenticate"], "Bearer realm=\"rolecall\"");
    let r = app
        .send_as("rc_forged", Method::GET, "/users", None, &[])
        .await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    assert_eq!(
        app.send_as("", Method::GET, "/api/v1/applications", None, &[])
            .await
            .status,
        StatusCode::UNAUTHORIZED
    );

    app.post(
        "/api/v1/organizations",
        json!({ "slug": "globex", "name": "Globex" }),
    )
    .await;
    let globex = app.server.dir.org("globex").await.unwrap();
    let org_token = app
        .server
        .dir
        .create_token("globex admin", Some(globex.id))
        .await
        .unwrap();
    let r = app
        .send_as(&org_token, Method::GET, "/users", None, &[])
        .await;
    assert_eq!(
        (r.status, r.body["code"].as_str()),
        (StatusCode::FORBIDDEN, Some("other_organization"))
    );
    let r = app
        .send_as(
            &org_token,
            Method::POST,
            "/api/v1/organizations/globex/users",
            Some(json!({ "email": "a@example.com" })),
            &[],
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED);
    let r = app
        .send_as(
            &org_token,
            Method::POST,
            "/api/v1/organizations",
            Some(json!({ "slug": "x", "name": "X" })),
            &[],
        )
        .await;
    assert_eq!(
        (r.status, r.body["code"].as_str()),
        (StatusCode::FORBIDDEN, Some("server_admin_required"))
    );
    let r = app
        .send_as(&org_token, Method::GET, "/api/v1/organizations", None, &[])
        .await;
    assert_eq!(
        r.body["items"].as_array().map(|a| a.len()),
        Some(1),
        "an org token sees only its org"
    );
    assert_eq!(
        app.get("/api/v1/organizations").await.body["items"]
            .as_array()
            .map(|a| a.len()),
        Some(2)
    );
}

both!(health_and_openapi);
async fn health_and_openapi(b: Backend) {
    let app = spawn_app(b).await;
    assert_eq!(
        app.send_as("", Method::GET, "/healthz", None, &[])
            .await
            .status,
        StatusCode::OK
    );
    assert_eq!(
        app.send_as("", Method::GET, "/readyz", None, &[])
            .await
            .status,
        StatusCode::OK
    );
    let doc = app
        .send_as("", Method::GET, "/api/v1/openapi.json", None, &[])
        .await;
    assert_eq!(doc.status, StatusCode::OK);
    assert!(
        doc.body["openapi"]
            .as_str()
            .unwrap_or("")
            .starts_with("3.1"),
        "{}",
        doc.body["openapi"]
    );
    let paths = doc.body["paths"].as_object().expect("paths");
    for p in [
        "/api/v1/organizations",
        "/api/v1/organizations/{org}/users",
        "/api/v1/organizations/{org}/users/{id}",
        "/api/v1/organizations/{org}/users/{id}/roles",
        "/api/v1/organizations/{org}/groups/{id}/members",
        "/api/v1/organizations/{org}/roles/{id}/grants",
        "/api/v1/organizations/{org}/check",
        "/api/v1/organizations/{org}/check/batch",
        "/api/v1/organizations/{org}/users/{id}/effective-permissions",
        "/api/v1/applications/{key}",
        "/api/v1/organizations/{org}/applications/{app}/scopes",
    ] {
        assert!(paths.contains_key(p), "missing {p}");
    }
    assert!(doc.body["components"]["schemas"]["User"].is_object());
    assert!(doc.body["components"]["schemas"]["Problem"].is_object());
}
