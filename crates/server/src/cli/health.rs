//! `rolecall health`, `rolecall ready` and `rolecall openapi --url`: what a deployment script
//! or an orchestrator asks a running server before anything else. None needs a token.

use super::client::{Client, CmdResult, Exit, RemoteArgs};
use super::output::text;
use reqwest::{Method, StatusCode};
use serde_json::json;

/// `rolecall health`: exit 0 when the process answers (`/healthz`).
pub(super) async fn health(remote: &RemoteArgs) -> CmdResult {
    let c = Client::anonymous(remote)?;
    let (status, body) = c.probe("healthz").await?;
    report(&c, "live", status, &body)
}

/// `rolecall ready`: exit 0 when the server can serve requests (its database answers,
/// `/readyz`); 1 otherwise, with the server's reason.
pub(super) async fn ready(remote: &RemoteArgs) -> CmdResult {
    let c = Client::anonymous(remote)?;
    let (status, body) = c.probe("readyz").await?;
    report(&c, "ready", status, &body)
}

fn report(c: &Client, what: &str, status: StatusCode, body: &str) -> CmdResult {
    let ok = status.is_success();
    // The refusal is a problem document; its detail says why.
    let detail = serde_json::from_str::<serde_json::Value>(body)
        .map(|v| text(&v, "detail"))
        .unwrap_or_default();
    if c.json {
        println!(
            "{}",
            json!({ (what): ok, "status": status.as_u16(), "detail": (!detail.is_empty()).then_some(&detail) })
        );
    } else if ok {
        println!("{} is {what} ({})", c.base, body.trim());
    } else {
        let why = if detail.is_empty() {
            status.to_string()
        } else {
            detail
        };
        eprintln!("rolecall: {} is not {what}: {why}", c.base);
    }
    if ok {
        Ok(0)
    } else {
        Err(Exit(1))
    }
}

/// `rolecall openapi --url`: the document a running server serves, which may be of another
/// version than this binary's.
pub(super) async fn served_openapi(url: &str) -> CmdResult {
    let c = Client::connect(url, super::client::DEFAULT_ORG, None, false)?;
    let r = c.call(Method::GET, &["openapi.json"], &[], None).await?;
    println!(
        "{}",
        serde_json::to_string_pretty(&r.body).unwrap_or_else(|_| r.body.to_string())
    );
    Ok(0)
}
