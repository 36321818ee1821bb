//! Users, groups, memberships and direct role assignments.

use super::audit::{user_target, Record};
use super::credentials::{CredentialDecision, CredentialPlan};
use super::signin::ClientInfo;
use super::user_profile::{
    idp_owned_changes, nullable, settle_emails, AddressInput, EmailInput, PhoneInput, ProfileChange,
};
use super::{check_version, lost_race, new_id, Delta, Directory};
use crate::directory::{OrgAdmin, Principal};
use crate::error::Result;
use crate::store::directory as q;
use crate::store::holding::{self as hq, People};
use crate::store::user_list::{self as lq, Position, UserFilter};
use rolecall_core::admin::Operation;
use rolecall_core::audit::{field, Party};
use rolecall_core::change::{Change, Effect, Reach};
use rolecall_core::error::Problems;
use rolecall_core::holding::{HeldRole, HeldVia, Loss};
use rolecall_core::model::{
    Group, GroupId, Organization, Role, RoleId, User, UserId, UserKind, UserStatus, Via,
};
use rolecall_core::model::{IdentityType, UserProfile};
use rolecall_core::settings::{DeprovisionedCredentials, IdpAttribute, OrgSettings};
use rolecall_core::validate::ExternalId;
use rolecall_core::validate::{Description, DisplayName, Email, Locale, PersonName, Username};
use rolecall_core::Error as DomainError;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use sqlx::AnyConnection;

/// Input for a new user. Only the e-mail is required (seed 002); the username defaults to it.
/// The other attributes are what identity providers carry (SCIM's User schema and its
/// enterprise extension) and the Adobe Admin Console template's identity type and country.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewUser {
    /// The sign-in address; it becomes the primary entry of `emails`.
    pub email: String,
    /// Up to 256 characters; defaults to the e-mail.
    pub username: Option<String>,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    /// `en_US` or `en-US`.
    pub locale: Option<String>,
    /// `active` (default) or `invited`.
    pub status: Option<String>,
    /// Send the person their account notice (active) or "Get started" invitation (invited)
    /// by e-mail. Default `true`; `false` adds an active user silently (an invitation only
    /// travels by e-mail, so an invited user is always sent one).
    pub notify: Option<bool>,
    /// `adobe_id`, `enterprise_id` (default; `federated_id` for SCIM-provisioned users) or
    /// the Adobe template's spelling (`Federated ID`).
    pub identity_type: Option<String>,
    /// ISO 3166-1 alpha-2, e.g. `US`.
    pub country_code: Option<String>,
    /// The identifier a provisioning client or import knows the user by.
    pub external_id: Option<String>,
    pub display_name: Option<String>,
    pub nick_name: Option<String>,
    pub title: Option<String>,
    pub user_type: Option<String>,
    pub name_formatted: Option<String>,
    pub middle_name: Option<String>,
    pub honorific_prefix: Option<String>,
    pub honorific_suffix: Option<String>,
    /// An `Accept-Language` value such as `en-US`.
    pub preferred_language: Option<String>,
    /// IANA time zone, e.g. `Europe/Berlin`.
    pub timezone: Option<String>,
    /// Further addresses; the sign-in address is added as the primary one.
    pub emails: Option<Vec<EmailInput>>,
    pub phone_numbers: Option<Vec<PhoneInput>>,
    pub addresses: Option<Vec<AddressInput>>,
    pub employee_number: Option<String>,
    pub cost_center: Option<String>,
    pub organization: Option<String>,
    pub division: Option<String>,
    pub department: Option<String>,
    /// The id of the user's manager.
    pub manager_id: Option<String>,
}

impl NewUser {
    fn profile_change(&self) -> ProfileChange<'_> {
        fn some(v: &Option<String>) -> Option<Option<&str>> {
            v.as_deref().map(Some)
        }
        ProfileChange {
            texts: vec![
                ("display_name", some(&self.display_name)),
                ("nick_name", some(&self.nick_name)),
                ("title", some(&self.title)),
                ("user_type", some(&self.user_type)),
                ("name_formatted", some(&self.name_formatted)),
                ("middle_name", some(&self.middle_name)),
                ("honorific_prefix", some(&self.honorific_prefix)),
                ("honorific_suffix", some(&self.honorific_suffix)),
                ("employee_number", some(&self.employee_number)),
                ("cost_center", some(&self.cost_center)),
                ("organization", some(&self.organization)),
                ("division", some(&self.division)),
                ("department", some(&self.department)),
            ],
            identity_type: some(&self.identity_type),
            country_code: some(&self.country_code),
            external_id: some(&self.external_id),
            preferred_language: some(&self.preferred_language),
            timezone: some(&self.timezone),
            manager_id: some(&self.manager_id),
            emails: self.emails.as_deref(),
            phone_numbers: self.phone_numbers.as_deref(),
            addresses: self.addresses.as_deref(),
        }
    }
}

/// A partial update (JSON merge patch): absent fields are left alone, `null` unsets an
/// optional attribute, a list replaces the whole list.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UserPatch {
    pub email: Option<String>,
    pub username: Option<String>,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub locale: Option<String>,
    /// `active` or `inactive`: deactivation voids all access at once and keeps the record.
    pub status: Option<String>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>, nullable)]
    pub identity_type: Option<Option<String>>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>, nullable)]
    pub country_code: Option<Option<String>>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>, nullable)]
    pub external_id: Option<Option<String>>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>, nullable)]
    pub display_name: Option<Option<String>>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>, nullable)]
    pub nick_name: Option<Option<String>>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>, nullable)]
    pub title: Option<Option<String>>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>, nullable)]
    pub user_type: Option<Option<String>>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>, nullable)]
    pub name_formatted: Option<Option<String>>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>, nullable)]
    pub middle_name: Option<Option<String>>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>, nullable)]
    pub honorific_prefix: Option<Option<String>>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>, nullable)]
    pub honorific_suffix: Option<Option<String>>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>, nullable)]
    pub preferred_language: Option<Option<String>>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>, nullable)]
    pub timezone: Option<Option<String>>,
    /// Replaces every e-mail; the sign-in address stays the primary one.
    pub emails: Option<Vec<EmailInput>>,
    pub phone_numbers: Option<Vec<PhoneInput>>,
    pub addresses: Option<Vec<AddressInput>>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>, nullable)]
    pub employee_number: Option<Option<String>>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>, nullable)]
    pub cost_center: Option<Option<String>>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>, nullable)]
    pub organization: Option<Option<String>>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>, nullable)]
    pub division: Option<Option<String>>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>, nullable)]
    pub department: Option<Option<String>>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>, nullable)]
    pub manager_id: Option<Option<String>>,
}

