//! API credentials: named secrets owned by the organization, holding roles through a service
//! account, with expiry, last use and creator. Offboarding the creator forces a decision.

use super::audit::Record;
use super::signin::ClientInfo;
use super::{new_id, Directory};
use crate::credentials::secret::{hash_secret, new_secret};
use crate::directory::OrgAdmin;
use crate::error::Result;
use crate::store::credentials::{self as cq, Credential};
use crate::store::directory as q;
use crate::store::scim_clients::{self as sq, ScimClient};
use crate::store::WriteTx;
use rolecall_core::admin::Operation;
use rolecall_core::audit::{field, Party};
use rolecall_core::change::{Change, Effect, Reach};
use rolecall_core::model::{Millis, Organization, User, UserId, UserKind, UserProfile, UserStatus};
use rolecall_core::validate::{Description, Email, Locale, PersonName, Username};
use rolecall_core::Error as DomainError;
use serde::Deserialize;
use serde_json::{json, Value};

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

/// What to do with the live credentials of a person being deactivated or deleted (the wire
/// form; `transfer` names the heir in `transfer_to`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum CredentialDecision {
    Revoke,
    Keep,
    Transfer,
}

/// The decision as the use cases carry it out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CredentialPlan {
    Revoke,
    Keep,
    /// The credentials stay live and answer to this person from now on.
    TransferTo(UserId),
}

impl CredentialPlan {
    /// Joins the wire decision and its `transfer_to`, naming what is missing or superfluous.
    pub fn from_wire(
        decision: Option<CredentialDecision>,
        transfer_to: Option<UserId>,
    ) -> Result<Option<CredentialPlan>> {
        match (decision, transfer_to) {
            (Some(CredentialDecision::Transfer), Some(to)) => {
                Ok(Some(CredentialPlan::TransferTo(to)))
            }
            (Some(CredentialDecision::Transfer), None) => Err(DomainError::invalid(
                "transfer_to",
                "required",
                "name the person who takes the credentials over",
            )
            .into()),
            (_, Some(_)) => Err(DomainError::invalid(
                "transfer_to",
                "transfer_only",
                "transfer_to goes with credentials=transfer",
            )
            .into()),
            (Some(CredentialDecision::Revoke), None) => Ok(Some(CredentialPlan::Revoke)),
            (Some(CredentialDecision::Keep), None) => Ok(Some(CredentialPlan::Keep)),
            (None, None) => Ok(None),
        }
    }
}

/// What became of one credential when its creator was offboarded.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct SettledCredential {
    pub id: String,
    pub name: String,
    /// `api_credential` or `scim_client`: an identity provider's connection is an integration
    /// too, and outliving the admin who set it up silently is what seed 001 complains of.
    pub kind: String,
    /// `revoked`, `kept` or `transferred`.
    pub outcome: String,
    pub transferred_to: Option<UserId>,
}

impl SettledCredential {
    fn new(cr: &Credential, outcome: &str, to: Option<UserId>) -> SettledCredential {
        SettledCredential {
            id: cr.id.clone(),
            name: cr.name.clone(),
            kind: "api_credential".into(),
            outcome: outcome.into(),
            transferred_to: to,
        }
    }

    fn scim(sc: &ScimClient, outcome: &str, to: Option<UserId>) -> SettledCredential {
        SettledCredential {
            id: sc.id.clone(),
            name: sc.name.clone(),
            kind: "scim_client".into(),
            outcome: outcome.into(),
            transferred_to: to,
        }
    }
}

fn scim_target(sc: &ScimClient) -> Party {
    Party::new("scim_client", &sc.id, sc.name.as_str())
}

