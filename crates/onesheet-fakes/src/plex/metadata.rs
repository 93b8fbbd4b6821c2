//! Items as Plex `Metadata` objects, with `Media`, `Part`, `Stream`, tag arrays and `Image`.
//!
//! Artwork paths carry the item's update time as Plex does
//! (`/library/metadata/123/thumb/1700000000`). An image whose state is
//! [`ImageState::Untagged`] is served but left out of the metadata. An episode without a still
//! keeps `parentThumb` and `grandparentThumb`, which clients fall back to.

use serde_json::{Map, Value, json};

use crate::hash::hash;
use crate::library::{
    AudioFormat, DynamicRange, ImageState, Item, ItemKind, Library, MediaInfo, PersonKind,
    Resolution,
};

use super::PlexState;

/// Attribute added to every object when unknown fields are on.
const UNKNOWN_ATTRIBUTE: &str = "attributeFromNewerServer";

/// Parts to include for one item.
#[derive(Debug, Clone, Copy)]
pub(super) struct RenderOptions {
    /// Include `Part.Stream`.
    pub(super) streams: bool,
    /// Include the `Guid` array (Plex sends it only with `includeGuids=1`, or in details).
    pub(super) guids: bool,
    /// Full tag objects (`id`, `filter`, `tag`) and every role, as details have. Listings carry
    /// only `tag` and at most three roles.
    pub(super) detail: bool,
}

/// A JSON object under construction that leaves out absent values.
pub(super) struct Object(Map<String, Value>);

impl Object {
    pub(super) fn new() -> Object {
        Object(Map::new())
    }

    pub(super) fn set(&mut self, name: &str, value: impl Into<Value>) {
        self.0.insert(name.to_owned(), value.into());
    }

    pub(super) fn set_opt<T: Into<Value>>(&mut self, name: &str, value: Option<T>) {
        if let Some(value) = value {
            self.set(name, value);
        }
    }

    pub(super) fn finish(mut self, unknown_fields: bool) -> Value {
        if unknown_fields {
            self.set(UNKNOWN_ATTRIBUTE, "1");
        }
        Value::Object(self.0)
    }
}

/// Path of an item's artwork of `kind` (`thumb`, `art`, `clearLogo`, `theme`).
fn art_path(item: &Item, kind: &str) -> String {
    format!("/library/metadata/{}/{kind}/{}", item.key, item.updated_at)
}

fn thumb_if_tagged(item: &Item) -> Option<String> {
    (item.images.primary == ImageState::Tagged).then(|| art_path(item, "thumb"))
}

fn art_if_present(item: &Item) -> Option<String> {
    (item.images.backdrops > 0).then(|| art_path(item, "art"))
}

/// Plex's own guid for an item (`plex://movie/5d776…`), 24 hex digits like its ids.
fn plex_guid(item: &Item) -> String {
    let value = hash(item.canonical, u64::from(item.kind.plex_type_number()));
    format!(
        "plex://{}/{:024x}",
        item.kind.plex_type(),
        u128::from(value) << 32 | u128::from(item.key as u32)
    )
}

/// Renders the item at `position` of library `library_index`.
pub(super) fn metadata(
    state: &PlexState,
    library_index: usize,
    position: usize,
    options: RenderOptions,
) -> Value {
    let library = &state.libraries[library_index];
    let item = &library.items()[position];
    let mut object = Object::new();

    object.set("ratingKey", item.key.to_string());
    let key = if item.kind.is_folder() {
        format!("/library/metadata/{}/children", item.key)
    } else {
        format!("/library/metadata/{}", item.key)
    };
    object.set("key", key);
    object.set("guid", plex_guid(item));
    object.set("type", item.kind.plex_type());
    object.set("title", item.title.clone());
    if item.sort_title != item.title {
        object.set("titleSort", item.sort_title.clone());
    }
    object.set_opt("originalTitle", item.original_title.clone());
    object.set("summary", item.overview.clone().unwrap_or_default());
    object.set_opt("tagline", item.tagline.clone());
    object.set_opt("studio", item.studios.first().cloned());
    object.set_opt("contentRating", item.official_rating.clone());
    if let Some(critic) = item.critic_rating {
        // Critic scores run 0 to 100; Plex's `rating` runs 0 to 10 with one decimal.
        object.set("rating", critic.round() / 10.0);
        object.set("ratingImage", "rottentomatoes://image.rating.ripe");
    }
    if let Some(audience) = item.community_rating {
        object.set("audienceRating", audience);
        object.set(
            "audienceRatingImage",
            "rottentomatoes://image.rating.upright",
        );
    }
    object.set_opt("year", item.year);
    object.set_opt("index", item.index_number);
    object.set_opt("originallyAvailableAt", item.premiere_date.clone());
    object.set_opt(
        "duration",
        item.runtime_minutes
            .map(|minutes| u64::from(minutes) * 60_000),
    );
    object.set_opt("thumb", thumb_if_tagged(item));
    object.set_opt("art", art_if_present(item));
    object.set("addedAt", item.added_at);
    object.set("updatedAt", item.updated_at);
    object.set("librarySectionID", library_index + 1);
    object.set("librarySectionTitle", library.name());
    object.set(
        "librarySectionKey",
        format!("/library/sections/{}", library_index + 1),
    );

    add_hierarchy(library, item, position, &mut object);
    if let Some(media) = &item.media {
        object.set(
            "Media",
            vec![media_entry(state, item, media, options.streams)],
        );
    }
    add_tags(state, item, options, &mut object);
    let images = images(item);
    if !images.is_empty() {
        object.set("Image", images);
    }
    if options.guids {
        object.set("Guid", guids(item));
    }
    object.finish(state.unknown_fields)
}

