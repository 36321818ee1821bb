//! Products and product profiles (the Adobe Admin Console model). A product is an application;
//! a profile is a named licence configuration of one product: a seat quota and a bundle of that
//! product's roles. Users and groups are assigned to profiles; a user reached twice (directly and
//! through a group, or through two groups) takes one seat.
//!
//! Once an organization has a profile for an application, the engine lets users into that
//! application only through a seat or its built-in Administrators role (`Reason::NoLicence`),
//! so every change here bumps the epoch and recompiles.
//!
//! Seat changes lock in one order, groups before profiles (each set by id), so concurrent
//! assignments on PostgreSQL serialise on the profile row without deadlocking and never take
//! more seats than the quota.

use super::audit::{user_target, Record};
use super::{check_version, lost_race, new_id, Delta, Directory};
use crate::directory::OrgAdmin;
use crate::error::Result;
use crate::store::directory as q;
use crate::store::holding::{self as hq, People};
use crate::store::profiles as pq;
use rolecall_core::admin::Operation;
use rolecall_core::audit::{field, Party};
use rolecall_core::authz::ProfileId;
use rolecall_core::change::{Change, Effect, Reach};
use rolecall_core::error::Problems;
use rolecall_core::model::{Group, GroupId, Organization, RoleId, User, UserId, UserStatus, Via};
use rolecall_core::validate::{Description, DisplayName};
use rolecall_core::{Error as DomainError, FieldError};
use serde::{Deserialize, Deserializer, Serialize};
use serde_json::Value;
use sqlx::AnyConnection;
use std::collections::hash_map::Entry;
use std::collections::{BTreeSet, HashMap};

pub use crate::store::profiles::Profile;

#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewProfile {
    /// The product (application key).
    pub application: String,
    pub name: String,
    pub description: Option<String>,
    /// Number of seats, 0 or more; absent or `null` means unlimited.
    pub seat_quota: Option<i64>,
    /// Role ids of the same application (not its Administrators role).
    #[serde(default)]
    pub roles: Vec<String>,
}

/// A partial update; absent fields are left alone, `seat_quota: null` makes seats unlimited.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ProfilePatch {
    pub name: Option<String>,
    pub description: Option<String>,
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<i64>)]
    pub seat_quota: Option<Option<i64>>,
    /// Replaces the bundle whole.
    pub roles: Option<Vec<String>>,
}

/// Tells `"field": null` (`Some(None)`) from an absent field (`None`).
fn present<'de, D: Deserializer<'de>, T: Deserialize<'de>>(d: D) -> Result<Option<T>, D::Error> {
    T::deserialize(d).map(Some)
}

/// A profile with its seat counts.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ProfileView {
    #[serde(flatten)]
    pub profile: Profile,
    /// Distinct users holding a seat, directly or through a group.
    pub seats_used: i64,
    /// `null` when seats are unlimited.
    pub seats_free: Option<i64>,
}

impl ProfileView {
    fn new(profile: Profile, seats_used: i64) -> ProfileView {
        let seats_free = profile.seat_quota.map(|q| (q - seats_used).max(0));
        ProfileView {
            profile,
            seats_used,
            seats_free,
        }
    }
}

/// One profile a user reaches, and how.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct UserProduct {
    pub profile_id: ProfileId,
    pub profile_name: String,
    pub application: String,
    #[serde(flatten)]
    pub via: Via,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub group_name: Option<String>,
}

/// The profiles a user reaches and the products they license.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct UserProducts {
    pub items: Vec<UserProduct>,
    /// Applications the user holds a seat in, sorted.
    pub applications: Vec<String>,
}

/// One product (application) of the organization at a glance.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ProductSummary {
    pub application: String,
    pub name: String,
    /// True once the product has a profile: users then reach it only through a seat or its
    /// Administrators role. False: roles alone decide, and the seat numbers below are 0.
    pub gated: bool,
    pub profiles: i64,
    /// Sum of the profiles' seats in use (a user in two profiles counts in each).
    pub seats_used: i64,
    /// Sum of the profiles' quotas; `null` when any profile is unlimited.
    pub seats_total: Option<i64>,
    /// Distinct users holding a seat in at least one of the product's profiles.
    pub licensed_users: i64,
}

fn not_found_profile(id: ProfileId) -> crate::error::Error {
    DomainError::not_found("profile", id).into()
}

