//! `rolecall reports …` and `rolecall users offboard` (issue 11): stale accounts (and
//! deactivating a chosen set), access review by user, application and profile, seat usage —
//! tables, `--json`, or the server's CSV with `--csv` — and offboarding in one step with the
//! report of everything withdrawn.

use super::client::{usage, Client, CmdResult};
use super::instant::time;
use super::output::{items, table, text};
use clap::{Args, Subcommand};
use reqwest::Method;
use serde_json::{json, Value};

#[derive(Debug, Subcommand)]
pub enum ReportsCommand {
    /// Active people idle for more than --days days (or who never signed in), with their access.
    Stale {
        /// Idle threshold in days [default: 90].
        #[arg(long)]
        days: Option<i64>,
        /// Print the server's CSV instead of a table.
        #[arg(long)]
        csv: bool,
        /// Deactivate these people (ids, comma-separated; "all" for every one listed). Each is
        /// checked again and recorded in the audit log. Needs identity re-verification.
        #[arg(long, value_name = "IDS")]
        deactivate: Option<String>,
        /// With --deactivate: what to do with API credentials they created (revoke or keep).
        #[arg(long)]
        credentials: Option<String>,
    },
    /// Everything one person can reach, and through what.
    User {
        id: String,
        #[arg(long)]
        csv: bool,
    },
    /// Everyone with access to an application, and through what.
    Application {
        key: String,
        #[arg(long)]
        csv: bool,
    },
    /// Every seat holder of a product profile, and through what.
    Profile {
        id: String,
        #[arg(long)]
        csv: bool,
    },
    /// Seats used and free per product profile.
    Seats {
        #[arg(long)]
        csv: bool,
    },
}

/// `rolecall users offboard`.
#[derive(Debug, Clone, Args)]
pub struct OffboardArgs {
    /// The user's id.
    pub id: String,
    /// Delete the user (a tombstone keeps name and e-mail) instead of deactivating.
    #[arg(long)]
    pub delete: bool,
    /// API credentials the user created: revoke, keep, or transfer (with --transfer-to).
    #[arg(long)]
    pub credentials: Option<String>,
    /// With --credentials transfer: the person who takes them over (id).
    #[arg(long, value_name = "USER_ID")]
    pub transfer_to: Option<String>,
}

async fn csv_or_json(
    c: &Client,
    path: &[&str],
    query: &[(&str, Option<String>)],
    csv: bool,
) -> CmdResult<Option<Value>> {
    if csv {
        let mut q: Vec<(&str, Option<String>)> = query.to_vec();
        q.push(("format", Some("csv".into())));
        let stdout = std::io::stdout();
        let mut out = stdout.lock();
        c.download(path, &q, &mut out).await?;
        return Ok(None);
    }
    let r = c.org_call(Method::GET, path, query, None).await?;
    if c.print_json(&r.body) {
        return Ok(None);
    }
    Ok(Some(r.body))
}

fn joined(v: &Value, f: impl Fn(&Value) -> String) -> String {
    v.as_array()
        .map(|a| a.iter().map(f).collect::<Vec<_>>().join("\n"))
        .unwrap_or_default()
}

fn via(v: &Value) -> String {
    match v["via"].as_str() {
        Some("group") => format!("group {}", text(v, "group_name")),
        Some(other) => other.to_string(),
        None => String::new(),
    }
}

fn taken(v: &Value) {
    println!("Taken at {}.", time(&v["taken_at"]));
}

