//! Who is calling: bearer tokens, hashed at rest, resolved to a [`Caller`] that hands out
//! typed permission handles. Until sign-in exists (issue 5) every caller is a token holder.

use crate::directory::Directory;
use crate::error::{Error, Result};
use crate::store::tokens;
use rand::RngCore;
use rolecall_core::model::{OrgId, Organization};
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

pub fn hash_secret(secret: &str) -> String {
    hex::encode(Sha256::digest(secret.as_bytes()))
}

/// An authenticated caller.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Caller {
    /// The bootstrap token: administers the whole server.
    Server { token: String },
    /// A token limited to one organization.
    Org { token: String, org_id: OrgId },
}

/// Proof that the caller administers this organization; only [`Caller::admin_of`] makes one.
pub struct OrgAdmin {
    pub org: Organization,
}

impl Caller {
    pub async fn authenticate(
        dir: &Directory,
        bootstrap_hash: Option<&str>,
        bearer: &str,
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
        let grant = tokens::find_by_hash(&mut c, dir.db.backend, &hash)
            .await?
            .ok_or(Error::Unauthenticated)?;
        tokens::touch(&mut c, dir.db.backend, &grant.token_id, dir.now()).await?;
        Ok(match grant.org_id {
            None => Caller::Server { token: grant.name },
            Some(org_id) => Caller::Org {
                token: grant.name,
                org_id,
            },
        })
    }

    /// Server-wide operations: creating organizations, changing the catalogue.
    pub fn require_server(&self) -> Result<()> {
        match self {
            Caller::Server { .. } => Ok(()),
            Caller::Org { .. } => Err(rolecall_core::Error::forbidden(
                "server_admin_required",
                "this operation needs a server-wide token",
            )
            .into()),
        }
    }

    pub fn admin_of(&self, org: Organization) -> Result<OrgAdmin> {
        match self {
            Caller::Server { .. } => Ok(OrgAdmin { org }),
            Caller::Org { org_id, .. } if *org_id == org.id => Ok(OrgAdmin { org }),
            Caller::Org { .. } => Err(rolecall_core::Error::forbidden(
                "other_organization",
                "this token is limited to another organization",
            )
            .into()),
        }
    }

    pub fn may_see(&self, org: &Organization) -> bool {
        match self {
            Caller::Server { .. } => true,
            Caller::Org { org_id, .. } => *org_id == org.id,
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
