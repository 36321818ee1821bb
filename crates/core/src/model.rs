//! The directory's aggregates as plain data: organizations, users, groups, roles and their
//! grants. Persistence and transport are adapters around these types.

use crate::validate::{
    Description, DisplayName, Email, Locale, PersonName, RoleName, ScopeCode, Slug, Username,
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
