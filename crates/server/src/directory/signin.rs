//! Sign-in use cases: passwords, lockout, two factors, sessions and their revocation, identity
//! re-verification, resets, and the sign-in event log.
//!
//! Architecture Invariant: every way access is withdrawn (deactivation, deletion, password
//! reset, 2FA reset, lockout) revokes the user's sessions in the same transaction as the change,
//! and sessions are validated against the database on every request, so revocation holds on every
//! node before the request that caused it returns.

use super::activity::Used;
use super::audit::Record;
use super::passwords::verify_off_thread;
use super::{new_id, Directory};
use crate::credentials::secret::{hash_secret, new_secret};
use crate::credentials::{password, totp};
use crate::directory::OrgAdmin;
use crate::error::{Error, Result};
use crate::store::signin::{self as s, AuthEvent, Credentials, Session};
use crate::store::Backend;
use crate::store::WriteTx;
use rolecall_core::admin::Operation;
use rolecall_core::audit::Party;
use rolecall_core::change::{Change, Effect, Reach};
use rolecall_core::model::{Millis, OrgId, Organization, UserId};
use rolecall_core::settings::OrgSettings;
use rolecall_core::Error as DomainError;
use sqlx::AnyConnection;

/// Where a request came from, for the audit log and per-address throttling.
#[derive(Debug, Clone, Default)]
pub struct ClientInfo {
    pub ip: String,
    pub user_agent: String,
    /// The request's `x-request-id` (given by the client or generated), echoed in the reply.
    pub request_id: String,
}

impl ClientInfo {
    /// In-process commands and background jobs.
    pub fn local() -> ClientInfo {
        ClientInfo {
            ip: "local".into(),
            user_agent: String::new(),
            request_id: String::new(),
        }
    }
}

/// A new session; the token is shown to the client once and stored hashed.
pub struct SignedIn {
    pub token: String,
    pub session: Session,
}

/// Session stages: every factor satisfied, second factor pending, 2FA enrolment pending.
pub const STAGE_FULL: &str = "full";
pub const STAGE_TOTP: &str = "totp";
pub const STAGE_ENROL: &str = "enrol";
pub const STAGE_PASSWORD: &str = "password";

/// Why a sign-in ended someone's other sessions (account sharing off).
const ELSEWHERE: &str = "signed in elsewhere";

/// The stage a session is in once the password is settled.
pub(crate) fn factor_stage(cred: &Credentials, settings: &OrgSettings) -> &'static str {
    if cred.totp_enabled {
        STAGE_TOTP
    } else if settings.require_2fa {
        STAGE_ENROL
    } else {
        STAGE_FULL
    }
}

/// A user as the log names them: by e-mail, as it is now (or a bare id when gone).
pub(crate) async fn user_party(c: &mut AnyConnection, b: Backend, u: UserId) -> Result<Party> {
    let row = sqlx::query(&crate::store::sql_for(
        b,
        "SELECT email FROM users WHERE id = $1",
    ))
    .bind(u.to_string())
    .fetch_optional(c)
    .await?;
    let name = match row {
        Some(r) => crate::store::get_str(&r, "email")?,
        None => String::new(),
    };
    Ok(Party::new("user", u, name))
}

/// An administrator acting on someone's sign-in (password, second factor, sessions): the
/// account owner's are the owner's own (issue 9: a System admin took the owner's account over).
pub(crate) fn sign_in_change(org: &Organization, user: UserId) -> Change {
    let change = Change::new(Operation::ManageSignIn).reaching(Reach::Organization);
    if org.owner_id == Some(user) {
        change.reaching(Reach::OwnerCredentials { owner: user })
    } else {
        change
    }
}

pub(crate) fn sign_in_failed() -> Error {
    Error::SignInFailed
}

