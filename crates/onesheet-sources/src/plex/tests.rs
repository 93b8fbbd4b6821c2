//! Parsing and mapping tests on Plex responses built in code, in both JSON and XML form.

use onesheet_domain::{ImageRef, MediaItem, MediaKind, PlaybackState, SourceId};
use serde_json::{Value, json};

use super::map::{MAX_LIST_ENTRIES, MAX_TEXT_CHARS, MAX_TITLE_CHARS};
use super::*;

fn parse_json(value: &Value) -> MediaContainer {
    parse_container(value.to_string().as_bytes(), Some("application/json")).unwrap()
}

fn parse_xml(xml: &str) -> MediaContainer {
    parse_container(xml.as_bytes(), Some("application/xml;charset=utf-8")).unwrap()
}

fn movies_context() -> MapContext {
    MapContext {
        library: Some("Movies".to_owned()),
        collection: None,
    }
}

/// Maps a single JSON metadata entry.
fn map_one(metadata: Value) -> Option<MediaItem> {
    let container = parse_json(&json!({ "MediaContainer": { "Metadata": [metadata] } }));
    assert_eq!(container.metadata.len(), 1);
    map_metadata(&container.metadata[0], &MapContext::default())
}

fn key(image: &Option<ImageRef>) -> Option<(&str, &str)> {
    image
        .as_ref()
        .map(|image| (image.key.as_str(), image.version.as_str()))
}

const TWO_MOVIES_XML: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<MediaContainer size="2" totalSize="25000" offset="200" allowSync="1" librarySectionID="1" librarySectionTitle="Movies" viewGroup="movie">
  <Video ratingKey="1049" key="/library/metadata/1049" guid="plex://movie/5d776826" type="movie" title="Zoolander" contentRating="PG-13" summary="A male model is brainwashed.&#10;Second line." tagline="3% Body Fat. 1% Brain Activity." studio="Paramount Pictures" year="2001" rating="6.4" ratingImage="rottentomatoes://image.rating.rotten" audienceRating="7.1" duration="5129000" addedAt="1408525217" updatedAt="1434341184" thumb="/library/metadata/1049/thumb/1434341184" art="/library/metadata/1049/art/1434341184" originallyAvailableAt="2001-09-27">
    <Media id="827" duration="5129000" width="1920" height="1040" videoResolution="1080" videoCodec="h264" audioCodec="ac3">
      <Part id="827" key="/library/parts/827/file.mkv" file="/media/movies/Zoolander (2001).mkv" duration="5129000" container="mkv" />
    </Media>
    <Genre tag="Comedy" />
    <Director tag="Ben Stiller" />
    <Role tag="Ben Stiller" role="Derek Zoolander" />
    <Role tag="Owen Wilson" role="Hansel" />
    <Collection tag="Comedy Classics" />
    <Guid id="imdb://tt0196229" />
    <Guid id="tmdb://9398" />
  </Video>
  <Video ratingKey="1050" key="/library/metadata/1050" type="movie" title="Heat" year="1995" thumb="/library/metadata/1050/thumb/1600000000" addedAt="1408525300" />
</MediaContainer>
"#;

fn zoolander_media_json() -> Value {
    json!([{
        "id": 827,
        "duration": 5129000,
        "width": 1920,
        "height": 1040,
        "videoResolution": "1080",
        "videoCodec": "h264",
        "audioCodec": "ac3",
        "Part": [{
            "id": 827,
            "key": "/library/parts/827/file.mkv",
            "file": "/media/movies/Zoolander (2001).mkv",
            "duration": 5129000,
            "container": "mkv"
        }]
    }])
}

