//! File-level behaviour of the shared reader, through the public templates: what is refused
//! before any row (empty, binary, JSON, wrong columns), per-row CSV errors, the digest, and
//! flat memory on a 100,000-row file.

// Test helpers panic on purpose: a fixture that does not open is a failed test.
#![allow(clippy::unwrap_used)]

use rolecall_bulk::{
    ConsoleReader, FileDigest, FileError, PlainReader, PlanReader, Rule, Template,
};
use sha2::{Digest, Sha256};
use std::cell::Cell;
use std::io::Read;
use std::rc::Rc;

fn fixture(name: &str) -> Vec<u8> {
    let path = format!("{}/tests/fixtures/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn open_err(bytes: &[u8]) -> FileError {
    match ConsoleReader::open(bytes) {
        Ok(_) => panic!("expected a file error"),
        Err(e) => e,
    }
}

#[test]
fn empty_file_is_refused_as_empty() {
    assert_eq!(open_err(&fixture("empty.csv")), FileError::Empty);
    // A BOM and blank lines are still empty.
    assert_eq!(open_err(b"\xEF\xBB\xBF\r\n\r\n"), FileError::Empty);
}

#[test]
fn binary_file_is_refused_as_not_csv() {
    let e = open_err(&fixture("binary.png"));
    assert!(
        matches!(&e, FileError::NotCsv { reason } if reason.contains("binary")),
        "{e}"
    );
}

#[test]
fn json_file_is_refused_and_named() {
    let e = open_err(&fixture("users.json"));
    assert!(
        matches!(&e, FileError::NotCsv { reason } if reason.contains("JSON")),
        "{e}"
    );
}

#[test]
fn workbooks_and_utf16_are_named() {
    let e = open_err(b"PK\x03\x04\x14\x00\x06\x00");
    assert!(e.to_string().contains(".xlsx"), "{e}");
    let e = open_err(b"\xFF\xFEI\x00d\x00");
    assert!(matches!(e, FileError::NotUtf8 { line: 1, .. }), "{e}");
}

#[test]
fn unknown_and_missing_columns_are_named_together() {
    let e = open_err(&fixture("console_bad_columns.csv"));
    assert_eq!(
        e,
        FileError::Columns {
            template: "Admin Console".into(),
            unknown: vec!["E-mail".into(), "Phone".into()],
            missing: vec!["Email".into()],
            repeated: vec![],
        }
    );
    assert!(e.to_string().contains("unknown columns: E-mail, Phone"));
    assert!(e.to_string().contains("missing required columns: Email"));
}

#[test]
fn a_header_of_another_format_is_not_the_template() {
    let e = open_err(b"name,price\nshoe,10\n");
    assert!(matches!(e, FileError::NotTemplate { .. }), "{e}");
}

#[test]
fn unbalanced_quote_stops_reading_names_its_line_and_still_hashes_the_file() {
    let bytes = fixture("console_unbalanced_quote.csv");
    let mut r = ConsoleReader::open(&bytes[..]).unwrap();
    let first = r.next().unwrap().unwrap();
    assert_eq!(first.line, 2);
    let err = r.next().unwrap().unwrap_err();
    assert_eq!((err.line(), err.0[0].rule), (3, Rule::UnbalancedQuote));
    assert!(
        r.next().is_none(),
        "nothing after an unclosed quote can be trusted"
    );
    assert_eq!(r.digest(), Some(FileDigest::of(&bytes)));
}

#[test]
fn invalid_utf8_on_line_3_names_line_column_and_the_fix() {
    let bytes = fixture("console_invalid_utf8_line3.csv");
    let rows: Vec<_> = ConsoleReader::open(&bytes[..]).unwrap().collect();
    assert_eq!(rows.len(), 3);
    assert!(rows[0].is_ok() && rows[2].is_ok());
    let errs = rows[1].as_ref().unwrap_err();
    let cols: Vec<_> = errs
        .0
        .iter()
        .map(|e| e.column.as_deref().unwrap())
        .collect();
    assert_eq!(cols, ["First Name", "Last Name"]);
    for e in &errs.0 {
        assert_eq!((e.line, e.rule), (3, Rule::Utf8));
        assert!(
            e.message.contains("the file must be UTF-8"),
            "{}",
            e.message
        );
    }
}

#[test]
fn stray_quote_and_wrong_cell_count_are_row_errors_and_reading_goes_on() {
    let h = "operation,email,groups\n";
    let body = "add,a@shop.example,Sa\"les\nadd,b@shop.example\nadd,c@shop.example,x\n";
    let rows: Vec<_> = PlainReader::open(format!("{h}{body}").as_bytes())
        .unwrap()
        .collect();
    let e0 = rows[0].as_ref().unwrap_err();
    assert_eq!((e0.line(), e0.0[0].rule), (2, Rule::StrayQuote));
    assert_eq!(e0.0[0].column.as_deref(), Some("groups"));
    let e1 = rows[1].as_ref().unwrap_err();
    assert_eq!((e1.line(), e1.0[0].rule), (3, Rule::FieldCount));
    assert_eq!(rows[2].as_ref().unwrap().line, 4);
}

#[test]
fn plan_reader_picks_the_template_from_the_header() {
    let c = PlanReader::open(std::io::Cursor::new(fixture("console_canonical.csv"))).unwrap();
    assert_eq!(c.template(), Template::Console);
    let p = PlanReader::open(std::io::Cursor::new(fixture("plain_canonical.csv"))).unwrap();
    assert_eq!(p.template(), Template::Plain);
    let s = PlanReader::open(std::io::Cursor::new(fixture(
        "console_bom_crlf_semicolon.csv",
    )))
    .unwrap();
    assert_eq!((s.template(), s.separator()), (Template::Console, ';'));
}

/// A generated plain-template file of `rows` rows that is never in memory as a whole, and
/// counts the bytes the reader has pulled.
struct Generated {
    next_row: usize,
    rows: usize,
    pending: Vec<u8>,
    pos: usize,
    pulled: Rc<Cell<u64>>,
}

fn generated_row(i: usize) -> String {
    if i == 0 {
        return "operation,username,email,first_name,last_name,status,groups,roles,profiles,admin_rights\r\n".into();
    }
    format!(
        "add,user{i},user{i}@shop.example,First {i},Last,active,\"Sales; Team {}\",magento:Role {},Commerce Backend:Default,\r\n",
        i % 13,
        i % 7
    )
}

impl Read for Generated {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        if self.pos == self.pending.len() {
            if self.next_row > self.rows {
                return Ok(0);
            }
            self.pending = generated_row(self.next_row).into_bytes();
            self.pos = 0;
            self.next_row += 1;
        }
        let n = buf.len().min(self.pending.len() - self.pos);
        buf[..n].copy_from_slice(&self.pending[self.pos..self.pos + n]);
        self.pos += n;
        self.pulled.set(self.pulled.get() + n as u64);
        Ok(n)
    }
}

