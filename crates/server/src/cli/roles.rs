//! `rolecall roles`: roles of one application, their grants (`RESOURCE[:ACTIONS]`, told apart
//! from resource ids that hold colons by the application's catalogue) and scopes.

use super::client::{usage, Client, CmdResult, Exit};
use super::output::{details, items, list, put_opt, scopes, table, text, yes_no};
use clap::Subcommand;
use reqwest::Method;
use serde_json::{json, Map, Value};
use std::collections::HashSet;

#[derive(Debug, Subcommand)]
pub enum RolesCommand {
    /// List roles.
    List {
        /// Only roles of this application.
        #[arg(long)]
        application: Option<String>,
        /// Text in the name.
        #[arg(long)]
        q: Option<String>,
    },
    /// Show one role with its grants.
    Get { id: String },
    /// Create a role of one application.
    Create {
        /// Application key, e.g. commerce-admin.
        #[arg(long)]
        application: String,
        /// Role name, unique in the application.
        #[arg(long)]
        name: String,
        #[arg(long)]
        description: Option<String>,
        /// RESOURCE or RESOURCE:action,action (repeatable); without actions, every action.
        /// Resource ids that contain `:` are recognised from the application's catalogue.
        #[arg(long = "grant", value_name = "RESOURCE[:ACTIONS]")]
        grants: Vec<String>,
        /// Limit the role to this scope code and its descendants (repeatable).
        #[arg(long = "scope", value_name = "CODE")]
        scopes: Vec<String>,
    },
    /// Change a role; omitted options are left alone. The built-in Administrators role
    /// refuses.
    Update {
        id: String,
        #[arg(long)]
        name: Option<String>,
        #[arg(long)]
        description: Option<String>,
        /// Replace the grants with these (repeatable): RESOURCE or RESOURCE:action,action.
        #[arg(long = "grant", value_name = "RESOURCE[:ACTIONS]")]
        grants: Vec<String>,
        /// Remove every grant.
        #[arg(long, conflicts_with = "grants")]
        no_grants: bool,
        /// Replace the scopes the role is limited to with these codes (repeatable).
        #[arg(long = "scope", value_name = "CODE")]
        scopes: Vec<String>,
        /// Let the role apply in every scope again.
        #[arg(long, conflicts_with = "scopes")]
        all_scopes: bool,
    },
    /// Delete a role; its holders keep their accounts.
    Delete { id: String },
    /// Assign a role directly to users, all or none (one transaction): a user holding another
    /// role of a "one role per user" application refuses the whole call.
    AddUsers {
        role: String,
        /// User ids.
        #[arg(required = true, value_name = "USER")]
        users: Vec<String>,
    },
    /// Show a role's grants.
    Grants { id: String },
    /// Replace a role's grants as a whole (none: give --none).
    SetGrants {
        id: String,
        /// RESOURCE or RESOURCE:action,action (repeatable); without actions, every action.
        #[arg(
            long = "grant",
            value_name = "RESOURCE[:ACTIONS]",
            required_unless_present = "none"
        )]
        grants: Vec<String>,
        /// Leave the role without grants.
        #[arg(long, conflicts_with = "grants")]
        none: bool,
    },
    /// Add grants to a role, keeping the others: actions join those already granted on the
    /// resource. Refused if the role changed meanwhile (run it again).
    Grant {
        id: String,
        /// RESOURCE or RESOURCE:action,action; without actions, every action.
        #[arg(required = true, value_name = "RESOURCE[:ACTIONS]")]
        grants: Vec<String>,
    },
    /// Take grants away from a role: a whole resource, or some of its actions. Refused if the
    /// role changed meanwhile (run it again).
    Ungrant {
        id: String,
        /// RESOURCE (the whole grant) or RESOURCE:action,action (only these actions).
        #[arg(required = true, value_name = "RESOURCE[:ACTIONS]")]
        grants: Vec<String>,
    },
}

