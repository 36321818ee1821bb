//! `rolecall audit …` (issue 11): browse the audit log, export it, show and verify the hash
//! chain, apply retention. HTTP clients of a running server, like every management command.
//!
//! Exit codes as elsewhere (0 done, 1 error, 2 refused), plus 4 when `verify` finds a chain
//! broken, so scripts can alert on it.

use super::client::{usage, Client, CmdResult, Exit};
use super::instant::{parse_instant, time};
use super::output::{items, table, text, text_of};
use clap::Subcommand;
use reqwest::Method;
use serde_json::Value;
use std::io::Write;

/// `verify` found an edited, removed or reordered entry, or a truncation.
pub const EXIT_CHAIN_BROKEN: i32 = 4;

#[derive(Debug, Clone, clap::Args)]
pub struct AuditFilter {
    /// Only entries by this actor (user id, credential id or token name).
    #[arg(long)]
    actor: Option<String>,
    /// Only entries about this target (user, group, role, profile… id).
    #[arg(long)]
    target: Option<String>,
    /// Only these actions, comma-separated (e.g. user_deactivated,user_deleted).
    #[arg(long)]
    action: Option<String>,
    /// From this time on (RFC 3339, a date, or Unix milliseconds).
    #[arg(long)]
    from: Option<String>,
    /// Before this time (RFC 3339, a date, or Unix milliseconds).
    #[arg(long)]
    to: Option<String>,
}

impl AuditFilter {
    fn query(&self) -> CmdResult<Vec<(&'static str, Option<String>)>> {
        let instant = |v: &Option<String>| -> CmdResult<Option<String>> {
            v.as_deref()
                .map(|raw| {
                    parse_instant(raw)
                        .map(|ms| ms.to_string())
                        .map_err(|e| usage(&e))
                })
                .transpose()
        };
        Ok(vec![
            ("actor", self.actor.clone()),
            ("target", self.target.clone()),
            ("action", self.action.clone()),
            ("from", instant(&self.from)?),
            ("to", instant(&self.to)?),
        ])
    }
}

/// The header carrying the chain head (`<seq>:<hash>`) on exports.
const HEAD_HEADER: &str = "x-rolecall-audit-head";

#[derive(Debug, Subcommand)]
pub enum AuditCommand {
    /// Entries newest first, one page (use --cursor with the printed next cursor).
    List {
        #[command(flatten)]
        filter: AuditFilter,
        /// Entries per page, 1 to 1000 [default: 100].
        #[arg(long)]
        limit: Option<i64>,
        /// The next cursor printed by the previous page.
        #[arg(long)]
        cursor: Option<String>,
    },
    /// Streams matching entries oldest first as JSON lines (first line: the chain head) or CSV.
    Export {
        #[command(flatten)]
        filter: AuditFilter,
        /// jsonl or csv [default: jsonl].
        #[arg(long)]
        format: Option<String>,
        /// Write to this file instead of standard output.
        #[arg(long)]
        output: Option<std::path::PathBuf>,
    },
    /// The chain head (last entry's sequence number and hash): keep it to prove truncation.
    Head,
    /// Walks the chain and names the first entry edited, removed or reordered (exit code 4).
    Verify {
        /// A head kept earlier, as <seq>:<hash>: the chain must still contain it.
        #[arg(long)]
        known_head: Option<String>,
        /// Every organisation the token can see, instead of --org.
        #[arg(long)]
        all: bool,
    },
    /// Applies the retention setting now (the server does so hourly).
    Prune,
}

