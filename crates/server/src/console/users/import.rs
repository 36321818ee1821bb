//! Bulk import and export in the console (issue 12): upload a CSV in the Admin Console template
//! or rolecall's plain one (told apart by the header, as over the API), "Check" for a dry run
//! that shows every row's result and writes nothing, "Import" to apply it; and download links
//! for both export templates.
//!
//! The upload is a multipart form. Its small fields come first (CSRF token, mode, options,
//! password) and are checked before a byte of the file is acted on; the file is then streamed
//! chunk by chunk into the same reader and the same `Directory::import_users` as
//! `POST …/users/import`, so memory stays flat and every rule holds row by row. A file cannot
//! ride through the re-verification dialog, so the password is a field of the form itself.

use super::super::form::{self, Posted, REVERIFY_FIELD};
use super::super::view::{self, csrf, Section};
use super::super::{or_error, ConsoleError, Ctx, Page};
use crate::directory::bulk::{read_rows, ImportMode, ImportOptions, ImportReport, RowResult};
use crate::directory::bulk_export::ExportTemplate;
use crate::directory::credentials::CredentialDecision;
use crate::http::AppState;
use axum::extract::multipart::{Field, MultipartError, MultipartRejection};
use axum::extract::{DefaultBodyLimit, Multipart, Query};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use axum::routing::get;
use axum::Router;
use maud::{html, Markup};
use rolecall_core::admin::{Operation, Target};
use serde::Deserialize;

/// The largest upload the console takes: about 100,000 rows of the plain template, four times
/// the Admin Console's own 25,000-row limit. The file is streamed, so this bounds the time an
/// upload may take, not memory; larger files go through the API or the CLI, which stream
/// without a cap.
const UPLOAD_LIMIT: usize = 64 * 1024 * 1024;

/// The most a small field of the upload form may carry.
const FIELD_LIMIT: usize = 4096;

pub(super) fn router() -> Router<AppState> {
    Router::new()
        .route(
            "/console/users/import",
            get(page)
                .post(run)
                .layer(DefaultBodyLimit::max(UPLOAD_LIMIT)),
        )
        .route("/console/users/export", get(export))
}

/// A message beside the form: the field it belongs to and the text.
type Problem = Option<(&'static str, String)>;

fn import_form(ctx: &Ctx, form: Option<&Posted>, problem: &Problem) -> Markup {
    let v = |k: &str| form.map(|f| f.get(k).to_string()).unwrap_or_default();
    let mode = v("mode");
    let cred = v("credentials");
    let invitations = form.is_none_or(|f| f.get("invitations") == "1");
    let msg = |field: &str| {
        problem
            .as_ref()
            .filter(|(f, _)| *f == field)
            .map(|(_, m)| m.clone())
    };
    html! {
        h2 { "Import users" }
        p.muted { "A CSV file in the Adobe Admin Console bulk-upload template or rolecall's plain template (told apart by the header line), UTF-8, comma or semicolon separated. \u{201c}Check\u{201d} shows what each row would do and writes nothing." }
        form #import method="post" action="/console/users/import" enctype="multipart/form-data" {
            (csrf(&ctx.csrf))
            fieldset {
                legend { "When some rows have errors" }
                div.check { input #f-mode-all type="radio" name="mode" value="all_or_nothing" checked[mode != "valid_rows"];
                    label for="f-mode-all" { "Import nothing (all or nothing)" } }
                div.check { input #f-mode-valid type="radio" name="mode" value="valid_rows" checked[mode == "valid_rows"];
                    label for="f-mode-valid" { "Import the valid rows, report the others" } }
            }
            div.check { input #f-invitations type="checkbox" name="invitations" value="1" checked[invitations];
                label for="f-invitations" { "Send new users the \u{201c}Get started\u{201d} invitation" } }
            div.field {
                label for="f-credentials" { "API credentials of users the file removes or deactivates" }
                select #f-credentials name="credentials" {
                    option value="" selected[cred.is_empty()] { "Refuse such rows" }
                    option value="revoke" selected[cred == "revoke"] { "Revoke them" }
                    option value="keep" selected[cred == "keep"] { "Keep them" }
                }
            }
            @let pw = msg(REVERIFY_FIELD);
            div.field.invalid[pw.is_some()] {
                label for="f-reverify" { "Your password" }
                p.hint #f-reverify-hint { "Importing is sensitive: confirm it's you (not needed again for a few minutes)." }
                input #f-reverify type="password" name=(REVERIFY_FIELD) autocomplete="current-password" aria-describedby="f-reverify-hint"
                    aria-invalid=[pw.is_some().then_some("true")];
                @if let Some(m) = &pw { p.error-text { (m) } }
            }
            @let file = msg("file");
            div.field.invalid[file.is_some()] {
                label for="f-file" { "CSV file" span.req aria-hidden="true" { " *" } }
                input #f-file type="file" name="file" accept=".csv,text/csv" required aria-invalid=[file.is_some().then_some("true")];
                @if let Some(m) = &file { p.error-text #f-file-error { (m) } }
            }
            div.actions {
                button type="submit" formaction="/console/users/import?run=check" { "Check" }
                button.primary type="submit" formaction="/console/users/import?run=import" data-confirm="Import this file now?" { "Import" }
            }
        }
        h2 { "Export users" }
        p { a.button href="/console/users/export?template=plain" download { "Plain template (CSV)" } " "
            a.button href="/console/users/export?template=console" download { "Admin Console template (CSV)" } }
    }
}

