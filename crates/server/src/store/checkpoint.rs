//! SQLite's write-ahead log copied into the database by a task of its own (issues 12, 14),
//! not inside whichever commit happens to cross SQLite's threshold.
//!
//! Why: by default the commit that takes the log past 1,000 pages copies the whole log into
//! the database file and syncs it, while that commit still holds the one writer lock (SQLite's
//! lock and [`super::Db::write`]'s). Measured (`BENCH_FLOOR=1`, BENCHMARKS.md): a one-person
//! commit averaged 470–580 µs with those checkpoints and 295–340 µs without; an import of
//! 20,000 people spent 17 µs a row in its commit, 5 without. Copying is the same work wherever
//! it runs, but here it runs beside the writer instead of in front of the next one, and a page
//! written by many commits between two checkpoints is copied once.
//!
//! How: every commit through [`super::WriteTx`] wakes the task; it waits [`GATHER`] so the
//! commits of that moment share one checkpoint, then runs a PASSIVE checkpoint on a connection
//! of its own, and at least every [`AT_LEAST_EVERY`] for writes that wake nobody. PASSIVE
//! never waits for the writer or for readers: it copies what no reader
//! still needs, and SQLite starts the log over at the next write once everything is copied.
//! The connections keep SQLite's own automatic checkpoint as a backstop at [`BACKSTOP_PAGES`],
//! so the log stays bounded even if this task fell behind; an import's one large commit stays
//! below it and hands its copying to the task.
//!
//! Durability is unchanged: a checkpoint syncs the log before copying and the database after
//! (`synchronous = NORMAL`), whichever connection runs it, so `wal_sync`'s reasoning holds.

use sqlx::AnyPool;
use std::time::Duration;
use tokio::sync::mpsc;

/// How long the task lets commits gather before one checkpoint covers them.
pub const GATHER: Duration = Duration::from_millis(100);

/// The longest the task goes without a checkpoint. A few writes do not pass through
/// [`super::WriteTx`] (the mail worker's claims, the audit index's bookkeeping) and wake
/// nobody; this copies their pages too, where SQLite's 1,000-page threshold used to.
pub const AT_LEAST_EVERY: Duration = Duration::from_secs(10);

/// Log pages at which a committing connection checkpoints itself after all (SQLite's
/// `wal_autocheckpoint`): 1 GiB of 4 KiB pages. An import's one commit leaves a large log
/// (about 18,000 pages for 20,000 people), and a lower backstop would copy it inside that
/// commit again; the task normally copies every 100 ms, so the backstop only bounds the log
/// if the task stopped.
pub const BACKSTOP_PAGES: u32 = 262_144;

/// Wakes the checkpoint task; held by the database handle and each write transaction. When the
/// last one is dropped the task ends and closes its connection.
#[derive(Clone, Debug)]
pub struct Wake(mpsc::Sender<()>);

impl Wake {
    /// Called after each commit. Never waits: a wake already pending covers this commit too.
    pub fn committed(&self) {
        let _ = self.0.try_send(());
    }
}

/// Starts the task on `pool` (one connection of its own), letting commits gather for `gather`.
pub fn start(pool: AnyPool, gather: Duration) -> Wake {
    let (tx, rx) = mpsc::channel(1);
    tokio::spawn(run(pool, rx, gather));
    Wake(tx)
}

