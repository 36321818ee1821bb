//! SCIM clients (issue 14): create (the bearer secret shown once), list with last use, revoke.
//! A System admin's decision, like API credentials.

use super::extract::{Client, JsonBody, Reverify};
use super::{no_content, permit, permit_sensitive, ApiResult, AppState};
use crate::auth::Caller;
use crate::directory::scim_clients::NewScimClient;
use crate::store::scim_clients::ScimClient;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::Json;
use rolecall_core::admin::{Operation, Target};
use serde::Serialize;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_scim_clients, create_scim_client))
        .routes(routes!(get_scim_client, revoke_scim_client))
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ScimClientList {
    items: Vec<ScimClient>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct CreatedScimClient {
    client: ScimClient,
    /// The bearer secret, shown this once; only its hash is stored. Give it to the identity
    /// provider as the "Secret Token" (Entra) or "API token" (Okta).
    secret: String,
    /// Path of the SCIM base URL on this server; prefix it with the server's public address.
    scim_base_path: String,
}

/// SCIM clients of the organisation, with their last use.
#[utoipa::path(get, path = "/api/v1/organizations/{org}/scim-clients", tag = "scim clients", params(("org" = String, Path)),
    responses((status = 200, body = ScimClientList), (status = 403, body = super::problem::Problem)))]
async fn list_scim_clients(
    State(s): State<AppState>,
    caller: Caller,
    Path(org): Path<String>,
) -> ApiResult<Json<ScimClientList>> {
    let admin = permit(
        &s,
        &caller,
        &org,
        Operation::ManageCredentials,
        Target::Organization,
    )
    .await?;
    Ok(Json(ScimClientList {
        items: s.dir.scim_clients(&admin.org).await?,
    }))
}

/// Creates a SCIM client (needs identity re-verification). The secret works on `/scim/v2`
/// only.
#[utoipa::path(post, path = "/api/v1/organizations/{org}/scim-clients", tag = "scim clients", params(("org" = String, Path), Reverify), request_body = NewScimClient,
    responses((status = 201, body = CreatedScimClient), (status = 403, body = super::problem::Problem), (status = 422, body = super::problem::Problem)))]
async fn create_scim_client(
    State(s): State<AppState>,
    caller: Caller,
    Client(client): Client,
    Reverify(pw): Reverify,
    Path(org): Path<String>,
    body: JsonBody<NewScimClient>,
) -> ApiResult<(StatusCode, Json<CreatedScimClient>)> {
    let admin = permit_sensitive(
        &s,
        &caller,
        &org,
        Operation::ManageCredentials,
        Target::Organization,
        pw.as_deref(),
        &client,
    )
    .await?;
    // The body is read only once the caller is known to be allowed (issue 9 item 15).
    let body = body.parse()?;
    let (sc, secret) = s.dir.create_scim_client(&admin, body, &client).await?;
    Ok((
        StatusCode::CREATED,
        Json(CreatedScimClient {
            client: sc,
            secret,
            scim_base_path: "/scim/v2".into(),
        }),
    ))
}

#[utoipa::path(get, path = "/api/v1/organizations/{org}/scim-clients/{id}", tag = "scim clients", params(("org" = String, Path), ("id" = String, Path)),
    responses((status = 200, body = ScimClient), (status = 404, body = super::problem::Problem)))]
async fn get_scim_client(
    State(s): State<AppState>,
    caller: Caller,
    Path((org, id)): Path<(String, String)>,
) -> ApiResult<Json<ScimClient>> {
    let admin = permit(
        &s,
        &caller,
        &org,
        Operation::ManageCredentials,
        Target::Organization,
    )
    .await?;
    Ok(Json(s.dir.scim_client(&admin.org, &id).await?))
}

/// Revokes a SCIM client at once; what it provisioned stays.
#[utoipa::path(delete, path = "/api/v1/organizations/{org}/scim-clients/{id}", tag = "scim clients", params(("org" = String, Path), ("id" = String, Path)),
    responses((status = 204), (status = 404, body = super::problem::Problem), (status = 409, body = super::problem::Problem)))]
async fn revoke_scim_client(
    State(s): State<AppState>,
    caller: Caller,
    Client(client): Client,
    Path((org, id)): Path<(String, String)>,
) -> ApiResult<Response> {
    let admin = permit(
        &s,
        &caller,
        &org,
        Operation::ManageCredentials,
        Target::Organization,
    )
    .await?;
    s.dir.revoke_scim_client(&admin, &id, &client).await?;
    Ok(no_content())
}
