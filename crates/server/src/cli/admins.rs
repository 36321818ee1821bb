//! `rolecall admins` and `rolecall owner`: administrators, the admin rights they hold (granted
//! at or below your own) and the account owner.

use super::client::{usage, Client, CmdResult};
use super::output::{admin_right, items, table, text, text_of};
use clap::{Subcommand, ValueEnum};
use reqwest::Method;
use serde_json::{json, Map, Value};

/// An admin right's kind as typed on the command line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum RightKind {
    /// Super user of the organization.
    System,
    /// Administers one product (application) and its profiles: needs --application.
    Product,
    /// Administers one product profile: needs --product-profile.
    #[value(alias = "product_profile")]
    ProductProfile,
    /// Administers one user group: needs --group.
    #[value(alias = "user_group")]
    UserGroup,
    /// Software packages and updates.
    Deployment,
    /// Read-only support information.
    Support,
    /// Storage consumption and transfer.
    Storage,
}

impl RightKind {
    /// The kind as the API spells it.
    fn api(self) -> &'static str {
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

    /// For scoped kinds: the body field naming what the right covers, and its option.
    fn target(self) -> Option<(&'static str, &'static str)> {
        match self {
            RightKind::Product => Some(("application", "--application KEY")),
            RightKind::ProductProfile => Some(("profile_id", "--product-profile ID")),
            RightKind::UserGroup => Some(("group_id", "--group ID")),
            _ => None,
        }
    }
}

#[derive(Debug, Subcommand)]
pub enum AdminsCommand {
    /// Everyone holding admin rights.
    List,
    /// The admin rights of one user.
    Rights {
        /// User id.
        user: String,
    },
    /// Grant an admin right (at or below your own; the user is notified by e-mail).
    Grant {
        /// User id.
        user: String,
        #[arg(long)]
        kind: RightKind,
        /// The application of a product right, e.g. commerce-admin.
        #[arg(long, value_name = "KEY")]
        application: Option<String>,
        /// The profile of a product-profile right. (`--profile` names the CLI profile.)
        #[arg(
            long = "product-profile",
            visible_alias = "profile-id",
            value_name = "ID"
        )]
        product_profile: Option<String>,
        /// The group of a user-group right.
        #[arg(long, value_name = "ID")]
        group: Option<String>,
    },
    /// Revoke an admin right; the user stays.
    Revoke {
        /// User id.
        user: String,
        #[arg(long)]
        kind: RightKind,
        /// What a scoped right covers: the application, profile id or group id.
        #[arg(long, value_name = "X", aliases = ["application", "product-profile", "profile-id", "group"])]
        target: Option<String>,
    },
}

#[derive(Debug, Subcommand)]
pub enum OwnerCommand {
    /// Show the account owner.
    Show,
    /// Hand ownership to another active System admin (the owner only).
    Transfer {
        /// User id of the new owner.
        user: String,
    },
}

/// A right for messages: `Product admin of commerce-admin`.
fn describe_right(kind: RightKind, target: Option<&str>) -> String {
    let name = match kind {
        RightKind::System => "System admin",
        RightKind::Product => "Product admin",
        RightKind::ProductProfile => "Product profile admin",
        RightKind::UserGroup => "User group admin",
        RightKind::Deployment => "Deployment admin",
        RightKind::Support => "Support admin",
        RightKind::Storage => "Storage admin",
    };
    match target {
        Some(t) => format!("{name} of {t}"),
        None => name.to_string(),
    }
}

/// Checks that exactly the option a right's kind needs is given; returns what it covers.
fn right_target(kind: RightKind, given: &[(&str, &Option<String>)]) -> CmdResult<Option<String>> {
    let wanted = kind.target().map(|(_, flag)| flag);
    let mut target = None;
    for (flag, value) in given {
        let Some(value) = value.as_deref().map(str::trim) else {
            continue;
        };
        if wanted.is_some_and(|w| w.starts_with(flag)) {
            if value.is_empty() {
                return Err(usage(&format!("{flag} must not be empty")));
            }
            target = Some(value.to_string());
        } else {
            return Err(usage(&format!(
                "{flag} does not apply to --kind {}",
                kind.api().replace('_', "-")
            )));
        }
    }
    match (wanted, &target) {
        (Some(flag), None) => Err(usage(&format!(
            "--kind {} needs {flag}",
            kind.api().replace('_', "-")
        ))),
        _ => Ok(target),
    }
}

