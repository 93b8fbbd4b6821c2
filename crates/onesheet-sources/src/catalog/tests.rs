use std::sync::Mutex as StdMutex;

use async_trait::async_trait;
use onesheet_domain::{ImageRef, ItemImages};

use super::*;
use crate::source::{ImageBody, SourceError};

/// A source whose result the test sets before each refresh.
struct ScriptedSource {
    id: SourceId,
    kind: &'static str,
    next: StdMutex<Result<Vec<Arc<MediaItem>>, String>>,
    weight: f32,
}

impl ScriptedSource {
    fn new(id: &str, kind: &'static str) -> Arc<Self> {
        Arc::new(Self {
            id: SourceId::new(id).unwrap(),
            kind,
            next: StdMutex::new(Ok(Vec::new())),
            weight: 1.0,
        })
    }

    fn weighted(id: &str, weight: f32) -> Arc<Self> {
        Arc::new(Self {
            id: SourceId::new(id).unwrap(),
            kind: "plex",
            next: StdMutex::new(Ok(Vec::new())),
            weight,
        })
    }

    fn answer(&self, result: Result<Vec<Arc<MediaItem>>, String>) {
        *self.next.lock().unwrap() = result;
    }
}

#[async_trait]
impl MediaSource for ScriptedSource {
    fn id(&self) -> &SourceId {
        &self.id
    }

    fn kind(&self) -> &'static str {
        self.kind
    }

    fn weight(&self) -> f32 {
        self.weight
    }

    async fn fetch_items(&self) -> Result<Vec<Arc<MediaItem>>, SourceError> {
        self.next
            .lock()
            .unwrap()
            .clone()
            .map_err(|reason| SourceError::Unavailable {
                source_id: self.id.clone(),
                reason,
            })
    }

    async fn open_image(&self, _image: &ImageRef) -> Result<ImageBody, SourceError> {
        Err(SourceError::ImageNotFound {
            source_id: self.id.clone(),
        })
    }
}

fn items(source: &str, titles: &[&str]) -> Vec<Arc<MediaItem>> {
    let source = SourceId::new(source).unwrap();
    titles
        .iter()
        .map(|title| {
            let mut item = MediaItem {
                upstream_key: (*title).to_owned(),
                title: (*title).to_owned(),
                images: ItemImages {
                    poster: Some(ImageRef {
                        key: format!("{title}.jpg"),
                        version: "v1".into(),
                        appearance: None,
                    }),
                    ..ItemImages::default()
                },
                demo: source.as_str() == "demo",
                ..MediaItem::default()
            };
            item.assign_identity(&source);
            Arc::new(item)
        })
        .collect()
}

fn catalog_with(sources: Vec<Arc<ScriptedSource>>, dir: &tempfile::TempDir) -> Catalog {
    let sources = sources
        .into_iter()
        .map(|s| s as Arc<dyn MediaSource>)
        .collect();
    Catalog::new(sources, dir.path().join("catalog.json"))
}

#[tokio::test]
async fn refresh_swaps_in_a_new_generation() {
    let dir = tempfile::tempdir().unwrap();
    let local = ScriptedSource::new("local", "local");
    let catalog = catalog_with(vec![local.clone()], &dir);
    let before = catalog.snapshot();

    local.answer(Ok(items("local", &["Alien", "Heat"])));
    catalog.refresh_all().await;

    let after = catalog.snapshot();
    assert_eq!(after.generation, before.generation + 1);
    assert_eq!(after.items.len(), 2);
    assert!(
        before.items.is_empty(),
        "an old reader's snapshot must not change"
    );
    let id = after.items[0].id.clone().unwrap();
    assert_eq!(after.get(&id).unwrap().title, after.items[0].title);
}

#[tokio::test]
async fn unchanged_refresh_keeps_generation() {
    let dir = tempfile::tempdir().unwrap();
    let local = ScriptedSource::new("local", "local");
    local.answer(Ok(items("local", &["Alien"])));
    let catalog = catalog_with(vec![local.clone()], &dir);
    catalog.refresh_all().await;
    let first = catalog.snapshot().generation;

    catalog.refresh_all().await;
    assert_eq!(catalog.snapshot().generation, first);
}

