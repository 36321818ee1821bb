//! SCIM Users: rolecall's people (service accounts are not SCIM resources) rendered as the core
//! User schema with the enterprise extension, and SCIM writes turned into the `Directory`'s
//! `create_user` / `update_user` / `delete_user`, so every rule of the REST API holds.
//!
//! Rendering and the column map (`columns.rs`) must agree, since filters run in SQL: an
//! attribute absent here is NULL there, booleans are always written, keys are folded values.

use super::auth::ScimCaller;
use super::columns::{sort_expression, UserColumns};
use super::error::{ScimFailure, ScimResult};
use super::{
    if_match, not_modified, not_modified_response, query_pairs, resource_response, scim_json,
    user_type, BaseUrl, ScimJson, MAX_RESULTS,
};
use crate::directory::{AddressInput, EmailInput, NewUser, PhoneInput, UserPatch};
use crate::http::extract::Client;
use crate::http::AppState;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::Response;
use rolecall_core::admin::Operation;
use rolecall_core::model::{GroupId, User, UserId, UserStatus};
use rolecall_core::validate::Email;
use rolecall_scim::datetime::format_millis;
use rolecall_scim::schema::{ENTERPRISE_USER_SCHEMA as ENT, USER_SCHEMA};
use rolecall_scim::sql::{to_sql_at, SqlFilter};
use rolecall_scim::{
    apply_patch, create_resource, project, replace_resource, ListQuery, ListResponse, ScimType,
    SortOrder,
};
use serde_json::{json, Map, Value};

/// A user as a SCIM resource. `groups` are the user's groups (id, name).
pub fn to_scim(u: &User, groups: &[(GroupId, String)], base: &str) -> Value {
    let p = &u.profile;
    let mut doc = Map::new();
    let mut schemas = vec![json!(USER_SCHEMA)];
    doc.insert("id".into(), json!(u.id.to_string()));
    let put = |doc: &mut Map<String, Value>, k: &str, v: Option<&str>| {
        if let Some(v) = v {
            doc.insert(k.into(), json!(v));
        }
    };
    put(
        &mut doc,
        "externalId",
        p.external_id.as_ref().map(|v| v.as_str()),
    );
    doc.insert("userName".into(), json!(u.username.as_str()));
    let mut name = Map::new();
    let non_empty = |s: &str| (!s.is_empty()).then(|| s.to_string());
    if let Some(v) = non_empty(u.first_name.as_str()) {
        name.insert("givenName".into(), json!(v));
    }
    if let Some(v) = non_empty(u.last_name.as_str()) {
        name.insert("familyName".into(), json!(v));
    }
    for (k, v) in [
        ("formatted", &p.name_formatted),
        ("middleName", &p.middle_name),
        ("honorificPrefix", &p.honorific_prefix),
        ("honorificSuffix", &p.honorific_suffix),
    ] {
        if let Some(v) = v {
            name.insert(k.into(), json!(v.as_str()));
        }
    }
    if !name.is_empty() {
        doc.insert("name".into(), Value::Object(name));
    }
    for (k, v) in [
        ("displayName", &p.display_name),
        ("nickName", &p.nick_name),
        ("title", &p.title),
        ("userType", &p.user_type),
    ] {
        put(&mut doc, k, v.as_ref().map(|v| v.as_str()));
    }
    put(
        &mut doc,
        "preferredLanguage",
        p.preferred_language.as_ref().map(|v| v.as_str()),
    );
    doc.insert("locale".into(), json!(u.locale.bcp47()));
    put(
        &mut doc,
        "timezone",
        p.timezone.as_ref().map(|v| v.as_str()),
    );
    doc.insert("active".into(), json!(u.status != UserStatus::Inactive));
    if !p.emails.is_empty() {
        let emails: Vec<Value> = p
            .emails
            .iter()
            .map(|e| {
                let mut o = Map::new();
                o.insert("value".into(), json!(e.value.as_str()));
                if let Some(k) = &e.kind {
                    o.insert("type".into(), json!(k.as_str()));
                }
                if let Some(d) = &e.display {
                    o.insert("display".into(), json!(d.as_str()));
                }
                o.insert("primary".into(), json!(e.primary));
                Value::Object(o)
            })
            .collect();
        doc.insert("emails".into(), Value::Array(emails));
    }
    if !p.phone_numbers.is_empty() {
        let phones: Vec<Value> = p
            .phone_numbers
            .iter()
            .map(|ph| {
                let mut o = Map::new();
                o.insert("value".into(), json!(ph.value.as_str()));
                if let Some(k) = &ph.kind {
                    o.insert("type".into(), json!(k.as_str()));
                }
                o.insert("primary".into(), json!(ph.primary));
                Value::Object(o)
            })
            .collect();
        doc.insert("phoneNumbers".into(), Value::Array(phones));
    }
    if !p.addresses.is_empty() {
        let addresses: Vec<Value> = p
            .addresses
            .iter()
            .map(|a| {
                let mut o = Map::new();
                for (k, v) in [
                    ("formatted", &a.formatted),
                    ("streetAddress", &a.street_address),
                    ("locality", &a.locality),
                    ("region", &a.region),
                    ("postalCode", &a.postal_code),
                    ("country", &a.country),
                    ("type", &a.kind),
                ] {
                    if let Some(v) = v {
                        o.insert(k.into(), json!(v.as_str()));
                    }
                }
                o.insert("primary".into(), json!(a.primary));
                Value::Object(o)
            })
            .collect();
        doc.insert("addresses".into(), Value::Array(addresses));
    }
    if !groups.is_empty() {
        let list: Vec<Value> = groups
            .iter()
            .map(|(id, name)| {
                json!({
                    "value": id.to_string(),
                    "$ref": format!("{base}/Groups/{id}"),
                    "display": name,
                    "type": "direct",
                })
            })
            .collect();
        doc.insert("groups".into(), Value::Array(list));
    }
    let mut ent = Map::new();
    for (k, v) in [
        ("employeeNumber", &p.employee_number),
        ("costCenter", &p.cost_center),
        ("organization", &p.organization),
        ("division", &p.division),
        ("department", &p.department),
    ] {
        if let Some(v) = v {
            ent.insert(k.into(), json!(v.as_str()));
        }
    }
    if let Some(m) = &p.manager_id {
        ent.insert(
            "manager".into(),
            json!({ "value": m.as_str(), "$ref": format!("{base}/Users/{}", m.as_str()) }),
        );
    }
    if !ent.is_empty() {
        schemas.push(json!(ENT));
        doc.insert(ENT.into(), Value::Object(ent));
    }
    doc.insert(
        "meta".into(),
        json!({
            "resourceType": "User",
            "created": format_millis(u.created_at),
            "lastModified": format_millis(u.updated_at),
            "location": format!("{base}/Users/{}", u.id),
            "version": super::etag(u.version),
        }),
    );
    doc.insert("schemas".into(), Value::Array(schemas));
    Value::Object(doc)
}

