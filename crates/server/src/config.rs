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
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileConfig {
    listen: Option<String>,
    sign_in_limit: Option<u32>,
    data_dir: Option<PathBuf>,
    database_url: Option<String>,
    catalogue_dir: Option<PathBuf>,
    smtp_url: Option<String>,
    mail_from: Option<String>,
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
                let text = std::fs::read_to_string(path)
                    .map_err(|e| Error::Internal(format!("cannot read {}: {e}", path.display())))?;
                toml::from_str(&text)
                    .map_err(|e| Error::Internal(format!("{}: {e}", path.display())))?
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
        let entries = std::fs::read_dir(dir)
            .map_err(|e| Error::Internal(format!("cannot read {}: {e}", dir.display())))?;
        let mut paths: Vec<PathBuf> = entries
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|x| x == "json"))
            .collect();
        paths.sort();
        for p in paths {
            let text = std::fs::read_to_string(&p)
                .map_err(|e| Error::Internal(format!("cannot read {}: {e}", p.display())))?;
            out.push(
                serde_json::from_str(&text)
                    .map_err(|e| Error::Internal(format!("{}: {e}", p.display())))?,
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
