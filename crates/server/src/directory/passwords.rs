//! Passwords: re-verification, changes by their owner and by administrators, self-service
//! resets, and the lockout every wrong password counts towards.
//!
//! Architecture Invariant (issue 9 item 6): Argon2 (and the zxcvbn policy check) runs on the
//! blocking pool and never while the write transaction is open. A use case reads what it needs,
//! hashes or verifies, then opens its transaction, re-reads the stored hash under the lock and
//! goes on only if it is unchanged — otherwise the password changed meanwhile and the work is
//! void (a failed verification, or `concurrent_update`).
//!
//! Every wrong password — at sign-in, at re-verification (`/me/reverify` or
//! `X-Rolecall-Password`), as the current password of a change — counts towards the same
//! lockout (issue 9 item 7).

use super::signin::{sign_in_change, ClientInfo, STAGE_FULL, STAGE_PASSWORD};
use super::OrgAdmin;
use super::{lost_race, new_id, Directory};
use crate::credentials::password;
use crate::credentials::secret::{hash_secret, new_secret};
use crate::error::{Error, Result};
use crate::store::signin::{self as s, Credentials, Session};
use crate::store::WriteTx;
use rolecall_core::model::{OrgId, Organization, UserId};
use rolecall_core::settings::OrgSettings;
use rolecall_core::Error as DomainError;
use sqlx::AnyConnection;

/// Verifies on the blocking pool (a dummy hash when there is none, so timing does not tell).
pub(crate) async fn verify_off_thread(
    pw: &str,
    stored: Option<String>,
) -> Result<password::Verification> {
    let pw = pw.to_string();
    tokio::task::spawn_blocking(move || match stored {
        Some(h) => password::verify(&pw, &h, &password::HashParams::default()),
        None => {
            password::verify_dummy(&pw, &password::HashParams::default());
            password::Verification::Invalid
        }
    })
    .await
    .map_err(|e| Error::Internal(format!("password verification task failed: {e}")))
}

/// Hashes on the blocking pool.
pub(crate) async fn hash_off_thread(pw: &str) -> Result<String> {
    let pw = pw.to_string();
    tokio::task::spawn_blocking(move || {
        password::hash(&pw, &password::HashParams::default())
            .map_err(|e| Error::Internal(format!("password hashing failed: {e:?}")))
    })
    .await
    .map_err(|e| Error::Internal(format!("password hashing task failed: {e}")))?
}

/// A new password checked against the policy and the history and hashed, before any write
/// transaction; valid only while the stored hash is still `based_on`.
pub(crate) struct PreparedPassword {
    hash: String,
    based_on: Option<String>,
}

/// Is a verification a yes?
fn valid(v: &password::Verification) -> bool {
    matches!(v, password::Verification::Valid { .. })
}

fn wrong_current_password() -> Error {
    DomainError::invalid(
        "current_password",
        "password_wrong",
        "the current password is wrong",
    )
    .into()
}

impl Directory {
    /// Reads a user's sign-in record outside any write transaction.
    async fn read_credentials(&self, org: OrgId, user: UserId) -> Result<Option<Credentials>> {
        let mut c = self.db.pool.acquire().await?;
        s::credentials(&mut c, self.backend(), org, user).await
    }

    /// Checks `pw` against the organisation's policy and the user's recent passwords, and
    /// hashes it — all on the blocking pool, with nothing locked.
    pub(crate) async fn prepare_password(
        &self,
        org: OrgId,
        user: UserId,
        pw: &str,
        settings: &OrgSettings,
    ) -> Result<PreparedPassword> {
        let b = self.backend();
        let (cred, history) = {
            let mut c = self.db.pool.acquire().await?;
            let cred = s::credentials(&mut c, b, org, user)
                .await?
                .ok_or_else(|| DomainError::not_found("user", user))?;
            let history =
                s::password_history(&mut c, b, user, i64::from(settings.password_policy.history))
                    .await?;
            (cred, history)
        };
        let settings = settings.clone();
        let pw = pw.to_string();
        let based_on = cred.password_hash.clone();
        let hash = tokio::task::spawn_blocking(move || -> Result<String> {
            // The new password always differs from the current one (else expiry means
            // nothing), and from the last `history` ones when the organisation asks for it.
            let mut history = history;
            history.extend(cred.password_hash.clone());
            check_new_password(&settings, &cred, &pw, &history)?;
            password::hash(&pw, &password::HashParams::default())
                .map_err(|e| Error::Internal(format!("password hashing failed: {e:?}")))
        })
        .await
        .map_err(|e| Error::Internal(format!("password task failed: {e}")))??;
        Ok(PreparedPassword { hash, based_on })
    }