impl Directory {
    /// Records a sign-in event: a person acting on their own account (`user`), or someone
    /// unknown (`None`, e.g. a sign-in with an unknown login), from `client`.
    pub(crate) async fn event(
        &self,
        w: &mut WriteTx,
        org: OrgId,
        user: Option<UserId>,
        kind: &'static str,
        client: &ClientInfo,
        detail: &str,
    ) -> Result<()> {
        let target = match user {
            Some(u) => user_party(&mut w.tx, self.backend(), u).await?,
            None => Party::new("login", "", ""),
        };
        let record = Record::new(kind, target).detail(detail);
        self.record_self(w, org, user, client, record).await
    }

    /// Records an administrator's action on someone's sign-in (password, 2FA, sessions, lock).
    pub(crate) async fn admin_event(
        &self,
        w: &mut WriteTx,
        admin: &OrgAdmin,
        user: UserId,
        kind: &'static str,
        client: &ClientInfo,
        detail: &str,
    ) -> Result<()> {
        let target = user_party(&mut w.tx, self.backend(), user).await?;
        self.record_with(w, admin, client, Record::new(kind, target).detail(detail))
            .await
    }

    pub async fn settings(&self, org: &Organization) -> Result<(OrgSettings, i64)> {
        let mut c = self.db.pool.acquire().await?;
        s::settings(&mut c, self.backend(), org.id).await
    }

    pub async fn put_settings(
        &self,
        admin: &OrgAdmin,
        settings: OrgSettings,
        if_match: Option<i64>,
    ) -> Result<(OrgSettings, i64)> {
        let org = &admin.org;
        settings.validate().map_err(DomainError::Invalid)?;
        let b = self.backend();
        let mut w = self.db.write().await?;
        let ok = self
            .approve(
                &mut w.tx,
                admin,
                Change::new(Operation::ManageSettings).reaching(Reach::Organization),
            )
            .await?;
        crate::store::directory::lock_org(&mut w.tx, b, org.id).await?;
        let (_, version) = s::settings(&mut w.tx, b, org.id).await?;
        super::check_version(if_match, version)?;
        let (before, _) = s::settings(&mut w.tx, b, org.id).await?;
        s::put_settings(&mut w.tx, b, org.id, &settings, version + 1, self.now()).await?;
        let record = Record::new(
            "settings_changed",
            Party::new("settings", org.id, org.slug.as_str()),
        )
        .between(Some(&before), Some(&settings));
        self.record(&mut w, admin, record).await?;
        self.commit_rights(w, org.id, ok, false).await?;
        Ok((settings, version + 1))
    }

    /// Password step of sign-in. Every failure looks the same to the caller (unknown user, wrong
    /// password, locked, inactive) and costs one password hash, so neither the answer nor its
    /// timing tells whether a username exists.
    pub async fn sign_in(
        &self,
        org: &Organization,
        login: &str,
        pw: &str,
        client: &ClientInfo,
    ) -> Result<SignedIn> {
        let b = self.backend();
        let now = self.now();
        let (settings, _) = self.settings(org).await?;
        // Hash before taking the writer: Argon2 is ~20 ms of CPU, which must neither hold the
        // database's write lock nor stall the async workers. The row is re-read under lock
        // below; a password changed in between counts as a failure.
        let stored = {
            let mut c = self.db.pool.acquire().await?;
            s::credentials_by_login(&mut c, b, org.id, login)
                .await?
                .and_then(|c| c.password_hash)
        };
        let verification = verify_off_thread(pw, stored.clone()).await?;
        // An outdated hash is replaced, computed here too, never under the writer.
        let rehashed = match verification {
            password::Verification::Valid { needs_rehash: true } => {
                Some(super::passwords::hash_off_thread(pw).await?)
            }
            _ => None,
        };
        let mut w = self.db.write().await?;
        let Some(cred) = s::credentials_by_login(&mut w.tx, b, org.id, login).await? else {
            // The name tried is not kept: it is often a mistyped password (issue 9 item 15).
            self.event(
                &mut w,
                org.id,
                None,
                "sign_in_failed",
                client,
                "unknown login",
            )
            .await?;
            w.commit().await?;
            return Err(sign_in_failed());
        };
        let verification = if cred.password_hash == stored {
            verification
        } else {
            password::Verification::Invalid
        };
        let locked = cred.locked_until.is_some_and(|t| t > now);
        if locked || cred.status != "active" {
            let why = if locked {
                "account locked"
            } else {
                "account not active"
            };
            self.event(
                &mut w,
                org.id,
                Some(cred.user_id),
                "sign_in_failed",
                client,
                why,
            )
            .await?;
            w.commit().await?;
            return Err(sign_in_failed());
        }
        if let password::Verification::Invalid = verification {
            self.count_failure(
                &mut w,
                org.id,
                &cred,
                &settings,
                client,
                "sign_in_failed",
                "wrong password",
            )
            .await?;
            w.commit().await?;
            return Err(sign_in_failed());
        }
        if let Some(hash) = &rehashed {
            s::upgrade_hash(&mut w.tx, b, cred.user_id, hash).await?;
        }
        // One statement: clear the failure count and record the sign-in (last sign-in feeds the
        // stale-account report; seed 001: Magento has none).
        s::record_sign_in(&mut w.tx, b, cred.user_id, now).await?;
        // Magento's "password lifetime": an expired password must be changed before anything else.
        let expired = cred
            .password_changed_at
            .is_some_and(|t| settings.password_policy.expired(t, now));
        let stage = if expired {
            STAGE_PASSWORD
        } else {
            factor_stage(&cred, &settings)
        };
        let (signed_in, ended) = self
            .open_session(&mut w.tx, org.id, &cred, stage, &settings, client, now)
            .await?;
        self.event(
            &mut w,
            org.id,
            Some(cred.user_id),
            "sign_in_succeeded",
            client,
            &format!("stage {stage}"),
        )
        .await?;
        self.record_ended_elsewhere(&mut w, org.id, cred.user_id, ended, client)
            .await?;
        w.commit().await?;
        Ok(signed_in)
    }

