//! Secrets the server must read back, kept sealed with the server key (`credentials::sealing`): TOTP
//! secrets. Opened only in memory, for the moment a code is checked (issue 9 item 9).

use super::Directory;
use crate::credentials::sealing::Keyring;
use crate::error::{Error, Result};
use crate::store::signin::{self as s, Credentials};
use rolecall_core::model::UserId;

impl Directory {
    /// The TOTP secret of `cred`, opened.
    pub(crate) fn totp_secret(&self, cred: &Credentials) -> Result<Option<String>> {
        cred.totp_secret
            .as_deref()
            .map(|v| self.keys.open(v, &cred.user_id.to_string()))
            .transpose()
            .map_err(|e| Error::Internal(e.0))
    }

    /// A TOTP secret sealed for storage.
    pub(crate) fn seal_totp(&self, user: UserId, secret: &str) -> Result<String> {
        self.keys
            .seal(secret, &user.to_string())
            .map_err(|e| Error::Internal(e.0))
    }

    /// At start: seals TOTP secrets stored in the clear (before encryption existed), and checks
    /// the keyring opens every sealed one — a node started with the wrong key refuses to run
    /// instead of locking everyone with two-factor authentication out. With `reseal_with`,
    /// every secret is re-sealed with that keyring (`rolecall keys rotate`). One transaction.
    /// Returns how many secrets were written.
    pub(crate) async fn seal_stored_secrets(&self, reseal_with: Option<&Keyring>) -> Result<usize> {
        let b = self.backend();
        let mut w = self.db.write().await?;
        let stored = s::stored_totp_secrets(&mut w.tx, b).await?;
        let target = reseal_with.unwrap_or(&self.keys);
        let mut written = 0;
        for (user, value) in stored {
            let owner = user.to_string();
            let plain = if Keyring::is_sealed(&value) {
                let id = Keyring::sealed_with(&value).unwrap_or_default();
                if !self.keys.knows(id) {
                    return Err(Error::Internal(format!(
                        "TOTP secrets are sealed with key {id}, which this server is not given \
                         (this key is {}): configure the same secret_key / secret_key_file on \
                         every node, or ROLECALL_PREVIOUS_SECRET_KEY during a rotation",
                        self.keys.key_id()
                    )));
                }
                if reseal_with.is_none() {
                    continue;
                }
                self.keys
                    .open(&value, &owner)
                    .map_err(|e| Error::Internal(e.0))?
            } else {
                value
            };
            let sealed = target
                .seal(&plain, &owner)
                .map_err(|e| Error::Internal(e.0))?;
            s::set_totp_secret(&mut w.tx, b, user, &sealed).await?;
            written += 1;
        }
        w.commit().await?;
        if written > 0 {
            tracing::info!(written, key = %target.key_id(), "sealed TOTP secrets");
        }
        Ok(written)
    }

    /// Re-seals every stored secret with `new` (the rotation's new key).
    pub async fn reseal_secrets(&self, new: &Keyring) -> Result<usize> {
        self.seal_stored_secrets(Some(new)).await
    }
}
