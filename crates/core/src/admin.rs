//! Delegated administration (seeds 000 and 004): the organisation administration rights, the
//! permission matrix that says which right may perform which operation, and the delegation rule
//! that an admin grants only rights at or below their own, over objects they administer.
//!
//! Architecture Invariant: every HTTP endpoint names exactly one [`Operation`] and asks
//! [`authorize`] before acting; the matrix below is the only place that says who may do what.

use crate::error::FieldError;
use serde::{Deserialize, Serialize};

/// One administration right. Scoped rights name the application, profile or group they cover.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum AdminRight {
    /// Super user of the organisation.
    System,
    /// Administers the named application (product) and its profiles.
    Product { application: String },
    /// Administers one product profile.
    ProductProfile { profile_id: String },
    /// Administers one user group.
    UserGroup { group_id: String },
    /// Software packages and updates.
    Deployment,
    /// Read-only support information.
    Support,
    /// Storage consumption and transfer.
    Storage,
}

/// The right kinds, for the matrix.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum RightKind {
    System,
    Product,
    ProductProfile,
    UserGroup,
    Deployment,
    Support,
    Storage,
}

impl RightKind {
    pub const ALL: [RightKind; 7] = [
        RightKind::System,
        RightKind::Product,
        RightKind::ProductProfile,
        RightKind::UserGroup,
        RightKind::Deployment,
        RightKind::Support,
        RightKind::Storage,
    ];

    /// The kind as stored and as written in the API (`AdminRight`'s `kind` tag).
    pub fn as_str(self) -> &'static str {
        match self {
            RightKind::System => "system",
            RightKind::Product => "product",
            RightKind::ProductProfile => "product_profile",
            RightKind::UserGroup => "user_group",
            RightKind::Deployment => "deployment",
            RightKind::Support => "support",
            RightKind::Storage => "storage",
        }
    }

    pub fn parse(s: &str) -> Option<RightKind> {
        RightKind::ALL.into_iter().find(|k| k.as_str() == s)
    }
}

impl AdminRight {
    pub fn kind(&self) -> RightKind {
        match self {
            AdminRight::System => RightKind::System,
            AdminRight::Product { .. } => RightKind::Product,
            AdminRight::ProductProfile { .. } => RightKind::ProductProfile,
            AdminRight::UserGroup { .. } => RightKind::UserGroup,
            AdminRight::Deployment => RightKind::Deployment,
            AdminRight::Support => RightKind::Support,
            AdminRight::Storage => RightKind::Storage,
        }
    }

    /// (kind, target) as stored.
    pub fn to_row(&self) -> (&'static str, String) {
        match self {
            AdminRight::System => ("system", String::new()),
            AdminRight::Product { application } => ("product", application.clone()),
            AdminRight::ProductProfile { profile_id } => ("product_profile", profile_id.clone()),
            AdminRight::UserGroup { group_id } => ("user_group", group_id.clone()),
            AdminRight::Deployment => ("deployment", String::new()),
            AdminRight::Support => ("support", String::new()),
            AdminRight::Storage => ("storage", String::new()),
        }
    }

    pub fn from_row(kind: &str, target: &str) -> Option<AdminRight> {
        Some(match kind {
            "system" => AdminRight::System,
            "product" => AdminRight::Product {
                application: target.to_string(),
            },
            "product_profile" => AdminRight::ProductProfile {
                profile_id: target.to_string(),
            },
            "user_group" => AdminRight::UserGroup {
                group_id: target.to_string(),
            },
            "deployment" => AdminRight::Deployment,
            "support" => AdminRight::Support,
            "storage" => AdminRight::Storage,
            _ => return None,
        })
    }
}

/// Organisation kinds (seed 004): `teams` organisations have a single right, System admin.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum OrgKind {
    #[default]
    Enterprise,
    Teams,
}

/// Every administrative operation, grouped as in seed 004's permission matrix, plus rolecall's
/// own (application roles, scopes, credentials, sign-in administration).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Operation {
    // Identity management
    ViewSettings,
    ManageSettings,
    // User management
    ViewUsers,
    AddUser,
    EditUser,
    RemoveUser,
    BulkAddUsers,
    ManageSignIn,
    ViewAuthEvents,
    // Administrator management
    ViewAdmins,
    ManageAdmins,
    TransferOwnership,
    // Product licence configuration and application roles
    ViewProducts,
    CreateProfile,
    EditProfile,
    DeleteProfile,
    AssignProfile,
    ViewRoles,
    ManageRoles,
    AssignRole,
    ManageScopes,
    // User groups
    ViewGroups,
    CreateGroup,
    EditGroup,
    RemoveGroup,
    ManageGroupMembers,
    // Storage, packages, support
    ViewStorage,
    ManageStorage,
    ManagePackages,
    ViewSupport,
    ManageSupportCases,
    // Integrations and checks
    ManageCredentials,
    Check,
}

