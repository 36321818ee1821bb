//! Storage: one query layer over SQLite and PostgreSQL through sqlx's `Any` driver with runtime
//! queries. SQL is written once with `$1` placeholders; SQLite gets them as `?1` (same numbering).
//!
//! Architecture Invariant: every mutation runs in one transaction obtained from [`Db::write`];
//! nothing outside this module writes SQL.

pub mod audit; // the hash-chained audit log
pub mod audit_index; // the audit log's query indexes, filled in batches
pub mod bulk; // what bulk imports and exports read
pub mod changes; // what tells memory that the database moved (issue 13)
pub mod checkpoint; // SQLite's log copied into the database beside the writer (issues 12, 14)
pub mod credentials;
pub mod directory;
pub mod holding; // what the one-role and keep-an-administrator rules read
pub mod invitations; // "Get started" invitations
pub mod owner; // the one process serving a SQLite file (issue 13)
pub mod profiles;
pub mod reports; // access reports (issue 11)
pub mod rights;
pub(crate) mod rows; // rows written many at a time (issue 12)
pub use rows::NULL_MEANS_LEFT_OUT;
pub mod scim; // SCIM lists and searches (issue 14)
pub mod scim_clients; // SCIM clients (issue 14)
pub mod signin;
pub mod tokens;
pub mod transaction; // a write's connection, kept off the pool's pings (issue 14)
pub mod user_list; // the user list: filters, sort orders, offset and keyset paging
pub mod user_profile; // SCIM-carried attributes (issue 14)
pub mod user_rights; // a few users' rights, for incremental snapshot updates (issue 14)
pub mod wal_sync; // SQLite commits made durable together (issue 14)

use crate::error::{Error, Result};
use sqlx::any::{AnyConnectOptions, AnyPoolOptions, AnyRow};
use sqlx::{Any, AnyPool, Executor, Row};
use std::path::Path;
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;
pub use transaction::Tx;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// A pool plus what differs between backends. Cheap to clone.
#[derive(Clone)]
pub struct Db {
    pub pool: AnyPool,
    pub backend: Backend,
    /// SQLite allows one writer; serialising writers here avoids SQLITE_BUSY on lock upgrade.
    /// The lock holds the writer's connection (transaction.rs). PostgreSQL needs no such lock:
    /// row versions guard concurrent updates.
    write_lock: Option<Arc<transaction::WriterSlot>>,
    /// How long [`Db::write`] waits for the writer before giving up with [`Error::Busy`].
    busy_timeout: Duration,
    /// Moved by every commit, by other nodes' notifications and by the poll (changes.rs).
    changes: Arc<changes::Generation>,
    /// Where [`changes::follow`] listens (PostgreSQL only).
    postgres_url: Option<String>,
    /// Whether what is kept in memory may answer without asking the database first.
    pub freshness: Freshness,
    /// Each audit chain's head as this process last committed it (audit.rs).
    heads: Arc<audit::KnownHeads>,
    /// Audit entries committed and not yet in the index tables (audit_index.rs).
    pub audit_backlog: Arc<audit_index::Backlog>,
    /// SQLite with `Synchronous::Full`: what makes a commit durable before it is acknowledged.
    pub wal_sync: Option<Arc<wal_sync::WalSync>>,
    /// SQLite with a file: wakes the task that checkpoints the log (checkpoint.rs).
    checkpoints: Option<checkpoint::Wake>,
    /// Where [`Db::write`] begins: on SQLite a pool of one connection that, once taken, stays
    /// in `write_lock`; on PostgreSQL `pool`.
    writer: AnyPool,
}

/// SQLite's writer's page cache, in KiB (64 MiB at most, used only as a change needs it).
const WRITER_CACHE_KIB: i64 = 65_536;

/// A write transaction; holds the SQLite writer lock until committed or dropped.
pub struct WriteTx {
    pub tx: Tx,
    backend: Backend,
    /// Audit entries describing this transaction's changes, appended to their organisation's
    /// chain by [`WriteTx::commit`] just before the commit, so a change and its record are
    /// one atomic write (and a rolled-back change leaves no record).
    audit: Vec<audit::Queued>,
    /// Organisations whose chains this transaction appended to, for the change notice.
    touched: Vec<String>,
    /// Entries appended so far, for the index backlog once they are committed.
    appended: usize,
    changes: Arc<changes::Generation>,
    heads: Arc<audit::KnownHeads>,
    backlog: Arc<audit_index::Backlog>,
    wal_sync: Option<Arc<wal_sync::WalSync>>,
    checkpoints: Option<checkpoint::Wake>,
    /// Set by a bulk import: group version bumps held for the commit (see
    /// [`WriteTx::defer_group_touches`]).
    group_touches: Option<GroupTouches>,
}

/// Group version bumps a long transaction holds until its commit, one per group.
#[derive(Default)]
struct GroupTouches {
    groups: std::collections::BTreeSet<rolecall_core::model::GroupId>,
    /// The groups first touched since the last [`WriteTx::mark`], forgotten again if the row
    /// is rolled back.
    since_mark: Vec<rolecall_core::model::GroupId>,
    at: rolecall_core::model::Millis,
}

