//! Getting in and out: sign-in with password and TOTP, 2FA enrolment (QR code, recovery codes),
//! "Get started" from an invitation, password reset from the mailed token, an expired password,
//! sign-out, and "My account" (my sessions, my password).
//!
//! Tokens from e-mails (invitation, reset) never travel in a URL: the mailed link opens the
//! page, and the person pastes the token from the mail into the form.

use super::form::{pre_session, Posted};
use super::view::{self, bare_page, csrf, date, Errors, Field, Section};
use super::{done, or_error, ConsoleError, Ctx, OverTls, Page, PendingCtx};
use crate::auth::SESSION_COOKIE;
use crate::directory::signin::{ClientInfo, STAGE_ENROL, STAGE_FULL, STAGE_PASSWORD, STAGE_TOTP};
use crate::http::AppState;
use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::Router;
use maud::{html, Markup};
use serde::Deserialize;

pub(super) fn router() -> Router<AppState> {
    Router::new()
        .route("/console/sign-in", get(sign_in_page).post(sign_in))
        .route("/console/sign-in/code", get(code_page).post(code))
        .route("/console/enrol", get(enrol_page).post(enrol))
        .route("/console/password", get(expired_page).post(expired))
        .route("/console/sign-out", post(sign_out))
        .route(
            "/console/get-started",
            get(get_started_page).post(get_started),
        )
        .route("/console/reset", get(reset_page).post(reset))
        .route(
            "/console/reset/confirm",
            get(reset_confirm_page).post(reset_confirm),
        )
        .route("/console/me", get(me))
        .route("/console/me/password", post(change_password))
        .route("/console/me/sessions/{id}/end", post(end_my_session))
}

/// The organisation last signed in to, so the field is filled next time (not secret).
const ORG_COOKIE: &str = "rolecall_org";

#[derive(Debug, Deserialize)]
struct OrgQuery {
    org: Option<String>,
}

fn remembered_org(headers: &HeaderMap, q: &OrgQuery) -> String {
    q.org
        .clone()
        .or_else(|| super::cookie(headers, ORG_COOKIE).map(str::to_string))
        .unwrap_or_default()
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_')
        .take(64)
        .collect()
}

fn with_cookie(mut res: Response, cookie: Option<String>) -> Response {
    if let Some(v) = cookie.and_then(|c| HeaderValue::from_str(&c).ok()) {
        res.headers_mut().append(header::SET_COOKIE, v);
    }
    res
}

fn session_cookie(token: &str, max_age_secs: i64, tls: bool) -> String {
    let secure = if tls { "; Secure" } else { "" };
    format!("{SESSION_COOKIE}={token}; HttpOnly; SameSite=Strict; Path=/; Max-Age={max_age_secs}{secure}")
}

fn clear_session_cookie() -> String {
    format!("{SESSION_COOKIE}=; HttpOnly; SameSite=Strict; Path=/; Max-Age=0")
}

/// Where a session in `stage` continues.
fn next_step(stage: &str) -> &'static str {
    match stage {
        STAGE_TOTP => "/console/sign-in/code",
        STAGE_ENROL => "/console/enrol",
        STAGE_PASSWORD => "/console/password",
        _ => "/console/",
    }
}

fn flash_of(headers: &HeaderMap) -> Markup {
    html! {
        @if let Some(msg) = view::flash_from(headers) {
            div.notice.ok role="status" { (msg) }
        }
    }
}

// ------------------------------------------------------------------ sign-in

fn sign_in_form(token: &str, org: &str, login: &str, error: Option<&str>, flash: Markup) -> Markup {
    html! {
        (flash)
        @if let Some(e) = error { div.notice.error role="alert" { p { (e) } } }
        form method="post" action="/console/sign-in" {
            (csrf(token))
            (Field::text("org", "Organization", org).required().autocomplete("organization").hint("The short name of your organization, e.g. acme").render(&Errors::default()))
            (Field::text("login", "Username or e-mail", login).required().autocomplete("username").max(254).render(&Errors::default()))
            (Field::text("password", "Password", "").kind("password").required().autocomplete("current-password").max(4096).render(&Errors::default()))
            div.actions { button.primary type="submit" { "Sign in" } }
        }
        p.muted { a href={ "/console/reset?org=" (view::url_encode(org)) } { "Forgot your password?" } }
    }
}