/// A string attribute of a (normalised) resource.
fn text(o: &Map<String, Value>, key: &str) -> Option<String> {
    o.iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(key))
        .and_then(|(_, v)| v.as_str())
        .map(str::to_string)
}

fn obj<'v>(o: &'v Map<String, Value>, key: &str) -> Option<&'v Map<String, Value>> {
    o.iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(key))
        .and_then(|(_, v)| v.as_object())
}

fn items<'v>(o: &'v Map<String, Value>, key: &str) -> Vec<&'v Map<String, Value>> {
    o.iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(key))
        .and_then(|(_, v)| v.as_array())
        .map(|a| a.iter().filter_map(Value::as_object).collect())
        .unwrap_or_default()
}

fn flag(o: &Map<String, Value>, key: &str) -> Option<bool> {
    o.iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(key))
        .and_then(|(_, v)| v.as_bool())
}

/// What a SCIM User resource says, in rolecall's terms: every attribute rolecall keeps.
struct Fields {
    username: String,
    email: String,
    first_name: String,
    last_name: String,
    locale: Option<String>,
    active: bool,
    texts: Vec<(&'static str, Option<String>)>,
    external_id: Option<String>,
    preferred_language: Option<String>,
    timezone: Option<String>,
    manager_id: Option<String>,
    emails: Vec<EmailInput>,
    phone_numbers: Vec<PhoneInput>,
    addresses: Vec<AddressInput>,
}

fn fields(doc: &Value) -> ScimResult<Fields> {
    let empty = Map::new();
    let o = doc.as_object().unwrap_or(&empty);
    let name = obj(o, "name").unwrap_or(&empty);
    let ent = obj(o, ENT).unwrap_or(&empty);
    let username = text(o, "userName").unwrap_or_default();
    let emails: Vec<EmailInput> = items(o, "emails")
        .into_iter()
        .filter_map(|e| {
            Some(EmailInput {
                value: text(e, "value")?,
                kind: text(e, "type"),
                primary: flag(e, "primary"),
                display: text(e, "display"),
            })
        })
        .collect();
    // The sign-in address: the primary e-mail, else the first work one, else the first, else
    // a userName that is an e-mail address (Okta's usual shape). A person needs one.
    let email = emails
        .iter()
        .find(|e| e.primary == Some(true))
        .or_else(|| {
            emails
                .iter()
                .find(|e| e.kind.as_deref().is_some_and(|k| k.eq_ignore_ascii_case("work")))
        })
        .or_else(|| emails.first())
        .map(|e| e.value.clone())
        .or_else(|| Email::parse("userName", &username).ok().map(|e| e.into_string()))
        .ok_or_else(|| {
            ScimFailure::new(
                400,
                Some(ScimType::InvalidValue),
                "emails: a person needs an e-mail address to sign in; send `emails` or an e-mail address as userName",
            )
        })?;
    let manager_id = obj(ent, "manager").and_then(|m| text(m, "value"));
    Ok(Fields {
        username,
        email,
        first_name: text(name, "givenName").unwrap_or_default(),
        last_name: text(name, "familyName").unwrap_or_default(),
        locale: text(o, "locale"),
        active: flag(o, "active").unwrap_or(true),
        texts: vec![
            ("display_name", text(o, "displayName")),
            ("nick_name", text(o, "nickName")),
            ("title", text(o, "title")),
            ("user_type", text(o, "userType")),
            ("name_formatted", text(name, "formatted")),
            ("middle_name", text(name, "middleName")),
            ("honorific_prefix", text(name, "honorificPrefix")),
            ("honorific_suffix", text(name, "honorificSuffix")),
            ("employee_number", text(ent, "employeeNumber")),
            ("cost_center", text(ent, "costCenter")),
            ("organization", text(ent, "organization")),
            ("division", text(ent, "division")),
            ("department", text(ent, "department")),
        ],
        external_id: text(o, "externalId"),
        preferred_language: text(o, "preferredLanguage"),
        timezone: text(o, "timezone"),
        manager_id,
        emails,
        phone_numbers: items(o, "phoneNumbers")
            .into_iter()
            .filter_map(|p| {
                Some(PhoneInput {
                    value: text(p, "value")?,
                    kind: text(p, "type"),
                    primary: flag(p, "primary"),
                })
            })
            .collect(),
        addresses: items(o, "addresses")
            .into_iter()
            .map(|a| AddressInput {
                formatted: text(a, "formatted"),
                street_address: text(a, "streetAddress"),
                locality: text(a, "locality"),
                region: text(a, "region"),
                postal_code: text(a, "postalCode"),
                country: text(a, "country"),
                kind: text(a, "type"),
                primary: flag(a, "primary"),
            })
            .collect(),
    })
}

impl Fields {
    fn text(&self, field: &str) -> Option<String> {
        self.texts
            .iter()
            .find(|(f, _)| *f == field)
            .and_then(|(_, v)| v.clone())
    }