    /// Account sharing is off and a sign-in completed: the person's other sessions ended. The
    /// log says so, so the person (or an admin) can tell why another device was signed out.
    async fn record_ended_elsewhere(
        &self,
        w: &mut WriteTx,
        org: OrgId,
        user: UserId,
        ended: u64,
        client: &ClientInfo,
    ) -> Result<()> {
        if ended == 0 {
            return Ok(());
        }
        let detail = format!(
            "{ended} other session{} ended: signed in elsewhere, and account sharing is off",
            if ended == 1 { "" } else { "s" }
        );
        self.event(
            w,
            org,
            Some(user),
            "sessions_ended_elsewhere",
            client,
            &detail,
        )
        .await
    }

    #[allow(clippy::too_many_arguments)]
    async fn open_session(
        &self,
        c: &mut AnyConnection,
        org: OrgId,
        cred: &Credentials,
        stage: &str,
        settings: &OrgSettings,
        client: &ClientInfo,
        now: Millis,
    ) -> Result<(SignedIn, u64)> {
        let b = self.backend();
        let mut ended = 0;
        if stage == STAGE_FULL && !settings.account_sharing {
            ended = s::revoke_user_sessions(c, b, cred.user_id, ELSEWHERE, None, now).await?;
        }
        let token = new_secret();
        let session = Session {
            id: new_id().to_string(),
            user_id: cred.user_id,
            org_id: org,
            stage: stage.to_string(),
            created_at: now,
            last_seen_at: now,
            expires_at: now + settings.session_lifetime_secs * 1000,
            verified_at: now,
            source_ip: client.ip.chars().take(64).collect(),
            user_agent: client.user_agent.chars().take(256).collect(),
            holder: String::new(),
        };
        s::insert_session(c, b, &session, &hash_secret(&token)).await?;
        Ok((SignedIn { token, session }, ended))
    }

    pub async fn sign_out(&self, session: &Session, client: &ClientInfo) -> Result<()> {
        let b = self.backend();
        let now = self.now();
        let mut w = self.db.write().await?;
        s::revoke_session(&mut w.tx, b, &session.id, "signed out", now).await?;
        self.event(
            &mut w,
            session.org_id,
            Some(session.user_id),
            "signed_out",
            client,
            "",
        )
        .await?;
        w.commit().await
    }

