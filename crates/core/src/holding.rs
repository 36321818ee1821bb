//! The rules about which roles a person holds, whichever way they hold them (directly, as a
//! member of a group, or through a seat in a product profile):
//!
//! * **one role per user** (seed 001: "A user can only be assigned one role at a time"): in an
//!   application whose catalogue says `one_role_per_user`, a change that would leave someone
//!   holding two different roles of it is refused, naming what they hold and how;
//! * **keep an administrator** (seed 001: "There must always be at least one active admin user
//!   with full Administrator access"): in an application whose catalogue says
//!   `keep_an_administrator`, the last active holder of its `Administrators` role cannot lose it
//!   (unassigned, through a group, by deactivation or deletion). The rule is "never remove the last
//!   one", not "always have one": a fresh organisation has no holder and nothing is refused.
//!
//! Every path that gives or takes roles (direct assignment, group membership, group roles,
//! profile seats and bundles, and bulk and SCIM on top of them) loads what the people concerned
//! hold inside its transaction and asks these functions, so the rules live in one place.
//!
//! Architecture Invariant: no I/O; names are passed in so refusals can say who and what.

use crate::authz::ProfileId;
use crate::model::{GroupId, RoleId, UserId};
use crate::Error;

/// How a person holds a role, with the name to show.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HeldVia {
    Direct,
    Group { id: GroupId, name: String },
    Profile { id: ProfileId, name: String },
}

impl HeldVia {
    fn describe(&self) -> String {
        match self {
            HeldVia::Direct => "directly".to_string(),
            HeldVia::Group { name, .. } => format!("through group {name}"),
            HeldVia::Profile { name, .. } => format!("through profile {name}"),
        }
    }
}

/// One role a person holds (or would gain) and how.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HeldRole {
    pub role: RoleId,
    pub role_name: String,
    pub application: String,
    pub via: HeldVia,
}

fn list(items: &[&HeldRole]) -> String {
    let parts: Vec<String> = items
        .iter()
        .map(|h| format!("{} ({})", h.role_name, h.via.describe()))
        .collect();
    match parts.as_slice() {
        [] => String::new(),
        [one] => one.clone(),
        [rest @ .., last] => format!("{} and {last}", rest.join(", ")),
    }
}

/// May `person` (named `who`), holding `held`, gain `gained`? Refused when, in an application
/// for which `one_role_only` answers true, they would end up with two different roles and the
/// change brings a role they do not hold yet. Gaining a role already held another way is fine
/// (it is still one role), and a person who already holds two (data from before the rule)
/// is not refused a change that adds nothing new.
pub fn one_role_per_user(
    one_role_only: &dyn Fn(&str) -> bool,
    who: &str,
    held: &[HeldRole],
    gained: &[HeldRole],
) -> Result<(), Error> {
    let mut apps: Vec<&str> = gained.iter().map(|g| g.application.as_str()).collect();
    apps.sort_unstable();
    apps.dedup();
    for app in apps.into_iter().filter(|a| one_role_only(a)) {
        let before: Vec<&HeldRole> = held.iter().filter(|h| h.application == app).collect();
        let new: Vec<&HeldRole> = gained
            .iter()
            .filter(|g| g.application == app && !before.iter().any(|h| h.role == g.role))
            .collect();
        if new.is_empty() {
            continue;
        }
        let mut roles: Vec<RoleId> = before.iter().chain(new.iter()).map(|h| h.role).collect();
        roles.sort_unstable();
        roles.dedup();
        if roles.len() < 2 {
            continue;
        }
        let message = if before.is_empty() {
            format!(
                "{app} allows one role per user, and this change would give {who} {}; keep one of them",
                list(&new)
            )
        } else {
            format!(
                "{app} allows one role per user and {who} already holds {}; remove it before giving {}",
                list(&before),
                list(&new)
            )
        };
        return Err(Error::conflict("one_role_per_user", message));
    }
    Ok(())
}

/// One holder of an application's `Administrators` role, one row per way they hold it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Holder {
    pub user: UserId,
    /// What to call them in a refusal (their username).
    pub name: String,
    /// Only active users count: an invited or deactivated one administers nothing.
    pub active: bool,
    pub via: HeldVia,
}

