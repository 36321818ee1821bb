//! Bulk import of user files (issue 12): dry run, all-or-nothing and valid-rows runs,
//! idempotence, the rules of single changes holding row by row, the audit entries, invitations,
//! one recompile per import, bad files and denials.

use crate::both;
use crate::helpers::{spawn_app, Backend, Reply, TestApp};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

/// Uploads `csv` to the import endpoint with `query` (e.g. `dry_run=true`) as `token`.
async fn import_as(app: &TestApp, token: &str, query: &str, csv: &str, accept: &str) -> Reply {
    let res = app
        .client
        .post(app.url(&format!("/users/import?{query}")))
        .bearer_auth(token)
        .header("content-type", "text/csv")
        .header("accept", accept)
        .body(csv.to_string())
        .send()
        .await
        .unwrap();
    let status = res.status();
    let headers = res.headers().clone();
    let text = res.text().await.unwrap();
    assert_ne!(status, StatusCode::INTERNAL_SERVER_ERROR, "{text}");
    Reply {
        status,
        body: serde_json::from_str(&text).unwrap_or(Value::String(text)),
        headers,
    }
}

async fn import(app: &TestApp, query: &str, csv: &str) -> Reply {
    import_as(app, &app.token.clone(), query, csv, "application/json").await
}

both!(an_upload_trickling_in_is_cut_off_and_writes_nothing);
/// An import holds the write transaction while its file arrives: every chunk arriving within
/// `body_read_timeout` is not enough, the waits together are held to it too.
async fn an_upload_trickling_in_is_cut_off_and_writes_nothing(b: Backend) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let app = crate::helpers::spawn_app_with(b, |c| {
        c.limits.body_read_timeout = std::time::Duration::from_secs(1);
    })
    .await;
    let before = app.get("/users").await.body["total"].clone();
    let mut s = tokio::net::TcpStream::connect(app.server.addr)
        .await
        .unwrap();
    let head = format!(
        "POST /api/v1/organizations/acme/users/import HTTP/1.1\r\nHost: rolecall\r\nAuthorization: Bearer {}\r\nContent-Type: text/csv\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n",
        app.token
    );
    s.write_all(head.as_bytes()).await.unwrap();
    let chunk = |data: &str| format!("{:x}\r\n{data}\r\n", data.len());
    s.write_all(chunk("email\n").as_bytes()).await.unwrap();
    // Each row within the per-chunk limit, six seconds of waiting in all.
    for n in 0..10 {
        tokio::time::sleep(std::time::Duration::from_millis(600)).await;
        if s.write_all(chunk(&format!("trickle{n}@acme.example\n")).as_bytes())
            .await
            .is_err()
        {
            break;
        }
    }
    let _ = s.write_all(b"0\r\n\r\n").await;
    let mut out = Vec::new();
    let read =
        tokio::time::timeout(std::time::Duration::from_secs(30), s.read_to_end(&mut out)).await;
    assert!(read.is_ok(), "the server kept the import open");
    let reply = String::from_utf8_lossy(&out).to_string();
    assert!(reply.starts_with("HTTP/1.1 4"), "{reply}");
    assert!(reply.contains("stalled"), "{reply}");
    assert_eq!(app.get("/users").await.body["total"], before);
}

/// Rows of a report as (line, result, first error's column, first error's rule).
fn rows(r: &Reply) -> Vec<(u64, String, String, String)> {
    r.body["rows"]
        .as_array()
        .unwrap_or_else(|| panic!("a report: {}", r.body))
        .iter()
        .map(|row| {
            let e = &row["errors"][0];
            (
                row["line"].as_u64().unwrap(),
                row["result"].as_str().unwrap().to_string(),
                e["column"].as_str().unwrap_or("").to_string(),
                e["rule"].as_str().unwrap_or("").to_string(),
            )
        })
        .collect()
}

async fn user_count(app: &TestApp) -> i64 {
    app.get("/users").await.body["total"].as_i64().unwrap()
}

async fn epoch(app: &TestApp) -> i64 {
    sqlx::query_scalar("SELECT authz_epoch FROM organizations WHERE slug = 'acme'")
        .fetch_one(&app.server.dir.db.pool)
        .await
        .unwrap()
}

