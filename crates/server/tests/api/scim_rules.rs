//! Issue 14: SCIM changes obey the same rules as the API — the provisioning column of the
//! matrix, the creator guarded, the owner and last-System-admin rails, deprovisioning settings,
//! identity-provider-owned attributes — and the protocol's ETags, discovery, paging, bulk and
//! rate limit.

use crate::both;
use crate::helpers::{spawn_app, Backend, TestApp};
use crate::scim_helpers::{patch_op, scim_client, Scim};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

async fn provision(scim: &Scim<'_>, name: &str) -> String {
    let r = scim
        .post(
            "/Users",
            json!({"userName": name, "emails": [{"value": name, "type": "work", "primary": true}]}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    r.id()
}

async fn deactivate(scim: &Scim<'_>, id: &str) -> crate::scim_helpers::ScimReply {
    scim.patch(
        &format!("/Users/{id}"),
        patch_op(json!([{"op": "replace", "path": "active", "value": false}])),
    )
    .await
}

async fn outbox_to(app: &TestApp, recipient: &str) -> i64 {
    let sql = match app.config.database_url {
        Some(_) => "SELECT COUNT(*) FROM outbox WHERE recipient = $1",
        None => "SELECT COUNT(*) FROM outbox WHERE recipient = ?1",
    };
    let row: (i64,) = sqlx::query_as(sql)
        .bind(recipient)
        .fetch_one(&app.server.dir.db.pool)
        .await
        .unwrap();
    row.0
}

async fn set_provisioning(app: &TestApp, provisioning: Value) {
    let mut settings = app.get("/settings").await.body;
    settings["provisioning"] = provisioning;
    let r = app.put("/settings", settings).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
}

both!(a_scim_client_changes_membership_only_of_groups_it_created);
async fn a_scim_client_changes_membership_only_of_groups_it_created(b: Backend) {
    let app = spawn_app(b).await;
    let scim = scim_client(&app, "entra").await;
    let user = provision(&scim, "ann@contoso.example").await;
    let local = app.group("Local admins").await;
    let r = scim
        .patch(
            &format!("/Groups/{local}"),
            patch_op(json!([{"op": "add", "path": "members", "value": [{"value": user}]}])),
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.body);
    assert!(r.body["detail"]
        .as_str()
        .unwrap()
        .contains("not created by this SCIM client"));
    assert_eq!(
        scim.delete(&format!("/Groups/{local}")).await.status,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        app.get(&format!("/users?group={local}")).await.body["total"],
        0
    );

    // Its own group: the identity provider decides who is in it, rolecall what it carries.
    let gid = scim
        .post(
            "/Groups",
            json!({"displayName": "Sales", "members": [{"value": user}]}),
        )
        .await
        .id();
    assert_eq!(
        app.decide(&user, "cloud-project", "project", Some("view"), None)
            .await,
        "deny"
    );
    let viewer = app.role_id("cloud-project", "Viewer").await;
    let r = app
        .post(&format!("/groups/{gid}/roles"), json!({"role_id": viewer}))
        .await;
    assert!(r.status.is_success(), "{}", r.body);
    assert_eq!(
        app.decide(&user, "cloud-project", "project", Some("view"), None)
            .await,
        "allow"
    );
    let r = scim
        .patch(
            &format!("/Groups/{gid}"),
            patch_op(json!([{"op": "remove", "path": format!("members[value eq \"{user}\"]")}])),
        )
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.body);
    assert_eq!(
        app.decide(&user, "cloud-project", "project", Some("view"), None)
            .await,
        "deny",
        "provisioning membership is provisioning access"
    );
    // Another SCIM client of the organisation does not manage it either.
    let okta = scim_client(&app, "okta").await;
    let r = okta
        .patch(
            &format!("/Groups/{gid}"),
            patch_op(json!([{"op": "add", "path": "members", "value": [{"value": user}]}])),
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
}

both!(the_owner_and_the_last_system_admin_are_not_deprovisioned);
async fn the_owner_and_the_last_system_admin_are_not_deprovisioned(b: Backend) {
    let app = spawn_app(b).await;
    let scim = scim_client(&app, "entra").await;
    let (admin, _) = app.person("admin@acme.example", true).await;
    let r = deactivate(&scim, &admin).await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.body);
    assert!(
        r.body["detail"]
            .as_str()
            .unwrap()
            .to_lowercase()
            .contains("system admin"),
        "{}",
        r.body
    );
    assert_eq!(
        scim.delete(&format!("/Users/{admin}")).await.status,
        StatusCode::CONFLICT
    );
    let (second, _) = app.person("second@acme.example", true).await;
    let r = app.put("/owner", json!({"user_id": admin})).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let r = deactivate(&scim, &admin).await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.body);
    assert!(
        r.body["detail"].as_str().unwrap().contains("owner"),
        "{}",
        r.body
    );
    assert_eq!(
        app.get(&format!("/users/{admin}")).await.body["status"],
        "active"
    );
    // Not the last one and not the owner: deprovisioned like anyone.
    assert_eq!(deactivate(&scim, &second).await.status, StatusCode::OK);
}

