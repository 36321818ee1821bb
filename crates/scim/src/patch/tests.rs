//! PATCH tests: each RFC 7644 §3.5.2 rule, then Entra's and Okta's request bodies as they
//! send them, then properties (never panics, all or nothing).

use super::*;
use crate::error::ScimType;
use proptest::prelude::*;
use serde_json::json;

const ENT: &str = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";

fn user() -> Value {
    json!({
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
        "id": "2819c223",
        "meta": {"resourceType": "User", "created": "2010-01-23T04:56:22Z"},
        "userName": "bjensen",
        "name": {"givenName": "Barbara", "familyName": "Jensen"},
        "active": true,
        "emails": [
            {"value": "bjensen@example.com", "type": "work", "primary": true},
            {"value": "babs@jensen.org", "type": "home"}
        ],
        "groups": [{"value": "g1", "display": "Guides"}]
    })
}

fn group() -> Value {
    json!({
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"],
        "id": "abf4dd94",
        "displayName": "Tour Guides",
        "members": [{"value": "u1", "display": "Ann"}, {"value": "u2"}]
    })
}

fn ops(ops: Value) -> Value {
    json!({"schemas": [PATCH_OP_SCHEMA], "Operations": ops})
}

fn patch_user(o: Value) -> Result<Value, ScimError> {
    apply_patch(&user(), &ops(o), &ResourceType::user())
}

fn patch_group(o: Value) -> Result<Value, ScimError> {
    apply_patch(&group(), &ops(o), &ResourceType::group())
}

fn err_type(r: Result<Value, ScimError>) -> Option<ScimType> {
    r.expect_err("expected an error").scim_type
}

// ---- message shape ---------------------------------------------------------------------

#[test]
fn body_needs_the_patch_schema_and_operations() {
    let rt = ResourceType::user();
    let e = apply_patch(
        &user(),
        &json!({"Operations": [{"op": "remove", "path": "title"}]}),
        &rt,
    );
    assert_eq!(err_type(e), Some(ScimType::InvalidSyntax));
    let e = apply_patch(
        &user(),
        &json!({"schemas": [PATCH_OP_SCHEMA], "Operations": []}),
        &rt,
    );
    assert_eq!(err_type(e), Some(ScimType::InvalidSyntax));
    assert_eq!(
        err_type(patch_user(json!([{"op": "move", "path": "title"}]))),
        Some(ScimType::InvalidSyntax)
    );
    assert_eq!(
        err_type(patch_user(json!([{"op": "add", "path": "title"}]))),
        Some(ScimType::InvalidSyntax)
    );
    assert_eq!(
        err_type(patch_user(json!([{"op": "add", "path": 5, "value": 1}]))),
        Some(ScimType::InvalidSyntax)
    );
    assert_eq!(
        err_type(patch_user(
            json!([{"op": "add", "path": "title[", "value": 1}])
        )),
        Some(ScimType::InvalidPath)
    );
    assert_eq!(
        err_type(patch_user(
            json!([{"op": "add", "path": "nosuch", "value": 1}])
        )),
        Some(ScimType::InvalidPath)
    );
    assert_eq!(
        err_type(patch_user(
            json!([{"op": "add", "path": "name.nosuch", "value": 1}])
        )),
        Some(ScimType::InvalidPath)
    );
    assert_eq!(
        err_type(patch_user(
            json!([{"op": "add", "path": "emails[nosuch eq 1].value", "value": "x"}])
        )),
        Some(ScimType::InvalidPath)
    );
    assert_eq!(
        err_type(patch_user(
            json!([{"op": "add", "path": "title[value eq 1]", "value": "x"}])
        )),
        Some(ScimType::InvalidPath)
    );
}

#[test]
fn op_keywords_are_case_insensitive() {
    let r = patch_user(json!([
        {"op": "ADD", "path": "title", "value": "Guide"},
        {"op": "Replace", "path": "nickName", "value": "Babs"},
        {"op": "rEmOvE", "path": "title"}
    ]))
    .unwrap();
    assert_eq!(r["nickName"], "Babs");
    assert!(r.get("title").is_none());
}

