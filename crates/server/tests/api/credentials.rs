//! API credentials: shown once, hashed, holding roles, revocable, and decided on at offboarding.

use crate::both;
use crate::helpers::{spawn_app, Backend};
use reqwest::{Method, StatusCode};
use serde_json::json;

both!(credentials_hold_roles_and_die_when_revoked);
async fn credentials_hold_roles_and_die_when_revoked(b: Backend) {
    let app = spawn_app(b).await;
    let r = app
        .post(
            "/credentials",
            json!({ "name": "storefront", "description": "the shop calls /check" }),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let secret = r.body["secret"].as_str().unwrap().to_string();
    let id = r.body["credential"]["id"].as_str().unwrap().to_string();
    let svc = r.body["credential"]["service_user_id"]
        .as_str()
        .unwrap()
        .to_string();
    let listed = app.get(&format!("/credentials/{id}")).await;
    assert!(
        listed.body.get("secret").is_none() && !listed.body.to_string().contains(&secret),
        "shown once"
    );
    assert_eq!(
        app.post("/credentials", json!({ "name": "STOREFRONT" }))
            .await
            .field_errors(),
        vec![("name".into(), "unique".into())]
    );
    assert_eq!(
        app.get("/users").await.body["total"],
        0,
        "service accounts are not people"
    );
    assert_eq!(app.get("/users?kind=service").await.body["total"], 1);

    // The credential asks authorization questions for its organization without admin rights...
    let user = app.user("jane@example.com").await;
    let check = json!({ "user_id": user, "application": "site-search", "resource": "rules" });
    let r = app
        .send_as(&secret, Method::POST, "/check", Some(check.clone()), &[])
        .await;
    assert_eq!(
        (r.status, r.body["decision"].as_str()),
        (StatusCode::OK, Some("deny"))
    );
    let r = app.send_as(&secret, Method::GET, "/users", None, &[]).await;
    assert_eq!(
        (r.status, r.body["code"].as_str()),
        (StatusCode::FORBIDDEN, Some("admin_required"))
    );
    // ...and holds roles like a user.
    let viewer = app.role_id("cloud-project", "Viewer").await;
    app.post(&format!("/users/{svc}/roles"), json!({ "role_id": viewer }))
        .await;
    assert_eq!(
        app.decide(&svc, "cloud-project", "project", Some("view"), None)
            .await,
        "allow"
    );
    assert_eq!(
        app.patch(&format!("/users/{svc}"), json!({ "status": "inactive" }))
            .await
            .status,
        StatusCode::CONFLICT
    );

    assert_eq!(
        app.delete(&format!("/credentials/{id}")).await.status,
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        app.send_as(&secret, Method::POST, "/check", Some(check), &[])
            .await
            .status,
        StatusCode::UNAUTHORIZED,
        "revoked at once"
    );
    assert_eq!(
        app.decide(&svc, "cloud-project", "project", Some("view"), None)
            .await,
        "deny"
    );
    assert_eq!(
        app.delete(&format!("/credentials/{id}")).await.status,
        StatusCode::CONFLICT
    );
    let c = app.get(&format!("/credentials/{id}")).await;
    assert!(c.body["revoked_at"].is_i64());
}

both!(expired_credentials_stop_working);
async fn expired_credentials_stop_working(b: Backend) {
    let app = spawn_app(b).await;
    let soon = app.server.dir.now() + 60_000;
    let r = app
        .post(
            "/credentials",
            json!({ "name": "short-lived", "expires_at": soon }),
        )
        .await;
    let secret = r.body["secret"].as_str().unwrap().to_string();
    let user = app.user("jane@example.com").await;
    let check = json!({ "user_id": user, "application": "site-search", "resource": "rules" });
    assert_eq!(
        app.send_as(&secret, Method::POST, "/check", Some(check.clone()), &[])
            .await
            .status,
        StatusCode::OK
    );
    app.clock.advance_secs(61);
    assert_eq!(
        app.send_as(&secret, Method::POST, "/check", Some(check), &[])
            .await
            .status,
        StatusCode::UNAUTHORIZED
    );
    let past = app
        .post("/credentials", json!({ "name": "past", "expires_at": 1 }))
        .await;
    assert_eq!(
        past.field_errors(),
        vec![("expires_at".into(), "in_the_future".into())]
    );
}

both!(offboarding_a_creator_forces_a_decision);
async fn offboarding_a_creator_forces_a_decision(b: Backend) {
    let app = spawn_app(b).await;
    app.without_2fa().await;
    let admin = app.signed_in("admin@example.com", true).await;
    // A second System admin, so offboarding the first is not refused as the last one.
    app.person("second-admin@example.com", true).await;
    let mut secrets = Vec::new();
    for name in ["erp-sync", "pim-sync"] {
        let r = app
            .send_as(
                &admin.token,
                Method::POST,
                "/credentials",
                Some(json!({ "name": name })),
                &[],
            )
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
        assert_eq!(r.body["credential"]["created_by_user"], admin.id);
        secrets.push(r.body["secret"].as_str().unwrap().to_string());
    }
    let r = app
        .patch(
            &format!("/users/{}", admin.id),
            json!({ "status": "inactive" }),
        )
        .await;
    assert_eq!(
        (r.status, r.body["code"].as_str()),
        (StatusCode::CONFLICT, Some("creator_has_credentials"))
    );
    assert!(
        r.body["detail"].as_str().unwrap().contains("erp-sync"),
        "{}",
        r.body
    );
    assert_eq!(
        app.get(&format!("/users/{}", admin.id)).await.body["status"],
        "active",
        "nothing happened silently"
    );
    let r = app
        .patch(
            &format!("/users/{}?credentials=keep", admin.id),
            json!({ "status": "inactive" }),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK);
    let user = app.user("jane@example.com").await;
    let check = json!({ "user_id": user, "application": "site-search", "resource": "rules" });
    assert_eq!(
        app.send_as(
            &secrets[0],
            Method::POST,
            "/check",
            Some(check.clone()),
            &[]
        )
        .await
        .status,
        StatusCode::OK,
        "kept"
    );
    let r = app
        .delete(&format!("/users/{}?credentials=revoke", admin.id))
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT);
    assert_eq!(
        app.send_as(&secrets[1], Method::POST, "/check", Some(check), &[])
            .await
            .status,
        StatusCode::UNAUTHORIZED,
        "revoked"
    );
    assert_eq!(
        app.delete("/users/00000000-0000-0000-0000-000000000000?credentials=maybe")
            .await
            .status,
        StatusCode::UNPROCESSABLE_ENTITY
    );
}

