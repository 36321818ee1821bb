//! Forms: the [`Posted`] extractor (URL-encoded fields, CSRF-checked before any handler runs),
//! the pre-session CSRF cookie of the sign-in pages, and the re-verification dialog that
//! replays a sensitive form once the admin has re-entered their password.

use super::view::{self, csrf};
use super::{session_csrf, session_secret, ConsoleError, Ctx};
use crate::credentials::secret::{hash_secret, new_secret};
use crate::http::AppState;
use axum::body::Bytes;
use axum::extract::{FromRequest, Request};
use axum::http::{header, HeaderMap};
use axum::response::Response;
use maud::html;
use subtle::ConstantTimeEq;

/// The cookie behind the CSRF token of forms shown before there is a session.
pub(crate) const PRE_SESSION_COOKIE: &str = "rolecall_csrf";

/// The field carrying the admin's password in the re-verification dialog.
pub(crate) const REVERIFY_FIELD: &str = "_reverify";

fn pre_session_csrf(cookie: &str) -> String {
    hash_secret(&format!("rolecall console pre-session csrf\0{cookie}"))[..32].to_string()
}

/// The CSRF token for a form shown before sign-in, and the cookie to set when the browser has
/// none yet (`Secure` when the request came `over_tls`, see [`super::OverTls`]). Login CSRF is
/// refused like any other.
pub(crate) fn pre_session(headers: &HeaderMap, over_tls: bool) -> (String, Option<String>) {
    match super::cookie(headers, PRE_SESSION_COOKIE).filter(|c| c.len() >= 32 && c.len() <= 128) {
        Some(c) => (pre_session_csrf(c), None),
        None => {
            let c = new_secret();
            let secure = if over_tls { "; Secure" } else { "" };
            (
                pre_session_csrf(&c),
                Some(format!(
                    "{PRE_SESSION_COOKIE}={c}; Path=/console; HttpOnly; SameSite=Strict{secure}"
                )),
            )
        }
    }
}

/// A submitted console form. Extracting one checks, before the handler runs, that it came from a
/// console page: its `_csrf` field must match the session's token (or, before sign-in, the
/// pre-session cookie's), and the browser must not say it was sent from another site.
#[derive(Debug, Clone)]
pub(crate) struct Posted {
    /// Where it was posted (path and query), so the re-verification dialog can replay it.
    pub action: String,
    pairs: Vec<(String, String)>,
}

impl Posted {
    /// The first value of a field, or "".
    pub fn get(&self, name: &str) -> &str {
        self.pairs
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
            .unwrap_or("")
    }

    /// The trimmed value, or `None` when absent or blank.
    pub fn opt(&self, name: &str) -> Option<&str> {
        Some(self.get(name).trim()).filter(|v| !v.is_empty())
    }

    /// Every value of a repeated field (checkboxes, multi-selects).
    pub fn all(&self, name: &str) -> Vec<&str> {
        self.pairs
            .iter()
            .filter(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
            .collect()
    }

    pub fn pairs(&self) -> &[(String, String)] {
        &self.pairs
    }

    pub fn reverify_password(&self) -> Option<&str> {
        self.pairs
            .iter()
            .find(|(k, _)| k == REVERIFY_FIELD)
            .map(|(_, v)| v.as_str())
            .filter(|v| !v.is_empty())
    }
}

/// Did the browser send this from one of our own pages? Modern browsers say so in
/// `Sec-Fetch-Site`; otherwise an `Origin` must name this host. (Clients that send neither still
/// need the CSRF token, which only our pages carry.)
fn same_site(headers: &HeaderMap) -> bool {
    if let Some(site) = headers.get("sec-fetch-site").and_then(|v| v.to_str().ok()) {
        return site == "same-origin" || site == "none";
    }
    match (
        headers.get(header::ORIGIN).and_then(|v| v.to_str().ok()),
        headers.get(header::HOST).and_then(|v| v.to_str().ok()),
    ) {
        (Some("null"), _) => false,
        (Some(origin), Some(host)) => origin
            .split_once("://")
            .is_some_and(|(_, rest)| rest.eq_ignore_ascii_case(host)),
        _ => true,
    }
}

impl FromRequest<AppState> for Posted {
    type Rejection = ConsoleError;

