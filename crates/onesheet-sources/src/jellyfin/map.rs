//! Jellyfin and Emby items to catalog items and selectable collections.
//!
//! Text from the server is bounded here, because one hostile or broken server must not be able
//! to put megabytes into every playlist response: titles and names are cut to
//! [`MAX_TITLE_CHARS`], overviews to [`MAX_TEXT_CHARS`], and each list to [`MAX_LIST_ENTRIES`].
//! Items leave with `id` and `source` unset; the source calls
//! [`MediaItem::assign_identity`] once it has them all.

use std::fmt;

use onesheet_domain::{ExternalLinks, MediaItem, MediaKind, Ratings};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;
use tracing::debug;

pub use crate::mapping::{
    MAX_LIST_ENTRIES, MAX_TEXT_CHARS, MAX_TITLE_CHARS, MapContext, MediaSet, SetKind,
};
pub(super) use crate::mapping::{bounded, short_text};

use super::Flavour;
use super::art::{item_images, valid_id};
use super::badges::best_badges;
use super::model::{BaseItemDto, ItemsPage};

/// Ticks (100 ns) per millisecond, the unit of `RunTimeTicks` and `PositionTicks`.
pub(super) const TICKS_PER_MS: i64 = 10_000;

/// Reason an item did not become a catalog item, written to the debug log.
#[derive(Debug)]
enum Skip {
    InvalidId,
    MissingTitle,
    Collection,
    UnsupportedType(String),
    NoArtwork,
}

impl fmt::Display for Skip {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::InvalidId => f.write_str("its Id is missing or not a plain id"),
            Self::MissingTitle => f.write_str("it has no Name"),
            Self::Collection => f.write_str("it is a collection; map it with map_collection"),
            Self::UnsupportedType(kind) => write!(f, "type {kind:?} is not shown on posters"),
            Self::NoArtwork => f.write_str("it has no usable poster or background"),
        }
    }
}

/// Maps every item of a page, skipping those [`map_item`] skips.
pub fn map_items(page: &ItemsPage, flavour: Flavour, context: &MapContext) -> Vec<MediaItem> {
    page.items
        .iter()
        .filter_map(|item| map_item(item, flavour, context))
        .collect()
}

/// Maps a `Movie`, `Series`, `Season`, `Episode`, `MusicAlbum` or `MusicArtist` to a catalog
/// item.
///
/// Returns `None`, with one debug log line giving the reason, for other types; box sets go
/// through [`map_collection`]. Also returns `None` for items without a usable `Id` or a `Name`,
/// and for items with neither a poster nor a background a screen could show. An item may carry
/// an untagged primary image that the source still has to verify; see
/// [`is_untagged`](super::is_untagged).
pub fn map_item(item: &BaseItemDto, flavour: Flavour, context: &MapContext) -> Option<MediaItem> {
    match build_item(item, flavour, context) {
        Ok(mapped) => Some(mapped),
        Err(reason) => {
            debug!(
                server = flavour.as_str(),
                item.id = item.id.as_deref().unwrap_or_default(),
                item.kind = item.kind.as_deref().unwrap_or_default(),
                %reason,
                "skipping item"
            );
            None
        }
    }
}

fn build_item(
    item: &BaseItemDto,
    flavour: Flavour,
    context: &MapContext,
) -> Result<MediaItem, Skip> {
    let server_kind = item.kind.as_deref().unwrap_or_default();
    let kind = match server_kind {
        "Movie" => MediaKind::Movie,
        "Series" | "Season" => MediaKind::Show,
        "Episode" => MediaKind::Episode,
        "MusicAlbum" => MediaKind::Album,
        "MusicArtist" => MediaKind::Artist,
        "BoxSet" => return Err(Skip::Collection),
        other => {
            return Err(Skip::UnsupportedType(
                bounded(other, 40).unwrap_or_default(),
            ));
        }
    };
    let id = item_id(item).ok_or(Skip::InvalidId)?;
    let title = item_title(item, server_kind).ok_or(Skip::MissingTitle)?;

    let images = item_images(item, &id, server_kind);
    if !images.is_displayable() {
        return Err(Skip::NoArtwork);
    }

    let mut collections = Vec::new();
    if let Some(collection) = context.collection.as_deref().and_then(short_text) {
        collections.push(collection);
    }

    Ok(MediaItem {
        upstream_key: id,
        kind,
        title,
        original_title: item.original_title.as_deref().and_then(short_text),
        year: item
            .production_year
            .and_then(|year| u16::try_from(year).ok())
            .filter(|year| plausible_year(*year))
            .or_else(|| item.premiere_date.as_deref().and_then(year_of_date)),
        tagline: item.taglines.iter().find_map(|tagline| short_text(tagline)),
        overview: item
            .overview
            .as_deref()
            .and_then(|overview| bounded(overview, MAX_TEXT_CHARS)),
        genres: names(item.genres.iter().map(String::as_str)),
        content_rating: item.official_rating.as_deref().and_then(short_text),
        ratings: ratings(item),
        runtime_minutes: item.run_time_ticks.and_then(minutes),
        studios: names(
            item.studios
                .iter()
                .filter_map(|studio| studio.name.as_deref()),
        ),
        directors: people(item, "Director"),
        cast: people(item, "Actor")
            .into_iter()
            .take(crate::mapping::MAX_CAST_ENTRIES)
            .collect(),
        badges: best_badges(item, flavour),
        images,
        links: links(item),
        added_at: item.date_created.as_deref().and_then(unix_seconds),
        library: context.library.as_deref().and_then(short_text),
        collections,
        ..MediaItem::default()
    })
}