impl UserPatch {
    fn profile_change(&self) -> ProfileChange<'_> {
        fn v(v: &Option<Option<String>>) -> Option<Option<&str>> {
            v.as_ref().map(|o| o.as_deref())
        }
        ProfileChange {
            texts: vec![
                ("display_name", v(&self.display_name)),
                ("nick_name", v(&self.nick_name)),
                ("title", v(&self.title)),
                ("user_type", v(&self.user_type)),
                ("name_formatted", v(&self.name_formatted)),
                ("middle_name", v(&self.middle_name)),
                ("honorific_prefix", v(&self.honorific_prefix)),
                ("honorific_suffix", v(&self.honorific_suffix)),
                ("employee_number", v(&self.employee_number)),
                ("cost_center", v(&self.cost_center)),
                ("organization", v(&self.organization)),
                ("division", v(&self.division)),
                ("department", v(&self.department)),
            ],
            identity_type: v(&self.identity_type),
            country_code: v(&self.country_code),
            external_id: v(&self.external_id),
            preferred_language: v(&self.preferred_language),
            timezone: v(&self.timezone),
            manager_id: v(&self.manager_id),
            emails: self.emails.as_deref(),
            phone_numbers: self.phone_numbers.as_deref(),
            addresses: self.addresses.as_deref(),
        }
    }
}

/// A new group: a name, for a provisioned one the client's identifier for it, and its first
/// members (joined in the same transaction, each judged like `add_member`).
#[derive(Debug, Clone, Default)]
pub struct NewGroup {
    pub name: String,
    pub description: Option<String>,
    pub external_id: Option<String>,
    pub members: Vec<UserId>,
}

/// A change of a group in one transaction: its name and external id, and members joining and
/// leaving (what a SCIM PATCH or PUT of a group amounts to).
#[derive(Debug, Clone, Default)]
pub struct GroupChange {
    pub name: Option<String>,
    pub external_id: Option<Option<String>>,
    pub add: Vec<UserId>,
    pub remove: Vec<UserId>,
}

/// A role a user holds, and how.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct UserRoleHolding {
    pub role_id: RoleId,
    pub role_name: String,
    pub application: String,
    #[serde(flatten)]
    pub via: Via,
}

/// The SCIM client acting, if one is.
fn scim_client(admin: &OrgAdmin) -> Option<&str> {
    match &admin.principal {
        Principal::Scim { client, .. } => Some(client.as_str()),
        _ => None,
    }
}

/// When a SCIM client deprovisions a person, the organisation's setting decides about the API
/// credentials they created (revoke by default) instead of the 409 that asks an admin.
fn deprovision_plan(
    scim: Option<&str>,
    settings: &OrgSettings,
    given: Option<CredentialDecision>,
) -> Result<Option<CredentialPlan>> {
    match scim {
        Some(_) => Ok(Some(
            match settings.provisioning.deprovisioned_credentials {
                DeprovisionedCredentials::Revoke => CredentialPlan::Revoke,
                DeprovisionedCredentials::Keep => CredentialPlan::Keep,
            },
        )),
        None => CredentialPlan::from_wire(given, None),
    }
}

/// Service accounts live and die with their credential.
fn refuse_service_account(u: &User) -> Result<()> {
    if u.kind == UserKind::Service {
        return Err(DomainError::conflict(
            "service_account",
            "this is an API credential's service account: revoke the credential instead",
        )
        .into());
    }
    Ok(())
}

fn not_found_user(id: UserId) -> crate::error::Error {
    DomainError::not_found("user", id).into()
}

fn unknown_role(role: RoleId) -> DomainError {
    DomainError::invalid(
        "role_id",
        "unknown_role",
        format!("no role {role} in this organization"),
    )
}

/// Giving or taking a role of `application` changes the access of `effect`'s people.
pub(super) fn role_assignment(application: &str, effect: Effect) -> Change {
    Change::new(Operation::AssignRole)
        .reaching(Reach::Application(application.to_string()))
        .affecting(effect)
}

/// Adding `user` to the organisation (every way of creating one judges this change).
pub(super) fn user_addition(user: UserId) -> Change {
    Change::new(Operation::AddUser)
        .reaching(Reach::Organization)
        .affecting(Effect::User(user))
}

/// Joining or leaving a group changes the person's access by everything the group carries.
pub(super) fn membership(group: GroupId, user: UserId) -> Change {
    Change::new(Operation::ManageGroupMembers)
        .reaching(Reach::Group(group))
        .affecting(Effect::User(user))
}

/// What an edit of a user changes: deactivation removes them from the organisation (a System
/// admin task, seed 004), reactivation restores their access, the owner's sign-in identity is
/// the owner's own.
fn user_change(org: &Organization, current: &User, next: &User) -> Change {
    let op = if next.status == UserStatus::Inactive && current.status != UserStatus::Inactive {
        Operation::RemoveUser
    } else {
        Operation::EditUser
    };
    let mut change = Change::new(op).reaching(Reach::Organization);
    if next.status != current.status {
        change = change.affecting(Effect::User(current.id));
    }
    let identity_changed = next.email != current.email || next.username != current.username;
    if identity_changed && org.owner_id == Some(current.id) {
        change = change.reaching(Reach::OwnerCredentials { owner: current.id });
    }
    change
}

/// Does an edit change where the person's password resets go or how they sign in, or bring
/// them back from deactivation? Either hands over whatever access the person holds.
fn redirects_or_revives(current: &User, next: &User) -> bool {
    next.email != current.email
        || next.username != current.username
        || (current.status == UserStatus::Inactive && next.status != UserStatus::Inactive)
}

/// What the log says of a new user (every way of creating one).
pub(super) fn user_created(u: &User) -> Record {
    Record::new("user_created", user_target(u)).between(None, Some(u))
}

/// What the log says of a user joining a group.
pub(super) fn member_added(u: &User, g: &Group) -> Record {
    Record::new("member_added", user_target(u)).changes(field("group", Value::Null, group_ref(g)))
}

/// What the log says of a role given to a user directly.
pub(super) fn role_assigned(u: &User, role: &Role) -> Record {
    Record::new("role_assigned", user_target(u)).changes(field("role", Value::Null, role_ref(role)))
}

fn group_target(g: &Group) -> Party {
    Party::new("group", g.id, g.name.as_str())
}

/// A group as a field value in the log: id and name at the time.
fn group_ref(g: &Group) -> Value {
    json!({"id": g.id.to_string(), "name": g.name.as_str()})
}

/// A role as a field value in the log: id, name and application at the time.
pub(crate) fn role_ref(r: &Role) -> Value {
    json!({"id": r.id.to_string(), "name": r.name.as_str(), "application": r.application})
}

impl Directory {
    pub async fn create_user(&self, admin: &OrgAdmin, input: NewUser) -> Result<User> {
        // invitations: the body is `create_user_invited_by`, which also returns the invitation.
        Ok(self.create_user_invited_by(admin, input, None).await?.0)
    }

