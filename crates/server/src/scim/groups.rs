//! SCIM Groups: rolecall's user groups with their members (people only; groups do not nest).
//! A SCIM client creates groups (marked as provisioned by it) and changes the name and the
//! membership of those only, through `Directory::create_group_with` and `change_group`: which
//! roles and profiles a group carries stays an administrator's decision, made in rolecall.

use super::auth::ScimCaller;
use super::columns::{sort_expression, GroupColumns};
use super::error::{ScimFailure, ScimResult};
use super::users::wants;
use super::{
    group_type, if_match, not_modified, not_modified_response, query_pairs, resource_response,
    scim_json, BaseUrl, ScimJson, MAX_RESULTS,
};
use crate::directory::{GroupChange, NewGroup};

use crate::http::AppState;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use rolecall_core::admin::Operation;
use rolecall_core::model::{Group, GroupId, UserId};
use rolecall_scim::datetime::format_millis;
use rolecall_scim::schema::GROUP_SCHEMA;
use rolecall_scim::sql::{to_sql_at, SqlFilter};
use rolecall_scim::{
    apply_patch, create_resource, project, replace_resource, ListQuery, ListResponse, ScimType,
    SortOrder,
};
use serde_json::{json, Map, Value};

/// A group as a SCIM resource; `members` are (user, userName).
pub fn to_scim(g: &Group, members: &[(UserId, String)], base: &str) -> Value {
    let mut doc = Map::new();
    doc.insert("schemas".into(), json!([GROUP_SCHEMA]));
    doc.insert("id".into(), json!(g.id.to_string()));
    if let Some(e) = &g.external_id {
        doc.insert("externalId".into(), json!(e.as_str()));
    }
    doc.insert("displayName".into(), json!(g.name.as_str()));
    if !members.is_empty() {
        let list: Vec<Value> = members
            .iter()
            .map(|(id, username)| {
                json!({
                    "value": id.to_string(),
                    "$ref": format!("{base}/Users/{id}"),
                    "display": username,
                    "type": "User",
                })
            })
            .collect();
        doc.insert("members".into(), Value::Array(list));
    }
    doc.insert(
        "meta".into(),
        json!({
            "resourceType": "Group",
            "created": format_millis(g.created_at),
            "lastModified": format_millis(g.updated_at),
            "location": format!("{base}/Groups/{}", g.id),
            "version": super::etag(g.version),
        }),
    );
    Value::Object(doc)
}

fn parse_group_id(id: &str) -> ScimResult<GroupId> {
    id.parse::<GroupId>()
        .map_err(|_| ScimFailure::not_found("Group", id))
}

/// The name, external id and member ids a Group resource states.
struct Fields {
    name: String,
    external_id: Option<String>,
    members: Vec<UserId>,
}

fn fields(doc: &Value) -> ScimResult<Fields> {
    let empty = Map::new();
    let o = doc.as_object().unwrap_or(&empty);
    let get = |k: &str| {
        o.iter()
            .find(|(key, _)| key.eq_ignore_ascii_case(k))
            .map(|(_, v)| v)
    };
    let name = get("displayName")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string();
    let external_id = get("externalId")
        .and_then(Value::as_str)
        .map(str::to_string);
    let mut members = Vec::new();
    let mut seen = std::collections::HashSet::new();
    for m in get("members")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let value = m.get("value").and_then(Value::as_str).unwrap_or_default();
        if m.get("type")
            .and_then(Value::as_str)
            .is_some_and(|t| t.eq_ignore_ascii_case("group"))
        {
            return Err(ScimFailure::new(
                400,
                Some(ScimType::InvalidValue),
                format!("members: {value} is a group; rolecall groups hold users, not groups"),
            ));
        }
        let id = value.parse::<UserId>().map_err(|_| {
            ScimFailure::new(
                400,
                Some(ScimType::InvalidValue),
                format!("members: no user {value} in this organization"),
            )
        })?;
        // A set beside the list: a group of tens of thousands must not cost a scan per member.
        if seen.insert(id) {
            members.push(id);
        }
    }
    Ok(Fields {
        name,
        external_id,
        members,
    })
}

