//! No operation of one organisation reaches into another (issue 9, item 5), generated from the
//! OpenAPI document: every operation under `/api/v1/organizations/{org}/…` that names objects by
//! id — in its path or in its body — is called with organisation A's token and the ids of
//! organisation B's objects (one of each kind), and must neither succeed nor change anything of
//! B. A new endpoint is covered without anyone remembering to; a new kind of id in a path makes
//! this test fail until it is taught what the id names.

use crate::both;
use crate::helpers::{spawn_app, Backend, TestApp};
use reqwest::{Method, StatusCode};
use serde_json::{json, Map, Value};
use std::collections::BTreeMap;

/// Objects of one organisation, by kind; a kind may have several (an active and an invited user).
#[derive(Debug, Default, Clone)]
struct Objects {
    by_kind: BTreeMap<&'static str, Vec<String>>,
}

impl Objects {
    fn first(&self, kind: &str) -> String {
        self.by_kind
            .get(kind)
            .and_then(|v| v.first())
            .cloned()
            .unwrap_or_else(|| panic!("no {kind} created"))
    }
}

/// Creates one object of every kind an id can name, in `org`, with the server token.
async fn populate(app: &TestApp, org: &str) -> Objects {
    let base = format!("/api/v1/organizations/{org}");
    let created = |r: crate::helpers::Reply, what: &str| {
        assert!(
            r.status.is_success(),
            "creating {what}: {} {}",
            r.status,
            r.body
        );
        r.body
    };
    let mut o = Objects::default();
    let user = created(
        app.post(
            &format!("{base}/users"),
            json!({ "email": format!("someone@{org}.example") }),
        )
        .await,
        "user",
    )["id"]
        .as_str()
        .unwrap()
        .to_string();
    let pw = "Corr3ct-Horse-Battery-Staple!";
    created(
        app.put(
            &format!("{base}/users/{user}/password"),
            json!({ "password": pw }),
        )
        .await,
        "password",
    );
    let signed = app
        .send_as(
            "",
            Method::POST,
            &format!("{base}/sign-in"),
            Some(json!({ "login": format!("someone@{org}.example"), "password": pw })),
            &[],
        )
        .await;
    let session = created(signed, "session")["session"]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let invited = created(
        app.post(
            &format!("{base}/invitations"),
            json!({ "email": format!("invited@{org}.example") }),
        )
        .await,
        "invitation",
    );
    let invited = invited["user"]["id"]
        .as_str()
        .or(invited["user_id"].as_str())
        .or(invited["invitation"]["user_id"].as_str())
        .unwrap_or_else(|| panic!("invited user id in {invited}"))
        .to_string();
    let role = created(
        app.post(
            &format!("{base}/roles"),
            json!({ "application": "commerce-admin", "name": format!("{org}-sales"),
                    "grants": [{ "resource": "Magento_Sales::sales" }] }),
        )
        .await,
        "role",
    )["id"]
        .as_str()
        .unwrap()
        .to_string();
    let group = created(
        app.post(
            &format!("{base}/groups"),
            json!({ "name": format!("{org} team") }),
        )
        .await,
        "group",
    )["id"]
        .as_str()
        .unwrap()
        .to_string();
    created(
        app.post(
            &format!("{base}/groups/{group}/members"),
            json!({ "user_id": user }),
        )
        .await,
        "membership",
    );
    created(
        app.post(
            &format!("{base}/groups/{group}/roles"),
            json!({ "role_id": role }),
        )
        .await,
        "group role",
    );
    created(
        app.post(
            &format!("{base}/users/{user}/roles"),
            json!({ "role_id": role }),
        )
        .await,
        "assignment",
    );
    let profile = created(
        app.post(
            &format!("{base}/profiles"),
            json!({ "application": "cloud-project", "name": format!("{org} seats") }),
        )
        .await,
        "profile",
    )["id"]
        .as_str()
        .unwrap()
        .to_string();
    created(
        app.post(
            &format!("{base}/profiles/{profile}/users"),
            json!({ "user_id": user }),
        )
        .await,
        "seat",
    );
    created(
        app.post(
            &format!("{base}/profiles/{profile}/groups"),
            json!({ "group_id": group }),
        )
        .await,
        "profile group",
    );
    created(
        app.post(
            &format!("{base}/users/{user}/admin-rights"),
            json!({ "kind": "user_group", "group_id": group }),
        )
        .await,
        "admin right",
    );
    let credential = created(
        app.post(
            &format!("{base}/credentials"),
            json!({ "name": format!("{org}-shop") }),
        )
        .await,
        "credential",
    )["credential"]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let scope = format!("{org}_only");
    created(
        app.post(
            &format!("{base}/applications/commerce-admin/scopes"),
            json!({ "code": scope, "name": "only here" }),
        )
        .await,
        "scope",
    );
    o.by_kind.insert("user", vec![user, invited]);
    o.by_kind.insert("session", vec![session]);
    o.by_kind.insert("role", vec![role]);
    o.by_kind.insert("group", vec![group]);
    o.by_kind.insert("profile", vec![profile]);
    o.by_kind.insert("credential", vec![credential]);
    o.by_kind.insert("scope", vec![scope]);
    o
}