    /// Creates a user; an `invited` one is sent the "Get started" invitation in the same
    /// transaction (`invited_by` labels who asked, for the audit trail). A SCIM client's user is
    /// marked as provisioned by it and is a Federated ID unless it says otherwise; it may be
    /// created inactive, and is invited only when the organisation asks for it.
    pub(crate) async fn create_user_invited_by(
        &self,
        admin: &OrgAdmin,
        input: NewUser,
        invited_by: Option<&str>,
    ) -> Result<(User, Option<super::invitations::Invitation>)> {
        let mut w = self.db.write().await?;
        let (ok, changed, out) = self
            .create_user_invited_by_in(&mut w, admin, input, invited_by)
            .await?;
        let delta = Delta::users_if(changed, [out.0.id]);
        self.commit_rights_for(w, admin.org.id, ok, delta).await?;
        Ok(out)
    }

    pub(crate) async fn create_user_invited_by_in(
        &self,
        w: &mut crate::store::WriteTx,
        admin: &OrgAdmin,
        input: NewUser,
        invited_by: Option<&str>,
    ) -> Result<(
        rolecall_core::change::Approved,
        bool,
        (User, Option<super::invitations::Invitation>),
    )> {
        let org = &admin.org;
        let (mut user, notify) = self.draft_user(admin, &input)?;
        let now = user.created_at;
        let b = self.backend();
        if scim_client(admin).is_some() && user.status == UserStatus::Active {
            let (settings, _) = crate::store::signin::settings(&mut w.tx, b, org.id).await?;
            if settings.provisioning.invitations {
                user.status = UserStatus::Invited;
            }
        }
        let ok = self
            .approve(&mut w.tx, admin, user_addition(user.id))
            .await?;
        q::insert_user(&mut w.tx, b, &user).await?;
        // invitations: an invited user gets the "Get started" e-mail with this very insert.
        let invitation = match user.status {
            UserStatus::Invited => Some(
                super::invitations::issue(
                    &mut w.tx,
                    b,
                    org,
                    &user,
                    invited_by,
                    admin.principal.user(),
                    now,
                    self,
                )
                .await?,
            ),
            _ => {
                if notify {
                    self.queue_account_notice(&mut w.tx, org, &user, now)
                        .await?;
                }
                None
            }
        };
        // end invitations
        self.record(w, admin, user_created(&user)).await?;
        Ok((ok, true, (user, invitation)))
    }

    /// The user `input` describes, every field checked (all problems at once), and whether
    /// they are to be told. No I/O: the import's batches build their people with it too.
    pub(super) fn draft_user(&self, admin: &OrgAdmin, input: &NewUser) -> Result<(User, bool)> {
        let scim = scim_client(admin);
        let mut p = Problems::new();
        let email = p.check(Email::parse("email", &input.email));
        let username = match &input.username {
            Some(u) => p.check(Username::parse("username", u)),
            None => email
                .as_ref()
                .and_then(|e| p.check(Username::parse("email", e.as_str()))),
        };
        let first = p.check(PersonName::parse(
            "first_name",
            input.first_name.as_deref().unwrap_or(""),
        ));
        let last = p.check(PersonName::parse(
            "last_name",
            input.last_name.as_deref().unwrap_or(""),
        ));
        let locale = match &input.locale {
            Some(l) => p.check(Locale::parse("locale", l)),
            None => Some(Locale::default()),
        };
        let status = match input.status.as_deref() {
            None | Some("active") => Some(UserStatus::Active),
            Some("invited") => Some(UserStatus::Invited),
            // Identity providers create users assigned but disabled.
            Some("inactive") if scim.is_some() => Some(UserStatus::Inactive),
            Some(_) => {
                p.push(rolecall_core::FieldError::new(
                    "status",
                    "enum",
                    "a new user is active or invited",
                ));
                None
            }
        };
        let notify = input.notify.unwrap_or(true);
        if !notify && status == Some(UserStatus::Invited) {
            p.push(rolecall_core::FieldError::new(
                "notify",
                "invitation_is_a_mail",
                "an invited user is always sent the invitation; add them as active with notify false to tell them nothing",
            ));
        }
        let mut profile = UserProfile {
            identity_type: if scim.is_some() {
                IdentityType::FederatedId
            } else {
                IdentityType::default()
            },
            ..UserProfile::default()
        };
        super::user_profile::apply(&mut p, &mut profile, &input.profile_change());
        p.into_result()?;
        let (
            Some(email),
            Some(username),
            Some(first_name),
            Some(last_name),
            Some(locale),
            Some(status),
        ) = (email, username, first, last, locale, status)
        else {
            unreachable!("problems checked")
        };
        let now = self.now();
        let mut user = User {
            id: UserId(new_id()),
            org_id: admin.org.id,
            username,
            email,
            first_name,
            last_name,
            locale,
            status,
            version: 1,
            created_at: now,
            updated_at: now,
            last_sign_in_at: None,
            kind: UserKind::Person,
            profile,
            provisioned_by: scim.map(str::to_string),
        };
        settle_emails(&mut user);
        Ok((user, notify))
    }

    /// A user, or `Gone` with the tombstone when deleted.
    /// The person an admin names by e-mail or username (exact, ignoring case), if any.
    pub async fn person_by_login(&self, org: &Organization, login: &str) -> Result<Option<User>> {
        let mut c = self.db.pool.acquire().await?;
        q::person_by_login(&mut c, self.backend(), org.id, login.trim()).await
    }

    pub async fn get_user(&self, org: &Organization, id: UserId) -> Result<User> {
        let b = self.backend();
        let mut c = self.db.pool.acquire().await?;
        if let Some(u) = q::get_user(&mut c, b, org.id, id).await? {
            return Ok(u);
        }
        if q::get_tombstone(&mut c, b, org.id, id).await?.is_some() {
            return Err(DomainError::Gone {
                entity: "user",
                id: id.to_string(),
            }
            .into());
        }
        Err(not_found_user(id))
    }

    pub async fn update_user(
        &self,
        admin: &OrgAdmin,
        id: UserId,
        patch: UserPatch,
        if_match: Option<i64>,
        decision: Option<CredentialDecision>,
        _client: &ClientInfo,
    ) -> Result<User> {
        let mut w = self.db.write().await?;
        let (ok, changed, out) = self
            .update_user_in(&mut w, admin, id, patch, if_match, decision, _client)
            .await?;
        // A status change is the user's own row. Credentials revoked on deactivation bump the
        // epoch once more in the transaction, so the update falls back to a full compile.
        let delta = Delta::users_if(changed, [id]);
        self.commit_rights_for(w, admin.org.id, ok, delta).await?;
        Ok(out)
    }

