//! Typed Plex Media Server responses: the `MediaContainer` envelope and what it holds.
//!
//! Field names follow Plex's JSON form: camelCase attributes, and capitalised child lists such
//! as `Media` and `Genre`. The XML form is converted to the same shape before it reaches these
//! types. Every field is optional because Plex omits whatever it does not know, unknown fields
//! are ignored, and values whose type varies go through the `lenient` helpers. Fields that
//! would only carry server paths or secrets (`Part.file`, `Location.path`, addresses) are not
//! modelled, so they cannot leak into logs or items by accident.

use serde::Deserialize;

use super::lenient;

/// The envelope of every Plex response. One type serves all endpoints Onesheet reads: library
/// sections fill `directories`, listings and sessions fill `metadata`, and the server identity
/// fills the top-level fields.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct MediaContainer {
    /// Number of entries in this page.
    #[serde(deserialize_with = "lenient::u32")]
    pub size: Option<u32>,
    /// Number of entries across all pages, when the request was paged.
    #[serde(deserialize_with = "lenient::u64")]
    pub total_size: Option<u64>,
    /// Position of this page's first entry among all entries.
    #[serde(deserialize_with = "lenient::u64")]
    pub offset: Option<u64>,
    #[serde(rename = "librarySectionID", deserialize_with = "lenient::string")]
    pub library_section_id: Option<String>,
    pub library_section_title: Option<String>,
    pub title1: Option<String>,
    /// The server's unique id (identity endpoint).
    pub machine_identifier: Option<String>,
    /// The server's name as set by its owner (identity endpoint).
    pub friendly_name: Option<String>,
    /// The Plex Media Server version (identity endpoint).
    pub version: Option<String>,
    #[serde(rename = "Metadata", deserialize_with = "lenient::or_default")]
    pub metadata: Vec<Metadata>,
    #[serde(rename = "Directory", deserialize_with = "lenient::or_default")]
    pub directories: Vec<Directory>,
}

/// A library section, as listed by `/library/sections/all`.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct Directory {
    /// The section id used in `/library/sections/{key}/all`.
    #[serde(deserialize_with = "lenient::string")]
    pub key: Option<String>,
    pub title: Option<String>,
    /// `movie`, `show`, `artist` or `photo`.
    #[serde(rename = "type")]
    pub kind: Option<String>,
    pub uuid: Option<String>,
    pub agent: Option<String>,
    /// Unix seconds of the last change to the section's settings.
    #[serde(deserialize_with = "lenient::i64")]
    pub updated_at: Option<i64>,
    /// Unix seconds of the last scan.
    #[serde(deserialize_with = "lenient::i64")]
    pub scanned_at: Option<i64>,
    #[serde(deserialize_with = "lenient::flag")]
    pub hidden: bool,
}