/// A site-search profile named "One Seat" with a quota of one seat.
async fn one_seat_profile(app: &TestApp) {
    let r = app
        .post(
            "/profiles",
            json!({ "application": "site-search", "name": "One Seat", "seat_quota": 1, "roles": [] }),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
}

async fn audit_actions(app: &TestApp) -> Vec<String> {
    app.get("/audit?limit=1000").await.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap().to_string())
        .collect()
}

const PLAIN: &str = "email,first_name,last_name,status,groups\r\n\
ann@example.com,Ann,Archer,,Marketing\r\n\
bob@example.com,Bob,Baker,active,Marketing; Sales\r\n\
cy@example.com,Cy,,,\r\n";

async fn dry_run_writes_nothing_then_the_real_run_is_idempotent(b: Backend) {
    let app = spawn_app(b).await;
    let marketing = app.group("Marketing").await;
    app.group("Sales").await;
    let before = user_count(&app).await;
    let epoch0 = epoch(&app).await;

    let dry = import(&app, "dry_run=true", PLAIN).await;
    assert_eq!(dry.status, StatusCode::OK, "{}", dry.body);
    assert_eq!(dry.body["dry_run"], true);
    assert_eq!(dry.body["committed"], false);
    assert_eq!(dry.body["template"], "plain");
    assert_eq!(dry.body["summary"]["created"], 3, "{}", dry.body);
    assert_eq!(
        dry.body["sha256"].as_str().unwrap(),
        rolecall_bulk::FileDigest::of(PLAIN.as_bytes()).sha256
    );
    assert_eq!(user_count(&app).await, before, "a dry run writes nothing");
    assert_eq!(epoch(&app).await, epoch0);

    let real = import(&app, "", PLAIN).await;
    assert_eq!(real.status, StatusCode::OK, "{}", real.body);
    assert_eq!(real.body["committed"], true);
    assert_eq!(
        rows(&real),
        vec![
            (2, "created".into(), "".into(), "".into()),
            (3, "created".into(), "".into(), "".into()),
            (4, "created".into(), "".into(), "".into()),
        ]
    );
    assert_eq!(user_count(&app).await, before + 3);
    let members = app.get(&format!("/groups/{marketing}/members")).await;
    assert_eq!(
        members.body["items"].as_array().map(Vec::len),
        Some(2),
        "{}",
        members.body
    );
    // The snapshot is recompiled once for the whole file, not once per row.
    assert_eq!(epoch(&app).await, epoch0 + 1);
    // One entry per change, plus one for the import naming the file's hash.
    let actions = audit_actions(&app).await;
    assert_eq!(actions.iter().filter(|a| *a == "user_created").count(), 3);
    assert_eq!(actions.iter().filter(|a| *a == "member_added").count(), 3);
    let log = app.get("/audit?action=users_imported").await;
    let entry = &log.body["items"][0];
    assert_eq!(entry["target"]["id"], real.body["sha256"], "{}", log.body);
    // Users without a status are invited through the outbox; Bob was added as active.
    let invitations = app.get("/invitations").await;
    assert_eq!(invitations.body["total"], 2, "{}", invitations.body);

    // The same file again changes nothing.
    let again = import(&app, "", PLAIN).await;
    assert_eq!(again.body["summary"]["unchanged"], 3, "{}", again.body);
    assert_eq!(again.body["summary"]["created"], 0);
    assert_eq!(epoch(&app).await, epoch0 + 1, "nothing to recompile");
    let after = audit_actions(&app).await;
    assert_eq!(
        after.len(),
        actions.len() + 1,
        "only the import itself is logged"
    );
}
both!(dry_run_writes_nothing_then_the_real_run_is_idempotent);

