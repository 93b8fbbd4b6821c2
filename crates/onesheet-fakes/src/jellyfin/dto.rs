//! Items as `BaseItemDto` JSON (Jellyfin 10.11 OpenAPI schema, PascalCase, nulls omitted as
//! both servers omit them).
//!
//! Like the real servers, most descriptive fields appear only when the request names them in
//! `Fields` (`Overview`, `Genres`, `People`, `ProviderIds`, `MediaStreams`,
//! `PrimaryImageAspectRatio`…). Names, dates, ratings, image tags and series links always appear.

use std::collections::HashSet;

use serde_json::{Map, Value, json};

use crate::library::{
    AudioFormat, DynamicRange, ImageState, Item, ItemKind, Library, MediaInfo, PersonKind,
    Resolution,
};

use super::JellyfinState;
use super::ids::ItemRef;
use super::query::Params;

/// Jellyfin's run-time unit: 100 ns ticks.
const TICKS_PER_SECOND: u64 = 10_000_000;

/// Name of the field added to every object when unknown fields are on.
const UNKNOWN_FIELD: &str = "FieldFromNewerServer";

/// Output options of a request.
#[derive(Debug, Clone)]
pub(super) struct DtoOptions {
    /// Lower-cased `Fields` values.
    fields: HashSet<String>,
    /// Lower-cased `EnableImageTypes` values; `None` includes every type.
    image_types: Option<HashSet<String>>,
    /// Maximum tags per image type (`ImageTypeLimit`), which limits `BackdropImageTags`.
    image_type_limit: Option<usize>,
    enable_images: bool,
    user_data: bool,
}

impl DtoOptions {
    pub(super) fn from_params(params: &Params, user_context: bool) -> DtoOptions {
        let lower = |values: Vec<String>| -> HashSet<String> {
            values
                .into_iter()
                .map(|value| value.to_ascii_lowercase())
                .collect()
        };
        let image_types = params.list("EnableImageTypes");
        DtoOptions {
            fields: lower(params.list("Fields")),
            image_types: (!image_types.is_empty()).then(|| lower(image_types)),
            image_type_limit: params
                .number("ImageTypeLimit")
                .and_then(|limit| usize::try_from(limit).ok()),
            enable_images: params.flag("EnableImages").unwrap_or(true),
            user_data: params.flag("EnableUserData").unwrap_or(user_context),
        }
    }

    /// Returns options with every field, as the single-item endpoints send.
    pub(super) fn all_fields(user_context: bool) -> DtoOptions {
        let fields = [
            "overview",
            "taglines",
            "genres",
            "studios",
            "people",
            "providerids",
            "originaltitle",
            "sortname",
            "datecreated",
            "path",
            "parentid",
            "primaryimageaspectratio",
            "mediastreams",
            "mediasources",
            "width",
            "height",
            "productionlocations",
            "tags",
            "childcount",
            "recursiveitemcount",
            "externalurls",
            "etag",
            "remotetrailers",
        ];
        DtoOptions {
            fields: fields.iter().map(|field| (*field).to_owned()).collect(),
            image_types: None,
            image_type_limit: None,
            enable_images: true,
            user_data: user_context,
        }
    }

    fn has(&self, field: &str) -> bool {
        self.fields.contains(&field.to_ascii_lowercase())
    }

    fn image_type_enabled(&self, image_type: &str) -> bool {
        self.enable_images
            && self
                .image_types
                .as_ref()
                .is_none_or(|types| types.contains(&image_type.to_ascii_lowercase()))
    }
}

/// A JSON object under construction that leaves out absent values.
struct Dto(Map<String, Value>);

impl Dto {
    fn new() -> Dto {
        Dto(Map::new())
    }

    fn set(&mut self, name: &str, value: impl Into<Value>) {
        self.0.insert(name.to_owned(), value.into());
    }

    fn set_opt<T: Into<Value>>(&mut self, name: &str, value: Option<T>) {
        if let Some(value) = value {
            self.set(name, value);
        }
    }

    fn finish(mut self, unknown_fields: bool) -> Value {
        if unknown_fields {
            self.set(UNKNOWN_FIELD, json!({"Nested": [1, 2], "Flag": true}));
        }
        Value::Object(self.0)
    }
}

