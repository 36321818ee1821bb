//! Management commands as HTTP clients of a running server, with tables or `--json`.
//!
//! Every command goes through the REST API (never the store), so the CLI works against a remote
//! server and obeys the same validation and permissions as any other client. Exit codes: 0 done
//! (or `check` allowed), 1 error, 2 authentication or permission refused, 3 `check` denied.
//!
//! `rolecall login` signs in with a password (and a second factor) and saves the session in a
//! profile (see [`crate::cli_profile`]); every command without `--token` then uses it.

use crate::cli_profile::{self, Profile, Profiles};
use crate::error::Result;
use clap::{Args, Subcommand};
use comfy_table::{presets, ContentArrangement, Table};
use reqwest::{Method, StatusCode, Url};
use serde_json::{json, Map, Value};
use std::collections::HashSet;
use std::io::{BufRead, IsTerminal, Write};
use std::path::PathBuf;
use std::time::Duration;

/// The server when neither `--url`, `ROLECALL_URL` nor the profile names one.
const DEFAULT_URL: &str = "http://127.0.0.1:8080";
/// The organization when neither `--org`, `ROLECALL_ORG` nor the profile names one.
const DEFAULT_ORG: &str = "default";

/// Where and as whom to connect; flattened into every remote command.
///
/// The options are `global` so they may follow the innermost subcommand
/// (`rolecall users list --json`); clap forbids required globals, so `run` checks the token.
/// Without `--token`, the token (and, unless given, the URL and organization) come from the
/// profile that `rolecall login` saved.
#[derive(Clone, Args)]
#[command(next_help_heading = "Connection")]
pub struct RemoteArgs {
    /// Base URL of the rolecall server [default: the profile's, else http://127.0.0.1:8080].
    #[arg(long, env = "ROLECALL_URL", global = true)]
    url: Option<String>,
    /// API or session token (sent as a bearer token, never printed); the profile's when absent.
    #[arg(long, env = "ROLECALL_TOKEN", hide_env_values = true, global = true)]
    token: Option<String>,
    /// Organization slug or id [default: the profile's, else "default"].
    #[arg(long, env = "ROLECALL_ORG", global = true)]
    org: Option<String>,
    /// Profile saved by `rolecall login` to use when no token is given [default: "default"].
    #[arg(long, env = "ROLECALL_PROFILE", global = true)]
    profile: Option<String>,
    /// Print the server's JSON response instead of a table.
    #[arg(long, global = true)]
    json: bool,
    /// Confirm your identity for sensitive changes: the password (ROLECALL_PASSWORD, else a
    /// prompt that does not echo, else the first line of standard input) is sent along with
    /// each change in X-Rolecall-Password. Needed by signed-in people some minutes after sign-in.
    #[arg(long, global = true)]
    reverify: bool,
}

/// Hand-written so that `{:?}` of a parsed command line cannot leak the token.
impl std::fmt::Debug for RemoteArgs {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RemoteArgs")
            .field("url", &self.url)
            .field("token", &self.token.as_ref().map(|_| "<redacted>"))
            .field("org", &self.org)
            .field("profile", &self.profile)
            .field("json", &self.json)
            .field("reverify", &self.reverify)
            .finish()
    }
}

/// `rolecall login`: where to sign in, as whom, and the profile to save the session in.
#[derive(Clone, Args)]
pub struct LoginArgs {
    /// Profile to save the session in [default: "default"].
    #[arg(long, env = "ROLECALL_PROFILE")]
    profile: Option<String>,
    /// Base URL of the rolecall server [default: the profile's, else http://127.0.0.1:8080].
    #[arg(long, env = "ROLECALL_URL")]
    url: Option<String>,
    /// Organization slug or id [default: the profile's, else "default"].
    #[arg(long, env = "ROLECALL_ORG")]
    org: Option<String>,
    /// Username or e-mail.
    #[arg(long, value_name = "USER")]
    login: String,
    /// Read the password from the first line of standard input. Otherwise it comes from
    /// ROLECALL_PASSWORD, else a prompt that does not echo.
    #[arg(long)]
    password_stdin: bool,
    /// Code from the authenticator app, when the account has two-factor authentication
    /// (asked for when absent).
    #[arg(long, value_name = "CODE", conflicts_with = "recovery_code")]
    code: Option<String>,
    /// One of the single-use recovery codes, instead of --code.
    #[arg(long, value_name = "CODE")]
    recovery_code: Option<String>,
    /// If the password has expired, read the new one from the next line of standard input
    /// (otherwise it is asked for on the terminal).
    #[arg(long)]
    new_password_stdin: bool,
}

/// Hand-written so that `{:?}` cannot leak a recovery code.
impl std::fmt::Debug for LoginArgs {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LoginArgs")
            .field("profile", &self.profile)
            .field("url", &self.url)
            .field("org", &self.org)
            .field("login", &self.login)
            .field("password_stdin", &self.password_stdin)
            .field("code", &self.code.as_ref().map(|_| "<redacted>"))
            .field(
                "recovery_code",
                &self.recovery_code.as_ref().map(|_| "<redacted>"),
            )
            .field("new_password_stdin", &self.new_password_stdin)
            .finish()
    }
}

#[derive(Debug, Subcommand)]
pub enum RemoteCommand {
    /// Sign in with a password (and second factor); save the session in a profile.
    Login(LoginArgs),
    /// End the profile's session on the server and forget its token.
    Logout {
        #[command(flatten)]
        remote: RemoteArgs,
    },
    /// Show the signed-in user of the profile (or of --token).
    Whoami {
        #[command(flatten)]
        remote: RemoteArgs,
    },
    /// Manage users (HTTP client of a running server).
    Users {
        #[command(flatten)]
        remote: RemoteArgs,
        #[command(subcommand)]
        cmd: UsersCommand,
    },
    /// Manage groups, their members and their roles (HTTP client).
    Groups {
        #[command(flatten)]
        remote: RemoteArgs,
        #[command(subcommand)]
        cmd: GroupsCommand,
    },
    /// Manage roles and their grants (HTTP client).
    Roles {
        #[command(flatten)]
        remote: RemoteArgs,
        #[command(subcommand)]
        cmd: RolesCommand,
    },
    /// Assign a role directly to a user.
    Assign {
        #[command(flatten)]
        remote: RemoteArgs,
        /// User id.
        user: String,
        /// Role id.
        role: String,
    },
    /// Remove a role assigned directly to a user.
    Unassign {
        #[command(flatten)]
        remote: RemoteArgs,
        /// User id.
        user: String,
        /// Role id.
        role: String,
    },
    /// May this user do this? Exit code 0 when allowed, 3 when denied.
    Check {
        #[command(flatten)]
        remote: RemoteArgs,
        /// User id.
        #[arg(long)]
        user: String,
        /// Application key, e.g. commerce-admin.
        #[arg(long)]
        application: String,
        /// Resource id, e.g. Magento_Sales::sales_order.
        #[arg(long)]
        resource: String,
        /// Action; any use of the resource when absent.
        #[arg(long)]
        action: Option<String>,
        /// Scope code; the application's root scope when absent.
        #[arg(long)]
        scope: Option<String>,
    },
    /// Show the governed applications and their resource trees.
    Apps {
        #[command(flatten)]
        remote: RemoteArgs,
        #[command(subcommand)]
        cmd: AppsCommand,
    },
    /// Administrators and their admin rights (granted at or below your own).
    Admins {
        #[command(flatten)]
        remote: RemoteArgs,
        #[command(subcommand)]
        cmd: crate::cli_admin::AdminsCommand,
    },
    /// The account owner.
    Owner {
        #[command(flatten)]
        remote: RemoteArgs,
        #[command(subcommand)]
        cmd: crate::cli_admin::OwnerCommand,
    },
    /// Product profiles: the seats of a product, their users and groups.
    Profiles {
        #[command(flatten)]
        remote: RemoteArgs,
        #[command(subcommand)]
        cmd: crate::cli_admin::ProfilesCommand,
    },
    /// Every product (application) with its profiles and seats used / total.
    Products {
        #[command(flatten)]
        remote: RemoteArgs,
    },
    /// API credentials for integrations (the secret is shown once, at creation).
    Credentials {
        #[command(flatten)]
        remote: RemoteArgs,
        #[command(subcommand)]
        cmd: crate::cli_admin::CredentialsCommand,
    },
    /// A user's sign-in sessions.
    Sessions {
        #[command(flatten)]
        remote: RemoteArgs,
        #[command(subcommand)]
        cmd: crate::cli_admin::SessionsCommand,
    },
    /// Two-factor authentication of users.
    #[command(name = "2fa")]
    TwoFactor {
        #[command(flatten)]
        remote: RemoteArgs,
        #[command(subcommand)]
        cmd: crate::cli_admin::TwoFactorCommand,
    },
    /// Accounts locked by failed sign-ins.
    Locks {
        #[command(flatten)]
        remote: RemoteArgs,
        #[command(subcommand)]
        cmd: crate::cli_admin::LocksCommand,
    },
    /// Sign-in events (successes, failures, locks, resets), newest first.
    Events {
        #[command(flatten)]
        remote: RemoteArgs,
        /// Only this user's events (id).
        #[arg(long)]
        user: Option<String>,
        /// At most this many events, 1 to 1000 [default: 100].
        #[arg(long)]
        limit: Option<i64>,
    },
    /// The organization's security settings.
    Settings {
        #[command(flatten)]
        remote: RemoteArgs,
        #[command(subcommand)]
        cmd: crate::cli_admin::SettingsCommand,
    },
}

