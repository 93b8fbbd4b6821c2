//! The HTTP client through which every media source (Plex, Jellyfin, Emby, and later TMDB,
//! TVDB and RomM) talks to its server.
//!
//! [`UpstreamClient`] owns one keep-alive connection pool for all sources. Each configured
//! source gets a [`SourceClient`] from it with its own [`ServerAddress`], TLS options, limits
//! and health: a concurrency limit, a per-request timeout, retries with backoff that honour
//! `Retry-After`, a circuit breaker, coalescing of identical requests in flight, and a size
//! limit on every body. Failures come back as [`UpstreamError`]s with a stable code and a URL
//! whose secrets are replaced by `***`.
//!
//! ```no_run
//! # async fn example() -> Result<(), onesheet_upstream::UpstreamError> {
//! use onesheet_upstream::{ClientDefaults, Request, ServerAddress, SourceOptions, UpstreamClient};
//!
//! let client = UpstreamClient::new(ClientDefaults::default())?;
//! let address = ServerAddress::parse("https://media.example.org/jellyfin/", None, None, Some(8096))
//!     .expect("a valid address");
//! let jellyfin = client.source("living-room", "jellyfin", address, SourceOptions::default())?;
//!
//! let info: serde_json::Value = jellyfin.get_json(Request::json("system-info", "/System/Info/Public")).await?;
//! # Ok(())
//! # }
//! ```

mod address;
mod breaker;
mod client;
mod coalesce;
mod error;
mod json;
mod redact;
mod request;
mod retry;
mod stats;
mod tls;
mod transport;

pub use address::{AddressError, Scheme, ServerAddress};
pub use breaker::{BreakerPolicy, BreakerState};
pub use client::{ClientDefaults, SourceClient, SourceOptions, SourcePolicy, UpstreamClient};
pub use error::UpstreamError;
pub use redact::redact_url;
pub use request::{BodyKind, Request, Response};
pub use reqwest::header::{HeaderName, HeaderValue};
pub use retry::RetryPolicy;
pub use stats::SourceStats;
pub use tls::{TlsOptions, install_crypto_provider};