    #[allow(clippy::too_many_arguments)] // update_user's own arguments, plus the transaction
    pub(crate) async fn update_user_in(
        &self,
        w: &mut crate::store::WriteTx,
        admin: &OrgAdmin,
        id: UserId,
        patch: UserPatch,
        if_match: Option<i64>,
        decision: Option<CredentialDecision>,
        _client: &ClientInfo,
    ) -> Result<(rolecall_core::change::Approved, bool, User)> {
        let org = &admin.org;
        let b = self.backend();
        let current = q::lock_user(&mut w.tx, b, org.id, id)
            .await?
            .ok_or_else(|| not_found_user(id))?;
        check_version(if_match, current.version)?;
        refuse_service_account(&current)?;
        let mut next = current.clone();
        let mut p = Problems::new();
        if let Some(e) = &patch.email {
            if let Some(v) = p.check(Email::parse("email", e)) {
                // A new sign-in address replaces the old one in the list, unless the list
                // itself is replaced too.
                if patch.emails.is_none() {
                    for entry in next.profile.emails.iter_mut() {
                        if entry.value.key() == current.email.key() {
                            entry.value = v.clone();
                        }
                    }
                }
                next.email = v;
            }
        }
        if let Some(u) = &patch.username {
            if let Some(v) = p.check(Username::parse("username", u)) {
                next.username = v;
            }
        }
        if let Some(f) = &patch.first_name {
            if let Some(v) = p.check(PersonName::parse("first_name", f)) {
                next.first_name = v;
            }
        }
        if let Some(l) = &patch.last_name {
            if let Some(v) = p.check(PersonName::parse("last_name", l)) {
                next.last_name = v;
            }
        }
        if let Some(l) = &patch.locale {
            if let Some(v) = p.check(Locale::parse("locale", l)) {
                next.locale = v;
            }
        }
        if let Some(s) = &patch.status {
            match s.as_str() {
                "active" => next.status = UserStatus::Active,
                "inactive" => next.status = UserStatus::Inactive,
                "invited" if current.status == UserStatus::Invited => {}
                _ => p.push(rolecall_core::FieldError::new(
                    "status",
                    "enum",
                    "must be active or inactive",
                )),
            }
        }
        super::user_profile::apply(&mut p, &mut next.profile, &patch.profile_change());
        p.into_result()?;
        settle_emails(&mut next);
        let scim = scim_client(admin);
        let settings = self
            .provisioning_settings(
                &mut w.tx,
                org,
                scim.is_some() || current.provisioned_by.is_some(),
            )
            .await?;
        if scim.is_none() {
            let owned = idp_owned_changes(&settings.provisioning, &current, &next);
            if !owned.is_empty() {
                return Err(DomainError::Invalid(owned).into());
            }
        }
        let mut change = user_change(org, &current, &next);
        if redirects_or_revives(&current, &next)
            && !crate::store::signin::admin_rights(&mut w.tx, b, org.id, id)
                .await?
                .is_empty()
        {
            change = change.reaching(Reach::AdminAccount { user: id });
        }
        let ok = self.approve(&mut w.tx, admin, change).await?;
        // These read the stored status, so they run before the update writes the new one.
        if next.status == UserStatus::Inactive && current.status != UserStatus::Inactive {
            super::admins::guard_removal(&mut w.tx, b, org.id, id, "deactivated").await?;
            self.keep_administrators(
                &mut w.tx,
                org.id,
                None,
                &[Loss::Person(id)],
                &format!("deactivating {}", current.username),
            )
            .await?;
        }
        if current.status == UserStatus::Inactive && next.status == UserStatus::Active {
            // profiles: a deactivated user holds no seat; coming back takes one again.
            self.check_reactivation_seats(&mut w.tx, org, &current)
                .await?;
        }
        next.version = current.version + 1;
        next.updated_at = self.now();
        if !q::update_user(&mut w.tx, b, &next, current.version).await? {
            return Err(lost_race("user"));
        }
        if redirects_or_revives(&current, &next)
            || (next.status == UserStatus::Inactive && current.status != UserStatus::Inactive)
        {
            // A reset link mailed to the old address, or before the deactivation, must not
            // outlive it.
            crate::store::signin::void_reset_tokens(&mut w.tx, b, id, next.updated_at).await?;
        }
        if next.email != current.email && next.status == UserStatus::Invited {
            // The open invitation's token went to the old address: whoever reads that mailbox
            // must not accept it for the person now at the new one. It goes there instead.
            if super::invitations::redirect_open(&mut w.tx, org, &next, admin, self).await? {
                let record = Record::new("invitation_sent", user_target(&next))
                    .detail("sent again to the new address; the earlier token no longer works");
                self.record(w, admin, record).await?;
            }
        }
        let affects_rights = next.status != current.status;
        if next.status == UserStatus::Inactive && current.status != UserStatus::Inactive {
            let plan = deprovision_plan(scim, &settings, decision)?;
            self.settle_credentials_of(w, admin, id, plan).await?;
            crate::store::signin::revoke_user_sessions(
                &mut w.tx,
                b,
                id,
                "deactivated",
                None,
                next.updated_at,
            )
            .await?;
            // invitations: removal notice to the address on record; open invitation closed.
            self.notify_removal(
                &mut w.tx,
                org,
                &current,
                &settings,
                "deactivated",
                next.updated_at,
            )
            .await?;
        }
        let action = match (current.status, next.status) {
            (a, UserStatus::Inactive) if a != UserStatus::Inactive => "user_deactivated",
            (UserStatus::Inactive, UserStatus::Active) => "user_reactivated",
            _ => "user_updated",
        };
        self.record(
            w,
            admin,
            Record::new(action, user_target(&current)).between(Some(&current), Some(&next)),
        )
        .await?;
        Ok((ok, affects_rights, next))
    }

    /// The organisation's settings when the change involves provisioning (a SCIM client acts,
    /// or the user or group was provisioned), else the defaults without a query.
    async fn provisioning_settings(
        &self,
        c: &mut AnyConnection,
        org: &Organization,
        involved: bool,
    ) -> Result<OrgSettings> {
        if involved {
            Ok(crate::store::signin::settings(c, self.backend(), org.id)
                .await?
                .0)
        } else {
            Ok(OrgSettings::default())
        }
    }

    /// The removal notice, except for provisioned users when the organisation leaves telling
    /// them to its identity provider; an open invitation is withdrawn either way.
    async fn notify_removal(
        &self,
        c: &mut AnyConnection,
        org: &Organization,
        user: &User,
        settings: &OrgSettings,
        what: &str,
        now: rolecall_core::model::Millis,
    ) -> Result<()> {
        if user.provisioned_by.is_some() && !settings.provisioning.removal_mails {
            super::invitations::withdraw_on_removal(c, self.backend(), org, user, now).await
        } else {
            super::invitations::on_removal(c, self.backend(), org, user, what, now).await
        }
    }

