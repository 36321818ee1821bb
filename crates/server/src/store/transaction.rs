//! The connection a write transaction runs on, and what it owes the pool (issue 14).
//!
//! sqlx's pool pings a connection when it is handed out and again when it is given back: on
//! SQLite each ping is one more trip to the connection's own thread and back, two thread
//! wake-ups a write, for a file that cannot hang up. SQLite's one writer connection therefore
//! never goes back to its pool between writes: it waits in the writer lock's slot, and whoever
//! holds the lock holds the connection. On PostgreSQL a transaction borrows a pooled connection
//! as before.

use crate::error::Result;
use sqlx::pool::PoolConnection;
use sqlx::{Any, AnyConnection, AnyPool, TransactionManager};
use std::ops::{Deref, DerefMut};
use tokio::sync::OwnedMutexGuard;

/// SQLite's writer lock: the one writer connection, there whenever no write is running (empty
/// only before the first write).
pub type WriterSlot = tokio::sync::Mutex<Writer>;

/// What the writer lock guards.
#[derive(Default)]
pub struct Writer {
    conn: Option<PoolConnection<Any>>,
}

impl Drop for Writer {
    fn drop(&mut self) {
        // A pool takes a connection back on a task of the runtime; with none left (the process
        // ending) sqlx would panic, so the connection is closed directly instead.
        if let Some(conn) = self.conn.take() {
            if tokio::runtime::Handle::try_current().is_err() {
                drop(conn.detach());
            }
        }
    }
}

type Manager = <Any as sqlx::Database>::TransactionManager;

/// An open transaction: derefs to the connection, rolls back when dropped unfinished (like
/// `sqlx::Transaction`), and on SQLite returns the connection to the writer's slot and releases
/// the writer lock when dropped.
pub struct Tx {
    conn: Option<PoolConnection<Any>>,
    open: bool,
    /// SQLite: the writer lock, released when the transaction is dropped.
    slot: Option<OwnedMutexGuard<Writer>>,
}

impl Tx {
    /// Begins on SQLite's writer connection, taken from the slot the caller holds locked.
    pub async fn begin_in_slot(
        mut slot: OwnedMutexGuard<Writer>,
        writer: &AnyPool,
        begin: &'static str,
    ) -> Result<Tx> {
        let conn = match slot.conn.take() {
            Some(c) => c,
            None => writer.acquire().await?,
        };
        Tx::begin(conn, Some(slot), Some(begin)).await
    }

    /// Begins on a connection borrowed from a pool (PostgreSQL).
    pub async fn begin_pooled(pool: &AnyPool) -> Result<Tx> {
        let conn = pool.acquire().await?;
        Tx::begin(conn, None, None).await
    }

    async fn begin(
        conn: PoolConnection<Any>,
        slot: Option<OwnedMutexGuard<Writer>>,
        begin: Option<&'static str>,
    ) -> Result<Tx> {
        // Built first, so a failed BEGIN still returns the connection to its slot.
        let mut tx = Tx {
            conn: Some(conn),
            open: false,
            slot,
        };
        Manager::begin(&mut tx, begin.map(Into::into)).await?;
        tx.open = true;
        Ok(tx)
    }

    /// Commits; the connection (and on SQLite the writer lock) is kept until the `Tx` is dropped,
    /// so the caller decides what still happens under the lock.
    pub async fn commit(&mut self) -> Result<()> {
        Manager::commit(self).await?;
        self.open = false;
        Ok(())
    }

    /// Ends the transaction writing nothing; the connection is kept as after [`Tx::commit`].
    pub async fn rollback(&mut self) -> Result<()> {
        Manager::rollback(self).await?;
        self.open = false;
        Ok(())
    }
}

impl Deref for Tx {
    type Target = AnyConnection;
    fn deref(&self) -> &AnyConnection {
        // Present from construction until `drop`.
        self.conn.as_deref().expect("a transaction's connection")
    }
}

impl DerefMut for Tx {
    fn deref_mut(&mut self) -> &mut AnyConnection {
        self.conn
            .as_deref_mut()
            .expect("a transaction's connection")
    }
}

impl Drop for Tx {
    fn drop(&mut self) {
        let Some(mut conn) = self.conn.take() else {
            return;
        };
        if self.open {
            // Queued: the connection runs the ROLLBACK before its next statement, whoever
            // sends it (the next writer's BEGIN, or the pool's check on return).
            Manager::start_rollback(&mut conn);
        }
        if let Some(slot) = &mut self.slot {
            slot.conn = Some(conn);
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::store::{Db, DbOptions};
    use sqlx::{Executor, Row};

    async fn count(db: &Db) -> i64 {
        sqlx::query("SELECT count(*) AS n FROM scratch")
            .fetch_one(&db.pool)
            .await
            .unwrap()
            .get::<i64, _>("n")
    }

    #[tokio::test]
    async fn a_write_dropped_unfinished_is_undone_and_the_next_one_runs() {
        let dir = tempfile::tempdir().unwrap();
        let db = Db::connect_with(None, dir.path(), DbOptions::default())
            .await
            .unwrap();
        db.migrate(0).await.unwrap();
        let mut w = db.write().await.unwrap();
        w.tx.execute("CREATE TABLE scratch (x INTEGER)")
            .await
            .unwrap();
        w.commit().await.unwrap();
        // A request cancelled mid-change: its transaction is dropped, never committed.
        let mut w = db.write().await.unwrap();
        w.tx.execute("INSERT INTO scratch VALUES (1)")
            .await
            .unwrap();
        drop(w);
        assert_eq!(count(&db).await, 0);
        // The writer's connection came back, out of its transaction.
        let mut w = db.write().await.unwrap();
        w.tx.execute("INSERT INTO scratch VALUES (2)")
            .await
            .unwrap();
        w.commit().await.unwrap();
        assert_eq!(count(&db).await, 1);
        let w = db.write().await.unwrap();
        w.rollback().await.unwrap();
        assert_eq!(count(&db).await, 1);
    }

    #[test]
    fn the_writer_connection_is_closed_after_its_runtime_ended() {
        let dir = tempfile::tempdir().unwrap();
        let rt = tokio::runtime::Runtime::new().unwrap();
        let db = rt.block_on(async {
            let db = Db::connect_with(None, dir.path(), DbOptions::default())
                .await
                .unwrap();
            db.migrate(0).await.unwrap();
            db
        });
        drop(rt);
        // Before, the connection went back to its pool on a task: a panic without a runtime.
        drop(db);
    }
}
