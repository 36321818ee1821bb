//! The `attributes` and `excludedAttributes` parameters (RFC 7644 §3.4.2.5, §3.9) applied to a
//! resource under each attribute's `returned` rule:
//! - `always` (`id`, `meta`, and `schemas`) is returned whatever is asked or excluded;
//! - `never` is never returned;
//! - `default` is returned unless excluded, or, when `attributes` is given, only if listed;
//! - `request` is returned only when listed in `attributes`.
//!
//! Names are matched case-insensitively, with or without URN: `userName`, `name.givenName`,
//! `emails.value`, `urn:…:enterprise:2.0:User:department`, or an extension URN for all of its
//! attributes. Listing `a.b` returns only that sub-attribute of `a` (and `a`'s `always` ones);
//! excluding `a.b` drops only it. When both lists are given, `attributes` decides and then
//! `excludedAttributes` removes. Names that are malformed or unknown are ignored (they select
//! nothing), and attributes the resource type does not define are not returned.

use crate::object;
use crate::path::AttrPath;
use crate::schema::{AttrType, AttributeDef, ResourceType, Returned, Schema};
use serde_json::{Map, Value};

/// Which attributes a list of names selects.
struct Selection {
    /// (schema URN, attribute, sub-attribute), canonical spelling.
    names: Vec<(String, String, Option<String>)>,
    /// Extensions selected as a whole.
    extensions: Vec<String>,
}

impl Selection {
    fn new(list: &[String], rt: &ResourceType) -> Selection {
        let mut s = Selection {
            names: Vec::new(),
            extensions: Vec::new(),
        };
        for name in list {
            if let Some(ext) = rt.extension(name.trim()) {
                s.extensions.push(ext.id.clone());
            } else if let Some(r) = AttrPath::parse(name.trim())
                .ok()
                .and_then(|p| rt.resolve(&p))
            {
                s.names.push((
                    r.schema.id.clone(),
                    r.attr.name.clone(),
                    r.sub.map(|d| d.name.clone()),
                ));
            }
        }
        s
    }

    /// Whether the attribute is selected as a whole.
    fn whole(&self, schema: &Schema, attr: &AttributeDef) -> bool {
        self.extensions.contains(&schema.id)
            || self
                .names
                .iter()
                .any(|(s, a, sub)| *s == schema.id && *a == attr.name && sub.is_none())
    }

    /// The sub-attributes selected by name.
    fn subs(&self, schema: &Schema, attr: &AttributeDef) -> Vec<&str> {
        self.names
            .iter()
            .filter(|(s, a, _)| *s == schema.id && *a == attr.name)
            .filter_map(|(_, _, sub)| sub.as_deref())
            .collect()
    }
}

