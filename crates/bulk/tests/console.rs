//! The Admin Console template: fixtures for separators and encodings, every cell rule,
//! admin-role spellings, bare profile names, duplicates and the byte-identical round trip.

// Test helpers panic on purpose: a fixture that does not open is a failed test.
#![allow(clippy::unwrap_used)]

use rolecall_bulk::{
    write_console, AdminRightRef, AdminRole, ConsoleReader, ConsoleRow, FileDigest, IdentityType,
    LineEnding, ListChange, ProfileRef, RowErrors, Rule, WriteError, WriteOptions,
};
use std::collections::BTreeSet;

const HEADER: &str = "Identity Type,Username,Domain,Email,First Name,Last Name,Country Code,Product Configurations,Admin Roles,Product Configurations Administered,User Groups,User Groups Administered,Products Administered,Developer Access";

fn fixture(name: &str) -> Vec<u8> {
    let path = format!("{}/tests/fixtures/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn read(bytes: &[u8]) -> Vec<Result<(u64, ConsoleRow), RowErrors>> {
    ConsoleReader::open(bytes)
        .unwrap()
        .map(|r| r.map(|rec| (rec.line, rec.row)))
        .collect()
}

fn rows(bytes: &[u8]) -> Vec<ConsoleRow> {
    read(bytes)
        .into_iter()
        .map(|r| r.unwrap_or_else(|e| panic!("{e}")).1)
        .collect()
}

fn profile(product: Option<&str>, profile: &str) -> ProfileRef {
    ProfileRef {
        product: product.map(str::to_string),
        profile: profile.to_string(),
    }
}

fn set<T: Ord + Clone>(items: &[T]) -> BTreeSet<T> {
    items.iter().cloned().collect()
}

fn one_row_errors(row: &str) -> RowErrors {
    let file = format!("{HEADER}\n{row}\n");
    let mut all = read(file.as_bytes());
    assert_eq!(all.len(), 1);
    all.remove(0).unwrap_err()
}

#[test]
fn bom_crlf_and_semicolons() {
    let bytes = fixture("console_bom_crlf_semicolon.csv");
    let mut reader = ConsoleReader::open(&bytes[..]).unwrap();
    assert_eq!(reader.separator(), ';');
    let got: Vec<_> = reader.by_ref().map(|r| r.unwrap()).collect();
    assert_eq!(got.iter().map(|r| r.line).collect::<Vec<_>>(), [2, 3, 4]);
    let jane = &got[0].row;
    assert_eq!(jane.identity_type, IdentityType::FederatedId);
    assert_eq!(jane.country_code.as_deref(), Some("FR"));
    assert_eq!(
        jane.product_configurations,
        set(&[
            profile(Some("Commerce Backend"), "Default"),
            profile(None, "Catalog Editors")
        ])
    );
    // The quoted cell holds the file's separator; the list is still split on commas.
    assert_eq!(
        jane.user_groups,
        set(&["Sales Team".to_string(), "Ops; Night".to_string()])
    );
    let zoe = &got[1].row;
    assert_eq!(
        (zoe.first_name.as_str(), zoe.last_name.as_str()),
        ("Zoë", "Ünal")
    );
    assert_eq!(
        zoe.username, "Zoë.Ünal@shop.example",
        "username defaults to the e-mail"
    );
    assert_eq!(
        zoe.domain, "shop.example",
        "domain is derived from the e-mail"
    );
    assert_eq!(zoe.admin_roles, set(&[AdminRole::System]));
    assert_eq!(got[2].row.identity_type, IdentityType::AdobeId);
    assert_eq!(reader.digest(), Some(FileDigest::of(&bytes)));
}

#[test]
fn duplicate_email_is_refused_on_the_second_row_naming_the_first() {
    let all = read(&fixture("console_duplicates.csv"));
    assert!(all[0].is_ok() && all[1].is_ok());
    let e = all[2].as_ref().unwrap_err();
    assert_eq!(e.0.len(), 1);
    let e = &e.0[0];
    assert_eq!(
        (e.line, e.column.as_deref(), e.rule),
        (4, Some("Email"), Rule::Duplicate)
    );
    assert!(e.message.contains("line 2"), "{}", e.message);
}

#[test]
fn bare_profile_names_are_kept_for_the_server_to_resolve() {
    let row = &rows(&fixture("console_ambiguous_profiles.csv"))[0];
    assert_eq!(
        row.product_configurations,
        set(&[
            profile(None, "Default"),
            profile(Some("Commerce Backend"), "Default"),
            profile(Some("Site Search"), "Default"),
        ])
    );
    assert_eq!(row.developer_access, set(&[profile(None, "Default")]));
    let plan = row.to_plan(2);
    assert!(matches!(&plan.profiles, ListChange::Add(s) if s.contains(&profile(None, "Default"))));
}

#[test]
fn every_admin_role_spelling() {
    let expected = String::from_utf8(fixture("console_admin_roles.expected")).unwrap();
    let got = rows(&fixture("console_admin_roles.csv"));
    let expected: Vec<&str> = expected.lines().collect();
    assert_eq!(got.len(), expected.len());
    for (row, want) in got.iter().zip(expected) {
        let roles: Vec<_> = row.admin_roles.iter().map(|r| format!("{r:?}")).collect();
        assert_eq!(roles, [want], "{}", row.email);
    }
    assert_eq!(AdminRole::parse("Super Admin"), None);
    assert_eq!(AdminRole::parse("admin"), None);
}

#[test]
fn admin_roles_become_admin_rights_with_their_targets() {
    let row = &rows(&fixture("console_canonical.csv"))[1];
    let plan = row.to_plan(3);
    let ListChange::Add(rights) = plan.admin_rights else {
        panic!("rights are added")
    };
    assert_eq!(
        rights,
        set(&[
            AdminRightRef::System,
            AdminRightRef::ProductProfile {
                profile: profile(Some("Commerce Backend"), "Catalog Editors")
            },
            AdminRightRef::UserGroup {
                group: "Sales Team".into()
            },
        ])
    );
    assert_eq!(plan.roles, ListChange::Unchanged);
    assert_eq!(plan.key, "jdoe@shop.example");
}

#[test]
fn each_cell_rule_names_line_column_and_rule() {
    let cases: &[(&str, &str, Rule)] = &[
        (
            "Google ID,,,a@shop.example,,,,,,,,,,",
            "Identity Type",
            Rule::IdentityType,
        ),
        (
            ",,,a@shop.example,,,,,,,,,,",
            "Identity Type",
            Rule::Required,
        ),
        ("Adobe ID,,,not-an-email,,,,,,,,,,", "Email", Rule::Email),
        (
            "Adobe ID,,other.example,a@shop.example,,,,,,,,,,",
            "Domain",
            Rule::Domain,
        ),
        (
            "Adobe ID,,,a@shop.example,,,FRA,,,,,,,",
            "Country Code",
            Rule::CountryCode,
        ),
        (
            "Adobe ID,,,a@shop.example,,,,,Chief Admin,,,,,",
            "Admin Roles",
            Rule::AdminRole,
        ),
        (
            "Adobe ID,,,a@shop.example,,,,,Product Admin,,,,,",
            "Admin Roles",
            Rule::AdminTargets,
        ),
        (
            "Adobe ID,,,a@shop.example,,,,,,,,Sales,,",
            "User Groups Administered",
            Rule::AdminTargets,
        ),
        (
            "Adobe ID,,,a@shop.example,,,,: Default,,,,,,",
            "Product Configurations",
            Rule::Profile,
        ),
        (
            "Adobe ID,,,a@shop.example,\"A\u{0007}\",,,,,,,,,",
            "First Name",
            Rule::ControlCharacter,
        ),
    ];
    for (row, column, rule) in cases {
        let e = one_row_errors(row);
        assert!(
            e.0.iter()
                .any(|x| x.line == 2 && x.column.as_deref() == Some(*column) && x.rule == *rule),
            "{row}: {e}"
        );
    }
}

#[test]
fn all_problems_of_a_row_are_reported_at_once() {
    let e = one_row_errors("Nope,,,bad,,,X1,,Boss,,,,,");
    let rules: BTreeSet<_> = e.0.iter().map(|x| x.rule).collect();
    assert_eq!(
        rules,
        set(&[
            Rule::IdentityType,
            Rule::Email,
            Rule::CountryCode,
            Rule::AdminRole
        ])
    );
}

#[test]
fn canonical_file_round_trips_byte_identical() {
    let bytes = fixture("console_canonical.csv");
    let got = rows(&bytes);
    assert_eq!(got.len(), 3);
    let mut out = Vec::new();
    let digest = write_console(&got, &mut out, WriteOptions::default()).unwrap();
    assert_eq!(
        String::from_utf8_lossy(&out),
        String::from_utf8_lossy(&bytes)
    );
    assert_eq!(digest, FileDigest::of(&bytes));
}

#[test]
fn writer_orders_rows_and_picks_the_line_ending() {
    let mut got = rows(&fixture("console_canonical.csv"));
    got.reverse();
    let mut lf = Vec::new();
    let opts = WriteOptions {
        line_ending: LineEnding::Lf,
        bom: true,
    };
    write_console(&got, &mut lf, opts).unwrap();
    assert!(lf.starts_with(b"\xEF\xBB\xBFIdentity Type,"));
    assert!(!lf.contains(&b'\r'));
    let emails: Vec<_> = rows(&lf).into_iter().map(|r| r.email).collect();
    assert_eq!(
        emails,
        ["ann@shop.example", "jdoe@shop.example", "zed@shop.example"]
    );
}

#[test]
fn writer_refuses_what_would_not_read_back() {
    let mut row = rows(&fixture("console_canonical.csv")).remove(0);
    row.user_groups.insert("Sales, EMEA".into());
    let e = write_console(&[row.clone()], Vec::new(), WriteOptions::default()).unwrap_err();
    assert!(
        matches!(&e, WriteError::Unrepresentable { column, .. } if column == "User Groups"),
        "{e}"
    );
    let e = write_console(&[row.clone(), row], Vec::new(), WriteOptions::default()).unwrap_err();
    assert!(matches!(e, WriteError::Duplicate { .. }), "{e}");
}
