//! The directory's aggregates as plain data: organizations, users, groups, roles and their
//! grants. Persistence and transport are adapters around these types.

use crate::validate::{
    AttributeText, CountryCode, Description, DisplayName, Email, ExternalId, LanguageTag, Locale,
    PersonName, RoleName, ScopeCode, Slug, Timezone, Username,
};
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;
use uuid::Uuid;

macro_rules! id_newtype {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(transparent)]
        #[cfg_attr(feature = "openapi", derive(utoipa::ToSchema), schema(value_type = String, format = Uuid))]
        pub struct $name(pub Uuid);

        impl $name {
            /// Ids are random; the caller supplies the randomness so the core stays pure.
            pub fn from_uuid(id: Uuid) -> Self {
                Self(id)
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.fmt(f)
            }
        }

        impl FromStr for $name {
            type Err = uuid::Error;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                Uuid::parse_str(s).map(Self)
            }
        }
    };
}

id_newtype!(
    /// An organization (tenant).
    OrgId
);
id_newtype!(
    /// A user of one organization.
    UserId
);
id_newtype!(
    /// A user group of one organization.
    GroupId
);
id_newtype!(
    /// A role of one organization and one application.
    RoleId
);

/// Milliseconds since the Unix epoch; portable across SQLite and PostgreSQL and passed in by
/// the caller, never read from the clock here.
pub type Millis = i64;

/// A tenant. Every other object belongs to exactly one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Organization {
    pub id: OrgId,
    pub slug: Slug,
    pub name: DisplayName,
    /// `enterprise` (the whole admin hierarchy) or `teams` (System admins only).
    pub kind: crate::admin::OrgKind,
    /// The account owner: cannot be deleted, deactivated or stripped of System admin until
    /// ownership is transferred.
    pub owner_id: Option<UserId>,
    pub version: i64,
    pub created_at: Millis,
    pub updated_at: Millis,
}

/// Lifecycle of a user. `deleted` is not a status: a deleted user leaves a tombstone instead.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum UserStatus {
    /// Added but has not accepted the invitation: no access yet.
    Invited,
    Active,
    /// Record kept, every access voided until reactivated.
    Inactive,
}

impl UserStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            UserStatus::Invited => "invited",
            UserStatus::Active => "active",
            UserStatus::Inactive => "inactive",
        }
    }

    pub fn parse(field: &str, value: &str) -> Result<Self, crate::FieldError> {
        match value {
            "invited" => Ok(UserStatus::Invited),
            "active" => Ok(UserStatus::Active),
            "inactive" => Ok(UserStatus::Inactive),
            _ => Err(crate::FieldError::new(
                field,
                "enum",
                "must be one of invited, active, inactive",
            )),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct User {
    pub id: UserId,
    pub org_id: OrgId,
    pub username: Username,
    pub email: Email,
    pub first_name: PersonName,
    pub last_name: PersonName,
    pub locale: Locale,
    pub status: UserStatus,
    /// `service` for the account behind an API credential; people are `person`.
    pub kind: UserKind,
    pub version: i64,
    pub created_at: Millis,
    pub updated_at: Millis,
    pub last_sign_in_at: Option<Millis>,
    /// What identity providers and the Adobe Admin Console template carry about the person.
    #[serde(flatten)]
    pub profile: UserProfile,
    /// The SCIM client that created the user, if one did: its identity provider is the source
    /// of truth for the attributes the organisation marks as owned by it.
    pub provisioned_by: Option<String>,
}

impl User {
    /// The domain of the sign-in address (the Adobe template's "Domain" column).
    pub fn domain(&self) -> &str {
        self.email.domain()
    }
}

/// How a person's account is owned, as in the Adobe Admin Console: an Adobe ID belongs to the
/// person, an Enterprise ID to the organisation, a Federated ID to the organisation's identity
/// provider (single sign-on; what SCIM provisioning creates).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum IdentityType {
    AdobeId,
    #[default]
    EnterpriseId,
    FederatedId,
}

impl IdentityType {
    pub fn as_str(self) -> &'static str {
        match self {
            IdentityType::AdobeId => "adobe_id",
            IdentityType::EnterpriseId => "enterprise_id",
            IdentityType::FederatedId => "federated_id",
        }
    }

    /// Reads rolecall's spelling and the Adobe template's (`Adobe ID`, `Enterprise ID`,
    /// `Federated ID`), in any case.
    pub fn parse(field: &str, value: &str) -> Result<Self, crate::FieldError> {
        let squashed: String = value
            .chars()
            .filter(|c| !c.is_whitespace() && *c != '_' && *c != '-')
            .collect::<String>()
            .to_ascii_lowercase();
        match squashed.as_str() {
            "adobeid" => Ok(IdentityType::AdobeId),
            "enterpriseid" => Ok(IdentityType::EnterpriseId),
            "federatedid" => Ok(IdentityType::FederatedId),
            _ => Err(crate::FieldError::new(
                field,
                "enum",
                "must be one of adobe_id, enterprise_id, federated_id",
            )),
        }
    }
}