impl WriteTx {
    /// Holds group version bumps until the commit, one `UPDATE` per group, instead of one
    /// per membership change. A bulk import adds hundreds of members to each group, each from
    /// its own savepoint: bumped every time, a group row gets hundreds of versions inside one
    /// transaction that PostgreSQL cannot prune before the end, and every later lock of the
    /// group walks them (the import grew quadratic; BENCHMARKS.md, issue 12). A group's ETag
    /// still changes exactly when its membership did: the bump lands in the same commit.
    pub fn defer_group_touches(&mut self) {
        self.group_touches.get_or_insert_with(GroupTouches::default);
    }

    /// Marks a group's membership changed: a new version (so its ETag changes), now or, when
    /// deferred, at the commit.
    pub async fn touch_group(
        &mut self,
        group: rolecall_core::model::GroupId,
        now: rolecall_core::model::Millis,
    ) -> Result<()> {
        match &mut self.group_touches {
            Some(t) => {
                if t.groups.insert(group) {
                    t.since_mark.push(group);
                }
                t.at = t.at.max(now);
                Ok(())
            }
            None => directory::touch_group(&mut self.tx, self.backend, group, now).await,
        }
    }

    /// Applies the deferred group bumps (each group once).
    async fn flush_group_touches(&mut self) -> Result<()> {
        if let Some(t) = self.group_touches.take() {
            for g in t.groups {
                directory::touch_group(&mut self.tx, self.backend, g, t.at).await?;
            }
        }
        Ok(())
    }

    /// Queues an audit entry (its `org_id` says which chain) for the commit.
    pub fn record(&mut self, entry: rolecall_core::audit::Entry) {
        self.audit.push(audit::Queued {
            entry,
            unlinked: None,
        });
    }

    /// [`WriteTx::record`] with the entry's hash already taken over all but its link
    /// ([`rolecall_core::audit::Entry::unlinked`]), by a thread other than the writer's.
    pub fn record_unlinked(
        &mut self,
        entry: rolecall_core::audit::Entry,
        unlinked: rolecall_core::audit::Unlinked,
    ) {
        self.audit.push(audit::Queued {
            entry,
            unlinked: Some(unlinked),
        });
    }

    /// How many audit entries are queued.
    pub fn recorded(&self) -> usize {
        self.audit.len()
    }

    /// Marks a point the transaction can go back to (one row of a bulk import): returns how
    /// many audit entries were queued, so [`WriteTx::rollback_to_mark`] drops the row's too.
    pub async fn mark(&mut self) -> Result<usize> {
        sqlx::query("SAVEPOINT bulk_row")
            .execute(&mut *self.tx)
            .await?;
        if let Some(t) = &mut self.group_touches {
            t.since_mark.clear();
        }
        Ok(self.audit.len())
    }

    /// Keeps what was written since [`WriteTx::mark`].
    pub async fn release_mark(&mut self) -> Result<()> {
        sqlx::query("RELEASE SAVEPOINT bulk_row")
            .execute(&mut *self.tx)
            .await?;
        Ok(())
    }

    /// Undoes what was written since [`WriteTx::mark`], its audit entries included. On
    /// PostgreSQL this also clears a failed statement's abort state, so the next row can run.
    pub async fn rollback_to_mark(&mut self, queued: usize) -> Result<()> {
        sqlx::query("ROLLBACK TO SAVEPOINT bulk_row")
            .execute(&mut *self.tx)
            .await?;
        self.release_mark().await?;
        self.audit.truncate(queued);
        if let Some(t) = &mut self.group_touches {
            for g in t.since_mark.drain(..) {
                t.groups.remove(&g);
            }
        }
        Ok(())
    }

    /// Ends the transaction writing nothing (a dry run, or an all-or-nothing import with errors).
    pub async fn rollback(mut self) -> Result<()> {
        self.tx.rollback().await?;
        Ok(())
    }

    /// Appends the queued audit entries to their chains now, inside the transaction, instead of
    /// holding them until the commit: a bulk import calls it between rows so its memory does not
    /// grow with the file (issue 12). Never call it between [`WriteTx::mark`] and the row's
    /// release or rollback. What a rollback undoes, it undoes here too; the remembered chain
    /// head is then ahead of the stored one, which the next append notices and re-reads.
    pub async fn flush_audit(&mut self) -> Result<()> {
        let mut pending = std::mem::take(&mut self.audit);
        let now = pending.iter().map(|q| q.entry.at).max().unwrap_or(0);
        self.appended += pending.len();
        // Usually one organisation; group without reordering each organisation's entries.
        while !pending.is_empty() {
            let org = pending[0].entry.org_id.clone();
            let (mut mine, rest): (Vec<_>, Vec<_>) =
                pending.into_iter().partition(|q| q.entry.org_id == org);
            let head = audit::append(
                &mut self.tx,
                self.backend,
                &org,
                &mut mine,
                now,
                &self.heads,
            )
            .await?;
            if let Some((seq, hash)) = head {
                self.heads.set(org.clone(), seq, hash);
            }
            if !self.touched.contains(&org) {
                self.touched.push(org);
            }
            pending = rest;
        }
        Ok(())
    }