/// Giving or taking a seat in `profile` changes the access of `effect`'s people.
pub(super) fn seat(profile: &Profile, effect: Effect) -> Change {
    Change::new(Operation::AssignProfile)
        .reaching(Reach::Profile {
            id: profile.id,
            application: profile.application.clone(),
        })
        .affecting(effect)
}

fn quota_field(p: &mut Problems, quota: Option<i64>) {
    if quota.is_some_and(|q| q < 0) {
        p.push(FieldError::new(
            "seat_quota",
            "range",
            "must be 0 or more, or null for unlimited seats",
        ));
    }
}

fn full(profile: &Profile, quota: i64) -> String {
    format!(
        "profile {} has {quota} seats and all are used",
        profile.name
    )
}

fn profile_target(p: &Profile) -> Party {
    Party::new(
        "profile",
        p.id,
        format!("{} ({})", p.name.as_str(), p.application),
    )
}

/// What the log says of a seat given to a user directly.
pub(super) fn seat_assigned(u: &User, p: &Profile) -> Record {
    Record::new("seat_assigned", user_target(u)).changes(field(
        "profile",
        Value::Null,
        profile_ref(p),
    ))
}

/// A profile as a field value in the log: id, name and application at the time.
fn profile_ref(p: &Profile) -> Value {
    serde_json::json!({"id": p.id.to_string(), "name": p.name.as_str(), "application": p.application})
}

fn sorted<T: Ord>(mut v: Vec<T>) -> Vec<T> {
    v.sort();
    v
}

impl Directory {
    /// Locks, in the order of `directory::holding`, the groups assigned to a profile and then
    /// everyone holding a seat in it; returns the group ids (sorted) and the people.
    async fn lock_seat_holders(
        &self,
        c: &mut AnyConnection,
        org: &Organization,
        id: ProfileId,
    ) -> Result<(Vec<GroupId>, Vec<(UserId, String)>)> {
        let b = self.backend();
        let groups = sorted(pq::profile_group_ids(&mut *c, b, id).await?);
        for g in &groups {
            q::lock_group(&mut *c, b, org.id, *g).await?;
        }
        let people = hq::lock_people(&mut *c, b, org.id, People::SeatHoldersOf(id)).await?;
        Ok((groups, people))
    }

    /// Parses a bundle: role ids of `application`'s own roles, never its Administrators.
    async fn bundle(
        &self,
        c: &mut AnyConnection,
        org: &Organization,
        application: &str,
        raw: &[String],
        p: &mut Problems,
    ) -> Result<Vec<RoleId>> {
        let b = self.backend();
        let mut out = Vec::new();
        for (i, s) in raw.iter().enumerate() {
            let field = format!("roles[{i}]");
            let Ok(id) = s.parse::<RoleId>() else {
                p.push(FieldError::new(field, "uuid", "must be a role id"));
                continue;
            };
            let Some(role) = q::get_role(&mut *c, b, org.id, id).await? else {
                p.push(FieldError::new(
                    field,
                    "unknown_role",
                    format!("no role {id} in this organization"),
                ));
                continue;
            };
            if role.application != application {
                p.push(FieldError::new(
                    field,
                    "other_application",
                    format!(
                        "role {} belongs to {}, not {application}",
                        role.name, role.application
                    ),
                ));
            } else if role.builtin {
                p.push(FieldError::new(
                    field,
                    "builtin_role",
                    "Administrators cannot be bundled: it is held on its own and needs no seat",
                ));
            } else if !out.contains(&id) {
                out.push(id);
            }
        }
        let one_role = self
            .catalogue()
            .get(application)
            .is_some_and(|a| a.def.one_role_per_user);
        if one_role && out.len() > 1 {
            p.push(FieldError::new(
                "roles",
                "one_role_per_user",
                format!("{application} allows one role per user, so a profile bundles at most one of its roles"),
            ));
        }
        Ok(out)
    }

