//! rolecall as a SCIM 2.0 service provider (RFC 7643/7644) at `/scim/v2`, which Microsoft Entra
//! ID, Okta and any other client provision into (issue 14). The protocol pieces (schemas,
//! filters, PATCH, projection, list parsing) are `rolecall-scim`; this adapter authenticates the
//! SCIM client, turns requests into calls of the same `Directory` use cases the REST API calls
//! (so the one rights rule, quotas and every rail hold) and renders rolecall's users and groups
//! as SCIM resources.
//!
//! Modules: `auth` (the SCIM client's bearer token and the per-organisation rate limit),
//! `error` (SCIM error bodies), `columns` (where attributes live, for filters and sorting),
//! `users`, `groups`, `discovery`, `bulk`; this file holds the router and the request and
//! response plumbing they share.

// Axum handlers take one argument per extractor.
#![allow(clippy::too_many_arguments)]

mod auth;
mod bulk;
pub mod columns;
mod discovery;
pub mod error;
mod groups;
mod users;

pub use auth::ScimLimiter;

use crate::http::AppState;
use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::{header, request::Parts, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use error::{ScimFailure, ScimResult, SCIM_JSON};
use rolecall_scim::schema::ResourceType;
use rolecall_scim::ScimType;
use serde_json::Value;
use std::sync::LazyLock;

/// Most resources one list or search returns (`filter.maxResults`).
pub const MAX_RESULTS: u64 = 200;
/// Most operations one bulk request may carry.
pub const BULK_MAX_OPERATIONS: u32 = 1000;
/// Largest bulk request body (bytes); larger is 413.
pub const BULK_MAX_PAYLOAD: usize = 1_048_576;

static USER_TYPE: LazyLock<ResourceType> = LazyLock::new(ResourceType::user);
static GROUP_TYPE: LazyLock<ResourceType> = LazyLock::new(ResourceType::group);

/// The User resource type rolecall serves (built once).
pub fn user_type() -> &'static ResourceType {
    &USER_TYPE
}

/// The Group resource type rolecall serves (built once).
pub fn group_type() -> &'static ResourceType {
    &GROUP_TYPE
}

/// The `/scim/v2` routes; merged into the application by `http::app`.
pub fn router() -> Router<AppState> {
    Router::new()
        .route(
            "/scim/v2/ServiceProviderConfig",
            get(discovery::service_provider_config).fallback(discovery::read_only),
        )
        .route(
            "/scim/v2/ResourceTypes",
            get(discovery::resource_types).fallback(discovery::read_only),
        )
        .route(
            "/scim/v2/ResourceTypes/{name}",
            get(discovery::resource_type).fallback(discovery::read_only),
        )
        .route(
            "/scim/v2/Schemas",
            get(discovery::schemas).fallback(discovery::read_only),
        )
        .route(
            "/scim/v2/Schemas/{urn}",
            get(discovery::schema).fallback(discovery::read_only),
        )
        .route(
            "/scim/v2/Users",
            get(users::list).post(users::create).fallback(not_allowed),
        )
        .route(
            "/scim/v2/Users/.search",
            post(users::search).fallback(not_allowed),
        )
        .route(
            "/scim/v2/Users/{id}",
            get(users::read)
                .put(users::replace)
                .patch(users::patch)
                .delete(users::delete)
                .fallback(not_allowed),
        )
        .route(
            "/scim/v2/Groups",
            get(groups::list).post(groups::create).fallback(not_allowed),
        )
        .route(
            "/scim/v2/Groups/.search",
            post(groups::search).fallback(not_allowed),
        )
        .route(
            "/scim/v2/Groups/{id}",
            get(groups::read)
                .put(groups::replace)
                .patch(groups::patch)
                .delete(groups::delete)
                .fallback(not_allowed),
        )
        .route("/scim/v2/.search", post(root_search).fallback(not_allowed))
        .route("/scim/v2/Bulk", post(bulk::bulk).fallback(not_allowed))
        .route("/scim/v2/{*rest}", axum::routing::any(unknown_endpoint))
        .route("/scim/v2", axum::routing::any(unknown_endpoint))
}

async fn not_allowed() -> ScimFailure {
    ScimFailure::new(405, None, "this method is not supported on this endpoint")
}

async fn unknown_endpoint() -> ScimFailure {
    ScimFailure::new(404, None, "no such SCIM endpoint")
}