async fn all_or_nothing_by_default_valid_rows_on_request(b: Backend) {
    let app = spawn_app(b).await;
    app.group("Marketing").await;
    let before = user_count(&app).await;
    let csv = "email,groups\nann@example.com,Marketing\nbob@example.com,Nowhere\nnot-an-email,\n";
    let r = import(&app, "", csv).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.body["committed"], false);
    let got = rows(&r);
    assert_eq!(got[0].1, "created");
    assert_eq!(
        got[1],
        (3, "error".into(), "groups".into(), "unknown_group".into())
    );
    assert_eq!(got[2].0, 4);
    assert_eq!(got[2].1, "error");
    assert_eq!(got[2].2, "email");
    assert_eq!(
        user_count(&app).await,
        before,
        "one bad row, nothing written"
    );
    assert!(!audit_actions(&app)
        .await
        .contains(&"users_imported".to_string()));

    let r = import(&app, "mode=valid_rows&invitations=false", csv).await;
    assert_eq!(r.body["committed"], true, "{}", r.body);
    assert_eq!(r.body["summary"]["created"], 1);
    assert_eq!(r.body["summary"]["errors"], 2);
    assert_eq!(user_count(&app).await, before + 1);
    assert_eq!(
        app.get("/invitations").await.body["total"],
        0,
        "told not to invite"
    );
}
both!(all_or_nothing_by_default_valid_rows_on_request);

async fn the_rules_of_single_changes_hold_row_by_row(b: Backend) {
    let app = spawn_app(b).await;
    let m = "commerce-admin";
    app.role(
        m,
        "Sales",
        json!([{ "resource": "Magento_Sales::sales" }]),
        json!([]),
    )
    .await;
    app.role(
        m,
        "Content",
        json!([{ "resource": "Magento_Cms::page" }]),
        json!([]),
    )
    .await;
    one_seat_profile(&app).await;
    // Two products with a profile named "Default": a bare name is ambiguous.
    let r = app
        .post(
            "/profiles",
            json!({ "application": "site-search", "name": "Default", "seat_quota": null, "roles": [] }),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let csv = "email,roles,profiles\n\
        one@example.com,commerce-admin:Sales; commerce-admin:Content,\n\
        two@example.com,commerce-admin:Sales,site-search:One Seat\n\
        three@example.com,,site-search:One Seat\n\
        four@example.com,,Default\n\
        five@example.com,,Site Search / Merchandising: Default\n";
    let r = import(&app, "mode=valid_rows&invitations=false", csv).await;
    let got = rows(&r);
    assert_eq!(
        got[0],
        (
            2,
            "error".into(),
            "roles".into(),
            "one_role_per_user".into()
        ),
        "{}",
        r.body
    );
    assert_eq!(got[1].1, "created");
    assert_eq!(
        got[2],
        (
            4,
            "error".into(),
            "profiles".into(),
            "quota_exceeded".into()
        )
    );
    assert_eq!(
        got[3],
        (
            5,
            "error".into(),
            "profiles".into(),
            "ambiguous_profile".into()
        )
    );
    assert_eq!(got[4].1, "created", "{}", r.body);

    // The owner and the last System admin stay: removing the only System admin is refused.
    let (admin, _) = app.person("root@example.com", true).await;
    let r = import(&app, "", "operation,email\nremove,root@example.com\n").await;
    assert_eq!(rows(&r)[0].1, "error", "{}", r.body);
    assert_eq!(r.body["committed"], false);
    assert_eq!(
        app.get(&format!("/users/{admin}")).await.status,
        StatusCode::OK
    );
}
both!(the_rules_of_single_changes_hold_row_by_row);

async fn only_system_admins_import_and_never_their_own_access(b: Backend) {
    let app = spawn_app(b).await;
    app.without_2fa().await;
    let csv = "email\nann@example.com\n";
    // A product admin administers users of their product, but bulk import is a System task.
    let pa = app.signed_in("pa@example.com", false).await;
    let r = app
        .post(
            &format!("/users/{}/admin-rights", pa.id),
            json!({ "kind": "product", "application": "site-search" }),
        )
        .await;
    assert!(r.status.is_success(), "{}", r.body);
    let r = import_as(&app, &pa.token, "", csv, "application/json").await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.body);
    // A System admin signed in, without re-entering their password: identity verification.
    let sa = app.signed_in("sa@example.com", true).await;
    app.clock.advance_secs(400);
    let r = import_as(&app, &sa.token, "", csv, "application/json").await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.body);
    assert_eq!(r.body["code"], "reverification_required");
    // With the password: the import runs, but a row deactivating the importer is refused.
    let own = "operation,email\ndeactivate,sa@example.com\nupsert,ann@example.com\n";
    let res = app
        .client
        .post(app.url("/users/import?mode=valid_rows"))
        .bearer_auth(&sa.token)
        .header("content-type", "text/csv")
        .header("x-rolecall-password", &sa.password)
        .body(own)
        .send()
        .await
        .unwrap();
    let r = Reply {
        status: res.status(),
        headers: res.headers().clone(),
        body: res.json().await.unwrap(),
    };
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let got = rows(&r);
    assert_eq!(got[0].1, "error", "{}", r.body);
    assert_eq!(got[1].1, "created");
    let me = app.get(&format!("/users/{}", sa.id)).await;
    assert_eq!(me.body["status"], "active");
}
both!(only_system_admins_import_and_never_their_own_access);

