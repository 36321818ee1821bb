//! `rolecall-load`: the load generator behind BENCHMARKS.md's HTTP figures (issue 13).
//!
//! It prepares an organisation on a running server through the public API (users, a role, an
//! API credential, a signed-in System admin), then drives `POST …/check` and `…/check/batch`
//! over keep-alive HTTP/1.1 connections with hyper, one scenario after another, and prints one
//! Markdown row per scenario: requests/s, decisions/s, latency percentiles and the client's
//! own CPU per request (read from /proc/self/stat), so its cost can be reported beside the
//! server's. Run it pinned to one core and the server to the other (`scripts/bench-http`).
//!
//! `--http2 N`: the same over cleartext HTTP/2 (h2c, prior knowledge), the `--connections`
//! request loops multiplexed as streams over N TCP connections.
//!
//! `healthz` drives `GET /healthz` through the same server, router and middleware: it touches
//! no state, so its rate is the ceiling HTTP itself sets on this machine, the yardstick the
//! check figures are read against.
//!
//! Closed loop: each connection sends its next request when the previous answer is in.
//! Paced (`…@70`): open loop at 70 % of the closed-loop rate of the same scenario, requests due
//! at evenly spaced instants and taken by whichever connection is free; latency is measured
//! from the instant a request was due, so time spent waiting for a free connection counts.
//! Two more columns, open loop only: how late requests left the client (p99), which is the
//! client's share of the latency, and the p99 from the moment each request left, which is the
//! server's and the loopback's.

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::client::conn::{http1, http2};
use hyper::{Method, Request, StatusCode};
use hyper_util::rt::{TokioExecutor, TokioIo};
use serde_json::{json, Value};
use std::time::{Duration, Instant};
use tokio::net::TcpStream;

struct Options {
    addr: String,
    token: String,
    seconds: u64,
    connections: usize,
    scenarios: Vec<String>,
    users: usize,
    /// Speak h2c over this many TCP connections (0: HTTP/1.1, one connection per loop).
    http2: usize,
}

fn options() -> Result<Options, String> {
    let mut o = Options {
        addr: "127.0.0.1:8080".into(),
        token: std::env::var("ROLECALL_BOOTSTRAP_TOKEN").unwrap_or_default(),
        seconds: 10,
        connections: 32,
        scenarios: "healthz,single,single@70,batch100,batch1000,session,session@70"
            .split(',')
            .map(str::to_string)
            .collect(),
        users: 200,
        http2: 0,
    };
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        let mut value = || args.next().ok_or(format!("{a} needs a value"));
        match a.as_str() {
            "--addr" => o.addr = value()?,
            "--token" => o.token = value()?,
            "--seconds" => o.seconds = value()?.parse().map_err(|e| format!("--seconds: {e}"))?,
            "--connections" => {
                o.connections = value()?
                    .parse()
                    .map_err(|e| format!("--connections: {e}"))?
            }
            "--users" => o.users = value()?.parse().map_err(|e| format!("--users: {e}"))?,
            "--http2" => o.http2 = value()?.parse().map_err(|e| format!("--http2: {e}"))?,
            "--scenarios" => o.scenarios = value()?.split(',').map(str::to_string).collect(),
            _ => {
                return Err(format!(
                    "unknown argument {a}\nusage: rolecall-load [--addr host:port] [--token bootstrap] \
                     [--seconds 10] [--connections 32] [--users 200] [--http2 0] \
                     [--scenarios healthz,single,single@70,batch100,batch1000,session,session@70]"
                ))
            }
        }
    }
    if o.token.is_empty() {
        return Err(
            "give the server's bootstrap token (--token or ROLECALL_BOOTSTRAP_TOKEN)".into(),
        );
    }
    Ok(o)
}

/// One request loop's way to the server: its own keep-alive HTTP/1.1 connection, or a stream
/// handle on a shared HTTP/2 connection.
#[derive(Clone)]
enum SendRequest {
    Http1(std::sync::Arc<tokio::sync::Mutex<http1::SendRequest<Full<Bytes>>>>),
    Http2(http2::SendRequest<Full<Bytes>>),
}

/// One keep-alive HTTP/1.1 connection.
async fn connect(addr: &str) -> Result<SendRequest, String> {
    let stream = open(addr).await?;
    let (sender, conn) = http1::handshake(TokioIo::new(stream))
        .await
        .map_err(|e| e.to_string())?;
    tokio::spawn(conn);
    Ok(SendRequest::Http1(std::sync::Arc::new(
        tokio::sync::Mutex::new(sender),
    )))
}

