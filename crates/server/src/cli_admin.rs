//! Organisation administration from the command line: administrators and the account owner,
//! product profiles and seats, API credentials, sessions, two-factor resets, locks, sign-in
//! events and security settings.
//!
//! Like [`crate::cli_client`] (whose client, output helpers and exit codes these commands
//! share), every command is an HTTP client of a running server: tables by default, the raw
//! response with `--json`, problems on stderr.

use crate::cli_client::{
    admin_right, details, items, list, or_none, print_users, put_opt, table, text, text_of, time,
    yes_no, Client, CmdResult, Exit,
};
use clap::{Args, Subcommand, ValueEnum};
use reqwest::{Method, StatusCode};
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

#[derive(Debug, Subcommand)]
pub enum ProfilesCommand {
    /// List product profiles with their seats.
    List {
        /// Only profiles of this application (product).
        #[arg(long, value_name = "KEY")]
        application: Option<String>,
    },
    /// Show one profile.
    Get { id: String },
    /// Create a product profile. An application's first profile gates it: from then on its
    /// users need a seat (or its Administrators role).
    Create {
        /// Application key, e.g. commerce-admin.
        #[arg(long, value_name = "KEY")]
        application: String,
        #[arg(long)]
        name: String,
        #[arg(long)]
        description: Option<String>,
        /// Number of seats [default: unlimited].
        #[arg(long, value_name = "N")]
        seats: Option<i64>,
        /// A role of the same application every seat holder gets (repeatable).
        #[arg(long = "role", value_name = "ROLE_ID")]
        roles: Vec<String>,
    },
    /// Change a profile; omitted options are left alone.
    Update {
        id: String,
        #[arg(long)]
        name: Option<String>,
        #[arg(long)]
        description: Option<String>,
        /// Number of seats (not below the seats in use).
        #[arg(long, value_name = "N", conflicts_with = "unlimited")]
        seats: Option<i64>,
        /// Make seats unlimited.
        #[arg(long)]
        unlimited: bool,
        /// Replace the bundled roles with these (repeatable).
        #[arg(long = "role", value_name = "ROLE_ID")]
        roles: Vec<String>,
        /// Remove every bundled role.
        #[arg(long, conflicts_with = "roles")]
        no_roles: bool,
    },
    /// Delete a profile and its seats; users, groups and roles stay.
    Delete { id: String },
    /// Users holding a seat directly.
    Users { id: String },
    /// Give a user a seat.
    AddUser { profile: String, user: String },
    /// Take a user's direct seat away.
    RemoveUser { profile: String, user: String },
    /// Groups assigned to the profile (each member holds a seat).
    Groups { id: String },
    /// Assign a group: every member holds a seat.
    AddGroup { profile: String, group: String },
    /// Remove a group from the profile.
    RemoveGroup { profile: String, group: String },
}

#[derive(Debug, Subcommand)]
pub enum CredentialsCommand {
    /// List credentials (never their secrets).
    List,
    /// Show one credential.
    Get { id: String },
    /// Create a credential; its secret is printed this once.
    Create {
        /// Letters, digits, '.', '_', '-'; unique in the organization.
        #[arg(long)]
        name: String,
        #[arg(long)]
        description: Option<String>,
        /// When it stops working: RFC 3339 (2030-01-31T18:00:00Z) or Unix milliseconds
        /// [default: never].
        #[arg(long, value_name = "TIME")]
        expires_at: Option<String>,
        /// Allow sensitive changes without identity re-verification (automation).
        #[arg(long)]
        sensitive_changes: bool,
    },
    /// Revoke a credential at once.
    Revoke { id: String },
}

#[derive(Debug, Subcommand)]
pub enum SessionsCommand {
    /// A user's live sessions.
    List {
        /// User id.
        user: String,
    },
    /// End one session of a user, or all of them.
    End {
        /// User id.
        user: String,
        /// Session id; every session of the user when absent.
        session: Option<String>,
    },
}

