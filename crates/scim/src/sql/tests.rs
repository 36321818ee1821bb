//! SQL translation tests: the exact fragments and parameters for each rule, against a column
//! map shaped like rolecall's tables.

use super::*;
use crate::error::ScimType;
use crate::schema::{AttrRef, ResourceType, ENTERPRISE_USER_SCHEMA};

pub(crate) struct UserMap(pub ResourceType);

impl ColumnMap for UserMap {
    fn resource_type(&self) -> &ResourceType {
        &self.0
    }

    fn column(&self, a: &AttrRef<'_>) -> Option<Column> {
        let path = a.canonical();
        let ext = |n: &str| format!("{ENTERPRISE_USER_SCHEMA}:{n}");
        Some(match path.as_str() {
            "id" => Column::text("u.id"),
            "externalId" => Column::text("u.external_id"),
            "userName" => Column::text("u.user_name").folded_in("u.user_name_key"),
            "displayName" => Column::text("u.display_name"),
            "title" => Column::text("u.title"),
            "nickName" => Column::text("u.nick_name"),
            "locale" => Column::text("u.locale"),
            "userType" => Column::text("u.user_type"),
            "name.givenName" => Column::text("u.given_name"),
            "name.familyName" => Column::text("u.family_name"),
            "active" => Column::new("u.active", Storage::BoolInt),
            "meta.created" => Column::new("u.created_at", Storage::UnixMillis),
            "meta.lastModified" => Column::new("u.updated_at", Storage::UnixMillis),
            p if p == ext("department") => Column::text("u.department"),
            p if p == ext("manager.value") => Column::text("u.manager_id"),
            // A deliberate mistake, to see it reported as a server error.
            "timezone" => Column::new("u.tz", Storage::Integer),
            _ => return None,
        })
    }

    fn child_table(&self, a: &AttrRef<'_>) -> Option<ChildTable> {
        match a.canonical().as_str() {
            "emails" => Some(ChildTable {
                table: "user_emails".into(),
                foreign_key: "user_id".into(),
                parent_key: "u.id".into(),
                columns: vec![
                    ("value".into(), Column::text("address").folded_in("address_key")),
                    ("type".into(), Column::text("kind")),
                    ("primary".into(), Column::new("is_primary", Storage::BoolInt)),
                ],
            }),
            "groups" => Some(ChildTable {
                table: "(SELECT gm.user_id, gm.group_id, g.name FROM group_members gm JOIN groups g ON g.id = gm.group_id)".into(),
                foreign_key: "user_id".into(),
                parent_key: "u.id".into(),
                columns: vec![
                    ("value".into(), Column::text("group_id")),
                    ("display".into(), Column::text("name")),
                ],
            }),
            _ => None,
        }
    }
}

fn sql(filter: &str) -> SqlFilter {
    let f = Filter::parse(filter).unwrap();
    to_sql(&f, &UserMap(ResourceType::user())).unwrap_or_else(|e| panic!("{filter}: {e}"))
}

fn text(s: &str) -> SqlValue {
    SqlValue::Text(s.into())
}

