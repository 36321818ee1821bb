//! Bulk import of user files (issue 12): the rows `rolecall_bulk` parses (either template, as
//! `RowPlan`s) applied through the very use cases single changes go through (`*_in` variants
//! that run inside the import's one transaction), so one role per user, seat quotas, the owner
//! and last-administrator rails and the rights rule hold row by row.
//!
//! Each row runs inside a savepoint: a row that breaks a rule is rolled back on its own and
//! reported (line, column, rule, reason), and the import goes on, so every row gets a result.
//! At the end the transaction commits only for a real run that is either error-free or in
//! valid-rows mode; a dry run and a failed all-or-nothing run roll everything back. The
//! snapshot is recompiled once, by the one `commit_rights` at the end.
//!
//! Rows that only create a person with groups, profiles and roles are gathered and judged in
//! memory by the same rules, then written together (`bulk_batch`); a row the batch cannot be
//! sure of takes the savepoint path above, in its place in the file.

use super::audit::Record;
use super::bulk_batch::{Lane, BATCH};
use super::bulk_names::{fold, problem, problems, resolve, Names, Part, Wanted};
pub use super::bulk_report::{ReportRows, RowsReading};
use super::credentials::CredentialDecision;
use super::signin::ClientInfo;
use super::{Directory, NewUser, OrgAdmin, UserPatch};
use crate::error::{Error, Result};
use crate::store::bulk as bq;
use crate::store::signin as sq;
use crate::store::WriteTx;
use rolecall_bulk::{
    FileDigest, FileError, Operation as RowOperation, RowErrors, RowPlan, Status, Template,
};
use rolecall_core::admin::{AdminRight, Operation};
use rolecall_core::audit::Party;
use rolecall_core::authz::ProfileId;
use rolecall_core::change::{Approved, Change, Reach};
use rolecall_core::model::{GroupId, RoleId, User, UserStatus};
use rolecall_core::Error as DomainError;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeSet, HashMap};

/// What happens when some rows fail.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ImportMode {
    /// One transaction for the whole file: any row error and nothing is written (default).
    #[default]
    AllOrNothing,
    /// The rows without errors are applied; the others are reported and left out.
    ValidRows,
}

/// How to run an import.
#[derive(Debug, Clone, Copy, Default)]
pub struct ImportOptions {
    /// Report what would happen; write nothing.
    pub dry_run: bool,
    pub mode: ImportMode,
    /// New users are sent the "Get started" invitation (default); `false` adds them as active
    /// users and tells them nothing.
    pub no_invitations: bool,
    /// For removed or deactivated users who created API credentials: revoke or keep them.
    pub credentials: Option<CredentialDecision>,
    /// Every row through the use cases on its own, without batches (`bulk_batch`): slower,
    /// and the reference the batches are tested against.
    pub row_by_row: bool,
}

/// What became of one row.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum RowResult {
    Created,
    Updated,
    /// The user was removed from the organisation.
    Removed,
    /// The row asked for nothing the directory does not already have.
    Unchanged,
    /// The row broke a rule and was not applied (see `errors`).
    Error,
}

/// One reason a row was not applied.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct RowProblem {
    /// 1-based line of the file.
    pub line: u64,
    /// The column as named in the template's header; absent for the row as a whole.
    pub column: Option<String>,
    /// Stable snake_case code, e.g. `unknown_group`, `one_role_per_user`, `duplicate`.
    pub rule: String,
    pub reason: String,
}

/// The result of one row.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct RowReport {
    pub line: u64,
    /// The row's e-mail as written (empty when the row could not be read).
    pub email: String,
    pub result: RowResult,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<RowProblem>,
}

/// Counts per result.
#[derive(Debug, Clone, Default, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ImportSummary {
    pub rows: u64,
    pub created: u64,
    pub updated: u64,
    pub removed: u64,
    pub unchanged: u64,
    pub errors: u64,
}

/// Audit entries an import holds before appending them inside its transaction: memory stays
/// bounded by this, not by the file's length (issue 12).
pub(super) const AUDIT_FLUSH: usize = 2048;

