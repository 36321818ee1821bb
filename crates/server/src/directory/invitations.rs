//! "Get started" invitations (seed 004) and removal notices (seed 002): inviting a user, resending
//! and withdrawing the invitation, accepting it, and the e-mails that go with each.
//!
//! An invited user exists with status `invited` and no password, so they can do nothing. The
//! invitation is a single-use token valid for [`INVITATION_TTL_MS`], mailed through the outbox in
//! the same transaction that creates it, and stored only as its hash. Accepting it sets the
//! password (under the organisation's password policy) and makes the user `active`.
//!
//! **An invitation carries no rights.** It names a user, never a role, group or admin right:
//! accepting it only lets the person sign in as the user an administrator already created.
//! Whatever that user may do was (or will be) granted separately through endpoints that each make
//! their own permission check, so inviting someone can never hand out rights the inviter lacks.

use super::audit::Record;
use super::signin::ClientInfo;
use super::{lost_race, new_id, Directory, NewUser};
use crate::credentials::secret::{hash_secret, new_secret};
use crate::directory::OrgAdmin;
use crate::error::{Error, Result};
use crate::store::directory as q;
use crate::store::invitations::{self as iq, InvitationRow};
use crate::store::signin as s;
use crate::store::Backend;
use rolecall_core::admin::Operation;
use rolecall_core::change::{Change, Reach};
use rolecall_core::model::{Millis, Organization, User, UserId, UserKind, UserStatus};
use rolecall_core::Error as DomainError;
use serde::{Deserialize, Serialize};
use sqlx::AnyConnection;

/// How long a "Get started" token stays valid: seven days from when it was (re)sent.
pub const INVITATION_TTL_MS: Millis = 7 * 24 * 3_600_000;

/// Input for inviting a new user: as a new user, minus the status (always `invited`).
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewInvitation {
    pub email: String,
    /// Defaults to the e-mail address.
    pub username: Option<String>,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub locale: Option<String>,
}

/// An open invitation as administrators see it. The token is never part of it: it travels
/// only by e-mail, to the person invited.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Invitation {
    pub id: String,
    pub user_id: UserId,
    /// The address the invitation was sent to.
    pub email: String,
    /// Who sent the live token ("user <id>", "token <name>", "credential <name>"); null when the
    /// user was added through `POST users` with status `invited`.
    pub invited_by: Option<String>,
    /// The person who sent the live token, when a person did. Only they and System admins may
    /// resend or withdraw it; null for the operator, an API token or SCIM, and for invitations
    /// from before senders were recorded.
    pub sent_by: Option<UserId>,
    pub created_at: Millis,
    /// When the live token was sent (a resend moves it).
    pub sent_at: Millis,
    pub expires_at: Millis,
    /// `pending`, or `expired` (resend it to give the person a new token).
    pub status: String,
}

fn view(row: &InvitationRow, email: &str, now: Millis) -> Invitation {
    Invitation {
        id: row.id.clone(),
        user_id: row.user_id,
        email: email.to_string(),
        invited_by: row.invited_by.clone(),
        sent_by: row.sent_by,
        created_at: row.created_at,
        sent_at: row.sent_at,
        expires_at: row.expires_at,
        status: if row.expires_at > now {
            "pending"
        } else {
            "expired"
        }
        .to_string(),
    }
}

/// The one answer for every token that cannot be accepted (unknown, used, expired, withdrawn,
/// or for a user no longer invited), so the answer tells an attacker nothing.
pub(crate) fn invitation_invalid() -> Error {
    DomainError::invalid(
        "token",
        "invitation_invalid",
        "the invitation is unknown, already used, expired or withdrawn",
    )
    .into()
}

/// "Jane" when a first name is known, else the username.
pub(crate) fn greeting_name(user: &User) -> &str {
    match user.first_name.as_str() {
        "" => user.username.as_str(),
        name => name,
    }
}

