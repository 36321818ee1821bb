//! Delivery of the transactional outbox. Messages are written in the transaction that causes
//! them; this worker claims due messages, delivers them by SMTP (lettre) when `smtp_url` is
//! configured or else into the mail directory under the data directory (`mail/<id>.eml`), marks
//! them sent, and retries failures with exponential backoff, giving up after [`MAX_ATTEMPTS`].
//!
//! Exactly-once, as far as it can be had without the receiver's help:
//! * A claim (`UPDATE … SET next_attempt_at = now + lease WHERE … next_attempt_at <= now`)
//!   precedes every send, so of several nodes, or of a node and its restarted self, only one
//!   holds a message at a time; the lease is longer than the longest send ([`SEND_TIMEOUT`]).
//! * `sent_at` is written right after a successful send, and sent messages are never selected
//!   again, so nothing is resent across restarts; an unsent message is retried once its claim
//!   or backoff expires, so nothing is lost either.
//! * The window left: a crash (or a lost database connection) after the SMTP server accepted
//!   the message but before `sent_at` is written means it is sent once more when the lease
//!   expires. Every message carries the stable `Message-ID: <outbox-id@rolecall>`, so a receiver
//!   can drop the duplicate.
//!
//! The body is never logged: it may hold a one-time token. Once a message is delivered (or
//! given up) its body is replaced by [`REDACTED`], so no token stays in the database.

use crate::config::Config;
use crate::directory::Directory;
use crate::error::{Error, Result};
use crate::store::{signin as s, sql_for};
use lettre::message::header::{ContentTransferEncoding, ContentType, MIME_VERSION_1_0};
use lettre::message::{Body, Mailbox};
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use rolecall_core::model::Millis;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

/// Attempts before a message is given up (left unsent, with its last error).
pub const MAX_ATTEMPTS: i64 = 10;
/// Longest a single SMTP delivery may take before it counts as failed.
pub const SEND_TIMEOUT: Duration = Duration::from_secs(30);
/// How long a claim holds a message; longer than [`SEND_TIMEOUT`] so no other worker can
/// claim a message that is still being sent.
const CLAIM_LEASE_MS: Millis = 120_000;
/// `next_attempt_at` of a message given up: `due_mail` never selects it again.
const NEVER: Millis = Millis::MAX;
/// What remains of a body once the message left (or was given up).
pub use crate::store::signin::REDACTED_BODY as REDACTED;

/// Wait before the next attempt after `failed` failed attempts: 1 s, 2 s, 4 s, … at most 1 h.
pub fn backoff_ms(failed: i64) -> Millis {
    (1000i64 << failed.clamp(0, 12)).min(3_600_000)
}

/// Where delivered messages go.
enum Transport {
    /// `<data_dir>/mail/<id>.eml`: development, tests, or a pickup directory for a local MTA.
    Dir(PathBuf),
    Smtp(Box<AsyncSmtpTransport<Tokio1Executor>>),
}

/// The outbox worker: one per server, run every tick by `Server::start_with`.
pub struct Mailer {
    transport: Transport,
    from: Mailbox,
}

/// A delivery failure: `permanent` ones (a message that cannot even be built) are not retried.
struct Failure {
    permanent: bool,
    error: String,
}

impl Mailer {
    /// SMTP when `config.mail.smtp_url` is set, else the mail directory under `data_dir`.
    pub fn from_config(config: &Config) -> Result<Mailer> {
        let from: Mailbox = config.mail.from.parse().map_err(|e| {
            Error::Internal(format!("invalid mail_from {:?}: {e}", config.mail.from))
        })?;
        match &config.mail.smtp_url {
            None => Ok(Mailer::mail_dir(&config.data_dir, from)),
            Some(url) => {
                // The URL may hold a password: never echo it back in the error.
                let transport = AsyncSmtpTransport::<Tokio1Executor>::from_url(url)
                    .map_err(|e| Error::Internal(format!("invalid smtp_url: {e}")))?
                    .timeout(Some(SEND_TIMEOUT))
                    .build();
                Ok(Mailer {
                    transport: Transport::Smtp(Box::new(transport)),
                    from,
                })
            }
        }
    }

    pub fn mail_dir(data_dir: &Path, from: Mailbox) -> Mailer {
        Mailer {
            transport: Transport::Dir(data_dir.join("mail")),
            from,
        }
    }

