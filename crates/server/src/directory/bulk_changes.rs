//! Bulk changes outside files (issue 12): many users into a group, a product profile or a
//! role in one call, and a product withdrawn from a user across all its profiles — what the
//! Admin Console offers as "Add Product Profile to multiple users" and "Remove product access
//! from a user (strip from all configs)" (seed 004).
//!
//! Each call is one write transaction that runs every user through the single-change use case
//! (`add_member_in`, `add_profile_user_in`, `assign_role_in`, `remove_profile_user_in`,
//! `unassign_role_in`), so the rights rule, one role per user, seat quotas, the
//! administrators rail and the audit entries are exactly those of the single calls. The first
//! refusal undoes the whole call: nothing is written unless every user fits. One
//! `commit_rights` at the end recompiles the snapshot once.

use super::Directory;
use crate::directory::OrgAdmin;
use crate::error::{Error, Result};
use crate::store::directory as q;
use crate::store::profiles as pq;
use rolecall_core::authz::ProfileId;
use rolecall_core::change::Approved;
use rolecall_core::model::{GroupId, RoleId, UserId};
use rolecall_core::{Error as DomainError, FieldError};
use serde::Serialize;
use std::collections::{BTreeSet, HashSet};

/// The most users one call may name: large enough for a department, small enough that one
/// transaction stays short (the console selects at most 500 at once).
pub const MAX_BATCH_USERS: usize = 1000;

/// What many users are added to.
#[derive(Debug, Clone, Copy)]
pub enum BatchTarget {
    Group(GroupId),
    Profile(ProfileId),
    Role(RoleId),
}

/// What happened to one user of a batch.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum BatchOutcome {
    /// The membership, seat or role is new.
    Added,
    /// They were already there: nothing changed for them.
    AlreadyThere,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct BatchItem {
    pub user_id: UserId,
    pub outcome: BatchOutcome,
}

/// The answer to a batch: one item per distinct user, in the order first named.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct BatchResult {
    pub items: Vec<BatchItem>,
    /// Users for whom something changed.
    pub added: usize,
    /// Users who were already there.
    pub already_there: usize,
}

/// A profile or role named in a removal report.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Named {
    pub id: String,
    pub name: String,
}

/// What "remove product from user" withdrew, and what it left and why.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ProductRemoval {
    pub user_id: UserId,
    pub application: String,
    /// Profiles of the product in which the user's own seat was released.
    pub seats_released: Vec<Named>,
    /// Roles of the product assigned to the user directly that were unassigned.
    pub roles_unassigned: Vec<Named>,
    /// Groups through which the user still reaches the product (a seat in one of its profiles
    /// or one of its roles). Leaving a group changes everything else it carries, so it is the
    /// admin's decision: remove the user from the group, or the group from the profile.
    pub still_through_groups: Vec<Named>,
    /// True when the user holds the product's Administrators role: an administration right,
    /// not product access, so it is left alone (unassign it on its own).
    pub administrators_kept: bool,
}

/// Parses the ids of a batch, every problem at once; duplicates are dropped (first kept).
fn parse_user_ids(raw: &[String]) -> Result<Vec<UserId>> {
    if raw.is_empty() {
        return Err(DomainError::invalid("user_ids", "min_items", "name at least one user").into());
    }
    if raw.len() > MAX_BATCH_USERS {
        return Err(DomainError::invalid(
            "user_ids",
            "max_items",
            format!("name at most {MAX_BATCH_USERS} users per call"),
        )
        .into());
    }
    let mut seen = HashSet::new();
    let mut out = Vec::with_capacity(raw.len());
    let mut problems = Vec::new();
    for (i, s) in raw.iter().enumerate() {
        match s.trim().parse::<UserId>() {
            Ok(id) => {
                if seen.insert(id) {
                    out.push(id);
                }
            }
            Err(_) => problems.push(FieldError::new(
                format!("user_ids[{i}]"),
                "uuid",
                "must be a user id",
            )),
        }
    }
    if problems.is_empty() {
        Ok(out)
    } else {
        Err(DomainError::Invalid(problems).into())
    }
}

/// The first index at which `id` appears in the caller's list, to name it in problems.
fn index_of(raw: &[String], id: UserId) -> usize {
    raw.iter()
        .position(|s| s.trim().parse::<UserId>().ok() == Some(id))
        .unwrap_or(0)
}

/// A single call's refusal, restated for the batch: which user it concerns.
fn for_user(e: Error, raw: &[String], id: UserId, name: &str) -> Error {
    let at = index_of(raw, id);
    match e {
        Error::Domain(DomainError::Conflict { code, message }) => {
            Error::Domain(DomainError::Conflict {
                code,
                message: format!("user_ids[{at}] ({name}): {message}; nothing was changed"),
            })
        }
        Error::Domain(DomainError::Invalid(mut fields)) => {
            for f in &mut fields {
                if f.field == "user_id" {
                    f.field = format!("user_ids[{at}]");
                }
            }
            Error::Domain(DomainError::Invalid(fields))
        }
        other => other,
    }
}

