//! Cell-level rules both templates share: text without control characters, the basic
//! e-mail shape, list splitting (the Admin Console's plain commas,
//! the plain template's `;` with backslash escapes, and the escaping the writer uses).

use crate::error::{RowError, Rule};
use crate::reader::{Record, Schema};

/// Collects every problem of one row while its cells are parsed.
pub(crate) struct Cells<'a> {
    pub(crate) rec: &'a Record,
    schema: &'static Schema,
    pub(crate) errors: Vec<RowError>,
}

impl<'a> Cells<'a> {
    pub(crate) fn new(rec: &'a Record, schema: &'static Schema) -> Self {
        Cells {
            rec,
            schema,
            errors: Vec::new(),
        }
    }

    pub(crate) fn name(&self, col: usize) -> &'static str {
        self.schema.columns.get(col).map_or("", |c| c.name)
    }

    pub(crate) fn fail(&mut self, col: usize, rule: Rule, message: impl Into<String>) {
        let e = RowError::cell(self.rec.line, self.name(col), rule, message);
        self.errors.push(e);
    }

    /// The trimmed cell; control characters are refused (they never belong in a name and
    /// would not survive an export to a spreadsheet).
    pub(crate) fn text(&mut self, col: usize) -> String {
        let s = self.rec.text(col).trim();
        if let Some(c) = s.chars().find(|c| c.is_control()) {
            let what = if c == '\0' {
                "binary data (a NUL byte)".to_string()
            } else {
                format!("a control character (U+{:04X})", u32::from(c))
            };
            self.fail(
                col,
                Rule::ControlCharacter,
                format!("the cell contains {what}"),
            );
            return String::new();
        }
        s.to_string()
    }

    pub(crate) fn required(&mut self, col: usize) -> String {
        let before = self.errors.len();
        let s = self.text(col);
        if s.is_empty() && self.errors.len() == before {
            self.fail(col, Rule::Required, "this cell must not be empty");
        }
        s
    }

    /// A required e-mail with the basic shape; the server applies the full rules.
    pub(crate) fn email(&mut self, col: usize) -> String {
        let s = self.required(col);
        if !s.is_empty() {
            if let Err(why) = email_shape(&s) {
                self.fail(
                    col,
                    Rule::Email,
                    format!("\"{s}\" is not an e-mail address: {why}"),
                );
            }
        }
        s
    }
}

/// `local@domain.tld` with nothing odd: one `@`, no spaces, a dotted domain.
pub(crate) fn email_shape(s: &str) -> Result<(), &'static str> {
    if s.len() > 254 {
        return Err("longer than 254 characters");
    }
    if s.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err("it contains a space");
    }
    let Some((local, domain)) = s.split_once('@') else {
        return Err("it has no '@'");
    };
    if domain.contains('@') {
        return Err("it has more than one '@'");
    }
    if local.is_empty() {
        return Err("nothing before the '@'");
    }
    if !domain.contains('.') || domain.split('.').any(str::is_empty) {
        return Err("the part after '@' is not a domain like example.com");
    }
    Ok(())
}

/// The domain part of a shaped e-mail.
pub(crate) fn email_domain(email: &str) -> &str {
    email.rsplit_once('@').map_or("", |(_, d)| d)
}

/// The Admin Console's lists: items separated by commas, trimmed, empty items dropped.
pub(crate) fn comma_items(cell: &str) -> impl Iterator<Item = &str> {
    cell.split(',').map(str::trim).filter(|s| !s.is_empty())
}

/// One item of a plain-template list after unescaping, with where its unescaped `:` were.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct Item {
    pub(crate) text: String,
    colons: Vec<usize>,
}

impl Item {
    /// Splits at the first unescaped `:`, trimming both sides.
    pub(crate) fn split_first(&self) -> Option<(&str, &str)> {
        let at = *self.colons.first()?;
        let head = self.text.get(..at)?.trim();
        let tail = self.text.get(at + 1..)?.trim();
        Some((head, tail))
    }

