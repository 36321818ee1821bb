//! Management commands as HTTP clients of a running server, with tables or `--json`.
//!
//! Every command goes through the REST API (never the store), so the CLI works against a remote
//! server and obeys the same validation and permissions as any other client. Exit codes: 0 done
//! (or `check` allowed), 1 error, 2 authentication or permission refused, 3 `check` denied.

use crate::error::Result;
use clap::{Args, Subcommand};
use comfy_table::{presets, ContentArrangement, Table};
use reqwest::{Method, StatusCode, Url};
use serde_json::{json, Map, Value};
use std::collections::HashSet;
use std::time::Duration;

/// Where and as whom to connect; flattened into every remote command.
///
/// The options are `global` so they may follow the innermost subcommand
/// (`rolecall users list --json`); clap forbids required globals, so `run` checks the token.
#[derive(Clone, Args)]
#[command(next_help_heading = "Connection")]
pub struct RemoteArgs {
    /// Base URL of the rolecall server.
    #[arg(
        long,
        env = "ROLECALL_URL",
        default_value = "http://127.0.0.1:8080",
        global = true
    )]
    url: String,
    /// API token (required; sent as a bearer token, never printed).
    #[arg(long, env = "ROLECALL_TOKEN", hide_env_values = true, global = true)]
    token: Option<String>,
    /// Organization slug or id.
    #[arg(long, env = "ROLECALL_ORG", default_value = "default", global = true)]
    org: String,
    /// Print the server's JSON response instead of a table.
    #[arg(long, global = true)]
    json: bool,
}

/// Hand-written so that `{:?}` of a parsed command line cannot leak the token.
impl std::fmt::Debug for RemoteArgs {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RemoteArgs")
            .field("url", &self.url)
            .field("token", &self.token.as_ref().map(|_| "<redacted>"))
            .field("org", &self.org)
            .field("json", &self.json)
            .finish()
    }
}

#[derive(Debug, Subcommand)]
pub enum RemoteCommand {
    /// Manage users (HTTP client of a running server).
    Users {
        #[command(flatten)]
        remote: RemoteArgs,
        #[command(subcommand)]
        cmd: UsersCommand,
    },
    /// Manage groups, their members and their roles (HTTP client).
    Groups {
        #[command(flatten)]
        remote: RemoteArgs,
        #[command(subcommand)]
        cmd: GroupsCommand,
    },
    /// Manage roles and their grants (HTTP client).
    Roles {
        #[command(flatten)]
        remote: RemoteArgs,
        #[command(subcommand)]
        cmd: RolesCommand,
    },
    /// Assign a role directly to a user.
    Assign {
        #[command(flatten)]
        remote: RemoteArgs,
        /// User id.
        user: String,
        /// Role id.
        role: String,
    },
    /// Remove a role assigned directly to a user.
    Unassign {
        #[command(flatten)]
        remote: RemoteArgs,
        /// User id.
        user: String,
        /// Role id.
        role: String,
    },
    /// May this user do this? Exit code 0 when allowed, 3 when denied.
    Check {
        #[command(flatten)]
        remote: RemoteArgs,
        /// User id.
        #[arg(long)]
        user: String,
        /// Application key, e.g. commerce-admin.
        #[arg(long)]
        application: String,
        /// Resource id, e.g. Magento_Sales::sales_order.
        #[arg(long)]
        resource: String,
        /// Action; any use of the resource when absent.
        #[arg(long)]
        action: Option<String>,
        /// Scope code; the application's root scope when absent.
        #[arg(long)]
        scope: Option<String>,
    },
    /// Show the governed applications and their resource trees.
    Apps {
        #[command(flatten)]
        remote: RemoteArgs,
        #[command(subcommand)]
        cmd: AppsCommand,
    },
}