pub(super) async fn run(c: &Client, cmd: AuditCommand) -> CmdResult {
    match cmd {
        AuditCommand::List {
            filter,
            limit,
            cursor,
        } => {
            let mut query = filter.query()?;
            query.push(("limit", limit.map(|l| l.to_string())));
            query.push(("cursor", cursor));
            let r = c.org_call(Method::GET, &["audit"], &query, None).await?;
            if !c.print_json(&r.body) {
                let mut t = table(&["seq", "time", "actor", "action", "target", "changes"]);
                for e in items(&r.body) {
                    t.add_row(vec![
                        text(e, "seq"),
                        time(&e["at"]),
                        party(&e["actor"]),
                        text(e, "action"),
                        party(&e["target"]),
                        changes(&e["changes"]),
                    ]);
                }
                println!("{t}");
                if let Some(next) = r.body["next_cursor"].as_str() {
                    println!("More: --cursor {next}");
                }
            }
            Ok(0)
        }
        AuditCommand::Export {
            filter,
            format,
            output,
        } => {
            let mut query = filter.query()?;
            query.push(("format", format));
            let headers = match &output {
                Some(path) => {
                    let file = std::fs::File::create(path).map_err(|e| {
                        eprintln!("rolecall: cannot create {}: {e}", path.display());
                        Exit(1)
                    })?;
                    let mut w = std::io::BufWriter::new(file);
                    c.download(&["audit", "export"], &query, &mut w).await?
                }
                None => {
                    let stdout = std::io::stdout();
                    let mut w = stdout.lock();
                    c.download(&["audit", "export"], &query, &mut w).await?
                }
            };
            if let Some(head) = headers.get(HEAD_HEADER).and_then(|v| v.to_str().ok()) {
                eprintln!("Chain head at export: {head} (keep it: `rolecall audit verify --known-head {head}`)");
            }
            Ok(0)
        }
        AuditCommand::Head => {
            let r = c
                .org_call(Method::GET, &["audit", "head"], &[], None)
                .await?;
            if !c.print_json(&r.body) {
                println!("{}:{}", text(&r.body, "seq"), text(&r.body, "hash"));
            }
            Ok(0)
        }
        AuditCommand::Verify { known_head, all } => {
            let orgs: Vec<String> = if all {
                let r = c.call(Method::GET, &["organizations"], &[], None).await?;
                items(&r.body).iter().map(|o| text(o, "slug")).collect()
            } else {
                vec![c.org.clone()]
            };
            let mut broken = false;
            let mut results = Vec::new();
            for org in orgs {
                let r = c
                    .call(
                        Method::GET,
                        &["organizations", &org, "audit", "verify"],
                        &[("known_head", known_head.clone())],
                        None,
                    )
                    .await?;
                broken |= r.body["ok"] != Value::Bool(true);
                if !c.json {
                    print_verification(&r.body);
                }
                results.push(r.body);
            }
            if c.json {
                let out = if all {
                    Value::Array(results)
                } else {
                    results.pop().unwrap_or(Value::Null)
                };
                println!("{}", serde_json::to_string_pretty(&out).unwrap_or_default());
            }
            Ok(if broken { EXIT_CHAIN_BROKEN } else { 0 })
        }
        AuditCommand::Prune => {
            let r = c
                .org_call(Method::POST, &["audit", "prune"], &[], None)
                .await?;
            if !c.print_json(&r.body) {
                match r.body["pruned"].as_object() {
                    Some(p) => println!(
                        "Removed {} entries (through {}); the pruning is recorded.",
                        text_of_map(p, "removed"),
                        text_of_map(p, "through_seq")
                    ),
                    None => println!("Nothing to prune (no retention set, or nothing old enough)."),
                }
            }
            Ok(0)
        }
    }
}

fn text_of_map(m: &serde_json::Map<String, Value>, k: &str) -> String {
    m.get(k).map(|v| v.to_string()).unwrap_or_default()
}

fn print_verification(v: &Value) {
    let org = text(v, "organization");
    if v["ok"] == Value::Bool(true) {
        println!(
            "{org}: chain intact ({} entries, head {}:{})",
            text(v, "checked"),
            text(&v["head"], "seq"),
            text(&v["head"], "hash")
        );
    } else {
        println!(
            "{org}: CHAIN BROKEN at entry {} ({}): {}",
            text(&v["flaw"], "seq"),
            text(&v["flaw"], "kind"),
            text(&v["flaw"], "message")
        );
    }
    let _ = std::io::stdout().flush();
}

/// `kind name` of an actor or target (the id when there is no name).
fn party(p: &Value) -> String {
    let name = text(p, "name");
    let shown = if name.is_empty() { text(p, "id") } else { name };
    format!("{} {shown}", text(p, "kind")).trim().to_string()
}

/// `field: before → after`, one per line.
fn changes(c: &Value) -> String {
    c.as_object()
        .into_iter()
        .flatten()
        .map(|(k, v)| format!("{k}: {} → {}", text_of(&v["before"]), text_of(&v["after"])))
        .collect::<Vec<_>>()
        .join("\n")
}
