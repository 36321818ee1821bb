//! The audit log's query indexes (by actor, target, action and time): tables of their own,
//! filled in batches by a background flush instead of inside every change's commit, and the
//! filtered reads that use them.
//!
//! Why: with SQLite's `synchronous = FULL` a commit pays for every page it dirties. Four
//! secondary indexes on the log made each change's entry dirty four more B-trees, about a fifth
//! of a typical change (BENCHMARKS.md, "Audit log"). Written in batches, one index page holds
//! the rows of many entries and is synced once for all of them.
//!
//! Each organisation's mark (`audit_index_marks.seq`) is the last entry the index tables are
//! complete through. A filtered read is the indexed part (entries up to the mark, found through
//! an index table) plus the tail (entries after the mark, scanned from the log's primary key),
//! so its result does not depend on when the flush last ran; the tail stays short because the
//! server flushes every [`FLUSH_EVERY`] entries and every [`FLUSH_INTERVAL`].

use super::audit::{entry, Filter, Order, ENTRY_COLUMNS};
use super::{get_i64, get_str, sql_for, Backend};
use crate::error::Result;
use rolecall_core::audit::Entry;
use sqlx::AnyConnection;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

/// Entries appended by this process since the last flush that make the flush run early.
pub const FLUSH_EVERY: usize = 256;

/// How often the server flushes whatever is pending (also what another node left behind).
pub const FLUSH_INTERVAL: Duration = Duration::from_secs(1);

/// Entries indexed per flush transaction: bounds how long a flush holds SQLite's writer.
pub const FLUSH_BATCH: i64 = 1_000;

/// Entries appended and not yet indexed, as this process counts them; wakes the flush.
#[derive(Debug, Default)]
pub struct Backlog {
    appended: AtomicUsize,
    full: tokio::sync::Notify,
}

impl Backlog {
    /// Counts `n` committed entries; wakes the flush once [`FLUSH_EVERY`] have piled up.
    pub(crate) fn add(&self, n: usize) {
        if n > 0 && self.appended.fetch_add(n, Ordering::AcqRel) + n >= FLUSH_EVERY {
            self.full.notify_one();
        }
    }

    /// Waits until [`FLUSH_EVERY`] entries are pending or `period` has passed, then starts a
    /// new count (entries committed from now on belong to the next flush).
    pub async fn wait(&self, period: Duration) {
        let _ = tokio::time::timeout(period, self.full.notified()).await;
        self.appended.store(0, Ordering::Release);
    }
}

/// The index table a filter is read through: the most selective field it sets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Index {
    Actor,
    Target,
    Action,
    Time,
}

impl Index {
    fn for_filter(f: &Filter) -> Option<Index> {
        if f.actor.is_some() {
            Some(Index::Actor)
        } else if f.target.is_some() {
            Some(Index::Target)
        } else if !f.actions.is_empty() {
            Some(Index::Action)
        } else if f.from.is_some() || f.to.is_some() {
            Some(Index::Time)
        } else {
            None
        }
    }

    fn table(self) -> &'static str {
        match self {
            Index::Actor => "audit_by_actor",
            Index::Target => "audit_by_target",
            Index::Action => "audit_by_action",
            Index::Time => "audit_by_time",
        }
    }
}

enum Bind {
    Text(String),
    Int(i64),
}

/// A statement under construction: text with `$n` placeholders and the values in order.
#[derive(Default)]
struct Statement {
    text: String,
    binds: Vec<Bind>,
}

impl Statement {
    /// Appends ` AND {column} {op} $n` binding `v`.
    fn and(&mut self, column: &str, op: &str, v: Bind) {
        self.binds.push(v);
        self.text
            .push_str(&format!(" AND {column} {op} ${}", self.binds.len()));
    }

