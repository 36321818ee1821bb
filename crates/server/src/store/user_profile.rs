//! Storage of a user's profile (`rolecall_core::model::UserProfile`): the columns of the users
//! row with their folded `*_key` companions, and the child tables `user_emails`, `user_phones`
//! and `user_addresses` that SCIM filters search. The user row's JSON copy of each list is what
//! reads return; both are written here, by the same call, so they never disagree.

use super::{get_opt_str, get_str, sql_for, Backend};
use crate::error::{Error, Result};
use rolecall_core::model::{Address, EmailEntry, IdentityType, PhoneEntry, User, UserProfile};
use rolecall_core::validate::{AttributeText, CountryCode, ExternalId, LanguageTag, Timezone};
use rolecall_scim::fold_case;
use sqlx::any::AnyRow;
use sqlx::AnyConnection;

fn corrupt(what: &str, e: impl std::fmt::Display) -> Error {
    Error::Internal(format!("stored {what} fails validation: {e}"))
}

fn key(v: Option<&str>) -> Option<String> {
    v.map(fold_case)
}

/// The profile's columns of the users row, keys included, as (column, value). Also the
/// name and locale keys of the core columns, which SCIM filters use.
pub(crate) fn columns(u: &User) -> Result<Vec<(&'static str, Option<String>)>> {
    let p = &u.profile;
    let text = |t: &Option<AttributeText>| t.as_ref().map(|v| v.as_str().to_string());
    let name_key = |n: &str| (!n.is_empty()).then(|| fold_case(n));
    let mut out = vec![
        ("identity_type", Some(p.identity_type.as_str().to_string())),
        (
            "country_code",
            p.country_code.as_ref().map(|c| c.as_str().to_string()),
        ),
        (
            "external_id",
            p.external_id.as_ref().map(|c| c.as_str().to_string()),
        ),
        ("provisioned_by", u.provisioned_by.clone()),
        ("first_name_key", name_key(u.first_name.as_str())),
        ("last_name_key", name_key(u.last_name.as_str())),
        ("locale_key", Some(fold_case(&u.locale.bcp47()))),
        (
            "manager_id",
            p.manager_id.as_ref().map(|c| c.as_str().to_string()),
        ),
        ("emails", Some(serde_json::to_string(&p.emails)?)),
        (
            "phone_numbers",
            Some(serde_json::to_string(&p.phone_numbers)?),
        ),
        ("addresses", Some(serde_json::to_string(&p.addresses)?)),
    ];
    let keyed: [(&'static str, &'static str, Option<String>); 15] = [
        ("display_name", "display_name_key", text(&p.display_name)),
        ("nick_name", "nick_name_key", text(&p.nick_name)),
        ("title", "title_key", text(&p.title)),
        ("user_type", "user_type_key", text(&p.user_type)),
        (
            "name_formatted",
            "name_formatted_key",
            text(&p.name_formatted),
        ),
        ("middle_name", "middle_name_key", text(&p.middle_name)),
        (
            "honorific_prefix",
            "honorific_prefix_key",
            text(&p.honorific_prefix),
        ),
        (
            "honorific_suffix",
            "honorific_suffix_key",
            text(&p.honorific_suffix),
        ),
        (
            "preferred_language",
            "preferred_language_key",
            p.preferred_language
                .as_ref()
                .map(|v| v.as_str().to_string()),
        ),
        (
            "timezone",
            "timezone_key",
            p.timezone.as_ref().map(|v| v.as_str().to_string()),
        ),
        (
            "employee_number",
            "employee_number_key",
            text(&p.employee_number),
        ),
        ("cost_center", "cost_center_key", text(&p.cost_center)),
        ("organization", "organization_key", text(&p.organization)),
        ("division", "division_key", text(&p.division)),
        ("department", "department_key", text(&p.department)),
    ];
    for (col, key_col, v) in keyed {
        out.push((key_col, key(v.as_deref())));
        out.push((col, v));
    }
    Ok(out)
}

