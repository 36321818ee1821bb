//! The filter tokenizer: brackets, JSON string and number literals, and words (attribute
//! paths and keywords, told apart by the parser from their position). Shared by the PATCH
//! path parser.

use super::Literal;

/// A syntax error at a byte offset; rendered with a character position for people.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct SyntaxError {
    pub pos: usize,
    pub message: String,
}

impl SyntaxError {
    pub fn new(pos: usize, message: impl Into<String>) -> Self {
        SyntaxError {
            pos,
            message: message.into(),
        }
    }

    /// `invalid filter at character 12: …` (1-based, counting characters, not bytes).
    pub fn describe(&self, text: &str, what: &str) -> String {
        let chars = text
            .get(..self.pos)
            .map_or(self.pos, |prefix| prefix.chars().count());
        format!(
            "invalid {what} at character {}: {}",
            chars + 1,
            self.message
        )
    }
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Tok {
    LParen,
    RParen,
    LBracket,
    RBracket,
    /// A run of name characters: a path, an operator or a keyword; `.sub` after `]`.
    Word(String),
    /// A string or number literal.
    Lit(Literal),
    Eof,
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Token {
    pub tok: Tok,
    pub pos: usize,
}

fn is_word_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, ':' | '.' | '_' | '-' | '$')
}

/// Splits `text` into tokens, ending with [`Tok::Eof`].
pub(crate) fn tokenize(text: &str) -> Result<Vec<Token>, SyntaxError> {
    let mut out = Vec::new();
    let mut it = text.char_indices().peekable();
    while let Some(&(pos, c)) = it.peek() {
        let single = match c {
            '(' => Some(Tok::LParen),
            ')' => Some(Tok::RParen),
            '[' => Some(Tok::LBracket),
            ']' => Some(Tok::RBracket),
            _ => None,
        };
        if let Some(tok) = single {
            it.next();
            out.push(Token { tok, pos });
        } else if c.is_whitespace() {
            it.next();
        } else if c == '"' {
            let s = string(text, pos)?;
            let end = s.1;
            while it.peek().is_some_and(|&(p, _)| p < end) {
                it.next();
            }
            out.push(Token {
                tok: Tok::Lit(Literal::Str(s.0)),
                pos,
            });
        } else if c == '-' || c.is_ascii_digit() {
            let (lit, end) = number(text, pos)?;
            while it.peek().is_some_and(|&(p, _)| p < end) {
                it.next();
            }
            out.push(Token {
                tok: Tok::Lit(lit),
                pos,
            });
        } else if is_word_char(c) {
            let mut end = pos;
            while let Some(&(p, ch)) = it.peek() {
                if !is_word_char(ch) {
                    break;
                }
                end = p + ch.len_utf8();
                it.next();
            }
            out.push(Token {
                tok: Tok::Word(text[pos..end].to_string()),
                pos,
            });
        } else {
            return Err(SyntaxError::new(pos, format!("unexpected character `{c}`")));
        }
    }
    out.push(Token {
        tok: Tok::Eof,
        pos: text.len(),
    });
    Ok(out)
}

/// A JSON string starting at the `"` at `start`; returns it and the offset after the closing
/// quote.
fn string(text: &str, start: usize) -> Result<(String, usize), SyntaxError> {
    let mut out = String::new();
    let mut it = text[start + 1..]
        .char_indices()
        .map(|(i, c)| (i + start + 1, c));
    while let Some((i, c)) = it.next() {
        match c {
            '"' => return Ok((out, i + 1)),
            '\\' => {
                let (j, e) = it
                    .next()
                    .ok_or_else(|| SyntaxError::new(i, "unfinished escape in string"))?;
                match e {
                    '"' => out.push('"'),
                    '\\' => out.push('\\'),
                    '/' => out.push('/'),
                    'b' => out.push('\u{8}'),
                    'f' => out.push('\u{c}'),
                    'n' => out.push('\n'),
                    'r' => out.push('\r'),
                    't' => out.push('\t'),
                    'u' => {
                        let hi = hex4(&mut it, i)?;
                        let code = if (0xD800..0xDC00).contains(&hi) {
                            // A high surrogate must be followed by `\u` and a low one.
                            let pair = (it.next().map(|x| x.1), it.next().map(|x| x.1));
                            if pair != (Some('\\'), Some('u')) {
                                return Err(SyntaxError::new(i, "unpaired surrogate in string"));
                            }
                            let lo = hex4(&mut it, i)?;
                            if !(0xDC00..0xE000).contains(&lo) {
                                return Err(SyntaxError::new(i, "unpaired surrogate in string"));
                            }
                            0x10000 + ((hi - 0xD800) << 10) + (lo - 0xDC00)
                        } else {
                            hi
                        };
                        let ch = char::from_u32(code)
                            .ok_or_else(|| SyntaxError::new(i, "unpaired surrogate in string"))?;
                        out.push(ch);
                    }
                    other => {
                        return Err(SyntaxError::new(j, format!("unknown escape `\\{other}`")))
                    }
                }
            }
            c => out.push(c),
        }
    }
    Err(SyntaxError::new(start, "string is not closed"))
}

