//! Orders of the catalog under filters: global, per screen and cached per revision.

use super::*;

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
