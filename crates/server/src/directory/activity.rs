//! When tokens, API credentials and sessions were last used — kept in memory and written in
//! batches, so authenticating a request never writes to the database (issue 9 item 6: every
//! token-authenticated request ran an `UPDATE`, which on SQLite took the writer and made
//! read-only checks fail with `database is locked`).
//!
//! The idle timeout of sessions consults this memory as well as the stored `last_seen_at`.
//! Another node's memory is not visible here until it flushes, so on PostgreSQL a session is
//! declared idle only after the timeout *plus* [`FLUSH_SLACK_MS`]: a session in use anywhere
//! is never ended early for want of a flush; an idle one ends at most that much later.
//! The server flushes every [`FLUSH_INTERVAL`] and once more on shutdown.

use super::signin::ClientInfo;
use super::{Directory, OrgAdmin, Principal};
use crate::error::Result;
use crate::store::{get_str, get_uuid, sql_for};
use rolecall_core::model::Millis;
use rolecall_core::model::UserId;
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

/// How often the server writes what it saw.
pub const FLUSH_INTERVAL: Duration = Duration::from_secs(5);

/// What a node may not yet know about another node's use of a session: two flush intervals
/// (a use just after a flush waits a whole interval, plus scheduling).
pub const FLUSH_SLACK_MS: Millis = 2 * FLUSH_INTERVAL.as_millis() as Millis;

/// Entries not used for this long are forgotten (their last use is in the database).
const FORGET_AFTER_MS: Millis = 24 * 3_600_000;

/// Something whose last use is recorded.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Used {
    Token(String),
    Credential(String),
    Session(String),
}

/// Uses to write, and sessions found ended: what one flush takes.
type Pending = (Vec<(Used, Millis)>, Vec<(String, Ended)>);

/// A session this node refused: idle since `seen`, or past its lifetime.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Ended {
    seen: Millis,
    idle: bool,
}

#[derive(Debug, Clone, Copy)]
struct Seen {
    at: Millis,
    flushed: bool,
}

/// Last uses seen by this node.
#[derive(Debug, Default)]
pub struct Activity {
    seen: Mutex<HashMap<Used, Seen>>,
    /// Sessions this node found idle or expired, to be revoked (and the end recorded) by the
    /// next flush; one entry per session however often it is presented.
    ended: Mutex<HashMap<String, Ended>>,
}

impl Activity {
    /// Records a use; never blocks on the database.
    pub fn record(&self, what: Used, at: Millis) {
        if let Ok(mut seen) = self.seen.lock() {
            let e = seen.entry(what).or_insert(Seen { at, flushed: true });
            if at >= e.at {
                *e = Seen { at, flushed: false };
            }
        }
    }

    /// The latest use this node saw, flushed or not.
    pub fn last(&self, what: &Used) -> Option<Millis> {
        self.seen.lock().ok()?.get(what).map(|s| s.at)
    }

    /// A session found idle (last seen at `seen`) or expired here: revoked in the database at
    /// the next flush — an idle one only if no node has recorded a use after `seen` by then.
    pub fn found_ended(&self, session: &str, seen: Millis, idle: bool) {
        if let Ok(mut ended) = self.ended.lock() {
            ended.insert(session.to_string(), Ended { seen, idle });
        }
    }

    fn take(&self) -> Pending {
        let uses = match self.seen.lock() {
            Ok(mut seen) => seen
                .iter_mut()
                .filter(|(_, s)| !s.flushed)
                .map(|(k, s)| {
                    s.flushed = true;
                    (k.clone(), s.at)
                })
                .collect(),
            Err(_) => Vec::new(),
        };
        let ended = self
            .ended
            .lock()
            .map(|mut e| std::mem::take(&mut *e).into_iter().collect())
            .unwrap_or_default();
        (uses, ended)
    }

    /// Puts back what a failed flush took, so it is written next time.
    fn restore(&self, uses: &[(Used, Millis)], ended: Vec<(String, Ended)>) {
        if let Ok(mut seen) = self.seen.lock() {
            for (k, at) in uses {
                if let Some(s) = seen.get_mut(k) {
                    if s.at == *at {
                        s.flushed = false;
                    }
                }
            }
        }
        if let Ok(mut e) = self.ended.lock() {
            e.extend(ended);
        }
    }