/// One entry of a listing: a movie, show, season, episode, artist, album, track, collection or
/// playlist, or a playback session when read from `/status/sessions`.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct Metadata {
    /// The server's opaque id for the item. Often numeric, but not guaranteed to be.
    #[serde(deserialize_with = "lenient::string")]
    pub rating_key: Option<String>,
    #[serde(deserialize_with = "lenient::string")]
    pub key: Option<String>,
    /// Agent guid: `plex://movie/…` on current servers, `com.plexapp.agents.imdb://…` on older
    /// ones.
    pub guid: Option<String>,
    /// `movie`, `show`, `season`, `episode`, `artist`, `album`, `track`, `clip`, `collection`,
    /// `playlist` and others.
    #[serde(rename = "type")]
    pub kind: Option<String>,
    pub subtype: Option<String>,
    pub title: Option<String>,
    pub original_title: Option<String>,
    pub parent_title: Option<String>,
    pub grandparent_title: Option<String>,
    #[serde(deserialize_with = "lenient::string")]
    pub parent_rating_key: Option<String>,
    #[serde(deserialize_with = "lenient::string")]
    pub grandparent_rating_key: Option<String>,
    pub summary: Option<String>,
    pub tagline: Option<String>,
    pub studio: Option<String>,
    pub content_rating: Option<String>,
    #[serde(deserialize_with = "lenient::u16")]
    pub year: Option<u16>,
    /// Release or air date, `YYYY-MM-DD` with an optional time.
    pub originally_available_at: Option<String>,
    #[serde(deserialize_with = "lenient::u32")]
    pub index: Option<u32>,
    #[serde(deserialize_with = "lenient::u32")]
    pub parent_index: Option<u32>,
    /// Length in milliseconds.
    #[serde(deserialize_with = "lenient::u64")]
    pub duration: Option<u64>,
    /// Rating on a 0 to 10 scale. Its source (critics or audience) depends on the agent and
    /// shows in `rating_image`.
    #[serde(deserialize_with = "lenient::f32")]
    pub rating: Option<f32>,
    #[serde(deserialize_with = "lenient::f32")]
    pub audience_rating: Option<f32>,
    /// Names the source of `rating`, such as `rottentomatoes://image.rating.ripe` or
    /// `imdb://image.rating`.
    pub rating_image: Option<String>,
    /// Unix seconds when the item was added to the library.
    #[serde(deserialize_with = "lenient::i64")]
    pub added_at: Option<i64>,
    /// Unix seconds of the item's last metadata change.
    #[serde(deserialize_with = "lenient::i64")]
    pub updated_at: Option<i64>,
    /// Poster path of the item, such as `/library/metadata/123/thumb/1700000000`. For an
    /// episode it is a still from the video.
    #[serde(deserialize_with = "lenient::string")]
    pub thumb: Option<String>,
    /// Background artwork path.
    #[serde(deserialize_with = "lenient::string")]
    pub art: Option<String>,
    #[serde(deserialize_with = "lenient::string")]
    pub parent_thumb: Option<String>,
    #[serde(deserialize_with = "lenient::string")]
    pub parent_art: Option<String>,
    #[serde(deserialize_with = "lenient::string")]
    pub grandparent_thumb: Option<String>,
    #[serde(deserialize_with = "lenient::string")]
    pub grandparent_art: Option<String>,
    /// Mosaic of the members' posters, for collections and playlists.
    #[serde(deserialize_with = "lenient::string")]
    pub composite: Option<String>,
    #[serde(rename = "librarySectionID", deserialize_with = "lenient::string")]
    pub library_section_id: Option<String>,
    pub library_section_title: Option<String>,
    /// Number of members of a collection.
    #[serde(deserialize_with = "lenient::u32")]
    pub child_count: Option<u32>,
    /// Number of episodes of a show or season, or of items in a playlist.
    #[serde(deserialize_with = "lenient::u32")]
    pub leaf_count: Option<u32>,
    /// True for a smart (rule-based) collection or playlist.
    #[serde(deserialize_with = "lenient::flag")]
    pub smart: bool,
    /// `video`, `audio` or `photo`, for playlists.
    pub playlist_type: Option<String>,
    /// Set on trailers, extras and cinema pre-rolls.
    #[serde(deserialize_with = "lenient::string")]
    pub extra_type: Option<String>,
    /// Playback position in milliseconds, in sessions.
    #[serde(deserialize_with = "lenient::u64")]
    pub view_offset: Option<u64>,
    /// Session number, in sessions.
    #[serde(deserialize_with = "lenient::string")]
    pub session_key: Option<String>,

    /// The files of the item: one entry per version (such as a 4K and a 1080p copy).
    #[serde(rename = "Media", deserialize_with = "lenient::or_default")]
    pub media: Vec<Media>,
    /// Artwork by purpose, on newer servers: `coverPoster`, `background`, `clearLogo`,
    /// `snapshot`, `banner`.
    #[serde(rename = "Image", deserialize_with = "lenient::or_default")]
    pub images: Vec<Image>,
    #[serde(rename = "Genre", deserialize_with = "lenient::or_default")]
    pub genres: Vec<Tag>,
    #[serde(rename = "Director", deserialize_with = "lenient::or_default")]
    pub directors: Vec<Tag>,
    /// Cast members; `tag` is the person, `role` the character.
    #[serde(rename = "Role", deserialize_with = "lenient::or_default")]
    pub roles: Vec<Tag>,
    #[serde(rename = "Collection", deserialize_with = "lenient::or_default")]
    pub collections: Vec<Tag>,
    /// External ids such as `imdb://tt0133093`, `tmdb://603` and `tvdb://169`.
    #[serde(rename = "Guid", deserialize_with = "lenient::or_default")]
    pub guids: Vec<Guid>,

    /// The account that plays, in sessions.
    #[serde(rename = "User")]
    pub user: Option<SessionUser>,
    /// The device that plays, in sessions.
    #[serde(rename = "Player")]
    pub player: Option<Player>,
    #[serde(rename = "Session")]
    pub session: Option<Session>,
}

