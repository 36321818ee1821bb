//! The console's look: the page layout with the navigation an admin's rights allow, the embedded
//! stylesheet and script, one-time messages, and the small widgets every page uses (fields with
//! their inline errors, tables, pagers, dates).

use super::Ctx;
use axum::extract::Path;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use maud::{html, Markup, PreEscaped, DOCTYPE};
use rolecall_core::admin::{Operation, Target};
use rolecall_core::model::Millis;
use rolecall_core::FieldError;
use std::sync::OnceLock;

const CSS: &str = include_str!("assets/console.css");
const JS: &str = include_str!("assets/console.js");

/// Content hashes, so asset URLs change with their content and can be cached for long.
fn asset_version() -> &'static str {
    static V: OnceLock<String> = OnceLock::new();
    V.get_or_init(|| {
        crate::credentials::secret::hash_secret(&format!("{CSS}{JS}"))[..12].to_string()
    })
}

pub(super) async fn asset(Path(name): Path<String>) -> Response {
    let (body, ct) = match name.as_str() {
        "console.css" => (CSS, "text/css; charset=utf-8"),
        "console.js" => (JS, "text/javascript; charset=utf-8"),
        _ => return StatusCode::NOT_FOUND.into_response(),
    };
    let mut res = body.into_response();
    res.headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(ct));
    res.headers_mut().insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=86400"),
    );
    res
}

/// The navigation groups; the current one is highlighted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Section {
    None,
    Users,
    Groups,
    Admins,
    Invitations,
    Locks,
    Products,
    Roles,
    Scopes,
    Credentials,
    Settings,
    Explain,
    Events,
    Audit,
    Reports,
    Scim,
    Me,
}

/// The navigation, each entry shown when the permission matrix allows its operation.
const NAVIGATION: &[(Section, &str, &str, Operation)] = &[
    (
        Section::Users,
        "/console/users",
        "Users",
        Operation::ViewUsers,
    ),
    (
        Section::Groups,
        "/console/groups",
        "User groups",
        Operation::ViewGroups,
    ),
    (
        Section::Admins,
        "/console/admins",
        "Administrators",
        Operation::ViewAdmins,
    ),
    (
        Section::Invitations,
        "/console/invitations",
        "Invitations",
        Operation::ViewUsers,
    ),
    (
        Section::Locks,
        "/console/locks",
        "Locked accounts",
        Operation::ManageSignIn,
    ),
    (
        Section::Products,
        "/console/products",
        "Products",
        Operation::ViewProducts,
    ),
    (
        Section::Roles,
        "/console/roles",
        "Roles",
        Operation::ViewRoles,
    ),
    (
        Section::Scopes,
        "/console/scopes",
        "Scopes",
        Operation::ViewRoles,
    ),
    (
        Section::Explain,
        "/console/explain",
        "Explain access",
        Operation::Check,
    ),
    (
        Section::Credentials,
        "/console/credentials",
        "API credentials",
        Operation::ManageCredentials,
    ),
    (
        Section::Scim,
        "/console/scim",
        "SCIM clients",
        Operation::ManageCredentials,
    ),
    (
        Section::Reports,
        "/console/reports",
        "Reports",
        Operation::ViewAuthEvents,
    ),
    (
        Section::Audit,
        "/console/audit",
        "Audit log",
        Operation::ViewAuthEvents,
    ),
    (
        Section::Events,
        "/console/events",
        "Sign-in events",
        Operation::ViewAuthEvents,
    ),
    (
        Section::Settings,
        "/console/settings",
        "Settings",
        Operation::ViewSettings,
    ),
];

fn head(title: &str) -> Markup {
    html! {
        head {
            meta charset="utf-8";
            meta name="viewport" content="width=device-width, initial-scale=1";
            meta name="referrer" content="same-origin";
            title { (title) " · rolecall" }
            link rel="stylesheet" href={ "/console/assets/console.css?v=" (asset_version()) };
            script src={ "/console/assets/console.js?v=" (asset_version()) } defer {}
        }
    }
}

/// A page for someone signed in: header, navigation by rights, one-time message, content.
pub(crate) fn page(ctx: &Ctx, title: &str, section: Section, body: Markup) -> Response {
    let items: Vec<(Section, &str, &str, bool)> = NAVIGATION
        .iter()
        .map(|(s, href, label, op)| (*s, *href, *label, ctx.can(*op, Target::Organization)))
        .collect();
    let markup = html! {
        (DOCTYPE)
        html lang="en" {
            (head(title))
            body {
                a.skip href="#main" { "Skip to content" }
                header.top {
                    a.brand href="/console/" { span.logo aria-hidden="true" { "◆" } " rolecall" }
                    span.org title="Organization" { (ctx.org.name.as_str()) }
                    nav.account aria-label="Account" {
                        a href="/console/me" aria-current=[(section == Section::Me).then_some("page")] { (display_name(&ctx.me)) }
                        form method="post" action="/console/sign-out" {
                            input type="hidden" name="_csrf" value=(ctx.csrf);
                            button.link type="submit" { "Sign out" }
                        }
                    }
                }
                div.shell {
                    nav.side aria-label="Console" {
                        ul {
                            @for (s, href, label, shown) in &items {
                                @if *shown {
                                    li { a href=(href) aria-current=[(section == *s).then_some("page")] { (label) } }
                                }
                            }
                        }
                    }
                    main #main tabindex="-1" {
                        h1 { (title) }
                        @if let Some(msg) = &ctx.flash {
                            div.notice.ok role="status" { (msg) }
                        }
                        (body)
                    }
                }
            }
        }
    };
    html_response(markup)
}

