//! Password hashing: Argon2id in PHC string format for every password rolecall sets, and
//! verification of the legacy Magento `hash:salt:version` strings so imported shop admins can
//! sign in once and be upgraded to Argon2id.
//!
//! Every function here is CPU- and memory-heavy on purpose (tens of milliseconds, 19–64 MiB):
//! async callers run them on `tokio::task::spawn_blocking`.

use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use md5::Md5;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

/// Argon2id cost. The default is OWASP's recommendation (m = 19 MiB, t = 2, p = 1); raise it on
/// hardware that can afford it, and stored hashes follow on their owners' next sign-in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct HashParams {
    /// Memory in KiB.
    pub m_kib: u32,
    /// Passes over the memory.
    pub t: u32,
    /// Lanes.
    pub p: u32,
}

impl Default for HashParams {
    fn default() -> Self {
        Self {
            m_kib: 19_456,
            t: 2,
            p: 1,
        }
    }
}

/// Upper bounds on the cost a stored hash may ask for, so a corrupt or hostile row cannot make
/// one sign-in allocate gigabytes or spin for minutes.
const MAX_M_KIB: u32 = 1024 * 1024;
const MAX_T: u32 = 64;
const MAX_P: u32 = 64;

impl HashParams {
    fn argon2(&self) -> Result<Argon2<'static>, HashError> {
        if self.m_kib > MAX_M_KIB || self.t > MAX_T || self.p > MAX_P {
            return Err(HashError(format!(
                "argon2 parameters above the limit (m <= {MAX_M_KIB} KiB, t <= {MAX_T}, p <= {MAX_P})"
            )));
        }
        let params = Params::new(self.m_kib, self.t, self.p, None)
            .map_err(|e| HashError(format!("invalid argon2 parameters: {e}")))?;
        Ok(Argon2::new(Algorithm::Argon2id, Version::V0x13, params))
    }

    /// Rejects parameters the hasher would refuse, so a bad configuration fails at start-up
    /// rather than at the first password change.
    pub fn validate(&self) -> Result<(), HashError> {
        self.argon2().map(|_| ())
    }
}

/// Hashing failed: only possible with parameters `HashParams::validate` refuses.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct HashError(String);

/// Outcome of checking a password against a stored hash.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verification {
    /// The password matches. `needs_rehash` asks the caller to store `hash(password, current)`
    /// now, while it has the plaintext: the stored hash is legacy or cheaper than current.
    Valid { needs_rehash: bool },
    /// Wrong password, or a stored string that is no hash we know.
    Invalid,
}

impl Verification {
    pub fn is_valid(self) -> bool {
        matches!(self, Verification::Valid { .. })
    }
}

/// Hashes `password` with Argon2id and a fresh random 128-bit salt, as a PHC string
/// (`$argon2id$v=19$m=…,t=…,p=…$salt$hash`) that carries its own parameters.
pub fn hash(password: &str, params: &HashParams) -> Result<String, HashError> {
    let argon2 = params.argon2()?;
    let salt = SaltString::generate(&mut OsRng);
    argon2
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| HashError(format!("argon2 hashing failed: {e}")))
}

/// Checks `password` against a stored PHC string or legacy Magento hash. `current` is the
/// configured cost: a valid PHC hash below it is reported as needing a rehash.
pub fn verify(password: &str, stored: &str, current: &HashParams) -> Verification {
    if stored.starts_with('$') {
        verify_phc(password, stored, current)
    } else if magento::verify(password, stored) {
        // Magento hashes are always upgraded: md5 and sha256 are fast, and none is in the
        // format rolecall stores.
        Verification::Valid { needs_rehash: true }
    } else {
        Verification::Invalid
    }
}

fn verify_phc(password: &str, stored: &str, current: &HashParams) -> Verification {
    let Ok(parsed) = PasswordHash::new(stored) else {
        return Verification::Invalid;
    };
    let Ok(algorithm) = Algorithm::try_from(parsed.algorithm) else {
        return Verification::Invalid;
    };
    let Ok(params) = Params::try_from(&parsed) else {
        return Verification::Invalid;
    };
    if params.m_cost() > MAX_M_KIB || params.t_cost() > MAX_T || params.p_cost() > MAX_P {
        return Verification::Invalid;
    }
    let version = match parsed.version.map(Version::try_from).transpose() {
        Ok(v) => v.unwrap_or_default(),
        Err(_) => return Verification::Invalid,
    };
    // The verifier takes algorithm, version and cost from the PHC string; comparison is
    // constant-time inside the crate.
    if Argon2::default()
        .verify_password(password.as_bytes(), &parsed)
        .is_err()
    {
        return Verification::Invalid;
    }
    let needs_rehash = algorithm != Algorithm::Argon2id
        || version != Version::V0x13
        || params.m_cost() < current.m_kib
        || params.t_cost() < current.t
        || params.p_cost() < current.p;
    Verification::Valid { needs_rehash }
}

