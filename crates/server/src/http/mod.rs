//! The REST API under `/api/v1`: one router per resource, merged by [`app`], with the OpenAPI 3.1
//! document generated from the same handler annotations so it cannot drift.
//!
//! Architecture Invariant: handlers are thin. They authenticate (the [`Caller`] extractor),
//! obtain a typed permission handle, call one `Directory` use case and shape the response.

// Axum handlers take one argument per extractor.
#![allow(clippy::too_many_arguments)]

mod admins;
pub mod audit; // the audit log: browse, export, head, verify, prune
pub(crate) mod bulk; // bulk user files: import (issue 12)
mod bulk_changes; // many users at once; a product withdrawn (issue 12)
mod check;
mod credentials;
pub mod extract;
mod groups;
mod health; // liveness, readiness, the document itself
mod invitations; // "Get started" invitations
mod offboard; // offboarding in one step (issue 11)
mod openapi; // the document, completed by rule
mod orgs;
pub mod problem;
mod profiles; // products and product profiles
pub(crate) mod reports; // access reports (issue 11)
mod roles;
mod scim_clients; // SCIM clients (issue 14)
mod session;
mod users;

use crate::auth::{Caller, OrgAdmin};
use crate::directory::signin::ClientInfo;
use crate::directory::Directory;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::{Json, Router};
use problem::ApiError;
use rolecall_core::admin::{Operation, Target};
use serde::{Deserialize, Serialize};
use std::sync::Arc;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};
use utoipa_axum::router::OpenApiRouter;

#[derive(Clone)]
pub struct AppState {
    pub dir: Arc<Directory>,
    /// SHA-256 of the environment's bootstrap token.
    pub bootstrap_hash: Option<Arc<str>>,
    pub throttle: Arc<Throttle>,
    /// Peers whose forwarding headers name the client (`trusted_proxies`).
    pub trusted_proxies: Arc<[crate::net::Cidr]>,
    /// How long a request may take to send its body.
    pub body_timeout: std::time::Duration,
    /// Per-organisation rate limit of `/scim/v2` (issue 14).
    pub scim_limiter: Arc<crate::scim::ScimLimiter>,
}

/// The throttle's window; also the `Retry-After` of its 429 answers.
pub const THROTTLE_WINDOW_SECS: u32 = 60;

impl AppState {
    pub fn new(
        dir: Arc<Directory>,
        bootstrap_hash: Option<Arc<str>>,
        sign_in_limit_per_minute: u32,
    ) -> AppState {
        AppState {
            dir,
            bootstrap_hash,
            throttle: Arc::new(Throttle::new(
                sign_in_limit_per_minute,
                i64::from(THROTTLE_WINDOW_SECS) * 1000,
            )),
            trusted_proxies: Arc::from(Vec::new()),
            body_timeout: crate::config::ConnectionLimits::default().body_read_timeout,
            scim_limiter: Arc::new(crate::scim::ScimLimiter::default()),
        }
    }

    /// The state a configured server runs with.
    pub fn from_config(dir: Arc<Directory>, config: &crate::config::Config) -> AppState {
        let mut state = AppState::new(
            dir,
            config.bootstrap_token_hash.as_deref().map(Arc::from),
            config.sign_in_limit_per_minute,
        );
        state.trusted_proxies = Arc::from(config.trusted_proxies.clone());
        state.body_timeout = config.limits.body_read_timeout;
        state
    }

    /// Counts a password attempt from `client` (sign-in, reset, re-verification): 429 once
    /// the address is over its limit for the window.
    pub fn throttled(&self, client: &ClientInfo) -> Result<(), ApiError> {
        if self.throttle.allow(&client.ip, self.dir.now()) {
            Ok(())
        } else {
            Err(crate::error::Error::TooManyRequests.into())
        }
    }
}

/// Per-address limit on sign-in and reset attempts (on top of per-account lockout). Per node:
/// a determined attacker spreading over nodes still meets the account lockout.
pub struct Throttle {
    limit: u32,
    window_ms: i64,
    seen: std::sync::Mutex<std::collections::HashMap<String, (i64, u32)>>,
}

impl Throttle {
    pub fn new(limit: u32, window_ms: i64) -> Throttle {
        Throttle {
            limit,
            window_ms,
            seen: std::sync::Mutex::new(std::collections::HashMap::new()),
        }
    }

