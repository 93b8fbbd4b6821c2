//! Parsing and mapping tests on Jellyfin and Emby responses built in code.

use onesheet_domain::{ImageRef, MediaItem, MediaKind, PlaybackState, SourceId};
use serde_json::{Value, json};

use super::map::{MAX_TEXT_CHARS, MAX_TITLE_CHARS};
use super::*;

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

fn stream_item(streams: Value) -> BaseItemDto {
    item(json!({
        "Id": MOVIE_ID,
        "Name": "Dune: Part Two",
        "Type": "Movie",
        "ImageTags": { "Primary": "aa11" },
        "MediaStreams": streams
    }))
}

#[test]
fn badges_for_4k_hdr_dolby_vision_atmos() {
    let dto = stream_item(json!([
        { "Type": "Video", "Codec": "hevc", "Width": 3840, "Height": 1608, "VideoRange": "HDR", "VideoRangeType": "DOVIWithHDR10", "DvProfile": 8 },
        { "Type": "Audio", "Codec": "truehd", "Profile": "Dolby TrueHD + Dolby Atmos" },
        { "Type": "Subtitle", "Codec": "srt", "DisplayTitle": "English Atmos notes" }
    ]));
    let badges = map_item(&dto, Flavour::Jellyfin, &MapContext::default())
        .unwrap()
        .badges;
    assert_eq!(badges.resolution.as_deref(), Some("4K"));
    assert!(badges.hdr);
    assert!(badges.dolby_vision);
    assert!(badges.atmos);
}

#[test]
fn jellyfin_range_types_set_badges() {
    let cases = [
        ("SDR", false, false),
        ("HDR10", true, false),
        ("HLG", true, false),
        ("HDR10Plus", true, false),
        ("DOVI", false, true),
        ("DOVIWithSDR", false, true),
        ("DOVIWithHLG", true, true),
        ("DOVIInvalid", false, false),
    ];
    for (range_type, hdr, dolby_vision) in cases {
        let dto = stream_item(json!([
            { "Type": "Video", "Width": 1920, "Height": 1080, "VideoRangeType": range_type }
        ]));
        let badges = map_item(&dto, Flavour::Jellyfin, &MapContext::default())
            .unwrap()
            .badges;
        assert_eq!(badges.hdr, hdr, "{range_type}");
        assert_eq!(badges.dolby_vision, dolby_vision, "{range_type}");
        assert_eq!(badges.resolution.as_deref(), Some("1080p"));
    }
}

#[test]
fn emby_stream_fields_set_badges() {
    let dto = stream_item(json!([
        { "Type": "Video", "Width": 3840, "Height": 2160, "VideoRange": "SDR", "ExtendedVideoType": "DolbyVision", "ExtendedVideoSubType": "DoviProfile81" },
        { "Type": "Audio", "DisplayTitle": "English Dolby TrueHD Atmos 7.1" }
    ]));
    let emby = map_item(&dto, Flavour::Emby, &MapContext::default())
        .unwrap()
        .badges;
    assert_eq!(emby.resolution.as_deref(), Some("4K"));
    assert!(emby.dolby_vision);
    assert!(!emby.hdr);
    assert!(emby.atmos);

    // Jellyfin never writes Emby's fields, so they are not read for it.
    let jellyfin = map_item(&dto, Flavour::Jellyfin, &MapContext::default())
        .unwrap()
        .badges;
    assert!(!jellyfin.dolby_vision);

    let hdr = stream_item(json!([
        { "Type": "Video", "Width": 1920, "Height": 1080, "ExtendedVideoType": "Hdr10" }
    ]));
    let badges = map_item(&hdr, Flavour::Emby, &MapContext::default())
        .unwrap()
        .badges;
    assert!(badges.hdr);
    assert!(!badges.dolby_vision);
}

#[test]
fn best_media_source_wins() {
    let dto = item(json!({
        "Id": MOVIE_ID,
        "Name": "Two versions",
        "Type": "Movie",
        "ImageTags": { "Primary": "aa11" },
        "MediaSources": [
            { "Id": "v1", "MediaStreams": [
                { "Type": "Video", "Width": 1920, "Height": 1080 },
                { "Type": "Audio", "AudioSpatialFormat": "DolbyAtmos" }
            ]},
            { "Id": "v2", "MediaStreams": [
                { "Type": "Video", "Width": 3840, "Height": 2160, "ColorTransfer": "smpte2084" },
                { "Type": "Audio", "Profile": "LC" }
            ]}
        ]
    }));
    let badges = map_item(&dto, Flavour::Jellyfin, &MapContext::default())
        .unwrap()
        .badges;
    assert_eq!(badges.resolution.as_deref(), Some("4K"));
    assert!(badges.hdr);
    // Atmos belongs to the other version, so it is not claimed.
    assert!(!badges.atmos);
}