/// `YYYY-MM-DD HH:MM UTC` for Unix milliseconds; the core has no calendar, and a date in an
/// e-mail needs no time-zone database.
pub(crate) fn utc_date(ms: Millis) -> String {
    let secs = ms.div_euclid(1000);
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    // Howard Hinnant's civil_from_days.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02} {:02}:{:02} UTC",
        rem / 3600,
        rem % 3600 / 60
    )
}

/// Lines stay short (under 77 characters for usual names and hosts) so the message goes out as
/// plain 7-bit text rather than quoted-printable, and the token sits alone on its own line.
fn invitation_mail(
    org: &Organization,
    user: &User,
    token: &str,
    expires_at: Millis,
    link: Option<&str>,
) -> String {
    // console: the link opens "Get started"; the token stays out of it (no secret in a URL).
    let link = link
        .map(|l| format!("To get started, open\n{l}\nand "))
        .unwrap_or_else(|| "To get started, ".into());
    format!(
        "Hello {name},\n\n\
         you have been added to the rolecall organization {org}\n\
         as {username}.\n\n\
         {link}choose your password with this single-use token:\n\n\
         {token}\n\n\
         It expires on {expiry}. Send it with your new password to\n\
         POST /api/v1/organizations/{org}/invitations/accept\n\
         and then sign in as usual.\n\n\
         If you did not expect this invitation, ignore this message.\n",
        name = greeting_name(user),
        org = org.slug,
        username = user.username.as_str(),
        expiry = utc_date(expires_at),
    )
}

/// Issues a fresh token for `user` and queues the "Get started" e-mail, inside the caller's
/// transaction: a new invitation, or, when one is open, the same invitation with a new token
/// (the old one dies with its hash), a new sender and the expiry reset. `sent_by` is the
/// person or service account acting (`Principal::user`): whoever sent the live token may
/// resend or withdraw it (`Reach::Invitation`).
#[allow(clippy::too_many_arguments)]
pub(crate) async fn issue(
    c: &mut AnyConnection,
    b: Backend,
    org: &Organization,
    user: &User,
    invited_by: Option<&str>,
    sent_by: Option<UserId>,
    now: Millis,
    dir: &Directory,
) -> Result<Invitation> {
    let fresh = draft_invitation(org, user, invited_by, sent_by, now, dir);
    let row = match iq::lock_open_for_user(c, b, org.id, user.id).await? {
        Some(mut open) => {
            open.invited_by = fresh.row.invited_by.clone();
            open.sent_by = fresh.row.sent_by;
            open.sent_at = now;
            open.expires_at = fresh.row.expires_at;
            iq::renew(c, b, &open, &fresh.token_hash).await?;
            open
        }
        None => {
            iq::insert(c, b, &fresh.row, &fresh.token_hash).await?;
            fresh.row
        }
    };
    let m = &fresh.mail;
    s::enqueue_mail(c, b, org.id, &m.id, &m.to, &m.subject, &m.body, now).await?;
    Ok(view(&row, user.email.as_str(), now))
}

/// After `user`'s e-mail changed: an open invitation gets a new token, mailed to the new
/// address (the old token dies with its hash); without one, nothing is sent. Whether one was.
pub(crate) async fn redirect_open(
    c: &mut AnyConnection,
    org: &Organization,
    user: &User,
    admin: &OrgAdmin,
    dir: &Directory,
) -> Result<bool> {
    let b = dir.backend();
    if iq::lock_open_for_user(c, b, org.id, user.id)
        .await?
        .is_none()
    {
        return Ok(false);
    }
    let by = super::scim_clients::principal_label(&admin.principal);
    let sent_by = admin.principal.user();
    issue(c, b, org, user, Some(&by), sent_by, dir.now(), dir).await?;
    Ok(true)
}

/// A new invitation for `user`, not yet written: its row, its token's hash and the mail that
/// carries the token (the token itself is nowhere else). No I/O, so the import's batches issue
/// theirs the same way and write them many at a time.
pub(crate) struct DraftInvitation {
    pub(crate) row: InvitationRow,
    pub(crate) token_hash: String,
    pub(crate) mail: s::Mail,
}