async fn run(pool: AnyPool, mut wakes: mpsc::Receiver<()>, gather: Duration) {
    loop {
        match tokio::time::timeout(AT_LEAST_EVERY, wakes.recv()).await {
            // Every handle dropped: the database is closed.
            Ok(None) => break,
            Ok(Some(())) => {
                tokio::time::sleep(gather).await;
                while wakes.try_recv().is_ok() {}
            }
            // Nothing woke the task for a while; a checkpoint with nothing to copy is cheap.
            Err(_) => {}
        }
        match sqlx::query_as::<_, (i64, i64, i64)>("PRAGMA wal_checkpoint(PASSIVE)")
            .fetch_one(&pool)
            .await
        {
            Ok((busy, log, copied)) => {
                tracing::trace!(busy, log, copied, "checkpoint");
            }
            // SQLite's own checkpoint (the backstop) still bounds the log; say so and go on.
            Err(e) => tracing::warn!(error = %e, "SQLite checkpoint failed"),
        }
    }
    pool.close().await;
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::{Db, DbOptions, Synchronous};
    use sqlx::Executor;

    /// Frames in the log and frames already copied into the database, from the header of
    /// SQLite's shared-memory index (`-shm`: `mxFrame` at byte 16, `nBackfill` at byte 96,
    /// native byte order), read without touching the database.
    fn log_state(db: &std::path::Path) -> (u32, u32) {
        let shm = std::fs::read(db.with_extension("db-shm")).expect("the -shm file");
        let word = |at: usize| u32::from_ne_bytes(shm[at..at + 4].try_into().expect("4 bytes"));
        (word(16), word(96))
    }

    /// Waits until the task copied every frame of the log (at most 30 s).
    async fn until_copied(file: &std::path::Path) {
        let deadline = std::time::Instant::now() + Duration::from_secs(30);
        loop {
            let (frames, copied) = log_state(file);
            if copied == frames {
                return;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "the log was not copied: {copied} of {frames} frames"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// A database on a file with its migrations applied and their log already copied, so the
    /// task's next wake is the test's own; no sync after a commit (`Normal`), so nothing but the
    /// gathering pause stands between a commit and a look at the log.
    async fn settled(gather: Duration) -> (tempfile::TempDir, Db, std::path::PathBuf) {
        let dir = tempfile::tempdir().unwrap();
        let options = DbOptions {
            checkpoint_gather: gather,
            sqlite_synchronous: Synchronous::Normal,
            ..Default::default()
        };
        let db = Db::connect_with(None, dir.path(), options).await.unwrap();
        db.migrate(0).await.unwrap();
        let file = dir.path().join("rolecall.db");
        until_copied(&file).await;
        (dir, db, file)
    }

    /// 1,500 rows of 4 KiB: a page each, and more for the table's interior.
    async fn add_ballast(c: &mut sqlx::AnyConnection) {
        c.execute("CREATE TABLE ballast (x BLOB)").await.unwrap();
        c.execute(
            "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 1500) \
             INSERT INTO ballast SELECT randomblob(4000) FROM n",
        )
        .await
        .unwrap();
    }

    /// A commit larger than SQLite's default threshold (1,000 pages) returns without copying
    /// the log: the task copies it afterwards, on its own connection.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn the_task_copies_the_log_that_commits_leave() {
        let (_dir, db, file) = settled(Duration::from_secs(2)).await;
        let mut w = db.write().await.unwrap();
        add_ballast(&mut w.tx).await;
        w.commit().await.unwrap();
        let (frames, copied) = log_state(&file);
        assert!(frames > 1_500, "the commit is in the log: {frames} frames");
        assert!(
            copied < frames,
            "the commit copied the log itself ({copied} of {frames} frames)"
        );
        // The task wakes after its gathering pause and copies everything.
        until_copied(&file).await;
        assert!(
            log_state(&file).0 > 1_500,
            "the log was copied, not discarded"
        );
        // The copy is in the database file itself: a connection that ignores the log
        // (immutable mode reads the file alone) sees the rows.
        let url = format!("sqlite://{}?immutable=1", file.display());
        let mut c = <sqlx::AnyConnection as sqlx::Connection>::connect(&url)
            .await
            .unwrap();
        let n: i64 = sqlx::query_scalar("SELECT count(*) FROM ballast")
            .fetch_one(&mut c)
            .await
            .unwrap();
        assert_eq!(n, 1_500);
    }

    /// A write that does not pass through `WriteTx` wakes nobody; the task still copies it
    /// within [`AT_LEAST_EVERY`], as SQLite's own threshold would have.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn writes_that_wake_nobody_are_copied_too() {
        let (_dir, db, file) = settled(GATHER).await;
        let mut c = db.pool.acquire().await.unwrap();
        add_ballast(&mut c).await;
        drop(c);
        let (frames, copied) = log_state(&file);
        assert!(copied < frames, "the write copied the log itself");
        until_copied(&file).await;
    }
}
