//! What a thread hand-off per statement costs a SQLite write (issues 12 and 14), on the same
//! SQLite build: one transaction shaped like a SCIM create (BEGIN IMMEDIATE, a settings read,
//! a sign-in name, a user, an e-mail, the epoch, the audit chain's head, an audit entry, the
//! change counter, COMMIT), run three ways from a tokio task:
//!
//! - through sqlx, as rolecall's store runs it: each statement is a round trip to the
//!   connection's own thread;
//! - through sqlx with the whole transaction as one string of statements: one round trip, but
//!   every value must be known before the transaction starts;
//! - through rusqlite, the whole transaction as one closure on a writer thread of its own:
//!   one round trip a transaction, and the code can still read in the middle of it.
//!
//! All use WAL with `synchronous=NORMAL` (no sync in the commit), so what differs is only how
//! the statements reach SQLite. rusqlite is here only to measure that; the server does not use
//! it. Run with `cargo bench -p rolecall-bench --bench handoff` (and under `taskset -c 0` to see
//! the same on one core); results go to BENCHMARKS.md.

use criterion::{criterion_group, criterion_main, Criterion};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::runtime::Runtime;
use tokio::sync::{mpsc, oneshot};

const SCHEMA: &str = "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL;
CREATE TABLE settings (org INTEGER PRIMARY KEY, body TEXT NOT NULL);
CREATE TABLE names (name TEXT PRIMARY KEY, user INTEGER NOT NULL);
CREATE TABLE users (id INTEGER PRIMARY KEY, org INTEGER, name TEXT, given TEXT, family TEXT);
CREATE INDEX users_org ON users (org, name);
CREATE TABLE emails (user INTEGER, email TEXT, PRIMARY KEY (user, email));
CREATE TABLE orgs (id INTEGER PRIMARY KEY, epoch INTEGER NOT NULL);
CREATE TABLE audit (seq INTEGER PRIMARY KEY, hash TEXT NOT NULL, body TEXT NOT NULL);
CREATE TABLE counter (n INTEGER NOT NULL);
INSERT INTO settings VALUES (1, '{}');
INSERT INTO orgs VALUES (1, 0);
INSERT INTO counter VALUES (0);
INSERT INTO audit VALUES (0, 'genesis', '');";

/// The statements between BEGIN and COMMIT; `?1` is the person's name, `?2` their number.
const STEPS: [&str; 8] = [
    "SELECT body FROM settings WHERE org = 1",
    "INSERT INTO names VALUES (?1, ?2)",
    "INSERT INTO users VALUES (?2, 1, ?1, 'Pat', 'Person')",
    "INSERT INTO emails VALUES (?2, ?1)",
    "UPDATE orgs SET epoch = epoch + 1 WHERE id = 1",
    "SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1",
    "INSERT INTO audit SELECT MAX(seq) + 1, ?1, ?2 FROM audit",
    "UPDATE counter SET n = n + 1",
];

/// Requests in flight in the concurrent runs, and what each does outside the writer lock.
const IN_FLIGHT: i64 = 8;
const OTHER_WORK: Duration = Duration::from_micros(300);

fn name(n: i64) -> String {
    format!("person{n}@bench.example")
}

async fn through_sqlx(c: &mut sqlx::SqliteConnection, n: i64) {
    let name = name(n);
    sqlx::query("BEGIN IMMEDIATE")
        .execute(&mut *c)
        .await
        .expect("begin");
    for step in STEPS {
        let mut q = sqlx::query(step);
        if step.contains("?1") {
            q = q.bind(&name).bind(n);
        }
        q.fetch_all(&mut *c).await.expect("statement");
    }
    sqlx::query("COMMIT")
        .execute(&mut *c)
        .await
        .expect("commit");
}

/// The same transaction as one string: sqlx sends it to the connection's thread as one command,
/// which runs the statements in turn (`?1` and `?2` name the same two values in each).
async fn through_sqlx_in_one_call(c: &mut sqlx::SqliteConnection, script: &str, n: i64) {
    sqlx::query(script)
        .bind(name(n))
        .bind(n)
        .fetch_all(&mut *c)
        .await
        .expect("transaction");
}

fn in_one_call(conn: &mut rusqlite::Connection, n: i64) {
    let name = name(n);
    let tx = conn
        .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
        .expect("begin");
    for step in STEPS {
        let mut statement = tx.prepare_cached(step).expect("prepare");
        let mut rows = if step.contains("?1") {
            statement.query(rusqlite::params![name, n])
        } else {
            statement.query([])
        }
        .expect("statement");
        while rows.next().expect("row").is_some() {}
    }
    tx.commit().expect("commit");
}

