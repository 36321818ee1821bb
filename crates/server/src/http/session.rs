//! Sign-in, sessions, two-factor authentication, passwords and the sign-in event log.

use super::extract::{
    ApiJson, ApiQuery, Client, IfMatch, JsonBody, OverTls, PendingCaller, Reverify,
};
use super::{no_content, parse_id, permit, permit_sensitive, with_etag, ApiResult, AppState};
use crate::auth::{Caller, SESSION_COOKIE};
use crate::store::signin::{AuthEvent, Session};
use axum::extract::{Path, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use rolecall_core::admin::{Operation, Target};
use rolecall_core::model::{Millis, User, UserId};
use rolecall_core::settings::OrgSettings;
use serde::{Deserialize, Serialize};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(sign_in))
        .routes(routes!(sign_out))
        .routes(routes!(me))
        .routes(routes!(second_factor))
        .routes(routes!(totp_enrolment))
        .routes(routes!(totp_confirm))
        .routes(routes!(reverify))
        .routes(routes!(change_password))
        .routes(routes!(my_sessions))
        .routes(routes!(end_my_session))
        .routes(routes!(request_reset))
        .routes(routes!(confirm_reset))
        .routes(routes!(user_sessions, end_user_sessions))
        .routes(routes!(end_user_session))
        .routes(routes!(set_user_password))
        .routes(routes!(reset_user_2fa))
        .routes(routes!(bulk_reset_2fa))
        .routes(routes!(list_locks))
        .routes(routes!(unlock_user))
        .routes(routes!(auth_events))
        .routes(routes!(get_settings, put_settings))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SignInRequest {
    /// Username or e-mail.
    login: String,
    password: String,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct SignInResponse {
    /// The session secret, shown once: send it as a bearer token (the console uses the cookie).
    token: String,
    /// `full`, `totp` (send a code to /me/second-factor) or `enrol` (set up 2FA first).
    stage: String,
    session: Session,
}

fn session_cookie(token: &str, tls: bool, max_age_secs: i64) -> Option<HeaderValue> {
    // Secure when the request reached us over TLS (through a trusted proxy that says so).
    let secure = if tls { "; Secure" } else { "" };
    HeaderValue::from_str(&format!("{SESSION_COOKIE}={token}; HttpOnly; SameSite=Strict; Path=/; Max-Age={max_age_secs}{secure}")).ok()
}

/// Signs in with password; answers the same for every kind of failure.
#[utoipa::path(post, path = "/api/v1/organizations/{org}/sign-in", tag = "sign-in", params(("org" = String, Path)), request_body = SignInRequest, security(()),
    responses((status = 200, body = SignInResponse), (status = 401, body = super::problem::Problem), (status = 429, body = super::problem::Problem)))]
async fn sign_in(
    State(s): State<AppState>,
    Path(org): Path<String>,
    OverTls(tls): OverTls,
    Client(client): Client,
    ApiJson(body): ApiJson<SignInRequest>,
) -> ApiResult<Response> {
    s.throttled(&client)?;
    if body.login.len() > 254 || body.password.len() > 4096 {
        return Err(crate::error::Error::SignInFailed.into());
    }
    // An unknown organization fails like a wrong password.
    let org = s
        .dir
        .org(&org)
        .await
        .map_err(|_| crate::error::Error::SignInFailed)?;
    let signed_in = s
        .dir
        .sign_in(&org, &body.login, &body.password, &client)
        .await?;
    let max_age = (signed_in.session.expires_at - signed_in.session.created_at) / 1000;
    let mut res = Json(SignInResponse {
        token: signed_in.token.clone(),
        stage: signed_in.session.stage.clone(),
        session: signed_in.session,
    })
    .into_response();
    if let Some(cookie) = session_cookie(&signed_in.token, tls, max_age) {
        res.headers_mut().insert(header::SET_COOKIE, cookie);
    }
    Ok(res)
}

