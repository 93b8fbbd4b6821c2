//! The connection loop: accepts TCP connections and serves HTTP/1.1 on them with the limits a
//! public-facing server needs, which `axum::serve` does not set.
//!
//! - Request headers must arrive within [`HEADER_READ_TIMEOUT`], so a client that sends them a
//!   byte at a time (slowloris) cannot hold a connection for long. hyper also applies this
//!   timeout while a keep-alive connection waits for its next request, so it is also the
//!   keep-alive idle limit. Headers larger than [`MAX_HEADER_BUFFER`] are rejected with 431.
//! - A connection on which nothing is read for [`IDLE_TIMEOUT`], or on which a write makes no
//!   progress for [`WRITE_TIMEOUT`], is closed. That bounds how long a client that stops reading
//!   can keep a response buffer (at most 1 MiB, see the image route) in memory.
//! - At most `max_connections` connections are open at once. Past that, new ones wait in the
//!   kernel's accept queue, so they cannot take file descriptors the server needs. The caller
//!   sizes it below the process's open-file limit.
//! - With TLS, the handshake runs in the connection's own task and must finish within
//!   [`TLS_HANDSHAKE_TIMEOUT`], so a client that connects and sends nothing, or sends its
//!   ClientHello slowly, never delays the accept loop. The limits above apply to TLS
//!   connections as well, and the connection counts against `max_connections` from its accept.
//! - On shutdown, idle connections close at once and requests in flight may finish.
//! - Connections may be upgraded (the device WebSocket). hyper hands an upgraded connection to
//!   its handler and drops it, so it no longer counts against `max_connections`, and the
//!   device service, not this loop, closes it at shutdown.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::ConnectInfo;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpListener;
use tokio::sync::{Semaphore, watch};
use tokio_io_timeout::TimeoutStream;
use tower::ServiceExt;
use tracing::{debug, warn};

use crate::tls::ServerTls;

/// Maximum time a client may take to send a request's headers, counted from the connection's
/// start or the end of the previous response. Longer than the default screen interval (10 s), so
/// screens reuse their keep-alive connections.
pub const HEADER_READ_TIMEOUT: Duration = Duration::from_secs(30);
/// Maximum time a connection may go without receiving a byte. It is a safety net behind the
/// header timeout, for the parts of a request that timeout does not cover.
pub const IDLE_TIMEOUT: Duration = Duration::from_secs(75);
/// Read buffer per connection, which bounds the request head. hyper's default is about 400 KiB,
/// which a client that never finishes its headers could hold on every connection.
pub const MAX_HEADER_BUFFER: usize = 64 * 1024;
/// Maximum time a write may make no progress before the client is treated as gone.
pub const WRITE_TIMEOUT: Duration = Duration::from_secs(30);
/// Maximum time from accepting a connection to the end of its TLS handshake. A real client
/// needs one or two round trips, and the slack covers slow mobile links.
pub const TLS_HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);
/// How often at most a failing `accept` is logged, because it fails on every attempt while the
/// cause lasts.
const ACCEPT_WARNING_INTERVAL: Duration = Duration::from_secs(60);

/// Marks a request that arrived on a TLS connection to this server. The listener inserts it
/// next to [`ConnectInfo`], and the request middleware then treats the request as HTTPS
/// regardless of the peer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ConnectionTls;

