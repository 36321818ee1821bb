//! User groups, their members and the roles assigned to them.

use super::extract::{ApiQuery, Client, IfMatch, JsonBody, Reverify};
use super::{
    app_target, no_content, paging, parse_id, permit, permit_sensitive, permit_somewhere,
    role_application, with_etag, ApiResult, AppState,
};
use crate::auth::Caller;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::Json;
use rolecall_core::admin::{Operation, Target};
use rolecall_core::model::{Group, GroupId, Role, RoleId, User, UserId};
use serde::{Deserialize, Serialize};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_groups, create_group))
        .routes(routes!(get_group, update_group, delete_group))
        .routes(routes!(list_members, add_member))
        .routes(routes!(remove_member))
        .routes(routes!(list_group_roles, add_group_role))
        .routes(routes!(remove_group_role))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewGroup {
    name: String,
    description: Option<String>,
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct GroupPatch {
    name: Option<String>,
    description: Option<String>,
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct GroupQuery {
    /// Case-insensitive text in the name.
    q: Option<String>,
    /// 1-based page number (default 1).
    #[param(minimum = 1, maximum = 1_000_000)]
    page: Option<i64>,
    /// Groups per page (default 50).
    #[param(minimum = 1, maximum = 500)]
    per_page: Option<i64>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct GroupPage {
    items: Vec<Group>,
    page: i64,
    per_page: i64,
    total: i64,
}

#[utoipa::path(get, path = "/api/v1/organizations/{org}/groups", tag = "groups", params(("org" = String, Path), GroupQuery), responses((status = 200, body = GroupPage)))]
async fn list_groups(
    State(s): State<AppState>,
    caller: Caller,
    Path(org): Path<String>,
    ApiQuery(q): ApiQuery<GroupQuery>,
) -> ApiResult<Json<GroupPage>> {
    let admin = permit(
        &s,
        &caller,
        &org,
        Operation::ViewGroups,
        Target::Organization,
    )
    .await?;
    let (page, per_page) = paging(q.page, q.per_page)?;
    let (items, total) = s
        .dir
        .list_groups(
            &admin.org,
            q.q.as_deref().filter(|t| !t.is_empty()),
            page,
            per_page,
        )
        .await?;
    Ok(Json(GroupPage {
        items,
        page,
        per_page,
        total,
    }))
}

#[utoipa::path(post, path = "/api/v1/organizations/{org}/groups", tag = "groups", params(("org" = String, Path)), request_body = NewGroup,
    responses((status = 201, body = Group), (status = 422, body = super::problem::Problem)))]
async fn create_group(
    State(s): State<AppState>,
    caller: Caller,
    Path(org): Path<String>,
    body: JsonBody<NewGroup>,
) -> ApiResult<Response> {
    let admin = permit(
        &s,
        &caller,
        &org,
        Operation::CreateGroup,
        Target::Organization,
    )
    .await?;
    let body = body.parse()?;
    let g = s
        .dir
        .create_group(&admin, &body.name, body.description.as_deref())
        .await?;
    Ok(with_etag(StatusCode::CREATED, g.version, &g))
}

#[utoipa::path(get, path = "/api/v1/organizations/{org}/groups/{id}", tag = "groups", params(("org" = String, Path), ("id" = String, Path)),
    responses((status = 200, body = Group), (status = 404, body = super::problem::Problem)))]
async fn get_group(
    State(s): State<AppState>,
    caller: Caller,
    Path((org, id)): Path<(String, String)>,
) -> ApiResult<Response> {
    let admin = permit(
        &s,
        &caller,
        &org,
        Operation::ViewGroups,
        Target::Organization,
    )
    .await?;
    let g = s
        .dir
        .get_group(&admin.org, parse_id::<GroupId>("group", &id)?)
        .await?;
    Ok(with_etag(StatusCode::OK, g.version, &g))
}

#[utoipa::path(patch, path = "/api/v1/organizations/{org}/groups/{id}", tag = "groups", params(("org" = String, Path), ("id" = String, Path), IfMatch),
    request_body = GroupPatch, responses((status = 200, body = Group), (status = 412, body = super::problem::Problem)))]
