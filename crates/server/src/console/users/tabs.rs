//! The user page's tabs and their actions: account (edit, deactivate, reactivate, delete,
//! password, 2FA, unlock, invitation), roles (direct and through which group), groups,
//! profiles, admin rights, sessions, API credentials and sign-in activity.

use super::super::form::Posted;
use super::super::view::{self, csrf, date, Errors, Field, Section};
use super::super::{done, or_error, ConsoleError, Ctx, Page};
use super::{decision, user_header, via};
use crate::directory::UserPatch;
use crate::http::AppState;
use axum::extract::Path;
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::{get, post};
use axum::Router;
use maud::{html, Markup};
use rolecall_core::admin::{Operation, Target};
use rolecall_core::change::handles_invitation;
use rolecall_core::model::{RoleId, User, UserId, UserStatus};

pub(super) fn router() -> Router<AppState> {
    Router::new()
        .route("/console/users/{id}", get(account).post(edit))
        .route("/console/users/{id}/status", post(set_status))
        .route("/console/users/{id}/delete", post(delete))
        .route("/console/users/{id}/password", post(set_password))
        .route("/console/users/{id}/reset-2fa", post(reset_2fa))
        .route("/console/users/{id}/unlock", post(unlock))
        .route("/console/users/{id}/invitation", post(invitation))
        .route("/console/users/{id}/roles", get(roles).post(assign))
        .route("/console/users/{id}/roles/{role}/remove", post(unassign))
        .route("/console/users/{id}/groups", get(groups))
        .route("/console/users/{id}/profiles", get(profiles))
        .route("/console/users/{id}/admin-rights", get(admin_rights))
        .route("/console/users/{id}/sessions", get(sessions))
        .route("/console/users/{id}/sessions/end", post(end_sessions))
        .route("/console/users/{id}/credentials", get(credentials))
        .route("/console/users/{id}/activity", get(activity))
}

async fn load(ctx: &Ctx, id: &str) -> Result<User, ConsoleError> {
    ctx.permit(Operation::ViewUsers, Target::Organization)?;
    let id: UserId = id
        .parse()
        .map_err(|_| rolecall_core::Error::not_found("user", id))?;
    Ok(ctx.dir().get_user(&ctx.org, id).await?)
}

fn tab_page(ctx: &Ctx, u: &User, tab: &str, body: Markup) -> Response {
    view::page(
        ctx,
        &view::display_name(u),
        Section::Users,
        html! { (user_header(ctx, u, tab)) (body) },
    )
}

// ------------------------------------------------------------------ account

/// May the admin resend or withdraw `u`'s invitation? Only a System admin or whoever sent the
/// live token (`handles_invitation`, the rule `judge` enforces); with no open invitation (it
/// was withdrawn) a resend invites afresh, which only a System admin may.
async fn handles_invitation_of(ctx: &Ctx, u: &User) -> Result<bool, ConsoleError> {
    if u.status != UserStatus::Invited || !ctx.can(Operation::AddUser, Target::Organization) {
        return Ok(false);
    }
    let open = ctx.dir().open_invitation(&ctx.org, u).await?;
    let sent_by = open.and_then(|i| i.sent_by);
    Ok(handles_invitation(&ctx.rights, Some(ctx.me.id), sent_by))
}

