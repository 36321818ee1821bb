//! Users: the list (search, filters, paging, bulk actions), "Add user" with inline validation,
//! and the user page with its tabs (account, roles, groups, profiles, admin rights, sessions,
//! API credentials, activity).

use super::form::Posted;
use super::view::{self, csrf, date, status_badge, Errors, Field, Section};
use super::{done, or_error, ConsoleError, Ctx, Page};
use crate::directory::bulk_changes::BatchTarget;
use crate::directory::credentials::CredentialDecision;
use crate::directory::invitations::NewInvitation;
use crate::directory::{AdminRightFilter, SortOrder, TextMatch, UserFilter, UserSort};
use crate::directory::{NewUser, UserPatch};
use crate::directory::{PageStart, UserListRequest};
use crate::http::AppState;
use axum::extract::Query;
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::{get, post};
use axum::Router;
use maud::{html, Markup};
use rolecall_core::admin::{Operation, RightKind, Target};
use rolecall_core::authz::ProfileId;
use rolecall_core::model::{GroupId, RoleId, User, UserId, UserKind, UserStatus, Via};
use serde::Deserialize;

mod import; // bulk import and export (issue 12)
mod offboard; // offboarding in one step (issue 11)
mod tabs;

pub(super) fn router() -> Router<AppState> {
    Router::new()
        .route("/console/users", get(list))
        .route("/console/users/bulk", post(bulk))
        .route("/console/users/new", get(new_page).post(create))
        .merge(import::router())
        .merge(offboard::router())
        .merge(tabs::router())
}

pub(super) const PER_PAGE: i64 = 50;

/// The list counts matches up to this many and then says "more than": counting every one of
/// 100,000 users on each page costs more than the page itself.
const COUNT_UP_TO: i64 = 10_000;

#[derive(Debug, Default, Deserialize)]
pub(super) struct ListQuery {
    #[serde(default)]
    q: String,
    #[serde(default)]
    status: String,
    #[serde(default)]
    group: String,
    #[serde(default)]
    role: String,
    #[serde(default)]
    application: String,
    #[serde(default)]
    profile: String,
    #[serde(default)]
    admin_right: String,
    /// Idle at least this many days (signed in before then, or never).
    #[serde(default)]
    idle_days: String,
    #[serde(default)]
    sort: String,
    #[serde(default)]
    order: String,
    /// Where the page starts: a sealed position from a Next or Previous link.
    #[serde(default)]
    cursor: String,
}

/// The idle-for choices of the list's "Last sign-in" filter, in days.
const IDLE_CHOICES: [i64; 4] = [30, 90, 180, 365];

async fn list(ctx: Ctx, Query(q): Query<ListQuery>) -> Response {
    let r = list_page(&ctx, &q).await;
    or_error(&ctx, r)
}

