//! Where the server key that seals secrets at rest comes from (issue 9 item 9; the sealing
//! itself is `credentials::sealing`). `ROLECALL_SECRET_KEY` (`secret_key` in the TOML file;
//! base64 of 32 bytes) when given, else the key file (`secret_key_file`, default
//! `<data_dir>/secret.key`), which the first start creates 0600. Several nodes on one PostgreSQL
//! must share it: a node whose keyring cannot open the stored secrets refuses to start rather
//! than lock everyone out.
//!
//! Rotation (`rolecall keys rotate`): with a key file, a new key is written to `<file>.next`,
//! every secret is re-sealed with it in one transaction, then `<file>` becomes
//! `<file>.previous` and `<file>.next` becomes `<file>` (a crash in between is finished by the
//! next run, and the keyring reads all three). With a configured key, set the new key as
//! `ROLECALL_SECRET_KEY` and the old one as `ROLECALL_PREVIOUS_SECRET_KEY`, run the command,
//! then drop the previous key.

use crate::config::Config;
pub use crate::credentials::sealing::Keyring;
use crate::credentials::sealing::SecretKey;
use crate::error::{Error, Result};
use std::path::{Path, PathBuf};

fn internal(e: crate::credentials::sealing::SealError) -> Error {
    Error::Setup(e.0)
}

/// Where the key file is.
pub fn key_file(config: &Config) -> PathBuf {
    config
        .keys
        .file
        .clone()
        .unwrap_or_else(|| config.data_dir.join("secret.key"))
}

fn sibling(file: &Path, suffix: &str) -> PathBuf {
    let mut name = file.as_os_str().to_owned();
    name.push(suffix);
    PathBuf::from(name)
}

fn read_key(file: &Path) -> Result<Option<SecretKey>> {
    match std::fs::read_to_string(file) {
        Ok(text) => SecretKey::parse(&text, &file.display().to_string())
            .map(Some)
            .map_err(internal),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(Error::Setup(format!(
            "secret key file {}: cannot read it: {e}",
            file.display()
        ))),
    }
}

/// Writes a new key file readable by its owner only, in a 0700 directory if it makes one.
fn write_key(file: &Path, key: &SecretKey) -> Result<()> {
    let fail = |e: std::io::Error| {
        Error::Setup(format!(
            "secret key file {}: cannot write it: {e}",
            file.display()
        ))
    };
    if let Some(dir) = file.parent().filter(|d| !d.as_os_str().is_empty()) {
        if !dir.exists() {
            let mut b = std::fs::DirBuilder::new();
            b.recursive(true);
            #[cfg(unix)]
            std::os::unix::fs::DirBuilderExt::mode(&mut b, 0o700);
            b.create(dir).map_err(fail)?;
        }
    }
    let mut o = std::fs::OpenOptions::new();
    o.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut o, 0o600);
    let mut f = o.open(file).map_err(fail)?;
    std::io::Write::write_all(&mut f, format!("{}\n", key.encoded()).as_bytes()).map_err(fail)?;
    f.sync_all().map_err(fail)
}

/// The configured keyring; creates the key file on first start.
pub fn load(config: &Config) -> Result<Keyring> {
    if let Some(k) = &config.keys.key {
        let mut older = Vec::new();
        if let Some(p) = &config.keys.previous {
            older.push(SecretKey::parse(p, "ROLECALL_PREVIOUS_SECRET_KEY").map_err(internal)?);
        }
        let current = SecretKey::parse(k, "ROLECALL_SECRET_KEY").map_err(internal)?;
        return Ok(Keyring::new(current, older));
    }
    let file = key_file(config);
    let current = match read_key(&file)? {
        Some(k) => k,
        None => {
            let k = SecretKey::random();
            write_key(&file, &k)?;
            tracing::info!(file = %file.display(), key = %k.id(), "created the secret key");
            k
        }
    };
    let mut older = Vec::new();
    for suffix in [".previous", ".next"] {
        older.extend(read_key(&sibling(&file, suffix))?);
    }
    Ok(Keyring::new(current, older))
}

/// What `rolecall keys rotate` did.
#[derive(Debug, serde::Serialize)]
pub struct Rotation {
    pub key_id: String,
    pub resealed: usize,
    /// Where the key now is (`None`: in the configuration).
    pub key_file: Option<PathBuf>,
}

/// Starts rotating the key file: the keyring that seals with the new key (written to
/// `<file>.next`, or taken from there when an earlier rotation stopped half-way, so the
/// secrets it already re-sealed stay readable), and the key file to finish with.
pub fn begin_file_rotation(config: &Config) -> Result<(Keyring, PathBuf)> {
    let file = key_file(config);
    let next = sibling(&file, ".next");
    let ring = load(config)?;
    let new = match read_key(&next)? {
        Some(k) => k,
        None => {
            let k = SecretKey::random();
            write_key(&next, &k)?;
            k
        }
    };
    Ok((ring.rotated_to(new), file))
}

/// Moves the rotated key files into place once every secret is re-sealed: `<file>` →
/// `<file>.previous`, `<file>.next` → `<file>`.
pub fn finish_file_rotation(file: &Path) -> Result<()> {
    let fail = |e: std::io::Error| Error::Internal(format!("key rotation: {e}"));
    std::fs::rename(file, sibling(file, ".previous")).map_err(fail)?;
    std::fs::rename(sibling(file, ".next"), file).map_err(fail)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_files_are_private_and_rotation_keeps_old_values_readable() {
        let dir = tempfile::tempdir().unwrap();
        let config = Config {
            data_dir: dir.path().join("data"),
            ..Config::default()
        };
        let ring = load(&config).unwrap();
        let file = key_file(&config);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&file).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        assert_eq!(load(&config).unwrap().key_id(), ring.key_id(), "kept");
        let old = ring.seal("secret", "u").unwrap();
        let (next, file) = begin_file_rotation(&config).unwrap();
        assert_ne!(next.key_id(), ring.key_id());
        assert_eq!(next.open(&old, "u").unwrap(), "secret");
        // Interrupted here, a second run finishes with the same new key.
        let (again, _) = begin_file_rotation(&config).unwrap();
        assert_eq!(again.key_id(), next.key_id());
        finish_file_rotation(&file).unwrap();
        let after = load(&config).unwrap();
        assert_eq!(after.key_id(), next.key_id());
        assert_eq!(
            after.open(&old, "u").unwrap(),
            "secret",
            "previous still opens"
        );
    }
}
