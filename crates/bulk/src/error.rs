//! The errors this crate reports: file-level refusals (`FileError`), per-row problems
//! (`RowError`, `RowErrors`) with the rule each one broke, and export refusals (`WriteError`).
//!
//! Every message names where (line, column) and why, because the person reading it is an
//! administrator fixing a spreadsheet, not a developer reading a stack trace.

use serde::Serialize;
use std::fmt;

/// Why a whole file was refused before any row could be read.
///
/// A file-level error means nothing in the file was applied, so the message must say what
/// the file *is* (JSON, a workbook, UTF-16 text) when that is the likely mistake.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum FileError {
    /// No bytes, or only a byte-order mark and blank lines.
    #[error("the file is empty: it has no header line")]
    Empty,
    /// Binary data, JSON, a spreadsheet workbook, or anything else that is not CSV text.
    #[error("the file is not a CSV text file: {reason}")]
    NotCsv { reason: String },
    /// The header line is not UTF-8 (or the file is UTF-16).
    #[error("line {line}: {reason}; the file must be UTF-8 (in Excel: Save As \"CSV UTF-8\")")]
    NotUtf8 { line: u64, reason: String },
    /// The header line breaks the CSV quoting rules.
    #[error("line {line}: the header line is not valid CSV: {reason}")]
    BadHeader { line: u64, reason: String },
    /// The header names none of the template's columns with either separator.
    #[error(
        "the header line names none of the {template} columns (with ',' or ';' as separator); expected: {}",
        expected.join(", ")
    )]
    NotTemplate {
        template: String,
        expected: Vec<String>,
    },
    /// Unknown, missing or repeated columns, all listed at once so one edit fixes them.
    #[error("{}", columns_message(template, unknown, missing, repeated))]
    Columns {
        template: String,
        unknown: Vec<String>,
        missing: Vec<String>,
        repeated: Vec<String>,
    },
    /// The input could not be read.
    #[error("reading the file failed: {message}")]
    Io { message: String },
}

fn columns_message(
    template: &str,
    unknown: &[String],
    missing: &[String],
    repeated: &[String],
) -> String {
    let mut parts = Vec::new();
    if !unknown.is_empty() {
        parts.push(format!("unknown columns: {}", unknown.join(", ")));
    }
    if !missing.is_empty() {
        parts.push(format!("missing required columns: {}", missing.join(", ")));
    }
    if !repeated.is_empty() {
        parts.push(format!("columns named twice: {}", repeated.join(", ")));
    }
    format!(
        "the header does not fit the {template} template: {}",
        parts.join("; ")
    )
}

/// The rule a row broke. Stable snake_case codes, so the server and UIs can group errors.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Rule {
    /// A cell is not valid UTF-8.
    Utf8,
    /// A quoted cell is never closed.
    UnbalancedQuote,
    /// A `"` inside an unquoted cell, or text right after a closing quote.
    StrayQuote,
    /// The row has more or fewer cells than the header.
    FieldCount,
    /// The row exceeds the size limit.
    RowTooLong,
    /// A control character (NUL, tab, line break…) in a cell that cannot hold one.
    ControlCharacter,
    /// The same key (e-mail) appears on an earlier line.
    Duplicate,
    /// A required cell is empty.
    Required,
    /// An e-mail that does not have the basic `local@domain` shape.
    Email,
    /// Not one of Adobe ID, Enterprise ID, Federated ID.
    IdentityType,
    /// The Domain cell disagrees with the e-mail's domain.
    Domain,
    /// Not an ISO 3166-1 alpha-2 shaped code.
    CountryCode,
    /// Not a known admin role spelling.
    AdminRole,
    /// An admin role without its targets, or targets without the role.
    AdminTargets,
    /// A malformed `Product: Profile` / `application:Profile` item.
    Profile,
    /// A malformed `application:Role` item.
    Role,
    /// A malformed admin right item.
    AdminRight,
    /// Not one of the operations.
    Operation,
    /// Not one of the statuses.
    Status,
    /// A backslash that does not start `\;`, `\:` or `\\`.
    Escape,
    /// A cell that does not fit the column's type.
    Value,
    /// Reading the input failed part-way.
    Io,
}