async fn list_page(ctx: &Ctx, q: &ListQuery) -> Page {
    let admin = ctx.permit(Operation::ViewUsers, Target::Organization)?;
    let mut errors = Vec::new();
    let status = match q.status.as_str() {
        "" => None,
        s => UserStatus::parse("status", s)
            .map_err(|e| errors.push(e))
            .ok(),
    };
    let group = match q.group.as_str() {
        "" => None,
        g => g.parse::<GroupId>().ok(),
    };
    let role = match q.role.as_str() {
        "" => None,
        r => r.parse::<RoleId>().ok(),
    };
    if !errors.is_empty() {
        return Err(rolecall_core::Error::Invalid(errors).into());
    }
    let text: String = q.q.trim().chars().take(200).collect();
    let profile = match q.profile.as_str() {
        "" => None,
        p => p.parse::<ProfileId>().ok(),
    };
    let admin_right = match q.admin_right.as_str() {
        "" => None,
        "any" => Some(AdminRightFilter::Any),
        k => RightKind::parse(k).map(AdminRightFilter::Kind),
    };
    let dir = ctx.dir();
    let idle_days = q
        .idle_days
        .parse::<i64>()
        .ok()
        .filter(|d| IDLE_CHOICES.contains(d));
    let filter = UserFilter {
        status,
        q: Some(text.clone()).filter(|t| !t.is_empty()),
        q_match: TextMatch::Prefix,
        group,
        role,
        kind: Some(UserKind::Person),
        application: Some(q.application.clone()).filter(|a| !a.is_empty()),
        profile,
        admin_right,
        last_sign_in_before: idle_days.map(|d| dir.now() - d * 86_400_000),
        ..Default::default()
    };
    let sort = UserSort::parse(&q.sort).unwrap_or_default();
    let order = SortOrder::parse(&q.order).unwrap_or_default();
    let start = match q.cursor.as_str() {
        "" => PageStart::Page(1),
        c => PageStart::Cursor(c.to_string()),
    };
    let list = dir
        .list_users(
            &admin.org,
            &UserListRequest {
                filter,
                sort,
                order,
                start,
                per_page: PER_PAGE,
                count_cap: Some(COUNT_UP_TO),
            },
        )
        .await?;
    let users = &list.items;
    let (groups, _) = dir.list_groups(&admin.org, None, 1, 500).await?;
    let roles = dir.list_roles(&admin.org, None, None).await?;
    let profiles = dir.list_profiles(&admin.org, None).await?;
    // Bulk actions, each only when the matrix allows it.
    let may_remove = ctx.can(Operation::RemoveUser, Target::Organization);
    let may_reset = ctx.can(Operation::ManageSignIn, Target::Organization);
    let member_groups: Vec<_> = groups
        .iter()
        .filter(|g| {
            ctx.can(
                Operation::ManageGroupMembers,
                Target::Group(&g.id.to_string()),
            )
        })
        .collect();
    let seat_profiles: Vec<_> = profiles
        .iter()
        .filter(|p| {
            ctx.can(
                Operation::AssignProfile,
                Target::Profile {
                    id: &p.profile.id.to_string(),
                    application: &p.profile.application,
                },
            )
        })
        .collect();
    let any_bulk =
        may_remove || may_reset || !member_groups.is_empty() || !seat_profiles.is_empty();
    let query = [
        ("q", text.clone()),
        ("status", q.status.clone()),
        ("group", q.group.clone()),
        ("role", q.role.clone()),
        ("application", q.application.clone()),
        ("profile", q.profile.clone()),
        ("admin_right", q.admin_right.clone()),
        ("idle_days", q.idle_days.clone()),
        ("sort", q.sort.clone()),
        ("order", q.order.clone()),
    ];
    let mut applications: Vec<&str> = roles
        .iter()
        .map(|r| r.application.as_str())
        .chain(profiles.iter().map(|p| p.profile.application.as_str()))
        .collect();
    applications.sort_unstable();
    applications.dedup();
    let arrow = if order == SortOrder::Desc {
        " ↓"
    } else {
        " ↑"
    };
    let sort_label = |k: UserSort| if k == sort { arrow } else { "" };
    let body = html! {
        div.toolbar {
            @if ctx.can(Operation::AddUser, Target::Organization) {
                a.button.primary href="/console/users/new" { "Add user" }
            }
            @if ctx.can(Operation::BulkAddUsers, Target::Organization) {
                a.button href="/console/users/import" { "Import / export" }
            }
        }
        form.toolbar method="get" action="/console/users" role="search" {
            div.field.grow { label for="f-q" { "Search" } input #f-q type="search" name="q" value=(text) placeholder="Start of a name, username or e-mail" aria-describedby="f-q-hint"; p.hint #f-q-hint { "Finds names, usernames and e-mails that begin with the text, in any case." } }
            div.field { label for="f-status" { "Status" }
                select #f-status name="status" {
                    option value="" { "Any" }
                    @for s in ["active", "invited", "inactive"] { option value=(s) selected[q.status == s] { (s) } }
                }
            }
            div.field { label for="f-group" { "Group" }
                select #f-group name="group" {
                    option value="" { "Any" }
                    @for g in &groups { option value=(g.id) selected[q.group == g.id.to_string()] { (g.name.as_str()) } }
                }
            }
            div.field { label for="f-role" { "Role" }
                select #f-role name="role" {
                    option value="" { "Any" }
                    @for r in &roles { option value=(r.id) selected[q.role == r.id.to_string()] { (r.application) " · " (r.name.as_str()) } }
                }
            }
            div.field { label for="f-application" { "Application" }
                select #f-application name="application" {
                    option value="" { "Any" }
                    @for a in &applications { option value=(a) selected[q.application == *a] { (a) } }
                }
            }
            div.field { label for="f-profile" { "Profile" }
                select #f-profile name="profile" {
                    option value="" { "Any" }
                    @for p in &profiles { option value=(p.profile.id) selected[q.profile == p.profile.id.to_string()] { (p.profile.application) " · " (p.profile.name.as_str()) } }
                }
            }
            div.field { label for="f-admin" { "Admin right" }
                select #f-admin name="admin_right" {
                    option value="" { "Any or none" }
                    option value="any" selected[q.admin_right == "any"] { "Any admin right" }
                    @for k in RightKind::ALL { option value=(k.as_str()) selected[q.admin_right == k.as_str()] { (k.as_str()) } }
                }
            }
            div.field { label for="f-idle" { "Last sign-in" }
                select #f-idle name="idle_days" {
                    option value="" { "Any time" }
                    @for d in IDLE_CHOICES { option value=(d) selected[idle_days == Some(d)] { "more than " (d) " days ago" } }
                }
            }
            div.field { label for="f-sort" { "Sort by" }
                select #f-sort name="sort" {
                    @for k in UserSort::ALL { option value=(k.as_str()) selected[k == sort] { (k.as_str().replace('_', " ")) } }
                }
            }
            div.field { label for="f-order" { "Order" }
                select #f-order name="order" {
                    option value="asc" selected[order == SortOrder::Asc] { "ascending" }
                    option value="desc" selected[order == SortOrder::Desc] { "descending" }
                }
            }
            div.field { button type="submit" { "Apply" } }
        }
        p.muted aria-live="polite" { (count_text(list.total, list.total_capped)) }
        @if users.is_empty() {
            (view::empty("No users match."))
        } @else {
            @if any_bulk {
                form #bulk.bulk method="post" action="/console/users/bulk" aria-label="Bulk actions" data-confirm="Apply this action to the selected users?" {
                    (csrf(&ctx.csrf))
                    span data-selected-count aria-live="polite" { "Select users below" }
                    label.sr-only for="f-action" { "Action" }
                    select #f-action name="action" {
                        @if may_remove { option value="deactivate" { "Deactivate" } option value="delete" { "Delete" } }
                        @if may_reset { option value="reset_2fa" { "Reset two-step verification" } }
                        @if !member_groups.is_empty() { option value="add_group" { "Add to group…" } }
                        @if !seat_profiles.is_empty() { option value="add_profile" { "Add to product profile…" } }
                    }
                    @if !member_groups.is_empty() {
                        label for="f-bulk-group" { "Group" }
                        select #f-bulk-group name="group" { @for g in &member_groups { option value=(g.id) { (g.name.as_str()) } } }
                    }
                    @if !seat_profiles.is_empty() {
                        label for="f-bulk-profile" { "Profile" }
                        select #f-bulk-profile name="profile" { @for p in &seat_profiles { option value=(p.profile.id) { (p.profile.application) " · " (p.profile.name.as_str()) } } }
                    }
                    @if may_remove {
                        label for="f-bulk-cred" { "Their API credentials" }
                        select #f-bulk-cred name="credentials" { option value="" { "Ask if any" } option value="revoke" { "Revoke" } option value="keep" { "Keep" } }
                    }
                    button type="submit" { "Apply to selected" }
                }
            }
            div.table-wrap {
                table.list.stack {
                    caption.sr-only { "Users" }
                    thead { tr {
                        @if any_bulk { th scope="col" { input type="checkbox" form="bulk" data-select-all aria-label="Select all users on this page"; } }
                        th scope="col" { "Name" } th scope="col" { "Username" (sort_label(UserSort::Username)) } th scope="col" { "E-mail" (sort_label(UserSort::Email)) }
                        th scope="col" { "Status" } th scope="col" { "Last sign-in" (sort_label(UserSort::LastSignInAt)) }
                    } }
                    tbody {
                        @for u in users {
                            tr {
                                @if any_bulk { td { input type="checkbox" name="ids" value=(u.id) form="bulk" aria-label={ "Select " (u.username.as_str()) }; } }
                                td { a href={ "/console/users/" (u.id) } { (view::display_name(u)) } }
                                td { (u.username.as_str()) }
                                td { (u.email.as_str()) }
                                td { (status_badge(u.status)) }
                                td { (date(u.last_sign_in_at)) }
                            }
                        }
                    }
                }
            }
            (cursor_pager(&query, list.prev_cursor.as_deref(), list.next_cursor.as_deref()))
        }
    };
    Ok(view::page(ctx, "Users", Section::Users, body))
}