    pub async fn commit(mut self) -> Result<()> {
        self.flush_group_touches().await?;
        self.flush_audit().await?;
        let mut orgs = std::mem::take(&mut self.touched);
        orgs.sort();
        changes::record(&mut self.tx, self.backend, &self.changes.node, &orgs).await?;
        self.tx.commit().await?;
        let ticket = self.wal_sync.as_ref().map(|w| w.ticket());
        if let Some(c) = &self.checkpoints {
            c.committed();
        }
        // The next writer may start while this commit's sync runs: that is what lets commits
        // share syncs (wal_sync.rs). Dropping the transaction releases the writer lock.
        drop(self.tx);
        self.backlog.add(self.appended);
        // After the commit, before the use case answers: what this node remembers is stale
        // from the very next request on (changes.rs).
        self.changes.bump();
        if let (Some(w), Some(ticket)) = (&self.wal_sync, ticket) {
            w.durable(ticket).await.map_err(|e| {
                tracing::error!(error = %e, "could not sync the SQLite write-ahead log");
                Error::Internal(format!(
                    "the change was committed but could not be synced to disk: {e}"
                ))
            })?;
        }
        Ok(())
    }

    /// Commits bookkeeping that changes nothing any node keeps in memory (the audit log's
    /// index tables), so without moving the change counter: moving it would make every node
    /// drop its caches for nothing.
    pub async fn commit_bookkeeping(mut self) -> Result<()> {
        debug_assert!(self.audit.is_empty(), "bookkeeping records no audit entry");
        self.tx.commit().await?;
        Ok(())
    }
}

const MIGRATIONS: &[(i64, &str, &str)] = &[
    (
        1,
        "directory",
        include_str!("../../migrations/0001_directory.sql"),
    ),
    (
        2,
        "signin",
        include_str!("../../migrations/0002_signin.sql"),
    ),
    // profiles: products and product profiles (store/profiles.rs).
    (
        3,
        "profiles",
        include_str!("../../migrations/0003_profiles.sql"),
    ),
    (4, "admin", include_str!("../../migrations/0004_admin.sql")),
    // invitations: "Get started" tokens (store/invitations.rs).
    (
        5,
        "invitations",
        include_str!("../../migrations/0005_invitations.sql"),
    ),
    (
        6,
        "rights",
        include_str!("../../migrations/0006_rights.sql"),
    ),
    // security: sign-in names unique across usernames and e-mails, outbox redaction (issue 9).
    (
        7,
        "security",
        include_str!("../../migrations/0007_security.sql"),
    ),
    // audit: the one hash-chained audit log (store/audit.rs).
    (8, "audit", include_str!("../../migrations/0008_audit.sql")),
    // user lists: indexes for the sort orders and the admin-right filter (store/user_list.rs).
    (
        10,
        "user_lists",
        include_str!("../../migrations/0010_user_lists.sql"),
    ),
    // scim: profile attributes, provisioned groups, SCIM clients (issue 14).
    (11, "scim", include_str!("../../migrations/0011_scim.sql")),
    // changes: the counter every write moves, polled behind LISTEN/NOTIFY (store/changes.rs).
    (
        13,
        "changes",
        include_str!("../../migrations/0013_changes.sql"),
    ),
    // user search: indexes of the lower-cased first and last names (store/user_list.rs).
    (
        15,
        "user_search",
        include_str!("../../migrations/0015_user_search.sql"),
    ),
    // audit_link: the trigger that keeps the audit chain linked (store/audit.rs append).
    (
        16,
        "audit_link",
        include_str!("../../migrations/0016_audit_link.sql"),
    ),
    // audit_index: the log's query indexes filled in batches, SQLite's log WITHOUT ROWID
    // (store/audit_index.rs; 0020 undoes the latter).
    (
        17,
        "audit_index",
        include_str!("../../migrations/0017_audit_index.sql"),
    ),
    // scim_lookup: PostgreSQL indexes in the collation SCIM filters compare in (scim/columns.rs).
    (
        18,
        "scim_lookup",
        include_str!("../../migrations/0018_scim_lookup.sql"),
    ),
    // audit_link_batch: PostgreSQL links a statement's audit entries at once (0019's header).
    (
        19,
        "audit_link_batch",
        include_str!("../../migrations/0019_audit_link_batch.sql"),
    ),
    // audit_log_rowid: SQLite's log a rowid table again, its entries whole in their pages
    // (0020's header).
    (
        20,
        "audit_log_rowid",
        include_str!("../../migrations/0020_audit_log_rowid.sql"),
    ),
    // right_lineage: who a right's authority came from when granted (directory/rights.rs).
    (
        21,
        "right_lineage",
        include_str!("../../migrations/0021_right_lineage.sql"),
    ),
    // invitation_sender: who sent an invitation's live token (directory/invitations.rs).
    (
        22,
        "invitation_sender",
        include_str!("../../migrations/0022_invitation_sender.sql"),
    ),
];