#[tokio::test]
async fn failing_source_keeps_last_items() {
    let dir = tempfile::tempdir().unwrap();
    let local = ScriptedSource::new("local", "local");
    local.answer(Ok(items("local", &["Alien", "Heat"])));
    let catalog = catalog_with(vec![local.clone()], &dir);
    catalog.refresh_all().await;

    local.answer(Err("disk unplugged".into()));
    catalog.refresh_all().await;

    assert_eq!(catalog.snapshot().items.len(), 2);
    let health = catalog.health();
    assert_eq!(health[0].state, SourceState::Failing);
    assert_eq!(
        health[0].last_error.as_deref(),
        Some("source local is unavailable: disk unplugged")
    );
}

#[tokio::test]
async fn refresh_releases_memory_before_status_changes() {
    let dir = tempfile::tempdir().unwrap();
    let local = ScriptedSource::new("local", "local");
    // Each call records the published snapshot's size and the source's status at that moment.
    let seen: Arc<StdMutex<Vec<(usize, SourceState)>>> = Arc::default();
    let catalog_slot: Arc<std::sync::OnceLock<std::sync::Weak<Catalog>>> = Arc::default();
    let release: ReleaseMemory = {
        let seen = seen.clone();
        let catalog_slot = catalog_slot.clone();
        Arc::new(move || {
            let catalog = catalog_slot.get().unwrap().upgrade().unwrap();
            let state = catalog.health()[0].state;
            seen.lock()
                .unwrap()
                .push((catalog.snapshot().items.len(), state));
            true
        })
    };
    let catalog = Arc::new(catalog_with(vec![local.clone()], &dir).with_memory_release(release));
    catalog_slot.set(Arc::downgrade(&catalog)).unwrap();

    local.answer(Ok(items("local", &["Alien", "Heat"])));
    catalog.refresh_all().await;
    local.answer(Err("disk unplugged".into()));
    catalog.refresh_all().await;

    assert_eq!(
        *seen.lock().unwrap(),
        [(2, SourceState::Pending), (2, SourceState::Ok)],
        "one release per refresh, after the snapshot and before the status"
    );
    assert_eq!(catalog.health()[0].state, SourceState::Failing);
}

#[tokio::test]
async fn demo_shows_only_without_real_items() {
    let dir = tempfile::tempdir().unwrap();
    let demo = ScriptedSource::new("demo", crate::demo::KIND);
    let local = ScriptedSource::new("local", "local");
    demo.answer(Ok(items("demo", &["Demo One", "Demo Two", "Demo Three"])));
    let catalog = catalog_with(vec![local.clone(), demo.clone()], &dir);

    catalog.refresh_all().await;
    let snapshot = catalog.snapshot();
    assert!(snapshot.demo);
    assert_eq!(snapshot.items.len(), 3);

    local.answer(Ok(items("local", &["Alien"])));
    catalog.refresh_all().await;
    let snapshot = catalog.snapshot();
    assert!(!snapshot.demo);
    assert_eq!(snapshot.items.len(), 1);
    assert!(snapshot.items.iter().all(|item| !item.demo));
}

#[tokio::test]
async fn items_without_artwork_are_left_out() {
    let dir = tempfile::tempdir().unwrap();
    let local = ScriptedSource::new("local", "local");
    let mut answer = items("local", &["Alien", "Heat"]);
    Arc::make_mut(&mut answer[1]).images = ItemImages::default();
    local.answer(Ok(answer));
    let catalog = catalog_with(vec![local.clone()], &dir);
    catalog.refresh_all().await;
    assert_eq!(catalog.snapshot().items.len(), 1);
}

