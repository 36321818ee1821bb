//! The signed-in person's own account, outside `login`: `rolecall me` (my sessions, changing
//! my password, confirming my identity ahead of sensitive changes) and `rolecall
//! password-reset` (a forgotten password: request a token by e-mail, then set a new password
//! with it; neither needs a sign-in).

use super::client::{Client, CmdResult};
use super::instant::time;
use super::output::{items, table, text};
use super::prompt::{current_password, mailed_token, new_password};
use clap::Subcommand;
use reqwest::Method;
use serde_json::json;

#[derive(Debug, Subcommand)]
pub enum MeCommand {
    /// My live sessions (the current one marked).
    Sessions,
    /// End one of my sessions (another device, a forgotten terminal).
    EndSession {
        /// Session id (from `rolecall me sessions`).
        id: String,
    },
    /// Change my password; my other sessions end. The current password comes from
    /// ROLECALL_PASSWORD, else a prompt, else the first line of standard input; the new one is
    /// asked for twice on a terminal, else read from the next line.
    Password,
    /// Confirm my identity with my password, so that sensitive changes go through for the
    /// next minutes without --reverify (ROLECALL_PASSWORD, else a prompt, else standard input).
    Reverify,
}

#[derive(Debug, Subcommand)]
pub enum PasswordResetCommand {
    /// E-mail a single-use reset token (valid one hour) to this address, if it belongs to a
    /// user of the organization; the answer is the same either way.
    Request {
        /// The account's e-mail address.
        #[arg(long)]
        email: String,
    },
    /// Set a new password with the token from the e-mail; every session of the user ends. The
    /// new password is asked for twice on a terminal, else read from standard input.
    Confirm {
        /// The token from the e-mail; asked for (or read from standard input) when absent.
        #[arg(value_name = "RESET_TOKEN")]
        reset: Option<String>,
    },
}

pub(super) async fn me(c: &Client, cmd: MeCommand) -> CmdResult {
    match cmd {
        MeCommand::Sessions => {
            let r = c.call(Method::GET, &["me", "sessions"], &[], None).await?;
            if !c.print_json(&r.body) {
                let current = c
                    .get_quietly(&["me"])
                    .await
                    .map(|me| text(&me["session"], "id"))
                    .unwrap_or_default();
                let mut t = table(&["id", "stage", "started", "last used", "expires", ""]);
                for s in items(&r.body) {
                    let id = text(s, "id");
                    let mark = if !current.is_empty() && id == current {
                        "this session"
                    } else {
                        ""
                    };
                    t.add_row(vec![
                        id,
                        text(s, "stage"),
                        time(&s["created_at"]),
                        time(&s["last_seen_at"]),
                        time(&s["expires_at"]),
                        mark.to_string(),
                    ]);
                }
                println!("{t}");
            }
        }
        MeCommand::EndSession { id } => {
            c.call(Method::DELETE, &["me", "sessions", &id], &[], None)
                .await?;
            c.done(&format!("Ended session {id}."));
        }
        MeCommand::Password => {
            let current = current_password("Current password: ")?;
            let new = new_password("New password")?;
            c.call(
                Method::POST,
                &["me", "password"],
                &[],
                Some(json!({ "current_password": current, "new_password": new })),
            )
            .await?;
            c.done("Password changed; your other sessions have ended.");
        }
        MeCommand::Reverify => {
            let password = current_password("Your password: ")?;
            c.call(
                Method::POST,
                &["me", "reverify"],
                &[],
                Some(json!({ "password": password })),
            )
            .await?;
            c.done("Identity confirmed: sensitive changes go through without --reverify for the next minutes.");
        }
    }
    Ok(0)
}

/// `rolecall password-reset`, with a client that carries no token.
pub(super) async fn password_reset(c: &Client, cmd: PasswordResetCommand) -> CmdResult {
    match cmd {
        PasswordResetCommand::Request { email } => {
            c.org_call(
                Method::POST,
                &["password-reset"],
                &[],
                Some(json!({ "email": email })),
            )
            .await?;
            c.done(&format!(
                "If {email} belongs to a user of organization {}, a reset token is on its way \
                 (valid one hour); set the new password with `rolecall password-reset confirm`.",
                c.org
            ));
        }
        PasswordResetCommand::Confirm { reset } => {
            let token = mailed_token(reset, "reset token")?;
            let password = new_password("New password")?;
            c.org_call(
                Method::POST,
                &["password-reset", "confirm"],
                &[],
                Some(json!({ "token": token, "new_password": password })),
            )
            .await?;
            c.done("Password set; every session of the account has ended. Sign in with `rolecall login`.");
        }
    }
    Ok(0)
}
