//! The audit log's use cases: recording what a change did (queued on the write transaction and
//! chained at its commit, see `store::WriteTx`), reading and exporting the log, verifying a
//! chain, and pruning by the organisation's retention setting.
//!
//! Architecture Invariant: every change of state records at least one entry in the transaction
//! that makes it; the actor is derived in one place ([`actor_of`]) from who acts.

use super::signin::ClientInfo;
use super::{new_id, Directory};
use super::{OrgAdmin, Principal};
use crate::error::Result;
use crate::store::audit::{self as aq, Filter, Head, Order};
use crate::store::audit_index;
use crate::store::WriteTx;
use rolecall_core::audit::{
    changes_text, classify_unlinked, diff, Changes, Check, Entry, Flaw, Party, Verifier,
};
use rolecall_core::model::{OrgId, Organization, UserId};
use serde::Serialize;
use sqlx::AnyConnection;

tokio::task_local! {
    /// Where the request being served came from. Set once per request by the HTTP layer, read
    /// when an entry is recorded: source address, agent and request id belong to every entry,
    /// and threading them through every use case's signature would add nothing but noise.
    static REQUEST: ClientInfo;
}

/// Runs `f` (a request's handling) with `client` as the origin of whatever it records.
pub async fn in_request<F: std::future::Future>(client: ClientInfo, f: F) -> F::Output {
    REQUEST.scope(client, f).await
}

/// The origin of the current request, or "local" for in-process commands and jobs.
pub fn current_client() -> ClientInfo {
    REQUEST
        .try_with(Clone::clone)
        .unwrap_or_else(|_| ClientInfo::local())
}

/// What a use case says about its change: the action, what it touched (as named at the time)
/// and the fields before and after.
#[derive(Debug, Clone)]
pub(crate) struct Record {
    action: &'static str,
    target: Party,
    changes: Changes,
    detail: String,
}

impl Record {
    pub(crate) fn new(action: &'static str, target: Party) -> Record {
        Record {
            action,
            target,
            changes: Changes::new(),
            detail: String::new(),
        }
    }

    /// The fields that differ between two serialisable states (`None`: did not exist).
    pub(crate) fn between<T: Serialize>(mut self, before: Option<&T>, after: Option<&T>) -> Record {
        let v = |x: Option<&T>| {
            x.and_then(|x| serde_json::to_value(x).ok())
                .unwrap_or(serde_json::Value::Null)
        };
        self.changes.extend(diff(&v(before), &v(after)));
        self
    }

    pub(crate) fn changes(mut self, changes: Changes) -> Record {
        self.changes.extend(changes);
        self
    }

    pub(crate) fn detail(mut self, detail: impl Into<String>) -> Record {
        self.detail = detail.into();
        self
    }
}

/// Targets, named as the log shows them.
pub(crate) fn user_target(u: &rolecall_core::model::User) -> Party {
    Party::new("user", u.id, u.email.as_str())
}

/// The one mapping from who acts to the log's actor (kind and id; names are looked up when
/// recorded). New kinds of principal (SCIM clients, …) are added here.
pub(crate) fn actor_of(principal: &Principal) -> Party {
    match principal {
        Principal::Operator { label } => match label.strip_prefix("token ") {
            Some(name) => Party::new("token", name, name),
            None => Party::new("operator", label, label.as_str()),
        },
        // Named as authenticated; `name_actor` looks up only what came without a name.
        Principal::Person(u, email) => Party::new("person", u, email.as_str()),
        Principal::Service {
            credential, name, ..
        } => Party::new("credential", credential, name.as_str()),
        Principal::Server { job } => Party::new("server", job, job.as_str()),
        // Issue 14: SCIM changes are recorded as the SCIM client that made them.
        Principal::Scim { client, name, .. } => Party::new("scim_client", client, name.as_str()),
        Principal::Policy { name } => Party::new("policy", name, name.as_str()),
    }
}

/// An entry awaiting its chain position (no I/O: the import's batches draft theirs on a
/// blocking thread while the database writes the rows they describe).
pub(crate) fn draft(org: OrgId, at: i64, actor: Party, client: &ClientInfo, r: Record) -> Entry {
    Entry {
        org_id: org.to_string(),
        seq: 0,
        id: new_id().to_string(),
        at,
        actor,
        action: r.action.to_string(),
        target: r.target,
        changes: changes_text(&r.changes),
        detail: r.detail,
        source_ip: client.ip.chars().take(64).collect(),
        user_agent: client.user_agent.chars().take(256).collect(),
        request_id: client.request_id.chars().take(128).collect(),
        prev_hash: String::new(),
        hash: String::new(),
    }
}