async fn sign_in_page(
    headers: HeaderMap,
    OverTls(tls): OverTls,
    Query(q): Query<OrgQuery>,
) -> Response {
    let (token, set) = pre_session(&headers, tls);
    let org = remembered_org(&headers, &q);
    let res = bare_page(
        "Sign in",
        sign_in_form(&token, &org, "", None, flash_of(&headers)),
    );
    with_cookie(res, set)
}

async fn sign_in(
    State(s): State<AppState>,
    headers: HeaderMap,
    OverTls(tls): OverTls,
    client: Client,
    form: Posted,
) -> Response {
    let client = client.0;
    let (token, _) = pre_session(&headers, tls);
    let org_key = form.get("org").trim().to_string();
    let login = form.get("login").trim().to_string();
    let fail = |msg: &str, status: StatusCode| {
        let mut res = bare_page(
            "Sign in",
            sign_in_form(&token, &org_key, &login, Some(msg), html! {}),
        );
        *res.status_mut() = status;
        res
    };
    if !s.throttle.allow(&client.ip, s.dir.now()) {
        return fail(
            "Too many sign-in attempts from your address. Wait a minute and try again.",
            StatusCode::TOO_MANY_REQUESTS,
        );
    }
    let password = form.get("password");
    let wrong =
        "The organization, username or password is wrong, or the account cannot sign in now.";
    if login.is_empty() || login.len() > 254 || password.is_empty() || password.len() > 4096 {
        return fail(wrong, StatusCode::UNAUTHORIZED);
    }
    let Ok(org) = s.dir.org(&org_key).await else {
        return fail(wrong, StatusCode::UNAUTHORIZED);
    };
    match s.dir.sign_in(&org, &login, password, &client).await {
        Ok(signed) => {
            let max_age = (signed.session.expires_at - signed.session.created_at) / 1000;
            let mut res = Redirect::to(next_step(&signed.session.stage)).into_response();
            for c in [
                session_cookie(&signed.token, max_age, tls),
                format!(
                    "{ORG_COOKIE}={}; Path=/console; SameSite=Strict; HttpOnly; Max-Age=31536000",
                    org.slug.as_str()
                ),
            ] {
                if let Ok(v) = HeaderValue::from_str(&c) {
                    res.headers_mut().append(header::SET_COOKIE, v);
                }
            }
            res
        }
        Err(crate::error::Error::TooManyRequests) => fail(
            "Too many sign-in attempts. Wait a minute and try again.",
            StatusCode::TOO_MANY_REQUESTS,
        ),
        Err(crate::error::Error::SignInFailed) => fail(wrong, StatusCode::UNAUTHORIZED),
        Err(e) => ConsoleError::from(e).into_response(),
    }
}

/// Source address and user agent for the sign-in log and throttling.
pub(crate) struct Client(pub ClientInfo);

impl<S: Send + Sync> axum::extract::FromRequestParts<S> for Client {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        _: &S,
    ) -> Result<Self, Self::Rejection> {
        Ok(Client(super::client_info(parts)))
    }
}

// ------------------------------------------------------------------ second factor

