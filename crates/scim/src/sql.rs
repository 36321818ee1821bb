//! Filter → SQL `WHERE` fragment, portable to SQLite and PostgreSQL, with the exact semantics
//! of [`crate::eval`] (see its module documentation) provided the server keeps the
//! [`ColumnMap`] contract:
//!
//! - Every fragment evaluates to TRUE or FALSE, never NULL: each test is guarded by
//!   `col IS NOT NULL AND …`, so `NOT (…)` and `ne` match rows whose column is NULL, exactly as
//!   an absent attribute does in memory.
//! - An absent attribute is a NULL column; a multi-valued attribute is a child table with one
//!   row per element, and "some element" is `EXISTS (SELECT 1 FROM child …)`.
//! - Case-insensitive strings compare [`crate::eval::fold_case`]d values: exactly so when the
//!   map names a key column the server fills with `fold_case` ([`CaseFold::Key`]); through
//!   `LOWER(col)` otherwise ([`CaseFold::Lower`]), which agrees with memory for ASCII only
//!   (SQLite's `LOWER` folds ASCII only; PostgreSQL's follows the database's locale).
//!   `co`/`sw`/`ew` use `LIKE … ESCAPE '\'` on the folded value with `%`, `_` and `\` escaped
//!   (folded text has no upper-case ASCII, so SQLite's ASCII-insensitive LIKE changes nothing).
//! - Case-exact `co`/`sw`/`ew` cannot use LIKE, which SQLite makes case-insensitive; they use
//!   `REPLACE(col, $n, '') <> col` and `SUBSTR`/`LENGTH`, which both databases count in
//!   characters. The empty string matches any non-NULL value.
//! - `gt`/`ge`/`lt`/`le` on strings order by code point: SQLite's default BINARY collation
//!   does; on PostgreSQL the column (or the map's expression) must use `COLLATE "C"`. Equality
//!   needs a deterministic collation (the default), and no `NOCASE` column in SQLite.
//! - Placeholders are `$1…$n` (PostgreSQL); the server rewrites them to `?n` for SQLite.
//!   Literals are always bound, never spliced, except lengths this module computes.

use crate::error::ScimError;
use crate::eval::fold_case;
use crate::filter::typed::{self, Loc, Op, TLit, Test, Typed};
use crate::filter::Filter;
use crate::schema::{AttrRef, AttrType, AttributeDef, ResourceType};
use std::fmt::Write;

/// A value to bind to a placeholder. No NULL is ever bound: null comparisons become
/// `IS NULL` tests.
#[derive(Debug, Clone, PartialEq)]
pub enum SqlValue {
    Text(String),
    Int(i64),
    Real(f64),
    Bool(bool),
}

/// A `WHERE` fragment and the values for its placeholders, in order.
#[derive(Debug, Clone, PartialEq)]
pub struct SqlFilter {
    pub sql: String,
    /// The value for `$first`, `$first + 1`, …
    pub params: Vec<SqlValue>,
}

/// How a column stores its attribute's values.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Storage {
    /// TEXT, for string, reference and binary attributes.
    Text,
    /// BIGINT, for integer attributes.
    Integer,
    /// REAL / DOUBLE PRECISION, for decimal attributes.
    Real,
    /// A native BOOLEAN.
    Boolean,
    /// A boolean as a 0/1 integer (rolecall's migrations use these).
    BoolInt,
    /// A dateTime as BIGINT Unix milliseconds (rolecall's timestamps).
    UnixMillis,
}

/// How case-insensitive comparisons reach a folded value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CaseFold {
    /// `LOWER(expr)`: agrees with memory for ASCII text only.
    Lower,
    /// A column holding `fold_case(value)` (NULL exactly when the value is): exact agreement.
    Key(String),
}

