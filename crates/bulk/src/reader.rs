//! The streaming CSV reader every format in this crate shares: sniffs what the file is,
//! detects the separator from the header, maps the header onto a [`Schema`], and yields one
//! [`Record`] at a time with per-row errors (line, column, rule).
//!
//! Memory is flat in the number of rows: one 64 KiB buffer and one row (at most
//! [`MAX_ROW_BYTES`](crate::MAX_ROW_BYTES)). The templates add one set of seen e-mails for the
//! duplicate check, which grows with distinct keys, never with cell contents.

use crate::digest::{FileDigest, HashingReader};
use crate::error::{FileError, RowError, RowErrors, Rule};
use crate::lexer::{LexError, Lexer, RawRecord, MAX_ROW_BYTES};
use std::io::Read;

/// One column a format knows.
#[derive(Debug, Clone, Copy)]
pub struct Column {
    /// The header text (matched after trimming, ignoring ASCII case).
    pub name: &'static str,
    /// Whether the header must contain it.
    pub required: bool,
}

impl Column {
    pub const fn required(name: &'static str) -> Column {
        Column {
            name,
            required: true,
        }
    }

    pub const fn optional(name: &'static str) -> Column {
        Column {
            name,
            required: false,
        }
    }
}

/// What to do with header columns a schema does not know.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExtraColumns {
    /// Refuse the file: in a template, an unknown column is a typo that would otherwise drop
    /// data silently.
    Reject,
    /// Skip them and list them in [`CsvReader::ignored_columns`]: database exports carry
    /// columns (timestamps, extension columns) a migration does not need.
    Ignore,
}

/// The columns of one file format, in canonical order.
#[derive(Debug)]
pub struct Schema {
    /// The name used in messages ("Admin Console", "admin_user").
    pub name: &'static str,
    pub columns: &'static [Column],
    pub extra: ExtraColumns,
    /// Whether cells carry the spreadsheet formula guard ([`crate::formula`]): the templates'
    /// writers put a `'` in front of a cell a spreadsheet would run as a formula, so their
    /// reader takes it off again ([`crate::formula::unescape`], on the whole cell as written,
    /// before it is trimmed or split into list items) and every [`Record`] holds the values
    /// themselves. `false` for files rolecall never writes (Magento database exports), which
    /// are read exactly as they are.
    pub formula_guard: bool,
}

type Fit = (usize, std::cmp::Reverse<usize>);

impl Schema {
    fn index_of(&self, header_cell: &str) -> Option<usize> {
        let h = header_cell.trim();
        self.columns
            .iter()
            .position(|c| c.name.eq_ignore_ascii_case(h))
    }

    /// How well a header fits: known columns first, then fewer missing required columns
    /// (so `email` alone is the plain template, not an Admin Console file without its
    /// Identity Type).
    fn fit(&self, header: &[String]) -> Fit {
        let known: Vec<usize> = header.iter().filter_map(|h| self.index_of(h)).collect();
        let missing = self
            .columns
            .iter()
            .enumerate()
            .filter(|(i, c)| c.required && !known.contains(i))
            .count();
        (known.len(), std::cmp::Reverse(missing))
    }
}

/// One data row: its starting line and its cells in schema order. A cell is `None` when its
/// column is not in the file (which differs from an empty cell: "not given" vs "empty").
/// Under a schema with [`Schema::formula_guard`], cells are held with the guard taken off.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record {
    pub line: u64,
    cells: Vec<Option<String>>,
}

impl Record {
    /// A record built from cells in schema order (writers re-parse what they would write;
    /// the cells are the values, before the formula guard the writer adds).
    pub(crate) fn from_cells(line: u64, cells: Vec<Option<String>>) -> Record {
        Record { line, cells }
    }

    /// The cell of schema column `i`, `None` when the file has no such column.
    pub fn get(&self, i: usize) -> Option<&str> {
        self.cells.get(i).and_then(|c| c.as_deref())
    }

    /// The cell of schema column `i`, or "" when the file has no such column.
    pub fn text(&self, i: usize) -> &str {
        self.get(i).unwrap_or("")
    }
}

