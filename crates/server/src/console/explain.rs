//! The explain box: pick a user, application, resource (searchable by title through a native
//! datalist, no script needed), action and scope; see allow or deny and the role — held
//! directly, through which group or which profile — that decided it. It asks the same check
//! applications ask (`Directory::check`) under the same permission (`Operation::Check`).

use super::admins::user_by_login;
use super::view::{self, Section};
use super::{or_error, Ctx, Page};
use crate::http::AppState;
use axum::extract::Query;
use axum::response::Response;
use axum::routing::get;
use axum::Router;
use maud::html;
use rolecall_core::admin::{Operation, Target};
use rolecall_core::authz::{Decision, Explanation};
use serde::Deserialize;

pub(super) fn router() -> Router<AppState> {
    Router::new().route("/console/explain", get(explain))
}

#[derive(Debug, Default, Deserialize)]
struct ExplainQuery {
    #[serde(default)]
    user: String,
    #[serde(default)]
    app: String,
    #[serde(default)]
    resource: String,
    #[serde(default)]
    action: String,
    #[serde(default)]
    scope: String,
}

async fn explain(ctx: Ctx, Query(q): Query<ExplainQuery>) -> Response {
    let r: Page = async {
        let admin = ctx.permit(Operation::Check, Target::Organization)?;
        let dir = ctx.dir();
        let catalogue = dir.catalogue();
        let app = if q.app.is_empty() { catalogue.apps.first().map(|a| a.key().to_string()).unwrap_or_default() } else { q.app.clone() };
        let tree = catalogue.require("app", &app)?.clone();
        let scopes = dir.list_scopes(&admin.org, &app).await?;
        // Only when the form was filled in: an answer, or the reason it could not be asked.
        let answer: Option<Result<(rolecall_core::model::User, Explanation), String>> = if q.user.trim().is_empty() || q.resource.trim().is_empty() {
            None
        } else {
            Some(match user_by_login(&ctx, &q.user, "user").await {
                Err(_) => Err(format!("There is no user {:?}.", q.user.trim())),
                Ok(u) => {
                    let action = Some(q.action.trim()).filter(|a| !a.is_empty());
                    let scope = Some(q.scope.trim()).filter(|s| !s.is_empty());
                    match dir.check(&admin.org, u.id, &app, q.resource.trim(), action, scope).await {
                        Ok(e) => Ok((u, e)),
                        Err(e) => Err(crate::http::problem::ApiError::from(e).detail),
                    }
                }
            })
        };
        let body = html! {
            p.muted { "Ask the question applications ask: may this user do this? The answer names the role, and the group or profile it came through." }
            form.explain method="get" action="/console/explain" {
                div.row {
                    div.field { label for="f-user" { "User (e-mail or username)" } input #f-user name="user" value=(q.user) required autocomplete="off"; }
                    div.field { label for="f-app" { "Application" }
                        select #f-app name="app" { @for a in &catalogue.apps { option value=(a.key()) selected[a.key() == app] { (a.def.name) } } }
                    }
                }
                div.row {
                    div.field {
                        label for="f-resource" { "Resource" }
                        p.hint #f-resource-hint { "Type part of a title, e.g. Orders, and pick from the list." }
                        input #f-resource name="resource" list="resources" value=(q.resource) required autocomplete="off" aria-describedby="f-resource-hint";
                        datalist #resources { @for n in &tree.resources { option value=(n.id) { (n.title) } } }
                    }
                    @if !tree.def.actions.is_empty() {
                        div.field { label for="f-action" { "Action" }
                            select #f-action name="action" {
                                option value="" { "any use" }
                                @for a in &tree.def.actions { option value=(a) selected[q.action == *a] { (a) } }
                            }
                        }
                    }
                    div.field { label for="f-scope" { "Scope" }
                        select #f-scope name="scope" { @for s in &scopes { option value=(s.code.as_str()) selected[q.scope == s.code.as_str()] { (s.name) " (" (s.kind) ")" } } }
                    }
                }
                p.hint { "After changing the application, press Explain to refresh the resource and scope lists." }
                div.actions { button.primary type="submit" { "Explain" } }
            }
            @match &answer {
                None => {}
                Some(Err(msg)) => { div.notice.error role="alert" { p { (msg) } } }
                Some(Ok((u, e))) => {
                    @let allow = e.decision == Decision::Allow;
                    section.verdict.allow[allow].deny[!allow] role="status" aria-live="polite" {
                        strong { @if allow { "Allowed" } @else { "Denied" } } " — " (e.message)
                    }
                    @if !e.roles.is_empty() {
                        table.list {
                            caption { @if allow { "Roles that grant it to " } @else { "Roles that grant it elsewhere to " } (view::display_name(u)) }
                            thead { tr { th scope="col" { "Role" } th scope="col" { "Held" } th scope="col" { "Profile" } th scope="col" { "Scopes" } } }
                            tbody { @for m in &e.roles { tr {
                                td { a href={ "/console/roles/" (m.role_id) } { (m.role_name) } }
                                td { (super::users::via(&m.via, m.group_name.as_deref())) }
                                td { @if let (Some(id), Some(name)) = (&m.profile_id, &m.profile_name) { a href={ "/console/profiles/" (id) } { (name) } } }
                                td { @if m.scopes.is_empty() { "everywhere" } @else { (m.scopes.join(", ")) } }
                            } } }
                        }
                    }
                }
            }
        };
        Ok(view::page(&ctx, "Explain access", Section::Explain, body))
    }
    .await;
    or_error(&ctx, r)
}
