//! Joining the Magento tables into a migration plan ([`MagentoPlan`]): group roles with their
//! allowed ACL resources and (Adobe Commerce) website / store-group scope, and admin users
//! with their one role, status, lock and verbatim password hash.
//!
//! The rule throughout is "never guess": a row whose meaning is uncertain (a role link to a
//! missing role, a rule for an unknown role, a malformed hash, a scope naming a website that
//! is not in the export) is left out of the plan and reported with its table and line, and
//! whatever depends on it (the users of a role left out) is reported too.

use crate::cells::email_shape;
use crate::magento::{MagentoExport, MagentoProblem, MagentoTable, RoleRow};
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet, HashMap};

/// Magento's "allow everything" resource (a sibling of the ACL tree's root).
pub const ALL_RESOURCES: &str = "Magento_Backend::all";

/// What a role may reach in the ACL tree.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", content = "resources", rename_all = "snake_case")]
pub enum ResourceGrant {
    /// `Magento_Backend::all` is allowed.
    All,
    /// Exactly these resource ids are allowed (a grant on a node does not imply its
    /// children in Magento's data: every allowed node has its own row).
    Resources(BTreeSet<String>),
}

/// A store group (Magento's "store") named by codes.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct StoreGroupScope {
    pub website: String,
    pub group: String,
}

/// Where a role applies (Adobe Commerce's role scopes; always `All` on Open Source).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum MagentoScope {
    All,
    Limited {
        /// Websites, by code: the whole website.
        websites: BTreeSet<String>,
        /// Single store groups, by website and group code.
        store_groups: BTreeSet<StoreGroupScope>,
        /// Store views under those websites and groups, by code (empty when the `store`
        /// table was not given).
        store_views: BTreeSet<String>,
    },
}

/// A Magento group role to create in rolecall.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MagentoRole {
    pub role_id: u32,
    /// `authorization_role` line.
    pub line: u64,
    pub name: String,
    pub resources: ResourceGrant,
    pub scope: MagentoScope,
}

/// A Magento admin user to create in rolecall.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MagentoUser {
    pub user_id: u32,
    /// `admin_user` line.
    pub line: u64,
    pub username: String,
    pub email: String,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    /// `is_active = 1`.
    pub active: bool,
    /// `lock_expires` as written (`YYYY-MM-DD HH:MM:SS`, UTC in Magento); whether it is
    /// still in the future is the server's call, since only it reads the clock.
    pub lock_expires: Option<String>,
    pub interface_locale: Option<String>,
    /// `hash:salt:version` exactly as stored; the server verifies it at first sign-in.
    pub password_hash: String,
    /// The user's one group role (`role_id` of a [`MagentoRole`] in the same plan).
    pub role_id: u32,
    pub role_name: String,
}

/// What happens to second factors.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SecondFactor {
    /// Magento encrypts 2FA secrets with its deployment key, which rolecall does not have:
    /// every migrated user must enrol a second factor again.
    EnrolAgain,
}

/// The migration, as data: what to create, and what could not be mapped.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MagentoPlan {
    pub roles: Vec<MagentoRole>,
    pub users: Vec<MagentoUser>,
    /// Every row left out, sorted by table and line.
    pub problems: Vec<MagentoProblem>,
    /// Things the operator should know that are not row problems.
    pub notices: Vec<String>,
    pub second_factor: SecondFactor,
}

struct Ctx {
    problems: Vec<MagentoProblem>,
}

impl Ctx {
    fn report(&mut self, table: MagentoTable, line: u64, reason: impl Into<String>) {
        self.problems.push(MagentoProblem {
            table,
            line,
            reason: reason.into(),
        });
    }
}

