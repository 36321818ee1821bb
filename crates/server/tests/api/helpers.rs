//! `spawn_app()` and the `TestApp` client used by every integration test.

use reqwest::{Method, StatusCode};
use rolecall::config::Config;
use rolecall::directory::{Clock, Directory, SystemClock};
use rolecall::store::Db;
use rolecall::Server;
use serde_json::Value;
use std::path::PathBuf;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// Declares an async test that runs once per backend: `both!(name)` for `async fn name(b: Backend)`.
#[macro_export]
macro_rules! both {
    ($name:ident) => {
        mod $name {
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                super::$name($crate::helpers::Backend::Sqlite).await
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                super::$name($crate::helpers::Backend::Postgres).await
            }
        }
    };
}

pub struct TestApp {
    pub base: String,
    pub token: String,
    pub org: String,
    pub client: reqwest::Client,
    pub server: Server,
    pub clock: Arc<TestClock>,
    pub config: Config,
    _dir: tempfile::TempDir,
}

pub struct Reply {
    pub status: StatusCode,
    pub body: Value,
    pub headers: reqwest::header::HeaderMap,
}

impl Reply {
    /// Reads a response and checks it against the OpenAPI document (see `contract.rs`).
    pub async fn received(method: String, res: reqwest::Response) -> Reply {
        let status = res.status();
        let headers = res.headers().clone();
        let path = res.url().path().to_string();
        let text = res.text().await.expect("body");
        let content_type = headers
            .get(reqwest::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok());
        crate::contract::check(&method, &path, status.as_u16(), content_type, &text);
        Reply {
            status,
            body: serde_json::from_str(&text).unwrap_or(Value::String(text)),
            headers,
        }
    }

    pub fn etag(&self) -> String {
        self.headers
            .get("etag")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_string()
    }
    /// The (field, rule) pairs of a validation problem.
    pub fn field_errors(&self) -> Vec<(String, String)> {
        self.body["errors"]
            .as_array()
            .map(|a| {
                a.iter()
                    .map(|e| {
                        (
                            e["field"].as_str().unwrap_or("").to_string(),
                            e["rule"].as_str().unwrap_or("").to_string(),
                        )
                    })
                    .collect()
            })
            .unwrap_or_default()
    }
}

/// A fresh PostgreSQL database in the test cluster, or a panic explaining how to get one.
pub async fn pg_database() -> String {
    let base = match std::env::var("ROLECALL_TEST_PG_URL") {
        Ok(u) if !u.is_empty() => u,
        _ => panic!("ROLECALL_TEST_PG_URL is not set: run the suite with ./scripts/test, which starts a throwaway PostgreSQL"),
    };
    sqlx::any::install_default_drivers();
    let name = format!("rc_{}", uuid::Uuid::new_v4().simple());
    let mut conn = <sqlx::AnyConnection as sqlx::Connection>::connect(&base)
        .await
        .expect("connect to test PostgreSQL");
    sqlx::Executor::execute(&mut conn, format!("CREATE DATABASE {name}").as_str())
        .await
        .expect("create test database");
    match base.rsplit_once('/') {
        Some((prefix, _)) => format!("{prefix}/{name}"),
        None => panic!("unexpected ROLECALL_TEST_PG_URL {base}"),
    }
}

pub async fn config_for(backend: Backend, dir: &std::path::Path) -> Config {
    let database_url = match backend {
        Backend::Sqlite => None,
        Backend::Postgres => Some(pg_database().await),
    };
    Config {
        listen: "127.0.0.1:0".into(),
        data_dir: PathBuf::from(dir),
        database_url,
        catalogue_dir: None,
        bootstrap_token_hash: None,
        sign_in_limit_per_minute: 30,
        public_url: None,
        mail: Default::default(),
        ..Default::default()
    }
}

/// The wall clock plus an offset tests can move forward (idle timeouts, re-verification windows).
#[derive(Default)]
pub struct TestClock {
    offset_ms: AtomicI64,
}

impl TestClock {
    pub fn advance_secs(&self, secs: i64) {
        self.offset_ms.fetch_add(secs * 1000, Ordering::SeqCst);
    }
}

impl Clock for TestClock {
    fn now(&self) -> i64 {
        SystemClock.now() + self.offset_ms.load(Ordering::SeqCst)
    }
}

/// Starts a server on `config` with a movable clock.
pub async fn start_server(config: &Config, clock: Arc<TestClock>) -> Server {
    let db = Db::connect_with(config.database_url.as_deref(), &config.data_dir, config.db)
        .await
        .expect("database");
    // The key file in the data directory, as `serve` does: a restarted server opens what the
    // first one sealed.
    let keys = rolecall::keys::load(config).expect("secret key");
    let dir = Directory::open_with_keys(db, clock, vec![], keys)
        .await
        .expect("directory opens");
    Server::start_with(config, Arc::new(dir))
        .await
        .expect("server starts")
}

