//! PATCH (RFC 7644 §3.5.2): the `PatchOp` message and its all-or-nothing application to a
//! resource held as JSON. The operations run in order on a copy; the copy is returned only if
//! every one succeeds and the result is valid, so a failed PATCH changes nothing.
//!
//! Rules implemented (RFC sections, then the client quirks accepted):
//! - The body's `schemas` must contain the PatchOp URN and `Operations` must be a non-empty
//!   array (`invalidSyntax`); `op` is `add`, `replace` or `remove` in any case; `add` and
//!   `replace` need a `value`. An empty `path` is no path.
//! - Paths are `attr`, `attr.sub`, `attr[filter]`, `attr[filter].sub`, optionally URN-qualified,
//!   or an extension URN alone (the extension's whole object). Unknown attributes and malformed
//!   paths are `invalidPath`, and so are filters that do not fit the attribute.
//! - add (§3.5.2.1): without a path the value is an object of attributes, each added as if it
//!   were a path. A single-valued attribute is set; a complex one has the given sub-attributes
//!   set and the others kept; a multi-valued one has the values appended, except that a value
//!   equal to an existing one (same `value` sub-attribute under its case rule, or equal as a
//!   whole) is merged into it rather than duplicated. With a filter, the matching values get
//!   the sub-attribute (or the value's sub-attributes); if none matches and the filter is a
//!   conjunction of `eq` tests, a new value is made from those tests (Entra adds
//!   `emails[type eq "work"].value` to users without a work e-mail this way), else `noTarget`.
//! - replace (§3.5.2.3): a missing attribute is added. A single-valued attribute is set; a
//!   complex one has the given sub-attributes replaced and the others kept; a multi-valued
//!   one is replaced as a whole. With a filter, matching values are replaced as a whole, or
//!   their sub-attribute set; no match is `noTarget`, except that, as for add, a conjunction
//!   of `eq` tests creates the element (Entra replaces `emails[type eq "work"].value` and
//!   `addresses[type eq "work"].locality` whether or not the user has one). `attr.sub` on a multi-valued attribute
//!   addresses that sub-attribute of every value.
//! - remove (§3.5.2.2): no path is `noTarget`. A path removes the attribute, sub-attribute or
//!   filtered values; a filter matching nothing is `noTarget`; removing an absent attribute is
//!   a no-op. A multi-valued attribute with a `value` list removes only the listed values
//!   (Entra's `{"op":"Remove","path":"members","value":[{"value":"id"}]}`); listed values
//!   that are absent are ignored.
//! - A value of null or an empty array unassigns the attribute (RFC 7643 §2.5), a null
//!   sub-attribute in a complex value unassigns that sub-attribute, and values an operation
//!   leaves empty (an object without sub-attributes, an empty array) are removed.
//! - Mutability: changing a readOnly attribute or sub-attribute (`id`, `meta`, `groups`,
//!   `members.display`) or changing an immutable one that has a value (`members.value`) is
//!   `mutability`. Setting one to the value it already has is ignored: Okta renames a group
//!   with a path-less replace that carries the group's own `id`. readOnly sub-attributes inside
//!   a written complex value are dropped (RFC 7644 §3.5.1).
//! - Values are checked against their attribute's type (`invalidValue`); booleans sent as
//!   `"True"`/`"False"` are read as booleans (Entra); a bare string for a complex attribute with
//!   a `value` sub-attribute is that sub-attribute (Entra sends `manager` so).
//! - Path-less `add`/`replace` keys may be dotted (`name.givenName`), URN-qualified
//!   (`urn:…:enterprise:2.0:User:department`), an extension URN whose value is an object of its
//!   attributes, or a filtered path (Entra's aadOptscim062020 flag); `schemas` is ignored, and
//!   so are attributes the resource type does not define, so that a client mapping an attribute
//!   rolecall does not keep does not fail the whole request.
//! - When an operation makes a value `primary`, the other values of that attribute stop being
//!   primary (RFC 7643 §2.4).
//! - Afterwards `schemas` is rebuilt from the extensions present and required attributes must
//!   still be present (`invalidValue`).