    /// SCIM's `addresses[].country` is an ISO 3166-1 alpha-2 code (RFC 7643 §4.1.2): the
    /// primary address's (else the first's) becomes the user's country code when it is a
    /// known code. A country sent as a name stays in the address only; no country leaves
    /// the code as it is.
    fn country_code(&self) -> Option<String> {
        let address = self
            .addresses
            .iter()
            .find(|a| a.primary == Some(true))
            .or_else(|| self.addresses.first())?;
        let country = address.country.as_deref()?;
        rolecall_core::validate::CountryCode::parse("country_code", country)
            .ok()
            .map(|c| c.as_str().to_string())
    }

    fn new_user(self) -> NewUser {
        let t = |f: &str| self.text(f);
        NewUser {
            email: self.email.clone(),
            username: Some(self.username.clone()),
            first_name: Some(self.first_name.clone()),
            last_name: Some(self.last_name.clone()),
            locale: self.locale.clone(),
            status: (!self.active).then(|| "inactive".to_string()),
            // Provisioned people hear from their identity provider: rolecall mails them only
            // when `provisioning.invitations` is on (they are then created invited).
            notify: Some(false),
            identity_type: None,
            country_code: self.country_code(),
            external_id: self.external_id.clone(),
            display_name: t("display_name"),
            nick_name: t("nick_name"),
            title: t("title"),
            user_type: t("user_type"),
            name_formatted: t("name_formatted"),
            middle_name: t("middle_name"),
            honorific_prefix: t("honorific_prefix"),
            honorific_suffix: t("honorific_suffix"),
            preferred_language: self.preferred_language.clone(),
            timezone: self.timezone.clone(),
            emails: Some(self.emails.clone()),
            phone_numbers: Some(self.phone_numbers.clone()),
            addresses: Some(self.addresses.clone()),
            employee_number: t("employee_number"),
            cost_center: t("cost_center"),
            organization: t("organization"),
            division: t("division"),
            department: t("department"),
            manager_id: self.manager_id.clone(),
        }
    }