#[derive(Debug, Subcommand)]
pub enum TwoFactorCommand {
    /// Reset two-factor authentication: the users enrol again at their next sign-in.
    Reset {
        /// User ids (all are reset, or none).
        #[arg(required = true, value_name = "USER")]
        users: Vec<String>,
    },
}

#[derive(Debug, Subcommand)]
pub enum LocksCommand {
    /// Accounts locked by failed sign-ins.
    List,
    /// Lift a user's lock.
    Lift {
        /// User id.
        user: String,
    },
}

#[derive(Debug, Subcommand)]
pub enum SettingsCommand {
    /// Show the security settings.
    Show,
    /// Change some security settings; the others are kept.
    Set(SettingsChanges),
}

/// The settings `settings set` may change; each is left alone when absent.
#[derive(Debug, Args)]
pub struct SettingsChanges {
    /// Require two-factor authentication of every user.
    #[arg(long, value_name = "BOOL")]
    require_2fa: Option<bool>,
    /// End a session unused this long.
    #[arg(long, value_name = "SECS")]
    idle_timeout: Option<i64>,
    /// End a session this long after sign-in, whatever its use.
    #[arg(long, value_name = "SECS")]
    session_lifetime: Option<i64>,
    /// Let a user keep several sessions (off: a new sign-in ends the others).
    #[arg(long, value_name = "BOOL")]
    account_sharing: Option<bool>,
    /// Consecutive failed sign-ins before the account locks.
    #[arg(long, value_name = "N")]
    lockout_threshold: Option<i64>,
    /// How long a lock lasts.
    #[arg(long, value_name = "MINUTES")]
    lockout_minutes: Option<i64>,
    /// How long re-entering the password authorises sensitive changes.
    #[arg(long, value_name = "SECS")]
    reverify_window: Option<i64>,
    /// Fewest characters in a password.
    #[arg(long, value_name = "N")]
    password_min_length: Option<u32>,
    /// Most characters in a password.
    #[arg(long, value_name = "N")]
    password_max_length: Option<u32>,
    /// Refuse easily guessed passwords.
    #[arg(long, value_name = "BOOL")]
    password_reject_common: Option<bool>,
    /// How many of lower-case, upper-case, digit and symbol must appear (0 to 4).
    #[arg(long, value_name = "N")]
    password_required_classes: Option<u8>,
    /// Force a password change after this many days, or `never`.
    #[arg(long, value_name = "DAYS|never")]
    password_lifetime_days: Option<String>,
    /// How many previous passwords may not be reused (0: no check).
    #[arg(long, value_name = "N")]
    password_history: Option<u32>,
}

