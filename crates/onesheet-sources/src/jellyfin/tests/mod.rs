//! Parsing and mapping tests on Jellyfin and Emby responses built in code.

use onesheet_domain::{ImageRef, MediaItem, MediaKind, PlaybackState, SourceId};
use serde_json::{Value, json};

use super::map::{MAX_TEXT_CHARS, MAX_TITLE_CHARS};
use super::*;

mod badges;
mod sets;

const MOVIE_ID: &str = "a1b2c3d4e5f60718293a4b5c6d7e8f90";
const SERIES_ID: &str = "5eb1e5000000000000000000000000aa";
const SEASON_ID: &str = "5ea5000000000000000000000000000b";

fn item(value: Value) -> BaseItemDto {
    serde_json::from_value(value).unwrap()
}

fn map(value: Value) -> Option<MediaItem> {
    map_item(&item(value), Flavour::Jellyfin, &MapContext::default())
}

/// Adds fields to a JSON object.
fn with(mut base: Value, extra: Value) -> Value {
    base.as_object_mut()
        .unwrap()
        .extend(extra.as_object().unwrap().clone());
    base
}

fn key(image: &Option<ImageRef>) -> Option<(&str, &str)> {
    image
        .as_ref()
        .map(|image| (image.key.as_str(), image.version.as_str()))
}

fn movie_json() -> Value {
    json!({
        "Name": "Blade Runner 2049",
        "OriginalTitle": "Blade Runner 2049",
        "ServerId": "f00",
        "Id": MOVIE_ID,
        "Etag": "0f1e2d3c",
        "DateCreated": "2023-04-01T12:00:00.0000000Z",
        "PremiereDate": "2017-10-04T00:00:00.0000000Z",
        "CriticRating": 88,
        "OfficialRating": "R",
        "Overview": "Officer K unearths a secret.",
        "Taglines": ["The key to the future is finally unearthed."],
        "Genres": ["Science Fiction", "Drama", "Science Fiction"],
        "CommunityRating": 7.9,
        "RunTimeTicks": 98_400_000_000i64,
        "ProductionYear": 2017,
        "ProviderIds": { "Imdb": "tt1856101", "Tmdb": "335984", "Tvdb": "2291", "Custom": null },
        "IsFolder": false,
        "Type": "Movie",
        "Studios": [{ "Name": "Alcon Entertainment", "Id": "1" }, { "Name": "Columbia Pictures", "Id": "2" }],
        "People": [
            { "Name": "Denis Villeneuve", "Id": "p1", "Type": "Director" },
            { "Name": "Ryan Gosling", "Id": "p2", "Role": "K", "Type": "Actor" },
            { "Name": "Harrison Ford", "Id": "p3", "Role": "Rick Deckard", "Type": "Actor" },
            { "Name": "Hampton Fancher", "Id": "p4", "Type": "Writer" }
        ],
        "ImageTags": { "Primary": "aa11", "Logo": "bb22", "Thumb": "cc33" },
        "BackdropImageTags": ["dd44", "ee55"],
        "PrimaryImageAspectRatio": 0.6666666666666666,
        "MediaType": "Video",
        "LocationType": "FileSystem",
        "Path": "/media/movies/Blade Runner 2049 (2017)/movie.mkv"
    })
}

#[test]
fn items_page_parses_with_unknown_and_null_fields() {
    let page: ItemsPage = serde_json::from_value(json!({
        "Items": [
            movie_json(),
            { "Name": "Nulls", "Id": "1", "Type": "Movie", "Taglines": null, "Genres": null, "People": null, "ImageTags": null, "ProviderIds": null, "MediaStreams": null, "SomethingNew": { "Deep": [1, 2] } }
        ],
        "TotalRecordCount": 1234,
        "StartIndex": 200
    }))
    .unwrap();

    assert_eq!(page.items.len(), 2);
    assert_eq!(page.total_record_count, 1234);
    assert_eq!(page.start_index, 200);
    assert!(page.items[1].taglines.is_empty());
    assert!(page.items[1].image_tags.is_empty());
}