    /// Every attribute SCIM carries, set or unset: the whole SCIM view of the user is replaced
    /// (rolecall-only attributes such as the identity type are left alone).
    fn patch(self, current: &User) -> UserPatch {
        let t = |f: &str| Some(self.text(f));
        let status = if !self.active {
            Some("inactive".to_string())
        } else if current.status == UserStatus::Inactive {
            Some("active".to_string())
        } else {
            None
        };
        UserPatch {
            email: Some(self.email.clone()),
            username: Some(self.username.clone()),
            first_name: Some(self.first_name.clone()),
            last_name: Some(self.last_name.clone()),
            locale: Some(self.locale.clone().unwrap_or_else(|| "en_US".into())),
            status,
            identity_type: None,
            country_code: self.country_code().map(Some),
            external_id: Some(self.external_id.clone()),
            display_name: t("display_name"),
            nick_name: t("nick_name"),
            title: t("title"),
            user_type: t("user_type"),
            name_formatted: t("name_formatted"),
            middle_name: t("middle_name"),
            honorific_prefix: t("honorific_prefix"),
            honorific_suffix: t("honorific_suffix"),
            preferred_language: Some(self.preferred_language.clone()),
            timezone: Some(self.timezone.clone()),
            emails: Some(self.emails.clone()),
            phone_numbers: Some(self.phone_numbers.clone()),
            addresses: Some(self.addresses.clone()),
            employee_number: t("employee_number"),
            cost_center: t("cost_center"),
            organization: t("organization"),
            division: t("division"),
            department: t("department"),
            manager_id: Some(self.manager_id.clone()),
        }
    }
}

/// The filter (placeholders from `$2`, `$1` being the organisation) and order of a listing.
pub(super) fn users_listing(
    b: crate::store::Backend,
    q: &ListQuery,
) -> ScimResult<(Option<SqlFilter>, String)> {
    let map = UserColumns::new(b);
    let filter = q
        .filter
        .as_ref()
        .map(|f| to_sql_at(f, &map, 2))
        .transpose()?;
    let order = match &q.sort_by {
        None => "u.created_at, u.id".to_string(),
        Some(path) => {
            let attr = user_type().resolve(path).ok_or_else(|| {
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
            // Unassigned values last either way, then a stable tie-break.
            format!("(CASE WHEN {expr} IS NULL THEN 1 ELSE 0 END), {expr} {dir}, u.id")
        }
    };
    Ok((filter, order))
}

/// Renders a page of users with their groups (unless `groups` is not returned).
async fn render(s: &AppState, users: &[User], q: &ListQuery, base: &str) -> ScimResult<Vec<Value>> {
    let wants_groups = wants(q, "groups");
    let groups = if wants_groups && !users.is_empty() {
        let ids: Vec<UserId> = users.iter().map(|u| u.id).collect();
        s.dir.groups_of_users(&ids).await?
    } else {
        Default::default()
    };
    Ok(users
        .iter()
        .map(|u| {
            let g = groups.get(&u.id).map(Vec::as_slice).unwrap_or(&[]);
            project(
                &to_scim(u, g, base),
                user_type(),
                &q.attributes,
                &q.excluded_attributes,
            )
        })
        .collect())
}

/// Whether the projection may return `attr` (so it is worth loading).
pub(super) fn wants(q: &ListQuery, attr: &str) -> bool {
    let named = |list: &[String]| {
        list.iter().any(|a| {
            let a = a.trim();
            a.eq_ignore_ascii_case(attr)
                || a.to_ascii_lowercase()
                    .starts_with(&format!("{}.", attr.to_ascii_lowercase()))
                || a.to_ascii_lowercase()
                    .ends_with(&format!(":{}", attr.to_ascii_lowercase()))
        })
    };
    if named(&q.excluded_attributes) && !q.excluded_attributes.iter().any(|a| a.contains('.')) {
        return false;
    }
    q.attributes.is_empty() || named(&q.attributes)
}

async fn run_list(
    s: &AppState,
    caller: &ScimCaller,
    base: &str,
    q: ListQuery,
) -> ScimResult<Response> {
    let admin = caller.permit(Operation::ViewUsers)?;
    let (filter, order) = users_listing(s.dir.db.backend, &q)?;
    let page = s
        .dir
        .scim_users(&admin.org, filter.as_ref(), &order, q.offset(), q.count)
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

/// For the root `/.search`: how many users match (a filter naming a Group-only attribute
/// matches no user rather than failing).
pub(super) async fn count_for_root(
    s: &AppState,
    caller: &ScimCaller,
    q: &ListQuery,
) -> ScimResult<(u64, ())> {
    let admin = caller.permit(Operation::ViewUsers)?;
    let Ok((filter, _)) = users_listing(s.dir.db.backend, q) else {
        return Ok((0, ()));
    };
    let page = s
        .dir
        .scim_users(&admin.org, filter.as_ref(), "u.id", 0, 0)
        .await?;
    Ok((page.total, ()))
}

pub(super) async fn page_for_root(
    s: &AppState,
    caller: &ScimCaller,
    base: &BaseUrl,
    q: &ListQuery,
) -> ScimResult<Vec<Value>> {
    let admin = caller.permit(Operation::ViewUsers)?;
    let (filter, order) = users_listing(s.dir.db.backend, q)?;
    let page = s
        .dir
        .scim_users(&admin.org, filter.as_ref(), &order, q.offset(), q.count)
        .await?;
    render(s, &page.items, q, &base.0).await
}

/// `attributes` / `excludedAttributes` of a single-resource request.
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

fn parse_user_id(id: &str) -> ScimResult<UserId> {
    id.parse::<UserId>()
        .map_err(|_| ScimFailure::not_found("User", id))
}

/// A user as its SCIM resource, with groups.
pub(super) async fn load(
    s: &AppState,
    caller: &ScimCaller,
    id: UserId,
    base: &str,
) -> ScimResult<(User, Value)> {
    let user = s.dir.get_user(caller.org(), id).await?;
    if user.kind != rolecall_core::model::UserKind::Person {
        return Err(ScimFailure::not_found("User", &id.to_string()));
    }
    let groups = s.dir.groups_of_users(&[id]).await?;
    let doc = to_scim(
        &user,
        groups.get(&id).map(Vec::as_slice).unwrap_or(&[]),
        base,
    );
    Ok((user, doc))
}

fn respond(
    status: StatusCode,
    doc: &Value,
    version: i64,
    q: &ListQuery,
    location: Option<&str>,
) -> Response {
    let body = project(doc, user_type(), &q.attributes, &q.excluded_attributes);
    resource_response(status, &body, version, location)
}

/// Creates a user from a SCIM resource; the body of `POST /Users` and of bulk POSTs.
pub(super) async fn create_from(
    s: &AppState,
    caller: &ScimCaller,
    client: &crate::directory::signin::ClientInfo,
    base: &str,
    body: &Value,
) -> ScimResult<(User, Value)> {
    let admin = caller.permit(Operation::AddUser)?;
    let _ = client;
    let doc = create_resource(body, user_type())?;
    let new_user = fields(&doc)?.new_user();
    let user = s.dir.create_user(admin, new_user).await?;
    let doc = to_scim(&user, &[], base);
    Ok((user, doc))
}

pub async fn create(
    State(s): State<AppState>,
    caller: ScimCaller,
    Client(client): Client,
    base: BaseUrl,
    uri: Uri,
    ScimJson(body): ScimJson,
) -> ScimResult<Response> {
    let q = projection_of(&uri)?;
    let (user, doc) = create_from(&s, &caller, &client, &base.0, &body).await?;
    let location = format!("{}/Users/{}", base.0, user.id);
    Ok(respond(
        StatusCode::CREATED,
        &doc,
        user.version,
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
    caller.permit(Operation::ViewUsers)?;
    let q = projection_of(&uri)?;
    let (user, doc) = load(&s, &caller, parse_user_id(&id)?, &base.0).await?;
    if not_modified(&headers, user.version) {
        return Ok(not_modified_response(user.version));
    }
    Ok(respond(StatusCode::OK, &doc, user.version, &q, None))
}

/// Writes `next` (the SCIM resource after a PUT or PATCH) over `current`.
pub(super) async fn write(
    s: &AppState,
    caller: &ScimCaller,
    client: &crate::directory::signin::ClientInfo,
    current: &User,
    next: &Value,
    expected: Option<i64>,
    base: &str,
) -> ScimResult<(User, Value)> {
    let f = fields(next)?;
    let op = if !f.active && current.status != UserStatus::Inactive {
        Operation::RemoveUser
    } else {
        Operation::EditUser
    };
    let admin = caller.permit(op)?;
    let patch = f.patch(current);
    let user = s
        .dir
        .update_user(admin, current.id, patch, expected, None, client)
        .await?;
    let groups = s.dir.groups_of_users(&[user.id]).await?;
    let doc = to_scim(
        &user,
        groups.get(&user.id).map(Vec::as_slice).unwrap_or(&[]),
        base,
    );
    Ok((user, doc))
}

pub async fn replace(
    State(s): State<AppState>,
    caller: ScimCaller,
    Client(client): Client,
    base: BaseUrl,
    headers: HeaderMap,
    uri: Uri,
    Path(id): Path<String>,
    ScimJson(body): ScimJson,
) -> ScimResult<Response> {
    caller.permit(Operation::EditUser)?;
    let q = projection_of(&uri)?;
    let (current, doc) = load(&s, &caller, parse_user_id(&id)?, &base.0).await?;
    let expected = if_match(&headers);
    if let Some(v) = expected {
        if v != current.version {
            return Err(
                crate::error::Error::from(rolecall_core::Error::PreconditionFailed {
                    expected: v,
                    current: current.version,
                })
                .into(),
            );
        }
    }
    let next = replace_resource(&doc, &body, user_type())?;
    let (user, doc) = write(&s, &caller, &client, &current, &next, expected, &base.0).await?;
    Ok(respond(StatusCode::OK, &doc, user.version, &q, None))
}

/// Applies a PatchOp to a user; shared with bulk.
pub(super) async fn patch_user(
    s: &AppState,
    caller: &ScimCaller,
    client: &crate::directory::signin::ClientInfo,
    id: UserId,
    body: &Value,
    expected: Option<i64>,
    base: &str,
) -> ScimResult<(User, Value)> {
    caller.permit(Operation::EditUser)?;
    let (current, doc) = load(s, caller, id, base).await?;
    if let Some(v) = expected {
        if v != current.version {
            return Err(
                crate::error::Error::from(rolecall_core::Error::PreconditionFailed {
                    expected: v,
                    current: current.version,
                })
                .into(),
            );
        }
    }
    let next = apply_patch(&doc, body, user_type())?;
    if next == doc {
        return Ok((current, doc));
    }
    write(s, caller, client, &current, &next, expected, base).await
}

pub async fn patch(
    State(s): State<AppState>,
    caller: ScimCaller,
    Client(client): Client,
    base: BaseUrl,
    headers: HeaderMap,
    uri: Uri,
    Path(id): Path<String>,
    ScimJson(body): ScimJson,
) -> ScimResult<Response> {
    let q = projection_of(&uri)?;
    let (user, doc) = patch_user(
        &s,
        &caller,
        &client,
        parse_user_id(&id)?,
        &body,
        if_match(&headers),
        &base.0,
    )
    .await?;
    Ok(respond(StatusCode::OK, &doc, user.version, &q, None))
}

pub async fn delete(
    State(s): State<AppState>,
    caller: ScimCaller,
    Client(client): Client,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> ScimResult<Response> {
    delete_user(
        &s,
        &caller,
        &client,
        parse_user_id(&id)?,
        if_match(&headers),
    )
    .await?;
    Ok(axum::response::IntoResponse::into_response(
        StatusCode::NO_CONTENT,
    ))
}

/// Deletes a person; service accounts are not SCIM resources (404).
pub(super) async fn delete_user(
    s: &AppState,
    caller: &ScimCaller,
    client: &crate::directory::signin::ClientInfo,
    id: UserId,
    expected: Option<i64>,
) -> ScimResult<()> {
    let admin = caller.permit(Operation::RemoveUser)?;
    let user = s.dir.get_user(caller.org(), id).await?;
    if user.kind != rolecall_core::model::UserKind::Person {
        return Err(ScimFailure::not_found("User", &id.to_string()));
    }
    s.dir.delete_user(admin, id, expected, None, client).await?;
    Ok(())
}