    async fn from_request(req: Request, state: &AppState) -> Result<Self, Self::Rejection> {
        let headers = req.headers().clone();
        let action = req
            .uri()
            .path_and_query()
            .map(|p| p.as_str().to_string())
            .unwrap_or_else(|| req.uri().path().to_string());
        let is_form = headers
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|ct| ct.starts_with("application/x-www-form-urlencoded"));
        if !is_form || !same_site(&headers) {
            return Err(ConsoleError::Csrf);
        }
        let bytes = Bytes::from_request(req, state).await.map_err(|_| {
            ConsoleError::Status(
                axum::http::StatusCode::PAYLOAD_TOO_LARGE,
                "The form is larger than the server accepts.".into(),
            )
        })?;
        let pairs: Vec<(String, String)> = serde_urlencoded::from_bytes(&bytes).map_err(|_| {
            ConsoleError::Status(
                axum::http::StatusCode::BAD_REQUEST,
                "The form could not be read.".into(),
            )
        })?;
        let sent = pairs
            .iter()
            .find(|(k, _)| k == "_csrf")
            .map(|(_, v)| v.as_str())
            .unwrap_or("");
        if !token_matches(&headers, sent) {
            return Err(ConsoleError::Csrf);
        }
        Ok(Posted { action, pairs })
    }
}

/// Does `sent` match the CSRF token of the session (or, before sign-in, of the pre-session
/// cookie) the browser presents?
fn token_matches(headers: &HeaderMap, sent: &str) -> bool {
    let mut expected = Vec::new();
    if let Some(secret) = session_secret(headers) {
        expected.push(session_csrf(secret));
    }
    if let Some(c) = super::cookie(headers, PRE_SESSION_COOKIE) {
        expected.push(pre_session_csrf(c));
    }
    !sent.is_empty()
        && expected
            .iter()
            .any(|e| bool::from(e.as_bytes().ct_eq(sent.as_bytes())))
}

/// The same checks as [`Posted`] for a form read another way (the multipart file upload):
/// sent from one of our pages, with this session's token. `fields` are the fields read so
/// far; the token must come before anything is acted on.
pub(crate) fn checked(
    headers: &HeaderMap,
    action: String,
    fields: Vec<(String, String)>,
) -> Result<Posted, ConsoleError> {
    let sent = fields
        .iter()
        .find(|(k, _)| k == "_csrf")
        .map(|(_, v)| v.as_str())
        .unwrap_or("");
    if !same_site(headers) || !token_matches(headers, sent) {
        return Err(ConsoleError::Csrf);
    }
    Ok(Posted {
        action,
        pairs: fields,
    })
}

/// "Confirm it's you": the admin re-enters their password (Magento's "Current User Identity
/// Verification"); the dialog carries the original form's fields and posts them again.
pub(crate) fn reverify_dialog(ctx: Option<&Ctx>, form: &Posted, wrong: bool) -> Response {
    let Some(ctx) = ctx else {
        return ConsoleError::SignIn.render_bare();
    };
    let back = form
        .action
        .split('?')
        .next()
        .and_then(|p| p.rsplit_once('/'))
        .map(|(parent, _)| parent.to_string())
        .filter(|p| p.starts_with("/console"))
        .unwrap_or_else(|| "/console/".into());
    let body = html! {
        div.dialog-backdrop {
            section.dialog role="dialog" aria-modal="true" aria-labelledby="reverify-title" aria-describedby="reverify-text" {
                h2 #reverify-title { "Confirm it's you" }
                p #reverify-text { "This change is sensitive. Enter your password to continue; you will not be asked again for a few minutes." }
                form method="post" action=(form.action) {
                    (csrf(&ctx.csrf))
                    @for (k, v) in form.pairs() {
                        @if k != "_csrf" && k != REVERIFY_FIELD {
                            input type="hidden" name=(k) value=(v);
                        }
                    }
                    div.field.invalid[wrong] {
                        label for="f-reverify" { "Your password" }
                        input #f-reverify type="password" name=(REVERIFY_FIELD) required autocomplete="current-password" autofocus
                            aria-invalid=[wrong.then_some("true")] aria-describedby=[wrong.then_some("f-reverify-error")];
                        @if wrong { p.error-text #f-reverify-error { "The password is wrong." } }
                    }
                    div.actions {
                        button.primary type="submit" { "Confirm and continue" }
                        a.button href=(back) { "Cancel" }
                    }
                }
            }
        }
    };
    let mut res = view::page(ctx, "Confirm it's you", view::Section::None, body);
    if wrong {
        *res.status_mut() = axum::http::StatusCode::FORBIDDEN;
    }
    res
}

impl ConsoleError {
    pub(crate) fn render_bare(self) -> Response {
        axum::response::IntoResponse::into_response(self)
    }
}
