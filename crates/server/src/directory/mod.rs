//! Use cases: one function per operation, each validating input with the core's parsers, running
//! one transaction, and refreshing the compiled rights of the organization after commit.
//!
//! Architecture Invariant: handlers (HTTP, CLI) call only this module; this module is the only
//! caller of `store`. Every mutation that can change a decision bumps the organization's
//! `authz_epoch` inside its transaction and recompiles the snapshot before returning, so a
//! check on this node never sees rights older than a committed change.

mod acting; // who acts, and the handle every use case takes
pub mod activity; // last uses kept in memory, flushed in batches (issue 9 item 6)
pub mod admins;
pub mod audit; // the one hash-chained audit log
pub mod bearers; // secrets, organisations and freshness remembered between requests (issue 13)
pub mod bulk; // bulk import of user files (issue 12)
mod bulk_batch; // the import's batches: new people judged in memory, written together (issue 12)
pub mod bulk_changes; // many users into a group, profile or role; a product withdrawn (issue 12)
pub mod bulk_export; // bulk export of user files (issue 12)
mod bulk_known; // the import's rows about people already there that change nothing (issue 12)
mod bulk_names; // names and problems of a bulk import
mod bulk_report; // an import's per-row report, spooled to disk as it grows (issue 12)
mod catalogue;
pub mod credentials;
mod holding; // one role per user, keep an administrator
pub mod invitations; // "Get started" invitations and removal notices
pub mod magento; // migration of Magento 2 admins (issue 12)
mod notices; // account notices and admin-rights mails
pub mod offboard; // offboarding in one step (issue 11)
mod orgs;
mod passwords; // re-verification, password changes and resets, the lockout (issue 9)
mod profiles; // products and product profiles
pub mod reports; // access reports and the idle policy (issue 11)
mod rights; // the one rights rule, server half
mod roles;
mod scim; // SCIM reads (issue 14)
pub mod scim_clients; // SCIM clients (issue 14)
mod secrets; // TOTP secrets sealed at rest (issue 9 item 9)
pub mod signin;
mod user_list; // pages of users and their opaque cursors
mod user_profile; // SCIM-carried attributes (issue 14)
mod users;

/// The list's filter and orders are the store's plain data; adapters name them from here.
pub use crate::store::user_list::{AdminRightFilter, SortOrder, TextMatch, UserFilter, UserSort};
pub use acting::{OrgAdmin, Principal};
pub use catalogue::Catalogue;
pub use profiles::{
    NewProfile, ProductSummary, Profile, ProfilePatch, ProfileView, UserProduct, UserProducts,
};
pub use roles::{BatchAnswer, BatchCheck, BatchItem, NewRole, RolePatch};
pub use user_list::{PageStart, UserList, UserListRequest};
pub use user_profile::{AddressInput, EmailInput, PhoneInput};
pub use users::{GroupChange, NewGroup, NewUser, UserPatch, UserRoleHolding};

use crate::error::{Error, Result};
use crate::store::{self, directory as q, Db};
use arc_swap::ArcSwap;
use rolecall_core::authz::{OrgSnapshot, UserRights};
use rolecall_core::change::Approved;
use rolecall_core::model::{Millis, OrgId, UserId};
use rustc_hash::FxHashMap;
use std::sync::Arc;

/// Time is a parameter: tests and benchmarks pass a fixed clock.
pub trait Clock: Send + Sync {
    fn now(&self) -> Millis;
}

/// The wall clock.
pub struct SystemClock;

impl Clock for SystemClock {
    #[allow(clippy::disallowed_methods)]
    fn now(&self) -> Millis {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_millis() as i64)
            .unwrap_or(0)
    }
}

/// What a committed change did to the data decisions are made from, so that the published
/// snapshot can follow it at a cost that does not grow with the organisation where possible.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Delta {
    /// Nothing a decision reads (sign-in bookkeeping, credentials' own rows, …).
    Nothing,
    /// Only these users' own holdings: status, direct roles, group memberships, direct seats
    /// (including users created in the transaction).
    Users(Vec<UserId>),
    /// Anything wider (roles' grants, what groups or profiles carry, scopes, deletions, the
    /// catalogue): the whole organisation is compiled again.
    Organisation,
}

