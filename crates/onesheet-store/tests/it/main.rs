//! The SQLite store against real database files in temporary folders.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod accounts;
mod audit;
mod sessions;
mod support;
mod tokens;
mod totp;
