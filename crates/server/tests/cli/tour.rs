//! The README's five-minute tour, run as written (issue 10: a newcomer following it literally hit
//! a duplicate user, a whoami answered by the wrong token and a stage that was not the one
//! shown). The test starts `rolecall serve --demo` as a newcomer would, fills in the two values
//! it prints and its address, and runs every `sh` block of the tour in order in one bash
//! session (variables carry over, `set -euo pipefail`), with `curl`, `jq` and the built
//! `rolecall` on the PATH. A `# => …` line in a block is a promise about its output, checked.
//! The `console` block is the interactive sign-in: the test types what a person would type —
//! the password, then the code an authenticator app shows for the printed secret.

use super::command;
use std::io::{BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

const TOKEN_PLACEHOLDER: &str = "<the bootstrap token serve --demo printed>";
const PASSWORD_PLACEHOLDER: &str = "<the owner password serve --demo printed>";
const README_URL: &str = "http://127.0.0.1:8080";

/// `serve --demo`, killed when dropped.
struct Demo {
    child: Child,
    url: String,
    token: String,
    password: String,
}

impl Drop for Demo {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn after<'a>(line: &'a str, marker: &str) -> Option<&'a str> {
    line.find(marker).map(|i| &line[i + marker.len()..])
}

fn start_demo(data: &Path, cfg: &Path) -> Demo {
    let args: Vec<String> = [
        "serve",
        "--demo",
        "--data-dir",
        data.to_str().expect("utf-8 path"),
        "--listen",
        "127.0.0.1:0",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    let mut child = command(&[], &args, cfg)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("run rolecall serve --demo");
    let mut lines = BufReader::new(child.stdout.take().expect("stdout")).lines();
    let (mut token, mut password, mut url) = (None, None, None);
    let mut seen = String::new();
    for line in lines.by_ref() {
        let line = line.expect("stdout line");
        seen.push_str(&line);
        seen.push('\n');
        if let Some(t) = after(&line, "Bootstrap token (shown once, stored hashed): ") {
            token = Some(t.trim().to_string());
        }
        if let Some(rest) = after(&line, " with password ") {
            password = rest.split_whitespace().next().map(str::to_string);
        }
        if let Some(u) = after(&line, "rolecall listening on ") {
            url = Some(u.trim().to_string());
            break;
        }
    }
    let (Some(token), Some(password), Some(url)) = (token, password, url) else {
        panic!("serve --demo did not print a token, a password and its address:\n{seen}");
    };
    Demo {
        child,
        url,
        token,
        password,
    }
}

/// The tour's fenced blocks: (language, text), in order.
fn tour_blocks(readme: &str) -> Vec<(String, String)> {
    let start = readme
        .find("\n## Five-minute tour")
        .expect("README has the tour");
    let rest = &readme[start + 1..];
    let end = rest[3..].find("\n## ").map_or(rest.len(), |i| i + 3);
    let tour = &rest[..end];
    let mut blocks = Vec::new();
    let mut lines = tour.lines();
    while let Some(line) = lines.next() {
        if let Some(lang) = line.strip_prefix("```") {
            let mut body = String::new();
            for inner in lines.by_ref() {
                if inner.starts_with("```") {
                    break;
                }
                body.push_str(inner);
                body.push('\n');
            }
            blocks.push((lang.trim().to_string(), body));
        }
    }
    blocks
}

/// One bash session spread over several processes: the variables live in `state`.
struct Shell {
    state: PathBuf,
    path: String,
    cfg: PathBuf,
}

impl Shell {
    fn new(dir: &Path, cfg: &Path) -> Shell {
        let state = dir.join("tour.env");
        std::fs::write(&state, "").expect("state file");
        let bin = Path::new(env!("CARGO_BIN_EXE_rolecall"))
            .parent()
            .expect("bin dir")
            .to_path_buf();
        Shell {
            state,
            path: format!(
                "{}:{}",
                bin.display(),
                std::env::var("PATH").unwrap_or_default()
            ),
            cfg: cfg.to_path_buf(),
        }
    }

    fn bash(&self, script: &str) -> Command {
        let mut cmd = Command::new("bash");
        for (k, _) in std::env::vars() {
            if k.starts_with("ROLECALL_") {
                cmd.env_remove(k);
            }
        }
        cmd.env("PATH", &self.path)
            .env("ROLECALL_CONFIG_DIR", &self.cfg)
            .env("ROLECALL_LOG", "warn")
            .arg("-c")
            .arg(format!(
                "set -euo pipefail\nset -a\n. '{state}'\n{script}\nexport -p > '{state}'\n",
                state = self.state.display()
            ));
        cmd
    }

    /// Runs a block; fails the test with the output when it fails.
    fn run(&self, block: &str) -> String {
        let out = self
            .bash(block)
            .stdin(Stdio::null())
            .output()
            .expect("run bash");
        let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            out.status.success(),
            "the tour stops here:\n{block}\n--- stdout\n{stdout}\n--- stderr\n{stderr}"
        );
        stdout
    }

    fn unset(&self, var: &str) {
        let mut f = std::fs::OpenOptions::new()
            .append(true)
            .open(&self.state)
            .expect("state file");
        writeln!(f, "unset {var}").expect("write state");
    }
}

