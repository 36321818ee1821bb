//! What the console tests share: a cookie-keeping form client for HTTP-level tests, reading
//! mails from the mail directory, and signing a browser in.

use crate::helpers::{totp_code, TestApp, TestClock};
use crate::webdriver::Browser;
use reqwest::StatusCode;
use rolecall::directory::Clock;

/// The texts of every delivered message to `to` whose subject is `subject`, waiting for `n`.
pub async fn mails(app: &TestApp, to: &str, subject: &str, n: usize) -> Vec<String> {
    for _ in 0..100 {
        let found: Vec<String> = std::fs::read_dir(app.config.data_dir.join("mail"))
            .into_iter()
            .flatten()
            .flatten()
            .filter(|e| e.path().extension().is_some_and(|x| x == "eml"))
            .map(|e| std::fs::read_to_string(e.path()).unwrap_or_default())
            .filter(|t| {
                t.lines().any(|l| l.trim_end() == format!("To: {to}"))
                    && t.lines()
                        .any(|l| l.trim_end() == format!("Subject: {subject}"))
            })
            .collect();
        if found.len() >= n {
            return found;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    panic!("expected {n} message(s) {subject:?} to {to}");
}

/// The console link in a mail (quoted-printable undone, for mails that needed it).
pub fn link_in(mail: &str) -> String {
    let text = mail
        .replace("=\r\n", "")
        .replace("=\n", "")
        .replace("=3D", "=");
    text.lines()
        .find(|l| l.starts_with("http") && l.contains("/console/"))
        .unwrap_or_else(|| panic!("no console link in {mail}"))
        .trim()
        .to_string()
}

/// A minimal browser for HTTP-level tests: keeps cookies, reads the CSRF field of forms.
pub struct FormClient {
    pub base: String,
    pub http: reqwest::Client,
    pub cookies: std::collections::BTreeMap<String, String>,
}

pub struct Page {
    pub status: StatusCode,
    pub headers: reqwest::header::HeaderMap,
    pub body: String,
}

impl Page {
    /// The value of the first `_csrf` field on the page.
    pub fn csrf(&self) -> String {
        let at = self
            .body
            .find("name=\"_csrf\" value=\"")
            .expect("a form with a CSRF field");
        let rest = &self.body[at + 20..];
        rest[..rest.find('"').unwrap()].to_string()
    }

    pub fn location(&self) -> String {
        self.headers
            .get("location")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_string()
    }

    pub fn set_cookies(&self) -> Vec<String> {
        self.headers
            .get_all("set-cookie")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .map(str::to_string)
            .collect()
    }
}

impl FormClient {
    pub fn new(app: &TestApp) -> FormClient {
        FormClient {
            base: app.base.clone(),
            http: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .unwrap(),
            cookies: Default::default(),
        }
    }

    fn cookie_header(&self) -> String {
        self.cookies
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("; ")
    }

    async fn finish(&mut self, r: reqwest::Response) -> Page {
        let status = r.status();
        let headers = r.headers().clone();
        for c in headers
            .get_all("set-cookie")
            .iter()
            .filter_map(|v| v.to_str().ok())
        {
            let pair = c.split(';').next().unwrap_or("");
            if let Some((k, v)) = pair.split_once('=') {
                if v.is_empty() || c.contains("Max-Age=0") {
                    self.cookies.remove(k);
                } else {
                    self.cookies.insert(k.to_string(), v.to_string());
                }
            }
        }
        let body = r.text().await.unwrap();
        assert_ne!(status, StatusCode::INTERNAL_SERVER_ERROR, "{body}");
        Page {
            status,
            headers,
            body,
        }
    }

    pub async fn get(&mut self, path: &str) -> Page {
        let r = self
            .http
            .get(format!("{}{path}", self.base))
            .header("cookie", self.cookie_header())
            .send()
            .await
            .unwrap();
        self.finish(r).await
    }

    /// Posts a form; `headers` are added (Origin, X-Forwarded-Proto…).
    pub async fn post(
        &mut self,
        path: &str,
        fields: &[(&str, &str)],
        headers: &[(&str, &str)],
    ) -> Page {
        let mut req = self
            .http
            .post(format!("{}{path}", self.base))
            .header("cookie", self.cookie_header())
            .header("content-type", "application/x-www-form-urlencoded")
            .body(serde_urlencoded::to_string(fields).unwrap());
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        let r = req.send().await.unwrap();
        self.finish(r).await
    }

    /// Posts a multipart form as a browser does: `fields` in order, then the file part.
    pub async fn post_file(
        &mut self,
        path: &str,
        fields: &[(&str, &str)],
        file: (&str, &str),
    ) -> Page {
        let boundary = "----rolecallTestBoundary7MA4YWxkTrZu0gW";
        let mut body = String::new();
        for (k, v) in fields {
            body.push_str(&format!(
                "--{boundary}\r\nContent-Disposition: form-data; name=\"{k}\"\r\n\r\n{v}\r\n"
            ));
        }
        let (name, content) = file;
        body.push_str(&format!(
            "--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{name}\"\r\nContent-Type: text/csv\r\n\r\n{content}\r\n--{boundary}--\r\n"
        ));
        let r = self
            .http
            .post(format!("{}{path}", self.base))
            .header("cookie", self.cookie_header())
            .header(
                "content-type",
                format!("multipart/form-data; boundary={boundary}"),
            )
            .body(body)
            .send()
            .await
            .unwrap();
        self.finish(r).await
    }

    /// Signs in through the console form (the organization must not require 2FA).
    pub async fn sign_in(&mut self, org: &str, login: &str, password: &str) -> Page {
        let page = self.get("/console/sign-in").await;
        let csrf = page.csrf();
        self.post(
            "/console/sign-in",
            &[
                ("_csrf", &csrf),
                ("org", org),
                ("login", login),
                ("password", password),
            ],
            &[],
        )
        .await
    }
}

/// Signs a browser in through the console, answering the TOTP step when the org asks for it
/// (`secret` from an earlier enrolment).
pub async fn browser_sign_in(
    b: &Browser,
    app: &TestApp,
    login: &str,
    password: &str,
    secret: Option<&str>,
) {
    b.goto(&format!("{}/console/sign-in?org={}", app.base, app.org))
        .await;
    b.fill("#f-login", login).await;
    b.fill("#f-password", password).await;
    b.click("form[action='/console/sign-in'] button[type=submit]")
        .await;
    if let Some(secret) = secret {
        b.find("#f-code").await;
        app.clock.advance_secs(30);
        b.fill("#f-code", &totp_code(secret, app, 0)).await;
        b.click("form[action='/console/sign-in/code'] button[type=submit]")
            .await;
    }
    b.find("header.top").await;
}

/// The current TOTP code for `secret` on `clock`.
pub fn totp_now(secret: &str, clock: &TestClock) -> String {
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
        "t".into(),
    );
    totp.generate((clock.now() / 1000) as u64)
}
