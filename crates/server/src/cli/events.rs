//! `rolecall events`: sign-in events (successes, failures, locks, resets), newest first.

use super::client::{Client, CmdResult};
use super::instant::time;
use super::output::{items, table, text};
use reqwest::Method;

pub(super) async fn run(c: &Client, user: Option<String>, limit: Option<i64>) -> CmdResult {
    let r = c
        .org_call(
            Method::GET,
            &["auth-events"],
            &[("user", user), ("limit", limit.map(|l| l.to_string()))],
            None,
        )
        .await?;
    if !c.print_json(&r.body) {
        let mut t = table(&["time", "kind", "user", "ip", "detail"]);
        for e in items(&r.body) {
            t.add_row(vec![
                time(&e["at"]),
                text(e, "kind"),
                text(e, "user_id"),
                text(e, "source_ip"),
                text(e, "detail"),
            ]);
        }
        println!("{t}");
    }
    Ok(0)
}
