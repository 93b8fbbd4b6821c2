//! Vocabulary shared by the media-server mappings: the bounds on text from a server, the
//! context of a listing, and the collections and playlists an admin can pick.
//!
//! Text from a server is bounded because one hostile or broken server must not be able to put
//! megabytes into every playlist response: titles and names are cut to [`MAX_TITLE_CHARS`],
//! overviews to [`MAX_TEXT_CHARS`], and each list to [`MAX_LIST_ENTRIES`].

use onesheet_domain::ItemImages;

/// Maximum length of a title, name or short label, in characters.
pub const MAX_TITLE_CHARS: usize = 512;
/// Maximum length of an overview, in characters. A plot runs to about a thousand.
pub const MAX_TEXT_CHARS: usize = 4096;
/// Most entries kept in one list: genres, directors, studios, collections.
pub const MAX_LIST_ENTRIES: usize = 50;
/// Most cast members kept per item. A display shows the top-billed few, and a full cast list
/// of 50 names would be the largest part of a 25,000-item catalog's memory.
pub const MAX_CAST_ENTRIES: usize = 12;

/// Context of a listing, supplied by the caller: the library and set the items came from.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MapContext {
    /// Name of the library, recorded as [`MediaItem::library`](onesheet_domain::MediaItem).
    /// Plex items fall back to their own `librarySectionTitle` when it is `None`.
    pub library: Option<String>,
    /// Title of the collection or playlist the items were listed from, added to
    /// [`MediaItem::collections`](onesheet_domain::MediaItem).
    pub collection: Option<String>,
}

/// Whether a [`MediaSet`] is a collection (a Jellyfin box set) or a playlist.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SetKind {
    Collection,
    Playlist,
}

/// A collection or playlist on the server, which an admin may pick as the set of items to show.
#[derive(Debug, Clone, PartialEq)]
pub struct MediaSet {
    /// The set's key on the server (Plex `ratingKey`, Jellyfin item id), for listing its
    /// members.
    pub upstream_key: String,
    pub kind: SetKind,
    pub title: String,
    pub summary: Option<String>,
    /// Number of members, when the server reports it.
    pub item_count: Option<u32>,
    /// True when the server fills the set from rules rather than a fixed list (Plex smart
    /// collections); always false for Jellyfin and Emby.
    pub smart: bool,
    pub images: ItemImages,
    pub library: Option<String>,
}

/// Cleans a title or label: see [`bounded`].
pub(crate) fn short_text(value: &str) -> Option<String> {
    bounded(value, MAX_TITLE_CHARS)
}

/// Trims the text, drops control characters other than line breaks, and cuts it to `max_chars`.
/// Returns `None` for text that is empty afterwards.
pub(crate) fn bounded(value: &str, max_chars: usize) -> Option<String> {
    let cleaned: String = value
        .trim()
        .chars()
        .filter(|c| !c.is_control() || *c == '\n')
        .take(max_chars)
        .collect();
    let cleaned = cleaned.trim_end();
    (!cleaned.is_empty()).then(|| cleaned.to_owned())
}
