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
    b.click("form[action='/console/enrol'] button[type=submit]")
        .await;
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
    b.goto(&format!("{}/console/sign-in?org=acme", app.base))
        .await;
    b.fill("#f-login", "ada@example.com").await;
    b.fill("#f-password", "wrong").await;
    b.click("form[action='/console/sign-in'] button[type=submit]")
        .await;
    b.text_containing(".notice.error", "wrong").await;

    // The org requires 2FA: the first sign-in enrols with the QR code and shows recovery codes.
    b.fill("#f-password", &pw).await;
    b.click("form[action='/console/sign-in'] button[type=submit]")
        .await;
    b.find("#totp-secret").await;
    let secret = enrol(&b, &app).await;
    assert!(b.text("nav.account").await.contains("ada@example.com"));

    // Sign out; the next sign-in asks for the code, and a wrong one is refused.
    b.click("nav.account button[type=submit]").await;
    b.find("#f-login").await;
    b.text_containing(".notice.ok", "signed out").await;
    b.fill("#f-login", "ada@example.com").await;
    b.fill("#f-password", &pw).await;
    b.click("form[action='/console/sign-in'] button[type=submit]")
        .await;
    b.fill("#f-code", "000000").await;
    b.click("form[action='/console/sign-in/code'] button[type=submit]")
        .await;
    b.text_containing(".notice.error", "wrong").await;
    app.clock.advance_secs(30);
    b.fill("#f-code", &totp_code(&secret, &app, 0)).await;
    b.click("form[action='/console/sign-in/code'] button[type=submit]")
        .await;
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
        .post(
            "/invitations",
            json!({ "email": "jane@example.com", "first_name": "Jane" }),
        )
        .await;
    assert_eq!(r.status, reqwest::StatusCode::CREATED, "{}", r.body);
    let mail = mails(&app, "jane@example.com", "Get started with rolecall", 1)
        .await
        .remove(0);
    let link = link_in(&mail);
    let token = mail
        .lines()
        .find(|l| l.starts_with("rc_"))
        .unwrap()
        .trim()
        .to_string();
    let b = browser().await;
    b.goto(&link).await;
    b.fill("#f-token", &token).await;
    let password = "Correct-horse-battery-42";
    b.fill("#f-password", password).await;
    b.fill("#f-confirm_password", password).await;
    b.click("form[action='/console/get-started'] button[type=submit]")
        .await;
    b.find("#f-login").await;
    b.text_containing(".notice.ok", "password is set").await;
    // The organization field is filled; signing in continues with 2FA enrolment.
    assert_eq!(b.attr("#f-org", "value").await, "acme");
    b.fill("#f-login", "jane@example.com").await;
    b.fill("#f-password", password).await;
    b.click("form[action='/console/sign-in'] button[type=submit]")
        .await;
    b.find("#totp-secret").await;
    enrol(&b, &app).await;
    assert!(b.text("nav.account").await.contains("Jane"));
    // The link is single-use.
    b.click("nav.account button[type=submit]").await;
    // Let the sign-out land before opening the link, or its redirect may come after.
    b.text_containing(".notice.ok", "signed out").await;
    b.goto(&link).await;
    b.fill("#f-token", &token).await;
    b.fill("#f-password", password).await;
    b.fill("#f-confirm_password", password).await;
    b.click("form[action='/console/get-started'] button[type=submit]")
        .await;
    b.text_containing(".notice.error", "correct").await;
    assert!(b
        .text("#f-token-hint ~ .error-text")
        .await
        .contains("already used"));
    b.quit().await;
}

/// An organization without 2FA (the flows below are not about it) and a System admin.
async fn org_with_admin() -> (TestApp, String) {
    let app = spawn_app(Backend::Sqlite).await;
    app.without_2fa().await;
    let (_, pw) = app.person("ada@example.com", true).await;
    (app, pw)
}

