//! Server configuration, layered as operators expect: command-line flags, then environment
//! variables (`ROLECALL_*`), then an optional TOML file, then defaults.

use crate::error::{Error, Result};
use serde::Deserialize;
use std::path::PathBuf;

#[derive(Debug, Clone, Default, clap::Args)]
pub struct ConfigArgs {
    /// Address to listen on [default: 127.0.0.1:8080]
    #[arg(long, env = "ROLECALL_LISTEN")]
    pub listen: Option<String>,
    /// Directory holding the SQLite file [default: ./data]
    #[arg(long, env = "ROLECALL_DATA_DIR")]
    pub data_dir: Option<PathBuf>,
    /// A postgres:// URL selects PostgreSQL instead of the embedded SQLite
    #[arg(long, env = "ROLECALL_DATABASE_URL", hide_env_values = true)]
    pub database_url: Option<String>,
    /// Directory of extra application catalogue files (*.json)
    #[arg(long, env = "ROLECALL_CATALOGUE_DIR")]
    pub catalogue_dir: Option<PathBuf>,
    /// Sign-in and reset attempts per source address and minute [default: 30]
    #[arg(long, env = "ROLECALL_SIGN_IN_LIMIT")]
    pub sign_in_limit: Option<u32>,
    /// The address people reach the server at (e.g. https://rolecall.example.com), for links in
    /// e-mails to the console [default: http://<listen address>]
    #[arg(long, env = "ROLECALL_PUBLIC_URL")]
    pub public_url: Option<String>,
    /// TOML configuration file
    #[arg(long, env = "ROLECALL_CONFIG")]
    pub config: Option<PathBuf>,
    // --- mail (outbox delivery) ---
    /// SMTP server for outgoing mail: smtp://host:port (plain), smtp://host:587?tls=required
    /// (STARTTLS), smtps://user:pass@host (TLS). Unset: mail is written to <data_dir>/mail
    #[arg(long, env = "ROLECALL_SMTP_URL", hide_env_values = true)]
    pub smtp_url: Option<String>,
    /// Sender of outgoing mail [default: rolecall <no-reply@rolecall.invalid>]
    #[arg(long, env = "ROLECALL_MAIL_FROM")]
    pub mail_from: Option<String>,
    // --- end mail ---
    // --- hardening (issue 9) ---
    /// Reverse proxies (CIDRs, comma-separated) whose Forwarded / X-Forwarded-For headers name
    /// the client; from any other peer these headers are ignored [default: none]
    #[arg(long, env = "ROLECALL_TRUSTED_PROXIES", value_delimiter = ',')]
    pub trusted_proxies: Option<Vec<String>>,
    /// Seconds a connection may take to send a request's headers (and may sit idle between
    /// requests) before it is closed [default: 10]
    #[arg(long, env = "ROLECALL_HEADER_READ_TIMEOUT")]
    pub header_read_timeout: Option<u64>,
    /// Seconds a request may take to send its body before it is answered 408 [default: 30]
    #[arg(long, env = "ROLECALL_BODY_READ_TIMEOUT")]
    pub body_read_timeout: Option<u64>,
    /// Open client connections served at once; more are answered 503 and closed [default: 1024]
    #[arg(long, env = "ROLECALL_MAX_CONNECTIONS")]
    pub max_connections: Option<usize>,
    /// Milliseconds a request waits for the database's write lock or a connection before it is
    /// answered 503 with Retry-After [default: 5000]
    #[arg(long, env = "ROLECALL_BUSY_TIMEOUT_MS")]
    pub busy_timeout_ms: Option<u64>,
    /// SQLite durability: full (an acknowledged change survives power loss) or normal
    /// [default: full]
    #[arg(long, env = "ROLECALL_SQLITE_SYNCHRONOUS")]
    pub sqlite_synchronous: Option<crate::store::Synchronous>,
    /// File holding the key that encrypts TOTP secrets at rest; created (0600) on first start
    /// when missing [default: <data_dir>/secret.key]
    #[arg(long, env = "ROLECALL_SECRET_KEY_FILE")]
    pub secret_key_file: Option<PathBuf>,
    // --- end hardening ---
    /// memory: authentications and rights are kept in memory until a write is noticed (this
    /// node's at once, other nodes' by PostgreSQL notification, at most ~1 s by the counter
    /// poll); strict: every request reads its credential and the organisation's epoch
    /// [default: memory]
    #[arg(long, env = "ROLECALL_FRESHNESS")]
    pub freshness: Option<crate::store::Freshness>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileConfig {
    listen: Option<String>,
    sign_in_limit: Option<u32>,
    data_dir: Option<PathBuf>,
    database_url: Option<String>,
    catalogue_dir: Option<PathBuf>,
    public_url: Option<String>,
    smtp_url: Option<String>,
    mail_from: Option<String>,
    trusted_proxies: Option<Vec<String>>,
    header_read_timeout: Option<u64>,
    body_read_timeout: Option<u64>,
    max_connections: Option<usize>,
    busy_timeout_ms: Option<u64>,
    sqlite_synchronous: Option<crate::store::Synchronous>,
    secret_key_file: Option<PathBuf>,
    freshness: Option<crate::store::Freshness>,
    secret_key: Option<String>,
    previous_secret_key: Option<String>,
}

#[derive(Debug, Clone)]
pub struct Config {
    pub listen: String,
    pub data_dir: PathBuf,
    pub database_url: Option<String>,
    pub catalogue_dir: Option<PathBuf>,
    /// SHA-256 of `ROLECALL_BOOTSTRAP_TOKEN`, if set; the secret itself is not kept.
    pub bootstrap_token_hash: Option<String>,
    pub mail: MailConfig,
    /// Sign-in and reset attempts allowed per source address and minute (on top of lockout).
    pub sign_in_limit_per_minute: u32,
    /// Where people reach the console, for links in e-mails; `None`: the listen address.
    pub public_url: Option<String>,
    /// Peers whose forwarding headers are believed (issue 9 item 12).
    pub trusted_proxies: Vec<crate::net::Cidr>,
    pub limits: ConnectionLimits,
    pub db: crate::store::DbOptions,
    pub keys: KeyConfig,
}

/// The defaults, as `serve` would run with no flags, variables or file (tests and benchmarks
/// start from here and change what they need).
impl Default for Config {
    fn default() -> Config {
        Config {
            listen: "127.0.0.1:8080".into(),
            data_dir: PathBuf::from("./data"),
            database_url: None,
            catalogue_dir: None,
            bootstrap_token_hash: None,
            mail: MailConfig::default(),
            sign_in_limit_per_minute: 30,
            trusted_proxies: Vec::new(),
            limits: ConnectionLimits::default(),
            db: crate::store::DbOptions::default(),
            keys: KeyConfig::default(),
            public_url: None,
        }
    }
}

/// Slow or too many clients: what the listener tolerates (issue 9 item 13).
#[derive(Debug, Clone, Copy)]
pub struct ConnectionLimits {
    pub header_read_timeout: std::time::Duration,
    pub body_read_timeout: std::time::Duration,
    pub max_connections: usize,
}

impl Default for ConnectionLimits {
    fn default() -> Self {
        ConnectionLimits {
            header_read_timeout: std::time::Duration::from_secs(10),
            body_read_timeout: std::time::Duration::from_secs(30),
            max_connections: 1024,
        }
    }
}

/// Where the key that encrypts secrets at rest comes from: `ROLECALL_SECRET_KEY` (or
/// `secret_key` in the file) when given, else the key file. The previous key, while a rotation
/// is under way, only decrypts.
#[derive(Clone, Default)]
pub struct KeyConfig {
    /// `None`: `<data_dir>/secret.key`.
    pub file: Option<PathBuf>,
    pub key: Option<String>,
    pub previous: Option<String>,
}

/// Hand-written so a logged `Config` never shows a key.
impl std::fmt::Debug for KeyConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KeyConfig")
            .field("file", &self.file)
            .field("key", &self.key.as_ref().map(|_| "***"))
            .field("previous", &self.previous.as_ref().map(|_| "***"))
            .finish()
    }
}

