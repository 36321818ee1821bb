//! Whole-resource writes: the body of `POST` (create) and `PUT` (replace, RFC 7644 §3.5.1),
//! checked and normalised with the same value rules as PATCH. The server assigns `id` and
//! `meta` and checks uniqueness; everything else about the body is decided here.
//!
//! Rules: the body is an object whose `schemas`, when given, must contain the core schema URN
//! (`invalidSyntax`). Attributes are found case-insensitively, extension attributes under
//! their URN (or URN-qualified at the top level). readOnly attributes in the body (`id`,
//! `meta`, `groups`) are ignored, as are attributes the resource type does not define (Okta
//! sends `password`, Entra `roles`). PUT replaces every writable attribute: ones missing from
//! the body become unassigned, readOnly ones keep their current value, and an immutable one
//! that has a value must be sent unchanged or left out (`mutability`). Required attributes
//! must be present afterwards (`invalidValue`).

use crate::error::ScimError;
use crate::object;
use crate::path::AttrPath;
use crate::schema::{AttrRef, Mutability, ResourceType};
use crate::value::{finish, normalize, same_scalar};
use serde_json::{Map, Value};

/// The resource to store for a `POST` body, without `id` and `meta`.
pub fn create_resource(body: &Value, rt: &ResourceType) -> Result<Value, ScimError> {
    let mut doc = writable_part(body, rt)?;
    finish(&mut doc, rt)?;
    Ok(doc)
}

/// The resource after a `PUT` of `body` over `current`.
pub fn replace_resource(
    current: &Value,
    body: &Value,
    rt: &ResourceType,
) -> Result<Value, ScimError> {
    let mut doc = writable_part(body, rt)?;
    for schema in rt.schemas() {
        let core = std::ptr::eq(schema, &rt.schema);
        for attr in &schema.attributes {
            let r = AttrRef {
                schema,
                core,
                attr,
                sub: None,
            };
            let Some(old) = object::attribute(current, &r)
                .filter(|v| !v.is_null())
                .cloned()
            else {
                continue;
            };
            let keep = match attr.mutability {
                Mutability::ReadOnly => true,
                Mutability::Immutable => match object::attribute(&doc, &r) {
                    None => true,
                    Some(new) if same_scalar(attr, &old, new) => true,
                    Some(_) => {
                        return Err(ScimError::mutability(format!(
                            "`{}` is immutable and already has a value",
                            attr.name
                        )))
                    }
                },
                _ => false,
            };
            if keep {
                if let Some(container) = container_mut(&mut doc, &r) {
                    object::set(container, &attr.name, old);
                }
            }
        }
    }
    finish(&mut doc, rt)?;
    Ok(doc)
}

fn container_mut<'v>(doc: &'v mut Value, r: &AttrRef<'_>) -> Option<&'v mut Map<String, Value>> {
    let obj = doc.as_object_mut()?;
    if r.core {
        return Some(obj);
    }
    obj.entry(r.schema.id.clone())
        .or_insert_with(|| Value::Object(Map::new()))
        .as_object_mut()
}