async fn update_group(
    State(s): State<AppState>,
    caller: Caller,
    Path((org, id)): Path<(String, String)>,
    IfMatch(v): IfMatch,
    body: JsonBody<GroupPatch>,
) -> ApiResult<Response> {
    let admin = permit(&s, &caller, &org, Operation::EditGroup, Target::Group(&id)).await?;
    let body = body.parse()?;
    let g = s
        .dir
        .update_group(
            &admin,
            parse_id::<GroupId>("group", &id)?,
            body.name.as_deref(),
            body.description.as_deref(),
            v,
        )
        .await?;
    Ok(with_etag(StatusCode::OK, g.version, &g))
}

/// Deletes the group; members keep their accounts.
#[utoipa::path(delete, path = "/api/v1/organizations/{org}/groups/{id}", tag = "groups", params(("org" = String, Path), ("id" = String, Path), IfMatch),
    responses((status = 409, body = super::problem::Problem, description = "A rule of the application refuses it: `last_administrator` (the last active holder of `Administrators` stays) or `one_role_per_user` (naming the role the user holds and how)"), (status = 204), (status = 404, body = super::problem::Problem)))]
async fn delete_group(
    State(s): State<AppState>,
    caller: Caller,
    Path((org, id)): Path<(String, String)>,
    IfMatch(v): IfMatch,
) -> ApiResult<Response> {
    let admin = permit(
        &s,
        &caller,
        &org,
        Operation::RemoveGroup,
        Target::Organization,
    )
    .await?;
    s.dir
        .delete_group(&admin, parse_id::<GroupId>("group", &id)?, v)
        .await?;
    Ok(no_content())
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct MemberList {
    items: Vec<User>,
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UserRef {
    user_id: String,
}

#[utoipa::path(get, path = "/api/v1/organizations/{org}/groups/{id}/members", tag = "groups", params(("org" = String, Path), ("id" = String, Path)),
    responses((status = 200, body = MemberList)))]
async fn list_members(
    State(s): State<AppState>,
    caller: Caller,
    Path((org, id)): Path<(String, String)>,
) -> ApiResult<Json<MemberList>> {
    let admin = permit(
        &s,
        &caller,
        &org,
        Operation::ViewGroups,
        Target::Organization,
    )
    .await?;
    Ok(Json(MemberList {
        items: s
            .dir
            .group_members(&admin.org, parse_id::<GroupId>("group", &id)?)
            .await?,
    }))
}

/// Adds a member (201 when new, 200 when already a member).
#[utoipa::path(post, path = "/api/v1/organizations/{org}/groups/{id}/members", tag = "groups", params(("org" = String, Path), ("id" = String, Path), Reverify),
    request_body = UserRef, responses((status = 201), (status = 200), (status = 409, description = "Joining would break a rule of the group's roles or profiles: one role per user, or a profile's seat quota.", body = super::problem::Problem), (status = 422, body = super::problem::Problem)))]
async fn add_member(
    State(s): State<AppState>,
    caller: Caller,
    Client(client): Client,
    Reverify(pw): Reverify,
    Path((org, id)): Path<(String, String)>,
    body: JsonBody<UserRef>,
) -> ApiResult<StatusCode> {
    let admin = permit_sensitive(
        &s,
        &caller,
        &org,
        Operation::ManageGroupMembers,
        Target::Group(&id),
        pw.as_deref(),
        &client,
    )
    .await?;
    let body = body.parse()?;
    let user = body
        .user_id
        .parse::<UserId>()
        .map_err(|_| rolecall_core::Error::invalid("user_id", "uuid", "must be a user id"))?;
    let added = s
        .dir
        .add_member(&admin, parse_id::<GroupId>("group", &id)?, user)
        .await?;
    Ok(if added {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    })
}

#[utoipa::path(delete, path = "/api/v1/organizations/{org}/groups/{id}/members/{user}", tag = "groups",
    params(("org" = String, Path), ("id" = String, Path), ("user" = String, Path), Reverify), responses((status = 409, body = super::problem::Problem, description = "A rule of the application refuses it: `last_administrator` (the last active holder of `Administrators` stays) or `one_role_per_user` (naming the role the user holds and how)"), (status = 204), (status = 404, body = super::problem::Problem)))]
