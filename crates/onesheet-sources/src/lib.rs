//! Media sources and the catalog built from them.
//!
//! Each upstream lives in its own module behind [`MediaSource`]. The [`catalog`] merges what
//! the sources return into immutable snapshots that the server reads without locking.

pub mod catalog;
pub mod demo;
pub mod jellyfin;
pub mod local;
pub mod mapping;
pub mod memory;
pub mod now_playing;
pub mod plex;
pub mod registry;
pub mod source;

pub use catalog::{Catalog, Snapshot, SourceHealth, SourceState};
pub use source::{
    ImageBody, Library, MediaSource, ProgressView, RefreshProgress, ServerInfo, SourceError,
};

/// Current time in Unix seconds; 0 if the clock is before 1970.
pub(crate) fn now_unix() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |elapsed| elapsed.as_secs() as i64)
}
