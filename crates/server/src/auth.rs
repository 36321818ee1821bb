//! Who is calling: API tokens and session secrets (both hashed at rest) resolved to a [`Caller`]
//! that hands out typed permission handles.

use crate::credentials::secret::hash_secret;
use crate::directory::bearers::{Bearer, Pending};
use crate::directory::signin::ClientInfo;
use crate::directory::Directory;
/// Who acts, and the handle use cases take: defined with the use cases (which must not depend
/// on how callers authenticate), re-exported here where handlers obtain them.
pub use crate::directory::{OrgAdmin, Principal};
use crate::error::{Error, Result};
use crate::store::credentials::Credential;
use crate::store::signin::Session;
use rolecall_core::admin::{authorize, authorize_somewhere, AdminRight, Operation, Target};
use rolecall_core::model::{OrgId, Organization};
use subtle::ConstantTimeEq;

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
        // From memory while nothing was written since it was read (directory/bearers.rs).
        let bearer = dir
            .authenticate_bearer(bearer)
            .await?
            .ok_or(Error::Unauthenticated)?;
        if let (Some(pending), false) = (bearer.pending(), allow_pending) {
            let (code, msg) = match pending {
                Pending::Password => (
                    "password_expired",
                    "your password has expired: change it first (POST /api/v1/me/password)",
                ),
                Pending::Enrolment => (
                    "totp_enrolment_required",
                    "set up two-factor authentication first (POST /api/v1/me/totp/enrolment)",
                ),
                Pending::SecondFactor => (
                    "second_factor_required",
                    "send your authentication code first (POST /api/v1/me/second-factor)",
                ),
            };
            return Err(rolecall_core::Error::forbidden(code, msg).into());
        }
        Ok(match &*bearer {
            Bearer::Token(grant) => match grant.org_id {
                None => Caller::Server {
                    token: grant.name.clone(),
                },
                Some(org_id) => Caller::Org {
                    token: grant.name.clone(),
                    org_id,
                },
            },
            Bearer::Credential { credential, rights } => Caller::Credential {
                credential: credential.clone(),
                rights: rights.clone(),
            },
            Bearer::Session {
                session, rights, ..
            } => Caller::User {
                session: session.clone(),
                rights: rights.clone(),
            },
        })
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

    /// The coarse gate before a body naming the exact target is read: the caller may perform
    /// `op` on something in `org`.
    pub fn permit_somewhere(&self, org: &Organization, op: Operation) -> Result<()> {
        if authorize_somewhere(&self.rights_in(org)?, op) {
            return Ok(());
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
    pub(crate) async fn reverified(
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
            Caller::User { session, .. } => {
                Principal::Person(session.user_id, session.holder.clone())
            }
            Caller::Credential { credential, .. } => Principal::Service {
                user: credential.service_user_id,
                credential: credential.id.clone(),
                name: credential.name.clone(),
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
