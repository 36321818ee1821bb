//! SCIM clients in the console (issue 14): the list with last use, "New SCIM client" (its bearer
//! token shown once, in the answer to the form and nowhere else), and revoke.
//!
//! The same `Directory` use cases and the same gate as `…/scim-clients` over the API: managing
//! them is a System admin's decision (`manage_credentials`), creating one needs
//! re-verification, revoking does not (it only takes access away).

use super::form::Posted;
use super::view::{self, csrf, date, Errors, Field, Section};
use super::{done, or_error, Ctx, Page};
use crate::directory::scim_clients::NewScimClient;
use crate::directory::scim_clients::ScimClient;
use crate::http::AppState;
use axum::extract::Path;
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::{get, post};
use axum::Router;
use maud::{html, Markup};
use rolecall_core::admin::{Operation, Target};

pub(super) fn router() -> Router<AppState> {
    Router::new()
        .route("/console/scim", get(list).post(create))
        .route("/console/scim/{id}/revoke", post(revoke))
}

fn table(ctx: &Ctx, list: &[ScimClient]) -> Markup {
    html! {
        p.muted { "An identity provider (Microsoft Entra ID, Okta…) provisions people and groups into rolecall at "
            code { "/scim/v2" } " with a SCIM client's token. It never touches roles, profiles or admin rights." }
        @if list.is_empty() { (view::empty("No SCIM clients.")) } @else {
            div.table-wrap { table.list.stack #scim-clients {
                thead { tr { th scope="col" { "Name" } th scope="col" { "Created by" } th scope="col" { "Created" } th scope="col" { "Last used" } th scope="col" { "Status" } th scope="col" { span.sr-only { "Actions" } } } }
                tbody { @for c in list { tr {
                    td { strong { (c.name) } @if !c.description.is_empty() { br; span.muted { (c.description) } } }
                    td { (c.created_by) }
                    td { (date(Some(c.created_at))) }
                    td { (date(c.last_used_at)) }
                    td { @if c.revoked_at.is_some() { span.badge.inactive { "revoked" } } @else { span.badge.active { "live" } } }
                    td { @if c.revoked_at.is_none() {
                        (view::action_button(&ctx.csrf, &format!("/console/scim/{}/revoke", c.id), "Revoke", true, Some("Revoke this SCIM client? The identity provider stops provisioning at once; what it provisioned stays.")))
                    } }
                } } }
            } }
        }
    }
}

fn new_form(ctx: &Ctx, form: Option<&Posted>, errors: &Errors) -> Markup {
    let v = |k: &str| form.map(|f| f.get(k).to_string()).unwrap_or_default();
    html! {
        h2 { "New SCIM client" }
        (view::error_summary(errors, &["name", "description"]))
        form method="post" action="/console/scim" novalidate {
            (csrf(&ctx.csrf))
            (Field::text("name", "Name", &v("name")).required().max(32).hint("e.g. entra or okta: letters, digits, dot, underscore and dash; unique.").render(errors))
            (Field::text("description", "Description", &v("description")).render(errors))
            div.actions { button.primary type="submit" { "Create SCIM client" } }
        }
    }
}

async fn list(ctx: Ctx) -> Response {
    let r: Page = async {
        let admin = ctx.permit(Operation::ManageCredentials, Target::Organization)?;
        let list = ctx.dir().scim_clients(&admin.org).await?;
        let body = html! { (table(&ctx, &list)) (new_form(&ctx, None, &Errors::default())) };
        Ok(view::page(&ctx, "SCIM clients", Section::Scim, body))
    }
    .await;
    or_error(&ctx, r)
}

async fn create(ctx: Ctx, form: Posted) -> Response {
    let r: Page = async {
        let admin = ctx
            .permit_sensitive(Operation::ManageCredentials, Target::Organization, &form)
            .await?;
        let input = NewScimClient {
            name: form.get("name").trim().to_string(),
            description: form.opt("description").map(str::to_string),
        };
        match ctx.dir().create_scim_client(&admin, input, &ctx.client).await {
            // The token is in this answer only: never in a URL, a flash cookie, a log or a later page.
            Ok((c, secret)) => Ok(view::page(&ctx, "SCIM client created", Section::Scim, html! {
                div.notice.warn role="status" { p { strong { "Copy the token now." } " It will not be shown again; rolecall keeps only its hash." } }
                dl.facts {
                    dt { "Name" } dd { (c.name) }
                    dt { "SCIM base URL" } dd { "this server's address followed by " code { "/scim/v2" } }
                    dt { "Token" } dd { code #scim-token { (secret) } }
                }
                p.muted { "Give the token to the identity provider as its \u{201c}Secret Token\u{201d} (Entra ID) or \u{201c}API token\u{201d} (Okta)." }
                p { a.button href="/console/scim" { "Done" } }
            })),
            Err(e) => match Errors::from_error(&e) {
                Some(errors) => {
                    let list = ctx.dir().scim_clients(&ctx.org).await?;
                    let mut res = view::page(&ctx, "SCIM clients", Section::Scim, html! { (table(&ctx, &list)) (new_form(&ctx, Some(&form), &errors)) });
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

async fn revoke(ctx: Ctx, Path(id): Path<String>, _form: Posted) -> Response {
    let r: Page = async {
        let admin = ctx.permit(Operation::ManageCredentials, Target::Organization)?;
        ctx.dir()
            .revoke_scim_client(&admin, &id, &ctx.client)
            .await?;
        Ok(done("/console/scim", "SCIM client revoked."))
    }
    .await;
    or_error(&ctx, r)
}
