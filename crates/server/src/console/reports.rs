//! Access reports in the console (issue 11): stale accounts with "Deactivate selected" and a CSV
//! download, access review by user, application and profile, and seat usage per profile, each
//! with the API's CSV as a download.
//!
//! Every figure comes from the same `Directory` report use cases as `GET …/reports/*`, and the
//! deactivation is `Directory::deactivate_stale`, the operation behind the API's
//! `POST …/stale-accounts/deactivate`: one change per person under the rights rule, each with its
//! own audit entry. The CSV is served here (cookie session) because the API's bearer
//! authentication does not take console cookies; its bytes come from the API's own writer.

use super::admins::user_by_login;
use super::form::Posted;
use super::view::{self, csrf, date, Errors, Field, Section};
use super::{done, or_error, Ctx, Page};
use crate::directory::credentials::CredentialDecision;
use crate::directory::reports::{PersonRef, RightHeld, RoleHeld, SeatHeld, Through, UserAccess};
use crate::http::AppState;
use axum::extract::Query;
use axum::response::Response;
use axum::routing::{get, post};
use axum::Router;
use maud::{html, Markup};
use rolecall_core::admin::{Operation, Target};
use rolecall_core::authz::ProfileId;
use rolecall_core::model::UserId;
use serde::Deserialize;

pub(super) fn router() -> Router<AppState> {
    Router::new()
        .route("/console/reports", get(stale))
        .route("/console/reports/stale.csv", get(stale_csv))
        .route("/console/reports/stale/deactivate", post(deactivate))
        .route("/console/reports/access", get(access))
        .route("/console/reports/seats", get(seats))
}

/// The idle threshold the stale report starts with, as the API's default.
const DEFAULT_DAYS: i64 = 90;

#[derive(Debug, Default, Deserialize)]
struct StaleQuery {
    #[serde(default)]
    days: String,
}

/// The tabs of the reports section, each shown when the matrix allows its report.
fn report_tabs(ctx: &Ctx, current: &str) -> Markup {
    let mut items: Vec<(&str, String, bool)> = Vec::new();
    if ctx.can(Operation::ViewAuthEvents, Target::Organization) {
        items.push((
            "Stale accounts",
            "/console/reports".into(),
            current == "stale",
        ));
    }
    items.push((
        "Access review",
        "/console/reports/access".into(),
        current == "access",
    ));
    if ctx.can(Operation::ViewProducts, Target::Organization) {
        items.push((
            "Seat usage",
            "/console/reports/seats".into(),
            current == "seats",
        ));
    }
    view::tabs(&items)
}

/// "direct" or a link to the group something is held through.
fn through(t: &Through) -> Markup {
    match t {
        Through::Direct => html! { "direct" },
        Through::Group {
            group_id,
            group_name,
        } => html! { "through " a href={ "/console/groups/" (group_id) } { (group_name) } },
    }
}

fn person(p: &PersonRef) -> Markup {
    let name = format!("{} {}", p.first_name, p.last_name);
    let name = name.trim();
    html! {
        a href={ "/console/users/" (p.id) } { @if name.is_empty() { (p.username) } @else { (name) } }
        br; span.muted { (p.email) }
    }
}

fn roles_cell(roles: &[RoleHeld]) -> Markup {
    html! { @for r in roles { div { (r.application) " · " (r.role_name) " " span.muted { "(" (through(&r.through)) ")" } } } }
}

fn seats_cell(seats: &[SeatHeld]) -> Markup {
    html! { @for s in seats { div { (s.application) " · " (s.profile_name) " " span.muted { "(" (through(&s.through)) ")" } } } }
}

fn rights_cell(rights: &[RightHeld]) -> Markup {
    html! { @for r in rights { div { (r.kind) @if !r.target.is_empty() { " " span.muted { (r.target) } } } } }
}

/// Reads the days field: a whole number (the use case checks the range and names the field).
fn parse_days(raw: &str) -> Result<i64, crate::error::Error> {
    let raw = raw.trim();
    if raw.is_empty() {
        return Ok(DEFAULT_DAYS);
    }
    raw.parse::<i64>().map_err(|_| {
        rolecall_core::Error::invalid("days", "integer", "must be a whole number of days").into()
    })
}