    pub async fn create_profile(&self, admin: &OrgAdmin, input: NewProfile) -> Result<ProfileView> {
        let org = &admin.org;
        let catalogue = self.catalogue();
        let tree = catalogue
            .require("application", &input.application)?
            .clone();
        let b = self.backend();
        let mut w = self.db.write().await?;
        let mut p = Problems::new();
        let name = p.check(DisplayName::parse("name", &input.name));
        let description = p.check(Description::parse(
            "description",
            input.description.as_deref().unwrap_or(""),
        ));
        quota_field(&mut p, input.seat_quota);
        let roles = self
            .bundle(&mut w.tx, org, tree.key(), &input.roles, &mut p)
            .await?;
        p.into_result()?;
        let (Some(name), Some(description)) = (name, description) else {
            unreachable!("problems checked")
        };
        let mut change = Change::new(Operation::CreateProfile).reaching(Reach::Licence {
            application: tree.key().to_string(),
        });
        if crate::store::rights::profile_count(&mut w.tx, b, org.id, tree.key()).await? == 0 {
            // The first profile turns the application's licence gate on.
            change = change.affecting(Effect::ApplicationUsers(tree.key().to_string()));
        }
        let ok = self.approve(&mut w.tx, admin, change).await?;
        let now = self.now();
        let profile = Profile {
            id: ProfileId(new_id()),
            org_id: org.id,
            application: tree.key().to_string(),
            name,
            description,
            seat_quota: input.seat_quota,
            roles,
            version: 1,
            created_at: now,
            updated_at: now,
        };
        pq::insert_profile(&mut w.tx, b, &profile).await?;
        self.record(
            &mut w,
            admin,
            Record::new("profile_created", profile_target(&profile)).between(None, Some(&profile)),
        )
        .await?;
        self.commit_rights(w, org.id, ok, true).await?;
        Ok(ProfileView::new(profile, 0))
    }

    pub async fn get_profile(&self, org: &Organization, id: ProfileId) -> Result<ProfileView> {
        let b = self.backend();
        let mut c = self.db.pool.acquire().await?;
        let profile = pq::get_profile(&mut c, b, org.id, id)
            .await?
            .ok_or_else(|| not_found_profile(id))?;
        let used = pq::seats_used(&mut c, b, id).await?;
        Ok(ProfileView::new(profile, used))
    }

    /// Profiles of the organization, of one application when given.
    pub async fn list_profiles(
        &self,
        org: &Organization,
        application: Option<&str>,
    ) -> Result<Vec<ProfileView>> {
        if let Some(a) = application {
            self.catalogue().require("application", a)?;
        }
        let b = self.backend();
        let mut c = self.db.pool.acquire().await?;
        let profiles = pq::list_profiles(&mut c, b, org.id, application).await?;
        let used = pq::seats_used_by_profile(&mut c, b, org.id).await?;
        Ok(profiles
            .into_iter()
            .map(|p| {
                let n = used.get(&p.id).copied().unwrap_or(0);
                ProfileView::new(p, n)
            })
            .collect())
    }

    pub async fn update_profile(
        &self,
        admin: &OrgAdmin,
        id: ProfileId,
        patch: ProfilePatch,
        if_match: Option<i64>,
    ) -> Result<ProfileView> {
        let org = &admin.org;
        let b = self.backend();
        let mut w = self.db.write().await?;
        // A new bundle changes what every seat holder holds: lock the profile's groups and its
        // holders before the profile (the order of `directory::holding`), and give up if the
        // holders changed before the profile was ours.
        let holders = match &patch.roles {
            Some(_) => Some(self.lock_seat_holders(&mut w.tx, org, id).await?),
            None => None,
        };
        let current = pq::lock_profile(&mut w.tx, b, org.id, id)
            .await?
            .ok_or_else(|| not_found_profile(id))?;
        check_version(if_match, current.version)?;
        if let Some((groups, people)) = &holders {
            let now_groups = pq::profile_group_ids(&mut w.tx, b, id).await?;
            let now_people =
                hq::lock_people(&mut w.tx, b, org.id, People::SeatHoldersOf(id)).await?;
            if *groups != sorted(now_groups) || *people != now_people {
                return Err(lost_race("profile"));
            }
        }
        let mut next = current.clone();
        let mut p = Problems::new();
        if let Some(n) = &patch.name {
            if let Some(v) = p.check(DisplayName::parse("name", n)) {
                next.name = v;
            }
        }
        if let Some(d) = &patch.description {
            if let Some(v) = p.check(Description::parse("description", d)) {
                next.description = v;
            }
        }
        if let Some(quota) = patch.seat_quota {
            quota_field(&mut p, quota);
            next.seat_quota = quota;
        }
        if let Some(raw) = &patch.roles {
            next.roles = self
                .bundle(&mut w.tx, org, &current.application, raw, &mut p)
                .await?;
        }
        p.into_result()?;
        let mut change = Change::new(Operation::EditProfile).reaching(Reach::Profile {
            id,
            application: current.application.clone(),
        });
        if next.seat_quota != current.seat_quota {
            change = change.reaching(Reach::Licence {
                application: current.application.clone(),
            });
        }
        if next.roles != current.roles {
            change = change.affecting(Effect::SeatHolders(id));
        }
        let ok = self.approve(&mut w.tx, admin, change).await?;
        if let (Some((_, people)), true) = (&holders, next.roles != current.roles) {
            let gained =
                hq::bundle_roles(&mut w.tx, b, org.id, id, next.name.as_str(), &next.roles).await?;
            self.refuse_second_role(
                &mut w.tx,
                org.id,
                People::SeatHoldersOf(id),
                people,
                &gained,
                Some(id),
            )
            .await?;
        }
        let used = pq::seats_used(&mut w.tx, b, id).await?;
        if let Some(quota) = next.seat_quota {
            if used > quota {
                return Err(DomainError::conflict(
                    "seats_in_use",
                    format!(
                        "profile {} has {used} seats in use; remove users or groups before lowering its quota to {quota}",
                        current.name
                    ),
                )
                .into());
            }
        }
        next.version += 1;
        next.updated_at = self.now();
        if !pq::update_profile(&mut w.tx, b, &next, current.version).await? {
            return Err(lost_race("profile"));
        }
        self.record(
            &mut w,
            admin,
            Record::new("profile_updated", profile_target(&current))
                .between(Some(&current), Some(&next)),
        )
        .await?;
        self.commit_rights(w, org.id, ok, true).await?;
        Ok(ProfileView::new(next, used))
    }

