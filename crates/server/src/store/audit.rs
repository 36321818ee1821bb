//! SQL of the audit log: appending under the organisation's chain-head lock, filtered reads with
//! keyset paging, the chain head, pruning and the one-time sealing of migrated sign-in events.

use super::{get_i64, get_str, sql_for, Backend};
use crate::error::Result;
use rolecall_core::audit::{Entry, Party, GENESIS};
use sqlx::any::AnyRow;
use sqlx::AnyConnection;

/// The head of an organisation's chain and where its kept part starts.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct Head {
    /// Sequence number of the last entry (0 before the first).
    pub seq: i64,
    /// Hash of the last entry (the genesis hash before the first).
    pub hash: String,
    /// Sequence number of the first kept entry (entries before it were pruned).
    pub first_seq: i64,
    /// The hash the first kept entry links to: the genesis, or the last pruned entry's.
    pub anchor_hash: String,
}

/// What a read of the log narrows to; every field that is set must match.
#[derive(Debug, Clone, Default)]
pub struct Filter {
    /// The acting party's id (a user, credential or token name).
    pub actor: Option<String>,
    /// The target's id.
    pub target: Option<String>,
    /// Exact action names (any of them).
    pub actions: Vec<String>,
    /// From this time on (Unix ms, inclusive).
    pub from: Option<i64>,
    /// Before this time (Unix ms, exclusive).
    pub to: Option<i64>,
}

const COLUMNS: &str = "org_id, seq, id, at, actor_kind, actor_id, actor_name, action, target_kind, target_id, target_name, changes, detail, source_ip, user_agent, request_id, prev_hash, hash";

/// [`COLUMNS`] qualified by a table alias that replaces `{a}` (for joins).
pub(super) const ENTRY_COLUMNS: &str = "{a}.org_id, {a}.seq, {a}.id, {a}.at, {a}.actor_kind, {a}.actor_id, {a}.actor_name, {a}.action, {a}.target_kind, {a}.target_id, {a}.target_name, {a}.changes, {a}.detail, {a}.source_ip, {a}.user_agent, {a}.request_id, {a}.prev_hash, {a}.hash";

pub(super) fn entry(r: &AnyRow) -> Result<Entry> {
    Ok(Entry {
        org_id: get_str(r, "org_id")?,
        seq: get_i64(r, "seq")?,
        id: get_str(r, "id")?,
        at: get_i64(r, "at")?,
        actor: Party {
            kind: get_str(r, "actor_kind")?,
            id: get_str(r, "actor_id")?,
            name: get_str(r, "actor_name")?,
        },
        action: get_str(r, "action")?,
        target: Party {
            kind: get_str(r, "target_kind")?,
            id: get_str(r, "target_id")?,
            name: get_str(r, "target_name")?,
        },
        changes: get_str(r, "changes")?,
        detail: get_str(r, "detail")?,
        source_ip: get_str(r, "source_ip")?,
        user_agent: get_str(r, "user_agent")?,
        request_id: get_str(r, "request_id")?,
        prev_hash: get_str(r, "prev_hash")?,
        hash: get_str(r, "hash")?,
    })
}

fn head_of(r: &AnyRow) -> Result<Head> {
    Ok(Head {
        seq: get_i64(r, "seq")?,
        hash: get_str(r, "hash")?,
        first_seq: get_i64(r, "first_seq")?,
        anchor_hash: get_str(r, "anchor_hash")?,
    })
}

/// Creates an organisation's empty chain (in the transaction that creates the organisation).
pub async fn create_head(c: &mut AnyConnection, b: Backend, org: &str, now: i64) -> Result<()> {
    sqlx::query(&sql_for(
        b,
        "INSERT INTO audit_heads (org_id, seq, hash, first_seq, anchor_hash, updated_at) VALUES ($1, 0, $2, 1, $2, $3) ON CONFLICT (org_id) DO NOTHING",
    ))
    .bind(org)
    .bind(GENESIS)
    .bind(now)
    .execute(c)
    .await?;
    Ok(())
}