async fn bad_files_get_clear_answers_never_a_500(b: Backend) {
    let app = spawn_app(b).await;
    // Not CSV at all, as a file.
    let r = import(&app, "", "{\"users\": []}").await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    assert_eq!(r.body["errors"][0]["field"], "file", "{}", r.body);
    // Unknown columns.
    let r = import(&app, "", "email,shoe_size\na@example.com,42\n").await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    assert_eq!(r.body["errors"][0]["rule"], "columns");
    // Empty.
    let r = import(&app, "", "").await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    // Not text/csv.
    let r = app
        .raw(Method::POST, "/users/import", "application/json", "{}")
        .await;
    assert_eq!(r.status, StatusCode::UNSUPPORTED_MEDIA_TYPE, "{}", r.body);
    // Bad query.
    let r = import(&app, "mode=some", "email\na@example.com\n").await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    // Row errors: a stray quote, a duplicate, an invalid e-mail, wrong encoding.
    let mut csv = b"email,first_name\nok@example.com,Ok\nq@example.com,Jo\"e\nOK@example.com,Again\nbad@,x\nlatin@example.com,".to_vec();
    csv.extend_from_slice(&[0xe9, b'\n']);
    let res = app
        .client
        .post(app.url("/users/import"))
        .bearer_auth(&app.token)
        .header("content-type", "text/csv")
        .body(csv)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let body: Value = res.json().await.unwrap();
    let r = Reply {
        status: StatusCode::OK,
        body,
        headers: Default::default(),
    };
    let rules: Vec<String> = rows(&r).into_iter().map(|x| x.3).collect();
    assert_eq!(
        rules,
        ["", "stray_quote", "duplicate", "email", "utf8"],
        "{}",
        r.body
    );
    assert_eq!(r.body["committed"], false);
}
both!(bad_files_get_clear_answers_never_a_500);

async fn the_report_comes_as_csv_on_request(b: Backend) {
    let app = spawn_app(b).await;
    let csv = "email,groups\nann@example.com,\nbob@example.com,Nowhere\n";
    let r = import_as(&app, &app.token.clone(), "dry_run=true", csv, "text/csv").await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(r.headers["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/csv"));
    assert_eq!(r.headers["x-rolecall-import-committed"], "false");
    let text = r.body.as_str().unwrap();
    assert_eq!(
        text,
        "line,email,result,column,rule,reason\r\n\
         2,ann@example.com,created,,,\r\n\
         3,bob@example.com,error,groups,unknown_group,\"no user group \"\"Nowhere\"\"\"\r\n"
    );
}
both!(the_report_comes_as_csv_on_request);

