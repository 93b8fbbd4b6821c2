use super::*;
use crate::media::MediaKind;

const NOW: i64 = 1_750_000_000;
const DAY: i64 = 86_400;

fn item() -> MediaItem {
    MediaItem {
        upstream_key: "heat".to_owned(),
        kind: MediaKind::Movie,
        title: "Heat".to_owned(),
        year: Some(1995),
        genres: vec!["Crime".to_owned(), "Drama".to_owned()],
        content_rating: Some("R".to_owned()),
        ratings: Ratings {
            audience: Some(8.3),
            critic: None,
        },
        library: Some("Movies".to_owned()),
        added_at: Some(NOW - 3 * DAY),
        ..MediaItem::default()
    }
}

fn rated(label: Option<&str>) -> MediaItem {
    MediaItem {
        content_rating: label.map(str::to_owned),
        ..item()
    }
}

fn ceiling(label: &str) -> CatalogFilter {
    CatalogFilter {
        content_rating_max: Some(label.to_owned()),
        ..CatalogFilter::default()
    }
}

fn error_fields(filter: &CatalogFilter) -> Vec<String> {
    filter
        .validate()
        .unwrap_err()
        .errors
        .into_iter()
        .map(|error| error.field)
        .collect()
}

fn error_text(filter: &CatalogFilter) -> String {
    filter.validate().unwrap_err().to_string()
}

#[test]
fn default_filter_passes_everything() {
    let filter = CatalogFilter::default().compile();
    assert!(filter.matches(&item(), NOW));
    assert!(filter.matches(&MediaItem::default(), NOW));
    assert!(CatalogFilter::default().validate().is_ok());
}