fn import_page(ctx: &Ctx, body: Markup) -> Response {
    view::page(ctx, "Import and export users", Section::Users, body)
}

async fn page(ctx: Ctx) -> Response {
    let r: Page = async {
        ctx.permit(Operation::BulkAddUsers, Target::Organization)?;
        Ok(import_page(&ctx, import_form(&ctx, None, &None)))
    }
    .await;
    or_error(&ctx, r)
}

#[derive(Debug, Default, Deserialize)]
struct RunQuery {
    #[serde(default)]
    run: String,
}

fn too_large() -> ConsoleError {
    ConsoleError::Status(
        StatusCode::PAYLOAD_TOO_LARGE,
        "The upload is larger than the console accepts; use the API or the CLI for it.".into(),
    )
}

/// A broken upload: too large, malformed, or stalled past the body read timeout.
fn upload_error(e: MultipartError) -> ConsoleError {
    if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
        return too_large();
    }
    ConsoleError::Status(
        StatusCode::BAD_REQUEST,
        "The upload could not be read.".into(),
    )
}

fn stalled() -> ConsoleError {
    ConsoleError::Status(
        StatusCode::REQUEST_TIMEOUT,
        "The upload stalled; try again.".into(),
    )
}

/// Waits for the next part of the upload, at most the body read timeout.
async fn within<T>(
    deadline: std::time::Duration,
    f: impl std::future::Future<Output = Result<T, MultipartError>>,
) -> Result<T, ConsoleError> {
    match tokio::time::timeout(deadline, f).await {
        Ok(r) => r.map_err(upload_error),
        Err(_) => Err(stalled()),
    }
}

/// A small field's text, refused when longer than a form field can be.
async fn small_field(
    field: &mut Field<'_>,
    deadline: std::time::Duration,
) -> Result<String, ConsoleError> {
    let mut buf = Vec::new();
    while let Some(chunk) = within(deadline, field.chunk()).await? {
        buf.extend_from_slice(&chunk);
        if buf.len() > FIELD_LIMIT {
            return Err(too_large());
        }
    }
    String::from_utf8(buf).map_err(|_| {
        ConsoleError::Status(
            StatusCode::BAD_REQUEST,
            "The form could not be read.".into(),
        )
    })
}

