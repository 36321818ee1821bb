//! Issue 14, the model: users carry what identity providers send (REST API too), and SCIM
//! clients are a credential kind of their own.

use crate::both;
use crate::helpers::{spawn_app, Backend};
use reqwest::{Method, StatusCode};
use serde_json::json;

both!(users_carry_what_identity_providers_send);
async fn users_carry_what_identity_providers_send(b: Backend) {
    let app = spawn_app(b).await;
    let r = app
        .post(
            "/users",
            json!({
                "email": "firstname.lastname.department@subsidiary.example.com",
                "first_name": "Ann",
                "display_name": "Ann Example",
                "title": "Buyer",
                "identity_type": "Federated ID",
                "country_code": "de",
                "external_id": "00ujl29u0le5T6Aj10h7",
                "locale": "de-DE",
                "timezone": "Europe/Berlin",
                "preferred_language": "de-DE, en;q=0.5",
                "emails": [{ "value": "ann@home.example", "type": "home", "primary": true }],
                "phone_numbers": [{ "value": "+49 30 1234", "type": "work" }],
                "addresses": [{ "locality": "Berlin", "country": "Germany", "type": "work" }],
                "department": "Purchasing",
                "employee_number": "701984",
                "manager_id": "26118915"
            }),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let u = &r.body;
    // An e-mail over 40 characters is a username by default (userNames hold 256).
    assert_eq!(
        u["username"],
        "firstname.lastname.department@subsidiary.example.com"
    );
    assert_eq!(u["identity_type"], "federated_id");
    assert_eq!(u["country_code"], "DE");
    assert_eq!(u["locale"], "de_DE");
    assert_eq!(u["title"], "Buyer");
    assert_eq!(u["department"], "Purchasing");
    assert_eq!(u["provisioned_by"], json!(null));
    // The sign-in address is the primary e-mail, first; the other one stays.
    assert_eq!(
        u["emails"],
        json!([
            { "value": "firstname.lastname.department@subsidiary.example.com", "type": "work", "primary": true },
            { "value": "ann@home.example", "type": "home", "primary": false }
        ])
    );
    assert_eq!(u["phone_numbers"][0]["value"], "+49 30 1234");
    assert_eq!(u["addresses"][0]["locality"], "Berlin");
    let id = u["id"].as_str().unwrap().to_string();

    // null unsets, absent keeps, a new sign-in address replaces the old one in the list.
    let r = app
        .patch(
            &format!("/users/{id}"),
            json!({ "title": null, "email": "ann@shop.example", "nick_name": "Annie" }),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.body["title"], json!(null));
    assert_eq!(r.body["department"], "Purchasing");
    assert_eq!(r.body["nick_name"], "Annie");
    assert_eq!(r.body["emails"][0]["value"], "ann@shop.example");
    assert_eq!(r.body["emails"].as_array().unwrap().len(), 2);
    assert_eq!(app.get(&format!("/users/{id}")).await.body, r.body);

    // Every problem named at once, with its field and rule.
    let r = app
        .post(
            "/users",
            json!({
                "email": "bad@example.com",
                "username": "u".repeat(257),
                "country_code": "XX",
                "timezone": "not a zone",
                "emails": [{ "value": "no-at-sign" }],
                "identity_type": "google"
            }),
        )
        .await;
    let mut errors = r.field_errors();
    errors.sort();
    assert_eq!(
        errors,
        vec![
            ("country_code".into(), "country_code".into()),
            ("emails[0].value".into(), "email_one_at".into()),
            ("identity_type".into(), "enum".into()),
            ("timezone".into(), "timezone_syntax".into()),
            ("username".into(), "max_length".into()),
        ]
    );
    let r = app
        .post(
            "/users",
            json!({ "email": "long@example.com", "username": "u".repeat(256) }),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
}

both!(scim_clients_are_a_credential_kind_of_their_own);
async fn scim_clients_are_a_credential_kind_of_their_own(b: Backend) {
    let app = spawn_app(b).await;
    let r = app
        .post(
            "/scim-clients",
            json!({ "name": "entra", "description": "Microsoft Entra ID provisioning" }),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let secret = r.body["secret"].as_str().unwrap().to_string();
    assert!(secret.starts_with("rc_"));
    assert_eq!(r.body["scim_base_path"], "/scim/v2");
    let id = r.body["client"]["id"].as_str().unwrap().to_string();
    let listed = app.get("/scim-clients").await;
    assert_eq!(listed.body["items"][0]["name"], "entra");
    assert_eq!(listed.body["items"][0]["last_used_at"], json!(null));
    assert!(!listed.body.to_string().contains(&secret), "shown once");
    assert_eq!(
        app.post("/scim-clients", json!({ "name": "ENTRA" }))
            .await
            .field_errors(),
        vec![("name".into(), "unique".into())]
    );
    // Usable on /scim/v2 only: the REST API does not know it.
    let r = app.send_as(&secret, Method::GET, "/users", None, &[]).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    assert_eq!(
        app.delete(&format!("/scim-clients/{id}")).await.status,
        StatusCode::NO_CONTENT
    );
    assert!(app.get(&format!("/scim-clients/{id}")).await.body["revoked_at"].is_i64());
    assert_eq!(
        app.delete(&format!("/scim-clients/{id}")).await.status,
        StatusCode::CONFLICT
    );
}

both!(only_system_admins_manage_scim_clients);
async fn only_system_admins_manage_scim_clients(b: Backend) {
    let app = spawn_app(b).await;
    app.without_2fa().await;
    let product = app.signed_in("pat@example.com", false).await;
    let r = app
        .post(
            &format!("/users/{}/admin-rights", product.id),
            json!({ "kind": "product", "application": "commerce-admin" }),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    for (method, path, body) in [
        (Method::GET, "/scim-clients", None),
        (
            Method::POST,
            "/scim-clients",
            Some(json!({ "name": "okta" })),
        ),
    ] {
        let r = app.send_as(&product.token, method, path, body, &[]).await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "{path}: {}", r.body);
        assert_eq!(r.body["code"], "admin_required");
    }
}
