//! The OpenAPI document itself (issue 10): valid OpenAPI 3.1 by the official schema, every Schema
//! Object a valid JSON Schema 2020-12, the house rules that generated clients rely on, and the
//! shared errors it promises really answered by every operation.

use crate::both;
use crate::contract::contract;
use crate::helpers::{spawn_app, Backend};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use std::collections::BTreeSet;

/// The official schema of OpenAPI 3.1 documents (see `tests/openapi/README.md`).
const SCHEMA_FILE: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/openapi/oas-3.1-schema-2022-10-07.json"
);

const METHODS: [&str; 5] = ["get", "put", "post", "patch", "delete"];

fn doc() -> &'static Value {
    contract().document()
}

/// Every operation: (method, template, operation object).
fn operations() -> Vec<(&'static str, &'static str, &'static Value)> {
    let mut out = Vec::new();
    for (template, item) in doc()["paths"].as_object().expect("paths") {
        for m in METHODS {
            if let Some(op) = item.get(m) {
                out.push((m, template.as_str(), op));
            }
        }
    }
    out
}

#[test]
fn the_document_is_valid_openapi_3_1() {
    let schema: Value =
        serde_json::from_str(&std::fs::read_to_string(SCHEMA_FILE).expect("vendored schema"))
            .expect("schema is JSON");
    let validator = jsonschema::options()
        .with_draft(jsonschema::Draft::Draft202012)
        .should_validate_formats(true)
        .build(&schema)
        .expect("the OpenAPI 3.1 schema compiles");
    let errors: Vec<String> = validator
        .iter_errors(doc())
        .map(|e| format!("{}: {e}", e.instance_path))
        .take(20)
        .collect();
    assert!(errors.is_empty(), "not OpenAPI 3.1:\n{}", errors.join("\n"));
    assert!(doc()["openapi"].as_str().unwrap().starts_with("3.1."));

    // The check can fail: a query parameter documented as a path parameter is refused.
    let mut broken = doc().clone();
    broken["paths"]["/api/v1/organizations/{org}/users"]["get"]["parameters"][1]["in"] =
        json!("somewhere");
    assert!(!validator.is_valid(&broken));
}

#[test]
fn every_schema_is_a_valid_json_schema_2020_12() {
    let mut bad = Vec::new();
    for (name, schema) in doc()["components"]["schemas"].as_object().unwrap() {
        if !jsonschema::meta::is_valid(schema) {
            bad.push(name.clone());
        }
    }
    assert!(bad.is_empty(), "invalid schemas: {bad:?}");
}

/// Every `$ref` in `v`.
fn refs(v: &Value, out: &mut Vec<String>) {
    match v {
        Value::Object(m) => {
            for (k, child) in m {
                if k == "$ref" {
                    out.extend(child.as_str().map(str::to_string));
                } else {
                    refs(child, out);
                }
            }
        }
        Value::Array(a) => a.iter().for_each(|x| refs(x, out)),
        _ => {}
    }
}

