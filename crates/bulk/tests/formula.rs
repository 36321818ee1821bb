//! The spreadsheet formula guard through both templates: what the writers put in the file
//! (no cell a spreadsheet would run as a formula), and that the readers give back exactly the
//! values written, so export → import → export stays byte-identical.

// Test helpers panic on purpose: a file that does not read back is a failed test.
#![allow(clippy::unwrap_used)]

use rolecall_bulk::formula::{escape, unescape};
use rolecall_bulk::{
    write_console, write_plain, AdminRightRef, AdminRole, ConsoleReader, ConsoleRow, IdentityType,
    LineEnding, Operation, PlainReader, PlainRow, ProfileRef, RoleRef, Status, WriteOptions,
};
use std::collections::BTreeSet;

const HYPERLINK: &str = r#"=HYPERLINK("http://x","y")"#;

fn names(items: &[&str]) -> BTreeSet<String> {
    items.iter().map(|s| s.to_string()).collect()
}

fn lf() -> WriteOptions {
    WriteOptions {
        line_ending: LineEnding::Lf,
        bom: false,
    }
}

fn plain_rows() -> Vec<PlainRow> {
    vec![
        PlainRow {
            operation: Operation::Upsert,
            username: "-ann".into(),
            email: "ann@example.com".into(),
            first_name: HYPERLINK.into(),
            last_name: "'t Hooft".into(),
            status: Some(Status::Active),
            groups: names(&["+evil", "Marketing"]),
            roles: [RoleRef {
                application: "commerce-admin".into(),
                role: "@Sales".into(),
            }]
            .into_iter()
            .collect(),
            profiles: [ProfileRef {
                product: None,
                profile: "=Default".into(),
            }]
            .into_iter()
            .collect(),
            admin_rights: [AdminRightRef::UserGroup {
                group: "+evil".into(),
            }]
            .into_iter()
            .collect(),
        },
        PlainRow {
            operation: Operation::Upsert,
            username: String::new(),
            email: "-bob@example.com".into(),
            first_name: "'=x".into(),
            last_name: "@home".into(),
            status: None,
            // Sorted, "'b" comes first: only the start of the whole cell matters.
            groups: names(&["=a", "'b"]),
            roles: BTreeSet::new(),
            profiles: BTreeSet::new(),
            admin_rights: BTreeSet::new(),
        },
    ]
}

fn read_plain(bytes: &[u8]) -> Vec<PlainRow> {
    PlainReader::open(bytes)
        .unwrap()
        .map(|r| {
            r.unwrap_or_else(|e| panic!("{e}\n{}", String::from_utf8_lossy(bytes)))
                .row
        })
        .collect()
}

fn read_console(bytes: &[u8]) -> Vec<ConsoleRow> {
    ConsoleReader::open(bytes)
        .unwrap()
        .map(|r| {
            r.unwrap_or_else(|e| panic!("{e}\n{}", String::from_utf8_lossy(bytes)))
                .row
        })
        .collect()
}

#[test]
fn plain_export_guards_formulas_and_reads_back_the_values() {
    let rows = plain_rows();
    let mut out = Vec::new();
    write_plain(&rows, &mut out, lf()).unwrap();
    let text = String::from_utf8(out.clone()).unwrap();
    assert_eq!(
        text,
        "operation,username,email,first_name,last_name,status,groups,roles,profiles,admin_rights\n\
         upsert,,'-bob@example.com,''=x,'@home,,'b; =a,,,\n\
         upsert,'-ann,ann@example.com,\"'=HYPERLINK(\"\"http://x\"\",\"\"y\"\")\",'t Hooft,active,'+evil; Marketing,commerce-admin:@Sales,'=Default,user_group:+evil\n"
    );
    let mut want = rows;
    want.sort_by_key(|r| r.key());
    let back = read_plain(&out);
    assert_eq!(back, want);
    assert_eq!(back[1].first_name, HYPERLINK);
    let mut again = Vec::new();
    write_plain(&back, &mut again, lf()).unwrap();
    assert_eq!(again, out, "export → import → export is byte-identical");
}

#[test]
fn console_export_guards_formulas_and_reads_back_the_values() {
    let row = ConsoleRow {
        identity_type: IdentityType::EnterpriseId,
        username: "ann@example.com".into(),
        domain: "example.com".into(),
        email: "ann@example.com".into(),
        first_name: HYPERLINK.into(),
        last_name: "'t Hooft".into(),
        country_code: None,
        product_configurations: [ProfileRef {
            product: Some("=Shop".into()),
            profile: "Default".into(),
        }]
        .into_iter()
        .collect(),
        admin_roles: [AdminRole::UserGroup].into_iter().collect(),
        profiles_administered: BTreeSet::new(),
        user_groups: names(&["+evil", "Marketing"]),
        user_groups_administered: names(&["+evil"]),
        products_administered: BTreeSet::new(),
        developer_access: BTreeSet::new(),
    };
    let mut out = Vec::new();
    write_console(std::slice::from_ref(&row), &mut out, lf()).unwrap();
    let text = String::from_utf8(out.clone()).unwrap();
    let line = text.lines().nth(1).unwrap();
    assert_eq!(
        line,
        "Enterprise ID,ann@example.com,example.com,ann@example.com,\"'=HYPERLINK(\"\"http://x\"\",\"\"y\"\")\",'t Hooft,,'=Shop: Default,User Group Admin,,\"'+evil, Marketing\",'+evil,,"
    );
    let back = read_console(&out);
    assert_eq!(back, [row]);
    let mut again = Vec::new();
    write_console(&back, &mut again, lf()).unwrap();
    assert_eq!(again, out, "export → import → export is byte-identical");
}

/// A file written by hand (or saved by a spreadsheet, which drops the guard it showed as
/// text) reads as it always did; a hand-written guard is taken off like the writer's.
#[test]
fn hand_written_files_read_as_before() {
    let file = "email,first_name,last_name,groups\n\
                a@example.com,=x,'t Hooft,\"+g, h\"\n\
                b@example.com,'=x,''=y,'+g; h\n";
    let rows = read_plain(file.as_bytes());
    assert_eq!(
        (rows[0].first_name.as_str(), rows[0].last_name.as_str()),
        ("=x", "'t Hooft")
    );
    assert_eq!(rows[0].groups, names(&["+g, h"]));
    assert_eq!(
        (rows[1].first_name.as_str(), rows[1].last_name.as_str()),
        ("=x", "'=y")
    );
    assert_eq!(rows[1].groups, names(&["+g", "h"]));
}

#[test]
fn the_shared_functions_match_the_examples() {
    assert_eq!(escape("=x"), "'=x");
    assert_eq!(escape("'=x"), "''=x");
    assert_eq!(escape("'t Hooft"), "'t Hooft");
    assert_eq!(unescape("'=x"), "=x");
    assert_eq!(unescape("''=x"), "'=x");
    assert_eq!(unescape("'t Hooft"), "'t Hooft");
}
