//! Issue 10, seed rules: long e-mails as usernames, one role per user on every path, keeping an
//! administrator, role names per application, seats of active and invited users only, and the
//! seed systems shipped in the catalogue.

use crate::both;
use crate::helpers::{spawn_app, Backend, TestApp};
use reqwest::StatusCode;
use serde_json::{json, Value};

/// (status, problem code, detail) of a reply.
fn problem(r: &crate::helpers::Reply) -> (StatusCode, String, String) {
    (
        r.status,
        r.body["code"].as_str().unwrap_or_default().to_string(),
        r.body["detail"].as_str().unwrap_or_default().to_string(),
    )
}

async fn created(app: &TestApp, path: &str, body: Value) -> String {
    let r = app.post(path, body).await;
    assert!(r.status.is_success(), "{path}: {} {}", r.status, r.body);
    r.body["id"].as_str().unwrap_or_default().to_string()
}

async fn group_with(app: &TestApp, name: &str, role: &str) -> String {
    let g = app.group(name).await;
    let r = app
        .post(&format!("/groups/{g}/roles"), json!({ "role_id": role }))
        .await;
    assert!(r.status.is_success(), "{}", r.body);
    g
}

async fn join(app: &TestApp, group: &str, user: &str) -> crate::helpers::Reply {
    app.post(
        &format!("/groups/{group}/members"),
        json!({ "user_id": user }),
    )
    .await
}

async fn assign(app: &TestApp, user: &str, role: &str) -> crate::helpers::Reply {
    app.post(&format!("/users/{user}/roles"), json!({ "role_id": role }))
        .await
}

both!(a_long_email_alone_adds_a_user_and_signs_in);
async fn a_long_email_alone_adds_a_user_and_signs_in(b: Backend) {
    let app = spawn_app(b).await;
    app.without_2fa().await;
    let long = "firstname.lastname.department@subsidiary.example.com";
    let r = app.post("/users", json!({ "email": long })).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    assert_eq!(
        r.body["username"], long,
        "the username defaults to the e-mail"
    );
    let id = r.body["id"].as_str().unwrap().to_string();

    let invited = "another.person.procurement@subsidiary.example.com";
    let r = app.post("/invitations", json!({ "email": invited })).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);

    // Sign-in by username or e-mail keeps working, with an explicit username too.
    let password = "Tr0ub4dor&3-lantern-orbit";
    let r = app
        .put(
            &format!("/users/{id}/password"),
            json!({ "password": password }),
        )
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.body);
    assert_eq!(app.sign_in(long, password).await.status, StatusCode::OK);
    let r = app
        .post(
            "/users",
            json!({ "email": "second.person.department@subsidiary.example.com", "username": "nina" }),
        )
        .await;
    let nina = r.body["id"].as_str().unwrap().to_string();
    app.put(
        &format!("/users/{nina}/password"),
        json!({ "password": password }),
    )
    .await;
    for login in ["nina", "second.person.department@subsidiary.example.com"] {
        assert_eq!(
            app.sign_in(login, password).await.status,
            StatusCode::OK,
            "{login}"
        );
    }

    // Errors name the field that is wrong.
    let r = app
        .post(
            "/users",
            json!({ "email": "x@example.com", "username": "u".repeat(257) }),
        )
        .await;
    assert_eq!(r.field_errors(), [("username".into(), "max_length".into())]);
    let r = app
        .post(
            "/users",
            json!({ "email": "y@example.com", "username": "a b" }),
        )
        .await;
    assert_eq!(
        r.field_errors(),
        [("username".into(), "username_syntax".into())]
    );
    let r = app
        .post(
            "/users",
            json!({ "email": format!("{}@example.com", "a".repeat(65)) }),
        )
        .await;
    assert_eq!(
        r.field_errors(),
        [("email".into(), "email_local_part".into())]
    );
}

