//! `rolecall scim-clients`: create (the secret printed once), list with last use, revoke the
//! credentials identity providers use on `/scim/v2` (issue 14).

use super::client::{Client, CmdResult};
use super::instant::time;
use super::output::{items, put_opt, table, text};
use clap::Subcommand;
use reqwest::Method;
use serde_json::{Map, Value};

#[derive(Debug, Subcommand)]
pub enum ScimClientsCommand {
    /// List SCIM clients with their last use (never their secrets).
    List,
    /// Show one SCIM client.
    Get { id: String },
    /// Create a SCIM client; its bearer secret is printed this once.
    Create {
        /// Letters, digits, '.', '_', '-' (e.g. entra, okta); unique in the organization.
        #[arg(long)]
        name: String,
        #[arg(long)]
        description: Option<String>,
    },
    /// Revoke a SCIM client at once (what it provisioned stays).
    Revoke { id: String },
}

fn status(sc: &Value) -> &'static str {
    if sc["revoked_at"].is_null() {
        "active"
    } else {
        "revoked"
    }
}

fn print_client(sc: &Value) {
    println!("id:          {}", text(sc, "id"));
    println!("name:        {}", text(sc, "name"));
    println!("status:      {}", status(sc));
    println!("created by:  {}", text(sc, "created_by"));
    println!("created:     {}", time(&sc["created_at"]));
    println!("last used:   {}", time(&sc["last_used_at"]));
}

pub(crate) async fn run(c: &Client, cmd: ScimClientsCommand) -> CmdResult {
    match cmd {
        ScimClientsCommand::List => {
            let r = c
                .org_call(Method::GET, &["scim-clients"], &[], None)
                .await?;
            if !c.print_json(&r.body) {
                let mut t = table(&["id", "name", "status", "created by", "last used"]);
                for sc in items(&r.body) {
                    t.add_row(vec![
                        text(sc, "id"),
                        text(sc, "name"),
                        status(sc).into(),
                        text(sc, "created_by"),
                        time(&sc["last_used_at"]),
                    ]);
                }
                println!("{t}");
            }
        }
        ScimClientsCommand::Get { id } => {
            let r = c
                .org_call(Method::GET, &["scim-clients", &id], &[], None)
                .await?;
            if !c.print_json(&r.body) {
                print_client(&r.body);
            }
        }
        ScimClientsCommand::Create { name, description } => {
            let mut body = Map::new();
            body.insert("name".into(), name.into());
            put_opt(&mut body, "description", description);
            let r = c
                .org_call(
                    Method::POST,
                    &["scim-clients"],
                    &[],
                    Some(Value::Object(body)),
                )
                .await?;
            if !c.print_json(&r.body) {
                print_client(&r.body["client"]);
                println!("Secret token, shown this once (only its hash is kept): store it now.");
                println!("{}", text(&r.body, "secret"));
                println!(
                    "In Entra ID or Okta use the tenant URL <this server's address>{} and this token.",
                    text(&r.body, "scim_base_path")
                );
            }
        }
        ScimClientsCommand::Revoke { id } => {
            c.org_call(Method::DELETE, &["scim-clients", &id], &[], None)
                .await?;
            c.done(&format!("Revoked SCIM client {id}."));
        }
    }
    Ok(0)
}
