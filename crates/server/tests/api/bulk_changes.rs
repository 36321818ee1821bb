//! Bulk changes outside files (issue 12): many users into a group, a product profile or a role
//! in one call, and a product removed from a user. Each call is all or nothing, judged like the
//! single calls, idempotent, and audited per change.

use crate::both;
use crate::helpers::{spawn_app, Backend, Person, Reply, TestApp};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

async fn grant(app: &TestApp, user: &str, right: Value) {
    let r = app
        .post(&format!("/users/{user}/admin-rights"), right)
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
}

async fn as_person(app: &TestApp, who: &Person, method: Method, path: &str, body: Value) -> Reply {
    app.send_as(&who.token, method, path, Some(body), &[]).await
}

/// (user id, outcome) of a batch answer, in order.
fn outcomes(r: &Reply) -> Vec<(String, String)> {
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    r.body["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|i| {
            (
                i["user_id"].as_str().unwrap_or_default().to_string(),
                i["outcome"].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect()
}

fn pairs(v: &[(&String, &str)]) -> Vec<(String, String)> {
    v.iter()
        .map(|(a, b)| (a.to_string(), b.to_string()))
        .collect()
}

/// How many audit entries about `target` have `action`.
async fn recorded(app: &TestApp, target: &str, action: &str) -> usize {
    let r = app
        .get(&format!(
            "/audit?target={target}&action={action}&limit=1000"
        ))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    r.body["items"].as_array().map_or(0, |a| a.len())
}

async fn member_ids(app: &TestApp, group: &str) -> Vec<String> {
    let r = app.get(&format!("/groups/{group}/members")).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let mut v: Vec<String> = r.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["id"].as_str().unwrap().to_string())
        .collect();
    v.sort();
    v
}

fn field_error(r: &Reply, field: &str, rule: &str) {
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    assert!(
        r.field_errors()
            .contains(&(field.to_string(), rule.to_string())),
        "{}",
        r.body
    );
}

both!(many_users_join_a_group_in_one_call);
async fn many_users_join_a_group_in_one_call(b: Backend) {
    let app = spawn_app(b).await;
    app.without_2fa().await;
    let ops = app.group("Ops").await;
    let shop = app.group("Shop").await;
    let u1 = app.user("u1@example.com").await;
    let u2 = app.user("u2@example.com").await;
    let u3 = app.user("u3@example.com").await;
    let r = app
        .post(&format!("/groups/{ops}/members"), json!({ "user_id": u1 }))
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);

    let batch = format!("/groups/{ops}/members/batch");
    let r = app
        .post(&batch, json!({ "user_ids": [u1, u2, u3, u2] }))
        .await;
    assert_eq!(
        outcomes(&r),
        pairs(&[(&u1, "already_there"), (&u2, "added"), (&u3, "added")]),
        "duplicates count once, order kept"
    );
    assert_eq!(
        (r.body["added"].as_u64(), r.body["already_there"].as_u64()),
        (Some(2), Some(1))
    );
    let mut all = vec![u1.clone(), u2.clone(), u3.clone()];
    all.sort();
    assert_eq!(member_ids(&app, &ops).await, all);
    for u in [&u2, &u3] {
        assert_eq!(
            recorded(&app, u, "member_added").await,
            1,
            "one entry per change"
        );
    }

    // The same call again changes nothing and records nothing.
    let r = app.post(&batch, json!({ "user_ids": [u1, u2, u3] })).await;
    assert_eq!(r.body["added"], 0, "{}", r.body);
    assert_eq!(recorded(&app, &u2, "member_added").await, 1);

    // A user outside the organisation: 422 naming the position, nothing written.
    let u4 = app.user("u4@example.com").await;
    let stranger = "0b7e2f5a-0000-4000-8000-000000000001";
    let r = app
        .post(
            &format!("/groups/{shop}/members/batch"),
            json!({ "user_ids": [u4, stranger] }),
        )
        .await;
    field_error(&r, "user_ids[1]", "unknown_user");
    assert!(
        member_ids(&app, &shop).await.is_empty(),
        "nothing was added"
    );
    let r = app
        .post(
            &format!("/groups/{shop}/members/batch"),
            json!({ "user_ids": ["nope"] }),
        )
        .await;
    field_error(&r, "user_ids[0]", "uuid");
    let r = app
        .post(
            &format!("/groups/{shop}/members/batch"),
            json!({ "user_ids": [] }),
        )
        .await;
    field_error(&r, "user_ids", "min_items");

    // A group admin of Ops adds to Ops, never to Shop.
    let ga = app.signed_in("ga@example.com", false).await;
    grant(
        &app,
        &ga.id,
        json!({ "kind": "user_group", "group_id": ops }),
    )
    .await;
    let r = as_person(
        &app,
        &ga,
        Method::POST,
        &format!("/groups/{shop}/members/batch"),
        json!({ "user_ids": [u4] }),
    )
    .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.body);
    assert!(
        member_ids(&app, &shop).await.is_empty(),
        "the denial changed nothing"
    );
    let r = as_person(&app, &ga, Method::POST, &batch, json!({ "user_ids": [u4] })).await;
    assert_eq!(r.body["added"], 1, "{}", r.body);
    // Adding themselves would change their own access: the rights rule refuses the whole call.
    let u5 = app.user("u5@example.com").await;
    let r = as_person(
        &app,
        &ga,
        Method::POST,
        &batch,
        json!({ "user_ids": [u5, ga.id] }),
    )
    .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.body);
    assert!(
        !member_ids(&app, &ops).await.contains(&u5),
        "u5 was not added either"
    );
}