/// One version of an item's media: a file, or several parts played in a row.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct Media {
    #[serde(deserialize_with = "lenient::string")]
    pub id: Option<String>,
    /// Resolution class: `4k`, `1080`, `720`, `576`, `480` or `sd`.
    #[serde(deserialize_with = "lenient::string")]
    pub video_resolution: Option<String>,
    #[serde(deserialize_with = "lenient::u32")]
    pub width: Option<u32>,
    #[serde(deserialize_with = "lenient::u32")]
    pub height: Option<u32>,
    pub video_codec: Option<String>,
    pub audio_codec: Option<String>,
    #[serde(deserialize_with = "lenient::u32")]
    pub audio_channels: Option<u32>,
    #[serde(rename = "Part", deserialize_with = "lenient::or_default")]
    pub parts: Vec<Part>,
}

/// One file of a media version. Listings leave out the streams; the item's own metadata
/// endpoint includes them.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct Part {
    #[serde(deserialize_with = "lenient::string")]
    pub id: Option<String>,
    #[serde(deserialize_with = "lenient::u64")]
    pub duration: Option<u64>,
    pub container: Option<String>,
    #[serde(rename = "Stream", deserialize_with = "lenient::or_default")]
    pub streams: Vec<Stream>,
}

/// A video, audio or subtitle stream inside a part.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct Stream {
    /// 1 video, 2 audio, 3 subtitles, 4 lyrics.
    #[serde(deserialize_with = "lenient::u32")]
    pub stream_type: Option<u32>,
    pub codec: Option<String>,
    pub display_title: Option<String>,
    /// Longer description, such as `4K DoVi/HDR10 (HEVC Main 10)` or
    /// `English (TrueHD 7.1 Atmos)`.
    pub extended_display_title: Option<String>,
    pub title: Option<String>,
    pub profile: Option<String>,
    /// Transfer characteristics: `smpte2084` (PQ) and `arib-std-b67` (HLG) mean HDR.
    pub color_trc: Option<String>,
    pub color_primaries: Option<String>,
    #[serde(deserialize_with = "lenient::u32")]
    pub bit_depth: Option<u32>,
    #[serde(deserialize_with = "lenient::u32")]
    pub width: Option<u32>,
    #[serde(deserialize_with = "lenient::u32")]
    pub height: Option<u32>,
    #[serde(rename = "DOVIPresent", deserialize_with = "lenient::flag")]
    pub dovi_present: bool,
    #[serde(rename = "DOVIProfile", deserialize_with = "lenient::u32")]
    pub dovi_profile: Option<u32>,
}

/// A named tag: genre, director, cast member or collection.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(default)]
pub struct Tag {
    #[serde(deserialize_with = "lenient::string")]
    pub tag: Option<String>,
    /// The character a cast member plays.
    pub role: Option<String>,
}

/// An external id of an item.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(default)]
pub struct Guid {
    pub id: Option<String>,
}

/// A piece of artwork with its purpose.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(default)]
pub struct Image {
    /// `coverPoster`, `background`, `clearLogo`, `snapshot` or `banner`.
    #[serde(rename = "type")]
    pub kind: Option<String>,
    #[serde(deserialize_with = "lenient::string")]
    pub url: Option<String>,
    pub alt: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(default)]
pub struct SessionUser {
    #[serde(deserialize_with = "lenient::string")]
    pub id: Option<String>,
    /// The account's display name.
    pub title: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct Player {
    /// The device name its owner chose.
    pub title: Option<String>,
    /// The app, such as `Plex for Android (TV)`.
    pub product: Option<String>,
    pub platform: Option<String>,
    /// `playing`, `paused` or `buffering`.
    pub state: Option<String>,
    pub machine_identifier: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(default)]
pub struct Session {
    #[serde(deserialize_with = "lenient::string")]
    pub id: Option<String>,
    /// `lan` or `wan`.
    pub location: Option<String>,
}
