//! `rolecall check` and `rolecall check-batch`: the question applications ask, answered with
//! the explanation; the exit code says allow (0) or deny (3) so scripts can branch on it.

use super::client::{usage, Client, CmdResult};
use super::output::{scopes, table, text};
use reqwest::Method;
use serde_json::{json, Value};

/// What `rolecall check` asks.
#[derive(Debug)]
pub(super) struct Question {
    pub(super) user: String,
    pub(super) application: String,
    pub(super) resource: String,
    pub(super) action: Option<String>,
    pub(super) scope: Option<String>,
}

pub(super) async fn run(c: &Client, q: Question) -> CmdResult {
    let Question {
        user,
        application,
        resource,
        action,
        scope,
    } = q;
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

/// `rolecall check-batch`: many questions from a JSON file (`-`: standard input), decided
/// against one consistent snapshot. The file holds the API's `checks` array (objects with
/// `user_id`, `application`, `resource`, and optional `action` and `scope`), or the whole
/// request body. Exit 0 when every answer is allow, 3 when any is deny.
pub(super) async fn batch(c: &Client, file: &std::path::Path, explain: bool) -> CmdResult {
    let raw = if file == std::path::Path::new("-") {
        std::io::read_to_string(std::io::stdin())
    } else {
        std::fs::read_to_string(file)
    }
    .map_err(|e| usage(&format!("cannot read {}: {e}", file.display())))?;
    let parsed: Value = serde_json::from_str(&raw)
        .map_err(|e| usage(&format!("{} is not JSON: {e}", file.display())))?;
    let checks = match parsed {
        Value::Array(_) => parsed,
        Value::Object(ref o) if o.contains_key("checks") => o["checks"].clone(),
        _ => {
            return Err(usage(&format!(
                "{} must hold an array of checks, or an object with \"checks\"",
                file.display()
            )))
        }
    };
    let asked = checks.as_array().cloned().unwrap_or_default();
    let r = c
        .org_call(
            Method::POST,
            &["check", "batch"],
            &[],
            Some(json!({ "checks": checks, "explain": explain })),
        )
        .await?;
    let results = r.body["results"].as_array().cloned().unwrap_or_default();
    if !c.print_json(&r.body) {
        let mut t = table(&[
            "#",
            "user",
            "application",
            "resource",
            "action",
            "scope",
            "decision",
            "reason",
        ]);
        for (i, a) in results.iter().enumerate() {
            let q = asked.get(i).cloned().unwrap_or(Value::Null);
            t.add_row(vec![
                (i + 1).to_string(),
                text(&q, "user_id"),
                text(&q, "application"),
                text(&q, "resource"),
                text(&q, "action"),
                text(&q, "scope"),
                text(a, "decision"),
                text(a, "reason"),
            ]);
        }
        println!("{t}");
    }
    Ok(if results.iter().all(|a| a["decision"] == "allow") {
        0
    } else {
        3
    })
}
