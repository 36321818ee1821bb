//! Offboarding from the user page (issue 11): choose deactivate or delete and what becomes of
//! the person's API credentials (revoke, keep, or transfer to someone), confirm with the
//! password, then see everything that was withdrawn — the report `POST …/users/{id}/offboard`
//! answers, from the same `Directory::offboard` use case (one transaction, one audit entry).

use super::super::admins::user_by_login;
use super::super::form::Posted;
use super::super::view::{self, csrf, date, Errors, Section};
use super::super::{or_error, ConsoleError, Ctx, Page};
use super::user_header;
use crate::directory::credentials::{CredentialDecision, CredentialPlan};
use crate::directory::offboard::{OffboardMode, OffboardReport};
use crate::directory::reports::{RoleHeld, SeatHeld, Through};
use crate::http::AppState;
use axum::extract::Path;
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::get;
use axum::Router;
use maud::{html, Markup};
use rolecall_core::admin::{Operation, Target};
use rolecall_core::model::{User, UserId};

pub(super) fn router() -> Router<AppState> {
    Router::new().route(
        "/console/users/{id}/offboard",
        get(form_page).post(offboard),
    )
}

async fn load(ctx: &Ctx, id: &str) -> Result<User, ConsoleError> {
    let id: UserId = id
        .parse()
        .map_err(|_| rolecall_core::Error::not_found("user", id))?;
    Ok(ctx.dir().get_user(&ctx.org, id).await?)
}

fn offboard_form(ctx: &Ctx, u: &User, form: Option<&Posted>, errors: &Errors) -> Markup {
    let v = |k: &str, default: &str| {
        form.map(|f| f.get(k).to_string())
            .unwrap_or_else(|| default.to_string())
    };
    let mode = v("mode", "deactivate");
    let cred = v("credentials", "");
    html! {
        (user_header(ctx, u, "account"))
        h2 { "Offboard " (view::display_name(u)) }
        p.muted { "One step across every application: sessions end, seats are released, group memberships, roles and admin rights are withdrawn (kept on record but void when only deactivating), invitations are withdrawn. You will see everything that was withdrawn." }
        (view::error_summary(errors, &["mode", "credentials", "transfer_to"]))
        form method="post" action={ "/console/users/" (u.id) "/offboard" } data-confirm="Offboard this person now?" novalidate {
            (csrf(&ctx.csrf))
            fieldset {
                legend { "What happens to the account" }
                div.check { input #f-mode-deactivate type="radio" name="mode" value="deactivate" checked[mode != "delete"];
                    label for="f-mode-deactivate" { "Deactivate: the record stays and can be reactivated" } }
                div.check { input #f-mode-delete type="radio" name="mode" value="delete" checked[mode == "delete"];
                    label for="f-mode-delete" { "Delete: irreversible; the audit log keeps their name and e-mail" } }
            }
            fieldset {
                legend { "API credentials they created" }
                div.field.invalid[!errors.of("credentials").is_empty()] {
                    label for="f-credentials" { "Decision" }
                    select #f-credentials name="credentials" {
                        option value="" selected[cred.is_empty()] { "Ask me if there are any" }
                        option value="revoke" selected[cred == "revoke"] { "Revoke them" }
                        option value="keep" selected[cred == "keep"] { "Keep them" }
                        option value="transfer" selected[cred == "transfer"] { "Transfer them to someone" }
                    }
                    @for m in errors.of("credentials") { p.error-text { (m) } }
                }
                (view::Field::text("transfer_to", "Transfer to (e-mail or username)", &v("transfer_to", "")).hint("Only with \u{201c}Transfer them\u{201d}: an active person who takes the credentials over.").autocomplete("off").render(errors))
            }
            div.actions {
                button.danger type="submit" { "Offboard" }
                a.button href={ "/console/users/" (u.id) } { "Cancel" }
            }
        }
    }
}

async fn form_page(ctx: Ctx, Path(id): Path<String>) -> Response {
    let r: Page = async {
        ctx.permit(Operation::RemoveUser, Target::Organization)?;
        let u = load(&ctx, &id).await?;
        let body = offboard_form(&ctx, &u, None, &Errors::default());
        Ok(view::page(
            &ctx,
            &view::display_name(&u),
            Section::Users,
            body,
        ))
    }
    .await;
    or_error(&ctx, r)
}

/// The form's decision as the use case takes it; a person to transfer to is named by login.
async fn plan_of(ctx: &Ctx, form: &Posted) -> crate::error::Result<Option<CredentialPlan>> {
    let decision = match form.get("credentials") {
        "" => None,
        "revoke" => Some(CredentialDecision::Revoke),
        "keep" => Some(CredentialDecision::Keep),
        "transfer" => Some(CredentialDecision::Transfer),
        _ => {
            return Err(rolecall_core::Error::invalid(
                "credentials",
                "enum",
                "choose revoke, keep or transfer",
            )
            .into())
        }
    };
    let transfer_to = match form.opt("transfer_to") {
        None => None,
        Some(login) => match user_by_login(ctx, login, "transfer_to").await {
            Ok(u) => Some(u.id),
            Err(ConsoleError::Error(e)) => return Err(e),
            Err(_) => None,
        },
    };
    CredentialPlan::from_wire(decision, transfer_to)
}