pub(super) async fn run(c: &Client, cmd: ReportsCommand) -> CmdResult {
    match cmd {
        ReportsCommand::Stale {
            days,
            csv,
            deactivate,
            credentials,
        } => {
            let days_q = days.map(|d| d.to_string());
            if let Some(ids) = deactivate {
                return deactivate_stale(c, days.unwrap_or(90), &ids, credentials).await;
            }
            let Some(body) =
                csv_or_json(c, &["reports", "stale-accounts"], &[("days", days_q)], csv).await?
            else {
                return Ok(0);
            };
            let mut t = table(&[
                "id",
                "e-mail",
                "last sign-in",
                "applications",
                "roles",
                "groups",
                "seats",
                "admin rights",
            ]);
            for a in items(&body) {
                let last = time(&a["user"]["last_sign_in_at"]);
                t.add_row(vec![
                    text(&a["user"], "id"),
                    text(&a["user"], "email"),
                    if last.is_empty() {
                        "never".into()
                    } else {
                        last
                    },
                    joined(&a["applications"], |x| {
                        x.as_str().unwrap_or_default().to_string()
                    }),
                    joined(&a["roles"], |r| {
                        format!(
                            "{} ({}, {})",
                            text(r, "role_name"),
                            text(r, "application"),
                            via(r)
                        )
                    }),
                    joined(&a["groups"], |g| text(g, "name")),
                    joined(&a["seats"], |s| {
                        format!("{} ({})", text(s, "profile_name"), via(s))
                    }),
                    joined(&a["admin_rights"], |r| {
                        format!("{} {}", text(r, "kind"), text(r, "target"))
                            .trim()
                            .to_string()
                    }),
                ]);
            }
            println!("{t}");
            taken(&body);
            Ok(0)
        }
        ReportsCommand::User { id, csv } => {
            let Some(body) = csv_or_json(c, &["reports", "access", "users", &id], &[], csv).await?
            else {
                return Ok(0);
            };
            let mut t = table(&["kind", "application", "name", "through"]);
            for app in body["applications"].as_array().into_iter().flatten() {
                t.add_row(vec![
                    "application".into(),
                    app.as_str().unwrap_or_default().to_string(),
                    String::new(),
                    String::new(),
                ]);
            }
            for r in body["roles"].as_array().into_iter().flatten() {
                t.add_row(vec![
                    "role".into(),
                    text(r, "application"),
                    text(r, "role_name"),
                    via(r),
                ]);
            }
            for g in body["groups"].as_array().into_iter().flatten() {
                t.add_row(vec![
                    "group".into(),
                    String::new(),
                    text(g, "name"),
                    String::new(),
                ]);
            }
            for s in body["seats"].as_array().into_iter().flatten() {
                t.add_row(vec![
                    "seat".into(),
                    text(s, "application"),
                    text(s, "profile_name"),
                    via(s),
                ]);
            }
            for r in body["admin_rights"].as_array().into_iter().flatten() {
                t.add_row(vec![
                    "admin right".into(),
                    String::new(),
                    format!("{} {}", text(r, "kind"), text(r, "target")),
                    String::new(),
                ]);
            }
            for x in body["credentials"].as_array().into_iter().flatten() {
                t.add_row(vec![
                    "API credential".into(),
                    String::new(),
                    text(x, "name"),
                    String::new(),
                ]);
            }
            for x in body["sessions"].as_array().into_iter().flatten() {
                t.add_row(vec![
                    "session".into(),
                    String::new(),
                    text(x, "source_ip"),
                    time(&x["last_seen_at"]),
                ]);
            }
            println!(
                "{} ({})",
                text(&body["user"], "email"),
                text(&body["user"], "status")
            );
            println!("{t}");
            taken(&body);
            Ok(0)
        }
        ReportsCommand::Application { key, csv } => {
            let Some(body) =
                csv_or_json(c, &["reports", "access", "applications", &key], &[], csv).await?
            else {
                return Ok(0);
            };
            let mut t = table(&[
                "e-mail",
                "status",
                "effective",
                "roles",
                "seats",
                "product admin",
            ]);
            for h in body["holders"].as_array().into_iter().flatten() {
                t.add_row(vec![
                    text(&h["user"], "email"),
                    text(&h["user"], "status"),
                    text(h, "effective"),
                    joined(&h["roles"], |r| {
                        format!("{} ({})", text(r, "role_name"), via(r))
                    }),
                    joined(&h["seats"], |s| {
                        format!("{} ({})", text(s, "profile_name"), via(s))
                    }),
                    text(h, "product_admin"),
                ]);
            }
            println!("{t}");
            taken(&body);
            Ok(0)
        }
        ReportsCommand::Profile { id, csv } => {
            let Some(body) =
                csv_or_json(c, &["reports", "access", "profiles", &id], &[], csv).await?
            else {
                return Ok(0);
            };
            let mut t = table(&["e-mail", "status", "through"]);
            for h in body["holders"].as_array().into_iter().flatten() {
                t.add_row(vec![
                    text(&h["user"], "email"),
                    text(&h["user"], "status"),
                    joined(&h["through"], via),
                ]);
            }
            println!(
                "{} ({})",
                text(&body, "profile_name"),
                text(&body, "application")
            );
            println!("{t}");
            taken(&body);
            Ok(0)
        }
        ReportsCommand::Seats { csv } => {
            let Some(body) = csv_or_json(c, &["reports", "seats"], &[], csv).await? else {
                return Ok(0);
            };
            let mut t = table(&[
                "profile",
                "application",
                "used",
                "quota",
                "free",
                "direct",
                "through groups",
            ]);
            for l in items(&body) {
                let quota = text(l, "quota");
                t.add_row(vec![
                    text(l, "profile_name"),
                    text(l, "application"),
                    text(l, "used"),
                    if quota.is_empty() {
                        "unlimited".into()
                    } else {
                        quota
                    },
                    text(l, "free"),
                    text(l, "direct"),
                    text(l, "through_groups"),
                ]);
            }
            println!("{t}");
            taken(&body);
            Ok(0)
        }
    }
}