use crate::error::ScimError;
use crate::eval::eval_element;
use crate::filter::typed::{self, Typed};
use crate::filter::{CompareOp, Filter, Literal};
use crate::object;
use crate::path::{AttrPath, PatchPath};
use crate::schema::{AttrRef, AttrType, AttributeDef, Mutability, ResourceType, Schema};
use crate::value::{finish, normalize, same_element, same_scalar};
use serde_json::{Map, Value};

/// URN of the PATCH request message.
pub const PATCH_OP_SCHEMA: &str = "urn:ietf:params:scim:api:messages:2.0:PatchOp";

/// The operation keyword.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PatchOpKind {
    Add,
    Replace,
    Remove,
}

/// One PATCH operation.
#[derive(Debug, Clone, PartialEq)]
pub struct PatchOperation {
    pub op: PatchOpKind,
    pub path: Option<PatchPath>,
    pub value: Option<Value>,
}

/// A parsed `PatchOp` request.
#[derive(Debug, Clone, PartialEq)]
pub struct PatchRequest {
    pub operations: Vec<PatchOperation>,
}

/// Parses `body` and applies it to `resource`; the new resource, or the first error.
pub fn apply_patch(resource: &Value, body: &Value, rt: &ResourceType) -> Result<Value, ScimError> {
    PatchRequest::from_json(body)?.apply(resource, rt)
}

impl PatchRequest {
    /// Reads a PatchOp body (`invalidSyntax` or `invalidPath` when malformed).
    pub fn from_json(body: &Value) -> Result<PatchRequest, ScimError> {
        let syntax = |m: String| ScimError::invalid_syntax(m);
        let obj = body
            .as_object()
            .ok_or_else(|| syntax("a PATCH body must be a JSON object".into()))?;
        let schemas = object::get(obj, "schemas").and_then(Value::as_array);
        if !schemas.is_some_and(|s| {
            s.iter().any(|u| {
                u.as_str()
                    .is_some_and(|u| u.eq_ignore_ascii_case(PATCH_OP_SCHEMA))
            })
        }) {
            return Err(syntax(format!("`schemas` must contain {PATCH_OP_SCHEMA}")));
        }
        let ops = object::get(obj, "Operations")
            .and_then(Value::as_array)
            .filter(|ops| !ops.is_empty())
            .ok_or_else(|| syntax("`Operations` must be a non-empty array".into()))?;
        let mut operations = Vec::with_capacity(ops.len());
        for (i, op) in ops.iter().enumerate() {
            let o = op
                .as_object()
                .ok_or_else(|| syntax(format!("operation {i} is not an object")))?;
            let kind = match object::get(o, "op").and_then(Value::as_str) {
                Some(k) if k.eq_ignore_ascii_case("add") => PatchOpKind::Add,
                Some(k) if k.eq_ignore_ascii_case("replace") => PatchOpKind::Replace,
                Some(k) if k.eq_ignore_ascii_case("remove") => PatchOpKind::Remove,
                _ => {
                    return Err(syntax(format!(
                        "operation {i}: `op` must be add, replace or remove"
                    )))
                }
            };
            let path = match object::get(o, "path") {
                None | Some(Value::Null) => None,
                Some(Value::String(p)) if p.trim().is_empty() => None,
                Some(Value::String(p)) => Some(PatchPath::parse(p)?),
                Some(_) => return Err(syntax(format!("operation {i}: `path` must be a string"))),
            };
            let value = object::get(o, "value").cloned();
            if kind != PatchOpKind::Remove && value.is_none() {
                return Err(syntax(format!(
                    "operation {i}: add and replace need a `value`"
                )));
            }
            operations.push(PatchOperation {
                op: kind,
                path,
                value,
            });
        }
        Ok(PatchRequest { operations })
    }

    /// Applies every operation to a copy of `resource`; all or nothing.
    pub fn apply(&self, resource: &Value, rt: &ResourceType) -> Result<Value, ScimError> {
        let mut doc = resource.clone();
        if !doc.is_object() {
            return Err(ScimError::invalid_syntax(
                "a resource must be a JSON object",
            ));
        }
        for op in &self.operations {
            match &op.path {
                Some(p) => apply_path(&mut doc, op.op, p, op.value.as_ref(), rt)?,
                None => apply_pathless(&mut doc, op.op, op.value.as_ref(), rt)?,
            }
        }
        finish(&mut doc, rt)?;
        Ok(doc)
    }
}

