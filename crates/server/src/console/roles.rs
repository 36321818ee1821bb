//! Roles per application: the list, the editor with the resource tree as an expandable checkbox
//! tree (a checked node grants its whole subtree; a search box finds resources by title; actions
//! per resource where the application has them), scopes, and "Who has this role" (site search's
//! Role Membership) with removal. The built-in `Administrators` role is read-only.

use super::admins::user_by_login;
use super::form::Posted;
use super::view::{self, csrf, Errors, Field, Section};
use super::{done, or_error, ConsoleError, Ctx, Page};
use crate::directory::UserFilter;
use crate::directory::{NewRole, RolePatch};
use crate::http::AppState;
use axum::extract::{Path, Query};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::{get, post};
use axum::Router;
use maud::{html, Markup};
use rolecall_core::admin::{Operation, Target};
use rolecall_core::catalogue::AppTree;
use rolecall_core::model::{ActionSet, Grant, Role, RoleId, Scope, UserKind, Via};
use serde::Deserialize;
use std::collections::HashSet;

pub(super) fn router() -> Router<AppState> {
    Router::new()
        .route("/console/roles", get(list))
        .route("/console/roles/new", get(new_page).post(create))
        .route("/console/roles/{id}", get(edit_page).post(update))
        .route("/console/roles/{id}/delete", post(delete))
        .route("/console/roles/{id}/members", get(members).post(add_member))
        .route(
            "/console/roles/{id}/members/{user}/remove",
            post(remove_member),
        )
}

#[derive(Debug, Default, Deserialize)]
struct AppQuery {
    #[serde(default)]
    app: String,
    page: Option<i64>,
}

fn app_tabs(ctx: &Ctx, current: &str) -> Markup {
    let catalogue = ctx.dir().catalogue();
    let items: Vec<(&str, String, bool)> = catalogue
        .apps
        .iter()
        .map(|a| {
            (
                a.def.name.as_str(),
                format!("/console/roles?app={}", a.key()),
                a.key() == current,
            )
        })
        .collect();
    // The names live in the catalogue Arc; render while it is alive.
    view::tabs(&items)
}

async fn list(ctx: Ctx, Query(q): Query<AppQuery>) -> Response {
    let r: Page = async {
        let admin = ctx.permit(Operation::ViewRoles, Target::Organization)?;
        let catalogue = ctx.dir().catalogue();
        let app = if q.app.is_empty() { catalogue.apps.first().map(|a| a.key().to_string()).unwrap_or_default() } else { q.app.clone() };
        let tree = catalogue.require("app", &app)?.clone();
        let roles = ctx.dir().list_roles(&admin.org, Some(&app), None).await?;
        let may_manage = ctx.can(Operation::ManageRoles, Target::Application(&app));
        let body = html! {
            (app_tabs(&ctx, &app))
            p.muted { (tree.def.description) @if tree.def.one_role_per_user { " Each user holds one role of this application." } }
            @if may_manage { div.toolbar { a.button.primary href={ "/console/roles/new?app=" (app) } { "Add role" } } }
            div.table-wrap { table.list.stack {
                caption.sr-only { "Roles of " (tree.def.name) }
                thead { tr { th scope="col" { "Role" } th scope="col" { "Description" } th scope="col" { "Scopes" } th scope="col" { "Resources" } th scope="col" { span.sr-only { "Members" } } } }
                tbody { @for r in &roles { tr {
                    td { a href={ "/console/roles/" (r.id) } { (r.name.as_str()) } @if r.builtin { " " span.badge { "built in" } } }
                    td { (r.description.as_str()) }
                    td { @if r.scopes.is_empty() { span.muted { "everywhere" } } @else { @for s in &r.scopes { code { (s.as_str()) } " " } } }
                    td { @if r.builtin { "all" } @else { (r.grants.len()) " granted" } }
                    td { a href={ "/console/roles/" (r.id) "/members" } { "Who has it" } }
                } } }
            } }
        };
        Ok(view::page(&ctx, "Roles", Section::Roles, body))
    }
    .await;
    or_error(&ctx, r)
}

// ------------------------------------------------------------------ the tree

/// What a role grants, per node: the whole node (and subtree), and named actions.
struct Granted {
    all: Vec<bool>,
    actions: Vec<u64>,
}

