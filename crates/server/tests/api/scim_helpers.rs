//! A SCIM client for the tests: a SCIM client token and requests to `/scim/v2`.

use crate::helpers::TestApp;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

pub struct Scim<'a> {
    pub app: &'a TestApp,
    pub token: String,
    pub client_id: String,
}

pub struct ScimReply {
    pub status: StatusCode,
    pub body: Value,
    pub headers: reqwest::header::HeaderMap,
}

impl ScimReply {
    pub fn header(&self, name: &str) -> String {
        self.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_string()
    }
    pub fn id(&self) -> String {
        self.body["id"].as_str().expect("id").to_string()
    }
}

/// Creates a SCIM client with the operator's token and returns its connection.
pub async fn scim_client<'a>(app: &'a TestApp, name: &str) -> Scim<'a> {
    let r = app.post("/scim-clients", json!({ "name": name })).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    Scim {
        app,
        token: r.body["secret"].as_str().unwrap().to_string(),
        client_id: r.body["client"]["id"].as_str().unwrap().to_string(),
    }
}

impl Scim<'_> {
    pub async fn send(
        &self,
        method: Method,
        path: &str,
        body: Option<Value>,
        headers: &[(&str, &str)],
    ) -> ScimReply {
        let url = format!("{}/scim/v2{}", self.app.base, path);
        let mut req = self
            .app
            .client
            .request(method, url)
            .bearer_auth(&self.token);
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        if let Some(b) = body {
            req = req
                .header("content-type", "application/scim+json")
                .body(b.to_string());
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
        if !status.is_success() && status != StatusCode::NOT_MODIFIED {
            assert_eq!(
                headers.get("content-type").and_then(|v| v.to_str().ok()),
                Some("application/scim+json"),
                "errors are SCIM errors: {path} {body}"
            );
            assert_eq!(
                body["schemas"][0], "urn:ietf:params:scim:api:messages:2.0:Error",
                "{body}"
            );
            assert_eq!(body["status"], status.as_u16().to_string(), "{body}");
        }
        ScimReply {
            status,
            body,
            headers,
        }
    }

    pub async fn get(&self, path: &str) -> ScimReply {
        self.send(Method::GET, path, None, &[]).await
    }
    pub async fn post(&self, path: &str, body: Value) -> ScimReply {
        self.send(Method::POST, path, Some(body), &[]).await
    }
    pub async fn put(&self, path: &str, body: Value) -> ScimReply {
        self.send(Method::PUT, path, Some(body), &[]).await
    }
    pub async fn patch(&self, path: &str, body: Value) -> ScimReply {
        self.send(Method::PATCH, path, Some(body), &[]).await
    }
    pub async fn delete(&self, path: &str) -> ScimReply {
        self.send(Method::DELETE, path, None, &[]).await
    }

    /// `GET /Users?filter=…` (URL-encoded), returning the list body.
    pub async fn find(&self, resource: &str, filter: &str, extra: &str) -> Value {
        let q = url_encode(filter);
        let r = self.get(&format!("/{resource}?filter={q}{extra}")).await;
        assert_eq!(r.status, StatusCode::OK, "{filter}: {}", r.body);
        r.body
    }
}

pub fn url_encode(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

pub fn patch_op(ops: Value) -> Value {
    json!({ "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"], "Operations": ops })
}
