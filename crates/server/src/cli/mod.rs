//! The `rolecall` command line: `serve` and `init` work on the store directly; the management
//! commands (users, groups, roles, check...) are HTTP clients of a running server.

mod account; // issue 10: my account and password resets
mod admins;
mod apps;
mod audit; // issue 11: the audit log
mod bulk; // issue 12: users import
mod check;
mod client;
mod credentials;
mod events;
mod groups;
mod health; // issue 10: health, ready, the served OpenAPI document
mod instant;
mod invitations; // issue 10: "Get started" invitations
pub mod migrate; // issue 12: rolecall import magento
mod orgs; // issue 10: organizations
mod output;
pub mod parity; // issue 10: every API operation and the command that performs it
mod profiles;
mod prompt;
pub mod remote;
mod reports; // issue 11: access reports and offboarding
mod roles;
pub mod saved_profiles;
mod scim_clients; // `rolecall scim-clients` (issue 14)
mod scopes; // issue 10: an application's scopes
mod sessions;
mod settings;
mod signin;
mod users;

use crate::config::ConfigArgs;
use crate::directory::{Directory, SystemClock};
use crate::error::{Error, Result};
use crate::store::Db;
use clap::{Parser, Subcommand};
use std::sync::Arc;

#[derive(Debug, Parser)]
#[command(
    name = "rolecall",
    version,
    about = "Who may do what in a commerce back office"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the server.
    Serve {
        #[command(flatten)]
        config: ConfigArgs,
        /// On an empty store, create the sample organization `acme` and print a bootstrap token.
        #[arg(long)]
        demo: bool,
    },
    /// Create the first organization, its first admin and the bootstrap token (shown once).
    Init {
        #[command(flatten)]
        config: ConfigArgs,
        #[arg(long, default_value = "default")]
        org_slug: String,
        #[arg(long, default_value = "Default organization")]
        org_name: String,
        /// E-mail of the first administrator (holds every application's Administrators role).
        #[arg(long)]
        admin_email: String,
        /// The first administrator's password; generated and printed once when absent.
        #[arg(long, env = "ROLECALL_ADMIN_PASSWORD", hide_env_values = true)]
        admin_password: Option<String>,
        /// Print a JSON object instead of text.
        #[arg(long)]
        json: bool,
    },
    /// Create an API token limited to one organization (shown once).
    Token {
        #[command(flatten)]
        config: ConfigArgs,
        #[arg(long)]
        org: String,
        #[arg(long, default_value = "cli")]
        name: String,
        #[arg(long)]
        json: bool,
    },
    /// Print the OpenAPI document (this binary's; with --url, the one a server serves).
    Openapi {
        /// Fetch the document a running server serves instead (e.g. http://127.0.0.1:8080).
        #[arg(long)]
        url: Option<String>,
    },
    /// Bring users in from another system, on the store directly (`import magento`).
    Import {
        #[command(subcommand)]
        what: migrate::ImportCommand,
    },
    /// The key that encrypts secrets at rest (TOTP secrets).
    Keys {
        #[command(subcommand)]
        action: KeysAction,
    },
    #[command(flatten)]
    Remote(remote::RemoteCommand),
}

#[derive(Debug, Subcommand)]
pub enum KeysAction {
    /// Re-seal every secret with a new key. With a key file (the default), a new key replaces
    /// it and the old one is kept as <file>.previous; with ROLECALL_SECRET_KEY, everything is
    /// re-sealed with that key, opening with ROLECALL_PREVIOUS_SECRET_KEY. Stop the servers
    /// first; start them with the new key.
    Rotate {
        #[command(flatten)]
        config: ConfigArgs,
        #[arg(long)]
        json: bool,
    },
}

async fn open_resolved(config: &crate::config::Config) -> Result<Directory> {
    let db = Db::connect_with(config.database_url.as_deref(), &config.data_dir, config.db).await?;
    let keys = crate::keys::load(config)?;
    Directory::open_with_keys(
        db,
        Arc::new(SystemClock),
        config.extra_applications()?,
        keys,
    )
    .await
}

async fn open(config: &ConfigArgs) -> Result<(crate::config::Config, Directory)> {
    let config = config.resolve()?;
    let dir = open_resolved(&config).await?;
    Ok((config, dir))
}

/// `rolecall keys rotate` (see `crate::keys`).
async fn rotate_keys(config: &ConfigArgs, json: bool) -> Result<i32> {
    let config = config.resolve()?;
    let dir = open_resolved(&config).await?;
    let rotation = if config.keys.key.is_some() {
        // The configured key is the new one; the previous key only opened what it sealed.
        let ring = crate::keys::load(&config)?;
        crate::keys::Rotation {
            key_id: ring.key_id().to_string(),
            resealed: dir.reseal_secrets(&ring).await?,
            key_file: None,
        }
    } else {
        let (ring, file) = crate::keys::begin_file_rotation(&config)?;
        let resealed = dir.reseal_secrets(&ring).await?;
        crate::keys::finish_file_rotation(&file)?;
        crate::keys::Rotation {
            key_id: ring.key_id().to_string(),
            resealed,
            key_file: Some(file),
        }
    };
    if json {
        println!(
            "{}",
            serde_json::to_string(&rotation).map_err(|e| Error::Internal(e.to_string()))?
        );
    } else {
        println!(
            "Re-sealed {} secret(s) with key {}.",
            rotation.resealed, rotation.key_id
        );
        match &rotation.key_file {
            Some(f) => println!(
                "The new key is in {}; the old one is kept as {}.previous until you delete it \
                 (after the last backup made with it is gone). Give every node the new file.",
                f.display(),
                f.display()
            ),
            None => println!("Remove ROLECALL_PREVIOUS_SECRET_KEY from the configuration."),
        }
    }
    Ok(0)
}

