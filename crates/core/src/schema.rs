//! The OpenAPI schemas of the parsed newtypes of [`crate::validate`]: the same bounds and
//! syntax their parsers enforce, so generated clients and API testers see the rules the server
//! applies. Lengths come from the types' own `MAX_LEN`, so a rule changed there changes here.
//!
//! Patterns are ECMA-262 regular expressions (what JSON Schema 2020-12 prescribes) that the
//! Rust `regex` crate reads the same way; the server's contract tests validate every response
//! against them.

use crate::validate::{
    AttributeText, CountryCode, Description, DisplayName, Email, ExternalId, LanguageTag, Locale,
    PersonName, RoleName, ScopeCode, Slug, Timezone, Username,
};
use std::borrow::Cow;
use utoipa::openapi::schema::{KnownFormat, ObjectBuilder, SchemaFormat, Type};
use utoipa::openapi::{RefOr, Schema};

/// Seed 002's e-mail syntax: a local part of letters, digits and `_ + - . ! # $ ' % & * = ? ^
/// { }` not starting with `.`, at most 64 characters; a domain of at least two labels of
/// letters, digits and inner `-`, each at most 63 characters.
pub const EMAIL_PATTERN: &str = r"^[A-Za-z0-9_+!#$'%&*=?^{}-][A-Za-z0-9_+.!#$'%&*=?^{}-]{0,63}@[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)+$";
/// Letters and digits of any script, and the symbols an e-mail address may hold.
pub const USERNAME_PATTERN: &str = r"^[\p{Alphabetic}\p{N}!#$%&'*+.=?@^_{}-]+$";
/// Free text without control characters.
pub const NO_CONTROL_PATTERN: &str = r"^\P{Cc}*$";
/// Free text without control characters other than tab and line feed.
pub const DESCRIPTION_PATTERN: &str = r"^[^\u0000-\u0008\u000B-\u001F\u007F-\u009F]*$";
pub const SLUG_PATTERN: &str = r"^[a-z0-9][a-z0-9-]*$";
pub const SCOPE_CODE_PATTERN: &str = r"^[a-z0-9][a-z0-9_-]*$";
/// Magento's `en_US` or BCP 47's `en-US`, any letter case (stored as `en_US`).
pub const LOCALE_PATTERN: &str = r"^[A-Za-z]{2,3}([_-][A-Za-z]{2})?$";
/// ISO 3166-1 alpha-2, any case on input (stored upper-case).
pub const COUNTRY_CODE_PATTERN: &str = r"^[A-Za-z]{2}$";
/// IANA time zone names: `/`-separated parts of ASCII letters, digits, `_`, `-`, `+`.
pub const TIMEZONE_PATTERN: &str = r"^[A-Za-z][A-Za-z0-9_+-]*(/[A-Za-z][A-Za-z0-9_+-]*)*$";
/// An `Accept-Language` value: language tags, commas, weights.
pub const LANGUAGE_PATTERN: &str = r"^[A-Za-z0-9,;=. *-]+$";

/// A string schema with the given bounds.
fn text(
    description: &str,
    min: usize,
    max: Option<usize>,
    pattern: Option<&str>,
    format: Option<KnownFormat>,
) -> RefOr<Schema> {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .description(Some(description))
        .min_length((min > 0).then_some(min))
        .max_length(max)
        .pattern(pattern)
        .format(format.map(SchemaFormat::KnownFormat))
        .into()
}

macro_rules! schema {
    ($name:ident, $body:expr) => {
        impl utoipa::PartialSchema for $name {
            fn schema() -> RefOr<Schema> {
                $body
            }
        }
        impl utoipa::ToSchema for $name {
            fn name() -> Cow<'static, str> {
                Cow::Borrowed(stringify!($name))
            }
        }
    };
}

schema!(
    Email,
    text(
        "An e-mail address as seed 002 defines it (ASCII only, exactly one @). Stored as given; unique per organization ignoring case.",
        3,
        Some(Email::MAX_LEN),
        Some(EMAIL_PATTERN),
        Some(KnownFormat::Email),
    )
);
schema!(
    Username,
    text(
        "A sign-in name, unique per organization ignoring case: letters, digits and the symbols an e-mail address may hold.",
        1,
        Some(Username::MAX_LEN),
        Some(USERNAME_PATTERN),
        None,
    )
);
schema!(
    RoleName,
    text(
        "A role name, unique in its application. Its syntax is the application's (see the catalogue).",
        1,
        Some(RoleName::MAX_LEN),
        None,
        None,
    )
);
schema!(
    PersonName,
    text(
        "A first or last name: free text without control characters (trimmed).",
        0,
        Some(PersonName::MAX_LEN),
        Some(NO_CONTROL_PATTERN),
        None,
    )
);
schema!(
    DisplayName,
    text(
        "A display name: free text without control characters (trimmed).",
        1,
        Some(DisplayName::MAX_LEN),
        Some(NO_CONTROL_PATTERN),
        None,
    )
);
schema!(
    Description,
    text(
        "Free text; tabs and line breaks are the only control characters allowed.",
        0,
        Some(Description::MAX_LEN),
        Some(DESCRIPTION_PATTERN),
        None,
    )
);
schema!(
    Slug,
    text(
        "An identifier used in URLs: lower-case letters, digits and -, starting with a letter or digit.",
        1,
        Some(Slug::MAX_LEN),
        Some(SLUG_PATTERN),
        None,
    )
);
schema!(
    ScopeCode,
    text(
        "A scope code (website, store view, environment): lower-case letters, digits, _ and -, starting with a letter or digit.",
        1,
        Some(ScopeCode::MAX_LEN),
        Some(SCOPE_CODE_PATTERN),
        None,
    )
);
schema!(
    Locale,
    text(
        "An interface locale such as en_US or fr.",
        2,
        Some(6),
        Some(LOCALE_PATTERN),
        None,
    )
);

schema!(
    AttributeText,
    text(
        "A free-text attribute an identity provider carries (title, department, address line, …): no control characters, trimmed.",
        1,
        Some(AttributeText::MAX_LEN),
        Some(NO_CONTROL_PATTERN),
        None,
    )
);
schema!(
    ExternalId,
    text(
        "The identifier a provisioning client gives a user or group: compared exactly; no control characters and no surrounding spaces.",
        1,
        Some(ExternalId::MAX_LEN),
        Some(NO_CONTROL_PATTERN),
        None,
    )
);
schema!(
    CountryCode,
    text(
        "An ISO 3166-1 alpha-2 country code such as US or DE (stored upper-case).",
        2,
        Some(2),
        Some(COUNTRY_CODE_PATTERN),
        None,
    )
);
schema!(
    Timezone,
    text(
        "An IANA time zone name such as Europe/Berlin.",
        1,
        Some(64),
        Some(TIMEZONE_PATTERN),
        None,
    )
);
schema!(
    LanguageTag,
    text(
        "Preferred languages as an Accept-Language value, e.g. en-US or `da, en-gb;q=0.8`.",
        1,
        Some(64),
        Some(LANGUAGE_PATTERN),
        None,
    )
);