/// Reads the profile and `provisioned_by` from a users row.
pub(crate) fn from_row(row: &AnyRow) -> Result<(UserProfile, Option<String>)> {
    let opt = |col: &str| -> Result<Option<AttributeText>> {
        get_opt_str(row, col)?
            .map(|v| AttributeText::parse(col, &v).map_err(|e| corrupt(col, e.message)))
            .transpose()
    };
    let exact = |col: &str| -> Result<Option<ExternalId>> {
        get_opt_str(row, col)?
            .map(|v| ExternalId::parse(col, &v).map_err(|e| corrupt(col, e.message)))
            .transpose()
    };
    let profile = UserProfile {
        identity_type: IdentityType::parse("identity_type", &get_str(row, "identity_type")?)
            .map_err(|e| corrupt("identity_type", e.message))?,
        country_code: get_opt_str(row, "country_code")?
            .map(|v| {
                CountryCode::parse("country_code", &v).map_err(|e| corrupt("country", e.message))
            })
            .transpose()?,
        external_id: exact("external_id")?,
        display_name: opt("display_name")?,
        nick_name: opt("nick_name")?,
        title: opt("title")?,
        user_type: opt("user_type")?,
        name_formatted: opt("name_formatted")?,
        middle_name: opt("middle_name")?,
        honorific_prefix: opt("honorific_prefix")?,
        honorific_suffix: opt("honorific_suffix")?,
        preferred_language: get_opt_str(row, "preferred_language")?
            .map(|v| {
                LanguageTag::parse("preferred_language", &v)
                    .map_err(|e| corrupt("preferred_language", e.message))
            })
            .transpose()?,
        timezone: get_opt_str(row, "timezone")?
            .map(|v| Timezone::parse("timezone", &v).map_err(|e| corrupt("timezone", e.message)))
            .transpose()?,
        emails: serde_json::from_str::<Vec<EmailEntry>>(&get_str(row, "emails")?)?,
        phone_numbers: serde_json::from_str::<Vec<PhoneEntry>>(&get_str(row, "phone_numbers")?)?,
        addresses: serde_json::from_str::<Vec<Address>>(&get_str(row, "addresses")?)?,
        employee_number: opt("employee_number")?,
        cost_center: opt("cost_center")?,
        organization: opt("organization")?,
        division: opt("division")?,
        department: opt("department")?,
        manager_id: exact("manager_id")?,
    };
    Ok((profile, get_opt_str(row, "provisioned_by")?))
}

/// The columns of `user_emails`, in the order of [`email_rows`].
pub(crate) const EMAIL_COLUMNS: &[&str] = &[
    "user_id",
    "org_id",
    "position",
    "value",
    "value_key",
    "type",
    "type_key",
    "display",
    "display_key",
    "is_primary",
];

/// A user's rows of `user_emails`, one per entry in their order.
pub(crate) fn email_rows(u: &User) -> Vec<Vec<super::rows::Cell>> {
    let text = |t: &Option<AttributeText>| t.as_ref().map(|v| v.as_str().to_string());
    let k = |t: &Option<AttributeText>| t.as_ref().map(|v| fold_case(v.as_str()));
    u.profile
        .emails
        .iter()
        .enumerate()
        .map(|(i, e)| {
            vec![
                u.id.to_string().into(),
                u.org_id.to_string().into(),
                (i as i64).into(),
                e.value.as_str().into(),
                fold_case(e.value.as_str()).into(),
                text(&e.kind).into(),
                k(&e.kind).into(),
                text(&e.display).into(),
                k(&e.display).into(),
                i64::from(e.primary).into(),
            ]
        })
        .collect()
}

