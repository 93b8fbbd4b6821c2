//! The connection loop: accepts TCP connections and serves HTTP/1.1 on them with the limits a
//! public-facing server needs, which `axum::serve` does not set.
//!
//! - Request headers must arrive within [`HEADER_READ_TIMEOUT`], so a client that sends them a
//!   byte at a time (slowloris) cannot hold a connection.
//! - A connection on which nothing is read for [`IDLE_TIMEOUT`], or on which a write makes no
//!   progress for [`WRITE_TIMEOUT`], is closed. That bounds how long a client that stops reading
//!   can keep a response buffer (at most 1 MiB, see the image route) in memory.
//! - At most [`MAX_CONNECTIONS`] connections are open at once. Past that, new ones wait in the
//!   kernel's accept queue, so they cannot take file descriptors the server needs.
//! - On shutdown, idle connections close at once and requests in flight may finish.

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::ConnectInfo;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use tokio::net::TcpListener;
use tokio::sync::Semaphore;
use tokio_io_timeout::TimeoutStream;
use tower::ServiceExt;
use tracing::{debug, warn};

/// Maximum time a client may take to send a request's headers.
pub const HEADER_READ_TIMEOUT: Duration = Duration::from_secs(10);
/// Maximum time a connection may go without receiving a byte. Longer than the interval at which
/// screens poll, so their keep-alive connections are reused.
pub const IDLE_TIMEOUT: Duration = Duration::from_secs(75);
/// Maximum time a write may make no progress before the client is treated as gone.
pub const WRITE_TIMEOUT: Duration = Duration::from_secs(30);
/// Maximum number of connections served at once.
pub const MAX_CONNECTIONS: usize = 4096;

/// Serves `app` on `listener` until `shutdown` resolves, then stops accepting and returns a
/// [`Draining`] handle that completes when the open connections have finished.
pub async fn serve(
    listener: TcpListener,
    app: Router,
    shutdown: impl Future<Output = ()>,
) -> Draining {
    let graceful = GracefulShutdown::new();
    let permits = Arc::new(Semaphore::new(MAX_CONNECTIONS));
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
                    warn!(%error, "accepting a connection failed");
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
        let io = TokioIo::new(Box::pin(stream));

        let service = app.clone().map_request(
            move |mut request: axum::extract::Request<hyper::body::Incoming>| {
                request.extensions_mut().insert(ConnectInfo(peer));
                request
            },
        );
        let connection = hyper::server::conn::http1::Builder::new()
            .timer(TokioTimer::new())
            .header_read_timeout(HEADER_READ_TIMEOUT)
            .serve_connection(io, TowerToHyperService::new(service));
        let connection = graceful.watch(connection);
        tokio::spawn(async move {
            if let Err(error) = connection.await {
                debug!(client.ip = %peer.ip(), %error, "connection ended with an error");
            }
            drop(permit);
        });
    }

    Draining { graceful }
}

/// Open connections after the listener stopped.
pub struct Draining {
    graceful: GracefulShutdown,
}

impl Draining {
    /// Closes idle connections and waits for requests in flight to finish.
    pub async fn finish(self) {
        self.graceful.shutdown().await;
    }
}
