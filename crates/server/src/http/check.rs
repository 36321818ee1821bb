//! The authorization check applications call, its batch form, and effective permissions.

use super::extract::{parse_json, ApiQuery, JsonBody};
use super::{parse_id, ApiResult, AppState};
use crate::auth::Caller;
use crate::directory::{BatchAnswer, BatchCheck, BatchItem};
use axum::extract::{Path, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::Json;
use rolecall_core::authz::{Decision, EffectivePermission, Explanation, Reason};
use rolecall_core::model::UserId;
use serde::{Deserialize, Serialize};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(check))
        .routes(routes!(check_batch))
        .routes(routes!(effective_permissions))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CheckRequest {
    user_id: String,
    application: String,
    resource: String,
    /// An action the resource declares; absent means any use of the resource.
    action: Option<String>,
    /// A scope code; absent means the application's root scope.
    scope: Option<String>,
}

/// May this user do this? Answers allow or deny with the roles (and groups) that decided it.
#[utoipa::path(post, path = "/api/v1/organizations/{org}/check", tag = "check", params(("org" = String, Path)), request_body = CheckRequest,
    responses((status = 200, body = Explanation), (status = 422, body = super::problem::Problem)))]
async fn check(
    State(s): State<AppState>,
    caller: Caller,
    Path(org): Path<String>,
    body: JsonBody<CheckRequest>,
) -> ApiResult<Json<Explanation>> {
    let admin = caller.checker_of(s.dir.org(&org).await?)?;
    let body = body.parse()?;
    let user = body
        .user_id
        .parse::<UserId>()
        .map_err(|_| rolecall_core::Error::invalid("user_id", "uuid", "must be a user id"))?;
    let e = s
        .dir
        .check(
            &admin.org,
            user,
            &body.application,
            &body.resource,
            body.action.as_deref(),
            body.scope.as_deref(),
        )
        .await?;
    Ok(Json(e))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BatchRequest {
    /// At most 1000 checks, decided against one consistent snapshot.
    checks: Vec<BatchCheck>,
    /// Include explanations (slower).
    #[serde(default)]
    explain: bool,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct BatchResponse {
    /// One answer per check, in order.
    results: Vec<BatchAnswer>,
}

/// The borrowing twin of [`BatchRequest`] that the batch path tries first: the strings of up
/// to 1,000 checks stay in the request body instead of being copied five times per check.
/// A body it cannot take (an escaped string, or any error) goes through [`BatchRequest`], so
/// errors read exactly as everywhere else.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct BatchRequestRef<'a> {
    #[serde(borrow)]
    checks: Vec<BatchItem<'a>>,
    #[serde(default)]
    explain: bool,
}

#[utoipa::path(post, path = "/api/v1/organizations/{org}/check/batch", tag = "check", params(("org" = String, Path)), request_body = BatchRequest,
    responses((status = 200, body = BatchResponse), (status = 422, body = super::problem::Problem)))]
async fn check_batch(
    State(s): State<AppState>,
    caller: Caller,
    Path(org): Path<String>,
    body: JsonBody<BatchRequest>,
) -> ApiResult<Response> {
    let admin = caller.checker_of(s.dir.org(&org).await?)?;
    let bytes = body.json_bytes()?;
    let owned: BatchRequest;
    // UTF-8 is checked once for the whole body; `from_str` then takes each string as it is.
    let fast = std::str::from_utf8(bytes)
        .ok()
        .and_then(|text| serde_json::from_str::<BatchRequestRef<'_>>(text).ok());
    let (checks, explain) = match fast {
        Some(r) => (r.checks, r.explain),
        None => {
            owned = parse_json(bytes)?;
            let items = owned.checks.iter().map(BatchCheck::as_item).collect();
            (items, owned.explain)
        }
    };
    if checks.len() > 1000 {
        return Err(rolecall_core::Error::invalid(
            "checks",
            "max_items",
            "at most 1000 checks per batch",
        )
        .into());
    }
    let results = s.dir.check_batch(&admin.org, &checks, explain).await?;
    let body = results_json(&results).map_err(crate::error::Error::from)?;
    Ok(([(header::CONTENT_TYPE, "application/json")], body).into_response())
}

/// `{"results":[…]}` exactly as serde would write [`BatchResponse`], but each distinct
/// (decision, reason) answer is serialised once per batch and copied after that.
fn results_json(results: &[BatchAnswer]) -> Result<Vec<u8>, serde_json::Error> {
    let mut out = Vec::with_capacity(16 + results.len() * 44);
    out.extend_from_slice(b"{\"results\":[");
    let mut seen: Vec<(Decision, Reason, Vec<u8>)> = Vec::new();
    for (i, a) in results.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        if a.explanation.is_some() {
            serde_json::to_writer(&mut out, a)?;
            continue;
        }
        match seen
            .iter()
            .find(|(d, r, _)| *d == a.decision && *r == a.reason)
        {
            Some((_, _, json)) => out.extend_from_slice(json),
            None => {
                let json = serde_json::to_vec(a)?;
                out.extend_from_slice(&json);
                seen.push((a.decision, a.reason, json));
            }
        }
    }
    out.extend_from_slice(b"]}");
    Ok(out)
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct EffectiveQuery {
    /// Application key.
    #[param(value_type = rolecall_core::validate::Slug, inline)]
    application: String,
    /// Scope code; the root scope when absent.
    #[param(value_type = Option<rolecall_core::validate::ScopeCode>, inline)]
    scope: Option<String>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct EffectiveList {
    items: Vec<EffectivePermission>,
}

/// Everything the user may do in an application at a scope.
#[utoipa::path(get, path = "/api/v1/organizations/{org}/users/{id}/effective-permissions", tag = "check",
    params(("org" = String, Path), ("id" = String, Path), EffectiveQuery), responses((status = 200, body = EffectiveList)))]
async fn effective_permissions(
    State(s): State<AppState>,
    caller: Caller,
    Path((org, id)): Path<(String, String)>,
    ApiQuery(q): ApiQuery<EffectiveQuery>,
) -> ApiResult<Json<EffectiveList>> {
    let admin = caller.checker_of(s.dir.org(&org).await?)?;
    let items = s
        .dir
        .effective_permissions(
            &admin.org,
            parse_id::<UserId>("user", &id)?,
            &q.application,
            q.scope.as_deref(),
        )
        .await?;
    Ok(Json(EffectiveList { items }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use rolecall_core::authz::{Decision, Reason};

    fn answer(decision: Decision, reason: Reason) -> BatchAnswer {
        BatchAnswer {
            decision,
            reason,
            explanation: None,
        }
    }

    /// The hand-assembled body must be byte for byte what serde writes for the documented
    /// schema, or clients generated from the OpenAPI document would read something else.
    #[test]
    fn results_json_is_what_serde_writes() {
        let cases = [
            vec![],
            vec![answer(Decision::Allow, Reason::Granted)],
            vec![
                answer(Decision::Allow, Reason::Granted),
                answer(Decision::Deny, Reason::NoRole),
                answer(Decision::Allow, Reason::Granted),
                answer(Decision::Deny, Reason::OutOfScope),
                answer(Decision::Deny, Reason::NoRole),
            ],
        ];
        for results in cases {
            let ours = results_json(&results).expect("serialises");
            let serde = serde_json::to_vec(&BatchResponse { results }).expect("serialises");
            assert_eq!(
                String::from_utf8(ours).expect("utf-8"),
                String::from_utf8(serde).expect("utf-8")
            );
        }
    }
}
