//! What durability costs a change on SQLite, measured on the same change in the same run: one
//! user update through its use case (validation, the rights rule, the write, the audit entry,
//! the commit), one at a time. `full` (the default) commits with `synchronous=NORMAL` and then
//! waits for a sync of the write-ahead log shared with concurrent commits (store/wal_sync.rs);
//! `per-commit` is SQLite's own `synchronous=FULL`, the log synced inside each commit; both
//! survive power loss once acknowledged. With `NORMAL` the last commits before a power loss may
//! vanish. One at a time nothing is shared: the SCIM bench's concurrent creates show the sharing.
//!
//! Run with `cargo bench -p rolecall-bench --bench durability`; results go to BENCHMARKS.md.

use criterion::{criterion_group, criterion_main, Criterion};
use rolecall::directory::{Directory, NewUser, OrgAdmin, SystemClock, UserPatch};
use rolecall::store::{Db, DbOptions, Synchronous};
use std::sync::Arc;
use std::time::Duration;

fn updates(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let mut group = c.benchmark_group("sqlite_commit");
    group.measurement_time(Duration::from_secs(8));
    for (label, synchronous) in [
        ("full (group sync, the default)", Synchronous::Full),
        (
            "per-commit (SQLite's synchronous=FULL)",
            Synchronous::PerCommit,
        ),
        ("synchronous=NORMAL", Synchronous::Normal),
    ] {
        let data = tempfile::tempdir().expect("tempdir");
        let (dir, admin, user) = rt.block_on(async {
            let options = DbOptions {
                sqlite_synchronous: synchronous,
                ..Default::default()
            };
            let db = Db::connect_with(None, data.path(), options)
                .await
                .expect("db");
            let dir = Directory::open(db, Arc::new(SystemClock), vec![])
                .await
                .expect("directory");
            let org = dir.create_org("bench", "Bench").await.expect("org");
            let admin = OrgAdmin::operator(org);
            let user = dir
                .create_user(
                    &admin,
                    NewUser {
                        email: "pat@bench.example".into(),
                        notify: Some(false),
                        ..Default::default()
                    },
                )
                .await
                .expect("user");
            (dir, admin, user.id)
        });
        let mut flip = false;
        group.bench_function(format!("update_user, {label}"), |b| {
            b.iter(|| {
                flip = !flip;
                let patch = UserPatch {
                    first_name: Some(if flip { "Pat" } else { "Patricia" }.into()),
                    ..Default::default()
                };
                rt.block_on(dir.update_user(&admin, user, patch, None, None, &Default::default()))
                    .expect("update")
            })
        });
    }
    group.finish();
}

criterion_group!(benches, updates);
criterion_main!(benches);