    /// Appends ` AND {column} IN ($n, …)`.
    fn and_in(&mut self, column: &str, values: &[String]) {
        let marks: Vec<String> = values
            .iter()
            .map(|v| {
                self.binds.push(Bind::Text(v.clone()));
                format!("${}", self.binds.len())
            })
            .collect();
        self.text
            .push_str(&format!(" AND {column} IN ({})", marks.join(", ")));
    }

    /// Every condition of `f`, on the log's columns as `alias` names them.
    fn and_filter(&mut self, alias: &str, f: &Filter) {
        if let Some(a) = &f.actor {
            self.and(&format!("{alias}.actor_id"), "=", Bind::Text(a.clone()));
        }
        if let Some(t) = &f.target {
            self.and(&format!("{alias}.target_id"), "=", Bind::Text(t.clone()));
        }
        if let Some(from) = f.from {
            self.and(&format!("{alias}.at"), ">=", Bind::Int(from));
        }
        if let Some(to) = f.to {
            self.and(&format!("{alias}.at"), "<", Bind::Int(to));
        }
        if !f.actions.is_empty() {
            self.and_in(&format!("{alias}.action"), &f.actions);
        }
    }

    /// The condition of `f` on the field `index` holds, on the index table `i`.
    fn and_index(&mut self, index: Index, f: &Filter) {
        match index {
            Index::Actor => {
                let a = f.actor.clone().unwrap_or_default();
                self.and("i.actor_id", "=", Bind::Text(a));
            }
            Index::Target => {
                let t = f.target.clone().unwrap_or_default();
                self.and("i.target_id", "=", Bind::Text(t));
            }
            Index::Action => self.and_in("i.action", &f.actions),
            Index::Time => {
                if let Some(from) = f.from {
                    self.and("i.at", ">=", Bind::Int(from));
                }
                if let Some(to) = f.to {
                    self.and("i.at", "<", Bind::Int(to));
                }
            }
        }
    }

    /// Keeps `column` within `(above, upto]`.
    fn and_window(&mut self, column: &str, w: Window) {
        if let Some(lo) = w.above {
            self.and(column, ">", Bind::Int(lo));
        }
        if let Some(hi) = w.upto {
            self.and(column, "<=", Bind::Int(hi));
        }
    }

    async fn entries(self, c: &mut AnyConnection, b: Backend) -> Result<Vec<Entry>> {
        let sql = sql_for(b, &self.text);
        let mut q = sqlx::query(&sql);
        for v in self.binds {
            q = match v {
                Bind::Text(t) => q.bind(t),
                Bind::Int(i) => q.bind(i),
            };
        }
        q.fetch_all(c).await?.iter().map(entry).collect()
    }
}

/// Sequence numbers `above < seq <= upto` (either bound open).
#[derive(Debug, Clone, Copy, Default)]
struct Window {
    above: Option<i64>,
    upto: Option<i64>,
}

impl Window {
    fn is_empty(self) -> bool {
        matches!((self.above, self.upto), (Some(lo), Some(hi)) if lo >= hi)
    }

    /// The part at or before `mark`.
    fn through(self, mark: i64) -> Window {
        Window {
            upto: Some(self.upto.map_or(mark, |hi| hi.min(mark))),
            ..self
        }
    }

    /// The part after `mark`.
    fn after(self, mark: i64) -> Window {
        Window {
            above: Some(self.above.map_or(mark, |lo| lo.max(mark))),
            ..self
        }
    }
}

/// Through which entry an organisation's index tables are complete (0: none).
pub async fn mark(c: &mut AnyConnection, b: Backend, org: &str) -> Result<i64> {
    let row = sqlx::query(&sql_for(
        b,
        "SELECT seq FROM audit_index_marks WHERE org_id = $1",
    ))
    .bind(org)
    .fetch_optional(c)
    .await?;
    row.map_or(Ok(0), |r| get_i64(&r, "seq"))
}

fn direction(order: Order) -> &'static str {
    match order {
        Order::NewestFirst => "DESC",
        Order::OldestFirst => "ASC",
    }
}