/// The body's writable attributes, normalised, in a fresh resource object.
fn writable_part(body: &Value, rt: &ResourceType) -> Result<Value, ScimError> {
    let obj = body
        .as_object()
        .ok_or_else(|| ScimError::invalid_syntax("the body must be a JSON object"))?;
    if let Some(schemas) = object::get(obj, "schemas") {
        let ok = schemas.as_array().is_some_and(|s| {
            s.iter().any(|u| {
                u.as_str()
                    .is_some_and(|u| u.eq_ignore_ascii_case(&rt.schema.id))
            })
        });
        if !ok {
            return Err(ScimError::invalid_syntax(format!(
                "`schemas` must contain {}",
                rt.schema.id
            )));
        }
    }
    let mut doc = Value::Object(Map::new());
    let write = |doc: &mut Value, r: AttrRef<'_>, v: &Value| -> Result<(), ScimError> {
        if r.attr.is_read_only() || r.sub.is_some() {
            return Ok(());
        }
        let n = normalize(r.attr, v, true, &r.canonical())?;
        if let Some(container) = container_mut(doc, &r) {
            object::set(container, &r.attr.name, n);
        }
        Ok(())
    };
    for (key, v) in obj {
        if key.eq_ignore_ascii_case("schemas") {
            continue;
        }
        if let Some(ext) = rt.extension(key) {
            let inner = v.as_object().ok_or_else(|| {
                ScimError::invalid_value(format!("`{}` must be an object", ext.id))
            })?;
            for (k, v) in inner {
                if let Some(attr) = ext.attribute(k) {
                    let r = AttrRef {
                        schema: ext,
                        core: false,
                        attr,
                        sub: None,
                    };
                    write(&mut doc, r, v)?;
                }
            }
            continue;
        }
        if let Some(r) = AttrPath::parse(key).ok().and_then(|p| rt.resolve(&p)) {
            write(&mut doc, r, v)?;
        }
    }
    Ok(doc)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ScimType;
    use serde_json::json;

    const ENT: &str = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";

    #[test]
    fn okta_create_drops_password_and_read_only_groups() {
        let body = json!({
            "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
            "userName": "test.user@okta.local",
            "name": {"givenName": "Test", "familyName": "User"},
            "emails": [{"primary": true, "value": "test.user@okta.local", "type": "work"}],
            "displayName": "Test User",
            "locale": "en-US",
            "externalId": "00ujl29u0le5T6Aj10h7",
            "groups": [],
            "password": "1mz050nq",
            "active": true
        });
        let r = create_resource(&body, &ResourceType::user()).unwrap();
        assert_eq!(
            r,
            json!({
                "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
                "userName": "test.user@okta.local",
                "name": {"givenName": "Test", "familyName": "User"},
                "emails": [{"primary": true, "value": "test.user@okta.local", "type": "work"}],
                "displayName": "Test User",
                "locale": "en-US",
                "externalId": "00ujl29u0le5T6Aj10h7",
                "active": true
            })
        );
    }

    #[test]
    fn entra_create_with_the_enterprise_extension() {
        let body = json!({
            "schemas": [
                "urn:ietf:params:scim:schemas:core:2.0:User",
                "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
            ],
            "externalId": "0a21f0f2-8d2a-4f8e-bf98-7363c4aed4ef",
            "userName": "Test_User_ab6490ee@testuser.com",
            "active": "True",
            "emails": [{"primary": true, "type": "work", "value": "Test_User_fd0ea19b@testuser.com"}],
            "meta": {"resourceType": "User"},
            "name": {"formatted": "givenName familyName", "familyName": "familyName", "givenName": "givenName"},
            "roles": [],
            "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User": {
                "department": "Sales",
                "manager": "26118915"
            }
        });
        let r = create_resource(&body, &ResourceType::user()).unwrap();
        assert_eq!(r["active"], true);
        assert!(r.get("meta").is_none() && r.get("roles").is_none());
        assert_eq!(
            r[ENT],
            json!({"department": "Sales", "manager": {"value": "26118915"}})
        );
        assert_eq!(r["schemas"][1], ENT);
    }

    #[test]
    fn create_checks_schemas_types_and_required_attributes() {
        let rt = ResourceType::user();
        let e = create_resource(&json!({"schemas": ["urn:x"], "userName": "a"}), &rt).unwrap_err();
        assert_eq!(e.scim_type, Some(ScimType::InvalidSyntax));
        let e = create_resource(&json!({"displayName": "no user name"}), &rt).unwrap_err();
        assert_eq!(e.scim_type, Some(ScimType::InvalidValue));
        let e = create_resource(&json!({"userName": "a", "active": 3}), &rt).unwrap_err();
        assert_eq!(e.scim_type, Some(ScimType::InvalidValue));
        let e = create_resource(&json!([]), &rt).unwrap_err();
        assert_eq!(e.scim_type, Some(ScimType::InvalidSyntax));
        let g = create_resource(
            &json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"], "displayName": "G", "members": [{"value": "u1", "display": "Ann"}]}),
            &ResourceType::group(),
        )
        .unwrap();
        assert_eq!(g["members"], json!([{"value": "u1"}]));
    }

    #[test]
    fn okta_full_put_replaces_writable_attributes_and_keeps_read_only_ones() {
        let current = json!({
            "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User", ENT],
            "id": "23a35c27",
            "meta": {"resourceType": "User", "created": "2020-01-01T00:00:00Z"},
            "userName": "test.user@okta.local",
            "title": "Old title",
            "groups": [{"value": "g1"}],
            ENT: {"department": "Old"}
        });
        let body = json!({
            "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
            "id": "23a35c27",
            "userName": "test.user@okta.local",
            "name": {"givenName": "Another", "familyName": "User"},
            "emails": [{"primary": true, "value": "test.user@okta.local", "type": "work"}],
            "displayName": "Another User",
            "locale": "en-US",
            "externalId": "00ujl29u0le5T6Aj10h7",
            "groups": [],
            "password": "1mz050nq",
            "active": true
        });
        let r = replace_resource(&current, &body, &ResourceType::user()).unwrap();
        assert_eq!(r["id"], "23a35c27");
        assert_eq!(r["meta"]["created"], "2020-01-01T00:00:00Z");
        assert_eq!(r["groups"], json!([{"value": "g1"}]));
        assert_eq!(r["displayName"], "Another User");
        assert!(
            r.get("title").is_none(),
            "attributes left out of a PUT are unassigned"
        );
        assert!(r.get(ENT).is_none());
        assert_eq!(
            r["schemas"],
            json!(["urn:ietf:params:scim:schemas:core:2.0:User"])
        );
    }

    #[test]
    fn put_ignores_a_different_id_and_needs_required_attributes() {
        let current = json!({"id": "a", "userName": "x"});
        let r = replace_resource(
            &current,
            &json!({"id": "b", "userName": "y"}),
            &ResourceType::user(),
        )
        .unwrap();
        assert_eq!(r["id"], "a");
        let e = replace_resource(&current, &json!({"id": "a"}), &ResourceType::user()).unwrap_err();
        assert_eq!(e.scim_type, Some(ScimType::InvalidValue));
    }
}