both!(one_role_per_user_holds_on_every_path);
async fn one_role_per_user_holds_on_every_path(b: Backend) {
    let app = spawn_app(b).await;
    let m = "commerce-admin";
    let sales = app
        .role(
            m,
            "Sales",
            json!([{ "resource": "Magento_Sales::sales" }]),
            json!([]),
        )
        .await;
    let content = app
        .role(
            m,
            "Content",
            json!([{ "resource": "Magento_Cms::page" }]),
            json!([]),
        )
        .await;

    // Direct, then a group carrying another role.
    let jane = app.user("jane@example.com").await;
    assert_eq!(
        assign(&app, &jane, &sales).await.status,
        StatusCode::CREATED
    );
    let editors = group_with(&app, "Editors", &content).await;
    let (status, code, detail) = problem(&join(&app, &editors, &jane).await);
    assert_eq!(
        (status, code.as_str()),
        (StatusCode::CONFLICT, "one_role_per_user")
    );
    assert!(
        detail.contains("jane@example.com already holds Sales (directly)"),
        "{detail}"
    );
    assert!(
        detail.contains("Content (through group Editors)"),
        "{detail}"
    );
    // The same role another way is still one role; other applications are not concerned.
    let sellers = group_with(&app, "Sellers", &sales).await;
    assert!(join(&app, &sellers, &jane).await.status.is_success());
    let viewer = app.role_id("cloud-project", "Viewer").await;
    let contributor = app.role_id("cloud-project", "Contributor").await;
    assert!(assign(&app, &jane, &viewer).await.status.is_success());
    assert!(assign(&app, &jane, &contributor).await.status.is_success());

    // Through a group, then a direct role.
    let max = app.user("max@example.com").await;
    assert!(join(&app, &editors, &max).await.status.is_success());
    let (status, _, detail) = problem(&assign(&app, &max, &sales).await);
    assert_eq!(status, StatusCode::CONFLICT);
    assert!(
        detail.contains("already holds Content (through group Editors)"),
        "{detail}"
    );
    // Two groups each carrying one.
    let (status, _, _) = problem(&join(&app, &sellers, &max).await);
    assert_eq!(status, StatusCode::CONFLICT);
    // A role added to a group reaches every member.
    let (status, code, detail) = problem(
        &app.post(
            &format!("/groups/{editors}/roles"),
            json!({ "role_id": sales }),
        )
        .await,
    );
    assert_eq!(
        (status, code.as_str()),
        (StatusCode::CONFLICT, "one_role_per_user")
    );
    assert!(detail.contains("max@example.com"), "{detail}");

    // Profiles: a seat bundling a role plus a direct role is two roles.
    let bundle_sales = created(
        &app,
        "/profiles",
        json!({ "application": m, "name": "Sales desk", "roles": [sales] }),
    )
    .await;
    let (status, _, detail) = problem(
        &app.post(
            &format!("/profiles/{bundle_sales}/users"),
            json!({ "user_id": max }),
        )
        .await,
    );
    assert_eq!(status, StatusCode::CONFLICT);
    assert!(
        detail.contains("Sales (through profile Sales desk)"),
        "{detail}"
    );
    let (status, _, _) = problem(
        &app.post(
            &format!("/profiles/{bundle_sales}/groups"),
            json!({ "group_id": editors }),
        )
        .await,
    );
    assert_eq!(
        status,
        StatusCode::CONFLICT,
        "a group whose members hold Content"
    );
    let lea = app.user("lea@example.com").await;
    assert!(app
        .post(
            &format!("/profiles/{bundle_sales}/users"),
            json!({ "user_id": lea })
        )
        .await
        .status
        .is_success());
    let (status, _, detail) = problem(&assign(&app, &lea, &content).await);
    assert_eq!(status, StatusCode::CONFLICT);
    assert!(
        detail.contains("Sales (through profile Sales desk)"),
        "{detail}"
    );
    // Changing a bundle changes what every seat holder holds.
    let empty = created(
        &app,
        "/profiles",
        json!({ "application": m, "name": "Empty" }),
    )
    .await;
    assert!(app
        .post(
            &format!("/profiles/{empty}/users"),
            json!({ "user_id": max })
        )
        .await
        .status
        .is_success());
    let (status, _, detail) = problem(
        &app.patch(&format!("/profiles/{empty}"), json!({ "roles": [sales] }))
            .await,
    );
    assert_eq!(status, StatusCode::CONFLICT);
    assert!(
        detail.contains("max@example.com already holds Content"),
        "{detail}"
    );
    let r = app
        .patch(&format!("/profiles/{empty}"), json!({ "roles": [content] }))
        .await;
    assert_eq!(
        r.status,
        StatusCode::OK,
        "the role Max holds anyway: {}",
        r.body
    );
    // A bundle of two roles of a one-role application is refused outright.
    let r = app
        .post(
            "/profiles",
            json!({ "application": m, "name": "Both", "roles": [sales, content] }),
        )
        .await;
    assert_eq!(
        r.field_errors(),
        [("roles".into(), "one_role_per_user".into())]
    );

    // Whatever path was tried, nobody holds two commerce-admin roles.
    for user in [&jane, &max, &lea] {
        let held = app.get(&format!("/users/{user}/roles")).await.body;
        let mut roles: Vec<&str> = held["items"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|h| h["application"] == m)
            .filter_map(|h| h["role_id"].as_str())
            .collect();
        roles.sort();
        roles.dedup();
        assert!(roles.len() <= 1, "{user}: {held}");
    }
}

