//! The management commands (HTTP clients of a running server) and where each is handled.
//!
//! Every command goes through the REST API (never the store), so the CLI works against a remote
//! server and obeys the same validation and permissions as any other client.

use super::client::{Client, CmdResult, Exit, RemoteArgs};
use super::signin::LoginArgs;
use super::{
    account, admins, apps, audit, check, credentials, events, groups, health, invitations, orgs,
    profiles, reports, roles, scim_clients, scopes, sessions, settings, signin, users,
};
use crate::error::Result;
use clap::Subcommand;

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
    /// My own account: my sessions, my password, confirming my identity.
    Me {
        #[command(flatten)]
        remote: RemoteArgs,
        #[command(subcommand)]
        cmd: account::MeCommand,
    },
    /// A forgotten password: request a reset token by e-mail, then set a new password with it
    /// (no sign-in needed).
    PasswordReset {
        #[command(flatten)]
        remote: RemoteArgs,
        #[command(subcommand)]
        cmd: account::PasswordResetCommand,
    },
    /// Whether the server answers (exit 0), for scripts and probes; no token needed.
    Health {
        #[command(flatten)]
        remote: RemoteArgs,
    },
    /// Whether the server can serve requests: its database answers (exit 0, else 1); no
    /// token needed.
    Ready {
        #[command(flatten)]
        remote: RemoteArgs,
    },
    /// Organizations: list, show, create (server-wide tokens), rename.
    Orgs {
        #[command(flatten)]
        remote: RemoteArgs,
        #[command(subcommand)]
        cmd: orgs::OrgsCommand,
    },
    /// Manage users (HTTP client of a running server).
    Users {
        #[command(flatten)]
        remote: RemoteArgs,
        #[command(subcommand)]
        cmd: users::UsersCommand,
    },
    /// Manage groups, their members and their roles (HTTP client).
    Groups {
        #[command(flatten)]
        remote: RemoteArgs,
        #[command(subcommand)]
        cmd: groups::GroupsCommand,
    },
    /// "Get started" invitations: send, list, resend, withdraw, accept.
    Invitations {
        #[command(flatten)]
        remote: RemoteArgs,
        #[command(subcommand)]
        cmd: invitations::InvitationsCommand,
    },
    /// Manage roles and their grants (HTTP client).
    Roles {
        #[command(flatten)]
        remote: RemoteArgs,
        #[command(subcommand)]
        cmd: roles::RolesCommand,
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
    /// Many checks at once from a JSON file, against one consistent snapshot. Exit code 0
    /// when every answer is allow, 3 when any is deny.
    CheckBatch {
        #[command(flatten)]
        remote: RemoteArgs,
        /// A JSON file (`-`: standard input) with an array of checks (`user_id`,
        /// `application`, `resource`, optional `action` and `scope`), at most 1000.
        file: std::path::PathBuf,
        /// Include the explanation of each answer (slower).
        #[arg(long)]
        explain: bool,
    },
    /// An application's scopes in the organization (websites, stores, store views,
    /// environments).
    Scopes {
        #[command(flatten)]
        remote: RemoteArgs,
        #[command(subcommand)]
        cmd: scopes::ScopesCommand,
    },
    /// Show the governed applications and their resource trees.
    Apps {
        #[command(flatten)]
        remote: RemoteArgs,
        #[command(subcommand)]
        cmd: apps::AppsCommand,
    },
    /// Administrators and their admin rights (granted at or below your own).
    Admins {
        #[command(flatten)]
        remote: RemoteArgs,
        #[command(subcommand)]
        cmd: admins::AdminsCommand,
    },
    /// The account owner.
    Owner {
        #[command(flatten)]
        remote: RemoteArgs,
        #[command(subcommand)]
        cmd: admins::OwnerCommand,
    },
    /// Product profiles: the seats of a product, their users and groups.
    Profiles {
        #[command(flatten)]
        remote: RemoteArgs,
        #[command(subcommand)]
        cmd: profiles::ProfilesCommand,
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
        cmd: credentials::CredentialsCommand,
    },
    /// SCIM clients: the tokens identity providers (Entra ID, Okta) use on /scim/v2.
    ScimClients {
        #[command(flatten)]
        remote: RemoteArgs,
        #[command(subcommand)]
        cmd: scim_clients::ScimClientsCommand,
    },
    /// A user's sign-in sessions.
    Sessions {
        #[command(flatten)]
        remote: RemoteArgs,
        #[command(subcommand)]
        cmd: sessions::SessionsCommand,
    },
    /// Two-factor authentication of users.
    #[command(name = "2fa")]
    TwoFactor {
        #[command(flatten)]
        remote: RemoteArgs,
        #[command(subcommand)]
        cmd: sessions::TwoFactorCommand,
    },
    /// Accounts locked by failed sign-ins.
    Locks {
        #[command(flatten)]
        remote: RemoteArgs,
        #[command(subcommand)]
        cmd: sessions::LocksCommand,
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
        cmd: settings::SettingsCommand,
    },
    /// Access reports: stale accounts, access review by user, application, profile; seats.
    Reports {
        #[command(flatten)]
        remote: RemoteArgs,
        #[command(subcommand)]
        cmd: reports::ReportsCommand,
    },
    /// The audit log: browse, export, verify the hash chain, apply retention.
    Audit {
        #[command(flatten)]
        remote: RemoteArgs,
        #[command(subcommand)]
        cmd: audit::AuditCommand,
    },
}