async fn submit(b: &Browser, form_action: &str) {
    b.click(&format!(
        "form[method=post][action='{form_action}'] button[type=submit]"
    ))
    .await;
}

/// Answers the re-verification dialog.
async fn confirm_identity(b: &Browser, password: &str) {
    b.find("#reverify-title").await;
    b.fill("#f-reverify", password).await;
    b.click(".dialog button[type=submit]").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn create_a_user_build_a_role_assign_it_through_a_group_explain_then_deactivate() {
    let _one = ONE_BROWSER.lock().await;
    let (app, pw) = org_with_admin().await;
    let b = browser().await;
    browser_sign_in(&b, &app, "ada@example.com", &pw, None).await;
    // Past the re-verification window of the sign-in: the first sensitive change asks.
    app.clock.advance_secs(301);

    // Create a user: a bad e-mail is marked at the field, then the user is saved.
    b.goto(&format!("{}/console/users/new", app.base)).await;
    b.fill("#f-email", "nina@").await;
    b.fill("#f-first_name", "Nina").await;
    b.click("#f-invite").await; // active now; she gets a password below
    submit(&b, "/console/users/new").await;
    confirm_identity(&b, &pw).await;
    assert_eq!(b.attr("#f-email", "aria-invalid").await, "true");
    assert!(!b.text("#f-email-error").await.is_empty());
    assert_eq!(
        b.attr("#f-first_name", "value").await,
        "Nina",
        "what was typed stays"
    );
    b.fill("#f-email", "nina@example.com").await;
    if b.is_selected("#f-invite").await {
        b.click("#f-invite").await;
    }
    submit(&b, "/console/users/new").await;
    b.text_containing(".notice.ok", "User created").await;
    let nina = b
        .current_url()
        .await
        .rsplit('/')
        .next()
        .unwrap()
        .to_string();
    let r = app
        .put(
            &format!("/users/{nina}/password"),
            json!({ "password": "Tr0ub4dor&3-zebra-staple-q" }),
        )
        .await;
    assert_eq!(r.status, reqwest::StatusCode::NO_CONTENT);
    let nina_session = app
        .sign_in("nina@example.com", "Tr0ub4dor&3-zebra-staple-q")
        .await
        .body["token"]
        .as_str()
        .unwrap()
        .to_string();

    // Build a role in the tree: search finds "Orders"; checking it checks its subtree.
    b.goto(&format!(
        "{}/console/roles/new?app=commerce-admin",
        app.base
    ))
    .await;
    b.fill("#f-name", "Order-Desk").await;
    b.fill("#f-tree-search", "Orders").await;
    assert!(
        b.count("li.match").await >= 2,
        "several resources are titled Orders"
    );
    let orders = "li[data-id='Magento_Sales::sales_order']";
    assert!(
        b.is_displayed(&format!("{orders} > .node input[data-node]"))
            .await
    );
    b.click(&format!("{orders} > .node input[data-node]")).await;
    assert!(
        b.is_selected(&format!("{orders} li input[data-node]"))
            .await,
        "the subtree is checked"
    );
    submit(&b, "/console/roles/new").await;
    b.text_containing(".notice.ok", "Role created").await;
    let role = b
        .current_url()
        .await
        .rsplit('/')
        .next()
        .unwrap()
        .to_string();
    let grants = app.get(&format!("/roles/{role}/grants")).await.body;
    assert_eq!(
        grants["grants"],
        json!([{ "resource": "Magento_Sales::sales_order", "actions": "*" }])
    );

    // Assign it through a group: create the group, add Nina, give the group the role.
    b.goto(&format!("{}/console/groups", app.base)).await;
    b.fill("#f-name", "Order team").await;
    submit(&b, "/console/groups").await;
    // The form answers with a redirect to the new group's page: wait for the browser to get
    // there before reading its id from the address.
    let mut group = String::new();
    for _ in 0..100 {
        let url = b.current_url().await;
        let last = url.rsplit('/').next().unwrap_or_default().to_string();
        if uuid::Uuid::parse_str(&last).is_ok() {
            group = last;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert!(!group.is_empty(), "the new group's page opens");
    b.fill("#f-login", "nina@example.com").await;
    submit(&b, &format!("/console/groups/{group}/members")).await;
    b.text_containing(".notice.ok", "added").await;
    b.select("#f-role", &role).await;
    submit(&b, &format!("/console/groups/{group}/roles")).await;
    b.text_containing(".notice.ok", "Order-Desk").await;

    // The explain box allows it, and names the role and the group.
    let explain = |user: &str| {
        format!("{}/console/explain?user={user}&app=commerce-admin&resource=Magento_Sales%3A%3Asales_order&scope=global", app.base)
    };
    b.goto(&explain("nina%40example.com")).await;
    assert!(b.exists(".verdict.allow").await, "{}", b.text("main").await);
    let table = b.text("main table.list").await;
    assert!(
        table.contains("Order-Desk") && table.contains("Order team"),
        "{table}"
    );
    // …and it is the same answer applications get.
    assert_eq!(
        app.decide(
            &nina,
            "commerce-admin",
            "Magento_Sales::sales_order",
            None,
            None
        )
        .await,
        "allow"
    );

    // Deactivate her: the check denies and her sessions are gone.
    b.goto(&format!("{}/console/users/{nina}", app.base)).await;
    b.click("button.danger[type=submit]:not([formaction])")
        .await;
    b.text_containing(".notice.ok", "deactivated").await;
    b.goto(&explain("nina%40example.com")).await;
    assert!(b.exists(".verdict.deny").await, "{}", b.text("main").await);
    assert_eq!(
        app.decide(
            &nina,
            "commerce-admin",
            "Magento_Sales::sales_order",
            None,
            None
        )
        .await,
        "deny"
    );
    let me = app
        .send_as(&nina_session, reqwest::Method::GET, "/api/v1/me", None, &[])
        .await;
    assert_eq!(me.status, reqwest::StatusCode::UNAUTHORIZED);

    // Everything done through the console is in the audit log, by Ada, from this browser.
    b.goto(&format!("{}/console/audit?target={nina}", app.base))
        .await;
    let log = b.text("main table.list").await;
    for action in ["user deactivated", "member added", "user created"] {
        assert!(log.contains(action), "{action} missing from\n{log}");
    }
    assert!(log.contains("ada@example.com"), "the actor is named: {log}");
    b.quit().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_product_profile_admin_sees_only_their_profile() {
    let _one = ONE_BROWSER.lock().await;
    let (app, _) = org_with_admin().await;
    let mut ids = Vec::new();
    for name in ["Store-A", "Store-B"] {
        let r = app
            .post(
                "/profiles",
                json!({ "application": "commerce-admin", "name": name, "seat_quota": 5 }),
            )
            .await;
        assert_eq!(r.status, reqwest::StatusCode::CREATED, "{}", r.body);
        ids.push(r.body["id"].as_str().unwrap().to_string());
    }
    let (pat, pw) = app.person("pat@example.com", false).await;
    let r = app
        .post(
            &format!("/users/{pat}/admin-rights"),
            json!({ "kind": "product_profile", "profile_id": ids[0] }),
        )
        .await;
    assert!(r.status.is_success(), "{}", r.body);

    let b = browser().await;
    browser_sign_in(&b, &app, "pat@example.com", &pw, None).await;
    b.goto(&format!("{}/console/products", app.base)).await;
    let main = b.text("main").await;
    assert!(main.contains("Store-A"), "{main}");
    assert!(!main.contains("Store-B"), "{main}");
    // What the matrix does not allow is absent from the navigation…
    for hidden in [
        "/console/settings",
        "/console/credentials",
        "/console/locks",
    ] {
        assert!(
            !b.exists(&format!("nav.side a[href='{hidden}']")).await,
            "{hidden} shown"
        );
    }
    assert!(b.exists("nav.side a[href='/console/products']").await);
    // …their own profile can be managed, the other one is not even there.
    b.goto(&format!("{}/console/profiles/{}", app.base, ids[0]))
        .await;
    assert!(
        b.exists(&format!(
            "form[action='/console/profiles/{}/users']",
            ids[0]
        ))
        .await
    );
    b.goto(&format!("{}/console/profiles/{}", app.base, ids[1]))
        .await;
    assert!(b.text("h1").await.contains("Not found"));
    b.goto(&format!("{}/console/settings", app.base)).await;
    assert!(b.text("h1").await.contains("Not allowed"));
    b.quit().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn keyboard_focus_is_visible_and_phone_width_does_not_overflow() {
    let _one = ONE_BROWSER.lock().await;
    let (app, pw) = org_with_admin().await;
    let b = browser().await;
    b.goto(&format!("{}/console/sign-in", app.base)).await;
    b.find("#f-org").await;
    // Tab from the top reaches the skip link, then the form fields, each with a visible focus ring.
    b.keys("\u{E004}").await;
    let focused = b
        .execute("return document.activeElement.className", json!([]))
        .await;
    assert_eq!(focused, "skip", "the first stop is the skip link");
    b.keys("\u{E004}").await;
    let id = b
        .execute("return document.activeElement.id", json!([]))
        .await;
    assert_eq!(id, "f-org");
    let ring = b
        .execute(
            "return getComputedStyle(document.activeElement).boxShadow",
            json!([]),
        )
        .await;
    assert_ne!(ring, "none", "focus is visible");
    // Every input has a label.
    let unlabelled = b
        .execute("return [...document.querySelectorAll('input:not([type=hidden]),select')].filter(e => !e.labels || e.labels.length === 0).length", json!([]))
        .await;
    assert_eq!(unlabelled, 0);

    browser_sign_in(&b, &app, "ada@example.com", &pw, None).await;
    b.set_size(390, 844).await;
    for path in [
        "/console/users",
        "/console/roles/new?app=commerce-admin",
        "/console/admins",
        "/console/explain",
    ] {
        b.goto(&format!("{}{path}", app.base)).await;
        b.find("main h1").await;
        let overflow = b
            .execute("return document.documentElement.scrollWidth - document.documentElement.clientWidth", json!([]))
            .await;
        assert_eq!(overflow, 0, "{path} scrolls sideways at phone width");
        let unlabelled = b
            .execute("return [...document.querySelectorAll('main input:not([type=hidden]),main select')].filter(e => !(e.labels && e.labels.length) && !e.getAttribute('aria-label')).length", json!([]))
            .await;
        assert_eq!(unlabelled, 0, "{path} has unlabelled controls");
    }
    b.quit().await;
}

/// Issue 11's stale-accounts report in the console: select an idle account, deactivate it
/// after confirming the password, and read what became of it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deactivate_a_stale_account_from_the_report() {
    let _one = ONE_BROWSER.lock().await;
    let (app, pw) = org_with_admin().await;
    let (bob, _) = app.person("bob@example.com", false).await;
    let b = browser().await;
    browser_sign_in(&b, &app, "ada@example.com", &pw, None).await;
    app.clock.advance_secs(301);
    b.goto(&format!("{}/console/reports?days=30", app.base))
        .await;
    assert!(b.text("main").await.contains("bob@example.com"));
    b.click(&format!("input[name=ids][value='{bob}']")).await;
    b.select("#f-stale-cred", "revoke").await;
    b.click("#stale button[type=submit]").await;
    confirm_identity(&b, &pw).await;
    b.find("#deactivation-results").await;
    let results = b.text("#deactivation-results").await;
    assert!(results.contains("bob@example.com"), "{results}");
    assert!(results.contains("deactivated"), "{results}");
    assert_eq!(
        app.get(&format!("/users/{bob}")).await.body["status"],
        "inactive"
    );
    b.quit().await;
}