/// A real Argon2id hash with the default parameters, of a password nobody knows (random bytes
/// at generation time). Verifying against it costs what verifying a real user's hash costs.
pub const DUMMY_HASH: &str =
    "$argon2id$v=19$m=19456,t=2,p=1$+245+wPGI/IymTLOWIzA9w$X4C0ABJ2NwjA9dtT+s2Fy9CSB0i0HdU+s5xrIFqTx04";

/// Spends the time of one verification without a stored hash, so that signing in as an unknown
/// user takes as long as signing in with a wrong password (no account enumeration by timing).
pub fn verify_dummy(password: &str, current: &HashParams) {
    if *current == HashParams::default() {
        let _ = verify_phc(password, DUMMY_HASH, current);
    } else {
        // Costs what verifying a hash made with `current` costs.
        let _ = hash(password, current);
    }
}

/// Magento 2's `Encryptor` hashes: `hash:salt:version`, where version is a `:`-chain of
/// 0 (md5), 1 (sha256), 2 or `3_<bytes>_<ops>_<mem>` (libsodium argon2id13).
mod magento {
    use super::*;

    /// libsodium `crypto_pwhash_SALTBYTES`.
    const SALT_BYTES: usize = 16;
    /// Longest chain worth trying (Magento writes at most two links).
    const MAX_CHAIN: usize = 4;
    /// libsodium `crypto_pwhash` parameters of Magento's version 2.
    const V2: Argon2Cost = Argon2Cost {
        out_len: 32,
        ops: 2,
        mem_bytes: 67_108_864,
    };

    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    struct Argon2Cost {
        out_len: usize,
        ops: u32,
        mem_bytes: u64,
    }

    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    enum Link {
        Md5,
        Sha256,
        Argon2id13(Argon2Cost),
    }