/// Streams [`Record`]s out of any `Read`.
pub struct CsvReader<R: Read> {
    lexer: Lexer<HashingReader<R>>,
    schema: &'static Schema,
    /// For each file cell position, the schema column it fills (None: ignored column).
    map: Vec<Option<usize>>,
    header: Vec<String>,
    ignored: Vec<String>,
    separator: u8,
    raw: RawRecord,
    done: bool,
}

const SEPARATORS: [u8; 2] = [b',', b';'];

impl<R: Read> CsvReader<R> {
    /// Opens `input` as a file of `schema`. Refuses files that are not CSV text or whose
    /// header does not fit, before any row is read.
    pub fn open(input: R, schema: &'static Schema) -> Result<Self, FileError> {
        let (_, reader) = Self::open_any(input, &[schema])?;
        Ok(reader)
    }

    /// Opens `input` as whichever of `schemas` its header fits best (most known columns), so
    /// an upload needs no "which template" question. Returns the chosen index.
    pub fn open_any(input: R, schemas: &[&'static Schema]) -> Result<(usize, Self), FileError> {
        let mut lexer = Lexer::new(HashingReader::new(input), b',');
        let head = lexer.prefill().map_err(io_error)?;
        let bom = sniff(head)?;
        let (choice, separator) = choose(&head[bom..], schemas)?;
        let schema = schemas.get(choice).copied().ok_or(FileError::Empty)?;
        lexer.skip_buffered(bom);
        lexer.set_delimiter(separator);
        let mut raw = RawRecord::default();
        let header = match lexer.next_record(&mut raw) {
            Ok(true) => decode_header(&raw)?,
            Ok(false) => return Err(FileError::Empty),
            Err(e) => return Err(header_lex_error(e)),
        };
        let (map, ignored) = map_header(schema, &header)?;
        Ok((
            choice,
            CsvReader {
                lexer,
                schema,
                map,
                header,
                ignored,
                separator,
                raw,
                done: false,
            },
        ))
    }

    /// The separator found in the header: `,` or `;`.
    pub fn separator(&self) -> char {
        char::from(self.separator)
    }

    /// Whether the file has schema column `i` (absent columns mean "leave unchanged").
    pub fn has_column(&self, i: usize) -> bool {
        self.map.contains(&Some(i))
    }

    /// Header cells skipped under [`ExtraColumns::Ignore`].
    pub fn ignored_columns(&self) -> &[String] {
        &self.ignored
    }

    /// The schema this reader maps onto.
    pub fn schema(&self) -> &'static Schema {
        self.schema
    }

    /// SHA-256 and size of every input byte; `Some` once the rows are exhausted (end of
    /// file), `None` before, or when reading failed.
    pub fn digest(&self) -> Option<FileDigest> {
        self.lexer.source().digest().cloned()
    }

    fn column_name(&self, file_index: usize) -> String {
        match self.map.get(file_index).copied().flatten() {
            Some(i) => self
                .schema
                .columns
                .get(i)
                .map_or_else(String::new, |c| c.name.to_string()),
            None => self.header.get(file_index).cloned().unwrap_or_default(),
        }
    }

    fn stop(&mut self) {
        self.done = true;
        // Best effort: the digest of a file cut short by a fatal error still helps an audit.
        let _ = self.lexer.drain();
    }

