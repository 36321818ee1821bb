//! API credentials: named secrets owned by the organization, holding roles through a service
//! account, with expiry, last use and creator. Offboarding the creator forces a decision.

use super::signin::{event, ClientInfo};
use super::{new_id, Directory};
use crate::credentials::secret::{hash_secret, new_secret};
use crate::directory::OrgAdmin;
use crate::error::Result;
use crate::store::credentials::{self as cq, Credential};
use crate::store::directory as q;
use rolecall_core::admin::Operation;
use rolecall_core::change::{Change, Effect, Reach};
use rolecall_core::model::{Millis, Organization, User, UserId, UserKind, UserStatus};
use rolecall_core::validate::{Description, Email, Locale, PersonName, Username};
use rolecall_core::Error as DomainError;
use serde::Deserialize;
use sqlx::AnyConnection;

#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewCredential {
    /// Letters, digits, `.`, `_`, `-`; unique in the organization.
    pub name: String,
    pub description: Option<String>,
    /// Unix milliseconds; absent means it never expires.
    pub expires_at: Option<Millis>,
    /// Allow sensitive changes without identity re-verification (automation).
    #[serde(default)]
    pub sensitive_changes: bool,
}

/// What to do with the live credentials of a person being deactivated or deleted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum CredentialDecision {
    Revoke,
    Keep,
}

/// Who is creating a credential, for its `created_by`.
pub struct Creator {
    pub user: Option<UserId>,
    pub label: String,
}

impl Directory {
    /// Creates a credential and its service account; returns the secret, shown this once.
    pub async fn create_credential(
        &self,
        admin: &OrgAdmin,
        input: NewCredential,
        creator: Creator,
        client: &ClientInfo,
    ) -> Result<(Credential, String)> {
        let org = &admin.org;
        let now = self.now();
        let name =
            Username::parse("name", &input.name).map_err(|e| DomainError::Invalid(vec![e]))?;
        if name.as_str().contains('@') || name.as_str().chars().count() > 32 {
            return Err(DomainError::invalid(
                "name",
                "credential_name_syntax",
                "must have at most 32 characters and no @",
            )
            .into());
        }
        let description =
            Description::parse("description", input.description.as_deref().unwrap_or(""))
                .map_err(|e| DomainError::Invalid(vec![e]))?;
        if input.expires_at.is_some_and(|t| t <= now) {
            return Err(DomainError::invalid(
                "expires_at",
                "in_the_future",
                "must be in the future",
            )
            .into());
        }
        let service_user = User {
            id: UserId(new_id()),
            org_id: org.id,
            username: Username::parse("name", &format!("svc.{}", name.as_str().to_lowercase()))
                .map_err(|e| DomainError::Invalid(vec![e]))?,
            email: Email::parse(
                "name",
                &format!("{}@credentials.invalid", name.as_str().to_lowercase()),
            )
            .map_err(|e| DomainError::Invalid(vec![e]))?,
            first_name: PersonName::parse("name", name.as_str())
                .map_err(|e| DomainError::Invalid(vec![e]))?,
            last_name: PersonName::parse("name", "API credential")
                .map_err(|e| DomainError::Invalid(vec![e]))?,
            locale: Locale::default(),
            status: UserStatus::Active,
            kind: UserKind::Service,
            version: 1,
            created_at: now,
            updated_at: now,
            last_sign_in_at: None,
        };
        let credential = Credential {
            id: new_id().to_string(),
            name: name.into_string(),
            description: description.into_string(),
            service_user_id: service_user.id,
            created_by_user: creator.user.map(|u| u.to_string()),
            created_by: creator.label,
            created_at: now,
            expires_at: input.expires_at,
            last_used_at: None,
            revoked_at: None,
            sensitive_changes: input.sensitive_changes,
            org_id: org.id,
        };
        let secret = new_secret();
        let b = self.backend();
        let mut w = self.db.write().await?;
        let ok = self
            .approve(
                &mut w.tx,
                admin,
                Change::new(Operation::ManageCredentials).reaching(Reach::Organization),
            )
            .await?;
        q::insert_user(&mut w.tx, b, &service_user)
            .await
            .map_err(|e| match e {
                crate::error::Error::Domain(_) => DomainError::invalid(
                    "name",
                    "unique",
                    format!("a credential named {} already exists", credential.name),
                )
                .into(),
                other => other,
            })?;
        cq::insert(&mut w.tx, b, &credential, &hash_secret(&secret)).await?;
        event(
            &mut w.tx,
            b,
            org.id,
            creator.user,
            "credential_created",
            client,
            &credential.name,
            now,
        )
        .await?;
        self.commit_rights(w, org.id, ok, true).await?;
        Ok((credential, secret))
    }

