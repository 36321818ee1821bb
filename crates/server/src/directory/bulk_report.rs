//! The per-row results of an import (issue 12: "memory stays flat whatever the file size").
//!
//! Every row of a file gets a result, and the report is the import's answer, so it cannot be
//! dropped; held in memory it would grow by about 100 bytes a row. Instead, once more than
//! [`SPILL`] rows are held, the settled ones are written, one JSON line each, to an unnamed
//! temporary file (`tempfile`: created without a name, readable by this process only, gone
//! when the report is dropped) and read back, in order, when the report is sent.
//!
//! Rows of a batch are reported as the batch settles them, not in file order: they are held
//! until the batch ends and is put in order ([`ReportRows::end_batch`]), and only then may
//! they be written out.

use super::bulk::{ImportSummary, RowReport, RowResult};
use serde::ser::{Error as _, SerializeSeq};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::fs::File;
use std::io::{BufRead, BufReader, BufWriter, Read, Write};
use std::os::unix::fs::FileExt;

/// Rows held in memory before the settled ones go to the spool file: small imports never
/// touch the disk, a large one holds at most this many (plus one batch) at a time.
pub const SPILL: usize = 2048;

/// Every row's result, in file order, partly in a spool file.
#[derive(Debug, Default)]
pub struct ReportRows {
    /// Rows not yet written out, in order except for an open batch's tail.
    held: Vec<RowReport>,
    /// Rows written out, before every held one.
    spool: Option<Spool>,
    /// Where the open batch's rows start in `held`, if one is open.
    batch_from: Option<usize>,
    summary: ImportSummary,
}

/// The rows written out: whole JSON lines, every write flushed before the spill returns, so
/// the file always holds exactly `rows` lines. Readers read at their own offsets.
#[derive(Debug)]
struct Spool {
    file: File,
    rows: u64,
}

impl Spool {
    fn reader(&self) -> BufReader<At<'_>> {
        BufReader::with_capacity(
            64 * 1024,
            At {
                file: &self.file,
                pos: 0,
            },
        )
    }
}

/// Reads a file from its start at an offset of its own (positional reads), so readings never
/// move the offset the spill appends at, nor each other's.
struct At<'a> {
    file: &'a File,
    pos: u64,
}

impl Read for At<'_> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.file.read_at(buf, self.pos)?;
        self.pos += n as u64;
        Ok(n)
    }
}

impl ReportRows {
    /// Adds a row's result (after the rows before it, unless a batch is open).
    pub(super) fn push(&mut self, row: RowReport) -> std::io::Result<()> {
        let s = &mut self.summary;
        s.rows += 1;
        match row.result {
            RowResult::Created => s.created += 1,
            RowResult::Updated => s.updated += 1,
            RowResult::Removed => s.removed += 1,
            RowResult::Unchanged => s.unchanged += 1,
            RowResult::Error => s.errors += 1,
        }
        self.held.push(row);
        if self.batch_from.is_none() {
            self.spill_if_full()?;
        }
        Ok(())
    }

    /// The rows pushed from now on belong to one batch and may come in any order.
    pub(super) fn begin_batch(&mut self) {
        self.batch_from = Some(self.held.len());
    }

    /// The batch's rows are put in file order; from now on they may be written out.
    pub(super) fn end_batch(&mut self) -> std::io::Result<()> {
        if let Some(first) = self.batch_from.take() {
            if let Some(batch) = self.held.get_mut(first..) {
                batch.sort_by_key(|r| r.line);
            }
        }
        self.spill_if_full()
    }

    fn spill_if_full(&mut self) -> std::io::Result<()> {
        if self.held.len() < SPILL {
            return Ok(());
        }
        let spool = match &mut self.spool {
            Some(s) => s,
            None => self.spool.insert(Spool {
                file: tempfile::tempfile()?,
                rows: 0,
            }),
        };
        let mut out = BufWriter::with_capacity(64 * 1024, &spool.file);
        for row in &self.held {
            serde_json::to_writer(&mut out, row)?;
            out.write_all(b"\n")?;
        }
        out.flush()?;
        spool.rows += self.held.len() as u64;
        self.held.clear();
        Ok(())
    }

    /// Counts per result over every row.
    pub fn summary(&self) -> &ImportSummary {
        &self.summary
    }

    /// How many rows the report has.
    pub fn len(&self) -> u64 {
        self.summary.rows
    }

    pub fn is_empty(&self) -> bool {
        self.summary.rows == 0
    }

    /// How many rows are in memory now (the rest are in the spool file).
    pub fn held(&self) -> usize {
        self.held.len()
    }

    /// Every row, in file order, read back from the spool file first. Reads the disk: call it
    /// where blocking is allowed.
    pub fn read(&self) -> RowsReading<'_> {
        RowsReading {
            spooled: self.spool.as_ref().map(Spool::reader),
            left: self.spool.as_ref().map_or(0, |s| s.rows),
            held: self.held.iter(),
            line: String::new(),
        }
    }
}