#[test]
fn movie_maps_every_field() {
    let context = MapContext {
        library: Some("Films".to_owned()),
        collection: Some("Replicants".to_owned()),
    };
    let mapped = map_item(&item(movie_json()), Flavour::Jellyfin, &context).unwrap();

    assert_eq!(mapped.id, None);
    assert_eq!(mapped.source, None);
    assert_eq!(mapped.upstream_key, MOVIE_ID);
    assert_eq!(mapped.kind, MediaKind::Movie);
    assert_eq!(mapped.title, "Blade Runner 2049");
    assert_eq!(mapped.original_title.as_deref(), Some("Blade Runner 2049"));
    assert_eq!(mapped.year, Some(2017));
    assert_eq!(
        mapped.tagline.as_deref(),
        Some("The key to the future is finally unearthed.")
    );
    assert_eq!(
        mapped.overview.as_deref(),
        Some("Officer K unearths a secret.")
    );
    assert_eq!(mapped.genres, ["Science Fiction", "Drama"]);
    assert_eq!(mapped.content_rating.as_deref(), Some("R"));
    assert_eq!(mapped.ratings.audience, Some(7.9));
    assert_eq!(mapped.ratings.critic, Some(8.8));
    assert_eq!(mapped.runtime_minutes, Some(164));
    assert_eq!(mapped.studios, ["Alcon Entertainment", "Columbia Pictures"]);
    assert_eq!(mapped.directors, ["Denis Villeneuve"]);
    assert_eq!(mapped.cast, ["Ryan Gosling", "Harrison Ford"]);
    assert_eq!(mapped.links.imdb_id.as_deref(), Some("tt1856101"));
    assert_eq!(mapped.links.tmdb_id.as_deref(), Some("335984"));
    assert_eq!(mapped.links.tvdb_id.as_deref(), Some("2291"));
    assert_eq!(mapped.added_at, Some(1_680_350_400));
    assert_eq!(mapped.library.as_deref(), Some("Films"));
    assert_eq!(mapped.collections, ["Replicants"]);

    let poster = format!("{MOVIE_ID}/Primary");
    let background = format!("{MOVIE_ID}/Backdrop/0");
    let logo = format!("{MOVIE_ID}/Logo");
    let thumbnail = format!("{MOVIE_ID}/Thumb");
    assert_eq!(key(&mapped.images.poster), Some((poster.as_str(), "aa11")));
    assert_eq!(
        key(&mapped.images.background),
        Some((background.as_str(), "dd44"))
    );
    assert_eq!(key(&mapped.images.logo), Some((logo.as_str(), "bb22")));
    assert_eq!(
        key(&mapped.images.thumbnail),
        Some((thumbnail.as_str(), "cc33"))
    );

    let saved = serde_json::to_string(&mapped).unwrap();
    assert!(!saved.contains("/media/movies"), "{saved}");
}

#[test]
fn landscape_primary_is_not_a_poster() {
    let mapped = map(json!({
        "Id": MOVIE_ID,
        "Name": "Home Video",
        "Type": "Movie",
        "ImageTags": { "Primary": "aa11" },
        "PrimaryImageAspectRatio": 1.7777777777777777
    }))
    .unwrap();

    let primary = format!("{MOVIE_ID}/Primary");
    assert_eq!(mapped.images.poster, None);
    assert_eq!(
        key(&mapped.images.background),
        Some((primary.as_str(), "aa11"))
    );
    assert_eq!(
        key(&mapped.images.thumbnail),
        Some((primary.as_str(), "aa11"))
    );

    // A square album cover is still a poster.
    let album = map(json!({
        "Id": MOVIE_ID,
        "Name": "Discovery",
        "Type": "MusicAlbum",
        "ImageTags": { "Primary": "aa11" },
        "PrimaryImageAspectRatio": 1.0
    }))
    .unwrap();
    assert_eq!(album.kind, MediaKind::Album);
    assert_eq!(key(&album.images.poster), Some((primary.as_str(), "aa11")));
}

#[test]
fn landscape_primary_does_not_replace_a_backdrop() {
    let mapped = map(json!({
        "Id": MOVIE_ID,
        "Name": "Wide",
        "Type": "Movie",
        "ImageTags": { "Primary": "aa11" },
        "BackdropImageTags": ["dd44"],
        "PrimaryImageAspectRatio": 2.0
    }))
    .unwrap();
    assert_eq!(mapped.images.poster, None);
    assert_eq!(
        key(&mapped.images.background).map(|(_, tag)| tag),
        Some("dd44")
    );
    assert_eq!(
        key(&mapped.images.thumbnail).map(|(_, tag)| tag),
        Some("aa11")
    );
}

