//! The audit log (issue 11): every change recorded with actor, target and fields before and
//! after, never a secret; request ids; the hash chain catching edits, removals, swaps and
//! truncation made directly in the database; paging, filters, exports, retention, rights, and
//! one valid chain under concurrent writers on one and on two nodes.

use crate::both;
use crate::helpers::{spawn_app, start_server, Backend, TestApp};
use reqwest::{Method, StatusCode};
use rolecall::directory::Clock;
use rolecall_core::audit::{changes_text, Entry, Party};
use serde_json::{json, Value};

/// Entries about `target`, newest first.
async fn entries_about(app: &TestApp, target: &str) -> Vec<Value> {
    let r = app.get(&format!("/audit?target={target}&limit=1000")).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    r.body["items"].as_array().unwrap().clone()
}

fn actions(entries: &[Value]) -> Vec<String> {
    entries
        .iter()
        .rev()
        .map(|e| e["action"].as_str().unwrap().to_string())
        .collect()
}

async fn verify(app: &TestApp, org: &str) -> Value {
    let r = app
        .get(&format!("/api/v1/organizations/{org}/audit/verify"))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    r.body
}

async fn every_change_is_recorded_with_actor_target_and_fields(b: Backend) {
    let app = spawn_app(b).await;
    let user = app.user("nina@acme.example").await;
    let r = app
        .patch(
            &format!("/users/{user}"),
            json!({"first_name": "Nina", "locale": "fr_FR"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let group = app.group("Editors").await;
    let r = app
        .post(
            &format!("/groups/{group}/members"),
            json!({"user_id": user}),
        )
        .await;
    assert!(r.status.is_success(), "{}", r.body);
    let role = app.role_id("commerce-admin", "Administrators").await;
    // commerce-admin keeps an active Administrators holder (issue 10): Nina is not the last.
    let keeper = app.user("keeper@acme.example").await;
    for holder in [&keeper, &user] {
        let r = app
            .post(&format!("/users/{holder}/roles"), json!({"role_id": role}))
            .await;
        assert!(r.status.is_success(), "{}", r.body);
    }
    let r = app
        .patch(&format!("/users/{user}"), json!({"status": "inactive"}))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);

    let log = entries_about(&app, &user).await;
    assert_eq!(
        actions(&log),
        [
            "user_created",
            "user_updated",
            "member_added",
            "role_assigned",
            "user_deactivated"
        ]
    );
    let updated = &log[3];
    assert_eq!(updated["target"]["kind"], "user");
    assert_eq!(updated["target"]["name"], "nina@acme.example");
    assert_eq!(updated["actor"]["kind"], "token");
    assert_eq!(updated["actor"]["name"], "test bootstrap");
    assert_eq!(
        updated["changes"],
        json!({"first_name": {"before": "", "after": "Nina"}, "locale": {"before": "en_US", "after": "fr_FR"}})
    );
    assert_eq!(log[2]["changes"]["group"]["after"]["name"], "Editors");
    assert_eq!(log[1]["changes"]["role"]["after"]["name"], "Administrators");
    assert_eq!(
        log[0]["changes"]["status"],
        json!({"before": "active", "after": "inactive"})
    );
    let group_log = entries_about(&app, &group).await;
    assert_eq!(actions(&group_log), ["group_created"]);
    assert_eq!(group_log[0]["changes"]["name"]["after"], "Editors");
    assert_eq!(verify(&app, "acme").await["ok"], true);
}
both!(every_change_is_recorded_with_actor_target_and_fields);

async fn the_request_id_is_echoed_and_recorded(b: Backend) {
    let app = spawn_app(b).await;
    let r = app
        .send(
            Method::POST,
            "/groups",
            Some(json!({"name": "Ops"})),
            &[
                ("x-request-id", "trace-4711"),
                ("user-agent", "audit-test/1.0"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    assert_eq!(r.headers["x-request-id"], "trace-4711");
    let id = r.body["id"].as_str().unwrap().to_string();
    let e = &entries_about(&app, &id).await[0];
    assert_eq!(e["request_id"], "trace-4711");
    assert_eq!(e["user_agent"], "audit-test/1.0");
    assert_eq!(e["source_ip"], "127.0.0.1");
    // Without one, the server makes one up and still echoes it.
    let r = app.get("/users").await;
    let generated = r.headers["x-request-id"].to_str().unwrap();
    assert_eq!(generated.len(), 36, "a uuid: {generated}");
}
both!(the_request_id_is_echoed_and_recorded);

async fn no_secret_is_ever_recorded(b: Backend) {
    let app = spawn_app(b).await;
    app.without_2fa().await;
    let person = app.signed_in("sam@acme.example", true).await;
    let r = app.post("/credentials", json!({"name": "erp-sync"})).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let secret = r.body["secret"].as_str().unwrap().to_string();
    let r = app
        .send_as(
            &person.token,
            Method::POST,
            "/api/v1/me/password",
            Some(json!({"current_password": person.password, "new_password": "An0ther-long-passphrase!"})),
            &[],
        )
        .await;
    assert!(r.status.is_success(), "{}", r.body);
    let export = app.get("/audit/export").await;
    let text = export.body.as_str().unwrap().to_string();
    for secret_text in [
        person.password.as_str(),
        "An0ther-long-passphrase!",
        person.token.as_str(),
        secret.as_str(),
    ] {
        assert!(!text.contains(secret_text), "a secret reached the log");
    }
    assert!(!text.contains("password_hash"));
    assert!(text.contains("\"password_changed\""));
    assert!(text.contains("\"credential_created\""));
}
both!(no_secret_is_ever_recorded);

async fn auth_events_are_a_filter_of_the_log(b: Backend) {
    let app = spawn_app(b).await;
    let (id, _) = app.person("lee@acme.example", false).await;
    let r = app.sign_in("lee@acme.example", "wrong password").await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    let r = app.get(&format!("/auth-events?user={id}")).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let kinds: Vec<&str> = r.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["kind"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, ["sign_in_failed", "password_reset"]);
    assert_eq!(r.body["items"][0]["user_id"], id.as_str());
    // The same entry in the one log, with the person as actor; user changes are not auth events.
    let log = entries_about(&app, &id).await;
    assert_eq!(
        actions(&log),
        ["user_created", "password_reset", "sign_in_failed"]
    );
    assert_eq!(log[0]["actor"]["kind"], "person");
    assert_eq!(log[0]["actor"]["name"], "lee@acme.example");
}
both!(auth_events_are_a_filter_of_the_log);

/// The database keeps the chain linked by itself (migration 0016): a row that does not follow
/// the head, written by any code path or by hand, is refused and the head does not move.
async fn the_database_refuses_an_unlinked_entry(b: Backend) {
    let app = spawn_app(b).await;
    app.user("first@acme.example").await;
    let head = app.get("/api/v1/organizations/acme/audit/head").await.body;
    let seq = head["seq"].as_i64().unwrap();
    let hash = head["hash"].as_str().unwrap().to_string();
    let pool = &app.server.dir.db.pool;
    let org = app.server.dir.org("acme").await.unwrap().id.to_string();
    let insert = rolecall::store::sql_for(
        app.server.dir.db.backend,
        "INSERT INTO audit_log (org_id, seq, id, at, actor_kind, actor_id, actor_name, action, target_kind, target_id, target_name, changes, detail, source_ip, user_agent, request_id, prev_hash, hash) \
         VALUES ($1, $2, $3, 0, 'person', 'x', 'x', 'user_deleted', 'user', 'y', 'y', '{}', '', '', '', '', $4, $5)",
    );
    for (next, prev, what) in [
        (seq + 1, "00".repeat(32), "a wrong previous hash"),
        (seq + 2, hash.clone(), "a gap in the numbering"),
        (seq, hash.clone(), "a repeated number"),
    ] {
        let r = sqlx::query(&insert)
            .bind(&org)
            .bind(next)
            .bind(format!("forged-{next}"))
            .bind(&prev)
            .bind("ab".repeat(32))
            .execute(pool)
            .await;
        assert!(r.is_err(), "{what} was accepted");
    }
    // Several rows in one statement (how the log is appended): one bad link refuses them all,
    // wherever it is. PostgreSQL checks a statement's rows together (migration 0019).
    let two = rolecall::store::sql_for(
        app.server.dir.db.backend,
        "INSERT INTO audit_log (org_id, seq, id, at, actor_kind, actor_id, actor_name, action, target_kind, target_id, target_name, changes, detail, source_ip, user_agent, request_id, prev_hash, hash) \
         VALUES ($1, $2, $3, 0, 'person', 'x', 'x', 'user_deleted', 'user', 'y', 'y', '{}', '', '', '', '', $4, $5), \
                ($1, $6, $7, 0, 'person', 'x', 'x', 'user_deleted', 'user', 'y', 'y', '{}', '', '', '', '', $8, $9)",
    );
    let (h1, h2) = ("ab".repeat(32), "cd".repeat(32));
    for (first, second, what) in [
        (
            (seq + 1, hash.clone()),
            (seq + 2, "00".repeat(32)),
            "a second row that does not follow the first",
        ),
        (
            (seq + 1, hash.clone()),
            (seq + 3, h1.clone()),
            "a gap between two rows",
        ),
        (
            (seq + 1, "00".repeat(32)),
            (seq + 2, h1.clone()),
            "a first row that does not follow the head",
        ),
        (
            (seq + 2, hash.clone()),
            (seq + 3, h1.clone()),
            "two linked rows after a gap",
        ),
    ] {
        let r = sqlx::query(&two)
            .bind(&org)
            .bind(first.0)
            .bind(format!("forged-a-{}", first.0))
            .bind(&first.1)
            .bind(&h1)
            .bind(second.0)
            .bind(format!("forged-b-{}", second.0))
            .bind(&second.1)
            .bind(&h2)
            .execute(pool)
            .await;
        assert!(r.is_err(), "{what} was accepted");
    }
    let after = app.get("/api/v1/organizations/acme/audit/head").await.body;
    assert_eq!(after["seq"], seq);
    assert_eq!(after["hash"], hash.as_str());
    assert_eq!(verify(&app, "acme").await["ok"], true);
    // Ordinary changes go on linking.
    app.user("second@acme.example").await;
    let v = verify(&app, "acme").await;
    assert_eq!(v["ok"], true, "{v}");
    assert_eq!(
        app.get("/api/v1/organizations/acme/audit/head").await.body["seq"],
        seq + 1
    );
}
both!(the_database_refuses_an_unlinked_entry);

/// Four organisations with five users each, one per kind of tampering.
async fn tampering_is_caught(b: Backend) {
    let app = spawn_app(b).await;
    for org in ["edited", "removed", "swapped", "cut"] {
        let r = app
            .post("/api/v1/organizations", json!({"slug": org, "name": org}))
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
        for i in 0..5 {
            let r = app
                .post(
                    &format!("/api/v1/organizations/{org}/users"),
                    json!({"email": format!("u{i}@{org}.example")}),
                )
                .await;
            assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
        }
        assert_eq!(verify(&app, org).await["ok"], true, "{org} intact");
    }
    let pool = &app.server.dir.db.pool;
    let sql = |s: &str| rolecall::store::sql_for(app.server.dir.db.backend, s);
    let dir = app.server.dir.clone();
    let org_id = |slug: &'static str| {
        let dir = dir.clone();
        async move { dir.org(slug).await.unwrap().id.to_string() }
    };
    let published = app.get("/api/v1/organizations/cut/audit/head").await.body;

    let id = org_id("edited").await;
    sqlx::query(&sql(
        "UPDATE audit_log SET detail = 'nothing to see' WHERE org_id = $1 AND seq = 3",
    ))
    .bind(&id)
    .execute(pool)
    .await
    .unwrap();
    let v = verify(&app, "edited").await;
    assert_eq!(
        (
            v["ok"].clone(),
            v["flaw"]["kind"].clone(),
            v["flaw"]["seq"].clone()
        ),
        (json!(false), json!("edited"), json!(3))
    );
    assert_eq!(v["checked"], 2);

    let id = org_id("removed").await;
    sqlx::query(&sql("DELETE FROM audit_log WHERE org_id = $1 AND seq = 3"))
        .bind(&id)
        .execute(pool)
        .await
        .unwrap();
    let v = verify(&app, "removed").await;
    assert_eq!(
        (v["flaw"]["kind"].clone(), v["flaw"]["seq"].clone()),
        (json!("removed"), json!(4))
    );

    let id = org_id("swapped").await;
    for (from, to) in [(3, -3), (4, 3), (-3, 4)] {
        sqlx::query(&sql(
            "UPDATE audit_log SET seq = $1 WHERE org_id = $2 AND seq = $3",
        ))
        .bind(to)
        .bind(&id)
        .bind(from)
        .execute(pool)
        .await
        .unwrap();
    }
    let v = verify(&app, "swapped").await;
    assert_eq!(
        (v["flaw"]["kind"].clone(), v["flaw"]["seq"].clone()),
        (json!("reordered"), json!(3))
    );

    // Truncation: the last two entries and the stored head rewritten to match. The chain alone
    // looks whole; the head published earlier proves the cut.
    let id = org_id("cut").await;
    let kept = sqlx::query(&sql(
        "SELECT hash FROM audit_log WHERE org_id = $1 AND seq = 3",
    ))
    .bind(&id)
    .fetch_one(pool)
    .await
    .unwrap();
    let kept: String = sqlx::Row::get(&kept, 0);
    sqlx::query(&sql("DELETE FROM audit_log WHERE org_id = $1 AND seq > 3"))
        .bind(&id)
        .execute(pool)
        .await
        .unwrap();
    let v = verify(&app, "cut").await;
    assert_eq!(
        v["flaw"]["kind"], "truncated",
        "the stored head still names entry 5"
    );
    sqlx::query(&sql(
        "UPDATE audit_heads SET seq = 3, hash = $1 WHERE org_id = $2",
    ))
    .bind(&kept)
    .bind(&id)
    .execute(pool)
    .await
    .unwrap();
    assert_eq!(verify(&app, "cut").await["ok"], true);
    let known = format!(
        "{}:{}",
        published["seq"],
        published["hash"].as_str().unwrap()
    );
    let r = app
        .get(&format!(
            "/api/v1/organizations/cut/audit/verify?known_head={known}"
        ))
        .await;
    assert_eq!(r.body["ok"], false, "{}", r.body);
    assert_eq!(r.body["flaw"]["kind"], "truncated");
    // The server last committed entry 5 as the head; the next change must link to the head the
    // database holds now (entry 3), not to what the server remembers.
    let r = app
        .post(
            "/api/v1/organizations/cut/users",
            json!({"email": "after-the-cut@cut.example"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let v = verify(&app, "cut").await;
    assert_eq!(
        (v["ok"].clone(), v["checked"].clone()),
        (json!(true), json!(4)),
        "{v}"
    );
    let r = app
        .get("/api/v1/organizations/cut/audit/verify?known_head=5:nothex")
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        r.field_errors(),
        [("known_head".to_string(), "audit_head".to_string())]
    );
}
both!(tampering_is_caught);

async fn paging_and_filters(b: Backend) {
    let app = spawn_app(b).await;
    let t0 = app.clock.now();
    let mut ids = Vec::new();
    for i in 0..7 {
        ids.push(app.user(&format!("p{i}@acme.example")).await);
    }
    app.clock.advance_secs(60);
    let t1 = app.clock.now();
    app.group("Later").await;
    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let q = match &cursor {
            Some(c) => format!("/audit?action=user_created&limit=3&cursor={c}"),
            None => "/audit?action=user_created&limit=3".to_string(),
        };
        let r = app.get(&q).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        for e in r.body["items"].as_array().unwrap() {
            seen.push(e["target"]["id"].as_str().unwrap().to_string());
        }
        match r.body["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_string()),
            None => break,
        }
    }
    seen.reverse();
    assert_eq!(seen, ids, "every user once, in order");
    let r = app.get(&format!("/audit?from={t1}")).await;
    assert_eq!(
        actions(r.body["items"].as_array().unwrap()),
        ["group_created"]
    );
    let r = app
        .get(&format!("/audit?from={t0}&to={t1}&action=group_created"))
        .await;
    assert!(r.body["items"].as_array().unwrap().is_empty());
    let r = app.get("/audit?actor=test%20bootstrap&limit=1").await;
    assert_eq!(r.body["items"][0]["action"], "group_created");
    for bad in [
        "limit=0",
        "limit=1001",
        "cursor=abc",
        "from=5&to=5",
        "limit=x",
    ] {
        let r = app.get(&format!("/audit?{bad}")).await;
        assert_eq!(
            r.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{bad}: {}",
            r.body
        );
    }
    // The smallest cursor is a page like any other (before: an overflow, a panic in debug).
    let r = app.get("/audit?cursor=-9223372036854775808").await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert!(r.body["items"].as_array().unwrap().is_empty());
}
both!(paging_and_filters);

/// Rebuilds an exported entry and recomputes its hash as an outside auditor would.
fn rehash(e: &Value) -> String {
    let party = |p: &Value| Party {
        kind: p["kind"].as_str().unwrap().into(),
        id: p["id"].as_str().unwrap().into(),
        name: p["name"].as_str().unwrap().into(),
    };
    let changes: rolecall_core::audit::Changes =
        serde_json::from_value(e["changes"].clone()).unwrap();
    let s = |k: &str| e[k].as_str().unwrap().to_string();
    Entry {
        org_id: s("org_id"),
        seq: e["seq"].as_i64().unwrap(),
        id: s("id"),
        at: e["at"].as_i64().unwrap(),
        actor: party(&e["actor"]),
        action: s("action"),
        target: party(&e["target"]),
        changes: changes_text(&changes),
        detail: s("detail"),
        source_ip: s("source_ip"),
        user_agent: s("user_agent"),
        request_id: s("request_id"),
        prev_hash: s("prev_hash"),
        hash: String::new(),
    }
    .compute_hash()
}

async fn exports_stream_with_the_head(b: Backend) {
    let app = spawn_app(b).await;
    for i in 0..3 {
        app.user(&format!("x{i}@acme.example")).await;
    }
    let r = app.get("/audit/export").await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.headers["content-type"], "application/x-ndjson");
    let text = r.body.as_str().unwrap();
    let mut lines = text.lines();
    let header: Value = serde_json::from_str(lines.next().unwrap()).unwrap();
    let entries: Vec<Value> = lines.map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(header["organization"], "acme");
    assert_eq!(header["head"]["seq"], entries.len() as i64);
    let head_header = r.headers["x-rolecall-audit-head"].to_str().unwrap();
    assert_eq!(
        head_header,
        format!(
            "{}:{}",
            header["head"]["seq"],
            header["head"]["hash"].as_str().unwrap()
        )
    );
    let mut prev = rolecall_core::audit::GENESIS.to_string();
    for e in &entries {
        assert_eq!(e["prev_hash"], prev.as_str());
        assert_eq!(rehash(e), e["hash"].as_str().unwrap(), "recomputed outside");
        prev = e["hash"].as_str().unwrap().to_string();
    }
    assert_eq!(header["head"]["hash"], prev.as_str());

    let r = app
        .get("/audit/export?format=csv&action=user_created")
        .await;
    assert_eq!(r.headers["content-type"], "text/csv; charset=utf-8");
    let csv = r.body.as_str().unwrap();
    let rows: Vec<&str> = csv.lines().collect();
    assert!(rows[0].starts_with("org_id,seq,id,at,actor_kind"));
    assert_eq!(rows.len(), 4, "header and three users");
    assert!(rows[1].contains("x0@acme.example"));
    let r = app.get("/audit/export?format=xml").await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        r.field_errors(),
        [("format".to_string(), "enum".to_string())]
    );
}
both!(exports_stream_with_the_head);

async fn retention_prunes_records_and_stays_verifiable(b: Backend) {
    let app = spawn_app(b).await;
    for i in 0..4 {
        app.user(&format!("old{i}@acme.example")).await;
    }
    let r = app.post("/audit/prune", json!({})).await;
    assert_eq!(
        r.body["pruned"],
        Value::Null,
        "no retention set: nothing pruned"
    );
    let mut settings = app.get("/settings").await.body;
    assert_eq!(
        settings["audit_retention_days"],
        Value::Null,
        "off by default"
    );
    settings["audit_retention_days"] = json!(0);
    let r = app.put("/settings", settings.clone()).await;
    assert_eq!(
        r.field_errors(),
        [("audit_retention_days".to_string(), "range".to_string())]
    );
    settings["audit_retention_days"] = json!(30);
    assert_eq!(app.put("/settings", settings).await.status, StatusCode::OK);
    app.clock.advance_secs(31 * 86_400);
    let recent = app.user("new@acme.example").await;
    let before = app.get("/audit/head").await.body;
    let r = app.post("/audit/prune", json!({})).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let pruned = r.body["pruned"].clone();
    assert_eq!(
        pruned["removed"], 6,
        "the organisation, 4 users and the settings change"
    );
    let head = app.get("/audit/head").await.body;
    assert_eq!(
        head["first_seq"],
        pruned["through_seq"].as_i64().unwrap() + 1
    );
    assert_eq!(head["anchor_hash"], pruned["anchor"]);
    assert_eq!(head["seq"], before["seq"].as_i64().unwrap() + 1);
    let v = verify(&app, "acme").await;
    assert_eq!(v["ok"], true, "{v}");
    let newest = &app.get("/audit?limit=1").await.body["items"][0];
    assert_eq!(newest["action"], "audit_pruned");
    assert_eq!(newest["changes"]["removed"]["after"], 6);
    assert_eq!(
        newest["changes"]["anchor"]["after"], head["anchor_hash"],
        "the cut is on the chain"
    );
    assert_eq!(
        actions(&entries_about(&app, &recent).await),
        ["user_created"]
    );
    // Removing the first kept entry is still caught.
    let id = app.server.dir.org("acme").await.unwrap().id.to_string();
    sqlx::query(&rolecall::store::sql_for(
        app.server.dir.db.backend,
        "DELETE FROM audit_log WHERE org_id = $1 AND seq = $2",
    ))
    .bind(&id)
    .bind(head["first_seq"].as_i64().unwrap())
    .execute(&app.server.dir.db.pool)
    .await
    .unwrap();
    assert_eq!(verify(&app, "acme").await["flaw"]["kind"], "removed");
}
both!(retention_prunes_records_and_stays_verifiable);

async fn reading_the_log_needs_the_right(b: Backend) {
    let app = spawn_app(b).await;
    app.without_2fa().await;
    let person = app.signed_in("pat@acme.example", false).await;
    for path in ["/audit", "/audit/export", "/audit/head", "/audit/verify"] {
        let r = app
            .send_as(&person.token, Method::GET, path, None, &[])
            .await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "{path}");
    }
    let r = app
        .send_as(&person.token, Method::POST, "/audit/prune", None, &[])
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let r = app.send_as("", Method::GET, "/audit", None, &[]).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
}
both!(reading_the_log_needs_the_right);

/// Writers racing on one node, and on two nodes sharing one database, still build one chain.
async fn concurrent_writers_build_one_chain(b: Backend) {
    let app = spawn_app(b).await;
    let second = if b == Backend::Postgres {
        Some(start_server(&app.config, app.clock.clone()).await)
    } else {
        None
    };
    let org = app.server.dir.org("acme").await.unwrap();
    let admin = rolecall::auth::OrgAdmin::operator(org.clone());
    let mut tasks = Vec::new();
    for i in 0..24 {
        let dir = match (&second, i % 2) {
            (Some(s), 1) => s.dir.clone(),
            _ => app.server.dir.clone(),
        };
        let admin = admin.clone();
        tasks.push(tokio::spawn(async move {
            dir.create_group(&admin, &format!("G{i}"), None)
                .await
                .unwrap();
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    let v = verify(&app, "acme").await;
    assert_eq!(v["ok"], true, "{v}");
    let r = app.get("/audit?action=group_created&limit=1000").await;
    assert_eq!(r.body["items"].as_array().unwrap().len(), 24);
}
both!(concurrent_writers_build_one_chain);

/// A store made before the audit log: its sign-in events become the first entries of the
/// organisation's chain, sealed on start, and `/auth-events` still shows them.
async fn old_sign_in_events_are_migrated_into_the_chain(b: Backend) {
    let tmp = tempfile::tempdir().unwrap();
    let config = crate::helpers::config_for(b, tmp.path()).await;
    let db = rolecall::store::Db::connect(config.database_url.as_deref(), &config.data_dir)
        .await
        .unwrap();
    let exec = |sql: String| {
        let pool = db.pool.clone();
        async move { sqlx::query(&sql).execute(&pool).await.unwrap() }
    };
    exec("CREATE TABLE schema_migrations (version BIGINT PRIMARY KEY, name TEXT NOT NULL, applied_at BIGINT NOT NULL)".into()).await;
    let old = [
        include_str!("../../migrations/0001_directory.sql"),
        include_str!("../../migrations/0002_signin.sql"),
        include_str!("../../migrations/0003_profiles.sql"),
        include_str!("../../migrations/0004_admin.sql"),
        include_str!("../../migrations/0005_invitations.sql"),
        include_str!("../../migrations/0006_rights.sql"),
    ];
    for (i, file) in old.iter().enumerate() {
        let text: String = file
            .lines()
            .map(|l| l.split("--").next().unwrap_or(""))
            .collect::<Vec<_>>()
            .join("\n");
        for statement in text.split(';').map(str::trim).filter(|s| !s.is_empty()) {
            exec(statement.to_string()).await;
        }
        exec(format!(
            "INSERT INTO schema_migrations VALUES ({}, 'old', 0)",
            i + 1
        ))
        .await;
    }
    let org = uuid::Uuid::new_v4().to_string();
    let user = uuid::Uuid::new_v4().to_string();
    exec(format!("INSERT INTO organizations (id, slug, name, version, created_at, updated_at) VALUES ('{org}', 'legacy', 'Legacy', 1, 0, 0)")).await;
    for (id, kind, at) in [("e1", "sign_in_failed", 10), ("e2", "locked", 20)] {
        exec(format!("INSERT INTO auth_events (id, org_id, user_id, kind, at, source_ip, user_agent, detail) VALUES ('{id}', '{org}', '{user}', '{kind}', {at}, '10.0.0.1', 'old', 'migrated')")).await;
    }
    let dir = rolecall::directory::Directory::open(
        db,
        std::sync::Arc::new(rolecall::directory::SystemClock),
        vec![],
    )
    .await
    .unwrap();
    let legacy = dir.org("legacy").await.unwrap();
    let v = dir.verify_audit(&legacy, None).await.unwrap();
    assert!(v.ok, "{v:?}");
    assert_eq!((v.checked, v.head.seq), (2, 2));
    let events = dir.auth_events(&legacy, None, 10).await.unwrap();
    let kinds: Vec<&str> = events.iter().map(|e| e.kind.as_str()).collect();
    assert_eq!(kinds, ["locked", "sign_in_failed"]);
    assert_eq!(events[0].user_id.as_deref(), Some(user.as_str()));
    assert_eq!(events[0].source_ip, "10.0.0.1");
    // New entries chain on after the migrated ones.
    dir.create_group(
        &rolecall::auth::OrgAdmin::operator(legacy.clone()),
        "After",
        None,
    )
    .await
    .unwrap();
    let v = dir.verify_audit(&legacy, None).await.unwrap();
    assert!(v.ok && v.checked == 3, "{v:?}");
}
both!(old_sign_in_events_are_migrated_into_the_chain);

/// Every entry of `org` matching `f`, newest first, read page by page (`limit` 2, so pages
/// cross the index mark), and oldest first as exports read them; both as (seq, hash).
async fn read_all(
    dir: &rolecall::directory::Directory,
    org: &rolecall_core::model::Organization,
    f: &rolecall::store::audit::Filter,
) -> (Vec<(i64, String)>, Vec<(i64, String)>) {
    let mut newest = Vec::new();
    let mut cursor = None;
    loop {
        let page = dir.audit_log(org, f, cursor, 2).await.unwrap();
        newest.extend(page.items.iter().map(|e| (e.seq, e.hash.clone())));
        match page.next_cursor {
            Some(c) => cursor = Some(c.parse().unwrap()),
            None => break,
        }
    }
    let mut oldest = Vec::new();
    let mut after = None;
    loop {
        let page = dir.audit_page(org.id, f, after, 2).await.unwrap();
        let Some(last) = page.last() else { break };
        after = Some(last.seq);
        oldest.extend(page.iter().map(|e| (e.seq, e.hash.clone())));
    }
    (newest, oldest)
}

/// The audit index tables are filled in batches after the changes (store/audit_index.rs): a
/// filtered read must return the same entries whether none, some or all of them are indexed,
/// checked against the whole log filtered in memory, across pages that straddle the mark; and
/// once indexed, entries up to the mark are found through the index tables.
async fn filtered_reads_are_the_same_before_and_after_the_index_flush(b: Backend) {
    use rolecall::auth::{OrgAdmin, Principal};
    use rolecall::directory::{NewUser, UserPatch};
    use rolecall::store::audit::Filter;
    use rolecall::store::audit_index;
    let tmp = tempfile::tempdir().unwrap();
    let config = crate::helpers::config_for(b, tmp.path()).await;
    let db = rolecall::store::Db::connect(config.database_url.as_deref(), &config.data_dir)
        .await
        .unwrap();
    let clock = std::sync::Arc::new(crate::helpers::TestClock::default());
    // No server: nothing flushes the index unless the test does.
    let dir = rolecall::directory::Directory::open(db, clock.clone(), vec![])
        .await
        .unwrap();
    dir.create_org("acme", "Acme").await.unwrap();
    let org = dir.org("acme").await.unwrap();
    let operator = OrgAdmin::operator(org.clone());
    let robot = OrgAdmin {
        org: org.clone(),
        principal: Principal::Operator {
            label: "token robot".into(),
        },
    };
    let t0 = clock.now();
    let mut users = Vec::new();
    for i in 0..5 {
        let by = if i % 2 == 0 { &operator } else { &robot };
        let email = format!("u{i}@acme.example");
        let u = dir
            .create_user(
                by,
                NewUser {
                    email,
                    ..Default::default()
                },
            )
            .await
            .unwrap();
        users.push(u.id);
    }
    clock.advance_secs(60);
    let t1 = clock.now();
    for (i, u) in users.iter().enumerate() {
        let by = if i % 3 == 0 { &robot } else { &operator };
        let patch = UserPatch {
            first_name: Some(format!("N{i}")),
            ..Default::default()
        };
        dir.update_user(by, *u, patch, None, None, &Default::default())
            .await
            .unwrap();
    }
    clock.advance_secs(60);
    let t2 = clock.now();
    for g in ["G1", "G2", "G3"] {
        dir.create_group(&robot, g, None).await.unwrap();
    }
    let filters = vec![
        Filter::default(),
        Filter {
            actor: Some("robot".into()),
            ..Default::default()
        },
        Filter {
            actor: Some("operator".into()),
            actions: vec!["user_updated".into()],
            ..Default::default()
        },
        Filter {
            target: Some(users[2].to_string()),
            ..Default::default()
        },
        Filter {
            target: Some(users[3].to_string()),
            from: Some(t1),
            ..Default::default()
        },
        Filter {
            actions: vec!["user_created".into(), "group_created".into()],
            ..Default::default()
        },
        Filter {
            from: Some(t1),
            to: Some(t2),
            ..Default::default()
        },
        Filter {
            to: Some(t1),
            ..Default::default()
        },
        Filter {
            from: Some(t0),
            actions: vec!["group_created".into()],
            ..Default::default()
        },
    ];
    // The oracle: the whole log (read through its primary key) filtered in memory.
    let all = dir
        .audit_page(org.id, &Filter::default(), None, 1000)
        .await
        .unwrap();
    let head = all.last().unwrap().seq;
    assert!(head >= 13, "{head} entries");
    let expected: Vec<Vec<(i64, String)>> = filters
        .iter()
        .map(|f| {
            all.iter()
                .filter(|e| f.actor.as_ref().is_none_or(|a| &e.actor.id == a))
                .filter(|e| f.target.as_ref().is_none_or(|t| &e.target.id == t))
                .filter(|e| f.actions.is_empty() || f.actions.contains(&e.action))
                .filter(|e| f.from.is_none_or(|from| e.at >= from))
                .filter(|e| f.to.is_none_or(|to| e.at < to))
                .map(|e| (e.seq, e.hash.clone()))
                .collect()
        })
        .collect();
    assert!(expected.iter().all(|x| !x.is_empty()), "{expected:?}");
    let b = dir.db.backend;
    let org_id = org.id.to_string();
    let mark = || async {
        let mut c = dir.db.pool.acquire().await.unwrap();
        audit_index::mark(&mut c, b, &org_id).await.unwrap()
    };
    let check = |when: &'static str| {
        let (dir, org, filters, expected) = (&dir, &org, &filters, &expected);
        async move {
            for (f, want) in filters.iter().zip(expected) {
                let (newest, oldest) = read_all(dir, org, f).await;
                let mut want_newest = want.clone();
                want_newest.reverse();
                assert_eq!(&newest, &want_newest, "{when}, newest first: {f:?}");
                assert_eq!(&oldest, want, "{when}, oldest first: {f:?}");
            }
        }
    };
    // Nothing indexed yet: every filtered read is the tail scan.
    assert_eq!(mark().await, 0);
    check("nothing indexed").await;
    // Part indexed: the mark in the middle, pages straddling it.
    let mut w = dir.db.write().await.unwrap();
    assert_eq!(
        audit_index::flush(&mut w.tx, b, &org_id, 7).await.unwrap(),
        7
    );
    w.commit_bookkeeping().await.unwrap();
    assert_eq!(mark().await, 7);
    check("indexed through 7").await;
    // All indexed.
    assert_eq!(dir.index_audit().await.unwrap() as i64, head - 7);
    assert_eq!(mark().await, head);
    assert_eq!(dir.index_audit().await.unwrap(), 0, "nothing left");
    check("all indexed").await;
    // Up to the mark, reads go through the index tables: an index row removed behind the
    // flush's back hides its entry from the filtered read (and only from it).
    let hidden = expected[3][0].0;
    sqlx::query(&rolecall::store::sql_for(
        b,
        "DELETE FROM audit_by_target WHERE org_id = $1 AND seq = $2",
    ))
    .bind(&org_id)
    .bind(hidden)
    .execute(&dir.db.pool)
    .await
    .unwrap();
    let (newest, _) = read_all(&dir, &org, &filters[3]).await;
    assert!(!newest.iter().any(|(s, _)| *s == hidden), "{newest:?}");
    assert_eq!(newest.len(), expected[3].len() - 1);
}
both!(filtered_reads_are_the_same_before_and_after_the_index_flush);

/// A change made by a signed-in person or an API credential names its actor as they
/// authenticated (the e-mail, the credential's name) — carried with the caller instead of
/// looked up per change (issue 11) — and a renamed actor is named anew from the next request.
async fn actors_are_named_as_they_authenticated(b: Backend) {
    let app = spawn_app(b).await;
    app.without_2fa().await;
    let org = app.server.dir.org("acme").await.unwrap();
    let person = app.signed_in("sam@acme.example", true).await;
    let group = |name: &str| json!({ "name": name });
    let r = app
        .send_as(
            &person.token,
            Method::POST,
            "/groups",
            Some(group("Buyers")),
            &[],
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let log = entries_about(&app, r.body["id"].as_str().unwrap()).await;
    assert_eq!(
        (
            &log[0]["actor"]["kind"],
            &log[0]["actor"]["id"],
            &log[0]["actor"]["name"]
        ),
        (
            &json!("person"),
            &json!(person.id),
            &json!("sam@acme.example")
        )
    );
    // The person's e-mail changes: the next change carries the new one.
    let r = app
        .patch(
            &format!("/users/{}", person.id),
            json!({ "email": "samira@acme.example" }),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let r = app
        .send_as(
            &person.token,
            Method::POST,
            "/groups",
            Some(group("Sellers")),
            &[],
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let log = entries_about(&app, r.body["id"].as_str().unwrap()).await;
    assert_eq!(log[0]["actor"]["name"], "samira@acme.example");
    // An API credential acts under its own name.
    let r = app
        .post(
            "/credentials",
            json!({ "name": "erp-sync", "sensitive_changes": true }),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let (credential, secret) = (
        r.body["credential"]["id"].as_str().unwrap().to_string(),
        r.body["secret"].as_str().unwrap().to_string(),
    );
    let svc = r.body["credential"]["service_user_id"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    app.server
        .dir
        .grant_system_admin(&rolecall::auth::OrgAdmin::operator(org), svc)
        .await
        .unwrap();
    let r = app
        .send_as(&secret, Method::POST, "/groups", Some(group("Makers")), &[])
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let log = entries_about(&app, r.body["id"].as_str().unwrap()).await;
    assert_eq!(
        (
            &log[0]["actor"]["kind"],
            &log[0]["actor"]["id"],
            &log[0]["actor"]["name"]
        ),
        (&json!("credential"), &json!(credential), &json!("erp-sync"))
    );
}
both!(actors_are_named_as_they_authenticated);

both!(a_weaker_password_policy_shows_in_the_log);
/// Before: every field whose name held "password" was dropped as a secret, so a settings change
/// lowering the minimum length was logged with no changes at all.
async fn a_weaker_password_policy_shows_in_the_log(b: Backend) {
    let app = spawn_app(b).await;
    let mut settings = app.get("/settings").await.body;
    let before = settings["password_policy"]["min_length"].clone();
    settings["password_policy"]["min_length"] = json!(8);
    let r = app.put("/settings", settings).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let log = app.get("/audit?action=settings_changed").await.body;
    let change = &log["items"][0]["changes"]["password_policy"];
    assert_eq!(change["before"]["min_length"], before, "{log}");
    assert_eq!(change["after"]["min_length"], 8, "{log}");
}

both!(a_rename_names_whoever_renamed);
/// Before: renaming the organisation was logged as the operator, whoever did it.
async fn a_rename_names_whoever_renamed(b: Backend) {
    let app = spawn_app(b).await;
    app.without_2fa().await;
    let admin = app.signed_in("sa@acme.example", true).await;
    let r = app
        .send_as(
            &admin.token,
            Method::PATCH,
            "/api/v1/organizations/acme",
            Some(json!({ "name": "Acme Renamed" })),
            &[("x-rolecall-password", &admin.password)],
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let log = app.get("/audit?action=organization_renamed").await.body;
    assert_eq!(log["items"][0]["actor"]["kind"], "person", "{log}");
    assert_eq!(log["items"][0]["actor"]["name"], "sa@acme.example", "{log}");
}