/// One of a person's e-mail addresses (SCIM `emails`). The sign-in address (`User::email`) is
/// always among them and is the primary one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct EmailEntry {
    pub value: Email,
    /// `work`, `home`, `other` or the provider's own label.
    #[serde(rename = "type", skip_serializing_if = "Option::is_none")]
    pub kind: Option<AttributeText>,
    #[serde(default)]
    pub primary: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub display: Option<AttributeText>,
}

/// One of a person's phone numbers (SCIM `phoneNumbers`), kept as given.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PhoneEntry {
    pub value: AttributeText,
    #[serde(rename = "type", skip_serializing_if = "Option::is_none")]
    pub kind: Option<AttributeText>,
    #[serde(default)]
    pub primary: bool,
}

/// A postal address (SCIM `addresses`). Every part is free text: identity providers send the
/// country as a name as often as as a code.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Address {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub formatted: Option<AttributeText>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub street_address: Option<AttributeText>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub locality: Option<AttributeText>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub region: Option<AttributeText>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub postal_code: Option<AttributeText>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub country: Option<AttributeText>,
    #[serde(rename = "type", skip_serializing_if = "Option::is_none")]
    pub kind: Option<AttributeText>,
    #[serde(default)]
    pub primary: bool,
}

impl Address {
    /// Whether no part is set (such an address is dropped, as SCIM drops unassigned values).
    pub fn is_empty(&self) -> bool {
        self.formatted.is_none()
            && self.street_address.is_none()
            && self.locality.is_none()
            && self.region.is_none()
            && self.postal_code.is_none()
            && self.country.is_none()
    }
}

/// The person's attributes beyond sign-in: what SCIM's core User schema and its enterprise
/// extension carry, and the Adobe Admin Console template's identity type and country.
/// Every optional attribute is `None` when unset, never an empty string.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct UserProfile {
    pub identity_type: IdentityType,
    pub country_code: Option<CountryCode>,
    /// The identifier the provisioning client knows the user by (SCIM `externalId`).
    pub external_id: Option<ExternalId>,
    pub display_name: Option<AttributeText>,
    pub nick_name: Option<AttributeText>,
    pub title: Option<AttributeText>,
    pub user_type: Option<AttributeText>,
    /// The full name as the provider formats it (SCIM `name.formatted`).
    pub name_formatted: Option<AttributeText>,
    pub middle_name: Option<AttributeText>,
    pub honorific_prefix: Option<AttributeText>,
    pub honorific_suffix: Option<AttributeText>,
    pub preferred_language: Option<LanguageTag>,
    pub timezone: Option<Timezone>,
    /// Every e-mail address, the sign-in address first and primary.
    pub emails: Vec<EmailEntry>,
    pub phone_numbers: Vec<PhoneEntry>,
    pub addresses: Vec<Address>,
    // The enterprise extension (urn:ietf:params:scim:schemas:extension:enterprise:2.0:User).
    pub employee_number: Option<AttributeText>,
    pub cost_center: Option<AttributeText>,
    pub organization: Option<AttributeText>,
    pub division: Option<AttributeText>,
    pub department: Option<AttributeText>,
    /// The id of the manager's user, as the provider sent it.
    pub manager_id: Option<ExternalId>,
}

/// Makes `sign_in` the primary entry of `emails`: an existing entry with that address becomes
/// primary, or one is added first (typed `work`); every other entry stops being primary.
pub fn with_sign_in_email(sign_in: &Email, mut emails: Vec<EmailEntry>) -> Vec<EmailEntry> {
    let key = sign_in.key();
    match emails.iter().position(|e| e.value.key() == key) {
        Some(i) => {
            let mut entry = emails.remove(i);
            entry.value = sign_in.clone();
            entry.primary = true;
            emails.insert(0, entry);
        }
        None => emails.insert(
            0,
            EmailEntry {
                value: sign_in.clone(),
                kind: AttributeText::parse("type", "work").ok(),
                primary: true,
                display: None,
            },
        ),
    }
    for e in emails.iter_mut().skip(1) {
        e.primary = false;
    }
    // An address listed twice is one address.
    let mut seen = Vec::new();
    emails.retain(|e| {
        let k = e.value.key();
        if seen.contains(&k) {
            false
        } else {
            seen.push(k);
            true
        }
    });
    emails
}

/// The sign-in address a list of e-mails implies: the primary one, else the first `work` one,
/// else the first.
pub fn sign_in_email(emails: &[EmailEntry]) -> Option<&Email> {
    emails
        .iter()
        .find(|e| e.primary)
        .or_else(|| {
            emails.iter().find(|e| {
                e.kind
                    .as_ref()
                    .is_some_and(|k| k.as_str().eq_ignore_ascii_case("work"))
            })
        })
        .or_else(|| emails.first())
        .map(|e| &e.value)
}

/// A person, or the service account of an API credential (which holds roles like a person but
/// never signs in with a password).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum UserKind {
    Person,
    Service,
}