fn usage(message: &str) -> Exit {
    eprintln!("rolecall: {message}");
    Exit(1)
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

pub(crate) async fn admins(c: &Client, cmd: AdminsCommand) -> CmdResult {
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

/// Seats as `used / quota` (`unlimited` without a quota).
fn seats(p: &Value) -> String {
    match p["seat_quota"].as_i64() {
        Some(q) => format!("{} / {q}", text(p, "seats_used")),
        None => format!("{} / unlimited", text(p, "seats_used")),
    }
}

fn print_profile(p: &Value) {
    println!(
        "{}",
        details(vec![
            ("id", text(p, "id")),
            ("application", text(p, "application")),
            ("name", text(p, "name")),
            ("description", text(p, "description")),
            ("seats used / quota", seats(p)),
            (
                "seats free",
                p["seats_free"]
                    .as_i64()
                    .map_or("unlimited".into(), |f| f.to_string())
            ),
            ("roles", or_none(list(&p["roles"], ", "))),
            ("created", time(&p["created_at"])),
            ("updated", time(&p["updated_at"])),
            ("version", text(p, "version")),
        ])
    );
}

pub(crate) async fn profiles(c: &Client, cmd: ProfilesCommand) -> CmdResult {
    match cmd {
        ProfilesCommand::List { application } => {
            let r = c
                .org_call(
                    Method::GET,
                    &["profiles"],
                    &[("application", application)],
                    None,
                )
                .await?;
            if !c.print_json(&r.body) {
                let mut t = table(&["id", "application", "name", "seats used / quota", "roles"]);
                for p in items(&r.body) {
                    t.add_row(vec![
                        text(p, "id"),
                        text(p, "application"),
                        text(p, "name"),
                        seats(p),
                        p["roles"].as_array().map_or(0, Vec::len).to_string(),
                    ]);
                }
                println!("{t}");
            }
        }
        ProfilesCommand::Get { id } => {
            let r = c
                .org_call(Method::GET, &["profiles", &id], &[], None)
                .await?;
            if !c.print_json(&r.body) {
                print_profile(&r.body);
            }
        }
        ProfilesCommand::Create {
            application,
            name,
            description,
            seats,
            roles,
        } => {
            let mut body = Map::new();
            body.insert("application".into(), application.into());
            body.insert("name".into(), name.into());
            put_opt(&mut body, "description", description);
            if let Some(n) = seats {
                body.insert("seat_quota".into(), n.into());
            }
            body.insert("roles".into(), json!(roles));
            let r = c
                .org_call(Method::POST, &["profiles"], &[], Some(Value::Object(body)))
                .await?;
            if !c.print_json(&r.body) {
                print_profile(&r.body);
            }
        }
        ProfilesCommand::Update {
            id,
            name,
            description,
            seats,
            unlimited,
            roles,
            no_roles,
        } => {
            let mut body = Map::new();
            put_opt(&mut body, "name", name);
            put_opt(&mut body, "description", description);
            if let Some(n) = seats {
                body.insert("seat_quota".into(), n.into());
            } else if unlimited {
                body.insert("seat_quota".into(), Value::Null);
            }
            if !roles.is_empty() || no_roles {
                body.insert("roles".into(), json!(roles));
            }
            if body.is_empty() {
                return Err(usage("nothing to change: give --name, --description, --seats, --unlimited, --role or --no-roles"));
            }
            let r = c
                .org_call(
                    Method::PATCH,
                    &["profiles", &id],
                    &[],
                    Some(Value::Object(body)),
                )
                .await?;
            if !c.print_json(&r.body) {
                print_profile(&r.body);
            }
        }
        ProfilesCommand::Delete { id } => {
            c.org_call(Method::DELETE, &["profiles", &id], &[], None)
                .await?;
            c.done(&format!("Deleted profile {id}."));
        }
        ProfilesCommand::Users { id } => {
            let r = c
                .org_call(Method::GET, &["profiles", &id, "users"], &[], None)
                .await?;
            if !c.print_json(&r.body) {
                print_users(items(&r.body));
            }
        }
        ProfilesCommand::AddUser { profile, user } => {
            c.link(
                &["profiles", &profile, "users"],
                json!({ "user_id": user }),
                format!("Gave user {user} a seat in profile {profile}."),
                format!("User {user} already held a seat in profile {profile}."),
            )
            .await?;
        }
        ProfilesCommand::RemoveUser { profile, user } => {
            c.org_call(
                Method::DELETE,
                &["profiles", &profile, "users", &user],
                &[],
                None,
            )
            .await?;
            c.done(&format!("Removed user {user} from profile {profile}."));
        }
        ProfilesCommand::Groups { id } => {
            let r = c
                .org_call(Method::GET, &["profiles", &id, "groups"], &[], None)
                .await?;
            if !c.print_json(&r.body) {
                let mut t = table(&["id", "name", "description"]);
                for g in items(&r.body) {
                    t.add_row(vec![text(g, "id"), text(g, "name"), text(g, "description")]);
                }
                println!("{t}");
            }
        }
        ProfilesCommand::AddGroup { profile, group } => {
            c.link(
                &["profiles", &profile, "groups"],
                json!({ "group_id": group }),
                format!("Assigned group {group} to profile {profile}."),
                format!("Group {group} was already assigned to profile {profile}."),
            )
            .await?;
        }
        ProfilesCommand::RemoveGroup { profile, group } => {
            c.org_call(
                Method::DELETE,
                &["profiles", &profile, "groups", &group],
                &[],
                None,
            )
            .await?;
            c.done(&format!("Removed group {group} from profile {profile}."));
        }
    }
    Ok(0)
}

pub(crate) async fn products(c: &Client) -> CmdResult {
    let r = c.org_call(Method::GET, &["products"], &[], None).await?;
    if !c.print_json(&r.body) {
        let mut t = table(&[
            "application",
            "name",
            "profiles",
            "seats used / total",
            "licensed users",
        ]);
        for p in items(&r.body) {
            let gated = p["gated"].as_bool().unwrap_or(false);
            let seats = if !gated {
                "(not gated: roles decide)".to_string()
            } else {
                match p["seats_total"].as_i64() {
                    Some(total) => format!("{} / {total}", text(p, "seats_used")),
                    None => format!("{} / unlimited", text(p, "seats_used")),
                }
            };
            t.add_row(vec![
                text(p, "application"),
                text(p, "name"),
                text(p, "profiles"),
                seats,
                text(p, "licensed_users"),
            ]);
        }
        println!("{t}");
    }
    Ok(0)
}

pub(crate) async fn user_products(c: &Client, user: &str) -> CmdResult<()> {
    let r = c
        .org_call(Method::GET, &["users", user, "products"], &[], None)
        .await?;
    if !c.print_json(&r.body) {
        let mut t = table(&["profile id", "profile", "application", "via"]);
        for p in items(&r.body) {
            let via = match text(p, "via").as_str() {
                "group" => {
                    let name = text(p, "group_name");
                    format!(
                        "group {}",
                        if name.is_empty() {
                            text(p, "group_id")
                        } else {
                            name
                        }
                    )
                }
                other => other.to_string(),
            };
            t.add_row(vec![
                text(p, "profile_id"),
                text(p, "profile_name"),
                text(p, "application"),
                via,
            ]);
        }
        println!("{t}");
        println!(
            "licensed products: {}",
            or_none(list(&r.body["applications"], ", "))
        );
    }
    Ok(())
}

/// Milliseconds since the epoch now, by this machine's clock (the CLI's, not the server's).
fn now_ms() -> i64 {
    use crate::directory::Clock;
    crate::directory::SystemClock.now()
}

fn credential_status(cred: &Value) -> &'static str {
    if !cred["revoked_at"].is_null() {
        "revoked"
    } else if cred["expires_at"].as_i64().is_some_and(|e| e <= now_ms()) {
        "expired"
    } else {
        "active"
    }
}

fn print_credential(cred: &Value) {
    let expires = time(&cred["expires_at"]);
    println!(
        "{}",
        details(vec![
            ("id", text(cred, "id")),
            ("name", text(cred, "name")),
            ("description", text(cred, "description")),
            ("status", credential_status(cred).into()),
            ("service user", text(cred, "service_user_id")),
            ("sensitive changes", yes_no(cred, "sensitive_changes")),
            ("created by", text(cred, "created_by")),
            ("created", time(&cred["created_at"])),
            (
                "expires",
                if expires.is_empty() {
                    "never".into()
                } else {
                    expires
                }
            ),
            ("last used", or_none(time(&cred["last_used_at"]))),
            ("revoked", time(&cred["revoked_at"])),
        ])
    );
}

pub(crate) async fn credentials(c: &Client, cmd: CredentialsCommand) -> CmdResult {
    match cmd {
        CredentialsCommand::List => {
            let r = c.org_call(Method::GET, &["credentials"], &[], None).await?;
            if !c.print_json(&r.body) {
                let mut t = table(&[
                    "id",
                    "name",
                    "status",
                    "service user",
                    "expires",
                    "last used",
                    "sensitive changes",
                ]);
                for cred in items(&r.body) {
                    let expires = time(&cred["expires_at"]);
                    t.add_row(vec![
                        text(cred, "id"),
                        text(cred, "name"),
                        credential_status(cred).into(),
                        text(cred, "service_user_id"),
                        if expires.is_empty() {
                            "never".into()
                        } else {
                            expires
                        },
                        time(&cred["last_used_at"]),
                        yes_no(cred, "sensitive_changes"),
                    ]);
                }
                println!("{t}");
            }
        }
        CredentialsCommand::Get { id } => {
            let r = c
                .org_call(Method::GET, &["credentials", &id], &[], None)
                .await?;
            if !c.print_json(&r.body) {
                print_credential(&r.body);
            }
        }
        CredentialsCommand::Create {
            name,
            description,
            expires_at,
            sensitive_changes,
        } => {
            let mut body = Map::new();
            body.insert("name".into(), name.into());
            put_opt(&mut body, "description", description);
            if let Some(raw) = expires_at {
                let ms = parse_instant(&raw).map_err(|m| usage(&format!("--expires-at {m}")))?;
                body.insert("expires_at".into(), ms.into());
            }
            body.insert("sensitive_changes".into(), sensitive_changes.into());
            let r = c
                .org_call(
                    Method::POST,
                    &["credentials"],
                    &[],
                    Some(Value::Object(body)),
                )
                .await?;
            if !c.print_json(&r.body) {
                let cred = &r.body["credential"];
                print_credential(cred);
                println!("Secret, shown this once (only its hash is kept): store it now.");
                println!("{}", text(&r.body, "secret"));
                println!(
                    "Send it as a bearer token; assign roles to service user {} like to any user.",
                    text(cred, "service_user_id")
                );
            }
        }
        CredentialsCommand::Revoke { id } => {
            c.org_call(Method::DELETE, &["credentials", &id], &[], None)
                .await?;
            c.done(&format!("Revoked credential {id}."));
        }
    }
    Ok(0)
}

pub(crate) async fn sessions(c: &Client, cmd: SessionsCommand) -> CmdResult {
    match cmd {
        SessionsCommand::List { user } => {
            let r = c
                .org_call(Method::GET, &["users", &user, "sessions"], &[], None)
                .await?;
            if !c.print_json(&r.body) {
                let mut t = table(&[
                    "id",
                    "stage",
                    "created",
                    "last seen",
                    "expires",
                    "ip",
                    "user agent",
                ]);
                for s in items(&r.body) {
                    t.add_row(vec![
                        text(s, "id"),
                        text(s, "stage"),
                        time(&s["created_at"]),
                        time(&s["last_seen_at"]),
                        time(&s["expires_at"]),
                        text(s, "source_ip"),
                        text(s, "user_agent"),
                    ]);
                }
                println!("{t}");
            }
        }
        SessionsCommand::End { user, session } => match session {
            Some(sid) => {
                c.org_call(
                    Method::DELETE,
                    &["users", &user, "sessions", &sid],
                    &[],
                    None,
                )
                .await?;
                c.done(&format!("Ended session {sid} of user {user}."));
            }
            None => {
                c.org_call(Method::DELETE, &["users", &user, "sessions"], &[], None)
                    .await?;
                c.done(&format!("Ended every session of user {user}."));
            }
        },
    }
    Ok(0)
}

pub(crate) async fn two_factor(c: &Client, cmd: TwoFactorCommand) -> CmdResult {
    let TwoFactorCommand::Reset { users } = cmd;
    if let [user] = users.as_slice() {
        c.org_call(Method::POST, &["users", user, "2fa", "reset"], &[], None)
            .await?;
        c.done(&format!(
            "Reset two-factor authentication of user {user}; they enrol again at their next sign-in."
        ));
    } else {
        let r = c
            .org_call(
                Method::POST,
                &["2fa", "reset"],
                &[],
                Some(json!({ "user_ids": users })),
            )
            .await?;
        if !c.print_json(&r.body) {
            println!(
                "Reset two-factor authentication of {} users; they enrol again at their next sign-in.",
                text(&r.body, "reset")
            );
        }
    }
    Ok(0)
}

pub(crate) async fn locks(c: &Client, cmd: LocksCommand) -> CmdResult {
    match cmd {
        LocksCommand::List => {
            let r = c.org_call(Method::GET, &["locks"], &[], None).await?;
            if !c.print_json(&r.body) {
                let mut t = table(&["user id", "username", "locked until"]);
                for l in items(&r.body) {
                    t.add_row(vec![
                        text(l, "user_id"),
                        text(l, "username"),
                        time(&l["locked_until"]),
                    ]);
                }
                println!("{t}");
            }
        }
        LocksCommand::Lift { user } => {
            c.org_call(Method::DELETE, &["users", &user, "lock"], &[], None)
                .await?;
            c.done(&format!("Lifted the lock of user {user}."));
        }
    }
    Ok(0)
}

pub(crate) async fn events(c: &Client, user: Option<String>, limit: Option<i64>) -> CmdResult {
    let r = c
        .org_call(
            Method::GET,
            &["auth-events"],
            &[("user", user), ("limit", limit.map(|l| l.to_string()))],
            None,
        )
        .await?;
    if !c.print_json(&r.body) {
        let mut t = table(&["time", "kind", "user", "ip", "detail"]);
        for e in items(&r.body) {
            t.add_row(vec![
                time(&e["at"]),
                text(e, "kind"),
                text(e, "user_id"),
                text(e, "source_ip"),
                text(e, "detail"),
            ]);
        }
        println!("{t}");
    }
    Ok(0)
}

/// `key`/`value` rows of an object, nested objects as `outer.inner`.
fn flatten(prefix: &str, v: &Value, out: &mut Vec<(String, String)>) {
    for (k, v) in v.as_object().into_iter().flatten() {
        let key = if prefix.is_empty() {
            k.clone()
        } else {
            format!("{prefix}.{k}")
        };
        if v.is_object() {
            flatten(&key, v, out);
        } else if v.is_null() {
            out.push((key, "(none)".into()));
        } else {
            out.push((key, text_of(v)));
        }
    }
}

fn print_settings(s: &Value) {
    let mut rows = Vec::new();
    flatten("", s, &mut rows);
    println!(
        "{}",
        details(rows.iter().map(|(k, v)| (k.as_str(), v.clone())).collect())
    );
}

impl SettingsChanges {
    /// The changes as (path, value) pairs into the settings object.
    fn changes(self) -> CmdResult<Vec<(&'static [&'static str], Value)>> {
        let mut out: Vec<(&'static [&'static str], Value)> = Vec::new();
        let mut put = |path: &'static [&'static str], v: Option<Value>| {
            if let Some(v) = v {
                out.push((path, v));
            }
        };
        put(&["require_2fa"], self.require_2fa.map(Value::from));
        put(&["idle_timeout_secs"], self.idle_timeout.map(Value::from));
        put(
            &["session_lifetime_secs"],
            self.session_lifetime.map(Value::from),
        );
        put(&["account_sharing"], self.account_sharing.map(Value::from));
        put(
            &["lockout_threshold"],
            self.lockout_threshold.map(Value::from),
        );
        put(&["lockout_minutes"], self.lockout_minutes.map(Value::from));
        put(
            &["reverify_window_secs"],
            self.reverify_window.map(Value::from),
        );
        put(
            &["password_policy", "min_length"],
            self.password_min_length.map(Value::from),
        );
        put(
            &["password_policy", "max_length"],
            self.password_max_length.map(Value::from),
        );
        put(
            &["password_policy", "reject_common"],
            self.password_reject_common.map(Value::from),
        );
        put(
            &["password_policy", "required_classes"],
            self.password_required_classes.map(Value::from),
        );
        put(
            &["password_policy", "history"],
            self.password_history.map(Value::from),
        );
        if let Some(raw) = self.password_lifetime_days {
            let v = match raw.trim() {
                "never" | "none" => Value::Null,
                days => days.parse::<u32>().map(Value::from).map_err(|_| {
                    usage(&format!(
                        "--password-lifetime-days {raw:?} must be a number of days or `never`"
                    ))
                })?,
            };
            out.push((&["password_policy", "lifetime_days"], v));
        }
        Ok(out)
    }
}

