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
    /// What SCIM provisioning does on this organisation's behalf.
    pub provisioning: ProvisioningSettings,
}

/// What happens to the API credentials a person created when their identity provider
/// deprovisions them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum DeprovisionedCredentials {
    /// Revoke them with the person (seed 001: integrations must not outlive their admin).
    #[default]
    Revoke,
    /// Keep them working; the keep is recorded.
    Keep,
}

/// The attributes an organisation may declare owned by its identity provider: for provisioned
/// users (and groups) the console and the API refuse to change them, so the two sides never
/// fight over a value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum IdpAttribute {
    Username,
    Email,
    FirstName,
    LastName,
    Status,
    Locale,
    DisplayName,
    NickName,
    Title,
    UserType,
    NameFormatted,
    MiddleName,
    HonorificPrefix,
    HonorificSuffix,
    PreferredLanguage,
    Timezone,
    ExternalId,
    Emails,
    PhoneNumbers,
    Addresses,
    EmployeeNumber,
    CostCenter,
    Organization,
    Division,
    Department,
    ManagerId,
    /// The name of a group the SCIM client created.
    GroupName,
    /// The membership of a group the SCIM client created.
    GroupMembers,
}

impl IdpAttribute {
    /// The field name the REST API uses for it (what a refusal names).
    pub fn field(self) -> &'static str {
        match self {
            IdpAttribute::Username => "username",
            IdpAttribute::Email => "email",
            IdpAttribute::FirstName => "first_name",
            IdpAttribute::LastName => "last_name",
            IdpAttribute::Status => "status",
            IdpAttribute::Locale => "locale",
            IdpAttribute::DisplayName => "display_name",
            IdpAttribute::NickName => "nick_name",
            IdpAttribute::Title => "title",
            IdpAttribute::UserType => "user_type",
            IdpAttribute::NameFormatted => "name_formatted",
            IdpAttribute::MiddleName => "middle_name",
            IdpAttribute::HonorificPrefix => "honorific_prefix",
            IdpAttribute::HonorificSuffix => "honorific_suffix",
            IdpAttribute::PreferredLanguage => "preferred_language",
            IdpAttribute::Timezone => "timezone",
            IdpAttribute::ExternalId => "external_id",
            IdpAttribute::Emails => "emails",
            IdpAttribute::PhoneNumbers => "phone_numbers",
            IdpAttribute::Addresses => "addresses",
            IdpAttribute::EmployeeNumber => "employee_number",
            IdpAttribute::CostCenter => "cost_center",
            IdpAttribute::Organization => "organization",
            IdpAttribute::Division => "division",
            IdpAttribute::Department => "department",
            IdpAttribute::ManagerId => "manager_id",
            IdpAttribute::GroupName => "name",
            IdpAttribute::GroupMembers => "members",
        }
    }
}

/// SCIM provisioning (issue 14): how deprovisioning treats a person's API credentials, which
/// notifications provisioned users get, which attributes the identity provider owns, and the
/// per-organisation request rate.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(default, deny_unknown_fields)]
pub struct ProvisioningSettings {
    /// API credentials a deprovisioned person created: `revoke` (default) or `keep`.
    pub deprovisioned_credentials: DeprovisionedCredentials,
    /// Mail provisioned users the removal notice when they are deactivated or deleted (off:
    /// their identity provider tells them).
    pub removal_mails: bool,
    /// Send provisioned users the "Get started" invitation to set a password; they stay
    /// `invited` until they accept (off: they are created active).
    pub invitations: bool,
    /// Attributes the identity provider owns: local changes to them on provisioned users and
    /// groups are refused.
    pub idp_owned: Vec<IdpAttribute>,
    /// SCIM requests per second one organisation may make (per node), with bursts of twice as
    /// many. Microsoft Entra ID needs at least 25.
    pub requests_per_second: u32,
}

impl Default for ProvisioningSettings {
    fn default() -> Self {
        ProvisioningSettings {
            deprovisioned_credentials: DeprovisionedCredentials::Revoke,
            removal_mails: false,
            invitations: false,
            idp_owned: Vec::new(),
            requests_per_second: 50,
        }
    }
}

impl ProvisioningSettings {
    /// Whether `attr` is owned by the identity provider.
    pub fn owns(&self, attr: IdpAttribute) -> bool {
        self.idp_owned.contains(&attr)
    }
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
            provisioning: ProvisioningSettings::default(),
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
        range(
            "provisioning.requests_per_second",
            i64::from(self.provisioning.requests_per_second),
            25,
            100_000,
        );
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
