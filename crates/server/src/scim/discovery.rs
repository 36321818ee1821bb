//! The discovery endpoints (RFC 7644 §4): `/ServiceProviderConfig`, `/ResourceTypes[/{name}]`,
//! `/Schemas[/{urn}]`. Read-only: any other method is 405 with a SCIM error body. They describe
//! exactly what the server accepts and returns, and need no authentication beyond a SCIM
//! client's token (RFC 7644 §4 lets them be public; identity providers send the token anyway).

use super::auth::ScimCaller;
use super::error::{ScimFailure, ScimResult};
use super::{
    group_type, scim_json, user_type, BaseUrl, BULK_MAX_OPERATIONS, BULK_MAX_PAYLOAD, MAX_RESULTS,
};
use axum::extract::Path;
use axum::http::StatusCode;
use axum::response::Response;
use rolecall_scim::discovery::{resource_types_list, schemas_list, ServiceProviderConfig};
use rolecall_scim::schema::ResourceType;

fn types() -> [ResourceType; 2] {
    [user_type().clone(), group_type().clone()]
}

pub async fn service_provider_config(_: ScimCaller, base: BaseUrl) -> Response {
    let config = ServiceProviderConfig::default()
        .bulk(BULK_MAX_OPERATIONS, BULK_MAX_PAYLOAD as u64)
        .max_results(MAX_RESULTS as u32);
    scim_json(StatusCode::OK, &config.to_json(&base.0))
}

pub async fn resource_types(_: ScimCaller, base: BaseUrl) -> Response {
    scim_json(StatusCode::OK, &resource_types_list(&types(), &base.0))
}

pub async fn resource_type(
    _: ScimCaller,
    base: BaseUrl,
    Path(name): Path<String>,
) -> ScimResult<Response> {
    types()
        .iter()
        .find(|t| t.name.eq_ignore_ascii_case(&name))
        .map(|t| scim_json(StatusCode::OK, &t.to_json(&base.0)))
        .ok_or_else(|| ScimFailure::not_found("resource type", &name))
}

pub async fn schemas(_: ScimCaller, base: BaseUrl) -> Response {
    scim_json(StatusCode::OK, &schemas_list(&types(), &base.0))
}

pub async fn schema(_: ScimCaller, base: BaseUrl, Path(urn): Path<String>) -> ScimResult<Response> {
    types()
        .iter()
        .flat_map(|t| t.schemas())
        .find(|s| s.id.eq_ignore_ascii_case(&urn))
        .map(|s| scim_json(StatusCode::OK, &s.to_json(&base.0)))
        .ok_or_else(|| ScimFailure::not_found("schema", &urn))
}

/// Any method but GET on a discovery endpoint.
pub async fn read_only() -> ScimFailure {
    ScimFailure::method_not_allowed()
}
