//! Evaluation tests on RFC 7643's example user, one rule at a time.

use super::*;
use crate::error::ScimType;
use crate::schema::ResourceType;
use serde_json::json;

pub(crate) fn barbara() -> Value {
    json!({
        "schemas": [
            "urn:ietf:params:scim:schemas:core:2.0:User",
            "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
        ],
        "id": "2819c223-7f76-453a-919d-413861904646",
        "externalId": "bjensen",
        "meta": {
            "resourceType": "User",
            "created": "2010-01-23T04:56:22Z",
            "lastModified": "2011-05-13T04:42:34Z",
            "location": "https://example.com/v2/Users/2819c223-7f76-453a-919d-413861904646",
            "version": "W/\"a330bc54f0671c9\""
        },
        "userName": "bjensen@example.com",
        "name": {
            "formatted": "Ms. Barbara J Jensen III",
            "familyName": "Jensen",
            "givenName": "Barbara"
        },
        "displayName": "Babs Jensen",
        "title": "Tour Guide",
        "userType": "Employee",
        "nickName": "",
        "active": true,
        "emails": [
            {"value": "bjensen@example.com", "type": "work", "primary": true},
            {"value": "babs@jensen.org", "type": "home"}
        ],
        "phoneNumbers": [{"value": "555-555-8377", "type": "work"}],
        "groups": [{"value": "e9e30dba", "display": "Tour Guides"}],
        "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User": {
            "employeeNumber": "701984",
            "department": "Tour Operations",
            "manager": {"value": "26118915", "displayName": "John Smith"}
        }
    })
}

fn check(filter: &str) -> Result<bool, ScimError> {
    let f = Filter::parse(filter)?;
    matches(&f, &barbara(), &ResourceType::user())
}

fn yes(filter: &str) {
    assert_eq!(check(filter), Ok(true), "{filter}");
}

fn no(filter: &str) {
    assert_eq!(check(filter), Ok(false), "{filter}");
}

fn rejected(filter: &str, why: &str) {
    let e = check(filter).unwrap_err();
    assert_eq!(e.scim_type, Some(ScimType::InvalidFilter), "{filter}");
    assert!(e.detail.contains(why), "{filter}: {}", e.detail);
}

