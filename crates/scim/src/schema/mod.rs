//! Schemas as data (RFC 7643 §2, §7): attribute definitions with their type, case and
//! mutability rules, resource types that bind a core schema to its extensions, attribute lookup
//! by path, and the `/Schemas` JSON rendering. Every other module asks these definitions rather
//! than hard-coding an attribute's rules.

mod defs;

pub use defs::{
    enterprise_user_schema, group_schema, user_schema, ENTERPRISE_USER_SCHEMA, GROUP_SCHEMA,
    USER_SCHEMA,
};

use crate::path::AttrPath;
use serde::Serialize;
use serde_json::{json, Value};

/// URN of the schema that describes schemas (`/Schemas` resources).
pub const SCHEMA_SCHEMA: &str = "urn:ietf:params:scim:schemas:core:2.0:Schema";

/// The attribute data types of RFC 7643 §2.3.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum AttrType {
    String,
    Boolean,
    Decimal,
    Integer,
    DateTime,
    Reference,
    Binary,
    Complex,
}

impl AttrType {
    /// Whether values are JSON strings compared as text (`co`/`sw`/`ew` apply).
    pub fn is_textual(self) -> bool {
        matches!(
            self,
            AttrType::String | AttrType::Reference | AttrType::Binary
        )
    }
}

/// Who may write an attribute (RFC 7643 §7 `mutability`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum Mutability {
    ReadOnly,
    ReadWrite,
    Immutable,
    WriteOnly,
}

/// When an attribute is returned (RFC 7643 §7 `returned`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum Returned {
    Always,
    Never,
    Default,
    Request,
}

/// The uniqueness promise the server keeps for an attribute (RFC 7643 §7 `uniqueness`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum Uniqueness {
    None,
    Server,
    Global,
}

/// One attribute (or sub-attribute) definition. The fields are the RFC 7643 §7 characteristics,
/// plus `max_length`, a rolecall limit that is enforced but not published.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AttributeDef {
    pub name: String,
    #[serde(rename = "type")]
    pub ty: AttrType,
    pub multi_valued: bool,
    pub description: String,
    pub required: bool,
    pub case_exact: bool,
    pub mutability: Mutability,
    pub returned: Returned,
    pub uniqueness: Uniqueness,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub canonical_values: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub reference_types: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub sub_attributes: Vec<AttributeDef>,
    /// Longest accepted string value in characters, when rolecall limits it.
    #[serde(skip)]
    pub max_length: Option<usize>,
}

impl AttributeDef {
    /// A single-valued, optional, case-insensitive, readWrite attribute returned by default:
    /// RFC 7643 §2.2's defaults, which the builder methods below override.
    pub fn new(name: &str, ty: AttrType) -> Self {
        AttributeDef {
            name: name.to_string(),
            ty,
            multi_valued: false,
            description: String::new(),
            required: false,
            case_exact: false,
            mutability: Mutability::ReadWrite,
            returned: Returned::Default,
            uniqueness: Uniqueness::None,
            canonical_values: Vec::new(),
            reference_types: Vec::new(),
            sub_attributes: Vec::new(),
            max_length: None,
        }
    }

    /// Sets the published description.
    pub fn describe(mut self, text: &str) -> Self {
        self.description = text.to_string();
        self
    }

    /// Marks the attribute multi-valued.
    pub fn multi(mut self) -> Self {
        self.multi_valued = true;
        self
    }

    /// Marks the attribute required.
    pub fn required(mut self) -> Self {
        self.required = true;
        self
    }

    /// Marks string comparisons on the attribute case-sensitive.
    pub fn case_exact(mut self) -> Self {
        self.case_exact = true;
        self
    }

    /// Sets who may write the attribute.
    pub fn mutability(mut self, m: Mutability) -> Self {
        self.mutability = m;
        self
    }

    /// Sets when the attribute is returned.
    pub fn returned(mut self, r: Returned) -> Self {
        self.returned = r;
        self
    }

    /// Sets the uniqueness promise.
    pub fn uniqueness(mut self, u: Uniqueness) -> Self {
        self.uniqueness = u;
        self
    }

    /// Sets the suggested values (`canonicalValues`).
    pub fn canonical(mut self, values: &[&str]) -> Self {
        self.canonical_values = values.iter().map(|s| s.to_string()).collect();
        self
    }

    /// Sets what a reference may point at (`referenceTypes`).
    pub fn references(mut self, types: &[&str]) -> Self {
        self.reference_types = types.iter().map(|s| s.to_string()).collect();
        self
    }

    /// Sets the sub-attributes of a complex attribute.
    pub fn subs(mut self, subs: Vec<AttributeDef>) -> Self {
        self.sub_attributes = subs;
        self
    }

    /// Limits string values to `n` characters.
    pub fn max_length(mut self, n: usize) -> Self {
        self.max_length = Some(n);
        self
    }

    /// A sub-attribute by name, case-insensitively (attribute names are, RFC 7643 §2.1).
    pub fn sub(&self, name: &str) -> Option<&AttributeDef> {
        self.sub_attributes
            .iter()
            .find(|a| a.name.eq_ignore_ascii_case(name))
    }

    /// Whether clients may never write the attribute.
    pub fn is_read_only(&self) -> bool {
        self.mutability == Mutability::ReadOnly
    }
}

/// A schema: a URN and its attributes (RFC 7643 §7).
#[derive(Debug, Clone, PartialEq)]
pub struct Schema {
    pub id: String,
    pub name: String,
    pub description: String,
    pub attributes: Vec<AttributeDef>,
}

impl Schema {
    /// A top-level attribute by name, case-insensitively.
    pub fn attribute(&self, name: &str) -> Option<&AttributeDef> {
        self.attributes
            .iter()
            .find(|a| a.name.eq_ignore_ascii_case(name))
    }