// ---- add ---------------------------------------------------------------------------------

#[test]
fn add_sets_single_valued_and_merges_complex() {
    let r = patch_user(json!([
        {"op": "add", "path": "title", "value": "Guide"},
        {"op": "add", "path": "name", "value": {"middleName": "J", "givenName": "Babs"}}
    ]))
    .unwrap();
    assert_eq!(r["title"], "Guide");
    assert_eq!(
        r["name"],
        json!({"givenName": "Babs", "familyName": "Jensen", "middleName": "J"})
    );
}

#[test]
fn add_appends_to_multi_valued_without_duplicates() {
    let r = patch_user(json!([{"op": "add", "path": "emails", "value": [
        {"value": "BJENSEN@example.com", "display": "Work"},
        {"value": "new@example.com", "type": "other"}
    ]}]))
    .unwrap();
    let emails = r["emails"].as_array().unwrap();
    assert_eq!(emails.len(), 3);
    assert_eq!(
        emails[0]["display"], "Work",
        "an equal value is merged, not duplicated"
    );
    assert_eq!(emails[2]["value"], "new@example.com");
}

#[test]
fn add_with_filter_sets_the_sub_attribute_of_matching_values() {
    let r = patch_user(
        json!([{"op": "add", "path": "emails[type eq \"home\"].display", "value": "Home"}]),
    )
    .unwrap();
    assert_eq!(r["emails"][1]["display"], "Home");
    assert!(r["emails"][0].get("display").is_none());
}

#[test]
fn add_with_an_eq_filter_matching_nothing_creates_the_value() {
    let r = patch_user(json!([
        {"op": "add", "path": "phoneNumbers[type eq \"work\"].value", "value": "555-1234"}
    ]))
    .unwrap();
    assert_eq!(
        r["phoneNumbers"],
        json!([{"type": "work", "value": "555-1234"}])
    );
    let e = patch_user(json!([
        {"op": "add", "path": "phoneNumbers[type ne \"work\"].value", "value": "555-1234"}
    ]));
    assert_eq!(err_type(e), Some(ScimType::NoTarget));
}

#[test]
fn making_a_value_primary_clears_the_others() {
    let r = patch_user(json!([
        {"op": "replace", "path": "emails[type eq \"home\"].primary", "value": true}
    ]))
    .unwrap();
    assert_eq!(r["emails"][0]["primary"], false);
    assert_eq!(r["emails"][1]["primary"], true);
    let r = patch_user(
        json!([{"op": "add", "path": "emails", "value": {"value": "n@x", "primary": true}}]),
    )
    .unwrap();
    assert_eq!(r["emails"][0]["primary"], false);
    assert_eq!(r["emails"][2]["primary"], true);
}

// ---- replace -------------------------------------------------------------------------------

#[test]
fn replace_sets_adds_and_replaces_whole_arrays() {
    let r = patch_user(json!([
        {"op": "replace", "path": "title", "value": "Boss"},
        {"op": "replace", "path": "name", "value": {"givenName": "Babs"}},
        {"op": "replace", "path": "emails", "value": [{"value": "only@x"}]}
    ]))
    .unwrap();
    assert_eq!(r["title"], "Boss");
    assert_eq!(
        r["name"],
        json!({"givenName": "Babs", "familyName": "Jensen"})
    );
    assert_eq!(r["emails"], json!([{"value": "only@x"}]));
}

#[test]
fn replace_with_a_filter_replaces_matching_values_or_fails_with_no_target() {
    let r = patch_user(json!([
        {"op": "replace", "path": "emails[type eq \"work\"]", "value": {"value": "w@x", "type": "work"}}
    ]))
    .unwrap();
    assert_eq!(r["emails"][0], json!({"value": "w@x", "type": "work"}));
    // No match: an `eq` conjunction describes the element to create (Entra), anything else
    // is noTarget.
    let r = patch_user(json!([
        {"op": "replace", "path": "emails[type eq \"other\"].value", "value": "o@x"}
    ]))
    .unwrap();
    assert!(r["emails"]
        .as_array()
        .unwrap()
        .contains(&json!({"type": "other", "value": "o@x"})));
    let e = patch_user(json!([
        {"op": "replace", "path": "emails[value co \"nowhere\"].type", "value": "home"}
    ]));
    assert_eq!(err_type(e), Some(ScimType::NoTarget));
}