/// The per-row report of an import or dry run.
#[derive(Debug, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ImportReport {
    /// `console` (Adobe Admin Console template) or `plain` (rolecall's template).
    pub template: String,
    /// SHA-256 of every byte of the file, as recorded in the audit log.
    pub sha256: String,
    pub bytes: u64,
    pub dry_run: bool,
    pub mode: ImportMode,
    /// True when the changes were written; false for a dry run and for an all-or-nothing
    /// import with errors (then nothing was written).
    pub committed: bool,
    pub summary: ImportSummary,
    /// Every row's result in file order (held partly on disk while the import runs: issue
    /// 12's flat memory).
    #[schema(value_type = Vec<RowReport>)]
    pub rows: ReportRows,
}

/// What the reader hands the import, in order: the template, rows, then the end.
#[derive(Debug)]
pub enum ImportItem {
    Opened(Template),
    /// Up to [`ROWS_PER_HANDOFF`] rows in file order.
    Rows(Vec<std::result::Result<RowPlan, RowErrors>>),
    /// Every byte read; the file's digest.
    End(FileDigest),
    /// The file was refused as a whole (not CSV, unknown columns, …), or reading failed.
    Refused(FileError),
}

/// Rows the reader hands over at a time. One at a time, the import's thread woke the blocked
/// reader for every row it took, a hand-off between threads per row (about 11 µs a row of an
/// import, BENCHMARKS.md, sixth session).
pub const ROWS_PER_HANDOFF: usize = 64;

/// Reads `input` on a blocking thread and hands the rows over a few dozen at a time through a
/// bounded channel, so a file of any size is never held: the reader runs up to two batches
/// ahead of the import, so that while a batch is written the next one is read and waits.
pub fn read_rows<R: std::io::Read + Send + 'static>(
    input: R,
) -> tokio::sync::mpsc::Receiver<ImportItem> {
    let (tx, rx) = tokio::sync::mpsc::channel(2 * BATCH / ROWS_PER_HANDOFF);
    tokio::task::spawn_blocking(move || {
        let mut reader = match rolecall_bulk::PlanReader::open(input) {
            Ok(r) => r,
            Err(e) => {
                let _ = tx.blocking_send(ImportItem::Refused(e));
                return;
            }
        };
        if tx
            .blocking_send(ImportItem::Opened(reader.template()))
            .is_err()
        {
            return;
        }
        let mut chunk = Vec::with_capacity(ROWS_PER_HANDOFF);
        for row in reader.by_ref() {
            chunk.push(row);
            if chunk.len() == ROWS_PER_HANDOFF {
                let full = std::mem::replace(&mut chunk, Vec::with_capacity(ROWS_PER_HANDOFF));
                if tx.blocking_send(ImportItem::Rows(full)).is_err() {
                    return;
                }
            }
        }
        if !chunk.is_empty() && tx.blocking_send(ImportItem::Rows(chunk)).is_err() {
            return;
        }
        let end = match reader.digest() {
            Some(d) => ImportItem::End(d),
            None => ImportItem::Refused(FileError::Io {
                message: "the file ended before it was read whole".into(),
            }),
        };
        let _ = tx.blocking_send(end);
    });
    rx
}

/// The file as a whole was refused: 422 naming the file and the reason.
fn refused(e: &FileError) -> Error {
    let rule = match e {
        FileError::Empty => "empty",
        FileError::NotCsv { .. } => "not_csv",
        FileError::NotUtf8 { .. } => "utf8",
        FileError::BadHeader { .. } => "bad_header",
        FileError::NotTemplate { .. } => "not_a_template",
        FileError::Columns { .. } => "columns",
        FileError::Io { .. } => "incomplete",
    };
    DomainError::invalid("file", rule, e.to_string()).into()
}

/// A row's lists, resolved.
pub(super) struct RowLists {
    pub(super) groups: Option<Wanted<GroupId>>,
    pub(super) profiles: Option<Wanted<ProfileId>>,
    pub(super) roles: Option<Wanted<RoleId>>,
    pub(super) rights: Option<Wanted<(String, String)>>,
}

