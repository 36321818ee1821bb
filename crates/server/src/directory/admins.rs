//! Delegated administration: granting and revoking admin rights under the delegation rule, the
//! account owner and its transfer, and the rail that keeps at least one active System admin.

use super::audit::{user_target, Record};
use super::signin::ClientInfo;
use super::Directory;
use crate::directory::OrgAdmin;
use crate::error::Result;
use crate::store::directory as q;
use crate::store::signin as s;
use crate::store::Backend;
use rolecall_core::admin::{AdminRight, Operation};
use rolecall_core::audit::{field, Party};
use rolecall_core::change::{Carried, Change, Effect, Reach};
use rolecall_core::model::{OrgId, Organization, UserId, UserKind, UserStatus};
use rolecall_core::Error as DomainError;
use serde::Serialize;
use serde_json::{json, Value};
use sqlx::AnyConnection;

/// Someone who holds admin rights, for the Administrators list.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Admin {
    pub user_id: UserId,
    pub username: String,
    pub email: String,
    pub status: UserStatus,
    pub owner: bool,
    pub rights: Vec<AdminRight>,
}

/// The rail behind "last System admin" and "account owner": called inside the transaction of
/// any change that deactivates, deletes or strips a user.
pub(crate) async fn guard_removal(
    c: &mut AnyConnection,
    b: Backend,
    org: OrgId,
    user: UserId,
    what: &str,
) -> Result<()> {
    let o = q::lock_org(c, b, org)
        .await?
        .ok_or_else(|| DomainError::not_found("organization", org))?;
    if o.owner_id == Some(user) {
        return Err(DomainError::conflict(
            "account_owner",
            format!("the account owner cannot be {what}; transfer ownership to another active System admin first"),
        )
        .into());
    }
    let is_system = s::admin_rights(c, b, org, user)
        .await?
        .iter()
        .any(|(kind, _)| kind == "system");
    let others = q::active_system_admins(c, b, org)
        .await?
        .into_iter()
        .any(|a| a != user);
    if is_system && !others {
        return Err(DomainError::conflict(
            "last_system_admin",
            format!("this is the last active System admin and cannot be {what}; make another user System admin first"),
        )
        .into());
    }
    Ok(())
}

impl Directory {
    /// Everyone holding at least one admin right.
    pub async fn admins(&self, org: &Organization) -> Result<Vec<Admin>> {
        let b = self.backend();
        let mut c = self.db.pool.acquire().await?;
        let rows = sqlx::query(&crate::store::sql_for(
            b,
            "SELECT DISTINCT user_id FROM admin_rights WHERE org_id = $1",
        ))
        .bind(org.id.to_string())
        .fetch_all(&mut *c)
        .await?;
        let mut out = Vec::new();
        for r in rows {
            let id: UserId = crate::store::get_uuid(&r, "user_id").map(UserId)?;
            let Some(u) = q::get_user(&mut c, b, org.id, id).await? else {
                continue;
            };
            let rights = s::admin_rights(&mut c, b, org.id, id)
                .await?
                .iter()
                .filter_map(|(k, t)| AdminRight::from_row(k, t))
                .collect();
            out.push(Admin {
                user_id: id,
                username: u.username.into_string(),
                email: u.email.into_string(),
                status: u.status,
                owner: org.owner_id == Some(id),
                rights,
            });
        }
        out.sort_by(|a, b| a.username.cmp(&b.username));
        Ok(out)
    }

    /// Grants `right` to `user` on behalf of someone holding `actor_rights`; nobody raises their
    /// own rights, and only rights at or below the actor's own may be handed out.
    pub async fn grant_right(
        &self,
        admin: &OrgAdmin,
        user: UserId,
        right: AdminRight,
        client: &ClientInfo,
    ) -> Result<bool> {
        let mut w = self.db.write().await?;
        let (ok, changed, out) = self
            .grant_right_in(&mut w, admin, user, right, client)
            .await?;
        self.commit_rights(w, admin.org.id, ok, changed).await?;
        Ok(out)
    }

