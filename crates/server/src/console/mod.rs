//! The web admin console at `/console`: server-rendered HTML (maud) with a little progressive
//! JavaScript, for the people who run a back office (issue 15).
//!
//! Architecture Invariant: the console is an adapter like `http`. A page authenticates with
//! [`Caller`], gets an `OrgAdmin` only through `Caller::permit` / `permit_sensitive` (the
//! permission matrix in `rolecall_core::admin`), and calls the same `Directory` use cases as the
//! REST API; it never touches SQL and has no rules of its own. What a page *shows* is decided by
//! asking the same matrix ([`Ctx::can`]) — and the server refuses anyway when a form is forged.
//!
//! One module per page group: `signin` (sign-in, 2FA, invitations, resets, my account), `users`,
//! `roles`, `groups`, `products`, `admins`, `org` (invitations, credentials, locks, scopes,
//! settings), `explain`, `audit`, `reports` (stale accounts, access review, seats) and `scim` (SCIM
//! clients); `users/import` holds bulk import and export, `users/offboard` offboarding. `view` holds the layout and widgets, `form` the CSRF-checked form
//! extractor and the re-verification dialog.

mod admins;
mod audit; // the audit log viewer (issue 11)
mod explain;
mod form;
mod groups;
mod org;
mod products;
mod reports; // access reports and stale accounts (issue 11)
mod roles;
mod scim; // SCIM clients (issue 14)
mod signin;
mod users;
mod view;

use crate::auth::{Caller, OrgAdmin, SESSION_COOKIE};
use crate::credentials::secret::hash_secret;
use crate::directory::signin::{ClientInfo, STAGE_ENROL, STAGE_FULL, STAGE_PASSWORD, STAGE_TOTP};
use crate::http::problem::ApiError;
use crate::http::AppState;
use crate::store::signin::Session;
use axum::extract::{FromRequestParts, Request};
use axum::http::{header, request::Parts, HeaderMap, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{any, get};
use axum::Router;
use maud::html;
use rolecall_core::admin::{authorize, AdminRight, Operation, Target};
use rolecall_core::model::{Organization, User};

pub(crate) use form::Posted;

/// Where the console lives.
pub const BASE: &str = "/console";

/// The CSP every console response carries: no inline script or style, nothing from elsewhere,
/// never framed.
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

/// The console's routes, mounted by `http::app`.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/console", get(home))
        .route("/console/", get(home))
        .route("/console/assets/{name}", get(view::asset))
        .merge(signin::router())
        .merge(users::router())
        .merge(roles::router())
        .merge(groups::router())
        .merge(products::router())
        .merge(admins::router())
        .merge(org::router())
        .merge(explain::router())
        .merge(audit::router())
        .merge(reports::router())
        .merge(scim::router())
        .route("/console/{*rest}", any(not_found))
        .layer(axum::middleware::from_fn(security_headers))
}

/// Headers on every console response: the CSP, no framing, no sniffing, no referrer to other
/// sites (a console path names users and roles), and no caching of pages with personal data.
async fn security_headers(req: Request, next: Next) -> Response {
    let had_flash = view::flash_from(req.headers()).is_some();
    let is_asset = req.uri().path().starts_with("/console/assets/");
    let mut res = next.run(req).await;
    let h = res.headers_mut();
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CONTENT_SECURITY_POLICY),
    );
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("same-origin"),
    );
    h.insert(
        "cross-origin-opener-policy",
        HeaderValue::from_static("same-origin"),
    );
    if !is_asset {
        h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    // A flash message is shown once: the page that showed it clears the cookie, unless the
    // response sets a new one.
    let sets_flash = h
        .get_all(header::SET_COOKIE)
        .iter()
        .any(|v| v.as_bytes().starts_with(view::FLASH_COOKIE.as_bytes()));
    if had_flash && !sets_flash {
        if let Ok(v) = HeaderValue::from_str(&view::clear_cookie(view::FLASH_COOKIE)) {
            h.append(header::SET_COOKIE, v);
        }
    }
    res
}

async fn home(ctx: Ctx) -> Response {
    // The first page an admin may see, in the order of the navigation.
    for (op, path) in [
        (Operation::ViewUsers, "/console/users"),
        (Operation::ViewProducts, "/console/products"),
        (Operation::ViewGroups, "/console/groups"),
        (Operation::ViewRoles, "/console/roles"),
        (Operation::ViewAdmins, "/console/admins"),
        (Operation::ViewSettings, "/console/settings"),
    ] {
        if ctx.can(op, Target::Organization) {
            return Redirect::to(path).into_response();
        }
    }
    Redirect::to("/console/me").into_response()
}

async fn not_found(ctx: Option<Ctx>) -> Response {
    ConsoleError::Status(StatusCode::NOT_FOUND, "There is no such page.".into())
        .render(ctx.as_ref())
}