/// Fills in the display name of a person or credential actor as it is now.
async fn name_actor(
    c: &mut AnyConnection,
    b: crate::store::Backend,
    actor: &mut Party,
) -> Result<()> {
    if !actor.name.is_empty() {
        return Ok(());
    }
    let sql = match actor.kind.as_str() {
        "person" => "SELECT email AS name FROM users WHERE id = $1",
        "credential" => "SELECT name FROM api_credentials WHERE id = $1",
        _ => return Ok(()),
    };
    let row = sqlx::query(&crate::store::sql_for(b, sql))
        .bind(&actor.id)
        .fetch_optional(c)
        .await?;
    if let Some(r) = row {
        actor.name = crate::store::get_str(&r, "name")?;
    }
    Ok(())
}

/// An entry as the API and exports show it. To recompute `hash` outside, hash the JSON array
/// `["rolecall-audit-v1", org_id, id, at (as a string), actor.kind, actor.id, actor.name,
/// action, target.kind, target.id, target.name, changes (compact JSON, keys sorted), detail,
/// source_ip, user_agent, request_id, prev_hash]` with SHA-256 (`rolecall_core::audit`).
#[derive(Debug, Clone, Serialize, serde::Deserialize, utoipa::ToSchema)]
pub struct EntryView {
    pub org_id: String,
    /// Position in the organisation's log (the paging cursor).
    pub seq: i64,
    pub id: String,
    /// Unix milliseconds.
    pub at: i64,
    pub actor: Party,
    /// What happened, e.g. `user_updated`, `member_added`, `sign_in_failed`.
    pub action: String,
    pub target: Party,
    /// Field → `{before, after}`; never a secret.
    #[schema(value_type = Object)]
    pub changes: serde_json::Value,
    pub detail: String,
    pub source_ip: String,
    pub user_agent: String,
    pub request_id: String,
    pub prev_hash: String,
    pub hash: String,
}

impl From<Entry> for EntryView {
    fn from(e: Entry) -> EntryView {
        EntryView {
            changes: serde_json::from_str(&e.changes).unwrap_or(serde_json::Value::Null),
            org_id: e.org_id,
            seq: e.seq,
            id: e.id,
            at: e.at,
            actor: e.actor,
            action: e.action,
            target: e.target,
            detail: e.detail,
            source_ip: e.source_ip,
            user_agent: e.user_agent,
            request_id: e.request_id,
            prev_hash: e.prev_hash,
            hash: e.hash,
        }
    }
}

/// One page of the log.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct LogPage {
    pub items: Vec<EntryView>,
    /// Pass as `cursor` for the next (older) page; absent on the last page.
    pub next_cursor: Option<String>,
    pub head: Head,
}

/// The outcome of walking a chain.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Verification {
    pub organization: String,
    /// True when every kept entry verifies and the chain reaches its head.
    pub ok: bool,
    /// Entries verified before the first flaw (all of them when `ok`).
    pub checked: u64,
    pub head: Head,
    /// The first edited, removed or reordered entry, or the truncation.
    pub flaw: Option<Flaw>,
}

/// What a retention run removed (also the changes of its own `audit_pruned` entry).
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Pruned {
    pub removed: i64,
    /// The last removed entry: the kept chain now starts right after it and links to its hash.
    pub through_seq: i64,
    /// The last removed entry's hash (named so the log's secret filter, which drops fields
    /// named like hashes, keeps it in the pruning's own entry).
    pub anchor: String,
}

impl Directory {
    /// Records a change made by `admin` (queued on `w`, chained at commit).
    pub(crate) async fn record(&self, w: &mut WriteTx, admin: &OrgAdmin, r: Record) -> Result<()> {
        self.record_with(w, admin, &current_client(), r).await
    }

    /// Who `admin` is in the log, named (one lookup at most), for a caller that drafts many
    /// entries itself.
    pub(crate) async fn acting_party(&self, w: &mut WriteTx, admin: &OrgAdmin) -> Result<Party> {
        let mut actor = actor_of(&admin.principal);
        name_actor(&mut w.tx, self.backend(), &mut actor).await?;
        Ok(actor)
    }