both!(concurrent_paths_never_give_two_roles);
async fn concurrent_paths_never_give_two_roles(b: Backend) {
    let app = spawn_app(b).await;
    let m = "commerce-admin";
    let mut groups = Vec::new();
    let mut roles = Vec::new();
    for i in 0..4 {
        let role = app
            .role(
                m,
                &format!("R{i}"),
                json!([{ "resource": "Magento_Sales::sales" }]),
                json!([]),
            )
            .await;
        groups.push(group_with(&app, &format!("G{i}"), &role).await);
        roles.push(role);
    }
    for round in 0..3 {
        let user = app.user(&format!("u{round}@example.com")).await;
        let (a, b2, c, d) = tokio::join!(
            assign(&app, &user, &roles[0]),
            join(&app, &groups[1], &user),
            join(&app, &groups[2], &user),
            assign(&app, &user, &roles[3]),
        );
        let ok = [a, b2, c, d]
            .iter()
            .filter(|r| r.status.is_success())
            .count();
        assert_eq!(ok, 1, "exactly one of four concurrent second roles wins");
        let held = app.get(&format!("/users/{user}/roles")).await.body;
        assert_eq!(held["items"].as_array().unwrap().len(), 1, "{held}");
    }
}

both!(the_last_administrator_of_commerce_admin_stays);
async fn the_last_administrator_of_commerce_admin_stays(b: Backend) {
    let app = spawn_app(b).await;
    let admins = app.role_id("commerce-admin", "Administrators").await;
    // A fresh organisation has no holder, and that is allowed: giving it is the first step.
    let jane = app.user("jane@example.com").await;
    assert_eq!(
        assign(&app, &jane, &admins).await.status,
        StatusCode::CREATED
    );

    let unassign = app.delete(&format!("/users/{jane}/roles/{admins}")).await;
    let (status, code, detail) = problem(&unassign);
    assert_eq!(
        (status, code.as_str()),
        (StatusCode::CONFLICT, "last_administrator")
    );
    assert!(
        detail.contains("only jane@example.com (directly) holds it"),
        "{detail}"
    );
    let (status, code, _) = problem(
        &app.patch(&format!("/users/{jane}"), json!({ "status": "inactive" }))
            .await,
    );
    assert_eq!(
        (status, code.as_str()),
        (StatusCode::CONFLICT, "last_administrator")
    );
    let (status, code, _) = problem(&app.delete(&format!("/users/{jane}")).await);
    assert_eq!(
        (status, code.as_str()),
        (StatusCode::CONFLICT, "last_administrator")
    );
    // Offboarding is removal too (before: it went through and left no holder).
    for mode in ["deactivate", "delete"] {
        let (status, code, _) = problem(
            &app.post(&format!("/users/{jane}/offboard"), json!({ "mode": mode }))
                .await,
        );
        assert_eq!(
            (status, code.as_str()),
            (StatusCode::CONFLICT, "last_administrator"),
            "{mode}"
        );
    }
    assert_eq!(
        app.get(&format!("/users/{jane}")).await.body["status"],
        "active"
    );

    // Through a group: another holder lets Jane go; then the group is the last way.
    let ops = group_with(&app, "Ops", &admins).await;
    let max = app.user("max@example.com").await;
    assert!(join(&app, &ops, &max).await.status.is_success());
    assert_eq!(
        app.delete(&format!("/users/{jane}/roles/{admins}"))
            .await
            .status,
        StatusCode::NO_CONTENT
    );
    let (status, _, detail) = problem(&app.delete(&format!("/groups/{ops}/members/{max}")).await);
    assert_eq!(status, StatusCode::CONFLICT);
    assert!(
        detail.contains("max@example.com (through group Ops)"),
        "{detail}"
    );
    let (status, _, _) = problem(&app.delete(&format!("/groups/{ops}/roles/{admins}")).await);
    assert_eq!(status, StatusCode::CONFLICT);
    let (status, _, _) = problem(&app.delete(&format!("/groups/{ops}")).await);
    assert_eq!(status, StatusCode::CONFLICT);
    // An inactive holder does not count.
    assert!(assign(&app, &jane, &admins).await.status.is_success());
    assert!(app
        .patch(&format!("/users/{jane}"), json!({ "status": "inactive" }))
        .await
        .status
        .is_success());
    let (status, _, _) = problem(&app.delete(&format!("/groups/{ops}")).await);
    assert_eq!(status, StatusCode::CONFLICT);
    assert!(app
        .patch(&format!("/users/{jane}"), json!({ "status": "active" }))
        .await
        .status
        .is_success());
    assert_eq!(
        app.delete(&format!("/groups/{ops}")).await.status,
        StatusCode::NO_CONTENT
    );

    // Two holders removed at once: one of the two requests must lose.
    assert!(assign(&app, &max, &admins).await.status.is_success());
    let (jane_path, max_path) = (format!("/users/{jane}"), format!("/users/{max}"));
    let (a, c) = tokio::join!(
        app.patch(&jane_path, json!({ "status": "inactive" })),
        app.patch(&max_path, json!({ "status": "inactive" })),
    );
    assert_eq!(
        [a.status, c.status]
            .iter()
            .filter(|s| s.is_success())
            .count(),
        1,
        "{} {}",
        a.body,
        c.body
    );

    // An application that does not ask for it lets its last holder go.
    let cloud = app.role_id("cloud-project", "Administrators").await;
    let lea = app.user("lea@example.com").await;
    assert!(assign(&app, &lea, &cloud).await.status.is_success());
    assert_eq!(
        app.delete(&format!("/users/{lea}/roles/{cloud}"))
            .await
            .status,
        StatusCode::NO_CONTENT
    );
}