/// Rewrites the child tables of a user's multi-valued attributes. `fresh`: the user was just
/// inserted, so there is nothing to delete.
pub(crate) async fn write_children(
    c: &mut AnyConnection,
    b: Backend,
    u: &User,
    fresh: bool,
) -> Result<()> {
    let id = u.id.to_string();
    let org = u.org_id.to_string();
    if !fresh {
        for table in ["user_emails", "user_phones", "user_addresses"] {
            sqlx::query(&sql_for(
                b,
                &format!("DELETE FROM {table} WHERE user_id = $1"),
            ))
            .bind(&id)
            .execute(&mut *c)
            .await?;
        }
    }
    let text = |t: &Option<AttributeText>| t.as_ref().map(|v| v.as_str().to_string());
    let k = |t: &Option<AttributeText>| t.as_ref().map(|v| fold_case(v.as_str()));
    if !u.profile.emails.is_empty() {
        super::rows::insert_rows(&mut *c, b, "user_emails", EMAIL_COLUMNS, email_rows(u), "")
            .await?;
    }
    for (i, ph) in u.profile.phone_numbers.iter().enumerate() {
        sqlx::query(&sql_for(
            b,
            "INSERT INTO user_phones (user_id, org_id, position, value, value_key, type, type_key, is_primary) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        ))
        .bind(&id)
        .bind(&org)
        .bind(i as i64)
        .bind(ph.value.as_str())
        .bind(fold_case(ph.value.as_str()))
        .bind(text(&ph.kind))
        .bind(k(&ph.kind))
        .bind(i64::from(ph.primary))
        .execute(&mut *c)
        .await?;
    }
    for (i, a) in u.profile.addresses.iter().enumerate() {
        sqlx::query(&sql_for(
            b,
            "INSERT INTO user_addresses (user_id, org_id, position, formatted, formatted_key, street_address, street_address_key, \
             locality, locality_key, region, region_key, postal_code, postal_code_key, country, country_key, type, type_key, is_primary) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18)",
        ))
        .bind(&id)
        .bind(&org)
        .bind(i as i64)
        .bind(text(&a.formatted))
        .bind(k(&a.formatted))
        .bind(text(&a.street_address))
        .bind(k(&a.street_address))
        .bind(text(&a.locality))
        .bind(k(&a.locality))
        .bind(text(&a.region))
        .bind(k(&a.region))
        .bind(text(&a.postal_code))
        .bind(k(&a.postal_code))
        .bind(text(&a.country))
        .bind(k(&a.country))
        .bind(text(&a.kind))
        .bind(k(&a.kind))
        .bind(i64::from(a.primary))
        .execute(&mut *c)
        .await?;
    }
    Ok(())
}

/// Deletes the child rows of a user being deleted.
pub(crate) async fn delete_children(c: &mut AnyConnection, b: Backend, user: &str) -> Result<()> {
    for table in ["user_emails", "user_phones", "user_addresses"] {
        sqlx::query(&sql_for(
            b,
            &format!("DELETE FROM {table} WHERE user_id = $1"),
        ))
        .bind(user)
        .execute(&mut *c)
        .await?;
    }
    Ok(())
}

/// Fills the name and locale keys of rows written before migration 0011 (marked by a NULL
/// `locale_key`): SQL's `LOWER` cannot, as SQLite's folds ASCII only.
pub(crate) async fn fill_missing_keys(c: &mut AnyConnection, b: Backend) -> Result<usize> {
    let rows =
        sqlx::query("SELECT id, first_name, last_name, locale FROM users WHERE locale_key IS NULL")
            .fetch_all(&mut *c)
            .await?;
    for r in &rows {
        let first = get_str(r, "first_name")?;
        let last = get_str(r, "last_name")?;
        let locale = get_str(r, "locale")?.replace('_', "-");
        sqlx::query(&sql_for(
            b,
            "UPDATE users SET first_name_key = $1, last_name_key = $2, locale_key = $3 WHERE id = $4",
        ))
        .bind((!first.is_empty()).then(|| fold_case(&first)))
        .bind((!last.is_empty()).then(|| fold_case(&last)))
        .bind(fold_case(&locale))
        .bind(get_str(r, "id")?)
        .execute(&mut *c)
        .await?;
    }
    Ok(rows.len())
}
