//! The connection every remote command shares: where and as whom to connect (flags, the
//! environment, or the profile `rolecall login` saved), the HTTP calls below `/api/v1`, and how
//! a refusal is reported on stderr and becomes the exit code.
//!
//! Exit codes: 0 done (or `check` allowed), 1 error, 2 authentication or permission refused,
//! 3 `check` denied.

use super::output::{text, text_of};
use super::prompt::{prompt_hidden, stdin_line};
use super::saved_profiles::{self, Profiles};
use clap::Args;
use reqwest::{Method, StatusCode, Url};
use serde_json::{json, Value};
use std::io::IsTerminal;
use std::path::PathBuf;
use std::time::Duration;

/// The server when neither `--url`, `ROLECALL_URL` nor the profile names one.
pub(super) const DEFAULT_URL: &str = "http://127.0.0.1:8080";
/// The organization when neither `--org`, `ROLECALL_ORG` nor the profile names one.
pub(super) const DEFAULT_ORG: &str = "default";

/// Where and as whom to connect; flattened into every remote command.
///
/// The options are `global` so they may follow the innermost subcommand
/// (`rolecall users list --json`); clap forbids required globals, so `run` checks the token.
/// Without `--token`, the token (and, unless given, the URL and organization) come from the
/// profile that `rolecall login` saved.
#[derive(Clone, Args)]
#[command(next_help_heading = "Connection")]
pub struct RemoteArgs {
    /// Base URL of the rolecall server [default: the profile's, else http://127.0.0.1:8080].
    #[arg(long, env = "ROLECALL_URL", global = true)]
    url: Option<String>,
    /// API or session token (sent as a bearer token, never printed); the profile's when absent.
    #[arg(long, env = "ROLECALL_TOKEN", hide_env_values = true, global = true)]
    pub(super) token: Option<String>,
    /// Organization slug or id [default: the profile's, else "default"].
    #[arg(long, env = "ROLECALL_ORG", global = true)]
    org: Option<String>,
    /// Profile saved by `rolecall login` to use when no token is given [default: "default"].
    #[arg(long, env = "ROLECALL_PROFILE", global = true)]
    pub(super) profile: Option<String>,
    /// Print the server's JSON response instead of a table.
    #[arg(long, global = true)]
    json: bool,
    /// Confirm your identity for sensitive changes: the password (ROLECALL_PASSWORD, else a
    /// prompt that does not echo, else the first line of standard input) is sent along with
    /// each change in X-Rolecall-Password. Needed by signed-in people some minutes after sign-in.
    #[arg(long, global = true)]
    reverify: bool,
}

/// Hand-written so that `{:?}` of a parsed command line cannot leak the token.
impl std::fmt::Debug for RemoteArgs {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RemoteArgs")
            .field("url", &self.url)
            .field("token", &self.token.as_ref().map(|_| "<redacted>"))
            .field("org", &self.org)
            .field("profile", &self.profile)
            .field("json", &self.json)
            .field("reverify", &self.reverify)
            .finish()
    }
}

/// A command finished early with this exit code; the message is already on stderr.
pub(crate) struct Exit(pub(crate) i32);

pub(crate) type CmdResult<T = i32> = std::result::Result<T, Exit>;

/// The profile named by `--profile`/`ROLECALL_PROFILE`, else `default`, checked.
pub(super) fn profile_name(given: Option<&str>) -> CmdResult<String> {
    let name = given
        .map(str::trim)
        .filter(|n| !n.is_empty())
        .unwrap_or(saved_profiles::DEFAULT_PROFILE);
    saved_profiles::check_name(name).map_err(|msg| {
        eprintln!("rolecall: {msg}");
        Exit(1)
    })?;
    Ok(name.to_string())
}

/// ` --profile NAME` for messages, empty for the default profile.
pub(super) fn profile_flag(name: &str) -> String {
    if name == saved_profiles::DEFAULT_PROFILE {
        String::new()
    } else {
        format!(" --profile {name}")
    }
}

/// The profiles file and its contents (none when it does not exist yet).
pub(super) fn load_profiles() -> CmdResult<(PathBuf, Profiles)> {
    let loaded = saved_profiles::path().and_then(|file| {
        let profiles = Profiles::load_from(&file)?;
        Ok((file, profiles))
    });
    loaded.map_err(|msg| {
        eprintln!("rolecall: {msg}");
        Exit(1)
    })
}