/// A signed-in person using the console, with everything a page needs: who they are, the
/// organisation, their admin rights (to decide what to show), the CSRF token for forms and a
/// one-time message from the previous step.
pub(crate) struct Ctx {
    pub state: AppState,
    pub caller: Caller,
    pub session: Session,
    pub org: Organization,
    pub me: User,
    pub rights: Vec<AdminRight>,
    pub csrf: String,
    pub client: ClientInfo,
    pub flash: Option<String>,
}

impl Ctx {
    /// Would the permission matrix let this admin do `op` on `target`? Pages render only what
    /// this allows; handlers still go through [`Ctx::permit`].
    pub fn can(&self, op: Operation, target: Target) -> bool {
        authorize(&self.rights, op, &target)
    }

    /// The only way console handlers get an `OrgAdmin`: the caller's permission check.
    pub fn permit(&self, op: Operation, target: Target) -> Result<OrgAdmin, ConsoleError> {
        Ok(self.caller.permit(self.org.clone(), op, &target)?)
    }

    /// As [`Ctx::permit`], for sensitive changes: the password comes from the re-verification
    /// dialog; without a recent verification the dialog is shown and the form replayed.
    pub async fn permit_sensitive(
        &self,
        op: Operation,
        target: Target<'_>,
        form: &Posted,
    ) -> Result<OrgAdmin, ConsoleError> {
        let password = form.reverify_password();
        match self
            .caller
            .permit_sensitive(
                &self.state.dir,
                self.org.clone(),
                op,
                &target,
                password,
                &self.client,
            )
            .await
        {
            Ok(admin) => Ok(admin),
            Err(crate::error::Error::Domain(rolecall_core::Error::Forbidden { code, .. }))
                if code == "reverification_required" || code == "reverification_failed" =>
            {
                Err(ConsoleError::Reverify {
                    form: form.clone(),
                    wrong: code == "reverification_failed",
                })
            }
            Err(e) => Err(e.into()),
        }
    }

    pub fn dir(&self) -> &crate::directory::Directory {
        &self.state.dir
    }
}

fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
}

/// The session secret the browser presents, if any.
pub(crate) fn session_secret(headers: &HeaderMap) -> Option<&str> {
    cookie(headers, SESSION_COOKIE).filter(|s| !s.is_empty() && s.len() <= 512)
}

/// The CSRF token of a session: derived from its secret, which only the browser holding the
/// HttpOnly cookie and the server (at request time) know. Nothing to store, one per session.
pub(crate) fn session_csrf(secret: &str) -> String {
    hash_secret(&format!("rolecall console csrf\0{secret}"))[..32].to_string()
}

/// Who the request comes from (address, agent, request id), as the HTTP layer's request
/// context worked it out, so console changes are recorded in the audit log like the API's.
fn client_info(parts: &Parts) -> ClientInfo {
    if let Some(c) = parts.extensions.get::<ClientInfo>() {
        return c.clone();
    }
    let ip = parts
        .extensions
        .get::<axum::extract::ConnectInfo<std::net::SocketAddr>>()
        .map(|c| c.0.ip().to_string())
        .unwrap_or_else(|| "unknown".into());
    let user_agent = parts
        .headers
        .get(header::USER_AGENT)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .chars()
        .take(256)
        .collect();
    ClientInfo {
        ip,
        user_agent,
        request_id: String::new(),
    }
}

/// A person whose session may still be waiting for a second factor, an enrolment or a new
/// password (the pages of those steps).
pub(crate) struct PendingCtx {
    pub state: AppState,
    pub session: Session,
    pub csrf: String,
    pub client: ClientInfo,
}

/// The session behind the cookie, with the person's admin rights.
async fn session_of(
    parts: &Parts,
    state: &AppState,
) -> Result<(Session, Vec<AdminRight>), ConsoleError> {
    let secret = session_secret(&parts.headers).ok_or(ConsoleError::SignIn)?;
    // Only sessions open the console: API tokens and credentials are for programs.
    match Caller::authenticate(&state.dir, None, secret, true).await {
        Ok(Caller::User { session, rights }) => Ok((session, rights)),
        Ok(_) | Err(crate::error::Error::Unauthenticated) => Err(ConsoleError::SignIn),
        Err(crate::error::Error::Domain(rolecall_core::Error::Forbidden { .. })) => {
            Err(ConsoleError::SignIn)
        }
        Err(e) => Err(e.into()),
    }
}

impl FromRequestParts<AppState> for PendingCtx {
    type Rejection = ConsoleError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let (session, _) = session_of(parts, state).await?;
        let secret = session_secret(&parts.headers).unwrap_or_default();
        Ok(PendingCtx {
            state: state.clone(),
            csrf: session_csrf(secret),
            session,
            client: client_info(parts),
        })
    }
}