    /// Second step: a TOTP code or a recovery code turns a `totp` session into a full one.
    pub async fn verify_second_factor(
        &self,
        session: &Session,
        code: Option<&str>,
        recovery: Option<&str>,
        client: &ClientInfo,
    ) -> Result<()> {
        if session.stage != STAGE_TOTP {
            return Err(DomainError::conflict(
                "no_second_factor_pending",
                "this session is not waiting for a second factor",
            )
            .into());
        }
        let b = self.backend();
        let now = self.now();
        let (settings, _) =
            s::settings(&mut *self.db.pool.acquire().await?, b, session.org_id).await?;
        let mut w = self.db.write().await?;
        let cred = s::credentials(&mut w.tx, b, session.org_id, session.user_id)
            .await?
            .ok_or_else(sign_in_failed)?;
        // The lock, the account and the session as they stand now, under the writer: guesses
        // sent together were all authenticated before the one that locked the account, and a
        // right guess among them must neither lift the lock nor revive an ended session.
        let locked = cred.locked_until.is_some_and(|t| t > now);
        if locked
            || cred.status != "active"
            || !s::session_open(&mut w.tx, b, &session.id, now).await?
        {
            let why = if locked {
                "account locked"
            } else {
                "account not active or session ended"
            };
            self.event(
                &mut w,
                session.org_id,
                Some(cred.user_id),
                "second_factor_failed",
                client,
                why,
            )
            .await?;
            w.commit().await?;
            return Err(sign_in_failed());
        }
        let ok = match (code, recovery, self.totp_secret(&cred)?) {
            (Some(code), _, Some(secret)) => {
                match totp::verify(&secret, code, now / 1000, cred.totp_last_step) {
                    Some(step) => {
                        s::set_totp_step(&mut w.tx, b, cred.user_id, step).await?;
                        true
                    }
                    None => false,
                }
            }
            (None, Some(rc), _) => {
                s::use_recovery_code(
                    &mut w.tx,
                    b,
                    cred.user_id,
                    &totp::hash_recovery_code(rc),
                    now,
                )
                .await?
            }
            _ => false,
        };
        if !ok {
            self.count_failure(
                &mut w,
                session.org_id,
                &cred,
                &settings,
                client,
                "second_factor_failed",
                "",
            )
            .await?;
            w.commit().await?;
            return Err(DomainError::invalid(
                "code",
                "totp_invalid",
                "the code is wrong, expired or already used",
            )
            .into());
        }
        s::set_failures(&mut w.tx, b, cred.user_id, 0, None).await?;
        if !settings.account_sharing {
            let ended = s::revoke_user_sessions(
                &mut w.tx,
                b,
                cred.user_id,
                ELSEWHERE,
                Some(&session.id),
                now,
            )
            .await?;
            self.record_ended_elsewhere(&mut w, session.org_id, cred.user_id, ended, client)
                .await?;
        }
        s::set_session_stage(&mut w.tx, b, &session.id, STAGE_FULL).await?;
        self.event(
            &mut w,
            session.org_id,
            Some(cred.user_id),
            "second_factor_verified",
            client,
            if recovery.is_some() {
                "recovery code"
            } else {
                "totp"
            },
        )
        .await?;
        w.commit().await
    }

    /// Starts (or restarts) TOTP enrolment: a new secret and its otpauth:// URI, shown now.
    pub async fn begin_totp_enrolment(&self, session: &Session) -> Result<(String, String)> {
        let b = self.backend();
        let mut w = self.db.write().await?;
        let cred = s::credentials(&mut w.tx, b, session.org_id, session.user_id)
            .await?
            .ok_or_else(sign_in_failed)?;
        if cred.totp_enabled {
            return Err(DomainError::conflict(
                "totp_already_enrolled",
                "two-factor authentication is already set up; an admin can reset it",
            )
            .into());
        }
        let secret = totp::new_secret();
        let sealed = self.seal_totp(cred.user_id, &secret)?;
        s::set_totp(&mut w.tx, b, cred.user_id, Some(&sealed), false, None).await?;
        // The seed itself is never recorded; only that enrolment began.
        let client = super::audit::current_client();
        self.event(
            &mut w,
            session.org_id,
            Some(cred.user_id),
            "totp_enrolment_started",
            &client,
            "",
        )
        .await?;
        w.commit().await?;
        let uri = totp::otpauth_uri(&secret, &cred.username)
            .map_err(|_| Error::Internal("generated TOTP secret is invalid".into()))?;
        Ok((secret, uri))
    }

