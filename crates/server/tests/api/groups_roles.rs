//! Roles, grants, groups, memberships and assignments.

use crate::both;
use crate::helpers::{spawn_app, Backend};
use reqwest::StatusCode;
use serde_json::json;

both!(role_names_follow_seed_002_and_are_unique);
async fn role_names_follow_seed_002_and_are_unique(b: Backend) {
    let app = spawn_app(b).await;
    for (name, rule) in [
        ("_hidden", "role_name_leading"),
        (".x", "role_name_leading"),
        ("Public Relations", "role_name_syntax"),
        ("", "required"),
    ] {
        let r = app
            .post(
                "/roles",
                json!({ "application": "site-search", "name": name }),
            )
            .await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{name}");
        assert!(
            r.field_errors()
                .contains(&("name".to_string(), rule.to_string())),
            "{name}: {}",
            r.body
        );
    }
    app.role("site-search", "PR", json!([]), json!([])).await;
    let r = app
        .post(
            "/roles",
            json!({ "application": "site-search", "name": "pr" }),
        )
        .await;
    assert_eq!(
        r.field_errors(),
        vec![("name".to_string(), "unique".to_string())]
    );
    // Same name in another application is fine.
    app.role("cloud-project", "PR", json!([]), json!([])).await;
    let r = app
        .post("/roles", json!({ "application": "nope", "name": "X" }))
        .await;
    assert_eq!(
        r.field_errors(),
        vec![("application".to_string(), "unknown_application".to_string())]
    );
    let r = app.post("/roles", json!({ "application": "site-search", "name": "Y", "grants": [{ "resource": "nope" }, { "resource": "rules", "actions": ["fly"] }] })).await;
    assert_eq!(
        r.field_errors(),
        vec![
            (
                "grants[0].resource".to_string(),
                "unknown_resource".to_string()
            ),
            (
                "grants[1].actions[0]".to_string(),
                "unknown_action".to_string()
            )
        ]
    );
    let r = app.post("/roles", json!({ "application": "site-search", "name": "Z", "grants": [{ "resource": "rules", "actions": "all" }] })).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
}