    /// Irreversible: removes the user and their memberships and assignments, keeps a tombstone.
    pub async fn delete_user(
        &self,
        admin: &OrgAdmin,
        id: UserId,
        if_match: Option<i64>,
        decision: Option<CredentialDecision>,
        _client: &ClientInfo,
    ) -> Result<()> {
        let mut w = self.db.write().await?;
        let (ok, changed, out) = self
            .delete_user_in(&mut w, admin, id, if_match, decision, _client)
            .await?;
        self.commit_rights(w, admin.org.id, ok, changed).await?;
        Ok(out)
    }

    pub(crate) async fn delete_user_in(
        &self,
        w: &mut crate::store::WriteTx,
        admin: &OrgAdmin,
        id: UserId,
        if_match: Option<i64>,
        decision: Option<CredentialDecision>,
        _client: &ClientInfo,
    ) -> Result<(rolecall_core::change::Approved, bool, ())> {
        let org = &admin.org;
        let b = self.backend();
        let current = q::lock_user(&mut w.tx, b, org.id, id)
            .await?
            .ok_or_else(|| not_found_user(id))?;
        check_version(if_match, current.version)?;
        refuse_service_account(&current)?;
        let ok = self
            .approve(
                &mut w.tx,
                admin,
                Change::new(Operation::RemoveUser)
                    .reaching(Reach::Organization)
                    .affecting(Effect::User(id)),
            )
            .await?;
        super::admins::guard_removal(&mut w.tx, b, org.id, id, "deleted").await?;
        self.keep_administrators(
            &mut w.tx,
            org.id,
            None,
            &[Loss::Person(id)],
            &format!("deleting {}", current.username),
        )
        .await?;
        let scim = scim_client(admin);
        let settings = self
            .provisioning_settings(
                &mut w.tx,
                org,
                scim.is_some() || current.provisioned_by.is_some(),
            )
            .await?;
        let plan = deprovision_plan(scim, &settings, decision)?;
        self.settle_credentials_of(w, admin, id, plan).await?;
        crate::store::signin::revoke_user_sessions(&mut w.tx, b, id, "deleted", None, self.now())
            .await?;
        // invitations: removal notice to the address on record; open invitation closed.
        self.notify_removal(&mut w.tx, org, &current, &settings, "deleted", self.now())
            .await?;
        q::delete_user(&mut w.tx, b, &current, self.now()).await?;
        self.record(
            w,
            admin,
            Record::new("user_deleted", user_target(&current)).between(Some(&current), None),
        )
        .await?;
        Ok((ok, true, ()))
    }

    // ------------------------------------------------------------ groups

    pub async fn create_group(
        &self,
        admin: &OrgAdmin,
        name: &str,
        description: Option<&str>,
    ) -> Result<Group> {
        self.create_group_with(
            admin,
            NewGroup {
                name: name.to_string(),
                description: description.map(str::to_string),
                external_id: None,
                members: Vec::new(),
            },
        )
        .await
    }

    /// Creates a group; a SCIM client's group is marked as provisioned by it.
    pub async fn create_group_with(&self, admin: &OrgAdmin, input: NewGroup) -> Result<Group> {
        let org = &admin.org;
        let mut p = Problems::new();
        let name = p.check(DisplayName::parse("name", &input.name));
        let description = p.check(Description::parse(
            "description",
            input.description.as_deref().unwrap_or(""),
        ));
        let external_id = match &input.external_id {
            Some(e) => p.check(ExternalId::parse("external_id", e)).map(Some),
            None => Some(None),
        };
        p.into_result()?;
        let (Some(name), Some(description), Some(external_id)) = (name, description, external_id)
        else {
            unreachable!("problems checked")
        };
        let now = self.now();
        let g = Group {
            id: GroupId(new_id()),
            org_id: org.id,
            name,
            description,
            external_id,
            provisioned_by: scim_client(admin).map(str::to_string),
            version: 1,
            created_at: now,
            updated_at: now,
        };
        let mut w = self.db.write().await?;
        let ok = self
            .approve(
                &mut w.tx,
                admin,
                Change::new(Operation::CreateGroup).reaching(Reach::Organization),
            )
            .await?;
        q::insert_group(&mut w.tx, self.backend(), &g).await?;
        self.record(
            &mut w,
            admin,
            Record::new("group_created", group_target(&g)).between(None, Some(&g)),
        )
        .await?;
        let joins: Vec<Change> = input.members.iter().map(|u| membership(g.id, *u)).collect();
        let mut ok = ok;
        if let Some(more) = self.approve_all(&mut w.tx, admin, joins).await? {
            ok = ok.and(more);
        }
        let mut joined = false;
        for u in &input.members {
            let (added, user) = self.join_in(&mut w.tx, org, &g, *u).await?;
            if added {
                joined = true;
                let r = Record::new("member_added", user_target(&user)).changes(field(
                    "group",
                    Value::Null,
                    group_ref(&g),
                ));
                self.record(&mut w, admin, r).await?;
            }
        }
        // An empty group changes no decision: the snapshot learns its name with its first member.
        self.commit_rights(w, org.id, ok, joined).await?;
        Ok(g)
    }

    pub async fn get_group(&self, org: &Organization, id: GroupId) -> Result<Group> {
        let mut c = self.db.pool.acquire().await?;
        q::get_group(&mut c, self.backend(), org.id, id)
            .await?
            .ok_or_else(|| DomainError::not_found("group", id).into())
    }

    pub async fn list_groups(
        &self,
        org: &Organization,
        q_text: Option<&str>,
        page: i64,
        per_page: i64,
    ) -> Result<(Vec<Group>, i64)> {
        let mut c = self.db.pool.acquire().await?;
        q::list_groups(
            &mut c,
            self.backend(),
            org.id,
            q_text,
            (page - 1) * per_page,
            per_page,
        )
        .await
    }

    pub async fn update_group(
        &self,
        admin: &OrgAdmin,
        id: GroupId,
        name: Option<&str>,
        description: Option<&str>,
        if_match: Option<i64>,
    ) -> Result<Group> {
        let org = &admin.org;
        let b = self.backend();
        let mut w = self.db.write().await?;
        let current = q::lock_group(&mut w.tx, b, org.id, id)
            .await?
            .ok_or_else(|| DomainError::not_found("group", id))?;
        check_version(if_match, current.version)?;
        let mut next = current.clone();
        let mut p = Problems::new();
        if let Some(n) = name {
            if let Some(v) = p.check(DisplayName::parse("name", n)) {
                next.name = v;
            }
        }
        if let Some(d) = description {
            if let Some(v) = p.check(Description::parse("description", d)) {
                next.description = v;
            }
        }
        p.into_result()?;
        self.refuse_idp_owned_group(&mut w.tx, admin, &current, next.name != current.name, false)
            .await?;
        let ok = self
            .approve(
                &mut w.tx,
                admin,
                Change::new(Operation::EditGroup).reaching(Reach::Group(id)),
            )
            .await?;
        next.version += 1;
        next.updated_at = self.now();
        if !q::update_group(&mut w.tx, b, &next, current.version).await? {
            return Err(lost_race("group"));
        }
        self.record(
            &mut w,
            admin,
            Record::new("group_updated", group_target(&current))
                .between(Some(&current), Some(&next)),
        )
        .await?;
        self.commit_rights(w, org.id, ok, true).await?;
        Ok(next)
    }