#[test]
fn user_name_is_case_insensitive_and_external_id_is_not() {
    yes(r#"userName eq "BJensen@Example.COM""#);
    yes(r#"USERNAME eq "bjensen@example.com""#);
    yes(r#"externalId eq "bjensen""#);
    no(r#"externalId eq "BJENSEN""#);
    yes(r#"id eq "2819c223-7f76-453a-919d-413861904646""#);
    no(r#"id eq "2819C223-7F76-453A-919D-413861904646""#);
}

#[test]
fn substring_operators_follow_case_rules() {
    yes(r#"name.familyName co "ENS""#);
    yes(r#"userName sw "BJ""#);
    yes(r#"userName ew "COM""#);
    no(r#"userName ew "org""#);
    yes(r#"externalId sw "bj""#);
    no(r#"externalId sw "BJ""#);
    yes(r#"title co """#);
    yes(r#"nickName sw """#);
    no(r#"displayName co "Zed""#);
    no(r#"locale co """#);
}

#[test]
fn presence_needs_a_non_empty_value() {
    yes("title pr");
    no("nickName pr");
    no("locale pr");
    yes("name pr");
    yes("emails pr");
    yes("active pr");
    yes("urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager pr");
    no("urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:costCenter pr");
}

#[test]
fn absent_attributes_satisfy_ne_and_not_and_eq_null() {
    yes(r#"locale ne "en""#);
    no(r#"locale eq "en""#);
    yes(r#"not (locale eq "en")"#);
    yes("locale eq null");
    no("locale ne null");
    yes("title ne null");
    no("title eq null");
    no(r#"locale gt "a""#);
    yes(r#"not (locale gt "a")"#);
}

#[test]
fn datetimes_compare_as_instants() {
    yes(r#"meta.lastModified eq "2011-05-13T06:42:34+02:00""#);
    yes(r#"meta.lastModified gt "2011-05-13T04:42:33.999Z""#);
    yes(r#"meta.lastModified ge "2011-05-13T04:42:34Z""#);
    no(r#"meta.lastModified lt "2011-05-13T04:42:34Z""#);
    yes(r#"meta.lastModified le "2011-05-13T04:42:34.0009Z""#);
    yes(r#"meta.created lt "2011-01-01T00:00:00Z""#);
    rejected(
        r#"meta.created gt "yesterday""#,
        "not an RFC 3339 date-time",
    );
}

#[test]
fn multi_valued_attributes_match_when_some_value_does() {
    yes(r#"emails co "jensen.org""#);
    yes(r#"emails.value co "JENSEN.ORG""#);
    yes(r#"emails.type eq "home""#);
    no(r#"emails.type eq "other""#);
    no(r#"emails ne "babs@jensen.org""#);
    yes(r#"phoneNumbers.type ne "home""#);
    yes(r#"emails.primary eq true"#);
    yes(r#"groups.display eq "tour guides""#);
}

#[test]
fn value_filters_need_one_element_to_satisfy_everything() {
    no(r#"emails[type eq "work" and value co "jensen.org"]"#);
    yes(r#"emails.type eq "work" and emails.value co "jensen.org""#);
    yes(r#"emails[type eq "home" and value co "jensen.org"]"#);
    yes(r#"emails[not (type eq "work")]"#);
    no(r#"not (emails[type eq "work"])"#);
    yes(r#"emails[type eq "work"].value eq "BJENSEN@example.com""#);
    no(r#"emails[type eq "home"].value eq "bjensen@example.com""#);
    yes(r#"emails[primary pr]"#);
    yes(r#"name[givenName eq "barbara" and familyName sw "J"]"#);
    no(r#"phoneNumbers[type eq "mobile"]"#);
}

#[test]
fn extension_attributes_with_and_without_urn() {
    yes(
        r#"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department eq "tour operations""#,
    );
    yes(r#"department eq "Tour Operations""#);
    yes(
        r#"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value eq "26118915""#,
    );
    yes(r#"urn:ietf:params:scim:schemas:core:2.0:User:name.givenName eq "Barbara""#);
    rejected(
        r#"urn:ietf:params:scim:schemas:core:2.0:User:department eq "x""#,
        "unknown attribute",
    );
}

#[test]
fn booleans_compare_only_for_equality() {
    yes("active eq true");
    no("active eq false");
    yes("active ne false");
    rejected("active gt true", "does not apply");
    rejected(r#"active eq "true""#, "is a boolean and cannot be compared");
    rejected(r#"active co "t""#, "applies to strings");
}

#[test]
fn strings_order_by_code_point_after_folding() {
    yes(r#"userName gt "BJ""#);
    yes(r#"userName lt "c""#);
    yes(r#"title ge "tour guide""#);
    no(r#"title gt "tour guide""#);
    yes(r#"externalId gt "B""#);
}

#[test]
fn filters_that_do_not_fit_the_schema_are_rejected() {
    rejected(r#"nosuch eq "x""#, "unknown attribute `nosuch`");
    rejected(r#"name.nosuch eq "x""#, "unknown attribute");
    rejected(
        r#"userName eq 5"#,
        "is a string and cannot be compared with 5",
    );
    rejected(r#"name eq "x""#, "is complex");
    rejected(r#"emails[nosuch eq "x"]"#, "has no sub-attribute `nosuch`");
    rejected(r#"title[value eq "x"]"#, "needs a complex attribute");
    rejected(r#"title co null"#, "cannot compare with null");
    rejected(r#"schemas eq "urn:x""#, "unknown attribute");
}

#[test]
fn rfc_examples_on_the_example_user() {
    let expected = [
        (r#"userName eq "bjensen""#, false),
        (r#"name.familyName co "O'Malley""#, false),
        (r#"userName sw "J""#, false),
        (
            r#"urn:ietf:params:scim:schemas:core:2.0:User:userName sw "b""#,
            true,
        ),
        (r#"title pr"#, true),
        (r#"meta.lastModified gt "2011-05-13T04:42:34Z""#, false),
        (r#"meta.lastModified ge "2011-05-13T04:42:34Z""#, true),
        (r#"meta.lastModified lt "2011-05-13T04:42:34Z""#, false),
        (r#"meta.lastModified le "2011-05-13T04:42:34Z""#, true),
        (r#"title pr and userType eq "Employee""#, true),
        (r#"title pr or userType eq "Intern""#, true),
        (
            r#"userType eq "Employee" and (emails co "example.com" or emails.value co "example.org")"#,
            true,
        ),
        (
            r#"userType ne "Employee" and not (emails co "example.com" or emails.value co "example.org")"#,
            false,
        ),
        (
            r#"userType eq "Employee" and (emails.type eq "work")"#,
            true,
        ),
        (
            r#"userType eq "Employee" and emails[type eq "work" and value co "@example.com"]"#,
            true,
        ),
    ];
    for (f, want) in expected {
        assert_eq!(check(f), Ok(want), "{f}");
    }
}

#[test]
fn groups_filter_members_by_value() {
    let g = json!({
        "id": "e9e30dba",
        "displayName": "Tour Guides",
        "members": [{"value": "2819c223", "display": "Babs"}, {"value": "902c246b"}]
    });
    let rt = ResourceType::group();
    let m = |f: &str| matches(&Filter::parse(f).unwrap(), &g, &rt).unwrap();
    assert!(m(r#"members eq "902c246b""#));
    assert!(!m(r#"members eq "902C246B""#));
    assert!(m(r#"members[value eq "2819c223"]"#));
    assert!(m(r#"displayName eq "tour guides""#));
    assert!(!m(r#"members.display eq "nobody""#));
}

#[test]
fn compiled_filters_test_many_resources() {
    let rt = ResourceType::user();
    let f = Filter::parse(r#"userName sw "a""#).unwrap();
    let c = compile(&f, &rt).unwrap();
    assert!(c.matches(&json!({"userName": "Ann"})));
    assert!(!c.matches(&json!({"userName": "Bob"})));
    assert!(!c.matches(&json!({})));
    assert!(!c.matches(&json!({"userName": 5})));
    assert!(!c.matches(&json!("not an object")));
}

#[test]
fn values_of_the_wrong_json_type_never_match() {
    let rt = ResourceType::user();
    let r = json!({"title": 7, "active": "yes", "meta": {"created": "soon"}, "emails": "x@y"});
    let m = |f: &str| matches(&Filter::parse(f).unwrap(), &r, &rt).unwrap();
    assert!(!m(r#"title eq "7""#));
    assert!(!m("active eq true"));
    assert!(!m(r#"meta.created gt "2000-01-01T00:00:00Z""#));
    assert!(
        !m(r#"emails eq "x@y""#),
        "elements of a complex attribute are objects"
    );
}

#[test]
fn fold_case_is_unicode_lower_case() {
    assert_eq!(fold_case("ÄBC"), "äbc");
    yes(r#"displayName eq "BABS JENSEN""#);
    let rt = ResourceType::user();
    let r = json!({"displayName": "Ärger"});
    assert!(matches(
        &Filter::parse(r#"displayName eq "ärger""#).unwrap(),
        &r,
        &rt
    )
    .unwrap());
}
