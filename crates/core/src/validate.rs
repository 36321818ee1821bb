//! Parsed newtypes for every name the directory stores. A value of one of these types has passed
//! its rule, so storage and HTTP never re-check. The rules quote the seeds they come from.

use crate::error::FieldError;
use serde::{Deserialize, Serialize};
use std::fmt;

macro_rules! string_newtype {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(transparent)]
        // The OpenAPI schema, with the bounds the parser enforces, is in `crate::schema`.
        pub struct $name(String);

        impl $name {
            pub fn as_str(&self) -> &str {
                &self.0
            }
            pub fn into_string(self) -> String {
                self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl AsRef<str> for $name {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }
    };
}

fn err(field: &str, rule: &str, message: impl Into<String>) -> FieldError {
    FieldError::new(field, rule, message)
}

fn check_len(field: &str, value: &str, min: usize, max: usize) -> Result<(), FieldError> {
    let n = value.chars().count();
    if n < min {
        return Err(err(
            field,
            "required",
            format!("must have at least {min} character(s)"),
        ));
    }
    if n > max {
        return Err(err(
            field,
            "max_length",
            format!("must have at most {max} characters"),
        ));
    }
    Ok(())
}

string_newtype!(
    /// An e-mail address, following seed 002 exactly: ASCII only, exactly one `@`, a local part
    /// of letters, digits and `_ + - . ! # $ ' % & * = ? ^ { }` that does not start with `.`.
    /// Stored as given; uniqueness compares it case-insensitively.
    Email
);

/// Characters seed 002 allows in the local part besides ASCII letters and digits.
const EMAIL_LOCAL_SYMBOLS: &str = "_+-.!#$'%&*=?^{}";

impl Email {
    pub const MAX_LEN: usize = 254;

    pub fn parse(field: &str, value: &str) -> Result<Self, FieldError> {
        let value = value.trim();
        check_len(field, value, 1, Self::MAX_LEN)?;
        if !value.is_ascii() {
            return Err(err(
                field,
                "email_ascii",
                "must contain ASCII characters only",
            ));
        }
        let mut parts = value.split('@');
        let (local, domain) = match (parts.next(), parts.next(), parts.next()) {
            (Some(l), Some(d), None) => (l, d),
            _ => return Err(err(field, "email_one_at", "must contain exactly one @")),
        };
        if local.is_empty() {
            return Err(err(
                field,
                "email_local_part",
                "must have a user name before the @",
            ));
        }
        if local.len() > 64 {
            return Err(err(
                field,
                "email_local_part",
                "user name before the @ must have at most 64 characters",
            ));
        }
        if local.starts_with('.') {
            return Err(err(field, "email_leading_dot", "must not start with ."));
        }
        if let Some(bad) = local
            .chars()
            .find(|c| !c.is_ascii_alphanumeric() && !EMAIL_LOCAL_SYMBOLS.contains(*c))
        {
            return Err(err(
                field,
                "email_local_part",
                format!("character {bad:?} is not allowed before the @ (letters, digits and _ + - . ! # $ ' % & * = ? ^ {{ }})"),
            ));
        }
        let labels: Vec<&str> = domain.split('.').collect();
        let domain_ok = labels.len() >= 2
            && labels.iter().all(|l| {
                !l.is_empty()
                    && l.len() <= 63
                    && !l.starts_with('-')
                    && !l.ends_with('-')
                    && l.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
            });
        if !domain_ok {
            return Err(err(
                field,
                "email_domain",
                "must have a domain such as example.com after the @",
            ));
        }
        Ok(Email(value.to_string()))
    }

    /// The key uniqueness is enforced on (case-insensitive, as the issue requires).
    pub fn key(&self) -> String {
        self.0.to_ascii_lowercase()
    }

    /// The part after the `@` (the Adobe Admin Console's "Domain" column derives from it).
    pub fn domain(&self) -> &str {
        self.0.rsplit_once('@').map_or("", |(_, d)| d)
    }
}

string_newtype!(
    /// A role name, under the naming rule of the role's application ([`RoleNaming`]).
    RoleName
);

