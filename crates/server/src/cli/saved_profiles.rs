//! Named CLI profiles: the server, organization and session token that `rolecall login` saves,
//! so later commands need no `--token`.
//!
//! They live in `profiles.toml` in `$ROLECALL_CONFIG_DIR`, else `$XDG_CONFIG_HOME/rolecall`,
//! else `~/.config/rolecall`. The file holds session secrets, so it is written with mode 0600
//! (its folder 0700), replaced atomically, and never printed.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};

/// The profile used when neither `--profile` nor `ROLECALL_PROFILE` names one.
pub const DEFAULT_PROFILE: &str = "default";

const FILE_NAME: &str = "profiles.toml";

/// Where and as whom one profile connects.
#[derive(Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Profile {
    pub url: String,
    pub org: String,
    /// The session secret; absent after `rolecall logout`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token: Option<String>,
}

/// Hand-written so that `{:?}` cannot leak the token.
impl std::fmt::Debug for Profile {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Profile")
            .field("url", &self.url)
            .field("org", &self.org)
            .field("token", &self.token.as_ref().map(|_| "<redacted>"))
            .finish()
    }
}

/// Every profile, by name.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Profiles {
    #[serde(default)]
    pub profiles: BTreeMap<String, Profile>,
}

/// The folder of `profiles.toml`.
pub fn config_dir() -> Result<PathBuf, String> {
    let var = |name: &str| std::env::var_os(name).filter(|v| !v.is_empty());
    if let Some(dir) = var("ROLECALL_CONFIG_DIR") {
        return Ok(PathBuf::from(dir));
    }
    if let Some(xdg) = var("XDG_CONFIG_HOME").map(PathBuf::from) {
        // The XDG spec says relative values are invalid and must be ignored.
        if xdg.is_absolute() {
            return Ok(xdg.join("rolecall"));
        }
    }
    if let Some(home) = var("HOME") {
        return Ok(PathBuf::from(home).join(".config").join("rolecall"));
    }
    Err("cannot tell where to keep profiles: set ROLECALL_CONFIG_DIR or HOME".into())
}

/// The path of `profiles.toml`.
pub fn path() -> Result<PathBuf, String> {
    Ok(config_dir()?.join(FILE_NAME))
}

/// A profile name must be a short word: it is a table key and is shown in messages.
pub fn check_name(name: &str) -> Result<(), String> {
    let ok = !name.is_empty()
        && name.len() <= 64
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_' || b == b'.');
    if ok {
        Ok(())
    } else {
        Err(format!(
            "profile name {name:?} must be 1 to 64 letters, digits, '-', '_' or '.'"
        ))
    }
}

impl Profiles {
    /// Reads `file`; a missing file is no profiles at all.
    pub fn load_from(file: &Path) -> Result<Profiles, String> {
        let text = match std::fs::read_to_string(file) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Profiles::default()),
            Err(e) => return Err(format!("cannot read {}: {e}", file.display())),
        };
        warn_if_shared(file);
        toml::from_str(&text)
            .map_err(|e| format!("{} is not a valid profiles file: {e}", file.display()))
    }

    /// Writes `file` with mode 0600 through a temporary file and a rename, so a reader never
    /// sees half a file and the secrets are never readable by others, whatever the umask.
    pub fn save_to(&self, file: &Path) -> Result<(), String> {
        let dir = file
            .parent()
            .ok_or_else(|| format!("{} has no parent folder", file.display()))?;
        create_private_dir(dir)?;
        let body = toml::to_string(self).map_err(|e| format!("cannot encode profiles: {e}"))?;
        let text = format!(
            "# rolecall CLI profiles, written by `rolecall login`. They hold session secrets:\n# keep this file private (mode 0600).\n\n{body}"
        );
        let tmp = dir.join(format!(".{FILE_NAME}.{}.tmp", std::process::id()));
        let written = write_private(&tmp, text.as_bytes())
            .and_then(|()| std::fs::rename(&tmp, file))
            .map_err(|e| format!("cannot write {}: {e}", file.display()));
        if written.is_err() {
            let _ = std::fs::remove_file(&tmp);
        }
        written
    }
}

fn create_private_dir(dir: &Path) -> Result<(), String> {
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        builder.mode(0o700);
    }
    builder
        .create(dir)
        .map_err(|e| format!("cannot create {}: {e}", dir.display()))
}

fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut f = options.open(path)?;
    // The mode above is reduced by the umask; a stale file keeps its old mode: set it exactly.
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        f.set_permissions(std::fs::Permissions::from_mode(0o600))?;
    }
    f.write_all(bytes)?;
    f.sync_all()
}

/// Like ssh, points out a secrets file that others may read (it is still used).
fn warn_if_shared(file: &Path) {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        if let Ok(meta) = std::fs::metadata(file) {
            if meta.permissions().mode() & 0o077 != 0 {
                eprintln!(
                    "rolecall: warning: {} can be read by other users; run `chmod 600` on it",
                    file.display()
                );
            }
        }
    }
    #[cfg(not(unix))]
    let _ = file;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn profiles_round_trip_privately() {
        let dir = tempfile::tempdir().expect("tempdir");
        let file = dir.path().join("nested").join(FILE_NAME);
        assert_eq!(Profiles::load_from(&file), Ok(Profiles::default()));
        let mut p = Profiles::default();
        p.profiles.insert(
            "default".into(),
            Profile {
                url: "http://127.0.0.1:8080".into(),
                org: "acme".into(),
                token: Some("secret".into()),
            },
        );
        p.profiles.insert(
            "other".into(),
            Profile {
                url: "https://x".into(),
                org: "o".into(),
                token: None,
            },
        );
        p.save_to(&file).expect("save");
        assert_eq!(Profiles::load_from(&file), Ok(p.clone()));
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&file).expect("meta").permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        assert!(!format!("{p:?}").contains("secret"));
        std::fs::write(&file, "profiles = 3").expect("write");
        assert!(Profiles::load_from(&file).is_err());
    }

    #[test]
    fn names_are_short_words() {
        assert!(check_name("default").is_ok());
        assert!(check_name("prod-eu_1.b").is_ok());
        assert!(check_name("").is_err());
        assert!(check_name("a b").is_err());
        assert!(check_name("x]").is_err());
    }
}
