//! Killing the server in the middle of an all-or-nothing import leaves the database as it was
//! (issue 12): a real `rolecall serve` process takes a large upload, is killed with SIGKILL
//! while the import's transaction is open, restarts, and holds none of the file's users.

use crate::both;
use crate::helpers::{pg_database, Backend};
use std::io::BufRead;
use std::process::{Child, Command, Stdio};

fn rolecall(args: &[&str]) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_rolecall"));
    for var in [
        "ROLECALL_DATABASE_URL",
        "ROLECALL_DATA_DIR",
        "ROLECALL_CONFIG",
        "ROLECALL_LISTEN",
    ] {
        cmd.env_remove(var);
    }
    cmd.env("ROLECALL_LOG", "warn").args(args);
    cmd
}

/// Starts `rolecall serve` and waits for its address.
fn serve(db: &[&str]) -> (Child, String) {
    let mut args = vec!["serve", "--listen", "127.0.0.1:0"];
    args.extend_from_slice(db);
    let mut child = rolecall(&args)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let out = child.stdout.take().unwrap();
    let mut lines = std::io::BufReader::new(out).lines();
    let addr = loop {
        let line = lines.next().expect("serve prints its address").unwrap();
        if let Some(a) = line.strip_prefix("rolecall listening on ") {
            break a.trim().to_string();
        }
    };
    // Keep reading so the child never blocks on a full pipe.
    std::thread::spawn(move || for _ in lines {});
    (child, addr)
}

async fn users(client: &reqwest::Client, addr: &str, token: &str) -> i64 {
    let r: serde_json::Value = client
        .get(format!("{addr}/api/v1/organizations/acme/users?per_page=5"))
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    r["total"].as_i64().unwrap()
}

async fn a_killed_import_writes_nothing(b: Backend) {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().to_str().unwrap().to_string();
    let url = match b {
        Backend::Sqlite => None,
        Backend::Postgres => Some(pg_database().await),
    };
    let mut db = vec!["--data-dir", data.as_str()];
    if let Some(u) = &url {
        db.extend(["--database-url", u.as_str()]);
    }
    let mut init = vec![
        "init",
        "--org-slug",
        "acme",
        "--admin-email",
        "admin@example.com",
        "--json",
    ];
    init.extend_from_slice(&db);
    let out = tokio::task::spawn_blocking({
        let init: Vec<String> = init.iter().map(|s| s.to_string()).collect();
        move || {
            rolecall(&init.iter().map(String::as_str).collect::<Vec<_>>())
                .output()
                .unwrap()
        }
    })
    .await
    .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let token = serde_json::from_slice::<serde_json::Value>(&out.stdout).unwrap()
        ["bootstrap_token"]
        .as_str()
        .unwrap()
        .to_string();

    let db_owned: Vec<String> = db.iter().map(|s| s.to_string()).collect();
    let start = move || {
        let args: Vec<&str> = db_owned.iter().map(String::as_str).collect();
        serve(&args)
    };
    let (mut child, addr) = tokio::task::spawn_blocking(start.clone()).await.unwrap();
    let client = reqwest::Client::new();
    assert_eq!(users(&client, &addr, &token).await, 1);

    // An upload that sends 20,000 rows, then stays open: the import is under way, its
    // transaction open, when the server dies.
    let (tx, rx) = tokio::sync::mpsc::channel::<Result<Vec<u8>, std::io::Error>>(4);
    let body = reqwest::Body::wrap_stream(futures::stream::unfold(rx, |mut rx| async move {
        rx.recv().await.map(|item| (item, rx))
    }));
    let upload = tokio::spawn({
        let client = client.clone();
        let url = format!("{addr}/api/v1/organizations/acme/users/import?invitations=false");
        let token = token.clone();
        async move {
            client
                .post(url)
                .bearer_auth(token)
                .header("content-type", "text/csv")
                .body(body)
                .send()
                .await
        }
    });
    tx.send(Ok(b"email,first_name\n".to_vec())).await.unwrap();
    for chunk in 0..20 {
        let mut rows = String::new();
        for i in 0..1000 {
            rows.push_str(&format!("u{chunk}x{i}@example.com,U\n"));
        }
        tx.send(Ok(rows.into_bytes())).await.unwrap();
    }
    tokio::time::sleep(std::time::Duration::from_secs(3)).await;
    assert!(
        !upload.is_finished(),
        "the import is still waiting for the rest of the file"
    );
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();
    drop(tx);
    let _ = upload.await;

    let (mut child, addr) = tokio::task::spawn_blocking(start).await.unwrap();
    assert_eq!(
        users(&client, &addr, &token).await,
        1,
        "nothing of the killed import was written"
    );
    child.kill().unwrap();
    child.wait().unwrap();
}
both!(a_killed_import_writes_nothing);
