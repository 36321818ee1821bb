//! Who is calling: API tokens and session secrets (both hashed at rest) resolved to a [`Caller`]
//! that hands out typed permission handles.

use crate::directory::signin::ClientInfo;
use crate::directory::Directory;
use crate::error::{Error, Result};
use crate::store::credentials::Credential;
use crate::store::signin::Session;
use crate::store::tokens;
use rand::RngCore;
use rolecall_core::admin::{authorize, AdminRight, Operation, Target};
use rolecall_core::model::{OrgId, Organization, UserId};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

/// A fresh 256-bit secret, URL-safe, prefixed so leaked tokens are recognisable in scanners.
pub fn new_secret() -> String {
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    format!(
        "rc_{}",
        base64::Engine::encode(&base64::engine::general_purpose::URL_SAFE_NO_PAD, bytes)
    )
}

/// A random initial password (144 bits) for administrators created by `init` and `--demo`.
pub fn generate_password() -> String {
    let mut bytes = [0u8; 18];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    base64::Engine::encode(&base64::engine::general_purpose::URL_SAFE_NO_PAD, bytes)
}

pub fn hash_secret(secret: &str) -> String {
    hex::encode(Sha256::digest(secret.as_bytes()))
}

/// An authenticated caller.
#[derive(Debug, Clone)]
pub enum Caller {
    /// The bootstrap token: administers the whole server.
    Server { token: String },
    /// A token limited to one organization.
    Org { token: String, org_id: OrgId },
    /// A signed-in person, with the organisation administration rights they hold.
    User {
        session: Session,
        rights: Vec<AdminRight>,
    },
    /// An API credential, with the administration rights of its service account.
    Credential {
        credential: Credential,
        rights: Vec<AdminRight>,
    },
}

/// Who acts in an organisation, as the rights rule and the audit trail see them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Principal {
    /// The server's operator: a bootstrap or organisation token, or an in-process command
    /// (`init`, `--demo`). Acts as a System admin and is no person.
    Operator { label: String },
    /// A signed-in person.
    Person(UserId),
    /// An API credential, acting as its service account.
    Service { user: UserId, credential: String },
}

impl Principal {
    /// The user account acting, if any.
    pub fn user(&self) -> Option<UserId> {
        match self {
            Principal::Operator { .. } => None,
            Principal::Person(u) | Principal::Service { user: u, .. } => Some(*u),
        }
    }
}

/// Proof that the endpoint's permission was asked for this organisation, carrying who acts so
/// every use case can judge the exact change with `rolecall_core::change::judge`. Handlers get
/// one only from [`Caller::permit`]; in-process commands use [`OrgAdmin::operator`].
#[derive(Debug, Clone)]
pub struct OrgAdmin {
    pub org: Organization,
    pub principal: Principal,
}

impl OrgAdmin {
    /// The operator acting in-process (`init`, `--demo`, tests, benchmarks).
    pub fn operator(org: Organization) -> OrgAdmin {
        OrgAdmin {
            org,
            principal: Principal::Operator {
                label: "operator".into(),
            },
        }
    }
}

/// The session cookie the console uses; the API takes the same secret as a bearer token.
pub const SESSION_COOKIE: &str = "rolecall_session";

impl Caller {
    /// Resolves a bearer secret: API tokens first, then sessions. Sessions must have passed
    /// every factor unless `allow_pending` (the second-factor and enrolment endpoints).
    pub async fn authenticate(
        dir: &Directory,
        bootstrap_hash: Option<&str>,
        bearer: &str,
        allow_pending: bool,
    ) -> Result<Caller> {
        let hash = hash_secret(bearer);
        if let Some(expected) = bootstrap_hash {
            if bool::from(expected.as_bytes().ct_eq(hash.as_bytes())) {
                return Ok(Caller::Server {
                    token: "environment bootstrap token".into(),
                });
            }
        }
        let mut c = dir.db.pool.acquire().await?;
        if let Some(grant) = tokens::find_by_hash(&mut c, dir.db.backend, &hash).await? {
            tokens::touch(&mut c, dir.db.backend, &grant.token_id, dir.now()).await?;
            return Ok(match grant.org_id {
                None => Caller::Server { token: grant.name },
                Some(org_id) => Caller::Org {
                    token: grant.name,
                    org_id,
                },
            });
        }
        drop(c);
        if let Some(credential) = dir.credential_by_secret(bearer).await? {
            let rights = dir
                .admin_rights(credential.org_id, credential.service_user_id)
                .await?;
            return Ok(Caller::Credential { credential, rights });
        }
        let session = dir.session(bearer).await?.ok_or(Error::Unauthenticated)?;
        if !allow_pending && session.stage != crate::directory::signin::STAGE_FULL {
            let (code, msg) = if session.stage == crate::directory::signin::STAGE_PASSWORD {
                (
                    "password_expired",
                    "your password has expired: change it first (POST /api/v1/me/password)",
                )
            } else if session.stage == crate::directory::signin::STAGE_ENROL {
                (
                    "totp_enrolment_required",
                    "set up two-factor authentication first (POST /api/v1/me/totp/enrolment)",
                )
            } else {
                (
                    "second_factor_required",
                    "send your authentication code first (POST /api/v1/me/second-factor)",
                )
            };
            return Err(rolecall_core::Error::forbidden(code, msg).into());
        }
        let rights = dir.admin_rights(session.org_id, session.user_id).await?;
        Ok(Caller::User { session, rights })
    }

