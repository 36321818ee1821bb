//! Sealing secrets the server must read back (TOTP secrets) with a server key: ChaCha20-Poly1305
//! (RustCrypto), a fresh random nonce per value, the owner's id as associated data (a sealed
//! value copied onto another row does not open), stored as
//! `enc1:<key id>:<base64 nonce‖ciphertext>`. Where the key comes from is the server's `keys` module.

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{ChaCha20Poly1305, Key, Nonce};
use rand::RngCore;
use sha2::{Digest, Sha256};

const PREFIX: &str = "enc1";

/// Why a key or a sealed value could not be used; never holds key material or plaintext.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct SealError(pub String);

/// One 256-bit key and its public id (so a value names the key that sealed it).
#[derive(Clone)]
pub struct SecretKey {
    id: String,
    cipher: ChaCha20Poly1305,
    bytes: [u8; 32],
}

impl SecretKey {
    pub fn from_bytes(bytes: [u8; 32]) -> SecretKey {
        let mut h = Sha256::new();
        h.update(b"rolecall key id\0");
        h.update(bytes);
        SecretKey {
            id: hex::encode(&h.finalize()[..8]),
            cipher: ChaCha20Poly1305::new(Key::from_slice(&bytes)),
            bytes,
        }
    }

    pub fn random() -> SecretKey {
        let mut bytes = [0u8; 32];
        rand::rngs::OsRng.fill_bytes(&mut bytes);
        SecretKey::from_bytes(bytes)
    }

    /// A key written as base64 (the key file, `ROLECALL_SECRET_KEY`); `source` names it in
    /// errors.
    pub fn parse(text: &str, source: &str) -> Result<SecretKey, SealError> {
        let raw = B64
            .decode(text.trim())
            .map_err(|_| SealError(format!("{source}: not base64")))?;
        let bytes: [u8; 32] = raw
            .try_into()
            .map_err(|_| SealError(format!("{source}: a key is 32 bytes (base64)")))?;
        Ok(SecretKey::from_bytes(bytes))
    }

    /// The key as base64, for its file.
    pub fn encoded(&self) -> String {
        B64.encode(self.bytes)
    }

    pub fn id(&self) -> &str {
        &self.id
    }
}

/// The key that seals, and older ones that still open.
#[derive(Clone)]
pub struct Keyring {
    current: SecretKey,
    older: Vec<SecretKey>,
}

impl std::fmt::Debug for Keyring {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Keyring")
            .field("current", &self.current.id)
            .field(
                "older",
                &self.older.iter().map(|k| &k.id).collect::<Vec<_>>(),
            )
            .finish()
    }
}

/// A secret's associated data: what it belongs to.
fn aad(owner: &str) -> Vec<u8> {
    format!("rolecall totp {owner}").into_bytes()
}

impl Keyring {
    pub fn new(current: SecretKey, older: Vec<SecretKey>) -> Keyring {
        Keyring { current, older }
    }

    /// A key that lives as long as the process: tests and benchmarks that never restart.
    pub fn ephemeral() -> Keyring {
        Keyring::new(SecretKey::random(), Vec::new())
    }

    /// This ring with `new` sealing from now on; the current key keeps opening.
    pub fn rotated_to(mut self, new: SecretKey) -> Keyring {
        let old = std::mem::replace(&mut self.current, new);
        self.older.retain(|k| k.id != self.current.id);
        self.older.push(old);
        self
    }

    /// The id of the key that seals.
    pub fn key_id(&self) -> &str {
        &self.current.id
    }

    /// Does this value look sealed (as opposed to a secret stored before encryption)?
    pub fn is_sealed(value: &str) -> bool {
        value.starts_with("enc1:")
    }

    /// The id of the key a sealed value names.
    pub fn sealed_with(value: &str) -> Option<&str> {
        value.strip_prefix("enc1:")?.split(':').next()
    }

    /// Can this keyring open values sealed with key `id`?
    pub fn knows(&self, id: &str) -> bool {
        self.current.id == id || self.older.iter().any(|k| k.id == id)
    }

    /// Encrypts `plain` for `owner` with the current key.
    pub fn seal(&self, plain: &str, owner: &str) -> Result<String, SealError> {
        let mut nonce = [0u8; 12];
        rand::rngs::OsRng.fill_bytes(&mut nonce);
        let aad = aad(owner);
        let sealed = self
            .current
            .cipher
            .encrypt(
                Nonce::from_slice(&nonce),
                Payload {
                    msg: plain.as_bytes(),
                    aad: &aad,
                },
            )
            .map_err(|_| SealError("encryption failed".into()))?;
        let mut out = nonce.to_vec();
        out.extend(sealed);
        Ok(format!("{PREFIX}:{}:{}", self.current.id, B64.encode(out)))
    }

    /// Decrypts a value sealed for `owner` by any key of the ring.
    pub fn open(&self, value: &str, owner: &str) -> Result<String, SealError> {
        let broken = |why: &str| SealError(format!("sealed secret of {owner}: {why}"));
        let mut parts = value.splitn(3, ':');
        let (Some(PREFIX), Some(id), Some(data)) = (parts.next(), parts.next(), parts.next())
        else {
            return Err(broken("not sealed"));
        };
        let key = std::iter::once(&self.current)
            .chain(&self.older)
            .find(|k| k.id == id)
            .ok_or_else(|| broken(&format!("key {id} is not configured")))?;
        let raw = B64.decode(data).map_err(|_| broken("not base64"))?;
        if raw.len() < 12 {
            return Err(broken("too short"));
        }
        let (nonce, sealed) = raw.split_at(12);
        let aad = aad(owner);
        let plain = key
            .cipher
            .decrypt(
                Nonce::from_slice(nonce),
                Payload {
                    msg: sealed,
                    aad: &aad,
                },
            )
            .map_err(|_| broken("does not open (wrong key or altered)"))?;
        String::from_utf8(plain).map_err(|_| broken("not text"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sealed_values_open_only_for_their_owner_and_key() {
        let ring = Keyring::ephemeral();
        let sealed = ring.seal("JBSWY3DPEHPK3PXP", "user-1").unwrap();
        assert!(Keyring::is_sealed(&sealed));
        assert!(!sealed.contains("JBSWY3DPEHPK3PXP"));
        assert_ne!(
            sealed,
            ring.seal("JBSWY3DPEHPK3PXP", "user-1").unwrap(),
            "fresh nonce"
        );
        assert_eq!(ring.open(&sealed, "user-1").unwrap(), "JBSWY3DPEHPK3PXP");
        assert!(ring.open(&sealed, "user-2").is_err(), "bound to its owner");
        assert!(Keyring::ephemeral().open(&sealed, "user-1").is_err());
        assert_eq!(Keyring::sealed_with(&sealed), Some(ring.key_id()));
        let rotated = ring.clone().rotated_to(SecretKey::random());
        assert_ne!(rotated.key_id(), ring.key_id());
        assert_eq!(rotated.open(&sealed, "user-1").unwrap(), "JBSWY3DPEHPK3PXP");
        assert!(SecretKey::parse("c2hvcnQ=", "test").is_err());
    }
}