fn granted(tree: &AppTree, grants: &[Grant]) -> Granted {
    let n = tree.resources.len();
    let mut all = vec![false; n];
    let mut actions = vec![0u64; n];
    for g in grants {
        let Some(i) = tree.resources.iter().position(|r| r.id == g.resource) else {
            continue;
        };
        let end = tree.resources[i].end as usize;
        for j in i..end {
            match &g.actions {
                ActionSet::All => all[j] = true,
                ActionSet::Only(list) => {
                    for a in list {
                        if let Some(k) = tree.def.actions.iter().position(|x| x == a) {
                            actions[j] |= 1 << (k + 1);
                        }
                    }
                }
            }
        }
    }
    Granted { all, actions }
}

fn render_nodes(tree: &AppTree, g: &Granted, start: usize, end: usize, editable: bool) -> Markup {
    // The children of a range are its nodes that start right after a sibling's subtree.
    let mut siblings = Vec::new();
    let mut i = start;
    while i < end {
        siblings.push(i);
        i = tree.resources[i].end as usize;
    }
    html! {
        ul {
            @for i in siblings {
                @let node = &tree.resources[i];
                @let next = node.end as usize;
                @let leaf = next == i + 1;
                li data-depth=(node.depth) data-title=(node.title) data-id=(node.id) {
                    div.node {
                        button.twisty.leaf[leaf] type="button" hidden aria-expanded="true" aria-label={ "Show or hide " (node.title) } {}
                        input id={ "n" (i) } type="checkbox" name="r" value=(node.id) data-node checked[g.all[i]] disabled[!editable];
                        label for={ "n" (i) } { (if node.title.is_empty() { &node.id } else { &node.title }) }
                        span.rid { (node.id) }
                        @if !tree.def.actions.is_empty() && node.action_mask > 1 {
                            span.acts {
                                @for (k, a) in tree.def.actions.iter().enumerate() {
                                    @if node.action_mask & (1 << (k + 1)) != 0 {
                                        span.check {
                                            input id={ "n" (i) "-" (a) } type="checkbox" name={ "a:" (node.id) } value=(a) data-action=(a)
                                                checked[g.all[i] || g.actions[i] & (1 << (k + 1)) != 0] disabled[!editable];
                                            label for={ "n" (i) "-" (a) } { (a) }
                                        }
                                    }
                                }
                            }
                        }
                    }
                    @if !leaf { (render_nodes(tree, g, i + 1, next, editable)) }
                }
            }
        }
    }
}

/// The smallest set of grants that says what the form checked: a checked node covers its
/// subtree, so checked descendants of a checked node add nothing; named actions likewise.
fn grants_from(tree: &AppTree, form: &Posted) -> Vec<Grant> {
    let checked: HashSet<&str> = form.all("r").into_iter().collect();
    let n = tree.resources.len();
    let mut covered_all = vec![false; n];
    let mut covered_actions = vec![0u64; n];
    let mut out = Vec::new();
    for i in 0..n {
        let node = &tree.resources[i];
        if let Some(p) = node.parent {
            covered_all[i] = covered_all[p as usize];
            covered_actions[i] = covered_actions[p as usize];
        }
        if covered_all[i] {
            continue;
        }
        if checked.contains(node.id.as_str()) {
            out.push(Grant {
                resource: node.id.clone(),
                actions: ActionSet::All,
            });
            covered_all[i] = true;
            continue;
        }
        let wanted: Vec<String> = form
            .all(&format!("a:{}", node.id))
            .into_iter()
            .filter_map(|a| {
                let k = tree.def.actions.iter().position(|x| x == a)?;
                let bit = 1u64 << (k + 1);
                (node.action_mask & bit != 0 && covered_actions[i] & bit == 0).then(|| {
                    covered_actions[i] |= bit;
                    a.to_string()
                })
            })
            .collect();
        if !wanted.is_empty() {
            out.push(Grant {
                resource: node.id.clone(),
                actions: ActionSet::Only(wanted),
            });
        }
    }
    out
}

fn scope_depth(scopes: &[Scope], s: &Scope) -> usize {
    let mut d = 0;
    let mut cur = s.parent.clone();
    while let Some(p) = cur {
        d += 1;
        cur = scopes
            .iter()
            .find(|x| x.code == p)
            .and_then(|x| x.parent.clone());
        if d > 16 {
            break;
        }
    }
    d
}

struct EditorInput<'a> {
    tree: &'a AppTree,
    scopes: &'a [Scope],
    role: Option<&'a Role>,
    form: Option<&'a Posted>,
    errors: &'a Errors,
    editable: bool,
}

