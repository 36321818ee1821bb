//! In-memory filter evaluation over a resource as JSON.
//!
//! The semantics (shared exactly with [`crate::sql`], both reading `filter::typed`):
//! - Logic is two-valued: a test on an absent attribute is false, never unknown, so `not`
//!   and `ne` behave classically (`title ne "x"` matches resources without a title).
//! - Absent means missing or JSON `null`; an empty array counts as absent.
//! - `pr` is true when the value is present and not the empty string; on a single-valued
//!   complex attribute when some sub-attribute is present; on a multi-valued attribute when
//!   some element's value is present.
//! - `eq null` is `not pr`, `ne null` is `pr`; `ne v` is `not (eq v)`.
//! - A multi-valued attribute matches when some element matches; without a sub-attribute a
//!   complex one compares its elements' `value`. `emails[f]` needs one element satisfying all
//!   of `f`.
//! - Strings: attributes with `caseExact: false` compare after [`fold_case`]; order is by
//!   Unicode code point (the byte order of UTF-8). `co`/`sw`/`ew` with "" match any present
//!   string, including "".
//! - dateTimes compare as instants at millisecond precision; decimals as `f64`; integers
//!   exactly; booleans only with `eq`/`ne`.
//! - A stored value whose JSON type does not fit its attribute (a number in a string
//!   attribute, an unparsable dateTime) matches no comparison.
//! - Unknown attributes, wrong literal types and operators that do not apply are rejected
//!   with `invalidFilter` before anything is evaluated.

use crate::datetime::parse_millis;
use crate::error::ScimError;
use crate::filter::typed::{self, Loc, Op, TLit, Test, Typed};
use crate::filter::Filter;
use crate::object;
use crate::schema::{AttrType, AttributeDef, ResourceType};
use serde_json::Value;
use std::cmp::Ordering;

/// The case folding used for `caseExact: false` attributes: Unicode lower case. A server that
/// keeps folded key columns for SQL must fill them with this function.
pub fn fold_case(s: &str) -> String {
    s.to_lowercase()
}

/// Whether `resource` satisfies `filter`; `invalidFilter` when the filter does not fit `rt`.
pub fn matches(filter: &Filter, resource: &Value, rt: &ResourceType) -> Result<bool, ScimError> {
    let typed = typed::check(filter, rt)?;
    Ok(eval(&typed, resource))
}

/// Checks `filter` against `rt` once, then tests many resources.
pub fn compile<'s>(filter: &Filter, rt: &'s ResourceType) -> Result<Compiled<'s>, ScimError> {
    Ok(Compiled(typed::check(filter, rt)?))
}

/// A filter checked against a resource type, ready to test resources.
#[derive(Debug, Clone)]
pub struct Compiled<'s>(Typed<'s>);

impl Compiled<'_> {
    /// Whether `resource` satisfies the filter.
    pub fn matches(&self, resource: &Value) -> bool {
        eval(&self.0, resource)
    }
}

pub(crate) fn eval(t: &Typed<'_>, resource: &Value) -> bool {
    match t {
        Typed::And(a, b) => eval(a, resource) && eval(b, resource),
        Typed::Or(a, b) => eval(a, resource) || eval(b, resource),
        Typed::Not(a) => !eval(a, resource),
        Typed::Test { loc, test } => match loc {
            Loc::Attr(r) => {
                let v = object::attribute(resource, r);
                match r.sub {
                    None => run(test, r.attr, v),
                    Some(sub) => run(test, sub, v.and_then(|v| sub_value(v, sub))),
                }
            }
            // Element tests only occur inside `Any`; outside it there is no element.
            Loc::Elem { .. } => false,
        },
        Typed::Any { attr, inner } => match object::attribute(resource, attr) {
            Some(Value::Array(items)) => items.iter().any(|e| eval_element(inner, e)),
            Some(Value::Null) | None => false,
            Some(single) => eval_element(inner, single),
        },
    }
}

/// Evaluates the inside of `Any` (or a PATCH value filter) on one element.
pub(crate) fn eval_element(t: &Typed<'_>, element: &Value) -> bool {
    match t {
        Typed::And(a, b) => eval_element(a, element) && eval_element(b, element),
        Typed::Or(a, b) => eval_element(a, element) || eval_element(b, element),
        Typed::Not(a) => !eval_element(a, element),
        Typed::Test {
            loc: Loc::Elem { sub, def },
            test,
        } => {
            let v = match sub {
                Some(s) => sub_value(element, s),
                None => Some(element),
            };
            run(test, def, v)
        }
        Typed::Test { .. } | Typed::Any { .. } => false,
    }
}

fn sub_value<'v>(v: &'v Value, sub: &AttributeDef) -> Option<&'v Value> {
    object::get(v.as_object()?, &sub.name)
}

fn run(test: &Test, def: &AttributeDef, v: Option<&Value>) -> bool {
    match test {
        Test::Present => present(def, v),
        Test::Cmp { op, lit } => v.is_some_and(|v| compare(def, v, *op, lit)),
    }
}

/// Presence as defined in the module documentation.
pub(crate) fn present(def: &AttributeDef, v: Option<&Value>) -> bool {
    match v {
        None | Some(Value::Null) => false,
        Some(Value::String(s)) => !s.is_empty(),
        Some(Value::Array(items)) => items.iter().any(|i| present(def, Some(i))),
        Some(Value::Object(o)) if def.ty == AttrType::Complex => def
            .sub_attributes
            .iter()
            .any(|s| present(s, object::get(o, &s.name))),
        Some(Value::Object(o)) => !o.is_empty(),
        Some(_) => true,
    }
}

fn ordered(op: Op, ord: Option<Ordering>) -> bool {
    let Some(ord) = ord else { return false };
    match op {
        Op::Eq => ord == Ordering::Equal,
        Op::Gt => ord == Ordering::Greater,
        Op::Ge => ord != Ordering::Less,
        Op::Lt => ord == Ordering::Less,
        Op::Le => ord != Ordering::Greater,
        Op::Co | Op::Sw | Op::Ew => false,
    }
}

fn compare(def: &AttributeDef, v: &Value, op: Op, lit: &TLit) -> bool {
    match lit {
        TLit::Str(l) => {
            let Some(s) = v.as_str() else { return false };
            let (s, l) = if def.case_exact {
                (s.to_string(), l.clone())
            } else {
                (fold_case(s), fold_case(l))
            };
            match op {
                Op::Co => s.contains(&l),
                Op::Sw => s.starts_with(&l),
                Op::Ew => s.ends_with(&l),
                _ => ordered(op, Some(s.as_str().cmp(l.as_str()))),
            }
        }
        TLit::Bool(l) => v.as_bool().is_some_and(|b| ordered(op, Some(b.cmp(l)))),
        TLit::Int(l) => v.as_i64().is_some_and(|i| ordered(op, Some(i.cmp(l)))),
        TLit::Dec(l) => v.as_f64().is_some_and(|d| ordered(op, d.partial_cmp(l))),
        TLit::Time(l) => v
            .as_str()
            .and_then(parse_millis)
            .is_some_and(|t| ordered(op, Some(t.cmp(l)))),
    }
}

#[cfg(test)]
mod tests;