    /// Confirms enrolment with a first code; returns ten single-use recovery codes, shown once.
    pub async fn confirm_totp(
        &self,
        session: &Session,
        code: &str,
        client: &ClientInfo,
    ) -> Result<Vec<String>> {
        let b = self.backend();
        let now = self.now();
        let mut w = self.db.write().await?;
        let cred = s::credentials(&mut w.tx, b, session.org_id, session.user_id)
            .await?
            .ok_or_else(sign_in_failed)?;
        let (Some(sealed), Some(secret), false) = (
            cred.totp_secret.as_deref(),
            self.totp_secret(&cred)?,
            cred.totp_enabled,
        ) else {
            return Err(
                DomainError::conflict("no_enrolment_pending", "start enrolment first").into(),
            );
        };
        let Some(step) = totp::verify(&secret, code, now / 1000, cred.totp_last_step) else {
            return Err(DomainError::invalid(
                "code",
                "totp_invalid",
                "the code is wrong or expired",
            )
            .into());
        };
        s::set_totp(&mut w.tx, b, cred.user_id, Some(sealed), true, Some(step)).await?;
        let codes = totp::new_recovery_codes();
        let hashes: Vec<String> = codes.iter().map(|c| totp::hash_recovery_code(c)).collect();
        s::replace_recovery_codes(&mut w.tx, b, cred.user_id, &hashes).await?;
        if session.stage == STAGE_ENROL {
            s::set_session_stage(&mut w.tx, b, &session.id, STAGE_FULL).await?;
        }
        self.event(
            &mut w,
            session.org_id,
            Some(cred.user_id),
            "totp_enrolled",
            client,
            "",
        )
        .await?;
        w.commit().await?;
        Ok(codes)
    }

    /// Admin reset of two-factor for one or many users: each must enrol again, and their
    /// sessions end now.
    pub async fn reset_2fa(
        &self,
        admin: &OrgAdmin,
        users: &[UserId],
        client: &ClientInfo,
    ) -> Result<usize> {
        let org = &admin.org;
        let b = self.backend();
        let now = self.now();
        let mut w = self.db.write().await?;
        let mut changes = Vec::with_capacity(users.len());
        for u in users {
            if s::credentials(&mut w.tx, b, org.id, *u).await?.is_none() {
                return Err(DomainError::not_found("user", u).into());
            }
            changes.push(sign_in_change(org, *u));
        }
        let Some(ok) = self.approve_all(&mut w.tx, admin, changes).await? else {
            return Ok(0);
        };
        for u in users {
            s::set_totp(&mut w.tx, b, *u, None, false, None).await?;
            s::replace_recovery_codes(&mut w.tx, b, *u, &[]).await?;
            s::revoke_user_sessions(&mut w.tx, b, *u, "2fa reset", None, now).await?;
            self.admin_event(&mut w, admin, *u, "totp_reset", client, "")
                .await?;
        }
        self.commit_rights(w, org.id, ok, false).await?;
        Ok(users.len())
    }

    /// A user's live sessions; 404 for someone not of this organisation (issue 9 item 5).
    pub async fn sessions_of(&self, org: &Organization, user: UserId) -> Result<Vec<Session>> {
        let b = self.backend();
        let mut c = self.db.pool.acquire().await?;
        if crate::store::directory::get_user(&mut c, b, org.id, user)
            .await?
            .is_none()
        {
            return Err(DomainError::not_found("user", user).into());
        }
        let sessions = s::user_sessions(&mut c, b, user, self.now()).await?;
        Ok(sessions
            .into_iter()
            .filter(|x| x.org_id == org.id)
            .map(|mut x| {
                let seen = self.activity.last(&Used::Session(x.id.clone()));
                x.last_seen_at = x.last_seen_at.max(seen.unwrap_or(0));
                x
            })
            .collect())
    }

