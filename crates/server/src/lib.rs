//! rolecall: the server, its storage and HTTP adapters, and the `rolecall` command line.
//! The domain rules live in `rolecall-core`; this crate wires them to SQL, HTTP and the terminal.

pub mod auth;
pub mod cli;
pub mod config;
pub mod credentials;
pub mod directory;
pub mod error;
pub mod http;
#[cfg(test)]
mod layers;
pub mod mail;
pub mod sample;
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
}

impl Server {
    /// Opens the store, binds the listener and starts serving in the background.
    pub async fn start(config: &Config) -> error::Result<Server> {
        let db = store::Db::connect(config.database_url.as_deref(), &config.data_dir).await?;
        let dir = Arc::new(
            Directory::open(db, Arc::new(SystemClock), config.extra_applications()?).await?,
        );
        Self::start_with(config, dir).await
    }

    pub async fn start_with(config: &Config, dir: Arc<Directory>) -> error::Result<Server> {
        let listener = tokio::net::TcpListener::bind(&config.listen)
            .await
            .map_err(|e| {
                error::Error::Internal(format!("cannot listen on {}: {e}", config.listen))
            })?;
        let addr = listener
            .local_addr()
            .map_err(|e| error::Error::Internal(e.to_string()))?;
        let state = http::AppState::new(
            dir.clone(),
            config.bootstrap_token_hash.as_deref().map(Arc::from),
            config.sign_in_limit_per_minute,
        );
        let app = http::app(state);
        let sync_dir = dir.clone();
        let mail = mail::Mailer::from_config(config)?; // SMTP if configured, else <data_dir>/mail
        let handle = tokio::spawn(async move {
            // Other nodes on the same PostgreSQL change rights too: pick their changes up.
            let sync = tokio::spawn(async move {
                let mut tick = tokio::time::interval(Duration::from_millis(500));
                let mut hourly = Every::new(7200);
                loop {
                    tick.tick().await;
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
                    }
                }
            });
            if let Err(e) = axum::serve(
                listener,
                app.into_make_service_with_connect_info::<std::net::SocketAddr>(),
            )
            .await
            {
                tracing::error!(error = %e, "server stopped");
            }
            sync.abort();
        });
        Ok(Server { addr, dir, handle })
    }

    pub async fn run_until_stopped(self) {
        let _ = self.handle.await;
    }

    pub fn stop(&self) {
        self.handle.abort();
    }
}