#[test]
fn episode_falls_back_to_series_artwork() {
    let mapped = map(json!({
        "Id": "e9000000000000000000000000000001",
        "Name": "Pilot",
        "Type": "Episode",
        "SeriesName": "Breaking Bad",
        "SeriesId": SERIES_ID,
        "SeriesPrimaryImageTag": "5e5e",
        "SeasonId": SEASON_ID,
        "ParentBackdropItemId": SERIES_ID,
        "ParentBackdropImageTags": ["bd01"],
        "ParentLogoItemId": SERIES_ID,
        "ParentLogoImageTag": "10g0",
        "ImageTags": { "Primary": "e5e5" },
        "PrimaryImageAspectRatio": 1.7777777777777777,
        "IndexNumber": 1,
        "ParentIndexNumber": 1
    }))
    .unwrap();

    assert_eq!(mapped.kind, MediaKind::Episode);
    assert_eq!(mapped.title, "Breaking Bad – Pilot");
    let series_primary = format!("{SERIES_ID}/Primary");
    let series_backdrop = format!("{SERIES_ID}/Backdrop/0");
    let series_logo = format!("{SERIES_ID}/Logo");
    assert_eq!(
        key(&mapped.images.poster),
        Some((series_primary.as_str(), "5e5e"))
    );
    assert_eq!(
        key(&mapped.images.background),
        Some((series_backdrop.as_str(), "bd01"))
    );
    assert_eq!(
        key(&mapped.images.logo),
        Some((series_logo.as_str(), "10g0"))
    );
    assert_eq!(
        key(&mapped.images.thumbnail),
        Some(("e9000000000000000000000000000001/Primary", "e5e5"))
    );
}

#[test]
fn season_uses_own_poster_then_series() {
    let own = map(json!({
        "Id": SEASON_ID,
        "Name": "Season 2",
        "Type": "Season",
        "SeriesName": "Severance",
        "SeriesId": SERIES_ID,
        "SeriesPrimaryImageTag": "5e5e",
        "ImageTags": { "Primary": "5ea5" },
        "PrimaryImageAspectRatio": 0.68
    }))
    .unwrap();
    assert_eq!(own.kind, MediaKind::Show);
    assert_eq!(own.title, "Severance – Season 2");
    assert_eq!(key(&own.images.poster).map(|(_, tag)| tag), Some("5ea5"));

    let fallback = map(json!({
        "Id": SEASON_ID,
        "Name": "Season 3",
        "Type": "Season",
        "SeriesId": SERIES_ID,
        "SeriesPrimaryImageTag": "5e5e"
    }))
    .unwrap();
    let series_primary = format!("{SERIES_ID}/Primary");
    assert_eq!(
        key(&fallback.images.poster),
        Some((series_primary.as_str(), "5e5e"))
    );
}

#[test]
fn series_and_artist_map_to_kinds() {
    let tags = json!({ "ImageTags": { "Primary": "aa11" } });
    let cases = [
        ("Series", MediaKind::Show),
        ("MusicArtist", MediaKind::Artist),
        ("MusicAlbum", MediaKind::Album),
        ("Movie", MediaKind::Movie),
    ];
    for (server_kind, expected) in cases {
        let mapped = map(with(
            json!({ "Id": MOVIE_ID, "Name": "Kind", "Type": server_kind }),
            tags.clone(),
        ))
        .unwrap();
        assert_eq!(mapped.kind, expected, "{server_kind}");
    }

    for server_kind in [
        "Trailer",
        "Audio",
        "Folder",
        "CollectionFolder",
        "Person",
        "BoxSet",
    ] {
        let mapped = map(with(
            json!({ "Id": MOVIE_ID, "Name": "Kind", "Type": server_kind }),
            tags.clone(),
        ));
        assert_eq!(mapped, None, "{server_kind} was mapped");
    }
}

#[test]
fn untagged_poster_from_aspect_ratio() {
    let mapped = map(json!({
        "Id": MOVIE_ID,
        "Name": "Untagged",
        "Type": "Series",
        "Etag": "9f8e7d",
        "ImageTags": {},
        "BackdropImageTags": [],
        "PrimaryImageAspectRatio": 0.6666666666666666
    }))
    .unwrap();

    let poster = mapped.images.poster.as_ref().unwrap();
    assert_eq!(poster.key, format!("{MOVIE_ID}/Primary"));
    assert_eq!(poster.version, "untagged-9f8e7d");
    assert!(is_untagged(poster));
    assert!(mapped.images.is_displayable());
}

