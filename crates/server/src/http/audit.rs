//! The audit log over HTTP: browse with filters and cursor paging, export as JSON lines or CSV
//! (streamed, with the chain head), the head itself, verification and retention.

use super::extract::ApiQuery;
use super::problem::Problem;
use super::{permit, ApiResult, AppState};
use crate::auth::Caller;
use crate::directory::audit::{EntryView, LogPage, Pruned, Verification};
use crate::store::audit::{Filter, Head};
use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use rolecall_core::admin::{Operation, Target};
use rolecall_core::FieldError;
use serde::{Deserialize, Serialize};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list))
        .routes(routes!(export))
        .routes(routes!(head))
        .routes(routes!(verify))
        .routes(routes!(prune))
}

/// The header carrying the chain head (`<seq>:<hash>`) on exports and the head endpoint.
pub const HEAD_HEADER: &str = "x-rolecall-audit-head";

#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct LogQuery {
    /// Only entries by this actor (a user id, credential id or token name).
    actor: Option<String>,
    /// Only entries about this target (a user, group, role, profile, … id).
    target: Option<String>,
    /// Only these actions, comma-separated (e.g. `user_deactivated,user_deleted`).
    action: Option<String>,
    /// From this time (Unix ms, inclusive).
    from: Option<i64>,
    /// Before this time (Unix ms, exclusive).
    to: Option<i64>,
    /// `next_cursor` of the previous page.
    #[param(pattern = r"^-?[0-9]+$")]
    cursor: Option<String>,
    /// Entries per page (default 100).
    #[param(minimum = 1, maximum = 1000)]
    limit: Option<i64>,
}

impl LogQuery {
    fn filter(&self) -> ApiResult<Filter> {
        let mut errors = Vec::new();
        if let (Some(f), Some(t)) = (self.from, self.to) {
            if f >= t {
                errors.push(FieldError::new(
                    "to",
                    "after_from",
                    "must be later than from",
                ));
            }
        }
        let actions: Vec<String> = self
            .action
            .as_deref()
            .map(|a| {
                a.split(',')
                    .map(str::trim)
                    .filter(|s| !s.is_empty())
                    .map(str::to_string)
                    .collect()
            })
            .unwrap_or_default();
        if actions.len() > 50 {
            errors.push(FieldError::new("action", "max_items", "at most 50 actions"));
        }
        if !errors.is_empty() {
            return Err(rolecall_core::Error::Invalid(errors).into());
        }
        Ok(Filter {
            actor: self.actor.clone().filter(|s| !s.is_empty()),
            target: self.target.clone().filter(|s| !s.is_empty()),
            actions,
            from: self.from,
            to: self.to,
        })
    }

    fn cursor(&self) -> ApiResult<Option<i64>> {
        self.cursor
            .as_deref()
            .map(|c| {
                c.parse::<i64>().map_err(|_| {
                    rolecall_core::Error::invalid(
                        "cursor",
                        "cursor",
                        "not a cursor this server gave",
                    )
                    .into()
                })
            })
            .transpose()
    }
}

async fn viewer(s: &AppState, caller: &Caller, org: &str) -> ApiResult<crate::auth::OrgAdmin> {
    permit(
        s,
        caller,
        org,
        Operation::ViewAuthEvents,
        Target::Organization,
    )
    .await
}

fn head_value(h: &Head) -> Option<HeaderValue> {
    HeaderValue::from_str(&format!("{}:{}", h.seq, h.hash)).ok()
}

/// Every change of state in the organisation, newest first.
#[utoipa::path(get, path = "/api/v1/organizations/{org}/audit", tag = "audit",
    params(("org" = String, Path), LogQuery),
    responses(
        (status = 200, body = LogPage, content_type = "application/json", description = "A page of entries and the chain head"),
        (status = 401, body = Problem, content_type = "application/problem+json", description = "No or unknown credentials"),
        (status = 403, body = Problem, content_type = "application/problem+json", description = "The caller may not read the audit log"),
        (status = 404, body = Problem, content_type = "application/problem+json", description = "No such organization"),
        (status = 422, body = Problem, content_type = "application/problem+json", description = "A filter, cursor or limit is invalid"),
    ))]
