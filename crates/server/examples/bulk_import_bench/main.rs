//! Measures bulk import and export (issue 12): generates a plain-template file of N people
//! (each in one of 50 groups), imports it into a fresh organisation as the operator, then
//! exports it, printing rows per second and the process's peak resident memory (VmHWM).
//! `BENCH_DRY=1` runs a dry run of the file first (`BENCH_DRY_ONLY=1`: and stops there).
//!
//! ```text
//! cargo run --release -p rolecall --example bulk_import_bench -- 100000            # SQLite
//! ROLECALL_DATABASE_URL=postgres://… cargo run --release -p rolecall --example bulk_import_bench -- 100000
//! ```
//! The file is written to a temporary directory and streamed from disk, as an upload would be.
//! New people are added without a word; `BENCH_INVITATIONS=1` invites each (the default of the
//! API and the CLI), which queues one mail per person. `BENCH_REPEAT=1` imports the file a
//! second time (every row unchanged) and prints the memory before and after, which tells what
//! the import holds per row of the file from what the growing organisation holds.
//! `BENCH_FLOOR=1` (SQLite) then times SQLite alone writing the same rows again (`floor.rs`).

use rolecall::directory::bulk::{read_rows, ImportOptions, ImportReport};
use rolecall::directory::bulk_export::ExportTemplate;
use rolecall::directory::signin::ClientInfo;
use rolecall::directory::{Directory, OrgAdmin, SystemClock};
use rolecall::store::Db;
use std::io::Write;
use std::sync::Arc;
use std::time::Instant;

mod floor;

/// Peak resident set size of this process, from /proc (Linux), in MiB.
fn peak_rss_mib() -> f64 {
    status_mib("VmHWM:")
}

/// The resident set now (`VmRSS`), to tell what an import keeps from what it passed through.
fn rss_mib() -> f64 {
    status_mib("VmRSS:")
}

fn status_mib(field: &str) -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with(field))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|kb| kb.parse::<f64>().ok())
        })
        .map_or(0.0, |kb| kb / 1024.0)
}

