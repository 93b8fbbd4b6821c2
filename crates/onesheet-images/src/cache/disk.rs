//! Disk cache of derived images: content-addressed entry files under one root folder, capped
//! in bytes with least-recently-used eviction, and kept clear of a free-space floor.
//!
//! Every method takes `&self` and blocks on file I/O, so async callers run them on a blocking
//! pool. The index lock is held only for in-memory bookkeeping, never across a read, write or
//! delete of an entry file. [`DiskCache::open`] scans the folder before building the lock, so
//! no other thread waits on that scan.
//!
//! Entries are only ever replaced by a rename of a complete file, and every read checks the
//! entry's length and CRC-32, so a crash, a full disk or a stray edit costs at most a rebuild.
//! Another process (the `cache clear` command) may delete files while the server runs: a
//! missing file is a miss and leaves the index, and [`DiskCache::reload_if_cleared`] re-reads
//! the folder once that command has left its marker. [`DiskCache::inspect`] and
//! [`DiskCache::clear_folder`] are what such a command uses instead of opening the cache.

mod entry;
mod error;
mod folder;
mod index;
mod index_file;
mod key;
mod layout;
mod reconcile;
mod space;
#[cfg(test)]
mod tests;

use std::fs;
use std::io;
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, MutexGuard, PoisonError};

use serde::Serialize;

pub use error::DiskCacheError;
pub use folder::FolderStats;
pub use key::CacheKey;

use entry::ReadError;
use index::{Index, IndexEntry};
use layout::Layout;

/// Limits of the disk cache.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DiskCacheConfig {
    /// Maximum total size of the entry files in bytes, headers included. Entries larger than
    /// an eighth of it are not stored. Default 2 GiB.
    pub max_bytes: u64,
    /// Free space in bytes that a write must leave on the cache's filesystem. Below it the
    /// cache evicts, then stops storing. Default 1 GiB.
    pub min_free_bytes: u64,
}

impl Default for DiskCacheConfig {
    fn default() -> Self {
        Self {
            max_bytes: 2 << 30,
            min_free_bytes: 1 << 30,
        }
    }
}

/// Result of a [`DiskCache::put`] that did not fail.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PutOutcome {
    Stored,
    /// Storing would have left less than `min_free_bytes` free, even after evicting.
    SkippedLowSpace,
    /// The entry file would be larger than an eighth of `max_bytes`.
    SkippedTooLarge,
}

/// Count and size of the entries that [`DiskCache::clear`] removed.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct ClearOutcome {
    pub entries: u64,
    /// Size of the removed files, headers included.
    pub bytes: u64,
}

/// Snapshot of the cache's size, limits and this process's counters since `open`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct DiskCacheStats {
    pub entries: u64,
    /// Total size of the indexed entry files, headers included.
    pub bytes: u64,
    pub max_bytes: u64,
    pub min_free_bytes: u64,
    /// Free space for unprivileged writers on the cache's filesystem, or `None` when
    /// `statvfs` failed.
    pub free_bytes: Option<u64>,
    pub hits: u64,
    /// Lookups that returned nothing, including those of damaged or unreadable entries.
    pub misses: u64,
    /// Entries deleted to stay under `max_bytes` or above `min_free_bytes`.
    pub evictions: u64,
    /// Entry files that failed verification and were deleted.
    pub damaged: u64,
    /// Entry files that exist but could not be read, such as for lack of permission.
    pub read_failures: u64,
    pub write_failures: u64,
    pub skipped_low_space: u64,
    pub skipped_too_large: u64,
}

#[derive(Debug, Default)]
struct Counters {
    hits: AtomicU64,
    misses: AtomicU64,
    evictions: AtomicU64,
    damaged: AtomicU64,
    read_failures: AtomicU64,
    write_failures: AtomicU64,
    skipped_low_space: AtomicU64,
    skipped_too_large: AtomicU64,
}

/// Adds `amount` to `counter` and returns the new total.
fn count(counter: &AtomicU64, amount: u64) -> u64 {
    counter.fetch_add(amount, Ordering::Relaxed) + amount
}

/// Returns true on the 1st, 2nd, 4th, 8th… occurrence of a repeated problem, the ones logged
/// at WARN, so a broken disk cannot flood the log while the count stays visible.
fn worth_warning(total: u64) -> bool {
    total.is_power_of_two()
}

/// Blocking, thread-safe disk cache of derived images. See the module documentation.
#[derive(Debug)]
pub struct DiskCache {
    layout: Layout,
    config: DiskCacheConfig,
    index: Mutex<Index>,
    /// Index change count at the last successful persist. The lock also keeps two persists
    /// from racing to rename older contents over newer ones.
    persisted_changes: Mutex<Option<u64>>,
    /// The clear marker's token when the index last matched the folder, so each clear by
    /// another process is handled once.
    clear_token: Mutex<Option<String>>,
    counters: Counters,
}

