//! Password policy: the per-organisation rules a new password must meet, and when a password
//! expires. Pure: no hashing here (that is `rolecall::credentials`), and time is passed in.
//!
//! The default follows NIST SP 800-63B: length is what counts (12 to 256 characters, never
//! truncated, any Unicode accepted), there are no composition rules, and known or guessable
//! passwords are refused. The optional rules (character classes, lifetime, history) mirror
//! Magento's admin settings so an imported shop keeps what it enforced.

use crate::error::FieldError;
use serde::{Deserialize, Serialize};

const FIELD: &str = "password";
const MS_PER_DAY: i64 = 86_400_000;
/// Identities shorter than this ("al", "x") would reject too many good passwords.
const MIN_IDENTITY_CHARS: usize = 3;

/// One organisation's password rules. Missing fields take the NIST default, so a stored policy
/// written by an older version still reads.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PasswordPolicy {
    /// Fewest characters (Unicode scalar values, not bytes).
    pub min_length: u32,
    /// Most characters; NIST requires at least 64 to be allowed. Longer input is refused,
    /// never silently truncated.
    pub max_length: u32,
    /// Refuse passwords that a guessing attack would find early (zxcvbn score below 3, which
    /// covers common-password and dictionary lists).
    pub reject_common: bool,
    /// The character classes a password must contain: a list of classes that must each appear
    /// (`["lower", "upper", "digit"]` is Magento's default "mixed case and numbers"), or, as
    /// stored by earlier versions, a count of how many of the four must appear. NIST advises
    /// none (`[]`).
    pub required_classes: RequiredClasses,
    /// Forced change after this many days; `None` never expires (NIST's advice).
    pub lifetime_days: Option<u32>,
    /// How many previous passwords may not be reused; 0 disables the check.
    pub history: u32,
}

impl Default for PasswordPolicy {
    fn default() -> Self {
        Self {
            min_length: 12,
            max_length: 256,
            reject_common: true,
            required_classes: RequiredClasses::default(),
            lifetime_days: None,
            history: 0,
        }
    }
}

/// A class of characters a password policy can require.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum CharClass {
    /// A lower-case letter.
    Lower,
    /// An upper-case letter.
    Upper,
    /// A digit (any script's).
    Digit,
    /// Anything else that is not a letter, digit or space.
    Symbol,
}

impl CharClass {
    fn describe(self) -> &'static str {
        match self {
            CharClass::Lower => "a lower-case letter",
            CharClass::Upper => "an upper-case letter",
            CharClass::Digit => "a digit",
            CharClass::Symbol => "a symbol",
        }
    }

    fn noun(self) -> &'static str {
        match self {
            CharClass::Lower => "lower-case letter",
            CharClass::Upper => "upper-case letter",
            CharClass::Digit => "digit",
            CharClass::Symbol => "symbol",
        }
    }
}

/// Which character classes a password needs. Untagged so that the count earlier versions
/// stored (`"required_classes": 3`) still reads, with its meaning kept.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum RequiredClasses {
    /// Every class listed must appear.
    Named(Vec<CharClass>),
    /// At least this many of the four classes must appear (0 to 4).
    Count(u8),
}

impl Default for RequiredClasses {
    fn default() -> Self {
        RequiredClasses::Named(Vec::new())
    }
}

impl From<Vec<CharClass>> for RequiredClasses {
    fn from(v: Vec<CharClass>) -> Self {
        RequiredClasses::Named(v)
    }
}

impl RequiredClasses {
    /// Magento's admin default: "mixed case and numbers".
    pub fn magento() -> RequiredClasses {
        RequiredClasses::Named(vec![CharClass::Lower, CharClass::Upper, CharClass::Digit])
    }

    fn is_none(&self) -> bool {
        matches!(self, RequiredClasses::Named(v) if v.is_empty())
            || matches!(self, RequiredClasses::Count(0))
    }
}

impl PasswordPolicy {
    pub const MIN_LENGTH_FLOOR: u32 = 8;
    pub const MAX_LENGTH_RANGE: (u32, u32) = (64, 1024);
    pub const MAX_HISTORY: u32 = 24;
    pub const MAX_LIFETIME_DAYS: u32 = 3650;