both!(a_credential_made_by_a_credential_answers_to_the_person_behind_it);
/// Before: a credential created by a credential recorded no creator, so offboarding the person
/// behind the first left the second working with whatever rights it had been given.
async fn a_credential_made_by_a_credential_answers_to_the_person_behind_it(b: Backend) {
    let app = spawn_app(b).await;
    app.without_2fa().await;
    let admin = app.signed_in("admin@example.com", true).await;
    app.person("second-admin@example.com", true).await;
    let r = app
        .send_as(
            &admin.token,
            Method::POST,
            "/credentials",
            Some(json!({ "name": "automation", "sensitive_changes": true })),
            &[("x-rolecall-password", &admin.password)],
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let first = r.body["secret"].as_str().unwrap().to_string();
    let service = r.body["credential"]["service_user_id"]
        .as_str()
        .unwrap()
        .to_string();
    let r = app
        .post(
            &format!("/users/{service}/admin-rights"),
            json!({ "kind": "system" }),
        )
        .await;
    assert!(r.status.is_success(), "{}", r.body);
    let r = app
        .send_as(
            &first,
            Method::POST,
            "/credentials",
            Some(json!({ "name": "hidden" })),
            &[],
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    assert_eq!(r.body["credential"]["created_by_user"], admin.id);
    let second = r.body["secret"].as_str().unwrap().to_string();
    let r = app
        .patch(
            &format!("/users/{}", admin.id),
            json!({ "status": "inactive" }),
        )
        .await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.body);
    assert!(
        r.body["detail"].as_str().unwrap().contains("hidden"),
        "the decision names it: {}",
        r.body
    );
    let r = app
        .patch(
            &format!("/users/{}?credentials=revoke", admin.id),
            json!({ "status": "inactive" }),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    for secret in [&first, &second] {
        assert_eq!(
            app.send_as(secret, Method::GET, "/users", None, &[])
                .await
                .status,
            StatusCode::UNAUTHORIZED
        );
    }
}

both!(credentials_are_exempt_from_reverification_only_when_made_for_it);
async fn credentials_are_exempt_from_reverification_only_when_made_for_it(b: Backend) {
    let app = spawn_app(b).await;
    let org = app.server.dir.org("acme").await.unwrap();
    let mut secrets = Vec::new();
    for (name, sensitive) in [("reporting", false), ("provisioning", true)] {
        let r = app
            .post(
                "/credentials",
                json!({ "name": name, "sensitive_changes": sensitive }),
            )
            .await;
        let svc: rolecall_core::model::UserId = r.body["credential"]["service_user_id"]
            .as_str()
            .unwrap()
            .parse()
            .unwrap();
        app.server
            .dir
            .grant_system_admin(&rolecall::auth::OrgAdmin::operator(org.clone()), svc)
            .await
            .unwrap();
        secrets.push(r.body["secret"].as_str().unwrap().to_string());
    }
    let r = app
        .send_as(
            &secrets[0],
            Method::POST,
            "/users",
            Some(json!({ "email": "a@example.com" })),
            &[],
        )
        .await;
    assert_eq!(
        (r.status, r.body["code"].as_str()),
        (
            StatusCode::FORBIDDEN,
            Some("credential_not_for_sensitive_changes")
        )
    );
    assert_eq!(
        app.send_as(&secrets[0], Method::GET, "/users", None, &[])
            .await
            .status,
        StatusCode::OK
    );
    let r = app
        .send_as(
            &secrets[1],
            Method::POST,
            "/users",
            Some(json!({ "email": "a@example.com" })),
            &[],
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED);
}

both!(offboarding_decides_about_the_scim_clients_a_person_set_up);
/// An identity provider's connection is an integration too: before, offboarding the admin who
/// set it up left it running without a word, while their API credentials needed a decision.
async fn offboarding_decides_about_the_scim_clients_a_person_set_up(b: Backend) {
    let app = spawn_app(b).await;
    app.without_2fa().await;
    let admin = app.signed_in("admin@example.com", true).await;
    let (heir, _) = app.person("heir@example.com", true).await;
    app.person("keeper@example.com", true).await;
    let mut secrets = Vec::new();
    for name in ["entra", "okta"] {
        let r = app
            .send_as(
                &admin.token,
                Method::POST,
                "/scim-clients",
                Some(json!({ "name": name })),
                &[("x-rolecall-password", &admin.password)],
            )
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
        secrets.push((
            r.body["client"]["id"].as_str().unwrap().to_string(),
            r.body["secret"].as_str().unwrap().to_string(),
        ));
    }
    let scim_status = |secret: String| {
        let app = &app;
        async move {
            app.client
                .get(format!("{}/scim/v2/Users?count=0", app.base))
                .bearer_auth(secret)
                .send()
                .await
                .unwrap()
                .status()
        }
    };
    let r = app
        .patch(
            &format!("/users/{}", admin.id),
            json!({ "status": "inactive" }),
        )
        .await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.body);
    assert!(
        r.body["detail"]
            .as_str()
            .unwrap()
            .contains("SCIM client entra"),
        "{}",
        r.body
    );
    // Handed to another admin: it keeps working and now answers to them.
    let r = app
        .post(
            &format!("/users/{}/offboard", admin.id),
            json!({ "mode": "deactivate", "credentials": "transfer", "transfer_to": heir }),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let settled = r.body["credentials"].as_array().unwrap();
    assert_eq!(settled.len(), 2, "{}", r.body);
    assert!(settled
        .iter()
        .all(|c| c["kind"] == "scim_client" && c["outcome"] == "transferred"));
    let listed = app.get("/scim-clients").await.body;
    assert!(
        listed["items"]
            .as_array()
            .unwrap()
            .iter()
            .all(|c| c["created_by_user"] == heir.as_str()),
        "{listed}"
    );
    assert_eq!(scim_status(secrets[0].1.clone()).await, StatusCode::OK);
    // Offboarding the heir with revoke ends both.
    let r = app
        .delete(&format!("/users/{heir}?credentials=revoke"))
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.body);
    for (_, secret) in secrets {
        assert_eq!(scim_status(secret).await, StatusCode::UNAUTHORIZED);
    }
}
