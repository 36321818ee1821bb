//! `rolecall scopes`: an application's scope tree in the organization (Magento's websites,
//! stores and store views; cloud environments), which roles can be limited to.

use super::client::{Client, CmdResult};
use super::output::{items, table, text};
use clap::Subcommand;
use reqwest::Method;
use serde_json::{Map, Value};

#[derive(Debug, Subcommand)]
pub enum ScopesCommand {
    /// The application's scope tree, root first.
    List {
        /// Application key, e.g. commerce-admin.
        #[arg(long, value_name = "KEY")]
        application: String,
    },
    /// Add a scope (a website, store, store view or environment) below its parent.
    Create {
        /// Application key, e.g. commerce-admin.
        #[arg(long, value_name = "KEY")]
        application: String,
        /// The scope's code, unique in the application.
        #[arg(long)]
        code: String,
        /// Parent scope code [default: the root].
        #[arg(long)]
        parent: Option<String>,
        /// Display name.
        #[arg(long)]
        name: Option<String>,
    },
    /// Delete a leaf scope no role is limited to.
    Delete {
        /// Application key, e.g. commerce-admin.
        #[arg(long, value_name = "KEY")]
        application: String,
        /// The scope's code.
        code: String,
    },
}

pub(super) async fn run(c: &Client, cmd: ScopesCommand) -> CmdResult {
    match cmd {
        ScopesCommand::List { application } => {
            let r = c
                .org_call(
                    Method::GET,
                    &["applications", &application, "scopes"],
                    &[],
                    None,
                )
                .await?;
            if !c.print_json(&r.body) {
                let mut t = table(&["code", "name", "kind", "parent"]);
                for s in items(&r.body) {
                    t.add_row(vec![
                        text(s, "code"),
                        text(s, "name"),
                        text(s, "kind"),
                        text(s, "parent"),
                    ]);
                }
                println!("{t}");
            }
        }
        ScopesCommand::Create {
            application,
            code,
            parent,
            name,
        } => {
            let mut body = Map::new();
            body.insert("code".into(), code.into());
            if let Some(p) = parent {
                body.insert("parent".into(), p.into());
            }
            if let Some(n) = name {
                body.insert("name".into(), n.into());
            }
            let r = c
                .org_call(
                    Method::POST,
                    &["applications", &application, "scopes"],
                    &[],
                    Some(Value::Object(body)),
                )
                .await?;
            if !c.print_json(&r.body) {
                println!(
                    "Created {} scope {} in {application} (below {}).",
                    text(&r.body, "kind"),
                    text(&r.body, "code"),
                    match text(&r.body, "parent") {
                        p if p.is_empty() => "the root".to_string(),
                        p => p,
                    }
                );
            }
        }
        ScopesCommand::Delete { application, code } => {
            c.org_call(
                Method::DELETE,
                &["applications", &application, "scopes", &code],
                &[],
                None,
            )
            .await?;
            c.done(&format!("Deleted scope {code} of {application}."));
        }
    }
    Ok(0)
}
