//! Access reports (issue 11): stale accounts (and deactivating a chosen set of them), access
//! review by user, by application and by profile, seat usage per profile, and the optional
//! idle-deactivation policy. Every report states when it was taken; deactivations go through
//! [`Directory::update_user`], so the rights rule, the rails and the audit log all hold.

use super::credentials::CredentialDecision;
use super::signin::ClientInfo;
use super::{Directory, OrgAdmin, Principal, UserPatch};
use crate::error::{Error, Result};
use crate::store::reports::{self as rq, Holdings, PersonRow, RoleRow, SeatRow};
use rolecall_core::authz::ProfileId;
use rolecall_core::model::{Organization, UserId};
use serde::Serialize;

/// How a role or seat is held.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(tag = "via", rename_all = "snake_case")]
pub enum Through {
    Direct,
    Group {
        group_id: String,
        group_name: String,
    },
}

impl Through {
    fn of(group: &Option<(String, String)>) -> Through {
        match group {
            None => Through::Direct,
            Some((id, name)) => Through::Group {
                group_id: id.clone(),
                group_name: name.clone(),
            },
        }
    }

    /// `direct` or `group <name>`, for CSV cells.
    pub fn label(&self) -> String {
        match self {
            Through::Direct => "direct".into(),
            Through::Group { group_name, .. } => format!("group {group_name}"),
        }
    }
}

/// A person as reports show them.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct PersonRef {
    pub id: String,
    pub username: String,
    pub email: String,
    pub first_name: String,
    pub last_name: String,
    pub status: String,
    pub created_at: i64,
    /// Absent when the person never signed in.
    pub last_sign_in_at: Option<i64>,
}

impl From<&PersonRow> for PersonRef {
    fn from(p: &PersonRow) -> PersonRef {
        PersonRef {
            id: p.id.clone(),
            username: p.username.clone(),
            email: p.email.clone(),
            first_name: p.first_name.clone(),
            last_name: p.last_name.clone(),
            status: p.status.clone(),
            created_at: p.created_at,
            last_sign_in_at: p.last_sign_in_at,
        }
    }
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct RoleHeld {
    pub role_id: String,
    pub role_name: String,
    pub application: String,
    #[serde(flatten)]
    pub through: Through,
}

impl From<&RoleRow> for RoleHeld {
    fn from(r: &RoleRow) -> RoleHeld {
        RoleHeld {
            role_id: r.role_id.clone(),
            role_name: r.role_name.clone(),
            application: r.application.clone(),
            through: Through::of(&r.group),
        }
    }
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct SeatHeld {
    pub profile_id: String,
    pub profile_name: String,
    pub application: String,
    #[serde(flatten)]
    pub through: Through,
}

impl From<&SeatRow> for SeatHeld {
    fn from(s: &SeatRow) -> SeatHeld {
        SeatHeld {
            profile_id: s.profile_id.clone(),
            profile_name: s.profile_name.clone(),
            application: s.application.clone(),
            through: Through::of(&s.group),
        }
    }
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Named {
    pub id: String,
    pub name: String,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct RightHeld {
    /// `system`, `product`, `product_profile`, `user_group`, …
    pub kind: String,
    /// The application, profile or group the right covers (empty for organisation-wide rights).
    pub target: String,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct LiveSession {
    pub id: String,
    pub created_at: i64,
    pub last_seen_at: i64,
    pub source_ip: String,
}

/// Everything one person can reach, and through what.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct UserAccess {
    pub user: PersonRef,
    /// Applications reached by a role, a seat or a product admin right.
    pub applications: Vec<String>,
    pub roles: Vec<RoleHeld>,
    pub groups: Vec<Named>,
    pub seats: Vec<SeatHeld>,
    pub admin_rights: Vec<RightHeld>,
    /// Live API credentials this person created (they answer to them).
    pub credentials: Vec<Named>,
    pub sessions: Vec<LiveSession>,
}

fn access_of(h: &Holdings, p: &PersonRow) -> UserAccess {
    let roles: Vec<RoleHeld> = h
        .roles
        .iter()
        .filter(|r| r.user_id == p.id)
        .map(RoleHeld::from)
        .collect();
    let seats: Vec<SeatHeld> = h
        .seats
        .iter()
        .filter(|s| s.user_id == p.id)
        .map(SeatHeld::from)
        .collect();
    let admin_rights: Vec<RightHeld> = h
        .admin_rights
        .iter()
        .filter(|r| r.0 == p.id)
        .map(|(_, kind, target)| RightHeld {
            kind: kind.clone(),
            target: target.clone(),
        })
        .collect();
    let mut applications: Vec<String> = roles
        .iter()
        .map(|r| r.application.clone())
        .chain(seats.iter().map(|s| s.application.clone()))
        .chain(
            admin_rights
                .iter()
                .filter(|r| r.kind == "product")
                .map(|r| r.target.clone()),
        )
        .collect();
    applications.sort();
    applications.dedup();
    UserAccess {
        user: PersonRef::from(p),
        applications,
        roles,
        groups: h
            .memberships
            .iter()
            .filter(|m| m.0 == p.id)
            .map(|(_, id, name)| Named {
                id: id.clone(),
                name: name.clone(),
            })
            .collect(),
        seats,
        admin_rights,
        credentials: h
            .credentials
            .iter()
            .filter(|c| c.0 == p.id)
            .map(|(_, id, name)| Named {
                id: id.clone(),
                name: name.clone(),
            })
            .collect(),
        sessions: h
            .sessions
            .iter()
            .filter(|s| s.0 == p.id)
            .map(|(_, id, created_at, last_seen_at, ip)| LiveSession {
                id: id.clone(),
                created_at: *created_at,
                last_seen_at: *last_seen_at,
                source_ip: ip.clone(),
            })
            .collect(),
    }
}

/// Active people who have not signed in for `days` days, or never.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct StaleReport {
    /// When the report was taken (Unix ms).
    pub taken_at: i64,
    pub days: i64,
    pub items: Vec<UserAccess>,
}

/// Access review of one person.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct UserReview {
    pub taken_at: i64,
    #[serde(flatten)]
    pub access: UserAccess,
}

/// One person's access to an application, and through what.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ApplicationHolder {
    pub user: PersonRef,
    pub roles: Vec<RoleHeld>,
    pub seats: Vec<SeatHeld>,
    /// A product admin right over the application.
    pub product_admin: bool,
    /// Whether the roles reach the application now: the person is active and, when the
    /// application has profiles, holds one of its seats or its Administrators role.
    pub effective: bool,
}

/// Access review of one application: everyone with a role, seat or admin right in it.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ApplicationReview {
    pub taken_at: i64,
    pub application: String,
    /// The application has product profiles, so roles need a seat.
    pub licensed: bool,
    pub holders: Vec<ApplicationHolder>,
}