/// A column (or expression) holding one attribute's value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Column {
    /// SQL expression. For the resource's own table a full expression such as `u.user_name`;
    /// for a [`ChildTable`] a bare column name, which this module qualifies with its alias.
    pub expr: String,
    pub storage: Storage,
    /// Used only for `caseExact: false` attributes.
    pub fold: CaseFold,
}

impl Column {
    /// A column with the given storage, folded with `LOWER` when case-insensitive.
    pub fn new(expr: &str, storage: Storage) -> Self {
        Column {
            expr: expr.to_string(),
            storage,
            fold: CaseFold::Lower,
        }
    }

    /// A TEXT column.
    pub fn text(expr: &str) -> Self {
        Column::new(expr, Storage::Text)
    }

    /// Names the column that holds the folded value (same qualification rule as `expr`).
    pub fn folded_in(mut self, key: &str) -> Self {
        self.fold = CaseFold::Key(key.to_string());
        self
    }
}

/// The table holding a multi-valued attribute's elements, one row per element.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChildTable {
    /// A table name, or a parenthesised subquery (for example to join a member's display name).
    pub table: String,
    /// Column of the child table that refers to the resource.
    pub foreign_key: String,
    /// Expression of the resource's key, e.g. `u.id`.
    pub parent_key: String,
    /// Sub-attribute name → column of the child table. A multi-valued simple attribute lists
    /// its element column under `value`.
    pub columns: Vec<(String, Column)>,
}

impl ChildTable {
    fn column(&self, sub: &str) -> Option<&Column> {
        self.columns
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(sub))
            .map(|(_, c)| c)
    }
}

/// What the server tells the translator about its tables. Types and case rules come from
/// [`ColumnMap::resource_type`], the same definitions [`crate::eval`] uses, so the two cannot
/// disagree about them; the map only says where and how values are stored.
pub trait ColumnMap {
    /// The resource type whose filters are translated.
    fn resource_type(&self) -> &ResourceType;
    /// The column of a single-valued attribute or of a sub-attribute of a single-valued
    /// complex attribute (`attr.sub` is then set). `None`: the attribute cannot be filtered on
    /// (`invalidFilter`). For `pr` on a complex attribute, sub-attributes mapped to `None` are
    /// taken to be never stored.
    fn column(&self, attr: &AttrRef<'_>) -> Option<Column>;
    /// The child table of a multi-valued attribute (`attr.sub` is `None`).
    fn child_table(&self, attr: &AttrRef<'_>) -> Option<ChildTable>;
}

/// Translates `filter` with placeholders from `$1`.
pub fn to_sql(filter: &Filter, map: &dyn ColumnMap) -> Result<SqlFilter, ScimError> {
    to_sql_at(filter, map, 1)
}

/// Translates `filter` with placeholders from `$first`, for queries that bind other values
/// before it.
pub fn to_sql_at(
    filter: &Filter,
    map: &dyn ColumnMap,
    first: usize,
) -> Result<SqlFilter, ScimError> {
    let typed = typed::check(filter, map.resource_type())?;
    let mut g = Gen {
        map,
        first,
        params: Vec::new(),
        aliases: 0,
    };
    let mut sql = String::new();
    g.node(&typed, None, &mut sql)?;
    Ok(SqlFilter {
        sql,
        params: g.params,
    })
}

struct Gen<'m> {
    map: &'m dyn ColumnMap,
    first: usize,
    params: Vec<SqlValue>,
    aliases: usize,
}

/// The child table and alias that element tests read.
struct Scope<'a> {
    table: &'a ChildTable,
    alias: &'a str,
}

fn server_error(detail: String) -> ScimError {
    ScimError {
        status: 500,
        scim_type: None,
        detail,
    }
}

fn unmapped(what: &str) -> ScimError {
    ScimError::invalid_filter(format!("filtering on `{what}` is not supported"))
}

