//! Queries for sign-in: credentials on the user row, sessions, settings, admin rights, sign-in
//! events, reset tokens and the mail outbox.

use super::{get_i64, get_opt_i64, get_opt_str, get_str, get_uuid, sql_for, Backend};
use crate::error::Result;
use rolecall_core::model::{Millis, OrgId, UserId};
use rolecall_core::settings::OrgSettings;
use serde::Serialize;
use sqlx::{AnyConnection, Column, Row};

/// The secret side of a user, never serialised to clients.
#[derive(Debug, Clone)]
pub struct Credentials {
    pub user_id: UserId,
    pub status: String,
    pub username: String,
    pub email: String,
    pub password_hash: Option<String>,
    pub password_changed_at: Option<Millis>,
    pub failed_attempts: i64,
    pub locked_until: Option<Millis>,
    pub totp_secret: Option<String>,
    pub totp_enabled: bool,
    pub totp_last_step: Option<i64>,
}

const CRED_COLS: &str = "id, status, username, email, password_hash, password_changed_at, failed_attempts, locked_until, totp_secret, totp_enabled, totp_last_step";

fn cred_from_row(r: &sqlx::any::AnyRow) -> Result<Credentials> {
    Ok(Credentials {
        user_id: UserId(get_uuid(r, "id")?),
        status: get_str(r, "status")?,
        username: get_str(r, "username")?,
        email: get_str(r, "email")?,
        password_hash: get_opt_str(r, "password_hash")?,
        password_changed_at: get_opt_i64(r, "password_changed_at")?,
        failed_attempts: get_i64(r, "failed_attempts")?,
        locked_until: get_opt_i64(r, "locked_until")?,
        totp_secret: get_opt_str(r, "totp_secret")?,
        totp_enabled: get_i64(r, "totp_enabled")? != 0,
        totp_last_step: get_opt_i64(r, "totp_last_step")?,
    })
}

/// Finds a user by username or e-mail, ignoring case, for sign-in.
pub async fn credentials_by_login(
    c: &mut AnyConnection,
    b: Backend,
    org: OrgId,
    login: &str,
) -> Result<Option<Credentials>> {
    let key = login.to_lowercase();
    let lock = if b == Backend::Postgres {
        " FOR UPDATE"
    } else {
        ""
    };
    let row = sqlx::query(&sql_for(b, &format!("SELECT {CRED_COLS} FROM users WHERE org_id = $1 AND (username_key = $2 OR email_key = $2){lock}")))
        .bind(org.to_string())
        .bind(key)
        .fetch_optional(c)
        .await?;
    row.as_ref().map(cred_from_row).transpose()
}

pub async fn credentials(
    c: &mut AnyConnection,
    b: Backend,
    org: OrgId,
    user: UserId,
) -> Result<Option<Credentials>> {
    let lock = if b == Backend::Postgres {
        " FOR UPDATE"
    } else {
        ""
    };
    let row = sqlx::query(&sql_for(
        b,
        &format!("SELECT {CRED_COLS} FROM users WHERE org_id = $1 AND id = $2{lock}"),
    ))
    .bind(org.to_string())
    .bind(user.to_string())
    .fetch_optional(c)
    .await?;
    row.as_ref().map(cred_from_row).transpose()
}

pub async fn set_password(
    c: &mut AnyConnection,
    b: Backend,
    user: UserId,
    hash: &str,
    now: Millis,
) -> Result<()> {
    sqlx::query(&sql_for(b, "UPDATE users SET password_hash = $1, password_changed_at = $2, failed_attempts = 0, locked_until = NULL WHERE id = $3"))
        .bind(hash)
        .bind(now)
        .bind(user.to_string())
        .execute(&mut *c)
        .await?;
    sqlx::query(&sql_for(
        b,
        "INSERT INTO password_history (user_id, password_hash, created_at) VALUES ($1, $2, $3)",
    ))
    .bind(user.to_string())
    .bind(hash)
    .bind(now)
    .execute(c)
    .await?;
    Ok(())
}

/// Re-hashes with current parameters without touching history or the change date.
pub async fn upgrade_hash(
    c: &mut AnyConnection,
    b: Backend,
    user: UserId,
    hash: &str,
) -> Result<()> {
    sqlx::query(&sql_for(
        b,
        "UPDATE users SET password_hash = $1 WHERE id = $2",
    ))
    .bind(hash)
    .bind(user.to_string())
    .execute(c)
    .await?;
    Ok(())
}

