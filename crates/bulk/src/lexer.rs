//! The strict RFC 4180 record splitter under every reader in this crate.
//!
//! Why not `csv::Reader`: it is lenient by design — an unclosed quote silently swallows the
//! rest of the file into one cell (unbounded memory, and the error surfaces as a wrong cell
//! far away), and a stray quote inside an unquoted cell is accepted as text. An import must
//! instead say "the quote opened on line 5 is never closed" and keep memory flat, so this
//! splitter tracks the quoting state itself, caps a row at [`MAX_ROW_BYTES`], and works over
//! one fixed 64 KiB buffer. The `csv` crate still writes our files; the round-trip property
//! tests check this splitter against its output.

use std::io::{self, Read};

/// The largest row accepted, in bytes of cell content. Far above any real user row (14
/// cells of names), low enough that a runaway quote cannot exhaust memory.
pub const MAX_ROW_BYTES: usize = 1 << 20;

/// Size of the one read buffer; the reader never holds more than this plus one row.
pub(crate) const BUFFER_BYTES: usize = 64 * 1024;

/// One row's cells, stored flat (like `csv::ByteRecord`) so that reading rows reuses two
/// allocations instead of making one per cell.
#[derive(Debug, Default)]
pub(crate) struct RawRecord {
    /// Line on which the row starts (1-based).
    pub(crate) line: u64,
    data: Vec<u8>,
    ends: Vec<usize>,
    /// Line on which each cell starts (cells may span lines inside quotes).
    field_lines: Vec<u64>,
}

impl RawRecord {
    fn clear(&mut self) {
        self.data.clear();
        self.ends.clear();
        self.field_lines.clear();
    }

    fn end_field(&mut self, line: u64) {
        self.ends.push(self.data.len());
        self.field_lines.push(line);
    }

    pub(crate) fn len(&self) -> usize {
        self.ends.len()
    }

    pub(crate) fn field(&self, i: usize) -> &[u8] {
        let start = if i == 0 {
            0
        } else {
            self.ends.get(i - 1).copied().unwrap_or(0)
        };
        let end = self.ends.get(i).copied().unwrap_or(start);
        self.data.get(start..end).unwrap_or_default()
    }

    pub(crate) fn field_line(&self, i: usize) -> u64 {
        self.field_lines.get(i).copied().unwrap_or(self.line)
    }

    /// A row with no content at all (a blank line, or `;;;;` left by a spreadsheet).
    pub(crate) fn is_blank(&self) -> bool {
        self.data.iter().all(|b| b.is_ascii_whitespace())
    }
}

/// Why a row could not be split into cells.
#[derive(Debug)]
pub(crate) enum LexError {
    /// A quoted cell runs to the end of the file (or past the row limit). Fatal: nothing
    /// after the opening quote can be trusted.
    UnbalancedQuote { open_line: u64 },
    /// A `"` inside an unquoted cell. The rest of the physical line is skipped.
    StrayQuote { line: u64, field: usize },
    /// Text after a closing quote, as in `"a"b`. The rest of the physical line is skipped.
    TextAfterQuote { line: u64, field: usize },
    /// An unquoted row over [`MAX_ROW_BYTES`]. The rest of the physical line is skipped.
    TooLong { line: u64 },
    /// The source failed. Fatal.
    Io(io::Error),
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum State {
    FieldStart,
    Unquoted,
    Quoted,
    QuoteInQuoted,
}

/// Splits a byte stream into rows of cells, one row at a time.
pub(crate) struct Lexer<R> {
    src: R,
    buf: Box<[u8]>,
    pos: usize,
    len: usize,
    eof: bool,
    delimiter: u8,
    /// Line number of the next unread byte.
    line: u64,
}

impl<R: Read> Lexer<R> {
    pub(crate) fn new(src: R, delimiter: u8) -> Self {
        Lexer {
            src,
            buf: vec![0u8; BUFFER_BYTES].into_boxed_slice(),
            pos: 0,
            len: 0,
            eof: false,
            delimiter,
            line: 1,
        }
    }