both!(the_person_who_created_the_scim_client_is_out_of_its_reach);
async fn the_person_who_created_the_scim_client_is_out_of_its_reach(b: Backend) {
    let app = spawn_app(b).await;
    app.without_2fa().await;
    let creator = app.signed_in("it@acme.example", true).await;
    app.person("other-admin@acme.example", true).await;
    let r = app
        .send_as(
            &creator.token,
            Method::POST,
            "/scim-clients",
            Some(json!({"name": "entra"})),
            &[("x-rolecall-password", &creator.password)],
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let scim = Scim {
        app: &app,
        token: r.body["secret"].as_str().unwrap().to_string(),
        client_id: r.body["client"]["id"].as_str().unwrap().to_string(),
    };
    let r = deactivate(&scim, &creator.id).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.body);
    let gid = scim
        .post("/Groups", json!({"displayName": "Admins"}))
        .await
        .id();
    let r = scim
        .patch(
            &format!("/Groups/{gid}"),
            patch_op(json!([{"op": "add", "path": "members", "value": [{"value": creator.id}]}])),
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.body);
    // Others are provisioned as usual; its last use is listed.
    provision(&scim, "new@acme.example").await;
    let listed = app.get("/scim-clients").await;
    assert!(
        listed.body["items"][0]["last_used_at"].is_i64(),
        "{}",
        listed.body
    );
}

both!(a_scim_client_neither_redirects_nor_revives_an_administrator);
/// A SCIM client that could change an administrator's e-mail could mail itself their password
/// reset; one that could reactivate them would hand back rights an administrator took away.
async fn a_scim_client_neither_redirects_nor_revives_an_administrator(b: Backend) {
    let app = spawn_app(b).await;
    app.without_2fa().await;
    let scim = scim_client(&app, "entra").await;
    let (admin, _) = app.person("admin@acme.example", true).await;
    app.person("keeper@acme.example", true).await;
    let plain = provision(&scim, "pat@acme.example").await;
    let email = |to: &str| {
        patch_op(
            json!([{"op": "replace", "path": "emails", "value": [{"value": to, "type": "work", "primary": true}]}]),
        )
    };
    for body in [
        email("evil@attacker.example"),
        patch_op(json!([{"op": "replace", "path": "userName", "value": "evil"}])),
    ] {
        let r = scim.patch(&format!("/Users/{admin}"), body).await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.body);
        assert!(
            r.body["detail"].as_str().unwrap().contains("admin rights"),
            "{}",
            r.body
        );
    }
    let stored = app.get(&format!("/users/{admin}")).await.body;
    assert_eq!(stored["email"], "admin@acme.example", "{stored}");
    assert_eq!(stored["username"], "admin@acme.example", "{stored}");
    // The identity provider still takes access away, and still owns plain users' identities.
    let r = deactivate(&scim, &admin).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let r = scim
        .patch(&format!("/Users/{plain}"), email("pat.new@acme.example"))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    // Bringing the administrator back is a System admin's decision, however it is asked.
    let r = scim
        .patch(
            &format!("/Users/{admin}"),
            patch_op(json!([{"op": "Replace", "path": "active", "value": "True"}])),
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.body);
    let r = scim
        .put(
            &format!("/Users/{admin}"),
            json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "userName": "admin@acme.example",
                   "emails": [{"value": "admin@acme.example", "primary": true}]}),
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.body);
    assert_eq!(
        app.get(&format!("/users/{admin}")).await.body["status"],
        "inactive"
    );
    let r = app
        .patch(&format!("/users/{admin}"), json!({"status": "active"}))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
}