    /// The item after the first unescaped `:`, re-split at its own first unescaped `:`.
    pub(crate) fn after_first(&self) -> Option<Item> {
        let at = *self.colons.first()?;
        let raw = self.text.get(at + 1..)?;
        let lead = raw.len() - raw.trim_start().len();
        Some(Item {
            text: raw.trim().to_string(),
            colons: self
                .colons
                .iter()
                .skip(1)
                .map(|c| c - at - 1 - lead)
                .collect(),
        })
    }
}

/// The plain template's lists: items separated by `;`; inside a name `\;` is a `;`, `\:` a
/// `:` and `\\` a backslash. Items are trimmed and empty ones dropped.
pub(crate) fn plain_items(cell: &str) -> Result<Vec<Item>, String> {
    let mut items = Vec::new();
    let mut cur = Item {
        text: String::new(),
        colons: Vec::new(),
    };
    let mut chars = cell.chars();
    let push = |cur: &mut Item, items: &mut Vec<Item>| {
        let trimmed_start = cur.text.len() - cur.text.trim_start().len();
        let text = cur.text.trim().to_string();
        if !text.is_empty() {
            let colons = cur
                .colons
                .iter()
                .filter_map(|c| c.checked_sub(trimmed_start))
                .collect();
            items.push(Item { text, colons });
        }
        cur.text.clear();
        cur.colons.clear();
    };
    while let Some(c) = chars.next() {
        match c {
            '\\' => match chars.next() {
                Some(e @ (';' | ':' | '\\')) => cur.text.push(e),
                Some(other) => {
                    return Err(format!(
                        "unknown escape '\\{other}': only \\; \\: and \\\\ are escapes (write a backslash as \\\\)"
                    ))
                }
                None => return Err("the cell ends with a lone backslash (write it as \\\\)".into()),
            },
            ';' => push(&mut cur, &mut items),
            ':' => {
                cur.colons.push(cur.text.len());
                cur.text.push(':');
            }
            other => cur.text.push(other),
        }
    }
    push(&mut cur, &mut items);
    Ok(items)
}

/// Escapes a name for a plain-template list.
pub(crate) fn plain_escape(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    for c in name.chars() {
        if matches!(c, '\\' | ';' | ':') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn email_shapes() {
        assert!(email_shape("a.b+c@shop.example.com").is_ok());
        for bad in [
            "",
            "a",
            "a@",
            "@b.com",
            "a@b",
            "a b@c.com",
            "a@b@c.com",
            "a@b..com",
        ] {
            assert!(email_shape(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn plain_items_unescape_and_split() {
        let items = plain_items(r" magento:Sales\; Returns ; a\:b:c ;; x\\y ").unwrap();
        let texts: Vec<_> = items.iter().map(|i| i.text.as_str()).collect();
        assert_eq!(texts, ["magento:Sales; Returns", "a:b:c", r"x\y"]);
        assert_eq!(items[0].split_first(), Some(("magento", "Sales; Returns")));
        // The escaped ':' in "a\:b" does not split; the second one does.
        assert_eq!(items[1].split_first(), Some(("a:b", "c")));
        assert!(plain_items(r"a\b").is_err());
        assert!(plain_items("a\\").is_err());
    }

    #[test]
    fn after_first_keeps_the_remaining_colons() {
        let items = plain_items(r"product_profile: app : Pro\:file").unwrap();
        let rest = items[0].after_first().unwrap();
        assert_eq!(rest.split_first(), Some(("app", "Pro:file")));
        let items = plain_items(r"product_profile:Solo").unwrap();
        assert_eq!(items[0].after_first().unwrap().split_first(), None);
    }

    #[test]
    fn escape_round_trips() {
        for name in ["plain", "a;b", "a:b", r"a\b", r"\;:"] {
            let items = plain_items(&plain_escape(name)).unwrap();
            assert_eq!(items.len(), 1);
            assert_eq!(items[0].text, name);
            assert_eq!(items[0].split_first(), None, "{name}");
        }
    }
}
