//! The smaller findings of issue 9: sign-in names unique across usernames and e-mails (item
//! 11), forwarding headers only from trusted proxies (12), slow and surplus connections cut off
//! (13), durable SQLite commits (14), and item 15: what a password alone shows, what the event
//! log keeps, caching, 405, display controls in names, reset tokens and organisations,
//! duplicate grants, and permission before body validation. Also: the session cookie changes
//! nothing from another origin, only JSON media types are read as JSON, and the console's
//! cookies are `Secure` only on a trusted proxy's word.

use crate::both;
use crate::helpers::{spawn_app, spawn_app_with, totp_code, Backend, TestApp};
use crate::owner_takeover::reset_token;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

fn errors(r: &crate::helpers::Reply) -> Vec<(String, String)> {
    r.field_errors()
}

fn pair(field: &str, rule: &str) -> Vec<(String, String)> {
    vec![(field.to_string(), rule.to_string())]
}

both!(sign_in_names_are_unique_across_usernames_and_emails);
async fn sign_in_names_are_unique_across_usernames_and_emails(b: Backend) {
    let app = spawn_app(b).await;
    app.user("ann@example.com").await;
    let r = app
        .post(
            "/users",
            json!({ "email": "other@example.com", "username": "dave@example.com" }),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    // Before: 201, and Ann's e-mail sign-in then found the squatter.
    let r = app
        .post(
            "/users",
            json!({ "email": "squat@example.com", "username": "ANN@example.com" }),
        )
        .await;
    assert_eq!(errors(&r), pair("username", "unique"), "{}", r.body);
    let r = app
        .post("/users", json!({ "email": "Dave@Example.com" }))
        .await;
    assert_eq!(errors(&r), pair("email", "unique"), "{}", r.body);
    let eve = app.user("eve@example.com").await;
    let r = app
        .patch(
            &format!("/users/{eve}"),
            json!({ "username": "ann@EXAMPLE.com" }),
        )
        .await;
    assert_eq!(errors(&r), pair("username", "unique"), "{}", r.body);
    let r = app
        .patch(
            &format!("/users/{eve}"),
            json!({ "email": "dave@example.com" }),
        )
        .await;
    assert_eq!(errors(&r), pair("email", "unique"), "{}", r.body);
    // One's own username may be one's own e-mail (the default), and names freed are reusable.
    let r = app
        .patch(
            &format!("/users/{eve}"),
            json!({ "username": "EVE@example.com" }),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let r = app
        .patch(
            &format!("/users/{eve}"),
            json!({ "username": "eve", "email": "eve2@example.com" }),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(
        app.post("/users", json!({ "email": "eve@example.com" }))
            .await
            .status,
        StatusCode::CREATED
    );
}

/// Failed sign-ins from `forwarded_for`; the statuses.
async fn sign_ins_from(app: &TestApp, forwarded_for: &str, n: usize) -> Vec<StatusCode> {
    let mut out = Vec::new();
    for _ in 0..n {
        out.push(
            app.send_as(
                "",
                Method::POST,
                "/sign-in",
                Some(json!({ "login": "jane@example.com", "password": "wrong-password" })),
                &[("x-forwarded-for", forwarded_for)],
            )
            .await
            .status,
        );
    }
    out
}

async fn last_event_ip(app: &TestApp) -> String {
    app.get("/auth-events?limit=1").await.body["items"][0]["source_ip"]
        .as_str()
        .unwrap()
        .to_string()
}

both!(forwarding_headers_count_only_from_trusted_proxies);
async fn forwarding_headers_count_only_from_trusted_proxies(b: Backend) {
    use StatusCode as S;
    let unauthorised = S::UNAUTHORIZED;
    // Behind a proxy we trust (the tests' client is on 127.0.0.1): one bucket per client.
    let app = spawn_app_with(b, |c| {
        c.sign_in_limit_per_minute = 2;
        c.trusted_proxies = vec!["127.0.0.0/8".parse().unwrap()];
    })
    .await;
    app.person("jane@example.com", false).await;
    assert_eq!(
        sign_ins_from(&app, "198.51.100.1", 3).await,
        [unauthorised, unauthorised, S::TOO_MANY_REQUESTS]
    );
    assert_eq!(last_event_ip(&app).await, "198.51.100.1");
    assert_eq!(
        sign_ins_from(&app, "198.51.100.2", 1).await,
        [unauthorised],
        "another client behind the proxy has its own bucket"
    );
    let r = app
        .send_as(
            "",
            Method::POST,
            "/sign-in",
            Some(json!({ "login": "x", "password": "y" })),
            &[
                ("x-forwarded-for", "198.51.100.3"),
                ("x-forwarded-proto", "https"),
            ],
        )
        .await;
    assert_eq!(r.status, unauthorised);

    // From anyone else the headers are the client's say-so: ignored (before, they were not
    // even read, and behind a proxy everyone shared the proxy's bucket).
    let app = spawn_app_with(b, |c| c.sign_in_limit_per_minute = 2).await;
    app.person("jane@example.com", false).await;
    assert_eq!(sign_ins_from(&app, "198.51.100.1", 1).await, [unauthorised]);
    assert_eq!(last_event_ip(&app).await, "127.0.0.1");
    assert_eq!(
        sign_ins_from(&app, "198.51.100.2", 2).await,
        [unauthorised, S::TOO_MANY_REQUESTS],
        "a forged header does not buy a new bucket"
    );
}

both!(the_session_cookie_is_secure_only_behind_a_trusted_tls_proxy);
async fn the_session_cookie_is_secure_only_behind_a_trusted_tls_proxy(b: Backend) {
    for trusted in [false, true] {
        let app = spawn_app_with(b, |c| {
            if trusted {
                c.trusted_proxies = vec!["127.0.0.1".parse().unwrap()];
            }
        })
        .await;
        let (_, pw) = app.person("jane@example.com", false).await;
        let r = app
            .send_as(
                "",
                Method::POST,
                "/sign-in",
                Some(json!({ "login": "jane@example.com", "password": pw })),
                &[("x-forwarded-proto", "https")],
            )
            .await;
        let cookie = r.headers["set-cookie"].to_str().unwrap().to_string();
        assert_eq!(cookie.contains("; Secure"), trusted, "{cookie}");
    }
}

/// The `Set-Cookie` of a console response that sets `name`.
fn set_cookie(res: &reqwest::Response, name: &str) -> String {
    res.headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|c| c.starts_with(&format!("{name}=")))
        .unwrap_or_else(|| panic!("no {name} cookie"))
        .to_string()
}

both!(the_console_cookies_are_secure_only_behind_a_trusted_tls_proxy);
async fn the_console_cookies_are_secure_only_behind_a_trusted_tls_proxy(b: Backend) {
    for trusted in [false, true] {
        let app = spawn_app_with(b, |c| {
            if trusted {
                c.trusted_proxies = vec!["127.0.0.1".parse().unwrap()];
            }
        })
        .await;
        let (_, pw) = app.person("jane@example.com", false).await;
        // Our proxy says so in RFC 7239's header; anyone else's say-so, in either header, is
        // ignored (before, the console believed `X-Forwarded-Proto` from any client).
        let mut said: Vec<(&str, &str)> = vec![("forwarded", "for=198.51.100.7;proto=https")];
        if !trusted {
            said.push(("x-forwarded-proto", "https"));
        }
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap();
        let mut req = http.get(format!("{}/console/sign-in", app.base));
        for (k, v) in &said {
            req = req.header(*k, *v);
        }
        let page = req.send().await.unwrap();
        let pre = set_cookie(&page, "rolecall_csrf");
        assert_eq!(pre.contains("; Secure"), trusted, "{pre}");
        let pre = pre.split(';').next().unwrap().to_string();
        let html = page.text().await.unwrap();
        let at = html.find("name=\"_csrf\" value=\"").expect("a CSRF field") + 20;
        let csrf = &html[at..at + html[at..].find('"').unwrap()];
        let form = serde_urlencoded::to_string([
            ("_csrf", csrf),
            ("org", "acme"),
            ("login", "jane@example.com"),
            ("password", pw.as_str()),
        ])
        .unwrap();
        let mut req = http
            .post(format!("{}/console/sign-in", app.base))
            .header("cookie", pre)
            .header("content-type", "application/x-www-form-urlencoded")
            .body(form);
        for (k, v) in &said {
            req = req.header(*k, *v);
        }
        let signed = req.send().await.unwrap();
        assert_eq!(signed.status(), StatusCode::SEE_OTHER);
        let session = set_cookie(&signed, "rolecall_session");
        assert_eq!(session.contains("; Secure"), trusted, "{session}");
    }
}

/// Grants the System admin right to `user` as a browser holding the session `cookie` sends it,
/// with `headers` (`Origin`, `Sec-Fetch-Site`) added.
async fn grant_by_cookie(
    app: &TestApp,
    cookie: &str,
    user: &str,
    headers: &[(&str, &str)],
) -> crate::helpers::Reply {
    let mut all = vec![("cookie", cookie)];
    all.extend_from_slice(headers);
    app.send_as(
        "",
        Method::POST,
        &format!("/users/{user}/admin-rights"),
        Some(json!({ "kind": "system" })),
        &all,
    )
    .await
}

both!(the_session_cookie_changes_nothing_from_another_origin);
async fn the_session_cookie_changes_nothing_from_another_origin(b: Backend) {
    let app = spawn_app(b).await;
    app.without_2fa().await;
    // A System admin signed in a moment ago (so within the re-verification window): their
    // browser holds the session cookie, which it adds to requests from every page of the site.
    let admin = app.signed_in("admin@example.com", true).await;
    let cookie = format!("rolecall_session={}", admin.token);
    let mallory = app.user("mallory@example.com").await;
    let here = app.base.clone();
    // Before: 201 from a page on a sibling subdomain (same site, other origin).
    for headers in [
        vec![("origin", "https://evil.example")],
        vec![("origin", "null")],
        vec![("sec-fetch-site", "same-site"), ("origin", here.as_str())],
        vec![("sec-fetch-site", "cross-site")],
        // Neither header: the API has no CSRF token to fall back on.
        vec![],
    ] {
        let r = grant_by_cookie(&app, &cookie, &mallory, &headers).await;
        assert_eq!(
            (r.status, r.body["code"].as_str()),
            (StatusCode::FORBIDDEN, Some("cross_origin_request")),
            "{headers:?}: {}",
            r.body
        );
        assert_eq!(r.headers["content-type"], "application/problem+json");
    }
    // A body-less change is refused the same way: the session was not ended.
    let r = app
        .send_as(
            "",
            Method::POST,
            "/api/v1/sign-out",
            None,
            &[("cookie", cookie.as_str()), ("sec-fetch-site", "same-site")],
        )
        .await;
    assert_eq!(r.body["code"], "cross_origin_request", "{}", r.body);
    // A text/plain body (CORS-safelisted: no preflight) is refused before it is read.
    let res = app
        .client
        .post(app.url(&format!("/users/{mallory}/admin-rights")))
        .header("cookie", cookie.as_str())
        .header("origin", "https://evil.example")
        .header("content-type", "text/plain;x=+json")
        .body(json!({ "kind": "system" }).to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    assert!(
        app.get(&format!("/users/{mallory}/admin-rights"))
            .await
            .body["items"]
            .as_array()
            .unwrap()
            .is_empty(),
        "nothing was granted"
    );
    // Reading is not a change: the cookie still reads from anywhere (no CORS: another origin
    // cannot see the answer).
    let me = app
        .send_as(
            "",
            Method::GET,
            "/api/v1/me",
            None,
            &[
                ("cookie", cookie.as_str()),
                ("sec-fetch-site", "cross-site"),
            ],
        )
        .await;
    assert_eq!(me.status, StatusCode::OK, "{}", me.body);

    // From the console's own origin, the browser says so: the change goes through.
    let r = grant_by_cookie(
        &app,
        &cookie,
        &mallory,
        &[("sec-fetch-site", "same-origin")],
    )
    .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    // A browser without `Sec-Fetch-Site` names the origin, which must be this host.
    let r = grant_by_cookie(&app, &cookie, &mallory, &[("origin", here.as_str())]).await;
    assert_eq!(r.status, StatusCode::OK, "already granted: {}", r.body);
    // A program sends the same secret as a bearer token, which no browser adds for another
    // origin: no Origin needed.
    let ann = app.user("ann@example.com").await;
    let r = app
        .send_as(
            &admin.token,
            Method::POST,
            &format!("/users/{ann}/admin-rights"),
            Some(json!({ "kind": "system" })),
            &[],
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
}

both!(only_json_media_types_are_read_as_json);
async fn only_json_media_types_are_read_as_json(b: Backend) {
    let app = spawn_app(b).await;
    let body = json!({ "name": "Merch" }).to_string();
    // Before: anything containing `+json` was read as JSON, `text/plain;x=+json` included.
    for content_type in [
        "text/plain;x=+json",
        "text/plain; charset=utf-8; profile=+json",
        "text/plain+json",
        "application/jsonp",
        "application/+json",
        "multipart/form-data; boundary=+json",
    ] {
        let r = app.raw(Method::POST, "/groups", content_type, &body).await;
        assert_eq!(
            (r.status, r.body["code"].as_str()),
            (
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                Some("unsupported_media_type")
            ),
            "{content_type}: {}",
            r.body
        );
    }
    assert_eq!(app.get("/groups").await.body["total"], 0);
    for (content_type, name) in [
        ("application/json", "One"),
        ("Application/JSON; charset=utf-8", "Two"),
        ("application/merge-patch+json", "Three"),
        ("application/vnd.example+json ; q=1", "Four"),
    ] {
        let r = app
            .raw(
                Method::POST,
                "/groups",
                content_type,
                &json!({ "name": name }).to_string(),
            )
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{content_type}: {}", r.body);
    }
}

/// Reads until the server closes the connection; what it sent.
async fn read_until_closed(stream: &mut TcpStream) -> String {
    let mut out = Vec::new();
    let read = tokio::time::timeout(Duration::from_secs(30), stream.read_to_end(&mut out)).await;
    assert!(read.is_ok(), "the server kept a slow connection open");
    String::from_utf8_lossy(&out).to_string()
}

both!(slow_and_surplus_connections_are_cut_off);
async fn slow_and_surplus_connections_are_cut_off(b: Backend) {
    let app = spawn_app_with(b, |c| {
        c.limits.header_read_timeout = Duration::from_secs(1);
        c.limits.body_read_timeout = Duration::from_secs(1);
    })
    .await;
    let addr = app.server.addr;
    // Before: 40 such connections stayed open 130 s.
    let mut slow = Vec::new();
    for _ in 0..5 {
        let mut s = TcpStream::connect(addr).await.unwrap();
        s.write_all(b"GET /healthz HTTP/1.1\r\nHost: rolecall\r\n")
            .await
            .unwrap();
        slow.push(s);
    }
    let mut idle = TcpStream::connect(addr).await.unwrap();
    for s in &mut slow {
        read_until_closed(s).await;
    }
    read_until_closed(&mut idle).await;
    // A body that never finishes arriving: 408, then the connection closes.
    let mut s = TcpStream::connect(addr).await.unwrap();
    let head = format!(
        "POST /api/v1/organizations/acme/groups HTTP/1.1\r\nHost: rolecall\r\nAuthorization: Bearer {}\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{{\"name\":",
        app.token
    );
    s.write_all(head.as_bytes()).await.unwrap();
    let reply = read_until_closed(&mut s).await;
    assert!(reply.starts_with("HTTP/1.1 408"), "{reply}");
    assert!(reply.contains("application/problem+json") && reply.contains("body_timeout"));
    assert_eq!(app.get("/groups").await.body["total"], 0);

    // More connections than the cap: the surplus is answered 503 and closed at once.
    let app = spawn_app_with(b, |c| {
        c.limits.max_connections = 2;
        c.limits.header_read_timeout = Duration::from_secs(20);
    })
    .await;
    let addr = app.server.addr;
    let held = [
        TcpStream::connect(addr).await.unwrap(),
        TcpStream::connect(addr).await.unwrap(),
    ];
    tokio::time::sleep(Duration::from_millis(200)).await;
    let mut extra = TcpStream::connect(addr).await.unwrap();
    extra
        .write_all(b"GET /healthz HTTP/1.1\r\nHost: rolecall\r\n\r\n")
        .await
        .unwrap();
    let reply = read_until_closed(&mut extra).await;
    assert!(reply.starts_with("HTTP/1.1 503"), "{reply}");
    assert!(reply.contains("too_many_connections"), "{reply}");
    drop(held);
    // Once they are gone, there is room again.
    let mut served = false;
    for _ in 0..50 {
        let mut s = TcpStream::connect(addr).await.unwrap();
        s.write_all(b"GET /healthz HTTP/1.1\r\nHost: rolecall\r\nConnection: close\r\n\r\n")
            .await
            .unwrap();
        if read_until_closed(&mut s).await.starts_with("HTTP/1.1 200") {
            served = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(served);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_commits_survive_power_loss_by_default() {
    // PostgreSQL's durability is its own configuration (synchronous_commit); this is SQLite's.
    async fn synchronous(app: &TestApp) -> i64 {
        sqlx::query_scalar::<_, i64>("PRAGMA synchronous")
            .fetch_one(&app.server.dir.db.pool)
            .await
            .unwrap()
    }
    let app = spawn_app(Backend::Sqlite).await;
    // The default syncs the log after each commit instead of inside it (group sync, issue 14):
    // the connection runs NORMAL, and no change is answered before a sync that began after it.
    assert_eq!(
        synchronous(&app).await,
        1,
        "the sync happens after the commit"
    );
    let wal = app
        .server
        .dir
        .db
        .wal_sync
        .clone()
        .expect("group sync by default");
    for n in 0..5 {
        let before = wal.commits();
        let r = app
            .post(
                "/users",
                json!({"email": format!("durable{n}@example.com"), "notify": false}),
            )
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
        assert!(
            wal.synced() > before,
            "answered before its commit was on disk: synced {} of {} commits",
            wal.synced(),
            wal.commits()
        );
    }
    assert!(wal.syncs() >= 1);
    let app = spawn_app_with(Backend::Sqlite, |c| {
        c.db.sqlite_synchronous = rolecall::store::Synchronous::PerCommit
    })
    .await;
    assert_eq!(synchronous(&app).await, 2, "SQLite's FULL when asked for");
    assert!(app.server.dir.db.wal_sync.is_none());
    let app = spawn_app_with(Backend::Sqlite, |c| {
        c.db.sqlite_synchronous = rolecall::store::Synchronous::Normal
    })
    .await;
    assert_eq!(synchronous(&app).await, 1, "NORMAL when asked for");
    assert!(
        app.server.dir.db.wal_sync.is_none(),
        "no sync when asked for none"
    );
}

both!(a_password_alone_shows_no_admin_rights);
async fn a_password_alone_shows_no_admin_rights(b: Backend) {
    let app = spawn_app(b).await;
    let (_, pw) = app.person("admin@example.com", true).await;
    let r = app.sign_in("admin@example.com", &pw).await;
    assert_eq!(r.body["stage"], "enrol");
    let token = r.body["token"].as_str().unwrap().to_string();
    let me = app
        .send_as(&token, Method::GET, "/api/v1/me", None, &[])
        .await;
    assert_eq!(me.status, StatusCode::OK);
    // Before: `[{"kind":"system"}]` with the second factor still pending.
    assert_eq!(me.body["admin_rights"], json!([]), "{}", me.body);
    let e = app
        .send_as(&token, Method::POST, "/api/v1/me/totp/enrolment", None, &[])
        .await;
    let secret = e.body["secret"].as_str().unwrap().to_string();
    let r = app
        .send_as(
            &token,
            Method::POST,
            "/api/v1/me/totp/confirm",
            Some(json!({ "code": totp_code(&secret, &app, 0) })),
            &[],
        )
        .await;
    assert_eq!(r.status, StatusCode::OK);
    let me = app
        .send_as(&token, Method::GET, "/api/v1/me", None, &[])
        .await;
    assert_eq!(me.body["admin_rights"], json!([{ "kind": "system" }]));
}

both!(unknown_sign_in_names_are_not_kept);
async fn unknown_sign_in_names_are_not_kept(b: Backend) {
    let app = spawn_app(b).await;
    // People type their password into the name field.
    app.sign_in("Tr0ub4dor&3-typo", "whatever").await;
    let events = app.get("/auth-events").await.body.to_string();
    assert!(events.contains("sign_in_failed"), "{events}");
    assert!(!events.contains("Tr0ub4dor"), "{events}");
}

both!(answers_are_never_cached);
async fn answers_are_never_cached(b: Backend) {
    let app = spawn_app(b).await;
    let (_, pw) = app.person("jane@example.com", false).await;
    let signed = app.sign_in("jane@example.com", &pw).await;
    let token = signed.body["token"].as_str().unwrap().to_string();
    let enrolment = app
        .send_as(&token, Method::POST, "/api/v1/me/totp/enrolment", None, &[])
        .await;
    let secret = enrolment.body["secret"].as_str().unwrap().to_string();
    let codes = app
        .send_as(
            &token,
            Method::POST,
            "/api/v1/me/totp/confirm",
            Some(json!({ "code": totp_code(&secret, &app, 0) })),
            &[],
        )
        .await;
    let credential = app.post("/credentials", json!({ "name": "shop" })).await;
    let failure = app.get("/users/not-a-user").await;
    for (what, r) in [
        ("session token", &signed),
        ("TOTP secret", &enrolment),
        ("recovery codes", &codes),
        ("credential secret", &credential),
        ("a problem", &failure),
    ] {
        assert_eq!(r.headers["cache-control"], "no-store", "{what}");
    }
}

both!(unsupported_methods_answer_405_problems);
async fn unsupported_methods_answer_405_problems(b: Backend) {
    let app = spawn_app(b).await;
    let r = app
        .send(Method::PATCH, "/users", Some(json!({})), &[])
        .await;
    assert_eq!(r.status, StatusCode::METHOD_NOT_ALLOWED);
    // Before: an empty body.
    assert_eq!(r.headers["content-type"], "application/problem+json");
    assert_eq!(r.body["code"], "method_not_allowed");
    let allow = r.headers["allow"].to_str().unwrap().to_string();
    assert!(allow.contains("GET") && allow.contains("POST"), "{allow}");
}

both!(names_refuse_characters_that_reorder_text);
async fn names_refuse_characters_that_reorder_text(b: Backend) {
    let app = spawn_app(b).await;
    let rlo = "admin\u{202E}fdp.exe";
    for (path, body, field) in [
        (
            "/users",
            json!({ "email": "x@example.com", "first_name": rlo }),
            "first_name",
        ),
        ("/groups", json!({ "name": rlo }), "name"),
        (
            "/roles",
            json!({ "application": "commerce-admin", "name": "Clean", "description": rlo }),
            "description",
        ),
        (
            "/applications/commerce-admin/scopes",
            json!({ "code": "eu", "name": rlo }),
            "name",
        ),
    ] {
        let r = app.post(path, body).await;
        assert_eq!(
            errors(&r),
            pair(field, "no_bidi_controls"),
            "{path}: {}",
            r.body
        );
    }
    let r = app
        .patch("/api/v1/organizations/acme", json!({ "name": rlo }))
        .await;
    assert_eq!(errors(&r), pair("name", "no_bidi_controls"), "{}", r.body);
}

both!(reset_tokens_belong_to_their_organisation);
async fn reset_tokens_belong_to_their_organisation(b: Backend) {
    let app = spawn_app(b).await;
    app.post(
        "/api/v1/organizations",
        json!({ "slug": "beta", "name": "Beta" }),
    )
    .await;
    app.person("jane@example.com", false).await;
    app.send_as(
        "",
        Method::POST,
        "/password-reset",
        Some(json!({ "email": "jane@example.com" })),
        &[],
    )
    .await;
    let token = reset_token(&app, "jane@example.com", 1).await;
    let confirm = |org: &'static str| {
        let (app, token) = (&app, token.clone());
        async move {
            app.send_as(
                "",
                Method::POST,
                &format!("/api/v1/organizations/{org}/password-reset/confirm"),
                Some(json!({ "token": token, "new_password": "Brand-New-Horse-Battery-8" })),
                &[],
            )
            .await
        }
    };
    let r = confirm("beta").await;
    // Before: 404 "user <uuid> not found".
    assert_eq!(
        errors(&r),
        pair("token", "reset_token_invalid"),
        "{}",
        r.body
    );
    assert!(!r.body.to_string().contains("not found"));
    assert_eq!(confirm("acme").await.status, StatusCode::NO_CONTENT);
}

both!(duplicate_grants_collapse_and_are_limited);
async fn duplicate_grants_collapse_and_are_limited(b: Backend) {
    let app = spawn_app(b).await;
    let grant = json!({ "resource": "Magento_Sales::sales" });
    let many: Vec<Value> = vec![grant.clone(); 20_000];
    let r = app
        .post(
            "/roles",
            json!({ "application": "commerce-admin", "name": "Many", "grants": many }),
        )
        .await;
    // Before: 201 with 20,000 grants stored.
    assert_eq!(errors(&r), pair("grants", "max_items"), "{}", r.body);
    let r = app
        .post(
            "/roles",
            json!({ "application": "commerce-admin", "name": "Few", "grants": [grant, grant, grant] }),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let grants = r.body["grants"].as_array().unwrap();
    assert_eq!(grants.len(), 1, "{}", r.body);
    assert_eq!(grants[0]["resource"], "Magento_Sales::sales");
}

both!(callers_are_authorised_before_bodies_are_read);
async fn callers_are_authorised_before_bodies_are_read(b: Backend) {
    let app = spawn_app(b).await;
    app.without_2fa().await;
    let nobody = app.signed_in("nobody@example.com", false).await;
    // Before: 422 for a body the caller had no right to send at all.
    let r = app
        .send_as(
            &nobody.token,
            Method::PUT,
            "/api/v1/applications/commerce-admin",
            Some(json!({ "not": "an application" })),
            &[],
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.body);
    // Generated: every operation that takes a body and needs a right, sent a body that is no
    // valid anything by someone who holds no right.
    let doc = app.get("/api/v1/openapi.json").await.body;
    let mut checked = 0;
    for (path, item) in doc["paths"].as_object().unwrap() {
        if path.starts_with("/api/v1/me") {
            continue; // self-service
        }
        for (method, op) in item.as_object().unwrap() {
            let Ok(m) = method.to_uppercase().parse::<Method>() else {
                continue;
            };
            let public = op["security"].as_array().is_some_and(|s| {
                s.iter()
                    .any(|x| x.as_object().is_some_and(|o| o.is_empty()))
            });
            if op["requestBody"].is_null() || public {
                continue;
            }
            let url = path
                .replace("{org}", "acme")
                .replace("{app}", "commerce-admin")
                .replace("{key}", "commerce-admin")
                .split('/')
                .map(|seg| {
                    if seg.starts_with('{') {
                        uuid::Uuid::new_v4().to_string()
                    } else {
                        seg.to_string()
                    }
                })
                .collect::<Vec<_>>()
                .join("/");
            let r = app
                .send_as(
                    &nobody.token,
                    m.clone(),
                    &url,
                    Some(json!({ "no_such_field": true })),
                    &[],
                )
                .await;
            assert_eq!(
                r.status,
                StatusCode::FORBIDDEN,
                "{method} {path}: {}",
                r.body
            );
            checked += 1;
        }
    }
    assert!(checked >= 25, "only {checked} operations with bodies");
}

both!(http2_with_prior_knowledge_is_served_beside_http1);
/// Check callers that multiplex speak cleartext HTTP/2 (h2c, prior knowledge) to the same port
/// as HTTP/1.1 clients; the listener tells them apart by the connection preface. `curl` is
/// installed by scripts/test.
async fn http2_with_prior_knowledge_is_served_beside_http1(b: Backend) {
    let app = spawn_app(b).await;
    let user = app.user("h2@acme.example").await;
    let curl = |version: &'static str, path: &str, body: Option<String>| {
        let mut cmd = std::process::Command::new("curl");
        cmd.args(["-s", "-w", "\n%{http_version} %{http_code}", version])
            .arg(format!("http://{}{path}", app.server.addr))
            .args(["-H", &format!("Authorization: Bearer {}", app.token)]);
        if let Some(body) = body {
            cmd.args(["-H", "Content-Type: application/json", "--data", &body]);
        }
        let out = cmd.output().expect("curl runs");
        String::from_utf8_lossy(&out.stdout).to_string()
    };
    let check = serde_json::json!({
        "user_id": user, "application": "cloud-project",
        "resource": "environment:deploy", "action": "deploy", "scope": "production"
    })
    .to_string();
    for (version, expect) in [
        ("--http2-prior-knowledge", "2 200"),
        ("--http1.1", "1.1 200"),
    ] {
        let health = curl(version, "/healthz", None);
        assert!(health.ends_with(expect), "{version}: {health}");
        let decided = curl(
            version,
            "/api/v1/organizations/acme/check",
            Some(check.clone()),
        );
        assert!(decided.ends_with(expect), "{version}: {decided}");
        assert!(decided.contains("\"decision\":\"deny\""), "{decided}");
    }
}
