//! The import's rows about people already there that would change nothing (issue 12). Importing
//! the same file again must change nothing, and at scale it should not take a round of reads
//! and a savepoint per row to find that out. A batch asks once which of its rows' people exist
//! and what each holds directly (`store::bulk::users_by_email`, `direct_holdings`), and a row
//! whose fields and lists that person already has is reported unchanged without touching the
//! database: the comparisons are `import_row`'s own (`user_patch`, `Wanted::met_by`,
//! `wants_inactive`), so the verdict is the one the row would get on its own. Any other row
//! goes the way it went before.
//!
//! Why the batch may read first and decide later: a row's verdict depends only on its own
//! person, and no other row of the file touches that person. A file names each person once
//! (duplicate e-mails are refused by the reader, ignoring case), and no row changes someone
//! else: rows are matched by e-mail, a row's e-mail change is a change of case only, and no
//! row deletes groups, profiles or roles.

use super::bulk::{patch_changes, row_lists, user_patch, wants_inactive, Pending, Run};
use super::Directory;
use crate::error::Result;
use crate::store::bulk::{self as bq, DirectHoldings};
use rolecall_bulk::{Operation as RowOperation, RowPlan};
use rolecall_core::model::{User, UserId, UserStatus};
use std::collections::HashMap;

/// The people a batch's rows name who exist, by e-mail key, with what each holds directly.
#[derive(Default)]
pub(super) struct Known {
    people: HashMap<String, (User, DirectHoldings)>,
}

/// A row's identity as `import_row` looks its person up.
fn email_key(row: &RowPlan) -> String {
    row.user.email.to_ascii_lowercase()
}

impl Directory {
    /// Reads who of `pending`'s people exist and what they hold: five queries for the batch.
    pub(super) async fn known_people(
        &self,
        run: &mut Run<'_>,
        pending: &[Pending],
    ) -> Result<Known> {
        let keys: Vec<String> = pending.iter().map(|p| email_key(p.row())).collect();
        let (b, org) = (self.backend(), run.admin.org.id);
        let users = bq::users_by_email(&mut run.w.tx, b, org, &keys).await?;
        if users.is_empty() {
            return Ok(Known::default());
        }
        let ids: Vec<UserId> = users.iter().map(|u| u.id).collect();
        let mut holdings = bq::direct_holdings(&mut run.w.tx, b, org, &ids).await?;
        let people = users
            .into_iter()
            .map(|u| {
                let held = holdings.remove(&u.id).unwrap_or_default();
                (u.email.key(), (u, held))
            })
            .collect();
        Ok(Known { people })
    }
}

/// Whether `import_row` would find nothing to do for `row`, given what `known` read; `false`
/// whenever it is not certain (an unknown name, say), so the row takes the usual way.
pub(super) fn changes_nothing(run: &Run<'_>, known: &Known, item: &Pending) -> bool {
    let row = item.row();
    let existing = known.people.get(&email_key(row));
    if row.operation == RowOperation::Remove {
        // Removing someone who is not there.
        return existing.is_none();
    }
    let Some((user, have)) = existing else {
        return false;
    };
    // A batch row's lists were resolved when it was routed; another row's are resolved now.
    let resolved;
    let lists = match item {
        Pending::Fresh(f) => &f.lists,
        Pending::Alone(_) => match row_lists(run.template, &run.names, row) {
            Ok(l) => {
                resolved = l;
                &resolved
            }
            Err(_) => return false,
        },
    };
    if patch_changes(&user_patch(&row.user, user)) {
        return false;
    }
    if wants_inactive(row) && user.status != UserStatus::Inactive {
        return false;
    }
    lists.groups.as_ref().is_none_or(|w| w.met_by(&have.groups))
        && lists
            .profiles
            .as_ref()
            .is_none_or(|w| w.met_by(&have.profiles))
        && lists.roles.as_ref().is_none_or(|w| w.met_by(&have.roles))
        && lists.rights.as_ref().is_none_or(|w| w.met_by(&have.rights))
}
