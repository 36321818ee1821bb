//! Products and product profiles: the profiles themselves, their users and groups (seats), and
//! the quick views (a user's products, a product's profiles, every product's seats).

use super::extract::{ApiQuery, Client, IfMatch, JsonBody, Reverify};
use super::{
    no_content, parse_id, permit, permit_sensitive, permit_somewhere, with_etag, ApiResult,
    AppState,
};
use crate::auth::Caller;
use crate::directory::{NewProfile, ProductSummary, ProfilePatch, ProfileView, UserProducts};
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::Json;
use rolecall_core::admin::{Operation, Target};
use rolecall_core::authz::ProfileId;
use rolecall_core::model::{Group, GroupId, User, UserId};
use serde::{Deserialize, Serialize};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_profiles, create_profile))
        .routes(routes!(get_profile, update_profile, delete_profile))
        .routes(routes!(list_profile_users, add_profile_user))
        .routes(routes!(remove_profile_user))
        .routes(routes!(list_profile_groups, add_profile_group))
        .routes(routes!(remove_profile_group))
        .routes(routes!(user_products))
        .routes(routes!(application_profiles))
        .routes(routes!(products))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ProfileQuery {
    /// Profiles of this application (product) only.
    application: Option<String>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ProfileList {
    items: Vec<ProfileView>,
}

/// Lists product profiles with their seats.
#[utoipa::path(get, path = "/api/v1/organizations/{org}/profiles", tag = "profiles", params(("org" = String, Path), ProfileQuery),
    responses((status = 200, body = ProfileList), (status = 422, body = super::problem::Problem)))]
async fn list_profiles(
    State(s): State<AppState>,
    caller: Caller,
    Path(org): Path<String>,
    ApiQuery(q): ApiQuery<ProfileQuery>,
) -> ApiResult<Json<ProfileList>> {
    let admin = permit(
        &s,
        &caller,
        &org,
        Operation::ViewProducts,
        Target::Organization,
    )
    .await?;
    let items = s
        .dir
        .list_profiles(
            &admin.org,
            q.application.as_deref().filter(|a| !a.is_empty()),
        )
        .await?;
    Ok(Json(ProfileList { items }))
}

/// Creates a product profile. The first profile of an application gates it: from then on its
/// users need a seat (or its Administrators role).
#[utoipa::path(post, path = "/api/v1/organizations/{org}/profiles", tag = "profiles", params(("org" = String, Path)), request_body = NewProfile,
    responses((status = 201, body = ProfileView), (status = 422, body = super::problem::Problem)))]
async fn create_profile(
    State(s): State<AppState>,
    caller: Caller,
    Path(org): Path<String>,
    body: JsonBody<NewProfile>,
) -> ApiResult<Response> {
    permit_somewhere(&s, &caller, &org, Operation::CreateProfile).await?;
    let body = body.parse()?;
    let admin = permit(
        &s,
        &caller,
        &org,
        Operation::CreateProfile,
        Target::Application(&body.application),
    )
    .await?;
    let p = s.dir.create_profile(&admin, body).await?;
    Ok(with_etag(StatusCode::CREATED, p.profile.version, &p))
}

#[utoipa::path(get, path = "/api/v1/organizations/{org}/profiles/{id}", tag = "profiles", params(("org" = String, Path), ("id" = String, Path)),
    responses((status = 200, body = ProfileView), (status = 404, body = super::problem::Problem)))]
async fn get_profile(
    State(s): State<AppState>,
    caller: Caller,
    Path((org, id)): Path<(String, String)>,
) -> ApiResult<Response> {
    let admin = permit(
        &s,
        &caller,
        &org,
        Operation::ViewProducts,
        Target::Organization,
    )
    .await?;
    let p = s
        .dir
        .get_profile(&admin.org, parse_id::<ProfileId>("profile", &id)?)
        .await?;
    Ok(with_etag(StatusCode::OK, p.profile.version, &p))
}

