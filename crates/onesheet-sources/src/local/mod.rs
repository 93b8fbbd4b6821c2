//! The local folder source: artwork from a media folder on disk.
//!
//! The folder contains `posters/`, `backgrounds/` and `logos/`, each with any depth of subfolders.
//! Every valid poster is an item. Backgrounds and logos are matched to items by title and year,
//! and Kodi-style `.nfo` files next to the artwork add metadata. Symlinks are followed only while
//! they stay inside the media folder. Every image is checked to be a complete file of a known
//! format before it goes into the catalog.

mod items;
mod names;
mod nfo;
mod paths;
mod scan;
mod watch;

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError, TryLockError};
use std::time::Instant;

use async_trait::async_trait;
use onesheet_domain::{ImageRef, MediaItem, SourceId};
use tracing::{debug, info};

use crate::{ImageBody, MediaSource, SourceError};
use scan::ScanState;

pub use watch::LocalWatch;

/// A media folder on the local disk (or a mounted share).
pub struct LocalFolderSource {
    id: SourceId,
    root: PathBuf,
    /// Probe and NFO caches between scans. Scans take the lock for their whole run, so two
    /// scans of one source never overlap.
    state: Arc<Mutex<ScanState>>,
}

impl LocalFolderSource {
    /// Creates the source. Nothing is read until the first scan, so a missing folder is
    /// reported by [`MediaSource::fetch_items`] and not here.
    pub fn new(id: SourceId, root: PathBuf) -> Self {
        Self {
            id,
            root,
            state: Arc::new(Mutex::new(ScanState::default())),
        }
    }

    /// Returns the media folder as configured.
    pub fn root(&self) -> &Path {
        &self.root
    }

    fn task_failed(&self, error: &tokio::task::JoinError) -> SourceError {
        SourceError::Unavailable {
            source_id: self.id.clone(),
            reason: format!("the background task failed: {error}"),
        }
    }
}

// Written by hand because the caches can hold tens of thousands of entries.
impl fmt::Debug for LocalFolderSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LocalFolderSource")
            .field("id", &self.id)
            .field("root", &self.root)
            .finish_non_exhaustive()
    }
}

#[async_trait]
impl MediaSource for LocalFolderSource {
    fn id(&self) -> &SourceId {
        &self.id
    }

    fn kind(&self) -> &'static str {
        "local"
    }

    async fn fetch_items(&self) -> Result<Vec<Arc<MediaItem>>, SourceError> {
        let source = self.id.clone();
        let root = self.root.clone();
        let state = Arc::clone(&self.state);

        let task = tokio::task::spawn_blocking(move || {
            let started = Instant::now();
            let mut state = state.lock().unwrap_or_else(PoisonError::into_inner);
            let (items, stats) = scan::scan(&source, &root, &mut state)?;
            info!(
                source = %source,
                root = ?root,
                items = stats.items,
                image_files = stats.image_files,
                probed = stats.probed,
                rejected = stats.rejected,
                elapsed_ms = started.elapsed().as_millis() as u64,
                "local folder scanned"
            );
            Ok(items)
        });

        match task.await {
            Ok(result) => result,
            Err(error) => Err(self.task_failed(&error)),
        }
    }

    fn adopt(&self, items: &[Arc<MediaItem>]) {
        // A scan holds the lock for its whole run, and the catalog calls this from async code.
        // Skipping leaves the cache with copies that the catalog has replaced, which costs memory
        // until the next adopt but changes nothing that screens show.
        let mut state = match self.state.try_lock() {
            Ok(state) => state,
            Err(TryLockError::Poisoned(poisoned)) => poisoned.into_inner(),
            Err(TryLockError::WouldBlock) => {
                debug!(
                    source = %self.id,
                    items = items.len(),
                    "skipped replacing cached items because a scan is running"
                );
                return;
            }
        };
        state.adopt(items);
    }

    async fn open_image(&self, image: &ImageRef) -> Result<ImageBody, SourceError> {
        let root = self.root.clone();
        let key = image.key.clone();

        let resolved = tokio::task::spawn_blocking(move || paths::resolve_key(&root, &key))
            .await
            .map_err(|error| self.task_failed(&error))?;

        match resolved {
            Some(path) => Ok(ImageBody::File(path)),
            None => {
                debug!(
                    source = %self.id,
                    key = ?image.key,
                    "image key no longer resolves to a file inside the media folder"
                );
                Err(SourceError::ImageNotFound {
                    source_id: self.id.clone(),
                })
            }
        }
    }
}

#[cfg(test)]
mod tests;
