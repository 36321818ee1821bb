//! The Magento migration reader on fixtures modelled on Magento 2.4.8's tables (Adobe
//! Commerce role scopes, an inactive and a locked user, a role link to a missing role, an
//! integration role, a malformed hash), checking the plan and every reported row.

// Test helpers panic on purpose: a fixture that does not open is a failed test.
#![allow(clippy::unwrap_used)]

use rolecall_bulk::{
    FileError, MagentoExport, MagentoPlan, MagentoScope, MagentoTable, ResourceGrant, SecondFactor,
    StoreGroupScope,
};
use std::collections::BTreeSet;

fn fixture(name: &str) -> Vec<u8> {
    let path = format!(
        "{}/tests/fixtures/magento/{name}",
        env!("CARGO_MANIFEST_DIR")
    );
    std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn export(tables: &[(MagentoTable, &str)]) -> MagentoExport {
    let mut ex = MagentoExport::new();
    for (table, file) in tables {
        ex.read(*table, &fixture(file)[..]).unwrap();
    }
    ex
}

fn full() -> MagentoPlan {
    export(&[
        (MagentoTable::StoreWebsite, "store_website.csv"),
        (MagentoTable::StoreGroup, "store_group.csv"),
        (MagentoTable::Store, "store.csv"),
        (MagentoTable::AuthorizationRole, "authorization_role.csv"),
        (MagentoTable::AuthorizationRule, "authorization_rule.csv"),
        (MagentoTable::AdminUser, "admin_user.csv"),
    ])
    .plan()
}

fn strings(items: &[&str]) -> BTreeSet<String> {
    items.iter().map(|s| s.to_string()).collect()
}

fn problems_of(plan: &MagentoPlan, table: MagentoTable) -> Vec<(u64, String)> {
    plan.problems
        .iter()
        .filter(|p| p.table == table)
        .map(|p| (p.line, p.reason.clone()))
        .collect()
}

#[test]
fn roles_get_their_allowed_resources_and_resolved_scopes() {
    let plan = full();
    let names: Vec<_> = plan
        .roles
        .iter()
        .map(|r| (r.role_id, r.name.as_str()))
        .collect();
    assert_eq!(
        names,
        [
            (1, "Administrators"),
            (3, "Catalog Managers EU"),
            (5, "Support")
        ]
    );
    assert_eq!(plan.roles[0].resources, ResourceGrant::All);
    assert_eq!(plan.roles[0].scope, MagentoScope::All);
    assert_eq!(
        plan.roles[1].resources,
        ResourceGrant::Resources(strings(&[
            "Magento_Catalog::catalog",
            "Magento_Catalog::catalog_inventory",
            "Magento_Catalog::products"
        ]))
    );
    assert_eq!(
        plan.roles[1].scope,
        MagentoScope::Limited {
            websites: strings(&["b2b"]),
            store_groups: [StoreGroupScope {
                website: "base".into(),
                group: "outlet_store".into()
            }]
            .into_iter()
            .collect(),
            store_views: strings(&["b2b_en", "outlet_en"]),
        }
    );
    // A denied Magento_Backend::all does not grant everything.
    assert_eq!(
        plan.roles[2].resources,
        ResourceGrant::Resources(strings(&[
            "Magento_Backend::dashboard",
            "Magento_Sales::sales",
            "Magento_Sales::sales_operation"
        ]))
    );
}

#[test]
fn users_keep_status_lock_locale_and_hash_verbatim() {
    let plan = full();
    let ids: Vec<_> = plan.users.iter().map(|u| (u.user_id, u.role_id)).collect();
    assert_eq!(ids, [(1, 1), (2, 3), (3, 5), (8, 5)]);
    let ada = &plan.users[0];
    assert_eq!(
        (
            ada.username.as_str(),
            ada.email.as_str(),
            ada.role_name.as_str()
        ),
        ("ada", "ada@shop.example", "Administrators")
    );
    assert_eq!(
        ada.password_hash,
        "13601bda4ea78e55a07b98866d2be6be0744e3866f13c00c811cab608a28f322:salt:1"
    );
    assert!(ada.active && ada.lock_expires.is_none());
    let ina = &plan.users[1];
    assert!(!ina.active, "is_active = 0");
    assert_eq!(ina.lock_expires, None, "\\N is NULL");
    let lok = &plan.users[2];
    assert_eq!(lok.lock_expires.as_deref(), Some("2031-05-04 12:30:00"));
    assert_eq!(lok.interface_locale.as_deref(), Some("de_DE"));
    assert_eq!(
        lok.password_hash,
        "c6aad9e058f6c4b06187c06d2b69bf506a786af030f81fb6d83778422a68205e:salt:1:2"
    );
    let eve = &plan.users[3];
    assert_eq!(
        (eve.first_name.clone(), eve.last_name.clone()),
        (None, None),
        "empty and \\N are NULL"
    );
    assert_eq!(plan.second_factor, SecondFactor::EnrolAgain);
    assert!(plan.notices.iter().any(|n| n.contains("enrol again")));
    assert!(plan.notices.iter().any(|n| n.contains("custom_ext_column")));
}

#[test]
fn every_unmapped_row_is_reported_with_table_line_and_reason() {
    let plan = full();
    let roles = problems_of(&plan, MagentoTable::AuthorizationRole);
    let lines: Vec<u64> = roles.iter().map(|(l, _)| *l).collect();
    assert_eq!(lines, [8, 9, 10], "{roles:?}");
    assert!(roles[0].1.contains("parent role 99 does not exist"));
    assert!(roles[1].1.contains("integration"));
    assert!(roles[2].1.contains("website 7"));

    let rules = problems_of(&plan, MagentoTable::AuthorizationRule);
    assert_eq!(rules.len(), 3, "{rules:?}");
    assert!(
        rules[0]
            .1
            .starts_with("2 rules not migrated (lines 11, 12)")
            && rules[0].1.contains("integration")
    );
    assert!(rules[1].0 == 13 && rules[1].1.contains("role 42 does not exist"));
    assert!(rules[2].0 == 14 && rules[2].1.contains("not migrated"));

    let users = problems_of(&plan, MagentoTable::AdminUser);
    let by_line: Vec<(u64, &str)> = users.iter().map(|(l, r)| (*l, r.as_str())).collect();
    assert_eq!(by_line.len(), 4, "{by_line:?}");
    assert!(by_line[0].0 == 5 && by_line[0].1.contains("role 99, which is missing"));
    assert!(by_line[1].0 == 6 && by_line[1].1.contains("role 9"));
    assert!(by_line[2].0 == 7 && by_line[2].1.contains("has no role"));
    assert!(by_line[3].0 == 8 && by_line[3].1.contains("64 lowercase hex"));
}

#[test]
fn a_scoped_role_needs_the_store_tables() {
    let plan = export(&[
        (MagentoTable::AuthorizationRole, "authorization_role.csv"),
        (MagentoTable::AuthorizationRule, "authorization_rule.csv"),
        (MagentoTable::AdminUser, "admin_user.csv"),
    ])
    .plan();
    assert!(plan.roles.iter().all(|r| r.role_id != 3));
    assert!(plan
        .problems
        .iter()
        .any(|p| p.line == 4 && p.reason.contains("store_website table was not given")));
}

#[test]
fn open_source_roles_without_scope_columns_apply_everywhere() {
    let roles = "role_id,parent_id,tree_level,sort_order,role_type,user_id,user_type,role_name\n1,0,1,1,G,0,2,Administrators\n2,1,2,0,U,1,2,Ada\n";
    let rules =
        "rule_id,role_id,resource_id,privileges,permission\n1,1,Magento_Backend::all,\\N,allow\n";
    let users = "user_id,firstname,lastname,email,username,password,is_active\n1,Ada,A,ada@shop.example,ada,67a1e09bb1f83f5007dc119c14d663aa:salt:0,1\n";
    let mut ex = MagentoExport::new();
    ex.read(MagentoTable::AuthorizationRole, roles.as_bytes())
        .unwrap();
    ex.read(MagentoTable::AuthorizationRule, rules.as_bytes())
        .unwrap();
    ex.read(MagentoTable::AdminUser, users.as_bytes()).unwrap();
    let plan = ex.plan();
    assert!(plan.problems.is_empty(), "{:?}", plan.problems);
    assert_eq!(plan.roles[0].scope, MagentoScope::All);
    assert_eq!(plan.users.len(), 1);
    assert_eq!(ex.digests.len(), 3);
}

#[test]
fn bad_rows_and_bad_files_are_reported_not_patched() {
    let mut ex = MagentoExport::new();
    let users = "user_id,email,username,password,is_active\nx,a@shop.example,a,h:s:1,1\n2,b@shop.example,b,h:s:1,yes\n";
    ex.read(MagentoTable::AdminUser, users.as_bytes()).unwrap();
    let lines: Vec<_> = ex.problems.iter().map(|p| (p.table, p.line)).collect();
    assert_eq!(
        lines,
        [(MagentoTable::AdminUser, 2), (MagentoTable::AdminUser, 3)]
    );
    assert!(ex.admin_users.is_empty());
    let e = ex
        .read(
            MagentoTable::AdminUser,
            &b"user_id,email\n1,a@shop.example\n"[..],
        )
        .unwrap_err();
    assert!(matches!(e, FileError::Columns { .. }), "{e}");
}