/// Changes name, description, seat quota (`null`: unlimited) or the bundled roles (replaced
/// whole). A quota below the seats in use is refused with 409.
#[utoipa::path(patch, path = "/api/v1/organizations/{org}/profiles/{id}", tag = "profiles", params(("org" = String, Path), ("id" = String, Path), IfMatch),
    request_body = ProfilePatch,
    responses((status = 200, body = ProfileView), (status = 409, body = super::problem::Problem), (status = 412, body = super::problem::Problem)))]
async fn update_profile(
    State(s): State<AppState>,
    caller: Caller,
    Path((org, id)): Path<(String, String)>,
    IfMatch(v): IfMatch,
    body: JsonBody<ProfilePatch>,
) -> ApiResult<Response> {
    let app = profile_application(&s, &org, &id).await?;
    let target = profile_target(&id, &app);
    let admin = permit(&s, &caller, &org, Operation::EditProfile, target).await?;
    let body = body.parse()?;
    let p = s
        .dir
        .update_profile(&admin, parse_id::<ProfileId>("profile", &id)?, body, v)
        .await?;
    Ok(with_etag(StatusCode::OK, p.profile.version, &p))
}

/// Deletes the profile and its seats; users, groups and roles stay.
#[utoipa::path(delete, path = "/api/v1/organizations/{org}/profiles/{id}", tag = "profiles", params(("org" = String, Path), ("id" = String, Path), IfMatch),
    responses((status = 204), (status = 404, body = super::problem::Problem), (status = 412, body = super::problem::Problem)))]
async fn delete_profile(
    State(s): State<AppState>,
    caller: Caller,
    Path((org, id)): Path<(String, String)>,
    IfMatch(v): IfMatch,
) -> ApiResult<Response> {
    let app = profile_application(&s, &org, &id).await?;
    let target = profile_target(&id, &app);
    let admin = permit(&s, &caller, &org, Operation::DeleteProfile, target).await?;
    s.dir
        .delete_profile(&admin, parse_id::<ProfileId>("profile", &id)?, v)
        .await?;
    Ok(no_content())
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ProfileUserList {
    items: Vec<User>,
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ProfileUserRef {
    user_id: String,
}

/// Users holding a seat directly.
#[utoipa::path(get, path = "/api/v1/organizations/{org}/profiles/{id}/users", tag = "profiles", params(("org" = String, Path), ("id" = String, Path)),
    responses((status = 200, body = ProfileUserList), (status = 404, body = super::problem::Problem)))]
async fn list_profile_users(
    State(s): State<AppState>,
    caller: Caller,
    Path((org, id)): Path<(String, String)>,
) -> ApiResult<Json<ProfileUserList>> {
    let admin = permit(
        &s,
        &caller,
        &org,
        Operation::ViewProducts,
        Target::Organization,
    )
    .await?;
    Ok(Json(ProfileUserList {
        items: s
            .dir
            .profile_users(&admin.org, parse_id::<ProfileId>("profile", &id)?)
            .await?,
    }))
}

/// Gives a user a seat (201 when new, 200 when already assigned; 409 `quota_exceeded` when full).
#[utoipa::path(post, path = "/api/v1/organizations/{org}/profiles/{id}/users", tag = "profiles", params(("org" = String, Path), ("id" = String, Path), Reverify),
    request_body = ProfileUserRef,
    responses((status = 201), (status = 200), (status = 409, body = super::problem::Problem), (status = 422, body = super::problem::Problem)))]
async fn add_profile_user(
    State(s): State<AppState>,
    caller: Caller,
    Client(client): Client,
    Reverify(pw): Reverify,
    Path((org, id)): Path<(String, String)>,
    body: JsonBody<ProfileUserRef>,
) -> ApiResult<StatusCode> {
    let app = profile_application(&s, &org, &id).await?;
    let target = profile_target(&id, &app);
    let admin = permit_sensitive(
        &s,
        &caller,
        &org,
        Operation::AssignProfile,
        target,
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
        .add_profile_user(&admin, parse_id::<ProfileId>("profile", &id)?, user)
        .await?;
    Ok(if added {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    })
}

#[utoipa::path(delete, path = "/api/v1/organizations/{org}/profiles/{id}/users/{user}", tag = "profiles",
    params(("org" = String, Path), ("id" = String, Path), ("user" = String, Path), Reverify), responses((status = 409, body = super::problem::Problem, description = "A rule of the application refuses it: `last_administrator` (the last active holder of `Administrators` stays) or `one_role_per_user` (naming the role the user holds and how)"), (status = 204), (status = 404, body = super::problem::Problem)))]