both!(role_names_follow_their_application);
async fn role_names_follow_their_application(b: Backend) {
    let app = spawn_app(b).await;
    let r = app
        .post(
            "/roles",
            json!({ "application": "commerce-admin", "name": "  Store Managers (EU) " }),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    assert_eq!(r.body["name"], "Store Managers (EU)", "trimmed");
    let r = app
        .post(
            "/roles",
            json!({ "application": "commerce-admin", "name": "store managers (eu)" }),
        )
        .await;
    assert_eq!(r.field_errors(), [("name".into(), "unique".into())]);
    let r = app
        .post(
            "/roles",
            json!({ "application": "commerce-admin", "name": "Admin\u{202E}nimda" }),
        )
        .await;
    assert_eq!(
        r.field_errors(),
        [("name".into(), "role_name_printable".into())]
    );
    // Seed 002's system keeps its syntax.
    let r = app
        .post(
            "/roles",
            json!({ "application": "site-search", "name": "Public Relations" }),
        )
        .await;
    assert_eq!(
        r.field_errors(),
        [("name".into(), "role_name_syntax".into())]
    );
    assert_eq!(
        app.post(
            "/roles",
            json!({ "application": "site-search", "name": "PR" })
        )
        .await
        .status,
        StatusCode::CREATED
    );
    // The cloud roles as seed 001 writes them.
    let names: Vec<String> = app.get("/roles?application=cloud-project").await.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["name"].as_str().unwrap().to_string())
        .collect();
    assert!(names.contains(&"Project Admin".to_string()), "{names:?}");
    assert!(!names.contains(&"Project-Admin".to_string()), "{names:?}");
}