// ------------------------------------------------------------------ stale accounts

async fn stale(ctx: Ctx, Query(q): Query<StaleQuery>) -> Response {
    let r: Page = async {
        let admin = ctx.permit(Operation::ViewAuthEvents, Target::Organization)?;
        let report = match parse_days(&q.days) {
            Ok(days) => ctx.dir().stale_accounts(&admin.org, days).await,
            Err(e) => Err(e),
        };
        let report = match report {
            Ok(r) => r,
            Err(e) => {
                let Some(errors) = Errors::from_error(&e) else {
                    return Err(e.into());
                };
                let body = html! { (report_tabs(&ctx, "stale")) (days_form(&q.days, &errors)) };
                let mut res = view::page(&ctx, "Reports", Section::Reports, body);
                *res.status_mut() = axum::http::StatusCode::UNPROCESSABLE_ENTITY;
                return Ok(res);
            }
        };
        let may_deactivate = ctx.can(Operation::RemoveUser, Target::Organization);
        let days = report.days.to_string();
        let body = html! {
            (report_tabs(&ctx, "stale"))
            (days_form(&days, &Errors::default()))
            p.muted {
                "Active accounts that have not signed in for more than " (report.days) " days, or never. Taken " (date(Some(report.taken_at))) ". "
                a href={ "/console/reports/stale.csv?days=" (report.days) } download { "Download CSV" }
            }
            @if report.items.is_empty() {
                (view::empty("No stale accounts."))
            } @else {
                @if may_deactivate {
                    form #stale.bulk method="post" action="/console/reports/stale/deactivate" aria-label="Deactivate stale accounts" data-confirm="Deactivate the selected accounts?" {
                        (csrf(&ctx.csrf))
                        input type="hidden" name="days" value=(report.days);
                        span data-selected-count aria-live="polite" { "Select accounts below" }
                        label for="f-stale-cred" { "Their API credentials" }
                        select #f-stale-cred name="credentials" { option value="" { "Ask if any" } option value="revoke" { "Revoke" } option value="keep" { "Keep" } }
                        button.danger type="submit" { "Deactivate selected" }
                    }
                }
                div.table-wrap { table.list.stack {
                    caption.sr-only { "Stale accounts" }
                    thead { tr {
                        @if may_deactivate { th scope="col" { input type="checkbox" form="stale" data-select-all aria-label="Select all stale accounts"; } }
                        th scope="col" { "User" } th scope="col" { "Last sign-in" } th scope="col" { "Applications" }
                        th scope="col" { "Roles" } th scope="col" { "Groups" } th scope="col" { "Seats" } th scope="col" { "Admin rights" }
                    } }
                    tbody { @for a in &report.items { (stale_row(a, may_deactivate)) } }
                } }
            }
        };
        Ok(view::page(&ctx, "Reports", Section::Reports, body))
    }
    .await;
    or_error(&ctx, r)
}

fn days_form(value: &str, errors: &Errors) -> Markup {
    html! {
        form.toolbar method="get" action="/console/reports" {
            (Field::text("days", "Idle for more than (days)", value).kind("number").required().render(errors))
            div.field { button type="submit" { "Show" } }
        }
    }
}

fn stale_row(a: &UserAccess, selectable: bool) -> Markup {
    html! {
        tr {
            @if selectable { td { input type="checkbox" name="ids" value=(a.user.id) form="stale" aria-label={ "Select " (a.user.username) }; } }
            td { (person(&a.user)) }
            td { (date(a.user.last_sign_in_at)) }
            td { @for app in &a.applications { div { (app) } } }
            td { (roles_cell(&a.roles)) }
            td { @for g in &a.groups { div { a href={ "/console/groups/" (g.id) } { (g.name) } } } }
            td { (seats_cell(&a.seats)) }
            td { (rights_cell(&a.admin_rights)) }
        }
    }
}

