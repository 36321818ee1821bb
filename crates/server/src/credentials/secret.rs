//! Bearer secrets (API tokens, sessions, credentials, invitation and reset codes) and the
//! random initial passwords of bootstrapped administrators. Secrets are shown once; only their
//! SHA-256 is stored, which suffices because they carry 256 bits of entropy (no slow hash is
//! needed, unlike for passwords people choose).

use rand::RngCore;
use sha2::{Digest, Sha256};

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

/// The stored form of a bearer secret: its SHA-256, hex-encoded.
pub fn hash_secret(secret: &str) -> String {
    hex::encode(Sha256::digest(secret.as_bytes()))
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
        assert_ne!(generate_password(), generate_password());
    }
}