/// The kind of object a path parameter names, from its name and the segment before it.
fn path_kind(param: &str, previous_segment: &str, path: &str) -> Option<&'static str> {
    Some(match (param, previous_segment) {
        ("org", _) => return None,
        // A catalogue key, the same in every organisation: not an object of one.
        ("app", _) | ("key", _) => return None,
        ("id", "users") | ("user", _) => "user",
        ("id", "groups") | ("group", _) => "group",
        ("id", "roles") | ("role", _) => "role",
        ("id", "profiles") | ("profile", _) => "profile",
        ("id", "credentials") | ("credential", _) => "credential",
        ("session", _) => "session",
        ("code", "scopes") => "scope",
        // SCIM clients have no fixture of their own here: another organisation's credential
        // id stands in, an id that organisation A must not resolve either.
        ("id", "scim-clients") => "credential",
        _ => panic!(
            "{path}: path parameter {{{param}}} after /{previous_segment}/ names an object this \
             test does not know; teach cross_org.rs::path_kind which kind it is"
        ),
    })
}

/// The kind of object a body property holds ids of, and whether it is a list.
fn body_kind(name: &str) -> Option<(&'static str, bool)> {
    // An identity provider's own identifier (SCIM `externalId`), free text, not one of ours.
    // The enterprise extension's manager is an identifier the identity provider gives, too.
    if name == "external_id" || name == "manager_id" {
        return None;
    }
    let kind = |k: &str| -> &'static str {
        match k {
            "user" => "user",
            "group" => "group",
            "role" => "role",
            "profile" => "profile",
            "credential" => "credential",
            "session" => "session",
            other => panic!(
                "body property {other}_id names an object this test does not know; teach \
                 cross_org.rs::body_kind which kind it is"
            ),
        }
    };
    if let Some(k) = name.strip_suffix("_ids") {
        return Some((kind(k), true));
    }
    if let Some(k) = name.strip_suffix("_id") {
        return Some((kind(k), false));
    }
    match name {
        // A profile's bundle of role ids; a role's scope codes.
        "roles" => Some(("role", true)),
        "scopes" => Some(("scope", true)),
        _ => None,
    }
}

fn resolve<'a>(doc: &'a Value, schema: &'a Value) -> &'a Value {
    match schema.get("$ref").and_then(Value::as_str) {
        Some(r) => {
            let name = r.rsplit('/').next().unwrap_or_default();
            resolve(doc, &doc["components"]["schemas"][name])
        }
        None => schema,
    }
}