    fn decode(&self) -> Result<Record, RowErrors> {
        let raw = &self.raw;
        if raw.len() != self.map.len() {
            return Err(RowError::row(
                raw.line,
                Rule::FieldCount,
                format!(
                    "the header has {} cells but this row has {}: check for a missing or extra '{}' (cells holding '{}' must be in quotes)",
                    self.map.len(),
                    raw.len(),
                    self.separator(),
                    self.separator()
                ),
            )
            .into());
        }
        let mut cells = vec![None; self.schema.columns.len()];
        let mut errors = Vec::new();
        for (file_index, target) in self.map.iter().enumerate() {
            let Some(col) = *target else { continue };
            let bytes = raw.field(file_index);
            match std::str::from_utf8(bytes) {
                Ok(s) => {
                    let s = if self.schema.formula_guard {
                        crate::formula::unescape(s)
                    } else {
                        s
                    };
                    if let Some(slot) = cells.get_mut(col) {
                        *slot = Some(s.to_string());
                    }
                }
                Err(e) => {
                    let good = bytes.get(..e.valid_up_to()).unwrap_or_default();
                    let line = raw.field_line(file_index)
                        + good.iter().filter(|&&b| b == b'\n').count() as u64;
                    let bad = bytes.get(e.valid_up_to()).copied().unwrap_or(0);
                    errors.push(RowError::cell(
                        line,
                        &self.column_name(file_index),
                        Rule::Utf8,
                        format!(
                            "invalid UTF-8 (byte 0x{bad:02X} after \"{}\"): the file must be UTF-8 (in Excel: Save As \"CSV UTF-8\")",
                            String::from_utf8_lossy(good)
                        ),
                    ));
                }
            }
        }
        if errors.is_empty() {
            Ok(Record {
                line: raw.line,
                cells,
            })
        } else {
            Err(RowErrors(errors))
        }
    }
}

impl<R: Read> Iterator for CsvReader<R> {
    type Item = Result<Record, RowErrors>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            if self.done {
                return None;
            }
            match self.lexer.next_record(&mut self.raw) {
                Ok(false) => {
                    self.done = true;
                    return None;
                }
                Ok(true) if self.raw.is_blank() => continue,
                Ok(true) => return Some(self.decode()),
                Err(e) => {
                    let err = match e {
                        LexError::UnbalancedQuote { open_line } => {
                            self.stop();
                            RowError::row(
                                open_line,
                                Rule::UnbalancedQuote,
                                "a quoted cell opened on this line is never closed (every '\"' that opens a cell needs a closing '\"'; a '\"' inside a cell is written '\"\"'); nothing after it can be read",
                            )
                        }
                        LexError::StrayQuote { line, field } => RowError::cell(
                            line,
                            &self.column_name(field),
                            Rule::StrayQuote,
                            "a '\"' inside a cell that does not start with '\"': put the whole cell in quotes and write the '\"' as '\"\"'",
                        ),
                        LexError::TextAfterQuote { line, field } => RowError::cell(
                            line,
                            &self.column_name(field),
                            Rule::StrayQuote,
                            "text after the closing '\"' of a quoted cell: a '\"' inside a quoted cell is written '\"\"'",
                        ),
                        LexError::TooLong { line } => RowError::row(
                            line,
                            Rule::RowTooLong,
                            format!("the row is longer than {MAX_ROW_BYTES} bytes"),
                        ),
                        LexError::Io(e) => {
                            self.done = true;
                            RowError::row(self.raw.line, Rule::Io, format!("reading failed: {e}"))
                        }
                    };
                    return Some(Err(err.into()));
                }
            }
        }
    }
}

fn io_error(e: std::io::Error) -> FileError {
    FileError::Io {
        message: e.to_string(),
    }
}

fn not_csv(reason: &str) -> FileError {
    FileError::NotCsv {
        reason: reason.to_string(),
    }
}

