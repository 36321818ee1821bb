//! Bulk user files over HTTP (issue 12): `POST …/users/import` takes the CSV as a `text/csv`
//! body, streamed into the import (never held whole), and answers the per-row report as JSON
//! or, with `Accept: text/csv`, as CSV; `GET …/users/export` streams either template.

use super::audit::csv_cell;
use super::extract::{ApiQuery, Client, Reverify};
use super::problem::ApiError;
use super::{permit_sensitive, ApiResult, AppState};
use crate::auth::Caller;
use crate::directory::bulk::{read_rows, ImportMode, ImportOptions, ImportReport};
use crate::directory::bulk_export::ExportTemplate;
use crate::directory::credentials::CredentialDecision;
use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use futures_util::StreamExt;
use rolecall_core::admin::{Operation, Target};
use serde::Deserialize;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(import_users))
        .routes(routes!(export_users))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ImportQuery {
    /// Report what would happen, row by row, and write nothing.
    dry_run: Option<bool>,
    /// `all_or_nothing` (default: any row error and nothing is written) or `valid_rows`
    /// (apply the rows without errors, report the others).
    mode: Option<ImportMode>,
    /// `false`: new users are added as active and told nothing, instead of being sent the
    /// "Get started" invitation (default `true`).
    invitations: Option<bool>,
    /// For removed or deactivated users who created API credentials: `revoke` or `keep` them
    /// (required when such a user is in the file; the row fails otherwise).
    credentials: Option<CredentialDecision>,
}

/// Hands the request body to the blocking CSV reader chunk by chunk: a `Read` over a bounded
/// channel, so the file is never held and a slow reader slows the upload down.
pub(crate) struct BodyReader {
    rx: tokio::sync::mpsc::Receiver<std::io::Result<axum::body::Bytes>>,
    chunk: axum::body::Bytes,
}

impl std::io::Read for BodyReader {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        while self.chunk.is_empty() {
            match self.rx.blocking_recv() {
                Some(Ok(b)) => self.chunk = b,
                Some(Err(e)) => return Err(e),
                None => return Ok(0),
            }
        }
        let n = buf.len().min(self.chunk.len());
        buf[..n].copy_from_slice(&self.chunk[..n]);
        self.chunk = self.chunk.slice(n..);
        Ok(n)
    }
}

/// Forwards the body's chunks while the upload keeps within its [`UploadWait`] (and the import
/// writes nothing when it does not).
fn stream_body(body: Body, deadline: std::time::Duration) -> BodyReader {
    let (tx, reader) = chunk_reader();
    tokio::spawn(async move {
        let mut stream = body.into_data_stream();
        let mut wait = UploadWait::new(deadline);
        loop {
            let next = match wait.within(stream.next()).await {
                Some(Some(Ok(b))) => Ok(b),
                Some(Some(Err(e))) => Err(std::io::Error::other(e.to_string())),
                Some(None) => break,
                None => Err(UploadWait::stalled()),
            };
            let failed = next.is_err();
            if tx.send(next).await.is_err() || failed {
                break;
            }
        }
    });
    reader
}

/// How long an upload may keep its import waiting on the network, in all chunks together.
/// An import holds its write transaction while it reads (on SQLite, the one writer every
/// organisation shares), so a client sending a byte now and then must not hold it longer than
/// `body_read_timeout` allows any body. Time spent while the import works through rows already
/// received is not charged: only waits for the network are.
pub(crate) struct UploadWait {
    left: std::time::Duration,
}

impl UploadWait {
    pub(crate) fn new(budget: std::time::Duration) -> UploadWait {
        UploadWait { left: budget }
    }

    /// `next` if it arrives within what is left of the budget (a chunk already there always
    /// does), charging the time waited; `None` once the budget is spent.
    pub(crate) async fn within<T>(
        &mut self,
        next: impl std::future::Future<Output = T>,
    ) -> Option<T> {
        let started = tokio::time::Instant::now();
        let got = tokio::time::timeout(self.left, next).await.ok();
        self.left = self.left.saturating_sub(started.elapsed());
        got
    }

