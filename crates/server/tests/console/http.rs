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
    for path in [
        "/console/sign-in",
        "/console/reset",
        "/console/get-started",
        "/console/nope",
    ] {
        let page = c.get(path).await;
        let csp = page.headers["content-security-policy"].to_str().unwrap();
        for part in [
            "default-src 'none'",
            "script-src 'self'",
            "style-src 'self'",
            "frame-ancestors 'none'",
            "form-action 'self'",
        ] {
            assert!(csp.contains(part), "{path}: {csp}");
        }
        assert!(
            !csp.contains("unsafe-inline") && !csp.contains("unsafe-eval"),
            "{csp}"
        );
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
    assert!(
        !body.contains(" onclick=") && !body.contains(" onload="),
        "{path}: inline handler"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_form_without_its_csrf_token_is_refused_and_changes_nothing() {
    let app = spawn_app(Backend::Sqlite).await;
    app.without_2fa().await;
    let (_, pw) = app.person("ada@example.com", true).await;
    let mut c = FormClient::new(&app);

    // Sign-in itself needs the pre-session token (login CSRF).
    let r = c
        .post(
            "/console/sign-in",
            &[
                ("org", "acme"),
                ("login", "ada@example.com"),
                ("password", &pw),
            ],
            &[],
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.body);
    assert!(!c.cookies.contains_key("rolecall_session"));

    let signed = c.sign_in("acme", "ada@example.com", &pw).await;
    assert_eq!(signed.status, StatusCode::SEE_OTHER, "{}", signed.body);
    let me = c.get("/console/me").await;
    let csrf = me.csrf();

    // Changing the password without the token: refused, the old password still works.
    let fields = [
        ("current_password", pw.as_str()),
        ("new_password", "An0ther-l0ng-passphrase!"),
        ("confirm_password", "An0ther-l0ng-passphrase!"),
    ];
    let r = c.post("/console/me/password", &fields, &[]).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let mut with_wrong = fields.to_vec();
    with_wrong.push(("_csrf", "0123456789abcdef0123456789abcdef"));
    let r = c.post("/console/me/password", &with_wrong, &[]).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert_eq!(
        app.sign_in("ada@example.com", &pw).await.status,
        StatusCode::OK
    );

    // The right token, but sent from another site: refused.
    let mut with_token = fields.to_vec();
    with_token.push(("_csrf", &csrf));
    let r = c
        .post(
            "/console/me/password",
            &with_token,
            &[("origin", "https://evil.example")],
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let r = c
        .post(
            "/console/me/password",
            &with_token,
            &[("sec-fetch-site", "cross-site")],
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert_eq!(
        app.sign_in("ada@example.com", &pw).await.status,
        StatusCode::OK
    );

    // Same form with the token from this session's page: done.
    let r = c
        .post(
            "/console/me/password",
            &with_token,
            &[("origin", &app.base.clone())],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    assert_eq!(
        app.sign_in("ada@example.com", &pw).await.status,
        StatusCode::UNAUTHORIZED
    );

    // Another session's token does not fit this session.
    let mut other = FormClient::new(&app);
    other
        .sign_in("acme", "ada@example.com", "An0ther-l0ng-passphrase!")
        .await;
    let r = other
        .post("/console/sign-out", &[("_csrf", &csrf)], &[])
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_session_cookie_is_httponly_samesite_strict_and_secure_over_tls() {
    // Forwarding headers count only from a trusted proxy, as for the API.
    let app = crate::helpers::spawn_app_with(Backend::Sqlite, |c| {
        c.trusted_proxies = vec!["127.0.0.0/8".parse().unwrap()];
    })
    .await;
    app.without_2fa().await;
    let (_, pw) = app.person("ada@example.com", true).await;
    let mut c = FormClient::new(&app);
    let r = c.sign_in("acme", "ada@example.com", &pw).await;
    let cookie = r
        .set_cookies()
        .into_iter()
        .find(|c| c.starts_with("rolecall_session="))
        .expect("session cookie");
    for part in ["HttpOnly", "SameSite=Strict", "Path=/"] {
        assert!(cookie.contains(part), "{cookie}");
    }
    assert!(
        !cookie.contains("Secure"),
        "plain HTTP on loopback: {cookie}"
    );
    // The pre-session CSRF cookie is HttpOnly and Strict too.
    let mut tls = FormClient::new(&app);
    let page = tls.get("/console/sign-in").await;
    let pre = page
        .set_cookies()
        .into_iter()
        .find(|c| c.starts_with("rolecall_csrf="))
        .expect("csrf cookie");
    assert!(
        pre.contains("HttpOnly") && pre.contains("SameSite=Strict"),
        "{pre}"
    );
    let csrf = page.csrf();
    let r = tls
        .post(
            "/console/sign-in",
            &[
                ("_csrf", &csrf),
                ("org", "acme"),
                ("login", "ada@example.com"),
                ("password", &pw),
            ],
            &[("x-forwarded-proto", "https")],
        )
        .await;
    let cookie = r
        .set_cookies()
        .into_iter()
        .find(|c| c.starts_with("rolecall_session="))
        .expect("session cookie");
    assert!(cookie.contains("; Secure"), "{cookie}");
    // Signing out ends the session on the server, not just the cookie.
    let token = c.cookies["rolecall_session"].clone();
    let me = c.get("/console/me").await;
    let r = c
        .post("/console/sign-out", &[("_csrf", &me.csrf())], &[])
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert!(!c.cookies.contains_key("rolecall_session"));
    let api = app
        .send_as(&token, reqwest::Method::GET, "/api/v1/me", None, &[])
        .await;
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
    c.cookies
        .insert("rolecall_session".into(), app.token.clone());
    assert_eq!(c.get("/console/me").await.location(), "/console/sign-in");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mailed_links_open_the_console_and_carry_no_token() {
    let app = spawn_app(Backend::Sqlite).await;
    let r = app
        .post("/invitations", json!({ "email": "jane@example.com" }))
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let mail = mails(&app, "jane@example.com", "Get started with rolecall", 1)
        .await
        .remove(0);
    let link = link_in(&mail);
    assert_eq!(link, format!("{}/console/get-started?org=acme", app.base));
    assert!(mail.contains("Content-Transfer-Encoding: 7bit"), "{mail}");
    assert!(
        mail.lines().any(|l| l.starts_with("rc_")),
        "the token is on its own line"
    );

    app.without_2fa().await;
    let (_, _pw) = app.person("bob@example.com", false).await;
    let r = app
        .post("/password-reset", json!({ "email": "bob@example.com" }))
        .await;
    assert_eq!(r.status, StatusCode::ACCEPTED);
    let mail = mails(&app, "bob@example.com", "Reset your rolecall password", 1)
        .await
        .remove(0);
    let link = link_in(&mail);
    assert_eq!(link, format!("{}/console/reset/confirm?org=acme", app.base));
    assert!(mail.lines().any(|l| l.starts_with("rc_")), "{mail}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_server_refuses_what_the_console_does_not_show() {
    let app = spawn_app(Backend::Sqlite).await;
    app.without_2fa().await;
    let (ada, _) = app.person("ada@example.com", true).await;
    let r = app
        .post(
            "/profiles",
            json!({ "application": "commerce-admin", "name": "Store-A" }),
        )
        .await;
    let profile = r.body["id"].as_str().unwrap().to_string();
    let (pat, pw) = app.person("pat@example.com", false).await;
    let r = app
        .post(
            &format!("/users/{pat}/admin-rights"),
            json!({ "kind": "product_profile", "profile_id": profile }),
        )
        .await;
    assert!(r.status.is_success(), "{}", r.body);

    let mut c = FormClient::new(&app);
    c.sign_in("acme", "pat@example.com", &pw).await;
    let users = c.get("/console/users").await;
    assert_eq!(users.status, StatusCode::OK);
    assert!(
        !users.body.contains("value=\"delete\""),
        "no delete action offered"
    );
    let csrf = users.csrf();

    // Forged posts, with a valid token and the admin's own password: refused by the matrix.
    let forged: [(&str, Vec<(&str, &str)>); 3] = [
        (
            "/console/users/bulk",
            vec![("action", "delete"), ("ids", &ada)],
        ),
        ("/console/settings", vec![("require_2fa", "false")]),
        ("/console/credentials", vec![("name", "sneaky")]),
    ];
    for (path, fields) in forged {
        let mut all = fields.clone();
        all.push(("_csrf", &csrf));
        all.push(("_reverify", &pw));
        let r = c.post(path, &all, &[]).await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "{path}: {}", r.body);
    }
    assert_eq!(
        app.get(&format!("/users/{ada}")).await.status,
        StatusCode::OK
    );
    assert_eq!(app.get("/credentials").await.body["items"], json!([]));
    // Granting oneself more than one holds: the delegation rule of the use case refuses.
    let r = c
        .post(
            "/console/admins/grant",
            &[
                ("_csrf", &csrf),
                ("_reverify", &pw),
                ("login", "pat@example.com"),
                ("right", "system:"),
            ],
            &[],
        )
        .await;
    assert!(r.status.is_client_error(), "{}", r.body);
    let rights = app.get(&format!("/users/{pat}/admin-rights")).await.body;
    assert_eq!(rights["items"].as_array().unwrap().len(), 1, "{rights}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sensitive_changes_ask_for_the_password_and_replay_the_form() {
    let app = spawn_app(Backend::Sqlite).await;
    app.without_2fa().await;
    let (_, pw) = app.person("ada@example.com", true).await;
    let mut c = FormClient::new(&app);
    c.sign_in("acme", "ada@example.com", &pw).await;
    // Signed in more than the re-verification window ago.
    app.clock.advance_secs(301);
    let page = c.get("/console/users/new").await;
    let csrf = page.csrf();
    let fields = [
        ("_csrf", csrf.as_str()),
        ("email", "nina@example.com"),
        ("first_name", "Nina"),
    ];
    let r = c.post("/console/users/new", &fields, &[]).await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(r.body.contains("Confirm it"), "the dialog: {}", r.body);
    assert!(
        r.body.contains("value=\"nina@example.com\""),
        "the form rides along"
    );
    assert!(app.get("/users?q=nina").await.body["items"]
        .as_array()
        .unwrap()
        .is_empty());
    // A wrong password: the dialog again, nothing created.
    let mut wrong = fields.to_vec();
    wrong.push(("_reverify", "not-my-password"));
    let r = c.post("/console/users/new", &wrong, &[]).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert!(r.body.contains("The password is wrong"));
    assert!(app.get("/users?q=nina").await.body["items"]
        .as_array()
        .unwrap()
        .is_empty());
    let mut right = fields.to_vec();
    right.push(("_reverify", &pw));
    let r = c.post("/console/users/new", &right, &[]).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    assert_eq!(app.get("/users?q=nina").await.body["total"], 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn password_reset_through_the_console_forms() {
    let app = spawn_app(Backend::Sqlite).await;
    app.without_2fa().await;
    let (_, old) = app.person("bob@example.com", false).await;
    let mut c = FormClient::new(&app);
    let page = c.get("/console/reset?org=acme").await;
    let csrf = page.csrf();
    // The answer is the same for an address that has no account.
    for email in ["nobody@example.com", "bob@example.com"] {
        let r = c
            .post(
                "/console/reset",
                &[("_csrf", &csrf), ("org", "acme"), ("email", email)],
                &[],
            )
            .await;
        assert_eq!(r.status, StatusCode::SEE_OTHER);
        assert_eq!(r.location(), "/console/reset/confirm?org=acme");
    }
    let mail = mails(&app, "bob@example.com", "Reset your rolecall password", 1)
        .await
        .remove(0);
    let token = mail
        .lines()
        .find(|l| l.starts_with("rc_"))
        .unwrap()
        .trim()
        .to_string();
    let new = "Fresh-and-l0ng-enough-42";
    // Repeated wrongly: refused at the field, nothing changed.
    let fields = [
        ("_csrf", csrf.as_str()),
        ("org", "acme"),
        ("token", token.as_str()),
        ("new_password", new),
        ("confirm_password", "different"),
    ];
    let r = c.post("/console/reset/confirm", &fields, &[]).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.body.contains("the two passwords differ"));
    let fields = [
        ("_csrf", csrf.as_str()),
        ("org", "acme"),
        ("token", token.as_str()),
        ("new_password", new),
        ("confirm_password", new),
    ];
    let r = c.post("/console/reset/confirm", &fields, &[]).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    assert_eq!(
        app.sign_in("bob@example.com", &old).await.status,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        app.sign_in("bob@example.com", new).await.status,
        StatusCode::OK
    );
    // The token was single-use.
    let r = c.post("/console/reset/confirm", &fields, &[]).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.body.contains("unknown, used or expired"));
}

/// The users list filters by admin right and by idle time, and sorts, through the same list
/// query as `GET /users` (issue 15's filters; issue 10's sort orders).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_users_list_filters_by_admin_right_and_idle_time_and_sorts() {
    let app = spawn_app(Backend::Sqlite).await;
    app.without_2fa().await;
    let (_ada, ada_pw) = app.person("ada@example.com", true).await;
    let (_bob, bob_pw) = app.person("bob@example.com", false).await;
    let (_carol, _) = app.person("carol@example.com", true).await;
    let r = app.sign_in("bob@example.com", &bob_pw).await;
    assert!(r.status.is_success(), "{}", r.body);
    app.clock.advance_secs(31 * 86_400);

    let mut c = FormClient::new(&app);
    c.sign_in("acme", "ada@example.com", &ada_pw).await;
    let admins = c.get("/console/users?admin_right=any").await;
    assert_eq!(admins.status, StatusCode::OK);
    assert!(
        admins.body.contains("<td>ada@example.com</td>"),
        "{}",
        admins.body
    );
    assert!(admins.body.contains("<td>carol@example.com</td>"));
    assert!(!admins.body.contains("<td>bob@example.com</td>"));

    // Bob signed in 31 days ago; Ada just now; Carol never (not "signed in before").
    let idle = c.get("/console/users?idle_days=30").await;
    assert!(
        idle.body.contains("<td>bob@example.com</td>"),
        "{}",
        idle.body
    );
    assert!(!idle.body.contains("<td>ada@example.com</td>"));
    assert!(!idle.body.contains("<td>carol@example.com</td>"));

    let sorted = c.get("/console/users?sort=email&order=desc").await;
    let at = |who: &str| {
        sorted
            .body
            .find(&format!("<td>{who}</td>"))
            .unwrap_or(usize::MAX)
    };
    assert!(
        at("carol@example.com") < at("bob@example.com")
            && at("bob@example.com") < at("ada@example.com"),
        "{}",
        sorted.body
    );
    assert!(
        sorted.body.contains("E-mail ↓"),
        "the sorted column is marked"
    );

    // Naming a person is an exact match of the e-mail or username, ignoring case, never a
    // substring: "carol@EXAMPLE.com" is Carol, "arol@example.com" is nobody.
    let explain = |who: &str| {
        format!("/console/explain?user={who}&app=commerce-admin&resource=Magento_Sales%3A%3Asales_order&scope=global")
    };
    let found = c.get(&explain("carol%40EXAMPLE.com")).await;
    assert_eq!(found.status, StatusCode::OK);
    assert!(found.body.contains("class=\"verdict"), "{}", found.body);
    let nobody = c.get(&explain("arol%40example.com")).await;
    assert!(nobody.body.contains("no user"), "{}", nobody.body);
    assert!(!nobody.body.contains("class=\"verdict"), "{}", nobody.body);
}

/// The users list's bulk "add to profile" is one transaction (the API's `…/batch` use case):
/// two users for one free seat gives neither a seat, and says why; one user fits.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bulk_add_to_a_profile_is_all_or_nothing() {
    let app = spawn_app(Backend::Sqlite).await;
    app.without_2fa().await;
    let (_ada, pw) = app.person("ada@example.com", true).await;
    let u1 = app.user("u1@example.com").await;
    let u2 = app.user("u2@example.com").await;
    let r = app
        .post(
            "/profiles",
            json!({ "application": "site-search", "name": "One", "seat_quota": 1 }),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let profile = r.body["id"].as_str().unwrap().to_string();
    let used = || {
        let (app, profile) = (&app, profile.clone());
        async move { app.get(&format!("/profiles/{profile}")).await.body["seats_used"].clone() }
    };

    let mut c = FormClient::new(&app);
    c.sign_in("acme", "ada@example.com", &pw).await;
    let csrf = c.get("/console/users").await.csrf();
    let both = [
        ("_csrf", csrf.as_str()),
        ("_reverify", pw.as_str()),
        ("action", "add_profile"),
        ("profile", profile.as_str()),
        ("ids", u1.as_str()),
        ("ids", u2.as_str()),
    ];
    let r = c.post("/console/users/bulk", &both, &[]).await;
    assert!(
        r.body.contains("quota") || r.body.contains("seats"),
        "{}",
        r.body
    );
    assert_eq!(used().await, json!(0), "neither user was given the seat");
    let r = c.post("/console/users/bulk", &both[..5], &[]).await;
    assert!(
        r.status.is_success() || r.status.is_redirection(),
        "{}",
        r.body
    );
    assert_eq!(used().await, json!(1));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn invitation_buttons_are_offered_only_to_their_sender_and_system_admins() {
    let app = spawn_app(Backend::Sqlite).await;
    app.without_2fa().await;
    // Pat, a Product admin, may invite; the operator's invitation is a System admin's to handle.
    let pat = app.signed_in("pat@example.com", false).await;
    let r = app
        .post(
            &format!("/users/{}/admin-rights", pat.id),
            json!({ "kind": "product", "application": "commerce-admin" }),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let r = app
        .post(
            "/invitations",
            json!({ "email": "ops.invitee@example.com" }),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let theirs = r.body["user"]["id"].as_str().unwrap().to_string();
    let r = app
        .send_as(
            &pat.token,
            reqwest::Method::POST,
            "/invitations",
            Some(json!({ "email": "pats.invitee@example.com" })),
            &[],
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let mine = r.body["user"]["id"].as_str().unwrap().to_string();
    let (_, sys_pw) = app.person("sys@example.com", true).await;

    let button = |user: &str, what: &str| format!("/console/users/{user}/invitation?do={what}");
    let mut c = FormClient::new(&app);
    c.sign_in("acme", "pat@example.com", &pat.password).await;
    let list = c.get("/console/invitations").await;
    assert_eq!(list.status, StatusCode::OK);
    assert!(
        list.body.contains("ops.invitee@example.com"),
        "both are listed"
    );
    for what in ["resend", "withdraw"] {
        assert!(
            list.body.contains(&button(&mine, what)),
            "{what} on Pat's own"
        );
        assert!(
            !list.body.contains(&button(&theirs, what)),
            "no {what} on the operator's: {}",
            list.body
        );
    }
    let own_page = c.get(&format!("/console/users/{mine}")).await;
    assert!(
        own_page.body.contains("Resend invitation"),
        "{}",
        own_page.body
    );
    let other_page = c.get(&format!("/console/users/{theirs}")).await;
    assert_eq!(other_page.status, StatusCode::OK);
    assert!(!other_page.body.contains("Resend invitation"));
    assert!(!other_page.body.contains("Withdraw invitation"));

    // A System admin handles every invitation.
    let mut s = FormClient::new(&app);
    s.sign_in("acme", "sys@example.com", &sys_pw).await;
    let list = s.get("/console/invitations").await;
    for user in [&mine, &theirs] {
        assert!(
            list.body.contains(&button(user, "withdraw")),
            "{}",
            list.body
        );
    }
    let other_page = s.get(&format!("/console/users/{theirs}")).await;
    assert!(other_page.body.contains("Withdraw invitation"));
}
