//! Migration of Magento 2 admins (issue 12): a `rolecall_bulk::MagentoPlan` (roles with their
//! allowed ACL resources and website/store scopes, users with their role, status, names,
//! e-mail, lock and password hash) applied to the `commerce-admin` application through the
//! use cases single changes use (`create_scope_in`, `create_role_in`, `create_user_invited_by_in`,
//! `update_user_in`, `assign_role_in`), in one transaction with a savepoint per role and per
//! user, so every rule holds and every row that could not be mapped is reported.
//!
//! Passwords are kept as Magento stored them (`hash:salt:version`): sign-in verifies them with
//! Magento's formats and re-hashes with Argon2id (`credentials::password`). Second factors stay
//! behind (Magento seals them with its own key): migrated people enrol again, as the report says.

use super::audit::{user_target, Record};
use super::signin::{sign_in_change, ClientInfo};
use super::{Directory, NewRole, NewUser, OrgAdmin, UserPatch};
use crate::error::{Error, Result};
use crate::store::bulk as bq;
use crate::store::signin as sq;
use crate::store::WriteTx;
use rolecall_bulk::{MagentoPlan, MagentoScope, ResourceGrant};
use rolecall_core::change::Approved;
use rolecall_core::model::{Grant, RoleId};
use serde::Serialize;
use std::collections::{BTreeSet, HashMap};

/// The application Magento admins land in.
pub const COMMERCE_ADMIN: &str = "commerce-admin";

/// What became of one Magento role or user.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct MigratedRow {
    /// `authorization_role` line (roles) or `admin_user` line (users).
    pub line: u64,
    pub name: String,
    /// `created`, `unchanged` (already there: left as it is) or `error`.
    pub result: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<String>,
    /// For roles: allowed Magento resources rolecall's ACL tree does not have (left out).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub left_out: Vec<String>,
}

/// A row of the export that could not be mapped, as the plan found it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct UnmappedRow {
    pub table: String,
    pub line: u64,
    pub reason: String,
}

/// The report of a Magento migration.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct MagentoReport {
    pub dry_run: bool,
    /// True when the changes were written.
    pub committed: bool,
    /// Website and store scopes created in `commerce-admin`.
    pub scopes_created: Vec<String>,
    pub roles: Vec<MigratedRow>,
    pub users: Vec<MigratedRow>,
    /// Rows of the export left out, with the reason.
    pub unmapped: Vec<UnmappedRow>,
    pub notices: Vec<String>,
}

/// `lock_expires` (`YYYY-MM-DD HH:MM:SS`, UTC) as Unix milliseconds.
fn lock_millis(s: &str) -> Option<i64> {
    let (date, time) = s.trim().split_once([' ', 'T'])?;
    let mut d = date.split('-').map(|x| x.parse::<i64>().ok());
    let (y, m, day) = (d.next()??, d.next()??, d.next()??);
    let mut t = time.split(':').map(|x| x.parse::<i64>().ok());
    let (h, min, sec) = (t.next()??, t.next()??, t.next().flatten().unwrap_or(0));
    if !(1..=12).contains(&m) || !(1..=31).contains(&day) {
        return None;
    }
    // Days from the civil date (Howard Hinnant's algorithm).
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    Some(((days * 24 + h) * 60 + min) * 60_000 + sec * 1000)
}

/// A use case's refusal as text for the report; storage failures end the migration.
fn reason(e: Error) -> Result<String> {
    match e {
        Error::Domain(rolecall_core::Error::Invalid(fields)) => Ok(fields
            .iter()
            .map(|f| format!("{}: {} ({})", f.field, f.message, f.rule))
            .collect::<Vec<_>>()
            .join("; ")),
        Error::Domain(d) => Ok(d.to_string()),
        other => Err(other),
    }
}