/// `YYYY-MM-DD` as Jellyfin writes dates: `2001-04-25T00:00:00.0000000Z`.
fn date_time(date: &str) -> String {
    format!("{date}T00:00:00.0000000Z")
}

/// Seconds since the Unix epoch as Jellyfin writes them.
pub(super) fn unix_date_time(seconds: i64) -> String {
    let days = seconds.div_euclid(86_400);
    let second_of_day = seconds.rem_euclid(86_400);
    let (year, month, day) = civil_from_days(days);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}.0000000Z",
        second_of_day / 3600,
        (second_of_day / 60) % 60,
        second_of_day % 60
    )
}

/// Proleptic Gregorian date of a day count since 1970-01-01 (Howard Hinnant's algorithm).
fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let day_of_era = z.rem_euclid(146_097);
    let year_of_era =
        (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let month_index = (5 * day_of_year + 2) / 153;
    let day = day_of_year - (153 * month_index + 2) / 5 + 1;
    let month = if month_index < 10 {
        month_index + 3
    } else {
        month_index - 9
    };
    let year = year_of_era + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

fn ticks(minutes: u32) -> u64 {
    u64::from(minutes) * 60 * TICKS_PER_SECOND
}

fn media_type(kind: ItemKind) -> &'static str {
    match kind {
        ItemKind::Movie | ItemKind::Episode => "Video",
        ItemKind::Photo => "Photo",
        _ => "Unknown",
    }
}

fn file_path(library: &Library, item: &Item) -> String {
    let folder = library.name().to_lowercase().replace(' ', "-");
    match item.year {
        Some(year) => format!("/media/{folder}/{0} ({year})/{0} ({year}).mkv", item.title),
        None => format!("/media/{folder}/{0}/{0}.mkv", item.title),
    }
}

/// Renders one item as `BaseItemDto`.
pub(super) fn item(state: &JellyfinState, item_ref: ItemRef, options: &DtoOptions) -> Value {
    let library = &state.libraries[item_ref.library];
    let item = &library.items()[item_ref.position];
    let ids = &state.ids;
    let id = ids.key_id(item.key);
    let mut dto = Dto::new();

    dto.set("Name", item.title.clone());
    dto.set("ServerId", state.identity.server_id.clone());
    dto.set("Id", id.clone());
    dto.set("Type", item.kind.jellyfin_type());
    dto.set("IsFolder", item.kind.is_folder());
    dto.set("LocationType", "FileSystem");
    dto.set("MediaType", media_type(item.kind));
    dto.set_opt("PremiereDate", item.premiere_date.as_deref().map(date_time));
    dto.set_opt("ProductionYear", item.year);
    dto.set_opt("OfficialRating", item.official_rating.clone());
    dto.set_opt("CommunityRating", item.community_rating);
    dto.set_opt("CriticRating", item.critic_rating);
    dto.set_opt("RunTimeTicks", item.runtime_minutes.map(ticks));
    dto.set_opt("IndexNumber", item.index_number);
    if let Some(media) = &item.media {
        dto.set("Container", media.container);
        dto.set("VideoType", "VideoFile");
        dto.set("HasSubtitles", true);
        dto.set("IsHD", media.resolution != Resolution::Sd);
    }

    add_relations(state, library, item, &mut dto);
    add_images(state, item, options, &mut dto);
    add_requested_fields(state, library, item_ref, options, &mut dto);

    if options.user_data {
        dto.set(
            "UserData",
            json!({
                "PlaybackPositionTicks": 0,
                "PlayCount": 0,
                "IsFavorite": false,
                "Played": false,
                "Key": item.key.to_string(),
                "ItemId": id,
            }),
        );
    }
    dto.finish(state.unknown_fields)
}

/// Series, season, album and artist links, which both servers always send.
fn add_relations(state: &JellyfinState, library: &Library, item: &Item, dto: &mut Dto) {
    let ids = &state.ids;
    let items = library.items();
    match item.kind {
        ItemKind::Season => {
            if let Some(series) = item.parent.map(|position| &items[position]) {
                add_series_links(state, series, dto);
            }
        }
        ItemKind::Episode => {
            if let Some(season) = item.parent.map(|position| &items[position]) {
                dto.set("SeasonId", ids.key_id(season.key));
                dto.set("SeasonName", season.title.clone());
                dto.set_opt("ParentIndexNumber", season.index_number);
            }
            if let Some(series) = item.grandparent.map(|position| &items[position]) {
                add_series_links(state, series, dto);
            }
        }
        ItemKind::MusicAlbum => {
            if let Some(artist) = item.parent.map(|position| &items[position]) {
                let pair = name_pair(state, &artist.title, ids.key_id(artist.key));
                dto.set("AlbumArtist", artist.title.clone());
                dto.set("AlbumArtists", vec![pair.clone()]);
                dto.set("Artists", vec![artist.title.clone()]);
                dto.set("ArtistItems", vec![pair]);
            }
        }
        _ => {}
    }
}