/// A row that may create a new person in a batch (`bulk_batch`): the user drafted from it and
/// its lists resolved.
pub(super) struct Fresh {
    pub(super) row: RowPlan,
    pub(super) user: User,
    pub(super) lists: RowLists,
}

/// A row waiting for its batch (`bulk_batch::run_batch`), which applies them in file order.
pub(super) enum Pending {
    /// It may create a person in the batch.
    Fresh(Box<Fresh>),
    /// It goes through the use cases on its own, unless it changes nothing (`bulk_known`).
    Alone(Box<RowPlan>),
}

impl Pending {
    /// The file's row, whichever way it goes.
    pub(super) fn row(&self) -> &RowPlan {
        match self {
            Pending::Fresh(f) => &f.row,
            Pending::Alone(r) => r,
        }
    }
}

/// Which way a row goes.
enum Route {
    /// With others, in a batch (it may create a person).
    Batch(Box<Fresh>),
    /// Alone, through the use cases.
    Alone(Box<RowPlan>),
}

/// An import under way: its transaction, what it knows, and the rows' results so far.
pub(super) struct Run<'a> {
    pub(super) w: WriteTx,
    pub(super) admin: &'a OrgAdmin,
    pub(super) template: Template,
    pub(super) names: Names,
    options: ImportOptions,
    client: &'a ClientInfo,
    pub(super) statistics: bq::StatisticsSchedule,
    pub(super) lane: Lane,
    rows: ReportRows,
    approved: Option<Approved>,
    changed_any: bool,
}

impl Run<'_> {
    /// A row the batch created its person from.
    pub(super) fn created(&mut self, row: &RowPlan, ok: Approved) -> Result<()> {
        self.take(ok, true);
        self.report(row, RowResult::Created, Vec::new())
    }

    /// A row that changes nothing (`bulk_known`).
    pub(super) fn unchanged(&mut self, row: &RowPlan) -> Result<()> {
        self.report(row, RowResult::Unchanged, Vec::new())
    }

    /// The rows reported from now on are one batch's, settled in any order.
    pub(super) fn begin_batch(&mut self) {
        self.rows.begin_batch();
    }

    /// Puts the batch's reports in file order.
    pub(super) fn end_batch(&mut self) -> Result<()> {
        self.rows.end_batch().map_err(spool_failed)
    }

    fn report(&mut self, row: &RowPlan, result: RowResult, errors: Vec<RowProblem>) -> Result<()> {
        self.push(RowReport {
            line: row.line,
            email: row.user.email.clone(),
            result,
            errors,
        })
    }

    fn push(&mut self, row: RowReport) -> Result<()> {
        self.rows.push(row).map_err(spool_failed)
    }

    fn take(&mut self, ok: Approved, changed: bool) {
        self.approved = Some(match self.approved.take() {
            Some(prev) => prev.and(ok),
            None => ok,
        });
        self.changed_any |= changed;
    }
}

/// The report could not be written to its spool file (the disk is full, say): a fault of the
/// server's, and the import is rolled back with the transaction.
fn spool_failed(e: std::io::Error) -> Error {
    Error::Internal(format!("the import's report could not be spooled: {e}"))
}

/// One applied step: the approval, and whether something changed.
type Step = (Approved, bool);

