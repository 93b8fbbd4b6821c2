//! Appearance enrichment: palettes and placeholders computed after a refresh, kept across
//! restarts and bounded in work.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use image::{ImageEncoder, RgbImage};
use onesheet_domain::ImageKind;
use onesheet_domain::media::Rgb;
use sha2::{Digest, Sha256};
use tokio::sync::Semaphore;

use super::*;
use crate::local::LocalFolderSource;

/// Bound on waiting for the enrichment task, far above the few hundred milliseconds a
/// test needs.
const SETTLE_TIMEOUT: Duration = Duration::from_secs(60);

/// The colour painted for an image key at a version, so a test can tell which version an
/// appearance was computed from.
fn painted_color(key: &str, version: &str) -> Rgb {
    let digest = Sha256::digest(format!("{key}@{version}"));
    Rgb::new(digest[0], digest[1], digest[2])
}

fn solid_png(color: Rgb, width: u32, height: u32) -> Vec<u8> {
    let image = RgbImage::from_pixel(width, height, image::Rgb([color.r, color.g, color.b]));
    let mut png = Vec::new();
    image::codecs::png::PngEncoder::new(&mut png)
        .write_image(
            image.as_raw(),
            width,
            height,
            image::ExtendedColorType::Rgb8,
        )
        .unwrap();
    png
}

/// A source whose images are solid PNGs painted on first open in [`painted_color`]; keys
/// starting with `broken` get bytes that are not an image. It counts the opens of each
/// key and version, and holds every open until the gate has a permit.
struct PaintedSource {
    id: SourceId,
    folder: PathBuf,
    next: StdMutex<Vec<Arc<MediaItem>>>,
    opened: StdMutex<HashMap<String, usize>>,
    waiting: AtomicUsize,
    gate: Semaphore,
}

impl PaintedSource {
    fn new(folder: &Path) -> Arc<Self> {
        Arc::new(Self {
            id: SourceId::new("local").unwrap(),
            folder: folder.to_owned(),
            next: StdMutex::new(Vec::new()),
            opened: StdMutex::new(HashMap::new()),
            waiting: AtomicUsize::new(0),
            gate: Semaphore::new(Semaphore::MAX_PERMITS),
        })
    }

    /// Sets the items of the next refresh, built afresh as a rescan would: each title gets a
    /// poster `{title}.png` at `version`, and a background when `with_background`.
    fn answer(&self, titles: &[(&str, &str)], with_background: bool) {
        let items = titles
            .iter()
            .map(|(title, version)| {
                let mut item = MediaItem {
                    upstream_key: (*title).to_owned(),
                    title: (*title).to_owned(),
                    images: ItemImages {
                        poster: Some(ImageRef::new(format!("{title}.png"), *version)),
                        background: with_background
                            .then(|| ImageRef::new(format!("{title}-wide.png"), *version)),
                        ..ItemImages::default()
                    },
                    ..MediaItem::default()
                };
                item.assign_identity(&self.id);
                Arc::new(item)
            })
            .collect();
        *self.next.lock().unwrap() = items;
    }

    fn opens(&self) -> usize {
        self.opened.lock().unwrap().values().sum()
    }

    fn opens_of(&self, key: &str) -> usize {
        self.opened
            .lock()
            .unwrap()
            .iter()
            .filter(|(opened, _)| opened.starts_with(&format!("{key}@")))
            .map(|(_, count)| count)
            .sum()
    }
}

#[async_trait]
impl MediaSource for PaintedSource {
    fn id(&self) -> &SourceId {
        &self.id
    }

    fn kind(&self) -> &'static str {
        "local"
    }

    async fn fetch_items(&self) -> Result<Vec<Arc<MediaItem>>, SourceError> {
        Ok(self.next.lock().unwrap().clone())
    }

    async fn open_image(&self, image: &ImageRef) -> Result<ImageBody, SourceError> {
        *self
            .opened
            .lock()
            .unwrap()
            .entry(format!("{}@{}", image.key, image.version))
            .or_default() += 1;
        self.waiting.fetch_add(1, Ordering::SeqCst);
        drop(self.gate.acquire().await.unwrap());
        self.waiting.fetch_sub(1, Ordering::SeqCst);

        let path = self.folder.join(format!("{}-{}", image.version, image.key));
        let bytes = if image.key.starts_with("broken") {
            b"<html>not an image</html>".to_vec()
        } else {
            solid_png(painted_color(&image.key, &image.version), 30, 45)
        };
        std::fs::write(&path, bytes).unwrap();
        Ok(ImageBody::File(path))
    }
}

/// Wraps a source and counts the images opened through it.
struct CountingSource {
    inner: Arc<dyn MediaSource>,
    opened: AtomicUsize,
}