    pub(crate) fn stalled() -> std::io::Error {
        std::io::Error::new(std::io::ErrorKind::TimedOut, "the upload stalled")
    }
}

/// A reader fed chunk by chunk through the returned sender (at most a few chunks ahead); the
/// console feeds it from an uploaded file's multipart field.
pub(crate) fn chunk_reader() -> (
    tokio::sync::mpsc::Sender<std::io::Result<axum::body::Bytes>>,
    BodyReader,
) {
    let (tx, rx) = tokio::sync::mpsc::channel(8);
    (
        tx,
        BodyReader {
            rx,
            chunk: axum::body::Bytes::new(),
        },
    )
}

fn wants_csv(headers: &HeaderMap) -> bool {
    headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|a| a.contains("text/csv"))
}

/// The report as CSV: one line per problem, or one per row without problems. Every cell goes
/// through [`csv_cell`] and so through the spreadsheet formula guard the exports use
/// ([`rolecall_bulk::formula::escape`]): the e-mail and the reasons echo the uploaded file,
/// and the report is opened in a spreadsheet by the administrator who uploaded it.
fn write_report_csv(r: &ImportReport, out: &mut impl std::io::Write) -> std::io::Result<()> {
    out.write_all(b"line,email,result,column,rule,reason\r\n")?;
    let mut text = String::new();
    for row in r.rows.read() {
        let row = row?;
        let result = serde_json::to_value(row.result)
            .ok()
            .and_then(|v| v.as_str().map(str::to_string))
            .unwrap_or_default();
        let lines: Vec<(u64, &str, &str, &str)> = if row.errors.is_empty() {
            vec![(row.line, "", "", "")]
        } else {
            row.errors
                .iter()
                .map(|e| {
                    (
                        e.line,
                        e.column.as_deref().unwrap_or(""),
                        e.rule.as_str(),
                        e.reason.as_str(),
                    )
                })
                .collect()
        };
        text.clear();
        for (line, column, rule, reason) in lines {
            text.push_str(&line.to_string());
            for v in [row.email.as_str(), &result, column, rule, reason] {
                text.push(',');
                csv_cell(&mut text, v);
            }
            text.push_str("\r\n");
        }
        out.write_all(text.as_bytes())?;
    }
    Ok(())
}

/// What a streamed report is cut into.
const REPORT_CHUNK: usize = 64 * 1024;

/// Bytes written on a blocking thread, sent to the response a chunk at a time.
struct Chunks {
    tx: tokio::sync::mpsc::Sender<std::io::Result<axum::body::Bytes>>,
    buf: Vec<u8>,
}

impl Chunks {
    fn send(&mut self) -> std::io::Result<()> {
        let chunk = std::mem::replace(&mut self.buf, Vec::with_capacity(REPORT_CHUNK));
        self.tx
            .blocking_send(Ok(chunk.into()))
            .map_err(|_| std::io::Error::new(std::io::ErrorKind::BrokenPipe, "the client left"))
    }
}