#[test]
fn the_document_follows_the_rules_clients_rely_on() {
    let mut problems = Vec::new();
    let mut ids = BTreeSet::new();
    let mut all_refs = Vec::new();
    refs(doc(), &mut all_refs);
    for r in &all_refs {
        let resolves = r.strip_prefix('#').and_then(|p| doc().pointer(p)).is_some();
        if !resolves {
            problems.push(format!("$ref {r} resolves to nothing"));
        }
    }
    for (m, template, op) in operations() {
        let name = format!("{} {template}", m.to_uppercase());
        match op["operationId"].as_str() {
            Some(id) if ids.insert(id.to_string()) => {}
            other => problems.push(format!("{name}: operationId {other:?} missing or repeated")),
        }
        let params = op["parameters"].as_array().cloned().unwrap_or_default();
        let in_template: BTreeSet<String> = template
            .split('/')
            .filter_map(|s| s.strip_prefix('{').and_then(|s| s.strip_suffix('}')))
            .map(str::to_string)
            .collect();
        let declared: BTreeSet<String> = params
            .iter()
            .filter(|p| p["in"] == "path")
            .filter_map(|p| p["name"].as_str().map(str::to_string))
            .collect();
        if in_template != declared {
            problems.push(format!(
                "{name}: path parameters {declared:?}, template has {in_template:?}"
            ));
        }
        for p in &params {
            if p["in"] == "query" && p["required"] == true && p["schema"]["type"].is_array() {
                problems.push(format!(
                    "{name}: optional query {} marked required",
                    p["name"]
                ));
            }
        }
        let responses = op["responses"].as_object().expect("responses");
        for (status, r) in responses {
            let r = match r["$ref"].as_str() {
                Some(p) => doc().pointer(&p[1..]).expect("resolves"),
                None => r,
            };
            if status.starts_with('4') || status.starts_with('5') {
                let content = r["content"].as_object().cloned().unwrap_or_default();
                let keys: Vec<&String> = content.keys().collect();
                if keys != ["application/problem+json"]
                    || content["application/problem+json"]["schema"]["$ref"]
                        != "#/components/schemas/Problem"
                {
                    problems.push(format!("{name} {status}: not a problem document: {keys:?}"));
                }
            }
            if r["description"].as_str().is_none_or(str::is_empty) {
                problems.push(format!("{name} {status}: no description"));
            }
        }
        let secured = !op["security"].as_array().is_some_and(|a| {
            a.iter()
                .any(|r| r.as_object().is_some_and(|o| o.is_empty()))
        });
        let mut wanted = vec!["500"];
        if secured {
            wanted.extend(["401", "403"]);
        }
        if !in_template.is_empty() {
            wanted.push("404");
        }
        if op.get("requestBody").is_some() {
            wanted.extend(["400", "413", "415", "422"]);
        }
        if params.iter().any(|p| p["in"] == "query") {
            wanted.push("422");
        }
        if params
            .iter()
            .any(|p| p["in"] == "header" && p["name"] == "If-Match")
        {
            wanted.extend(["400", "412"]);
        }
        for w in wanted {
            if !responses.contains_key(w) {
                problems.push(format!("{name}: {w} not documented"));
            }
        }
        if !responses.keys().any(|s| s.starts_with('2')) {
            problems.push(format!("{name}: no success response"));
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

/// A request path for `template` with made-up parameters: the real organization, unknown ids.
fn fill(template: &str, org: &str) -> String {
    template
        .split('/')
        .map(|s| match s {
            "{org}" => org.to_string(),
            "{key}" | "{app}" => "commerce-admin".to_string(),
            "{code}" => "no-such-scope".to_string(),
            s if s.starts_with('{') => uuid::Uuid::new_v4().to_string(),
            s => s.to_string(),
        })
        .collect::<Vec<_>>()
        .join("/")
}

/// The shared errors the document promises (see `http::openapi`) are what the server answers,
/// operation by operation; every answer also goes through the contract check.
async fn every_operation_answers_the_errors_it_documents(b: Backend) {
    let app = spawn_app(b).await;
    let huge = format!("{{\"x\":\"{}\"}}", "a".repeat(1024 * 1024 + 16));
    for (m, template, op) in operations() {
        let method = Method::from_bytes(m.to_uppercase().as_bytes()).unwrap();
        let name = format!("{} {template}", m.to_uppercase());
        let path = fill(template, &app.org);
        let body = op.get("requestBody").map(|_| json!({}));
        let secured = !op["security"].as_array().is_some_and(|a| {
            a.iter()
                .any(|r| r.as_object().is_some_and(|o| o.is_empty()))
        });
        if secured {
            let r = app
                .send_as("", method.clone(), &path, body.clone(), &[])
                .await;
            assert_eq!(r.status, StatusCode::UNAUTHORIZED, "{name} without a token");
            assert_eq!(
                r.headers["www-authenticate"], "Bearer realm=\"rolecall\"",
                "{name}"
            );
        }
        let required_query = op["parameters"]
            .as_array()
            .into_iter()
            .flatten()
            .any(|p| p["in"] == "query" && p["required"] == true);
        if template.contains("{org}") && secured && body.is_none() && !required_query {
            let elsewhere = fill(template, "no-such-org");
            let r = app.send(method.clone(), &elsewhere, None, &[]).await;
            assert_eq!(r.status, StatusCode::NOT_FOUND, "{name} in an unknown org");
        }
        // JSON bodies; a streamed upload (`text/csv`) has its own limits and tests.
        if op["requestBody"]["content"]
            .get("application/json")
            .is_some()
        {
            let r = app.raw(method.clone(), &path, "text/plain", "{}").await;
            assert_eq!(
                r.status,
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "{name} as text"
            );
            let r = app
                .raw(method.clone(), &path, "application/json", "{\"open")
                .await;
            assert_eq!(r.status, StatusCode::BAD_REQUEST, "{name} with broken JSON");
            let r = app
                .raw(method.clone(), &path, "application/json", &huge)
                .await;
            assert_eq!(r.status, StatusCode::PAYLOAD_TOO_LARGE, "{name} with 1 MiB");
        }
    }
    // Not operations: the fallback and a method the path lacks answer problems too.
    let r = app.get("/api/v1/no-such-thing").await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    let r = app.send(Method::PUT, "/healthz", None, &[]).await;
    assert_eq!(r.status, StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(r.body["code"], "method_not_allowed");
}
both!(every_operation_answers_the_errors_it_documents);

async fn the_served_document_is_the_contract(b: Backend) {
    let app = spawn_app(b).await;
    let r = app
        .send_as("", Method::GET, "/api/v1/openapi.json", None, &[])
        .await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(&r.body, doc());
    let r = app.send_as("", Method::GET, "/healthz", None, &[]).await;
    assert_eq!((r.status, r.body), (StatusCode::OK, json!("ok")));
    let r = app.send_as("", Method::GET, "/readyz", None, &[]).await;
    assert_eq!((r.status, r.body), (StatusCode::OK, json!("ready")));
}
both!(the_served_document_is_the_contract);

/// The contract check itself can fail: an undocumented status, a wrong content type, a body
/// off its schema and an undocumented field are each caught.
#[test]
fn the_contract_check_catches_what_it_should() {
    let c = contract();
    let users = "/api/v1/organizations/acme/users";
    let page = r#"{"items":[],"page":1,"per_page":50,"total":0}"#;
    assert!(c
        .verify("GET", users, 200, Some("application/json"), page)
        .is_ok());
    assert!(c
        .verify("GET", users, 418, Some("application/json"), page)
        .is_err());
    assert!(c
        .verify("GET", users, 200, Some("text/html"), page)
        .is_err());
    assert!(c
        .verify(
            "GET",
            users,
            200,
            Some("application/json"),
            r#"{"items":[]}"#
        )
        .is_err());
    let extra = r#"{"items":[],"page":1,"per_page":50,"total":0,"secret":"x"}"#;
    assert!(c
        .verify("GET", users, 200, Some("application/json"), extra)
        .is_err());
    let problem = r#"{"type":"urn:rolecall:problem:x","title":"Not Found","status":404,"detail":"d","code":"x"}"#;
    assert!(c
        .verify(
            "GET",
            &format!("{users}/1"),
            404,
            Some("application/problem+json"),
            problem
        )
        .is_ok());
    assert!(c
        .verify(
            "GET",
            &format!("{users}/1"),
            404,
            Some("application/json"),
            problem
        )
        .is_err());
}

/// The schemas of the core's parsed names say what their parsers accept, on the seeds' cases.
#[test]
fn name_schemas_agree_with_their_parsers() {
    use rolecall_core::validate::{Email, Locale, ScopeCode, Slug, Username};
    let schema = |name: &str| {
        let mut s = doc()["components"]["schemas"][name].clone();
        s["$schema"] = json!("https://json-schema.org/draft/2020-12/schema");
        jsonschema::options()
            .should_validate_formats(true)
            .build(&s)
            .unwrap()
    };
    type Parser<'a> = &'a dyn Fn(&str) -> bool;
    let cases: [(&str, Parser, &[&str]); 5] = [
        (
            "Email",
            &|v| Email::parse("e", v).is_ok(),
            &[
                "jane@example.com",
                "j_a+n-e.d!o#e$f'g%h&i*j=k?l^m{n}o@shop.example.co.uk",
                "a@b.io",
                "firstname.lastname.department@subsidiary.example.com",
                "jané@example.com",
                ".jane@example.com",
                "jane@localhost",
                "jane@-example.com",
                "ja ne@example.com",
                "jane@example..com",
            ],
        ),
        (
            "Username",
            &|v| Username::parse("u", v).is_ok(),
            &[
                "jane",
                "jane.doe@example.com",
                "Zoë",
                "a/b",
                "a b",
                "x~y",
                "née_42",
            ],
        ),
        (
            "Slug",
            &|v| Slug::parse("s", v).is_ok(),
            &["acme", "acme-2", "-acme", "Acme", "ac_me", ""],
        ),
        (
            "ScopeCode",
            &|v| ScopeCode::parse("c", v).is_ok(),
            &["eu_fr", "production", "_x", "EU", "a-b"],
        ),
        (
            "Locale",
            &|v| Locale::parse("l", v).is_ok(),
            &["en_US", "fr", "fra", "en-US", "EN_us", "e"],
        ),
    ];
    for (name, parses, values) in cases {
        let v = schema(name);
        for value in values {
            assert_eq!(
                v.is_valid(&json!(value)),
                parses(value),
                "{name} schema and parser disagree on {value:?}"
            );
        }
    }
}

/// Issue 10's inconsistencies: an unknown object named in the path is 404 wherever it is, as
/// the document says (never 200 for nobody's sessions, never 422 for an application).
async fn unknown_objects_in_the_path_are_404(b: Backend) {
    let app = spawn_app(b).await;
    let nobody = uuid::Uuid::new_v4();
    for (method, path) in [
        (Method::GET, format!("/users/{nobody}/sessions")),
        (Method::DELETE, format!("/users/{nobody}/sessions")),
        (
            Method::DELETE,
            format!("/users/{nobody}/sessions/{}", uuid::Uuid::new_v4()),
        ),
        (Method::POST, format!("/users/{nobody}/2fa/reset")),
        (Method::GET, "/applications/nope/scopes".to_string()),
        (Method::DELETE, "/applications/nope/scopes/eu".to_string()),
        (Method::GET, "/applications/nope/profiles".to_string()),
        (Method::GET, "/api/v1/applications/nope".to_string()),
    ] {
        let r = app.send(method.clone(), &path, None, &[]).await;
        assert_eq!(
            r.status,
            StatusCode::NOT_FOUND,
            "{method} {path}: {}",
            r.body
        );
        assert_eq!(r.body["code"], "not_found", "{method} {path}");
    }
    let r = app
        .post("/applications/nope/scopes", json!({ "code": "eu" }))
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND, "{}", r.body);
    // In a body, an unknown application stays a field error.
    let r = app.get("/profiles?application=nope").await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
}
both!(unknown_objects_in_the_path_are_404);
