//! Mapping tests on Plex items: artwork fallbacks, paths, versions, ratings, links and bounds.

use super::*;

#[test]
fn episode_without_thumb_uses_grandparent_thumb() {
    let item = map_one(json!({
        "ratingKey": "301",
        "type": "episode",
        "title": "Pilot",
        "grandparentTitle": "Breaking Bad",
        "grandparentThumb": "/library/metadata/100/thumb/1690000000",
        "grandparentArt": "/library/metadata/100/art/1690000001"
    }))
    .unwrap();

    assert_eq!(item.kind, MediaKind::Episode);
    assert_eq!(item.title, "Breaking Bad – Pilot");
    assert_eq!(
        key(&item.images.poster),
        Some(("/library/metadata/100/thumb/1690000000", "1690000000"))
    );
    assert_eq!(
        key(&item.images.background),
        Some(("/library/metadata/100/art/1690000001", "1690000001"))
    );
    assert_eq!(item.images.thumbnail, None);
}

#[test]
fn episode_poster_prefers_season() {
    let item = map_one(json!({
        "ratingKey": "301",
        "type": "episode",
        "title": "Pilot",
        "thumb": "/library/metadata/301/thumb/1700000003",
        "parentThumb": "/library/metadata/200/thumb/1700000002",
        "grandparentThumb": "/library/metadata/100/thumb/1700000001",
        "parentArt": "/library/metadata/200/art/1700000002",
        "grandparentArt": "/library/metadata/100/art/1700000001"
    }))
    .unwrap();

    assert_eq!(
        key(&item.images.poster),
        Some(("/library/metadata/200/thumb/1700000002", "1700000002"))
    );
    assert_eq!(
        key(&item.images.background),
        Some(("/library/metadata/200/art/1700000002", "1700000002"))
    );
    assert_eq!(
        key(&item.images.thumbnail),
        Some(("/library/metadata/301/thumb/1700000003", "1700000003"))
    );
}

#[test]
fn episode_still_becomes_background() {
    let item = map_one(json!({
        "ratingKey": "302",
        "type": "episode",
        "title": "Live Broadcast",
        "thumb": "/library/metadata/302/thumb/1700000003"
    }))
    .unwrap();
    assert_eq!(item.images.poster, None);
    assert_eq!(
        key(&item.images.background),
        Some(("/library/metadata/302/thumb/1700000003", "1700000003"))
    );
}

#[test]
fn season_falls_back_to_show_artwork() {
    let item = map_one(json!({
        "ratingKey": "200",
        "type": "season",
        "title": "Season 2",
        "parentTitle": "Severance",
        "parentThumb": "/library/metadata/100/thumb/1700000001",
        "parentArt": "/library/metadata/100/art/1700000001"
    }))
    .unwrap();

    assert_eq!(item.kind, MediaKind::Show);
    assert_eq!(item.title, "Severance – Season 2");
    assert_eq!(
        key(&item.images.poster).map(|(key, _)| key),
        Some("/library/metadata/100/thumb/1700000001")
    );
    assert_eq!(
        key(&item.images.background).map(|(key, _)| key),
        Some("/library/metadata/100/art/1700000001")
    );
}

#[test]
fn music_albums_and_artists_map() {
    let container = parse_xml(
        r#"<MediaContainer size="2">
             <Directory ratingKey="500" type="artist" title="Daft Punk" thumb="/library/metadata/500/thumb/1700000500" art="/library/metadata/500/art/1700000500"/>
             <Directory ratingKey="501" type="album" title="Discovery" parentTitle="Daft Punk" year="2001" thumb="/library/metadata/501/thumb/1700000501" parentThumb="/library/metadata/500/thumb/1700000500">
               <Genre tag="Electronic"/>
             </Directory>
           </MediaContainer>"#,
    );
    let items = map_container(&container, &MapContext::default());
    let kinds: Vec<_> = items
        .iter()
        .map(|item| (item.kind, item.title.as_str()))
        .collect();
    assert_eq!(
        kinds,
        [
            (MediaKind::Artist, "Daft Punk"),
            (MediaKind::Album, "Discovery")
        ]
    );
    assert_eq!(items[1].genres, ["Electronic"]);
    assert_eq!(
        key(&items[1].images.poster).map(|(key, _)| key),
        Some("/library/metadata/501/thumb/1700000501")
    );
}