#[derive(Debug, Subcommand)]
pub enum UsersCommand {
    /// List users, filtered and paged.
    List {
        /// invited, active or inactive.
        #[arg(long)]
        status: Option<String>,
        /// Text in username, e-mail, first or last name.
        #[arg(long)]
        q: Option<String>,
        /// Only members of this group (id).
        #[arg(long)]
        group: Option<String>,
        /// Only holders of this role (id), directly or through a group.
        #[arg(long)]
        role: Option<String>,
        /// 1-based page number.
        #[arg(long)]
        page: Option<i64>,
        /// Users per page, 1 to 500.
        #[arg(long)]
        per_page: Option<i64>,
    },
    /// Show one user.
    Get { id: String },
    /// Add a user; the username defaults to the e-mail.
    Create {
        /// E-mail address (required).
        #[arg(long)]
        email: String,
        #[arg(long)]
        username: Option<String>,
        #[arg(long)]
        first_name: Option<String>,
        #[arg(long)]
        last_name: Option<String>,
        /// Locale such as en_US.
        #[arg(long)]
        locale: Option<String>,
        /// Create as invited (no access until activated) instead of active.
        #[arg(long)]
        invited: bool,
    },
    /// Change a user's details; omitted options are left alone.
    Update {
        id: String,
        #[arg(long)]
        email: Option<String>,
        #[arg(long)]
        first_name: Option<String>,
        #[arg(long)]
        last_name: Option<String>,
        #[arg(long)]
        locale: Option<String>,
    },
    /// Void all of a user's access at once, keeping the record.
    Deactivate { id: String },
    /// Restore a deactivated user.
    Reactivate { id: String },
    /// Delete a user irreversibly.
    Delete { id: String },
    /// Roles the user holds, directly and through groups.
    Roles { id: String },
    /// Product profiles the user holds a seat in, directly and through groups.
    Products { id: String },
}

#[derive(Debug, Subcommand)]
pub enum GroupsCommand {
    /// List groups.
    List {
        /// Text in the name.
        #[arg(long)]
        q: Option<String>,
    },
    /// Show one group.
    Get { id: String },
    /// Create a group.
    Create {
        #[arg(long)]
        name: String,
        #[arg(long)]
        description: Option<String>,
    },
    /// Delete a group; its members keep their accounts.
    Delete { id: String },
    /// List a group's members.
    Members { id: String },
    /// Add a user to a group.
    AddMember { group: String, user: String },
    /// Remove a user from a group.
    RemoveMember { group: String, user: String },
    /// Assign a role to a group: every member holds it.
    AddRole { group: String, role: String },
    /// Remove a role from a group.
    RemoveRole { group: String, role: String },
}

#[derive(Debug, Subcommand)]
pub enum RolesCommand {
    /// List roles.
    List {
        /// Only roles of this application.
        #[arg(long)]
        application: Option<String>,
        /// Text in the name.
        #[arg(long)]
        q: Option<String>,
    },
    /// Show one role with its grants.
    Get { id: String },
    /// Create a role of one application.
    Create {
        /// Application key, e.g. commerce-admin.
        #[arg(long)]
        application: String,
        /// Role name, unique in the application.
        #[arg(long)]
        name: String,
        #[arg(long)]
        description: Option<String>,
        /// RESOURCE or RESOURCE:action,action (repeatable); without actions, every action.
        /// Resource ids that contain `:` are recognised from the application's catalogue.
        #[arg(long = "grant", value_name = "RESOURCE[:ACTIONS]")]
        grants: Vec<String>,
        /// Limit the role to this scope code and its descendants (repeatable).
        #[arg(long = "scope", value_name = "CODE")]
        scopes: Vec<String>,
    },
    /// Delete a role; its holders keep their accounts.
    Delete { id: String },
    /// Show a role's grants.
    Grants { id: String },
}

#[derive(Debug, Subcommand)]
pub enum AppsCommand {
    /// List the applications.
    List,
    /// Show one application and its resource tree.
    Get { key: String },
}

/// A command finished early with this exit code; the message is already on stderr.
pub(crate) struct Exit(pub(crate) i32);

pub(crate) type CmdResult<T = i32> = std::result::Result<T, Exit>;

/// Runs a remote command; returns the process exit code.
pub async fn run(cmd: RemoteCommand) -> Result<i32> {
    match dispatch(cmd).await {
        Ok(code) | Err(Exit(code)) => Ok(code),
    }
}

async fn dispatch(cmd: RemoteCommand) -> CmdResult {
    match cmd {
        RemoteCommand::Login(args) => login(args).await,
        RemoteCommand::Logout { remote } => logout(&remote).await,
        RemoteCommand::Whoami { remote } => whoami(&remote).await,
        RemoteCommand::Users { remote, cmd } => users(&Client::new(&remote)?, cmd).await,
        RemoteCommand::Groups { remote, cmd } => groups(&Client::new(&remote)?, cmd).await,
        RemoteCommand::Roles { remote, cmd } => roles(&Client::new(&remote)?, cmd).await,
        RemoteCommand::Assign { remote, user, role } => {
            let c = Client::new(&remote)?;
            let r = c
                .org_call(
                    Method::POST,
                    &["users", &user, "roles"],
                    &[],
                    Some(json!({ "role_id": role })),
                )
                .await?;
            if !c.print_json(&r.body) {
                if r.status == StatusCode::CREATED {
                    println!("Assigned role {role} to user {user}.");
                } else {
                    println!("User {user} already holds role {role} directly.");
                }
            }
            Ok(0)
        }
        RemoteCommand::Unassign { remote, user, role } => {
            let c = Client::new(&remote)?;
            c.org_call(Method::DELETE, &["users", &user, "roles", &role], &[], None)
                .await?;
            c.done(&format!("Removed role {role} from user {user}."));
            Ok(0)
        }
        RemoteCommand::Check {
            remote,
            user,
            application,
            resource,
            action,
            scope,
        } => {
            let c = Client::new(&remote)?;
            let body = json!({ "user_id": user, "application": application, "resource": resource, "action": action, "scope": scope });
            let r = c
                .org_call(Method::POST, &["check"], &[], Some(body))
                .await?;
            let decision = text(&r.body, "decision");
            if !c.print_json(&r.body) {
                print_explanation(&r.body);
            }
            Ok(match decision.as_str() {
                "allow" => 0,
                "deny" => 3,
                other => {
                    eprintln!("rolecall: the server answered an unknown decision {other:?}");
                    1
                }
            })
        }
        RemoteCommand::Apps { remote, cmd } => apps(&Client::new(&remote)?, cmd).await,
        RemoteCommand::Admins { remote, cmd } => {
            crate::cli_admin::admins(&Client::new(&remote)?, cmd).await
        }
        RemoteCommand::Owner { remote, cmd } => {
            crate::cli_admin::owner(&Client::new(&remote)?, cmd).await
        }
        RemoteCommand::Profiles { remote, cmd } => {
            crate::cli_admin::profiles(&Client::new(&remote)?, cmd).await
        }
        RemoteCommand::Products { remote } => {
            crate::cli_admin::products(&Client::new(&remote)?).await
        }
        RemoteCommand::Credentials { remote, cmd } => {
            crate::cli_admin::credentials(&Client::new(&remote)?, cmd).await
        }
        RemoteCommand::Sessions { remote, cmd } => {
            crate::cli_admin::sessions(&Client::new(&remote)?, cmd).await
        }
        RemoteCommand::TwoFactor { remote, cmd } => {
            crate::cli_admin::two_factor(&Client::new(&remote)?, cmd).await
        }
        RemoteCommand::Locks { remote, cmd } => {
            crate::cli_admin::locks(&Client::new(&remote)?, cmd).await
        }
        RemoteCommand::Events {
            remote,
            user,
            limit,
        } => crate::cli_admin::events(&Client::new(&remote)?, user, limit).await,
        RemoteCommand::Settings { remote, cmd } => {
            crate::cli_admin::settings(&Client::new(&remote)?, cmd).await
        }
    }
}