pub(crate) async fn settings(c: &Client, cmd: SettingsCommand) -> CmdResult {
    match cmd {
        SettingsCommand::Show => {
            let r = c.org_call(Method::GET, &["settings"], &[], None).await?;
            if !c.print_json(&r.body) {
                print_settings(&r.body);
            }
        }
        SettingsCommand::Set(changes) => {
            let changes = changes.changes()?;
            if changes.is_empty() {
                return Err(usage(
                    "nothing to change: give at least one setting (see `rolecall settings set --help`)",
                ));
            }
            // Read, change, write back whole; If-Match refuses the write if someone else
            // changed the settings in between.
            let current = c.org_call(Method::GET, &["settings"], &[], None).await?;
            let mut body = current.body;
            if !body.is_object() {
                eprintln!("rolecall: the server answered settings that are not an object");
                return Err(Exit(1));
            }
            for (path, value) in changes {
                let mut node = &mut body;
                for key in &path[..path.len() - 1] {
                    node = &mut node[*key];
                }
                node[path[path.len() - 1]] = value;
            }
            let r = c
                .org_call_if_match(
                    Method::PUT,
                    &["settings"],
                    Some(body),
                    current.etag.as_deref(),
                )
                .await?;
            if !c.print_json(&r.body) {
                println!("Settings saved.");
                print_settings(&r.body);
            }
        }
    }
    Ok(0)
}