fn zoolander_json() -> Value {
    json!({
        "ratingKey": "1049",
        "key": "/library/metadata/1049",
        "guid": "plex://movie/5d776826",
        "type": "movie",
        "title": "Zoolander",
        "contentRating": "PG-13",
        "summary": "A male model is brainwashed.\nSecond line.",
        "tagline": "3% Body Fat. 1% Brain Activity.",
        "studio": "Paramount Pictures",
        "year": 2001,
        "rating": 6.4,
        "ratingImage": "rottentomatoes://image.rating.rotten",
        "audienceRating": 7.1,
        "duration": 5129000,
        "addedAt": 1408525217,
        "updatedAt": 1434341184,
        "thumb": "/library/metadata/1049/thumb/1434341184",
        "art": "/library/metadata/1049/art/1434341184",
        "originallyAvailableAt": "2001-09-27",
        "Media": zoolander_media_json(),
        "Genre": [{ "tag": "Comedy" }],
        "Director": [{ "tag": "Ben Stiller" }],
        "Role": [
            { "tag": "Ben Stiller", "role": "Derek Zoolander" },
            { "tag": "Owen Wilson", "role": "Hansel" }
        ],
        "Collection": [{ "tag": "Comedy Classics" }],
        "Guid": [{ "id": "imdb://tt0196229" }, { "id": "tmdb://9398" }]
    })
}

fn two_movies_json() -> Value {
    let heat = json!({
        "ratingKey": "1050",
        "key": "/library/metadata/1050",
        "type": "movie",
        "title": "Heat",
        "year": 1995,
        "thumb": "/library/metadata/1050/thumb/1600000000",
        "addedAt": 1408525300
    });
    json!({
        "MediaContainer": {
            "size": 2,
            "totalSize": 25000,
            "offset": 200,
            "allowSync": true,
            "librarySectionID": 1,
            "librarySectionTitle": "Movies",
            "viewGroup": "movie",
            "Metadata": [zoolander_json(), heat]
        }
    })
}

#[test]
fn json_and_xml_parse_to_same_items() {
    let from_json = parse_json(&two_movies_json());
    let from_xml = parse_xml(TWO_MOVIES_XML);

    assert_eq!(from_xml.size, Some(2));
    assert_eq!(from_xml.total_size, Some(25000));
    assert_eq!(from_xml.offset, Some(200));
    assert_eq!(from_xml.library_section_id.as_deref(), Some("1"));
    assert_eq!(from_xml, from_json);

    let json_items = map_container(&from_json, &movies_context());
    let xml_items = map_container(&from_xml, &movies_context());
    assert_eq!(json_items.len(), 2);
    assert_eq!(xml_items, json_items);
}

#[test]
fn xml_is_parsed_whatever_the_header_says() {
    for content_type in [None, Some("application/json"), Some("text/plain")] {
        let container = parse_container(TWO_MOVIES_XML.as_bytes(), content_type).unwrap();
        assert_eq!(container.metadata.len(), 2, "{content_type:?}");
    }

    let without_declaration = TWO_MOVIES_XML.trim_start_matches(|c| c != '\n');
    let container = parse_container(without_declaration.as_bytes(), None).unwrap();
    assert_eq!(container.metadata.len(), 2);
}

#[test]
fn movie_maps_every_field() {
    let container = parse_json(&two_movies_json());
    let item = map_metadata(&container.metadata[0], &movies_context()).unwrap();

    assert_eq!(item.id, None);
    assert_eq!(item.source, None);
    assert_eq!(item.upstream_key, "1049");
    assert_eq!(item.kind, MediaKind::Movie);
    assert_eq!(item.title, "Zoolander");
    assert_eq!(item.year, Some(2001));
    assert_eq!(
        item.tagline.as_deref(),
        Some("3% Body Fat. 1% Brain Activity.")
    );
    assert_eq!(
        item.overview.as_deref(),
        Some("A male model is brainwashed.\nSecond line.")
    );
    assert_eq!(item.genres, ["Comedy"]);
    assert_eq!(item.content_rating.as_deref(), Some("PG-13"));
    assert_eq!(item.ratings.critic, Some(6.4));
    assert_eq!(item.ratings.audience, Some(7.1));
    assert_eq!(item.runtime_minutes, Some(85));
    assert_eq!(item.studios, ["Paramount Pictures"]);
    assert_eq!(item.directors, ["Ben Stiller"]);
    assert_eq!(item.cast, ["Ben Stiller", "Owen Wilson"]);
    assert_eq!(item.badges.resolution.as_deref(), Some("1080p"));
    assert_eq!(item.links.imdb_id.as_deref(), Some("tt0196229"));
    assert_eq!(item.links.tmdb_id.as_deref(), Some("9398"));
    assert_eq!(item.links.tvdb_id, None);
    assert_eq!(item.added_at, Some(1408525217));
    assert_eq!(item.library.as_deref(), Some("Movies"));
    assert_eq!(item.collections, ["Comedy Classics"]);
    assert_eq!(
        key(&item.images.poster),
        Some(("/library/metadata/1049/thumb/1434341184", "1434341184"))
    );
    assert_eq!(
        key(&item.images.background),
        Some(("/library/metadata/1049/art/1434341184", "1434341184"))
    );
    assert!(!item.demo);
}

