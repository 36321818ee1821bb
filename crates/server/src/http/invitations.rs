//! "Get started" invitations over HTTP: invite, list, resend, withdraw (administrators, through
//! the permission matrix) and accept (public, throttled per address like sign-in).

use super::extract::{ApiJson, ApiQuery, Client, JsonBody, Reverify};
use super::{
    no_content, paging, parse_id, permit, permit_sensitive, with_etag, ApiResult, AppState, Paging,
};
use crate::auth::Caller;
use crate::directory::invitations::{invitation_invalid, Invitation, NewInvitation};
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::Json;
use rolecall_core::admin::{Operation, Target};
use rolecall_core::model::{User, UserId};
use serde::{Deserialize, Serialize};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_invitations, invite))
        .routes(routes!(accept))
        .routes(routes!(resend, withdraw))
}

/// Who is inviting, for the invitation's `invited_by`.
fn inviter(caller: &Caller) -> String {
    match caller {
        Caller::User { session, .. } => format!("user {}", session.user_id),
        Caller::Credential { credential, .. } => format!("credential {}", credential.name),
        Caller::Server { token } | Caller::Org { token, .. } => format!("token {token}"),
    }
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Invited {
    user: User,
    /// The invitation; its token went to the user by e-mail and is never shown here.
    invitation: Invitation,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct InvitationPage {
    items: Vec<Invitation>,
    page: i64,
    per_page: i64,
    total: i64,
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AcceptInvitation {
    /// The `rc_…` token from the invitation e-mail.
    token: String,
    /// The new password, under the organisation's password policy.
    password: String,
}

/// Adds a user as `invited` and e-mails them a single-use "Get started" token (valid 7 days).
/// The invitation grants no rights: roles and admin rights are granted separately.
#[utoipa::path(post, path = "/api/v1/organizations/{org}/invitations", tag = "invitations", params(("org" = String, Path), Reverify),
    request_body = NewInvitation,
    responses((status = 201, body = Invited), (status = 403, body = super::problem::Problem), (status = 422, body = super::problem::Problem)))]
async fn invite(
    State(s): State<AppState>,
    caller: Caller,
    Client(client): Client,
    Reverify(pw): Reverify,
    Path(org): Path<String>,
    body: JsonBody<NewInvitation>,
) -> ApiResult<Response> {
    let admin = permit_sensitive(
        &s,
        &caller,
        &org,
        Operation::AddUser,
        Target::Organization,
        pw.as_deref(),
        &client,
    )
    .await?;
    let body = body.parse()?;
    let (user, invitation) = s.dir.invite(&admin, body, &inviter(&caller)).await?;
    Ok(with_etag(
        StatusCode::CREATED,
        user.version,
        &Invited { user, invitation },
    ))
}

/// Open invitations of users who have not accepted yet (expired ones marked `expired`).
#[utoipa::path(get, path = "/api/v1/organizations/{org}/invitations", tag = "invitations", params(("org" = String, Path), Paging),
    responses((status = 200, body = InvitationPage), (status = 403, body = super::problem::Problem)))]
async fn list_invitations(
    State(s): State<AppState>,
    caller: Caller,
    Path(org): Path<String>,
    ApiQuery(q): ApiQuery<Paging>,
) -> ApiResult<Json<InvitationPage>> {
    let admin = permit(
        &s,
        &caller,
        &org,
        Operation::ViewUsers,
        Target::Organization,
    )
    .await?;
    let (page, per_page) = paging(q.page, q.per_page)?;
    let (items, total) = s.dir.list_invitations(&admin.org, page, per_page).await?;
    Ok(Json(InvitationPage {
        items,
        page,
        per_page,
        total,
    }))
}

/// Sends a new token to an invited user; the previous one stops working and the 7 days restart.
/// 409 when the user is not invited. Only a System admin or whoever sent the live token resends
/// it; a withdrawn invitation is sent again by a System admin only.
#[utoipa::path(post, path = "/api/v1/organizations/{org}/users/{id}/invitation", tag = "invitations", params(("org" = String, Path), ("id" = String, Path), Reverify),
    responses((status = 200, body = Invitation),
        (status = 403, body = super::problem::Problem, content_type = "application/problem+json", description = "Not an admin who may add users (`admin_required`); the invitation was sent by another admin, or there is no open invitation, and the caller is not a System admin (`invitation_of_another`); or the password must be re-entered (`reverification_required`)"),
        (status = 404, body = super::problem::Problem), (status = 409, body = super::problem::Problem)))]
async fn resend(
    State(s): State<AppState>,
    caller: Caller,
    Client(client): Client,
    Reverify(pw): Reverify,
    Path((org, id)): Path<(String, String)>,
) -> ApiResult<Json<Invitation>> {
    let admin = permit_sensitive(
        &s,
        &caller,
        &org,
        Operation::AddUser,
        Target::Organization,
        pw.as_deref(),
        &client,
    )
    .await?;
    let invitation = s
        .dir
        .resend_invitation(
            &admin,
            parse_id::<UserId>("user", &id)?,
            &inviter(&caller),
            &client,
        )
        .await?;
    Ok(Json(invitation))
}

/// Withdraws the open invitation: its token stops working; the user stays `invited`, without access.
/// Only a System admin or whoever sent the live token withdraws it.
#[utoipa::path(delete, path = "/api/v1/organizations/{org}/users/{id}/invitation", tag = "invitations", params(("org" = String, Path), ("id" = String, Path), Reverify),
    responses((status = 204),
        (status = 403, body = super::problem::Problem, content_type = "application/problem+json", description = "Not an admin who may add users (`admin_required`); the invitation was sent by another admin and the caller is not a System admin (`invitation_of_another`); or the password must be re-entered (`reverification_required`)"),
        (status = 404, body = super::problem::Problem)))]
async fn withdraw(
    State(s): State<AppState>,
    caller: Caller,
    Client(client): Client,
    Reverify(pw): Reverify,
    Path((org, id)): Path<(String, String)>,
) -> ApiResult<Response> {
    let admin = permit_sensitive(
        &s,
        &caller,
        &org,
        Operation::AddUser,
        Target::Organization,
        pw.as_deref(),
        &client,
    )
    .await?;
    s.dir
        .withdraw_invitation(&admin, parse_id::<UserId>("user", &id)?, &client)
        .await?;
    Ok(no_content())
}

/// Accepts an invitation (no authentication: the token is the proof): sets the password and
/// makes the user active. Every unusable token, and an unknown organization, get the same 422
/// `invitation_invalid`; password-policy problems name `password`.
#[utoipa::path(post, path = "/api/v1/organizations/{org}/invitations/accept", tag = "invitations", params(("org" = String, Path)),
    request_body = AcceptInvitation, security(()),
    responses((status = 204), (status = 422, body = super::problem::Problem), (status = 429, body = super::problem::Problem)))]
async fn accept(
    State(s): State<AppState>,
    Path(org): Path<String>,
    Client(client): Client,
    ApiJson(body): ApiJson<AcceptInvitation>,
) -> ApiResult<Response> {
    if !s.throttle.allow(&client.ip, s.dir.now()) {
        return Err(crate::error::Error::TooManyRequests.into());
    }
    if body.token.len() > 256 {
        return Err(invitation_invalid().into());
    }
    let org = s.dir.org(&org).await.map_err(|_| invitation_invalid())?;
    s.dir
        .accept_invitation(&org, &body.token, &body.password, &client)
        .await?;
    Ok(no_content())
}