fn code_form(token: &str, error: Option<&str>) -> Markup {
    html! {
        @if let Some(e) = error { div.notice.error role="alert" { p { (e) } } }
        p { "Enter the 6-digit code from your authenticator app." }
        form method="post" action="/console/sign-in/code" {
            (csrf(token))
            div.field {
                label for="f-code" { "Authentication code" }
                input #f-code name="code" inputmode="numeric" pattern="[0-9 ]{6,7}" autocomplete="one-time-code" maxlength="7" autofocus;
            }
            details {
                summary { "Use a recovery code instead" }
                div.field {
                    label for="f-recovery" { "Recovery code" }
                    input #f-recovery name="recovery_code" autocomplete="off" maxlength="64";
                }
            }
            div.actions { button.primary type="submit" { "Verify" } }
        }
        (sign_out_link(token))
    }
}

fn sign_out_link(token: &str) -> Markup {
    html! {
        form method="post" action="/console/sign-out" {
            (csrf(token))
            button.link type="submit" { "Cancel and sign out" }
        }
    }
}

async fn code_page(p: PendingCtx) -> Response {
    if p.session.stage != STAGE_TOTP {
        return Redirect::to(next_step(&p.session.stage)).into_response();
    }
    bare_page("Two-step verification", code_form(&p.csrf, None))
}

async fn code(p: PendingCtx, form: Posted) -> Response {
    let result = p
        .state
        .dir
        .verify_second_factor(
            &p.session,
            form.opt("code"),
            form.opt("recovery_code"),
            &p.client,
        )
        .await;
    match result {
        Ok(()) => Redirect::to("/console/").into_response(),
        Err(crate::error::Error::Domain(rolecall_core::Error::Invalid(_)))
        | Err(crate::error::Error::SignInFailed) => {
            let mut res = bare_page(
                "Two-step verification",
                code_form(
                    &p.csrf,
                    Some("That code is wrong or expired. Try the next one."),
                ),
            );
            *res.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
            res
        }
        Err(e) => ConsoleError::from(e).into_response(),
    }
}

// ------------------------------------------------------------------ enrolment

/// The otpauth:// URI as an SVG QR code, drawn on the server: no script, no image request.
fn qr_svg(uri: &str) -> Markup {
    match qrcode::QrCode::new(uri.as_bytes()) {
        Ok(code) => view::raw(
            code.render::<qrcode::render::svg::Color>()
                .min_dimensions(200, 200)
                .quiet_zone(true)
                .dark_color(qrcode::render::svg::Color("#111"))
                .light_color(qrcode::render::svg::Color("#fff"))
                .build()
                // The renderer writes an XML prolog; inline SVG in HTML starts at <svg.
                .split_once("<svg")
                .map(|(_, rest)| {
                    format!(
                        "<svg role=\"img\" aria-label=\"QR code for your authenticator app\"{rest}"
                    )
                })
                .unwrap_or_default(),
        ),
        Err(_) => html! {},
    }
}

async fn enrol_page(p: PendingCtx) -> Response {
    if p.session.stage != STAGE_ENROL && p.session.stage != STAGE_FULL {
        return Redirect::to(next_step(&p.session.stage)).into_response();
    }
    match p.state.dir.begin_totp_enrolment(&p.session).await {
        Ok((secret, uri)) => bare_page(
            "Set up two-step verification",
            enrol_form(&p.csrf, &secret, &uri, None),
        ),
        Err(e) => ConsoleError::from(e).into_response(),
    }
}

