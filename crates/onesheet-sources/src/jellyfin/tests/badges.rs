//! Technical badges from Jellyfin and Emby media streams and sources.

use super::*;

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