impl Directory {
    /// Imports `rows` (from [`read_rows`]) for `admin`: see the module documentation. The
    /// endpoint's coarse gate is `BulkAddUsers`; the use case asks the rights rule for it
    /// again in the transaction, and then for every change of every row.
    pub async fn import_users(
        &self,
        admin: &OrgAdmin,
        mut rows: tokio::sync::mpsc::Receiver<ImportItem>,
        options: ImportOptions,
        client: &ClientInfo,
    ) -> Result<ImportReport> {
        let template = match rows.recv().await {
            Some(ImportItem::Opened(t)) => t,
            Some(ImportItem::Refused(e)) => return Err(refused(&e)),
            _ => return Err(refused(&FileError::Empty)),
        };
        let org = &admin.org;
        let mut w = self.db.write().await?;
        w.defer_group_touches();
        let approved = self
            .approve(
                &mut w.tx,
                admin,
                Change::new(Operation::BulkAddUsers).reaching(Reach::Organization),
            )
            .await?;
        let names = self.import_names(&mut w, org.id).await?;
        let mut run = Run {
            w,
            admin,
            template,
            names,
            options,
            client,
            statistics: bq::StatisticsSchedule::default(),
            lane: Lane::default(),
            rows: ReportRows::default(),
            approved: Some(approved),
            changed_any: false,
        };
        let mut pending: Vec<Pending> = Vec::new();
        let mut truncated = false;
        let mut chunk = Vec::new().into_iter();
        let digest = loop {
            let row = match chunk.next() {
                Some(row) => row,
                None => match rows.recv().await {
                    Some(ImportItem::Rows(more)) => {
                        chunk = more.into_iter();
                        continue;
                    }
                    Some(ImportItem::End(d)) => break Some(d),
                    Some(ImportItem::Refused(e)) => {
                        // The body broke off part-way: never apply a truncated file.
                        self.run_batch(&mut run, std::mem::take(&mut pending))
                            .await?;
                        run.push(RowReport {
                            line: 0,
                            email: String::new(),
                            result: RowResult::Error,
                            errors: vec![RowProblem {
                                line: 0,
                                column: None,
                                rule: "incomplete".into(),
                                reason: e.to_string(),
                            }],
                        })?;
                        truncated = true;
                        break None;
                    }
                    Some(ImportItem::Opened(_)) => continue,
                    None => {
                        truncated = true;
                        break None;
                    }
                },
            };
            let row = match row {
                Ok(r) => r,
                Err(errs) => {
                    if errs.has(rolecall_bulk::Rule::Io) {
                        truncated = true;
                    }
                    self.run_batch(&mut run, std::mem::take(&mut pending))
                        .await?;
                    run.push(RowReport {
                        line: errs.line(),
                        email: String::new(),
                        result: RowResult::Error,
                        errors: errs
                            .0
                            .iter()
                            .map(|e| RowProblem {
                                line: e.line,
                                column: e.column.clone(),
                                rule: e.rule.code().to_string(),
                                reason: e.message.clone(),
                            })
                            .collect(),
                    })?;
                    continue;
                }
            };
            let route = if options.row_by_row {
                Route::Alone(Box::new(row))
            } else {
                self.route(&run, row)
            };
            match route {
                // The reference: every row on its own, as it comes.
                Route::Alone(row) if options.row_by_row => {
                    self.slow_row(&mut run, &row).await?;
                }
                Route::Batch(fresh) => pending.push(Pending::Fresh(fresh)),
                Route::Alone(row) => pending.push(Pending::Alone(row)),
            }
            if pending.len() >= BATCH {
                self.run_batch(&mut run, std::mem::take(&mut pending))
                    .await?;
            }
        };
        self.run_batch(&mut run, pending).await?;
        let Run {
            mut w,
            rows: row_reports,
            approved,
            changed_any,
            ..
        } = run;
        let mut report = ImportReport {
            template: match template {
                Template::Console => "console".into(),
                Template::Plain => "plain".into(),
            },
            sha256: String::new(),
            bytes: 0,
            dry_run: options.dry_run,
            mode: options.mode,
            committed: false,
            summary: row_reports.summary().clone(),
            rows: row_reports,
        };
        if let Some(d) = &digest {
            report.sha256 = d.sha256.clone();
            report.bytes = d.bytes;
        }
        let refused_file = report.summary.errors > 0 && options.mode == ImportMode::AllOrNothing;
        if options.dry_run || truncated || refused_file || digest.is_none() {
            w.rollback().await?;
            return Ok(report);
        }
        let s = &report.summary;
        let detail = format!(
            "{} rows: {} created, {} updated, {} removed, {} unchanged, {} with errors ({} template, {} bytes)",
            s.rows, s.created, s.updated, s.removed, s.unchanged, s.errors, report.template, report.bytes
        );
        self.record_with(
            &mut w,
            admin,
            client,
            Record::new(
                "users_imported",
                Party::new("file", &report.sha256, format!("sha256:{}", report.sha256)),
            )
            .detail(detail),
        )
        .await?;
        let Some(approved) = approved else {
            return Err(Error::Internal("an import without its approval".into()));
        };
        self.commit_rights(w, org.id, approved, changed_any).await?;
        report.committed = true;
        Ok(report)
    }