/// How an application names its roles; its catalogue entry says which (`role_names`). The
/// rule belongs to the application: seed 002's system allows letters, digits, `-`, `_` and `.`
/// only, while Magento names roles with spaces and the cloud console writes "Project Admin".
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum RoleNaming {
    /// Any printable text: trimmed, 1 to 64 characters, no control or bidirectional-override
    /// characters (which could make one name display as another).
    #[default]
    Printable,
    /// Seed 002: letters, digits, `-`, `_` and `.`, not starting with `_` or `.`.
    Identifier,
}

/// Characters that reorder text when displayed (Unicode bidi embeddings, overrides, isolates
/// and marks): refused in names so "Admin" cannot be made to look like another role.
fn is_bidi_control(c: char) -> bool {
    matches!(
        c,
        '\u{061C}' | '\u{200E}' | '\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}'
    )
}

impl RoleName {
    pub const MAX_LEN: usize = 64;

    /// Parses `value` under `naming`. Uniqueness (per application, ignoring case) is the
    /// store's unique index on the lower-cased name.
    pub fn parse(field: &str, value: &str, naming: RoleNaming) -> Result<Self, FieldError> {
        match naming {
            RoleNaming::Identifier => Self::identifier(field, value),
            RoleNaming::Printable => {
                let value = value.trim();
                check_len(field, value, 1, Self::MAX_LEN)?;
                if value.chars().any(|c| c.is_control() || is_bidi_control(c)) {
                    return Err(err(
                        field,
                        "role_name_printable",
                        "must not contain control or bidirectional-override characters",
                    ));
                }
                Ok(RoleName(value.to_string()))
            }
        }
    }

    fn identifier(field: &str, value: &str) -> Result<Self, FieldError> {
        check_len(field, value, 1, Self::MAX_LEN)?;
        if value.starts_with('_') || value.starts_with('.') {
            return Err(err(
                field,
                "role_name_leading",
                "must not start with _ or .",
            ));
        }
        if let Some(bad) = value
            .chars()
            .find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.')))
        {
            return Err(err(
                field,
                "role_name_syntax",
                format!("character {bad:?} is not allowed (letters, digits, -, _ and . only)"),
            ));
        }
        Ok(RoleName(value.to_string()))
    }
}

string_newtype!(
    /// A sign-in name, unique per organization ignoring case. It defaults to the e-mail address
    /// (seed 002 asks for the e-mail alone), so it holds any address (254 characters) and SCIM
    /// `userName`s up to 256; Magento's 40-character `admin_user.username` fits too.
    Username
);

impl Username {
    pub const MAX_LEN: usize = 256;

    pub fn parse(field: &str, value: &str) -> Result<Self, FieldError> {
        check_len(field, value, 1, Self::MAX_LEN)?;
        // Every character an e-mail may contain is allowed, because the username defaults to it.
        if let Some(bad) = value.chars().find(|c| {
            !(c.is_alphanumeric() || c.is_ascii_punctuation()) || "\"/\\<>(),;:[]`|~".contains(*c)
        }) {
            return Err(err(
                field,
                "username_syntax",
                format!("character {bad:?} is not allowed (letters, digits and the symbols an e-mail address may hold)"),
            ));
        }
        Ok(Username(value.to_string()))
    }

    pub fn key(&self) -> String {
        self.0.to_lowercase()
    }
}

string_newtype!(
    /// A person's first or last name: free text without control characters.
    PersonName
);

impl PersonName {
    pub const MAX_LEN: usize = 64;

    pub fn parse(field: &str, value: &str) -> Result<Self, FieldError> {
        let value = value.trim();
        check_len(field, value, 0, Self::MAX_LEN)?;
        no_control(field, value)?;
        Ok(PersonName(value.to_string()))
    }
}

string_newtype!(
    /// A display name for a group or organization: 1 to 100 characters of free text.
    DisplayName
);

impl DisplayName {
    pub const MAX_LEN: usize = 100;

