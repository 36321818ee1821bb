//! The `rolecall` binary end to end: management commands against an in-process server (SQLite in
//! a temporary directory), exit codes, `--json`, error reporting, `init` and `openapi`.

use rolecall::config::Config;
use rolecall::Server;
use serde_json::Value;
use std::path::PathBuf;
use std::process::Command;

/// A server with organization `acme` and a server-wide token, like `tests/api/helpers.rs`.
struct Env {
    url: String,
    token: String,
    _server: Server,
    _dir: tempfile::TempDir,
}

async fn spawn() -> Env {
    let dir = tempfile::tempdir().expect("tempdir");
    let config = Config {
        listen: "127.0.0.1:0".into(),
        data_dir: PathBuf::from(dir.path()),
        database_url: None,
        catalogue_dir: None,
        bootstrap_token_hash: None,
    };
    let server = Server::start(&config).await.expect("server starts");
    let token = server
        .dir
        .create_token("cli test", None)
        .await
        .expect("token");
    server.dir.create_org("acme", "Acme").await.expect("org");
    Env {
        url: format!("http://{}", server.addr),
        token,
        _server: server,
        _dir: dir,
    }
}

struct Out {
    code: i32,
    stdout: String,
    stderr: String,
}

impl Out {
    fn json(&self) -> Value {
        serde_json::from_str(&self.stdout)
            .unwrap_or_else(|e| panic!("stdout is not JSON ({e}):\n{}", self.stdout))
    }
}

/// Runs the real binary off the async runtime, with a clean rolecall environment plus `env`.
async fn rolecall(env: &[(&str, &str)], args: &[&str]) -> Out {
    let env: Vec<(String, String)> = env
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    let args: Vec<String> = args.iter().map(|a| a.to_string()).collect();
    let shown = args.join(" ");
    let out = tokio::task::spawn_blocking(move || {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_rolecall"));
        for var in [
            "ROLECALL_URL",
            "ROLECALL_TOKEN",
            "ROLECALL_ORG",
            "ROLECALL_DATABASE_URL",
            "ROLECALL_DATA_DIR",
            "ROLECALL_CONFIG",
            "ROLECALL_LISTEN",
            "ROLECALL_CATALOGUE_DIR",
        ] {
            cmd.env_remove(var);
        }
        cmd.env("ROLECALL_LOG", "warn").envs(env).args(args);
        cmd.output()
    })
    .await
    .expect("join")
    .expect("run rolecall");
    let out = Out {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    };
    eprintln!(
        "$ rolecall {shown}\n[exit {}]\n{}{}",
        out.code, out.stdout, out.stderr
    );
    out
}

impl Env {
    async fn run(&self, args: &[&str]) -> Out {
        self.run_with_token(&self.token.clone(), args).await
    }

    async fn run_with_token(&self, token: &str, args: &[&str]) -> Out {
        rolecall(
            &[
                ("ROLECALL_URL", &self.url),
                ("ROLECALL_TOKEN", token),
                ("ROLECALL_ORG", "acme"),
            ],
            args,
        )
        .await
    }

