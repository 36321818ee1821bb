//! `rolecall groups`: groups, their members and the roles every member holds through them.

use super::client::{usage, Client, CmdResult};
use super::instant::time;
use super::output::{details, items, print_users, put_opt, scopes, table, text};
use clap::Subcommand;
use reqwest::Method;
use serde_json::{json, Map, Value};

#[derive(Debug, Subcommand)]
pub enum GroupsCommand {
    /// List groups.
    List {
        /// Text in the name.
        #[arg(long)]
        q: Option<String>,
    },
    /// Show one group.
    Get { id: String },
    /// Create a group.
    Create {
        #[arg(long)]
        name: String,
        #[arg(long)]
        description: Option<String>,
    },
    /// Rename or re-describe a group; omitted options are left alone.
    Update {
        id: String,
        #[arg(long)]
        name: Option<String>,
        #[arg(long)]
        description: Option<String>,
    },
    /// Delete a group; its members keep their accounts.
    Delete { id: String },
    /// The roles assigned to a group (every member holds them).
    Roles { id: String },
    /// List a group's members.
    Members { id: String },
    /// Add users to a group; several at once are added all or none (one transaction).
    AddMember {
        group: String,
        /// User ids.
        #[arg(required = true, value_name = "USER")]
        users: Vec<String>,
    },
    /// Remove a user from a group.
    RemoveMember { group: String, user: String },
    /// Assign a role to a group: every member holds it.
    AddRole { group: String, role: String },
    /// Remove a role from a group.
    RemoveRole { group: String, role: String },
}

pub(super) async fn run(c: &Client, cmd: GroupsCommand) -> CmdResult {
    match cmd {
        GroupsCommand::List { q } => {
            let r = c
                .org_call(Method::GET, &["groups"], &[("q", q)], None)
                .await?;
            if !c.print_json(&r.body) {
                let mut t = table(&["id", "name", "description"]);
                for g in items(&r.body) {
                    t.add_row(vec![text(g, "id"), text(g, "name"), text(g, "description")]);
                }
                println!("{t}");
                println!("{} in total", text(&r.body, "total"));
            }
        }
        GroupsCommand::Get { id } => {
            let r = c.org_call(Method::GET, &["groups", &id], &[], None).await?;
            if !c.print_json(&r.body) {
                print_group(&r.body);
            }
        }
        GroupsCommand::Create { name, description } => {
            let mut body = Map::new();
            body.insert("name".into(), name.into());
            put_opt(&mut body, "description", description);
            let r = c
                .org_call(Method::POST, &["groups"], &[], Some(Value::Object(body)))
                .await?;
            if !c.print_json(&r.body) {
                print_group(&r.body);
            }
        }
        GroupsCommand::Update {
            id,
            name,
            description,
        } => {
            let mut body = Map::new();
            put_opt(&mut body, "name", name);
            put_opt(&mut body, "description", description);
            if body.is_empty() {
                return Err(usage("nothing to change: give --name or --description"));
            }
            let r = c
                .org_call(
                    Method::PATCH,
                    &["groups", &id],
                    &[],
                    Some(Value::Object(body)),
                )
                .await?;
            if !c.print_json(&r.body) {
                print_group(&r.body);
            }
        }
        GroupsCommand::Roles { id } => {
            let r = c
                .org_call(Method::GET, &["groups", &id, "roles"], &[], None)
                .await?;
            if !c.print_json(&r.body) {
                let mut t = table(&["id", "application", "name", "scopes"]);
                for role in items(&r.body) {
                    t.add_row(vec![
                        text(role, "id"),
                        text(role, "application"),
                        text(role, "name"),
                        scopes(role),
                    ]);
                }
                println!("{t}");
            }
        }
        GroupsCommand::Delete { id } => {
            c.org_call(Method::DELETE, &["groups", &id], &[], None)
                .await?;
            c.done(&format!("Deleted group {id}."));
        }
        GroupsCommand::Members { id } => {
            let r = c
                .org_call(Method::GET, &["groups", &id, "members"], &[], None)
                .await?;
            if !c.print_json(&r.body) {
                print_users(items(&r.body));
            }
        }
        GroupsCommand::AddMember { group, users } if users.len() > 1 => {
            c.link_many(&["groups", &group, "members", "batch"], &users, "added")
                .await?;
        }
        GroupsCommand::AddMember { group, users } => {
            let user = users.concat();
            c.link(
                &["groups", &group, "members"],
                json!({ "user_id": user }),
                format!("Added user {user} to group {group}."),
                format!("User {user} was already a member of group {group}."),
            )
            .await?;
        }
        GroupsCommand::RemoveMember { group, user } => {
            c.org_call(
                Method::DELETE,
                &["groups", &group, "members", &user],
                &[],
                None,
            )
            .await?;
            c.done(&format!("Removed user {user} from group {group}."));
        }
        GroupsCommand::AddRole { group, role } => {
            c.link(
                &["groups", &group, "roles"],
                json!({ "role_id": role }),
                format!("Assigned role {role} to group {group}."),
                format!("Group {group} already held role {role}."),
            )
            .await?;
        }
        GroupsCommand::RemoveRole { group, role } => {
            c.org_call(
                Method::DELETE,
                &["groups", &group, "roles", &role],
                &[],
                None,
            )
            .await?;
            c.done(&format!("Removed role {role} from group {group}."));
        }
    }
    Ok(0)
}

fn print_group(g: &Value) {
    println!(
        "{}",
        details(vec![
            ("id", text(g, "id")),
            ("name", text(g, "name")),
            ("description", text(g, "description")),
            ("created", time(&g["created_at"])),
            ("updated", time(&g["updated_at"])),
            ("version", text(g, "version")),
        ])
    );
}