/// Maps a `BoxSet` or `Playlist` to a set an admin can pick; `None` for other types.
pub fn map_collection(item: &BaseItemDto, context: &MapContext) -> Option<MediaSet> {
    let server_kind = item.kind.as_deref().unwrap_or_default();
    let kind = match server_kind {
        "BoxSet" => SetKind::Collection,
        "Playlist" => SetKind::Playlist,
        _ => return None,
    };
    let (Some(id), Some(title)) = (item_id(item), item.name.as_deref().and_then(short_text)) else {
        debug!(
            item.id = item.id.as_deref().unwrap_or_default(),
            "skipping collection without a usable Id or Name"
        );
        return None;
    };

    Some(MediaSet {
        images: item_images(item, &id, server_kind),
        upstream_key: id,
        kind,
        title,
        summary: item
            .overview
            .as_deref()
            .and_then(|overview| bounded(overview, MAX_TEXT_CHARS)),
        item_count: item.child_count.and_then(|count| u32::try_from(count).ok()),
        smart: false,
        library: context.library.as_deref().and_then(short_text),
    })
}

/// Returns the item's `Id` when it is safe to use in image paths.
pub(super) fn item_id(item: &BaseItemDto) -> Option<String> {
    let id = item.id.as_deref()?.trim();
    valid_id(id).then(|| id.to_owned())
}

/// Builds the title to show. Seasons and episodes are prefixed with their series' name, because a
/// season's own name is generic ("Season 2") and an episode appears beside the series poster.
pub(super) fn item_title(item: &BaseItemDto, server_kind: &str) -> Option<String> {
    let title = item.name.as_deref().and_then(short_text)?;
    let series = match server_kind {
        "Season" | "Episode" => item.series_name.as_deref().and_then(short_text),
        _ => None,
    };
    match series {
        Some(series) => bounded(&format!("{series} – {title}"), MAX_TITLE_CHARS),
        None => Some(title),
    }
}

/// `CommunityRating` is the audience score out of 10, `CriticRating` the critics' out of 100.
fn ratings(item: &BaseItemDto) -> Ratings {
    let audience = item
        .community_rating
        .filter(|score| score.is_finite() && (0.0..=10.0).contains(score));
    let critic = item
        .critic_rating
        .filter(|score| score.is_finite() && (0.0..=100.0).contains(score))
        .map(|score| score / 10.0);
    Ratings { audience, critic }
}

/// Names of the people of one type (`Director`, `Actor`), in the server's order.
fn people(item: &BaseItemDto, person_type: &str) -> Vec<String> {
    names(
        item.people
            .iter()
            .filter(|person| person.kind.as_deref() == Some(person_type))
            .filter_map(|person| person.name.as_deref()),
    )
}

/// Reads IMDb, TMDB and TVDB ids from `ProviderIds`, whose key case varies between servers.
fn links(item: &BaseItemDto) -> ExternalLinks {
    let mut links = ExternalLinks::default();
    for (provider, id) in &item.provider_ids {
        let Some(id) = id.as_deref().map(str::trim) else {
            continue;
        };
        match provider.to_ascii_lowercase().as_str() {
            "imdb" if is_imdb_id(id) => links.imdb_id = Some(id.to_owned()),
            "tmdb" if is_number_id(id) => links.tmdb_id = Some(id.to_owned()),
            "tvdb" if is_number_id(id) => links.tvdb_id = Some(id.to_owned()),
            _ => {}
        }
    }
    links
}

fn is_imdb_id(id: &str) -> bool {
    id.strip_prefix("tt").is_some_and(is_number_id)
}

fn is_number_id(id: &str) -> bool {
    !id.is_empty() && id.len() <= 20 && id.bytes().all(|b| b.is_ascii_digit())
}

/// Converts ticks to whole minutes, rounded; `None` for zero or less.
fn minutes(ticks: i64) -> Option<u32> {
    const TICKS_PER_MINUTE: i64 = TICKS_PER_MS * 60_000;
    let minutes = ticks.checked_add(TICKS_PER_MINUTE / 2)? / TICKS_PER_MINUTE;
    u32::try_from(minutes).ok().filter(|minutes| *minutes > 0)
}

/// Converts an ISO 8601 time to Unix seconds. Times without an offset are read as UTC, which
/// is how both servers store them. The placeholder `0001-01-01T00:00:00` that servers write for
/// an unknown date reads as `None`.
fn unix_seconds(date: &str) -> Option<i64> {
    let date = date.trim();
    let parsed = OffsetDateTime::parse(date, &Rfc3339)
        .or_else(|_| OffsetDateTime::parse(&format!("{date}Z"), &Rfc3339))
        .ok()?;
    (parsed.year() >= 1900).then(|| parsed.unix_timestamp())
}

fn plausible_year(year: u16) -> bool {
    (1870..=2200).contains(&year)
}

/// Reads the year at the start of an ISO 8601 date.
fn year_of_date(date: &str) -> Option<u16> {
    let year: u16 = date.trim().get(..4)?.parse().ok()?;
    plausible_year(year).then_some(year)
}

/// Cleaned names without repeats, at most [`MAX_LIST_ENTRIES`].
fn names<'a>(values: impl Iterator<Item = &'a str>) -> Vec<String> {
    let mut names: Vec<String> = Vec::new();
    for name in values.filter_map(short_text) {
        if names.len() == MAX_LIST_ENTRIES {
            break;
        }
        if !names.contains(&name) {
            names.push(name);
        }
    }
    names
}