    /// Counts an attempt from `ip`; false once the address is over its limit for the window.
    pub fn allow(&self, ip: &str, now: i64) -> bool {
        let Ok(mut seen) = self.seen.lock() else {
            return true;
        };
        if seen.len() > 100_000 {
            seen.retain(|_, (start, _)| now - *start < self.window_ms);
        }
        let entry = seen.entry(ip.to_string()).or_insert((now, 0));
        if now - entry.0 >= self.window_ms {
            *entry = (now, 0);
        }
        entry.1 += 1;
        entry.1 <= self.limit
    }
}

pub type ApiResult<T> = Result<T, ApiError>;

#[derive(OpenApi)]
#[openapi(
    info(title = "rolecall", description = "Who may do what in a commerce back office: users, groups, roles over hierarchical ACL trees, scopes, and authorization checks.\n\nEvery operation may answer 503 `database_busy` (application/problem+json, with `Retry-After`) when the database cannot take the request in time, and 408 `body_timeout` when a body does not arrive in time. A method a path does not support answers 405 `method_not_allowed` (application/problem+json, with `Allow`). Every answer carries `Cache-Control: no-store`."),
    modifiers(&BearerAuth),
    security(("bearer" = [])),
    components(schemas(problem::Problem, crate::directory::credentials::CredentialDecision, rolecall_core::admin::RightKind))
)]
struct ApiDoc;

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
    }
}

/// Builds the whole HTTP application; tests serve it on port 0.
pub fn app(state: AppState) -> Router {
    let (router, _) = api_router().split_for_parts();
    router
        .merge(crate::scim::router()) // SCIM 2.0 at /scim/v2 (issue 14)
        .merge(crate::console::router()) // the web admin console at /console
        .fallback(|| async {
            ApiError::new(StatusCode::NOT_FOUND, "not_found", "no such endpoint")
        })
        // After every route: a known path with an unknown method (issue 9 item 15).
        .method_not_allowed_fallback(|| async {
            ApiError::new(
                StatusCode::METHOD_NOT_ALLOWED,
                "method_not_allowed",
                "this path does not support the method; see Allow",
            )
        })
        // Answers carry secrets (session tokens, TOTP secrets, recovery codes, credentials) and
        // personal data: nothing is kept by browsers or intermediaries (issue 9 item 15).
        .layer(axum::middleware::map_response(
            |mut res: Response| async move {
                res.headers_mut()
                    .entry(header::CACHE_CONTROL)
                    .or_insert(HeaderValue::from_static("no-store"));
                res
            },
        ))
        // Whatever answers with an error (axum's own rejections, 405), answers problem+json.
        .layer(axum::middleware::map_response(problem::uniform))
        .layer(axum::extract::DefaultBodyLimit::max(1024 * 1024))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            extract::request_context,
        ))
        .layer(tower_http::trace::TraceLayer::new_for_http())
        .with_state(state)
}

/// The OpenAPI document, for the CLI and tests.
pub fn openapi() -> serde_json::Value {
    openapi::document().clone()
}

fn api_router() -> OpenApiRouter<AppState> {
    OpenApiRouter::with_openapi(ApiDoc::openapi())
        .merge(orgs::router())
        .merge(users::router())
        .merge(groups::router())
        .merge(roles::router())
        .merge(check::router())
        .merge(session::router())
        .merge(credentials::router())
        .merge(admins::router())
        .merge(profiles::router()) // products and product profiles
        .merge(invitations::router()) // "Get started" invitations
        .merge(audit::router())
        .merge(health::router())
        .merge(scim_clients::router()) // SCIM clients (issue 14)
        .merge(reports::router())
        .merge(offboard::router())
        .merge(bulk::router()) // bulk user files
        .merge(bulk_changes::router()) // many users at once (issue 12)
}

/// Resolves the organization in the path and checks the caller holds System-level rights there.
pub(crate) async fn org_admin(state: &AppState, caller: &Caller, key: &str) -> ApiResult<OrgAdmin> {
    let org = state.dir.org(key).await?;
    Ok(caller.admin_of(org)?)
}

