//! Access reports over HTTP (issue 11): stale accounts and deactivating a chosen set of them,
//! access review by user, application and profile, seat usage. Each answers JSON, or CSV with
//! `?format=csv`; both state when the report was taken.

use super::extract::{ApiQuery, Client, JsonBody, Reverify};
use super::problem::Problem;
use super::{parse_id, permit, permit_sensitive, ApiResult, AppState};
use crate::auth::Caller;
use crate::directory::credentials::CredentialDecision;
use crate::directory::reports::{
    ApplicationReview, DeactivationOutcome, ProfileReview, SeatUsage, StaleReport, Through,
    UserAccess, UserReview,
};
use axum::extract::{Path, State};
use axum::http::{header, HeaderValue};
use axum::response::{IntoResponse, Response};
use axum::Json;
use rolecall_core::admin::{Operation, Target};
use rolecall_core::authz::ProfileId;
use rolecall_core::model::UserId;
use serde::{Deserialize, Serialize};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(stale_accounts))
        .routes(routes!(deactivate_stale))
        .routes(routes!(review_user))
        .routes(routes!(review_application))
        .routes(routes!(review_profile))
        .routes(routes!(seat_usage))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct Format {
    /// `json` (default) or `csv`.
    format: Option<String>,
}

impl Format {
    fn csv(&self) -> ApiResult<bool> {
        match self.format.as_deref() {
            None | Some("json") => Ok(false),
            Some("csv") => Ok(true),
            Some(_) => {
                Err(rolecall_core::Error::invalid("format", "enum", "must be json or csv").into())
            }
        }
    }
}

/// A CSV document: a header row, then rows. Cells that a spreadsheet would run as a formula
/// (starting with `=`, `+`, `-`, `@`, tab or carriage return) get a leading `'`: names and
/// e-mails come from users, and a report is opened by administrators. The guard is the one
/// every CSV of the server shares, applied by [`super::audit::csv_cell`]
/// ([`rolecall_bulk::formula::escape`]).
struct Csv(String);

impl Csv {
    fn new(header: &[&str]) -> Csv {
        let mut c = Csv(String::new());
        c.row(header);
        c
    }

    fn row<S: AsRef<str>>(&mut self, cells: &[S]) {
        for (i, cell) in cells.iter().enumerate() {
            if i > 0 {
                self.0.push(',');
            }
            super::audit::csv_cell(&mut self.0, cell.as_ref());
        }
        self.0.push_str("\r\n");
    }

    fn into_response(self, name: &str) -> Response {
        let mut res = self.0.into_response();
        res.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("text/csv; charset=utf-8"),
        );
        if let Ok(v) = HeaderValue::from_str(&format!("attachment; filename=\"{name}.csv\"")) {
            res.headers_mut().insert(header::CONTENT_DISPOSITION, v);
        }
        res
    }
}

/// Unix milliseconds as `YYYY-MM-DDTHH:MM:SSZ` (empty when absent): the civil-from-days
/// conversion, so CSV readers see dates.
fn iso(ms: Option<i64>) -> String {
    let Some(ms) = ms else { return String::new() };
    let secs = ms.div_euclid(1000);
    let (days, rem) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

fn joined<T>(items: &[T], f: impl Fn(&T) -> String) -> String {
    items.iter().map(f).collect::<Vec<_>>().join("; ")
}

fn via(t: &Through) -> String {
    t.label()
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct StaleQuery {
    /// Idle for more than this many days (1 to 36500; default 90).
    days: Option<i64>,
    /// `json` (default) or `csv`.
    format: Option<String>,
}

/// Active people whose last sign-in is older than `days` days, or who never signed in, with
/// their applications, roles, groups, seats, admin rights, credentials and sessions.
#[utoipa::path(get, path = "/api/v1/organizations/{org}/reports/stale-accounts", tag = "reports",
    params(("org" = String, Path), StaleQuery),
    responses(
        (status = 200, description = "The report; `taken_at` says when (JSON); or CSV with `format=csv`: One row per person; the first column is when the report was taken", content((StaleReport = "application/json"), (String = "text/csv"))),
        (status = 401, body = Problem, content_type = "application/problem+json", description = "No or unknown credentials"),
        (status = 403, body = Problem, content_type = "application/problem+json", description = "The caller may not review sign-in activity"),
        (status = 404, body = Problem, content_type = "application/problem+json", description = "No such organization"),
        (status = 422, body = Problem, content_type = "application/problem+json", description = "`days` or `format` is invalid"),
    ))]
