//! `rolecall apps`: the governed applications and their resource trees.

use super::client::{usage, Client, CmdResult};
use super::output::{items, list, or_none, table, text, yes_no};
use clap::Subcommand;
use reqwest::Method;
use serde_json::Value;

#[derive(Debug, Subcommand)]
pub enum AppsCommand {
    /// List the applications.
    List,
    /// Show one application and its resource tree.
    Get { key: String },
    /// Add or replace an application definition (a catalogue file in JSON, as in the
    /// catalogue directory); server-wide tokens only. The key is the file's `key`.
    Put {
        /// The definition file (JSON).
        file: std::path::PathBuf,
    },
    /// The product profiles of an application in the organization, with their seats.
    Profiles {
        /// Application key, e.g. commerce-admin.
        key: String,
    },
}

pub(super) async fn run(c: &Client, cmd: AppsCommand) -> CmdResult {
    match cmd {
        AppsCommand::List => {
            let r = c.call(Method::GET, &["applications"], &[], None).await?;
            if !c.print_json(&r.body) {
                let mut t = table(&[
                    "key",
                    "name",
                    "resources",
                    "scope kinds",
                    "actions",
                    "one role per user",
                ]);
                for a in items(&r.body) {
                    t.add_row(vec![
                        text(a, "key"),
                        text(a, "name"),
                        text(a, "resource_count"),
                        list(&a["scope_kinds"], " > "),
                        list(&a["actions"], ", "),
                        yes_no(a, "one_role_per_user"),
                    ]);
                }
                println!("{t}");
            }
        }
        AppsCommand::Get { key } => {
            let r = c
                .call(Method::GET, &["applications", &key], &[], None)
                .await?;
            if !c.print_json(&r.body) {
                let a = &r.body;
                println!("{} ({})", text(a, "name"), text(a, "key"));
                let description = text(a, "description");
                if !description.is_empty() {
                    println!("{description}");
                }
                println!("one role per user: {}", yes_no(a, "one_role_per_user"));
                println!("actions:           {}", or_none(list(&a["actions"], ", ")));
                println!("scope kinds:       {}", list(&a["scope_kinds"], " > "));
                println!("resources:         {}", text(a, "resource_count"));
                println!();
                let mut out = String::new();
                resource_tree(&a["resources"], 0, &mut out);
                print!("{out}");
            }
        }
        AppsCommand::Put { file } => {
            let def = read_definition(&file)?;
            let key = text(&def, "key");
            if key.is_empty() {
                return Err(usage(&format!(
                    "{} has no \"key\": name the application in the file",
                    file.display()
                )));
            }
            let r = c
                .call(Method::PUT, &["applications", &key], &[], Some(def))
                .await?;
            if !c.print_json(&r.body) {
                println!(
                    "Application {} ({}) now has {} resources.",
                    text(&r.body, "name"),
                    text(&r.body, "key"),
                    text(&r.body, "resource_count")
                );
            }
        }
        AppsCommand::Profiles { key } => {
            let r = c
                .org_call(Method::GET, &["applications", &key, "profiles"], &[], None)
                .await?;
            if !c.print_json(&r.body) {
                let mut t = table(&["id", "name", "seats used", "seat quota"]);
                for p in items(&r.body) {
                    t.add_row(vec![
                        text(p, "id"),
                        text(p, "name"),
                        text(p, "seats_used"),
                        p["seat_quota"]
                            .as_i64()
                            .map_or("unlimited".into(), |q| q.to_string()),
                    ]);
                }
                println!("{t}");
            }
        }
    }
    Ok(0)
}

/// The JSON of an application definition file; a file that cannot be read or parsed is named
/// before any request.
fn read_definition(file: &std::path::Path) -> CmdResult<Value> {
    let raw = std::fs::read_to_string(file)
        .map_err(|e| usage(&format!("cannot read {}: {e}", file.display())))?;
    serde_json::from_str(&raw).map_err(|e| usage(&format!("{} is not JSON: {e}", file.display())))
}

/// Appends `node` and its descendants, two spaces per level, with the actions it supports.
fn resource_tree(node: &Value, depth: usize, out: &mut String) {
    let Some(id) = node["id"].as_str() else {
        return;
    };
    let indent = "  ".repeat(depth);
    let title = text(node, "title");
    let actions = list(&node["actions"], ", ");
    out.push_str(&indent);
    out.push_str(id);
    if !title.is_empty() {
        out.push_str("  ");
        out.push_str(&title);
    }
    if !actions.is_empty() {
        out.push_str(&format!("  [{actions}]"));
    }
    out.push('\n');
    for child in node["children"].as_array().into_iter().flatten() {
        resource_tree(child, depth + 1, out);
    }
}