    /// Checks a candidate password for the account `username` / `email`. Every broken rule is
    /// reported, so the user fixes them in one go.
    pub fn check(
        &self,
        password: &str,
        username: &str,
        email: &str,
    ) -> Result<(), Vec<FieldError>> {
        let mut problems = Vec::new();
        let chars = password.chars().count();
        if chars < self.min_length as usize {
            problems.push(FieldError::new(
                FIELD,
                "min_length",
                format!("must have at least {} characters", self.min_length),
            ));
        }
        if chars > self.max_length as usize {
            problems.push(FieldError::new(
                FIELD,
                "max_length",
                format!("must have at most {} characters", self.max_length),
            ));
        }

        let local_part = email.rsplit_once('@').map_or(email, |(local, _)| local);
        let lowered = password.to_lowercase();
        let contains_identity = [username, local_part].iter().any(|id| {
            let id = id.trim();
            id.chars().count() >= MIN_IDENTITY_CHARS && lowered.contains(&id.to_lowercase())
        });
        if contains_identity {
            problems.push(FieldError::new(
                FIELD,
                "contains_identity",
                "must not contain the username or the e-mail address",
            ));
        }

        // Skipped for an empty password: min_length already says everything.
        if self.reject_common && !password.is_empty() {
            let estimate = zxcvbn::zxcvbn(password, &[username, email, local_part]);
            if estimate.score() < zxcvbn::Score::Three {
                let mut message = String::from("is too easy to guess");
                if let Some(warning) = estimate.feedback().and_then(|f| f.warning()) {
                    message.push_str(": ");
                    message.push_str(&warning.to_string().to_lowercase());
                } else {
                    message.push('.');
                }
                message.push_str(" A few unrelated words make a strong password.");
                problems.push(FieldError::new(FIELD, "common_password", message));
            }
        }

        if !self.required_classes.is_none() {
            let found = character_classes(password);
            match &self.required_classes {
                RequiredClasses::Count(n) if found.len() < usize::from(*n) => {
                    problems.push(FieldError::new(
                        FIELD,
                        "character_classes",
                        format!(
                            "must contain at least {n} of: lower-case letters, upper-case letters, \
                             digits, symbols"
                        ),
                    ));
                }
                RequiredClasses::Named(required) => {
                    let missing: Vec<&str> = required
                        .iter()
                        .filter(|c| !found.contains(c))
                        .map(|c| c.noun())
                        .collect();
                    if !missing.is_empty() {
                        let all: Vec<&str> = required.iter().map(|c| c.describe()).collect();
                        problems.push(FieldError::new(
                            FIELD,
                            "character_classes",
                            format!(
                                "must contain {}; it has no {}",
                                all.join(", "),
                                missing.join(", ")
                            ),
                        ));
                    }
                }
                RequiredClasses::Count(_) => {}
            }
        }

        if problems.is_empty() {
            Ok(())
        } else {
            Err(problems)
        }
    }

    /// Checks the policy itself before an administrator saves it: it may not drop below the
    /// NIST floor nor make passwords impossible to choose.
    pub fn validate(&self) -> Result<(), Vec<FieldError>> {
        let mut problems = Vec::new();
        let (max_lo, max_hi) = Self::MAX_LENGTH_RANGE;
        if !(max_lo..=max_hi).contains(&self.max_length) {
            problems.push(FieldError::new(
                "password_policy.max_length",
                "range",
                format!("must be between {max_lo} and {max_hi}"),
            ));
        }
        let min_hi = self.max_length.clamp(max_lo, max_hi);
        if !(Self::MIN_LENGTH_FLOOR..=min_hi).contains(&self.min_length) {
            problems.push(FieldError::new(
                "password_policy.min_length",
                "range",
                format!(
                    "must be between {} and max_length ({min_hi})",
                    Self::MIN_LENGTH_FLOOR
                ),
            ));
        }
        match &self.required_classes {
            RequiredClasses::Count(n) if *n > 4 => problems.push(FieldError::new(
                "password_policy.required_classes",
                "range",
                "must be between 0 and 4",
            )),
            RequiredClasses::Named(list) => {
                for (i, c) in list.iter().enumerate() {
                    if list[..i].contains(c) {
                        problems.push(FieldError::new(
                            format!("password_policy.required_classes[{i}]"),
                            "unique",
                            "each class is listed once",
                        ));
                    }
                }
            }
            RequiredClasses::Count(_) => {}
        }
        if self.history > Self::MAX_HISTORY {
            problems.push(FieldError::new(
                "password_policy.history",
                "range",
                format!("must be between 0 and {}", Self::MAX_HISTORY),
            ));
        }
        if let Some(days) = self.lifetime_days {
            if !(1..=Self::MAX_LIFETIME_DAYS).contains(&days) {
                problems.push(FieldError::new(
                    "password_policy.lifetime_days",
                    "range",
                    format!("must be between 1 and {} when set", Self::MAX_LIFETIME_DAYS),
                ));
            }
        }
        if problems.is_empty() {
            Ok(())
        } else {
            Err(problems)
        }
    }

