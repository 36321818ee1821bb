//! The one rule every change of access obeys, written once:
//!
//! > **An administrative operation by A changes access only within what A administers, and never
//! > the access of A — nor of anyone A's delegated rights come from.**
//!
//! Seed 001: users "cannot elevate their own permissions". Seed 004: admins act on the products,
//! profiles and groups assigned to them, and hand out rights only at or below their own. The
//! second half of the rule closes the sequences a single-call check misses: an admin who empowers
//! a second account (a group admin, a product admin) cannot have that account raise the first
//! admin's access, because the second account's authority over that person came from them.
//!
//! Use cases describe what they are about to write as a [`Change`] — the operation, the objects
//! it reaches and whose access it alters — built from rows read inside their transaction, and ask
//! [`judge`]. Only a yes yields an [`Approved`], and the server commits a change of access only
//! with one (`Directory::commit_rights`). Access here means roles (direct or through groups),
//! group memberships, profile seats and admin rights.
//!
//! Architecture Invariant: no I/O. The server loads the acting admin's rights, where their rights
//! came from, and what the guarded people hold ([`Holdings`]); everything is decided here.

use crate::admin::{authorize, may_delegate, AdminRight, Operation, OrgKind, Target};
use crate::authz::ProfileId;
use crate::model::{GroupId, RoleId, UserId};
use crate::Error;

/// What one guarded person holds: enough to tell whether a change reaches their access.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Holdings {
    pub user: Option<UserId>,
    /// Roles held directly, with their application.
    pub direct_roles: Vec<(RoleId, String)>,
    /// Groups the person is a member of.
    pub groups: Vec<GroupId>,
    /// Roles held through a group: (group, role, application).
    pub group_roles: Vec<(GroupId, RoleId, String)>,
    /// Profile seats held directly or through a group: (profile, application).
    pub seats: Vec<(ProfileId, String)>,
    /// Roles held through a seat: (profile, role) for each role the profile bundles.
    pub seat_roles: Vec<(ProfileId, RoleId)>,
}

impl Holdings {
    /// Does `effect` alter this person's access?
    pub fn touched_by(&self, effect: &Effect) -> bool {
        match effect {
            Effect::User(u) => self.user == Some(*u),
            Effect::Members(g) => self.groups.contains(g),
            Effect::RoleHolders(r) => {
                self.direct_roles.iter().any(|(id, _)| id == r)
                    || self.group_roles.iter().any(|(_, id, _)| id == r)
                    || self.seat_roles.iter().any(|(_, id)| id == r)
            }
            Effect::SeatHolders(p) => self.seats.iter().any(|(id, _)| id == p),
            Effect::ApplicationUsers(app) => {
                self.direct_roles.iter().any(|(_, a)| a == app)
                    || self.group_roles.iter().any(|(_, _, a)| a == app)
                    || self.seats.iter().any(|(_, a)| a == app)
            }
        }
    }
}

/// Whose access a change alters, named by what they hold rather than listed, so that a change
/// reaching thousands of people costs nothing to describe.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Effect {
    /// One person: their assignments, memberships, seats, admin rights or status.
    User(UserId),
    /// Every member of a group: its roles, its seats, its deletion.
    Members(GroupId),
    /// Everyone holding a role, directly, through a group or through a profile seat: its
    /// grants, scopes or deletion.
    RoleHolders(RoleId),
    /// Everyone holding a seat in a profile: its role bundle, its deletion.
    SeatHolders(ProfileId),
    /// Everyone with a role or seat in an application: its scope tree, its licence gate.
    ApplicationUsers(String),
}

/// What a group carries, for handing out a right over it: the applications of its roles and
/// the profiles it is assigned to.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Carried {
    pub applications: Vec<String>,
    pub profiles: Vec<(ProfileId, String)>,
}