async fn the_admin_console_template_adds_and_grants_rights(b: Backend) {
    let app = spawn_app(b).await;
    app.group("Designers").await;
    let csv = "Identity Type,Username,Domain,Email,First Name,Last Name,Country Code,Product Configurations,Admin Roles,Product Configurations Administered,User Groups,User Groups Administered,Products Administered,Developer Access\n\
        Enterprise ID,,,dee@example.com,Dee,Dunn,,,Product Admin,,Designers,,Site Search / Merchandising,\n";
    let r = import(&app, "invitations=false", csv).await;
    assert_eq!(r.body["template"], "console");
    assert_eq!(r.body["summary"]["created"], 1, "{}", r.body);
    let users = app.get("/users?q=dee").await;
    let id = users.body["items"][0]["id"].as_str().unwrap().to_string();
    let admins = app.get("/admins").await;
    assert!(
        admins.body.to_string().contains(&id) && admins.body.to_string().contains("site-search"),
        "{}",
        admins.body
    );
    // Again: unchanged.
    let r = import(&app, "invitations=false", csv).await;
    assert_eq!(r.body["summary"]["unchanged"], 1, "{}", r.body);
}
both!(the_admin_console_template_adds_and_grants_rights);

async fn audit_entries(app: &TestApp) -> i64 {
    sqlx::query_scalar("SELECT COUNT(*) FROM audit_log")
        .fetch_one(&app.server.dir.db.pool)
        .await
        .unwrap()
}

async fn chain_is_whole(app: &TestApp) -> bool {
    let r = app.get("/audit/verify").await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    r.body["ok"] == true
}

/// A long import appends its audit entries inside its transaction as it goes (every 512),
/// not all at the commit, so its memory does not grow with the file. The chain stays whole
/// across those appends; an import refused after some were appended leaves none of them; and
/// the next change links to the stored head, not to the one the refused import had reached.
async fn a_long_import_appends_its_audit_as_it_goes(b: Backend) {
    let app = spawn_app(b).await;
    let mut csv = String::from("email,first_name\n");
    for i in 0..700 {
        csv.push_str(&format!("bulk{i}@example.com,Bulk\n"));
    }
    let before = audit_entries(&app).await;
    let refused = format!("{csv}not-an-email,\n");
    let r = import(&app, "invitations=false", &refused).await;
    assert_eq!(r.body["committed"], false, "{}", r.body);
    assert_eq!(
        audit_entries(&app).await,
        before,
        "a refused import leaves no entry"
    );
    assert!(chain_is_whole(&app).await);

    app.user("after@example.com").await;
    assert_eq!(audit_entries(&app).await, before + 1);
    assert!(chain_is_whole(&app).await);

    let r = import(&app, "invitations=false", &csv).await;
    assert_eq!(r.body["committed"], true, "{}", r.body);
    assert_eq!(r.body["summary"]["created"], 700);
    assert_eq!(
        audit_entries(&app).await,
        before + 1 + 700 + 1,
        "one entry per user created and one for the import"
    );
    assert!(chain_is_whole(&app).await);
    assert!(audit_actions(&app)
        .await
        .contains(&"users_imported".to_string()));
}
both!(a_long_import_appends_its_audit_as_it_goes);

async fn group_version(app: &TestApp, name: &str) -> i64 {
    sqlx::query_scalar("SELECT version FROM user_groups WHERE name = $1")
        .bind(name)
        .fetch_one(&app.server.dir.db.pool)
        .await
        .unwrap()
}

/// An import bumps each group whose membership it changed once, at its commit (not once per
/// member: hundreds of versions of one row inside the import's transaction made PostgreSQL
/// imports quadratic), and a row rolled back in valid-rows mode bumps nothing.
async fn an_import_bumps_each_changed_group_once(b: Backend) {
    let app = spawn_app(b).await;
    let alpha = app.group("Alpha").await;
    app.group("Beta").await;
    app.group("Gamma").await;
    one_seat_profile(&app).await;
    let before = [
        group_version(&app, "Alpha").await,
        group_version(&app, "Beta").await,
        group_version(&app, "Gamma").await,
    ];
    let csv = "email,groups,profiles\n\
        ann@example.com,Alpha,\n\
        bob@example.com,Alpha,site-search:One Seat\n\
        cy@example.com,Beta,site-search:One Seat\n\
        dan@example.com,Alpha,\n";
    let r = import(&app, "mode=valid_rows&dry_run=true&invitations=false", csv).await;
    assert_eq!(r.body["summary"]["created"], 3, "{}", r.body);
    assert_eq!(group_version(&app, "Alpha").await, before[0], "a dry run");

    let r = import(&app, "mode=valid_rows&invitations=false", csv).await;
    assert_eq!(r.body["committed"], true, "{}", r.body);
    let got = rows(&r);
    assert_eq!(
        got[2],
        (
            4,
            "error".into(),
            "profiles".into(),
            "quota_exceeded".into()
        ),
        "cy joined Beta, then the row failed: {}",
        r.body
    );
    assert_eq!(group_version(&app, "Alpha").await, before[0] + 1);
    assert_eq!(
        group_version(&app, "Beta").await,
        before[1],
        "the rolled-back row's group keeps its version"
    );
    assert_eq!(group_version(&app, "Gamma").await, before[2]);
    let members = app.get(&format!("/groups/{alpha}/members")).await;
    assert_eq!(
        members.body["items"].as_array().map(Vec::len),
        Some(3),
        "{}",
        members.body
    );

    // The same file again changes nothing, so no group moves.
    let r = import(&app, "mode=valid_rows&invitations=false", csv).await;
    assert_eq!(r.body["summary"]["unchanged"], 3, "{}", r.body);
    assert_eq!(group_version(&app, "Alpha").await, before[0] + 1);
}
both!(an_import_bumps_each_changed_group_once);