impl Operation {
    pub const ALL: [Operation; 33] = [
        Operation::ViewSettings,
        Operation::ManageSettings,
        Operation::ViewUsers,
        Operation::AddUser,
        Operation::EditUser,
        Operation::RemoveUser,
        Operation::BulkAddUsers,
        Operation::ManageSignIn,
        Operation::ViewAuthEvents,
        Operation::ViewAdmins,
        Operation::ManageAdmins,
        Operation::TransferOwnership,
        Operation::ViewProducts,
        Operation::CreateProfile,
        Operation::EditProfile,
        Operation::DeleteProfile,
        Operation::AssignProfile,
        Operation::ViewRoles,
        Operation::ManageRoles,
        Operation::AssignRole,
        Operation::ManageScopes,
        Operation::ViewGroups,
        Operation::CreateGroup,
        Operation::EditGroup,
        Operation::RemoveGroup,
        Operation::ManageGroupMembers,
        Operation::ViewStorage,
        Operation::ManageStorage,
        Operation::ManagePackages,
        Operation::ViewSupport,
        Operation::ManageSupportCases,
        Operation::ManageCredentials,
        Operation::Check,
    ];
}

/// What an operation acts on, so scoped rights can be matched.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target<'a> {
    Organization,
    Application(&'a str),
    Profile { id: &'a str, application: &'a str },
    Group(&'a str),
}

/// Which right kinds may perform an operation at all (before scoping). `System` may do
/// everything and is not listed. Where seed 004 is silent, the least privilege is chosen:
/// the comments say so.
pub fn allowed_kinds(op: Operation) -> &'static [RightKind] {
    use Operation::*;
    use RightKind as K;
    match op {
        // Support admins may view the password policy (seed 004 "View default org password policy").
        ViewSettings => &[K::Support],
        ManageSettings | RemoveUser | BulkAddUsers | ManageSignIn | ManageAdmins
        | TransferOwnership | RemoveGroup | ManageCredentials => &[],
        // Product and profile admins add users to the organisation and need to find them;
        // group admins pick members; support and storage admins see user details (seed 004).
        ViewUsers => &[
            K::Product,
            K::ProductProfile,
            K::UserGroup,
            K::Support,
            K::Storage,
        ],
        // "Add users and user groups to the organisation but not remove these" (seed 004).
        AddUser | CreateGroup => &[K::Product, K::ProductProfile],
        // Editing someone's profile is a System admin task; least privilege.
        EditUser => &[],
        ViewAuthEvents => &[K::Support],
        // Anyone administering something may see who else administers (to delegate).
        ViewAdmins => &[K::Product, K::ProductProfile, K::UserGroup],
        ViewProducts => &[K::Product, K::ProductProfile, K::Support],
        // "Create product profiles": product admins of the profile's application.
        CreateProfile | DeleteProfile => &[K::Product],
        // Profile admins administer their profile's description and roles.
        EditProfile | AssignProfile => &[K::Product, K::ProductProfile],
        ViewRoles => &[K::Product, K::ProductProfile, K::Support],
        // Application roles and scopes are product configuration: product admins of that application.
        ManageRoles | ManageScopes => &[K::Product],
        // Roles are assigned by product admins of the role's application. Profile admins manage
        // product roles through their profile's bundle and seats, nothing beyond (issue 9).
        AssignRole => &[K::Product],
        ViewGroups => &[K::Product, K::ProductProfile, K::UserGroup, K::Support],
        EditGroup | ManageGroupMembers => &[K::UserGroup],
        ViewStorage | ManageStorage => &[K::Storage],
        ManagePackages => &[K::Deployment],
        ViewSupport | ManageSupportCases => &[K::Support],
        // Applications ask with their own credential; admins who can see roles may test too.
        Check => &[K::Product, K::ProductProfile, K::Support],
    }
}

