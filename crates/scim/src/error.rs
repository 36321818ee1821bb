//! The SCIM error: an HTTP status, the optional `scimType` keyword of RFC 7644 §3.12 and a
//! human-readable detail, serialised as the SCIM error body (whose `status` is a string).

use serde::ser::{SerializeMap, Serializer};
use serde::Serialize;
use std::fmt;

/// URN of the error message schema (RFC 7644 §3.12).
pub const ERROR_SCHEMA: &str = "urn:ietf:params:scim:api:messages:2.0:Error";

/// The `scimType` keywords of RFC 7644 §3.12 table 9; clients branch on them, so they are a
/// closed set rather than free text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ScimType {
    InvalidFilter,
    TooMany,
    Uniqueness,
    Mutability,
    InvalidSyntax,
    InvalidPath,
    NoTarget,
    InvalidValue,
    InvalidVers,
    Sensitive,
}

impl ScimType {
    /// The keyword as it appears on the wire.
    pub fn as_str(self) -> &'static str {
        match self {
            ScimType::InvalidFilter => "invalidFilter",
            ScimType::TooMany => "tooMany",
            ScimType::Uniqueness => "uniqueness",
            ScimType::Mutability => "mutability",
            ScimType::InvalidSyntax => "invalidSyntax",
            ScimType::InvalidPath => "invalidPath",
            ScimType::NoTarget => "noTarget",
            ScimType::InvalidValue => "invalidValue",
            ScimType::InvalidVers => "invalidVers",
            ScimType::Sensitive => "sensitive",
        }
    }
}

impl fmt::Display for ScimType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An error as a SCIM client sees it. Every fallible function of this crate returns it, so the
/// server maps it to a response without translating.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{status}{}: {detail}", scim_type.map(|t| format!(" {t}")).unwrap_or_default())]
pub struct ScimError {
    /// HTTP status code of the response.
    pub status: u16,
    /// The `scimType` keyword, when RFC 7644 defines one for the failure.
    pub scim_type: Option<ScimType>,
    /// A sentence for a person reading the client's log.
    pub detail: String,
}

impl ScimError {
    /// A 400 with the given keyword: nearly every protocol error is one.
    pub fn bad_request(scim_type: ScimType, detail: impl Into<String>) -> Self {
        ScimError {
            status: 400,
            scim_type: Some(scim_type),
            detail: detail.into(),
        }
    }

    /// `invalidFilter`: the filter is malformed or asks something the schema cannot answer.
    pub fn invalid_filter(detail: impl Into<String>) -> Self {
        Self::bad_request(ScimType::InvalidFilter, detail)
    }

    /// `invalidPath`: a PATCH path is malformed or names an unknown attribute.
    pub fn invalid_path(detail: impl Into<String>) -> Self {
        Self::bad_request(ScimType::InvalidPath, detail)
    }

    /// `invalidValue`: a value does not fit its attribute, or a required value is missing.
    pub fn invalid_value(detail: impl Into<String>) -> Self {
        Self::bad_request(ScimType::InvalidValue, detail)
    }

    /// `invalidSyntax`: the request body does not have the message's shape.
    pub fn invalid_syntax(detail: impl Into<String>) -> Self {
        Self::bad_request(ScimType::InvalidSyntax, detail)
    }

    /// `mutability`: the request changes a readOnly or immutable attribute.
    pub fn mutability(detail: impl Into<String>) -> Self {
        Self::bad_request(ScimType::Mutability, detail)
    }

    /// `noTarget`: the path selects nothing to operate on.
    pub fn no_target(detail: impl Into<String>) -> Self {
        Self::bad_request(ScimType::NoTarget, detail)
    }

    /// The SCIM error response body.
    pub fn to_json(&self) -> serde_json::Value {
        // Serialising this type cannot fail: it holds only strings.
        serde_json::to_value(self).unwrap_or(serde_json::Value::Null)
    }
}

impl Serialize for ScimError {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(None)?;
        map.serialize_entry("schemas", &[ERROR_SCHEMA])?;
        // RFC 7644 §3.12 gives the status as a JSON string.
        map.serialize_entry("status", &self.status.to_string())?;
        if let Some(t) = self.scim_type {
            map.serialize_entry("scimType", t.as_str())?;
        }
        map.serialize_entry("detail", &self.detail)?;
        map.end()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn serialises_status_as_a_string_with_the_error_schema() {
        let e = ScimError::invalid_filter("bad");
        assert_eq!(
            e.to_json(),
            json!({
                "schemas": ["urn:ietf:params:scim:api:messages:2.0:Error"],
                "status": "400",
                "scimType": "invalidFilter",
                "detail": "bad"
            })
        );
    }

    #[test]
    fn omits_scim_type_when_there_is_none() {
        let e = ScimError {
            status: 404,
            scim_type: None,
            detail: "Resource 1 not found".into(),
        };
        let v = e.to_json();
        assert_eq!(v["status"], "404");
        assert!(v.get("scimType").is_none());
    }

    #[test]
    fn every_keyword_is_spelled_as_in_the_rfc() {
        let all = [
            (ScimType::InvalidFilter, "invalidFilter"),
            (ScimType::TooMany, "tooMany"),
            (ScimType::Uniqueness, "uniqueness"),
            (ScimType::Mutability, "mutability"),
            (ScimType::InvalidSyntax, "invalidSyntax"),
            (ScimType::InvalidPath, "invalidPath"),
            (ScimType::NoTarget, "noTarget"),
            (ScimType::InvalidValue, "invalidValue"),
            (ScimType::InvalidVers, "invalidVers"),
            (ScimType::Sensitive, "sensitive"),
        ];
        for (t, s) in all {
            assert_eq!(t.as_str(), s);
            assert_eq!(ScimError::bad_request(t, "x").to_json()["scimType"], s);
        }
    }

    #[test]
    fn display_names_status_keyword_and_detail() {
        assert_eq!(
            ScimError::no_target("nothing").to_string(),
            "400 noTarget: nothing"
        );
    }
}