async fn stale_csv(ctx: Ctx, Query(q): Query<StaleQuery>) -> Response {
    let r: Page = async {
        let admin = ctx.permit(Operation::ViewAuthEvents, Target::Organization)?;
        let days = parse_days(&q.days)?;
        let report = ctx.dir().stale_accounts(&admin.org, days).await?;
        Ok(crate::http::reports::stale_csv(&report))
    }
    .await;
    or_error(&ctx, r)
}

/// "Deactivate selected": the API's deactivation of a chosen set, after re-verification; the
/// answer lists what became of each person.
async fn deactivate(ctx: Ctx, form: Posted) -> Response {
    let r: Page = async {
        let admin = ctx
            .permit_sensitive(Operation::RemoveUser, Target::Organization, &form)
            .await?;
        let days = parse_days(form.get("days"))?;
        let mut ids: Vec<UserId> = Vec::new();
        for raw in form.all("ids") {
            ids.push(raw.parse().map_err(|_| {
                rolecall_core::Error::invalid("user_ids", "uuid", "choose accounts from the list")
            })?);
        }
        if ids.is_empty() {
            return Ok(done(
                &format!("/console/reports?days={days}"),
                "Select at least one account first.",
            ));
        }
        let credentials = match form.get("credentials") {
            "revoke" => Some(CredentialDecision::Revoke),
            "keep" => Some(CredentialDecision::Keep),
            _ => None,
        };
        let dir = ctx.dir();
        let outcomes = dir
            .deactivate_stale(&admin, days, &ids, credentials)
            .await?;
        let mut rows = Vec::new();
        for o in &outcomes {
            let name = match o.user_id.parse::<UserId>() {
                Ok(id) => dir
                    .get_user(&ctx.org, id)
                    .await
                    .map(|u| format!("{} ({})", view::display_name(&u), u.email.as_str()))
                    .unwrap_or_else(|_| o.user_id.clone()),
                Err(_) => o.user_id.clone(),
            };
            rows.push((name, o));
        }
        let done_count = outcomes
            .iter()
            .filter(|o| o.outcome == "deactivated")
            .count();
        let body = html! {
            (report_tabs(&ctx, "stale"))
            div.notice.ok role="status" { p { (done_count) " of " (outcomes.len()) " account(s) deactivated." } }
            div.table-wrap { table.list #deactivation-results {
                caption.sr-only { "What became of each account" }
                thead { tr { th scope="col" { "User" } th scope="col" { "Outcome" } th scope="col" { "Why" } } }
                tbody { @for (name, o) in &rows { tr {
                    td { a href={ "/console/users/" (o.user_id) } { (name) } }
                    td { span class={ "badge outcome-" (o.outcome) } { (o.outcome.replace('_', " ")) } }
                    td { (o.detail) }
                } } }
            } }
            p { a.button href={ "/console/reports?days=" (days) } { "Back to the report" } }
        };
        Ok(view::page(&ctx, "Deactivation results", Section::Reports, body))
    }
    .await;
    or_error(&ctx, r)
}

// ------------------------------------------------------------------ access review

#[derive(Debug, Default, Deserialize)]
struct AccessQuery {
    #[serde(default)]
    user: String,
    #[serde(default)]
    application: String,
    #[serde(default)]
    profile: String,
    /// `csv`: the review as the API's CSV download instead of the page.
    #[serde(default)]
    format: String,
}