pub(super) fn save_profiles(file: &std::path::Path, profiles: &Profiles) -> CmdResult<()> {
    profiles.save_to(file).map_err(|msg| {
        eprintln!("rolecall: {msg}");
        Exit(1)
    })
}

/// 2 when the server refused the credentials or code (401, 403, 422), 1 otherwise.
pub(super) fn refusal_code(status: StatusCode) -> i32 {
    if matches!(
        status,
        StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN | StatusCode::UNPROCESSABLE_ENTITY
    ) {
        2
    } else {
        1
    }
}

/// The header that carries the acting person's password with a sensitive change.
const REVERIFY_HEADER: &str = "X-Rolecall-Password";

/// Whether `value` travels in an HTTP header unchanged as the server reads it: visible ASCII
/// and inner spaces (parsers trim the ends).
fn header_safe(value: &str) -> bool {
    value.bytes().all(|b| b == b' ' || b.is_ascii_graphic())
        && !value.starts_with(' ')
        && !value.ends_with(' ')
}

/// The password for `--reverify`: `ROLECALL_PASSWORD`, else a prompt without echo on a
/// terminal, else the first line of standard input.
fn reverify_password() -> CmdResult<String> {
    let password = if let Some(p) = std::env::var("ROLECALL_PASSWORD")
        .ok()
        .filter(|p| !p.is_empty())
    {
        p
    } else if std::io::stdin().is_terminal() {
        prompt_hidden("Your password (to confirm the change): ")?
    } else {
        stdin_line("the password for --reverify")?
    };
    if password.is_empty() {
        eprintln!("rolecall: the password for --reverify is empty");
        return Err(Exit(2));
    }
    Ok(password)
}

/// A successful response: the status (some commands say "added" vs "already there") and the
/// parsed body (`Null` when empty).
pub(crate) struct Reply {
    pub(crate) status: StatusCode,
    pub(crate) body: Value,
    /// The `ETag` header, for `If-Match` on the next write.
    pub(crate) etag: Option<String>,
}

pub(crate) struct Client {
    http: reqwest::Client,
    pub(super) base: Url,
    /// Absent only for `login`'s sign-in request.
    pub(super) token: Option<String>,
    pub(crate) org: String,
    pub(crate) json: bool,
    /// The password sent in `X-Rolecall-Password` with every change (`--reverify`).
    reverify: Option<String>,
    /// Whether `reverify` was already sent through `POST /me/reverify`.
    reverified: std::sync::atomic::AtomicBool,
    /// The profile the token was read from, to suggest signing in again when it has ended.
    pub(super) profile: Option<String>,
}

impl Client {
    /// Resolves the connection: `--token`/`ROLECALL_TOKEN` with `--url`/`--org` (or their
    /// defaults), else the profile's token with its URL and organization unless given.
    /// Mistakes are named plainly before any request. With `--reverify`, the password is read
    /// here, once.
    pub(crate) fn new(args: &RemoteArgs) -> CmdResult<Client> {
        let mut c = Client::resolve(args)?;
        if args.reverify {
            c.reverify = Some(reverify_password()?);
        }
        Ok(c)
    }

    fn resolve(args: &RemoteArgs) -> CmdResult<Client> {
        if let Some(token) = args.token.as_deref().map(str::trim) {
            if !token.is_empty() {
                let url = args.url.as_deref().unwrap_or(DEFAULT_URL);
                let org = args.org.as_deref().unwrap_or(DEFAULT_ORG);
                return Client::connect(url, org, Some(token.to_string()), args.json);
            }
        }
        let name = profile_name(args.profile.as_deref())?;
        let (file, profiles) = load_profiles()?;
        let Some(profile) = profiles.profiles.get(&name) else {
            eprintln!("rolecall: an API token is required: pass --token or set ROLECALL_TOKEN, or sign in with `rolecall login{}` (no profile {name:?} in {})", profile_flag(&name), file.display());
            return Err(Exit(2));
        };
        let Some(token) = profile.token.as_deref().filter(|t| !t.trim().is_empty()) else {
            eprintln!("rolecall: profile {name:?} is signed out: sign in with `rolecall login{}`, or pass --token or set ROLECALL_TOKEN", profile_flag(&name));
            return Err(Exit(2));
        };
        let url = args.url.as_deref().unwrap_or(&profile.url);
        let org = args.org.as_deref().unwrap_or(&profile.org);
        let mut c = Client::connect(url, org, Some(token.trim().to_string()), args.json)?;
        c.profile = Some(name);
        Ok(c)
    }