pub(super) fn groups_listing(
    b: crate::store::Backend,
    q: &ListQuery,
) -> ScimResult<(Option<SqlFilter>, String)> {
    let map = GroupColumns::new(b);
    let filter = q
        .filter
        .as_ref()
        .map(|f| to_sql_at(f, &map, 2))
        .transpose()?;
    let order = match &q.sort_by {
        None => "g.created_at, g.id".to_string(),
        Some(path) => {
            let attr = group_type().resolve(path).ok_or_else(|| {
                ScimFailure::new(
                    400,
                    Some(ScimType::InvalidValue),
                    format!("sortBy: unknown attribute `{path}`"),
                )
            })?;
            let expr = sort_expression(&map, &attr).ok_or_else(|| {
                ScimFailure::new(
                    400,
                    Some(ScimType::InvalidValue),
                    format!("sortBy: `{path}` cannot be sorted by"),
                )
            })?;
            let dir = match q.sort_order {
                SortOrder::Ascending => "ASC",
                SortOrder::Descending => "DESC",
            };
            format!("(CASE WHEN {expr} IS NULL THEN 1 ELSE 0 END), {expr} {dir}, g.id")
        }
    };
    Ok((filter, order))
}

async fn render(
    s: &AppState,
    groups: &[Group],
    q: &ListQuery,
    base: &str,
) -> ScimResult<Vec<Value>> {
    let members = if wants(q, "members") && !groups.is_empty() {
        let ids: Vec<GroupId> = groups.iter().map(|g| g.id).collect();
        s.dir.members_of_groups(&ids).await?
    } else {
        Default::default()
    };
    Ok(groups
        .iter()
        .map(|g| {
            let m = members.get(&g.id).map(Vec::as_slice).unwrap_or(&[]);
            project(
                &to_scim(g, m, base),
                group_type(),
                &q.attributes,
                &q.excluded_attributes,
            )
        })
        .collect())
}

async fn run_list(
    s: &AppState,
    caller: &ScimCaller,
    base: &str,
    q: ListQuery,
) -> ScimResult<Response> {
    let admin = caller.permit(Operation::ViewGroups)?;
    let (filter, order) = groups_listing(s.dir.db.backend, &q)?;
    let page = s
        .dir
        .scim_groups(&admin.org, filter.as_ref(), &order, q.offset(), q.count)
        .await?;
    let resources = render(s, &page.items, &q, base).await?;
    Ok(scim_json(
        StatusCode::OK,
        &ListResponse::new(page.total, q.start_index, resources).to_json(),
    ))
}

pub async fn list(
    State(s): State<AppState>,
    caller: ScimCaller,
    base: BaseUrl,
    uri: Uri,
) -> ScimResult<Response> {
    let pairs = query_pairs(&uri);
    let q = ListQuery::from_query(
        pairs.iter().map(|(k, v)| (k.as_str(), v.as_str())),
        MAX_RESULTS,
    )?;
    run_list(&s, &caller, &base.0, q).await
}

pub async fn search(
    State(s): State<AppState>,
    caller: ScimCaller,
    base: BaseUrl,
    ScimJson(body): ScimJson,
) -> ScimResult<Response> {
    let q = rolecall_scim::SearchRequest::from_json(&body)?.to_query(MAX_RESULTS)?;
    run_list(&s, &caller, &base.0, q).await
}

pub(super) async fn count_for_root(
    s: &AppState,
    caller: &ScimCaller,
    q: &ListQuery,
) -> ScimResult<(u64, ())> {
    let admin = caller.permit(Operation::ViewGroups)?;
    let Ok((filter, _)) = groups_listing(s.dir.db.backend, q) else {
        return Ok((0, ()));
    };
    let page = s
        .dir
        .scim_groups(&admin.org, filter.as_ref(), "g.id", 0, 0)
        .await?;
    Ok((page.total, ()))
}

pub(super) async fn page_for_root(
    s: &AppState,
    caller: &ScimCaller,
    base: &BaseUrl,
    q: &ListQuery,
) -> ScimResult<Vec<Value>> {
    let admin = caller.permit(Operation::ViewGroups)?;
    let (filter, order) = groups_listing(s.dir.db.backend, q)?;
    let page = s
        .dir
        .scim_groups(&admin.org, filter.as_ref(), &order, q.offset(), q.count)
        .await?;
    render(s, &page.items, q, &base.0).await
}

