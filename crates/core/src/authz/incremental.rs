//! Incremental snapshot updates (issue 14): re-deriving the rows of a few users and publishing a
//! new [`OrgSnapshot`] that shares every other chunk with the one it started from.
//!
//! A user's rows depend on the user's own status, direct roles, group memberships and seats
//! ([`UserRights`], which the store reads for just those users) and on the organisation's rules
//! (roles, what each group carries, profiles and the groups assigned to them), which are kept
//! from the last full compile in [`Rules`]. Changes to the rules themselves are wide and go
//! through [`OrgSnapshot::compile`] again; only changes to users' own holdings come here.
//!
//! Architecture Invariant: for every model and every sequence of user-level changes,
//! `with_users` answers every check and explanation exactly as `compile` of the changed model
//! does (the property test below).

use super::{AppRows, Held, OrgSnapshot, UserChunk, CHUNK};
use crate::authz::ProfileId;
use crate::model::{GroupId, RoleId, UserId, UserStatus, Via};
use rustc_hash::FxHashMap;
use std::sync::Arc;

/// Everything the store knows about one user that decides the user's rows: what a
/// `Delta::Users` change re-reads, inside the write transaction, for each user it names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserRights {
    pub id: UserId,
    pub status: UserStatus,
    /// Roles held directly.
    pub roles: Vec<RoleId>,
    /// Groups the user is a member of.
    pub groups: Vec<GroupId>,
    /// Product profile seats held directly (seats through groups follow from `groups`).
    pub seats: Vec<ProfileId>,
}

/// The organisation-wide part of a compile that deriving one user's rows needs.
#[derive(Debug)]
pub(super) struct Rules {
    /// Role → (application, index into its compiled roles).
    pub(super) role_loc: FxHashMap<RoleId, (u32, u32)>,
    /// Roles each group carries, in the model's order.
    pub(super) group_roles: FxHashMap<GroupId, Vec<RoleId>>,
    /// Profile → (application, index into its profiles, bundled roles).
    pub(super) profile_loc: FxHashMap<ProfileId, (u32, u32, Vec<RoleId>)>,
    /// Groups assigned to profiles, in the model's order (explanations list seats in it).
    pub(super) profile_groups: Vec<(ProfileId, GroupId)>,
}

/// One user's rows in one application, before they go into a chunk.
struct Row {
    unrestricted: Vec<u64>,
    admin: bool,
    restricted: Vec<u32>,
    held: Vec<Held>,
    licensed: bool,
}

impl OrgSnapshot {
    /// A new snapshot in which the named users' rows are derived again from `rows` (users not
    /// yet in the snapshot are appended). Copies only the chunks and index shards those users
    /// live in, plus the chunk table; everything else is shared with `self`.
    ///
    /// The organisation's rules (roles, group roles, profiles, scopes, the catalogue) are the
    /// ones `self` was compiled with: changes to them must compile the whole model again.
    pub fn with_users(&self, rows: &[UserRights]) -> OrgSnapshot {
        let mut next = self.clone();
        for rights in rows {
            let derived = next.derive(rights);
            let u = match next.index.get(&rights.id) {
                Some(&u) => u as usize,
                None => {
                    let u = next.n_users;
                    next.n_users += 1;
                    next.index.insert(rights.id, u as u32);
                    if u.is_multiple_of(CHUNK) {
                        next.chunks.push(Arc::new(UserChunk {
                            status: Vec::with_capacity(CHUNK),
                            apps: vec![AppRows::default(); next.apps.len()],
                        }));
                    }
                    u
                }
            };
            let chunk = Arc::make_mut(&mut next.chunks[u / CHUNK]);
            let off = u % CHUNK;
            if off == chunk.status.len() {
                chunk.status.push(rights.status);
                for (rows, row) in chunk.apps.iter_mut().zip(derived) {
                    rows.unrestricted.extend_from_slice(&row.unrestricted);
                    rows.admin.push(row.admin);
                    rows.restricted.push(row.restricted);
                    rows.held.push(row.held);
                    rows.licensed.push(row.licensed);
                }
            } else {
                chunk.status[off] = rights.status;
                for ((rows, row), app) in chunk.apps.iter_mut().zip(derived).zip(self.apps.iter()) {
                    let w = app.words;
                    rows.unrestricted[off * w..(off + 1) * w].copy_from_slice(&row.unrestricted);
                    rows.admin[off] = row.admin;
                    rows.restricted[off] = row.restricted;
                    rows.held[off] = row.held;
                    rows.licensed[off] = row.licensed;
                }
            }
        }
        next
    }

    /// One user's rows in every application, by the same steps as the full compile takes for
    /// each user: direct roles, roles through groups, then seats (direct, then through groups),
    /// so explanations list roles in the same order.
    fn derive(&self, user: &UserRights) -> Vec<Row> {
        let rules = &self.rules;
        let mut out: Vec<Row> = self
            .apps
            .iter()
            .map(|app| Row {
                unrestricted: vec![0; app.words],
                admin: false,
                restricted: Vec::new(),
                held: Vec::new(),
                licensed: app.profiles.is_empty(),
            })
            .collect();

        let mut holdings: Vec<(RoleId, Via, Option<u32>)> = Vec::new();
        for r in &user.roles {
            holdings.push((*r, Via::Direct, None));
        }
        for g in &user.groups {
            for r in rules.group_roles.get(g).into_iter().flatten() {
                holdings.push((*r, Via::Group { group_id: *g }, None));
            }
        }
        let mut seats: Vec<(ProfileId, Via)> =
            user.seats.iter().map(|p| (*p, Via::Direct)).collect();
        for (p, g) in &rules.profile_groups {
            for _ in user.groups.iter().filter(|m| *m == g) {
                seats.push((*p, Via::Group { group_id: *g }));
            }
        }
        for (p, via) in seats {
            let Some((a, pi, roles)) = rules.profile_loc.get(&p) else {
                continue;
            };
            out[*a as usize].licensed = true;
            for r in roles {
                if let Some(&(ra, ri)) = rules.role_loc.get(r) {
                    if ra == *a && !self.apps[*a as usize].roles[ri as usize].admin {
                        holdings.push((*r, via, Some(*pi)));
                    }
                }
            }
        }

        for (r, via, profile) in holdings {
            let Some(&(a, ri)) = rules.role_loc.get(&r) else {
                continue;
            };
            let row = &mut out[a as usize];
            row.held.push(Held {
                role: ri,
                via,
                profile,
            });
            let role = &self.apps[a as usize].roles[ri as usize];
            if role.admin {
                row.admin = true;
            } else if !row.licensed {
                // Gated and unlicensed: recorded for explanations, grants nothing.
            } else if role.scopes.is_some() {
                if !row.restricted.contains(&ri) {
                    row.restricted.push(ri);
                }
            } else {
                for (dst, src) in row.unrestricted.iter_mut().zip(role.bits.iter()) {
                    *dst |= *src;
                }
            }
        }
        out
    }

    /// Whether two snapshots share the chunk holding user index `u` (tests of the sharing).
    #[cfg(test)]
    fn shares_chunk_with(&self, other: &OrgSnapshot, chunk: usize) -> bool {
        Arc::ptr_eq(&self.chunks[chunk], &other.chunks[chunk])
    }
}

#[cfg(test)]
mod tests;