#[test]
fn sub_attribute_of_a_multi_valued_attribute_addresses_every_value() {
    let r = patch_user(json!([{"op": "replace", "path": "emails.display", "value": "E"}])).unwrap();
    assert_eq!(r["emails"][0]["display"], "E");
    assert_eq!(r["emails"][1]["display"], "E");
}

#[test]
fn null_and_empty_values_unassign() {
    let r = patch_user(json!([
        {"op": "replace", "path": "name", "value": {"givenName": null, "familyName": null}},
        {"op": "replace", "path": "emails", "value": []},
        {"op": "replace", "path": "active", "value": null}
    ]))
    .unwrap();
    assert!(r.get("name").is_none());
    assert!(r.get("emails").is_none());
    assert!(r.get("active").is_none());
}

// ---- remove --------------------------------------------------------------------------------

#[test]
fn remove_needs_a_path() {
    assert_eq!(
        err_type(patch_user(json!([{"op": "remove"}]))),
        Some(ScimType::NoTarget)
    );
}

#[test]
fn remove_attributes_sub_attributes_and_filtered_values() {
    let r = patch_user(json!([
        {"op": "remove", "path": "name.givenName"},
        {"op": "remove", "path": "emails[type eq \"home\"]"},
        {"op": "remove", "path": "nickName"}
    ]))
    .unwrap();
    assert_eq!(r["name"], json!({"familyName": "Jensen"}));
    assert_eq!(r["emails"].as_array().unwrap().len(), 1);
    let r = patch_user(json!([{"op": "remove", "path": "emails"}])).unwrap();
    assert!(r.get("emails").is_none());
    let r =
        patch_user(json!([{"op": "remove", "path": "emails[type eq \"work\"].primary"}])).unwrap();
    assert!(r["emails"][0].get("primary").is_none());
    let e = patch_user(json!([{"op": "remove", "path": "emails[type eq \"other\"]"}]));
    assert_eq!(err_type(e), Some(ScimType::NoTarget));
}

#[test]
fn removing_the_last_value_or_sub_attribute_unassigns_the_attribute() {
    let r = patch_user(json!([
        {"op": "remove", "path": "emails[value co \"@\"]"},
        {"op": "remove", "path": "name.givenName"},
        {"op": "remove", "path": "name.familyName"}
    ]))
    .unwrap();
    assert!(r.get("emails").is_none());
    assert!(r.get("name").is_none());
}

#[test]
fn removing_a_required_attribute_is_invalid() {
    assert_eq!(
        err_type(patch_user(json!([{"op": "remove", "path": "userName"}]))),
        Some(ScimType::InvalidValue)
    );
    assert_eq!(
        err_type(patch_group(
            json!([{"op": "replace", "path": "displayName", "value": ""}])
        )),
        Some(ScimType::InvalidValue)
    );
}

// ---- mutability and values -------------------------------------------------------------------

#[test]
fn read_only_and_immutable_attributes_cannot_change() {
    for o in [
        json!({"op": "replace", "path": "id", "value": "other"}),
        json!({"op": "remove", "path": "id"}),
        json!({"op": "replace", "path": "meta.created", "value": "2020-01-01T00:00:00Z"}),
        json!({"op": "add", "path": "groups", "value": [{"value": "g2"}]}),
        json!({"op": "remove", "path": "groups[value eq \"g1\"]"}),
        json!({"op": "replace", "value": {"id": "other"}}),
    ] {
        assert_eq!(
            err_type(patch_user(json!([o.clone()]))),
            Some(ScimType::Mutability),
            "{o}"
        );
    }
    let e = patch_group(
        json!([{"op": "replace", "path": "members[value eq \"u1\"].value", "value": "u9"}]),
    );
    assert_eq!(err_type(e), Some(ScimType::Mutability));
    let e = patch_group(
        json!([{"op": "replace", "path": "members[value eq \"u1\"].display", "value": "X"}]),
    );
    assert_eq!(err_type(e), Some(ScimType::Mutability));
    // Writing the value an attribute already has changes nothing and is accepted.
    assert_eq!(
        patch_user(json!([{"op": "replace", "path": "id", "value": "2819c223"}])).unwrap(),
        {
            let mut u = user();
            u["meta"] = json!({"resourceType": "User", "created": "2010-01-23T04:56:22Z"});
            u
        }
    );
}