    /// Deletes the group; its members keep their accounts and direct roles. A SCIM client
    /// deletes only groups it created.
    pub async fn delete_group(
        &self,
        admin: &OrgAdmin,
        id: GroupId,
        if_match: Option<i64>,
    ) -> Result<()> {
        let org = &admin.org;
        let b = self.backend();
        let mut w = self.db.write().await?;
        let current = q::lock_group(&mut w.tx, b, org.id, id)
            .await?
            .ok_or_else(|| DomainError::not_found("group", id))?;
        check_version(if_match, current.version)?;
        let ok = self
            .approve(
                &mut w.tx,
                admin,
                Change::new(Operation::RemoveGroup)
                    .reaching(Reach::Group(id))
                    .affecting(Effect::Members(id)),
            )
            .await?;
        self.keep_administrators(
            &mut w.tx,
            org.id,
            None,
            &[Loss::Group(id)],
            &format!("deleting group {}", current.name),
        )
        .await?;
        q::delete_group(&mut w.tx, b, id).await?;
        self.record(
            &mut w,
            admin,
            Record::new("group_deleted", group_target(&current)).between(Some(&current), None),
        )
        .await?;
        self.commit_rights(w, org.id, ok, true).await?;
        Ok(())
    }

    /// The groups a user belongs to.
    pub async fn user_groups(&self, org: &Organization, user: UserId) -> Result<Vec<Group>> {
        let mut c = self.db.pool.acquire().await?;
        q::groups_of_user(&mut c, self.backend(), org.id, user).await
    }

    pub async fn group_members(&self, org: &Organization, id: GroupId) -> Result<Vec<User>> {
        let b = self.backend();
        let mut c = self.db.pool.acquire().await?;
        q::get_group(&mut c, b, org.id, id)
            .await?
            .ok_or_else(|| DomainError::not_found("group", id))?;
        let filter = UserFilter {
            group: Some(id),
            ..Default::default()
        };
        Ok(lq::list_users(
            &mut c,
            b,
            org.id,
            &filter,
            Default::default(),
            Default::default(),
            &Position::Offset(0),
            i64::MAX / 2,
            None,
        )
        .await?
        .items)
    }

    /// Local changes to a provisioned group's name or membership are refused when the
    /// organisation says its identity provider owns them.
    async fn refuse_idp_owned_group(
        &self,
        c: &mut AnyConnection,
        admin: &OrgAdmin,
        group: &Group,
        renames: bool,
        changes_members: bool,
    ) -> Result<()> {
        if group.provisioned_by.is_none() || scim_client(admin).is_some() {
            return Ok(());
        }
        let (settings, _) = crate::store::signin::settings(c, self.backend(), admin.org.id).await?;
        let mut owned = Vec::new();
        for (attr, touched) in [
            (IdpAttribute::GroupName, renames),
            (IdpAttribute::GroupMembers, changes_members),
        ] {
            if touched && settings.provisioning.owns(attr) {
                owned.push(rolecall_core::FieldError::new(
                    attr.field(),
                    "idp_owned",
                    "is owned by the identity provider for this provisioned group: change it there",
                ));
            }
        }
        if owned.is_empty() {
            Ok(())
        } else {
            Err(DomainError::Invalid(owned).into())
        }
    }

    /// Adds a member; true if they were not one already (idempotent).
    pub async fn add_member(&self, admin: &OrgAdmin, group: GroupId, user: UserId) -> Result<bool> {
        let mut w = self.db.write().await?;
        let (ok, changed, out) = self.add_member_in(&mut w, admin, group, user).await?;
        let delta = Delta::users_if(changed, [user]);
        self.commit_rights_for(w, admin.org.id, ok, delta).await?;
        Ok(out)
    }

    pub(crate) async fn add_member_in(
        &self,
        w: &mut crate::store::WriteTx,
        admin: &OrgAdmin,
        group: GroupId,
        user: UserId,
    ) -> Result<(rolecall_core::change::Approved, bool, bool)> {
        let org = &admin.org;
        let b = self.backend();
        // Group, then user: the lock order of `directory::holding`.
        let g = q::lock_group(&mut w.tx, b, org.id, group)
            .await?
            .ok_or_else(|| DomainError::not_found("group", group))?;
        self.refuse_idp_owned_group(&mut w.tx, admin, &g, false, true)
            .await?;
        let ok = self
            .approve(&mut w.tx, admin, membership(group, user))
            .await?;
        let (added, u) = self.join_in(&mut w.tx, org, &g, user).await?;
        if added {
            w.touch_group(group, self.now()).await?;
            self.record(w, admin, member_added(&u, &g)).await?;
        }
        Ok((ok, added, added))
    }

    /// The membership insert every way of joining a group shares (call it with the group
    /// locked: group, then user, the lock order of `directory::holding`): the user must exist,
    /// one role per user holds through what the group carries, and a group assigned to a full
    /// product profile refuses new members. True when they joined (false: already a member),
    /// with the user.
    async fn join_in(
        &self,
        c: &mut AnyConnection,
        org: &Organization,
        g: &Group,
        user: UserId,
    ) -> Result<(bool, User)> {
        let b = self.backend();
        let group = g.id;
        let u = q::lock_user(&mut *c, b, org.id, user)
            .await?
            .ok_or_else(|| {
                DomainError::invalid(
                    "user_id",
                    "unknown_user",
                    format!("no user {user} in this organization"),
                )
            })?;
        let (gained, profiles) = hq::group_carries(&mut *c, b, org.id, group).await?;
        self.refuse_second_role(
            &mut *c,
            org.id,
            People::One(user),
            &[(user, u.username.to_string())],
            &gained,
            None,
        )
        .await?;
        // profiles: joining a group assigned to a full product profile is refused.
        self.check_group_join(&mut *c, org, g, &profiles, user)
            .await?;
        Ok((
            q::add_member(c, b, org.id, group, user, self.now()).await?,
            u,
        ))
    }

    pub async fn remove_member(
        &self,
        admin: &OrgAdmin,
        group: GroupId,
        user: UserId,
    ) -> Result<()> {
        let mut w = self.db.write().await?;
        let (ok, changed, out) = self.remove_member_in(&mut w, admin, group, user).await?;
        let delta = Delta::users_if(changed, [user]);
        self.commit_rights_for(w, admin.org.id, ok, delta).await?;
        Ok(out)
    }