impl Delta {
    /// `Users(users)` when something changed, `Nothing` otherwise.
    pub(crate) fn users_if(changed: bool, users: impl IntoIterator<Item = UserId>) -> Delta {
        if changed {
            Delta::Users(users.into_iter().collect())
        } else {
            Delta::Nothing
        }
    }
}

/// A compiled snapshot and the epoch of the data it was compiled from.
pub struct CompiledOrg {
    pub epoch: i64,
    pub snapshot: OrgSnapshot,
    /// The database generation at which `epoch` was last found current (bearers.rs).
    pub checked_at: std::sync::atomic::AtomicU64,
}

/// The directory service shared by every adapter.
pub struct Directory {
    pub db: Db,
    clock: Arc<dyn Clock>,
    catalogue: ArcSwap<Catalogue>,
    snapshots: ArcSwap<FxHashMap<OrgId, Arc<CompiledOrg>>>,
    /// Serialises recompiles so an older compile never replaces a newer one.
    compile_lock: tokio::sync::Mutex<()>,
    /// Full compiles done, and snapshots derived incrementally (see `compile_counts`).
    full_compiles: std::sync::atomic::AtomicU64,
    incremental_updates: std::sync::atomic::AtomicU64,
    /// Last uses of tokens, credentials and sessions, written by `flush_activity`.
    pub(crate) activity: activity::Activity,
    /// Bearers and organisations read from the database, kept per generation (bearers.rs).
    remembered: bearers::Remembered,
    /// Seals the secrets kept at rest (TOTP secrets).
    pub(crate) keys: crate::credentials::sealing::Keyring,
    /// Where people reach the console, for links in e-mails (`Server` sets it at start).
    public_url: arc_swap::ArcSwapOption<String>,
}

impl Directory {
    /// Opens the directory with a key that lives as long as the process (tests, benchmarks);
    /// the server uses [`Directory::open_with_keys`].
    pub async fn open(
        db: Db,
        clock: Arc<dyn Clock>,
        extra_apps: Vec<rolecall_core::catalogue::ApplicationDef>,
    ) -> Result<Directory> {
        Directory::open_with_keys(
            db,
            clock,
            extra_apps,
            crate::credentials::sealing::Keyring::ephemeral(),
        )
        .await
    }

    /// Opens the directory: migrates the schema, seals secrets stored before encryption (and
    /// refuses a keyring that cannot open the stored ones), loads the catalogue and compiles
    /// every org.
    pub async fn open_with_keys(
        db: Db,
        clock: Arc<dyn Clock>,
        extra_apps: Vec<rolecall_core::catalogue::ApplicationDef>,
        keys: crate::credentials::sealing::Keyring,
    ) -> Result<Directory> {
        db.migrate(clock.now()).await?;
        let mut conn = db.pool.acquire().await?;
        store::user_profile::fill_missing_keys(&mut conn, db.backend).await?;
        let overrides = q::list_app_overrides(&mut conn).await?;
        drop(conn);
        let catalogue = Catalogue::load(extra_apps, overrides)?;
        let dir = Directory {
            db,
            clock,
            catalogue: ArcSwap::from_pointee(catalogue),
            snapshots: ArcSwap::from_pointee(FxHashMap::default()),
            compile_lock: tokio::sync::Mutex::new(()),
            full_compiles: Default::default(),
            incremental_updates: Default::default(),
            activity: activity::Activity::default(),
            remembered: bearers::Remembered::default(),
            keys,
            public_url: arc_swap::ArcSwapOption::empty(),
        };
        dir.seal_migrated_audit().await?;
        dir.seal_stored_secrets(None).await?;
        dir.sync_catalogue_into_orgs().await?;
        dir.refresh_stale().await?;
        Ok(dir)
    }

    pub fn now(&self) -> Millis {
        self.clock.now()
    }

    /// Sets the base URL (scheme, host, port) of links to the console in e-mails.
    pub fn set_public_url(&self, url: &str) {
        self.public_url
            .store(Some(Arc::new(url.trim_end_matches('/').to_string())));
    }

