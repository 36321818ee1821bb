//! API credentials for integrations and service accounts.

use super::extract::{Client, JsonBody, Reverify};
use super::{no_content, permit, permit_sensitive, ApiResult, AppState};
use crate::auth::Caller;
use crate::directory::credentials::{Creator, NewCredential};
use crate::store::credentials::Credential;
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
        .routes(routes!(list_credentials, create_credential))
        .routes(routes!(get_credential, revoke_credential))
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct CredentialList {
    items: Vec<Credential>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct CreatedCredential {
    credential: Credential,
    /// The secret, shown this once; only its hash is stored. Send it as a bearer token.
    secret: String,
}

fn creator(caller: &Caller) -> Creator {
    match caller {
        Caller::User { session, .. } => Creator {
            user: Some(session.user_id),
            label: format!("user {}", session.user_id),
        },
        // A credential answers for nothing itself: what it creates is the person's behind it,
        // so offboarding that person finds it (and so does the upstream guard).
        Caller::Credential { credential, .. } => Creator {
            user: credential
                .created_by_user
                .as_deref()
                .and_then(|u| u.parse().ok()),
            label: format!("credential {}", credential.name),
        },
        Caller::Server { token } | Caller::Org { token, .. } => Creator {
            user: None,
            label: format!("token {token}"),
        },
    }
}

#[utoipa::path(get, path = "/api/v1/organizations/{org}/credentials", tag = "credentials", params(("org" = String, Path)), responses((status = 200, body = CredentialList)))]
async fn list_credentials(
    State(s): State<AppState>,
    caller: Caller,
    Path(org): Path<String>,
) -> ApiResult<Json<CredentialList>> {
    let admin = permit(
        &s,
        &caller,
        &org,
        Operation::ManageCredentials,
        Target::Organization,
    )
    .await?;
    Ok(Json(CredentialList {
        items: s.dir.credentials(&admin.org).await?,
    }))
}

/// Creates a credential (needs identity re-verification). Assign roles to its
/// `service_user_id` like to any user.
#[utoipa::path(post, path = "/api/v1/organizations/{org}/credentials", tag = "credentials", params(("org" = String, Path), Reverify), request_body = NewCredential,
    responses((status = 201, body = CreatedCredential), (status = 422, body = super::problem::Problem)))]
async fn create_credential(
    State(s): State<AppState>,
    caller: Caller,
    Client(client): Client,
    Reverify(pw): Reverify,
    Path(org): Path<String>,
    body: JsonBody<NewCredential>,
) -> ApiResult<(StatusCode, Json<CreatedCredential>)> {
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
    let body = body.parse()?;
    let (credential, secret) = s
        .dir
        .create_credential(&admin, body, creator(&caller), &client)
        .await?;
    Ok((
        StatusCode::CREATED,
        Json(CreatedCredential { credential, secret }),
    ))
}

#[utoipa::path(get, path = "/api/v1/organizations/{org}/credentials/{id}", tag = "credentials", params(("org" = String, Path), ("id" = String, Path)),
    responses((status = 200, body = Credential), (status = 404, body = super::problem::Problem)))]
async fn get_credential(
    State(s): State<AppState>,
    caller: Caller,
    Path((org, id)): Path<(String, String)>,
) -> ApiResult<Json<Credential>> {
    let admin = permit(
        &s,
        &caller,
        &org,
        Operation::ManageCredentials,
        Target::Organization,
    )
    .await?;
    Ok(Json(s.dir.credential(&admin.org, &id).await?))
}

/// Revokes a credential at once.
#[utoipa::path(delete, path = "/api/v1/organizations/{org}/credentials/{id}", tag = "credentials", params(("org" = String, Path), ("id" = String, Path)),
    responses((status = 204), (status = 404, body = super::problem::Problem), (status = 409, body = super::problem::Problem)))]
async fn revoke_credential(
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
    s.dir.revoke_credential(&admin, &id, &client).await?;
    Ok(no_content())
}
