//! `rolecall invitations`: "Get started" invitations — send one (the user is added as
//! invited), list the open ones, resend or withdraw a user's, and accept one with the token
//! from the e-mail (no sign-in needed: the token is the proof).

use super::client::{Client, CmdResult};
use super::instant::time;
use super::output::{details, items, put_opt, table, text};
use super::prompt::{mailed_token, new_password};
use clap::Subcommand;
use reqwest::Method;
use serde_json::{json, Map, Value};

#[derive(Debug, Subcommand)]
pub enum InvitationsCommand {
    /// Add a user as invited and e-mail them a single-use "Get started" token (valid 7 days).
    /// The invitation grants no rights: assign roles and seats separately.
    Create {
        /// E-mail address (required).
        #[arg(long)]
        email: String,
        /// Defaults to the e-mail address.
        #[arg(long)]
        username: Option<String>,
        #[arg(long)]
        first_name: Option<String>,
        #[arg(long)]
        last_name: Option<String>,
        /// Locale such as en_US.
        #[arg(long)]
        locale: Option<String>,
    },
    /// Open invitations (expired ones marked `expired`).
    List {
        /// 1-based page number.
        #[arg(long)]
        page: Option<i64>,
        /// Invitations per page, 1 to 500.
        #[arg(long)]
        per_page: Option<i64>,
    },
    /// Send an invited user a new token; the previous one stops working and the 7 days restart.
    Resend {
        /// User id.
        user: String,
    },
    /// Withdraw a user's open invitation: its token stops working; the user stays invited,
    /// without access.
    Withdraw {
        /// User id.
        user: String,
    },
    /// Accept an invitation and choose a password (the invited person; no token needed). The
    /// new password is asked for twice on a terminal, else read from standard input.
    Accept {
        /// The `rc_…` token from the e-mail; asked for (or read from standard input) when
        /// absent, so that it need not appear in the process list.
        #[arg(value_name = "INVITATION_TOKEN")]
        invitation: Option<String>,
    },
}

pub(super) async fn run(c: &Client, cmd: InvitationsCommand) -> CmdResult {
    match cmd {
        InvitationsCommand::Create {
            email,
            username,
            first_name,
            last_name,
            locale,
        } => {
            let mut body = Map::new();
            body.insert("email".into(), email.into());
            put_opt(&mut body, "username", username);
            put_opt(&mut body, "first_name", first_name);
            put_opt(&mut body, "last_name", last_name);
            put_opt(&mut body, "locale", locale);
            let r = c
                .org_call(
                    Method::POST,
                    &["invitations"],
                    &[],
                    Some(Value::Object(body)),
                )
                .await?;
            if !c.print_json(&r.body) {
                let u = &r.body["user"];
                println!(
                    "Invited {} ({}); the token went to them by e-mail.",
                    text(u, "email"),
                    text(u, "id")
                );
                print_invitation(&r.body["invitation"]);
            }
        }
        InvitationsCommand::List { page, per_page } => {
            let query = [
                ("page", page.map(|p| p.to_string())),
                ("per_page", per_page.map(|p| p.to_string())),
            ];
            let r = c
                .org_call(Method::GET, &["invitations"], &query, None)
                .await?;
            if !c.print_json(&r.body) {
                let mut t = table(&[
                    "user id",
                    "email",
                    "status",
                    "sent",
                    "expires",
                    "invited by",
                ]);
                for i in items(&r.body) {
                    t.add_row(vec![
                        text(i, "user_id"),
                        text(i, "email"),
                        text(i, "status"),
                        time(&i["sent_at"]),
                        time(&i["expires_at"]),
                        text(i, "invited_by"),
                    ]);
                }
                println!("{t}");
                println!(
                    "page {} ({} per page), {} in total",
                    text(&r.body, "page"),
                    text(&r.body, "per_page"),
                    text(&r.body, "total")
                );
            }
        }
        InvitationsCommand::Resend { user } => {
            let r = c
                .org_call(Method::POST, &["users", &user, "invitation"], &[], None)
                .await?;
            if !c.print_json(&r.body) {
                println!("Sent a new invitation to {}.", text(&r.body, "email"));
                print_invitation(&r.body);
            }
        }
        InvitationsCommand::Withdraw { user } => {
            c.org_call(Method::DELETE, &["users", &user, "invitation"], &[], None)
                .await?;
            c.done(&format!(
                "Withdrew the invitation of user {user}; they stay invited, without access."
            ));
        }
        InvitationsCommand::Accept { invitation } => {
            let token = mailed_token(invitation, "invitation token")?;
            let password = new_password("New password")?;
            c.org_call(
                Method::POST,
                &["invitations", "accept"],
                &[],
                Some(json!({ "token": token, "password": password })),
            )
            .await?;
            c.done("Invitation accepted: the account is active; sign in with `rolecall login`.");
        }
    }
    Ok(0)
}

fn print_invitation(i: &Value) {
    println!(
        "{}",
        details(vec![
            ("user id", text(i, "user_id")),
            ("email", text(i, "email")),
            ("status", text(i, "status")),
            ("sent", time(&i["sent_at"])),
            ("expires", time(&i["expires_at"])),
            ("invited by", text(i, "invited_by")),
        ])
    );
}
