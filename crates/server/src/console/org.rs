//! Organisation pages: invitations (pending, resend, withdraw), API credentials (create with the
//! secret shown once, revoke), locked accounts, scopes per application, security settings, and
//! the sign-in event log.

use super::form::Posted;
use super::view::{self, csrf, date, Errors, Field, Section};
use super::{done, or_error, ConsoleError, Ctx, Page};
use crate::directory::credentials::{Creator, NewCredential};
use crate::http::AppState;
use crate::store::credentials::Credential;
use crate::store::signin::AuthEvent;
use axum::extract::{Path, Query};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::{get, post};
use axum::Router;
use maud::{html, Markup};
use rolecall_core::admin::{Operation, Target};
use rolecall_core::change::handles_invitation;
use rolecall_core::settings::OrgSettings;
use serde::Deserialize;
use serde_json::Value;

pub(super) fn router() -> Router<AppState> {
    Router::new()
        .route("/console/invitations", get(invitations))
        .route(
            "/console/credentials",
            get(credentials).post(create_credential),
        )
        .route("/console/credentials/{id}/revoke", post(revoke_credential))
        .route("/console/locks", get(locks))
        .route("/console/scopes", get(scopes).post(create_scope))
        .route("/console/scopes/{app}/{code}/delete", post(delete_scope))
        .route("/console/settings", get(settings).post(save_settings))
        .route("/console/events", get(events))
}

#[derive(Debug, Default, Deserialize)]
struct PageQuery {
    page: Option<i64>,
    #[serde(default)]
    app: String,
}

// ------------------------------------------------------------------ invitations

async fn invitations(ctx: Ctx, Query(q): Query<PageQuery>) -> Response {
    let r: Page = async {
        let admin = ctx.permit(Operation::ViewUsers, Target::Organization)?;
        let page = q.page.unwrap_or(1).clamp(1, 1_000_000);
        let (items, total) = ctx.dir().list_invitations(&admin.org, page, 50).await?;
        let may = ctx.can(Operation::AddUser, Target::Organization);
        let body = html! {
            @if items.is_empty() { (view::empty("No open invitations.")) } @else {
                div.table-wrap { table.list.stack {
                    thead { tr { th scope="col" { "E-mail" } th scope="col" { "Sent" } th scope="col" { "Expires" } th scope="col" { "Status" } th scope="col" { span.sr-only { "Actions" } } } }
                    tbody { @for i in &items { tr {
                        td { a href={ "/console/users/" (i.user_id) } { (i.email) } }
                        td { (date(Some(i.sent_at))) }
                        td { (date(Some(i.expires_at))) }
                        td { span class={ "badge " (i.status) } { (i.status) } }
                        td { @if may && handles_invitation(&ctx.rights, Some(ctx.me.id), i.sent_by) {
                            (view::action_button(&ctx.csrf, &format!("/console/users/{}/invitation?do=resend", i.user_id), "Resend", false, None))
                            " "
                            (view::action_button(&ctx.csrf, &format!("/console/users/{}/invitation?do=withdraw", i.user_id), "Withdraw", true, Some("Withdraw this invitation?")))
                        } }
                    } } }
                } }
                (view::pager("/console/invitations", &[], page, 50, total))
            }
        };
        Ok(view::page(&ctx, "Invitations", Section::Invitations, body))
    }
    .await;
    or_error(&ctx, r)
}

// ------------------------------------------------------------------ API credentials

pub(crate) fn credential_table(ctx: &Ctx, list: &[Credential]) -> Markup {
    html! {
        @if list.is_empty() { (view::empty("No API credentials.")) } @else {
            div.table-wrap { table.list.stack {
                thead { tr { th scope="col" { "Name" } th scope="col" { "Created by" } th scope="col" { "Created" } th scope="col" { "Last used" } th scope="col" { "Expires" } th scope="col" { "Status" } th scope="col" { span.sr-only { "Actions" } } } }
                tbody { @for c in list { tr {
                    td { strong { (c.name) } @if !c.description.is_empty() { br; span.muted { (c.description) } } br; a href={ "/console/users/" (c.service_user_id) "/roles" } { "roles of its service account" } }
                    td { (c.created_by) }
                    td { (date(Some(c.created_at))) }
                    td { (date(c.last_used_at)) }
                    td { @if let Some(e) = c.expires_at { (date(Some(e))) } @else { span.muted { "never" } } }
                    td { @if c.revoked_at.is_some() { span.badge.inactive { "revoked" } } @else { span.badge.active { "live" } } }
                    td { @if c.revoked_at.is_none() && ctx.can(Operation::ManageCredentials, Target::Organization) {
                        (view::action_button(&ctx.csrf, &format!("/console/credentials/{}/revoke", c.id), "Revoke", true, Some("Revoke this credential? Programs using it stop working at once.")))
                    } }
                } } }
            } }
        }
    }
}

