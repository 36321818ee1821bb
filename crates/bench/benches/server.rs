//! Server-side benchmarks: sign-ins per second against the cost of the Argon2id verification
//! alone (the floor), the HTTP check endpoint on loopback, single and in batches of 100, and
//! the cost of a committed write with SQLite's `synchronous = FULL` (the default) and `NORMAL`.
//! Run with `cargo bench -p rolecall-bench --bench server`; results go to BENCHMARKS.md.

use criterion::{criterion_group, criterion_main, Criterion};
use rolecall::config::Config;
use rolecall::credentials::password::{self, HashParams};
use rolecall::directory::signin::ClientInfo;
use rolecall::directory::{Directory, NewRole, NewUser, SystemClock};
use rolecall::store::Db;
use rolecall::Server;
use rolecall_core::model::{ActionSet, Grant};
use serde_json::json;
use std::sync::Arc;
use std::time::{Duration, Instant};

const PASSWORD: &str = "a long and unusual Passphrase 2026";

struct Fixture {
    rt: tokio::runtime::Runtime,
    server: Server,
    credential: String,
    org: String,
    users: Vec<String>,
    _dir: tempfile::TempDir,
}

fn fixture() -> Fixture {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let dir = tempfile::tempdir().expect("tempdir");
    let config = Config {
        listen: "127.0.0.1:0".into(),
        data_dir: dir.path().to_path_buf(),
        database_url: None,
        catalogue_dir: None,
        bootstrap_token_hash: None,
        sign_in_limit_per_minute: 1_000_000,
        public_url: None,
        mail: Default::default(),
        ..Default::default()
    };
    let (server, credential, users) = rt.block_on(async {
        let db = Db::connect(None, &config.data_dir).await.expect("db");
        let dir = Arc::new(
            Directory::open(db, Arc::new(SystemClock), vec![])
                .await
                .expect("directory"),
        );
        let org = dir.create_org("bench", "Bench").await.expect("org");
        let operator = rolecall::auth::OrgAdmin::operator(org.clone());
        let (mut settings, _) = dir.settings(&org).await.expect("settings");
        settings.require_2fa = false;
        settings.account_sharing = true;
        dir.put_settings(&operator, settings, None)
            .await
            .expect("settings");
        let role = dir
            .create_role(
                &operator,
                NewRole {
                    application: "commerce-admin".into(),
                    name: "Sales".into(),
                    description: None,
                    grants: vec![Grant {
                        resource: "Magento_Sales::sales".into(),
                        actions: ActionSet::All,
                    }],
                    scopes: vec![],
                },
            )
            .await
            .expect("role");
        let mut users = Vec::new();
        for i in 0..200 {
            let u = dir
                .create_user(
                    &operator,
                    NewUser {
                        email: format!("user{i}@example.com"),
                        ..Default::default()
                    },
                )
                .await
                .expect("user");
            if i % 2 == 0 {
                dir.assign_role(&operator, u.id, role.id)
                    .await
                    .expect("assign");
            }
            users.push(u.id.to_string());
        }
        dir.set_password(
            &operator,
            users[0].parse().expect("id"),
            PASSWORD,
            &ClientInfo::default(),
        )
        .await
        .expect("password");
        let (_, secret) = dir
            .create_credential(
                &operator,
                rolecall::directory::credentials::NewCredential {
                    name: "bench".into(),
                    description: None,
                    expires_at: None,
                    sensitive_changes: false,
                },
                rolecall::directory::credentials::Creator {
                    user: None,
                    label: "bench".into(),
                },
                &ClientInfo::default(),
            )
            .await
            .expect("credential");
        let server = Server::start_with(&config, dir).await.expect("server");
        (server, secret, users)
    });
    Fixture {
        rt,
        server,
        credential,
        org: "bench".into(),
        users,
        _dir: dir,
    }
}

fn signin(c: &mut Criterion) {
    let f = fixture();
    let hash = password::hash(PASSWORD, &HashParams::default()).expect("hash");
    let mut g = c.benchmark_group("signin");
    g.sample_size(20).measurement_time(Duration::from_secs(8));
    g.bench_function("argon2id_verify_only", |b| {
        b.iter(|| password::verify(PASSWORD, &hash, &HashParams::default()))
    });
    let dir = f.server.dir.clone();
    let org = f.rt.block_on(dir.org(&f.org)).expect("org");
    g.bench_function("directory_sign_in", |b| {
        b.iter(|| {
            f.rt.block_on(dir.sign_in(&org, "user0@example.com", PASSWORD, &ClientInfo::default()))
                .expect("sign in")
        })
    });
    let client = reqwest::Client::new();
    let url = format!(
        "http://{}/api/v1/organizations/{}/sign-in",
        f.server.addr, f.org
    );
    g.bench_function("http_sign_in", |b| {
        b.iter(|| {
            f.rt.block_on(async {
                let r = client
                    .post(&url)
                    .json(&json!({ "login": "user0@example.com", "password": PASSWORD }))
                    .send()
                    .await
                    .expect("send");
                assert!(r.status().is_success());
            })
        })
    });
    g.finish();
}

