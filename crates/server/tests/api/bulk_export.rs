//! Export in both templates, and the round trip (issue 12): export → import into an empty
//! organisation with the same groups, roles and profiles → export gives the same bytes.

use crate::both;
use crate::helpers::{spawn_app, Backend, TestApp};
use reqwest::StatusCode;
use serde_json::json;

async fn export(app: &TestApp, org: &str, template: &str) -> String {
    let res = app
        .client
        .get(app.url(&format!(
            "/api/v1/organizations/{org}/users/export?template={template}"
        )))
        .bearer_auth(&app.token)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert!(res.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/csv"));
    res.text().await.unwrap()
}

async fn import(app: &TestApp, org: &str, csv: &str) -> serde_json::Value {
    let res = app
        .client
        .post(app.url(&format!(
            "/api/v1/organizations/{org}/users/import?invitations=false"
        )))
        .bearer_auth(&app.token)
        .header("content-type", "text/csv")
        .body(csv.to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    res.json().await.unwrap()
}

/// The same groups, roles and profiles in organisation `org` (the structure an import names).
async fn structure(app: &TestApp, org: &str) {
    let post = |path: &str, body: serde_json::Value| {
        let url = app.url(&format!("/api/v1/organizations/{org}{path}"));
        let req = app.client.post(url).bearer_auth(&app.token).json(&body);
        async move {
            let r = req.send().await.unwrap();
            assert_eq!(r.status(), StatusCode::CREATED);
        }
    };
    post("/groups", json!({ "name": "Marketing" })).await;
    post("/groups", json!({ "name": "Sales; EMEA" })).await;
    post(
        "/roles",
        json!({ "application": "commerce-admin", "name": "Sales", "grants": [{ "resource": "Magento_Sales::sales" }], "scopes": [] }),
    )
    .await;
    post(
        "/profiles",
        json!({ "application": "site-search", "name": "Default", "seat_quota": null, "roles": [] }),
    )
    .await;
    post(
        "/profiles",
        json!({ "application": "site-search", "name": "Analysts", "seat_quota": 10, "roles": [] }),
    )
    .await;
}

const PEOPLE: &str = "operation,username,email,first_name,last_name,status,groups,roles,profiles,admin_rights\r\n\
upsert,ann,ann@example.com,Ann,Archer,active,Marketing,commerce-admin:Sales,site-search:Analysts,product:site-search\r\n\
upsert,bob@example.com,bob@example.com,Bob,,invited,Marketing; Sales\\; EMEA,,commerce-cloud-service:Default; site-search:Default,user_group:Marketing\r\n\
upsert,cy@example.com,cy@example.com,Cy,Ng,inactive,,,,\r\n\
upsert,dee@example.com,dee@example.com,Dee,Dunn,active,,,site-search:Analysts,product_profile:site-search:Analysts; support\r\n";

async fn export_import_export_is_byte_identical(b: Backend) {
    let app = spawn_app(b).await;
    structure(&app, "acme").await;
    let r = import(&app, "acme", PEOPLE).await;
    assert_eq!(r["committed"], true, "{r}");
    assert_eq!(r["summary"]["created"], 4, "{r}");

    for template in ["plain", "console"] {
        let first = export(&app, "acme", template).await;
        let slug = format!("copy-{template}");
        app.server.dir.create_org(&slug, "Copy").await.unwrap();
        structure(&app, &slug).await;
        let r = import(&app, &slug, &first).await;
        assert_eq!(r["committed"], true, "{template}: {r}");
        assert_eq!(r["summary"]["errors"], 0, "{template}: {r}");
        let second = export(&app, &slug, template).await;
        assert_eq!(first, second, "{template}");
        // And importing the export back where it came from changes nothing.
        let r = import(&app, "acme", &first).await;
        assert_eq!(r["summary"]["unchanged"], 4, "{template}: {r}");
    }
    let plain = export(&app, "acme", "plain").await;
    assert!(plain.starts_with(
        "operation,username,email,first_name,last_name,status,groups,roles,profiles,admin_rights\r\n"
    ), "{plain}");
    assert_eq!(plain, PEOPLE, "the plain export is the canonical file");
    let console = export(&app, "acme", "console").await;
    // "Default" exists in two products: written with its product, "Analysts" bare.
    assert!(
        console.contains("Commerce as a Cloud Service (Backend): Default"),
        "{console}"
    );
    assert!(console.contains(",Analysts,"), "{console}");
}
both!(export_import_export_is_byte_identical);

async fn export_is_for_system_admins(b: Backend) {
    let app = spawn_app(b).await;
    app.without_2fa().await;
    let pa = app.signed_in("pa@example.com", false).await;
    let res = app
        .client
        .get(app.url("/users/export"))
        .bearer_auth(&pa.token)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    let res = app
        .client
        .get(app.url("/users/export?template=xlsx"))
        .bearer_auth(&app.token)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
}
both!(export_is_for_system_admins);