#[test]
fn values_are_checked_against_their_types() {
    for (path, value) in [
        ("title", json!(5)),
        ("active", json!("yes")),
        ("emails", json!([{"value": "a@b", "nosuch": 1}])),
        ("name", json!([1])),
        ("userName", json!("x".repeat(257))),
    ] {
        let e = patch_user(json!([{"op": "replace", "path": path, "value": value}]));
        assert_eq!(err_type(e), Some(ScimType::InvalidValue), "{path}");
    }
    assert!(
        patch_user(json!([{"op": "replace", "path": "userName", "value": "é".repeat(256)}]))
            .is_ok()
    );
}

#[test]
fn read_only_sub_attributes_in_written_values_are_dropped() {
    let r = patch_group(
        json!([{"op": "add", "path": "members", "value": [{"value": "u3", "display": "Zed"}]}]),
    )
    .unwrap();
    assert_eq!(r["members"][2], json!({"value": "u3"}));
}

#[test]
fn a_failed_operation_changes_nothing() {
    let req = PatchRequest::from_json(&ops(json!([
        {"op": "replace", "path": "title", "value": "Boss"},
        {"op": "replace", "path": "id", "value": "other"}
    ])))
    .unwrap();
    let original = user();
    assert!(req.apply(&original, &ResourceType::user()).is_err());
    assert_eq!(original, user());
}

#[test]
fn schemas_follow_the_extensions_present() {
    let r = patch_user(json!([{"op": "add", "path": format!("{ENT}:department"), "value": "Ops"}]))
        .unwrap();
    assert_eq!(
        r["schemas"],
        json!(["urn:ietf:params:scim:schemas:core:2.0:User", ENT])
    );
    assert_eq!(r[ENT]["department"], "Ops");
    let r2 = apply_patch(
        &r,
        &ops(json!([{"op": "remove", "path": format!("{ENT}:department")}])),
        &ResourceType::user(),
    )
    .unwrap();
    assert_eq!(
        r2["schemas"],
        json!(["urn:ietf:params:scim:schemas:core:2.0:User"])
    );
    assert!(r2.get(ENT).is_none());
    let r3 = patch_user(json!([{"op": "add", "path": ENT, "value": {"employeeNumber": "7", "manager": {"value": "m1"}}}])).unwrap();
    assert_eq!(
        r3[ENT],
        json!({"employeeNumber": "7", "manager": {"value": "m1"}})
    );
}

// ---- Microsoft Entra ---------------------------------------------------------------------------

#[test]
fn entra_replace_one_operation_per_attribute() {
    let body = json!({
        "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
        "Operations": [
            {"op": "Replace", "path": "displayName", "value": "Barbara Jensen"},
            {"op": "Replace", "path": "name.givenName", "value": "Barbara"},
            {"op": "Replace", "path": "name.familyName", "value": "Jensen-Smith"},
            {"op": "Replace", "path": "emails[type eq \"work\"].value", "value": "barbara@example.com"},
            {"op": "Add", "path": "phoneNumbers[type eq \"mobile\"].value", "value": "+1 555 0100"},
            {"op": "Replace", "path": "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department", "value": "Sales"},
            {"op": "Add", "path": "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager", "value": "26118915"},
            {"op": "Replace", "path": "active", "value": "False"},
            {"op": "Replace", "path": "externalId", "value": "0a21f0f2"}
        ]
    });
    let r = apply_patch(&user(), &body, &ResourceType::user()).unwrap();
    assert_eq!(r["displayName"], "Barbara Jensen");
    assert_eq!(r["name"]["familyName"], "Jensen-Smith");
    assert_eq!(r["emails"][0]["value"], "barbara@example.com");
    assert_eq!(
        r["phoneNumbers"],
        json!([{"type": "mobile", "value": "+1 555 0100"}])
    );
    assert_eq!(r[ENT]["department"], "Sales");
    assert_eq!(r[ENT]["manager"], json!({"value": "26118915"}));
    assert_eq!(r["active"], false);
    assert_eq!(r["externalId"], "0a21f0f2");
}