    /// Writes a prepared password in the caller's transaction, if the stored one is still the
    /// one it was prepared against. Every other outstanding reset token of the user stops
    /// working (issue 9 item 9).
    pub(crate) async fn store_prepared(
        &self,
        c: &mut AnyConnection,
        org: OrgId,
        user: UserId,
        prepared: &PreparedPassword,
    ) -> Result<()> {
        let b = self.backend();
        let cred = s::credentials(c, b, org, user)
            .await?
            .ok_or_else(|| DomainError::not_found("user", user))?;
        if cred.password_hash != prepared.based_on {
            return Err(lost_race("password"));
        }
        s::set_password(c, b, user, &prepared.hash, self.now()).await?;
        s::void_reset_tokens(c, b, user, self.now()).await
    }

    /// One more wrong secret for `cred`: the event `kind`, and towards the lockout, which ends
    /// every session of the account. True when this failure locked it.
    #[allow(clippy::too_many_arguments)]
    pub(crate) async fn count_failure(
        &self,
        w: &mut WriteTx,
        org: OrgId,
        cred: &Credentials,
        settings: &OrgSettings,
        client: &ClientInfo,
        kind: &'static str,
        detail: &str,
    ) -> Result<bool> {
        let b = self.backend();
        let now = self.now();
        self.event(w, org, Some(cred.user_id), kind, client, detail)
            .await?;
        let failed = cred.failed_attempts + 1;
        if failed < settings.lockout_threshold {
            s::set_failures(&mut w.tx, b, cred.user_id, failed, None).await?;
            return Ok(false);
        }
        let until = now + settings.lockout_minutes * 60_000;
        s::set_failures(&mut w.tx, b, cred.user_id, 0, Some(until)).await?;
        s::revoke_user_sessions(&mut w.tx, b, cred.user_id, "locked", None, now).await?;
        self.event(
            w,
            org,
            Some(cred.user_id),
            "locked",
            client,
            &format!("{failed} consecutive failures ({kind})"),
        )
        .await?;
        Ok(true)
    }

    /// Checks the signed-in person's password for a sensitive step: verified off the writer,
    /// then the outcome recorded. A wrong one counts towards the lockout.
    async fn check_own_password(
        &self,
        session: &Session,
        pw: &str,
        client: &ClientInfo,
        kind: &'static str,
    ) -> Result<Option<(Credentials, crate::store::WriteTx)>> {
        let (stored, right) = self.verify_own_password(session, pw).await?;
        self.settle_own_password(session, &stored, right, client, kind)
            .await
    }

    /// Verifies the person's password against the stored hash, with nothing locked; returns
    /// the hash it was checked against.
    async fn verify_own_password(
        &self,
        session: &Session,
        pw: &str,
    ) -> Result<(Option<String>, bool)> {
        let stored = self
            .read_credentials(session.org_id, session.user_id)
            .await?
            .and_then(|c| c.password_hash);
        let verification = verify_off_thread(pw, stored.clone()).await?;
        Ok((stored, valid(&verification)))
    }

    /// Under the writer: a right password (still the stored one) clears the failure count and
    /// hands the open transaction on; a wrong one is counted and committed.
    async fn settle_own_password(
        &self,
        session: &Session,
        stored: &Option<String>,
        right: bool,
        client: &ClientInfo,
        kind: &'static str,
    ) -> Result<Option<(Credentials, crate::store::WriteTx)>> {
        let b = self.backend();
        let now = self.now();
        let (settings, _) =
            s::settings(&mut *self.db.pool.acquire().await?, b, session.org_id).await?;
        let mut w = self.db.write().await?;
        let Some(cred) = s::credentials(&mut w.tx, b, session.org_id, session.user_id).await?
        else {
            return Err(Error::Unauthenticated);
        };
        // Changed meanwhile: what was verified is no longer the password.
        let ok = right && cred.password_hash == *stored;
        let locked = cred.locked_until.is_some_and(|t| t > now);
        if ok && !locked && cred.status == "active" {
            if cred.failed_attempts != 0 {
                s::set_failures(&mut w.tx, b, cred.user_id, 0, None).await?;
            }
            return Ok(Some((cred, w)));
        }
        if !locked && cred.status == "active" {
            self.count_failure(&mut w, session.org_id, &cred, &settings, client, kind, "")
                .await?;
        }
        w.commit().await?;
        Ok(None)
    }

