//! Per-organisation security settings: password policy, two-factor requirement, session
//! lifetimes, lockout and identity re-verification. Defaults follow Magento 2.4's admin where it
//! is stricter than nothing (2FA on, 900 s idle timeout, lock after 6 failures for 30 minutes).

use crate::error::FieldError;
use crate::password::PasswordPolicy;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(default, deny_unknown_fields)]
pub struct OrgSettings {
    pub password_policy: PasswordPolicy,
    /// TOTP required for every user (Magento 2.4's default).
    pub require_2fa: bool,
    /// A session unused this long ends (Magento: admin session lifetime 900 s).
    pub idle_timeout_secs: i64,
    /// A session ends this long after sign-in whatever its use.
    pub session_lifetime_secs: i64,
    /// Magento's "Admin Account Sharing": off means a new sign-in ends the user's other sessions.
    pub account_sharing: bool,
    /// Consecutive failures before the account locks.
    pub lockout_threshold: i64,
    pub lockout_minutes: i64,
    /// How long a password re-entry (or the sign-in itself) authorises sensitive changes.
    /// 0 asks every time, as Magento's "Current User Identity Verification" does: each
    /// sensitive change carries the password (`X-Rolecall-Password`), and neither a fresh
    /// sign-in nor an earlier re-entry counts.
    pub reverify_window_secs: i64,
    /// Audit entries older than this many days are pruned (the pruning is itself recorded and
    /// the kept chain stays verifiable). `null`: keep everything (the default).
    pub audit_retention_days: Option<i64>,
    /// Optional policy: active people who have not signed in for this many days (or, never
    /// having signed in, were created that long ago) are deactivated by the server. `null`: off
    /// (the default).
    pub idle_deactivation_days: Option<i64>,
}

impl Default for OrgSettings {
    fn default() -> Self {
        OrgSettings {
            password_policy: PasswordPolicy::default(),
            require_2fa: true,
            idle_timeout_secs: 900,
            session_lifetime_secs: 12 * 3600,
            account_sharing: false,
            lockout_threshold: 6,
            lockout_minutes: 30,
            reverify_window_secs: 300,
            audit_retention_days: None,
            idle_deactivation_days: None,
        }
    }
}

impl OrgSettings {
    pub fn validate(&self) -> Result<(), Vec<FieldError>> {
        let mut errors = match self.password_policy.validate() {
            Ok(()) => Vec::new(),
            Err(e) => e,
        };
        let mut range = |field: &str, v: i64, lo: i64, hi: i64| {
            if !(lo..=hi).contains(&v) {
                errors.push(FieldError::new(
                    field,
                    "range",
                    format!("must be between {lo} and {hi}"),
                ));
            }
        };
        range("idle_timeout_secs", self.idle_timeout_secs, 60, 86_400);
        range(
            "session_lifetime_secs",
            self.session_lifetime_secs,
            300,
            30 * 86_400,
        );
        range("lockout_threshold", self.lockout_threshold, 1, 100);
        range("lockout_minutes", self.lockout_minutes, 1, 24 * 60);
        if let Some(d) = self.audit_retention_days {
            range("audit_retention_days", d, 1, 36_500);
        }
        if let Some(d) = self.idle_deactivation_days {
            range("idle_deactivation_days", d, 1, 36_500);
        }
        if !(self.reverify_window_secs == 0 || (30..=3600).contains(&self.reverify_window_secs)) {
            errors.push(FieldError::new(
                "reverify_window_secs",
                "range",
                "must be 0 (ask for the password with every sensitive change) or between 30 and 3600",
            ));
        }
        if errors.is_empty() {
            Ok(())
        } else {
            Err(errors)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_magentos_and_valid() {
        let s = OrgSettings::default();
        assert!(s.require_2fa);
        assert_eq!(
            (s.idle_timeout_secs, s.lockout_threshold, s.lockout_minutes),
            (900, 6, 30)
        );
        assert!(s.validate().is_ok());
    }

    #[test]
    fn a_reverify_window_of_zero_asks_every_time_and_small_windows_are_refused() {
        let window = |secs| OrgSettings {
            reverify_window_secs: secs,
            ..Default::default()
        };
        assert!(window(0).validate().is_ok());
        assert!(window(30).validate().is_ok());
        assert!(window(3600).validate().is_ok());
        for bad in [-1, 1, 29, 3601] {
            assert_eq!(
                window(bad).validate().unwrap_err()[0].field,
                "reverify_window_secs",
                "{bad}"
            );
        }
    }

    #[test]
    fn out_of_range_values_are_named() {
        let s = OrgSettings {
            idle_timeout_secs: 5,
            lockout_threshold: 0,
            ..Default::default()
        };
        let fields: Vec<String> = s
            .validate()
            .unwrap_err()
            .into_iter()
            .map(|e| e.field)
            .collect();
        assert_eq!(fields, ["idle_timeout_secs", "lockout_threshold"]);
    }
}
