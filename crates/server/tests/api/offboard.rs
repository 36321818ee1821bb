//! Offboarding in one step (issue 11): everything withdrawn in one transaction, reported and
//! recorded field by field; deletion leaves a tombstone with the names as they were; the
//! owner and last-System-admin rails and the rights rule hold, and a refusal changes nothing.

use crate::both;
use crate::helpers::{spawn_app, Backend, TestApp};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

/// A person holding something of every kind: a session, a direct seat in `Direct`, a seat in
/// `Team` through group `Team`, a direct role, a role through the group, the System admin and a
/// product admin right, and an API credential they created. Returns (id, session token, group).
async fn well_connected(app: &TestApp) -> (String, String, String) {
    let person = app.signed_in("ola@acme.example", true).await;
    let id = person.id.clone();
    let group = app.group("Team").await;
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
        (format!("/groups/{group}/members"), json!({"user_id": id})),
        (format!("/groups/{group}/roles"), json!({"role_id": viewer})),
        (format!("/users/{id}/roles"), json!({"role_id": editor})),
        (
            format!("/users/{id}/admin-rights"),
            json!({"kind": "product", "application": "cloud-project"}),
        ),
    ] {
        let r = app.post(&path, body).await;
        assert!(r.status.is_success(), "{path}: {}", r.body);
    }
    for (name, who) in [("Direct", "users"), ("Team", "groups")] {
        let r = app
            .post(
                "/profiles",
                json!({"application": "commerce-admin", "name": name, "seat_quota": 5, "roles": [editor]}),
            )
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
        let p = r.body["id"].as_str().unwrap().to_string();
        let body = if who == "users" {
            json!({"user_id": id})
        } else {
            json!({"group_id": group})
        };
        let r = app.post(&format!("/profiles/{p}/{who}"), body).await;
        assert!(r.status.is_success(), "{}", r.body);
    }
    let r = app
        .send_as(
            &person.token,
            Method::POST,
            "/credentials",
            Some(json!({"name": "erp-sync"})),
            &[],
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    (id, person.token, group)
}

fn names(v: &Value, key: &str) -> Vec<String> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|x| x[key].as_str().unwrap().to_string())
        .collect()
}

async fn deactivating_withdraws_everything_and_reports_it(b: Backend) {
    let app = spawn_app(b).await;
    app.without_2fa().await;
    let (boss, _) = app.person("boss@acme.example", true).await;
    let (id, token, group) = well_connected(&app).await;
    let path = format!("/users/{id}/offboard");

    let r = app.post(&path, json!({"mode": "deactivate"})).await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.body);
    assert_eq!(r.body["code"], "creator_has_credentials");
    let r = app
        .post(
            &path,
            json!({"mode": "deactivate", "credentials": "transfer"}),
        )
        .await;
    assert_eq!(
        r.field_errors(),
        [("transfer_to".to_string(), "required".to_string())]
    );
    let r = app
        .post(
            &path,
            json!({"mode": "deactivate", "credentials": "transfer", "transfer_to": id}),
        )
        .await;
    assert_eq!(
        r.field_errors(),
        [(
            "transfer_to".to_string(),
            "active_person_required".to_string()
        )]
    );
    assert_eq!(
        app.get(&format!("/users/{id}")).await.body["status"],
        "active",
        "nothing half-done"
    );

    let r = app
        .post(
            &path,
            json!({"mode": "deactivate", "credentials": "transfer", "transfer_to": boss}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let report = r.body;
    assert_eq!(report["email"], "ola@acme.example");
    assert_eq!(
        (
            report["status_before"].clone(),
            report["status_after"].clone()
        ),
        (json!("active"), json!("inactive"))
    );
    assert_eq!(report["sessions_ended"], 1);
    assert_eq!(names(&report["seats_released"], "profile_name"), ["Direct"]);
    assert_eq!(
        names(&report["seats_through_groups"], "profile_name"),
        ["Team"]
    );
    assert_eq!(report["seats_through_groups"][0]["group_name"], "Team");
    assert_eq!(names(&report["groups_kept_void"], "name"), ["Team"]);
    assert!(report["groups_removed"].as_array().unwrap().is_empty());
    let mut kept_roles = names(&report["roles_kept_void"], "role_name");
    kept_roles.sort();
    assert_eq!(kept_roles, ["Editor", "Viewer"]);
    let mut rights: Vec<String> = report["admin_rights_removed"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            format!(
                "{} {}",
                r["kind"].as_str().unwrap(),
                r["target"].as_str().unwrap()
            )
        })
        .collect();
    rights.sort();
    assert_eq!(rights, ["product cloud-project", "system "]);
    assert_eq!(report["credentials"][0]["name"], "erp-sync");
    assert_eq!(report["credentials"][0]["outcome"], "transferred");
    assert_eq!(report["credentials"][0]["transferred_to"], boss.as_str());
    assert_eq!(report["invitations_withdrawn"], 0);

    // The state agrees with the report.
    assert_eq!(
        app.get(&format!("/users/{id}")).await.body["status"],
        "inactive"
    );
    assert_eq!(
        app.send_as(&token, Method::GET, "/api/v1/me", None, &[])
            .await
            .status,
        StatusCode::UNAUTHORIZED,
        "the session ended"
    );
    assert!(
        app.get(&format!("/users/{id}/admin-rights")).await.body["items"]
            .as_array()
            .unwrap()
            .is_empty()
    );
    let members = app.get(&format!("/groups/{group}/members")).await.body;
    assert_eq!(
        members["items"].as_array().unwrap().len(),
        1,
        "kept, void: {members}"
    );
    let creds = app.get("/credentials").await.body;
    assert_eq!(creds["items"][0]["created_by_user"], boss.as_str());

    // And the log holds the same report, field by field.
    let log = app
        .get(&format!("/audit?target={id}&action=user_offboarded"))
        .await
        .body;
    let entry = &log["items"][0];
    assert_eq!(
        entry["changes"]["status"],
        json!({"before": "active", "after": "inactive"})
    );
    assert_eq!(
        entry["changes"]["sessions"],
        json!({"before": 1, "after": 0})
    );
    assert_eq!(entry["changes"]["admin_rights"]["after"], json!([]));
    assert_eq!(
        entry["changes"]["admin_rights"]["before"]
            .as_array()
            .unwrap()
            .len(),
        2
    );
    assert_eq!(
        entry["changes"]["api_credentials"]["after"][0]["outcome"],
        "transferred"
    );
    assert_eq!(entry["changes"]["groups"]["after"][0]["name"], "Team");
    let transferred = app.get("/audit?action=credential_transferred").await.body;
    assert_eq!(transferred["items"].as_array().unwrap().len(), 1);
}
both!(deactivating_withdraws_everything_and_reports_it);

