//! `rolecall check`: the question applications ask, answered with the explanation; the exit
//! code says allow (0) or deny (3) so scripts can branch on it.

use super::client::{Client, CmdResult};
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