impl DiskCache {
    /// Opens or creates the cache under `root`.
    ///
    /// Creates the folders, deletes temporary files left by interrupted writes, loads the
    /// persisted index (rebuilding it from the folder when it is missing or damaged),
    /// reconciles it with the files present, and evicts down to `max_bytes`.
    pub fn open(root: &Path, config: DiskCacheConfig) -> Result<Self, DiskCacheError> {
        let layout = Layout::new(root);
        layout.create_folders()?;
        let temp_files = layout.remove_temp_files()?;
        // Read before the folder, so a clear that runs during the scan is handled later.
        let clear_token = layout.read_clear_marker();

        let indexed = match index_file::load(layout.index_path()) {
            Ok(entries) => entries.unwrap_or_default(),
            Err(error) => {
                tracing::warn!(
                    path = %layout.index_path().display(),
                    %error,
                    "ignoring the persisted cache index; rebuilding it from the cache folder",
                );
                Vec::new()
            }
        };
        let reconciled = reconcile::reconcile(&layout, indexed)?;

        let mut index = Index::from_least_recent(reconciled.entries);
        let evicted = index.evict_to_fit(config.max_bytes);
        let cache = Self {
            layout,
            config,
            index: Mutex::new(index),
            persisted_changes: Mutex::new(None),
            clear_token: Mutex::new(clear_token),
            counters: Counters::default(),
        };
        cache.delete_evicted(&evicted);

        let stats = cache.stats();
        tracing::info!(
            path = %root.display(),
            entries = stats.entries,
            bytes = stats.bytes,
            adopted = reconciled.adopted,
            dropped = reconciled.dropped,
            foreign_removed = reconciled.foreign,
            temp_files_removed = temp_files,
            evicted = evicted.len(),
            "opened the disk cache",
        );
        Ok(cache)
    }

    pub fn root(&self) -> &Path {
        self.layout.root()
    }

    pub fn config(&self) -> DiskCacheConfig {
        self.config
    }

    /// Returns the entry's bytes, or `None` when it is absent or damaged. A damaged entry is
    /// deleted and counted, so the caller rebuilds and stores it again.
    pub fn get(&self, key: &CacheKey) -> Option<Vec<u8>> {
        // A key the index does not list is a miss without a syscall. Its file may still exist
        // for a moment while an eviction deletes it, and then must not be served.
        let Some(stamp) = self.lock_index().stamp(key) else {
            count(&self.counters.misses, 1);
            return None;
        };

        let path = self.layout.entry_path(key);
        match entry::read(&path, key) {
            Ok(payload) => {
                self.lock_index().touch(key);
                count(&self.counters.hits, 1);
                Some(payload)
            }
            Err(ReadError::Missing) => {
                // A `put` that renamed a new file in after the failed open changed the stamp,
                // and its entry stays.
                self.lock_index().remove_if_stamp(key, stamp);
                count(&self.counters.misses, 1);
                None
            }
            Err(ReadError::Damaged(damage)) => {
                self.remove_damaged(key, stamp, &path, &damage);
                count(&self.counters.misses, 1);
                None
            }
            Err(ReadError::Io(error)) => {
                let total = count(&self.counters.read_failures, 1);
                if worth_warning(total) {
                    tracing::warn!(
                        path = %path.display(),
                        %error,
                        read_failures = total,
                        "reading a cache entry failed; treating it as a miss",
                    );
                } else {
                    tracing::debug!(path = %path.display(), %error, "reading a cache entry failed");
                }
                count(&self.counters.misses, 1);
                None
            }
        }
    }

    fn remove_damaged(&self, key: &CacheKey, stamp: u64, path: &Path, damage: &entry::Damage) {
        // NOTE: if another thread stores this key between the read above and this delete,
        // its fresh file is deleted too. The next `get` then misses and the entry is rebuilt.
        if let Err(error) = fs::remove_file(path)
            && error.kind() != io::ErrorKind::NotFound
        {
            tracing::debug!(
                path = %path.display(),
                %error,
                "deleting a damaged cache entry failed",
            );
        }
        self.lock_index().remove_if_stamp(key, stamp);

        let total = count(&self.counters.damaged, 1);
        if worth_warning(total) {
            tracing::warn!(
                path = %path.display(),
                %damage,
                damaged = total,
                "deleted a damaged cache entry",
            );
        } else {
            tracing::debug!(path = %path.display(), %damage, "deleted a damaged cache entry");
        }
    }