/// Entries of `org` in window `w` read from the log itself, in `order`.
async fn scan(
    c: &mut AnyConnection,
    b: Backend,
    org: &str,
    f: &Filter,
    order: Order,
    w: Window,
    limit: i64,
) -> Result<Vec<Entry>> {
    let mut s = Statement::default();
    s.binds.push(Bind::Text(org.to_string()));
    s.text = format!(
        "SELECT {} FROM audit_log a WHERE a.org_id = $1",
        ENTRY_COLUMNS.replace("{a}", "a")
    );
    s.and_filter("a", f);
    s.and_window("a.seq", w);
    s.text.push_str(&format!(
        " ORDER BY a.seq {} LIMIT {limit}",
        direction(order)
    ));
    s.entries(c, b).await
}

/// Entries of `org` in window `w` (which must end at or before the mark) found through
/// `index`, in `order`. The index table drives the join (`CROSS JOIN` keeps SQLite from
/// scanning the log instead), so a page stops after `limit` matches.
#[allow(clippy::too_many_arguments)]
async fn indexed(
    c: &mut AnyConnection,
    b: Backend,
    org: &str,
    index: Index,
    f: &Filter,
    order: Order,
    w: Window,
    limit: i64,
) -> Result<Vec<Entry>> {
    let mut s = Statement::default();
    s.binds.push(Bind::Text(org.to_string()));
    s.text = format!(
        "SELECT {} FROM {} i CROSS JOIN audit_log a WHERE i.org_id = $1 AND a.org_id = i.org_id AND a.seq = i.seq",
        ENTRY_COLUMNS.replace("{a}", "a"),
        index.table()
    );
    s.and_index(index, f);
    s.and_window("i.seq", w);
    s.and_filter("a", f);
    s.text.push_str(&format!(
        " ORDER BY i.seq {} LIMIT {limit}",
        direction(order)
    ));
    s.entries(c, b).await
}

/// One page of entries of `org` matching `f`, in `order`, from `cursor` (a sequence number,
/// exclusive): newest first the tail comes before the indexed part, oldest first after it.
pub async fn page(
    c: &mut AnyConnection,
    b: Backend,
    org: &str,
    f: &Filter,
    order: Order,
    cursor: Option<i64>,
    limit: i64,
) -> Result<Vec<Entry>> {
    let limit = limit.clamp(1, 100_000);
    let window = match order {
        Order::NewestFirst => Window {
            above: None,
            upto: cursor.map(|c| c.saturating_sub(1)),
        },
        Order::OldestFirst => Window {
            above: cursor,
            upto: None,
        },
    };
    let Some(index) = Index::for_filter(f) else {
        return scan(c, b, org, f, order, window, limit).await;
    };
    // Read once: a flush committing meanwhile only adds index rows after this mark, and the
    // tail below is read from the log, so nothing is missed or read twice.
    let mark = mark(c, b, org).await?;
    let (tail, indexed_part) = (window.after(mark), window.through(mark));
    let mut out = Vec::new();
    let first_tail = order == Order::NewestFirst;
    for is_tail in [first_tail, !first_tail] {
        let want = limit - out.len() as i64;
        if want <= 0 {
            break;
        }
        let w = if is_tail { tail } else { indexed_part };
        if w.is_empty() {
            continue;
        }
        let got = if is_tail {
            scan(c, b, org, f, order, w, want).await?
        } else {
            indexed(c, b, org, index, f, order, w, want).await?
        };
        out.extend(got);
    }
    Ok(out)
}

/// Rows per INSERT into an index table (3 values each).
const ROWS_PER_INSERT: usize = 300;

