//! rolecall's bulk-user file formats, with no I/O of their own: every reader takes
//! `impl std::io::Read` and every writer `impl std::io::Write`, so the server decides where
//! bytes come from and the rules here are tested without files or a database. The one
//! exception is the duplicate-row index of a file longer than 131,072 rows, which moves to
//! an unnamed scratch file so that memory stays flat (`seen`).
//!
//! - [`reader`]: the streaming CSV reader (UTF-8 with or without BOM, CRLF or LF, `,` or `;`
//!   detected from the header, strict quoting, per-row errors with line and column, SHA-256
//!   of the input).
//! - [`console`]: the Adobe Admin Console bulk-upload template, read and written.
//! - [`plain`]: rolecall's own template (see `crates/bulk/README.md`), read and written.
//! - [`plan`]: the neutral [`RowPlan`] both templates parse into, and [`PlanReader`], which
//!   opens either template by its header.
//! - [`magento`]: Magento 2 `admin_user` / `authorization_role` / `authorization_rule` /
//!   store tables exported as CSV, turned into a [`MagentoPlan`] of roles and users, with
//!   every row that could not be mapped reported.
//! - [`formula`]: the reversible spreadsheet formula guard (CSV injection) the template
//!   writers apply to every cell and the template readers undo; the server's other CSV
//!   outputs use the same [`formula::escape`].

mod cells;
pub mod console;
pub mod digest;
pub mod error;
pub mod formula;
mod lexer;
pub mod magento;
mod magento_plan;
pub mod plain;
pub mod plan;
pub mod reader;
mod seen;
pub mod writer;

pub use console::{write_console, AdminRole, ConsoleReader, ConsoleRecord, ConsoleRow};
pub use digest::FileDigest;
pub use error::{FileError, RowError, RowErrors, Rule, WriteError};
pub use lexer::MAX_ROW_BYTES;
pub use magento::{MagentoExport, MagentoProblem, MagentoTable};
pub use magento_plan::{
    MagentoPlan, MagentoRole, MagentoScope, MagentoUser, ResourceGrant, SecondFactor,
    StoreGroupScope, ALL_RESOURCES,
};
pub use plain::{write_plain, PlainReader, PlainRecord, PlainRow};
pub use plan::{
    AdminRightRef, IdentityType, ListChange, Operation, PlanReader, ProfileRef, RoleRef, RowPlan,
    Status, Template, UserFields,
};
pub use reader::{Column, CsvReader, ExtraColumns, Record, Schema};
pub use writer::{LineEnding, WriteOptions};