pub(crate) fn draft_invitation(
    org: &Organization,
    user: &User,
    invited_by: Option<&str>,
    sent_by: Option<UserId>,
    now: Millis,
    dir: &Directory,
) -> DraftInvitation {
    let token = new_secret();
    let expires_at = now + INVITATION_TTL_MS;
    let body = invitation_mail(
        org,
        user,
        &token,
        expires_at,
        dir.console_link(&format!("/console/get-started?org={}", org.slug.as_str()))
            .as_deref(),
    );
    DraftInvitation {
        row: InvitationRow {
            id: new_id().to_string(),
            org_id: org.id,
            user_id: user.id,
            invited_by: invited_by.map(|s| s.chars().take(200).collect::<String>()),
            created_at: now,
            expires_at,
            sent_at: now,
            accepted_at: None,
            withdrawn_at: None,
            sent_by,
        },
        token_hash: hash_secret(&token),
        mail: s::Mail {
            id: new_id().to_string(),
            to: user.email.as_str().to_string(),
            subject: "Get started with rolecall".into(),
            body,
        },
    }
}

/// Called in the transaction that deactivates or deletes `user` (`what`): closes any open
/// invitation and tells the person their status changed (seed 002: "Removed users receive an
/// e-mail that notifies them of the change in status"). Service accounts have no mailbox.
pub(crate) async fn on_removal(
    c: &mut AnyConnection,
    b: Backend,
    org: &Organization,
    user: &User,
    what: &str,
    now: Millis,
) -> Result<()> {
    if user.kind == UserKind::Service {
        return Ok(());
    }
    iq::withdraw_open(c, b, org.id, user.id, now).await?;
    let body = format!(
        "Hello {name},\n\n\
         your account {username}\n\
         in the rolecall organization {org} was {what} on {date}.\n\
         You can no longer sign in to it or use the access it had.\n\n\
         If you think this is a mistake, contact your administrator.\n",
        name = greeting_name(user),
        username = user.username.as_str(),
        org = org.slug,
        date = utc_date(now),
    );
    s::enqueue_mail(
        c,
        b,
        org.id,
        &new_id().to_string(),
        user.email.as_str(),
        "Your rolecall access was removed",
        &body,
        now,
    )
    .await
}

/// A removal without a notice (a provisioned user whose identity provider tells them): the
/// open invitation is withdrawn all the same.
pub(crate) async fn withdraw_on_removal(
    c: &mut AnyConnection,
    b: Backend,
    org: &Organization,
    user: &User,
    now: Millis,
) -> Result<()> {
    iq::withdraw_open(c, b, org.id, user.id, now).await?;
    Ok(())
}

/// Inviting people (and resending or withdrawing an invitation) is adding users to the
/// organisation: invitations carry no rights.
fn inviting() -> Change {
    Change::new(Operation::AddUser).reaching(Reach::Organization)
}

/// Resending or withdrawing an invitation: adding users, and the invitation must be the
/// actor's own (`sent_by`) unless they are a System admin (`Reach::Invitation`).
fn handling(sent_by: Option<UserId>) -> Change {
    inviting().reaching(Reach::Invitation { sent_by })
}

impl Directory {
    /// Adds a user as `invited` and sends the invitation, in one transaction (user row,
    /// invitation row, outbox message). `invited_by` labels the caller for the audit trail.
    pub async fn invite(
        &self,
        admin: &OrgAdmin,
        input: NewInvitation,
        invited_by: &str,
    ) -> Result<(User, Invitation)> {
        let new_user = NewUser {
            email: input.email,
            username: input.username,
            first_name: input.first_name,
            last_name: input.last_name,
            locale: input.locale,
            status: Some(UserStatus::Invited.as_str().to_string()),
            notify: None,
            ..NewUser::default()
        };
        match self
            .create_user_invited_by(admin, new_user, Some(invited_by))
            .await?
        {
            (user, Some(invitation)) => Ok((user, invitation)),
            (_, None) => Err(Error::Internal(
                "an invited user was created without an invitation".into(),
            )),
        }
    }

