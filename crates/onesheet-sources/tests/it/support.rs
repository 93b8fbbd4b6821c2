//! Clients and sources pointed at a fake server, with retries fast enough for tests.

use std::time::Duration;

use onesheet_domain::SourceId;
use onesheet_fakes::FakeServer;
use onesheet_upstream::{
    BreakerPolicy, ClientDefaults, RetryPolicy, ServerAddress, SourceClient, SourceOptions,
    SourcePolicy, UpstreamClient,
};

/// A policy with millisecond backoff, so a retried page costs the test almost nothing.
pub fn fast_policy() -> SourcePolicy {
    SourcePolicy {
        request_timeout: Duration::from_secs(5),
        retry: RetryPolicy {
            max_attempts: 4,
            base_delay: Duration::from_millis(5),
            max_delay: Duration::from_millis(20),
            max_retry_after: Duration::from_secs(5),
        },
        breaker: BreakerPolicy {
            failure_threshold: 50,
            cool_down: Duration::from_secs(30),
        },
        ..SourcePolicy::default()
    }
}

pub fn upstream_client() -> UpstreamClient {
    UpstreamClient::new(ClientDefaults {
        connect_timeout: Duration::from_secs(2),
        policy: fast_policy(),
        ..ClientDefaults::default()
    })
    .unwrap()
}

pub fn client_for(fake: &FakeServer, id: &str, kind: &'static str) -> SourceClient {
    let address = ServerAddress::parse(fake.base_url(), None, None, None).unwrap();
    upstream_client()
        .source(id, kind, address, SourceOptions::default())
        .unwrap()
}

pub fn source_id(id: &str) -> SourceId {
    SourceId::new(id).unwrap()
}
