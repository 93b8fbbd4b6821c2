//! Media-server sources against the fake Plex, Jellyfin and Emby servers, on loopback.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod jellyfin;
mod plex;
mod registry;
mod support;