    pub fn parse(field: &str, value: &str) -> Result<Self, FieldError> {
        let value = value.trim();
        check_len(field, value, 1, Self::MAX_LEN)?;
        no_control(field, value)?;
        Ok(DisplayName(value.to_string()))
    }
}

string_newtype!(
    /// Free-text description (roles, groups): up to 1000 characters.
    Description
);

impl Description {
    pub const MAX_LEN: usize = 1000;

    pub fn parse(field: &str, value: &str) -> Result<Self, FieldError> {
        check_len(field, value, 0, Self::MAX_LEN)?;
        no_control_but(field, value, &['\n', '\t'])?;
        Ok(Description(value.to_string()))
    }
}

string_newtype!(
    /// An identifier used in URLs: organization slugs, application keys. Lower-case letters,
    /// digits and `-`, starting with a letter or digit.
    Slug
);

impl Slug {
    pub const MAX_LEN: usize = 63;

    pub fn parse(field: &str, value: &str) -> Result<Self, FieldError> {
        check_len(field, value, 1, Self::MAX_LEN)?;
        let first_ok = value
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_lowercase() || c.is_ascii_digit());
        if !first_ok
            || !value
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        {
            return Err(err(
                field,
                "slug_syntax",
                "must be lower-case letters, digits and -, starting with a letter or digit",
            ));
        }
        Ok(Slug(value.to_string()))
    }
}

string_newtype!(
    /// A scope code (website, store view, environment), as Magento's store codes: lower-case
    /// letters, digits and `_` or `-`, starting with a letter or digit.
    ScopeCode
);

impl ScopeCode {
    pub const MAX_LEN: usize = 64;

    pub fn parse(field: &str, value: &str) -> Result<Self, FieldError> {
        check_len(field, value, 1, Self::MAX_LEN)?;
        let first_ok = value
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_lowercase() || c.is_ascii_digit());
        if !first_ok
            || !value
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == '-')
        {
            return Err(err(
                field,
                "scope_code_syntax",
                "must be lower-case letters, digits, _ and -, starting with a letter or digit",
            ));
        }
        Ok(ScopeCode(value.to_string()))
    }
}

string_newtype!(
    /// An interface locale such as `en_US` (Magento's `interface_locale`).
    Locale
);

impl Locale {
    /// Accepts Magento's `en_US` and the BCP 47 `en-US` identity providers send (SCIM
    /// `locale`), with any letter case, and stores Magento's spelling.
    pub fn parse(field: &str, value: &str) -> Result<Self, FieldError> {
        let normalised = match value.split_once(['_', '-']) {
            Some((lang, region)) => format!(
                "{}_{}",
                lang.to_ascii_lowercase(),
                region.to_ascii_uppercase()
            ),
            None => value.to_ascii_lowercase(),
        };
        let value = normalised.as_str();
        let bytes = value.as_bytes();
        let lang_ok =
            |s: &[u8]| (2..=3).contains(&s.len()) && s.iter().all(|b| b.is_ascii_lowercase());
        let ok = match value.split_once('_') {
            None => lang_ok(bytes),
            Some((lang, region)) => {
                lang_ok(lang.as_bytes())
                    && region.len() == 2
                    && region.bytes().all(|b| b.is_ascii_uppercase())
            }
        };
        if !ok {
            return Err(err(
                field,
                "locale_syntax",
                "must be a locale such as en_US or fr",
            ));
        }
        Ok(Locale(value.to_string()))
    }

    /// The BCP 47 spelling (`en-US`), as SCIM publishes it.
    pub fn bcp47(&self) -> String {
        self.0.replace('_', "-")
    }
}

impl Default for Locale {
    fn default() -> Self {
        Locale("en_US".to_string())
    }
}

string_newtype!(
    /// A free-text attribute an identity provider carries about a person (display name, title,
    /// department, address lines, phone numbers, …): 1 to 256 characters, trimmed, no control
    /// characters. An empty value means "not set" and is `None` where the attribute is held.
    AttributeText
);

impl AttributeText {
    pub const MAX_LEN: usize = 256;