/// The profile named by `--profile`/`ROLECALL_PROFILE`, else `default`, checked.
fn profile_name(given: Option<&str>) -> CmdResult<String> {
    let name = given
        .map(str::trim)
        .filter(|n| !n.is_empty())
        .unwrap_or(cli_profile::DEFAULT_PROFILE);
    cli_profile::check_name(name).map_err(|msg| {
        eprintln!("rolecall: {msg}");
        Exit(1)
    })?;
    Ok(name.to_string())
}

/// ` --profile NAME` for messages, empty for the default profile.
fn profile_flag(name: &str) -> String {
    if name == cli_profile::DEFAULT_PROFILE {
        String::new()
    } else {
        format!(" --profile {name}")
    }
}

/// The profiles file and its contents (none when it does not exist yet).
fn load_profiles() -> CmdResult<(PathBuf, Profiles)> {
    let loaded = cli_profile::path().and_then(|file| {
        let profiles = Profiles::load_from(&file)?;
        Ok((file, profiles))
    });
    loaded.map_err(|msg| {
        eprintln!("rolecall: {msg}");
        Exit(1)
    })
}

fn save_profiles(file: &std::path::Path, profiles: &Profiles) -> CmdResult<()> {
    profiles.save_to(file).map_err(|msg| {
        eprintln!("rolecall: {msg}");
        Exit(1)
    })
}

/// 2 when the server refused the credentials or code (401, 403, 422), 1 otherwise.
fn refusal_code(status: StatusCode) -> i32 {
    if matches!(
        status,
        StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN | StatusCode::UNPROCESSABLE_ENTITY
    ) {
        2
    } else {
        1
    }
}

fn strip_line_end(mut line: String) -> String {
    if line.ends_with('\n') {
        line.pop();
        if line.ends_with('\r') {
            line.pop();
        }
    }
    line
}

/// The next line of standard input, without its line end; `what` names it in errors.
pub(crate) fn stdin_line(what: &str) -> CmdResult<String> {
    let mut line = String::new();
    match std::io::stdin().lock().read_line(&mut line) {
        Ok(0) => {
            eprintln!("rolecall: standard input ended before {what}");
            Err(Exit(2))
        }
        Ok(_) => Ok(strip_line_end(line)),
        Err(e) => {
            eprintln!("rolecall: cannot read {what} from standard input: {e}");
            Err(Exit(1))
        }
    }
}

/// Asks for a short visible answer (a code): the prompt on stderr, the answer from stdin (the
/// terminal, or the next line of piped input).
fn prompt_line(prompt: &str, what: &str) -> CmdResult<String> {
    eprint!("{prompt}");
    let _ = std::io::stderr().flush();
    Ok(stdin_line(what)?.trim().to_string())
}

/// Asks for a secret on the controlling terminal with echo turned off (by `stty`, so no
/// unsafe code). Refuses rather than echo the secret when echo cannot be turned off.
pub(crate) fn prompt_hidden(prompt: &str) -> CmdResult<String> {
    use std::process::{Command, Stdio};
    let fail = |e: std::io::Error| {
        eprintln!("rolecall: cannot ask for the password on the terminal: {e}; use --password-stdin or ROLECALL_PASSWORD");
        Exit(1)
    };
    let mut tty = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open("/dev/tty")
        .map_err(fail)?;
    let stty = |arg: &str, tty: &std::fs::File| -> std::io::Result<bool> {
        Ok(Command::new("stty")
            .arg(arg)
            .stdin(tty.try_clone()?)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()?
            .success())
    };
    if !stty("-echo", &tty).unwrap_or(false) {
        return Err(fail(std::io::Error::other("cannot turn echo off")));
    }
    let mut line = String::new();
    let read = tty
        .write_all(prompt.as_bytes())
        .and_then(|()| tty.flush())
        .and_then(|()| std::io::BufReader::new(tty.try_clone()?).read_line(&mut line));
    let _ = stty("echo", &tty);
    let _ = tty.write_all(b"\n");
    match read {
        Ok(0) => {
            eprintln!("rolecall: the terminal closed before the password was entered");
            Err(Exit(2))
        }
        Ok(_) => Ok(strip_line_end(line)),
        Err(e) => Err(fail(e)),
    }
}

/// The header that carries the acting person's password with a sensitive change.
const REVERIFY_HEADER: &str = "X-Rolecall-Password";

/// Whether `value` travels in an HTTP header unchanged as the server reads it: visible ASCII
/// and inner spaces (parsers trim the ends).
fn header_safe(value: &str) -> bool {
    value.bytes().all(|b| b == b' ' || b.is_ascii_graphic())
        && !value.starts_with(' ')
        && !value.ends_with(' ')
}

/// The password for `--reverify`: `ROLECALL_PASSWORD`, else a prompt without echo on a
/// terminal, else the first line of standard input.
fn reverify_password() -> CmdResult<String> {
    let password = if let Some(p) = std::env::var("ROLECALL_PASSWORD")
        .ok()
        .filter(|p| !p.is_empty())
    {
        p
    } else if std::io::stdin().is_terminal() {
        prompt_hidden("Your password (to confirm the change): ")?
    } else {
        stdin_line("the password for --reverify")?
    };
    if password.is_empty() {
        eprintln!("rolecall: the password for --reverify is empty");
        return Err(Exit(2));
    }
    Ok(password)
}

/// The password: `--password-stdin`, else `ROLECALL_PASSWORD`, else a prompt without echo on
/// a terminal, else the first line of standard input.
fn read_password(args: &LoginArgs) -> CmdResult<String> {
    let password = if args.password_stdin {
        stdin_line("the password")?
    } else if let Some(p) = std::env::var("ROLECALL_PASSWORD")
        .ok()
        .filter(|p| !p.is_empty())
    {
        p
    } else if std::io::stdin().is_terminal() {
        prompt_hidden(&format!("Password for {}: ", args.login))?
    } else {
        stdin_line("the password")?
    };
    if password.is_empty() {
        eprintln!("rolecall: the password is empty");
        return Err(Exit(2));
    }
    Ok(password)
}