#[test]
fn deserialises_with_defaults() {
    let filter: CatalogFilter =
        serde_json::from_str(r#"{"genres_exclude":["Horror"],"content_rating_max":"PG-13"}"#)
            .unwrap();
    assert_eq!(filter.genres_exclude, ["Horror"]);
    assert_eq!(filter.content_rating_max.as_deref(), Some("PG-13"));
    assert!(!filter.allow_unrated);
    assert!(filter.libraries.is_empty());
}

#[test]
fn unknown_key_is_rejected() {
    let parsed: Result<CatalogFilter, _> = serde_json::from_str(r#"{"min_ratting":7}"#);
    assert!(parsed.is_err());
}

#[test]
fn pg13_ceiling_excludes_r_and_nr() {
    let filter = ceiling("PG-13").compile();
    assert!(!filter.matches(&rated(Some("R")), NOW));
    assert!(!filter.matches(&rated(Some("NR")), NOW));
    assert!(!filter.matches(&rated(Some("NC-17")), NOW));
    assert!(!filter.matches(&rated(Some("TV-14")), NOW));
    assert!(!filter.matches(&rated(None), NOW));
    assert!(!filter.matches(&rated(Some("Approved")), NOW));
}

#[test]
fn pg13_ceiling_allows_milder_ratings() {
    let filter = ceiling("PG-13").compile();
    for label in [
        "PG", "G", "PG-13", "TV-PG", "us/PG-13", "Rated PG", "12A", "FSK 12",
    ] {
        assert!(filter.matches(&rated(Some(label)), NOW), "{label}");
    }
}

#[test]
fn allow_unrated_passes_unrated() {
    let filter = CatalogFilter {
        allow_unrated: true,
        ..ceiling("PG-13")
    }
    .compile();
    assert!(filter.matches(&rated(Some("NR")), NOW));
    assert!(filter.matches(&rated(Some("Not Rated")), NOW));
    assert!(filter.matches(&rated(None), NOW));
    assert!(filter.matches(&rated(Some("Approved")), NOW));
    assert!(!filter.matches(&rated(Some("R")), NOW));
}

#[test]
fn prefixed_ceiling_parses() {
    let filter = ceiling("us/PG-13");
    assert!(filter.validate().is_ok());
    let filter = filter.compile();
    assert!(filter.matches(&rated(Some("PG-13")), NOW));
    assert!(!filter.matches(&rated(Some("R")), NOW));
}

#[test]
fn tv14_ceiling_spans_systems() {
    let filter = ceiling("TV-14").compile();
    assert!(filter.matches(&rated(Some("PG-13")), NOW));
    assert!(filter.matches(&rated(Some("TV-14")), NOW));
    assert!(!filter.matches(&rated(Some("TV-MA")), NOW));
    assert!(!filter.matches(&rated(Some("15")), NOW));
    assert!(!filter.matches(&rated(Some("FSK 16")), NOW));
}

#[test]
fn unknown_ceiling_is_invalid_and_strict() {
    let filter = ceiling("PG-14");
    assert_eq!(error_fields(&filter), ["content_rating_max"]);
    let message = error_text(&filter);
    assert!(message.contains("\"PG-14\""), "{message}");
    assert!(message.contains("PG-13"), "{message}");
    assert!(message.contains("TV-14"), "{message}");

    // Compiled anyway, it lets only all-ages items through.
    let compiled = filter.compile();
    assert!(compiled.matches(&rated(Some("G")), NOW));
    assert!(!compiled.matches(&rated(Some("PG")), NOW));
}

#[test]
fn unrated_ceiling_is_invalid() {
    assert_eq!(error_fields(&ceiling("NR")), ["content_rating_max"]);
}

#[test]
fn genre_exclude_ignores_case() {
    let filter = CatalogFilter {
        genres_exclude: vec!["science fiction".to_owned()],
        ..CatalogFilter::default()
    }
    .compile();
    for genre in ["Science Fiction", "SCIENCE FICTION", " science  fiction "] {
        let candidate = MediaItem {
            genres: vec!["Drama".to_owned(), genre.to_owned()],
            ..item()
        };
        assert!(!filter.matches(&candidate, NOW), "{genre:?}");
    }
    let other = MediaItem {
        genres: vec!["Science".to_owned(), "Fiction".to_owned()],
        ..item()
    };
    assert!(filter.matches(&other, NOW));
}

#[test]
fn genre_compare_is_unicode_aware() {
    let filter = CatalogFilter {
        genres_include: vec!["ÉPOUVANTE".to_owned()],
        ..CatalogFilter::default()
    }
    .compile();
    for genre in ["épouvante", "Épouvante", "e\u{301}pouvante"] {
        let candidate = MediaItem {
            genres: vec![genre.to_owned()],
            ..item()
        };
        assert!(filter.matches(&candidate, NOW), "{genre:?}");
    }
    let ascii = MediaItem {
        genres: vec!["Epouvante".to_owned()],
        ..item()
    };
    assert!(!filter.matches(&ascii, NOW));
}

#[test]
fn genre_include_needs_one_match() {
    let filter = CatalogFilter {
        genres_include: vec!["Comedy".to_owned(), "crime".to_owned()],
        ..CatalogFilter::default()
    }
    .compile();
    assert!(filter.matches(&item(), NOW));

    let drama_only = MediaItem {
        genres: vec!["Drama".to_owned()],
        ..item()
    };
    assert!(!filter.matches(&drama_only, NOW));

    let no_genres = MediaItem {
        genres: Vec::new(),
        ..item()
    };
    assert!(!filter.matches(&no_genres, NOW));
}

#[test]
fn genre_in_both_lists_is_invalid() {
    let filter = CatalogFilter {
        genres_include: vec!["Horror".to_owned()],
        genres_exclude: vec!["HORROR".to_owned()],
        ..CatalogFilter::default()
    };
    assert_eq!(error_fields(&filter), ["genres_exclude"]);
}

#[test]
fn min_rating_uses_audience_then_critic() {
    let filter = CatalogFilter {
        min_rating: Some(7.0),
        ..CatalogFilter::default()
    }
    .compile();
    let with = |audience: Option<f32>, critic: Option<f32>| MediaItem {
        ratings: Ratings { audience, critic },
        ..item()
    };
    assert!(filter.matches(&with(Some(7.0), None), NOW));
    assert!(!filter.matches(&with(Some(6.9), None), NOW));
    // The audience rating decides whenever it is present.
    assert!(!filter.matches(&with(Some(6.0), Some(9.0)), NOW));
    assert!(filter.matches(&with(Some(8.0), Some(2.0)), NOW));
    assert!(filter.matches(&with(None, Some(7.5)), NOW));
    assert!(!filter.matches(&with(None, Some(6.5)), NOW));
    assert!(filter.matches(&with(Some(f32::NAN), Some(7.5)), NOW));
    assert!(!filter.matches(&with(None, None), NOW));
}

#[test]
fn min_rating_out_of_range_is_invalid() {
    for bad in [-0.5, 10.5, f32::NAN, f32::INFINITY] {
        let filter = CatalogFilter {
            min_rating: Some(bad),
            ..CatalogFilter::default()
        };
        assert_eq!(error_fields(&filter), ["min_rating"], "{bad}");
        assert!(error_text(&filter).contains("0 to 10"), "{bad}");
    }
    for good in [0.0, 5.5, 10.0] {
        let filter = CatalogFilter {
            min_rating: Some(good),
            ..CatalogFilter::default()
        };
        assert!(filter.validate().is_ok(), "{good}");
    }
}

#[test]
fn nan_min_rating_passes_nothing() {
    let filter = CatalogFilter {
        min_rating: Some(f32::NAN),
        ..CatalogFilter::default()
    };
    assert!(!filter.matches(&item(), NOW));
}

#[test]
fn year_bounds_are_inclusive() {
    let filter = CatalogFilter {
        year_from: Some(1990),
        year_to: Some(1999),
        ..CatalogFilter::default()
    }
    .compile();
    let of_year = |year: Option<u16>| MediaItem { year, ..item() };
    assert!(filter.matches(&of_year(Some(1990)), NOW));
    assert!(filter.matches(&of_year(Some(1999)), NOW));
    assert!(!filter.matches(&of_year(Some(1989)), NOW));
    assert!(!filter.matches(&of_year(Some(2000)), NOW));
    assert!(!filter.matches(&of_year(None), NOW));

    let open_ended = CatalogFilter {
        year_from: Some(2000),
        ..CatalogFilter::default()
    }
    .compile();
    assert!(open_ended.matches(&of_year(Some(2024)), NOW));
    assert!(!open_ended.matches(&of_year(Some(1999)), NOW));
}

#[test]
fn reversed_years_are_invalid() {
    let filter = CatalogFilter {
        year_from: Some(2000),
        year_to: Some(1990),
        ..CatalogFilter::default()
    };
    assert_eq!(error_fields(&filter), ["year_to"]);
    assert!(error_text(&filter).contains("2000 to 1990"));
}

#[test]
fn implausible_years_are_invalid() {
    let filter = CatalogFilter {
        year_from: Some(95),
        year_to: Some(20_250),
        ..CatalogFilter::default()
    };
    assert_eq!(error_fields(&filter), ["year_from", "year_to"]);
    assert!(error_text(&filter).contains("1850 to 2200"));
}

#[test]
fn added_within_days_boundary() {
    let filter = CatalogFilter {
        added_within_days: Some(7),
        ..CatalogFilter::default()
    }
    .compile();
    let added = |at: Option<i64>| MediaItem {
        added_at: at,
        ..item()
    };
    assert!(filter.matches(&added(Some(NOW - 7 * DAY)), NOW));
    assert!(!filter.matches(&added(Some(NOW - 7 * DAY - 1)), NOW));
    assert!(filter.matches(&added(Some(NOW)), NOW));
    assert!(filter.matches(&added(Some(NOW + DAY)), NOW));
    assert!(!filter.matches(&added(None), NOW));
}

#[test]
fn added_within_days_range() {
    for (days, valid) in [(0, false), (1, true), (36_500, true), (36_501, false)] {
        let filter = CatalogFilter {
            added_within_days: Some(days),
            ..CatalogFilter::default()
        };
        assert_eq!(filter.validate().is_ok(), valid, "{days}");
    }
}

#[test]
fn added_within_days_survives_extreme_clock() {
    let filter = CatalogFilter {
        added_within_days: Some(36_500),
        ..CatalogFilter::default()
    }
    .compile();
    let old = MediaItem {
        added_at: Some(i64::MIN),
        ..item()
    };
    assert!(filter.matches(&old, i64::MIN + 1));
}

#[test]
fn require_4k_reads_resolution() {
    let filter = CatalogFilter {
        require_4k: true,
        ..CatalogFilter::default()
    }
    .compile();
    let at = |resolution: Option<&str>| MediaItem {
        badges: Badges {
            resolution: resolution.map(str::to_owned),
            ..Badges::default()
        },
        ..item()
    };
    for resolution in ["4K", "4k", "2160p", "UHD", "8K", " 4K "] {
        assert!(filter.matches(&at(Some(resolution)), NOW), "{resolution}");
    }
    for resolution in [Some("1080p"), Some("720p"), Some("SD"), Some("4"), None] {
        assert!(!filter.matches(&at(resolution), NOW), "{resolution:?}");
    }
}

#[test]
fn require_hdr_accepts_dolby_vision() {
    let filter = CatalogFilter {
        require_hdr: true,
        ..CatalogFilter::default()
    }
    .compile();
    let with = |hdr: bool, dolby_vision: bool| MediaItem {
        badges: Badges {
            hdr,
            dolby_vision,
            ..Badges::default()
        },
        ..item()
    };
    assert!(filter.matches(&with(true, false), NOW));
    assert!(filter.matches(&with(false, true), NOW));
    assert!(!filter.matches(&with(false, false), NOW));
}

#[test]
fn libraries_limit_source_library() {
    let filter = CatalogFilter {
        libraries: vec!["movies".to_owned(), "4K Films".to_owned()],
        ..CatalogFilter::default()
    }
    .compile();
    let from = |library: Option<&str>| MediaItem {
        library: library.map(str::to_owned),
        ..item()
    };
    assert!(filter.matches(&from(Some("Movies")), NOW));
    assert!(filter.matches(&from(Some("4k films")), NOW));
    assert!(!filter.matches(&from(Some("TV Shows")), NOW));
    assert!(!filter.matches(&from(None), NOW));
}

#[test]
fn collections_need_one_match() {
    let filter = CatalogFilter {
        collections: vec!["Criterion".to_owned()],
        ..CatalogFilter::default()
    }
    .compile();
    let with = |collections: &[&str]| MediaItem {
        collections: collections.iter().map(|c| (*c).to_owned()).collect(),
        ..item()
    };
    assert!(filter.matches(&with(&["Favourites", "criterion"]), NOW));
    assert!(!filter.matches(&with(&["Favourites"]), NOW));
    assert!(!filter.matches(&with(&[]), NOW));
}

#[test]
fn empty_and_long_names_are_invalid() {
    let filter = CatalogFilter {
        libraries: vec!["  ".to_owned()],
        collections: vec!["x".repeat(MAX_NAME_CHARS + 1)],
        ..CatalogFilter::default()
    };
    assert_eq!(error_fields(&filter), ["libraries", "collections"]);
    let message = error_text(&filter);
    assert!(message.contains("at most 200 characters"), "{message}");
    assert!(message.len() < 400, "{message}");
}

#[test]
fn blank_names_match_nothing() {
    let filter = CatalogFilter {
        libraries: vec!["  ".to_owned()],
        ..CatalogFilter::default()
    };
    assert_eq!(error_fields(&filter), ["libraries"]);
    assert!(!filter.matches(&item(), NOW));
}

#[test]
fn oversized_lists_are_invalid() {
    let filter = CatalogFilter {
        genres_exclude: vec!["Horror".to_owned(); MAX_LIST_ENTRIES + 1],
        ..CatalogFilter::default()
    };
    assert_eq!(error_fields(&filter), ["genres_exclude"]);
}

#[test]
fn validation_reports_every_field() {
    let filter = CatalogFilter {
        min_rating: Some(11.0),
        year_from: Some(2010),
        year_to: Some(2000),
        content_rating_max: Some("PG-99".to_owned()),
        added_within_days: Some(0),
        ..CatalogFilter::default()
    };
    assert_eq!(
        error_fields(&filter),
        [
            "min_rating",
            "year_to",
            "content_rating_max",
            "added_within_days"
        ]
    );
}

#[test]
fn matches_all_narrows() {
    let global = CatalogFilter {
        genres_exclude: vec!["Horror".to_owned()],
        ..CatalogFilter::default()
    }
    .compile();
    let library = ceiling("PG-13").compile();

    let family = rated(Some("PG"));
    let horror = MediaItem {
        genres: vec!["Horror".to_owned()],
        ..rated(Some("PG"))
    };
    let adult = rated(Some("R"));

    assert!(matches_all(&[&global, &library], &family, NOW));
    assert!(!matches_all(&[&global, &library], &horror, NOW));
    assert!(!matches_all(&[&global, &library], &adult, NOW));
    assert!(matches_all(&[&global], &adult, NOW));
    assert!(matches_all(&[], &horror, NOW));
}

#[test]
fn uncompiled_matches_agree() {
    let filter = CatalogFilter {
        genres_exclude: vec!["Horror".to_owned()],
        min_rating: Some(6.0),
        content_rating_max: Some("R".to_owned()),
        ..CatalogFilter::default()
    };
    let compiled = filter.compile();
    for candidate in [item(), rated(Some("NC-17")), rated(None)] {
        assert_eq!(
            filter.matches(&candidate, NOW),
            compiled.matches(&candidate, NOW)
        );
    }
    assert!(filter.matches(&item(), NOW));
}

#[test]
fn fold_normalises_names() {
    assert_eq!(fold("  Science   Fiction "), "science fiction");
    assert_eq!(fold("E\u{301}POUVANTE"), "épouvante");
    assert_eq!(fold("ÄRGER"), "ärger");
    assert_eq!(fold(""), "");
    assert_eq!(fold("ΔΡΑΜΑΣ"), fold("δραμας"));
}

#[test]
fn kinds_select_item_kinds() {
    let albums = CatalogFilter {
        kinds: vec![MediaKind::Album],
        ..CatalogFilter::default()
    };
    let album = MediaItem {
        kind: MediaKind::Album,
        ..item()
    };
    assert!(albums.matches(&album, 0));
    assert!(!albums.matches(&item(), 0));

    let repeated = CatalogFilter {
        kinds: vec![MediaKind::Album; MAX_KINDS + 1],
        ..CatalogFilter::default()
    };
    assert_eq!(error_fields(&repeated), ["kinds"]);
}