impl std::io::Write for Chunks {
    fn write(&mut self, data: &[u8]) -> std::io::Result<usize> {
        self.buf.extend_from_slice(data);
        if self.buf.len() >= REPORT_CHUNK {
            self.send()?;
        }
        Ok(data.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        if self.buf.is_empty() {
            return Ok(());
        }
        self.send()
    }
}

/// The report as a response body, written on a blocking thread (it reads the report's spool
/// file) and streamed, so a report of any length is never held whole (issue 12).
pub(crate) fn report_body(report: ImportReport, csv: bool) -> Body {
    let (tx, mut rx) = tokio::sync::mpsc::channel(4);
    tokio::task::spawn_blocking(move || {
        let mut out = Chunks {
            tx: tx.clone(),
            buf: Vec::with_capacity(REPORT_CHUNK),
        };
        let written = if csv {
            write_report_csv(&report, &mut out)
        } else {
            // `ReportRows` serialises row by row from its spool file, so this never holds
            // more of the answer than a chunk.
            serde_json::to_writer(&mut out, &report).map_err(std::io::Error::from)
        };
        if let Err(e) = written.and_then(|()| std::io::Write::flush(&mut out)) {
            if e.kind() != std::io::ErrorKind::BrokenPipe {
                // Headers are gone: cutting the body is how the client learns it is incomplete.
                tracing::warn!(error = %e, "an import's report broke off");
                let _ = tx.blocking_send(Err(std::io::Error::other("the report broke off")));
            }
        }
    });
    Body::from_stream(futures_util::stream::poll_fn(move |cx| rx.poll_recv(cx)))
}

/// Imports users from a CSV file in the Adobe Admin Console bulk-upload template or rolecall's
/// plain template (told apart by the header). Every row is applied through the same rules as
/// a single change (one role per user, seat quotas, owner and last-administrator rails, the
/// rights rule) inside one transaction; `dry_run` reports and writes nothing. A sensitive
/// change: System admins only, with identity re-verification.
#[utoipa::path(post, path = "/api/v1/organizations/{org}/users/import", tag = "users",
    params(("org" = String, Path), ImportQuery, Reverify),
    request_body(content = String, content_type = "text/csv", description = "The file, UTF-8 (with or without BOM), `,` or `;` separated, CRLF or LF"),
    responses(
        (status = 200, body = ImportReport, content_type = "application/json", description = "The per-row report; `committed` says whether anything was written"),
        (status = 200, body = String, content_type = "text/csv", description = "With `Accept: text/csv`: the report as CSV (`line,email,result,column,rule,reason`, one line per problem)", headers(("x-rolecall-import-sha256" = String, description = "SHA-256 of the file"), ("x-rolecall-import-committed" = String, description = "`true` when the changes were written"))),
        (status = 401, body = super::problem::Problem, content_type = "application/problem+json", description = "No or unknown credentials"),
        (status = 403, body = super::problem::Problem, content_type = "application/problem+json", description = "Only System admins import users; `reverification_required` when the password must be re-entered (X-Rolecall-Password)"),
        (status = 404, body = super::problem::Problem, content_type = "application/problem+json", description = "No such organization"),
        (status = 415, body = super::problem::Problem, content_type = "application/problem+json", description = "The body is not `text/csv`"),
        (status = 422, body = super::problem::Problem, content_type = "application/problem+json", description = "A query parameter is invalid, or the file as a whole is refused (field `file`: empty, not CSV, not UTF-8, unknown or missing columns)"),
        (status = 429, body = super::problem::Problem, content_type = "application/problem+json", description = "Too many password attempts from this address"),
    ))]
async fn import_users(
    State(s): State<AppState>,
    caller: Caller,
    Client(client): Client,
    Reverify(pw): Reverify,
    Path(org): Path<String>,
    ApiQuery(q): ApiQuery<ImportQuery>,
    headers: HeaderMap,
    body: Body,
) -> ApiResult<Response> {
    let admin = permit_sensitive(
        &s,
        &caller,
        &org,
        Operation::BulkAddUsers,
        Target::Organization,
        pw.as_deref(),
        &client,
    )
    .await?;
    let csv_body = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|c| {
            c.split(';')
                .next()
                .is_some_and(|m| m.trim().eq_ignore_ascii_case("text/csv"))
        });
    if !csv_body {
        return Err(ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
            "send the file as the body with Content-Type: text/csv",
        ));
    }
    let options = ImportOptions {
        dry_run: q.dry_run.unwrap_or(false),
        mode: q.mode.unwrap_or_default(),
        no_invitations: !q.invitations.unwrap_or(true),
        credentials: q.credentials,
        row_by_row: false,
    };
    let rows = read_rows(stream_body(body, s.body_timeout));
    let report = s.dir.import_users(&admin, rows, options, &client).await?;
    let csv = wants_csv(&headers);
    let sha256 = HeaderValue::from_str(&report.sha256).ok();
    let committed = report.committed;
    let mut res = report_body(report, csv).into_response();
    let h = res.headers_mut();
    if csv {
        h.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("text/csv; charset=utf-8"),
        );
        if let Some(v) = sha256 {
            h.insert("x-rolecall-import-sha256", v);
        }
        h.insert(
            "x-rolecall-import-committed",
            HeaderValue::from_static(if committed { "true" } else { "false" }),
        );
    } else {
        h.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        );
    }
    Ok(res)
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ExportQuery {
    /// `plain` (default: rolecall's template, every field) or `console` (the Adobe Admin
    /// Console bulk-upload template).
    #[param(inline)]
    template: Option<ExportTemplate>,
}

