//! Users and their direct role assignments.

use super::extract::{ApiQuery, Client, IfMatch, JsonBody, Reverify};
use super::{
    app_target, no_content, paging, parse_id, permit, permit_sensitive, permit_somewhere,
    role_application, with_etag, ApiResult, AppState,
};
use crate::auth::Caller;
use crate::directory::credentials::CredentialDecision;
use crate::directory::{NewUser, UserPatch, UserRoleHolding};
use crate::store::directory::UserFilter;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::Json;
use rolecall_core::admin::{Operation, Target};
use rolecall_core::model::{GroupId, RoleId, User, UserId, UserKind, UserStatus};
use serde::{Deserialize, Serialize};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_users, create_user))
        .routes(routes!(get_user, update_user, delete_user))
        .routes(routes!(list_user_roles, assign_role))
        .routes(routes!(unassign_role))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct UserQuery {
    /// invited, active or inactive
    #[param(value_type = Option<UserStatus>, inline)]
    status: Option<String>,
    /// `person` (default) or `service` (the service accounts of API credentials).
    #[param(value_type = Option<UserKind>, inline)]
    kind: Option<String>,
    /// Case-insensitive text in username, email, first or last name.
    #[param(max_length = 200)]
    q: Option<String>,
    /// Members of this group.
    #[param(format = Uuid)]
    group: Option<String>,
    /// Holders of this role, directly or through a group.
    #[param(format = Uuid)]
    role: Option<String>,
    /// 1-based page number (default 1).
    #[param(minimum = 1, maximum = 1_000_000)]
    page: Option<i64>,
    /// Users per page (default 50).
    #[param(minimum = 1, maximum = 500)]
    per_page: Option<i64>,
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct OffboardQuery {
    /// Required when the user created live API credentials: `revoke` or `keep` them.
    #[param(inline)]
    credentials: Option<CredentialDecision>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct UserPage {
    items: Vec<User>,
    page: i64,
    per_page: i64,
    total: i64,
}

fn filter_from(q: &UserQuery) -> ApiResult<UserFilter> {
    let mut errors = Vec::new();
    let status = match q.status.as_deref() {
        None => None,
        Some(s) => UserStatus::parse("status", s)
            .map_err(|e| errors.push(e))
            .ok(),
    };
    let group = match q.group.as_deref() {
        None => None,
        Some(g) => g
            .parse::<GroupId>()
            .map_err(|_| {
                errors.push(rolecall_core::FieldError::new(
                    "group",
                    "uuid",
                    "must be a group id",
                ))
            })
            .ok(),
    };
    let role = match q.role.as_deref() {
        None => None,
        Some(r) => r
            .parse::<RoleId>()
            .map_err(|_| {
                errors.push(rolecall_core::FieldError::new(
                    "role",
                    "uuid",
                    "must be a role id",
                ))
            })
            .ok(),
    };
    if let Some(text) = &q.q {
        if text.chars().count() > 200 {
            errors.push(rolecall_core::FieldError::new(
                "q",
                "max_length",
                "must have at most 200 characters",
            ));
        }
    }
    if !errors.is_empty() {
        return Err(rolecall_core::Error::Invalid(errors).into());
    }
    let kind = match q.kind.as_deref() {
        None | Some("person") => Some(UserKind::Person),
        Some("service") => Some(UserKind::Service),
        Some(_) => {
            return Err(
                rolecall_core::Error::invalid("kind", "enum", "must be person or service").into(),
            )
        }
    };
    Ok(UserFilter {
        status,
        q: q.q.clone().filter(|s| !s.is_empty()),
        group,
        role,
        kind,
    })
}

/// Lists users, filtered and paged.
#[utoipa::path(get, path = "/api/v1/organizations/{org}/users", tag = "users", params(("org" = String, Path), UserQuery),
    responses((status = 200, body = UserPage), (status = 422, body = super::problem::Problem)))]