    /// Delivers what is due; returns how many were sent.
    pub async fn run_once(&self, dir: &Directory) -> Result<usize> {
        let b = dir.db.backend;
        let due = {
            let mut c = dir.db.pool.acquire().await?;
            s::due_mail(&mut c, b, dir.now()).await?
        };
        let mut sent = 0;
        for m in due {
            // A fresh clock per message: earlier sends may have taken a while, and a claim
            // computed from a stale time could already have expired when it is made.
            let now = dir.now();
            let claimed = {
                let mut c = dir.db.pool.acquire().await?;
                sqlx::query(&sql_for(b, "UPDATE outbox SET next_attempt_at = $1 WHERE id = $2 AND sent_at IS NULL AND next_attempt_at <= $3"))
                    .bind(now + CLAIM_LEASE_MS)
                    .bind(&m.id)
                    .bind(now)
                    .execute(&mut *c)
                    .await?
                    .rows_affected()
                    == 1
            };
            if !claimed {
                continue;
            }
            let result = self.deliver(&m, now).await;
            let done = dir.now();
            let mut c = dir.db.pool.acquire().await?;
            match result {
                Ok(()) => {
                    s::mark_mail(&mut c, b, &m.id, Some(done), done, None).await?;
                    sent += 1;
                }
                Err(f) => {
                    let attempts = m.attempts + 1;
                    if f.permanent || attempts >= MAX_ATTEMPTS {
                        tracing::error!(message = %m.id, attempts, error = %f.error, "mail delivery failed; giving up");
                        let error = format!("gave up after {attempts} attempts: {}", f.error);
                        s::mark_mail(&mut c, b, &m.id, None, NEVER, Some(&error)).await?;
                    } else {
                        let retry = done + backoff_ms(m.attempts);
                        tracing::warn!(message = %m.id, attempts, error = %f.error, "mail delivery failed; will retry");
                        s::mark_mail(&mut c, b, &m.id, None, retry, Some(&f.error)).await?;
                    }
                }
            }
        }
        Ok(sent)
    }

    async fn deliver(&self, m: &s::OutboxMessage, now: Millis) -> std::result::Result<(), Failure> {
        let message = build_message(&self.from, m, now).map_err(|error| Failure {
            permanent: true,
            error,
        })?;
        let transient = |error: String| Failure {
            permanent: false,
            error,
        };
        match &self.transport {
            Transport::Dir(path) => write_eml(path, &m.id, &message.formatted())
                .map_err(|e| transient(format!("{}: {e}", path.display()))),
            Transport::Smtp(smtp) => {
                match tokio::time::timeout(SEND_TIMEOUT, smtp.send(message)).await {
                    Ok(Ok(_)) => Ok(()),
                    Ok(Err(e)) => Err(transient(format!("smtp: {e}"))),
                    Err(_) => Err(transient(format!(
                        "smtp: no answer within {}s",
                        SEND_TIMEOUT.as_secs()
                    ))),
                }
            }
        }
    }
}

/// The RFC 5322 message for an outbox row: `Message-ID: <id@rolecall>` is stable across
/// retries so receivers can de-duplicate, and `Date` comes from the directory's clock.
fn build_message(
    from: &Mailbox,
    m: &s::OutboxMessage,
    now: Millis,
) -> std::result::Result<Message, String> {
    let to: Mailbox = m
        .recipient
        .parse()
        .map_err(|e| format!("invalid recipient: {e}"))?;
    let date = SystemTime::UNIX_EPOCH + Duration::from_millis(u64::try_from(now).unwrap_or(0));
    // 7bit when the text allows it, else quoted-printable (never base64): either way the
    // one-time token stays on a line of its own, readable by people and scripts alike.
    // (Both from a `String`: lettre normalises line ends to CRLF only for text, not bytes.)
    let body = Body::new_with_encoding(m.body.clone(), ContentTransferEncoding::SevenBit)
        .or_else(|_| {
            Body::new_with_encoding(m.body.clone(), ContentTransferEncoding::QuotedPrintable)
        })
        .map_err(|_| "body cannot be encoded".to_string())?;
    Message::builder()
        .from(from.clone())
        .to(to)
        .subject(m.subject.as_str())
        .message_id(Some(format!("<{}@rolecall>", m.id)))
        .date(date)
        .header(MIME_VERSION_1_0)
        .header(ContentType::TEXT_PLAIN)
        .body(body)
        .map_err(|e| format!("cannot build message: {e}"))
}