/// The parts of a migration whose syntax differs between the databases (triggers), run after
/// the portable statements of the same version: (version, SQLite script, PostgreSQL script).
/// Each script runs whole, so trigger bodies may contain `;`.
const BACKEND_MIGRATIONS: &[(i64, &str, &str)] = &[
    (
        16,
        include_str!("../../migrations/0016_audit_link.sqlite.sql"),
        include_str!("../../migrations/0016_audit_link.postgres.sql"),
    ),
    (
        17,
        include_str!("../../migrations/0017_audit_index.sqlite.sql"),
        include_str!("../../migrations/0017_audit_index.postgres.sql"),
    ),
    (
        18,
        include_str!("../../migrations/0018_scim_lookup.sqlite.sql"),
        include_str!("../../migrations/0018_scim_lookup.postgres.sql"),
    ),
    (
        19,
        include_str!("../../migrations/0019_audit_link_batch.sqlite.sql"),
        include_str!("../../migrations/0019_audit_link_batch.postgres.sql"),
    ),
    (
        20,
        include_str!("../../migrations/0020_audit_log_rowid.sqlite.sql"),
        include_str!("../../migrations/0020_audit_log_rowid.postgres.sql"),
    ),
];

/// How SQLite makes a commit durable.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Synchronous {
    /// An acknowledged change survives power loss: each commit waits for a sync of the WAL
    /// after it, shared with the commits that finished alongside it (wal_sync.rs).
    #[default]
    Full,
    /// SQLite's own `synchronous = FULL`: the WAL synced inside every commit, under the writer
    /// lock. As durable as `Full` and visible only once durable, but one sync per change.
    PerCommit,
    /// Synced at checkpoints only: faster, but the last commits can be lost on power loss
    /// (never on a crash of the process alone).
    Normal,
}

impl std::str::FromStr for Synchronous {
    type Err = String;

    fn from_str(s: &str) -> std::result::Result<Self, Self::Err> {
        match s.to_ascii_lowercase().as_str() {
            "full" => Ok(Synchronous::Full),
            "per-commit" => Ok(Synchronous::PerCommit),
            "normal" => Ok(Synchronous::Normal),
            _ => Err(format!("{s:?} is not full, per-commit or normal")),
        }
    }
}

/// Tuning for [`Db::connect_with`]; the defaults are what `serve` uses.
#[derive(Debug, Clone, Copy)]
pub struct DbOptions {
    /// How long a request waits for the write lock (SQLite's writer, a PostgreSQL row lock)
    /// or a pooled connection before it is answered 503 `database_busy`.
    pub busy_timeout: Duration,
    pub sqlite_synchronous: Synchronous,
    pub freshness: Freshness,
    /// How long SQLite's checkpoint task lets commits gather (checkpoint.rs); a test stretches
    /// it to see the log a commit left; not a setting: 100 ms everywhere else.
    pub checkpoint_gather: Duration,
}

impl Default for DbOptions {
    fn default() -> Self {
        DbOptions {
            busy_timeout: Duration::from_secs(5),
            sqlite_synchronous: Synchronous::Full,
            freshness: Freshness::Memory,
            checkpoint_gather: checkpoint::GATHER,
        }
    }
}

/// How a request learns that the database moved (issue 13).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Freshness {
    /// Memory answers: authentications, organisations and compiled rights are kept until this
    /// node commits a write, another node's notification arrives, or the poll sees the shared
    /// counter move (changes.rs). No database read on a check from a known caller.
    #[default]
    Memory,
    /// Every request reads its credential or session and the organisation's epoch from the
    /// database: another node's change decides the very next request anywhere, at the cost
    /// of those reads.
    Strict,
}

impl std::str::FromStr for Freshness {
    type Err = String;

    fn from_str(s: &str) -> std::result::Result<Self, Self::Err> {
        match s.to_ascii_lowercase().as_str() {
            "memory" => Ok(Freshness::Memory),
            "strict" => Ok(Freshness::Strict),
            _ => Err(format!("{s:?} is not memory or strict")),
        }
    }
}

/// Is this the database saying "not now" (a lock held too long, a busy pool) rather than a
/// fault? Such errors become 503 with `Retry-After`, never 500.
pub fn is_busy(e: &sqlx::Error) -> bool {
    match e {
        sqlx::Error::PoolTimedOut => true,
        sqlx::Error::Database(d) => {
            let code = d.code();
            matches!(
                code.as_deref(),
                // SQLite: BUSY, LOCKED, BUSY_RECOVERY, BUSY_SNAPSHOT, BUSY_TIMEOUT,
                // LOCKED_SHAREDCACHE.
                Some("5" | "6" | "261" | "517" | "773" | "262")
                // PostgreSQL: serialization failure, deadlock, lock_not_available,
                // too_many_connections, query_canceled (lock or statement timeout).
                | Some("40001" | "40P01" | "55P03" | "53300" | "57014")
            ) || d.message().contains("database is locked")
        }
        _ => false,
    }
}

