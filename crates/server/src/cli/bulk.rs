//! `rolecall users import` and `users export` (issue 12): streams a CSV file to the server with
//! a progress bar (indicatif, by bytes sent: the server applies rows as they arrive) and prints
//! the per-row report, optionally also as CSV; streams an export to a file or standard output.

use super::client::{Client, CmdResult, Exit};
use super::output::{table, text};
use serde_json::Value;
use std::path::Path;

pub(super) struct ImportFlags {
    pub dry_run: bool,
    pub valid_rows: bool,
    pub no_invitations: bool,
    pub credentials: Option<String>,
    pub report: Option<std::path::PathBuf>,
}

fn bar(len: u64) -> indicatif::ProgressBar {
    let bar = indicatif::ProgressBar::new(len);
    if let Ok(style) = indicatif::ProgressStyle::with_template(
        "{spinner} importing [{bar:40}] {bytes}/{total_bytes} ({bytes_per_sec}, {eta})",
    ) {
        bar.set_style(style.progress_chars("=> "));
    }
    bar
}

pub(super) async fn import(c: &Client, file: &Path, flags: ImportFlags) -> CmdResult {
    let f = tokio::fs::File::open(file).await.map_err(|e| {
        eprintln!("rolecall: cannot open {}: {e}", file.display());
        Exit(1)
    })?;
    let len = f.metadata().await.map(|m| m.len()).unwrap_or(0);
    let query = [
        ("dry_run", flags.dry_run.then(|| "true".to_string())),
        ("mode", flags.valid_rows.then(|| "valid_rows".to_string())),
        (
            "invitations",
            flags.no_invitations.then(|| "false".to_string()),
        ),
        ("credentials", flags.credentials.clone()),
    ];
    // The bar goes to stderr and hides itself when stderr is not a terminal.
    let r = c
        .upload_csv(&["users", "import"], &query, f, bar(len))
        .await?;
    let report = &r.body;
    if let Some(path) = &flags.report {
        std::fs::write(path, report_csv(report)).map_err(|e| {
            eprintln!("rolecall: cannot write {}: {e}", path.display());
            Exit(1)
        })?;
    }
    if !c.print_json(report) {
        let mut t = table(&["line", "e-mail", "result", "column", "rule", "reason"]);
        let mut shown = 0;
        for row in report["rows"].as_array().into_iter().flatten() {
            for e in row["errors"].as_array().into_iter().flatten() {
                t.add_row(vec![
                    e["line"].to_string(),
                    text(row, "email"),
                    text(row, "result"),
                    text(e, "column"),
                    text(e, "rule"),
                    text(e, "reason"),
                ]);
                shown += 1;
            }
        }
        if shown > 0 {
            println!("{t}");
        }
        let s = &report["summary"];
        println!(
            "{} rows: {} created, {} updated, {} removed, {} unchanged, {} with errors",
            s["rows"], s["created"], s["updated"], s["removed"], s["unchanged"], s["errors"]
        );
        println!(
            "{} (file sha256 {})",
            if report["committed"] == Value::Bool(true) {
                "Written."
            } else if report["dry_run"] == Value::Bool(true) {
                "Dry run: nothing written."
            } else {
                "Nothing written: fix the rows above, or import with --valid-rows."
            },
            text(report, "sha256")
        );
    }
    let clean = report["summary"]["errors"].as_u64() == Some(0);
    let done = report["committed"] == Value::Bool(true) || report["dry_run"] == Value::Bool(true);
    Ok(if clean && done { 0 } else { 1 })
}

/// The report as CSV, as the server writes it for `Accept: text/csv`.
fn report_csv(report: &Value) -> String {
    fn cell(out: &mut String, v: &str) {
        // Opened in a spreadsheet, a cell must never start a formula.
        let v = &*rolecall_bulk::formula::escape(v);
        if v.contains([',', '"', '\n', '\r']) {
            out.push('"');
            out.push_str(&v.replace('"', "\"\""));
            out.push('"');
        } else {
            out.push_str(v);
        }
    }
    let mut out = String::from("line,email,result,column,rule,reason\r\n");
    for row in report["rows"].as_array().into_iter().flatten() {
        let errors: Vec<&Value> = row["errors"].as_array().into_iter().flatten().collect();
        let lines: Vec<(String, String, String, String)> = if errors.is_empty() {
            vec![(
                row["line"].to_string(),
                String::new(),
                String::new(),
                String::new(),
            )]
        } else {
            errors
                .iter()
                .map(|e| {
                    (
                        e["line"].to_string(),
                        text(e, "column"),
                        text(e, "rule"),
                        text(e, "reason"),
                    )
                })
                .collect()
        };
        for (line, column, rule, reason) in lines {
            out.push_str(&line);
            for v in [
                text(row, "email"),
                text(row, "result"),
                column,
                rule,
                reason,
            ] {
                out.push(',');
                cell(&mut out, &v);
            }
            out.push_str("\r\n");
        }
    }
    out
}

pub(super) async fn export(c: &Client, template: &str, output: Option<&Path>) -> CmdResult {
    let query = [("template", Some(template.to_string()))];
    match output {
        Some(path) => {
            let file = std::fs::File::create(path).map_err(|e| {
                eprintln!("rolecall: cannot create {}: {e}", path.display());
                Exit(1)
            })?;
            let mut w = std::io::BufWriter::new(file);
            c.download(&["users", "export"], &query, &mut w).await?;
        }
        None => {
            let stdout = std::io::stdout();
            let mut w = stdout.lock();
            c.download(&["users", "export"], &query, &mut w).await?;
        }
    }
    Ok(0)
}