    /// Whether a password set at `changed_at_ms` must be changed at `now_ms` (both Unix
    /// milliseconds). Never true without a lifetime.
    pub fn expired(&self, changed_at_ms: i64, now_ms: i64) -> bool {
        match self.lifetime_days {
            None => false,
            Some(days) => now_ms.saturating_sub(changed_at_ms) >= i64::from(days) * MS_PER_DAY,
        }
    }
}

/// The classes present among lower-case, upper-case, digit and symbol. Letters without case
/// (CJK, for example) count toward none; whitespace is not a symbol.
fn character_classes(password: &str) -> Vec<CharClass> {
    let mut found = Vec::with_capacity(4);
    for c in password.chars() {
        let class = if c.is_lowercase() {
            CharClass::Lower
        } else if c.is_uppercase() {
            CharClass::Upper
        } else if c.is_numeric() {
            CharClass::Digit
        } else if !c.is_alphanumeric() && !c.is_whitespace() {
            CharClass::Symbol
        } else {
            continue;
        };
        if !found.contains(&class) {
            found.push(class);
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rules(result: Result<(), Vec<FieldError>>) -> Vec<String> {
        match result {
            Ok(()) => vec![],
            Err(errors) => errors.into_iter().map(|e| e.rule).collect(),
        }
    }

    fn check(password: &str) -> Vec<String> {
        rules(PasswordPolicy::default().check(password, "jdoe", "jane.doe@example.com"))
    }

    #[test]
    fn default_is_nist() {
        let p = PasswordPolicy::default();
        assert_eq!((p.min_length, p.max_length), (12, 256));
        assert!(p.reject_common);
        assert_eq!(p.required_classes, RequiredClasses::Named(vec![]));
        assert_eq!(p.lifetime_days, None);
        assert_eq!(p.history, 0);
        assert!(p.validate().is_ok());
    }

    #[test]
    fn accepts_passphrases_without_composition_rules() {
        for ok in [
            "correct horse battery staple",
            "lantern quietly orbit marmalade",
            "tWx9$kq!Lm2#vRz",
        ] {
            assert_eq!(check(ok), Vec::<String>::new(), "{ok} should be accepted");
        }
    }

    #[test]
    fn accepts_any_unicode_counting_characters_not_bytes() {
        // 12 emoji: 48 bytes, 12 characters.
        let emoji = "🦀🌊🍕🎸🚲🌵🐙🎲🧭🪁🍄🛶";
        assert_eq!(emoji.chars().count(), 12);
        assert_eq!(check(emoji), Vec::<String>::new());
        let words = "Grüße aus Köln, 東京タワー";
        assert_eq!(check(words), Vec::<String>::new());
    }

    #[test]
    fn length_bounds() {
        // 11 characters, otherwise unguessable.
        assert_eq!(check("q7#Vz!pL2@x"), vec!["min_length"]);
        assert!(check("q7#Vz!pL2@xR").is_empty());
        let long: String = "correct horse battery staple ".repeat(11);
        assert_eq!(long.chars().count(), 319);
        assert_eq!(check(&long[..300]), vec!["max_length"]);
        assert!(check(&long[..256]).is_empty(), "256 characters are allowed");
        assert!(check(&long[..64]).is_empty(), "64 characters are allowed");
    }

    #[test]
    fn rejects_common_and_guessable_passwords() {
        for bad in [
            "password1234",
            "123456789012",
            "qwertyuiopasdf",
            "iloveyou2024!",
        ] {
            assert_eq!(
                check(bad),
                vec!["common_password"],
                "{bad} should be refused"
            );
        }
        let err = PasswordPolicy::default()
            .check("password1234", "jdoe", "jane.doe@example.com")
            .expect_err("common");
        assert!(
            err[0].message.starts_with("is too easy to guess"),
            "{}",
            err[0].message
        );
    }

    #[test]
    fn reject_common_can_be_switched_off() {
        let p = PasswordPolicy {
            reject_common: false,
            ..Default::default()
        };
        assert!(p.check("password1234", "jdoe", "jane@example.com").is_ok());
    }

    #[test]
    fn rejects_username_or_email_local_part_case_insensitively() {
        let p = PasswordPolicy::default();
        let r = rules(p.check("my Margarethe lantern orbit", "margarethe", "m@x.io"));
        assert!(r.contains(&"contains_identity".to_string()), "{r:?}");
        let r = rules(p.check("orbit JANE.DOE lantern sky", "jd", "jane.doe@example.com"));
        assert!(r.contains(&"contains_identity".to_string()), "{r:?}");
        // Shorter than 3 characters: not an identity worth refusing.
        assert!(p
            .check("correct horse battery staple", "co", "st@example.com")
            .is_ok());
        // Still refused with the guessability check switched off.
        let p = PasswordPolicy {
            reject_common: false,
            ..Default::default()
        };
        assert_eq!(
            rules(p.check("jdoe-lantern-orbit", "jdoe", "x@example.com")),
            vec!["contains_identity"]
        );
    }

    #[test]
    fn character_classes_option() {
        let p = PasswordPolicy {
            required_classes: RequiredClasses::Count(3),
            ..Default::default()
        };
        assert_eq!(
            rules(p.check("correct horse battery staple", "jdoe", "j@x.io")),
            vec!["character_classes"]
        );
        assert!(p
            .check("Correct horse battery staple 9", "jdoe", "j@x.io")
            .is_ok());
        assert!(p
            .check("correct-horse battery staple 9", "jdoe", "j@x.io")
            .is_ok());
        assert_eq!(character_classes("aA1!").len(), 4);
        assert_eq!(character_classes("東京 タワー").len(), 0);
        assert_eq!(character_classes("🦀"), vec![CharClass::Symbol]);
    }

    #[test]
    fn named_classes_express_magentos_default() {
        // Magento: at least 7 characters with mixed case and numbers. rolecall's floor is 8.
        let p = PasswordPolicy {
            min_length: 8,
            reject_common: false,
            required_classes: RequiredClasses::magento(),
            ..Default::default()
        };
        assert!(p.validate().is_ok());
        assert!(p.check("Lantern7orbit", "jdoe", "j@x.io").is_ok());
        // A count of 3 would accept this one (lower, upper, symbol): the names do not.
        let err = p
            .check("Lantern!orbit", "jdoe", "j@x.io")
            .expect_err("no digit");
        assert_eq!(err[0].rule, "character_classes");
        assert!(
            err[0].message.contains("it has no digit"),
            "{}",
            err[0].message
        );
        assert!(
            err[0]
                .message
                .starts_with("must contain a lower-case letter, an upper-case letter, a digit"),
            "{}",
            err[0].message
        );
        let err = p
            .check("lantern7orbit", "jdoe", "j@x.io")
            .expect_err("no upper");
        assert!(
            err[0].message.contains("no upper-case letter"),
            "{}",
            err[0].message
        );
        assert!(RequiredClasses::Count(3) != RequiredClasses::magento());
    }

    #[test]
    fn stored_counts_still_read_and_lists_round_trip() {
        let old: PasswordPolicy =
            serde_json::from_str(r#"{"min_length": 10, "required_classes": 3}"#).expect("old");
        assert_eq!(old.required_classes, RequiredClasses::Count(3));
        let new: PasswordPolicy =
            serde_json::from_str(r#"{"required_classes": ["lower", "upper", "digit"]}"#)
                .expect("new");
        assert_eq!(new.required_classes, RequiredClasses::magento());
        let json = serde_json::to_value(&new).expect("serialise");
        assert_eq!(
            json["required_classes"],
            serde_json::json!(["lower", "upper", "digit"])
        );
        assert_eq!(
            serde_json::to_value(PasswordPolicy::default()).expect("serialise")["required_classes"],
            serde_json::json!([])
        );
        assert!(
            serde_json::from_str::<PasswordPolicy>(r#"{"required_classes": ["emoji"]}"#).is_err()
        );
        let dup = PasswordPolicy {
            required_classes: vec![CharClass::Digit, CharClass::Digit].into(),
            ..Default::default()
        };
        assert_eq!(
            dup.validate().unwrap_err()[0].field,
            "password_policy.required_classes[1]"
        );
    }

    #[test]
    fn reports_every_problem_at_once() {
        let r = rules(
            PasswordPolicy {
                required_classes: RequiredClasses::Count(4),
                ..Default::default()
            }
            .check("jdoe", "jdoe", "jdoe@example.com"),
        );
        assert_eq!(
            r,
            vec![
                "min_length",
                "contains_identity",
                "common_password",
                "character_classes"
            ]
        );
    }

    #[test]
    fn validate_bounds() {
        let fields = |p: PasswordPolicy| -> Vec<String> {
            p.validate()
                .err()
                .unwrap_or_default()
                .into_iter()
                .map(|e| e.field)
                .collect()
        };
        let d = PasswordPolicy::default;
        assert!(fields(PasswordPolicy {
            min_length: 8,
            max_length: 64,
            ..d()
        })
        .is_empty());
        assert!(fields(PasswordPolicy {
            min_length: 1024,
            max_length: 1024,
            ..d()
        })
        .is_empty());
        assert_eq!(
            fields(PasswordPolicy {
                min_length: 7,
                ..d()
            }),
            vec!["password_policy.min_length"]
        );
        assert_eq!(
            fields(PasswordPolicy {
                min_length: 100,
                max_length: 80,
                ..d()
            }),
            vec!["password_policy.min_length"]
        );
        assert_eq!(
            fields(PasswordPolicy {
                max_length: 63,
                ..d()
            }),
            vec!["password_policy.max_length"]
        );
        assert_eq!(
            fields(PasswordPolicy {
                max_length: 1025,
                ..d()
            }),
            vec!["password_policy.max_length"]
        );
        assert_eq!(
            fields(PasswordPolicy {
                required_classes: RequiredClasses::Count(5),
                ..d()
            }),
            vec!["password_policy.required_classes"]
        );
        assert_eq!(
            fields(PasswordPolicy { history: 25, ..d() }),
            vec!["password_policy.history"]
        );
        assert!(fields(PasswordPolicy { history: 24, ..d() }).is_empty());
        for bad in [0, 3651] {
            assert_eq!(
                fields(PasswordPolicy {
                    lifetime_days: Some(bad),
                    ..d()
                }),
                vec!["password_policy.lifetime_days"]
            );
        }
        for ok in [1, 90, 3650] {
            assert!(fields(PasswordPolicy {
                lifetime_days: Some(ok),
                ..d()
            })
            .is_empty());
        }
    }

    #[test]
    fn expiry() {
        let day = MS_PER_DAY;
        assert!(!PasswordPolicy::default().expired(0, i64::MAX));
        let p = PasswordPolicy {
            lifetime_days: Some(90),
            ..Default::default()
        };
        let t = 1_700_000_000_000;
        assert!(!p.expired(t, t));
        assert!(!p.expired(t, t + 90 * day - 1));
        assert!(p.expired(t, t + 90 * day));
        // A clock going backwards never expires a password.
        assert!(!p.expired(t, t - day));
        assert!(!p.expired(i64::MAX, i64::MIN));
    }

    #[test]
    fn missing_fields_take_defaults() {
        let p: PasswordPolicy =
            serde_json::from_str(r#"{"lifetime_days": 30}"#).expect("valid json");
        assert_eq!(p.lifetime_days, Some(30));
        assert_eq!(p.min_length, 12);
        let back: PasswordPolicy =
            serde_json::from_value(serde_json::to_value(&p).expect("serialise")).expect("read");
        assert_eq!(back, p);
    }
}
