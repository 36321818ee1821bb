//! The import's batches (issue 12): rows that create a new person (invited, or added without
//! a word) and give them groups, profiles and roles are judged in memory, a few hundred at a
//! time, and written with a handful of multi-row statements (`store::rows`) instead of about
//! ten round trips each; an invited person's invitation and mail are drafted as `create_user`
//! drafts them (`invitations::draft_invitation`).
//!
//! The rules are the single changes' own: the user is drafted by `draft_user` (the field
//! checks of `create_user`), every change is put to `change::judge` with the acting admin read
//! in the transaction, one role per user is `holding::one_role_per_user` over what the row has
//! given so far, and a seat is taken only while the profile's count (read once under its lock,
//! then counted in memory) is under its quota, as `check_group_join` and `add_profile_user` do.
//! The audit log gets the same entries in the same order.
//!
//! The batch only ever says "this row certainly succeeds". Anything else — a name already
//! taken, a rule refused, a provisioned group, a row that mails anything but an invitation —
//! goes through the row by row path (`import_row`, the use cases themselves), after the rows
//! judged before it are written; that path reports the error exactly as a single change would.
//! What the batch keeps in memory (the actor, groups, profiles and their seat counts, roles) is
//! dropped whenever a row goes that way, as such a row may change any of it.

use super::audit::{current_client, draft};
use super::bulk::{Fresh, Pending, Run, AUDIT_FLUSH};
use super::bulk_known as known;
use super::invitations::draft_invitation;
use super::profiles::{seat, seat_assigned};
use super::users::{
    member_added, membership, role_assigned, role_assignment, user_addition, user_created,
};
use super::{Directory, OrgAdmin, Principal};
use crate::error::{Error, Result};
use crate::store::invitations as iq;
use crate::store::profiles::{self as pq, Profile};
use crate::store::rows;
use crate::store::signin as sq;
use crate::store::{holding as hq, WriteTx};
use rolecall_core::authz::ProfileId;
use rolecall_core::change::{judge, Actor, Approved, Effect};
use rolecall_core::holding::{one_role_per_user, HeldRole, HeldVia};
use rolecall_core::model::{Group, GroupId, Role, RoleId, User, UserId, UserStatus};
use std::collections::{BTreeSet, HashMap, HashSet};

/// Rows judged together before their batch is written.
pub(super) const BATCH: usize = 1024;

/// What joining a group gives, read with the group locked.
struct GroupTerms {
    group: Group,
    gained: Vec<HeldRole>,
    profiles: Vec<ProfileId>,
}

/// A profile read under its lock, with the seats in use counted so far.
struct ProfileTerms {
    profile: Profile,
    bundle: Vec<HeldRole>,
    used: i64,
}

/// What the batches remember between rows; `None` entries send their rows the row-by-row way.
#[derive(Default)]
pub(super) struct Lane {
    actor: Option<Actor>,
    groups: HashMap<GroupId, Option<GroupTerms>>,
    profiles: HashMap<ProfileId, Option<ProfileTerms>>,
    roles: HashMap<RoleId, Option<Role>>,
}

impl Lane {
    /// Forgets everything: a row applied the row-by-row way may have changed any of it.
    pub(super) fn forget(&mut self) {
        *self = Lane::default();
    }

    fn group(&self, id: &GroupId) -> Option<Group> {
        self.groups.get(id)?.as_ref().map(|t| t.group.clone())
    }

    fn profile(&self, id: &ProfileId) -> Option<Profile> {
        self.profiles.get(id)?.as_ref().map(|t| t.profile.clone())
    }

    fn role(&self, id: &RoleId) -> Option<Role> {
        self.roles.get(id)?.clone()
    }
}

/// What the log says of one batch row: the person and what they were given.
struct Story {
    user: User,
    groups: Vec<Group>,
    seats: Vec<Profile>,
    roles: Vec<Role>,
}

/// A row judged in memory: the new person and what the row gives them, approved.
struct Ready {
    at: usize,
    user: User,
    groups: Vec<GroupId>,
    seats: Vec<ProfileId>,
    roles: Vec<RoleId>,
    approved: Approved,
}

