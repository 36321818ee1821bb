//! The one mapping from errors to HTTP: RFC 9457 `application/problem+json` bodies with a stable
//! `code`, and the offending fields for validation errors. Internal detail is logged, never sent.

use crate::error::Error;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use rolecall_core::{Error as DomainError, FieldError};
use serde::Serialize;

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Problem {
    /// A URI naming the problem type; stable, so clients can branch on it.
    #[serde(rename = "type")]
    pub kind: String,
    pub title: String,
    pub status: u16,
    pub detail: String,
    /// Short machine-readable code, same as the last segment of `type`.
    pub code: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<FieldError>,
}

/// An error on its way to becoming a problem response.
#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub code: String,
    pub detail: String,
    pub errors: Vec<FieldError>,
    /// Seconds for `Retry-After` (429 and 503 answers).
    pub retry_after: Option<u32>,
}

/// How long a client should wait before retrying a busy database.
const BUSY_RETRY_SECS: u32 = 1;

impl ApiError {
    pub fn new(status: StatusCode, code: &str, detail: impl Into<String>) -> Self {
        ApiError {
            status,
            code: code.to_string(),
            detail: detail.into(),
            errors: vec![],
            retry_after: None,
        }
    }

    /// Adds `Retry-After` to the answer.
    pub fn retry_after(mut self, secs: u32) -> Self {
        self.retry_after = Some(secs);
        self
    }

    /// 503 for a database that could not take the request in time.
    pub fn busy() -> Self {
        ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "database_busy",
            "the database is busy; retry shortly",
        )
        .retry_after(BUSY_RETRY_SECS)
    }

    pub fn fields(
        status: StatusCode,
        code: &str,
        detail: impl Into<String>,
        errors: Vec<FieldError>,
    ) -> Self {
        ApiError {
            status,
            code: code.to_string(),
            detail: detail.into(),
            errors,
            retry_after: None,
        }
    }
}

impl From<Error> for ApiError {
    fn from(e: Error) -> Self {
        match e {
            Error::Domain(d) => match d {
                DomainError::Invalid(errors) => {
                    let detail = errors.iter().map(|e| format!("{}: {}", e.field, e.message)).collect::<Vec<_>>().join("; ");
                    ApiError::fields(StatusCode::UNPROCESSABLE_ENTITY, "validation_failed", detail, errors)
                }
                DomainError::NotFound { entity, id } => ApiError::new(StatusCode::NOT_FOUND, "not_found", format!("{entity} {id} not found")),
                DomainError::Gone { entity, id } => ApiError::new(StatusCode::GONE, "deleted", format!("{entity} {id} was deleted")),
                DomainError::Conflict { code, message } => ApiError::new(StatusCode::CONFLICT, code, message),
                DomainError::PreconditionFailed { expected, current } => ApiError::new(
                    StatusCode::PRECONDITION_FAILED,
                    "version_mismatch",
                    format!("If-Match names version {expected} but the current version is {current}; reload and retry"),
                ),
                DomainError::Forbidden { code, message } => ApiError::new(StatusCode::FORBIDDEN, code, message),
            },
            Error::Unauthenticated => ApiError::new(StatusCode::UNAUTHORIZED, "unauthenticated", "a valid bearer token or session is required"),
            Error::SignInFailed => ApiError::new(StatusCode::UNAUTHORIZED, "invalid_credentials", "the username or password is wrong, or the account cannot sign in now"),
            Error::TooManyRequests => ApiError::new(StatusCode::TOO_MANY_REQUESTS, "too_many_requests", "too many sign-in attempts from this address; wait a minute")
                .retry_after(crate::http::THROTTLE_WINDOW_SECS),
            Error::Busy => ApiError::busy(),
            Error::Database(e) if crate::store::is_busy(&e) => {
                tracing::warn!(error = %e, "database busy");
                ApiError::busy()
            }
            Error::Database(e) => {
                tracing::error!(error = %e, "database error");
                ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "internal", "internal error; see the server log")
            }
            Error::Internal(e) | Error::Setup(e) => {
                tracing::error!(error = %e, "internal error");
                ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "internal", "internal error; see the server log")
            }
        }
    }
}

impl From<DomainError> for ApiError {
    fn from(e: DomainError) -> Self {
        Error::Domain(e).into()
    }
}

/// Makes every error answer a problem document, including those the framework gives before a
/// handler runs (a path that does not decode, a method the path does not have): their text
/// becomes the detail. Problem documents and successes pass unchanged.
pub async fn uniform(res: Response) -> Response {
    let status = res.status();
    let is_problem = res.headers().get(header::CONTENT_TYPE).is_some_and(|v| {
        // SCIM answers its errors in its own schema (RFC 7644 §3.12), the console with its own
        // HTML pages: left as they are.
        let v = v.as_bytes();
        v.starts_with(b"application/problem+json")
            || v.starts_with(b"application/scim+json")
            || v.starts_with(b"text/html")
    });
    if status.as_u16() < 400 || is_problem {
        return res;
    }
    let (parts, body) = res.into_parts();
    let text = axum::body::to_bytes(body, 64 * 1024)
        .await
        .map(|b| String::from_utf8_lossy(&b).trim().to_string())
        .unwrap_or_default();
    let code = match status {
        StatusCode::METHOD_NOT_ALLOWED => "method_not_allowed",
        StatusCode::NOT_FOUND => "not_found",
        StatusCode::PAYLOAD_TOO_LARGE => "body_too_large",
        StatusCode::UNSUPPORTED_MEDIA_TYPE => "unsupported_media_type",
        s if s.is_server_error() => "internal",
        _ => "bad_request",
    };
    let detail = if text.is_empty() || status.is_server_error() {
        status.canonical_reason().unwrap_or("error").to_lowercase()
    } else {
        text
    };
    let mut out = ApiError::new(status, code, detail).into_response();
    // Keep what the framework said beyond the body, such as `Allow` on a 405.
    for (name, value) in parts.headers.iter() {
        if name != header::CONTENT_TYPE && name != header::CONTENT_LENGTH {
            out.headers_mut().insert(name.clone(), value.clone());
        }
    }
    out
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = Problem {
            kind: format!("urn:rolecall:problem:{}", self.code),
            title: self
                .status
                .canonical_reason()
                .unwrap_or("Error")
                .to_string(),
            status: self.status.as_u16(),
            detail: self.detail,
            code: self.code,
            errors: self.errors,
        };
        let mut res = (self.status, axum::Json(body)).into_response();
        res.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/problem+json"),
        );
        if let Some(secs) = self.retry_after {
            res.headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(secs));
        }
        if self.status == StatusCode::UNAUTHORIZED {
            res.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Bearer realm=\"rolecall\""),
            );
        }
        res
    }
}