/// A page for someone not (fully) signed in: sign-in, second factor, invitations, resets.
pub(crate) fn bare_page(title: &str, body: Markup) -> Response {
    let markup = html! {
        (DOCTYPE)
        html lang="en" {
            (head(title))
            body.bare {
                a.skip href="#main" { "Skip to content" }
                main #main.card tabindex="-1" {
                    p.brand { span.logo aria-hidden="true" { "◆" } " rolecall" }
                    h1 { (title) }
                    (body)
                }
            }
        }
    };
    html_response(markup)
}

pub(crate) fn html_response(m: Markup) -> Response {
    Html(m.into_string()).into_response()
}

pub(crate) fn display_name(u: &rolecall_core::model::User) -> String {
    let full = format!("{} {}", u.first_name.as_str(), u.last_name.as_str());
    let full = full.trim();
    if full.is_empty() {
        u.username.as_str().to_string()
    } else {
        full.to_string()
    }
}

// ------------------------------------------------------------------ one-time messages

pub(crate) const FLASH_COOKIE: &str = "rolecall_flash";

/// The message is not secret ("User created"); it rides in a short-lived cookie across the
/// redirect that follows every successful form.
pub(crate) fn flash_cookie(message: &str) -> String {
    let encoded: String = url_encode(&message.chars().take(300).collect::<String>());
    format!("{FLASH_COOKIE}={encoded}; Path=/console; HttpOnly; SameSite=Strict; Max-Age=60")
}

pub(crate) fn clear_cookie(name: &str) -> String {
    format!("{name}=; Path=/console; HttpOnly; SameSite=Strict; Max-Age=0")
}

pub(crate) fn flash_from(headers: &HeaderMap) -> Option<String> {
    let raw = super::cookie(headers, FLASH_COOKIE)?;
    let text = url_decode(raw);
    (!text.is_empty()).then_some(text)
}

/// Percent-encoding of everything but unreserved characters.
pub(crate) fn url_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

