//! Offboarding in one step (issue 11): deactivate or delete a person across every application
//! in one transaction — sessions ended, seats released, memberships and roles removed (kept
//! but void when only deactivating), admin rights removed, API credentials revoked, kept or
//! transferred, invitations withdrawn — under the rights rule and the owner and
//! last-System-admin rails. The answer, and the one audit entry, say field by field what was
//! withdrawn (seed 001: "offboarding means visiting two systems and missing one").

use super::audit::{user_target, Record};
use super::credentials::{CredentialPlan, SettledCredential};
use super::reports::{Named, RightHeld, RoleHeld, SeatHeld, Through};
use super::{Directory, OrgAdmin};
use crate::error::Result;
use crate::store::{directory as q, invitations as iq, profiles as pq, reports as rq, signin as s};
use rolecall_core::admin::{AdminRight, Operation};
use rolecall_core::audit::{field, Changes};
use rolecall_core::authz::ProfileId;
use rolecall_core::change::{Change, Effect, Reach};
use rolecall_core::model::{UserId, UserKind, UserStatus};
use rolecall_core::Error as DomainError;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

/// Deactivate (the record and its memberships stay, void) or delete (a tombstone stays).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum OffboardMode {
    Deactivate,
    Delete,
}

/// Everything offboarding withdrew, field by field.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct OffboardReport {
    /// When it was done (Unix ms).
    pub taken_at: i64,
    pub user_id: String,
    pub email: String,
    pub username: String,
    pub first_name: String,
    pub last_name: String,
    pub mode: OffboardMode,
    pub status_before: String,
    /// `inactive` or `deleted`.
    pub status_after: String,
    pub sessions_ended: u64,
    /// Seats held directly: released.
    pub seats_released: Vec<SeatHeld>,
    /// Seats held through a group: released with the membership when deleting; kept with the
    /// (void) membership when deactivating.
    pub seats_through_groups: Vec<SeatHeld>,
    pub groups_removed: Vec<Named>,
    /// Deactivation keeps memberships and roles on record; they grant nothing while inactive.
    pub groups_kept_void: Vec<Named>,
    pub roles_removed: Vec<RoleHeld>,
    pub roles_kept_void: Vec<RoleHeld>,
    pub admin_rights_removed: Vec<RightHeld>,
    pub credentials: Vec<SettledCredential>,
    pub invitations_withdrawn: u64,
}

fn names<T>(items: &[T], f: impl Fn(&T) -> Value) -> Value {
    Value::Array(items.iter().map(f).collect())
}

impl OffboardReport {
    /// The report as audit changes: each withdrawn thing's before and after.
    fn changes(&self) -> Changes {
        let seat = |s: &SeatHeld| json!({"profile": s.profile_name, "application": s.application, "via": s.through.label()});
        let role = |r: &RoleHeld| json!({"role": r.role_name, "application": r.application, "via": r.through.label()});
        let group = |g: &Named| json!({"id": g.id, "name": g.name});
        let right = |r: &RightHeld| json!({"kind": r.kind, "target": r.target});
        let mut c = Changes::new();
        let mut put =
            |name: &str, before: Value, after: Value| c.extend(field(name, before, after));
        put(
            "status",
            json!(self.status_before),
            json!(self.status_after),
        );
        put("sessions", json!(self.sessions_ended), json!(0));
        let kept_seats = match self.mode {
            OffboardMode::Deactivate => names(&self.seats_through_groups, seat),
            OffboardMode::Delete => json!([]),
        };
        let mut all_seats = names(&self.seats_released, seat);
        if let (Value::Array(a), Value::Array(b)) =
            (&mut all_seats, names(&self.seats_through_groups, seat))
        {
            a.extend(b);
        }
        put("seats", all_seats, kept_seats);
        let mut groups = names(&self.groups_removed, group);
        if let (Value::Array(a), Value::Array(b)) =
            (&mut groups, names(&self.groups_kept_void, group))
        {
            a.extend(b);
        }
        put("groups", groups, names(&self.groups_kept_void, group));
        let mut roles = names(&self.roles_removed, role);
        if let (Value::Array(a), Value::Array(b)) = (&mut roles, names(&self.roles_kept_void, role))
        {
            a.extend(b);
        }
        put("roles", roles, names(&self.roles_kept_void, role));
        put(
            "admin_rights",
            names(&self.admin_rights_removed, right),
            json!([]),
        );
        put(
            "api_credentials",
            names(&self.credentials, |c| json!({"id": c.id, "name": c.name})),
            names(
                &self.credentials,
                |c| json!({"id": c.id, "name": c.name, "outcome": c.outcome, "transferred_to": c.transferred_to}),
            ),
        );
        put("invitations", json!(self.invitations_withdrawn), json!(0));
        c
    }
}