pub async fn password_history(
    c: &mut AnyConnection,
    b: Backend,
    user: UserId,
    n: i64,
) -> Result<Vec<String>> {
    let rows = sqlx::query(&sql_for(b, &format!("SELECT password_hash FROM password_history WHERE user_id = $1 ORDER BY created_at DESC LIMIT {n}")))
        .bind(user.to_string())
        .fetch_all(c)
        .await?;
    rows.iter().map(|r| get_str(r, "password_hash")).collect()
}

/// A successful password step: failures reset, lock lifted, last sign-in recorded.
pub async fn record_sign_in(
    c: &mut AnyConnection,
    b: Backend,
    user: UserId,
    now: Millis,
) -> Result<()> {
    sqlx::query(&sql_for(b, "UPDATE users SET failed_attempts = 0, locked_until = NULL, last_sign_in_at = $1 WHERE id = $2"))
        .bind(now)
        .bind(user.to_string())
        .execute(c)
        .await?;
    Ok(())
}

pub async fn set_failures(
    c: &mut AnyConnection,
    b: Backend,
    user: UserId,
    failed: i64,
    locked_until: Option<Millis>,
) -> Result<()> {
    sqlx::query(&sql_for(
        b,
        "UPDATE users SET failed_attempts = $1, locked_until = $2 WHERE id = $3",
    ))
    .bind(failed)
    .bind(locked_until)
    .bind(user.to_string())
    .execute(c)
    .await?;
    Ok(())
}

pub async fn set_totp(
    c: &mut AnyConnection,
    b: Backend,
    user: UserId,
    secret: Option<&str>,
    enabled: bool,
    last_step: Option<i64>,
) -> Result<()> {
    sqlx::query(&sql_for(
        b,
        "UPDATE users SET totp_secret = $1, totp_enabled = $2, totp_last_step = $3 WHERE id = $4",
    ))
    .bind(secret.map(str::to_string))
    .bind(i64::from(enabled))
    .bind(last_step)
    .bind(user.to_string())
    .execute(c)
    .await?;
    Ok(())
}

/// Every stored TOTP secret (sealed or, before encryption, plain), for sealing at start.
pub async fn stored_totp_secrets(
    c: &mut AnyConnection,
    b: Backend,
) -> Result<Vec<(UserId, String)>> {
    let rows = sqlx::query(&sql_for(
        b,
        "SELECT id, totp_secret FROM users WHERE totp_secret IS NOT NULL ORDER BY id",
    ))
    .fetch_all(c)
    .await?;
    rows.iter()
        .map(|r| Ok((UserId(get_uuid(r, "id")?), get_str(r, "totp_secret")?)))
        .collect()
}

pub async fn set_totp_secret(
    c: &mut AnyConnection,
    b: Backend,
    user: UserId,
    sealed: &str,
) -> Result<()> {
    sqlx::query(&sql_for(
        b,
        "UPDATE users SET totp_secret = $1 WHERE id = $2",
    ))
    .bind(sealed)
    .bind(user.to_string())
    .execute(c)
    .await?;
    Ok(())
}

pub async fn set_totp_step(
    c: &mut AnyConnection,
    b: Backend,
    user: UserId,
    step: i64,
) -> Result<()> {
    sqlx::query(&sql_for(
        b,
        "UPDATE users SET totp_last_step = $1 WHERE id = $2",
    ))
    .bind(step)
    .bind(user.to_string())
    .execute(c)
    .await?;
    Ok(())
}

pub async fn replace_recovery_codes(
    c: &mut AnyConnection,
    b: Backend,
    user: UserId,
    hashes: &[String],
) -> Result<()> {
    sqlx::query(&sql_for(b, "DELETE FROM recovery_codes WHERE user_id = $1"))
        .bind(user.to_string())
        .execute(&mut *c)
        .await?;
    for h in hashes {
        sqlx::query(&sql_for(
            b,
            "INSERT INTO recovery_codes (user_id, code_hash) VALUES ($1, $2)",
        ))
        .bind(user.to_string())
        .bind(h)
        .execute(&mut *c)
        .await?;
    }
    Ok(())
}