    /// Open invitations of users still invited, oldest first (expired ones included, marked).
    pub async fn list_invitations(
        &self,
        org: &Organization,
        page: i64,
        per_page: i64,
    ) -> Result<(Vec<Invitation>, i64)> {
        let now = self.now();
        let mut c = self.db.pool.acquire().await?;
        let (rows, total) = iq::list_open(
            &mut c,
            self.backend(),
            org.id,
            (page - 1) * per_page,
            per_page,
        )
        .await?;
        Ok((
            rows.iter()
                .map(|(row, email, _)| view(row, email, now))
                .collect(),
            total,
        ))
    }

    /// The user's open invitation (pending or expired), if any: the console shows its sender's
    /// buttons from it.
    pub async fn open_invitation(
        &self,
        org: &Organization,
        user: &User,
    ) -> Result<Option<Invitation>> {
        let now = self.now();
        let mut c = self.db.pool.acquire().await?;
        let open = iq::open_for_user(&mut c, self.backend(), org.id, user.id).await?;
        Ok(open.map(|row| view(&row, user.email.as_str(), now)))
    }

    /// Sends a new token to a user who is still invited; any earlier token stops working and
    /// the seven days start again. A conflict when the user is not (or no longer) invited.
    /// Only a System admin or whoever sent the live token resends it; with no open invitation
    /// (it was withdrawn) the resend invites the person afresh, which only a System admin may,
    /// so a withdrawn invitation cannot be revived by another admin.
    pub async fn resend_invitation(
        &self,
        admin: &OrgAdmin,
        user: UserId,
        invited_by: &str,
        client: &ClientInfo,
    ) -> Result<Invitation> {
        let org = &admin.org;
        let b = self.backend();
        let now = self.now();
        let mut w = self.db.write().await?;
        // First whether the caller may add users at all, so others learn nothing of the user.
        self.approve(&mut w.tx, admin, inviting()).await?;
        let target = q::lock_user(&mut w.tx, b, org.id, user)
            .await?
            .ok_or_else(|| DomainError::not_found("user", user))?;
        if target.status != UserStatus::Invited || target.kind != UserKind::Person {
            return Err(DomainError::conflict(
                "not_invited",
                "only a user whose status is invited can be sent an invitation",
            )
            .into());
        }
        let sent_by = iq::lock_open_for_user(&mut w.tx, b, org.id, user)
            .await?
            .and_then(|open| open.sent_by);
        let ok = self.approve(&mut w.tx, admin, handling(sent_by)).await?;
        let sender = admin.principal.user();
        let invitation = issue(
            &mut w.tx,
            b,
            org,
            &target,
            Some(invited_by),
            sender,
            now,
            self,
        )
        .await?;
        let target = super::signin::user_party(&mut w.tx, b, user).await?;
        let record = Record::new("invitation_sent", target).detail(format!(
            "invitation {} resent by {invited_by}",
            invitation.id
        ));
        self.record_with(&mut w, admin, client, record).await?;
        self.commit_rights(w, org.id, ok, false).await?;
        Ok(invitation)
    }

    /// Withdraws the open invitation: its token stops working. The user record stays, still
    /// `invited` and so without any access; a System admin's resend can invite them again.
    /// Only a System admin or whoever sent the live token withdraws it.
    pub async fn withdraw_invitation(
        &self,
        admin: &OrgAdmin,
        user: UserId,
        client: &ClientInfo,
    ) -> Result<()> {
        let org = &admin.org;
        let b = self.backend();
        let now = self.now();
        let mut w = self.db.write().await?;
        // First whether the caller may add users at all, so others learn nothing of the user.
        self.approve(&mut w.tx, admin, inviting()).await?;
        q::lock_user(&mut w.tx, b, org.id, user)
            .await?
            .ok_or_else(|| DomainError::not_found("user", user))?;
        let open = iq::lock_open_for_user(&mut w.tx, b, org.id, user)
            .await?
            .ok_or_else(|| DomainError::not_found("invitation", user))?;
        let ok = self
            .approve(&mut w.tx, admin, handling(open.sent_by))
            .await?;
        if iq::withdraw_open(&mut w.tx, b, org.id, user, now).await? == 0 {
            return Err(DomainError::not_found("invitation", user).into());
        }
        let target = super::signin::user_party(&mut w.tx, b, user).await?;
        let record = Record::new("invitation_withdrawn", target).detail("");
        self.record_with(&mut w, admin, client, record).await?;
        self.commit_rights(w, org.id, ok, false).await
    }

