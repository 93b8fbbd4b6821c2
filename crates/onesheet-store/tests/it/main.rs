//! The SQLite store against real database files in temporary folders.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod accounts;
mod audit;
mod commands;
mod devices;
mod pairing;
mod presence;
mod profiles;
mod sessions;
mod support;
mod tokens;
mod totp;