/// One seat holder of a profile.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ProfileHolder {
    pub user: PersonRef,
    /// Directly, and/or through which groups.
    pub through: Vec<Through>,
}

/// Access review of one product profile.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ProfileReview {
    pub taken_at: i64,
    pub profile_id: String,
    pub profile_name: String,
    pub application: String,
    pub holders: Vec<ProfileHolder>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct SeatLine {
    pub profile_id: String,
    pub profile_name: String,
    pub application: String,
    /// Absent: unlimited.
    pub quota: Option<i64>,
    /// Distinct people holding a seat.
    pub used: i64,
    /// Absent when unlimited.
    pub free: Option<i64>,
    pub direct: i64,
    pub through_groups: i64,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct SeatUsage {
    pub taken_at: i64,
    pub items: Vec<SeatLine>,
}

/// What became of one person asked to be deactivated.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct DeactivationOutcome {
    pub user_id: String,
    /// `deactivated`, `not_stale` (signed in since, or not active), or `refused`
    /// (a rail or the rights rule said no; see `detail`).
    pub outcome: String,
    pub detail: String,
}

const DAY_MS: i64 = 86_400_000;

/// The advisory-lock key of the idle-deactivation job (next to the migration lock's).
const IDLE_POLICY_LOCK: i64 = 7_041_960_011;

fn is_stale(p: &PersonRow, days: i64, now: i64) -> bool {
    p.status == "active" && p.last_sign_in_at.is_none_or(|t| t < now - days * DAY_MS)
}

fn days_valid(days: i64) -> Result<()> {
    if !(1..=36_500).contains(&days) {
        return Err(
            rolecall_core::Error::invalid("days", "range", "must be between 1 and 36500").into(),
        );
    }
    Ok(())
}

