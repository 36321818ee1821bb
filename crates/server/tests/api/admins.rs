//! Delegated administration over HTTP: the matrix enforced per endpoint, forbidden delegations,
//! the account owner and the last System admin.

use crate::both;
use crate::helpers::{spawn_app, Backend, TestApp};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

async fn grant(app: &TestApp, user: &str, right: Value) -> StatusCode {
    app.post(&format!("/users/{user}/admin-rights"), right)
        .await
        .status
}

both!(each_right_reaches_only_its_cells);
async fn each_right_reaches_only_its_cells(b: Backend) {
    let app = spawn_app(b).await;
    app.without_2fa().await;
    let product = app.signed_in("product@example.com", false).await;
    let group_admin = app.signed_in("groups@example.com", false).await;
    let support = app.signed_in("support@example.com", false).await;
    let g1 = app.group("Merch").await;
    let g2 = app.group("Other").await;
    assert_eq!(
        grant(
            &app,
            &product.id,
            json!({ "kind": "product", "application": "commerce-admin" })
        )
        .await,
        StatusCode::CREATED
    );
    assert_eq!(
        grant(
            &app,
            &group_admin.id,
            json!({ "kind": "user_group", "group_id": g1 })
        )
        .await,
        StatusCode::CREATED
    );
    assert_eq!(
        grant(&app, &support.id, json!({ "kind": "support" })).await,
        StatusCode::CREATED
    );
    let as_ = |who: &str, method: Method, path: &str, body: Option<Value>| {
        let token = who.to_string();
        let path = path.to_string();
        let app = &app;
        async move { app.send_as(&token, method, &path, body, &[]).await }
    };
    let sam = app.user("sam@example.com").await;

    // Product admin of commerce-admin: its roles yes, other applications' no; add users, never remove.
    let r = as_(
        &product.token,
        Method::POST,
        "/roles",
        Some(json!({ "application": "commerce-admin", "name": "Sales" })),
    )
    .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let sales = r.body["id"].as_str().unwrap().to_string();
    let r = as_(
        &product.token,
        Method::POST,
        "/roles",
        Some(json!({ "application": "cloud-project", "name": "Ops" })),
    )
    .await;
    assert_eq!(
        (r.status, r.body["code"].as_str()),
        (StatusCode::FORBIDDEN, Some("admin_required"))
    );
    assert_eq!(
        as_(
            &product.token,
            Method::POST,
            &format!("/users/{sam}/roles"),
            Some(json!({ "role_id": sales }))
        )
        .await
        .status,
        StatusCode::CREATED
    );
    let viewer = app.role_id("cloud-project", "Viewer").await;
    assert_eq!(
        as_(
            &product.token,
            Method::POST,
            &format!("/users/{sam}/roles"),
            Some(json!({ "role_id": viewer }))
        )
        .await
        .status,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        as_(
            &product.token,
            Method::POST,
            "/users",
            Some(json!({ "email": "new@example.com" }))
        )
        .await
        .status,
        StatusCode::CREATED
    );
    assert_eq!(
        as_(
            &product.token,
            Method::DELETE,
            &format!("/users/{sam}"),
            None
        )
        .await
        .status,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        as_(
            &product.token,
            Method::PATCH,
            &format!("/users/{sam}"),
            Some(json!({ "status": "inactive" }))
        )
        .await
        .status,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        as_(&product.token, Method::PUT, "/settings", Some(json!({})))
            .await
            .status,
        StatusCode::FORBIDDEN
    );

    // User group admin of g1: members of g1 only.
    assert_eq!(
        as_(
            &group_admin.token,
            Method::POST,
            &format!("/groups/{g1}/members"),
            Some(json!({ "user_id": sam }))
        )
        .await
        .status,
        StatusCode::CREATED
    );
    assert_eq!(
        as_(
            &group_admin.token,
            Method::POST,
            &format!("/groups/{g2}/members"),
            Some(json!({ "user_id": sam }))
        )
        .await
        .status,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        as_(
            &group_admin.token,
            Method::DELETE,
            &format!("/groups/{g1}"),
            None
        )
        .await
        .status,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        as_(
            &group_admin.token,
            Method::POST,
            "/users",
            Some(json!({ "email": "x@example.com" }))
        )
        .await
        .status,
        StatusCode::FORBIDDEN
    );

    // Support admin: read-only.
    assert_eq!(
        as_(&support.token, Method::GET, "/users", None)
            .await
            .status,
        StatusCode::OK
    );
    assert_eq!(
        as_(&support.token, Method::GET, "/auth-events", None)
            .await
            .status,
        StatusCode::OK
    );
    assert_eq!(
        as_(
            &support.token,
            Method::POST,
            "/users",
            Some(json!({ "email": "y@example.com" }))
        )
        .await
        .status,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        as_(
            &support.token,
            Method::POST,
            "/groups",
            Some(json!({ "name": "Nope" }))
        )
        .await
        .status,
        StatusCode::FORBIDDEN
    );

    // No rights at all: nothing administrative.
    let plain = app.signed_in("plain@example.com", false).await;
    for path in ["/users", "/groups", "/roles", "/admins", "/settings"] {
        assert_eq!(
            as_(&plain.token, Method::GET, path, None).await.status,
            StatusCode::FORBIDDEN,
            "{path}"
        );
    }
    let admins = app.get("/admins").await;
    assert_eq!(admins.body["items"].as_array().map(|a| a.len()), Some(3));
}

