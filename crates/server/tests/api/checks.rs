//! The authorization check over HTTP: subtrees, scopes, groups, explanations, batches.

use crate::both;
use crate::helpers::{spawn_app, Backend};
use reqwest::{Method, StatusCode};
use serde_json::json;

both!(scoped_roles_see_only_their_websites);
async fn scoped_roles_see_only_their_websites(b: Backend) {
    let app = spawn_app(b).await;
    for (code, parent) in [
        ("eu", "global"),
        ("us", "global"),
        ("eu_store", "eu"),
        ("eu_fr", "eu_store"),
    ] {
        let r = app
            .post(
                "/applications/commerce-admin/scopes",
                json!({ "code": code, "parent": parent, "name": code }),
            )
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    }
    let u = app.user("eu-editor@example.com").await;
    let r = app
        .role(
            "commerce-admin",
            "EU-Content",
            json!([{ "resource": "Magento_Cms::page" }]),
            json!(["eu"]),
        )
        .await;
    app.post(&format!("/users/{u}/roles"), json!({ "role_id": r }))
        .await;
    assert_eq!(
        app.decide(&u, "commerce-admin", "Magento_Cms::page", None, Some("eu"))
            .await,
        "allow"
    );
    assert_eq!(
        app.decide(
            &u,
            "commerce-admin",
            "Magento_Cms::save",
            None,
            Some("eu_fr")
        )
        .await,
        "allow",
        "store views inherit"
    );
    assert_eq!(
        app.decide(&u, "commerce-admin", "Magento_Cms::page", None, Some("us"))
            .await,
        "deny"
    );
    let c = app.post("/check", json!({ "user_id": u, "application": "commerce-admin", "resource": "Magento_Cms::page" })).await;
    assert_eq!(
        (c.body["decision"].as_str(), c.body["reason"].as_str()),
        (Some("deny"), Some("out_of_scope"))
    );
    assert_eq!(c.body["roles"][0]["role_name"], "EU-Content");
    let r2 = app
        .post(
            "/roles",
            json!({ "application": "commerce-admin", "name": "X", "scopes": ["mars"] }),
        )
        .await;
    assert_eq!(
        r2.field_errors(),
        vec![("scopes[0]".to_string(), "unknown_scope".to_string())]
    );
    let r3 = app
        .post(
            "/roles",
            json!({ "application": "commerce-admin", "name": "Y", "scopes": ["global"] }),
        )
        .await;
    assert_eq!(
        r3.field_errors(),
        vec![("scopes[0]".to_string(), "root_scope".to_string())]
    );
    let del = app
        .delete("/applications/commerce-admin/scopes/eu_fr")
        .await;
    assert_eq!(del.status, StatusCode::NO_CONTENT);
    let del = app.delete("/applications/commerce-admin/scopes/eu").await;
    assert_eq!(
        (del.status, del.body["code"].as_str()),
        (StatusCode::CONFLICT, Some("scope_has_children"))
    );
    app.delete("/applications/commerce-admin/scopes/eu_store")
        .await;
    let del = app.delete("/applications/commerce-admin/scopes/eu").await;
    assert_eq!(
        (del.status, del.body["code"].as_str()),
        (StatusCode::CONFLICT, Some("scope_in_use"))
    );
}

both!(explanations_name_the_role_and_group);
async fn explanations_name_the_role_and_group(b: Backend) {
    let app = spawn_app(b).await;
    let u = app.user("jane@example.com").await;
    let g = app.group("Deployers").await;
    let contributor = app.role_id("cloud-project", "Contributor").await;
    app.post(&format!("/groups/{g}/members"), json!({ "user_id": u }))
        .await;
    app.post(
        &format!("/groups/{g}/roles"),
        json!({ "role_id": contributor }),
    )
    .await;
    let c = app.post("/check", json!({ "user_id": u, "application": "cloud-project", "resource": "environment:deploy", "action": "deploy", "scope": "production" })).await;
    assert_eq!(c.body["decision"], "allow");
    assert_eq!(c.body["roles"][0]["role_name"], "Contributor");
    assert_eq!(c.body["roles"][0]["via"], "group");
    assert_eq!(c.body["roles"][0]["group_name"], "Deployers");
    let c = app.post("/check", json!({ "user_id": u, "application": "cloud-project", "resource": "project:users", "action": "admin" })).await;
    assert_eq!(
        (c.body["decision"].as_str(), c.body["reason"].as_str()),
        (Some("deny"), Some("not_granted"))
    );
    let c = app
        .post(
            "/check",
            json!({ "user_id": u, "application": "site-search", "resource": "rules" }),
        )
        .await;
    assert_eq!(c.body["reason"], "no_role");
    // Removing the membership takes effect on the next check.
    app.delete(&format!("/groups/{g}/members/{u}")).await;
    assert_eq!(
        app.decide(
            &u,
            "cloud-project",
            "environment:deploy",
            Some("deploy"),
            Some("production")
        )
        .await,
        "deny"
    );
}

both!(bad_checks_are_422_naming_the_field);
async fn bad_checks_are_422_naming_the_field(b: Backend) {
    let app = spawn_app(b).await;
    let u = app.user("jane@example.com").await;
    let cases = [
        (
            json!({ "user_id": u, "application": "nope", "resource": "x" }),
            "application",
            "unknown_application",
        ),
        (
            json!({ "user_id": u, "application": "site-search", "resource": "nope" }),
            "resource",
            "unknown_resource",
        ),
        (
            json!({ "user_id": u, "application": "site-search", "resource": "rules", "action": "fly" }),
            "action",
            "unsupported_action",
        ),
        (
            json!({ "user_id": u, "application": "site-search", "resource": "rules", "scope": "mars" }),
            "scope",
            "unknown_scope",
        ),
        (
            json!({ "user_id": "x", "application": "site-search", "resource": "rules" }),
            "user_id",
            "uuid",
        ),
        (
            json!({ "application": "site-search", "resource": "rules" }),
            "user_id",
            "required",
        ),
    ];
    for (body, field, rule) in cases {
        let r = app.post("/check", body.clone()).await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
        assert_eq!(
            r.field_errors(),
            vec![(field.to_string(), rule.to_string())],
            "{body}"
        );
    }
}