fn account_body(
    ctx: &Ctx,
    u: &User,
    invitation: bool,
    form: Option<&Posted>,
    errors: &Errors,
) -> Markup {
    let id = u.id;
    let v = |k: &str, cur: &str| {
        form.map(|f| f.get(k).to_string())
            .unwrap_or_else(|| cur.to_string())
    };
    let editable = ctx.can(Operation::EditUser, Target::Organization)
        && u.kind == rolecall_core::model::UserKind::Person;
    let is_owner = ctx.org.owner_id == Some(u.id);
    html! {
        dl.facts {
            dt { "Status" } dd { (view::status_badge(u.status)) @if is_owner { " " span.badge { "account owner" } } }
            dt { "Created" } dd { (date(Some(u.created_at))) }
            dt { "Last sign-in" } dd { (date(u.last_sign_in_at)) }
            dt { "Id" } dd { code { (u.id) } }
            @if ctx.can(Operation::ViewAuthEvents, Target::Organization) {
                dt { "Access" } dd { a href={ "/console/reports/access?user=" (u.id) } { "Access review" } }
            }
        }
        @if editable {
            h2 { "Account information" }
            (view::error_summary(errors, &["email", "username", "first_name", "last_name", "locale"]))
            form method="post" action={ "/console/users/" (id) } novalidate {
                (csrf(&ctx.csrf))
                input type="hidden" name="version" value=(u.version);
                (Field::text("email", "E-mail", &v("email", u.email.as_str())).kind("email").required().render(errors))
                (Field::text("username", "Username", &v("username", u.username.as_str())).required().render(errors))
                div.row {
                    (Field::text("first_name", "First name", &v("first_name", u.first_name.as_str())).render(errors))
                    (Field::text("last_name", "Last name", &v("last_name", u.last_name.as_str())).render(errors))
                }
                (Field::text("locale", "Interface locale", &v("locale", u.locale.as_str())).render(errors))
                div.actions { button.primary type="submit" { "Save user" } }
            }
        } @else {
            dl.facts {
                dt { "E-mail" } dd { (u.email.as_str()) }
                dt { "Username" } dd { (u.username.as_str()) }
                dt { "Name" } dd { (view::display_name(u)) }
            }
        }
        h2 { "Actions" }
        div.actions {
            @if invitation {
                (view::action_button(&ctx.csrf, &format!("/console/users/{id}/invitation?do=resend"), "Resend invitation", false, None))
                (view::action_button(&ctx.csrf, &format!("/console/users/{id}/invitation?do=withdraw"), "Withdraw invitation", true, Some("Withdraw the invitation? The link stops working.")))
            }
            @if ctx.can(Operation::ManageSignIn, Target::Organization) {
                (view::action_button(&ctx.csrf, &format!("/console/users/{id}/reset-2fa"), "Reset two-step verification", false, Some("Reset two-step verification? They set it up again at their next sign-in, and their sessions end now.")))
                (view::action_button(&ctx.csrf, &format!("/console/users/{id}/unlock"), "Unlock", false, None))
            }
            @if u.status == UserStatus::Inactive && ctx.can(Operation::EditUser, Target::Organization) {
                form.inline method="post" action={ "/console/users/" (id) "/status" } {
                    (csrf(&ctx.csrf)) input type="hidden" name="status" value="active";
                    button.small type="submit" { "Reactivate" }
                }
            }
        }
        @if ctx.can(Operation::RemoveUser, Target::Organization) && !is_owner {
            h2 { "Remove access" }
            p.muted { "Deactivating keeps the record and voids every access at once; deleting is irreversible. Either way their sessions end now." }
            form method="post" action={ "/console/users/" (id) "/status" } {
                (csrf(&ctx.csrf))
                input type="hidden" name="status" value="inactive";
                div.field {
                    label for="f-credentials" { "API credentials they created" }
                    select #f-credentials name="credentials" { option value="" { "Ask me if there are any" } option value="revoke" { "Revoke them" } option value="keep" { "Keep them" } }
                }
                div.actions {
                    a.button href={ "/console/users/" (id) "/offboard" } { "Offboard…" }
                    @if u.status != UserStatus::Inactive { button.danger type="submit" { "Deactivate user" } }
                    button.danger type="submit" formaction={ "/console/users/" (id) "/delete" } data-confirm="Delete this user for good?" { "Delete user" }
                }
            }
        }
        @if ctx.can(Operation::ManageSignIn, Target::Organization) && u.kind == rolecall_core::model::UserKind::Person {
            h2 { "Set a password" }
            form method="post" action={ "/console/users/" (id) "/password" } {
                (csrf(&ctx.csrf))
                (Field::text("password", "New password", "").kind("password").autocomplete("new-password").hint("Their sessions end; tell them the password another way.").render(errors))
                div.actions { button type="submit" { "Set password" } }
            }
        }
    }
}

