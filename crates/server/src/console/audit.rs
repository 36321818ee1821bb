//! The audit log viewer (issue 11's one hash-chained log): every change of state, newest first,
//! filtered by actor, target, action and time, paged by cursor, with each entry's field changes.
//! The user page's Activity tab shows the same entries about and by one person.

use super::view::{self, date, Section};
use super::{or_error, Ctx, Page};
use crate::directory::audit::EntryView;
use crate::http::AppState;
use crate::store::audit::Filter;
use axum::extract::Query;
use axum::response::Response;
use axum::routing::get;
use axum::Router;
use maud::{html, Markup};
use rolecall_core::admin::{Operation, Target};
use serde::Deserialize;
use serde_json::Value;

pub(super) fn router() -> Router<AppState> {
    Router::new().route("/console/audit", get(log))
}

#[derive(Debug, Default, Deserialize)]
struct LogQuery {
    #[serde(default)]
    actor: String,
    #[serde(default)]
    target: String,
    #[serde(default)]
    action: String,
    #[serde(default)]
    cursor: String,
}

/// A party as a link where the console has a page for it.
fn party(p: &rolecall_core::audit::Party) -> Markup {
    let name = if p.name.is_empty() {
        p.id.as_str()
    } else {
        p.name.as_str()
    };
    let href = match p.kind.as_str() {
        "user" | "person" => Some(format!("/console/users/{}", p.id)),
        "group" => Some(format!("/console/groups/{}", p.id)),
        "role" => Some(format!("/console/roles/{}", p.id)),
        "profile" => Some(format!("/console/profiles/{}", p.id)),
        _ => None,
    };
    html! {
        @match href {
            Some(h) if !p.id.is_empty() => { a href=(h) { (name) } }
            _ => { (name) }
        }
        " " span.muted { "(" (p.kind) ")" }
    }
}

fn short(v: &Value) -> String {
    let s = match v {
        Value::Null => "—".to_string(),
        Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    if s.chars().count() > 80 {
        format!("{}…", s.chars().take(80).collect::<String>())
    } else {
        s
    }
}

fn changes(v: &Value) -> Markup {
    html! {
        @if let Value::Object(map) = v {
            @if !map.is_empty() {
                ul.changes {
                    @for (field, change) in map {
                        li { code { (field) } ": " (short(&change["before"])) " → " (short(&change["after"])) }
                    }
                }
            }
        }
    }
}

/// Entries as a table (shared with the user page's Activity tab).
pub(crate) fn entries_table(items: &[EntryView]) -> Markup {
    html! {
        @if items.is_empty() { (view::empty("No entries.")) } @else {
            div.table-wrap { table.list.stack {
                caption.sr-only { "Audit log entries, newest first" }
                thead { tr { th scope="col" { "When" } th scope="col" { "Who" } th scope="col" { "What" } th scope="col" { "Target" } th scope="col" { "Changes" } th scope="col" { "From" } } }
                tbody { @for e in items { tr {
                    td { (date(Some(e.at))) br; span.muted { "#" (e.seq) } }
                    td { (party(&e.actor)) }
                    td { (e.action.replace('_', " ")) @if !e.detail.is_empty() { br; span.muted { (e.detail) } } }
                    td { (party(&e.target)) }
                    td { (changes(&e.changes)) }
                    td { (e.source_ip) }
                } } }
            } }
        }
    }
}

/// Entries about (`target`) or by (`actor`) one id, newest first.
pub(crate) async fn entries_of(
    ctx: &Ctx,
    id: &str,
    as_actor: bool,
    limit: i64,
) -> crate::error::Result<Vec<EntryView>> {
    let filter = if as_actor {
        Filter {
            actor: Some(id.to_string()),
            ..Default::default()
        }
    } else {
        Filter {
            target: Some(id.to_string()),
            ..Default::default()
        }
    };
    Ok(ctx
        .dir()
        .audit_log(&ctx.org, &filter, None, limit)
        .await?
        .items)
}

async fn log(ctx: Ctx, Query(q): Query<LogQuery>) -> Response {
    let r: Page = async {
        let admin = ctx.permit(Operation::ViewAuthEvents, Target::Organization)?;
        let trim = |s: &str| Some(s.trim().to_string()).filter(|s| !s.is_empty() && s.len() <= 200);
        let filter = Filter {
            actor: trim(&q.actor),
            target: trim(&q.target),
            actions: q.action.split(',').map(str::trim).filter(|a| !a.is_empty()).take(50).map(str::to_string).collect(),
            from: None,
            to: None,
        };
        let cursor = q.cursor.parse::<i64>().ok();
        let page = ctx.dir().audit_log(&admin.org, &filter, cursor, 50).await?;
        let next = page.next_cursor.as_ref().map(|c| {
            let keep = [("actor", &q.actor), ("target", &q.target), ("action", &q.action)];
            let mut qs: Vec<String> = keep.iter().filter(|(_, v)| !v.is_empty()).map(|(k, v)| format!("{k}={}", view::url_encode(v))).collect();
            qs.push(format!("cursor={}", view::url_encode(c)));
            format!("/console/audit?{}", qs.join("&"))
        });
        let body = html! {
            p.muted { "Every change of state in " (ctx.org.name.as_str()) ", newest first. Entries are hash-chained: " code { "rolecall audit verify" } " proves none was edited, removed or reordered. Chain head: " code { (page.head.seq) ":" (page.head.hash.chars().take(16).collect::<String>()) "…" } }
            form.toolbar method="get" action="/console/audit" role="search" {
                div.field { label for="f-actor" { "Actor id" } input #f-actor name="actor" value=(q.actor) autocomplete="off"; }
                div.field { label for="f-target" { "Target id" } input #f-target name="target" value=(q.target) autocomplete="off"; }
                div.field.grow { label for="f-action" { "Actions" } input #f-action name="action" value=(q.action) placeholder="e.g. user_deactivated,member_added" autocomplete="off"; }
                div.field { button type="submit" { "Filter" } }
            }
            (entries_table(&page.items))
            nav.pager aria-label="Pages" {
                @if cursor.is_some() { a href="/console/audit" { "← Newest" } } @else { span.muted { "← Newest" } }
                @if let Some(n) = next { a rel="next" href=(n) { "Older →" } } @else { span.muted { "Older →" } }
            }
        };
        Ok(view::page(&ctx, "Audit log", Section::Audit, body))
    }
    .await;
    or_error(&ctx, r)
}