    /// As [`Directory::record`], for use cases told explicitly where the request came from.
    pub(crate) async fn record_with(
        &self,
        w: &mut WriteTx,
        admin: &OrgAdmin,
        client: &ClientInfo,
        r: Record,
    ) -> Result<()> {
        let mut actor = actor_of(&admin.principal);
        name_actor(&mut w.tx, self.backend(), &mut actor).await?;
        let entry = draft(admin.org.id, self.now(), actor, client, r);
        w.record(entry);
        Ok(())
    }

    /// Records a change whose actor is not an administrator: a person acting on their own
    /// account (`Some(user)`), or someone unknown (`None`: a failed sign-in with an unknown
    /// login), from `client`.
    pub(crate) async fn record_self(
        &self,
        w: &mut WriteTx,
        org: OrgId,
        person: Option<UserId>,
        client: &ClientInfo,
        r: Record,
    ) -> Result<()> {
        let mut actor = match person {
            Some(u) => Party::new("person", u, ""),
            None => Party::new("anonymous", "", ""),
        };
        name_actor(&mut w.tx, self.backend(), &mut actor).await?;
        let entry = draft(org, self.now(), actor, client, r);
        w.record(entry);
        Ok(())
    }

    /// The log, newest first, narrowed by `filter`, from `cursor` on.
    pub async fn audit_log(
        &self,
        org: &Organization,
        filter: &Filter,
        cursor: Option<i64>,
        limit: i64,
    ) -> Result<LogPage> {
        let b = self.backend();
        let mut c = self.db.pool.acquire().await?;
        let org_id = org.id.to_string();
        let head = aq::head(&mut c, b, &org_id).await?;
        let items = aq::page(
            &mut c,
            b,
            &org_id,
            filter,
            Order::NewestFirst,
            cursor,
            limit + 1,
        )
        .await?;
        let more = items.len() as i64 > limit;
        let items: Vec<EntryView> = items
            .into_iter()
            .take(limit as usize)
            .map(EntryView::from)
            .collect();
        let next_cursor = if more {
            items.last().map(|e| e.seq.to_string())
        } else {
            None
        };
        Ok(LogPage {
            items,
            next_cursor,
            head,
        })
    }

    /// Oldest-first entries after `after` (exports stream these page by page).
    pub async fn audit_page(
        &self,
        org: OrgId,
        filter: &Filter,
        after: Option<i64>,
        limit: i64,
    ) -> Result<Vec<Entry>> {
        let mut c = self.db.pool.acquire().await?;
        aq::page(
            &mut c,
            self.backend(),
            &org.to_string(),
            filter,
            Order::OldestFirst,
            after,
            limit,
        )
        .await
    }

    pub async fn audit_head(&self, org: &Organization) -> Result<Head> {
        let mut c = self.db.pool.acquire().await?;
        aq::head(&mut c, self.backend(), &org.id.to_string()).await
    }

