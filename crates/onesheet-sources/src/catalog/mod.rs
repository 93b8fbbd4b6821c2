//! The catalog: every source's items merged into one immutable snapshot.
//!
//! Readers take the current [`Snapshot`] with one atomic load and keep it as long as they like,
//! so a refresh never blocks a playlist request and a request never sees half an update. A
//! refresh builds a whole new snapshot and swaps it in.
//!
//! The snapshot is also written to disk. At start-up the last one is served at once, before any
//! source has answered, and a source that fails keeps its last good items
//! (stale-while-revalidate) until it recovers.
//!
//! A background task ([`Catalog::start_enrichment`]) adds each image's palette and blur
//! placeholder to the items after they arrive; see the `appearance` module.
//!
//! After each refresh the catalog returns the heap memory that the refresh freed to the
//! operating system (see [`crate::memory`]), before the source's status changes.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use arc_swap::ArcSwap;
use onesheet_domain::playlist::{display_order, weighted_order};
use onesheet_domain::{CatalogFilter, CompiledFilter, ItemId, MediaItem, SourceId, dedupe};
use serde::{Deserialize, Serialize};
use tokio::sync::Mutex;
use tracing::{debug, info, instrument, warn};

use crate::source::{MediaSource, ProgressView, RefreshProgress};

mod appearance;
mod orders;

pub use orders::FilteredOrder;

/// One generation of the catalog. Never changes once built.
#[derive(Debug, Default)]
pub struct Snapshot {
    /// Grows by one with every content change, across restarts too; it seeds the display order
    /// and is part of playlist ETags and cursors.
    pub generation: u64,
    /// Changes with every published snapshot, including ones that only add palettes to the
    /// same items in the same order and keep the generation. Caches of rendered pages use it as
    /// their key, so they never serve content older than the snapshot.
    pub revision: u64,
    /// Shared with the sources' last results, so an item is held in memory once however many
    /// snapshots and sources refer to it.
    pub items: Vec<Arc<MediaItem>>,
    /// Positions in `items` that pass the global filter, in a weighted shuffle seeded by the
    /// generation.
    pub order: Vec<u32>,
    /// True when `items` is the built-in demo set because no real source has items.
    pub demo: bool,
    /// Position in `items` by id. Shared with the revisions that only add palettes, because
    /// those come every few seconds while palettes are computed, and copying the ids of a
    /// 25,000-item catalog allocates about 1.5 MiB (an estimate from their sizes).
    index: Arc<HashMap<ItemId, usize>>,
    /// Each item's source weight, before any filter, by position in `items`, or empty when
    /// every weight is 1. Kept so [`Snapshot::order_for`] can order the items for another filter,
    /// and shared with the revisions that only add palettes.
    source_weights: Arc<[f32]>,
}

impl Snapshot {
    pub fn new(generation: u64, items: Vec<Arc<MediaItem>>) -> Self {
        let index = Arc::new(index_of(&items));
        let demo = !items.is_empty() && items.iter().all(|item| item.demo);
        Self {
            generation,
            revision: 0,
            order: display_order(items.len(), generation),
            items,
            demo,
            index,
            source_weights: Arc::from([]),
        }
    }

    /// Builds a snapshot whose display order holds only the items with a positive weight, in a
    /// weighted shuffle seeded by the generation. `weights` has one entry per item.
    pub fn weighted(generation: u64, items: Vec<Arc<MediaItem>>, weights: &[f32]) -> Self {
        let mut snapshot = Self::new(generation, Vec::new());
        snapshot.order = order_by_weight(weights, items.len(), generation);
        snapshot.index = Arc::new(index_of(&items));
        snapshot.demo = !items.is_empty() && items.iter().all(|item| item.demo);
        snapshot.items = items;
        snapshot
    }

    pub fn with_revision(mut self, revision: u64) -> Self {
        self.revision = revision;
        self
    }

    /// Keeps each item's source weight, one per item, for [`Snapshot::order_for`].
    pub fn with_source_weights(mut self, weights: Arc<[f32]>) -> Self {
        self.source_weights = weights;
        self
    }