both!(a_profile_batch_fits_the_quota_whole_or_not_at_all);
async fn a_profile_batch_fits_the_quota_whole_or_not_at_all(b: Backend) {
    let app = spawn_app(b).await;
    app.without_2fa().await;
    let make = |name: &'static str, quota: Value| {
        let app = &app;
        async move {
            let r = app
                .post(
                    "/profiles",
                    json!({ "application": "site-search", "name": name, "seat_quota": quota }),
                )
                .await;
            assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
            r.body["id"].as_str().unwrap().to_string()
        }
    };
    let small = make("Small", json!(2)).await;
    let other = make("Other", Value::Null).await;
    let u1 = app.user("u1@example.com").await;
    let u2 = app.user("u2@example.com").await;
    let u3 = app.user("u3@example.com").await;
    let used = |p: String| {
        let app = &app;
        async move { app.get(&format!("/profiles/{p}")).await.body["seats_used"].as_i64() }
    };

    let batch = format!("/profiles/{small}/users/batch");
    let r = app.post(&batch, json!({ "user_ids": [u1, u2, u3] })).await;
    assert_eq!(
        (r.status, r.body["code"].as_str()),
        (StatusCode::CONFLICT, Some("quota_exceeded")),
        "{}",
        r.body
    );
    let detail = r.body["detail"].as_str().unwrap_or_default();
    assert!(
        detail.contains("2 seats and 2 free") && detail.contains("need 3"),
        "{detail}"
    );
    assert_eq!(used(small.clone()).await, Some(0), "nothing was written");
    assert_eq!(
        recorded(&app, &u1, "seat_assigned").await,
        0,
        "nor recorded"
    );

    let r = app.post(&batch, json!({ "user_ids": [u1, u2] })).await;
    assert_eq!(outcomes(&r), pairs(&[(&u1, "added"), (&u2, "added")]));
    assert_eq!(used(small.clone()).await, Some(2));
    assert_eq!(recorded(&app, &u2, "seat_assigned").await, 1);
    let r = app.post(&batch, json!({ "user_ids": [u2, u1] })).await;
    assert_eq!(r.body["already_there"], 2, "idempotent: {}", r.body);
    assert_eq!(used(small.clone()).await, Some(2));

    // A profile admin of Other may not fill Small, and may fill Other.
    let pa = app.signed_in("pa@example.com", false).await;
    grant(
        &app,
        &pa.id,
        json!({ "kind": "product_profile", "profile_id": other }),
    )
    .await;
    let r = as_person(&app, &pa, Method::POST, &batch, json!({ "user_ids": [u3] })).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.body);
    assert_eq!(
        used(small.clone()).await,
        Some(2),
        "the denial changed nothing"
    );
    let r = as_person(
        &app,
        &pa,
        Method::POST,
        &format!("/profiles/{other}/users/batch"),
        json!({ "user_ids": [u3, u1] }),
    )
    .await;
    assert_eq!(r.body["added"], 2, "{}", r.body);
    let stranger = "0b7e2f5a-0000-4000-8000-000000000002";
    let r = app
        .post(
            &format!("/profiles/{other}/users/batch"),
            json!({ "user_ids": [u2, stranger] }),
        )
        .await;
    field_error(&r, "user_ids[1]", "unknown_user");
    assert_eq!(
        used(other.clone()).await,
        Some(2),
        "u2 was not given a seat"
    );
}

