//! Errors of the disk cache.

use std::io;
use std::path::PathBuf;

/// Failures of the disk cache. Each message names the path and the next step.
#[derive(Debug, thiserror::Error)]
pub enum DiskCacheError {
    #[error(
        "cannot create cache folder {}: {source}; make it writable or set cache.dir (ONESHEET_CACHE__DIR) to a writable folder",
        .path.display()
    )]
    CreateFolder {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    #[error(
        "cannot read cache folder {}: {source}; check its permissions or point the cache at another folder",
        .path.display()
    )]
    ReadFolder {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    #[error("cannot write cache entry {}: {source}; {}", .path.display(), write_advice(.source))]
    WriteEntry {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    #[error("cannot write cache index {}: {source}; {}", .path.display(), write_advice(.source))]
    WriteIndex {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    #[error("cannot write {}: {source}; {}", .path.display(), write_advice(.source))]
    WriteMarker {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    /// The folder a command was pointed at does not exist. Commands never create it, because a
    /// wrong path would otherwise look like an empty cache.
    #[error(
        "no image cache at {}: the folder does not exist; set cache.dir (ONESHEET_CACHE__DIR) or data_dir (ONESHEET_DATA_DIR) as the server has them",
        .path.display()
    )]
    Missing { path: PathBuf },
    #[error("cannot delete {}: {source}; check the cache folder's permissions", .path.display())]
    Remove {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
}

impl DiskCacheError {
    /// Returns true when the filesystem or a quota ran out of space, so a caller can log this
    /// expected condition differently from a broken disk.
    pub fn is_out_of_space(&self) -> bool {
        match self {
            Self::WriteEntry { source, .. } | Self::WriteIndex { source, .. } => {
                is_out_of_space(source)
            }
            _ => false,
        }
    }
}

fn is_out_of_space(error: &io::Error) -> bool {
    matches!(
        error.kind(),
        io::ErrorKind::StorageFull | io::ErrorKind::QuotaExceeded
    )
}

fn write_advice(error: &io::Error) -> &'static str {
    if is_out_of_space(error) {
        "free disk space, or lower the cache's max_bytes or raise its min_free_bytes"
    } else {
        "check the cache folder's permissions and the disk"
    }
}
