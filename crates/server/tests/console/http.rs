//! The console's security at the HTTP level: the CSP and other headers, CSRF on every form,
//! cross-site posts, the session cookie's attributes, and no secret in any URL.

use crate::helpers::{spawn_app, Backend};
use crate::support::{link_in, mails, FormClient};
use reqwest::StatusCode;
use serde_json::json;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_page_has_a_strict_csp_and_no_inline_script_or_style() {
    let app = spawn_app(Backend::Sqlite).await;
    app.without_2fa().await;
    let (_, pw) = app.person("ada@example.com", true).await;
    let mut c = FormClient::new(&app);
    for path in ["/console/sign-in", "/console/reset", "/console/get-started", "/console/nope"] {
        let page = c.get(path).await;
        let csp = page.headers["content-security-policy"].to_str().unwrap();
        for part in ["default-src 'none'", "script-src 'self'", "style-src 'self'", "frame-ancestors 'none'", "form-action 'self'"] {
            assert!(csp.contains(part), "{path}: {csp}");
        }
        assert!(!csp.contains("unsafe-inline") && !csp.contains("unsafe-eval"), "{csp}");
        assert_eq!(page.headers["x-frame-options"], "DENY");
        assert_eq!(page.headers["x-content-type-options"], "nosniff");
        assert_eq!(page.headers["cache-control"], "no-store");
        no_inline_code(path, &page.body);
    }
    let signed = c.sign_in("acme", "ada@example.com", &pw).await;
    assert_eq!(signed.status, StatusCode::SEE_OTHER);
    let me = c.get("/console/me").await;
    assert_eq!(me.status, StatusCode::OK);
    assert!(me.body.contains("ada@example.com"));
    no_inline_code("/console/me", &me.body);
}