    /// Applies one row through the use cases, in a savepoint of its own: a row that breaks a
    /// rule is rolled back alone and reported.
    pub(super) async fn slow_row(&self, run: &mut Run<'_>, row: &RowPlan) -> Result<()> {
        // It may change what the batches remember (groups, seats, the actor's rights).
        run.lane.forget();
        if run.w.recorded() >= AUDIT_FLUSH {
            run.w.flush_audit().await?;
        }
        // Statistics that count the rows added so far (store::bulk::refresh_statistics).
        run.statistics.row(&mut run.w.tx, self.backend()).await?;
        let mark = run.w.mark().await?;
        let applied = self
            .import_row(
                &mut run.w,
                run.admin,
                run.template,
                &run.names,
                row,
                &run.options,
                run.client,
            )
            .await?;
        match applied {
            Ok((steps, result)) => {
                run.w.release_mark().await?;
                for (ok, changed) in steps {
                    run.take(ok, changed);
                }
                run.report(row, result, Vec::new())?;
            }
            Err(errors) => {
                run.w.rollback_to_mark(mark).await?;
                run.report(row, RowResult::Error, errors)?;
            }
        }
        Ok(())
    }

    /// The row as a [`Fresh`] one for a batch when one may take it (it creates a person, sends
    /// no mail but an invitation, changes no admin rights, and its names resolve), otherwise the row back. Whether
    /// the person exists already is asked for the whole batch at once.
    fn route(&self, run: &Run<'_>, row: RowPlan) -> Route {
        let f = &row.user;
        let plain = row.operation == RowOperation::Upsert
            && f.status != Some(Status::Inactive)
            && row.developer_access.items().is_none_or(|s| s.is_empty());
        if !plain {
            return Route::Alone(Box::new(row));
        }
        let lists = match row_lists(run.template, &run.names, &row) {
            Ok(l) if l.rights.as_ref().is_none_or(|r| r.items.is_empty()) => l,
            _ => return Route::Alone(Box::new(row)),
        };
        match self.draft_user(run.admin, &new_user(&row, &run.options)) {
            // A batch sends invitations but no other mail (an active person told of their
            // account), and writes e-mail entries only: an import sets no phones or addresses.
            Ok((user, notify))
                if (user.status == UserStatus::Invited || !notify)
                    && user.profile.phone_numbers.is_empty()
                    && user.profile.addresses.is_empty() =>
            {
                Route::Batch(Box::new(Fresh { row, user, lists }))
            }
            _ => Route::Alone(Box::new(row)),
        }
    }

    async fn import_names(
        &self,
        w: &mut WriteTx,
        org: rolecall_core::model::OrgId,
    ) -> Result<Names> {
        let b = self.backend();
        let mut names = Names {
            groups: HashMap::new(),
            roles: HashMap::new(),
            profiles: HashMap::new(),
            profile_apps: HashMap::new(),
            apps: HashMap::new(),
        };
        for (id, name) in bq::groups(&mut w.tx, b, org).await? {
            names.groups.insert(fold(&name), id);
        }
        for (id, app, name) in bq::roles(&mut w.tx, b, org).await? {
            names.roles.insert((app, fold(&name)), id);
        }
        for (id, app, name) in bq::profiles(&mut w.tx, b, org).await? {
            names
                .profile_apps
                .entry(fold(&name))
                .or_default()
                .push(app.clone());
            names.profiles.insert((app, fold(&name)), id);
        }
        for apps in names.profile_apps.values_mut() {
            apps.sort();
        }
        for app in &self.catalogue().apps {
            names.apps.insert(fold(&app.def.name), app.def.key.clone());
            names.apps.insert(fold(&app.def.key), app.def.key.clone());
        }
        Ok(names)
    }

