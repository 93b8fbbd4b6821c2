//! Plex metadata to catalog items and selectable collections.
//!
//! Text from the server is bounded here, because one hostile or broken server must not be able
//! to put megabytes into every playlist response: titles and names are cut to
//! [`MAX_TITLE_CHARS`], summaries to [`MAX_TEXT_CHARS`], and each list to [`MAX_LIST_ENTRIES`].
//! Items leave with `id` and `source` unset; the source calls
//! [`MediaItem::assign_identity`] once it has them all.

use std::fmt;

use onesheet_domain::{ExternalLinks, MediaItem, MediaKind, Ratings};
use tracing::debug;

pub use crate::mapping::{
    MAX_LIST_ENTRIES, MAX_TEXT_CHARS, MAX_TITLE_CHARS, MapContext, MediaSet, SetKind,
};
pub(super) use crate::mapping::{bounded, short_text};

use super::art::{item_images, set_images};
use super::badges::best_badges;
use super::model::{MediaContainer, Metadata, Tag};

/// Reason an entry did not become an item, written to the debug log.
#[derive(Debug)]
enum Skip {
    MissingKey,
    MissingTitle,
    UnsupportedType(String),
    NoArtwork,
}

impl fmt::Display for Skip {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::MissingKey => f.write_str("it has no ratingKey"),
            Self::MissingTitle => f.write_str("it has no title"),
            Self::UnsupportedType(kind) => write!(f, "type {kind:?} is not shown on posters"),
            Self::NoArtwork => f.write_str("it has no usable poster or background"),
        }
    }
}

/// Maps every entry of a listing, skipping those [`map_metadata`] skips.
pub fn map_container(container: &MediaContainer, context: &MapContext) -> Vec<MediaItem> {
    container
        .metadata
        .iter()
        .filter_map(|metadata| map_metadata(metadata, context))
        .collect()
}

/// Maps a movie, show, season, episode, artist or album to a catalog item.
///
/// Returns `None`, with one debug log line giving the reason, for other types, for entries
/// without a `ratingKey` or title, and for items with neither a poster nor a background a
/// screen could show.
pub fn map_metadata(metadata: &Metadata, context: &MapContext) -> Option<MediaItem> {
    match build_item(metadata, context) {
        Ok(item) => Some(item),
        Err(reason) => {
            debug!(
                plex.rating_key = metadata.rating_key.as_deref().unwrap_or_default(),
                plex.kind = metadata.kind.as_deref().unwrap_or_default(),
                %reason,
                "skipping Plex item"
            );
            None
        }
    }
}

fn build_item(metadata: &Metadata, context: &MapContext) -> Result<MediaItem, Skip> {
    let plex_kind = metadata.kind.as_deref().unwrap_or_default();
    let kind = match plex_kind {
        "movie" => MediaKind::Movie,
        "show" | "season" => MediaKind::Show,
        "episode" => MediaKind::Episode,
        "artist" => MediaKind::Artist,
        "album" => MediaKind::Album,
        other => {
            return Err(Skip::UnsupportedType(
                bounded(other, 40).unwrap_or_default(),
            ));
        }
    };
    let upstream_key = rating_key(metadata).ok_or(Skip::MissingKey)?;
    let title = item_title(metadata, plex_kind).ok_or(Skip::MissingTitle)?;

    let images = item_images(metadata, plex_kind);
    if !images.is_displayable() {
        return Err(Skip::NoArtwork);
    }

    let mut collections = names(&metadata.collections);
    if let Some(collection) = context.collection.as_deref().and_then(short_text)
        && !collections.contains(&collection)
        && collections.len() < MAX_LIST_ENTRIES
    {
        collections.push(collection);
    }

    Ok(MediaItem {
        upstream_key,
        kind,
        title,
        original_title: metadata.original_title.as_deref().and_then(short_text),
        year: metadata
            .year
            .filter(|year| plausible_year(*year))
            .or_else(|| {
                metadata
                    .originally_available_at
                    .as_deref()
                    .and_then(year_of_date)
            }),
        tagline: metadata.tagline.as_deref().and_then(short_text),
        overview: metadata
            .summary
            .as_deref()
            .and_then(|summary| bounded(summary, MAX_TEXT_CHARS)),
        genres: names(&metadata.genres),
        content_rating: metadata.content_rating.as_deref().and_then(short_text),
        ratings: ratings(metadata),
        runtime_minutes: metadata.duration.and_then(minutes),
        studios: metadata
            .studio
            .as_deref()
            .and_then(short_text)
            .into_iter()
            .collect(),
        directors: names(&metadata.directors),
        cast: names(&metadata.roles)
            .into_iter()
            .take(crate::mapping::MAX_CAST_ENTRIES)
            .collect(),
        badges: best_badges(&metadata.media),
        images,
        links: links(metadata),
        added_at: metadata.added_at.filter(|at| *at > 0),
        library: context
            .library
            .as_deref()
            .or(metadata.library_section_title.as_deref())
            .and_then(short_text),
        collections,
        ..MediaItem::default()
    })
}

