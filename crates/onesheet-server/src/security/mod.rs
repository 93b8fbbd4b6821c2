//! Request-level security: who the client is and how often it may fail.

mod client;
mod limiter;

pub use client::{ClientAddress, TrustedProxies};
pub use limiter::{Blocked, FailureLimiter, LimitKey, LockoutPolicy};
