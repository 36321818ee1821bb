//! SCIM filters (RFC 7644 §3.4.2.2): the AST as data, its canonical text form, and the entry
//! point that parses text under size and nesting limits. `lexer` splits text into tokens,
//! `parser` builds the AST, `typed` checks it against a schema for [`crate::eval`] and
//! [`crate::sql`], which therefore share one reading of every filter.

pub(crate) mod lexer;
pub(crate) mod parser;
pub(crate) mod typed;

use crate::error::ScimError;
use crate::path::AttrPath;
use std::fmt;

/// Longest filter text accepted, in bytes: large enough for any real client, small enough that
/// hostile input is cheap to reject.
pub const MAX_FILTER_LEN: usize = 4096;
/// Deepest nesting of parentheses, `not (…)` and `[…]` accepted, so parsing and evaluation
/// cannot exhaust the stack.
pub const MAX_DEPTH: usize = 32;

/// A comparison operator of RFC 7644 §3.4.2.2 (`pr` is [`Filter::Present`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CompareOp {
    Eq,
    Ne,
    Co,
    Sw,
    Ew,
    Gt,
    Ge,
    Lt,
    Le,
}

impl CompareOp {
    /// The operator keyword in lower case.
    pub fn as_str(self) -> &'static str {
        match self {
            CompareOp::Eq => "eq",
            CompareOp::Ne => "ne",
            CompareOp::Co => "co",
            CompareOp::Sw => "sw",
            CompareOp::Ew => "ew",
            CompareOp::Gt => "gt",
            CompareOp::Ge => "ge",
            CompareOp::Lt => "lt",
            CompareOp::Le => "le",
        }
    }

    /// Reads an operator keyword, case-insensitively.
    pub fn from_keyword(word: &str) -> Option<Self> {
        const ALL: [CompareOp; 9] = [
            CompareOp::Eq,
            CompareOp::Ne,
            CompareOp::Co,
            CompareOp::Sw,
            CompareOp::Ew,
            CompareOp::Gt,
            CompareOp::Ge,
            CompareOp::Lt,
            CompareOp::Le,
        ];
        ALL.into_iter()
            .find(|op| op.as_str().eq_ignore_ascii_case(word))
    }
}

/// A comparison value: a JSON literal. Integers that fit `i64` are kept apart from decimals
/// so that `integer` attributes compare exactly.
#[derive(Debug, Clone, PartialEq)]
pub enum Literal {
    Str(String),
    Int(i64),
    /// Always finite.
    Dec(f64),
    Bool(bool),
    Null,
}

impl fmt::Display for Literal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Literal::Str(s) => write_json_string(f, s),
            Literal::Int(i) => write!(f, "{i}"),
            // `{:?}` always prints a `.` or an exponent, so the text re-parses as a decimal.
            Literal::Dec(d) => write!(f, "{d:?}"),
            Literal::Bool(b) => write!(f, "{b}"),
            Literal::Null => f.write_str("null"),
        }
    }
}

fn write_json_string(f: &mut fmt::Formatter<'_>, s: &str) -> fmt::Result {
    f.write_str("\"")?;
    for c in s.chars() {
        match c {
            '"' => f.write_str("\\\"")?,
            '\\' => f.write_str("\\\\")?,
            '\n' => f.write_str("\\n")?,
            '\r' => f.write_str("\\r")?,
            '\t' => f.write_str("\\t")?,
            c if (c as u32) < 0x20 => write!(f, "\\u{:04x}", c as u32)?,
            c => write!(f, "{c}")?,
        }
    }
    f.write_str("\"")
}

/// A parsed filter. Parentheses leave no node: `a and (b and c)` is `And(a, And(b, c))` and
/// `a and b and c` is `And(And(a, b), c)`; [`fmt::Display`] prints parentheses exactly where
/// needed to rebuild the same tree.
#[derive(Debug, Clone, PartialEq)]
pub enum Filter {
    And(Box<Filter>, Box<Filter>),
    Or(Box<Filter>, Box<Filter>),
    Not(Box<Filter>),
    /// `path op value`.
    Compare {
        path: AttrPath,
        op: CompareOp,
        value: Literal,
    },
    /// `path pr`.
    Present {
        path: AttrPath,
    },
    /// `attr[filter]`: some value of the complex attribute `attr` satisfies `filter`, whose
    /// paths are sub-attribute names. Entra's `attr[f].sub op v` is read as
    /// `attr[f and sub op v]`.
    ValuePath {
        attr: AttrPath,
        filter: Box<Filter>,
    },
}

impl Filter {
    /// Parses filter text; errors are `invalidFilter` naming the position and the problem.
    pub fn parse(text: &str) -> Result<Filter, ScimError> {
        parser::parse_filter(text)
            .map_err(|e| ScimError::invalid_filter(e.describe(text, "filter")))
    }

    /// `a and b`.
    pub fn and(a: Filter, b: Filter) -> Filter {
        Filter::And(Box::new(a), Box::new(b))
    }

    /// `a or b`.
    pub fn or(a: Filter, b: Filter) -> Filter {
        Filter::Or(Box::new(a), Box::new(b))
    }

    /// `not (a)`.
    pub fn negate(a: Filter) -> Filter {
        Filter::Not(Box::new(a))
    }

    fn precedence(&self) -> u8 {
        match self {
            Filter::Or(..) => 1,
            Filter::And(..) => 2,
            _ => 3,
        }
    }

    fn fmt_child(&self, f: &mut fmt::Formatter<'_>, child: &Filter, right: bool) -> fmt::Result {
        let (p, c) = (self.precedence(), child.precedence());
        if c < p || (right && c == p) {
            write!(f, "({child})")
        } else {
            write!(f, "{child}")
        }
    }
}

impl std::str::FromStr for Filter {
    type Err = ScimError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Filter::parse(s)
    }
}

impl fmt::Display for Filter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Filter::And(a, b) | Filter::Or(a, b) => {
                self.fmt_child(f, a, false)?;
                f.write_str(if matches!(self, Filter::And(..)) {
                    " and "
                } else {
                    " or "
                })?;
                self.fmt_child(f, b, true)
            }
            Filter::Not(a) => write!(f, "not ({a})"),
            Filter::Compare { path, op, value } => write!(f, "{path} {} {value}", op.as_str()),
            Filter::Present { path } => write!(f, "{path} pr"),
            Filter::ValuePath { attr, filter } => write!(f, "{attr}[{filter}]"),
        }
    }
}

#[cfg(test)]
mod tests;
