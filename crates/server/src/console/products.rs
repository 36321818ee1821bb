//! Products and their profiles (seed 004's Products tab): seats used and free per profile, the
//! profile page with its users, groups, role bundle, quota and admins. A product-profile admin
//! sees only the profiles the permission matrix lets them see.

use super::admins::user_by_login;
use super::form::Posted;
use super::view::{self, csrf, Errors, Field, Section};
use super::{done, or_error, ConsoleError, Ctx, Page};
use crate::directory::{NewProfile, ProfilePatch, ProfileView};
use crate::http::AppState;
use axum::extract::Path;
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::{get, post};
use axum::Router;
use maud::{html, Markup};
use rolecall_core::admin::{AdminRight, Operation, Target};

pub(super) fn router() -> Router<AppState> {
    Router::new()
        .route("/console/products", get(list))
        .route("/console/products/{app}", get(product).post(create_profile))
        .route("/console/profiles/{id}", get(profile).post(edit_profile))
        .route("/console/profiles/{id}/delete", post(delete_profile))
        .route("/console/profiles/{id}/users", post(add_user))
        .route(
            "/console/profiles/{id}/users/{user}/remove",
            post(remove_user),
        )
}

/// May the signed-in admin see this profile? The matrix, asked for the profile itself.
fn visible(ctx: &Ctx, p: &ProfileView) -> bool {
    ctx.can(
        Operation::ViewProducts,
        Target::Profile {
            id: &p.profile.id.to_string(),
            application: &p.profile.application,
        },
    )
}

fn target(p: &ProfileView) -> (String, String) {
    (p.profile.id.to_string(), p.profile.application.clone())
}

fn seats(p: &ProfileView) -> Markup {
    let used = p.seats_used;
    html! {
        @match p.profile.seat_quota {
            Some(q) => {
                @let pct = if q > 0 { (used * 10 / q).clamp(0, 10) * 10 } else { 100 };
                div.meter role="img" aria-label={ (used) " of " (q) " seats used" } { span class={ "w" (pct) } {} }
                span { (used) " of " (q) " seats used · " (p.seats_free.unwrap_or(0)) " free" }
            }
            None => { span { (used) " seats used · unlimited" } }
        }
    }
}

async fn list(ctx: Ctx) -> Response {
    let r: Page = async {
        let admin = ctx.permit(Operation::ViewProducts, Target::Organization)?;
        let dir = ctx.dir();
        let products = dir.products(&admin.org).await?;
        let profiles = dir.list_profiles(&admin.org, None).await?;
        let body = html! {
            div.cards {
                @for p in &products {
                    @let mine: Vec<_> = profiles.iter().filter(|x| x.profile.application == p.application && visible(&ctx, x)).collect();
                    @let whole = ctx.can(Operation::ViewProducts, Target::Application(&p.application)) && !ctx.rights.iter().all(|r| matches!(r, AdminRight::ProductProfile { .. }));
                    @if whole || !mine.is_empty() {
                        section.card-item {
                            h3 { a href={ "/console/products/" (p.application) } { (p.name) } }
                            @if whole {
                                p.muted { @if p.gated { "Licensed through profiles" } @else { "No profiles yet: roles alone decide" } }
                                p { (p.profiles) " profile(s) · " (p.licensed_users) " licensed user(s)" }
                            }
                            ul { @for x in &mine { li { a href={ "/console/profiles/" (x.profile.id) } { (x.profile.name.as_str()) } " — " (seats(x)) } } }
                        }
                    }
                }
            }
        };
        Ok(view::page(&ctx, "Products", Section::Products, body))
    }
    .await;
    or_error(&ctx, r)
}

fn profile_form(
    ctx: &Ctx,
    app: &str,
    roles: &[rolecall_core::model::Role],
    current: Option<&ProfileView>,
    errors: &Errors,
) -> Markup {
    let action = match current {
        Some(p) => format!("/console/profiles/{}", p.profile.id),
        None => format!("/console/products/{app}"),
    };
    let quota = current
        .and_then(|p| p.profile.seat_quota)
        .map(|q| q.to_string())
        .unwrap_or_default();
    html! {
        (view::error_summary(errors, &["name", "description", "seat_quota", "roles"]))
        form method="post" action=(action) {
            (csrf(&ctx.csrf))
            @if let Some(p) = current { input type="hidden" name="version" value=(p.profile.version); }
            (Field::text("name", "Name", current.map_or("", |p| p.profile.name.as_str())).required().render(errors))
            (Field::text("description", "Description", current.map_or("", |p| p.profile.description.as_str())).render(errors))
            (Field::text("seat_quota", "Seats", &quota).kind("number").hint("Empty for unlimited.").render(errors))
            fieldset {
                legend { "Roles every seat holder gets" }
                @for r in roles.iter().filter(|r| !r.builtin) {
                    div.check {
                        input id={ "pr-" (r.id) } type="checkbox" name="roles" value=(r.id) checked[current.is_some_and(|p| p.profile.roles.contains(&r.id))];
                        label for={ "pr-" (r.id) } { (r.name.as_str()) }
                    }
                }
            }
            div.actions { button.primary type="submit" { @if current.is_some() { "Save profile" } @else { "Create profile" } } }
        }
    }
}

