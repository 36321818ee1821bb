//! SCIM clients (issue 14): the credential an identity provider (Microsoft Entra ID, Okta, …)
//! presents on `/scim/v2`. A kind of its own: one organisation, a bearer secret shown once and
//! stored hashed, usable on `/scim/v2` only, listed with its last use, revocable at once. It
//! holds no admin rights: it acts by the provisioning column of the permission matrix.

use super::audit::Record;
use super::signin::ClientInfo;
use super::{new_id, Directory};
use crate::credentials::secret::{hash_secret, new_secret};
use crate::directory::{OrgAdmin, Principal};
use crate::error::Result;
use crate::store::scim_clients as sq;
/// What a SCIM client is, as the adapters show it.
pub use crate::store::scim_clients::ScimClient;
use rolecall_core::admin::Operation;
use rolecall_core::change::{Change, Reach};
use rolecall_core::model::{Organization, UserId};
use rolecall_core::validate::{Description, Username};
use rolecall_core::Error as DomainError;
use serde::Deserialize;

#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewScimClient {
    /// Letters, digits, `.`, `_`, `-`; at most 32 characters, unique in the organisation
    /// (e.g. `entra` or `okta`).
    pub name: String,
    pub description: Option<String>,
}

impl Directory {
    /// Creates a SCIM client; returns the bearer secret, shown this once. A System admin's
    /// decision (`manage_credentials`): the person creating it is guarded from it, like the
    /// creator of an API credential; create it with an organisation token to guard nobody.
    pub async fn create_scim_client(
        &self,
        admin: &OrgAdmin,
        input: NewScimClient,
        client: &ClientInfo,
    ) -> Result<(ScimClient, String)> {
        let org = &admin.org;
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
        let now = self.now();
        let created_by_user = admin.principal.user();
        let sc = ScimClient {
            id: new_id().to_string(),
            name: name.into_string(),
            description: description.into_string(),
            created_by_user: created_by_user.map(|u| u.to_string()),
            created_by: principal_label(&admin.principal),
            created_at: now,
            last_used_at: None,
            revoked_at: None,
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
        sq::insert(&mut w.tx, b, &sc, &hash_secret(&secret)).await?;
        let record = Record::new("scim_client_created", scim_target(&sc)).between(None, Some(&sc));
        self.record_with(&mut w, admin, client, record).await?;
        // Creating a client changes nobody's access: nothing to recompile.
        self.commit_rights(w, org.id, ok, false).await?;
        Ok((sc, secret))
    }

    pub async fn scim_clients(&self, org: &Organization) -> Result<Vec<ScimClient>> {
        let mut c = self.db.pool.acquire().await?;
        sq::list(&mut c, self.backend(), org.id).await
    }

    pub async fn scim_client(&self, org: &Organization, id: &str) -> Result<ScimClient> {
        let mut c = self.db.pool.acquire().await?;
        sq::get(&mut c, self.backend(), org.id, id)
            .await?
            .ok_or_else(|| DomainError::not_found("SCIM client", id).into())
    }

    /// Revokes at once: the next request with its secret is refused. Users and groups it
    /// provisioned stay, still marked as provisioned by it.
    pub async fn revoke_scim_client(
        &self,
        admin: &OrgAdmin,
        id: &str,
        client: &ClientInfo,
    ) -> Result<()> {
        let org = &admin.org;
        let b = self.backend();
        let mut w = self.db.write().await?;
        let sc = sq::get(&mut w.tx, b, org.id, id)
            .await?
            .ok_or_else(|| DomainError::not_found("SCIM client", id))?;
        let ok = self
            .approve(
                &mut w.tx,
                admin,
                Change::new(Operation::ManageCredentials).reaching(Reach::Organization),
            )
            .await?;
        let now = self.now();
        if !sq::revoke(&mut w.tx, b, &sc.id, now).await? {
            return Err(DomainError::conflict(
                "already_revoked",
                format!("SCIM client {} is already revoked", sc.name),
            )
            .into());
        }
        let record = Record::new("scim_client_revoked", scim_target(&sc)).changes(
            rolecall_core::audit::field(
                "revoked_at",
                serde_json::Value::Null,
                serde_json::json!(now),
            ),
        );
        self.record_with(&mut w, admin, client, record).await?;
        self.commit_rights(w, org.id, ok, false).await?;
        Ok(())
    }

    /// The live SCIM client a secret belongs to and its organisation, read on one pooled
    /// connection (one hand-out a request, issue 14); records the client's use at most every 15 s.
    pub async fn scim_client_by_secret(
        &self,
        secret: &str,
    ) -> Result<Option<(ScimClient, Organization)>> {
        let b = self.backend();
        let now = self.now();
        let mut c = self.db.pool.acquire().await?;
        let Some(sc) = sq::by_token(&mut c, b, &hash_secret(secret)).await? else {
            return Ok(None);
        };
        if sc.last_used_at.is_none_or(|t| now - t > 15_000) {
            sq::touch(&mut c, b, &sc.id, now).await?;
        }
        let org = self.org_on(&mut c, &sc.org_id.to_string()).await?;
        Ok(Some((sc, org)))
    }
}

/// A SCIM client as the audit log names it.
fn scim_target(sc: &ScimClient) -> rolecall_core::audit::Party {
    rolecall_core::audit::Party::new("scim_client", &sc.id, sc.name.as_str())
}

/// The acting SCIM client as a principal.
pub fn scim_principal(sc: &ScimClient) -> Principal {
    Principal::Scim {
        client: sc.id.clone(),
        name: sc.name.clone(),
        created_by: sc
            .created_by_user
            .as_deref()
            .and_then(|u| u.parse::<UserId>().ok()),
    }
}

/// How a principal is named in `created_by` columns and events.
pub fn principal_label(p: &Principal) -> String {
    match p {
        Principal::Operator { label } => label.clone(),
        Principal::Person(u, _) => format!("user {u}"),
        Principal::Service { credential, .. } => format!("credential {credential}"),
        Principal::Scim { name, .. } => format!("scim client {name}"),
        Principal::Server { job } => format!("server {job}"),
        Principal::Policy { name } => format!("policy {name}"),
    }
}
