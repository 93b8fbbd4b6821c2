//! Image handling: format sniffing from magic bytes, a cheap validity probe, derived images and
//! their caches.
//!
//! The probe reads headers only and never decodes pixels, so a media scan can check tens of
//! thousands of files at start-up. [`derive`] decodes within limits and resizes for a screen,
//! [`cache::disk`] keeps the results across restarts, and [`pipeline`] puts both behind a memory
//! cache and a bounded decode pool. [`appearance`] computes palettes and blur placeholders.

pub mod appearance;
mod avif;
pub mod cache;
pub mod derive;
mod format;
mod jpeg;
pub mod pipeline;
mod probe;

pub use format::{ImageFormat, sniff};
pub use probe::{ProbeError, ProbeInfo, probe_bytes, probe_file};

#[cfg(test)]
mod tests;