async fn product(ctx: Ctx, Path(app): Path<String>) -> Response {
    let r: Page = async {
        let admin = ctx.permit(Operation::ViewProducts, Target::Organization)?;
        let dir = ctx.dir();
        let tree = dir.catalogue().require("application", &app)?.clone();
        let profiles: Vec<_> = dir.list_profiles(&admin.org, Some(&app)).await?.into_iter().filter(|p| visible(&ctx, p)).collect();
        let may_create = ctx.can(Operation::CreateProfile, Target::Application(&app));
        let roles = if may_create { dir.list_roles(&admin.org, Some(&app), None).await? } else { vec![] };
        let body = html! {
            p.muted { a href="/console/products" { "Products" } " › " (tree.def.name) }
            @if profiles.is_empty() { (view::empty("No product profiles you can see.")) } @else {
                div.table-wrap { table.list {
                    thead { tr { th scope="col" { "Profile" } th scope="col" { "Seats" } th scope="col" { "Description" } } }
                    tbody { @for p in &profiles { tr {
                        td { a href={ "/console/profiles/" (p.profile.id) } { (p.profile.name.as_str()) } }
                        td { (seats(p)) }
                        td { (p.profile.description.as_str()) }
                    } } }
                } }
            }
            @if may_create {
                h2 { "New product profile" }
                (profile_form(&ctx, &app, &roles, None, &Errors::default()))
            }
        };
        Ok(view::page(&ctx, &tree.def.name, Section::Products, body))
    }
    .await;
    or_error(&ctx, r)
}

fn quota_from(form: &Posted) -> Result<Option<i64>, ConsoleError> {
    match form.opt("seat_quota") {
        None => Ok(None),
        Some(q) => q.parse::<i64>().map(Some).map_err(|_| {
            rolecall_core::Error::invalid(
                "seat_quota",
                "integer",
                "a whole number of seats, or empty for unlimited",
            )
            .into()
        }),
    }
}

async fn create_profile(ctx: Ctx, Path(app): Path<String>, form: Posted) -> Response {
    let r: Page = async {
        let admin = ctx.permit(Operation::CreateProfile, Target::Application(&app))?;
        let input = NewProfile {
            application: app.clone(),
            name: form.get("name").trim().to_string(),
            description: form.opt("description").map(str::to_string),
            seat_quota: quota_from(&form)?,
            roles: form.all("roles").into_iter().map(str::to_string).collect(),
        };
        let p = ctx.dir().create_profile(&admin, input).await?;
        Ok(done(
            &format!("/console/profiles/{}", p.profile.id),
            "Profile created.",
        ))
    }
    .await;
    or_error(&ctx, r)
}

async fn load(ctx: &Ctx, id: &str) -> Result<ProfileView, ConsoleError> {
    ctx.permit(Operation::ViewProducts, Target::Organization)?;
    let pid = id
        .parse()
        .map_err(|_| rolecall_core::Error::not_found("profile", id))?;
    let p = ctx.dir().get_profile(&ctx.org, pid).await?;
    if !visible(ctx, &p) {
        // Someone else's profile is as absent as a missing one.
        return Err(rolecall_core::Error::not_found("profile", id).into());
    }
    Ok(p)
}