#[async_trait]
impl MediaSource for CountingSource {
    fn id(&self) -> &SourceId {
        self.inner.id()
    }

    fn kind(&self) -> &'static str {
        self.inner.kind()
    }

    async fn fetch_items(&self) -> Result<Vec<Arc<MediaItem>>, SourceError> {
        self.inner.fetch_items().await
    }

    fn adopt(&self, items: &[Arc<MediaItem>]) {
        self.inner.adopt(items);
    }

    async fn open_image(&self, image: &ImageRef) -> Result<ImageBody, SourceError> {
        self.opened.fetch_add(1, Ordering::SeqCst);
        self.inner.open_image(image).await
    }
}

fn catalog_over(source: Arc<dyn MediaSource>, dir: &tempfile::TempDir) -> Arc<Catalog> {
    Arc::new(Catalog::new(vec![source], dir.path().join("catalog.json")))
}

async fn settle(catalog: &Catalog) {
    tokio::time::timeout(SETTLE_TIMEOUT, catalog.enrichment_settled())
        .await
        .expect("enrichment did not settle");
}

fn image<'a>(snapshot: &'a Snapshot, title: &str, kind: ImageKind) -> &'a ImageRef {
    let item = snapshot
        .items
        .iter()
        .find(|item| item.title == title)
        .unwrap_or_else(|| panic!("{title} is not in the catalog"));
    item.images.get(kind).unwrap()
}

/// Asserts that the image's palette is exactly the colour painted for its current version.
fn assert_painted(snapshot: &Snapshot, title: &str, kind: ImageKind) {
    let image = image(snapshot, title, kind);
    let appearance = image
        .appearance
        .as_ref()
        .unwrap_or_else(|| panic!("{title} {kind:?} has no appearance"));
    assert_eq!(
        appearance.palette,
        [painted_color(&image.key, &image.version)],
        "{title} {kind:?}"
    );
    assert!(!appearance.thumbhash.is_empty(), "{title} {kind:?}");
}

#[tokio::test]
async fn enrichment_fills_every_image() {
    let dir = tempfile::tempdir().unwrap();
    let source = PaintedSource::new(dir.path());
    source.answer(&[("Alien", "v1"), ("Heat", "v1")], true);
    let catalog = catalog_over(source.clone(), &dir);
    catalog.refresh_all().await;
    let refreshed = catalog.snapshot();

    catalog.start_enrichment();
    settle(&catalog).await;

    let snapshot = catalog.snapshot();
    for title in ["Alien", "Heat"] {
        assert_painted(&snapshot, title, ImageKind::Poster);
        assert_painted(&snapshot, title, ImageKind::Background);
    }
    // Screens' cursors and display order stay valid; only the revision moves on.
    assert_eq!(snapshot.generation, refreshed.generation);
    assert_eq!(snapshot.order, refreshed.order);
    assert!(snapshot.revision > refreshed.revision);
    assert_eq!(source.opens(), 4);

    let saved = std::fs::read_to_string(dir.path().join("catalog.json")).unwrap();
    assert_eq!(saved.matches("\"thumbhash\"").count(), 4, "{saved}");
}

#[tokio::test]
async fn rebuilt_items_keep_appearances() {
    let dir = tempfile::tempdir().unwrap();
    let source = PaintedSource::new(dir.path());
    source.answer(&[("Alien", "v1"), ("Heat", "v1")], false);
    let catalog = catalog_over(source.clone(), &dir);
    catalog.start_enrichment();
    catalog.refresh_all().await;
    settle(&catalog).await;
    let enriched = catalog.snapshot();

    // The same files, scanned again into new allocations without appearances.
    source.answer(&[("Alien", "v1"), ("Heat", "v1")], false);
    catalog.refresh_all().await;
    let after = catalog.snapshot();
    assert_eq!(after.generation, enriched.generation);
    assert_painted(&after, "Alien", ImageKind::Poster);
    assert_painted(&after, "Heat", ImageKind::Poster);
    for (before, now) in enriched.items.iter().zip(&after.items) {
        assert!(Arc::ptr_eq(before, now), "an unchanged item was copied");
    }

    settle(&catalog).await;
    assert_eq!(source.opens(), 2, "an unchanged image was decoded again");
}

