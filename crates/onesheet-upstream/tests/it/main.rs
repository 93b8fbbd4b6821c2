//! Tests against real servers on 127.0.0.1: a scripted axum server that records what it
//! receives, raw TCP servers for broken responses, and an HTTPS server with a throwaway CA.

// Test helpers outside `#[test]` functions may fail loudly too.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod breaker;
mod limits;
mod metrics;
mod responses;
mod retries;
mod support;
mod tls;