#[test]
fn entra_pathless_replace_with_dotted_and_urn_keys() {
    let body = json!({
        "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
        "Operations": [{
            "op": "replace",
            "value": {
                "displayName": "Babs",
                "name.givenName": "Babs",
                "name.familyName": "J",
                "emails[type eq \"work\"].value": "babs@example.com",
                "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department": "Tours",
                "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber": "701984",
                "active": "True",
                "addresses[type eq \"work\"].locality": "Hollywood"
            }
        }]
    });
    let r = apply_patch(&user(), &body, &ResourceType::user()).unwrap();
    assert_eq!(r["name"], json!({"givenName": "Babs", "familyName": "J"}));
    assert_eq!(r["emails"][0]["value"], "babs@example.com");
    assert_eq!(
        r[ENT],
        json!({"department": "Tours", "employeeNumber": "701984"})
    );
    assert_eq!(r["active"], true);
    assert_eq!(
        r["addresses"],
        json!([{"type": "work", "locality": "Hollywood"}]),
        "a replace through a filter matching nothing creates the element, as Entra expects"
    );
}

#[test]
fn entra_group_member_add_and_remove_with_value_list() {
    let add = json!({
        "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
        "Operations": [{"op": "Add", "path": "members", "value": [{"value": "u3"}, {"value": "u1"}]}]
    });
    let r = apply_patch(&group(), &add, &ResourceType::group()).unwrap();
    assert_eq!(
        r["members"],
        json!([{"value": "u1", "display": "Ann"}, {"value": "u2"}, {"value": "u3"}])
    );
    let remove = json!({
        "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
        "Operations": [{"op": "Remove", "path": "members", "value": [{"value": "u1"}, {"value": "gone"}]}]
    });
    let r = apply_patch(&r, &remove, &ResourceType::group()).unwrap();
    assert_eq!(r["members"], json!([{"value": "u2"}, {"value": "u3"}]));
}

#[test]
fn entra_replace_display_name_of_a_group() {
    let body = json!({
        "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
        "Operations": [{"op": "Replace", "path": "displayName", "value": "Tour Leads"}]
    });
    let r = apply_patch(&group(), &body, &ResourceType::group()).unwrap();
    assert_eq!(r["displayName"], "Tour Leads");
}

// ---- Okta ------------------------------------------------------------------------------------

#[test]
fn okta_deactivates_with_a_pathless_replace() {
    let body = json!({
        "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
        "Operations": [{"op": "replace", "value": {"active": false}}]
    });
    let r = apply_patch(&user(), &body, &ResourceType::user()).unwrap();
    assert_eq!(r["active"], false);
    let mut expected = user();
    expected["active"] = json!(false);
    assert_eq!(r, expected);
}

#[test]
fn okta_renames_a_group_with_its_own_id_in_the_value() {
    let body = json!({
        "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
        "Operations": [{"op": "replace", "value": {"id": "abf4dd94", "displayName": "Test SCIMv2"}}]
    });
    let r = apply_patch(&group(), &body, &ResourceType::group()).unwrap();
    assert_eq!(r["displayName"], "Test SCIMv2");
    assert_eq!(r["id"], "abf4dd94");
    let body = json!({
        "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
        "Operations": [{"op": "replace", "value": {"id": "someone-else", "displayName": "X"}}]
    });
    assert_eq!(
        err_type(apply_patch(&group(), &body, &ResourceType::group())),
        Some(ScimType::Mutability)
    );
}