#[tokio::test]
async fn restart_serves_saved_snapshot_before_any_refresh() {
    let dir = tempfile::tempdir().unwrap();
    let local = ScriptedSource::new("local", "local");
    local.answer(Ok(items("local", &["Alien", "Heat", "Ran"])));
    let first = catalog_with(vec![local.clone()], &dir);
    first.refresh_all().await;
    let saved_generation = first.snapshot().generation;

    let local_after_restart = ScriptedSource::new("local", "local");
    local_after_restart.answer(Err("server still starting".into()));
    let second = catalog_with(vec![local_after_restart.clone()], &dir);
    assert!(!second.is_loaded());
    second.restore().await;
    assert!(second.is_loaded());
    assert_eq!(second.snapshot().generation, saved_generation);
    assert_eq!(second.snapshot().items.len(), 3);

    // The source is down after the restart: its restored items stay.
    second.refresh_all().await;
    assert_eq!(second.snapshot().items.len(), 3);
}

#[tokio::test]
async fn damaged_snapshot_file_is_ignored() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("catalog.json"),
        b"{\"generation\": 4, \"items\": [",
    )
    .unwrap();
    let catalog = catalog_with(vec![ScriptedSource::new("local", "local")], &dir);
    catalog.restore().await;
    assert!(!catalog.is_loaded());
    assert!(catalog.snapshot().items.is_empty());
}

#[tokio::test]
async fn hidden_demo_keeps_generation_after_restart() {
    let dir = tempfile::tempdir().unwrap();
    let local = ScriptedSource::new("local", "local");
    let demo = ScriptedSource::new("demo", crate::demo::KIND);
    local.answer(Ok(items("local", &["Alien"])));
    demo.answer(Ok(items("demo", &["Demo One"])));
    let first = catalog_with(vec![local.clone(), demo.clone()], &dir);
    first.refresh_all().await;
    let saved = first.snapshot().generation;

    // After the restart the demo source returns its items again, but real items still hide them.
    let second = catalog_with(vec![local.clone(), demo.clone()], &dir);
    second.restore().await;
    second.refresh_all().await;
    assert_eq!(second.snapshot().generation, saved);
}

#[tokio::test]
async fn equal_refresh_after_restore_adopts_source_allocations() {
    let dir = tempfile::tempdir().unwrap();
    let local = ScriptedSource::new("local", "local");
    local.answer(Ok(items("local", &["Alien", "Heat"])));
    let first = catalog_with(vec![local.clone()], &dir);
    first.refresh_all().await;

    let second = catalog_with(vec![local.clone()], &dir);
    second.restore().await;
    let restored = second.snapshot();
    second.refresh_all().await;
    let refreshed = second.snapshot();

    assert_eq!(refreshed.generation, restored.generation);
    let answer = local.next.lock().unwrap().clone().unwrap();
    for item in refreshed.items.iter() {
        assert!(
            answer.iter().any(|a| Arc::ptr_eq(a, item)),
            "item still held twice"
        );
    }
}

mod enrichment {
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
            snapshot.items.iter().all(|item| item
                .images
                .poster
                .as_ref()
                .unwrap()
                .appearance
                .is_some())
        );
        assert_eq!(source.opened.load(Ordering::SeqCst), 0);
    }
}

fn with_imdb(items: Vec<Arc<MediaItem>>, ids: &[&str]) -> Vec<Arc<MediaItem>> {
    items
        .into_iter()
        .zip(ids)
        .map(|(item, id)| {
            let mut item = (*item).clone();
            item.links.imdb_id = Some((*id).to_owned());
            Arc::new(item)
        })
        .collect()
}