/// `POST /.search` at the root (RFC 7644 §3.4.3): rolecall searches Users and Groups as one
/// list, users first, each filtered with the same filter. A filter naming an attribute only
/// one type has simply matches nothing there.
async fn root_search(
    state: axum::extract::State<AppState>,
    caller: auth::ScimCaller,
    base: BaseUrl,
    ScimJson(body): ScimJson,
) -> ScimResult<Response> {
    let req = rolecall_scim::SearchRequest::from_json(&body)?;
    let q = req.to_query(MAX_RESULTS)?;
    let (users_total, _) = users::count_for_root(&state, &caller, &q).await?;
    let (groups_total, _) = groups::count_for_root(&state, &caller, &q).await?;
    let total = users_total + groups_total;
    let offset = q.offset();
    let mut resources = Vec::new();
    if offset < users_total && q.count > 0 {
        let take = q.count.min(users_total - offset);
        let mut uq = q.clone();
        uq.count = take;
        resources.extend(users::page_for_root(&state, &caller, &base, &uq).await?);
    }
    let remaining = q.count.saturating_sub(resources.len() as u64);
    if remaining > 0 && offset + (resources.len() as u64) < total {
        let group_offset = offset.saturating_sub(users_total);
        let mut gq = q.clone();
        gq.start_index = group_offset + 1;
        gq.count = remaining;
        resources.extend(groups::page_for_root(&state, &caller, &base, &gq).await?);
    }
    Ok(scim_json(
        StatusCode::OK,
        &rolecall_scim::ListResponse::new(total, q.start_index, resources).to_json(),
    ))
}

/// The absolute SCIM base URL of this request, for `meta.location` and `Location`: from
/// `X-Forwarded-Proto`/`X-Forwarded-Host` behind a proxy, else the `Host` header.
#[derive(Debug, Clone)]
pub struct BaseUrl(pub String);

impl<S: Send + Sync> FromRequestParts<S> for BaseUrl {
    type Rejection = ScimFailure;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(BaseUrl(base_url(&parts.headers)))
    }
}

pub(crate) fn base_url(headers: &HeaderMap) -> String {
    let h = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(|v| v.split(',').next().unwrap_or("").trim().to_string())
            .filter(|v| !v.is_empty())
    };
    let proto = h("x-forwarded-proto").unwrap_or_else(|| "http".into());
    let host = h("x-forwarded-host")
        .or_else(|| h(header::HOST.as_str()))
        .unwrap_or_else(|| "localhost".into());
    // Only a host and port: anything else in the header must not end up in links.
    let host: String = host
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | ':' | '[' | ']'))
        .collect();
    let proto = if proto.eq_ignore_ascii_case("https") {
        "https"
    } else {
        "http"
    };
    format!("{proto}://{host}/scim/v2")
}

/// A SCIM request body: `application/scim+json` or `application/json`, any JSON value.
pub struct ScimJson(pub Value);

impl<S: Send + Sync> FromRequest<S> for ScimJson {
    type Rejection = ScimFailure;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let ok_type = req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|ct| {
                let ct = ct.to_ascii_lowercase();
                ct.starts_with(SCIM_JSON) || ct.starts_with("application/json")
            });
        if !ok_type {
            return Err(ScimFailure::new(
                415,
                None,
                "send the body as application/scim+json (or application/json)",
            ));
        }
        let bytes = Bytes::from_request(req, state).await.map_err(|e| {
            if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
                ScimFailure::new(
                    413,
                    None,
                    "the request body is larger than the server accepts",
                )
            } else {
                ScimFailure::new(400, Some(ScimType::InvalidSyntax), e.body_text())
            }
        })?;
        serde_json::from_slice(&bytes).map(ScimJson).map_err(|e| {
            ScimFailure::new(
                400,
                Some(ScimType::InvalidSyntax),
                format!("the body is not valid JSON: {e}"),
            )
        })
    }
}

/// A SCIM body with its media type.
pub fn scim_json(status: StatusCode, body: &Value) -> Response {
    let mut res = (status, axum::Json(body)).into_response();
    res.headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(SCIM_JSON));
    res
}

/// A resource with its ETag (and `Location` when created).
pub fn resource_response(
    status: StatusCode,
    body: &Value,
    version: i64,
    location: Option<&str>,
) -> Response {
    let mut res = scim_json(status, body);
    if let Ok(v) = HeaderValue::from_str(&etag(version)) {
        res.headers_mut().insert(header::ETAG, v);
    }
    if let Some(loc) = location.and_then(|l| HeaderValue::from_str(l).ok()) {
        res.headers_mut().insert(header::LOCATION, loc);
    }
    res
}

/// The entity tag of a version, as `meta.version` and the `ETag` header carry it.
pub fn etag(version: i64) -> String {
    format!("W/\"{version}\"")
}