/// Looks at the first bytes and refuses what is plainly not CSV text, naming what it is.
/// Returns the length of a UTF-8 byte-order mark to skip.
fn sniff(head: &[u8]) -> Result<usize, FileError> {
    if head.starts_with(&[0xFF, 0xFE]) || head.starts_with(&[0xFE, 0xFF]) {
        return Err(FileError::NotUtf8 {
            line: 1,
            reason: "the file is UTF-16 text (Excel's \"Unicode Text\")".into(),
        });
    }
    if head.starts_with(b"PK\x03\x04") {
        return Err(not_csv(
            "it is a ZIP archive, probably an Excel workbook (.xlsx): save it as \"CSV UTF-8\"",
        ));
    }
    if head.starts_with(&[0xD0, 0xCF, 0x11, 0xE0]) {
        return Err(not_csv(
            "it is an old Excel workbook (.xls): save it as \"CSV UTF-8\"",
        ));
    }
    if head.starts_with(b"%PDF") {
        return Err(not_csv("it is a PDF document"));
    }
    let bom = if head.starts_with(&[0xEF, 0xBB, 0xBF]) {
        3
    } else {
        0
    };
    let body = head.get(bom..).unwrap_or_default();
    if body.iter().all(|b| b.is_ascii_whitespace()) {
        return Err(FileError::Empty);
    }
    if body.contains(&0) {
        return Err(not_csv("it contains binary data (NUL bytes)"));
    }
    let first_line = body.split(|&b| b == b'\n').next().unwrap_or_default();
    if first_line
        .iter()
        .any(|&b| b < 0x20 && b != b'\t' && b != b'\r')
    {
        return Err(not_csv("its first line contains binary control bytes"));
    }
    match body.iter().find(|b| !b.is_ascii_whitespace()) {
        Some(b'{') | Some(b'[') => Err(not_csv("it looks like JSON, not CSV")),
        Some(b'<') => Err(not_csv("it looks like HTML or XML, not CSV")),
        _ => Ok(bom),
    }
}