/// Times `iters` transactions one after another, numbering the people on from `next`.
fn one_at_a_time<F, Fut>(rt: &Runtime, next: &mut i64, iters: u64, mut transaction: F) -> Duration
where
    F: FnMut(i64) -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    rt.block_on(async {
        let t0 = Instant::now();
        for _ in 0..iters {
            *next += 1;
            transaction(*next).await;
        }
        t0.elapsed()
    })
}

fn handoff(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let data = tempfile::tempdir().expect("tempdir");
    let mut group = c.benchmark_group("sqlite_create_shaped_transaction");
    group.measurement_time(Duration::from_secs(8));

    let conn = rt.block_on(async {
        let options = sqlx::sqlite::SqliteConnectOptions::new()
            .filename(data.path().join("sqlx.db"))
            .create_if_missing(true);
        let mut conn: sqlx::SqliteConnection = sqlx::Connection::connect_with(&options)
            .await
            .expect("sqlx");
        sqlx::raw_sql(SCHEMA)
            .execute(&mut conn)
            .await
            .expect("schema");
        Arc::new(tokio::sync::Mutex::new(conn))
    });
    let mut next = 0;
    group.bench_function("sqlx, a round trip a statement", |b| {
        b.iter_custom(|iters| {
            one_at_a_time(&rt, &mut next, iters, |n| {
                let conn = conn.clone();
                async move { through_sqlx(&mut *conn.lock().await, n).await }
            })
        })
    });

    let script = format!("BEGIN IMMEDIATE; {}; COMMIT", STEPS.join("; "));
    group.bench_function("sqlx, the transaction as one string", |b| {
        b.iter_custom(|iters| {
            one_at_a_time(&rt, &mut next, iters, |n| {
                let (conn, script) = (conn.clone(), &script);
                async move { through_sqlx_in_one_call(&mut *conn.lock().await, script, n).await }
            })
        })
    });

    // As in the server: several requests in flight, each doing other work (parsing, rendering,
    // the rules in memory; here 300 µs of spinning) outside the writer lock and its transaction
    // inside. Threads kept busy may make a trip cheaper than one at a time, where each wakes an
    // idle thread.
    for (label, one_string) in [
        ("sqlx, a round trip a statement, 8 in flight", false),
        ("sqlx, the transaction as one string, 8 in flight", true),
    ] {
        group.bench_function(label, |b| {
            b.iter_custom(|iters| {
                let start = next + 1;
                next += iters as i64;
                rt.block_on(async {
                    let t0 = Instant::now();
                    let mut lanes = tokio::task::JoinSet::new();
                    for lane in 0..IN_FLIGHT {
                        let (conn, script) = (conn.clone(), script.clone());
                        lanes.spawn(async move {
                            let mut n = start + lane;
                            while n < start + iters as i64 {
                                let busy = Instant::now();
                                while busy.elapsed() < OTHER_WORK {
                                    std::hint::spin_loop();
                                }
                                let mut c = conn.lock().await;
                                if one_string {
                                    through_sqlx_in_one_call(&mut c, &script, n).await;
                                } else {
                                    through_sqlx(&mut c, n).await;
                                }
                                n += IN_FLIGHT;
                            }
                        });
                    }
                    while let Some(lane) = lanes.join_next().await {
                        lane.expect("lane");
                    }
                    t0.elapsed()
                })
            })
        });
    }

    let (send, mut jobs) = mpsc::channel::<(i64, oneshot::Sender<()>)>(64);
    let path = data.path().join("rusqlite.db");
    let writer = std::thread::spawn(move || {
        let mut conn = rusqlite::Connection::open(path).expect("rusqlite");
        conn.execute_batch(SCHEMA).expect("schema");
        while let Some((n, done)) = jobs.blocking_recv() {
            in_one_call(&mut conn, n);
            let _ = done.send(());
        }
    });
    let mut next = 0;
    group.bench_function("rusqlite, a round trip a transaction", |b| {
        b.iter_custom(|iters| {
            one_at_a_time(&rt, &mut next, iters, |n| {
                let send = &send;
                async move {
                    let (done, finished) = oneshot::channel();
                    send.send((n, done)).await.expect("writer");
                    finished.await.expect("transaction");
                }
            })
        })
    });
    group.finish();
    drop(send);
    writer.join().expect("writer thread");
}

criterion_group!(benches, handoff);
criterion_main!(benches);
