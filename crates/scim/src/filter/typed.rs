//! A filter checked against a resource type: every path resolved to its definition, every
//! literal converted to the attribute's type, `ne` and `null` comparisons rewritten, and
//! multi-valued attributes made explicit as "some value satisfies …" ([`Typed::Any`]).
//! [`crate::eval`] and [`crate::sql`] both start from this form, so the rules that reject a
//! filter and the meaning of an accepted one are written once.

use super::{CompareOp, Filter, Literal};
use crate::datetime::parse_millis;
use crate::error::ScimError;
use crate::path::AttrPath;
use crate::schema::{AttrRef, AttrType, AttributeDef, ResourceType};

/// The comparison of a [`Test::Cmp`]; `ne` has become `not eq`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Op {
    Eq,
    Co,
    Sw,
    Ew,
    Gt,
    Ge,
    Lt,
    Le,
}

/// A literal converted to the attribute's type.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum TLit {
    Str(String),
    Bool(bool),
    Int(i64),
    Dec(f64),
    /// A dateTime as Unix milliseconds.
    Time(i64),
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Test {
    /// The value is present: not null, not an empty string, and for a complex value some
    /// sub-attribute is present.
    Present,
    Cmp {
        op: Op,
        lit: TLit,
    },
}

/// Where a test reads its value.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Loc<'s> {
    /// A single-valued attribute, or a sub-attribute of a single-valued complex attribute.
    Attr(AttrRef<'s>),
    /// Inside [`Typed::Any`]: a sub-attribute of the element, or (`sub: None`) the element of a
    /// multi-valued simple attribute. `def` describes the value read.
    Elem {
        sub: Option<&'s AttributeDef>,
        def: &'s AttributeDef,
    },
}

impl<'s> Loc<'s> {
    pub fn def(&self) -> &'s AttributeDef {
        match self {
            Loc::Attr(r) => r.leaf(),
            Loc::Elem { def, .. } => def,
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Typed<'s> {
    And(Box<Typed<'s>>, Box<Typed<'s>>),
    Or(Box<Typed<'s>>, Box<Typed<'s>>),
    Not(Box<Typed<'s>>),
    Test {
        loc: Loc<'s>,
        test: Test,
    },
    /// Some value of the multi-valued attribute `attr` satisfies `inner`, whose locations are
    /// all [`Loc::Elem`].
    Any {
        attr: AttrRef<'s>,
        inner: Box<Typed<'s>>,
    },
}

fn not(t: Typed<'_>) -> Typed<'_> {
    Typed::Not(Box::new(t))
}

fn err(msg: String) -> ScimError {
    ScimError::invalid_filter(msg)
}

/// Checks a whole filter against `rt`.
pub(crate) fn check<'s>(f: &Filter, rt: &'s ResourceType) -> Result<Typed<'s>, ScimError> {
    Ok(match f {
        Filter::And(a, b) => Typed::And(Box::new(check(a, rt)?), Box::new(check(b, rt)?)),
        Filter::Or(a, b) => Typed::Or(Box::new(check(a, rt)?), Box::new(check(b, rt)?)),
        Filter::Not(a) => not(check(a, rt)?),
        Filter::Present { path } => {
            let r = resolve(rt, path)?;
            if r.attr.multi_valued {
                any(r, |loc| Ok(present(loc)))?
            } else {
                present(Loc::Attr(r))
            }
        }
        Filter::Compare { path, op, value } => {
            let r = resolve(rt, path)?;
            if r.attr.multi_valued {
                // `ne` and `eq null` are negations of "some value is equal / present", so the
                // negation goes outside the existential.
                match (op, value) {
                    (CompareOp::Ne, Literal::Null) => any(r, |loc| Ok(present(loc)))?,
                    (CompareOp::Eq, Literal::Null) => not(any(r, |loc| Ok(present(loc)))?),
                    (CompareOp::Ne, _) => {
                        not(any(r, |loc| compare(loc, CompareOp::Eq, value, path))?)
                    }
                    _ => any(r, |loc| compare(loc, *op, value, path))?,
                }
            } else {
                compare(Loc::Attr(r), *op, value, path)?
            }
        }
        Filter::ValuePath { attr, filter } => {
            let r = resolve(rt, attr)?;
            if r.attr.ty != AttrType::Complex || r.sub.is_some() {
                return Err(err(format!(
                    "`{attr}[...]` needs a complex attribute; `{attr}` is not one"
                )));
            }
            if r.attr.multi_valued {
                Typed::Any {
                    attr: r,
                    inner: Box::new(check_value_filter(filter, r)?),
                }
            } else {
                // A single-valued complex attribute: its value filter reads as if every path
                // inside were prefixed with the attribute (`name[givenName eq "a"]` is
                // `name.givenName eq "a"`).
                inside(filter, r, &|sub| {
                    Ok(Loc::Attr(AttrRef {
                        sub: Some(sub),
                        ..r
                    }))
                })?
            }
        }
    })
}

/// Checks the filter between the brackets of `attr[...]` (multi-valued complex `attr`): its
/// tests read sub-attributes of one element. PATCH uses this to select elements.
pub(crate) fn check_value_filter<'s>(
    f: &Filter,
    attr: AttrRef<'s>,
) -> Result<Typed<'s>, ScimError> {
    inside(f, attr, &|sub| {
        Ok(Loc::Elem {
            sub: Some(sub),
            def: sub,
        })
    })
}