/// Serves `app` on `listener` until `shutdown` resolves, then stops accepting and returns a
/// [`Draining`] handle that completes when the open connections have finished. With `tls`,
/// every connection must speak TLS, and each one uses the certificate that is current when it
/// is accepted.
pub async fn serve(
    listener: TcpListener,
    app: Router,
    max_connections: usize,
    tls: Option<Arc<ServerTls>>,
    shutdown: impl Future<Output = ()>,
) -> Draining {
    let (stop, stopping) = watch::channel(false);
    let permits = Arc::new(Semaphore::new(max_connections));
    let mut last_accept_warning: Option<std::time::Instant> = None;
    let mut accept_failures: u64 = 0;
    tokio::pin!(shutdown);

    loop {
        let permit = tokio::select! {
            permit = permits.clone().acquire_owned() => match permit {
                Ok(permit) => permit,
                Err(_) => break,
            },
            () = &mut shutdown => break,
        };
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(error) => {
                    // Usually EMFILE or ECONNABORTED. Pausing avoids a hot loop while it lasts.
                    accept_failures += 1;
                    if last_accept_warning.is_none_or(|at| at.elapsed() >= ACCEPT_WARNING_INTERVAL) {
                        warn!(%error, failures = accept_failures, "accepting connections failed");
                        last_accept_warning = Some(std::time::Instant::now());
                        accept_failures = 0;
                    }
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        if let Err(error) = stream.set_nodelay(true) {
            debug!(%error, "cannot disable Nagle's algorithm");
        }

        let mut stream = TimeoutStream::new(stream);
        stream.set_read_timeout(Some(IDLE_TIMEOUT));
        stream.set_write_timeout(Some(WRITE_TIMEOUT));
        let stream = Box::pin(stream);

        // The receiver also detects a shutdown signalled while the TLS handshake ran, because it
        // checks the current value before it waits.
        let watcher = stopping.clone();
        let acceptor = tls.as_ref().map(|tls| tls.acceptor());
        let app = app.clone();
        tokio::spawn(async move {
            match acceptor {
                None => serve_connection(stream, app, peer, false, watcher).await,
                Some(acceptor) => {
                    match tokio::time::timeout(TLS_HANDSHAKE_TIMEOUT, acceptor.accept(stream)).await
                    {
                        Ok(Ok(stream)) => serve_connection(stream, app, peer, true, watcher).await,
                        // Scanners and plain-HTTP requests on the HTTPS port fail here all day,
                        // so these stay at DEBUG.
                        Ok(Err(error)) => {
                            debug!(client.ip = %peer.ip(), %error, "TLS handshake failed");
                        }
                        Err(_) => debug!(
                            client.ip = %peer.ip(),
                            timeout_seconds = TLS_HANDSHAKE_TIMEOUT.as_secs(),
                            "TLS handshake timed out"
                        ),
                    }
                }
            }
            drop(permit);
        });
    }

    Draining {
        stop,
        permits,
        max_connections,
    }
}

/// Serves HTTP/1.1 on one accepted connection, plain or after its TLS handshake, until the
/// client or a graceful shutdown closes it.
async fn serve_connection<S>(
    stream: S,
    app: Router,
    peer: SocketAddr,
    tls: bool,
    mut stopping: watch::Receiver<bool>,
) where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let service = app.map_request(
        move |mut request: axum::extract::Request<hyper::body::Incoming>| {
            request.extensions_mut().insert(ConnectInfo(peer));
            if tls {
                request.extensions_mut().insert(ConnectionTls);
            }
            request
        },
    );
    let connection = hyper::server::conn::http1::Builder::new()
        .timer(TokioTimer::new())
        .header_read_timeout(HEADER_READ_TIMEOUT)
        .max_buf_size(MAX_HEADER_BUFFER)
        .serve_connection(TokioIo::new(stream), TowerToHyperService::new(service))
        .with_upgrades();
    tokio::pin!(connection);

    let result = tokio::select! {
        result = connection.as_mut() => result,
        () = stopped(&mut stopping) => {
            // Closes the connection once the response to its request in flight, if any, is sent.
            connection.as_mut().graceful_shutdown();
            connection.await
        }
    };
    if let Err(error) = result {
        debug!(client.ip = %peer.ip(), %error, "connection ended with an error");
    }
}

/// Waits until shutdown is signalled. A closed channel counts as a shutdown.
async fn stopped(stopping: &mut watch::Receiver<bool>) {
    // The guard that `wait_for` returns is dropped here, before the caller's next await.
    let _ = stopping.wait_for(|stop| *stop).await;
}

/// Open connections after the listener stopped.
pub struct Draining {
    stop: watch::Sender<bool>,
    permits: Arc<Semaphore>,
    max_connections: usize,
}

impl Draining {
    /// Closes idle connections and waits for requests in flight to finish. Every connection
    /// returns its permit when it ends, so all permits back means all connections are done.
    pub async fn finish(self) {
        self.stop.send_replace(true);
        let all = u32::try_from(self.max_connections).unwrap_or(u32::MAX);
        // Errors only when the semaphore is closed, and nothing closes it.
        let _ = self.permits.acquire_many(all).await;
    }
}
