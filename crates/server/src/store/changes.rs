//! What tells a node's memory that the database moved (issue 13).
//!
//! Nodes keep resolved bearer secrets, organisations and the "rights checked fresh" mark of
//! compiled snapshots in memory, each tagged with the [`Generation`] it was read at; a moved
//! generation makes all of them stale at once. The generation moves:
//!
//! - after every write transaction this node commits ([`super::WriteTx::commit`]), before the
//!   use case returns: a revocation made here bites at the very next request here;
//! - on PostgreSQL, when a notification on [`CHANNEL`] from another node arrives ([`follow`]),
//!   sent by that node's commit in the same transaction as its change;
//! - when the shared counter (table `change_counter`, moved by every write transaction) is seen
//!   to have moved by the periodic poll ([`Db::notice_changes`]): the safety net should a
//!   notification be lost (the listening connection dropped, the listener stalled).
//!
//! Coarse on purpose: any committed write, not only a revocation, invalidates everything.
//! Writes are rare next to checks, and a finer rule would be one more thing to get wrong.

use super::{Backend, Db};
use crate::error::Result;
use sqlx::{AnyConnection, Row};
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::time::Duration;

/// The PostgreSQL notification channel every write transaction notifies.
pub const CHANNEL: &str = "rolecall_changes";

/// A node's count of "the database may have moved", shared by every clone of a [`Db`].
#[derive(Debug)]
pub struct Generation {
    n: AtomicU64,
    /// The shared counter as last polled (-1: never).
    polled: AtomicI64,
    /// Names this node in its notifications, so it can skip its own.
    pub(super) node: String,
}

impl Default for Generation {
    fn default() -> Self {
        Generation {
            n: AtomicU64::new(1),
            polled: AtomicI64::new(-1),
            node: uuid::Uuid::new_v4().simple().to_string(),
        }
    }
}

impl Generation {
    pub fn current(&self) -> u64 {
        self.n.load(Ordering::Acquire)
    }

    pub fn bump(&self) {
        self.n.fetch_add(1, Ordering::AcqRel);
    }
}

/// Moves the shared counter and, on PostgreSQL, notifies the other nodes; runs inside the
/// write transaction so both happen exactly when (and only if) the change commits.
pub(super) async fn record(
    c: &mut AnyConnection,
    backend: Backend,
    node: &str,
    orgs: &[String],
) -> Result<()> {
    sqlx::query("UPDATE change_counter SET n = n + 1 WHERE id = 1")
        .execute(&mut *c)
        .await?;
    if backend == Backend::Postgres {
        // The payload names the writer (receivers skip their own) and the organisations whose
        // audit chains the transaction wrote to (for logs; receivers invalidate everything).
        let payload = format!("{node} {}", orgs.join(","));
        sqlx::query("SELECT pg_notify($1, $2)")
            .bind(CHANNEL)
            .bind(payload)
            .execute(&mut *c)
            .await?;
    }
    Ok(())
}

impl Db {
    /// The node's generation: anything read from the database under an older one may be stale.
    pub fn generation(&self) -> u64 {
        self.changes.current()
    }

    /// Reads the shared counter; if another process moved it since the last poll, moves the
    /// generation. Returns whether it did.
    pub async fn notice_changes(&self) -> Result<bool> {
        let n: i64 = sqlx::query("SELECT n FROM change_counter WHERE id = 1")
            .fetch_one(&self.pool)
            .await?
            .try_get(0)?;
        let before = self.changes.polled.swap(n, Ordering::AcqRel);
        if before != n {
            self.changes.bump();
            return Ok(true);
        }
        Ok(false)
    }
}

/// Follows other nodes' changes on PostgreSQL until the task is aborted: every notification
/// from another node moves the generation; so does every (re)connection of the listener,
/// since notifications sent while it was not listening are lost. Does nothing on SQLite,
/// where this process is the only writer (see `serve`'s lock file).
pub async fn follow(db: Db) {
    let Some(url) = db.postgres_url.clone() else {
        return;
    };
    loop {
        match sqlx::postgres::PgListener::connect(&url).await {
            Ok(mut listener) => {
                if let Err(e) = listener.listen(CHANNEL).await {
                    tracing::warn!(error = %e, "cannot listen for other nodes' changes");
                } else {
                    db.changes.bump();
                    loop {
                        match listener.try_recv().await {
                            Ok(Some(note)) => {
                                let from = note.payload().split(' ').next().unwrap_or_default();
                                if from != db.changes.node {
                                    db.changes.bump();
                                }
                            }
                            // The connection dropped and was re-established: something may
                            // have been missed meanwhile.
                            Ok(None) => db.changes.bump(),
                            Err(e) => {
                                tracing::warn!(error = %e, "change notifications lost; reconnecting");
                                db.changes.bump();
                                break;
                            }
                        }
                    }
                }
            }
            Err(e) => tracing::warn!(error = %e, "cannot connect to follow other nodes' changes"),
        }
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
}