fn inside<'s>(
    f: &Filter,
    attr: AttrRef<'s>,
    loc: &dyn Fn(&'s AttributeDef) -> Result<Loc<'s>, ScimError>,
) -> Result<Typed<'s>, ScimError> {
    let sub = |path: &AttrPath| -> Result<Loc<'s>, ScimError> {
        if !path.is_simple() {
            return Err(err(format!(
                "inside `{}[...]` use a sub-attribute name, not `{path}`",
                attr.attr.name
            )));
        }
        let def = attr.attr.sub(&path.name).ok_or_else(|| {
            err(format!(
                "`{}` has no sub-attribute `{}`",
                attr.attr.name, path.name
            ))
        })?;
        loc(def)
    };
    Ok(match f {
        Filter::And(a, b) => Typed::And(
            Box::new(inside(a, attr, loc)?),
            Box::new(inside(b, attr, loc)?),
        ),
        Filter::Or(a, b) => Typed::Or(
            Box::new(inside(a, attr, loc)?),
            Box::new(inside(b, attr, loc)?),
        ),
        Filter::Not(a) => not(inside(a, attr, loc)?),
        Filter::Present { path } => present(sub(path)?),
        Filter::Compare { path, op, value } => compare(sub(path)?, *op, value, path)?,
        Filter::ValuePath { .. } => return Err(err("value filters cannot be nested".into())),
    })
}

fn resolve<'s>(rt: &'s ResourceType, path: &AttrPath) -> Result<AttrRef<'s>, ScimError> {
    rt.resolve(path).ok_or_else(|| {
        err(format!(
            "unknown attribute `{path}` for {} resources",
            rt.name
        ))
    })
}

/// "Some value of multi-valued `r` satisfies `test(loc)`", where loc is the addressed
/// sub-attribute, else the `value` sub-attribute of a complex attribute, else the element.
fn any<'s>(
    r: AttrRef<'s>,
    test: impl FnOnce(Loc<'s>) -> Result<Typed<'s>, ScimError>,
) -> Result<Typed<'s>, ScimError> {
    let loc = match (r.sub, r.attr.ty) {
        (Some(sub), _) => Loc::Elem {
            sub: Some(sub),
            def: sub,
        },
        (None, AttrType::Complex) => {
            let value = r.attr.sub("value").ok_or_else(|| {
                err(format!(
                    "`{}` has no `value` sub-attribute; name the sub-attribute to compare",
                    r.attr.name
                ))
            })?;
            Loc::Elem {
                sub: Some(value),
                def: value,
            }
        }
        (None, _) => Loc::Elem {
            sub: None,
            def: r.attr,
        },
    };
    Ok(Typed::Any {
        attr: AttrRef { sub: None, ..r },
        inner: Box::new(test(loc)?),
    })
}

