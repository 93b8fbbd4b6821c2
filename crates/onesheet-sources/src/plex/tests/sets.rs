//! Plex collections and playlists as sets, and sessions as now-playing events.

use super::*;

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