/// Imports the file at `path` as an upload streams it; the report and the seconds it took.
async fn import(
    d: &Directory,
    admin: &OrgAdmin,
    path: &std::path::Path,
    options: ImportOptions,
) -> Result<(ImportReport, f64), Box<dyn std::error::Error>> {
    let t = Instant::now();
    let rows = read_rows(std::fs::File::open(path)?);
    let report = d
        .import_users(admin, rows, options, &ClientInfo::default())
        .await?;
    Ok((report, t.elapsed().as_secs_f64()))
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    // `ROLECALL_LOG=sqlx::query=debug` shows each statement with its time and rows.
    if std::env::var_os("ROLECALL_LOG").is_some() {
        rolecall::logging::init();
    }
    let n: usize = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(100_000);
    let dir = tempfile::tempdir()?;
    // BENCH_KEEP=1: the database stays behind for a look with `sqlite3`.
    let dir = if std::env::var("BENCH_KEEP").is_ok_and(|v| v == "1") {
        let kept = dir.keep();
        eprintln!("database kept in {}", kept.display());
        Kept::Path(kept)
    } else {
        Kept::Temp(dir)
    };
    let url = std::env::var("ROLECALL_DATABASE_URL").ok();
    let db = Db::connect(url.as_deref(), dir.path()).await?;
    let backend = if url.is_some() {
        "PostgreSQL"
    } else {
        "SQLite"
    };
    let d = Arc::new(Directory::open(db, Arc::new(SystemClock), vec![]).await?);
    let slug = format!("bench{}", std::process::id());
    let org = d.create_org(&slug, "Bench").await?;
    let admin = OrgAdmin::operator(org.clone());
    for g in 0..50 {
        d.create_group(&admin, &format!("Team {g}"), None).await?;
    }
    // BENCH_INVITATIONS=1: every new person is invited (the import's default), one mail each.
    let invitations = std::env::var("BENCH_INVITATIONS").is_ok_and(|v| v == "1");
    let status = if invitations { "" } else { "active" };
    let path = dir.path().join("people.csv");
    {
        let mut f = std::io::BufWriter::new(std::fs::File::create(&path)?);
        writeln!(f, "email,first_name,last_name,status,groups")?;
        for i in 0..n {
            writeln!(
                f,
                "user{i}@example.com,First{i},Last{i},{status},Team {}",
                i % 50
            )?;
        }
    }
    let bytes = std::fs::metadata(&path)?.len();
    println!(
        "{backend}: {n} rows, {:.1} MiB file, peak RSS before import {:.0} MiB",
        bytes as f64 / 1048576.0,
        peak_rss_mib()
    );
    let options = ImportOptions {
        no_invitations: !invitations,
        ..ImportOptions::default()
    };
    // BENCH_DRY=1: a dry run of the file first, into the empty organisation. Nothing is
    // written and nothing compiled, so the peak it adds is what the import holds while it
    // reads the file (its report, the writer's page cache), not the organisation it grows.
    if std::env::var("BENCH_DRY").is_ok_and(|v| v == "1") {
        let dry = ImportOptions {
            dry_run: true,
            ..options
        };
        let (report, took) = import(&d, &admin, &path, dry).await?;
        println!(
            "dry run: {} would be created in {took:.1} s = {:.0} rows/s; peak RSS {:.0} MiB",
            report.summary.created,
            n as f64 / took,
            peak_rss_mib()
        );
        if std::env::var("BENCH_DRY_ONLY").is_ok_and(|v| v == "1") {
            return Ok(());
        }
    }
    let (report, took) = import(&d, &admin, &path, options).await?;
    assert!(report.committed, "{:?}", report.summary);
    println!(
        "import: {} created in {took:.1} s = {:.0} rows/s; peak RSS {:.0} MiB",
        report.summary.created,
        n as f64 / took,
        peak_rss_mib()
    );
    drop(report);
    // BENCH_REPEAT=1: the same file again, every row now unchanged. The organisation does not
    // grow, so what this run adds to the peak is what the import holds per row of the file.
    if std::env::var("BENCH_REPEAT").is_ok_and(|v| v == "1") {
        let (before, peak_before) = (rss_mib(), peak_rss_mib());
        let (report, took) = import(&d, &admin, &path, options).await?;
        println!(
            "again: {} unchanged in {took:.1} s = {:.0} rows/s; RSS {before:.0} MiB before, \
             {:.0} MiB after; peak {peak_before:.0} MiB before, {:.0} MiB after",
            report.summary.unchanged,
            n as f64 / took,
            rss_mib(),
            peak_rss_mib()
        );
    }
    // BENCH_FLOOR=1 (SQLite): what SQLite alone takes to store what the import stored.
    if url.is_none() && std::env::var("BENCH_FLOOR").is_ok_and(|v| v == "1") {
        floor::measure(&dir.path().join("rolecall.db"), &org.id.to_string()).await?;
    }
    for template in [ExportTemplate::Plain, ExportTemplate::Console] {
        let t = Instant::now();
        let mut e = d.export_users(&org, template).await?;
        let mut size = 0usize;
        while let Some(page) = e.next_page().await? {
            size += page.len();
        }
        let took = t.elapsed().as_secs_f64();
        println!(
            "export {template:?}: {:.1} MiB in {took:.1} s = {:.0} rows/s; peak RSS {:.0} MiB",
            size as f64 / 1048576.0,
            n as f64 / took,
            peak_rss_mib()
        );
    }
    Ok(())
}

/// The bench's directory: removed at the end unless kept.
enum Kept {
    Temp(tempfile::TempDir),
    Path(std::path::PathBuf),
}

impl Kept {
    fn path(&self) -> &std::path::Path {
        match self {
            Kept::Temp(t) => t.path(),
            Kept::Path(p) => p,
        }
    }
}