/// Adds the fields through which a season or episode points at its series and its artwork.
fn add_series_links(state: &JellyfinState, series: &Item, dto: &mut Dto) {
    let ids = &state.ids;
    let series_id = ids.key_id(series.key);
    dto.set("SeriesName", series.title.clone());
    dto.set("SeriesId", series_id.clone());
    if series.images.primary.is_tagged() {
        dto.set(
            "SeriesPrimaryImageTag",
            ids.image_tag(series.key, "Primary", series.updated_at),
        );
    }
    if series.images.backdrops > 0 {
        dto.set("ParentBackdropItemId", series_id.clone());
        dto.set(
            "ParentBackdropImageTags",
            backdrop_tags(state, series, None),
        );
    }
    if series.images.logo.is_tagged() {
        dto.set("ParentLogoItemId", series_id);
        dto.set(
            "ParentLogoImageTag",
            ids.image_tag(series.key, "Logo", series.updated_at),
        );
    }
}

fn backdrop_tags(state: &JellyfinState, item: &Item, limit: Option<usize>) -> Vec<String> {
    let count = usize::from(item.images.backdrops).min(limit.unwrap_or(usize::MAX));
    (0..count)
        .map(|index| {
            state
                .ids
                .image_tag(item.key, &format!("Backdrop{index}"), item.updated_at)
        })
        .collect()
}

fn add_images(state: &JellyfinState, item: &Item, options: &DtoOptions, dto: &mut Dto) {
    if !options.enable_images {
        return;
    }
    let ids = &state.ids;
    let mut tags = Map::new();
    if options.image_type_enabled("Primary") && item.images.primary == ImageState::Tagged {
        tags.insert(
            "Primary".to_owned(),
            ids.image_tag(item.key, "Primary", item.updated_at).into(),
        );
    }
    if options.image_type_enabled("Logo") && item.images.logo == ImageState::Tagged {
        tags.insert(
            "Logo".to_owned(),
            ids.image_tag(item.key, "Logo", item.updated_at).into(),
        );
    }
    // An item whose images are untagged still sends `ImageTags: {}`, which is the case
    // clients must not read as "no image".
    dto.set("ImageTags", Value::Object(tags));

    let backdrops = if options.image_type_enabled("Backdrop") {
        backdrop_tags(state, item, options.image_type_limit)
    } else {
        Vec::new()
    };
    dto.set("BackdropImageTags", backdrops);
}