    /// Deletes the profile and its seats; users, groups and roles stay.
    pub async fn delete_profile(
        &self,
        admin: &OrgAdmin,
        id: ProfileId,
        if_match: Option<i64>,
    ) -> Result<()> {
        let org = &admin.org;
        let b = self.backend();
        let mut w = self.db.write().await?;
        let application = pq::get_profile(&mut w.tx, b, org.id, id)
            .await?
            .ok_or_else(|| not_found_profile(id))?
            .application;
        // All of the application's profiles, this one included, before counting them.
        let profiles = pq::lock_profiles_of(&mut w.tx, b, org.id, &application).await?;
        let current = pq::lock_profile(&mut w.tx, b, org.id, id)
            .await?
            .ok_or_else(|| not_found_profile(id))?;
        check_version(if_match, current.version)?;
        let mut change = Change::new(Operation::DeleteProfile)
            .reaching(Reach::Licence {
                application: current.application.clone(),
            })
            .affecting(Effect::SeatHolders(id));
        if profiles == 1 {
            // The last profile takes the application's licence gate with it.
            change = change.affecting(Effect::ApplicationUsers(current.application.clone()));
        }
        let ok = self.approve(&mut w.tx, admin, change).await?;
        pq::delete_profile(&mut w.tx, b, id).await?;
        self.record(
            &mut w,
            admin,
            Record::new("profile_deleted", profile_target(&current)).between(Some(&current), None),
        )
        .await?;
        self.commit_rights(w, org.id, ok, true).await?;
        Ok(())
    }

    // ------------------------------------------------------------ seats

    /// Users holding a seat directly (members of assigned groups are listed by the groups).
    pub async fn profile_users(&self, org: &Organization, id: ProfileId) -> Result<Vec<User>> {
        let b = self.backend();
        let mut c = self.db.pool.acquire().await?;
        pq::get_profile(&mut c, b, org.id, id)
            .await?
            .ok_or_else(|| not_found_profile(id))?;
        let mut out = Vec::new();
        for u in pq::profile_user_ids(&mut c, b, id).await? {
            if let Some(user) = q::get_user(&mut c, b, org.id, u).await? {
                out.push(user);
            }
        }
        Ok(out)
    }

    /// Gives the user a seat directly; true if new. A user who already holds a seat through a
    /// group takes no further seat.
    pub async fn add_profile_user(
        &self,
        admin: &OrgAdmin,
        id: ProfileId,
        user: UserId,
    ) -> Result<bool> {
        let mut w = self.db.write().await?;
        let (ok, changed, out) = self.add_profile_user_in(&mut w, admin, id, user).await?;
        let delta = Delta::users_if(changed, [user]);
        self.commit_rights_for(w, admin.org.id, ok, delta).await?;
        Ok(out)
    }