fn apply_pathless(
    doc: &mut Value,
    kind: PatchOpKind,
    value: Option<&Value>,
    rt: &ResourceType,
) -> Result<(), ScimError> {
    if kind == PatchOpKind::Remove {
        return Err(ScimError::no_target("remove needs a `path`"));
    }
    let obj = value.and_then(Value::as_object).ok_or_else(|| {
        ScimError::invalid_value("without a `path`, `value` must be an object of attributes")
    })?;
    for (key, v) in obj {
        if key.eq_ignore_ascii_case("schemas") {
            continue;
        }
        let path = PatchPath::parse(key)?;
        let a = &path.attr;
        let extension = a
            .urn
            .as_ref()
            .is_some_and(|urn| rt.extension(&format!("{urn}:{}", a.name)).is_some());
        // Only an attribute the resource type does not define is skipped; a known attribute
        // with a bad sub-attribute or filter is still an error.
        if !extension
            && rt
                .resolve(&AttrPath {
                    sub: None,
                    ..a.clone()
                })
                .is_none()
        {
            continue;
        }
        apply_path(doc, kind, &path, Some(v), rt)?;
    }
    Ok(())
}

/// Which values of the attribute an operation addresses.
enum Select<'s> {
    /// The attribute itself, or `attr.sub` of a single-valued complex attribute.
    Whole,
    /// The values matching the filter (the filter is kept for Entra's add-if-missing).
    Filter(Typed<'s>, &'s Filter),
    /// Every value (`attr.sub` on a multi-valued attribute).
    All,
}

struct Target<'s> {
    /// `sub` is set only for `attr.sub` of a single-valued complex attribute.
    r: AttrRef<'s>,
    select: Select<'s>,
    /// The sub-attribute of each selected value, for `Filter` and `All`.
    sub: Option<&'s AttributeDef>,
}

enum Resolved<'s> {
    Extension(&'s Schema),
    Attr(Target<'s>),
}

fn resolve<'s>(path: &'s PatchPath, rt: &'s ResourceType) -> Result<Resolved<'s>, ScimError> {
    let a = &path.attr;
    if let (Some(urn), None, None, None) = (&a.urn, &a.sub, &path.filter, &path.sub) {
        if let Some(ext) = rt.extension(&format!("{urn}:{}", a.name)) {
            return Ok(Resolved::Extension(ext));
        }
    }
    let r = rt.resolve(a).ok_or_else(|| {
        ScimError::invalid_path(format!("unknown attribute `{a}` for {} resources", rt.name))
    })?;
    let trailing = |name: &str| {
        r.attr.sub(name).ok_or_else(|| {
            ScimError::invalid_path(format!("`{}` has no sub-attribute `{name}`", r.attr.name))
        })
    };
    let target = match (&path.filter, r.attr.multi_valued) {
        (Some(_), false) => {
            return Err(ScimError::invalid_path(format!(
                "`{a}[...]` needs a multi-valued attribute"
            )))
        }
        (Some(f), true) => {
            if r.attr.ty != AttrType::Complex {
                return Err(ScimError::invalid_path(format!(
                    "`{a}[...]` needs a complex attribute"
                )));
            }
            let typed =
                typed::check_value_filter(f, r).map_err(|e| ScimError::invalid_path(e.detail))?;
            Target {
                r,
                select: Select::Filter(typed, f),
                sub: path.sub.as_deref().map(trailing).transpose()?,
            }
        }
        (None, true) if r.sub.is_some() => Target {
            r: AttrRef { sub: None, ..r },
            select: Select::All,
            sub: r.sub,
        },
        (None, _) => Target {
            r,
            select: Select::Whole,
            sub: None,
        },
    };
    Ok(Resolved::Attr(target))
}

fn apply_path(
    doc: &mut Value,
    kind: PatchOpKind,
    path: &PatchPath,
    value: Option<&Value>,
    rt: &ResourceType,
) -> Result<(), ScimError> {
    match resolve(path, rt)? {
        Resolved::Extension(schema) => {
            if kind == PatchOpKind::Remove {
                if let Some(obj) = doc.as_object_mut() {
                    object::remove(obj, &schema.id);
                }
                return Ok(());
            }
            let obj = value.and_then(Value::as_object).ok_or_else(|| {
                ScimError::invalid_value(format!("`{}` must be an object", schema.id))
            })?;
            for (key, v) in obj {
                let inner = PatchPath::parse(&format!("{}:{key}", schema.id))?;
                apply_path(doc, kind, &inner, Some(v), rt)?;
            }
            Ok(())
        }
        Resolved::Attr(t) => {
            let name = path.to_string();
            let container = container_mut(doc, &t.r)?;
            let before = snapshot(container, t.r.attr);
            match t.select {
                Select::Whole => whole(container, kind, &t, value, &name)?,
                _ => selected(container, kind, &t, value, &name)?,
            }
            if let Some(before) = before {
                fix_primary(container, t.r.attr, &before);
            }
            Ok(())
        }
    }
}

/// The object holding `r`'s attribute, created for an extension that has none yet.
fn container_mut<'v>(
    doc: &'v mut Value,
    r: &AttrRef<'_>,
) -> Result<&'v mut Map<String, Value>, ScimError> {
    let obj = doc
        .as_object_mut()
        .ok_or_else(|| ScimError::invalid_syntax("a resource must be a JSON object"))?;
    if r.core {
        return Ok(obj);
    }
    let key = object::key_of(obj, &r.schema.id).unwrap_or_else(|| r.schema.id.clone());
    let ext = obj.entry(key).or_insert_with(|| Value::Object(Map::new()));
    if !ext.is_object() {
        *ext = Value::Object(Map::new());
    }
    ext.as_object_mut()
        .ok_or_else(|| ScimError::invalid_syntax("extension is not an object"))
}

