//! Signing in from the command line: `rolecall login` (password, second factor, two-factor
//! enrolment, an expired password) saving the session in a profile, `logout` and `whoami`.

use super::client::{
    load_profiles, profile_name, refusal_code, save_profiles, Client, CmdResult, Exit, RemoteArgs,
    DEFAULT_ORG, DEFAULT_URL,
};
use super::instant::time;
use super::output::{admin_right, details, full_name, or_none, text, text_of};
use super::prompt::{prompt_hidden, prompt_line, stdin_line};
use super::saved_profiles::Profile;
use clap::Args;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use std::io::IsTerminal;

/// `rolecall login`: where to sign in, as whom, and the profile to save the session in.
#[derive(Clone, Args)]
pub struct LoginArgs {
    /// Profile to save the session in [default: "default"].
    #[arg(long, env = "ROLECALL_PROFILE")]
    profile: Option<String>,
    /// Base URL of the rolecall server [default: the profile's, else http://127.0.0.1:8080].
    #[arg(long, env = "ROLECALL_URL")]
    url: Option<String>,
    /// Organization slug or id [default: the profile's, else "default"].
    #[arg(long, env = "ROLECALL_ORG")]
    org: Option<String>,
    /// Username or e-mail.
    #[arg(long, value_name = "USER")]
    login: String,
    /// Read the password from the first line of standard input. Otherwise it comes from
    /// ROLECALL_PASSWORD, else a prompt that does not echo.
    #[arg(long)]
    password_stdin: bool,
    /// Code from the authenticator app, when the account has two-factor authentication
    /// (asked for when absent).
    #[arg(long, value_name = "CODE", conflicts_with = "recovery_code")]
    code: Option<String>,
    /// One of the single-use recovery codes, instead of --code.
    #[arg(long, value_name = "CODE")]
    recovery_code: Option<String>,
    /// If the password has expired, read the new one from the next line of standard input
    /// (otherwise it is asked for on the terminal).
    #[arg(long)]
    new_password_stdin: bool,
}

/// Hand-written so that `{:?}` cannot leak a recovery code.
impl std::fmt::Debug for LoginArgs {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LoginArgs")
            .field("profile", &self.profile)
            .field("url", &self.url)
            .field("org", &self.org)
            .field("login", &self.login)
            .field("password_stdin", &self.password_stdin)
            .field("code", &self.code.as_ref().map(|_| "<redacted>"))
            .field(
                "recovery_code",
                &self.recovery_code.as_ref().map(|_| "<redacted>"),
            )
            .field("new_password_stdin", &self.new_password_stdin)
            .finish()
    }
}

/// The password: `--password-stdin`, else `ROLECALL_PASSWORD`, else a prompt without echo on
/// a terminal, else the first line of standard input.
fn read_password(args: &LoginArgs) -> CmdResult<String> {
    let password = if args.password_stdin {
        stdin_line("the password")?
    } else if let Some(p) = std::env::var("ROLECALL_PASSWORD")
        .ok()
        .filter(|p| !p.is_empty())
    {
        p
    } else if std::io::stdin().is_terminal() {
        prompt_hidden(&format!("Password for {}: ", args.login))?
    } else {
        stdin_line("the password")?
    };
    if password.is_empty() {
        eprintln!("rolecall: the password is empty");
        return Err(Exit(2));
    }
    Ok(password)
}

