//! Extractors that turn every malformed request into a problem response: JSON bodies (with the
//! failing field's path), query strings, `If-Match` and the bearer token.

use super::problem::ApiError;
use super::AppState;
use crate::auth::Caller;
use crate::directory::signin::ClientInfo;
use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Query, Request};
use axum::http::{header, request::Parts, Method, StatusCode};
use rolecall_core::FieldError;
use serde::de::DeserializeOwned;
use utoipa::openapi::path::{Parameter, ParameterBuilder, ParameterIn};
use utoipa::openapi::schema::{KnownFormat, ObjectBuilder, SchemaFormat, Type};
use utoipa::openapi::Required;

/// A JSON body whose errors name the field and the rule, parsed as it is extracted: for
/// endpoints anyone may call (sign-in, resets, invitations) and self-service ones.
pub struct ApiJson<T>(pub T);

impl<T: DeserializeOwned> FromRequest<AppState> for ApiJson<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &AppState) -> Result<Self, Self::Rejection> {
        JsonBody::<T>::from_request(req, state)
            .await?
            .parse()
            .map(ApiJson)
    }
}

/// A JSON body read but not yet judged: handlers call [`JsonBody::parse`] only after the
/// caller's permission was checked, so someone without the right learns 403, not what the
/// body should have looked like (issue 9 item 15).
pub struct JsonBody<T> {
    is_json: bool,
    bytes: Bytes,
    _into: std::marker::PhantomData<fn() -> T>,
}

impl<T: DeserializeOwned> JsonBody<T> {
    /// The body as `T`: 415 when it is not JSON, 400 when malformed, 422 naming the field.
    pub fn parse(self) -> Result<T, ApiError> {
        parse_json(self.json_bytes()?)
    }

    /// The raw body, once it is known to be JSON (415 otherwise): for hot paths that parse it
    /// into a borrowing type first and fall back to [`JsonBody::parse`]'s errors.
    pub fn json_bytes(&self) -> Result<&[u8], ApiError> {
        if !self.is_json {
            return Err(ApiError::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "unsupported_media_type",
                "send the body as application/json",
            ));
        }
        Ok(&self.bytes)
    }
}

impl<T> FromRequest<AppState> for JsonBody<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &AppState) -> Result<Self, Self::Rejection> {
        let is_json = req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(is_json_media_type);
        // The whole body within the deadline: a client trickling bytes holds a connection and
        // a task, so it is cut off (issue 9 item 13).
        let read = tokio::time::timeout(state.body_timeout, Bytes::from_request(req, state));
        let bytes = match read.await {
            Err(_) => {
                return Err(ApiError::new(
                    StatusCode::REQUEST_TIMEOUT,
                    "body_timeout",
                    "the request body did not arrive in time",
                ))
            }
            Ok(Err(e)) if e.status() == StatusCode::PAYLOAD_TOO_LARGE => {
                return Err(ApiError::new(
                    StatusCode::PAYLOAD_TOO_LARGE,
                    "body_too_large",
                    "the request body is larger than the server accepts",
                ))
            }
            Ok(Err(e)) => {
                return Err(ApiError::new(
                    StatusCode::BAD_REQUEST,
                    "unreadable_body",
                    e.body_text(),
                ))
            }
            Ok(Ok(b)) => b,
        };
        Ok(JsonBody {
            is_json,
            bytes,
            _into: std::marker::PhantomData,
        })
    }
}

/// Whether a `Content-Type` names JSON: its media type (before any `;` parameters, case
/// folded) is `application/json` or a structured-syntax `application/<name>+json` such as
/// `application/merge-patch+json`. Only the media type counts: `text/plain;x=+json` is a
/// CORS-safelisted type a page on another origin may send without a preflight, so a body
/// labelled that way is not read as JSON.
fn is_json_media_type(content_type: &str) -> bool {
    let essence = content_type
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    if essence == "application/json" {
        return true;
    }
    essence
        .strip_prefix("application/")
        .and_then(|subtype| subtype.strip_suffix("+json"))
        .is_some_and(|name| {
            !name.is_empty()
                && name
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"!#$&-^_.+".contains(&b))
        })
}

