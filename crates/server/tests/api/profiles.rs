//! Products and product profiles: the licence gate, seat quotas, quick views, validation and
//! what deleting things leaves behind.

use crate::both;
use crate::helpers::{spawn_app, Backend, Reply, TestApp};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

/// Creates a profile and returns its id.
async fn profile(
    app: &TestApp,
    application: &str,
    name: &str,
    quota: Value,
    roles: Value,
) -> String {
    let r = app
        .post(
            "/profiles",
            json!({ "application": application, "name": name, "seat_quota": quota, "roles": roles }),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    r.body["id"].as_str().expect("id").to_string()
}

async fn seat(app: &TestApp, profile: &str, user: &str) -> Reply {
    app.post(
        &format!("/profiles/{profile}/users"),
        json!({ "user_id": user }),
    )
    .await
}

async fn seat_group(app: &TestApp, profile: &str, group: &str) -> Reply {
    app.post(
        &format!("/profiles/{profile}/groups"),
        json!({ "group_id": group }),
    )
    .await
}

async fn join(app: &TestApp, group: &str, user: &str) -> Reply {
    app.post(
        &format!("/groups/{group}/members"),
        json!({ "user_id": user }),
    )
    .await
}

async fn explain(
    app: &TestApp,
    user: &str,
    application: &str,
    resource: &str,
    action: &str,
) -> Value {
    let r = app
        .post(
            "/check",
            json!({ "user_id": user, "application": application, "resource": resource, "action": action }),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    r.body
}

fn conflict(r: &Reply, code: &str) {
    assert_eq!(
        (r.status, r.body["code"].as_str()),
        (StatusCode::CONFLICT, Some(code)),
        "{}",
        r.body
    );
}

both!(a_profile_gates_its_application);
async fn a_profile_gates_its_application(b: Backend) {
    let app = spawn_app(b).await;
    let jane = app.user("jane@example.com").await;
    let ann = app.user("ann@example.com").await;
    let bob = app.user("bob@example.com").await;
    let ranker = app
        .role(
            "site-search",
            "Ranker",
            json!([{ "resource": "rules:ranking", "actions": ["edit"] }]),
            json!([]),
        )
        .await;
    let reporter = app
        .role(
            "site-search",
            "Reporter",
            json!([{ "resource": "reports", "actions": ["view"] }]),
            json!([]),
        )
        .await;
    let admins = app.role_id("site-search", "Administrators").await;
    let viewer = app.role_id("cloud-project", "Viewer").await;
    for (u, r) in [(&jane, &ranker), (&ann, &admins), (&bob, &viewer)] {
        let res = app
            .post(&format!("/users/{u}/roles"), json!({ "role_id": r }))
            .await;
        assert_eq!(res.status, StatusCode::CREATED, "{}", res.body);
    }
    assert_eq!(
        app.decide(&jane, "site-search", "rules:ranking", Some("edit"), None)
            .await,
        "allow",
        "no profile yet: roles alone decide"
    );

    let p = profile(
        &app,
        "site-search",
        "Search Standard",
        Value::Null,
        json!([reporter]),
    )
    .await;
    let e = explain(&app, &jane, "site-search", "rules:ranking", "edit").await;
    assert_eq!(
        (e["decision"].as_str(), e["reason"].as_str()),
        (Some("deny"), Some("no_licence"))
    );
    assert_eq!(
        e["message"],
        "the user has no product profile for site-search"
    );
    assert_eq!(
        app.decide(&ann, "site-search", "settings:users", Some("edit"), None)
            .await,
        "allow",
        "Administrators need no seat"
    );
    assert_eq!(
        app.decide(&bob, "cloud-project", "project", Some("view"), None)
            .await,
        "allow",
        "an application without profiles is unaffected"
    );
    let perms = app
        .get(&format!(
            "/users/{jane}/effective-permissions?application=site-search"
        ))
        .await;
    assert_eq!(perms.status, StatusCode::OK, "{}", perms.body);
    assert_eq!(
        perms.body["items"],
        json!([]),
        "an unlicensed user may do nothing there"
    );

    // A seat: the bundle plus the roles held directly.
    assert_eq!(seat(&app, &p, &jane).await.status, StatusCode::CREATED);
    assert_eq!(
        app.decide(&jane, "site-search", "rules:ranking", Some("edit"), None)
            .await,
        "allow"
    );
    let e = explain(&app, &jane, "site-search", "reports:analytics", "view").await;
    assert_eq!(e["decision"], "allow", "{e}");
    assert_eq!(e["roles"][0]["profile_name"], "Search Standard");
    assert_eq!(e["roles"][0]["via"], "direct");
    assert!(
        e["message"]
            .as_str()
            .unwrap()
            .contains("through product profile Search Standard"),
        "{e}"
    );
    // Bob holds no seat in site-search: denied there even with nothing to do with it.
    assert_eq!(
        explain(&app, &bob, "site-search", "reports", "view").await["reason"],
        "no_licence"
    );

    // A seat through a group.
    let g = app.group("Analysts").await;
    assert_eq!(join(&app, &g, &bob).await.status, StatusCode::CREATED);
    assert_eq!(seat_group(&app, &p, &g).await.status, StatusCode::CREATED);
    let e = explain(&app, &bob, "site-search", "reports", "view").await;
    assert_eq!(e["decision"], "allow", "{e}");
    assert_eq!(e["roles"][0]["via"], "group");
    assert_eq!(e["roles"][0]["group_name"], "Analysts");
    // Leaving the group gives the seat back and closes the application again.
    assert_eq!(
        app.delete(&format!("/groups/{g}/members/{bob}"))
            .await
            .status,
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        explain(&app, &bob, "site-search", "reports", "view").await["reason"],
        "no_licence"
    );
    assert_eq!(
        app.delete(&format!("/profiles/{p}/users/{jane}"))
            .await
            .status,
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        app.decide(&jane, "site-search", "rules:ranking", Some("edit"), None)
            .await,
        "deny"
    );
}

both!(seats_are_counted_once_and_the_quota_holds);
async fn seats_are_counted_once_and_the_quota_holds(b: Backend) {
    let app = spawn_app(b).await;
    let mut u = Vec::new();
    for i in 0..5 {
        u.push(app.user(&format!("u{i}@example.com")).await);
    }
    let p = profile(&app, "site-search", "Two Seats", json!(2), json!([])).await;
    assert_eq!(seat(&app, &p, &u[0]).await.status, StatusCode::CREATED);
    assert_eq!(seat(&app, &p, &u[1]).await.status, StatusCode::CREATED);
    let r = seat(&app, &p, &u[2]).await;
    conflict(&r, "quota_exceeded");
    assert!(
        r.body["detail"]
            .as_str()
            .unwrap()
            .contains("profile Two Seats has 2 seats and all are used"),
        "{}",
        r.body
    );
    assert_eq!(
        seat(&app, &p, &u[0]).await.status,
        StatusCode::OK,
        "idempotent even when full"
    );
    let got = app.get(&format!("/profiles/{p}")).await;
    assert_eq!(
        (
            got.body["seats_used"].as_i64(),
            got.body["seats_free"].as_i64()
        ),
        (Some(2), Some(0))
    );

    // u0 directly and through a group: one seat.
    let g = app.group("Team").await;
    assert_eq!(join(&app, &g, &u[0]).await.status, StatusCode::CREATED);
    assert_eq!(seat_group(&app, &p, &g).await.status, StatusCode::CREATED);
    assert_eq!(
        app.get(&format!("/profiles/{p}")).await.body["seats_used"],
        2
    );
    // Joining a group assigned to a full profile is refused, and nothing changes.
    let r = join(&app, &g, &u[2]).await;
    conflict(&r, "quota_exceeded");
    assert!(
        r.body["detail"].as_str().unwrap().contains("Team"),
        "{}",
        r.body
    );
    assert_eq!(
        app.get(&format!("/groups/{g}/members")).await.body["items"]
            .as_array()
            .map(|a| a.len()),
        Some(1)
    );
    // A seat holder joins freely: they take no new seat.
    assert_eq!(join(&app, &g, &u[1]).await.status, StatusCode::CREATED);
    // Assigning a group whose members do not fit is refused.
    let h = app.group("Newcomers").await;
    join(&app, &h, &u[3]).await;
    join(&app, &h, &u[4]).await;
    conflict(&seat_group(&app, &p, &h).await, "quota_exceeded");
    assert_eq!(
        app.get(&format!("/profiles/{p}/groups")).await.body["items"]
            .as_array()
            .map(|a| a.len()),
        Some(1)
    );

    // Lowering the quota below the seats in use is refused; raising it frees seats.
    let etag = app.get(&format!("/profiles/{p}")).await.etag();
    let r = app
        .send(
            Method::PATCH,
            &format!("/profiles/{p}"),
            Some(json!({ "seat_quota": 1 })),
            &[("if-match", etag.as_str())],
        )
        .await;
    conflict(&r, "seats_in_use");
    let r = app
        .send(
            Method::PATCH,
            &format!("/profiles/{p}"),
            Some(json!({ "seat_quota": 4 })),
            &[("if-match", etag.as_str())],
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(
        (r.body["seats_used"].as_i64(), r.body["seats_free"].as_i64()),
        (Some(2), Some(2))
    );
    assert_eq!(seat_group(&app, &p, &h).await.status, StatusCode::CREATED);
    assert_eq!(
        app.get(&format!("/profiles/{p}")).await.body["seats_free"],
        0
    );
    let r = app
        .patch(&format!("/profiles/{p}"), json!({ "seat_quota": null }))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.body["seat_quota"], Value::Null);
    assert_eq!(r.body["seats_free"], Value::Null);
    assert_eq!(join(&app, &g, &u[2]).await.status, StatusCode::CREATED);
    assert_eq!(
        app.get(&format!("/profiles/{p}")).await.body["seats_used"],
        5
    );

    // A quota of 0 admits nobody.
    let z = profile(&app, "cloud-project", "None", json!(0), json!([])).await;
    conflict(&seat(&app, &z, &u[0]).await, "quota_exceeded");
}

both!(concurrent_assignments_never_exceed_the_quota);
async fn concurrent_assignments_never_exceed_the_quota(b: Backend) {
    let app = spawn_app(b).await;
    let mut users = Vec::new();
    for i in 0..6 {
        users.push(app.user(&format!("r{i}@example.com")).await);
    }
    let p = profile(&app, "site-search", "One Seat", json!(1), json!([])).await;
    let g = app.group("Racers").await;
    assert_eq!(seat_group(&app, &p, &g).await.status, StatusCode::CREATED);
    // Half take a seat directly, half by joining the assigned group, all at once.
    let path = format!("/profiles/{p}/users");
    let member_path = format!("/groups/{g}/members");
    let futures: Vec<_> = users
        .iter()
        .enumerate()
        .map(|(i, u)| {
            let path = if i % 2 == 0 { &path } else { &member_path };
            app.post(path, json!({ "user_id": u }))
        })
        .collect();
    let replies = futures::future::join_all(futures).await;
    let created = replies
        .iter()
        .filter(|r| r.status == StatusCode::CREATED)
        .count();
    assert_eq!(
        created,
        1,
        "{:?}",
        replies.iter().map(|r| &r.body).collect::<Vec<_>>()
    );
    assert!(replies
        .iter()
        .all(|r| r.status == StatusCode::CREATED || r.status == StatusCode::CONFLICT));
    assert_eq!(
        app.get(&format!("/profiles/{p}")).await.body["seats_used"],
        1
    );
}

both!(quick_views_add_up);
async fn quick_views_add_up(b: Backend) {
    let app = spawn_app(b).await;
    let u1 = app.user("one@example.com").await;
    let u2 = app.user("two@example.com").await;
    let a = profile(&app, "site-search", "A Team", json!(5), json!([])).await;
    let bp = profile(&app, "site-search", "B Team", Value::Null, json!([])).await;
    let c = profile(&app, "cloud-project", "Cloud", json!(3), json!([])).await;
    let g = app.group("Search people").await;
    join(&app, &g, &u1).await;
    assert_eq!(seat(&app, &a, &u1).await.status, StatusCode::CREATED);
    assert_eq!(seat(&app, &a, &u2).await.status, StatusCode::CREATED);
    assert_eq!(seat_group(&app, &bp, &g).await.status, StatusCode::CREATED);
    assert_eq!(seat(&app, &c, &u2).await.status, StatusCode::CREATED);

    let r = app.get(&format!("/users/{u1}/products")).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let items = r.body["items"].as_array().unwrap();
    assert_eq!(items.len(), 2, "{}", r.body);
    let direct = items
        .iter()
        .find(|i| i["profile_id"] == a.as_str())
        .unwrap();
    assert_eq!(
        (direct["via"].as_str(), direct["application"].as_str()),
        (Some("direct"), Some("site-search"))
    );
    let through = items
        .iter()
        .find(|i| i["profile_id"] == bp.as_str())
        .unwrap();
    assert_eq!(through["via"], "group");
    assert_eq!(through["group_id"], g.as_str());
    assert_eq!(through["group_name"], "Search people");
    assert_eq!(through["profile_name"], "B Team");
    assert_eq!(r.body["applications"], json!(["site-search"]));
    assert_eq!(
        app.get(&format!("/users/{u2}/products")).await.body["applications"],
        json!(["cloud-project", "site-search"])
    );

    let r = app.get("/applications/site-search/profiles").await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let items = r.body["items"].as_array().unwrap();
    assert_eq!(items.len(), 2);
    assert_eq!(
        (
            items[0]["name"].as_str(),
            items[0]["seats_used"].as_i64(),
            items[0]["seats_free"].as_i64()
        ),
        (Some("A Team"), Some(2), Some(3))
    );
    assert_eq!(
        (items[1]["name"].as_str(), items[1]["seats_used"].as_i64()),
        (Some("B Team"), Some(1))
    );
    assert_eq!(items[1]["seats_free"], Value::Null);

    assert_eq!(
        app.get("/profiles").await.body["items"]
            .as_array()
            .map(|a| a.len()),
        Some(4),
        "three made here and Commerce as a Cloud Service's Default"
    );
    let r = app.get("/profiles?application=cloud-project").await;
    assert_eq!(r.body["items"][0]["id"], c.as_str());
    assert_eq!(r.body["items"].as_array().map(|a| a.len()), Some(1));

    let r = app.get("/products").await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let find = |key: &str| {
        r.body["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|i| i["application"] == key)
            .cloned()
            .unwrap()
    };
    let search = find("site-search");
    assert_eq!(search["gated"], true);
    assert_eq!(search["profiles"], 2);
    assert_eq!(search["seats_used"], 3);
    assert_eq!(search["seats_total"], Value::Null, "B Team is unlimited");
    assert_eq!(search["licensed_users"], 2);
    let cloud = find("cloud-project");
    assert_eq!(
        (
            cloud["profiles"].as_i64(),
            cloud["seats_used"].as_i64(),
            cloud["seats_total"].as_i64()
        ),
        (Some(1), Some(1), Some(3))
    );
    let commerce = find("commerce-admin");
    assert_eq!(commerce["gated"], false);
    assert_eq!(commerce["profiles"], 0);
    assert_eq!(commerce["seats_used"], 0);
}

both!(profiles_validate_their_input);
async fn profiles_validate_their_input(b: Backend) {
    let app = spawn_app(b).await;
    let r = app
        .post("/profiles", json!({ "application": "nope", "name": "X" }))
        .await;
    assert_eq!(
        r.field_errors(),
        vec![("application".to_string(), "unknown_application".to_string())]
    );
    let cloud_role = app.role_id("cloud-project", "Viewer").await;
    let admins = app.role_id("site-search", "Administrators").await;
    let own = app.role("site-search", "Own", json!([]), json!([])).await;
    let r = app
        .post(
            "/profiles",
            json!({
                "application": "site-search",
                "name": "",
                "seat_quota": -1,
                "roles": [cloud_role, admins, "00000000-0000-0000-0000-000000000000", "nope", own]
            }),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    let errors = r.field_errors();
    for expected in [
        ("name", "required"),
        ("seat_quota", "range"),
        ("roles[0]", "other_application"),
        ("roles[1]", "builtin_role"),
        ("roles[2]", "unknown_role"),
        ("roles[3]", "uuid"),
    ] {
        assert!(
            errors.contains(&(expected.0.to_string(), expected.1.to_string())),
            "{expected:?} in {}",
            r.body
        );
    }
    assert_eq!(errors.len(), 6, "{}", r.body);
    let r = app
        .post(
            "/profiles",
            json!({ "application": "site-search", "name": "x".repeat(101) }),
        )
        .await;
    assert_eq!(
        r.field_errors(),
        vec![("name".to_string(), "max_length".to_string())]
    );
    let left: Vec<Value> = app.get("/profiles").await.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|p| p["application"] != "commerce-cloud-service")
        .cloned()
        .collect();
    assert!(
        left.is_empty(),
        "nothing was created besides the shipped Default: {left:?}"
    );

    let p = profile(&app, "site-search", "Standard", json!(3), json!([own, own])).await;
    let got = app.get(&format!("/profiles/{p}")).await;
    assert_eq!(got.body["roles"], json!([own]), "duplicates collapse");
    assert_eq!(got.etag(), "\"1\"");
    let r = app
        .post(
            "/profiles",
            json!({ "application": "site-search", "name": "STANDARD" }),
        )
        .await;
    assert_eq!(
        r.field_errors(),
        vec![("name".to_string(), "unique".to_string())]
    );
    profile(&app, "cloud-project", "Standard", Value::Null, json!([])).await;

    // Updates: the bundle is checked against the profile's application; versions guard writes.
    let r = app
        .patch(&format!("/profiles/{p}"), json!({ "roles": [cloud_role] }))
        .await;
    assert_eq!(
        r.field_errors(),
        vec![("roles[0]".to_string(), "other_application".to_string())]
    );
    let r = app
        .patch(&format!("/profiles/{p}"), json!({ "seat_quota": -5 }))
        .await;
    assert_eq!(
        r.field_errors(),
        vec![("seat_quota".to_string(), "range".to_string())]
    );
    let r = app
        .send(
            Method::PATCH,
            &format!("/profiles/{p}"),
            Some(json!({ "description": "Search for everyone", "roles": [] })),
            &[("if-match", "\"1\"")],
        )
        .await;
    assert_eq!(
        (r.status, r.etag()),
        (StatusCode::OK, "\"2\"".to_string()),
        "{}",
        r.body
    );
    assert_eq!(r.body["roles"], json!([]));
    assert_eq!(r.body["seat_quota"], 3, "absent fields are left alone");
    let r = app
        .send(
            Method::PATCH,
            &format!("/profiles/{p}"),
            Some(json!({ "name": "Other" })),
            &[("if-match", "\"1\"")],
        )
        .await;
    assert_eq!(r.status, StatusCode::PRECONDITION_FAILED);
    let r = app
        .patch(&format!("/profiles/{p}"), json!({ "bogus": 1 }))
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);

    // Assignments name existing users and groups; unknown profiles are 404.
    let r = seat(&app, &p, "00000000-0000-0000-0000-000000000000").await;
    assert_eq!(
        r.field_errors(),
        vec![("user_id".to_string(), "unknown_user".to_string())]
    );
    let r = seat(&app, &p, "nope").await;
    assert_eq!(
        r.field_errors(),
        vec![("user_id".to_string(), "uuid".to_string())]
    );
    let r = seat_group(&app, &p, "00000000-0000-0000-0000-000000000000").await;
    assert_eq!(
        r.field_errors(),
        vec![("group_id".to_string(), "unknown_group".to_string())]
    );
    let u = app.user("jane@example.com").await;
    for path in [
        "/profiles/00000000-0000-0000-0000-000000000000".to_string(),
        "/profiles/nope".to_string(),
        "/profiles/00000000-0000-0000-0000-000000000000/users".to_string(),
        format!("/profiles/{p}/users/{u}"),
        "/users/00000000-0000-0000-0000-000000000000/products".to_string(),
    ] {
        let r = if path.ends_with(&u) {
            app.delete(&path).await
        } else {
            app.get(&path).await
        };
        assert_eq!(r.status, StatusCode::NOT_FOUND, "{path}: {}", r.body);
    }
    let r = app.get("/profiles?application=nope").await;
    assert_eq!(
        r.field_errors(),
        vec![("application".to_string(), "unknown_application".to_string())]
    );
    // In the path, an unknown application is an unknown object (issue 10).
    let r = app.get("/applications/nope/profiles").await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
}

both!(deleting_a_profile_leaves_users_groups_and_roles);
async fn deleting_a_profile_leaves_users_groups_and_roles(b: Backend) {
    let app = spawn_app(b).await;
    let u = app.user("jane@example.com").await;
    let v = app.user("vic@example.com").await;
    let r = app
        .role(
            "site-search",
            "Reporter",
            json!([{ "resource": "reports", "actions": ["view"] }]),
            json!([]),
        )
        .await;
    let g = app.group("Readers").await;
    join(&app, &g, &v).await;
    let p = profile(&app, "site-search", "Reports", json!(10), json!([r])).await;
    seat(&app, &p, &u).await;
    seat_group(&app, &p, &g).await;
    assert_eq!(
        app.decide(&u, "site-search", "reports", Some("view"), None)
            .await,
        "allow"
    );
    assert_eq!(
        app.decide(&v, "site-search", "reports", Some("view"), None)
            .await,
        "allow"
    );
    let users = app.get(&format!("/profiles/{p}/users")).await;
    assert_eq!(users.body["items"][0]["id"], u.as_str());
    let groups = app.get(&format!("/profiles/{p}/groups")).await;
    assert_eq!(groups.body["items"][0]["id"], g.as_str());

    let r2 = app
        .send(
            Method::DELETE,
            &format!("/profiles/{p}"),
            None,
            &[("if-match", "\"7\"")],
        )
        .await;
    assert_eq!(r2.status, StatusCode::PRECONDITION_FAILED);
    assert_eq!(
        app.delete(&format!("/profiles/{p}")).await.status,
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        app.get(&format!("/profiles/{p}")).await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(app.get(&format!("/users/{u}")).await.status, StatusCode::OK);
    assert_eq!(app.get(&format!("/users/{v}")).await.status, StatusCode::OK);
    assert_eq!(
        app.get(&format!("/groups/{g}")).await.status,
        StatusCode::OK
    );
    assert_eq!(app.get(&format!("/roles/{r}")).await.status, StatusCode::OK);
    assert_eq!(
        app.get(&format!("/groups/{g}/members")).await.body["items"][0]["id"],
        v.as_str()
    );
    // The application is open again: roles alone decide (and nobody holds Reporter).
    assert_eq!(
        explain(&app, &u, "site-search", "reports", "view").await["reason"],
        "no_role"
    );
    assert_eq!(
        app.get(&format!("/users/{u}/products")).await.body["items"],
        json!([])
    );

    // Deleting a user, group or role elsewhere cleans their profile rows.
    let q = profile(&app, "site-search", "Again", json!(10), json!([r])).await;
    seat(&app, &q, &u).await;
    seat_group(&app, &q, &g).await;
    assert_eq!(
        app.get(&format!("/profiles/{q}")).await.body["seats_used"],
        2
    );
    assert_eq!(
        app.delete(&format!("/users/{u}")).await.status,
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        app.get(&format!("/profiles/{q}")).await.body["seats_used"],
        1
    );
    assert_eq!(
        app.delete(&format!("/roles/{r}")).await.status,
        StatusCode::NO_CONTENT
    );
    let got = app.get(&format!("/profiles/{q}")).await;
    assert_eq!(
        got.body["roles"],
        json!([]),
        "the deleted role left the bundle"
    );
    assert_eq!(got.etag(), "\"2\"", "and the profile's version moved");
    assert_eq!(
        app.delete(&format!("/groups/{g}")).await.status,
        StatusCode::NO_CONTENT
    );
    let got = app.get(&format!("/profiles/{q}")).await;
    assert_eq!(got.body["seats_used"], 0);
    assert_eq!(
        app.get(&format!("/profiles/{q}/groups")).await.body["items"],
        json!([])
    );
    assert_eq!(
        explain(&app, &v, "site-search", "reports", "view").await["reason"],
        "no_licence"
    );
}

both!(joining_a_group_checks_both_what_it_carries_and_its_seats);
/// Joining a group reads the group's own roles and its profiles in one query (and the seat
/// check reuses that query's profile ids): each half must still refuse on its own, and a
/// membership added twice is added once.
async fn joining_a_group_checks_both_what_it_carries_and_its_seats(b: Backend) {
    let app = spawn_app(b).await;
    let jane = app.user("jane@example.com").await;
    let bob = app.user("bob@example.com").await;
    let carol = app.user("carol@example.com").await;
    let sales = app.commerce_role("Sales", "Magento_Sales::sales").await;
    let catalog = app
        .commerce_role("Catalog", "Magento_Catalog::catalog")
        .await;
    let r = app
        .post(&format!("/users/{jane}/roles"), json!({ "role_id": sales }))
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);

    // The group's own role: one role per user in commerce-admin.
    let own = app.group("Catalog team").await;
    let r = app
        .post(
            &format!("/groups/{own}/roles"),
            json!({ "role_id": catalog }),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let r = join(&app, &own, &jane).await;
    conflict(&r, "one_role_per_user");
    assert!(
        r.body["detail"]
            .as_str()
            .unwrap_or_default()
            .contains("Sales"),
        "{}",
        r.body
    );

    // A role through the group's profile: the same rule.
    let bundled = profile(
        &app,
        "commerce-admin",
        "Catalogue desk",
        json!(null),
        json!([catalog]),
    )
    .await;
    let through = app.group("Catalogue desk users").await;
    assert_eq!(
        seat_group(&app, &bundled, &through).await.status,
        StatusCode::CREATED
    );
    conflict(&join(&app, &through, &jane).await, "one_role_per_user");

    // A group with a role of another application and a full profile: the seat refuses.
    let viewer = app.role_id("cloud-project", "Viewer").await;
    let one_seat = profile(&app, "site-search", "One seat", json!(1), json!([])).await;
    assert_eq!(
        seat(&app, &one_seat, &carol).await.status,
        StatusCode::CREATED
    );
    let full = app.group("Search team").await;
    let r = app
        .post(
            &format!("/groups/{full}/roles"),
            json!({ "role_id": viewer }),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    assert_eq!(
        seat_group(&app, &one_seat, &full).await.status,
        StatusCode::CREATED
    );
    conflict(&join(&app, &full, &bob).await, "quota_exceeded");
    let members = app.get(&format!("/groups/{full}/members")).await;
    assert_eq!(
        members.body["items"].as_array().map(Vec::len),
        Some(0),
        "{}",
        members.body
    );

    // Nothing in the way: joined once, and a second join adds nothing.
    let roomy = profile(&app, "site-search", "Roomy", json!(10), json!([])).await;
    let fine = app.group("Viewers").await;
    let r = app
        .post(
            &format!("/groups/{fine}/roles"),
            json!({ "role_id": viewer }),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    assert_eq!(
        seat_group(&app, &roomy, &fine).await.status,
        StatusCode::CREATED
    );
    assert_eq!(join(&app, &fine, &bob).await.status, StatusCode::CREATED);
    assert_eq!(join(&app, &fine, &bob).await.status, StatusCode::OK);
    let members = app.get(&format!("/groups/{fine}/members")).await;
    assert_eq!(
        members.body["items"].as_array().map(Vec::len),
        Some(1),
        "{}",
        members.body
    );
    assert_eq!(
        app.decide(&bob, "cloud-project", "project", Some("view"), None)
            .await,
        "allow"
    );
}

both!(the_last_two_profiles_deleted_at_once_are_judged_as_the_last);
/// Deleting an application's last profile lifts its licence gate, which changes the access of
/// everyone holding its roles without a seat. Before, on PostgreSQL, two deletions at once each
/// counted the other profile as remaining, so a product admin could lift the gate over their own
/// upstream admin's access without that being judged.
async fn the_last_two_profiles_deleted_at_once_are_judged_as_the_last(b: Backend) {
    let app = spawn_app(b).await;
    app.without_2fa().await;
    let upstream = app.signed_in("upstream@example.com", false).await;
    let product = json!({ "kind": "product", "application": "site-search" });
    let r = app
        .post(
            &format!("/users/{}/admin-rights", upstream.id),
            product.clone(),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let admin = app.signed_in("admin@example.com", false).await;
    let r = app
        .send_as(
            &upstream.token,
            Method::POST,
            &format!("/api/v1/organizations/acme/users/{}/admin-rights", admin.id),
            Some(product),
            &[],
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    // The upstream admin holds a search role but no seat: the gate keeps them out.
    let admins = app.role_id("site-search", "Administrators").await;
    let r = app
        .post(
            &format!("/users/{}/roles", upstream.id),
            json!({ "role_id": admins }),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    for round in 0..5 {
        let p1 = profile(
            &app,
            "site-search",
            &format!("A{round}"),
            Value::Null,
            json!([]),
        )
        .await;
        let p2 = profile(
            &app,
            "site-search",
            &format!("B{round}"),
            Value::Null,
            json!([]),
        )
        .await;
        let delete = |p: String| {
            let (app, token) = (&app, admin.token.clone());
            async move {
                app.send_as(
                    &token,
                    Method::DELETE,
                    &format!("/api/v1/organizations/acme/profiles/{p}"),
                    None,
                    &[],
                )
                .await
                .status
            }
        };
        let (a, c) = tokio::join!(delete(p1), delete(p2));
        assert!(
            !(a.is_success() && c.is_success()),
            "round {round}: both deletions went through ({a}, {c})"
        );
        let left = app.get("/profiles?application=site-search").await.body;
        assert!(
            !left["items"].as_array().unwrap().is_empty(),
            "round {round}: {left}"
        );
        // Clear what is left for the next round (the operator answers to no one).
        for p in left["items"].as_array().unwrap() {
            let id = p["id"].as_str().unwrap();
            assert!(app
                .delete(&format!("/profiles/{id}"))
                .await
                .status
                .is_success());
        }
    }
}
