//! Media sources and the catalog built from them.
//!
//! Each upstream lives in its own module behind [`MediaSource`]. The [`catalog`] merges what
//! the sources return into immutable snapshots that the server reads without locking.

pub mod catalog;
pub mod demo;
pub mod local;
pub mod source;

pub use catalog::{Catalog, Snapshot, SourceHealth, SourceState};
pub use source::{ImageBody, MediaSource, SourceError};