    /// The `/Schemas/{id}` resource; `base` is the SCIM base URL without a trailing slash.
    pub fn to_json(&self, base: &str) -> Value {
        json!({
            "schemas": [SCHEMA_SCHEMA],
            "id": self.id,
            "name": self.name,
            "description": self.description,
            "attributes": self.attributes,
            "meta": {
                "resourceType": "Schema",
                "location": format!("{base}/Schemas/{}", self.id),
            },
        })
    }
}

/// An extension schema attached to a resource type.
#[derive(Debug, Clone, PartialEq)]
pub struct Extension {
    pub schema: Schema,
    /// Whether every resource must carry the extension.
    pub required: bool,
}

/// A resource type (RFC 7643 §6): its endpoint, core schema and extensions. Everything that
/// interprets a resource (filters, PATCH, projection) takes one, so User and Group share code.
#[derive(Debug, Clone, PartialEq)]
pub struct ResourceType {
    /// Name and id, e.g. `User`.
    pub name: String,
    /// Endpoint relative to the base URL, e.g. `/Users`.
    pub endpoint: String,
    pub description: String,
    pub schema: Schema,
    pub extensions: Vec<Extension>,
}

/// An attribute found by path: the schema it belongs to, the attribute and, for `a.b`, the
/// sub-attribute. Holds references into the [`ResourceType`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct AttrRef<'a> {
    pub schema: &'a Schema,
    /// True for the core schema, whose attributes sit at the top level of a resource; an
    /// extension's sit in an object keyed by the extension URN.
    pub core: bool,
    pub attr: &'a AttributeDef,
    pub sub: Option<&'a AttributeDef>,
}

impl<'a> AttrRef<'a> {
    /// The definition that describes the addressed values: the sub-attribute if any.
    pub fn leaf(&self) -> &'a AttributeDef {
        self.sub.unwrap_or(self.attr)
    }

    /// The path with canonical spelling: `name.givenName` for the core schema,
    /// `urn:…:User:department` for an extension.
    pub fn canonical(&self) -> String {
        let mut s = if self.core {
            String::new()
        } else {
            format!("{}:", self.schema.id)
        };
        s.push_str(&self.attr.name);
        if let Some(sub) = self.sub {
            s.push('.');
            s.push_str(&sub.name);
        }
        s
    }
}

impl ResourceType {
    /// The User resource type: core User schema plus the optional enterprise extension.
    pub fn user() -> Self {
        ResourceType {
            name: "User".into(),
            endpoint: "/Users".into(),
            description: "User Account".into(),
            schema: user_schema(),
            extensions: vec![Extension {
                schema: enterprise_user_schema(),
                required: false,
            }],
        }
    }

    /// The Group resource type.
    pub fn group() -> Self {
        ResourceType {
            name: "Group".into(),
            endpoint: "/Groups".into(),
            description: "Group".into(),
            schema: group_schema(),
            extensions: Vec::new(),
        }
    }

    /// The core schema followed by the extension schemas.
    pub fn schemas(&self) -> impl Iterator<Item = &Schema> {
        std::iter::once(&self.schema).chain(self.extensions.iter().map(|e| &e.schema))
    }

    /// The extension whose URN is `urn` (case-insensitively).
    pub fn extension(&self, urn: &str) -> Option<&Schema> {
        self.extensions
            .iter()
            .map(|e| &e.schema)
            .find(|s| s.id.eq_ignore_ascii_case(urn))
    }

    /// Resolves a parsed path. A URN selects the schema; without one the core schema is tried
    /// first, then the extensions (clients such as Entra sometimes omit the URN of an extension
    /// attribute whose name is unambiguous).
    pub fn resolve(&self, path: &AttrPath) -> Option<AttrRef<'_>> {
        let candidates: Vec<&Schema> = match &path.urn {
            Some(urn) => self
                .schemas()
                .filter(|s| s.id.eq_ignore_ascii_case(urn))
                .collect(),
            None => self.schemas().collect(),
        };
        candidates.into_iter().find_map(|schema| {
            find_in(schema, path).map(|(attr, sub)| AttrRef {
                schema,
                core: std::ptr::eq(schema, &self.schema),
                attr,
                sub,
            })
        })
    }

    /// Finds an attribute by its textual path (`userName`, `name.givenName`,
    /// `urn:…:enterprise:2.0:User:manager.value`), case-insensitively.
    pub fn find(&self, path: &str) -> Option<AttrRef<'_>> {
        AttrPath::parse(path).ok().and_then(|p| self.resolve(&p))
    }

    /// The `/ResourceTypes/{name}` resource.
    pub fn to_json(&self, base: &str) -> Value {
        let extensions: Vec<Value> = self
            .extensions
            .iter()
            .map(|e| json!({"schema": e.schema.id, "required": e.required}))
            .collect();
        let mut v = json!({
            "schemas": ["urn:ietf:params:scim:schemas:core:2.0:ResourceType"],
            "id": self.name,
            "name": self.name,
            "endpoint": self.endpoint,
            "description": self.description,
            "schema": self.schema.id,
            "meta": {
                "resourceType": "ResourceType",
                "location": format!("{base}/ResourceTypes/{}", self.name),
            },
        });
        if !extensions.is_empty() {
            v["schemaExtensions"] = Value::Array(extensions);
        }
        v
    }
}

fn find_in<'s>(
    schema: &'s Schema,
    path: &AttrPath,
) -> Option<(&'s AttributeDef, Option<&'s AttributeDef>)> {
    let attr = schema.attribute(&path.name)?;
    let sub = match &path.sub {
        None => None,
        Some(s) => Some(attr.sub(s)?),
    };
    Some((attr, sub))
}

#[cfg(test)]
mod tests;