both!(a_role_batch_keeps_one_role_per_user);
async fn a_role_batch_keeps_one_role_per_user(b: Backend) {
    let app = spawn_app(b).await;
    app.without_2fa().await;
    let sales = app.commerce_role("Sales", "Magento_Sales::sales").await;
    let catalog = app
        .commerce_role("Catalog", "Magento_Catalog::catalog")
        .await;
    let u1 = app.user("u1@example.com").await;
    let u2 = app.user("u2@example.com").await;
    let u3 = app.user("u3@example.com").await;
    let r = app
        .post(&format!("/users/{u1}/roles"), json!({ "role_id": catalog }))
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let roles_of = |u: String| {
        let app = &app;
        async move {
            let r = app.get(&format!("/users/{u}/roles")).await;
            r.body["items"]
                .as_array()
                .unwrap()
                .iter()
                .map(|h| h["role_name"].as_str().unwrap().to_string())
                .collect::<Vec<_>>()
        }
    };

    // As the single assignment: a user holding another commerce-admin role refuses the call.
    let batch = format!("/roles/{sales}/users/batch");
    let r = app.post(&batch, json!({ "user_ids": [u2, u1] })).await;
    assert_eq!(
        (r.status, r.body["code"].as_str()),
        (StatusCode::CONFLICT, Some("one_role_per_user")),
        "{}",
        r.body
    );
    let detail = r.body["detail"].as_str().unwrap_or_default();
    assert!(
        detail.contains("user_ids[1]") && detail.contains("Catalog"),
        "{detail}"
    );
    assert!(
        roles_of(u2.clone()).await.is_empty(),
        "u2 was not given Sales either"
    );

    let r = app.post(&batch, json!({ "user_ids": [u2, u3] })).await;
    assert_eq!(outcomes(&r), pairs(&[(&u2, "added"), (&u3, "added")]));
    assert_eq!(roles_of(u3.clone()).await, ["Sales"]);
    assert_eq!(recorded(&app, &u3, "role_assigned").await, 1);
    let r = app.post(&batch, json!({ "user_ids": [u3, u2] })).await;
    assert_eq!(r.body["already_there"], 2, "idempotent: {}", r.body);
    assert_eq!(recorded(&app, &u3, "role_assigned").await, 1);
    assert_eq!(
        app.decide(&u3, "commerce-admin", "Magento_Sales::sales", None, None)
            .await,
        "allow",
        "the snapshot was recompiled"
    );

    // A product admin of another application may not assign commerce-admin roles.
    let pa = app.signed_in("pa@example.com", false).await;
    grant(
        &app,
        &pa.id,
        json!({ "kind": "product", "application": "site-search" }),
    )
    .await;
    let u4 = app.user("u4@example.com").await;
    let r = as_person(&app, &pa, Method::POST, &batch, json!({ "user_ids": [u4] })).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.body);
    assert!(
        roles_of(u4.clone()).await.is_empty(),
        "the denial changed nothing"
    );
    let unknown_role = "0b7e2f5a-0000-4000-8000-000000000003";
    let r = app
        .post(
            &format!("/roles/{unknown_role}/users/batch"),
            json!({ "user_ids": [u4] }),
        )
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND, "{}", r.body);
}