    /// Password re-entry for sensitive changes (Magento's "Current User Identity
    /// Verification"); failures count towards the lockout like sign-in failures.
    pub async fn reverify(&self, session: &Session, pw: &str, client: &ClientInfo) -> Result<()> {
        let b = self.backend();
        let now = self.now();
        let Some((cred, mut w)) = self
            .check_own_password(session, pw, client, "reverification_failed")
            .await?
        else {
            return Err(
                DomainError::forbidden("reverification_failed", "the password is wrong").into(),
            );
        };
        s::set_session_verified(&mut w.tx, b, &session.id, now).await?;
        self.event(
            &mut w,
            session.org_id,
            Some(cred.user_id),
            "reverified",
            client,
            "",
        )
        .await?;
        w.commit().await
    }

    /// Has the session's user proven their password recently enough for a sensitive change?
    pub async fn recently_verified(&self, session: &Session) -> Result<bool> {
        let (settings, _) = s::settings(
            &mut *self.db.pool.acquire().await?,
            self.backend(),
            session.org_id,
        )
        .await?;
        // A window of 0 means every sensitive change carries the password: nothing earlier,
        // not even the sign-in a moment ago, counts.
        if settings.reverify_window_secs == 0 {
            return Ok(false);
        }
        Ok(self.now() - session.verified_at <= settings.reverify_window_secs * 1000)
    }

    /// The signed-in user changes their own password; their other sessions end. A wrong
    /// current password counts towards the lockout.
    pub async fn change_password(
        &self,
        session: &Session,
        current: &str,
        new: &str,
        client: &ClientInfo,
    ) -> Result<()> {
        if session.stage != STAGE_FULL && session.stage != STAGE_PASSWORD {
            return Err(DomainError::forbidden(
                "second_factor_required",
                "finish signing in first",
            )
            .into());
        }
        let b = self.backend();
        let now = self.now();
        let (settings, _) =
            s::settings(&mut *self.db.pool.acquire().await?, b, session.org_id).await?;
        // The current password first (a wrong one is counted and nothing else said), then the
        // new one judged and hashed — all before the writer is taken to record the outcome.
        let (stored, right) = self.verify_own_password(session, current).await?;
        if !right {
            self.settle_own_password(session, &stored, false, client, "password_change_failed")
                .await?;
            return Err(wrong_current_password());
        }
        let prepared = self
            .prepare_password(session.org_id, session.user_id, new, &settings)
            .await?;
        let Some((cred, mut w)) = self
            .settle_own_password(session, &stored, true, client, "password_change_failed")
            .await?
        else {
            return Err(wrong_current_password());
        };
        self.store_prepared(&mut w.tx, session.org_id, session.user_id, &prepared)
            .await?;
        if session.stage == STAGE_PASSWORD {
            s::set_session_stage(
                &mut w.tx,
                b,
                &session.id,
                super::signin::factor_stage(&cred, &settings),
            )
            .await?;
        }
        s::revoke_user_sessions(
            &mut w.tx,
            b,
            session.user_id,
            "password changed",
            Some(&session.id),
            now,
        )
        .await?;
        self.event(
            &mut w,
            session.org_id,
            Some(session.user_id),
            "password_changed",
            client,
            "",
        )
        .await?;
        w.commit().await
    }

    /// An admin sets a user's password; every session of that user ends.
    pub async fn set_password(
        &self,
        admin: &OrgAdmin,
        user: UserId,
        new: &str,
        client: &ClientInfo,
    ) -> Result<()> {
        let org = &admin.org;
        let b = self.backend();
        let now = self.now();
        let (settings, _) = self.settings(org).await?;
        // Judged before the password is: a refused admin learns nothing about the policy.
        {
            let mut c = self.db.pool.acquire().await?;
            if s::credentials(&mut c, b, org.id, user).await?.is_none() {
                return Err(DomainError::not_found("user", user).into());
            }
            self.approve(&mut c, admin, sign_in_change(org, user))
                .await?;
        }
        // The administrator's request names the field `password`.
        let prepared = self
            .prepare_password(org.id, user, new, &settings)
            .await
            .map_err(super::invitations::name_password_field)?;
        let mut w = self.db.write().await?;
        if s::credentials(&mut w.tx, b, org.id, user).await?.is_none() {
            return Err(DomainError::not_found("user", user).into());
        }
        let ok = self
            .approve(&mut w.tx, admin, sign_in_change(org, user))
            .await?;
        self.store_prepared(&mut w.tx, org.id, user, &prepared)
            .await?;
        s::revoke_user_sessions(&mut w.tx, b, user, "password reset", None, now).await?;
        self.admin_event(
            &mut w,
            admin,
            user,
            "password_reset",
            client,
            "by an administrator",
        )
        .await?;
        self.commit_rights(w, org.id, ok, false).await
    }

