//! The accept loop: HTTP/1.1 and cleartext HTTP/2 (h2c with prior knowledge, told apart by the
//! connection preface) on one port, with a deadline for each HTTP/1.1 request's headers and for
//! the first bytes of any connection (which also closes connections left idle), pings that
//! close dead HTTP/2 connections, a cap on open connections, and a graceful stop.
//! `axum::serve` has neither timeouts nor a cap: 40 slow connections stayed open 130 s
//! (issue 9 item 13). Body deadlines are the extractors' (`http::extract::JsonBody`).

use crate::config::ConnectionLimits;
use axum::extract::ConnectInfo;
use axum::Router;
use hyper::body::Incoming;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use std::sync::Arc;
use std::time::Duration;
use tokio::io::AsyncWriteExt;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{watch, Semaphore};
use tower::ServiceExt;

/// How long a stop waits for requests in flight before dropping their connections.
const DRAIN: Duration = Duration::from_secs(10);

/// Serves `app` until `stop` turns true; then stops accepting and lets open requests finish.
pub async fn serve(
    listener: TcpListener,
    app: Router,
    limits: ConnectionLimits,
    mut stop: watch::Receiver<bool>,
) {
    let open = Arc::new(Semaphore::new(limits.max_connections));
    let graceful = GracefulShutdown::new();
    loop {
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(a) => a,
                Err(e) => {
                    // Out of file descriptors and the like: back off instead of spinning.
                    tracing::warn!(error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            _ = stop.changed() => break,
        };
        // Answers go out as soon as they are written: with Nagle's algorithm on, the last
        // small segment of an answer written in pieces (HTTP/2 frames, a streamed body) waits
        // for the client's delayed ACK, up to 40 ms on Linux.
        if let Err(e) = stream.set_nodelay(true) {
            tracing::debug!(error = %e, %peer, "could not set TCP_NODELAY");
        }
        let Ok(permit) = open.clone().try_acquire_owned() else {
            tokio::spawn(refuse(stream));
            continue;
        };
        let service = app
            .clone()
            .map_request(move |mut req: axum::http::Request<Incoming>| {
                req.extensions_mut().insert(ConnectInfo(peer));
                req
            });
        let watcher = graceful.watcher();
        tokio::spawn(async move {
            let io = TokioIo::new(stream);
            let service = TowerToHyperService::new(service);
            let ended = match preface(io.inner(), limits.header_read_timeout).await {
                None => Ok(()),
                Some(Version::Http1) => {
                    let c = hyper::server::conn::http1::Builder::new()
                        .timer(TokioTimer::new())
                        .header_read_timeout(limits.header_read_timeout)
                        .serve_connection(io, service);
                    watcher.watch(c).await
                }
                Some(Version::Http2) => {
                    // No per-request header deadline in HTTP/2: a connection that stops
                    // answering pings is closed, and one connection's streams are bounded.
                    let c = hyper::server::conn::http2::Builder::new(TokioExecutor::new())
                        .timer(TokioTimer::new())
                        .keep_alive_interval(limits.header_read_timeout)
                        .keep_alive_timeout(limits.header_read_timeout)
                        .max_concurrent_streams(256)
                        .serve_connection(io, service);
                    watcher.watch(c).await
                }
            };
            if let Err(e) = ended {
                tracing::debug!(error = %e, %peer, "connection ended");
            }
            drop(permit);
        });
    }
    drop(listener);
    if tokio::time::timeout(DRAIN, graceful.shutdown())
        .await
        .is_err()
    {
        tracing::warn!(
            "requests still open after {}s; stopping anyway",
            DRAIN.as_secs()
        );
    }
}

enum Version {
    Http1,
    Http2,
}

/// What every HTTP/2 connection with prior knowledge starts with (RFC 9113, 3.4).
const H2_PREFACE: &[u8] = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";

/// Which protocol the client speaks, from its first bytes (peeked, not consumed); `None` when
/// it closes or sends nothing within `deadline`, so a silent connection holds no slot.
async fn preface(stream: &TcpStream, deadline: Duration) -> Option<Version> {
    let mut buf = [0u8; 24];
    tokio::time::timeout(deadline, async {
        loop {
            let n = stream.peek(&mut buf).await.ok()?;
            if n == 0 {
                return None;
            }
            if buf[..n] != H2_PREFACE[..n] {
                return Some(Version::Http1);
            }
            if n == H2_PREFACE.len() {
                return Some(Version::Http2);
            }
            // Part of the preface so far: peeking again at once would see the same bytes.
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
    })
    .await
    .ok()
    .flatten()
}

/// Over the connection cap: a 503 problem and the connection closed, rather than a client
/// left hanging in the backlog.
async fn refuse(mut stream: TcpStream) {
    let body = r#"{"type":"urn:rolecall:problem:too_many_connections","title":"Service Unavailable","status":503,"detail":"the server has too many open connections; retry shortly","code":"too_many_connections"}"#;
    let reply = format!(
        "HTTP/1.1 503 Service Unavailable\r\ncontent-type: application/problem+json\r\nretry-after: 1\r\ncache-control: no-store\r\nconnection: close\r\ncontent-length: {}\r\n\r\n{body}",
        body.len()
    );
    let _ = tokio::time::timeout(Duration::from_secs(5), async {
        let _ = stream.write_all(reply.as_bytes()).await;
        let _ = stream.shutdown().await;
    })
    .await;
}
