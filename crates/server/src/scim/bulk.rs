//! `POST /Bulk` (RFC 7644 §3.7): up to `BULK_MAX_OPERATIONS` operations in a body of at most
//! `BULK_MAX_PAYLOAD` bytes (413 beyond either), run in order, each as its own request through
//! the same code as the single-resource endpoints (so each is one transaction, judged like any
//! other). `bulkId:` references to resources created earlier in the request are resolved;
//! `failOnErrors` stops processing after that many failures.
//!
//! Each operation is charged to the organisation's rate limit like a request of its own, and
//! runs only while the client is unrevoked: a bulk request must not buy a thousand writes for
//! one token, nor outlive the client's revocation. Operations past either limit are answered
//! 429 or 401 in the response, unrun, so the client knows exactly which to send again.

use super::auth::ScimCaller;
use super::error::{ScimFailure, ScimResult};
use super::{groups, scim_json, user_type, users, BaseUrl, ScimJson, BULK_MAX_OPERATIONS};
use crate::http::extract::Client;
use crate::http::AppState;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use rolecall_scim::{replace_resource, ScimType};
use serde_json::{json, Map, Value};
use std::collections::HashMap;

const BULK_REQUEST: &str = "urn:ietf:params:scim:api:messages:2.0:BulkRequest";
const BULK_RESPONSE: &str = "urn:ietf:params:scim:api:messages:2.0:BulkResponse";

/// Replaces `bulkId:<id>` strings by the ids of resources created earlier in the request.
fn resolve(v: &mut Value, created: &HashMap<String, String>) -> Result<(), String> {
    match v {
        Value::String(s) => {
            if let Some(id) = s.strip_prefix("bulkId:") {
                match created.get(id) {
                    Some(real) => *s = real.clone(),
                    None => return Err(id.to_string()),
                }
            }
            Ok(())
        }
        Value::Array(items) => items.iter_mut().try_for_each(|i| resolve(i, created)),
        Value::Object(o) => o.values_mut().try_for_each(|i| resolve(i, created)),
        _ => Ok(()),
    }
}

fn version_of(op: &Map<String, Value>) -> Option<i64> {
    op.get("version").and_then(Value::as_str).map(|t| {
        t.trim()
            .trim_start_matches("W/")
            .trim_matches('"')
            .parse::<i64>()
            .unwrap_or(-1)
    })
}

pub async fn bulk(
    State(s): State<AppState>,
    caller: ScimCaller,
    Client(client): Client,
    base: BaseUrl,
    ScimJson(body): ScimJson,
) -> ScimResult<Response> {
    let o = body.as_object().ok_or_else(|| {
        ScimFailure::new(
            400,
            Some(ScimType::InvalidSyntax),
            "a BulkRequest is a JSON object",
        )
    })?;
    let schema_ok = o.get("schemas").and_then(Value::as_array).is_some_and(|a| {
        a.iter().any(|s| {
            s.as_str()
                .is_some_and(|s| s.eq_ignore_ascii_case(BULK_REQUEST))
        })
    });
    if !schema_ok {
        return Err(ScimFailure::new(
            400,
            Some(ScimType::InvalidSyntax),
            format!("`schemas` must contain {BULK_REQUEST}"),
        ));
    }
    let ops = o
        .get("Operations")
        .and_then(Value::as_array)
        .ok_or_else(|| {
            ScimFailure::new(
                400,
                Some(ScimType::InvalidSyntax),
                "`Operations` must be an array",
            )
        })?;
    if ops.len() > BULK_MAX_OPERATIONS as usize {
        return Err(ScimFailure::new(
            413,
            Some(ScimType::TooMany),
            format!(
                "a bulk request holds at most {BULK_MAX_OPERATIONS} operations; this one has {}",
                ops.len()
            ),
        ));
    }
    let fail_on = o.get("failOnErrors").and_then(Value::as_u64);
    let mut created: HashMap<String, String> = HashMap::new();
    let mut results = Vec::with_capacity(ops.len());
    let mut errors = 0u64;
    let mut stopped: Option<ScimFailure> = None;
    for op in ops {
        if fail_on.is_some_and(|n| errors >= n) {
            break;
        }
        if stopped.is_none() {
            if !caller.still_admitted(&s.dir).await? {
                stopped = Some(crate::error::Error::Unauthenticated.into());
            } else if let Err(e) = s.scim_limiter.admit(&s.dir, caller.org().id).await {
                stopped = Some(e);
            }
        }
        if let Some(e) = &stopped {
            let mut entry = Map::new();
            if let Some(m) = op.get("method") {
                entry.insert("method".into(), m.clone());
            }
            if let Some(b) = op.get("bulkId") {
                entry.insert("bulkId".into(), b.clone());
            }
            entry.insert("status".into(), json!(e.error.status.to_string()));
            entry.insert("response".into(), e.error.to_json());
            results.push(Value::Object(entry));
            continue;
        }
        let Some(op) = op.as_object() else {
            errors += 1;
            results.push(json!({"status": "400", "response": ScimFailure::new(400, Some(ScimType::InvalidSyntax), "an operation is a JSON object").error.to_json()}));
            continue;
        };
        let method = op
            .get("method")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_ascii_uppercase();
        let bulk_id = op.get("bulkId").and_then(Value::as_str).map(str::to_string);
        let mut entry = Map::new();
        entry.insert("method".into(), json!(method));
        if let Some(b) = &bulk_id {
            entry.insert("bulkId".into(), json!(b));
        }
        match run(
            &s,
            &caller,
            &client,
            &base.0,
            &method,
            op,
            bulk_id.as_deref(),
            &created,
        )
        .await
        {
            Ok((status, location, version, new_id)) => {
                if let (Some(b), Some(id)) = (&bulk_id, new_id) {
                    created.insert(b.clone(), id);
                }
                if let Some(l) = location {
                    entry.insert("location".into(), json!(l));
                }
                if let Some(v) = version {
                    entry.insert("version".into(), json!(super::etag(v)));
                }
                entry.insert("status".into(), json!(status.to_string()));
            }
            Err(e) => {
                errors += 1;
                entry.insert("status".into(), json!(e.error.status.to_string()));
                entry.insert("response".into(), e.error.to_json());
            }
        }
        results.push(Value::Object(entry));
    }
    Ok(scim_json(
        StatusCode::OK,
        &json!({ "schemas": [BULK_RESPONSE], "Operations": results }),
    ))
}