pub(super) async fn run(c: &Client, cmd: RolesCommand) -> CmdResult {
    match cmd {
        RolesCommand::List { application, q } => {
            let r = c
                .org_call(
                    Method::GET,
                    &["roles"],
                    &[("application", application), ("q", q)],
                    None,
                )
                .await?;
            if !c.print_json(&r.body) {
                let mut t = table(&["id", "application", "name", "builtin", "scopes"]);
                for role in items(&r.body) {
                    t.add_row(vec![
                        text(role, "id"),
                        text(role, "application"),
                        text(role, "name"),
                        yes_no(role, "builtin"),
                        scopes(role),
                    ]);
                }
                println!("{t}");
            }
        }
        RolesCommand::AddUsers { role, users } => {
            c.link_many(
                &["roles", &role, "users", "batch"],
                &users,
                "given the role",
            )
            .await?;
        }
        RolesCommand::Get { id } => {
            let r = c.org_call(Method::GET, &["roles", &id], &[], None).await?;
            if !c.print_json(&r.body) {
                print_role(&r.body);
            }
        }
        RolesCommand::Create {
            application,
            name,
            description,
            grants,
            scopes,
        } => {
            let known = if grants.iter().any(|g| g.contains(':')) {
                resource_ids(c, &application).await
            } else {
                HashSet::new()
            };
            let mut parsed = Vec::with_capacity(grants.len());
            for g in &grants {
                match parse_grant(g, &known) {
                    Ok(v) => parsed.push(v),
                    Err(msg) => {
                        eprintln!("rolecall: --grant {g:?}: {msg}");
                        return Err(Exit(1));
                    }
                }
            }
            let mut body = Map::new();
            body.insert("application".into(), application.into());
            body.insert("name".into(), name.into());
            put_opt(&mut body, "description", description);
            body.insert("grants".into(), Value::Array(parsed));
            body.insert("scopes".into(), json!(scopes));
            let r = c
                .org_call(Method::POST, &["roles"], &[], Some(Value::Object(body)))
                .await?;
            if !c.print_json(&r.body) {
                print_role(&r.body);
            }
        }
        RolesCommand::Update {
            id,
            name,
            description,
            grants,
            no_grants,
            scopes,
            all_scopes,
        } => {
            let mut body = Map::new();
            put_opt(&mut body, "name", name);
            put_opt(&mut body, "description", description);
            if !grants.is_empty() {
                let app = role_application(c, &id).await?;
                body.insert("grants".into(), parse_grants(c, &app, &grants).await?);
            } else if no_grants {
                body.insert("grants".into(), json!([]));
            }
            if !scopes.is_empty() || all_scopes {
                body.insert("scopes".into(), json!(scopes));
            }
            if body.is_empty() {
                return Err(usage("nothing to change: give --name, --description, --grant, --no-grants, --scope or --all-scopes"));
            }
            let r = c
                .org_call(
                    Method::PATCH,
                    &["roles", &id],
                    &[],
                    Some(Value::Object(body)),
                )
                .await?;
            if !c.print_json(&r.body) {
                print_role(&r.body);
            }
        }
        RolesCommand::SetGrants { id, grants, none } => {
            let parsed = if none {
                json!([])
            } else {
                let app = role_application(c, &id).await?;
                parse_grants(c, &app, &grants).await?
            };
            let r = c
                .org_call(
                    Method::PUT,
                    &["roles", &id, "grants"],
                    &[],
                    Some(json!({ "grants": parsed })),
                )
                .await?;
            if !c.print_json(&r.body) {
                print_grants(&r.body["grants"]);
            }
        }
        RolesCommand::Grant { id, grants } => edit_grants(c, &id, &grants, true).await?,
        RolesCommand::Ungrant { id, grants } => edit_grants(c, &id, &grants, false).await?,
        RolesCommand::Delete { id } => {
            c.org_call(Method::DELETE, &["roles", &id], &[], None)
                .await?;
            c.done(&format!("Deleted role {id}."));
        }
        RolesCommand::Grants { id } => {
            let r = c
                .org_call(Method::GET, &["roles", &id, "grants"], &[], None)
                .await?;
            if !c.print_json(&r.body) {
                print_grants(&r.body["grants"]);
            }
        }
    }
    Ok(0)
}

/// The application of role `id` (to read grants against its catalogue).
async fn role_application(c: &Client, id: &str) -> CmdResult<String> {
    let r = c.org_call(Method::GET, &["roles", id], &[], None).await?;
    Ok(text(&r.body, "application"))
}