/// The head, read without locking.
pub async fn head(c: &mut AnyConnection, b: Backend, org: &str) -> Result<Head> {
    let row = sqlx::query(&sql_for(
        b,
        "SELECT seq, hash, first_seq, anchor_hash FROM audit_heads WHERE org_id = $1",
    ))
    .bind(org)
    .fetch_optional(c)
    .await?;
    match row {
        Some(r) => head_of(&r),
        None => Ok(Head {
            seq: 0,
            hash: GENESIS.into(),
            first_seq: 1,
            anchor_hash: GENESIS.into(),
        }),
    }
}

/// The head, locked until the transaction ends: the one lock every appender of `org` takes, so
/// two writers (threads or nodes) can never both link to the same predecessor. SQLite has one
/// writer at a time already.
async fn lock_head(c: &mut AnyConnection, b: Backend, org: &str, now: i64) -> Result<Head> {
    let lock = match b {
        Backend::Postgres => " FOR UPDATE",
        Backend::Sqlite => "",
    };
    let sql = sql_for(
        b,
        &format!(
            "SELECT seq, hash, first_seq, anchor_hash FROM audit_heads WHERE org_id = $1{lock}"
        ),
    );
    if let Some(r) = sqlx::query(&sql).bind(org).fetch_optional(&mut *c).await? {
        return head_of(&r);
    }
    create_head(c, b, org, now).await?;
    let r = sqlx::query(&sql).bind(org).fetch_one(&mut *c).await?;
    head_of(&r)
}

/// The head each organisation's chain had after this process's last commit, so that on SQLite
/// (one serving process per file) an append need not read it first. Only a hint: the link
/// trigger (migration 0016) refuses an entry that does not follow the stored head, and the
/// append then reads the head and links again.
#[derive(Debug, Default)]
pub struct KnownHeads(std::sync::Mutex<std::collections::HashMap<String, (i64, String)>>);

impl KnownHeads {
    fn get(&self, org: &str) -> Option<(i64, String)> {
        self.0.lock().ok()?.get(org).cloned()
    }

    /// Remembers a head that has been committed.
    pub(crate) fn set(&self, org: String, seq: i64, hash: String) {
        if let Ok(mut map) = self.0.lock() {
            map.insert(org, (seq, hash));
        }
    }
}

/// Rows per INSERT statement (18 values each), on both databases. PostgreSQL's link trigger
/// moves the head once per statement (migration 0019), so fewer, larger statements leave fewer
/// versions of the head row in a long transaction; SQLite binds them in order (`store::rows`),
/// so a long statement costs it nothing more per value. An import flushes 2,048 entries at a
/// time (`directory::bulk::AUDIT_FLUSH`): two statements.
const ROWS_PER_INSERT: usize = 1024;

/// An entry waiting in its transaction to be linked to its chain, with its hash over all but
/// the link when a drafting thread took it.
pub(crate) struct Queued {
    pub entry: Entry,
    pub unlinked: Option<rolecall_core::audit::Unlinked>,
}

/// The message of the link trigger's refusal (migrations/0016_audit_link.*.sql).
const HEAD_MOVED: &str = "audit chain head moved";

/// Links `entries` after the organisation's head and writes them; the link trigger moves the
/// head. Called last in the transaction of the change they describe, so the head lock is the
/// last lock taken and is held only until commit. Returns the new head (seq, hash), which the
/// caller hands to [`KnownHeads::set`] once the transaction has committed.
///
/// On SQLite the head last committed by this process is tried first (one statement per
/// append); on PostgreSQL, where several nodes write, the head is read and locked
/// (`FOR UPDATE`) first, which serialises the organisation's writers across nodes.
pub(crate) async fn append(
    c: &mut AnyConnection,
    b: Backend,
    org: &str,
    entries: &mut [Queued],
    now: i64,
    known: &KnownHeads,
) -> Result<Option<(i64, String)>> {
    if entries.is_empty() {
        return Ok(None);
    }
    if b == Backend::Sqlite {
        if let Some((seq, hash)) = known.get(org) {
            link(org, entries, seq, &hash);
            match insert_rows(c, b, entries).await {
                Ok(()) => return Ok(tail(entries)),
                // Written by someone else (another tool on the file) or rolled back: re-read.
                Err(e) if moved_head(&e) => {}
                Err(e) => return Err(e.into()),
            }
        }
    }
    let head = lock_head(c, b, org, now).await?;
    link(org, entries, head.seq, &head.hash);
    insert_rows(c, b, entries).await?;
    Ok(tail(entries))
}