fn add_requested_fields(
    state: &JellyfinState,
    library: &Library,
    item_ref: ItemRef,
    options: &DtoOptions,
    dto: &mut Dto,
) {
    let item = &library.items()[item_ref.position];
    let ids = &state.ids;

    if options.has("Overview") {
        dto.set_opt("Overview", item.overview.clone());
    }
    if options.has("Taglines") {
        dto.set("Taglines", item.tagline.iter().cloned().collect::<Vec<_>>());
    }
    if options.has("OriginalTitle") {
        dto.set_opt("OriginalTitle", item.original_title.clone());
    }
    if options.has("SortName") {
        dto.set("SortName", item.sort_title.to_lowercase());
    }
    if options.has("DateCreated") {
        dto.set("DateCreated", unix_date_time(item.added_at));
    }
    if options.has("Etag") {
        dto.set("Etag", ids.image_tag(item.key, "Etag", item.updated_at));
    }
    if options.has("Path") && item.media.is_some() {
        dto.set("Path", file_path(library, item));
    }
    if options.has("ParentId") {
        let parent = match item.parent {
            Some(position) => ids.key_id(library.items()[position].key),
            None => ids.library_id(item_ref.library),
        };
        dto.set("ParentId", parent);
    }
    if options.has("Genres") {
        dto.set("Genres", item.genres.clone());
        let pairs: Vec<Value> = item
            .genres
            .iter()
            .map(|genre| name_pair(state, genre, ids.name_id("Genre", genre)))
            .collect();
        dto.set("GenreItems", pairs);
    }
    if options.has("Studios") {
        let pairs: Vec<Value> = item
            .studios
            .iter()
            .map(|studio| name_pair(state, studio, ids.name_id("Studio", studio)))
            .collect();
        dto.set("Studios", pairs);
    }
    if options.has("ProductionLocations") {
        dto.set("ProductionLocations", item.countries.clone());
    }
    if options.has("Tags") {
        dto.set("Tags", Vec::<String>::new());
    }
    if options.has("People") {
        dto.set("People", people(state, item));
    }
    if options.has("ProviderIds") {
        dto.set("ProviderIds", provider_ids(item));
    }
    if options.has("ExternalUrls") {
        let urls: Vec<Value> = item
            .provider_ids
            .imdb
            .iter()
            .map(
                |imdb| json!({"Name": "IMDb", "Url": format!("https://www.imdb.com/title/{imdb}")}),
            )
            .collect();
        dto.set("ExternalUrls", urls);
    }
    if options.has("RemoteTrailers") {
        dto.set("RemoteTrailers", Vec::<Value>::new());
    }
    if options.has("PrimaryImageAspectRatio") && item.images.primary.exists() {
        dto.set(
            "PrimaryImageAspectRatio",
            item.images.primary_shape.aspect_ratio(),
        );
    }
    if options.has("ChildCount") && item.kind.is_folder() {
        dto.set("ChildCount", library.children_of(item_ref.position).len());
    }
    if options.has("RecursiveItemCount") && item.kind.is_folder() {
        let recursive: usize = library
            .children_of(item_ref.position)
            .iter()
            .map(|child| 1 + library.children_of(*child).len())
            .sum();
        dto.set("RecursiveItemCount", recursive);
    }
    if let Some(media) = &item.media {
        let (width, height) = media.resolution.dimensions();
        if options.has("Width") {
            dto.set("Width", width);
        }
        if options.has("Height") {
            dto.set("Height", height);
        }
        if options.has("MediaStreams") {
            dto.set("MediaStreams", media_streams(state, media));
        }
        if options.has("MediaSources") {
            dto.set(
                "MediaSources",
                vec![media_source(state, library, item, media)],
            );
        }
    }
}

fn name_pair(state: &JellyfinState, name: &str, id: String) -> Value {
    let mut pair = Dto::new();
    pair.set("Name", name);
    pair.set("Id", id);
    pair.finish(state.unknown_fields)
}

fn provider_ids(item: &Item) -> Value {
    let ids = &item.provider_ids;
    let musicbrainz = if item.kind == ItemKind::MusicArtist {
        "MusicBrainzArtist"
    } else {
        "MusicBrainzAlbum"
    };
    let mut map = Map::new();
    for (name, value) in [
        ("Imdb", &ids.imdb),
        ("Tmdb", &ids.tmdb),
        ("Tvdb", &ids.tvdb),
        (musicbrainz, &ids.musicbrainz),
    ] {
        if let Some(value) = value {
            map.insert(name.to_owned(), value.clone().into());
        }
    }
    Value::Object(map)
}

fn people(state: &JellyfinState, item: &Item) -> Vec<Value> {
    item.people
        .iter()
        .map(|person| {
            let mut dto = Dto::new();
            dto.set("Name", person.name.clone());
            dto.set("Id", state.ids.name_id("Person", &person.name));
            dto.set_opt("Role", person.role.clone());
            dto.set(
                "Type",
                match person.kind {
                    PersonKind::Actor => "Actor",
                    PersonKind::Director => "Director",
                    PersonKind::Writer => "Writer",
                },
            );
            // Every other person has a photo, as real metadata is patchy.
            if person.number % 2 == 0 {
                dto.set(
                    "PrimaryImageTag",
                    state
                        .ids
                        .image_tag(person.number, "Person", item.updated_at),
                );
            }
            dto.finish(state.unknown_fields)
        })
        .collect()
}

/// Video range fields of Jellyfin's `MediaStream`: `VideoRange`, `VideoRangeType`, the title of
/// the Dolby Vision configuration, and the colour description as ffprobe reports it.
struct RangeFields {
    range: &'static str,
    range_type: &'static str,
    dolby_vision_title: Option<&'static str>,
    transfer: &'static str,
    primaries: &'static str,
    space: &'static str,
}

