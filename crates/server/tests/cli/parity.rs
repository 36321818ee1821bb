//! CLI parity (issue 10): every operation of the served OpenAPI document has a command
//! (`rolecall::cli::parity::OPERATIONS`) that clap accepts, and the commands added for it work
//! against a real server: invitations, my account and password resets, health, organizations,
//! groups, batch checks and effective permissions, and the rights and re-verification they
//! obey (role edits and scopes: `roles_scopes.rs`).

use super::{person, rolecall, rolecall_input, set_settings, signed_in, spawn, user_id, Env};
use rolecall::cli::parity::{command_for, Performed, OPERATIONS};
use serde_json::{json, Value};
use std::collections::BTreeSet;

/// The operationIds of the document the server serves.
async fn served_operations(env: &Env) -> BTreeSet<String> {
    let doc: Value = reqwest::get(format!("{}/api/v1/openapi.json", env.url))
        .await
        .expect("document")
        .json()
        .await
        .expect("document is JSON");
    let mut ids = BTreeSet::new();
    for item in doc["paths"].as_object().expect("paths").values() {
        for method in ["get", "put", "post", "patch", "delete"] {
            if let Some(op) = item.get(method) {
                let id = op["operationId"]
                    .as_str()
                    .expect("every operation has an id");
                ids.insert(id.to_string());
            }
        }
    }
    ids
}