/// "Check" (dry run) or "Import": see the module documentation.
async fn run(
    ctx: Ctx,
    Query(q): Query<RunQuery>,
    headers: HeaderMap,
    multipart: Result<Multipart, MultipartRejection>,
) -> Response {
    let r: Page = async {
        // Anything but our own multipart form is a forgery.
        let mut mp = multipart.map_err(|_| ConsoleError::Csrf)?;
        let dry_run = match q.run.as_str() {
            "check" => true,
            "import" => false,
            _ => {
                return Err(ConsoleError::Status(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    "Choose Check or Import.".into(),
                ))
            }
        };
        let action = format!("/console/users/import?run={}", q.run);
        let mut fields: Vec<(String, String)> = Vec::new();
        loop {
            let next = within(ctx.state.body_timeout, mp.next_field()).await?;
            let Some(mut field) = next else {
                // No file part: still only an answer to a form of ours.
                let posted = form::checked(&headers, action, fields)?;
                ctx.permit(Operation::BulkAddUsers, Target::Organization)?;
                let problem = Some(("file", "Choose a CSV file.".to_string()));
                return Ok(unprocessable(import_page(
                    &ctx,
                    import_form(&ctx, Some(&posted), &problem),
                )));
            };
            let name = field.name().unwrap_or("").to_string();
            if name != "file" {
                if fields.len() >= 32 {
                    return Err(too_large());
                }
                let text = small_field(&mut field, ctx.state.body_timeout).await?;
                fields.push((name, text));
                continue;
            }
            // The token and the rights before the file is read.
            let posted = form::checked(&headers, action, fields)?;
            let admin = match ctx
                .permit_sensitive(Operation::BulkAddUsers, Target::Organization, &posted)
                .await
            {
                Ok(a) => a,
                Err(ConsoleError::Reverify { wrong, .. }) => {
                    while let Ok(Some(_)) = within(ctx.state.body_timeout, field.chunk()).await {}
                    let text = if wrong {
                        "The password is wrong."
                    } else {
                        "Enter your password to continue."
                    };
                    let mut res = import_page(
                        &ctx,
                        import_form(&ctx, Some(&posted), &Some((REVERIFY_FIELD, text.into()))),
                    );
                    *res.status_mut() = if wrong {
                        StatusCode::FORBIDDEN
                    } else {
                        StatusCode::OK
                    };
                    return Ok(res);
                }
                Err(e) => return Err(e),
            };
            let options = options_of(&posted, dry_run)?;
            let (tx, reader) = crate::http::bulk::chunk_reader();
            let rows = read_rows(reader);
            let deadline = ctx.state.body_timeout;
            let feed = async move {
                let mut wait = crate::http::bulk::UploadWait::new(deadline);
                loop {
                    let next = match wait.within(field.chunk()).await {
                        Some(Ok(Some(b))) => Ok(b),
                        Some(Ok(None)) => break,
                        Some(Err(e)) => Err(std::io::Error::other(e.to_string())),
                        None => Err(crate::http::bulk::UploadWait::stalled()),
                    };
                    let failed = next.is_err();
                    if tx.send(next).await.is_err() || failed {
                        break;
                    }
                }
            };
            let (_, report) = tokio::join!(
                feed,
                ctx.dir().import_users(&admin, rows, options, &ctx.client)
            );
            return match report {
                Ok(report) => {
                    let view = tokio::task::spawn_blocking(move || report_view(&report))
                        .await
                        .map_err(|e| crate::error::Error::Internal(e.to_string()))??;
                    Ok(import_page(
                        &ctx,
                        html! { (view) (import_form(&ctx, Some(&posted), &None)) },
                    ))
                }
                Err(e) => match view::Errors::from_error(&e) {
                    Some(errors) => {
                        let text = errors
                            .0
                            .iter()
                            .map(|e| e.message.clone())
                            .collect::<Vec<_>>()
                            .join(" ");
                        Ok(unprocessable(import_page(
                            &ctx,
                            import_form(&ctx, Some(&posted), &Some(("file", text))),
                        )))
                    }
                    None => Err(e.into()),
                },
            };
        }
    }
    .await;
    or_error(&ctx, r)
}

fn unprocessable(mut res: Response) -> Response {
    *res.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
    res
}

fn options_of(form: &Posted, dry_run: bool) -> Result<ImportOptions, ConsoleError> {
    let mode = match form.get("mode") {
        "" | "all_or_nothing" => ImportMode::AllOrNothing,
        "valid_rows" => ImportMode::ValidRows,
        _ => {
            return Err(rolecall_core::Error::invalid(
                "mode",
                "enum",
                "choose all or nothing or valid rows",
            )
            .into())
        }
    };
    let credentials = match form.get("credentials") {
        "" => None,
        "revoke" => Some(CredentialDecision::Revoke),
        "keep" => Some(CredentialDecision::Keep),
        _ => {
            return Err(rolecall_core::Error::invalid(
                "credentials",
                "enum",
                "choose revoke or keep",
            )
            .into())
        }
    };
    Ok(ImportOptions {
        dry_run,
        mode,
        no_invitations: form.get("invitations") != "1",
        credentials,
        row_by_row: false,
    })
}

