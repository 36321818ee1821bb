//! `POST /users/{id}/offboard` (issue 11): deactivate or delete a person across every
//! application in one step, answering (and recording) everything withdrawn.

use super::extract::{Client, JsonBody, Reverify};
use super::problem::Problem;
use super::{parse_id, permit_sensitive, ApiResult, AppState};
use crate::auth::Caller;
use crate::directory::credentials::{CredentialDecision, CredentialPlan};
use crate::directory::offboard::{OffboardMode, OffboardReport};
use axum::extract::{Path, State};
use axum::Json;
use rolecall_core::admin::{Operation, Target};
use rolecall_core::model::UserId;
use serde::Deserialize;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(offboard))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Offboard {
    /// `deactivate` (memberships and roles stay on record, void) or `delete` (a tombstone keeps
    /// name and e-mail).
    mode: OffboardMode,
    /// Required when the person created live API credentials: `revoke`, `keep`, or `transfer`
    /// them to `transfer_to`.
    credentials: Option<CredentialDecision>,
    /// With `credentials: transfer`: the active person who takes the credentials over.
    transfer_to: Option<UserId>,
}

/// Offboards a person in one transaction: sessions ended, seats released, memberships and
/// roles removed (kept but void when deactivating), admin rights removed, API credentials
/// revoked, kept or transferred, invitations withdrawn. The owner and the last System admin
/// cannot be offboarded. Identity verification is required.
#[utoipa::path(post, path = "/api/v1/organizations/{org}/users/{id}/offboard", tag = "users",
    params(("org" = String, Path), ("id" = String, Path), Reverify),
    request_body = Offboard,
    responses(
        (status = 200, body = OffboardReport, content_type = "application/json", description = "Everything withdrawn, field by field (also recorded in the audit log)"),
        (status = 401, body = Problem, content_type = "application/problem+json", description = "No or unknown credentials"),
        (status = 403, body = Problem, content_type = "application/problem+json", description = "The caller may not remove users (or not this one), or must re-verify their identity"),
        (status = 404, body = Problem, content_type = "application/problem+json", description = "No such organization or user"),
        (status = 409, body = Problem, content_type = "application/problem+json", description = "The owner, the last System admin, the last active holder of an application's Administrators role, a service account, or live credentials without a decision"),
        (status = 415, body = Problem, content_type = "application/problem+json", description = "The body is not JSON"),
        (status = 422, body = Problem, content_type = "application/problem+json", description = "`mode`, `credentials` or `transfer_to` is invalid"),
    ))]
async fn offboard(
    State(s): State<AppState>,
    caller: Caller,
    Client(client): Client,
    Reverify(pw): Reverify,
    Path((org, id)): Path<(String, String)>,
    body: JsonBody<Offboard>,
) -> ApiResult<Json<OffboardReport>> {
    let admin = permit_sensitive(
        &s,
        &caller,
        &org,
        Operation::RemoveUser,
        Target::Organization,
        pw.as_deref(),
        &client,
    )
    .await?;
    let id = parse_id::<UserId>("user", &id)?;
    // The body is read only once the caller is known to be allowed (issue 9 item 15).
    let body = body.parse()?;
    let plan = CredentialPlan::from_wire(body.credentials, body.transfer_to)?;
    Ok(Json(s.dir.offboard(&admin, id, body.mode, plan).await?))
}
