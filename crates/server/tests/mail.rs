//! Outbox delivery end to end: a real server sends a password-reset mail over SMTP to a minimal
//! SMTP listener on loopback, keeps it queued while the SMTP server is down and delivers it once
//! it is back, sends nothing twice across restarts, and falls back to the mail directory when no
//! SMTP server is configured.

use rolecall::config::ConfigArgs;
use rolecall::directory::signin::ClientInfo;
use rolecall::directory::{Clock, Directory, NewUser, SystemClock};
use rolecall::store::{sql_for, Db};
use rolecall::Server;
use std::path::Path;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpListener;

/// The wall clock plus an offset, so a test can skip a retry backoff.
#[derive(Default)]
struct OffsetClock(AtomicI64);

impl OffsetClock {
    fn advance_secs(&self, secs: i64) {
        self.0.fetch_add(secs * 1000, Ordering::SeqCst);
    }
}

impl Clock for OffsetClock {
    fn now(&self) -> i64 {
        SystemClock.now() + self.0.load(Ordering::SeqCst)
    }
}

/// Just enough of an SMTP server for lettre; keeps the DATA of every accepted message.
struct SmtpSink {
    received: Arc<Mutex<Vec<String>>>,
}

impl SmtpSink {
    async fn on_port(port: u16) -> SmtpSink {
        let listener = TcpListener::bind(("127.0.0.1", port))
            .await
            .expect("bind the SMTP sink");
        let received = Arc::new(Mutex::new(Vec::new()));
        let store = received.clone();
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                tokio::spawn(session(stream, store.clone()));
            }
        });
        SmtpSink { received }
    }

    fn messages(&self) -> Vec<String> {
        self.received.lock().expect("sink lock").clone()
    }
}

async fn session(stream: tokio::net::TcpStream, received: Arc<Mutex<Vec<String>>>) {
    let (read, mut write) = stream.into_split();
    let mut lines = BufReader::new(read);
    if write.write_all(b"220 sink ESMTP\r\n").await.is_err() {
        return;
    }
    let mut line = String::new();
    loop {
        line.clear();
        if lines.read_line(&mut line).await.unwrap_or(0) == 0 {
            return;
        }
        let verb = line.get(..4).unwrap_or("").to_ascii_uppercase();
        let answer = match verb.as_str() {
            "EHLO" | "HELO" => "250 sink",
            "MAIL" | "RCPT" | "RSET" | "NOOP" => "250 OK",
            "QUIT" => {
                let _ = write.write_all(b"221 bye\r\n").await;
                return;
            }
            "DATA" => {
                if write.write_all(b"354 go ahead\r\n").await.is_err() {
                    return;
                }
                let mut data = String::new();
                loop {
                    line.clear();
                    if lines.read_line(&mut line).await.unwrap_or(0) == 0 {
                        return;
                    }
                    if line == ".\r\n" {
                        break;
                    }
                    // Dot-unstuffing (RFC 5321 4.5.2).
                    data.push_str(line.strip_prefix('.').unwrap_or(&line));
                }
                received.lock().expect("sink lock").push(data);
                "250 queued"
            }
            _ => "500 unknown command",
        };
        if write
            .write_all(format!("{answer}\r\n").as_bytes())
            .await
            .is_err()
        {
            return;
        }
    }
}

/// A loopback port that nothing listens on (bound, then released).
fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port()
}

/// A server on SQLite in `data_dir`, delivering by SMTP to `smtp_port` if given.
async fn start(data_dir: &Path, smtp_port: Option<u16>, clock: Arc<OffsetClock>) -> Server {
    let config = ConfigArgs {
        listen: Some("127.0.0.1:0".into()),
        data_dir: Some(data_dir.to_path_buf()),
        smtp_url: smtp_port.map(|p| format!("smtp://127.0.0.1:{p}")),
        mail_from: Some("Rolecall Ops <ops@example.com>".into()),
        ..Default::default()
    }
    .resolve()
    .expect("config");
    let db = Db::connect(None, data_dir).await.expect("database");
    let dir = Directory::open(db, clock, vec![])
        .await
        .expect("directory opens");
    Server::start_with(&config, Arc::new(dir))
        .await
        .expect("server starts")
}

/// Creates org `acme` with user jane (if need be) and asks for a reset: one outbox message.
async fn request_reset(dir: &Directory) -> String {
    let org = match dir.org("acme").await {
        Ok(org) => org,
        Err(_) => {
            let org = dir.create_org("acme", "Acme").await.expect("org");
            dir.create_user(
                &rolecall::auth::OrgAdmin::operator(org.clone()),
                NewUser {
                    email: "jane@example.com".into(),
                    username: Some("jane".into()),
                    // Only the reset mail is under test here.
                    notify: Some(false),
                    ..Default::default()
                },
            )
            .await
            .expect("user");
            org
        }
    };
    dir.request_password_reset(&org, "jane@example.com", &ClientInfo::default())
        .await
        .expect("reset requested");
    let ids: Vec<(String,)> = sqlx::query_as("SELECT id FROM outbox ORDER BY created_at")
        .fetch_all(&dir.db.pool)
        .await
        .expect("outbox");
    ids.last().expect("a queued message").0.clone()
}

/// (attempts, sent_at, last_error) of an outbox message.
async fn outbox_row(dir: &Directory, id: &str) -> (i64, Option<i64>, Option<String>) {
    sqlx::query_as(&sql_for(
        dir.db.backend,
        "SELECT attempts, sent_at, last_error FROM outbox WHERE id = $1",
    ))
    .bind(id)
    .fetch_one(&dir.db.pool)
    .await
    .expect("outbox row")
}