// --- mail (outbox delivery) ---
/// How the outbox worker delivers: by SMTP when `smtp_url` is set, else into the mail directory.
#[derive(Clone)]
pub struct MailConfig {
    pub smtp_url: Option<String>,
    pub from: String,
}

pub const DEFAULT_MAIL_FROM: &str = "rolecall <no-reply@rolecall.invalid>";

impl Default for MailConfig {
    fn default() -> MailConfig {
        MailConfig {
            smtp_url: None,
            from: DEFAULT_MAIL_FROM.into(),
        }
    }
}

/// Hand-written so a logged `Config` never shows the SMTP password.
impl std::fmt::Debug for MailConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MailConfig")
            .field("smtp_url", &self.smtp_url.as_deref().map(redact_password))
            .field("from", &self.from)
            .finish()
    }
}

/// `scheme://user:secret@host` → `scheme://user:***@host`.
fn redact_password(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_string();
    };
    match rest.rsplit_once('@') {
        Some((userinfo, host)) if userinfo.contains(':') => {
            let user = userinfo.split_once(':').map_or(userinfo, |(u, _)| u);
            format!("{scheme}://{user}:***@{host}")
        }
        _ => url.to_string(),
    }
}
// --- end mail ---

impl ConfigArgs {
    pub fn resolve(&self) -> Result<Config> {
        let file: FileConfig = match &self.config {
            Some(path) => {
                let text = std::fs::read_to_string(path).map_err(|e| {
                    Error::Setup(format!(
                        "configuration file {}: cannot read it: {e}",
                        path.display()
                    ))
                })?;
                toml::from_str(&text).map_err(|e| {
                    Error::Setup(format!("configuration file {}: {e}", path.display()))
                })?
            }
            None => FileConfig::default(),
        };
        let bootstrap_token_hash = std::env::var("ROLECALL_BOOTSTRAP_TOKEN")
            .ok()
            .filter(|t| !t.is_empty())
            .map(|t| crate::credentials::secret::hash_secret(&t));
        Ok(Config {
            listen: self
                .listen
                .clone()
                .or(file.listen)
                .unwrap_or_else(|| "127.0.0.1:8080".into()),
            data_dir: self
                .data_dir
                .clone()
                .or(file.data_dir)
                .unwrap_or_else(|| PathBuf::from("./data")),
            database_url: self
                .database_url
                .clone()
                .or(file.database_url)
                .filter(|s| !s.is_empty()),
            catalogue_dir: self.catalogue_dir.clone().or(file.catalogue_dir),
            bootstrap_token_hash,
            sign_in_limit_per_minute: self.sign_in_limit.or(file.sign_in_limit).unwrap_or(30),
            trusted_proxies: self
                .trusted_proxies
                .clone()
                .or(file.trusted_proxies)
                .unwrap_or_default()
                .iter()
                .filter(|c| !c.trim().is_empty())
                .map(|c| {
                    c.parse()
                        .map_err(|e| Error::Setup(format!("trusted_proxies: {e}")))
                })
                .collect::<Result<_>>()?,
            limits: {
                let d = ConnectionLimits::default();
                let secs = std::time::Duration::from_secs;
                ConnectionLimits {
                    header_read_timeout: self
                        .header_read_timeout
                        .or(file.header_read_timeout)
                        .map_or(d.header_read_timeout, secs)
                        .max(secs(1)),
                    body_read_timeout: self
                        .body_read_timeout
                        .or(file.body_read_timeout)
                        .map_or(d.body_read_timeout, secs)
                        .max(secs(1)),
                    max_connections: self
                        .max_connections
                        .or(file.max_connections)
                        .unwrap_or(d.max_connections)
                        .max(1),
                }
            },
            db: crate::store::DbOptions {
                busy_timeout: std::time::Duration::from_millis(
                    self.busy_timeout_ms
                        .or(file.busy_timeout_ms)
                        .unwrap_or(5000)
                        .max(1),
                ),
                sqlite_synchronous: self
                    .sqlite_synchronous
                    .or(file.sqlite_synchronous)
                    .unwrap_or_default(),
                freshness: self.freshness.or(file.freshness).unwrap_or_default(),
                ..Default::default()
            },
            keys: KeyConfig {
                file: self.secret_key_file.clone().or(file.secret_key_file),
                key: std::env::var("ROLECALL_SECRET_KEY")
                    .ok()
                    .or(file.secret_key)
                    .filter(|k| !k.is_empty()),
                previous: std::env::var("ROLECALL_PREVIOUS_SECRET_KEY")
                    .ok()
                    .or(file.previous_secret_key)
                    .filter(|k| !k.is_empty()),
            },
            public_url: self
                .public_url
                .clone()
                .or(file.public_url)
                .map(|u| u.trim_end_matches('/').to_string())
                .filter(|s| !s.is_empty()),
            mail: MailConfig {
                smtp_url: self
                    .smtp_url
                    .clone()
                    .or(file.smtp_url)
                    .filter(|s| !s.is_empty()),
                from: self
                    .mail_from
                    .clone()
                    .or(file.mail_from)
                    .filter(|s| !s.is_empty())
                    .unwrap_or_else(|| DEFAULT_MAIL_FROM.into()),
            },
        })
    }
}