/// Parses JSON, mapping serde's errors to a problem naming the field.
///
/// Well-formed bodies take serde_json's plain path (over text checked as UTF-8 once, so strings
/// are not checked again one by one); only a body that fails is parsed a second time with the
/// path tracker, which costs an allocation per field and showed up as a fifth of
/// the batch check's time (issue 13). Both parses judge the same bytes with the same types, so
/// the answer is the same as tracking every time.
pub fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    if let Ok(v) = std::str::from_utf8(bytes)
        .map_err(|_| ())
        .and_then(|text| serde_json::from_str::<T>(text).map_err(|_| ()))
    {
        return Ok(v);
    }
    parse_json_tracked(bytes)
}

/// The slow, error-naming parse behind [`parse_json`].
fn parse_json_tracked<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    let malformed = |e: &serde_json::Error| {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            "malformed_json",
            format!("the body is not valid JSON: {e}"),
        )
    };
    let mut de = serde_json::Deserializer::from_slice(bytes);
    match serde_path_to_error::deserialize::<_, T>(&mut de) {
        Ok(v) => {
            de.end().map_err(|e| malformed(&e))?;
            Ok(v)
        }
        Err(e) => {
            let path = e.path().to_string();
            let inner = e.into_inner();
            if !matches!(inner.classify(), serde_json::error::Category::Data) {
                return Err(malformed(&inner));
            }
            let msg = inner.to_string();
            let msg = msg.split(" at line ").next().unwrap_or(&msg).to_string();
            let join = |name: &str| {
                if path == "." || path.is_empty() {
                    name.to_string()
                } else {
                    format!("{path}.{name}")
                }
            };
            let (field, rule) = if let Some(name) = between(&msg, "missing field `", "`") {
                (join(name), "required")
            } else if let Some(name) = between(&msg, "unknown field `", "`") {
                // serde_path_to_error already ends the path with the unknown key.
                (
                    if path == "." || path.is_empty() {
                        name.to_string()
                    } else {
                        path.clone()
                    },
                    "unknown_field",
                )
            } else {
                (
                    if path == "." {
                        "body".to_string()
                    } else {
                        path.clone()
                    },
                    "type",
                )
            };
            Err(ApiError::fields(
                StatusCode::UNPROCESSABLE_ENTITY,
                "validation_failed",
                format!("{field}: {msg}"),
                vec![FieldError::new(field, rule, msg)],
            ))
        }
    }
}

fn between<'a>(s: &'a str, start: &str, end: &str) -> Option<&'a str> {
    let rest = &s[s.find(start)? + start.len()..];
    Some(&rest[..rest.find(end)?])
}

/// A query string with problem-shaped errors.
pub struct ApiQuery<T>(pub T);

impl<T: DeserializeOwned + Send, S: Send + Sync> FromRequestParts<S> for ApiQuery<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        Query::<T>::from_request_parts(parts, state)
            .await
            .map(|Query(v)| ApiQuery(v))
            .map_err(|e| {
                let text = e.body_text();
                let field = between(&text, "field `", "`")
                    .unwrap_or("query")
                    .to_string();
                ApiError::fields(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    "validation_failed",
                    text.clone(),
                    vec![FieldError::new(field, "type", text)],
                )
            })
    }
}

/// The version named by `If-Match`, if any (`*` means any version).
pub struct IfMatch(pub Option<i64>);

