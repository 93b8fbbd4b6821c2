//! Reconciles the persisted index with the entry files that are actually on disk, at `open`.
//!
//! The index on disk is only as fresh as the last `persist_index`, so after a crash it may
//! list deleted files and miss new ones. Files it misses are adopted as the least recently
//! used entries, ordered by modification time, and entries without a file are dropped.
//! Only adopted files are `stat`ed; indexed files keep their recorded size, so with a current
//! index the cost is one directory listing per shard.

use std::collections::HashMap;
use std::fs;
use std::io;
use std::time::SystemTime;

use super::index::IndexEntry;
use super::layout::Layout;
use super::{CacheKey, DiskCacheError};

/// Result of one reconciliation.
#[derive(Debug, Default)]
pub(super) struct Reconciled {
    /// Entries from least to most recently used.
    pub entries: Vec<IndexEntry>,
    /// Files found that the index did not list.
    pub adopted: usize,
    /// Index entries whose file was gone.
    pub dropped: usize,
    /// Files in shard folders with names that are not entry names, deleted.
    pub foreign: usize,
}

pub(super) fn reconcile(
    layout: &Layout,
    indexed: Vec<IndexEntry>,
) -> Result<Reconciled, DiskCacheError> {
    // Position of each key in `indexed`, and per position whether its file was found.
    let mut positions: HashMap<CacheKey, usize> = indexed
        .iter()
        .enumerate()
        .map(|(position, entry)| (entry.key, position))
        .collect();
    let mut found = vec![false; indexed.len()];
    let mut adopted: Vec<(SystemTime, IndexEntry)> = Vec::new();
    let mut foreign = 0;

    for shard in 0..=u8::MAX {
        let folder = layout.shard_path(shard);
        let read_error = |source| DiskCacheError::ReadFolder {
            path: folder.clone(),
            source,
        };
        for item in fs::read_dir(&folder).map_err(read_error)? {
            let item = item.map_err(read_error)?;
            let name = item.file_name();
            let key = name
                .to_str()
                .and_then(CacheKey::from_hex)
                .filter(|key| key.as_bytes()[0] == shard);

            let Some(key) = key else {
                if item.file_type().is_ok_and(|kind| kind.is_file()) {
                    remove_foreign(&item.path())?;
                    foreign += 1;
                }
                continue;
            };

            if let Some(position) = positions.remove(&key) {
                found[position] = true;
                continue;
            }
            // The file may vanish between listing and stat if another process clears the
            // cache. It is then not adopted.
            match item.metadata() {
                Ok(metadata) if metadata.is_file() => {
                    let modified = metadata.modified().unwrap_or(SystemTime::UNIX_EPOCH);
                    let file_len = metadata.len();
                    adopted.push((modified, IndexEntry { key, file_len }));
                }
                Ok(_) => {}
                Err(error) if error.kind() == io::ErrorKind::NotFound => {}
                Err(source) => {
                    return Err(DiskCacheError::ReadFolder {
                        path: item.path(),
                        source,
                    });
                }
            }
        }
    }

    adopted.sort_by_key(|(modified, _)| *modified);
    let adopted_count = adopted.len();
    let dropped = found.iter().filter(|&&was_found| !was_found).count();

    let mut entries: Vec<IndexEntry> = adopted.into_iter().map(|(_, entry)| entry).collect();
    entries.extend(
        indexed
            .into_iter()
            .zip(found)
            .filter_map(|(entry, was_found)| was_found.then_some(entry)),
    );

    Ok(Reconciled {
        entries,
        adopted: adopted_count,
        dropped,
        foreign,
    })
}

fn remove_foreign(path: &std::path::Path) -> Result<(), DiskCacheError> {
    match fs::remove_file(path) {
        Ok(()) => Ok(()),
        Err(error) if error.kind() == io::ErrorKind::NotFound => Ok(()),
        Err(source) => Err(DiskCacheError::Remove {
            path: path.to_path_buf(),
            source,
        }),
    }
}
