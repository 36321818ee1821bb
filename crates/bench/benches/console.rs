//! Console pages on loopback at 100,000 users (issue 15: under 50 ms each): a signed-in System
//! admin's browser requests, measured end to end over HTTP (session lookup, rights, queries,
//! rendering). Run with `cargo bench -p rolecall-bench --bench console`; results in BENCHMARKS.md.
//!
//! The 100,000 users are written with one multi-row INSERT per 1,000 (benchmark set-up only;
//! the server itself never writes users outside its use cases), then the snapshot is rebuilt.

use criterion::{criterion_group, criterion_main, Criterion};
use rolecall::config::Config;
use rolecall::directory::signin::ClientInfo;
use rolecall::directory::{Directory, NewRole, SystemClock};
use rolecall::store::Db;
use rolecall::Server;
use rolecall_core::model::{ActionSet, Grant};
use std::sync::Arc;
use std::time::Duration;

const USERS: usize = 100_000;
const PASSWORD: &str = "a long and unusual Passphrase 2026";

struct Fixture {
    rt: tokio::runtime::Runtime,
    server: Server,
    cookie: String,
    user_id: String,
    role_id: String,
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
    let (server, cookie, user_id, role_id) = rt.block_on(async {
        let db = Db::connect(None, &config.data_dir).await.expect("db");
        let dir = Arc::new(Directory::open(db, Arc::new(SystemClock), vec![]).await.expect("directory"));
        let org = dir.create_org("bench", "Bench").await.expect("org");
        let operator = rolecall::auth::OrgAdmin::operator(org.clone());
        let (mut settings, _) = dir.settings(&org).await.expect("settings");
        settings.require_2fa = false;
        settings.account_sharing = true;
        dir.put_settings(&operator, settings, None).await.expect("settings");
        let role = dir
            .create_role(
                &operator,
                NewRole {
                    application: "commerce-admin".into(),
                    name: "Sales".into(),
                    description: None,
                    grants: vec![Grant { resource: "Magento_Sales::sales".into(), actions: ActionSet::All }],
                    scopes: vec![],
                },
            )
            .await
            .expect("role");
        let now = dir.now();
        let mut c = dir.db.pool.acquire().await.expect("conn");
        for chunk in 0..USERS / 1000 {
            let mut sql = String::from("INSERT INTO users (id, org_id, username, username_key, email, email_key, first_name, last_name, first_name_key, last_name_key, locale, locale_key, status, version, created_at, updated_at, last_sign_in_at) VALUES ");
            for k in 0..1000 {
                let i = chunk * 1000 + k;
                let id = uuid::Uuid::new_v4();
                let status = if i % 10 == 0 { "inactive" } else { "active" };
                sql.push_str(&format!(
                    "{}('{id}', '{}', 'user{i:06}@example.com', 'user{i:06}@example.com', 'user{i:06}@example.com', 'user{i:06}@example.com', 'First{i}', 'Last{i}', 'first{i}', 'last{i}', 'en_US', 'en-us', '{status}', 1, {now}, {now}, {})",
                    if k == 0 { "" } else { ", " },
                    org.id,
                    now - (i as i64) * 60_000,
                ));
            }
            sqlx::query(&sql).execute(&mut *c).await.expect("insert users");
        }
        drop(c);
        dir.recompile(org.id).await.expect("recompile");
        let admin = dir
            .create_user(&operator, rolecall::directory::NewUser { email: "admin@example.com".into(), ..Default::default() })
            .await
            .expect("admin");
        dir.grant_system_admin(&operator, admin.id).await.expect("system admin");
        dir.set_password(&operator, admin.id, PASSWORD, &ClientInfo::default()).await.expect("password");
        dir.assign_role(&operator, admin.id, role.id).await.expect("assign");
        let signed = dir.sign_in(&org, "admin@example.com", PASSWORD, &ClientInfo::default()).await.expect("sign in");
        let server = Server::start_with(&config, dir).await.expect("server");
        (server, format!("rolecall_session={}", signed.token), admin.id.to_string(), role.id.to_string())
    });
    Fixture {
        rt,
        server,
        cookie,
        user_id,
        role_id,
        _dir: dir,
    }
}

/// The address of the page reached by following "Next" `hops` times from the first page: the
/// list pages by sealed position, so there is no page number to ask for.
fn deep_page(f: &Fixture, client: &reqwest::Client, base: &str, hops: usize) -> String {
    let mut path = "/console/users".to_string();
    for _ in 0..hops {
        let body =
            f.rt.block_on(async {
                client
                    .get(format!("{base}{path}"))
                    .header("cookie", &f.cookie)
                    .send()
                    .await?
                    .text()
                    .await
            })
            .expect("page");
        let at = body.find("rel=\"next\" href=\"").expect("a Next link") + 17;
        let end = body[at..].find('"').expect("end of link") + at;
        path = body[at..end].replace("&amp;", "&");
    }
    path
}

fn pages(c: &mut Criterion) {
    let f = fixture();
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client");
    let base = format!("http://{}", f.server.addr);
    let mut group = c.benchmark_group(format!("console page at {USERS} users"));
    group
        .measurement_time(Duration::from_secs(8))
        .sample_size(30);
    let paths = [
        ("users, first page", "/console/users".to_string()),
        ("users, search", "/console/users?q=user04217".to_string()),
        ("users, status filter", "/console/users?status=inactive".to_string()),
        ("users, role filter", format!("/console/users?role={}", f.role_id)),
        ("users, page 1000 (Next link)", deep_page(&f, &client, &base, 999)),
        ("users, search by last name", "/console/users?q=last4217".to_string()),
        ("user page", format!("/console/users/{}", f.user_id)),
        ("user roles tab", format!("/console/users/{}/roles", f.user_id)),
        ("role editor (231-node tree)", format!("/console/roles/{}", f.role_id)),
        ("explain", "/console/explain?user=admin%40example.com&app=commerce-admin&resource=Magento_Sales%3A%3Asales_order&scope=global".to_string()),
        ("administrators", "/console/admins".to_string()),
    ];
    for (name, path) in &paths {
        let url = format!("{base}{path}");
        // Every page must render (200) before it is timed.
        let status =
            f.rt.block_on(client.get(&url).header("cookie", &f.cookie).send())
                .expect("get")
                .status();
        assert_eq!(status, reqwest::StatusCode::OK, "{path}");
        group.bench_function(*name, |b| {
            b.iter(|| {
                f.rt.block_on(async {
                    let r = client
                        .get(&url)
                        .header("cookie", &f.cookie)
                        .send()
                        .await
                        .expect("get");
                    assert!(r.status().is_success());
                    r.bytes().await.expect("body")
                })
            })
        });
    }
    group.finish();
}

criterion_group!(benches, pages);
criterion_main!(benches);
