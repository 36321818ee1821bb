//! Organizations, applications (the catalogue) and scopes.

use super::extract::{IfMatch, JsonBody};
use super::{no_content, org_admin, permit, with_etag, ApiResult, AppState};
use crate::auth::Caller;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::Json;
use rolecall_core::admin::{Operation, Target};
use rolecall_core::catalogue::{AppTree, ApplicationDef, ResourceDef};
use rolecall_core::model::{Organization, Scope};
use serde::{Deserialize, Serialize};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_orgs, create_org))
        .routes(routes!(get_org, update_org))
        .routes(routes!(list_apps))
        .routes(routes!(get_app, put_app))
        .routes(routes!(list_scopes, create_scope))
        .routes(routes!(delete_scope))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewOrg {
    /// URL name: lower-case letters, digits and -.
    slug: String,
    name: String,
    /// `enterprise` (default) or `teams`.
    #[serde(default)]
    kind: rolecall_core::admin::OrgKind,
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OrgPatch {
    name: String,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct OrgList {
    items: Vec<Organization>,
}

/// Organizations the caller can see.
#[utoipa::path(get, path = "/api/v1/organizations", tag = "organizations", responses((status = 200, body = OrgList), (status = 401, body = super::problem::Problem)))]
async fn list_orgs(State(s): State<AppState>, caller: Caller) -> ApiResult<Json<OrgList>> {
    let items = s
        .dir
        .list_orgs()
        .await?
        .into_iter()
        .filter(|o| caller.may_see(o))
        .collect();
    Ok(Json(OrgList { items }))
}

/// Creates an organization with every application's built-in roles and default scopes.
#[utoipa::path(post, path = "/api/v1/organizations", tag = "organizations", request_body = NewOrg,
    responses((status = 201, body = Organization), (status = 403, body = super::problem::Problem), (status = 422, body = super::problem::Problem)))]
async fn create_org(
    State(s): State<AppState>,
    caller: Caller,
    body: JsonBody<NewOrg>,
) -> ApiResult<Response> {
    caller.require_server()?;
    let body = body.parse()?;
    let org = s
        .dir
        .create_org_of_kind(&body.slug, &body.name, body.kind)
        .await?;
    Ok(with_etag(StatusCode::CREATED, org.version, &org))
}

#[utoipa::path(get, path = "/api/v1/organizations/{org}", tag = "organizations", params(("org" = String, Path, description = "slug or id")),
    responses((status = 200, body = Organization), (status = 404, body = super::problem::Problem)))]
async fn get_org(
    State(s): State<AppState>,
    caller: Caller,
    Path(org): Path<String>,
) -> ApiResult<Response> {
    let admin = org_admin(&s, &caller, &org).await?;
    Ok(with_etag(StatusCode::OK, admin.org.version, &admin.org))
}

#[utoipa::path(patch, path = "/api/v1/organizations/{org}", tag = "organizations", params(("org" = String, Path), IfMatch), request_body = OrgPatch,
    responses((status = 200, body = Organization), (status = 412, body = super::problem::Problem)))]
async fn update_org(
    State(s): State<AppState>,
    caller: Caller,
    Path(org): Path<String>,
    IfMatch(v): IfMatch,
    body: JsonBody<OrgPatch>,
) -> ApiResult<Response> {
    let admin = permit(
        &s,
        &caller,
        &org,
        Operation::ManageSettings,
        Target::Organization,
    )
    .await?;
    let body = body.parse()?;
    let org = s.dir.rename_org(&admin, &body.name, v).await?;
    Ok(with_etag(StatusCode::OK, org.version, &org))
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct AppSummary {
    key: String,
    name: String,
    description: String,
    one_role_per_user: bool,
    keep_an_administrator: bool,
    role_names: rolecall_core::validate::RoleNaming,
    roles_through_groups: bool,
    actions: Vec<String>,
    scope_kinds: Vec<String>,
    resource_count: usize,
}

fn summary(t: &AppTree) -> AppSummary {
    AppSummary {
        key: t.def.key.clone(),
        name: t.def.name.clone(),
        description: t.def.description.clone(),
        one_role_per_user: t.def.one_role_per_user,
        keep_an_administrator: t.def.keep_an_administrator,
        role_names: t.def.role_names,
        roles_through_groups: t.def.roles_through_groups,
        actions: t.def.actions.clone(),
        scope_kinds: t.def.scope_kinds.clone(),
        resource_count: t.resources.len(),
    }
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct AppList {
    items: Vec<AppSummary>,
}

/// The governed applications.
#[utoipa::path(get, path = "/api/v1/applications", tag = "applications", responses((status = 200, body = AppList)))]
async fn list_apps(State(s): State<AppState>, _caller: Caller) -> ApiResult<Json<AppList>> {
    Ok(Json(AppList {
        items: s.dir.catalogue().apps.iter().map(|a| summary(a)).collect(),
    }))
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct AppDetail {
    #[serde(flatten)]
    summary: AppSummary,
    resources: ResourceDef,
}

/// One application with its whole resource tree.
#[utoipa::path(get, path = "/api/v1/applications/{key}", tag = "applications", params(("key" = String, Path)),
    responses((status = 200, body = AppDetail), (status = 404, body = super::problem::Problem)))]
async fn get_app(
    State(s): State<AppState>,
    _caller: Caller,
    Path(key): Path<String>,
) -> ApiResult<Json<AppDetail>> {
    let catalogue = s.dir.catalogue();
    let app = catalogue
        .get(&key)
        .ok_or_else(|| rolecall_core::Error::not_found("application", &key))?;
    Ok(Json(AppDetail {
        summary: summary(app),
        resources: app.def.resources.clone(),
    }))
}

/// Adds or replaces an application definition (server-wide tokens only).
#[utoipa::path(put, path = "/api/v1/applications/{key}", tag = "applications", params(("key" = String, Path)), request_body = ApplicationDef,
    responses((status = 200, body = AppSummary), (status = 422, body = super::problem::Problem)))]