fn credential_form(ctx: &Ctx, form: Option<&Posted>, errors: &Errors) -> Markup {
    let v = |k: &str| form.map(|f| f.get(k).to_string()).unwrap_or_default();
    html! {
        h2 { "New API credential" }
        (view::error_summary(errors, &["name", "description"]))
        form method="post" action="/console/credentials" {
            (csrf(&ctx.csrf))
            (Field::text("name", "Name", &v("name")).required().hint("Letters, digits, dot, underscore and dash; unique.").render(errors))
            (Field::text("description", "Description", &v("description")).render(errors))
            div.check { input #f-sensitive type="checkbox" name="sensitive_changes" value="1"; label for="f-sensitive" { "May make sensitive changes without a password (automation)" } }
            div.actions { button.primary type="submit" { "Create credential" } }
        }
    }
}

async fn credentials(ctx: Ctx) -> Response {
    let r: Page = async {
        let admin = ctx.permit(Operation::ManageCredentials, Target::Organization)?;
        let list = ctx.dir().credentials(&admin.org).await?;
        let body = html! { (credential_table(&ctx, &list)) (credential_form(&ctx, None, &Errors::default())) };
        Ok(view::page(&ctx, "API credentials", Section::Credentials, body))
    }
    .await;
    or_error(&ctx, r)
}

async fn create_credential(ctx: Ctx, form: Posted) -> Response {
    let r: Page = async {
        let admin = ctx.permit_sensitive(Operation::ManageCredentials, Target::Organization, &form).await?;
        let input = NewCredential {
            name: form.get("name").trim().to_string(),
            description: form.opt("description").map(str::to_string),
            expires_at: None,
            sensitive_changes: form.get("sensitive_changes") == "1",
        };
        let creator = Creator { user: Some(ctx.me.id), label: format!("user {}", ctx.me.id) };
        match ctx.dir().create_credential(&admin, input, creator, &ctx.client).await {
            // The secret is shown in this response only, never in a URL or a later page.
            Ok((c, secret)) => Ok(view::page(&ctx, "API credential created", Section::Credentials, html! {
                div.notice.warn role="status" { p { strong { "Copy the secret now." } " It is shown only this once; rolecall keeps only its hash." } }
                dl.facts { dt { "Name" } dd { (c.name) } dt { "Secret" } dd { code #credential-secret { (secret) } } }
                p { "Give its service account roles on the " a href={ "/console/users/" (c.service_user_id) "/roles" } { "roles page" } "." }
                p { a.button href="/console/credentials" { "Done" } }
            })),
            Err(e) => match Errors::from_error(&e) {
                Some(errors) => {
                    let list = ctx.dir().credentials(&ctx.org).await?;
                    let mut res = view::page(&ctx, "API credentials", Section::Credentials, html! { (credential_table(&ctx, &list)) (credential_form(&ctx, Some(&form), &errors)) });
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

async fn revoke_credential(ctx: Ctx, Path(id): Path<String>, _form: Posted) -> Response {
    let r: Page = async {
        let admin = ctx.permit(Operation::ManageCredentials, Target::Organization)?;
        ctx.dir()
            .revoke_credential(&admin, &id, &ctx.client)
            .await?;
        Ok(done("/console/credentials", "Credential revoked."))
    }
    .await;
    or_error(&ctx, r)
}

// ------------------------------------------------------------------ locks

async fn locks(ctx: Ctx) -> Response {
    let r: Page = async {
        let admin = ctx.permit(Operation::ManageSignIn, Target::Organization)?;
        let list = ctx.dir().locked_users(&admin.org).await?;
        let body = html! {
            p.muted { "Accounts locked after too many failed sign-ins. They unlock by themselves when the time runs out." }
            @if list.is_empty() { (view::empty("No locked accounts.")) } @else {
                div.table-wrap { table.list {
                    thead { tr { th scope="col" { "User" } th scope="col" { "Locked until" } th scope="col" { span.sr-only { "Actions" } } } }
                    tbody { @for (id, name, until) in &list { tr {
                        td { a href={ "/console/users/" (id) } { (name) } }
                        td { (date(Some(*until))) }
                        td { (view::action_button(&ctx.csrf, &format!("/console/users/{id}/unlock"), "Unlock", false, None)) }
                    } } }
                } }
            }
        };
        Ok(view::page(&ctx, "Locked accounts", Section::Locks, body))
    }
    .await;
    or_error(&ctx, r)
}

// ------------------------------------------------------------------ scopes

async fn scopes(ctx: Ctx, Query(q): Query<PageQuery>) -> Response {
    let r: Page = async {
        let admin = ctx.permit(Operation::ViewRoles, Target::Organization)?;
        let catalogue = ctx.dir().catalogue();
        let app = if q.app.is_empty() { catalogue.apps.first().map(|a| a.key().to_string()).unwrap_or_default() } else { q.app.clone() };
        let tree = catalogue.require("app", &app)?.clone();
        let list = ctx.dir().list_scopes(&admin.org, &app).await?;
        let may = ctx.can(Operation::ManageScopes, Target::Application(&app));
        let tabs: Vec<(&str, String, bool)> = catalogue.apps.iter().map(|a| (a.def.name.as_str(), format!("/console/scopes?app={}", a.key()), a.key() == app)).collect();
        let kinds = tree.def.scope_kinds.join(" › ");
        let body = html! {
            (view::tabs(&tabs))
            p.muted { "Scope levels: " (kinds) ". A role limited to a scope applies there and below." }
            div.table-wrap { table.list {
                thead { tr { th scope="col" { "Code" } th scope="col" { "Name" } th scope="col" { "Kind" } th scope="col" { "Parent" } th scope="col" { span.sr-only { "Actions" } } } }
                tbody { @for s in &list { tr {
                    td { code { (s.code.as_str()) } } td { (s.name) } td { (s.kind) }
                    td { @if let Some(p) = &s.parent { code { (p.as_str()) } } }
                    td { @if may && s.parent.is_some() {
                        (view::action_button(&ctx.csrf, &format!("/console/scopes/{app}/{}/delete", s.code.as_str()), "Delete", true, Some("Delete this scope? Roles limited to it lose it.")))
                    } }
                } } }
            } }
            @if may {
                h2 { "Add a scope" }
                form method="post" action="/console/scopes" {
                    (csrf(&ctx.csrf)) input type="hidden" name="app" value=(app);
                    div.row {
                        (Field::text("code", "Code", "").required().hint("Lower-case letters, digits and _.").render(&Errors::default()))
                        (Field::text("name", "Name", "").render(&Errors::default()))
                        div.field { label for="f-parent" { "Parent" }
                            select #f-parent name="parent" { @for s in &list { option value=(s.code.as_str()) { (s.code.as_str()) " (" (s.kind) ")" } } }
                        }
                    }
                    div.actions { button.primary type="submit" { "Add scope" } }
                }
            }
        };
        Ok(view::page(&ctx, "Scopes", Section::Scopes, body))
    }
    .await;
    or_error(&ctx, r)
}

async fn create_scope(ctx: Ctx, form: Posted) -> Response {
    let r: Page = async {
        let app = form.get("app").to_string();
        let admin = ctx.permit(Operation::ManageScopes, Target::Application(&app))?;
        let name = form.opt("name").unwrap_or(form.get("code"));
        ctx.dir()
            .create_scope(
                &admin,
                &app,
                form.get("code").trim(),
                form.opt("parent"),
                name,
            )
            .await?;
        Ok(done(&format!("/console/scopes?app={app}"), "Scope added."))
    }
    .await;
    or_error(&ctx, r)
}

async fn delete_scope(
    ctx: Ctx,
    Path((app, code)): Path<(String, String)>,
    _form: Posted,
) -> Response {
    let r: Page = async {
        let admin = ctx.permit(Operation::ManageScopes, Target::Application(&app))?;
        ctx.dir().delete_scope(&admin, &app, &code).await?;
        Ok(done(
            &format!("/console/scopes?app={app}"),
            "Scope deleted.",
        ))
    }
    .await;
    or_error(&ctx, r)
}

// ------------------------------------------------------------------ settings

/// Settings are rendered from their JSON form, so every field the server has (including ones
/// added later) appears with its name, and the server's validation names the same fields.
fn settings_fields(prefix: &str, v: &Value, errors: &Errors, editable: bool) -> Markup {
    html! {
        @if let Value::Object(map) = v {
            @for (k, val) in map {
                @let name = if prefix.is_empty() { k.clone() } else { format!("{prefix}.{k}") };
                @let label = k.replace('_', " ");
                @match val {
                    Value::Object(_) => { fieldset { legend { (label) } (settings_fields(&name, val, errors, editable)) } }
                    Value::Bool(b) => {
                        div.check {
                            input id={ "f-" (name) } type="checkbox" name=(name) value="true" checked[*b] disabled[!editable];
                            label for={ "f-" (name) } { (label) }
                        }
                    }
                    other => {
                        @let text = match other { Value::Null => String::new(), Value::String(s) => s.clone(), x => x.to_string() };
                        div.field.invalid[!errors.of(&name).is_empty()] {
                            label for={ "f-" (name) } { (label) }
                            input id={ "f-" (name) } name=(name) value=(text) readonly[!editable] inputmode=[matches!(other, Value::Number(_) | Value::Null).then_some("numeric")];
                            @for m in errors.of(&name) { p.error-text { (m) } }
                        }
                    }
                }
            }
        }
    }
}

/// The posted settings, shaped like the current ones.
fn settings_from(form: &Posted, current: &Value, prefix: &str) -> Value {
    match current {
        Value::Object(map) => Value::Object(
            map.iter()
                .map(|(k, v)| {
                    let name = if prefix.is_empty() {
                        k.clone()
                    } else {
                        format!("{prefix}.{k}")
                    };
                    (k.clone(), settings_from(form, v, &name))
                })
                .collect(),
        ),
        Value::Bool(_) => Value::Bool(form.get(prefix) == "true"),
        _ => {
            let raw = form.get(prefix).trim();
            if raw.is_empty() {
                Value::Null
            } else if let Ok(n) = raw.parse::<i64>() {
                Value::from(n)
            } else {
                Value::String(raw.to_string())
            }
        }
    }
}

fn settings_page(ctx: &Ctx, current: &Value, version: i64, errors: &Errors) -> Response {
    let editable = ctx.can(Operation::ManageSettings, Target::Organization);
    view::page(
        ctx,
        "Settings",
        Section::Settings,
        html! {
            p.muted { "Password policy, sessions, two-step verification, account sharing and identity re-verification for everyone in " (ctx.org.name.as_str()) "." }
            (view::error_summary(errors, &[]))
            form method="post" action="/console/settings" {
                (csrf(&ctx.csrf)) input type="hidden" name="_version" value=(version);
                (settings_fields("", current, errors, editable))
                @if editable { div.actions { button.primary type="submit" { "Save settings" } } }
            }
        },
    )
}

async fn settings(ctx: Ctx) -> Response {
    let r: Page = async {
        let admin = ctx.permit(Operation::ViewSettings, Target::Organization)?;
        let (s, version) = ctx.dir().settings(&admin.org).await?;
        Ok(settings_page(
            &ctx,
            &serde_json::to_value(&s).map_err(crate::error::Error::from)?,
            version,
            &Errors::default(),
        ))
    }
    .await;
    or_error(&ctx, r)
}

async fn save_settings(ctx: Ctx, form: Posted) -> Response {
    let r: Page = async {
        let admin = ctx
            .permit_sensitive(Operation::ManageSettings, Target::Organization, &form)
            .await?;
        let (current, _) = ctx.dir().settings(&admin.org).await?;
        let current = serde_json::to_value(&current).map_err(crate::error::Error::from)?;
        let posted = settings_from(&form, &current, "");
        let parsed: Result<OrgSettings, _> = serde_json::from_value(posted.clone());
        let version = form.get("_version").parse().ok();
        let result = match parsed {
            Ok(s) => ctx.dir().put_settings(&admin, s, version).await.map(|_| ()),
            Err(e) => Err(rolecall_core::Error::invalid("settings", "type", e.to_string()).into()),
        };
        match result {
            Ok(()) => Ok(done("/console/settings", "Settings saved.")),
            Err(e) => match Errors::from_error(&e) {
                Some(errors) => {
                    let mut res = settings_page(&ctx, &posted, version.unwrap_or(0), &errors);
                    *res.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
                    Ok(res)
                }
                None => Err(ConsoleError::from(e)),
            },
        }
    }
    .await;
    or_error(&ctx, r)
}

// ------------------------------------------------------------------ sign-in events

pub(crate) fn events_table(events: &[AuthEvent]) -> Markup {
    html! {
        @if events.is_empty() { (view::empty("No events.")) } @else {
            div.table-wrap { table.list.stack {
                thead { tr { th scope="col" { "When" } th scope="col" { "Event" } th scope="col" { "User" } th scope="col" { "From" } th scope="col" { "Detail" } } }
                tbody { @for e in events { tr {
                    td { (date(Some(e.at))) }
                    td { (e.kind.replace('_', " ")) }
                    td { @if let Some(u) = &e.user_id { a href={ "/console/users/" (u) } { "user" } } }
                    td { (e.source_ip) }
                    td { (e.detail) }
                } } }
            } }
        }
    }
}

async fn events(ctx: Ctx) -> Response {
    let r: Page = async {
        let admin = ctx.permit(Operation::ViewAuthEvents, Target::Organization)?;
        let list = ctx.dir().auth_events(&admin.org, None, 200).await?;
        Ok(view::page(
            &ctx,
            "Sign-in events",
            Section::Events,
            html! { p.muted { "The latest 200, newest first." } (events_table(&list)) },
        ))
    }
    .await;
    or_error(&ctx, r)
}
