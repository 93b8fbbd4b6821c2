//! Technical badges from Jellyfin's and Emby's media streams.
//!
//! Each entry of `MediaSources` is one version of the item; without them, the item's own
//! `MediaStreams` describe its default version. The item gets the badges of its best version
//! (highest resolution, then the most features), so features of two files are never mixed.

use onesheet_domain::Badges;

use super::Flavour;
use super::model::{BaseItemDto, MediaStream};

/// Resolution classes from best to worst, as written into [`Badges::resolution`].
const RESOLUTIONS: [&str; 4] = ["4K", "1080p", "720p", "SD"];

pub(super) fn best_badges(item: &BaseItemDto, flavour: Flavour) -> Badges {
    let versions: Vec<&[MediaStream]> = item
        .media_sources
        .iter()
        .map(|source| source.media_streams.as_slice())
        .filter(|streams| !streams.is_empty())
        .collect();
    let versions = if versions.is_empty() {
        vec![item.media_streams.as_slice()]
    } else {
        versions
    };

    versions
        .into_iter()
        .map(|streams| version_badges(streams, flavour))
        .max_by_key(rank)
        .unwrap_or_default()
}

fn rank(badges: &Badges) -> (usize, bool, bool, bool) {
    let resolution = badges
        .resolution
        .as_deref()
        .and_then(|class| RESOLUTIONS.iter().position(|known| *known == class))
        .map_or(0, |position| RESOLUTIONS.len() - position);
    (resolution, badges.dolby_vision, badges.hdr, badges.atmos)
}

fn version_badges(streams: &[MediaStream], flavour: Flavour) -> Badges {
    let video: Vec<&MediaStream> = streams
        .iter()
        .filter(|stream| stream.kind.as_deref() == Some("Video"))
        .collect();
    let audio = streams
        .iter()
        .filter(|stream| stream.kind.as_deref() == Some("Audio"));

    Badges {
        resolution: video
            .iter()
            .find_map(|stream| resolution_from_size(stream.width, stream.height))
            .map(str::to_owned),
        hdr: video.iter().any(|stream| is_hdr(stream, flavour)),
        dolby_vision: video.iter().any(|stream| is_dolby_vision(stream, flavour)),
        atmos: audio.into_iter().any(is_atmos),
    }
}

/// Classifies a frame size. A wide film cropped to 3840×1600 is still 4K, so either side
/// reaching the class's threshold counts.
fn resolution_from_size(width: Option<i64>, height: Option<i64>) -> Option<&'static str> {
    let width = width.unwrap_or(0);
    let height = height.unwrap_or(0);
    if width <= 0 && height <= 0 {
        return None;
    }
    Some(if width >= 3200 || height >= 2000 {
        "4K"
    } else if width >= 1800 || height >= 1000 {
        "1080p"
    } else if width >= 1200 || height >= 700 {
        "720p"
    } else {
        "SD"
    })
}

fn is_hdr(stream: &MediaStream, flavour: Flavour) -> bool {
    let range = lower(stream.video_range.as_deref());
    let transfer = lower(stream.color_transfer.as_deref());
    let common = range.contains("hdr")
        || matches!(transfer.as_str(), "smpte2084" | "arib-std-b67")
        || lower(stream.display_title.as_deref()).contains("hdr");

    let specific = match flavour {
        // HDR10, HDR10Plus, HLG and the DOVIWith… types that carry an HDR base layer.
        Flavour::Jellyfin => {
            let range_type = lower(stream.video_range_type.as_deref());
            range_type.contains("hdr") || range_type.contains("hlg")
        }
        Flavour::Emby => matches!(
            stream.extended_video_type.as_deref(),
            Some("Hdr10" | "Hdr10Plus" | "HyperLogGamma")
        ),
    };
    common || specific
}

fn is_dolby_vision(stream: &MediaStream, flavour: Flavour) -> bool {
    let title = lower(stream.display_title.as_deref());
    let common = title.contains("dolby vision") || title.contains("dovi");

    let specific = match flavour {
        // `DOVIInvalid` marks Dolby Vision metadata the server could not use.
        Flavour::Jellyfin => {
            let range_type = stream.video_range_type.as_deref().unwrap_or_default();
            (range_type.starts_with("DOVI") && range_type != "DOVIInvalid")
                || stream.dv_profile.is_some()
        }
        Flavour::Emby => {
            stream.extended_video_type.as_deref() == Some("DolbyVision")
                || stream
                    .extended_video_sub_type
                    .as_deref()
                    .is_some_and(|sub_type| sub_type.starts_with("Dovi"))
        }
    };
    common || specific
}

fn is_atmos(stream: &MediaStream) -> bool {
    stream.audio_spatial_format.as_deref() == Some("DolbyAtmos")
        || [
            stream.profile.as_deref(),
            stream.display_title.as_deref(),
            stream.title.as_deref(),
        ]
        .into_iter()
        .any(|text| lower(text).contains("atmos"))
}

fn lower(text: Option<&str>) -> String {
    text.unwrap_or_default().to_lowercase()
}