#[test]
fn okta_adds_and_removes_members() {
    let add = json!({
        "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
        "Operations": [{"op": "add", "path": "members", "value": [{"value": "u4", "display": "test.user@okta.local"}]}]
    });
    let r = apply_patch(&group(), &add, &ResourceType::group()).unwrap();
    assert_eq!(r["members"][2], json!({"value": "u4"}));
    let remove = json!({
        "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
        "Operations": [{"op": "remove", "path": "members[value eq \"u2\"]"}]
    });
    let r = apply_patch(&r, &remove, &ResourceType::group()).unwrap();
    assert_eq!(
        r["members"],
        json!([{"value": "u1", "display": "Ann"}, {"value": "u4"}])
    );
    // Member ids are case-exact: a different case is a different member.
    let e = apply_patch(
        &r,
        &ops(json!([{"op": "remove", "path": "members[value eq \"U1\"]"}])),
        &ResourceType::group(),
    );
    assert_eq!(err_type(e), Some(ScimType::NoTarget));
}

// ---- properties ------------------------------------------------------------------------------

fn arb_json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i32>().prop_map(Value::from),
        "[a-zA-Z0-9@. ]{0,8}".prop_map(Value::String),
        prop_oneof![
            Just("True"),
            Just("false"),
            Just("work"),
            Just("u1"),
            Just("2819c223")
        ]
        .prop_map(|s| Value::String(s.into())),
    ];
    leaf.prop_recursive(3, 16, 4, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..3).prop_map(Value::Array),
            proptest::collection::btree_map(
                prop_oneof![
                    Just("value".to_string()),
                    Just("type".to_string()),
                    Just("primary".to_string()),
                    Just("givenName".to_string()),
                    Just("display".to_string()),
                    "[a-zA-Z]{1,6}",
                ],
                inner,
                0..3
            )
            .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

fn arb_path() -> impl Strategy<Value = Option<String>> {
    proptest::option::of(prop_oneof![
        Just("title".to_string()),
        Just("name".to_string()),
        Just("name.givenName".to_string()),
        Just("emails".to_string()),
        Just("emails.value".to_string()),
        Just("emails[type eq \"work\"]".to_string()),
        Just("emails[type eq \"work\"].value".to_string()),
        Just("emails[value co \"@\" or primary eq true].primary".to_string()),
        Just("members".to_string()),
        Just("members[value eq \"u1\"]".to_string()),
        Just("active".to_string()),
        Just("id".to_string()),
        Just("groups".to_string()),
        Just("userName".to_string()),
        Just(ENT.to_string()),
        Just(format!("{ENT}:manager")),
        Just(format!("{ENT}:manager.value")),
        "[a-zA-Z.\\[\\]\" ]{0,12}",
    ])
}

fn arb_op() -> impl Strategy<Value = Value> {
    (
        prop_oneof![Just("add"), Just("Replace"), Just("remove"), Just("bogus")],
        arb_path(),
        proptest::option::of(arb_json()),
    )
        .prop_map(|(op, path, value)| {
            let mut o = serde_json::Map::new();
            o.insert("op".into(), json!(op));
            if let Some(p) = path {
                o.insert("path".into(), json!(p));
            }
            if let Some(v) = value {
                o.insert("value".into(), v);
            }
            Value::Object(o)
        })
}

proptest! {
    #[test]
    fn patch_never_panics_and_is_all_or_nothing(
        list in proptest::collection::vec(arb_op(), 1..4),
        on_group in any::<bool>(),
    ) {
        let (resource, rt) = if on_group {
            (group(), ResourceType::group())
        } else {
            (user(), ResourceType::user())
        };
        let body = ops(Value::Array(list));
        match apply_patch(&resource, &body, &rt) {
            Ok(out) => {
                // A successful PATCH leaves a valid resource that a no-op PATCH keeps as is.
                prop_assert!(out["id"] == resource["id"]);
                let again = apply_patch(&out, &ops(json!([{"op": "add", "path": "externalId", "value": "e"}])), &rt);
                prop_assert!(again.is_ok(), "{:?}", again);
            }
            Err(e) => prop_assert_eq!(e.status, 400),
        }
    }

    #[test]
    fn patch_never_panics_on_arbitrary_bodies(body in arb_json()) {
        let _ = apply_patch(&user(), &body, &ResourceType::user());
    }
}