    /// Builds the next revision of `previous` from updated copies of the same items at the same
    /// positions. Generation and display order stay, so screens' playlist cursors stay valid.
    pub fn updated_in_place(
        previous: &Snapshot,
        items: Vec<Arc<MediaItem>>,
        revision: u64,
    ) -> Self {
        Self {
            generation: previous.generation,
            revision,
            order: previous.order.clone(),
            demo: previous.demo,
            index: Arc::clone(&previous.index),
            source_weights: Arc::clone(&previous.source_weights),
            items,
        }
    }

    pub fn get(&self, id: &ItemId) -> Option<&MediaItem> {
        self.index.get(id).map(|&position| &*self.items[position])
    }
}

/// Orders the positions with a positive weight in a weighted shuffle seeded by `generation`.
/// Equal weights of 1 give the plain shuffle of all `len` positions, which screens' cursors
/// already know.
fn order_by_weight(weights: &[f32], len: usize, generation: u64) -> Vec<u32> {
    if weights.iter().all(|&weight| weight == 1.0) {
        display_order(len, generation)
    } else {
        weighted_order(weights, generation)
    }
}

fn index_of(items: &[Arc<MediaItem>]) -> HashMap<ItemId, usize> {
    items
        .iter()
        .enumerate()
        .filter_map(|(position, item)| item.id.clone().map(|id| (id, position)))
        .collect()
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum SourceState {
    /// Not refreshed yet in this process.
    Pending,
    Ok,
    /// The last refresh failed; the source's previous items are still served, marked stale.
    Failing,
}

/// Status of one source, for the readiness probe and later the admin dashboard.
#[derive(Debug, Clone, Serialize)]
pub struct SourceHealth {
    pub id: SourceId,
    pub kind: &'static str,
    pub state: SourceState,
    pub items: usize,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_success_unix: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_error: Option<String>,
    /// Stable machine code of the last error, such as `source-auth-rejected`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_error_code: Option<&'static str>,
    /// Set while a refresh runs.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub progress: Option<ProgressView>,
}

/// Function that returns freed heap memory to the operating system and returns whether it
/// released any, such as [`crate::memory::release_free_memory`].
pub type ReleaseMemory = Arc<dyn Fn() -> bool + Send + Sync>;

/// On-disk form of a snapshot, as read back.
#[derive(Deserialize)]
struct SnapshotFile {
    generation: u64,
    items: Vec<Arc<MediaItem>>,
}

/// On-disk form of a snapshot, as written: borrows the items instead of copying them.
#[derive(Serialize)]
struct SnapshotFileRef<'a> {
    generation: u64,
    items: &'a [Arc<MediaItem>],
}

struct SourceEntry {
    source: Arc<dyn MediaSource>,
    /// Last items the source returned successfully.
    items: Vec<Arc<MediaItem>>,
    health: SourceHealth,
}

impl SourceEntry {
    fn new(source: Arc<dyn MediaSource>) -> Self {
        Self {
            health: SourceHealth {
                id: source.id().clone(),
                kind: source.kind(),
                state: SourceState::Pending,
                items: 0,
                last_success_unix: None,
                last_error: None,
                last_error_code: None,
                progress: None,
            },
            source,
            items: Vec::new(),
        }
    }
}

pub struct Catalog {
    current: ArcSwap<Snapshot>,
    /// Read without a lock on every image request; replaced whole when a source is added or
    /// removed, which is rare.
    sources: ArcSwap<HashMap<SourceId, Arc<dyn MediaSource>>>,
    entries: Mutex<Vec<SourceEntry>>,
    health: ArcSwap<Vec<SourceHealth>>,
    snapshot_path: PathBuf,
    /// Held while the catalog file is written, so two saves cannot finish out of order.
    saving: Mutex<()>,
    loaded: AtomicBool,
    /// Source of [`Snapshot::revision`] values.
    revisions: AtomicU64,
    enrichment: appearance::Enrichment,
    /// The global filter: items it rejects stay in the snapshot (their images still resolve)
    /// but leave the display order.
    filter: ArcSwap<CompiledFilter>,
    /// Function run on a blocking thread after each refresh, and after each enrichment pass that
    /// computed palettes.
    release_memory: ReleaseMemory,
    /// Display orders for filters other than the global one, for [`Catalog::order_for`].
    orders: orders::OrderCache,
}