/// One cleartext HTTP/2 connection (prior knowledge); clones of the handle are streams on it.
async fn connect_h2(addr: &str) -> Result<SendRequest, String> {
    let stream = open(addr).await?;
    let (sender, conn) = http2::handshake(TokioExecutor::new(), TokioIo::new(stream))
        .await
        .map_err(|e| e.to_string())?;
    tokio::spawn(conn);
    Ok(SendRequest::Http2(sender))
}

async fn open(addr: &str) -> Result<TcpStream, String> {
    let stream = TcpStream::connect(addr)
        .await
        .map_err(|e| format!("connect {addr}: {e}"))?;
    stream.set_nodelay(true).map_err(|e| e.to_string())?;
    Ok(stream)
}

async fn send(
    s: &mut SendRequest,
    method: Method,
    path: &str,
    bearer: &str,
    body: Bytes,
) -> Result<(StatusCode, Bytes), String> {
    let req = Request::builder()
        .method(method)
        .uri(path)
        .header("host", "rolecall")
        .header("authorization", format!("Bearer {bearer}"))
        .header("content-type", "application/json")
        .body(Full::new(body))
        .map_err(|e| e.to_string())?;
    let res = match s {
        SendRequest::Http1(c) => {
            let mut c = c.lock().await;
            c.ready().await.map_err(|e| e.to_string())?;
            c.send_request(req).await
        }
        SendRequest::Http2(c) => {
            c.ready().await.map_err(|e| e.to_string())?;
            c.send_request(req).await
        }
    }
    .map_err(|e| e.to_string())?;
    let status = res.status();
    let body = res
        .into_body()
        .collect()
        .await
        .map_err(|e| e.to_string())?
        .to_bytes();
    Ok((status, body))
}

/// A setup call through the API; anything but the expected status stops the run.
async fn api(
    s: &mut SendRequest,
    method: Method,
    path: &str,
    bearer: &str,
    body: Value,
    want: StatusCode,
) -> Result<Value, String> {
    let bytes = if body.is_null() {
        Bytes::new()
    } else {
        Bytes::from(body.to_string())
    };
    let (status, out) = send(s, method.clone(), path, bearer, bytes).await?;
    if status != want {
        return Err(format!(
            "{method} {path}: {status} {}",
            String::from_utf8_lossy(&out)
        ));
    }
    Ok(serde_json::from_slice(&out).unwrap_or(Value::Null))
}

/// What the scenarios need: the organisation's path, two bearers and user ids.
struct Prepared {
    org_path: String,
    credential: String,
    session: String,
    users: Vec<String>,
}

