//! Issue 14: a real SCIM client library — the Python `scim2-client`, which validates every
//! response against the schemas the server publishes — creates, finds, patches, replaces and
//! deletes users and groups on both databases. `./scripts/test` installs the library.

use crate::both;
use crate::helpers::{spawn_app, Backend};
use crate::scim_helpers::scim_client;

both!(scim2_client_provisions_users_and_groups);
async fn scim2_client_provisions_users_and_groups(b: Backend) {
    let python = match std::env::var("ROLECALL_TEST_SCIM2_PYTHON") {
        Ok(p) if !p.is_empty() => p,
        _ => panic!("ROLECALL_TEST_SCIM2_PYTHON is not set: run the suite with ./scripts/test, which installs scim2-client into a venv"),
    };
    let app = spawn_app(b).await;
    let scim = scim_client(&app, "scim2-client").await;
    let script = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../scripts/scim2_client_check.py"
    );
    let out = tokio::process::Command::new(&python)
        .arg(script)
        .arg(format!("{}/scim/v2", app.base))
        .arg(&scim.token)
        .output()
        .await
        .expect("run python");
    assert!(
        out.status.success(),
        "scim2-client failed:\n{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}