/// An object a change reaches; the acting admin must administer each one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reach {
    /// The organisation as a whole (user lifecycle, settings, credentials, deleting groups):
    /// the operation's row of the permission matrix decides.
    Organization,
    /// An application's roles, scopes, role assignments and licence gate.
    Application(String),
    /// A profile's seats, name, description and role bundle.
    Profile { id: ProfileId, application: String },
    /// A profile's existence and seat quota: licensing, so product admins only.
    Licence { application: String },
    /// A group: its membership, name and description.
    Group(GroupId),
    /// An admin right handed out or taken away, with what it would cover.
    Right {
        right: AdminRight,
        org_kind: OrgKind,
        /// The application of a profile right's profile.
        profile_app: Option<String>,
        /// For a group right: what the group carries; the actor must administer all of it.
        carried: Carried,
    },
    /// The account owner's password, second factor, lock, sessions or e-mail: only the owner
    /// (or the operator, who acts without a person) changes them.
    OwnerCredentials { owner: UserId },
    /// The sign-in name or e-mail (where password resets go) of a person holding admin rights,
    /// or bringing such a person back from deactivation: whoever does either controls those
    /// rights. The operation's row decides for administrators; a SCIM client never may, so a
    /// provisioning token cannot redirect or revive an administrator's account.
    AdminAccount { user: UserId },
    /// An open invitation resent or withdrawn, with who sent its live token (`None`: the
    /// operator, the server, a SCIM client, or before senders were kept). Inviting is open to
    /// product and profile admins, but another admin's invitation is not theirs to cancel or
    /// re-send; System admins (and the operator, who acts as one) may act on any.
    Invitation { sent_by: Option<UserId> },
}

/// A change about to be written, described for [`judge`] (and for the audit trail).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Change {
    pub op: Operation,
    pub reach: Vec<Reach>,
    pub effects: Vec<Effect>,
}

impl Change {
    pub fn new(op: Operation) -> Change {
        Change {
            op,
            reach: Vec::new(),
            effects: Vec::new(),
        }
    }

    pub fn reaching(mut self, reach: Reach) -> Change {
        self.reach.push(reach);
        self
    }

    pub fn affecting(mut self, effect: Effect) -> Change {
        self.effects.push(effect);
        self
    }
}

/// Who is acting, with what they may do and whose access is out of their reach.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Actor {
    /// The person or service account acting; `None` for the operator's tokens and SCIM clients.
    pub user: Option<UserId>,
    pub rights: Vec<AdminRight>,
    /// What the actor holds, and what every person upstream of them holds (the people whose
    /// delegation gave the actor their rights, transitively). None of it may change.
    pub guarded: Vec<Holdings>,
    /// Set when a provisioning client (SCIM) acts: it has no admin rights and acts by the
    /// provisioning column of the matrix (`admin::provisioning_allows`) instead.
    pub provisioner: Option<Provisioner>,
}

/// A SCIM client acting: which of the groups a change reaches it created (the only groups whose
/// name and membership it may change). Its creator, and whoever they answer to, are guarded
/// like the creator of an API credential.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Provisioner {
    pub client: String,
    pub own_groups: Vec<GroupId>,
}

impl Actor {
    /// The server's operator (bootstrap and organisation tokens, `init`, `--demo`): acts as a
    /// System admin and is nobody, so no one's access is guarded from it.
    pub fn operator() -> Actor {
        Actor {
            user: None,
            rights: vec![AdminRight::System],
            guarded: Vec::new(),
            provisioner: None,
        }
    }
}

/// Proof that [`judge`] allowed these changes; only `judge` makes one. It carries how many
/// changes it covers, not the changes: an import of 100,000 rows combines 200,000 of them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Approved {
    changes: usize,
}

impl Approved {
    /// How many judged changes this proof covers.
    pub fn count(&self) -> usize {
        self.changes
    }

    /// Several approved changes committed together (bulk operations).
    pub fn and(self, other: Approved) -> Approved {
        Approved {
            changes: self.changes + other.changes,
        }
    }
}

/// Whose delegation a right's authority comes from: System admins are peers and answer to
/// no one; any other right answers to whoever granted it.
pub fn answers_to_grantor(right: &AdminRight) -> bool {
    *right != AdminRight::System
}