async fn put_app(
    State(s): State<AppState>,
    caller: Caller,
    Path(key): Path<String>,
    def: JsonBody<ApplicationDef>,
) -> ApiResult<Json<AppSummary>> {
    caller.require_server()?;
    let def = def.parse()?;
    if def.key != key {
        return Err(rolecall_core::Error::invalid(
            "key",
            "matches_path",
            "must equal the key in the URL",
        )
        .into());
    }
    let tree = s.dir.put_application(def).await?;
    Ok(Json(summary(&tree)))
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ScopeList {
    items: Vec<Scope>,
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewScope {
    code: String,
    /// Parent scope code; the root when absent.
    parent: Option<String>,
    #[serde(default)]
    name: String,
}

/// The organization's scope tree for an application, root first.
#[utoipa::path(get, path = "/api/v1/organizations/{org}/applications/{app}/scopes", tag = "applications", params(("org" = String, Path), ("app" = String, Path)),
    responses((status = 200, body = ScopeList)))]
async fn list_scopes(
    State(s): State<AppState>,
    caller: Caller,
    Path((org, app)): Path<(String, String)>,
) -> ApiResult<Json<ScopeList>> {
    let admin = permit(
        &s,
        &caller,
        &org,
        Operation::ViewRoles,
        Target::Organization,
    )
    .await?;
    Ok(Json(ScopeList {
        items: s.dir.list_scopes(&admin.org, &app).await?,
    }))
}

/// Adds a website, store, store view or environment below its parent.
#[utoipa::path(post, path = "/api/v1/organizations/{org}/applications/{app}/scopes", tag = "applications", params(("org" = String, Path), ("app" = String, Path)),
    request_body = NewScope, responses((status = 201, body = Scope), (status = 422, body = super::problem::Problem)))]
async fn create_scope(
    State(s): State<AppState>,
    caller: Caller,
    Path((org, app)): Path<(String, String)>,
    body: JsonBody<NewScope>,
) -> ApiResult<(StatusCode, Json<Scope>)> {
    let admin = permit(
        &s,
        &caller,
        &org,
        Operation::ManageScopes,
        Target::Application(&app),
    )
    .await?;
    let body = body.parse()?;
    let scope = s
        .dir
        .create_scope(&admin, &app, &body.code, body.parent.as_deref(), &body.name)
        .await?;
    Ok((StatusCode::CREATED, Json(scope)))
}

/// Deletes a leaf scope no role is limited to.
#[utoipa::path(delete, path = "/api/v1/organizations/{org}/applications/{app}/scopes/{code}", tag = "applications",
    params(("org" = String, Path), ("app" = String, Path), ("code" = String, Path)),
    responses((status = 204), (status = 409, body = super::problem::Problem)))]
async fn delete_scope(
    State(s): State<AppState>,
    caller: Caller,
    Path((org, app, code)): Path<(String, String, String)>,
) -> ApiResult<Response> {
    let admin = permit(
        &s,
        &caller,
        &org,
        Operation::ManageScopes,
        Target::Application(&app),
    )
    .await?;
    s.dir.delete_scope(&admin, &app, &code).await?;
    Ok(no_content())
}