async fn account(ctx: Ctx, Path(id): Path<String>) -> Response {
    let r: Page = async {
        let u = load(&ctx, &id).await?;
        let invitation = handles_invitation_of(&ctx, &u).await?;
        Ok(tab_page(
            &ctx,
            &u,
            "account",
            account_body(&ctx, &u, invitation, None, &Errors::default()),
        ))
    }
    .await;
    or_error(&ctx, r)
}

async fn edit(ctx: Ctx, Path(id): Path<String>, form: Posted) -> Response {
    let r: Page = async {
        let u = load(&ctx, &id).await?;
        let admin = ctx
            .permit_sensitive(Operation::EditUser, Target::Organization, &form)
            .await?;
        let patch = UserPatch {
            email: Some(form.get("email").trim().to_string()),
            username: Some(form.get("username").trim().to_string()),
            first_name: Some(form.get("first_name").trim().to_string()),
            last_name: Some(form.get("last_name").trim().to_string()),
            locale: form.opt("locale").map(str::to_string),
            status: None,
            ..Default::default()
        };
        let version = form.get("version").parse().ok();
        match ctx
            .dir()
            .update_user(&admin, u.id, patch, version, None, &ctx.client)
            .await
        {
            Ok(_) => Ok(done(&format!("/console/users/{}", u.id), "User saved.")),
            Err(e) => match Errors::from_error(&e) {
                Some(errors) => {
                    let invitation = handles_invitation_of(&ctx, &u).await?;
                    let mut res = tab_page(
                        &ctx,
                        &u,
                        "account",
                        account_body(&ctx, &u, invitation, Some(&form), &errors),
                    );
                    *res.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
                    Ok(res)
                }
                None => Err(e.into()),
            },
        }
    }
    .await;
    or_error(&ctx, r)
}

async fn set_status(ctx: Ctx, Path(id): Path<String>, form: Posted) -> Response {
    let r: Page = async {
        let u = load(&ctx, &id).await?;
        let status = form.get("status");
        // Deactivation removes the user from the organisation (a System admin task, seed 004).
        let op = if status == "inactive" {
            Operation::RemoveUser
        } else {
            Operation::EditUser
        };
        let admin = ctx
            .permit_sensitive(op, Target::Organization, &form)
            .await?;
        let patch = UserPatch {
            status: Some(status.to_string()),
            ..Default::default()
        };
        ctx.dir()
            .update_user(&admin, u.id, patch, None, decision(&form), &ctx.client)
            .await?;
        let msg = if status == "inactive" {
            "User deactivated; their sessions have ended."
        } else {
            "User reactivated."
        };
        Ok(done(&format!("/console/users/{}", u.id), msg))
    }
    .await;
    or_error(&ctx, r)
}

async fn delete(ctx: Ctx, Path(id): Path<String>, form: Posted) -> Response {
    let r: Page = async {
        let u = load(&ctx, &id).await?;
        let admin = ctx
            .permit_sensitive(Operation::RemoveUser, Target::Organization, &form)
            .await?;
        ctx.dir()
            .delete_user(&admin, u.id, None, decision(&form), &ctx.client)
            .await?;
        Ok(done(
            "/console/users",
            &format!("{} was deleted.", u.username.as_str()),
        ))
    }
    .await;
    or_error(&ctx, r)
}

async fn set_password(ctx: Ctx, Path(id): Path<String>, form: Posted) -> Response {
    let r: Page = async {
        let u = load(&ctx, &id).await?;
        let admin = ctx
            .permit_sensitive(Operation::ManageSignIn, Target::Organization, &form)
            .await?;
        match ctx
            .dir()
            .set_password(&admin, u.id, form.get("password"), &ctx.client)
            .await
        {
            Ok(()) => Ok(done(
                &format!("/console/users/{}", u.id),
                "Password set; their sessions have ended.",
            )),
            Err(e) => match Errors::from_error(&e) {
                Some(mut errors) => {
                    for fe in &mut errors.0 {
                        fe.field = "password".into();
                    }
                    let invitation = handles_invitation_of(&ctx, &u).await?;
                    let mut res = tab_page(
                        &ctx,
                        &u,
                        "account",
                        account_body(&ctx, &u, invitation, None, &errors),
                    );
                    *res.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
                    Ok(res)
                }
                None => Err(e.into()),
            },
        }
    }
    .await;
    or_error(&ctx, r)
}

