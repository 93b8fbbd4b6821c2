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

mod enrichment;
mod filters;

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
