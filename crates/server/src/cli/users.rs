//! `rolecall users`: listing, adding, changing, deactivating and deleting users, the roles and
//! product seats they hold; and `assign`/`unassign` of a role held directly.

use super::client::{Client, CmdResult};
use super::instant::{parse_instant, time};
use super::output::{details, full_name, items, list, or_none, print_users, put_opt, table, text};
use super::prompt::new_password;
use clap::Subcommand;
use reqwest::{Method, StatusCode};
use serde_json::{json, Map, Value};

/// `users list`: the API's list parameters, one flag each.
#[derive(Debug, clap::Args)]
pub struct UserListArgs {
    /// invited, active or inactive.
    #[arg(long)]
    pub status: Option<String>,
    /// Text in username, e-mail, first or last name.
    #[arg(long)]
    pub q: Option<String>,
    /// Only members of this group (id).
    #[arg(long)]
    pub group: Option<String>,
    /// Only holders of this role (id), directly or through a group.
    #[arg(long)]
    pub role: Option<String>,
    /// `person` (default) or `service` (the service accounts of API credentials).
    #[arg(long)]
    pub kind: Option<String>,
    /// Only users assigned to this application (key): a role or a profile seat, directly
    /// or through a group.
    #[arg(long)]
    pub application: Option<String>,
    /// Only users with a seat in this product profile (id), directly or through a group.
    #[arg(long)]
    pub profile: Option<String>,
    /// Only administrators: a right kind (system, product, product_profile, user_group,
    /// deployment, support, storage) or `any`.
    #[arg(long)]
    pub admin_right: Option<String>,
    /// Only users who last signed in before this instant (RFC 3339 or Unix ms).
    #[arg(long, value_parser = parse_instant)]
    pub last_sign_in_before: Option<i64>,
    /// Only users who last signed in after this instant (RFC 3339 or Unix ms).
    #[arg(long, value_parser = parse_instant)]
    pub last_sign_in_after: Option<i64>,
    /// Order by username (default), email, last_sign_in_at or created_at.
    #[arg(long)]
    pub sort: Option<String>,
    /// asc (default) or desc.
    #[arg(long)]
    pub order: Option<String>,
    /// Continue after a previous page: the cursor it printed (`next_cursor`).
    #[arg(long, conflicts_with = "page")]
    pub cursor: Option<String>,
    /// 1-based page number.
    #[arg(long)]
    pub page: Option<i64>,
    /// Users per page, 1 to 500.
    #[arg(long)]
    pub per_page: Option<i64>,
}

#[derive(Debug, Subcommand)]
pub enum UsersCommand {
    /// List users: filtered, sorted, paged by number or by cursor.
    List(Box<UserListArgs>),
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
    /// Deactivate (or --delete) a person across every application in one step and show
    /// everything withdrawn.
    Offboard(super::reports::OffboardArgs),
    /// Roles the user holds, directly and through groups.
    Roles { id: String },
    /// Product profiles the user holds a seat in, directly and through groups.
    Products { id: String },
    /// Remove a product from a user: their own seat in each of its profiles and its roles
    /// assigned to them directly. Access through groups and its Administrators role stay
    /// (listed). Needs --reverify when signed in.
    RemoveProduct {
        id: String,
        /// Application key, e.g. commerce-admin.
        #[arg(value_name = "APPLICATION")]
        application: String,
    },
    /// Everything the user may do in an application at a scope (resources and actions).
    Permissions {
        id: String,
        /// Application key, e.g. commerce-admin.
        #[arg(long, value_name = "KEY")]
        application: String,
        /// Scope code [default: the application's root scope].
        #[arg(long, value_name = "CODE")]
        scope: Option<String>,
    },
    /// Set a user's password (their sessions end). Asked for twice on a terminal, else read
    /// from the first line of standard input. Needs --reverify when signed in.
    SetPassword { id: String },
    /// Import users from a CSV file (Adobe Admin Console bulk-upload template or rolecall's
    /// plain template), with a progress bar; prints the per-row report. Exit 1 when any row
    /// has an error or nothing was written.
    Import {
        /// The CSV file.
        file: std::path::PathBuf,
        /// Report what would happen; write nothing.
        #[arg(long)]
        dry_run: bool,
        /// Apply the rows without errors and report the others (default: all or nothing).
        #[arg(long)]
        valid_rows: bool,
        /// Add new users as active and tell them nothing, instead of inviting them.
        #[arg(long)]
        no_invitations: bool,
        /// For removed or deactivated users who created API credentials: revoke or keep.
        #[arg(long)]
        credentials: Option<String>,
        /// Also write the report as CSV to this file.
        #[arg(long)]
        report: Option<std::path::PathBuf>,
    },
    /// Export every person as CSV (streamed): `plain` (rolecall's template, default) or
    /// `console` (the Adobe Admin Console bulk-upload template).
    Export {
        #[arg(long, default_value = "plain")]
        template: String,
        /// Write to this file instead of standard output.
        #[arg(long)]
        output: Option<std::path::PathBuf>,
    },
}

