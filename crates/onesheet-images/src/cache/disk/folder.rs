//! Work on a cache folder from another process, such as `onesheet cache stats` and `clear`,
//! while a server may be using it.
//!
//! Nothing here opens a [`DiskCache`](super::DiskCache): opening reconciles, evicts and
//! deletes temporary files, which would change a cache that a running server owns. Reading
//! figures changes nothing at all. Clearing deletes entry files and the persisted index, never
//! the temporary folder, where the server may be writing, and then rewrites the clear marker
//! so the server re-reads the folder.

use std::fs;
use std::io;
use std::path::Path;

use serde::Serialize;

use super::layout::Layout;
use super::space;
use super::{CacheKey, ClearOutcome, DiskCacheError};

/// Figures of a cache folder, read without changing anything.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct FolderStats {
    /// Entry files: files in the shard folders whose names are keys of that shard.
    pub entries: u64,
    /// Total size of the entry files, headers included.
    pub bytes: u64,
    /// Files in the temporary folder: writes in progress, or left by a crash.
    pub temp_files: u64,
    /// Free space for unprivileged writers on the folder's filesystem, or `None` when
    /// `statvfs` failed.
    pub free_bytes: Option<u64>,
}

/// Counts the entry files under `root` and their size. Fails when `root` is not a folder.
pub fn inspect(root: &Path) -> Result<FolderStats, DiskCacheError> {
    let layout = existing_layout(root)?;

    let mut entries = 0;
    let mut bytes = 0;
    for shard in 0..=u8::MAX {
        for_each_file(&layout.shard_path(shard), |item, metadata| {
            let is_entry = item
                .file_name()
                .to_str()
                .and_then(CacheKey::from_hex)
                .is_some_and(|key| key.as_bytes()[0] == shard);
            if is_entry {
                entries += 1;
                bytes += metadata.len();
            }
            Ok(())
        })?;
    }

    let mut temp_files = 0;
    for_each_file(layout.temp_folder(), |_, _| {
        temp_files += 1;
        Ok(())
    })?;

    Ok(FolderStats {
        entries,
        bytes,
        temp_files,
        free_bytes: space::free_bytes(root),
    })
}

/// Deletes every file in the shard folders and the persisted index, then rewrites the clear
/// marker. The temporary folder is left alone. Fails when `root` is not a folder.
pub fn clear(root: &Path) -> Result<ClearOutcome, DiskCacheError> {
    let layout = existing_layout(root)?;
    let outcome = delete_entry_files(&layout)?;

    // The index lists the deleted files. A running server writes its own after re-reading
    // the folder; a stopped one rebuilds it from the folder at the next start.
    remove_if_present(layout.index_path())?;
    layout.write_clear_marker()?;
    Ok(outcome)
}

/// Deletes every regular file in the 256 shard folders, whatever its name, and returns how
/// many there were and their size. A missing shard folder counts as empty.
pub(super) fn delete_entry_files(layout: &Layout) -> Result<ClearOutcome, DiskCacheError> {
    let mut outcome = ClearOutcome::default();
    for shard in 0..=u8::MAX {
        let folder = layout.shard_path(shard);
        for_each_file(&folder, |item, metadata| {
            let path = item.path();
            match fs::remove_file(&path) {
                Ok(()) => {
                    outcome.entries += 1;
                    outcome.bytes += metadata.len();
                    Ok(())
                }
                Err(error) if error.kind() == io::ErrorKind::NotFound => Ok(()),
                Err(source) => Err(DiskCacheError::Remove { path, source }),
            }
        })?;
    }
    Ok(outcome)
}

fn existing_layout(root: &Path) -> Result<Layout, DiskCacheError> {
    match fs::metadata(root) {
        Ok(metadata) if metadata.is_dir() => Ok(Layout::new(root)),
        Ok(_) => Err(DiskCacheError::Missing {
            path: root.to_path_buf(),
        }),
        Err(error) if error.kind() == io::ErrorKind::NotFound => Err(DiskCacheError::Missing {
            path: root.to_path_buf(),
        }),
        Err(source) => Err(DiskCacheError::ReadFolder {
            path: root.to_path_buf(),
            source,
        }),
    }
}

/// Calls `visit` with each regular file directly in `folder` and its metadata. A missing
/// folder has no files, and a file that vanishes while it is listed is skipped.
fn for_each_file(
    folder: &Path,
    mut visit: impl FnMut(&fs::DirEntry, &fs::Metadata) -> Result<(), DiskCacheError>,
) -> Result<(), DiskCacheError> {
    let read_error = |source| DiskCacheError::ReadFolder {
        path: folder.to_path_buf(),
        source,
    };
    let items = match fs::read_dir(folder) {
        Ok(items) => items,
        Err(error) if error.kind() == io::ErrorKind::NotFound => return Ok(()),
        Err(source) => return Err(read_error(source)),
    };
    for item in items {
        let item = item.map_err(read_error)?;
        let Ok(metadata) = item.metadata() else {
            continue;
        };
        if metadata.is_file() {
            visit(&item, &metadata)?;
        }
    }
    Ok(())
}

fn remove_if_present(path: &Path) -> Result<(), DiskCacheError> {
    match fs::remove_file(path) {
        Ok(()) => Ok(()),
        Err(error) if error.kind() == io::ErrorKind::NotFound => Ok(()),
        Err(source) => Err(DiskCacheError::Remove {
            path: path.to_path_buf(),
            source,
        }),
    }
}