fn join(acc: Option<Approved>, ok: Approved) -> Option<Approved> {
    Some(match acc {
        None => ok,
        Some(prev) => prev.and(ok),
    })
}

impl Directory {
    /// Adds many users to a group, a product profile or a role, all or nothing, in one
    /// transaction. Every user goes through the single call's use case; the first refusal (a
    /// right the admin lacks, one role per user, a full profile) undoes everything. A user id
    /// outside the organisation is a 422 naming its position, before anything is written.
    pub async fn add_users(
        &self,
        admin: &OrgAdmin,
        target: BatchTarget,
        user_ids: &[String],
    ) -> Result<BatchResult> {
        let users = parse_user_ids(user_ids)?;
        let org = &admin.org;
        let b = self.backend();
        let mut w = self.db.write().await?;
        // One version bump per group for the whole batch (store::WriteTx::defer_group_touches).
        w.defer_group_touches();
        let mut quota_note = None;
        // The target first (404), then every user (422 for each unknown one, all at once).
        match target {
            BatchTarget::Group(g) => {
                q::get_group(&mut w.tx, b, org.id, g)
                    .await?
                    .ok_or_else(|| DomainError::not_found("group", g))?;
            }
            BatchTarget::Profile(p) => {
                let profile = pq::get_profile(&mut w.tx, b, org.id, p)
                    .await?
                    .ok_or_else(|| DomainError::not_found("profile", p))?;
                if let Some(quota) = profile.seat_quota {
                    quota_note = Some((profile.name.to_string(), quota));
                }
            }
            BatchTarget::Role(r) => {
                q::get_role(&mut w.tx, b, org.id, r)
                    .await?
                    .ok_or_else(|| DomainError::not_found("role", r))?;
            }
        }
        let mut names = Vec::with_capacity(users.len());
        let mut unknown = Vec::new();
        for id in &users {
            match q::get_user(&mut w.tx, b, org.id, *id).await? {
                Some(u) => names.push(u.username.to_string()),
                None => {
                    unknown.push(FieldError::new(
                        format!("user_ids[{}]", index_of(user_ids, *id)),
                        "unknown_user",
                        format!("no user {id} in this organization"),
                    ));
                    names.push(String::new());
                }
            }
        }
        if !unknown.is_empty() {
            return Err(DomainError::Invalid(unknown).into());
        }
        // For a profile with a quota, what the whole call needs, to say so if it does not fit
        // (the authoritative check is the single call's, under the profile's lock).
        let need = match (target, &quota_note) {
            (BatchTarget::Profile(p), Some(_)) => Some(self.seats_needed(&mut w, p, &users).await?),
            _ => None,
        };
        let mut approved = None;
        let mut changed = false;
        let mut items = Vec::with_capacity(users.len());
        for (id, name) in users.iter().zip(&names) {
            let step = match target {
                BatchTarget::Group(g) => self.add_member_in(&mut w, admin, g, *id).await,
                BatchTarget::Profile(p) => self.add_profile_user_in(&mut w, admin, p, *id).await,
                BatchTarget::Role(r) => self.assign_role_in(&mut w, admin, *id, r).await,
            };
            let (ok, ch, added) = match step {
                Ok(s) => s,
                Err(Error::Domain(DomainError::Conflict {
                    code: "quota_exceeded",
                    ..
                })) if need.is_some() => {
                    let (profile, quota) = quota_note.unwrap_or_default();
                    let (used, needed) = need.unwrap_or_default();
                    return Err(DomainError::conflict(
                        "quota_exceeded",
                        format!(
                            "profile {profile} has {quota} seats and {} free: these users need {needed} more; nothing was changed",
                            (quota - used).max(0)
                        ),
                    )
                    .into());
                }
                Err(e) => return Err(for_user(e, user_ids, *id, name)),
            };
            approved = join(approved, ok);
            changed |= ch;
            items.push(BatchItem {
                user_id: *id,
                outcome: if added {
                    BatchOutcome::Added
                } else {
                    BatchOutcome::AlreadyThere
                },
            });
        }
        let ok = approved.ok_or_else(|| Error::Internal("a batch judged no change".into()))?;
        self.commit_rights(w, org.id, ok, changed).await?;
        let added = items
            .iter()
            .filter(|i| i.outcome == BatchOutcome::Added)
            .count();
        Ok(BatchResult {
            already_there: items.len() - added,
            added,
            items,
        })
    }