/// Does a schema (transitively) carry an id property?
fn carries_ids(doc: &Value, schema: &Value, depth: usize) -> bool {
    let s = resolve(doc, schema);
    if depth > 6 {
        return false;
    }
    if let Some(alts) = s.get("oneOf").and_then(Value::as_array) {
        return alts.iter().any(|a| carries_ids(doc, a, depth + 1));
    }
    if let Some(props) = s.get("properties").and_then(Value::as_object) {
        return props
            .iter()
            .any(|(k, v)| body_kind(k).is_some() || carries_ids(doc, v, depth + 1));
    }
    if let Some(items) = s.get("items") {
        return carries_ids(doc, items, depth + 1);
    }
    false
}

/// Plausible values for the non-id fields, so a body fails (if at all) on its ids.
fn known_value(name: &str, n: usize) -> Option<Value> {
    Some(match name {
        "application" => json!("commerce-admin"),
        "resource" => json!("Magento_Sales::sales"),
        "email" => json!(format!("probe{n}@probe.example")),
        "name" => json!(format!("probe-{n}")),
        "code" => json!(format!("probe_{n}")),
        "password" | "new_password" => json!(format!("Probe-{n}-Horse-Battery-Staple!")),
        _ => return None,
    })
}

/// A body for `schema` whose ids are `ids` (by kind) and whose other fields are plausible.
fn generate(doc: &Value, schema: &Value, ids: &Objects, n: usize, depth: usize) -> Value {
    let s = resolve(doc, schema);
    if depth > 6 {
        return Value::Null;
    }
    if let Some(alts) = s.get("oneOf").and_then(Value::as_array) {
        // The alternative that carries an id, if any (a right over a group, say).
        let pick = alts
            .iter()
            .find(|a| carries_ids(doc, a, depth + 1))
            .or_else(|| alts.iter().find(|a| a["type"] != "null"))
            .unwrap_or(&Value::Null);
        return generate(doc, pick, ids, n, depth + 1);
    }
    if let Some(e) = s.get("enum").and_then(Value::as_array) {
        return e.first().cloned().unwrap_or(Value::Null);
    }
    let ty = match &s["type"] {
        Value::Array(types) => types
            .iter()
            .find(|t| *t != "null")
            .cloned()
            .unwrap_or(Value::Null),
        t => t.clone(),
    };
    match ty.as_str() {
        Some("object") | None if s.get("properties").is_some() => {
            let required: Vec<&str> = s["required"]
                .as_array()
                .map(|a| a.iter().filter_map(Value::as_str).collect())
                .unwrap_or_default();
            let mut out = Map::new();
            for (k, v) in s["properties"].as_object().into_iter().flatten() {
                let value = match body_kind(k) {
                    Some((kind, true)) => json!([ids.first(kind)]),
                    Some((kind, false)) => json!(ids.first(kind)),
                    None if required.contains(&k.as_str()) || carries_ids(doc, v, 0) => {
                        known_value(k, n).unwrap_or_else(|| generate(doc, v, ids, n, depth + 1))
                    }
                    None => continue,
                };
                out.insert(k.clone(), value);
            }
            Value::Object(out)
        }
        Some("array") => {
            if carries_ids(doc, &s["items"], 0) {
                json!([generate(doc, &s["items"], ids, n, depth + 1)])
            } else {
                json!([])
            }
        }
        Some("string") => json!(format!("probe-{n}")),
        Some("integer") | Some("number") => json!(1),
        Some("boolean") => json!(false),
        _ => Value::Null,
    }
}

/// Query parameters the doc declares, filled so a call fails (if at all) on its ids.
fn query_for(op: &Value, ids: &Objects) -> String {
    let mut parts = Vec::new();
    for p in op["parameters"].as_array().into_iter().flatten() {
        if p["in"] != "query" {
            continue;
        }
        let value = match p["name"].as_str().unwrap_or_default() {
            "kind" => "user_group".to_string(),
            "target" => ids.first("group"),
            "user" => ids.first("user"),
            "group" => ids.first("group"),
            "role" => ids.first("role"),
            "application" => "commerce-admin".to_string(),
            "credentials" => "keep".to_string(),
            _ => continue,
        };
        parts.push(format!(
            "{}={value}",
            p["name"].as_str().unwrap_or_default()
        ));
    }
    if parts.is_empty() {
        String::new()
    } else {
        format!("?{}", parts.join("&"))
    }
}