/// `rolecall login`: signs in, goes through whatever the session still needs (a second
/// factor, two-factor enrolment, a new password) and saves the full session in the profile.
async fn login(args: LoginArgs) -> CmdResult {
    let name = profile_name(args.profile.as_deref())?;
    let (file, mut profiles) = load_profiles()?;
    let saved = profiles.profiles.get(&name).cloned().unwrap_or_default();
    let pick = |given: &Option<String>, saved: &str, default: &str| {
        given
            .as_deref()
            .map(str::trim)
            .filter(|v| !v.is_empty())
            .or(Some(saved).filter(|v| !v.is_empty()))
            .unwrap_or(default)
            .to_string()
    };
    let url = pick(&args.url, &saved.url, DEFAULT_URL);
    let org = pick(&args.org, &saved.org, DEFAULT_ORG);
    let mut c = Client::connect(&url, &org, None, false)?;
    let login = args.login.trim();
    if login.is_empty() {
        eprintln!("rolecall: --login must name a username or e-mail");
        return Err(Exit(1));
    }
    let password = read_password(&args)?;
    let r = c
        .request(
            Method::POST,
            &["organizations", &org, "sign-in"],
            &[],
            Some(json!({ "login": login, "password": password })),
        )
        .await?;
    if !r.status.is_success() {
        let exit = c.fail(&r, refusal_code(r.status));
        if r.status == StatusCode::UNAUTHORIZED {
            eprintln!(
                "rolecall: sign-in to organization {org:?} at {} was refused",
                c.base
            );
        }
        return Err(exit);
    }
    let token = text(&r.body, "token");
    if token.is_empty() {
        eprintln!(
            "rolecall: the server at {} answered the sign-in without a session token",
            c.base
        );
        return Err(Exit(1));
    }
    c.token = Some(token.clone());
    let stage = text(&r.body, "stage");
    let me = match complete_sign_in(&c, &args, &password, stage).await {
        Ok(me) => me,
        Err(exit) => {
            // Do not leave a half-signed-in session behind.
            let _ = c.request(Method::POST, &["sign-out"], &[], None).await;
            return Err(exit);
        }
    };
    let previous = profiles.profiles.insert(
        name.clone(),
        Profile {
            url: c.base.to_string(),
            org: org.clone(),
            token: Some(token.clone()),
        },
    );
    save_profiles(&file, &profiles)?;
    // The profile's earlier session is no longer reachable: end it (best effort).
    if let Some(old) = previous.filter(|p| p.token.as_deref().is_some_and(|t| t != token)) {
        if let Ok(old_client) = Client::connect(&old.url, &old.org, old.token, false) {
            let _ = old_client
                .request(Method::POST, &["sign-out"], &[], None)
                .await;
        }
    }
    let user = &me["user"];
    println!(
        "Signed in to {} as {} (organization {org}); session saved in profile {name:?} ({}).",
        c.base,
        text(user, "username"),
        file.display()
    );
    Ok(0)
}

/// Takes a session from `stage` to `full`; returns `GET /me` of the full session.
async fn complete_sign_in(
    c: &Client,
    args: &LoginArgs,
    password: &str,
    mut stage: String,
) -> CmdResult<Value> {
    // Each step moves the session on (password, then enrolment or code); a few rounds suffice.
    for _ in 0..4 {
        match stage.as_str() {
            "full" => {}
            "totp" => second_factor(c, args).await?,
            "enrol" => enrol_totp(c, args).await?,
            "password" => change_expired_password(c, args, password).await?,
            other => {
                eprintln!("rolecall: the server answered an unknown sign-in stage {other:?}; is this CLI older than the server?");
                return Err(Exit(1));
            }
        }
        let me = c.call(Method::GET, &["me"], &[], None).await?;
        stage = text(&me.body["session"], "stage");
        if stage == "full" {
            return Ok(me.body);
        }
    }
    eprintln!("rolecall: sign-in did not complete (the session is still at stage {stage:?})");
    Err(Exit(2))
}

async fn second_factor(c: &Client, args: &LoginArgs) -> CmdResult<()> {
    let body = match (&args.recovery_code, &args.code) {
        (Some(rc), _) => json!({ "recovery_code": rc.trim() }),
        (None, Some(code)) => json!({ "code": code.trim() }),
        (None, None) => {
            let code = prompt_line(
                "Code from your authenticator app: ",
                "the authentication code",
            )?;
            json!({ "code": code })
        }
    };
    let r = c
        .request(Method::POST, &["me", "second-factor"], &[], Some(body))
        .await?;
    if !r.status.is_success() {
        return Err(c.fail(&r, refusal_code(r.status)));
    }
    Ok(())
}

/// First sign-in where two-factor authentication is required: shows the new secret, takes a
/// first code and shows the recovery codes, once.
async fn enrol_totp(c: &Client, args: &LoginArgs) -> CmdResult<()> {
    let e = c
        .call(Method::POST, &["me", "totp", "enrolment"], &[], None)
        .await?;
    println!("Two-factor authentication is required: add this account to your authenticator app.");
    println!("  otpauth URI: {}", text(&e.body, "otpauth_uri"));
    println!("  secret:      {}", text(&e.body, "secret"));
    if args.code.is_some() || args.recovery_code.is_some() {
        eprintln!("rolecall: note: --code and --recovery-code do not apply here: the secret above is new, so enter its first code now");
    }
    let code = prompt_line(
        "Code from your authenticator app: ",
        "the first authentication code",
    )?;
    let r = c
        .request(
            Method::POST,
            &["me", "totp", "confirm"],
            &[],
            Some(json!({ "code": code })),
        )
        .await?;
    if !r.status.is_success() {
        return Err(c.fail(&r, refusal_code(r.status)));
    }
    println!("Two-factor authentication is set up. Recovery codes, shown this once: keep them somewhere safe; each works once instead of a code:");
    for code in r.body["recovery_codes"].as_array().into_iter().flatten() {
        println!("  {}", text_of(code));
    }
    Ok(())
}

async fn change_expired_password(c: &Client, args: &LoginArgs, current: &str) -> CmdResult<()> {
    eprintln!(
        "rolecall: the password of {} has expired and must be changed.",
        args.login.trim()
    );
    let new = if args.new_password_stdin {
        stdin_line("the new password")?
    } else if std::io::stdin().is_terminal() {
        let first = prompt_hidden("New password: ")?;
        let again = prompt_hidden("New password again: ")?;
        if first != again {
            eprintln!("rolecall: the two new passwords differ; nothing was changed");
            return Err(Exit(1));
        }
        first
    } else {
        eprintln!("rolecall: run `rolecall login` on a terminal to change it, or pass --new-password-stdin with the new password on the next line of standard input");
        return Err(Exit(2));
    };
    let r = c
        .request(
            Method::POST,
            &["me", "password"],
            &[],
            Some(json!({ "current_password": current, "new_password": new })),
        )
        .await?;
    if !r.status.is_success() {
        let code = if r.status == StatusCode::UNPROCESSABLE_ENTITY {
            1
        } else {
            refusal_code(r.status)
        };
        return Err(c.fail(&r, code));
    }
    eprintln!("rolecall: password changed.");
    Ok(())
}

/// `rolecall logout`: ends the session on the server; forgets the profile's token (keeping
/// its URL and organization for the next `login`).
async fn logout(remote: &RemoteArgs) -> CmdResult {
    let explicit = remote
        .token
        .as_deref()
        .is_some_and(|t| !t.trim().is_empty());
    let c = if explicit {
        Client::new(remote)?
    } else {
        let name = profile_name(remote.profile.as_deref())?;
        let (_, profiles) = load_profiles()?;
        if profiles
            .profiles
            .get(&name)
            .and_then(|p| p.token.as_ref())
            .is_none()
        {
            println!("Profile {name:?} is not signed in.");
            return Ok(0);
        }
        Client::new(remote)?
    };
    let ended = c.request(Method::POST, &["sign-out"], &[], None).await;
    if let Some(name) = &c.profile {
        // Forget the token whatever the server said: it must not be used again.
        let (file, mut profiles) = load_profiles()?;
        if let Some(p) = profiles.profiles.get_mut(name) {
            p.token = None;
        }
        save_profiles(&file, &profiles)?;
    }
    let r = ended?;
    let whose = c
        .profile
        .as_ref()
        .map(|n| format!(" of profile {n:?}"))
        .unwrap_or_default();
    if r.status.is_success() {
        println!("Signed out{whose}.");
        Ok(0)
    } else if r.status == StatusCode::UNAUTHORIZED {
        println!("The session{whose} had already ended.");
        Ok(0)
    } else {
        Err(c.fail(&r, 1))
    }
}

/// An admin right as text: its kind, then what it covers (`product commerce-admin`).
pub(crate) fn admin_right(right: &Value) -> String {
    let mut out = text(right, "kind");
    for (key, value) in right.as_object().into_iter().flatten() {
        let value = text_of(value);
        if key != "kind" && !value.is_empty() {
            out.push(' ');
            out.push_str(&value);
        }
    }
    out
}

/// `rolecall whoami`: the user, session and admin rights behind the token.
async fn whoami(remote: &RemoteArgs) -> CmdResult {
    let c = Client::new(remote)?;
    let r = c.call(Method::GET, &["me"], &[], None).await?;
    if !c.print_json(&r.body) {
        let (u, s) = (&r.body["user"], &r.body["session"]);
        let rights = r.body["admin_rights"]
            .as_array()
            .into_iter()
            .flatten()
            .map(admin_right)
            .collect::<Vec<_>>()
            .join(", ");
        let mut rows = vec![
            ("username", text(u, "username")),
            ("email", text(u, "email")),
            ("name", full_name(u)),
            ("id", text(u, "id")),
            ("organization", c.org.clone()),
            ("server", c.base.to_string()),
        ];
        if let Some(name) = &c.profile {
            rows.push(("profile", name.clone()));
        }
        rows.push(("session expires", time(&s["expires_at"])));
        rows.push(("admin rights", or_none(rights)));
        println!("{}", details(rows));
    }
    Ok(0)
}