    pub fn parse(field: &str, value: &str) -> Result<Self, FieldError> {
        let value = value.trim();
        check_len(field, value, 1, Self::MAX_LEN)?;
        no_control(field, value)?;
        Ok(AttributeText(value.to_string()))
    }

    /// `None` for an empty (or blank) value: how clients unset an attribute in a form.
    pub fn parse_optional(field: &str, value: &str) -> Result<Option<Self>, FieldError> {
        if value.trim().is_empty() {
            Ok(None)
        } else {
            Self::parse(field, value).map(Some)
        }
    }
}

string_newtype!(
    /// The identifier a provisioning client (SCIM `externalId`) or an import gives a user or
    /// group: compared exactly, 1 to 256 characters without control characters or surrounding
    /// spaces.
    ExternalId
);

impl ExternalId {
    pub const MAX_LEN: usize = 256;

    pub fn parse(field: &str, value: &str) -> Result<Self, FieldError> {
        check_len(field, value, 1, Self::MAX_LEN)?;
        no_control(field, value)?;
        if value.trim() != value {
            return Err(err(
                field,
                "no_surrounding_space",
                "must not start or end with a space",
            ));
        }
        Ok(ExternalId(value.to_string()))
    }
}

/// ISO 3166-1 alpha-2 codes assigned as of 2024 (249 countries and territories).
const ISO_3166_ALPHA2: &str = "AD AE AF AG AI AL AM AO AQ AR AS AT AU AW AX AZ BA BB BD BE BF BG BH BI BJ BL BM BN BO BQ BR BS BT BV BW BY BZ CA CC CD CF CG CH CI CK CL CM CN CO CR CU CV CW CX CY CZ DE DJ DK DM DO DZ EC EE EG EH ER ES ET FI FJ FK FM FO FR GA GB GD GE GF GG GH GI GL GM GN GP GQ GR GS GT GU GW GY HK HM HN HR HT HU ID IE IL IM IN IO IQ IR IS IT JE JM JO JP KE KG KH KI KM KN KP KR KW KY KZ LA LB LC LI LK LR LS LT LU LV LY MA MC MD ME MF MG MH MK ML MM MN MO MP MQ MR MS MT MU MV MW MX MY MZ NA NC NE NF NG NI NL NO NP NR NU NZ OM PA PE PF PG PH PK PL PM PN PR PS PT PW PY QA RE RO RS RU RW SA SB SC SD SE SG SH SI SJ SK SL SM SN SO SR SS ST SV SX SY SZ TC TD TF TG TH TJ TK TL TM TN TO TR TT TV TW TZ UA UG UM US UY UZ VA VC VE VG VI VN VU WF WS YE YT ZA ZM ZW";

string_newtype!(
    /// A country as an ISO 3166-1 alpha-2 code (`US`, `DE`), the Adobe Admin Console template's
    /// "Country Code". Stored upper-case; any case is accepted.
    CountryCode
);

impl CountryCode {
    pub fn parse(field: &str, value: &str) -> Result<Self, FieldError> {
        let code = value.trim().to_ascii_uppercase();
        let known = code.len() == 2
            && code.bytes().all(|b| b.is_ascii_uppercase())
            && ISO_3166_ALPHA2.split(' ').any(|c| c == code);
        if !known {
            return Err(err(
                field,
                "country_code",
                "must be an ISO 3166-1 alpha-2 country code such as US or DE",
            ));
        }
        Ok(CountryCode(code))
    }
}

string_newtype!(
    /// A time zone name from the IANA database (`Europe/Berlin`, `America/Argentina/Cordoba`,
    /// `UTC`), as SCIM's `timezone` carries it: ASCII letters, digits, `_`, `-`, `+` in
    /// `/`-separated parts, at most 64 characters.
    Timezone
);

impl Timezone {
    pub fn parse(field: &str, value: &str) -> Result<Self, FieldError> {
        let value = value.trim();
        check_len(field, value, 1, 64)?;
        let ok = value.split('/').all(|part| {
            part.chars().next().is_some_and(|c| c.is_ascii_alphabetic())
                && part
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '+'))
        });
        if !ok {
            return Err(err(
                field,
                "timezone_syntax",
                "must be an IANA time zone name such as Europe/Berlin",
            ));
        }
        Ok(Timezone(value.to_string()))
    }
}