    /// A link into the console for an e-mail. It never carries the mailed token: a secret in a
    /// URL ends up in histories, logs and referrers, so the page asks for the token instead
    /// (and a link without it stays short enough for plain 7-bit mail).
    pub(crate) fn console_link(&self, path: &str) -> Option<String> {
        let base = self.public_url.load_full()?;
        Some(format!("{base}{path}"))
    }

    pub fn catalogue(&self) -> Arc<Catalogue> {
        self.catalogue.load_full()
    }

    fn backend(&self) -> store::Backend {
        self.db.backend
    }

    /// The compiled rights of an organization, compiling on first use.
    pub async fn snapshot(&self, org: OrgId) -> Result<Arc<CompiledOrg>> {
        if let Some(s) = self.snapshots.load().get(&org) {
            return Ok(s.clone());
        }
        self.recompile(org).await
    }

    /// The snapshot, first making sure no other node has committed a newer change: one indexed
    /// read, so HTTP checks see role and group changes made anywhere on the very next request.
    pub async fn fresh_snapshot(&self, org: OrgId) -> Result<Arc<CompiledOrg>> {
        let current = self.snapshot(org).await?;
        let stored = {
            let mut c = self.db.pool.acquire().await?;
            q::epoch(&mut c, self.backend(), org).await?
        };
        if stored != current.epoch {
            return self.recompile(org).await;
        }
        Ok(current)
    }