impl Catalog {
    /// Creates the catalog over `sources`. The source with kind `demo` supplies items only while
    /// every other source is empty.
    pub fn new(sources: Vec<Arc<dyn MediaSource>>, snapshot_path: PathBuf) -> Self {
        let by_id = sources
            .iter()
            .map(|source| (source.id().clone(), source.clone()))
            .collect();
        let entries: Vec<SourceEntry> = sources.into_iter().map(SourceEntry::new).collect();
        let health = entries.iter().map(|e| e.health.clone()).collect();
        Self {
            current: ArcSwap::from_pointee(Snapshot::default()),
            sources: ArcSwap::from_pointee(by_id),
            entries: Mutex::new(entries),
            health: ArcSwap::from_pointee(health),
            snapshot_path,
            saving: Mutex::new(()),
            revisions: AtomicU64::new(0),
            loaded: AtomicBool::new(false),
            enrichment: appearance::Enrichment::new(),
            filter: ArcSwap::from_pointee(CompiledFilter::default()),
            release_memory: Arc::new(crate::memory::release_free_memory),
            orders: orders::order_cache(),
        }
    }

    /// Replaces the function that returns freed memory to the operating system after refreshes
    /// and enrichment passes, [`crate::memory::release_free_memory`] by default.
    pub fn with_memory_release(mut self, release: ReleaseMemory) -> Self {
        self.release_memory = release;
        self
    }

    /// Sets the global filter before the first snapshot is built.
    pub fn with_filter(self, filter: CompiledFilter) -> Self {
        self.filter.store(Arc::new(filter));
        self
    }

    /// Replaces the global filter and publishes a new generation ordered by it.
    pub async fn set_filter(&self, filter: CompiledFilter) {
        self.filter.store(Arc::new(filter));
        let entries = self.entries.lock().await;
        let previous = self.current.load_full();
        let items = merge(&entries);
        let snapshot = self.build(previous.generation + 1, items, &entries);
        self.current.store(Arc::new(snapshot));
        // An enrichment pass ends when the generation changes, so the new one needs its own.
        self.enrichment.request();
        info!("catalog filter changed");
    }

    /// Builds a snapshot: each item's weight is its source's weight, or 0 when the global
    /// filter rejects it.
    fn build(
        &self,
        generation: u64,
        items: Vec<Arc<MediaItem>>,
        entries: &[SourceEntry],
    ) -> Snapshot {
        let filter = self.filter.load();
        let now = now_unix();
        let by_source: HashMap<&SourceId, f32> = entries
            .iter()
            .map(|entry| (entry.source.id(), entry.source.weight()))
            .collect();
        let source_weights: Vec<f32> = items
            .iter()
            .map(|item| {
                item.source
                    .as_ref()
                    .and_then(|id| by_source.get(id).copied())
                    .unwrap_or(1.0)
            })
            .collect();
        let weights: Vec<f32> = items
            .iter()
            .zip(&source_weights)
            .map(|(item, &weight)| {
                if filter.matches(item, now) {
                    weight
                } else {
                    0.0
                }
            })
            .collect();
        let source_weights: Arc<[f32]> = if source_weights.iter().all(|&weight| weight == 1.0) {
            Arc::from([])
        } else {
            Arc::from(source_weights)
        };
        Snapshot::weighted(generation, items, &weights)
            .with_revision(self.next_revision())
            .with_source_weights(source_weights)
    }

