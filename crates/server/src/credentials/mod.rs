//! Credentials: the algorithms behind secrets (password hashing and legacy Magento hashes,
//! TOTP and recovery codes). This module never stores or logs a secret; callers persist only
//! what it returns (hashes, base32 TOTP secrets, matched steps).
//! The password *policy* (what a new password must look like) is pure domain logic and lives
//! in `rolecall_core::password`.

pub mod password;
pub mod sealing; // TOTP secrets sealed with the server key (issue 9 item 9)
pub mod secret;
pub mod totp;

pub use password::{hash, verify, verify_dummy, HashError, HashParams, Verification, DUMMY_HASH};
pub use rolecall_core::password::PasswordPolicy;
pub use totp::{
    hash_recovery_code, new_recovery_codes, new_secret, normalise, otpauth_uri, InvalidSecret,
};
