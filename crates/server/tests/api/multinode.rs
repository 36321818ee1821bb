//! Two rolecall processes on one PostgreSQL: what one node revokes, the other refuses on the
//! very next request, and rights changed on one node decide checks on the other at once.

use crate::helpers::pg_database;
use reqwest::StatusCode;
use serde_json::{json, Value};
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};

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

fn start_node(database_url: &str, token: &str, data_dir: &std::path::Path) -> Node {
    let mut child = Command::new(env!("CARGO_BIN_EXE_rolecall"))
        .arg("serve")
        .env("ROLECALL_LISTEN", "127.0.0.1:0")
        .env("ROLECALL_DATABASE_URL", database_url)
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
async fn revocation_on_one_node_holds_on_the_other() {
    use reqwest::Method;
    let url = pg_database().await;
    let dir = tempfile::tempdir().expect("tempdir");
    let token = "rc_multinode-bootstrap-token-for-tests-only";
    let a = start_node(&url, token, dir.path());
    let b = start_node(&url, token, dir.path());
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

    // Rights granted on A decide the very next check on B.
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
    assert_eq!(
        call(
            &c,
            token,
            Method::POST,
            format!("{org_b}/check"),
            Some(check.clone())
        )
        .await
        .1["decision"],
        "deny"
    );
    let (s, _) = call(
        &c,
        token,
        Method::POST,
        format!("{org_a}/users/{id}/roles"),
        Some(json!({ "role_id": viewer })),
    )
    .await;
    assert_eq!(s, StatusCode::CREATED);
    assert_eq!(
        call(
            &c,
            token,
            Method::POST,
            format!("{org_b}/check"),
            Some(check.clone())
        )
        .await
        .1["decision"],
        "allow"
    );

    // Deactivate on A: B refuses the session on the next request, and denies the check.
    let (s, _) = call(
        &c,
        token,
        Method::PATCH,
        format!("{org_a}/users/{id}"),
        Some(json!({ "status": "inactive" })),
    )
    .await;
    assert_eq!(s, StatusCode::OK);
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
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        call(
            &c,
            token,
            Method::POST,
            format!("{org_b}/check"),
            Some(check)
        )
        .await
        .1["decision"],
        "deny"
    );
}