/// Indexes rows by id; an id seen twice is ambiguous and indexed as `None`.
fn index<'a, T>(
    ctx: &mut Ctx,
    table: MagentoTable,
    rows: &'a [T],
    id: impl Fn(&T) -> u32,
    line: impl Fn(&T) -> u64,
) -> HashMap<u32, Option<&'a T>> {
    let mut map: HashMap<u32, Option<&'a T>> = HashMap::new();
    for row in rows {
        let key = id(row);
        if let Some(slot) = map.get_mut(&key) {
            let first = slot.map_or(0, &line);
            ctx.report(
                table,
                line(row),
                format!("id {key} appears twice (first on line {first}); both rows are left out"),
            );
            *slot = None;
        } else {
            map.insert(key, Some(row));
        }
    }
    map
}

/// Why a stored password string is not a Magento `hash:salt:version` hash, if it is not.
fn hash_problem(stored: &str) -> Option<String> {
    let mut parts = stored.splitn(3, ':');
    let (Some(hash), Some(salt), Some(versions)) = (parts.next(), parts.next(), parts.next())
    else {
        return Some("the password field is not hash:salt:version".into());
    };
    if salt.is_empty() {
        return Some("the password field has an empty salt".into());
    }
    let mut last = None;
    for v in versions.split(':') {
        let ok = matches!(v, "0" | "1" | "2") || {
            let p: Vec<&str> = v.split('_').collect();
            p.len() == 4
                && p.first() == Some(&"3")
                && p.iter()
                    .skip(1)
                    .all(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
        };
        if !ok {
            return Some(format!(
                "the password field has an unknown hash version \"{v}\""
            ));
        }
        last = Some(v);
    }
    let want = if last == Some("0") { 32 } else { 64 };
    let hex = hash
        .bytes()
        .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b));
    if hash.len() != want || !hex {
        return Some(format!(
            "the password hash is not {want} lowercase hex characters, as its version requires"
        ));
    }
    None
}

fn timestamp_ok(s: &str) -> bool {
    let b = s.as_bytes();
    let digits = |r: std::ops::Range<usize>| {
        b.get(r.clone())
            .filter(|d| d.iter().all(u8::is_ascii_digit))
            .and_then(|d| std::str::from_utf8(d).ok())
            .and_then(|d| d.parse::<u32>().ok())
    };
    b.len() == 19
        && b.get(4) == Some(&b'-')
        && b.get(7) == Some(&b'-')
        && matches!(b.get(10), Some(b' ' | b'T'))
        && b.get(13) == Some(&b':')
        && b.get(16) == Some(&b':')
        && digits(0..4).is_some()
        && digits(5..7).is_some_and(|m| (1..=12).contains(&m))
        && digits(8..10).is_some_and(|d| (1..=31).contains(&d))
        && digits(11..13).is_some_and(|h| h < 24)
        && digits(14..16).is_some_and(|m| m < 60)
        && digits(17..19).is_some_and(|s| s < 60)
}

fn locale_ok(s: &str) -> bool {
    let mut parts = s.split('_');
    let lang = parts.next().unwrap_or_default();
    (2..=3).contains(&lang.len())
        && lang.bytes().all(|b| b.is_ascii_lowercase())
        && parts.all(|p| (2..=4).contains(&p.len()) && p.bytes().all(|b| b.is_ascii_alphanumeric()))
}

fn id_list(s: Option<&str>) -> Result<Vec<u32>, String> {
    s.unwrap_or_default()
        .split(',')
        .map(str::trim)
        .filter(|v| !v.is_empty())
        .map(|v| {
            v.parse::<u32>()
                .map_err(|_| format!("\"{v}\" is not an id"))
        })
        .collect()
}