/// Every row of organisation `org` in every table, as text: what "no change in B" compares.
async fn rows_of(app: &TestApp, org: &str) -> Vec<String> {
    use sqlx::{Column, Row};
    // The audit log's index tables are filled from the log (compared below) by a background
    // flush; settle them first, so that a flush between two snapshots is not taken for a change.
    app.server.dir.index_audit().await.unwrap();
    let pool = &app.server.dir.db.pool;
    let tables_sql = match app.server.dir.db.backend {
        rolecall::store::Backend::Sqlite => {
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
        }
        rolecall::store::Backend::Postgres => {
            "SELECT CAST(tablename AS TEXT) AS name FROM pg_tables WHERE schemaname = 'public'"
        }
    };
    let tables: Vec<String> = sqlx::query(tables_sql)
        .fetch_all(pool)
        .await
        .unwrap()
        .iter()
        .map(|r| r.get::<String, _>(0))
        .collect();
    let text = |r: &sqlx::any::AnyRow, i: usize| -> String {
        if let Ok(v) = r.try_get::<Option<String>, _>(i) {
            return format!("{v:?}");
        }
        if let Ok(v) = r.try_get::<Option<i64>, _>(i) {
            return format!("{v:?}");
        }
        if let Ok(v) = r.try_get::<Option<f64>, _>(i) {
            return format!("{v:?}");
        }
        format!("{:?}", r.try_get::<Option<bool>, _>(i).ok().flatten())
    };
    // B's users, for the tables that hang off a user without naming the organisation.
    let mut users: Vec<String> = Vec::new();
    let mut out = Vec::new();
    for pass in 0..2 {
        for t in &tables {
            let rows = sqlx::query(&format!("SELECT * FROM {t}"))
                .fetch_all(pool)
                .await
                .unwrap();
            for r in &rows {
                let cols: Vec<(String, String)> = r
                    .columns()
                    .iter()
                    .map(|c| (c.name().to_string(), text(r, c.ordinal())))
                    .collect();
                let get = |name: &str| cols.iter().find(|(n, _)| n == name).map(|(_, v)| v);
                let quoted = format!("{:?}", Some(org));
                let mine = match (get("org_id"), get("user_id")) {
                    (Some(o), _) => *o == quoted,
                    (None, Some(u)) => users.contains(u),
                    (None, None) => t == "organizations" && get("id") == Some(&quoted),
                };
                if !mine {
                    continue;
                }
                if pass == 0 {
                    if t == "users" {
                        users.push(get("id").cloned().unwrap_or_default());
                    }
                } else {
                    out.push(format!("{t}: {cols:?}"));
                }
            }
        }
    }
    out.sort();
    out
}

