//! Property tests: the strict reader splits exactly what the `csv` crate writes, and for both
//! templates arbitrary valid rows survive write → read unchanged, and write(read(write(x)))
//! is byte-identical to write(x).

#![allow(clippy::unwrap_used)]

use proptest::collection::{btree_set, vec};
use proptest::prelude::*;
use rolecall_bulk::{
    write_console, write_plain, AdminRightRef, AdminRole, Column, ConsoleReader, ConsoleRow,
    CsvReader, ExtraColumns, IdentityType, LineEnding, Operation, PlainReader, PlainRow,
    ProfileRef, RoleRef, Schema, Status, WriteOptions,
};
use std::collections::BTreeSet;

/// A name: no surrounding spaces, no control characters; `extra` adds characters the
/// template must quote or escape. `=`, `+`, `-`, `@` and `'` are always in: a name starting
/// with them gets the formula guard, which the reader must take off again.
fn name(extra: &'static str) -> impl Strategy<Value = String> {
    let solid = format!("[A-Za-z0-9À-ÿ'&./=+@\\-{extra}]");
    proptest::string::string_regex(&format!(
        "{solid}([ {}]{{0,10}}{solid})?",
        &solid[1..solid.len() - 1]
    ))
    .unwrap()
}

fn optional_text(extra: &'static str) -> impl Strategy<Value = String> {
    prop_oneof![Just(String::new()), name(extra)]
}

fn options() -> impl Strategy<Value = WriteOptions> {
    (any::<bool>(), any::<bool>()).prop_map(|(crlf, bom)| WriteOptions {
        line_ending: if crlf {
            LineEnding::Crlf
        } else {
            LineEnding::Lf
        },
        bom,
    })
}

fn email_parts() -> impl Strategy<Value = (String, String)> {
    (
        "[A-Za-z][A-Za-z0-9._+-]{0,6}",
        "[a-z][a-z0-9-]{0,6}\\.(example|test|org)",
    )
        .prop_map(|(l, d)| (l, d))
}

// ---- Admin Console ----

/// Console names cannot contain ',' (the list separator) or ':' (product separator).
fn console_name() -> impl Strategy<Value = String> {
    name("\";")
}

fn console_profile() -> impl Strategy<Value = ProfileRef> {
    (proptest::option::of(console_name()), console_name())
        .prop_map(|(product, profile)| ProfileRef { product, profile })
}

prop_compose! {
    fn console_row()(
        identity in prop_oneof![Just(IdentityType::AdobeId), Just(IdentityType::EnterpriseId), Just(IdentityType::FederatedId)],
        (local, domain) in email_parts(),
        plain_username in proptest::option::of("[a-z][a-z0-9._-]{0,8}"),
        login_domain in "[a-z]{1,8}\\.test",
        first_name in optional_text(",:\";"),
        last_name in optional_text(",:\";"),
        country in proptest::option::of("[A-Z]{2}"),
        product_configurations in btree_set(console_profile(), 0..4),
        base_roles in btree_set(prop_oneof![Just(AdminRole::System), Just(AdminRole::Deployment), Just(AdminRole::Support), Just(AdminRole::Storage)], 0..3),
        profiles_administered in btree_set(console_profile(), 0..3),
        user_groups in btree_set(console_name(), 0..4),
        user_groups_administered in btree_set(console_name(), 0..3),
        products_administered in btree_set(console_name(), 0..3),
        developer_access in btree_set(console_profile(), 0..3),
    ) -> ConsoleRow {
        let email = format!("{local}@{domain}");
        let (username, domain) = match plain_username {
            Some(u) => (u, login_domain),
            None => (email.clone(), domain),
        };
        let mut admin_roles = base_roles;
        for (role, targets) in [
            (AdminRole::Product, products_administered.len()),
            (AdminRole::ProductProfile, profiles_administered.len()),
            (AdminRole::UserGroup, user_groups_administered.len()),
        ] {
            if targets > 0 {
                admin_roles.insert(role);
            }
        }
        ConsoleRow {
            identity_type: identity, username, domain, email, first_name, last_name,
            country_code: country, product_configurations, admin_roles, profiles_administered,
            user_groups, user_groups_administered, products_administered, developer_access,
        }
    }
}

