//! Attribute values written by clients: checked and normalised against their definitions
//! (types, booleans sent as strings, canonical key spelling, readOnly sub-attributes dropped),
//! compared for identity within multi-valued attributes, and the resource tidied afterwards
//! (unassigned values removed, `schemas` rebuilt, required attributes checked). PATCH, POST
//! and PUT all write through here.

use crate::datetime::parse_millis;
use crate::error::ScimError;
use crate::eval::{fold_case, present};
use crate::object;
use crate::schema::{AttrType, AttributeDef, ResourceType};
use serde_json::{Map, Value};

/// Normalises a value for attribute `def`. For a multi-valued attribute `whole` says whether
/// the value is the whole attribute (an array, a lone element is wrapped) or one element.
/// `Null` means unassigned and is returned as is.
pub(crate) fn normalize(
    def: &AttributeDef,
    v: &Value,
    whole: bool,
    name: &str,
) -> Result<Value, ScimError> {
    if v.is_null() {
        return Ok(Value::Null);
    }
    if def.multi_valued && whole {
        let items: Vec<&Value> = match v {
            Value::Array(items) => items.iter().collect(),
            single => vec![single],
        };
        let mut out = Vec::with_capacity(items.len());
        for item in items {
            let n = normalize(def, item, false, name)?;
            if !n.is_null() {
                out.push(n);
            }
        }
        return Ok(Value::Array(out));
    }
    let bad =
        |what: &str| ScimError::invalid_value(format!("`{name}` must be {what}, not {}", short(v)));
    Ok(match def.ty {
        AttrType::String | AttrType::Reference | AttrType::Binary => {
            let s = v.as_str().ok_or_else(|| bad("a string"))?;
            if let Some(max) = def.max_length {
                if s.chars().count() > max {
                    return Err(ScimError::invalid_value(format!(
                        "`{name}` is longer than {max} characters"
                    )));
                }
            }
            v.clone()
        }
        AttrType::Boolean => match v {
            Value::Bool(_) => v.clone(),
            // Entra sends booleans as "True"/"False".
            Value::String(s) if s.eq_ignore_ascii_case("true") => Value::Bool(true),
            Value::String(s) if s.eq_ignore_ascii_case("false") => Value::Bool(false),
            _ => return Err(bad("a boolean")),
        },
        AttrType::Integer => {
            if v.as_i64().is_none() {
                return Err(bad("an integer"));
            }
            v.clone()
        }
        AttrType::Decimal => {
            if !v.is_number() {
                return Err(bad("a number"));
            }
            v.clone()
        }
        AttrType::DateTime => {
            if v.as_str().and_then(parse_millis).is_none() {
                return Err(bad("an RFC 3339 date-time"));
            }
            v.clone()
        }
        AttrType::Complex => match v {
            Value::Object(o) => {
                let mut out = Map::new();
                for (k, sv) in o {
                    let sub = def.sub(k).ok_or_else(|| {
                        ScimError::invalid_value(format!("`{name}` has no sub-attribute `{k}`"))
                    })?;
                    // readOnly values from clients are ignored (RFC 7644 §3.5.1).
                    if sub.is_read_only() {
                        continue;
                    }
                    // A null sub-attribute is kept so that merging it unassigns the
                    // sub-attribute; `finish` removes it afterwards.
                    let n = normalize(sub, sv, true, &format!("{name}.{}", sub.name))?;
                    out.insert(sub.name.clone(), n);
                }
                Value::Object(out)
            }
            // Entra sends the manager as a bare id: a lone value for a complex attribute with a
            // `value` sub-attribute is that sub-attribute.
            Value::String(_) if def.sub("value").is_some() => {
                let mut out = Map::new();
                if let Some(sub) = def.sub("value") {
                    out.insert(
                        sub.name.clone(),
                        normalize(sub, v, true, &format!("{name}.value"))?,
                    );
                }
                Value::Object(out)
            }
            _ => return Err(bad("an object")),
        },
    })
}

