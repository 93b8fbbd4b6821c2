//! Router-level tests: real store, real catalog, a test source over real files, requests sent
//! with `oneshot`.

// Test helpers outside `#[test]` functions may fail loudly too.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod accounts;
mod admin;
mod admin_logs;
mod admin_pages;
mod admin_status;
mod assets;
mod derived;
mod devices;
mod display;
mod display_access;
mod filters;
mod health;
mod images;
mod lite;
mod now_playing;
mod pages;
mod presets;
mod security;
mod settings_history;
mod support;
mod tls;