    /// Ends one of the signed-in person's own sessions (self-service: no admin right needed).
    pub async fn end_own_session(
        &self,
        me: &Session,
        session_id: &str,
        client: &ClientInfo,
    ) -> Result<()> {
        let b = self.backend();
        let now = self.now();
        let mut w = self.db.write().await?;
        let owned = s::user_sessions(&mut w.tx, b, me.user_id, now)
            .await?
            .iter()
            .any(|x| x.id == session_id && x.org_id == me.org_id);
        if !owned || !s::revoke_session(&mut w.tx, b, session_id, "ended", now).await? {
            return Err(DomainError::not_found("session", session_id).into());
        }
        self.event(
            &mut w,
            me.org_id,
            Some(me.user_id),
            "session_revoked",
            client,
            "1 session(s), by its owner",
        )
        .await?;
        w.commit().await
    }

    /// Ends one session of `user`, or all of them when `session_id` is `None`.
    pub async fn end_sessions(
        &self,
        admin: &OrgAdmin,
        user: UserId,
        session_id: Option<&str>,
        client: &ClientInfo,
    ) -> Result<u64> {
        let org = &admin.org;
        let b = self.backend();
        let now = self.now();
        let mut w = self.db.write().await?;
        // The user must belong to the organisation in the path (issue 9: org A's token ended
        // org B's sessions).
        if s::credentials(&mut w.tx, b, org.id, user).await?.is_none() {
            return Err(DomainError::not_found("user", user).into());
        }
        let ok = self
            .approve(&mut w.tx, admin, sign_in_change(org, user))
            .await?;
        let n = match session_id {
            Some(id) => {
                let owned = s::user_sessions(&mut w.tx, b, user, now)
                    .await?
                    .iter()
                    .any(|x| x.id == id && x.org_id == org.id);
                if !owned || !s::revoke_session(&mut w.tx, b, id, "ended", now).await? {
                    return Err(DomainError::not_found("session", id).into());
                }
                1
            }
            None => {
                s::revoke_user_sessions(&mut w.tx, b, user, "ended by administrator", None, now)
                    .await?
            }
        };
        self.admin_event(
            &mut w,
            admin,
            user,
            "session_revoked",
            client,
            &format!("{n} session(s)"),
        )
        .await?;
        self.commit_rights(w, org.id, ok, false).await?;
        Ok(n)
    }

    pub async fn locked_users(&self, org: &Organization) -> Result<Vec<(UserId, String, Millis)>> {
        let mut c = self.db.pool.acquire().await?;
        s::locked_users(&mut c, self.backend(), org.id, self.now()).await
    }

    pub async fn unlock(&self, admin: &OrgAdmin, user: UserId, client: &ClientInfo) -> Result<()> {
        let org = &admin.org;
        let b = self.backend();
        let mut w = self.db.write().await?;
        s::credentials(&mut w.tx, b, org.id, user)
            .await?
            .ok_or_else(|| DomainError::not_found("user", user))?;
        // The owner's lock is part of the owner's sign-in (issue 9 item 10).
        let ok = self
            .approve(&mut w.tx, admin, sign_in_change(org, user))
            .await?;
        s::set_failures(&mut w.tx, b, user, 0, None).await?;
        self.admin_event(
            &mut w,
            admin,
            user,
            "unlocked",
            client,
            "by an administrator",
        )
        .await?;
        self.commit_rights(w, org.id, ok, false).await
    }