async fn access(ctx: Ctx, Query(q): Query<AccessQuery>) -> Response {
    let r: Page = async {
        let dir = ctx.dir();
        let may_users = ctx.can(Operation::ViewAuthEvents, Target::Organization);
        let apps: Vec<(String, String)> = dir
            .catalogue()
            .apps
            .iter()
            .filter(|a| ctx.can(Operation::ViewRoles, Target::Application(a.key())))
            .map(|a| (a.key().to_string(), a.def.name.clone()))
            .collect();
        let profiles: Vec<_> = dir
            .list_profiles(&ctx.org, None)
            .await?
            .into_iter()
            .filter(|p| {
                ctx.can(
                    Operation::ViewProducts,
                    Target::Profile {
                        id: &p.profile.id.to_string(),
                        application: &p.profile.application,
                    },
                )
            })
            .collect();
        if !may_users && apps.is_empty() && profiles.is_empty() {
            // Nothing to review: the same refusal the API gives.
            ctx.permit(Operation::ViewAuthEvents, Target::Organization)?;
        }
        let csv = q.format == "csv";
        let result = if !q.user.trim().is_empty() {
            let admin = ctx.permit(Operation::ViewAuthEvents, Target::Organization)?;
            let id = match q.user.trim().parse::<UserId>() {
                Ok(id) => id,
                Err(_) => user_by_login(&ctx, &q.user, "user").await?.id,
            };
            let review = dir.review_user(&admin.org, id).await?;
            if csv {
                return Ok(crate::http::reports::user_review_csv(&review));
            }
            user_review(&review.access, review.taken_at)
        } else if !q.application.is_empty() {
            let admin = ctx.permit(
                Operation::ViewRoles,
                Target::Application(&q.application),
            )?;
            let review = dir.review_application(&admin.org, &q.application).await?;
            if csv {
                return Ok(crate::http::reports::application_review_csv(&review));
            }
            html! {
                h2 { "Application " (review.application) }
                p.muted { "Taken " (date(Some(review.taken_at))) ". "
                    a href={ "/console/reports/access?application=" (review.application) "&format=csv" } download { "Download CSV" } ". "
                    @if review.licensed { "Licensed: roles take effect with a seat in one of its profiles." } @else { "Not licensed per seat: roles take effect on their own." } }
                @if review.holders.is_empty() { (view::empty("Nobody has access.")) } @else {
                    div.table-wrap { table.list.stack #application-review {
                        thead { tr { th scope="col" { "User" } th scope="col" { "Status" } th scope="col" { "Roles" } th scope="col" { "Seats" } th scope="col" { "Product admin" } th scope="col" { "In effect" } } }
                        tbody { @for h in &review.holders { tr {
                            td { (person(&h.user)) } td { (h.user.status) }
                            td { (roles_cell(&h.roles)) } td { (seats_cell(&h.seats)) }
                            td { @if h.product_admin { "yes" } } td { @if h.effective { "yes" } @else { "no" } }
                        } } }
                    } }
                }
            }
        } else if !q.profile.is_empty() {
            let pid: ProfileId = q
                .profile
                .parse()
                .map_err(|_| rolecall_core::Error::not_found("profile", &q.profile))?;
            let app = dir.get_profile(&ctx.org, pid).await?.profile.application.clone();
            let admin = ctx.permit(
                Operation::ViewProducts,
                Target::Profile {
                    id: &q.profile,
                    application: &app,
                },
            )?;
            let review = dir.review_profile(&admin.org, pid).await?;
            if csv {
                return Ok(crate::http::reports::profile_review_csv(&review));
            }
            html! {
                h2 { "Profile " (review.application) " · " (review.profile_name) }
                p.muted { "Taken " (date(Some(review.taken_at))) ". "
                    a href={ "/console/reports/access?profile=" (review.profile_id) "&format=csv" } download { "Download CSV" } }
                @if review.holders.is_empty() { (view::empty("Nobody holds a seat.")) } @else {
                    div.table-wrap { table.list.stack #profile-review {
                        thead { tr { th scope="col" { "User" } th scope="col" { "Status" } th scope="col" { "Holds a seat" } } }
                        tbody { @for h in &review.holders { tr {
                            td { (person(&h.user)) } td { (h.user.status) }
                            td { @for t in &h.through { div { (through(t)) } } }
                        } } }
                    } }
                }
            }
        } else {
            html! {}
        };
        let body = html! {
            (report_tabs(&ctx, "access"))
            div.row {
                @if may_users {
                    form.toolbar method="get" action="/console/reports/access" {
                        div.field.grow { label for="f-user" { "By user (e-mail or username)" } input #f-user name="user" value=(q.user) autocomplete="off"; }
                        div.field { button type="submit" { "Review" } }
                    }
                }
                @if !apps.is_empty() {
                    form.toolbar method="get" action="/console/reports/access" {
                        div.field { label for="f-application" { "By application" }
                            select #f-application name="application" { @for (key, name) in &apps { option value=(key) selected[q.application == *key] { (name) } } } }
                        div.field { button type="submit" { "Review" } }
                    }
                }
                @if !profiles.is_empty() {
                    form.toolbar method="get" action="/console/reports/access" {
                        div.field { label for="f-profile" { "By product profile" }
                            select #f-profile name="profile" { @for p in &profiles { option value=(p.profile.id) selected[q.profile == p.profile.id.to_string()] { (p.profile.application) " · " (p.profile.name.as_str()) } } } }
                        div.field { button type="submit" { "Review" } }
                    }
                }
            }
            (result)
        };
        Ok(view::page(&ctx, "Access review", Section::Reports, body))
    }
    .await;
    or_error(&ctx, r)
}

fn user_review(a: &UserAccess, taken_at: i64) -> Markup {
    html! {
        h2 { (person(&a.user)) }
        p.muted { "Status " (a.user.status) " · last sign-in " (date(a.user.last_sign_in_at)) " · taken " (date(Some(taken_at))) ". "
            a href={ "/console/reports/access?user=" (a.user.id) "&format=csv" } download { "Download CSV" } }
        div.table-wrap { table.list #user-review {
            thead { tr { th scope="col" { "Kind" } th scope="col" { "What" } th scope="col" { "How" } } }
            tbody {
                @for app in &a.applications { tr { td { "application" } td { (app) } td {} } }
                @for r in &a.roles { tr { td { "role" } td { (r.application) " · " (r.role_name) } td { (through(&r.through)) } } }
                @for s in &a.seats { tr { td { "profile" } td { (s.application) " · " (s.profile_name) } td { (through(&s.through)) } } }
                @for g in &a.groups { tr { td { "group" } td { a href={ "/console/groups/" (g.id) } { (g.name) } } td {} } }
                @for r in &a.admin_rights { tr { td { "admin right" } td { (r.kind) " " (r.target) } td {} } }
                @for c in &a.credentials { tr { td { "API credential" } td { (c.name) } td {} } }
                @for s in &a.sessions { tr { td { "live session" } td { (s.source_ip) } td { "last seen " (date(Some(s.last_seen_at))) } } }
            }
        } }
    }
}