fn enrol_form(token: &str, secret: &str, uri: &str, error: Option<&str>) -> Markup {
    html! {
        @if let Some(e) = error { div.notice.error role="alert" { p { (e) } } }
        ol.steps {
            li { "Open your authenticator app (any TOTP app) and scan this code:" }
        }
        div.qr { (qr_svg(uri)) }
        p { "Or type this key: " code #totp-secret data-secret=(secret) { (secret) } }
        ol.steps start="2" { li { "Enter the 6-digit code the app shows." } }
        form method="post" action="/console/enrol" {
            (csrf(token))
            input type="hidden" name="secret_shown" value="1";
            div.field {
                label for="f-code" { "Authentication code" }
                input #f-code name="code" inputmode="numeric" pattern="[0-9 ]{6,7}" autocomplete="one-time-code" maxlength="7" required autofocus;
            }
            div.actions { button.primary type="submit" { "Turn on two-step verification" } }
        }
        (sign_out_link(token))
    }
}

async fn enrol(p: PendingCtx, form: Posted) -> Response {
    match p
        .state
        .dir
        .confirm_totp(&p.session, form.get("code").trim(), &p.client)
        .await
    {
        Ok(codes) => bare_page(
            "Save your recovery codes",
            html! {
                div.notice.ok role="status" { p { "Two-step verification is on." } }
                p { "Each of these codes signs you in once if you lose your phone. They are shown only now: print them or keep them in your password manager." }
                ul.codes #recovery-codes { @for c in &codes { li { code { (c) } } } }
                div.actions { a.button.primary href="/console/" { "I have saved them — continue" } }
            },
        ),
        Err(crate::error::Error::Domain(rolecall_core::Error::Invalid(_))) => {
            // A wrong code: start over with a new secret so the QR code on screen stays valid.
            match p.state.dir.begin_totp_enrolment(&p.session).await {
                Ok((secret, uri)) => {
                    let mut res = bare_page(
                        "Set up two-step verification",
                        enrol_form(
                            &p.csrf,
                            &secret,
                            &uri,
                            Some("That code did not match. Scan the new code below and try again."),
                        ),
                    );
                    *res.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
                    res
                }
                Err(e) => ConsoleError::from(e).into_response(),
            }
        }
        Err(e) => ConsoleError::from(e).into_response(),
    }
}

// ------------------------------------------------------------------ expired password

fn password_fields(errors: &Errors, with_current: bool) -> Markup {
    html! {
        @if with_current {
            (Field::text("current_password", "Current password", "").kind("password").required().autocomplete("current-password").render(errors))
        }
        (Field::text("new_password", "New password", "").kind("password").required().autocomplete("new-password").hint("At least 8 characters; avoid common passwords and ones you used before.").render(errors))
        (Field::text("confirm_password", "Repeat the new password", "").kind("password").required().autocomplete("new-password").render(errors))
    }
}

fn mismatch(form: &Posted, new_field: &str) -> Option<Errors> {
    (form.get(new_field) != form.get("confirm_password")).then(|| {
        Errors(vec![rolecall_core::FieldError::new(
            "confirm_password",
            "mismatch",
            "the two passwords differ",
        )])
    })
}

async fn expired_page(p: PendingCtx) -> Response {
    if p.session.stage != STAGE_PASSWORD {
        return Redirect::to(next_step(&p.session.stage)).into_response();
    }
    bare_page(
        "Choose a new password",
        expired_form(&p.csrf, &Errors::default()),
    )
}

fn expired_form(token: &str, errors: &Errors) -> Markup {
    html! {
        p { "Your password has expired. Choose a new one to continue." }
        (view::error_summary(errors, &["current_password", "new_password", "confirm_password"]))
        form method="post" action="/console/password" {
            (csrf(token))
            (password_fields(errors, true))
            div.actions { button.primary type="submit" { "Change password" } }
        }
    }
}

async fn expired(p: PendingCtx, form: Posted) -> Response {
    if let Some(errors) = mismatch(&form, "new_password") {
        return bare_page("Choose a new password", expired_form(&p.csrf, &errors));
    }
    let r = p
        .state
        .dir
        .change_password(
            &p.session,
            form.get("current_password"),
            form.get("new_password"),
            &p.client,
        )
        .await;
    match r {
        // The session moved on to its second factor (or is complete): the console home
        // sends it on to whichever step is next.
        Ok(()) => Redirect::to("/console/").into_response(),
        Err(e) => match Errors::from_error(&e) {
            Some(errors) => {
                let mut res = bare_page("Choose a new password", expired_form(&p.csrf, &errors));
                *res.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
                res
            }
            None => ConsoleError::from(e).into_response(),
        },
    }
}

// ------------------------------------------------------------------ sign-out

async fn sign_out(
    State(s): State<AppState>,
    headers: HeaderMap,
    client: Client,
    _form: Posted,
) -> Response {
    if let Some(secret) = super::session_secret(&headers) {
        if let Ok(Some(session)) = s.dir.session(secret).await {
            if let Err(e) = s.dir.sign_out(&session, &client.0).await {
                return ConsoleError::from(e).into_response();
            }
        }
    }
    let mut res = done("/console/sign-in", "You are signed out.");
    if let Ok(v) = HeaderValue::from_str(&clear_session_cookie()) {
        res.headers_mut().append(header::SET_COOKIE, v);
    }
    res
}

// ------------------------------------------------------------------ invitations

fn token_field(errors: &Errors) -> Markup {
    html! {
        div.field.invalid[!errors.of("token").is_empty()] {
            label for="f-token" { "Token from the e-mail" }
            p.hint #f-token-hint { "Paste the token from the e-mail (it starts with rc_)." }
            input #f-token name="token" required autocomplete="off" maxlength="128" aria-describedby="f-token-hint";
            @for m in errors.of("token") { p.error-text { (m) } }
        }
    }
}

fn get_started_form(token: &str, org: &str, errors: &Errors) -> Markup {
    html! {
        p { "Welcome! Choose the password for your new account. After that you sign in and, if your organization asks for it, set up two-step verification." }
        (view::error_summary(errors, &["token", "password", "confirm_password"]))
        form method="post" action="/console/get-started" {
            (csrf(token))
            input type="hidden" name="org" value=(org);
            (token_field(errors))
            (Field::text("password", "Choose a password", "").kind("password").required().autocomplete("new-password").hint("At least 8 characters; avoid common passwords.").render(errors))
            (Field::text("confirm_password", "Repeat the password", "").kind("password").required().autocomplete("new-password").render(errors))
            div.actions { button.primary type="submit" { "Get started" } }
        }
    }
}

async fn get_started_page(
    headers: HeaderMap,
    OverTls(tls): OverTls,
    Query(q): Query<OrgQuery>,
) -> Response {
    let (token, set) = pre_session(&headers, tls);
    let org = remembered_org(&headers, &q);
    with_cookie(
        bare_page(
            "Get started",
            get_started_form(&token, &org, &Errors::default()),
        ),
        set,
    )
}

async fn get_started(
    State(s): State<AppState>,
    headers: HeaderMap,
    OverTls(tls): OverTls,
    client: Client,
    form: Posted,
) -> Response {
    let (token, _) = pre_session(&headers, tls);
    let org_key = form.get("org").to_string();
    let again = |errors: Errors| {
        let mut res = bare_page("Get started", get_started_form(&token, &org_key, &errors));
        *res.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
        res
    };
    if !s.throttle.allow(&client.0.ip, s.dir.now()) {
        return ConsoleError::Status(
            StatusCode::TOO_MANY_REQUESTS,
            "Too many attempts; wait a minute.".into(),
        )
        .into_response();
    }
    if let Some(errors) = mismatch(&form, "password") {
        return again(errors);
    }
    let invalid = || {
        Errors(vec![rolecall_core::FieldError::new(
            "token",
            "invitation_invalid",
            "the invitation is unknown, already used, expired or withdrawn",
        )])
    };
    let Ok(org) = s.dir.org(&org_key).await else {
        return again(invalid());
    };
    match s
        .dir
        .accept_invitation(
            &org,
            form.get("token").trim(),
            form.get("password"),
            &client.0,
        )
        .await
    {
        Ok(()) => done(
            &format!("/console/sign-in?org={}", org.slug.as_str()),
            "Your password is set. Sign in to continue.",
        ),
        Err(e) => match Errors::from_error(&e) {
            Some(errors) => again(errors),
            None => ConsoleError::from(e).into_response(),
        },
    }
}

// ------------------------------------------------------------------ password reset

async fn reset_page(
    headers: HeaderMap,
    OverTls(tls): OverTls,
    Query(q): Query<OrgQuery>,
) -> Response {
    let (token, set) = pre_session(&headers, tls);
    let org = remembered_org(&headers, &q);
    let body = html! {
        p { "Enter your organization and the e-mail address of your account. If it exists, we send a reset token to it; it is valid for one hour." }
        form method="post" action="/console/reset" {
            (csrf(&token))
            (Field::text("org", "Organization", &org).required().autocomplete("organization").render(&Errors::default()))
            (Field::text("email", "E-mail", "").kind("email").required().autocomplete("email").max(254).render(&Errors::default()))
            div.actions { button.primary type="submit" { "Send reset e-mail" } }
        }
        p.muted { a href="/console/sign-in" { "Back to sign-in" } }
    };
    with_cookie(bare_page("Reset your password", body), set)
}

async fn reset(State(s): State<AppState>, client: Client, form: Posted) -> Response {
    if !s.throttle.allow(&client.0.ip, s.dir.now()) {
        return ConsoleError::Status(
            StatusCode::TOO_MANY_REQUESTS,
            "Too many attempts; wait a minute.".into(),
        )
        .into_response();
    }
    let org_key = form.get("org").trim().to_string();
    // The same answer whether or not the organisation or address exists.
    if let Ok(org) = s.dir.org(&org_key).await {
        if let Err(e) = s
            .dir
            .request_password_reset(&org, form.get("email").trim(), &client.0)
            .await
        {
            return ConsoleError::from(e).into_response();
        }
    }
    done(
        &format!("/console/reset/confirm?org={}", view::url_encode(&org_key)),
        "If the address belongs to an account, a reset e-mail is on its way.",
    )
}

fn reset_confirm_form(token: &str, org: &str, errors: &Errors) -> Markup {
    html! {
        (view::error_summary(errors, &["token", "new_password", "confirm_password"]))
        form method="post" action="/console/reset/confirm" {
            (csrf(token))
            input type="hidden" name="org" value=(org);
            (token_field(errors))
            (password_fields(errors, false))
            div.actions { button.primary type="submit" { "Set new password" } }
        }
    }
}

async fn reset_confirm_page(
    headers: HeaderMap,
    OverTls(tls): OverTls,
    Query(q): Query<OrgQuery>,
) -> Response {
    let (token, set) = pre_session(&headers, tls);
    let org = remembered_org(&headers, &q);
    let body =
        html! { (flash_of(&headers)) (reset_confirm_form(&token, &org, &Errors::default())) };
    with_cookie(bare_page("Choose a new password", body), set)
}

async fn reset_confirm(
    State(s): State<AppState>,
    headers: HeaderMap,
    OverTls(tls): OverTls,
    client: Client,
    form: Posted,
) -> Response {
    let (token, _) = pre_session(&headers, tls);
    let org_key = form.get("org").to_string();
    let again = |errors: Errors| {
        let mut res = bare_page(
            "Choose a new password",
            reset_confirm_form(&token, &org_key, &errors),
        );
        *res.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
        res
    };
    if !s.throttle.allow(&client.0.ip, s.dir.now()) {
        return ConsoleError::Status(
            StatusCode::TOO_MANY_REQUESTS,
            "Too many attempts; wait a minute.".into(),
        )
        .into_response();
    }
    if let Some(errors) = mismatch(&form, "new_password") {
        return again(errors);
    }
    let Ok(org) = s.dir.org(&org_key).await else {
        return again(Errors(vec![rolecall_core::FieldError::new(
            "token",
            "reset_token_invalid",
            "the reset token is unknown, used or expired",
        )]));
    };
    match s
        .dir
        .confirm_password_reset(&org, form.get("token").trim(), form.get("new_password"), &client.0)
        .await
    {
        Ok(()) => done(
            &format!("/console/sign-in?org={}", org.slug.as_str()),
            "Your password is changed and your other sessions have ended. Sign in with the new password.",
        ),
        Err(e) => match Errors::from_error(&e) {
            Some(errors) => again(errors),
            None => ConsoleError::from(e).into_response(),
        },
    }
}

// ------------------------------------------------------------------ my account

async fn me(ctx: Ctx) -> Response {
    let r: Page = async {
        let sessions = ctx.dir().sessions_of(&ctx.org, ctx.me.id).await?;
        Ok(view::page(
            &ctx,
            "My account",
            Section::Me,
            my_account(&ctx, &sessions, &Errors::default()),
        ))
    }
    .await;
    or_error(&ctx, r)
}

fn my_account(ctx: &Ctx, sessions: &[crate::store::signin::Session], errors: &Errors) -> Markup {
    html! {
        dl.facts {
            dt { "Name" } dd { (view::display_name(&ctx.me)) }
            dt { "Username" } dd { (ctx.me.username.as_str()) }
            dt { "E-mail" } dd { (ctx.me.email.as_str()) }
            dt { "Organization" } dd { (ctx.org.name.as_str()) " (" (ctx.org.slug.as_str()) ")" }
            dt { "Administration rights" } dd {
                @if ctx.rights.is_empty() { span.muted { "none" } }
                @for r in &ctx.rights { span.badge { (super::admins::right_label(r)) } " " }
            }
        }
        h2 { "My sessions" }
        table.list {
            thead { tr { th scope="col" { "Signed in" } th scope="col" { "Last seen" } th scope="col" { "From" } th scope="col" { "Browser" } th scope="col" { span.sr-only { "Actions" } } } }
            tbody {
                @for s in sessions {
                    tr {
                        td { (date(Some(s.created_at))) }
                        td { (date(Some(s.last_seen_at))) }
                        td { (s.source_ip) }
                        td.ua { (s.user_agent) }
                        td {
                            @if s.id == ctx.session.id { span.badge.active { "this session" } }
                            @else { (view::action_button(&ctx.csrf, &format!("/console/me/sessions/{}/end", s.id), "End", true, Some("End this session?"))) }
                        }
                    }
                }
            }
        }
        h2 #password { "Change my password" }
        p.muted { "Your other sessions end when you change it." }
        (view::error_summary(errors, &["current_password", "new_password", "confirm_password"]))
        form method="post" action="/console/me/password" {
            (csrf(&ctx.csrf))
            (password_fields(errors, true))
            div.actions { button.primary type="submit" { "Change password" } }
        }
    }
}

async fn change_password(ctx: Ctx, form: Posted) -> Response {
    let r: Page = async {
        let result = match mismatch(&form, "new_password") {
            Some(errors) => Err(errors),
            None => match ctx
                .dir()
                .change_password(
                    &ctx.session,
                    form.get("current_password"),
                    form.get("new_password"),
                    &ctx.client,
                )
                .await
            {
                Ok(()) => Ok(()),
                Err(e) => match Errors::from_error(&e) {
                    Some(errors) => Err(errors),
                    None => return Err(e.into()),
                },
            },
        };
        match result {
            Ok(()) => Ok(done(
                "/console/me",
                "Your password is changed; your other sessions have ended.",
            )),
            Err(errors) => {
                let sessions = ctx.dir().sessions_of(&ctx.org, ctx.me.id).await?;
                let mut res = view::page(
                    &ctx,
                    "My account",
                    Section::Me,
                    my_account(&ctx, &sessions, &errors),
                );
                *res.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
                Ok(res)
            }
        }
    }
    .await;
    or_error(&ctx, r)
}

async fn end_my_session(ctx: Ctx, Path(id): Path<String>, _form: Posted) -> Response {
    let r: Page = async {
        ctx.dir()
            .end_own_session(&ctx.session, &id, &ctx.client)
            .await?;
        Ok(done("/console/me", "The session has ended."))
    }
    .await;
    or_error(&ctx, r)
}
