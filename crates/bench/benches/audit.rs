//! Audit log benchmarks (issue 11), on SQLite in a temporary directory:
//! - what recording adds to a typical change (`update_user`), measured in the same run as the
//!   change itself: the audit part alone (appending one entry under the head lock, committing)
//!   minus a one-row write transaction (a change commits anyway), against the whole change.
//!   Every caller arrives named (a person's e-mail and a credential's name are read when they
//!   authenticate), so no change looks its actor up any more;
//! - verifying a 1,000,000-entry chain;
//! - exporting it over HTTP as JSON lines and CSV.
//!
//! Run with `cargo bench -p rolecall-bench --bench audit` (`AUDIT_ENTRIES` overrides the chain
//! length; `AUDIT_PAIRED=<rounds>` first takes the three operations in turn and prints medians,
//! which holds up better than separate runs on a shared, loaded machine); results go to
//! BENCHMARKS.md.

use criterion::{criterion_group, criterion_main, Criterion};
use rolecall::config::Config;
use rolecall::directory::{Directory, NewUser, OrgAdmin, SystemClock, UserPatch};
use rolecall::store::Db;
use rolecall::Server;
use rolecall_core::audit::{Entry, Party};
use std::sync::Arc;
use std::time::{Duration, Instant};

struct Fixture {
    rt: tokio::runtime::Runtime,
    server: Server,
    token: String,
    _dir: tempfile::TempDir,
}