/// Does a set of rights administer an application (its roles, scopes and assignments)?
pub fn administers_application(rights: &[AdminRight], application: &str) -> bool {
    rights.iter().any(|r| match r {
        AdminRight::System => true,
        AdminRight::Product { application: a } => a == application,
        _ => false,
    })
}

/// May someone resend or withdraw an invitation? A System admin, or whoever sent its live
/// token. [`judge`] enforces it (`Reach::Invitation`); the console asks it only to decide which
/// buttons to show.
pub fn handles_invitation(
    rights: &[AdminRight],
    actor: Option<UserId>,
    sent_by: Option<UserId>,
) -> bool {
    rights.contains(&AdminRight::System) || (actor.is_some() && actor == sent_by)
}

/// Does a set of rights administer a profile (its seats and bundle)?
pub fn administers_profile(rights: &[AdminRight], id: ProfileId, application: &str) -> bool {
    let id = id.to_string();
    rights.iter().any(|r| match r {
        AdminRight::System => true,
        AdminRight::Product { application: a } => a == application,
        AdminRight::ProductProfile { profile_id } => *profile_id == id,
        _ => false,
    })
}

fn refuse(code: &'static str, message: impl Into<String>) -> Error {
    Error::Forbidden {
        code,
        message: message.into(),
    }
}

fn op_name(op: Operation) -> String {
    serde_json::to_value(op)
        .ok()
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_default()
}

/// The one enforcement point: may `actor` make `change`?
pub fn judge(actor: &Actor, change: Change) -> Result<Approved, Error> {
    for reach in &change.reach {
        reach_allowed(actor, change.op, reach)?;
    }
    for held in &actor.guarded {
        if let Some(effect) = change.effects.iter().find(|e| held.touched_by(e)) {
            let own = held.user.is_some() && held.user == actor.user;
            return Err(if own {
                refuse(
                    "own_access",
                    format!(
                        "nobody changes their own access ({}); another admin entitled to it must",
                        describe(effect)
                    ),
                )
            } else {
                refuse(
                    "upstream_access",
                    format!(
                        "your rights were delegated by user {}: you cannot change their access ({}); another admin entitled to it must",
                        held.user.map(|u| u.to_string()).unwrap_or_default(),
                        describe(effect)
                    ),
                )
            });
        }
    }
    Ok(Approved { changes: 1 })
}

fn describe(effect: &Effect) -> &'static str {
    match effect {
        Effect::User(_) => "roles, memberships, seats, admin rights or status",
        Effect::Members(_) => "a group they belong to",
        Effect::RoleHolders(_) => "a role they hold",
        Effect::SeatHolders(_) => "a profile they hold a seat in",
        Effect::ApplicationUsers(_) => "an application they use",
    }
}

/// What a SCIM client may reach: the organisation (users, new groups) for the operations of its
/// column, and a group only when it created it. Roles, profiles, licences, admin rights and the
/// owner's credentials are administrators' decisions.
fn provisioning_reach(p: &Provisioner, op: Operation, reach: &Reach) -> Result<(), Error> {
    let outside = |what: &str| {
        refuse(
            "provisioning_scope",
            format!("a SCIM client provisions users and the membership of groups it created; {what} stays an administrator's decision"),
        )
    };
    if !crate::admin::provisioning_allows(op) {
        return Err(outside(&op_name(op).replace('_', " ")));
    }
    match reach {
        Reach::Organization => Ok(()),
        Reach::Group(g) if p.own_groups.contains(g) => Ok(()),
        Reach::Group(g) => Err(refuse(
            "not_provisioned_group",
            format!("group {g} was not created by this SCIM client: its membership is managed in rolecall"),
        )),
        Reach::Application(app) => Err(outside(&format!("access to {app}"))),
        Reach::Profile { .. } | Reach::Licence { .. } => Err(outside("a product profile")),
        Reach::Right { .. } => Err(outside("an admin right")),
        Reach::OwnerCredentials { .. } => Err(outside("the account owner's sign-in identity")),
        Reach::Invitation { .. } => Err(outside("an invitation")),
        Reach::AdminAccount { user } => Err(refuse(
            "administrator_account",
            format!("user {user} holds admin rights: their e-mail, sign-in name and reactivation are changed by a System admin in rolecall, not by a SCIM client"),
        )),
    }
}

