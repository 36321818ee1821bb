//! The one process that serves a SQLite database (issue 13). Its memory is authoritative —
//! no epoch or credential is re-read per request — which holds only while no other server
//! writes the same file. A second `rolecall serve` on the same file is therefore refused,
//! through an exclusive lock on a file beside it, held for the life of the process (the
//! operating system releases it however the process ends). Several nodes need PostgreSQL.

use crate::error::{Error, Result};
use std::fs::{File, OpenOptions};
use std::path::{Path, PathBuf};

/// The SQLite file a configuration points at; `None` for PostgreSQL and in-memory SQLite.
pub fn sqlite_file(database_url: Option<&str>, data_dir: &Path) -> Option<PathBuf> {
    match database_url {
        None => Some(data_dir.join("rolecall.db")),
        Some(u) if u.starts_with("sqlite:") => {
            let rest = u.trim_start_matches("sqlite:").trim_start_matches("//");
            let path = rest.split('?').next().unwrap_or_default();
            (!path.is_empty() && path != ":memory:").then(|| PathBuf::from(path))
        }
        Some(_) => None,
    }
}

/// Held while this process serves a SQLite file; dropping it releases the file.
#[derive(Debug)]
pub struct Owner {
    _lock: File,
    pub path: PathBuf,
}

/// Takes the serving lock of the SQLite file `database_url`/`data_dir` name, or explains who
/// holds it. `Ok(None)` on PostgreSQL, where any number of nodes may serve.
pub fn claim(database_url: Option<&str>, data_dir: &Path) -> Result<Option<Owner>> {
    let Some(db) = sqlite_file(database_url, data_dir) else {
        return Ok(None);
    };
    let mut name = db.clone().into_os_string();
    name.push(".serve-lock");
    let path = PathBuf::from(name);
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent).map_err(|e| {
            Error::Setup(format!(
                "data directory {}: cannot create it: {e}",
                parent.display()
            ))
        })?;
    }
    let file = OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .map_err(|e| Error::Setup(format!("cannot open {}: {e}", path.display())))?;
    match file.try_lock() {
        Ok(()) => Ok(Some(Owner { _lock: file, path })),
        Err(std::fs::TryLockError::WouldBlock) => Err(Error::Setup(format!(
            "another rolecall server is already serving {} (it holds {}): one process owns a \
             SQLite database and keeps its state in memory; stop the other server, or use \
             PostgreSQL (ROLECALL_DATABASE_URL) to run several nodes",
            db.display(),
            path.display()
        ))),
        Err(std::fs::TryLockError::Error(e)) => {
            Err(Error::Setup(format!("cannot lock {}: {e}", path.display())))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_claim_on_the_same_file_is_refused_until_the_first_ends() {
        let dir = tempfile::tempdir().expect("tempdir");
        let first = claim(None, dir.path()).expect("first").expect("sqlite");
        let second = claim(None, dir.path()).expect_err("second refused");
        assert!(second.to_string().contains("already serving"), "{second}");
        drop(first);
        assert!(claim(None, dir.path()).expect("after release").is_some());
        assert!(claim(Some("postgres://x/y"), dir.path())
            .expect("pg")
            .is_none());
    }

    #[test]
    fn the_sqlite_file_is_found_in_urls() {
        let d = Path::new("/d");
        assert_eq!(sqlite_file(None, d), Some(PathBuf::from("/d/rolecall.db")));
        assert_eq!(
            sqlite_file(Some("sqlite:///tmp/x.db?mode=rwc"), d),
            Some(PathBuf::from("/tmp/x.db"))
        );
        assert_eq!(sqlite_file(Some("sqlite::memory:"), d), None);
    }
}
