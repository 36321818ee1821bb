//! The schema definitions rolecall serves: core User and Group (RFC 7643 §4.1, §4.2, §8.7.1)
//! and the enterprise User extension (§4.3), restricted to the attributes rolecall keeps.
//! `id`, `externalId` and `meta` (RFC 7643 §3.1, common to every resource) are listed in each
//! core schema so that paths and rules for them resolve like any other attribute.

use super::Uniqueness as U;
use super::{AttrType as T, AttributeDef as A, Mutability as M, Returned as R, Schema};

/// URN of the core User schema.
pub const USER_SCHEMA: &str = "urn:ietf:params:scim:schemas:core:2.0:User";
/// URN of the enterprise User extension.
pub const ENTERPRISE_USER_SCHEMA: &str =
    "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";
/// URN of the core Group schema.
pub const GROUP_SCHEMA: &str = "urn:ietf:params:scim:schemas:core:2.0:Group";

fn string(name: &str, description: &str) -> A {
    A::new(name, T::String).describe(description)
}

/// The attributes every resource has (RFC 7643 §3.1).
fn common() -> Vec<A> {
    vec![
        string(
            "id",
            "Unique identifier for the resource, assigned by the service provider.",
        )
        .case_exact()
        .mutability(M::ReadOnly)
        .returned(R::Always)
        .uniqueness(U::Server),
        string(
            "externalId",
            "Identifier of the resource as defined by the provisioning client.",
        )
        .case_exact(),
        A::new("meta", T::Complex)
            .describe("Resource metadata.")
            .mutability(M::ReadOnly)
            .returned(R::Always)
            .subs(vec![
                string("resourceType", "Name of the resource type.")
                    .case_exact()
                    .mutability(M::ReadOnly),
                A::new("created", T::DateTime)
                    .describe("When the resource was added.")
                    .mutability(M::ReadOnly),
                A::new("lastModified", T::DateTime)
                    .describe("When the resource was last changed.")
                    .mutability(M::ReadOnly),
                A::new("location", T::Reference)
                    .describe("URI of the resource.")
                    .case_exact()
                    .mutability(M::ReadOnly)
                    .references(&["uri"]),
                string("version", "Entity tag of the resource's current version.")
                    .case_exact()
                    .mutability(M::ReadOnly),
            ]),
    ]
}

/// The core User schema with the attributes rolecall keeps.
pub fn user_schema() -> Schema {
    let mut attributes = common();
    attributes.extend([
        string("userName", "Unique identifier used by the user to sign in.")
            .required()
            .uniqueness(U::Server)
            .max_length(256),
        A::new("name", T::Complex)
            .describe("The components of the user's name.")
            .subs(vec![
                string("formatted", "The full name, formatted for display."),
                string(
                    "familyName",
                    "The family name (last name in most Western languages).",
                ),
                string(
                    "givenName",
                    "The given name (first name in most Western languages).",
                ),
                string("middleName", "The middle name(s)."),
                string("honorificPrefix", "Honorific prefix, e.g. Ms."),
                string("honorificSuffix", "Honorific suffix, e.g. III."),
            ]),
        string("displayName", "The name of the user, suitable for display."),
        string("nickName", "The casual way to address the user."),
        string("title", "The user's title, such as \"Vice President\"."),
        string(
            "userType",
            "The relationship between the organization and the user.",
        ),
        string(
            "preferredLanguage",
            "The user's preferred written or spoken language.",
        ),
        string("locale", "The user's default location for localisation."),
        string("timezone", "The user's time zone in IANA database format."),
        A::new("active", T::Boolean).describe("Whether the user may sign in."),
        A::new("emails", T::Complex)
            .multi()
            .describe("E-mail addresses of the user.")
            .subs(vec![
                string("value", "The e-mail address."),
                string("display", "A label for display."),
                string("type", "The kind of address.").canonical(&["work", "home", "other"]),
                A::new("primary", T::Boolean).describe("Whether this is the primary address."),
            ]),
        A::new("phoneNumbers", T::Complex)
            .multi()
            .describe("Phone numbers of the user.")
            .subs(vec![
                string("value", "The phone number."),
                string("type", "The kind of number.")
                    .canonical(&["work", "home", "mobile", "fax", "pager", "other"]),
                A::new("primary", T::Boolean).describe("Whether this is the primary number."),
            ]),
        A::new("addresses", T::Complex)
            .multi()
            .describe("Physical mailing addresses of the user.")
            .subs(vec![
                string(
                    "formatted",
                    "The full mailing address, formatted for display.",
                ),
                string(
                    "streetAddress",
                    "The street address, possibly on several lines.",
                ),
                string("locality", "The city or locality."),
                string("region", "The state or region."),
                string("postalCode", "The zip code or postal code."),
                string("country", "The country name or ISO 3166-1 alpha-2 code."),
                string("type", "The kind of address.").canonical(&["work", "home", "other"]),
                A::new("primary", T::Boolean).describe("Whether this is the primary address."),
            ]),
        A::new("groups", T::Complex)
            .multi()
            .describe("Groups the user belongs to; changed through the groups, not the user.")
            .mutability(M::ReadOnly)
            .subs(vec![
                string("value", "The id of the group.")
                    .case_exact()
                    .mutability(M::ReadOnly),
                A::new("$ref", T::Reference)
                    .describe("URI of the group.")
                    .case_exact()
                    .mutability(M::ReadOnly)
                    .references(&["Group"]),
                string("display", "The group's display name.").mutability(M::ReadOnly),
                string(
                    "type",
                    "Whether membership is direct or through another group.",
                )
                .mutability(M::ReadOnly)
                .canonical(&["direct", "indirect"]),
            ]),
    ]);
    Schema {
        id: USER_SCHEMA.into(),
        name: "User".into(),
        description: "User Account".into(),
        attributes,
    }
}

/// The enterprise User extension.
pub fn enterprise_user_schema() -> Schema {
    Schema {
        id: ENTERPRISE_USER_SCHEMA.into(),
        name: "EnterpriseUser".into(),
        description: "Enterprise User".into(),
        attributes: vec![
            string("employeeNumber", "Identifier assigned by the organization."),
            string("costCenter", "Name of a cost center."),
            string("organization", "Name of an organization."),
            string("division", "Name of a division."),
            string("department", "Name of a department."),
            A::new("manager", T::Complex)
                .describe("The user's manager.")
                .subs(vec![
                    string("value", "The id of the manager's User resource.").case_exact(),
                    A::new("$ref", T::Reference)
                        .describe("URI of the manager's User resource.")
                        .case_exact()
                        .references(&["User"]),
                    string("displayName", "The manager's display name.").mutability(M::ReadOnly),
                ]),
        ],
    }
}

/// The core Group schema.
pub fn group_schema() -> Schema {
    let mut attributes = common();
    attributes.extend([
        string("displayName", "A human-readable name for the group.").required(),
        A::new("members", T::Complex)
            .multi()
            .describe("Members of the group.")
            .subs(vec![
                string("value", "The id of the member.")
                    .case_exact()
                    .mutability(M::Immutable),
                A::new("$ref", T::Reference)
                    .describe("URI of the member.")
                    .case_exact()
                    .mutability(M::Immutable)
                    .references(&["User", "Group"]),
                string("display", "The member's display name.").mutability(M::ReadOnly),
                string("type", "The kind of member.")
                    .mutability(M::Immutable)
                    .canonical(&["User", "Group"]),
            ]),
    ]);
    Schema {
        id: GROUP_SCHEMA.into(),
        name: "Group".into(),
        description: "Group".into(),
        attributes,
    }
}
