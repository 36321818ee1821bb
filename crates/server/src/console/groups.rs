//! User groups (Spryker's and the Admin Console's): the list, creating one, and the group page
//! with its members, roles and product profiles — a role or profile on a group reaches every
//! member.

use super::admins::user_by_login;
use super::form::Posted;
use super::view::{self, csrf, Errors, Field, Section};
use super::{done, or_error, ConsoleError, Ctx, Page};
use crate::directory::UserFilter;
use crate::http::AppState;
use axum::extract::{Path, Query};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::{get, post};
use axum::Router;
use maud::html;
use rolecall_core::admin::{Operation, Target};
use rolecall_core::model::{Group, GroupId, RoleId};
use serde::Deserialize;

pub(super) fn router() -> Router<AppState> {
    Router::new()
        .route("/console/groups", get(list).post(create))
        .route("/console/groups/{id}", get(show).post(edit))
        .route("/console/groups/{id}/delete", post(delete))
        .route("/console/groups/{id}/members", post(add_member))
        .route(
            "/console/groups/{id}/members/{user}/remove",
            post(remove_member),
        )
        .route("/console/groups/{id}/roles", post(add_role))
        .route(
            "/console/groups/{id}/roles/{role}/remove",
            post(remove_role),
        )
        .route("/console/groups/{id}/profiles", post(add_profile))
        .route(
            "/console/groups/{id}/profiles/{profile}/remove",
            post(remove_profile),
        )
}

#[derive(Debug, Default, Deserialize)]
struct ListQuery {
    #[serde(default)]
    q: String,
    page: Option<i64>,
}

