//! Enrichment: the palette and ThumbHash of every image in the catalog, computed once per image
//! version by a background task.
//!
//! Every new snapshot from [`Catalog::restore`] or [`Catalog::refresh`] wakes the task. It lists
//! the images of the current snapshot that have no appearance yet. Posters come first, in display
//! order, so screens get colours for what they show next. The task works through the list one
//! image at a time on a blocking thread, which leaves the other blocking threads to image
//! requests. Results are published in batches as new snapshots, and saved with the catalog.
//!
//! An appearance belongs to an image version. [`carry_over`] copies it into the items a source
//! returns on each refresh, and the saved catalog keeps it across restarts. It is computed again
//! only for an item that left the catalog and came back, or after the saved catalog is lost. An
//! image that cannot be decoded is remembered with its version and skipped until the version
//! changes.
//!
//! A pass that computed anything ends by returning the memory it freed to the operating system,
//! as a refresh does.
//!
//! Decoding is bounded by the same `[images]` limits as resized images, set with
//! [`Catalog::set_image_limits`], and a JPEG is decoded at a reduced DCT scale, because the
//! appearance needs only about 100 pixels a side.

use std::collections::{HashMap, HashSet};
use std::io::Read;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, PoisonError, RwLock, Weak};
use std::time::{Duration, Instant};

use onesheet_domain::media::ImageAppearance;
use onesheet_domain::{ImageKind, ImageRef, ItemId, MediaItem, SourceId};
use onesheet_images::derive::{DecodeLimits, DeriveError};
use tokio::sync::watch;
use tracing::{debug, info, warn};

use super::{Catalog, Snapshot, SourceEntry};
use crate::source::{ImageBody, SourceError};

/// Images computed before a batch is published, whichever of this and [`BATCH_INTERVAL`] comes
/// first. A batch keeps the generation and display order, but each one invalidates the rendered
/// playlist pages, so batches are not made smaller.
const BATCH_IMAGES: usize = 100;

/// Maximum wait before computed images are published.
const BATCH_INTERVAL: Duration = Duration::from_secs(2);

/// Minimum time between two saves of the catalog during one pass. Each save writes the whole
/// catalog, so saving every batch of a large library would rewrite megabytes every few seconds.
const SAVE_INTERVAL: Duration = Duration::from_secs(30);

/// The enrichment task's link to the catalog: requests in, progress out.
pub(super) struct Enrichment {
    /// Number of snapshots published by restore and refresh. The task wakes on each change.
    requests: watch::Sender<u64>,
    /// The request count the task last finished a pass for.
    done: watch::Sender<u64>,
    started: AtomicBool,
    /// Bounds on the originals decoded; the defaults until the server sets its configured ones.
    limits: RwLock<DecodeLimits>,
}

impl Enrichment {
    pub(super) fn new() -> Self {
        Self {
            requests: watch::Sender::new(0),
            done: watch::Sender::new(0),
            started: AtomicBool::new(false),
            limits: RwLock::new(DecodeLimits::default()),
        }
    }

    /// Asks the task to look at the current snapshot again.
    pub(super) fn request(&self) {
        self.requests.send_modify(|count| *count += 1);
    }

    fn limits(&self) -> DecodeLimits {
        *self.limits.read().unwrap_or_else(PoisonError::into_inner)
    }
}

/// One image that needs an appearance.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct ImageVersion {
    item: ItemId,
    kind: ImageKind,
    version: String,
}

/// An image that lacked an appearance when a pass listed it: the item's position in
/// [`Snapshot::items`] and the image's slot. Positions stay valid for the whole generation,
/// because publishing appearances keeps the items in place. A slot is eight bytes, where a clone
/// of the ids and the image reference takes about 400, and a pass over a large library lists
/// tens of thousands of images.
#[derive(Debug, Clone, Copy)]
struct Slot {
    position: u32,
    kind: ImageKind,
}

/// An appearance computed for one image version.
struct Computed {
    image: ImageVersion,
    appearance: ImageAppearance,
}

