//! The authorization check applications call, its batch form, and effective permissions.

use super::extract::{ApiQuery, JsonBody};
use super::{parse_id, ApiResult, AppState};
use crate::auth::Caller;
use crate::directory::{BatchAnswer, BatchCheck};
use axum::extract::{Path, State};
use axum::Json;
use rolecall_core::authz::{EffectivePermission, Explanation};
use rolecall_core::model::UserId;
use serde::{Deserialize, Serialize};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(check))
        .routes(routes!(check_batch))
        .routes(routes!(effective_permissions))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CheckRequest {
    user_id: String,
    application: String,
    resource: String,
    /// An action the resource declares; absent means any use of the resource.
    action: Option<String>,
    /// A scope code; absent means the application's root scope.
    scope: Option<String>,
}

/// May this user do this? Answers allow or deny with the roles (and groups) that decided it.
#[utoipa::path(post, path = "/api/v1/organizations/{org}/check", tag = "check", params(("org" = String, Path)), request_body = CheckRequest,
    responses((status = 200, body = Explanation), (status = 422, body = super::problem::Problem)))]
async fn check(
    State(s): State<AppState>,
    caller: Caller,
    Path(org): Path<String>,
    body: JsonBody<CheckRequest>,
) -> ApiResult<Json<Explanation>> {
    let admin = caller.checker_of(s.dir.org(&org).await?)?;
    let body = body.parse()?;
    let user = body
        .user_id
        .parse::<UserId>()
        .map_err(|_| rolecall_core::Error::invalid("user_id", "uuid", "must be a user id"))?;
    let e = s
        .dir
        .check(
            &admin.org,
            user,
            &body.application,
            &body.resource,
            body.action.as_deref(),
            body.scope.as_deref(),
        )
        .await?;
    Ok(Json(e))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BatchRequest {
    /// At most 1000 checks, decided against one consistent snapshot.
    checks: Vec<BatchCheck>,
    /// Include explanations (slower).
    #[serde(default)]
    explain: bool,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct BatchResponse {
    /// One answer per check, in order.
    results: Vec<BatchAnswer>,
}

#[utoipa::path(post, path = "/api/v1/organizations/{org}/check/batch", tag = "check", params(("org" = String, Path)), request_body = BatchRequest,
    responses((status = 200, body = BatchResponse), (status = 422, body = super::problem::Problem)))]
async fn check_batch(
    State(s): State<AppState>,
    caller: Caller,
    Path(org): Path<String>,
    body: JsonBody<BatchRequest>,
) -> ApiResult<Json<BatchResponse>> {
    let admin = caller.checker_of(s.dir.org(&org).await?)?;
    let body = body.parse()?;
    if body.checks.len() > 1000 {
        return Err(rolecall_core::Error::invalid(
            "checks",
            "max_items",
            "at most 1000 checks per batch",
        )
        .into());
    }
    let results = s
        .dir
        .check_batch(&admin.org, &body.checks, body.explain)
        .await?;
    Ok(Json(BatchResponse { results }))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct EffectiveQuery {
    /// Application key.
    #[param(value_type = rolecall_core::validate::Slug, inline)]
    application: String,
    /// Scope code; the root scope when absent.
    #[param(value_type = Option<rolecall_core::validate::ScopeCode>, inline)]
    scope: Option<String>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct EffectiveList {
    items: Vec<EffectivePermission>,
}

/// Everything the user may do in an application at a scope.
#[utoipa::path(get, path = "/api/v1/organizations/{org}/users/{id}/effective-permissions", tag = "check",
    params(("org" = String, Path), ("id" = String, Path), EffectiveQuery), responses((status = 200, body = EffectiveList)))]
async fn effective_permissions(
    State(s): State<AppState>,
    caller: Caller,
    Path((org, id)): Path<(String, String)>,
    ApiQuery(q): ApiQuery<EffectiveQuery>,
) -> ApiResult<Json<EffectiveList>> {
    let admin = caller.checker_of(s.dir.org(&org).await?)?;
    let items = s
        .dir
        .effective_permissions(
            &admin.org,
            parse_id::<UserId>("user", &id)?,
            &q.application,
            q.scope.as_deref(),
        )
        .await?;
    Ok(Json(EffectiveList { items }))
}