fn projection_of(uri: &Uri) -> ScimResult<ListQuery> {
    let pairs: Vec<(String, String)> = query_pairs(uri)
        .into_iter()
        .filter(|(k, _)| {
            k.eq_ignore_ascii_case("attributes") || k.eq_ignore_ascii_case("excludedAttributes")
        })
        .collect();
    Ok(ListQuery::from_query(
        pairs.iter().map(|(k, v)| (k.as_str(), v.as_str())),
        MAX_RESULTS,
    )?)
}

async fn load(
    s: &AppState,
    caller: &ScimCaller,
    id: GroupId,
    base: &str,
) -> ScimResult<(Group, Value)> {
    let group = s.dir.get_group(caller.org(), id).await?;
    let members = s.dir.members_of_groups(&[id]).await?;
    let doc = to_scim(
        &group,
        members.get(&id).map(Vec::as_slice).unwrap_or(&[]),
        base,
    );
    Ok((group, doc))
}

fn respond(
    status: StatusCode,
    doc: &Value,
    version: i64,
    q: &ListQuery,
    location: Option<&str>,
) -> Response {
    let body = project(doc, group_type(), &q.attributes, &q.excluded_attributes);
    resource_response(status, &body, version, location)
}

/// Creates a group (with its first members, in one transaction); shared with bulk.
pub(super) async fn create_from(
    s: &AppState,
    caller: &ScimCaller,
    base: &str,
    body: &Value,
) -> ScimResult<(Group, Value)> {
    let admin = caller.permit(Operation::CreateGroup)?;
    let doc = create_resource(body, group_type())?;
    let f = fields(&doc)?;
    if !f.members.is_empty() {
        caller.permit(Operation::ManageGroupMembers)?;
    }
    let group = s
        .dir
        .create_group_with(
            admin,
            NewGroup {
                name: f.name,
                description: None,
                external_id: f.external_id,
                members: f.members,
            },
        )
        .await?;
    let (group, doc) = load(s, caller, group.id, base).await?;
    Ok((group, doc))
}

pub async fn create(
    State(s): State<AppState>,
    caller: ScimCaller,
    base: BaseUrl,
    uri: Uri,
    ScimJson(body): ScimJson,
) -> ScimResult<Response> {
    let q = projection_of(&uri)?;
    let (group, doc) = create_from(&s, &caller, &base.0, &body).await?;
    let location = format!("{}/Groups/{}", base.0, group.id);
    Ok(respond(
        StatusCode::CREATED,
        &doc,
        group.version,
        &q,
        Some(&location),
    ))
}

pub async fn read(
    State(s): State<AppState>,
    caller: ScimCaller,
    base: BaseUrl,
    headers: HeaderMap,
    uri: Uri,
    Path(id): Path<String>,
) -> ScimResult<Response> {
    caller.permit(Operation::ViewGroups)?;
    let q = projection_of(&uri)?;
    let (group, doc) = load(&s, &caller, parse_group_id(&id)?, &base.0).await?;
    if not_modified(&headers, group.version) {
        return Ok(not_modified_response(group.version));
    }
    Ok(respond(StatusCode::OK, &doc, group.version, &q, None))
}

/// Writes `next` (the Group resource after a PUT or PATCH) over `current`: a rename and the
/// member differences, in one transaction.
async fn write(
    s: &AppState,
    caller: &ScimCaller,
    current: &Group,
    current_doc: &Value,
    next: &Value,
    expected: Option<i64>,
) -> ScimResult<Group> {
    let before = fields(current_doc)?;
    let after = fields(next)?;
    let before_set: std::collections::HashSet<UserId> = before.members.iter().copied().collect();
    let after_set: std::collections::HashSet<UserId> = after.members.iter().copied().collect();
    let change = GroupChange {
        name: (after.name != current.name.as_str()).then(|| after.name.clone()),
        external_id: (after.external_id.as_deref()
            != current.external_id.as_ref().map(|e| e.as_str()))
        .then(|| after.external_id.clone()),
        add: after
            .members
            .iter()
            .filter(|m| !before_set.contains(m))
            .copied()
            .collect(),
        remove: before
            .members
            .iter()
            .filter(|m| !after_set.contains(m))
            .copied()
            .collect(),
    };
    let op = if change.add.is_empty() && change.remove.is_empty() {
        Operation::EditGroup
    } else {
        Operation::ManageGroupMembers
    };
    let admin = caller.permit(op)?;
    Ok(s.dir
        .change_group(admin, current.id, change, expected)
        .await?)
}