string_newtype!(
    /// Preferred languages as an HTTP `Accept-Language` value (RFC 7231 §5.3.5, which SCIM's
    /// `preferredLanguage` refers to), e.g. `en-US` or `da, en-gb;q=0.8`: printable ASCII,
    /// at most 64 characters.
    LanguageTag
);

impl LanguageTag {
    pub fn parse(field: &str, value: &str) -> Result<Self, FieldError> {
        let value = value.trim();
        check_len(field, value, 1, 64)?;
        if let Some(bad) = value.chars().find(|c| {
            !(c.is_ascii_alphanumeric() || matches!(c, '-' | ',' | ';' | '=' | '.' | ' ' | '*'))
        }) {
            return Err(err(
                field,
                "language_syntax",
                format!("character {bad:?} is not allowed (a language such as en-US, or an Accept-Language list)"),
            ));
        }
        Ok(LanguageTag(value.to_string()))
    }
}

/// Characters that reorder or hide text when displayed (issue 9 item 15: U+202E made a name
/// read backwards in admin lists): the bidirectional embeddings, overrides, isolates and marks,
/// and the line and paragraph separators.
fn is_display_control(c: char) -> bool {
    matches!(c,
        '\u{061C}' | '\u{200E}' | '\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}'
        | '\u{2028}' | '\u{2029}')
}

fn no_control(field: &str, value: &str) -> Result<(), FieldError> {
    no_control_but(field, value, &[])
}