async fn users(c: &Client, cmd: UsersCommand) -> CmdResult {
    match cmd {
        UsersCommand::List {
            status,
            q,
            group,
            role,
            page,
            per_page,
        } => {
            let query = [
                ("status", status),
                ("q", q),
                ("group", group),
                ("role", role),
                ("page", page.map(|p| p.to_string())),
                ("per_page", per_page.map(|p| p.to_string())),
            ];
            let r = c.org_call(Method::GET, &["users"], &query, None).await?;
            if !c.print_json(&r.body) {
                print_users(items(&r.body));
                println!(
                    "page {} ({} per page), {} in total",
                    text(&r.body, "page"),
                    text(&r.body, "per_page"),
                    text(&r.body, "total")
                );
            }
        }
        UsersCommand::Get { id } => {
            let r = c.org_call(Method::GET, &["users", &id], &[], None).await?;
            if !c.print_json(&r.body) {
                print_user(&r.body);
            }
        }
        UsersCommand::Create {
            email,
            username,
            first_name,
            last_name,
            locale,
            invited,
        } => {
            let mut body = Map::new();
            body.insert("email".into(), email.into());
            put_opt(&mut body, "username", username);
            put_opt(&mut body, "first_name", first_name);
            put_opt(&mut body, "last_name", last_name);
            put_opt(&mut body, "locale", locale);
            if invited {
                body.insert("status".into(), "invited".into());
            }
            let r = c
                .org_call(Method::POST, &["users"], &[], Some(Value::Object(body)))
                .await?;
            if !c.print_json(&r.body) {
                print_user(&r.body);
            }
        }
        UsersCommand::Update {
            id,
            email,
            first_name,
            last_name,
            locale,
        } => {
            let mut body = Map::new();
            put_opt(&mut body, "email", email);
            put_opt(&mut body, "first_name", first_name);
            put_opt(&mut body, "last_name", last_name);
            put_opt(&mut body, "locale", locale);
            let r = c
                .org_call(
                    Method::PATCH,
                    &["users", &id],
                    &[],
                    Some(Value::Object(body)),
                )
                .await?;
            if !c.print_json(&r.body) {
                print_user(&r.body);
            }
        }
        UsersCommand::Deactivate { id } => set_status(c, &id, "inactive").await?,
        UsersCommand::Reactivate { id } => set_status(c, &id, "active").await?,
        UsersCommand::Delete { id } => {
            c.org_call(Method::DELETE, &["users", &id], &[], None)
                .await?;
            c.done(&format!("Deleted user {id}."));
        }
        UsersCommand::Roles { id } => {
            let r = c
                .org_call(Method::GET, &["users", &id, "roles"], &[], None)
                .await?;
            if !c.print_json(&r.body) {
                let mut t = table(&["role id", "role", "application", "via"]);
                for h in items(&r.body) {
                    let via = match text(h, "via").as_str() {
                        "group" => format!("group {}", text(h, "group_id")),
                        other => other.to_string(),
                    };
                    t.add_row(vec![
                        text(h, "role_id"),
                        text(h, "role_name"),
                        text(h, "application"),
                        via,
                    ]);
                }
                println!("{t}");
            }
        }
        UsersCommand::Products { id } => crate::cli_admin::user_products(c, &id).await?,
    }
    Ok(0)
}

/// Deactivation and reactivation are status changes through the ordinary PATCH.
async fn set_status(c: &Client, id: &str, status: &str) -> CmdResult<()> {
    let r = c
        .org_call(
            Method::PATCH,
            &["users", id],
            &[],
            Some(json!({ "status": status })),
        )
        .await?;
    if !c.print_json(&r.body) {
        println!(
            "User {} ({}) is now {}.",
            text(&r.body, "email"),
            text(&r.body, "id"),
            text(&r.body, "status")
        );
    }
    Ok(())
}

async fn groups(c: &Client, cmd: GroupsCommand) -> CmdResult {
    match cmd {
        GroupsCommand::List { q } => {
            let r = c
                .org_call(Method::GET, &["groups"], &[("q", q)], None)
                .await?;
            if !c.print_json(&r.body) {
                let mut t = table(&["id", "name", "description"]);
                for g in items(&r.body) {
                    t.add_row(vec![text(g, "id"), text(g, "name"), text(g, "description")]);
                }
                println!("{t}");
                println!("{} in total", text(&r.body, "total"));
            }
        }
        GroupsCommand::Get { id } => {
            let r = c.org_call(Method::GET, &["groups", &id], &[], None).await?;
            if !c.print_json(&r.body) {
                print_group(&r.body);
            }
        }
        GroupsCommand::Create { name, description } => {
            let mut body = Map::new();
            body.insert("name".into(), name.into());
            put_opt(&mut body, "description", description);
            let r = c
                .org_call(Method::POST, &["groups"], &[], Some(Value::Object(body)))
                .await?;
            if !c.print_json(&r.body) {
                print_group(&r.body);
            }
        }
        GroupsCommand::Delete { id } => {
            c.org_call(Method::DELETE, &["groups", &id], &[], None)
                .await?;
            c.done(&format!("Deleted group {id}."));
        }
        GroupsCommand::Members { id } => {
            let r = c
                .org_call(Method::GET, &["groups", &id, "members"], &[], None)
                .await?;
            if !c.print_json(&r.body) {
                print_users(items(&r.body));
            }
        }
        GroupsCommand::AddMember { group, user } => {
            c.link(
                &["groups", &group, "members"],
                json!({ "user_id": user }),
                format!("Added user {user} to group {group}."),
                format!("User {user} was already a member of group {group}."),
            )
            .await?;
        }
        GroupsCommand::RemoveMember { group, user } => {
            c.org_call(
                Method::DELETE,
                &["groups", &group, "members", &user],
                &[],
                None,
            )
            .await?;
            c.done(&format!("Removed user {user} from group {group}."));
        }
        GroupsCommand::AddRole { group, role } => {
            c.link(
                &["groups", &group, "roles"],
                json!({ "role_id": role }),
                format!("Assigned role {role} to group {group}."),
                format!("Group {group} already held role {role}."),
            )
            .await?;
        }
        GroupsCommand::RemoveRole { group, role } => {
            c.org_call(
                Method::DELETE,
                &["groups", &group, "roles", &role],
                &[],
                None,
            )
            .await?;
            c.done(&format!("Removed role {role} from group {group}."));
        }
    }
    Ok(0)
}

async fn roles(c: &Client, cmd: RolesCommand) -> CmdResult {
    match cmd {
        RolesCommand::List { application, q } => {
            let r = c
                .org_call(
                    Method::GET,
                    &["roles"],
                    &[("application", application), ("q", q)],
                    None,
                )
                .await?;
            if !c.print_json(&r.body) {
                let mut t = table(&["id", "application", "name", "builtin", "scopes"]);
                for role in items(&r.body) {
                    t.add_row(vec![
                        text(role, "id"),
                        text(role, "application"),
                        text(role, "name"),
                        yes_no(role, "builtin"),
                        scopes(role),
                    ]);
                }
                println!("{t}");
            }
        }
        RolesCommand::Get { id } => {
            let r = c.org_call(Method::GET, &["roles", &id], &[], None).await?;
            if !c.print_json(&r.body) {
                print_role(&r.body);
            }
        }
        RolesCommand::Create {
            application,
            name,
            description,
            grants,
            scopes,
        } => {
            let known = if grants.iter().any(|g| g.contains(':')) {
                c.resource_ids(&application).await
            } else {
                HashSet::new()
            };
            let mut parsed = Vec::with_capacity(grants.len());
            for g in &grants {
                match parse_grant(g, &known) {
                    Ok(v) => parsed.push(v),
                    Err(msg) => {
                        eprintln!("rolecall: --grant {g:?}: {msg}");
                        return Err(Exit(1));
                    }
                }
            }
            let mut body = Map::new();
            body.insert("application".into(), application.into());
            body.insert("name".into(), name.into());
            put_opt(&mut body, "description", description);
            body.insert("grants".into(), Value::Array(parsed));
            body.insert("scopes".into(), json!(scopes));
            let r = c
                .org_call(Method::POST, &["roles"], &[], Some(Value::Object(body)))
                .await?;
            if !c.print_json(&r.body) {
                print_role(&r.body);
            }
        }
        RolesCommand::Delete { id } => {
            c.org_call(Method::DELETE, &["roles", &id], &[], None)
                .await?;
            c.done(&format!("Deleted role {id}."));
        }
        RolesCommand::Grants { id } => {
            let r = c
                .org_call(Method::GET, &["roles", &id, "grants"], &[], None)
                .await?;
            if !c.print_json(&r.body) {
                print_grants(&r.body["grants"]);
            }
        }
    }
    Ok(0)
}