/// Rows with distinct e-mails (a number is added to each local part).
fn console_rows() -> impl Strategy<Value = Vec<ConsoleRow>> {
    vec(console_row(), 0..10).prop_map(|rows| {
        rows.into_iter()
            .enumerate()
            .map(|(i, mut r)| {
                let same = r.username == r.email;
                r.email = r.email.replacen('@', &format!(".{i}@"), 1);
                if same {
                    r.username = r.email.clone();
                }
                r
            })
            .collect()
    })
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

// ---- plain ----

/// Plain names may hold every separator: they are escaped or quoted.
fn plain_name() -> impl Strategy<Value = String> {
    name(",:;\\\\\"")
}

fn plain_profile() -> impl Strategy<Value = ProfileRef> {
    (proptest::option::of(plain_name()), plain_name())
        .prop_map(|(product, profile)| ProfileRef { product, profile })
}

fn admin_right() -> impl Strategy<Value = AdminRightRef> {
    prop_oneof![
        Just(AdminRightRef::System),
        Just(AdminRightRef::Deployment),
        Just(AdminRightRef::Support),
        Just(AdminRightRef::Storage),
        plain_name().prop_map(|product| AdminRightRef::Product { product }),
        plain_profile().prop_map(|profile| AdminRightRef::ProductProfile { profile }),
        plain_name().prop_map(|group| AdminRightRef::UserGroup { group }),
    ]
}

prop_compose! {
    fn plain_row()(
        op in prop_oneof![Just(Operation::Upsert), Just(Operation::Deactivate), Just(Operation::Remove)],
        (local, domain) in email_parts(),
        username in optional_text(",:;\""),
        first_name in optional_text(",:;\""),
        last_name in optional_text(",:;\""),
        status in proptest::option::of(prop_oneof![Just(Status::Invited), Just(Status::Active), Just(Status::Inactive)]),
        groups in btree_set(plain_name(), 0..4),
        roles in btree_set((plain_name(), plain_name()).prop_map(|(application, role)| RoleRef { application, role }), 0..4),
        profiles in btree_set(plain_profile(), 0..4),
        admin_rights in btree_set(admin_right(), 0..4),
    ) -> PlainRow {
        let email = format!("{local}@{domain}");
        match op {
            Operation::Remove => PlainRow {
                operation: op, username: String::new(), email, first_name: String::new(),
                last_name: String::new(), status: None, groups: BTreeSet::new(),
                roles: BTreeSet::new(), profiles: BTreeSet::new(), admin_rights: BTreeSet::new(),
            },
            _ => PlainRow {
                operation: op,
                username,
                email,
                first_name,
                last_name,
                status: if op == Operation::Deactivate { status.filter(|s| *s == Status::Inactive) } else { status },
                groups, roles, profiles, admin_rights,
            },
        }
    }
}

fn plain_rows() -> impl Strategy<Value = Vec<PlainRow>> {
    vec(plain_row(), 0..10).prop_map(|rows| {
        rows.into_iter()
            .enumerate()
            .map(|(i, mut r)| {
                r.email = r.email.replacen('@', &format!(".{i}@"), 1);
                r
            })
            .collect()
    })
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

// ---- raw CSV ----

static ABC: Schema = Schema {
    name: "abc",
    columns: &[
        Column::required("a"),
        Column::optional("b"),
        Column::optional("c"),
    ],
    extra: ExtraColumns::Reject,
    // Raw cells: this schema checks the splitter alone.
    formula_guard: false,
};

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    #[test]
    fn reader_splits_exactly_what_the_csv_crate_writes(
        rows in vec(("[^\\x00]{0,8}", "[^\\x00]{0,12}", "[^\\x00]{0,12}"), 0..20),
        semicolon in any::<bool>(),
        crlf in any::<bool>(),
    ) {
        let sep = if semicolon { b';' } else { b',' };
        let mut w = csv::WriterBuilder::new()
            .delimiter(sep)
            .terminator(if crlf { csv::Terminator::CRLF } else { csv::Terminator::Any(b'\n') })
            .from_writer(Vec::new());
        w.write_record(["a", "b", "c"]).unwrap();
        // The first cell starts with 'k' so no row is blank (blank rows are skipped).
        let rows: Vec<[String; 3]> = rows.into_iter().map(|(a, b, c)| [format!("k{a}"), b, c]).collect();
        for r in &rows {
            w.write_record(r).unwrap();
        }
        let bytes = w.into_inner().unwrap();
        let got: Vec<[String; 3]> = CsvReader::open(&bytes[..], &ABC)
            .unwrap()
            .map(|r| {
                let r = r.unwrap();
                [r.text(0).to_string(), r.text(1).to_string(), r.text(2).to_string()]
            })
            .collect();
        prop_assert_eq!(got, rows);
    }

    #[test]
    fn console_rows_survive_write_then_read(rows in console_rows(), opts in options()) {
        let mut out = Vec::new();
        write_console(&rows, &mut out, opts).unwrap();
        let mut want = rows.clone();
        want.sort_by_key(|r| r.key());
        prop_assert_eq!(read_console(&out), want);
    }

    #[test]
    fn console_export_import_export_is_byte_identical(rows in console_rows(), opts in options()) {
        let mut first = Vec::new();
        write_console(&rows, &mut first, opts).unwrap();
        let mut second = Vec::new();
        write_console(&read_console(&first), &mut second, opts).unwrap();
        prop_assert_eq!(first, second);
    }

    #[test]
    fn plain_rows_survive_write_then_read(rows in plain_rows(), opts in options()) {
        let mut out = Vec::new();
        write_plain(&rows, &mut out, opts).unwrap();
        let mut want = rows.clone();
        want.sort_by_key(|r| r.key());
        prop_assert_eq!(read_plain(&out), want);
    }

    #[test]
    fn plain_export_import_export_is_byte_identical(rows in plain_rows(), opts in options()) {
        let mut first = Vec::new();
        write_plain(&rows, &mut first, opts).unwrap();
        let mut second = Vec::new();
        write_plain(&read_plain(&first), &mut second, opts).unwrap();
        prop_assert_eq!(first, second);
    }
}