async fn remove_member(
    State(s): State<AppState>,
    caller: Caller,
    Client(client): Client,
    Reverify(pw): Reverify,
    Path((org, id, user)): Path<(String, String, String)>,
) -> ApiResult<Response> {
    let admin = permit_sensitive(
        &s,
        &caller,
        &org,
        Operation::ManageGroupMembers,
        Target::Group(&id),
        pw.as_deref(),
        &client,
    )
    .await?;
    s.dir
        .remove_member(
            &admin,
            parse_id::<GroupId>("group", &id)?,
            parse_id::<UserId>("membership", &user)?,
        )
        .await?;
    Ok(no_content())
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct GroupRoleList {
    items: Vec<Role>,
}

#[utoipa::path(get, path = "/api/v1/organizations/{org}/groups/{id}/roles", tag = "groups", params(("org" = String, Path), ("id" = String, Path)),
    responses((status = 200, body = GroupRoleList)))]
async fn list_group_roles(
    State(s): State<AppState>,
    caller: Caller,
    Path((org, id)): Path<(String, String)>,
) -> ApiResult<Json<GroupRoleList>> {
    let admin = permit(
        &s,
        &caller,
        &org,
        Operation::ViewGroups,
        Target::Organization,
    )
    .await?;
    Ok(Json(GroupRoleList {
        items: s
            .dir
            .group_roles(&admin.org, parse_id::<GroupId>("group", &id)?)
            .await?,
    }))
}

/// Assigns a role to the group: every member holds it.
#[utoipa::path(post, path = "/api/v1/organizations/{org}/groups/{id}/roles", tag = "groups", params(("org" = String, Path), ("id" = String, Path), Reverify),
    request_body = super::users::RoleRef, responses((status = 409, body = super::problem::Problem, description = "A rule of the application refuses it: `last_administrator` (the last active holder of `Administrators` stays) or `one_role_per_user` (naming the role the user holds and how)"), (status = 201), (status = 200), (status = 422, body = super::problem::Problem)))]
async fn add_group_role(
    State(s): State<AppState>,
    caller: Caller,
    Client(client): Client,
    Reverify(pw): Reverify,
    Path((org, id)): Path<(String, String)>,
    body: JsonBody<super::users::RoleRef>,
) -> ApiResult<StatusCode> {
    permit_somewhere(&s, &caller, &org, Operation::AssignRole).await?;
    let body = body.parse()?;
    let app = role_application(&s, &org, &body.role_id).await?;
    let admin = permit_sensitive(
        &s,
        &caller,
        &org,
        Operation::AssignRole,
        app_target(&app),
        pw.as_deref(),
        &client,
    )
    .await?;
    let role = body
        .role_id
        .parse::<RoleId>()
        .map_err(|_| rolecall_core::Error::invalid("role_id", "uuid", "must be a role id"))?;
    let added = s
        .dir
        .add_group_role(&admin, parse_id::<GroupId>("group", &id)?, role)
        .await?;
    Ok(if added {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    })
}

#[utoipa::path(delete, path = "/api/v1/organizations/{org}/groups/{id}/roles/{role}", tag = "groups",
    params(("org" = String, Path), ("id" = String, Path), ("role" = String, Path), Reverify), responses((status = 409, body = super::problem::Problem, description = "A rule of the application refuses it: `last_administrator` (the last active holder of `Administrators` stays) or `one_role_per_user` (naming the role the user holds and how)"), (status = 204), (status = 404, body = super::problem::Problem)))]
async fn remove_group_role(
    State(s): State<AppState>,
    caller: Caller,
    Client(client): Client,
    Reverify(pw): Reverify,
    Path((org, id, role)): Path<(String, String, String)>,
) -> ApiResult<Response> {
    let app = role_application(&s, &org, &role).await?;
    let admin = permit_sensitive(
        &s,
        &caller,
        &org,
        Operation::AssignRole,
        app_target(&app),
        pw.as_deref(),
        &client,
    )
    .await?;
    s.dir
        .remove_group_role(
            &admin,
            parse_id::<GroupId>("group", &id)?,
            parse_id::<RoleId>("group role", &role)?,
        )
        .await?;
    Ok(no_content())
}