/// The embedded database's files are the organisation's secrets: the directory is 0700 and
/// `rolecall.db` (with its `-wal` and `-shm`, which SQLite creates with the database file's
/// mode) 0600, whatever the umask.
#[cfg(unix)]
fn private_files(data_dir: &Path) -> Result<()> {
    use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt, PermissionsExt};
    let fail = |what: &Path, e: std::io::Error| {
        Error::Setup(format!(
            "data directory {}: cannot create or secure {}: {e}",
            data_dir.display(),
            what.display()
        ))
    };
    if !data_dir.exists() {
        std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(data_dir)
            .map_err(|e| fail(data_dir, e))?;
    }
    std::fs::set_permissions(data_dir, std::fs::Permissions::from_mode(0o700))
        .map_err(|e| fail(data_dir, e))?;
    let db = data_dir.join("rolecall.db");
    std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .mode(0o600)
        .open(&db)
        .map_err(|e| fail(&db, e))?;
    for name in ["rolecall.db", "rolecall.db-wal", "rolecall.db-shm"] {
        let f = data_dir.join(name);
        if f.exists() {
            std::fs::set_permissions(&f, std::fs::Permissions::from_mode(0o600))
                .map_err(|e| fail(&f, e))?;
        }
    }
    Ok(())
}

#[cfg(not(unix))]
fn private_files(data_dir: &Path) -> Result<()> {
    std::fs::create_dir_all(data_dir).map_err(|e| {
        Error::Setup(format!(
            "data directory {}: cannot create it: {e}",
            data_dir.display()
        ))
    })
}

/// The file behind a SQLite pool, as SQLite itself resolved it (`None` in memory).
async fn sqlite_file(pool: &AnyPool) -> Result<Option<std::path::PathBuf>> {
    let rows = sqlx::query("PRAGMA database_list").fetch_all(pool).await?;
    for r in rows {
        if get_str(&r, "name")? == "main" {
            let file = get_str(&r, "file")?;
            return Ok((!file.is_empty()).then(|| std::path::PathBuf::from(file)));
        }
    }
    Ok(None)
}

/// The operator's view of a failed first connection: which database, where, and why.
fn unreachable_database(backend: Backend, url: &str, data_dir: &Path, cause: &str) -> Error {
    match backend {
        Backend::Postgres => {
            let place = sqlx::postgres::PgConnectOptions::from_str(url)
                .map(|o| {
                    format!(
                        "{}:{} (database {}, user {})",
                        o.get_host(),
                        o.get_port(),
                        o.get_database().unwrap_or("default"),
                        o.get_username()
                    )
                })
                .unwrap_or_else(|_| redact(url));
            Error::Setup(format!("cannot connect to PostgreSQL at {place}: {cause}"))
        }
        Backend::Sqlite => Error::Setup(format!(
            "cannot open the SQLite database in data directory {}: {cause}",
            data_dir.display()
        )),
    }
}

impl Db {
    /// Opens `database_url` if given (a `postgres://` URL selects PostgreSQL), otherwise the
    /// SQLite file `rolecall.db` in `data_dir`, created on first start in WAL mode.
    pub async fn connect(database_url: Option<&str>, data_dir: &Path) -> Result<Db> {
        Db::connect_with(database_url, data_dir, DbOptions::default()).await
    }

