//! `rolecall profiles` and `rolecall products`: product profiles, their seats, the users and
//! groups holding them, and every product's seat count.

use super::client::{usage, Client, CmdResult};
use super::instant::time;
use super::output::{details, items, list, or_none, print_users, put_opt, table, text};
use clap::Subcommand;
use reqwest::Method;
use serde_json::{json, Map, Value};

#[derive(Debug, Subcommand)]
pub enum ProfilesCommand {
    /// List product profiles with their seats.
    List {
        /// Only profiles of this application (product).
        #[arg(long, value_name = "KEY")]
        application: Option<String>,
    },
    /// Show one profile.
    Get { id: String },
    /// Create a product profile. An application's first profile gates it: from then on its
    /// users need a seat (or its Administrators role).
    Create {
        /// Application key, e.g. commerce-admin.
        #[arg(long, value_name = "KEY")]
        application: String,
        #[arg(long)]
        name: String,
        #[arg(long)]
        description: Option<String>,
        /// Number of seats [default: unlimited].
        #[arg(long, value_name = "N")]
        seats: Option<i64>,
        /// A role of the same application every seat holder gets (repeatable).
        #[arg(long = "role", value_name = "ROLE_ID")]
        roles: Vec<String>,
    },
    /// Change a profile; omitted options are left alone.
    Update {
        id: String,
        #[arg(long)]
        name: Option<String>,
        #[arg(long)]
        description: Option<String>,
        /// Number of seats (not below the seats in use).
        #[arg(long, value_name = "N", conflicts_with = "unlimited")]
        seats: Option<i64>,
        /// Make seats unlimited.
        #[arg(long)]
        unlimited: bool,
        /// Replace the bundled roles with these (repeatable).
        #[arg(long = "role", value_name = "ROLE_ID")]
        roles: Vec<String>,
        /// Remove every bundled role.
        #[arg(long, conflicts_with = "roles")]
        no_roles: bool,
    },
    /// Delete a profile and its seats; users, groups and roles stay.
    Delete { id: String },
    /// Users holding a seat directly.
    Users { id: String },
    /// Give users a seat; several at once fit the quota all together or none is given.
    AddUser {
        profile: String,
        /// User ids.
        #[arg(required = true, value_name = "USER")]
        users: Vec<String>,
    },
    /// Take a user's direct seat away.
    RemoveUser { profile: String, user: String },
    /// Groups assigned to the profile (each member holds a seat).
    Groups { id: String },
    /// Assign a group: every member holds a seat.
    AddGroup { profile: String, group: String },
    /// Remove a group from the profile.
    RemoveGroup { profile: String, group: String },
}

/// Seats as `used / quota` (`unlimited` without a quota).
fn seats(p: &Value) -> String {
    match p["seat_quota"].as_i64() {
        Some(q) => format!("{} / {q}", text(p, "seats_used")),
        None => format!("{} / unlimited", text(p, "seats_used")),
    }
}

fn print_profile(p: &Value) {
    println!(
        "{}",
        details(vec![
            ("id", text(p, "id")),
            ("application", text(p, "application")),
            ("name", text(p, "name")),
            ("description", text(p, "description")),
            ("seats used / quota", seats(p)),
            (
                "seats free",
                p["seats_free"]
                    .as_i64()
                    .map_or("unlimited".into(), |f| f.to_string())
            ),
            ("roles", or_none(list(&p["roles"], ", "))),
            ("created", time(&p["created_at"])),
            ("updated", time(&p["updated_at"])),
            ("version", text(p, "version")),
        ])
    );
}

