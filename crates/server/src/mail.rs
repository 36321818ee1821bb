//! Delivery of the transactional outbox. Messages are written in the transaction that causes
//! them; this worker claims due messages, delivers them into the mail directory under the data
//! directory (`mail/<id>.eml`), and marks them sent, retrying failures with exponential backoff.
//! A claim pushes `next_attempt_at` forward first, so two nodes never deliver the same message
//! at once, and a message marked sent is never delivered again across restarts.

use crate::directory::Directory;
use crate::error::{Error, Result};
use crate::store::{signin as s, sql_for};
use std::path::{Path, PathBuf};

pub struct MailDir {
    pub dir: PathBuf,
}

impl MailDir {
    pub fn new(data_dir: &Path) -> MailDir {
        MailDir {
            dir: data_dir.join("mail"),
        }
    }

    fn deliver(&self, id: &str, to: &str, subject: &str, body: &str) -> std::io::Result<()> {
        std::fs::create_dir_all(&self.dir)?;
        let text = format!("To: {to}\r\nFrom: rolecall <no-reply@rolecall.invalid>\r\nSubject: {subject}\r\nMessage-ID: <{id}@rolecall>\r\n\r\n{body}");
        // Write then rename, so a reader never sees half a message.
        let tmp = self.dir.join(format!(".{id}.tmp"));
        std::fs::write(&tmp, text)?;
        std::fs::rename(tmp, self.dir.join(format!("{id}.eml")))
    }

    /// Delivers what is due; returns how many were sent.
    pub async fn run_once(&self, dir: &Directory) -> Result<usize> {
        let b = dir.db.backend;
        let now = dir.now();
        let due = {
            let mut c = dir.db.pool.acquire().await?;
            s::due_mail(&mut c, b, now).await?
        };
        let mut sent = 0;
        for m in due {
            let claimed = {
                let mut c = dir.db.pool.acquire().await?;
                sqlx::query(&sql_for(b, "UPDATE outbox SET next_attempt_at = $1 WHERE id = $2 AND sent_at IS NULL AND next_attempt_at <= $3"))
                    .bind(now + 60_000)
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
            let result = self.deliver(&m.id, &m.recipient, &m.subject, &m.body);
            let mut c = dir.db.pool.acquire().await?;
            match result {
                Ok(()) => {
                    s::mark_mail(&mut c, b, &m.id, Some(now), now, None).await?;
                    sent += 1;
                }
                Err(e) => {
                    let backoff = 1000i64.saturating_mul(1i64 << m.attempts.clamp(0, 16));
                    tracing::warn!(message = %m.id, error = %e, "mail delivery failed; will retry");
                    s::mark_mail(&mut c, b, &m.id, None, now + backoff, Some(&e.to_string()))
                        .await
                        .map_err(|e| Error::Internal(e.to_string()))?;
                }
            }
        }
        Ok(sent)
    }
}
