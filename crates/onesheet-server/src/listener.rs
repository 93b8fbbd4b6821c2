//! The connection loop: accepts TCP connections and serves HTTP/1.1 on them with the limits a
//! public-facing server needs, which `axum::serve` does not set.
//!
//! - Request headers must arrive within [`HEADER_READ_TIMEOUT`], so a client that sends them a
//!   byte at a time (slowloris) cannot hold a connection for long. hyper also applies this
//!   timeout while a keep-alive connection waits for its next request, so it is also the
//!   keep-alive idle limit. Headers larger than [`MAX_HEADER_BUFFER`] are rejected with 431.
//! - A connection on which nothing is read for [`IDLE_TIMEOUT`] while no response is being
//!   sent, or on which a write makes no progress for [`WRITE_TIMEOUT`], is closed. That bounds
//!   how long a client that stops reading can keep a response buffer (at most 1 MiB, see the
//!   image route) in memory. The read timer pauses while a response body is sent, because a
//!   client of a live feed (server-sent events) sends nothing for as long as the feed lasts.
//!   The write timeout still closes such a connection when the client stops reading.
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

use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::task::{Context, Poll};
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::extract::ConnectInfo;
use http_body_util::BodyExt;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use pin_project_lite::pin_project;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpListener;
use tokio::sync::{Semaphore, watch};
use tokio::time::{Instant, Sleep};
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
        stream.set_write_timeout(Some(WRITE_TIMEOUT));
        let responses = ResponsesInFlight::default();
        let stream = Box::pin(IdleReadTimeout::new(
            stream,
            IDLE_TIMEOUT,
            responses.clone(),
        ));

        // The receiver also detects a shutdown signalled while the TLS handshake ran, because it
        // checks the current value before it waits.
        let watcher = stopping.clone();
        let acceptor = tls.as_ref().map(|tls| tls.acceptor());
        let app = app.clone();
        tokio::spawn(async move {
            match acceptor {
                None => serve_connection(stream, app, peer, false, responses, watcher).await,
                Some(acceptor) => {
                    match tokio::time::timeout(TLS_HANDSHAKE_TIMEOUT, acceptor.accept(stream)).await
                    {
                        Ok(Ok(stream)) => {
                            serve_connection(stream, app, peer, true, responses, watcher).await;
                        }
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
    responses: ResponsesInFlight,
    mut stopping: watch::Receiver<bool>,
) where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let service = app
        .map_request(
            move |mut request: axum::extract::Request<hyper::body::Incoming>| {
                request.extensions_mut().insert(ConnectInfo(peer));
                if tls {
                    request.extensions_mut().insert(ConnectionTls);
                }
                request
            },
        )
        .map_response(move |response: axum::response::Response| responses.track(response));
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

/// Count of the connection's responses whose body is still being sent. hyper drops a body when
/// it has sent it or the connection ends, which drops its [`ResponseGuard`].
#[derive(Debug, Clone, Default)]
struct ResponsesInFlight(Arc<AtomicUsize>);

impl ResponsesInFlight {
    /// Counts `response` as in flight until hyper drops its body.
    fn track(&self, response: axum::response::Response) -> axum::response::Response {
        self.0.fetch_add(1, Ordering::SeqCst);
        let guard = ResponseGuard(self.0.clone());
        response.map(|body| {
            Body::new(body.map_frame(move |frame| {
                // The closure owns the guard, so the count drops with the body.
                let _ = &guard;
                frame
            }))
        })
    }

    fn any(&self) -> bool {
        self.0.load(Ordering::SeqCst) > 0
    }
}

struct ResponseGuard(Arc<AtomicUsize>);

impl Drop for ResponseGuard {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

pin_project! {
    /// A connection whose reads fail with `TimedOut` after `timeout` without a byte, counted
    /// only while no response is in flight.
    struct IdleReadTimeout<S> {
        #[pin]
        inner: S,
        #[pin]
        deadline: Sleep,
        // True while `deadline` counts down for the read in progress.
        armed: bool,
        timeout: Duration,
        responses: ResponsesInFlight,
    }
}

impl<S> IdleReadTimeout<S> {
    fn new(inner: S, timeout: Duration, responses: ResponsesInFlight) -> Self {
        Self {
            inner,
            deadline: tokio::time::sleep(timeout),
            armed: false,
            timeout,
            responses,
        }
    }
}

impl<S: AsyncRead> AsyncRead for IdleReadTimeout<S> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let mut this = self.project();
        if let Poll::Ready(result) = this.inner.poll_read(cx, buf) {
            *this.armed = false;
            return Poll::Ready(result);
        }
        // hyper polls the read again when a response ends, which starts the timer then.
        if this.responses.any() {
            *this.armed = false;
            return Poll::Pending;
        }
        if !*this.armed {
            this.deadline.as_mut().reset(Instant::now() + *this.timeout);
            *this.armed = true;
        }
        match this.deadline.poll(cx) {
            Poll::Ready(()) => Poll::Ready(Err(io::Error::new(
                io::ErrorKind::TimedOut,
                "no bytes received within the idle timeout",
            ))),
            Poll::Pending => Poll::Pending,
        }
    }
}

impl<S: AsyncWrite> AsyncWrite for IdleReadTimeout<S> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        self.project().inner.poll_write(cx, buf)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        self.project().inner.poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.project().inner.poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.project().inner.poll_shutdown(cx)
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

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use std::convert::Infallible;

    use axum::routing::{get, post};
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio::net::TcpStream;

    use super::*;

    /// Idle timeout of the test connections, short so the tests run past it quickly.
    const SHORT_IDLE: Duration = Duration::from_millis(300);

    /// Serves `app` on one loopback connection with [`SHORT_IDLE`] as its idle timeout.
    async fn serve_one(app: Router) -> SocketAddr {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = listener.local_addr().unwrap();
        tokio::spawn(async move {
            let (stream, peer) = listener.accept().await.unwrap();
            let responses = ResponsesInFlight::default();
            let stream = Box::pin(IdleReadTimeout::new(stream, SHORT_IDLE, responses.clone()));
            let (_stop, stopping) = watch::channel(false);
            serve_connection(stream, app, peer, false, responses, stopping).await;
        });
        address
    }

    /// Sends `request` and reads until the server closes the connection, within 10 s.
    async fn exchange(address: SocketAddr, request: &str) -> (String, Duration) {
        let started = std::time::Instant::now();
        let mut client = TcpStream::connect(address).await.unwrap();
        client.write_all(request.as_bytes()).await.unwrap();
        let mut received = Vec::new();
        let read = tokio::time::timeout(Duration::from_secs(10), client.read_to_end(&mut received));
        // A reset after the server's timeout also ends the exchange.
        let _ = read.await.unwrap();
        (
            String::from_utf8_lossy(&received).into_owned(),
            started.elapsed(),
        )
    }

    #[tokio::test]
    async fn streamed_response_outlasts_idle_timeout() {
        const TICKS: usize = 12;
        let app = Router::new().route(
            "/feed",
            get(|| async {
                let ticks = futures::stream::unfold(0, |sent| async move {
                    if sent == TICKS {
                        return None;
                    }
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    Some((Ok::<_, Infallible>(format!("tick {sent}\n")), sent + 1))
                });
                Body::from_stream(ticks)
            }),
        );
        let address = serve_one(app).await;

        let (response, elapsed) = exchange(
            address,
            "GET /feed HTTP/1.1\r\nHost: test\r\nConnection: close\r\n\r\n",
        )
        .await;

        assert!(
            elapsed > SHORT_IDLE * 3,
            "the response ended after {elapsed:?}"
        );
        assert!(response.starts_with("HTTP/1.1 200"), "{response}");
        assert!(
            response.contains(&format!("tick {}", TICKS - 1)),
            "{response}"
        );
        assert!(
            response.ends_with("0\r\n\r\n"),
            "the body was cut: {response}"
        );
    }

    #[tokio::test]
    async fn stalled_request_body_hits_idle_timeout() {
        let app = Router::new().route("/upload", post(|body: String| async move { body }));
        let address = serve_one(app).await;

        let (response, elapsed) = exchange(
            address,
            "POST /upload HTTP/1.1\r\nHost: test\r\nContent-Length: 10\r\n\r\nabc",
        )
        .await;

        assert!(
            elapsed >= SHORT_IDLE,
            "the connection closed after {elapsed:?}"
        );
        assert!(
            elapsed < Duration::from_secs(5),
            "the connection stayed open {elapsed:?}"
        );
        assert!(!response.contains(" 200 "), "{response}");
    }

    #[tokio::test]
    async fn finished_response_restarts_idle_timer() {
        let app = Router::new().route(
            "/",
            get(|| async { "ok" }).post(|body: String| async move { body }),
        );
        let address = serve_one(app).await;

        // A second request that never finishes its body, after a complete exchange.
        let (response, elapsed) = exchange(
            address,
            "GET / HTTP/1.1\r\nHost: test\r\n\r\n\
             POST / HTTP/1.1\r\nHost: test\r\nContent-Length: 10\r\n\r\n",
        )
        .await;

        assert!(response.starts_with("HTTP/1.1 200"), "{response}");
        assert_eq!(response.matches("HTTP/1.1 200").count(), 1, "{response}");
        assert!(
            elapsed >= SHORT_IDLE,
            "the connection closed after {elapsed:?}"
        );
        assert!(
            elapsed < Duration::from_secs(5),
            "the connection stayed open {elapsed:?}"
        );
    }
}
