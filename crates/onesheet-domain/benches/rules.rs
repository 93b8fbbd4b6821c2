//! Catalog rules at the size of a large home library: 50,000 items filtered, de-duplicated
//! and put in weighted order.
//!
//! Run with `cargo bench -p onesheet-domain --bench rules`. The items are generated in code
//! from fixed lists, so every run measures the same catalog.

use std::hint::black_box;
use std::sync::Arc;

use criterion::{Criterion, criterion_group, criterion_main};
use onesheet_domain::dedupe::dedupe;
use onesheet_domain::filters::CatalogFilter;
use onesheet_domain::media::{ImageRef, ItemImages, MediaItem, MediaKind, Ratings};
use onesheet_domain::playlist::weighted_order;

const CATALOG_SIZE: usize = 50_000;
const NOW: i64 = 1_750_000_000;

const GENRES: [&str; 10] = [
    "Action",
    "Comedy",
    "Drama",
    "Horror",
    "Science Fiction",
    "Thriller",
    "Animation",
    "Documentary",
    "Romance",
    "Épouvante",
];
const CONTENT_RATINGS: [&str; 9] = [
    "G", "PG", "PG-13", "R", "NR", "TV-14", "us/PG-13", "Rated R", "FSK 12",
];
const LIBRARIES: [&str; 3] = ["Movies", "4K Movies", "Kids"];

fn generated_item(index: usize) -> MediaItem {
    let title = if index.is_multiple_of(10) {
        format!("Amélie et la Forêt {index}")
    } else {
        format!("The Long Title Number {index}: Part Two")
    };
    MediaItem {
        upstream_key: format!("item-{index}"),
        kind: MediaKind::Movie,
        title,
        year: Some(1950 + (index % 75) as u16),
        genres: vec![
            GENRES[index % GENRES.len()].to_owned(),
            GENRES[(index / 7) % GENRES.len()].to_owned(),
        ],
        content_rating: Some(CONTENT_RATINGS[index % CONTENT_RATINGS.len()].to_owned()),
        ratings: Ratings {
            audience: Some((index % 100) as f32 / 10.0),
            critic: None,
        },
        library: Some(LIBRARIES[index % LIBRARIES.len()].to_owned()),
        added_at: Some(NOW - (index as i64) * 600),
        images: ItemImages {
            poster: Some(ImageRef::new("poster.jpg", "1")),
            ..ItemImages::default()
        },
        ..MediaItem::default()
    }
}

fn bench_filter(c: &mut Criterion) {
    let items: Vec<MediaItem> = (0..CATALOG_SIZE).map(generated_item).collect();
    let filter = CatalogFilter {
        genres_exclude: vec!["horror".to_owned(), "Science Fiction".to_owned()],
        min_rating: Some(6.0),
        content_rating_max: Some("PG-13".to_owned()),
        ..CatalogFilter::default()
    };

    c.bench_function("filter: compile and apply to 50k items", |b| {
        b.iter(|| {
            let compiled = filter.compile();
            items
                .iter()
                .filter(|item| compiled.matches(item, NOW))
                .count()
        });
    });
}

/// 45,000 distinct items and 5,000 duplicates of them from a second source, interleaved.
/// Two thirds of the duplicates match by IMDb id under a different title, the rest by title
/// and year written in the `Title, The` form.
fn catalog_with_duplicates() -> Vec<Arc<MediaItem>> {
    const DISTINCT: usize = CATALOG_SIZE * 9 / 10;
    let mut items = Vec::with_capacity(CATALOG_SIZE);
    for index in 0..DISTINCT {
        let mut item = generated_item(index);
        if index % 3 != 0 {
            item.links.imdb_id = Some(format!("tt{:07}", 100_000 + index));
        }
        items.push(Arc::new(item));

        if index % 9 == 8 {
            let original = (index * 7) % DISTINCT;
            let mut duplicate = generated_item(original);
            duplicate.upstream_key = format!("second-{original}");
            if !original.is_multiple_of(3) {
                duplicate.links.imdb_id = Some(format!("tt{}", 100_000 + original));
                duplicate.title = format!("Other Title {original}");
            } else {
                duplicate.title = format!("Long Title Number {original}: Part Two, The");
            }
            items.push(Arc::new(duplicate));
        }
    }
    items
}

fn bench_dedupe(c: &mut Criterion) {
    let items = catalog_with_duplicates();
    let duplicates = dedupe(&items).duplicates;
    assert_eq!(items.len(), CATALOG_SIZE);
    assert!(duplicates > 4_000, "only {duplicates} duplicates found");

    c.bench_function("dedupe: 50k items, 10% duplicates", |b| {
        b.iter(|| dedupe(black_box(&items)).duplicates);
    });
}

fn bench_weighted_order(c: &mut Criterion) {
    let weights: Vec<f32> = (0..CATALOG_SIZE)
        .map(|index| 0.5 + (index % 6) as f32 * 0.5)
        .collect();

    c.bench_function("weighted_order: 50k weights", |b| {
        let mut seed = 0;
        b.iter(|| {
            seed += 1;
            weighted_order(black_box(&weights), seed)
        });
    });
}

criterion_group!(benches, bench_filter, bench_dedupe, bench_weighted_order);
criterion_main!(benches);
