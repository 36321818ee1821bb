//! `rolecall orgs`: the organizations the token can see; creating one (server-wide tokens
//! only) and renaming one.

use super::client::{Client, CmdResult};
use super::instant::time;
use super::output::{details, items, table, text};
use clap::Subcommand;
use reqwest::Method;
use serde_json::{json, Map, Value};

#[derive(Debug, Subcommand)]
pub enum OrgsCommand {
    /// Organizations the token can see.
    List,
    /// Show an organization [default: the connection's, --org].
    Get {
        /// Organization slug or id.
        org: Option<String>,
    },
    /// Create an organization with every application's built-in roles and default scopes
    /// (server-wide tokens only).
    Create {
        /// URL name: lower-case letters, digits and -.
        #[arg(long)]
        slug: String,
        #[arg(long)]
        name: String,
        /// `enterprise` (the whole admin hierarchy, default) or `teams` (System admins only).
        #[arg(long)]
        kind: Option<String>,
    },
    /// Rename an organization [default: the connection's, --org].
    Update {
        /// Organization slug or id.
        org: Option<String>,
        /// The new display name.
        #[arg(long)]
        name: String,
    },
}

pub(super) async fn run(c: &Client, cmd: OrgsCommand) -> CmdResult {
    match cmd {
        OrgsCommand::List => {
            let r = c.call(Method::GET, &["organizations"], &[], None).await?;
            if !c.print_json(&r.body) {
                let mut t = table(&["id", "slug", "name", "kind", "owner"]);
                for o in items(&r.body) {
                    t.add_row(vec![
                        text(o, "id"),
                        text(o, "slug"),
                        text(o, "name"),
                        text(o, "kind"),
                        text(o, "owner_id"),
                    ]);
                }
                println!("{t}");
            }
        }
        OrgsCommand::Get { org } => {
            let org = org.unwrap_or_else(|| c.org.clone());
            let r = c
                .call(Method::GET, &["organizations", &org], &[], None)
                .await?;
            if !c.print_json(&r.body) {
                print_org(&r.body);
            }
        }
        OrgsCommand::Create { slug, name, kind } => {
            let mut body = Map::new();
            body.insert("slug".into(), slug.into());
            body.insert("name".into(), name.into());
            if let Some(k) = kind {
                body.insert("kind".into(), k.into());
            }
            let r = c
                .call(
                    Method::POST,
                    &["organizations"],
                    &[],
                    Some(Value::Object(body)),
                )
                .await?;
            if !c.print_json(&r.body) {
                print_org(&r.body);
            }
        }
        OrgsCommand::Update { org, name } => {
            let org = org.unwrap_or_else(|| c.org.clone());
            let r = c
                .call(
                    Method::PATCH,
                    &["organizations", &org],
                    &[],
                    Some(json!({ "name": name })),
                )
                .await?;
            if !c.print_json(&r.body) {
                print_org(&r.body);
            }
        }
    }
    Ok(0)
}

fn print_org(o: &Value) {
    println!(
        "{}",
        details(vec![
            ("id", text(o, "id")),
            ("slug", text(o, "slug")),
            ("name", text(o, "name")),
            ("kind", text(o, "kind")),
            ("owner", text(o, "owner_id")),
            ("created", time(&o["created_at"])),
            ("updated", time(&o["updated_at"])),
            ("version", text(o, "version")),
        ])
    );
}