/// A PostgreSQL import gives the planner statistics that count its own rows (a new
/// organisation's import grows the tables many times over inside one transaction): without
/// them, lookups by a unique key were planned through the newest index leading with `org_id`
/// and scanned every imported row for every row, so imports grew quadratic (issue 12). The
/// statistics commit with the import, so the generic plan of a user lookup afterwards shows
/// which index the import itself was using.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_postgres_import_plans_with_its_own_rows() {
    let app = spawn_app(Backend::Postgres).await;
    let mut csv = String::from("email,first_name\n");
    for i in 0..300 {
        csv.push_str(&format!("p{i}@example.com,P{i}\n"));
    }
    let r = import(&app, "invitations=false", &csv).await;
    assert_eq!(r.body["summary"]["created"], 300, "{}", r.body);
    let mut c = app.server.dir.db.pool.acquire().await.unwrap();
    for sql in [
        "SET plan_cache_mode = force_generic_plan",
        "PREPARE by_id(text, text) AS SELECT * FROM users WHERE id = $1 AND org_id = $2",
        "PREPARE by_email(text, text) AS SELECT * FROM users WHERE org_id = $1 AND email_key = $2",
    ] {
        sqlx::Executor::execute(&mut *c, sql).await.unwrap();
    }
    for (stmt, index) in [("by_id", "users_pkey"), ("by_email", "email")] {
        let plan: Vec<String> = sqlx::query_scalar(&format!("EXPLAIN EXECUTE {stmt}('x', 'y')"))
            .fetch_all(&mut *c)
            .await
            .unwrap();
        let plan = plan.join("\n");
        assert!(plan.contains(index), "{stmt} through {index}:\n{plan}");
        assert!(!plan.contains("external_id"), "{stmt}:\n{plan}");
    }
}

/// Another transaction holding the lock `ANALYZE` needs (another import's, until it commits)
/// neither blocks a PostgreSQL import nor breaks it: the refresh gives up after its lock
/// timeout, inside its own savepoint, and the import goes on and commits.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_postgres_import_goes_on_when_statistics_are_locked() {
    let app = spawn_app(Backend::Postgres).await;
    let mut other = app.server.dir.db.pool.begin().await.unwrap();
    sqlx::query("LOCK TABLE users IN SHARE UPDATE EXCLUSIVE MODE")
        .execute(&mut *other)
        .await
        .unwrap();
    let mut csv = String::from("email\n");
    for i in 0..200 {
        csv.push_str(&format!("q{i}@example.com\n"));
    }
    let r = tokio::time::timeout(
        std::time::Duration::from_secs(60),
        import(&app, "invitations=false", &csv),
    )
    .await
    .expect("the import waited for the other transaction's lock");
    assert_eq!(r.body["committed"], true, "{}", r.body);
    assert_eq!(r.body["summary"]["created"], 200, "{}", r.body);
    other.rollback().await.unwrap();
    assert!(user_count(&app).await >= 200);
}