/// Marks a recovery code used; false if unknown or already used.
pub async fn use_recovery_code(
    c: &mut AnyConnection,
    b: Backend,
    user: UserId,
    hash: &str,
    now: Millis,
) -> Result<bool> {
    let r = sqlx::query(&sql_for(b, "UPDATE recovery_codes SET used_at = $1 WHERE user_id = $2 AND code_hash = $3 AND used_at IS NULL"))
        .bind(now)
        .bind(user.to_string())
        .bind(hash)
        .execute(c)
        .await?;
    Ok(r.rows_affected() == 1)
}

pub async fn locked_users(
    c: &mut AnyConnection,
    b: Backend,
    org: OrgId,
    now: Millis,
) -> Result<Vec<(UserId, String, Millis)>> {
    let rows = sqlx::query(&sql_for(b, "SELECT id, username, locked_until FROM users WHERE org_id = $1 AND locked_until > $2 ORDER BY username_key"))
        .bind(org.to_string())
        .bind(now)
        .fetch_all(c)
        .await?;
    rows.iter()
        .map(|r| {
            Ok((
                UserId(get_uuid(r, "id")?),
                get_str(r, "username")?,
                get_i64(r, "locked_until")?,
            ))
        })
        .collect()
}

// ---------------------------------------------------------------- sessions

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Session {
    pub id: String,
    #[serde(skip)]
    pub user_id: UserId,
    #[serde(skip)]
    pub org_id: OrgId,
    pub stage: String,
    pub created_at: Millis,
    pub last_seen_at: Millis,
    pub expires_at: Millis,
    #[serde(skip)]
    pub verified_at: Millis,
    pub source_ip: String,
    pub user_agent: String,
    /// The person's e-mail when read with the session (authentication), else empty: the
    /// audit trail names the actor with it instead of a lookup per change.
    #[serde(skip)]
    pub holder: String,
}

fn session_from_row(r: &sqlx::any::AnyRow) -> Result<Session> {
    Ok(Session {
        id: get_str(r, "id")?,
        user_id: UserId(get_uuid(r, "user_id")?),
        org_id: OrgId(get_uuid(r, "org_id")?),
        stage: get_str(r, "stage")?,
        created_at: get_i64(r, "created_at")?,
        last_seen_at: get_i64(r, "last_seen_at")?,
        expires_at: get_i64(r, "expires_at")?,
        verified_at: get_i64(r, "verified_at")?,
        source_ip: get_str(r, "source_ip")?,
        user_agent: get_str(r, "user_agent")?,
        holder: if r.columns().iter().any(|c| c.name() == "user_email") {
            get_str(r, "user_email")?
        } else {
            String::new()
        },
    })
}

pub async fn insert_session(
    c: &mut AnyConnection,
    b: Backend,
    s: &Session,
    token_hash: &str,
) -> Result<()> {
    sqlx::query(&sql_for(
        b,
        "INSERT INTO sessions (id, token_hash, user_id, org_id, stage, created_at, last_seen_at, expires_at, verified_at, source_ip, user_agent) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
    ))
    .bind(&s.id)
    .bind(token_hash)
    .bind(s.user_id.to_string())
    .bind(s.org_id.to_string())
    .bind(&s.stage)
    .bind(s.created_at)
    .bind(s.last_seen_at)
    .bind(s.expires_at)
    .bind(s.verified_at)
    .bind(&s.source_ip)
    .bind(&s.user_agent)
    .execute(c)
    .await?;
    Ok(())
}

/// A live (not revoked) session by token hash, with its user's status and lock.
pub async fn live_session(
    c: &mut AnyConnection,
    b: Backend,
    token_hash: &str,
) -> Result<Option<(Session, String, Option<Millis>)>> {
    let row = sqlx::query(&sql_for(
        b,
        "SELECT s.*, u.status AS user_status, u.locked_until AS user_locked_until, u.email AS user_email FROM sessions s JOIN users u ON u.id = s.user_id \
         WHERE s.token_hash = $1 AND s.revoked_at IS NULL",
    ))
    .bind(token_hash)
    .fetch_optional(c)
    .await?;
    row.map(|r| {
        Ok((
            session_from_row(&r)?,
            get_str(&r, "user_status")?,
            get_opt_i64(&r, "user_locked_until")?,
        ))
    })
    .transpose()
}

