//! The console in a real headless Chromium: the flows people run, end to end.
//! One browser at a time (two cores): each test holds [`ONE_BROWSER`] while it drives.

use crate::helpers::{spawn_app, totp_code, Backend, TestApp};
use crate::support::{browser_sign_in, link_in, mails};
use crate::webdriver::Browser;
use serde_json::json;

static ONE_BROWSER: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

async fn browser() -> Browser {
    Browser::start(1280, 900).await
}

/// Enrols TOTP on the enrolment page the browser is on; returns the secret.
async fn enrol(b: &Browser, app: &TestApp) -> String {
    let secret = b.attr("#totp-secret", "data-secret").await;
    assert!(b.exists(".qr svg").await, "the QR code is drawn");
    b.fill("#f-code", &totp_code(&secret, app, 0)).await;
    b.click("form[action='/console/enrol'] button[type=submit]").await;
    b.find("#recovery-codes").await;
    assert_eq!(b.count("#recovery-codes li").await, 10);
    b.click("a.button.primary").await;
    b.find("header.top").await;
    secret
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sign_in_with_totp_enrolment_then_the_code() {
    let _one = ONE_BROWSER.lock().await;
    let app = spawn_app(Backend::Sqlite).await;
    let (_, pw) = app.person("ada@example.com", true).await;
    let b = browser().await;

    // A wrong password says so, without saying which part was wrong.
    b.goto(&format!("{}/console/sign-in?org=acme", app.base)).await;
    b.fill("#f-login", "ada@example.com").await;
    b.fill("#f-password", "wrong").await;
    b.click("form[action='/console/sign-in'] button[type=submit]").await;
    assert!(b.text(".notice.error").await.contains("wrong"));

    // The org requires 2FA: the first sign-in enrols with the QR code and shows recovery codes.
    b.fill("#f-password", &pw).await;
    b.click("form[action='/console/sign-in'] button[type=submit]").await;
    b.find("#totp-secret").await;
    let secret = enrol(&b, &app).await;
    assert!(b.text("nav.account").await.contains("ada@example.com"));

    // Sign out; the next sign-in asks for the code, and a wrong one is refused.
    b.click("nav.account button[type=submit]").await;
    b.find("#f-login").await;
    assert!(b.text(".notice.ok").await.contains("signed out"));
    b.fill("#f-login", "ada@example.com").await;
    b.fill("#f-password", &pw).await;
    b.click("form[action='/console/sign-in'] button[type=submit]").await;
    b.fill("#f-code", "000000").await;
    b.click("form[action='/console/sign-in/code'] button[type=submit]").await;
    assert!(b.text(".notice.error").await.contains("wrong"));
    app.clock.advance_secs(30);
    b.fill("#f-code", &totp_code(&secret, &app, 0)).await;
    b.click("form[action='/console/sign-in/code'] button[type=submit]").await;
    b.find("header.top").await;

    // My sessions lists this one.
    b.goto(&format!("{}/console/me", app.base)).await;
    assert!(b.text("main").await.contains("this session"));
    b.quit().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn accept_an_invitation_from_the_mailed_link() {
    let _one = ONE_BROWSER.lock().await;
    let app = spawn_app(Backend::Sqlite).await;
    let r = app
        .post("/invitations", json!({ "email": "jane@example.com", "first_name": "Jane" }))
        .await;
    assert_eq!(r.status, reqwest::StatusCode::CREATED, "{}", r.body);
    let mail = mails(&app, "jane@example.com", "Get started with rolecall", 1).await.remove(0);
    let link = link_in(&mail);
    let b = browser().await;
    b.goto(&link).await;
    b.find("#f-password").await;
    // The script took the token out of the address bar and into the (now hidden) field.
    assert!(!b.current_url().await.contains("token"), "{}", b.current_url().await);
    assert!(!b.is_displayed("#f-token").await);
    let password = "Correct-horse-battery-42";
    b.fill("#f-password", password).await;
    b.fill("#f-confirm_password", password).await;
    b.click("form[action='/console/get-started'] button[type=submit]").await;
    b.find("#f-login").await;
    assert!(b.text(".notice.ok").await.contains("password is set"));
    // The organization field is filled; signing in continues with 2FA enrolment.
    assert_eq!(b.attr("#f-org", "value").await, "acme");
    b.fill("#f-login", "jane@example.com").await;
    b.fill("#f-password", password).await;
    b.click("form[action='/console/sign-in'] button[type=submit]").await;
    b.find("#totp-secret").await;
    enrol(&b, &app).await;
    assert!(b.text("nav.account").await.contains("Jane"));
    // The link is single-use.
    b.click("nav.account button[type=submit]").await;
    b.goto(&link).await;
    b.fill("#f-password", password).await;
    b.fill("#f-confirm_password", password).await;
    b.click("form[action='/console/get-started'] button[type=submit]").await;
    assert!(b.text(".notice.error").await.contains("correct"));
    b.quit().await;
    let _ = browser_sign_in;
}