async fn list(
    State(s): State<AppState>,
    caller: Caller,
    Path(org): Path<String>,
    ApiQuery(q): ApiQuery<LogQuery>,
) -> ApiResult<Json<LogPage>> {
    let admin = viewer(&s, &caller, &org).await?;
    let limit = q.limit.unwrap_or(100);
    if !(1..=1000).contains(&limit) {
        return Err(
            rolecall_core::Error::invalid("limit", "range", "must be between 1 and 1000").into(),
        );
    }
    let filter = q.filter()?;
    let cursor = q.cursor()?;
    Ok(Json(
        s.dir.audit_log(&admin.org, &filter, cursor, limit).await?,
    ))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ExportQuery {
    /// `jsonl` (default) or `csv`.
    #[param(value_type = Option<ExportFormat>, inline)]
    format: Option<String>,
    /// Only entries by this actor (a user id, credential id or token name).
    actor: Option<String>,
    /// Only entries about this target.
    target: Option<String>,
    /// Comma-separated action names.
    action: Option<String>,
    /// From this time (Unix ms, inclusive).
    from: Option<i64>,
    /// Before this time (Unix ms, exclusive).
    to: Option<i64>,
}

/// The export formats (documentation of `format`).
#[derive(Serialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
#[allow(dead_code)] // never built: it only documents the parameter
pub enum ExportFormat {
    Jsonl,
    Csv,
}

/// The first line of a JSON-lines export: which chain, and its head when the export began.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ExportHeader {
    pub organization: String,
    /// When the export was taken (Unix ms).
    pub taken_at: i64,
    pub head: Head,
}

const CSV_COLUMNS: &str = "org_id,seq,id,at,actor_kind,actor_id,actor_name,action,target_kind,target_id,target_name,changes,detail,source_ip,user_agent,request_id,prev_hash,hash\r\n";

/// One CSV cell per RFC 4180 (quoted when it holds a comma, quote or line break), after the
/// spreadsheet formula guard every CSV the server writes shares
/// ([`rolecall_bulk::formula::escape`]): a cell starting with `=`, `+`, `-`, `@`, tab or
/// carriage return, or with `'` followed by one of those or another `'`, gets one leading `'`.
/// Names, e-mails and details come from users, and these files (the audit CSV, the access
/// reports, the import report) are opened by administrators in spreadsheets. The guard is
/// reversible: an auditor recomputing hashes from the CSV first drops that `'`
/// ([`rolecall_bulk::formula::unescape`]); the JSON-lines export stays verbatim.
pub(crate) fn csv_cell(out: &mut String, v: &str) {
    let v = rolecall_bulk::formula::escape(v);
    if v.contains([',', '"', '\n', '\r']) {
        out.push('"');
        out.push_str(&v.replace('"', "\"\""));
        out.push('"');
    } else {
        out.push_str(&v);
    }
}

fn csv_row(e: &EntryView) -> String {
    let changes = e.changes.to_string();
    let cells: [&str; 18] = [
        &e.org_id,
        &e.seq.to_string(),
        &e.id,
        &e.at.to_string(),
        &e.actor.kind,
        &e.actor.id,
        &e.actor.name,
        &e.action,
        &e.target.kind,
        &e.target.id,
        &e.target.name,
        &changes,
        &e.detail,
        &e.source_ip,
        &e.user_agent,
        &e.request_id,
        &e.prev_hash,
        &e.hash,
    ];
    let mut out = String::new();
    for (i, c) in cells.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        csv_cell(&mut out, c);
    }
    out.push_str("\r\n");
    out
}

