//! Queries for "Get started" invitations: the `invitations` table. Tokens appear here only as
//! their SHA-256; the plain token exists once, in the outbox message that carries it.

use super::{get_i64, get_opt_i64, get_opt_str, get_str, get_uuid, sql_for, Backend};
use crate::error::Result;
use rolecall_core::model::{Millis, OrgId, UserId};
use sqlx::AnyConnection;

/// One stored invitation (without its token hash, which never leaves the store).
#[derive(Debug, Clone)]
pub struct InvitationRow {
    pub id: String,
    pub org_id: OrgId,
    pub user_id: UserId,
    pub invited_by: Option<String>,
    pub created_at: Millis,
    pub expires_at: Millis,
    pub sent_at: Millis,
    pub accepted_at: Option<Millis>,
    pub withdrawn_at: Option<Millis>,
    /// The person or service account who sent the live token; `None` for the operator, the
    /// server, a SCIM client, or an invitation sent before migration 0022 (then only System
    /// admins resend or withdraw it).
    pub sent_by: Option<UserId>,
}

const COLS: &str = "i.id, i.org_id, i.user_id, i.invited_by, i.created_at, i.expires_at, i.sent_at, i.accepted_at, i.withdrawn_at, i.sent_by";

fn from_row(r: &sqlx::any::AnyRow) -> Result<InvitationRow> {
    Ok(InvitationRow {
        id: get_str(r, "id")?,
        org_id: OrgId(get_uuid(r, "org_id")?),
        user_id: UserId(get_uuid(r, "user_id")?),
        invited_by: get_opt_str(r, "invited_by")?,
        created_at: get_i64(r, "created_at")?,
        expires_at: get_i64(r, "expires_at")?,
        sent_at: get_i64(r, "sent_at")?,
        accepted_at: get_opt_i64(r, "accepted_at")?,
        withdrawn_at: get_opt_i64(r, "withdrawn_at")?,
        sent_by: get_opt_str(r, "sent_by")?
            .map(|s| {
                s.parse::<UserId>()
                    .map_err(|e| crate::error::Error::Internal(format!("bad uuid in sent_by: {e}")))
            })
            .transpose()?,
    })
}

/// Row lock on PostgreSQL; SQLite writers are serialised by `Db::write`.
fn for_update(b: Backend) -> &'static str {
    match b {
        Backend::Postgres => " FOR UPDATE",
        Backend::Sqlite => "",
    }
}

/// The user's open (neither accepted nor withdrawn) invitation, expired or not, locked.
pub async fn lock_open_for_user(
    c: &mut AnyConnection,
    b: Backend,
    org: OrgId,
    user: UserId,
) -> Result<Option<InvitationRow>> {
    open_of(c, b, org, user, for_update(b)).await
}

/// The user's open invitation, to show: nothing is locked.
pub async fn open_for_user(
    c: &mut AnyConnection,
    b: Backend,
    org: OrgId,
    user: UserId,
) -> Result<Option<InvitationRow>> {
    open_of(c, b, org, user, "").await
}

async fn open_of(
    c: &mut AnyConnection,
    b: Backend,
    org: OrgId,
    user: UserId,
    lock: &str,
) -> Result<Option<InvitationRow>> {
    let row = sqlx::query(&sql_for(
        b,
        &format!(
            "SELECT {COLS} FROM invitations i WHERE i.org_id = $1 AND i.user_id = $2 \
             AND i.accepted_at IS NULL AND i.withdrawn_at IS NULL{lock}"
        ),
    ))
    .bind(org.to_string())
    .bind(user.to_string())
    .fetch_optional(c)
    .await?;
    row.as_ref().map(from_row).transpose()
}

/// The columns of a new invitation, in the order of [`invitation_row`].
pub(crate) const INSERT_COLUMNS: &[&str] = &[
    "id",
    "org_id",
    "user_id",
    "token_hash",
    "invited_by",
    "created_at",
    "expires_at",
    "sent_at",
    "sent_by",
];

/// A new invitation as a row (neither accepted nor withdrawn).
pub(crate) fn invitation_row(inv: &InvitationRow, token_hash: &str) -> Vec<super::rows::Cell> {
    vec![
        inv.id.clone().into(),
        inv.org_id.to_string().into(),
        inv.user_id.to_string().into(),
        token_hash.into(),
        inv.invited_by.clone().into(),
        inv.created_at.into(),
        inv.expires_at.into(),
        inv.sent_at.into(),
        inv.sent_by.map(|u| u.to_string()).into(),
    ]
}