#[test]
fn a_100k_row_file_streams_with_the_reader_never_more_than_one_buffer_ahead() {
    const ROWS: usize = 100_000;
    let pulled = Rc::new(Cell::new(0));
    let input = Generated {
        next_row: 0,
        rows: ROWS,
        pending: Vec::new(),
        pos: 0,
        pulled: Rc::clone(&pulled),
    };
    let mut reader = PlanReader::open(input).unwrap();
    let mut consumed = generated_row(0).len() as u64;
    let mut hasher = Sha256::new();
    hasher.update(generated_row(0).as_bytes());
    let mut max_ahead = 0;
    let mut count = 0;
    for (i, plan) in reader.by_ref().enumerate() {
        let plan = plan.unwrap();
        let row = generated_row(i + 1);
        consumed += row.len() as u64;
        hasher.update(row.as_bytes());
        assert_eq!(plan.line, i as u64 + 2);
        // Bytes pulled from the source but not yet returned as rows: the one read buffer.
        max_ahead = max_ahead.max(pulled.get().saturating_sub(consumed));
        count += 1;
    }
    assert_eq!(count, ROWS);
    assert!(
        max_ahead <= 64 * 1024,
        "the reader ran {max_ahead} bytes ahead of the rows it returned"
    );
    let digest = reader.digest().expect("digest at end of file");
    assert_eq!(digest.bytes, consumed);
    assert_eq!(digest.sha256, hex::encode(hasher.finalize()));
}
