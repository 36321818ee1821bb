//! rolecall: the server, its storage and HTTP adapters, and the `rolecall` command line.
//! The domain rules live in `rolecall-core`; this crate wires them to SQL, HTTP and the terminal.

pub mod auth;
pub mod cli;
pub mod config;
pub mod console; // the web admin console at /console
pub mod credentials;
pub mod directory;
pub mod error;
pub mod http;
pub mod keys; // the key that encrypts secrets at rest (issue 9 item 9)
#[cfg(test)]
mod layers;
pub mod listener; // accept loop: timeouts and a connection cap (issue 9 item 13)
pub mod logging; // log lines: colour only on a terminal, or JSON
pub mod mail;
pub mod net; // client addresses behind trusted proxies (issue 9 item 12)
pub mod sample;
pub mod scim; // SCIM 2.0 service provider at /scim/v2 (issue 14)
pub mod store;

use crate::config::Config;
use crate::directory::{Directory, SystemClock};
use std::sync::Arc;
use std::time::Duration;

/// Counts the sync loop's ticks to run slower jobs every `n`th tick (the first tick included).
struct Every {
    n: u32,
    i: u32,
}

impl Every {
    fn new(n: u32) -> Every {
        Every { n, i: 0 }
    }

    fn tick(&mut self) -> bool {
        let due = self.i == 0;
        self.i = (self.i + 1) % self.n;
        due
    }
}

/// A bound, running server: tests start one on port 0 and read its address.
pub struct Server {
    pub addr: std::net::SocketAddr,
    pub dir: Arc<Directory>,
    handle: tokio::task::JoinHandle<()>,
    stop: tokio::sync::watch::Sender<bool>,
}

impl Server {
    /// Opens the store, binds the listener and starts serving in the background.
    pub async fn start(config: &Config) -> error::Result<Server> {
        let db =
            store::Db::connect_with(config.database_url.as_deref(), &config.data_dir, config.db)
                .await?;
        let keys = keys::load(config)?;
        let dir = Arc::new(
            Directory::open_with_keys(
                db,
                Arc::new(SystemClock),
                config.extra_applications()?,
                keys,
            )
            .await?,
        );
        Self::start_with(config, dir).await
    }

    pub async fn start_with(config: &Config, dir: Arc<Directory>) -> error::Result<Server> {
        let listener = tokio::net::TcpListener::bind(&config.listen)
            .await
            .map_err(|e| error::Error::Setup(format!("cannot listen on {}: {e}", config.listen)))?;
        let addr = listener
            .local_addr()
            .map_err(|e| error::Error::Internal(e.to_string()))?;
        // console: links in e-mails point at the console, where people reach it.
        dir.set_public_url(
            &config
                .public_url
                .clone()
                .unwrap_or_else(|| format!("http://{addr}")),
        );
        let app = http::app(http::AppState::from_config(dir.clone(), config));
        let sync_dir = dir.clone();
        let mail = mail::Mailer::from_config(config)?; // SMTP if configured, else <data_dir>/mail
        let limits = config.limits;
        let (stop, stopped) = tokio::sync::watch::channel(false);
        let handle = tokio::spawn(async move {
            let flush_dir = sync_dir.clone();
            let index_dir = sync_dir.clone();
            // Other nodes' writes, as PostgreSQL announces them (store/changes.rs).
            let follow = tokio::spawn(store::changes::follow(sync_dir.db.clone()));
            // Other nodes on the same PostgreSQL change rights too: pick their changes up.
            let sync = tokio::spawn(async move {
                let mut tick = tokio::time::interval(Duration::from_millis(500));
                let mut hourly = Every::new(7200);
                loop {
                    tick.tick().await;
                    // The safety net behind notifications: the shared change counter.
                    if let Err(e) = sync_dir.db.notice_changes().await {
                        tracing::warn!(error = %e, "change counter poll failed");
                    }
                    if let Err(e) = sync_dir.reload_catalogue().await {
                        tracing::warn!(error = %e, "catalogue sync failed");
                    }
                    if let Err(e) = sync_dir.refresh_stale().await {
                        tracing::warn!(error = %e, "snapshot sync failed");
                    }
                    if let Err(e) = mail.run_once(&sync_dir).await {
                        tracing::warn!(error = %e, "mail delivery failed");
                    }
                    // Hourly: audit retention (each pruning serialises on the chain head, so
                    // several nodes doing it at once remove nothing twice).
                    if hourly.tick() {
                        if let Err(e) = sync_dir.prune_all_audit().await {
                            tracing::warn!(error = %e, "audit retention failed");
                        }
                        // The idle-deactivation policy (off unless an organisation sets it),
                        // on one node at a time.
                        match sync_dir.run_idle_policy_job().await {
                            Ok(Some(n)) if n > 0 => {
                                tracing::info!(deactivated = n, "idle-deactivation policy ran")
                            }
                            Ok(_) => {}
                            Err(e) => tracing::warn!(error = %e, "idle-deactivation policy failed"),
                        }
                    }
                }
            });
            // Last uses of tokens, credentials and sessions, kept in memory (issue 9 item 6).
            let flush = tokio::spawn(async move {
                let mut tick = tokio::time::interval(directory::activity::FLUSH_INTERVAL);
                loop {
                    tick.tick().await;
                    if let Err(e) = flush_dir.flush_activity().await {
                        tracing::warn!(error = %e, "last-use flush failed; retrying next time");
                    }
                }
            });
            // The audit log's index tables, filled in batches off the changes' commits
            // (store/audit_index.rs): every FLUSH_EVERY entries, and every FLUSH_INTERVAL
            // for whatever is left (also another node's, on PostgreSQL).
            let index = tokio::spawn(async move {
                loop {
                    if let Err(e) = index_dir.index_audit().await {
                        tracing::warn!(error = %e, "audit index flush failed; retrying next time");
                    }
                    index_dir
                        .db
                        .audit_backlog
                        .wait(store::audit_index::FLUSH_INTERVAL)
                        .await;
                }
            });
            listener::serve(listener, app, limits, stopped).await;
            index.abort();
            sync.abort();
            flush.abort();
            follow.abort();
        });
        Ok(Server {
            addr,
            dir,
            handle,
            stop,
        })
    }

    /// Serves until SIGINT or SIGTERM, then stops gracefully.
    pub async fn run_until_signalled(self) {
        let interrupted = async {
            let _ = tokio::signal::ctrl_c().await;
        };
        #[cfg(unix)]
        let terminated = async {
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(mut s) => {
                    s.recv().await;
                }
                Err(_) => std::future::pending::<()>().await,
            }
        };
        #[cfg(not(unix))]
        let terminated = std::future::pending::<()>();
        tokio::select! {
            _ = interrupted => {}
            _ = terminated => {}
        }
        tracing::info!("stopping");
        self.shutdown().await;
    }

    pub async fn run_until_stopped(self) {
        let _ = self.handle.await;
    }

    /// Stops accepting, lets requests in flight finish, and writes what is kept in memory
    /// (last uses) before returning.
    pub async fn shutdown(self) {
        let _ = self.stop.send(true);
        let _ = self.handle.await;
        if let Err(e) = self.dir.flush_activity().await {
            tracing::error!(error = %e, "last-use flush at shutdown failed");
        }
    }

    /// Stops at once, as a crash would: nothing is flushed (tests of what survives).
    pub fn stop(&self) {
        self.handle.abort();
    }
}