/// Starts a server with one organization `acme` and a server-wide bootstrap token.
pub async fn spawn_app(backend: Backend) -> TestApp {
    spawn_app_with(backend, |_| {}).await
}

/// As [`spawn_app`], with the configuration changed first (limits, timeouts, proxies).
pub async fn spawn_app_with(backend: Backend, change: impl FnOnce(&mut Config)) -> TestApp {
    static TRACING: std::sync::Once = std::sync::Once::new();
    // TEST_LOG=1 shows the server's log, including the detail behind any 500.
    TRACING.call_once(|| {
        if std::env::var_os("TEST_LOG").is_some() {
            tracing_subscriber::fmt()
                .with_env_filter("info")
                .with_test_writer()
                .init();
        }
    });
    let dir = tempfile::tempdir().expect("tempdir");
    let mut config = config_for(backend, dir.path()).await;
    change(&mut config);
    let clock = Arc::new(TestClock::default());
    let server = start_server(&config, clock.clone()).await;
    let token = server
        .dir
        .create_token("test bootstrap", None)
        .await
        .expect("token");
    server.dir.create_org("acme", "Acme").await.expect("org");
    let base = format!("http://{}", server.addr);
    TestApp {
        base,
        token,
        org: "acme".into(),
        client: reqwest::Client::new(),
        server,
        clock,
        config,
        _dir: dir,
    }
}

impl TestApp {
    /// Stops the server as `serve` does on SIGTERM (what is kept in memory is written); the
    /// data directory lives as long as the returned value.
    pub async fn shut_down(self) -> tempfile::TempDir {
        self.server.shutdown().await;
        self._dir
    }

    /// Stops the server gracefully and starts a new one on the same configuration, data
    /// directory, database and clock (what survives a restart).
    pub async fn restart(self) -> TestApp {
        let TestApp {
            token,
            org,
            client,
            server,
            clock,
            config,
            _dir,
            ..
        } = self;
        server.shutdown().await;
        let server = start_server(&config, clock.clone()).await;
        TestApp {
            base: format!("http://{}", server.addr),
            token,
            org,
            client,
            server,
            clock,
            config,
            _dir,
        }
    }

    pub fn url(&self, path: &str) -> String {
        if path.starts_with("/api") || path.starts_with("/healthz") || path.starts_with("/readyz") {
            format!("{}{}", self.base, path)
        } else {
            format!("{}/api/v1/organizations/{}{}", self.base, self.org, path)
        }
    }

    pub async fn send(
        &self,
        method: Method,
        path: &str,
        body: Option<Value>,
        headers: &[(&str, &str)],
    ) -> Reply {
        self.send_as(&self.token.clone(), method, path, body, headers)
            .await
    }

    pub async fn send_as(
        &self,
        token: &str,
        method: Method,
        path: &str,
        body: Option<Value>,
        headers: &[(&str, &str)],
    ) -> Reply {
        let verb = method.to_string();
        let mut req = self.client.request(method, self.url(path));
        if !token.is_empty() {
            req = req.bearer_auth(token);
        }
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        if let Some(b) = body {
            req = req.json(&b);
        }
        let res = req.send().await.expect("request");
        let reply = Reply::received(verb, res).await;
        assert_ne!(
            reply.status,
            StatusCode::INTERNAL_SERVER_ERROR,
            "500 from {path}: {}",
            reply.body
        );
        reply
    }

    pub async fn raw(&self, method: Method, path: &str, content_type: &str, body: &str) -> Reply {
        let verb = method.to_string();
        let res = self
            .client
            .request(method, self.url(path))
            .bearer_auth(&self.token)
            .header("content-type", content_type)
            .body(body.to_string())
            .send()
            .await
            .expect("request");
        Reply::received(verb, res).await
    }

    pub async fn get(&self, path: &str) -> Reply {
        self.send(Method::GET, path, None, &[]).await
    }
    pub async fn post(&self, path: &str, body: Value) -> Reply {
        self.send(Method::POST, path, Some(body), &[]).await
    }
    pub async fn patch(&self, path: &str, body: Value) -> Reply {
        self.send(Method::PATCH, path, Some(body), &[]).await
    }
    pub async fn put(&self, path: &str, body: Value) -> Reply {
        self.send(Method::PUT, path, Some(body), &[]).await
    }
    pub async fn delete(&self, path: &str) -> Reply {
        self.send(Method::DELETE, path, None, &[]).await
    }