/// What the list's number means: exact up to the cap, "more than" beyond it.
fn count_text(total: i64, capped: bool) -> String {
    if capped {
        format!(
            "More than {} users match (counted up to {}; search or filter to narrow the list).",
            view::thousands(total),
            view::thousands(total)
        )
    } else if total == 1 {
        "1 user matches.".to_string()
    } else {
        format!("{} users match.", view::thousands(total))
    }
}

/// First / Previous / Next links: each carries the sealed position of the page's edge, so a
/// page far down the list costs what the first does (no rows are skipped to reach it).
fn cursor_pager(query: &[(&str, String)], prev: Option<&str>, next: Option<&str>) -> Markup {
    let link = |cursor: Option<&str>| {
        let mut q: Vec<String> = query
            .iter()
            .filter(|(_, v)| !v.is_empty())
            .map(|(k, v)| format!("{k}={}", view::url_encode(v)))
            .collect();
        if let Some(c) = cursor {
            q.push(format!("cursor={}", view::url_encode(c)));
        }
        if q.is_empty() {
            "/console/users".to_string()
        } else {
            format!("/console/users?{}", q.join("&"))
        }
    };
    html! {
        nav.pager aria-label="Pages" {
            @if prev.is_some() { a href=(link(None)) { "« First" } } @else { span.muted { "« First" } }
            @if let Some(p) = prev { a rel="prev" href=(link(Some(p))) { "← Previous" } } @else { span.muted { "← Previous" } }
            @if let Some(n) = next { a rel="next" href=(link(Some(n))) { "Next →" } } @else { span.muted { "Next →" } }
        }
    }
}