pub async fn insert(
    c: &mut AnyConnection,
    b: Backend,
    inv: &InvitationRow,
    token_hash: &str,
) -> Result<()> {
    let row = invitation_row(inv, token_hash);
    super::rows::insert_rows(c, b, "invitations", INSERT_COLUMNS, vec![row], "").await?;
    Ok(())
}

/// A resend: the open invitation gets a new token (the old hash is gone, so the old token is
/// dead), a new sender and a fresh expiry.
pub async fn renew(
    c: &mut AnyConnection,
    b: Backend,
    inv: &InvitationRow,
    token_hash: &str,
) -> Result<()> {
    sqlx::query(&sql_for(
        b,
        "UPDATE invitations SET token_hash = $1, invited_by = $2, sent_at = $3, expires_at = $4, sent_by = $5 WHERE id = $6",
    ))
    .bind(token_hash)
    .bind(inv.invited_by.clone())
    .bind(inv.sent_at)
    .bind(inv.expires_at)
    .bind(inv.sent_by.map(|u| u.to_string()))
    .bind(&inv.id)
    .execute(c)
    .await?;
    Ok(())
}

/// The live invitation a token names in `org`: open and unexpired, locked.
pub async fn lock_live_by_token(
    c: &mut AnyConnection,
    b: Backend,
    org: OrgId,
    token_hash: &str,
    now: Millis,
) -> Result<Option<InvitationRow>> {
    let row = sqlx::query(&sql_for(
        b,
        &format!(
            "SELECT {COLS} FROM invitations i WHERE i.token_hash = $1 AND i.org_id = $2 \
             AND i.accepted_at IS NULL AND i.withdrawn_at IS NULL AND i.expires_at > $3{}",
            for_update(b)
        ),
    ))
    .bind(token_hash)
    .bind(org.to_string())
    .bind(now)
    .fetch_optional(c)
    .await?;
    row.as_ref().map(from_row).transpose()
}

/// Consumes an invitation; false when it was no longer open (a concurrent accept or withdraw).
pub async fn mark_accepted(
    c: &mut AnyConnection,
    b: Backend,
    id: &str,
    now: Millis,
) -> Result<bool> {
    let r = sqlx::query(&sql_for(
        b,
        "UPDATE invitations SET accepted_at = $1 WHERE id = $2 AND accepted_at IS NULL AND withdrawn_at IS NULL",
    ))
    .bind(now)
    .bind(id)
    .execute(c)
    .await?;
    Ok(r.rows_affected() == 1)
}

/// Withdraws the user's open invitation, if any; returns how many were withdrawn (0 or 1).
pub async fn withdraw_open(
    c: &mut AnyConnection,
    b: Backend,
    org: OrgId,
    user: UserId,
    now: Millis,
) -> Result<u64> {
    let r = sqlx::query(&sql_for(
        b,
        "UPDATE invitations SET withdrawn_at = $1 WHERE org_id = $2 AND user_id = $3 AND accepted_at IS NULL AND withdrawn_at IS NULL",
    ))
    .bind(now)
    .bind(org.to_string())
    .bind(user.to_string())
    .execute(c)
    .await?;
    Ok(r.rows_affected())
}

/// Open invitations of users still `invited`, oldest first, with each user's e-mail and username;
/// and how many there are in all.
pub async fn list_open(
    c: &mut AnyConnection,
    b: Backend,
    org: OrgId,
    offset: i64,
    limit: i64,
) -> Result<(Vec<(InvitationRow, String, String)>, i64)> {
    let filter = "FROM invitations i JOIN users u ON u.id = i.user_id \
                  WHERE i.org_id = $1 AND i.accepted_at IS NULL AND i.withdrawn_at IS NULL AND u.status = 'invited'";
    let total = sqlx::query(&sql_for(b, &format!("SELECT COUNT(*) AS n {filter}")))
        .bind(org.to_string())
        .fetch_one(&mut *c)
        .await?;
    let total = get_i64(&total, "n")?;
    let rows = sqlx::query(&sql_for(
        b,
        &format!(
            "SELECT {COLS}, u.email AS user_email, u.username AS user_username {filter} \
             ORDER BY i.created_at, i.id LIMIT {limit} OFFSET {offset}"
        ),
    ))
    .bind(org.to_string())
    .fetch_all(c)
    .await?;
    let items = rows
        .iter()
        .map(|r| {
            Ok((
                from_row(r)?,
                get_str(r, "user_email")?,
                get_str(r, "user_username")?,
            ))
        })
        .collect::<Result<Vec<_>>>()?;
    Ok((items, total))
}
