//! Parsing and mapping tests on Plex responses built in code, in both JSON and XML form.

use onesheet_domain::{ImageRef, MediaItem, MediaKind, PlaybackState, SourceId};
use serde_json::{Value, json};

use super::map::{MAX_LIST_ENTRIES, MAX_TEXT_CHARS, MAX_TITLE_CHARS};
use super::*;

mod artwork;
mod badges;
mod sets;

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
