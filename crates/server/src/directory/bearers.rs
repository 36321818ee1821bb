//! Bearer secrets, organisations and freshness checks remembered between requests (issue 13),
//! so a check from a known caller reads nothing from the database.
//!
//! Everything here is tagged with the database generation (`store::changes`) read *before*
//! the database was asked, and is used only while the generation has not moved since. The
//! generation moves after every write this node commits (inside `WriteTx::commit`, before the
//! use case answers), so every revocation made here — credential revoked, person deactivated
//! or deleted, session ended, password or second factor reset, lockout, role or admin-right
//! change — is seen by the very next request, with no list of revocations to keep in step.
//! Other nodes' writes move it through PostgreSQL notifications and the counter poll.
//! What depends on the clock (expiry, idle timeout, the end of a lockout) is not remembered:
//! it is judged again on every request. Unknown secrets are not remembered either.
//!
//! With `Freshness::Strict` nothing here is used.

use super::activity::Used;
use super::signin::STAGE_FULL;
use super::{CompiledOrg, Directory};
use crate::credentials::secret::hash_secret;
use crate::error::Result;
use crate::store::credentials::Credential;
use crate::store::signin::Session;
use crate::store::tokens::{self, TokenGrant};
use crate::store::{directory as q, signin as s, Backend, Freshness};
use rolecall_core::admin::AdminRight;
use rolecall_core::model::{Millis, OrgId, Organization};
use rustc_hash::FxHashMap;
use std::sync::{Arc, RwLock};

/// More distinct live secrets than this within one generation: start over rather than grow.
const MAX_REMEMBERED: usize = 200_000;

/// What a bearer secret stands for, as read from the database.
#[derive(Debug, Clone)]
pub enum Bearer {
    /// An operator token (server-wide when `org_id` is `None`).
    Token(TokenGrant),
    /// An API credential and the administration rights of its service account.
    Credential {
        credential: Credential,
        rights: Vec<AdminRight>,
    },
    /// A person's session, what decides whether it is still usable, and their admin rights.
    Session {
        session: Session,
        user_status: String,
        locked_until: Option<Millis>,
        idle_timeout_secs: i64,
        rights: Vec<AdminRight>,
    },
}

/// Entries valid for one generation; a newer generation empties the map on the next insert.
#[derive(Debug)]
struct Generational<V> {
    inner: RwLock<(u64, FxHashMap<String, V>)>,
}

impl<V: Clone> Generational<V> {
    fn new() -> Self {
        Generational {
            inner: RwLock::new((0, FxHashMap::default())),
        }
    }

    fn get(&self, key: &str, generation: u64) -> Option<V> {
        let map = self.inner.read().ok()?;
        if map.0 != generation {
            return None;
        }
        map.1.get(key).cloned()
    }

    /// Remembers `value`, read from the database under `generation`, unless that is already
    /// outdated.
    fn put(&self, key: String, value: V, generation: u64) {
        let Ok(mut map) = self.inner.write() else {
            return;
        };
        if generation > map.0 || map.1.len() >= MAX_REMEMBERED {
            map.1.clear();
            map.0 = generation.max(map.0);
        }
        if generation == map.0 {
            map.1.insert(key, value);
        }
    }
}

/// The memory of one directory.
#[derive(Debug)]
pub(crate) struct Remembered {
    bearers: Generational<Arc<Bearer>>,
    orgs: Generational<Organization>,
}

impl Default for Remembered {
    fn default() -> Self {
        Remembered {
            bearers: Generational::new(),
            orgs: Generational::new(),
        }
    }
}

/// Why a session cannot be used for an ordinary request yet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pending {
    Password,
    Enrolment,
    SecondFactor,
}

impl Directory {
    fn memory_answers(&self) -> bool {
        self.db.freshness == Freshness::Memory
    }