/// Maps a collection (from `/library/sections/{id}/collections`) or a playlist (from
/// `/playlists`) to a set an admin can pick. Photo playlists and other types return `None`.
pub fn map_collection(metadata: &Metadata, context: &MapContext) -> Option<MediaSet> {
    let kind = match (metadata.kind.as_deref(), metadata.playlist_type.as_deref()) {
        (Some("collection"), _) => SetKind::Collection,
        (Some("playlist"), Some("photo")) => {
            debug!(
                plex.rating_key = metadata.rating_key.as_deref().unwrap_or_default(),
                "skipping Plex photo playlist"
            );
            return None;
        }
        (Some("playlist"), _) => SetKind::Playlist,
        _ => return None,
    };
    let (Some(upstream_key), Some(title)) = (
        rating_key(metadata),
        metadata.title.as_deref().and_then(short_text),
    ) else {
        debug!(
            plex.rating_key = metadata.rating_key.as_deref().unwrap_or_default(),
            "skipping Plex collection without a ratingKey or title"
        );
        return None;
    };

    Some(MediaSet {
        upstream_key,
        kind,
        title,
        summary: metadata
            .summary
            .as_deref()
            .and_then(|summary| bounded(summary, MAX_TEXT_CHARS)),
        item_count: metadata.child_count.or(metadata.leaf_count),
        smart: metadata.smart,
        images: set_images(metadata),
        library: context
            .library
            .as_deref()
            .or(metadata.library_section_title.as_deref())
            .and_then(short_text),
    })
}

/// Returns the item's `ratingKey` when it is a short key without control characters.
pub(super) fn rating_key(metadata: &Metadata) -> Option<String> {
    let key = metadata.rating_key.as_deref()?.trim();
    let valid = !key.is_empty() && key.len() <= 128 && !key.chars().any(char::is_control);
    valid.then(|| key.to_owned())
}

/// Builds the title to show. Seasons and episodes are prefixed with their show's title, because a
/// season's own title is generic ("Season 2") and an episode appears beside the show's poster.
pub(super) fn item_title(metadata: &Metadata, plex_kind: &str) -> Option<String> {
    let title = metadata.title.as_deref().and_then(short_text)?;
    let show = match plex_kind {
        "season" => metadata.parent_title.as_deref(),
        "episode" => metadata.grandparent_title.as_deref(),
        _ => None,
    };
    match show.and_then(short_text) {
        Some(show) => bounded(&format!("{show} – {title}"), MAX_TITLE_CHARS),
        None => Some(title),
    }
}

/// Splits Plex's two ratings into critic and audience scores.
///
/// `audienceRating` is always the audience. `rating` is the critics' score when
/// `ratingImage` names Rotten Tomatoes or when an audience rating sits beside it, and the
/// audience score otherwise: older agents put the IMDb or TheTVDB user rating there.
fn ratings(metadata: &Metadata) -> Ratings {
    let rating = metadata.rating.filter(|score| valid_score(*score));
    let audience = metadata.audience_rating.filter(|score| valid_score(*score));
    let rating_image = metadata.rating_image.as_deref().unwrap_or_default();
    let rating_is_critics = rating_image.starts_with("rottentomatoes://") || audience.is_some();

    if rating_is_critics {
        Ratings {
            audience,
            critic: rating,
        }
    } else {
        Ratings {
            audience: rating,
            critic: None,
        }
    }
}

fn valid_score(score: f32) -> bool {
    score.is_finite() && (0.0..=10.0).contains(&score)
}

/// Reads IMDb, TMDB and TVDB ids from the `Guid` list, and from an older agent's `guid`
/// (`com.plexapp.agents.imdb://tt0133093?lang=en`) when the list lacks them.
fn links(metadata: &Metadata) -> ExternalLinks {
    let mut links = ExternalLinks::default();
    let guids = metadata
        .guids
        .iter()
        .filter_map(|guid| guid.id.as_deref())
        .chain(metadata.guid.as_deref());

    for guid in guids {
        let Some((scheme, rest)) = guid.split_once("://") else {
            continue;
        };
        let id = rest.split(['?', '/']).next().unwrap_or_default();
        let scheme = scheme.rsplit('.').next().unwrap_or_default();
        match scheme {
            "imdb" if links.imdb_id.is_none() && is_imdb_id(id) => {
                links.imdb_id = Some(id.to_owned());
            }
            "tmdb" | "themoviedb" if links.tmdb_id.is_none() && is_number_id(id) => {
                links.tmdb_id = Some(id.to_owned());
            }
            "tvdb" | "thetvdb" if links.tvdb_id.is_none() && is_number_id(id) => {
                links.tvdb_id = Some(id.to_owned());
            }
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

/// Rounds milliseconds to whole minutes; `None` for zero.
pub(super) fn minutes(milliseconds: u64) -> Option<u32> {
    let minutes = (milliseconds + 30_000) / 60_000;
    u32::try_from(minutes).ok().filter(|minutes| *minutes > 0)
}

fn plausible_year(year: u16) -> bool {
    (1870..=2200).contains(&year)
}

/// Reads the year of a `YYYY-MM-DD` date.
fn year_of_date(date: &str) -> Option<u16> {
    let year: u16 = date.get(..4)?.parse().ok()?;
    plausible_year(year).then_some(year)
}

/// Collects the tags' names, cleaned, without repeats, at most [`MAX_LIST_ENTRIES`].
fn names(tags: &[Tag]) -> Vec<String> {
    let mut names: Vec<String> = Vec::new();
    for name in tags
        .iter()
        .filter_map(|tag| tag.tag.as_deref())
        .filter_map(short_text)
    {
        if names.len() == MAX_LIST_ENTRIES {
            break;
        }
        if !names.contains(&name) {
            names.push(name);
        }
    }
    names
}
