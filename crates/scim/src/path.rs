//! Attribute paths: `[urn:…:]attr[.sub]` (RFC 7644 §3.10, the `attrPath` rule of §3.4.2.2)
//! and PATCH paths `attrPath[valFilter][.sub]` (§3.5.2). Parsing is schema-agnostic; resolving
//! a path against a [`crate::schema::ResourceType`] happens where it is used.

use crate::error::ScimError;
use crate::filter::{parser, Filter};
use std::fmt;

/// A parsed attribute path. `urn` is everything before the last `:` when the path starts
/// with `urn:` (URNs contain dots, as in `2.0`, so the attribute name is split off first).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct AttrPath {
    pub urn: Option<String>,
    pub name: String,
    pub sub: Option<String>,
}

impl AttrPath {
    /// A path with just an attribute name.
    pub fn name(name: &str) -> Self {
        AttrPath {
            urn: None,
            name: name.to_string(),
            sub: None,
        }
    }

    /// Parses `[urn:]attr[.sub]`; the error is a message for the caller to wrap in the
    /// `scimType` that fits (invalidFilter, invalidPath…).
    pub fn parse(s: &str) -> Result<AttrPath, String> {
        let (urn, rest) = if s.get(..4).is_some_and(|p| p.eq_ignore_ascii_case("urn:")) {
            match s.rfind(':') {
                Some(i) if i > 4 => (Some(s[..i].to_string()), &s[i + 1..]),
                _ => return Err(format!("`{s}` is a URN without an attribute name")),
            }
        } else {
            (None, s)
        };
        let (name, sub) = match rest.split_once('.') {
            Some((n, s)) => (n, Some(s)),
            None => (rest, None),
        };
        check_name(name, s)?;
        if let Some(sub) = sub {
            check_name(sub, s)?;
        }
        Ok(AttrPath {
            urn,
            name: name.to_string(),
            sub: sub.map(str::to_string),
        })
    }

    /// Whether the path is a bare attribute name: what a value filter (`emails[type eq …]`)
    /// may use inside its brackets.
    pub fn is_simple(&self) -> bool {
        self.urn.is_none() && self.sub.is_none()
    }
}

/// Whether `name` is an ATTRNAME (`ALPHA *(ALPHA / DIGIT / "-" / "_")`) or `$ref`-like
/// (`$` followed by one), as RFC 7643 §2.1 allows for `$ref`.
pub(crate) fn is_attr_name(name: &str) -> bool {
    let rest = name.strip_prefix('$').unwrap_or(name);
    let mut chars = rest.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphabetic())
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
}

fn check_name(name: &str, whole: &str) -> Result<(), String> {
    if is_attr_name(name) {
        Ok(())
    } else if name.is_empty() {
        Err(format!("`{whole}` has an empty attribute name"))
    } else {
        Err(format!(
            "`{name}` in `{whole}` is not a valid attribute name"
        ))
    }
}

impl fmt::Display for AttrPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(urn) = &self.urn {
            write!(f, "{urn}:")?;
        }
        f.write_str(&self.name)?;
        if let Some(sub) = &self.sub {
            write!(f, ".{sub}")?;
        }
        Ok(())
    }
}

/// A PATCH operation's target: `attr`, `attr.sub`, `attr[filter]` or `attr[filter].sub`,
/// each optionally URN-qualified. `attr.sub` and `attr[filter].sub` are kept apart (`sub` is in
/// `attr` for the former, here for the latter) as the grammar does.
#[derive(Debug, Clone, PartialEq)]
pub struct PatchPath {
    pub attr: AttrPath,
    /// The value selection filter between brackets; its paths are sub-attribute names.
    pub filter: Option<Filter>,
    /// The sub-attribute after `]`.
    pub sub: Option<String>,
}

impl PatchPath {
    /// Parses a PATCH `path`; errors are `invalidPath` with a position.
    pub fn parse(s: &str) -> Result<PatchPath, ScimError> {
        parser::parse_patch_path(s).map_err(|e| ScimError::invalid_path(e.describe(s, "path")))
    }
}

impl fmt::Display for PatchPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.attr)?;
        if let Some(filter) = &self.filter {
            write!(f, "[{filter}]")?;
        }
        if let Some(sub) = &self.sub {
            write!(f, ".{sub}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ScimType;

    #[test]
    fn splits_urn_at_the_last_colon_then_the_sub_attribute_at_the_dot() {
        let p =
            AttrPath::parse("urn:ietf:params:scim:schemas:core:2.0:User:name.givenName").unwrap();
        assert_eq!(
            p.urn.as_deref(),
            Some("urn:ietf:params:scim:schemas:core:2.0:User")
        );
        assert_eq!(p.name, "name");
        assert_eq!(p.sub.as_deref(), Some("givenName"));
        let p = AttrPath::parse(
            "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department",
        )
        .unwrap();
        assert_eq!(p.name, "department");
        assert_eq!(p.sub, None);
    }

    #[test]
    fn plain_and_dollar_names() {
        assert_eq!(
            AttrPath::parse("userName").unwrap(),
            AttrPath::name("userName")
        );
        let p = AttrPath::parse("manager.$ref").unwrap();
        assert_eq!(p.sub.as_deref(), Some("$ref"));
    }

    #[test]
    fn rejects_malformed_names() {
        for s in [
            "", "1abc", "a..b", "a.b.c", "a.", ".a", "urn:", "urn:x:", "a b", "é",
        ] {
            assert!(AttrPath::parse(s).is_err(), "{s}");
        }
    }

    #[test]
    fn display_round_trips() {
        for s in [
            "userName",
            "name.givenName",
            "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value",
        ] {
            assert_eq!(AttrPath::parse(s).unwrap().to_string(), s);
        }
    }

    #[test]
    fn patch_paths_of_every_shape() {
        let p = PatchPath::parse("members[value eq \"2819c223\"]").unwrap();
        assert_eq!(p.attr, AttrPath::name("members"));
        assert!(p.filter.is_some());
        assert_eq!(p.sub, None);
        let p = PatchPath::parse("emails[type eq \"work\"].value").unwrap();
        assert_eq!(p.sub.as_deref(), Some("value"));
        let p = PatchPath::parse("name.familyName").unwrap();
        assert_eq!(p.attr.sub.as_deref(), Some("familyName"));
        let p =
            PatchPath::parse("urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager")
                .unwrap();
        assert_eq!(p.attr.name, "manager");
        for s in [
            "members[value eq \"2819c223\"]",
            "emails[type eq \"work\"].value",
            "addresses[type eq \"work\" and primary eq true].streetAddress",
        ] {
            assert_eq!(PatchPath::parse(s).unwrap().to_string(), s);
        }
    }

    #[test]
    fn bad_patch_paths_are_invalid_path() {
        for s in [
            "",
            "members[",
            "members[value eq]",
            "members[value eq \"x\"",
            "members[value eq \"x\"]junk",
            "members[value eq \"x\"].",
            "name.givenName[value eq \"x\"]",
            "members[value eq \"x\"].value.x",
            "userName eq \"x\"",
        ] {
            let e = PatchPath::parse(s).unwrap_err();
            assert_eq!(e.scim_type, Some(ScimType::InvalidPath), "{s}");
        }
    }
}
