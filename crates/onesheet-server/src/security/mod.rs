//! Request-level security: who the client is, how often it may fail, and whether it may use
//! display routes.

mod client;
mod display;
mod limiter;

pub use client::{ClientAddress, TrustedProxies};
pub use display::{DEFAULT_DISPLAY_NETWORKS, DisplayAccess, DisplayRefusal, DisplayViewer};
pub use limiter::{Blocked, FailureLimiter, LimitKey, LockoutPolicy};