#[test]
fn image_array_supplies_logo_and_missing_slots() {
    let item = map_one(json!({
        "ratingKey": "9",
        "type": "movie",
        "title": "Dune",
        "updatedAt": 1700000009,
        "Image": [
            { "type": "coverPoster", "url": "/library/metadata/9/thumb/1700000009" },
            { "type": "background", "url": "/library/metadata/9/art/1700000009" },
            { "type": "clearLogo", "url": "/library/metadata/9/clearLogo/1700000010" }
        ]
    }))
    .unwrap();
    assert_eq!(
        key(&item.images.poster).map(|(key, _)| key),
        Some("/library/metadata/9/thumb/1700000009")
    );
    assert_eq!(
        key(&item.images.background).map(|(key, _)| key),
        Some("/library/metadata/9/art/1700000009")
    );
    assert_eq!(
        key(&item.images.logo),
        Some(("/library/metadata/9/clearLogo/1700000010", "1700000010"))
    );
}

#[test]
fn item_without_artwork_is_skipped() {
    assert_eq!(
        map_one(json!({ "ratingKey": "1", "type": "movie", "title": "Blank" })),
        None
    );
    // A logo alone is nothing a screen can show full-size.
    assert_eq!(
        map_one(json!({
            "ratingKey": "1",
            "type": "movie",
            "title": "Logo only",
            "Image": [{ "type": "clearLogo", "url": "/library/metadata/1/clearLogo/1" }]
        })),
        None
    );
}

#[test]
fn null_and_empty_paths_count_as_missing() {
    let item = map_one(json!({
        "ratingKey": "301",
        "type": "season",
        "title": "Season 1",
        "thumb": "/library/metadata/301/thumb/null",
        "parentThumb": "",
        "art": "null",
        "parentArt": "/library/metadata/100/art/1700000001"
    }))
    .unwrap();
    assert_eq!(item.images.poster, None);
    assert_eq!(
        key(&item.images.background).map(|(key, _)| key),
        Some("/library/metadata/100/art/1700000001")
    );

    assert_eq!(
        map_one(json!({
            "ratingKey": "302",
            "type": "movie",
            "title": "Nothing",
            "thumb": "/library/metadata/302/thumb/null",
            "art": "/library/metadata/302/art/null"
        })),
        None
    );
}

#[test]
fn unsafe_or_generic_paths_are_rejected() {
    for path in [
        "https://images.example/poster.jpg",
        "//images.example/poster.jpg",
        "/library/metadata/1/thumb/1?X-Plex-Token=secret",
        "/library/metadata/1/thumb/1#x",
        "/library/metadata/../../system/thumb",
        "/library/metadata/1/thumb/%2e%2e",
        "/library/metadata/1/thumb /1",
        "library/metadata/1/thumb/1",
        "/:/resources/movie.png",
    ] {
        let item = map_one(json!({
            "ratingKey": "1",
            "type": "movie",
            "title": "Unsafe",
            "thumb": path
        }));
        assert_eq!(item, None, "{path} was accepted");
    }

    let long = format!("/library/metadata/1/thumb/{}", "1".repeat(600));
    assert_eq!(
        map_one(json!({ "ratingKey": "1", "type": "movie", "title": "Long", "thumb": long })),
        None
    );
}

#[test]
fn image_version_falls_back_to_updated_at() {
    let item = map_one(json!({
        "ratingKey": "7",
        "type": "movie",
        "title": "Versions",
        "updatedAt": 1700000777,
        "addedAt": 1600000000,
        "thumb": "/library/metadata/7/thumb",
        "art": "/library/metadata/7/art/1700000123"
    }))
    .unwrap();
    assert_eq!(
        key(&item.images.poster),
        Some(("/library/metadata/7/thumb", "1700000777"))
    );
    assert_eq!(
        key(&item.images.background).map(|(_, version)| version),
        Some("1700000123")
    );

    let item = map_one(json!({
        "ratingKey": "8",
        "type": "movie",
        "title": "Added only",
        "addedAt": 1600000000,
        "thumb": "/library/metadata/8/thumb"
    }))
    .unwrap();
    assert_eq!(
        key(&item.images.poster).map(|(_, version)| version),
        Some("1600000000")
    );
}

#[test]
fn unmappable_entries_are_skipped() {
    let thumb = "/library/metadata/1/thumb/1";
    for entry in [
        json!({ "type": "movie", "title": "No key", "thumb": thumb }),
        json!({ "ratingKey": " ", "type": "movie", "title": "Blank key", "thumb": thumb }),
        json!({ "ratingKey": "1", "type": "movie", "thumb": thumb }),
        json!({ "ratingKey": "1", "type": "movie", "title": "  ", "thumb": thumb }),
        json!({ "ratingKey": "1", "type": "track", "title": "Song", "thumb": thumb }),
        json!({ "ratingKey": "1", "type": "clip", "title": "Trailer", "thumb": thumb }),
        json!({ "ratingKey": "1", "type": "photo", "title": "Photo", "thumb": thumb }),
        json!({ "ratingKey": "1", "title": "No type", "thumb": thumb }),
    ] {
        assert_eq!(map_one(entry.clone()), None, "{entry} was mapped");
    }
}