    fn parse_link(version: &str) -> Option<Link> {
        match version {
            "0" => Some(Link::Md5),
            "1" => Some(Link::Sha256),
            "2" => Some(Link::Argon2id13(V2)),
            _ => {
                // `^3_(\d+)_(\d+)_(\d+)$`
                let mut parts = version.strip_prefix("3_")?.split('_');
                let mut number = || -> Option<u64> {
                    let s = parts.next()?;
                    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
                        return None;
                    }
                    s.parse().ok()
                };
                let (out_len, ops, mem_bytes) = (number()?, number()?, number()?);
                if parts.next().is_some() {
                    return None;
                }
                Some(Link::Argon2id13(Argon2Cost {
                    out_len: usize::try_from(out_len).ok()?,
                    ops: u32::try_from(ops).ok()?,
                    mem_bytes,
                }))
            }
        }
    }

    /// The stored salt fitted to 16 bytes as Magento does: cut, or repeated (PHP `str_pad`
    /// with the salt itself).
    fn fit_salt(salt: &[u8]) -> Option<[u8; SALT_BYTES]> {
        if salt.is_empty() {
            return None;
        }
        let mut out = [0u8; SALT_BYTES];
        for (dst, src) in out.iter_mut().zip(salt.iter().cycle()) {
            *dst = *src;
        }
        Some(out)
    }

    fn apply(link: Link, salt: &str, value: &[u8]) -> Option<Vec<u8>> {
        match link {
            Link::Md5 => {
                let mut h = Md5::new();
                h.update(salt.as_bytes());
                h.update(value);
                Some(h.finalize().to_vec())
            }
            Link::Sha256 => {
                let mut h = Sha256::new();
                h.update(salt.as_bytes());
                h.update(value);
                Some(h.finalize().to_vec())
            }
            Link::Argon2id13(cost) => {
                let m_kib = u32::try_from(cost.mem_bytes / 1024).ok()?;
                if m_kib > MAX_M_KIB || cost.ops > MAX_T || cost.out_len > 1024 {
                    return None;
                }
                let params = Params::new(m_kib, cost.ops, 1, Some(cost.out_len)).ok()?;
                let argon2 = Argon2::new(Algorithm::Argon2id, Version::V0x13, params);
                let mut out = vec![0u8; cost.out_len];
                argon2
                    .hash_password_into(value, &fit_salt(salt.as_bytes())?, &mut out)
                    .ok()?;
                Some(out)
            }
        }
    }

    /// True when `stored` is a Magento hash of `password`. Each link hashes the previous
    /// link's lower-case hex with the same salt; the last hex must equal the stored hash.
    pub(super) fn verify(password: &str, stored: &str) -> bool {
        let mut parts = stored.splitn(3, ':');
        let (Some(expected), Some(salt), Some(versions)) =
            (parts.next(), parts.next(), parts.next())
        else {
            return false;
        };
        let links: Option<Vec<Link>> = versions.split(':').map(parse_link).collect();
        let Some(links) = links.filter(|l| l.len() <= MAX_CHAIN) else {
            return false;
        };
        let mut value = password.as_bytes().to_vec();
        for link in links {
            match apply(link, salt, &value) {
                Some(digest) => value = hex::encode(digest).into_bytes(),
                None => return false,
            }
        }
        bool::from(value.ct_eq(expected.to_ascii_lowercase().as_bytes()))
    }

    #[cfg(test)]
    mod tests {
        use super::*;

        #[test]
        fn parses_versions() {
            assert_eq!(parse_link("0"), Some(Link::Md5));
            assert_eq!(parse_link("1"), Some(Link::Sha256));
            assert_eq!(parse_link("2"), Some(Link::Argon2id13(V2)));
            assert_eq!(parse_link("3_32_2_67108864"), Some(Link::Argon2id13(V2)));
            for bad in [
                "",
                "4",
                "3",
                "3_32_2",
                "3_32_2_6710886x",
                "3_32_2_1_1",
                "3__2_1",
                "02",
            ] {
                assert_eq!(parse_link(bad), None, "{bad:?}");
            }
        }

        #[test]
        fn fits_salt_like_php() {
            assert_eq!(&fit_salt(b"salt").unwrap_or_default(), b"saltsaltsaltsalt");
            assert_eq!(
                &fit_salt(b"abcdefg").unwrap_or_default(),
                b"abcdefgabcdefgab"
            );
            assert_eq!(
                &fit_salt(b"0123456789abcdefXYZ").unwrap_or_default(),
                b"0123456789abcdef"
            );
            assert_eq!(fit_salt(b""), None);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const CHEAP: HashParams = HashParams {
        m_kib: 64,
        t: 1,
        p: 1,
    };

    #[test]
    fn hashes_are_phc_argon2id_with_random_salt() {
        let p = HashParams::default();
        let a = hash("correct horse battery staple", &p).expect("hash");
        let b = hash("correct horse battery staple", &p).expect("hash");
        assert!(a.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{a}");
        assert_ne!(a, b, "salts differ");
        assert_eq!(
            verify("correct horse battery staple", &a, &p),
            Verification::Valid {
                needs_rehash: false
            }
        );
        assert_eq!(
            verify("correct horse battery stapl", &a, &p),
            Verification::Invalid
        );
    }

    #[test]
    fn unicode_is_not_truncated() {
        let long = "🦀".repeat(200);
        let h = hash(&long, &CHEAP).expect("hash");
        assert!(verify(&long, &h, &CHEAP).is_valid());
        assert!(!verify(&"🦀".repeat(199), &h, &CHEAP).is_valid());
    }

    #[test]
    fn cheaper_stored_hashes_need_a_rehash() {
        let old = hash("pw", &CHEAP).expect("hash");
        let current = HashParams::default();
        assert_eq!(
            verify("pw", &old, &current),
            Verification::Valid { needs_rehash: true }
        );
        assert_eq!(verify("nope", &old, &current), Verification::Invalid);
        // Dearer than current: fine as it is.
        assert_eq!(
            verify("pw", &old, &HashParams { m_kib: 32, ..CHEAP }),
            Verification::Valid {
                needs_rehash: false
            }
        );
    }

    #[test]
    fn other_argon2_variants_verify_and_are_upgraded() {
        let params = Params::new(64, 1, 1, None).expect("params");
        let argon2i = Argon2::new(Algorithm::Argon2i, Version::V0x13, params);
        let salt = SaltString::generate(&mut OsRng);
        let h = argon2i
            .hash_password(b"pw", &salt)
            .expect("hash")
            .to_string();
        assert_eq!(
            verify("pw", &h, &CHEAP),
            Verification::Valid { needs_rehash: true }
        );
    }

    #[test]
    fn garbage_is_invalid_not_a_panic() {
        for stored in [
            "",
            "$",
            "$argon2id$",
            "$argon2id$v=19$m=19456,t=2,p=1$bad",
            "$argon2id$v=19$m=4294967295,t=2,p=1$J4YFUrrISfmSZOBxzrKnnw$JN8ohdL9l1qGPidIQGlB+CRsfwCKUkz3YUvoS1ATK7M",
            "$scrypt$ln=15,r=8,p=1$c2FsdA$aGFzaA",
            "plaintext",
            "a:b",
            "abc:salt:9",
            "abc::2",
            "abc:salt:3_32_2_99999999999999999999",
        ] {
            assert_eq!(verify("password", stored, &CHEAP), Verification::Invalid, "{stored}");
        }
    }

    #[test]
    fn dummy_hash_is_a_default_cost_hash() {
        let p = HashParams::default();
        assert!(DUMMY_HASH.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"));
        assert_eq!(verify("", DUMMY_HASH, &p), Verification::Invalid);
        assert_eq!(verify("password", DUMMY_HASH, &p), Verification::Invalid);
        verify_dummy("password", &p);
        verify_dummy("password", &CHEAP);
    }

    #[test]
    fn params_are_validated() {
        assert!(HashParams::default().validate().is_ok());
        assert!(HashParams { t: 0, ..CHEAP }.validate().is_err());
        assert!(HashParams { p: 0, ..CHEAP }.validate().is_err());
        assert!(HashParams { m_kib: 4, ..CHEAP }.validate().is_err());
        assert!(HashParams {
            m_kib: u32::MAX,
            ..CHEAP
        }
        .validate()
        .is_err());
        assert!(hash("pw", &HashParams { t: 0, ..CHEAP }).is_err());
    }

    /// Magento's `EncryptorTest` vectors, password `password` (see shared/data README).
    const MAGENTO_VALID: [&str; 8] = [
        "67a1e09bb1f83f5007dc119c14d663aa:salt:0",
        "13601bda4ea78e55a07b98866d2be6be0744e3866f13c00c811cab608a28f322:salt:1",
        "7640855aef9cb6ffd20229601d2904a2192e372b391db8230d7faf073b393e4c:salt:2",
        "ca7982945fa90444b78d586678ff1c223ce13f99a39ec9541eae8b63ada3816a:random_salt12345:2",
        "2d78b5e93b683c4d3b0574c1ced8e40ddec7730c2e1b35f282b2c955b5cb7262:random-saltrando:2",
        "c6aad9e058f6c4b06187c06d2b69bf506a786af030f81fb6d83778422a68205e:salt:1:2",
        "3b68ca4706cbae291455e4340478076c1e1618e742b6144cfcc3e50f648903e4:salt:0:1",
        // Derived: version 3 with these parameters computes the same value as version 2.
        "7640855aef9cb6ffd20229601d2904a2192e372b391db8230d7faf073b393e4c:salt:3_32_2_67108864",
    ];

    #[test]
    fn magento_vectors_verify_and_ask_for_rehash() {
        let p = HashParams::default();
        for stored in MAGENTO_VALID {
            assert_eq!(
                verify("password", stored, &p),
                Verification::Valid { needs_rehash: true },
                "{stored}"
            );
        }
    }

    #[test]
    fn magento_invalid_vector_and_wrong_passwords_fail() {
        let p = HashParams::default();
        assert_eq!(verify("password", "hash:salt:1", &p), Verification::Invalid);
        // Wrong password against the fast versions and one Argon2 chain.
        for stored in [
            MAGENTO_VALID[0],
            MAGENTO_VALID[1],
            MAGENTO_VALID[6],
            MAGENTO_VALID[5],
        ] {
            assert_eq!(
                verify("Password", stored, &p),
                Verification::Invalid,
                "{stored}"
            );
        }
        // Right hash, wrong salt or version.
        assert_eq!(
            verify("password", "67a1e09bb1f83f5007dc119c14d663aa:pepper:0", &p),
            Verification::Invalid
        );
        assert_eq!(
            verify("password", "67a1e09bb1f83f5007dc119c14d663aa:salt:1", &p),
            Verification::Invalid
        );
    }
}