/// Runs a remote command; returns the process exit code.
pub async fn run(cmd: RemoteCommand) -> Result<i32> {
    match dispatch(cmd).await {
        Ok(code) | Err(Exit(code)) => Ok(code),
    }
}

async fn dispatch(cmd: RemoteCommand) -> CmdResult {
    match cmd {
        RemoteCommand::Login(args) => signin::login(args).await,
        RemoteCommand::Logout { remote } => signin::logout(&remote).await,
        RemoteCommand::Whoami { remote } => signin::whoami(&remote).await,
        RemoteCommand::Me { remote, cmd } => account::me(&Client::new(&remote)?, cmd).await,
        RemoteCommand::PasswordReset { remote, cmd } => {
            account::password_reset(&Client::anonymous(&remote)?, cmd).await
        }
        RemoteCommand::Health { remote } => health::health(&remote).await,
        RemoteCommand::Ready { remote } => health::ready(&remote).await,
        RemoteCommand::Orgs { remote, cmd } => orgs::run(&Client::new(&remote)?, cmd).await,
        RemoteCommand::Invitations { remote, cmd } => {
            // Accepting is done by the invited person, who has no token yet.
            let c = match cmd {
                invitations::InvitationsCommand::Accept { .. } => Client::anonymous(&remote)?,
                _ => Client::new(&remote)?,
            };
            invitations::run(&c, cmd).await
        }
        RemoteCommand::CheckBatch {
            remote,
            file,
            explain,
        } => check::batch(&Client::new(&remote)?, &file, explain).await,
        RemoteCommand::Scopes { remote, cmd } => scopes::run(&Client::new(&remote)?, cmd).await,
        RemoteCommand::Users { remote, cmd } => users::run(&Client::new(&remote)?, cmd).await,
        RemoteCommand::Groups { remote, cmd } => groups::run(&Client::new(&remote)?, cmd).await,
        RemoteCommand::Roles { remote, cmd } => roles::run(&Client::new(&remote)?, cmd).await,
        RemoteCommand::Assign { remote, user, role } => {
            users::assign(&Client::new(&remote)?, &user, &role).await
        }
        RemoteCommand::Unassign { remote, user, role } => {
            users::unassign(&Client::new(&remote)?, &user, &role).await
        }
        RemoteCommand::Check {
            remote,
            user,
            application,
            resource,
            action,
            scope,
        } => {
            let question = check::Question {
                user,
                application,
                resource,
                action,
                scope,
            };
            check::run(&Client::new(&remote)?, question).await
        }
        RemoteCommand::Apps { remote, cmd } => apps::run(&Client::new(&remote)?, cmd).await,
        RemoteCommand::Admins { remote, cmd } => admins::run(&Client::new(&remote)?, cmd).await,
        RemoteCommand::Owner { remote, cmd } => admins::owner(&Client::new(&remote)?, cmd).await,
        RemoteCommand::Profiles { remote, cmd } => profiles::run(&Client::new(&remote)?, cmd).await,
        RemoteCommand::Products { remote } => profiles::products(&Client::new(&remote)?).await,
        RemoteCommand::Credentials { remote, cmd } => {
            credentials::run(&Client::new(&remote)?, cmd).await
        }
        RemoteCommand::Sessions { remote, cmd } => sessions::run(&Client::new(&remote)?, cmd).await,
        RemoteCommand::ScimClients { remote, cmd } => {
            scim_clients::run(&Client::new(&remote)?, cmd).await
        }
        RemoteCommand::TwoFactor { remote, cmd } => {
            sessions::two_factor(&Client::new(&remote)?, cmd).await
        }
        RemoteCommand::Locks { remote, cmd } => sessions::locks(&Client::new(&remote)?, cmd).await,
        RemoteCommand::Events {
            remote,
            user,
            limit,
        } => events::run(&Client::new(&remote)?, user, limit).await,
        RemoteCommand::Settings { remote, cmd } => settings::run(&Client::new(&remote)?, cmd).await,
        RemoteCommand::Audit { remote, cmd } => audit::run(&Client::new(&remote)?, cmd).await,
        RemoteCommand::Reports { remote, cmd } => reports::run(&Client::new(&remote)?, cmd).await,
    }
}