/// Is the session still open (not revoked, not expired) as of this transaction? A request
/// authenticated a moment ago may find it ended by another one since.
pub async fn session_open(
    c: &mut AnyConnection,
    b: Backend,
    id: &str,
    now: Millis,
) -> Result<bool> {
    let row = sqlx::query(&sql_for(
        b,
        "SELECT 1 AS open FROM sessions WHERE id = $1 AND revoked_at IS NULL AND expires_at > $2",
    ))
    .bind(id)
    .bind(now)
    .fetch_optional(c)
    .await?;
    Ok(row.is_some())
}

pub async fn set_session_stage(
    c: &mut AnyConnection,
    b: Backend,
    id: &str,
    stage: &str,
) -> Result<()> {
    sqlx::query(&sql_for(b, "UPDATE sessions SET stage = $1 WHERE id = $2"))
        .bind(stage)
        .bind(id)
        .execute(c)
        .await?;
    Ok(())
}

pub async fn set_session_verified(
    c: &mut AnyConnection,
    b: Backend,
    id: &str,
    now: Millis,
) -> Result<()> {
    sqlx::query(&sql_for(
        b,
        "UPDATE sessions SET verified_at = $1 WHERE id = $2",
    ))
    .bind(now)
    .bind(id)
    .execute(c)
    .await?;
    Ok(())
}

pub async fn revoke_session(
    c: &mut AnyConnection,
    b: Backend,
    id: &str,
    reason: &str,
    now: Millis,
) -> Result<bool> {
    let r = sqlx::query(&sql_for(b, "UPDATE sessions SET revoked_at = $1, revoke_reason = $2 WHERE id = $3 AND revoked_at IS NULL"))
        .bind(now)
        .bind(reason)
        .bind(id)
        .execute(c)
        .await?;
    Ok(r.rows_affected() == 1)
}

/// Ends every live session of a user (but `except`), returning how many ended.
pub async fn revoke_user_sessions(
    c: &mut AnyConnection,
    b: Backend,
    user: UserId,
    reason: &str,
    except: Option<&str>,
    now: Millis,
) -> Result<u64> {
    let r = sqlx::query(&sql_for(b, "UPDATE sessions SET revoked_at = $1, revoke_reason = $2 WHERE user_id = $3 AND revoked_at IS NULL AND id <> $4"))
        .bind(now)
        .bind(reason)
        .bind(user.to_string())
        .bind(except.unwrap_or(""))
        .execute(c)
        .await?;
    Ok(r.rows_affected())
}

pub async fn user_sessions(
    c: &mut AnyConnection,
    b: Backend,
    user: UserId,
    now: Millis,
) -> Result<Vec<Session>> {
    let rows = sqlx::query(&sql_for(b, "SELECT * FROM sessions WHERE user_id = $1 AND revoked_at IS NULL AND expires_at > $2 ORDER BY created_at DESC"))
        .bind(user.to_string())
        .bind(now)
        .fetch_all(c)
        .await?;
    rows.iter().map(session_from_row).collect()
}

// ---------------------------------------------------------------- settings, rights, events

pub async fn settings(c: &mut AnyConnection, b: Backend, org: OrgId) -> Result<(OrgSettings, i64)> {
    let row = sqlx::query(&sql_for(
        b,
        "SELECT settings, version FROM org_settings WHERE org_id = $1",
    ))
    .bind(org.to_string())
    .fetch_optional(c)
    .await?;
    match row {
        None => Ok((OrgSettings::default(), 0)),
        Some(r) => Ok((
            serde_json::from_str(&get_str(&r, "settings")?)?,
            get_i64(&r, "version")?,
        )),
    }
}

pub async fn put_settings(
    c: &mut AnyConnection,
    b: Backend,
    org: OrgId,
    s: &OrgSettings,
    version: i64,
    now: Millis,
) -> Result<()> {
    sqlx::query(&sql_for(b, "DELETE FROM org_settings WHERE org_id = $1"))
        .bind(org.to_string())
        .execute(&mut *c)
        .await?;
    sqlx::query(&sql_for(
        b,
        "INSERT INTO org_settings (org_id, settings, version, updated_at) VALUES ($1, $2, $3, $4)",
    ))
    .bind(org.to_string())
    .bind(serde_json::to_string(s)?)
    .bind(version)
    .bind(now)
    .execute(c)
    .await?;
    Ok(())
}