#[tokio::test]
async fn changed_version_is_computed_again() {
    let dir = tempfile::tempdir().unwrap();
    let source = PaintedSource::new(dir.path());
    source.answer(&[("Alien", "v1"), ("Heat", "v1")], false);
    let catalog = catalog_over(source.clone(), &dir);
    catalog.start_enrichment();
    catalog.refresh_all().await;
    settle(&catalog).await;

    // The gate keeps the task from computing the new version before the check below.
    source.gate.forget_permits(Semaphore::MAX_PERMITS);
    source.answer(&[("Alien", "v1"), ("Heat", "v2")], false);
    catalog.refresh_all().await;
    let refreshed = catalog.snapshot();
    assert_painted(&refreshed, "Alien", ImageKind::Poster);
    assert!(
        image(&refreshed, "Heat", ImageKind::Poster)
            .appearance
            .is_none(),
        "the old version's appearance was kept"
    );

    source.gate.add_permits(Semaphore::MAX_PERMITS);
    settle(&catalog).await;
    assert_painted(&catalog.snapshot(), "Heat", ImageKind::Poster);
    assert_eq!(source.opens_of("Heat.png"), 2);
    assert_eq!(source.opens_of("Alien.png"), 1);
}

#[tokio::test]
async fn restart_restores_appearances_without_decoding() {
    let dir = tempfile::tempdir().unwrap();
    let first_source = PaintedSource::new(dir.path());
    first_source.answer(&[("Alien", "v1"), ("Heat", "v1")], true);
    let first = catalog_over(first_source.clone(), &dir);
    first.start_enrichment();
    first.refresh_all().await;
    settle(&first).await;
    let saved_generation = first.snapshot().generation;
    drop(first);

    let source = PaintedSource::new(dir.path());
    source.answer(&[("Alien", "v1"), ("Heat", "v1")], true);
    let second = catalog_over(source.clone(), &dir);
    second.restore().await;
    let restored = second.snapshot();
    assert_eq!(restored.generation, saved_generation);
    assert_painted(&restored, "Alien", ImageKind::Poster);
    assert_painted(&restored, "Heat", ImageKind::Background);

    second.start_enrichment();
    second.refresh_all().await;
    settle(&second).await;
    assert_eq!(second.snapshot().generation, saved_generation);
    assert_painted(&second.snapshot(), "Heat", ImageKind::Poster);
    assert_eq!(
        source.opens(),
        0,
        "a restored appearance was computed again"
    );
}

#[tokio::test]
async fn undecodable_image_is_tried_once_per_version() {
    let dir = tempfile::tempdir().unwrap();
    let source = PaintedSource::new(dir.path());
    source.answer(&[("broken", "v1"), ("Heat", "v1")], false);
    let catalog = catalog_over(source.clone(), &dir);
    catalog.start_enrichment();
    catalog.refresh_all().await;
    settle(&catalog).await;
    assert!(
        image(&catalog.snapshot(), "broken", ImageKind::Poster)
            .appearance
            .is_none()
    );
    assert_painted(&catalog.snapshot(), "Heat", ImageKind::Poster);

    // A change elsewhere wakes the task, which must skip the broken image.
    source.answer(&[("broken", "v1"), ("Heat", "v1"), ("Ran", "v1")], false);
    catalog.refresh_all().await;
    settle(&catalog).await;
    assert_painted(&catalog.snapshot(), "Ran", ImageKind::Poster);
    assert_eq!(source.opens_of("broken.png"), 1);

    // A new version is a new file, so it is tried.
    source.answer(&[("broken", "v2"), ("Heat", "v1"), ("Ran", "v1")], false);
    catalog.refresh_all().await;
    settle(&catalog).await;
    assert_eq!(source.opens_of("broken.png"), 2);
}

