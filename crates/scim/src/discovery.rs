//! The discovery endpoints' bodies (RFC 7644 §4): `/ServiceProviderConfig`, and the list
//! wrappers for `/Schemas` and `/ResourceTypes`. The server decides the limits; this module
//! only spells them the way clients expect.

use crate::list::ListResponse;
use crate::schema::ResourceType;
use serde_json::{json, Value};

/// URN of the ServiceProviderConfig schema.
pub const SERVICE_PROVIDER_CONFIG_SCHEMA: &str =
    "urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig";

/// What rolecall advertises. PATCH, sorting, ETags and filtering are implemented by this
/// crate; bulk is advertised with the server's limits; password change goes through rolecall's
/// own flows, so it is off.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServiceProviderConfig {
    /// Link to human-readable documentation, if any.
    pub documentation_uri: Option<String>,
    /// Most operations accepted in one bulk request.
    pub bulk_max_operations: u32,
    /// Largest bulk request body in bytes.
    pub bulk_max_payload_size: u64,
    /// Most resources one filtered query returns.
    pub filter_max_results: u32,
}

impl Default for ServiceProviderConfig {
    fn default() -> Self {
        ServiceProviderConfig {
            documentation_uri: None,
            bulk_max_operations: 1000,
            bulk_max_payload_size: 1_048_576,
            filter_max_results: 200,
        }
    }
}

impl ServiceProviderConfig {
    /// Sets the documentation link.
    pub fn documentation(mut self, uri: &str) -> Self {
        self.documentation_uri = Some(uri.to_string());
        self
    }

    /// Sets the bulk limits.
    pub fn bulk(mut self, max_operations: u32, max_payload_size: u64) -> Self {
        self.bulk_max_operations = max_operations;
        self.bulk_max_payload_size = max_payload_size;
        self
    }

    /// Sets the most resources a query returns.
    pub fn max_results(mut self, n: u32) -> Self {
        self.filter_max_results = n;
        self
    }

    /// The `/ServiceProviderConfig` body; `base` is the SCIM base URL without a trailing slash.
    pub fn to_json(&self, base: &str) -> Value {
        let mut v = json!({
            "schemas": [SERVICE_PROVIDER_CONFIG_SCHEMA],
            "patch": {"supported": true},
            "bulk": {
                "supported": true,
                "maxOperations": self.bulk_max_operations,
                "maxPayloadSize": self.bulk_max_payload_size,
            },
            "filter": {"supported": true, "maxResults": self.filter_max_results},
            "changePassword": {"supported": false},
            "sort": {"supported": true},
            "etag": {"supported": true},
            "authenticationSchemes": [{
                "type": "oauthbearertoken",
                "name": "OAuth Bearer Token",
                "description": "Authentication with a bearer token in the Authorization header.",
                "primary": true,
            }],
            "meta": {
                "resourceType": "ServiceProviderConfig",
                "location": format!("{base}/ServiceProviderConfig"),
            },
        });
        if let Some(doc) = &self.documentation_uri {
            v["documentationUri"] = Value::String(doc.clone());
        }
        v
    }
}

/// The `/Schemas` list body for the given resource types (each schema once).
pub fn schemas_list(types: &[ResourceType], base: &str) -> Value {
    let mut seen: Vec<&str> = Vec::new();
    let mut resources = Vec::new();
    for schema in types.iter().flat_map(|t| t.schemas()) {
        if !seen.contains(&schema.id.as_str()) {
            seen.push(&schema.id);
            resources.push(schema.to_json(base));
        }
    }
    ListResponse::complete(resources).to_json()
}

/// The `/ResourceTypes` list body.
pub fn resource_types_list(types: &[ResourceType], base: &str) -> Value {
    ListResponse::complete(types.iter().map(|t| t.to_json(base)).collect()).to_json()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn service_provider_config_advertises_what_is_implemented() {
        let v = ServiceProviderConfig::default()
            .bulk(50, 2048)
            .max_results(100)
            .documentation("https://example.com/docs")
            .to_json("https://h/scim/v2");
        assert_eq!(v["schemas"][0], SERVICE_PROVIDER_CONFIG_SCHEMA);
        assert_eq!(v["patch"]["supported"], true);
        assert_eq!(v["bulk"]["supported"], true);
        assert_eq!(v["bulk"]["maxOperations"], 50);
        assert_eq!(v["bulk"]["maxPayloadSize"], 2048);
        assert_eq!(v["filter"]["supported"], true);
        assert_eq!(v["filter"]["maxResults"], 100);
        assert_eq!(v["changePassword"]["supported"], false);
        assert_eq!(v["sort"]["supported"], true);
        assert_eq!(v["etag"]["supported"], true);
        assert_eq!(v["authenticationSchemes"][0]["type"], "oauthbearertoken");
        assert_eq!(v["documentationUri"], "https://example.com/docs");
        assert_eq!(
            v["meta"]["location"],
            "https://h/scim/v2/ServiceProviderConfig"
        );
    }

    #[test]
    fn schemas_list_names_each_schema_once() {
        let v = schemas_list(
            &[
                ResourceType::user(),
                ResourceType::group(),
                ResourceType::user(),
            ],
            "https://h/scim/v2",
        );
        assert_eq!(v["totalResults"], 3);
        let ids: Vec<&str> = v["Resources"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|r| r["id"].as_str())
            .collect();
        assert_eq!(
            ids,
            [
                crate::schema::USER_SCHEMA,
                crate::schema::ENTERPRISE_USER_SCHEMA,
                crate::schema::GROUP_SCHEMA
            ]
        );
    }

    #[test]
    fn resource_types_list_wraps_each_type() {
        let v = resource_types_list(
            &[ResourceType::user(), ResourceType::group()],
            "https://h/scim/v2",
        );
        assert_eq!(v["Resources"][0]["endpoint"], "/Users");
        assert_eq!(v["Resources"][1]["endpoint"], "/Groups");
        assert_eq!(v["itemsPerPage"], 2);
    }
}