#[derive(Debug, Subcommand)]
pub enum UsersCommand {
    /// List users, filtered and paged.
    List {
        /// invited, active or inactive.
        #[arg(long)]
        status: Option<String>,
        /// Text in username, e-mail, first or last name.
        #[arg(long)]
        q: Option<String>,
        /// Only members of this group (id).
        #[arg(long)]
        group: Option<String>,
        /// Only holders of this role (id), directly or through a group.
        #[arg(long)]
        role: Option<String>,
        /// 1-based page number.
        #[arg(long)]
        page: Option<i64>,
        /// Users per page, 1 to 500.
        #[arg(long)]
        per_page: Option<i64>,
    },
    /// Show one user.
    Get { id: String },
    /// Add a user; the username defaults to the e-mail.
    Create {
        /// E-mail address (required).
        #[arg(long)]
        email: String,
        #[arg(long)]
        username: Option<String>,
        #[arg(long)]
        first_name: Option<String>,
        #[arg(long)]
        last_name: Option<String>,
        /// Locale such as en_US.
        #[arg(long)]
        locale: Option<String>,
        /// Create as invited (no access until activated) instead of active.
        #[arg(long)]
        invited: bool,
    },
    /// Change a user's details; omitted options are left alone.
    Update {
        id: String,
        #[arg(long)]
        email: Option<String>,
        #[arg(long)]
        first_name: Option<String>,
        #[arg(long)]
        last_name: Option<String>,
        #[arg(long)]
        locale: Option<String>,
    },
    /// Void all of a user's access at once, keeping the record.
    Deactivate { id: String },
    /// Restore a deactivated user.
    Reactivate { id: String },
    /// Delete a user irreversibly.
    Delete { id: String },
    /// Roles the user holds, directly and through groups.
    Roles { id: String },
}

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
    /// Delete a group; its members keep their accounts.
    Delete { id: String },
    /// List a group's members.
    Members { id: String },
    /// Add a user to a group.
    AddMember { group: String, user: String },
    /// Remove a user from a group.
    RemoveMember { group: String, user: String },
    /// Assign a role to a group: every member holds it.
    AddRole { group: String, role: String },
    /// Remove a role from a group.
    RemoveRole { group: String, role: String },
}

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
    /// Delete a role; its holders keep their accounts.
    Delete { id: String },
    /// Show a role's grants.
    Grants { id: String },
}

#[derive(Debug, Subcommand)]
pub enum AppsCommand {
    /// List the applications.
    List,
    /// Show one application and its resource tree.
    Get { key: String },
}

/// A command finished early with this exit code; the message is already on stderr.
struct Exit(i32);

type CmdResult<T = i32> = std::result::Result<T, Exit>;

/// Runs a remote command; returns the process exit code.
pub async fn run(cmd: RemoteCommand) -> Result<i32> {
    match dispatch(cmd).await {
        Ok(code) | Err(Exit(code)) => Ok(code),
    }
}

async fn dispatch(cmd: RemoteCommand) -> CmdResult {
    match cmd {
        RemoteCommand::Users { remote, cmd } => users(&Client::new(&remote)?, cmd).await,
        RemoteCommand::Groups { remote, cmd } => groups(&Client::new(&remote)?, cmd).await,
        RemoteCommand::Roles { remote, cmd } => roles(&Client::new(&remote)?, cmd).await,
        RemoteCommand::Assign { remote, user, role } => {
            let c = Client::new(&remote)?;
            let r = c
                .org_call(
                    Method::POST,
                    &["users", &user, "roles"],
                    &[],
                    Some(json!({ "role_id": role })),
                )
                .await?;
            if !c.print_json(&r.body) {
                if r.status == StatusCode::CREATED {
                    println!("Assigned role {role} to user {user}.");
                } else {
                    println!("User {user} already holds role {role} directly.");
                }
            }
            Ok(0)
        }
        RemoteCommand::Unassign { remote, user, role } => {
            let c = Client::new(&remote)?;
            c.org_call(Method::DELETE, &["users", &user, "roles", &role], &[], None)
                .await?;
            c.done(&format!("Removed role {role} from user {user}."));
            Ok(0)
        }
        RemoteCommand::Check {
            remote,
            user,
            application,
            resource,
            action,
            scope,
        } => {
            let c = Client::new(&remote)?;
            let body = json!({ "user_id": user, "application": application, "resource": resource, "action": action, "scope": scope });
            let r = c
                .org_call(Method::POST, &["check"], &[], Some(body))
                .await?;
            let decision = text(&r.body, "decision");
            if !c.print_json(&r.body) {
                print_explanation(&r.body);
            }
            Ok(match decision.as_str() {
                "allow" => 0,
                "deny" => 3,
                other => {
                    eprintln!("rolecall: the server answered an unknown decision {other:?}");
                    1
                }
            })
        }
        RemoteCommand::Apps { remote, cmd } => apps(&Client::new(&remote)?, cmd).await,
    }
}