/// Runs a command; returns the process exit code.
pub async fn run(cli: Cli) -> Result<i32> {
    match cli.command {
        Command::Serve { config, demo } => {
            let (config, dir) = open(&config).await?;
            let dir = Arc::new(dir);
            let initialised = dir.is_initialised().await?;
            let store = match &config.database_url {
                Some(_) => "the PostgreSQL database".to_string(),
                None => format!("data directory {}", config.data_dir.display()),
            };
            if demo && initialised {
                println!(
                    "The store ({store}) already holds data, so --demo created nothing: the \
                     sample and its token are made on an empty store only. Use the token printed \
                     then, or make a new one with `rolecall token --org <slug>` (same \
                     --data-dir / --database-url), or start from an empty --data-dir."
                );
            }
            if !demo && !initialised && config.bootstrap_token_hash.is_none() {
                println!(
                    "The store ({store}) is empty and nobody can sign in yet. Create the first \
                     organisation and admin with `rolecall init --org-slug <slug> --org-name \
                     <name> --admin-email <email>` (it prints a token), or try rolecall with \
                     `rolecall serve --demo`."
                );
            }
            if demo && !initialised {
                let sample = crate::sample::create(&dir).await?;
                let token = dir.create_token("demo bootstrap", None).await?;
                println!(
                    "Created sample organization {:?}; admin {} with password {} (shown once).",
                    sample.org_slug, sample.admin_email, sample.admin_password
                );
                println!("Bootstrap token (shown once, stored hashed): {token}");
                println!("Try: curl -H 'Authorization: Bearer {token}' http://{}/api/v1/organizations/acme/users", config.listen);
            }
            let server = crate::Server::start_with(&config, dir).await?;
            tracing::info!(addr = %server.addr, backend = ?server.dir.db.backend, "rolecall listening");
            println!("rolecall listening on http://{}", server.addr);
            server.run_until_signalled().await;
            Ok(0)
        }
        Command::Init {
            config,
            org_slug,
            org_name,
            admin_email,
            admin_password,
            json,
        } => {
            let (_, dir) = open(&config).await?;
            if dir.is_initialised().await? {
                let msg = "the data store is already initialised; nothing was changed";
                if json {
                    println!(
                        "{}",
                        serde_json::json!({ "error": "already_initialised", "message": msg })
                    );
                } else {
                    eprintln!("rolecall init: {msg}");
                }
                return Ok(2);
            }
            let org = dir.create_org(&org_slug, &org_name).await?;
            let (admin, password) = dir
                .bootstrap_admin(&org, &admin_email, admin_password.as_deref())
                .await?;
            let token = dir.create_token("bootstrap", None).await?;
            // Read back: making the admin also made them the organisation's owner.
            let org = dir.org(org.slug.as_str()).await?;
            if json {
                println!(
                    "{}",
                    serde_json::json!({ "organization": org, "admin": admin, "admin_password": if admin_password.is_some() { None } else { Some(&password) }, "bootstrap_token": token })
                );
            } else {
                println!("Organization {} created; first admin {} holds every application's Administrators role.", org.slug, admin.email);
                println!("Bootstrap token (shown once, stored hashed):\n{token}");
                if admin_password.is_none() {
                    println!("Initial password of {} (shown once; two-factor enrolment follows at first sign-in):\n{password}", admin.email);
                }
            }
            Ok(0)
        }
        Command::Token {
            config,
            org,
            name,
            json,
        } => {
            let (_, dir) = open(&config).await?;
            let org = dir.org(&org).await?;
            let token = dir.create_token(&name, Some(org.id)).await?;
            if json {
                println!(
                    "{}",
                    serde_json::json!({ "organization": org.slug, "name": name, "token": token })
                );
            } else {
                println!("{token}");
            }
            Ok(0)
        }
        Command::Openapi { url: Some(url) } => match health::served_openapi(&url).await {
            Ok(code) | Err(client::Exit(code)) => Ok(code),
        },
        Command::Openapi { url: None } => {
            println!(
                "{}",
                serde_json::to_string_pretty(&crate::http::openapi())
                    .map_err(|e| Error::Internal(e.to_string()))?
            );
            Ok(0)
        }
        Command::Keys {
            action: KeysAction::Rotate { config, json },
        } => rotate_keys(&config, json).await,
        Command::Import { what } => migrate::run(what).await,
        Command::Remote(cmd) => remote::run(cmd).await,
    }
}