    /// Walks the organisation's kept chain from its anchor to its head. `known` is a head
    /// published earlier (`seq`, `hash`): the chain must still contain it, which proves no
    /// truncation back past it even if the stored head was rewritten too.
    pub async fn verify_audit(
        &self,
        org: &Organization,
        known: Option<(i64, String)>,
    ) -> Result<Verification> {
        let b = self.backend();
        let org_id = org.id.to_string();
        let mut c = self.db.pool.acquire().await?;
        let head = aq::head(&mut c, b, &org_id).await?;
        let mut v = Verifier::new(&head.anchor_hash);
        let mut cursor: Option<i64> = None;
        let mut flaw: Option<Flaw> = None;
        let mut known_seen = false;
        'walk: loop {
            let page = aq::page(
                &mut c,
                b,
                &org_id,
                &Filter::default(),
                Order::OldestFirst,
                cursor,
                10_000,
            )
            .await?;
            let Some(last) = page.last() else { break };
            cursor = Some(last.seq);
            for e in &page {
                match v.check(e) {
                    Check::Ok => {}
                    Check::Flaw(f) => {
                        flaw = Some(f);
                        break 'walk;
                    }
                    Check::Unlinked { seq, found_prev } => {
                        let at = aq::seq_of_hash(&mut c, b, &org_id, &found_prev).await?;
                        flaw = Some(classify_unlinked(seq, at));
                        break 'walk;
                    }
                }
                if let Some((kseq, khash)) = &known {
                    if e.seq == *kseq {
                        known_seen = true;
                        if &e.hash != khash {
                            flaw = Some(Flaw {
                                seq: e.seq,
                                kind: rolecall_core::audit::FlawKind::Edited,
                                message: format!(
                                    "entry {} is not the one the known head names",
                                    e.seq
                                ),
                            });
                            break 'walk;
                        }
                    }
                }
            }
        }
        if flaw.is_none() {
            flaw = v.finish(head.seq, &head.hash);
        }
        if flaw.is_none() {
            if let Some((kseq, _)) = &known {
                if !known_seen && *kseq >= head.first_seq {
                    flaw = Some(Flaw {
                        seq: head.seq,
                        kind: rolecall_core::audit::FlawKind::Truncated,
                        message: format!(
                            "the known head entry {kseq} is no longer in the chain, which ends at {}",
                            head.seq
                        ),
                    });
                }
            }
        }
        Ok(Verification {
            organization: org.slug.to_string(),
            ok: flaw.is_none(),
            checked: v.checked(),
            head,
            flaw,
        })
    }

    /// Applies the organisation's retention setting: removes entries older than it and records
    /// the pruning as the chain's newest entry, in one transaction. `by` is whoever asked: an
    /// administrator, or the server's hourly retention job.
    pub async fn prune_audit(&self, by: &OrgAdmin) -> Result<Option<Pruned>> {
        let org = &by.org;
        let (settings, _) = self.settings(org).await?;
        let Some(days) = settings.audit_retention_days else {
            return Ok(None);
        };
        let now = self.now();
        let before = now - days * 86_400_000;
        let b = self.backend();
        let mut w = self.db.write().await?;
        let Some((removed, through_seq, anchor)) =
            aq::prune(&mut w.tx, b, &org.id.to_string(), before, now).await?
        else {
            return Ok(None);
        };
        let pruned = Pruned {
            removed,
            through_seq,
            anchor,
        };
        let record = Record::new(
            "audit_pruned",
            Party::new("audit_log", org.id, org.slug.as_str()),
        )
        .between(None, Some(&pruned))
        .detail(format!("entries older than {days} days"));
        self.record(&mut w, by, record).await?;
        w.commit().await?;
        Ok(Some(pruned))
    }

    /// The retention job: prunes every organisation that has a retention setting.
    pub async fn prune_all_audit(&self) -> Result<()> {
        for org in self.list_orgs().await? {
            let server = OrgAdmin {
                org,
                principal: Principal::Server {
                    job: "audit retention".into(),
                },
            };
            self.prune_audit(&server).await?;
        }
        Ok(())
    }

    /// Fills the log's index tables with the entries appended since the last flush, every
    /// organisation, a batch per write transaction (store/audit_index.rs). Reads are correct
    /// without it (they scan the unindexed tail); it keeps that tail short. Returns how many
    /// entries were indexed.
    pub async fn index_audit(&self) -> Result<usize> {
        let b = self.backend();
        let orgs = {
            let mut c = self.db.pool.acquire().await?;
            audit_index::pending_orgs(&mut c, b).await?
        };
        let mut total = 0;
        for org in orgs {
            loop {
                let mut w = self.db.write().await?;
                let n = audit_index::flush(&mut w.tx, b, &org, audit_index::FLUSH_BATCH).await?;
                w.commit_bookkeeping().await?;
                total += n;
                if (n as i64) < audit_index::FLUSH_BATCH {
                    break;
                }
            }
        }
        Ok(total)
    }

    /// Hashes entries migrated from the old sign-in log into their chains (once).
    pub(crate) async fn seal_migrated_audit(&self) -> Result<()> {
        let b = self.backend();
        let orgs = {
            let mut c = self.db.pool.acquire().await?;
            aq::unsealed_orgs(&mut c, b).await?
        };
        for org in orgs {
            let mut w = self.db.write().await?;
            aq::seal_migrated(&mut w.tx, b, &org, self.now()).await?;
            w.commit().await?;
        }
        Ok(())
    }
}