impl FromRequestParts<AppState> for Ctx {
    type Rejection = ConsoleError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let (session, rights) = session_of(parts, state).await?;
        match session.stage.as_str() {
            STAGE_FULL => {}
            STAGE_TOTP => return Err(ConsoleError::Redirect("/console/sign-in/code".into())),
            STAGE_ENROL => return Err(ConsoleError::Redirect("/console/enrol".into())),
            STAGE_PASSWORD => return Err(ConsoleError::Redirect("/console/password".into())),
            _ => return Err(ConsoleError::SignIn),
        }
        let secret = session_secret(&parts.headers).unwrap_or_default();
        let csrf = session_csrf(secret);
        let dir = &state.dir;
        let org = dir.org(&session.org_id.to_string()).await?;
        let me = dir.get_user(&org, session.user_id).await?;
        let caller = Caller::User {
            session: session.clone(),
            rights: rights.clone(),
        };
        Ok(Ctx {
            state: state.clone(),
            caller,
            session,
            org,
            me,
            rights,
            csrf,
            client: client_info(parts),
            flash: view::flash_from(&parts.headers),
        })
    }
}

impl axum::extract::OptionalFromRequestParts<AppState> for Ctx {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Option<Self>, Self::Rejection> {
        Ok(
            <Ctx as FromRequestParts<AppState>>::from_request_parts(parts, state)
                .await
                .ok(),
        )
    }
}

/// Why a console request did not produce its page.
pub(crate) enum ConsoleError {
    /// Not signed in (or the session ended): to the sign-in page.
    SignIn,
    Redirect(String),
    /// A sensitive change without a recent password: the re-verification dialog replays `form`.
    Reverify {
        form: Posted,
        wrong: bool,
    },
    /// A form that did not come from a console page of this session.
    Csrf,
    Status(StatusCode, String),
    Error(crate::error::Error),
}

impl From<crate::error::Error> for ConsoleError {
    fn from(e: crate::error::Error) -> Self {
        match e {
            crate::error::Error::Unauthenticated => ConsoleError::SignIn,
            e => ConsoleError::Error(e),
        }
    }
}

impl From<rolecall_core::Error> for ConsoleError {
    fn from(e: rolecall_core::Error) -> Self {
        ConsoleError::Error(e.into())
    }
}

impl ConsoleError {
    fn render(self, ctx: Option<&Ctx>) -> Response {
        match self {
            ConsoleError::SignIn => Redirect::to("/console/sign-in").into_response(),
            ConsoleError::Redirect(to) => Redirect::to(&to).into_response(),
            ConsoleError::Reverify { form, wrong } => form::reverify_dialog(ctx, &form, wrong),
            ConsoleError::Csrf => error_page(
                ctx,
                StatusCode::FORBIDDEN,
                "This form has expired",
                "The form was not sent from a page of your current session (or it came from another site). Go back, reload the page and try again.",
            ),
            ConsoleError::Status(status, detail) => error_page(
                ctx,
                status,
                status.canonical_reason().unwrap_or("Error"),
                &detail,
            ),
            ConsoleError::Error(e) => {
                let api = ApiError::from(e);
                let title = match api.status {
                    StatusCode::FORBIDDEN => "Not allowed",
                    StatusCode::NOT_FOUND | StatusCode::GONE => "Not found",
                    StatusCode::CONFLICT => "Cannot do that now",
                    StatusCode::UNPROCESSABLE_ENTITY => "Please check your input",
                    _ => api.status.canonical_reason().unwrap_or("Error"),
                };
                error_page(ctx, api.status, title, &api.detail)
            }
        }
    }
}

impl IntoResponse for ConsoleError {
    fn into_response(self) -> Response {
        self.render(None)
    }
}

fn error_page(ctx: Option<&Ctx>, status: StatusCode, title: &str, detail: &str) -> Response {
    let body = html! {
        div.notice.error role="alert" { p { (detail) } }
        p { a href="/console/" { "Console home" } }
    };
    let mut res = match ctx {
        Some(ctx) => view::page(ctx, title, view::Section::None, body),
        None => view::bare_page(title, body),
    };
    *res.status_mut() = status;
    res
}

/// The result type of console handlers; errors render inside the layout when signed in.
pub(crate) type Page = Result<Response, ConsoleError>;

/// Renders a handler's error inside the admin's layout.
pub(crate) fn or_error(ctx: &Ctx, r: Page) -> Response {
    match r {
        Ok(res) => res,
        Err(e) => e.render(Some(ctx)),
    }
}

/// After a successful change: back to `to`, with a one-time message.
pub(crate) fn done(to: &str, message: &str) -> Response {
    let mut res = Redirect::to(to).into_response();
    if let Ok(v) = HeaderValue::from_str(&view::flash_cookie(message)) {
        res.headers_mut().append(header::SET_COOKIE, v);
    }
    res
}

/// Whether the request reached us over TLS, so the console's cookies get `Secure`: decided as
/// the API decides it ([`AppState::over_tls`]), by a proxy in `trusted_proxies` that says so in
/// `Forwarded` or `X-Forwarded-Proto`. Anyone else's say-so is ignored.
pub(crate) struct OverTls(pub bool);

impl FromRequestParts<AppState> for OverTls {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        Ok(OverTls(state.over_tls(parts)))
    }
}