impl Directory {
    /// Applies `pending` rows in file order: a row about someone already there that changes
    /// nothing is reported so (`bulk_known`), runs of rows the batch can take are written
    /// together, any other row goes through `import_row` on its own, after the rows before it.
    pub(super) async fn run_batch(&self, run: &mut Run<'_>, pending: Vec<Pending>) -> Result<()> {
        if pending.is_empty() {
            return Ok(());
        }
        let known = self.known_people(run, &pending).await?;
        // Rows that change nothing are reported at once, created ones when their batch is
        // written: the batch's reports are put back in file order at the end.
        run.begin_batch();
        // A SCIM client never imports; should one, its groups are judged by the use cases.
        let lane_open = !matches!(run.admin.principal, Principal::Scim { .. });
        // The sign-in names in use, asked once for each run of new people between rows that
        // go their own way (such a row may claim names). A new person's row that had to go
        // the row-by-row way adds its own names, below. Names a row frees are not noticed,
        // which only sends a later row that wants them the row-by-row way too.
        let mut taken = HashSet::new();
        // `taken` answers for the new people before this index (from where it was asked).
        let mut asked_until = 0;
        let mut claimed = HashSet::new();
        let mut ready = Vec::new();
        for (i, item) in pending.iter().enumerate() {
            if known::changes_nothing(run, &known, item) {
                run.unchanged(item.row())?;
                continue;
            }
            let fresh = match item {
                Pending::Fresh(f) => f,
                Pending::Alone(row) => {
                    self.write_ready(run, &pending, std::mem::take(&mut ready))
                        .await?;
                    self.slow_row(run, row).await?;
                    asked_until = 0;
                    continue;
                }
            };
            if lane_open && i >= asked_until {
                // For the run of new people up to the next row that may go its own way.
                asked_until = pending[i..]
                    .iter()
                    .position(|p| matches!(p, Pending::Alone(_)))
                    .map_or(pending.len(), |n| i + n);
                taken = self.names_taken(run, &pending[i..asked_until]).await?;
            }
            let judged = if lane_open {
                self.judge_fresh(run, fresh, i, &taken, &mut claimed)
                    .await?
            } else {
                None
            };
            match judged {
                Some(r) => ready.push(r),
                None => {
                    self.write_ready(run, &pending, std::mem::take(&mut ready))
                        .await?;
                    self.slow_row(run, &fresh.row).await?;
                    taken.extend(rows::sign_in_names(&fresh.user).into_iter().map(|(_, k)| k));
                }
            }
        }
        self.write_ready(run, &pending, ready).await?;
        run.end_batch()?;
        Ok(())
    }

    /// Which of the sign-in names the new people among `pending` want are someone's already.
    async fn names_taken(&self, run: &mut Run<'_>, pending: &[Pending]) -> Result<HashSet<String>> {
        let keys: Vec<String> = pending
            .iter()
            .filter_map(|p| match p {
                Pending::Fresh(f) => Some(f),
                Pending::Alone(_) => None,
            })
            .flat_map(|f| rows::sign_in_names(&f.user))
            .map(|(_, k)| k)
            .collect();
        rows::taken_names(&mut run.w.tx, self.backend(), run.admin.org.id, &keys).await
    }