fn credential_target(cr: &Credential) -> Party {
    Party::new("credential", &cr.id, cr.name.as_str())
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
        let mut service_user = User {
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
            profile: UserProfile::default(),
            provisioned_by: None,
        };
        super::user_profile::settle_emails(&mut service_user);
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
        let record = Record::new("credential_created", credential_target(&credential))
            .between(None, Some(&credential));
        self.record_with(&mut w, admin, client, record).await?;
        self.commit_rights(w, org.id, ok, true).await?;
        Ok((credential, secret))
    }

    pub async fn credentials(&self, org: &Organization) -> Result<Vec<Credential>> {
        let mut c = self.db.pool.acquire().await?;
        let mut list = cq::list(&mut c, self.backend(), org.id).await?;
        for cr in &mut list {
            self.latest_use(cr);
        }
        Ok(list)
    }

    pub async fn credential(&self, org: &Organization, id: &str) -> Result<Credential> {
        let mut c = self.db.pool.acquire().await?;
        let mut cr = cq::get(&mut c, self.backend(), org.id, id)
            .await?
            .ok_or_else(|| DomainError::not_found("credential", id))?;
        self.latest_use(&mut cr);
        Ok(cr)
    }

    /// The last use as this node knows it, flushed or not.
    fn latest_use(&self, cr: &mut Credential) {
        let seen = self
            .activity
            .last(&super::activity::Used::Credential(cr.id.clone()));
        cr.last_used_at = cr.last_used_at.max(seen);
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
        self.revoke_in(&mut w, admin, &cr, client, "").await?;
        self.commit_rights(w, org.id, ok, true).await?;
        Ok(())
    }

    async fn revoke_in(
        &self,
        w: &mut WriteTx,
        admin: &OrgAdmin,
        cr: &Credential,
        client: &ClientInfo,
        detail: &str,
    ) -> Result<()> {
        let b = self.backend();
        let now = self.now();
        if !cq::revoke(&mut w.tx, b, &cr.id, now).await? {
            return Err(DomainError::conflict(
                "already_revoked",
                format!("credential {} is already revoked", cr.name),
            )
            .into());
        }
        sqlx::query(&crate::store::sql_for(b, "UPDATE users SET status = 'inactive', version = version + 1, updated_at = $1 WHERE id = $2"))
            .bind(now)
            .bind(cr.service_user_id.to_string())
            .execute(&mut *w.tx)
            .await?;
        q::bump_epoch(&mut w.tx, b, cr.org_id).await?;
        let record = Record::new("credential_revoked", credential_target(cr))
            .changes(field("revoked_at", Value::Null, json!(now)))
            .detail(detail);
        self.record_with(w, admin, client, record).await
    }

    /// Before a person is deactivated or deleted: their live credentials and SCIM clients must be
    /// decided on. Without a decision the change is refused, naming them; nothing is revoked or
    /// kept silently. Returns what became of each, for the offboarding report.
    pub(crate) async fn settle_credentials_of(
        &self,
        w: &mut WriteTx,
        admin: &OrgAdmin,
        user: UserId,
        decision: Option<CredentialPlan>,
    ) -> Result<Vec<SettledCredential>> {
        let b = self.backend();
        let live = cq::live_created_by(&mut w.tx, b, user, self.now()).await?;
        let live_scim = sq::live_created_by(&mut w.tx, b, user).await?;
        if live.is_empty() && live_scim.is_empty() {
            return Ok(Vec::new());
        }
        let mut out = Vec::new();
        match decision {
            None => {
                let names: Vec<String> = live
                    .iter()
                    .map(|cr| format!("{} ({})", cr.name, cr.id))
                    .chain(
                        live_scim
                            .iter()
                            .map(|sc| format!("SCIM client {} ({})", sc.name, sc.id)),
                    )
                    .collect();
                return Err(DomainError::conflict(
                    "creator_has_credentials",
                    format!("this user created live API credentials or SCIM clients: {}; repeat with credentials=revoke, credentials=keep or credentials=transfer and transfer_to", names.join(", ")),
                )
                .into());
            }
            Some(CredentialPlan::Revoke) => {
                for cr in &live {
                    let client = super::audit::current_client();
                    self.revoke_in(
                        w,
                        admin,
                        cr,
                        &client,
                        "revoked when its creator was offboarded",
                    )
                    .await?;
                    out.push(SettledCredential::new(cr, "revoked", None));
                }
                for sc in &live_scim {
                    let now = self.now();
                    sq::revoke(&mut w.tx, b, &sc.id, now).await?;
                    let record = Record::new("scim_client_revoked", scim_target(sc))
                        .changes(field("revoked_at", Value::Null, json!(now)))
                        .detail("revoked when its creator was offboarded");
                    self.record(w, admin, record).await?;
                    out.push(SettledCredential::scim(sc, "revoked", None));
                }
            }
            Some(CredentialPlan::Keep) => {
                for cr in &live {
                    let record = Record::new("credential_kept", credential_target(cr))
                        .detail(format!("{} kept when its creator was offboarded", cr.name));
                    self.record(w, admin, record).await?;
                    out.push(SettledCredential::new(cr, "kept", None));
                }
                for sc in &live_scim {
                    let record = Record::new("scim_client_kept", scim_target(sc))
                        .detail(format!("{} kept when its creator was offboarded", sc.name));
                    self.record(w, admin, record).await?;
                    out.push(SettledCredential::scim(sc, "kept", None));
                }
            }
            Some(CredentialPlan::TransferTo(to)) => {
                let heir = q::lock_user(&mut w.tx, b, admin.org.id, to)
                    .await?
                    .filter(|u| {
                        u.id != user && u.kind == UserKind::Person && u.status == UserStatus::Active
                    })
                    .ok_or_else(|| {
                        DomainError::invalid(
                            "transfer_to",
                            "active_person_required",
                            "credentials pass to another active person of this organization",
                        )
                    })?;
                for cr in &live {
                    cq::set_creator(&mut w.tx, b, &cr.id, heir.id, heir.email.as_str()).await?;
                    let record = Record::new("credential_transferred", credential_target(cr))
                        .changes(field(
                            "created_by_user",
                            json!(cr.created_by_user),
                            json!(heir.id.to_string()),
                        ))
                        .detail(format!("to {}", heir.email.as_str()));
                    self.record(w, admin, record).await?;
                    out.push(SettledCredential::new(cr, "transferred", Some(heir.id)));
                }
                for sc in &live_scim {
                    sq::set_creator(&mut w.tx, b, &sc.id, heir.id, heir.email.as_str()).await?;
                    let record = Record::new("scim_client_transferred", scim_target(sc))
                        .changes(field(
                            "created_by_user",
                            json!(sc.created_by_user),
                            json!(heir.id.to_string()),
                        ))
                        .detail(format!("to {}", heir.email.as_str()));
                    self.record(w, admin, record).await?;
                    out.push(SettledCredential::scim(sc, "transferred", Some(heir.id)));
                }
                // The credentials now answer to the heir: the rights rule reads creators.
                q::bump_epoch(&mut w.tx, b, admin.org.id).await?;
            }
        }
        Ok(out)
    }
}