async fn profile(ctx: Ctx, Path(id): Path<String>) -> Response {
    let r: Page = async {
        let p = load(&ctx, &id).await?;
        let (pid, app) = target(&p);
        let t = Target::Profile { id: &pid, application: &app };
        let dir = ctx.dir();
        let users = dir.profile_users(&ctx.org, p.profile.id).await?;
        let groups = dir.profile_groups(&ctx.org, p.profile.id).await?;
        let roles = dir.list_roles(&ctx.org, Some(&app), None).await?;
        let admins: Vec<_> = if ctx.can(Operation::ViewAdmins, Target::Organization) {
            dir.admins(&ctx.org).await?.into_iter().filter(|a| a.rights.contains(&AdminRight::ProductProfile { profile_id: pid.clone() })).collect()
        } else {
            vec![]
        };
        let may_assign = ctx.can(Operation::AssignProfile, t.clone());
        let may_edit = ctx.can(Operation::EditProfile, t.clone());
        let body = html! {
            p.muted { a href="/console/products" { "Products" } " › " a href={ "/console/products/" (app) } { (app) } " › " (p.profile.name.as_str()) }
            p { (seats(&p)) }
            h2 { "Users with a seat" }
            @if users.is_empty() { (view::empty("No users hold a seat directly.")) } @else {
                div.table-wrap { table.list {
                    thead { tr { th scope="col" { "User" } th scope="col" { "E-mail" } th scope="col" { span.sr-only { "Actions" } } } }
                    tbody { @for u in &users { tr {
                        td { a href={ "/console/users/" (u.id) "/profiles" } { (view::display_name(u)) } }
                        td { (u.email.as_str()) }
                        td { @if may_assign { (view::action_button(&ctx.csrf, &format!("/console/profiles/{pid}/users/{}/remove", u.id), "Remove", true, Some("Take this user's seat away?"))) } }
                    } } }
                } }
            }
            @if may_assign {
                form.toolbar method="post" action={ "/console/profiles/" (pid) "/users" } {
                    (csrf(&ctx.csrf))
                    div.field.grow { label for="f-login" { "Give a seat (e-mail or username)" } input #f-login name="login" required autocomplete="off"; }
                    div.field { button.primary type="submit" { "Add user" } }
                }
            }
            h2 { "Groups" }
            @if groups.is_empty() { (view::empty("No groups.")) } @else {
                ul { @for g in &groups { li { a href={ "/console/groups/" (g.id) } { (g.name.as_str()) } } } }
            }
            p.muted { "Add or remove groups on the group's page." }
            h2 { "Roles in this profile" }
            ul { @for r in roles.iter().filter(|r| p.profile.roles.contains(&r.id)) { li { a href={ "/console/roles/" (r.id) } { (r.name.as_str()) } } } }
            @if !admins.is_empty() {
                h2 { "Profile admins" }
                ul { @for a in &admins { li { a href={ "/console/users/" (a.user_id) "/admin-rights" } { (a.username) } } } }
            }
            @if may_edit {
                h2 { "Edit profile" }
                (profile_form(&ctx, &app, &roles, Some(&p), &Errors::default()))
            }
            @if ctx.can(Operation::DeleteProfile, t.clone()) {
                h2 { "Delete profile" }
                (view::action_button(&ctx.csrf, &format!("/console/profiles/{pid}/delete"), "Delete profile", true, Some("Delete this profile? Its seat holders lose the product.")))
            }
        };
        Ok(view::page(&ctx, p.profile.name.as_str(), Section::Products, body))
    }
    .await;
    or_error(&ctx, r)
}

async fn edit_profile(ctx: Ctx, Path(id): Path<String>, form: Posted) -> Response {
    let r: Page = async {
        let p = load(&ctx, &id).await?;
        let (pid, app) = target(&p);
        let admin = ctx.permit(
            Operation::EditProfile,
            Target::Profile {
                id: &pid,
                application: &app,
            },
        )?;
        let patch = ProfilePatch {
            name: Some(form.get("name").trim().to_string()),
            description: Some(form.get("description").trim().to_string()),
            seat_quota: Some(quota_from(&form)?),
            roles: Some(form.all("roles").into_iter().map(str::to_string).collect()),
        };
        match ctx
            .dir()
            .update_profile(
                &admin,
                p.profile.id,
                patch,
                form.get("version").parse().ok(),
            )
            .await
        {
            Ok(_) => Ok(done(&format!("/console/profiles/{pid}"), "Profile saved.")),
            Err(e) => match Errors::from_error(&e) {
                Some(errors) => {
                    let roles = ctx.dir().list_roles(&ctx.org, Some(&app), None).await?;
                    let mut res = view::page(
                        &ctx,
                        p.profile.name.as_str(),
                        Section::Products,
                        profile_form(&ctx, &app, &roles, Some(&p), &errors),
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

async fn delete_profile(ctx: Ctx, Path(id): Path<String>, _form: Posted) -> Response {
    let r: Page = async {
        let p = load(&ctx, &id).await?;
        let (pid, app) = target(&p);
        let admin = ctx.permit(
            Operation::DeleteProfile,
            Target::Profile {
                id: &pid,
                application: &app,
            },
        )?;
        ctx.dir().delete_profile(&admin, p.profile.id, None).await?;
        Ok(done(
            &format!("/console/products/{app}"),
            "Profile deleted.",
        ))
    }
    .await;
    or_error(&ctx, r)
}

async fn add_user(ctx: Ctx, Path(id): Path<String>, form: Posted) -> Response {
    let r: Page = async {
        let p = load(&ctx, &id).await?;
        let (pid, app) = target(&p);
        let admin = ctx
            .permit_sensitive(
                Operation::AssignProfile,
                Target::Profile {
                    id: &pid,
                    application: &app,
                },
                &form,
            )
            .await?;
        let user = user_by_login(&ctx, form.get("login"), "login").await?;
        ctx.dir()
            .add_profile_user(&admin, p.profile.id, user.id)
            .await?;
        Ok(done(
            &format!("/console/profiles/{pid}"),
            &format!("{} has a seat.", user.username.as_str()),
        ))
    }
    .await;
    or_error(&ctx, r)
}

async fn remove_user(ctx: Ctx, Path((id, user)): Path<(String, String)>, form: Posted) -> Response {
    let r: Page = async {
        let p = load(&ctx, &id).await?;
        let (pid, app) = target(&p);
        let admin = ctx
            .permit_sensitive(
                Operation::AssignProfile,
                Target::Profile {
                    id: &pid,
                    application: &app,
                },
                &form,
            )
            .await?;
        let uid = user
            .parse()
            .map_err(|_| rolecall_core::Error::not_found("user", &user))?;
        ctx.dir()
            .remove_profile_user(&admin, p.profile.id, uid)
            .await?;
        Ok(done(&format!("/console/profiles/{pid}"), "Seat removed."))
    }
    .await;
    or_error(&ctx, r)
}
