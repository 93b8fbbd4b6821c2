//! Tests of the fakes themselves, over real loopback HTTP: paging, credentials, response
//! formats, scripted faults, the request recorder and shutdown.

// Test helpers report failures by panicking with a message, like assertions do.
#![allow(clippy::expect_used, clippy::panic, clippy::unwrap_used)]

mod faults;
mod jellyfin;
mod plex;
mod server;
mod support;