fn http_check(c: &mut Criterion) {
    let f = fixture();
    let client = reqwest::Client::new();
    let base = format!("http://{}/api/v1/organizations/{}", f.server.addr, f.org);
    let one = |i: usize| json!({ "user_id": f.users[i % f.users.len()], "application": "commerce-admin", "resource": "Magento_Sales::sales_order" });
    let mut g = c.benchmark_group("http");
    g.sample_size(30).measurement_time(Duration::from_secs(6));
    let mut i = 0usize;
    g.bench_function("check_single", |b| {
        b.iter(|| {
            i += 1;
            f.rt.block_on(async {
                let r = client
                    .post(format!("{base}/check"))
                    .bearer_auth(&f.credential)
                    .json(&one(i))
                    .send()
                    .await
                    .expect("send");
                assert!(r.status().is_success());
            })
        })
    });
    let batch = json!({ "checks": (0..100).map(one).collect::<Vec<_>>() });
    g.bench_function("check_batch_100", |b| {
        b.iter(|| {
            f.rt.block_on(async {
                let r = client
                    .post(format!("{base}/check/batch"))
                    .bearer_auth(&f.credential)
                    .json(&batch)
                    .send()
                    .await
                    .expect("send");
                assert!(r.status().is_success());
            })
        })
    });
    g.finish();

    // Throughput with concurrent clients, for "checks per second".
    for (label, per_request, body, path) in [
        ("single", 1u64, one(7), "check"),
        ("batch of 100", 100, batch.clone(), "check/batch"),
    ] {
        let n = f.rt.block_on(async {
            let deadline = Instant::now() + Duration::from_secs(5);
            let mut tasks = Vec::new();
            for _ in 0..8 {
                let client = client.clone();
                let url = format!("{base}/{path}");
                let token = f.credential.clone();
                let body = body.clone();
                tasks.push(tokio::spawn(async move {
                    let mut n = 0u64;
                    while Instant::now() < deadline {
                        let r = client
                            .post(&url)
                            .bearer_auth(&token)
                            .json(&body)
                            .send()
                            .await
                            .expect("send");
                        assert!(r.status().is_success());
                        n += 1;
                    }
                    n
                }));
            }
            let mut total = 0;
            for t in tasks {
                total += t.await.expect("task");
            }
            total
        });
        eprintln!(
            "http {label}: {} checks/s with 8 concurrent clients over 5 s",
            n * per_request / 5
        );
    }
}

/// One small committed write (a group's description), in process, on a fresh SQLite file with
/// each durability setting: what `synchronous = FULL` (issue 9 item 14) costs per commit.
fn writes(c: &mut Criterion) {
    use rolecall::store::{DbOptions, Synchronous};
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let mut g = c.benchmark_group("writes");
    for (name, mode) in [
        ("full", Synchronous::Full),
        ("per_commit", Synchronous::PerCommit),
        ("normal", Synchronous::Normal),
    ] {
        let tmp = tempfile::tempdir().expect("tempdir");
        let (dir, operator, group) = rt.block_on(async {
            let db = Db::connect_with(
                None,
                tmp.path(),
                DbOptions {
                    sqlite_synchronous: mode,
                    ..Default::default()
                },
            )
            .await
            .expect("db");
            let dir = Directory::open(db, Arc::new(SystemClock), vec![])
                .await
                .expect("directory");
            let org = dir.create_org("bench", "Bench").await.expect("org");
            let operator = rolecall::auth::OrgAdmin::operator(org);
            let group = dir
                .create_group(&operator, "Writers", None)
                .await
                .expect("group");
            (dir, operator, group.id)
        });
        let mut i = 0u64;
        g.bench_function(format!("update_group_{name}"), |b| {
            b.iter(|| {
                i += 1;
                rt.block_on(dir.update_group(
                    &operator,
                    group,
                    None,
                    Some(&format!("revision {i}")),
                    None,
                ))
                .expect("write");
            })
        });
    }
    g.finish();
}

criterion_group!(benches, signin, http_check, writes);
criterion_main!(benches);