/// The rows of a [`ReportRows`], in file order.
pub struct RowsReading<'a> {
    spooled: Option<BufReader<At<'a>>>,
    /// Rows still to be read from the spool file.
    left: u64,
    held: std::slice::Iter<'a, RowReport>,
    line: String,
}

impl Iterator for RowsReading<'_> {
    type Item = std::io::Result<RowReport>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.left > 0 {
            let file = self.spooled.as_mut()?;
            self.left -= 1;
            self.line.clear();
            return Some(match file.read_line(&mut self.line) {
                Ok(0) => Err(std::io::Error::new(
                    std::io::ErrorKind::UnexpectedEof,
                    "the report's spool file ended early",
                )),
                Ok(_) => serde_json::from_str(&self.line).map_err(std::io::Error::from),
                Err(e) => Err(e),
            });
        }
        self.held.next().cloned().map(Ok)
    }
}

/// Written as the array of its rows, read back from the spool file as it goes: the API
/// streams its JSON answer through this (`http::bulk::report_body`).
impl Serialize for ReportRows {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut seq = serializer.serialize_seq(usize::try_from(self.summary.rows).ok())?;
        for row in self.read() {
            seq.serialize_element(&row.map_err(S::Error::custom)?)?;
        }
        seq.end()
    }
}

/// A report read back (by a client of the API) holds every row in memory.
impl<'de> Deserialize<'de> for ReportRows {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let held = Vec::<RowReport>::deserialize(deserializer)?;
        let mut rows = ReportRows::default();
        for row in held {
            rows.push(row).map_err(serde::de::Error::custom)?;
        }
        Ok(rows)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::directory::bulk::RowProblem;

    fn row(line: u64) -> RowReport {
        RowReport {
            line,
            email: format!("p{line}@shop.example"),
            result: if line.is_multiple_of(7) {
                RowResult::Error
            } else {
                RowResult::Created
            },
            errors: if line.is_multiple_of(7) {
                vec![RowProblem {
                    line,
                    column: Some("Email".into()),
                    rule: "invalid_email".into(),
                    reason: "not an e-mail, \"quoted\"\nand on two lines".into(),
                }]
            } else {
                Vec::new()
            },
        }
    }

    fn lines(r: &ReportRows) -> Vec<u64> {
        r.read().map(|x| x.expect("row").line).collect()
    }

    #[test]
    fn a_large_report_holds_little_and_reads_back_whole_and_in_order() {
        let mut r = ReportRows::default();
        let n = SPILL as u64 * 5 + 17;
        for line in 2..2 + n {
            r.push(row(line)).expect("push");
            assert!(r.held() < SPILL, "held {} rows", r.held());
        }
        assert_eq!(r.len(), n);
        let back: Vec<RowReport> = r.read().map(|x| x.expect("row")).collect();
        assert_eq!(back.len() as u64, n);
        for (i, b) in back.iter().enumerate() {
            let want = row(i as u64 + 2);
            assert_eq!(
                (b.line, &b.email, b.result),
                (want.line, &want.email, want.result)
            );
            assert_eq!(b.errors.len(), want.errors.len());
            if let (Some(got), Some(want)) = (b.errors.first(), want.errors.first()) {
                assert_eq!(
                    (&got.column, &got.rule, &got.reason),
                    (&want.column, &want.rule, &want.reason)
                );
            }
        }
        // A second reading gives the same rows.
        assert_eq!(lines(&r).len() as u64, n);
        let s = r.summary();
        assert_eq!(s.rows, n);
        assert_eq!(
            s.errors,
            (2..2 + n).filter(|l| l.is_multiple_of(7)).count() as u64
        );
        assert_eq!(s.created + s.errors, n);
    }

    #[test]
    fn a_batch_is_kept_until_it_is_put_in_order() {
        let mut r = ReportRows::default();
        for line in 0..SPILL as u64 - 1 {
            r.push(row(line)).expect("push");
        }
        r.begin_batch();
        // The batch settles its rows out of order, past the spill mark.
        for line in (SPILL as u64 - 1..SPILL as u64 + 300).rev() {
            r.push(row(line)).expect("push");
        }
        assert!(r.held() > SPILL, "nothing is written while a batch is open");
        r.end_batch().expect("end");
        assert_eq!(r.held(), 0);
        r.push(row(SPILL as u64 + 300)).expect("push");
        let got = lines(&r);
        let want: Vec<u64> = (0..=SPILL as u64 + 300).collect();
        assert_eq!(got, want);
    }

    #[test]
    fn serialised_it_is_the_array_of_its_rows() {
        let mut r = ReportRows::default();
        for line in 0..SPILL as u64 + 3 {
            r.push(row(line)).expect("push");
        }
        let json = serde_json::to_value(&r).expect("serialise");
        let arr = json.as_array().expect("an array");
        assert_eq!(arr.len(), SPILL + 3);
        assert_eq!(arr[SPILL + 2]["line"], SPILL as u64 + 2);
        let back: ReportRows = serde_json::from_value(json).expect("deserialise");
        assert_eq!(back.len(), SPILL as u64 + 3);
        assert_eq!(back.summary().errors, r.summary().errors);
    }
}