/// `--grant` values of a role of `app` as the API's grant objects; a malformed one is named.
async fn parse_grants(c: &Client, app: &str, grants: &[String]) -> CmdResult<Value> {
    let known = if grants.iter().any(|g| g.contains(':')) {
        resource_ids(c, app).await
    } else {
        HashSet::new()
    };
    let mut parsed = Vec::with_capacity(grants.len());
    for g in grants {
        match parse_grant(g, &known) {
            Ok(v) => parsed.push(v),
            Err(msg) => {
                eprintln!("rolecall: {g:?}: {msg}");
                return Err(Exit(1));
            }
        }
    }
    Ok(Value::Array(parsed))
}

/// `roles grant` (`add`) and `roles ungrant`: the role's grants read with their version,
/// changed here, and written back as a whole with `If-Match`, so a change made meanwhile by
/// someone else is refused (412) rather than overwritten.
async fn edit_grants(c: &Client, id: &str, specs: &[String], add: bool) -> CmdResult<()> {
    let role = c.org_call(Method::GET, &["roles", id], &[], None).await?;
    let app = text(&role.body, "application");
    let wanted = parse_grants(c, &app, specs).await?;
    let mut grants: Vec<Value> = role.body["grants"].as_array().cloned().unwrap_or_default();
    let mut untouched = Vec::new();
    for w in wanted.as_array().into_iter().flatten() {
        let resource = text(w, "resource");
        let at = grants.iter().position(|g| text(g, "resource") == resource);
        match (add, at) {
            (true, None) => grants.push(w.clone()),
            (true, Some(i)) => grants[i]["actions"] = joined(&grants[i]["actions"], &w["actions"]),
            (false, None) => untouched.push(resource),
            (false, Some(i)) => {
                if w["actions"] == "*" {
                    grants.remove(i);
                    continue;
                }
                let held = match &grants[i]["actions"] {
                    Value::String(_) => declared_actions(c, &app, &resource).await,
                    other => strings(other),
                };
                let left: Vec<String> = held
                    .into_iter()
                    .filter(|a| !strings(&w["actions"]).contains(a))
                    .collect();
                if left.is_empty() {
                    grants.remove(i);
                } else {
                    grants[i]["actions"] = json!(left);
                }
            }
        }
    }
    for resource in &untouched {
        eprintln!("rolecall: note: role {id} has no grant on {resource}; nothing to take away");
    }
    let r = c
        .org_call_if_match(
            Method::PUT,
            &["roles", id, "grants"],
            Some(json!({ "grants": grants })),
            role.etag.as_deref(),
        )
        .await?;
    if !c.print_json(&r.body) {
        print_grants(&r.body["grants"]);
    }
    Ok(())
}

/// Two grants' actions on one resource together: every action if either has them all.
fn joined(held: &Value, more: &Value) -> Value {
    if held == "*" || more == "*" {
        return json!("*");
    }
    let mut all = strings(held);
    for a in strings(more) {
        if !all.contains(&a) {
            all.push(a);
        }
    }
    json!(all)
}

fn strings(v: &Value) -> Vec<String> {
    v.as_array()
        .into_iter()
        .flatten()
        .filter_map(|a| a.as_str().map(str::to_string))
        .collect()
}

/// The actions `resource` supports in the application's catalogue (its own list, else the
/// application's), to narrow a grant of every action to all but some.
async fn declared_actions(c: &Client, app: &str, resource: &str) -> Vec<String> {
    let Some(a) = c.get_quietly(&["applications", app]).await else {
        return Vec::new();
    };
    fn find<'a>(node: &'a Value, id: &str) -> Option<&'a Value> {
        if node["id"] == id {
            return Some(node);
        }
        node["children"]
            .as_array()
            .into_iter()
            .flatten()
            .find_map(|child| find(child, id))
    }
    let own = find(&a["resources"], resource)
        .map(|n| strings(&n["actions"]))
        .unwrap_or_default();
    if own.is_empty() {
        strings(&a["actions"])
    } else {
        own
    }
}

fn print_role(r: &Value) {
    println!(
        "{}",
        details(vec![
            ("id", text(r, "id")),
            ("application", text(r, "application")),
            ("name", text(r, "name")),
            ("description", text(r, "description")),
            ("builtin", yes_no(r, "builtin")),
            ("scopes", scopes(r)),
            ("version", text(r, "version")),
        ])
    );
    print_grants(&r["grants"]);
}

