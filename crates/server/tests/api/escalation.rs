//! The escalation paths an attacker with delegated rights tried (issue 9, items 1–4), over HTTP:
//! the wiring of the one rights rule (`rolecall_core::change`). The rule itself is exercised
//! over random organisations and operation sequences in `rights_property.rs`.

use crate::both;
use crate::helpers::{spawn_app, Backend, Person, TestApp};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

async fn as_person(
    app: &TestApp,
    who: &Person,
    method: Method,
    path: &str,
    body: Option<Value>,
) -> (StatusCode, String) {
    let r = app.send_as(&who.token, method, path, body, &[]).await;
    (
        r.status,
        r.body["code"].as_str().unwrap_or_default().to_string(),
    )
}

async fn grant(app: &TestApp, user: &str, right: Value) {
    let r = app
        .post(&format!("/users/{user}/admin-rights"), right)
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
}

fn forbidden(code: &str) -> (StatusCode, String) {
    (StatusCode::FORBIDDEN, code.to_string())
}

both!(a_profile_admin_administers_their_profile_and_nothing_beyond);
async fn a_profile_admin_administers_their_profile_and_nothing_beyond(b: Backend) {
    let app = spawn_app(b).await;
    app.without_2fa().await;
    let pa = app.signed_in("profiles@example.com", false).await;
    let owner = app.user("owner@example.com").await;
    let other = app.user("other@example.com").await;
    let sales = app.commerce_role("Sales", "Magento_Sales::sales").await;
    let r = app
        .post(
            "/profiles",
            json!({ "application": "commerce-admin", "name": "Default", "roles": [sales] }),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let profile = r.body["id"].as_str().unwrap().to_string();
    grant(
        &app,
        &pa.id,
        json!({ "kind": "product_profile", "profile_id": profile }),
    )
    .await;
    let cloud_admins = app.role_id("cloud-project", "Administrators").await;
    let search_admins = app.role_id("site-search", "Administrators").await;
    let commerce_admins = app.role_id("commerce-admin", "Administrators").await;
    let g = app.group("Ops").await;
    let r = app
        .post(
            &format!("/users/{owner}/roles"),
            json!({ "role_id": commerce_admins }),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);

    // Before the fix each of these answered 201 or 204.
    for (path, role) in [
        (format!("/users/{}/roles", pa.id), &cloud_admins),
        (format!("/users/{other}/roles"), &search_admins),
        (format!("/groups/{g}/roles"), &cloud_admins),
        (format!("/users/{other}/roles"), &sales),
    ] {
        assert_eq!(
            as_person(
                &app,
                &pa,
                Method::POST,
                &path,
                Some(json!({ "role_id": role }))
            )
            .await,
            forbidden("admin_required"),
            "{path}"
        );
    }
    assert_eq!(
        as_person(
            &app,
            &pa,
            Method::DELETE,
            &format!("/users/{owner}/roles/{commerce_admins}"),
            None
        )
        .await
        .0,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        app.decide(&pa.id, "cloud-project", "project", None, None)
            .await,
        "deny"
    );
    // What they do administer: seats in their profile, for others.
    assert_eq!(
        as_person(
            &app,
            &pa,
            Method::POST,
            &format!("/profiles/{profile}/users"),
            Some(json!({ "user_id": other }))
        )
        .await
        .0,
        StatusCode::CREATED
    );
    assert_eq!(
        as_person(
            &app,
            &pa,
            Method::POST,
            &format!("/profiles/{profile}/users"),
            Some(json!({ "user_id": pa.id }))
        )
        .await,
        forbidden("own_access")
    );
    // The seat quota is licensing: the product's admins set it, not the profile's.
    assert_eq!(
        as_person(
            &app,
            &pa,
            Method::PATCH,
            &format!("/profiles/{profile}"),
            Some(json!({ "seat_quota": 1000 }))
        )
        .await
        .0,
        StatusCode::FORBIDDEN
    );
}

both!(a_right_over_a_group_needs_everything_the_group_carries);
async fn a_right_over_a_group_needs_everything_the_group_carries(b: Backend) {
    let app = spawn_app(b).await;
    app.without_2fa().await;
    let product = app.signed_in("product@example.com", false).await;
    let second = app.signed_in("second@example.com", false).await;
    grant(
        &app,
        &product.id,
        json!({ "kind": "product", "application": "commerce-admin" }),
    )
    .await;
    let cloud_admins = app.role_id("cloud-project", "Administrators").await;
    let ops = app.group("Ops").await;
    let r = app
        .post(
            &format!("/groups/{ops}/roles"),
            json!({ "role_id": cloud_admins }),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    // Step 1 of the attack: hand a second account the right over a group carrying cloud-project.
    assert_eq!(
        as_person(
            &app,
            &product,
            Method::POST,
            &format!("/users/{}/admin-rights", second.id),
            Some(json!({ "kind": "user_group", "group_id": ops }))
        )
        .await,
        forbidden("group_carries_more")
    );

    // The same through a group of the product admin's own application: the right may be handed
    // out, but the second account's authority came from the product admin, so it never reaches
    // the product admin's access.
    let sales = app.commerce_role("Sales", "Magento_Sales::sales").await;
    let shop = app.group("Shop").await;
    let r = app
        .post(
            &format!("/groups/{shop}/roles"),
            json!({ "role_id": sales }),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    assert_eq!(
        as_person(
            &app,
            &product,
            Method::POST,
            &format!("/users/{}/admin-rights", second.id),
            Some(json!({ "kind": "user_group", "group_id": shop }))
        )
        .await
        .0,
        StatusCode::CREATED
    );
    assert_eq!(
        as_person(
            &app,
            &second,
            Method::POST,
            &format!("/groups/{shop}/members"),
            Some(json!({ "user_id": product.id }))
        )
        .await,
        forbidden("upstream_access")
    );
    let third = app.user("third@example.com").await;
    assert_eq!(
        as_person(
            &app,
            &second,
            Method::POST,
            &format!("/groups/{shop}/members"),
            Some(json!({ "user_id": third }))
        )
        .await
        .0,
        StatusCode::CREATED
    );
    assert_eq!(
        app.decide(
            &product.id,
            "commerce-admin",
            "Magento_Sales::sales",
            None,
            None
        )
        .await,
        "deny"
    );
}

both!(nobody_changes_their_own_access);
async fn nobody_changes_their_own_access(b: Backend) {
    let app = spawn_app(b).await;
    app.without_2fa().await;
    let group_admin = app.signed_in("groups@example.com", false).await;
    let product = app.signed_in("product@example.com", false).await;
    let system = app.signed_in("system@example.com", true).await;
    let g = app.group("Merch").await;
    let sales = app.commerce_role("Sales", "Magento_Sales::sales").await;
    let r = app
        .post(&format!("/groups/{g}/roles"), json!({ "role_id": sales }))
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    grant(
        &app,
        &group_admin.id,
        json!({ "kind": "user_group", "group_id": g }),
    )
    .await;
    grant(
        &app,
        &product.id,
        json!({ "kind": "product", "application": "commerce-admin" }),
    )
    .await;

    // Item 3: a user-group admin joins their own group.
    assert_eq!(
        as_person(
            &app,
            &group_admin,
            Method::POST,
            &format!("/groups/{g}/members"),
            Some(json!({ "user_id": group_admin.id }))
        )
        .await,
        forbidden("own_access")
    );
    // Item 4: a product admin takes their own product's Administrators role.
    let admins = app.role_id("commerce-admin", "Administrators").await;
    assert_eq!(
        as_person(
            &app,
            &product,
            Method::POST,
            &format!("/users/{}/roles", product.id),
            Some(json!({ "role_id": admins }))
        )
        .await,
        forbidden("own_access")
    );
    // Not even a System admin assigns themselves a role; another System admin may.
    assert_eq!(
        as_person(
            &app,
            &system,
            Method::POST,
            &format!("/users/{}/roles", system.id),
            Some(json!({ "role_id": admins }))
        )
        .await,
        forbidden("own_access")
    );
    assert_eq!(
        app.post(
            &format!("/users/{}/roles", system.id),
            json!({ "role_id": admins })
        )
        .await
        .status,
        StatusCode::CREATED
    );
    // Editing a role they hold is changing their own access too.
    let r = app
        .post(
            &format!("/groups/{g}/members"),
            json!({ "user_id": product.id }),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    assert_eq!(
        as_person(
            &app,
            &product,
            Method::PATCH,
            &format!("/roles/{sales}"),
            Some(json!({ "grants": [{ "resource": "Magento_Backend::admin" }] }))
        )
        .await,
        forbidden("own_access")
    );
}

both!(revoking_a_link_does_not_free_the_rest_of_the_chain);
/// A grants P, P grants Q, A revokes P: before, Q's upstream was worked out from the rights
/// held now and stopped at P, so Q (A's puppet) could give A the Administrators role. Each
/// right now keeps who its authority came from when granted.
async fn revoking_a_link_does_not_free_the_rest_of_the_chain(b: Backend) {
    let app = spawn_app(b).await;
    app.without_2fa().await;
    let a = app.signed_in("a@example.com", false).await;
    let p = app.signed_in("p@example.com", false).await;
    let q = app.signed_in("q@example.com", false).await;
    let other = app.user("other@example.com").await;
    let product = json!({ "kind": "product", "application": "commerce-admin" });
    grant(&app, &a.id, product.clone()).await;
    for (by, to) in [(&a, &p), (&p, &q)] {
        let (status, _) = as_person(
            &app,
            by,
            Method::POST,
            &format!("/users/{}/admin-rights", to.id),
            Some(product.clone()),
        )
        .await;
        assert_eq!(status, StatusCode::CREATED);
    }
    let (status, _) = as_person(
        &app,
        &a,
        Method::DELETE,
        &format!(
            "/users/{}/admin-rights?kind=product&target=commerce-admin",
            p.id
        ),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let admins = app.role_id("commerce-admin", "Administrators").await;
    assert_eq!(
        as_person(
            &app,
            &q,
            Method::POST,
            &format!("/users/{}/roles", a.id),
            Some(json!({ "role_id": admins }))
        )
        .await,
        forbidden("upstream_access")
    );
    assert!(
        app.get(&format!("/users/{}/roles", a.id)).await.body["items"]
            .as_array()
            .unwrap()
            .is_empty()
    );
    // Q keeps the right itself and uses it on anyone else.
    let (status, _) = as_person(
        &app,
        &q,
        Method::POST,
        &format!("/users/{other}/roles"),
        Some(json!({ "role_id": admins })),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED);
}