    /// As [`Db::connect`], with explicit tuning.
    pub async fn connect_with(
        database_url: Option<&str>,
        data_dir: &Path,
        options: DbOptions,
    ) -> Result<Db> {
        sqlx::any::install_default_drivers();
        let (url, backend) = match database_url {
            Some(u) if u.starts_with("postgres://") || u.starts_with("postgresql://") => {
                (u.to_string(), Backend::Postgres)
            }
            Some(u) if u.starts_with("sqlite:") => (u.to_string(), Backend::Sqlite),
            Some(u) => {
                let scheme = u.split_once("://").map_or(u, |(s, _)| s);
                return Err(Error::Setup(format!(
                    "database URL {}: {scheme:?} is not supported; rolecall stores its data in \
                     PostgreSQL (postgres://user:password@host:5432/database) or, with no database \
                     URL, in SQLite under the data directory",
                    redact(u)
                )));
            }
            None => {
                private_files(data_dir)?;
                (
                    format!(
                        "sqlite://{}?mode=rwc",
                        data_dir.join("rolecall.db").display()
                    ),
                    Backend::Sqlite,
                )
            }
        };
        let connect = AnyConnectOptions::from_str(&url)
            .map_err(|e| Error::Setup(format!("database URL {}: {e}", redact(&url))))?;
        // One connection first: when the database cannot be reached, the pool only reports a
        // timeout; this says where it tried and why it failed.
        let wait = options.busy_timeout.max(Duration::from_secs(10));
        match tokio::time::timeout(
            wait,
            <sqlx::AnyConnection as sqlx::Connection>::connect_with(&connect),
        )
        .await
        {
            Ok(Ok(probe)) => {
                let _ = sqlx::Connection::close(probe).await;
            }
            Ok(Err(e)) => {
                return Err(unreachable_database(
                    backend,
                    &url,
                    data_dir,
                    &e.to_string(),
                ))
            }
            Err(_) => {
                let why = format!("no answer within {} s", wait.as_secs());
                return Err(unreachable_database(backend, &url, data_dir, &why));
            }
        }
        let busy_ms = options.busy_timeout.as_millis();
        let synchronous = match options.sqlite_synchronous {
            // Full syncs after the commit instead, shared between commits (wal_sync.rs).
            Synchronous::Full | Synchronous::Normal => "NORMAL",
            Synchronous::PerCommit => "FULL",
        };
        // SQLite's page cache per connection, in KiB: the default (2 MiB) for readers; the one
        // writer keeps more, as a large change (an import) that outgrows it re-reads the pages
        // it evicted and spills dirty ones to the log before its commit.
        let pool_of = |max: u32, cache_kib: i64| {
            AnyPoolOptions::new()
                .max_connections(max)
                .acquire_timeout(options.busy_timeout.max(Duration::from_secs(1)))
                // A ping before each hand-out finds a dropped network connection; a SQLite
                // file cannot drop, and the ping is a trip to the connection's thread (issue 14).
                .test_before_acquire(backend == Backend::Postgres)
                .after_connect(move |conn, _meta| {
                    Box::pin(async move {
                        match backend {
                            Backend::Sqlite => {
                                conn.execute("PRAGMA journal_mode = WAL").await?;
                                conn.execute(format!("PRAGMA busy_timeout = {busy_ms}").as_str())
                                    .await?;
                                conn.execute("PRAGMA foreign_keys = ON").await?;
                                conn.execute(
                                    format!("PRAGMA synchronous = {synchronous}").as_str(),
                                )
                                .await?;
                                conn.execute(format!("PRAGMA cache_size = -{cache_kib}").as_str())
                                    .await?;
                                // Statement journals (a savepoint's undo) and temporary
                                // tables go to an unnamed file past 64 KiB. In memory (as
                                // from the fifth session) an import's batch savepoint kept
                                // every page it first changed, which grew with the tables up
                                // to ~64 MiB; on file an import's memory stays flat and it
                                // ran no slower (BENCHMARKS.md, eleventh session; issue 12).
                                conn.execute("PRAGMA temp_store = FILE").await?;
                                // The checkpoint task copies the log (checkpoint.rs).
                                conn.execute(
                                    format!(
                                        "PRAGMA wal_autocheckpoint = {}",
                                        checkpoint::BACKSTOP_PAGES
                                    )
                                    .as_str(),
                                )
                                .await?;
                            }
                            // A row lock held too long ends the waiting statement (55P03, a
                            // 503) instead of stalling the request indefinitely.
                            Backend::Postgres => {
                                conn.execute(format!("SET lock_timeout = {busy_ms}").as_str())
                                    .await?;
                            }
                        }
                        Ok(())
                    })
                })
        };
        let pool = pool_of(if backend == Backend::Sqlite { 8 } else { 16 }, 2_000)
            .connect_with(connect.clone())
            .await?;
        // SQLite: the use cases' writes, serialised by `write_lock` anyway, always on the same
        // connection. A connection drops its whole page cache when another one wrote, so a
        // writer that changes from call to call re-reads every page it touches (issue 14).
        let writer = match backend {
            Backend::Sqlite => {
                pool_of(1, WRITER_CACHE_KIB)
                    .connect_with(connect.clone())
                    .await?
            }
            Backend::Postgres => pool.clone(),
        };
        let write_lock =
            (backend == Backend::Sqlite).then(|| Arc::new(tokio::sync::Mutex::default()));
        let wal_sync = match (backend, options.sqlite_synchronous) {
            (Backend::Sqlite, Synchronous::Full) => sqlite_file(&pool)
                .await?
                .map(|file| Arc::new(wal_sync::WalSync::new(&file))),
            _ => None,
        };
        let checkpoints = match backend {
            Backend::Sqlite if sqlite_file(&pool).await?.is_some() => Some(checkpoint::start(
                pool_of(1, 2_000).connect_with(connect).await?,
                options.checkpoint_gather,
            )),
            _ => None,
        };
        Ok(Db {
            pool,
            backend,
            write_lock,
            busy_timeout: options.busy_timeout,
            changes: Arc::new(changes::Generation::default()),
            postgres_url: (backend == Backend::Postgres).then_some(url),
            freshness: options.freshness,
            heads: Default::default(),
            audit_backlog: Default::default(),
            wal_sync,
            checkpoints,
            writer,
        })
    }