    /// Stores `bytes` under `key`, then evicts least recently used entries to stay under
    /// `max_bytes`.
    ///
    /// The entry is written to a temporary file and renamed into place, so its real name
    /// never shows a partial file, and a concurrent `put` of the same key leaves one
    /// complete entry. The file is not synced before the rename: after a power loss the
    /// renamed file may hold zeros or a short payload, which the length and checksum check
    /// in [`DiskCache::get`] detects, deletes and turns into a rebuild. A sync per entry would
    /// cost milliseconds on every write for data that can always be derived again.
    ///
    /// Before writing, `put` checks the free space on the filesystem. When the write would
    /// leave less than `min_free_bytes`, least recently used entries are evicted to make up
    /// the difference. That may evict every entry, because the floor protects everything else
    /// on that disk. If even that is not enough, the entry is skipped. A failed write, such as
    /// on a full disk, deletes its temporary file, counts in `write_failures` and returns the
    /// error.
    pub fn put(&self, key: &CacheKey, bytes: &[u8]) -> Result<PutOutcome, DiskCacheError> {
        let file_len = entry::file_len(bytes.len());
        if file_len > self.config.max_bytes / 8 {
            count(&self.counters.skipped_too_large, 1);
            return Ok(PutOutcome::SkippedTooLarge);
        }
        if !self.make_room_on_disk(file_len) {
            count(&self.counters.skipped_low_space, 1);
            return Ok(PutOutcome::SkippedLowSpace);
        }

        if let Err(error) = self.write_entry(key, bytes) {
            count(&self.counters.write_failures, 1);
            return Err(error);
        }

        let evicted = {
            let mut index = self.lock_index();
            index.insert(*key, file_len);
            index.evict_to_fit(self.config.max_bytes)
        };
        self.delete_evicted(&evicted);
        Ok(PutOutcome::Stored)
    }

    /// Evicts entries until writing `file_len` bytes leaves `min_free_bytes` free. Returns
    /// false when that is impossible. Unknown free space counts as enough, so a filesystem
    /// without `statvfs` still caches and relies on write errors.
    fn make_room_on_disk(&self, file_len: u64) -> bool {
        if self.config.min_free_bytes == 0 {
            return true;
        }
        let required = self.config.min_free_bytes.saturating_add(file_len);
        let Some(free) = space::free_bytes(self.root()) else {
            return true;
        };
        if free >= required {
            return true;
        }

        let evicted = self.lock_index().evict_at_least(required - free);
        if evicted.is_empty() {
            return false;
        }
        self.delete_evicted(&evicted);
        space::free_bytes(self.root()).is_none_or(|free| free >= required)
    }

    fn write_entry(&self, key: &CacheKey, bytes: &[u8]) -> Result<(), DiskCacheError> {
        let temp_path = self.layout.temp_path(&key.to_hex());
        let path = self.layout.entry_path(key);

        let mut result = write_and_rename(&temp_path, &path, key, bytes);
        if result
            .as_ref()
            .is_err_and(|error| error.kind() == io::ErrorKind::NotFound)
        {
            // Another process removed the folders, or its `open` deleted the temporary file,
            // so recreate the folders and try once more.
            let _ = fs::remove_file(&temp_path);
            result = self
                .layout
                .recreate_shard(key)
                .and_then(|()| write_and_rename(&temp_path, &path, key, bytes));
        }

        result.map_err(|source| {
            if let Err(error) = fs::remove_file(&temp_path)
                && error.kind() != io::ErrorKind::NotFound
            {
                tracing::debug!(
                    path = %temp_path.display(),
                    %error,
                    "deleting a temporary cache file failed",
                );
            }
            DiskCacheError::WriteEntry { path, source }
        })
    }

    /// Deletes the files of entries already dropped from the index.
    fn delete_evicted(&self, evicted: &[IndexEntry]) {
        if evicted.is_empty() {
            return;
        }
        // NOTE: a `put` of the same key between the index update and this delete loses its
        // file. The index then lists a missing file, which the next `get` drops as a miss.
        for entry in evicted {
            let path = self.layout.entry_path(&entry.key);
            if let Err(error) = fs::remove_file(&path)
                && error.kind() != io::ErrorKind::NotFound
            {
                tracing::debug!(
                    path = %path.display(),
                    %error,
                    "deleting an evicted cache entry failed",
                );
            }
        }
        count(&self.counters.evictions, evicted.len() as u64);
    }