both!(administrators_is_built_in_and_untouchable);
async fn administrators_is_built_in_and_untouchable(b: Backend) {
    let app = spawn_app(b).await;
    for key in ["commerce-admin", "cloud-project", "site-search"] {
        let id = app.role_id(key, "Administrators").await;
        let r = app.get(&format!("/roles/{id}")).await;
        assert_eq!(r.body["builtin"], true);
        let r = app
            .patch(
                &format!("/roles/{id}"),
                json!({ "description": "narrowed" }),
            )
            .await;
        assert_eq!(
            (r.status, r.body["code"].as_str()),
            (StatusCode::CONFLICT, Some("builtin_role"))
        );
        let r = app
            .put(&format!("/roles/{id}/grants"), json!({ "grants": [] }))
            .await;
        assert_eq!(r.status, StatusCode::CONFLICT);
        assert_eq!(
            app.delete(&format!("/roles/{id}")).await.status,
            StatusCode::CONFLICT
        );
    }
    let r = app
        .post(
            "/roles",
            json!({ "application": "site-search", "name": "administrators" }),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
}

both!(one_role_per_user_is_refused_clearly);
async fn one_role_per_user_is_refused_clearly(b: Backend) {
    let app = spawn_app(b).await;
    let u = app.user("jane@example.com").await;
    let a = app.commerce_role("Sales", "Magento_Sales::sales").await;
    let c = app
        .commerce_role("Catalog", "Magento_Catalog::catalog")
        .await;
    assert_eq!(
        app.post(&format!("/users/{u}/roles"), json!({ "role_id": a }))
            .await
            .status,
        StatusCode::CREATED
    );
    assert_eq!(
        app.post(&format!("/users/{u}/roles"), json!({ "role_id": a }))
            .await
            .status,
        StatusCode::OK,
        "idempotent"
    );
    let r = app
        .post(&format!("/users/{u}/roles"), json!({ "role_id": c }))
        .await;
    assert_eq!(
        (r.status, r.body["code"].as_str()),
        (StatusCode::CONFLICT, Some("one_role_per_user"))
    );
    assert!(
        r.body["detail"].as_str().unwrap().contains("Sales"),
        "{}",
        r.body
    );
    // Other applications allow several roles.
    let v = app.role_id("cloud-project", "Viewer").await;
    let ct = app.role_id("cloud-project", "Contributor").await;
    assert_eq!(
        app.post(&format!("/users/{u}/roles"), json!({ "role_id": v }))
            .await
            .status,
        StatusCode::CREATED
    );
    assert_eq!(
        app.post(&format!("/users/{u}/roles"), json!({ "role_id": ct }))
            .await
            .status,
        StatusCode::CREATED
    );
    // After removing the first, the second is accepted.
    assert_eq!(
        app.delete(&format!("/users/{u}/roles/{a}")).await.status,
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        app.post(&format!("/users/{u}/roles"), json!({ "role_id": c }))
            .await
            .status,
        StatusCode::CREATED
    );
    let held = app.get(&format!("/users/{u}/roles")).await;
    assert_eq!(held.body["items"].as_array().map(|a| a.len()), Some(3));
    assert_eq!(
        app.delete(&format!("/users/{u}/roles/{a}")).await.status,
        StatusCode::NOT_FOUND
    );
    let r = app
        .post(
            &format!("/users/{u}/roles"),
            json!({ "role_id": "00000000-0000-0000-0000-000000000000" }),
        )
        .await;
    assert_eq!(
        r.field_errors(),
        vec![("role_id".to_string(), "unknown_role".to_string())]
    );
}

both!(deleting_roles_and_groups_never_deletes_users);
async fn deleting_roles_and_groups_never_deletes_users(b: Backend) {
    let app = spawn_app(b).await;
    let u = app.user("jane@example.com").await;
    let g = app.group("Merchandisers").await;
    let r = app
        .role(
            "site-search",
            "Merch",
            json!([{ "resource": "rules", "actions": ["view", "edit"] }]),
            json!([]),
        )
        .await;
    assert_eq!(
        app.post(&format!("/groups/{g}/members"), json!({ "user_id": u }))
            .await
            .status,
        StatusCode::CREATED
    );
    assert_eq!(
        app.post(&format!("/groups/{g}/members"), json!({ "user_id": u }))
            .await
            .status,
        StatusCode::OK
    );
    assert_eq!(
        app.post(&format!("/groups/{g}/roles"), json!({ "role_id": r }))
            .await
            .status,
        StatusCode::CREATED
    );
    assert_eq!(
        app.decide(&u, "site-search", "rules:ranking", Some("edit"), None)
            .await,
        "allow"
    );
    let members = app.get(&format!("/groups/{g}/members")).await;
    assert_eq!(members.body["items"][0]["id"], u);
    assert_eq!(
        app.get(&format!("/groups/{g}/roles")).await.body["items"][0]["id"],
        r
    );

    assert_eq!(
        app.delete(&format!("/roles/{r}")).await.status,
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        app.decide(&u, "site-search", "rules:ranking", Some("edit"), None)
            .await,
        "deny"
    );
    assert_eq!(
        app.get(&format!("/groups/{g}/roles")).await.body["items"]
            .as_array()
            .map(|a| a.len()),
        Some(0)
    );
    assert_eq!(
        app.delete(&format!("/groups/{g}")).await.status,
        StatusCode::NO_CONTENT
    );
    assert_eq!(app.get(&format!("/users/{u}")).await.status, StatusCode::OK);
    assert_eq!(
        app.get(&format!("/groups/{g}")).await.status,
        StatusCode::NOT_FOUND
    );
}

both!(groups_validate_and_page);
async fn groups_validate_and_page(b: Backend) {
    let app = spawn_app(b).await;
    let g = app.group("Sales EU").await;
    let r = app.post("/groups", json!({ "name": "sales eu" })).await;
    assert_eq!(
        r.field_errors(),
        vec![("name".to_string(), "unique".to_string())]
    );
    let r = app
        .post("/groups", json!({ "name": "x".repeat(101) }))
        .await;
    assert_eq!(
        r.field_errors(),
        vec![("name".to_string(), "max_length".to_string())]
    );
    let r = app
        .patch(&format!("/groups/{g}"), json!({ "description": "Europe" }))
        .await;
    assert_eq!(
        (r.status, r.body["version"].as_i64()),
        (StatusCode::OK, Some(2))
    );
    app.group("Support").await;
    assert_eq!(app.get("/groups?q=sup").await.body["total"], 1);
    assert_eq!(
        app.get("/groups?per_page=1").await.body["items"]
            .as_array()
            .map(|a| a.len()),
        Some(1)
    );
    let r = app
        .post(
            &format!("/groups/{g}/members"),
            json!({ "user_id": "00000000-0000-0000-0000-000000000000" }),
        )
        .await;
    assert_eq!(
        r.field_errors(),
        vec![("user_id".to_string(), "unknown_user".to_string())]
    );
    let r = app
        .delete(&format!(
            "/groups/{g}/members/00000000-0000-0000-0000-000000000000"
        ))
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
}

both!(grants_are_replaced_whole);
async fn grants_are_replaced_whole(b: Backend) {
    let app = spawn_app(b).await;
    let u = app.user("jane@example.com").await;
    let r = app.commerce_role("Sales", "Magento_Sales::sales").await;
    app.post(&format!("/users/{u}/roles"), json!({ "role_id": r }))
        .await;
    assert_eq!(
        app.decide(
            &u,
            "commerce-admin",
            "Magento_Sales::sales_order",
            None,
            None
        )
        .await,
        "allow"
    );
    let got = app.get(&format!("/roles/{r}/grants")).await;
    assert_eq!(got.body["grants"][0]["actions"], "*");
    let put = app
        .put(
            &format!("/roles/{r}/grants"),
            json!({ "grants": [{ "resource": "Magento_Customer::customer", "actions": "*" }] }),
        )
        .await;
    assert_eq!(put.status, StatusCode::OK);
    assert_eq!(
        app.decide(
            &u,
            "commerce-admin",
            "Magento_Sales::sales_order",
            None,
            None
        )
        .await,
        "deny",
        "the next check sees the edit"
    );
    assert_eq!(
        app.decide(&u, "commerce-admin", "Magento_Customer::manage", None, None)
            .await,
        "allow"
    );
    let bad = app
        .put(
            &format!("/roles/{r}/grants"),
            json!({ "grants": [{ "resource": "Nope::x" }] }),
        )
        .await;
    assert_eq!(
        bad.field_errors(),
        vec![(
            "grants[0].resource".to_string(),
            "unknown_resource".to_string()
        )]
    );
    assert_eq!(
        app.decide(&u, "commerce-admin", "Magento_Customer::manage", None, None)
            .await,
        "allow",
        "a refused edit changes nothing"
    );
}