    /// The sign-in part of the audit log (sign-ins, sessions, factors, passwords, rights,
    /// credentials, invitations), newest first, in the old event shape.
    pub async fn auth_events(
        &self,
        org: &Organization,
        user: Option<UserId>,
        limit: i64,
    ) -> Result<Vec<AuthEvent>> {
        let filter = crate::store::audit::Filter {
            target: user.map(|u| u.to_string()),
            actions: rolecall_core::audit::AUTH_ACTIONS
                .iter()
                .map(|a| a.to_string())
                .collect(),
            ..Default::default()
        };
        let page = self.audit_log(org, &filter, None, limit).await?;
        Ok(page
            .items
            .into_iter()
            .map(|e| AuthEvent {
                user_id: (e.target.kind == "user").then(|| e.target.id.clone()),
                id: e.id,
                kind: e.action,
                at: e.at,
                source_ip: e.source_ip,
                user_agent: e.user_agent,
                detail: e.detail,
            })
            .collect())
    }

    /// Organisation administration rights held by a user, as (kind, target).
    pub async fn admin_rights(
        &self,
        org: OrgId,
        user: UserId,
    ) -> Result<Vec<rolecall_core::admin::AdminRight>> {
        let mut c = self.db.pool.acquire().await?;
        let rows = s::admin_rights(&mut c, self.backend(), org, user).await?;
        Ok(rows
            .iter()
            .filter_map(|(k, t)| rolecall_core::admin::AdminRight::from_row(k, t))
            .collect())
    }

    /// Makes `user` a System admin without notification (`init`, `--demo`, tests).
    pub async fn grant_system_admin(&self, admin: &OrgAdmin, user: UserId) -> Result<()> {
        let org = &admin.org;
        let mut w = self.db.write().await?;
        let ok = self
            .approve(
                &mut w.tx,
                admin,
                Change::new(Operation::ManageAdmins)
                    .reaching(Reach::Right {
                        right: rolecall_core::admin::AdminRight::System,
                        org_kind: org.kind,
                        profile_app: None,
                        carried: Default::default(),
                    })
                    .affecting(Effect::User(user)),
            )
            .await?;
        s::grant_admin_right(
            &mut w.tx,
            self.backend(),
            org.id,
            user,
            ("system", ""),
            (admin.principal.user(), &[]),
            self.now(),
        )
        .await?;
        let target = user_party(&mut w.tx, self.backend(), user).await?;
        let record =
            Record::new("admin_right_granted", target).changes(rolecall_core::audit::field(
                "admin_right",
                serde_json::Value::Null,
                serde_json::json!({"kind": "system", "target": ""}),
            ));
        self.record(&mut w, admin, record).await?;
        self.commit_rights(w, org.id, ok, false).await
    }
}

impl Directory {
    /// Creates an organization's first administrator: every application's `Administrators`
    /// role, the System admin right, and a generated password returned once.
    pub async fn bootstrap_admin(
        &self,
        org: &Organization,
        email: &str,
        password: Option<&str>,
    ) -> Result<(rolecall_core::model::User, String)> {
        let operator = OrgAdmin::operator(org.clone());
        let admin = self
            .create_user(
                &operator,
                super::NewUser {
                    email: email.to_string(),
                    // `init` and `--demo` hand the password over themselves.
                    notify: Some(false),
                    ..Default::default()
                },
            )
            .await?;
        for role in self.list_roles(org, None, None).await? {
            if role.builtin {
                self.assign_role(&operator, admin.id, role.id).await?;
            }
        }
        self.grant_system_admin(&operator, admin.id).await?;
        {
            let mut w = self.db.write().await?;
            crate::store::directory::set_owner(&mut w.tx, self.backend(), org.id, admin.id).await?;
            let record = Record::new(
                "owner_set",
                Party::new("organization", org.id, org.slug.as_str()),
            )
            .changes(rolecall_core::audit::field(
                "owner",
                serde_json::Value::Null,
                serde_json::json!({"id": admin.id.to_string(), "email": admin.email.as_str()}),
            ));
            self.record(&mut w, &operator, record).await?;
            w.commit().await?;
        }
        let password = match password {
            Some(p) => p.to_string(),
            None => crate::credentials::secret::generate_password(),
        };
        self.set_password(
            &operator,
            admin.id,
            &password,
            &ClientInfo {
                ip: "local".into(),
                user_agent: "rolecall init".into(),
                request_id: String::new(),
            },
        )
        .await?;
        Ok((admin, password))
    }
}
