//! rolecall's domain core: the directory's types, the validation rules the seeds state, the
//! application catalogue and the authorization engine.
//!
//! Architecture Invariant: this crate performs no I/O and knows nothing about HTTP, SQL, tokio or
//! the clock. Time and identifiers are passed in by the caller, so every rule here is unit-tested
//! without a database.

pub mod admin;
pub mod audit;
pub mod authz;
pub mod catalogue;
pub mod change;
pub mod error;
pub mod holding;
pub mod model;
pub mod password;
#[cfg(feature = "openapi")]
pub mod schema;
pub mod settings;
pub mod validate;

pub use error::{Error, FieldError};