async fn deleting_leaves_a_tombstone_with_the_names(b: Backend) {
    let app = spawn_app(b).await;
    app.without_2fa().await;
    app.person("boss@acme.example", true).await;
    let (id, _, group) = well_connected(&app).await;
    let r = app
        .patch(
            &format!("/users/{id}"),
            json!({"first_name": "Ola", "last_name": "Nordmann"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let r = app
        .post(
            &format!("/users/{id}/offboard"),
            json!({"mode": "delete", "credentials": "revoke"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.body["status_after"], "deleted");
    assert_eq!(names(&r.body["groups_removed"], "name"), ["Team"]);
    assert_eq!(r.body["roles_removed"].as_array().unwrap().len(), 2);
    assert_eq!(r.body["credentials"][0]["outcome"], "revoked");
    assert_eq!(
        app.get(&format!("/users/{id}")).await.status,
        StatusCode::GONE
    );
    assert!(
        app.get(&format!("/groups/{group}/members")).await.body["items"]
            .as_array()
            .unwrap()
            .is_empty()
    );
    let row = sqlx::query(&rolecall::store::sql_for(
        app.server.dir.db.backend,
        "SELECT email, first_name, last_name FROM deleted_users WHERE id = $1",
    ))
    .bind(&id)
    .fetch_one(&app.server.dir.db.pool)
    .await
    .unwrap();
    let got: (String, String, String) = (
        sqlx::Row::get(&row, 0),
        sqlx::Row::get(&row, 1),
        sqlx::Row::get(&row, 2),
    );
    assert_eq!(
        got,
        ("ola@acme.example".into(), "Ola".into(), "Nordmann".into())
    );
    // "Who did this?" years later: the log still names them.
    let log = app.get(&format!("/audit?target={id}")).await.body;
    assert_eq!(log["items"][0]["action"], "user_offboarded");
    assert_eq!(log["items"][0]["target"]["name"], "ola@acme.example");
    assert_eq!(app.get("/audit/verify").await.body["ok"], true);
}
both!(deleting_leaves_a_tombstone_with_the_names);

async fn rails_and_rights_refuse_and_change_nothing(b: Backend) {
    let app = spawn_app(b).await;
    app.without_2fa().await;
    let org = app.server.dir.org("acme").await.unwrap();
    let (owner, _) = app
        .server
        .dir
        .bootstrap_admin(&org, "owner@acme.example", None)
        .await
        .unwrap();
    let r = app
        .post(
            &format!("/users/{}/offboard", owner.id),
            json!({"mode": "delete"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.body);
    assert_eq!(
        app.get(&format!("/users/{}", owner.id)).await.body["status"],
        "active"
    );

    // A product admin may not remove people; a System admin must re-verify who they are.
    let product = app.signed_in("pa@acme.example", false).await;
    let r = app
        .post(
            &format!("/users/{}/admin-rights", product.id),
            json!({"kind": "product", "application": "commerce-admin"}),
        )
        .await;
    assert!(r.status.is_success(), "{}", r.body);
    let target = app.user("leaver@acme.example").await;
    let path = format!("/users/{target}/offboard");
    let r = app
        .send_as(
            &product.token,
            Method::POST,
            &path,
            Some(json!({"mode": "deactivate"})),
            &[],
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let sysadmin = app.signed_in("sa@acme.example", true).await;
    app.clock.advance_secs(600);
    let r = app
        .send_as(
            &sysadmin.token,
            Method::POST,
            &path,
            Some(json!({"mode": "deactivate"})),
            &[],
        )
        .await;
    assert_eq!(r.body["code"], "reverification_required", "{}", r.body);
    let r = app
        .send_as(
            &sysadmin.token,
            Method::POST,
            &path,
            Some(json!({"mode": "deactivate"})),
            &[("x-rolecall-password", sysadmin.password.as_str())],
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    // Nobody offboards themselves (the rights rule guards the actor's own access).
    let r = app
        .send_as(
            &sysadmin.token,
            Method::POST,
            &format!("/users/{}/offboard", sysadmin.id),
            Some(json!({"mode": "deactivate"})),
            &[("x-rolecall-password", sysadmin.password.as_str())],
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.body);
    let r = app.post(&path, json!({"mode": "retire"})).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(r.field_errors()[0].0, "mode");
    let r = app
        .post(
            &format!("/users/{}/offboard", uuid::Uuid::new_v4()),
            json!({"mode": "delete"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
}
both!(rails_and_rights_refuse_and_change_nothing);

async fn an_invited_person_loses_the_invitation(b: Backend) {
    let app = spawn_app(b).await;
    let r = app
        .post(
            "/users",
            json!({"email": "new@acme.example", "status": "invited"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let id = r.body["id"].as_str().unwrap().to_string();
    let r = app
        .post(
            &format!("/users/{id}/offboard"),
            json!({"mode": "deactivate"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.body["invitations_withdrawn"], 1);
    assert_eq!(r.body["status_before"], "invited");
}
both!(an_invited_person_loses_the_invitation);

both!(a_reset_link_from_before_the_offboarding_stays_dead);
/// Before: a reset link mailed before an offboarding still set a password, which worked again
/// the day the person was reactivated; and a deactivated person's token was accepted.
async fn a_reset_link_from_before_the_offboarding_stays_dead(b: Backend) {
    let app = spawn_app(b).await;
    let (id, _) = app.person("leaver@acme.example", false).await;
    let ask = || {
        app.send_as(
            "",
            Method::POST,
            "/password-reset",
            Some(json!({ "email": "leaver@acme.example" })),
            &[],
        )
    };
    assert_eq!(ask().await.status, StatusCode::ACCEPTED);
    let token = crate::owner_takeover::reset_token(&app, "leaver@acme.example", 1).await;
    let r = app
        .post(
            &format!("/users/{id}/offboard"),
            json!({ "mode": "deactivate" }),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let r = app
        .patch(&format!("/users/{id}"), json!({ "status": "active" }))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let confirm = |token: String| {
        app.send_as(
            "",
            Method::POST,
            "/password-reset/confirm",
            Some(json!({ "token": token, "new_password": "Brand-New-Horse-Battery-8" })),
            &[],
        )
    };
    let r = confirm(token).await;
    assert!(
        r.body.to_string().contains("reset_token_invalid"),
        "{}",
        r.body
    );
    // While deactivated, even a fresh token cannot be used.
    assert_eq!(ask().await.status, StatusCode::ACCEPTED);
    let fresh = crate::owner_takeover::reset_token(&app, "leaver@acme.example", 2).await;
    let r = app
        .patch(&format!("/users/{id}"), json!({ "status": "inactive" }))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let r = confirm(fresh).await;
    assert!(
        r.body.to_string().contains("reset_token_invalid"),
        "{}",
        r.body
    );
}