/// Parent and grandparent links, child counts and the series' artwork on seasons and episodes.
fn add_hierarchy(library: &Library, item: &Item, position: usize, object: &mut Object) {
    let items = library.items();
    let children = library.children_of(position);
    match item.kind {
        ItemKind::Series => {
            let episodes: usize = children
                .iter()
                .map(|season| library.children_of(*season).len())
                .sum();
            object.set("childCount", children.len());
            object.set("leafCount", episodes);
            object.set("viewedLeafCount", 0);
            object.set("theme", art_path(item, "theme"));
        }
        ItemKind::Season => {
            object.set("leafCount", children.len());
            object.set("viewedLeafCount", 0);
            if let Some(series) = item.parent.map(|parent| &items[parent]) {
                set_parent(object, "parent", series);
                // Seasons show the series' background.
                object.set_opt("art", art_if_present(series));
            }
        }
        ItemKind::Episode => {
            if let Some(season) = item.parent.map(|parent| &items[parent]) {
                set_parent(object, "parent", season);
                object.set_opt("parentIndex", season.index_number);
            }
            if let Some(series) = item.grandparent.map(|grandparent| &items[grandparent]) {
                set_parent(object, "grandparent", series);
                object.set_opt("grandparentArt", art_if_present(series));
                object.set("grandparentTheme", art_path(series, "theme"));
                object.set_opt("art", art_if_present(series));
                object.set_opt("contentRating", series.official_rating.clone());
            }
        }
        ItemKind::MusicArtist => {
            object.set("childCount", children.len());
        }
        ItemKind::MusicAlbum => {
            object.set("leafCount", 10);
            if let Some(artist) = item.parent.map(|parent| &items[parent]) {
                set_parent(object, "parent", artist);
            }
        }
        ItemKind::Movie | ItemKind::Photo => {}
    }
}

/// Sets `{prefix}RatingKey`, `{prefix}Key`, `{prefix}Title` and `{prefix}Thumb`.
fn set_parent(object: &mut Object, prefix: &str, parent: &Item) {
    object.set(&format!("{prefix}RatingKey"), parent.key.to_string());
    object.set(
        &format!("{prefix}Key"),
        format!("/library/metadata/{}", parent.key),
    );
    object.set(&format!("{prefix}Title"), parent.title.clone());
    object.set(&format!("{prefix}Guid"), plex_guid(parent));
    object.set_opt(&format!("{prefix}Thumb"), thumb_if_tagged(parent));
}

fn add_tags(state: &PlexState, item: &Item, options: RenderOptions, object: &mut Object) {
    let tag = |kind: u64, name: &str, role: Option<&str>| -> Value {
        let mut tag = Object::new();
        if options.detail {
            let id = hash(crate::hash::hash_str(name), kind) % 100_000;
            tag.set("id", id);
            tag.set("filter", format!("{}={id}", tag_filter_name(kind)));
        }
        tag.set("tag", name);
        tag.set_opt("role", role);
        tag.finish(state.unknown_fields)
    };

    if !item.genres.is_empty() {
        let genres: Vec<Value> = item.genres.iter().map(|name| tag(1, name, None)).collect();
        object.set("Genre", genres);
    }
    if !item.countries.is_empty() {
        let countries: Vec<Value> = item
            .countries
            .iter()
            .map(|name| tag(8, name, None))
            .collect();
        object.set("Country", countries);
    }
    let people = |kind: PersonKind| item.people.iter().filter(move |person| person.kind == kind);
    let directors: Vec<Value> = people(PersonKind::Director)
        .map(|person| tag(4, &person.name, None))
        .collect();
    let writers: Vec<Value> = people(PersonKind::Writer)
        .map(|person| tag(5, &person.name, None))
        .collect();
    let role_limit = if options.detail { usize::MAX } else { 3 };
    let roles: Vec<Value> = people(PersonKind::Actor)
        .take(role_limit)
        .map(|person| tag(6, &person.name, person.role.as_deref()))
        .collect();
    for (name, tags) in [
        ("Director", directors),
        ("Writer", writers),
        ("Role", roles),
    ] {
        if !tags.is_empty() {
            object.set(name, tags);
        }
    }
}

