//! `rolecall settings`: the organization's security settings, shown and changed field by field
//! (read, change, write back with If-Match).

use super::client::{usage, Client, CmdResult, Exit};
use super::output::{details, text_of};
use clap::{Args, Subcommand};
use reqwest::Method;
use serde_json::Value;

#[derive(Debug, Subcommand)]
pub enum SettingsCommand {
    /// Show the security settings.
    Show,
    /// Change some security settings; the others are kept.
    Set(SettingsChanges),
}

/// The settings `settings set` may change; each is left alone when absent.
#[derive(Debug, Args)]
pub struct SettingsChanges {
    /// Require two-factor authentication of every user.
    #[arg(long, value_name = "BOOL")]
    require_2fa: Option<bool>,
    /// End a session unused this long.
    #[arg(long, value_name = "SECS")]
    idle_timeout: Option<i64>,
    /// End a session this long after sign-in, whatever its use.
    #[arg(long, value_name = "SECS")]
    session_lifetime: Option<i64>,
    /// Let a user keep several sessions (off: a new sign-in ends the others).
    #[arg(long, value_name = "BOOL")]
    account_sharing: Option<bool>,
    /// Consecutive failed sign-ins before the account locks.
    #[arg(long, value_name = "N")]
    lockout_threshold: Option<i64>,
    /// How long a lock lasts.
    #[arg(long, value_name = "MINUTES")]
    lockout_minutes: Option<i64>,
    /// How long re-entering the password authorises sensitive changes.
    #[arg(long, value_name = "SECS")]
    reverify_window: Option<i64>,
    /// Fewest characters in a password.
    #[arg(long, value_name = "N")]
    password_min_length: Option<u32>,
    /// Most characters in a password.
    #[arg(long, value_name = "N")]
    password_max_length: Option<u32>,
    /// Refuse easily guessed passwords.
    #[arg(long, value_name = "BOOL")]
    password_reject_common: Option<bool>,
    /// How many of lower-case, upper-case, digit and symbol must appear (0 to 4).
    #[arg(long, value_name = "N")]
    password_required_classes: Option<u8>,
    /// Force a password change after this many days, or `never`.
    #[arg(long, value_name = "DAYS|never")]
    password_lifetime_days: Option<String>,
    /// How many previous passwords may not be reused (0: no check).
    #[arg(long, value_name = "N")]
    password_history: Option<u32>,
}

/// `key`/`value` rows of an object, nested objects as `outer.inner`.
fn flatten(prefix: &str, v: &Value, out: &mut Vec<(String, String)>) {
    for (k, v) in v.as_object().into_iter().flatten() {
        let key = if prefix.is_empty() {
            k.clone()
        } else {
            format!("{prefix}.{k}")
        };
        if v.is_object() {
            flatten(&key, v, out);
        } else if v.is_null() {
            out.push((key, "(none)".into()));
        } else {
            out.push((key, text_of(v)));
        }
    }
}

fn print_settings(s: &Value) {
    let mut rows = Vec::new();
    flatten("", s, &mut rows);
    println!(
        "{}",
        details(rows.iter().map(|(k, v)| (k.as_str(), v.clone())).collect())
    );
}

impl SettingsChanges {
    /// The changes as (path, value) pairs into the settings object.
    fn changes(self) -> CmdResult<Vec<(&'static [&'static str], Value)>> {
        let mut out: Vec<(&'static [&'static str], Value)> = Vec::new();
        let mut put = |path: &'static [&'static str], v: Option<Value>| {
            if let Some(v) = v {
                out.push((path, v));
            }
        };
        put(&["require_2fa"], self.require_2fa.map(Value::from));
        put(&["idle_timeout_secs"], self.idle_timeout.map(Value::from));
        put(
            &["session_lifetime_secs"],
            self.session_lifetime.map(Value::from),
        );
        put(&["account_sharing"], self.account_sharing.map(Value::from));
        put(
            &["lockout_threshold"],
            self.lockout_threshold.map(Value::from),
        );
        put(&["lockout_minutes"], self.lockout_minutes.map(Value::from));
        put(
            &["reverify_window_secs"],
            self.reverify_window.map(Value::from),
        );
        put(
            &["password_policy", "min_length"],
            self.password_min_length.map(Value::from),
        );
        put(
            &["password_policy", "max_length"],
            self.password_max_length.map(Value::from),
        );
        put(
            &["password_policy", "reject_common"],
            self.password_reject_common.map(Value::from),
        );
        put(
            &["password_policy", "required_classes"],
            self.password_required_classes.map(Value::from),
        );
        put(
            &["password_policy", "history"],
            self.password_history.map(Value::from),
        );
        if let Some(raw) = self.password_lifetime_days {
            let v = match raw.trim() {
                "never" | "none" => Value::Null,
                days => days.parse::<u32>().map(Value::from).map_err(|_| {
                    usage(&format!(
                        "--password-lifetime-days {raw:?} must be a number of days or `never`"
                    ))
                })?,
            };
            out.push((&["password_policy", "lifetime_days"], v));
        }
        Ok(out)
    }
}

pub(super) async fn run(c: &Client, cmd: SettingsCommand) -> CmdResult {
    match cmd {
        SettingsCommand::Show => {
            let r = c.org_call(Method::GET, &["settings"], &[], None).await?;
            if !c.print_json(&r.body) {
                print_settings(&r.body);
            }
        }
        SettingsCommand::Set(changes) => {
            let changes = changes.changes()?;
            if changes.is_empty() {
                return Err(usage(
                    "nothing to change: give at least one setting (see `rolecall settings set --help`)",
                ));
            }
            // Read, change, write back whole; If-Match refuses the write if someone else
            // changed the settings in between.
            let current = c.org_call(Method::GET, &["settings"], &[], None).await?;
            let mut body = current.body;
            if !body.is_object() {
                eprintln!("rolecall: the server answered settings that are not an object");
                return Err(Exit(1));
            }
            for (path, value) in changes {
                let mut node = &mut body;
                for key in &path[..path.len() - 1] {
                    node = &mut node[*key];
                }
                node[path[path.len() - 1]] = value;
            }
            let r = c
                .org_call_if_match(
                    Method::PUT,
                    &["settings"],
                    Some(body),
                    current.etag.as_deref(),
                )
                .await?;
            if !c.print_json(&r.body) {
                println!("Settings saved.");
                print_settings(&r.body);
            }
        }
    }
    Ok(0)
}