#[test]
fn box_sets_and_playlists_map_to_sets() {
    let box_set = item(json!({
        "Id": "b0c5e7000000000000000000000000cc",
        "Name": "Alien Collection",
        "Type": "BoxSet",
        "Overview": "Six films.",
        "ChildCount": 6,
        "ImageTags": { "Primary": "b0b0" },
        "BackdropImageTags": ["b1b1"]
    }));
    assert_eq!(
        map_item(&box_set, Flavour::Jellyfin, &MapContext::default()),
        None
    );

    let context = MapContext {
        library: Some("Collections".to_owned()),
        collection: None,
    };
    let set = map_collection(&box_set, &context).unwrap();
    assert_eq!(set.upstream_key, "b0c5e7000000000000000000000000cc");
    assert_eq!(set.kind, SetKind::Collection);
    assert_eq!(set.title, "Alien Collection");
    assert_eq!(set.summary.as_deref(), Some("Six films."));
    assert_eq!(set.item_count, Some(6));
    assert_eq!(set.library.as_deref(), Some("Collections"));
    assert_eq!(
        key(&set.images.poster),
        Some(("b0c5e7000000000000000000000000cc/Primary", "b0b0"))
    );

    let playlist =
        item(json!({ "Id": "99", "Name": "Road trip", "Type": "Playlist", "MediaType": "Audio" }));
    assert_eq!(
        map_collection(&playlist, &MapContext::default()).map(|set| set.kind),
        Some(SetKind::Playlist)
    );

    assert_eq!(
        map_collection(&item(movie_json()), &MapContext::default()),
        None
    );
}

#[test]
fn virtual_folders_and_system_info_parse() {
    let folders: Vec<VirtualFolder> = serde_json::from_value(json!([
        { "Name": "Movies", "Locations": ["/media/movies"], "CollectionType": "movies", "ItemId": "f0f0", "LibraryOptions": { "Enabled": true }, "RefreshStatus": "Idle" },
        { "Name": "Mixed", "Locations": null, "ItemId": "f1f1" }
    ]))
    .unwrap();
    assert_eq!(folders[0].name.as_deref(), Some("Movies"));
    assert_eq!(folders[0].item_id.as_deref(), Some("f0f0"));
    assert_eq!(folders[0].collection_type.as_deref(), Some("movies"));
    assert_eq!(folders[0].locations, ["/media/movies"]);
    assert_eq!(folders[1].collection_type, None);
    assert!(folders[1].locations.is_empty());

    let info: PublicSystemInfo = serde_json::from_value(json!({
        "LocalAddress": "http://192.168.1.5:8096",
        "ServerName": "Basement",
        "Version": "10.10.3",
        "ProductName": "Jellyfin Server",
        "OperatingSystem": "",
        "Id": "0f0e0d",
        "StartupWizardCompleted": true
    }))
    .unwrap();
    assert_eq!(info.server_name.as_deref(), Some("Basement"));
    assert_eq!(info.version.as_deref(), Some("10.10.3"));
    assert_eq!(info.id.as_deref(), Some("0f0e0d"));
    assert_eq!(
        info.product_name
            .as_deref()
            .and_then(Flavour::from_product_name),
        Some(Flavour::Jellyfin)
    );
    assert_eq!(
        Flavour::from_product_name("Emby Server"),
        Some(Flavour::Emby)
    );
    assert_eq!(Flavour::from_product_name("Plex Media Server"), None);
}