fn url_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).unwrap_or("");
            if let Ok(v) = u8::from_str_radix(hex, 16) {
                out.push(v);
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

// ------------------------------------------------------------------ widgets

/// Field errors of a failed submission, looked up by field name.
#[derive(Debug, Default, Clone)]
pub(crate) struct Errors(pub Vec<FieldError>);

impl Errors {
    pub fn from_error(e: &crate::error::Error) -> Option<Errors> {
        match e {
            crate::error::Error::Domain(rolecall_core::Error::Invalid(list)) => {
                Some(Errors(list.clone()))
            }
            _ => None,
        }
    }

    pub fn of(&self, field: &str) -> Vec<&str> {
        self.0
            .iter()
            .filter(|e| e.field == field || e.field.starts_with(&format!("{field}[")))
            .map(|e| e.message.as_str())
            .collect()
    }

    /// Errors whose field no input on the form shows.
    pub fn other(&self, shown: &[&str]) -> Vec<String> {
        self.0
            .iter()
            .filter(|e| {
                !shown
                    .iter()
                    .any(|f| e.field == *f || e.field.starts_with(&format!("{f}[")))
            })
            .map(|e| format!("{}: {}", e.field, e.message))
            .collect()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

/// A summary of problems at the top of a form, linked to the fields (WCAG error identification).
pub(crate) fn error_summary(errors: &Errors, shown: &[&str]) -> Markup {
    html! {
        @if !errors.is_empty() {
            div.notice.error role="alert" tabindex="-1" data-focus {
                p { strong { "Please correct the marked fields." } }
                @let other = errors.other(shown);
                @if !other.is_empty() {
                    ul { @for o in &other { li { (o) } } }
                }
            }
        }
    }
}

/// A labelled text input with its inline error messages (`aria-invalid`, `aria-describedby`).
pub(crate) struct Field<'a> {
    pub name: &'a str,
    pub label: &'a str,
    pub value: &'a str,
    pub kind: &'a str,
    pub required: bool,
    pub hint: Option<&'a str>,
    pub autocomplete: Option<&'a str>,
    pub max: Option<usize>,
}

impl<'a> Field<'a> {
    pub fn text(name: &'a str, label: &'a str, value: &'a str) -> Field<'a> {
        Field {
            name,
            label,
            value,
            kind: "text",
            required: false,
            hint: None,
            autocomplete: None,
            max: None,
        }
    }
    pub fn kind(mut self, kind: &'a str) -> Self {
        self.kind = kind;
        self
    }
    pub fn required(mut self) -> Self {
        self.required = true;
        self
    }
    pub fn hint(mut self, hint: &'a str) -> Self {
        self.hint = Some(hint);
        self
    }
    pub fn autocomplete(mut self, a: &'a str) -> Self {
        self.autocomplete = Some(a);
        self
    }
    pub fn max(mut self, n: usize) -> Self {
        self.max = Some(n);
        self
    }

    pub fn render(&self, errors: &Errors) -> Markup {
        let id = format!("f-{}", self.name);
        let msgs = errors.of(self.name);
        let err_id = format!("{id}-error");
        let hint_id = format!("{id}-hint");
        let mut described = Vec::new();
        if self.hint.is_some() {
            described.push(hint_id.clone());
        }
        if !msgs.is_empty() {
            described.push(err_id.clone());
        }
        let described = described.join(" ");
        html! {
            div.field.invalid[!msgs.is_empty()] {
                label for=(id) { (self.label) @if self.required { span.req aria-hidden="true" { " *" } } }
                @if let Some(h) = self.hint { p.hint id=(hint_id) { (h) } }
                input id=(id) name=(self.name) type=(self.kind) value=(self.value)
                    required[self.required]
                    autocomplete=[self.autocomplete]
                    maxlength=[self.max]
                    aria-invalid=[(!msgs.is_empty()).then_some("true")]
                    aria-describedby=[(!described.is_empty()).then_some(described.as_str())];
                @if !msgs.is_empty() {
                    p.error-text id=(err_id) { @for m in &msgs { (m) " " } }
                }
            }
        }
    }
}

/// The hidden CSRF field every form carries.
pub(crate) fn csrf(token: &str) -> Markup {
    html! { input type="hidden" name="_csrf" value=(token); }
}

/// A one-button form (remove, end, resend…) with an optional confirmation question.
pub(crate) fn action_button(
    csrf_token: &str,
    action: &str,
    label: &str,
    danger: bool,
    confirm: Option<&str>,
) -> Markup {
    html! {
        form.inline method="post" action=(action) data-confirm=[confirm] {
            (csrf(csrf_token))
            button.small.danger[danger] type="submit" { (label) }
        }
    }
}

/// `YYYY-MM-DD HH:MM UTC`, or a dash.
pub(crate) fn date(ms: Option<Millis>) -> Markup {
    match ms {
        Some(ms) => html! { time datetime=(ms) { (crate::directory::invitations::utc_date(ms)) } },
        None => html! { span.muted { "never" } },
    }
}

pub(crate) fn status_badge(s: rolecall_core::model::UserStatus) -> Markup {
    html! { span class={ "badge " (s.as_str()) } { (s.as_str()) } }
}

/// A count with thousands separated: "100,000".
pub(crate) fn thousands(n: i64) -> String {
    let digits = n.unsigned_abs().to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    if n < 0 {
        format!("-{out}")
    } else {
        out
    }
}

/// Previous / next links for an offset-paged list, keeping the other query parameters.
pub(crate) fn pager(
    base: &str,
    query: &[(&str, String)],
    page: i64,
    per_page: i64,
    total: i64,
) -> Markup {
    let pages = ((total + per_page - 1) / per_page).max(1);
    let link = |p: i64| {
        let mut q: Vec<String> = query
            .iter()
            .filter(|(_, v)| !v.is_empty())
            .map(|(k, v)| format!("{k}={}", url_encode(v)))
            .collect();
        q.push(format!("page={p}"));
        format!("{base}?{}", q.join("&"))
    };
    html! {
        nav.pager aria-label="Pages" {
            @if page > 1 { a rel="prev" href=(link(page - 1)) { "← Previous" } } @else { span.muted { "← Previous" } }
            span { "Page " (page) " of " (pages) " · " (total) " in all" }
            @if page < pages { a rel="next" href=(link(page + 1)) { "Next →" } } @else { span.muted { "Next →" } }
        }
    }
}

/// Tabs as links: each tab is its own URL, so it works without script and can be bookmarked.
pub(crate) fn tabs(items: &[(&str, String, bool)]) -> Markup {
    html! {
        nav.tabs aria-label="Sections" {
            @for (label, href, current) in items {
                a href=(href) aria-current=[current.then_some("page")] { (label) }
            }
        }
    }
}

pub(crate) fn empty(text: &str) -> Markup {
    html! { p.empty { (text) } }
}

/// Raw, already-safe markup (server-generated SVG).
pub(crate) fn raw(s: String) -> Markup {
    PreEscaped(s)
}