/// Whether a write of `new` (None: removal) to `def` with value `current` may happen:
/// `Ok(true)` when it changes nothing and is skipped, `Ok(false)` to go ahead.
fn writable(
    def: &AttributeDef,
    name: &str,
    current: Option<&Value>,
    new: Option<&Value>,
) -> Result<bool, ScimError> {
    let current = current.filter(|c| !c.is_null());
    let unchanged = match (current, new) {
        (Some(c), Some(n)) => same_scalar(def, c, n),
        (None, None) => true,
        _ => false,
    };
    match def.mutability {
        Mutability::ReadOnly if unchanged => Ok(true),
        Mutability::ReadOnly => Err(ScimError::mutability(format!("`{name}` is readOnly"))),
        Mutability::Immutable if current.is_some() && !unchanged => Err(ScimError::mutability(
            format!("`{name}` is immutable and already has a value"),
        )),
        _ => Ok(false),
    }
}

fn whole(
    container: &mut Map<String, Value>,
    kind: PatchOpKind,
    t: &Target<'_>,
    value: Option<&Value>,
    name: &str,
) -> Result<(), ScimError> {
    let attr = t.r.attr;
    let def = t.r.leaf();
    if t.r.sub.is_some() && attr.is_read_only() {
        return Err(ScimError::mutability(format!(
            "`{}` is readOnly",
            attr.name
        )));
    }
    let current = object::get(container, &attr.name).and_then(|v| match t.r.sub {
        Some(sub) => v.as_object().and_then(|o| object::get(o, &sub.name)),
        None => Some(v),
    });
    let new = match (kind, value) {
        (PatchOpKind::Remove, Some(list)) if attr.multi_valued => {
            // Entra: remove only the listed values.
            if attr.is_read_only() {
                return Err(ScimError::mutability(format!("`{name}` is readOnly")));
            }
            let listed = normalize(attr, list, true, name)?;
            let listed = listed.as_array().cloned().unwrap_or_default();
            if let Some(Value::Array(items)) =
                object::key_of(container, &attr.name).and_then(|k| container.get_mut(&k))
            {
                items.retain(|e| !listed.iter().any(|l| same_element(attr, e, l)));
            }
            return Ok(());
        }
        (PatchOpKind::Remove, _) => None,
        (_, Some(v)) => Some(normalize(def, v, true, name)?).filter(|n| !n.is_null()),
        (_, None) => None,
    };
    if writable(def, name, current, new.as_ref())? {
        return Ok(());
    }
    let Some(new) = new else {
        match t.r.sub {
            Some(sub) => {
                if let Some(Value::Object(o)) =
                    object::key_of(container, &attr.name).and_then(|k| container.get_mut(&k))
                {
                    object::remove(o, &sub.name);
                }
            }
            None => {
                object::remove(container, &attr.name);
            }
        }
        return Ok(());
    };
    if let Some(sub) = t.r.sub {
        let parent = slot(container, &attr.name);
        if !parent.is_object() {
            *parent = Value::Object(Map::new());
        }
        if let Some(o) = parent.as_object_mut() {
            object::set(o, &sub.name, new);
        }
    } else if attr.multi_valued {
        let items = new.as_array().cloned().unwrap_or_default();
        let slot = slot(container, &attr.name);
        if kind == PatchOpKind::Replace || !slot.is_array() {
            *slot = Value::Array(items);
        } else if let Value::Array(existing) = slot {
            for item in items {
                match existing.iter_mut().find(|e| same_element(attr, e, &item)) {
                    Some(e) => merge(e, item),
                    None => existing.push(item),
                }
            }
        }
    } else if attr.ty == AttrType::Complex {
        let slot = slot(container, &attr.name);
        if !slot.is_object() {
            *slot = Value::Object(Map::new());
        }
        merge(slot, new);
    } else {
        object::set(container, &attr.name, new);
    }
    Ok(())
}

