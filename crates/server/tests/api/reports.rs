//! Access reports (issue 11): stale accounts and deactivating a chosen set, access review by
//! user, application and profile, seat usage, CSV exports stating when they were taken, who
//! may read them, and the idle-deactivation policy.

use crate::both;
use crate::helpers::{spawn_app, Backend, TestApp};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

const DAY: i64 = 86_400;

fn emails(report: &Value) -> Vec<String> {
    let mut out: Vec<String> = report["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["user"]["email"].as_str().unwrap().to_string())
        .collect();
    out.sort();
    out
}

/// `old` signed in 100 days ago and holds a role directly, one through a group and a seat;
/// `never` never signed in; `fresh` signed in today; `gone` is inactive.
async fn population(app: &TestApp) -> (String, String, String) {
    app.without_2fa().await;
    let old = app.signed_in("old@acme.example", false).await;
    let group = app.group("Support").await;
    let editor = app
        .role(
            "commerce-admin",
            "Editor",
            json!([{"resource": "Magento_Cms::page"}]),
            json!([]),
        )
        .await;
    let viewer = app.role_id("cloud-project", "Viewer").await;
    for (path, body) in [
        (
            format!("/groups/{group}/members"),
            json!({"user_id": old.id}),
        ),
        (format!("/groups/{group}/roles"), json!({"role_id": viewer})),
        (
            format!("/users/{}/roles", old.id),
            json!({"role_id": editor}),
        ),
    ] {
        let r = app.post(&path, body).await;
        assert!(r.status.is_success(), "{path}: {}", r.body);
    }
    let r = app
        .post(
            "/profiles",
            json!({"application": "commerce-admin", "name": "Editors", "seat_quota": 3, "roles": [editor]}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let profile = r.body["id"].as_str().unwrap().to_string();
    let r = app
        .post(
            &format!("/profiles/{profile}/users"),
            json!({"user_id": old.id}),
        )
        .await;
    assert!(r.status.is_success(), "{}", r.body);
    let never = app.user("never@acme.example").await;
    let gone = app.user("gone@acme.example").await;
    let r = app
        .patch(&format!("/users/{gone}"), json!({"status": "inactive"}))
        .await;
    assert_eq!(r.status, StatusCode::OK);
    app.clock.advance_secs(100 * DAY);
    app.signed_in("fresh@acme.example", false).await;
    (old.id, never, profile)
}

async fn stale_accounts_list_idle_people_with_their_access(b: Backend) {
    let app = spawn_app(b).await;
    let (old, _, _) = population(&app).await;
    let r = app.get("/reports/stale-accounts?days=90").await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(emails(&r.body), ["never@acme.example", "old@acme.example"]);
    assert!(r.body["taken_at"].as_i64().unwrap() > 0);
    let a = r.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["user"]["id"] == old.as_str())
        .unwrap()
        .clone();
    assert_eq!(
        a["applications"],
        json!(["cloud-project", "commerce-admin"])
    );
    let mut roles: Vec<String> = a["roles"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            format!(
                "{} {}",
                r["role_name"].as_str().unwrap(),
                r["via"].as_str().unwrap()
            )
        })
        .collect();
    roles.sort();
    assert_eq!(roles, ["Editor direct", "Viewer group"]);
    assert_eq!(a["groups"][0]["name"], "Support");
    assert_eq!(a["seats"][0]["profile_name"], "Editors");
    assert!(a["user"]["last_sign_in_at"].is_i64());
    // A longer threshold leaves out who signed in within it; the never-signed-in stay.
    let r = app.get("/reports/stale-accounts?days=200").await;
    assert_eq!(emails(&r.body), ["never@acme.example"]);
    let r = app.get("/reports/stale-accounts?days=0").await;
    assert_eq!(
        r.field_errors(),
        [("days".to_string(), "range".to_string())]
    );

    let r = app.get("/reports/stale-accounts?days=90&format=csv").await;
    assert_eq!(r.headers["content-type"], "text/csv; charset=utf-8");
    let csv = r.body.as_str().unwrap();
    let lines: Vec<&str> = csv.lines().collect();
    assert!(
        lines[0].starts_with("report_taken_at,user_id,email"),
        "{csv}"
    );
    assert_eq!(lines.len(), 3);
    assert!(lines
        .iter()
        .any(|l| l.contains("old@acme.example") && l.contains("Editor (commerce-admin, direct)")));
    let r = app.get("/reports/stale-accounts?format=pdf").await;
    assert_eq!(
        r.field_errors(),
        [("format".to_string(), "enum".to_string())]
    );
}
both!(stale_accounts_list_idle_people_with_their_access);

async fn a_chosen_set_is_deactivated_with_identity_verification(b: Backend) {
    let app = spawn_app(b).await;
    let (old, never, _) = population(&app).await;
    let fresh = app.get("/users?q=fresh").await.body["items"][0]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let admin = app.signed_in("admin@acme.example", true).await;
    app.clock.advance_secs(600);
    let body = json!({"days": 90, "user_ids": [old, never, fresh]});
    let path = "/reports/stale-accounts/deactivate";
    let r = app
        .send_as(&admin.token, Method::POST, path, Some(body.clone()), &[])
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert_eq!(r.body["code"], "reverification_required");
    // An id that is not one of this organisation's people refuses the whole set.
    let stranger = uuid::Uuid::new_v4().to_string();
    let r = app
        .send_as(
            &admin.token,
            Method::POST,
            path,
            Some(json!({"days": 90, "user_ids": [old, stranger]})),
            &[("x-rolecall-password", admin.password.as_str())],
        )
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND, "{}", r.body);
    assert!(
        r.body["detail"].as_str().unwrap_or("").contains(&stranger),
        "{}",
        r.body
    );
    assert_eq!(
        app.get(&format!("/users/{old}")).await.body["status"],
        "active"
    );
    let r = app
        .send_as(
            &admin.token,
            Method::POST,
            path,
            Some(body),
            &[("x-rolecall-password", admin.password.as_str())],
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let outcomes: Vec<String> = r.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["outcome"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(outcomes, ["deactivated", "deactivated", "not_stale"]);
    for id in [&old, &never] {
        assert_eq!(
            app.get(&format!("/users/{id}")).await.body["status"],
            "inactive"
        );
        let log = app
            .get(&format!("/audit?target={id}&action=user_deactivated"))
            .await
            .body;
        assert_eq!(log["items"][0]["actor"]["id"], admin.id.as_str(), "{log}");
    }
    assert_eq!(
        app.get(&format!("/users/{fresh}")).await.body["status"],
        "active"
    );
    let r = app.post(path, json!({"days": 90, "user_ids": []})).await;
    assert_eq!(
        r.field_errors(),
        [("user_ids".to_string(), "length".to_string())]
    );
}
both!(a_chosen_set_is_deactivated_with_identity_verification);

async fn access_reviews_by_user_application_and_profile(b: Backend) {
    let app = spawn_app(b).await;
    let (old, never, profile) = population(&app).await;
    let r = app.get(&format!("/reports/access/users/{old}")).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.body["user"]["email"], "old@acme.example");
    assert!(r.body["taken_at"].is_i64());
    assert!(
        r.body["sessions"].as_array().unwrap().is_empty(),
        "expired long ago"
    );
    let fresh = app.get("/users?q=fresh").await.body["items"][0]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let r = app.get(&format!("/reports/access/users/{fresh}")).await;
    assert_eq!(
        r.body["sessions"].as_array().unwrap().len(),
        1,
        "signed in today"
    );
    let r = app
        .get(&format!("/reports/access/users/{old}?format=csv"))
        .await;
    let csv = r.body.as_str().unwrap();
    assert!(
        csv.lines()
            .any(|l| l.contains(",role,cloud-project,") && l.ends_with(",group Support")),
        "{csv}"
    );
    assert!(
        csv.lines().any(|l| l.contains(",seat,commerce-admin,")),
        "{csv}"
    );

    // commerce-admin is licensed (it has a profile): the role takes effect with the seat only.
    let editor = app.get("/roles?application=commerce-admin").await.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["name"] == "Editor")
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    let r = app
        .post(&format!("/users/{never}/roles"), json!({"role_id": editor}))
        .await;
    assert!(r.status.is_success(), "{}", r.body);
    let r = app.get("/reports/access/applications/commerce-admin").await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.body["licensed"], true);
    let effective: Vec<(String, bool)> = r.body["holders"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| {
            (
                h["user"]["email"].as_str().unwrap().to_string(),
                h["effective"].as_bool().unwrap(),
            )
        })
        .collect();
    assert!(
        effective.contains(&("old@acme.example".into(), true)),
        "{effective:?}"
    );
    assert!(
        effective.contains(&("never@acme.example".into(), false)),
        "{effective:?}"
    );
    let r = app.get("/reports/access/applications/nope").await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);

    let r = app
        .get(&format!("/reports/access/profiles/{profile}"))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.body["holders"][0]["user"]["email"], "old@acme.example");
    assert_eq!(r.body["holders"][0]["through"][0]["via"], "direct");

    let r = app.get("/reports/seats").await;
    let line = &r.body["items"][0];
    assert_eq!(
        (
            line["used"].clone(),
            line["quota"].clone(),
            line["free"].clone()
        ),
        (json!(1), json!(3), json!(2))
    );
    let r = app.get("/reports/seats?format=csv").await;
    assert!(r
        .body
        .as_str()
        .unwrap()
        .lines()
        .nth(1)
        .unwrap()
        .contains(",Editors,commerce-admin,3,1,2,1,0"));
}
both!(access_reviews_by_user_application_and_profile);