both!(an_existing_store_renames_project_admin_in_place);
async fn an_existing_store_renames_project_admin_in_place(b: Backend) {
    let app = spawn_app(b).await;
    let id = app.role_id("cloud-project", "Project Admin").await;
    let jane = app.user("jane@example.com").await;
    assert!(assign(&app, &jane, &id).await.status.is_success());
    // What a database written by an earlier version holds.
    let db = &app.server.dir.db;
    sqlx::query(&rolecall::store::sql_for(
        db.backend,
        "UPDATE roles SET name = 'Project-Admin', name_key = 'project-admin' WHERE id = $1",
    ))
    .bind(&id)
    .execute(&db.pool)
    .await
    .unwrap();
    // The next start syncs the catalogue into every organisation.
    let clock = std::sync::Arc::new(crate::helpers::TestClock::default());
    let reopened = rolecall::directory::Directory::open(db.clone(), clock, vec![])
        .await
        .expect("reopen");
    let org = reopened.org("acme").await.unwrap();
    let roles = reopened
        .list_roles(&org, Some("cloud-project"), None)
        .await
        .unwrap();
    let admins: Vec<_> = roles
        .iter()
        .filter(|r| r.name.as_str().to_lowercase().starts_with("project"))
        .collect();
    assert_eq!(admins.len(), 1, "renamed, not duplicated: {roles:?}");
    assert_eq!(admins[0].name.as_str(), "Project Admin");
    assert_eq!(admins[0].id.to_string(), id, "same role, same id");
    let held = app.get(&format!("/users/{jane}/roles")).await.body;
    assert!(
        held.to_string().contains(&id),
        "the assignment stays: {held}"
    );
}