#[test]
fn untagged_poster_for_video_file() {
    let mapped = map(json!({
        "Id": MOVIE_ID,
        "Name": "Untagged video",
        "Type": "Movie",
        "MediaType": "Video",
        "ImageTags": {}
    }))
    .unwrap();
    let poster = mapped.images.poster.as_ref().unwrap();
    assert_eq!(poster.version, UNTAGGED_VERSION);
    assert!(is_untagged(poster));
}

#[test]
fn untagged_landscape_primary_goes_to_background() {
    let mapped = map(json!({
        "Id": MOVIE_ID,
        "Name": "Wide untagged",
        "Type": "Movie",
        "ImageTags": {},
        "PrimaryImageAspectRatio": 1.78
    }))
    .unwrap();
    assert_eq!(mapped.images.poster, None);
    assert!(is_untagged(mapped.images.background.as_ref().unwrap()));
    assert!(is_untagged(mapped.images.thumbnail.as_ref().unwrap()));
}

#[test]
fn untagged_is_only_a_last_resort() {
    // A backdrop is enough to show the item, so no untagged request is needed.
    let mapped = map(json!({
        "Id": MOVIE_ID,
        "Name": "Backdrop only",
        "Type": "Movie",
        "MediaType": "Video",
        "ImageTags": {},
        "BackdropImageTags": ["dd44"]
    }))
    .unwrap();
    assert_eq!(mapped.images.poster, None);
    assert!(!is_untagged(mapped.images.background.as_ref().unwrap()));

    assert!(!is_untagged(&ImageRef::new("x/Primary", "untaggedness")));
    assert!(!is_untagged(&ImageRef::new("x/Primary", "aa11")));
}

#[test]
fn item_without_artwork_is_skipped() {
    let mapped = map(json!({
        "Id": MOVIE_ID,
        "Name": "Blank",
        "Type": "Series",
        "ImageTags": {},
        "BackdropImageTags": []
    }));
    assert_eq!(mapped, None);

    let logo_only = map(json!({
        "Id": MOVIE_ID,
        "Name": "Logo only",
        "Type": "Movie",
        "ImageTags": { "Logo": "bb22" }
    }));
    assert_eq!(logo_only, None);
}

#[test]
fn unsafe_ids_and_tags_are_rejected() {
    let long = "a".repeat(65);
    for id in ["../System/Info", "a/b", "a?b", "", "  ", long.as_str()] {
        let mapped = map(json!({
            "Id": id,
            "Name": "Unsafe",
            "Type": "Movie",
            "ImageTags": { "Primary": "aa11" }
        }));
        assert_eq!(mapped, None, "{id:?} was accepted");
    }

    for tag in ["\"quoted\"", "a b", "a/b", ""] {
        let mapped = map(json!({
            "Id": MOVIE_ID,
            "Name": "Unsafe tag",
            "Type": "Series",
            "ImageTags": { "Primary": tag }
        }));
        assert_eq!(mapped, None, "{tag:?} was accepted");
    }

    let unsafe_parent = map(json!({
        "Id": MOVIE_ID,
        "Name": "Pilot",
        "Type": "Episode",
        "SeriesId": "../Users",
        "SeriesPrimaryImageTag": "5e5e"
    }));
    assert_eq!(unsafe_parent, None);
}

#[test]
fn emby_numeric_ids_are_accepted() {
    let mapped = map_item(
        &item(json!({
            "Id": "12345",
            "Name": "Emby movie",
            "Type": "Movie",
            "ImageTags": { "Primary": "8c1f0a" },
            "BackdropImageTags": ["77aa"]
        })),
        Flavour::Emby,
        &MapContext::default(),
    )
    .unwrap();
    assert_eq!(mapped.upstream_key, "12345");
    assert_eq!(
        key(&mapped.images.poster),
        Some(("12345/Primary", "8c1f0a"))
    );
    assert_eq!(
        key(&mapped.images.background),
        Some(("12345/Backdrop/0", "77aa"))
    );
}

#[test]
fn numbers_arrive_as_floats_or_strings() {
    let page: ItemsPage = serde_json::from_value(json!({
        "Items": [{
            "Id": MOVIE_ID,
            "Name": "Floats",
            "Type": "Movie",
            "ProductionYear": 2001.0,
            "RunTimeTicks": "81000000000",
            "CommunityRating": 8,
            "CriticRating": 91.5,
            "ChildCount": 3.0,
            "ImageTags": { "Primary": "aa11" }
        }],
        "TotalRecordCount": 1.0,
        "StartIndex": "0"
    }))
    .unwrap();
    assert_eq!(page.total_record_count, 1);

    let mapped = map_items(&page, Flavour::Jellyfin, &MapContext::default());
    assert_eq!(mapped.len(), 1);
    assert_eq!(mapped[0].year, Some(2001));
    assert_eq!(mapped[0].runtime_minutes, Some(135));
    assert_eq!(mapped[0].ratings.audience, Some(8.0));
    assert_eq!(mapped[0].ratings.critic, Some(9.15));
}