#[tokio::test]
async fn film_on_two_servers_appears_once() {
    let dir = tempfile::tempdir().unwrap();
    let plex = ScriptedSource::new("plex", "plex");
    let jellyfin = ScriptedSource::new("jellyfin", "jellyfin");
    plex.answer(Ok(with_imdb(
        items("plex", &["Heat", "Alien"]),
        &["tt0113277", "tt0078748"],
    )));
    // Another title, same IMDb id: the same film under a localised name.
    jellyfin.answer(Ok(with_imdb(
        items("jellyfin", &["Heat (1995)", "Ran"]),
        &["tt0113277", "tt0089881"],
    )));
    let catalog = Catalog::new(vec![plex, jellyfin], dir.path().join("catalog.json"));
    catalog.refresh_all().await;

    let snapshot = catalog.snapshot();
    let titles: Vec<&str> = snapshot
        .items
        .iter()
        .map(|item| item.title.as_str())
        .collect();
    assert_eq!(titles, ["Heat", "Alien", "Ran"]);
    assert_eq!(snapshot.order.len(), 3);
}

#[tokio::test]
async fn global_filter_leaves_items_resolvable_but_unlisted() {
    let dir = tempfile::tempdir().unwrap();
    let source = ScriptedSource::new("plex", "plex");
    let mut listed = items("plex", &["Bambi", "Heat"]);
    for (item, rating) in listed.iter_mut().zip(["G", "R"]) {
        Arc::make_mut(item).content_rating = Some(rating.to_owned());
    }
    source.answer(Ok(listed));
    let filter = onesheet_domain::CatalogFilter {
        content_rating_max: Some("PG".to_owned()),
        ..onesheet_domain::CatalogFilter::default()
    };
    let catalog =
        Catalog::new(vec![source], dir.path().join("catalog.json")).with_filter(filter.compile());
    catalog.refresh_all().await;

    let snapshot = catalog.snapshot();
    assert_eq!(snapshot.items.len(), 2);
    let shown: Vec<&str> = snapshot
        .order
        .iter()
        .map(|&position| snapshot.items[position as usize].title.as_str())
        .collect();
    assert_eq!(shown, ["Bambi"]);
    let heat = snapshot
        .items
        .iter()
        .find(|item| item.title == "Heat")
        .unwrap();
    assert!(snapshot.get(heat.id.as_ref().unwrap()).is_some());

    // Lifting the filter publishes a new generation with both.
    let generation = snapshot.generation;
    catalog.set_filter(CompiledFilter::default()).await;
    let snapshot = catalog.snapshot();
    assert_eq!(snapshot.order.len(), 2);
    assert!(snapshot.generation > generation);
}

fn genre_filter(genre: &str) -> onesheet_domain::CatalogFilter {
    onesheet_domain::CatalogFilter {
        genres_include: vec![genre.to_owned()],
        ..onesheet_domain::CatalogFilter::default()
    }
}

fn with_genres(mut items: Vec<Arc<MediaItem>>, genres: &[&str]) -> Vec<Arc<MediaItem>> {
    for (item, genre) in items.iter_mut().zip(genres) {
        Arc::make_mut(item).genres = vec![(*genre).to_owned()];
    }
    items
}

fn titles_in(snapshot: &Snapshot, order: &[u32]) -> Vec<String> {
    order
        .iter()
        .map(|&position| snapshot.items[position as usize].title.clone())
        .collect()
}

#[tokio::test]
async fn order_for_a_filter_lists_only_its_items() {
    let dir = tempfile::tempdir().unwrap();
    let source = ScriptedSource::new("plex", "plex");
    source.answer(Ok(with_genres(
        items("plex", &["Bambi", "Heat", "Dumbo", "Ran"]),
        &["Animation", "Crime", "Animation", "Drama"],
    )));
    let catalog = catalog_with(vec![source], &dir);
    catalog.refresh_all().await;
    let snapshot = catalog.snapshot();

    let animated = catalog.order_for(&snapshot, &genre_filter("Animation"));

    let mut titles = titles_in(&snapshot, &animated.order);
    titles.sort();
    assert_eq!(titles, ["Bambi", "Dumbo"]);
    assert_eq!(snapshot.order.len(), 4, "the global order keeps every item");
}

