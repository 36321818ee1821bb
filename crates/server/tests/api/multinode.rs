//! Two rolecall processes on one PostgreSQL: what one node revokes, the other refuses within
//! [`BOUND`] (memory freshness: its notification or the counter poll; ARCHITECTURE.md), or on
//! the very next request with strict freshness; and a second `serve` on one SQLite file is
//! refused.

use crate::helpers::pg_database;
use reqwest::StatusCode;
use serde_json::{json, Value};
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

struct Node {
    child: Child,
    base: String,
}

impl Drop for Node {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// How long another node may take to enforce a change in memory freshness: notifications
/// arrive in milliseconds; the counter poll (every 500 ms) catches a lost one. Documented in
/// ARCHITECTURE.md; generous for a loaded 2-core machine.
const BOUND: Duration = Duration::from_secs(2);

/// Retries `probe` until it returns `want` or `bound` passes; returns how long it took.
async fn within<F, Fut, T>(bound: Duration, want: T, mut probe: F) -> Duration
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = T>,
    T: PartialEq + std::fmt::Debug,
{
    let start = Instant::now();
    loop {
        let got = probe().await;
        if got == want {
            return start.elapsed();
        }
        assert!(
            start.elapsed() < bound,
            "still {got:?} after {bound:?} (wanted {want:?})"
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

fn start_node(
    database_url: Option<&str>,
    token: &str,
    data_dir: &std::path::Path,
    freshness: &str,
) -> Node {
    let mut command = Command::new(env!("CARGO_BIN_EXE_rolecall"));
    match database_url {
        Some(url) => command.env("ROLECALL_DATABASE_URL", url),
        None => command.env_remove("ROLECALL_DATABASE_URL"),
    };
    let mut child = command
        .arg("serve")
        .env("ROLECALL_LISTEN", "127.0.0.1:0")
        .env("ROLECALL_FRESHNESS", freshness)
        .env("ROLECALL_DATA_DIR", data_dir)
        .env("ROLECALL_BOOTSTRAP_TOKEN", token)
        .env("ROLECALL_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("start rolecall serve");
    let stdout = child.stdout.take().expect("stdout");
    let mut line = String::new();
    BufReader::new(stdout)
        .read_line(&mut line)
        .expect("read the listening line");
    let base = line
        .trim()
        .strip_prefix("rolecall listening on ")
        .unwrap_or_else(|| panic!("unexpected first line {line:?}"))
        .to_string();
    Node { child, base }
}

async fn call(
    client: &reqwest::Client,
    token: &str,
    method: reqwest::Method,
    url: String,
    body: Option<Value>,
) -> (StatusCode, Value) {
    let verb = method.to_string();
    let mut req = client.request(method, url).bearer_auth(token);
    if let Some(b) = body {
        req = req.json(&b);
    }
    let res = req.send().await.expect("request");
    let reply = crate::helpers::Reply::received(verb, res).await;
    (reply.status, reply.body)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn revocation_on_one_node_holds_on_the_other_within_the_bound() {
    revocation_on_one_node_holds_on_the_other("memory", BOUND).await;
}

/// Strict freshness: every request reads the database, so the bound is the next request.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn strict_nodes_enforce_revocations_at_the_next_request() {
    revocation_on_one_node_holds_on_the_other("strict", Duration::ZERO).await;
}

async fn revocation_on_one_node_holds_on_the_other(freshness: &str, bound: Duration) {
    use reqwest::Method;
    let url = pg_database().await;
    let dir = tempfile::tempdir().expect("tempdir");
    let token = "rc_multinode-bootstrap-token-for-tests-only";
    let a = start_node(Some(&url), token, dir.path(), freshness);
    let b = start_node(Some(&url), token, dir.path(), freshness);
    let c = reqwest::Client::new();
    let (s, _) = call(
        &c,
        token,
        Method::POST,
        format!("{}/api/v1/organizations", a.base),
        Some(json!({ "slug": "acme", "name": "Acme" })),
    )
    .await;
    assert_eq!(s, StatusCode::CREATED);
    let org_a = format!("{}/api/v1/organizations/acme", a.base);
    let org_b = format!("{}/api/v1/organizations/acme", b.base);
    let (_, mut settings) = call(&c, token, Method::GET, format!("{org_a}/settings"), None).await;
    settings["require_2fa"] = json!(false);
    let (s, _) = call(
        &c,
        token,
        Method::PUT,
        format!("{org_a}/settings"),
        Some(settings),
    )
    .await;
    assert_eq!(s, StatusCode::OK);
    let (_, user) = call(
        &c,
        token,
        Method::POST,
        format!("{org_a}/users"),
        Some(json!({ "email": "jane@example.com" })),
    )
    .await;
    let id = user["id"].as_str().expect("id").to_string();
    let pw = "a long and unusual Passphrase 2026";
    let (s, _) = call(
        &c,
        token,
        Method::PUT,
        format!("{org_a}/users/{id}/password"),
        Some(json!({ "password": pw })),
    )
    .await;
    assert_eq!(s, StatusCode::NO_CONTENT);

    // Sign in on A, use the session on B.
    let (s, signed) = call(
        &c,
        "",
        Method::POST,
        format!("{org_a}/sign-in"),
        Some(json!({ "login": "jane@example.com", "password": pw })),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{signed}");
    let session = signed["token"].as_str().expect("token").to_string();
    assert_eq!(
        call(
            &c,
            &session,
            Method::GET,
            format!("{}/api/v1/me", b.base),
            None
        )
        .await
        .0,
        StatusCode::OK
    );

    // A credential used on B, to be revoked on A later.
    let (s, made) = call(
        &c,
        token,
        Method::POST,
        format!("{org_a}/credentials"),
        Some(json!({ "name": "shop" })),
    )
    .await;
    assert_eq!(s, StatusCode::CREATED, "{made}");
    let secret = made["secret"].as_str().expect("secret").to_string();
    let credential = made["credential"]["id"].as_str().expect("id").to_string();

    // Rights granted on A decide checks on B within the bound.
    let (_, roles) = call(
        &c,
        token,
        Method::GET,
        format!("{org_a}/roles?application=cloud-project"),
        None,
    )
    .await;
    let viewer = roles["items"]
        .as_array()
        .expect("items")
        .iter()
        .find(|r| r["name"] == "Viewer")
        .expect("Viewer")["id"]
        .clone();
    let check = json!({ "user_id": id, "application": "cloud-project", "resource": "project", "action": "view" });
    let decide = |who: String| {
        let (c, check, url) = (c.clone(), check.clone(), format!("{org_b}/check"));
        async move {
            let (s, body) = call(&c, &who, Method::POST, url, Some(check)).await;
            (s, body["decision"].as_str().map(str::to_string))
        }
    };
    let denied = (StatusCode::OK, Some("deny".to_string()));
    let allowed = (StatusCode::OK, Some("allow".to_string()));
    assert_eq!(decide(secret.clone()).await, denied);
    assert_eq!(decide(secret.clone()).await, denied);
    let (s, _) = call(
        &c,
        token,
        Method::POST,
        format!("{org_a}/users/{id}/roles"),
        Some(json!({ "role_id": viewer })),
    )
    .await;
    assert_eq!(s, StatusCode::CREATED);
    let mut took = vec![within(bound, allowed.clone(), || decide(secret.clone())).await];

    // Deactivate on A: B refuses the session and denies the check within the bound.
    let me_on_b = |session: String| {
        let (c, url) = (c.clone(), format!("{}/api/v1/me", b.base));
        async move { call(&c, &session, Method::GET, url, None).await.0 }
    };
    assert_eq!(me_on_b(session.clone()).await, StatusCode::OK);
    let (s, _) = call(
        &c,
        token,
        Method::PATCH,
        format!("{org_a}/users/{id}"),
        Some(json!({ "status": "inactive" })),
    )
    .await;
    assert_eq!(s, StatusCode::OK);
    took.push(within(bound, StatusCode::UNAUTHORIZED, || me_on_b(session.clone())).await);
    took.push(within(bound, denied.clone(), || decide(secret.clone())).await);

    // A session of someone else, ended on A by an administrator.
    let (_, other) = call(
        &c,
        token,
        Method::POST,
        format!("{org_a}/users"),
        Some(json!({ "email": "joe@example.com" })),
    )
    .await;
    let other = other["id"].as_str().expect("id").to_string();
    let (s, _) = call(
        &c,
        token,
        Method::PUT,
        format!("{org_a}/users/{other}/password"),
        Some(json!({ "password": pw })),
    )
    .await;
    assert_eq!(s, StatusCode::NO_CONTENT);
    let (_, signed) = call(
        &c,
        "",
        Method::POST,
        format!("{org_b}/sign-in"),
        Some(json!({ "login": "joe@example.com", "password": pw })),
    )
    .await;
    let joe = signed["token"].as_str().expect("token").to_string();
    assert_eq!(me_on_b(joe.clone()).await, StatusCode::OK);
    assert_eq!(me_on_b(joe.clone()).await, StatusCode::OK);
    let (s, _) = call(
        &c,
        token,
        Method::DELETE,
        format!("{org_a}/users/{other}/sessions"),
        None,
    )
    .await;
    assert!(s.is_success(), "{s}");
    took.push(within(bound, StatusCode::UNAUTHORIZED, || me_on_b(joe.clone())).await);

    // The credential revoked on A stops working on B.
    let (s, _) = call(
        &c,
        token,
        Method::DELETE,
        format!("{org_a}/credentials/{credential}"),
        None,
    )
    .await;
    assert_eq!(s, StatusCode::NO_CONTENT);
    took.push(
        within(bound, (StatusCode::UNAUTHORIZED, None), || {
            decide(secret.clone())
        })
        .await,
    );
    // Shown with --nocapture: what BENCHMARKS.md reports as the observed delay.
    eprintln!("{freshness}: changes on A enforced on B after {took:?}");
}

/// One process owns a SQLite file: a second `serve` on it stops at once with a clear error,
/// before it writes anything.
#[test]
fn a_second_server_on_one_sqlite_file_is_refused() {
    let dir = tempfile::tempdir().expect("tempdir");
    let token = "rc_multinode-bootstrap-token-for-tests-only";
    let _first = start_node(None, token, dir.path(), "memory");
    let second = Command::new(env!("CARGO_BIN_EXE_rolecall"))
        .arg("serve")
        .env("ROLECALL_LISTEN", "127.0.0.1:0")
        .env("ROLECALL_DATA_DIR", dir.path())
        .env_remove("ROLECALL_DATABASE_URL")
        .env("ROLECALL_LOG", "warn")
        .output()
        .expect("run a second serve");
    assert!(!second.status.success());
    let err = String::from_utf8_lossy(&second.stderr);
    assert!(
        err.contains("another rolecall server is already serving") && err.contains("rolecall.db"),
        "{err}"
    );
}