fn precondition(expected: Option<i64>, current: i64) -> ScimResult<()> {
    match expected {
        Some(v) if v != current => Err(crate::error::Error::from(
            rolecall_core::Error::PreconditionFailed {
                expected: v,
                current,
            },
        )
        .into()),
        _ => Ok(()),
    }
}

pub async fn replace(
    State(s): State<AppState>,
    caller: ScimCaller,
    base: BaseUrl,
    headers: HeaderMap,
    uri: Uri,
    Path(id): Path<String>,
    ScimJson(body): ScimJson,
) -> ScimResult<Response> {
    let q = projection_of(&uri)?;
    let group = replace_group(
        &s,
        &caller,
        parse_group_id(&id)?,
        &body,
        if_match(&headers),
        &base.0,
    )
    .await?;
    let (group, doc) = load(&s, &caller, group.id, &base.0).await?;
    Ok(respond(StatusCode::OK, &doc, group.version, &q, None))
}

/// Replaces a group with a PUT body; shared with bulk.
pub(super) async fn replace_group(
    s: &AppState,
    caller: &ScimCaller,
    id: GroupId,
    body: &Value,
    expected: Option<i64>,
    base: &str,
) -> ScimResult<Group> {
    caller.permit(Operation::EditGroup)?;
    let (current, doc) = load(s, caller, id, base).await?;
    precondition(expected, current.version)?;
    let next = replace_resource(&doc, body, group_type())?;
    write(s, caller, &current, &doc, &next, expected).await
}

/// Applies a PatchOp to a group; shared with bulk. `None` when nothing changed.
pub(super) async fn patch_group(
    s: &AppState,
    caller: &ScimCaller,
    id: GroupId,
    body: &Value,
    expected: Option<i64>,
    base: &str,
) -> ScimResult<Group> {
    caller.permit(Operation::EditGroup)?;
    let (current, doc) = load(s, caller, id, base).await?;
    precondition(expected, current.version)?;
    let next = apply_patch(&doc, body, group_type())?;
    if next == doc {
        return Ok(current);
    }
    write(s, caller, &current, &doc, &next, expected).await
}

/// Group PATCH answers 204 (what Entra expects), or 200 with the group when the request asks
/// for `attributes`.
pub async fn patch(
    State(s): State<AppState>,
    caller: ScimCaller,
    base: BaseUrl,
    headers: HeaderMap,
    uri: Uri,
    Path(id): Path<String>,
    ScimJson(body): ScimJson,
) -> ScimResult<Response> {
    let q = projection_of(&uri)?;
    let group = patch_group(
        &s,
        &caller,
        parse_group_id(&id)?,
        &body,
        if_match(&headers),
        &base.0,
    )
    .await?;
    if q.attributes.is_empty() && q.excluded_attributes.is_empty() {
        let mut res = StatusCode::NO_CONTENT.into_response();
        if let Ok(v) = axum::http::HeaderValue::from_str(&super::etag(group.version)) {
            res.headers_mut().insert(axum::http::header::ETAG, v);
        }
        return Ok(res);
    }
    let (group, doc) = load(&s, &caller, group.id, &base.0).await?;
    Ok(respond(StatusCode::OK, &doc, group.version, &q, None))
}

pub async fn delete(
    State(s): State<AppState>,
    caller: ScimCaller,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> ScimResult<Response> {
    delete_group(&s, &caller, parse_group_id(&id)?, if_match(&headers)).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

pub(super) async fn delete_group(
    s: &AppState,
    caller: &ScimCaller,
    id: GroupId,
    expected: Option<i64>,
) -> ScimResult<()> {
    let admin = caller.permit(Operation::RemoveGroup)?;
    s.dir.delete_group(admin, id, expected).await?;
    Ok(())
}
