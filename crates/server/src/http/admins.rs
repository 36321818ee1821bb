//! Administrators: the admin rights people hold, granted and revoked under the delegation rule,
//! and the account owner.

use super::extract::{ApiQuery, Client, JsonBody, Reverify};
use super::{no_content, parse_id, permit, permit_sensitive, ApiResult, AppState};
use crate::auth::Caller;
use crate::directory::admins::Admin;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::Json;
use rolecall_core::admin::{AdminRight, Operation, Target};
use rolecall_core::model::UserId;
use serde::{Deserialize, Serialize};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_admins))
        .routes(routes!(user_rights, grant_right, revoke_right))
        .routes(routes!(get_owner, transfer_owner))
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct AdminList {
    items: Vec<Admin>,
}

/// Everyone holding admin rights (Users › Administrators).
#[utoipa::path(get, path = "/api/v1/organizations/{org}/admins", tag = "administrators", params(("org" = String, Path)), responses((status = 200, body = AdminList)))]
async fn list_admins(
    State(s): State<AppState>,
    caller: Caller,
    Path(org): Path<String>,
) -> ApiResult<Json<AdminList>> {
    let admin = permit(
        &s,
        &caller,
        &org,
        Operation::ViewAdmins,
        Target::Organization,
    )
    .await?;
    Ok(Json(AdminList {
        items: s.dir.admins(&admin.org).await?,
    }))
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct RightList {
    items: Vec<AdminRight>,
}

#[utoipa::path(get, path = "/api/v1/organizations/{org}/users/{id}/admin-rights", tag = "administrators", params(("org" = String, Path), ("id" = String, Path)),
    responses((status = 200, body = RightList)))]
async fn user_rights(
    State(s): State<AppState>,
    caller: Caller,
    Path((org, id)): Path<(String, String)>,
) -> ApiResult<Json<RightList>> {
    let admin = permit(
        &s,
        &caller,
        &org,
        Operation::ViewAdmins,
        Target::Organization,
    )
    .await?;
    let user = parse_id::<UserId>("user", &id)?;
    s.dir.get_user(&admin.org, user).await?;
    Ok(Json(RightList {
        items: s.dir.admin_rights(admin.org.id, user).await?,
    }))
}

/// Grants an admin right (at or below the caller's own, over what the caller administers;
/// needs identity re-verification). The user is notified by e-mail.
#[utoipa::path(post, path = "/api/v1/organizations/{org}/users/{id}/admin-rights", tag = "administrators", params(("org" = String, Path), ("id" = String, Path), Reverify),
    request_body = AdminRight, responses((status = 201), (status = 200), (status = 403, body = super::problem::Problem)))]
async fn grant_right(
    State(s): State<AppState>,
    caller: Caller,
    Client(client): Client,
    Reverify(pw): Reverify,
    Path((org, id)): Path<(String, String)>,
    right: JsonBody<AdminRight>,
) -> ApiResult<StatusCode> {
    let admin = permit_sensitive(
        &s,
        &caller,
        &org,
        Operation::ViewAdmins,
        Target::Organization,
        pw.as_deref(),
        &client,
    )
    .await?;
    let right = right.parse()?;
    let added = s
        .dir
        .grant_right(&admin, parse_id::<UserId>("user", &id)?, right, &client)
        .await?;
    Ok(if added {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    })
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct RightQuery {
    /// system, product, product_profile, user_group, deployment, support or storage
    #[param(value_type = rolecall_core::admin::RightKind, inline)]
    kind: String,
    /// The application, profile id or group id for scoped rights.
    target: Option<String>,
}

/// Revokes an admin right under the same rule. The user stays; the last active System admin
/// and the account owner cannot lose System admin.
#[utoipa::path(delete, path = "/api/v1/organizations/{org}/users/{id}/admin-rights", tag = "administrators",
    params(("org" = String, Path), ("id" = String, Path), RightQuery, Reverify), responses((status = 204), (status = 409, body = super::problem::Problem)))]
async fn revoke_right(
    State(s): State<AppState>,
    caller: Caller,
    Client(client): Client,
    Reverify(pw): Reverify,
    Path((org, id)): Path<(String, String)>,
    ApiQuery(q): ApiQuery<RightQuery>,
) -> ApiResult<Response> {
    let admin = permit_sensitive(
        &s,
        &caller,
        &org,
        Operation::ViewAdmins,
        Target::Organization,
        pw.as_deref(),
        &client,
    )
    .await?;
    let right = AdminRight::from_row(&q.kind, q.target.as_deref().unwrap_or(""))
        .ok_or_else(|| rolecall_core::Error::invalid("kind", "enum", "must be system, product, product_profile, user_group, deployment, support or storage"))?;
    s.dir
        .revoke_right(&admin, parse_id::<UserId>("user", &id)?, right, &client)
        .await?;
    Ok(no_content())
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Owner {
    owner_id: Option<UserId>,
}

#[utoipa::path(get, path = "/api/v1/organizations/{org}/owner", tag = "administrators", params(("org" = String, Path)), responses((status = 200, body = Owner)))]
async fn get_owner(
    State(s): State<AppState>,
    caller: Caller,
    Path(org): Path<String>,
) -> ApiResult<Json<Owner>> {
    let admin = permit(
        &s,
        &caller,
        &org,
        Operation::ViewAdmins,
        Target::Organization,
    )
    .await?;
    Ok(Json(Owner {
        owner_id: admin.org.owner_id,
    }))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Transfer {
    user_id: UserId,
}

/// Transfers account ownership to another active System admin (the owner only).
#[utoipa::path(put, path = "/api/v1/organizations/{org}/owner", tag = "administrators", params(("org" = String, Path), Reverify), request_body = Transfer,
    responses((status = 200, body = Owner), (status = 403, body = super::problem::Problem), (status = 422, body = super::problem::Problem)))]
async fn transfer_owner(
    State(s): State<AppState>,
    caller: Caller,
    Client(client): Client,
    Reverify(pw): Reverify,
    Path(org): Path<String>,
    body: JsonBody<Transfer>,
) -> ApiResult<Json<Owner>> {
    let admin = permit_sensitive(
        &s,
        &caller,
        &org,
        Operation::TransferOwnership,
        Target::Organization,
        pw.as_deref(),
        &client,
    )
    .await?;
    let body = body.parse()?;
    let org = s
        .dir
        .transfer_ownership(&admin, body.user_id, &client)
        .await?;
    Ok(Json(Owner {
        owner_id: org.owner_id,
    }))
}
