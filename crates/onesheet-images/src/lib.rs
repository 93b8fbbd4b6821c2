//! Image handling: format sniffing from magic bytes and a cheap validity probe.
//!
//! The probe reads headers only and never decodes pixels, so a media scan can check tens of
//! thousands of files at start-up. [`derive`] decodes within limits and resizes for a screen;
//! the derived-image caches will live here too.

pub mod appearance;
mod avif;
pub mod cache;
pub mod derive;
mod format;
mod jpeg;
mod probe;

pub use format::{ImageFormat, sniff};
pub use probe::{ProbeError, ProbeInfo, probe_bytes, probe_file};

#[cfg(test)]
mod tests;