/// Ends the current session and clears the cookie.
#[utoipa::path(post, path = "/api/v1/sign-out", tag = "sign-in", responses((status = 204)))]
async fn sign_out(
    State(s): State<AppState>,
    PendingCaller(caller): PendingCaller,
    Client(client): Client,
) -> ApiResult<Response> {
    if let Some(session) = caller.session() {
        s.dir.sign_out(session, &client).await?;
    }
    let mut res = no_content();
    res.headers_mut().insert(
        header::SET_COOKIE,
        HeaderValue::from_static("rolecall_session=; HttpOnly; SameSite=Strict; Path=/; Max-Age=0"),
    );
    Ok(res)
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Me {
    user: User,
    session: Session,
    /// Organisation administration rights; empty until every factor of sign-in is passed.
    admin_rights: Vec<rolecall_core::admin::AdminRight>,
}

fn signed_in(caller: &Caller) -> ApiResult<&Session> {
    caller.session().ok_or_else(|| {
        rolecall_core::Error::forbidden(
            "session_required",
            "this endpoint is for signed-in users, not tokens",
        )
        .into()
    })
}

/// Who am I: the signed-in user, this session and my admin rights.
#[utoipa::path(get, path = "/api/v1/me", tag = "sign-in", responses((status = 200, body = Me)))]
async fn me(
    State(s): State<AppState>,
    PendingCaller(caller): PendingCaller,
) -> ApiResult<Json<Me>> {
    let session = signed_in(&caller)?.clone();
    let org = s.dir.org(&session.org_id.to_string()).await?;
    let user = s.dir.get_user(&org, session.user_id).await?;
    // A password alone (second factor pending, password expired) shows who you are, never
    // what you administer (issue 9 item 15).
    let admin_rights = if session.stage == crate::directory::signin::STAGE_FULL {
        s.dir.admin_rights(org.id, user.id).await?
    } else {
        Vec::new()
    };
    Ok(Json(Me {
        user,
        session,
        admin_rights,
    }))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SecondFactor {
    /// A 6-digit TOTP code…
    code: Option<String>,
    /// …or one of the single-use recovery codes.
    recovery_code: Option<String>,
}

/// Completes sign-in with a TOTP or recovery code.
#[utoipa::path(post, path = "/api/v1/me/second-factor", tag = "sign-in", request_body = SecondFactor,
    responses((status = 204), (status = 422, body = super::problem::Problem)))]
async fn second_factor(
    State(s): State<AppState>,
    PendingCaller(caller): PendingCaller,
    Client(client): Client,
    ApiJson(body): ApiJson<SecondFactor>,
) -> ApiResult<Response> {
    let session = signed_in(&caller)?;
    s.dir
        .verify_second_factor(
            session,
            body.code.as_deref(),
            body.recovery_code.as_deref(),
            &client,
        )
        .await?;
    Ok(no_content())
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Enrolment {
    /// Base32 secret for manual entry.
    secret: String,
    /// `otpauth://totp/…` for authenticator apps (the console shows it as a QR code).
    otpauth_uri: String,
}

/// Starts TOTP enrolment.
#[utoipa::path(post, path = "/api/v1/me/totp/enrolment", tag = "sign-in", responses((status = 200, body = Enrolment), (status = 409, body = super::problem::Problem)))]
async fn totp_enrolment(
    State(s): State<AppState>,
    PendingCaller(caller): PendingCaller,
) -> ApiResult<Json<Enrolment>> {
    let session = signed_in(&caller)?;
    let (secret, otpauth_uri) = s.dir.begin_totp_enrolment(session).await?;
    Ok(Json(Enrolment {
        secret,
        otpauth_uri,
    }))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CodeBody {
    code: String,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct RecoveryCodes {
    /// Ten single-use codes, shown this once; only their hashes are kept.
    recovery_codes: Vec<String>,
}

/// Confirms TOTP enrolment with a first code.
#[utoipa::path(post, path = "/api/v1/me/totp/confirm", tag = "sign-in", request_body = CodeBody,
    responses((status = 200, body = RecoveryCodes), (status = 422, body = super::problem::Problem)))]
async fn totp_confirm(
    State(s): State<AppState>,
    PendingCaller(caller): PendingCaller,
    Client(client): Client,
    ApiJson(body): ApiJson<CodeBody>,
) -> ApiResult<Json<RecoveryCodes>> {
    let session = signed_in(&caller)?;
    let recovery_codes = s.dir.confirm_totp(session, &body.code, &client).await?;
    Ok(Json(RecoveryCodes { recovery_codes }))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PasswordBody {
    password: String,
}

/// Re-enters the password, authorising sensitive changes for a few minutes.
#[utoipa::path(post, path = "/api/v1/me/reverify", tag = "sign-in", request_body = PasswordBody,
    responses((status = 204), (status = 403, body = super::problem::Problem)))]