fn result_label(r: RowResult) -> &'static str {
    match r {
        RowResult::Created => "created",
        RowResult::Updated => "updated",
        RowResult::Removed => "removed",
        RowResult::Unchanged => "unchanged",
        RowResult::Error => "error",
    }
}

/// Rows the console's report shows at most: a page of 100,000 rows helps nobody, so a longer
/// report shows its rows with problems (the first of them); the API gives the whole report.
const SHOWN_ROWS: u64 = 1000;

/// The per-row report: what each row did (or would do), and every problem with its line and
/// column. Reads the report's spool file: build it where blocking is allowed.
fn report_view(r: &ImportReport) -> Result<Markup, ConsoleError> {
    let s = &r.summary;
    let headline = if r.dry_run {
        "Check only: nothing was written."
    } else if r.committed {
        "Imported."
    } else {
        "Nothing was written: the file has errors and the import is all or nothing."
    };
    let only_problems = s.rows > SHOWN_ROWS;
    let mut shown = Vec::new();
    for row in r.rows.read() {
        let row =
            row.map_err(|e| crate::error::Error::Internal(format!("the import's report: {e}")))?;
        if only_problems && row.errors.is_empty() {
            continue;
        }
        shown.push(row);
        if shown.len() as u64 == SHOWN_ROWS {
            break;
        }
    }
    let left_out = if only_problems {
        s.rows - shown.len() as u64
    } else {
        0
    };
    Ok(html! {
        div #import-result .notice .ok[r.committed] .error[!r.committed && !r.dry_run] role="status" {
            p { strong { (headline) } " " (s.rows) " row(s): " (s.created) " created, " (s.updated) " updated, "
                (s.removed) " removed, " (s.unchanged) " unchanged, " (s.errors) " with errors." }
            p.muted { "Template: " (r.template) " · " (r.bytes) " bytes · SHA-256 " code { (r.sha256) } }
        }
        @if left_out > 0 {
            p #import-rows-left-out .muted { "Shown: " (shown.len()) " row(s) with problems; " (left_out)
                " other row(s) are not listed here. The API's import (POST …/users/import) answers every row." }
        }
        div.table-wrap { table.list.stack #import-rows {
            caption.sr-only { "Result per row" }
            thead { tr { th scope="col" { "Line" } th scope="col" { "E-mail" } th scope="col" { "Result" } th scope="col" { "Problems" } } }
            tbody { @for row in &shown { tr {
                td { (row.line) } td { (row.email) }
                td { span class={ "badge result-" (result_label(row.result)) } { (result_label(row.result)) } }
                td { @for e in &row.errors { div.error-text {
                    "line " (e.line) @if let Some(c) = &e.column { ", column " (c) } ": " (e.reason) " " span.muted { "(" (e.rule) ")" }
                } } }
            } } }
        } }
    })
}

// ------------------------------------------------------------------ export

#[derive(Debug, Default, Deserialize)]
struct ExportQuery {
    #[serde(default)]
    template: String,
}

/// Streams what `GET …/users/export` streams, for the console's cookie session.
async fn export(ctx: Ctx, Query(q): Query<ExportQuery>) -> Response {
    let r: Page = async {
        let admin = ctx.permit(Operation::BulkAddUsers, Target::Organization)?;
        let template = match q.template.as_str() {
            "" | "plain" => ExportTemplate::Plain,
            "console" => ExportTemplate::Console,
            _ => {
                return Err(rolecall_core::Error::invalid(
                    "template",
                    "enum",
                    "must be plain or console",
                )
                .into())
            }
        };
        Ok(crate::http::bulk::export_response(ctx.dir(), &admin.org, template).await?)
    }
    .await;
    or_error(&ctx, r)
}