async fn reset_2fa(ctx: Ctx, Path(id): Path<String>, form: Posted) -> Response {
    let r: Page = async {
        let u = load(&ctx, &id).await?;
        let admin = ctx
            .permit_sensitive(Operation::ManageSignIn, Target::Organization, &form)
            .await?;
        ctx.dir().reset_2fa(&admin, &[u.id], &ctx.client).await?;
        Ok(done(
            &format!("/console/users/{}", u.id),
            "Two-step verification reset; their sessions have ended.",
        ))
    }
    .await;
    or_error(&ctx, r)
}

async fn unlock(ctx: Ctx, Path(id): Path<String>, _form: Posted) -> Response {
    let r: Page = async {
        let u = load(&ctx, &id).await?;
        let admin = ctx.permit(Operation::ManageSignIn, Target::Organization)?;
        ctx.dir().unlock(&admin, u.id, &ctx.client).await?;
        Ok(done(
            &format!("/console/users/{}", u.id),
            "Account unlocked.",
        ))
    }
    .await;
    or_error(&ctx, r)
}

#[derive(serde::Deserialize)]
struct Do {
    #[serde(rename = "do")]
    what: String,
}

async fn invitation(
    ctx: Ctx,
    Path(id): Path<String>,
    q: axum::extract::Query<Do>,
    form: Posted,
) -> Response {
    let r: Page = async {
        let u = load(&ctx, &id).await?;
        let admin = ctx
            .permit_sensitive(Operation::AddUser, Target::Organization, &form)
            .await?;
        if q.what == "withdraw" {
            ctx.dir()
                .withdraw_invitation(&admin, u.id, &ctx.client)
                .await?;
            Ok(done(
                &format!("/console/users/{}", u.id),
                "Invitation withdrawn.",
            ))
        } else {
            ctx.dir()
                .resend_invitation(&admin, u.id, &format!("user {}", ctx.me.id), &ctx.client)
                .await?;
            Ok(done(
                &format!("/console/users/{}", u.id),
                "Invitation sent again with a new link.",
            ))
        }
    }
    .await;
    or_error(&ctx, r)
}

// ------------------------------------------------------------------ roles

async fn roles(ctx: Ctx, Path(id): Path<String>) -> Response {
    let r: Page = async {
        let u = load(&ctx, &id).await?;
        ctx.permit(Operation::ViewRoles, Target::Organization)?;
        let dir = ctx.dir();
        let held = dir.user_roles(&ctx.org, u.id).await?;
        let groups = dir.user_groups(&ctx.org, u.id).await?;
        let all = dir.list_roles(&ctx.org, None, None).await?;
        let assignable: Vec<_> = all
            .iter()
            .filter(|r| ctx.can(Operation::AssignRole, Target::Application(&r.application)))
            .collect();
        let group_name = |g: &rolecall_core::model::GroupId| groups.iter().find(|x| x.id == *g).map(|x| x.name.as_str().to_string());
        let body = html! {
            @if held.is_empty() { (view::empty("No roles yet.")) } @else {
                div.table-wrap { table.list {
                    thead { tr { th scope="col" { "Application" } th scope="col" { "Role" } th scope="col" { "Held" } th scope="col" { span.sr-only { "Actions" } } } }
                    tbody { @for h in &held {
                        tr {
                            td { (h.application) }
                            td { a href={ "/console/roles/" (h.role_id) } { (h.role_name) } }
                            td { (via(&h.via, match &h.via { rolecall_core::model::Via::Group { group_id } => group_name(group_id), _ => None }.as_deref())) }
                            td { @if matches!(h.via, rolecall_core::model::Via::Direct) && ctx.can(Operation::AssignRole, Target::Application(&h.application)) {
                                (view::action_button(&ctx.csrf, &format!("/console/users/{}/roles/{}/remove", u.id, h.role_id), "Remove", true, Some("Remove this role from the user?")))
                            } }
                        }
                    } }
                } }
            }
            @if !assignable.is_empty() {
                h2 { "Assign a role" }
                form method="post" action={ "/console/users/" (u.id) "/roles" } {
                    (csrf(&ctx.csrf))
                    div.field { label for="f-role" { "Role" }
                        select #f-role name="role_id" required { @for r in &assignable { option value=(r.id) { (r.application) " · " (r.name.as_str()) } } }
                    }
                    div.actions { button.primary type="submit" { "Assign" } }
                }
            }
        };
        Ok(tab_page(&ctx, &u, "roles", body))
    }
    .await;
    or_error(&ctx, r)
}