#[test]
fn ratings_follow_the_rating_source() {
    let rated = |extra: Value| {
        let mut entry = json!({
            "ratingKey": "1",
            "type": "movie",
            "title": "Rated",
            "thumb": "/library/metadata/1/thumb/1"
        });
        entry
            .as_object_mut()
            .unwrap()
            .extend(extra.as_object().unwrap().clone());
        map_one(entry).unwrap().ratings
    };

    let critics =
        rated(json!({ "rating": 9.3, "ratingImage": "rottentomatoes://image.rating.ripe" }));
    assert_eq!((critics.critic, critics.audience), (Some(9.3), None));

    let imdb = rated(json!({ "rating": 7.8, "ratingImage": "imdb://image.rating" }));
    assert_eq!((imdb.critic, imdb.audience), (None, Some(7.8)));

    let legacy = rated(json!({ "rating": 8.1 }));
    assert_eq!((legacy.critic, legacy.audience), (None, Some(8.1)));

    let both = rated(json!({ "rating": 6.0, "audienceRating": 7.5 }));
    assert_eq!((both.critic, both.audience), (Some(6.0), Some(7.5)));

    let out_of_range = rated(json!({ "rating": 85, "audienceRating": -1 }));
    assert_eq!((out_of_range.critic, out_of_range.audience), (None, None));
}

#[test]
fn legacy_agent_guid_supplies_links() {
    let item = map_one(json!({
        "ratingKey": "1",
        "type": "show",
        "title": "Lost",
        "guid": "com.plexapp.agents.thetvdb://73739?lang=en",
        "thumb": "/library/metadata/1/thumb/1",
        "Guid": [{ "id": "imdb://tt0411008" }, { "id": "imdb://not-an-id" }]
    }))
    .unwrap();
    assert_eq!(item.links.tvdb_id.as_deref(), Some("73739"));
    assert_eq!(item.links.imdb_id.as_deref(), Some("tt0411008"));

    let item = map_one(json!({
        "ratingKey": "2",
        "type": "movie",
        "title": "Alien",
        "guid": "com.plexapp.agents.imdb://tt0078748?lang=en",
        "thumb": "/library/metadata/2/thumb/1",
        "Guid": [{ "id": "tvdb://abc" }]
    }))
    .unwrap();
    assert_eq!(item.links.imdb_id.as_deref(), Some("tt0078748"));
    assert_eq!(item.links.tvdb_id, None);
}

#[test]
fn year_falls_back_to_release_date() {
    let item = map_one(json!({
        "ratingKey": "1",
        "type": "movie",
        "title": "Dated",
        "originallyAvailableAt": "1982-06-25",
        "thumb": "/library/metadata/1/thumb/1"
    }))
    .unwrap();
    assert_eq!(item.year, Some(1982));
}

#[test]
fn library_comes_from_context_then_item() {
    let container = parse_json(&json!({
        "MediaContainer": { "Metadata": [{
            "ratingKey": "1",
            "type": "movie",
            "title": "Heat",
            "librarySectionTitle": "Films",
            "thumb": "/library/metadata/1/thumb/1"
        }]}
    }));
    let metadata = &container.metadata[0];

    let item = map_metadata(metadata, &MapContext::default()).unwrap();
    assert_eq!(item.library.as_deref(), Some("Films"));

    let item = map_metadata(metadata, &movies_context()).unwrap();
    assert_eq!(item.library.as_deref(), Some("Movies"));

    let context = MapContext {
        library: None,
        collection: Some("Michael Mann".to_owned()),
    };
    let item = map_metadata(metadata, &context).unwrap();
    assert_eq!(item.collections, ["Michael Mann"]);
}

#[test]
fn text_and_lists_are_bounded() {
    let roles: Vec<Value> = (0..500)
        .map(|index| json!({ "tag": format!("Actor {index}") }))
        .collect();
    let genres: Vec<Value> = (0..200)
        .map(|index| json!({ "tag": format!("Genre {}", index % 100) }))
        .collect();
    let item = map_one(json!({
        "ratingKey": "1",
        "type": "movie",
        "title": "T".repeat(10_000),
        "summary": "S".repeat(100_000),
        "tagline": format!("  tag\u{0}line\u{7}  "),
        "thumb": "/library/metadata/1/thumb/1",
        "Role": roles,
        "Genre": genres
    }))
    .unwrap();

    assert_eq!(item.title.chars().count(), MAX_TITLE_CHARS);
    assert_eq!(item.overview.unwrap().chars().count(), MAX_TEXT_CHARS);
    assert_eq!(item.tagline.as_deref(), Some("tagline"));
    assert_eq!(item.cast.len(), crate::mapping::MAX_CAST_ENTRIES);
    assert_eq!(item.cast[0], "Actor 0");
    assert_eq!(item.genres.len(), MAX_LIST_ENTRIES);
    assert_eq!(item.genres[1], "Genre 1");
}