fn reach_allowed(actor: &Actor, op: Operation, reach: &Reach) -> Result<(), Error> {
    if let Some(p) = &actor.provisioner {
        return provisioning_reach(p, op, reach);
    }
    let rights = actor.rights.as_slice();
    let denied = || {
        refuse(
            "admin_required",
            format!(
                "your administration rights do not allow {} here",
                op_name(op)
            ),
        )
    };
    match reach {
        Reach::Organization => authorize(rights, op, &Target::Organization)
            .then_some(())
            .ok_or_else(denied),
        Reach::Application(app) => authorize(rights, op, &Target::Application(app))
            .then_some(())
            .ok_or_else(denied),
        Reach::Profile { id, application } => {
            let id = id.to_string();
            authorize(
                rights,
                op,
                &Target::Profile {
                    id: &id,
                    application,
                },
            )
            .then_some(())
            .ok_or_else(denied)
        }
        Reach::Licence { application } => administers_application(rights, application)
            .then_some(())
            .ok_or_else(|| {
                refuse(
                    "admin_required",
                    format!("profiles and seat quotas of {application} are set by its product admins"),
                )
            }),
        Reach::Group(group) => {
            let id = group.to_string();
            authorize(rights, op, &Target::Group(&id))
                .then_some(())
                .ok_or_else(denied)
        }
        Reach::Right {
            right,
            org_kind,
            profile_app,
            carried,
        } => {
            may_delegate(rights, right, *org_kind, profile_app.as_deref()).map_err(|e| {
                Error::Forbidden {
                    code: "above_own_rights",
                    message: e.message,
                }
            })?;
            if let Some(app) = carried
                .applications
                .iter()
                .find(|a| !administers_application(rights, a))
            {
                return Err(refuse(
                    "group_carries_more",
                    format!("the group carries roles of {app}, which you do not administer: only someone administering everything a group carries hands out rights over it"),
                ));
            }
            if let Some((id, app)) = carried
                .profiles
                .iter()
                .find(|(id, app)| !administers_profile(rights, *id, app))
            {
                return Err(refuse(
                    "group_carries_more",
                    format!("the group holds seats in profile {id} of {app}, which you do not administer: only someone administering everything a group carries hands out rights over it"),
                ));
            }
            Ok(())
        }
        // The operation's own reach (`Organization`) already decided for administrators.
        Reach::AdminAccount { .. } => Ok(()),
        Reach::OwnerCredentials { owner } => match actor.user {
            None => Ok(()),
            Some(u) if u == *owner => Ok(()),
            Some(_) => Err(refuse(
                "owner_only",
                "only the account owner changes the owner's password, second factor, sessions or e-mail",
            )),
        },
        // The operator, the server and policies act as System admins (`Actor::operator`).
        Reach::Invitation { sent_by } => {
            if handles_invitation(rights, actor.user, *sent_by) {
                Ok(())
            } else {
                Err(refuse(
                    "invitation_of_another",
                    "only a System admin or whoever sent it resends or withdraws an invitation",
                ))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use uuid::Uuid;

    fn uid(n: u128) -> UserId {
        UserId(Uuid::from_u128(n))
    }
    fn gid(n: u128) -> GroupId {
        GroupId(Uuid::from_u128(1000 + n))
    }
    fn rid(n: u128) -> RoleId {
        RoleId(Uuid::from_u128(2000 + n))
    }
    fn pid(n: u128) -> ProfileId {
        ProfileId(Uuid::from_u128(3000 + n))
    }

    fn actor(user: u128, rights: Vec<AdminRight>) -> Actor {
        Actor {
            user: Some(uid(user)),
            rights,
            guarded: vec![Holdings {
                user: Some(uid(user)),
                ..Default::default()
            }],
            provisioner: None,
        }
    }

    /// A SCIM client created by user 1, which created group 1.
    fn scim() -> Actor {
        Actor {
            user: None,
            rights: Vec::new(),
            guarded: vec![Holdings {
                user: Some(uid(1)),
                ..Default::default()
            }],
            provisioner: Some(Provisioner {
                client: "entra".into(),
                own_groups: vec![gid(1)],
            }),
        }
    }

    #[test]
    fn a_scim_client_provisions_users_and_its_own_groups_only() {
        let s = scim();
        let user_op = |op| {
            Change::new(op)
                .reaching(Reach::Organization)
                .affecting(Effect::User(uid(2)))
        };
        for op in [
            Operation::AddUser,
            Operation::EditUser,
            Operation::RemoveUser,
            Operation::CreateGroup,
        ] {
            assert_eq!(code(judge(&s, user_op(op))), "ok", "{op:?}");
        }
        let join = |g| {
            Change::new(Operation::ManageGroupMembers)
                .reaching(Reach::Group(g))
                .affecting(Effect::User(uid(2)))
        };
        assert_eq!(code(judge(&s, join(gid(1)))), "ok");
        assert_eq!(code(judge(&s, join(gid(2)))), "not_provisioned_group");
        for op in [
            Operation::ManageSettings,
            Operation::ManageAdmins,
            Operation::ManageCredentials,
            Operation::TransferOwnership,
            Operation::BulkAddUsers,
        ] {
            assert_eq!(code(judge(&s, user_op(op))), "provisioning_scope", "{op:?}");
        }
        // What a provisioned group carries stays an administrator's decision.
        let role_to_group = Change::new(Operation::AssignRole)
            .reaching(Reach::Application("commerce-admin".into()))
            .affecting(Effect::Members(gid(1)));
        assert_eq!(code(judge(&s, role_to_group)), "provisioning_scope");
        let seat = Change::new(Operation::AssignProfile)
            .reaching(Reach::Profile {
                id: pid(1),
                application: "commerce-admin".into(),
            })
            .affecting(Effect::Members(gid(1)));
        assert_eq!(code(judge(&s, seat)), "provisioning_scope");
        let right = Change::new(Operation::EditUser)
            .reaching(Reach::Right {
                right: AdminRight::System,
                org_kind: OrgKind::Enterprise,
                profile_app: None,
                carried: Carried::default(),
            })
            .affecting(Effect::User(uid(2)));
        assert_eq!(code(judge(&s, right)), "provisioning_scope");
        let owner = Change::new(Operation::EditUser)
            .reaching(Reach::Organization)
            .reaching(Reach::OwnerCredentials { owner: uid(3) });
        assert_eq!(code(judge(&s, owner)), "provisioning_scope");
    }

    #[test]
    fn only_administrators_redirect_or_revive_an_administrators_account() {
        let edit = || {
            Change::new(Operation::EditUser)
                .reaching(Reach::Organization)
                .reaching(Reach::AdminAccount { user: uid(4) })
        };
        assert_eq!(code(judge(&scim(), edit())), "administrator_account");
        assert_eq!(
            code(judge(&actor(2, vec![AdminRight::System]), edit())),
            "ok"
        );
        // The reach adds nothing for administrators: the operation's row still decides.
        let group_admin = actor(
            2,
            vec![AdminRight::UserGroup {
                group_id: gid(1).to_string(),
            }],
        );
        assert_eq!(code(judge(&group_admin, edit())), "admin_required");
    }

    #[test]
    fn only_a_system_admin_or_its_sender_resends_or_withdraws_an_invitation() {
        let handle = |sent_by| {
            Change::new(Operation::AddUser)
                .reaching(Reach::Organization)
                .reaching(Reach::Invitation { sent_by })
        };
        let sys = actor(1, vec![AdminRight::System]);
        assert_eq!(code(judge(&sys, handle(Some(uid(2))))), "ok");
        assert_eq!(code(judge(&sys, handle(None))), "ok");
        let p = actor(2, vec![product("commerce-admin")]);
        assert_eq!(code(judge(&p, handle(Some(uid(2))))), "ok");
        assert_eq!(
            code(judge(&p, handle(Some(uid(3))))),
            "invitation_of_another"
        );
        assert_eq!(code(judge(&p, handle(None))), "invitation_of_another");
        let profile_admin = actor(
            3,
            vec![AdminRight::ProductProfile {
                profile_id: pid(1).to_string(),
            }],
        );
        assert_eq!(code(judge(&profile_admin, handle(Some(uid(3))))), "ok");
        assert_eq!(
            code(judge(&profile_admin, handle(Some(uid(2))))),
            "invitation_of_another"
        );
        // Nobody's own invitation: acting without a person never matches an unknown sender.
        let nobody = Actor {
            user: None,
            rights: vec![product("commerce-admin")],
            guarded: Vec::new(),
            provisioner: None,
        };
        assert_eq!(code(judge(&nobody, handle(None))), "invitation_of_another");
        assert_eq!(code(judge(&Actor::operator(), handle(Some(uid(2))))), "ok");
        assert_eq!(code(judge(&Actor::operator(), handle(None))), "ok");
        assert_eq!(code(judge(&scim(), handle(None))), "provisioning_scope");
        assert_eq!(
            code(judge(&scim(), handle(Some(uid(1))))),
            "provisioning_scope"
        );
    }

    #[test]
    fn a_scim_client_never_changes_the_access_of_its_creator() {
        let s = scim();
        let deactivate = Change::new(Operation::RemoveUser)
            .reaching(Reach::Organization)
            .affecting(Effect::User(uid(1)));
        assert_eq!(code(judge(&s, deactivate)), "upstream_access");
    }

    fn product(app: &str) -> AdminRight {
        AdminRight::Product {
            application: app.into(),
        }
    }

    fn assign(user: UserId, app: &str) -> Change {
        Change::new(Operation::AssignRole)
            .reaching(Reach::Application(app.into()))
            .affecting(Effect::User(user))
    }

    fn code(r: Result<Approved, Error>) -> &'static str {
        match r {
            Ok(_) => "ok",
            Err(Error::Forbidden { code, .. }) => code,
            Err(_) => "other",
        }
    }

    #[test]
    fn a_profile_admin_assigns_no_roles_of_any_application() {
        let a = actor(
            1,
            vec![AdminRight::ProductProfile {
                profile_id: pid(1).to_string(),
            }],
        );
        for app in ["commerce-admin", "cloud-project", "site-search"] {
            assert_eq!(
                code(judge(&a, assign(uid(2), app))),
                "admin_required",
                "{app}"
            );
            assert_eq!(
                code(judge(&a, assign(uid(1), app))),
                "admin_required",
                "{app}"
            );
        }
        let seat = Change::new(Operation::AssignProfile)
            .reaching(Reach::Profile {
                id: pid(1),
                application: "commerce-admin".into(),
            })
            .affecting(Effect::User(uid(2)));
        assert_eq!(code(judge(&a, seat)), "ok");
        let other = Change::new(Operation::AssignProfile)
            .reaching(Reach::Profile {
                id: pid(2),
                application: "commerce-admin".into(),
            })
            .affecting(Effect::User(uid(2)));
        assert_eq!(code(judge(&a, other)), "admin_required");
    }

    #[test]
    fn nobody_changes_their_own_access_not_even_a_system_admin() {
        let a = actor(1, vec![AdminRight::System]);
        assert_eq!(code(judge(&a, assign(uid(2), "cloud-project"))), "ok");
        assert_eq!(
            code(judge(&a, assign(uid(1), "cloud-project"))),
            "own_access"
        );
        let p = actor(1, vec![product("commerce-admin")]);
        assert_eq!(
            code(judge(&p, assign(uid(1), "commerce-admin"))),
            "own_access"
        );
        assert_eq!(code(judge(&p, assign(uid(2), "commerce-admin"))), "ok");
        assert_eq!(
            code(judge(&p, assign(uid(2), "cloud-project"))),
            "admin_required"
        );
    }

    #[test]
    fn a_group_admin_does_not_join_their_own_group() {
        let mut a = actor(
            1,
            vec![AdminRight::UserGroup {
                group_id: gid(1).to_string(),
            }],
        );
        let join = |u| {
            Change::new(Operation::ManageGroupMembers)
                .reaching(Reach::Group(gid(1)))
                .affecting(Effect::User(u))
        };
        assert_eq!(code(judge(&a, join(uid(1)))), "own_access");
        assert_eq!(code(judge(&a, join(uid(2)))), "ok");
        // Leaving is a change of their own access too.
        a.guarded[0].groups.push(gid(1));
        assert_eq!(code(judge(&a, join(uid(1)))), "own_access");
        let other_group = Change::new(Operation::ManageGroupMembers)
            .reaching(Reach::Group(gid(2)))
            .affecting(Effect::User(uid(2)));
        assert_eq!(code(judge(&a, other_group)), "admin_required");
    }

    #[test]
    fn changes_reaching_a_group_role_or_profile_the_actor_holds_are_refused() {
        let mut a = actor(1, vec![product("commerce-admin")]);
        a.guarded[0].groups.push(gid(7));
        a.guarded[0]
            .group_roles
            .push((gid(7), rid(3), "commerce-admin".into()));
        a.guarded[0].seats.push((pid(4), "commerce-admin".into()));
        let group_role = Change::new(Operation::AssignRole)
            .reaching(Reach::Application("commerce-admin".into()))
            .affecting(Effect::Members(gid(7)));
        assert_eq!(code(judge(&a, group_role)), "own_access");
        let edit_role = Change::new(Operation::ManageRoles)
            .reaching(Reach::Application("commerce-admin".into()))
            .affecting(Effect::RoleHolders(rid(3)));
        assert_eq!(code(judge(&a, edit_role)), "own_access");
        let edit_bundle = Change::new(Operation::EditProfile)
            .reaching(Reach::Profile {
                id: pid(4),
                application: "commerce-admin".into(),
            })
            .affecting(Effect::SeatHolders(pid(4)));
        assert_eq!(code(judge(&a, edit_bundle)), "own_access");
        let scopes = Change::new(Operation::ManageScopes)
            .reaching(Reach::Application("commerce-admin".into()))
            .affecting(Effect::ApplicationUsers("commerce-admin".into()));
        assert_eq!(code(judge(&a, scopes)), "own_access");
        let elsewhere = Change::new(Operation::ManageRoles)
            .reaching(Reach::Application("commerce-admin".into()))
            .affecting(Effect::RoleHolders(rid(9)));
        assert_eq!(code(judge(&a, elsewhere)), "ok");
    }

    #[test]
    fn a_role_bundled_in_a_profile_is_held_by_its_seat_holders() {
        // Found by the rights property: editing a role reached the editor through their seat.
        let mut a = actor(1, vec![AdminRight::System]);
        a.guarded[0].seats.push((pid(1), "cloud-project".into()));
        a.guarded[0].seat_roles.push((pid(1), rid(5)));
        let edit = Change::new(Operation::ManageRoles)
            .reaching(Reach::Application("cloud-project".into()))
            .affecting(Effect::RoleHolders(rid(5)));
        assert_eq!(code(judge(&a, edit)), "own_access");
    }

    #[test]
    fn authority_never_flows_back_to_its_source() {
        // P (product admin of commerce-admin) made S a group admin; S cannot touch P.
        let s = Actor {
            user: Some(uid(2)),
            rights: vec![AdminRight::UserGroup {
                group_id: gid(1).to_string(),
            }],
            guarded: vec![
                Holdings {
                    user: Some(uid(2)),
                    ..Default::default()
                },
                Holdings {
                    user: Some(uid(1)),
                    ..Default::default()
                },
            ],
            provisioner: None,
        };
        let add_p = Change::new(Operation::ManageGroupMembers)
            .reaching(Reach::Group(gid(1)))
            .affecting(Effect::User(uid(1)));
        assert_eq!(code(judge(&s, add_p)), "upstream_access");
        let add_other = Change::new(Operation::ManageGroupMembers)
            .reaching(Reach::Group(gid(1)))
            .affecting(Effect::User(uid(3)));
        assert_eq!(code(judge(&s, add_other)), "ok");
    }

    #[test]
    fn a_right_over_a_group_needs_everything_the_group_carries() {
        let p = actor(1, vec![product("commerce-admin")]);
        let grant = |carried: Carried| {
            Change::new(Operation::ManageAdmins)
                .reaching(Reach::Right {
                    right: AdminRight::UserGroup {
                        group_id: gid(1).to_string(),
                    },
                    org_kind: OrgKind::Enterprise,
                    profile_app: None,
                    carried,
                })
                .affecting(Effect::User(uid(2)))
        };
        assert_eq!(code(judge(&p, grant(Carried::default()))), "ok");
        let own_app = Carried {
            applications: vec!["commerce-admin".into()],
            profiles: vec![(pid(1), "commerce-admin".into())],
        };
        assert_eq!(code(judge(&p, grant(own_app))), "ok");
        let cloud = Carried {
            applications: vec!["commerce-admin".into(), "cloud-project".into()],
            profiles: vec![],
        };
        assert_eq!(code(judge(&p, grant(cloud))), "group_carries_more");
        let cloud_seat = Carried {
            applications: vec![],
            profiles: vec![(pid(2), "cloud-project".into())],
        };
        assert_eq!(code(judge(&p, grant(cloud_seat))), "group_carries_more");
        let sys = actor(1, vec![AdminRight::System]);
        let everything = Carried {
            applications: vec!["cloud-project".into()],
            profiles: vec![(pid(2), "cloud-project".into())],
        };
        assert_eq!(code(judge(&sys, grant(everything))), "ok");
    }

    #[test]
    fn rights_are_handed_out_only_at_or_below_ones_own() {
        let p = actor(1, vec![product("commerce-admin")]);
        let grant = |right| {
            Change::new(Operation::ManageAdmins)
                .reaching(Reach::Right {
                    right,
                    org_kind: OrgKind::Enterprise,
                    profile_app: None,
                    carried: Carried::default(),
                })
                .affecting(Effect::User(uid(2)))
        };
        assert_eq!(
            code(judge(&p, grant(AdminRight::System))),
            "above_own_rights"
        );
        assert_eq!(
            code(judge(&p, grant(product("cloud-project")))),
            "above_own_rights"
        );
        assert_eq!(code(judge(&p, grant(product("commerce-admin")))), "ok");
        let own = Change::new(Operation::ManageAdmins)
            .reaching(Reach::Right {
                right: product("commerce-admin"),
                org_kind: OrgKind::Enterprise,
                profile_app: None,
                carried: Carried::default(),
            })
            .affecting(Effect::User(uid(1)));
        assert_eq!(code(judge(&p, own)), "own_access");
    }

    #[test]
    fn licences_are_set_by_product_admins_only() {
        let profile_admin = actor(
            1,
            vec![AdminRight::ProductProfile {
                profile_id: pid(1).to_string(),
            }],
        );
        let quota = Change::new(Operation::EditProfile)
            .reaching(Reach::Profile {
                id: pid(1),
                application: "commerce-admin".into(),
            })
            .reaching(Reach::Licence {
                application: "commerce-admin".into(),
            });
        assert_eq!(code(judge(&profile_admin, quota.clone())), "admin_required");
        let p = actor(2, vec![product("commerce-admin")]);
        assert_eq!(code(judge(&p, quota)), "ok");
    }

    #[test]
    fn only_the_owner_touches_the_owners_credentials() {
        let sys = actor(1, vec![AdminRight::System]);
        let reset = |owner| {
            Change::new(Operation::ManageSignIn)
                .reaching(Reach::OwnerCredentials { owner })
                .affecting(Effect::User(owner))
        };
        assert_eq!(code(judge(&sys, reset(uid(9)))), "owner_only");
        assert_eq!(code(judge(&Actor::operator(), reset(uid(9)))), "ok");
    }

    #[test]
    fn approvals_combine_for_bulk_commits() {
        let sys = actor(1, vec![AdminRight::System]);
        let a = judge(&sys, assign(uid(2), "commerce-admin")).expect("allowed");
        let b = judge(&sys, assign(uid(3), "site-search")).expect("allowed");
        assert_eq!(a.and(b).count(), 2);
    }
}