    /// Server-wide operations: creating organizations, changing the catalogue.
    pub fn require_server(&self) -> Result<()> {
        match self {
            Caller::Server { .. } => Ok(()),
            _ => Err(rolecall_core::Error::forbidden(
                "server_admin_required",
                "this operation needs a server-wide token",
            )
            .into()),
        }
    }

    /// The administration rights this caller holds in `org`; tokens act as System admins.
    pub fn rights_in(&self, org: &Organization) -> Result<Vec<AdminRight>> {
        let (home, rights) = match self {
            Caller::Server { .. } => return Ok(vec![AdminRight::System]),
            Caller::Org { org_id, .. } => (*org_id, &[AdminRight::System][..]),
            Caller::User { session, rights } => (session.org_id, rights.as_slice()),
            Caller::Credential { credential, rights } => (credential.org_id, rights.as_slice()),
        };
        if home != org.id {
            return Err(rolecall_core::Error::forbidden(
                "other_organization",
                "these credentials belong to another organization",
            )
            .into());
        }
        Ok(rights.to_vec())
    }

    /// The permission check every endpoint makes: the permission matrix
    /// (`rolecall_core::admin::authorize`) decides; the handle proves it was asked.
    pub fn permit(&self, org: Organization, op: Operation, target: &Target) -> Result<OrgAdmin> {
        let rights = self.rights_in(&org)?;
        if authorize(&rights, op, target) {
            return Ok(OrgAdmin {
                org,
                principal: self.principal(),
            });
        }
        let what = serde_json::to_value(op)
            .ok()
            .and_then(|v| v.as_str().map(str::to_string))
            .unwrap_or_default();
        Err(rolecall_core::Error::forbidden(
            "admin_required",
            format!("your administration rights do not allow {what} here"),
        )
        .into())
    }

    /// Full organisation administration (System admin or an organisation token).
    pub fn admin_of(&self, org: Organization) -> Result<OrgAdmin> {
        self.permit(org, Operation::ManageSettings, &Target::Organization)
    }

    /// As [`Caller::permit`], for changes that need the acting person's password re-entered
    /// recently (or sent along in `X-Rolecall-Password`).
    pub async fn permit_sensitive(
        &self,
        dir: &Directory,
        org: Organization,
        op: Operation,
        target: &Target<'_>,
        password: Option<&str>,
        client: &ClientInfo,
    ) -> Result<OrgAdmin> {
        let admin = self.permit(org, op, target)?;
        self.reverified(dir, password, client).await?;
        Ok(admin)
    }

    /// Identity verification for sensitive changes: people re-enter their password within the
    /// window (or send it along); credentials must have been created for such changes; tokens
    /// made by the operator for automation are exempt.
    async fn reverified(
        &self,
        dir: &Directory,
        password: Option<&str>,
        client: &ClientInfo,
    ) -> Result<()> {
        match self {
            Caller::Credential { credential, .. } if !credential.sensitive_changes => Err(rolecall_core::Error::forbidden(
                "credential_not_for_sensitive_changes",
                "this credential was not created for sensitive changes (sensitive_changes: true)",
            )
            .into()),
            Caller::User { session, .. } => match password {
                Some(pw) => dir.reverify(session, pw, client).await,
                None if dir.recently_verified(session).await? => Ok(()),
                None => Err(rolecall_core::Error::forbidden(
                    "reverification_required",
                    "re-enter your password: POST /api/v1/me/reverify, or send it in X-Rolecall-Password",
                )
                .into()),
            },
            _ => Ok(()),
        }
    }

    pub fn may_see(&self, org: &Organization) -> bool {
        match self {
            Caller::Server { .. } => true,
            Caller::Org { org_id, .. } => *org_id == org.id,
            Caller::User { session, .. } => session.org_id == org.id,
            Caller::Credential { credential, .. } => credential.org_id == org.id,
        }
    }

    /// Applications ask authorization questions with their own credential; they need no
    /// administration rights for that, only to belong to the organization.
    pub fn checker_of(&self, org: Organization) -> Result<OrgAdmin> {
        match self {
            Caller::Credential { credential, .. } if credential.org_id == org.id => Ok(OrgAdmin {
                org,
                principal: self.principal(),
            }),
            _ => self.permit(org, Operation::Check, &Target::Organization),
        }
    }

    /// Who this caller is, for the rights rule and the audit trail.
    pub fn principal(&self) -> Principal {
        match self {
            Caller::Server { token } | Caller::Org { token, .. } => Principal::Operator {
                label: format!("token {token}"),
            },
            Caller::User { session, .. } => Principal::Person(session.user_id),
            Caller::Credential { credential, .. } => Principal::Service {
                user: credential.service_user_id,
                credential: credential.id.clone(),
            },
        }
    }

    pub fn session(&self) -> Option<&Session> {
        match self {
            Caller::User { session, .. } => Some(session),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_are_long_random_and_hashed() {
        let a = new_secret();
        let b = new_secret();
        assert_ne!(a, b);
        assert!(a.len() >= 43 + 3);
        assert_eq!(hash_secret(&a).len(), 64);
        assert_ne!(hash_secret(&a), hash_secret(&b));
    }
}
