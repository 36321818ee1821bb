//! Schema tests: the definitions hold the rules other modules rely on, lookups ignore case and
//! accept URNs, and the `/Schemas` and `/ResourceTypes` documents have the RFC 7643 shape.

use super::*;

#[test]
fn user_name_is_required_case_insensitive_server_unique_and_limited() {
    let rt = ResourceType::user();
    let u = rt.find("userName").unwrap().attr;
    assert!(u.required && !u.case_exact);
    assert_eq!(u.uniqueness, Uniqueness::Server);
    assert_eq!(u.max_length, Some(256));
    let id = rt.find("id").unwrap().attr;
    assert!(id.case_exact);
    assert_eq!(id.mutability, Mutability::ReadOnly);
    assert_eq!(id.returned, Returned::Always);
    assert!(rt.find("groups").unwrap().attr.is_read_only());
    assert!(rt.find("meta").unwrap().attr.is_read_only());
    let g = ResourceType::group();
    assert!(g.find("displayName").unwrap().attr.required);
    assert_eq!(
        g.find("members.value").unwrap().leaf().mutability,
        Mutability::Immutable
    );
}

#[test]
fn lookups_ignore_case_and_accept_urns() {
    let rt = ResourceType::user();
    let r = rt.find("NAME.GIVENNAME").unwrap();
    assert_eq!(r.canonical(), "name.givenName");
    assert!(r.core);
    let r = rt
        .find("urn:ietf:params:scim:schemas:core:2.0:user:emails.value")
        .unwrap();
    assert_eq!(r.canonical(), "emails.value");
    let r = rt
        .find("urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.$ref")
        .unwrap();
    assert!(!r.core);
    assert_eq!(
        r.canonical(),
        "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.$ref"
    );
    assert_eq!(
        rt.find("department").unwrap().schema.id,
        ENTERPRISE_USER_SCHEMA
    );
    assert!(rt
        .find("urn:ietf:params:scim:schemas:core:2.0:User:department")
        .is_none());
    assert!(rt.find("nosuch").is_none());
    assert!(rt.find("name.nosuch").is_none());
    assert!(rt.find("urn:x:y:userName").is_none());
    assert!(rt
        .extension("URN:IETF:params:scim:schemas:extension:enterprise:2.0:user")
        .is_some());
}

#[test]
fn every_listed_attribute_is_defined() {
    let rt = ResourceType::user();
    for p in [
        "id",
        "externalId",
        "meta.created",
        "meta.lastModified",
        "meta.location",
        "meta.version",
        "meta.resourceType",
        "userName",
        "name.formatted",
        "name.familyName",
        "name.givenName",
        "name.middleName",
        "name.honorificPrefix",
        "name.honorificSuffix",
        "displayName",
        "nickName",
        "title",
        "userType",
        "preferredLanguage",
        "locale",
        "timezone",
        "active",
        "emails.value",
        "emails.type",
        "emails.primary",
        "emails.display",
        "phoneNumbers.value",
        "phoneNumbers.type",
        "phoneNumbers.primary",
        "groups.value",
        "groups.$ref",
        "groups.display",
        "groups.type",
        "employeeNumber",
        "costCenter",
        "organization",
        "division",
        "department",
        "manager.value",
        "manager.$ref",
        "manager.displayName",
    ] {
        assert!(rt.find(p).is_some(), "{p}");
    }
    let g = ResourceType::group();
    for p in [
        "id",
        "externalId",
        "meta.version",
        "displayName",
        "members.value",
        "members.$ref",
        "members.display",
        "members.type",
    ] {
        assert!(g.find(p).is_some(), "{p}");
    }
}

#[test]
fn schema_document_has_the_rfc_shape() {
    let v = user_schema().to_json("https://h/scim/v2");
    assert_eq!(v["schemas"][0], SCHEMA_SCHEMA);
    assert_eq!(v["id"], USER_SCHEMA);
    assert_eq!(
        v["meta"]["location"],
        "https://h/scim/v2/Schemas/urn:ietf:params:scim:schemas:core:2.0:User"
    );
    let attrs = v["attributes"].as_array().unwrap();
    let user_name = attrs.iter().find(|a| a["name"] == "userName").unwrap();
    assert_eq!(user_name["type"], "string");
    assert_eq!(user_name["multiValued"], false);
    assert_eq!(user_name["required"], true);
    assert_eq!(user_name["caseExact"], false);
    assert_eq!(user_name["mutability"], "readWrite");
    assert_eq!(user_name["returned"], "default");
    assert_eq!(user_name["uniqueness"], "server");
    assert!(user_name.get("maxLength").is_none() && user_name.get("max_length").is_none());
    let emails = attrs.iter().find(|a| a["name"] == "emails").unwrap();
    assert_eq!(emails["type"], "complex");
    assert_eq!(emails["multiValued"], true);
    let ty = emails["subAttributes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["name"] == "type")
        .unwrap();
    assert_eq!(
        ty["canonicalValues"],
        serde_json::json!(["work", "home", "other"])
    );
    let meta = attrs.iter().find(|a| a["name"] == "meta").unwrap();
    let created = meta["subAttributes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["name"] == "created")
        .unwrap();
    assert_eq!(created["type"], "dateTime");
    assert_eq!(created["mutability"], "readOnly");
    let g = group_schema().to_json("");
    let members = g["attributes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["name"] == "members")
        .unwrap();
    let r = members["subAttributes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["name"] == "$ref")
        .unwrap();
    assert_eq!(r["referenceTypes"], serde_json::json!(["User", "Group"]));
    assert_eq!(r["mutability"], "immutable");
}

#[test]
fn resource_type_documents() {
    let v = ResourceType::user().to_json("https://h/scim/v2");
    assert_eq!(
        v["schemas"][0],
        "urn:ietf:params:scim:schemas:core:2.0:ResourceType"
    );
    assert_eq!(v["id"], "User");
    assert_eq!(v["endpoint"], "/Users");
    assert_eq!(v["schema"], USER_SCHEMA);
    assert_eq!(v["schemaExtensions"][0]["schema"], ENTERPRISE_USER_SCHEMA);
    assert_eq!(v["schemaExtensions"][0]["required"], false);
    assert_eq!(
        v["meta"]["location"],
        "https://h/scim/v2/ResourceTypes/User"
    );
    let g = ResourceType::group().to_json("https://h/scim/v2");
    assert_eq!(g["endpoint"], "/Groups");
    assert!(g.get("schemaExtensions").is_none());
}