impl MagentoExport {
    /// Joins the tables read so far into a plan. Pure: reading more tables and planning
    /// again gives the new plan.
    pub fn plan(&self) -> MagentoPlan {
        let mut ctx = Ctx {
            problems: self.problems.clone(),
        };
        let mut notices = vec![
            "Second factors are not migrated: Magento encrypts 2FA secrets with its own deployment key, so every user must enrol again.".to_string(),
        ];
        for (table, cols) in &self.ignored_columns {
            notices.push(format!(
                "{}: columns not migrated: {}",
                table.name(),
                cols.join(", ")
            ));
        }
        let websites = index(
            &mut ctx,
            MagentoTable::StoreWebsite,
            &self.websites,
            |w| w.website_id,
            |w| w.line,
        );
        let groups = index(
            &mut ctx,
            MagentoTable::StoreGroup,
            &self.store_groups,
            |g| g.group_id,
            |g| g.line,
        );
        let roles = index(
            &mut ctx,
            MagentoTable::AuthorizationRole,
            &self.roles,
            |r| r.role_id,
            |r| r.line,
        );

        // Group roles: name, scope.
        let mut planned: BTreeMap<u32, MagentoRole> = BTreeMap::new();
        for role in self.roles.iter().filter(|r| r.role_type == "G") {
            if !matches!(roles.get(&role.role_id), Some(Some(_))) {
                continue;
            }
            let Some(name) = role.role_name.clone() else {
                ctx.report(
                    MagentoTable::AuthorizationRole,
                    role.line,
                    format!("group role {} has no role_name", role.role_id),
                );
                continue;
            };
            match self.scope_of(role, &websites, &groups) {
                Ok(scope) => {
                    planned.insert(
                        role.role_id,
                        MagentoRole {
                            role_id: role.role_id,
                            line: role.line,
                            name,
                            resources: ResourceGrant::Resources(BTreeSet::new()),
                            scope,
                        },
                    );
                }
                Err(why) => ctx.report(MagentoTable::AuthorizationRole, role.line, why),
            }
        }

        // Rules: allowed resources per group role; rules of roles not planned are reported
        // once per role, naming every line.
        let mut permissions: HashMap<(u32, &str), (&str, u64)> = HashMap::new();
        let mut orphan_rules: BTreeMap<u32, Vec<u64>> = BTreeMap::new();
        let mut broken_roles: BTreeSet<u32> = BTreeSet::new();
        for rule in &self.rules {
            if !planned.contains_key(&rule.role_id) {
                orphan_rules
                    .entry(rule.role_id)
                    .or_default()
                    .push(rule.line);
                continue;
            }
            let (Some(resource), Some(permission)) =
                (rule.resource_id.as_deref(), rule.permission.as_deref())
            else {
                ctx.report(
                    MagentoTable::AuthorizationRule,
                    rule.line,
                    "resource_id or permission is NULL",
                );
                broken_roles.insert(rule.role_id);
                continue;
            };
            if !resource.contains("::") {
                ctx.report(
                    MagentoTable::AuthorizationRule,
                    rule.line,
                    format!("\"{resource}\" is not an ACL resource id (Vendor_Module::name)"),
                );
                broken_roles.insert(rule.role_id);
                continue;
            }
            if permission != "allow" && permission != "deny" {
                ctx.report(
                    MagentoTable::AuthorizationRule,
                    rule.line,
                    format!("permission \"{permission}\" is neither allow nor deny"),
                );
                broken_roles.insert(rule.role_id);
                continue;
            }
            match permissions.get(&(rule.role_id, resource)) {
                Some(&(earlier, line)) if earlier != permission => {
                    ctx.report(
                        MagentoTable::AuthorizationRule,
                        rule.line,
                        format!("{resource} is {permission} here but {earlier} on line {line}"),
                    );
                    broken_roles.insert(rule.role_id);
                    continue;
                }
                _ => {
                    permissions.insert((rule.role_id, resource), (permission, rule.line));
                }
            }
            if permission == "allow" {
                if let Some(role) = planned.get_mut(&rule.role_id) {
                    if resource == ALL_RESOURCES {
                        role.resources = ResourceGrant::All;
                    } else if let ResourceGrant::Resources(set) = &mut role.resources {
                        set.insert(resource.to_string());
                    }
                }
            }
        }
        for id in &broken_roles {
            if let Some(role) = planned.remove(id) {
                ctx.report(MagentoTable::AuthorizationRole, role.line, format!("role \"{}\" is not migrated: some of its rules could not be read (see authorization_rule)", role.name));
            }
        }
        for (role_id, lines) in orphan_rules {
            let why = match roles.get(&role_id) {
                None => format!("role {role_id} does not exist"),
                Some(None) => format!("role {role_id} is ambiguous (its id appears twice)"),
                Some(Some(r)) if r.role_type == "U" && r.user_type.as_deref() == Some("1") => format!("role {role_id} belongs to an API integration, and integrations are not admin users"),
                Some(Some(r)) if r.role_type == "U" => format!("role {role_id} is a user's link row; Magento applies only group roles' rules"),
                Some(Some(r)) => format!("role {role_id} (line {}) is not migrated", r.line),
            };
            let first = lines.first().copied().unwrap_or(0);
            let reason = if lines.len() == 1 {
                format!("rule not migrated: {why}")
            } else {
                let list: Vec<String> = lines.iter().map(u64::to_string).collect();
                format!(
                    "{} rules not migrated (lines {}): {why}",
                    lines.len(),
                    list.join(", ")
                )
            };
            ctx.report(MagentoTable::AuthorizationRule, first, reason);
        }

        let users = self.plan_users(&mut ctx, &planned, &roles);
        ctx.problems.sort();
        MagentoPlan {
            roles: planned.into_values().collect(),
            users,
            problems: ctx.problems,
            notices,
            second_factor: SecondFactor::EnrolAgain,
        }
    }