// ------------------------------------------------------------------ seats

#[derive(Debug, Default, Deserialize)]
struct SeatsQuery {
    #[serde(default)]
    format: String,
}

async fn seats(ctx: Ctx, Query(q): Query<SeatsQuery>) -> Response {
    let r: Page = async {
        let admin = ctx.permit(Operation::ViewProducts, Target::Organization)?;
        let usage = ctx.dir().seat_usage(&admin.org).await?;
        if q.format == "csv" {
            return Ok(crate::http::reports::seat_usage_csv(&usage));
        }
        let n = |v: Option<i64>| v.map(|v| v.to_string()).unwrap_or_else(|| "unlimited".into());
        let body = html! {
            (report_tabs(&ctx, "seats"))
            p.muted { "Taken " (date(Some(usage.taken_at))) ". " a href="/console/reports/seats?format=csv" download { "Download CSV" } }
            @if usage.items.is_empty() { (view::empty("No product profiles.")) } @else {
                div.table-wrap { table.list.stack #seat-usage {
                    thead { tr { th scope="col" { "Profile" } th scope="col" { "Used" } th scope="col" { "Free" } th scope="col" { "Quota" } th scope="col" { "Direct" } th scope="col" { "Through groups" } } }
                    tbody { @for l in &usage.items { tr {
                        td { a href={ "/console/reports/access?profile=" (l.profile_id) } { (l.application) " · " (l.profile_name) } }
                        td { (l.used) } td { (n(l.free)) } td { (n(l.quota)) } td { (l.direct) } td { (l.through_groups) }
                    } } }
                } }
            }
        };
        Ok(view::page(&ctx, "Seat usage", Section::Reports, body))
    }
    .await;
    or_error(&ctx, r)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn days_default_and_refuse_words() {
        assert_eq!(parse_days("").ok(), Some(DEFAULT_DAYS));
        assert_eq!(parse_days(" 30 ").ok(), Some(30));
        assert!(parse_days("ninety").is_err());
    }
}