fn decision(form: &Posted) -> Option<CredentialDecision> {
    match form.get("credentials") {
        "revoke" => Some(CredentialDecision::Revoke),
        "keep" => Some(CredentialDecision::Keep),
        _ => None,
    }
}

/// One action over many users. Adding to a group or a profile is one transaction for the
/// whole selection (the API's `…/batch` use case): all are added or, on the first refusal,
/// none, and the refusal is shown. Deactivation and deletion are one change per user (as over
/// the API); the summary says what was done and what was refused, and why.
async fn bulk(ctx: Ctx, form: Posted) -> Response {
    let r: Page = async {
        let ids: Vec<UserId> = form
            .all("ids")
            .iter()
            .filter_map(|s| s.parse().ok())
            .collect();
        if ids.is_empty() {
            return Ok(done("/console/users", "Select at least one user first."));
        }
        if ids.len() > 500 {
            return Err(ConsoleError::Status(
                StatusCode::UNPROCESSABLE_ENTITY,
                "Select at most 500 users at once.".into(),
            ));
        }
        let dir = ctx.dir();
        let mut refused: Vec<String> = Vec::new();
        let mut ok = 0usize;
        let mut already = 0usize;
        let verb;
        match form.get("action") {
            "deactivate" | "delete" => {
                let delete = form.get("action") == "delete";
                verb = if delete { "deleted" } else { "deactivated" };
                let admin = ctx
                    .permit_sensitive(Operation::RemoveUser, Target::Organization, &form)
                    .await?;
                for id in &ids {
                    let r = if delete {
                        dir.delete_user(&admin, *id, None, decision(&form), &ctx.client)
                            .await
                    } else {
                        let patch = UserPatch {
                            status: Some("inactive".into()),
                            ..Default::default()
                        };
                        dir.update_user(&admin, *id, patch, None, decision(&form), &ctx.client)
                            .await
                            .map(|_| ())
                    };
                    tally(r, *id, &mut ok, &mut refused);
                }
            }
            "reset_2fa" => {
                verb = "reset";
                let admin = ctx
                    .permit_sensitive(Operation::ManageSignIn, Target::Organization, &form)
                    .await?;
                ok = dir.reset_2fa(&admin, &ids, &ctx.client).await?;
            }
            "add_group" => {
                verb = "added to the group";
                let group = form.get("group");
                let admin = ctx
                    .permit_sensitive(Operation::ManageGroupMembers, Target::Group(group), &form)
                    .await?;
                let gid: GroupId = group.parse().map_err(|_| {
                    rolecall_core::Error::invalid("group", "uuid", "choose a group")
                })?;
                let raw: Vec<String> = ids.iter().map(|i| i.to_string()).collect();
                let r = dir.add_users(&admin, BatchTarget::Group(gid), &raw).await?;
                ok = r.added;
                already = r.already_there;
            }
            "add_profile" => {
                verb = "given a seat";
                let pid = form.get("profile");
                let profile_id = pid.parse().map_err(|_| {
                    rolecall_core::Error::invalid("profile", "uuid", "choose a profile")
                })?;
                let profile = dir.get_profile(&ctx.org, profile_id).await?;
                let admin = ctx
                    .permit_sensitive(
                        Operation::AssignProfile,
                        Target::Profile {
                            id: pid,
                            application: &profile.profile.application,
                        },
                        &form,
                    )
                    .await?;
                let raw: Vec<String> = ids.iter().map(|i| i.to_string()).collect();
                let r = dir
                    .add_users(&admin, BatchTarget::Profile(profile_id), &raw)
                    .await?;
                ok = r.added;
                already = r.already_there;
            }
            _ => {
                return Err(ConsoleError::Status(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    "Choose an action.".into(),
                ))
            }
        }
        let mut msg = format!("{ok} user(s) {verb}.");
        if already > 0 {
            msg.push_str(&format!(" {already} already there."));
        }
        if !refused.is_empty() {
            msg.push_str(&format!(
                " Not done for {}: {}",
                refused.len(),
                refused.join("; ")
            ));
        }
        Ok(done("/console/users", &msg))
    }
    .await;
    or_error(&ctx, r)
}