async fn stale_accounts(
    State(s): State<AppState>,
    caller: Caller,
    Path(org): Path<String>,
    ApiQuery(q): ApiQuery<StaleQuery>,
) -> ApiResult<Response> {
    let admin = permit(
        &s,
        &caller,
        &org,
        Operation::ViewAuthEvents,
        Target::Organization,
    )
    .await?;
    let csv = Format { format: q.format }.csv()?;
    let report = s
        .dir
        .stale_accounts(&admin.org, q.days.unwrap_or(90))
        .await?;
    if !csv {
        return Ok(Json(report).into_response());
    }
    Ok(stale_csv(&report))
}

/// The stale-accounts report as a CSV download: one row per person, the first column saying
/// when it was taken. The console's download link serves the same file.
pub(crate) fn stale_csv(report: &StaleReport) -> Response {
    let mut out = Csv::new(&[
        "report_taken_at",
        "user_id",
        "email",
        "username",
        "first_name",
        "last_name",
        "created_at",
        "last_sign_in_at",
        "applications",
        "roles",
        "groups",
        "seats",
        "admin_rights",
        "credentials",
        "live_sessions",
    ]);
    let taken = iso(Some(report.taken_at));
    for a in &report.items {
        out.row(&stale_row(&taken, a));
    }
    out.into_response("stale-accounts")
}

fn stale_row(taken: &str, a: &UserAccess) -> Vec<String> {
    vec![
        taken.to_string(),
        a.user.id.clone(),
        a.user.email.clone(),
        a.user.username.clone(),
        a.user.first_name.clone(),
        a.user.last_name.clone(),
        iso(Some(a.user.created_at)),
        iso(a.user.last_sign_in_at),
        a.applications.join("; "),
        joined(&a.roles, |r| {
            format!("{} ({}, {})", r.role_name, r.application, via(&r.through))
        }),
        joined(&a.groups, |g| g.name.clone()),
        joined(&a.seats, |p| {
            format!(
                "{} ({}, {})",
                p.profile_name,
                p.application,
                via(&p.through)
            )
        }),
        joined(&a.admin_rights, |r| {
            format!("{} {}", r.kind, r.target).trim().to_string()
        }),
        joined(&a.credentials, |c| c.name.clone()),
        a.sessions.len().to_string(),
    ]
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DeactivateStale {
    /// The idle threshold the set was chosen with: anyone who signed in since is skipped.
    days: i64,
    /// The people to deactivate (1 to 1000).
    user_ids: Vec<UserId>,
    /// Required when one of them created live API credentials: `revoke` or `keep` them.
    credentials: Option<CredentialDecision>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct DeactivationResults {
    pub taken_at: i64,
    pub items: Vec<DeactivationOutcome>,
}

/// Deactivates a chosen set of stale accounts in one call (identity verification required).
/// Each is its own change, judged by the rights rule and recorded in the audit log; the
/// answer says what became of each.
#[utoipa::path(post, path = "/api/v1/organizations/{org}/reports/stale-accounts/deactivate", tag = "reports",
    params(("org" = String, Path), Reverify),
    request_body = DeactivateStale,
    responses(
        (status = 200, body = DeactivationResults, content_type = "application/json", description = "One outcome per person: deactivated, not_stale or refused"),
        (status = 401, body = Problem, content_type = "application/problem+json", description = "No or unknown credentials"),
        (status = 403, body = Problem, content_type = "application/problem+json", description = "The caller may not remove users, or must re-verify their identity"),
        (status = 404, body = Problem, content_type = "application/problem+json", description = "No such organization, or a named user is not one of its people (nothing changed)"),
        (status = 415, body = Problem, content_type = "application/problem+json", description = "The body is not JSON"),
        (status = 422, body = Problem, content_type = "application/problem+json", description = "`days`, `user_ids` or `credentials` is invalid"),
    ))]