/// The CSV report echoes the file's text: a cell a spreadsheet would run as a formula gets one
/// leading `'` there too (the guard the exports use), and a guarded cell in the uploaded file
/// is read without its `'`.
async fn the_csv_report_guards_formulas(b: Backend) {
    let app = spawn_app(b).await;
    let csv = "email,first_name,groups\n\
               =cmd@example.com,Ann,\n\
               +x@example.com,Bob,Nowhere\n\
               '-y@example.com,'=z,\n";
    let r = import_as(&app, &app.token.clone(), "dry_run=true", csv, "text/csv").await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let text = r.body.as_str().unwrap();
    assert!(text.contains("\r\n2,'=cmd@example.com,"), "{text}");
    assert!(text.contains("\r\n3,'+x@example.com,error,"), "{text}");
    assert!(text.contains("\r\n4,'-y@example.com,"), "{text}");
    for raw in [",=cmd", ",+x", ",-y", ",''-y"] {
        assert!(!text.contains(raw), "{raw}: {text}");
    }
}
both!(the_csv_report_guards_formulas);

/// A report longer than what an import holds in memory (`bulk_report::SPILL`, 2,048 rows) is
/// spooled to disk and read back for the answer: every row, in file order, as JSON and as CSV,
/// with rows in error and rows of batches (which settle out of order) in between.
async fn a_report_longer_than_memory_holds_comes_back_whole(b: Backend) {
    let app = spawn_app(b).await;
    let n: usize = 5_000;
    let mut csv = String::from("email,groups\n");
    for i in 0..n {
        if i.is_multiple_of(997) {
            csv.push_str(&format!("spool{i}@example.com,Nowhere\n"));
        } else if i.is_multiple_of(1_501) {
            csv.push_str(&format!("not-an-email-{i},\n"));
        } else {
            csv.push_str(&format!("spool{i}@example.com,\n"));
        }
    }
    let bad = |i: usize| i.is_multiple_of(997) || i.is_multiple_of(1_501);
    let r = import(&app, "dry_run=true", &csv).await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.headers["content-type"], "application/json");
    let got = rows(&r);
    assert_eq!(got.len(), n);
    for (i, (line, result, column, rule)) in got.iter().enumerate() {
        assert_eq!(*line, i as u64 + 2, "file order");
        if i.is_multiple_of(997) {
            assert_eq!(
                (result.as_str(), column.as_str(), rule.as_str()),
                ("error", "groups", "unknown_group")
            );
        } else if i.is_multiple_of(1_501) {
            assert_eq!(
                (result.as_str(), column.as_str()),
                ("error", "email"),
                "line {line}"
            );
        } else {
            assert_eq!(result, "created", "line {line}");
        }
    }
    assert_eq!(r.body["summary"]["rows"], n);
    let errors = (0..n).filter(|&i| bad(i)).count();
    assert_eq!(r.body["summary"]["errors"], errors);
    assert_eq!(r.body["summary"]["created"], n - errors);
    assert_eq!(r.body["committed"], false);

    let r = import_as(&app, &app.token.clone(), "dry_run=true", &csv, "text/csv").await;
    assert_eq!(r.status, StatusCode::OK);
    let text = r.body.as_str().expect("CSV text");
    let lines: Vec<&str> = text.split("\r\n").filter(|l| !l.is_empty()).collect();
    assert_eq!(
        lines.len(),
        n + 1,
        "the header and one line a row (one problem each)"
    );
    assert_eq!(
        lines[1],
        "2,spool0@example.com,error,groups,unknown_group,\"no user group \"\"Nowhere\"\"\""
    );
    assert_eq!(
        lines[n],
        format!("{},spool{}@example.com,created,,,", n + 1, n - 1)
    );

    // The real run in valid-rows mode writes the good rows and reports all of them.
    let before = user_count(&app).await;
    let r = import(&app, "mode=valid_rows&invitations=false", &csv).await;
    assert_eq!(r.body["committed"], true, "{}", r.body["summary"]);
    assert_eq!(rows(&r).len(), n);
    assert_eq!(user_count(&app).await, before + (n - errors) as i64);
}
both!(a_report_longer_than_memory_holds_comes_back_whole);