/// Splits the header (in the buffered head) with each separator and picks the schema and
/// separator that fit best (see `Schema::fit`); ties go to the earlier schema and to ','.
fn choose(head: &[u8], schemas: &[&'static Schema]) -> Result<(usize, u8), FileError> {
    let mut best: Option<(Fit, usize, u8)> = None;
    for sep in SEPARATORS {
        let mut lx = Lexer::new(head, sep);
        let mut raw = RawRecord::default();
        let header = match lx.next_record(&mut raw) {
            Ok(true) => decode_header(&raw)?,
            Ok(false) => return Err(FileError::Empty),
            Err(e) => return Err(header_lex_error(e)),
        };
        for (i, schema) in schemas.iter().enumerate() {
            let score = schema.fit(&header);
            let better = match best {
                None => score.0 > 0,
                Some((s, _, _)) => score > s,
            };
            if better {
                best = Some((score, i, sep));
            }
        }
    }
    match best {
        Some((_, i, sep)) => Ok((i, sep)),
        None => Err(FileError::NotTemplate {
            template: schemas
                .iter()
                .map(|s| s.name)
                .collect::<Vec<_>>()
                .join(" or "),
            expected: schemas
                .first()
                .map(|s| s.columns.iter().map(|c| c.name.to_string()).collect())
                .unwrap_or_default(),
        }),
    }
}

fn header_lex_error(e: LexError) -> FileError {
    match e {
        LexError::UnbalancedQuote { open_line } => FileError::BadHeader {
            line: open_line,
            reason: "a quote is never closed".into(),
        },
        LexError::StrayQuote { line, .. } | LexError::TextAfterQuote { line, .. } => {
            FileError::BadHeader {
                line,
                reason: "a stray '\"'".into(),
            }
        }
        LexError::TooLong { line } => FileError::BadHeader {
            line,
            reason: "the header line is too long".into(),
        },
        LexError::Io(e) => io_error(e),
    }
}

fn decode_header(raw: &RawRecord) -> Result<Vec<String>, FileError> {
    (0..raw.len())
        .map(|i| {
            std::str::from_utf8(raw.field(i))
                .map(|s| s.trim().to_string())
                .map_err(|_| FileError::NotUtf8 {
                    line: raw.line,
                    reason: "the header line is not valid UTF-8".into(),
                })
        })
        .collect()
}

type HeaderMap = (Vec<Option<usize>>, Vec<String>);

fn map_header(schema: &Schema, header: &[String]) -> Result<HeaderMap, FileError> {
    let mut map = Vec::with_capacity(header.len());
    let mut seen = vec![false; schema.columns.len()];
    let (mut unknown, mut repeated, mut ignored) = (Vec::new(), Vec::new(), Vec::new());
    for (pos, h) in header.iter().enumerate() {
        match schema.index_of(h) {
            Some(i) => {
                if let Some(s) = seen.get_mut(i) {
                    if *s {
                        repeated.push(h.clone());
                    }
                    *s = true;
                }
                map.push(Some(i));
            }
            None => {
                let shown = if h.is_empty() {
                    format!("(no name, cell {})", pos + 1)
                } else {
                    h.clone()
                };
                match schema.extra {
                    ExtraColumns::Reject => unknown.push(shown),
                    ExtraColumns::Ignore => ignored.push(shown),
                }
                map.push(None);
            }
        }
    }
    let missing: Vec<String> = schema
        .columns
        .iter()
        .zip(&seen)
        .filter(|(c, s)| c.required && !**s)
        .map(|(c, _)| c.name.to_string())
        .collect();
    if unknown.is_empty() && missing.is_empty() && repeated.is_empty() {
        Ok((map, ignored))
    } else {
        Err(FileError::Columns {
            template: schema.name.to_string(),
            unknown,
            missing,
            repeated,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    static TEST: Schema = Schema {
        name: "test",
        columns: &[Column::required("Email"), Column::optional("Name")],
        extra: ExtraColumns::Reject,
        formula_guard: false,
    };

    static GUARDED: Schema = Schema {
        name: "guarded",
        columns: &[Column::required("Email"), Column::optional("Name")],
        extra: ExtraColumns::Reject,
        formula_guard: true,
    };

    fn read(input: &[u8]) -> Result<Vec<Result<Record, RowErrors>>, FileError> {
        CsvReader::open(input, &TEST).map(|r| r.collect())
    }

    fn names(input: &[u8], schema: &'static Schema) -> Vec<String> {
        CsvReader::open(input, schema)
            .unwrap()
            .map(|r| r.unwrap().text(1).to_string())
            .collect()
    }

    #[test]
    fn the_formula_guard_comes_off_whole_cells_only_when_the_schema_has_it() {
        let input = b"Email,Name\na@x.org,'=x\nb@x.org,\"''+a, b\"\nc@x.org,'t Hooft\nd@x.org,=y\n";
        assert_eq!(names(input, &GUARDED), ["=x", "'+a, b", "'t Hooft", "=y"]);
        assert_eq!(names(input, &TEST), ["'=x", "''+a, b", "'t Hooft", "=y"]);
    }

    #[test]
    fn bom_crlf_semicolon() {
        let rows = read(b"\xEF\xBB\xBFEmail;Name\r\na@x.org;\"B; C\"\r\n").unwrap();
        let rec = rows[0].as_ref().unwrap();
        assert_eq!((rec.line, rec.text(0), rec.text(1)), (2, "a@x.org", "B; C"));
    }

    #[test]
    fn absent_optional_column_is_none_not_empty() {
        let r = CsvReader::open(&b"email\na@x.org\n"[..], &TEST).unwrap();
        assert!(r.has_column(0) && !r.has_column(1));
        let rows: Vec<_> = r.collect();
        assert_eq!(rows[0].as_ref().unwrap().get(1), None);
    }

    #[test]
    fn wrong_cell_count_is_a_row_error() {
        let rows = read(b"Email,Name\na@x.org,B,extra\nc@x.org,D\n").unwrap();
        let e = rows[0].as_ref().unwrap_err();
        assert_eq!((e.line(), e.0[0].rule), (2, Rule::FieldCount));
        assert!(rows[1].is_ok());
    }

    #[test]
    fn blank_lines_and_empty_spreadsheet_rows_are_skipped() {
        let rows = read(b"Email,Name\n\na@x.org,B\n,\n").unwrap();
        assert_eq!(rows.len(), 1);
    }

    #[test]
    fn header_problems_are_listed_together() {
        let err = read(b"Name,Mail,Name\n").unwrap_err();
        assert_eq!(
            err,
            FileError::Columns {
                template: "test".into(),
                unknown: vec!["Mail".into()],
                missing: vec!["Email".into()],
                repeated: vec!["Name".into()],
            }
        );
    }
}