both!(a_reset_link_does_not_outlive_a_change_of_address);
async fn a_reset_link_does_not_outlive_a_change_of_address(b: Backend) {
    let app = spawn_app(b).await;
    app.without_2fa().await;
    let scim = scim_client(&app, "entra").await;
    let pat = provision(&scim, "pat@acme.example").await;
    let r = app
        .send_as(
            "",
            Method::POST,
            "/password-reset",
            Some(json!({ "email": "pat@acme.example" })),
            &[],
        )
        .await;
    assert_eq!(r.status, StatusCode::ACCEPTED, "{}", r.body);
    let token = crate::owner_takeover::reset_token(&app, "pat@acme.example", 1).await;
    let r = scim
        .patch(
            &format!("/Users/{pat}"),
            patch_op(json!([{"op": "replace", "path": "emails", "value": [{"value": "pat@elsewhere.example", "primary": true}]}])),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let r = app
        .send_as(
            "",
            Method::POST,
            "/password-reset/confirm",
            Some(json!({ "token": token, "new_password": "Brand-New-Horse-Battery-8" })),
            &[],
        )
        .await;
    assert!(r.status.is_client_error(), "{}", r.body);
    assert!(
        r.body.to_string().contains("reset_token_invalid"),
        "{}",
        r.body
    );
}

both!(deprovisioning_follows_the_organisation_settings);
async fn deprovisioning_follows_the_organisation_settings(b: Backend) {
    let app = spawn_app(b).await;
    app.without_2fa().await;
    let scim = scim_client(&app, "entra").await;
    app.person("keeper@acme.example", true).await;
    // A person who created an API credential: deprovisioning revokes it (default), no 409.
    let p = app.signed_in("integrator@acme.example", true).await;
    let r = app
        .send_as(
            &p.token,
            Method::POST,
            "/credentials",
            Some(json!({"name": "erp-sync"})),
            &[("x-rolecall-password", &p.password)],
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let cred = r.body["credential"]["id"].as_str().unwrap().to_string();
    let r = deactivate(&scim, &p.id).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert!(app.get(&format!("/credentials/{cred}")).await.body["revoked_at"].is_i64());
    // Sessions end at once.
    assert_eq!(
        app.send_as(&p.token, Method::GET, "/api/v1/me", None, &[])
            .await
            .status,
        StatusCode::UNAUTHORIZED
    );

    // Provisioned users get no removal mail and no invitation unless configured.
    let quiet = provision(&scim, "quiet@contoso.example").await;
    assert_eq!(
        app.get(&format!("/users/{quiet}")).await.body["status"],
        "active"
    );
    deactivate(&scim, &quiet).await;
    assert_eq!(outbox_to(&app, "quiet@contoso.example").await, 0);
    set_provisioning(&app, json!({"removal_mails": true, "invitations": true})).await;
    let told = provision(&scim, "told@contoso.example").await;
    assert_eq!(
        app.get(&format!("/users/{told}")).await.body["status"],
        "invited"
    );
    assert_eq!(
        scim.get(&format!("/Users/{told}")).await.body["active"],
        true
    );
    assert_eq!(
        outbox_to(&app, "told@contoso.example").await,
        1,
        "the invitation"
    );
    assert_eq!(
        scim.delete(&format!("/Users/{told}")).await.status,
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        outbox_to(&app, "told@contoso.example").await,
        2,
        "and the removal notice"
    );
}

both!(attributes_owned_by_the_identity_provider_are_not_edited_locally);
async fn attributes_owned_by_the_identity_provider_are_not_edited_locally(b: Backend) {
    let app = spawn_app(b).await;
    let scim = scim_client(&app, "entra").await;
    set_provisioning(
        &app,
        json!({"idp_owned": ["title", "status", "group_members"]}),
    )
    .await;
    let id = provision(&scim, "ann@contoso.example").await;
    let r = app
        .patch(
            &format!("/users/{id}"),
            json!({"title": "Boss", "first_name": "Ann"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    assert_eq!(r.field_errors(), vec![("title".into(), "idp_owned".into())]);
    let r = app
        .patch(&format!("/users/{id}"), json!({"status": "inactive"}))
        .await;
    assert_eq!(
        r.field_errors(),
        vec![("status".into(), "idp_owned".into())]
    );
    let r = app
        .patch(&format!("/users/{id}"), json!({"first_name": "Ann"}))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    // The identity provider still changes them.
    let r = scim
        .patch(
            &format!("/Users/{id}"),
            patch_op(json!([{"op": "replace", "path": "title", "value": "Boss"}])),
        )
        .await;
    assert_eq!(r.body["title"], "Boss");
    // Local users are not concerned.
    let local = app.user("local@acme.example").await;
    assert_eq!(
        app.patch(&format!("/users/{local}"), json!({"title": "x"}))
            .await
            .status,
        StatusCode::OK
    );
    let gid = scim
        .post("/Groups", json!({"displayName": "Sales"}))
        .await
        .id();
    let r = app
        .post(&format!("/groups/{gid}/members"), json!({"user_id": local}))
        .await;
    assert_eq!(
        r.field_errors(),
        vec![("members".into(), "idp_owned".into())]
    );
}

both!(versions_conditions_and_discovery);
async fn versions_conditions_and_discovery(b: Backend) {
    let app = spawn_app(b).await;
    let scim = scim_client(&app, "okta").await;
    let id = provision(&scim, "v@contoso.example").await;
    let r = scim.get(&format!("/Users/{id}")).await;
    let etag = r.header("etag");
    assert!(etag.starts_with("W/\""), "{etag}");
    let r = scim
        .send(
            Method::GET,
            &format!("/Users/{id}"),
            None,
            &[("if-none-match", &etag)],
        )
        .await;
    assert_eq!(r.status, StatusCode::NOT_MODIFIED);
    let title = patch_op(json!([{"op": "replace", "path": "title", "value": "t"}]));
    let r = scim
        .send(
            Method::PATCH,
            &format!("/Users/{id}"),
            Some(title.clone()),
            &[("if-match", "W/\"999\"")],
        )
        .await;
    assert_eq!(r.status, StatusCode::PRECONDITION_FAILED);
    let r = scim
        .send(
            Method::PATCH,
            &format!("/Users/{id}"),
            Some(title),
            &[("if-match", &etag)],
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_ne!(r.header("etag"), etag);
    let r = scim
        .send(
            Method::GET,
            &format!("/Users/{id}"),
            None,
            &[("if-none-match", &etag)],
        )
        .await;
    assert_eq!(r.status, StatusCode::OK);

    // Discovery: read-only, describing what is served.
    let spc = scim.get("/ServiceProviderConfig").await;
    assert_eq!(spc.body["patch"]["supported"], true);
    assert_eq!(spc.body["bulk"]["maxOperations"], 1000);
    let types = scim.get("/ResourceTypes").await;
    assert_eq!(types.body["totalResults"], 2);
    assert_eq!(
        scim.get("/ResourceTypes/User").await.body["endpoint"],
        "/Users"
    );
    let schemas = scim.get("/Schemas").await;
    assert_eq!(schemas.body["totalResults"], 3);
    let user_schema = scim
        .get("/Schemas/urn:ietf:params:scim:schemas:core:2.0:User")
        .await;
    let names: Vec<&str> = user_schema.body["attributes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["name"].as_str().unwrap())
        .collect();
    for n in [
        "userName",
        "emails",
        "addresses",
        "phoneNumbers",
        "timezone",
        "groups",
    ] {
        assert!(names.contains(&n), "{n}");
    }
    for path in ["/ServiceProviderConfig", "/Schemas", "/ResourceTypes"] {
        let r = scim.send(Method::POST, path, Some(json!({})), &[]).await;
        assert_eq!(r.status, StatusCode::METHOD_NOT_ALLOWED, "{path}");
        let r = scim.send(Method::DELETE, path, None, &[]).await;
        assert_eq!(r.status, StatusCode::METHOD_NOT_ALLOWED, "{path}");
    }
    // Only SCIM client tokens: the operator's is refused here.
    let r = app
        .client
        .get(format!("{}/scim/v2/Users", app.base))
        .bearer_auth(&app.token)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(r.headers()["content-type"], "application/scim+json");
    // Bad filters are 400 invalidFilter, never 500.
    for f in [
        "userName eq",
        "nosuch eq \"x\"",
        "active eq \"true\"",
        "title gt 5",
    ] {
        let r = scim
            .get(&format!(
                "/Users?filter={}",
                crate::scim_helpers::url_encode(f)
            ))
            .await;
        assert_eq!(
            (r.status, r.body["scimType"].as_str()),
            (StatusCode::BAD_REQUEST, Some("invalidFilter")),
            "{f}"
        );
    }
}

both!(paging_sorting_projection_and_search);
async fn paging_sorting_projection_and_search(b: Backend) {
    let app = spawn_app(b).await;
    let scim = scim_client(&app, "okta").await;
    for n in ["carol", "alice", "bob", "Dave", "erin"] {
        provision(&scim, &format!("{n}@contoso.example")).await;
    }
    scim.post("/Groups", json!({"displayName": "Everyone"}))
        .await;
    let r = scim.get("/Users?startIndex=2&count=2").await;
    assert_eq!(
        (
            r.body["totalResults"].as_u64(),
            r.body["itemsPerPage"].as_u64(),
            r.body["startIndex"].as_u64()
        ),
        (Some(5), Some(2), Some(2))
    );
    let r = scim
        .get("/Users?sortBy=userName&sortOrder=descending&attributes=userName")
        .await;
    let names: Vec<&str> = r.body["Resources"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["userName"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        [
            "erin@contoso.example",
            "Dave@contoso.example",
            "carol@contoso.example",
            "bob@contoso.example",
            "alice@contoso.example"
        ]
    );
    let first = &r.body["Resources"][0];
    assert!(
        first.get("emails").is_none() && first.get("id").is_some() && first.get("meta").is_some()
    );
    let r = scim.get("/Users?count=0").await;
    assert_eq!(
        (
            r.body["totalResults"].as_u64(),
            r.body["Resources"].as_array().map(Vec::len)
        ),
        (Some(5), Some(0))
    );
    let r = scim
        .get("/Users?excludedAttributes=emails&filter=userName%20sw%20%22d%22")
        .await;
    assert_eq!(r.body["totalResults"], 1);
    assert!(r.body["Resources"][0].get("emails").is_none());
    let search = json!({
        "schemas": ["urn:ietf:params:scim:api:messages:2.0:SearchRequest"],
        "filter": "userName co \"ar\" and not (userName sw \"b\")",
        "sortBy": "userName",
        "attributes": ["userName"]
    });
    let r = scim.post("/Users/.search", search.clone()).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let names: Vec<&str> = r.body["Resources"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["userName"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["carol@contoso.example"]);
    let root = scim
        .post("/.search", json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:SearchRequest"], "filter": "meta.created pr"}))
        .await;
    assert_eq!(root.body["totalResults"], 6, "users and groups");
    let g = scim.post("/Groups/.search", json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:SearchRequest"], "filter": "displayName eq \"everyone\""})).await;
    assert_eq!(g.body["totalResults"], 1);
}

both!(bulk_requests);
async fn bulk_requests(b: Backend) {
    let app = spawn_app(b).await;
    let scim = scim_client(&app, "okta").await;
    let r = scim
        .post(
            "/Bulk",
            json!({
                "schemas": ["urn:ietf:params:scim:api:messages:2.0:BulkRequest"],
                "failOnErrors": 1,
                "Operations": [
                    {"method": "POST", "path": "/Users", "bulkId": "u1", "data": {"userName": "bulk1@contoso.example"}},
                    {"method": "POST", "path": "/Groups", "bulkId": "g1", "data": {"displayName": "Bulk", "members": [{"value": "bulkId:u1"}]}},
                    {"method": "PATCH", "path": "/Users/bulkId:u1", "data": {"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"], "Operations": [{"op": "replace", "path": "title", "value": "Bulk"}]}},
                    {"method": "POST", "path": "/Users", "bulkId": "dup", "data": {"userName": "bulk1@contoso.example"}},
                    {"method": "POST", "path": "/Users", "bulkId": "never", "data": {"userName": "never@contoso.example"}}
                ]
            }),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let ops = r.body["Operations"].as_array().unwrap();
    let statuses: Vec<&str> = ops.iter().map(|o| o["status"].as_str().unwrap()).collect();
    assert_eq!(
        statuses,
        ["201", "201", "200", "409"],
        "failOnErrors stops after one error"
    );
    assert_eq!(ops[3]["response"]["scimType"], "uniqueness");
    let g = scim
        .get(
            ops[1]["location"]
                .as_str()
                .unwrap()
                .split("/scim/v2")
                .nth(1)
                .unwrap(),
        )
        .await;
    assert_eq!(g.body["members"][0]["display"], "bulk1@contoso.example");
    let many: Vec<Value> = (0..1001)
        .map(|i| json!({"method": "DELETE", "path": format!("/Users/{i}")}))
        .collect();
    let r = scim
        .post("/Bulk", json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:BulkRequest"], "Operations": many}))
        .await;
    assert_eq!(r.status, StatusCode::PAYLOAD_TOO_LARGE);
    let big = "x".repeat(1_100_000);
    let r = scim
        .post("/Bulk", json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:BulkRequest"], "Operations": [], "pad": big}))
        .await;
    assert_eq!(r.status, StatusCode::PAYLOAD_TOO_LARGE);
}

both!(a_per_organisation_rate_limit);
async fn a_per_organisation_rate_limit(b: Backend) {
    let app = spawn_app(b).await;
    set_provisioning(&app, json!({"requests_per_second": 25})).await;
    let scim = scim_client(&app, "entra").await;
    let mut limited = None;
    for _ in 0..120 {
        let r = scim.get("/Users?count=0").await;
        if r.status == StatusCode::TOO_MANY_REQUESTS {
            limited = Some(r);
            break;
        }
    }
    let r = limited.expect("a burst beyond twice the rate is refused");
    let wait: u64 = r.header("retry-after").parse().unwrap();
    assert!(wait >= 1);
    let low = app
        .put("/settings", {
            let mut s = app.get("/settings").await.body;
            s["provisioning"]["requests_per_second"] = json!(5);
            s
        })
        .await;
    assert_eq!(
        low.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "Entra needs at least 25 a second"
    );
}

both!(a_bulk_request_pays_for_each_operation);
/// Before: one token bought a thousand operations, each a transaction holding the writer.
async fn a_bulk_request_pays_for_each_operation(b: Backend) {
    let app = spawn_app(b).await;
    set_provisioning(&app, json!({"requests_per_second": 25})).await;
    let scim = scim_client(&app, "entra").await;
    let ops: Vec<Value> = (0..1000)
        .map(|n| json!({"method": "DELETE", "path": format!("/Users/00000000-0000-4000-8000-{n:012}")}))
        .collect();
    let r = scim
        .post(
            "/Bulk",
            json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:BulkRequest"], "Operations": ops}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let statuses: Vec<&str> = r.body["Operations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["status"].as_str().unwrap())
        .collect();
    assert_eq!(statuses.len(), 1000);
    let first_limited = statuses
        .iter()
        .position(|s| *s == "429")
        .expect("operations beyond the organisation's rate are refused");
    assert!(first_limited >= 1, "{statuses:?}");
    assert!(statuses[..first_limited].iter().all(|s| *s == "404"));
    assert!(statuses[first_limited..].iter().all(|s| *s == "429"));
}

both!(a_revoked_client_stops_within_its_bulk_request);
/// Before: a bulk request started before the revocation ran all its operations.
async fn a_revoked_client_stops_within_its_bulk_request(b: Backend) {
    let app = spawn_app(b).await;
    set_provisioning(&app, json!({"requests_per_second": 10000})).await;
    let scim = scim_client(&app, "entra").await;
    let ops: Vec<Value> = (0..1000)
        .map(|n| {
            json!({"method": "POST", "path": "/Users", "bulkId": format!("u{n}"),
                   "data": {"userName": format!("bulk{n}@acme.example"),
                            "emails": [{"value": format!("bulk{n}@acme.example"), "primary": true}]}})
        })
        .collect();
    let body = json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:BulkRequest"], "Operations": ops});
    let (r, _) = tokio::join!(scim.post("/Bulk", body), async {
        // A thousand creates take seconds; revoke while they run.
        tokio::time::sleep(std::time::Duration::from_millis(300)).await;
        let r = app
            .send_as(
                &app.token,
                Method::DELETE,
                &format!("/scim-clients/{}", scim.client_id),
                None,
                &[],
            )
            .await;
        assert!(r.status.is_success(), "{}", r.body);
    });
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let statuses: Vec<&str> = r.body["Operations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["status"].as_str().unwrap())
        .collect();
    let stop = statuses
        .iter()
        .position(|s| *s == "401")
        .expect("the revocation stops the request");
    assert!(statuses[..stop].iter().all(|s| *s == "201"), "{statuses:?}");
    assert!(statuses[stop..].iter().all(|s| *s == "401"));
    let users = app.get("/users?q=bulk").await.body["total"]
        .as_i64()
        .unwrap();
    assert_eq!(users, stop as i64);
}

both!(a_scim_address_country_becomes_the_country_code);
/// SCIM's `addresses[].country` is an ISO 3166-1 alpha-2 code (RFC 7643 §4.1.2): the primary
/// address's sets the user's country code (the Admin Console template's column); a country
/// sent as a name stays in the address and leaves the code alone.
async fn a_scim_address_country_becomes_the_country_code(b: Backend) {
    let app = spawn_app(b).await;
    let scim = scim_client(&app, "okta").await;
    let user = |country: &str| {
        json!({
            "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
            "userName": "sven@contoso.example",
            "emails": [{"value": "sven@contoso.example", "type": "work", "primary": true}],
            "addresses": [
                {"locality": "Oslo", "country": "NO", "type": "home"},
                {"locality": "Stockholm", "country": country, "type": "work", "primary": true}
            ]
        })
    };
    let r = scim.post("/Users", user("se")).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let id = r.id();
    let code = || {
        let id = id.clone();
        let app = &app;
        async move { app.get(&format!("/users/{id}")).await.body["country_code"].clone() }
    };
    assert_eq!(code().await, json!("SE"));
    let r = scim.put(&format!("/Users/{id}"), user("Sweden")).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(code().await, json!("SE"), "a name leaves the code alone");
    let r = scim.put(&format!("/Users/{id}"), user("DK")).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(code().await, json!("DK"));
}

/// PostgreSQL answers the identity providers' matching filters from an index (issue 14): the
/// translator compares text under `COLLATE "C"`, which only an index of that collation serves
/// (migration 0018). Sequential scans are turned off so the planner shows whether an index on
/// the filtered column exists at all; each filter must use the one made for it, not walk the
/// organisation through another index.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn matching_filters_use_an_index_on_postgres() {
    use rolecall::scim::columns::{GroupColumns, UserColumns};
    use rolecall_scim::sql::{to_sql_at, SqlValue};
    use rolecall_scim::Filter;
    let app = spawn_app(Backend::Postgres).await;
    app.user("seed@acme.example").await;
    app.group("Seed").await;
    let mut c = app.server.dir.db.pool.acquire().await.unwrap();
    // An organisation of 2,000 people and groups, with statistics, as the planner sees a real
    // one: copies of the seeds with their keys changed.
    for sql in [
        "INSERT INTO users SELECT (jsonb_populate_record(u, jsonb_build_object('id', u.id || '-' || g, \
         'username_key', 'p' || g || '@acme.example', 'email_key', 'p' || g || '@acme.example', \
         'external_id', 'e-' || g))).* FROM users u, generate_series(1, 2000) g WHERE u.email_key = 'seed@acme.example'",
        "INSERT INTO user_groups SELECT (jsonb_populate_record(x, jsonb_build_object('id', x.id || '-' || g, \
         'name_key', 'group ' || g, 'external_id', 'g-' || g))).* FROM user_groups x, generate_series(1, 2000) g WHERE x.name_key = 'seed'",
        "ANALYZE users",
        "ANALYZE user_groups",
        "SET enable_seqscan = off",
    ] {
        sqlx::Executor::execute(&mut *c, sql).await.unwrap();
    }
    let org: String =
        sqlx::query_scalar("SELECT org_id FROM users WHERE email_key = 'seed@acme.example'")
            .fetch_one(&mut *c)
            .await
            .unwrap();
    let users = UserColumns::new(rolecall::store::Backend::Postgres);
    let groups = GroupColumns::new(rolecall::store::Backend::Postgres);
    let cases: [(&str, &dyn rolecall_scim::ColumnMap, &str, &str); 5] = [
        (
            "userName eq \"Pat@Shop.example\"",
            &users,
            "users u",
            "users_username_c",
        ),
        (
            "externalId eq \"e-1\"",
            &users,
            "users u",
            "users_external_id_c",
        ),
        (
            "id eq \"6f1c2a52-9a7e-4c0e-8f52-2b0f2e1a9d11\"",
            &users,
            "users u",
            "users_id_c",
        ),
        (
            "displayName eq \"Buyers\"",
            &groups,
            "user_groups g",
            "user_groups_name_c",
        ),
        (
            "externalId eq \"g-1\"",
            &groups,
            "user_groups g",
            "user_groups_external_id_c",
        ),
    ];
    for (text, map, table, index) in cases {
        let filter = Filter::parse(text).unwrap();
        let sql = to_sql_at(&filter, map, 2).unwrap();
        // Inline the values: the plan is what matters, not the binding.
        let mut cond = sql.sql.clone();
        for (i, v) in sql.params.iter().enumerate().rev() {
            let SqlValue::Text(s) = v else {
                panic!("{text}: a text value expected")
            };
            cond = cond.replace(
                &format!("${}", i + 2),
                &format!("'{}'", s.replace('\'', "''")),
            );
        }
        let alias = table.split(' ').nth(1).unwrap();
        // Without the page's ORDER BY … LIMIT: on an empty table the planner may walk the
        // creation-order index to save a sort, which says nothing about the filter.
        let query =
            format!("EXPLAIN SELECT * FROM {table} WHERE {alias}.org_id = '{org}' AND ({cond})");
        let plan: Vec<String> = sqlx::query_scalar(&query).fetch_all(&mut *c).await.unwrap();
        let plan = plan.join("\n");
        assert!(plan.contains(index), "{text}: no {index} in\n{plan}");
    }
}
