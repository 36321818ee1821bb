//! SCIM provisioning throughput (issue 14) over HTTP on loopback, on SQLite (and on PostgreSQL
//! when `ROLECALL_BENCH_PG_URL` names an empty database): user creates per second as an
//! identity provider sends them (one `POST /scim/v2/Users` at a time), and filtered lookups
//! (`GET /Users?filter=userName eq "…"`, how Entra ID and Okta match) in an organisation of
//! `SCIM_USERS` users (10,000 by default).
//!
//! Run with `cargo bench -p rolecall-bench --bench scim`; results go to BENCHMARKS.md.

use criterion::{criterion_group, criterion_main, Criterion};
use rolecall::config::Config;
use rolecall::directory::scim_clients::NewScimClient;
use rolecall::directory::{Directory, OrgAdmin, SystemClock};
use rolecall::store::Db;
use rolecall::Server;
use serde_json::json;
use std::sync::Arc;
use std::time::Duration;

struct Fixture {
    rt: tokio::runtime::Runtime,
    server: Server,
    token: String,
    _dir: tempfile::TempDir,
}

fn fixture(database_url: Option<&str>) -> Fixture {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let dir = tempfile::tempdir().expect("tempdir");
    let config = Config {
        listen: "127.0.0.1:0".into(),
        data_dir: dir.path().to_path_buf(),
        database_url: database_url.map(str::to_string),
        sign_in_limit_per_minute: 1_000_000,
        ..Default::default()
    };
    let (server, token) = rt.block_on(async {
        // `SCIM_SYNC=per-commit|normal` compares SQLite's durability modes in one build.
        let options = rolecall::store::DbOptions {
            sqlite_synchronous: std::env::var("SCIM_SYNC")
                .ok()
                .and_then(|v| v.parse().ok())
                .unwrap_or_default(),
            ..Default::default()
        };
        let db = Db::connect_with(database_url, &config.data_dir, options)
            .await
            .expect("db");
        let dir = Arc::new(
            Directory::open(db, Arc::new(SystemClock), vec![])
                .await
                .expect("directory"),
        );
        let org = dir.create_org("bench", "Bench").await.expect("org");
        let admin = OrgAdmin::operator(org);
        // The per-organisation limit protects a node from one identity provider; the benchmark
        // measures the server, so it runs at the highest limit allowed.
        let (mut settings, _) = dir.settings(&admin.org).await.expect("settings");
        settings.provisioning.requests_per_second = 100_000;
        dir.put_settings(&admin, settings, None)
            .await
            .expect("settings");
        let (_, token) = dir
            .create_scim_client(
                &admin,
                NewScimClient {
                    name: "bench".into(),
                    description: None,
                },
                &Default::default(),
            )
            .await
            .expect("scim client");
        let server = Server::start_with(&config, dir).await.expect("server");
        (server, token)
    });
    Fixture {
        rt,
        server,
        token,
        _dir: dir,
    }
}

fn user(n: u64) -> serde_json::Value {
    json!({
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
        "userName": format!("person{n}@bench.example"),
        "externalId": format!("ext-{n}"),
        "name": { "givenName": "Pat", "familyName": format!("Person {n}") },
        "emails": [{ "value": format!("person{n}@bench.example"), "type": "work", "primary": true }],
        "active": true
    })
}