fn editor(ctx: &Ctx, e: EditorInput) -> Markup {
    let EditorInput {
        tree,
        scopes,
        role,
        form,
        errors,
        editable,
    } = e;
    let v = |k: &str, cur: &str| {
        form.map(|f| f.get(k).to_string())
            .unwrap_or_else(|| cur.to_string())
    };
    let grants = match form {
        Some(f) => grants_from(tree, f),
        None => role.map(|r| r.grants.clone()).unwrap_or_default(),
    };
    let g = granted(tree, &grants);
    let chosen: Vec<String> = match form {
        Some(f) => f.all("scope").into_iter().map(str::to_string).collect(),
        None => role
            .map(|r| r.scopes.iter().map(|s| s.as_str().to_string()).collect())
            .unwrap_or_default(),
    };
    let action = match role {
        Some(r) => format!("/console/roles/{}", r.id),
        None => "/console/roles/new".to_string(),
    };
    html! {
        (view::error_summary(errors, &["name", "description", "scopes", "grants"]))
        form method="post" action=(action) novalidate {
            (csrf(&ctx.csrf))
            input type="hidden" name="app" value=(tree.key());
            @if let Some(r) = role { input type="hidden" name="version" value=(r.version); }
            fieldset disabled[!editable] {
                legend { "Role information" }
                (Field::text("name", "Role name", &v("name", role.map_or("", |r| r.name.as_str()))).required().render(errors))
                (Field::text("description", "Description", &v("description", role.map_or("", |r| r.description.as_str()))).render(errors))
            }
            fieldset disabled[!editable] {
                legend { "Role scopes" }
                p.hint { "Leave all unchecked for every scope; otherwise the role applies only within the checked ones (and below)." }
                @for s in scopes.iter().filter(|s| s.parent.is_some()) {
                    div.check.indent {
                        @for _ in 1..scope_depth(scopes, s) { span aria-hidden="true" { "\u{2003}" } }
                        input id={ "s-" (s.code.as_str()) } type="checkbox" name="scope" value=(s.code.as_str()) checked[chosen.iter().any(|c| c == s.code.as_str())];
                        label for={ "s-" (s.code.as_str()) } { (s.name) " " span.muted { "(" (s.kind) ")" } }
                    }
                }
                @for m in errors.of("scopes") { p.error-text { (m) } }
            }
            fieldset.resources {
                legend { "Role resources" }
                p.hint { "Checking a resource grants it and everything below it." @if !tree.def.actions.is_empty() { " Or grant single actions per resource." } }
                div.tree-tools data-tree-search hidden {
                    div.field { label for="f-tree-search" { "Find a resource" } input #f-tree-search type="search" placeholder="Title or id, e.g. Orders"; }
                    span data-tree-count aria-live="polite" {}
                    button type="button" data-tree-expand="all" hidden { "Expand all" }
                    button type="button" data-tree-expand="none" hidden { "Collapse all" }
                }
                div.tree { (render_nodes(tree, &g, 0, tree.resources.len(), editable)) }
                @for m in errors.of("grants") { p.error-text { (m) } }
            }
            @if editable { div.actions { button.primary type="submit" { "Save role" } a.button href={ "/console/roles?app=" (tree.key()) } { "Cancel" } } }
        }
    }
}

async fn new_page(ctx: Ctx, Query(q): Query<AppQuery>) -> Response {
    let r: Page = async {
        let admin = ctx.permit(Operation::ManageRoles, Target::Application(&q.app))?;
        let tree = ctx.dir().catalogue().require("app", &q.app)?.clone();
        let scopes = ctx.dir().list_scopes(&admin.org, &q.app).await?;
        let body = editor(
            &ctx,
            EditorInput {
                tree: &tree,
                scopes: &scopes,
                role: None,
                form: None,
                errors: &Errors::default(),
                editable: true,
            },
        );
        Ok(view::page(
            &ctx,
            &format!("New {} role", tree.def.name),
            Section::Roles,
            body,
        ))
    }
    .await;
    or_error(&ctx, r)
}

async fn create(ctx: Ctx, form: Posted) -> Response {
    let r: Page = async {
        let app = form.get("app").to_string();
        let admin = ctx.permit(Operation::ManageRoles, Target::Application(&app))?;
        let tree = ctx.dir().catalogue().require("app", &app)?.clone();
        let input = NewRole {
            application: app.clone(),
            name: form.get("name").trim().to_string(),
            description: form.opt("description").map(str::to_string),
            grants: grants_from(&tree, &form),
            scopes: form.all("scope").into_iter().map(str::to_string).collect(),
        };
        match ctx.dir().create_role(&admin, input).await {
            Ok(role) => Ok(done(
                &format!("/console/roles/{}", role.id),
                "Role created.",
            )),
            Err(e) => {
                let Some(errors) = Errors::from_error(&e) else {
                    return Err(e.into());
                };
                let scopes = ctx.dir().list_scopes(&admin.org, &app).await?;
                let body = editor(
                    &ctx,
                    EditorInput {
                        tree: &tree,
                        scopes: &scopes,
                        role: None,
                        form: Some(&form),
                        errors: &errors,
                        editable: true,
                    },
                );
                let mut res = view::page(
                    &ctx,
                    &format!("New {} role", tree.def.name),
                    Section::Roles,
                    body,
                );
                *res.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
                Ok(res)
            }
        }
    }
    .await;
    or_error(&ctx, r)
}

async fn load(ctx: &Ctx, id: &str) -> Result<Role, ConsoleError> {
    ctx.permit(Operation::ViewRoles, Target::Organization)?;
    let rid: RoleId = id
        .parse()
        .map_err(|_| rolecall_core::Error::not_found("role", id))?;
    Ok(ctx.dir().get_role(&ctx.org, rid).await?)
}

fn role_tabs(role: &Role, current: &str) -> Markup {
    view::tabs(&[
        (
            "Definition",
            format!("/console/roles/{}", role.id),
            current == "def",
        ),
        (
            "Who has this role",
            format!("/console/roles/{}/members", role.id),
            current == "members",
        ),
    ])
}

async fn edit_page(ctx: Ctx, Path(id): Path<String>) -> Response {
    let r: Page = async {
        let role = load(&ctx, &id).await?;
        let tree = ctx.dir().catalogue().require("app", &role.application)?.clone();
        let scopes = ctx.dir().list_scopes(&ctx.org, &role.application).await?;
        let editable = !role.builtin && ctx.can(Operation::ManageRoles, Target::Application(&role.application));
        let body = html! {
            p.muted { a href={ "/console/roles?app=" (role.application) } { (tree.def.name) } " › " (role.name.as_str()) }
            (role_tabs(&role, "def"))
            @if role.builtin {
                div.notice.warn { p { (role.name.as_str()) " is built in: it grants everything in " (tree.def.name) ", everywhere, and cannot be edited, narrowed or deleted." } }
            } @else {
                (editor(&ctx, EditorInput { tree: &tree, scopes: &scopes, role: Some(&role), form: None, errors: &Errors::default(), editable }))
                @if editable {
                    h2 { "Delete role" }
                    p.muted { "Users and groups holding it keep their accounts; they lose what it granted." }
                    (view::action_button(&ctx.csrf, &format!("/console/roles/{}/delete", role.id), "Delete role", true, Some("Delete this role?")))
                }
            }
        };
        Ok(view::page(&ctx, role.name.as_str(), Section::Roles, body))
    }
    .await;
    or_error(&ctx, r)
}

async fn update(ctx: Ctx, Path(id): Path<String>, form: Posted) -> Response {
    let r: Page = async {
        let role = load(&ctx, &id).await?;
        let admin = ctx.permit(Operation::ManageRoles, Target::Application(&role.application))?;
        let tree = ctx.dir().catalogue().require("app", &role.application)?.clone();
        let patch = RolePatch {
            name: Some(form.get("name").trim().to_string()),
            description: Some(form.get("description").trim().to_string()),
            grants: Some(grants_from(&tree, &form)),
            scopes: Some(form.all("scope").into_iter().map(str::to_string).collect()),
        };
        match ctx.dir().update_role(&admin, role.id, patch, form.get("version").parse().ok()).await {
            Ok(_) => Ok(done(&format!("/console/roles/{}", role.id), "Role saved.")),
            Err(e) => {
                let Some(errors) = Errors::from_error(&e) else { return Err(e.into()) };
                let scopes = ctx.dir().list_scopes(&ctx.org, &role.application).await?;
                let body = html! {
                    (role_tabs(&role, "def"))
                    (editor(&ctx, EditorInput { tree: &tree, scopes: &scopes, role: Some(&role), form: Some(&form), errors: &errors, editable: true }))
                };
                let mut res = view::page(&ctx, role.name.as_str(), Section::Roles, body);
                *res.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
                Ok(res)
            }
        }
    }
    .await;
    or_error(&ctx, r)
}

async fn delete(ctx: Ctx, Path(id): Path<String>, _form: Posted) -> Response {
    let r: Page = async {
        let role = load(&ctx, &id).await?;
        let admin = ctx.permit(
            Operation::ManageRoles,
            Target::Application(&role.application),
        )?;
        ctx.dir().delete_role(&admin, role.id, None).await?;
        Ok(done(
            &format!("/console/roles?app={}", role.application),
            "Role deleted.",
        ))
    }
    .await;
    or_error(&ctx, r)
}

// ------------------------------------------------------------------ who has this role

async fn members(ctx: Ctx, Path(id): Path<String>, Query(q): Query<AppQuery>) -> Response {
    let r: Page = async {
        let role = load(&ctx, &id).await?;
        ctx.permit(Operation::ViewUsers, Target::Organization)?;
        let page = q.page.unwrap_or(1).clamp(1, 1_000_000);
        let filter = UserFilter { role: Some(role.id), kind: None, ..Default::default() };
        let dir = ctx.dir();
        let (users, total) = dir.users_page(&ctx.org, filter, page, super::users::PER_PAGE).await?;
        let may_assign = ctx.can(Operation::AssignRole, Target::Application(&role.application));
        let mut rows = Vec::new();
        for u in &users {
            let held: Vec<Via> = dir.user_roles(&ctx.org, u.id).await?.into_iter().filter(|h| h.role_id == role.id).map(|h| h.via).collect();
            let groups = dir.user_groups(&ctx.org, u.id).await?;
            rows.push((u, held, groups));
        }
        let body = html! {
            p.muted { a href={ "/console/roles?app=" (role.application) } { (role.application) } " › " (role.name.as_str()) }
            (role_tabs(&role, "members"))
            @if rows.is_empty() { (view::empty("Nobody holds this role.")) } @else {
                div.table-wrap { table.list.stack {
                    thead { tr { th scope="col" { "User" } th scope="col" { "E-mail" } th scope="col" { "Holds it" } th scope="col" { span.sr-only { "Actions" } } } }
                    tbody { @for (u, held, groups) in &rows { tr {
                        td { a href={ "/console/users/" (u.id) "/roles" } { (view::display_name(u)) } @if u.kind == UserKind::Service { " " span.badge { "API credential" } } }
                        td { (u.email.as_str()) }
                        td { @for v in held {
                            @let gname = match v { Via::Group { group_id } => groups.iter().find(|g| g.id == *group_id).map(|g| g.name.as_str().to_string()), Via::Direct => None };
                            div { (super::users::via(v, gname.as_deref())) }
                        } }
                        td { @for v in held { @match v {
                            Via::Direct => { @if may_assign { (view::action_button(&ctx.csrf, &format!("/console/roles/{}/members/{}/remove", role.id, u.id), "Remove", true, Some("Remove this role from the user?"))) } }
                            Via::Group { group_id } => { @if ctx.can(Operation::ManageGroupMembers, Target::Group(&group_id.to_string())) {
                                (view::action_button(&ctx.csrf, &format!("/console/groups/{group_id}/members/{}/remove", u.id), "Remove from group", true, Some("Remove the user from the group that carries this role?")))
                            } }
                        } } }
                    } } }
                } }
                (view::pager(&format!("/console/roles/{}/members", role.id), &[], page, super::users::PER_PAGE, total))
            }
            @if may_assign {
                h2 { "Add a user to this role" }
                form method="post" action={ "/console/roles/" (role.id) "/members" } {
                    (csrf(&ctx.csrf))
                    div.field { label for="f-login" { "User (e-mail or username)" } input #f-login name="login" required autocomplete="off"; }
                    div.actions { button.primary type="submit" { "Add" } }
                }
            }
        };
        Ok(view::page(&ctx, &format!("Who has {}", role.name.as_str()), Section::Roles, body))
    }
    .await;
    or_error(&ctx, r)
}

async fn add_member(ctx: Ctx, Path(id): Path<String>, form: Posted) -> Response {
    let r: Page = async {
        let role = load(&ctx, &id).await?;
        let admin = ctx
            .permit_sensitive(
                Operation::AssignRole,
                Target::Application(&role.application),
                &form,
            )
            .await?;
        let user = user_by_login(&ctx, form.get("login"), "login").await?;
        ctx.dir().assign_role(&admin, user.id, role.id).await?;
        Ok(done(
            &format!("/console/roles/{}/members", role.id),
            &format!(
                "{} now holds {}.",
                user.username.as_str(),
                role.name.as_str()
            ),
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
        let role = load(&ctx, &id).await?;
        let admin = ctx
            .permit_sensitive(
                Operation::AssignRole,
                Target::Application(&role.application),
                &form,
            )
            .await?;
        let uid = user
            .parse()
            .map_err(|_| rolecall_core::Error::not_found("user", &user))?;
        ctx.dir().unassign_role(&admin, uid, role.id).await?;
        Ok(done(
            &format!("/console/roles/{}/members", role.id),
            "Role removed from the user.",
        ))
    }
    .await;
    or_error(&ctx, r)
}