pub async fn admin_rights(
    c: &mut AnyConnection,
    b: Backend,
    org: OrgId,
    user: UserId,
) -> Result<Vec<(String, String)>> {
    let rows = sqlx::query(&sql_for(b, "SELECT kind, target FROM admin_rights WHERE org_id = $1 AND user_id = $2 ORDER BY kind, target"))
        .bind(org.to_string())
        .bind(user.to_string())
        .fetch_all(c)
        .await?;
    rows.iter()
        .map(|r| Ok((get_str(r, "kind")?, get_str(r, "target")?)))
        .collect()
}

/// Writes a right with where its authority came from: who granted it and their upstream then.
pub async fn grant_admin_right(
    c: &mut AnyConnection,
    b: Backend,
    org: OrgId,
    user: UserId,
    (kind, target): (&str, &str),
    (granted_by, lineage): (Option<UserId>, &[UserId]),
    now: Millis,
) -> Result<()> {
    sqlx::query(&sql_for(
        b,
        "DELETE FROM admin_rights WHERE org_id = $1 AND user_id = $2 AND kind = $3 AND target = $4",
    ))
    .bind(org.to_string())
    .bind(user.to_string())
    .bind(kind)
    .bind(target)
    .execute(&mut *c)
    .await?;
    let lineage = lineage
        .iter()
        .map(UserId::to_string)
        .collect::<Vec<_>>()
        .join(",");
    sqlx::query(&sql_for(b, "INSERT INTO admin_rights (org_id, user_id, kind, target, created_at, granted_by, lineage) VALUES ($1, $2, $3, $4, $5, $6, $7)"))
        .bind(org.to_string())
        .bind(user.to_string())
        .bind(kind)
        .bind(target)
        .bind(now)
        .bind(granted_by.map(|u| u.to_string()))
        .bind(lineage)
        .execute(c)
        .await?;
    Ok(())
}

/// A sign-in event: the old event log's shape, now read from the audit log.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct AuthEvent {
    pub id: String,
    pub user_id: Option<String>,
    /// sign_in_succeeded, sign_in_failed, locked, unlocked, password_changed, password_reset,
    /// totp_enrolled, totp_reset, session_revoked, ...
    pub kind: String,
    pub at: Millis,
    pub source_ip: String,
    pub user_agent: String,
    pub detail: String,
}

// ---------------------------------------------------------------- resets and outbox

pub async fn insert_reset_token(
    c: &mut AnyConnection,
    b: Backend,
    hash: &str,
    user: UserId,
    expires_at: Millis,
) -> Result<()> {
    sqlx::query(&sql_for(
        b,
        "INSERT INTO reset_tokens (token_hash, user_id, expires_at) VALUES ($1, $2, $3)",
    ))
    .bind(hash)
    .bind(user.to_string())
    .bind(expires_at)
    .execute(c)
    .await?;
    Ok(())
}

/// The user of this organisation a usable reset token belongs to, without consuming it. Only
/// an active person's: a deactivated one cannot set a password for the day they come back.
pub async fn reset_token_user(
    c: &mut AnyConnection,
    b: Backend,
    org: OrgId,
    hash: &str,
    now: Millis,
) -> Result<Option<UserId>> {
    let row = sqlx::query(&sql_for(
        b,
        "SELECT t.user_id FROM reset_tokens t JOIN users u ON u.id = t.user_id \
         WHERE t.token_hash = $1 AND t.used_at IS NULL AND t.expires_at > $2 AND u.org_id = $3 \
         AND u.status = 'active'",
    ))
    .bind(hash)
    .bind(now)
    .bind(org.to_string())
    .fetch_optional(c)
    .await?;
    row.map(|r| Ok(UserId(get_uuid(&r, "user_id")?)))
        .transpose()
}

/// Consumes a reset token: the user it belongs to if unused, unexpired and of this
/// organisation (a token sent to another organisation's URL is just an invalid token).
pub async fn take_reset_token(
    c: &mut AnyConnection,
    b: Backend,
    org: OrgId,
    hash: &str,
    now: Millis,
) -> Result<Option<UserId>> {
    let Some(user) = reset_token_user(&mut *c, b, org, hash, now).await? else {
        return Ok(None);
    };
    let r = sqlx::query(&sql_for(
        b,
        "UPDATE reset_tokens SET used_at = $1 WHERE token_hash = $2 AND used_at IS NULL",
    ))
    .bind(now)
    .bind(hash)
    .execute(c)
    .await?;
    if r.rows_affected() != 1 {
        return Ok(None);
    }
    Ok(Some(user))
}

