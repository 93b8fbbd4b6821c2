//! Fake Plex, Jellyfin and Emby servers for Onesheet's tests and benchmarks.
//!
//! Each fake is an in-process axum server on `127.0.0.1` with a free port. It serves a
//! generated [`Library`] in the shapes of the real API: paths, parameters, headers and JSON or
//! XML fields, checked against the servers' public OpenAPI descriptions. It records every
//! request it receives, and tests can script it to fail the way real servers and the proxies in
//! front of them do.
//!
//! # Starting a fake
//!
//! [`FakePlex::start`], [`FakeJellyfin::start`] and [`FakeEmby::start`] take a configuration
//! and return a [`FakeServer`]:
//!
//! - [`FakeServer::base_url`] is the URL to give the client under test, including any base
//!   path such as `/jellyfin`.
//! - [`FakeServer::recorder`] lists the requests received: method, path, raw and parsed query,
//!   every header, and the response status.
//! - [`FakeServer::control`] changes behaviour while the server runs: [`Fault`] rules, a
//!   [`RateLimit`], the accepted token, sessions, Plex's delay for unpaged listings.
//! - Dropping the server stops it. [`FakeServer::shutdown`] does the same and waits.
//!
//! # Libraries
//!
//! [`Library::generate`] makes `n` items from a seed, deterministically and fast enough for
//! 25,000 items. Titles mix accents, CJK, Arabic and emoji; some items lack artwork or optional
//! fields, carry 4K, HDR10, Dolby Vision or Atmos streams, or have a landscape poster. See
//! [`library`] for the rules. [`Library::generate_range`] picks the canonical indices, so two
//! fakes can hold overlapping films with the same IMDb ids.
//!
//! # Faults
//!
//! A [`FaultRule`] applies a [`Fault`] (an error status, 429 with `Retry-After`, a delay, a
//! truncated body, an HTML sign-in page, XML instead of JSON, an empty body) to requests whose
//! path matches a pattern, optionally only on one page of a listing or on the n-th request, and
//! once, n times or always.
//!
//! # Example
//!
//! A Plex section of 25,000 movies whose page 37 fails once with 503, as a paging client must
//! survive:
//!
//! ```
//! use onesheet_fakes::{Fault, FaultRule, FakePlex, Library, LibraryKind, PlexConfig, StatusCode};
//!
//! # async fn example() -> Result<(), onesheet_fakes::StartError> {
//! let plex = FakePlex::start(PlexConfig {
//!     token: "TOKEN_A".to_owned(),
//!     libraries: vec![Library::generate(LibraryKind::Movies, 25_000, 7)],
//!     ..PlexConfig::default()
//! })
//! .await?;
//! let page_37 = plex.control().add_fault(
//!     FaultRule::new("/library/sections/*/all", Fault::Status(StatusCode::SERVICE_UNAVAILABLE))
//!         .on_page(37)
//!         .once(),
//! );
//!
//! // Run the client under test against `plex.base_url()` with token "TOKEN_A", then check
//! // what it sent.
//! assert_eq!(plex.control().fault_hits(page_37), 1);
//! for request in plex.recorder().matching("/library/sections/*/all") {
//!     assert_eq!(request.header("Accept"), Some("application/json"));
//!     assert!(request.header("X-Plex-Container-Size").is_some());
//! }
//! # Ok(())
//! # }
//! ```

mod control;
mod fault;
mod hash;
mod images;
mod jellyfin;
pub mod library;
mod pattern;
mod pipeline;
mod plex;
mod recorder;
mod server;
mod sessions;
mod tls;
mod xml;

pub use axum::http::StatusCode;
pub use control::Control;
pub use fault::{Fault, FaultId, FaultRule, RateLimit};
pub use jellyfin::{FakeEmby, FakeJellyfin, Flavour, JellyfinConfig};
pub use library::{Library, LibraryKind};
pub use plex::{FakePlex, Playlist, PlexConfig};
pub use recorder::{RecordedRequest, Recorder};
pub use server::{FakeServer, StartError, Transport};
pub use sessions::{NowPlaying, PlayingItem, default_sessions};
pub use tls::TlsError;
