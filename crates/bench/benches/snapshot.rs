//! One directory change at 10,000 and 100,000 users (issue 14: a change's cost must not grow
//! with the organisation), in process on SQLite with `synchronous = FULL`: a membership added
//! or removed, a user created, a user deactivated or reactivated, each committed and published
//! before it returns, next to what every change cost before (compiling the whole organisation
//! from the store) and the in-memory derivation alone.
//!
//! Run with `cargo bench -p rolecall-bench --bench snapshot`; `SNAPSHOT_SIZES=10000` limits the
//! sizes. The users are written with one multi-row INSERT per 1,000 (set-up only, as in the
//! console benchmark); one in ten is a member of the group the changes use.

use criterion::{criterion_group, criterion_main, Criterion};
use rolecall::directory::signin::ClientInfo;
use rolecall::directory::{Directory, NewRole, NewUser, OrgAdmin, SystemClock, UserPatch};
use rolecall::store::Db;
use rolecall_core::authz::UserRights;
use rolecall_core::model::{ActionSet, Grant, GroupId, OrgId, UserId, UserStatus};
use std::sync::Arc;
use std::time::Duration;

struct Fixture {
    rt: tokio::runtime::Runtime,
    dir: Arc<Directory>,
    org: OrgId,
    admin: OrgAdmin,
    group: GroupId,
    probe: UserId,
    _tmp: tempfile::TempDir,
}

fn fixture(users: usize) -> Fixture {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let tmp = tempfile::tempdir().expect("tempdir");
    let (dir, org, admin, group, probe) = rt.block_on(async {
        let db = Db::connect(None, tmp.path()).await.expect("db");
        let dir = Arc::new(
            Directory::open(db, Arc::new(SystemClock), vec![])
                .await
                .expect("directory"),
        );
        let org = dir.create_org("bench", "Bench").await.expect("org");
        let admin = OrgAdmin::operator(org.clone());
        let role = dir
            .create_role(
                &admin,
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
        let group = dir.create_group(&admin, "Sales team", None).await.expect("group");
        dir.add_group_role(&admin, group.id, role.id)
            .await
            .expect("group role");
        let now = dir.now();
        let mut c = dir.db.pool.acquire().await.expect("conn");
        for chunk in 0..users.div_ceil(1000) {
            let mut sql = String::from("INSERT INTO users (id, org_id, username, username_key, email, email_key, first_name, last_name, locale, status, version, created_at, updated_at) VALUES ");
            let mut members = String::from(
                "INSERT INTO group_members (group_id, user_id, org_id, created_at) VALUES ",
            );
            for k in 0..1000.min(users - chunk * 1000) {
                let i = chunk * 1000 + k;
                let id = uuid::Uuid::new_v4();
                sql.push_str(&format!(
                    "{}('{id}', '{}', 'user{i:06}@example.com', 'user{i:06}@example.com', 'user{i:06}@example.com', 'user{i:06}@example.com', 'First{i}', 'Last{i}', 'en_US', 'active', 1, {now}, {now})",
                    if k == 0 { "" } else { ", " },
                    org.id,
                ));
                if k % 10 == 0 {
                    members.push_str(&format!(
                        "{}('{}', '{id}', '{}', {now})",
                        if k == 0 { "" } else { ", " },
                        group.id,
                        org.id
                    ));
                }
            }
            sqlx::query(&sql).execute(&mut *c).await.expect("insert users");
            sqlx::query(&members)
                .execute(&mut *c)
                .await
                .expect("insert members");
        }
        drop(c);
        dir.recompile(org.id).await.expect("recompile");
        let probe = dir
            .create_user(
                &admin,
                NewUser {
                    email: "probe@example.com".into(),
                    ..Default::default()
                },
            )
            .await
            .expect("probe");
        (dir, org.id, admin, group.id, probe.id)
    });
    Fixture {
        rt,
        dir,
        org,
        admin,
        group,
        probe,
        _tmp: tmp,
    }
}

fn sizes() -> Vec<usize> {
    std::env::var("SNAPSHOT_SIZES")
        .ok()
        .map(|v| v.split(',').filter_map(|s| s.trim().parse().ok()).collect())
        .unwrap_or_else(|| vec![10_000, 100_000])
}

fn one_change(c: &mut Criterion) {
    for users in sizes() {
        let f = fixture(users);
        let mut group = c.benchmark_group(format!("one change at {users} users"));
        group.sample_size(30);
        group.measurement_time(Duration::from_secs(8));

        let mut member = false;
        group.bench_function("add or remove a group member", |b| {
            b.iter(|| {
                f.rt.block_on(async {
                    if member {
                        f.dir
                            .remove_member(&f.admin, f.group, f.probe)
                            .await
                            .expect("remove");
                    } else {
                        f.dir
                            .add_member(&f.admin, f.group, f.probe)
                            .await
                            .expect("add");
                    }
                });
                member = !member;
            })
        });

        let mut active = true;
        group.bench_function("deactivate or reactivate a user", |b| {
            b.iter(|| {
                let status = if active { "inactive" } else { "active" };
                f.rt.block_on(f.dir.update_user(
                    &f.admin,
                    f.probe,
                    UserPatch {
                        status: Some(status.into()),
                        ..Default::default()
                    },
                    None,
                    None,
                    &ClientInfo::default(),
                ))
                .expect("status");
                active = !active;
            })
        });

        let mut next = 0u64;
        group.bench_function("create a user", |b| {
            b.iter(|| {
                next += 1;
                f.rt.block_on(f.dir.create_user(
                    &f.admin,
                    NewUser {
                        email: format!("new{next}@example.com"),
                        ..Default::default()
                    },
                ))
                .expect("create");
            })
        });

        group.bench_function("derive the snapshot for one user (in memory only)", |b| {
            let current = f.rt.block_on(f.dir.snapshot(f.org)).expect("snapshot");
            let rows = [UserRights {
                id: f.probe,
                status: UserStatus::Active,
                roles: vec![],
                groups: vec![f.group],
                seats: vec![],
            }];
            b.iter(|| std::hint::black_box(current.snapshot.with_users(&rows)))
        });

        group.bench_function(
            "compile the whole organisation (what each change cost before)",
            |b| b.iter(|| f.rt.block_on(f.dir.recompile(f.org)).expect("recompile")),
        );
        group.finish();
        let (full, incremental) = f.dir.compile_counts();
        eprintln!("{users} users: {full} full compiles, {incremental} incremental updates");
    }
}

criterion_group!(benches, one_change);
criterion_main!(benches);