    /// What `bearer` stands for, if it is live now: an operator token, a usable API credential
    /// or a session that is neither ended, idle, expired, nor of a locked or inactive person.
    /// Records the use in memory (flushed in batches: authenticating never writes).
    pub async fn authenticate_bearer(&self, bearer: &str) -> Result<Option<Arc<Bearer>>> {
        let hash = hash_secret(bearer);
        let generation = self.db.generation();
        let found = match self
            .memory_answers()
            .then(|| self.remembered.bearers.get(&hash, generation))
            .flatten()
        {
            Some(known) => Some(known),
            None => {
                let read = self.read_bearer(&hash).await?.map(Arc::new);
                if let (Some(b), true) = (&read, self.memory_answers()) {
                    self.remembered.bearers.put(hash, b.clone(), generation);
                }
                read
            }
        };
        let Some(bearer) = found else {
            return Ok(None);
        };
        let now = self.now();
        let live = match &*bearer {
            Bearer::Token(grant) => {
                self.activity
                    .record(Used::Token(grant.token_id.clone()), now);
                true
            }
            Bearer::Credential { credential, .. } => {
                let live = credential.expires_at.is_none_or(|t| t > now);
                if live {
                    self.activity
                        .record(Used::Credential(credential.id.clone()), now);
                }
                live
            }
            Bearer::Session {
                session,
                user_status,
                locked_until,
                idle_timeout_secs,
                ..
            } => self.session_usable(session, user_status, *locked_until, *idle_timeout_secs, now),
        };
        Ok(live.then_some(bearer))
    }

    /// The live session a secret opens, if it is one (the console's sign-out asks this); the
    /// same memory and the same liveness judgement as every authenticated request.
    pub async fn session(&self, token: &str) -> Result<Option<Session>> {
        Ok(match self.authenticate_bearer(token).await?.as_deref() {
            Some(Bearer::Session { session, .. }) => Some(session.clone()),
            _ => None,
        })
    }

    /// Reads what a secret's hash stands for: operator tokens first, then API credentials,
    /// then sessions (and with them the person's admin rights).
    async fn read_bearer(&self, hash: &str) -> Result<Option<Bearer>> {
        let b = self.backend();
        let mut c = self.db.pool.acquire().await?;
        if let Some(grant) = tokens::find_by_hash(&mut c, b, hash).await? {
            return Ok(Some(Bearer::Token(grant)));
        }
        let now = self.now();
        if let Some(credential) = crate::store::credentials::by_token(&mut c, b, hash, now).await? {
            let rights = self
                .rights_of(&mut c, credential.org_id, credential.service_user_id)
                .await?;
            return Ok(Some(Bearer::Credential { credential, rights }));
        }
        let Some((session, user_status, locked_until)) = s::live_session(&mut c, b, hash).await?
        else {
            return Ok(None);
        };
        let (settings, _) = s::settings(&mut c, b, session.org_id).await?;
        let rights = self
            .rights_of(&mut c, session.org_id, session.user_id)
            .await?;
        Ok(Some(Bearer::Session {
            session,
            user_status,
            locked_until,
            idle_timeout_secs: settings.idle_timeout_secs,
            rights,
        }))
    }

    async fn rights_of(
        &self,
        c: &mut sqlx::AnyConnection,
        org: OrgId,
        user: rolecall_core::model::UserId,
    ) -> Result<Vec<AdminRight>> {
        Ok(s::admin_rights(c, self.backend(), org, user)
            .await?
            .iter()
            .filter_map(|(k, t)| AdminRight::from_row(k, t))
            .collect())
    }

