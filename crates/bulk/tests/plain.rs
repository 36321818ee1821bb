//! rolecall's plain template: list syntax and escapes, operations, what an absent column
//! means in the plan, every row rule, duplicates and the byte-identical round trip.

// Test helpers panic on purpose: a fixture that does not open is a failed test.
#![allow(clippy::unwrap_used)]

use rolecall_bulk::{
    write_plain, AdminRightRef, LineEnding, ListChange, Operation, PlainReader, PlainRow,
    PlanReader, ProfileRef, RoleRef, RowErrors, RowPlan, Rule, Status, WriteOptions,
};
use std::collections::BTreeSet;

fn fixture(name: &str) -> Vec<u8> {
    let path = format!("{}/tests/fixtures/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn rows(bytes: &[u8]) -> Vec<PlainRow> {
    PlainReader::open(bytes)
        .unwrap()
        .map(|r| r.unwrap_or_else(|e| panic!("{e}")).row)
        .collect()
}

fn plans(text: &str) -> Vec<Result<RowPlan, RowErrors>> {
    PlanReader::open(text.as_bytes()).unwrap().collect()
}

fn set<T: Ord + Clone>(items: &[T]) -> BTreeSet<T> {
    items.iter().cloned().collect()
}

#[test]
fn lists_escapes_and_rights_parse_as_documented() {
    let got = rows(&fixture("plain_canonical.csv"));
    let ann = &got[0];
    assert_eq!(ann.status, Some(Status::Active));
    assert_eq!(
        ann.groups,
        set(&["Night Shift".to_string(), "Sales; Returns".to_string()])
    );
    assert_eq!(
        ann.roles,
        set(&[
            RoleRef {
                application: "magento".into(),
                role: "Administrators".into()
            },
            RoleRef {
                application: "magento".into(),
                role: "Catalog: Editors".into()
            },
        ])
    );
    let backend_default = ProfileRef {
        product: Some("Commerce Backend".into()),
        profile: "Default".into(),
    };
    assert_eq!(
        ann.profiles,
        set(&[
            ProfileRef {
                product: None,
                profile: "Solo".into()
            },
            backend_default.clone()
        ])
    );
    assert_eq!(
        ann.admin_rights,
        set(&[
            AdminRightRef::System,
            AdminRightRef::Product {
                product: "Commerce Backend".into()
            },
            AdminRightRef::ProductProfile {
                profile: backend_default
            },
            AdminRightRef::UserGroup {
                group: "Sales; Returns".into()
            },
        ])
    );
    assert_eq!(got[3].admin_rights.len(), 1);
}

#[test]
fn canonical_file_round_trips_byte_identical() {
    let bytes = fixture("plain_canonical.csv");
    let got = rows(&bytes);
    let mut out = Vec::new();
    let opts = WriteOptions {
        line_ending: LineEnding::Lf,
        bom: false,
    };
    write_plain(&got, &mut out, opts).unwrap();
    assert_eq!(
        String::from_utf8_lossy(&out),
        String::from_utf8_lossy(&bytes)
    );
}

#[test]
fn the_plan_replaces_present_lists_and_leaves_absent_columns_alone() {
    let p = plans("email,groups,first_name\nA@Shop.example,,Ann\n");
    let p = p[0].as_ref().unwrap();
    assert_eq!(
        (p.key.as_str(), p.operation),
        ("a@shop.example", Operation::Upsert)
    );
    assert_eq!(
        p.groups,
        ListChange::Replace(BTreeSet::new()),
        "present and empty: remove all"
    );
    assert_eq!(p.roles, ListChange::Unchanged, "absent column");
    assert_eq!(p.profiles, ListChange::Unchanged);
    assert_eq!(p.user.first_name.as_deref(), Some("Ann"));
    assert_eq!(p.user.last_name, None);
    assert_eq!(p.user.status, None);
}

#[test]
fn deactivate_sets_inactive_and_remove_ignores_the_rest() {
    let text = "operation,email,status,groups\nDeactivate,a@shop.example,,G\nremove,b@shop.example,bogus,\"x\\q\"\n";
    let got = plans(text);
    let a = got[0].as_ref().unwrap();
    assert_eq!(
        (a.operation, a.user.status),
        (Operation::Deactivate, Some(Status::Inactive))
    );
    assert_eq!(a.groups, ListChange::Replace(set(&["G".to_string()])));
    let b = got[1].as_ref().unwrap();
    assert_eq!(b.operation, Operation::Remove);
    assert_eq!(
        (b.groups.clone(), b.user.status),
        (ListChange::Unchanged, None)
    );
}

#[test]
fn each_row_rule_names_line_column_and_rule() {
    let header = "operation,email,status,groups,roles,profiles,admin_rights";
    let cases: &[(&str, &str, Rule)] = &[
        ("drop,a@shop.example,,,,,", "operation", Rule::Operation),
        ("add,,,,,,", "email", Rule::Required),
        ("add,a@,,,,,", "email", Rule::Email),
        ("add,a@shop.example,enabled,,,,", "status", Rule::Status),
        (
            "deactivate,a@shop.example,active,,,,",
            "status",
            Rule::Status,
        ),
        ("add,a@shop.example,,a\\b,,,", "groups", Rule::Escape),
        ("add,a@shop.example,,,Administrators,,", "roles", Rule::Role),
        ("add,a@shop.example,,,:Admin,,", "roles", Rule::Role),
        ("add,a@shop.example,,,,app:,", "profiles", Rule::Profile),
        (
            "add,a@shop.example,,,,,owner",
            "admin_rights",
            Rule::AdminRight,
        ),
        (
            "add,a@shop.example,,,,,product:",
            "admin_rights",
            Rule::AdminRight,
        ),
        (
            "add,a@shop.example,,,,,product_profile:app:",
            "admin_rights",
            Rule::AdminRight,
        ),
    ];
    for (row, column, rule) in cases {
        let text = format!("{header}\n{row}\n");
        let got = plans(&text);
        let e = got[0].as_ref().unwrap_err();
        assert!(
            e.0.iter()
                .any(|x| x.line == 2 && x.column.as_deref() == Some(*column) && x.rule == *rule),
            "{row}: {e}"
        );
    }
}

#[test]
fn duplicate_emails_ignore_case() {
    let got = plans("email\na@shop.example\nb@shop.example\nA@SHOP.example\n");
    let e = got[2].as_ref().unwrap_err();
    assert_eq!((e.line(), e.0[0].rule), (4, Rule::Duplicate));
    assert!(e.0[0].message.contains("line 2"));
}

#[test]
fn writer_refuses_a_remove_row_carrying_values() {
    let mut row = rows(&fixture("plain_canonical.csv")).remove(2);
    assert_eq!(row.operation, Operation::Remove);
    row.groups.insert("Sales".into());
    assert!(write_plain(&[row], Vec::new(), WriteOptions::default()).is_err());
}

#[test]
fn duplicates_are_found_on_both_sides_of_the_index_moving_to_disk() {
    // Past 131,072 e-mails the duplicate-row index leaves memory for a scratch file
    // (`seen::IN_MEMORY`): a repeat is named with its first line either way.
    const ROWS: usize = 200_000;
    let mut text = String::with_capacity(ROWS * 24);
    text.push_str("email\n");
    for i in 0..ROWS {
        text.push_str(&format!("p{i}@shop.example\n"));
    }
    // Lines: the header is 1, person i is on line i + 2.
    let repeats = [(3usize, 5usize), (150_000, 150_002), (199_999, 200_001)];
    for (person, _) in repeats {
        text.push_str(&format!("P{person}@Shop.example\n"));
    }
    let got: Vec<_> = PlanReader::open(text.as_bytes()).unwrap().collect();
    assert_eq!(got.len(), ROWS + repeats.len());
    assert!(got[..ROWS].iter().all(Result::is_ok), "no false duplicate");
    for ((_, first), result) in repeats.iter().zip(&got[ROWS..]) {
        let e = result.as_ref().unwrap_err();
        assert_eq!(e.0[0].rule, Rule::Duplicate);
        assert!(
            e.0[0].message.contains(&format!("line {first} ")),
            "{}",
            e.0[0].message
        );
    }
}
