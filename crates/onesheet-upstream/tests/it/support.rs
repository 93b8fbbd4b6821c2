//! Fake upstream servers on 127.0.0.1 that record every request they receive.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Router;
use axum::extract::{Request, State};
use axum::http::HeaderMap;
use axum::middleware::{self, Next};
use axum::response::Response;
use onesheet_upstream::{
    BreakerPolicy, ClientDefaults, RetryPolicy, ServerAddress, SourceClient, SourceOptions,
    SourcePolicy, UpstreamClient,
};
use tokio::net::TcpListener;

/// One request as the fake server saw it.
#[derive(Debug, Clone)]
pub struct Seen {
    pub path: String,
    pub query: Option<String>,
    pub headers: HeaderMap,
    pub at: Instant,
}

/// Requests received, and how many were in the handler at once.
#[derive(Debug, Default)]
pub struct Log {
    seen: Mutex<Vec<Seen>>,
    in_flight: AtomicUsize,
    max_in_flight: AtomicUsize,
}

impl Log {
    pub fn requests(&self) -> Vec<Seen> {
        self.seen.lock().unwrap().clone()
    }

    pub fn count(&self, path: &str) -> usize {
        self.requests()
            .iter()
            .filter(|seen| seen.path == path)
            .count()
    }

    pub fn max_in_flight(&self) -> usize {
        self.max_in_flight.load(Ordering::SeqCst)
    }
}

/// A running fake server.
pub struct Upstream {
    pub addr: SocketAddr,
    pub log: Arc<Log>,
}

impl Upstream {
    /// Serves `router` on a free loopback port, recording each request before it is handled.
    pub async fn start(router: Router) -> Self {
        let log = Arc::new(Log::default());
        let app = router.layer(middleware::from_fn_with_state(log.clone(), record));
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move {
            axum::serve(listener, app).await.unwrap();
        });
        Self { addr, log }
    }

    pub fn address(&self) -> ServerAddress {
        ServerAddress::parse(&self.addr.to_string(), None, None, None).unwrap()
    }

    pub fn source(&self, policy: SourcePolicy) -> SourceClient {
        source_for(self.address(), policy, SourceOptions::default())
    }
}

async fn record(State(log): State<Arc<Log>>, request: Request, next: Next) -> Response {
    log.seen.lock().unwrap().push(Seen {
        path: request.uri().path().to_owned(),
        query: request.uri().query().map(str::to_owned),
        headers: request.headers().clone(),
        at: Instant::now(),
    });
    let now = log.in_flight.fetch_add(1, Ordering::SeqCst) + 1;
    log.max_in_flight.fetch_max(now, Ordering::SeqCst);

    let response = next.run(request).await;

    log.in_flight.fetch_sub(1, Ordering::SeqCst);
    response
}

/// Returns a policy for tests: millisecond backoff and a breaker that stays closed.
pub fn fast_policy() -> SourcePolicy {
    SourcePolicy {
        request_timeout: Duration::from_secs(5),
        max_in_flight: 4,
        max_json_bytes: 64 * 1024,
        max_image_bytes: 256 * 1024,
        retry: RetryPolicy {
            max_attempts: 4,
            base_delay: Duration::from_millis(5),
            max_delay: Duration::from_millis(20),
            max_retry_after: Duration::from_secs(5),
        },
        breaker: BreakerPolicy {
            failure_threshold: 1000,
            cool_down: Duration::from_secs(60),
        },
    }
}

pub fn source_for(
    address: ServerAddress,
    policy: SourcePolicy,
    options: SourceOptions,
) -> SourceClient {
    client()
        .source(
            "test-source",
            "test",
            address,
            SourceOptions {
                policy: Some(policy),
                ..options
            },
        )
        .unwrap()
}

pub fn client() -> UpstreamClient {
    UpstreamClient::new(ClientDefaults {
        connect_timeout: Duration::from_secs(2),
        ..ClientDefaults::default()
    })
    .unwrap()
}

/// Returns a loopback port on which nothing listens.
pub async fn closed_port() -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    listener.local_addr().unwrap()
}