async fn prepare(o: &Options) -> Result<Prepared, String> {
    let mut s = connect(&o.addr).await?;
    let t = &o.token;
    let slug = format!("load-{}", std::process::id());
    api(
        &mut s,
        Method::POST,
        "/api/v1/organizations",
        t,
        json!({ "slug": slug, "name": "Load test" }),
        StatusCode::CREATED,
    )
    .await?;
    let org = format!("/api/v1/organizations/{slug}");
    let mut settings = api(
        &mut s,
        Method::GET,
        &format!("{org}/settings"),
        t,
        Value::Null,
        StatusCode::OK,
    )
    .await?;
    settings["require_2fa"] = json!(false);
    api(
        &mut s,
        Method::PUT,
        &format!("{org}/settings"),
        t,
        settings,
        StatusCode::OK,
    )
    .await?;
    let roles = api(
        &mut s,
        Method::GET,
        &format!("{org}/roles?application=cloud-project"),
        t,
        Value::Null,
        StatusCode::OK,
    )
    .await?;
    let viewer = roles["items"]
        .as_array()
        .and_then(|a| a.iter().find(|r| r["name"] == "Viewer"))
        .map(|r| r["id"].clone())
        .ok_or("no Viewer role in cloud-project")?;
    let mut users = Vec::with_capacity(o.users);
    for i in 0..o.users {
        let u = api(
            &mut s,
            Method::POST,
            &format!("{org}/users"),
            t,
            json!({ "email": format!("user{i}@load.example") }),
            StatusCode::CREATED,
        )
        .await?;
        let id = u["id"].as_str().ok_or("user id")?.to_string();
        if i % 2 == 0 {
            api(
                &mut s,
                Method::POST,
                &format!("{org}/users/{id}/roles"),
                t,
                json!({ "role_id": viewer }),
                StatusCode::CREATED,
            )
            .await?;
        }
        users.push(id);
    }
    let made = api(
        &mut s,
        Method::POST,
        &format!("{org}/credentials"),
        t,
        json!({ "name": "load" }),
        StatusCode::CREATED,
    )
    .await?;
    let credential = made["secret"].as_str().ok_or("secret")?.to_string();
    let admin = api(
        &mut s,
        Method::POST,
        &format!("{org}/users"),
        t,
        json!({ "email": "admin@load.example" }),
        StatusCode::CREATED,
    )
    .await?;
    let admin = admin["id"].as_str().ok_or("admin id")?.to_string();
    let password = "a long and unusual Passphrase for load 2026";
    api(
        &mut s,
        Method::PUT,
        &format!("{org}/users/{admin}/password"),
        t,
        json!({ "password": password }),
        StatusCode::NO_CONTENT,
    )
    .await?;
    api(
        &mut s,
        Method::POST,
        &format!("{org}/users/{admin}/admin-rights"),
        t,
        json!({ "kind": "system" }),
        StatusCode::CREATED,
    )
    .await?;
    let signed = api(
        &mut s,
        Method::POST,
        &format!("{org}/sign-in"),
        "",
        json!({ "login": "admin@load.example", "password": password }),
        StatusCode::OK,
    )
    .await?;
    let session = signed["token"].as_str().ok_or("session token")?.to_string();
    Ok(Prepared {
        org_path: org,
        credential,
        session,
        users,
    })
}

/// The client's CPU time so far (user + system), from /proc/self/stat.
fn cpu_time() -> Duration {
    let ticks = std::fs::read_to_string("/proc/self/stat")
        .ok()
        .and_then(|s| {
            let rest = s.rsplit(')').next()?.to_string();
            let f: Vec<&str> = rest.split_whitespace().collect();
            Some(f.get(11)?.parse::<u64>().ok()? + f.get(12)?.parse::<u64>().ok()?)
        })
        .unwrap_or(0);
    Duration::from_millis(ticks * 10) // USER_HZ is 100 on Linux
}

struct Outcome {
    requests: u64,
    decisions: u64,
    elapsed: Duration,
    latencies_us: Vec<u32>,
    /// Open loop: how late each request left the client after it fell due (the pacer's and
    /// the client's own wake-up delay plus any wait for a free connection), sorted. Part of
    /// the latency, and not the server's doing.
    delays_us: Vec<u32>,
    /// Open loop: latency from the moment each request left the client, sorted: what the
    /// server and the loopback add, without the client's own lateness.
    from_send_us: Vec<u32>,
    client_cpu: Duration,
    errors: u64,
}

impl Outcome {
    fn rate(&self) -> f64 {
        self.requests as f64 / self.elapsed.as_secs_f64()
    }
    fn percentile(&self, p: f64) -> f64 {
        percentile_ms(&self.latencies_us, p)
    }
}

/// An open-loop column: the p99 of `sorted_us`, or a dash for a closed-loop scenario.
fn open_loop(sorted_us: &[u32]) -> String {
    if sorted_us.is_empty() {
        return "—".to_string();
    }
    format!("{:.2}", percentile_ms(sorted_us, 0.99))
}

/// The `p` quantile of sorted microseconds, in milliseconds (0 when empty).
fn percentile_ms(sorted_us: &[u32], p: f64) -> f64 {
    if sorted_us.is_empty() {
        return 0.0;
    }
    let i = ((sorted_us.len() - 1) as f64 * p).round() as usize;
    sorted_us[i] as f64 / 1000.0
}