/// Indexes up to `batch` entries of `org` after its mark and moves the mark past them, in the
/// caller's write transaction; returns how many. On PostgreSQL the mark row is locked first, so
/// nodes flushing at once take turns and index nothing twice.
pub async fn flush(c: &mut AnyConnection, b: Backend, org: &str, batch: i64) -> Result<usize> {
    sqlx::query(&sql_for(
        b,
        "INSERT INTO audit_index_marks (org_id, seq) VALUES ($1, 0) ON CONFLICT (org_id) DO NOTHING",
    ))
    .bind(org)
    .execute(&mut *c)
    .await?;
    let lock = match b {
        Backend::Postgres => " FOR UPDATE",
        Backend::Sqlite => "",
    };
    let row = sqlx::query(&sql_for(
        b,
        &format!("SELECT seq FROM audit_index_marks WHERE org_id = $1{lock}"),
    ))
    .bind(org)
    .fetch_one(&mut *c)
    .await?;
    let mark = get_i64(&row, "seq")?;
    let rows = sqlx::query(&sql_for(
        b,
        &format!(
            "SELECT seq, at, actor_id, target_id, action FROM audit_log WHERE org_id = $1 AND seq > $2 ORDER BY seq LIMIT {}",
            batch.max(1)
        ),
    ))
    .bind(org)
    .bind(mark)
    .fetch_all(&mut *c)
    .await?;
    let Some(last) = rows.last() else {
        return Ok(0);
    };
    let last = get_i64(last, "seq")?;
    for (table, column) in [
        ("audit_by_actor", "actor_id"),
        ("audit_by_target", "target_id"),
        ("audit_by_action", "action"),
        ("audit_by_time", "at"),
    ] {
        for chunk in rows.chunks(ROWS_PER_INSERT) {
            let values: Vec<String> = (0..chunk.len())
                .map(|r| format!("(${}, ${}, ${})", 3 * r + 1, 3 * r + 2, 3 * r + 3))
                .collect();
            let sql = sql_for(
                b,
                &format!(
                    "INSERT INTO {table} (org_id, {column}, seq) VALUES {} ON CONFLICT DO NOTHING",
                    values.join(", ")
                ),
            );
            let mut q = sqlx::query(&sql);
            for r in chunk {
                q = q.bind(org);
                q = if column == "at" {
                    q.bind(get_i64(r, "at")?)
                } else {
                    q.bind(get_str(r, column)?)
                };
                q = q.bind(get_i64(r, "seq")?);
            }
            q.execute(&mut *c).await?;
        }
    }
    sqlx::query(&sql_for(
        b,
        "UPDATE audit_index_marks SET seq = $1 WHERE org_id = $2",
    ))
    .bind(last)
    .bind(org)
    .execute(c)
    .await?;
    Ok(rows.len())
}

/// Organisations whose chain has entries after their mark.
pub async fn pending_orgs(c: &mut AnyConnection, b: Backend) -> Result<Vec<String>> {
    let rows = sqlx::query(&sql_for(
        b,
        "SELECT h.org_id FROM audit_heads h LEFT JOIN audit_index_marks m ON m.org_id = h.org_id WHERE h.seq > COALESCE(m.seq, 0) ORDER BY h.org_id",
    ))
    .fetch_all(c)
    .await?;
    rows.iter().map(|r| get_str(r, "org_id")).collect()
}

/// Removes the index rows of the entries about to be pruned (`seq <= through`), in the
/// pruning's transaction and before the entries themselves, looked up row by row.
pub async fn forget(c: &mut AnyConnection, b: Backend, org: &str, through: i64) -> Result<()> {
    for (table, column) in [
        ("audit_by_actor", "actor_id"),
        ("audit_by_target", "target_id"),
        ("audit_by_action", "action"),
        ("audit_by_time", "at"),
    ] {
        sqlx::query(&sql_for(
            b,
            &format!(
                "DELETE FROM {table} WHERE (org_id, {column}, seq) IN (SELECT org_id, {column}, seq FROM audit_log WHERE org_id = $1 AND seq <= $2)"
            ),
        ))
        .bind(org)
        .bind(through)
        .execute(&mut *c)
        .await?;
    }
    Ok(())
}