both!(seats_count_only_active_and_invited_users);
async fn seats_count_only_active_and_invited_users(b: Backend) {
    let app = spawn_app(b).await;
    let p = created(
        &app,
        "/profiles",
        json!({ "application": "cloud-project", "name": "Two seats", "seat_quota": 2 }),
    )
    .await;
    let seat = |u: String| {
        let app = &app;
        let p = p.clone();
        async move {
            app.post(&format!("/profiles/{p}/users"), json!({ "user_id": u }))
                .await
        }
    };
    let active = app.user("active@example.com").await;
    let r = app
        .post("/invitations", json!({ "email": "invited@example.com" }))
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let invited = r.body["user"]["id"].as_str().unwrap().to_string();
    let third = app.user("third@example.com").await;
    assert!(seat(active.clone()).await.status.is_success());
    assert!(seat(invited.clone()).await.status.is_success());
    assert_eq!(
        problem(&seat(third.clone()).await).1,
        "quota_exceeded",
        "invited users count"
    );

    // Deactivated: no seat, in every view and in the quota.
    assert!(app
        .patch(&format!("/users/{active}"), json!({ "status": "inactive" }))
        .await
        .status
        .is_success());
    let view = app.get(&format!("/profiles/{p}")).await.body;
    assert_eq!(
        (view["seats_used"].as_i64(), view["seats_free"].as_i64()),
        (Some(1), Some(1))
    );
    let products = app.get("/products").await.body;
    let cloud = products["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|x| x["application"] == "cloud-project")
        .cloned()
        .unwrap();
    assert_eq!(
        (
            cloud["seats_used"].as_i64(),
            cloud["licensed_users"].as_i64()
        ),
        (Some(1), Some(1))
    );
    assert!(
        seat(third.clone()).await.status.is_success(),
        "the freed seat is taken"
    );
    // Coming back takes a seat again: refused while the profile is full.
    let r = app
        .patch(&format!("/users/{active}"), json!({ "status": "active" }))
        .await;
    assert_eq!(problem(&r).1, "quota_exceeded", "{}", r.body);
    // Deleted users hold nothing.
    assert_eq!(
        app.delete(&format!("/users/{third}")).await.status,
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        app.get(&format!("/profiles/{p}")).await.body["seats_used"],
        1
    );
    assert!(app
        .patch(&format!("/users/{active}"), json!({ "status": "active" }))
        .await
        .status
        .is_success());
    assert_eq!(
        app.get(&format!("/profiles/{p}")).await.body["seats_used"],
        2
    );
}

both!(every_seed_system_exists_out_of_the_box);
async fn every_seed_system_exists_out_of_the_box(b: Backend) {
    let app = spawn_app(b).await;
    let apps = app.get("/api/v1/applications").await.body.to_string();
    for key in [
        "commerce-admin",
        "cloud-project",
        "site-search",
        "spryker-back-office",
        "commerce-cloud-service",
    ] {
        assert!(apps.contains(key), "{key} in {apps}");
    }

    // Seed 003: roles through groups, sections x view/add/edit, agent assist.
    let s = "spryker-back-office";
    let content = app.role_id(s, "Content Manager").await;
    let agent = app.role_id(s, "Agent Assist").await;
    let jane = app.user("jane@example.com").await;
    let (status, code, _) = problem(&assign(&app, &jane, &content).await);
    assert_eq!(
        (status, code.as_str()),
        (StatusCode::CONFLICT, "roles_through_groups")
    );
    let editors = group_with(&app, "Content editors", &content).await;
    assert!(join(&app, &editors, &jane).await.status.is_success());
    assert_eq!(
        app.decide(&jane, s, "content:pages", Some("add"), None)
            .await,
        "allow"
    );
    assert_eq!(
        app.decide(&jane, s, "catalog:products", Some("view"), None)
            .await,
        "allow"
    );
    assert_eq!(
        app.decide(&jane, s, "catalog:products", Some("edit"), None)
            .await,
        "deny"
    );
    assert_eq!(
        app.decide(&jane, s, "agent-assist:impersonate", Some("assist"), None)
            .await,
        "deny"
    );
    let agents = group_with(&app, "Agents", &agent).await;
    let max = app.user("max@example.com").await;
    assert!(join(&app, &agents, &max).await.status.is_success());
    assert_eq!(
        app.decide(&max, s, "agent-assist:impersonate", Some("assist"), None)
            .await,
        "allow"
    );

    // Seed 000: the product with its Default profile; Users through a seat, Admins beside.
    let c = "commerce-cloud-service";
    let profiles = app.get(&format!("/profiles?application={c}")).await.body;
    let default = profiles["items"][0].clone();
    assert_eq!(default["name"], "Default", "{profiles}");
    let users_role = app.role_id(c, "Users").await;
    assert_eq!(default["roles"], json!([users_role]));
    app.role_id(c, "Admins").await;
    let pid = default["id"].as_str().unwrap();
    assert_eq!(
        app.decide(&jane, c, "cloud-manager:instances", Some("create"), None)
            .await,
        "deny",
        "no seat, no product"
    );
    assert!(app
        .post(
            &format!("/profiles/{pid}/users"),
            json!({ "user_id": jane })
        )
        .await
        .status
        .is_success());
    assert_eq!(
        app.decide(&jane, c, "cloud-manager:instances", Some("create"), None)
            .await,
        "allow"
    );
    assert_eq!(
        app.decide(&jane, c, "product-access", Some("edit"), None)
            .await,
        "deny"
    );
}

both!(the_demo_shows_every_seed_system);
async fn the_demo_shows_every_seed_system(b: Backend) {
    let tmp = tempfile::tempdir().unwrap();
    let config = crate::helpers::config_for(b, tmp.path()).await;
    let db = rolecall::store::Db::connect(config.database_url.as_deref(), tmp.path())
        .await
        .unwrap();
    let dir = rolecall::directory::Directory::open(
        db,
        std::sync::Arc::new(crate::helpers::TestClock::default()),
        vec![],
    )
    .await
    .unwrap();
    let sample = rolecall::sample::create(&dir)
        .await
        .expect("the demo builds");
    let org = dir.org(&sample.org_slug).await.unwrap();
    let users = dir
        .list_users(
            &org,
            &rolecall::directory::UserListRequest {
                per_page: 100,
                ..Default::default()
            },
        )
        .await
        .unwrap()
        .items;
    let id_of = |email: &str| {
        users
            .iter()
            .find(|u| u.email.as_str() == email)
            .map(|u| u.id)
            .unwrap()
    };
    let (sam, eve) = (id_of("sam@acme.example"), id_of("eve@acme.example"));
    let snapshot = dir.snapshot(org.id).await.unwrap();
    let allowed = |user, app: &str, resource: &str, action: &str| {
        snapshot
            .snapshot
            .check(&user, app, resource, Some(action), None)
            .is_ok_and(|d| d == rolecall_core::authz::Decision::Allow)
    };
    assert!(allowed(
        sam,
        "spryker-back-office",
        "agent-assist:impersonate",
        "assist"
    ));
    assert!(allowed(
        eve,
        "commerce-cloud-service",
        "cloud-manager:instances",
        "create"
    ));
    assert!(!allowed(
        sam,
        "commerce-cloud-service",
        "cloud-manager:instances",
        "create"
    ));
}