    /// Creates a user and returns its id.
    pub async fn user(&self, email: &str) -> String {
        let r = self
            .post("/users", serde_json::json!({ "email": email }))
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
        r.body["id"].as_str().expect("id").to_string()
    }

    /// Creates a role and returns its id.
    pub async fn role(&self, app: &str, name: &str, grants: Value, scopes: Value) -> String {
        let r = self.post("/roles", serde_json::json!({ "application": app, "name": name, "grants": grants, "scopes": scopes })).await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
        r.body["id"].as_str().expect("id").to_string()
    }

    /// Creates a `commerce-admin` role (one role per user there) allowing one resource of the
    /// Magento tree everywhere, and returns its id.
    pub async fn commerce_role(&self, name: &str, resource: &str) -> String {
        let grants = serde_json::json!([{ "resource": resource }]);
        self.role("commerce-admin", name, grants, serde_json::json!([]))
            .await
    }

    pub async fn group(&self, name: &str) -> String {
        let r = self
            .post("/groups", serde_json::json!({ "name": name }))
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
        r.body["id"].as_str().expect("id").to_string()
    }

    /// The id of a role by application and name.
    pub async fn role_id(&self, app: &str, name: &str) -> String {
        let r = self.get(&format!("/roles?application={app}")).await;
        r.body["items"]
            .as_array()
            .expect("items")
            .iter()
            .find(|x| x["name"] == name)
            .expect("role exists")["id"]
            .as_str()
            .expect("id")
            .to_string()
    }

    /// Runs a check and returns "allow" or "deny".
    pub async fn decide(
        &self,
        user: &str,
        app: &str,
        resource: &str,
        action: Option<&str>,
        scope: Option<&str>,
    ) -> String {
        let r = self.post("/check", serde_json::json!({ "user_id": user, "application": app, "resource": resource, "action": action, "scope": scope })).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        r.body["decision"].as_str().expect("decision").to_string()
    }
}

/// The TOTP code for `secret` at the test clock's time plus `offset_secs`.
pub fn totp_code(secret: &str, app: &TestApp, offset_secs: i64) -> String {
    use totp_rs::{Algorithm, Secret, TOTP};
    let bytes = Secret::Encoded(secret.to_string())
        .to_bytes()
        .expect("base32 secret");
    let totp = TOTP::new_unchecked(
        Algorithm::SHA1,
        6,
        1,
        30,
        bytes,
        Some("rolecall".into()),
        "t".into(),
    );
    let now = (app.clock.now() / 1000 + offset_secs) as u64;
    totp.generate(now)
}

/// A signed-in user: their id, password and (full-stage) session token.
pub struct Person {
    pub id: String,
    pub password: String,
    pub token: String,
}

impl TestApp {
    /// Creates a user with a password. With `system_admin` they also get the System admin right.
    pub async fn person(&self, email: &str, system_admin: bool) -> (String, String) {
        let id = self.user(email).await;
        // Unique per person, in digits: hex from the id could spell a short e-mail's local
        // part ("ada" once in ~700 ids), which the password policy refuses.
        let unique = u32::from_str_radix(&id[..8], 16).expect("hex id");
        let password = format!("Tr0ub4dor&3-{unique}-horse-staple");
        let r = self
            .put(
                &format!("/users/{id}/password"),
                serde_json::json!({ "password": password }),
            )
            .await;
        assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.body);
        if system_admin {
            let org = self.server.dir.org(&self.org).await.expect("org");
            self.server
                .dir
                .grant_system_admin(
                    &rolecall::auth::OrgAdmin::operator(org),
                    id.parse().expect("uuid"),
                )
                .await
                .expect("grant");
        }
        (id, password)
    }

    /// Turns off the 2FA requirement so sign-in is one step (tests that are not about 2FA).
    pub async fn without_2fa(&self) {
        let mut settings = self.get("/settings").await.body;
        settings["require_2fa"] = serde_json::json!(false);
        settings["account_sharing"] = serde_json::json!(true);
        let r = self.put("/settings", settings).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    }

    pub async fn sign_in(&self, login: &str, password: &str) -> Reply {
        self.send_as(
            "",
            Method::POST,
            "/sign-in",
            Some(serde_json::json!({ "login": login, "password": password })),
            &[],
        )
        .await
    }

    /// Signs in a person whose organization does not require 2FA.
    pub async fn signed_in(&self, email: &str, system_admin: bool) -> Person {
        let (id, password) = self.person(email, system_admin).await;
        let r = self.sign_in(email, &password).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        assert_eq!(r.body["stage"], "full", "call without_2fa() first");
        Person {
            id,
            password,
            token: r.body["token"].as_str().expect("token").to_string(),
        }
    }
}
