//! Who acts in an organisation and the handle every use case takes. They live with the use
//! cases, not with authentication, so the use cases depend on no HTTP or token concern:
//! `auth` (bearer tokens, sessions, the permission gate) produces an [`OrgAdmin`]; the directory
//! only consumes it.

use rolecall_core::model::{Organization, UserId};

/// Who acts in an organisation, as the rights rule and the audit trail see them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Principal {
    /// The server's operator: a bootstrap or organisation token, or an in-process command
    /// (`init`, `--demo`). Acts as a System admin and is no person.
    Operator { label: String },
    /// A signed-in person, with their e-mail as read when the session was authenticated: the
    /// audit trail's name for them without a lookup per change (empty when not known).
    Person(UserId, String),
    /// An API credential, acting as its service account; `name` is the credential's, for the
    /// audit trail.
    Service {
        user: UserId,
        credential: String,
        name: String,
    },
    /// The server itself: a policy or maintenance job (idle deactivation, audit retention).
    /// Acts as a System admin, like the operator who configured the policy.
    Server { job: String },
    /// A SCIM client (issue 14): acts by the provisioning column of the permission matrix, on
    /// users and on the groups it created; `created_by` is guarded from it.
    Scim {
        client: String,
        name: String,
        created_by: Option<UserId>,
    },
    /// A policy the organisation turned on (idle deactivation), acting on its own schedule.
    /// Acts as a System admin, like the operator who configured it.
    Policy { name: String },
}

impl Principal {
    /// The user account acting, if any.
    pub fn user(&self) -> Option<UserId> {
        match self {
            Principal::Operator { .. }
            | Principal::Server { .. }
            | Principal::Scim { .. }
            | Principal::Policy { .. } => None,
            Principal::Person(u, _) | Principal::Service { user: u, .. } => Some(*u),
        }
    }
}

/// Proof that the endpoint's permission was asked for this organisation, carrying who acts so
/// every use case can judge the exact change with `rolecall_core::change::judge`. Handlers get
/// one only from [`Caller::permit`]; in-process commands use [`OrgAdmin::operator`].
#[derive(Debug, Clone)]
pub struct OrgAdmin {
    pub org: Organization,
    pub principal: Principal,
}

impl OrgAdmin {
    /// The operator acting in-process (`init`, `--demo`, tests, benchmarks).
    pub fn operator(org: Organization) -> OrgAdmin {
        OrgAdmin {
            org,
            principal: Principal::Operator {
                label: "operator".into(),
            },
        }
    }
}