    /// Withdraws a product from a user in one transaction: their own seat in every profile of
    /// the application, and every role of it assigned to them directly — each through the
    /// single call's use case (judged, audited). Access through groups stays and is reported,
    /// as is the application's Administrators role (an administration right). Calling it again
    /// changes nothing.
    pub async fn remove_product(
        &self,
        admin: &OrgAdmin,
        user: UserId,
        application: &str,
    ) -> Result<ProductRemoval> {
        let org = &admin.org;
        let b = self.backend();
        if self.catalogue().get(application).is_none() {
            return Err(DomainError::not_found("application", application).into());
        }
        let mut w = self.db.write().await?;
        // User first, then profiles: the lock order of `directory::holding`.
        q::lock_user(&mut w.tx, b, org.id, user)
            .await?
            .ok_or_else(|| DomainError::not_found("user", user))?;
        let mut direct_seats = Vec::new();
        let mut groups: BTreeSet<GroupId> = BTreeSet::new();
        for (pid, via) in pq::user_seats(&mut w.tx, b, user).await? {
            let Some(profile) = pq::get_profile(&mut w.tx, b, org.id, pid).await? else {
                continue;
            };
            if profile.application != application {
                continue;
            }
            match via {
                None => direct_seats.push(profile),
                Some(g) => {
                    groups.insert(g);
                }
            }
        }
        direct_seats.sort_by_key(|p| p.id);
        direct_seats.dedup_by_key(|p| p.id);
        let mut direct_roles = Vec::new();
        let mut administrators_kept = false;
        for (role_id, _, app, via) in q::held_roles(&mut w.tx, b, org.id, user).await? {
            if app != application {
                continue;
            }
            match via {
                Some(g) => {
                    groups.insert(g);
                }
                None => {
                    let Some(role) = q::get_role(&mut w.tx, b, org.id, role_id).await? else {
                        continue;
                    };
                    if role.builtin {
                        administrators_kept = true;
                    } else {
                        direct_roles.push(role);
                    }
                }
            }
        }
        let mut approved = None;
        let mut changed = false;
        let mut seats_released = Vec::new();
        for profile in &direct_seats {
            let (ok, ch, ()) = self
                .remove_profile_user_in(&mut w, admin, profile.id, user)
                .await?;
            approved = join(approved, ok);
            changed |= ch;
            seats_released.push(Named {
                id: profile.id.to_string(),
                name: profile.name.to_string(),
            });
        }
        let mut roles_unassigned = Vec::new();
        for role in &direct_roles {
            let (ok, ch, ()) = self.unassign_role_in(&mut w, admin, user, role.id).await?;
            approved = join(approved, ok);
            changed |= ch;
            roles_unassigned.push(Named {
                id: role.id.to_string(),
                name: role.name.to_string(),
            });
        }
        let mut still_through_groups = Vec::new();
        for g in &groups {
            if let Some(group) = q::get_group(&mut w.tx, b, org.id, *g).await? {
                still_through_groups.push(Named {
                    id: group.id.to_string(),
                    name: group.name.to_string(),
                });
            }
        }
        match approved {
            Some(ok) => self.commit_rights(w, org.id, ok, changed).await?,
            // Nothing held directly: nothing to judge or write.
            None => drop(w),
        }
        Ok(ProductRemoval {
            user_id: user,
            application: application.to_string(),
            seats_released,
            roles_unassigned,
            still_through_groups,
            administrators_kept,
        })
    }

    /// Seats in use in `p` before the call, and how many of `users` would take a new one
    /// (active or invited, holding no seat there yet).
    async fn seats_needed(
        &self,
        w: &mut crate::store::WriteTx,
        p: ProfileId,
        users: &[UserId],
    ) -> Result<(i64, i64)> {
        let b = self.backend();
        let used = pq::seats_used(&mut w.tx, b, p).await?;
        let mut needed = 0;
        for u in users {
            if pq::takes_seat(&mut w.tx, b, *u).await?
                && !pq::holds_seat(&mut w.tx, b, p, *u).await?
            {
                needed += 1;
            }
        }
        Ok((used, needed))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_parsed_all_at_once_and_duplicates_dropped() {
        let a = UserId(uuid::Uuid::from_u128(1)).to_string();
        let b = UserId(uuid::Uuid::from_u128(2)).to_string();
        let ok = parse_user_ids(&[a.clone(), b.clone(), a.clone()]).map_err(|e| e.to_string());
        assert_eq!(ok.map(|v| v.len()), Ok(2));
        let bad = parse_user_ids(&["x".into(), a, "y".into()]);
        match bad {
            Err(Error::Domain(DomainError::Invalid(f))) => {
                let fields: Vec<_> = f.iter().map(|f| f.field.as_str()).collect();
                assert_eq!(fields, ["user_ids[0]", "user_ids[2]"]);
            }
            other => panic!("expected field errors, got {other:?}"),
        }
        assert!(parse_user_ids(&[]).is_err());
        let many: Vec<String> = (0..=MAX_BATCH_USERS as u128)
            .map(|i| UserId(uuid::Uuid::from_u128(i)).to_string())
            .collect();
        assert!(parse_user_ids(&many).is_err());
    }
}