type Outcome = (u16, Option<String>, Option<i64>, Option<String>);

#[allow(clippy::too_many_arguments)]
async fn run(
    s: &AppState,
    caller: &ScimCaller,
    client: &crate::directory::signin::ClientInfo,
    base: &str,
    method: &str,
    op: &Map<String, Value>,
    bulk_id: Option<&str>,
    created: &HashMap<String, String>,
) -> ScimResult<Outcome> {
    let unresolved = |id: String| {
        ScimFailure::new(
            409,
            Some(ScimType::InvalidValue),
            format!("bulkId:{id} names no resource created earlier in this request"),
        )
    };
    let mut path = op
        .get("path")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_string();
    if let Some((head, id)) = path.rsplit_once("bulkId:") {
        let real = created
            .get(id)
            .cloned()
            .ok_or_else(|| unresolved(id.to_string()))?;
        path = format!("{head}{real}");
    }
    let mut data = op.get("data").cloned().unwrap_or(Value::Null);
    resolve(&mut data, created).map_err(unresolved)?;
    let expected = version_of(op);
    let mut parts = path.trim_start_matches('/').splitn(2, '/');
    let (kind, id) = (parts.next().unwrap_or(""), parts.next());
    let bad_path = || {
        ScimFailure::new(
            400,
            Some(ScimType::InvalidPath),
            format!("unsupported bulk path `{path}`"),
        )
    };
    match (method, kind, id) {
        ("POST", "Users", None) => {
            if bulk_id.is_none() {
                return Err(ScimFailure::new(
                    400,
                    Some(ScimType::InvalidSyntax),
                    "a bulk POST needs a bulkId",
                ));
            }
            let (u, _) = users::create_from(s, caller, client, base, &data).await?;
            Ok((
                201,
                Some(format!("{base}/Users/{}", u.id)),
                Some(u.version),
                Some(u.id.to_string()),
            ))
        }
        ("POST", "Groups", None) => {
            if bulk_id.is_none() {
                return Err(ScimFailure::new(
                    400,
                    Some(ScimType::InvalidSyntax),
                    "a bulk POST needs a bulkId",
                ));
            }
            let (g, _) = groups::create_from(s, caller, base, &data).await?;
            Ok((
                201,
                Some(format!("{base}/Groups/{}", g.id)),
                Some(g.version),
                Some(g.id.to_string()),
            ))
        }
        ("PATCH", "Users", Some(id)) => {
            let uid = id.parse().map_err(|_| ScimFailure::not_found("User", id))?;
            let (u, _) = users::patch_user(s, caller, client, uid, &data, expected, base).await?;
            Ok((
                200,
                Some(format!("{base}/Users/{}", u.id)),
                Some(u.version),
                None,
            ))
        }
        ("PUT", "Users", Some(id)) => {
            let uid = id.parse().map_err(|_| ScimFailure::not_found("User", id))?;
            let (current, doc) = users::load(s, caller, uid, base).await?;
            let next = replace_resource(&doc, &data, user_type())?;
            let (u, _) = users::write(s, caller, client, &current, &next, expected, base).await?;
            Ok((
                200,
                Some(format!("{base}/Users/{}", u.id)),
                Some(u.version),
                None,
            ))
        }
        ("DELETE", "Users", Some(id)) => {
            let uid = id.parse().map_err(|_| ScimFailure::not_found("User", id))?;
            users::delete_user(s, caller, client, uid, expected).await?;
            Ok((204, None, None, None))
        }
        ("PATCH", "Groups", Some(id)) => {
            let gid = id
                .parse()
                .map_err(|_| ScimFailure::not_found("Group", id))?;
            let g = groups::patch_group(s, caller, gid, &data, expected, base).await?;
            Ok((
                200,
                Some(format!("{base}/Groups/{}", g.id)),
                Some(g.version),
                None,
            ))
        }
        ("PUT", "Groups", Some(id)) => {
            let gid = id
                .parse()
                .map_err(|_| ScimFailure::not_found("Group", id))?;
            let g = groups::replace_group(s, caller, gid, &data, expected, base).await?;
            Ok((
                200,
                Some(format!("{base}/Groups/{}", g.id)),
                Some(g.version),
                None,
            ))
        }
        ("DELETE", "Groups", Some(id)) => {
            let gid = id
                .parse()
                .map_err(|_| ScimFailure::not_found("Group", id))?;
            groups::delete_group(s, caller, gid, expected).await?;
            Ok((204, None, None, None))
        }
        ("POST" | "PUT" | "PATCH" | "DELETE", _, _) => Err(bad_path()),
        _ => Err(ScimFailure::new(
            400,
            Some(ScimType::InvalidSyntax),
            format!("`method` must be POST, PUT, PATCH or DELETE, not `{method}`"),
        )),
    }
}
