//! The `rolecall` binary end to end: management commands against an in-process server (SQLite in
//! a temporary directory), exit codes, `--json`, error reporting, `init` and `openapi`, and
//! `login`/`whoami`/`logout` with the profiles they save.

use rolecall::config::Config;
use rolecall::directory::{Clock, Directory, SystemClock};
use rolecall::Server;
use serde_json::{json, Value};
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;

/// A server with organization `acme` and a server-wide token, like `tests/api/helpers.rs`.
struct Env {
    url: String,
    token: String,
    server: Server,
    clock: Arc<TestClock>,
    _dir: tempfile::TempDir,
}

/// The wall clock plus an offset a test can move forward (password expiry).
#[derive(Default)]
struct TestClock {
    offset_ms: AtomicI64,
}

impl Clock for TestClock {
    fn now(&self) -> i64 {
        SystemClock.now() + self.offset_ms.load(Ordering::SeqCst)
    }
}

async fn spawn() -> Env {
    let dir = tempfile::tempdir().expect("tempdir");
    let config = Config {
        listen: "127.0.0.1:0".into(),
        data_dir: PathBuf::from(dir.path()),
        database_url: None,
        catalogue_dir: None,
        bootstrap_token_hash: None,
        sign_in_limit_per_minute: 30,
        public_url: None,
        mail: Default::default(),
        ..Default::default()
    };
    let clock = Arc::new(TestClock::default());
    let db = rolecall::store::Db::connect(None, &config.data_dir)
        .await
        .expect("database");
    let keys = rolecall::keys::load(&config).expect("secret key");
    let directory = Directory::open_with_keys(db, clock.clone(), vec![], keys)
        .await
        .expect("directory opens");
    let server = Server::start_with(&config, Arc::new(directory))
        .await
        .expect("server starts");
    let token = server
        .dir
        .create_token("cli test", None)
        .await
        .expect("token");
    server.dir.create_org("acme", "Acme").await.expect("org");
    Env {
        url: format!("http://{}", server.addr),
        token,
        server,
        clock,
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

/// The real binary with a clean rolecall environment plus `env`. Unless `env` names one, the
/// profiles folder is `cfg` (empty), so no profile of the machine's user is ever read.
fn command(env: &[(String, String)], args: &[String], cfg: &Path) -> Command {
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
        "ROLECALL_PROFILE",
        "ROLECALL_PASSWORD",
        "XDG_CONFIG_HOME",
    ] {
        cmd.env_remove(var);
    }
    cmd.env("ROLECALL_LOG", "warn")
        .env("ROLECALL_CONFIG_DIR", cfg)
        .envs(env.iter().map(|(k, v)| (k, v)))
        .args(args);
    cmd
}

fn owned(env: &[(&str, &str)], args: &[&str]) -> (Vec<(String, String)>, Vec<String>) {
    (
        env.iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
        args.iter().map(|a| a.to_string()).collect(),
    )
}

fn finish(shown: &str, out: std::process::Output) -> Out {
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

/// Runs the real binary off the async runtime, with a clean rolecall environment plus `env`.
async fn rolecall(env: &[(&str, &str)], args: &[&str]) -> Out {
    rolecall_input(env, args, "").await
}

/// Like `rolecall`, with `input` on standard input.
async fn rolecall_input(env: &[(&str, &str)], args: &[&str], input: &str) -> Out {
    let (env, args) = owned(env, args);
    let shown = args.join(" ");
    let input = input.to_string();
    let out = tokio::task::spawn_blocking(move || {
        let cfg = tempfile::tempdir().expect("tempdir");
        let mut child = command(&env, &args, cfg.path())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("run rolecall");
        let mut stdin = child.stdin.take().expect("stdin");
        // The command may exit before reading everything (a broken pipe is fine then).
        let _ = stdin.write_all(input.as_bytes());
        drop(stdin);
        child.wait_with_output().expect("wait for rolecall")
    })
    .await
    .expect("join");
    finish(&shown, out)
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

    /// Runs a command with `--json`; returns the exit code and the parsed output.
    async fn json_code(&self, args: &[&str]) -> (i32, Value) {
        let mut all = args.to_vec();
        all.push("--json");
        let out = self.run(&all).await;
        (out.code, out.json())
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

/// `users list` takes the API's sort, cursor and filter parameters (issue 10).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn users_list_sorts_pages_by_cursor_and_filters() {
    let env = spawn().await;
    for email in ["amy@example.com", "cal@example.com", "bea@example.com"] {
        env.json(&["users", "create", "--email", email]).await;
    }
    let emails = |v: &Value| -> Vec<String> {
        v["items"]
            .as_array()
            .expect("items")
            .iter()
            .map(|u| u["email"].as_str().expect("email").to_string())
            .collect()
    };
    let first = env
        .json(&[
            "users",
            "list",
            "--sort",
            "email",
            "--order",
            "desc",
            "--per-page",
            "2",
        ])
        .await;
    assert_eq!(emails(&first), ["cal@example.com", "bea@example.com"]);
    let cursor = first["next_cursor"]
        .as_str()
        .expect("a next page")
        .to_string();
    let text = env
        .run(&[
            "users",
            "list",
            "--sort",
            "email",
            "--order",
            "desc",
            "--per-page",
            "2",
        ])
        .await;
    assert!(
        text.stdout.contains("next page: --cursor "),
        "the table says how to go on: {}",
        text.stdout
    );
    let rest = env
        .json(&[
            "users",
            "list",
            "--sort",
            "email",
            "--order",
            "desc",
            "--per-page",
            "2",
            "--cursor",
            &cursor,
        ])
        .await;
    assert_eq!(emails(&rest), ["amy@example.com"]);
    assert!(rest.get("next_cursor").is_none());

    let nobody = env
        .json(&[
            "users",
            "list",
            "--last-sign-in-after",
            "2020-01-01T00:00:00Z",
        ])
        .await;
    assert_eq!(nobody["total"], 0, "nobody has signed in");
    let admins = env.json(&["users", "list", "--admin-right", "any"]).await;
    assert_eq!(admins["total"], 0);
    let refused = env.run(&["users", "list", "--admin-right", "king"]).await;
    assert_ne!(refused.code, 0);
    assert!(refused.stderr.contains("admin_right"), "{}", refused.stderr);
    let both = env
        .run(&["users", "list", "--cursor", &cursor, "--page", "2"])
        .await;
    assert_ne!(both.code, 0, "clap refuses a cursor with a page number");
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
    let made = first.json();
    assert_eq!(
        made["organization"]["owner_id"], made["admin"]["id"],
        "the first admin is the owner, and init says so: {}",
        first.stdout
    );
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

/// Creates the acme user `username` (e-mail `username@example.com`) with a password, through
/// the API with the bootstrap token. Unless `two_factor`, acme stops requiring 2FA. Returns
/// the user id and password.
async fn person(env: &Env, username: &str, two_factor: bool) -> (String, String) {
    let http = reqwest::Client::new();
    let api = format!("{}/api/v1/organizations/acme", env.url);
    let r = http
        .post(format!("{api}/users"))
        .bearer_auth(&env.token)
        .json(&json!({ "email": format!("{username}@example.com"), "username": username }))
        .send()
        .await
        .expect("create user");
    assert_eq!(r.status(), 201);
    let id = r.json::<Value>().await.expect("user")["id"]
        .as_str()
        .expect("id")
        .to_string();
    let password = "Tr0ub4dor&3-correct-horse-staple".to_string();
    let r = http
        .put(format!("{api}/users/{id}/password"))
        .bearer_auth(&env.token)
        .json(&json!({ "password": password }))
        .send()
        .await
        .expect("set password");
    assert_eq!(r.status(), 204, "{}", r.text().await.unwrap_or_default());
    if !two_factor {
        set_settings(env, |s| s["require_2fa"] = json!(false)).await;
    }
    (id, password)
}

/// Changes acme's security settings with the bootstrap token.
async fn set_settings(env: &Env, change: impl FnOnce(&mut Value)) {
    let http = reqwest::Client::new();
    let url = format!("{}/api/v1/organizations/acme/settings", env.url);
    let mut settings: Value = http
        .get(&url)
        .bearer_auth(&env.token)
        .send()
        .await
        .expect("get settings")
        .json()
        .await
        .expect("settings");
    change(&mut settings);
    let r = http
        .put(&url)
        .bearer_auth(&env.token)
        .json(&settings)
        .send()
        .await
        .expect("put settings");
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap_or_default());
}

/// The status of `GET /api/v1/me` with `token`.
async fn me_status(env: &Env, token: &str) -> u16 {
    reqwest::Client::new()
        .get(format!("{}/api/v1/me", env.url))
        .bearer_auth(token)
        .send()
        .await
        .expect("me")
        .status()
        .as_u16()
}

/// The saved profiles, parsed.
fn profiles(cfg: &Path) -> toml::Value {
    let text = std::fs::read_to_string(cfg.join("profiles.toml")).expect("profiles.toml");
    toml::from_str(&text).expect("profiles.toml is TOML")
}

fn saved_token(cfg: &Path, profile: &str) -> Option<String> {
    profiles(cfg)["profiles"][profile]
        .get("token")
        .and_then(|t| t.as_str())
        .map(str::to_string)
}

/// The TOTP code of `secret` `offset` seconds after the server clock's now, as an
/// authenticator app computes it.
fn totp_code(secret: &str, clock: &TestClock, offset: i64) -> String {
    use totp_rs::{Algorithm, Secret, TOTP};
    let totp = TOTP::new_unchecked(
        Algorithm::SHA1,
        6,
        1,
        30,
        Secret::Encoded(secret.to_string())
            .to_bytes()
            .expect("base32 secret"),
        Some("rolecall".into()),
        "t".into(),
    );
    let at = u64::try_from(clock.now() / 1000 + offset).expect("time after 1970");
    totp.generate(at)
}

/// Runs a `login` that enrols two-factor authentication as a person would: types the
/// password, reads the secret the command prints, then types its current code. Returns the
/// output and the secret.
async fn login_enrolling(
    env: &[(&str, &str)],
    args: &[&str],
    password: &str,
    clock: Arc<TestClock>,
) -> (Out, String) {
    let (env, args) = owned(env, args);
    let shown = args.join(" ");
    let password = password.to_string();
    let (out, secret) = tokio::task::spawn_blocking(move || {
        let cfg = tempfile::tempdir().expect("tempdir");
        let mut child = command(&env, &args, cfg.path())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("run rolecall");
        let mut stdin = child.stdin.take().expect("stdin");
        let mut stdout = BufReader::new(child.stdout.take().expect("stdout"));
        writeln!(stdin, "{password}").expect("type the password");
        let (mut seen, mut secret) = (Vec::new(), String::new());
        loop {
            let mut line = String::new();
            if stdout.read_line(&mut line).expect("read stdout") == 0 {
                break;
            }
            seen.extend_from_slice(line.as_bytes());
            if let Some(s) = line.trim().strip_prefix("secret:") {
                secret = s.trim().to_string();
                writeln!(stdin, "{}", totp_code(&secret, &clock, 0)).expect("type the code");
                break;
            }
        }
        drop(stdin);
        std::io::Read::read_to_end(&mut stdout, &mut seen).expect("read stdout");
        let mut out = child.wait_with_output().expect("wait for rolecall");
        out.stdout = seen;
        (out, secret)
    })
    .await
    .expect("join");
    (finish(&shown, out), secret)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn login_saves_a_private_profile_that_later_commands_use() {
    let env = spawn().await;
    let (id, password) = person(&env, "kim", false).await;
    let home = tempfile::tempdir().expect("tempdir");
    let cfg = home.path().join("rolecall"); // created by login
    let cfg_str = cfg.to_str().expect("utf-8 path").to_string();
    let profile = [("ROLECALL_CONFIG_DIR", cfg_str.as_str())];

    let login = rolecall_input(
        &profile,
        &[
            "login",
            "--url",
            &env.url,
            "--org",
            "acme",
            "--login",
            "kim",
            "--password-stdin",
        ],
        &format!("{password}\n"),
    )
    .await;
    assert_eq!(login.code, 0, "{}", login.stderr);
    assert!(login.stdout.contains("kim"), "{}", login.stdout);
    let file = cfg.join("profiles.toml");
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&file)
            .expect("profiles.toml")
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600, "{mode:o}");
    }
    let text = std::fs::read_to_string(&file).expect("profiles.toml");
    assert!(!text.contains(&password), "{text}");
    let saved = &profiles(&cfg)["profiles"]["default"];
    assert_eq!(saved["org"].as_str(), Some("acme"));
    assert!(
        saved["url"]
            .as_str()
            .is_some_and(|u| u.starts_with(&env.url)),
        "{saved}"
    );
    let token = saved_token(&cfg, "default").expect("token saved");
    assert!(!login.stdout.contains(&token) && !login.stderr.contains(&token));

    // Without ROLECALL_URL, ROLECALL_ORG or ROLECALL_TOKEN: all from the profile.
    let me = rolecall(&profile, &["whoami"]).await;
    assert_eq!(me.code, 0, "{}", me.stderr);
    assert!(me.stdout.contains("kim"), "{}", me.stdout);
    assert!(!me.stdout.contains(&token), "{}", me.stdout);

    // The profile's session is used for management too, with the user's own rights.
    let refused = rolecall(&profile, &["users", "list"]).await;
    assert_eq!(refused.code, 2, "not an admin yet: {}", refused.stderr);
    let org = env.server.dir.org("acme").await.expect("org");
    env.server
        .dir
        .grant_system_admin(
            &rolecall::auth::OrgAdmin::operator(org),
            id.parse().expect("uuid"),
        )
        .await
        .expect("grant");
    let listed = rolecall(&profile, &["users", "list"]).await;
    assert_eq!(listed.code, 0, "{}", listed.stderr);
    assert!(
        listed.stdout.contains("kim@example.com"),
        "{}",
        listed.stdout
    );
    let json = rolecall(&profile, &["whoami", "--json"]).await;
    assert_eq!(json.code, 0, "{}", json.stderr);
    let json = json.json();
    assert_eq!(json["user"]["id"].as_str(), Some(id.as_str()));
    assert_eq!(json["user"]["username"], "kim");

    // An explicit token wins over the profile (which then plays no part).
    let explicit = rolecall(
        &[
            profile[0],
            ("ROLECALL_TOKEN", "not-a-token"),
            ("ROLECALL_URL", &env.url),
            ("ROLECALL_ORG", "acme"),
        ],
        &["users", "list"],
    )
    .await;
    assert_eq!(explicit.code, 2, "{}", explicit.stderr);

    let out = rolecall(&profile, &["logout"]).await;
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(saved_token(&cfg, "default"), None, "the token is forgotten");
    assert_eq!(
        profiles(&cfg)["profiles"]["default"]["org"].as_str(),
        Some("acme")
    );
    assert_eq!(
        me_status(&env, &token).await,
        401,
        "the session ended on the server"
    );
    let gone = rolecall(&profile, &["whoami"]).await;
    assert_eq!(gone.code, 2, "{}", gone.stderr);
    assert!(gone.stderr.contains("rolecall login"), "{}", gone.stderr);
    let again = rolecall(&profile, &["logout"]).await;
    assert_eq!(again.code, 0, "{}", again.stderr);
    assert!(again.stdout.contains("not signed in"), "{}", again.stdout);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn login_refusals_and_named_profiles() {
    let env = spawn().await;
    let (_, password) = person(&env, "lou", false).await;
    let home = tempfile::tempdir().expect("tempdir");
    let cfg = home.path().to_str().expect("utf-8 path").to_string();
    let base = [
        ("ROLECALL_CONFIG_DIR", cfg.as_str()),
        ("ROLECALL_URL", env.url.as_str()),
        ("ROLECALL_ORG", "acme"),
    ];

    let wrong = rolecall_input(
        &base,
        &["login", "--login", "lou", "--password-stdin"],
        "not-the-password\n",
    )
    .await;
    assert_eq!(wrong.code, 2, "{}", wrong.stderr);
    assert!(
        wrong.stderr.contains("username or password is wrong"),
        "{}",
        wrong.stderr
    );
    assert!(
        !wrong.stderr.contains("not-the-password"),
        "{}",
        wrong.stderr
    );
    assert!(!home.path().join("profiles.toml").exists(), "nothing saved");

    let none = rolecall(&base[..1], &["whoami"]).await;
    assert_eq!(none.code, 2, "{}", none.stderr);
    assert!(none.stderr.contains("rolecall login"), "{}", none.stderr);

    // ROLECALL_PASSWORD and ROLECALL_PROFILE instead of flags.
    let mut with_env = base.to_vec();
    with_env.push(("ROLECALL_PASSWORD", password.as_str()));
    with_env.push(("ROLECALL_PROFILE", "work"));
    let login = rolecall(&with_env, &["login", "--login", "lou@example.com"]).await;
    assert_eq!(login.code, 0, "{}", login.stderr);
    assert!(saved_token(home.path(), "work").is_some());
    assert!(profiles(home.path())["profiles"].get("default").is_none());
    let other = rolecall(&base[..1], &["whoami"]).await;
    assert_eq!(other.code, 2, "the default profile is still empty");
    let work = rolecall(&base[..1], &["whoami", "--profile", "work"]).await;
    assert_eq!(work.code, 0, "{}", work.stderr);
    assert!(work.stdout.contains("lou@example.com"), "{}", work.stdout);
    let bad = rolecall(&base[..1], &["whoami", "--profile", "no/such"]).await;
    assert_eq!(bad.code, 1, "{}", bad.stderr);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn login_expired_password_is_changed_first() {
    let env = spawn().await;
    let (_, password) = person(&env, "max", false).await;
    set_settings(&env, |s| s["password_policy"]["lifetime_days"] = json!(1)).await;
    env.clock
        .offset_ms
        .fetch_add(2 * 86_400_000, Ordering::SeqCst);
    let home = tempfile::tempdir().expect("tempdir");
    let cfg = home.path().to_str().expect("utf-8 path").to_string();
    let base = [
        ("ROLECALL_CONFIG_DIR", cfg.as_str()),
        ("ROLECALL_URL", env.url.as_str()),
        ("ROLECALL_ORG", "acme"),
    ];
    let args = ["login", "--login", "max", "--password-stdin"];
    let told = rolecall_input(&base, &args, &format!("{password}\n")).await;
    assert_eq!(told.code, 2, "{}", told.stderr);
    assert!(told.stderr.contains("expired"), "{}", told.stderr);
    assert!(
        told.stderr.contains("--new-password-stdin"),
        "{}",
        told.stderr
    );

    let mut changing = args.to_vec();
    changing.push("--new-password-stdin");
    let new = "N3w-and-l0nger-passphrase!";
    let changed = rolecall_input(&base, &changing, &format!("{password}\n{new}\n")).await;
    assert_eq!(changed.code, 0, "{}", changed.stderr);
    assert!(!changed.stdout.contains(new) && !changed.stderr.contains(new));
    let me = rolecall(&base[..1], &["whoami"]).await;
    assert_eq!(me.code, 0, "{}", me.stderr);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn login_with_two_factor_enrolment_codes_and_recovery_codes() {
    let env = spawn().await;
    let (_, password) = person(&env, "ada", true).await;
    let home = tempfile::tempdir().expect("tempdir");
    let cfg = home.path().to_str().expect("utf-8 path").to_string();
    let base = [
        ("ROLECALL_CONFIG_DIR", cfg.as_str()),
        ("ROLECALL_URL", env.url.as_str()),
        ("ROLECALL_ORG", "acme"),
    ];
    let args = ["login", "--login", "ada", "--password-stdin"];

    let (enrolled, secret) = login_enrolling(&base, &args, &password, env.clock.clone()).await;
    assert_eq!(enrolled.code, 0, "{}", enrolled.stderr);
    assert!(!secret.is_empty(), "{}", enrolled.stdout);
    assert!(
        enrolled.stdout.contains("otpauth://totp/"),
        "{}",
        enrolled.stdout
    );
    let recovery: Vec<String> = enrolled
        .stdout
        .lines()
        .skip_while(|l| !l.contains("Recovery codes"))
        .skip(1)
        .map(|l| l.trim().to_string())
        .filter(|l| !l.is_empty() && !l.starts_with("Signed in"))
        .collect();
    assert_eq!(recovery.len(), 10, "{}", enrolled.stdout);
    let first = saved_token(home.path(), "default").expect("token saved");
    assert_eq!(rolecall(&base[..1], &["whoami"]).await.code, 0);

    // Later sign-ins take a code (the next one: the first was used for enrolment).
    let mut with_code = args.to_vec();
    let code = totp_code(&secret, &env.clock, 30);
    with_code.extend(["--code", code.as_str()]);
    let coded = rolecall_input(&base, &with_code, &format!("{password}\n")).await;
    assert_eq!(coded.code, 0, "{}", coded.stderr);
    let second = saved_token(home.path(), "default").expect("token saved");
    assert_ne!(first, second);
    assert_eq!(
        me_status(&env, &first).await,
        401,
        "the replaced session ended"
    );

    let mut wrong = args.to_vec();
    wrong.extend(["--code", "12345"]);
    let refused = rolecall_input(&base, &wrong, &format!("{password}\n")).await;
    assert_eq!(refused.code, 2, "{}", refused.stderr);
    assert_eq!(
        saved_token(home.path(), "default"),
        Some(second.clone()),
        "kept"
    );

    let mut with_recovery = args.to_vec();
    with_recovery.extend(["--recovery-code", recovery[0].as_str()]);
    let recovered = rolecall_input(&base, &with_recovery, &format!("{password}\n")).await;
    assert_eq!(recovered.code, 0, "{}", recovered.stderr);
    let me = rolecall(&base[..1], &["whoami"]).await;
    assert_eq!(me.code, 0, "{}", me.stderr);
    assert!(me.stdout.contains("ada"), "{}", me.stdout);
}

/// Creates a user through the CLI; returns its id.
async fn user_id(env: &Env, email: &str) -> String {
    env.json(&["users", "create", "--email", email]).await["id"]
        .as_str()
        .expect("user id")
        .to_string()
}

/// Signs `login` in with `password` into a fresh profiles folder; returns the folder.
async fn signed_in(env: &Env, login: &str, password: &str) -> tempfile::TempDir {
    let home = tempfile::tempdir().expect("tempdir");
    let cfg = home.path().to_str().expect("utf-8 path").to_string();
    let out = rolecall_input(
        &[("ROLECALL_CONFIG_DIR", &cfg)],
        &[
            "login",
            "--url",
            &env.url,
            "--org",
            "acme",
            "--login",
            login,
            "--password-stdin",
        ],
        &format!("{password}\n"),
    )
    .await;
    assert_eq!(out.code, 0, "{}", out.stderr);
    home
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn admins_grant_list_revoke_and_delegation_limits() {
    let env = spawn().await;
    let (pat, password) = person(&env, "pat", false).await;
    let other = user_id(&env, "oli@example.com").await;

    let granted = env
        .run(&[
            "admins",
            "grant",
            &pat,
            "--kind",
            "product",
            "--application",
            "commerce-admin",
        ])
        .await;
    assert_eq!(granted.code, 0, "{}", granted.stderr);
    assert!(granted.stdout.contains("Granted"), "{}", granted.stdout);
    let listed = env.run(&["admins", "list"]).await;
    assert_eq!(listed.code, 0, "{}", listed.stderr);
    assert!(
        listed.stdout.contains("pat@example.com")
            && listed.stdout.contains("product commerce-admin"),
        "{}",
        listed.stdout
    );
    let rights = env.json(&["admins", "rights", &pat]).await;
    assert_eq!(
        rights["items"],
        json!([{ "kind": "product", "application": "commerce-admin" }])
    );

    // Mistakes named before or by the server, exit 1.
    let unknown = env
        .run(&[
            "admins",
            "grant",
            &other,
            "--kind",
            "product",
            "--application",
            "nope",
        ])
        .await;
    assert_eq!(unknown.code, 1, "{}", unknown.stderr);
    assert!(unknown.stderr.contains("application"), "{}", unknown.stderr);
    let missing = env
        .run(&["admins", "grant", &other, "--kind", "product"])
        .await;
    assert_eq!(missing.code, 1, "{}", missing.stderr);
    assert!(
        missing.stderr.contains("--application"),
        "{}",
        missing.stderr
    );

    // Signed in as the product admin: after the re-verification window, changes need the
    // password; with it, a right above pat's own is still refused.
    let home = signed_in(&env, "pat", &password).await;
    let cfg = home.path().to_str().expect("utf-8 path");
    env.clock.offset_ms.fetch_add(400_000, Ordering::SeqCst);
    let grant_product = [
        "admins",
        "grant",
        other.as_str(),
        "--kind",
        "product",
        "--application",
        "commerce-admin",
    ];
    let stale = rolecall(&[("ROLECALL_CONFIG_DIR", cfg)], &grant_product).await;
    assert_eq!(stale.code, 2, "{}", stale.stderr);
    assert!(
        stale.stderr.contains("reverification_required") && stale.stderr.contains("--reverify"),
        "{}",
        stale.stderr
    );
    let with_pw = [
        ("ROLECALL_CONFIG_DIR", cfg),
        ("ROLECALL_PASSWORD", password.as_str()),
    ];
    let above = rolecall(
        &with_pw,
        &["admins", "grant", &other, "--kind", "system", "--reverify"],
    )
    .await;
    assert_eq!(above.code, 2, "{}", above.stderr);
    assert!(
        above.stderr.contains("above_own_rights"),
        "{}",
        above.stderr
    );
    assert!(!above.stderr.contains(&password), "{}", above.stderr);
    let mut reverified = grant_product.to_vec();
    reverified.push("--reverify");
    let delegated = rolecall(&with_pw, &reverified).await;
    assert_eq!(delegated.code, 0, "{}", delegated.stderr);

    let revoked = env
        .run(&[
            "admins",
            "revoke",
            &pat,
            "--kind",
            "product",
            "--target",
            "commerce-admin",
        ])
        .await;
    assert_eq!(revoked.code, 0, "{}", revoked.stderr);
    assert_eq!(
        env.json(&["admins", "rights", &pat]).await["items"],
        json!([])
    );
    let owner = env.run(&["owner", "show"]).await;
    assert_eq!(owner.code, 0, "{}", owner.stderr);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn profiles_seats_quota_and_products() {
    let env = spawn().await;
    let ann = user_id(&env, "ann@example.com").await;
    let bob = user_id(&env, "bob@example.com").await;
    let profile = env
        .json(&[
            "profiles",
            "create",
            "--application",
            "commerce-admin",
            "--name",
            "Order desk",
            "--seats",
            "1",
        ])
        .await;
    assert_eq!(profile["seat_quota"], 1);
    let id = profile["id"].as_str().expect("profile id").to_string();

    let first = env.run(&["profiles", "add-user", &id, &ann]).await;
    assert_eq!(first.code, 0, "{}", first.stderr);
    let full = env.run(&["profiles", "add-user", &id, &bob]).await;
    assert_eq!(full.code, 1, "{}", full.stderr);
    assert!(full.stderr.contains("quota_exceeded"), "{}", full.stderr);

    let products = env.run(&["products"]).await;
    assert_eq!(products.code, 0, "{}", products.stderr);
    let line = products
        .stdout
        .lines()
        .find(|l| l.contains("commerce-admin"))
        .unwrap_or_default();
    assert!(line.contains("1 / 1"), "{}", products.stdout);
    let listed = env.run(&["profiles", "list"]).await;
    assert!(
        listed.stdout.contains("Order desk") && listed.stdout.contains("1 / 1"),
        "{}",
        listed.stdout
    );
    let holders = env.run(&["profiles", "users", &id]).await;
    assert!(
        holders.stdout.contains("ann@example.com"),
        "{}",
        holders.stdout
    );
    let anns = env.run(&["users", "products", &ann]).await;
    assert_eq!(anns.code, 0, "{}", anns.stderr);
    assert!(
        anns.stdout.contains("Order desk") && anns.stdout.contains("direct"),
        "{}",
        anns.stdout
    );

    let unlimited = env.json(&["profiles", "update", &id, "--unlimited"]).await;
    assert_eq!(unlimited["seat_quota"], Value::Null);
    let second = env.run(&["profiles", "add-user", &id, &bob]).await;
    assert_eq!(second.code, 0, "{}", second.stderr);
    let nothing = env.run(&["profiles", "update", &id]).await;
    assert_eq!(nothing.code, 1, "{}", nothing.stderr);
    let removed = env.run(&["profiles", "remove-user", &id, &bob]).await;
    assert_eq!(removed.code, 0, "{}", removed.stderr);
    let deleted = env.run(&["profiles", "delete", &id]).await;
    assert_eq!(deleted.code, 0, "{}", deleted.stderr);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn credentials_show_the_secret_once() {
    let env = spawn().await;
    let created = env
        .run(&[
            "credentials",
            "create",
            "--name",
            "ci-bot",
            "--expires-at",
            "2099-01-02T03:04:05Z",
        ])
        .await;
    assert_eq!(created.code, 0, "{}", created.stderr);
    let mut lines = created.stdout.lines();
    assert!(
        lines.any(|l| l.contains("store it now")),
        "{}",
        created.stdout
    );
    let secret = lines.next().unwrap_or_default().trim().to_string();
    assert!(secret.len() >= 20, "{}", created.stdout);
    assert_eq!(created.stdout.matches(&secret).count(), 1, "printed once");
    assert!(
        created.stdout.contains("2099-01-02 03:04:05 UTC"),
        "{}",
        created.stdout
    );

    let listed = env.run(&["credentials", "list"]).await;
    assert_eq!(listed.code, 0, "{}", listed.stderr);
    assert!(listed.stdout.contains("ci-bot"), "{}", listed.stdout);
    assert!(!listed.stdout.contains(&secret), "{}", listed.stdout);
    let json = env.json(&["credentials", "list"]).await;
    assert!(!json.to_string().contains(&secret));
    let id = json["items"][0]["id"].as_str().expect("id").to_string();

    let bad = env
        .run(&[
            "credentials",
            "create",
            "--name",
            "later",
            "--expires-at",
            "tomorrow",
        ])
        .await;
    assert_eq!(bad.code, 1, "{}", bad.stderr);
    assert!(bad.stderr.contains("--expires-at"), "{}", bad.stderr);

    let whole = env
        .json(&[
            "credentials",
            "create",
            "--name",
            "etl",
            "--sensitive-changes",
        ])
        .await;
    assert!(whole["secret"].as_str().is_some_and(|s| !s.is_empty()));
    assert_eq!(whole["credential"]["sensitive_changes"], true);

    let revoked = env.run(&["credentials", "revoke", &id]).await;
    assert_eq!(revoked.code, 0, "{}", revoked.stderr);
    let got = env.run(&["credentials", "get", &id]).await;
    assert!(got.stdout.contains("revoked"), "{}", got.stdout);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_factor_resets_events_sessions_locks_and_settings() {
    let env = spawn().await;
    let (ivy, password) = person(&env, "ivy", false).await;
    let (jon, _) = person(&env, "jon", false).await;

    let both = env.run(&["2fa", "reset", &ivy, &jon]).await;
    assert_eq!(both.code, 0, "{}", both.stderr);
    assert!(both.stdout.contains("2 users"), "{}", both.stdout);
    let one = env.run(&["2fa", "reset", &ivy]).await;
    assert_eq!(one.code, 0, "{}", one.stderr);

    let r = reqwest::Client::new()
        .post(format!("{}/api/v1/organizations/acme/sign-in", env.url))
        .json(&json!({ "login": "ivy", "password": "not-her-password" }))
        .send()
        .await
        .expect("sign in");
    assert_eq!(r.status(), 401);
    let events = env.run(&["events", "--limit", "20"]).await;
    assert_eq!(events.code, 0, "{}", events.stderr);
    assert!(
        events.stdout.contains("sign_in_failed"),
        "{}",
        events.stdout
    );
    let hers = env.json(&["events", "--user", &ivy]).await;
    assert!(
        hers["items"]
            .as_array()
            .is_some_and(|a| a.iter().any(|e| e["kind"] == "sign_in_failed")),
        "{hers}"
    );

    let _home = signed_in(&env, "ivy", &password).await;
    let sessions = env.json(&["sessions", "list", &ivy]).await;
    assert_eq!(sessions["items"].as_array().map(Vec::len), Some(1));
    let ended = env.run(&["sessions", "end", &ivy]).await;
    assert_eq!(ended.code, 0, "{}", ended.stderr);
    assert_eq!(
        env.json(&["sessions", "list", &ivy]).await["items"],
        json!([])
    );
    let locks = env.run(&["locks", "list"]).await;
    assert_eq!(locks.code, 0, "{}", locks.stderr);
    let lifted = env.run(&["locks", "lift", &ivy]).await;
    assert_eq!(lifted.code, 0, "{}", lifted.stderr);

    let shown = env.run(&["settings", "show"]).await;
    assert_eq!(shown.code, 0, "{}", shown.stderr);
    assert!(
        shown.stdout.contains("idle_timeout_secs")
            && shown.stdout.contains("password_policy.min_length"),
        "{}",
        shown.stdout
    );
    let set = env
        .json(&[
            "settings",
            "set",
            "--require-2fa",
            "true",
            "--idle-timeout",
            "1200",
            "--password-lifetime-days",
            "90",
        ])
        .await;
    assert_eq!(set["require_2fa"], true);
    assert_eq!(set["idle_timeout_secs"], 1200);
    assert_eq!(set["password_policy"]["lifetime_days"], 90);
    assert_eq!(set["account_sharing"], false, "other settings kept");
    let invalid = env.run(&["settings", "set", "--idle-timeout", "5"]).await;
    assert_eq!(invalid.code, 1, "{}", invalid.stderr);
    assert!(
        invalid.stderr.contains("idle_timeout"),
        "{}",
        invalid.stderr
    );
    let nothing = env.run(&["settings", "set"]).await;
    assert_eq!(nothing.code, 1, "{}", nothing.stderr);
}

/// Issue 11: `rolecall audit list | export | head | verify`, and `verify` exiting 4 once an
/// entry is edited in the database.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn audit_list_export_head_and_verify() {
    let env = spawn().await;
    let user = env
        .json(&["users", "create", "--email", "kim@example.com"])
        .await;
    let id = user["id"].as_str().expect("id").to_string();
    let list = env.run(&["audit", "list", "--target", &id]).await;
    assert_eq!(list.code, 0, "{}", list.stderr);
    assert!(list.stdout.contains("user_created"), "{}", list.stdout);
    assert!(list.stdout.contains("kim@example.com"), "{}", list.stdout);
    let page = env.json(&["audit", "list", "--limit", "1"]).await;
    assert!(page["next_cursor"].is_string(), "{page}");

    let head = env.run(&["audit", "head"]).await;
    assert_eq!(head.code, 0, "{}", head.stderr);
    let head = head.stdout.trim().to_string();
    assert_eq!(head.split(':').nth(1).map(str::len), Some(64), "{head}");

    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("audit.csv");
    let file_arg = file.to_string_lossy().to_string();
    let export = env
        .run(&["audit", "export", "--format", "csv", "--output", &file_arg])
        .await;
    assert_eq!(export.code, 0, "{}", export.stderr);
    assert!(
        export.stderr.contains(&head),
        "the head is shown: {}",
        export.stderr
    );
    let csv = std::fs::read_to_string(&file).expect("export written");
    assert!(csv.starts_with("org_id,seq,"), "{csv}");
    assert!(csv.contains("kim@example.com"));

    let ok = env.run(&["audit", "verify", "--known-head", &head]).await;
    assert_eq!(ok.code, 0, "{}", ok.stdout);
    assert!(ok.stdout.contains("chain intact"), "{}", ok.stdout);
    sqlx::query("UPDATE audit_log SET target_name = 'someone else' WHERE seq = 2")
        .execute(&env.server.dir.db.pool)
        .await
        .expect("tamper");
    let broken = env.run(&["audit", "verify", "--all"]).await;
    assert_eq!(broken.code, 4, "{}", broken.stdout);
    assert!(
        broken.stdout.contains("CHAIN BROKEN at entry 2 (edited)"),
        "{}",
        broken.stdout
    );
}

/// Issue 11: `rolecall reports stale` (table and CSV), deactivating from it, and
/// `rolecall users offboard` printing everything withdrawn.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reports_and_offboarding() {
    let env = spawn().await;
    let idle = env
        .json(&["users", "create", "--email", "idle@example.com"])
        .await;
    let idle = idle["id"].as_str().expect("id").to_string();
    let leaver = env
        .json(&["users", "create", "--email", "leaver@example.com"])
        .await;
    let leaver = leaver["id"].as_str().expect("id").to_string();
    env.clock
        .offset_ms
        .fetch_add(10 * 86_400_000, Ordering::SeqCst);

    let stale = env.run(&["reports", "stale", "--days", "5"]).await;
    assert_eq!(stale.code, 0, "{}", stale.stderr);
    assert!(
        stale.stdout.contains("idle@example.com"),
        "{}",
        stale.stdout
    );
    assert!(stale.stdout.contains("never"), "{}", stale.stdout);
    assert!(stale.stdout.contains("Taken at"), "{}", stale.stdout);
    let csv = env.run(&["reports", "stale", "--days", "5", "--csv"]).await;
    assert_eq!(csv.code, 0, "{}", csv.stderr);
    assert!(
        csv.stdout.starts_with("report_taken_at,user_id,email"),
        "{}",
        csv.stdout
    );

    let off = env
        .run(&["reports", "stale", "--days", "5", "--deactivate", &idle])
        .await;
    assert_eq!(off.code, 0, "{}", off.stderr);
    assert!(off.stdout.contains("deactivated"), "{}", off.stdout);

    let report = env.run(&["users", "offboard", &leaver, "--delete"]).await;
    assert_eq!(report.code, 0, "{}", report.stderr);
    assert!(
        report.stdout.contains("leaver@example.com"),
        "{}",
        report.stdout
    );
    assert!(
        report.stdout.contains("active → deleted"),
        "{}",
        report.stdout
    );
    // The catalogue's default profiles are listed; nobody here holds a seat.
    let json = env.json(&["reports", "seats"]).await;
    let lines = json["items"].as_array().expect("items");
    assert!(lines.iter().all(|l| l["used"] == 0), "{json}");
    let bad = env
        .run(&["users", "offboard", &idle, "--transfer-to", &leaver])
        .await;
    assert_eq!(bad.code, 1, "{}", bad.stderr);
}

/// `rolecall users import` (issue 12): a dry run, the real run with a CSV report written, the
/// exit code when rows fail.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn users_import_dry_run_real_run_and_report() {
    let env = spawn().await;
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("users.csv");
    std::fs::write(
        &file,
        "email,first_name,last_name\nann@example.com,Ann,Lee\nbo@example.com,Bo,\n",
    )
    .expect("write");
    let path = file.to_str().expect("path");
    let dry = env.run(&["users", "import", path, "--dry-run"]).await;
    assert_eq!(dry.code, 0, "{}", dry.stderr);
    assert!(dry.stdout.contains("2 created"), "{}", dry.stdout);
    assert!(
        dry.stdout.contains("Dry run: nothing written"),
        "{}",
        dry.stdout
    );
    assert_eq!(env.json(&["users", "list"]).await["total"], 0);

    let report = dir.path().join("report.csv");
    let real = env
        .run(&[
            "users",
            "import",
            path,
            "--no-invitations",
            "--report",
            report.to_str().expect("path"),
        ])
        .await;
    assert_eq!(real.code, 0, "{}", real.stderr);
    assert!(real.stdout.contains("Written."), "{}", real.stdout);
    assert_eq!(
        env.json(&["users", "list", "--status", "active"]).await["total"],
        2
    );
    assert_eq!(
        std::fs::read_to_string(&report).expect("report"),
        "line,email,result,column,rule,reason\r\n2,ann@example.com,created,,,\r\n3,bo@example.com,created,,,\r\n"
    );

    std::fs::write(&file, "email,groups\ncy@example.com,Nowhere\n").expect("write");
    let bad = env.json_code(&["users", "import", path]).await;
    assert_eq!(bad.0, 1);
    assert_eq!(bad.1["rows"][0]["errors"][0]["rule"], "unknown_group");
    assert_eq!(bad.1["committed"], false);
}

/// `rolecall users export` writes the plain template by default, the console one on request.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn users_export_both_templates() {
    let env = spawn().await;
    let out = env
        .run(&[
            "users",
            "create",
            "--email",
            "ann@example.com",
            "--first-name",
            "Ann",
        ])
        .await;
    assert_eq!(out.code, 0, "{}", out.stderr);
    let plain = env.run(&["users", "export"]).await;
    assert_eq!(plain.code, 0, "{}", plain.stderr);
    assert_eq!(
        plain.stdout,
        "operation,username,email,first_name,last_name,status,groups,roles,profiles,admin_rights\r\n\
         upsert,ann@example.com,ann@example.com,Ann,,active,,,,\r\n"
    );
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("console.csv");
    let console = env
        .run(&[
            "users",
            "export",
            "--template",
            "console",
            "--output",
            file.to_str().expect("path"),
        ])
        .await;
    assert_eq!(console.code, 0, "{}", console.stderr);
    let text = std::fs::read_to_string(&file).expect("file");
    assert!(
        text.starts_with("Identity Type,Username,Domain,Email,"),
        "{text}"
    );
    assert!(
        text.contains("Enterprise ID,ann@example.com,example.com,ann@example.com,Ann,"),
        "{text}"
    );
}

/// `rolecall import magento` (issue 12), on the store directly: a dry run names what it would
/// create and that second factors stay behind; the real run creates the user, who signs in
/// with their Magento password.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn import_magento_dry_run_then_real() {
    let dir = tempfile::tempdir().expect("tempdir");
    let data = dir.path().join("data");
    let data = data.to_str().expect("path");
    let init = rolecall(
        &[],
        &[
            "init",
            "--data-dir",
            data,
            "--org-slug",
            "shop",
            "--admin-email",
            "root@shop.example",
            "--json",
        ],
    )
    .await;
    assert_eq!(init.code, 0, "{}", init.stderr);
    let write = |name: &str, text: &str| {
        let p = dir.path().join(name);
        std::fs::write(&p, text).expect("write");
        p.to_str().expect("path").to_string()
    };
    let users = write(
        "admin_user.csv",
        "user_id,firstname,lastname,email,username,password,is_active,lock_expires\n\
         2,Sara,Sales,sara@shop.example,sara,13601bda4ea78e55a07b98866d2be6be0744e3866f13c00c811cab608a28f322:salt:1,1,\n",
    );
    let roles = write(
        "authorization_role.csv",
        "role_id,parent_id,tree_level,sort_order,role_type,user_id,user_type,role_name\n\
         2,0,1,0,G,0,2,Sales Desk\n4,2,2,0,U,2,2,sara\n",
    );
    let rules = write(
        "authorization_rule.csv",
        "rule_id,role_id,resource_id,privileges,permission\n1,2,Magento_Sales::sales,,allow\n",
    );
    let args = |dry: bool| {
        let mut a = vec![
            "import",
            "magento",
            "--data-dir",
            data,
            "--org",
            "shop",
            "--admin-user",
            &users,
            "--authorization-role",
            &roles,
            "--authorization-rule",
            &rules,
        ];
        if dry {
            a.push("--dry-run");
        }
        a.iter().map(|s| s.to_string()).collect::<Vec<_>>()
    };
    let dry_args = args(true);
    let dry = rolecall(
        &[],
        &dry_args.iter().map(String::as_str).collect::<Vec<_>>(),
    )
    .await;
    assert_eq!(dry.code, 0, "{}", dry.stderr);
    assert!(
        dry.stdout.contains("user \"sara\" (line 2): created"),
        "{}",
        dry.stdout
    );
    assert!(dry.stdout.contains("enrols again"), "{}", dry.stdout);
    assert!(
        dry.stdout.contains("Dry run: nothing written."),
        "{}",
        dry.stdout
    );
    let real_args = args(false);
    let real = rolecall(
        &[],
        &real_args.iter().map(String::as_str).collect::<Vec<_>>(),
    )
    .await;
    assert_eq!(real.code, 0, "{}", real.stderr);
    assert!(real.stdout.contains("Written."), "{}", real.stdout);
}

/// Runs `rolecall serve` until it says it listens, then stops it (SIGKILL to this child only).
/// Returns its standard output up to that line and everything it wrote to standard error.
async fn serve_until_listening(env: &[(&str, &str)], args: &[&str]) -> (String, String) {
    let (env, args) = owned(env, args);
    tokio::task::spawn_blocking(move || {
        let cfg = tempfile::tempdir().expect("tempdir");
        let mut child = command(&env, &args, cfg.path())
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("run rolecall serve");
        let mut stdout = String::new();
        let mut lines = BufReader::new(child.stdout.take().expect("stdout")).lines();
        for line in lines.by_ref() {
            let line = line.expect("stdout line");
            stdout.push_str(&line);
            stdout.push('\n');
            if line.contains("rolecall listening") {
                break;
            }
        }
        let _ = child.kill();
        let out = child.wait_with_output().expect("wait for rolecall");
        let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
        assert!(
            stdout.contains("rolecall listening"),
            "serve did not start:\n{stdout}{stderr}"
        );
        (stdout, stderr)
    })
    .await
    .expect("join")
}

/// Operator mistakes (issue 10, the tour): each names the file, URL, path or host and the
/// cause, never "internal error", and exits non-zero before serving.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn operator_mistakes_name_what_and_why() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let data = tmp.path().join("data");
    let data = data.to_str().expect("utf-8 path");
    let refused = |out: &Out, needles: &[&str]| {
        assert_ne!(out.code, 0, "{}", out.stderr);
        assert!(!out.stderr.contains("internal error"), "{}", out.stderr);
        for n in needles {
            assert!(out.stderr.contains(n), "{n:?} missing from: {}", out.stderr);
        }
    };

    let toml = tmp.path().join("rolecall.toml");
    std::fs::write(&toml, "listen = \"127.0.0.1:0\"\nlisten_port = 8080\n").expect("write");
    let toml = toml.to_str().expect("utf-8 path");
    let out = rolecall(&[], &["serve", "--config", toml, "--data-dir", data]).await;
    refused(&out, &["configuration file", toml, "listen_port"]);

    let out = rolecall(
        &[],
        &[
            "serve",
            "--database-url",
            "mysql://shop:s3cret@db.example:3306/rc",
        ],
    )
    .await;
    refused(&out, &["mysql", "db.example:3306", "postgres://"]);
    assert!(!out.stderr.contains("s3cret"), "{}", out.stderr);

    let file = tmp.path().join("a-file");
    std::fs::write(&file, "").expect("write");
    let under_file = file.join("data");
    let under_file = under_file.to_str().expect("utf-8 path");
    let out = rolecall(&[], &["serve", "--data-dir", under_file]).await;
    refused(&out, &["data directory", under_file]);

    // A port nobody listens on (taken from the system, then released).
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("free port")
        .port();
    let url = format!("postgres://rolecall:pw@127.0.0.1:{port}/rolecall");
    let out = rolecall(&[], &["serve", "--database-url", &url]).await;
    refused(
        &out,
        &[
            "PostgreSQL",
            &format!("127.0.0.1:{port}"),
            "database rolecall",
        ],
    );
    assert!(
        out.stderr.to_lowercase().contains("refused"),
        "the cause is named: {}",
        out.stderr
    );
}

/// `serve` says what it did with the store: a hint on an empty one, and that `--demo` made
/// nothing on one with data (and how to get a token again).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serve_explains_an_empty_store_and_a_skipped_demo() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let data = tmp.path().join("data");
    let data = data.to_str().expect("utf-8 path");
    let listen = ["--listen", "127.0.0.1:0", "--data-dir", data];

    let (out, _) = serve_until_listening(&[], &[&["serve"][..], &listen].concat()).await;
    assert!(out.contains("is empty"), "{out}");
    assert!(out.contains("rolecall init"), "{out}");

    let (out, _) = serve_until_listening(&[], &[&["serve", "--demo"][..], &listen].concat()).await;
    assert!(out.contains("Bootstrap token"), "{out}");
    assert!(!out.contains("is empty"), "{out}");

    let (out, _) = serve_until_listening(&[], &[&["serve", "--demo"][..], &listen].concat()).await;
    assert!(out.contains("--demo created nothing"), "{out}");
    assert!(out.contains("rolecall token --org"), "{out}");
    assert!(!out.contains("Bootstrap token"), "{out}");
}

/// Logs carry no colour codes when standard error is not a terminal, and
/// `ROLECALL_LOG_FORMAT=json` writes one JSON object per line.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn logs_are_plain_off_a_terminal_or_json() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let data = tmp.path().join("data");
    let data = data.to_str().expect("utf-8 path");
    let args = ["serve", "--listen", "127.0.0.1:0", "--data-dir", data];

    let (_, log) = serve_until_listening(&[("ROLECALL_LOG", "info")], &args).await;
    assert!(log.contains("rolecall listening"), "{log}");
    assert!(
        !log.contains('\u{1b}'),
        "no escape codes in a pipe: {log:?}"
    );

    let (_, log) = serve_until_listening(
        &[("ROLECALL_LOG", "info"), ("ROLECALL_LOG_FORMAT", "json")],
        &args,
    )
    .await;
    let lines: Vec<Value> = log
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}")))
        .collect();
    let listening = lines
        .iter()
        .find(|l| l["message"] == "rolecall listening")
        .unwrap_or_else(|| panic!("no listening line: {log}"));
    assert_eq!(listening["level"], "INFO");
    assert!(listening["addr"]
        .as_str()
        .is_some_and(|a| a.starts_with("127.0.0.1:")));
    assert!(listening["ts"].as_str().is_some_and(|t| t.ends_with('Z')));
}

#[path = "cli/bulk_changes.rs"]
mod bulk_changes;
/// Issue 10: every API operation has a command, and the commands added for it.
#[path = "cli/parity.rs"]
mod parity;
#[path = "cli/roles_scopes.rs"]
mod roles_scopes;
#[path = "cli/tour.rs"]
mod tour;
