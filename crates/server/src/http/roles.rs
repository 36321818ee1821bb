//! Roles and their grants.

use super::extract::{ApiQuery, IfMatch, JsonBody};
use super::{
    app_target, no_content, parse_id, permit, permit_somewhere, role_application, with_etag,
    ApiResult, AppState,
};
use crate::auth::Caller;
use crate::directory::{NewRole, RolePatch};
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::Json;
use rolecall_core::admin::{Operation, Target};
use rolecall_core::model::{Grant, Role, RoleId};
use serde::{Deserialize, Serialize};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_roles, create_role))
        .routes(routes!(get_role, update_role, delete_role))
        .routes(routes!(get_grants, put_grants))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct RoleQuery {
    /// Only roles of this application.
    application: Option<String>,
    /// Case-insensitive text in the name.
    q: Option<String>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct RoleList {
    items: Vec<Role>,
}

#[utoipa::path(get, path = "/api/v1/organizations/{org}/roles", tag = "roles", params(("org" = String, Path), RoleQuery), responses((status = 200, body = RoleList)))]
async fn list_roles(
    State(s): State<AppState>,
    caller: Caller,
    Path(org): Path<String>,
    ApiQuery(q): ApiQuery<RoleQuery>,
) -> ApiResult<Json<RoleList>> {
    let admin = permit(
        &s,
        &caller,
        &org,
        Operation::ViewRoles,
        Target::Organization,
    )
    .await?;
    Ok(Json(RoleList {
        items: s
            .dir
            .list_roles(
                &admin.org,
                q.application.as_deref(),
                q.q.as_deref().filter(|t| !t.is_empty()),
            )
            .await?,
    }))
}

/// Creates a role of one application, optionally limited to scopes.
#[utoipa::path(post, path = "/api/v1/organizations/{org}/roles", tag = "roles", params(("org" = String, Path)), request_body = NewRole,
    responses((status = 201, body = Role), (status = 422, body = super::problem::Problem)))]
async fn create_role(
    State(s): State<AppState>,
    caller: Caller,
    Path(org): Path<String>,
    body: JsonBody<NewRole>,
) -> ApiResult<Response> {
    permit_somewhere(&s, &caller, &org, Operation::ManageRoles).await?;
    let body = body.parse()?;
    let admin = permit(
        &s,
        &caller,
        &org,
        Operation::ManageRoles,
        Target::Application(&body.application),
    )
    .await?;
    let role = s.dir.create_role(&admin, body).await?;
    Ok(with_etag(StatusCode::CREATED, role.version, &role))
}

#[utoipa::path(get, path = "/api/v1/organizations/{org}/roles/{id}", tag = "roles", params(("org" = String, Path), ("id" = String, Path)),
    responses((status = 200, body = Role), (status = 404, body = super::problem::Problem)))]
async fn get_role(
    State(s): State<AppState>,
    caller: Caller,
    Path((org, id)): Path<(String, String)>,
) -> ApiResult<Response> {
    let admin = permit(
        &s,
        &caller,
        &org,
        Operation::ViewRoles,
        Target::Organization,
    )
    .await?;
    let role = s
        .dir
        .get_role(&admin.org, parse_id::<RoleId>("role", &id)?)
        .await?;
    Ok(with_etag(StatusCode::OK, role.version, &role))
}

/// Renames, re-describes, re-grants or re-scopes a role; the built-in role refuses (409).
#[utoipa::path(patch, path = "/api/v1/organizations/{org}/roles/{id}", tag = "roles", params(("org" = String, Path), ("id" = String, Path), IfMatch),
    request_body = RolePatch, responses((status = 200, body = Role), (status = 409, body = super::problem::Problem), (status = 412, body = super::problem::Problem)))]
async fn update_role(
    State(s): State<AppState>,
    caller: Caller,
    Path((org, id)): Path<(String, String)>,
    IfMatch(v): IfMatch,
    body: JsonBody<RolePatch>,
) -> ApiResult<Response> {
    let app = role_application(&s, &org, &id).await?;
    let admin = permit(&s, &caller, &org, Operation::ManageRoles, app_target(&app)).await?;
    let body = body.parse()?;
    let role = s
        .dir
        .update_role(&admin, parse_id::<RoleId>("role", &id)?, body, v)
        .await?;
    Ok(with_etag(StatusCode::OK, role.version, &role))
}

/// Deletes a role; its holders keep their accounts.
#[utoipa::path(delete, path = "/api/v1/organizations/{org}/roles/{id}", tag = "roles", params(("org" = String, Path), ("id" = String, Path), IfMatch),
    responses((status = 204), (status = 409, body = super::problem::Problem)))]
async fn delete_role(
    State(s): State<AppState>,
    caller: Caller,
    Path((org, id)): Path<(String, String)>,
    IfMatch(v): IfMatch,
) -> ApiResult<Response> {
    let app = role_application(&s, &org, &id).await?;
    let admin = permit(&s, &caller, &org, Operation::ManageRoles, app_target(&app)).await?;
    s.dir
        .delete_role(&admin, parse_id::<RoleId>("role", &id)?, v)
        .await?;
    Ok(no_content())
}

#[derive(Debug, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct GrantList {
    grants: Vec<Grant>,
}

#[utoipa::path(get, path = "/api/v1/organizations/{org}/roles/{id}/grants", tag = "roles", params(("org" = String, Path), ("id" = String, Path)),
    responses((status = 200, body = GrantList)))]
async fn get_grants(
    State(s): State<AppState>,
    caller: Caller,
    Path((org, id)): Path<(String, String)>,
) -> ApiResult<Response> {
    let admin = permit(
        &s,
        &caller,
        &org,
        Operation::ViewRoles,
        Target::Organization,
    )
    .await?;
    let role = s
        .dir
        .get_role(&admin.org, parse_id::<RoleId>("role", &id)?)
        .await?;
    Ok(with_etag(
        StatusCode::OK,
        role.version,
        &GrantList {
            grants: role.grants,
        },
    ))
}

/// Replaces the role's grants as a whole.
#[utoipa::path(put, path = "/api/v1/organizations/{org}/roles/{id}/grants", tag = "roles", params(("org" = String, Path), ("id" = String, Path), IfMatch),
    request_body = GrantList, responses((status = 200, body = GrantList), (status = 409, description = "The built-in Administrators role cannot be edited.", body = super::problem::Problem), (status = 422, body = super::problem::Problem)))]
async fn put_grants(
    State(s): State<AppState>,
    caller: Caller,
    Path((org, id)): Path<(String, String)>,
    IfMatch(v): IfMatch,
    body: JsonBody<GrantList>,
) -> ApiResult<Response> {
    let app = role_application(&s, &org, &id).await?;
    let admin = permit(&s, &caller, &org, Operation::ManageRoles, app_target(&app)).await?;
    let body = body.parse()?;
    let patch = RolePatch {
        grants: Some(body.grants),
        ..Default::default()
    };
    let role = s
        .dir
        .update_role(&admin, parse_id::<RoleId>("role", &id)?, patch, v)
        .await?;
    Ok(with_etag(
        StatusCode::OK,
        role.version,
        &GrantList {
            grants: role.grants,
        },
    ))
}