impl Client {
    /// A change below the organization with `If-Match` (when an ETag is known); failures are
    /// reported and become the exit code as with [`Client::org_call`].
    async fn org_call_if_match(
        &self,
        method: Method,
        path: &[&str],
        body: Option<Value>,
        if_match: Option<&str>,
    ) -> CmdResult<crate::cli_client::Reply> {
        let mut segments = vec!["organizations", self.org.as_str()];
        segments.extend_from_slice(path);
        let r = self
            .request_if_match(method, &segments, &[], body, if_match)
            .await?;
        if r.status.is_success() {
            return Ok(r);
        }
        let code = if matches!(r.status, StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN) {
            2
        } else {
            1
        };
        Err(self.fail(&r, code))
    }

    /// A GET below the organization whose failure is nobody's business (a courtesy lookup).
    async fn org_call_quiet(&self, path: &[&str]) -> Option<Value> {
        let mut segments = vec!["organizations", self.org.as_str()];
        segments.extend_from_slice(path);
        let r = self.request(Method::GET, &segments, &[], None).await.ok()?;
        r.status.is_success().then_some(r.body)
    }
}

/// RFC 3339 (`2030-01-31T18:00:00Z`, `…+02:00`, fractions of a second; a bare date is
/// midnight UTC) or Unix milliseconds, as Unix milliseconds.
pub(crate) fn parse_instant(raw: &str) -> std::result::Result<i64, String> {
    let s = raw.trim();
    let bad = || {
        format!(
            "{raw:?} is neither an RFC 3339 time (such as 2030-01-31T18:00:00Z) nor Unix milliseconds"
        )
    };
    if !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()) {
        return s.parse::<i64>().map_err(|_| bad());
    }
    let b = s.as_bytes();
    let num = |from: usize, len: usize| -> Option<i64> {
        s.get(from..from + len)
            .filter(|d| d.bytes().all(|c| c.is_ascii_digit()))
            .and_then(|d| d.parse().ok())
    };
    let (Some(year), Some(b'-'), Some(month), Some(b'-'), Some(day)) =
        (num(0, 4), b.get(4), num(5, 2), b.get(7), num(8, 2))
    else {
        return Err(bad());
    };
    if !(1..=12).contains(&month) || day < 1 || day > days_in_month(year, month) {
        return Err(bad());
    }
    let days = days_from_civil(year, month, day);
    if b.len() == 10 {
        return Ok(days * 86_400_000);
    }
    if !matches!(b.get(10), Some(b'T' | b't' | b' ')) {
        return Err(bad());
    }
    let (Some(hour), Some(b':'), Some(minute), Some(b':'), Some(second)) =
        (num(11, 2), b.get(13), num(14, 2), b.get(16), num(17, 2))
    else {
        return Err(bad());
    };
    // 60 is a leap second, which Unix time folds into 59.
    if hour > 23 || minute > 59 || second > 60 {
        return Err(bad());
    }
    let mut i = 19;
    let mut millis = 0;
    if b.get(i) == Some(&b'.') {
        let start = i + 1;
        i = start;
        while b.get(i).is_some_and(u8::is_ascii_digit) {
            i += 1;
        }
        if i == start {
            return Err(bad());
        }
        let frac = &s[start..i.min(start + 3)];
        millis = format!("{frac:0<3}").parse::<i64>().map_err(|_| bad())?;
    }
    let offset_minutes = match b.get(i) {
        Some(b'Z' | b'z') if i + 1 == b.len() => 0,
        Some(sign @ (b'+' | b'-')) => match (num(i + 1, 2), b.get(i + 3), num(i + 4, 2)) {
            (Some(h), Some(b':'), Some(m)) if i + 6 == b.len() && h < 24 && m < 60 => {
                if *sign == b'-' {
                    -(h * 60 + m)
                } else {
                    h * 60 + m
                }
            }
            _ => return Err(bad()),
        },
        _ => return Err(bad()),
    };
    let secs = hour * 3600 + minute * 60 + second.min(59) - offset_minutes * 60;
    Ok(days * 86_400_000 + secs * 1000 + millis)
}