pub(super) async fn run(c: &Client, cmd: UsersCommand) -> CmdResult {
    match cmd {
        UsersCommand::Import {
            file,
            dry_run,
            valid_rows,
            no_invitations,
            credentials,
            report,
        } => {
            return super::bulk::import(
                c,
                &file,
                super::bulk::ImportFlags {
                    dry_run,
                    valid_rows,
                    no_invitations,
                    credentials,
                    report,
                },
            )
            .await;
        }
        UsersCommand::Export { template, output } => {
            return super::bulk::export(c, &template, output.as_deref()).await;
        }
        UsersCommand::List(args) => {
            let UserListArgs {
                status,
                q,
                group,
                role,
                kind,
                application,
                profile,
                admin_right,
                last_sign_in_before,
                last_sign_in_after,
                sort,
                order,
                cursor,
                page,
                per_page,
            } = *args;
            let query = [
                ("status", status),
                ("q", q),
                ("group", group),
                ("role", role),
                ("kind", kind),
                ("application", application),
                ("profile", profile),
                ("admin_right", admin_right),
                (
                    "last_sign_in_before",
                    last_sign_in_before.map(|t| t.to_string()),
                ),
                (
                    "last_sign_in_after",
                    last_sign_in_after.map(|t| t.to_string()),
                ),
                ("sort", sort),
                ("order", order),
                ("cursor", cursor),
                ("page", page.map(|p| p.to_string())),
                ("per_page", per_page.map(|p| p.to_string())),
            ];
            let r = c.org_call(Method::GET, &["users"], &query, None).await?;
            if !c.print_json(&r.body) {
                print_users(items(&r.body));
                let page = match r.body.get("page") {
                    Some(_) => format!("page {}", text(&r.body, "page")),
                    None => "page from cursor".to_string(),
                };
                println!(
                    "{page} ({} per page), {} in total",
                    text(&r.body, "per_page"),
                    text(&r.body, "total")
                );
                if let Some(next) = r.body["next_cursor"].as_str() {
                    println!("next page: --cursor {next}");
                }
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
        UsersCommand::Offboard(args) => return super::reports::offboard(c, args).await,
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
        UsersCommand::Products { id } => user_products(c, &id).await?,
        UsersCommand::RemoveProduct { id, application } => {
            let r = c
                .org_call(
                    Method::DELETE,
                    &["users", &id, "products", &application],
                    &[],
                    None,
                )
                .await?;
            if !c.print_json(&r.body) {
                let names = |key: &str| -> String {
                    let v: Vec<String> = r.body[key]
                        .as_array()
                        .into_iter()
                        .flatten()
                        .map(|n| text(n, "name"))
                        .collect();
                    if v.is_empty() {
                        "none".into()
                    } else {
                        v.join(", ")
                    }
                };
                println!("Seats released: {}", names("seats_released"));
                println!("Roles unassigned: {}", names("roles_unassigned"));
                if r.body["still_through_groups"]
                    .as_array()
                    .is_some_and(|a| !a.is_empty())
                {
                    println!(
                        "Still reaches {application} through groups: {}",
                        names("still_through_groups")
                    );
                }
                if r.body["administrators_kept"].as_bool() == Some(true) {
                    println!(
                        "Kept: the Administrators role of {application} (unassign it on its own)."
                    );
                }
            }
        }
        UsersCommand::Permissions {
            id,
            application,
            scope,
        } => {
            let r = c
                .org_call(
                    Method::GET,
                    &["users", &id, "effective-permissions"],
                    &[("application", Some(application)), ("scope", scope)],
                    None,
                )
                .await?;
            if !c.print_json(&r.body) {
                let mut t = table(&["resource", "title", "actions"]);
                for p in items(&r.body) {
                    t.add_row(vec![
                        text(p, "resource"),
                        text(p, "title"),
                        list(&p["actions"], ", "),
                    ]);
                }
                println!("{t}");
            }
        }
        UsersCommand::SetPassword { id } => {
            let password = new_password("New password for the user")?;
            c.org_call(
                Method::PUT,
                &["users", &id, "password"],
                &[],
                Some(json!({ "password": password })),
            )
            .await?;
            c.done(&format!(
                "Set the password of user {id}; their sessions have ended."
            ));
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

pub(crate) async fn user_products(c: &Client, user: &str) -> CmdResult<()> {
    let r = c
        .org_call(Method::GET, &["users", user, "products"], &[], None)
        .await?;
    if !c.print_json(&r.body) {
        let mut t = table(&["profile id", "profile", "application", "via"]);
        for p in items(&r.body) {
            let via = match text(p, "via").as_str() {
                "group" => {
                    let name = text(p, "group_name");
                    format!(
                        "group {}",
                        if name.is_empty() {
                            text(p, "group_id")
                        } else {
                            name
                        }
                    )
                }
                other => other.to_string(),
            };
            t.add_row(vec![
                text(p, "profile_id"),
                text(p, "profile_name"),
                text(p, "application"),
                via,
            ]);
        }
        println!("{t}");
        println!(
            "licensed products: {}",
            or_none(list(&r.body["applications"], ", "))
        );
    }
    Ok(())
}

/// `rolecall assign`: a role held directly; says whether it is new or was already held.
pub(super) async fn assign(c: &Client, user: &str, role: &str) -> CmdResult {
    let r = c
        .org_call(
            Method::POST,
            &["users", user, "roles"],
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

/// `rolecall unassign`: removes a role held directly (group roles stay).
pub(super) async fn unassign(c: &Client, user: &str, role: &str) -> CmdResult {
    c.org_call(Method::DELETE, &["users", user, "roles", role], &[], None)
        .await?;
    c.done(&format!("Removed role {role} from user {user}."));
    Ok(0)
}