    /// A client without a token, for the endpoints that need none (health, password resets,
    /// accepting an invitation): the URL and organization from the flags, else the profile's,
    /// else the defaults. A profile that cannot be read is no reason to refuse.
    pub(crate) fn anonymous(args: &RemoteArgs) -> CmdResult<Client> {
        let saved = profile_name(args.profile.as_deref())
            .ok()
            .and_then(|name| load_profiles().ok()?.1.profiles.get(&name).cloned());
        let url = args
            .url
            .as_deref()
            .or(saved.as_ref().map(|p| p.url.as_str()))
            .filter(|u| !u.trim().is_empty())
            .unwrap_or(DEFAULT_URL);
        let org = args
            .org
            .as_deref()
            .or(saved.as_ref().map(|p| p.org.as_str()))
            .filter(|o| !o.trim().is_empty())
            .unwrap_or(DEFAULT_ORG);
        Client::connect(url, org, None, args.json)
    }

    /// A GET of `path` at the server's root (outside `/api/v1`, e.g. `/healthz`): the status
    /// and the body as text. Only failures to talk to the server are errors (reported here).
    pub(crate) async fn probe(&self, path: &str) -> CmdResult<(StatusCode, String)> {
        let url = self.url(&[path], &[]);
        let res = self.http.get(url.clone()).send().await.map_err(|e| {
            if e.is_connect() {
                eprintln!(
                    "rolecall: cannot connect to the server at {}: {} (is it running? set --url or ROLECALL_URL)",
                    self.base,
                    root_cause(&e)
                );
            } else {
                eprintln!("rolecall: request to {url} failed: {}", chain(&e));
            }
            Exit(1)
        })?;
        let status = res.status();
        let body = res.text().await.unwrap_or_default();
        Ok((status, body))
    }