    fn scope_of(
        &self,
        role: &RoleRow,
        websites: &HashMap<u32, Option<&crate::magento::WebsiteRow>>,
        groups: &HashMap<u32, Option<&crate::magento::StoreGroupRow>>,
    ) -> Result<MagentoScope, String> {
        let Some(gws) = &role.gws else {
            return Ok(MagentoScope::All);
        };
        match gws.is_all.as_deref().map(str::trim) {
            Some("1") => return Ok(MagentoScope::All),
            Some("0") => {}
            other => {
                return Err(format!(
                    "gws_is_all is {}, expected 0 or 1",
                    other.map_or("NULL".into(), |v| format!("\"{v}\""))
                ))
            }
        }
        let website_ids =
            id_list(gws.websites.as_deref()).map_err(|e| format!("gws_websites: {e}"))?;
        let group_ids =
            id_list(gws.store_groups.as_deref()).map_err(|e| format!("gws_store_groups: {e}"))?;
        let need = |table: MagentoTable| {
            if self.tables_read.contains(&table) {
                Ok(())
            } else {
                Err(format!(
                    "the role is limited to websites or stores, but the {} table was not given",
                    table.name()
                ))
            }
        };
        let mut scope_websites = BTreeSet::new();
        let mut scope_groups = BTreeSet::new();
        let mut views = BTreeSet::new();
        for id in &website_ids {
            need(MagentoTable::StoreWebsite)?;
            let Some(Some(w)) = websites.get(id) else {
                return Err(format!(
                    "gws_websites names website {id}, which is not in store_website"
                ));
            };
            scope_websites.insert(w.code.clone());
            views.extend(
                self.stores
                    .iter()
                    .filter(|s| s.website_id == *id)
                    .map(|s| s.code.clone()),
            );
        }
        for id in &group_ids {
            need(MagentoTable::StoreGroup)?;
            need(MagentoTable::StoreWebsite)?;
            let Some(Some(g)) = groups.get(id) else {
                return Err(format!(
                    "gws_store_groups names store group {id}, which is not in store_group"
                ));
            };
            let Some(Some(w)) = websites.get(&g.website_id) else {
                return Err(format!(
                    "store group {id} belongs to website {}, which is not in store_website",
                    g.website_id
                ));
            };
            scope_groups.insert(StoreGroupScope {
                website: w.code.clone(),
                group: g.code.clone(),
            });
            views.extend(
                self.stores
                    .iter()
                    .filter(|s| s.group_id == *id)
                    .map(|s| s.code.clone()),
            );
        }
        Ok(MagentoScope::Limited {
            websites: scope_websites,
            store_groups: scope_groups,
            store_views: views,
        })
    }

