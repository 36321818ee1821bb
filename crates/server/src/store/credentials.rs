//! Queries for API credentials.

use super::{get_i64, get_opt_i64, get_opt_str, get_str, get_uuid, sql_for, Backend};
use crate::error::Result;
use rolecall_core::model::{Millis, OrgId, UserId};
use serde::Serialize;
use sqlx::AnyConnection;

/// An API credential as shown to admins; the secret is never part of it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Credential {
    pub id: String,
    pub name: String,
    pub description: String,
    /// The service account that holds the credential's roles: assign roles to it like to a user.
    pub service_user_id: UserId,
    pub created_by_user: Option<String>,
    pub created_by: String,
    pub created_at: Millis,
    pub expires_at: Option<Millis>,
    pub last_used_at: Option<Millis>,
    pub revoked_at: Option<Millis>,
    /// Made to automate sensitive changes, so exempt from identity re-verification.
    pub sensitive_changes: bool,
    #[serde(skip)]
    pub org_id: OrgId,
}

fn from_row(r: &sqlx::any::AnyRow) -> Result<Credential> {
    Ok(Credential {
        id: get_str(r, "id")?,
        name: get_str(r, "name")?,
        description: get_str(r, "description")?,
        service_user_id: UserId(get_uuid(r, "service_user_id")?),
        created_by_user: get_opt_str(r, "created_by_user")?,
        created_by: get_str(r, "created_by")?,
        created_at: get_i64(r, "created_at")?,
        expires_at: get_opt_i64(r, "expires_at")?,
        last_used_at: get_opt_i64(r, "last_used_at")?,
        revoked_at: get_opt_i64(r, "revoked_at")?,
        sensitive_changes: get_i64(r, "sensitive_changes")? != 0,
        org_id: OrgId(get_uuid(r, "org_id")?),
    })
}

pub async fn insert(
    c: &mut AnyConnection,
    b: Backend,
    cr: &Credential,
    token_hash: &str,
) -> Result<()> {
    sqlx::query(&sql_for(
        b,
        "INSERT INTO api_credentials (id, org_id, name, name_key, description, service_user_id, token_hash, created_by_user, created_by, created_at, expires_at, sensitive_changes) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
    ))
    .bind(&cr.id)
    .bind(cr.org_id.to_string())
    .bind(&cr.name)
    .bind(cr.name.to_lowercase())
    .bind(&cr.description)
    .bind(cr.service_user_id.to_string())
    .bind(token_hash)
    .bind(cr.created_by_user.clone())
    .bind(&cr.created_by)
    .bind(cr.created_at)
    .bind(cr.expires_at)
    .bind(i64::from(cr.sensitive_changes))
    .execute(c)
    .await
    .map_err(|e| {
        if super::unique_violation(&e) {
            rolecall_core::Error::invalid("name", "unique", format!("a credential named {} already exists", cr.name)).into()
        } else {
            crate::error::Error::Database(e)
        }
    })?;
    Ok(())
}

pub async fn list(c: &mut AnyConnection, b: Backend, org: OrgId) -> Result<Vec<Credential>> {
    let rows = sqlx::query(&sql_for(
        b,
        "SELECT * FROM api_credentials WHERE org_id = $1 ORDER BY name_key",
    ))
    .bind(org.to_string())
    .fetch_all(c)
    .await?;
    rows.iter().map(from_row).collect()
}

pub async fn get(
    c: &mut AnyConnection,
    b: Backend,
    org: OrgId,
    id: &str,
) -> Result<Option<Credential>> {
    let row = sqlx::query(&sql_for(
        b,
        "SELECT * FROM api_credentials WHERE org_id = $1 AND id = $2",
    ))
    .bind(org.to_string())
    .bind(id)
    .fetch_optional(c)
    .await?;
    row.as_ref().map(from_row).transpose()
}

/// A usable credential by secret hash: not revoked, not expired.
pub async fn by_token(
    c: &mut AnyConnection,
    b: Backend,
    token_hash: &str,
    now: Millis,
) -> Result<Option<Credential>> {
    let row = sqlx::query(&sql_for(b, "SELECT * FROM api_credentials WHERE token_hash = $1 AND revoked_at IS NULL AND (expires_at IS NULL OR expires_at > $2)"))
        .bind(token_hash)
        .bind(now)
        .fetch_optional(c)
        .await?;
    row.as_ref().map(from_row).transpose()
}

pub async fn revoke(c: &mut AnyConnection, b: Backend, id: &str, now: Millis) -> Result<bool> {
    let r = sqlx::query(&sql_for(
        b,
        "UPDATE api_credentials SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL",
    ))
    .bind(now)
    .bind(id)
    .execute(c)
    .await?;
    Ok(r.rows_affected() == 1)
}

/// Live credentials a person created: what offboarding them must decide about.
pub async fn live_created_by(
    c: &mut AnyConnection,
    b: Backend,
    user: UserId,
    now: Millis,
) -> Result<Vec<Credential>> {
    let rows = sqlx::query(&sql_for(
        b,
        "SELECT * FROM api_credentials WHERE created_by_user = $1 AND revoked_at IS NULL AND (expires_at IS NULL OR expires_at > $2) ORDER BY name_key",
    ))
    .bind(user.to_string())
    .bind(now)
    .fetch_all(c)
    .await?;
    rows.iter().map(from_row).collect()
}

/// Hands a credential to another person (offboarding its creator with `credentials=transfer`):
/// from now on it answers to them under the rights rule.
pub async fn set_creator(
    c: &mut AnyConnection,
    b: Backend,
    id: &str,
    user: UserId,
    label: &str,
) -> Result<()> {
    sqlx::query(&sql_for(
        b,
        "UPDATE api_credentials SET created_by_user = $1, created_by = $2 WHERE id = $3",
    ))
    .bind(user.to_string())
    .bind(format!("user {label}"))
    .bind(id)
    .execute(c)
    .await?;
    Ok(())
}
