//! The module layering, checked mechanically so an import cycle cannot creep back in: each
//! layer names the crate modules it may use, and a test reads the sources for `crate::…` paths
//! outside that list. (Issue 10 found `cli_admin` ↔ `cli_client` and `auth` ↔ `directory`.)

/// What a file under `dir` may name as `crate::…`: a module (`store`) or one item of it
/// (`directory::SystemClock`); a module may always name itself.
const LAYERS: &[(&str, &[&str])] = &[
    // Storage knows only its errors.
    ("store", &["error"]),
    // Hashing and one-time codes: pure algorithms.
    ("credentials", &[]),
    // Use cases: storage and credentials, never how callers authenticate or talk to us.
    ("directory", &["error", "store", "credentials"]),
    // The SCIM adapter (issue 14): like the REST API, it calls use cases and shares the HTTP
    // state and extractors; its column map names the backend, never store functions.
    (
        "scim",
        &[
            "error",
            "directory",
            "http::AppState",
            "http::extract",
            "store::Backend",
            "store::is_busy",
        ],
    ),
    // The web console is an adapter like `http`: it authenticates (`auth`), calls use cases and
    // shares the API's state and error mapping. It never reaches storage; it names only the
    // plain data types the use cases hand back.
    (
        "console",
        &[
            "error",
            "auth",
            "directory",
            "http::AppState",
            "http::problem::ApiError",
            // A report's CSV and a bulk file's body: one writer and one reader, so the console's
            // downloads and uploads are the API's bytes.
            "http::reports",
            "http::bulk",
            "credentials::secret",
            "store::signin::Session",
            "store::signin::AuthEvent",
            "store::credentials::Credential",
            "store::audit::Filter",
        ],
    ),
    // The management commands are HTTP clients: nothing of the server's insides but the one
    // wall clock (credential expiry is shown relative to now).
    (
        "cli/",
        &["error", "directory::Clock", "directory::SystemClock"],
    ),
];

/// Files of a layer that stand outside its rule: `cli/mod.rs` runs the server itself
/// (`serve`, `init`, `token`, `openapi`), and `cli/migrate.rs` (`import magento`) works on the
/// store directly like `init`.
const EXCEPTIONS: &[&str] = &["cli/mod.rs", "cli/migrate.rs"];

fn rust_files(dir: &std::path::Path, out: &mut Vec<std::path::PathBuf>) {
    let entries = std::fs::read_dir(dir).expect("source directory is readable");
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// Every `crate::…` path the text names, with its line.
fn crate_paths(text: &str) -> Vec<(usize, String)> {
    let mut out = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let mut rest = line;
        while let Some(i) = rest.find("crate::") {
            let after = &rest[i + "crate::".len()..];
            let name: String = after
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '_' || *c == ':')
                .collect();
            out.push((n + 1, name));
            rest = after;
        }
    }
    out
}

#[test]
fn modules_import_only_the_layers_below_them() {
    let src = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    let mut violations = Vec::new();
    for file in files {
        let rel = file
            .strip_prefix(&src)
            .expect("under src")
            .to_string_lossy()
            .replace('\\', "/");
        if EXCEPTIONS.contains(&rel.as_str()) {
            continue;
        }
        let Some((layer, allowed)) = LAYERS.iter().find(|(dir, _)| {
            rel.starts_with(dir) && (dir.ends_with('/') || rel[dir.len()..].starts_with(['/', '.']))
        }) else {
            continue;
        };
        let own = layer.trim_end_matches('/');
        let text = std::fs::read_to_string(&file).expect("source is readable");
        for (line, path) in crate_paths(&text) {
            let path = path.trim_end_matches(':');
            let module = path.split("::").next().unwrap_or_default();
            let permitted = allowed
                .iter()
                .any(|a| *a == module || path == *a || path.starts_with(&format!("{a}::")));
            if module != own && !permitted {
                violations.push(format!("src/{rel}:{line} uses crate::{path}"));
            }
        }
        // Inside the CLI, only the dispatcher knows every command: no resource module may
        // reach back into it.
        if own == "cli" && rel != "cli/remote.rs" && text.contains("super::remote") {
            violations.push(format!("src/{rel} uses super::remote"));
        }
    }
    assert!(
        violations.is_empty(),
        "layering broken (see src/layers.rs):\n{}",
        violations.join("\n")
    );
}

#[test]
fn the_layering_check_sees_crate_paths() {
    assert_eq!(
        crate_paths("use crate::auth::OrgAdmin; x(crate::store::y)"),
        vec![
            (1, "auth::OrgAdmin".to_string()),
            (1, "store::y".to_string())
        ]
    );
}