pub(super) async fn run(c: &Client, cmd: ProfilesCommand) -> CmdResult {
    match cmd {
        ProfilesCommand::List { application } => {
            let r = c
                .org_call(
                    Method::GET,
                    &["profiles"],
                    &[("application", application)],
                    None,
                )
                .await?;
            if !c.print_json(&r.body) {
                let mut t = table(&["id", "application", "name", "seats used / quota", "roles"]);
                for p in items(&r.body) {
                    t.add_row(vec![
                        text(p, "id"),
                        text(p, "application"),
                        text(p, "name"),
                        seats(p),
                        p["roles"].as_array().map_or(0, Vec::len).to_string(),
                    ]);
                }
                println!("{t}");
            }
        }
        ProfilesCommand::Get { id } => {
            let r = c
                .org_call(Method::GET, &["profiles", &id], &[], None)
                .await?;
            if !c.print_json(&r.body) {
                print_profile(&r.body);
            }
        }
        ProfilesCommand::Create {
            application,
            name,
            description,
            seats,
            roles,
        } => {
            let mut body = Map::new();
            body.insert("application".into(), application.into());
            body.insert("name".into(), name.into());
            put_opt(&mut body, "description", description);
            if let Some(n) = seats {
                body.insert("seat_quota".into(), n.into());
            }
            body.insert("roles".into(), json!(roles));
            let r = c
                .org_call(Method::POST, &["profiles"], &[], Some(Value::Object(body)))
                .await?;
            if !c.print_json(&r.body) {
                print_profile(&r.body);
            }
        }
        ProfilesCommand::Update {
            id,
            name,
            description,
            seats,
            unlimited,
            roles,
            no_roles,
        } => {
            let mut body = Map::new();
            put_opt(&mut body, "name", name);
            put_opt(&mut body, "description", description);
            if let Some(n) = seats {
                body.insert("seat_quota".into(), n.into());
            } else if unlimited {
                body.insert("seat_quota".into(), Value::Null);
            }
            if !roles.is_empty() || no_roles {
                body.insert("roles".into(), json!(roles));
            }
            if body.is_empty() {
                return Err(usage("nothing to change: give --name, --description, --seats, --unlimited, --role or --no-roles"));
            }
            let r = c
                .org_call(
                    Method::PATCH,
                    &["profiles", &id],
                    &[],
                    Some(Value::Object(body)),
                )
                .await?;
            if !c.print_json(&r.body) {
                print_profile(&r.body);
            }
        }
        ProfilesCommand::Delete { id } => {
            c.org_call(Method::DELETE, &["profiles", &id], &[], None)
                .await?;
            c.done(&format!("Deleted profile {id}."));
        }
        ProfilesCommand::Users { id } => {
            let r = c
                .org_call(Method::GET, &["profiles", &id, "users"], &[], None)
                .await?;
            if !c.print_json(&r.body) {
                print_users(items(&r.body));
            }
        }
        ProfilesCommand::AddUser { profile, users } if users.len() > 1 => {
            c.link_many(
                &["profiles", &profile, "users", "batch"],
                &users,
                "given a seat",
            )
            .await?;
        }
        ProfilesCommand::AddUser { profile, users } => {
            let user = users.concat();
            c.link(
                &["profiles", &profile, "users"],
                json!({ "user_id": user }),
                format!("Gave user {user} a seat in profile {profile}."),
                format!("User {user} already held a seat in profile {profile}."),
            )
            .await?;
        }
        ProfilesCommand::RemoveUser { profile, user } => {
            c.org_call(
                Method::DELETE,
                &["profiles", &profile, "users", &user],
                &[],
                None,
            )
            .await?;
            c.done(&format!("Removed user {user} from profile {profile}."));
        }
        ProfilesCommand::Groups { id } => {
            let r = c
                .org_call(Method::GET, &["profiles", &id, "groups"], &[], None)
                .await?;
            if !c.print_json(&r.body) {
                let mut t = table(&["id", "name", "description"]);
                for g in items(&r.body) {
                    t.add_row(vec![text(g, "id"), text(g, "name"), text(g, "description")]);
                }
                println!("{t}");
            }
        }
        ProfilesCommand::AddGroup { profile, group } => {
            c.link(
                &["profiles", &profile, "groups"],
                json!({ "group_id": group }),
                format!("Assigned group {group} to profile {profile}."),
                format!("Group {group} was already assigned to profile {profile}."),
            )
            .await?;
        }
        ProfilesCommand::RemoveGroup { profile, group } => {
            c.org_call(
                Method::DELETE,
                &["profiles", &profile, "groups", &group],
                &[],
                None,
            )
            .await?;
            c.done(&format!("Removed group {group} from profile {profile}."));
        }
    }
    Ok(0)
}

pub(crate) async fn products(c: &Client) -> CmdResult {
    let r = c.org_call(Method::GET, &["products"], &[], None).await?;
    if !c.print_json(&r.body) {
        let mut t = table(&[
            "application",
            "name",
            "profiles",
            "seats used / total",
            "licensed users",
        ]);
        for p in items(&r.body) {
            let gated = p["gated"].as_bool().unwrap_or(false);
            let seats = if !gated {
                "(not gated: roles decide)".to_string()
            } else {
                match p["seats_total"].as_i64() {
                    Some(total) => format!("{} / {total}", text(p, "seats_used")),
                    None => format!("{} / unlimited", text(p, "seats_used")),
                }
            };
            t.add_row(vec![
                text(p, "application"),
                text(p, "name"),
                text(p, "profiles"),
                seats,
                text(p, "licensed_users"),
            ]);
        }
        println!("{t}");
    }
    Ok(0)
}