    pub(crate) async fn grant_right_in(
        &self,
        w: &mut crate::store::WriteTx,
        admin: &OrgAdmin,
        user: UserId,
        right: AdminRight,
        client: &ClientInfo,
    ) -> Result<(rolecall_core::change::Approved, bool, bool)> {
        let org = &admin.org;
        let b = self.backend();
        let target = q::lock_user(&mut w.tx, b, org.id, user)
            .await?
            .ok_or_else(|| DomainError::not_found("user", user))?;
        let change = self.right_change(&mut w.tx, org, user, &right).await?;
        let ok = self.approve(&mut w.tx, admin, change).await?;
        if target.kind == UserKind::Service
            && right == AdminRight::System
            && org.kind == rolecall_core::admin::OrgKind::Teams
        {
            return Err(DomainError::invalid(
                "user_id",
                "person_required",
                "teams admins are people",
            )
            .into());
        }
        let held = s::admin_rights(&mut w.tx, b, org.id, user).await?;
        let (kind, tgt) = right.to_row();
        if held.iter().any(|(k, t)| k == kind && *t == tgt) {
            return Ok((ok, false, false));
        }
        let granted_by = admin.principal.user();
        // Who this right's authority comes from, kept with it (`upstream`): a System right
        // answers to no one.
        let lineage = match granted_by {
            Some(g) if rolecall_core::change::answers_to_grantor(&right) => {
                let mut l = vec![g];
                l.extend(self.upstream(&mut w.tx, org.id, g).await?);
                l.retain(|u| *u != user);
                l.dedup();
                l
            }
            _ => Vec::new(),
        };
        s::grant_admin_right(
            &mut w.tx,
            b,
            org.id,
            user,
            (kind, &tgt),
            (granted_by, &lineage),
            self.now(),
        )
        .await?;
        let record = Record::new("admin_right_granted", user_target(&target))
            .changes(field(
                "admin_right",
                Value::Null,
                json!({"kind": kind, "target": tgt}),
            ))
            .detail(format!("{kind} {tgt}"));
        self.record_with(w, admin, client, record).await?;
        self.queue_right_granted(&mut w.tx, org, &target, &right, self.now())
            .await?;
        Ok((ok, false, true))
    }

    /// Takes a right away under the same delegation rule; removing a right never deletes the user.
    pub async fn revoke_right(
        &self,
        admin: &OrgAdmin,
        user: UserId,
        right: AdminRight,
        client: &ClientInfo,
    ) -> Result<()> {
        let mut w = self.db.write().await?;
        let (ok, changed, out) = self
            .revoke_right_in(&mut w, admin, user, right, client)
            .await?;
        self.commit_rights(w, admin.org.id, ok, changed).await?;
        Ok(out)
    }

    pub(crate) async fn revoke_right_in(
        &self,
        w: &mut crate::store::WriteTx,
        admin: &OrgAdmin,
        user: UserId,
        right: AdminRight,
        client: &ClientInfo,
    ) -> Result<(rolecall_core::change::Approved, bool, ())> {
        let org = &admin.org;
        let b = self.backend();
        let target = q::lock_user(&mut w.tx, b, org.id, user)
            .await?
            .ok_or_else(|| DomainError::not_found("user", user))?;
        let change = self.right_change(&mut w.tx, org, user, &right).await?;
        let ok = self.approve(&mut w.tx, admin, change).await?;
        if right == AdminRight::System {
            guard_removal(&mut w.tx, b, org.id, user, "stripped of System admin").await?;
        }
        let (kind, tgt) = right.to_row();
        let r = sqlx::query(&crate::store::sql_for(b, "DELETE FROM admin_rights WHERE org_id = $1 AND user_id = $2 AND kind = $3 AND target = $4"))
            .bind(org.id.to_string())
            .bind(user.to_string())
            .bind(kind)
            .bind(&tgt)
            .execute(&mut *w.tx)
            .await?;
        if r.rows_affected() == 0 {
            return Err(DomainError::not_found("admin right", format!("{kind} {tgt}")).into());
        }
        let record = Record::new("admin_right_revoked", user_target(&target))
            .changes(field(
                "admin_right",
                json!({"kind": kind, "target": tgt}),
                Value::Null,
            ))
            .detail(format!("{kind} {tgt}"));
        self.record_with(w, admin, client, record).await?;
        self.queue_right_revoked(&mut w.tx, org, &target, &right, self.now())
            .await?;
        Ok((ok, false, ()))
    }