#[tokio::test]
async fn global_filter_order_matches_snapshot() {
    let dir = tempfile::tempdir().unwrap();
    let plex = ScriptedSource::weighted("plex", 3.0);
    let jellyfin = ScriptedSource::weighted("jellyfin", 0.5);
    let titles: Vec<String> = (0..40).map(|i| format!("Film {i}")).collect();
    let titles: Vec<&str> = titles.iter().map(String::as_str).collect();
    plex.answer(Ok(items("plex", &titles[..20])));
    jellyfin.answer(Ok(items("jellyfin", &titles[20..])));
    let filter = onesheet_domain::CatalogFilter {
        genres_exclude: vec!["Horror".to_owned()],
        ..onesheet_domain::CatalogFilter::default()
    };
    let catalog = Catalog::new(
        vec![plex as Arc<dyn MediaSource>, jellyfin],
        dir.path().join("catalog.json"),
    )
    .with_filter(filter.compile());
    catalog.refresh_all().await;
    let snapshot = catalog.snapshot();

    let same = catalog.order_for(&snapshot, &filter);

    assert_eq!(same.order, snapshot.order);
    assert_eq!(
        snapshot.order_for(&onesheet_domain::CompiledFilter::default(), 0),
        snapshot.order,
        "a filter that passes everything gives the weighted order too"
    );
}

#[tokio::test]
async fn order_for_a_filter_keeps_source_weights() {
    let dir = tempfile::tempdir().unwrap();
    // A weight of 0 keeps a source's items out of every order, whatever the filter.
    let shown = ScriptedSource::weighted("plex", 1.0);
    let hidden = ScriptedSource::weighted("jellyfin", 0.0);
    shown.answer(Ok(with_genres(
        items("plex", &["Bambi", "Heat"]),
        &["Animation", "Crime"],
    )));
    hidden.answer(Ok(with_genres(
        items("jellyfin", &["Dumbo"]),
        &["Animation"],
    )));
    let catalog = Catalog::new(
        vec![shown as Arc<dyn MediaSource>, hidden],
        dir.path().join("catalog.json"),
    );
    catalog.refresh_all().await;
    let snapshot = catalog.snapshot();

    let animated = catalog.order_for(&snapshot, &genre_filter("Animation"));

    assert_eq!(titles_in(&snapshot, &animated.order), ["Bambi"]);
}

#[tokio::test]
async fn filtered_orders_are_cached_per_revision_and_filter() {
    let dir = tempfile::tempdir().unwrap();
    let source = ScriptedSource::new("plex", "plex");
    source.answer(Ok(with_genres(
        items("plex", &["Bambi", "Heat"]),
        &["Animation", "Crime"],
    )));
    let catalog = catalog_with(vec![source.clone()], &dir);
    catalog.refresh_all().await;
    let snapshot = catalog.snapshot();

    let first = catalog.order_for(&snapshot, &genre_filter("Animation"));
    let again = catalog.order_for(&snapshot, &genre_filter("animation"));
    let exact = catalog.order_for(&snapshot, &genre_filter("Animation"));
    let crime = catalog.order_for(&snapshot, &genre_filter("Crime"));

    assert!(
        Arc::ptr_eq(&first, &exact),
        "an equal filter reuses the order"
    );
    assert!(
        !Arc::ptr_eq(&first, &again),
        "a filter written differently is its own entry"
    );
    assert_eq!(titles_in(&snapshot, &crime.order), ["Heat"]);
    let revisions = [
        snapshot.revision,
        first.revision,
        again.revision,
        crime.revision,
    ];
    for (i, a) in revisions.iter().enumerate() {
        for b in &revisions[i + 1..] {
            assert_ne!(a, b, "revisions of orders and snapshots never repeat");
        }
    }

    source.answer(Ok(with_genres(
        items("plex", &["Bambi", "Heat", "Dumbo"]),
        &["Animation", "Crime", "Animation"],
    )));
    catalog.refresh_all().await;
    let next = catalog.snapshot();
    let refreshed = catalog.order_for(&next, &genre_filter("Animation"));

    assert_ne!(refreshed.revision, first.revision);
    assert_eq!(refreshed.order.len(), 2);
}
