//! Technical badges (resolution, HDR, Dolby Vision, Atmos) from Plex media streams.

use super::*;

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