/// Handlers that take [`IfMatch`] list it in their `params(...)`, so the document shows the
/// header (and, from it, the 400 and 412 answers it brings).
impl utoipa::IntoParams for IfMatch {
    fn into_params(_: impl Fn() -> Option<ParameterIn>) -> Vec<Parameter> {
        vec![ParameterBuilder::new()
            .name("If-Match")
            .parameter_in(ParameterIn::Header)
            .required(Required::False)
            .description(Some(
                "The ETag of the version this change is based on (as sent in `ETag`); the change \
                 is refused with 412 when the object changed since. `*` or absent: any version.",
            ))
            .schema(Some(
                ObjectBuilder::new()
                    .schema_type(Type::String)
                    .pattern(Some(r#"^(\*|(W/)?"?[0-9]+"?)$"#)),
            ))
            .build()]
    }
}

impl<S: Send + Sync> FromRequestParts<S> for IfMatch {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        let Some(v) = parts.headers.get(header::IF_MATCH) else {
            return Ok(IfMatch(None));
        };
        let raw = v.to_str().unwrap_or("").trim();
        if raw == "*" {
            return Ok(IfMatch(None));
        }
        let unquoted = raw.trim_start_matches("W/").trim_matches('"');
        unquoted
            .parse::<i64>()
            .map(|n| IfMatch(Some(n)))
            .map_err(|_| {
                ApiError::fields(
                    StatusCode::BAD_REQUEST,
                    "bad_if_match",
                    "If-Match must be an ETag this server sent, such as \"3\"",
                    vec![FieldError::new(
                        "If-Match",
                        "etag",
                        "not an ETag of this server",
                    )],
                )
            })
    }
}

/// How a request presents its secret.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Presented {
    /// `Authorization: Bearer …`: set by the program itself; a browser never adds it to a
    /// request another origin makes.
    Bearer,
    /// The console's session cookie, which the browser adds by itself to requests from any page
    /// of the same site, including another origin's.
    Cookie,
}

/// The secret a request presents: `Authorization: Bearer …`, or the console's session cookie.
fn presented_secret(parts: &Parts) -> Option<(String, Presented)> {
    let header = parts
        .headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    if let Some(t) = header
        .strip_prefix("Bearer ")
        .or_else(|| header.strip_prefix("bearer "))
    {
        return Some((t.trim().to_string(), Presented::Bearer));
    }
    let cookies = parts.headers.get_all(header::COOKIE);
    for value in cookies.iter().filter_map(|v| v.to_str().ok()) {
        for pair in value.split(';') {
            if let Some((k, v)) = pair.trim().split_once('=') {
                if k == crate::auth::SESSION_COOKIE {
                    return Some((v.to_string(), Presented::Cookie));
                }
            }
        }
    }
    None
}

/// Did the browser send this from a page of this origin? Modern browsers say so in
/// `Sec-Fetch-Site` (`none`: the person typed the address); otherwise an `Origin` must name
/// this host. Unlike the console's forms, which still need their CSRF token, the API has nothing
/// else to go on: a request that says neither is refused.
fn same_origin(parts: &Parts) -> bool {
    let headers = &parts.headers;
    if let Some(site) = headers.get("sec-fetch-site").and_then(|v| v.to_str().ok()) {
        return site == "same-origin" || site == "none";
    }
    // HTTP/2 names the host in the request line's authority rather than in `Host`.
    let host = headers
        .get(header::HOST)
        .and_then(|v| v.to_str().ok())
        .or_else(|| parts.uri.authority().map(|a| a.as_str()));
    match (
        headers.get(header::ORIGIN).and_then(|v| v.to_str().ok()),
        host,
    ) {
        (Some(origin), Some(host)) => origin
            .split_once("://")
            .is_some_and(|(_, rest)| rest.eq_ignore_ascii_case(host)),
        _ => false,
    }
}