fn hex4(it: &mut impl Iterator<Item = (usize, char)>, at: usize) -> Result<u32, SyntaxError> {
    let mut n = 0;
    for _ in 0..4 {
        let d = it
            .next()
            .and_then(|(_, c)| c.to_digit(16))
            .ok_or_else(|| SyntaxError::new(at, "`\\u` needs four hex digits"))?;
        n = n * 16 + d;
    }
    Ok(n)
}

/// A JSON number at `start`: an `i64` when it has no fraction or exponent and fits, else a
/// finite `f64`.
fn number(text: &str, start: usize) -> Result<(Literal, usize), SyntaxError> {
    let b = text.as_bytes();
    let mut i = start;
    let digits = |i: &mut usize| {
        let from = *i;
        while b.get(*i).is_some_and(u8::is_ascii_digit) {
            *i += 1;
        }
        *i - from
    };
    if b.get(i) == Some(&b'-') {
        i += 1;
    }
    if digits(&mut i) == 0 {
        return Err(SyntaxError::new(start, "a number needs digits"));
    }
    let mut integral = true;
    if b.get(i) == Some(&b'.') {
        i += 1;
        integral = false;
        if digits(&mut i) == 0 {
            return Err(SyntaxError::new(start, "a number needs digits after `.`"));
        }
    }
    if matches!(b.get(i), Some(b'e' | b'E')) {
        i += 1;
        integral = false;
        if matches!(b.get(i), Some(b'+' | b'-')) {
            i += 1;
        }
        if digits(&mut i) == 0 {
            return Err(SyntaxError::new(
                start,
                "a number needs digits in its exponent",
            ));
        }
    }
    if text[i..].chars().next().is_some_and(is_word_char) {
        return Err(SyntaxError::new(start, "a number runs into a name"));
    }
    let s = &text[start..i];
    if integral {
        if let Ok(n) = s.parse::<i64>() {
            return Ok((Literal::Int(n), i));
        }
    }
    match s.parse::<f64>() {
        Ok(d) if d.is_finite() => Ok((Literal::Dec(d), i)),
        _ => Err(SyntaxError::new(start, "number is out of range")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn toks(s: &str) -> Vec<Tok> {
        tokenize(s).unwrap().into_iter().map(|t| t.tok).collect()
    }

    #[test]
    fn words_brackets_and_literals() {
        assert_eq!(
            toks("emails[type eq \"work\"].value"),
            vec![
                Tok::Word("emails".into()),
                Tok::LBracket,
                Tok::Word("type".into()),
                Tok::Word("eq".into()),
                Tok::Lit(Literal::Str("work".into())),
                Tok::RBracket,
                Tok::Word(".value".into()),
                Tok::Eof
            ]
        );
    }

    #[test]
    fn json_string_escapes() {
        assert_eq!(
            toks(r#""a\"b\\c\/d\n\u00e9\ud83d\ude00""#),
            vec![Tok::Lit(Literal::Str("a\"b\\c/d\né😀".into())), Tok::Eof]
        );
        assert!(tokenize(r#""\ud83d""#).is_err());
        assert!(tokenize(r#""\x""#).is_err());
        assert!(tokenize(r#""open"#).is_err());
        assert!(tokenize(r#""\u12""#).is_err());
    }

    #[test]
    fn numbers() {
        assert_eq!(toks("42"), vec![Tok::Lit(Literal::Int(42)), Tok::Eof]);
        assert_eq!(toks("-7"), vec![Tok::Lit(Literal::Int(-7)), Tok::Eof]);
        assert_eq!(toks("1.5"), vec![Tok::Lit(Literal::Dec(1.5)), Tok::Eof]);
        assert_eq!(toks("2e3"), vec![Tok::Lit(Literal::Dec(2000.0)), Tok::Eof]);
        assert_eq!(
            toks("99999999999999999999"),
            vec![Tok::Lit(Literal::Dec(1e20)), Tok::Eof]
        );
        for bad in ["-", "1.", "1e", "1e999", "12ab", "-x"] {
            assert!(tokenize(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn stray_characters_are_errors_with_positions() {
        let e = tokenize("userName eq 'x'").unwrap_err();
        assert_eq!(e.pos, 12);
        assert_eq!(
            e.describe("userName eq 'x'", "filter"),
            "invalid filter at character 13: unexpected character `'`"
        );
    }
}