/// The provisioning column of the matrix: what a SCIM client may do at all (issue 14). The
/// identity provider decides who exists and who is in the groups it created; what those groups
/// carry (roles, profiles), admin rights and settings stay administrators' decisions, so none of
/// those operations is here. Which groups it may change is decided per change
/// (`core::change::Provisioner`): only those it created.
pub fn provisioning_allows(op: Operation) -> bool {
    use Operation::*;
    matches!(
        op,
        ViewUsers
            | AddUser
            | EditUser
            | RemoveUser
            | ViewGroups
            | CreateGroup
            | EditGroup
            | RemoveGroup
            | ManageGroupMembers
    )
}

/// Does a right cover the target? Scoped rights cover only their own objects.
fn covers(right: &AdminRight, target: &Target) -> bool {
    match (right, target) {
        (AdminRight::System, _) => true,
        (AdminRight::Product { application }, Target::Application(a)) => application == a,
        (AdminRight::Product { application }, Target::Profile { application: a, .. }) => {
            application == a
        }
        (AdminRight::ProductProfile { profile_id }, Target::Profile { id, .. }) => profile_id == id,
        (AdminRight::UserGroup { group_id }, Target::Group(g)) => group_id == g,
        (_, Target::Organization) => true,
        _ => false,
    }
}

/// The one permission check: may someone holding `rights` perform `op` on `target`?
pub fn authorize(rights: &[AdminRight], op: Operation, target: &Target) -> bool {
    rights.iter().any(|r| match r {
        AdminRight::System => true,
        _ => allowed_kinds(op).contains(&r.kind()) && covers(r, target),
    })
}

/// May someone holding `rights` perform `op` on some target? The coarse question asked
/// before a request body naming the target is read, so that a caller without any such right is
/// refused before learning anything about the body.
pub fn authorize_somewhere(rights: &[AdminRight], op: Operation) -> bool {
    rights
        .iter()
        .any(|r| *r == AdminRight::System || allowed_kinds(op).contains(&r.kind()))
}