fn tag_filter_name(kind: u64) -> &'static str {
    match kind {
        1 => "genre",
        4 => "director",
        5 => "writer",
        6 => "actor",
        _ => "country",
    }
}

/// Builds the `Image` array of newer servers: poster, background and clear logo.
fn images(item: &Item) -> Vec<Value> {
    let mut images = Vec::new();
    if let Some(thumb) = thumb_if_tagged(item) {
        images.push(json!({"alt": item.title, "type": "coverPoster", "url": thumb}));
    }
    if let Some(art) = art_if_present(item) {
        images.push(json!({"alt": item.title, "type": "background", "url": art}));
    }
    if item.images.logo == ImageState::Tagged {
        images.push(
            json!({"alt": item.title, "type": "clearLogo", "url": art_path(item, "clearLogo")}),
        );
    }
    images
}

/// External ids as Plex writes them: `imdb://tt…`, `tmdb://…`, `tvdb://…`, `mbid://…`.
fn guids(item: &Item) -> Vec<Value> {
    let ids = &item.provider_ids;
    [
        ("imdb", &ids.imdb),
        ("tmdb", &ids.tmdb),
        ("tvdb", &ids.tvdb),
        ("mbid", &ids.musicbrainz),
    ]
    .into_iter()
    .filter_map(|(scheme, value)| {
        value
            .as_ref()
            .map(|value| json!({"id": format!("{scheme}://{value}")}))
    })
    .collect()
}

fn video_profile(media: &MediaInfo) -> &'static str {
    if media.video_codec == "hevc" {
        "main 10"
    } else {
        "high"
    }
}

fn media_entry(state: &PlexState, item: &Item, media: &MediaInfo, streams: bool) -> Value {
    let (width, height) = media.resolution.dimensions();
    let duration = item
        .runtime_minutes
        .map(|minutes| u64::from(minutes) * 60_000);
    let base_id = item.key * 100;

    let mut part = Object::new();
    part.set("id", base_id + 1);
    part.set(
        "key",
        format!(
            "/library/parts/{}/{}/file.{}",
            base_id + 1,
            item.updated_at,
            media.container
        ),
    );
    part.set_opt("duration", duration);
    part.set(
        "file",
        format!("/data/media/{0}/{0}.{1}", item.title, media.container),
    );
    part.set("size", media.size_bytes);
    part.set("container", media.container);
    part.set("videoProfile", video_profile(media));
    part.set_opt("audioProfile", audio_profile(media.audio));
    if streams {
        part.set("Stream", media_streams(state, item, media));
    }

    let mut entry = Object::new();
    entry.set("id", base_id);
    entry.set_opt("duration", duration);
    entry.set("bitrate", media.bitrate_kbps);
    entry.set("width", width);
    entry.set("height", height);
    entry.set("aspectRatio", 1.78);
    entry.set("audioChannels", media.channels);
    entry.set("audioCodec", media.audio.codec());
    entry.set("videoCodec", media.video_codec);
    entry.set("videoResolution", media.resolution.plex_name());
    entry.set("container", media.container);
    entry.set("videoFrameRate", "24p");
    entry.set("videoProfile", video_profile(media));
    entry.set_opt("audioProfile", audio_profile(media.audio));
    entry.set("Part", vec![part.finish(state.unknown_fields)]);
    entry.finish(state.unknown_fields)
}

/// Plex's `audioProfile` (`ma` for DTS-HD MA, `lc` for AAC-LC).
fn audio_profile(audio: AudioFormat) -> Option<&'static str> {
    match audio {
        AudioFormat::DtsHdMa => Some("ma"),
        AudioFormat::Aac => Some("lc"),
        _ => None,
    }
}

/// Audio codec as Plex writes it in display titles.
fn audio_label(audio: AudioFormat) -> &'static str {
    match audio {
        AudioFormat::Aac => "AAC",
        AudioFormat::Ac3 => "AC3",
        AudioFormat::Eac3 => "EAC3",
        // NOTE: servers differ in how they print Atmos. Recent ones name it in the display
        // titles, but older ones print only TrueHD or EAC3.
        AudioFormat::Eac3Atmos => "EAC3 Atmos",
        AudioFormat::TrueHdAtmos => "TrueHD Atmos",
        AudioFormat::DtsHdMa => "DTS-HD MA",
        AudioFormat::Flac => "FLAC",
    }
}