    pub(crate) async fn remove_member_in(
        &self,
        w: &mut crate::store::WriteTx,
        admin: &OrgAdmin,
        group: GroupId,
        user: UserId,
    ) -> Result<(rolecall_core::change::Approved, bool, ())> {
        let org = &admin.org;
        let b = self.backend();
        let g = q::lock_group(&mut w.tx, b, org.id, group)
            .await?
            .ok_or_else(|| DomainError::not_found("group", group))?;
        self.refuse_idp_owned_group(&mut w.tx, admin, &g, false, true)
            .await?;
        let person = q::lock_user(&mut w.tx, b, org.id, user).await?;
        let ok = self
            .approve(&mut w.tx, admin, membership(group, user))
            .await?;
        if let Some(person) = person {
            self.keep_administrators(
                &mut w.tx,
                org.id,
                None,
                &[Loss::Membership { group, user }],
                &format!("removing {} from group {}", person.username, g.name),
            )
            .await?;
        }
        if !q::remove_member(&mut w.tx, b, group, user).await? {
            return Err(DomainError::not_found("membership", user).into());
        }
        w.touch_group(group, self.now()).await?;
        let target = match q::get_user(&mut w.tx, b, org.id, user).await? {
            Some(u) => user_target(&u),
            None => Party::new("user", user, ""),
        };
        self.record(
            w,
            admin,
            Record::new("member_removed", target).changes(field(
                "group",
                group_ref(&g),
                Value::Null,
            )),
        )
        .await?;
        Ok((ok, true, ()))
    }

    /// Renames a group and changes its membership in one transaction, all or nothing: what a
    /// SCIM PATCH or PUT of a group amounts to. Each member joining or leaving is judged like
    /// `add_member` / `remove_member`; adding a member twice or removing a non-member is a
    /// no-op, as SCIM clients repeat themselves.
    pub async fn change_group(
        &self,
        admin: &OrgAdmin,
        id: GroupId,
        change: GroupChange,
        if_match: Option<i64>,
    ) -> Result<Group> {
        let org = &admin.org;
        let b = self.backend();
        let mut w = self.db.write().await?;
        let current = q::lock_group(&mut w.tx, b, org.id, id)
            .await?
            .ok_or_else(|| DomainError::not_found("group", id))?;
        check_version(if_match, current.version)?;
        let mut next = current.clone();
        let mut p = Problems::new();
        if let Some(n) = &change.name {
            if let Some(v) = p.check(DisplayName::parse("name", n)) {
                next.name = v;
            }
        }
        if let Some(e) = &change.external_id {
            match e {
                None => next.external_id = None,
                Some(e) => {
                    if let Some(v) = p.check(ExternalId::parse("external_id", e)) {
                        next.external_id = Some(v);
                    }
                }
            }
        }
        p.into_result()?;
        let renamed = next.name != current.name || next.external_id != current.external_id;
        let members = !change.add.is_empty() || !change.remove.is_empty();
        self.refuse_idp_owned_group(
            &mut w.tx,
            admin,
            &current,
            next.name != current.name,
            members,
        )
        .await?;
        let mut changes = Vec::new();
        if renamed {
            changes.push(Change::new(Operation::EditGroup).reaching(Reach::Group(id)));
        }
        for u in change.add.iter().chain(change.remove.iter()) {
            changes.push(membership(id, *u));
        }
        let Some(ok) = self.approve_all(&mut w.tx, admin, changes).await? else {
            return Ok(current);
        };
        let mut moved: Vec<UserId> = Vec::new();
        for u in &change.remove {
            if let Some(person) = q::lock_user(&mut w.tx, b, org.id, *u).await? {
                self.keep_administrators(
                    &mut w.tx,
                    org.id,
                    None,
                    &[Loss::Membership {
                        group: id,
                        user: *u,
                    }],
                    &format!("removing {} from group {}", person.username, current.name),
                )
                .await?;
            }
            if q::remove_member(&mut w.tx, b, id, *u).await? {
                moved.push(*u);
                let target = match q::get_user(&mut w.tx, b, org.id, *u).await? {
                    Some(user) => user_target(&user),
                    None => Party::new("user", u, ""),
                };
                let r = Record::new("member_removed", target).changes(field(
                    "group",
                    group_ref(&next),
                    Value::Null,
                ));
                self.record(&mut w, admin, r).await?;
            }
        }
        for u in &change.add {
            let (joined, user) = self.join_in(&mut w.tx, org, &next, *u).await?;
            if joined {
                moved.push(*u);
                let r = Record::new("member_added", user_target(&user)).changes(field(
                    "group",
                    Value::Null,
                    group_ref(&next),
                ));
                self.record(&mut w, admin, r).await?;
            }
        }
        next.version = current.version + 1;
        next.updated_at = self.now();
        if !q::update_group(&mut w.tx, b, &next, current.version).await? {
            return Err(lost_race("group"));
        }
        if renamed {
            let r = Record::new("group_updated", group_target(&current))
                .between(Some(&current), Some(&next));
            self.record(&mut w, admin, r).await?;
        }
        // Explanations name groups, so a rename recompiles; membership alone is the members'.
        let delta = if next.name != current.name {
            Delta::Organisation
        } else {
            Delta::users_if(!moved.is_empty(), moved)
        };
        self.commit_rights_for(w, org.id, ok, delta).await?;
        Ok(next)
    }

    pub async fn group_roles(&self, org: &Organization, group: GroupId) -> Result<Vec<Role>> {
        let b = self.backend();
        let mut c = self.db.pool.acquire().await?;
        q::get_group(&mut c, b, org.id, group)
            .await?
            .ok_or_else(|| DomainError::not_found("group", group))?;
        let mut out = Vec::new();
        for r in q::group_role_ids(&mut c, b, group).await? {
            if let Some(role) = q::get_role(&mut c, b, org.id, r).await? {
                out.push(role);
            }
        }
        Ok(out)
    }

    pub async fn add_group_role(
        &self,
        admin: &OrgAdmin,
        group: GroupId,
        role: RoleId,
    ) -> Result<bool> {
        let org = &admin.org;
        let b = self.backend();
        let mut w = self.db.write().await?;
        let g = q::lock_group(&mut w.tx, b, org.id, group)
            .await?
            .ok_or_else(|| DomainError::not_found("group", group))?;
        let found = q::get_role(&mut w.tx, b, org.id, role)
            .await?
            .ok_or_else(|| unknown_role(role))?;
        let ok = self
            .approve(
                &mut w.tx,
                admin,
                role_assignment(&found.application, Effect::Members(group)),
            )
            .await?;
        // Every member gains the role: lock them all (in id order) and hold each to the rule.
        let members = hq::lock_people(&mut w.tx, b, org.id, People::MembersOf(group)).await?;
        let gained = [HeldRole {
            role: found.id,
            role_name: found.name.to_string(),
            application: found.application.clone(),
            via: HeldVia::Group {
                id: group,
                name: g.name.to_string(),
            },
        }];
        self.refuse_second_role(
            &mut w.tx,
            org.id,
            People::MembersOf(group),
            &members,
            &gained,
            None,
        )
        .await?;
        let added = q::add_group_role(&mut w.tx, b, org.id, group, role, self.now()).await?;
        if added {
            self.record(
                &mut w,
                admin,
                Record::new("group_role_added", group_target(&g)).changes(field(
                    "role",
                    Value::Null,
                    role_ref(&found),
                )),
            )
            .await?;
        }
        self.commit_rights(w, org.id, ok, added).await?;
        Ok(added)
    }