/// `rolecall login`: signs in, goes through whatever the session still needs (a second
/// factor, two-factor enrolment, a new password) and saves the full session in the profile.
pub(super) async fn login(args: LoginArgs) -> CmdResult {
    let name = profile_name(args.profile.as_deref())?;
    let (file, mut profiles) = load_profiles()?;
    let saved = profiles.profiles.get(&name).cloned().unwrap_or_default();
    let pick = |given: &Option<String>, saved: &str, default: &str| {
        given
            .as_deref()
            .map(str::trim)
            .filter(|v| !v.is_empty())
            .or(Some(saved).filter(|v| !v.is_empty()))
            .unwrap_or(default)
            .to_string()
    };
    let url = pick(&args.url, &saved.url, DEFAULT_URL);
    let org = pick(&args.org, &saved.org, DEFAULT_ORG);
    let mut c = Client::connect(&url, &org, None, false)?;
    let login = args.login.trim();
    if login.is_empty() {
        eprintln!("rolecall: --login must name a username or e-mail");
        return Err(Exit(1));
    }
    let password = read_password(&args)?;
    let r = c
        .request(
            Method::POST,
            &["organizations", &org, "sign-in"],
            &[],
            Some(json!({ "login": login, "password": password })),
        )
        .await?;
    if !r.status.is_success() {
        let exit = c.fail(&r, refusal_code(r.status));
        if r.status == StatusCode::UNAUTHORIZED {
            eprintln!(
                "rolecall: sign-in to organization {org:?} at {} was refused",
                c.base
            );
        }
        return Err(exit);
    }
    let token = text(&r.body, "token");
    if token.is_empty() {
        eprintln!(
            "rolecall: the server at {} answered the sign-in without a session token",
            c.base
        );
        return Err(Exit(1));
    }
    c.token = Some(token.clone());
    let stage = text(&r.body, "stage");
    let me = match complete_sign_in(&c, &args, &password, stage).await {
        Ok(me) => me,
        Err(exit) => {
            // Do not leave a half-signed-in session behind.
            let _ = c.request(Method::POST, &["sign-out"], &[], None).await;
            return Err(exit);
        }
    };
    let previous = profiles.profiles.insert(
        name.clone(),
        Profile {
            url: c.base.to_string(),
            org: org.clone(),
            token: Some(token.clone()),
        },
    );
    save_profiles(&file, &profiles)?;
    // The profile's earlier session is no longer reachable: end it (best effort).
    if let Some(old) = previous.filter(|p| p.token.as_deref().is_some_and(|t| t != token)) {
        if let Ok(old_client) = Client::connect(&old.url, &old.org, old.token, false) {
            let _ = old_client
                .request(Method::POST, &["sign-out"], &[], None)
                .await;
        }
    }
    let user = &me["user"];
    println!(
        "Signed in to {} as {} (organization {org}); session saved in profile {name:?} ({}).",
        c.base,
        text(user, "username"),
        file.display()
    );
    Ok(0)
}

/// Takes a session from `stage` to `full`; returns `GET /me` of the full session.
async fn complete_sign_in(
    c: &Client,
    args: &LoginArgs,
    password: &str,
    mut stage: String,
) -> CmdResult<Value> {
    // Each step moves the session on (password, then enrolment or code); a few rounds suffice.
    for _ in 0..4 {
        match stage.as_str() {
            "full" => {}
            "totp" => second_factor(c, args).await?,
            "enrol" => enrol_totp(c, args).await?,
            "password" => change_expired_password(c, args, password).await?,
            other => {
                eprintln!("rolecall: the server answered an unknown sign-in stage {other:?}; is this CLI older than the server?");
                return Err(Exit(1));
            }
        }
        let me = c.call(Method::GET, &["me"], &[], None).await?;
        stage = text(&me.body["session"], "stage");
        if stage == "full" {
            return Ok(me.body);
        }
    }
    eprintln!("rolecall: sign-in did not complete (the session is still at stage {stage:?})");
    Err(Exit(2))
}

async fn second_factor(c: &Client, args: &LoginArgs) -> CmdResult<()> {
    let body = match (&args.recovery_code, &args.code) {
        (Some(rc), _) => json!({ "recovery_code": rc.trim() }),
        (None, Some(code)) => json!({ "code": code.trim() }),
        (None, None) => {
            let code = prompt_line(
                "Code from your authenticator app: ",
                "the authentication code",
            )?;
            json!({ "code": code })
        }
    };
    let r = c
        .request(Method::POST, &["me", "second-factor"], &[], Some(body))
        .await?;
    if !r.status.is_success() {
        return Err(c.fail(&r, refusal_code(r.status)));
    }
    Ok(())
}

/// First sign-in where two-factor authentication is required: shows the new secret, takes a
/// first code and shows the recovery codes, once.
async fn enrol_totp(c: &Client, args: &LoginArgs) -> CmdResult<()> {
    let e = c
        .call(Method::POST, &["me", "totp", "enrolment"], &[], None)
        .await?;
    println!("Two-factor authentication is required: add this account to your authenticator app.");
    println!("  otpauth URI: {}", text(&e.body, "otpauth_uri"));
    println!("  secret:      {}", text(&e.body, "secret"));
    if args.code.is_some() || args.recovery_code.is_some() {
        eprintln!("rolecall: note: --code and --recovery-code do not apply here: the secret above is new, so enter its first code now");
    }
    let code = prompt_line(
        "Code from your authenticator app: ",
        "the first authentication code",
    )?;
    let r = c
        .request(
            Method::POST,
            &["me", "totp", "confirm"],
            &[],
            Some(json!({ "code": code })),
        )
        .await?;
    if !r.status.is_success() {
        return Err(c.fail(&r, refusal_code(r.status)));
    }
    println!("Two-factor authentication is set up. Recovery codes, shown this once: keep them somewhere safe; each works once instead of a code:");
    for code in r.body["recovery_codes"].as_array().into_iter().flatten() {
        println!("  {}", text_of(code));
    }
    Ok(())
}