    /// Applies pending migrations, each in its own transaction. Several nodes starting at once
    /// on PostgreSQL serialise on an advisory lock.
    pub async fn migrate(&self, now: i64) -> Result<()> {
        let mut w = self.write().await?;
        if self.backend == Backend::Postgres {
            sqlx::query("SELECT pg_advisory_xact_lock(7041960001)")
                .execute(&mut *w.tx)
                .await?;
        }
        w.tx.execute("CREATE TABLE IF NOT EXISTS schema_migrations (version BIGINT PRIMARY KEY, name TEXT NOT NULL, applied_at BIGINT NOT NULL)")
            .await?;
        let applied: Vec<i64> = sqlx::query("SELECT version FROM schema_migrations")
            .fetch_all(&mut *w.tx)
            .await?
            .iter()
            .map(|r| r.get::<i64, _>(0))
            .collect();
        for (version, name, sql) in MIGRATIONS {
            if applied.contains(version) {
                continue;
            }
            for statement in split_statements(sql) {
                w.tx.execute(statement.as_str()).await?;
            }
            for (_, sqlite, postgres) in BACKEND_MIGRATIONS.iter().filter(|m| m.0 == *version) {
                let script = match self.backend {
                    Backend::Sqlite => sqlite,
                    Backend::Postgres => postgres,
                };
                sqlx::raw_sql(script).execute(&mut *w.tx).await?;
            }
            sqlx::query(&self.sql(
                "INSERT INTO schema_migrations (version, name, applied_at) VALUES ($1, $2, $3)",
            ))
            .bind(*version)
            .bind(*name)
            .bind(now)
            .execute(&mut *w.tx)
            .await?;
        }
        w.commit().await
    }

    /// Opens the one write transaction of a use case. Waits at most the busy timeout for
    /// SQLite's writer: a writer held too long answers 503, it never queues requests forever.
    pub async fn write(&self) -> Result<WriteTx> {
        // SQLite: take the write lock at BEGIN. A deferred transaction that reads first fails
        // with SQLITE_BUSY_SNAPSHOT (517) at its first write when a writer outside this lock
        // (the mail worker's claim) committed in between.
        let tx = match &self.write_lock {
            Some(lock) => {
                let slot = tokio::time::timeout(self.busy_timeout, lock.clone().lock_owned())
                    .await
                    .map_err(|_| Error::Busy)?;
                Tx::begin_in_slot(slot, &self.writer, "BEGIN IMMEDIATE").await?
            }
            None => Tx::begin_pooled(&self.writer).await?,
        };
        Ok(WriteTx {
            tx,
            backend: self.backend,
            audit: Vec::new(),
            touched: Vec::new(),
            appended: 0,
            changes: self.changes.clone(),
            heads: self.heads.clone(),
            backlog: self.audit_backlog.clone(),
            wal_sync: self.wal_sync.clone(),
            checkpoints: self.checkpoints.clone(),
            group_touches: None,
        })
    }

    /// Translates `$n` placeholders for the backend.
    pub fn sql(&self, sql: &str) -> String {
        sql_for(self.backend, sql)
    }

    /// A lock that lets one node of a cluster run a background job (the idle policy) while the
    /// others skip it: a PostgreSQL session advisory lock on a connection held for the job.
    /// SQLite serves one process per file, so the lock is always granted there.
    pub async fn try_job_lock(&self, key: i64) -> Result<Option<JobLock>> {
        if self.backend == Backend::Sqlite {
            return Ok(Some(JobLock { conn: None, key }));
        }
        let mut conn = self.pool.acquire().await?;
        let row = sqlx::query("SELECT pg_try_advisory_lock($1)")
            .bind(key)
            .fetch_one(&mut *conn)
            .await?;
        if row.try_get::<bool, _>(0)? {
            Ok(Some(JobLock {
                conn: Some(conn),
                key,
            }))
        } else {
            Ok(None)
        }
    }

    pub async fn ping(&self) -> Result<()> {
        sqlx::query("SELECT 1").execute(&self.pool).await?;
        Ok(())
    }
}

/// Held while a background job runs on this node; see [`Db::try_job_lock`].
pub struct JobLock {
    conn: Option<sqlx::pool::PoolConnection<Any>>,
    key: i64,
}

impl JobLock {
    pub async fn release(mut self) -> Result<()> {
        if let Some(mut conn) = self.conn.take() {
            sqlx::query("SELECT pg_advisory_unlock($1)")
                .bind(self.key)
                .execute(&mut *conn)
                .await?;
        }
        Ok(())
    }
}

impl Drop for JobLock {
    /// Not released (an error or a panic in the job): close the connection instead of returning
    /// it to the pool still holding the lock; PostgreSQL frees the lock with the session.
    fn drop(&mut self) {
        if let Some(conn) = self.conn.take() {
            drop(conn.detach());
        }
    }
}