impl Rule {
    /// The stable code, as serialized.
    pub fn code(self) -> &'static str {
        match self {
            Rule::Utf8 => "utf8",
            Rule::UnbalancedQuote => "unbalanced_quote",
            Rule::StrayQuote => "stray_quote",
            Rule::FieldCount => "field_count",
            Rule::RowTooLong => "row_too_long",
            Rule::ControlCharacter => "control_character",
            Rule::Duplicate => "duplicate",
            Rule::Required => "required",
            Rule::Email => "email",
            Rule::IdentityType => "identity_type",
            Rule::Domain => "domain",
            Rule::CountryCode => "country_code",
            Rule::AdminRole => "admin_role",
            Rule::AdminTargets => "admin_targets",
            Rule::Profile => "profile",
            Rule::Role => "role",
            Rule::AdminRight => "admin_right",
            Rule::Operation => "operation",
            Rule::Status => "status",
            Rule::Escape => "escape",
            Rule::Value => "value",
            Rule::Io => "io",
        }
    }
}

impl fmt::Display for Rule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

/// One problem in one row: where (1-based line, column name when it is about one cell),
/// which rule, and a sentence saying what to change.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RowError {
    pub line: u64,
    pub column: Option<String>,
    pub rule: Rule,
    pub message: String,
}

impl RowError {
    /// A problem with one cell.
    pub fn cell(line: u64, column: &str, rule: Rule, message: impl Into<String>) -> RowError {
        RowError {
            line,
            column: Some(column.to_string()),
            rule,
            message: message.into(),
        }
    }

    /// A problem with the row as a whole.
    pub fn row(line: u64, rule: Rule, message: impl Into<String>) -> RowError {
        RowError {
            line,
            column: None,
            rule,
            message: message.into(),
        }
    }
}

impl fmt::Display for RowError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.column {
            Some(c) => write!(
                f,
                "line {}, column {}: {} [{}]",
                self.line, c, self.message, self.rule
            ),
            None => write!(f, "line {}: {} [{}]", self.line, self.message, self.rule),
        }
    }
}

/// Every problem found in one row (never empty), so one pass over the file shows them all.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct RowErrors(pub Vec<RowError>);

impl RowErrors {
    /// The row's line (of its first problem).
    pub fn line(&self) -> u64 {
        self.0.first().map_or(0, |e| e.line)
    }

    /// Whether any problem broke `rule`.
    pub fn has(&self, rule: Rule) -> bool {
        self.0.iter().any(|e| e.rule == rule)
    }
}

impl From<RowError> for RowErrors {
    fn from(e: RowError) -> Self {
        RowErrors(vec![e])
    }
}

impl fmt::Display for RowErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, e) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str("; ")?;
            }
            write!(f, "{e}")?;
        }
        Ok(())
    }
}

impl std::error::Error for RowErrors {}

/// Why an export was refused: a value the format cannot carry without changing its meaning
/// on the way back in (the round-trip guarantee is worth more than a partial file).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum WriteError {
    /// A row's value cannot be written in this template.
    #[error("row for {key}, column {column}: {reason}")]
    Unrepresentable {
        key: String,
        column: String,
        reason: String,
    },
    /// Two rows share a key (e-mail, compared case-insensitively).
    #[error("two rows share the e-mail {key}")]
    Duplicate { key: String },
    /// The output could not be written.
    #[error("writing the file failed: {message}")]
    Io { message: String },
}

impl From<std::io::Error> for WriteError {
    fn from(e: std::io::Error) -> Self {
        WriteError::Io {
            message: e.to_string(),
        }
    }
}

impl From<csv::Error> for WriteError {
    fn from(e: csv::Error) -> Self {
        WriteError::Io {
            message: e.to_string(),
        }
    }
}