async fn remove_profile_user(
    State(s): State<AppState>,
    caller: Caller,
    Client(client): Client,
    Reverify(pw): Reverify,
    Path((org, id, user)): Path<(String, String, String)>,
) -> ApiResult<Response> {
    let app = profile_application(&s, &org, &id).await?;
    let target = profile_target(&id, &app);
    let admin = permit_sensitive(
        &s,
        &caller,
        &org,
        Operation::AssignProfile,
        target,
        pw.as_deref(),
        &client,
    )
    .await?;
    s.dir
        .remove_profile_user(
            &admin,
            parse_id::<ProfileId>("profile", &id)?,
            parse_id::<UserId>("profile user", &user)?,
        )
        .await?;
    Ok(no_content())
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ProfileGroupList {
    items: Vec<Group>,
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ProfileGroupRef {
    group_id: String,
}

/// Groups assigned to the profile: each of their members holds a seat.
#[utoipa::path(get, path = "/api/v1/organizations/{org}/profiles/{id}/groups", tag = "profiles", params(("org" = String, Path), ("id" = String, Path)),
    responses((status = 200, body = ProfileGroupList), (status = 404, body = super::problem::Problem)))]
async fn list_profile_groups(
    State(s): State<AppState>,
    caller: Caller,
    Path((org, id)): Path<(String, String)>,
) -> ApiResult<Json<ProfileGroupList>> {
    let admin = permit(
        &s,
        &caller,
        &org,
        Operation::ViewProducts,
        Target::Organization,
    )
    .await?;
    Ok(Json(ProfileGroupList {
        items: s
            .dir
            .profile_groups(&admin.org, parse_id::<ProfileId>("profile", &id)?)
            .await?,
    }))
}

/// Assigns a group (201 when new, 200 when already assigned; 409 `quota_exceeded` when its
/// members without a seat do not fit).
#[utoipa::path(post, path = "/api/v1/organizations/{org}/profiles/{id}/groups", tag = "profiles", params(("org" = String, Path), ("id" = String, Path), Reverify),
    request_body = ProfileGroupRef,
    responses((status = 201), (status = 200), (status = 409, body = super::problem::Problem), (status = 422, body = super::problem::Problem)))]
async fn add_profile_group(
    State(s): State<AppState>,
    caller: Caller,
    Client(client): Client,
    Reverify(pw): Reverify,
    Path((org, id)): Path<(String, String)>,
    body: JsonBody<ProfileGroupRef>,
) -> ApiResult<StatusCode> {
    let app = profile_application(&s, &org, &id).await?;
    let target = profile_target(&id, &app);
    let admin = permit_sensitive(
        &s,
        &caller,
        &org,
        Operation::AssignProfile,
        target,
        pw.as_deref(),
        &client,
    )
    .await?;
    let body = body.parse()?;
    let group = body
        .group_id
        .parse::<GroupId>()
        .map_err(|_| rolecall_core::Error::invalid("group_id", "uuid", "must be a group id"))?;
    let added = s
        .dir
        .add_profile_group(&admin, parse_id::<ProfileId>("profile", &id)?, group)
        .await?;
    Ok(if added {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    })
}

#[utoipa::path(delete, path = "/api/v1/organizations/{org}/profiles/{id}/groups/{group}", tag = "profiles",
    params(("org" = String, Path), ("id" = String, Path), ("group" = String, Path), Reverify), responses((status = 409, body = super::problem::Problem, description = "A rule of the application refuses it: `last_administrator` (the last active holder of `Administrators` stays) or `one_role_per_user` (naming the role the user holds and how)"), (status = 204), (status = 404, body = super::problem::Problem)))]