both!(batch_reuses_resolved_queries_and_reads_any_json);
/// The batch path resolves each distinct (application, resource, action, scope) once and reads
/// strings in place; neither may change an answer: the same query for users with and without the
/// right, a key seen before and after another, an escaped string (which cannot be borrowed), and
/// errors that still name the check and the field.
async fn batch_reuses_resolved_queries_and_reads_any_json(b: Backend) {
    let app = spawn_app(b).await;
    let jane = app.user("jane@example.com").await;
    let joe = app.user("joe@example.com").await;
    let viewer = app.role_id("cloud-project", "Viewer").await;
    app.post(
        &format!("/users/{jane}/roles"),
        json!({ "role_id": viewer }),
    )
    .await;
    let project = |u: &str| json!({ "user_id": u, "application": "cloud-project", "resource": "project", "action": "view" });
    let deploy = |u: &str| json!({ "user_id": u, "application": "cloud-project", "resource": "environment:deploy", "action": "deploy" });
    let r = app
        .post(
            "/check/batch",
            json!({ "checks": [project(&jane), project(&joe), deploy(&jane), project(&jane), deploy(&joe), project(&joe)] }),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let got: Vec<(&str, &str)> = r.body["results"]
        .as_array()
        .expect("results")
        .iter()
        .map(|x| {
            (
                x["decision"].as_str().unwrap_or(""),
                x["reason"].as_str().unwrap_or(""),
            )
        })
        .collect();
    assert_eq!(
        got,
        [
            ("allow", "granted"),
            ("deny", "no_role"),
            ("deny", "not_granted"),
            ("allow", "granted"),
            ("deny", "no_role"),
            ("deny", "no_role"),
        ]
    );

    // "pro\u006aect" is "project" written with an escape: it cannot be read in place.
    let escaped = format!(
        r#"{{"checks":[{{"user_id":"{jane}","application":"cloud-project","resource":"pro\u006aect","action":"view"}}]}}"#
    );
    let r = app
        .raw(Method::POST, "/check/batch", "application/json", &escaped)
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.body["results"][0]["decision"], "allow", "{}", r.body);

    let r = app
        .post(
            "/check/batch",
            json!({ "checks": [project(&jane), { "user_id": jane, "application": "cloud-project", "resourc": "project" }] }),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    assert_eq!(
        r.field_errors(),
        vec![("checks[1].resourc".to_string(), "unknown_field".to_string())],
        "{}",
        r.body
    );
    let r = app
        .post(
            "/check/batch",
            json!({ "checks": [project(&jane), { "user_id": jane, "application": "cloud-project", "resource": "project", "scope": "nowhere" }, project(&joe)] }),
        )
        .await;
    assert_eq!(
        r.field_errors(),
        vec![("checks[1].scope".to_string(), "unknown_scope".to_string())],
        "{}",
        r.body
    );
}

both!(batch_checks_and_effective_permissions);
async fn batch_checks_and_effective_permissions(b: Backend) {
    let app = spawn_app(b).await;
    let u = app.user("jane@example.com").await;
    let viewer = app.role_id("cloud-project", "Viewer").await;
    app.post(&format!("/users/{u}/roles"), json!({ "role_id": viewer }))
        .await;
    let r = app
        .post(
            "/check/batch",
            json!({ "checks": [
                { "user_id": u, "application": "cloud-project", "resource": "project", "action": "view" },
                { "user_id": u, "application": "cloud-project", "resource": "environment:deploy", "action": "deploy" },
                { "user_id": u, "application": "cloud-project", "resource": "environment:logs", "action": "view", "scope": "staging" }
            ] }),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK);
    let decisions: Vec<&str> = r.body["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x["decision"].as_str().unwrap())
        .collect();
    assert_eq!(decisions, ["allow", "deny", "allow"]);
    let r = app
        .post("/check/batch", json!({ "checks": [ { "user_id": u, "application": "cloud-project", "resource": "project" }, { "user_id": u, "application": "cloud-project", "resource": "nope" } ] }))
        .await;
    assert_eq!(
        r.field_errors(),
        vec![(
            "checks[1].resource".to_string(),
            "unknown_resource".to_string()
        )]
    );
    let many: Vec<_> = (0..1001)
        .map(|_| json!({ "user_id": u, "application": "cloud-project", "resource": "project" }))
        .collect();
    assert_eq!(
        app.post("/check/batch", json!({ "checks": many }))
            .await
            .status,
        StatusCode::UNPROCESSABLE_ENTITY
    );

    let e = app
        .get(&format!(
            "/users/{u}/effective-permissions?application=cloud-project"
        ))
        .await;
    assert_eq!(e.status, StatusCode::OK);
    let items = e.body["items"].as_array().unwrap();
    assert!(
        items.iter().all(|p| p["actions"] == json!(["view"])),
        "{}",
        e.body
    );
    assert!(items.iter().any(|p| p["resource"] == "environment:logs"));
    assert!(
        !items.iter().any(|p| p["resource"] == "environment:ssh"),
        "ssh has no view action"
    );
    assert_eq!(
        app.get(&format!("/users/{u}/effective-permissions"))
            .await
            .status,
        StatusCode::UNPROCESSABLE_ENTITY
    );
}
