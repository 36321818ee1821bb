//! The server's one error type. Domain errors pass through untouched; storage and other
//! internal failures are kept for the log and never shown to clients (see `http::problem`).

use rolecall_core::authz::CheckError;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(transparent)]
    Domain(#[from] rolecall_core::Error),
    /// No or bad credentials.
    #[error("authentication required")]
    Unauthenticated,
    /// Sign-in failed; deliberately says nothing about why.
    #[error("sign-in failed")]
    SignInFailed,
    /// Too many attempts from one address.
    #[error("too many requests")]
    TooManyRequests,
    /// The database could not take the request in time (its writer is held, a row lock is
    /// contended, the pool is exhausted): a reason to retry, never a 500.
    #[error("the database is busy")]
    Busy,
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
    #[error("internal error: {0}")]
    Internal(String),
    /// The operator's set-up is wrong (configuration file, database URL, data directory, key
    /// file, an unreachable database): the message names the file, path or host and the cause,
    /// so `rolecall serve` can say what to fix instead of "internal error".
    #[error("{0}")]
    Setup(String),
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

impl From<CheckError> for Error {
    fn from(e: CheckError) -> Self {
        Error::Domain(rolecall_core::Error::invalid(
            e.field(),
            e.rule(),
            e.to_string(),
        ))
    }
}

impl From<serde_json::Error> for Error {
    fn from(e: serde_json::Error) -> Self {
        Error::Internal(format!("json: {e}"))
    }
}