#[test]
fn odd_values_read_as_missing() {
    let mapped = map(json!({
        "Id": MOVIE_ID,
        "Name": "Odd",
        "Type": "Movie",
        "ProductionYear": "unknown",
        "PremiereDate": "0001-01-01T00:00:00.0000000Z",
        "DateCreated": "not a date",
        "CommunityRating": 42,
        "CriticRating": -5,
        "RunTimeTicks": 0,
        "ProviderIds": { "Imdb": "1856101", "Tmdb": "abc" },
        "ImageTags": { "Primary": "aa11" }
    }))
    .unwrap();
    assert_eq!(mapped.year, None);
    assert_eq!(mapped.added_at, None);
    assert_eq!(mapped.ratings.audience, None);
    assert_eq!(mapped.ratings.critic, None);
    assert_eq!(mapped.runtime_minutes, None);
    assert_eq!(mapped.links.imdb_id, None);
    assert_eq!(mapped.links.tmdb_id, None);
}

#[test]
fn dates_with_and_without_offset() {
    let added = |date: &str| {
        map(json!({
            "Id": MOVIE_ID,
            "Name": "Dated",
            "Type": "Movie",
            "DateCreated": date,
            "ImageTags": { "Primary": "aa11" }
        }))
        .unwrap()
        .added_at
    };
    assert_eq!(added("2023-04-01T12:00:00.0000000Z"), Some(1_680_350_400));
    assert_eq!(added("2023-04-01T12:00:00.0000000"), Some(1_680_350_400));
    assert_eq!(added("2023-04-01T14:00:00+02:00"), Some(1_680_350_400));
    assert_eq!(added("0001-01-01T00:00:00.0000000Z"), None);
}

#[test]
fn year_falls_back_to_premiere_date() {
    let mapped = map(json!({
        "Id": MOVIE_ID,
        "Name": "Dated",
        "Type": "Movie",
        "PremiereDate": "1982-06-25T00:00:00.0000000Z",
        "ImageTags": { "Primary": "aa11" }
    }))
    .unwrap();
    assert_eq!(mapped.year, Some(1982));
}

#[test]
fn unicode_titles_round_trip() {
    for title in [
        "Amélie — Le Fabuleux Destin",
        "千と千尋の神隠し",
        "\u{5d4}\u{5e1}\u{5e8}\u{5d8} \u{200f}(2020)",
        "فيلم عربي",
        "🎬 Film & Friends <3",
        "Ame\u{301}lie",
    ] {
        let body = json!({
            "Items": [{ "Id": MOVIE_ID, "Name": title, "Type": "Movie", "ImageTags": { "Primary": "aa11" } }],
            "TotalRecordCount": 1
        })
        .to_string();
        let page: ItemsPage = serde_json::from_str(&body).unwrap();
        let mapped = map_items(&page, Flavour::Jellyfin, &MapContext::default());
        assert_eq!(mapped[0].title, title);

        let saved = serde_json::to_string(&mapped[0]).unwrap();
        let loaded: MediaItem = serde_json::from_str(&saved).unwrap();
        assert_eq!(loaded.title, title);
    }
}

#[test]
fn text_and_lists_are_bounded() {
    let people: Vec<Value> = (0..300)
        .map(|index| json!({ "Name": format!("Actor {index}"), "Type": "Actor" }))
        .collect();
    let mapped = map(json!({
        "Id": MOVIE_ID,
        "Name": "N".repeat(5_000),
        "Overview": "O".repeat(100_000),
        "Taglines": ["", "  ", "line\u{1b}[31m"],
        "Type": "Movie",
        "People": people,
        "ImageTags": { "Primary": "aa11" }
    }))
    .unwrap();
    assert_eq!(mapped.title.chars().count(), MAX_TITLE_CHARS);
    assert_eq!(mapped.overview.unwrap().chars().count(), MAX_TEXT_CHARS);
    assert_eq!(mapped.tagline.as_deref(), Some("line[31m"));
    assert_eq!(mapped.cast.len(), crate::mapping::MAX_CAST_ENTRIES);
}
