//! Recursive-descent parser for RFC 7644 §3.4.2.2 filters and §3.5.2 PATCH paths.
//!
//! Grammar (keywords case-insensitive; `not` binds tighter than `and`, `and` than `or`):
//! ```text
//! filter   = or
//! or       = and *("or" and)
//! and      = unary *("and" unary)
//! unary    = "not" "(" filter ")" / "(" filter ")" / attrExp
//! attrExp  = PATH "pr" / PATH OP VALUE / PATH "[" filter "]" [ ".sub" ("pr" / OP VALUE) ]
//! ```
//! The last alternative's tail is Entra's non-RFC `emails[type eq "work"].value eq "x"`, read as
//! `emails[type eq "work" and value eq "x"]`. Inside brackets paths must be bare sub-attribute
//! names and brackets do not nest. `not` is a keyword only when `(` follows, so an attribute
//! may be called `not`.

use super::lexer::{tokenize, SyntaxError, Tok, Token};
use super::{CompareOp, Filter, Literal, MAX_DEPTH, MAX_FILTER_LEN};
use crate::path::{is_attr_name, AttrPath, PatchPath};

struct Parser {
    toks: Vec<Token>,
    at: usize,
    depth: usize,
}

/// Parses a whole filter.
pub(crate) fn parse_filter(text: &str) -> Result<Filter, SyntaxError> {
    let mut p = Parser::new(text)?;
    if p.peek().tok == Tok::Eof {
        return Err(SyntaxError::new(0, "the filter is empty"));
    }
    let f = p.or(false)?;
    p.expect_end()?;
    Ok(f)
}

/// Parses a whole PATCH path.
pub(crate) fn parse_patch_path(text: &str) -> Result<PatchPath, SyntaxError> {
    let mut p = Parser::new(text)?;
    let (attr, _) = p.path(false)?;
    let mut path = PatchPath {
        attr,
        filter: None,
        sub: None,
    };
    if p.peek().tok == Tok::LBracket {
        if path.attr.sub.is_some() {
            return Err(SyntaxError::new(
                p.peek().pos,
                "a value filter must follow an attribute, not a sub-attribute",
            ));
        }
        path.filter = Some(p.bracketed()?);
        path.sub = p.dot_sub()?;
    }
    p.expect_end()?;
    Ok(path)
}

fn describe(tok: &Tok) -> String {
    match tok {
        Tok::LParen => "`(`".into(),
        Tok::RParen => "`)`".into(),
        Tok::LBracket => "`[`".into(),
        Tok::RBracket => "`]`".into(),
        Tok::Word(w) => format!("`{w}`"),
        Tok::Lit(l) => format!("`{l}`"),
        Tok::Eof => "the end".into(),
    }
}

fn is_keyword(tok: &Tok, keyword: &str) -> bool {
    matches!(tok, Tok::Word(w) if w.eq_ignore_ascii_case(keyword))
}

impl Parser {
    fn new(text: &str) -> Result<Parser, SyntaxError> {
        if text.len() > MAX_FILTER_LEN {
            return Err(SyntaxError::new(
                0,
                format!("longer than {MAX_FILTER_LEN} bytes"),
            ));
        }
        Ok(Parser {
            toks: tokenize(text)?,
            at: 0,
            depth: 0,
        })
    }

    fn peek(&self) -> &Token {
        // `tokenize` always ends with Eof and `next` never moves past it.
        &self.toks[self.at.min(self.toks.len() - 1)]
    }

    fn peek2(&self) -> &Tok {
        &self.toks[(self.at + 1).min(self.toks.len() - 1)].tok
    }

    fn next(&mut self) -> Token {
        let t = self.peek().clone();
        if self.at + 1 < self.toks.len() {
            self.at += 1;
        }
        t
    }

    fn expect(&mut self, tok: Tok, what: &str) -> Result<(), SyntaxError> {
        let t = self.next();
        if t.tok == tok {
            Ok(())
        } else {
            Err(SyntaxError::new(
                t.pos,
                format!("expected {what}, found {}", describe(&t.tok)),
            ))
        }
    }

    fn expect_end(&mut self) -> Result<(), SyntaxError> {
        let t = self.peek();
        if t.tok == Tok::Eof {
            Ok(())
        } else {
            Err(SyntaxError::new(
                t.pos,
                format!(
                    "unexpected {} after a complete expression",
                    describe(&t.tok)
                ),
            ))
        }
    }