    /// Judges one row in memory; `None` when it must go the row-by-row way.
    async fn judge_fresh(
        &self,
        run: &mut Run<'_>,
        fresh: &Fresh,
        at: usize,
        taken: &HashSet<String>,
        claimed: &mut HashSet<String>,
    ) -> Result<Option<Ready>> {
        let admin = run.admin;
        let user = fresh.user.clone();
        let names = rows::sign_in_names(&user);
        if names
            .iter()
            .any(|(_, k)| taken.contains(k) || claimed.contains(k))
        {
            return Ok(None);
        }
        if run.lane.actor.is_none() {
            let probe = user_addition(UserId(uuid::Uuid::nil()));
            run.lane.actor = Some(self.actor(&mut run.w.tx, admin, &[probe]).await?);
        }
        let uid = user.id;
        let who = user.username.to_string();
        let lists = &fresh.lists;
        let groups: Vec<GroupId> = lists
            .groups
            .iter()
            .flat_map(|w| w.items.iter().copied())
            .collect();
        let profiles: Vec<ProfileId> = lists
            .profiles
            .iter()
            .flat_map(|w| w.items.iter().copied())
            .collect();
        let roles: Vec<RoleId> = lists
            .roles
            .iter()
            .flat_map(|w| w.items.iter().copied())
            .collect();
        for g in &groups {
            if !self
                .know_group(&mut run.w, admin, &mut run.lane, *g)
                .await?
            {
                return Ok(None);
            }
        }
        for p in &profiles {
            if !self
                .know_profile(&mut run.w, admin, &mut run.lane, *p)
                .await?
            {
                return Ok(None);
            }
        }
        for r in &roles {
            if !self.know_role(&mut run.w, admin, &mut run.lane, *r).await? {
                return Ok(None);
            }
        }
        for g in &groups {
            let Some(Some(t)) = run.lane.groups.get(g) else {
                return Ok(None);
            };
            for p in t.profiles.clone() {
                if !self
                    .know_profile(&mut run.w, admin, &mut run.lane, p)
                    .await?
                {
                    return Ok(None);
                }
            }
        }
        let lane = &run.lane;
        let Some(actor) = lane.actor.as_ref() else {
            return Ok(None);
        };
        let catalogue = self.catalogue();
        let one_role = |app: &str| catalogue.get(app).is_some_and(|a| a.def.one_role_per_user);
        let mut changes = vec![user_addition(uid)];
        let mut mine: Vec<HeldRole> = Vec::new();
        let mut held: BTreeSet<ProfileId> = BTreeSet::new();
        let mut seated: Vec<ProfileId> = Vec::new();
        let mut take_seat = |p: ProfileId, t: &ProfileTerms, seated: &mut Vec<ProfileId>| {
            if !held.insert(p) {
                return true;
            }
            if t.profile.seat_quota.is_some_and(|q| t.used >= q) {
                return false;
            }
            seated.push(p);
            true
        };
        // In the order of `import_row`: groups, then seats, then roles.
        for g in &groups {
            let Some(Some(t)) = lane.groups.get(g) else {
                return Ok(None);
            };
            changes.push(membership(*g, uid));
            if one_role_per_user(&one_role, &who, &mine, &t.gained).is_err() {
                return Ok(None);
            }
            mine.extend(t.gained.iter().cloned());
            for p in &t.profiles {
                let Some(Some(pt)) = lane.profiles.get(p) else {
                    return Ok(None);
                };
                if !take_seat(*p, pt, &mut seated) {
                    return Ok(None);
                }
            }
        }
        for p in &profiles {
            let Some(Some(pt)) = lane.profiles.get(p) else {
                return Ok(None);
            };
            changes.push(seat(&pt.profile, Effect::User(uid)));
            if one_role_per_user(&one_role, &who, &mine, &pt.bundle).is_err() {
                return Ok(None);
            }
            mine.extend(pt.bundle.iter().cloned());
            if !take_seat(*p, pt, &mut seated) {
                return Ok(None);
            }
        }
        for r in &roles {
            let Some(Some(role)) = lane.roles.get(r) else {
                return Ok(None);
            };
            let through_groups = catalogue
                .get(&role.application)
                .is_some_and(|a| a.def.roles_through_groups);
            if through_groups && !role.builtin {
                return Ok(None);
            }
            changes.push(role_assignment(&role.application, Effect::User(uid)));
            let gained = [HeldRole {
                role: role.id,
                role_name: role.name.to_string(),
                application: role.application.clone(),
                via: HeldVia::Direct,
            }];
            if one_role_per_user(&one_role, &who, &mine, &gained).is_err() {
                return Ok(None);
            }
            mine.extend(gained);
        }
        let mut approved: Option<Approved> = None;
        for change in changes {
            let Ok(ok) = judge(actor, change) else {
                return Ok(None);
            };
            approved = Some(match approved {
                None => ok,
                Some(prev) => prev.and(ok),
            });
        }
        let Some(approved) = approved else {
            return Ok(None);
        };
        // Certain to succeed: count its seats and claim its names.
        for p in &seated {
            if let Some(Some(t)) = run.lane.profiles.get_mut(p) {
                t.used += 1;
            }
        }
        claimed.extend(names.into_iter().map(|(_, k)| k));
        Ok(Some(Ready {
            at,
            user,
            groups,
            seats: profiles,
            roles,
            approved,
        }))
    }

