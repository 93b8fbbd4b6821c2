//! Typed Jellyfin and Emby responses: item pages, libraries, server info and sessions.
//!
//! Both servers write PascalCase JSON with the same names for the fields read here, which are
//! a subset of Jellyfin's `BaseItemDto` and its companions. Every field is optional or
//! defaults, unknown fields are ignored, and `null` reads like a missing field. Whole numbers
//! are also accepted as floats or numeric strings, since plug-ins and proxies sometimes
//! rewrite them. Fields that carry file paths on the server (`Path`, `MediaSources[].Path`)
//! are not modelled, so they cannot reach an item or a log line by accident.

use std::collections::HashMap;

use serde::{Deserialize, Deserializer};
use serde_json::Value;

/// One page of `/Items` (a `BaseItemDtoQueryResult`).
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(default, rename_all = "PascalCase")]
pub struct ItemsPage {
    #[serde(deserialize_with = "or_default")]
    pub items: Vec<BaseItemDto>,
    /// Number of items across all pages.
    #[serde(deserialize_with = "whole_or_zero")]
    pub total_record_count: u64,
    /// Position of this page's first item among all items.
    #[serde(deserialize_with = "whole_or_zero")]
    pub start_index: u64,
}

/// A library, as listed by `/Library/VirtualFolders`.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(default, rename_all = "PascalCase")]
pub struct VirtualFolder {
    pub name: Option<String>,
    /// The library's id, used as `ParentId` when listing its items.
    pub item_id: Option<String>,
    /// `movies`, `tvshows`, `music`, `boxsets`, `mixed` and others; absent for mixed content
    /// on some versions.
    pub collection_type: Option<String>,
    /// Folders on the server's disk. Shown to the admin when choosing libraries, never to
    /// screens.
    #[serde(deserialize_with = "or_default")]
    pub locations: Vec<String>,
}

/// `/System/Info/Public`, readable without a key.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(default, rename_all = "PascalCase")]
pub struct PublicSystemInfo {
    pub server_name: Option<String>,
    pub version: Option<String>,
    /// `Jellyfin Server` or `Emby Server`.
    pub product_name: Option<String>,
    /// The server's unique id.
    pub id: Option<String>,
}

/// The subset of `BaseItemDto` that catalog items, collections and sessions use.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(default, rename_all = "PascalCase")]
pub struct BaseItemDto {
    /// Jellyfin writes 32 hex digits, Emby a decimal number.
    pub id: Option<String>,
    pub name: Option<String>,
    pub original_title: Option<String>,
    /// Changes whenever the item's metadata changes.
    pub etag: Option<String>,
    /// `Movie`, `Series`, `Season`, `Episode`, `MusicAlbum`, `MusicArtist`, `BoxSet`,
    /// `Playlist`, `Trailer`, `Audio` and others.
    #[serde(rename = "Type")]
    pub kind: Option<String>,
    /// `Video`, `Audio`, `Photo`, `Book` or `Unknown`.
    pub media_type: Option<String>,
    /// Set on trailers, featurettes and other extras.
    pub extra_type: Option<String>,
    #[serde(deserialize_with = "or_default")]
    pub is_folder: bool,
    /// ISO 8601 time the item was added, such as `2023-04-01T12:00:00.0000000Z`.
    pub date_created: Option<String>,
    pub premiere_date: Option<String>,
    #[serde(deserialize_with = "whole")]
    pub production_year: Option<i64>,
    pub overview: Option<String>,
    #[serde(deserialize_with = "or_default")]
    pub taglines: Vec<String>,
    #[serde(deserialize_with = "or_default")]
    pub genres: Vec<String>,
    /// Audience rating on a 0 to 10 scale.
    pub community_rating: Option<f32>,
    /// Critics' rating on a 0 to 100 scale.
    pub critic_rating: Option<f32>,
    /// Content rating such as `PG-13`.
    pub official_rating: Option<String>,
    /// Length in ticks of 100 ns (10,000,000 per second).
    #[serde(deserialize_with = "whole")]
    pub run_time_ticks: Option<i64>,
    #[serde(deserialize_with = "or_default")]
    pub studios: Vec<NameIdPair>,
    #[serde(deserialize_with = "or_default")]
    pub people: Vec<BaseItemPerson>,
    /// External ids by provider name: `Imdb`, `Tmdb`, `Tvdb` and others.
    #[serde(deserialize_with = "or_default")]
    pub provider_ids: HashMap<String, Option<String>>,

    /// Image tags by image type (`Primary`, `Logo`, `Thumb`, `Banner`, `Art`…). A tag
    /// changes whenever the image does.
    #[serde(deserialize_with = "or_default")]
    pub image_tags: HashMap<String, Option<String>>,
    /// Width divided by height of the primary image.
    pub primary_image_aspect_ratio: Option<f64>,
    /// Tags of the backdrops, by index.
    #[serde(deserialize_with = "or_default")]
    pub backdrop_image_tags: Vec<String>,
    pub parent_backdrop_item_id: Option<String>,
    #[serde(deserialize_with = "or_default")]
    pub parent_backdrop_image_tags: Vec<String>,
    pub parent_logo_item_id: Option<String>,
    pub parent_logo_image_tag: Option<String>,
    pub parent_thumb_item_id: Option<String>,
    pub parent_thumb_image_tag: Option<String>,
    pub parent_primary_image_item_id: Option<String>,
    pub parent_primary_image_tag: Option<String>,
    pub series_id: Option<String>,
    pub series_name: Option<String>,
    pub series_primary_image_tag: Option<String>,
    pub season_name: Option<String>,
    pub album: Option<String>,
    pub album_id: Option<String>,
    pub album_primary_image_tag: Option<String>,

