//! Writing a template file: options (line ending, byte-order mark), deterministic output
//! through the `csv` crate, and the digest of what was written.
//!
//! Determinism (rows sorted by e-mail, list items sorted, one quoting style) is what makes
//! export → import → export byte-identical, so a re-exported file can be diffed against the
//! previous one to see exactly what changed.
//!
//! Every data cell goes through the spreadsheet formula guard ([`crate::formula::escape`])
//! here, the one place the templates write cells: exports are opened in spreadsheets by
//! administrators, and names come from users. The guard is applied to the whole cell, after
//! a list's items are joined (a spreadsheet only looks at the start of a cell), and the
//! templates' reader undoes it on the whole cell before splitting it
//! ([`crate::reader::Schema::formula_guard`]), so the round trip still holds.

use crate::digest::{FileDigest, HashingWriter};
use crate::error::WriteError;
use std::io::Write;

/// Line ending of written files.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum LineEnding {
    /// `\r\n`: RFC 4180 and what Excel writes.
    #[default]
    Crlf,
    /// `\n`: friendlier to diff and to Unix tools.
    Lf,
}

/// How to write a file. The reader accepts every combination, so these only serve the
/// person who opens the file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct WriteOptions {
    pub line_ending: LineEnding,
    /// Start with a UTF-8 byte-order mark: Excel needs it to open non-ASCII names correctly.
    pub bom: bool,
}

/// Writes `header` then `rows` (already sorted and validated) as comma-separated CSV,
/// quoting only the cells that need it. Row cells get the formula guard
/// ([`crate::formula::escape`]); the header is written as it is.
pub(crate) fn write_table<W: Write>(
    out: W,
    header: &[&str],
    rows: impl IntoIterator<Item = Vec<String>>,
    options: WriteOptions,
) -> Result<FileDigest, WriteError> {
    let mut sink = HashingWriter::new(out);
    if options.bom {
        sink.write_all(&[0xEF, 0xBB, 0xBF])?;
    }
    let terminator = match options.line_ending {
        LineEnding::Crlf => csv::Terminator::CRLF,
        LineEnding::Lf => csv::Terminator::Any(b'\n'),
    };
    let mut w = csv::WriterBuilder::new()
        .delimiter(b',')
        .quote_style(csv::QuoteStyle::Necessary)
        .terminator(terminator)
        .from_writer(sink);
    w.write_record(header)?;
    for row in rows {
        w.write_record(
            row.iter()
                .map(|cell| crate::formula::escape(cell).into_owned()),
        )?;
    }
    let sink = w.into_inner().map_err(|e| WriteError::Io {
        message: e.error().to_string(),
    })?;
    Ok(sink.finish()?)
}