    pub(crate) async fn add_profile_user_in(
        &self,
        w: &mut crate::store::WriteTx,
        admin: &OrgAdmin,
        id: ProfileId,
        user: UserId,
    ) -> Result<(rolecall_core::change::Approved, bool, bool)> {
        let org = &admin.org;
        let b = self.backend();
        pq::get_profile(&mut w.tx, b, org.id, id)
            .await?
            .ok_or_else(|| not_found_profile(id))?;
        // User, then profile: the lock order of `directory::holding`.
        let person = q::lock_user(&mut w.tx, b, org.id, user)
            .await?
            .ok_or_else(|| {
                DomainError::invalid(
                    "user_id",
                    "unknown_user",
                    format!("no user {user} in this organization"),
                )
            })?;
        let profile = pq::lock_profile(&mut w.tx, b, org.id, id)
            .await?
            .ok_or_else(|| not_found_profile(id))?;
        let ok = self
            .approve(&mut w.tx, admin, seat(&profile, Effect::User(user)))
            .await?;
        let gained = hq::bundle_roles(
            &mut w.tx,
            b,
            org.id,
            id,
            profile.name.as_str(),
            &profile.roles,
        )
        .await?;
        self.refuse_second_role(
            &mut w.tx,
            org.id,
            People::One(user),
            &[(user, person.username.to_string())],
            &gained,
            None,
        )
        .await?;
        // A deactivated user takes no seat (issue 10): only active and invited users count.
        if let (Some(quota), true) = (profile.seat_quota, person.status != UserStatus::Inactive) {
            if !pq::holds_seat(&mut w.tx, b, id, user).await?
                && pq::seats_used(&mut w.tx, b, id).await? >= quota
            {
                return Err(DomainError::conflict("quota_exceeded", full(&profile, quota)).into());
            }
        }
        let added = pq::add_profile_user(&mut w.tx, b, org.id, id, user, self.now()).await?;
        if added {
            self.record(w, admin, seat_assigned(&person, &profile))
                .await?;
        }
        Ok((ok, added, added))
    }

    pub async fn remove_profile_user(
        &self,
        admin: &OrgAdmin,
        id: ProfileId,
        user: UserId,
    ) -> Result<()> {
        let mut w = self.db.write().await?;
        let (ok, changed, out) = self.remove_profile_user_in(&mut w, admin, id, user).await?;
        let delta = Delta::users_if(changed, [user]);
        self.commit_rights_for(w, admin.org.id, ok, delta).await?;
        Ok(out)
    }

    pub(crate) async fn remove_profile_user_in(
        &self,
        w: &mut crate::store::WriteTx,
        admin: &OrgAdmin,
        id: ProfileId,
        user: UserId,
    ) -> Result<(rolecall_core::change::Approved, bool, ())> {
        let org = &admin.org;
        let b = self.backend();
        let profile = pq::lock_profile(&mut w.tx, b, org.id, id)
            .await?
            .ok_or_else(|| not_found_profile(id))?;
        let ok = self
            .approve(&mut w.tx, admin, seat(&profile, Effect::User(user)))
            .await?;
        if !pq::remove_profile_user(&mut w.tx, b, id, user).await? {
            return Err(DomainError::not_found("profile user", user).into());
        }
        let target = match q::get_user(&mut w.tx, b, org.id, user).await? {
            Some(u) => user_target(&u),
            None => Party::new("user", user, ""),
        };
        self.record(
            w,
            admin,
            Record::new("seat_released", target).changes(field(
                "profile",
                profile_ref(&profile),
                Value::Null,
            )),
        )
        .await?;
        Ok((ok, true, ()))
    }

    pub async fn profile_groups(&self, org: &Organization, id: ProfileId) -> Result<Vec<Group>> {
        let b = self.backend();
        let mut c = self.db.pool.acquire().await?;
        pq::get_profile(&mut c, b, org.id, id)
            .await?
            .ok_or_else(|| not_found_profile(id))?;
        let mut out = Vec::new();
        for g in pq::profile_group_ids(&mut c, b, id).await? {
            if let Some(group) = q::get_group(&mut c, b, org.id, g).await? {
                out.push(group);
            }
        }
        Ok(out)
    }