    /// The invited person accepts: the token is consumed, the password set (checked against the
    /// organisation's password policy; errors name `password`) and the user becomes `active`.
    /// Nothing else changes: roles, groups and admin rights are exactly what administrators
    /// granted through their own permission-checked endpoints, so accepting grants no rights.
    /// Every unusable token gets the same `invitation_invalid` answer.
    pub async fn accept_invitation(
        &self,
        org: &Organization,
        token: &str,
        password: &str,
        client: &ClientInfo,
    ) -> Result<()> {
        let b = self.backend();
        let now = self.now();
        let (settings, _) = self.settings(org).await?;
        let hash = hash_secret(token);
        // Who the token is for, read first: the password is judged and hashed before the
        // write transaction (issue 9 item 6), then everything is checked again under it.
        let invited = {
            let mut c = self.db.pool.acquire().await?;
            iq::lock_live_by_token(&mut c, b, org.id, &hash, now)
                .await?
                .map(|inv| inv.user_id)
        }
        .ok_or_else(invitation_invalid)?;
        let prepared = self
            .prepare_password(org.id, invited, password, &settings)
            .await
            .map_err(name_password_field)?;
        let mut w = self.db.write().await?;
        let Some(inv) = iq::lock_live_by_token(&mut w.tx, b, org.id, &hash, now).await? else {
            return Err(invitation_invalid());
        };
        let Some(user) = q::lock_user(&mut w.tx, b, org.id, inv.user_id).await? else {
            return Err(invitation_invalid());
        };
        if user.id != invited || user.status != UserStatus::Invited || user.kind != UserKind::Person
        {
            return Err(invitation_invalid());
        }
        self.store_prepared(&mut w.tx, org.id, user.id, &prepared)
            .await?;
        let mut next = user.clone();
        next.status = UserStatus::Active;
        next.version = user.version + 1;
        next.updated_at = now;
        if !q::update_user(&mut w.tx, b, &next, user.version).await? {
            return Err(lost_race("user"));
        }
        if !iq::mark_accepted(&mut w.tx, b, &inv.id, now).await? {
            return Err(invitation_invalid());
        }
        self.event(
            &mut w,
            org.id,
            Some(user.id),
            "invitation_accepted",
            client,
            &format!("invitation {}", inv.id),
        )
        .await?;
        // The person acts on their own invitation, not an administrator: there is no
        // `Approved` change, but the snapshot follows the same way (only this user's row).
        self.commit_user_rows(w, org.id, vec![user.id]).await
    }
}

/// The shared password path reports problems under `new_password` (the change-password form);
/// the accept request calls the field `password`.
pub(crate) fn name_password_field(e: Error) -> Error {
    match e {
        Error::Domain(DomainError::Invalid(errors)) => Error::Domain(DomainError::Invalid(
            errors
                .into_iter()
                .map(|mut fe| {
                    if fe.field == "new_password" {
                        fe.field = "password".into();
                    }
                    fe
                })
                .collect(),
        )),
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_are_utc_calendar_dates() {
        assert_eq!(utc_date(0), "1970-01-01 00:00 UTC");
        assert_eq!(utc_date(1_767_323_045_000), "2026-01-02 03:04 UTC");
        assert_eq!(utc_date(951_782_400_000), "2000-02-29 00:00 UTC");
        assert_eq!(utc_date(-86_400_000), "1969-12-31 00:00 UTC");
    }
}