    pub(super) fn connect(
        url: &str,
        org: &str,
        token: Option<String>,
        json: bool,
    ) -> CmdResult<Client> {
        let base = match Url::parse(url.trim()) {
            Ok(u) if matches!(u.scheme(), "http" | "https") && !u.cannot_be_a_base() => u,
            Ok(_) => {
                eprintln!("rolecall: --url {url:?} must be an http:// or https:// URL");
                return Err(Exit(1));
            }
            Err(e) => {
                eprintln!("rolecall: --url {url:?} is not a valid URL: {e}");
                return Err(Exit(1));
            }
        };
        let http = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(10))
            .timeout(Duration::from_secs(60))
            .user_agent(concat!("rolecall-cli/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| {
                eprintln!("rolecall: cannot set up the HTTP client: {}", chain(&e));
                Exit(1)
            })?;
        Ok(Client {
            http,
            base,
            token,
            org: org.to_string(),
            json,
            reverify: None,
            reverified: Default::default(),
            profile: None,
        })
    }

    /// The URL of `segments` below the base, each segment percent-encoded (ids and keys are
    /// user input), with the query parameters that are set.
    fn url(&self, segments: &[&str], query: &[(&str, Option<String>)]) -> Url {
        let mut url = self.base.clone();
        if let Ok(mut path) = url.path_segments_mut() {
            path.pop_if_empty().extend(segments);
        }
        url.set_query(None);
        let set: Vec<_> = query
            .iter()
            .filter_map(|(k, v)| v.as_deref().map(|v| (*k, v)))
            .collect();
        if !set.is_empty() {
            url.query_pairs_mut().extend_pairs(set);
        }
        url
    }

    /// A request below `/api/v1/organizations/{org}/`.
    pub(crate) async fn org_call(
        &self,
        method: Method,
        path: &[&str],
        query: &[(&str, Option<String>)],
        body: Option<Value>,
    ) -> CmdResult<Reply> {
        let mut segments = vec!["organizations", self.org.as_str()];
        segments.extend_from_slice(path);
        self.call(method, &segments, query, body).await
    }

    /// A request below `/api/v1/`. Failures are reported on stderr here, once, and become the
    /// exit code: 2 for 401/403, 1 otherwise.
    pub(crate) async fn call(
        &self,
        method: Method,
        path: &[&str],
        query: &[(&str, Option<String>)],
        body: Option<Value>,
    ) -> CmdResult<Reply> {
        let r = self.request(method, path, query, body).await?;
        if r.status.is_success() {
            return Ok(r);
        }
        let code = if matches!(r.status, StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN) {
            2
        } else {
            1
        };
        Err(self.fail(&r, code))
    }

    /// A request below `/api/v1/` that answers whatever status the server gave; only failures
    /// to talk to the server (reported here) are errors. An empty body is `Null`.
    pub(crate) async fn request(
        &self,
        method: Method,
        path: &[&str],
        query: &[(&str, Option<String>)],
        body: Option<Value>,
    ) -> CmdResult<Reply> {
        self.request_if_match(method, path, query, body, None).await
    }

    /// As [`Client::request`], with `If-Match: if_match` when given. Changes (anything but
    /// GET) carry the `--reverify` password.
    pub(crate) async fn request_if_match(
        &self,
        method: Method,
        path: &[&str],
        query: &[(&str, Option<String>)],
        body: Option<Value>,
        if_match: Option<&str>,
    ) -> CmdResult<Reply> {
        let change = method != Method::GET;
        let mut segments = vec!["api", "v1"];
        segments.extend_from_slice(path);
        let url = self.url(&segments, query);
        let mut req = self
            .http
            .request(method, url.clone())
            .header(reqwest::header::ACCEPT, "application/json");
        if let Some(token) = &self.token {
            req = req.bearer_auth(token);
        }
        if let (true, Some(password)) = (change, &self.reverify) {
            if header_safe(password) {
                req = req.header(REVERIFY_HEADER, password);
            } else {
                // Headers carry visible ASCII only: re-verify through the body instead.
                self.reverify_by_body(password).await?;
            }
        }
        if let Some(v) = if_match {
            req = req.header(reqwest::header::IF_MATCH, v);
        }
        if let Some(b) = body {
            req = req.json(&b);
        }
        let res = req.send().await.map_err(|e| {
            if e.is_connect() {
                eprintln!(
                    "rolecall: cannot connect to the server at {}: {} (is it running? set --url or ROLECALL_URL)",
                    self.base,
                    root_cause(&e)
                );
            } else if e.is_timeout() {
                eprintln!("rolecall: the server at {} did not answer in time", self.base);
            } else {
                eprintln!("rolecall: request to {url} failed: {}", chain(&e));
            }
            Exit(1)
        })?;
        let status = res.status();
        let etag = res
            .headers()
            .get(reqwest::header::ETAG)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string);
        let raw = res.text().await.map_err(|e| {
            eprintln!(
                "rolecall: reading the answer from {url} failed: {}",
                chain(&e)
            );
            Exit(1)
        })?;
        let parsed = if raw.trim().is_empty() {
            Ok(Value::Null)
        } else {
            serde_json::from_str::<Value>(&raw)
        };
        match parsed {
            Ok(body) => Ok(Reply { status, body, etag }),
            Err(_) if status.is_success() => {
                eprintln!("rolecall: the server at {} answered {status} with a body that is not JSON; is --url pointing at rolecall?", self.base);
                Err(Exit(1))
            }
            Err(_) => Ok(Reply {
                status,
                body: Value::Null,
                etag,
            }),
        }
    }

    /// `POST /me/reverify` with `password`, once per command, for passwords that cannot
    /// travel in a header. Not a `request`, which would recurse.
    async fn reverify_by_body(&self, password: &str) -> CmdResult<()> {
        if self
            .reverified
            .swap(true, std::sync::atomic::Ordering::SeqCst)
        {
            return Ok(());
        }
        let url = self.url(&["api", "v1", "me", "reverify"], &[]);
        let mut req = self
            .http
            .post(url)
            .header(reqwest::header::ACCEPT, "application/json")
            .json(&json!({ "password": password }));
        if let Some(token) = &self.token {
            req = req.bearer_auth(token);
        }
        let res = req.send().await.map_err(|e| {
            eprintln!(
                "rolecall: confirming your password with {} failed: {}",
                self.base,
                chain(&e)
            );
            Exit(1)
        })?;
        let status = res.status();
        if status.is_success() {
            return Ok(());
        }
        let body = res.json::<Value>().await.unwrap_or(Value::Null);
        let r = Reply {
            status,
            body,
            etag: None,
        };
        Err(self.fail(&r, refusal_code(status)))
    }

    /// Reports a failed reply on stderr (the server's problem detail when it sent one) and
    /// returns `code` as the exit.
    /// A GET below `/api/v1/organizations/{org}/` whose body is copied to `out` as it arrives
    /// (exports of any size); answers the response headers. Failures are reported as by
    /// [`Client::call`].
    pub(crate) async fn download(
        &self,
        path: &[&str],
        query: &[(&str, Option<String>)],
        out: &mut dyn std::io::Write,
    ) -> CmdResult<reqwest::header::HeaderMap> {
        let mut segments = vec!["api", "v1", "organizations", self.org.as_str()];
        segments.extend_from_slice(path);
        let url = self.url(&segments, query);
        let mut req = self.http.get(url.clone());
        if let Some(token) = &self.token {
            req = req.bearer_auth(token);
        }
        let mut res = req.send().await.map_err(|e| {
            eprintln!("rolecall: request to {url} failed: {}", chain(&e));
            Exit(1)
        })?;
        let status = res.status();
        if !status.is_success() {
            let body = res.json::<Value>().await.unwrap_or(Value::Null);
            let r = Reply {
                status,
                body,
                etag: None,
            };
            let code = if matches!(status, StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN) {
                2
            } else {
                1
            };
            return Err(self.fail(&r, code));
        }
        let headers = res.headers().clone();
        let write_failed = |e: std::io::Error| {
            eprintln!("rolecall: writing the export failed: {e}");
            Exit(1)
        };
        loop {
            match res.chunk().await {
                Ok(Some(bytes)) => out.write_all(&bytes).map_err(write_failed)?,
                Ok(None) => break,
                Err(e) => {
                    eprintln!("rolecall: the export from {url} broke off: {}", chain(&e));
                    return Err(Exit(1));
                }
            }
        }
        out.flush().map_err(write_failed)?;
        Ok(headers)
    }

    /// Streams `file` as a `text/csv` body to `path` below the organisation (bulk imports),
    /// advancing `bar` by the bytes sent: the server applies rows as they arrive, so the bar
    /// follows the import. Carries the `--reverify` password; no overall timeout (a large
    /// import takes minutes), only the connect timeout.
    pub(crate) async fn upload_csv(
        &self,
        path: &[&str],
        query: &[(&str, Option<String>)],
        file: tokio::fs::File,
        bar: indicatif::ProgressBar,
    ) -> CmdResult<Reply> {
        use tokio::io::AsyncReadExt;
        let mut segments = vec!["api", "v1", "organizations", self.org.as_str()];
        segments.extend_from_slice(path);
        let url = self.url(&segments, query);
        let progress = bar.clone();
        let chunks = futures_util::stream::unfold(file, move |mut f| {
            let progress = progress.clone();
            async move {
                let mut buf = vec![0u8; 64 * 1024];
                match f.read(&mut buf).await {
                    Ok(0) => None,
                    Ok(n) => {
                        buf.truncate(n);
                        progress.inc(n as u64);
                        Some((Ok::<_, std::io::Error>(buf), f))
                    }
                    Err(e) => Some((Err(e), f)),
                }
            }
        });
        let mut req = self
            .http
            .post(url.clone())
            .timeout(Duration::from_secs(24 * 3600))
            .header(reqwest::header::CONTENT_TYPE, "text/csv")
            .header(reqwest::header::ACCEPT, "application/json")
            .body(reqwest::Body::wrap_stream(chunks));
        if let Some(token) = &self.token {
            req = req.bearer_auth(token);
        }
        if let Some(password) = &self.reverify {
            if header_safe(password) {
                req = req.header(REVERIFY_HEADER, password);
            } else {
                self.reverify_by_body(password).await?;
            }
        }
        let res = req.send().await.map_err(|e| {
            bar.abandon();
            eprintln!("rolecall: uploading to {url} failed: {}", chain(&e));
            Exit(1)
        })?;
        bar.finish_and_clear();
        let status = res.status();
        let body = res.json::<Value>().await.unwrap_or(Value::Null);
        let r = Reply {
            status,
            body,
            etag: None,
        };
        if status.is_success() {
            return Ok(r);
        }
        let code = if matches!(status, StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN) {
            2
        } else {
            1
        };
        Err(self.fail(&r, code))
    }

    pub(crate) fn fail(&self, r: &Reply, code: i32) -> Exit {
        let problem = text(&r.body, "code");
        if r.body.get("detail").is_some() {
            let detail = text_of(&r.body["detail"]);
            if problem.is_empty() {
                eprintln!("rolecall: {detail}");
            } else {
                eprintln!("rolecall: {detail} ({problem})");
            }
            for e in r.body["errors"].as_array().into_iter().flatten() {
                eprintln!("  {}: {}", text(e, "field"), text(e, "message"));
            }
        } else {
            eprintln!(
                "rolecall: the server at {} answered {}",
                self.base, r.status
            );
        }
        if r.status == StatusCode::UNAUTHORIZED {
            if let Some(name) = &self.profile {
                eprintln!("rolecall: the session saved in profile {name:?} has ended: sign in again with `rolecall login{}`", profile_flag(name));
            }
        }
        if problem == "reverification_required" {
            eprintln!("rolecall: this change needs your password: run the command again with --reverify (the password comes from ROLECALL_PASSWORD, else a prompt)");
        }
        Exit(code)
    }

    /// A GET below `/api/v1/` whose failure, of any kind, is not reported: for lookups that
    /// only improve a command (the caller falls back when it gets `None`).
    pub(super) async fn get_quietly(&self, segments: &[&str]) -> Option<Value> {
        let mut path = vec!["api", "v1"];
        path.extend_from_slice(segments);
        let url = self.url(&path, &[]);
        let mut req = self.http.get(url);
        if let Some(token) = &self.token {
            req = req.bearer_auth(token);
        }
        let res = req.send().await.ok()?;
        if !res.status().is_success() {
            return None;
        }
        res.json::<Value>().await.ok()
    }

    /// With `--json`, prints the body and returns true; the caller prints a table otherwise.
    pub(crate) fn print_json(&self, body: &Value) -> bool {
        if self.json && !body.is_null() {
            println!(
                "{}",
                serde_json::to_string_pretty(body).unwrap_or_else(|_| body.to_string())
            );
        }
        self.json
    }

    /// POSTs to an association endpoint (membership, assignment, seat) and says whether the link
    /// is new (201) or was already there (200).
    pub(crate) async fn link(
        &self,
        path: &[&str],
        body: Value,
        added: String,
        existed: String,
    ) -> CmdResult<()> {
        let r = self.org_call(Method::POST, path, &[], Some(body)).await?;
        self.done(if r.status == StatusCode::CREATED {
            &added
        } else {
            &existed
        });
        Ok(())
    }

    /// POSTs many users to a `…/batch` association endpoint (all or none are added) and prints
    /// what happened to each: `added` or `already_there`, then the totals.
    pub(crate) async fn link_many(
        &self,
        path: &[&str],
        users: &[String],
        what: &str,
    ) -> CmdResult<()> {
        let r = self
            .org_call(Method::POST, path, &[], Some(json!({ "user_ids": users })))
            .await?;
        if !self.print_json(&r.body) {
            for item in r.body["items"].as_array().into_iter().flatten() {
                println!("{}\t{}", text(item, "user_id"), text(item, "outcome"));
            }
            println!(
                "{} user(s) {what}, {} already there.",
                text(&r.body, "added"),
                text(&r.body, "already_there")
            );
        }
        Ok(())
    }

    /// Confirms a change that has no response body (nothing is printed with `--json`).
    pub(crate) fn done(&self, message: &str) {
        if !self.json {
            println!("{message}");
        }
    }
}