fn range_fields(range: DynamicRange) -> RangeFields {
    let hdr = |range_type, transfer| RangeFields {
        range: "HDR",
        range_type,
        dolby_vision_title: None,
        transfer,
        primaries: "bt2020",
        space: "bt2020nc",
    };
    match range {
        DynamicRange::Sdr => RangeFields {
            range: "SDR",
            range_type: "SDR",
            dolby_vision_title: None,
            transfer: "bt709",
            primaries: "bt709",
            space: "bt709",
        },
        DynamicRange::Hdr10 => hdr("HDR10", "smpte2084"),
        DynamicRange::Hdr10Plus => hdr("HDR10Plus", "smpte2084"),
        DynamicRange::Hlg => hdr("HLG", "arib-std-b67"),
        DynamicRange::DolbyVision { profile } if range.has_hdr10_base() => RangeFields {
            dolby_vision_title: Some(if profile == 7 {
                "Dolby Vision Profile 7.6 (HDR10)"
            } else {
                "Dolby Vision Profile 8.1 (HDR10)"
            }),
            ..hdr("DOVIWithHDR10", "smpte2084")
        },
        DynamicRange::DolbyVision { .. } => RangeFields {
            dolby_vision_title: Some("Dolby Vision Profile 5"),
            ..hdr("DOVI", "smpte2084")
        },
    }
}

/// Audio profile as ffprobe names it, which Jellyfin shows.
fn audio_profile(audio: AudioFormat) -> Option<&'static str> {
    match audio {
        AudioFormat::TrueHdAtmos => Some("Dolby TrueHD + Dolby Atmos"),
        AudioFormat::Eac3Atmos => Some("Dolby Digital Plus + Dolby Atmos"),
        AudioFormat::DtsHdMa => Some("DTS-HD MA"),
        AudioFormat::Aac => Some("LC"),
        AudioFormat::Ac3 | AudioFormat::Eac3 | AudioFormat::Flac => None,
    }
}

/// Starts a `MediaStream` with the fields every stream carries, whatever its type.
fn stream_base(index: u32, stream_type: &str) -> Dto {
    let mut stream = Dto::new();
    stream.set("Type", stream_type);
    stream.set("Index", index);
    stream.set("IsInterlaced", false);
    stream.set("IsDefault", index <= 1);
    stream.set("IsForced", false);
    stream.set("IsHearingImpaired", false);
    stream.set("IsExternal", false);
    stream.set("IsTextSubtitleStream", stream_type == "Subtitle");
    stream.set("SupportsExternalStream", stream_type == "Subtitle");
    stream.set("VideoRange", "Unknown");
    stream.set("VideoRangeType", "Unknown");
    stream.set("AudioSpatialFormat", "None");
    stream
}

