//! Screenshots of the main console pages for the README (`./scripts/screenshots`), taken on the
//! `serve --demo` sample organisation. Ignored in the normal run: it writes into `docs/`.

use crate::helpers::{config_for, start_server, Backend, TestClock};
use crate::support::totp_now;
use crate::webdriver::Browser;
use std::sync::Arc;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "writes docs/screenshots; run ./scripts/screenshots"]
async fn screenshots() {
    let out = std::env::var("ROLECALL_SCREENSHOTS")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|_| {
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/screenshots")
        });
    std::fs::create_dir_all(&out).unwrap();
    let tmp = tempfile::tempdir().unwrap();
    let config = config_for(Backend::Sqlite, tmp.path()).await;
    let clock = Arc::new(TestClock::default());
    let server = start_server(&config, clock.clone()).await;
    let sample = rolecall::sample::create(&server.dir).await.unwrap();
    let base = format!("http://{}", server.addr);
    let b = Browser::start(1280, 860).await;
    let shot = |name: &str| out.join(format!("{name}.png"));

    b.goto(&format!("{base}/console/sign-in?org={}", sample.org_slug))
        .await;
    b.find("#f-login").await;
    b.screenshot(&shot("sign-in")).await;
    b.fill("#f-login", &sample.admin_email).await;
    b.fill("#f-password", &sample.admin_password).await;
    b.click("form[action='/console/sign-in'] button[type=submit]")
        .await;
    b.find("#totp-secret").await;
    b.screenshot(&shot("enrol-2fa")).await;
    let secret = b.attr("#totp-secret", "data-secret").await;
    b.fill("#f-code", &totp_now(&secret, &clock)).await;
    b.click("form[action='/console/enrol'] button[type=submit]")
        .await;
    b.click("a.button.primary").await;
    b.find("header.top").await;

    let pages: Vec<(&str, String)> = vec![
        ("users", "/console/users".into()),
        ("add-user", "/console/users/new".into()),
        ("roles", "/console/roles?app=commerce-admin".into()),
        ("role-editor", "/console/roles/new?app=commerce-admin".into()),
        ("groups", "/console/groups".into()),
        ("products", "/console/products".into()),
        ("administrators", "/console/admins".into()),
        ("settings", "/console/settings".into()),
        ("reports", "/console/reports".into()),
        ("import", "/console/users/import".into()),
        (
            "explain",
            format!("/console/explain?user={}&app=commerce-admin&resource=Magento_Sales%3A%3Asales&scope=global", sample.admin_email),
        ),
    ];
    for (name, path) in &pages {
        b.goto(&format!("{base}{path}")).await;
        b.find("main h1").await;
        if *name == "role-editor" {
            b.fill("#f-name", "Order-Desk").await;
            b.fill("#f-tree-search", "order").await;
        }
        b.screenshot(&shot(name)).await;
    }
    // The first user's page, and the list at phone width.
    b.goto(&format!("{base}/console/users")).await;
    b.click("table.list tbody tr a").await;
    b.find(".tabs").await;
    b.screenshot(&shot("user")).await;
    b.set_size(390, 844).await;
    b.goto(&format!("{base}/console/users")).await;
    b.find("main h1").await;
    b.screenshot(&shot("users-phone")).await;
    b.quit().await;
    server.stop();
    drop(tmp);
    let _ = config;
    eprintln!("screenshots written to {}", out.display());
}