    /// Streams of the default version. Only present when the request asked for the
    /// `MediaStreams` field.
    #[serde(deserialize_with = "or_default")]
    pub media_streams: Vec<MediaStream>,
    /// One entry per version of the item, each with its streams.
    #[serde(deserialize_with = "or_default")]
    pub media_sources: Vec<MediaSourceInfo>,
    /// Number of members, for box sets and playlists.
    #[serde(deserialize_with = "whole")]
    pub child_count: Option<i64>,
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(default, rename_all = "PascalCase")]
pub struct NameIdPair {
    pub name: Option<String>,
    pub id: Option<String>,
}

/// A cast or crew member.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(default, rename_all = "PascalCase")]
pub struct BaseItemPerson {
    pub name: Option<String>,
    /// The character an actor plays.
    pub role: Option<String>,
    /// `Actor`, `Director`, `Writer`, `Producer`, `GuestStar` and others.
    #[serde(rename = "Type")]
    pub kind: Option<String>,
}

/// One version of an item, with its streams.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(default, rename_all = "PascalCase")]
pub struct MediaSourceInfo {
    pub id: Option<String>,
    #[serde(deserialize_with = "or_default")]
    pub media_streams: Vec<MediaStream>,
}

/// A video, audio or subtitle stream.
///
/// `VideoRangeType`, `DvProfile` and `AudioSpatialFormat` are Jellyfin's; Emby describes the
/// same things with `ExtendedVideoType` and `ExtendedVideoSubType`.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(default, rename_all = "PascalCase")]
pub struct MediaStream {
    /// `Video`, `Audio`, `Subtitle`, `EmbeddedImage`, `Data` or `Lyric`.
    #[serde(rename = "Type")]
    pub kind: Option<String>,
    pub codec: Option<String>,
    pub display_title: Option<String>,
    pub title: Option<String>,
    /// Codec profile; for audio it may read `Dolby TrueHD + Dolby Atmos`.
    pub profile: Option<String>,
    #[serde(deserialize_with = "whole")]
    pub width: Option<i64>,
    #[serde(deserialize_with = "whole")]
    pub height: Option<i64>,
    /// `SDR` or `HDR` on Jellyfin; Emby may write `HDR 10`.
    pub video_range: Option<String>,
    /// Jellyfin: `SDR`, `HDR10`, `HLG`, `HDR10Plus`, `DOVI`, `DOVIWithHDR10` and others.
    pub video_range_type: Option<String>,
    /// Transfer characteristics, such as `smpte2084` (PQ) or `arib-std-b67` (HLG).
    pub color_transfer: Option<String>,
    /// Jellyfin: the Dolby Vision profile, present only on Dolby Vision streams.
    #[serde(deserialize_with = "whole")]
    pub dv_profile: Option<i64>,
    /// Jellyfin: `None`, `DolbyAtmos` or `DTSX`.
    pub audio_spatial_format: Option<String>,
    /// Emby: `None`, `Hdr10`, `Hdr10Plus`, `HyperLogGamma` or `DolbyVision`.
    pub extended_video_type: Option<String>,
    /// Emby: the variant, such as `DoviProfile81`.
    pub extended_video_sub_type: Option<String>,
}

/// One entry of `/Sessions` (a `SessionInfoDto`).
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(default, rename_all = "PascalCase")]
pub struct SessionInfo {
    pub id: Option<String>,
    pub user_name: Option<String>,
    /// The client app, such as `Jellyfin Web`.
    pub client: Option<String>,
    /// The device name its owner chose.
    pub device_name: Option<String>,
    /// The item playing; absent for idle sessions.
    pub now_playing_item: Option<BaseItemDto>,
    pub play_state: Option<PlayerStateInfo>,
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(default, rename_all = "PascalCase")]
pub struct PlayerStateInfo {
    /// Playback position in ticks of 100 ns.
    #[serde(deserialize_with = "whole")]
    pub position_ticks: Option<i64>,
    #[serde(deserialize_with = "or_default")]
    pub is_paused: bool,
}

/// Reads `null` as the type's default.
fn or_default<'de, D, T>(deserializer: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de> + Default,
{
    Ok(Option::<T>::deserialize(deserializer)?.unwrap_or_default())
}

/// Reads a whole number written as an integer, a float (`2001.0`) or a numeric string. Any
/// other value reads as absent instead of failing the page.
fn whole<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<i64>, D::Error> {
    // 2^63 as f64; larger floats would saturate instead of failing.
    const LIMIT: f64 = 9_223_372_036_854_775_808.0;
    let from_float =
        |value: f64| (value.is_finite() && value.abs() < LIMIT).then(|| value.trunc() as i64);

    let value = Option::<Value>::deserialize(deserializer)?;
    Ok(match value {
        Some(Value::Number(number)) => number
            .as_i64()
            .or_else(|| number.as_f64().and_then(from_float)),
        Some(Value::String(text)) => {
            let text = text.trim();
            text.parse::<i64>()
                .ok()
                .or_else(|| text.parse::<f64>().ok().and_then(from_float))
        }
        _ => None,
    })
}

fn whole_or_zero<'de, D: Deserializer<'de>>(deserializer: D) -> Result<u64, D::Error> {
    Ok(whole(deserializer)?
        .and_then(|n| u64::try_from(n).ok())
        .unwrap_or(0))
}