async fn list_users(
    State(s): State<AppState>,
    caller: Caller,
    Path(org): Path<String>,
    ApiQuery(q): ApiQuery<UserQuery>,
) -> ApiResult<Json<UserPage>> {
    let admin = permit(
        &s,
        &caller,
        &org,
        Operation::ViewUsers,
        Target::Organization,
    )
    .await?;
    let filter = filter_from(&q)?;
    let (page, per_page) = paging(q.page, q.per_page)?;
    let (items, total) = s
        .dir
        .list_users(&admin.org, &filter, page, per_page)
        .await?;
    Ok(Json(UserPage {
        items,
        page,
        per_page,
        total,
    }))
}

/// Adds a user. Only the e-mail is required; the username defaults to it.
#[utoipa::path(post, path = "/api/v1/organizations/{org}/users", tag = "users", params(("org" = String, Path), Reverify), request_body = NewUser,
    responses((status = 201, body = User), (status = 422, body = super::problem::Problem)))]
async fn create_user(
    State(s): State<AppState>,
    caller: Caller,
    Client(client): Client,
    Reverify(pw): Reverify,
    Path(org): Path<String>,
    body: JsonBody<NewUser>,
) -> ApiResult<Response> {
    let admin = permit_sensitive(
        &s,
        &caller,
        &org,
        Operation::AddUser,
        Target::Organization,
        pw.as_deref(),
        &client,
    )
    .await?;
    let body = body.parse()?;
    let user = s.dir.create_user(&admin, body).await?;
    Ok(with_etag(StatusCode::CREATED, user.version, &user))
}

/// A user; 410 Gone once deleted.
#[utoipa::path(get, path = "/api/v1/organizations/{org}/users/{id}", tag = "users", params(("org" = String, Path), ("id" = String, Path)),
    responses((status = 200, body = User), (status = 404, body = super::problem::Problem), (status = 410, body = super::problem::Problem)))]
async fn get_user(
    State(s): State<AppState>,
    caller: Caller,
    Path((org, id)): Path<(String, String)>,
) -> ApiResult<Response> {
    let admin = permit(
        &s,
        &caller,
        &org,
        Operation::ViewUsers,
        Target::Organization,
    )
    .await?;
    let user = s
        .dir
        .get_user(&admin.org, parse_id::<UserId>("user", &id)?)
        .await?;
    Ok(with_etag(StatusCode::OK, user.version, &user))
}

/// Changes a user; `status: inactive` deactivates (access void at once), `active` restores.
#[utoipa::path(patch, path = "/api/v1/organizations/{org}/users/{id}", tag = "users", params(("org" = String, Path), ("id" = String, Path), OffboardQuery, IfMatch, Reverify),
    request_body = UserPatch,
    responses((status = 200, body = User), (status = 409, body = super::problem::Problem), (status = 412, body = super::problem::Problem)))]
async fn update_user(
    State(s): State<AppState>,
    caller: Caller,
    Client(client): Client,
    Reverify(pw): Reverify,
    Path((org, id)): Path<(String, String)>,
    IfMatch(v): IfMatch,
    ApiQuery(off): ApiQuery<OffboardQuery>,
    body: JsonBody<UserPatch>,
) -> ApiResult<Response> {
    permit_somewhere(&s, &caller, &org, Operation::EditUser).await?;
    let body = body.parse()?;
    // Deactivation removes the user from the organisation: a System admin task (seed 004).
    let op = if body.status.as_deref() == Some("inactive") {
        Operation::RemoveUser
    } else {
        Operation::EditUser
    };
    let admin = permit_sensitive(
        &s,
        &caller,
        &org,
        op,
        Target::Organization,
        pw.as_deref(),
        &client,
    )
    .await?;
    let user = s
        .dir
        .update_user(
            &admin,
            parse_id::<UserId>("user", &id)?,
            body,
            v,
            off.credentials,
            &client,
        )
        .await?;
    Ok(with_etag(StatusCode::OK, user.version, &user))
}

