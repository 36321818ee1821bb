//! Secrets at rest (issue 9 item 9): delivered mail leaves no token in the database, mail
//! files and the SQLite database are private to the server's user, a new password voids every
//! other reset token, and TOTP secrets are sealed with the server key (kept across restarts,
//! sealed when found in the clear, and re-sealed by a key rotation).

use crate::both;
use crate::helpers::{spawn_app, spawn_app_with, totp_code, Backend, TestApp};
use crate::owner_takeover::{mailed_tokens, reset_token};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

async fn request_reset(app: &TestApp, email: &str) {
    let r = app
        .send_as(
            "",
            Method::POST,
            "/password-reset",
            Some(json!({ "email": email })),
            &[],
        )
        .await;
    assert_eq!(r.status, StatusCode::ACCEPTED);
}

async fn confirm(app: &TestApp, org_path: &str, token: &str, pw: &str) -> crate::helpers::Reply {
    app.send_as(
        "",
        Method::POST,
        &format!("{org_path}/password-reset/confirm"),
        Some(json!({ "token": token, "new_password": pw })),
        &[],
    )
    .await
}

#[cfg(unix)]
fn mode(path: &std::path::Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

both!(sent_secrets_leave_no_trace);
async fn sent_secrets_leave_no_trace(b: Backend) {
    // A data directory that does not exist yet, so the server creates it.
    let app = spawn_app_with(b, |c| c.data_dir = c.data_dir.join("data")).await;
    app.person("jane@example.com", false).await;
    request_reset(&app, "jane@example.com").await;
    let token = reset_token(&app, "jane@example.com", 1).await;
    // Delivered: the outbox keeps who and when, not the body (before: the token, in clear).
    let mut bodies = Vec::new();
    for _ in 0..100 {
        bodies = sqlx::query_as::<_, (String, Option<i64>)>(
            "SELECT body, sent_at FROM outbox WHERE recipient = 'jane@example.com'",
        )
        .fetch_all(&app.server.dir.db.pool)
        .await
        .unwrap();
        if bodies.iter().all(|(_, sent)| sent.is_some()) {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert!(!bodies.is_empty());
    for (body, sent) in &bodies {
        assert!(sent.is_some());
        assert!(!body.contains(&token) && !body.contains("rc_"), "{body}");
    }
    #[cfg(unix)]
    {
        let data = &app.config.data_dir;
        let mail = data.join("mail");
        assert_eq!(mode(&mail), 0o700, "mail directory");
        for e in std::fs::read_dir(&mail).unwrap().flatten() {
            assert_eq!(mode(&e.path()), 0o600, "{}", e.path().display());
        }
        assert_eq!(mode(&data.join("secret.key")), 0o600);
        if b == Backend::Sqlite {
            assert_eq!(mode(data), 0o700, "data directory");
            for f in ["rolecall.db", "rolecall.db-wal", "rolecall.db-shm"] {
                let p = data.join(f);
                if p.exists() {
                    assert_eq!(mode(&p), 0o600, "{f}");
                }
            }
        }
    }
}

both!(a_new_password_voids_every_other_reset_token);
async fn a_new_password_voids_every_other_reset_token(b: Backend) {
    let app = spawn_app(b).await;
    app.without_2fa().await;
    let (id, _) = app.person("jane@example.com", false).await;
    for _ in 0..2 {
        request_reset(&app, "jane@example.com").await;
    }
    let first = reset_token(&app, "jane@example.com", 1).await;
    let second = reset_token(&app, "jane@example.com", 2).await;
    let r = confirm(&app, "", &first, "First-New-Horse-Battery-1").await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.body);
    // Before: the second token still worked after the first reset.
    let r = confirm(&app, "", &second, "Second-New-Horse-Battery-2").await;
    assert_eq!(
        r.field_errors(),
        vec![("token".to_string(), "reset_token_invalid".to_string())]
    );
    // The same when the password is changed by its owner, or set by an administrator.
    request_reset(&app, "jane@example.com").await;
    let third = reset_token(&app, "jane@example.com", 3).await;
    let signed = app
        .sign_in("jane@example.com", "First-New-Horse-Battery-1")
        .await;
    let token = signed.body["token"].as_str().unwrap().to_string();
    let r = app
        .send_as(
            &token,
            Method::POST,
            "/api/v1/me/password",
            Some(json!({ "current_password": "First-New-Horse-Battery-1", "new_password": "Third-New-Horse-Battery-3" })),
            &[],
        )
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.body);
    assert_eq!(
        confirm(&app, "", &third, "Fourth-New-Horse-Battery-4")
            .await
            .status,
        StatusCode::UNPROCESSABLE_ENTITY
    );
    request_reset(&app, "jane@example.com").await;
    let fourth = reset_token(&app, "jane@example.com", 4).await;
    let r = app
        .put(
            &format!("/users/{id}/password"),
            json!({ "password": "Fifth-New-Horse-Battery-5" }),
        )
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT);
    assert_eq!(
        confirm(&app, "", &fourth, "Sixth-New-Horse-Battery-6")
            .await
            .status,
        StatusCode::UNPROCESSABLE_ENTITY
    );
    assert_eq!(
        mailed_tokens(&app, "jane@example.com", "Reset your rolecall password").len(),
        4
    );
}