    fn forget_before(&self, cutoff: Millis) {
        if let Ok(mut seen) = self.seen.lock() {
            seen.retain(|_, s| !s.flushed || s.at >= cutoff);
        }
    }
}

impl Directory {
    /// Writes the last uses seen since the previous flush, in one write transaction; returns
    /// how many were written. Called by the server's background task and on shutdown.
    pub async fn flush_activity(&self) -> Result<usize> {
        let (uses, ended) = self.activity.take();
        if uses.is_empty() && ended.is_empty() {
            return Ok(0);
        }
        let n = uses.len() + ended.len();
        match self.write_activity(&uses, &ended).await {
            Ok(()) => {
                self.activity.forget_before(self.now() - FORGET_AFTER_MS);
                Ok(n)
            }
            Err(e) => {
                self.activity.restore(&uses, ended);
                Err(e)
            }
        }
    }

    async fn write_activity(
        &self,
        uses: &[(Used, Millis)],
        ended: &[(String, Ended)],
    ) -> Result<()> {
        let b = self.db.backend;
        let mut w = self.db.write().await?;
        for (what, at) in uses {
            // Never move a last use backwards (another node may have written a later one).
            let (sql, id) = match what {
                Used::Token(id) => ("UPDATE api_tokens SET last_used_at = $1 WHERE id = $2 AND (last_used_at IS NULL OR last_used_at < $1)", id),
                Used::Credential(id) => ("UPDATE api_credentials SET last_used_at = $1 WHERE id = $2 AND (last_used_at IS NULL OR last_used_at < $1)", id),
                Used::Session(id) => ("UPDATE sessions SET last_seen_at = $1 WHERE id = $2 AND last_seen_at < $1", id),
            };
            sqlx::query(&sql_for(b, sql))
                .bind(*at)
                .bind(id)
                .execute(&mut *w.tx)
                .await?;
        }
        let now = self.now();
        let client = ClientInfo::local();
        for (id, end) in ended {
            let (why, cutoff) = if end.idle {
                ("idle timeout", end.seen)
            } else {
                ("expired", Millis::MAX)
            };
            let revoked = sqlx::query(&sql_for(b, "UPDATE sessions SET revoked_at = $1, revoke_reason = $2 WHERE id = $3 AND revoked_at IS NULL AND last_seen_at <= $4"))
                .bind(now)
                .bind(why)
                .bind(id)
                .bind(cutoff)
                .execute(&mut *w.tx)
                .await?
                .rows_affected()
                == 1;
            if !revoked {
                continue;
            }
            let row = sqlx::query(&sql_for(
                b,
                "SELECT org_id, user_id FROM sessions WHERE id = $1",
            ))
            .bind(id)
            .fetch_one(&mut *w.tx)
            .await?;
            let (org, user) = (get_str(&row, "org_id")?, get_uuid(&row, "user_id")?);
            let Some(org) = crate::store::directory::find_org(&mut w.tx, b, &org).await? else {
                continue;
            };
            let server = OrgAdmin {
                org,
                principal: Principal::Server {
                    job: "session expiry".into(),
                },
            };
            self.admin_event(&mut w, &server, UserId(user), "session_ended", &client, why)
                .await?;
        }
        w.commit().await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uses_are_kept_until_flushed_and_never_go_back() {
        let a = Activity::default();
        a.record(Used::Session("s".into()), 10);
        a.record(Used::Session("s".into()), 5);
        assert_eq!(a.last(&Used::Session("s".into())), Some(10));
        let (uses, _) = a.take();
        assert_eq!(uses, vec![(Used::Session("s".into()), 10)]);
        assert!(a.take().0.is_empty(), "flushed once");
        a.restore(&uses, vec![]);
        assert_eq!(a.take().0.len(), 1, "a failed flush is retried");
        a.forget_before(11);
        assert_eq!(a.last(&Used::Session("s".into())), None);
    }
}