fn short(v: &Value) -> String {
    let s = v.to_string();
    if s.chars().count() > 40 {
        format!("{}…", s.chars().take(40).collect::<String>())
    } else {
        s
    }
}

/// Whether two values of `def` are equal under its case rule.
pub(crate) fn same_scalar(def: &AttributeDef, a: &Value, b: &Value) -> bool {
    match (a.as_str(), b.as_str()) {
        (Some(x), Some(y)) if !def.case_exact && def.ty.is_textual() => {
            fold_case(x) == fold_case(y)
        }
        _ => a == b,
    }
}

/// Whether two elements of multi-valued `def` are the same element: by their `value`
/// sub-attribute when both have one (a member is its id, an e-mail its address), else by
/// equality of the whole element.
pub(crate) fn same_element(def: &AttributeDef, a: &Value, b: &Value) -> bool {
    if def.ty != AttrType::Complex {
        return same_scalar(def, a, b);
    }
    let value = def.sub("value");
    fn pick<'v>(vd: Option<&AttributeDef>, e: &'v Value) -> Option<&'v Value> {
        object::get(e.as_object()?, &vd?.name)
    }
    match (value, pick(value, a), pick(value, b)) {
        (Some(vd), Some(x), Some(y)) => same_scalar(vd, x, y),
        _ => a == b,
    }
}

/// Whether a value counts as assigned (RFC 7643 §2.5: null, an empty array and an object with
/// nothing in it are all "unassigned").
fn assigned(v: &Value) -> bool {
    match v {
        Value::Null => false,
        Value::Array(a) => !a.is_empty(),
        Value::Object(o) => !o.is_empty(),
        _ => true,
    }
}

/// Removes unassigned values from an attribute container, recursively through complex values.
fn tidy(obj: &mut Map<String, Value>) {
    for v in obj.values_mut() {
        match v {
            Value::Object(o) => tidy(o),
            Value::Array(items) => {
                for item in items.iter_mut() {
                    if let Value::Object(o) = item {
                        tidy(o);
                    }
                }
                items.retain(assigned);
            }
            _ => {}
        }
    }
    obj.retain(|_, v| assigned(v));
}

/// Makes a written resource consistent: removes unassigned values, drops empty extension
/// objects, rebuilds `schemas` (core URN, then each extension present), and checks that every
/// required attribute is present (`invalidValue` otherwise).
pub(crate) fn finish(doc: &mut Value, rt: &ResourceType) -> Result<(), ScimError> {
    let Some(obj) = doc.as_object_mut() else {
        return Err(ScimError::invalid_syntax(
            "a resource must be a JSON object",
        ));
    };
    object::remove(obj, "schemas");
    let mut schemas = vec![Value::String(rt.schema.id.clone())];
    let mut extensions = Vec::new();
    for ext in &rt.extensions {
        if let Some(Value::Object(mut o)) = object::remove(obj, &ext.schema.id) {
            tidy(&mut o);
            if !o.is_empty() {
                schemas.push(Value::String(ext.schema.id.clone()));
                extensions.push((ext.schema.id.clone(), o));
            }
        }
    }
    tidy(obj);
    let required = |schema: &crate::schema::Schema, container: &Map<String, Value>| {
        for attr in &schema.attributes {
            if attr.required && !present(attr, object::get(container, &attr.name)) {
                return Err(ScimError::invalid_value(format!(
                    "`{}` is required",
                    attr.name
                )));
            }
        }
        Ok(())
    };
    required(&rt.schema, obj)?;
    let empty = Map::new();
    for ext in rt.extensions.iter().filter(|e| e.required) {
        let o = extensions
            .iter()
            .find(|(id, _)| *id == ext.schema.id)
            .map_or(&empty, |(_, o)| o);
        required(&ext.schema, o)?;
    }
    obj.insert("schemas".into(), Value::Array(schemas));
    for (id, o) in extensions {
        obj.insert(id, Value::Object(o));
    }
    Ok(())
}