/// The stored TOTP secret of a user, as the database holds it.
async fn stored_secret(app: &TestApp, user: &str) -> String {
    sqlx::query_scalar::<_, String>(
        &app.server
            .dir
            .db
            .sql("SELECT totp_secret FROM users WHERE id = $1"),
    )
    .bind(user)
    .fetch_one(&app.server.dir.db.pool)
    .await
    .unwrap()
}

/// Signs in with password and a TOTP code `offset` seconds ahead; the session's stage.
async fn sign_in_with_code(
    app: &TestApp,
    email: &str,
    pw: &str,
    secret: &str,
    offset: i64,
) -> Value {
    let r = app.sign_in(email, pw).await;
    assert_eq!(r.body["stage"], "totp", "{}", r.body);
    let token = r.body["token"].as_str().unwrap().to_string();
    let r = app
        .send_as(
            &token,
            Method::POST,
            "/api/v1/me/second-factor",
            Some(json!({ "code": totp_code(secret, app, offset) })),
            &[],
        )
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.body);
    app.send_as(&token, Method::GET, "/api/v1/me", None, &[])
        .await
        .body
}

both!(totp_secrets_are_sealed_with_the_server_key);
async fn totp_secrets_are_sealed_with_the_server_key(b: Backend) {
    let app = spawn_app(b).await;
    let (id, pw) = app.person("jane@example.com", false).await;
    let r = app.sign_in("jane@example.com", &pw).await;
    let token = r.body["token"].as_str().unwrap().to_string();
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
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    // Before: the base32 secret itself.
    let stored = stored_secret(&app, &id).await;
    assert!(
        stored.starts_with("enc1:") && !stored.contains(&secret),
        "{stored}"
    );

    // Someone enrolled before encryption: a secret in the clear is sealed at the next start.
    let (old, old_pw) = app.person("old@example.com", false).await;
    let old_secret = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP";
    sqlx::query(
        &app.server
            .dir
            .db
            .sql("UPDATE users SET totp_secret = $1, totp_enabled = 1 WHERE id = $2"),
    )
    .bind(old_secret)
    .bind(&old)
    .execute(&app.server.dir.db.pool)
    .await
    .unwrap();

    // The key file outlives the process: after a restart both still sign in.
    let app = app.restart().await;
    let sealed = stored_secret(&app, &old).await;
    assert!(
        sealed.starts_with("enc1:") && !sealed.contains(old_secret),
        "{sealed}"
    );
    let me = sign_in_with_code(&app, "jane@example.com", &pw, &secret, 30).await;
    assert_eq!(me["user"]["id"], id.as_str());
    sign_in_with_code(&app, "old@example.com", &old_pw, old_secret, 0).await;

    // A rotation re-seals every secret with a new key; the old key is kept to open backups.
    let before = stored_secret(&app, &id).await;
    let (ring, file) = rolecall::keys::begin_file_rotation(&app.config).unwrap();
    assert_eq!(app.server.dir.reseal_secrets(&ring).await.unwrap(), 2);
    rolecall::keys::finish_file_rotation(&file).unwrap();
    let after = stored_secret(&app, &id).await;
    assert_ne!(
        rolecall::keys::Keyring::sealed_with(&before),
        rolecall::keys::Keyring::sealed_with(&after)
    );
    assert_eq!(
        rolecall::keys::Keyring::sealed_with(&after),
        Some(ring.key_id())
    );
    let app = app.restart().await;
    app.clock.advance_secs(60);
    sign_in_with_code(&app, "jane@example.com", &pw, &secret, 0).await;

    // A server given another key refuses to start rather than lock everyone out.
    let mut wrong = app.config.clone();
    wrong.keys.key = Some("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=".into());
    let db = rolecall::store::Db::connect(wrong.database_url.as_deref(), &wrong.data_dir)
        .await
        .unwrap();
    let refused = rolecall::directory::Directory::open_with_keys(
        db,
        app.clock.clone(),
        vec![],
        rolecall::keys::load(&wrong).unwrap(),
    )
    .await;
    assert!(refused.is_err_and(|e| e.to_string().contains("sealed with key")));
}