    /// Returns the display order of `snapshot`'s items that pass `filter`, for a screen whose
    /// filter differs from the global one. The order is the same weighted shuffle as
    /// [`Snapshot::order`], seeded by the generation, so a filter equal to the global one
    /// gives the same order.
    ///
    /// Orders are cached by snapshot revision and filter, so screens that share a filter cost
    /// one computation per revision. A miss filters and shuffles every item on the calling
    /// thread: a few milliseconds for a catalog of tens of thousands of items.
    pub fn order_for(&self, snapshot: &Snapshot, filter: &CatalogFilter) -> Arc<FilteredOrder> {
        self.orders
            .get_or_compute(snapshot, filter, || self.next_revision())
    }

    /// Returns the current snapshot; cheap enough to call on every request.
    pub fn snapshot(&self) -> Arc<Snapshot> {
        self.current.load_full()
    }

    /// Returns the status of every source, with the progress of refreshes that are running.
    pub fn health(&self) -> Arc<Vec<SourceHealth>> {
        let health = self.health.load_full();
        let sources = self.sources.load();
        let running: Vec<(usize, RefreshProgress)> = health
            .iter()
            .enumerate()
            .filter_map(|(position, entry)| {
                let progress = sources.get(&entry.id)?.progress()?;
                progress.is_running().then_some((position, progress))
            })
            .collect();
        if running.is_empty() {
            return health;
        }

        let mut with_progress = (*health).clone();
        for (position, progress) in running {
            with_progress[position].progress = Some(progress.view());
        }
        Arc::new(with_progress)
    }

    /// True once items are being served: a snapshot was restored from disk or every source was
    /// asked once.
    pub fn is_loaded(&self) -> bool {
        self.loaded.load(Ordering::Acquire)
    }

    pub fn source(&self, id: &SourceId) -> Option<Arc<dyn MediaSource>> {
        self.sources.load().get(id).cloned()
    }

    /// Adds a source, or replaces the one with the same id. A replaced source's items stay in
    /// the catalog until the new one's first refresh, so changing a setting does not blank the
    /// screens.
    pub async fn add_source(&self, source: Arc<dyn MediaSource>) {
        let mut entries = self.entries.lock().await;
        let id = source.id().clone();
        match entries.iter_mut().find(|e| e.source.id() == &id) {
            Some(entry) => {
                source.adopt(&entry.items);
                entry.health.kind = source.kind();
                entry.source = source.clone();
            }
            None => entries.push(SourceEntry::new(source.clone())),
        }

        let mut sources = (**self.sources.load()).clone();
        sources.insert(id, source);
        self.sources.store(Arc::new(sources));
        self.publish_health(&entries);
    }

    /// Removes a source and its items. Returns false when no such source exists.
    pub async fn remove_source(&self, id: &SourceId) -> bool {
        let mut entries = self.entries.lock().await;
        let Some(position) = entries.iter().position(|e| e.source.id() == id) else {
            return false;
        };
        entries.remove(position);

        let mut sources = (**self.sources.load()).clone();
        sources.remove(id);
        self.sources.store(Arc::new(sources));
        self.publish_health(&entries);
        let changed = self.publish_merged(&entries);
        drop(entries);
        if changed {
            self.persist().await;
        }
        true
    }

    /// Restores the snapshot saved by a previous run. A missing file is normal on a first
    /// start; a damaged one is logged and ignored, because the sources rebuild it anyway.
    #[instrument(skip_all, fields(path = %self.snapshot_path.display()))]
    pub async fn restore(&self) {
        let path = self.snapshot_path.clone();
        // Parsed from a buffered reader so the file never sits in memory beside its items.
        let read = tokio::task::spawn_blocking(move || {
            let file = std::fs::File::open(path)?;
            serde_json::from_reader::<_, SnapshotFile>(std::io::BufReader::new(file))
                .map_err(std::io::Error::from)
        })
        .await;
        let file = match read {
            Ok(Ok(file)) => file,
            Ok(Err(error)) if error.kind() == std::io::ErrorKind::NotFound => return,
            Ok(Err(error)) => {
                warn!(%error, "cannot read the saved catalog; rebuilding it from the sources");
                return;
            }
            Err(error) => {
                warn!(%error, "reading the saved catalog stopped unexpectedly");
                return;
            }
        };

        let items = file.items;
        let mut entries = self.entries.lock().await;
        for entry in entries.iter_mut() {
            entry.items = items
                .iter()
                .filter(|item| item.source.as_ref() == Some(entry.source.id()))
                .cloned()
                .collect();
            entry.health.items = entry.items.len();
            entry.source.adopt(&entry.items);
        }
        let count = items.len();
        let snapshot = self.build(file.generation, items, &entries);
        self.current.store(Arc::new(snapshot));
        self.publish_health(&entries);
        self.loaded.store(true, Ordering::Release);
        self.enrichment.request();
        info!(
            generation = file.generation,
            items = count,
            "restored saved catalog"
        );
    }