async fn offboard(ctx: Ctx, Path(id): Path<String>, form: Posted) -> Response {
    let r: Page = async {
        let admin = ctx
            .permit_sensitive(Operation::RemoveUser, Target::Organization, &form)
            .await?;
        let u = load(&ctx, &id).await?;
        let mode = match form.get("mode") {
            "deactivate" => Ok(OffboardMode::Deactivate),
            "delete" => Ok(OffboardMode::Delete),
            _ => Err(crate::error::Error::from(rolecall_core::Error::invalid(
                "mode",
                "enum",
                "choose deactivate or delete",
            ))),
        };
        let result = match (mode, plan_of(&ctx, &form).await) {
            (Ok(mode), Ok(plan)) => ctx.dir().offboard(&admin, u.id, mode, plan).await,
            (Err(e), _) | (_, Err(e)) => Err(e),
        };
        match result {
            Ok(report) => Ok(view::page(
                &ctx,
                "Offboarded",
                Section::Users,
                report_body(&report),
            )),
            Err(e) => {
                let Some(errors) = Errors::from_error(&e) else {
                    return Err(e.into());
                };
                let mut res = view::page(
                    &ctx,
                    &view::display_name(&u),
                    Section::Users,
                    offboard_form(&ctx, &u, Some(&form), &errors),
                );
                *res.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
                Ok(res)
            }
        }
    }
    .await;
    or_error(&ctx, r)
}

fn via(t: &Through) -> String {
    match t {
        Through::Direct => "direct".into(),
        Through::Group { group_name, .. } => format!("through {group_name}"),
    }
}

fn roles(list: &[RoleHeld]) -> Markup {
    html! { ul { @for r in list { li { (r.application) " · " (r.role_name) " " span.muted { "(" (via(&r.through)) ")" } } } } }
}

fn seats(list: &[SeatHeld]) -> Markup {
    html! { ul { @for s in list { li { (s.application) " · " (s.profile_name) " " span.muted { "(" (via(&s.through)) ")" } } } } }
}

/// Everything withdrawn, section by section; empty sections say "none".
fn report_body(r: &OffboardReport) -> Markup {
    let none = html! { span.muted { "none" } };
    let name = format!("{} {}", r.first_name, r.last_name);
    let name = if name.trim().is_empty() {
        r.username.clone()
    } else {
        name.trim().to_string()
    };
    let group_list =
        |g: &[crate::directory::reports::Named]| html! { ul { @for x in g { li { (x.name) } } } };
    html! {
        div.notice.ok role="status" { p { (name) " (" (r.email) ") is " (r.status_after) ". Everything withdrawn is listed below and recorded in the audit log." } }
        dl.facts #offboard-report {
            dt { "Done" } dd { (date(Some(r.taken_at))) }
            dt { "Status" } dd { (r.status_before) " → " (r.status_after) }
            dt { "Sessions ended" } dd { (r.sessions_ended) }
            dt { "Seats released" } dd { @if r.seats_released.is_empty() { (none) } @else { (seats(&r.seats_released)) } }
            dt { "Seats through groups" } dd { @if r.seats_through_groups.is_empty() { (none) } @else {
                (seats(&r.seats_through_groups))
                @if r.mode == OffboardMode::Deactivate { p.muted { "Kept with the (void) memberships." } } @else { p.muted { "Released with the memberships." } }
            } }
            dt { "Groups removed" } dd { @if r.groups_removed.is_empty() { (none) } @else { (group_list(&r.groups_removed)) } }
            dt { "Groups kept, void" } dd { @if r.groups_kept_void.is_empty() { (none) } @else { (group_list(&r.groups_kept_void)) } }
            dt { "Roles removed" } dd { @if r.roles_removed.is_empty() { (none) } @else { (roles(&r.roles_removed)) } }
            dt { "Roles kept, void" } dd { @if r.roles_kept_void.is_empty() { (none) } @else { (roles(&r.roles_kept_void)) } }
            dt { "Admin rights removed" } dd { @if r.admin_rights_removed.is_empty() { (none) } @else {
                ul { @for x in &r.admin_rights_removed { li { (x.kind) " " (x.target) } } }
            } }
            dt { "API credentials" } dd { @if r.credentials.is_empty() { (none) } @else {
                ul { @for c in &r.credentials { li { (c.name) ": " (c.outcome) @if let Some(to) = c.transferred_to { " to " a href={ "/console/users/" (to) } { "the new owner" } } } } }
            } }
            dt { "Invitations withdrawn" } dd { (r.invitations_withdrawn) }
        }
        p { a.button href="/console/users" { "Back to users" } }
    }
}