/// Numbers and hashes `entries` as the chain's next entries after (seq, hash). An entry
/// hashed before it was linked is finished from that hash, unless it names another
/// organisation than the chain's (then the hash taken covers other bytes).
fn link(org: &str, entries: &mut [Queued], mut seq: i64, prev: &str) {
    let mut prev = prev.to_string();
    for q in entries.iter_mut() {
        seq += 1;
        let e = &mut q.entry;
        e.seq = seq;
        match &q.unlinked {
            Some(u) if e.org_id == org => e.seal_unlinked(u, &prev),
            _ => {
                e.org_id = org.to_string();
                e.seal(&prev);
            }
        }
        prev = e.hash.clone();
    }
}

fn tail(entries: &[Queued]) -> Option<(i64, String)> {
    entries.last().map(|q| (q.entry.seq, q.entry.hash.clone()))
}

fn moved_head(e: &sqlx::Error) -> bool {
    e.as_database_error()
        .is_some_and(|d| d.message().contains(HEAD_MOVED))
}

/// Inserts linked entries, a few hundred rows per statement. The values are bound from the
/// entries as they stand (the driver takes its own copy), not copied into rows first: an
/// entry's `changes` text alone is often a kilobyte.
async fn insert_rows(
    c: &mut AnyConnection,
    b: Backend,
    entries: &[Queued],
) -> std::result::Result<(), sqlx::Error> {
    let cols: Vec<&str> = COLUMNS.split(',').map(str::trim).collect();
    for chunk in entries.chunks(ROWS_PER_INSERT) {
        let sql = super::rows::insert_statement(b, "audit_log", &cols, chunk.len(), "");
        let mut q = sqlx::query(&sql);
        for Queued { entry: e, .. } in chunk {
            q = q
                .bind(e.org_id.as_str())
                .bind(e.seq)
                .bind(e.id.as_str())
                .bind(e.at)
                .bind(e.actor.kind.as_str())
                .bind(e.actor.id.as_str())
                .bind(e.actor.name.as_str())
                .bind(e.action.as_str())
                .bind(e.target.kind.as_str())
                .bind(e.target.id.as_str())
                .bind(e.target.name.as_str())
                .bind(e.changes.as_str())
                .bind(e.detail.as_str())
                .bind(e.source_ip.as_str())
                .bind(e.user_agent.as_str())
                .bind(e.request_id.as_str())
                .bind(e.prev_hash.as_str())
                .bind(e.hash.as_str());
        }
        q.execute(&mut *c).await?;
    }
    Ok(())
}

/// Which way a page runs from its cursor.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Order {
    /// Newest first, entries before the cursor (browsing).
    NewestFirst,
    /// Oldest first, entries after the cursor (export, verification).
    OldestFirst,
}

/// One page of matching entries from `cursor` (a sequence number, exclusive); filtered reads
/// go through the batch-filled index tables (audit_index.rs).
pub async fn page(
    c: &mut AnyConnection,
    b: Backend,
    org: &str,
    f: &Filter,
    order: Order,
    cursor: Option<i64>,
    limit: i64,
) -> Result<Vec<Entry>> {
    super::audit_index::page(c, b, org, f, order, cursor, limit).await
}

/// The sequence number of the entry carrying `hash`, if any (naming a broken link).
pub async fn seq_of_hash(
    c: &mut AnyConnection,
    b: Backend,
    org: &str,
    hash: &str,
) -> Result<Option<i64>> {
    let row = sqlx::query(&sql_for(
        b,
        "SELECT seq FROM audit_log WHERE org_id = $1 AND hash = $2",
    ))
    .bind(org)
    .bind(hash)
    .fetch_optional(c)
    .await?;
    row.map(|r| get_i64(&r, "seq")).transpose()
}

