//! Reading answers from the person at the terminal: secrets without echo (through `stty`, so no
//! unsafe code), codes, and lines of piped standard input for scripts.

use super::client::{CmdResult, Exit};
use std::io::{BufRead, Write};

fn strip_line_end(mut line: String) -> String {
    if line.ends_with('\n') {
        line.pop();
        if line.ends_with('\r') {
            line.pop();
        }
    }
    line
}

/// The next line of standard input, without its line end; `what` names it in errors.
pub(crate) fn stdin_line(what: &str) -> CmdResult<String> {
    let mut line = String::new();
    match std::io::stdin().lock().read_line(&mut line) {
        Ok(0) => {
            eprintln!("rolecall: standard input ended before {what}");
            Err(Exit(2))
        }
        Ok(_) => Ok(strip_line_end(line)),
        Err(e) => {
            eprintln!("rolecall: cannot read {what} from standard input: {e}");
            Err(Exit(1))
        }
    }
}

/// Asks for a short visible answer (a code): the prompt on stderr, the answer from stdin (the
/// terminal, or the next line of piped input).
pub(super) fn prompt_line(prompt: &str, what: &str) -> CmdResult<String> {
    eprint!("{prompt}");
    let _ = std::io::stderr().flush();
    Ok(stdin_line(what)?.trim().to_string())
}

/// Asks for a secret on the controlling terminal with echo turned off (by `stty`, so no
/// unsafe code). Refuses rather than echo the secret when echo cannot be turned off.
pub(crate) fn prompt_hidden(prompt: &str) -> CmdResult<String> {
    use std::process::{Command, Stdio};
    let fail = |e: std::io::Error| {
        eprintln!("rolecall: cannot ask for the password on the terminal: {e}; use --password-stdin or ROLECALL_PASSWORD");
        Exit(1)
    };
    let mut tty = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open("/dev/tty")
        .map_err(fail)?;
    let stty = |arg: &str, tty: &std::fs::File| -> std::io::Result<bool> {
        Ok(Command::new("stty")
            .arg(arg)
            .stdin(tty.try_clone()?)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()?
            .success())
    };
    if !stty("-echo", &tty).unwrap_or(false) {
        return Err(fail(std::io::Error::other("cannot turn echo off")));
    }
    let mut line = String::new();
    let read = tty
        .write_all(prompt.as_bytes())
        .and_then(|()| tty.flush())
        .and_then(|()| std::io::BufReader::new(tty.try_clone()?).read_line(&mut line));
    let _ = stty("echo", &tty);
    let _ = tty.write_all(b"\n");
    match read {
        Ok(0) => {
            eprintln!("rolecall: the terminal closed before the password was entered");
            Err(Exit(2))
        }
        Ok(_) => Ok(strip_line_end(line)),
        Err(e) => Err(fail(e)),
    }
}

/// A password the person is choosing (a new one, or one set for someone else): asked twice
/// without echo on a terminal, else the next line of standard input. `what` names it.
pub(crate) fn new_password(what: &str) -> CmdResult<String> {
    use std::io::IsTerminal;
    let password = if std::io::stdin().is_terminal() {
        let first = prompt_hidden(&format!("{what}: "))?;
        let again = prompt_hidden(&format!("{what} again: "))?;
        if first != again {
            eprintln!("rolecall: the two entries differ; nothing was changed");
            return Err(Exit(1));
        }
        first
    } else {
        stdin_line(&format!("the {}", what.to_lowercase()))?
    };
    if password.is_empty() {
        eprintln!("rolecall: the {} is empty", what.to_lowercase());
        return Err(Exit(2));
    }
    Ok(password)
}

/// The current password of the person at the keyboard: `ROLECALL_PASSWORD`, else a prompt
/// without echo on a terminal, else the next line of standard input.
pub(crate) fn current_password(prompt: &str) -> CmdResult<String> {
    use std::io::IsTerminal;
    let password = if let Some(p) = std::env::var("ROLECALL_PASSWORD")
        .ok()
        .filter(|p| !p.is_empty())
    {
        p
    } else if std::io::stdin().is_terminal() {
        prompt_hidden(prompt)?
    } else {
        stdin_line("the current password")?
    };
    if password.is_empty() {
        eprintln!("rolecall: the password is empty");
        return Err(Exit(2));
    }
    Ok(password)
}

/// A single-use secret that came by e-mail (an invitation or reset token): `given` on the
/// command line, else asked for (on a terminal) or read from the next line of standard input,
/// so it need not appear in the process list.
pub(crate) fn mailed_token(given: Option<String>, what: &str) -> CmdResult<String> {
    let token = match given
        .map(|t| t.trim().to_string())
        .filter(|t| !t.is_empty())
    {
        Some(t) => t,
        None => prompt_line(
            &format!("The {what} from the e-mail: "),
            &format!("the {what}"),
        )?,
    };
    if token.is_empty() {
        eprintln!("rolecall: the {what} is empty");
        return Err(Exit(2));
    }
    Ok(token)
}
