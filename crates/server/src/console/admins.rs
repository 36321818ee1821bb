//! Administrators (seed 004's Users › Administrators): everyone holding admin rights, "Add
//! admin" (choose the person, the right and what it covers — only rights the signed-in admin
//! may delegate are offered), revoking rights, and the account-owner transfer.

use super::form::Posted;
use super::view::{self, csrf, Section};
use super::{done, or_error, ConsoleError, Ctx, Page};
use crate::http::AppState;
use axum::extract::Path;
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::{get, post};
use axum::Router;
use maud::{html, Markup};
use rolecall_core::admin::{may_delegate, AdminRight, Operation, Target};
use rolecall_core::model::{User, UserId, UserStatus};
use std::collections::HashMap;

pub(super) fn router() -> Router<AppState> {
    Router::new()
        .route("/console/admins", get(list))
        .route("/console/admins/grant", post(grant))
        .route("/console/admins/owner", post(transfer))
        .route("/console/users/{id}/admin-rights/revoke", post(revoke))
}

/// A right as people read it (ids shown when no name is known).
pub(crate) fn right_label(r: &AdminRight) -> String {
    right_named(r, &Names::default())
}

/// Names of profiles and groups, so rights read "Profile admin · Default (commerce-admin)".
#[derive(Default)]
pub(crate) struct Names {
    profiles: HashMap<String, (String, String)>,
    groups: HashMap<String, String>,
}

impl Names {
    pub async fn load(ctx: &Ctx) -> crate::error::Result<Names> {
        let dir = ctx.dir();
        let profiles = dir
            .list_profiles(&ctx.org, None)
            .await?
            .into_iter()
            .map(|p| {
                (
                    p.profile.id.to_string(),
                    (p.profile.name.as_str().to_string(), p.profile.application),
                )
            })
            .collect();
        let groups = dir
            .list_groups(&ctx.org, None, 1, 500)
            .await?
            .0
            .into_iter()
            .map(|g| (g.id.to_string(), g.name.as_str().to_string()))
            .collect();
        Ok(Names { profiles, groups })
    }

    fn profile_app(&self, id: &str) -> Option<&str> {
        self.profiles.get(id).map(|(_, a)| a.as_str())
    }
}

fn right_named(r: &AdminRight, n: &Names) -> String {
    match r {
        AdminRight::System => "System admin".into(),
        AdminRight::Product { application } => format!("Product admin · {application}"),
        AdminRight::ProductProfile { profile_id } => match n.profiles.get(profile_id) {
            Some((name, app)) => format!("Profile admin · {name} ({app})"),
            None => format!("Profile admin · {profile_id}"),
        },
        AdminRight::UserGroup { group_id } => match n.groups.get(group_id) {
            Some(name) => format!("Group admin · {name}"),
            None => format!("Group admin · {group_id}"),
        },
        AdminRight::Deployment => "Deployment admin".into(),
        AdminRight::Support => "Support admin".into(),
        AdminRight::Storage => "Storage admin".into(),
    }
}

/// `kind:target` as a form value.
fn encode(r: &AdminRight) -> String {
    let (k, t) = r.to_row();
    format!("{k}:{t}")
}

fn decode(v: &str) -> Option<AdminRight> {
    let (k, t) = v.split_once(':')?;
    AdminRight::from_row(k, t)
}

/// Would the delegation rule let the signed-in admin grant or revoke `r`?
fn delegable(ctx: &Ctx, r: &AdminRight, n: &Names) -> bool {
    let app = match r {
        AdminRight::ProductProfile { profile_id } => n.profile_app(profile_id),
        _ => None,
    };
    may_delegate(&ctx.rights, r, ctx.org.kind, app).is_ok()
}

/// The rights a user holds, each with a revoke button when the signed-in admin may revoke it.
pub(crate) async fn rights_table(
    ctx: &Ctx,
    u: &User,
    rights: &[AdminRight],
) -> crate::error::Result<Markup> {
    let names = Names::load(ctx).await?;
    let may_manage = ctx.can(Operation::ViewAdmins, Target::Organization);
    Ok(html! {
        @if rights.is_empty() { (view::empty("No admin rights.")) } @else {
            ul.plain {
                @for r in rights {
                    li {
                        span.badge { (right_named(r, &names)) } " "
                        @if may_manage && delegable(ctx, r, &names) && u.id != ctx.me.id {
                            form.inline method="post" action={ "/console/users/" (u.id) "/admin-rights/revoke" } data-confirm="Revoke this admin right?" {
                                (csrf(&ctx.csrf)) input type="hidden" name="right" value=(encode(r));
                                button.small.danger type="submit" { "Revoke" }
                            }
                        }
                    }
                }
            }
        }
    })
}