async fn reverify(
    State(s): State<AppState>,
    caller: Caller,
    Client(client): Client,
    ApiJson(body): ApiJson<PasswordBody>,
) -> ApiResult<Response> {
    let session = signed_in(&caller)?;
    // A password guess like a sign-in: throttled per address, counted towards the lockout.
    s.throttled(&client)?;
    s.dir.reverify(session, &body.password, &client).await?;
    Ok(no_content())
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ChangePassword {
    current_password: String,
    new_password: String,
}

/// Changes my password; my other sessions end.
#[utoipa::path(post, path = "/api/v1/me/password", tag = "sign-in", request_body = ChangePassword,
    responses((status = 204), (status = 422, body = super::problem::Problem)))]
async fn change_password(
    State(s): State<AppState>,
    PendingCaller(caller): PendingCaller,
    Client(client): Client,
    ApiJson(body): ApiJson<ChangePassword>,
) -> ApiResult<Response> {
    let session = signed_in(&caller)?;
    s.throttled(&client)?;
    s.dir
        .change_password(session, &body.current_password, &body.new_password, &client)
        .await?;
    Ok(no_content())
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct SessionList {
    items: Vec<Session>,
}

/// My live sessions.
#[utoipa::path(get, path = "/api/v1/me/sessions", tag = "sessions", responses((status = 200, body = SessionList)))]
async fn my_sessions(State(s): State<AppState>, caller: Caller) -> ApiResult<Json<SessionList>> {
    let session = signed_in(&caller)?;
    let org = s.dir.org(&session.org_id.to_string()).await?;
    Ok(Json(SessionList {
        items: s.dir.sessions_of(&org, session.user_id).await?,
    }))
}

/// Ends one of my sessions.
#[utoipa::path(delete, path = "/api/v1/me/sessions/{id}", tag = "sessions", params(("id" = String, Path)), responses((status = 204), (status = 404, body = super::problem::Problem)))]
async fn end_my_session(
    State(s): State<AppState>,
    caller: Caller,
    Client(client): Client,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    let session = signed_in(&caller)?;
    s.dir.end_own_session(session, &id, &client).await?;
    Ok(no_content())
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ResetRequest {
    email: String,
}

/// Mails a single-use reset token (valid one hour). Always 202, whether or not the address exists.
#[utoipa::path(post, path = "/api/v1/organizations/{org}/password-reset", tag = "sign-in", params(("org" = String, Path)), request_body = ResetRequest, security(()),
    responses((status = 202)))]
async fn request_reset(
    State(s): State<AppState>,
    Path(org): Path<String>,
    Client(client): Client,
    ApiJson(body): ApiJson<ResetRequest>,
) -> ApiResult<StatusCode> {
    s.throttled(&client)?;
    if let Ok(org) = s.dir.org(&org).await {
        s.dir
            .request_password_reset(&org, &body.email, &client)
            .await?;
    }
    Ok(StatusCode::ACCEPTED)
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ResetConfirm {
    token: String,
    new_password: String,
}

/// Sets a new password with a reset token; every session of the user ends.
#[utoipa::path(post, path = "/api/v1/organizations/{org}/password-reset/confirm", tag = "sign-in", params(("org" = String, Path)), request_body = ResetConfirm, security(()),
    responses((status = 204), (status = 422, body = super::problem::Problem)))]
async fn confirm_reset(
    State(s): State<AppState>,
    Path(org): Path<String>,
    Client(client): Client,
    ApiJson(body): ApiJson<ResetConfirm>,
) -> ApiResult<Response> {
    let org = s.dir.org(&org).await?;
    s.dir
        .confirm_password_reset(&org, &body.token, &body.new_password, &client)
        .await?;
    Ok(no_content())
}

/// A user's live sessions (admins).
#[utoipa::path(get, path = "/api/v1/organizations/{org}/users/{id}/sessions", tag = "sessions", params(("org" = String, Path), ("id" = String, Path)),
    responses((status = 200, body = SessionList)))]
async fn user_sessions(
    State(s): State<AppState>,
    caller: Caller,
    Path((org, id)): Path<(String, String)>,
) -> ApiResult<Json<SessionList>> {
    let admin = permit(
        &s,
        &caller,
        &org,
        Operation::ManageSignIn,
        Target::Organization,
    )
    .await?;
    Ok(Json(SessionList {
        items: s
            .dir
            .sessions_of(&admin.org, parse_id::<UserId>("user", &id)?)
            .await?,
    }))
}

/// Ends every session of a user (admins).
#[utoipa::path(delete, path = "/api/v1/organizations/{org}/users/{id}/sessions", tag = "sessions", params(("org" = String, Path), ("id" = String, Path)),
    responses((status = 204)))]