impl Directory {
    /// Offboards `id` in one transaction; see the module documentation. `credentials` decides
    /// about the API credentials they created (required when there are live ones).
    pub async fn offboard(
        &self,
        admin: &OrgAdmin,
        id: UserId,
        mode: OffboardMode,
        credentials: Option<CredentialPlan>,
    ) -> Result<OffboardReport> {
        let org = &admin.org;
        let b = self.backend();
        let now = self.now();
        let mut w = self.db.write().await?;
        let current = q::lock_user(&mut w.tx, b, org.id, id)
            .await?
            .ok_or_else(|| DomainError::not_found("user", id))?;
        if current.kind == UserKind::Service {
            return Err(DomainError::conflict(
                "service_account",
                "this is an API credential's service account: revoke the credential instead",
            )
            .into());
        }
        let key = id.to_string();
        let held = rq::holdings(&mut w.tx, b, &org.id.to_string(), now).await?;
        let rights: Vec<AdminRight> = s::admin_rights(&mut w.tx, b, org.id, id)
            .await?
            .iter()
            .filter_map(|(k, t)| AdminRight::from_row(k, t))
            .collect();
        // The rights rule: removing the person from the organisation, and taking each of
        // their admin rights (which the actor must be able to hand out themselves).
        let mut changes = vec![Change::new(Operation::RemoveUser)
            .reaching(Reach::Organization)
            .affecting(Effect::User(id))];
        for right in &rights {
            changes.push(self.right_change(&mut w.tx, org, id, right).await?);
        }
        let ok = self
            .approve_all(&mut w.tx, admin, changes)
            .await?
            .ok_or_else(|| crate::error::Error::Internal("no change to approve".into()))?;
        super::admins::guard_removal(&mut w.tx, b, org.id, id, "offboarded").await?;
        // Like deactivating or deleting: reads the stored status, so before the update.
        self.keep_administrators(
            &mut w.tx,
            org.id,
            None,
            &[rolecall_core::holding::Loss::Person(id)],
            &format!("offboarding {}", current.username),
        )
        .await?;
        let settled = self
            .settle_credentials_of(&mut w, admin, id, credentials)
            .await?;
        let sessions_ended =
            s::revoke_user_sessions(&mut w.tx, b, id, "offboarded", None, now).await?;
        // A reset link mailed before must not set a password for the day they come back.
        s::void_reset_tokens(&mut w.tx, b, id, now).await?;
        let invitations_withdrawn = iq::withdraw_open(&mut w.tx, b, org.id, id, now).await?;
        let admin_rights_removed: Vec<RightHeld> = s::admin_rights(&mut w.tx, b, org.id, id)
            .await?
            .into_iter()
            .map(|(kind, target)| RightHeld { kind, target })
            .collect();
        crate::store::rights::remove_all_rights(&mut w.tx, b, org.id, id).await?;

        let mine = |u: &String| *u == key;
        let roles: Vec<RoleHeld> = held
            .roles
            .iter()
            .filter(|r| mine(&r.user_id))
            .map(RoleHeld::from)
            .collect();
        let seats: Vec<SeatHeld> = held
            .seats
            .iter()
            .filter(|s| mine(&s.user_id))
            .map(SeatHeld::from)
            .collect();
        let groups: Vec<Named> = held
            .memberships
            .iter()
            .filter(|m| mine(&m.0))
            .map(|(_, id, name)| Named {
                id: id.clone(),
                name: name.clone(),
            })
            .collect();
        let (seats_released, seats_through_groups): (Vec<SeatHeld>, Vec<SeatHeld>) = seats
            .into_iter()
            .partition(|s| s.through == Through::Direct);
        for seat in &seats_released {
            if let Ok(p) = seat.profile_id.parse::<ProfileId>() {
                pq::remove_profile_user(&mut w.tx, b, p, id).await?;
            }
        }
        let status_after = match mode {
            OffboardMode::Deactivate => {
                let mut next = current.clone();
                next.status = UserStatus::Inactive;
                next.version = current.version + 1;
                next.updated_at = now;
                if !q::update_user(&mut w.tx, b, &next, current.version).await? {
                    return Err(super::lost_race("user"));
                }
                "inactive"
            }
            OffboardMode::Delete => "deleted",
        };
        let what = match mode {
            OffboardMode::Deactivate => "deactivated",
            OffboardMode::Delete => "deleted",
        };
        super::invitations::on_removal(&mut w.tx, b, org, &current, what, now).await?;
        if mode == OffboardMode::Delete {
            // Memberships, roles and seats go with the user; the tombstone keeps the names.
            q::delete_user(&mut w.tx, b, &current, now).await?;
        }
        let (removed_groups, kept_groups, removed_roles, kept_roles) = match mode {
            OffboardMode::Deactivate => (Vec::new(), groups, Vec::new(), roles),
            OffboardMode::Delete => (groups, Vec::new(), roles, Vec::new()),
        };
        let report = OffboardReport {
            taken_at: now,
            user_id: key.clone(),
            email: current.email.to_string(),
            username: current.username.to_string(),
            first_name: current.first_name.to_string(),
            last_name: current.last_name.to_string(),
            mode,
            status_before: serde_json::to_value(current.status)
                .ok()
                .and_then(|v| v.as_str().map(str::to_string))
                .unwrap_or_default(),
            status_after: status_after.into(),
            sessions_ended,
            seats_released,
            seats_through_groups,
            groups_removed: removed_groups,
            groups_kept_void: kept_groups,
            roles_removed: removed_roles,
            roles_kept_void: kept_roles,
            admin_rights_removed,
            credentials: settled,
            invitations_withdrawn,
        };
        let record = Record::new("user_offboarded", user_target(&current))
            .changes(report.changes())
            .detail(format!("{what} across every application"));
        self.record(&mut w, admin, record).await?;
        self.commit_rights(w, org.id, ok, true).await?;
        Ok(report)
    }
}