/// Deletes a user irreversibly; the id stays resolvable as deleted.
#[utoipa::path(delete, path = "/api/v1/organizations/{org}/users/{id}", tag = "users", params(("org" = String, Path), ("id" = String, Path), OffboardQuery, IfMatch, Reverify),
    responses((status = 204), (status = 404, body = super::problem::Problem), (status = 409, description = "The user is the account owner, the last active System admin, a service account, or created live API credentials (send `credentials=revoke|keep`).", body = super::problem::Problem)))]
async fn delete_user(
    State(s): State<AppState>,
    caller: Caller,
    Client(client): Client,
    Reverify(pw): Reverify,
    Path((org, id)): Path<(String, String)>,
    IfMatch(v): IfMatch,
    ApiQuery(off): ApiQuery<OffboardQuery>,
) -> ApiResult<Response> {
    let admin = permit_sensitive(
        &s,
        &caller,
        &org,
        Operation::RemoveUser,
        Target::Organization,
        pw.as_deref(),
        &client,
    )
    .await?;
    s.dir
        .delete_user(
            &admin,
            parse_id::<UserId>("user", &id)?,
            v,
            off.credentials,
            &client,
        )
        .await?;
    Ok(no_content())
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct UserRoleList {
    items: Vec<UserRoleHolding>,
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RoleRef {
    pub role_id: String,
}

/// Every role the user holds, directly and through groups.
#[utoipa::path(get, path = "/api/v1/organizations/{org}/users/{id}/roles", tag = "assignments", params(("org" = String, Path), ("id" = String, Path)),
    responses((status = 200, body = UserRoleList)))]
async fn list_user_roles(
    State(s): State<AppState>,
    caller: Caller,
    Path((org, id)): Path<(String, String)>,
) -> ApiResult<Json<UserRoleList>> {
    let admin = permit(
        &s,
        &caller,
        &org,
        Operation::ViewRoles,
        Target::Organization,
    )
    .await?;
    Ok(Json(UserRoleList {
        items: s
            .dir
            .user_roles(&admin.org, parse_id::<UserId>("user", &id)?)
            .await?,
    }))
}

/// Assigns a role directly (201 when new, 200 when already held).
#[utoipa::path(post, path = "/api/v1/organizations/{org}/users/{id}/roles", tag = "assignments", params(("org" = String, Path), ("id" = String, Path), Reverify),
    request_body = RoleRef,
    responses((status = 201, body = UserRoleList), (status = 200, body = UserRoleList), (status = 409, body = super::problem::Problem)))]
async fn assign_role(
    State(s): State<AppState>,
    caller: Caller,
    Client(client): Client,
    Reverify(pw): Reverify,
    Path((org, id)): Path<(String, String)>,
    body: JsonBody<RoleRef>,
) -> ApiResult<(StatusCode, Json<UserRoleList>)> {
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
    let user = parse_id::<UserId>("user", &id)?;
    let role = body
        .role_id
        .parse::<RoleId>()
        .map_err(|_| rolecall_core::Error::invalid("role_id", "uuid", "must be a role id"))?;
    let added = s.dir.assign_role(&admin, user, role).await?;
    let items = s.dir.user_roles(&admin.org, user).await?;
    Ok((
        if added {
            StatusCode::CREATED
        } else {
            StatusCode::OK
        },
        Json(UserRoleList { items }),
    ))
}

/// Removes a direct assignment.
#[utoipa::path(delete, path = "/api/v1/organizations/{org}/users/{id}/roles/{role}", tag = "assignments",
    params(("org" = String, Path), ("id" = String, Path), ("role" = String, Path), Reverify), responses((status = 409, body = super::problem::Problem, description = "A rule of the application refuses it: `last_administrator` (the last active holder of `Administrators` stays) or `one_role_per_user` (naming the role the user holds and how)"), (status = 204), (status = 404, body = super::problem::Problem)))]
async fn unassign_role(
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
        .unassign_role(
            &admin,
            parse_id::<UserId>("user", &id)?,
            parse_id::<RoleId>("role assignment", &role)?,
        )
        .await?;
    Ok(no_content())
}