async fn deactivate_stale(
    c: &Client,
    days: i64,
    ids: &str,
    credentials: Option<String>,
) -> CmdResult {
    let chosen: Vec<String> = if ids.trim() == "all" {
        let r = c
            .org_call(
                Method::GET,
                &["reports", "stale-accounts"],
                &[("days", Some(days.to_string()))],
                None,
            )
            .await?;
        items(&r.body)
            .iter()
            .map(|a| text(&a["user"], "id"))
            .collect()
    } else {
        ids.split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_string)
            .collect()
    };
    if chosen.is_empty() {
        if !c.json {
            println!("No stale accounts to deactivate.");
        }
        return Ok(0);
    }
    let r = c
        .org_call(
            Method::POST,
            &["reports", "stale-accounts", "deactivate"],
            &[],
            Some(json!({"days": days, "user_ids": chosen, "credentials": credentials})),
        )
        .await?;
    if !c.print_json(&r.body) {
        let mut t = table(&["user", "outcome", "detail"]);
        for o in items(&r.body) {
            t.add_row(vec![
                text(o, "user_id"),
                text(o, "outcome"),
                text(o, "detail"),
            ]);
        }
        println!("{t}");
    }
    let refused = items(&r.body).iter().any(|o| o["outcome"] == "refused");
    Ok(if refused { 1 } else { 0 })
}

/// `rolecall users offboard ID [--delete] [--credentials revoke|keep|transfer --transfer-to ID]`.
pub(super) async fn offboard(c: &Client, args: OffboardArgs) -> CmdResult {
    if args.transfer_to.is_some() && args.credentials.as_deref() != Some("transfer") {
        return Err(usage("--transfer-to goes with --credentials transfer"));
    }
    let body = json!({
        "mode": if args.delete { "delete" } else { "deactivate" },
        "credentials": args.credentials,
        "transfer_to": args.transfer_to,
    });
    let r = c
        .org_call(
            Method::POST,
            &["users", &args.id, "offboard"],
            &[],
            Some(body),
        )
        .await?;
    if c.print_json(&r.body) {
        return Ok(0);
    }
    let b = &r.body;
    println!(
        "Offboarded {} ({}): {} → {}.",
        text(b, "email"),
        text(b, "user_id"),
        text(b, "status_before"),
        text(b, "status_after")
    );
    let mut t = table(&["withdrawn", "what"]);
    let mut add = |what: &str, v: String| {
        if !v.is_empty() {
            t.add_row(vec![what.to_string(), v]);
        }
    };
    add("sessions ended", text(b, "sessions_ended"));
    add(
        "seats released",
        joined(&b["seats_released"], |s| {
            format!("{} ({})", text(s, "profile_name"), text(s, "application"))
        }),
    );
    add(
        "seats through groups",
        joined(&b["seats_through_groups"], |s| {
            format!("{} ({})", text(s, "profile_name"), via(s))
        }),
    );
    add(
        "groups removed",
        joined(&b["groups_removed"], |g| text(g, "name")),
    );
    add(
        "groups kept (void)",
        joined(&b["groups_kept_void"], |g| text(g, "name")),
    );
    add(
        "roles removed",
        joined(&b["roles_removed"], |r| {
            format!(
                "{} ({}, {})",
                text(r, "role_name"),
                text(r, "application"),
                via(r)
            )
        }),
    );
    add(
        "roles kept (void)",
        joined(&b["roles_kept_void"], |r| {
            format!(
                "{} ({}, {})",
                text(r, "role_name"),
                text(r, "application"),
                via(r)
            )
        }),
    );
    add(
        "admin rights removed",
        joined(&b["admin_rights_removed"], |r| {
            format!("{} {}", text(r, "kind"), text(r, "target"))
                .trim()
                .to_string()
        }),
    );
    add(
        "API credentials",
        joined(&b["credentials"], |x| {
            format!("{}: {}", text(x, "name"), text(x, "outcome"))
        }),
    );
    add("invitations withdrawn", text(b, "invitations_withdrawn"));
    println!("{t}");
    Ok(0)
}