async fn end_user_sessions(
    State(s): State<AppState>,
    caller: Caller,
    Client(client): Client,
    Path((org, id)): Path<(String, String)>,
) -> ApiResult<Response> {
    let admin = permit(
        &s,
        &caller,
        &org,
        Operation::ManageSignIn,
        Target::Organization,
    )
    .await?;
    s.dir
        .end_sessions(&admin, parse_id::<UserId>("user", &id)?, None, &client)
        .await?;
    Ok(no_content())
}

/// Ends one session of a user (admins).
#[utoipa::path(delete, path = "/api/v1/organizations/{org}/users/{id}/sessions/{session}", tag = "sessions",
    params(("org" = String, Path), ("id" = String, Path), ("session" = String, Path)), responses((status = 204), (status = 404, body = super::problem::Problem)))]
async fn end_user_session(
    State(s): State<AppState>,
    caller: Caller,
    Client(client): Client,
    Path((org, id, sid)): Path<(String, String, String)>,
) -> ApiResult<Response> {
    let admin = permit(
        &s,
        &caller,
        &org,
        Operation::ManageSignIn,
        Target::Organization,
    )
    .await?;
    s.dir
        .end_sessions(
            &admin,
            parse_id::<UserId>("user", &id)?,
            Some(&sid),
            &client,
        )
        .await?;
    Ok(no_content())
}

/// Sets a user's password (admins; needs identity re-verification); their sessions end.
#[utoipa::path(put, path = "/api/v1/organizations/{org}/users/{id}/password", tag = "sign-in", params(("org" = String, Path), ("id" = String, Path), Reverify),
    request_body = PasswordBody, responses((status = 204), (status = 422, body = super::problem::Problem)))]
async fn set_user_password(
    State(s): State<AppState>,
    caller: Caller,
    Client(client): Client,
    Reverify(pw): Reverify,
    Path((org, id)): Path<(String, String)>,
    body: JsonBody<PasswordBody>,
) -> ApiResult<Response> {
    let admin = permit_sensitive(
        &s,
        &caller,
        &org,
        Operation::ManageSignIn,
        Target::Organization,
        pw.as_deref(),
        &client,
    )
    .await?;
    let body = body.parse()?;
    s.dir
        .set_password(
            &admin,
            parse_id::<UserId>("user", &id)?,
            &body.password,
            &client,
        )
        .await?;
    Ok(no_content())
}

/// Resets one user's two-factor authentication; they enrol again at next sign-in.
#[utoipa::path(post, path = "/api/v1/organizations/{org}/users/{id}/2fa/reset", tag = "sign-in", params(("org" = String, Path), ("id" = String, Path), Reverify),
    responses((status = 204)))]
async fn reset_user_2fa(
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
        Operation::ManageSignIn,
        Target::Organization,
        pw.as_deref(),
        &client,
    )
    .await?;
    s.dir
        .reset_2fa(&admin, &[parse_id::<UserId>("user", &id)?], &client)
        .await?;
    Ok(no_content())
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BulkReset {
    user_ids: Vec<UserId>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct BulkResetResult {
    reset: usize,
}

/// Resets two-factor authentication for many users at once (all or nothing).
#[utoipa::path(post, path = "/api/v1/organizations/{org}/2fa/reset", tag = "sign-in", params(("org" = String, Path), Reverify), request_body = BulkReset,
    responses((status = 200, body = BulkResetResult), (status = 422, body = super::problem::Problem)))]
