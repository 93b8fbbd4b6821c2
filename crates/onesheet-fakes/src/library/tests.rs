use std::collections::HashSet;

use super::*;

fn movies(count: u64, seed: u64) -> Library {
    Library::generate(LibraryKind::Movies, count, seed)
}

#[test]
fn generation_is_deterministic() {
    assert_eq!(movies(40, 7), movies(40, 7));
    assert_ne!(movies(40, 7), movies(40, 8));
}

#[test]
fn overlapping_ranges_share_identity_across_seeds() {
    let first = Library::generate_range(LibraryKind::Movies, 0..100, 1);
    let second = Library::generate_range(LibraryKind::Movies, 50..150, 99);
    let imdb = |library: &Library, canonical: u64| {
        library
            .items()
            .iter()
            .find(|item| item.canonical == canonical)
            .map(|item| (item.title.clone(), item.provider_ids.imdb.clone()))
    };
    for canonical in 50..100 {
        assert_eq!(imdb(&first, canonical), imdb(&second, canonical));
    }
    assert_eq!(imdb(&second, 10), None);
}

#[test]
fn first_movies_carry_special_titles() {
    let library = movies(4, 0);
    let titles: Vec<&str> = library
        .items()
        .iter()
        .map(|item| item.title.as_str())
        .collect();
    assert_eq!(titles, SPECIAL_MOVIE_TITLES);
}

#[test]
fn any_seventeen_movies_hold_every_odd_case() {
    for seed in [0, 5, 1234] {
        let library = Library::generate_range(LibraryKind::Movies, 300..317, seed);
        let items = library.items();
        let any = |check: fn(&Item) -> bool| items.iter().any(check);
        assert!(any(
            |item| item.images.primary == ImageState::Absent && item.images.backdrops == 0
        ));
        assert!(any(|item| item.images.primary == ImageState::Untagged));
        assert!(any(
            |item| item.images.primary_shape == ImageShape::Landscape
        ));
        assert!(any(|item| item.sparse && item.overview.is_none()));
        assert!(any(|item| item
            .media
            .is_some_and(|media| media.resolution == Resolution::Uhd4k)));
        assert!(any(|item| item
            .media
            .is_some_and(|media| media.audio == AudioFormat::TrueHdAtmos)));
        assert!(any(|item| item
            .community_rating
            .is_some_and(|rating| rating.fract() == 0.0)));
    }
}

#[test]
fn dolby_vision_and_missing_rating_appear() {
    let library = movies(40, 0);
    assert!(library.items().iter().any(|item| matches!(
        item.media.map(|media| media.dynamic_range),
        Some(DynamicRange::DolbyVision { profile: 8 })
    )));
    assert!(
        library
            .items()
            .iter()
            .any(|item| !item.sparse && item.official_rating.is_none())
    );
}

#[test]
fn shows_nest_seasons_and_episodes() {
    let library = Library::generate(LibraryKind::Shows, 12, 3);
    let items = library.items();
    for (position, item) in items.iter().enumerate() {
        match item.kind {
            ItemKind::Series => assert_eq!(item.parent, None),
            ItemKind::Season => {
                let series = item.parent.expect("season has a series");
                assert_eq!(items[series].kind, ItemKind::Series);
                assert!(library.children_of(series).contains(&position));
            }
            ItemKind::Episode => {
                let season = item.parent.expect("episode has a season");
                let series = item.grandparent.expect("episode has a series");
                assert_eq!(items[season].kind, ItemKind::Season);
                assert_eq!(items[series].kind, ItemKind::Series);
                assert_eq!(items[season].parent, Some(series));
            }
            other => panic!("unexpected {other:?} in a show library"),
        }
    }
    assert!(items.iter().any(|item| item.kind == ItemKind::Episode
        && item.images.primary == ImageState::Absent));
}

#[test]
fn music_lists_each_artist_before_its_albums() {
    let library = Library::generate_range(LibraryKind::Music, 4..10, 0);
    let items = library.items();
    assert_eq!(items[0].kind, ItemKind::MusicArtist);
    for item in items
        .iter()
        .filter(|item| item.kind == ItemKind::MusicAlbum)
    {
        let artist = item.parent.expect("album has an artist");
        assert_eq!(items[artist].kind, ItemKind::MusicArtist);
    }
    assert_eq!(
        items
            .iter()
            .filter(|item| item.kind == ItemKind::MusicAlbum)
            .count(),
        6
    );
}

#[test]
fn large_library_has_unique_keys_and_lookup() {
    let library = movies(25_000, 42);
    assert_eq!(library.items().len(), 25_000);
    let keys: HashSet<u64> = library.items().iter().map(|item| item.key).collect();
    assert_eq!(keys.len(), 25_000);
    let item = &library.items()[12_345];
    assert_eq!(library.item_by_key(item.key), Some(item));
    assert_eq!(library.position_of(item.key), Some(12_345));
    assert_eq!(library.item_by_key(0), None);
}