fn present(loc: Loc<'_>) -> Typed<'_> {
    Typed::Test {
        loc,
        test: Test::Present,
    }
}

/// One comparison on one value location.
fn compare<'s>(
    loc: Loc<'s>,
    op: CompareOp,
    value: &Literal,
    path: &AttrPath,
) -> Result<Typed<'s>, ScimError> {
    let def = loc.def();
    if *value == Literal::Null {
        return match op {
            CompareOp::Eq => Ok(not(present(loc))),
            CompareOp::Ne => Ok(present(loc)),
            _ => Err(err(format!(
                "`{}` cannot compare with null; only eq and ne can",
                op.as_str()
            ))),
        };
    }
    if def.ty == AttrType::Complex {
        return Err(err(format!(
            "`{path}` is complex; compare one of its sub-attributes"
        )));
    }
    let op = match op {
        CompareOp::Ne => return Ok(not(compare(loc, CompareOp::Eq, value, path)?)),
        CompareOp::Eq => Op::Eq,
        CompareOp::Co => Op::Co,
        CompareOp::Sw => Op::Sw,
        CompareOp::Ew => Op::Ew,
        CompareOp::Gt => Op::Gt,
        CompareOp::Ge => Op::Ge,
        CompareOp::Lt => Op::Lt,
        CompareOp::Le => Op::Le,
    };
    let kind = |ty: AttrType| match ty {
        AttrType::String => "a string",
        AttrType::Boolean => "a boolean",
        AttrType::Decimal => "a decimal",
        AttrType::Integer => "an integer",
        AttrType::DateTime => "a dateTime",
        AttrType::Reference => "a reference",
        AttrType::Binary => "binary",
        AttrType::Complex => "complex",
    };
    let opname = |op: Op| format!("{op:?}").to_lowercase();
    if matches!(op, Op::Co | Op::Sw | Op::Ew) && !def.ty.is_textual() {
        return Err(err(format!(
            "`{}` applies to strings; `{path}` is {}",
            opname(op),
            kind(def.ty)
        )));
    }
    if matches!(op, Op::Gt | Op::Ge | Op::Lt | Op::Le)
        && matches!(def.ty, AttrType::Boolean | AttrType::Binary)
    {
        return Err(err(format!(
            "`{}` does not apply to `{path}`, which is {}",
            opname(op),
            kind(def.ty)
        )));
    }
    let lit = match (def.ty, value) {
        (AttrType::String | AttrType::Reference | AttrType::Binary, Literal::Str(s)) => {
            TLit::Str(s.clone())
        }
        (AttrType::Boolean, Literal::Bool(b)) => TLit::Bool(*b),
        (AttrType::Integer, Literal::Int(i)) => TLit::Int(*i),
        (AttrType::Decimal, Literal::Int(i)) => TLit::Dec(*i as f64),
        (AttrType::Decimal, Literal::Dec(d)) => TLit::Dec(*d),
        (AttrType::DateTime, Literal::Str(s)) => TLit::Time(parse_millis(s).ok_or_else(|| {
            err(format!(
                "`{path}` is a dateTime and `{s}` is not an RFC 3339 date-time"
            ))
        })?),
        (ty, v) => {
            return Err(err(format!(
                "`{path}` is {} and cannot be compared with {v}",
                kind(ty)
            )))
        }
    };
    Ok(Typed::Test {
        loc,
        test: Test::Cmp { op, lit },
    })
}