    /// Reads a group's terms once (the group locked, as `add_member` locks it); false when its
    /// members go the row-by-row way.
    async fn know_group(
        &self,
        w: &mut WriteTx,
        admin: &OrgAdmin,
        lane: &mut Lane,
        id: GroupId,
    ) -> Result<bool> {
        if let Some(t) = lane.groups.get(&id) {
            return Ok(t.is_some());
        }
        let b = self.backend();
        let org = admin.org.id;
        let terms = match crate::store::directory::lock_group(&mut w.tx, b, org, id).await? {
            // A provisioned group's membership may belong to the identity provider.
            Some(group) if group.provisioned_by.is_none() => {
                let (gained, profiles) = hq::group_carries(&mut w.tx, b, org, id).await?;
                Some(GroupTerms {
                    group,
                    gained,
                    profiles,
                })
            }
            _ => None,
        };
        let known = terms.is_some();
        lane.groups.insert(id, terms);
        Ok(known)
    }

    /// Reads a profile once under its lock, with its bundle and the seats in use.
    async fn know_profile(
        &self,
        w: &mut WriteTx,
        admin: &OrgAdmin,
        lane: &mut Lane,
        id: ProfileId,
    ) -> Result<bool> {
        if let Some(t) = lane.profiles.get(&id) {
            return Ok(t.is_some());
        }
        let b = self.backend();
        let org = admin.org.id;
        let terms = match pq::lock_profile(&mut w.tx, b, org, id).await? {
            Some(profile) => {
                let bundle =
                    hq::bundle_roles(&mut w.tx, b, org, id, profile.name.as_str(), &profile.roles)
                        .await?;
                let used = pq::seats_used(&mut w.tx, b, id).await?;
                Some(ProfileTerms {
                    profile,
                    bundle,
                    used,
                })
            }
            None => None,
        };
        let known = terms.is_some();
        lane.profiles.insert(id, terms);
        Ok(known)
    }

    async fn know_role(
        &self,
        w: &mut WriteTx,
        admin: &OrgAdmin,
        lane: &mut Lane,
        id: RoleId,
    ) -> Result<bool> {
        if let Some(r) = lane.roles.get(&id) {
            return Ok(r.is_some());
        }
        let role =
            crate::store::directory::get_role(&mut w.tx, self.backend(), admin.org.id, id).await?;
        let known = role.is_some();
        lane.roles.insert(id, role);
        Ok(known)
    }