both!(no_operation_reaches_into_another_organisation);
async fn no_operation_reaches_into_another_organisation(b: Backend) {
    let app = spawn_app(b).await;
    let r = app
        .post(
            "/api/v1/organizations",
            json!({ "slug": "beta", "name": "Beta" }),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let beta_id = r.body["id"].as_str().unwrap().to_string();
    let ours = populate(&app, "acme").await;
    let theirs = populate(&app, "beta").await;
    let acme = app.server.dir.org("acme").await.unwrap();
    let token = app
        .server
        .dir
        .create_token("acme only", Some(acme.id))
        .await
        .unwrap();
    let doc = app.get("/api/v1/openapi.json").await.body;
    // The mail B's setup queued is delivered (and its outbox rows change) before the snapshot.
    for _ in 0..200 {
        let pending: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM outbox WHERE sent_at IS NULL")
            .fetch_one(&app.server.dir.db.pool)
            .await
            .unwrap();
        if pending == 0 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    let before = rows_of(&app, &beta_id).await;
    assert!(before.len() > 20, "B has objects to protect: {before:?}");

    let mut calls = 0;
    let mut n = 0;
    let mut reached = Vec::new();
    let mut operations = 0;
    for (path, item) in doc["paths"].as_object().unwrap() {
        let Some(rest) = path.strip_prefix("/api/v1/organizations/{org}/") else {
            continue;
        };
        let segments: Vec<&str> = rest.split('/').collect();
        // (position in the path, parameter, kind)
        let mut params = Vec::new();
        for (i, seg) in segments.iter().enumerate() {
            if let Some(name) = seg.strip_prefix('{').and_then(|s| s.strip_suffix('}')) {
                let prev = if i == 0 { "" } else { segments[i - 1] };
                if let Some(kind) = path_kind(name, prev, path) {
                    params.push((i, kind));
                }
            }
        }
        for (method, op) in item.as_object().unwrap() {
            let Ok(method) = method.to_uppercase().parse::<Method>() else {
                continue;
            };
            let schema = &op["requestBody"]["content"]["application/json"]["schema"];
            let body_ids = !schema.is_null() && carries_ids(&doc, schema, 0);
            if params.is_empty() && !body_ids {
                continue;
            }
            operations += 1;
            // Variants: (objects for each path parameter, objects for the body).
            let mut variants: Vec<(Vec<Objects>, Objects)> = Vec::new();
            // Everything from B...
            for k in 0..theirs.by_kind["user"].len() {
                let mut b = theirs.clone();
                if let Some(users) = b.by_kind.get_mut("user") {
                    users.rotate_left(k);
                }
                variants.push((vec![b.clone(); params.len()], b));
            }
            // ...one path id from B, the rest (and the body) from A...
            for which in 0..params.len() {
                let mut per_param = vec![ours.clone(); params.len()];
                per_param[which] = theirs.clone();
                variants.push((per_param, ours.clone()));
            }
            // ...and the body's ids from B in A's own objects.
            if body_ids && !params.is_empty() {
                variants.push((vec![ours.clone(); params.len()], theirs.clone()));
            }
            for (per_param, body_objects) in variants {
                let mut segs: Vec<String> = segments.iter().map(|s| s.to_string()).collect();
                for ((i, kind), objects) in params.iter().zip(&per_param) {
                    segs[*i] = objects.first(kind);
                }
                let filled = segs.join("/").replace("{app}", "commerce-admin");
                n += 1;
                let body = (!schema.is_null()).then(|| generate(&doc, schema, &body_objects, n, 0));
                let url = format!(
                    "/api/v1/organizations/acme/{filled}{}",
                    query_for(op, &body_objects)
                );
                let r = app
                    .send_as(&token, method.clone(), &url, body.clone(), &[])
                    .await;
                calls += 1;
                if r.status.is_success() {
                    // A decision about someone who is not here is a denial, never an error.
                    let reasons: Vec<&Value> = std::iter::once(&r.body["reason"])
                        .chain(
                            r.body["results"]
                                .as_array()
                                .into_iter()
                                .flatten()
                                .map(|x| &x["reason"]),
                        )
                        .filter(|x| !x.is_null())
                        .collect();
                    if reasons.is_empty() || reasons.iter().any(|x| *x != "unknown_user") {
                        reached.push(format!(
                            "{method} {url} with {body:?} answered {}: {}",
                            r.status, r.body
                        ));
                    }
                }
            }
        }
    }
    assert!(
        reached.is_empty(),
        "reached into B:\n{}",
        reached.join("\n")
    );
    assert!(
        operations >= 40,
        "the generator found only {operations} operations naming ids"
    );
    assert!(calls > operations, "{calls} calls");
    let after = rows_of(&app, &beta_id).await;
    let gone: Vec<_> = before.iter().filter(|r| !after.contains(r)).collect();
    let new: Vec<_> = after.iter().filter(|r| !before.contains(r)).collect();
    assert!(
        gone.is_empty() && new.is_empty(),
        "B changed:\n  before: {gone:#?}\n  after: {new:#?}"
    );
}
