//! Black-box tests of the `onesheet` binary.
//!
//! Every test starts the real server with [`harness::TestServer`] on a free loopback port and
//! a temporary data directory. The display pages are tested in headless Chromium
//! ([`browser::Browser`]). Those tests skip when Chromium is missing, unless
//! `ONESHEET_REQUIRE_BROWSER=1`, which `scripts/test` sets after installing it.

// Test helpers report failures by panicking with a message, like assertions do.
#![allow(clippy::expect_used, clippy::panic, clippy::unwrap_used)]

mod admin;
mod browser;
mod cinema;
mod claim_page;
mod client_core;
mod config_errors;
mod device_modes;
mod devices;
mod display_pages;
mod display_traffic;
mod fixtures;
mod gallery;
mod harness;
mod images;
mod lite;
mod memory;
mod now_playing;
mod offline;
mod old_browsers;
mod remote_keys;
mod screensaver;
mod serve;
mod setup;
mod wallart;