fn media_streams(state: &JellyfinState, media: &MediaInfo) -> Vec<Value> {
    let (width, height) = media.resolution.dimensions();
    let range = range_fields(media.dynamic_range);
    let ten_bit = media.dynamic_range != DynamicRange::Sdr || media.resolution == Resolution::Uhd4k;

    let mut video = stream_base(0, "Video");
    video.set("Codec", media.video_codec);
    video.set("TimeBase", "1/1000");
    video.set("VideoRange", range.range);
    video.set("VideoRangeType", range.range_type);
    video.set("ColorRange", "tv");
    video.set("ColorSpace", range.space);
    video.set("ColorTransfer", range.transfer);
    video.set("ColorPrimaries", range.primaries);
    let dynamic_label = range.dolby_vision_title.unwrap_or(range.range_type);
    video.set(
        "DisplayTitle",
        format!(
            "{} {} {dynamic_label}",
            media.resolution.label(),
            media.video_codec.to_uppercase()
        ),
    );
    if let DynamicRange::DolbyVision { profile } = media.dynamic_range {
        video.set_opt("VideoDoViTitle", range.dolby_vision_title);
        video.set("DvVersionMajor", 1);
        video.set("DvVersionMinor", 0);
        video.set("DvProfile", profile);
        video.set("DvLevel", 6);
        video.set("RpuPresentFlag", 1);
        video.set("ElPresentFlag", i32::from(profile == 7));
        video.set("BlPresentFlag", 1);
        video.set(
            "DvBlSignalCompatibilityId",
            if profile == 5 { 0 } else { 1 },
        );
    }
    if media.dynamic_range == DynamicRange::Hdr10Plus {
        video.set("Hdr10PlusPresentFlag", true);
    }
    video.set("IsAVC", media.video_codec == "h264");
    video.set("BitRate", media.bitrate_kbps.saturating_mul(900));
    video.set("BitDepth", if ten_bit { 10 } else { 8 });
    video.set("RefFrames", 1);
    video.set("Width", width);
    video.set("Height", height);
    video.set("AverageFrameRate", 23.976);
    video.set("RealFrameRate", 23.976);
    video.set("Profile", if ten_bit { "Main 10" } else { "High" });
    video.set("AspectRatio", "16:9");
    video.set(
        "PixelFormat",
        if ten_bit { "yuv420p10le" } else { "yuv420p" },
    );
    video.set("Level", if ten_bit { 153 } else { 41 });

    let mut audio = stream_base(1, "Audio");
    let profile = audio_profile(media.audio);
    audio.set("Codec", media.audio.codec());
    audio.set("Language", "eng");
    audio.set("TimeBase", "1/1000");
    audio.set(
        "AudioSpatialFormat",
        if media.audio.is_atmos() {
            "DolbyAtmos"
        } else {
            "None"
        },
    );
    audio.set("LocalizedDefault", "Default");
    audio.set(
        "DisplayTitle",
        format!(
            "English - {} - {} - Default",
            profile.unwrap_or(&media.audio.codec().to_uppercase()),
            media.channel_layout()
        ),
    );
    audio.set("ChannelLayout", media.channel_layout());
    audio.set("BitRate", media.bitrate_kbps.saturating_mul(100));
    audio.set("Channels", media.channels);
    audio.set("SampleRate", 48_000);
    audio.set_opt("Profile", profile);
    audio.set("Level", 0);

    let mut subtitle = stream_base(2, "Subtitle");
    subtitle.set("Codec", "subrip");
    subtitle.set("Language", "fre");
    subtitle.set("DisplayTitle", "French - SUBRIP");
    subtitle.set("LocalizedExternal", "External");

    [video, audio, subtitle]
        .into_iter()
        .map(|stream| stream.finish(state.unknown_fields))
        .collect()
}

fn media_source(state: &JellyfinState, library: &Library, item: &Item, media: &MediaInfo) -> Value {
    let mut source = Dto::new();
    source.set("Protocol", "File");
    source.set("Id", state.ids.key_id(item.key));
    source.set("Path", file_path(library, item));
    source.set("Type", "Default");
    source.set("Container", media.container);
    source.set("Size", media.size_bytes);
    source.set("Name", item.title.clone());
    source.set("IsRemote", false);
    source.set_opt("RunTimeTicks", item.runtime_minutes.map(ticks));

    for flag in [
        "ReadAtNativeFramerate",
        "IgnoreDts",
        "IgnoreIndex",
        "GenPtsInput",
        "IsInfiniteStream",
        "UseMostCompatibleTranscodingProfile",
        "RequiresOpening",
        "RequiresClosing",
        "RequiresLooping",
        "HasSegments",
    ] {
        source.set(flag, false);
    }
    for flag in [
        "SupportsTranscoding",
        "SupportsDirectStream",
        "SupportsDirectPlay",
        "SupportsProbing",
    ] {
        source.set(flag, true);
    }

    source.set("VideoType", "VideoFile");
    source.set("MediaStreams", media_streams(state, media));
    source.set("MediaAttachments", Vec::<Value>::new());
    source.set("Formats", Vec::<Value>::new());
    source.set("Bitrate", media.bitrate_kbps.saturating_mul(1000));
    source.set("TranscodingSubProtocol", "http");
    source.set("DefaultAudioStreamIndex", 1);
    source.finish(state.unknown_fields)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unix_date_time_matches_known_dates() {
        assert_eq!(unix_date_time(0), "1970-01-01T00:00:00.0000000Z");
        assert_eq!(
            unix_date_time(1_600_000_000),
            "2020-09-13T12:26:40.0000000Z"
        );
        assert_eq!(unix_date_time(951_782_400), "2000-02-29T00:00:00.0000000Z");
    }
}
