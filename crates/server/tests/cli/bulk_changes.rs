//! The bulk changes outside files (issue 12) from the command line: `groups add-member`,
//! `profiles add-user` with several users, `roles add-users` and `users remove-product`,
//! against a real server; an all-or-nothing refusal exits non-zero and changes nothing.

use super::{spawn, user_id};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn many_users_at_once_and_a_product_removed() {
    let env = spawn().await;
    let a = user_id(&env, "a@example.com").await;
    let b = user_id(&env, "b@example.com").await;
    let c = user_id(&env, "c@example.com").await;

    let group = env.json(&["groups", "create", "--name", "Ops"]).await["id"]
        .as_str()
        .expect("group id")
        .to_string();
    let r = env
        .json(&["groups", "add-member", &group, &a, &b, &a])
        .await;
    assert_eq!(
        (r["added"].as_u64(), r["already_there"].as_u64()),
        (Some(2), Some(0)),
        "{r}"
    );
    let out = env.run(&["groups", "add-member", &group, &a, &c]).await;
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(
        out.stdout.contains("1 user(s) added, 1 already there."),
        "{}",
        out.stdout
    );

    let profile = env
        .json(&[
            "profiles",
            "create",
            "--application",
            "site-search",
            "--name",
            "Two",
            "--seats",
            "2",
        ])
        .await["id"]
        .as_str()
        .expect("profile id")
        .to_string();
    let out = env
        .run(&["profiles", "add-user", &profile, &a, &b, &c])
        .await;
    assert_ne!(out.code, 0, "three users do not fit two seats");
    assert!(
        out.stderr.contains("quota_exceeded") || out.stderr.contains("need 3"),
        "{}",
        out.stderr
    );
    let used = env.json(&["profiles", "get", &profile]).await;
    assert_eq!(used["seats_used"], 0, "nothing was written: {used}");
    let r = env.json(&["profiles", "add-user", &profile, &a, &b]).await;
    assert_eq!(r["added"], 2, "{r}");

    let role = env
        .json(&[
            "roles",
            "create",
            "--application",
            "site-search",
            "--name",
            "Ranker",
            "--grant",
            "rules:ranking",
        ])
        .await["id"]
        .as_str()
        .expect("role id")
        .to_string();
    let r = env.json(&["roles", "add-users", &role, &a, &c]).await;
    assert_eq!(r["added"], 2, "{r}");

    let r = env
        .json(&["users", "remove-product", &a, "site-search"])
        .await;
    assert_eq!(r["seats_released"][0]["name"], "Two", "{r}");
    assert_eq!(r["roles_unassigned"][0]["name"], "Ranker", "{r}");
    let out = env
        .run(&["users", "remove-product", &a, "site-search"])
        .await;
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(
        out.stdout.contains("Seats released: none"),
        "{}",
        out.stdout
    );
}