    /// Applies one row; `Ok(Err(problems))` when the row broke a rule (the caller rolls the
    /// row back), `Err` only for failures that are not the row's (storage).
    #[allow(clippy::too_many_arguments)]
    async fn import_row(
        &self,
        w: &mut WriteTx,
        admin: &OrgAdmin,
        t: Template,
        names: &Names,
        row: &RowPlan,
        options: &ImportOptions,
        client: &ClientInfo,
    ) -> Result<std::result::Result<(Vec<Step>, RowResult), Vec<RowProblem>>> {
        let b = self.backend();
        let org = &admin.org;
        let line = row.line;
        let existing =
            bq::user_by_email(&mut w.tx, b, org.id, &row.user.email.to_ascii_lowercase()).await?;
        let mut steps: Vec<Step> = Vec::new();
        macro_rules! attempt {
            ($part:expr, $e:expr) => {
                match $e.await {
                    Ok(v) => v,
                    Err(e) => return Ok(Err(problems(t, line, $part, e)?)),
                }
            };
        }
        if row.operation == RowOperation::Remove {
            let Some(u) = existing else {
                return Ok(Ok((steps, RowResult::Unchanged)));
            };
            let (ok, changed, ()) = attempt!(
                Part::Email,
                self.delete_user_in(w, admin, u.id, None, options.credentials, client)
            );
            steps.push((ok, changed));
            return Ok(Ok((steps, RowResult::Removed)));
        }
        // Names first, so a row with an unknown group changes nothing at all.
        let lists = match row_lists(t, names, row) {
            Ok(l) => l,
            Err(bad) => return Ok(Err(bad)),
        };
        let f = &row.user;
        let wants_inactive = wants_inactive(row);
        let mut result = RowResult::Unchanged;
        let user: User = match existing {
            None => {
                let input = new_user(row, options);
                let (ok, changed, (u, _)) = attempt!(
                    Part::Email,
                    self.create_user_invited_by_in(w, admin, input, Some("bulk import"))
                );
                steps.push((ok, changed));
                result = RowResult::Created;
                u
            }
            Some(u) => {
                let patch = user_patch(f, &u);
                if patch_changes(&patch) {
                    let (ok, changed, next) = attempt!(
                        Part::Email,
                        self.update_user_in(
                            w,
                            admin,
                            u.id,
                            patch,
                            None,
                            options.credentials,
                            client
                        )
                    );
                    steps.push((ok, changed));
                    result = RowResult::Updated;
                    next
                } else {
                    u
                }
            }
        };
        let uid = user.id;
        let mut touched = false;
        // A user this row created has a new id and holds nothing yet: no need to ask.
        let fresh = matches!(result, RowResult::Created);
        // Memberships, seats, roles and rights before a deactivation, which locks the account.
        if let Some(want) = &lists.groups {
            let have: BTreeSet<GroupId> = if fresh {
                BTreeSet::new()
            } else {
                bq::group_ids_of(&mut w.tx, b, uid)
                    .await?
                    .into_iter()
                    .collect()
            };
            for g in want.items.difference(&have) {
                let (ok, changed, added) =
                    attempt!(Part::Groups, self.add_member_in(w, admin, *g, uid));
                steps.push((ok, changed));
                touched |= added;
            }
            if want.replace {
                for g in have.difference(&want.items) {
                    let (ok, changed, ()) =
                        attempt!(Part::Groups, self.remove_member_in(w, admin, *g, uid));
                    steps.push((ok, changed));
                    touched = true;
                }
            }
        }
        if let Some(want) = &lists.profiles {
            let have: BTreeSet<ProfileId> = if fresh {
                BTreeSet::new()
            } else {
                bq::profile_ids_of(&mut w.tx, b, uid)
                    .await?
                    .into_iter()
                    .collect()
            };
            for p in want.items.difference(&have) {
                let (ok, changed, added) =
                    attempt!(Part::Profiles, self.add_profile_user_in(w, admin, *p, uid));
                steps.push((ok, changed));
                touched |= added;
            }
            if want.replace {
                for p in have.difference(&want.items) {
                    let (ok, changed, ()) = attempt!(
                        Part::Profiles,
                        self.remove_profile_user_in(w, admin, *p, uid)
                    );
                    steps.push((ok, changed));
                    touched = true;
                }
            }
        }
        if let Some(want) = &lists.roles {
            let have: BTreeSet<RoleId> = if fresh {
                BTreeSet::new()
            } else {
                crate::store::directory::user_direct_roles(&mut w.tx, b, uid)
                    .await?
                    .into_iter()
                    .map(|(r, _)| r)
                    .collect()
            };
            for r in want.items.difference(&have) {
                let (ok, changed, added) =
                    attempt!(Part::Roles, self.assign_role_in(w, admin, uid, *r));
                steps.push((ok, changed));
                touched |= added;
            }
            if want.replace {
                for r in have.difference(&want.items) {
                    let (ok, changed, ()) =
                        attempt!(Part::Roles, self.unassign_role_in(w, admin, uid, *r));
                    steps.push((ok, changed));
                    touched = true;
                }
            }
        }
        if let Some(want) = &lists.rights {
            let have: BTreeSet<(String, String)> = if fresh {
                BTreeSet::new()
            } else {
                sq::admin_rights(&mut w.tx, b, org.id, uid)
                    .await?
                    .into_iter()
                    .collect()
            };
            for (k, tgt) in want.items.difference(&have) {
                let Some(right) = AdminRight::from_row(k, tgt) else {
                    continue;
                };
                let (ok, changed, added) = attempt!(
                    Part::AdminRights,
                    self.grant_right_in(w, admin, uid, right, client)
                );
                steps.push((ok, changed));
                touched |= added;
            }
            if want.replace {
                for (k, tgt) in have.difference(&want.items) {
                    let Some(right) = AdminRight::from_row(k, tgt) else {
                        continue;
                    };
                    let (ok, changed, ()) = attempt!(
                        Part::AdminRights,
                        self.revoke_right_in(w, admin, uid, right, client)
                    );
                    steps.push((ok, changed));
                    touched = true;
                }
            }
        }
        if wants_inactive && user.status != UserStatus::Inactive {
            let patch = UserPatch {
                status: Some("inactive".into()),
                ..UserPatch::default()
            };
            let (ok, changed, _) = attempt!(
                Part::Status,
                self.update_user_in(w, admin, uid, patch, None, options.credentials, client)
            );
            steps.push((ok, changed));
            touched = true;
        }
        if result == RowResult::Unchanged && touched {
            result = RowResult::Updated;
        }
        Ok(Ok((steps, result)))
    }
}