/// `rolecall <words> --help`: clap's answer for that command path.
async fn help(words: &str) -> super::Out {
    let mut args: Vec<&str> = words.split_whitespace().collect();
    args.push("--help");
    rolecall(&[], &args).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_api_operation_has_a_command() {
    let env = spawn().await;
    let served = served_operations(&env).await;
    assert!(served.len() > 100, "the whole document: {}", served.len());
    let missing: Vec<&String> = served
        .iter()
        .filter(|id| command_for(id).is_none())
        .collect();
    assert!(
        missing.is_empty(),
        "operations without a CLI command (add them to cli/parity.rs): {missing:?}"
    );
    let stale: Vec<&str> = OPERATIONS
        .iter()
        .map(|(id, _)| *id)
        .filter(|id| !served.contains(*id))
        .collect();
    assert!(
        stale.is_empty(),
        "the table names operations the API no longer has: {stale:?}"
    );

    let commands: BTreeSet<&str> = OPERATIONS
        .iter()
        .filter_map(|(_, p)| match p {
            Performed::By(cmd) => Some(*cmd),
            Performed::NotByCommand(_) => None,
        })
        .collect();
    for cmd in commands {
        let out = help(cmd).await;
        assert_eq!(
            out.code, 0,
            "`rolecall {cmd} --help` is refused:\n{}",
            out.stderr
        );
        assert!(out.stdout.contains("Usage:"), "{}", out.stdout);
    }
    // The check can fail: a command path clap does not know is refused.
    assert_ne!(help("invitations frobnicate").await.code, 0);
}

/// Every `rc_…` token mailed to `to` with `subject` so far, oldest first, waiting until there
/// are at least `n`.
async fn mailed_tokens(env: &Env, to: &str, subject: &str, n: usize) -> Vec<String> {
    for _ in 0..100 {
        let mut mails: Vec<(std::time::SystemTime, String)> =
            std::fs::read_dir(env._dir.path().join("mail"))
                .into_iter()
                .flatten()
                .flatten()
                .filter(|e| e.path().extension().is_some_and(|x| x == "eml"))
                .filter_map(|e| {
                    let modified = e.metadata().ok()?.modified().ok()?;
                    Some((modified, std::fs::read_to_string(e.path()).ok()?))
                })
                .filter(|(_, t)| {
                    t.lines().any(|l| l.trim_end() == format!("To: {to}"))
                        && t.lines()
                            .any(|l| l.trim_end() == format!("Subject: {subject}"))
                })
                .collect();
        mails.sort();
        let tokens: Vec<String> = mails
            .iter()
            .flat_map(|(_, t)| {
                t.lines()
                    .filter(|l| l.starts_with("rc_"))
                    .map(|l| l.trim().to_string())
            })
            .collect::<Vec<_>>();
        if tokens.len() >= n {
            return tokens;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    panic!("expected {n} message(s) {subject:?} to {to}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn invitations_create_list_resend_withdraw_and_accept() {
    let env = spawn().await;
    // Seed 002: only the e-mail is required, however long.
    let email = "firstname.lastname.department@subsidiary.example.com";
    let invited = env
        .json(&[
            "invitations",
            "create",
            "--email",
            email,
            "--first-name",
            "Fi",
        ])
        .await;
    assert_eq!(invited["user"]["status"], "invited");
    assert_eq!(invited["invitation"]["status"], "pending");
    assert!(
        !invited.to_string().contains("rc_"),
        "the token travels by e-mail only"
    );
    let user = invited["user"]["id"].as_str().expect("id").to_string();

    let list = env.json(&["invitations", "list"]).await;
    assert_eq!(list["total"], 1);
    assert_eq!(list["items"][0]["email"], email);
    let table = env.run(&["invitations", "list"]).await;
    assert!(
        table.stdout.contains(email) && table.stdout.contains("pending"),
        "{}",
        table.stdout
    );

    let subject = "Get started with rolecall";
    let first = mailed_tokens(&env, email, subject, 1).await.remove(0);
    let resent = env.json(&["invitations", "resend", &user]).await;
    assert_eq!(resent["user_id"], user.as_str());
    let tokens = mailed_tokens(&env, email, subject, 2).await;
    let second = tokens
        .iter()
        .find(|t| **t != first)
        .expect("a new token")
        .clone();

    // The first token stopped working when the second was sent.
    let password = "Fine passphrase for Fi 42";
    let stale = rolecall_input(
        &[("ROLECALL_URL", &env.url), ("ROLECALL_ORG", "acme")],
        &["invitations", "accept", &first],
        &format!("{password}\n"),
    )
    .await;
    assert_ne!(stale.code, 0, "{}", stale.stdout);
    assert!(
        stale.stderr.contains("the invitation is unknown"),
        "{}",
        stale.stderr
    );

    let withdrawn = env.run(&["invitations", "withdraw", &user]).await;
    assert_eq!(withdrawn.code, 0, "{}", withdrawn.stderr);
    assert_eq!(env.json(&["invitations", "list"]).await["total"], 0);
    let after_withdraw = rolecall_input(
        &[("ROLECALL_URL", &env.url), ("ROLECALL_ORG", "acme")],
        &["invitations", "accept", &second],
        &format!("{password}\n"),
    )
    .await;
    assert_ne!(after_withdraw.code, 0, "a withdrawn token is dead");
    assert_eq!(
        env.json(&["users", "get", &user]).await["status"],
        "invited"
    );

    // A new token, given on standard input (not in the process list), then the password.
    env.json(&["invitations", "resend", &user]).await;
    let third = mailed_tokens(&env, email, subject, 3)
        .await
        .into_iter()
        .find(|t| *t != first && *t != second)
        .expect("a third token");
    let accepted = rolecall_input(
        &[("ROLECALL_URL", &env.url), ("ROLECALL_ORG", "acme")],
        &["invitations", "accept"],
        &format!("{third}\n{password}\n"),
    )
    .await;
    assert_eq!(accepted.code, 0, "{}", accepted.stderr);
    assert_eq!(env.json(&["users", "get", &user]).await["status"], "active");

    // Resending to someone who is no longer invited is refused (409), exit 1.
    let again = env.run(&["invitations", "resend", &user]).await;
    assert_eq!(again.code, 1, "{}", again.stdout);
}

/// Runs `args` as whoever signed in to the profiles folder `home`, with `extra` variables
/// and `input` on standard input.
async fn in_profile(
    home: &tempfile::TempDir,
    extra: &[(&str, &str)],
    args: &[&str],
    input: &str,
) -> super::Out {
    let cfg = home.path().to_str().expect("utf-8 path");
    let mut vars = vec![("ROLECALL_CONFIG_DIR", cfg)];
    vars.extend_from_slice(extra);
    rolecall_input(&vars, args, input).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn my_account_password_reset_and_health() {
    let env = spawn().await;
    let (id, password) = person(&env, "mia", false).await;
    // Two devices at once.
    set_settings(&env, |s| s["account_sharing"] = json!(true)).await;
    let laptop = signed_in(&env, "mia", &password).await;
    let phone = signed_in(&env, "mia", &password).await;

    let listed = in_profile(&laptop, &[], &["me", "sessions", "--json"], "").await;
    assert_eq!(listed.code, 0, "{}", listed.stderr);
    assert_eq!(listed.json()["items"].as_array().expect("items").len(), 2);
    let marked = in_profile(&laptop, &[], &["me", "sessions"], "").await;
    assert!(marked.stdout.contains("this session"), "{}", marked.stdout);
    let phone_me = in_profile(&phone, &[], &["whoami", "--json"], "")
        .await
        .json();
    let phone_session = phone_me["session"]["id"].as_str().expect("id").to_string();
    let ended = in_profile(&laptop, &[], &["me", "end-session", &phone_session], "").await;
    assert_eq!(ended.code, 0, "{}", ended.stderr);
    assert_eq!(
        in_profile(&phone, &[], &["whoami"], "").await.code,
        2,
        "the phone is signed out"
    );
    let listed = in_profile(&laptop, &[], &["me", "sessions", "--json"], "").await;
    assert_eq!(listed.json()["items"].as_array().expect("items").len(), 1);

    let wrong = in_profile(
        &laptop,
        &[("ROLECALL_PASSWORD", "not it")],
        &["me", "reverify"],
        "",
    )
    .await;
    assert_eq!(
        wrong.code, 2,
        "a wrong password is refused: {}",
        wrong.stdout
    );
    let right = in_profile(
        &laptop,
        &[("ROLECALL_PASSWORD", &password)],
        &["me", "reverify"],
        "",
    )
    .await;
    assert_eq!(right.code, 0, "{}", right.stderr);

    // Password reset: no sign-in; the token comes by e-mail.
    let anon = [("ROLECALL_URL", env.url.as_str()), ("ROLECALL_ORG", "acme")];
    let asked = rolecall(
        &anon,
        &["password-reset", "request", "--email", "mia@example.com"],
    )
    .await;
    assert_eq!(asked.code, 0, "{}", asked.stderr);
    let unknown = rolecall(
        &anon,
        &["password-reset", "request", "--email", "nobody@example.com"],
    )
    .await;
    assert_eq!(unknown.code, 0, "the answer does not tell who exists");
    let token = mailed_tokens(&env, "mia@example.com", "Reset your rolecall password", 1)
        .await
        .remove(0);
    let fresh = "A brand new passphrase 77";
    let bad = rolecall_input(
        &anon,
        &["password-reset", "confirm", "rc_bogus"],
        &format!("{fresh}\n"),
    )
    .await;
    assert_ne!(bad.code, 0);
    let reset = rolecall_input(
        &anon,
        &["password-reset", "confirm"],
        &format!("{token}\n{fresh}\n"),
    )
    .await;
    assert_eq!(reset.code, 0, "{}", reset.stderr);
    let with_new = signed_in(&env, "mia", fresh).await;

    // Changing my own password: the current one, then the new one, from standard input.
    let newer = "Yet another passphrase 88";
    let changed = in_profile(
        &with_new,
        &[],
        &["me", "password"],
        &format!("{fresh}\n{newer}\n"),
    )
    .await;
    assert_eq!(changed.code, 0, "{}", changed.stderr);
    signed_in(&env, "mia", newer).await;

    // An administrator sets it (the server token needs no re-verification).
    let by_admin = "Admin chosen passphrase 99";
    let set = rolecall_input(
        &[
            ("ROLECALL_URL", &env.url),
            ("ROLECALL_TOKEN", &env.token),
            ("ROLECALL_ORG", "acme"),
        ],
        &["users", "set-password", &id],
        &format!("{by_admin}\n"),
    )
    .await;
    assert_eq!(set.code, 0, "{}", set.stderr);
    signed_in(&env, "mia", by_admin).await;

    // Health needs no token; a server that is not there is not ready.
    let live = rolecall(&[("ROLECALL_URL", &env.url)], &["health"]).await;
    assert_eq!(live.code, 0, "{}", live.stderr);
    let ready = rolecall(&[("ROLECALL_URL", &env.url)], &["ready", "--json"]).await;
    assert_eq!(ready.code, 0, "{}", ready.stderr);
    assert_eq!(ready.json()["ready"], true);
    let gone = rolecall(&[("ROLECALL_URL", "http://127.0.0.1:9")], &["ready"]).await;
    assert_eq!(gone.code, 1);
    let served = rolecall(&[], &["openapi", "--url", &env.url]).await;
    assert_eq!(served.code, 0, "{}", served.stderr);
    assert!(served.json()["paths"]["/api/v1/organizations/{org}/invitations"].is_object());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn orgs_groups_batch_checks_and_permissions() {
    let env = spawn().await;
    // Organizations (the server-wide token may create them).
    let created = env
        .json(&["orgs", "create", "--slug", "globex", "--name", "Globex"])
        .await;
    assert_eq!(created["slug"], "globex");
    let orgs = env.json(&["orgs", "list"]).await;
    assert_eq!(orgs["items"].as_array().expect("items").len(), 2);
    let renamed = env
        .json(&["orgs", "update", "globex", "--name", "Globex Corp"])
        .await;
    assert_eq!(renamed["name"], "Globex Corp");
    assert_eq!(
        env.json(&["orgs", "get"]).await["slug"],
        "acme",
        "the connection's by default"
    );

    // Groups: rename, and the roles they carry.
    let group = env.json(&["groups", "create", "--name", "Desk"]).await;
    let gid = group["id"].as_str().expect("id").to_string();
    let updated = env
        .json(&["groups", "update", &gid, "--description", "Front desk"])
        .await;
    assert_eq!(updated["description"], "Front desk");
    assert_eq!(updated["name"], "Desk");
    let role = env
        .json(&[
            "roles",
            "create",
            "--application",
            "commerce-admin",
            "--name",
            "Sales",
            "--grant",
            "Magento_Sales::sales",
        ])
        .await;
    let rid = role["id"].as_str().expect("id").to_string();
    env.run(&["groups", "add-role", &gid, &rid]).await;
    let roles = env.json(&["groups", "roles", &gid]).await;
    assert_eq!(roles["items"][0]["name"], "Sales");

    // Batch checks: exit 0 when all allow, 3 when any deny.
    let user = user_id(&env, "bo@example.com").await;
    env.run(&["groups", "add-member", &gid, &user]).await;
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("checks.json");
    let check = |resource: &str| json!({ "user_id": user, "application": "commerce-admin", "resource": resource });
    std::fs::write(
        &file,
        json!([check("Magento_Sales::sales_order")]).to_string(),
    )
    .expect("write");
    let path = file.to_str().expect("utf-8");
    let all = env.run(&["check-batch", path]).await;
    assert_eq!(all.code, 0, "{}{}", all.stdout, all.stderr);
    assert!(all.stdout.contains("allow"), "{}", all.stdout);
    std::fs::write(
        &file,
        json!({ "checks": [check("Magento_Sales::sales_order"), check("Magento_Cms::page")] })
            .to_string(),
    )
    .expect("write");
    let (code, answers) = env.json_code(&["check-batch", path]).await;
    assert_eq!(code, 3);
    assert_eq!(answers["results"][1]["decision"], "deny");

    // Effective permissions: what the group's role gives.
    let perms = env
        .json(&[
            "users",
            "permissions",
            &user,
            "--application",
            "commerce-admin",
        ])
        .await;
    assert!(
        perms["items"]
            .as_array()
            .expect("items")
            .iter()
            .any(|p| p["resource"] == "Magento_Sales::sales"),
        "{perms}"
    );

    // An application's profiles; an unknown application is not found (exit 1).
    env.json(&[
        "profiles",
        "create",
        "--application",
        "commerce-admin",
        "--name",
        "Std",
        "--seats",
        "2",
    ])
    .await;
    let profiles = env.json(&["apps", "profiles", "commerce-admin"]).await;
    assert_eq!(profiles["items"][0]["name"], "Std");
    assert_eq!(env.run(&["apps", "profiles", "nope"]).await.code, 1);

    // A catalogue file added by the server-wide token.
    let def = dir.path().join("pim.json");
    std::fs::write(
        &def,
        json!({ "key": "pim", "name": "Product information", "actions": ["view", "edit"],
                "scope_kinds": ["catalog"], "resources": { "id": "pim", "actions": ["view", "edit"] } })
        .to_string(),
    )
    .expect("write");
    let put = env
        .json(&["apps", "put", def.to_str().expect("utf-8")])
        .await;
    assert_eq!(put["key"], "pim");
    assert_eq!(
        env.json(&["apps", "get", "pim"]).await["name"],
        "Product information"
    );

    // Only a server-wide token creates organizations: a person is refused (exit 2).
    let (_, password) = person(&env, "ola", false).await;
    let home = signed_in(&env, "ola", &password).await;
    let cfg = home.path().to_str().expect("utf-8");
    let refused = rolecall(
        &[("ROLECALL_CONFIG_DIR", cfg)],
        &["orgs", "create", "--slug", "initech", "--name", "Initech"],
    )
    .await;
    assert_eq!(refused.code, 2, "{}", refused.stdout);
}

/// The new commands obey the server's rights and re-verification like the others: a person
/// without rights is refused (exit 2); an administrator whose organisation asks for the
/// password with every change (`reverify_window_secs: 0`) is told to add `--reverify`, and
/// gets through with it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn new_commands_are_refused_without_rights_and_take_reverify() {
    let env = spawn().await;
    let (pia, password) = person(&env, "pia", false).await;
    let role = env
        .json(&[
            "roles",
            "create",
            "--application",
            "commerce-admin",
            "--name",
            "Sales",
            "--grant",
            "Magento_Sales::sales",
        ])
        .await;
    let role_id = role["id"].as_str().expect("id").to_string();
    let home = signed_in(&env, "pia", &password).await;

    for args in [
        vec!["invitations", "create", "--email", "eve@example.com"],
        vec!["invitations", "list"],
        vec!["roles", "grant", &role_id, "Magento_Cms::page"],
        vec!["roles", "update", &role_id, "--name", "Mine"],
        vec![
            "scopes",
            "create",
            "--application",
            "commerce-admin",
            "--code",
            "x_site",
        ],
        vec!["orgs", "update", "--name", "Taken over"],
    ] {
        let out = in_profile(&home, &[], &args, "").await;
        assert_eq!(out.code, 2, "{args:?} must be refused: {}", out.stdout);
    }
    let unchanged = env.json(&["roles", "get", &role_id]).await;
    assert_eq!(unchanged["name"], "Sales");
    assert_eq!(unchanged["grants"].as_array().expect("grants").len(), 1);
    assert_eq!(env.json(&["invitations", "list"]).await["total"], 0);

    // A System administrator, asked for the password with every change.
    let granted = env
        .run(&["admins", "grant", &pia, "--kind", "system"])
        .await;
    assert_eq!(granted.code, 0, "{}", granted.stderr);
    set_settings(&env, |s| s["reverify_window_secs"] = json!(0)).await;
    let bare = in_profile(
        &home,
        &[],
        &["invitations", "create", "--email", "eve@example.com"],
        "",
    )
    .await;
    assert_eq!(bare.code, 2, "{}", bare.stdout);
    assert!(bare.stderr.contains("--reverify"), "{}", bare.stderr);
    let verified = in_profile(
        &home,
        &[("ROLECALL_PASSWORD", &password)],
        &[
            "invitations",
            "create",
            "--email",
            "eve@example.com",
            "--reverify",
            "--json",
        ],
        "",
    )
    .await;
    assert_eq!(verified.code, 0, "{}", verified.stderr);
    assert_eq!(verified.json()["user"]["status"], "invited");
    let eve = verified.json()["user"]["id"]
        .as_str()
        .expect("id")
        .to_string();
    let withdrawn = in_profile(
        &home,
        &[("ROLECALL_PASSWORD", &password)],
        &["invitations", "withdraw", &eve, "--reverify"],
        "",
    )
    .await;
    assert_eq!(withdrawn.code, 0, "{}", withdrawn.stderr);
}