async fn change_expired_password(c: &Client, args: &LoginArgs, current: &str) -> CmdResult<()> {
    eprintln!(
        "rolecall: the password of {} has expired and must be changed.",
        args.login.trim()
    );
    let new = if args.new_password_stdin {
        stdin_line("the new password")?
    } else if std::io::stdin().is_terminal() {
        let first = prompt_hidden("New password: ")?;
        let again = prompt_hidden("New password again: ")?;
        if first != again {
            eprintln!("rolecall: the two new passwords differ; nothing was changed");
            return Err(Exit(1));
        }
        first
    } else {
        eprintln!("rolecall: run `rolecall login` on a terminal to change it, or pass --new-password-stdin with the new password on the next line of standard input");
        return Err(Exit(2));
    };
    let r = c
        .request(
            Method::POST,
            &["me", "password"],
            &[],
            Some(json!({ "current_password": current, "new_password": new })),
        )
        .await?;
    if !r.status.is_success() {
        let code = if r.status == StatusCode::UNPROCESSABLE_ENTITY {
            1
        } else {
            refusal_code(r.status)
        };
        return Err(c.fail(&r, code));
    }
    eprintln!("rolecall: password changed.");
    Ok(())
}

/// `rolecall logout`: ends the session on the server; forgets the profile's token (keeping
/// its URL and organization for the next `login`).
pub(super) async fn logout(remote: &RemoteArgs) -> CmdResult {
    let explicit = remote
        .token
        .as_deref()
        .is_some_and(|t| !t.trim().is_empty());
    let c = if explicit {
        Client::new(remote)?
    } else {
        let name = profile_name(remote.profile.as_deref())?;
        let (_, profiles) = load_profiles()?;
        if profiles
            .profiles
            .get(&name)
            .and_then(|p| p.token.as_ref())
            .is_none()
        {
            println!("Profile {name:?} is not signed in.");
            return Ok(0);
        }
        Client::new(remote)?
    };
    let ended = c.request(Method::POST, &["sign-out"], &[], None).await;
    if let Some(name) = &c.profile {
        // Forget the token whatever the server said: it must not be used again.
        let (file, mut profiles) = load_profiles()?;
        if let Some(p) = profiles.profiles.get_mut(name) {
            p.token = None;
        }
        save_profiles(&file, &profiles)?;
    }
    let r = ended?;
    let whose = c
        .profile
        .as_ref()
        .map(|n| format!(" of profile {n:?}"))
        .unwrap_or_default();
    if r.status.is_success() {
        println!("Signed out{whose}.");
        Ok(0)
    } else if r.status == StatusCode::UNAUTHORIZED {
        println!("The session{whose} had already ended.");
        Ok(0)
    } else {
        Err(c.fail(&r, 1))
    }
}

/// `rolecall whoami`: the user, session and admin rights behind the token.
pub(super) async fn whoami(remote: &RemoteArgs) -> CmdResult {
    let c = Client::new(remote)?;
    let r = c.call(Method::GET, &["me"], &[], None).await?;
    if !c.print_json(&r.body) {
        let (u, s) = (&r.body["user"], &r.body["session"]);
        let rights = r.body["admin_rights"]
            .as_array()
            .into_iter()
            .flatten()
            .map(admin_right)
            .collect::<Vec<_>>()
            .join(", ");
        let mut rows = vec![
            ("username", text(u, "username")),
            ("email", text(u, "email")),
            ("name", full_name(u)),
            ("id", text(u, "id")),
            ("organization", c.org.clone()),
            ("server", c.base.to_string()),
        ];
        if let Some(name) = &c.profile {
            rows.push(("profile", name.clone()));
        }
        rows.push(("session expires", time(&s["expires_at"])));
        rows.push(("admin rights", or_none(rights)));
        println!("{}", details(rows));
    }
    Ok(0)
}
