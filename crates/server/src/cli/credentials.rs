//! `rolecall credentials`: API credentials for integrations; the secret is printed once, at
//! creation.

use super::client::{usage, Client, CmdResult};
use super::instant::{parse_instant, time};
use super::output::{details, items, or_none, put_opt, table, text, yes_no};
use clap::Subcommand;
use reqwest::Method;
use serde_json::{Map, Value};

#[derive(Debug, Subcommand)]
pub enum CredentialsCommand {
    /// List credentials (never their secrets).
    List,
    /// Show one credential.
    Get { id: String },
    /// Create a credential; its secret is printed this once.
    Create {
        /// Letters, digits, '.', '_', '-'; unique in the organization.
        #[arg(long)]
        name: String,
        #[arg(long)]
        description: Option<String>,
        /// When it stops working: RFC 3339 (2030-01-31T18:00:00Z) or Unix milliseconds
        /// [default: never].
        #[arg(long, value_name = "TIME")]
        expires_at: Option<String>,
        /// Allow sensitive changes without identity re-verification (automation).
        #[arg(long)]
        sensitive_changes: bool,
    },
    /// Revoke a credential at once.
    Revoke { id: String },
}

/// Milliseconds since the epoch now, by this machine's clock (the CLI's, not the server's).
fn now_ms() -> i64 {
    use crate::directory::Clock;
    crate::directory::SystemClock.now()
}

fn credential_status(cred: &Value) -> &'static str {
    if !cred["revoked_at"].is_null() {
        "revoked"
    } else if cred["expires_at"].as_i64().is_some_and(|e| e <= now_ms()) {
        "expired"
    } else {
        "active"
    }
}

fn print_credential(cred: &Value) {
    let expires = time(&cred["expires_at"]);
    println!(
        "{}",
        details(vec![
            ("id", text(cred, "id")),
            ("name", text(cred, "name")),
            ("description", text(cred, "description")),
            ("status", credential_status(cred).into()),
            ("service user", text(cred, "service_user_id")),
            ("sensitive changes", yes_no(cred, "sensitive_changes")),
            ("created by", text(cred, "created_by")),
            ("created", time(&cred["created_at"])),
            (
                "expires",
                if expires.is_empty() {
                    "never".into()
                } else {
                    expires
                }
            ),
            ("last used", or_none(time(&cred["last_used_at"]))),
            ("revoked", time(&cred["revoked_at"])),
        ])
    );
}

pub(super) async fn run(c: &Client, cmd: CredentialsCommand) -> CmdResult {
    match cmd {
        CredentialsCommand::List => {
            let r = c.org_call(Method::GET, &["credentials"], &[], None).await?;
            if !c.print_json(&r.body) {
                let mut t = table(&[
                    "id",
                    "name",
                    "status",
                    "service user",
                    "expires",
                    "last used",
                    "sensitive changes",
                ]);
                for cred in items(&r.body) {
                    let expires = time(&cred["expires_at"]);
                    t.add_row(vec![
                        text(cred, "id"),
                        text(cred, "name"),
                        credential_status(cred).into(),
                        text(cred, "service_user_id"),
                        if expires.is_empty() {
                            "never".into()
                        } else {
                            expires
                        },
                        time(&cred["last_used_at"]),
                        yes_no(cred, "sensitive_changes"),
                    ]);
                }
                println!("{t}");
            }
        }
        CredentialsCommand::Get { id } => {
            let r = c
                .org_call(Method::GET, &["credentials", &id], &[], None)
                .await?;
            if !c.print_json(&r.body) {
                print_credential(&r.body);
            }
        }
        CredentialsCommand::Create {
            name,
            description,
            expires_at,
            sensitive_changes,
        } => {
            let mut body = Map::new();
            body.insert("name".into(), name.into());
            put_opt(&mut body, "description", description);
            if let Some(raw) = expires_at {
                let ms = parse_instant(&raw).map_err(|m| usage(&format!("--expires-at {m}")))?;
                body.insert("expires_at".into(), ms.into());
            }
            body.insert("sensitive_changes".into(), sensitive_changes.into());
            let r = c
                .org_call(
                    Method::POST,
                    &["credentials"],
                    &[],
                    Some(Value::Object(body)),
                )
                .await?;
            if !c.print_json(&r.body) {
                let cred = &r.body["credential"];
                print_credential(cred);
                println!("Secret, shown this once (only its hash is kept): store it now.");
                println!("{}", text(&r.body, "secret"));
                println!(
                    "Send it as a bearer token; assign roles to service user {} like to any user.",
                    text(cred, "service_user_id")
                );
            }
        }
        CredentialsCommand::Revoke { id } => {
            c.org_call(Method::DELETE, &["credentials", &id], &[], None)
                .await?;
            c.done(&format!("Revoked credential {id}."));
        }
    }
    Ok(0)
}