impl UserKind {
    pub fn as_str(self) -> &'static str {
        match self {
            UserKind::Person => "person",
            UserKind::Service => "service",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Group {
    pub id: GroupId,
    pub org_id: OrgId,
    pub name: DisplayName,
    pub description: Description,
    /// The identifier the provisioning client knows the group by (SCIM `externalId`).
    pub external_id: Option<ExternalId>,
    /// The SCIM client that created the group: it alone manages the membership; which roles
    /// and profiles the group carries stays an administrator's decision.
    pub provisioned_by: Option<String>,
    pub version: i64,
    pub created_at: Millis,
    pub updated_at: Millis,
}

/// Which actions a grant covers: all of them (including ones added to the application later)
/// or a named subset of the application's vocabulary.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum ActionSet {
    #[default]
    All,
    Only(Vec<String>),
}

impl Serialize for ActionSet {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            ActionSet::All => s.serialize_str("*"),
            ActionSet::Only(v) => v.serialize(s),
        }
    }
}

impl<'de> Deserialize<'de> for ActionSet {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Raw {
            Star(String),
            List(Vec<String>),
        }
        match Raw::deserialize(d)? {
            Raw::Star(s) if s == "*" => Ok(ActionSet::All),
            Raw::Star(s) => Err(serde::de::Error::custom(format!(
                "expected \"*\" or a list of actions, got {s:?}"
            ))),
            Raw::List(v) => Ok(ActionSet::Only(v)),
        }
    }
}

#[cfg(feature = "openapi")]
impl utoipa::PartialSchema for ActionSet {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        use utoipa::openapi::schema::{ArrayBuilder, ObjectBuilder, OneOfBuilder, Type};
        OneOfBuilder::new()
            .item(
                ObjectBuilder::new()
                    .schema_type(Type::String)
                    .enum_values(Some(["*"])),
            )
            .item(ArrayBuilder::new().items(ObjectBuilder::new().schema_type(Type::String)))
            .description(Some("\"*\" for every action, or a list of action names"))
            .into()
    }
}

#[cfg(feature = "openapi")]
impl utoipa::ToSchema for ActionSet {}

/// Permission on a resource subtree: a grant on a node covers the node and all its descendants.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Grant {
    pub resource: String,
    #[serde(default)]
    pub actions: ActionSet,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Role {
    pub id: RoleId,
    pub org_id: OrgId,
    pub application: String,
    pub name: RoleName,
    pub description: Description,
    /// The built-in `Administrators` role: everything everywhere, never edited or deleted.
    pub builtin: bool,
    pub grants: Vec<Grant>,
    /// Empty: the role applies in every scope. Otherwise only within these scopes and their
    /// descendants (Magento's role scope).
    pub scopes: Vec<ScopeCode>,
    pub version: i64,
    pub created_at: Millis,
    pub updated_at: Millis,
}

impl Role {
    pub const ADMINISTRATORS: &'static str = "Administrators";
}

/// An instance in an application's scope tree for one organization (a website, a store view,
/// an environment).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Scope {
    pub code: ScopeCode,
    pub kind: String,
    /// `None` only for the root scope.
    pub parent: Option<ScopeCode>,
    pub name: String,
}

/// How a user holds a role: directly or as a member of a group.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "via", rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum Via {
    Direct,
    Group { group_id: GroupId },
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(v: &str, primary: bool) -> EmailEntry {
        EmailEntry {
            value: Email::parse("e", v).unwrap(),
            kind: None,
            primary,
            display: None,
        }
    }

    #[test]
    fn the_sign_in_address_is_the_first_and_only_primary_email() {
        let sign_in = Email::parse("email", "Ann@Shop.example").unwrap();
        let out = with_sign_in_email(
            &sign_in,
            vec![
                entry("home@x.example", true),
                entry("ann@shop.example", false),
            ],
        );
        assert_eq!(out.len(), 2);
        assert_eq!(out[0].value.as_str(), "Ann@Shop.example");
        assert!(out[0].primary && !out[1].primary);
        let out = with_sign_in_email(&sign_in, vec![]);
        assert_eq!(out[0].kind.as_ref().unwrap().as_str(), "work");
        let dup = with_sign_in_email(
            &sign_in,
            vec![entry("a@b.example", false), entry("A@b.example", false)],
        );
        assert_eq!(dup.len(), 2);
    }

    #[test]
    fn the_sign_in_address_of_a_list() {
        let list = vec![entry("a@x.example", false), entry("b@x.example", true)];
        assert_eq!(sign_in_email(&list).unwrap().as_str(), "b@x.example");
        assert_eq!(sign_in_email(&list[..1]).unwrap().as_str(), "a@x.example");
        assert!(sign_in_email(&[]).is_none());
    }

    #[test]
    fn identity_types_read_the_adobe_spelling() {
        for (raw, want) in [
            ("Adobe ID", IdentityType::AdobeId),
            ("enterprise_id", IdentityType::EnterpriseId),
            ("FEDERATED ID", IdentityType::FederatedId),
        ] {
            assert_eq!(IdentityType::parse("identity_type", raw).unwrap(), want);
        }
        assert_eq!(
            IdentityType::parse("identity_type", "google")
                .unwrap_err()
                .rule,
            "enum"
        );
    }
}
