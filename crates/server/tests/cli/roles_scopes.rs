//! Role edits and grants (`roles update|grant|ungrant|set-grants`) and scopes (`scopes
//! list|create|delete`), added for CLI parity (issue 10), against a real server: what they
//! change takes effect in `check`, and the built-in role and a scope in use are refused.

use super::{spawn, user_id};
use serde_json::{json, Value};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn roles_update_grant_ungrant_and_set_grants() {
    let env = spawn().await;
    let user = user_id(&env, "rita@example.com").await;
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
    let id = role["id"].as_str().expect("id").to_string();
    env.json(&["assign", &user, &id]).await;
    let may = |resource: &'static str, action: Option<&'static str>| {
        let (env, user) = (&env, user.clone());
        async move {
            let mut args = vec![
                "check",
                "--user",
                &user,
                "--application",
                "commerce-admin",
                "--resource",
                resource,
            ];
            if let Some(a) = action {
                args.extend(["--action", a]);
            }
            env.run(&args).await.code
        }
    };
    assert_eq!(may("Magento_Customer::customer", None).await, 3);

    let renamed = env
        .json(&[
            "roles",
            "update",
            &id,
            "--name",
            "Sales desk",
            "--description",
            "Orders",
        ])
        .await;
    assert_eq!(renamed["name"], "Sales desk");
    assert_eq!(renamed["description"], "Orders");
    assert_eq!(
        renamed["grants"][0]["resource"], "Magento_Sales::sales",
        "grants untouched"
    );

    let granted = env
        .json(&["roles", "grant", &id, "Magento_Customer::customer"])
        .await;
    assert_eq!(
        granted["grants"],
        json!([
            { "resource": "Magento_Sales::sales", "actions": "*" },
            { "resource": "Magento_Customer::customer", "actions": "*" }
        ])
    );
    assert_eq!(
        may("Magento_Customer::customer", None).await,
        0,
        "the grant takes effect"
    );

    let ungranted = env
        .json(&["roles", "ungrant", &id, "Magento_Customer::customer"])
        .await;
    assert_eq!(
        ungranted["grants"],
        json!([{ "resource": "Magento_Sales::sales", "actions": "*" }])
    );
    assert_eq!(
        may("Magento_Customer::customer", None).await,
        3,
        "and is gone again"
    );

    let replaced = env
        .json(&["roles", "set-grants", &id, "--grant", "Magento_Cms::page"])
        .await;
    assert_eq!(
        replaced["grants"],
        json!([{ "resource": "Magento_Cms::page", "actions": "*" }])
    );
    let cleared = env.json(&["roles", "update", &id, "--no-grants"]).await;
    assert_eq!(cleared["grants"], json!([]));
    assert_eq!(may("Magento_Cms::page", None).await, 3);

    let nothing = env.run(&["roles", "update", &id]).await;
    assert_eq!(nothing.code, 1);
    assert!(
        nothing.stderr.contains("nothing to change"),
        "{}",
        nothing.stderr
    );

    // The built-in Administrators role cannot be edited: the server's 409 is exit 1.
    let roles = env
        .json(&["roles", "list", "--application", "commerce-admin"])
        .await;
    let builtin = roles["items"]
        .as_array()
        .expect("items")
        .iter()
        .find(|r| r["builtin"] == true)
        .expect("the built-in role");
    let refused = env
        .run(&[
            "roles",
            "grant",
            builtin["id"].as_str().expect("id"),
            "Magento_Cms::page",
        ])
        .await;
    assert_eq!(refused.code, 1, "{}", refused.stdout);
    assert!(
        refused.stderr.contains("builtin_role"),
        "{}",
        refused.stderr
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn roles_grant_and_ungrant_single_actions() {
    let env = spawn().await;
    let role = env
        .json(&[
            "roles",
            "create",
            "--application",
            "cloud-project",
            "--name",
            "Env watcher",
            "--grant",
            "environment:view",
        ])
        .await;
    let id = role["id"].as_str().expect("id").to_string();
    let more = env
        .json(&["roles", "grant", &id, "environment:view,edit"])
        .await;
    assert_eq!(
        more["grants"],
        json!([{ "resource": "environment", "actions": ["view", "edit"] }])
    );
    let less = env
        .json(&["roles", "ungrant", &id, "environment:view"])
        .await;
    assert_eq!(
        less["grants"],
        json!([{ "resource": "environment", "actions": ["edit"] }])
    );
    let none = env
        .json(&["roles", "ungrant", &id, "environment:edit"])
        .await;
    assert_eq!(
        none["grants"],
        json!([]),
        "the last action takes the grant with it"
    );
    // Narrowing a grant of every action: the rest of what the catalogue declares stays.
    env.json(&["roles", "grant", &id, "environment"]).await;
    let narrowed = env
        .json(&["roles", "ungrant", &id, "environment:admin"])
        .await;
    assert_eq!(
        narrowed["grants"],
        json!([{ "resource": "environment", "actions": ["view", "edit", "deploy", "ssh"] }])
    );
    // Taking away what the role does not hold changes nothing and says so.
    let absent = env.run(&["roles", "ungrant", &id, "project"]).await;
    assert_eq!(absent.code, 0, "{}", absent.stderr);
    assert!(
        absent.stderr.contains("no grant on project"),
        "{}",
        absent.stderr
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scopes_create_list_and_delete() {
    let env = spawn().await;
    let codes = |v: &Value| -> Vec<String> {
        v["items"]
            .as_array()
            .expect("items")
            .iter()
            .map(|s| s["code"].as_str().expect("code").to_string())
            .collect()
    };
    let before = env
        .json(&["scopes", "list", "--application", "commerce-admin"])
        .await;
    assert_eq!(
        codes(&before),
        ["global", "base", "main_website_store", "default"]
    );

    let created = env
        .json(&[
            "scopes",
            "create",
            "--application",
            "commerce-admin",
            "--code",
            "eu_site",
            "--parent",
            "global",
            "--name",
            "EU website",
        ])
        .await;
    assert_eq!(created["code"], "eu_site");
    assert_eq!(created["kind"], "website", "a child of the root");
    let table = env
        .run(&["scopes", "list", "--application", "commerce-admin"])
        .await;
    assert!(
        table.stdout.contains("eu_site") && table.stdout.contains("EU website"),
        "{}",
        table.stdout
    );

    // A role limited to the scope keeps it from being deleted (409, exit 1).
    let role = env
        .json(&[
            "roles",
            "create",
            "--application",
            "commerce-admin",
            "--name",
            "EU",
            "--grant",
            "Magento_Sales::sales",
            "--scope",
            "eu_site",
        ])
        .await;
    let kept = env
        .run(&[
            "scopes",
            "delete",
            "--application",
            "commerce-admin",
            "eu_site",
        ])
        .await;
    assert_eq!(kept.code, 1, "{}", kept.stdout);
    let role_gone = env
        .run(&["roles", "delete", role["id"].as_str().expect("id")])
        .await;
    assert_eq!(role_gone.code, 0, "{}", role_gone.stderr);
    let deleted = env
        .run(&[
            "scopes",
            "delete",
            "--application",
            "commerce-admin",
            "eu_site",
        ])
        .await;
    assert_eq!(deleted.code, 0, "{}", deleted.stderr);
    let after = env
        .json(&["scopes", "list", "--application", "commerce-admin"])
        .await;
    assert!(!codes(&after).contains(&"eu_site".to_string()));
    let unknown = env
        .run(&["scopes", "create", "--application", "nope", "--code", "x"])
        .await;
    assert_ne!(unknown.code, 0);
}