async fn authenticate(
    parts: &Parts,
    state: &AppState,
    allow_pending: bool,
) -> Result<Caller, ApiError> {
    let Some((token, presented)) = presented_secret(parts) else {
        return Err(crate::error::Error::Unauthenticated.into());
    };
    if token.is_empty() || token.len() > 512 {
        return Err(crate::error::Error::Unauthenticated.into());
    }
    // The cookie rides along on requests a page of a sibling origin makes (same site, so
    // SameSite=Strict does not stop it): a change it authenticates must come from this origin.
    let reads_only = matches!(parts.method, Method::GET | Method::HEAD | Method::OPTIONS);
    if presented == Presented::Cookie && !reads_only && !same_origin(parts) {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "cross_origin_request",
            "a change authenticated by the session cookie must be sent from this server's own \
             pages: the browser must say Sec-Fetch-Site: same-origin, or send an Origin naming \
             this host; programs send their token as Authorization: Bearer",
        ));
    }
    Ok(Caller::authenticate(
        &state.dir,
        state.bootstrap_hash.as_deref(),
        &token,
        allow_pending,
    )
    .await?)
}

impl FromRequestParts<AppState> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        authenticate(parts, state, false).await
    }
}

/// A caller whose session may still be waiting for its second factor or 2FA enrolment.
pub struct PendingCaller(pub Caller);

impl FromRequestParts<AppState> for PendingCaller {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        authenticate(parts, state, true).await.map(PendingCaller)
    }
}

/// The socket peer, if the server recorded it.
fn peer(parts: &Parts) -> Option<std::net::IpAddr> {
    parts
        .extensions
        .get::<axum::extract::ConnectInfo<std::net::SocketAddr>>()
        .map(|c| c.0.ip())
}

fn header_values<'a>(parts: &'a Parts, name: &str) -> Vec<&'a str> {
    parts
        .headers
        .get_all(name)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .collect()
}

/// Source address, user agent and request id, for the audit log and throttling. The address
/// is the peer's, or the client a trusted proxy names (`trusted_proxies`, issue 9 item 12).
pub struct Client(pub ClientInfo);

impl FromRequestParts<AppState> for Client {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        if let Some(c) = parts.extensions.get::<ClientInfo>() {
            return Ok(Client(c.clone()));
        }
        Ok(Client(client_info(
            parts,
            String::new(),
            &state.trusted_proxies,
        )))
    }
}

fn client_info(parts: &Parts, request_id: String, trusted: &[crate::net::Cidr]) -> ClientInfo {
    let ip = match peer(parts) {
        Some(peer) => crate::net::client_address(
            peer,
            trusted,
            &header_values(parts, "forwarded"),
            &header_values(parts, "x-forwarded-for"),
        )
        .to_string(),
        None => "unknown".into(),
    };
    let user_agent = parts
        .headers
        .get(header::USER_AGENT)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string();
    ClientInfo {
        ip,
        user_agent,
        request_id,
    }
}

/// The request id header: taken from the client when it sends a sane one (so a proxy's or the
/// caller's id ties their logs to ours), generated otherwise, and echoed in every reply.
pub const REQUEST_ID: &str = "x-request-id";

/// Middleware: works out who the request comes from (address, agent, request id) once, makes
/// it the origin of everything the request records in the audit log, and echoes the id.
pub async fn request_context(
    axum::extract::State(state): axum::extract::State<AppState>,
    req: Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    let given = req
        .headers()
        .get(REQUEST_ID)
        .and_then(|v| v.to_str().ok())
        .filter(|v| !v.is_empty() && v.len() <= 128 && v.chars().all(|c| c.is_ascii_graphic()))
        .map(str::to_string);
    let id = given.unwrap_or_else(|| uuid::Uuid::new_v4().to_string());
    let (mut parts, body) = req.into_parts();
    let client = client_info(&parts, id.clone(), &state.trusted_proxies);
    parts.extensions.insert(client.clone());
    let req = Request::from_parts(parts, body);
    let mut res = crate::directory::audit::in_request(client, next.run(req)).await;
    if let Ok(v) = axum::http::HeaderValue::from_str(&id) {
        res.headers_mut().insert(REQUEST_ID, v);
    }
    res
}

/// The acting admin's password, when sent along with a sensitive change.
pub struct Reverify(pub Option<String>);