impl Directory {
    async fn holdings(&self, org: &Organization) -> Result<(i64, Holdings)> {
        let now = self.now();
        let mut tx = self.db.pool.begin().await?;
        if self.backend() == crate::store::Backend::Postgres {
            // One consistent view of the organisation across the report's queries.
            sqlx::query("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
                .execute(&mut *tx)
                .await?;
        }
        let h = rq::holdings(&mut tx, self.backend(), &org.id.to_string(), now).await?;
        tx.commit().await?;
        Ok((now, h))
    }

    /// Active people whose last sign-in is older than `days` days, or who never signed in,
    /// with everything they can reach.
    pub async fn stale_accounts(&self, org: &Organization, days: i64) -> Result<StaleReport> {
        days_valid(days)?;
        let (now, h) = self.holdings(org).await?;
        let items = h
            .people
            .iter()
            .filter(|p| is_stale(p, days, now))
            .map(|p| access_of(&h, p))
            .collect();
        Ok(StaleReport {
            taken_at: now,
            days,
            items,
        })
    }

    /// Deactivates a chosen set of stale accounts, each through `update_user` (its own
    /// transaction, the rights rule, the owner and last-admin rails, its own audit entry).
    /// People who signed in since (or are no longer active) are skipped, so a report read a
    /// while ago cannot deactivate someone who came back. An id that is not a person of this
    /// organisation refuses the whole request (404) before anything changes: an id from
    /// elsewhere is a mistake, and answering per item would tell a caller nothing it may know.
    pub async fn deactivate_stale(
        &self,
        admin: &OrgAdmin,
        days: i64,
        users: &[UserId],
        credentials: Option<CredentialDecision>,
    ) -> Result<Vec<DeactivationOutcome>> {
        days_valid(days)?;
        if users.is_empty() || users.len() > 1000 {
            return Err(rolecall_core::Error::invalid(
                "user_ids",
                "length",
                "name between 1 and 1000 users",
            )
            .into());
        }
        let (now, h) = self.holdings(&admin.org).await?;
        if let Some(stranger) = users
            .iter()
            .find(|id| !h.people.iter().any(|p| p.id == id.to_string()))
        {
            return Err(rolecall_core::Error::not_found("user", stranger).into());
        }
        let client = super::audit::current_client();
        let mut out = Vec::new();
        for id in users {
            let key = id.to_string();
            let outcome = |outcome: &str, detail: String| DeactivationOutcome {
                user_id: key.clone(),
                outcome: outcome.into(),
                detail,
            };
            let Some(person) = h.people.iter().find(|p| p.id == key) else {
                continue; // checked above: every id is one of this organisation's people
            };
            if !is_stale(person, days, now) {
                out.push(outcome(
                    "not_stale",
                    format!("not an active account idle for {days} days"),
                ));
                continue;
            }
            let patch = UserPatch {
                status: Some("inactive".into()),
                ..Default::default()
            };
            match self
                .update_user(admin, *id, patch, None, credentials, &client)
                .await
            {
                Ok(_) => out.push(outcome("deactivated", String::new())),
                Err(Error::Domain(e)) => out.push(outcome("refused", e.to_string())),
                Err(e) => return Err(e),
            }
        }
        Ok(out)
    }

    /// Everything one person can reach and through what, as of now.
    pub async fn review_user(&self, org: &Organization, user: UserId) -> Result<UserReview> {
        let (now, h) = self.holdings(org).await?;
        let key = user.to_string();
        let person = h
            .people
            .iter()
            .find(|p| p.id == key)
            .ok_or_else(|| rolecall_core::Error::not_found("user", user))?;
        Ok(UserReview {
            taken_at: now,
            access: access_of(&h, person),
        })
    }

    /// Everyone with a role, a seat or a product admin right in `application`.
    pub async fn review_application(
        &self,
        org: &Organization,
        application: &str,
    ) -> Result<ApplicationReview> {
        if self.catalogue().get(application).is_none() {
            return Err(rolecall_core::Error::not_found("application", application).into());
        }
        let (now, h) = self.holdings(org).await?;
        let licensed = h.seats.iter().any(|s| s.application == application)
            || !self.list_profiles(org, Some(application)).await?.is_empty();
        let mut holders = Vec::new();
        for p in &h.people {
            let a = access_of(&h, p);
            let roles: Vec<RoleHeld> = a
                .roles
                .into_iter()
                .filter(|r| r.application == application)
                .collect();
            let seats: Vec<SeatHeld> = a
                .seats
                .into_iter()
                .filter(|s| s.application == application)
                .collect();
            let product_admin = a
                .admin_rights
                .iter()
                .any(|r| r.kind == "product" && r.target == application);
            if roles.is_empty() && seats.is_empty() && !product_admin {
                continue;
            }
            let builtin = roles
                .iter()
                .any(|r| r.role_name == rolecall_core::model::Role::ADMINISTRATORS);
            let effective = p.status == "active"
                && !roles.is_empty()
                && (!licensed || !seats.is_empty() || builtin);
            holders.push(ApplicationHolder {
                user: PersonRef::from(p),
                roles,
                seats,
                product_admin,
                effective,
            });
        }
        Ok(ApplicationReview {
            taken_at: now,
            application: application.to_string(),
            licensed,
            holders,
        })
    }

    /// Every seat holder of a profile, directly or through which groups.
    pub async fn review_profile(&self, org: &Organization, id: ProfileId) -> Result<ProfileReview> {
        let profile = self.get_profile(org, id).await?;
        let (now, h) = self.holdings(org).await?;
        let key = id.to_string();
        let mut holders: Vec<ProfileHolder> = Vec::new();
        for p in &h.people {
            let through: Vec<Through> = h
                .seats
                .iter()
                .filter(|s| s.user_id == p.id && s.profile_id == key)
                .map(|s| Through::of(&s.group))
                .collect();
            if !through.is_empty() {
                holders.push(ProfileHolder {
                    user: PersonRef::from(p),
                    through,
                });
            }
        }
        Ok(ProfileReview {
            taken_at: now,
            profile_id: key,
            profile_name: profile.profile.name.to_string(),
            application: profile.profile.application.clone(),
            holders,
        })
    }

    /// Seats used, free, direct and through groups, per profile.
    pub async fn seat_usage(&self, org: &Organization) -> Result<SeatUsage> {
        let now = self.now();
        let mut c = self.db.pool.acquire().await?;
        let rows = rq::seat_usage(&mut c, self.backend(), &org.id.to_string()).await?;
        Ok(SeatUsage {
            taken_at: now,
            items: rows
                .into_iter()
                .map(
                    |(profile_id, profile_name, application, quota, used, direct, grouped)| {
                        SeatLine {
                            profile_id,
                            profile_name,
                            application,
                            quota,
                            used,
                            free: quota.map(|q| (q - used).max(0)),
                            direct,
                            through_groups: grouped,
                        }
                    },
                )
                .collect(),
        })
    }

    /// Runs [`Directory::run_idle_policy`] on one node of the cluster at a time; `None` when
    /// another node is running it.
    pub async fn run_idle_policy_job(&self) -> Result<Option<usize>> {
        let Some(lock) = self.db.try_job_lock(IDLE_POLICY_LOCK).await? else {
            return Ok(None);
        };
        let result = self.run_idle_policy().await;
        lock.release().await?;
        result.map(Some)
    }

    /// The idle-deactivation policy, for every organisation that turned it on: people idle
    /// longer than the setting (never signed in: since they were created) are deactivated, the
    /// policy as actor. Their API credentials are kept (recorded), so automation does not break
    /// silently. Returns how many were deactivated.
    pub async fn run_idle_policy(&self) -> Result<usize> {
        let mut n = 0;
        for org in self.list_orgs().await? {
            let (settings, _) = self.settings(&org).await?;
            let Some(days) = settings.idle_deactivation_days else {
                continue;
            };
            let (now, h) = self.holdings(&org).await?;
            let policy = OrgAdmin {
                org: org.clone(),
                principal: Principal::Policy {
                    name: format!("idle deactivation after {days} days"),
                },
            };
            let idle: Vec<UserId> = h
                .people
                .iter()
                .filter(|p| {
                    p.status == "active"
                        && p.last_sign_in_at.unwrap_or(p.created_at) < now - days * DAY_MS
                })
                .filter_map(|p| p.id.parse().ok())
                .collect();
            for id in idle {
                let patch = UserPatch {
                    status: Some("inactive".into()),
                    ..Default::default()
                };
                match self
                    .update_user(
                        &policy,
                        id,
                        patch,
                        None,
                        Some(CredentialDecision::Keep),
                        &ClientInfo::local(),
                    )
                    .await
                {
                    Ok(_) => n += 1,
                    // The owner and the last System admin stay (the rails say why).
                    Err(Error::Domain(e)) => {
                        tracing::info!(org = %org.slug, user = %id, reason = %e, "idle policy skipped a user")
                    }
                    Err(e) => return Err(e),
                }
            }
        }
        Ok(n)
    }
}