async fn bulk_reset_2fa(
    State(s): State<AppState>,
    caller: Caller,
    Client(client): Client,
    Reverify(pw): Reverify,
    Path(org): Path<String>,
    body: JsonBody<BulkReset>,
) -> ApiResult<Json<BulkResetResult>> {
    let admin = permit_sensitive(
        &s,
        &caller,
        &org,
        Operation::ManageSignIn,
        Target::Organization,
        pw.as_deref(),
        &client,
    )
    .await?;
    let body = body.parse()?;
    if body.user_ids.is_empty() || body.user_ids.len() > 1000 {
        return Err(
            rolecall_core::Error::invalid("user_ids", "count", "name 1 to 1000 users").into(),
        );
    }
    let reset = s.dir.reset_2fa(&admin, &body.user_ids, &client).await?;
    Ok(Json(BulkResetResult { reset }))
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Lock {
    user_id: UserId,
    username: String,
    locked_until: Millis,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct LockList {
    items: Vec<Lock>,
}

/// Accounts locked by failed sign-ins.
#[utoipa::path(get, path = "/api/v1/organizations/{org}/locks", tag = "sign-in", params(("org" = String, Path)), responses((status = 200, body = LockList)))]
async fn list_locks(
    State(s): State<AppState>,
    caller: Caller,
    Path(org): Path<String>,
) -> ApiResult<Json<LockList>> {
    let admin = permit(
        &s,
        &caller,
        &org,
        Operation::ManageSignIn,
        Target::Organization,
    )
    .await?;
    let items = s
        .dir
        .locked_users(&admin.org)
        .await?
        .into_iter()
        .map(|(user_id, username, locked_until)| Lock {
            user_id,
            username,
            locked_until,
        })
        .collect();
    Ok(Json(LockList { items }))
}

/// Lifts a lock.
#[utoipa::path(delete, path = "/api/v1/organizations/{org}/users/{id}/lock", tag = "sign-in", params(("org" = String, Path), ("id" = String, Path)), responses((status = 204)))]
async fn unlock_user(
    State(s): State<AppState>,
    caller: Caller,
    Client(client): Client,
    Path((org, id)): Path<(String, String)>,
) -> ApiResult<Response> {
    let admin = permit(
        &s,
        &caller,
        &org,
        Operation::ManageSignIn,
        Target::Organization,
    )
    .await?;
    s.dir
        .unlock(&admin, parse_id::<UserId>("user", &id)?, &client)
        .await?;
    Ok(no_content())
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct EventQuery {
    /// Only this user's events.
    #[param(format = Uuid)]
    user: Option<String>,
    /// At most this many, newest first (default 100).
    #[param(minimum = 1, maximum = 1000)]
    limit: Option<i64>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct EventList {
    items: Vec<AuthEvent>,
}

/// Sign-in successes and failures, locks, resets and revocations, newest first.
#[utoipa::path(get, path = "/api/v1/organizations/{org}/auth-events", tag = "sign-in", params(("org" = String, Path), EventQuery), responses((status = 200, body = EventList)))]
async fn auth_events(
    State(s): State<AppState>,
    caller: Caller,
    Path(org): Path<String>,
    ApiQuery(q): ApiQuery<EventQuery>,
) -> ApiResult<Json<EventList>> {
    let admin = permit(
        &s,
        &caller,
        &org,
        Operation::ViewAuthEvents,
        Target::Organization,
    )
    .await?;
    let user = q
        .user
        .as_deref()
        .map(|u| {
            u.parse::<UserId>()
                .map_err(|_| rolecall_core::Error::invalid("user", "uuid", "must be a user id"))
        })
        .transpose()?;
    let limit = q.limit.unwrap_or(100);
    if !(1..=1000).contains(&limit) {
        return Err(
            rolecall_core::Error::invalid("limit", "range", "must be between 1 and 1000").into(),
        );
    }
    Ok(Json(EventList {
        items: s.dir.auth_events(&admin.org, user, limit).await?,
    }))
}

/// The organization's security settings.
#[utoipa::path(get, path = "/api/v1/organizations/{org}/settings", tag = "organizations", params(("org" = String, Path)), responses((status = 200, body = OrgSettings)))]
async fn get_settings(
    State(s): State<AppState>,
    caller: Caller,
    Path(org): Path<String>,
) -> ApiResult<Response> {
    let admin = permit(
        &s,
        &caller,
        &org,
        Operation::ViewSettings,
        Target::Organization,
    )
    .await?;
    let (settings, version) = s.dir.settings(&admin.org).await?;
    Ok(with_etag(StatusCode::OK, version, &settings))
}

/// Replaces the security settings (absent fields take their defaults).
#[utoipa::path(put, path = "/api/v1/organizations/{org}/settings", tag = "organizations", params(("org" = String, Path), IfMatch, Reverify), request_body = OrgSettings,
    responses((status = 200, body = OrgSettings), (status = 422, body = super::problem::Problem)))]
async fn put_settings(
    State(s): State<AppState>,
    caller: Caller,
    Client(client): Client,
    Reverify(pw): Reverify,
    IfMatch(v): IfMatch,
    Path(org): Path<String>,
    body: JsonBody<OrgSettings>,
) -> ApiResult<Response> {
    let admin = permit_sensitive(
        &s,
        &caller,
        &org,
        Operation::ManageSettings,
        Target::Organization,
        pw.as_deref(),
        &client,
    )
    .await?;
    let body = body.parse()?;
    let (settings, version) = s.dir.put_settings(&admin, body, v).await?;
    Ok(with_etag(StatusCode::OK, version, &settings))
}