impl Directory {
    /// Applies `plan` for `admin` (see the module documentation). `valid_rows`: apply what
    /// can be applied and report the rest; otherwise any refused role or user and nothing is
    /// written. Rows the plan could not map are reported and never block the others.
    pub async fn import_magento(
        &self,
        admin: &OrgAdmin,
        plan: MagentoPlan,
        dry_run: bool,
        valid_rows: bool,
        client: &ClientInfo,
    ) -> Result<MagentoReport> {
        let org = &admin.org;
        let b = self.backend();
        let catalogue = self.catalogue();
        let tree = catalogue.require("application", COMMERCE_ADMIN)?.clone();
        let root = tree.def.resources.id.clone();
        let mut w = self.db.write().await?;
        let mut approved: Option<Approved> = None;
        let mut keep = |ok: Approved| {
            approved = Some(match approved.take() {
                None => ok,
                Some(prev) => prev.and(ok),
            })
        };
        let mut report = MagentoReport {
            dry_run,
            committed: false,
            scopes_created: Vec::new(),
            roles: Vec::new(),
            users: Vec::new(),
            unmapped: plan
                .problems
                .iter()
                .map(|p| UnmappedRow {
                    table: p.table.name().to_string(),
                    line: p.line,
                    reason: p.reason.clone(),
                })
                .collect(),
            notices: plan.notices.clone(),
        };
        report.notices.push(
            "second factors are not migrated (Magento seals them with its own key): every migrated user enrols again at first sign-in".into(),
        );
        let mut existing_scopes: BTreeSet<String> =
            crate::store::directory::list_scopes(&mut w.tx, b, org.id, Some(COMMERCE_ADMIN))
                .await?
                .into_iter()
                .map(|(_, s)| s.code.into_string())
                .collect();
        let mut roles: HashMap<String, RoleId> = bq::roles(&mut w.tx, b, org.id)
            .await?
            .into_iter()
            .filter(|(_, app, _)| app == COMMERCE_ADMIN)
            .map(|(id, _, name)| (name.to_lowercase(), id))
            .collect();
        let mut by_magento_id: HashMap<u32, RoleId> = HashMap::new();
        let mut failed = false;
        for role in &plan.roles {
            let mut row = MigratedRow {
                line: role.line,
                name: role.name.clone(),
                result: "unchanged".into(),
                errors: Vec::new(),
                left_out: Vec::new(),
            };
            if let Some(id) = roles.get(&role.name.to_lowercase()) {
                by_magento_id.insert(role.role_id, *id);
                report.roles.push(row);
                continue;
            }
            let mark = w.mark().await?;
            let outcome = self
                .migrate_role(
                    &mut w,
                    admin,
                    role,
                    &root,
                    &tree,
                    &mut existing_scopes,
                    &mut row,
                )
                .await;
            match outcome {
                Ok((oks, scopes, id)) => {
                    w.release_mark().await?;
                    oks.into_iter().for_each(&mut keep);
                    report.scopes_created.extend(scopes);
                    roles.insert(role.name.to_lowercase(), id);
                    by_magento_id.insert(role.role_id, id);
                    row.result = "created".into();
                }
                Err(e) => {
                    w.rollback_to_mark(mark).await?;
                    existing_scopes = crate::store::directory::list_scopes(
                        &mut w.tx,
                        b,
                        org.id,
                        Some(COMMERCE_ADMIN),
                    )
                    .await?
                    .into_iter()
                    .map(|(_, s)| s.code.into_string())
                    .collect();
                    row.result = "error".into();
                    row.errors.push(reason(e)?);
                    failed = true;
                }
            }
            report.roles.push(row);
        }
        let now = self.now();
        // Statistics that count the users added so far (store::bulk::refresh_statistics).
        let mut statistics = bq::StatisticsSchedule::default();
        for user in &plan.users {
            statistics.row(&mut w.tx, b).await?;
            let mut row = MigratedRow {
                line: user.line,
                name: user.username.clone(),
                result: "unchanged".into(),
                errors: Vec::new(),
                left_out: Vec::new(),
            };
            if bq::user_by_email(&mut w.tx, b, org.id, &user.email.to_ascii_lowercase())
                .await?
                .is_some()
            {
                report.users.push(row);
                continue;
            }
            let Some(role) = by_magento_id.get(&user.role_id).copied() else {
                row.result = "error".into();
                row.errors
                    .push(format!("the role {:?} was not migrated", user.role_name));
                failed = true;
                report.users.push(row);
                continue;
            };
            let mark = w.mark().await?;
            match self
                .migrate_user(&mut w, admin, user, role, now, client)
                .await
            {
                Ok(oks) => {
                    w.release_mark().await?;
                    oks.into_iter().for_each(&mut keep);
                    row.result = "created".into();
                }
                Err(e) => {
                    w.rollback_to_mark(mark).await?;
                    row.result = "error".into();
                    row.errors.push(reason(e)?);
                    failed = true;
                }
            }
            report.users.push(row);
        }
        if dry_run || (failed && !valid_rows) {
            w.rollback().await?;
            return Ok(report);
        }
        let Some(ok) = approved else {
            w.rollback().await?;
            report.committed = true;
            return Ok(report);
        };
        let created = |rows: &[MigratedRow]| rows.iter().filter(|r| r.result == "created").count();
        self.record_with(
            &mut w,
            admin,
            client,
            Record::new(
                "magento_migrated",
                rolecall_core::audit::Party::new("application", COMMERCE_ADMIN, COMMERCE_ADMIN),
            )
            .detail(format!(
                "{} roles and {} users created, {} scopes, {} rows not mapped",
                created(&report.roles),
                created(&report.users),
                report.scopes_created.len(),
                report.unmapped.len()
            )),
        )
        .await?;
        self.commit_rights(w, org.id, ok, true).await?;
        report.committed = true;
        Ok(report)
    }