/// The permission matrix, asked once per endpoint: may the caller perform `op` on `target` in
/// the organization named in the path?
pub(crate) async fn permit(
    state: &AppState,
    caller: &Caller,
    key: &str,
    op: Operation,
    target: Target<'_>,
) -> ApiResult<OrgAdmin> {
    let org = state.dir.org(key).await?;
    Ok(caller.permit(org, op, &target)?)
}

/// As [`permit`], for the sensitive changes that also need identity re-verification. A
/// password sent along is a guess like any other: throttled per address and counted towards
/// the account's lockout (issue 9 item 7).
pub(crate) async fn permit_sensitive(
    state: &AppState,
    caller: &Caller,
    key: &str,
    op: Operation,
    target: Target<'_>,
    password: Option<&str>,
    client: &ClientInfo,
) -> ApiResult<OrgAdmin> {
    let org = state.dir.org(key).await?;
    let admin = caller.permit(org, op, &target)?;
    if password.is_some() && caller.session().is_some() {
        state.throttled(client)?;
    }
    caller.reverified(&state.dir, password, client).await?;
    Ok(admin)
}

/// Before reading a body that names the target (the application of a new role, say): may the
/// caller perform `op` anywhere in this organisation? A caller who may not learns 403 before
/// anything about the body; the exact target is checked once the body is parsed.
pub(crate) async fn permit_somewhere(
    state: &AppState,
    caller: &Caller,
    key: &str,
    op: Operation,
) -> ApiResult<()> {
    let org = state.dir.org(key).await?;
    Ok(caller.permit_somewhere(&org, op)?)
}

/// The application a role belongs to, for scoping a permission; `None` when there is no such
/// role (then only organisation-wide admins pass, and the use case reports the unknown id).
pub(crate) async fn role_application(
    state: &AppState,
    key: &str,
    role: &str,
) -> ApiResult<Option<String>> {
    let org = state.dir.org(key).await?;
    let Ok(id) = role.parse() else {
        return Ok(None);
    };
    match state.dir.get_role(&org, id).await {
        Ok(r) => Ok(Some(r.application)),
        Err(crate::error::Error::Domain(rolecall_core::Error::NotFound { .. })) => Ok(None),
        Err(e) => Err(e.into()),
    }
}

/// A target naming an application when known, else the whole organization.
pub(crate) fn app_target(app: &Option<String>) -> Target<'_> {
    match app {
        Some(a) => Target::Application(a),
        None => Target::Organization,
    }
}

/// A JSON body with the object's version as its ETag, for `If-Match` on the next write.
pub(crate) fn with_etag<T: Serialize>(status: StatusCode, version: i64, body: &T) -> Response {
    let mut res = (status, Json(body)).into_response();
    if let Ok(v) = HeaderValue::from_str(&format!("\"{version}\"")) {
        res.headers_mut().insert(header::ETAG, v);
    }
    res
}

pub(crate) fn parse_id<T: std::str::FromStr>(entity: &'static str, raw: &str) -> ApiResult<T> {
    raw.parse::<T>()
        .map_err(|_| rolecall_core::Error::not_found(entity, raw).into())
}

/// Page selection shared by every list.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct Paging {
    /// 1-based page number (default 1).
    #[param(minimum = 1, maximum = 1_000_000)]
    pub page: Option<i64>,
    /// Items per page (default 50).
    #[param(minimum = 1, maximum = 500)]
    pub per_page: Option<i64>,
}

pub(crate) fn paging(page: Option<i64>, per_page: Option<i64>) -> ApiResult<(i64, i64)> {
    let page = page.unwrap_or(1);
    let per_page = per_page.unwrap_or(50);
    let mut errors = Vec::new();
    if !(1..=1_000_000).contains(&page) {
        errors.push(rolecall_core::FieldError::new(
            "page",
            "range",
            "must be between 1 and 1000000",
        ));
    }
    if !(1..=500).contains(&per_page) {
        errors.push(rolecall_core::FieldError::new(
            "per_page",
            "range",
            "must be between 1 and 500",
        ));
    }
    if errors.is_empty() {
        Ok((page, per_page))
    } else {
        Err(rolecall_core::Error::Invalid(errors).into())
    }
}

/// Empty 204 response.
pub(crate) fn no_content() -> Response {
    StatusCode::NO_CONTENT.into_response()
}
