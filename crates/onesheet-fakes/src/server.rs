//! The running fake: a loopback listener that serves one fake's router over HTTP/1.1 (or HTTPS
//! with a throwaway CA), and the [`FakeServer`] handle that shuts it down when dropped.

use std::convert::Infallible;
use std::net::{Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::extract::Request;
use axum::response::Response;
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::{GracefulShutdown, Watcher};
use hyper_util::service::TowerToHyperService;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::oneshot;
use tokio::task::{JoinHandle, JoinSet};
use tokio_rustls::TlsAcceptor;
use tower::ServiceBuilder;
use tower::util::BoxCloneService;
use tracing::debug;

use crate::control::Control;
use crate::library::Library;
use crate::pipeline::{self, Canonicalise, Pipeline};
use crate::recorder::Recorder;
use crate::tls::{self, TlsError};

/// How long requests still in flight may run after shutdown before their connections are cut.
/// Short, because a fake's slowest responses (scripted delays) only matter to a test that has
/// already finished.
const SHUTDOWN_GRACE: Duration = Duration::from_millis(500);

/// Failure to start a fake server.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error("binding 127.0.0.1:0 failed: {0}")]
    Bind(#[source] std::io::Error),
    #[error(transparent)]
    Tls(#[from] TlsError),
}

/// Transport of a fake server.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Transport {
    #[default]
    Http,
    /// HTTPS with a certificate for `localhost` and `127.0.0.1`, signed by a certificate
    /// authority generated for this server only.
    Https,
}

type FakeService = BoxCloneService<Request<Incoming>, Response, Infallible>;

/// Everything [`start`] needs from one fake.
pub(crate) struct ServeSpec {
    pub(crate) router: Router,
    pub(crate) base_path: String,
    pub(crate) transport: Transport,
    pub(crate) recorder: Recorder,
    pub(crate) control: Control,
    pub(crate) canonicalise: Option<Canonicalise>,
    pub(crate) libraries: Arc<[Library]>,
}

/// A running fake server. Dropping it stops the server: the listener closes at once, idle
/// connections close, and requests still in flight are cut after half a second.
#[derive(Debug)]
pub struct FakeServer {
    base_url: String,
    address: SocketAddr,
    recorder: Recorder,
    control: Control,
    libraries: Arc<[Library]>,
    ca_certificate_pem: Option<String>,
    shutdown: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<()>>,
}

impl FakeServer {
    /// Base URL of the API, with the base path and without a trailing slash, such as
    /// `http://127.0.0.1:41234/jellyfin`.
    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    /// `path` (which starts with `/`) appended to the base URL.
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base_url)
    }

    pub fn address(&self) -> SocketAddr {
        self.address
    }

    /// Returns the log of received requests.
    pub fn recorder(&self) -> &Recorder {
        &self.recorder
    }

    /// Returns the handle that changes behaviour while the server runs.
    pub fn control(&self) -> &Control {
        &self.control
    }

    /// Returns the libraries the server serves, with the item keys it assigned.
    pub fn libraries(&self) -> &[Library] {
        &self.libraries
    }

    /// PEM of the certificate authority that signed the server's certificate, for HTTPS fakes.
    pub fn ca_certificate_pem(&self) -> Option<&str> {
        self.ca_certificate_pem.as_deref()
    }

    /// Stops the server and waits until its listener and every connection have closed.
    pub async fn shutdown(mut self) {
        if let Some(sender) = self.shutdown.take() {
            let _ = sender.send(());
        }
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
    }
}

impl Drop for FakeServer {
    fn drop(&mut self) {
        // The server task finishes by itself within the grace period once signalled.
        if let Some(sender) = self.shutdown.take() {
            let _ = sender.send(());
        }
    }
}

/// Binds 127.0.0.1 on a free port and serves `spec` until the returned server is dropped.
pub(crate) async fn start(spec: ServeSpec) -> Result<FakeServer, StartError> {
    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
        .await
        .map_err(StartError::Bind)?;
    let address = listener.local_addr().map_err(StartError::Bind)?;

    let (acceptor, ca_certificate_pem, scheme) = match spec.transport {
        Transport::Http => (None, None, "http"),
        Transport::Https => {
            let setup = tls::generate()?;
            (Some(setup.acceptor), Some(setup.ca_pem), "https")
        }
    };

    let pipeline = Arc::new(Pipeline {
        recorder: spec.recorder.clone(),
        control: spec.control.clone(),
        base_path: spec.base_path.clone(),
        canonicalise: spec.canonicalise,
    });
    // The pipeline wraps the router instead of being one of its layers, so it receives (and may
    // rewrite) every request before routing, including those that match no route.
    let service: FakeService = BoxCloneService::new(
        ServiceBuilder::new()
            .map_request(|request: Request<Incoming>| request.map(Body::new))
            .layer(axum::middleware::from_fn_with_state(
                pipeline,
                pipeline::run,
            ))
            .service(spec.router),
    );

    let (shutdown, shutdown_signal) = oneshot::channel();
    let task = tokio::spawn(accept_loop(listener, service, acceptor, shutdown_signal));

    Ok(FakeServer {
        base_url: format!("{scheme}://{address}{}", spec.base_path),
        address,
        recorder: spec.recorder,
        control: spec.control,
        libraries: spec.libraries,
        ca_certificate_pem,
        shutdown: Some(shutdown),
        task: Some(task),
    })
}

async fn accept_loop(
    listener: TcpListener,
    service: FakeService,
    acceptor: Option<TlsAcceptor>,
    mut shutdown: oneshot::Receiver<()>,
) {
    let graceful = GracefulShutdown::new();
    let mut connections = JoinSet::new();
    loop {
        tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => {
                    connections.spawn(serve_connection(
                        stream,
                        acceptor.clone(),
                        service.clone(),
                        graceful.watcher(),
                    ));
                }
                Err(error) => {
                    debug!(%error, "fake server failed to accept a connection");
                    tokio::time::sleep(Duration::from_millis(10)).await;
                }
            },
            // Dropping the sender without sending also stops the server.
            _ = &mut shutdown => break,
            Some(_) = connections.join_next(), if !connections.is_empty() => {}
        }
    }

    drop(listener);
    if tokio::time::timeout(SHUTDOWN_GRACE, graceful.shutdown())
        .await
        .is_err()
    {
        debug!("fake server cut connections still busy after the grace period");
    }
    connections.shutdown().await;
}

async fn serve_connection(
    stream: TcpStream,
    acceptor: Option<TlsAcceptor>,
    service: FakeService,
    watcher: Watcher,
) {
    match acceptor {
        None => serve_http(stream, service, watcher).await,
        Some(acceptor) => match acceptor.accept(stream).await {
            Ok(stream) => serve_http(stream, service, watcher).await,
            // Expected in tests that check a client rejects the certificate.
            Err(error) => debug!(%error, "fake server TLS handshake failed"),
        },
    }
}

async fn serve_http<IO>(stream: IO, service: FakeService, watcher: Watcher)
where
    IO: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let connection = hyper::server::conn::http1::Builder::new()
        .timer(TokioTimer::new())
        .serve_connection(TokioIo::new(stream), TowerToHyperService::new(service));
    if let Err(error) = watcher.watch(connection).await {
        // Truncated-body faults end here on purpose.
        debug!(%error, "fake server connection ended with an error");
    }
}