async fn list(ctx: Ctx, Query(q): Query<ListQuery>) -> Response {
    let r: Page = async {
        let admin = ctx.permit(Operation::ViewGroups, Target::Organization)?;
        let page = q.page.unwrap_or(1).clamp(1, 1_000_000);
        let text: String = q.q.trim().chars().take(200).collect();
        let (groups, total) = ctx.dir().list_groups(&admin.org, Some(text.as_str()).filter(|t| !t.is_empty()), page, 50).await?;
        let body = html! {
            form.toolbar method="get" action="/console/groups" role="search" {
                div.field.grow { label for="f-q" { "Search" } input #f-q type="search" name="q" value=(text); }
                div.field { button type="submit" { "Search" } }
            }
            @if groups.is_empty() { (view::empty("No groups.")) } @else {
                div.table-wrap { table.list {
                    thead { tr { th scope="col" { "Group" } th scope="col" { "Description" } } }
                    tbody { @for g in &groups { tr { td { a href={ "/console/groups/" (g.id) } { (g.name.as_str()) } } td { (g.description.as_str()) } } } }
                } }
                (view::pager("/console/groups", &[("q", text.clone())], page, 50, total))
            }
            @if ctx.can(Operation::CreateGroup, Target::Organization) {
                h2 { "New group" }
                form method="post" action="/console/groups" {
                    (csrf(&ctx.csrf))
                    (Field::text("name", "Name", "").required().render(&Errors::default()))
                    (Field::text("description", "Description", "").render(&Errors::default()))
                    div.actions { button.primary type="submit" { "Create group" } }
                }
            }
        };
        Ok(view::page(&ctx, "User groups", Section::Groups, body))
    }
    .await;
    or_error(&ctx, r)
}

async fn create(ctx: Ctx, form: Posted) -> Response {
    let r: Page = async {
        let admin = ctx.permit(Operation::CreateGroup, Target::Organization)?;
        let g = ctx
            .dir()
            .create_group(&admin, form.get("name").trim(), form.opt("description"))
            .await?;
        Ok(done(&format!("/console/groups/{}", g.id), "Group created."))
    }
    .await;
    or_error(&ctx, r)
}

async fn load(ctx: &Ctx, id: &str) -> Result<Group, ConsoleError> {
    ctx.permit(Operation::ViewGroups, Target::Organization)?;
    let gid: GroupId = id
        .parse()
        .map_err(|_| rolecall_core::Error::not_found("group", id))?;
    Ok(ctx.dir().get_group(&ctx.org, gid).await?)
}

#[derive(Debug, Default, Deserialize)]
struct PageQuery {
    page: Option<i64>,
}

async fn show(ctx: Ctx, Path(id): Path<String>, Query(q): Query<PageQuery>) -> Response {
    let r: Page = async {
        let g = load(&ctx, &id).await?;
        let gid = g.id.to_string();
        let dir = ctx.dir();
        let page = q.page.unwrap_or(1).clamp(1, 1_000_000);
        let filter = UserFilter { group: Some(g.id), ..Default::default() };
        let (members, total) = dir.users_page(&ctx.org, filter, page, 50).await?;
        let roles = dir.group_roles(&ctx.org, g.id).await?;
        let all_roles = dir.list_roles(&ctx.org, None, None).await?;
        let profiles = dir.list_profiles(&ctx.org, None).await?;
        let mut held_profiles = Vec::new();
        for p in &profiles {
            if dir.profile_groups(&ctx.org, p.profile.id).await?.iter().any(|x| x.id == g.id) {
                held_profiles.push(p);
            }
        }
        let may_edit = ctx.can(Operation::EditGroup, Target::Group(&gid));
        let may_members = ctx.can(Operation::ManageGroupMembers, Target::Group(&gid));
        let assignable: Vec<_> = all_roles.iter().filter(|r| ctx.can(Operation::AssignRole, Target::Application(&r.application)) && !roles.iter().any(|x| x.id == r.id)).collect();
        let profile_target = |p: &crate::directory::ProfileView| ctx.can(Operation::AssignProfile, Target::Profile { id: &p.profile.id.to_string(), application: &p.profile.application });
        let addable: Vec<_> = profiles.iter().filter(|p| profile_target(p) && !held_profiles.iter().any(|h| h.profile.id == p.profile.id)).collect();
        let body = html! {
            p.muted { a href="/console/groups" { "User groups" } " › " (g.name.as_str()) }
            @if !g.description.as_str().is_empty() { p { (g.description.as_str()) } }
            h2 { "Members (" (total) ")" }
            @if members.is_empty() { (view::empty("No members yet.")) } @else {
                div.table-wrap { table.list {
                    thead { tr { th scope="col" { "User" } th scope="col" { "E-mail" } th scope="col" { "Status" } th scope="col" { span.sr-only { "Actions" } } } }
                    tbody { @for u in &members { tr {
                        td { a href={ "/console/users/" (u.id) } { (view::display_name(u)) } }
                        td { (u.email.as_str()) } td { (view::status_badge(u.status)) }
                        td { @if may_members { (view::action_button(&ctx.csrf, &format!("/console/groups/{gid}/members/{}/remove", u.id), "Remove", true, Some("Remove this member?"))) } }
                    } } }
                } }
                (view::pager(&format!("/console/groups/{gid}"), &[], page, 50, total))
            }
            @if may_members {
                form.toolbar method="post" action={ "/console/groups/" (gid) "/members" } {
                    (csrf(&ctx.csrf))
                    div.field.grow { label for="f-login" { "Add member (e-mail or username)" } input #f-login name="login" required autocomplete="off"; }
                    div.field { button.primary type="submit" { "Add member" } }
                }
            }
            h2 { "Roles" }
            p.muted { "Every member holds these roles." }
            @if roles.is_empty() { (view::empty("No roles.")) } @else {
                ul { @for r in &roles { li {
                    a href={ "/console/roles/" (r.id) } { (r.application) " · " (r.name.as_str()) } " "
                    @if ctx.can(Operation::AssignRole, Target::Application(&r.application)) {
                        (view::action_button(&ctx.csrf, &format!("/console/groups/{gid}/roles/{}/remove", r.id), "Remove", true, Some("Remove this role from the group?")))
                    }
                } } }
            }
            @if !assignable.is_empty() {
                form.toolbar method="post" action={ "/console/groups/" (gid) "/roles" } {
                    (csrf(&ctx.csrf))
                    div.field.grow { label for="f-role" { "Assign a role" }
                        select #f-role name="role_id" { @for r in &assignable { option value=(r.id) { (r.application) " · " (r.name.as_str()) } } }
                    }
                    div.field { button.primary type="submit" { "Assign role" } }
                }
            }
            h2 { "Product profiles" }
            @if held_profiles.is_empty() { (view::empty("No product profiles.")) } @else {
                ul { @for p in &held_profiles { li {
                    a href={ "/console/profiles/" (p.profile.id) } { (p.profile.application) " · " (p.profile.name.as_str()) } " "
                    @if profile_target(p) { (view::action_button(&ctx.csrf, &format!("/console/groups/{gid}/profiles/{}/remove", p.profile.id), "Remove", true, Some("Remove the group from this profile? Its members lose the seat."))) }
                } } }
            }
            @if !addable.is_empty() {
                form.toolbar method="post" action={ "/console/groups/" (gid) "/profiles" } {
                    (csrf(&ctx.csrf))
                    div.field.grow { label for="f-profile" { "Add to a product profile" }
                        select #f-profile name="profile_id" { @for p in &addable { option value=(p.profile.id) { (p.profile.application) " · " (p.profile.name.as_str()) } } }
                    }
                    div.field { button.primary type="submit" { "Add to profile" } }
                }
            }
            @if may_edit {
                h2 { "Group details" }
                form method="post" action={ "/console/groups/" (gid) } {
                    (csrf(&ctx.csrf)) input type="hidden" name="version" value=(g.version);
                    (Field::text("name", "Name", g.name.as_str()).required().render(&Errors::default()))
                    (Field::text("description", "Description", g.description.as_str()).render(&Errors::default()))
                    div.actions { button type="submit" { "Save group" } }
                }
            }
            @if ctx.can(Operation::RemoveGroup, Target::Organization) {
                h2 { "Delete group" }
                p.muted { "Members keep their accounts and direct roles; they lose what the group carried." }
                (view::action_button(&ctx.csrf, &format!("/console/groups/{gid}/delete"), "Delete group", true, Some("Delete this group?")))
            }
        };
        Ok(view::page(&ctx, g.name.as_str(), Section::Groups, body))
    }
    .await;
    or_error(&ctx, r)
}

async fn edit(ctx: Ctx, Path(id): Path<String>, form: Posted) -> Response {
    let r: Page = async {
        let g = load(&ctx, &id).await?;
        let admin = ctx.permit(Operation::EditGroup, Target::Group(&id))?;
        ctx.dir()
            .update_group(
                &admin,
                g.id,
                Some(form.get("name").trim()),
                Some(form.get("description").trim()),
                form.get("version").parse().ok(),
            )
            .await?;
        Ok(done(&format!("/console/groups/{id}"), "Group saved."))
    }
    .await;
    or_error(&ctx, r)
}

async fn delete(ctx: Ctx, Path(id): Path<String>, _form: Posted) -> Response {
    let r: Page = async {
        let g = load(&ctx, &id).await?;
        let admin = ctx.permit(Operation::RemoveGroup, Target::Organization)?;
        ctx.dir().delete_group(&admin, g.id, None).await?;
        Ok(done("/console/groups", "Group deleted."))
    }
    .await;
    or_error(&ctx, r)
}

async fn add_member(ctx: Ctx, Path(id): Path<String>, form: Posted) -> Response {
    let r: Page = async {
        let g = load(&ctx, &id).await?;
        let admin = ctx
            .permit_sensitive(Operation::ManageGroupMembers, Target::Group(&id), &form)
            .await?;
        let user = user_by_login(&ctx, form.get("login"), "login").await?;
        ctx.dir().add_member(&admin, g.id, user.id).await?;
        Ok(done(
            &format!("/console/groups/{id}"),
            &format!("{} added.", user.username.as_str()),
        ))
    }
    .await;
    or_error(&ctx, r)
}

async fn remove_member(
    ctx: Ctx,
    Path((id, user)): Path<(String, String)>,
    form: Posted,
) -> Response {
    let r: Page = async {
        let g = load(&ctx, &id).await?;
        let admin = ctx
            .permit_sensitive(Operation::ManageGroupMembers, Target::Group(&id), &form)
            .await?;
        let uid = user
            .parse()
            .map_err(|_| rolecall_core::Error::not_found("member", &user))?;
        ctx.dir().remove_member(&admin, g.id, uid).await?;
        Ok(done(&format!("/console/groups/{id}"), "Member removed."))
    }
    .await;
    or_error(&ctx, r)
}

async fn role_of(ctx: &Ctx, raw: &str) -> Result<rolecall_core::model::Role, ConsoleError> {
    let rid: RoleId = raw.parse().map_err(|_| {
        ConsoleError::Status(StatusCode::UNPROCESSABLE_ENTITY, "Choose a role.".into())
    })?;
    Ok(ctx.dir().get_role(&ctx.org, rid).await?)
}

async fn add_role(ctx: Ctx, Path(id): Path<String>, form: Posted) -> Response {
    let r: Page = async {
        let g = load(&ctx, &id).await?;
        let role = role_of(&ctx, form.get("role_id")).await?;
        let admin = ctx
            .permit_sensitive(
                Operation::AssignRole,
                Target::Application(&role.application),
                &form,
            )
            .await?;
        ctx.dir().add_group_role(&admin, g.id, role.id).await?;
        Ok(done(
            &format!("/console/groups/{id}"),
            &format!("{} assigned to the group.", role.name.as_str()),
        ))
    }
    .await;
    or_error(&ctx, r)
}

async fn remove_role(ctx: Ctx, Path((id, role)): Path<(String, String)>, form: Posted) -> Response {
    let r: Page = async {
        let g = load(&ctx, &id).await?;
        let role = role_of(&ctx, &role).await?;
        let admin = ctx
            .permit_sensitive(
                Operation::AssignRole,
                Target::Application(&role.application),
                &form,
            )
            .await?;
        ctx.dir().remove_group_role(&admin, g.id, role.id).await?;
        Ok(done(
            &format!("/console/groups/{id}"),
            "Role removed from the group.",
        ))
    }
    .await;
    or_error(&ctx, r)
}

async fn profile_of(ctx: &Ctx, raw: &str) -> Result<crate::directory::ProfileView, ConsoleError> {
    let pid = raw.parse().map_err(|_| {
        ConsoleError::Status(StatusCode::UNPROCESSABLE_ENTITY, "Choose a profile.".into())
    })?;
    Ok(ctx.dir().get_profile(&ctx.org, pid).await?)
}

async fn add_profile(ctx: Ctx, Path(id): Path<String>, form: Posted) -> Response {
    let r: Page = async {
        let g = load(&ctx, &id).await?;
        let p = profile_of(&ctx, form.get("profile_id")).await?;
        let pid = p.profile.id.to_string();
        let admin = ctx
            .permit_sensitive(
                Operation::AssignProfile,
                Target::Profile {
                    id: &pid,
                    application: &p.profile.application,
                },
                &form,
            )
            .await?;
        ctx.dir()
            .add_profile_group(&admin, p.profile.id, g.id)
            .await?;
        Ok(done(
            &format!("/console/groups/{id}"),
            "Group added to the profile.",
        ))
    }
    .await;
    or_error(&ctx, r)
}

async fn remove_profile(
    ctx: Ctx,
    Path((id, profile)): Path<(String, String)>,
    form: Posted,
) -> Response {
    let r: Page = async {
        let g = load(&ctx, &id).await?;
        let p = profile_of(&ctx, &profile).await?;
        let admin = ctx
            .permit_sensitive(
                Operation::AssignProfile,
                Target::Profile {
                    id: &profile,
                    application: &p.profile.application,
                },
                &form,
            )
            .await?;
        ctx.dir()
            .remove_profile_group(&admin, p.profile.id, g.id)
            .await?;
        Ok(done(
            &format!("/console/groups/{id}"),
            "Group removed from the profile.",
        ))
    }
    .await;
    or_error(&ctx, r)
}
