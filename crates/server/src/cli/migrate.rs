//! `rolecall import magento` (issue 12): migrates Magento 2 admins into an organisation's
//! `commerce-admin`, on the store directly (like `init`), from the table exports as CSV. Prints
//! what was created, every row that could not be mapped, and that second factors stay behind.

use crate::config::ConfigArgs;
use crate::directory::signin::ClientInfo;
use crate::directory::OrgAdmin;
use crate::error::{Error, Result};
use clap::{Args, Subcommand};
use rolecall_bulk::{MagentoExport, MagentoTable};
use std::path::PathBuf;

#[derive(Debug, Subcommand)]
pub enum ImportCommand {
    /// Magento 2 admins: roles with their resources and website/store scopes, users with their
    /// role, status, names, e-mail, lock and password hash (they keep their passwords).
    Magento(MagentoArgs),
}

#[derive(Debug, Args)]
pub struct MagentoArgs {
    #[command(flatten)]
    config: ConfigArgs,
    /// The organisation (slug or id).
    #[arg(long)]
    org: String,
    /// `admin_user` as CSV (a `SELECT *` with its header row).
    #[arg(long)]
    admin_user: PathBuf,
    /// `authorization_role` as CSV.
    #[arg(long)]
    authorization_role: PathBuf,
    /// `authorization_rule` as CSV.
    #[arg(long)]
    authorization_rule: PathBuf,
    /// `store_website` as CSV (needed for roles limited to websites).
    #[arg(long)]
    store_website: Option<PathBuf>,
    /// `store_group` as CSV (needed for roles limited to stores).
    #[arg(long)]
    store_group: Option<PathBuf>,
    /// `store` as CSV (store views).
    #[arg(long)]
    store: Option<PathBuf>,
    /// Report what would happen; write nothing.
    #[arg(long)]
    dry_run: bool,
    /// Apply what can be applied and report the rest (default: any refused role or user and
    /// nothing is written).
    #[arg(long)]
    valid_rows: bool,
    #[arg(long)]
    json: bool,
}

pub async fn run(cmd: ImportCommand) -> Result<i32> {
    let ImportCommand::Magento(a) = cmd;
    let mut export = MagentoExport::new();
    let tables = [
        (MagentoTable::StoreWebsite, a.store_website.as_ref()),
        (MagentoTable::StoreGroup, a.store_group.as_ref()),
        (MagentoTable::Store, a.store.as_ref()),
        (MagentoTable::AuthorizationRole, Some(&a.authorization_role)),
        (MagentoTable::AuthorizationRule, Some(&a.authorization_rule)),
        (MagentoTable::AdminUser, Some(&a.admin_user)),
    ];
    for (table, path) in tables {
        let Some(path) = path else { continue };
        let file = match std::fs::File::open(path) {
            Ok(f) => f,
            Err(e) => {
                eprintln!("rolecall: cannot open {}: {e}", path.display());
                return Ok(1);
            }
        };
        if let Err(e) = export.read(table, std::io::BufReader::new(file)) {
            eprintln!("rolecall: {} ({}): {e}", path.display(), table.name());
            return Ok(1);
        }
    }
    let plan = export.plan();
    let (_, dir) = super::open(&a.config).await?;
    let org = dir.org(&a.org).await?;
    let report = dir
        .import_magento(
            &OrgAdmin::operator(org),
            plan,
            a.dry_run,
            a.valid_rows,
            &ClientInfo::default(),
        )
        .await?;
    let failed = report
        .roles
        .iter()
        .chain(&report.users)
        .any(|r| r.result == "error");
    if a.json {
        println!(
            "{}",
            serde_json::to_string_pretty(&report).map_err(|e| Error::Internal(e.to_string()))?
        );
    } else {
        for (what, rows) in [("role", &report.roles), ("user", &report.users)] {
            for r in rows.iter() {
                println!("{what} {:?} (line {}): {}", r.name, r.line, r.result);
                for e in &r.errors {
                    println!("    error: {e}");
                }
                if !r.left_out.is_empty() {
                    println!(
                        "    resources not in rolecall's tree, left out: {}",
                        r.left_out.join(", ")
                    );
                }
            }
        }
        if !report.scopes_created.is_empty() {
            println!("scopes created: {}", report.scopes_created.join(", "));
        }
        for u in &report.unmapped {
            println!("not mapped: {} line {}: {}", u.table, u.line, u.reason);
        }
        for n in &report.notices {
            println!("note: {n}");
        }
        println!(
            "{}",
            if report.committed {
                "Written."
            } else if report.dry_run {
                "Dry run: nothing written."
            } else {
                "Nothing written: fix the rows above, or run with --valid-rows."
            }
        );
    }
    Ok(if failed && !a.valid_rows { 1 } else { 0 })
}