/// Sensitive changes list [`Reverify`] in their `params(...)`, so the document shows the header.
impl utoipa::IntoParams for Reverify {
    fn into_params(_: impl Fn() -> Option<ParameterIn>) -> Vec<Parameter> {
        vec![ParameterBuilder::new()
            .name(REVERIFY_HEADER)
            .parameter_in(ParameterIn::Header)
            .required(Required::False)
            .description(Some(
                "A sensitive change: people signed in with a password confirm their identity by \
                 sending it here, unless they did so (POST /api/v1/me/reverify) within the \
                 organization's re-verification window; otherwise 403 reverification_required.",
            ))
            .schema(Some(
                ObjectBuilder::new()
                    .schema_type(Type::String)
                    .format(Some(SchemaFormat::KnownFormat(KnownFormat::Password))),
            ))
            .build()]
    }
}

/// The header that carries the acting person's password with a sensitive change.
pub const REVERIFY_HEADER: &str = "X-Rolecall-Password";

impl<S: Send + Sync> FromRequestParts<S> for Reverify {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(Reverify(
            parts
                .headers
                .get(REVERIFY_HEADER)
                .and_then(|v| v.to_str().ok())
                .map(str::to_string),
        ))
    }
}

/// Whether the request reached us over TLS, directly or (said by a trusted proxy) before the
/// proxy: the session cookie is `Secure` then.
pub struct OverTls(pub bool);

impl AppState {
    /// Did the request reach us over TLS? Only a peer in `trusted_proxies` may say so, in
    /// `Forwarded: proto=https` (RFC 7239) or `X-Forwarded-Proto`; anyone else's headers are
    /// ignored. The one rule for the `Secure` flag of the API's ([`OverTls`]) and the console's
    /// cookies.
    pub fn over_tls(&self, parts: &Parts) -> bool {
        peer(parts).is_some_and(|peer| {
            crate::net::forwarded_https(
                peer,
                &self.trusted_proxies,
                &header_values(parts, "forwarded"),
                parts
                    .headers
                    .get("x-forwarded-proto")
                    .and_then(|v| v.to_str().ok()),
            )
        })
    }
}

impl FromRequestParts<AppState> for OverTls {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        Ok(OverTls(state.over_tls(parts)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_json_media_types_are_json() {
        for ct in [
            "application/json",
            "application/json; charset=utf-8",
            "Application/JSON",
            "application/merge-patch+json",
            " application/scim+json ;x=1",
        ] {
            assert!(is_json_media_type(ct), "{ct}");
        }
        for ct in [
            "text/plain;x=+json",
            "text/plain+json",
            "application/jsonp",
            "application/+json",
            "application/a/b+json",
            "application/a b+json",
            "",
        ] {
            assert!(!is_json_media_type(ct), "{ct}");
        }
    }

    fn parts(uri: &str, headers: &[(&str, &str)]) -> Parts {
        let mut req = axum::http::Request::builder().method("POST").uri(uri);
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        req.body(()).unwrap().into_parts().0
    }

    #[test]
    fn same_origin_follows_the_browser_or_the_origin() {
        let at = "/api/v1/sign-out";
        let host = ("host", "iam.example.com");
        let ours = ("origin", "https://iam.example.com");
        assert!(same_origin(&parts(
            at,
            &[host, ("sec-fetch-site", "same-origin")]
        )));
        assert!(same_origin(&parts(at, &[host, ("sec-fetch-site", "none")])));
        assert!(same_origin(&parts(at, &[host, ours])));
        // HTTP/2: the host is the request's authority.
        assert!(same_origin(&parts(
            "https://iam.example.com/api/v1/sign-out",
            &[ours]
        )));
        for refused in [
            vec![host, ("origin", "https://evil.example.com")],
            vec![host, ("sec-fetch-site", "same-site"), ours],
            vec![host, ("sec-fetch-site", "cross-site")],
            vec![host, ("origin", "null")],
            vec![host],
        ] {
            assert!(!same_origin(&parts(at, &refused)), "{refused:?}");
        }
    }
}
