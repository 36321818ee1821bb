//! The one error type of the domain, grouped by what the caller can do about it.
//! The HTTP layer maps each variant to exactly one status code (see `rolecall::http::error`).

use serde::Serialize;

/// One violated rule on one input field; shown to API clients as-is, so messages are
/// lower-case sentences without internal detail.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct FieldError {
    /// JSON path of the offending field, e.g. `email` or `grants[2].resource`.
    pub field: String,
    /// Stable machine-readable rule name, e.g. `email_syntax`.
    pub rule: String,
    pub message: String,
}

impl FieldError {
    pub fn new(
        field: impl Into<String>,
        rule: impl Into<String>,
        message: impl Into<String>,
    ) -> Self {
        Self {
            field: field.into(),
            rule: rule.into(),
            message: message.into(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    /// The request itself is wrong; fixing the named fields fixes it.
    #[error("invalid input")]
    Invalid(Vec<FieldError>),
    /// The addressed object does not exist (in this organization).
    #[error("{entity} not found")]
    NotFound { entity: &'static str, id: String },
    /// The object existed and was deleted; its id stays resolvable for history.
    #[error("{entity} was deleted")]
    Gone { entity: &'static str, id: String },
    /// The request is well-formed but breaks a rule given the current state
    /// (duplicate name, one role per user, built-in role...).
    #[error("{message}")]
    Conflict { code: &'static str, message: String },
    /// Optimistic concurrency: the caller's version is not the stored one.
    #[error("version mismatch: expected {expected}, current {current}")]
    PreconditionFailed { expected: i64, current: i64 },
    /// The caller is known but may not do this.
    #[error("{message}")]
    Forbidden { code: &'static str, message: String },
}

impl Error {
    pub fn invalid(
        field: impl Into<String>,
        rule: impl Into<String>,
        message: impl Into<String>,
    ) -> Self {
        Error::Invalid(vec![FieldError::new(field, rule, message)])
    }
    pub fn conflict(code: &'static str, message: impl Into<String>) -> Self {
        Error::Conflict {
            code,
            message: message.into(),
        }
    }
    pub fn not_found(entity: &'static str, id: impl ToString) -> Self {
        Error::NotFound {
            entity,
            id: id.to_string(),
        }
    }
    pub fn forbidden(code: &'static str, message: impl Into<String>) -> Self {
        Error::Forbidden {
            code,
            message: message.into(),
        }
    }
}

/// Collects field errors so a request reports every problem at once, not one per round trip.
#[derive(Debug, Default)]
pub struct Problems(Vec<FieldError>);

impl Problems {
    pub fn new() -> Self {
        Self::default()
    }
    /// Records the error of `result` (if any) and returns its value.
    pub fn check<T>(&mut self, result: Result<T, FieldError>) -> Option<T> {
        match result {
            Ok(v) => Some(v),
            Err(e) => {
                self.0.push(e);
                None
            }
        }
    }
    pub fn push(&mut self, e: FieldError) {
        self.0.push(e);
    }
    pub fn into_result(self) -> Result<(), Error> {
        if self.0.is_empty() {
            Ok(())
        } else {
            Err(Error::Invalid(self.0))
        }
    }
}
