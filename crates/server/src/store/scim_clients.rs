//! Queries for SCIM clients: the credential an identity provider uses on `/scim/v2`.

use super::{get_i64, get_opt_i64, get_opt_str, get_str, get_uuid, sql_for, Backend};
use crate::error::Result;
use rolecall_core::model::{Millis, OrgId, UserId};
use serde::Serialize;
use sqlx::AnyConnection;

/// A SCIM client as shown to admins; the bearer secret is never part of it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ScimClient {
    pub id: String,
    pub name: String,
    pub description: String,
    /// The person who created it (their access is out of the client's reach).
    pub created_by_user: Option<String>,
    pub created_by: String,
    pub created_at: Millis,
    pub last_used_at: Option<Millis>,
    pub revoked_at: Option<Millis>,
    #[serde(skip)]
    pub org_id: OrgId,
}

fn from_row(r: &sqlx::any::AnyRow) -> Result<ScimClient> {
    Ok(ScimClient {
        id: get_str(r, "id")?,
        name: get_str(r, "name")?,
        description: get_str(r, "description")?,
        created_by_user: get_opt_str(r, "created_by_user")?,
        created_by: get_str(r, "created_by")?,
        created_at: get_i64(r, "created_at")?,
        last_used_at: get_opt_i64(r, "last_used_at")?,
        revoked_at: get_opt_i64(r, "revoked_at")?,
        org_id: OrgId(get_uuid(r, "org_id")?),
    })
}

pub async fn insert(
    c: &mut AnyConnection,
    b: Backend,
    sc: &ScimClient,
    token_hash: &str,
) -> Result<()> {
    sqlx::query(&sql_for(
        b,
        "INSERT INTO scim_clients (id, org_id, name, name_key, description, token_hash, created_by_user, created_by, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
    ))
    .bind(&sc.id)
    .bind(sc.org_id.to_string())
    .bind(&sc.name)
    .bind(sc.name.to_lowercase())
    .bind(&sc.description)
    .bind(token_hash)
    .bind(sc.created_by_user.clone())
    .bind(&sc.created_by)
    .bind(sc.created_at)
    .execute(c)
    .await
    .map_err(|e| {
        if super::unique_violation(&e) {
            rolecall_core::Error::invalid(
                "name",
                "unique",
                format!("a SCIM client named {} already exists", sc.name),
            )
            .into()
        } else {
            crate::error::Error::Database(e)
        }
    })?;
    Ok(())
}

pub async fn list(c: &mut AnyConnection, b: Backend, org: OrgId) -> Result<Vec<ScimClient>> {
    let rows = sqlx::query(&sql_for(
        b,
        "SELECT * FROM scim_clients WHERE org_id = $1 ORDER BY name_key",
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
) -> Result<Option<ScimClient>> {
    let row = sqlx::query(&sql_for(
        b,
        "SELECT * FROM scim_clients WHERE org_id = $1 AND id = $2",
    ))
    .bind(org.to_string())
    .bind(id)
    .fetch_optional(c)
    .await?;
    row.as_ref().map(from_row).transpose()
}

/// A usable (not revoked) client by the hash of its secret.
pub async fn by_token(
    c: &mut AnyConnection,
    b: Backend,
    token_hash: &str,
) -> Result<Option<ScimClient>> {
    let row = sqlx::query(&sql_for(
        b,
        "SELECT * FROM scim_clients WHERE token_hash = $1 AND revoked_at IS NULL",
    ))
    .bind(token_hash)
    .fetch_optional(c)
    .await?;
    row.as_ref().map(from_row).transpose()
}

pub async fn touch(c: &mut AnyConnection, b: Backend, id: &str, now: Millis) -> Result<()> {
    sqlx::query(&sql_for(
        b,
        "UPDATE scim_clients SET last_used_at = $1 WHERE id = $2",
    ))
    .bind(now)
    .bind(id)
    .execute(c)
    .await?;
    Ok(())
}

pub async fn revoke(c: &mut AnyConnection, b: Backend, id: &str, now: Millis) -> Result<bool> {
    let r = sqlx::query(&sql_for(
        b,
        "UPDATE scim_clients SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL",
    ))
    .bind(now)
    .bind(id)
    .execute(c)
    .await?;
    Ok(r.rows_affected() == 1)
}

/// The unrevoked clients `user` created (offboarding them decides about these too).
pub async fn live_created_by(
    c: &mut AnyConnection,
    b: Backend,
    user: UserId,
) -> Result<Vec<ScimClient>> {
    let rows = sqlx::query(&sql_for(
        b,
        "SELECT * FROM scim_clients WHERE created_by_user = $1 AND revoked_at IS NULL ORDER BY name_key",
    ))
    .bind(user.to_string())
    .fetch_all(c)
    .await?;
    rows.iter().map(from_row).collect()
}

/// Hands a client to another person: from now on its creator guard protects them.
pub async fn set_creator(
    c: &mut AnyConnection,
    b: Backend,
    id: &str,
    user: UserId,
    label: &str,
) -> Result<()> {
    sqlx::query(&sql_for(
        b,
        "UPDATE scim_clients SET created_by_user = $1, created_by = $2 WHERE id = $3",
    ))
    .bind(user.to_string())
    .bind(format!("user {label}"))
    .bind(id)
    .execute(c)
    .await?;
    Ok(())
}