/// Streams the matching entries oldest first, 1,000 per database read, so an export of any size
/// runs in constant memory. The chain head at the start is in the `x-rolecall-audit-head`
/// header and, for JSON lines, the first line: keep it, and a later `verify` with it proves
/// nothing before it was cut off.
#[utoipa::path(get, path = "/api/v1/organizations/{org}/audit/export", tag = "audit",
    params(("org" = String, Path), ExportQuery),
    responses(
        (status = 200, description = "JSON lines (`format=jsonl`): first an ExportHeader, then one EntryView per line; or CSV (`format=csv`): a header row, then one entry per row",
            content((String = "application/x-ndjson"), (String = "text/csv")),
            headers(("x-rolecall-audit-head" = String, description = "The chain head as `<seq>:<hash>`"))),
        (status = 401, body = Problem, content_type = "application/problem+json", description = "No or unknown credentials"),
        (status = 403, body = Problem, content_type = "application/problem+json", description = "The caller may not read the audit log"),
        (status = 404, body = Problem, content_type = "application/problem+json", description = "No such organization"),
        (status = 422, body = Problem, content_type = "application/problem+json", description = "Unknown format or invalid filter"),
    ))]
async fn export(
    State(s): State<AppState>,
    caller: Caller,
    Path(org): Path<String>,
    ApiQuery(q): ApiQuery<ExportQuery>,
) -> ApiResult<Response> {
    let admin = viewer(&s, &caller, &org).await?;
    let csv = match q.format.as_deref() {
        None | Some("jsonl") => false,
        Some("csv") => true,
        Some(_) => {
            return Err(
                rolecall_core::Error::invalid("format", "enum", "must be jsonl or csv").into(),
            )
        }
    };
    let filter = LogQuery {
        actor: q.actor,
        target: q.target,
        action: q.action,
        from: q.from,
        to: q.to,
        ..Default::default()
    }
    .filter()?;
    let head = s.dir.audit_head(&admin.org).await?;
    let first = if csv {
        CSV_COLUMNS.to_string()
    } else {
        let header = ExportHeader {
            organization: admin.org.slug.to_string(),
            taken_at: s.dir.now(),
            head: head.clone(),
        };
        format!("{}\n", serde_json::to_string(&header).unwrap_or_default())
    };
    let dir = s.dir.clone();
    let org_id = admin.org.id;
    // The head bounds the export: entries appended while it streams belong to the next one.
    let last = head.seq;
    let pages = futures_util::stream::unfold(
        (Some(first), None::<i64>, false),
        move |(first, cursor, done)| {
            let dir = dir.clone();
            let filter = filter.clone();
            async move {
                if let Some(text) = first {
                    return Some((Ok(text), (None, cursor, done)));
                }
                if done {
                    return None;
                }
                match dir.audit_page(org_id, &filter, cursor, 1000).await {
                    Err(e) => {
                        tracing::warn!(error = %e, "audit export failed");
                        Some((
                            Err(std::io::Error::other("audit export failed")),
                            (None, cursor, true),
                        ))
                    }
                    Ok(page) => {
                        let page: Vec<EntryView> = page
                            .into_iter()
                            .filter(|e| e.seq <= last)
                            .map(EntryView::from)
                            .collect();
                        let end = page.last().map(|e| e.seq)?;
                        let finished = page.len() < 1000 || end >= last;
                        let mut text = String::new();
                        for e in &page {
                            if csv {
                                text.push_str(&csv_row(e));
                            } else {
                                text.push_str(&serde_json::to_string(e).unwrap_or_default());
                                text.push('\n');
                            }
                        }
                        Some((Ok(text), (None, Some(end), finished)))
                    }
                }
            }
        },
    );
    let mut res = Body::from_stream(pages).into_response();
    let ct = if csv {
        "text/csv; charset=utf-8"
    } else {
        "application/x-ndjson"
    };
    res.headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(ct));
    if let Some(v) = head_value(&head) {
        res.headers_mut().insert(HEAD_HEADER, v);
    }
    Ok(res)
}

/// The chain head: publish it (or keep it) to prove later truncation.
#[utoipa::path(get, path = "/api/v1/organizations/{org}/audit/head", tag = "audit",
    params(("org" = String, Path)),
    responses(
        (status = 200, body = Head, content_type = "application/json", description = "The last entry's sequence number and hash, and where the kept chain starts"),
        (status = 401, body = Problem, content_type = "application/problem+json", description = "No or unknown credentials"),
        (status = 403, body = Problem, content_type = "application/problem+json", description = "The caller may not read the audit log"),
        (status = 404, body = Problem, content_type = "application/problem+json", description = "No such organization"),
    ))]
