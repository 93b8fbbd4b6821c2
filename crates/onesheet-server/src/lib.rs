//! Onesheet's HTTP side: one axum router for display pages, the display API, images, health and
//! the admin API.
//!
//! Handlers are thin: they parse the request, call the catalog or the store, and map the result.
//! Every error goes through [`error::ApiError`], which is the one place that picks the status
//! code, the stable machine code and the message a client may see.

pub mod accounts;
pub mod auth;
pub mod data_files;
pub mod devices;
pub mod error;
pub mod listener;
pub mod logs;
mod middleware;
mod routes;
pub mod security;
mod state;
pub mod tls;

pub use routes::{bare_routes, display_routes, protected_routes, router};
pub use state::{AppState, BasePath, TaggedSettings};