fn run(c: &mut Criterion, label: &str, database_url: Option<&str>) {
    // `ROLECALL_LOG=sqlx::query=debug` shows each statement a request runs, with its time.
    static LOGGING: std::sync::Once = std::sync::Once::new();
    if std::env::var_os("ROLECALL_LOG").is_some() {
        LOGGING.call_once(rolecall::logging::init);
    }
    let f = fixture(database_url);
    let client = reqwest::Client::new();
    let base = format!("http://{}/scim/v2", f.server.addr);
    let users: u64 = std::env::var("SCIM_USERS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(10_000);
    let create = {
        // Owned captures: concurrent lanes below run it on spawned tasks.
        let (client, url, token) = (client.clone(), format!("{base}/Users"), f.token.clone());
        move |n: u64| {
            let (client, url, token) = (client.clone(), url.clone(), token.clone());
            async move {
                let res = client
                    .post(url)
                    .bearer_auth(token)
                    .header("content-type", "application/scim+json")
                    .body(user(n).to_string())
                    .send()
                    .await
                    .expect("create");
                assert_eq!(
                    res.status().as_u16(),
                    201,
                    "{}",
                    res.text().await.unwrap_or_default()
                );
            }
        }
    };
    f.rt.block_on(async {
        for n in 0..users {
            create(n).await;
        }
        // Statistics as autovacuum keeps them in a running database: right after a bulk load
        // PostgreSQL has none, and its plans for the lookups below would measure that instead.
        if database_url.is_some() {
            sqlx::query("ANALYZE")
                .execute(&f.server.dir.db.pool)
                .await
                .expect("analyze");
        }
    });
    let mut group = c.benchmark_group(format!("scim_{label}"));
    group.measurement_time(Duration::from_secs(10));
    let mut next = users;
    group.bench_function(format!("create a user (organisation of {users}+)"), |b| {
        b.iter(|| {
            next += 1;
            f.rt.block_on(create(next))
        })
    });
    // Identity providers send several requests at once (Entra ID provisions in parallel):
    // `SCIM_CONCURRENCY` creates in flight, each on its own connection, show what concurrent
    // commits share (SQLite's group sync, PostgreSQL's group commit).
    let concurrency: u64 = std::env::var("SCIM_CONCURRENCY")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(8);
    group.bench_function(
        format!("create a user, {concurrency} in flight (organisation of {users}+)"),
        |b| {
            b.iter_custom(|iters| {
                let start = next + 1;
                next += iters;
                f.rt.block_on(async {
                    let t0 = std::time::Instant::now();
                    let mut tasks = tokio::task::JoinSet::new();
                    for lane in 0..concurrency {
                        let create = create.clone();
                        tasks.spawn(async move {
                            let mut n = start + lane;
                            while n < start + iters {
                                create(n).await;
                                n += concurrency;
                            }
                        });
                    }
                    while let Some(done) = tasks.join_next().await {
                        done.expect("create task");
                    }
                    t0.elapsed()
                })
            })
        },
    );
    let mut probe = 0;
    group.bench_function(
        format!("filter userName eq (organisation of {users}+)"),
        |b| {
            b.iter(|| {
                probe = (probe + 7919) % users;
                f.rt.block_on(async {
                    let res = client
                        .get(format!("{base}/Users"))
                        .query(&[
                            (
                                "filter",
                                format!("userName eq \"person{probe}@bench.example\""),
                            ),
                            ("startIndex", "1".into()),
                            ("count", "100".into()),
                        ])
                        .bearer_auth(&f.token)
                        .send()
                        .await
                        .expect("lookup");
                    assert!(res.status().is_success());
                    let body: serde_json::Value = res.json().await.expect("json");
                    assert_eq!(body["totalResults"], 1);
                })
            })
        },
    );
    // The request floor: what the same HTTP, authentication and JSON path costs with no write
    // at all, `SCIM_CONCURRENCY` reads of a user by id in flight. A create can go no faster
    // than this; the gap between the two is the write.
    let ids: Vec<String> = f.rt.block_on(async {
        let res = client
            .get(format!("{base}/Users"))
            .query(&[("count", "100"), ("attributes", "id")])
            .bearer_auth(&f.token)
            .send()
            .await
            .expect("list");
        let body: serde_json::Value = res.json().await.expect("json");
        body["Resources"]
            .as_array()
            .expect("resources")
            .iter()
            .filter_map(|r| r["id"].as_str().map(str::to_string))
            .collect()
    });
    assert!(!ids.is_empty(), "the fixture has users");
    let ids = std::sync::Arc::new(ids);
    group.bench_function(
        format!("read a user by id, {concurrency} in flight (organisation of {users}+)"),
        |b| {
            b.iter_custom(|iters| {
                f.rt.block_on(async {
                    let t0 = std::time::Instant::now();
                    let mut tasks = tokio::task::JoinSet::new();
                    for lane in 0..concurrency {
                        let (client, base, token, ids) =
                            (client.clone(), base.clone(), f.token.clone(), ids.clone());
                        tasks.spawn(async move {
                            let mut n = lane;
                            while n < iters {
                                let id = &ids[(n as usize) % ids.len()];
                                let res = client
                                    .get(format!("{base}/Users/{id}"))
                                    .bearer_auth(&token)
                                    .send()
                                    .await
                                    .expect("read");
                                assert_eq!(res.status().as_u16(), 200);
                                res.bytes().await.expect("body");
                                n += concurrency;
                            }
                        });
                    }
                    while let Some(done) = tasks.join_next().await {
                        done.expect("read task");
                    }
                    t0.elapsed()
                })
            })
        },
    );
    group.finish();
}

fn scim(c: &mut Criterion) {
    run(c, "sqlite", None);
    if let Ok(url) = std::env::var("ROLECALL_BENCH_PG_URL") {
        run(c, "postgres", Some(&url));
    }
}

criterion_group!(benches, scim);
criterion_main!(benches);