async fn head(
    State(s): State<AppState>,
    caller: Caller,
    Path(org): Path<String>,
) -> ApiResult<Response> {
    let admin = viewer(&s, &caller, &org).await?;
    let head = s.dir.audit_head(&admin.org).await?;
    let mut res = Json(&head).into_response();
    if let Some(v) = head_value(&head) {
        res.headers_mut().insert(HEAD_HEADER, v);
    }
    Ok(res)
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct VerifyQuery {
    /// A head published earlier, as `<seq>:<hash>`: the chain must still contain it.
    #[param(pattern = "^[0-9]+:[0-9a-fA-F]{64}$")]
    known_head: Option<String>,
}

/// Walks the chain from its first kept entry to its head and names the first entry edited,
/// removed or reordered, or the truncation.
#[utoipa::path(get, path = "/api/v1/organizations/{org}/audit/verify", tag = "audit",
    params(("org" = String, Path), VerifyQuery),
    responses(
        (status = 200, body = Verification, content_type = "application/json", description = "The outcome; `ok` is false and `flaw` names the first problem when the chain is broken"),
        (status = 401, body = Problem, content_type = "application/problem+json", description = "No or unknown credentials"),
        (status = 403, body = Problem, content_type = "application/problem+json", description = "The caller may not read the audit log"),
        (status = 404, body = Problem, content_type = "application/problem+json", description = "No such organization"),
        (status = 422, body = Problem, content_type = "application/problem+json", description = "known_head is not `<seq>:<hash>`"),
    ))]
async fn verify(
    State(s): State<AppState>,
    caller: Caller,
    Path(org): Path<String>,
    ApiQuery(q): ApiQuery<VerifyQuery>,
) -> ApiResult<Json<Verification>> {
    let admin = viewer(&s, &caller, &org).await?;
    let known = match q.known_head.as_deref() {
        None => None,
        Some(k) => {
            let parsed = k.split_once(':').and_then(|(seq, hash)| {
                let ok = hash.len() == 64 && hash.bytes().all(|c| c.is_ascii_hexdigit());
                seq.parse::<i64>()
                    .ok()
                    .filter(|_| ok)
                    .map(|n| (n, hash.to_ascii_lowercase()))
            });
            Some(parsed.ok_or_else(|| {
                rolecall_core::Error::invalid(
                    "known_head",
                    "audit_head",
                    "must be <seq>:<64 hex digits>, as the head endpoint gives it",
                )
            })?)
        }
    };
    Ok(Json(s.dir.verify_audit(&admin.org, known).await?))
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct PruneOutcome {
    /// Absent when nothing was old enough or no retention is set.
    pub pruned: Option<Pruned>,
}

/// Applies the retention setting now (the server also does so hourly).
#[utoipa::path(post, path = "/api/v1/organizations/{org}/audit/prune", tag = "audit",
    params(("org" = String, Path)),
    responses(
        (status = 200, body = PruneOutcome, content_type = "application/json", description = "What was removed; the pruning is itself the newest entry"),
        (status = 401, body = Problem, content_type = "application/problem+json", description = "No or unknown credentials"),
        (status = 403, body = Problem, content_type = "application/problem+json", description = "The caller may not manage settings"),
        (status = 404, body = Problem, content_type = "application/problem+json", description = "No such organization"),
    ))]
async fn prune(
    State(s): State<AppState>,
    caller: Caller,
    Path(org): Path<String>,
) -> ApiResult<(StatusCode, Json<PruneOutcome>)> {
    let admin = permit(
        &s,
        &caller,
        &org,
        Operation::ManageSettings,
        Target::Organization,
    )
    .await?;
    let pruned = s.dir.prune_audit(&admin).await?;
    Ok((StatusCode::OK, Json(PruneOutcome { pruned })))
}