/// A new password makes every outstanding reset token of the user useless (issue 9 item 9).
pub async fn void_reset_tokens(
    c: &mut AnyConnection,
    b: Backend,
    user: UserId,
    now: Millis,
) -> Result<()> {
    sqlx::query(&sql_for(
        b,
        "UPDATE reset_tokens SET used_at = $1 WHERE user_id = $2 AND used_at IS NULL",
    ))
    .bind(now)
    .bind(user.to_string())
    .execute(c)
    .await?;
    Ok(())
}

/// What remains of an outbox body once the message left (or was given up): no token stays in
/// the database (issue 9 item 9).
pub const REDACTED_BODY: &str = "[delivered: the body is not kept]";

pub struct OutboxMessage {
    pub id: String,
    pub recipient: String,
    pub subject: String,
    pub body: String,
    pub attempts: i64,
}

/// A message for the outbox, not yet queued. No `Debug`: an invitation's body carries its
/// token, which is never logged.
#[derive(Clone)]
pub struct Mail {
    pub id: String,
    pub to: String,
    pub subject: String,
    pub body: String,
}

/// The outbox's columns, in the order of [`mail_row`].
pub(crate) const OUTBOX_COLUMNS: &[&str] = &[
    "id",
    "org_id",
    "recipient",
    "subject",
    "body",
    "created_at",
    "attempts",
    "next_attempt_at",
];

/// `m` as a row of the outbox, due at once.
pub(crate) fn mail_row(org: OrgId, m: &Mail, now: Millis) -> Vec<super::rows::Cell> {
    vec![
        m.id.clone().into(),
        org.to_string().into(),
        m.to.clone().into(),
        m.subject.clone().into(),
        m.body.clone().into(),
        now.into(),
        0i64.into(),
        now.into(),
    ]
}

#[allow(clippy::too_many_arguments)]
pub async fn enqueue_mail(
    c: &mut AnyConnection,
    b: Backend,
    org: OrgId,
    id: &str,
    to: &str,
    subject: &str,
    body: &str,
    now: Millis,
) -> Result<()> {
    let m = Mail {
        id: id.to_string(),
        to: to.to_string(),
        subject: subject.to_string(),
        body: body.to_string(),
    };
    let row = mail_row(org, &m, now);
    super::rows::insert_rows(c, b, "outbox", OUTBOX_COLUMNS, vec![row], "").await?;
    Ok(())
}

pub async fn due_mail(
    c: &mut AnyConnection,
    b: Backend,
    now: Millis,
) -> Result<Vec<OutboxMessage>> {
    let rows = sqlx::query(&sql_for(b, "SELECT id, recipient, subject, body, attempts FROM outbox WHERE sent_at IS NULL AND next_attempt_at <= $1 ORDER BY created_at LIMIT 50"))
        .bind(now)
        .fetch_all(c)
        .await?;
    rows.iter()
        .map(|r| {
            Ok(OutboxMessage {
                id: get_str(r, "id")?,
                recipient: get_str(r, "recipient")?,
                subject: get_str(r, "subject")?,
                body: get_str(r, "body")?,
                attempts: get_i64(r, "attempts")?,
            })
        })
        .collect()
}

pub async fn mark_mail(
    c: &mut AnyConnection,
    b: Backend,
    id: &str,
    sent_at: Option<Millis>,
    next_attempt_at: Millis,
    error: Option<&str>,
) -> Result<()> {
    // Delivered or given up: the body (one-time tokens) has no further use here. Scrubbed in
    // the same statement that marks it, so no reader ever sees a sent message with its body.
    let scrub = sent_at.is_some() || next_attempt_at == Millis::MAX;
    let sql = if scrub {
        "UPDATE outbox SET sent_at = $1, attempts = attempts + 1, next_attempt_at = $2, last_error = $3, body = $5 WHERE id = $4"
    } else {
        "UPDATE outbox SET sent_at = $1, attempts = attempts + 1, next_attempt_at = $2, last_error = $3 WHERE id = $4"
    };
    let sql = sql_for(b, sql);
    let mut q = sqlx::query(&sql)
        .bind(sent_at)
        .bind(next_attempt_at)
        .bind(error.map(str::to_string))
        .bind(id);
    if scrub {
        q = q.bind(REDACTED_BODY);
    }
    q.execute(c).await?;
    Ok(())
}