    /// Refreshes every source once, one after the other.
    pub async fn refresh_all(&self) {
        let ids: Vec<SourceId> = {
            let entries = self.entries.lock().await;
            entries.iter().map(|e| e.source.id().clone()).collect()
        };
        self.refresh_many(&ids).await;
    }

    /// Refreshes the given sources once, one after the other, then counts the catalog as
    /// loaded.
    pub async fn refresh_many(&self, ids: &[SourceId]) {
        for id in ids {
            self.refresh(id, now_unix()).await;
        }
        self.loaded.store(true, Ordering::Release);
    }

    /// Asks one source for its items and swaps in a new snapshot when anything changed. A
    /// failing source keeps its previous items and is marked failing.
    ///
    /// The source's status changes only after the new snapshot is published and the memory the
    /// refresh freed has been returned to the operating system, so a status of ok means that the
    /// items are served. The snapshot is saved to disk after that.
    #[instrument(skip_all, fields(source.id = %id))]
    pub async fn refresh(&self, id: &SourceId, now_unix: i64) {
        let source = match self.source(id) {
            Some(source) => source,
            None => {
                warn!("refresh requested for an unknown source");
                return;
            }
        };
        let result = source.fetch_items().await;

        // The lock serialises snapshot builds, so two refreshes cannot publish out of order.
        let mut entries = self.entries.lock().await;
        let Some(entry) = entries.iter_mut().find(|e| e.source.id() == id) else {
            return;
        };
        // The status is applied only after the memory is released, so that a status published
        // in between, by another source's refresh, still shows this one as before.
        let outcome = match result {
            Ok(items) => {
                // Before the comparison below, so that a rescan that rebuilt its items without
                // appearances is still seen as unchanged.
                let (items, replaced) = appearance::carry_over(items, &entry.items);
                if !replaced.is_empty() {
                    source.adopt(&replaced);
                }
                entry.items = items;
                Ok(())
            }
            Err(error) => {
                warn!(%error, kept_items = entry.items.len(), "source refresh failed; serving its last items");
                Err(error)
            }
        };
        let changed = self.publish_merged(&entries);
        drop(entries);

        self.release_freed_memory().await;

        let mut entries = self.entries.lock().await;
        if let Some(entry) = entries.iter_mut().find(|e| e.source.id() == id) {
            let health = &mut entry.health;
            match outcome {
                Ok(()) => {
                    health.state = SourceState::Ok;
                    health.last_success_unix = Some(now_unix);
                    health.last_error = None;
                    health.last_error_code = None;
                    health.items = entry.items.len();
                }
                Err(error) => {
                    health.state = SourceState::Failing;
                    health.last_error = Some(error.to_string());
                    health.last_error_code = Some(error.code());
                }
            }
        }
        self.publish_health(&entries);
        drop(entries);
        if changed {
            self.persist().await;
        }
    }

    /// Runs the `release_memory` function on a blocking thread, because glibc locks its arenas
    /// one after the other while it trims them.
    async fn release_freed_memory(&self) {
        let release = Arc::clone(&self.release_memory);
        let started = std::time::Instant::now();
        match tokio::task::spawn_blocking(move || release()).await {
            Ok(released) => debug!(
                released,
                elapsed_us = u64::try_from(started.elapsed().as_micros()).unwrap_or(u64::MAX),
                "returned freed memory to the operating system"
            ),
            Err(error) => warn!(%error, "failed to return freed memory to the operating system"),
        }
    }

