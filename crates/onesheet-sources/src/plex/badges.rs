//! Technical badges from Plex's media versions and streams.
//!
//! Listings carry `Media` with `videoResolution` but usually no streams. The item's own
//! metadata endpoint adds the streams, which carry the HDR, Dolby Vision and Atmos signals.
//!
//! An item with several versions gets the badges of its best one: highest resolution, then
//! the most features. A 4K HDR copy beside a 1080p Atmos copy therefore shows as 4K HDR, and
//! the features of two files are never mixed.

use onesheet_domain::Badges;

use super::model::{Media, Stream};

const VIDEO_STREAM: u32 = 1;
const AUDIO_STREAM: u32 = 2;

/// Resolution classes from best to worst, as written into [`Badges::resolution`].
const RESOLUTIONS: [&str; 4] = ["4K", "1080p", "720p", "SD"];

pub(super) fn best_badges(media: &[Media]) -> Badges {
    media
        .iter()
        .map(version_badges)
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

fn version_badges(media: &Media) -> Badges {
    let streams: Vec<&Stream> = media
        .parts
        .iter()
        .flat_map(|part| part.streams.iter())
        .collect();
    let video: Vec<&Stream> = streams
        .iter()
        .copied()
        .filter(|stream| stream.stream_type == Some(VIDEO_STREAM))
        .collect();
    let audio = streams
        .iter()
        .copied()
        .filter(|stream| stream.stream_type == Some(AUDIO_STREAM));

    let resolution = media
        .video_resolution
        .as_deref()
        .and_then(resolution_from_label)
        .or_else(|| resolution_from_size(media.width, media.height))
        .or_else(|| {
            video
                .iter()
                .find_map(|stream| resolution_from_size(stream.width, stream.height))
        });

    Badges {
        resolution: resolution.map(str::to_owned),
        hdr: video.iter().any(|stream| is_hdr(stream)),
        dolby_vision: video.iter().any(|stream| is_dolby_vision(stream)),
        atmos: audio.into_iter().any(is_atmos),
    }
}

/// Maps Plex's `videoResolution` (`4k`, `1080`, `720`, `576`, `480`, `sd`) to a class.
fn resolution_from_label(label: &str) -> Option<&'static str> {
    let label = label.trim().to_ascii_lowercase();
    let label = label.trim_end_matches(['p', 'i']);
    match label {
        "4k" | "uhd" | "2160" => Some("4K"),
        "1080" | "fhd" => Some("1080p"),
        "720" | "hd" => Some("720p"),
        "sd" => Some("SD"),
        other => other
            .parse::<u32>()
            .ok()
            .and_then(|height| resolution_from_size(None, Some(height))),
    }
}

/// Classifies a frame size. A wide film cropped to 3840×1600 is still 4K, so either side
/// reaching the class's threshold counts.
pub(super) fn resolution_from_size(
    width: Option<u32>,
    height: Option<u32>,
) -> Option<&'static str> {
    let width = width.unwrap_or(0);
    let height = height.unwrap_or(0);
    if width == 0 && height == 0 {
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

/// PQ (`smpte2084`) and HLG (`arib-std-b67`) are the HDR transfer functions; newer servers
/// also name HDR in the stream titles.
fn is_hdr(stream: &Stream) -> bool {
    let transfer = stream.color_trc.as_deref().unwrap_or_default();
    matches!(transfer, "smpte2084" | "arib-std-b67")
        || titles(stream).any(|title| title.contains("hdr"))
}

fn is_dolby_vision(stream: &Stream) -> bool {
    stream.dovi_present
        || titles(stream).any(|title| title.contains("dovi") || title.contains("dolby vision"))
}

fn is_atmos(stream: &Stream) -> bool {
    titles(stream)
        .chain(stream.profile.as_deref().map(str::to_lowercase))
        .any(|title| title.contains("atmos"))
}

/// Collects the stream's descriptive titles, lower-cased.
fn titles(stream: &Stream) -> impl Iterator<Item = String> + '_ {
    [
        stream.display_title.as_deref(),
        stream.extended_display_title.as_deref(),
        stream.title.as_deref(),
    ]
    .into_iter()
    .flatten()
    .map(str::to_lowercase)
}