pub fn sql_for(backend: Backend, sql: &str) -> String {
    match backend {
        Backend::Postgres => sql.to_string(),
        Backend::Sqlite => {
            let mut out = String::with_capacity(sql.len());
            let mut chars = sql.chars().peekable();
            while let Some(c) = chars.next() {
                if c == '$' && chars.peek().is_some_and(|n| n.is_ascii_digit()) {
                    out.push('?');
                } else {
                    out.push(c);
                }
            }
            out
        }
    }
}

fn split_statements(sql: &str) -> Vec<String> {
    let without_comments: String = sql
        .lines()
        .map(|l| l.split("--").next().unwrap_or(""))
        .collect::<Vec<_>>()
        .join("\n");
    without_comments
        .split(';')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .collect()
}

fn redact(url: &str) -> String {
    match url.split_once('@') {
        Some((_, host)) => format!("…@{host}"),
        None => url.to_string(),
    }
}

/// An association table (membership, assignment, seat): its name and its two key columns.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Link {
    pub table: &'static str,
    pub left: &'static str,
    pub right: &'static str,
}

pub(crate) const GROUP_MEMBERS: Link = Link {
    table: "group_members",
    left: "group_id",
    right: "user_id",
};
pub(crate) const GROUP_ROLES: Link = Link {
    table: "group_roles",
    left: "group_id",
    right: "role_id",
};
pub(crate) const USER_ROLES: Link = Link {
    table: "user_roles",
    left: "user_id",
    right: "role_id",
};
pub(crate) const PROFILE_USERS: Link = Link {
    table: "profile_users",
    left: "profile_id",
    right: "user_id",
};
pub(crate) const PROFILE_GROUPS: Link = Link {
    table: "profile_groups",
    left: "profile_id",
    right: "group_id",
};

/// Adds a row to an association table unless it is there; true when added. `extra` is one more
/// text column some tables carry (the role's application in `user_roles`).
pub(crate) async fn link(
    c: &mut sqlx::AnyConnection,
    b: Backend,
    l: Link,
    (left, right): (String, String),
    org: String,
    now: i64,
    extra: Option<(&'static str, String)>,
) -> Result<bool> {
    // One statement, not a look then an insert (`rows::link_all`, with one row).
    let (col, value) = match extra {
        Some((column, v)) => (Some(column), Some(v)),
        None => (None, None),
    };
    Ok(rows::link_all(c, b, l, &org, now, col, vec![(left, right, value)]).await? == 1)
}

/// Removes a row from an association table; true when there was one.
pub(crate) async fn unlink(
    c: &mut sqlx::AnyConnection,
    b: Backend,
    l: Link,
    (left, right): (String, String),
) -> Result<bool> {
    let r = sqlx::query(&sql_for(
        b,
        &format!(
            "DELETE FROM {} WHERE {} = $1 AND {} = $2",
            l.table, l.left, l.right
        ),
    ))
    .bind(left)
    .bind(right)
    .execute(c)
    .await?;
    Ok(r.rows_affected() == 1)
}

/// Maps a unique-index violation to the domain conflict the caller can act on.
pub fn unique_violation(e: &sqlx::Error) -> bool {
    match e {
        sqlx::Error::Database(d) => {
            d.kind() == sqlx::error::ErrorKind::UniqueViolation
                || d.code().as_deref() == Some("23505")
                || d.message().contains("UNIQUE constraint failed")
        }
        _ => false,
    }
}

pub(crate) fn get_str(row: &AnyRow, col: &str) -> Result<String> {
    Ok(row.try_get::<String, _>(col)?)
}

pub(crate) fn get_i64(row: &AnyRow, col: &str) -> Result<i64> {
    Ok(row.try_get::<i64, _>(col)?)
}

pub(crate) fn get_opt_i64(row: &AnyRow, col: &str) -> Result<Option<i64>> {
    Ok(row.try_get::<Option<i64>, _>(col)?)
}

pub(crate) fn get_opt_str(row: &AnyRow, col: &str) -> Result<Option<String>> {
    Ok(row.try_get::<Option<String>, _>(col)?)
}

pub(crate) fn get_uuid(row: &AnyRow, col: &str) -> Result<uuid::Uuid> {
    let s: String = row.try_get(col)?;
    uuid::Uuid::parse_str(&s).map_err(|e| Error::Internal(format!("bad uuid in {col}: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_keep_their_numbers_on_sqlite() {
        assert_eq!(
            sql_for(Backend::Sqlite, "a = $2 AND b = $1 AND c = $10"),
            "a = ?2 AND b = ?1 AND c = ?10"
        );
        assert_eq!(sql_for(Backend::Postgres, "a = $1"), "a = $1");
    }

    #[test]
    fn migration_statements_split_without_comments() {
        let parts =
            split_statements("-- x; y\nCREATE TABLE a (b TEXT); -- c\nCREATE INDEX i ON a (b);");
        assert_eq!(
            parts,
            vec!["CREATE TABLE a (b TEXT)", "CREATE INDEX i ON a (b)"]
        );
    }
}