async fn deactivate_stale(
    State(s): State<AppState>,
    caller: Caller,
    Path(org): Path<String>,
    Reverify(password): Reverify,
    Client(client): Client,
    body: JsonBody<DeactivateStale>,
) -> ApiResult<Json<DeactivationResults>> {
    let admin = permit_sensitive(
        &s,
        &caller,
        &org,
        Operation::RemoveUser,
        Target::Organization,
        password.as_deref(),
        &client,
    )
    .await?;
    // The body is read only once the caller is known to be allowed (issue 9 item 15).
    let body = body.parse()?;
    let items = s
        .dir
        .deactivate_stale(&admin, body.days, &body.user_ids, body.credentials)
        .await?;
    Ok(Json(DeactivationResults {
        taken_at: s.dir.now(),
        items,
    }))
}

/// Access review of one person: every application, profile and role (directly or through
/// which group), admin right, API credential and live session.
#[utoipa::path(get, path = "/api/v1/organizations/{org}/reports/access/users/{id}", tag = "reports",
    params(("org" = String, Path), ("id" = String, Path), Format),
    responses(
        (status = 200, description = "The review; `taken_at` says when (JSON); or CSV with `format=csv`: One row per holding (kind, item, through)", content((UserReview = "application/json"), (String = "text/csv"))),
        (status = 401, body = Problem, content_type = "application/problem+json", description = "No or unknown credentials"),
        (status = 403, body = Problem, content_type = "application/problem+json", description = "The caller may not review access"),
        (status = 404, body = Problem, content_type = "application/problem+json", description = "No such organization or user"),
        (status = 422, body = Problem, content_type = "application/problem+json", description = "`format` is invalid"),
    ))]
async fn review_user(
    State(s): State<AppState>,
    caller: Caller,
    Path((org, id)): Path<(String, String)>,
    ApiQuery(q): ApiQuery<Format>,
) -> ApiResult<Response> {
    let admin = permit(
        &s,
        &caller,
        &org,
        Operation::ViewAuthEvents,
        Target::Organization,
    )
    .await?;
    let csv = q.csv()?;
    let review = s
        .dir
        .review_user(&admin.org, parse_id::<UserId>("user", &id)?)
        .await?;
    if !csv {
        return Ok(Json(review).into_response());
    }
    Ok(user_review_csv(&review))
}

/// One access review of a person as CSV: one row per holding (kind, item, through). The
/// console's download links serve the same file.
pub(crate) fn user_review_csv(review: &UserReview) -> Response {
    let taken = iso(Some(review.taken_at));
    let a = &review.access;
    let mut out = Csv::new(&[
        "report_taken_at",
        "user_id",
        "email",
        "kind",
        "application",
        "item_id",
        "item_name",
        "through",
    ]);
    let mut row = |kind: &str, app: &str, id: &str, name: &str, through: &str| {
        out.row(&[
            &taken,
            &a.user.id,
            &a.user.email,
            kind,
            app,
            id,
            name,
            through,
        ]);
    };
    for app in &a.applications {
        row("application", app, app, app, "");
    }
    for r in &a.roles {
        row(
            "role",
            &r.application,
            &r.role_id,
            &r.role_name,
            &via(&r.through),
        );
    }
    for g in &a.groups {
        row("group", "", &g.id, &g.name, "");
    }
    for p in &a.seats {
        row(
            "seat",
            &p.application,
            &p.profile_id,
            &p.profile_name,
            &via(&p.through),
        );
    }
    for r in &a.admin_rights {
        row("admin_right", "", &r.kind, &r.target, "");
    }
    for c in &a.credentials {
        row("credential", "", &c.id, &c.name, "");
    }
    for x in &a.sessions {
        row(
            "session",
            "",
            &x.id,
            &x.source_ip,
            &iso(Some(x.last_seen_at)),
        );
    }
    out.into_response("access-user")
}