    pub async fn remove_group_role(
        &self,
        admin: &OrgAdmin,
        group: GroupId,
        role: RoleId,
    ) -> Result<()> {
        let org = &admin.org;
        let b = self.backend();
        let mut w = self.db.write().await?;
        let g = q::lock_group(&mut w.tx, b, org.id, group)
            .await?
            .ok_or_else(|| DomainError::not_found("group", group))?;
        let found = q::get_role(&mut w.tx, b, org.id, role)
            .await?
            .ok_or_else(|| DomainError::not_found("group role", role))?;
        let ok = self
            .approve(
                &mut w.tx,
                admin,
                role_assignment(&found.application, Effect::Members(group)),
            )
            .await?;
        self.keep_administrators(
            &mut w.tx,
            org.id,
            Some(role),
            &[Loss::Group(group)],
            &format!("removing it from group {}", g.name),
        )
        .await?;
        if !q::remove_group_role(&mut w.tx, b, group, role).await? {
            return Err(DomainError::not_found("group role", role).into());
        }
        self.record(
            &mut w,
            admin,
            Record::new("group_role_removed", group_target(&g)).changes(field(
                "role",
                role_ref(&found),
                Value::Null,
            )),
        )
        .await?;
        self.commit_rights(w, org.id, ok, true).await?;
        Ok(())
    }

    // ------------------------------------------------------------ assignments

    /// Every role the user holds, directly and through groups.
    pub async fn user_roles(
        &self,
        org: &Organization,
        user: UserId,
    ) -> Result<Vec<UserRoleHolding>> {
        let b = self.backend();
        let mut c = self.db.pool.acquire().await?;
        q::get_user(&mut c, b, org.id, user)
            .await?
            .ok_or_else(|| not_found_user(user))?;
        let held = q::held_roles(&mut c, b, org.id, user).await?;
        let out = held
            .into_iter()
            .map(|(role_id, role_name, application, group)| UserRoleHolding {
                role_id,
                role_name,
                application,
                via: group.map_or(Via::Direct, |group_id| Via::Group { group_id }),
            })
            .collect();
        Ok(out)
    }

    /// Assigns a role directly. In an application set to "one role per user" a second role,
    /// however the user would hold the two, is refused (Magento's rule) rather than silently
    /// replacing the first.
    pub async fn assign_role(&self, admin: &OrgAdmin, user: UserId, role: RoleId) -> Result<bool> {
        let mut w = self.db.write().await?;
        let (ok, changed, out) = self.assign_role_in(&mut w, admin, user, role).await?;
        let delta = Delta::users_if(changed, [user]);
        self.commit_rights_for(w, admin.org.id, ok, delta).await?;
        Ok(out)
    }

    pub(crate) async fn assign_role_in(
        &self,
        w: &mut crate::store::WriteTx,
        admin: &OrgAdmin,
        user: UserId,
        role: RoleId,
    ) -> Result<(rolecall_core::change::Approved, bool, bool)> {
        let org = &admin.org;
        let b = self.backend();
        // The user's row lock serialises assignments to one person on PostgreSQL, so "one role
        // per user" sees the other's commit (issue 9 item 8: three concurrent assignments left
        // 2–3 roles). SQLite's writer already serialises them.
        let u = q::lock_user(&mut w.tx, b, org.id, user)
            .await?
            .ok_or_else(|| not_found_user(user))?;
        let role = q::get_role(&mut w.tx, b, org.id, role)
            .await?
            .ok_or_else(|| unknown_role(role))?;
        let ok = self
            .approve(
                &mut w.tx,
                admin,
                role_assignment(&role.application, Effect::User(user)),
            )
            .await?;
        // The built-in Administrators role is held on its own, as the organisation's first
        // administrator holds it before any group exists.
        if !role.builtin
            && self
                .catalogue()
                .get(&role.application)
                .is_some_and(|a| a.def.roles_through_groups)
        {
            return Err(DomainError::conflict(
                "roles_through_groups",
                format!(
                    "{} gives roles through groups only: add {} to a group and the user to that group",
                    role.application, role.name
                ),
            )
            .into());
        }
        let gained = [HeldRole {
            role: role.id,
            role_name: role.name.to_string(),
            application: role.application.clone(),
            via: HeldVia::Direct,
        }];
        self.refuse_second_role(
            &mut w.tx,
            org.id,
            People::One(user),
            &[(user, u.username.to_string())],
            &gained,
            None,
        )
        .await?;
        let added = q::add_user_role(&mut w.tx, b, org.id, user, &role, self.now()).await?;
        if added {
            self.record(w, admin, role_assigned(&u, &role)).await?;
        }
        Ok((ok, added, added))
    }

    pub async fn unassign_role(&self, admin: &OrgAdmin, user: UserId, role: RoleId) -> Result<()> {
        let mut w = self.db.write().await?;
        let (ok, changed, out) = self.unassign_role_in(&mut w, admin, user, role).await?;
        let delta = Delta::users_if(changed, [user]);
        self.commit_rights_for(w, admin.org.id, ok, delta).await?;
        Ok(out)
    }

    pub(crate) async fn unassign_role_in(
        &self,
        w: &mut crate::store::WriteTx,
        admin: &OrgAdmin,
        user: UserId,
        role: RoleId,
    ) -> Result<(rolecall_core::change::Approved, bool, ())> {
        let org = &admin.org;
        let b = self.backend();
        let u = q::lock_user(&mut w.tx, b, org.id, user)
            .await?
            .ok_or_else(|| not_found_user(user))?;
        let found = q::get_role(&mut w.tx, b, org.id, role)
            .await?
            .ok_or_else(|| DomainError::not_found("role assignment", role))?;
        let ok = self
            .approve(
                &mut w.tx,
                admin,
                role_assignment(&found.application, Effect::User(user)),
            )
            .await?;
        self.keep_administrators(
            &mut w.tx,
            org.id,
            Some(role),
            &[Loss::Direct(user)],
            &format!("unassigning it from {}", u.username),
        )
        .await?;
        if !q::remove_user_role(&mut w.tx, b, user, role).await? {
            return Err(DomainError::not_found("role assignment", role).into());
        }
        self.record(
            w,
            admin,
            Record::new("role_unassigned", user_target(&u)).changes(field(
                "role",
                role_ref(&found),
                Value::Null,
            )),
        )
        .await?;
        Ok((ok, true, ()))
    }
}
