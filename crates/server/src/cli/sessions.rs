//! `rolecall sessions`, `rolecall 2fa` and `rolecall locks`: a user's sign-in sessions,
//! two-factor resets and accounts locked by failed sign-ins.

use super::client::{Client, CmdResult};
use super::instant::time;
use super::output::{items, table, text};
use clap::Subcommand;
use reqwest::Method;
use serde_json::json;

#[derive(Debug, Subcommand)]
pub enum SessionsCommand {
    /// A user's live sessions.
    List {
        /// User id.
        user: String,
    },
    /// End one session of a user, or all of them.
    End {
        /// User id.
        user: String,
        /// Session id; every session of the user when absent.
        session: Option<String>,
    },
}

#[derive(Debug, Subcommand)]
pub enum TwoFactorCommand {
    /// Reset two-factor authentication: the users enrol again at their next sign-in.
    Reset {
        /// User ids (all are reset, or none).
        #[arg(required = true, value_name = "USER")]
        users: Vec<String>,
    },
}

#[derive(Debug, Subcommand)]
pub enum LocksCommand {
    /// Accounts locked by failed sign-ins.
    List,
    /// Lift a user's lock.
    Lift {
        /// User id.
        user: String,
    },
}

pub(super) async fn run(c: &Client, cmd: SessionsCommand) -> CmdResult {
    match cmd {
        SessionsCommand::List { user } => {
            let r = c
                .org_call(Method::GET, &["users", &user, "sessions"], &[], None)
                .await?;
            if !c.print_json(&r.body) {
                let mut t = table(&[
                    "id",
                    "stage",
                    "created",
                    "last seen",
                    "expires",
                    "ip",
                    "user agent",
                ]);
                for s in items(&r.body) {
                    t.add_row(vec![
                        text(s, "id"),
                        text(s, "stage"),
                        time(&s["created_at"]),
                        time(&s["last_seen_at"]),
                        time(&s["expires_at"]),
                        text(s, "source_ip"),
                        text(s, "user_agent"),
                    ]);
                }
                println!("{t}");
            }
        }
        SessionsCommand::End { user, session } => match session {
            Some(sid) => {
                c.org_call(
                    Method::DELETE,
                    &["users", &user, "sessions", &sid],
                    &[],
                    None,
                )
                .await?;
                c.done(&format!("Ended session {sid} of user {user}."));
            }
            None => {
                c.org_call(Method::DELETE, &["users", &user, "sessions"], &[], None)
                    .await?;
                c.done(&format!("Ended every session of user {user}."));
            }
        },
    }
    Ok(0)
}

pub(crate) async fn two_factor(c: &Client, cmd: TwoFactorCommand) -> CmdResult {
    let TwoFactorCommand::Reset { users } = cmd;
    if let [user] = users.as_slice() {
        c.org_call(Method::POST, &["users", user, "2fa", "reset"], &[], None)
            .await?;
        c.done(&format!(
            "Reset two-factor authentication of user {user}; they enrol again at their next sign-in."
        ));
    } else {
        let r = c
            .org_call(
                Method::POST,
                &["2fa", "reset"],
                &[],
                Some(json!({ "user_ids": users })),
            )
            .await?;
        if !c.print_json(&r.body) {
            println!(
                "Reset two-factor authentication of {} users; they enrol again at their next sign-in.",
                text(&r.body, "reset")
            );
        }
    }
    Ok(0)
}

pub(crate) async fn locks(c: &Client, cmd: LocksCommand) -> CmdResult {
    match cmd {
        LocksCommand::List => {
            let r = c.org_call(Method::GET, &["locks"], &[], None).await?;
            if !c.print_json(&r.body) {
                let mut t = table(&["user id", "username", "locked until"]);
                for l in items(&r.body) {
                    t.add_row(vec![
                        text(l, "user_id"),
                        text(l, "username"),
                        time(&l["locked_until"]),
                    ]);
                }
                println!("{t}");
            }
        }
        LocksCommand::Lift { user } => {
            c.org_call(Method::DELETE, &["users", &user, "lock"], &[], None)
                .await?;
            c.done(&format!("Lifted the lock of user {user}."));
        }
    }
    Ok(0)
}