    /// Judges a session against the clock and this node's record of its last use; records
    /// the use when it passes, and notes an idle or expired one for the next flush to end.
    pub(crate) fn session_usable(
        &self,
        session: &Session,
        user_status: &str,
        locked_until: Option<Millis>,
        idle_timeout_secs: i64,
        now: Millis,
    ) -> bool {
        let used = Used::Session(session.id.clone());
        let seen = self
            .activity
            .last(&used)
            .unwrap_or(0)
            .max(session.last_seen_at);
        // Other nodes' uses reach the database only when they flush: on a shared database a
        // session is idle once nobody can have used it within the timeout.
        let slack = if self.backend() == Backend::Postgres {
            super::activity::FLUSH_SLACK_MS
        } else {
            0
        };
        let idle = now - seen > idle_timeout_secs * 1000 + slack;
        let expired = session.expires_at <= now;
        if idle || expired {
            self.activity.found_ended(&session.id, seen, idle);
        }
        if user_status != "active" || locked_until.is_some_and(|t| t > now) || expired || idle {
            return false;
        }
        self.activity.record(used, now);
        true
    }

    /// The organization named by `key` (slug or id), remembered like bearers.
    pub async fn org(&self, key: &str) -> Result<Organization> {
        if let Some(org) = self.remembered_org(key) {
            return Ok(org);
        }
        let mut c = self.db.pool.acquire().await?;
        self.read_org(&mut c, key).await
    }

    fn remembered_org(&self, key: &str) -> Option<Organization> {
        self.memory_answers()
            .then(|| self.remembered.orgs.get(key, self.db.generation()))
            .flatten()
    }

    /// [`Directory::org`] on a connection the caller already holds: one hand-out of a pooled
    /// connection fewer (issue 14).
    pub(crate) async fn org_on(
        &self,
        c: &mut sqlx::AnyConnection,
        key: &str,
    ) -> Result<Organization> {
        match self.remembered_org(key) {
            Some(org) => Ok(org),
            None => self.read_org(c, key).await,
        }
    }

    async fn read_org(&self, c: &mut sqlx::AnyConnection, key: &str) -> Result<Organization> {
        let generation = self.db.generation();
        let org = q::find_org(c, self.backend(), key)
            .await?
            .ok_or_else(|| rolecall_core::Error::not_found("organization", key))?;
        if self.memory_answers() {
            self.remembered
                .orgs
                .put(key.to_string(), org.clone(), generation);
        }
        Ok(org)
    }

    /// The compiled rights to decide a check with: in memory mode, the snapshot as long as no
    /// write was noticed since its epoch was last compared with the database's; in strict
    /// mode (or after a noticed write), [`Directory::fresh_snapshot`] — one epoch read.
    pub async fn decision_snapshot(&self, org: OrgId) -> Result<Arc<CompiledOrg>> {
        if !self.memory_answers() {
            return self.fresh_snapshot(org).await;
        }
        let generation = self.db.generation();
        if let Some(s) = self.snapshots.load().get(&org) {
            if s.checked_at.load(std::sync::atomic::Ordering::Acquire) == generation {
                return Ok(s.clone());
            }
        }
        let s = self.fresh_snapshot(org).await?;
        s.checked_at
            .fetch_max(generation, std::sync::atomic::Ordering::AcqRel);
        Ok(s)
    }
}

impl Bearer {
    /// Whether a session still owes a step before it may be used for ordinary requests.
    pub fn pending(&self) -> Option<Pending> {
        match self {
            Bearer::Session { session, .. } if session.stage != STAGE_FULL => {
                Some(match session.stage.as_str() {
                    super::signin::STAGE_PASSWORD => Pending::Password,
                    super::signin::STAGE_ENROL => Pending::Enrolment,
                    _ => Pending::SecondFactor,
                })
            }
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_live_for_one_generation() {
        let m: Generational<u32> = Generational::new();
        m.put("a".into(), 1, 5);
        assert_eq!(m.get("a", 5), Some(1));
        assert_eq!(m.get("a", 6), None, "a moved generation hides it");
        m.put("b".into(), 2, 4);
        assert_eq!(
            m.get("b", 4),
            None,
            "read under an older generation: dropped"
        );
        m.put("c".into(), 3, 6);
        assert_eq!(m.get("a", 6), None, "a newer generation empties the map");
        assert_eq!(m.get("c", 6), Some(3));
    }
}