fn selected(
    container: &mut Map<String, Value>,
    kind: PatchOpKind,
    t: &Target<'_>,
    value: Option<&Value>,
    name: &str,
) -> Result<(), ScimError> {
    let attr = t.r.attr;
    if attr.is_read_only() {
        return Err(ScimError::mutability(format!(
            "`{}` is readOnly",
            attr.name
        )));
    }
    if let Some(sub) = t.sub {
        if sub.is_read_only() {
            return Err(ScimError::mutability(format!(
                "`{}.{}` is readOnly",
                attr.name, sub.name
            )));
        }
    }
    let new = match (kind, value) {
        (PatchOpKind::Remove, _) | (_, None) => None,
        (_, Some(v)) => {
            let n = match t.sub {
                Some(sub) => normalize(sub, v, true, name)?,
                None => normalize(attr, v, false, name)?,
            };
            Some(n).filter(|n| !n.is_null())
        }
    };
    let items: &mut Vec<Value> = match slot(container, &attr.name) {
        Value::Array(items) => items,
        other => {
            *other = Value::Array(Vec::new());
            match other {
                Value::Array(items) => items,
                _ => return Ok(()),
            }
        }
    };
    let hits: Vec<usize> = items
        .iter()
        .enumerate()
        .filter(|(_, e)| match &t.select {
            Select::Filter(f, _) => eval_element(f, e),
            _ => true,
        })
        .map(|(i, _)| i)
        .collect();
    if hits.is_empty() {
        return match (&t.select, kind) {
            (Select::All, PatchOpKind::Remove) => Ok(()),
            // Entra replaces `emails[type eq "work"].value` and `addresses[type eq
            // "work"].locality` on users who have no such element: like add, it is created.
            (Select::Filter(..), PatchOpKind::Replace) if new.is_none() => Ok(()),
            (Select::Filter(_, f), PatchOpKind::Add | PatchOpKind::Replace) => {
                let Some(mut element) = element_from_filter(f) else {
                    return Err(ScimError::no_target(format!("`{name}` matches no value")));
                };
                if let Some(n) = new {
                    match t.sub {
                        Some(sub) => {
                            element.insert(sub.name.clone(), n);
                        }
                        None => merge_map(&mut element, n),
                    }
                }
                items.push(normalize(attr, &Value::Object(element), false, name)?);
                Ok(())
            }
            _ => Err(ScimError::no_target(format!("`{name}` matches no value"))),
        };
    }
    if kind == PatchOpKind::Remove && t.sub.is_none() {
        let mut i = 0;
        items.retain(|_| {
            i += 1;
            !hits.contains(&(i - 1))
        });
        return Ok(());
    }
    for &i in &hits {
        let element = &mut items[i];
        match t.sub {
            Some(sub) => {
                let current = element.as_object().and_then(|o| object::get(o, &sub.name));
                if writable(sub, name, current, new.as_ref())? {
                    continue;
                }
                if !element.is_object() {
                    *element = Value::Object(Map::new());
                }
                if let Some(o) = element.as_object_mut() {
                    match &new {
                        Some(n) => object::set(o, &sub.name, n.clone()),
                        None => {
                            object::remove(o, &sub.name);
                        }
                    }
                }
            }
            None => match (&new, kind) {
                (Some(n), PatchOpKind::Replace) => {
                    check_immutable_subs(attr, element, n, name)?;
                    *element = n.clone();
                }
                (Some(n), _) => {
                    check_immutable_subs(attr, element, n, name)?;
                    merge(element, n.clone());
                }
                (None, _) => {}
            },
        }
    }
    Ok(())
}