    /// Runs a command with `--json` that must succeed; returns the parsed output.
    async fn json(&self, args: &[&str]) -> Value {
        let mut all = args.to_vec();
        all.push("--json");
        let out = self.run(&all).await;
        assert_eq!(out.code, 0, "{}", out.stderr);
        out.json()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn users_create_list_get_and_json() {
    let env = spawn().await;
    let out = env
        .run(&[
            "users",
            "create",
            "--email",
            "ann@example.com",
            "--first-name",
            "Ann",
            "--last-name",
            "Lee",
        ])
        .await;
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(out.stdout.contains("ann@example.com"), "{}", out.stdout);
    assert!(!out.stdout.contains(&env.token) && !out.stderr.contains(&env.token));

    let list = env.run(&["users", "list"]).await;
    assert_eq!(list.code, 0, "{}", list.stderr);
    assert!(list.stdout.contains("ann@example.com"), "{}", list.stdout);
    assert!(list.stdout.contains("Ann Lee"), "{}", list.stdout);
    assert!(list.stdout.contains("active"), "{}", list.stdout);

    let json = env.json(&["users", "list", "--q", "ann"]).await;
    assert_eq!(json["total"], 1);
    assert_eq!(json["items"][0]["email"], "ann@example.com");
    let id = json["items"][0]["id"].as_str().expect("id").to_string();

    let get = env.run(&["users", "get", &id]).await;
    assert_eq!(get.code, 0, "{}", get.stderr);
    assert!(get.stdout.contains("ann@example.com"), "{}", get.stdout);

    let off = env.json(&["users", "deactivate", &id]).await;
    assert_eq!(off["status"], "inactive");
    let none = env.json(&["users", "list", "--status", "active"]).await;
    assert_eq!(none["total"], 0);
    let on = env.run(&["users", "reactivate", &id]).await;
    assert_eq!(on.code, 0, "{}", on.stderr);
    assert!(on.stdout.contains("active"), "{}", on.stdout);

    let invited = env
        .json(&["users", "create", "--email", "bo@example.com", "--invited"])
        .await;
    assert_eq!(invited["status"], "invited");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn roles_assign_and_check_exit_codes() {
    let env = spawn().await;
    let user = env
        .json(&["users", "create", "--email", "sam@example.com"])
        .await["id"]
        .as_str()
        .expect("user id")
        .to_string();
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
            "--scope",
            "base",
        ])
        .await;
    assert_eq!(
        role["grants"],
        serde_json::json!([{ "resource": "Magento_Sales::sales", "actions": "*" }])
    );
    assert_eq!(role["scopes"], serde_json::json!(["base"]));
    let role_id = role["id"].as_str().expect("role id").to_string();

    let table = env
        .run(&["roles", "list", "--application", "commerce-admin"])
        .await;
    assert_eq!(table.code, 0, "{}", table.stderr);
    assert!(
        table.stdout.contains("Sales") && table.stdout.contains("base"),
        "{}",
        table.stdout
    );
    let grants = env.run(&["roles", "grants", &role_id]).await;
    assert!(
        grants.stdout.contains("Magento_Sales::sales"),
        "{}",
        grants.stdout
    );

    let assigned = env.run(&["assign", &user, &role_id]).await;
    assert_eq!(assigned.code, 0, "{}", assigned.stderr);
    let held = env.run(&["users", "roles", &user]).await;
    assert!(
        held.stdout.contains("Sales") && held.stdout.contains("direct"),
        "{}",
        held.stdout
    );

    let check = |resource: &'static str, scope: &'static str| {
        let (env, user) = (&env, user.clone());
        async move {
            env.run(&[
                "check",
                "--user",
                &user,
                "--application",
                "commerce-admin",
                "--resource",
                resource,
                "--scope",
                scope,
            ])
            .await
        }
    };
    let allow = check("Magento_Sales::sales_order", "default").await;
    assert_eq!(allow.code, 0, "{}{}", allow.stdout, allow.stderr);
    assert!(allow.stdout.contains("allow") && allow.stdout.contains("granted"));
    let deny = check("Magento_Cms::page", "default").await;
    assert_eq!(deny.code, 3, "{}{}", deny.stdout, deny.stderr);
    assert!(deny.stdout.contains("deny"), "{}", deny.stdout);

    let explained = env
        .run(&[
            "check",
            "--user",
            &user,
            "--application",
            "commerce-admin",
            "--resource",
            "Magento_Sales::sales",
            "--json",
        ])
        .await;
    assert_eq!(explained.code, 3, "out of scope at the root scope");
    let e = explained.json();
    assert_eq!(e["reason"], "out_of_scope");
    assert_eq!(e["roles"][0]["role_name"], "Sales");

    let gone = env.run(&["unassign", &user, &role_id]).await;
    assert_eq!(gone.code, 0, "{}", gone.stderr);
    assert_eq!(check("Magento_Sales::sales_order", "default").await.code, 3);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn grants_with_actions_and_colon_resources() {
    let env = spawn().await;
    let role = env
        .json(&[
            "roles",
            "create",
            "--application",
            "cloud-project",
            "--name",
            "Deployer",
            "--grant",
            "environment:view,deploy",
            "--grant",
            "project:settings",
            "--scope",
            "staging",
        ])
        .await;
    assert_eq!(
        role["grants"],
        serde_json::json!([
            { "resource": "environment", "actions": ["view", "deploy"] },
            { "resource": "project:settings", "actions": "*" }
        ])
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn groups_members_and_apps() {
    let env = spawn().await;
    let user = env
        .json(&["users", "create", "--email", "eve@example.com"])
        .await["id"]
        .as_str()
        .expect("id")
        .to_string();
    let group = env
        .json(&["groups", "create", "--name", "Content team"])
        .await["id"]
        .as_str()
        .expect("id")
        .to_string();
    let added = env.run(&["groups", "add-member", &group, &user]).await;
    assert_eq!(added.code, 0, "{}", added.stderr);
    let members = env.run(&["groups", "members", &group]).await;
    assert!(
        members.stdout.contains("eve@example.com"),
        "{}",
        members.stdout
    );
    let listed = env.run(&["groups", "list"]).await;
    assert!(listed.stdout.contains("Content team"), "{}", listed.stdout);

    let apps = env.run(&["apps", "list"]).await;
    assert_eq!(apps.code, 0, "{}", apps.stderr);
    assert!(apps.stdout.contains("commerce-admin"), "{}", apps.stdout);
    let tree = env.run(&["apps", "get", "commerce-admin"]).await;
    assert_eq!(tree.code, 0, "{}", tree.stderr);
    assert!(
        tree.stdout.contains("\n  Magento_Sales::sales  Sales"),
        "{}",
        tree.stdout
    );
    let missing = env.run(&["apps", "get", "nope"]).await;
    assert_eq!(missing.code, 1);
    assert!(missing.stderr.contains("nope"), "{}", missing.stderr);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn errors_map_to_exit_codes() {
    let env = spawn().await;
    let bad = env
        .run(&["users", "create", "--email", "not-an-email"])
        .await;
    assert_eq!(bad.code, 1, "{}", bad.stderr);
    assert!(bad.stderr.starts_with("rolecall: "), "{}", bad.stderr);
    assert!(bad.stderr.contains("  email: "), "{}", bad.stderr);

    let denied = env.run_with_token("not-a-token", &["users", "list"]).await;
    assert_eq!(denied.code, 2, "{}", denied.stderr);
    assert!(!denied.stderr.contains("not-a-token"), "{}", denied.stderr);

    let no_token = rolecall(&[("ROLECALL_URL", &env.url)], &["users", "list"]).await;
    assert_eq!(no_token.code, 2);
    assert!(
        no_token.stderr.contains("ROLECALL_TOKEN"),
        "{}",
        no_token.stderr
    );

    let closed = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        l.local_addr().expect("addr").port()
    };
    let url = format!("http://127.0.0.1:{closed}");
    let down = rolecall(
        &[("ROLECALL_URL", &url), ("ROLECALL_TOKEN", "x")],
        &["users", "list"],
    )
    .await;
    assert_eq!(down.code, 1);
    assert!(down.stderr.contains(&url), "{}", down.stderr);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn init_once_then_refuses() {
    let dir = tempfile::tempdir().expect("tempdir");
    let data = dir.path().to_str().expect("utf-8 path");
    let args = [
        "init",
        "--data-dir",
        data,
        "--admin-email",
        "admin@example.com",
        "--json",
    ];
    let first = rolecall(&[], &args).await;
    assert_eq!(first.code, 0, "{}", first.stderr);
    let token = first.json()["bootstrap_token"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    assert!(!token.is_empty(), "{}", first.stdout);
    let again = rolecall(&[], &args).await;
    assert_eq!(again.code, 2, "{}", again.stderr);
    assert_eq!(again.json()["error"], "already_initialised");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn openapi_prints_the_document() {
    let out = rolecall(&[], &["openapi"]).await;
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(out.json()["openapi"].is_string(), "{}", out.stdout);
}