async fn users(c: &Client, cmd: UsersCommand) -> CmdResult {
    match cmd {
        UsersCommand::List {
            status,
            q,
            group,
            role,
            page,
            per_page,
        } => {
            let query = [
                ("status", status),
                ("q", q),
                ("group", group),
                ("role", role),
                ("page", page.map(|p| p.to_string())),
                ("per_page", per_page.map(|p| p.to_string())),
            ];
            let r = c.org_call(Method::GET, &["users"], &query, None).await?;
            if !c.print_json(&r.body) {
                print_users(items(&r.body));
                println!(
                    "page {} ({} per page), {} in total",
                    text(&r.body, "page"),
                    text(&r.body, "per_page"),
                    text(&r.body, "total")
                );
            }
        }
        UsersCommand::Get { id } => {
            let r = c.org_call(Method::GET, &["users", &id], &[], None).await?;
            if !c.print_json(&r.body) {
                print_user(&r.body);
            }
        }
        UsersCommand::Create {
            email,
            username,
            first_name,
            last_name,
            locale,
            invited,
        } => {
            let mut body = Map::new();
            body.insert("email".into(), email.into());
            put_opt(&mut body, "username", username);
            put_opt(&mut body, "first_name", first_name);
            put_opt(&mut body, "last_name", last_name);
            put_opt(&mut body, "locale", locale);
            if invited {
                body.insert("status".into(), "invited".into());
            }
            let r = c
                .org_call(Method::POST, &["users"], &[], Some(Value::Object(body)))
                .await?;
            if !c.print_json(&r.body) {
                print_user(&r.body);
            }
        }
        UsersCommand::Update {
            id,
            email,
            first_name,
            last_name,
            locale,
        } => {
            let mut body = Map::new();
            put_opt(&mut body, "email", email);
            put_opt(&mut body, "first_name", first_name);
            put_opt(&mut body, "last_name", last_name);
            put_opt(&mut body, "locale", locale);
            let r = c
                .org_call(
                    Method::PATCH,
                    &["users", &id],
                    &[],
                    Some(Value::Object(body)),
                )
                .await?;
            if !c.print_json(&r.body) {
                print_user(&r.body);
            }
        }
        UsersCommand::Deactivate { id } => set_status(c, &id, "inactive").await?,
        UsersCommand::Reactivate { id } => set_status(c, &id, "active").await?,
        UsersCommand::Delete { id } => {
            c.org_call(Method::DELETE, &["users", &id], &[], None)
                .await?;
            c.done(&format!("Deleted user {id}."));
        }
        UsersCommand::Roles { id } => {
            let r = c
                .org_call(Method::GET, &["users", &id, "roles"], &[], None)
                .await?;
            if !c.print_json(&r.body) {
                let mut t = table(&["role id", "role", "application", "via"]);
                for h in items(&r.body) {
                    let via = match text(h, "via").as_str() {
                        "group" => format!("group {}", text(h, "group_id")),
                        other => other.to_string(),
                    };
                    t.add_row(vec![
                        text(h, "role_id"),
                        text(h, "role_name"),
                        text(h, "application"),
                        via,
                    ]);
                }
                println!("{t}");
            }
        }
    }
    Ok(0)
}

/// Deactivation and reactivation are status changes through the ordinary PATCH.
async fn set_status(c: &Client, id: &str, status: &str) -> CmdResult<()> {
    let r = c
        .org_call(
            Method::PATCH,
            &["users", id],
            &[],
            Some(json!({ "status": status })),
        )
        .await?;
    if !c.print_json(&r.body) {
        println!(
            "User {} ({}) is now {}.",
            text(&r.body, "email"),
            text(&r.body, "id"),
            text(&r.body, "status")
        );
    }
    Ok(())
}

