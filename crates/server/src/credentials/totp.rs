//! Second factor: TOTP (RFC 6238: HMAC-SHA1, 6 digits, 30-second steps, one step of skew either
//! way, as every authenticator app expects) and single-use recovery codes.
//!
//! Time is always a parameter; the caller stores the last accepted step per user so a code is
//! accepted at most once.

use rand::rngs::OsRng;
use rand::{Rng, RngCore};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;
use totp_rs::{Algorithm, Secret, TOTP};

/// Shown as the account's issuer in authenticator apps.
pub const ISSUER: &str = "rolecall";
const DIGITS: usize = 6;
const STEP_SECS: u64 = 30;
const SKEW: u8 = 1;
/// RFC 4226 recommends 160-bit shared secrets.
const SECRET_BYTES: usize = 20;

/// A stored TOTP secret that is not valid base32 (or empty).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("invalid TOTP secret")]
pub struct InvalidSecret;

/// A fresh random 160-bit secret, base32 without padding, for enrolment.
pub fn new_secret() -> String {
    let mut bytes = [0u8; SECRET_BYTES];
    OsRng.fill_bytes(&mut bytes);
    totp(bytes.to_vec(), "").get_secret_base32()
}

fn decode(secret_b32: &str) -> Result<Vec<u8>, InvalidSecret> {
    // Accept what people paste: spaces, lower case, `=` padding.
    let cleaned: String = secret_b32
        .chars()
        .filter(|c| !c.is_whitespace() && *c != '=')
        .map(|c| c.to_ascii_uppercase())
        .collect();
    match Secret::Encoded(cleaned).to_bytes() {
        Ok(bytes) if !bytes.is_empty() => Ok(bytes),
        _ => Err(InvalidSecret),
    }
}

fn totp(secret: Vec<u8>, account: &str) -> TOTP {
    // Unchecked: secrets imported from Magento's 2FA may be shorter than 128 bits, and the
    // account name is URL-encoded in the URI, so a `:` in it is harmless.
    TOTP::new_unchecked(
        Algorithm::SHA1,
        DIGITS,
        SKEW,
        STEP_SECS,
        secret,
        Some(ISSUER.to_string()),
        account.to_string(),
    )
}

/// The `otpauth://totp/rolecall:<account>?secret=…&issuer=rolecall` URI an authenticator app
/// scans (as a QR code) at enrolment.
pub fn otpauth_uri(secret_b32: &str, account: &str) -> Result<String, InvalidSecret> {
    Ok(totp(decode(secret_b32)?, account).get_url())
}

/// Checks a 6-digit `code` at `now_unix_secs`. Returns the matched time step (store it as the
/// new `last_used_step`) when the code belongs to the current step or one step either side and
/// that step is later than `last_used_step`, so a code cannot be replayed within its window.
pub fn verify(
    secret_b32: &str,
    code: &str,
    now_unix_secs: i64,
    last_used_step: Option<i64>,
) -> Option<i64> {
    let code: String = code.chars().filter(|c| !c.is_whitespace()).collect();
    if code.len() != DIGITS || !code.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let secret = decode(secret_b32).ok()?;
    let totp = totp(secret, "");
    let now = u64::try_from(now_unix_secs).ok()?;
    let current = i64::try_from(now / STEP_SECS).ok()?;
    let skew = i64::from(SKEW);
    // Every candidate step is computed and compared, matched or not, so timing says nothing
    // about which one matched.
    let mut matched = None;
    for step in (current - skew)..=(current + skew) {
        let Ok(at) = u64::try_from(step) else {
            continue;
        };
        let expected = totp.generate(at * STEP_SECS);
        let fresh = !matches!(last_used_step, Some(last) if step <= last);
        if bool::from(expected.as_bytes().ct_eq(code.as_bytes())) && fresh {
            matched = Some(step);
        }
    }
    matched
}

/// How many recovery codes a user gets at enrolment.
pub const RECOVERY_CODES: usize = 10;
/// Crockford's base32 alphabet in lower case: no i, l, o or u, so nothing reads as another
/// character. 12 characters give 60 bits per code.
const RECOVERY_ALPHABET: &[u8; 32] = b"0123456789abcdefghjkmnpqrstvwxyz";
const RECOVERY_GROUPS: usize = 3;
const RECOVERY_GROUP_LEN: usize = 4;

/// Ten fresh single-use codes `xxxx-xxxx-xxxx` (60 random bits each), shown to the user once.
/// Store only their `hash_recovery_code`.
pub fn new_recovery_codes() -> Vec<String> {
    let mut rng = OsRng;
    let mut codes: Vec<String> = Vec::with_capacity(RECOVERY_CODES);
    while codes.len() < RECOVERY_CODES {
        let groups: Vec<String> = (0..RECOVERY_GROUPS)
            .map(|_| {
                (0..RECOVERY_GROUP_LEN)
                    .map(|_| {
                        char::from(RECOVERY_ALPHABET[rng.gen_range(0..RECOVERY_ALPHABET.len())])
                    })
                    .collect()
            })
            .collect();
        let code = groups.join("-");
        // A repeat within one set (odds 2^-60) would make two "single-use" codes one.
        if !codes.contains(&code) {
            codes.push(code);
        }
    }
    codes
}

/// The form codes are hashed in: lower case, without dashes or whitespace, and with the
/// letters Crockford's alphabet leaves out read as the digits they resemble (o → 0, i/l → 1).
pub fn normalise(code: &str) -> String {
    code.chars()
        .filter(|c| *c != '-' && !c.is_whitespace())
        .map(|c| match c.to_ascii_lowercase() {
            'o' => '0',
            'i' | 'l' => '1',
            c => c,
        })
        .collect()
}