both!(forbidden_delegations_are_refused);
async fn forbidden_delegations_are_refused(b: Backend) {
    let app = spawn_app(b).await;
    app.without_2fa().await;
    let product = app.signed_in("product@example.com", false).await;
    grant(
        &app,
        &product.id,
        json!({ "kind": "product", "application": "commerce-admin" }),
    )
    .await;
    let other = app.user("other@example.com").await;
    let g = app.group("Merch").await;
    let try_grant = |right: Value, to: String| {
        let app = &app;
        let token = product.token.clone();
        async move {
            app.send_as(
                &token,
                Method::POST,
                &format!("/users/{to}/admin-rights"),
                Some(right),
                &[],
            )
            .await
        }
    };
    for right in [
        json!({ "kind": "system" }),
        json!({ "kind": "deployment" }),
        json!({ "kind": "support" }),
        json!({ "kind": "storage" }),
        json!({ "kind": "product", "application": "cloud-project" }),
    ] {
        let r = try_grant(right.clone(), other.clone()).await;
        assert_eq!(
            (r.status, r.body["code"].as_str()),
            (StatusCode::FORBIDDEN, Some("above_own_rights")),
            "{right}"
        );
    }
    assert!(
        app.get(&format!("/users/{other}/admin-rights")).await.body["items"]
            .as_array()
            .unwrap()
            .is_empty(),
        "nothing was granted"
    );
    assert_eq!(
        try_grant(
            json!({ "kind": "product", "application": "commerce-admin" }),
            other.clone()
        )
        .await
        .status,
        StatusCode::CREATED
    );
    assert_eq!(
        try_grant(
            json!({ "kind": "user_group", "group_id": g }),
            other.clone()
        )
        .await
        .status,
        StatusCode::CREATED
    );
    let r = try_grant(
        json!({ "kind": "product", "application": "commerce-admin" }),
        product.id.clone(),
    )
    .await;
    assert_eq!(
        (r.status, r.body["code"].as_str()),
        (StatusCode::FORBIDDEN, Some("own_access")),
        "nobody raises their own rights"
    );
    let r = try_grant(json!({ "kind": "emperor" }), other.clone()).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    let r = try_grant(
        json!({ "kind": "product", "application": "nope" }),
        other.clone(),
    )
    .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    // Revoking follows the same rule; removing a right never deletes the user.
    let r = app
        .send_as(
            &product.token,
            Method::DELETE,
            &format!("/users/{other}/admin-rights?kind=product&target=commerce-admin"),
            None,
            &[],
        )
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT);
    assert_eq!(
        app.get(&format!("/users/{other}")).await.status,
        StatusCode::OK
    );
    // The grant was notified by e-mail.
    let mail_dir = app.config.data_dir.join("mail");
    let mut found = false;
    for _ in 0..50 {
        found = std::fs::read_dir(&mail_dir)
            .into_iter()
            .flatten()
            .flatten()
            .any(|e| {
                std::fs::read_to_string(e.path())
                    .unwrap_or_default()
                    .contains("Subject: You are now Product admin of Commerce Admin")
            });
        if found {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert!(found, "admin-rights notification delivered");
}

both!(the_owner_and_the_last_system_admin_stay);
async fn the_owner_and_the_last_system_admin_stay(b: Backend) {
    let app = spawn_app(b).await;
    app.without_2fa().await;
    let org = app.server.dir.org("acme").await.unwrap();
    let (owner, _) = app
        .server
        .dir
        .bootstrap_admin(&org, "owner@example.com", None)
        .await
        .unwrap();
    let owner_id = owner.id.to_string();
    assert_eq!(app.get("/owner").await.body["owner_id"], owner_id);
    for (method, path, body) in [
        (
            Method::PATCH,
            format!("/users/{owner_id}"),
            Some(json!({ "status": "inactive" })),
        ),
        (Method::DELETE, format!("/users/{owner_id}"), None),
        (
            Method::DELETE,
            format!("/users/{owner_id}/admin-rights?kind=system"),
            None,
        ),
    ] {
        let r = app.send(method, &path, body, &[]).await;
        assert_eq!(
            (r.status, r.body["code"].as_str()),
            (StatusCode::CONFLICT, Some("account_owner")),
            "{path}"
        );
    }
    let second = app.user("second@example.com").await;
    let r = app.put("/owner", json!({ "user_id": second })).await;
    assert_eq!(
        r.field_errors(),
        vec![(
            "user_id".to_string(),
            "active_system_admin_required".to_string()
        )]
    );
    // A credential's service account holding System cannot own (before: it could, and
    // revoking the credential then deactivated the owner).
    let r = app.post("/credentials", json!({ "name": "robot" })).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let robot = r.body["credential"]["service_user_id"]
        .as_str()
        .unwrap()
        .to_string();
    grant(&app, &robot, json!({ "kind": "system" })).await;
    let r = app.put("/owner", json!({ "user_id": robot })).await;
    assert_eq!(
        r.field_errors(),
        vec![(
            "user_id".to_string(),
            "active_system_admin_required".to_string()
        )]
    );
    grant(&app, &second, json!({ "kind": "system" })).await;
    let r = app.put("/owner", json!({ "user_id": second })).await;
    assert_eq!(
        (r.status, r.body["owner_id"].as_str()),
        (StatusCode::OK, Some(second.as_str()))
    );
    // The former owner is now an ordinary System admin and can be stripped...
    assert_eq!(
        app.delete(&format!("/users/{owner_id}/admin-rights?kind=system"))
            .await
            .status,
        StatusCode::NO_CONTENT
    );
    // ...but the transfer target is now owner and the last active System admin.
    let r = app
        .patch(&format!("/users/{second}"), json!({ "status": "inactive" }))
        .await;
    assert_eq!(r.status, StatusCode::CONFLICT);
    let events = app.get("/auth-events").await;
    assert!(events.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .any(|e| e["kind"] == "ownership_transferred"));

    // A System admin other than the owner cannot take ownership.
    let signed = app.signed_in("third@example.com", true).await;
    let r = app
        .send_as(
            &signed.token,
            Method::PUT,
            "/owner",
            Some(json!({ "user_id": signed.id })),
            &[],
        )
        .await;
    assert_eq!(
        (r.status, r.body["code"].as_str()),
        (StatusCode::FORBIDDEN, Some("owner_only"))
    );
}

both!(last_system_admin_cannot_be_removed);
async fn last_system_admin_cannot_be_removed(b: Backend) {
    let app = spawn_app(b).await;
    let only = app.user("only@example.com").await;
    let g = app
        .post(
            &format!("/users/{only}/admin-rights"),
            json!({ "kind": "system" }),
        )
        .await;
    assert_eq!(g.status, StatusCode::CREATED, "{}", g.body);
    let r = app
        .patch(&format!("/users/{only}"), json!({ "status": "inactive" }))
        .await;
    assert_eq!(
        (r.status, r.body["code"].as_str()),
        (StatusCode::CONFLICT, Some("last_system_admin"))
    );
    assert_eq!(
        app.delete(&format!("/users/{only}")).await.status,
        StatusCode::CONFLICT
    );
    assert_eq!(
        app.delete(&format!("/users/{only}/admin-rights?kind=system"))
            .await
            .status,
        StatusCode::CONFLICT
    );
    let other = app.user("other@example.com").await;
    grant(&app, &other, json!({ "kind": "system" })).await;
    assert_eq!(
        app.patch(&format!("/users/{only}"), json!({ "status": "inactive" }))
            .await
            .status,
        StatusCode::OK
    );
    assert_eq!(
        app.delete(&format!("/users/{other}")).await.status,
        StatusCode::CONFLICT,
        "inactive admins do not count"
    );
}

both!(teams_organisations_have_one_admin_right);
async fn teams_organisations_have_one_admin_right(b: Backend) {
    let app = spawn_app(b).await;
    let r = app
        .post(
            "/api/v1/organizations",
            json!({ "slug": "tiny", "name": "Tiny shop", "kind": "teams" }),
        )
        .await;
    assert_eq!(
        (r.status, r.body["kind"].as_str()),
        (StatusCode::CREATED, Some("teams"))
    );
    let u = app
        .post(
            "/api/v1/organizations/tiny/users",
            json!({ "email": "a@example.com" }),
        )
        .await
        .body["id"]
        .as_str()
        .unwrap()
        .to_string();
    let r = app
        .post(
            &format!("/api/v1/organizations/tiny/users/{u}/admin-rights"),
            json!({ "kind": "support" }),
        )
        .await;
    assert_eq!(
        (r.status, r.body["code"].as_str()),
        (StatusCode::FORBIDDEN, Some("above_own_rights"))
    );
    assert!(
        r.body["detail"].as_str().unwrap().contains("teams"),
        "{}",
        r.body
    );
    let r = app
        .post(
            &format!("/api/v1/organizations/tiny/users/{u}/admin-rights"),
            json!({ "kind": "system" }),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED);
}

both!(profile_admins_administer_their_profiles_only);
async fn profile_admins_administer_their_profiles_only(b: Backend) {
    let app = spawn_app(b).await;
    app.without_2fa().await;
    let mk = |app_key: &'static str, name: &'static str| {
        let app = &app;
        async move {
            let r = app
                .post(
                    "/profiles",
                    json!({ "application": app_key, "name": name, "seat_quota": 10 }),
                )
                .await;
            assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
            r.body["profile"]["id"]
                .as_str()
                .or(r.body["id"].as_str())
                .unwrap()
                .to_string()
        }
    };
    let mine = mk("commerce-admin", "Store-EU").await;
    let other = mk("commerce-admin", "Store-US").await;
    let cloud = mk("cloud-project", "Cloud-Default").await;
    let product = app.signed_in("product@example.com", false).await;
    let profile_admin = app.signed_in("profile@example.com", false).await;
    grant(
        &app,
        &product.id,
        json!({ "kind": "product", "application": "commerce-admin" }),
    )
    .await;
    grant(
        &app,
        &profile_admin.id,
        json!({ "kind": "product_profile", "profile_id": mine }),
    )
    .await;
    let sam = app.user("sam@example.com").await;
    let seat = |token: String, profile: String| {
        let app = &app;
        let sam = sam.clone();
        async move {
            app.send_as(
                &token,
                Method::POST,
                &format!("/profiles/{profile}/users"),
                Some(json!({ "user_id": sam })),
                &[],
            )
            .await
            .status
        }
    };
    assert_eq!(
        seat(profile_admin.token.clone(), mine.clone()).await,
        StatusCode::CREATED
    );
    assert_eq!(
        seat(profile_admin.token.clone(), other.clone()).await,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        seat(product.token.clone(), other.clone()).await,
        StatusCode::CREATED,
        "product admins administer every profile of their product"
    );
    assert_eq!(
        seat(product.token.clone(), cloud.clone()).await,
        StatusCode::FORBIDDEN
    );
    let r = app
        .send_as(
            &product.token,
            Method::POST,
            "/profiles",
            Some(json!({ "application": "cloud-project", "name": "X" })),
            &[],
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let r = app
        .send_as(
            &profile_admin.token,
            Method::DELETE,
            &format!("/profiles/{mine}"),
            None,
            &[],
        )
        .await;
    assert_eq!(
        r.status,
        StatusCode::FORBIDDEN,
        "profile admins do not delete profiles"
    );
    // Delegation: a product admin makes profile admins of its own product's profiles only.
    let target = app.user("delegate@example.com").await;
    let g = |right: Value| {
        let app = &app;
        let token = product.token.clone();
        let target = target.clone();
        async move {
            app.send_as(
                &token,
                Method::POST,
                &format!("/users/{target}/admin-rights"),
                Some(right),
                &[],
            )
            .await
            .status
        }
    };
    assert_eq!(
        g(json!({ "kind": "product_profile", "profile_id": other })).await,
        StatusCode::CREATED
    );
    assert_eq!(
        g(json!({ "kind": "product_profile", "profile_id": cloud })).await,
        StatusCode::FORBIDDEN
    );
    // A profile admin passes on only their own profile.
    let r = app
        .send_as(
            &profile_admin.token,
            Method::POST,
            &format!("/users/{target}/admin-rights"),
            Some(json!({ "kind": "product_profile", "profile_id": other })),
            &[],
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
}

both!(rights_without_delegation_grant_nothing);
async fn rights_without_delegation_grant_nothing(b: Backend) {
    let app = spawn_app(b).await;
    app.without_2fa().await;
    let g1 = app.group("Merch").await;
    let g2 = app.group("Other").await;
    let target = app.user("target@example.com").await;
    let group_admin = app.signed_in("groups@example.com", false).await;
    grant(
        &app,
        &group_admin.id,
        json!({ "kind": "user_group", "group_id": g1 }),
    )
    .await;
    let attempt = |token: String, right: Value| {
        let app = &app;
        let target = target.clone();
        async move {
            app.send_as(
                &token,
                Method::POST,
                &format!("/users/{target}/admin-rights"),
                Some(right),
                &[],
            )
            .await
        }
    };
    // A group admin passes on their own group only.
    assert_eq!(
        attempt(
            group_admin.token.clone(),
            json!({ "kind": "user_group", "group_id": g1 })
        )
        .await
        .status,
        StatusCode::CREATED
    );
    for right in [
        json!({ "kind": "user_group", "group_id": g2 }),
        json!({ "kind": "product", "application": "commerce-admin" }),
        json!({ "kind": "system" }),
    ] {
        let r = attempt(group_admin.token.clone(), right.clone()).await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "{right}");
    }
    // Deployment, support and storage admins administer no one: they grant nothing, not even their own kind.
    for kind in ["deployment", "support", "storage"] {
        let who = app.signed_in(&format!("{kind}@example.com"), false).await;
        grant(&app, &who.id, json!({ "kind": kind })).await;
        let r = attempt(who.token.clone(), json!({ "kind": kind })).await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "{kind}: {}", r.body);
    }
    let rights = app.get(&format!("/users/{target}/admin-rights")).await;
    assert_eq!(
        rights.body["items"].as_array().map(|a| a.len()),
        Some(1),
        "only the allowed grant landed"
    );
}