    fn enter(&mut self, pos: usize) -> Result<(), SyntaxError> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(SyntaxError::new(
                pos,
                format!("nested deeper than {MAX_DEPTH} levels"),
            ));
        }
        Ok(())
    }

    fn or(&mut self, inner: bool) -> Result<Filter, SyntaxError> {
        let mut left = self.and(inner)?;
        while is_keyword(&self.peek().tok, "or") {
            self.next();
            left = Filter::or(left, self.and(inner)?);
        }
        Ok(left)
    }

    fn and(&mut self, inner: bool) -> Result<Filter, SyntaxError> {
        let mut left = self.unary(inner)?;
        while is_keyword(&self.peek().tok, "and") {
            self.next();
            left = Filter::and(left, self.unary(inner)?);
        }
        Ok(left)
    }

    fn unary(&mut self, inner: bool) -> Result<Filter, SyntaxError> {
        let t = self.peek().clone();
        match &t.tok {
            Tok::LParen => {
                self.enter(t.pos)?;
                self.next();
                let f = self.or(inner)?;
                self.expect(Tok::RParen, "`)`")?;
                self.depth -= 1;
                Ok(f)
            }
            w if is_keyword(w, "not") && *self.peek2() == Tok::LParen => {
                self.enter(t.pos)?;
                self.next();
                self.next();
                let f = self.or(inner)?;
                self.expect(Tok::RParen, "`)`")?;
                self.depth -= 1;
                Ok(Filter::negate(f))
            }
            Tok::Word(_) => self.attr_exp(inner),
            other => Err(SyntaxError::new(
                t.pos,
                format!(
                    "expected an attribute, `(` or `not (`, found {}",
                    describe(other)
                ),
            )),
        }
    }

    /// Reads a path word; inside brackets only bare names are allowed.
    fn path(&mut self, inner: bool) -> Result<(AttrPath, usize), SyntaxError> {
        let t = self.next();
        let Tok::Word(w) = &t.tok else {
            return Err(SyntaxError::new(
                t.pos,
                format!("expected an attribute, found {}", describe(&t.tok)),
            ));
        };
        let path = AttrPath::parse(w).map_err(|m| SyntaxError::new(t.pos, m))?;
        if inner && !path.is_simple() {
            return Err(SyntaxError::new(
                t.pos,
                format!("inside `[...]` use a sub-attribute name, not `{w}`"),
            ));
        }
        Ok((path, t.pos))
    }

    /// `[ filter ]`, with the opening bracket next.
    fn bracketed(&mut self) -> Result<Filter, SyntaxError> {
        let open = self.next();
        self.enter(open.pos)?;
        let f = self.or(true)?;
        self.expect(Tok::RBracket, "`]`")?;
        self.depth -= 1;
        Ok(f)
    }

    /// An optional `.sub` right after `]`.
    fn dot_sub(&mut self) -> Result<Option<String>, SyntaxError> {
        let t = self.peek().clone();
        match &t.tok {
            Tok::Word(w) if w.starts_with('.') => {
                self.next();
                let sub = &w[1..];
                if is_attr_name(sub) {
                    Ok(Some(sub.to_string()))
                } else {
                    Err(SyntaxError::new(
                        t.pos,
                        format!("`{sub}` is not a valid sub-attribute name"),
                    ))
                }
            }
            _ => Ok(None),
        }
    }

    fn attr_exp(&mut self, inner: bool) -> Result<Filter, SyntaxError> {
        let (path, pos) = self.path(inner)?;
        if self.peek().tok != Tok::LBracket {
            return self.comparison(path);
        }
        if inner {
            return Err(SyntaxError::new(
                self.peek().pos,
                "value filters cannot be nested",
            ));
        }
        if path.sub.is_some() {
            return Err(SyntaxError::new(
                pos,
                "a value filter must follow an attribute, not a sub-attribute",
            ));
        }
        let filter = self.bracketed()?;
        let filter = match self.dot_sub()? {
            None => filter,
            Some(sub) => Filter::and(filter, self.comparison(AttrPath::name(&sub))?),
        };
        Ok(Filter::ValuePath {
            attr: path,
            filter: Box::new(filter),
        })
    }

    fn comparison(&mut self, path: AttrPath) -> Result<Filter, SyntaxError> {
        let t = self.next();
        let Tok::Word(w) = &t.tok else {
            return Err(SyntaxError::new(
                t.pos,
                format!(
                    "expected an operator after `{path}`, found {}",
                    describe(&t.tok)
                ),
            ));
        };
        if w.eq_ignore_ascii_case("pr") {
            return Ok(Filter::Present { path });
        }
        let op = CompareOp::from_keyword(w).ok_or_else(|| {
            SyntaxError::new(
                t.pos,
                format!("unknown operator `{w}`; use eq, ne, co, sw, ew, gt, ge, lt, le or pr"),
            )
        })?;
        let v = self.next();
        let value = match &v.tok {
            Tok::Lit(l) => l.clone(),
            Tok::Word(w) if w.eq_ignore_ascii_case("true") => Literal::Bool(true),
            Tok::Word(w) if w.eq_ignore_ascii_case("false") => Literal::Bool(false),
            Tok::Word(w) if w.eq_ignore_ascii_case("null") => Literal::Null,
            other => {
                return Err(SyntaxError::new(
                    v.pos,
                    format!(
                    "expected a value (a string, number, true, false or null) after `{}`, found {}",
                    op.as_str(),
                    describe(other)
                ),
                ))
            }
        };
        Ok(Filter::Compare { path, op, value })
    }
}
