//! The console pages of reports (stale accounts, access review, seats), offboarding, SCIM
//! clients and bulk import and export: each renders for a System admin, is absent and refused
//! for an admin without the right, refuses forged posts, and does what the API does.

use crate::helpers::{spawn_app, Backend, TestApp};
use crate::support::FormClient;
use reqwest::StatusCode;
use serde_json::json;

/// A System admin signed in to the console: (client, id, password).
async fn system_admin(app: &TestApp, email: &str) -> (FormClient, String, String) {
    let (id, pw) = app.person(email, true).await;
    let mut c = FormClient::new(app);
    let r = c.sign_in("acme", email, &pw).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    (c, id, pw)
}

async fn audit_count(app: &TestApp, query: &str) -> usize {
    app.get(&format!("/audit?{query}")).await.body["items"]
        .as_array()
        .map(Vec::len)
        .unwrap_or(0)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_new_pages_render_for_a_system_admin_and_are_absent_and_refused_for_others() {
    let app = spawn_app(Backend::Sqlite).await;
    app.without_2fa().await;
    let (mut ada, ada_id, ada_pw) = system_admin(&app, "ada@example.com").await;
    let (bob, _) = app.person("bob@example.com", false).await;
    for path in [
        "/console/reports",
        "/console/reports/access",
        "/console/reports/seats",
        "/console/scim",
        "/console/users/import",
        &format!("/console/users/{bob}/offboard"),
    ] {
        let page = ada.get(path).await;
        assert_eq!(page.status, StatusCode::OK, "{path}: {}", page.body);
        // The CSP forbids inline code: the new pages carry none.
        assert!(
            !page.body.contains("<style") && !page.body.contains(" style=\""),
            "{path}"
        );
        assert!(
            !page.body.contains(" onclick=") && !page.body.contains(" onsubmit="),
            "{path}"
        );
        for (i, _) in page.body.match_indices("<script") {
            assert!(
                page.body[i..].split('>').next().unwrap().contains(" src="),
                "{path}"
            );
        }
    }
    let home = ada.get("/console/users").await;
    for link in [
        "href=\"/console/reports\"",
        "href=\"/console/scim\"",
        "href=\"/console/users/import\"",
    ] {
        assert!(home.body.contains(link), "{link} for a System admin");
    }
    let account = ada.get(&format!("/console/users/{bob}")).await;
    assert!(account
        .body
        .contains(&format!("/console/users/{bob}/offboard")));
    assert!(account
        .body
        .contains(&format!("/console/reports/access?user={bob}")));
    let review = ada
        .get(&format!("/console/reports/access?user={bob}"))
        .await;
    assert_eq!(review.status, StatusCode::OK, "{}", review.body);
    assert!(review.body.contains("bob@example.com"));

    // A product-profile admin: none of it shown, all of it refused.
    let r = app
        .post(
            "/profiles",
            json!({ "application": "commerce-admin", "name": "Store-A" }),
        )
        .await;
    let profile = r.body["id"].as_str().unwrap().to_string();
    let (pat, pat_pw) = app.person("pat@example.com", false).await;
    let r = app
        .post(
            &format!("/users/{pat}/admin-rights"),
            json!({ "kind": "product_profile", "profile_id": profile }),
        )
        .await;
    assert!(r.status.is_success(), "{}", r.body);
    let mut c = FormClient::new(&app);
    c.sign_in("acme", "pat@example.com", &pat_pw).await;
    let users = c.get("/console/users").await;
    assert_eq!(users.status, StatusCode::OK);
    for link in [
        "href=\"/console/reports\"",
        "href=\"/console/scim\"",
        "href=\"/console/users/import\"",
        "/offboard",
    ] {
        assert!(!users.body.contains(link), "{link} shown to pat");
    }
    let account = c.get(&format!("/console/users/{bob}")).await;
    assert!(!account.body.contains("/offboard"), "no offboard action");
    for path in [
        "/console/reports",
        "/console/reports/stale.csv",
        "/console/scim",
        "/console/users/import",
        "/console/users/export?template=plain",
        &format!("/console/users/{bob}/offboard"),
    ] {
        let page = c.get(path).await;
        assert_eq!(page.status, StatusCode::FORBIDDEN, "{path}: {}", page.body);
    }
    // Forged posts with pat's own valid token and password: refused, nothing changed.
    let csrf = users.csrf();
    let offboard = format!("/console/users/{bob}/offboard");
    let forged: [(&str, Vec<(&str, &str)>); 3] = [
        (
            "/console/reports/stale/deactivate",
            vec![("days", "90"), ("ids", &bob)],
        ),
        ("/console/scim", vec![("name", "sneaky")]),
        (&offboard, vec![("mode", "delete")]),
    ];
    for (path, fields) in &forged {
        let mut all = fields.clone();
        all.push(("_csrf", &csrf));
        all.push(("_reverify", &pat_pw));
        let r = c.post(path, &all, &[]).await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "{path}: {}", r.body);
    }
    let r = c
        .post_file(
            "/console/users/import?run=import",
            &[("_csrf", &csrf), ("_reverify", &pat_pw)],
            ("u.csv", "email\r\nmallory@example.com\r\n"),
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.body);

    // The System admin's own posts without this session's token: refused too.
    for (path, fields) in &forged {
        let mut all = fields.clone();
        all.push(("_reverify", &ada_pw));
        let r = ada.post(path, &all, &[]).await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "{path}: {}", r.body);
    }
    let r = ada
        .post_file(
            "/console/users/import?run=import",
            &[
                ("_csrf", "0123456789abcdef0123456789abcdef"),
                ("_reverify", &ada_pw),
            ],
            ("u.csv", "email\r\nmallory@example.com\r\n"),
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.body);

    let bob_now = app.get(&format!("/users/{bob}")).await;
    assert_eq!(bob_now.body["status"], "active", "{}", bob_now.body);
    assert_eq!(app.get("/scim-clients").await.body["items"], json!([]));
    assert_eq!(app.get("/users?q=mallory").await.body["total"], 0);
    assert!(app
        .get(&format!("/users/{ada_id}"))
        .await
        .status
        .is_success());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stale_accounts_are_deactivated_from_the_report_with_an_outcome_each_and_audited() {
    let app = spawn_app(Backend::Sqlite).await;
    app.without_2fa().await;
    let (mut ada, _, pw) = system_admin(&app, "ada@example.com").await;
    let (bob, _) = app.person("bob@example.com", false).await;
    let (carol, carol_pw) = app.person("carol@example.com", false).await;
    assert!(app
        .sign_in("carol@example.com", &carol_pw)
        .await
        .status
        .is_success());

    let report = ada.get("/console/reports?days=90").await;
    assert_eq!(report.status, StatusCode::OK);
    assert!(report.body.contains("bob@example.com"), "{}", report.body);
    assert!(
        !report.body.contains("carol@example.com"),
        "signed in just now"
    );
    assert!(report.body.contains("Deactivate selected"));
    assert!(report.body.contains("/console/reports/stale.csv?days=90"));
    let csv = ada.get("/console/reports/stale.csv?days=90").await;
    assert_eq!(csv.status, StatusCode::OK);
    assert!(csv.headers["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/csv"));
    assert!(
        csv.body.starts_with("report_taken_at,user_id,email"),
        "{}",
        csv.body
    );
    assert!(csv.body.contains("bob@example.com"));
    // Bad input: the console's inline error, never a 500.
    for days in ["0", "ninety"] {
        let bad = ada.get(&format!("/console/reports?days={days}")).await;
        assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY, "{days}");
        assert!(bad.body.contains("f-days-error"), "{}", bad.body);
    }

    let csrf = report.csrf();
    let r = ada
        .post(
            "/console/reports/stale/deactivate",
            &[
                ("_csrf", &csrf),
                ("_reverify", &pw),
                ("days", "90"),
                ("ids", &bob),
                ("ids", &carol),
            ],
            &[],
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert!(
        r.body.contains("1 of 2 account(s) deactivated"),
        "{}",
        r.body
    );
    let row = |who: &str| {
        let at = r
            .body
            .find(who)
            .unwrap_or_else(|| panic!("{who} in {}", r.body));
        r.body[at..at + r.body[at..].find("</tr>").unwrap()].to_string()
    };
    assert!(
        row("bob@example.com").contains(">deactivated<"),
        "{}",
        r.body
    );
    assert!(
        row("carol@example.com").contains(">not stale<"),
        "{}",
        r.body
    );
    assert_eq!(
        app.get(&format!("/users/{bob}")).await.body["status"],
        "inactive"
    );
    assert_eq!(
        app.get(&format!("/users/{carol}")).await.body["status"],
        "active"
    );
    assert_eq!(
        audit_count(&app, &format!("target={bob}&action=user_deactivated")).await,
        1
    );

    // Access review and seats render the same reports.
    let review = ada
        .get("/console/reports/access?user=carol@example.com")
        .await;
    assert_eq!(review.status, StatusCode::OK);
    assert!(
        review.body.contains("id=\"user-review\""),
        "{}",
        review.body
    );
    assert!(
        review.body.contains("live session"),
        "carol's session is listed"
    );
    let unknown = ada
        .get("/console/reports/access?user=nobody@example.com")
        .await;
    assert_eq!(unknown.status, StatusCode::UNPROCESSABLE_ENTITY);
    let app_review = ada
        .get("/console/reports/access?application=commerce-admin")
        .await;
    assert_eq!(app_review.status, StatusCode::OK, "{}", app_review.body);
    // Each report downloads as the API's CSV, on the console's session.
    let csv = ada
        .get("/console/reports/access?user=carol@example.com&format=csv")
        .await;
    assert!(csv.headers["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/csv"));
    assert!(csv.body.contains("carol@example.com"), "{}", csv.body);
    let seats = ada.get("/console/reports/seats?format=csv").await;
    assert!(
        seats.body.starts_with("report_taken_at,profile_id"),
        "{}",
        seats.body
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn offboarding_from_the_user_page_lists_everything_withdrawn() {
    let app = spawn_app(Backend::Sqlite).await;
    app.without_2fa().await;
    let (mut ada, _, pw) = system_admin(&app, "ada@example.com").await;
    let (bob, _) = app.person("bob@example.com", false).await;
    let group = app.group("Marketing").await;
    let r = app
        .post(&format!("/groups/{group}/members"), json!({"user_id": bob}))
        .await;
    assert!(r.status.is_success(), "{}", r.body);
    let path = format!("/console/users/{bob}/offboard");
    let form = ada.get(&path).await;
    let csrf = form.csrf();
    // Transfer without naming anyone: the inline error, nothing changed.
    let r = ada
        .post(
            &path,
            &[
                ("_csrf", &csrf),
                ("_reverify", &pw),
                ("mode", "deactivate"),
                ("credentials", "transfer"),
            ],
            &[],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    assert!(r.body.contains("f-transfer_to-error"), "{}", r.body);
    assert_eq!(
        app.get(&format!("/users/{bob}")).await.body["status"],
        "active"
    );

    let r = ada
        .post(
            &path,
            &[
                ("_csrf", &csrf),
                ("_reverify", &pw),
                ("mode", "delete"),
                ("credentials", ""),
            ],
            &[],
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert!(r.body.contains("id=\"offboard-report\""), "{}", r.body);
    assert!(r.body.contains("is deleted"), "{}", r.body);
    let groups = &r.body[r.body.find("Groups removed").unwrap()..];
    assert!(
        groups[..groups.find("</dd>").unwrap()].contains("Marketing"),
        "{}",
        r.body
    );
    assert_eq!(
        audit_count(&app, &format!("target={bob}&action=user_offboarded")).await,
        1
    );
    let members = app.get(&format!("/groups/{group}/members")).await.body;
    assert_eq!(members["items"], json!([]), "{members}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_scim_client_token_is_shown_once_and_revoking_it_stops_it() {
    let app = spawn_app(Backend::Sqlite).await;
    app.without_2fa().await;
    let (mut ada, _, pw) = system_admin(&app, "ada@example.com").await;
    let page = ada.get("/console/scim").await;
    let csrf = page.csrf();
    let bad = ada
        .post(
            "/console/scim",
            &[("_csrf", &csrf), ("_reverify", &pw), ("name", "no spaces!")],
            &[],
        )
        .await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", bad.body);
    assert!(bad.body.contains("f-name-error"), "{}", bad.body);

    let r = ada
        .post(
            "/console/scim",
            &[("_csrf", &csrf), ("_reverify", &pw), ("name", "entra")],
            &[],
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert!(r.body.contains("will not be shown again"));
    let at = r.body.find("id=\"scim-token\">").expect("the token") + 16;
    let token = r.body[at..at + r.body[at..].find('<').unwrap()].to_string();
    assert!(token.len() >= 20, "{token}");
    let users = app
        .client
        .get(format!("{}/scim/v2/Users", app.base))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(users.status(), StatusCode::OK);

    let again = ada.get("/console/scim").await;
    assert!(again.body.contains("entra"));
    assert!(!again.body.contains(&token), "the token is shown once");
    let id = app.get("/scim-clients").await.body["items"][0]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let r = ada
        .post(
            &format!("/console/scim/{id}/revoke"),
            &[("_csrf", &csrf)],
            &[],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let users = app
        .client
        .get(format!("{}/scim/v2/Users", app.base))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(users.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_csv_check_shows_row_errors_and_writes_nothing_then_the_import_creates_users() {
    let app = spawn_app(Backend::Sqlite).await;
    app.without_2fa().await;
    let (mut ada, _, pw) = system_admin(&app, "ada@example.com").await;
    app.group("Marketing").await;
    let page = ada.get("/console/users/import").await;
    assert!(page.body.contains("enctype=\"multipart/form-data\""));
    let csrf = page.csrf();
    let before = app.get("/users").await.body["total"].as_i64().unwrap();
    let bad = "email,first_name,last_name,status,groups\r\n\
ann@example.com,Ann,Archer,,Marketing\r\n\
not-an-email,Bob,Baker,,\r\n\
cy@example.com,Cy,,,Nowhere\r\n";
    // Past the re-verification window: without the password, or with a wrong one, the form
    // asks again at its password field and nothing is imported.
    app.clock.advance_secs(301);
    let good = "email,first_name,last_name,status,groups\r\n\
ann@example.com,Ann,Archer,,Marketing\r\n\
bob@example.com,Bob,Baker,active,\r\n";
    for (password, status, says) in [
        ("", StatusCode::OK, "Enter your password"),
        (
            "not-my-password",
            StatusCode::FORBIDDEN,
            "The password is wrong",
        ),
    ] {
        let r = ada
            .post_file(
                "/console/users/import?run=import",
                &[("_csrf", &csrf), ("_reverify", password)],
                ("people.csv", good),
            )
            .await;
        assert_eq!(r.status, status, "{}", r.body);
        assert!(r.body.contains(says), "{}", r.body);
        assert!(!r.body.contains("id=\"import-result\""));
    }
    assert_eq!(app.get("/users").await.body["total"], before);
    // A file part before the token (not our form's order) is refused as a forgery.
    let r = ada
        .post_file(
            "/console/users/import?run=import",
            &[],
            ("people.csv", good),
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.body);

    let fields = [
        ("_csrf", csrf.as_str()),
        ("_reverify", pw.as_str()),
        ("mode", "all_or_nothing"),
        ("invitations", "1"),
        ("credentials", ""),
    ];
    let r = ada
        .post_file(
            "/console/users/import?run=check",
            &fields,
            ("people.csv", bad),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert!(
        r.body.contains("Check only: nothing was written"),
        "{}",
        r.body
    );
    assert!(r.body.contains("line 3, column email"), "{}", r.body);
    assert!(r.body.contains("line 4, column groups"), "{}", r.body);
    assert_eq!(
        app.get("/users").await.body["total"],
        before,
        "a check writes nothing"
    );

    // Not a CSV of either template: the inline error at the file field.
    let r = ada
        .post_file(
            "/console/users/import?run=check",
            &fields,
            ("x.csv", "hello,world\r\n1,2\r\n"),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    assert!(r.body.contains("f-file-error"), "{}", r.body);

    let r = ada
        .post_file(
            "/console/users/import?run=import",
            &fields,
            ("people.csv", good),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert!(r.body.contains("Imported."), "{}", r.body);
    assert_eq!(r.body.matches(">created<").count(), 2, "{}", r.body);
    assert_eq!(app.get("/users").await.body["total"], before + 2);
    assert_eq!(audit_count(&app, "action=users_imported").await, 1);

    let export = ada.get("/console/users/export?template=plain").await;
    assert_eq!(export.status, StatusCode::OK);
    assert!(export.body.contains("ann@example.com"), "{}", export.body);
    let console = ada.get("/console/users/export?template=console").await;
    assert!(
        console
            .body
            .starts_with("Identity Type,Username,Domain,Email"),
        "{}",
        console.body
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stale_account_the_rules_keep_is_refused_with_the_reason_then_settled() {
    let app = spawn_app(Backend::Sqlite).await;
    app.without_2fa().await;
    // Dan created an API credential, then went quiet for a quarter.
    let dan = app.signed_in("dan@example.com", true).await;
    let r = app
        .send_as(
            &dan.token,
            reqwest::Method::POST,
            "/credentials",
            Some(json!({"name": "erp-sync"})),
            &[],
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    app.clock.advance_secs(91 * 86_400);
    let (mut ada, _, pw) = system_admin(&app, "ada@example.com").await;
    let report = ada.get("/console/reports?days=90").await;
    assert!(report.body.contains("dan@example.com"), "{}", report.body);
    let csrf = report.csrf();
    let deactivate = |credentials: &'static str| {
        [
            ("_csrf", csrf.clone()),
            ("_reverify", pw.clone()),
            ("days", "90".to_string()),
            ("ids", dan.id.clone()),
            ("credentials", credentials.to_string()),
        ]
    };
    let fields = deactivate("");
    let fields: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let r = ada
        .post("/console/reports/stale/deactivate", &fields, &[])
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert!(r.body.contains(">refused<"), "{}", r.body);
    assert!(
        r.body.contains("erp-sync"),
        "the reason names the credential: {}",
        r.body
    );
    assert_eq!(
        app.get(&format!("/users/{}", dan.id)).await.body["status"],
        "active"
    );
    // With the decision made, the same selection goes through and the credential is revoked.
    let fields = deactivate("revoke");
    let fields: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let r = ada
        .post("/console/reports/stale/deactivate", &fields, &[])
        .await;
    assert!(r.body.contains(">deactivated<"), "{}", r.body);
    let creds = app.get("/credentials").await.body;
    assert!(creds["items"][0]["revoked_at"].is_i64(), "{creds}");
}

/// A check of a file longer than the console lists (1,000 rows) shows every row with a problem
/// and says how many others it leaves out, instead of a page of every row.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_long_check_lists_the_rows_with_problems_only() {
    let app = spawn_app(Backend::Sqlite).await;
    app.without_2fa().await;
    let (mut ada, _, pw) = system_admin(&app, "ada@example.com").await;
    let page = ada.get("/console/users/import").await;
    let csrf = page.csrf();
    let mut csv = String::from("email,groups\r\n");
    for i in 0..3_000 {
        if i % 1_000 == 500 {
            csv.push_str(&format!("long{i}@example.com,Nowhere\r\n"));
        } else {
            csv.push_str(&format!("long{i}@example.com,\r\n"));
        }
    }
    let fields = [
        ("_csrf", csrf.as_str()),
        ("_reverify", pw.as_str()),
        ("mode", "all_or_nothing"),
        ("invitations", "1"),
        ("credentials", ""),
    ];
    let r = ada
        .post_file(
            "/console/users/import?run=check",
            &fields,
            ("people.csv", &csv),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert!(r.body.contains("3000 row(s): 2997 created"), "{}", r.body);
    assert_eq!(
        r.body.matches(">error<").count(),
        3,
        "only the rows with problems"
    );
    assert_eq!(r.body.matches(">created<").count(), 0);
    for line in [502, 1502, 2502] {
        assert!(
            r.body.contains(&format!("line {line}, column groups")),
            "line {line}"
        );
    }
    assert!(
        r.body.contains("2997 other row(s) are not listed here"),
        "{}",
        r.body
    );
}