async fn list(ctx: Ctx) -> Response {
    let r: Page = async {
        let admin = ctx.permit(Operation::ViewAdmins, Target::Organization)?;
        let dir = ctx.dir();
        let admins = dir.admins(&admin.org).await?;
        let names = Names::load(&ctx).await?;
        // Every right the signed-in admin may hand out: at or below their own (seed 004).
        let mut offer: Vec<AdminRight> = vec![AdminRight::System, AdminRight::Deployment, AdminRight::Support, AdminRight::Storage];
        for app in &dir.catalogue().apps {
            offer.push(AdminRight::Product { application: app.key().to_string() });
        }
        for id in names.profiles.keys() {
            offer.push(AdminRight::ProductProfile { profile_id: id.clone() });
        }
        for id in names.groups.keys() {
            offer.push(AdminRight::UserGroup { group_id: id.clone() });
        }
        offer.retain(|r| delegable(&ctx, r, &names));
        offer.sort_by_key(|r| right_named(r, &names));
        let owner = admins.iter().find(|a| a.owner);
        let may_transfer = ctx.can(Operation::TransferOwnership, Target::Organization) && ctx.org.owner_id == Some(ctx.me.id);
        let body = html! {
            div.table-wrap { table.list.stack {
                caption.sr-only { "Administrators" }
                thead { tr { th scope="col" { "User" } th scope="col" { "E-mail" } th scope="col" { "Status" } th scope="col" { "Rights" } } }
                tbody { @for a in &admins { tr {
                    td { a href={ "/console/users/" (a.user_id) "/admin-rights" } { (a.username) } @if a.owner { " " span.badge { "account owner" } } }
                    td { (a.email) }
                    td { (view::status_badge(a.status)) }
                    td { @for r in &a.rights { span.badge { (right_named(r, &names)) } " " } }
                } } }
            } }
            @if !offer.is_empty() {
                h2 #add { "Add admin" }
                p.muted { "You can give the rights you hold, or rights below yours, over what you administer. The person is told by e-mail." }
                form method="post" action="/console/admins/grant" {
                    (csrf(&ctx.csrf))
                    div.field { label for="f-login" { "User (e-mail or username)" } input #f-login name="login" required autocomplete="off"; }
                    div.field { label for="f-right" { "Admin right" }
                        select #f-right name="right" required { @for r in &offer { option value=(encode(r)) { (right_named(r, &names)) } } }
                    }
                    div.actions { button.primary type="submit" { "Add admin" } }
                }
            }
            h2 { "Account owner" }
            p { "The account owner cannot be deactivated, deleted or lose System admin until ownership moves to another active System admin." }
            p { "Owner: " @match owner { Some(o) => { strong { (o.username) } }, None => { span.muted { "none" } } } }
            @if may_transfer {
                @let candidates: Vec<_> = admins.iter().filter(|a| !a.owner && a.status == UserStatus::Active && a.rights.contains(&AdminRight::System)).collect();
                @if candidates.is_empty() { p.muted { "Make another active user System admin to be able to transfer ownership." } } @else {
                    form method="post" action="/console/admins/owner" data-confirm="Transfer the account ownership? You stay a System admin." {
                        (csrf(&ctx.csrf))
                        div.field { label for="f-owner" { "New owner" }
                            select #f-owner name="user_id" { @for a in &candidates { option value=(a.user_id) { (a.username) " (" (a.email) ")" } } }
                        }
                        div.actions { button.danger type="submit" { "Transfer ownership" } }
                    }
                }
            }
        };
        Ok(view::page(&ctx, "Administrators", Section::Admins, body))
    }
    .await;
    or_error(&ctx, r)
}

/// The user named by an e-mail or username typed into a form (exact, ignoring case).
pub(crate) async fn user_by_login(
    ctx: &Ctx,
    login: &str,
    field: &str,
) -> Result<User, ConsoleError> {
    let login = login.trim();
    ctx.dir()
        .person_by_login(&ctx.org, login)
        .await?
        .ok_or_else(|| {
            rolecall_core::Error::invalid(
                field,
                "unknown_user",
                format!("no user {login:?} in this organization"),
            )
            .into()
        })
}

async fn grant(ctx: Ctx, form: Posted) -> Response {
    let r: Page = async {
        let right = decode(form.get("right"))
            .ok_or_else(|| rolecall_core::Error::invalid("right", "enum", "choose a right"))?;
        // As over the API: the endpoint's gate, then the use case's delegation rule decides.
        let admin = ctx
            .permit_sensitive(Operation::ViewAdmins, Target::Organization, &form)
            .await?;
        let user = user_by_login(&ctx, form.get("login"), "login").await?;
        ctx.dir()
            .grant_right(&admin, user.id, right, &ctx.client)
            .await?;
        Ok(done(
            "/console/admins",
            &format!("{} is now an admin.", user.username.as_str()),
        ))
    }
    .await;
    or_error(&ctx, r)
}

async fn revoke(ctx: Ctx, Path(id): Path<String>, form: Posted) -> Response {
    let r: Page = async {
        let user: UserId = id
            .parse()
            .map_err(|_| rolecall_core::Error::not_found("user", &id))?;
        let right = decode(form.get("right"))
            .ok_or_else(|| rolecall_core::Error::invalid("right", "enum", "choose a right"))?;
        let admin = ctx
            .permit_sensitive(Operation::ViewAdmins, Target::Organization, &form)
            .await?;
        ctx.dir()
            .revoke_right(&admin, user, right, &ctx.client)
            .await?;
        Ok(done(
            &format!("/console/users/{user}/admin-rights"),
            "Admin right revoked.",
        ))
    }
    .await;
    or_error(&ctx, r)
}

async fn transfer(ctx: Ctx, form: Posted) -> Response {
    let r: Page = async {
        let to: UserId = form.get("user_id").parse().map_err(|_| {
            ConsoleError::Status(
                StatusCode::UNPROCESSABLE_ENTITY,
                "Choose the new owner.".into(),
            )
        })?;
        let admin = ctx
            .permit_sensitive(Operation::TransferOwnership, Target::Organization, &form)
            .await?;
        ctx.dir()
            .transfer_ownership(&admin, to, &ctx.client)
            .await?;
        Ok(done("/console/admins", "Account ownership transferred."))
    }
    .await;
    or_error(&ctx, r)
}
