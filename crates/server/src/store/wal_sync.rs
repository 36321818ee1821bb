//! Group sync for SQLite (issue 14): an acknowledged change survives power loss, and commits
//! that finish together share one `fsync` instead of paying one each under the writer lock.
//!
//! Why: with `PRAGMA synchronous = FULL` SQLite syncs the write-ahead log inside every COMMIT,
//! while the one writer lock is held, so a node can never commit faster than the disk syncs
//! (1.3–1.8 ms here: ~600 changes a second however many requests wait). Instead the connection
//! runs with `synchronous = NORMAL` (no sync in the commit; SQLite still syncs the log before
//! each checkpoint and the database after it, and the log header when it is reused), and
//! [`super::WriteTx::commit`], after committing and releasing the writer lock, waits here until
//! a sync of the log that *started after its commit* has finished. Whoever holds the sync role
//! syncs for every commit finished so far; the others find themselves covered and return.
//!
//! Why this is as durable as `FULL` for what was acknowledged: the log is append-only between
//! checkpoints and SQLite recovers its longest valid prefix, so syncing the file after a
//! commit makes that commit (and every earlier one) survive. If a checkpoint moved the commit
//! into the database file first, the checkpoint synced both files already; if it then deleted
//! or restarted the log, syncing whatever log exists now is harmless. The file is opened anew
//! for each sync (never cached: the log may be deleted and recreated) and only synced and
//! closed: SQLite keeps its locks on the database and `-shm` files, not on the log, so closing
//! this descriptor releases none of them.
//!
//! The one difference from `FULL`: a change is visible to other requests on this node from
//! its commit, up to one sync (~1.5 ms) before it is durable and acknowledged. A power loss in
//! that window loses the change that nobody was told had succeeded — the same as a power loss
//! just before the commit — and the log's prefix property keeps the audit chain whole.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

/// Syncs one file; a test swaps in one it controls.
pub(crate) type SyncFile = Arc<dyn Fn(&Path) -> std::io::Result<()> + Send + Sync>;

/// The write-ahead log of one SQLite database and how far it is known to be on disk.
pub struct WalSync {
    wal: PathBuf,
    /// Commits finished so far (a commit's ticket is this count right after it).
    committed: AtomicU64,
    /// Every commit with a ticket up to this is on disk.
    synced: AtomicU64,
    /// Held by the one request syncing; the others wait for it and then check their ticket.
    syncing: tokio::sync::Mutex<()>,
    /// Syncs performed (for the tests and benchmarks that show the sharing).
    syncs: AtomicU64,
    sync_file: SyncFile,
}

impl WalSync {
    /// For the database file `db` (its log is `db` + `-wal`).
    pub fn new(db: &Path) -> WalSync {
        WalSync::with(db, Arc::new(sync_data))
    }

    pub(crate) fn with(db: &Path, sync_file: SyncFile) -> WalSync {
        let mut wal = db.as_os_str().to_owned();
        wal.push("-wal");
        WalSync {
            wal: PathBuf::from(wal),
            committed: AtomicU64::new(0),
            synced: AtomicU64::new(0),
            syncing: tokio::sync::Mutex::new(()),
            syncs: AtomicU64::new(0),
            sync_file,
        }
    }

    /// Call right after a commit returned: the ticket to wait for.
    pub fn ticket(&self) -> u64 {
        self.committed.fetch_add(1, Ordering::SeqCst) + 1
    }

    /// Returns once the commit holding `ticket` is on disk.
    pub async fn durable(&self, ticket: u64) -> std::io::Result<()> {
        if self.synced.load(Ordering::SeqCst) >= ticket {
            return Ok(());
        }
        let _role = self.syncing.lock().await;
        if self.synced.load(Ordering::SeqCst) >= ticket {
            return Ok(());
        }
        // Every commit counted here finished before the sync below starts.
        let covered = self.committed.load(Ordering::SeqCst);
        let (wal, sync_file) = (self.wal.clone(), self.sync_file.clone());
        tokio::task::spawn_blocking(move || sync_file(&wal))
            .await
            .map_err(std::io::Error::other)??;
        self.syncs.fetch_add(1, Ordering::Relaxed);
        self.synced.fetch_max(covered, Ordering::SeqCst);
        Ok(())
    }