impl Gen<'_> {
    fn bind(&mut self, v: SqlValue) -> String {
        self.params.push(v);
        format!("${}", self.first + self.params.len() - 1)
    }

    fn node(
        &mut self,
        t: &Typed<'_>,
        scope: Option<&Scope<'_>>,
        out: &mut String,
    ) -> Result<(), ScimError> {
        match t {
            Typed::And(a, b) | Typed::Or(a, b) => {
                out.push('(');
                self.node(a, scope, out)?;
                out.push_str(if matches!(t, Typed::And(..)) {
                    " AND "
                } else {
                    " OR "
                });
                self.node(b, scope, out)?;
                out.push(')');
            }
            Typed::Not(a) => {
                out.push_str("NOT (");
                self.node(a, scope, out)?;
                out.push(')');
            }
            Typed::Any { attr, inner } => {
                let table = self
                    .map
                    .child_table(attr)
                    .ok_or_else(|| unmapped(&attr.canonical()))?;
                self.aliases += 1;
                let alias = format!("scim_e{}", self.aliases);
                let _ = write!(
                    out,
                    "EXISTS (SELECT 1 FROM {} {alias} WHERE {alias}.{} = {} AND ",
                    table.table, table.foreign_key, table.parent_key
                );
                let inner_scope = Scope {
                    table: &table,
                    alias: &alias,
                };
                self.node(inner, Some(&inner_scope), out)?;
                out.push(')');
            }
            Typed::Test { loc, test } => match (loc, scope) {
                (Loc::Attr(r), _) if r.sub.is_none() && r.attr.ty == AttrType::Complex => {
                    // `pr` on a single-valued complex attribute: some mapped sub-attribute is.
                    let mut parts = Vec::new();
                    for sub in &r.attr.sub_attributes {
                        let sr = AttrRef {
                            sub: Some(sub),
                            ..*r
                        };
                        if let Some(col) = self.map.column(&sr) {
                            check_storage(sub, &col, &sr.canonical())?;
                            parts.push(present_sql(&col.expr, col.storage));
                        }
                    }
                    if parts.is_empty() {
                        return Err(unmapped(&r.canonical()));
                    }
                    let _ = write!(out, "({})", parts.join(" OR "));
                }
                (Loc::Attr(r), _) => {
                    let col = self.map.column(r).ok_or_else(|| unmapped(&r.canonical()))?;
                    check_storage(r.leaf(), &col, &r.canonical())?;
                    let key = match &col.fold {
                        CaseFold::Lower => format!("LOWER({})", col.expr),
                        CaseFold::Key(k) => k.clone(),
                    };
                    self.test(test, r.leaf(), &col, &col.expr, &key, out);
                }
                (Loc::Elem { sub, def }, Some(s)) => {
                    let name = sub.map_or("value", |d| d.name.as_str());
                    let col = s
                        .table
                        .column(name)
                        .ok_or_else(|| unmapped(&format!("{}.{name}", s.table.table)))?;
                    check_storage(def, col, name)?;
                    let expr = format!("{}.{}", s.alias, col.expr);
                    let key = match &col.fold {
                        CaseFold::Lower => format!("LOWER({expr})"),
                        CaseFold::Key(k) => format!("{}.{k}", s.alias),
                    };
                    self.test(test, def, col, &expr, &key, out);
                }
                (Loc::Elem { .. }, None) => {
                    return Err(server_error("element test outside a child table".into()))
                }
            },
        }
        Ok(())
    }

    /// One test on one column. `key` is the folded expression for case-insensitive text.
    fn test(
        &mut self,
        test: &Test,
        def: &AttributeDef,
        col: &Column,
        expr: &str,
        key: &str,
        out: &mut String,
    ) {
        let (op, lit) = match test {
            Test::Present => {
                out.push_str(&present_sql(expr, col.storage));
                return;
            }
            Test::Cmp { op, lit } => (*op, lit),
        };
        let cmp = match op {
            Op::Eq => "=",
            Op::Gt => ">",
            Op::Ge => ">=",
            Op::Lt => "<",
            Op::Le => "<=",
            Op::Co | Op::Sw | Op::Ew => "",
        };
        let sql = match lit {
            TLit::Str(l) if !def.case_exact => {
                let l = fold_case(l);
                match op {
                    Op::Co | Op::Sw | Op::Ew => {
                        let escaped = like_escape(&l);
                        let pattern = match op {
                            Op::Co => format!("%{escaped}%"),
                            Op::Sw => format!("{escaped}%"),
                            _ => format!("%{escaped}"),
                        };
                        let p = self.bind(SqlValue::Text(pattern));
                        format!("({key} IS NOT NULL AND {key} LIKE {p} ESCAPE '\\')")
                    }
                    _ => {
                        let p = self.bind(SqlValue::Text(l));
                        format!("({key} IS NOT NULL AND {key} {cmp} {p})")
                    }
                }
            }
            TLit::Str(l) => match op {
                Op::Co | Op::Sw | Op::Ew if l.is_empty() => format!("({expr} IS NOT NULL)"),
                Op::Co => {
                    let p = self.bind(SqlValue::Text(l.clone()));
                    format!("({expr} IS NOT NULL AND REPLACE({expr}, {p}, '') <> {expr})")
                }
                Op::Sw => {
                    let n = l.chars().count();
                    let p = self.bind(SqlValue::Text(l.clone()));
                    format!("({expr} IS NOT NULL AND SUBSTR({expr}, 1, {n}) = {p})")
                }
                Op::Ew => {
                    let n = l.chars().count();
                    let p = self.bind(SqlValue::Text(l.clone()));
                    format!(
                        "({expr} IS NOT NULL AND LENGTH({expr}) >= {n} AND SUBSTR({expr}, LENGTH({expr}) - {}) = {p})",
                        n - 1
                    )
                }
                _ => {
                    let p = self.bind(SqlValue::Text(l.clone()));
                    format!("({expr} IS NOT NULL AND {expr} {cmp} {p})")
                }
            },
            TLit::Bool(b) => {
                let v = if col.storage == Storage::BoolInt {
                    SqlValue::Int(i64::from(*b))
                } else {
                    SqlValue::Bool(*b)
                };
                let p = self.bind(v);
                format!("({expr} IS NOT NULL AND {expr} {cmp} {p})")
            }
            TLit::Int(i) | TLit::Time(i) => {
                let p = self.bind(SqlValue::Int(*i));
                format!("({expr} IS NOT NULL AND {expr} {cmp} {p})")
            }
            TLit::Dec(d) => {
                let p = self.bind(SqlValue::Real(*d));
                format!("({expr} IS NOT NULL AND {expr} {cmp} {p})")
            }
        };
        out.push_str(&sql);
    }
}

fn present_sql(expr: &str, storage: Storage) -> String {
    if storage == Storage::Text {
        format!("({expr} IS NOT NULL AND {expr} <> '')")
    } else {
        format!("({expr} IS NOT NULL)")
    }
}

/// Escapes LIKE's wildcards and the escape character itself.
fn like_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if matches!(c, '\\' | '%' | '_') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// A map that stores a value in a column of the wrong kind is a server bug: 500, not 400.
fn check_storage(def: &AttributeDef, col: &Column, what: &str) -> Result<(), ScimError> {
    let ok = match def.ty {
        AttrType::String | AttrType::Reference | AttrType::Binary => col.storage == Storage::Text,
        AttrType::Boolean => matches!(col.storage, Storage::Boolean | Storage::BoolInt),
        AttrType::Integer => col.storage == Storage::Integer,
        AttrType::Decimal => col.storage == Storage::Real,
        AttrType::DateTime => col.storage == Storage::UnixMillis,
        AttrType::Complex => false,
    };
    if ok {
        Ok(())
    } else {
        Err(server_error(format!(
            "column map stores `{what}` ({:?}) as {:?}",
            def.ty, col.storage
        )))
    }
}

#[cfg(test)]
mod tests;