fn fixture() -> Fixture {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let dir = tempfile::tempdir().expect("tempdir");
    // `ROLECALL_BENCH_PG_URL` (an empty database) measures the overhead on PostgreSQL instead.
    let database_url = std::env::var("ROLECALL_BENCH_PG_URL").ok();
    let config = Config {
        listen: "127.0.0.1:0".into(),
        data_dir: dir.path().to_path_buf(),
        database_url: database_url.clone(),
        catalogue_dir: None,
        bootstrap_token_hash: None,
        sign_in_limit_per_minute: 1_000_000,
        mail: Default::default(),
        ..Default::default()
    };
    let (server, token) = rt.block_on(async {
        let db = Db::connect(database_url.as_deref(), &config.data_dir)
            .await
            .expect("db");
        let dir = Arc::new(
            Directory::open(db, Arc::new(SystemClock), vec![])
                .await
                .expect("directory"),
        );
        dir.create_org("bench", "Bench").await.expect("org");
        let token = dir.create_token("bench", None).await.expect("token");
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

fn entry(i: usize) -> Entry {
    Entry {
        org_id: String::new(),
        seq: 0,
        id: format!("bench-{i}"),
        at: 1_750_000_000_000 + i as i64,
        actor: Party::new("token", "bench", "bench"),
        action: "user_updated".into(),
        target: Party::new(
            "user",
            format!("u{}", i % 1000),
            format!("u{}@bench.example", i % 1000),
        ),
        changes: r#"{"first_name":{"after":"B","before":"A"}}"#.into(),
        detail: String::new(),
        source_ip: "127.0.0.1".into(),
        user_agent: "bench".into(),
        request_id: format!("req-{i}"),
        prev_hash: String::new(),
        hash: String::new(),
    }
}

fn overhead(c: &mut Criterion) {
    let f = fixture();
    let dir = f.server.dir.clone();
    let (admin, user) = f.rt.block_on(async {
        let org = dir.org("bench").await.expect("org");
        let admin = OrgAdmin::operator(org);
        let user = dir
            .create_user(
                &admin,
                NewUser {
                    email: "pat@bench.example".into(),
                    ..Default::default()
                },
            )
            .await
            .expect("user");
        (admin, user.id)
    });
    let org_id = admin.org.id.to_string();
    if let Some(rounds) = std::env::var("AUDIT_PAIRED")
        .ok()
        .and_then(|v| v.parse::<usize>().ok())
    {
        paired(&f, &admin, user, &org_id, rounds.max(1));
    }
    let mut group = c.benchmark_group("audit_overhead");
    group.measurement_time(Duration::from_secs(8));
    let mut flip = false;
    group.bench_function("update_user (with its audit entry)", |b| {
        b.iter(|| {
            flip = !flip;
            let patch = UserPatch {
                first_name: Some(if flip { "Pat" } else { "Patricia" }.into()),
                ..Default::default()
            };
            f.rt.block_on(dir.update_user(&admin, user, patch, None, None, &Default::default()))
                .expect("update")
        })
    });
    let mut i = 0;
    group.bench_function("audit part alone (append + commit)", |b| {
        b.iter(|| {
            i += 1;
            f.rt.block_on(async {
                let mut w = dir.db.write().await.expect("tx");
                let mut e = entry(i);
                e.org_id = org_id.clone();
                w.record(e);
                w.commit().await.expect("commit")
            })
        })
    });
    // The baseline that matters: every change writes and commits anyway (with FULL, one sync of
    // the log), so what recording adds is the audit part minus a one-row write transaction.
    let mut j = 0;
    group.bench_function("one-row write transaction", |b| {
        b.iter(|| {
            j += 1;
            f.rt.block_on(async {
                let mut w = dir.db.write().await.expect("tx");
                let sql = rolecall::store::sql_for(
                    dir.db.backend,
                    "UPDATE users SET updated_at = $1 WHERE id = $2",
                );
                sqlx::query(&sql)
                    .bind(j as i64)
                    .bind(user.to_string())
                    .execute(&mut *w.tx)
                    .await
                    .expect("update");
                w.commit().await.expect("commit")
            })
        })
    });
    group.bench_function("empty write transaction", |b| {
        b.iter(|| {
            f.rt.block_on(async {
                let w = dir.db.write().await.expect("tx");
                w.commit().await.expect("commit")
            })
        })
    });
    group.finish();
}

/// The three operations of `audit_overhead` taken in turn, one of each per round, so that a
/// machine whose load drifts (other builds on a shared host) weighs on all three alike; prints
/// each one's median and the median of the per-round differences (`AUDIT_PAIRED=<rounds>`).
fn paired(
    f: &Fixture,
    admin: &OrgAdmin,
    user: rolecall_core::model::UserId,
    org_id: &str,
    rounds: usize,
) {
    let dir = f.server.dir.clone();
    let mut change = Vec::with_capacity(rounds);
    let mut audit = Vec::with_capacity(rounds);
    let mut row = Vec::with_capacity(rounds);
    for i in 0..rounds {
        let started = Instant::now();
        let patch = UserPatch {
            first_name: Some(if i % 2 == 0 { "Pat" } else { "Patricia" }.into()),
            ..Default::default()
        };
        f.rt.block_on(dir.update_user(admin, user, patch, None, None, &Default::default()))
            .expect("update");
        change.push(started.elapsed().as_secs_f64() * 1e3);
        let started = Instant::now();
        f.rt.block_on(async {
            let mut w = dir.db.write().await.expect("tx");
            let mut e = entry(1_000_000 + i);
            e.org_id = org_id.to_string();
            w.record(e);
            w.commit().await.expect("commit")
        });
        audit.push(started.elapsed().as_secs_f64() * 1e3);
        let started = Instant::now();
        f.rt.block_on(async {
            let mut w = dir.db.write().await.expect("tx");
            let sql = rolecall::store::sql_for(
                dir.db.backend,
                "UPDATE users SET updated_at = $1 WHERE id = $2",
            );
            sqlx::query(&sql)
                .bind(i as i64)
                .bind(user.to_string())
                .execute(&mut *w.tx)
                .await
                .expect("update");
            w.commit().await.expect("commit")
        });
        row.push(started.elapsed().as_secs_f64() * 1e3);
    }
    let median = |v: &[f64]| {
        let mut v = v.to_vec();
        v.sort_by(f64::total_cmp);
        v[v.len() / 2]
    };
    let added: Vec<f64> = audit.iter().zip(&row).map(|(a, r)| a - r).collect();
    let (c, a, r, d) = (
        median(&change),
        median(&audit),
        median(&row),
        median(&added),
    );
    eprintln!(
        "paired, {rounds} rounds (medians): update_user {c:.3} ms; audit part {a:.3} ms; one-row write {r:.3} ms; audit part minus one-row write, per round {d:.3} ms = {:.1} % of update_user",
        100.0 * d / c
    );
}

/// Fills a chain of `n` entries in transactions of 10,000.
fn fill(f: &Fixture, n: usize) -> String {
    let dir = f.server.dir.clone();
    f.rt.block_on(async {
        let org = dir.org("bench").await.expect("org").id.to_string();
        let started = Instant::now();
        let mut done = 0;
        while done < n {
            let batch = (n - done).min(10_000);
            let mut w = dir.db.write().await.expect("tx");
            for mut e in (done..done + batch).map(entry) {
                e.org_id = org.clone();
                w.record(e);
            }
            w.commit().await.expect("commit");
            done += batch;
        }
        eprintln!(
            "filled {n} entries in {:.1} s ({:.0} appends/s in batches of 10,000)",
            started.elapsed().as_secs_f64(),
            n as f64 / started.elapsed().as_secs_f64()
        );
        org
    })
}

fn chain(c: &mut Criterion) {
    if std::env::var_os("ROLECALL_BENCH_PG_URL").is_some() {
        // One organisation per database: on PostgreSQL only the overhead is measured.
        return;
    }
    let n: usize = std::env::var("AUDIT_ENTRIES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1_000_000);
    let f = fixture();
    fill(&f, n);
    let dir = f.server.dir.clone();
    let org = f.rt.block_on(dir.org("bench")).expect("org");
    let mut group = c.benchmark_group("audit_chain");
    group.sample_size(10);
    group.measurement_time(Duration::from_secs(60));
    group.bench_function(format!("verify {n} entries"), |b| {
        b.iter(|| {
            let v = f.rt.block_on(dir.verify_audit(&org, None)).expect("verify");
            assert!(v.ok && v.checked as usize >= n, "{v:?}");
        })
    });
    let client = reqwest::Client::new();
    for format in ["jsonl", "csv"] {
        let url = format!(
            "http://{}/api/v1/organizations/bench/audit/export?format={format}",
            f.server.addr
        );
        group.bench_function(format!("export {n} entries as {format}"), |b| {
            b.iter(|| {
                f.rt.block_on(async {
                    let mut res = client
                        .get(&url)
                        .bearer_auth(&f.token)
                        .send()
                        .await
                        .expect("export");
                    assert!(res.status().is_success());
                    let mut bytes = 0usize;
                    while let Some(chunk) = res.chunk().await.expect("chunk") {
                        bytes += chunk.len();
                    }
                    bytes
                })
            })
        });
    }
    group.finish();
}

criterion_group!(benches, overhead, chain);
criterion_main!(benches);