fn tally(r: crate::error::Result<()>, id: UserId, ok: &mut usize, refused: &mut Vec<String>) {
    match r {
        Ok(()) => *ok += 1,
        Err(e) => {
            let api = crate::http::problem::ApiError::from(e);
            refused.push(format!("{id}: {}", api.detail));
        }
    }
}

// ------------------------------------------------------------------ add user

fn new_form(
    ctx: &Ctx,
    form: Option<&Posted>,
    errors: &Errors,
    roles: &[rolecall_core::model::Role],
) -> Markup {
    let v = |k: &str| form.map(|f| f.get(k).to_string()).unwrap_or_default();
    let invite = form.is_none_or(|f| f.get("invite") == "1");
    let assignable: Vec<_> = roles
        .iter()
        .filter(|r| ctx.can(Operation::AssignRole, Target::Application(&r.application)))
        .collect();
    html! {
        p.muted { "Only the e-mail is required; the username defaults to it." }
        (view::error_summary(errors, &["email", "username", "first_name", "last_name", "locale", "role_id"]))
        form method="post" action="/console/users/new" novalidate {
            (csrf(&ctx.csrf))
            fieldset {
                legend { "Account information" }
                (Field::text("email", "E-mail", &v("email")).kind("email").required().autocomplete("off").max(254).render(errors))
                (Field::text("username", "Username", &v("username")).autocomplete("off").hint("Leave empty to use the e-mail.").render(errors))
                div.row {
                    (Field::text("first_name", "First name", &v("first_name")).autocomplete("off").render(errors))
                    (Field::text("last_name", "Last name", &v("last_name")).autocomplete("off").render(errors))
                }
                (Field::text("locale", "Interface locale", &v("locale")).hint("e.g. en_US; empty for the default.").render(errors))
                div.check {
                    input #f-invite type="checkbox" name="invite" value="1" checked[invite];
                    label for="f-invite" { "Send a \u{201c}Get started\u{201d} invitation (they choose their password)" }
                }
            }
            @if !assignable.is_empty() {
                fieldset {
                    legend { "User role" }
                    div.field.invalid[!errors.of("role_id").is_empty()] {
                        label for="f-role_id" { "Role (optional)" }
                        select #f-role_id name="role_id" {
                            option value="" { "No role yet" }
                            @for r in &assignable { option value=(r.id) selected[v("role_id") == r.id.to_string()] { (r.application) " · " (r.name.as_str()) } }
                        }
                        @for m in errors.of("role_id") { p.error-text { (m) } }
                    }
                }
            }
            div.actions { button.primary type="submit" { "Save user" } a.button href="/console/users" { "Cancel" } }
        }
    }
}