    pub(crate) fn source(&self) -> &R {
        &self.src
    }

    pub(crate) fn set_delimiter(&mut self, delimiter: u8) {
        self.delimiter = delimiter;
    }

    /// Fills the buffer (up to its size or end of file) and shows it, for sniffing the
    /// format before any row is split. Call only before the first row.
    pub(crate) fn prefill(&mut self) -> io::Result<&[u8]> {
        while self.len < self.buf.len() && !self.eof {
            let space = self.buf.get_mut(self.len..).unwrap_or_default();
            match self.src.read(space) {
                Ok(0) => self.eof = true,
                Ok(n) => self.len += n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
        Ok(self.buf.get(self.pos..self.len).unwrap_or_default())
    }

    /// Skips bytes already in the buffer (a byte-order mark).
    pub(crate) fn skip_buffered(&mut self, n: usize) {
        self.pos = (self.pos + n).min(self.len);
    }

    fn refill(&mut self) -> io::Result<bool> {
        loop {
            if self.eof {
                return Ok(false);
            }
            match self.src.read(&mut self.buf) {
                Ok(0) => self.eof = true,
                Ok(n) => {
                    self.pos = 0;
                    self.len = n;
                    return Ok(true);
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
    }

    fn next_byte(&mut self) -> io::Result<Option<u8>> {
        if self.pos >= self.len && !self.refill()? {
            return Ok(None);
        }
        let b = self.buf.get(self.pos).copied();
        self.pos += 1;
        Ok(b)
    }

    fn peek_byte(&mut self) -> io::Result<Option<u8>> {
        if self.pos >= self.len && !self.refill()? {
            return Ok(None);
        }
        Ok(self.buf.get(self.pos).copied())
    }

    /// Consumes the rest of the current physical line, to resume after a broken row.
    fn skip_line(&mut self) -> io::Result<()> {
        while let Some(b) = self.next_byte()? {
            if b == b'\n' {
                self.line += 1;
                break;
            }
        }
        Ok(())
    }

    /// Reads to end of file without keeping anything, so the digest covers the whole input
    /// even when a fatal error ends the rows early.
    pub(crate) fn drain(&mut self) -> io::Result<()> {
        self.pos = self.len;
        while self.refill()? {
            self.pos = self.len;
        }
        Ok(())
    }

    /// Ends a record at a line break (`\n`, or `\r\n` with `b == b'\r'`). Returns false when
    /// `b` is a lone `\r`, which is then cell content.
    fn line_break(&mut self, b: u8) -> io::Result<bool> {
        if b == b'\n' {
            self.line += 1;
            return Ok(true);
        }
        if b == b'\r' && self.peek_byte()? == Some(b'\n') {
            self.pos += 1;
            self.line += 1;
            return Ok(true);
        }
        Ok(false)
    }

    /// Reads the next row into `rec`. `Ok(false)` at end of file.
    pub(crate) fn next_record(&mut self, rec: &mut RawRecord) -> Result<bool, LexError> {
        rec.clear();
        rec.line = self.line;
        let mut state = State::FieldStart;
        let mut started = false;
        let mut quote_line = self.line;
        let mut field_line = self.line;
        loop {
            let Some(b) = self.next_byte().map_err(LexError::Io)? else {
                if state == State::Quoted {
                    return Err(LexError::UnbalancedQuote {
                        open_line: quote_line,
                    });
                }
                if started {
                    rec.end_field(field_line);
                }
                return Ok(started);
            };
            started = true;
            if rec.data.len() + rec.ends.len() >= MAX_ROW_BYTES {
                if state == State::Quoted {
                    return Err(LexError::UnbalancedQuote {
                        open_line: quote_line,
                    });
                }
                self.skip_line().map_err(LexError::Io)?;
                return Err(LexError::TooLong { line: rec.line });
            }
            match state {
                State::Quoted => {
                    if b == b'"' {
                        state = State::QuoteInQuoted;
                    } else {
                        if b == b'\n' {
                            self.line += 1;
                        }
                        rec.data.push(b);
                    }
                }
                State::QuoteInQuoted if b == b'"' => {
                    rec.data.push(b'"');
                    state = State::Quoted;
                }
                State::FieldStart if b == b'"' => {
                    state = State::Quoted;
                    quote_line = self.line;
                }
                _ if b == self.delimiter => {
                    rec.end_field(field_line);
                    field_line = self.line;
                    state = State::FieldStart;
                }
                _ if (b == b'\n' || b == b'\r') && self.line_break(b).map_err(LexError::Io)? => {
                    rec.end_field(field_line);
                    return Ok(true);
                }
                State::QuoteInQuoted => {
                    let line = self.line;
                    self.skip_line().map_err(LexError::Io)?;
                    return Err(LexError::TextAfterQuote {
                        line,
                        field: rec.len(),
                    });
                }
                State::FieldStart | State::Unquoted => {
                    if b == b'"' {
                        let line = self.line;
                        self.skip_line().map_err(LexError::Io)?;
                        return Err(LexError::StrayQuote {
                            line,
                            field: rec.len(),
                        });
                    }
                    rec.data.push(b);
                    state = State::Unquoted;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rows(input: &[u8], d: u8) -> Vec<Result<(u64, Vec<String>), String>> {
        let mut lx = Lexer::new(input, d);
        let mut rec = RawRecord::default();
        let mut out = Vec::new();
        loop {
            match lx.next_record(&mut rec) {
                Ok(false) => break,
                Ok(true) => out.push(Ok((
                    rec.line,
                    (0..rec.len())
                        .map(|i| String::from_utf8_lossy(rec.field(i)).into_owned())
                        .collect(),
                ))),
                Err(LexError::UnbalancedQuote { open_line }) => {
                    out.push(Err(format!("unbalanced@{open_line}")));
                    break;
                }
                Err(LexError::StrayQuote { line, .. }) => out.push(Err(format!("stray@{line}"))),
                Err(LexError::TextAfterQuote { line, .. }) => {
                    out.push(Err(format!("after@{line}")))
                }
                Err(e) => out.push(Err(format!("{e:?}"))),
            }
        }
        out
    }

    fn ok(line: u64, cells: &[&str]) -> Result<(u64, Vec<String>), String> {
        Ok((line, cells.iter().map(|s| s.to_string()).collect()))
    }

    #[test]
    fn splits_quoted_cells_crlf_and_lf() {
        let got = rows(b"a,\"b, c\",\"say \"\"hi\"\"\"\r\nd,,\"x\ny\"\nlast", b',');
        assert_eq!(
            got,
            vec![
                ok(1, &["a", "b, c", "say \"hi\""]),
                ok(2, &["d", "", "x\ny"]),
                ok(4, &["last"]),
            ]
        );
    }

    #[test]
    fn semicolon_delimiter_keeps_commas() {
        let got = rows(b"a;b,c\r\n", b';');
        assert_eq!(got, vec![ok(1, &["a", "b,c"])]);
    }

    #[test]
    fn unclosed_quote_names_the_opening_line() {
        let got = rows(b"a,b\nc,\"d\ne,f\ng,h\n", b',');
        assert_eq!(got, vec![ok(1, &["a", "b"]), Err("unbalanced@2".into())]);
    }

    #[test]
    fn stray_quotes_are_errors_and_reading_resumes_on_the_next_line() {
        let got = rows(b"a\"b,c\n\"x\"y,z\nok,1\n", b',');
        assert_eq!(
            got,
            vec![
                Err("stray@1".into()),
                Err("after@2".into()),
                ok(3, &["ok", "1"])
            ]
        );
    }

    #[test]
    fn runaway_quote_is_cut_at_the_row_limit() {
        let mut input = b"a\n\"".to_vec();
        input.extend(vec![b'x'; MAX_ROW_BYTES + 10]);
        input.extend(b"\"\n");
        let got = rows(&input, b',');
        assert_eq!(got, vec![ok(1, &["a"]), Err("unbalanced@2".into())]);
    }
}