async fn role_of(ctx: &Ctx, raw: &str) -> Result<rolecall_core::model::Role, ConsoleError> {
    let id: RoleId = raw
        .parse()
        .map_err(|_| rolecall_core::Error::invalid("role_id", "uuid", "choose a role"))?;
    Ok(ctx.dir().get_role(&ctx.org, id).await?)
}

async fn assign(ctx: Ctx, Path(id): Path<String>, form: Posted) -> Response {
    let r: Page = async {
        let u = load(&ctx, &id).await?;
        let role = role_of(&ctx, form.get("role_id")).await?;
        let admin = ctx
            .permit_sensitive(
                Operation::AssignRole,
                Target::Application(&role.application),
                &form,
            )
            .await?;
        ctx.dir().assign_role(&admin, u.id, role.id).await?;
        Ok(done(
            &format!("/console/users/{}/roles", u.id),
            &format!("{} assigned.", role.name.as_str()),
        ))
    }
    .await;
    or_error(&ctx, r)
}

async fn unassign(ctx: Ctx, Path((id, role)): Path<(String, String)>, form: Posted) -> Response {
    let r: Page = async {
        let u = load(&ctx, &id).await?;
        let role = role_of(&ctx, &role).await?;
        let admin = ctx
            .permit_sensitive(
                Operation::AssignRole,
                Target::Application(&role.application),
                &form,
            )
            .await?;
        ctx.dir().unassign_role(&admin, u.id, role.id).await?;
        Ok(done(
            &format!("/console/users/{}/roles", u.id),
            &format!("{} removed.", role.name.as_str()),
        ))
    }
    .await;
    or_error(&ctx, r)
}

// ------------------------------------------------------------------ other tabs

async fn groups(ctx: Ctx, Path(id): Path<String>) -> Response {
    let r: Page = async {
        let u = load(&ctx, &id).await?;
        ctx.permit(Operation::ViewGroups, Target::Organization)?;
        let groups = ctx.dir().user_groups(&ctx.org, u.id).await?;
        let body = html! {
            @if groups.is_empty() { (view::empty("Not a member of any group.")) } @else {
                ul { @for g in &groups { li { a href={ "/console/groups/" (g.id) } { (g.name.as_str()) } } } }
            }
            p.muted { "Add or remove members on the group's page." }
        };
        Ok(tab_page(&ctx, &u, "groups", body))
    }
    .await;
    or_error(&ctx, r)
}

async fn profiles(ctx: Ctx, Path(id): Path<String>) -> Response {
    let r: Page = async {
        let u = load(&ctx, &id).await?;
        ctx.permit(Operation::ViewProducts, Target::Organization)?;
        let products = ctx.dir().user_products(&ctx.org, u.id).await?;
        let body = html! {
            @if products.items.is_empty() { (view::empty("No product profile seats.")) } @else {
                div.table-wrap { table.list {
                    thead { tr { th scope="col" { "Product" } th scope="col" { "Profile" } th scope="col" { "Seat" } } }
                    tbody { @for p in &products.items { tr {
                        td { (p.application) }
                        td { a href={ "/console/profiles/" (p.profile_id) } { (p.profile_name) } }
                        td { (via(&p.via, p.group_name.as_deref())) }
                    } } }
                } }
            }
        };
        Ok(tab_page(&ctx, &u, "profiles", body))
    }
    .await;
    or_error(&ctx, r)
}