/// What to keep of one attribute.
enum Keep<'a> {
    Nothing,
    /// Every sub-attribute whose own rule allows it.
    All,
    /// Only these sub-attributes (plus `always` ones).
    Only(Vec<&'a str>),
    /// Every sub-attribute but these (`always` ones stay).
    AllBut(Vec<&'a str>),
}

/// The resource as returned for the given parameters.
pub fn project(
    resource: &Value,
    rt: &ResourceType,
    attributes: &[String],
    excluded_attributes: &[String],
) -> Value {
    let include = Selection::new(attributes, rt);
    let exclude = Selection::new(excluded_attributes, rt);
    let asked = !attributes.is_empty();
    let mut out = Map::new();
    let Some(obj) = resource.as_object() else {
        return resource.clone();
    };
    if let Some(s) = object::get(obj, "schemas") {
        out.insert("schemas".into(), s.clone());
    }
    for schema in rt.schemas() {
        let core = std::ptr::eq(schema, &rt.schema);
        let container = if core {
            Some(obj)
        } else {
            object::get(obj, &schema.id).and_then(Value::as_object)
        };
        let Some(container) = container else { continue };
        let mut kept = Map::new();
        for attr in &schema.attributes {
            let Some(v) = object::get(container, &attr.name) else {
                continue;
            };
            let keep = match attr.returned {
                Returned::Never => Keep::Nothing,
                Returned::Always => Keep::All,
                _ if asked => {
                    if include.whole(schema, attr) {
                        Keep::All
                    } else {
                        let subs = include.subs(schema, attr);
                        if subs.is_empty() {
                            Keep::Nothing
                        } else {
                            Keep::Only(subs)
                        }
                    }
                }
                Returned::Request => Keep::Nothing,
                Returned::Default => Keep::All,
            };
            let keep = match keep {
                Keep::All | Keep::Only(_) if attr.returned != Returned::Always => {
                    if exclude.whole(schema, attr) {
                        Keep::Nothing
                    } else {
                        let drop = exclude.subs(schema, attr);
                        match keep {
                            Keep::All if !drop.is_empty() => Keep::AllBut(drop),
                            Keep::Only(only) => {
                                Keep::Only(only.into_iter().filter(|s| !drop.contains(s)).collect())
                            }
                            other => other,
                        }
                    }
                }
                other => other,
            };
            if let Some(v) = shape(attr, v, &keep, &include) {
                kept.insert(attr.name.clone(), v);
            }
        }
        if core {
            out.extend(kept);
        } else if !kept.is_empty() {
            out.insert(schema.id.clone(), Value::Object(kept));
        }
    }
    Value::Object(out)
}

/// Applies `keep` to one attribute's value; `None` when nothing is left.
fn shape(attr: &AttributeDef, v: &Value, keep: &Keep<'_>, include: &Selection) -> Option<Value> {
    if matches!(keep, Keep::Nothing) {
        return None;
    }
    if attr.ty != AttrType::Complex {
        return Some(v.clone());
    }
    let requested = |sub: &AttributeDef| {
        include
            .names
            .iter()
            .any(|(_, a, s)| *a == attr.name && s.as_deref() == Some(sub.name.as_str()))
    };
    let allowed = |sub: &AttributeDef| match sub.returned {
        Returned::Never => false,
        Returned::Always => true,
        Returned::Request => requested(sub),
        Returned::Default => match keep {
            Keep::Only(only) => only.contains(&sub.name.as_str()),
            Keep::AllBut(drop) => !drop.contains(&sub.name.as_str()),
            _ => true,
        },
    };
    let one = |e: &Value| -> Option<Value> {
        let o = e.as_object()?;
        let m: Map<String, Value> = attr
            .sub_attributes
            .iter()
            .filter(|s| allowed(s))
            .filter_map(|s| object::get(o, &s.name).map(|v| (s.name.clone(), v.clone())))
            .collect();
        (!m.is_empty()).then_some(Value::Object(m))
    };
    match v {
        Value::Array(items) => {
            let items: Vec<Value> = items.iter().filter_map(one).collect();
            (!items.is_empty()).then_some(Value::Array(items))
        }
        other => one(other),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const ENT: &str = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";

    fn user() -> Value {
        json!({
            "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User", ENT],
            "id": "1",
            "meta": {"resourceType": "User"},
            "userName": "bjensen",
            "name": {"givenName": "Barbara", "familyName": "Jensen"},
            "title": "Guide",
            "emails": [{"value": "a@x", "type": "work"}, {"value": "b@x", "type": "home"}],
            "unknownThing": 1,
            ENT: {"department": "Tours", "employeeNumber": "7"}
        })
    }

    fn p(attrs: &[&str], excluded: &[&str]) -> Value {
        let v = |l: &[&str]| l.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        project(&user(), &ResourceType::user(), &v(attrs), &v(excluded))
    }

    #[test]
    fn default_returns_known_attributes() {
        let mut want = user();
        want.as_object_mut().unwrap().remove("unknownThing");
        assert_eq!(p(&[], &[]), want);
    }

    #[test]
    fn attributes_keeps_only_listed_plus_always() {
        assert_eq!(
            p(&["userName", "NAME.givenName"], &[]),
            json!({
                "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User", ENT],
                "id": "1",
                "meta": {"resourceType": "User"},
                "userName": "bjensen",
                "name": {"givenName": "Barbara"}
            })
        );
        let r = p(&["emails.value", &format!("{ENT}:department")], &[]);
        assert_eq!(r["emails"], json!([{"value": "a@x"}, {"value": "b@x"}]));
        assert_eq!(r[ENT], json!({"department": "Tours"}));
        let r = p(&[ENT], &[]);
        assert_eq!(
            r[ENT],
            json!({"department": "Tours", "employeeNumber": "7"})
        );
        assert!(r.get("userName").is_none());
    }

    #[test]
    fn excluded_attributes_drops_listed_but_never_always() {
        let r = p(
            &[],
            &[
                "emails",
                "id",
                "meta",
                "name.familyName",
                &format!("{ENT}:employeeNumber"),
            ],
        );
        assert!(r.get("emails").is_none());
        assert_eq!(r["id"], "1");
        assert_eq!(r["meta"], json!({"resourceType": "User"}));
        assert_eq!(r["name"], json!({"givenName": "Barbara"}));
        assert_eq!(r[ENT], json!({"department": "Tours"}));
        let r = p(&[], &[ENT]);
        assert!(r.get(ENT).is_none());
    }

    #[test]
    fn both_lists_include_then_exclude() {
        let r = p(&["name", "title"], &["name.givenName"]);
        assert_eq!(r["name"], json!({"familyName": "Jensen"}));
        assert_eq!(r["title"], "Guide");
        assert!(r.get("userName").is_none());
    }

    #[test]
    fn unknown_and_malformed_names_select_nothing() {
        let r = p(&["nosuch", "1bad", ""], &[]);
        assert_eq!(
            r.as_object().unwrap().keys().collect::<Vec<_>>(),
            ["id", "meta", "schemas"]
        );
        assert_eq!(p(&[], &["nosuch"])["title"], "Guide");
    }

    #[test]
    fn groups_without_members_as_entra_asks() {
        let g = json!({
            "schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"],
            "id": "g1",
            "displayName": "Ops",
            "members": [{"value": "u1"}]
        });
        let r = project(&g, &ResourceType::group(), &[], &["members".to_string()]);
        assert_eq!(
            r,
            json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"], "id": "g1", "displayName": "Ops"})
        );
    }

    #[test]
    fn never_and_request_attributes() {
        let mut rt = ResourceType::user();
        for a in rt.schema.attributes.iter_mut() {
            if a.name == "title" {
                a.returned = Returned::Never;
            }
            if a.name == "nickName" {
                a.returned = Returned::Request;
            }
        }
        let mut u = user();
        u["nickName"] = json!("Babs");
        let r = project(&u, &rt, &[], &[]);
        assert!(r.get("title").is_none() && r.get("nickName").is_none());
        let r = project(&u, &rt, &["title".into(), "nickName".into()], &[]);
        assert!(r.get("title").is_none());
        assert_eq!(r["nickName"], "Babs");
    }
}
