//! Bulk changes outside files (issue 12): `…/batch` siblings of the single additions (a group's
//! members, a profile's users, a role's holders) taking `{"user_ids": [...]}`, and removing a
//! product from a user. Each is gated like its single call (same `Operation`, same target,
//! same re-verification) and calls one `Directory` use case that runs the single call's code
//! for every user in one transaction.

use super::extract::{Client, JsonBody, Reverify};
use super::{app_target, parse_id, permit_sensitive, role_application, ApiResult, AppState};
use crate::auth::Caller;
use crate::directory::bulk_changes::{BatchResult, BatchTarget, ProductRemoval};
use axum::extract::{Path, State};
use axum::Json;
use rolecall_core::admin::{Operation, Target};
use rolecall_core::authz::ProfileId;
use rolecall_core::model::{GroupId, RoleId, UserId};
use serde::Deserialize;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(add_members_batch))
        .routes(routes!(add_profile_users_batch))
        .routes(routes!(assign_role_batch))
        .routes(routes!(remove_product))
}

/// Many users at once. Duplicates count once; order is kept in the answer.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UserIds {
    #[schema(min_items = 1, max_items = 1000, value_type = Vec<uuid::Uuid>)]
    user_ids: Vec<String>,
}

/// Adds many users to a group in one transaction, all or nothing: every user is judged and
/// checked like `add_member` (one role per user through what the group carries, the seats of
/// profiles the group is assigned to); the first refusal changes nothing.
#[utoipa::path(post, path = "/api/v1/organizations/{org}/groups/{id}/members/batch", tag = "groups", params(("org" = String, Path), ("id" = String, Path), Reverify),
    request_body = UserIds,
    responses((status = 200, body = BatchResult, description = "Every user is a member; each item says whether they were added or already there"),
        (status = 409, body = super::problem::Problem, description = "A user's joining would break a rule of the group's roles or profiles (`one_role_per_user`, `quota_exceeded`), naming the user; nothing was changed"),
        (status = 422, body = super::problem::Problem, description = "`user_ids` empty, too long, not ids, or naming users outside the organization (`user_ids[i]`); or the group is owned by the identity provider")))]
async fn add_members_batch(
    State(s): State<AppState>,
    caller: Caller,
    Client(client): Client,
    Reverify(pw): Reverify,
    Path((org, id)): Path<(String, String)>,
    body: JsonBody<UserIds>,
) -> ApiResult<Json<BatchResult>> {
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
    let group = parse_id::<GroupId>("group", &id)?;
    Ok(Json(
        s.dir
            .add_users(&admin, BatchTarget::Group(group), &body.user_ids)
            .await?,
    ))
}

/// Gives many users a seat in a profile in one transaction. The quota holds for the whole
/// call: either every user fits, or 409 `quota_exceeded` says how many seats are free and how
/// many the call needs, and nothing is written.
#[utoipa::path(post, path = "/api/v1/organizations/{org}/profiles/{id}/users/batch", tag = "profiles", params(("org" = String, Path), ("id" = String, Path), Reverify),
    request_body = UserIds,
    responses((status = 200, body = BatchResult, description = "Every user holds a seat; each item says whether it is new"),
        (status = 409, body = super::problem::Problem, description = "`quota_exceeded` (the call needs more seats than are free) or `one_role_per_user` (naming the user); nothing was changed"),
        (status = 422, body = super::problem::Problem, description = "`user_ids` empty, too long, not ids, or naming users outside the organization (`user_ids[i]`)")))]
async fn add_profile_users_batch(
    State(s): State<AppState>,
    caller: Caller,
    Client(client): Client,
    Reverify(pw): Reverify,
    Path((org, id)): Path<(String, String)>,
    body: JsonBody<UserIds>,
) -> ApiResult<Json<BatchResult>> {
    let app = super::profiles::profile_application(&s, &org, &id).await?;
    let target = super::profiles::profile_target(&id, &app);
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
    let profile = parse_id::<ProfileId>("profile", &id)?;
    Ok(Json(
        s.dir
            .add_users(&admin, BatchTarget::Profile(profile), &body.user_ids)
            .await?,
    ))
}

/// Assigns a role directly to many users in one transaction. As with the single assignment,
/// a user who holds another role of an application set to "one role per user" is refused
/// (409 naming the user and the role they hold), never silently switched; nothing is written.
#[utoipa::path(post, path = "/api/v1/organizations/{org}/roles/{id}/users/batch", tag = "assignments", params(("org" = String, Path), ("id" = String, Path), Reverify),
    request_body = UserIds,
    responses((status = 200, body = BatchResult, description = "Every user holds the role directly; each item says whether it is new"),
        (status = 409, body = super::problem::Problem, description = "`one_role_per_user` (naming the user and the role they hold) or `roles_through_groups` (the application gives roles through groups only); nothing was changed"),
        (status = 422, body = super::problem::Problem, description = "`user_ids` empty, too long, not ids, or naming users outside the organization (`user_ids[i]`)")))]
async fn assign_role_batch(
    State(s): State<AppState>,
    caller: Caller,
    Client(client): Client,
    Reverify(pw): Reverify,
    Path((org, id)): Path<(String, String)>,
    body: JsonBody<UserIds>,
) -> ApiResult<Json<BatchResult>> {
    let app = role_application(&s, &org, &id).await?;
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
    let body = body.parse()?;
    let role = parse_id::<RoleId>("role", &id)?;
    Ok(Json(
        s.dir
            .add_users(&admin, BatchTarget::Role(role), &body.user_ids)
            .await?,
    ))
}

/// Removes a product from a user ("strip from all configs", seed 004): releases the user's own
/// seat in every profile of the application and unassigns its roles held directly, in one
/// transaction. Access through groups and the application's Administrators role stay and are
/// reported. Calling it again changes nothing.
#[utoipa::path(delete, path = "/api/v1/organizations/{org}/users/{id}/products/{app}", tag = "profiles", params(("org" = String, Path), ("id" = String, Path), ("app" = String, Path), Reverify),
    responses((status = 200, body = ProductRemoval, description = "What was withdrawn, and what still gives the user the product"),
        (status = 409, body = super::problem::Problem, description = "`last_administrator` or `one_role_per_user`: a rule of the application refuses one of the withdrawals; nothing was changed")))]
async fn remove_product(
    State(s): State<AppState>,
    caller: Caller,
    Client(client): Client,
    Reverify(pw): Reverify,
    Path((org, id, app)): Path<(String, String, String)>,
) -> ApiResult<Json<ProductRemoval>> {
    let admin = permit_sensitive(
        &s,
        &caller,
        &org,
        Operation::AssignProfile,
        Target::Application(&app),
        pw.as_deref(),
        &client,
    )
    .await?;
    let user = parse_id::<UserId>("user", &id)?;
    Ok(Json(s.dir.remove_product(&admin, user, &app).await?))
}