/// No `<script>` without `src`, no `<style>`, no `style=` attribute, no `on…=` handler.
fn no_inline_code(path: &str, body: &str) {
    for (i, _) in body.match_indices("<script") {
        let tag = &body[i..i + body[i..].find('>').unwrap()];
        assert!(tag.contains(" src="), "{path}: inline script {tag}");
    }
    assert!(!body.contains("<style"), "{path}: inline style element");
    assert!(!body.contains(" style=\""), "{path}: style attribute");
    assert!(!body.contains(" onclick=") && !body.contains(" onload="), "{path}: inline handler");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_form_without_its_csrf_token_is_refused_and_changes_nothing() {
    let app = spawn_app(Backend::Sqlite).await;
    app.without_2fa().await;
    let (_, pw) = app.person("ada@example.com", true).await;
    let mut c = FormClient::new(&app);

    // Sign-in itself needs the pre-session token (login CSRF).
    let r = c
        .post("/console/sign-in", &[("org", "acme"), ("login", "ada@example.com"), ("password", &pw)], &[])
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.body);
    assert!(!c.cookies.contains_key("rolecall_session"));

    let signed = c.sign_in("acme", "ada@example.com", &pw).await;
    assert_eq!(signed.status, StatusCode::SEE_OTHER, "{}", signed.body);
    let me = c.get("/console/me").await;
    let csrf = me.csrf();

    // Changing the password without the token: refused, the old password still works.
    let fields = [("current_password", pw.as_str()), ("new_password", "An0ther-l0ng-passphrase!"), ("confirm_password", "An0ther-l0ng-passphrase!")];
    let r = c.post("/console/me/password", &fields, &[]).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let mut with_wrong = fields.to_vec();
    with_wrong.push(("_csrf", "0123456789abcdef0123456789abcdef"));
    let r = c.post("/console/me/password", &with_wrong, &[]).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert_eq!(app.sign_in("ada@example.com", &pw).await.status, StatusCode::OK);

    // The right token, but sent from another site: refused.
    let mut with_token = fields.to_vec();
    with_token.push(("_csrf", &csrf));
    let r = c.post("/console/me/password", &with_token, &[("origin", "https://evil.example")]).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let r = c.post("/console/me/password", &with_token, &[("sec-fetch-site", "cross-site")]).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert_eq!(app.sign_in("ada@example.com", &pw).await.status, StatusCode::OK);

    // Same form with the token from this session's page: done.
    let r = c.post("/console/me/password", &with_token, &[("origin", &app.base.clone())]).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    assert_eq!(app.sign_in("ada@example.com", &pw).await.status, StatusCode::UNAUTHORIZED);

    // Another session's token does not fit this session.
    let mut other = FormClient::new(&app);
    other.sign_in("acme", "ada@example.com", "An0ther-l0ng-passphrase!").await;
    let r = other.post("/console/sign-out", &[("_csrf", &csrf)], &[]).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_session_cookie_is_httponly_samesite_strict_and_secure_over_tls() {
    let app = spawn_app(Backend::Sqlite).await;
    app.without_2fa().await;
    let (_, pw) = app.person("ada@example.com", true).await;
    let mut c = FormClient::new(&app);
    let r = c.sign_in("acme", "ada@example.com", &pw).await;
    let cookie = r.set_cookies().into_iter().find(|c| c.starts_with("rolecall_session=")).expect("session cookie");
    for part in ["HttpOnly", "SameSite=Strict", "Path=/"] {
        assert!(cookie.contains(part), "{cookie}");
    }
    assert!(!cookie.contains("Secure"), "plain HTTP on loopback: {cookie}");
    // The pre-session CSRF cookie is HttpOnly and Strict too.
    let mut tls = FormClient::new(&app);
    let page = tls.get("/console/sign-in").await;
    let pre = page.set_cookies().into_iter().find(|c| c.starts_with("rolecall_csrf=")).expect("csrf cookie");
    assert!(pre.contains("HttpOnly") && pre.contains("SameSite=Strict"), "{pre}");
    let csrf = page.csrf();
    let r = tls
        .post(
            "/console/sign-in",
            &[("_csrf", &csrf), ("org", "acme"), ("login", "ada@example.com"), ("password", &pw)],
            &[("x-forwarded-proto", "https")],
        )
        .await;
    let cookie = r.set_cookies().into_iter().find(|c| c.starts_with("rolecall_session=")).expect("session cookie");
    assert!(cookie.contains("; Secure"), "{cookie}");
    // Signing out ends the session on the server, not just the cookie.
    let token = c.cookies["rolecall_session"].clone();
    let me = c.get("/console/me").await;
    let r = c.post("/console/sign-out", &[("_csrf", &me.csrf())], &[]).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert!(!c.cookies.contains_key("rolecall_session"));
    let api = app.send_as(&token, reqwest::Method::GET, "/api/v1/me", None, &[]).await;
    assert_eq!(api.status, StatusCode::UNAUTHORIZED);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn signed_out_people_and_api_tokens_are_sent_to_sign_in() {
    let app = spawn_app(Backend::Sqlite).await;
    let mut c = FormClient::new(&app);
    for path in ["/console/", "/console/me", "/console/users"] {
        let r = c.get(path).await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{path}");
        assert_eq!(r.location(), "/console/sign-in");
    }
    // An API token in the cookie does not open the console: it is for programs.
    c.cookies.insert("rolecall_session".into(), app.token.clone());
    assert_eq!(c.get("/console/me").await.location(), "/console/sign-in");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mailed_links_carry_their_token_only_in_the_fragment() {
    let app = spawn_app(Backend::Sqlite).await;
    let r = app.post("/invitations", json!({ "email": "jane@example.com" })).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let mail = mails(&app, "jane@example.com", "Get started with rolecall", 1).await.remove(0);
    let link = link_in(&mail);
    let (url, fragment) = link.split_once('#').expect("a fragment");
    assert_eq!(url, format!("{}/console/get-started?org=acme", app.base));
    assert!(fragment.starts_with("token=rc_"), "{link}");
    assert!(!url.contains("rc_"));

    app.without_2fa().await;
    let (_, _pw) = app.person("bob@example.com", false).await;
    let r = app.post("/password-reset", json!({ "email": "bob@example.com" })).await;
    assert_eq!(r.status, StatusCode::ACCEPTED);
    let mail = mails(&app, "bob@example.com", "Reset your rolecall password", 1).await.remove(0);
    let link = link_in(&mail);
    let (url, fragment) = link.split_once('#').expect("a fragment");
    assert_eq!(url, format!("{}/console/reset/confirm?org=acme", app.base));
    assert!(fragment.starts_with("token=rc_"), "{link}");
}
