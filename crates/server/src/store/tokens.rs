//! Bearer tokens: created once, stored as SHA-256, looked up by hash.

use super::{get_opt_str, get_str, sql_for, Backend};
use crate::error::Result;
use rolecall_core::model::{Millis, OrgId};
use sqlx::AnyConnection;

/// What a valid token lets its bearer act as.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenGrant {
    pub token_id: String,
    pub name: String,
    /// `None`: the whole server (bootstrap token).
    pub org_id: Option<OrgId>,
}

pub async fn insert(
    c: &mut AnyConnection,
    b: Backend,
    id: &str,
    hash: &str,
    name: &str,
    org: Option<OrgId>,
    now: Millis,
) -> Result<()> {
    sqlx::query(&sql_for(b, "INSERT INTO api_tokens (id, token_hash, name, org_id, created_at) VALUES ($1, $2, $3, $4, $5)"))
        .bind(id)
        .bind(hash)
        .bind(name)
        .bind(org.map(|o| o.to_string()))
        .bind(now)
        .execute(c)
        .await?;
    Ok(())
}

pub async fn find_by_hash(
    c: &mut AnyConnection,
    b: Backend,
    hash: &str,
) -> Result<Option<TokenGrant>> {
    let row = sqlx::query(&sql_for(
        b,
        "SELECT id, name, org_id FROM api_tokens WHERE token_hash = $1 AND revoked_at IS NULL",
    ))
    .bind(hash)
    .fetch_optional(c)
    .await?;
    row.map(|r| {
        Ok(TokenGrant {
            token_id: get_str(&r, "id")?,
            name: get_str(&r, "name")?,
            org_id: get_opt_str(&r, "org_id")?.and_then(|s| s.parse().ok()),
        })
    })
    .transpose()
}

pub async fn count_server_tokens(c: &mut AnyConnection) -> Result<i64> {
    let row = sqlx::query("SELECT COUNT(*) AS n FROM api_tokens WHERE org_id IS NULL")
        .fetch_one(c)
        .await?;
    super::get_i64(&row, "n")
}