fn media_streams(state: &PlexState, item: &Item, media: &MediaInfo) -> Vec<Value> {
    let (width, height) = media.resolution.dimensions();
    let base_id = item.key * 100;
    let ten_bit = media.video_codec == "hevc";
    let codec_label = if ten_bit { "HEVC Main 10" } else { "H.264" };
    let (primaries, space, transfer) = match media.dynamic_range {
        DynamicRange::Sdr => ("bt709", "bt709", "bt709"),
        DynamicRange::Hlg => ("bt2020", "bt2020nc", "arib-std-b67"),
        _ => ("bt2020", "bt2020nc", "smpte2084"),
    };
    let range_label = match media.dynamic_range {
        DynamicRange::Sdr => None,
        DynamicRange::Hdr10 => Some("HDR10"),
        DynamicRange::Hdr10Plus => Some("HDR10+"),
        DynamicRange::Hlg => Some("HLG"),
        DynamicRange::DolbyVision { .. } if media.dynamic_range.has_hdr10_base() => {
            Some("DoVi/HDR10")
        }
        DynamicRange::DolbyVision { .. } => Some("DoVi"),
    };
    let resolution_label = match media.resolution {
        Resolution::Uhd4k => "4K",
        Resolution::Hd1080 => "1080p",
        Resolution::Hd720 => "720p",
        Resolution::Sd => "SD",
    };
    let video_title = match range_label {
        Some(range) => format!("{resolution_label} {range} ({codec_label})"),
        None => format!("{resolution_label} ({codec_label})"),
    };

    let mut video = Object::new();
    video.set("id", base_id + 2);
    video.set("streamType", 1);
    video.set("default", true);
    video.set("codec", media.video_codec);
    video.set("index", 0);
    video.set("bitrate", media.bitrate_kbps.saturating_mul(9) / 10);
    video.set("bitDepth", if ten_bit { 10 } else { 8 });
    video.set("chromaLocation", "topleft");
    video.set("chromaSubsampling", "4:2:0");
    video.set("codedHeight", height);
    video.set("codedWidth", width);
    video.set("colorPrimaries", primaries);
    video.set("colorRange", "tv");
    video.set("colorSpace", space);
    video.set("colorTrc", transfer);
    video.set("frameRate", 23.976);
    video.set("height", height);
    video.set("width", width);
    video.set("level", if ten_bit { 153 } else { 41 });
    video.set("profile", video_profile(media));
    video.set("refFrames", 1);
    video.set("scanType", "progressive");
    video.set("streamIdentifier", "1");
    if let DynamicRange::DolbyVision { profile } = media.dynamic_range {
        video.set("DOVIBLCompatID", if profile == 5 { 0 } else { 1 });
        video.set("DOVIBLPresent", true);
        video.set("DOVIELPresent", profile == 7);
        video.set("DOVILevel", 6);
        video.set("DOVIPresent", true);
        video.set("DOVIProfile", profile);
        video.set("DOVIRPUPresent", true);
        video.set("DOVIVersion", "1.0");
    }
    video.set("displayTitle", video_title.clone());
    video.set("extendedDisplayTitle", video_title);

    let audio_title = format!(
        "English ({} {})",
        audio_label(media.audio),
        media.channel_layout()
    );
    let mut audio = Object::new();
    audio.set("id", base_id + 3);
    audio.set("streamType", 2);
    audio.set("selected", true);
    audio.set("default", true);
    audio.set("codec", media.audio.codec());
    audio.set("index", 1);
    audio.set("channels", media.channels);
    audio.set("bitrate", media.bitrate_kbps / 10);
    audio.set("language", "English");
    audio.set("languageTag", "en");
    audio.set("languageCode", "eng");
    audio.set(
        "audioChannelLayout",
        format!("{}(side)", media.channel_layout()),
    );
    audio.set("samplingRate", 48_000);
    audio.set_opt("profile", audio_profile(media.audio));
    audio.set("streamIdentifier", "2");
    audio.set("displayTitle", audio_title.clone());
    audio.set("extendedDisplayTitle", audio_title);

    let mut subtitle = Object::new();
    subtitle.set("id", base_id + 4);
    subtitle.set("streamType", 3);
    subtitle.set("codec", "srt");
    subtitle.set("index", 2);
    subtitle.set("language", "Français");
    subtitle.set("languageTag", "fr");
    subtitle.set("languageCode", "fra");
    subtitle.set("displayTitle", "Français (SRT)");
    subtitle.set("extendedDisplayTitle", "Français (SRT)");

    [video, audio, subtitle]
        .into_iter()
        .map(|stream| stream.finish(state.unknown_fields))
        .collect()
}