    fn plan_users(
        &self,
        ctx: &mut Ctx,
        planned: &BTreeMap<u32, MagentoRole>,
        roles: &HashMap<u32, Option<&RoleRow>>,
    ) -> Vec<MagentoUser> {
        let users = index(
            ctx,
            MagentoTable::AdminUser,
            &self.admin_users,
            |u| u.user_id,
            |u| u.line,
        );
        // Role links of admin users (user_type 2; absent in very old data).
        let mut links: HashMap<u32, Vec<&RoleRow>> = HashMap::new();
        for link in self.roles.iter().filter(|r| r.role_type == "U") {
            if !matches!(roles.get(&link.role_id), Some(Some(_))) {
                continue;
            }
            match link.user_type.as_deref() {
                Some("1") => {
                    ctx.report(MagentoTable::AuthorizationRole, link.line, format!("role {} links API integration {}; integrations are not admin users and are not migrated", link.role_id, link.user_id));
                    continue;
                }
                None | Some("2") => {}
                Some(other) => {
                    ctx.report(
                        MagentoTable::AuthorizationRole,
                        link.line,
                        format!("user_type \"{other}\" is not an admin user (2)"),
                    );
                    continue;
                }
            }
            match roles.get(&link.parent_id) {
                Some(Some(parent)) if parent.role_type == "G" => {}
                Some(Some(_)) => ctx.report(
                    MagentoTable::AuthorizationRole,
                    link.line,
                    format!(
                        "the parent role {} is a user link, not a group role",
                        link.parent_id
                    ),
                ),
                _ => ctx.report(
                    MagentoTable::AuthorizationRole,
                    link.line,
                    format!("the parent role {} does not exist", link.parent_id),
                ),
            }
            if !matches!(users.get(&link.user_id), Some(Some(_))) {
                ctx.report(
                    MagentoTable::AuthorizationRole,
                    link.line,
                    format!(
                        "links admin_user {}, which is not in admin_user",
                        link.user_id
                    ),
                );
            }
            links.entry(link.user_id).or_default().push(link);
        }

        // Usernames and e-mails must be unique (Magento's username index ignores case; rolecall keys users by e-mail).
        let mut by_name: HashMap<String, Vec<u64>> = HashMap::new();
        let mut by_email: HashMap<String, Vec<u64>> = HashMap::new();
        for u in &self.admin_users {
            if let Some(n) = &u.username {
                by_name.entry(n.to_lowercase()).or_default().push(u.line);
            }
            if let Some(e) = &u.email {
                by_email.entry(e.to_lowercase()).or_default().push(u.line);
            }
        }

        let mut out = Vec::new();
        for u in &self.admin_users {
            if !matches!(users.get(&u.user_id), Some(Some(_))) {
                continue;
            }
            let mut reasons = Vec::new();
            let username = u.username.clone().unwrap_or_default();
            let email = u.email.clone().unwrap_or_default();
            if username.is_empty() {
                reasons.push("username is NULL".to_string());
            } else if let Some(lines) = by_name
                .get(&username.to_lowercase())
                .filter(|l| l.len() > 1)
            {
                reasons.push(format!(
                    "username \"{username}\" is on several lines ({lines:?})"
                ));
            }
            if email.is_empty() {
                reasons.push("email is NULL".to_string());
            } else if let Err(why) = email_shape(&email) {
                reasons.push(format!("email \"{email}\" is not an e-mail address: {why}"));
            } else if let Some(lines) = by_email.get(&email.to_lowercase()).filter(|l| l.len() > 1)
            {
                reasons.push(format!("email \"{email}\" is on several lines ({lines:?})"));
            }
            match &u.password {
                None => reasons.push("password is NULL".to_string()),
                Some(p) => reasons.extend(hash_problem(p)),
            }
            if let Some(l) = u.lock_expires.as_deref().filter(|l| !timestamp_ok(l)) {
                reasons.push(format!(
                    "lock_expires \"{l}\" is not a YYYY-MM-DD HH:MM:SS timestamp"
                ));
            }
            if let Some(l) = u.interface_locale.as_deref().filter(|l| !locale_ok(l)) {
                reasons.push(format!(
                    "interface_locale \"{l}\" is not a locale like en_US"
                ));
            }
            let role = match links.get(&u.user_id).map(Vec::as_slice) {
                None | Some([]) => {
                    reasons.push(
                        "the user has no role (no authorization_role U row with this user_id)"
                            .into(),
                    );
                    None
                }
                Some([link]) => match planned.get(&link.parent_id) {
                    Some(role) => Some(role),
                    None => {
                        reasons.push(format!("the user's role link (authorization_role line {}) points to role {}, which is missing or not migrated", link.line, link.parent_id));
                        None
                    }
                },
                Some(many) => {
                    let lines: Vec<u64> = many.iter().map(|l| l.line).collect();
                    reasons.push(format!("the user has {} role links (authorization_role lines {lines:?}); Magento allows one", many.len()));
                    None
                }
            };
            match (role, reasons.is_empty()) {
                (Some(role), true) => out.push(MagentoUser {
                    user_id: u.user_id,
                    line: u.line,
                    username,
                    email,
                    first_name: u.firstname.clone(),
                    last_name: u.lastname.clone(),
                    active: u.is_active,
                    lock_expires: u.lock_expires.clone(),
                    interface_locale: u.interface_locale.clone(),
                    password_hash: u.password.clone().unwrap_or_default(),
                    role_id: role.role_id,
                    role_name: role.name.clone(),
                }),
                _ => {
                    for r in reasons {
                        ctx.report(
                            MagentoTable::AdminUser,
                            u.line,
                            format!("user {} not migrated: {r}", u.user_id),
                        );
                    }
                }
            }
        }
        out.sort_by_key(|u| u.user_id);
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn magento_hash_shapes() {
        // Real formats from Magento's EncryptorTest (shared/data/README.md).
        for ok in [
            "67a1e09bb1f83f5007dc119c14d663aa:salt:0",
            "13601bda4ea78e55a07b98866d2be6be0744e3866f13c00c811cab608a28f322:salt:1",
            "7640855aef9cb6ffd20229601d2904a2192e372b391db8230d7faf073b393e4c:salt:2",
            "c6aad9e058f6c4b06187c06d2b69bf506a786af030f81fb6d83778422a68205e:salt:1:2",
            "3b68ca4706cbae291455e4340478076c1e1618e742b6144cfcc3e50f648903e4:salt:0:1",
            "7640855aef9cb6ffd20229601d2904a2192e372b391db8230d7faf073b393e4c:salt:3_32_2_67108864",
        ] {
            assert_eq!(hash_problem(ok), None, "{ok}");
        }
        for bad in [
            "hash:salt:1",
            "67a1e09bb1f83f5007dc119c14d663aa",
            "67a1e09bb1f83f5007dc119c14d663aa:salt:1",
            "67a1e09bb1f83f5007dc119c14d663aa::0",
            "67a1e09bb1f83f5007dc119c14d663aa:salt:9",
            "7640855aef9cb6ffd20229601d2904a2192e372b391db8230d7faf073b393e4c:salt:3_32_2",
        ] {
            assert!(hash_problem(bad).is_some(), "{bad}");
        }
    }

    #[test]
    fn timestamps_and_locales() {
        assert!(timestamp_ok("2030-01-31 23:59:59"));
        assert!(!timestamp_ok("0000-00-00 00:00:00"));
        assert!(!timestamp_ok("2030-13-01 00:00:00"));
        assert!(locale_ok("en_US") && locale_ok("zh_Hans_CN"));
        assert!(!locale_ok("english") && !locale_ok("EN_us"));
    }
}
