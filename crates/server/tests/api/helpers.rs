//! `spawn_app()` and the `TestApp` client used by every integration test.

use reqwest::{Method, StatusCode};
use rolecall::config::Config;
use rolecall::Server;
use serde_json::Value;
use std::path::PathBuf;

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
    _dir: tempfile::TempDir,
}

pub struct Reply {
    pub status: StatusCode,
    pub body: Value,
    pub headers: reqwest::header::HeaderMap,
}

impl Reply {
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
    }
}

/// Starts a server with one organization `acme` and a server-wide bootstrap token.
pub async fn spawn_app(backend: Backend) -> TestApp {
    let dir = tempfile::tempdir().expect("tempdir");
    let config = config_for(backend, dir.path()).await;
    let server = Server::start(&config).await.expect("server starts");
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
        _dir: dir,
    }
}

impl TestApp {
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
        let status = res.status();
        let headers = res.headers().clone();
        let text = res.text().await.expect("body");
        let body = serde_json::from_str(&text).unwrap_or(Value::String(text));
        assert_ne!(
            status,
            StatusCode::INTERNAL_SERVER_ERROR,
            "500 from {path}: {body}"
        );
        Reply {
            status,
            body,
            headers,
        }
    }

    pub async fn raw(&self, method: Method, path: &str, content_type: &str, body: &str) -> Reply {
        let res = self
            .client
            .request(method, self.url(path))
            .bearer_auth(&self.token)
            .header("content-type", content_type)
            .body(body.to_string())
            .send()
            .await
            .expect("request");
        let status = res.status();
        let headers = res.headers().clone();
        let text = res.text().await.expect("body");
        Reply {
            status,
            body: serde_json::from_str(&text).unwrap_or(Value::String(text)),
            headers,
        }
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