impl Client {
    /// A change below the organization with `If-Match` (when an ETag is known); failures are
    /// reported and become the exit code as with [`Client::org_call`].
    pub(super) async fn org_call_if_match(
        &self,
        method: Method,
        path: &[&str],
        body: Option<Value>,
        if_match: Option<&str>,
    ) -> CmdResult<Reply> {
        let mut segments = vec!["organizations", self.org.as_str()];
        segments.extend_from_slice(path);
        let r = self
            .request_if_match(method, &segments, &[], body, if_match)
            .await?;
        if r.status.is_success() {
            return Ok(r);
        }
        let code = if matches!(r.status, StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN) {
            2
        } else {
            1
        };
        Err(self.fail(&r, code))
    }

    /// A GET below the organization whose failure is nobody's business (a courtesy lookup).
    pub(super) async fn org_call_quiet(&self, path: &[&str]) -> Option<Value> {
        let mut segments = vec!["organizations", self.org.as_str()];
        segments.extend_from_slice(path);
        let r = self.request(Method::GET, &segments, &[], None).await.ok()?;
        r.status.is_success().then_some(r.body)
    }
}

pub(super) fn usage(message: &str) -> Exit {
    eprintln!("rolecall: {message}");
    Exit(1)
}

/// The innermost error, which says what actually went wrong ("Connection refused").
fn root_cause(e: &(dyn std::error::Error + 'static)) -> String {
    let mut cur = e;
    while let Some(next) = cur.source() {
        cur = next;
    }
    cur.to_string()
}

/// The error and its sources joined, since reqwest's top-level message omits the cause.
fn chain(e: &(dyn std::error::Error + 'static)) -> String {
    let mut out = e.to_string();
    let mut cur = e.source();
    while let Some(s) = cur {
        out.push_str(": ");
        out.push_str(&s.to_string());
        cur = s.source();
    }
    out
}