/// The versions an `If-Match` / `If-None-Match` header names; `None` for `*` or no header.
/// A tag this server did not make matches no version.
pub fn header_versions(headers: &HeaderMap, name: header::HeaderName) -> Option<Vec<Option<i64>>> {
    let raw = headers.get(name)?.to_str().ok()?.trim().to_string();
    if raw == "*" {
        return None;
    }
    Some(
        raw.split(',')
            .map(|t| {
                t.trim()
                    .trim_start_matches("W/")
                    .trim_matches('"')
                    .parse::<i64>()
                    .ok()
            })
            .collect(),
    )
}

/// `If-Match` as the use cases take it: the one version named (a tag naming no version of this
/// server becomes version -1, which never matches, so the write fails with 412).
pub fn if_match(headers: &HeaderMap) -> Option<i64> {
    let tags = header_versions(headers, header::IF_MATCH)?;
    tags.into_iter().next().map(|v| v.unwrap_or(-1))
}

/// Whether `If-None-Match` names the current version (then a GET answers 304).
pub fn not_modified(headers: &HeaderMap, version: i64) -> bool {
    match headers.get(header::IF_NONE_MATCH) {
        None => false,
        Some(_) => match header_versions(headers, header::IF_NONE_MATCH) {
            None => true,
            Some(tags) => tags.contains(&Some(version)),
        },
    }
}

/// 304 with the ETag.
pub fn not_modified_response(version: i64) -> Response {
    let mut res = StatusCode::NOT_MODIFIED.into_response();
    if let Ok(v) = HeaderValue::from_str(&etag(version)) {
        res.headers_mut().insert(header::ETAG, v);
    }
    res
}

/// The decoded query-string pairs of a request.
pub fn query_pairs(uri: &axum::http::Uri) -> Vec<(String, String)> {
    uri.query().map(url_decode_pairs).unwrap_or_default()
}

fn url_decode_pairs(q: &str) -> Vec<(String, String)> {
    q.split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            (percent_decode(k), percent_decode(v))
        })
        .collect()
}

/// `application/x-www-form-urlencoded` decoding (`+` is a space); invalid escapes are kept.
fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => {
                out.push(b' ');
                i += 1;
            }
            b'%' if i + 2 < bytes.len() => {
                let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).ok();
                match hex.and_then(|h| u8::from_str_radix(h, 16).ok()) {
                    Some(b) => {
                        out.push(b);
                        i += 3;
                    }
                    None => {
                        out.push(b'%');
                        i += 1;
                    }
                }
            }
            b => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_strings_decode_as_forms() {
        assert_eq!(
            url_decode_pairs("filter=userName+eq+%22a%40b.c%22&count=10&x"),
            vec![
                ("filter".into(), "userName eq \"a@b.c\"".into()),
                ("count".into(), "10".into()),
                ("x".into(), String::new())
            ]
        );
        assert_eq!(percent_decode("100%"), "100%");
        assert_eq!(percent_decode("%zz"), "%zz");
        assert_eq!(percent_decode("%C3%A9"), "é");
    }

    #[test]
    fn entity_tags() {
        let mut h = HeaderMap::new();
        h.insert(header::IF_MATCH, HeaderValue::from_static("W/\"3\""));
        assert_eq!(if_match(&h), Some(3));
        h.insert(header::IF_MATCH, HeaderValue::from_static("\"xyz\""));
        assert_eq!(if_match(&h), Some(-1));
        h.insert(header::IF_MATCH, HeaderValue::from_static("*"));
        assert_eq!(if_match(&h), None);
        h.insert(
            header::IF_NONE_MATCH,
            HeaderValue::from_static("W/\"1\", W/\"2\""),
        );
        assert!(not_modified(&h, 2));
        assert!(!not_modified(&h, 3));
    }

    #[test]
    fn base_url_comes_from_the_host_or_the_proxy() {
        let mut h = HeaderMap::new();
        h.insert(header::HOST, HeaderValue::from_static("rc.example:8080"));
        assert_eq!(base_url(&h), "http://rc.example:8080/scim/v2");
        h.insert("x-forwarded-proto", HeaderValue::from_static("https"));
        h.insert(
            "x-forwarded-host",
            HeaderValue::from_static("id.example, inner"),
        );
        assert_eq!(base_url(&h), "https://id.example/scim/v2");
        h.insert("x-forwarded-host", HeaderValue::from_static("evil/<x>"));
        assert_eq!(base_url(&h), "https://evilx/scim/v2");
    }
}