fn print_grants(grants: &Value) {
    let mut t = table(&["resource", "actions"]);
    for g in grants.as_array().into_iter().flatten() {
        let actions = match &g["actions"] {
            Value::String(s) if s == "*" => "* (all)".to_string(),
            other => list(other, ", "),
        };
        t.add_row(vec![text(g, "resource"), actions]);
    }
    println!("{t}");
}

/// Every resource id of an application, to tell `--grant a:b` (a resource named `a:b`)
/// from `a:b` (actions `b` on `a`). Empty when the catalogue cannot be read: the server's
/// own validation of the role then reports the problem.
async fn resource_ids(c: &Client, app: &str) -> HashSet<String> {
    let mut ids = HashSet::new();
    if let Some(v) = c.get_quietly(&["applications", app]).await {
        collect_ids(&v["resources"], &mut ids);
    }
    ids
}

fn collect_ids(node: &Value, out: &mut HashSet<String>) {
    if let Some(id) = node["id"].as_str() {
        out.insert(id.to_string());
    }
    for child in node["children"].as_array().into_iter().flatten() {
        collect_ids(child, out);
    }
}

/// Parses `RESOURCE[:action,action]` into a grant object. Resource ids may themselves hold
/// `::` (Magento) or `:` (cloud), so a separator is a lone `:`, and a catalogue id wins.
fn parse_grant(raw: &str, known: &HashSet<String>) -> std::result::Result<Value, String> {
    let raw = raw.trim();
    if raw.is_empty() {
        return Err("names no resource".into());
    }
    let bytes = raw.as_bytes();
    let lone: Vec<usize> = (0..bytes.len())
        .filter(|&i| {
            bytes[i] == b':' && (i == 0 || bytes[i - 1] != b':') && bytes.get(i + 1) != Some(&b':')
        })
        .collect();
    let split = if known.contains(raw) {
        None
    } else {
        lone.iter()
            .rev()
            .copied()
            .find(|&i| known.contains(&raw[..i]))
            .or_else(|| lone.last().copied())
    };
    let Some(i) = split else {
        return Ok(json!({ "resource": raw, "actions": "*" }));
    };
    let (resource, actions) = (&raw[..i], &raw[i + 1..]);
    if resource.is_empty() {
        return Err("names no resource before ':'".into());
    }
    if actions.trim() == "*" {
        return Ok(json!({ "resource": resource, "actions": "*" }));
    }
    let actions: Vec<&str> = actions
        .split(',')
        .map(str::trim)
        .filter(|a| !a.is_empty())
        .collect();
    if actions.is_empty() {
        return Err("names no action after ':' (omit ':' for every action)".into());
    }
    Ok(json!({ "resource": resource, "actions": actions }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn known() -> HashSet<String> {
        [
            "project",
            "project:settings",
            "environment",
            "Magento_Sales::sales",
        ]
        .into_iter()
        .map(String::from)
        .collect()
    }

    #[test]
    fn joined_actions_keep_every_action_and_add_no_duplicates() {
        assert_eq!(joined(&json!("*"), &json!(["view"])), json!("*"));
        assert_eq!(joined(&json!(["view"]), &json!("*")), json!("*"));
        assert_eq!(
            joined(&json!(["view", "edit"]), &json!(["edit", "deploy"])),
            json!(["view", "edit", "deploy"])
        );
    }

    #[test]
    fn grants_tell_resource_colons_from_action_lists() {
        let k = known();
        let g = |s: &str| parse_grant(s, &k);
        assert_eq!(
            g("Magento_Sales::sales"),
            Ok(json!({"resource": "Magento_Sales::sales", "actions": "*"}))
        );
        assert_eq!(
            g("project:settings"),
            Ok(json!({"resource": "project:settings", "actions": "*"}))
        );
        assert_eq!(
            g("project:settings:view,edit"),
            Ok(json!({"resource": "project:settings", "actions": ["view", "edit"]}))
        );
        assert_eq!(
            g("environment:view"),
            Ok(json!({"resource": "environment", "actions": ["view"]}))
        );
        assert_eq!(
            g("Magento_Sales::sales:*"),
            Ok(json!({"resource": "Magento_Sales::sales", "actions": "*"}))
        );
        assert!(g("environment:").is_err());
        assert!(g(":view").is_err());
        assert_eq!(
            parse_grant("Other::x:view", &HashSet::new()),
            Ok(json!({"resource": "Other::x", "actions": ["view"]}))
        );
    }
}