/// Drives one scenario: `connections` connections for `seconds`, closed loop (`rate` None) or
/// open loop at `rate` requests per second in all (see [`Pacer`]).
async fn drive(
    o: &Options,
    method: Method,
    path: &str,
    bearer: &str,
    body: Bytes,
    per_request: u64,
    rate: Option<f64>,
) -> Result<Outcome, String> {
    let mut senders = Vec::new();
    if o.http2 > 0 {
        let mut shared = Vec::new();
        for _ in 0..o.http2 {
            shared.push(connect_h2(&o.addr).await?);
        }
        for i in 0..o.connections {
            senders.push(shared[i % shared.len()].clone());
        }
    } else {
        for _ in 0..o.connections {
            senders.push(connect(&o.addr).await?);
        }
    }
    // Warm up: every connection once (and the server's memory of the bearer).
    for s in &mut senders {
        let (status, out) = send(s, method.clone(), path, bearer, body.clone()).await?;
        if status != StatusCode::OK {
            return Err(format!(
                "{path}: {status} {}",
                String::from_utf8_lossy(&out)
            ));
        }
    }
    let cpu_before = cpu_time();
    let start = Instant::now();
    let until = start + Duration::from_secs(o.seconds);
    let pacer = rate.map(|r| Pacer::start(start, until, r));
    let mut tasks = Vec::new();
    for mut s in senders {
        let (method, path, bearer, body) = (
            method.clone(),
            path.to_string(),
            bearer.to_string(),
            body.clone(),
        );
        let slots = pacer.as_ref().map(|p| p.slots.clone());
        tasks.push(tokio::spawn(async move {
            let mut lat = Vec::with_capacity(1 << 16);
            let mut delays = Vec::new();
            let mut from_send = Vec::new();
            let mut errors = 0u64;
            loop {
                // Open loop: the next free connection takes the next slot, and the latency runs
                // from the slot's time, so a request that waited for a connection counts its wait.
                let due = match &slots {
                    Some(slots) => match slots.next().await {
                        Some(due) => due,
                        None => break,
                    },
                    None => Instant::now(),
                };
                if due >= until {
                    break;
                }
                let sent = Instant::now();
                let micros = |d: Duration| d.as_micros().min(u32::MAX as u128) as u32;
                match send(&mut s, method.clone(), &path, &bearer, body.clone()).await {
                    Ok((StatusCode::OK, _)) => {
                        lat.push(micros(due.elapsed()));
                        if slots.is_some() {
                            delays.push(micros(sent - due));
                            from_send.push(micros(sent.elapsed()));
                        }
                    }
                    _ => errors += 1,
                }
            }
            (lat, delays, from_send, errors)
        }));
    }
    let mut latencies_us = Vec::new();
    let mut delays_us = Vec::new();
    let mut from_send_us = Vec::new();
    let mut errors = 0;
    for t in tasks {
        let (l, d, f, e) = t.await.map_err(|e| e.to_string())?;
        latencies_us.extend(l);
        delays_us.extend(d);
        from_send_us.extend(f);
        errors += e;
    }
    delays_us.sort_unstable();
    from_send_us.sort_unstable();
    if let Some(p) = pacer {
        p.thread.join().map_err(|_| "the pacer thread panicked")?;
    }
    let elapsed = start.elapsed();
    latencies_us.sort_unstable();
    let requests = latencies_us.len() as u64;
    Ok(Outcome {
        requests,
        decisions: requests * per_request,
        elapsed,
        latencies_us,
        delays_us,
        from_send_us,
        client_cpu: cpu_time().saturating_sub(cpu_before),
        errors,
    })
}

/// Open-loop arrivals at a steady rate: a thread of its own releases one permit per request
/// as each falls due, evenly spaced at `1 / rate`; the n-th permit taken is the n-th slot.
/// The runtime's timers tick in whole milliseconds, so pacing each connection with them sent
/// everything due in the same millisecond as one burst (20 requests at once at 20,000/s),
/// which measured the load tool's bursts rather than the server. `std::thread::sleep` wakes
/// within tens of microseconds; the thread wakes every 200 µs at most, so requests go out a
/// handful at a time. A semaphore, not a shared receiver, hands the slots out: a receiver
/// behind a lock passes from task to task one scheduler turn at a time, too slow at this rate.
struct Pacer {
    slots: Slots,
    thread: std::thread::JoinHandle<()>,
}

/// What each connection holds of the [`Pacer`]: the permits and which slot comes next.
#[derive(Clone)]
struct Slots {
    permits: std::sync::Arc<tokio::sync::Semaphore>,
    taken: std::sync::Arc<std::sync::atomic::AtomicU32>,
    start: Instant,
    every: Duration,
}

