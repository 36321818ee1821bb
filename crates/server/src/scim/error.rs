//! Every SCIM answer that is not a success: the SCIM error body (RFC 7644 §3.12, `status` as a
//! string, the `scimType` that fits) served as `application/scim+json`, mapped once from the
//! server's errors. rolecall's field names become the SCIM attribute paths a client sent.

use crate::error::Error;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use rolecall_core::Error as DomainError;
use rolecall_scim::{ScimError, ScimType};

/// The media type of every SCIM body (RFC 7644 §8.1).
pub const SCIM_JSON: &str = "application/scim+json";

/// A SCIM error on its way to the client, with an optional `Retry-After` (429).
#[derive(Debug)]
pub struct ScimFailure {
    pub error: ScimError,
    pub retry_after_secs: Option<u64>,
}

pub type ScimResult<T> = Result<T, ScimFailure>;

impl ScimFailure {
    pub fn new(status: u16, scim_type: Option<ScimType>, detail: impl Into<String>) -> Self {
        ScimFailure {
            error: ScimError {
                status,
                scim_type,
                detail: detail.into(),
            },
            retry_after_secs: None,
        }
    }

    pub fn not_found(what: &str, id: &str) -> Self {
        ScimFailure::new(404, None, format!("{what} {id} not found"))
    }

    pub fn method_not_allowed() -> Self {
        ScimFailure::new(
            405,
            None,
            "this endpoint is read-only: discovery documents are served with GET",
        )
    }
}

impl From<ScimError> for ScimFailure {
    fn from(error: ScimError) -> Self {
        ScimFailure {
            error,
            retry_after_secs: None,
        }
    }
}

/// rolecall's field name → the SCIM attribute path, for details clients can act on.
pub fn scim_path(field: &str) -> String {
    let (head, rest) = match field.find(['[', '.']) {
        Some(i) => (&field[..i], &field[i..]),
        None => (field, ""),
    };
    let mapped = match head {
        "username" => "userName",
        "email" => "emails",
        "first_name" => "name.givenName",
        "last_name" => "name.familyName",
        "name_formatted" => "name.formatted",
        "middle_name" => "name.middleName",
        "honorific_prefix" => "name.honorificPrefix",
        "honorific_suffix" => "name.honorificSuffix",
        "display_name" => "displayName",
        "nick_name" => "nickName",
        "user_type" => "userType",
        "preferred_language" => "preferredLanguage",
        "external_id" => "externalId",
        "phone_numbers" => "phoneNumbers",
        "employee_number" => "employeeNumber",
        "cost_center" => "costCenter",
        "manager_id" => "manager.value",
        "status" => "active",
        "name" => "displayName",
        other => other,
    };
    let rest = rest
        .replace(".street_address", ".streetAddress")
        .replace(".postal_code", ".postalCode");
    format!("{mapped}{rest}")
}

impl From<Error> for ScimFailure {
    fn from(e: Error) -> Self {
        match e {
            Error::Domain(d) => match d {
                DomainError::Invalid(errors) => {
                    let detail = errors
                        .iter()
                        .map(|e| format!("{}: {}", scim_path(&e.field), e.message))
                        .collect::<Vec<_>>()
                        .join("; ");
                    if errors.iter().any(|e| e.rule == "unique") {
                        ScimFailure::new(409, Some(ScimType::Uniqueness), detail)
                    } else {
                        ScimFailure::new(400, Some(ScimType::InvalidValue), detail)
                    }
                }
                DomainError::NotFound { entity, id } | DomainError::Gone { entity, id } => {
                    ScimFailure::new(404, None, format!("{entity} {id} not found"))
                }
                DomainError::Conflict { message, .. } => ScimFailure::new(409, None, message),
                DomainError::PreconditionFailed { expected, current } => ScimFailure::new(
                    412,
                    None,
                    format!("If-Match names version {expected} but the resource is at version {current}"),
                ),
                DomainError::Forbidden { message, .. } => ScimFailure::new(403, None, message),
            },
            Error::Unauthenticated => ScimFailure::new(
                401,
                None,
                "a SCIM client's bearer token is required (Authorization: Bearer …)",
            ),
            Error::SignInFailed => ScimFailure::new(401, None, "authentication failed"),
            Error::TooManyRequests => ScimFailure::new(429, None, "too many requests"),
            Error::Busy => busy(),
            Error::Database(e) if crate::store::is_busy(&e) => {
                tracing::warn!(error = %e, "database busy on /scim/v2");
                busy()
            }
            Error::Database(e) => {
                tracing::error!(error = %e, "database error on /scim/v2");
                ScimFailure::new(500, None, "internal error; see the server log")
            }
            Error::Internal(e) | Error::Setup(e) => {
                tracing::error!(error = %e, "internal error on /scim/v2");
                ScimFailure::new(500, None, "internal error; see the server log")
            }
        }
    }
}

/// The database could not take the request in time (issue 9 item 6): the client retries.
fn busy() -> ScimFailure {
    ScimFailure {
        retry_after_secs: Some(1),
        ..ScimFailure::new(503, None, "the database is busy; retry shortly")
    }
}

impl From<DomainError> for ScimFailure {
    fn from(e: DomainError) -> Self {
        Error::Domain(e).into()
    }
}

impl IntoResponse for ScimFailure {
    fn into_response(self) -> Response {
        if self.error.status >= 500 {
            tracing::error!(detail = %self.error.detail, "SCIM server error");
        }
        let status =
            StatusCode::from_u16(self.error.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let mut res = (status, axum::Json(self.error.to_json())).into_response();
        res.headers_mut()
            .insert(header::CONTENT_TYPE, HeaderValue::from_static(SCIM_JSON));
        if status == StatusCode::UNAUTHORIZED {
            res.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Bearer realm=\"rolecall SCIM\""),
            );
        }
        if let Some(secs) = self.retry_after_secs {
            if let Ok(v) = HeaderValue::from_str(&secs.to_string()) {
                res.headers_mut().insert(header::RETRY_AFTER, v);
            }
        }
        res
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn field_names_become_scim_paths() {
        assert_eq!(scim_path("first_name"), "name.givenName");
        assert_eq!(scim_path("emails[1].value"), "emails[1].value");
        assert_eq!(
            scim_path("addresses[0].postal_code"),
            "addresses[0].postalCode"
        );
        assert_eq!(scim_path("title"), "title");
    }

    #[test]
    fn uniqueness_is_409_and_other_invalid_input_400() {
        let e: ScimFailure =
            DomainError::invalid("username", "unique", "ann is already used").into();
        assert_eq!(
            (e.error.status, e.error.scim_type),
            (409, Some(ScimType::Uniqueness))
        );
        assert_eq!(e.error.detail, "userName: ann is already used");
        let e: ScimFailure = DomainError::invalid("timezone", "timezone_syntax", "bad").into();
        assert_eq!(
            (e.error.status, e.error.scim_type),
            (400, Some(ScimType::InvalidValue))
        );
    }
}
