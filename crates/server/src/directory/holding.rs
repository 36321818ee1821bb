//! The server half of the holding rules (`rolecall_core::holding`): inside a use case's write
//! transaction, after the use case has locked the people concerned, load what they hold (and
//! who holds each application's `Administrators` role) and ask the core.
//!
//! Lock order, shared by every use case that changes who holds what, so that two of them never
//! wait on each other: groups, then users (by id), then the organisation row (the last-System-
//! admin rail), then the `Administrators` role rows, then profiles. Reads made after a lock see every change committed
//! before it (PostgreSQL's read committed); SQLite serialises all writers anyway.

use super::Directory;
use crate::error::Result;
use crate::store::holding::{self as hq, People};
use rolecall_core::authz::ProfileId;
use rolecall_core::holding::{keep_an_administrator, one_role_per_user, HeldRole, HeldVia, Loss};
use rolecall_core::model::{OrgId, RoleId, UserId};
use sqlx::AnyConnection;

impl Directory {
    /// One role per user: refuses the change when any of `who` (the locked rows of `people`)
    /// would hold two roles of an application that allows one. What they hold through
    /// `replacing` is left out: that profile's bundle is being replaced by `gained`.
    pub(crate) async fn refuse_second_role(
        &self,
        c: &mut AnyConnection,
        org: OrgId,
        people: People,
        who: &[(UserId, String)],
        gained: &[HeldRole],
        replacing: Option<ProfileId>,
    ) -> Result<()> {
        let catalogue = self.catalogue();
        let one_role = |app: &str| catalogue.get(app).is_some_and(|a| a.def.one_role_per_user);
        if who.is_empty() || !gained.iter().any(|g| one_role(&g.application)) {
            return Ok(());
        }
        let held = hq::held_roles(c, self.backend(), org, people).await?;
        for (user, name) in who {
            let mut mine = held.get(user).cloned().unwrap_or_default();
            if let Some(p) = replacing {
                mine.retain(|h| !matches!(&h.via, HeldVia::Profile { id, .. } if *id == p));
            }
            one_role_per_user(&one_role, name, &mine, gained)?;
        }
        Ok(())
    }

    /// Keep an administrator: refuses `losses` when they would take the `Administrators` role
    /// of an application that asks for one (`keep_an_administrator`) from its last active
    /// holder. With `only`, the losses concern that role alone (a role taken from one person
    /// or group); otherwise every such application's (a person removed, a membership ended, a
    /// group deleted). `what` completes "cannot be …".
    pub(crate) async fn keep_administrators(
        &self,
        c: &mut AnyConnection,
        org: OrgId,
        only: Option<RoleId>,
        losses: &[Loss],
        what: &str,
    ) -> Result<()> {
        let b = self.backend();
        let catalogue = self.catalogue();
        for app in catalogue
            .apps
            .iter()
            .filter(|a| a.def.keep_an_administrator)
        {
            let Some(role) = hq::administrators_role(c, b, org, app.key(), false).await? else {
                continue;
            };
            if only.is_some_and(|r| r != role) {
                continue;
            }
            // Cheap exit first: the people concerned are locked by the caller, so whether the
            // losses touch an active holder cannot change under us; only the other holders can.
            let holders = hq::holders(c, b, role).await?;
            let touched = holders
                .iter()
                .any(|h| h.active && losses.iter().any(|l| l.takes(h)));
            if !touched {
                continue;
            }
            hq::administrators_role(c, b, org, app.key(), true).await?;
            let holders = hq::holders(c, b, role).await?;
            keep_an_administrator(app.key(), &holders, losses, what)?;
        }
        Ok(())
    }
}