/// Removes the entries older than `before` (Unix ms), keeping the chain verifiable: the head's
/// anchor becomes the last removed entry's hash. Returns (count, last removed seq, its hash);
/// the caller records the pruning in the same transaction. Never removes the newest entry.
pub async fn prune(
    c: &mut AnyConnection,
    b: Backend,
    org: &str,
    before: i64,
    now: i64,
) -> Result<Option<(i64, i64, String)>> {
    let head = lock_head(c, b, org, now).await?;
    let last = sqlx::query(&sql_for(
        b,
        "SELECT seq, hash FROM audit_log WHERE org_id = $1 AND at < $2 AND seq < $3 ORDER BY seq DESC LIMIT 1",
    ))
    .bind(org)
    .bind(before)
    .bind(head.seq)
    .fetch_optional(&mut *c)
    .await?;
    let Some(last) = last else { return Ok(None) };
    let (seq, hash) = (get_i64(&last, "seq")?, get_str(&last, "hash")?);
    super::audit_index::forget(c, b, org, seq).await?;
    let removed = sqlx::query(&sql_for(
        b,
        "DELETE FROM audit_log WHERE org_id = $1 AND seq <= $2",
    ))
    .bind(org)
    .bind(seq)
    .execute(&mut *c)
    .await?
    .rows_affected();
    sqlx::query(&sql_for(
        b,
        "UPDATE audit_heads SET first_seq = $1, anchor_hash = $2 WHERE org_id = $3",
    ))
    .bind(seq + 1)
    .bind(&hash)
    .bind(org)
    .execute(c)
    .await?;
    Ok(Some((removed as i64, seq, hash)))
}

/// Organisations with entries not yet hashed (sign-in events migrated by 0008).
pub async fn unsealed_orgs(c: &mut AnyConnection, b: Backend) -> Result<Vec<String>> {
    let rows = sqlx::query(&sql_for(
        b,
        "SELECT DISTINCT org_id FROM audit_log WHERE hash = ''",
    ))
    .fetch_all(c)
    .await?;
    rows.iter().map(|r| get_str(r, "org_id")).collect()
}

/// Hashes an organisation's migrated entries into its chain (once, right after the migration,
/// before anything else appends).
pub async fn seal_migrated(c: &mut AnyConnection, b: Backend, org: &str, now: i64) -> Result<()> {
    let head = lock_head(c, b, org, now).await?;
    let mut prev = head.hash;
    let mut last = head.seq;
    let rows = sqlx::query(&sql_for(
        b,
        &format!("SELECT {COLUMNS} FROM audit_log WHERE org_id = $1 AND hash = '' ORDER BY seq"),
    ))
    .bind(org)
    .fetch_all(&mut *c)
    .await?;
    let update = sql_for(
        b,
        "UPDATE audit_log SET prev_hash = $1, hash = $2 WHERE org_id = $3 AND seq = $4",
    );
    for r in &rows {
        let mut e = entry(r)?;
        e.seal(&prev);
        sqlx::query(&update)
            .bind(&e.prev_hash)
            .bind(&e.hash)
            .bind(org)
            .bind(e.seq)
            .execute(&mut *c)
            .await?;
        prev = e.hash;
        last = e.seq;
    }
    sqlx::query(&sql_for(
        b,
        "UPDATE audit_heads SET seq = $1, hash = $2, updated_at = $3 WHERE org_id = $4",
    ))
    .bind(last)
    .bind(&prev)
    .bind(now)
    .bind(org)
    .execute(c)
    .await?;
    Ok(())
}

/// Every organisation with a chain (for `verify` over all of them and the retention job).
pub async fn orgs_with_chains(c: &mut AnyConnection, b: Backend) -> Result<Vec<String>> {
    let rows = sqlx::query(&sql_for(
        b,
        "SELECT org_id FROM audit_heads ORDER BY org_id",
    ))
    .fetch_all(c)
    .await?;
    rows.iter().map(|r| get_str(r, "org_id")).collect()
}
