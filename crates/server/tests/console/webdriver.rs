//! A small W3C WebDriver client over `reqwest` (already a dependency), driving Debian's
//! headless Chromium through `chromedriver`. The protocol is plain JSON over HTTP; the few
//! commands the console tests need fit here, so no WebDriver crate is pulled into the build.

use serde_json::{json, Value};
use std::time::Duration;

/// The key under which WebDriver returns an element reference.
const ELEMENT: &str = "element-6066-11e4-a52e-4f735466cecf";

/// `chromedriver` in its own process group: dropping it ends the driver and every Chromium
/// process it started, even when a test panics.
struct Driver {
    child: std::process::Child,
}

impl Drop for Driver {
    fn drop(&mut self) {
        let group = format!("-{}", self.child.id());
        let _ = std::process::Command::new("kill")
            .args(["-KILL", "--", &group])
            .status();
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub struct Browser {
    http: reqwest::Client,
    url: String,
    _driver: Driver,
    _profile: tempfile::TempDir,
}

fn free_port() -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    l.local_addr().expect("addr").port()
}

fn find_binary(name: &str) -> String {
    for dir in ["/usr/bin", "/usr/lib/chromium", "/usr/local/bin"] {
        let p = format!("{dir}/{name}");
        if std::path::Path::new(&p).exists() {
            return p;
        }
    }
    panic!("{name} not found: run the suite with ./scripts/test, which installs Debian's chromium and chromium-driver")
}

impl Browser {
    /// Starts chromedriver and a fresh headless Chromium at `width`×`height`.
    pub async fn start(width: u32, height: u32) -> Browser {
        use std::os::unix::process::CommandExt;
        let port = free_port();
        let child = std::process::Command::new(find_binary("chromedriver"))
            .arg(format!("--port={port}"))
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .process_group(0)
            .spawn()
            .expect("start chromedriver");
        let driver = Driver { child };
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(60))
            .build()
            .expect("client");
        let base = format!("http://127.0.0.1:{port}");
        let mut ready = false;
        for _ in 0..100 {
            if let Ok(r) = http.get(format!("{base}/status")).send().await {
                if r.status().is_success() {
                    ready = true;
                    break;
                }
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        assert!(ready, "chromedriver did not start");
        let profile = tempfile::tempdir().expect("profile dir");
        // Without these, Chromium reaches for the network (updates, sync, QUIC probes) and hangs
        // on a closed machine.
        let args = vec![
            "--headless".to_string(),
            "--no-sandbox".into(),
            "--disable-gpu".into(),
            "--disable-quic".into(),
            "--no-first-run".into(),
            "--disable-background-networking".into(),
            "--disable-component-update".into(),
            "--disable-sync".into(),
            "--disable-dev-shm-usage".into(),
            format!("--window-size={width},{height}"),
            format!("--user-data-dir={}", profile.path().display()),
        ];
        let caps = json!({ "capabilities": { "alwaysMatch": {
            "browserName": "chrome",
            "goog:chromeOptions": { "binary": find_binary("chromium"), "args": args },
            "unhandledPromptBehavior": "accept",
        }}});
        let r: Value = http
            .post(format!("{base}/session"))
            .json(&caps)
            .send()
            .await
            .expect("new session")
            .json()
            .await
            .expect("session json");
        let id = r["value"]["sessionId"]
            .as_str()
            .unwrap_or_else(|| panic!("no WebDriver session: {r}"))
            .to_string();
        Browser {
            http,
            url: format!("{base}/session/{id}"),
            _driver: driver,
            _profile: profile,
        }
    }

    async fn cmd(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> Value {
        let mut req = self.http.request(method, format!("{}{path}", self.url));
        req = req.json(&body.unwrap_or_else(|| json!({})));
        let r: Value = req
            .send()
            .await
            .expect("webdriver request")
            .json()
            .await
            .expect("webdriver json");
        r["value"].clone()
    }

    async fn post(&self, path: &str, body: Value) -> Value {
        self.cmd(reqwest::Method::POST, path, Some(body)).await
    }

    async fn get(&self, path: &str) -> Value {
        let r: Value = self
            .http
            .get(format!("{}{path}", self.url))
            .send()
            .await
            .expect("webdriver request")
            .json()
            .await
            .expect("webdriver json");
        r["value"].clone()
    }

    pub async fn goto(&self, url: &str) {
        self.post("/url", json!({ "url": url })).await;
    }

    pub async fn current_url(&self) -> String {
        self.get("/url").await.as_str().unwrap_or("").to_string()
    }

    pub async fn source(&self) -> String {
        self.get("/source").await.as_str().unwrap_or("").to_string()
    }

    async fn try_find(&self, css: &str) -> Option<String> {
        let v = self
            .post("/element", json!({ "using": "css selector", "value": css }))
            .await;
        v[ELEMENT].as_str().map(str::to_string)
    }

    /// Waits up to five seconds for `css` to match.
    pub async fn find(&self, css: &str) -> String {
        for _ in 0..50 {
            if let Some(id) = self.try_find(css).await {
                return id;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let url = self.current_url().await;
        let src = self.source().await;
        panic!(
            "no element {css:?} on {url}:\n{}",
            &src[..src.len().min(4000)]
        );
    }

    pub async fn exists(&self, css: &str) -> bool {
        self.try_find(css).await.is_some()
    }

    pub async fn count(&self, css: &str) -> usize {
        self.post(
            "/elements",
            json!({ "using": "css selector", "value": css }),
        )
        .await
        .as_array()
        .map_or(0, Vec::len)
    }

    pub async fn click(&self, css: &str) {
        let id = self.find(css).await;
        self.post(&format!("/element/{id}/click"), json!({})).await;
    }

    /// Clears the field and types `text` into it.
    pub async fn fill(&self, css: &str, text: &str) {
        let id = self.find(css).await;
        self.post(&format!("/element/{id}/clear"), json!({})).await;
        self.post(&format!("/element/{id}/value"), json!({ "text": text }))
            .await;
    }

    pub async fn text(&self, css: &str) -> String {
        let id = self.find(css).await;
        self.get(&format!("/element/{id}/text"))
            .await
            .as_str()
            .unwrap_or("")
            .to_string()
    }

    /// Waits (up to 10 s) until an element's text contains `needle`: after a submit the old
    /// page, with its own notice, may still be showing while the browser navigates.
    pub async fn text_containing(&self, css: &str, needle: &str) -> String {
        let mut last = String::new();
        for _ in 0..100 {
            if self.try_find(css).await.is_some() {
                last = self.text(css).await;
                if last.contains(needle) {
                    return last;
                }
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("{css:?} never contained {needle:?}; last text: {last:?}");
    }

    pub async fn attr(&self, css: &str, name: &str) -> String {
        let id = self.find(css).await;
        self.get(&format!("/element/{id}/attribute/{name}"))
            .await
            .as_str()
            .unwrap_or("")
            .to_string()
    }

    pub async fn is_selected(&self, css: &str) -> bool {
        let id = self.find(css).await;
        self.get(&format!("/element/{id}/selected"))
            .await
            .as_bool()
            .unwrap_or(false)
    }

    pub async fn is_displayed(&self, css: &str) -> bool {
        let id = self.find(css).await;
        self.get(&format!("/element/{id}/displayed"))
            .await
            .as_bool()
            .unwrap_or(false)
    }

    /// Chooses the `<option>` whose value is `value` in the `<select>` matched by `css`.
    pub async fn select(&self, css: &str, value: &str) {
        self.click(&format!("{css} option[value=\"{value}\"]"))
            .await;
    }

    pub async fn execute(&self, script: &str, args: Value) -> Value {
        self.post("/execute/sync", json!({ "script": script, "args": args }))
            .await
    }

    /// Presses a key in the focused element (WebDriver key codes, e.g. "\u{E004}" for Tab).
    pub async fn keys(&self, keys: &str) {
        let actions: Vec<Value> = keys
            .chars()
            .flat_map(|c| {
                [
                    json!({ "type": "keyDown", "value": c.to_string() }),
                    json!({ "type": "keyUp", "value": c.to_string() }),
                ]
            })
            .collect();
        self.post(
            "/actions",
            json!({ "actions": [{ "type": "key", "id": "keyboard", "actions": actions }] }),
        )
        .await;
    }

    pub async fn set_size(&self, width: u32, height: u32) {
        self.post("/window/rect", json!({ "width": width, "height": height }))
            .await;
    }

    /// A PNG of the viewport.
    pub async fn screenshot(&self, path: &std::path::Path) {
        use base64::Engine;
        let b64 = self.get("/screenshot").await;
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(b64.as_str().unwrap_or(""))
            .expect("png");
        std::fs::write(path, bytes).expect("write screenshot");
    }

    pub async fn quit(self) {
        let _ = self.http.delete(&self.url).send().await;
    }
}
