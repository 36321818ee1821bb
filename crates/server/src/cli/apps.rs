//! `rolecall apps`: the governed applications and their resource trees.

use super::client::{Client, CmdResult};
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
    }
    Ok(0)
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