    /// Self-service reset: mails a single-use link valid for one hour. Answers the same whether
    /// or not the address exists.
    pub async fn request_password_reset(
        &self,
        org: &Organization,
        email: &str,
        client: &ClientInfo,
    ) -> Result<()> {
        let b = self.backend();
        let now = self.now();
        let mut w = self.db.write().await?;
        if let Some(cred) = s::credentials_by_login(&mut w.tx, b, org.id, email).await? {
            if cred.status == "active" {
                let token = new_secret();
                s::insert_reset_token(
                    &mut w.tx,
                    b,
                    &hash_secret(&token),
                    cred.user_id,
                    now + 3_600_000,
                )
                .await?;
                // console: a link to the reset page, which asks for the token below.
                let link = self
                    .console_link(&format!("/console/reset/confirm?org={}", org.slug.as_str()))
                    .map(|l| format!("Choose a new password at\n{l}\nwith this reset token"))
                    .unwrap_or_else(|| "Reset token".into());
                let body = format!(
                    "Someone asked to reset the rolecall password of {} in organization {}.\n\n{link} (valid one hour, single use):\n{token}\n\nIf that was not you, ignore this message.\n",
                    cred.username, org.slug
                );
                s::enqueue_mail(
                    &mut w.tx,
                    b,
                    org.id,
                    &new_id().to_string(),
                    &cred.email,
                    "Reset your rolecall password",
                    &body,
                    now,
                )
                .await?;
                self.event(
                    &mut w,
                    org.id,
                    Some(cred.user_id),
                    "password_reset_requested",
                    client,
                    "",
                )
                .await?;
            }
        }
        w.commit().await
    }

    /// Sets a new password with a reset token of this organisation. Every token that cannot be
    /// used — unknown, used, expired, or another organisation's — gets the same answer.
    pub async fn confirm_password_reset(
        &self,
        org: &Organization,
        token: &str,
        new: &str,
        client: &ClientInfo,
    ) -> Result<()> {
        let b = self.backend();
        let now = self.now();
        let hash = hash_secret(token);
        let invalid = || -> Error {
            DomainError::invalid(
                "token",
                "reset_token_invalid",
                "the reset token is unknown, used or expired",
            )
            .into()
        };
        let (settings, _) = self.settings(org).await?;
        let user = {
            let mut c = self.db.pool.acquire().await?;
            s::reset_token_user(&mut c, b, org.id, &hash, now).await?
        }
        .ok_or_else(invalid)?;
        let prepared = self.prepare_password(org.id, user, new, &settings).await?;
        let mut w = self.db.write().await?;
        if s::take_reset_token(&mut w.tx, b, org.id, &hash, now).await? != Some(user) {
            return Err(invalid());
        }
        self.store_prepared(&mut w.tx, org.id, user, &prepared)
            .await?;
        s::revoke_user_sessions(&mut w.tx, b, user, "password reset", None, now).await?;
        self.event(
            &mut w,
            org.id,
            Some(user),
            "password_reset",
            client,
            "self-service",
        )
        .await?;
        w.commit().await
    }
}

/// The organisation's policy and the history, with errors under `new_password`.
fn check_new_password(
    settings: &OrgSettings,
    cred: &Credentials,
    pw: &str,
    history: &[String],
) -> Result<()> {
    settings
        .password_policy
        .check(pw, &cred.username, &cred.email)
        .map_err(|errors| {
            DomainError::Invalid(
                errors
                    .into_iter()
                    .map(|mut e| {
                        e.field = "new_password".into();
                        e
                    })
                    .collect(),
            )
        })?;
    if history
        .iter()
        .any(|h| valid(&password::verify(pw, h, &password::HashParams::default())))
    {
        return Err(DomainError::invalid(
            "new_password",
            "password_reused",
            "must differ from your recent passwords",
        )
        .into());
    }
    Ok(())
}