/// A whole-value write to an existing element may not change its immutable sub-attributes.
fn check_immutable_subs(
    attr: &AttributeDef,
    old: &Value,
    new: &Value,
    name: &str,
) -> Result<(), ScimError> {
    for sub in attr
        .sub_attributes
        .iter()
        .filter(|s| s.mutability == Mutability::Immutable)
    {
        let get = |v: &Value| {
            v.as_object()
                .and_then(|o| object::get(o, &sub.name))
                .cloned()
        };
        if let (Some(o), Some(n)) = (get(old), get(new)) {
            if !same_scalar(sub, &o, &n) {
                return Err(ScimError::mutability(format!(
                    "`{name}`: `{}.{}` is immutable",
                    attr.name, sub.name
                )));
            }
        }
    }
    Ok(())
}

/// The attribute's value slot in `container`, created as null under the canonical name.
fn slot<'v>(container: &'v mut Map<String, Value>, name: &str) -> &'v mut Value {
    let key = object::key_of(container, name).unwrap_or_else(|| name.to_string());
    container.entry(key).or_insert(Value::Null)
}

/// Sets each of `new`'s sub-attributes on `target` (both objects).
fn merge(target: &mut Value, new: Value) {
    if let (Some(t), Value::Object(n)) = (target.as_object_mut(), &new) {
        merge_map(t, Value::Object(n.clone()));
    } else {
        *target = new;
    }
}

fn merge_map(target: &mut Map<String, Value>, new: Value) {
    if let Value::Object(n) = new {
        for (k, v) in n {
            object::set(target, &k, v);
        }
    }
}

/// The element described by a conjunction of `eq` tests, e.g. `type eq "work"`.
fn element_from_filter(f: &Filter) -> Option<Map<String, Value>> {
    let mut out = Map::new();
    fn walk(f: &Filter, out: &mut Map<String, Value>) -> Option<()> {
        match f {
            Filter::And(a, b) => {
                walk(a, out)?;
                walk(b, out)
            }
            Filter::Compare {
                path,
                op: CompareOp::Eq,
                value,
            } if path.is_simple() => {
                let v = match value {
                    Literal::Str(s) => Value::String(s.clone()),
                    Literal::Bool(b) => Value::Bool(*b),
                    Literal::Int(i) => Value::from(*i),
                    Literal::Dec(d) => Value::from(*d),
                    Literal::Null => return None,
                };
                out.insert(path.name.clone(), v);
                Some(())
            }
            _ => None,
        }
    }
    walk(f, &mut out).map(|()| out)
}

/// The values of a multi-valued attribute with a `primary` sub-attribute, before an operation.
fn snapshot(container: &Map<String, Value>, attr: &AttributeDef) -> Option<Vec<Value>> {
    if !attr.multi_valued || attr.sub("primary").is_none() {
        return None;
    }
    Some(match object::get(container, &attr.name) {
        Some(Value::Array(items)) => items.clone(),
        _ => Vec::new(),
    })
}

fn is_primary(e: &Value) -> bool {
    e.as_object()
        .and_then(|o| object::get(o, "primary"))
        .and_then(Value::as_bool)
        == Some(true)
}

/// If the operation made a value primary, the others stop being primary.
fn fix_primary(container: &mut Map<String, Value>, attr: &AttributeDef, before: &[Value]) {
    let Some(Value::Array(items)) =
        object::key_of(container, &attr.name).and_then(|k| container.get_mut(&k))
    else {
        return;
    };
    let newly = items.iter().enumerate().rev().find(|(_, e)| {
        is_primary(e)
            && !before
                .iter()
                .any(|b| is_primary(b) && same_element(attr, b, e))
    });
    let Some((keep, _)) = newly else { return };
    for (i, e) in items.iter_mut().enumerate() {
        if i != keep && is_primary(e) {
            if let Some(o) = e.as_object_mut() {
                object::set(o, "primary", Value::Bool(false));
            }
        }
    }
}

#[cfg(test)]
mod tests;
