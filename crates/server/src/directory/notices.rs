//! The mails that tell people about their own access: the account notice a user added as active
//! receives (seed 002: "the new user is sent the account information"), and the notices of admin
//! rights granted or revoked (seed 004: "The user receives an email invitation regarding the new
//! administrative privileges").
//!
//! They are written for the person, not the log: rights are named by the product, profile or
//! group they cover, the mail says what the person can now do and how to sign in, and lines stay
//! short plain text. Each is queued in the outbox inside the transaction of the change it
//! reports (`store::signin::enqueue_mail`), so it goes out exactly when the change commits.

use super::invitations::{greeting_name, utc_date, INVITATION_TTL_MS};
use super::{new_id, Directory};
use crate::credentials::secret::{hash_secret, new_secret};
use crate::error::Result;
use crate::store::signin as s;
use rolecall_core::admin::AdminRight;
use rolecall_core::model::{Millis, Organization, User};
use sqlx::AnyConnection;

/// How a person signs in, for the end of every notice.
fn sign_in_lines(org: &Organization, user: &User, require_2fa: bool) -> String {
    let mut out = format!(
        "To sign in, use your username {username} or your e-mail address\n\
         {email}, with the rolecall command line:\n\n\
         \x20   rolecall login --org {slug} --login {email}\n\n\
         or POST /api/v1/organizations/{slug}/sign-in.\n",
        username = user.username,
        email = user.email,
        slug = org.slug,
    );
    if require_2fa {
        out.push_str(
            "Your organization asks for a second factor: at your first sign-in\n\
             you set up an authenticator app.\n",
        );
    }
    out
}

/// A right described for its holder: what it is called and what it lets them do.
pub(crate) struct RightText {
    /// "Product admin of Commerce Admin (commerce-admin)".
    pub title: String,
    /// Sentences, one per line, starting with a verb ("add users ...").
    pub abilities: Vec<String>,
}

impl Directory {
    /// Queues the account notice for a user just added as active, with a single-use token to
    /// choose their first password (valid as long as an invitation), inside the caller's
    /// transaction.
    pub(crate) async fn queue_account_notice(
        &self,
        c: &mut AnyConnection,
        org: &Organization,
        user: &User,
        now: Millis,
    ) -> Result<()> {
        let b = self.backend();
        let (settings, _) = s::settings(&mut *c, b, org.id).await?;
        let token = new_secret();
        let expires_at = now + INVITATION_TTL_MS;
        s::insert_reset_token(&mut *c, b, &hash_secret(&token), user.id, expires_at).await?;
        let body = format!(
            "Hello {name},\n\n\
             an administrator added you to {org_name}, the rolecall\n\
             organization {slug}. Your account is ready.\n\n\
             Choose your password first, with this single-use token:\n\n\
             {token}\n\n\
             It expires on {expiry}. Send it with your new password to\n\
             POST /api/v1/organizations/{slug}/password-reset/confirm\n\
             as {{\"token\": \"...\", \"new_password\": \"...\"}}.\n\n\
             {sign_in}\n\
             Your administrator gives you the roles and products you need;\n\
             until then your account can sign in but reach nothing.\n\n\
             If you did not expect this message, tell your administrator.\n",
            name = greeting_name(user),
            org_name = org.name,
            slug = org.slug,
            expiry = utc_date(expires_at),
            sign_in = sign_in_lines(org, user, settings.require_2fa),
        );
        s::enqueue_mail(
            c,
            b,
            org.id,
            &new_id().to_string(),
            user.email.as_str(),
            &format!("Your rolecall account in {}", org.name),
            &body,
            now,
        )
        .await
    }