/// What a row asks to change in an existing user's own fields: each field the row gives and
/// the user has otherwise. `import_row` applies it; `bulk_known` asks whether it is empty.
pub(super) fn user_patch(f: &rolecall_bulk::UserFields, u: &User) -> UserPatch {
    let mut patch = UserPatch::default();
    let differs = |given: &Option<String>, now: &str| {
        given.as_deref().filter(|g| *g != now).map(str::to_string)
    };
    patch.username = differs(&f.username, u.username.as_str());
    patch.first_name = differs(&f.first_name, u.first_name.as_str());
    patch.last_name = differs(&f.last_name, u.last_name.as_str());
    if f.email != u.email.as_str() {
        patch.email = Some(f.email.clone());
    }
    if let Some(t) = f.identity_type.map(core_identity) {
        if t != u.profile.identity_type {
            patch.identity_type = Some(Some(t.as_str().to_string()));
        }
    }
    let country_now = u.profile.country_code.as_ref().map(|c| c.as_str());
    if let Some(c) = f
        .country_code
        .as_deref()
        .filter(|c| Some(*c) != country_now)
    {
        patch.country_code = Some(Some(c.to_string()));
    }
    match f.status {
        Some(Status::Active) if u.status == UserStatus::Inactive => {
            patch.status = Some("active".into())
        }
        Some(Status::Active) | Some(Status::Invited) | Some(Status::Inactive) | None => {}
    }
    patch
}