/// Access review of one application: everyone with a role, seat or product admin right in
/// it, through what, and whether the roles take effect (seat or licence gate).
#[utoipa::path(get, path = "/api/v1/organizations/{org}/reports/access/applications/{key}", tag = "reports",
    params(("org" = String, Path), ("key" = String, Path), Format),
    responses(
        (status = 200, description = "The review; `taken_at` says when (JSON); or CSV with `format=csv`: One row per holder and holding", content((ApplicationReview = "application/json"), (String = "text/csv"))),
        (status = 401, body = Problem, content_type = "application/problem+json", description = "No or unknown credentials"),
        (status = 403, body = Problem, content_type = "application/problem+json", description = "The caller may not see this application's roles"),
        (status = 404, body = Problem, content_type = "application/problem+json", description = "No such organization or application"),
        (status = 422, body = Problem, content_type = "application/problem+json", description = "`format` is invalid"),
    ))]
async fn review_application(
    State(s): State<AppState>,
    caller: Caller,
    Path((org, key)): Path<(String, String)>,
    ApiQuery(q): ApiQuery<Format>,
) -> ApiResult<Response> {
    let admin = permit(
        &s,
        &caller,
        &org,
        Operation::ViewRoles,
        Target::Application(&key),
    )
    .await?;
    let csv = q.csv()?;
    let review: ApplicationReview = s.dir.review_application(&admin.org, &key).await?;
    if !csv {
        return Ok(Json(review).into_response());
    }
    Ok(application_review_csv(&review))
}

/// An application's access review as CSV: one row per holder and holding. The console's
/// download links serve the same file.
pub(crate) fn application_review_csv(review: &ApplicationReview) -> Response {
    let taken = iso(Some(review.taken_at));
    let mut out = Csv::new(&[
        "report_taken_at",
        "application",
        "user_id",
        "email",
        "status",
        "effective",
        "kind",
        "item_id",
        "item_name",
        "through",
    ]);
    for h in &review.holders {
        let effective = h.effective.to_string();
        let mut row = |kind: &str, id: &str, name: &str, through: &str| {
            out.row(&[
                &taken,
                &review.application,
                &h.user.id,
                &h.user.email,
                &h.user.status,
                &effective,
                kind,
                id,
                name,
                through,
            ]);
        };
        for r in &h.roles {
            row("role", &r.role_id, &r.role_name, &via(&r.through));
        }
        for p in &h.seats {
            row("seat", &p.profile_id, &p.profile_name, &via(&p.through));
        }
        if h.product_admin {
            row("product_admin", "", "", "");
        }
    }
    out.into_response("access-application")
}

/// Access review of one product profile: every seat holder, directly or through which groups.
#[utoipa::path(get, path = "/api/v1/organizations/{org}/reports/access/profiles/{id}", tag = "reports",
    params(("org" = String, Path), ("id" = String, Path), Format),
    responses(
        (status = 200, description = "The review; `taken_at` says when (JSON); or CSV with `format=csv`: One row per holder and way of holding", content((ProfileReview = "application/json"), (String = "text/csv"))),
        (status = 401, body = Problem, content_type = "application/problem+json", description = "No or unknown credentials"),
        (status = 403, body = Problem, content_type = "application/problem+json", description = "The caller may not see this profile"),
        (status = 404, body = Problem, content_type = "application/problem+json", description = "No such organization or profile"),
        (status = 422, body = Problem, content_type = "application/problem+json", description = "`format` is invalid"),
    ))]
async fn review_profile(
    State(s): State<AppState>,
    caller: Caller,
    Path((org, id)): Path<(String, String)>,
    ApiQuery(q): ApiQuery<Format>,
) -> ApiResult<Response> {
    let csv = q.csv()?;
    let profile_id = parse_id::<ProfileId>("profile", &id)?;
    let organization = s.dir.org(&org).await?;
    let app = s
        .dir
        .get_profile(&organization, profile_id)
        .await?
        .profile
        .application
        .clone();
    let target = Target::Profile {
        id: &id,
        application: &app,
    };
    let admin = permit(&s, &caller, &org, Operation::ViewProducts, target).await?;
    let review = s.dir.review_profile(&admin.org, profile_id).await?;
    if !csv {
        return Ok(Json(review).into_response());
    }
    Ok(profile_review_csv(&review))
}