#[test]
fn case_insensitive_equality_uses_the_folded_key_column() {
    let s = sql(r#"userName eq "BJensen@Example.com""#);
    assert_eq!(
        s.sql,
        "(u.user_name_key IS NOT NULL AND u.user_name_key = $1)"
    );
    assert_eq!(s.params, vec![text("bjensen@example.com")]);
}

#[test]
fn case_insensitive_without_a_key_column_uses_lower() {
    let s = sql(r#"displayName eq "Babs""#);
    assert_eq!(
        s.sql,
        "(LOWER(u.display_name) IS NOT NULL AND LOWER(u.display_name) = $1)"
    );
    assert_eq!(s.params, vec![text("babs")]);
}

#[test]
fn case_exact_equality_compares_the_column() {
    let s = sql(r#"externalId eq "BJ""#);
    assert_eq!(s.sql, "(u.external_id IS NOT NULL AND u.external_id = $1)");
    assert_eq!(s.params, vec![text("BJ")]);
}

#[test]
fn like_patterns_escape_wildcards_and_the_escape_character() {
    let s = sql(r#"title co "50%_off\\now""#);
    assert_eq!(
        s.sql,
        "(LOWER(u.title) IS NOT NULL AND LOWER(u.title) LIKE $1 ESCAPE '\\')"
    );
    assert_eq!(s.params, vec![text("%50\\%\\_off\\\\now%")]);
    assert_eq!(sql(r#"userName sw "A_""#).params, vec![text("a\\_%")]);
    assert_eq!(sql(r#"userName ew "%Z""#).params, vec![text("%\\%z")]);
}

#[test]
fn case_exact_substrings_avoid_like() {
    let s = sql(r#"externalId co "Jen""#);
    assert_eq!(
        s.sql,
        "(u.external_id IS NOT NULL AND REPLACE(u.external_id, $1, '') <> u.external_id)"
    );
    let s = sql(r#"externalId sw "bjé""#);
    assert_eq!(
        s.sql,
        "(u.external_id IS NOT NULL AND SUBSTR(u.external_id, 1, 3) = $1)"
    );
    let s = sql(r#"externalId ew "sen""#);
    assert_eq!(
        s.sql,
        "(u.external_id IS NOT NULL AND LENGTH(u.external_id) >= 3 AND SUBSTR(u.external_id, LENGTH(u.external_id) - 2) = $1)"
    );
    assert_eq!(s.params, vec![text("sen")]);
    let s = sql(r#"externalId co """#);
    assert_eq!(s.sql, "(u.external_id IS NOT NULL)");
    assert!(s.params.is_empty());
}

#[test]
fn presence_is_not_null_and_not_empty_for_text() {
    assert_eq!(
        sql("title pr").sql,
        "(u.title IS NOT NULL AND u.title <> '')"
    );
    assert_eq!(sql("active pr").sql, "(u.active IS NOT NULL)");
    assert_eq!(
        sql("name pr").sql,
        "((u.family_name IS NOT NULL AND u.family_name <> '') OR (u.given_name IS NOT NULL AND u.given_name <> ''))"
    );
    assert_eq!(
        sql("title eq null").sql,
        "NOT ((u.title IS NOT NULL AND u.title <> ''))"
    );
}

#[test]
fn ne_and_not_negate_a_two_valued_test() {
    assert_eq!(
        sql(r#"title ne "Boss""#).sql,
        "NOT ((LOWER(u.title) IS NOT NULL AND LOWER(u.title) = $1))"
    );
    assert_eq!(
        sql(r#"not (title pr) or active eq false"#).sql,
        "(NOT ((u.title IS NOT NULL AND u.title <> '')) OR (u.active IS NOT NULL AND u.active = $1))"
    );
}

#[test]
fn booleans_and_datetimes_bind_the_stored_representation() {
    assert_eq!(sql("active eq true").params, vec![SqlValue::Int(1)]);
    let s = sql(r#"meta.lastModified gt "2011-05-13T06:42:34+02:00""#);
    assert_eq!(s.sql, "(u.updated_at IS NOT NULL AND u.updated_at > $1)");
    assert_eq!(s.params, vec![SqlValue::Int(1_305_261_754_000)]);
}

#[test]
fn multi_valued_attributes_become_exists_over_the_child_table() {
    let s = sql(r#"emails co "Example.com""#);
    assert_eq!(
        s.sql,
        "EXISTS (SELECT 1 FROM user_emails scim_e1 WHERE scim_e1.user_id = u.id AND (scim_e1.address_key IS NOT NULL AND scim_e1.address_key LIKE $1 ESCAPE '\\'))"
    );
    assert_eq!(s.params, vec![text("%example.com%")]);
    let s = sql(r#"emails[type eq "work" and primary eq true]"#);
    assert_eq!(
        s.sql,
        "EXISTS (SELECT 1 FROM user_emails scim_e1 WHERE scim_e1.user_id = u.id AND ((LOWER(scim_e1.kind) IS NOT NULL AND LOWER(scim_e1.kind) = $1) AND (scim_e1.is_primary IS NOT NULL AND scim_e1.is_primary = $2)))"
    );
    assert_eq!(s.params, vec![text("work"), SqlValue::Int(1)]);
    assert!(sql(r#"emails.type ne "home""#)
        .sql
        .starts_with("NOT (EXISTS (SELECT 1 FROM user_emails scim_e1 "));
}

#[test]
fn entra_value_path_form_translates_like_the_rfc_form() {
    assert_eq!(
        sql(r#"emails[type eq "work"].value eq "a@b""#),
        sql(r#"emails[type eq "work" and value eq "a@b"]"#)
    );
}

#[test]
fn each_exists_gets_its_own_alias_and_placeholders_continue() {
    let f = Filter::parse(r#"emails.type eq "work" and groups.display eq "Ops" and userName pr"#)
        .unwrap();
    let s = to_sql_at(&f, &UserMap(ResourceType::user()), 3).unwrap();
    assert!(s.sql.contains("FROM user_emails scim_e1"));
    assert!(s
        .sql
        .contains("JOIN groups g ON g.id = gm.group_id) scim_e2 WHERE scim_e2.user_id = u.id"));
    assert!(s.sql.contains("= $3)") && s.sql.contains("= $4)"));
    assert!(!s.sql.contains("$5") && !s.sql.contains("$1"));
    assert_eq!(s.params.len(), 2);
}

#[test]
fn extension_attributes_and_single_valued_value_paths() {
    let s = sql(
        r#"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value eq "26118915""#,
    );
    assert_eq!(s.sql, "(u.manager_id IS NOT NULL AND u.manager_id = $1)");
    assert_eq!(
        sql(r#"name[givenName eq "Ann"]"#),
        sql(r#"name.givenName eq "Ann""#)
    );
}

#[test]
fn unmapped_attributes_are_invalid_filters_and_bad_maps_are_server_errors() {
    let map = UserMap(ResourceType::user());
    let e = to_sql(
        &Filter::parse(r#"preferredLanguage eq "en""#).unwrap(),
        &map,
    )
    .unwrap_err();
    assert_eq!(e.scim_type, Some(ScimType::InvalidFilter));
    assert!(e.detail.contains("preferredLanguage"), "{}", e.detail);
    let e = to_sql(&Filter::parse(r#"phoneNumbers pr"#).unwrap(), &map).unwrap_err();
    assert_eq!(e.scim_type, Some(ScimType::InvalidFilter));
    let e = to_sql(&Filter::parse(r#"timezone eq "UTC""#).unwrap(), &map).unwrap_err();
    assert_eq!(e.status, 500);
    let e = to_sql(&Filter::parse(r#"active gt true"#).unwrap(), &map).unwrap_err();
    assert_eq!(e.scim_type, Some(ScimType::InvalidFilter));
}

#[test]
fn each_ordering_operator_maps_to_its_sql_operator() {
    for (op, sql_op) in [
        ("eq", "="),
        ("gt", ">"),
        ("ge", ">="),
        ("lt", "<"),
        ("le", "<="),
    ] {
        let s = sql(&format!(r#"externalId {op} "m""#));
        assert_eq!(
            s.sql,
            format!("(u.external_id IS NOT NULL AND u.external_id {sql_op} $1)"),
            "{op}"
        );
        let s = sql(&format!(r#"meta.created {op} "2000-01-01T00:00:00Z""#));
        assert_eq!(
            s.sql,
            format!("(u.created_at IS NOT NULL AND u.created_at {sql_op} $1)"),
            "{op}"
        );
        assert_eq!(s.params, vec![SqlValue::Int(946_684_800_000)]);
    }
}