    /// Assigns a group: every member holds a seat. Refused when the members who hold no seat
    /// yet do not fit in the free seats.
    pub async fn add_profile_group(
        &self,
        admin: &OrgAdmin,
        id: ProfileId,
        group: GroupId,
    ) -> Result<bool> {
        let org = &admin.org;
        let b = self.backend();
        let mut w = self.db.write().await?;
        pq::get_profile(&mut w.tx, b, org.id, id)
            .await?
            .ok_or_else(|| not_found_profile(id))?;
        // Group, members, then profile: the order of `directory::holding`.
        let g = q::lock_group(&mut w.tx, b, org.id, group)
            .await?
            .ok_or_else(|| {
                DomainError::invalid(
                    "group_id",
                    "unknown_group",
                    format!("no group {group} in this organization"),
                )
            })?;
        let members = hq::lock_people(&mut w.tx, b, org.id, People::MembersOf(group)).await?;
        let profile = pq::lock_profile(&mut w.tx, b, org.id, id)
            .await?
            .ok_or_else(|| not_found_profile(id))?;
        let ok = self
            .approve(&mut w.tx, admin, seat(&profile, Effect::Members(group)))
            .await?;
        let gained = hq::bundle_roles(
            &mut w.tx,
            b,
            org.id,
            id,
            profile.name.as_str(),
            &profile.roles,
        )
        .await?;
        self.refuse_second_role(
            &mut w.tx,
            org.id,
            People::MembersOf(group),
            &members,
            &gained,
            None,
        )
        .await?;
        if let Some(quota) = profile.seat_quota {
            let with = pq::seats_used_with_group(&mut w.tx, b, id, group).await?;
            if with > quota {
                let used = pq::seats_used(&mut w.tx, b, id).await?;
                let message = if used >= quota {
                    full(&profile, quota)
                } else {
                    format!(
                        "profile {} has {quota} seats and {used} are used; group {} would need {} more",
                        profile.name,
                        g.name,
                        with - used
                    )
                };
                return Err(DomainError::conflict("quota_exceeded", message).into());
            }
        }
        let added = pq::add_profile_group(&mut w.tx, b, org.id, id, group, self.now()).await?;
        if added {
            self.record(
                &mut w,
                admin,
                Record::new(
                    "profile_group_added",
                    Party::new("group", g.id, g.name.as_str()),
                )
                .changes(field("profile", Value::Null, profile_ref(&profile))),
            )
            .await?;
        }
        self.commit_rights(w, org.id, ok, added).await?;
        Ok(added)
    }

    pub async fn remove_profile_group(
        &self,
        admin: &OrgAdmin,
        id: ProfileId,
        group: GroupId,
    ) -> Result<()> {
        let org = &admin.org;
        let b = self.backend();
        let mut w = self.db.write().await?;
        let profile = pq::lock_profile(&mut w.tx, b, org.id, id)
            .await?
            .ok_or_else(|| not_found_profile(id))?;
        let ok = self
            .approve(&mut w.tx, admin, seat(&profile, Effect::Members(group)))
            .await?;
        if !pq::remove_profile_group(&mut w.tx, b, id, group).await? {
            return Err(DomainError::not_found("profile group", group).into());
        }
        let target = match q::get_group(&mut w.tx, b, org.id, group).await? {
            Some(g) => Party::new("group", g.id, g.name.as_str()),
            None => Party::new("group", group, ""),
        };
        self.record(
            &mut w,
            admin,
            Record::new("profile_group_removed", target).changes(field(
                "profile",
                profile_ref(&profile),
                Value::Null,
            )),
        )
        .await?;
        self.commit_rights(w, org.id, ok, true).await?;
        Ok(())
    }

    /// Called by `add_member` inside its transaction, with the group already locked (its
    /// caller's lock, not a second one): a user joining a group takes a seat in every profile
    /// the group is assigned to (`profiles`, ascending: the lock order), so a full profile
    /// refuses the membership.
    pub(crate) async fn check_group_join(
        &self,
        c: &mut AnyConnection,
        org: &Organization,
        g: &Group,
        profiles: &[ProfileId],
        user: UserId,
    ) -> Result<()> {
        let b = self.backend();
        for &id in profiles {
            let Some(profile) = pq::lock_profile(&mut *c, b, org.id, id).await? else {
                continue;
            };
            let Some(quota) = profile.seat_quota else {
                continue;
            };
            if pq::takes_seat(&mut *c, b, user).await?
                && !pq::holds_seat(&mut *c, b, id, user).await?
                && pq::seats_used(&mut *c, b, id).await? >= quota
            {
                return Err(DomainError::conflict(
                    "quota_exceeded",
                    format!(
                        "{}; group {} is assigned to it, so the user cannot join the group",
                        full(&profile, quota),
                        g.name
                    ),
                )
                .into());
            }
        }
        Ok(())
    }

