//! Choosing an item's artwork from Plex's image fields.
//!
//! An [`ImageRef`] from Plex has the server path of the image as its key (such as
//! `/library/metadata/123/thumb/1700000000`), never a full URL. The image client joins the path
//! to the configured server address and sends the token in a header, so neither the address
//! nor the token is stored with the item.
//!
//! Fallback order per slot, first usable field wins:
//!
//! | kind | poster | background | thumbnail |
//! | --- | --- | --- | --- |
//! | movie, show, artist, album | `thumb`, `Image[coverPoster]` | `art`, `Image[background]` | — |
//! | season | `thumb`, `parentThumb`, `Image[coverPoster]` | `art`, `parentArt`, `Image[background]` | — |
//! | episode | `parentThumb`, `grandparentThumb` | `art`, `parentArt`, `grandparentArt`, `Image[background]`, `thumb` | `thumb` |
//! | track | `parentThumb`, `grandparentThumb`, `thumb` | `art`, `parentArt`, `grandparentArt` | — |
//!
//! An episode's own `thumb` is a landscape still from the video, so it never fills the portrait
//! poster slot; the season poster, then the show poster, stand in. The logo comes from
//! `Image[clearLogo]` for every kind.

use onesheet_domain::{ImageRef, ItemImages};

use super::model::Metadata;

/// Maximum length of an image path, in characters. Plex paths are well under 100.
const MAX_PATH_CHARS: usize = 512;

/// Plex's generic placeholders (a film-reel icon for every movie section, for example) live
/// below this path; they show nothing about the item.
const GENERIC_ARTWORK_PREFIX: &str = "/:/resources/";

/// Builds the artwork of a library item of the given Plex type.
pub(super) fn item_images(metadata: &Metadata, kind: &str) -> ItemImages {
    let thumb = metadata.thumb.as_deref();
    let parent_thumb = metadata.parent_thumb.as_deref();
    let grandparent_thumb = metadata.grandparent_thumb.as_deref();
    let art = metadata.art.as_deref();
    let parent_art = metadata.parent_art.as_deref();
    let grandparent_art = metadata.grandparent_art.as_deref();
    let cover = typed_image(metadata, "coverPoster");
    let background = typed_image(metadata, "background");

    let (posters, backgrounds, thumbnails): (Vec<_>, Vec<_>, Vec<_>) = match kind {
        "season" => (
            vec![thumb, parent_thumb, cover],
            vec![art, parent_art, background],
            vec![],
        ),
        "episode" => (
            vec![parent_thumb, grandparent_thumb],
            vec![art, parent_art, grandparent_art, background, thumb],
            vec![thumb],
        ),
        "track" => (
            vec![parent_thumb, grandparent_thumb, thumb],
            vec![art, parent_art, grandparent_art],
            vec![],
        ),
        _ => (vec![thumb, cover], vec![art, background], vec![]),
    };

    ItemImages {
        poster: first_usable(metadata, &posters),
        background: first_usable(metadata, &backgrounds),
        logo: first_usable(metadata, &[typed_image(metadata, "clearLogo")]),
        thumbnail: first_usable(metadata, &thumbnails),
    }
}

/// Builds the artwork of a collection or playlist: its own poster, else the mosaic of its
/// members' posters that Plex composes.
pub(super) fn set_images(metadata: &Metadata) -> ItemImages {
    let thumb = metadata.thumb.as_deref();
    let composite = metadata.composite.as_deref();
    ItemImages {
        poster: first_usable(
            metadata,
            &[thumb, typed_image(metadata, "coverPoster"), composite],
        ),
        background: first_usable(
            metadata,
            &[metadata.art.as_deref(), typed_image(metadata, "background")],
        ),
        logo: first_usable(metadata, &[typed_image(metadata, "clearLogo")]),
        thumbnail: None,
    }
}

/// Finds the URL of the first `Image` entry with the given type.
fn typed_image<'a>(metadata: &'a Metadata, kind: &str) -> Option<&'a str> {
    metadata
        .images
        .iter()
        .find(|image| image.kind.as_deref() == Some(kind))
        .and_then(|image| image.url.as_deref())
}

fn first_usable(metadata: &Metadata, candidates: &[Option<&str>]) -> Option<ImageRef> {
    candidates
        .iter()
        .flatten()
        .find_map(|path| image_ref(path, metadata))
}

/// Turns an image path into a reference, or `None` when the path is missing or unusable.
///
/// The version is the path's trailing timestamp (Plex ends artwork paths with the time the
/// image was chosen), else the item's `updatedAt`, else its `addedAt`.
pub(super) fn image_ref(path: &str, metadata: &Metadata) -> Option<ImageRef> {
    let path = usable_path(path)?;
    let version = trailing_timestamp(path)
        .map(str::to_owned)
        .or_else(|| metadata.updated_at.map(|at| at.to_string()))
        .or_else(|| metadata.added_at.map(|at| at.to_string()))
        // NOTE: with no timestamp anywhere the version never changes, so a replaced image
        // keeps its old cached copy until the path changes.
        .unwrap_or_else(|| "0".to_owned());
    Some(ImageRef::new(path, version))
}

/// Returns the path when it is a server-relative path the image client may request.
///
/// Empty values and values ending in `/null` count as missing: some servers and proxies write
/// a missing field that way, and requesting it returns an error or a blank image. Absolute
/// URLs are rejected because the image client fetches only from the configured server, which
/// keeps the image endpoint from being pointed at other hosts. Query strings are rejected so a
/// token can never be stored inside a key.
fn usable_path(path: &str) -> Option<&str> {
    let path = path.trim();
    let missing = path.is_empty()
        || path == "null"
        || path.ends_with("/null")
        || path.ends_with("/undefined")
        || path.starts_with(GENERIC_ARTWORK_PREFIX);
    if missing || path.chars().count() > MAX_PATH_CHARS {
        return None;
    }

    let relative = path.starts_with('/') && !path.starts_with("//");
    let plain = path
        .chars()
        .all(|c| c.is_ascii_graphic() && !matches!(c, '?' | '#' | '\\' | '%'));
    let climbs = path
        .split('/')
        .any(|segment| segment == "." || segment == "..");
    (relative && plain && !climbs).then_some(path)
}

/// Returns the last path segment when it is a Unix timestamp, as in `/library/metadata/1/thumb/1700000000`.
fn trailing_timestamp(path: &str) -> Option<&str> {
    let (_, last) = path.rsplit_once('/')?;
    let numeric = !last.is_empty() && last.len() <= 20 && last.bytes().all(|b| b.is_ascii_digit());
    numeric.then_some(last)
}