fn days_in_month(year: i64, month: i64) -> i64 {
    let leap = year % 4 == 0 && (year % 100 != 0 || year % 400 == 0);
    match month {
        2 if leap => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days since 1970-01-01 of a civil date (Howard Hinnant's `days_from_civil`).
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn instants_in_rfc3339_or_millis() {
        let at = 1_709_210_096_000_i64; // 2024-02-29 12:34:56 UTC
        assert_eq!(parse_instant("2024-02-29T12:34:56Z"), Ok(at));
        assert_eq!(parse_instant("2024-02-29t12:34:56z"), Ok(at));
        assert_eq!(parse_instant("2024-02-29T14:34:56.5+02:00"), Ok(at + 500));
        assert_eq!(
            parse_instant("2024-02-29 10:04:56.123456-02:30"),
            Ok(at + 123)
        );
        assert_eq!(parse_instant(" 1709210096000 "), Ok(at));
        assert_eq!(parse_instant("1970-01-01"), Ok(0));
        assert_eq!(parse_instant("1969-12-31T23:59:59Z"), Ok(-1000));
        assert_eq!(
            time(&json!(parse_instant("2000-03-01").ok())),
            "2000-03-01 00:00:00 UTC"
        );
        for bad in [
            "",
            "tomorrow",
            "2023-02-29",
            "2024-13-01",
            "2024-02-29T12:34:56",
            "2024-02-29T12:34Z",
            "2024-02-29T24:00:00Z",
            "2024-02-29T12:34:56.Z",
            "2024-02-29T12:34:56+0200",
            "2024-02-29T12:34:56Zjunk",
            "-5",
        ] {
            assert!(parse_instant(bad).is_err(), "{bad:?}");
        }
    }

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