    /// Names `right` by what it covers and says what it allows, reading the names of the
    /// profile or group it targets in the caller's transaction.
    pub(crate) async fn describe_right(
        &self,
        c: &mut AnyConnection,
        org: &Organization,
        right: &AdminRight,
    ) -> Result<RightText> {
        let b = self.backend();
        let app_name = |key: &str| {
            self.catalogue()
                .get(key)
                .map(|a| format!("{} ({key})", a.def.name))
                .unwrap_or_else(|| key.to_string())
        };
        Ok(match right {
            AdminRight::System => RightText {
                title: format!("System admin of {}", org.name),
                abilities: vec![
                    "add, edit, deactivate and remove users and groups,".into(),
                    "manage every product, its roles, scopes and profiles,".into(),
                    "change the organization's security settings,".into(),
                    "and grant or revoke admin rights.".into(),
                ],
            },
            AdminRight::Product { application } => {
                let app = app_name(application);
                RightText {
                    title: format!("Product admin of {app}"),
                    abilities: vec![
                        format!("manage the roles, scopes and profiles of {app},"),
                        "add users and groups to the organization,".into(),
                        "assign users and groups to its roles and profiles,".into(),
                        "and make others admins of its profiles.".into(),
                    ],
                }
            }
            AdminRight::ProductProfile { profile_id } => {
                let found = match profile_id.parse() {
                    Ok(id) => crate::store::profiles::get_profile(&mut *c, b, org.id, id).await?,
                    Err(_) => None,
                };
                let (profile, app) = match found {
                    Some(p) => (p.name.to_string(), app_name(&p.application)),
                    None => (profile_id.clone(), "its product".to_string()),
                };
                RightText {
                    title: format!("Product profile admin of {profile} in {app}"),
                    abilities: vec![
                        format!("add users and groups to the profile {profile}"),
                        "and remove them from it,".into(),
                        "and manage their product roles there.".into(),
                    ],
                }
            }
            AdminRight::UserGroup { group_id } => {
                let found = match group_id.parse() {
                    Ok(id) => crate::store::directory::get_group(&mut *c, b, org.id, id).await?,
                    Err(_) => None,
                };
                let group = found
                    .map(|g| g.name.to_string())
                    .unwrap_or_else(|| group_id.clone());
                RightText {
                    title: format!("User group admin of {group}"),
                    abilities: vec![
                        format!("add members to the group {group} and remove them,"),
                        "and make others admins of the group.".into(),
                    ],
                }
            }
            AdminRight::Deployment => RightText {
                title: format!("Deployment admin of {}", org.name),
                abilities: vec!["create, manage and deploy software packages.".into()],
            },
            AdminRight::Support => RightText {
                title: format!("Support admin of {}", org.name),
                abilities: vec!["read support information and manage support cases.".into()],
            },
            AdminRight::Storage => RightText {
                title: format!("Storage admin of {}", org.name),
                abilities: vec![
                    "see the storage of active and inactive users".into(),
                    "and transfer their content.".into(),
                ],
            },
        })
    }

    /// Queues the notice of a right granted to `user`.
    pub(crate) async fn queue_right_granted(
        &self,
        c: &mut AnyConnection,
        org: &Organization,
        user: &User,
        right: &AdminRight,
        now: Millis,
    ) -> Result<()> {
        let b = self.backend();
        let text = self.describe_right(&mut *c, org, right).await?;
        let (settings, _) = s::settings(&mut *c, b, org.id).await?;
        let abilities: String = text.abilities.iter().map(|l| format!("  {l}\n")).collect();
        let body = format!(
            "Hello {name},\n\n\
             you are now {title}\n\
             in the rolecall organization {slug}.\n\n\
             You can now:\n{abilities}\n\
             {sign_in}\n\
             If you did not expect this, tell another administrator.\n",
            name = greeting_name(user),
            title = text.title,
            slug = org.slug,
            sign_in = sign_in_lines(org, user, settings.require_2fa),
        );
        s::enqueue_mail(
            c,
            b,
            org.id,
            &new_id().to_string(),
            user.email.as_str(),
            &format!("You are now {}", text.title),
            &body,
            now,
        )
        .await
    }

    /// Queues the notice of a right taken from `user`.
    pub(crate) async fn queue_right_revoked(
        &self,
        c: &mut AnyConnection,
        org: &Organization,
        user: &User,
        right: &AdminRight,
        now: Millis,
    ) -> Result<()> {
        let text = self.describe_right(&mut *c, org, right).await?;
        let body = format!(
            "Hello {name},\n\n\
             you are no longer {title}\n\
             in the rolecall organization {slug}, since {date}.\n\
             What that right allowed you to do is over; your account,\n\
             your roles and your other admin rights stay as they are.\n\n\
             If you think this is a mistake, contact another administrator.\n",
            name = greeting_name(user),
            title = text.title,
            slug = org.slug,
            date = utc_date(now),
        );
        s::enqueue_mail(
            c,
            self.backend(),
            org.id,
            &new_id().to_string(),
            user.email.as_str(),
            &format!("You are no longer {}", text.title),
            &body,
            now,
        )
        .await
    }
}