/// Writes then renames, so a reader of the directory never sees half a message. Messages hold
/// one-time tokens: the directory is 0700 and each file 0600 (issue 9 item 9).
fn write_eml(dir: &Path, id: &str, bytes: &[u8]) -> std::io::Result<()> {
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::{DirBuilderExt, PermissionsExt};
        builder.mode(0o700).create(dir)?;
        std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))?;
    }
    #[cfg(not(unix))]
    builder.create(dir)?;
    let tmp = dir.join(format!(".{id}.tmp"));
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut f = options.open(&tmp)?;
    std::io::Write::write_all(&mut f, bytes)?;
    f.sync_all()?;
    std::fs::rename(tmp, dir.join(format!("{id}.eml")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::directory::Clock;
    use crate::store::Db;
    use std::sync::atomic::{AtomicI64, Ordering};
    use std::sync::Arc;

    /// A clock tests move by hand.
    struct Fixed(AtomicI64);

    impl Clock for Fixed {
        fn now(&self) -> Millis {
            self.0.load(Ordering::SeqCst)
        }
    }

    fn message(id: &str, to: &str, body: &str) -> s::OutboxMessage {
        s::OutboxMessage {
            id: id.into(),
            recipient: to.into(),
            subject: "Reset your rolecall password".into(),
            body: body.into(),
            attempts: 0,
        }
    }

    #[test]
    fn backoff_doubles_from_one_second_up_to_an_hour() {
        assert_eq!(backoff_ms(0), 1_000);
        assert_eq!(backoff_ms(1), 2_000);
        assert_eq!(backoff_ms(9), 512_000);
        assert_eq!(backoff_ms(12), 3_600_000);
        assert_eq!(backoff_ms(63), 3_600_000);
        assert_eq!(backoff_ms(-1), 1_000);
    }

    #[test]
    fn messages_carry_a_stable_id_the_clock_date_and_a_readable_token() {
        let from: Mailbox = crate::config::DEFAULT_MAIL_FROM.parse().unwrap();
        let token = "rc_abcdefghijklmnopqrstuvwxyz0123456789-_ABCDEFG";
        let body = format!("Hello ünïcødé, a line long enough to need wrapping in quoted-printable encoding, surely.\n\n{token}\n");
        let m = message("0f1e", "jane@example.com", &body);
        // 2026-01-02T03:04:05Z
        let text = String::from_utf8(
            build_message(&from, &m, 1_767_323_045_000)
                .unwrap()
                .formatted(),
        )
        .unwrap();
        assert!(text.contains("Message-ID: <0f1e@rolecall>\r\n"), "{text}");
        assert!(text.contains("To: jane@example.com\r\n"), "{text}");
        assert!(
            text.contains("Subject: Reset your rolecall password\r\n"),
            "{text}"
        );
        assert!(
            text.contains("Date: Fri, 02 Jan 2026 03:04:05 +0000\r\n"),
            "{text}"
        );
        assert!(text.contains("MIME-Version: 1.0\r\n"), "{text}");
        assert!(
            text.contains("Content-Transfer-Encoding: quoted-printable\r\n"),
            "{text}"
        );
        assert!(text.lines().any(|l| l == token), "{text}");
        let plain = message("1", "jane@example.com", "short\n");
        let text = String::from_utf8(build_message(&from, &plain, 0).unwrap().formatted()).unwrap();
        assert!(
            text.contains("Content-Transfer-Encoding: 7bit\r\n"),
            "{text}"
        );
        assert!(build_message(&from, &message("2", "not an address", "x"), 0).is_err());
    }

    async fn directory(clock: Arc<Fixed>) -> (Directory, tempfile::TempDir) {
        let tmp = tempfile::tempdir().unwrap();
        let db = Db::connect(None, tmp.path()).await.unwrap();
        (Directory::open(db, clock, vec![]).await.unwrap(), tmp)
    }

    async fn row(dir: &Directory, id: &str) -> (i64, i64, Option<i64>, Option<String>) {
        sqlx::query_as(&sql_for(
            dir.db.backend,
            "SELECT attempts, next_attempt_at, sent_at, last_error FROM outbox WHERE id = $1",
        ))
        .bind(id)
        .fetch_one(&dir.db.pool)
        .await
        .unwrap()
    }

    async fn enqueue(dir: &Directory, id: &str, to: &str) {
        let org = dir.create_org("acme", "Acme").await.unwrap();
        let mut c = dir.db.pool.acquire().await.unwrap();
        s::enqueue_mail(
            &mut c,
            dir.db.backend,
            org.id,
            id,
            to,
            "Hi",
            "secret body",
            dir.now(),
        )
        .await
        .unwrap();
    }

    #[tokio::test]
    async fn failures_back_off_and_stop_after_ten_attempts() {
        let clock = Arc::new(Fixed(AtomicI64::new(1_000_000)));
        let (dir, _tmp) = directory(clock.clone()).await;
        enqueue(&dir, "m1", "jane@example.com").await;
        // A port nobody listens on: every attempt is refused at once.
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let mut config = crate::config::ConfigArgs::default().resolve().unwrap();
        config.mail.smtp_url = Some(format!("smtp://127.0.0.1:{port}"));
        let mailer = Mailer::from_config(&config).unwrap();
        for attempt in 1..=MAX_ATTEMPTS {
            assert_eq!(mailer.run_once(&dir).await.unwrap(), 0);
            let (attempts, next, sent, error) = row(&dir, "m1").await;
            assert_eq!(attempts, attempt);
            assert_eq!(sent, None);
            assert!(error.unwrap().contains("smtp"));
            if attempt < MAX_ATTEMPTS {
                assert_eq!(next, dir.now() + backoff_ms(attempt - 1));
                // Not due again before the backoff has passed.
                assert_eq!(mailer.run_once(&dir).await.unwrap(), 0);
                assert_eq!(row(&dir, "m1").await.0, attempt);
                clock.0.fetch_add(backoff_ms(attempt - 1), Ordering::SeqCst);
            } else {
                assert_eq!(next, NEVER);
            }
        }
        clock.0.fetch_add(365 * 86_400_000, Ordering::SeqCst);
        assert_eq!(mailer.run_once(&dir).await.unwrap(), 0);
        let (attempts, _, sent, error) = row(&dir, "m1").await;
        assert_eq!((attempts, sent), (MAX_ATTEMPTS, None));
        assert!(error.unwrap().starts_with("gave up after 10 attempts"));
    }

    #[tokio::test]
    async fn an_undeliverable_address_is_given_up_at_once_and_a_claimed_message_is_skipped() {
        let clock = Arc::new(Fixed(AtomicI64::new(1_000_000)));
        let (dir, tmp) = directory(clock.clone()).await;
        enqueue(&dir, "bad", "not an address").await;
        let mailer = Mailer::mail_dir(
            tmp.path(),
            crate::config::DEFAULT_MAIL_FROM.parse().unwrap(),
        );
        assert_eq!(mailer.run_once(&dir).await.unwrap(), 0);
        let (attempts, next, _, error) = row(&dir, "bad").await;
        assert_eq!((attempts, next), (1, NEVER));
        assert!(error.unwrap().contains("invalid recipient"));

        // Another worker holds a claim on `held`: it is left alone until the claim expires.
        let mut c = dir.db.pool.acquire().await.unwrap();
        let org = dir.org("acme").await.unwrap();
        s::enqueue_mail(
            &mut c,
            dir.db.backend,
            org.id,
            "held",
            "jane@example.com",
            "Hi",
            "b",
            dir.now(),
        )
        .await
        .unwrap();
        sqlx::query(&sql_for(
            dir.db.backend,
            "UPDATE outbox SET next_attempt_at = $1 WHERE id = 'held'",
        ))
        .bind(dir.now() + CLAIM_LEASE_MS)
        .execute(&mut *c)
        .await
        .unwrap();
        drop(c);
        assert_eq!(mailer.run_once(&dir).await.unwrap(), 0);
        clock.0.fetch_add(CLAIM_LEASE_MS, Ordering::SeqCst);
        assert_eq!(mailer.run_once(&dir).await.unwrap(), 1);
        assert!(tmp.path().join("mail/held.eml").exists());
        assert_eq!(mailer.run_once(&dir).await.unwrap(), 0);
    }
}