pub(super) async fn run(c: &Client, cmd: AdminsCommand) -> CmdResult {
    match cmd {
        AdminsCommand::List => {
            let r = c.org_call(Method::GET, &["admins"], &[], None).await?;
            if !c.print_json(&r.body) {
                let mut t = table(&["user id", "username", "email", "status", "owner", "rights"]);
                for a in items(&r.body) {
                    t.add_row(vec![
                        text(a, "user_id"),
                        text(a, "username"),
                        text(a, "email"),
                        text(a, "status"),
                        if a["owner"].as_bool().unwrap_or(false) {
                            "owner".into()
                        } else {
                            String::new()
                        },
                        rights_text(&a["rights"]),
                    ]);
                }
                println!("{t}");
            }
        }
        AdminsCommand::Rights { user } => {
            let r = c
                .org_call(Method::GET, &["users", &user, "admin-rights"], &[], None)
                .await?;
            if !c.print_json(&r.body) {
                let mut t = table(&["kind", "covers"]);
                for right in items(&r.body) {
                    let covers = right
                        .as_object()
                        .into_iter()
                        .flatten()
                        .filter(|(k, _)| k.as_str() != "kind")
                        .map(|(_, v)| text_of(v))
                        .collect::<Vec<_>>()
                        .join(", ");
                    t.add_row(vec![text(right, "kind"), covers]);
                }
                println!("{t}");
            }
        }
        AdminsCommand::Grant {
            user,
            kind,
            application,
            product_profile,
            group,
        } => {
            let target = right_target(
                kind,
                &[
                    ("--application", &application),
                    ("--product-profile", &product_profile),
                    ("--group", &group),
                ],
            )?;
            let mut body = Map::new();
            body.insert("kind".into(), kind.api().into());
            if let (Some((field, _)), Some(t)) = (kind.target(), &target) {
                body.insert(field.into(), t.clone().into());
            }
            let right = describe_right(kind, target.as_deref());
            c.link(
                &["users", &user, "admin-rights"],
                Value::Object(body),
                format!("Granted {right} to user {user}."),
                format!("User {user} already held {right}."),
            )
            .await?;
        }
        AdminsCommand::Revoke { user, kind, target } => {
            let target = right_target(kind, &[(kind_flag(kind), &target)])?;
            c.org_call(
                Method::DELETE,
                &["users", &user, "admin-rights"],
                &[
                    ("kind", Some(kind.api().into())),
                    ("target", target.clone()),
                ],
                None,
            )
            .await?;
            c.done(&format!(
                "Revoked {} from user {user}.",
                describe_right(kind, target.as_deref())
            ));
        }
    }
    Ok(0)
}

/// The option `right_target` expects for `kind` (`--target` when the kind takes none).
fn kind_flag(kind: RightKind) -> &'static str {
    kind.target()
        .map(|(_, flag)| flag.split(' ').next().unwrap_or(flag))
        .unwrap_or("--target")
}

fn rights_text(rights: &Value) -> String {
    rights
        .as_array()
        .into_iter()
        .flatten()
        .map(admin_right)
        .collect::<Vec<_>>()
        .join(", ")
}

pub(crate) async fn owner(c: &Client, cmd: OwnerCommand) -> CmdResult {
    let r = match &cmd {
        OwnerCommand::Show => c.org_call(Method::GET, &["owner"], &[], None).await?,
        OwnerCommand::Transfer { user } => {
            c.org_call(
                Method::PUT,
                &["owner"],
                &[],
                Some(json!({ "user_id": user })),
            )
            .await?
        }
    };
    if c.print_json(&r.body) {
        return Ok(0);
    }
    let id = text(&r.body, "owner_id");
    if id.is_empty() {
        println!("The organization has no account owner.");
        return Ok(0);
    }
    // The name is a courtesy: the caller may see admins without seeing users.
    let who = match c.org_call_quiet(&["users", &id]).await {
        Some(u) => format!("{} <{}> ({id})", text(&u, "username"), text(&u, "email")),
        None => id,
    };
    match cmd {
        OwnerCommand::Show => println!("Account owner: {who}"),
        OwnerCommand::Transfer { .. } => println!("The account owner is now {who}."),
    }
    Ok(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rights_need_exactly_their_target() {
        let app = Some("commerce-admin".to_string());
        let none = None;
        assert_eq!(
            right_target(RightKind::Product, &[("--application", &app)]).ok(),
            Some(app.clone())
        );
        assert!(right_target(RightKind::Product, &[("--application", &none)]).is_err());
        assert!(right_target(RightKind::System, &[("--application", &app)]).is_err());
        assert_eq!(
            right_target(RightKind::System, &[("--application", &none)]).ok(),
            Some(None)
        );
        assert!(right_target(RightKind::UserGroup, &[("--application", &app)]).is_err());
        assert_eq!(
            right_target(
                RightKind::UserGroup,
                &[(kind_flag(RightKind::UserGroup), &app)]
            )
            .ok(),
            Some(app.clone())
        );
        assert!(right_target(RightKind::Support, &[("--target", &app)]).is_err());
    }
}