/// The rights an admin may hand out (or take away): at or below their own, over objects they
/// administer (seed 004: "the same privileges as you have, or privileges for a role under your
/// admin role in the hierarchy"). `profile_app` tells which application a profile belongs to.
pub fn may_delegate(
    rights: &[AdminRight],
    right: &AdminRight,
    org_kind: OrgKind,
    profile_app: Option<&str>,
) -> Result<(), FieldError> {
    if org_kind == OrgKind::Teams && *right != AdminRight::System {
        return Err(FieldError::new(
            "kind",
            "teams_org",
            "a teams organisation has a single admin right: system",
        ));
    }
    let ok = rights.iter().any(|held| match (held, right) {
        (AdminRight::System, _) => true,
        (AdminRight::Product { application }, AdminRight::Product { application: a }) => {
            application == a
        }
        (AdminRight::Product { application }, AdminRight::ProductProfile { .. }) => {
            profile_app == Some(application.as_str())
        }
        (AdminRight::Product { .. }, AdminRight::UserGroup { .. }) => true,
        (
            AdminRight::ProductProfile { profile_id },
            AdminRight::ProductProfile { profile_id: p },
        ) => profile_id == p,
        (AdminRight::UserGroup { group_id }, AdminRight::UserGroup { group_id: g }) => {
            group_id == g
        }
        _ => false,
    });
    if ok {
        Ok(())
    } else {
        Err(FieldError::new(
            "kind",
            "above_own_rights",
            "you may grant only rights at or below your own, over what you administer",
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use Operation::*;

    fn sample(kind: RightKind) -> AdminRight {
        match kind {
            RightKind::System => AdminRight::System,
            RightKind::Product => AdminRight::Product {
                application: "commerce-admin".into(),
            },
            RightKind::ProductProfile => AdminRight::ProductProfile {
                profile_id: "p1".into(),
            },
            RightKind::UserGroup => AdminRight::UserGroup {
                group_id: "g1".into(),
            },
            RightKind::Deployment => AdminRight::Deployment,
            RightKind::Support => AdminRight::Support,
            RightKind::Storage => AdminRight::Storage,
        }
    }

    /// A target the sample right administers, for each operation.
    fn own_target(op: Operation) -> Target<'static> {
        match op {
            CreateProfile | EditProfile | DeleteProfile | AssignProfile => Target::Profile {
                id: "p1",
                application: "commerce-admin",
            },
            ManageRoles | AssignRole | ManageScopes => Target::Application("commerce-admin"),
            EditGroup | ManageGroupMembers => Target::Group("g1"),
            _ => Target::Organization,
        }
    }

    /// The expected matrix, written out cell by cell: (operation, [system, product, profile,
    /// group, deployment, support, storage]).
    const EXPECTED: &[(Operation, [bool; 7])] = &[
        (
            ViewSettings,
            [true, false, false, false, false, true, false],
        ),
        (
            ManageSettings,
            [true, false, false, false, false, false, false],
        ),
        (ViewUsers, [true, true, true, true, false, true, true]),
        (AddUser, [true, true, true, false, false, false, false]),
        (EditUser, [true, false, false, false, false, false, false]),
        (RemoveUser, [true, false, false, false, false, false, false]),
        (
            BulkAddUsers,
            [true, false, false, false, false, false, false],
        ),
        (
            ManageSignIn,
            [true, false, false, false, false, false, false],
        ),
        (
            ViewAuthEvents,
            [true, false, false, false, false, true, false],
        ),
        (ViewAdmins, [true, true, true, true, false, false, false]),
        (
            ManageAdmins,
            [true, false, false, false, false, false, false],
        ),
        (
            TransferOwnership,
            [true, false, false, false, false, false, false],
        ),
        (ViewProducts, [true, true, true, false, false, true, false]),
        (
            CreateProfile,
            [true, true, false, false, false, false, false],
        ),
        (EditProfile, [true, true, true, false, false, false, false]),
        (
            DeleteProfile,
            [true, true, false, false, false, false, false],
        ),
        (
            AssignProfile,
            [true, true, true, false, false, false, false],
        ),
        (ViewRoles, [true, true, true, false, false, true, false]),
        (ManageRoles, [true, true, false, false, false, false, false]),
        (AssignRole, [true, true, false, false, false, false, false]),
        (
            ManageScopes,
            [true, true, false, false, false, false, false],
        ),
        (ViewGroups, [true, true, true, true, false, true, false]),
        (CreateGroup, [true, true, true, false, false, false, false]),
        (EditGroup, [true, false, false, true, false, false, false]),
        (
            RemoveGroup,
            [true, false, false, false, false, false, false],
        ),
        (
            ManageGroupMembers,
            [true, false, false, true, false, false, false],
        ),
        (ViewStorage, [true, false, false, false, false, false, true]),
        (
            ManageStorage,
            [true, false, false, false, false, false, true],
        ),
        (
            ManagePackages,
            [true, false, false, false, true, false, false],
        ),
        (ViewSupport, [true, false, false, false, false, true, false]),
        (
            ManageSupportCases,
            [true, false, false, false, false, true, false],
        ),
        (
            ManageCredentials,
            [true, false, false, false, false, false, false],
        ),
        (Check, [true, true, true, false, false, true, false]),
    ];

    const KINDS: [RightKind; 7] = [
        RightKind::System,
        RightKind::Product,
        RightKind::ProductProfile,
        RightKind::UserGroup,
        RightKind::Deployment,
        RightKind::Support,
        RightKind::Storage,
    ];

    #[test]
    fn every_cell_of_the_matrix() {
        assert_eq!(
            EXPECTED.len(),
            Operation::ALL.len(),
            "every operation has a row"
        );
        for (op, row) in EXPECTED {
            for (kind, expected) in KINDS.iter().zip(row) {
                let got = authorize(&[sample(*kind)], *op, &own_target(*op));
                assert_eq!(got, *expected, "{kind:?} × {op:?}");
            }
        }
    }

    /// The SCIM client's column, written out: everything about users and about groups it
    /// created, nothing about rights, roles, profiles, settings, credentials or checks.
    #[test]
    fn the_provisioning_column() {
        let allowed = [
            ViewUsers,
            AddUser,
            EditUser,
            RemoveUser,
            ViewGroups,
            CreateGroup,
            EditGroup,
            RemoveGroup,
            ManageGroupMembers,
        ];
        for op in Operation::ALL {
            assert_eq!(provisioning_allows(op), allowed.contains(&op), "{op:?}");
        }
    }

    #[test]
    fn no_rights_no_operations() {
        for op in Operation::ALL {
            assert!(!authorize(&[], op, &own_target(op)), "{op:?}");
        }
    }

    #[test]
    fn scoped_rights_cover_only_their_objects() {
        let product = [AdminRight::Product {
            application: "commerce-admin".into(),
        }];
        assert!(authorize(
            &product,
            ManageRoles,
            &Target::Application("commerce-admin")
        ));
        assert!(!authorize(
            &product,
            ManageRoles,
            &Target::Application("cloud-project")
        ));
        assert!(authorize(
            &product,
            AssignProfile,
            &Target::Profile {
                id: "any",
                application: "commerce-admin"
            }
        ));
        assert!(!authorize(
            &product,
            AssignProfile,
            &Target::Profile {
                id: "any",
                application: "site-search"
            }
        ));
        let profile = [AdminRight::ProductProfile {
            profile_id: "p1".into(),
        }];
        assert!(authorize(
            &profile,
            AssignProfile,
            &Target::Profile {
                id: "p1",
                application: "x"
            }
        ));
        assert!(!authorize(
            &profile,
            AssignProfile,
            &Target::Profile {
                id: "p2",
                application: "x"
            }
        ));
        let group = [AdminRight::UserGroup {
            group_id: "g1".into(),
        }];
        assert!(authorize(&group, ManageGroupMembers, &Target::Group("g1")));
        assert!(!authorize(&group, ManageGroupMembers, &Target::Group("g2")));
    }

    #[test]
    fn delegation_only_at_or_below_own_rights() {
        let product = [AdminRight::Product {
            application: "commerce-admin".into(),
        }];
        let e = OrgKind::Enterprise;
        assert!(may_delegate(
            &product,
            &AdminRight::Product {
                application: "commerce-admin".into()
            },
            e,
            None
        )
        .is_ok());
        assert!(may_delegate(
            &product,
            &AdminRight::ProductProfile {
                profile_id: "p1".into()
            },
            e,
            Some("commerce-admin")
        )
        .is_ok());
        assert!(may_delegate(
            &product,
            &AdminRight::UserGroup {
                group_id: "g".into()
            },
            e,
            None
        )
        .is_ok());
        for forbidden in [
            AdminRight::System,
            AdminRight::Deployment,
            AdminRight::Support,
            AdminRight::Storage,
            AdminRight::Product {
                application: "cloud-project".into(),
            },
        ] {
            assert_eq!(
                may_delegate(&product, &forbidden, e, None)
                    .unwrap_err()
                    .rule,
                "above_own_rights",
                "{forbidden:?}"
            );
        }
        assert!(may_delegate(
            &product,
            &AdminRight::ProductProfile {
                profile_id: "p9".into()
            },
            e,
            Some("site-search")
        )
        .is_err());
        let profile = [AdminRight::ProductProfile {
            profile_id: "p1".into(),
        }];
        assert!(may_delegate(
            &profile,
            &AdminRight::ProductProfile {
                profile_id: "p1".into()
            },
            e,
            Some("x")
        )
        .is_ok());
        assert!(may_delegate(
            &profile,
            &AdminRight::ProductProfile {
                profile_id: "p2".into()
            },
            e,
            Some("x")
        )
        .is_err());
        assert!(may_delegate(
            &profile,
            &AdminRight::Product {
                application: "x".into()
            },
            e,
            None
        )
        .is_err());
        let group = [AdminRight::UserGroup {
            group_id: "g1".into(),
        }];
        assert!(may_delegate(
            &group,
            &AdminRight::UserGroup {
                group_id: "g1".into()
            },
            e,
            None
        )
        .is_ok());
        assert!(may_delegate(
            &group,
            &AdminRight::UserGroup {
                group_id: "g2".into()
            },
            e,
            None
        )
        .is_err());
        for r in [
            AdminRight::Deployment,
            AdminRight::Support,
            AdminRight::Storage,
        ] {
            assert!(
                may_delegate(std::slice::from_ref(&r), &r, e, None).is_err(),
                "{r:?} grants nothing"
            );
        }
        assert!(may_delegate(&[AdminRight::System], &AdminRight::Deployment, e, None).is_ok());
    }

    #[test]
    fn teams_organisations_have_only_system_admins() {
        let t = OrgKind::Teams;
        assert!(may_delegate(&[AdminRight::System], &AdminRight::System, t, None).is_ok());
        let e = may_delegate(&[AdminRight::System], &AdminRight::Support, t, None).unwrap_err();
        assert_eq!(e.rule, "teams_org");
    }

    #[test]
    fn rights_round_trip_through_rows() {
        for k in KINDS {
            let r = sample(k);
            let (kind, target) = r.to_row();
            assert_eq!(AdminRight::from_row(kind, &target), Some(r));
        }
        assert_eq!(AdminRight::from_row("emperor", ""), None);
    }
}
