//! SCIM 2.0 (RFC 7643 core schema, RFC 7644 protocol) for rolecall, as pure functions over
//! `serde_json::Value`: schemas and discovery documents, filters (parse, evaluate in memory,
//! translate to SQL), PATCH, PUT/POST body handling, attribute projection and list paging.
//!
//! Architecture Invariant: like `rolecall-core`, this crate performs no I/O and reads no clock;
//! the server mounts it at `/scim/v2`, stores resources and passes them in.

pub mod datetime;
pub mod discovery;
pub mod error;
pub mod eval;
pub mod filter;
pub mod list;
mod object;
pub mod patch;
pub mod path;
pub mod projection;
pub mod resource;
pub mod schema;
pub mod sql;
mod value;

pub use error::{ScimError, ScimType};
pub use eval::{fold_case, matches};
pub use filter::{CompareOp, Filter, Literal};
pub use list::{ListQuery, ListResponse, SearchRequest, SortOrder};
pub use patch::{apply_patch, PatchOpKind, PatchOperation, PatchRequest};
pub use path::{AttrPath, PatchPath};
pub use projection::project;
pub use resource::{create_resource, replace_resource};
pub use schema::{
    AttrRef, AttrType, AttributeDef, Mutability, ResourceType, Returned, Schema, Uniqueness,
};
pub use sql::{to_sql, ColumnMap, SqlFilter, SqlValue};
