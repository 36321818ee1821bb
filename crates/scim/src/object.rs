//! Attribute access on JSON objects. SCIM attribute names are case-insensitive (RFC 7643 §2.1),
//! so every lookup of a resource's attribute goes through here rather than `Value::get`.

use crate::schema::AttrRef;
use serde_json::{Map, Value};

/// The value under `name`, matched case-insensitively (an exact match wins).
pub(crate) fn get<'v>(obj: &'v Map<String, Value>, name: &str) -> Option<&'v Value> {
    obj.get(name).or_else(|| {
        obj.iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v)
    })
}

/// The key under which `name` is stored, matched case-insensitively.
pub(crate) fn key_of(obj: &Map<String, Value>, name: &str) -> Option<String> {
    if obj.contains_key(name) {
        return Some(name.to_string());
    }
    obj.keys().find(|k| k.eq_ignore_ascii_case(name)).cloned()
}

/// Removes every key spelled like `name` and returns the last value removed.
pub(crate) fn remove(obj: &mut Map<String, Value>, name: &str) -> Option<Value> {
    let keys: Vec<String> = obj
        .keys()
        .filter(|k| k.eq_ignore_ascii_case(name))
        .cloned()
        .collect();
    keys.into_iter().fold(None, |_, k| obj.remove(&k))
}

/// Stores `value` under the canonical `name`, replacing any differently-cased key.
pub(crate) fn set(obj: &mut Map<String, Value>, name: &str, value: Value) {
    remove(obj, name);
    obj.insert(name.to_string(), value);
}

/// The object that holds `r`'s attribute: the resource itself for the core schema, the object
/// under the extension URN otherwise.
pub(crate) fn container<'v>(
    resource: &'v Value,
    r: &AttrRef<'_>,
) -> Option<&'v Map<String, Value>> {
    let obj = resource.as_object()?;
    if r.core {
        Some(obj)
    } else {
        get(obj, &r.schema.id)?.as_object()
    }
}

/// The value of `r`'s attribute (not descending into a sub-attribute).
pub(crate) fn attribute<'v>(resource: &'v Value, r: &AttrRef<'_>) -> Option<&'v Value> {
    get(container(resource, r)?, &r.attr.name)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn lookups_ignore_case_and_prefer_exact_keys() {
        let v = json!({"userName": "a", "USERNAME": "b", "Title": "t"});
        let o = v.as_object().unwrap();
        assert_eq!(get(o, "userName"), Some(&json!("a")));
        assert_eq!(get(o, "title"), Some(&json!("t")));
        assert_eq!(key_of(o, "TITLE").as_deref(), Some("Title"));
        assert_eq!(get(o, "missing"), None);
    }

    #[test]
    fn set_replaces_differently_cased_keys() {
        let mut v = json!({"username": "a", "USERNAME": "b"});
        let o = v.as_object_mut().unwrap();
        set(o, "userName", json!("c"));
        assert_eq!(v, json!({"userName": "c"}));
    }
}