/// What a change takes away from the holders of a role.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Loss {
    /// The person stops counting (deactivated or deleted): every way they hold it.
    Person(UserId),
    /// The direct assignment of one person.
    Direct(UserId),
    /// One person leaves a group.
    Membership { group: GroupId, user: UserId },
    /// The group stops carrying the role (the role removed from it, or the group deleted).
    Group(GroupId),
}

impl Loss {
    /// Does this loss take the role from `h` (in the way `h` holds it)?
    pub fn takes(&self, h: &Holder) -> bool {
        match (self, &h.via) {
            (Loss::Person(u), _) => h.user == *u,
            (Loss::Direct(u), HeldVia::Direct) => h.user == *u,
            (Loss::Membership { group, user }, HeldVia::Group { id, .. }) => {
                h.user == *user && id == group
            }
            (Loss::Group(g), HeldVia::Group { id, .. }) => id == g,
            _ => false,
        }
    }
}

/// May `losses` be applied to the holders of `application`'s Administrators role? Refused
/// when someone active holds it now and nobody active would afterwards; the refusal names
/// the current holders and how they hold it. `what` says what the change does ("deactivating
/// jane").
pub fn keep_an_administrator(
    application: &str,
    holders: &[Holder],
    losses: &[Loss],
    what: &str,
) -> Result<(), Error> {
    let active: Vec<&Holder> = holders.iter().filter(|h| h.active).collect();
    if active.is_empty() {
        return Ok(());
    }
    let remains = active
        .iter()
        .any(|h| !losses.iter().any(|loss| loss.takes(h)));
    if remains {
        return Ok(());
    }
    let mut names: Vec<String> = active
        .iter()
        .map(|h| format!("{} ({})", h.name, h.via.describe()))
        .collect();
    names.dedup();
    Err(Error::conflict(
        "last_administrator",
        format!(
            "{application} must keep an active holder of its Administrators role, and only {} holds it: {what} would leave none. Give Administrators to another active user first",
            names.join(" and ")
        ),
    ))
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
    fn group(n: u128) -> HeldVia {
        HeldVia::Group {
            id: gid(n),
            name: format!("G{n}"),
        }
    }
    fn held(role: u128, app: &str, via: HeldVia) -> HeldRole {
        HeldRole {
            role: rid(role),
            role_name: format!("R{role}"),
            application: app.into(),
            via,
        }
    }
    fn magento_only(app: &str) -> bool {
        app == "commerce-admin"
    }
    fn code(r: Result<(), Error>) -> Option<&'static str> {
        match r {
            Ok(()) => None,
            Err(Error::Conflict { code, .. }) => Some(code),
            Err(e) => panic!("unexpected {e:?}"),
        }
    }
    fn message(r: Result<(), Error>) -> String {
        match r {
            Err(Error::Conflict { message, .. }) => message,
            other => panic!("expected a conflict, got {other:?}"),
        }
    }

    #[test]
    fn a_second_role_is_refused_whichever_way_it_comes() {
        let direct = [held(1, "commerce-admin", HeldVia::Direct)];
        for via in [
            HeldVia::Direct,
            group(1),
            HeldVia::Profile {
                id: ProfileId(Uuid::from_u128(7)),
                name: "Default".into(),
            },
        ] {
            let r = one_role_per_user(
                &magento_only,
                "jane",
                &direct,
                &[held(2, "commerce-admin", via)],
            );
            assert_eq!(code(r), Some("one_role_per_user"));
        }
        let via_group = [held(1, "commerce-admin", group(3))];
        let m = message(one_role_per_user(
            &magento_only,
            "jane",
            &via_group,
            &[held(2, "commerce-admin", HeldVia::Direct)],
        ));
        assert!(
            m.contains("jane already holds R1 (through group G3)"),
            "{m}"
        );
        assert!(m.contains("R2 (directly)"), "{m}");
    }

    #[test]
    fn the_same_role_twice_other_apps_and_legacy_pairs_pass() {
        let h = [held(1, "commerce-admin", HeldVia::Direct)];
        // Same role through a group: still one role.
        assert_eq!(
            code(one_role_per_user(
                &magento_only,
                "j",
                &h,
                &[held(1, "commerce-admin", group(1))]
            )),
            None
        );
        // Another application without the rule.
        assert_eq!(
            code(one_role_per_user(
                &magento_only,
                "j",
                &h,
                &[
                    held(5, "cloud-project", HeldVia::Direct),
                    held(6, "cloud-project", group(2))
                ]
            )),
            None
        );
        // Two roles held from before the rule: a change adding nothing new passes.
        let legacy = [
            held(1, "commerce-admin", HeldVia::Direct),
            held(2, "commerce-admin", group(1)),
        ];
        assert_eq!(
            code(one_role_per_user(
                &magento_only,
                "j",
                &legacy,
                &[held(2, "commerce-admin", HeldVia::Direct)]
            )),
            None
        );
    }

    #[test]
    fn a_change_carrying_two_roles_at_once_is_refused() {
        let m = message(one_role_per_user(
            &magento_only,
            "jane",
            &[],
            &[
                held(1, "commerce-admin", group(1)),
                held(2, "commerce-admin", group(1)),
            ],
        ));
        assert!(
            m.contains("would give jane R1 (through group G1) and R2 (through group G1)"),
            "{m}"
        );
    }

    fn holder(user: u128, active: bool, via: HeldVia) -> Holder {
        Holder {
            user: uid(user),
            name: format!("u{user}"),
            active,
            via,
        }
    }

    #[test]
    fn the_last_active_administrator_stays() {
        let only = [holder(1, true, HeldVia::Direct)];
        for loss in [Loss::Person(uid(1)), Loss::Direct(uid(1))] {
            let m = message(keep_an_administrator(
                "commerce-admin",
                &only,
                &[loss],
                "removed",
            ));
            assert!(m.contains("only u1 (directly) holds it"), "{m}");
        }
        // Someone else's loss, or a membership they do not hold it through, changes nothing.
        assert_eq!(
            code(keep_an_administrator(
                "a",
                &only,
                &[Loss::Person(uid(2))],
                "x"
            )),
            None
        );
        assert_eq!(
            code(keep_an_administrator(
                "a",
                &only,
                &[Loss::Membership {
                    group: gid(1),
                    user: uid(1)
                }],
                "x"
            )),
            None
        );
        // Through a group: leaving it, or the group losing the role, is refused.
        let via_group = [holder(1, true, group(1)), holder(2, false, HeldVia::Direct)];
        for loss in [
            Loss::Membership {
                group: gid(1),
                user: uid(1),
            },
            Loss::Group(gid(1)),
            Loss::Person(uid(1)),
        ] {
            assert_eq!(
                code(keep_an_administrator("a", &via_group, &[loss], "x")),
                Some("last_administrator"),
                "an inactive holder does not count"
            );
        }
    }

    #[test]
    fn another_active_holder_or_no_holder_at_all_lets_the_change_through() {
        let two = [holder(1, true, HeldVia::Direct), holder(2, true, group(1))];
        assert_eq!(
            code(keep_an_administrator(
                "a",
                &two,
                &[Loss::Person(uid(1))],
                "x"
            )),
            None
        );
        assert_eq!(
            code(keep_an_administrator(
                "a",
                &two,
                &[Loss::Person(uid(1)), Loss::Group(gid(1))],
                "x"
            )),
            Some("last_administrator")
        );
        // Holding it two ways: losing one keeps the other.
        let both = [holder(1, true, HeldVia::Direct), holder(1, true, group(1))];
        assert_eq!(
            code(keep_an_administrator(
                "a",
                &both,
                &[Loss::Group(gid(1))],
                "x"
            )),
            None
        );
        // A fresh organisation has no holder: "never remove the last", not "always have one".
        assert_eq!(
            code(keep_an_administrator("a", &[], &[Loss::Group(gid(1))], "x")),
            None
        );
        let inactive_only = [holder(1, false, HeldVia::Direct)];
        assert_eq!(
            code(keep_an_administrator(
                "a",
                &inactive_only,
                &[Loss::Person(uid(1))],
                "x"
            )),
            None
        );
    }
}
