//! Users and their direct role assignments.

use super::extract::{ApiQuery, Client, IfMatch, JsonBody, Reverify};
use super::{
    app_target, no_content, paging, parse_id, permit, permit_sensitive, permit_somewhere,
    role_application, with_etag, ApiResult, AppState,
};
use crate::auth::Caller;
use crate::directory::credentials::CredentialDecision;
use crate::directory::{NewUser, UserPatch, UserRoleHolding};
use crate::directory::{PageStart, UserListRequest};
use crate::store::user_list::{AdminRightFilter, SortOrder, UserFilter, UserSort};
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::Json;
use rolecall_core::admin::{Operation, RightKind, Target};
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
    /// Assigned to this application (its key): one of its roles or a seat in one of its
    /// profiles, directly or through a group.
    #[param(min_length = 1, max_length = 100)]
    application: Option<String>,
    /// Holding a seat in this product profile, directly or through a group.
    #[param(format = Uuid)]
    profile: Option<String>,
    /// Holding an organisation administration right of this kind; `any` for every admin.
    #[param(value_type = Option<AdminRightParam>, inline)]
    admin_right: Option<String>,
    /// Last signed in strictly before this instant (Unix ms); users who never signed in do
    /// not match.
    #[param(minimum = 0)]
    last_sign_in_before: Option<i64>,
    /// Last signed in strictly after this instant (Unix ms).
    #[param(minimum = 0)]
    last_sign_in_after: Option<i64>,
    /// What the list is ordered by (default `username`); ties are broken by the user id.
    /// Users who never signed in come first in ascending `last_sign_in_at` order.
    #[param(value_type = Option<UserSort>, inline)]
    sort: Option<String>,
    /// `asc` (default) or `desc`.
    #[param(value_type = Option<SortOrder>, inline)]
    order: Option<String>,
    /// Opaque position from a previous page's `next_cursor` (same `sort` and `order`); the
    /// page starts right after the last user of that page, however many users were added or
    /// removed since. Not combined with `page`.
    #[param(min_length = 1, max_length = 1000)]
    cursor: Option<String>,
    /// 1-based page number (default 1).
    #[param(minimum = 1, maximum = 1_000_000)]
    page: Option<i64>,
    /// Users per page (default 50).
    #[param(minimum = 1, maximum = 500)]
    per_page: Option<i64>,
}

/// The `admin_right` filter's values: a right kind, or `any`.
#[derive(utoipa::ToSchema)]
#[schema(as = AdminRightParam)]
#[allow(dead_code)] // documents the accepted values; parsed by `filter_from`
enum AdminRightParam {
    #[schema(rename = "any")]
    Any,
    #[schema(rename = "system")]
    System,
    #[schema(rename = "product")]
    Product,
    #[schema(rename = "product_profile")]
    ProductProfile,
    #[schema(rename = "user_group")]
    UserGroup,
    #[schema(rename = "deployment")]
    Deployment,
    #[schema(rename = "support")]
    Support,
    #[schema(rename = "storage")]
    Storage,
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
    /// The page number asked for; absent when the page was asked for by `cursor`.
    #[serde(skip_serializing_if = "Option::is_none")]
    page: Option<i64>,
    per_page: i64,
    /// Users matching the filters, on every page.
    total: i64,
    /// Pass as `cursor` (with the same filters, `sort` and `order`) for the next page; absent
    /// on the last page.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(max_length = 1000)]
    next_cursor: Option<String>,
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
    let profile = match q.profile.as_deref() {
        None => None,
        Some(p) => p
            .parse::<uuid::Uuid>()
            .map(rolecall_core::authz::ProfileId)
            .map_err(|_| {
                errors.push(rolecall_core::FieldError::new(
                    "profile",
                    "uuid",
                    "must be a profile id",
                ))
            })
            .ok(),
    };
    if let Some(app) = &q.application {
        if app.is_empty() || app.chars().count() > 100 {
            errors.push(rolecall_core::FieldError::new(
                "application",
                "length",
                "must have 1 to 100 characters",
            ));
        }
    }
    let admin_right = match q.admin_right.as_deref() {
        None => None,
        Some("any") => Some(AdminRightFilter::Any),
        Some(k) => match RightKind::parse(k) {
            Some(kind) => Some(AdminRightFilter::Kind(kind)),
            None => {
                errors.push(rolecall_core::FieldError::new(
                    "admin_right",
                    "enum",
                    "must be any, system, product, product_profile, user_group, deployment, \
                     support or storage",
                ));
                None
            }
        },
    };
    for (field, value) in [
        ("last_sign_in_before", q.last_sign_in_before),
        ("last_sign_in_after", q.last_sign_in_after),
    ] {
        if value.is_some_and(|t| t < 0) {
            errors.push(rolecall_core::FieldError::new(
                field,
                "minimum",
                "must be an instant in Unix milliseconds, 0 or more",
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
        // The API's `q` stays a substring anywhere (its documented contract).
        q_match: Default::default(),
        group,
        role,
        kind,
        application: q.application.clone(),
        profile,
        admin_right,
        last_sign_in_before: q.last_sign_in_before,
        last_sign_in_after: q.last_sign_in_after,
    })
}

/// The order and where the page starts; `cursor` and `page` exclude each other.
fn list_request(q: &UserQuery, filter: UserFilter) -> ApiResult<UserListRequest> {
    let mut errors = Vec::new();
    let sort = match q.sort.as_deref() {
        None => UserSort::default(),
        Some(s) => UserSort::parse(s).unwrap_or_else(|| {
            errors.push(rolecall_core::FieldError::new(
                "sort",
                "enum",
                "must be username, email, last_sign_in_at or created_at",
            ));
            UserSort::default()
        }),
    };
    let order = match q.order.as_deref() {
        None => SortOrder::default(),
        Some(o) => SortOrder::parse(o).unwrap_or_else(|| {
            errors.push(rolecall_core::FieldError::new(
                "order",
                "enum",
                "must be asc or desc",
            ));
            SortOrder::default()
        }),
    };
    let cursor = match q.cursor.as_deref() {
        Some(c) if c.is_empty() || c.len() > 1000 => {
            errors.push(rolecall_core::FieldError::new(
                "cursor",
                "length",
                "must have 1 to 1000 characters",
            ));
            None
        }
        other => other,
    };
    if cursor.is_some() && q.page.is_some() {
        errors.push(rolecall_core::FieldError::new(
            "cursor",
            "exclusive",
            "cannot be combined with page: a cursor already says where the page starts",
        ));
    }
    let paged = paging(q.page, q.per_page);
    if !errors.is_empty() {
        return Err(rolecall_core::Error::Invalid(errors).into());
    }
    let (page, per_page) = paged?;
    Ok(UserListRequest {
        filter,
        sort,
        order,
        start: match cursor {
            Some(c) => PageStart::Cursor(c.to_string()),
            None => PageStart::Page(page),
        },
        per_page,
        count_cap: None,
    })
}

/// Lists users, filtered, sorted and paged by page number or by cursor. A cursor page starts
/// right after the previous page's last user, so users added meanwhile neither repeat nor
/// shift the list; an altered or foreign cursor is refused on `cursor`.
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
    let req = list_request(&q, filter)?;
    let list = s.dir.list_users(&admin.org, &req).await?;
    Ok(Json(UserPage {
        items: list.items,
        page: match req.start {
            PageStart::Page(n) => Some(n),
            PageStart::Cursor(_) => None,
        },
        per_page: req.per_page,
        total: list.total,
        next_cursor: list.next_cursor,
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