#[test]
fn mapped_item_never_holds_file_paths() {
    let container = parse_json(&two_movies_json());
    let item = map_metadata(&container.metadata[0], &movies_context()).unwrap();
    let json = serde_json::to_string(&item).unwrap();
    assert!(!json.contains("/media/movies"), "{json}");
    assert!(!json.contains("/library/parts"), "{json}");
}

#[test]
fn html_body_is_an_error_naming_text_html() {
    let page = b"<!DOCTYPE html>\n<html><head><title>Sign in</title></head><body></body></html>";

    let error = parse_container(page, Some("text/html; charset=utf-8")).unwrap_err();
    assert!(matches!(error, PlexParseError::Html { .. }), "{error:?}");
    assert!(error.to_string().contains("text/html"), "{error}");

    // Mislabelled as JSON or unlabelled, the body still reads as HTML.
    for content_type in [Some("application/json"), None] {
        let error = parse_container(page, content_type).unwrap_err();
        assert!(matches!(error, PlexParseError::Html { .. }), "{error:?}");
    }

    let error = parse_container(b"<HTML><body>proxy error</body></HTML>", None).unwrap_err();
    assert!(error.to_string().contains("text/html"), "{error}");

    let xhtml = b"<?xml version=\"1.0\"?>\n<html xmlns=\"http://www.w3.org/1999/xhtml\"></html>";
    let error = parse_container(xhtml, Some("application/xml")).unwrap_err();
    assert!(error.to_string().contains("text/html"), "{error}");

    let error = parse_container(br#"{"MediaContainer":{}}"#, Some("text/html")).unwrap_err();
    assert!(matches!(error, PlexParseError::Html { .. }), "{error:?}");
}

#[test]
fn unreadable_bodies_never_become_empty_containers() {
    let cases: [(&[u8], &str); 8] = [
        (b"", "empty"),
        (b"  \n ", "empty"),
        (
            b"{\"errors\":[{\"code\":1001,\"message\":\"User could not be authenticated\"}]}",
            "no MediaContainer",
        ),
        (b"{\"MediaContainer\":", "invalid Plex JSON"),
        (
            b"<Response code=\"401\" status=\"Unauthorized\"/>",
            "<Response>",
        ),
        (
            b"<MediaContainer size=\"2\"><Video ratingKey=\"1\">",
            "ends before",
        ),
        (b"Unauthorized", "neither JSON nor XML"),
        (
            b"<MediaContainer size=\"1\"><Video></Directory></MediaContainer>",
            "invalid Plex XML",
        ),
    ];
    for (body, expected) in cases {
        let error = parse_container(body, Some("application/xml")).unwrap_err();
        assert!(
            error.to_string().contains(expected),
            "{:?}: {error}",
            String::from_utf8_lossy(body)
        );
    }
}

#[test]
fn xml_nesting_is_bounded() {
    let depth = 40;
    let xml = format!(
        "<MediaContainer>{}{}</MediaContainer>",
        "<Video>".repeat(depth),
        "</Video>".repeat(depth)
    );
    let error = parse_container(xml.as_bytes(), None).unwrap_err();
    assert!(error.to_string().contains("nested more than"), "{error}");
}

#[test]
fn container_without_entries_is_empty_not_an_error() {
    let container = parse_xml(r#"<MediaContainer size="0" totalSize="0"/>"#);
    assert_eq!(container.size, Some(0));
    assert!(container.metadata.is_empty());

    let container = parse_json(&json!({ "MediaContainer": { "size": 0, "Metadata": null } }));
    assert!(container.metadata.is_empty());
}

#[test]
fn library_sections_parse_in_both_forms() {
    let json = parse_json(&json!({
        "MediaContainer": {
            "size": 2,
            "title1": "Plex Library",
            "Directory": [
                { "key": "1", "type": "movie", "title": "Movies", "uuid": "70cb5089", "agent": "tv.plex.agents.movie", "updatedAt": 1689270983, "scannedAt": 1706626696, "hidden": false, "Location": [{ "id": 1, "path": "/media/movies" }] },
                { "key": 2, "type": "show", "title": "TV Shows", "hidden": 1 }
            ]
        }
    }));
    let xml = parse_xml(
        r#"<MediaContainer size="2" title1="Plex Library">
             <Directory key="1" type="movie" title="Movies" uuid="70cb5089" agent="tv.plex.agents.movie" updatedAt="1689270983" scannedAt="1706626696" hidden="0"><Location id="1" path="/media/movies"/></Directory>
             <Directory key="2" type="show" title="TV Shows" hidden="1"/>
           </MediaContainer>"#,
    );

    assert_eq!(xml, json);
    assert!(json.metadata.is_empty());
    let keys: Vec<_> = json
        .directories
        .iter()
        .map(|section| {
            (
                section.key.as_deref(),
                section.kind.as_deref(),
                section.hidden,
            )
        })
        .collect();
    assert_eq!(
        keys,
        [
            (Some("1"), Some("movie"), false),
            (Some("2"), Some("show"), true)
        ]
    );
    assert_eq!(json.directories[0].updated_at, Some(1689270983));
}

#[test]
fn xml_directory_with_rating_key_is_metadata() {
    let container = parse_xml(
        r#"<MediaContainer size="1">
             <Directory ratingKey="77" key="/library/metadata/77/children" type="show" title="Severance" thumb="/library/metadata/77/thumb/1700000000" childCount="2"/>
           </MediaContainer>"#,
    );
    assert!(container.directories.is_empty());
    let items = map_container(&container, &MapContext::default());
    assert_eq!(items.len(), 1);
    assert_eq!(items[0].kind, MediaKind::Show);
    assert_eq!(items[0].title, "Severance");
}

#[test]
fn identity_fields_parse() {
    let container = parse_xml(
        r#"<MediaContainer size="0" machineIdentifier="abc123" version="1.40.1.8227" friendlyName="Living Room"/>"#,
    );
    assert_eq!(container.machine_identifier.as_deref(), Some("abc123"));
    assert_eq!(container.version.as_deref(), Some("1.40.1.8227"));
    assert_eq!(container.friendly_name.as_deref(), Some("Living Room"));
}

#[test]
fn numbers_arrive_as_floats_or_strings() {
    let container = parse_json(&json!({
        "MediaContainer": {
            "size": "1",
            "totalSize": 3.0,
            "Metadata": [{
                "ratingKey": 1049,
                "type": "movie",
                "title": "Zoolander",
                "year": 2001.0,
                "duration": "5129000",
                "rating": "7.9",
                "audienceRating": 8,
                "addedAt": 1408525217.0,
                "thumb": "/library/metadata/1049/thumb/1434341184",
                "Media": [{ "id": "827", "width": "3840.0", "videoResolution": 1080 }]
            }]
        }
    }));
    assert_eq!(container.size, Some(1));
    assert_eq!(container.total_size, Some(3));

    let item = map_metadata(&container.metadata[0], &MapContext::default()).unwrap();
    assert_eq!(item.upstream_key, "1049");
    assert_eq!(item.year, Some(2001));
    assert_eq!(item.runtime_minutes, Some(85));
    assert_eq!(item.ratings.critic, Some(7.9));
    assert_eq!(item.ratings.audience, Some(8.0));
    assert_eq!(item.added_at, Some(1408525217));
    assert_eq!(item.badges.resolution.as_deref(), Some("1080p"));
}

#[test]
fn odd_values_read_as_missing_not_as_errors() {
    let item = map_one(json!({
        "ratingKey": "5",
        "type": "movie",
        "title": "Odd",
        "year": "unknown",
        "duration": -1,
        "rating": "NaN",
        "addedAt": null,
        "thumb": "/library/metadata/5/thumb/1"
    }))
    .unwrap();
    assert_eq!(item.year, None);
    assert_eq!(item.runtime_minutes, None);
    assert_eq!(item.ratings.audience, None);
    assert_eq!(item.added_at, None);
}

#[test]
fn unknown_fields_are_ignored() {
    let container = parse_json(&json!({
        "MediaContainer": {
            "size": 1,
            "somethingNew": { "nested": [1, 2, { "deep": true }] },
            "Hub": [{ "title": "Continue Watching" }],
            "Metadata": [{
                "ratingKey": "9",
                "type": "movie",
                "title": "Alien",
                "thumb": "/library/metadata/9/thumb/1",
                "UltraBlurColors": { "topLeft": "0c0c0c" },
                "Media": [{ "futureAttribute": [null], "Part": [{ "hasThumbnail": "1", "Stream": [{ "newField": {} }] }] }],
                "Country": [{ "tag": "UK" }]
            }]
        }
    }));
    let items = map_container(&container, &MapContext::default());
    assert_eq!(items.len(), 1);
    assert_eq!(items[0].title, "Alien");
}

#[test]
fn unicode_titles_round_trip_in_both_forms() {
    let titles = [
        "Amélie — Le Fabuleux Destin",
        "千と千尋の神隠し",
        "\u{5d4}\u{5e1}\u{5e8}\u{5d8} \u{200f}(2020)",
        "فيلم عربي",
        "🎬 Film & Friends <3",
        "Ame\u{301}lie",
    ];
    for (index, title) in titles.iter().enumerate() {
        let rating_key = index.to_string();
        let json = parse_json(&json!({
            "MediaContainer": { "Metadata": [{
                "ratingKey": rating_key,
                "type": "movie",
                "title": title,
                "thumb": "/library/metadata/1/thumb/1"
            }]}
        }));
        let escaped = title
            .replace('&', "&amp;")
            .replace('<', "&lt;")
            .replace('>', "&gt;");
        let xml = parse_xml(&format!(
            r#"<MediaContainer><Video ratingKey="{rating_key}" type="movie" title="{escaped}" thumb="/library/metadata/1/thumb/1"/></MediaContainer>"#
        ));

        let from_json = map_container(&json, &MapContext::default());
        let from_xml = map_container(&xml, &MapContext::default());
        assert_eq!(from_json[0].title, *title);
        assert_eq!(from_xml[0].title, *title);

        let saved = serde_json::to_string(&from_json[0]).unwrap();
        let loaded: MediaItem = serde_json::from_str(&saved).unwrap();
        assert_eq!(loaded.title, *title);
    }
}

#[test]
fn xml_character_references_are_decoded() {
    let container = parse_xml(
        r#"<MediaContainer><Video ratingKey="1" type="movie" title="Caf&#233; &#x1F3AC; &quot;Noir&quot;" thumb="/library/metadata/1/thumb/1"/></MediaContainer>"#,
    );
    assert_eq!(
        container.metadata[0].title.as_deref(),
        Some("Café 🎬 \"Noir\"")
    );
}

#[test]
fn byte_order_mark_and_whitespace_are_skipped() {
    let mut body = b"\xEF\xBB\xBF\n  ".to_vec();
    body.extend_from_slice(two_movies_json().to_string().as_bytes());
    let container = parse_container(&body, Some("application/json")).unwrap();
    assert_eq!(container.metadata.len(), 2);
}

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

fn badge_streams_json() -> Value {
    json!({
        "ratingKey": "42",
        "type": "movie",
        "title": "Dune: Part Two",
        "thumb": "/library/metadata/42/thumb/1700000042",
        "Media": [
            {
                "id": 1,
                "videoResolution": "1080",
                "Part": [{ "Stream": [
                    { "streamType": 1, "codec": "h264", "displayTitle": "1080p (H.264)" },
                    { "streamType": 2, "codec": "ac3", "displayTitle": "English (AC3 5.1)" }
                ]}]
            },
            {
                "id": 2,
                "videoResolution": "4k",
                "width": 3840,
                "height": 1608,
                "Part": [{ "Stream": [
                    { "streamType": 1, "codec": "hevc", "colorTrc": "smpte2084", "DOVIPresent": true, "DOVIProfile": 8, "displayTitle": "4K DoVi/HDR10 (HEVC Main 10)" },
                    { "streamType": 2, "codec": "truehd", "displayTitle": "English (TRUEHD 7.1)", "extendedDisplayTitle": "English (TrueHD 7.1 Atmos)" },
                    { "streamType": 3, "codec": "srt", "displayTitle": "English HDR commentary" }
                ]}]
            }
        ]
    })
}

#[test]
fn badges_for_4k_hdr_dolby_vision_atmos() {
    let item = map_one(badge_streams_json()).unwrap();
    assert_eq!(item.badges.resolution.as_deref(), Some("4K"));
    assert!(item.badges.hdr);
    assert!(item.badges.dolby_vision);
    assert!(item.badges.atmos);
}

#[test]
fn badges_parse_from_xml_flags() {
    let container = parse_xml(
        r#"<MediaContainer size="1">
             <Video ratingKey="42" type="movie" title="Dune: Part Two" thumb="/library/metadata/42/thumb/1700000042">
               <Media id="2" videoResolution="4k">
                 <Part id="2">
                   <Stream streamType="1" codec="hevc" DOVIPresent="1" DOVIProfile="8"/>
                   <Stream streamType="2" codec="eac3" extendedDisplayTitle="English (Dolby Digital Plus 5.1 Atmos)"/>
                 </Part>
               </Media>
             </Video>
           </MediaContainer>"#,
    );
    let stream = &container.metadata[0].media[0].parts[0].streams[0];
    assert!(stream.dovi_present);
    assert_eq!(stream.dovi_profile, Some(8));

    let item = map_metadata(&container.metadata[0], &MapContext::default()).unwrap();
    assert_eq!(item.badges.resolution.as_deref(), Some("4K"));
    assert!(item.badges.dolby_vision);
    assert!(!item.badges.hdr);
    assert!(item.badges.atmos);
}

#[test]
fn hlg_counts_as_hdr() {
    let item = map_one(json!({
        "ratingKey": "43",
        "type": "movie",
        "title": "Broadcast",
        "thumb": "/library/metadata/43/thumb/1",
        "Media": [{ "videoResolution": "720", "Part": [{ "Stream": [
            { "streamType": 1, "colorTrc": "arib-std-b67" }
        ]}]}]
    }))
    .unwrap();
    assert_eq!(item.badges.resolution.as_deref(), Some("720p"));
    assert!(item.badges.hdr);
    assert!(!item.badges.dolby_vision);
    assert!(!item.badges.atmos);
}

#[test]
fn resolution_labels_and_sizes_map_to_classes() {
    let cases = [
        (json!({ "videoResolution": "4k" }), Some("4K")),
        (json!({ "videoResolution": "1080" }), Some("1080p")),
        (json!({ "videoResolution": "720" }), Some("720p")),
        (json!({ "videoResolution": "576" }), Some("SD")),
        (json!({ "videoResolution": "sd" }), Some("SD")),
        (json!({ "videoResolution": "2160p" }), Some("4K")),
        (json!({ "width": 3840, "height": 1600 }), Some("4K")),
        (json!({ "width": 1920, "height": 800 }), Some("1080p")),
        (json!({}), None),
    ];
    for (media, expected) in cases {
        let item = map_one(json!({
            "ratingKey": "1",
            "type": "movie",
            "title": "Sized",
            "thumb": "/library/metadata/1/thumb/1",
            "Media": [media.clone()]
        }))
        .unwrap();
        assert_eq!(item.badges.resolution.as_deref(), expected, "{media}");
    }
}

fn collections_json() -> Value {
    json!({
        "MediaContainer": {
            "size": 4,
            "Metadata": [
                {
                    "ratingKey": "9001",
                    "type": "collection",
                    "title": "Marvel Cinematic Universe",
                    "summary": "Every film in release order.",
                    "childCount": "33",
                    "smart": "0",
                    "thumb": "/library/collections/9001/thumb/1700009001",
                    "art": "/library/collections/9001/art/1700009001",
                    "librarySectionTitle": "Movies"
                },
                {
                    "ratingKey": "2561805",
                    "type": "playlist",
                    "title": "Background videos",
                    "playlistType": "video",
                    "smart": true,
                    "leafCount": 8,
                    "composite": "/playlists/2561805/composite/1485900004"
                },
                {
                    "ratingKey": "2561806",
                    "type": "playlist",
                    "title": "Holiday photos",
                    "playlistType": "photo",
                    "composite": "/playlists/2561806/composite/1485900005"
                },
                { "ratingKey": "1", "type": "movie", "title": "Not a set", "thumb": "/library/metadata/1/thumb/1" }
            ]
        }
    })
}

#[test]
fn collections_and_playlists_map_to_sets() {
    let container = parse_json(&collections_json());
    let sets: Vec<MediaSet> = container
        .metadata
        .iter()
        .filter_map(|metadata| map_collection(metadata, &MapContext::default()))
        .collect();
    assert_eq!(sets.len(), 2);

    let collection = &sets[0];
    assert_eq!(collection.upstream_key, "9001");
    assert_eq!(collection.kind, SetKind::Collection);
    assert_eq!(collection.title, "Marvel Cinematic Universe");
    assert_eq!(
        collection.summary.as_deref(),
        Some("Every film in release order.")
    );
    assert_eq!(collection.item_count, Some(33));
    assert!(!collection.smart);
    assert_eq!(collection.library.as_deref(), Some("Movies"));
    assert_eq!(
        key(&collection.images.poster),
        Some(("/library/collections/9001/thumb/1700009001", "1700009001"))
    );

    let playlist = &sets[1];
    assert_eq!(playlist.kind, SetKind::Playlist);
    assert_eq!(playlist.item_count, Some(8));
    assert!(playlist.smart);
    assert_eq!(
        key(&playlist.images.poster),
        Some(("/playlists/2561805/composite/1485900004", "1485900004"))
    );
}

const SESSIONS_XML: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<MediaContainer size="5">
  <Video ratingKey="1049" type="movie" title="Zoolander" year="2001" duration="5129000" viewOffset="120000" librarySectionTitle="Movies" thumb="/library/metadata/1049/thumb/1434341184">
    <Media id="827" videoResolution="1080"/>
    <User id="1" title="alex" thumb="https://plex.tv/users/abc/avatar"/>
    <Player address="192.168.1.20" machineIdentifier="device-1" product="Plex for LG" title="Living Room TV" state="playing"/>
    <Session id="session-a" bandwidth="5212" location="lan"/>
  </Video>
  <Video ratingKey="301" type="episode" title="Pilot" grandparentTitle="Breaking Bad" parentThumb="/library/metadata/200/thumb/1700000002" duration="3480000" viewOffset="60000" sessionKey="12">
    <User id="2" title="sam"/>
    <Player machineIdentifier="device-2" product="Plex Web" state="paused"/>
  </Video>
  <Video ratingKey="9000" type="clip" title="Cinema trailer" duration="120000" viewOffset="1000">
    <Player machineIdentifier="device-3" state="playing"/>
    <Session id="session-c"/>
  </Video>
  <Video ratingKey="9001" type="movie" extraType="1" title="Pre-roll" duration="30000">
    <Player machineIdentifier="device-4" state="playing"/>
    <Session id="session-d"/>
  </Video>
  <Track ratingKey="7001" parentRatingKey="501" type="track" title="One More Time" parentTitle="Discovery" grandparentTitle="Daft Punk" parentThumb="/library/metadata/501/thumb/1700000501" duration="320000" viewOffset="5000">
    <Player title="Kitchen" state="buffering"/>
    <Session id="session-e"/>
  </Track>
</MediaContainer>
"#;

#[test]
fn sessions_map_to_now_playing() {
    let source = SourceId::new("plex").unwrap();
    let sessions = map_sessions(&parse_xml(SESSIONS_XML), &source);

    let summary: Vec<_> = sessions
        .iter()
        .map(|session| {
            (
                session.session_id.as_str(),
                session.item.upstream_key.as_str(),
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
                "session-a",
                "1049",
                "Zoolander",
                MediaKind::Movie,
                PlaybackState::Playing
            ),
            (
                "12",
                "301",
                "Breaking Bad – Pilot",
                MediaKind::Episode,
                PlaybackState::Paused
            ),
            (
                "session-e",
                "501",
                "Discovery",
                MediaKind::Album,
                PlaybackState::Buffering
            ),
        ]
    );

    let movie = &sessions[0];
    assert_eq!(movie.source, source);
    assert_eq!(movie.user.as_deref(), Some("alex"));
    assert_eq!(movie.player.as_deref(), Some("Living Room TV"));
    assert_eq!(movie.position_ms, 120_000);
    assert_eq!(movie.duration_ms, Some(5_129_000));
    assert_eq!(movie.library.as_deref(), Some("Movies"));
    assert_eq!(movie.item.year, Some(2001));
    assert_eq!(
        key(&movie.item.poster),
        Some(("/library/metadata/1049/thumb/1434341184", "1434341184"))
    );

    let episode = &sessions[1];
    assert_eq!(episode.player.as_deref(), Some("Plex Web"));
    assert_eq!(
        key(&episode.item.poster).map(|(key, _)| key),
        Some("/library/metadata/200/thumb/1700000002")
    );

    let track = &sessions[2];
    assert_eq!(track.player.as_deref(), Some("Kitchen"));
    assert_eq!(
        key(&track.item.poster).map(|(key, _)| key),
        Some("/library/metadata/501/thumb/1700000501")
    );
}

#[test]
fn sessions_parse_the_same_from_json() {
    let source = SourceId::new("plex").unwrap();
    let json = parse_json(&json!({
        "MediaContainer": {
            "size": 1,
            "Metadata": [{
                "ratingKey": "1049",
                "type": "movie",
                "title": "Zoolander",
                "year": 2001,
                "duration": 5129000,
                "viewOffset": 120000,
                "librarySectionTitle": "Movies",
                "thumb": "/library/metadata/1049/thumb/1434341184",
                "Media": [{ "id": 827, "videoResolution": "1080" }],
                "User": { "id": "1", "title": "alex", "thumb": "https://plex.tv/users/abc/avatar" },
                "Player": { "address": "192.168.1.20", "machineIdentifier": "device-1", "product": "Plex for LG", "title": "Living Room TV", "state": "playing", "local": true },
                "Session": { "id": "session-a", "bandwidth": 5212, "location": "lan" }
            }]
        }
    }));
    let from_json = map_sessions(&json, &source);
    let from_xml = map_sessions(&parse_xml(SESSIONS_XML), &source);
    assert_eq!(from_json.len(), 1);
    assert_eq!(from_json[0], from_xml[0]);
}

#[test]
fn session_without_any_id_is_skipped() {
    let container = parse_xml(
        r#"<MediaContainer><Video ratingKey="1" type="movie" title="Heat"><Player state="playing"/></Video></MediaContainer>"#,
    );
    let sessions = map_sessions(&container, &SourceId::new("plex").unwrap());
    assert!(sessions.is_empty());
}