/// SHA-256 hex of the normalised code. A fast hash is enough here, unlike for passwords:
/// each code carries 60 random bits, so there is no dictionary to try and a brute force of
/// 2^60 SHA-256 is out of reach; a slow hash would only slow down sign-in.
pub fn hash_recovery_code(code: &str) -> String {
    hex::encode(Sha256::digest(normalise(code).as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    const T: i64 = 1_700_000_015; // inside step 56_666_667

    fn code_at(secret: &str, t: i64) -> String {
        let bytes = decode(secret).expect("secret");
        totp(bytes, "").generate(u64::try_from(t).expect("positive"))
    }

    #[test]
    fn secret_is_160_bit_base32() {
        let s = new_secret();
        assert_eq!(s.len(), 32, "{s}");
        assert_eq!(decode(&s).expect("decodes").len(), 20);
        assert_ne!(s, new_secret());
        assert_eq!(decode("not base32!"), Err(InvalidSecret));
        assert_eq!(decode(""), Err(InvalidSecret));
    }

    #[test]
    fn rfc_6238_sha1_vector() {
        // RFC 6238 appendix B: secret "12345678901234567890", T = 59 -> 94287082 (8 digits),
        // so 287082 with 6 digits.
        let secret = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ";
        assert_eq!(code_at(secret, 59), "287082");
        assert_eq!(verify(secret, "287082", 59, None), Some(1));
        assert_eq!(code_at(secret, 1_111_111_109), "081804");
    }

    #[test]
    fn accepts_within_one_step_either_way() {
        let s = new_secret();
        let code = code_at(&s, T);
        let step = T / 30;
        assert_eq!(verify(&s, &code, T, None), Some(step));
        assert_eq!(verify(&s, &code, T + 30, None), Some(step));
        assert_eq!(verify(&s, &code, T - 30, None), Some(step));
        assert_eq!(verify(&s, &code, T + 90, None), None);
        assert_eq!(verify(&s, &code, T - 90, None), None);
        // Spaces as apps display them ("123 456") are fine.
        let spaced = format!("{} {}", &code[..3], &code[3..]);
        assert_eq!(verify(&s, &spaced, T, None), Some(step));
    }

    #[test]
    fn a_code_is_accepted_once() {
        let s = new_secret();
        let code = code_at(&s, T);
        let step = verify(&s, &code, T, None).expect("first use");
        assert_eq!(verify(&s, &code, T, Some(step)), None);
        assert_eq!(verify(&s, &code, T + 30, Some(step)), None);
        // An older code after a newer one was used is refused too.
        let next = code_at(&s, T + 30);
        let next_step = verify(&s, &next, T + 30, Some(step)).expect("next step");
        assert_eq!(next_step, step + 1);
        assert_eq!(verify(&s, &code, T + 30, Some(next_step)), None);
    }

    #[test]
    fn malformed_input_is_refused() {
        let s = new_secret();
        for bad in ["", "12345", "1234567", "12a456", "１２３４５６"] {
            assert_eq!(verify(&s, bad, T, None), None, "{bad:?}");
        }
        assert_eq!(verify("!!", "123456", T, None), None);
        assert_eq!(verify(&s, &code_at(&s, 0), -1, None), None);
        // Near the epoch the step before 0 does not exist; no underflow.
        assert_eq!(verify(&s, &code_at(&s, 0), 0, None), Some(0));
    }

    #[test]
    fn otpauth_uri_names_issuer_and_account() {
        let s = new_secret();
        let uri = otpauth_uri(&s, "jane@example.com").expect("uri");
        assert!(
            uri.starts_with("otpauth://totp/rolecall:jane%40example.com?"),
            "{uri}"
        );
        assert!(uri.contains(&format!("secret={s}")), "{uri}");
        assert!(uri.contains("issuer=rolecall"), "{uri}");
        assert_eq!(otpauth_uri("!!", "jane"), Err(InvalidSecret));
    }

    #[test]
    fn recovery_codes_are_unique_and_well_formed() {
        let codes = new_recovery_codes();
        assert_eq!(codes.len(), 10);
        for c in &codes {
            assert_eq!(c.len(), 14, "{c}");
            let groups: Vec<&str> = c.split('-').collect();
            assert_eq!(groups.len(), 3);
            assert!(groups
                .iter()
                .all(|g| g.len() == 4 && g.bytes().all(|b| RECOVERY_ALPHABET.contains(&b))));
        }
        let mut all = codes.clone();
        all.extend(new_recovery_codes());
        all.sort();
        all.dedup();
        assert_eq!(all.len(), 20);
    }

    #[test]
    fn normalisation_and_hashing() {
        assert_eq!(normalise("AB12-cd34-EF56"), "ab12cd34ef56");
        assert_eq!(normalise(" ab12 cd34\tef56 "), "ab12cd34ef56");
        assert_eq!(normalise("O0Il-1"), "00111");
        let code = "ab12-cd34-ef56";
        let h = hash_recovery_code(code);
        assert_eq!(h.len(), 64);
        assert_eq!(h, hash_recovery_code("AB12 CD34 EF56"));
        assert_eq!(h, hash_recovery_code("ab12cd34ef56"));
        assert_ne!(h, hash_recovery_code("ab12-cd34-ef57"));
        let codes = new_recovery_codes();
        let mut hashes: Vec<String> = codes.iter().map(|c| hash_recovery_code(c)).collect();
        hashes.sort();
        hashes.dedup();
        assert_eq!(hashes.len(), codes.len());
    }
}