async fn admin_rights(ctx: Ctx, Path(id): Path<String>) -> Response {
    let r: Page = async {
        let u = load(&ctx, &id).await?;
        ctx.permit(Operation::ViewAdmins, Target::Organization)?;
        let rights = ctx.dir().admin_rights(ctx.org.id, u.id).await?;
        let body = super::super::admins::rights_table(&ctx, &u, &rights).await?;
        Ok(tab_page(&ctx, &u, "admin", body))
    }
    .await;
    or_error(&ctx, r)
}

async fn sessions(ctx: Ctx, Path(id): Path<String>) -> Response {
    let r: Page = async {
        let u = load(&ctx, &id).await?;
        let admin = ctx.permit(Operation::ManageSignIn, Target::Organization)?;
        let list = ctx.dir().sessions_of(&admin.org, u.id).await?;
        let body = html! {
            @if list.is_empty() { (view::empty("No live sessions.")) } @else {
                div.table-wrap { table.list {
                    thead { tr { th scope="col" { "Signed in" } th scope="col" { "Last seen" } th scope="col" { "From" } th scope="col" { "Browser" } } }
                    tbody { @for s in &list { tr { td { (date(Some(s.created_at))) } td { (date(Some(s.last_seen_at))) } td { (s.source_ip) } td.ua { (s.user_agent) } } } }
                } }
                div.actions { (view::action_button(&ctx.csrf, &format!("/console/users/{}/sessions/end", u.id), "End all sessions", true, Some("Sign this user out everywhere?"))) }
            }
        };
        Ok(tab_page(&ctx, &u, "sessions", body))
    }
    .await;
    or_error(&ctx, r)
}

async fn end_sessions(ctx: Ctx, Path(id): Path<String>, _form: Posted) -> Response {
    let r: Page = async {
        let u = load(&ctx, &id).await?;
        let admin = ctx.permit(Operation::ManageSignIn, Target::Organization)?;
        ctx.dir()
            .end_sessions(&admin, u.id, None, &ctx.client)
            .await?;
        Ok(done(
            &format!("/console/users/{}/sessions", u.id),
            "Every session of the user has ended.",
        ))
    }
    .await;
    or_error(&ctx, r)
}

async fn credentials(ctx: Ctx, Path(id): Path<String>) -> Response {
    let r: Page = async {
        let u = load(&ctx, &id).await?;
        let admin = ctx.permit(Operation::ManageCredentials, Target::Organization)?;
        let mine: Vec<_> = ctx
            .dir()
            .credentials(&admin.org)
            .await?
            .into_iter()
            .filter(|c| c.created_by_user.as_deref() == Some(&u.id.to_string()) || c.service_user_id == u.id)
            .collect();
        let body = html! {
            p.muted { "API credentials this user created. Deactivating or deleting the user asks whether to revoke or keep them." }
            (super::super::org::credential_table(&ctx, &mine))
        };
        Ok(tab_page(&ctx, &u, "credentials", body))
    }
    .await;
    or_error(&ctx, r)
}

async fn activity(ctx: Ctx, Path(id): Path<String>) -> Response {
    let r: Page = async {
        let u = load(&ctx, &id).await?;
        ctx.permit(Operation::ViewAuthEvents, Target::Organization)?;
        let about = super::super::audit::entries_of(&ctx, &u.id.to_string(), false, 50).await?;
        let by = super::super::audit::entries_of(&ctx, &u.id.to_string(), true, 50).await?;
        let body = html! {
            h2 { "Changes to this user" }
            (super::super::audit::entries_table(&about))
            h2 { "Done by this user" }
            (super::super::audit::entries_table(&by))
            p.muted { a href={ "/console/audit?target=" (u.id) } { "All entries about this user in the audit log" } }
        };
        Ok(tab_page(&ctx, &u, "activity", body))
    }
    .await;
    or_error(&ctx, r)
}