async fn remove_profile_group(
    State(s): State<AppState>,
    caller: Caller,
    Client(client): Client,
    Reverify(pw): Reverify,
    Path((org, id, group)): Path<(String, String, String)>,
) -> ApiResult<Response> {
    let app = profile_application(&s, &org, &id).await?;
    let target = profile_target(&id, &app);
    let admin = permit_sensitive(
        &s,
        &caller,
        &org,
        Operation::AssignProfile,
        target,
        pw.as_deref(),
        &client,
    )
    .await?;
    s.dir
        .remove_profile_group(
            &admin,
            parse_id::<ProfileId>("profile", &id)?,
            parse_id::<GroupId>("profile group", &group)?,
        )
        .await?;
    Ok(no_content())
}

/// The profiles a user reaches (directly or through groups) and the products they license.
#[utoipa::path(get, path = "/api/v1/organizations/{org}/users/{id}/products", tag = "profiles", params(("org" = String, Path), ("id" = String, Path)),
    responses((status = 200, body = UserProducts), (status = 404, body = super::problem::Problem)))]
async fn user_products(
    State(s): State<AppState>,
    caller: Caller,
    Path((org, id)): Path<(String, String)>,
) -> ApiResult<Json<UserProducts>> {
    let admin = permit(
        &s,
        &caller,
        &org,
        Operation::ViewProducts,
        Target::Organization,
    )
    .await?;
    Ok(Json(
        s.dir
            .user_products(&admin.org, parse_id::<UserId>("user", &id)?)
            .await?,
    ))
}

/// A product's profiles with their seats.
#[utoipa::path(get, path = "/api/v1/organizations/{org}/applications/{app}/profiles", tag = "profiles", params(("org" = String, Path), ("app" = String, Path)),
    responses((status = 200, body = ProfileList)))]
async fn application_profiles(
    State(s): State<AppState>,
    caller: Caller,
    Path((org, app)): Path<(String, String)>,
) -> ApiResult<Json<ProfileList>> {
    let admin = permit(
        &s,
        &caller,
        &org,
        Operation::ViewProducts,
        Target::Organization,
    )
    .await?;
    // An application in the path is like any object there: unknown is 404.
    s.dir.catalogue().require_in_path(&app)?;
    Ok(Json(ProfileList {
        items: s.dir.list_profiles(&admin.org, Some(&app)).await?,
    }))
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ProductList {
    items: Vec<ProductSummary>,
}

/// Every product (application) with its profile count and seats used / total.
#[utoipa::path(get, path = "/api/v1/organizations/{org}/products", tag = "profiles", params(("org" = String, Path)),
    responses((status = 200, body = ProductList)))]
async fn products(
    State(s): State<AppState>,
    caller: Caller,
    Path(org): Path<String>,
) -> ApiResult<Json<ProductList>> {
    let admin = permit(
        &s,
        &caller,
        &org,
        Operation::ViewProducts,
        Target::Organization,
    )
    .await?;
    Ok(Json(ProductList {
        items: s.dir.products(&admin.org).await?,
    }))
}

/// The application a profile belongs to, for scoping the permission; `None` for an unknown id
/// (then only organisation-wide admins pass and the use case answers 404).
pub(crate) async fn profile_application(
    s: &AppState,
    org: &str,
    id: &str,
) -> ApiResult<Option<String>> {
    let org = s.dir.org(org).await?;
    let Ok(pid) = id.parse::<ProfileId>() else {
        return Ok(None);
    };
    match s.dir.get_profile(&org, pid).await {
        Ok(p) => Ok(Some(p.profile.application)),
        Err(crate::error::Error::Domain(rolecall_core::Error::NotFound { .. })) => Ok(None),
        Err(e) => Err(e.into()),
    }
}

pub(crate) fn profile_target<'a>(id: &'a str, app: &'a Option<String>) -> Target<'a> {
    match app {
        Some(a) => Target::Profile { id, application: a },
        None => Target::Organization,
    }
}