    pub async fn credentials(&self, org: &Organization) -> Result<Vec<Credential>> {
        let mut c = self.db.pool.acquire().await?;
        cq::list(&mut c, self.backend(), org.id).await
    }

    pub async fn credential(&self, org: &Organization, id: &str) -> Result<Credential> {
        let mut c = self.db.pool.acquire().await?;
        cq::get(&mut c, self.backend(), org.id, id)
            .await?
            .ok_or_else(|| DomainError::not_found("credential", id).into())
    }

    /// Revokes at once: the secret stops working and the service account is deactivated.
    pub async fn revoke_credential(
        &self,
        admin: &OrgAdmin,
        id: &str,
        client: &ClientInfo,
    ) -> Result<()> {
        let org = &admin.org;
        let b = self.backend();
        let mut w = self.db.write().await?;
        let cr = cq::get(&mut w.tx, b, org.id, id)
            .await?
            .ok_or_else(|| DomainError::not_found("credential", id))?;
        let ok = self
            .approve(
                &mut w.tx,
                admin,
                Change::new(Operation::ManageCredentials)
                    .reaching(Reach::Organization)
                    .affecting(Effect::User(cr.service_user_id)),
            )
            .await?;
        self.revoke_in(&mut w.tx, &cr, admin.principal.user(), client)
            .await?;
        self.commit_rights(w, org.id, ok, true).await?;
        Ok(())
    }

    async fn revoke_in(
        &self,
        c: &mut AnyConnection,
        cr: &Credential,
        actor: Option<UserId>,
        client: &ClientInfo,
    ) -> Result<()> {
        let b = self.backend();
        let now = self.now();
        if !cq::revoke(c, b, &cr.id, now).await? {
            return Err(DomainError::conflict(
                "already_revoked",
                format!("credential {} is already revoked", cr.name),
            )
            .into());
        }
        sqlx::query(&crate::store::sql_for(b, "UPDATE users SET status = 'inactive', version = version + 1, updated_at = $1 WHERE id = $2"))
            .bind(now)
            .bind(cr.service_user_id.to_string())
            .execute(&mut *c)
            .await?;
        q::bump_epoch(c, b, cr.org_id).await?;
        event(
            c,
            b,
            cr.org_id,
            actor,
            "credential_revoked",
            client,
            &cr.name,
            now,
        )
        .await
    }

    /// Before a person is deactivated or deleted: their live credentials must be decided on.
    /// Without a decision the change is refused, naming the credentials; nothing is revoked or
    /// kept silently.
    pub(crate) async fn settle_credentials_of(
        &self,
        c: &mut AnyConnection,
        user: UserId,
        decision: Option<CredentialDecision>,
        client: &ClientInfo,
    ) -> Result<()> {
        let b = self.backend();
        let live = cq::live_created_by(c, b, user, self.now()).await?;
        if live.is_empty() {
            return Ok(());
        }
        match decision {
            None => {
                let names: Vec<String> = live
                    .iter()
                    .map(|cr| format!("{} ({})", cr.name, cr.id))
                    .collect();
                Err(DomainError::conflict(
                    "creator_has_credentials",
                    format!("this user created live API credentials: {}; repeat with credentials=revoke or credentials=keep", names.join(", ")),
                )
                .into())
            }
            Some(CredentialDecision::Revoke) => {
                for cr in &live {
                    self.revoke_in(c, cr, None, client).await?;
                }
                Ok(())
            }
            Some(CredentialDecision::Keep) => {
                for cr in &live {
                    event(
                        c,
                        b,
                        cr.org_id,
                        Some(user),
                        "credential_kept",
                        client,
                        &format!("{} kept when its creator was offboarded", cr.name),
                        self.now(),
                    )
                    .await?;
                }
                Ok(())
            }
        }
    }

    /// The credential a secret belongs to, if usable; records its use.
    pub async fn credential_by_secret(&self, secret: &str) -> Result<Option<Credential>> {
        let b = self.backend();
        let now = self.now();
        let mut c = self.db.pool.acquire().await?;
        let found = cq::by_token(&mut c, b, &hash_secret(secret), now).await?;
        if let Some(cr) = &found {
            if cr.last_used_at.is_none_or(|t| now - t > 15_000) {
                cq::touch(&mut c, b, &cr.id, now).await?;
            }
        }
        Ok(found)
    }
}