/// Exports the organisation's people as CSV in either template, streamed page by page from
/// one consistent read. Importing the file into an organisation with the same groups, roles
/// and profiles, then exporting again, gives the same bytes. System admins only.
#[utoipa::path(get, path = "/api/v1/organizations/{org}/users/export", tag = "users",
    params(("org" = String, Path), ExportQuery),
    responses(
        (status = 200, body = String, content_type = "text/csv", description = "The file: header line, then one row per person ordered by e-mail, CRLF line endings"),
        (status = 401, body = super::problem::Problem, content_type = "application/problem+json", description = "No or unknown credentials"),
        (status = 403, body = super::problem::Problem, content_type = "application/problem+json", description = "Only System admins export users"),
        (status = 404, body = super::problem::Problem, content_type = "application/problem+json", description = "No such organization"),
        (status = 409, body = super::problem::Problem, content_type = "application/problem+json", description = "`unexportable`: a row the template cannot spell (a `,` in a name, in the console template); use the plain template"),
        (status = 422, body = super::problem::Problem, content_type = "application/problem+json", description = "Unknown template"),
    ))]
async fn export_users(
    State(s): State<AppState>,
    caller: Caller,
    Path(org): Path<String>,
    ApiQuery(q): ApiQuery<ExportQuery>,
) -> ApiResult<Response> {
    let admin = super::permit(
        &s,
        &caller,
        &org,
        Operation::BulkAddUsers,
        Target::Organization,
    )
    .await?;
    let template = q.template.unwrap_or(ExportTemplate::Plain);
    Ok(export_response(&s.dir, &admin.org, template).await?)
}

/// The export as a streamed CSV download, for the API and the console's download links.
pub(crate) async fn export_response(
    dir: &crate::directory::Directory,
    org: &rolecall_core::model::Organization,
    template: ExportTemplate,
) -> crate::error::Result<Response> {
    let mut exporter = dir.export_users(org, template).await?;
    // The first page before answering, so a refusal is a proper problem, not a cut body.
    let first = exporter.next_page().await?.unwrap_or_default();
    let rest = futures_util::stream::unfold(Some(exporter), |state| async move {
        let mut e = state?;
        match e.next_page().await {
            Ok(Some(page)) => Some((Ok::<_, std::io::Error>(page), Some(e))),
            Ok(None) => None,
            Err(err) => {
                // Headers are gone: cutting the body is how the client learns it is incomplete.
                tracing::warn!(error = %err, "export broke off");
                Some((Err(std::io::Error::other("export failed")), None))
            }
        }
    });
    let body = futures_util::stream::once(async move { Ok(first) }).chain(rest);
    let name = match template {
        ExportTemplate::Plain => "attachment; filename=\"users-plain.csv\"",
        ExportTemplate::Console => "attachment; filename=\"users-console.csv\"",
    };
    let mut res = Body::from_stream(body).into_response();
    let h = res.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/csv; charset=utf-8"),
    );
    h.insert(header::CONTENT_DISPOSITION, HeaderValue::from_static(name));
    Ok(res)
}