    /// Creates the scopes a role needs, then the role.
    #[allow(clippy::too_many_arguments)]
    async fn migrate_role(
        &self,
        w: &mut WriteTx,
        admin: &OrgAdmin,
        role: &rolecall_bulk::MagentoRole,
        root: &str,
        tree: &rolecall_core::catalogue::AppTree,
        existing: &mut BTreeSet<String>,
        row: &mut MigratedRow,
    ) -> Result<(Vec<Approved>, Vec<String>, RoleId)> {
        let mut oks = Vec::new();
        let mut created = Vec::new();
        let mut scopes = Vec::new();
        if let MagentoScope::Limited {
            websites,
            store_groups,
            ..
        } = &role.scope
        {
            let mut needed: Vec<(String, Option<String>)> = Vec::new();
            for site in websites {
                needed.push((site.clone(), None));
                scopes.push(site.clone());
            }
            for g in store_groups {
                needed.push((g.website.clone(), None));
                needed.push((g.group.clone(), Some(g.website.clone())));
                scopes.push(g.group.clone());
            }
            for (code, parent) in needed {
                if existing.contains(&code) {
                    continue;
                }
                let (ok, _, _) = self
                    .create_scope_in(w, admin, COMMERCE_ADMIN, &code, parent.as_deref(), "")
                    .await?;
                oks.push(ok);
                existing.insert(code.clone());
                created.push(code);
            }
        }
        let grants = match &role.resources {
            ResourceGrant::All => vec![Grant {
                resource: root.to_string(),
                actions: Default::default(),
            }],
            ResourceGrant::Resources(set) => set
                .iter()
                .filter(|r| {
                    let known = tree.resource(r).is_some();
                    if !known {
                        row.left_out.push((*r).clone());
                    }
                    known
                })
                .map(|r| Grant {
                    resource: r.clone(),
                    actions: Default::default(),
                })
                .collect(),
        };
        let input = NewRole {
            application: COMMERCE_ADMIN.into(),
            name: role.name.clone(),
            description: Some(format!("Migrated from Magento (role_id {})", role.role_id)),
            grants,
            scopes,
        };
        let (ok, _, created_role) = self.create_role_in(w, admin, input).await?;
        oks.push(ok);
        Ok((oks, created, created_role.id))
    }

    /// Creates one user with their Magento password hash, status, lock and role.
    async fn migrate_user(
        &self,
        w: &mut WriteTx,
        admin: &OrgAdmin,
        user: &rolecall_bulk::MagentoUser,
        role: RoleId,
        now: i64,
        client: &ClientInfo,
    ) -> Result<Vec<Approved>> {
        let b = self.backend();
        let org = &admin.org;
        let mut oks = Vec::new();
        let input = NewUser {
            email: user.email.clone(),
            username: Some(user.username.clone()),
            first_name: user.first_name.clone(),
            last_name: user.last_name.clone(),
            locale: user.interface_locale.clone(),
            status: Some("active".into()),
            // They sign in with the password they have; nothing to tell them yet.
            notify: Some(false),
            ..NewUser::default()
        };
        let (ok, _, (created, _)) = self
            .create_user_invited_by_in(w, admin, input, None)
            .await?;
        oks.push(ok);
        let uid = created.id;
        oks.push(
            self.approve(&mut w.tx, admin, sign_in_change(org, uid))
                .await?,
        );
        sq::set_password(&mut w.tx, b, uid, &user.password_hash, now).await?;
        if let Some(until) = user.lock_expires.as_deref().and_then(lock_millis) {
            if until > now {
                sq::set_failures(&mut w.tx, b, uid, 0, Some(until)).await?;
            }
        }
        self.record_with(
            w,
            admin,
            client,
            Record::new("password_migrated", user_target(&created))
                .detail("Magento password hash kept; upgraded to Argon2id at first sign-in"),
        )
        .await?;
        let (ok, _, _) = self.assign_role_in(w, admin, uid, role).await?;
        oks.push(ok);
        if !user.active {
            let patch = UserPatch {
                status: Some("inactive".into()),
                ..UserPatch::default()
            };
            let (ok, _, _) = self
                .update_user_in(w, admin, uid, patch, None, None, client)
                .await?;
            oks.push(ok);
        }
        Ok(oks)
    }
}

#[cfg(test)]
mod tests {
    use super::lock_millis;

    #[test]
    fn lock_expires_reads_magento_datetimes() {
        assert_eq!(lock_millis("1970-01-01 00:00:00"), Some(0));
        assert_eq!(lock_millis("2030-01-02 03:04:05"), Some(1_893_553_445_000));
        assert_eq!(lock_millis("not a date"), None);
    }
}