    /// Writes the judged rows and records them. Should the database refuse the batch (a name
    /// claimed meanwhile by another transaction on PostgreSQL), nothing of it stays and its
    /// rows go one by one, each reporting what became of it.
    async fn write_ready(
        &self,
        run: &mut Run<'_>,
        pending: &[Pending],
        ready: Vec<Ready>,
    ) -> Result<()> {
        if ready.is_empty() {
            return Ok(());
        }
        // The audit entries are drafted, and hashed but for their link, on a blocking thread
        // while the database writes the rows they describe: the same records the use cases
        // make, in the same order.
        let stories: Vec<Story> = ready
            .iter()
            .map(|r| Story {
                user: r.user.clone(),
                groups: r.groups.iter().filter_map(|g| run.lane.group(g)).collect(),
                seats: r.seats.iter().filter_map(|p| run.lane.profile(p)).collect(),
                roles: r.roles.iter().filter_map(|id| run.lane.role(id)).collect(),
            })
            .collect();
        let (org, now) = (run.admin.org.id, self.now());
        let actor = self.acting_party(&mut run.w, run.admin).await?;
        let client = current_client();
        let drafting = tokio::task::spawn_blocking(move || {
            let mut entries = Vec::new();
            for s in &stories {
                let mut records = vec![user_created(&s.user)];
                records.extend(s.groups.iter().map(|g| member_added(&s.user, g)));
                records.extend(s.seats.iter().map(|p| seat_assigned(&s.user, p)));
                records.extend(s.roles.iter().map(|r| role_assigned(&s.user, r)));
                entries.extend(records.into_iter().map(|r| {
                    let entry = draft(org, now, actor.clone(), &client, r);
                    let unlinked = entry.unlinked();
                    (entry, unlinked)
                }));
            }
            entries
        });
        let mark = run.w.mark().await?;
        match self
            .write_people(&mut run.w, run.admin, &run.lane, &ready)
            .await
        {
            Ok(()) => {
                run.w.release_mark().await?;
                // Statistics that count these rows (store::bulk::refresh_statistics).
                for _ in &ready {
                    run.statistics.row(&mut run.w.tx, self.backend()).await?;
                }
            }
            Err(Error::Database(e)) => {
                tracing::info!(error = %e, rows = ready.len(), "an import batch went row by row");
                run.w.rollback_to_mark(mark).await?;
                for r in &ready {
                    self.slow_row(run, pending[r.at].row()).await?;
                }
                return Ok(());
            }
            Err(e) => return Err(e),
        }
        let entries = drafting
            .await
            .map_err(|e| Error::Internal(format!("drafting an import's audit entries: {e}")))?;
        for (entry, unlinked) in entries {
            run.w.record_unlinked(entry, unlinked);
            if run.w.recorded() >= AUDIT_FLUSH {
                run.w.flush_audit().await?;
            }
        }
        let mut touched = BTreeSet::new();
        for r in ready {
            touched.extend(r.groups.iter().copied());
            run.created(pending[r.at].row(), r.approved)?;
        }
        for g in touched {
            run.w.touch_group(g, now).await?;
        }
        Ok(())
    }

    /// The batch's rows: people, their invitations and the mails that carry them, memberships,
    /// direct seats and roles, a few statements.
    async fn write_people(
        &self,
        w: &mut WriteTx,
        admin: &OrgAdmin,
        lane: &Lane,
        ready: &[Ready],
    ) -> Result<()> {
        let b = self.backend();
        let now = self.now();
        let org = admin.org.id.to_string();
        let people: Vec<User> = ready.iter().map(|r| r.user.clone()).collect();
        rows::insert_people(&mut w.tx, b, &people).await?;
        // An invited person gets the "Get started" mail with the insert, as `create_user` does.
        let mut invitations = Vec::new();
        let mut mails = Vec::new();
        let sent_by = admin.principal.user();
        for u in people.iter().filter(|u| u.status == UserStatus::Invited) {
            let i = draft_invitation(&admin.org, u, Some("bulk import"), sent_by, now, self);
            invitations.push(iq::invitation_row(&i.row, &i.token_hash));
            mails.push(sq::mail_row(admin.org.id, &i.mail, now));
        }
        rows::insert_rows(
            &mut w.tx,
            b,
            "invitations",
            iq::INSERT_COLUMNS,
            invitations,
            "",
        )
        .await?;
        rows::insert_rows(&mut w.tx, b, "outbox", sq::OUTBOX_COLUMNS, mails, "").await?;
        let mut members = Vec::new();
        let mut seats = Vec::new();
        let mut roles = Vec::new();
        for r in ready {
            let u = r.user.id.to_string();
            members.extend(r.groups.iter().map(|g| (g.to_string(), u.clone(), None)));
            seats.extend(r.seats.iter().map(|p| (p.to_string(), u.clone(), None)));
            for id in &r.roles {
                let app = lane
                    .roles
                    .get(id)
                    .and_then(|r| r.as_ref())
                    .map(|r| r.application.clone());
                roles.push((u.clone(), id.to_string(), app));
            }
        }
        use crate::store::{GROUP_MEMBERS, PROFILE_USERS, USER_ROLES};
        rows::link_all(&mut w.tx, b, GROUP_MEMBERS, &org, now, None, members).await?;
        rows::link_all(&mut w.tx, b, PROFILE_USERS, &org, now, None, seats).await?;
        rows::link_all(
            &mut w.tx,
            b,
            USER_ROLES,
            &org,
            now,
            Some("application"),
            roles,
        )
        .await?;
        Ok(())
    }
}
