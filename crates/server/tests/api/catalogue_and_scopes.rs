//! The application catalogue over HTTP.

use crate::both;
use crate::helpers::{spawn_app, Backend};
use reqwest::{Method, StatusCode};
use serde_json::json;

both!(ships_every_seed_system_with_the_real_magento_tree);
async fn ships_every_seed_system_with_the_real_magento_tree(b: Backend) {
    let app = spawn_app(b).await;
    let r = app.get("/api/v1/applications").await;
    let keys: Vec<&str> = r.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["key"].as_str().unwrap())
        .collect();
    assert_eq!(
        keys,
        [
            "cloud-project",
            "commerce-admin",
            "commerce-cloud-service",
            "site-search",
            "spryker-back-office"
        ]
    );
    let m = app.get("/api/v1/applications/commerce-admin").await;
    assert_eq!(m.body["resource_count"], 231);
    assert_eq!(m.body["resources"]["id"], "Magento_Backend::admin");
    assert_eq!(m.body["one_role_per_user"], true);
    assert_eq!(m.body["keep_an_administrator"], true);
    assert_eq!(m.body["role_names"], "printable");
    let s = app.get("/api/v1/applications/site-search").await;
    assert_eq!(s.body["role_names"], "identifier");
    let spryker = app.get("/api/v1/applications/spryker-back-office").await;
    assert_eq!(spryker.body["roles_through_groups"], true);
    assert_eq!(
        m.body["scope_kinds"],
        json!(["global", "website", "store", "store_view"])
    );
    let scopes = app.get("/applications/commerce-admin/scopes").await;
    let codes: Vec<&str> = scopes.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["code"].as_str().unwrap())
        .collect();
    assert_eq!(codes, ["global", "base", "main_website_store", "default"]);
    assert_eq!(
        app.get("/api/v1/applications/nope").await.status,
        StatusCode::NOT_FOUND
    );
}

both!(applications_can_be_added_by_api);
async fn applications_can_be_added_by_api(b: Backend) {
    let app = spawn_app(b).await;
    let def = json!({
        "key": "pim", "name": "Product information", "actions": ["view", "edit"], "scope_kinds": ["catalog", "channel"],
        "default_scopes": [{ "code": "web", "kind": "channel", "parent": "catalog" }],
        "resources": { "id": "pim", "actions": ["view", "edit"], "children": [{ "id": "pim:attributes", "actions": ["view", "edit"] }] }
    });
    let r = app.put("/api/v1/applications/pim", def.clone()).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    // Existing organizations get the built-in role and default scopes at once.
    let admin = app.role_id("pim", "Administrators").await;
    let u = app.user("jane@example.com").await;
    app.post(&format!("/users/{u}/roles"), json!({ "role_id": admin }))
        .await;
    assert_eq!(
        app.decide(&u, "pim", "pim:attributes", Some("edit"), Some("web"))
            .await,
        "allow"
    );
    let mut bad = def.clone();
    bad["resources"]["children"][0]["actions"] = json!(["delete"]);
    let r = app.put("/api/v1/applications/pim", bad).await;
    assert_eq!(
        r.field_errors(),
        vec![(
            "resources.children[0].actions[0]".to_string(),
            "unknown_action".to_string()
        )]
    );
    let r = app.put("/api/v1/applications/other", def.clone()).await;
    assert_eq!(
        r.field_errors(),
        vec![("key".to_string(), "matches_path".to_string())]
    );
    let globex_token = {
        let o = app.server.dir.org("acme").await.unwrap();
        app.server
            .dir
            .create_token("acme only", Some(o.id))
            .await
            .unwrap()
    };
    let r = app
        .send_as(
            &globex_token,
            Method::PUT,
            "/api/v1/applications/pim",
            Some(def),
            &[],
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
}