async fn apps(c: &Client, cmd: AppsCommand) -> CmdResult {
    match cmd {
        AppsCommand::List => {
            let r = c.call(Method::GET, &["applications"], &[], None).await?;
            if !c.print_json(&r.body) {
                let mut t = table(&[
                    "key",
                    "name",
                    "resources",
                    "scope kinds",
                    "actions",
                    "one role per user",
                ]);
                for a in items(&r.body) {
                    t.add_row(vec![
                        text(a, "key"),
                        text(a, "name"),
                        text(a, "resource_count"),
                        list(&a["scope_kinds"], " > "),
                        list(&a["actions"], ", "),
                        yes_no(a, "one_role_per_user"),
                    ]);
                }
                println!("{t}");
            }
        }
        AppsCommand::Get { key } => {
            let r = c
                .call(Method::GET, &["applications", &key], &[], None)
                .await?;
            if !c.print_json(&r.body) {
                let a = &r.body;
                println!("{} ({})", text(a, "name"), text(a, "key"));
                let description = text(a, "description");
                if !description.is_empty() {
                    println!("{description}");
                }
                println!("one role per user: {}", yes_no(a, "one_role_per_user"));
                println!("actions:           {}", or_none(list(&a["actions"], ", ")));
                println!("scope kinds:       {}", list(&a["scope_kinds"], " > "));
                println!("resources:         {}", text(a, "resource_count"));
                println!();
                let mut out = String::new();
                resource_tree(&a["resources"], 0, &mut out);
                print!("{out}");
            }
        }
    }
    Ok(0)
}

/// A successful response: the status (some commands say "added" vs "already there") and the
/// parsed body (`Null` when empty).
pub(crate) struct Reply {
    pub(crate) status: StatusCode,
    pub(crate) body: Value,
    /// The `ETag` header, for `If-Match` on the next write.
    pub(crate) etag: Option<String>,
}

pub(crate) struct Client {
    http: reqwest::Client,
    base: Url,
    /// Absent only for `login`'s sign-in request.
    token: Option<String>,
    pub(crate) org: String,
    pub(crate) json: bool,
    /// The password sent in `X-Rolecall-Password` with every change (`--reverify`).
    reverify: Option<String>,
    /// Whether `reverify` was already sent through `POST /me/reverify`.
    reverified: std::sync::atomic::AtomicBool,
    /// The profile the token was read from, to suggest signing in again when it has ended.
    profile: Option<String>,
}

impl Client {
    /// Resolves the connection: `--token`/`ROLECALL_TOKEN` with `--url`/`--org` (or their
    /// defaults), else the profile's token with its URL and organization unless given.
    /// Mistakes are named plainly before any request. With `--reverify`, the password is read
    /// here, once.
    pub(crate) fn new(args: &RemoteArgs) -> CmdResult<Client> {
        let mut c = Client::resolve(args)?;
        if args.reverify {
            c.reverify = Some(reverify_password()?);
        }
        Ok(c)
    }

    fn resolve(args: &RemoteArgs) -> CmdResult<Client> {
        if let Some(token) = args.token.as_deref().map(str::trim) {
            if !token.is_empty() {
                let url = args.url.as_deref().unwrap_or(DEFAULT_URL);
                let org = args.org.as_deref().unwrap_or(DEFAULT_ORG);
                return Client::connect(url, org, Some(token.to_string()), args.json);
            }
        }
        let name = profile_name(args.profile.as_deref())?;
        let (file, profiles) = load_profiles()?;
        let Some(profile) = profiles.profiles.get(&name) else {
            eprintln!("rolecall: an API token is required: pass --token or set ROLECALL_TOKEN, or sign in with `rolecall login{}` (no profile {name:?} in {})", profile_flag(&name), file.display());
            return Err(Exit(2));
        };
        let Some(token) = profile.token.as_deref().filter(|t| !t.trim().is_empty()) else {
            eprintln!("rolecall: profile {name:?} is signed out: sign in with `rolecall login{}`, or pass --token or set ROLECALL_TOKEN", profile_flag(&name));
            return Err(Exit(2));
        };
        let url = args.url.as_deref().unwrap_or(&profile.url);
        let org = args.org.as_deref().unwrap_or(&profile.org);
        let mut c = Client::connect(url, org, Some(token.trim().to_string()), args.json)?;
        c.profile = Some(name);
        Ok(c)
    }