async fn new_page(ctx: Ctx) -> Response {
    let r: Page = async {
        ctx.permit(Operation::AddUser, Target::Organization)?;
        let roles = ctx.dir().list_roles(&ctx.org, None, None).await?;
        Ok(view::page(
            &ctx,
            "Add user",
            Section::Users,
            new_form(&ctx, None, &Errors::default(), &roles),
        ))
    }
    .await;
    or_error(&ctx, r)
}

async fn create(ctx: Ctx, form: Posted) -> Response {
    let r: Page = async {
        let admin = ctx
            .permit_sensitive(Operation::AddUser, Target::Organization, &form)
            .await?;
        let dir = ctx.dir();
        let roles = dir.list_roles(&ctx.org, None, None).await?;
        let role: Option<&rolecall_core::model::Role> =
            match form.opt("role_id") {
                None => None,
                Some(id) => Some(roles.iter().find(|r| r.id.to_string() == id).ok_or_else(
                    || {
                        rolecall_core::Error::invalid(
                            "role_id",
                            "unknown_role",
                            "choose a role from the list",
                        )
                    },
                )?),
            };
        // The role is assigned by the same permission as over the API, asked before anything is created.
        let role_admin = match role {
            Some(r) => {
                Some(ctx.permit(Operation::AssignRole, Target::Application(&r.application))?)
            }
            None => None,
        };
        let opt = |k: &str| form.opt(k).map(str::to_string);
        let created = if form.get("invite") == "1" {
            let inviter = format!("user {}", ctx.me.id);
            dir.invite(
                &admin,
                NewInvitation {
                    email: form.get("email").trim().to_string(),
                    username: opt("username"),
                    first_name: opt("first_name"),
                    last_name: opt("last_name"),
                    locale: opt("locale"),
                },
                &inviter,
            )
            .await
            .map(|(u, _)| u)
        } else {
            dir.create_user(
                &admin,
                NewUser {
                    email: form.get("email").trim().to_string(),
                    username: opt("username"),
                    first_name: opt("first_name"),
                    last_name: opt("last_name"),
                    locale: opt("locale"),
                    status: None,
                    ..Default::default()
                },
            )
            .await
        };
        let user = match created {
            Ok(u) => u,
            Err(e) => {
                let Some(errors) = Errors::from_error(&e) else {
                    return Err(e.into());
                };
                let mut res = view::page(
                    &ctx,
                    "Add user",
                    Section::Users,
                    new_form(&ctx, Some(&form), &errors, &roles),
                );
                *res.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
                return Ok(res);
            }
        };
        if let (Some(r), Some(a)) = (role, role_admin) {
            if let Err(e) = dir.assign_role(&a, user.id, r.id).await {
                let api = crate::http::problem::ApiError::from(e);
                return Ok(done(
                    &format!("/console/users/{}/roles", user.id),
                    &format!(
                        "User created, but the role was not assigned: {}",
                        api.detail
                    ),
                ));
            }
        }
        let what = if user.status == UserStatus::Invited {
            "User created and invited."
        } else {
            "User created."
        };
        Ok(done(&format!("/console/users/{}", user.id), what))
    }
    .await;
    or_error(&ctx, r)
}