async fn reports_need_the_right(b: Backend) {
    let app = spawn_app(b).await;
    app.without_2fa().await;
    let cloud = app.signed_in("cloud@acme.example", false).await;
    let r = app
        .post(
            &format!("/users/{}/admin-rights", cloud.id),
            json!({"kind": "product", "application": "cloud-project"}),
        )
        .await;
    assert!(r.status.is_success(), "{}", r.body);
    let get = |path: &'static str| {
        let token = cloud.token.clone();
        let app = &app;
        async move {
            app.send_as(&token, Method::GET, path, None, &[])
                .await
                .status
        }
    };
    assert_eq!(
        get("/reports/access/applications/cloud-project").await,
        StatusCode::OK
    );
    assert_eq!(
        get("/reports/access/applications/commerce-admin").await,
        StatusCode::FORBIDDEN
    );
    assert_eq!(get("/reports/stale-accounts").await, StatusCode::FORBIDDEN);
    let r = app
        .send_as(
            &cloud.token,
            Method::POST,
            "/reports/stale-accounts/deactivate",
            Some(json!({"days": 90, "user_ids": [cloud.id]})),
            &[],
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
}
both!(reports_need_the_right);

async fn the_idle_policy_is_off_by_default_and_acts_as_the_policy(b: Backend) {
    let app = spawn_app(b).await;
    let (old, never, _) = population(&app).await;
    let org = app.server.dir.org("acme").await.unwrap();
    let (owner, _) = app
        .server
        .dir
        .bootstrap_admin(&org, "owner@acme.example", None)
        .await
        .unwrap();
    app.clock.advance_secs(40 * DAY);
    assert_eq!(
        app.server.dir.run_idle_policy().await.unwrap(),
        0,
        "off by default"
    );
    let mut settings = app.get("/settings").await.body;
    settings["idle_deactivation_days"] = json!(120);
    assert_eq!(app.put("/settings", settings).await.status, StatusCode::OK);
    if b == Backend::Postgres {
        // Another node holds the job: this one skips it.
        let held = app
            .server
            .dir
            .db
            .try_job_lock(7_041_960_011)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(app.server.dir.run_idle_policy_job().await.unwrap(), None);
        held.release().await.unwrap();
    }
    let n = app.server.dir.run_idle_policy_job().await.unwrap();
    assert_eq!(
        n,
        Some(2),
        "old (140 days) and never (created 140 days ago); fresh is 40 days idle"
    );
    for id in [&old, &never] {
        assert_eq!(
            app.get(&format!("/users/{id}")).await.body["status"],
            "inactive"
        );
        let log = app
            .get(&format!("/audit?target={id}&action=user_deactivated"))
            .await
            .body;
        assert_eq!(log["items"][0]["actor"]["kind"], "policy", "{log}");
    }
    // The owner was idle too, but the rails keep the owner.
    app.clock.advance_secs(200 * DAY);
    app.server.dir.run_idle_policy().await.unwrap();
    assert_eq!(
        app.get(&format!("/users/{}", owner.id)).await.body["status"],
        "active"
    );
}
both!(the_idle_policy_is_off_by_default_and_acts_as_the_policy);