    /// Syncs performed so far.
    pub fn syncs(&self) -> u64 {
        self.syncs.load(Ordering::Relaxed)
    }

    /// Commits finished so far.
    pub fn commits(&self) -> u64 {
        self.committed.load(Ordering::SeqCst)
    }

    /// Commits known to be on disk (the first this many).
    pub fn synced(&self) -> u64 {
        self.synced.load(Ordering::SeqCst)
    }
}

/// `fdatasync` of the log as it is now; no log means a checkpoint already made everything
/// durable and removed it.
fn sync_data(wal: &Path) -> std::io::Result<()> {
    match std::fs::File::open(wal) {
        Ok(f) => f.sync_data(),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::AtomicBool;

    /// A sync that blocks until the test opens the gate, counting how often it started.
    fn gated() -> (SyncFile, Arc<AtomicBool>, Arc<AtomicU64>) {
        let open = Arc::new(AtomicBool::new(false));
        let started = Arc::new(AtomicU64::new(0));
        let (o, s) = (open.clone(), started.clone());
        let f: SyncFile = Arc::new(move |_| {
            s.fetch_add(1, Ordering::SeqCst);
            while !o.load(Ordering::SeqCst) {
                std::thread::sleep(std::time::Duration::from_millis(1));
            }
            Ok(())
        });
        (f, open, started)
    }

    async fn until(what: impl Fn() -> bool) {
        while !what() {
            tokio::time::sleep(std::time::Duration::from_millis(1)).await;
        }
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn commits_that_wait_together_share_one_sync() {
        let (f, open, started) = gated();
        let w = Arc::new(WalSync::with(Path::new("/nonexistent/db"), f));
        // The first commit starts a sync, which the gate holds.
        let t1 = w.ticket();
        let first = tokio::spawn({
            let w = w.clone();
            async move { w.durable(t1).await }
        });
        until(|| started.load(Ordering::SeqCst) == 1).await;
        // Three more commit while it runs: that sync started before them, so it cannot cover them.
        let mut later = Vec::new();
        for _ in 0..3 {
            let t = w.ticket();
            let w = w.clone();
            later.push(tokio::spawn(async move { w.durable(t).await }));
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        assert!(
            !first.is_finished(),
            "acknowledged before its sync finished"
        );
        open.store(true, Ordering::SeqCst);
        first.await.unwrap().unwrap();
        for t in later {
            t.await.unwrap().unwrap();
        }
        // One sync for the first commit, one shared by the three that waited.
        assert_eq!(w.syncs(), 2);
        assert_eq!(started.load(Ordering::SeqCst), 2);
        // A commit already covered returns without syncing again.
        w.durable(4).await.unwrap();
        assert_eq!(w.syncs(), 2);
        // The next commit needs a sync of its own.
        let t5 = w.ticket();
        w.durable(t5).await.unwrap();
        assert_eq!(w.syncs(), 3);
    }

    #[tokio::test]
    async fn a_failed_sync_is_an_error_and_covers_nothing() {
        let fails: SyncFile = Arc::new(|_| Err(std::io::Error::other("disk gone")));
        let w = WalSync::with(Path::new("/nonexistent/db"), fails);
        let t = w.ticket();
        assert!(w.durable(t).await.is_err());
        assert!(w.durable(t).await.is_err(), "still not durable");
    }

    #[tokio::test]
    async fn no_log_means_a_checkpoint_already_made_it_durable() {
        let dir = tempfile::tempdir().unwrap();
        let w = WalSync::new(&dir.path().join("rolecall.db"));
        let t = w.ticket();
        w.durable(t).await.unwrap();
        std::fs::write(dir.path().join("rolecall.db-wal"), b"frames").unwrap();
        let t = w.ticket();
        w.durable(t).await.unwrap();
        assert_eq!(w.syncs(), 2);
    }
}