/// Refuses control characters (except those `allowed`) and bidirectional controls.
fn no_control_but(field: &str, value: &str, allowed: &[char]) -> Result<(), FieldError> {
    if value
        .chars()
        .any(|c| c.is_control() && !allowed.contains(&c))
    {
        return Err(err(
            field,
            "no_control_characters",
            "must not contain control characters",
        ));
    }
    if let Some(c) = value.chars().find(|c| is_display_control(*c)) {
        return Err(err(
            field,
            "no_bidi_controls",
            format!(
                "must not contain U+{:04X}, which changes how text around it is displayed",
                u32::from(c)
            ),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    #[test]
    fn names_refuse_characters_that_reorder_text() {
        for bad in [
            "evil\u{202E}gnp.exe",
            "a\u{2066}b",
            "x\u{200F}",
            "line\u{2028}break",
        ] {
            assert_eq!(
                PersonName::parse("first_name", bad).unwrap_err().rule,
                "no_bidi_controls",
                "{bad:?}"
            );
            assert_eq!(
                DisplayName::parse("name", bad).unwrap_err().rule,
                "no_bidi_controls"
            );
            assert_eq!(
                Description::parse("description", bad).unwrap_err().rule,
                "no_bidi_controls"
            );
            assert!(Username::parse("username", bad).is_err());
        }
        // Scripts written right to left are names like any other.
        assert!(PersonName::parse("first_name", "\u{05D3}\u{05E0}\u{05D4}").is_ok());
        assert!(Description::parse("description", "two\nlines\tand a tab").is_ok());
    }

    use super::*;

    #[test]
    fn email_accepts_every_symbol_seed_002_allows() {
        for ok in [
            "jane@example.com",
            "jane.doe@example.com",
            "j_a+n-e.d!o#e$f'g%h&i*j=k?l^m{n}o@shop.example.co.uk",
            "1234@example.com",
            "UPPER@Example.COM",
            "a@b.io",
        ] {
            assert!(Email::parse("email", ok).is_ok(), "{ok} should be valid");
        }
    }

    #[test]
    fn email_rejects_what_seed_002_forbids() {
        let cases = [
            ("jané@example.com", "email_ascii"),
            ("jane@@example.com", "email_one_at"),
            ("jane@example@com", "email_one_at"),
            ("jane.example.com", "email_one_at"),
            (".jane@example.com", "email_leading_dot"),
            ("ja ne@example.com", "email_local_part"),
            ("ja(ne)@example.com", "email_local_part"),
            ("ja\"ne@example.com", "email_local_part"),
            ("jane/doe@example.com", "email_local_part"),
            ("ja,ne@example.com", "email_local_part"),
            ("@example.com", "email_local_part"),
            ("jane@", "email_domain"),
            ("jane@localhost", "email_domain"),
            ("jane@exa_mple.com", "email_domain"),
            ("jane@-example.com", "email_domain"),
            ("jane@example..com", "email_domain"),
            ("", "required"),
        ];
        for (input, rule) in cases {
            let e = Email::parse("email", input).expect_err(input);
            assert_eq!(e.rule, rule, "{input}");
            assert_eq!(e.field, "email");
        }
        let long = format!("{}@example.com", "a".repeat(250));
        assert_eq!(Email::parse("email", &long).unwrap_err().rule, "max_length");
    }

    #[test]
    fn email_key_ignores_case() {
        let a = Email::parse("email", "Jane@Example.com").unwrap();
        let b = Email::parse("email", "jane@example.COM").unwrap();
        assert_eq!(a.key(), b.key());
    }

    #[test]
    fn identifier_role_names_follow_seed_002() {
        let parse = |v: &str| RoleName::parse("name", v, RoleNaming::Identifier);
        for ok in ["PR", "Content-Editors", "sales_team", "v1.2", "9lives", "a"] {
            assert!(parse(ok).is_ok(), "{ok}");
        }
        let cases = [
            ("_hidden", "role_name_leading"),
            (".dot", "role_name_leading"),
            ("Public Relations", "role_name_syntax"),
            ("pr/team", "role_name_syntax"),
            ("café", "role_name_syntax"),
            ("", "required"),
        ];
        for (input, rule) in cases {
            assert_eq!(parse(input).unwrap_err().rule, rule, "{input}");
        }
        assert_eq!(parse(&"r".repeat(65)).unwrap_err().rule, "max_length");
    }

    #[test]
    fn printable_role_names_allow_what_magento_and_the_cloud_console_write() {
        let parse = |v: &str| RoleName::parse("name", v, RoleNaming::Printable);
        for ok in [
            "Project Admin",
            "Store Managers (EU)",
            "Ventes & Après-vente",
            "_x",
            "a",
        ] {
            assert_eq!(parse(ok).unwrap().as_str(), ok);
        }
        assert_eq!(
            parse("  Project Admin \t").unwrap().as_str(),
            "Project Admin"
        );
        let cases = [
            ("", "required"),
            ("   ", "required"),
            ("Sales\nTeam", "role_name_printable"),
            ("Sales\u{7}", "role_name_printable"),
            ("Admin\u{202E}nimdA", "role_name_printable"),
            ("\u{2066}Admin", "role_name_printable"),
        ];
        for (input, rule) in cases {
            assert_eq!(parse(input).unwrap_err().rule, rule, "{input:?}");
        }
        assert_eq!(parse(&"é".repeat(64)).unwrap().as_str().chars().count(), 64);
        assert_eq!(parse(&"é".repeat(65)).unwrap_err().rule, "max_length");
    }

    #[test]
    fn username_rules() {
        assert!(Username::parse("username", "jane.doe").is_ok());
        // Issue 10: an address over 40 characters is a valid username, as is any e-mail.
        let long = "firstname.lastname.department@subsidiary.example.com";
        assert!(long.len() > 40);
        assert!(Username::parse("username", long).is_ok());
        let longest = format!("{}@{}.example.com", "a".repeat(64), "b".repeat(63));
        let email = Email::parse("email", &longest).unwrap();
        assert!(Username::parse("username", email.as_str()).is_ok());
        assert!(Username::parse("username", "jane@example.com").is_ok());
        assert!(Username::parse("username", "zed_100%{x}@example.com").is_ok());
        assert_eq!(
            Username::parse("username", "jane doe").unwrap_err().rule,
            "username_syntax"
        );
        assert_eq!(
            Username::parse("username", "jane/doe").unwrap_err().rule,
            "username_syntax"
        );
        assert_eq!(
            Username::parse("username", &"u".repeat(257))
                .unwrap_err()
                .rule,
            "max_length"
        );
        assert_eq!(
            Username::parse("username", "Jane").unwrap().key(),
            Username::parse("username", "jANE").unwrap().key()
        );
    }

    #[test]
    fn other_names() {
        assert!(Slug::parse("slug", "acme-shop").is_ok());
        assert_eq!(Slug::parse("slug", "Acme").unwrap_err().rule, "slug_syntax");
        assert_eq!(
            Slug::parse("slug", "-acme").unwrap_err().rule,
            "slug_syntax"
        );
        assert!(ScopeCode::parse("code", "main_website_store").is_ok());
        assert_eq!(
            ScopeCode::parse("code", "Main").unwrap_err().rule,
            "scope_code_syntax"
        );
        assert!(Locale::parse("locale", "en_US").is_ok());
        assert!(Locale::parse("locale", "fr").is_ok());
        assert_eq!(Locale::parse("locale", "en-us").unwrap().as_str(), "en_US");
        assert_eq!(Locale::parse("locale", "en_US").unwrap().bcp47(), "en-US");
        assert_eq!(
            Locale::parse("locale", "english").unwrap_err().rule,
            "locale_syntax"
        );
        assert_eq!(
            DisplayName::parse("name", "  ").unwrap_err().rule,
            "required"
        );
        assert_eq!(
            PersonName::parse("first_name", "a\u{7}b").unwrap_err().rule,
            "no_control_characters"
        );
        assert_eq!(
            PersonName::parse("first_name", &"x".repeat(65))
                .unwrap_err()
                .rule,
            "max_length"
        );
        assert!(Description::parse("description", "line one\nline two").is_ok());
    }

    #[test]
    fn usernames_hold_identity_provider_names_up_to_256_characters() {
        let upn = format!(
            "{}@subsidiary.example.com",
            "firstname.lastname.department".repeat(7)
        );
        assert!(upn.len() > 200 && upn.len() <= 256);
        assert!(Username::parse("userName", &upn).is_ok());
    }

    #[test]
    fn profile_attributes() {
        assert_eq!(
            AttributeText::parse("title", "  Vice President ")
                .unwrap()
                .as_str(),
            "Vice President"
        );
        assert_eq!(AttributeText::parse_optional("title", " ").unwrap(), None);
        assert_eq!(
            AttributeText::parse("title", &"t".repeat(257))
                .unwrap_err()
                .rule,
            "max_length"
        );
        assert_eq!(
            AttributeText::parse("title", "a\u{1b}b").unwrap_err().rule,
            "no_control_characters"
        );
        assert!(ExternalId::parse("externalId", "00ujl29u0le5T6Aj10h7").is_ok());
        assert_eq!(
            ExternalId::parse("externalId", " x").unwrap_err().rule,
            "no_surrounding_space"
        );
        assert_eq!(
            CountryCode::parse("country_code", "de").unwrap().as_str(),
            "DE"
        );
        for bad in ["XX", "D", "DEU", "1A", ""] {
            assert_eq!(
                CountryCode::parse("country_code", bad).unwrap_err().rule,
                "country_code",
                "{bad}"
            );
        }
        for ok in [
            "Europe/Berlin",
            "America/Argentina/Cordoba",
            "UTC",
            "Etc/GMT+5",
        ] {
            assert!(Timezone::parse("timezone", ok).is_ok(), "{ok}");
        }
        assert_eq!(
            Timezone::parse("timezone", "Europe/../x").unwrap_err().rule,
            "timezone_syntax"
        );
        assert!(LanguageTag::parse("preferred_language", "da, en-gb;q=0.8, en;q=0.7").is_ok());
        assert_eq!(
            LanguageTag::parse("preferred_language", "en<script>")
                .unwrap_err()
                .rule,
            "language_syntax"
        );
        assert_eq!(
            Email::parse("email", "a.b@shop.example.com")
                .unwrap()
                .domain(),
            "shop.example.com"
        );
    }
}
