//! Box sets, playlists, libraries, server information and sessions from Jellyfin and Emby.

use super::*;

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