impl Pacer {
    fn start(start: Instant, until: Instant, rate: f64) -> Pacer {
        let permits = std::sync::Arc::new(tokio::sync::Semaphore::new(0));
        let every = Duration::from_secs_f64(1.0 / rate.max(1.0));
        let released = permits.clone();
        let thread = std::thread::spawn(move || {
            let mut due = start;
            while due < until {
                // Waking for every request would cost the client's core more than the requests
                // (a context switch each 50 µs).
                let now = Instant::now();
                std::thread::sleep(
                    due.saturating_duration_since(now)
                        .max(Duration::from_micros(200)),
                );
                let now = Instant::now();
                let mut n = 0;
                while due <= now && due < until {
                    n += 1;
                    due += every;
                }
                released.add_permits(n);
            }
            // Closing wakes every waiting connection: the run is over.
            released.close();
        });
        Pacer {
            slots: Slots {
                permits,
                taken: Default::default(),
                start,
                every,
            },
            thread,
        }
    }
}

impl Slots {
    /// Waits for the next slot and says when it fell due; `None` once the run is over.
    async fn next(&self) -> Option<Instant> {
        self.permits.acquire().await.ok()?.forget();
        let n = self
            .taken
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        Some(self.start + self.every * n)
    }
}

fn batch_body(users: &[String], n: usize) -> Bytes {
    let checks: Vec<Value> = (0..n)
        .map(|i| {
            json!({ "user_id": users[(i * 7919) % users.len()], "application": "cloud-project",
                    "resource": "project", "action": "view" })
        })
        .collect();
    Bytes::from(json!({ "checks": checks }).to_string())
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    if let Err(e) = run().await {
        eprintln!("rolecall-load: {e}");
        std::process::exit(1);
    }
}

async fn run() -> Result<(), String> {
    let o = options()?;
    let p = prepare(&o).await?;
    let single = Bytes::from(
        json!({ "user_id": p.users[0], "application": "cloud-project", "resource": "project", "action": "view" })
            .to_string(),
    );
    let check = format!("{}/check", p.org_path);
    let batch = format!("{}/check/batch", p.org_path);
    let healthz = "/healthz".to_string();
    println!(
        "| scenario | {} | requests/s | decisions/s | p50 ms | p99 ms | p99.9 ms | errors | client CPU µs/request | sent late p99 ms | p99 from send ms |",
        if o.http2 > 0 {
            format!("h2c streams (over {} connections)", o.http2)
        } else {
            "HTTP/1.1 connections".to_string()
        }
    );
    println!("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
    let mut closed: std::collections::HashMap<String, f64> = Default::default();
    for name in &o.scenarios {
        let (base, paced) = match name.split_once('@') {
            Some((b, pct)) => (
                b,
                Some(pct.parse::<f64>().map_err(|e| format!("{name}: {e}"))? / 100.0),
            ),
            None => (name.as_str(), None),
        };
        let (path, bearer, body, per) = match base {
            // The transport's own ceiling on this machine: a GET that touches no state, answered
            // by the same server, router and middleware as the checks.
            "healthz" => (&healthz, &p.credential, Bytes::new(), 0),
            "single" => (&check, &p.credential, single.clone(), 1),
            "session" => (&check, &p.session, single.clone(), 1),
            "batch100" => (&batch, &p.credential, batch_body(&p.users, 100), 100),
            "batch1000" => (&batch, &p.credential, batch_body(&p.users, 1000), 1000),
            "session-batch100" => (&batch, &p.session, batch_body(&p.users, 100), 100),
            other => return Err(format!("unknown scenario {other}")),
        };
        let rate = match paced {
            None => None,
            Some(share) => {
                let full = *closed
                    .get(base)
                    .ok_or(format!("{name}: run {base} first (its rate sets the pace)"))?;
                Some(full * share)
            }
        };
        let method = if base == "healthz" {
            Method::GET
        } else {
            Method::POST
        };
        let out = drive(&o, method, path, bearer, body, per, rate).await?;
        if paced.is_none() {
            closed.insert(base.to_string(), out.rate());
        }
        println!(
            "| {name} | {} | {:.0} | {:.0} | {:.2} | {:.2} | {:.2} | {} | {:.1} | {} | {} |",
            o.connections,
            out.rate(),
            out.decisions as f64 / out.elapsed.as_secs_f64(),
            out.percentile(0.50),
            out.percentile(0.99),
            out.percentile(0.999),
            out.errors,
            out.client_cpu.as_secs_f64() * 1e6 / out.requests.max(1) as f64,
            open_loop(&out.delays_us),
            open_loop(&out.from_send_us),
        );
    }
    Ok(())
}