    fn connect(url: &str, org: &str, token: Option<String>, json: bool) -> CmdResult<Client> {
        let base = match Url::parse(url.trim()) {
            Ok(u) if matches!(u.scheme(), "http" | "https") && !u.cannot_be_a_base() => u,
            Ok(_) => {
                eprintln!("rolecall: --url {url:?} must be an http:// or https:// URL");
                return Err(Exit(1));
            }
            Err(e) => {
                eprintln!("rolecall: --url {url:?} is not a valid URL: {e}");
                return Err(Exit(1));
            }
        };
        let http = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(10))
            .timeout(Duration::from_secs(60))
            .user_agent(concat!("rolecall-cli/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| {
                eprintln!("rolecall: cannot set up the HTTP client: {}", chain(&e));
                Exit(1)
            })?;
        Ok(Client {
            http,
            base,
            token,
            org: org.to_string(),
            json,
            reverify: None,
            reverified: Default::default(),
            profile: None,
        })
    }

    /// The URL of `segments` below the base, each segment percent-encoded (ids and keys are
    /// user input), with the query parameters that are set.
    fn url(&self, segments: &[&str], query: &[(&str, Option<String>)]) -> Url {
        let mut url = self.base.clone();
        if let Ok(mut path) = url.path_segments_mut() {
            path.pop_if_empty().extend(segments);
        }
        url.set_query(None);
        let set: Vec<_> = query
            .iter()
            .filter_map(|(k, v)| v.as_deref().map(|v| (*k, v)))
            .collect();
        if !set.is_empty() {
            url.query_pairs_mut().extend_pairs(set);
        }
        url
    }

    /// A request below `/api/v1/organizations/{org}/`.
    pub(crate) async fn org_call(
        &self,
        method: Method,
        path: &[&str],
        query: &[(&str, Option<String>)],
        body: Option<Value>,
    ) -> CmdResult<Reply> {
        let mut segments = vec!["organizations", self.org.as_str()];
        segments.extend_from_slice(path);
        self.call(method, &segments, query, body).await
    }

    /// A request below `/api/v1/`. Failures are reported on stderr here, once, and become the
    /// exit code: 2 for 401/403, 1 otherwise.
    pub(crate) async fn call(
        &self,
        method: Method,
        path: &[&str],
        query: &[(&str, Option<String>)],
        body: Option<Value>,
    ) -> CmdResult<Reply> {
        let r = self.request(method, path, query, body).await?;
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

    /// A request below `/api/v1/` that answers whatever status the server gave; only failures
    /// to talk to the server (reported here) are errors. An empty body is `Null`.
    pub(crate) async fn request(
        &self,
        method: Method,
        path: &[&str],
        query: &[(&str, Option<String>)],
        body: Option<Value>,
    ) -> CmdResult<Reply> {
        self.request_if_match(method, path, query, body, None).await
    }

    /// As [`Client::request`], with `If-Match: if_match` when given. Changes (anything but
    /// GET) carry the `--reverify` password.
    pub(crate) async fn request_if_match(
        &self,
        method: Method,
        path: &[&str],
        query: &[(&str, Option<String>)],
        body: Option<Value>,
        if_match: Option<&str>,
    ) -> CmdResult<Reply> {
        let change = method != Method::GET;
        let mut segments = vec!["api", "v1"];
        segments.extend_from_slice(path);
        let url = self.url(&segments, query);
        let mut req = self
            .http
            .request(method, url.clone())
            .header(reqwest::header::ACCEPT, "application/json");
        if let Some(token) = &self.token {
            req = req.bearer_auth(token);
        }
        if let (true, Some(password)) = (change, &self.reverify) {
            if header_safe(password) {
                req = req.header(REVERIFY_HEADER, password);
            } else {
                // Headers carry visible ASCII only: re-verify through the body instead.
                self.reverify_by_body(password).await?;
            }
        }
        if let Some(v) = if_match {
            req = req.header(reqwest::header::IF_MATCH, v);
        }
        if let Some(b) = body {
            req = req.json(&b);
        }
        let res = req.send().await.map_err(|e| {
            if e.is_connect() {
                eprintln!(
                    "rolecall: cannot connect to the server at {}: {} (is it running? set --url or ROLECALL_URL)",
                    self.base,
                    root_cause(&e)
                );
            } else if e.is_timeout() {
                eprintln!("rolecall: the server at {} did not answer in time", self.base);
            } else {
                eprintln!("rolecall: request to {url} failed: {}", chain(&e));
            }
            Exit(1)
        })?;
        let status = res.status();
        let etag = res
            .headers()
            .get(reqwest::header::ETAG)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string);
        let raw = res.text().await.map_err(|e| {
            eprintln!(
                "rolecall: reading the answer from {url} failed: {}",
                chain(&e)
            );
            Exit(1)
        })?;
        let parsed = if raw.trim().is_empty() {
            Ok(Value::Null)
        } else {
            serde_json::from_str::<Value>(&raw)
        };
        match parsed {
            Ok(body) => Ok(Reply { status, body, etag }),
            Err(_) if status.is_success() => {
                eprintln!("rolecall: the server at {} answered {status} with a body that is not JSON; is --url pointing at rolecall?", self.base);
                Err(Exit(1))
            }
            Err(_) => Ok(Reply {
                status,
                body: Value::Null,
                etag,
            }),
        }
    }

    /// `POST /me/reverify` with `password`, once per command, for passwords that cannot
    /// travel in a header. Not a `request`, which would recurse.
    async fn reverify_by_body(&self, password: &str) -> CmdResult<()> {
        if self
            .reverified
            .swap(true, std::sync::atomic::Ordering::SeqCst)
        {
            return Ok(());
        }
        let url = self.url(&["api", "v1", "me", "reverify"], &[]);
        let mut req = self
            .http
            .post(url)
            .header(reqwest::header::ACCEPT, "application/json")
            .json(&json!({ "password": password }));
        if let Some(token) = &self.token {
            req = req.bearer_auth(token);
        }
        let res = req.send().await.map_err(|e| {
            eprintln!(
                "rolecall: confirming your password with {} failed: {}",
                self.base,
                chain(&e)
            );
            Exit(1)
        })?;
        let status = res.status();
        if status.is_success() {
            return Ok(());
        }
        let body = res.json::<Value>().await.unwrap_or(Value::Null);
        let r = Reply {
            status,
            body,
            etag: None,
        };
        Err(self.fail(&r, refusal_code(status)))
    }

    /// Reports a failed reply on stderr (the server's problem detail when it sent one) and
    /// returns `code` as the exit.
    pub(crate) fn fail(&self, r: &Reply, code: i32) -> Exit {
        let problem = text(&r.body, "code");
        if r.body.get("detail").is_some() {
            let detail = text_of(&r.body["detail"]);
            if problem.is_empty() {
                eprintln!("rolecall: {detail}");
            } else {
                eprintln!("rolecall: {detail} ({problem})");
            }
            for e in r.body["errors"].as_array().into_iter().flatten() {
                eprintln!("  {}: {}", text(e, "field"), text(e, "message"));
            }
        } else {
            eprintln!(
                "rolecall: the server at {} answered {}",
                self.base, r.status
            );
        }
        if r.status == StatusCode::UNAUTHORIZED {
            if let Some(name) = &self.profile {
                eprintln!("rolecall: the session saved in profile {name:?} has ended: sign in again with `rolecall login{}`", profile_flag(name));
            }
        }
        if problem == "reverification_required" {
            eprintln!("rolecall: this change needs your password: run the command again with --reverify (the password comes from ROLECALL_PASSWORD, else a prompt)");
        }
        Exit(code)
    }

    /// Every resource id of an application, to tell `--grant a:b` (a resource named `a:b`)
    /// from `a:b` (actions `b` on `a`). Empty when the catalogue cannot be read: the server's
    /// own validation of the role then reports the problem.
    async fn resource_ids(&self, app: &str) -> HashSet<String> {
        let url = self.url(&["api", "v1", "applications", app], &[]);
        let mut ids = HashSet::new();
        let mut req = self.http.get(url);
        if let Some(token) = &self.token {
            req = req.bearer_auth(token);
        }
        let res = req.send().await;
        if let Ok(res) = res {
            if res.status().is_success() {
                if let Ok(v) = res.json::<Value>().await {
                    collect_ids(&v["resources"], &mut ids);
                }
            }
        }
        ids
    }

    /// With `--json`, prints the body and returns true; the caller prints a table otherwise.
    pub(crate) fn print_json(&self, body: &Value) -> bool {
        if self.json && !body.is_null() {
            println!(
                "{}",
                serde_json::to_string_pretty(body).unwrap_or_else(|_| body.to_string())
            );
        }
        self.json
    }

    /// POSTs to an association endpoint (membership, assignment, seat) and says whether the link
    /// is new (201) or was already there (200).
    pub(crate) async fn link(
        &self,
        path: &[&str],
        body: Value,
        added: String,
        existed: String,
    ) -> CmdResult<()> {
        let r = self.org_call(Method::POST, path, &[], Some(body)).await?;
        self.done(if r.status == StatusCode::CREATED {
            &added
        } else {
            &existed
        });
        Ok(())
    }

    /// Confirms a change that has no response body (nothing is printed with `--json`).
    pub(crate) fn done(&self, message: &str) {
        if !self.json {
            println!("{message}");
        }
    }
}

fn collect_ids(node: &Value, out: &mut HashSet<String>) {
    if let Some(id) = node["id"].as_str() {
        out.insert(id.to_string());
    }
    for child in node["children"].as_array().into_iter().flatten() {
        collect_ids(child, out);
    }
}

/// Parses `RESOURCE[:action,action]` into a grant object. Resource ids may themselves hold
/// `::` (Magento) or `:` (cloud), so a separator is a lone `:`, and a catalogue id wins.
fn parse_grant(raw: &str, known: &HashSet<String>) -> std::result::Result<Value, String> {
    let raw = raw.trim();
    if raw.is_empty() {
        return Err("names no resource".into());
    }
    let bytes = raw.as_bytes();
    let lone: Vec<usize> = (0..bytes.len())
        .filter(|&i| {
            bytes[i] == b':' && (i == 0 || bytes[i - 1] != b':') && bytes.get(i + 1) != Some(&b':')
        })
        .collect();
    let split = if known.contains(raw) {
        None
    } else {
        lone.iter()
            .rev()
            .copied()
            .find(|&i| known.contains(&raw[..i]))
            .or_else(|| lone.last().copied())
    };
    let Some(i) = split else {
        return Ok(json!({ "resource": raw, "actions": "*" }));
    };
    let (resource, actions) = (&raw[..i], &raw[i + 1..]);
    if resource.is_empty() {
        return Err("names no resource before ':'".into());
    }
    if actions.trim() == "*" {
        return Ok(json!({ "resource": resource, "actions": "*" }));
    }
    let actions: Vec<&str> = actions
        .split(',')
        .map(str::trim)
        .filter(|a| !a.is_empty())
        .collect();
    if actions.is_empty() {
        return Err("names no action after ':' (omit ':' for every action)".into());
    }
    Ok(json!({ "resource": resource, "actions": actions }))
}

pub(crate) fn put_opt(body: &mut Map<String, Value>, key: &str, value: Option<String>) {
    if let Some(v) = value {
        body.insert(key.into(), v.into());
    }
}