/// Polls `done` every 100 ms for up to 10 s.
async fn eventually<F, Fut>(what: &str, mut done: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    for _ in 0..100 {
        if done().await {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("timed out waiting for {what}");
}

/// Long enough for the 500 ms worker to have run several times.
async fn a_few_ticks() {
    tokio::time::sleep(Duration::from_millis(1600)).await;
}

fn assert_is_the_reset_mail(text: &str, id: &str) {
    assert!(text.contains("To: jane@example.com\r\n"), "{text}");
    assert!(
        text.contains("From: \"Rolecall Ops\" <ops@example.com>\r\n")
            || text.contains("From: Rolecall Ops <ops@example.com>\r\n"),
        "{text}"
    );
    assert!(
        text.contains("Subject: Reset your rolecall password\r\n"),
        "{text}"
    );
    assert!(
        text.contains(&format!("Message-ID: <{id}@rolecall>\r\n")),
        "{text}"
    );
    assert!(text.contains("\r\nDate: "), "{text}");
    assert!(
        text.lines().any(|l| l.starts_with("rc_")),
        "the token is on a line of its own: {text}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reset_mail_is_delivered_by_smtp_exactly_once() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let port = free_port();
    let sink = SmtpSink::on_port(port).await;
    let server = start(tmp.path(), Some(port), Arc::default()).await;
    let id = request_reset(&server.dir).await;

    eventually("the SMTP delivery", || async {
        !sink.messages().is_empty()
    })
    .await;
    assert_is_the_reset_mail(&sink.messages()[0], &id);
    let (attempts, sent_at, last_error) = outbox_row(&server.dir, &id).await;
    assert_eq!(attempts, 1);
    assert!(sent_at.is_some());
    assert_eq!(last_error, None);

    a_few_ticks().await;
    assert_eq!(sink.messages().len(), 1, "sent exactly once");
    assert!(
        !tmp.path().join("mail").exists(),
        "with SMTP configured nothing goes to the mail directory"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_message_waits_while_smtp_is_down_and_goes_out_once_it_is_back() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let port = free_port();
    let clock = Arc::new(OffsetClock::default());
    let server = start(tmp.path(), Some(port), clock.clone()).await;
    let id = request_reset(&server.dir).await;

    eventually("a failed attempt", || async {
        outbox_row(&server.dir, &id).await.0 >= 1
    })
    .await;
    let (attempts, sent_at, last_error) = outbox_row(&server.dir, &id).await;
    assert!(attempts >= 1);
    assert_eq!(sent_at, None, "not delivered while SMTP is down");
    let last_error = last_error.expect("the failure is recorded");
    assert!(last_error.contains("smtp"), "{last_error}");

    let sink = SmtpSink::on_port(port).await;
    // Skip whatever backoff the failures earned.
    clock.advance_secs(3600);
    eventually("the retried delivery", || async {
        !sink.messages().is_empty()
    })
    .await;
    assert_is_the_reset_mail(&sink.messages()[0], &id);
    eventually("the message marked sent", || async {
        outbox_row(&server.dir, &id).await.1.is_some()
    })
    .await;
    let (retried, _, _) = outbox_row(&server.dir, &id).await;
    assert!(retried > attempts, "{retried} attempts after {attempts}");

    clock.advance_secs(3600);
    a_few_ticks().await;
    assert_eq!(sink.messages().len(), 1, "sent exactly once");
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime")
}

/// Each node runs on its own runtime, shut down like a crashed process: its worker is gone,
/// only the database and data directory remain for the next node.
#[test]
fn nothing_is_lost_or_sent_twice_across_restarts() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let port = free_port();
    let clock = Arc::new(OffsetClock::default());

    // Node 1: the SMTP server is down, the message stays queued.
    let node1 = runtime();
    let id = node1.block_on(async {
        let server = start(tmp.path(), Some(port), clock.clone()).await;
        let id = request_reset(&server.dir).await;
        eventually("a failed attempt", || async {
            outbox_row(&server.dir, &id).await.0 >= 1
        })
        .await;
        id
    });
    node1.shutdown_background();

    // The SMTP server comes back; node 2 on the same data finds the message and sends it.
    let smtp = runtime();
    let sink = smtp.block_on(SmtpSink::on_port(port));
    clock.advance_secs(3600);
    let node2 = runtime();
    let attempts = node2.block_on(async {
        let server = start(tmp.path(), Some(port), clock.clone()).await;
        eventually("delivery after the restart", || async {
            outbox_row(&server.dir, &id).await.1.is_some()
        })
        .await;
        outbox_row(&server.dir, &id).await.0
    });
    node2.shutdown_background();
    assert_eq!(sink.messages().len(), 1);
    assert_is_the_reset_mail(&sink.messages()[0], &id);

    // Node 3: a restart after delivery sends nothing again, whatever the time.
    clock.advance_secs(86_400);
    let node3 = runtime();
    node3.block_on(async {
        let server = start(tmp.path(), Some(port), clock.clone()).await;
        a_few_ticks().await;
        assert_eq!(outbox_row(&server.dir, &id).await.0, attempts);
    });
    node3.shutdown_background();
    assert_eq!(sink.messages().len(), 1, "sent exactly once");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_smtp_mail_goes_to_the_mail_directory() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let server = start(tmp.path(), None, Arc::default()).await;
    let id = request_reset(&server.dir).await;
    let file = tmp.path().join("mail").join(format!("{id}.eml"));
    eventually("the .eml file", || async { file.exists() }).await;
    let text = std::fs::read_to_string(&file).expect("read the message");
    assert_is_the_reset_mail(&text, &id);
    assert!(outbox_row(&server.dir, &id).await.1.is_some());
    a_few_ticks().await;
    assert_eq!(
        std::fs::read_dir(tmp.path().join("mail"))
            .expect("mail dir")
            .count(),
        1,
        "one file, no leftovers"
    );
}