#[tokio::test]
async fn refresh_during_enrichment_is_kept() {
    let dir = tempfile::tempdir().unwrap();
    let source = PaintedSource::new(dir.path());
    source.answer(&[("Alien", "v1"), ("Heat", "v1")], false);
    let catalog = catalog_over(source.clone(), &dir);
    catalog.refresh_all().await;

    // Hold the first open, then refresh while its appearance is being computed.
    source.gate.forget_permits(Semaphore::MAX_PERMITS);
    catalog.start_enrichment();
    tokio::time::timeout(SETTLE_TIMEOUT, async {
        while source.waiting.load(Ordering::SeqCst) == 0 {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    })
    .await
    .expect("the task never opened an image");

    source.answer(&[("Alien", "v2"), ("Heat", "v2"), ("Ran", "v1")], false);
    catalog.refresh_all().await;
    let refreshed = catalog.snapshot();
    source.gate.add_permits(Semaphore::MAX_PERMITS);
    settle(&catalog).await;

    let snapshot = catalog.snapshot();
    assert_eq!(snapshot.generation, refreshed.generation);
    assert!(snapshot.revision > refreshed.revision);
    assert_eq!(snapshot.items.len(), 3, "the refresh was overwritten");
    for title in ["Alien", "Heat", "Ran"] {
        assert_painted(&snapshot, title, ImageKind::Poster);
    }
    assert_eq!(image(&snapshot, "Heat", ImageKind::Poster).version, "v2");
}

#[tokio::test]
async fn enrichment_pass_releases_memory() {
    let dir = tempfile::tempdir().unwrap();
    let source = PaintedSource::new(dir.path());
    source.answer(&[("Alien", "v1"), ("Heat", "v1")], false);
    let releases = Arc::new(AtomicUsize::new(0));
    let counter = releases.clone();
    let release: ReleaseMemory = Arc::new(move || {
        counter.fetch_add(1, Ordering::SeqCst);
        true
    });
    let catalog = Arc::new(
        Catalog::new(vec![source.clone()], dir.path().join("catalog.json"))
            .with_memory_release(release),
    );

    catalog.refresh_all().await;
    assert_eq!(releases.load(Ordering::SeqCst), 1, "after the refresh");

    catalog.start_enrichment();
    settle(&catalog).await;
    assert_eq!(releases.load(Ordering::SeqCst), 2, "after the pass");
    assert_painted(&catalog.snapshot(), "Alien", ImageKind::Poster);

    // A refresh that brings nothing new starts a pass with nothing to compute.
    catalog.refresh_all().await;
    settle(&catalog).await;
    assert_eq!(
        releases.load(Ordering::SeqCst),
        3,
        "only the refresh released"
    );
}

#[tokio::test]
async fn local_scan_returns_enriched_items() {
    let dir = tempfile::tempdir().unwrap();
    let media = dir.path().join("media");
    put_png(&media, "posters/Alien (1979).png", Rgb::new(200, 20, 20));
    put_png(&media, "posters/Heat (1995).png", Rgb::new(20, 20, 200));
    let local = Arc::new(LocalFolderSource::new(
        SourceId::new("local").unwrap(),
        media.clone(),
    ));
    let catalog = catalog_over(local.clone(), &dir);
    catalog.start_enrichment();
    catalog.refresh_all().await;
    settle(&catalog).await;

    // The scan cache must hold the catalog's enriched copies, not the ones it built before.
    let rescanned = local.fetch_items().await.unwrap();
    let snapshot = catalog.snapshot();
    assert_eq!(rescanned.len(), 2);
    for item in &rescanned {
        let held = snapshot
            .items
            .iter()
            .find(|held| held.id == item.id)
            .unwrap();
        assert!(Arc::ptr_eq(item, held), "{} is held twice", item.title);
        assert!(item.images.poster.as_ref().unwrap().appearance.is_some());
    }
}

fn put_png(root: &Path, relative: &str, color: Rgb) {
    let path = root.join(relative);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, solid_png(color, 40, 60)).unwrap();
}

#[tokio::test]
async fn local_rescan_and_restart_keep_appearances() {
    let dir = tempfile::tempdir().unwrap();
    let media = dir.path().join("media");
    let red = Rgb::new(200, 20, 20);
    put_png(&media, "posters/Alien (1979).png", red);
    put_png(&media, "posters/Heat (1995).png", Rgb::new(20, 20, 200));
    let local = |media: &Path| {
        Arc::new(CountingSource {
            inner: Arc::new(LocalFolderSource::new(
                SourceId::new("local").unwrap(),
                media.to_owned(),
            )),
            opened: AtomicUsize::new(0),
        })
    };

    let source = local(&media);
    let catalog = catalog_over(source.clone(), &dir);
    catalog.start_enrichment();
    catalog.refresh_all().await;
    settle(&catalog).await;
    assert_eq!(source.opened.load(Ordering::SeqCst), 2);

    put_png(&media, "posters/Ran (1985).png", Rgb::new(20, 200, 20));
    catalog.refresh_all().await;
    let rescanned = catalog.snapshot();
    assert_eq!(rescanned.items.len(), 3);
    let alien = image(&rescanned, "Alien", ImageKind::Poster);
    assert_eq!(alien.appearance.as_ref().unwrap().palette, [red]);

    settle(&catalog).await;
    assert_eq!(source.opened.load(Ordering::SeqCst), 3);
    let generation = catalog.snapshot().generation;
    drop(catalog);

    let source = local(&media);
    let restarted = catalog_over(source.clone(), &dir);
    restarted.restore().await;
    restarted.start_enrichment();
    restarted.refresh_all().await;
    settle(&restarted).await;
    let snapshot = restarted.snapshot();
    assert_eq!(snapshot.generation, generation);
    assert!(
        snapshot
            .items
            .iter()
            .all(|item| item.images.poster.as_ref().unwrap().appearance.is_some())
    );
    assert_eq!(source.opened.load(Ordering::SeqCst), 0);
}