    pub fn stats(&self) -> DiskCacheStats {
        let (entries, bytes) = {
            let index = self.lock_index();
            (index.len() as u64, index.total_bytes())
        };
        let load = |counter: &AtomicU64| counter.load(Ordering::Relaxed);
        DiskCacheStats {
            entries,
            bytes,
            max_bytes: self.config.max_bytes,
            min_free_bytes: self.config.min_free_bytes,
            free_bytes: space::free_bytes(self.root()),
            hits: load(&self.counters.hits),
            misses: load(&self.counters.misses),
            evictions: load(&self.counters.evictions),
            damaged: load(&self.counters.damaged),
            read_failures: load(&self.counters.read_failures),
            write_failures: load(&self.counters.write_failures),
            skipped_low_space: load(&self.counters.skipped_low_space),
            skipped_too_large: load(&self.counters.skipped_too_large),
        }
    }

    /// Deletes every entry file, including files the index did not list, and empties the
    /// index. Temporary files are left alone because concurrent writes still own them.
    pub fn clear(&self) -> Result<ClearOutcome, DiskCacheError> {
        self.lock_index().clear();
        folder::delete_entry_files(&self.layout)
    }

    /// Reads the entry count and size of the cache folder at `root` without changing
    /// anything: no folder is created, no file deleted, nothing evicted. Fails with
    /// [`DiskCacheError::Missing`] when the folder does not exist.
    pub fn inspect(root: &Path) -> Result<FolderStats, DiskCacheError> {
        folder::inspect(root)
    }

    /// Deletes every entry of the cache folder at `root`, which a server may be using, and
    /// leaves a marker that makes the server re-read the folder. Temporary files are left
    /// alone. Fails with [`DiskCacheError::Missing`] when the folder does not exist.
    pub fn clear_folder(root: &Path) -> Result<ClearOutcome, DiskCacheError> {
        folder::clear(root)
    }

    /// Rebuilds the index from the folder when another process cleared it
    /// ([`DiskCache::clear_folder`]) since `open` or the last call, and returns whether it did.
    /// Otherwise it costs one small read. The server calls it periodically.
    ///
    /// Entries stored after the index is emptied stay. Files on disk that the index lacks are
    /// adopted as the least recently used, as at `open`.
    pub fn reload_if_cleared(&self) -> Result<bool, DiskCacheError> {
        let token = self.layout.read_clear_marker();
        {
            let mut seen = self
                .clear_token
                .lock()
                .unwrap_or_else(PoisonError::into_inner);
            if token.is_none() || *seen == token {
                return Ok(false);
            }
            *seen = token;
        }

        let forgotten = {
            let mut index = self.lock_index();
            let entries = index.len();
            index.clear();
            entries
        };
        let reconciled = reconcile::reconcile(&self.layout, Vec::new())?;

        let evicted = {
            let mut index = self.lock_index();
            let stored_since = index.least_recent_first();
            let mut entries: Vec<IndexEntry> = reconciled
                .entries
                .into_iter()
                .filter(|entry| index.stamp(&entry.key).is_none())
                .collect();
            entries.extend(stored_since);
            index.reset(entries);
            index.evict_to_fit(self.config.max_bytes)
        };
        self.delete_evicted(&evicted);

        let stats = self.stats();
        tracing::info!(
            path = %self.root().display(),
            forgotten,
            entries = stats.entries,
            bytes = stats.bytes,
            "the image cache was cleared by another process; re-read its folder",
        );
        Ok(true)
    }

    /// Writes the index with its recency order to disk (temporary file, sync, rename), so the
    /// next `open` keeps the least-recently-used order. Does nothing when the index has not
    /// changed since the last persist. The server calls it periodically and at shutdown.
    pub fn persist_index(&self) -> Result<(), DiskCacheError> {
        let mut persisted = self
            .persisted_changes
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        let (changes, entries) = {
            let index = self.lock_index();
            (index.changes(), index.least_recent_first())
        };
        if *persisted == Some(changes) {
            return Ok(());
        }

        let path = self.layout.index_path();
        let temp_path = self.layout.temp_path("index");
        index_file::save(path, &temp_path, &entries).map_err(|source| {
            DiskCacheError::WriteIndex {
                path: path.to_path_buf(),
                source,
            }
        })?;
        *persisted = Some(changes);
        Ok(())
    }

    /// Locks the index, ignoring poisoning. A panic while the lock was held can at worst leave
    /// some sizes wrong until the next `open`, which a cache can live with.
    fn lock_index(&self) -> MutexGuard<'_, Index> {
        self.index.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

fn write_and_rename(temp_path: &Path, path: &Path, key: &CacheKey, bytes: &[u8]) -> io::Result<()> {
    entry::write(temp_path, key, bytes)?;
    fs::rename(temp_path, path)
}