impl Config {
    /// Extra application definitions from the catalogue directory, read once at start.
    pub fn extra_applications(&self) -> Result<Vec<rolecall_core::catalogue::ApplicationDef>> {
        let Some(dir) = &self.catalogue_dir else {
            return Ok(vec![]);
        };
        let mut out = Vec::new();
        let entries = std::fs::read_dir(dir).map_err(|e| {
            Error::Setup(format!(
                "catalogue directory {}: cannot read it: {e}",
                dir.display()
            ))
        })?;
        let mut paths: Vec<PathBuf> = entries
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|x| x == "json"))
            .collect();
        paths.sort();
        for p in paths {
            let text = std::fs::read_to_string(&p).map_err(|e| {
                Error::Setup(format!(
                    "catalogue file {}: cannot read it: {e}",
                    p.display()
                ))
            })?;
            out.push(
                serde_json::from_str(&text)
                    .map_err(|e| Error::Setup(format!("catalogue file {}: {e}", p.display())))?,
            );
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_win_over_file_and_defaults_fill_the_rest() {
        let dir = std::env::temp_dir().join(format!("rolecall-config-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("rolecall.toml");
        std::fs::write(
            &file,
            "listen = \"127.0.0.1:9999\"\ndata_dir = \"/srv/rolecall\"\n",
        )
        .unwrap();
        let args = ConfigArgs {
            listen: Some("0.0.0.0:1".into()),
            config: Some(file.clone()),
            ..Default::default()
        };
        let c = args.resolve().unwrap();
        assert_eq!(c.listen, "0.0.0.0:1");
        assert_eq!(c.data_dir, PathBuf::from("/srv/rolecall"));
        let c = ConfigArgs::default().resolve().unwrap();
        assert_eq!(c.listen, "127.0.0.1:8080");
        assert_eq!(c.data_dir, PathBuf::from("./data"));
        std::fs::write(&file, "lisen = 1\n").unwrap();
        assert!(ConfigArgs {
            config: Some(file),
            ..Default::default()
        }
        .resolve()
        .is_err());
    }

    #[test]
    fn mail_settings_layer_and_the_smtp_password_is_never_shown() {
        let dir = std::env::temp_dir().join(format!("rolecall-config-mail-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("rolecall.toml");
        std::fs::write(
            &file,
            "smtp_url = \"smtps://ops:s3cret@mail.example.com\"\nmail_from = \"Ops <ops@example.com>\"\n",
        )
        .unwrap();
        let c = ConfigArgs {
            config: Some(file.clone()),
            mail_from: Some("Flag <flag@example.com>".into()),
            ..Default::default()
        }
        .resolve()
        .unwrap();
        assert_eq!(
            c.mail.smtp_url.as_deref(),
            Some("smtps://ops:s3cret@mail.example.com")
        );
        assert_eq!(c.mail.from, "Flag <flag@example.com>");
        let shown = format!("{c:?}");
        assert!(!shown.contains("s3cret"), "{shown}");
        assert!(
            shown.contains("smtps://ops:***@mail.example.com"),
            "{shown}"
        );
        let c = ConfigArgs::default().resolve().unwrap();
        assert_eq!(c.mail.smtp_url, None);
        assert_eq!(c.mail.from, DEFAULT_MAIL_FROM);
    }
}