    /// Called by `update_user` before a deactivated user becomes active again: they hold no
    /// seat while deactivated, so each profile they reach must have a free one for them.
    pub(crate) async fn check_reactivation_seats(
        &self,
        c: &mut AnyConnection,
        org: &Organization,
        user: &User,
    ) -> Result<()> {
        let b = self.backend();
        let mut ids: Vec<ProfileId> = pq::user_seats(&mut *c, b, user.id)
            .await?
            .into_iter()
            .map(|(p, _)| p)
            .collect();
        ids.sort();
        ids.dedup();
        for id in ids {
            let Some(profile) = pq::lock_profile(&mut *c, b, org.id, id).await? else {
                continue;
            };
            let Some(quota) = profile.seat_quota else {
                continue;
            };
            if pq::seats_used(&mut *c, b, id).await? >= quota {
                return Err(DomainError::conflict(
                    "quota_exceeded",
                    format!(
                        "{}; {} would take a seat again when reactivated: free a seat or raise the quota first",
                        full(&profile, quota),
                        user.username
                    ),
                )
                .into());
            }
        }
        Ok(())
    }

    // ------------------------------------------------------------ quick views

    /// The profiles a user reaches (directly or through groups) and the products they license.
    pub async fn user_products(&self, org: &Organization, user: UserId) -> Result<UserProducts> {
        let b = self.backend();
        let mut c = self.db.pool.acquire().await?;
        q::get_user(&mut c, b, org.id, user)
            .await?
            .ok_or_else(|| DomainError::not_found("user", user))?;
        let mut profiles: HashMap<ProfileId, Option<Profile>> = HashMap::new();
        let mut groups: HashMap<GroupId, Option<String>> = HashMap::new();
        let mut items = Vec::new();
        let mut applications = BTreeSet::new();
        for (pid, via_group) in pq::user_seats(&mut c, b, user).await? {
            if let Entry::Vacant(e) = profiles.entry(pid) {
                e.insert(pq::get_profile(&mut c, b, org.id, pid).await?);
            }
            let Some(Some(profile)) = profiles.get(&pid) else {
                continue;
            };
            let (via, group_name) = match via_group {
                None => (Via::Direct, None),
                Some(g) => {
                    if let Entry::Vacant(e) = groups.entry(g) {
                        e.insert(
                            q::get_group(&mut c, b, org.id, g)
                                .await?
                                .map(|g| g.name.into_string()),
                        );
                    }
                    (
                        Via::Group { group_id: g },
                        groups.get(&g).cloned().flatten(),
                    )
                }
            };
            applications.insert(profile.application.clone());
            items.push(UserProduct {
                profile_id: pid,
                profile_name: profile.name.to_string(),
                application: profile.application.clone(),
                via,
                group_name,
            });
        }
        Ok(UserProducts {
            items,
            applications: applications.into_iter().collect(),
        })
    }

    /// Every application of the catalogue with its profiles and seats.
    pub async fn products(&self, org: &Organization) -> Result<Vec<ProductSummary>> {
        let b = self.backend();
        let mut c = self.db.pool.acquire().await?;
        let profiles = pq::list_profiles(&mut c, b, org.id, None).await?;
        let used = pq::seats_used_by_profile(&mut c, b, org.id).await?;
        let licensed = pq::licensed_users_by_application(&mut c, b, org.id).await?;
        Ok(self
            .catalogue()
            .apps
            .iter()
            .map(|tree| {
                let mine: Vec<&Profile> = profiles
                    .iter()
                    .filter(|p| p.application == tree.key())
                    .collect();
                ProductSummary {
                    application: tree.key().to_string(),
                    name: tree.def.name.clone(),
                    gated: !mine.is_empty(),
                    profiles: mine.len() as i64,
                    seats_used: mine
                        .iter()
                        .map(|p| used.get(&p.id).copied().unwrap_or(0))
                        .sum(),
                    seats_total: mine.iter().map(|p| p.seat_quota).sum(),
                    licensed_users: licensed.get(tree.key()).copied().unwrap_or(0),
                }
            })
            .collect())
    }
}