both!(removing_a_product_strips_the_users_own_seats_and_roles);
async fn removing_a_product_strips_the_users_own_seats_and_roles(b: Backend) {
    let app = spawn_app(b).await;
    app.without_2fa().await;
    let ranker = app
        .role(
            "site-search",
            "Ranker",
            json!([{ "resource": "rules:ranking", "actions": ["edit"] }]),
            json!([]),
        )
        .await;
    let search_admins = app.role_id("site-search", "Administrators").await;
    let profile = |application: &'static str, name: &'static str| {
        let app = &app;
        async move {
            let r = app
                .post(
                    "/profiles",
                    json!({ "application": application, "name": name }),
                )
                .await;
            assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
            r.body["id"].as_str().unwrap().to_string()
        }
    };
    let p1 = profile("site-search", "Search A").await;
    let p2 = profile("site-search", "Search B").await;
    let p3 = profile("cloud-project", "Cloud").await;
    let team = app.group("Search team").await;
    let u = app.user("u@example.com").await;
    let other = app.user("other@example.com").await;
    for p in [&p1, &p2, &p3] {
        let r = app
            .post(&format!("/profiles/{p}/users"), json!({ "user_id": u }))
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    }
    for (path, body) in [
        (format!("/users/{u}/roles"), json!({ "role_id": ranker })),
        (
            format!("/users/{u}/roles"),
            json!({ "role_id": search_admins }),
        ),
        (
            format!("/users/{other}/roles"),
            json!({ "role_id": search_admins }),
        ),
        (
            format!("/profiles/{p1}/groups"),
            json!({ "group_id": team }),
        ),
        (format!("/groups/{team}/members"), json!({ "user_id": u })),
    ] {
        let r = app.post(&path, body).await;
        assert_eq!(r.status, StatusCode::CREATED, "{path}: {}", r.body);
    }

    // A product admin of cloud-project and a profile admin of Search A may not.
    let path = format!("/users/{u}/products/site-search");
    let cloud = app.signed_in("cloud@example.com", false).await;
    grant(
        &app,
        &cloud.id,
        json!({ "kind": "product", "application": "cloud-project" }),
    )
    .await;
    let pa = app.signed_in("pa@example.com", false).await;
    grant(
        &app,
        &pa.id,
        json!({ "kind": "product_profile", "profile_id": p1 }),
    )
    .await;
    for who in [&cloud, &pa] {
        let r = app
            .send_as(&who.token, Method::DELETE, &path, None, &[])
            .await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.body);
    }
    let products = || {
        let u = u.clone();
        let app = &app;
        async move {
            let r = app.get(&format!("/users/{u}/products")).await;
            assert_eq!(r.status, StatusCode::OK, "{}", r.body);
            r.body["items"].as_array().unwrap().len()
        }
    };
    assert_eq!(products().await, 4, "the denials changed nothing");

    let r = app.delete(&path).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let names = |key: &str| -> Vec<String> {
        let mut v: Vec<String> = r.body[key]
            .as_array()
            .unwrap()
            .iter()
            .map(|n| n["name"].as_str().unwrap().to_string())
            .collect();
        v.sort();
        v
    };
    assert_eq!(names("seats_released"), ["Search A", "Search B"]);
    assert_eq!(names("roles_unassigned"), ["Ranker"]);
    assert_eq!(names("still_through_groups"), ["Search team"]);
    assert_eq!(r.body["administrators_kept"], true);
    let after = app.get(&format!("/users/{u}/products")).await;
    let left: Vec<(String, String)> = after.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| {
            (
                i["profile_name"].as_str().unwrap().to_string(),
                i["via"].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect();
    assert_eq!(
        left.len(),
        2,
        "Cloud (direct) and Search A (group) stay: {left:?}"
    );
    assert!(left.iter().any(|(n, _)| n == "Cloud"));
    assert_eq!(recorded(&app, &u, "seat_released").await, 2);
    assert_eq!(recorded(&app, &u, "role_unassigned").await, 1);

    // Again: nothing left to withdraw, nothing recorded.
    let r = app.delete(&path).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.body["seats_released"], json!([]));
    assert_eq!(r.body["roles_unassigned"], json!([]));
    assert_eq!(recorded(&app, &u, "seat_released").await, 2);

    let r = app
        .delete(&format!("/users/{u}/products/no-such-app"))
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND, "{}", r.body);
    let r = app
        .delete("/users/0b7e2f5a-0000-4000-8000-000000000004/products/site-search")
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND, "{}", r.body);
}