/// A user's page header and tabs, shown on every tab.
pub(super) fn user_header(ctx: &Ctx, u: &User, current: &str) -> Markup {
    let id = u.id;
    let mut items: Vec<(&str, String, bool)> = vec![(
        "Account",
        format!("/console/users/{id}"),
        current == "account",
    )];
    if ctx.can(Operation::ViewRoles, Target::Organization) {
        items.push((
            "Roles",
            format!("/console/users/{id}/roles"),
            current == "roles",
        ));
    }
    if ctx.can(Operation::ViewGroups, Target::Organization) {
        items.push((
            "Groups",
            format!("/console/users/{id}/groups"),
            current == "groups",
        ));
    }
    if ctx.can(Operation::ViewProducts, Target::Organization) {
        items.push((
            "Profiles",
            format!("/console/users/{id}/profiles"),
            current == "profiles",
        ));
    }
    if ctx.can(Operation::ViewAdmins, Target::Organization) {
        items.push((
            "Admin rights",
            format!("/console/users/{id}/admin-rights"),
            current == "admin",
        ));
    }
    if ctx.can(Operation::ManageSignIn, Target::Organization) {
        items.push((
            "Sessions",
            format!("/console/users/{id}/sessions"),
            current == "sessions",
        ));
    }
    if ctx.can(Operation::ManageCredentials, Target::Organization) {
        items.push((
            "API credentials",
            format!("/console/users/{id}/credentials"),
            current == "credentials",
        ));
    }
    if ctx.can(Operation::ViewAuthEvents, Target::Organization) {
        items.push((
            "Activity",
            format!("/console/users/{id}/activity"),
            current == "activity",
        ));
    }
    html! {
        p.muted { a href="/console/users" { "Users" } " › " (u.username.as_str()) " · " (status_badge(u.status)) }
        (view::tabs(&items))
    }
}

/// "Direct" or a link to the group a role is held through.
pub(super) fn via(v: &Via, group_name: Option<&str>) -> Markup {
    match v {
        Via::Direct => html! { "direct" },
        Via::Group { group_id } => {
            html! { "through group " a href={ "/console/groups/" (group_id) } { (group_name.unwrap_or("(group)")) } }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::count_text;

    /// Beyond the cap the list says "more than", with the cap, and how to get an exact number.
    #[test]
    fn the_count_says_more_than_the_cap_and_exact_below_it() {
        assert_eq!(
            count_text(10_000, true),
            "More than 10,000 users match (counted up to 10,000; search or filter to narrow the list)."
        );
        assert_eq!(count_text(9_999, false), "9,999 users match.");
        assert_eq!(count_text(1, false), "1 user matches.");
        assert_eq!(count_text(0, false), "0 users match.");
    }
}