/// A profile's access review as CSV: one row per holder and way of holding. The console's
/// download links serve the same file.
pub(crate) fn profile_review_csv(review: &ProfileReview) -> Response {
    let taken = iso(Some(review.taken_at));
    let mut out = Csv::new(&[
        "report_taken_at",
        "profile_id",
        "profile_name",
        "application",
        "user_id",
        "email",
        "status",
        "through",
    ]);
    for h in &review.holders {
        for t in &h.through {
            out.row(&[
                &taken,
                &review.profile_id,
                &review.profile_name,
                &review.application,
                &h.user.id,
                &h.user.email,
                &h.user.status,
                &via(t),
            ]);
        }
    }
    out.into_response("access-profile")
}

/// Seats used and free per product profile, directly and through groups.
#[utoipa::path(get, path = "/api/v1/organizations/{org}/reports/seats", tag = "reports",
    params(("org" = String, Path), Format),
    responses(
        (status = 200, description = "The report; `taken_at` says when (JSON); or CSV with `format=csv`: One row per profile", content((SeatUsage = "application/json"), (String = "text/csv"))),
        (status = 401, body = Problem, content_type = "application/problem+json", description = "No or unknown credentials"),
        (status = 403, body = Problem, content_type = "application/problem+json", description = "The caller may not see products"),
        (status = 404, body = Problem, content_type = "application/problem+json", description = "No such organization"),
        (status = 422, body = Problem, content_type = "application/problem+json", description = "`format` is invalid"),
    ))]
async fn seat_usage(
    State(s): State<AppState>,
    caller: Caller,
    Path(org): Path<String>,
    ApiQuery(q): ApiQuery<Format>,
) -> ApiResult<Response> {
    let admin = permit(
        &s,
        &caller,
        &org,
        Operation::ViewProducts,
        Target::Organization,
    )
    .await?;
    let csv = q.csv()?;
    let usage: SeatUsage = s.dir.seat_usage(&admin.org).await?;
    if !csv {
        return Ok(Json(usage).into_response());
    }
    Ok(seat_usage_csv(&usage))
}

/// Seat usage as CSV: one row per profile. The console's download links serve the same file.
pub(crate) fn seat_usage_csv(usage: &SeatUsage) -> Response {
    let taken = iso(Some(usage.taken_at));
    let mut out = Csv::new(&[
        "report_taken_at",
        "profile_id",
        "profile_name",
        "application",
        "quota",
        "used",
        "free",
        "direct",
        "through_groups",
    ]);
    let n = |v: Option<i64>| v.map(|v| v.to_string()).unwrap_or_default();
    for l in &usage.items {
        out.row(&[
            taken.clone(),
            l.profile_id.clone(),
            l.profile_name.clone(),
            l.application.clone(),
            n(l.quota),
            l.used.to_string(),
            n(l.free),
            l.direct.to_string(),
            l.through_groups.to_string(),
        ]);
    }
    out.into_response("seats")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn iso_times_and_formula_guard() {
        assert_eq!(iso(Some(0)), "1970-01-01T00:00:00Z");
        assert_eq!(iso(Some(1_700_000_000_000)), "2023-11-14T22:13:20Z");
        assert_eq!(iso(None), "");
        let mut c = Csv::new(&["a", "b"]);
        c.row(&["=HYPERLINK(\"x\")", "plain, with comma"]);
        assert_eq!(
            c.0,
            "a,b\r\n\"'=HYPERLINK(\"\"x\"\")\",\"plain, with comma\"\r\n"
        );
        // Guarded once, not twice; a quote that could pass for the guard gets another; a
        // name that merely starts with a quote is left alone.
        let mut c = Csv::new(&["a", "b", "c", "d"]);
        c.row(&["+cmd", "'=x", "'t Hooft", "-"]);
        assert_eq!(c.0, "a,b,c,d\r\n'+cmd,''=x,'t Hooft,'-\r\n");
    }
}