fn totp_now(secret: &str) -> String {
    use totp_rs::{Algorithm, Secret, TOTP};
    let bytes = Secret::Encoded(secret.to_string())
        .to_bytes()
        .expect("base32 secret");
    let totp = TOTP::new_unchecked(
        Algorithm::SHA1,
        6,
        1,
        30,
        bytes,
        Some("rolecall".into()),
        "tour".into(),
    );
    totp.generate_current().expect("clock")
}

/// `rolecall login …` typed at a terminal: the password, then the code for the new secret.
fn interactive_login(shell: &Shell, line: &str, password: &str) {
    let mut child = shell
        .bash(line)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run rolecall login");
    let mut stdin = child.stdin.take().expect("stdin");
    writeln!(stdin, "{password}").expect("type the password");
    let mut stdout = BufReader::new(child.stdout.take().expect("stdout"));
    let mut shown = String::new();
    let mut secret = None;
    let mut line_buf = String::new();
    while stdout.read_line(&mut line_buf).unwrap_or(0) > 0 {
        shown.push_str(&line_buf);
        if let Some(s) = after(&line_buf, "secret:") {
            secret = Some(s.trim().to_string());
            line_buf.clear();
            break;
        }
        line_buf.clear();
    }
    let secret = secret.unwrap_or_else(|| panic!("login showed no secret:\n{shown}"));
    assert!(shown.contains("otpauth://"), "{shown}");
    writeln!(stdin, "{}", totp_now(&secret)).expect("type the code");
    drop(stdin);
    stdout.read_to_string(&mut shown).expect("read the rest");
    let out = child.wait_with_output().expect("wait for login");
    assert!(
        out.status.success(),
        "{line}\n{shown}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(shown.contains("Recovery codes"), "{shown}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_readme_tour_runs_as_written() {
    tokio::task::spawn_blocking(|| {
        let readme =
            std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../README.md"))
                .expect("README.md");
        let blocks = tour_blocks(&readme);
        assert!(blocks.len() >= 4, "the tour has its blocks: {blocks:?}");
        let tmp = tempfile::tempdir().expect("tempdir");
        let cfg = tmp.path().join("config");
        std::fs::create_dir_all(&cfg).expect("config dir");
        let demo = start_demo(&tmp.path().join("data"), &cfg);
        let shell = Shell::new(tmp.path(), &cfg);
        for (lang, body) in &blocks {
            match lang.as_str() {
                "sh" => {
                    let script = body
                        .replace(TOKEN_PLACEHOLDER, &demo.token)
                        .replace(PASSWORD_PLACEHOLDER, &demo.password)
                        .replace(README_URL, &demo.url);
                    let out = shell.run(&script);
                    for promise in body.lines().filter_map(|l| l.trim().strip_prefix("# => ")) {
                        assert!(
                            out.contains(promise.trim()),
                            "the tour promises {promise:?}; the block printed:\n{out}"
                        );
                    }
                }
                "console" => {
                    for line in body.lines().filter_map(|l| l.strip_prefix("$ ")) {
                        let typed = line.split(" #").next().unwrap_or(line).trim();
                        if let Some(var) = typed.strip_prefix("unset ") {
                            shell.unset(var.trim());
                        } else if typed.starts_with("rolecall login") {
                            interactive_login(&shell, typed, &demo.password);
                        } else {
                            let out = shell.run(typed);
                            assert!(!out.is_empty(), "{typed} printed nothing");
                        }
                    }
                }
                other => panic!("a tour block in {other:?}: mark it sh or console"),
            }
        }
    })
    .await
    .expect("the tour");
}