/// The `items` array of a list response (empty when absent).
pub(crate) fn items(body: &Value) -> &[Value] {
    body["items"].as_array().map(Vec::as_slice).unwrap_or(&[])
}

/// A field as display text: strings bare, null and absent empty, anything else as JSON.
pub(crate) fn text(v: &Value, key: &str) -> String {
    text_of(&v[key])
}

pub(crate) fn text_of(v: &Value) -> String {
    match v {
        Value::Null => String::new(),
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

pub(crate) fn list(v: &Value, sep: &str) -> String {
    v.as_array()
        .map(|a| a.iter().map(text_of).collect::<Vec<_>>().join(sep))
        .unwrap_or_default()
}

pub(crate) fn or_none(s: String) -> String {
    if s.is_empty() {
        "(none)".into()
    } else {
        s
    }
}

pub(crate) fn yes_no(v: &Value, key: &str) -> String {
    if v[key].as_bool().unwrap_or(false) {
        "yes".into()
    } else {
        "no".into()
    }
}

/// A role's scopes; an empty list means the role applies everywhere.
fn scopes(role: &Value) -> String {
    let s = list(&role["scopes"], ", ");
    if s.is_empty() {
        "(all)".into()
    } else {
        s
    }
}

pub(crate) fn table(header: &[&str]) -> Table {
    let mut t = Table::new();
    t.load_preset(presets::UTF8_FULL_CONDENSED)
        .set_content_arrangement(ContentArrangement::Dynamic)
        .set_header(header.to_vec());
    t
}

/// A two-column field/value table for one object.
pub(crate) fn details(rows: Vec<(&str, String)>) -> Table {
    let mut t = Table::new();
    t.load_preset(presets::UTF8_FULL_CONDENSED)
        .set_content_arrangement(ContentArrangement::Dynamic);
    for (k, v) in rows {
        t.add_row(vec![k.to_string(), v]);
    }
    t
}

fn full_name(u: &Value) -> String {
    format!("{} {}", text(u, "first_name"), text(u, "last_name"))
        .trim()
        .to_string()
}

pub(crate) fn print_users(users: &[Value]) {
    let mut t = table(&["id", "username", "email", "name", "status"]);
    for u in users {
        t.add_row(vec![
            text(u, "id"),
            text(u, "username"),
            text(u, "email"),
            full_name(u),
            text(u, "status"),
        ]);
    }
    println!("{t}");
}

fn print_user(u: &Value) {
    println!(
        "{}",
        details(vec![
            ("id", text(u, "id")),
            ("username", text(u, "username")),
            ("email", text(u, "email")),
            ("name", full_name(u)),
            ("locale", text(u, "locale")),
            ("status", text(u, "status")),
            ("created", time(&u["created_at"])),
            ("updated", time(&u["updated_at"])),
            ("last sign-in", time(&u["last_sign_in_at"])),
            ("version", text(u, "version")),
        ])
    );
}

fn print_group(g: &Value) {
    println!(
        "{}",
        details(vec![
            ("id", text(g, "id")),
            ("name", text(g, "name")),
            ("description", text(g, "description")),
            ("created", time(&g["created_at"])),
            ("updated", time(&g["updated_at"])),
            ("version", text(g, "version")),
        ])
    );
}

fn print_role(r: &Value) {
    println!(
        "{}",
        details(vec![
            ("id", text(r, "id")),
            ("application", text(r, "application")),
            ("name", text(r, "name")),
            ("description", text(r, "description")),
            ("builtin", yes_no(r, "builtin")),
            ("scopes", scopes(r)),
            ("version", text(r, "version")),
        ])
    );
    print_grants(&r["grants"]);
}

fn print_grants(grants: &Value) {
    let mut t = table(&["resource", "actions"]);
    for g in grants.as_array().into_iter().flatten() {
        let actions = match &g["actions"] {
            Value::String(s) if s == "*" => "* (all)".to_string(),
            other => list(other, ", "),
        };
        t.add_row(vec![text(g, "resource"), actions]);
    }
    println!("{t}");
}

fn print_explanation(e: &Value) {
    println!("decision: {}", text(e, "decision"));
    println!("reason:   {}", text(e, "reason"));
    println!("message:  {}", text(e, "message"));
    let roles = e["roles"].as_array().map(Vec::as_slice).unwrap_or(&[]);
    if !roles.is_empty() {
        let mut t = table(&["role id", "role", "via", "scopes"]);
        for r in roles {
            let via = match text(r, "via").as_str() {
                "group" => {
                    let name = text(r, "group_name");
                    if name.is_empty() {
                        format!("group {}", text(r, "group_id"))
                    } else {
                        format!("group {name}")
                    }
                }
                other => other.to_string(),
            };
            t.add_row(vec![
                text(r, "role_id"),
                text(r, "role_name"),
                via,
                scopes(r),
            ]);
        }
        println!("{t}");
    }
}

/// Appends `node` and its descendants, two spaces per level, with the actions it supports.
fn resource_tree(node: &Value, depth: usize, out: &mut String) {
    let Some(id) = node["id"].as_str() else {
        return;
    };
    let indent = "  ".repeat(depth);
    let title = text(node, "title");
    let actions = list(&node["actions"], ", ");
    out.push_str(&indent);
    out.push_str(id);
    if !title.is_empty() {
        out.push_str("  ");
        out.push_str(&title);
    }
    if !actions.is_empty() {
        out.push_str(&format!("  [{actions}]"));
    }
    out.push('\n');
    for child in node["children"].as_array().into_iter().flatten() {
        resource_tree(child, depth + 1, out);
    }
}

/// Milliseconds since the epoch as `YYYY-MM-DD HH:MM:SS UTC` (empty when absent), without a
/// date library: the civil-from-days conversion of Howard Hinnant's algorithms.
pub(crate) fn time(v: &Value) -> String {
    let Some(ms) = v.as_i64() else {
        return String::new();
    };
    let secs = ms.div_euclid(1000);
    let (days, rem) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02} {:02}:{:02}:{:02} UTC",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

/// The innermost error, which says what actually went wrong ("Connection refused").
fn root_cause(e: &(dyn std::error::Error + 'static)) -> String {
    let mut cur = e;
    while let Some(next) = cur.source() {
        cur = next;
    }
    cur.to_string()
}

/// The error and its sources joined, since reqwest's top-level message omits the cause.
fn chain(e: &(dyn std::error::Error + 'static)) -> String {
    let mut out = e.to_string();
    let mut cur = e.source();
    while let Some(s) = cur {
        out.push_str(": ");
        out.push_str(&s.to_string());
        cur = s.source();
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn known() -> HashSet<String> {
        [
            "project",
            "project:settings",
            "environment",
            "Magento_Sales::sales",
        ]
        .into_iter()
        .map(String::from)
        .collect()
    }

    #[test]
    fn grants_tell_resource_colons_from_action_lists() {
        let k = known();
        let g = |s: &str| parse_grant(s, &k);
        assert_eq!(
            g("Magento_Sales::sales"),
            Ok(json!({"resource": "Magento_Sales::sales", "actions": "*"}))
        );
        assert_eq!(
            g("project:settings"),
            Ok(json!({"resource": "project:settings", "actions": "*"}))
        );
        assert_eq!(
            g("project:settings:view,edit"),
            Ok(json!({"resource": "project:settings", "actions": ["view", "edit"]}))
        );
        assert_eq!(
            g("environment:view"),
            Ok(json!({"resource": "environment", "actions": ["view"]}))
        );
        assert_eq!(
            g("Magento_Sales::sales:*"),
            Ok(json!({"resource": "Magento_Sales::sales", "actions": "*"}))
        );
        assert!(g("environment:").is_err());
        assert!(g(":view").is_err());
        assert_eq!(
            parse_grant("Other::x:view", &HashSet::new()),
            Ok(json!({"resource": "Other::x", "actions": ["view"]}))
        );
    }

    #[test]
    fn times_are_utc_dates() {
        assert_eq!(time(&json!(0)), "1970-01-01 00:00:00 UTC");
        assert_eq!(
            time(&json!(1_709_210_096_000_i64)),
            "2024-02-29 12:34:56 UTC"
        );
        assert_eq!(time(&Value::Null), "");
    }
}