    /// Builds the merged item list and swaps in a new snapshot when it differs from the
    /// current one. The caller holds the entries' lock, so no other refresh can publish in
    /// between. Returns true when a new generation was published, which the caller then saves
    /// with [`Self::persist`] after releasing the lock.
    fn publish_merged(&self, entries: &[SourceEntry]) -> bool {
        // Comparing the merged result, not the one source's result, keeps the generation (and
        // with it every screen's cursor and cached page) when a change is invisible, such as demo
        // items returning while real items hide them.
        let previous = self.current.load_full();
        let items = merge(entries);
        if same_items(&items, &previous.items) {
            // Same content, perhaps in other allocations (after a restore from disk, the
            // sources build their own). Adopting theirs under the same generation keeps one copy
            // of each item in memory and changes nothing a screen can see.
            let shared = items
                .iter()
                .zip(&previous.items)
                .all(|(a, b)| Arc::ptr_eq(a, b));
            if !shared {
                let snapshot = self.build(previous.generation, items, entries);
                self.current.store(Arc::new(snapshot));
                self.enrichment.request();
            }
            return false;
        }
        let snapshot = Arc::new(self.build(previous.generation + 1, items, entries));
        self.current.store(snapshot.clone());
        self.enrichment.request();
        info!(
            generation = snapshot.generation,
            items = snapshot.items.len(),
            demo = snapshot.demo,
            "catalog updated"
        );
        true
    }

    fn next_revision(&self) -> u64 {
        self.revisions.fetch_add(1, Ordering::Relaxed) + 1
    }

    fn publish_health(&self, entries: &[SourceEntry]) {
        self.health
            .store(Arc::new(entries.iter().map(|e| e.health.clone()).collect()));
    }

    /// Writes the current snapshot to disk. The snapshot is taken once the previous save has
    /// finished, so the file always ends up with the newest one.
    async fn persist(&self) {
        let _saving = self.saving.lock().await;
        let snapshot = self.current.load_full();
        let path = self.snapshot_path.clone();
        let written = tokio::task::spawn_blocking(move || {
            let file = SnapshotFileRef {
                generation: snapshot.generation,
                items: &snapshot.items,
            };
            onesheet_store::atomic::write_with(&path, |writer| {
                serde_json::to_writer(writer, &file).map_err(std::io::Error::other)
            })
            .map_err(|e| e.to_string())
        })
        .await;
        match written {
            Ok(Ok(())) => {}
            Ok(Err(error)) => {
                warn!(%error, "cannot save the catalog; a restart shows the last saved one until the sources are scanned");
            }
            Err(error) => warn!(%error, "saving the catalog stopped unexpectedly"),
        }
    }
}

/// Concatenates the sources' items in source order, dropping items with nothing to show and
/// keeping one item per film stored on several servers. Films match by IMDb, TMDB or TVDB id, then
/// by title and year, and the first source wins. Demo items appear only when no other source
/// contributes.
fn merge(entries: &[SourceEntry]) -> Vec<Arc<MediaItem>> {
    let real: Vec<Arc<MediaItem>> = entries
        .iter()
        .filter(|e| e.source.kind() != crate::demo::KIND)
        .flat_map(|e| e.items.iter())
        .filter(|item| item.images.is_displayable())
        .cloned()
        .collect();
    if !real.is_empty() {
        return dedupe(&real).items;
    }
    entries
        .iter()
        .filter(|e| e.source.kind() == crate::demo::KIND)
        .flat_map(|e| e.items.iter())
        .filter(|item| item.images.is_displayable())
        .cloned()
        .collect()
}

/// Compares two item lists, skipping the field-by-field comparison for shared allocations.
fn same_items(left: &[Arc<MediaItem>], right: &[Arc<MediaItem>]) -> bool {
    left.len() == right.len()
        && left
            .iter()
            .zip(right)
            .all(|(a, b)| Arc::ptr_eq(a, b) || a == b)
}

fn now_unix() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

#[cfg(test)]
mod tests;