    /// Recompiles one organization from the store and publishes it.
    pub async fn recompile(&self, org: OrgId) -> Result<Arc<CompiledOrg>> {
        let _guard = self.compile_lock.lock().await;
        let (model, epoch) = {
            let mut tx = self.db.pool.begin().await?;
            if self.backend() == store::Backend::Postgres {
                sqlx::query("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
                    .execute(&mut *tx)
                    .await?;
            }
            let loaded = q::load_authz_model(&mut tx, self.backend(), org).await?;
            tx.commit().await?;
            loaded
        };
        if let Some(existing) = self.snapshots.load().get(&org) {
            if existing.epoch > epoch {
                return Ok(existing.clone());
            }
        }
        self.full_compiles
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        Ok(self.publish(
            org,
            epoch,
            OrgSnapshot::compile(&self.catalogue().apps, &model),
        ))
    }

    /// How many times an organisation was compiled whole, and how many snapshots were derived
    /// from a few users' rows instead, since start: what tells an operator (and the tests) that
    /// user-level changes stay off the path whose cost grows with the organisation.
    pub fn compile_counts(&self) -> (u64, u64) {
        use std::sync::atomic::Ordering::Relaxed;
        (
            self.full_compiles.load(Relaxed),
            self.incremental_updates.load(Relaxed),
        )
    }

    /// Swaps in a new snapshot; callers hold `compile_lock`.
    fn publish(&self, org: OrgId, epoch: i64, snapshot: OrgSnapshot) -> Arc<CompiledOrg> {
        let compiled = Arc::new(CompiledOrg {
            epoch,
            snapshot,
            checked_at: Default::default(),
        });
        let mut map = (**self.snapshots.load()).clone();
        map.insert(org, compiled.clone());
        self.snapshots.store(Arc::new(map));
        compiled
    }

    /// Ends every change a use case judged that may change a decision organisation-wide: the
    /// same as [`Directory::commit_rights_for`] with [`Delta::Organisation`] (or
    /// [`Delta::Nothing`] when `changed` is false).
    pub(crate) async fn commit_rights(
        &self,
        w: store::WriteTx,
        org: OrgId,
        approved: Approved,
        changed: bool,
    ) -> Result<()> {
        let delta = if changed {
            Delta::Organisation
        } else {
            Delta::Nothing
        };
        self.commit_rights_for(w, org, approved, delta).await
    }

    /// Ends every change a use case judged (see `rights.rs`): marks the organization's compiled
    /// rights stale in the same transaction, commits, and brings the published snapshot up to
    /// the commit before the caller answers. Taking the [`Approved`] proof here is what makes
    /// the rights rule unskippable; this is also where the module's Architecture Invariant is
    /// kept.
    ///
    /// [`Delta::Users`] re-reads only the named users' rights, inside the transaction after its
    /// writes (so exactly what commits), and derives the new snapshot from the published one
    /// when that one is exactly the epoch before this commit; otherwise (another node or
    /// another request moved the epoch in between, or nothing is published yet) it compiles
    /// the whole organisation, as [`Delta::Organisation`] always does.
    pub(crate) async fn commit_rights_for(
        &self,
        mut w: store::WriteTx,
        org: OrgId,
        approved: Approved,
        delta: Delta,
    ) -> Result<()> {
        tracing::debug!(org = %org, changes = approved.count(), "committing approved changes");
        match delta {
            Delta::Nothing => w.commit().await,
            Delta::Organisation => {
                q::bump_epoch(&mut w.tx, self.backend(), org).await?;
                w.commit().await?;
                self.recompile(org).await?;
                Ok(())
            }
            Delta::Users(users) => self.commit_user_rows(w, org, users).await,
        }
    }

    /// Bumps the epoch, reads the named users' rights after the transaction's writes, commits,
    /// and publishes the snapshot derived from them (or compiles, see `commit_rights_for`).
    /// Only `commit_rights_for` and the acceptance of an invitation (a person acting on their
    /// own account, with no administrator to approve) come here.
    pub(crate) async fn commit_user_rows(
        &self,
        mut w: store::WriteTx,
        org: OrgId,
        users: Vec<UserId>,
    ) -> Result<()> {
        let b = self.backend();
        let epoch = q::next_epoch(&mut w.tx, b, org).await?;
        let rows = store::user_rights::load_user_rights(&mut w.tx, b, org, &users).await?;
        w.commit().await?;
        if let Some(rows) = rows {
            if self.publish_users(org, epoch, &rows).await {
                return Ok(());
            }
        }
        self.recompile(org).await?;
        Ok(())
    }

    /// Publishes the snapshot of `epoch` derived from the published one and the changed users'
    /// rows, when the published one is exactly the epoch before. False: the caller compiles.
    async fn publish_users(&self, org: OrgId, epoch: i64, rows: &[UserRights]) -> bool {
        let _guard = self.compile_lock.lock().await;
        let Some(current) = self.snapshots.load().get(&org).cloned() else {
            return false;
        };
        if current.epoch >= epoch {
            // A compile that read after this commit already holds the change.
            return true;
        }
        if current.epoch != epoch - 1 {
            return false;
        }
        self.publish(org, epoch, current.snapshot.with_users(rows));
        self.incremental_updates
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        true
    }

    /// Recompiles every organization whose stored epoch moved (changes made by other nodes).
    pub async fn refresh_stale(&self) -> Result<usize> {
        let epochs = {
            let mut c = self.db.pool.acquire().await?;
            q::epochs(&mut c).await?
        };
        let mut n = 0;
        for (org, epoch) in epochs {
            let current = self.snapshots.load().get(&org).map(|s| s.epoch);
            if current != Some(epoch) {
                self.recompile(org).await?;
                n += 1;
            }
        }
        Ok(n)
    }

    /// Makes sure every organization has each application's built-in and default roles/scopes.
    async fn sync_catalogue_into_orgs(&self) -> Result<()> {
        let b = self.backend();
        let mut w = self.db.write().await?;
        let orgs = q::list_orgs(&mut w.tx, b).await?;
        let now = self.now();
        for org in &orgs {
            for app in &self.catalogue().apps {
                orgs::seed_application(&mut w.tx, b, org.id, app, now).await?;
            }
        }
        q::bump_all_epochs(&mut w.tx).await?;
        w.commit().await
    }
}

/// Compares an `If-Match` version with the stored one.
pub(crate) fn check_version(expected: Option<i64>, current: i64) -> Result<()> {
    match expected {
        Some(v) if v != current => Err(rolecall_core::Error::PreconditionFailed {
            expected: v,
            current,
        }
        .into()),
        _ => Ok(()),
    }
}

/// The answer when a conditional update matched no row: someone changed it meanwhile.
pub(crate) fn lost_race(entity: &str) -> Error {
    rolecall_core::Error::conflict(
        "concurrent_update",
        format!("the {entity} was changed by another request; reload and retry"),
    )
    .into()
}

pub(crate) fn new_id() -> uuid::Uuid {
    uuid::Uuid::new_v4()
}