/// Reason an appearance could not be computed.
#[derive(Debug, thiserror::Error)]
enum Failure {
    /// The image cannot be decoded or is too large, so retrying the same version cannot help.
    #[error(transparent)]
    Undecodable(#[from] DeriveError),
    /// The source or the file cannot be read now. The next pass tries again.
    #[error(transparent)]
    Unreadable(#[from] SourceError),
    #[error("failed to read the image file: {0}")]
    Io(#[from] std::io::Error),
    /// The computation panicked. The same bytes would panic again, so this counts as permanent.
    #[error("computing the appearance stopped unexpectedly: {0}")]
    Task(String),
}

impl Failure {
    fn is_permanent(&self) -> bool {
        matches!(
            self,
            Self::Undecodable(_)
                | Self::Task(_)
                | Self::Unreadable(SourceError::ImageNotFound { .. })
        )
    }
}

/// Counts of one pass, for the log.
#[derive(Debug, Default)]
struct PassStats {
    computed: usize,
    failed: usize,
    deferred: usize,
}

impl Catalog {
    /// Sets the bounds on the originals the enrichment task decodes: the server passes its
    /// `[images]` limits, so an original that resized requests reject is not decoded here
    /// either. Takes effect from the next image.
    pub fn set_image_limits(&self, limits: DecodeLimits) {
        *self
            .enrichment
            .limits
            .write()
            .unwrap_or_else(PoisonError::into_inner) = limits;
    }

    /// Starts the background task that computes the palette and ThumbHash of every image in
    /// the catalog. Call it once, inside the Tokio runtime, and later calls do nothing. The task
    /// ends when the catalog is dropped.
    pub fn start_enrichment(self: &Arc<Self>) {
        if self.enrichment.started.swap(true, Ordering::AcqRel) {
            return;
        }
        let requests = self.enrichment.requests.subscribe();
        let catalog = Arc::downgrade(self);
        tokio::spawn(run(catalog, requests));
    }

    /// Waits until the enrichment task has finished a pass over the newest snapshot. Never
    /// returns when the task was not started.
    pub async fn enrichment_settled(&self) {
        let target = *self.enrichment.requests.borrow();
        let mut done = self.enrichment.done.subscribe();
        // An error means the task's sender is gone, which happens only with the catalog itself.
        let _ = done.wait_for(|finished| *finished >= target).await;
    }

    /// Publishes computed appearances into the current snapshot and the sources' items. Each
    /// appearance lands only on an image whose version still matches, so a refresh that came
    /// in while it was being computed keeps everything it brought. Returns the new snapshot, or
    /// `None` when no image matched any more.
    async fn publish_appearances(&self, computed: &[Computed]) -> Option<Arc<Snapshot>> {
        let mut entries = self.entries.lock().await;
        let previous = self.current.load_full();
        let items = merge_appearances(&mut entries, &previous, computed)?;
        let snapshot = Arc::new(Snapshot::updated_in_place(
            &previous,
            items,
            self.next_revision(),
        ));
        self.current.store(snapshot.clone());
        debug!(
            generation = snapshot.generation,
            revision = snapshot.revision,
            images = computed.len(),
            "published palettes and placeholders"
        );
        Some(snapshot)
    }

    /// Opens one image through its source and computes its appearance on a blocking thread.
    async fn compute(
        &self,
        source: &SourceId,
        image: &ImageRef,
    ) -> Result<ImageAppearance, Failure> {
        let source = self
            .source(source)
            .ok_or_else(|| SourceError::ImageNotFound {
                source_id: source.clone(),
            })?;
        let body = source.open_image(image).await?;
        let limits = self.enrichment.limits();
        tokio::task::spawn_blocking(move || {
            let original = match body {
                ImageBody::File(path) => read_limited(&path, limits.max_input_bytes)?,
                ImageBody::Bytes { bytes, .. } if bytes.len() as u64 > limits.max_input_bytes => {
                    return Err(DeriveError::InputTooLarge {
                        bytes: bytes.len() as u64,
                        max: limits.max_input_bytes,
                    }
                    .into());
                }
                ImageBody::Bytes { bytes, .. } => bytes.to_vec(),
            };
            Ok(onesheet_images::appearance::appearance_of(
                &original, &limits,
            )?)
        })
        .await
        .map_err(|error| Failure::Task(error.to_string()))?
    }
}

/// Reads a whole file, rejecting one larger than `max_bytes` without reading it all.
fn read_limited(path: &Path, max_bytes: u64) -> Result<Vec<u8>, Failure> {
    let file = std::fs::File::open(path)?;
    let declared = file.metadata()?.len();
    let too_large = |bytes| DeriveError::InputTooLarge {
        bytes,
        max: max_bytes,
    };
    if declared > max_bytes {
        return Err(too_large(declared).into());
    }
    // The file may grow after the size check, so the read stops one byte past the limit.
    let mut original = Vec::with_capacity(usize::try_from(declared).unwrap_or(0));
    file.take(max_bytes + 1).read_to_end(&mut original)?;
    if original.len() as u64 > max_bytes {
        return Err(too_large(original.len() as u64).into());
    }
    Ok(original)
}

/// Runs one pass per wake-up until the catalog is dropped.
async fn run(catalog: Weak<Catalog>, mut requests: watch::Receiver<u64>) {
    let mut undecodable = HashSet::new();
    loop {
        let request = *requests.borrow_and_update();
        if run_pass(&catalog, &mut undecodable).await.is_none() {
            return;
        }
        let Some(strong) = catalog.upgrade() else {
            return;
        };
        strong.enrichment.done.send_replace(request);
        drop(strong);
        if requests.changed().await.is_err() {
            return;
        }
    }
}

/// Computes every missing appearance of the current snapshot. A pass ends early when a new
/// generation is published, because that also requests the next pass, which lists the images
/// of the new generation. Returns `None` when the catalog was dropped meanwhile.
async fn run_pass(catalog: &Weak<Catalog>, undecodable: &mut HashSet<ImageVersion>) -> Option<()> {
    let snapshot = catalog.upgrade()?.snapshot();
    let generation = snapshot.generation;
    undecodable.retain(|image| needs_appearance(&snapshot, image));
    let jobs = missing_appearances(&snapshot, undecodable);
    drop(snapshot);
    if jobs.is_empty() {
        return Some(());
    }

    let started = Instant::now();
    info!(images = jobs.len(), "computing palettes and placeholders");
    let mut stats = PassStats::default();
    let mut batch = Vec::new();
    let mut last_publish = Instant::now();
    let mut last_save = Instant::now();
    let mut unsaved = false;
    for slot in jobs {
        let catalog = catalog.upgrade()?;
        let snapshot = catalog.snapshot();
        if snapshot.generation != generation {
            break;
        }
        // A refresh may have replaced the image since the pass began.
        let Some((source, image, pending)) = pending_image(&snapshot, slot) else {
            continue;
        };
        drop(snapshot);

        match catalog.compute(&source, &image).await {
            Ok(appearance) => {
                stats.computed += 1;
                batch.push(Computed {
                    image: pending,
                    appearance,
                });
            }
            Err(failure) if failure.is_permanent() => {
                stats.failed += 1;
                warn!(
                    item.id = %pending.item,
                    image.kind = pending.kind.as_str(),
                    image.version = %pending.version,
                    error = %failure,
                    "failed to compute the palette and placeholder of an image, so this version is skipped until the file changes"
                );
                undecodable.insert(pending);
            }
            Err(failure) => {
                stats.deferred += 1;
                debug!(
                    item.id = %pending.item,
                    image.kind = pending.kind.as_str(),
                    error = %failure,
                    "failed to read an image for its palette, so it is tried again after the next catalog change"
                );
            }
        }

        let due = batch.len() >= BATCH_IMAGES
            || (!batch.is_empty() && last_publish.elapsed() >= BATCH_INTERVAL);
        if due {
            unsaved |= catalog.publish_appearances(&batch).await.is_some();
            batch.clear();
            last_publish = Instant::now();
            if unsaved && last_save.elapsed() >= SAVE_INTERVAL {
                catalog.persist().await;
                unsaved = false;
                last_save = Instant::now();
            }
        }
    }

    let catalog = catalog.upgrade()?;
    if !batch.is_empty() {
        unsaved |= catalog.publish_appearances(&batch).await.is_some();
    }
    if unsaved {
        catalog.persist().await;
    }
    // Each published batch replaced its items with copies that have palettes, so the pass
    // freed about as much memory as the items it enriched take.
    if stats.computed > 0 {
        catalog.release_freed_memory().await;
    }
    if stats.deferred > 0 {
        warn!(
            images = stats.deferred,
            "failed to read some images for their palettes, so they are tried again after the next catalog change"
        );
    }
    info!(
        computed = stats.computed,
        failed = stats.failed,
        deferred = stats.deferred,
        elapsed_ms = started.elapsed().as_millis() as u64,
        "palettes and placeholders computed"
    );
    Some(())
}

/// Lists the images of `snapshot` that lack an appearance: posters of all items in display
/// order, then backgrounds, then the other kinds.
fn missing_appearances(snapshot: &Snapshot, undecodable: &HashSet<ImageVersion>) -> Vec<Slot> {
    let mut jobs = Vec::new();
    for kind in ImageKind::ALL {
        for &position in &snapshot.order {
            let slot = Slot { position, kind };
            let Some((item, image)) = missing_image(snapshot, slot) else {
                continue;
            };
            // The lookup key costs two allocations, so it is built only once an image failed.
            let failed = !undecodable.is_empty()
                && image_version(item, kind, image)
                    .is_some_and(|version| undecodable.contains(&version));
            if !failed {
                jobs.push(slot);
            }
        }
    }
    jobs
}

/// Returns the item at `slot` and its image there, when the item has an id and a source and the
/// image still lacks an appearance.
fn missing_image(snapshot: &Snapshot, slot: Slot) -> Option<(&MediaItem, &ImageRef)> {
    let item = snapshot.items.get(slot.position as usize)?;
    item.source.as_ref()?;
    let image = item
        .images
        .get(slot.kind)
        .filter(|image| image.appearance.is_none())?;
    Some((item, image))
}

fn image_version(item: &MediaItem, kind: ImageKind, image: &ImageRef) -> Option<ImageVersion> {
    Some(ImageVersion {
        item: item.id.clone()?,
        kind,
        version: image.version.clone(),
    })
}

/// Returns the source, the reference and the version of the image at `slot` when it still lacks
/// an appearance.
fn pending_image(snapshot: &Snapshot, slot: Slot) -> Option<(SourceId, ImageRef, ImageVersion)> {
    let (item, image) = missing_image(snapshot, slot)?;
    let pending = image_version(item, slot.kind, image)?;
    Some((item.source.clone()?, image.clone(), pending))
}

/// True when `snapshot` still has the image at that version, without an appearance.
fn needs_appearance(snapshot: &Snapshot, pending: &ImageVersion) -> bool {
    snapshot
        .get(&pending.item)
        .and_then(|item| item.images.get(pending.kind))
        .is_some_and(|image| image.version == pending.version && image.appearance.is_none())
}

/// Builds the item list of the next snapshot: `previous` with the computed appearances set on
/// the images whose version matches. The sources' item lists get the same new items, so the
/// two keep sharing one allocation per item, and each source adopts them into its own cache,
/// which otherwise would keep the old copies alive. Returns `None` when nothing changed.
fn merge_appearances(
    entries: &mut [SourceEntry],
    previous: &Snapshot,
    computed: &[Computed],
) -> Option<Vec<Arc<MediaItem>>> {
    let mut by_item: HashMap<&ItemId, Vec<&Computed>> = HashMap::new();
    for result in computed {
        by_item.entry(&result.image.item).or_default().push(result);
    }

    // Keyed by the old allocation's address, to hand the snapshot the items made for the sources.
    let mut replaced: HashMap<usize, Arc<MediaItem>> = HashMap::new();
    for entry in entries.iter_mut() {
        let mut adopted = Vec::new();
        for item in &mut entry.items {
            if let Some(updated) = with_appearances(item, &by_item) {
                let updated = Arc::new(updated);
                replaced.insert(Arc::as_ptr(item) as usize, updated.clone());
                adopted.push(updated.clone());
                *item = updated;
            }
        }
        if !adopted.is_empty() {
            entry.source.adopt(&adopted);
        }
    }

    let mut changed = false;
    let items = previous
        .items
        .iter()
        .map(|item| {
            let updated = match replaced.get(&(Arc::as_ptr(item) as usize)) {
                Some(updated) => Some(updated.clone()),
                None => with_appearances(item, &by_item).map(Arc::new),
            };
            changed |= updated.is_some();
            updated.unwrap_or_else(|| item.clone())
        })
        .collect();
    changed.then_some(items)
}

/// Returns a copy of `item` with the computed appearances of its images set, or `None` when none
/// applies (no result for the item, or its images have other versions by now).
fn with_appearances(
    item: &MediaItem,
    by_item: &HashMap<&ItemId, Vec<&Computed>>,
) -> Option<MediaItem> {
    let results = by_item.get(item.id.as_ref()?)?;
    let mut updated: Option<MediaItem> = None;
    for result in results {
        let applies = item.images.get(result.image.kind).is_some_and(|image| {
            image.version == result.image.version && image.appearance.is_none()
        });
        if !applies {
            continue;
        }
        let copy = updated.get_or_insert_with(|| item.clone());
        if let Some(image) = copy.images.slot_mut(result.image.kind) {
            image.appearance = Some(result.appearance.clone());
        }
    }
    updated
}

/// Copies known appearances from `previous` (the source's items before this refresh) into
/// `items` where the item id, image kind and version match. An item that then equals its
/// previous version is replaced by that previous allocation, so an unchanged rescan changes
/// nothing in the snapshot.
///
/// Returns the items and, separately, those that differ from what the source returned. The
/// caller passes the latter to the source's `adopt`, so that its cache does not keep copies
/// without appearances.
pub(super) fn carry_over(
    items: Vec<Arc<MediaItem>>,
    previous: &[Arc<MediaItem>],
) -> (Vec<Arc<MediaItem>>, Vec<Arc<MediaItem>>) {
    let known: HashMap<&ItemId, &Arc<MediaItem>> = previous
        .iter()
        .filter(|item| {
            item.images
                .iter()
                .any(|(_, image)| image.appearance.is_some())
        })
        .filter_map(|item| item.id.as_ref().map(|id| (id, item)))
        .collect();
    if known.is_empty() {
        return (items, Vec::new());
    }

    let mut replaced = Vec::new();
    let items = items
        .into_iter()
        .map(|item| {
            let Some(old) = item.id.as_ref().and_then(|id| known.get(id)) else {
                return item;
            };
            let carried = match with_carried(&item, old) {
                Some(carried) if carried == ***old => Arc::clone(old),
                Some(carried) => Arc::new(carried),
                None => return item,
            };
            replaced.push(Arc::clone(&carried));
            carried
        })
        .collect();
    (items, replaced)
}

/// Returns a copy of `item` with the appearances of `old`'s images of the same kind and version,
/// or `None` when there is nothing to copy.
fn with_carried(item: &MediaItem, old: &MediaItem) -> Option<MediaItem> {
    let mut updated: Option<MediaItem> = None;
    for (kind, image) in item.images.iter() {
        if image.appearance.is_some() {
            continue;
        }
        let Some(appearance) = old
            .images
            .get(kind)
            .filter(|old_image| old_image.version == image.version)
            .and_then(|old_image| old_image.appearance.as_ref())
        else {
            continue;
        };
        let copy = updated.get_or_insert_with(|| item.clone());
        if let Some(image) = copy.images.slot_mut(kind) {
            image.appearance = Some(appearance.clone());
        }
    }
    updated
}

#[cfg(test)]
mod tests {
    use std::io::Cursor;
    use std::sync::Mutex;

    use async_trait::async_trait;
    use onesheet_domain::ItemImages;

    use super::*;
    use crate::source::MediaSource;

    /// Serves one item whose poster is a 300×200 PNG held in memory.
    struct OnePoster {
        id: SourceId,
        item: Mutex<Option<Arc<MediaItem>>>,
    }

    impl OnePoster {
        fn new() -> Arc<Self> {
            let id = SourceId::new("memory").unwrap();
            let mut item = MediaItem {
                upstream_key: "poster".to_owned(),
                title: "Poster".to_owned(),
                images: ItemImages {
                    poster: Some(ImageRef::new("poster.png", "v1")),
                    ..ItemImages::default()
                },
                ..MediaItem::default()
            };
            item.assign_identity(&id);
            Arc::new(Self {
                id,
                item: Mutex::new(Some(Arc::new(item))),
            })
        }
    }

    #[async_trait]
    impl MediaSource for OnePoster {
        fn id(&self) -> &SourceId {
            &self.id
        }

        fn kind(&self) -> &'static str {
            "test"
        }

        async fn fetch_items(&self) -> Result<Vec<Arc<MediaItem>>, SourceError> {
            Ok(self.item.lock().unwrap().iter().cloned().collect())
        }

        async fn open_image(&self, _image: &ImageRef) -> Result<ImageBody, SourceError> {
            let mut png = Vec::new();
            image::RgbImage::from_pixel(300, 200, image::Rgb([200, 30, 40]))
                .write_to(&mut Cursor::new(&mut png), image::ImageFormat::Png)
                .unwrap();
            Ok(ImageBody::Bytes {
                bytes: png.into(),
                content_type: Some("image/png".to_owned()),
            })
        }
    }

    /// Runs one enrichment pass over the poster and returns whether it got an appearance.
    async fn poster_enriched(limits: Option<DecodeLimits>) -> bool {
        let dir = tempfile::tempdir().unwrap();
        let catalog = Arc::new(Catalog::new(
            vec![OnePoster::new()],
            dir.path().join("catalog.json"),
        ));
        if let Some(limits) = limits {
            catalog.set_image_limits(limits);
        }
        catalog.start_enrichment();
        catalog.refresh_all().await;
        tokio::time::timeout(Duration::from_secs(60), catalog.enrichment_settled())
            .await
            .unwrap();

        let snapshot = catalog.snapshot();
        let poster = snapshot.items[0].images.get(ImageKind::Poster).unwrap();
        poster.appearance.is_some()
    }

    #[tokio::test]
    async fn enrichment_uses_the_configured_limits() {
        assert!(poster_enriched(None).await, "within the default limits");

        let small = DecodeLimits {
            max_pixels: 300 * 200 - 1,
            ..DecodeLimits::default()
        };
        assert!(!poster_enriched(Some(small)).await, "over the set limit");
    }
}