/// Whether [`user_patch`] found anything to change.
pub(super) fn patch_changes(patch: &UserPatch) -> bool {
    patch.username.is_some()
        || patch.first_name.is_some()
        || patch.last_name.is_some()
        || patch.email.is_some()
        || patch.status.is_some()
        || patch.identity_type.is_some()
        || patch.country_code.is_some()
}

/// Whether the row leaves (or makes) the account inactive.
pub(super) fn wants_inactive(row: &RowPlan) -> bool {
    row.operation == RowOperation::Deactivate || row.user.status == Some(Status::Inactive)
}

/// A row's lists resolved against the organisation's names; every name that does not resolve
/// is a problem of the row, which then changes nothing at all.
pub(super) fn row_lists(
    t: Template,
    names: &Names,
    row: &RowPlan,
) -> std::result::Result<RowLists, Vec<RowProblem>> {
    let line = row.line;
    let mut bad = Vec::new();
    let lists = RowLists {
        groups: resolve(&row.groups, &mut bad, t, line, Part::Groups, |g| {
            names.group(g)
        }),
        profiles: resolve(&row.profiles, &mut bad, t, line, Part::Profiles, |p| {
            names.profile(p)
        }),
        roles: resolve(&row.roles, &mut bad, t, line, Part::Roles, |r| {
            names.role(r)
        }),
        rights: resolve(
            &row.admin_rights,
            &mut bad,
            t,
            line,
            Part::AdminRights,
            |r| {
                names.right(r).map(|r| {
                    let (k, tgt) = r.to_row();
                    (k.to_string(), tgt)
                })
            },
        ),
    };
    if row.developer_access.items().is_some_and(|s| !s.is_empty()) {
        bad.push(problem(
            t,
            line,
            Part::DeveloperAccess,
            "unsupported",
            "rolecall has no developer access to grant; leave the column empty".into(),
        ));
    }
    if bad.is_empty() {
        Ok(lists)
    } else {
        Err(bad)
    }
}

/// The new user a row describes, as `create_user` takes it.
fn new_user(row: &RowPlan, options: &ImportOptions) -> NewUser {
    let f = &row.user;
    let wants_inactive = wants_inactive(row);
    let status = match f.status {
        // A user created only to be deactivated is told nothing.
        _ if wants_inactive => "active",
        Some(Status::Active) => "active",
        Some(Status::Invited) => "invited",
        _ if options.no_invitations => "active",
        _ => "invited",
    };
    NewUser {
        email: f.email.clone(),
        username: f.username.clone(),
        first_name: f.first_name.clone(),
        last_name: f.last_name.clone(),
        locale: None,
        status: Some(status.into()),
        identity_type: f
            .identity_type
            .map(|t| core_identity(t).as_str().to_string()),
        country_code: f.country_code.clone(),
        // An invited user is always sent the invitation (it is how they get in).
        notify: Some(status == "invited" || (!options.no_invitations && !wants_inactive)),
        ..NewUser::default()
    }
}

/// The file's identity type as the user model's (the template's spelling is the file's own).
fn core_identity(t: rolecall_bulk::IdentityType) -> rolecall_core::model::IdentityType {
    use rolecall_core::model::IdentityType as Core;
    match t {
        rolecall_bulk::IdentityType::AdobeId => Core::AdobeId,
        rolecall_bulk::IdentityType::EnterpriseId => Core::EnterpriseId,
        rolecall_bulk::IdentityType::FederatedId => Core::FederatedId,
    }
}