async fn groups(c: &Client, cmd: GroupsCommand) -> CmdResult {
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
        GroupsCommand::AddMember { group, user } => {
            let r = c
                .org_call(
                    Method::POST,
                    &["groups", &group, "members"],
                    &[],
                    Some(json!({ "user_id": user })),
                )
                .await?;
            c.done(&if r.status == StatusCode::CREATED {
                format!("Added user {user} to group {group}.")
            } else {
                format!("User {user} was already a member of group {group}.")
            });
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
            let r = c
                .org_call(
                    Method::POST,
                    &["groups", &group, "roles"],
                    &[],
                    Some(json!({ "role_id": role })),
                )
                .await?;
            c.done(&if r.status == StatusCode::CREATED {
                format!("Assigned role {role} to group {group}.")
            } else {
                format!("Group {group} already held role {role}.")
            });
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

async fn roles(c: &Client, cmd: RolesCommand) -> CmdResult {
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
                c.resource_ids(&application).await
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

async fn apps(c: &Client, cmd: AppsCommand) -> CmdResult {
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

/// A successful response: the status (some commands say "added" vs "already there") and the
/// parsed body (`Null` when empty).
struct Reply {
    status: StatusCode,
    body: Value,
}

struct Client {
    http: reqwest::Client,
    base: Url,
    token: String,
    org: String,
    json: bool,
}

impl Client {
    /// Checks the connection options before any request, so mistakes are named plainly.
    fn new(args: &RemoteArgs) -> CmdResult<Client> {
        let token = match args.token.as_deref().map(str::trim) {
            Some(t) if !t.is_empty() => t.to_string(),
            _ => {
                eprintln!("rolecall: an API token is required: pass --token or set ROLECALL_TOKEN");
                return Err(Exit(2));
            }
        };
        let base = match Url::parse(args.url.trim()) {
            Ok(u) if matches!(u.scheme(), "http" | "https") && !u.cannot_be_a_base() => u,
            Ok(_) => {
                eprintln!(
                    "rolecall: --url {:?} must be an http:// or https:// URL",
                    args.url
                );
                return Err(Exit(1));
            }
            Err(e) => {
                eprintln!("rolecall: --url {:?} is not a valid URL: {e}", args.url);
                return Err(Exit(1));
            }
        };
        let http = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(10))
            .timeout(Duration::from_secs(60))
            .user_agent(concat!("rolecall-cli/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| {
                eprintln!("rolecall: cannot set up the HTTP client: {}", chain(&e));
                Exit(1)
            })?;
        Ok(Client {
            http,
            base,
            token,
            org: args.org.clone(),
            json: args.json,
        })
    }

    /// The URL of `segments` below the base, each segment percent-encoded (ids and keys are
    /// user input), with the query parameters that are set.
    fn url(&self, segments: &[&str], query: &[(&str, Option<String>)]) -> Url {
        let mut url = self.base.clone();
        if let Ok(mut path) = url.path_segments_mut() {
            path.pop_if_empty().extend(segments);
        }
        url.set_query(None);
        let set: Vec<_> = query
            .iter()
            .filter_map(|(k, v)| v.as_deref().map(|v| (*k, v)))
            .collect();
        if !set.is_empty() {
            url.query_pairs_mut().extend_pairs(set);
        }
        url
    }

    /// A request below `/api/v1/organizations/{org}/`.
    async fn org_call(
        &self,
        method: Method,
        path: &[&str],
        query: &[(&str, Option<String>)],
        body: Option<Value>,
    ) -> CmdResult<Reply> {
        let mut segments = vec!["organizations", self.org.as_str()];
        segments.extend_from_slice(path);
        self.call(method, &segments, query, body).await
    }

    /// A request below `/api/v1/`. Failures are reported on stderr here, once, and become the
    /// exit code: 2 for 401/403, 1 otherwise.
    async fn call(
        &self,
        method: Method,
        path: &[&str],
        query: &[(&str, Option<String>)],
        body: Option<Value>,
    ) -> CmdResult<Reply> {
        let mut segments = vec!["api", "v1"];
        segments.extend_from_slice(path);
        let url = self.url(&segments, query);
        let mut req = self
            .http
            .request(method, url.clone())
            .bearer_auth(&self.token)
            .header(reqwest::header::ACCEPT, "application/json");
        if let Some(b) = body {
            req = req.json(&b);
        }
        let res = req.send().await.map_err(|e| {
            if e.is_connect() {
                eprintln!(
                    "rolecall: cannot connect to the server at {}: {} (is it running? set --url or ROLECALL_URL)",
                    self.base,
                    root_cause(&e)
                );
            } else if e.is_timeout() {
                eprintln!("rolecall: the server at {} did not answer in time", self.base);
            } else {
                eprintln!("rolecall: request to {url} failed: {}", chain(&e));
            }
            Exit(1)
        })?;
        let status = res.status();
        let raw = res.text().await.map_err(|e| {
            eprintln!(
                "rolecall: reading the answer from {url} failed: {}",
                chain(&e)
            );
            Exit(1)
        })?;
        let parsed = if raw.trim().is_empty() {
            Ok(Value::Null)
        } else {
            serde_json::from_str::<Value>(&raw)
        };
        if status.is_success() {
            return match parsed {
                Ok(body) => Ok(Reply { status, body }),
                Err(_) => {
                    eprintln!("rolecall: the server at {} answered {status} with a body that is not JSON; is --url pointing at rolecall?", self.base);
                    Err(Exit(1))
                }
            };
        }
        let code = if matches!(status, StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN) {
            2
        } else {
            1
        };
        match parsed {
            Ok(problem) if problem.get("detail").is_some() => {
                eprintln!("rolecall: {}", text_of(&problem["detail"]));
                for e in problem["errors"].as_array().into_iter().flatten() {
                    eprintln!("  {}: {}", text(e, "field"), text(e, "message"));
                }
            }
            _ => eprintln!("rolecall: the server at {} answered {status}", self.base),
        }
        Err(Exit(code))
    }

    /// Every resource id of an application, to tell `--grant a:b` (a resource named `a:b`)
    /// from `a:b` (actions `b` on `a`). Empty when the catalogue cannot be read: the server's
    /// own validation of the role then reports the problem.
    async fn resource_ids(&self, app: &str) -> HashSet<String> {
        let url = self.url(&["api", "v1", "applications", app], &[]);
        let mut ids = HashSet::new();
        let res = self.http.get(url).bearer_auth(&self.token).send().await;
        if let Ok(res) = res {
            if res.status().is_success() {
                if let Ok(v) = res.json::<Value>().await {
                    collect_ids(&v["resources"], &mut ids);
                }
            }
        }
        ids
    }

    /// With `--json`, prints the body and returns true; the caller prints a table otherwise.
    fn print_json(&self, body: &Value) -> bool {
        if self.json && !body.is_null() {
            println!(
                "{}",
                serde_json::to_string_pretty(body).unwrap_or_else(|_| body.to_string())
            );
        }
        self.json
    }

    /// Confirms a change that has no response body (nothing is printed with `--json`).
    fn done(&self, message: &str) {
        if !self.json {
            println!("{message}");
        }
    }
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

fn put_opt(body: &mut Map<String, Value>, key: &str, value: Option<String>) {
    if let Some(v) = value {
        body.insert(key.into(), v.into());
    }
}

/// The `items` array of a list response (empty when absent).
fn items(body: &Value) -> &[Value] {
    body["items"].as_array().map(Vec::as_slice).unwrap_or(&[])
}

/// A field as display text: strings bare, null and absent empty, anything else as JSON.
fn text(v: &Value, key: &str) -> String {
    text_of(&v[key])
}

fn text_of(v: &Value) -> String {
    match v {
        Value::Null => String::new(),
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

fn list(v: &Value, sep: &str) -> String {
    v.as_array()
        .map(|a| a.iter().map(text_of).collect::<Vec<_>>().join(sep))
        .unwrap_or_default()
}

fn or_none(s: String) -> String {
    if s.is_empty() {
        "(none)".into()
    } else {
        s
    }
}

fn yes_no(v: &Value, key: &str) -> String {
    if v[key].as_bool().unwrap_or(false) {
        "yes".into()
    } else {
        "no".into()
    }
}

/// A role's scopes; an empty list means the role applies everywhere.
fn scopes(role: &Value) -> String {
    let s = list(&role["scopes"], ", ");
    if s.is_empty() {
        "(all)".into()
    } else {
        s
    }
}

fn table(header: &[&str]) -> Table {
    let mut t = Table::new();
    t.load_preset(presets::UTF8_FULL_CONDENSED)
        .set_content_arrangement(ContentArrangement::Dynamic)
        .set_header(header.to_vec());
    t
}

/// A two-column field/value table for one object.
fn details(rows: Vec<(&str, String)>) -> Table {
    let mut t = Table::new();
    t.load_preset(presets::UTF8_FULL_CONDENSED)
        .set_content_arrangement(ContentArrangement::Dynamic);
    for (k, v) in rows {
        t.add_row(vec![k.to_string(), v]);
    }
    t
}

fn full_name(u: &Value) -> String {
    format!("{} {}", text(u, "first_name"), text(u, "last_name"))
        .trim()
        .to_string()
}

fn print_users(users: &[Value]) {
    let mut t = table(&["id", "username", "email", "name", "status"]);
    for u in users {
        t.add_row(vec![
            text(u, "id"),
            text(u, "username"),
            text(u, "email"),
            full_name(u),
            text(u, "status"),
        ]);
    }
    println!("{t}");
}

fn print_user(u: &Value) {
    println!(
        "{}",
        details(vec![
            ("id", text(u, "id")),
            ("username", text(u, "username")),
            ("email", text(u, "email")),
            ("name", full_name(u)),
            ("locale", text(u, "locale")),
            ("status", text(u, "status")),
            ("created", time(&u["created_at"])),
            ("updated", time(&u["updated_at"])),
            ("last sign-in", time(&u["last_sign_in_at"])),
            ("version", text(u, "version")),
        ])
    );
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

fn print_explanation(e: &Value) {
    println!("decision: {}", text(e, "decision"));
    println!("reason:   {}", text(e, "reason"));
    println!("message:  {}", text(e, "message"));
    let roles = e["roles"].as_array().map(Vec::as_slice).unwrap_or(&[]);
    if !roles.is_empty() {
        let mut t = table(&["role id", "role", "via", "scopes"]);
        for r in roles {
            let via = match text(r, "via").as_str() {
                "group" => {
                    let name = text(r, "group_name");
                    if name.is_empty() {
                        format!("group {}", text(r, "group_id"))
                    } else {
                        format!("group {name}")
                    }
                }
                other => other.to_string(),
            };
            t.add_row(vec![
                text(r, "role_id"),
                text(r, "role_name"),
                via,
                scopes(r),
            ]);
        }
        println!("{t}");
    }
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

/// Milliseconds since the epoch as `YYYY-MM-DD HH:MM:SS UTC` (empty when absent), without a
/// date library: the civil-from-days conversion of Howard Hinnant's algorithms.
fn time(v: &Value) -> String {
    let Some(ms) = v.as_i64() else {
        return String::new();
    };
    let secs = ms.div_euclid(1000);
    let (days, rem) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02} {:02}:{:02}:{:02} UTC",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

/// The innermost error, which says what actually went wrong ("Connection refused").
fn root_cause(e: &(dyn std::error::Error + 'static)) -> String {
    let mut cur = e;
    while let Some(next) = cur.source() {
        cur = next;
    }
    cur.to_string()
}

/// The error and its sources joined, since reqwest's top-level message omits the cause.
fn chain(e: &(dyn std::error::Error + 'static)) -> String {
    let mut out = e.to_string();
    let mut cur = e.source();
    while let Some(s) = cur {
        out.push_str(": ");
        out.push_str(&s.to_string());
        cur = s.source();
    }
    out
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

    #[test]
    fn times_are_utc_dates() {
        assert_eq!(time(&json!(0)), "1970-01-01 00:00:00 UTC");
        assert_eq!(
            time(&json!(1_709_210_096_000_i64)),
            "2024-02-29 12:34:56 UTC"
        );
        assert_eq!(time(&Value::Null), "");
    }
}