fn sessions_json() -> Value {
    json!([
        { "Id": "idle", "UserName": "alex", "Client": "Jellyfin Web", "DeviceName": "Firefox" },
        {
            "Id": "s-movie",
            "UserName": "alex",
            "Client": "Jellyfin Android TV",
            "DeviceName": "Living Room TV",
            "PlayState": { "PositionTicks": 1_200_000_000i64, "CanSeek": true, "IsPaused": false },
            "NowPlayingItem": with(movie_json(), json!({ "RunTimeTicks": 98_400_000_000i64 }))
        },
        {
            "Id": "s-trailer",
            "UserName": "sam",
            "DeviceName": "Bedroom",
            "PlayState": { "PositionTicks": 0, "IsPaused": false },
            "NowPlayingItem": { "Id": "7a11e7000000000000000000000000dd", "Name": "Coming soon", "Type": "Trailer", "ImageTags": { "Primary": "aa11" } }
        },
        {
            "Id": "s-preroll",
            "UserName": "sam",
            "DeviceName": "Bedroom",
            "NowPlayingItem": { "Id": "0e0e", "Name": "Intro", "Type": "Video", "ExtraType": "Clip" }
        },
        {
            "Id": "s-episode",
            "UserName": "sam",
            "Client": "Jellyfin iOS",
            "PlayState": { "PositionTicks": 600_000_000, "IsPaused": true },
            "NowPlayingItem": {
                "Id": "e9000000000000000000000000000001",
                "Name": "Pilot",
                "Type": "Episode",
                "SeriesName": "Breaking Bad",
                "SeriesId": SERIES_ID,
                "SeriesPrimaryImageTag": "5e5e",
                "ProductionYear": 2008,
                "RunTimeTicks": 34_800_000_000i64,
                "ImageTags": { "Primary": "e5e5" },
                "PrimaryImageAspectRatio": 1.78
            }
        },
        {
            "Id": "s-music",
            "UserName": "kim",
            "DeviceName": "Kitchen",
            "PlayState": { "PositionTicks": 50_000_000 },
            "NowPlayingItem": {
                "Id": "a0d10000000000000000000000000001",
                "Name": "One More Time",
                "Type": "Audio",
                "Album": "Discovery",
                "AlbumId": "a1b00000000000000000000000000001",
                "AlbumPrimaryImageTag": "a1a1",
                "RunTimeTicks": 3_200_000_000i64
            }
        }
    ])
}

#[test]
fn sessions_skip_idle_trailers_and_prerolls() {
    let sessions: Vec<SessionInfo> = serde_json::from_value(sessions_json()).unwrap();
    let source = SourceId::new("jellyfin").unwrap();
    let playing = map_sessions(&sessions, Flavour::Jellyfin, &source);

    let summary: Vec<_> = playing
        .iter()
        .map(|session| {
            (
                session.session_id.as_str(),
                session.item.title.as_str(),
                session.item.kind,
                session.state,
            )
        })
        .collect();
    assert_eq!(
        summary,
        [
            (
                "s-movie",
                "Blade Runner 2049",
                MediaKind::Movie,
                PlaybackState::Playing
            ),
            (
                "s-episode",
                "Breaking Bad – Pilot",
                MediaKind::Episode,
                PlaybackState::Paused
            ),
            (
                "s-music",
                "Discovery",
                MediaKind::Album,
                PlaybackState::Playing
            ),
        ]
    );

    let movie = &playing[0];
    assert_eq!(movie.source, source);
    assert_eq!(movie.user.as_deref(), Some("alex"));
    assert_eq!(movie.player.as_deref(), Some("Living Room TV"));
    assert_eq!(movie.position_ms, 120_000);
    assert_eq!(movie.duration_ms, Some(9_840_000));
    assert_eq!(movie.item.upstream_key, MOVIE_ID);
    assert_eq!(movie.item.year, Some(2017));
    assert_eq!(movie.library, None);
    assert_eq!(key(&movie.item.poster).map(|(_, tag)| tag), Some("aa11"));

    let episode = &playing[1];
    assert_eq!(episode.player.as_deref(), Some("Jellyfin iOS"));
    assert_eq!(episode.position_ms, 60_000);
    let series_primary = format!("{SERIES_ID}/Primary");
    assert_eq!(
        key(&episode.item.poster),
        Some((series_primary.as_str(), "5e5e"))
    );

    let music = &playing[2];
    assert_eq!(music.item.upstream_key, "a1b00000000000000000000000000001");
    assert_eq!(
        key(&music.item.poster),
        Some(("a1b00000000000000000000000000001/Primary", "a1a1"))
    );
    assert_eq!(music.position_ms, 5_000);
    assert_eq!(music.duration_ms, Some(320_000));
}

#[test]
fn emby_sessions_use_the_same_shape() {
    let sessions: Vec<SessionInfo> = serde_json::from_value(json!([{
        "Id": "emby-session",
        "UserName": "alex",
        "Client": "Emby Theater",
        "DeviceName": "Projector",
        "PlayState": { "PositionTicks": 10_000_000, "IsPaused": false, "PlayMethod": "DirectPlay" },
        "NowPlayingItem": { "Id": "4242", "Name": "Heat", "Type": "Movie", "ImageTags": { "Primary": "9a9a" } }
    }]))
    .unwrap();
    let playing = map_sessions(&sessions, Flavour::Emby, &SourceId::new("emby").unwrap());
    assert_eq!(playing.len(), 1);
    assert_eq!(playing[0].position_ms, 1_000);
    assert_eq!(key(&playing[0].item.poster), Some(("4242/Primary", "9a9a")));
}