    /// Handing out or taking away `right` from `user`: what the right covers, and for a group
    /// right everything the group carries (which the acting admin must administer too).
    pub(crate) async fn right_change(
        &self,
        c: &mut AnyConnection,
        org: &Organization,
        user: UserId,
        right: &AdminRight,
    ) -> Result<Change> {
        let profile_app = self.validate_right_target(&mut *c, org, right).await?;
        let carried = match right {
            AdminRight::UserGroup { group_id } => match group_id.parse() {
                Ok(g) => crate::store::rights::carried(&mut *c, self.backend(), g).await?,
                Err(_) => Carried::default(),
            },
            _ => Carried::default(),
        };
        Ok(Change::new(Operation::ManageAdmins)
            .reaching(Reach::Right {
                right: right.clone(),
                org_kind: org.kind,
                profile_app,
                carried,
            })
            .affecting(Effect::User(user)))
    }

    /// Checks the object a scoped right names exists; returns a profile's application.
    async fn validate_right_target(
        &self,
        c: &mut AnyConnection,
        org: &Organization,
        right: &AdminRight,
    ) -> Result<Option<String>> {
        let b = self.backend();
        match right {
            AdminRight::Product { application } => {
                self.catalogue().require("application", application)?;
                Ok(None)
            }
            AdminRight::UserGroup { group_id } => {
                let gid = group_id
                    .parse()
                    .map_err(|_| DomainError::invalid("group_id", "uuid", "must be a group id"))?;
                q::get_group(c, b, org.id, gid).await?.ok_or_else(|| {
                    DomainError::invalid("group_id", "unknown_group", "no such group")
                })?;
                Ok(None)
            }
            AdminRight::ProductProfile { profile_id } => {
                let row = sqlx::query(&crate::store::sql_for(
                    b,
                    "SELECT application FROM profiles WHERE org_id = $1 AND id = $2",
                ))
                .bind(org.id.to_string())
                .bind(profile_id)
                .fetch_optional(&mut *c)
                .await
                .ok()
                .flatten();
                match row {
                    Some(r) => Ok(Some(crate::store::get_str(&r, "application")?)),
                    None => Err(DomainError::invalid(
                        "profile_id",
                        "unknown_profile",
                        "no such product profile",
                    )
                    .into()),
                }
            }
            _ => Ok(None),
        }
    }

    /// Hands the account ownership to another active System admin; only the owner (or an
    /// operator token) may.
    pub async fn transfer_ownership(
        &self,
        admin: &OrgAdmin,
        to: UserId,
        client: &ClientInfo,
    ) -> Result<Organization> {
        let org = &admin.org;
        let b = self.backend();
        let mut w = self.db.write().await?;
        let current = q::lock_org(&mut w.tx, b, org.id)
            .await?
            .ok_or_else(|| DomainError::not_found("organization", org.id))?;
        let mut change = Change::new(Operation::TransferOwnership).reaching(Reach::Organization);
        if let Some(owner) = current.owner_id {
            change = change.reaching(Reach::OwnerCredentials { owner });
        }
        let ok = self.approve(&mut w.tx, admin, change).await?;
        let admins = q::active_system_admins(&mut w.tx, b, org.id).await?;
        // A credential's service account cannot own: revoking the credential would leave the
        // organisation with an owner nobody can sign in as.
        let person = q::lock_user(&mut w.tx, b, org.id, to)
            .await?
            .is_some_and(|u| u.kind == UserKind::Person);
        if !admins.contains(&to) || !person {
            return Err(DomainError::invalid(
                "user_id",
                "active_system_admin_required",
                "the new owner must be a person who is an active System admin",
            )
            .into());
        }
        q::set_owner(&mut w.tx, b, org.id, to).await?;
        let record = Record::new(
            "ownership_transferred",
            Party::new("organization", org.id, org.slug.as_str()),
        )
        .changes(field(
            "owner",
            json!(current.owner_id.map(|u| u.to_string())),
            json!(to.to_string()),
        ));
        self.record_with(&mut w, admin, client, record).await?;
        self.commit_rights(w, org.id, ok, false).await?;
        self.org(&org.id.to_string()).await
    }
}
