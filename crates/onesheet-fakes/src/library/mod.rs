//! Server-neutral fake libraries: items with realistic, deterministic metadata that each fake
//! renders in its own API's shape.
//!
//! An item's identity (title, year, genres, ratings, provider ids) depends only on its canonical
//! index, so two libraries generated over overlapping index ranges hold the same films with the
//! same IMDb ids, which is what de-duplication across servers needs. The seed varies what differs
//! between servers that hold the same film: which copy of the film (4K, HDR, audio), which
//! artwork exists, which optional fields are missing, and the dates.
//!
//! Odd cases recur at fixed intervals of `canonical index + seed`, so any 17 consecutive items
//! contain at least one of each:
//!
//! | case | rule |
//! | --- | --- |
//! | no artwork at all | `v % 13 == 5` |
//! | primary image exists but is not listed in the item's tags | `v % 13 == 8` |
//! | landscape primary image (16:9) on a movie or series | `v % 17 == 3` |
//! | optional fields missing (overview, ratings, studios, people…) | `v % 9 == 4` |
//! | 4K (Dolby Vision when `v % 10 == 0`, HDR10 when `v % 10 == 5`) | `v % 5 == 0` |
//! | Dolby TrueHD Atmos 7.1 | `v % 7 == 0` |
//!
//! Tests should still look cases up through the fields ([`Item::images`], [`Item::sparse`],
//! [`Item::media`]) rather than rely on these numbers.

mod generate;
mod media;
mod names;

use std::ops::Range;

pub use media::{AudioFormat, DynamicRange, MediaInfo, Resolution};
pub use names::SPECIAL_MOVIE_TITLES;

/// What a library holds, which decides its items' kinds and its type on each server.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum LibraryKind {
    /// Movies only.
    Movies,
    /// Series, each followed by its seasons and their episodes.
    Shows,
    /// Music artists, each followed by their albums (three albums per artist).
    Music,
    /// Photos, which poster displays are expected to skip.
    Photos,
}

/// The kind of one item, named after Jellyfin's `BaseItemKind` values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ItemKind {
    Movie,
    Series,
    Season,
    Episode,
    MusicArtist,
    MusicAlbum,
    Photo,
}

impl ItemKind {
    /// Returns the `Type` value Jellyfin and Emby send for this kind.
    pub fn jellyfin_type(self) -> &'static str {
        match self {
            ItemKind::Movie => "Movie",
            ItemKind::Series => "Series",
            ItemKind::Season => "Season",
            ItemKind::Episode => "Episode",
            ItemKind::MusicArtist => "MusicArtist",
            ItemKind::MusicAlbum => "MusicAlbum",
            ItemKind::Photo => "Photo",
        }
    }

    /// Returns the `type` value Plex sends for this kind.
    pub fn plex_type(self) -> &'static str {
        match self {
            ItemKind::Movie => "movie",
            ItemKind::Series => "show",
            ItemKind::Season => "season",
            ItemKind::Episode => "episode",
            ItemKind::MusicArtist => "artist",
            ItemKind::MusicAlbum => "album",
            ItemKind::Photo => "photo",
        }
    }

    /// Returns the numeric type Plex uses in the `type` query parameter of `/library/sections/{key}/all`.
    pub fn plex_type_number(self) -> u32 {
        match self {
            ItemKind::Movie => 1,
            ItemKind::Series => 2,
            ItemKind::Season => 3,
            ItemKind::Episode => 4,
            ItemKind::MusicArtist => 8,
            ItemKind::MusicAlbum => 9,
            ItemKind::Photo => 13,
        }
    }

    /// Returns whether Jellyfin reports the item as a folder (it has children).
    pub fn is_folder(self) -> bool {
        matches!(
            self,
            ItemKind::Series | ItemKind::Season | ItemKind::MusicArtist | ItemKind::MusicAlbum
        )
    }
}

/// Whether one image of an item exists and whether the item's metadata lists it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ImageState {
    /// The image exists and its tag (Jellyfin) or path (Plex) is in the metadata.
    Tagged,
    /// The image exists and is served, but the metadata does not list it: Jellyfin sends
    /// `ImageTags: {}` and Plex omits the attribute.
    Untagged,
    /// There is no such image: the metadata omits it and its URL returns 404.
    Absent,
}

impl ImageState {
    /// Returns whether the image URL serves an image.
    pub fn exists(self) -> bool {
        self != ImageState::Absent
    }

    /// Returns whether the metadata lists the image.
    pub fn is_tagged(self) -> bool {
        self == ImageState::Tagged
    }
}

/// The artwork of one item.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Images {
    /// Poster (Jellyfin `Primary`, Plex `thumb`).
    pub primary: ImageState,
    /// Shape of the primary image.
    pub primary_shape: ImageShape,
    /// Number of backdrops (Jellyfin `Backdrop/{index}`, Plex `art` serves the first).
    pub backdrops: u8,
    /// Clear logo (Jellyfin `Logo`, Plex `Image` entry of type `clearLogo`).
    pub logo: ImageState,
}

/// Shape of an image, which fixes its aspect ratio.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ImageShape {
    /// 2:3 movie poster.
    Poster,
    /// 16:9, as episode stills and some badly matched movie posters are.
    Landscape,
    /// 1:1, as album covers and artist photos are.
    Square,
}

impl ImageShape {
    /// Width divided by height.
    pub fn aspect_ratio(self) -> f64 {
        match self {
            ImageShape::Poster => 2.0 / 3.0,
            ImageShape::Landscape => 16.0 / 9.0,
            ImageShape::Square => 1.0,
        }
    }
}

/// A person's part in an item.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PersonKind {
    Actor,
    Director,
    Writer,
}

/// One credited person.
#[derive(Debug, Clone, PartialEq)]
pub struct Person {
    pub name: String,
    pub kind: PersonKind,
    /// The character an actor plays.
    pub role: Option<String>,
    /// Stable number for ids derived from the person.
    pub number: u64,
}

/// External ids of an item, as the servers send them (IMDb `tt…`, numeric TMDB and TVDB ids).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ProviderIds {
    pub imdb: Option<String>,
    pub tmdb: Option<String>,
    pub tvdb: Option<String>,
    pub musicbrainz: Option<String>,
}

/// One item of a library.
#[derive(Debug, Clone, PartialEq)]
pub struct Item {
    /// Server-local numeric id: Plex `ratingKey`, Emby `Id`; Jellyfin derives its GUID from it.
    /// Unique within one fake server once the server has started.
    pub key: u64,
    pub kind: ItemKind,
    /// Position in the generator's global catalogue, which fixes the item's identity.
    pub canonical: u64,
    /// Position of the parent item in the same library (season of an episode, series of a
    /// season, artist of an album).
    pub parent: Option<usize>,
    /// Position of the grandparent item (series of an episode).
    pub grandparent: Option<usize>,
    /// Season number of a season, episode number of an episode.
    pub index_number: Option<u32>,
    pub title: String,
    /// Title with a leading article removed, as servers sort.
    pub sort_title: String,
    pub original_title: Option<String>,
    pub year: Option<u16>,
    /// Release or air date as `YYYY-MM-DD`.
    pub premiere_date: Option<String>,
    pub overview: Option<String>,
    pub tagline: Option<String>,
    pub genres: Vec<String>,
    /// Content rating such as `PG-13`.
    pub official_rating: Option<String>,
    /// Audience rating from 0 to 10. Some values are whole numbers (`8.0`), which JSON sends as
    /// `8.0` and clients must still read as a float.
    pub community_rating: Option<f64>,
    /// Critic score from 0 to 100 (Jellyfin `CriticRating`; Plex `rating` is this divided by 10).
    pub critic_rating: Option<f64>,
    pub studios: Vec<String>,
    pub countries: Vec<String>,
    pub people: Vec<Person>,
    pub provider_ids: ProviderIds,
    pub runtime_minutes: Option<u32>,
    /// When the item was added, in seconds since the Unix epoch.
    pub added_at: i64,
    /// When the item's metadata last changed, in seconds since the Unix epoch. Plex puts it in
    /// image paths (`/library/metadata/{key}/thumb/{updated_at}`).
    pub updated_at: i64,
    pub images: Images,
    /// The file's streams, for playable items (movies and episodes).
    pub media: Option<MediaInfo>,
    /// Whether the optional fields (overview, tagline, ratings, studios, people, countries) were
    /// left out.
    pub sparse: bool,
}

/// A named set of items of one library (Plex collection).
#[derive(Debug, Clone, PartialEq)]
pub struct Collection {
    /// Server-local numeric id, unique within one fake server once it has started.
    pub key: u64,
    pub title: String,
    /// Positions of the member items in the library.
    pub members: Vec<usize>,
}

/// One library (Jellyfin virtual folder, Plex section) with its items in display order.
#[derive(Debug, Clone, PartialEq)]
pub struct Library {
    name: String,
    kind: LibraryKind,
    items: Vec<Item>,
    /// Positions of each item's direct children, indexed like `items`.
    children: Vec<Vec<usize>>,
    collections: Vec<Collection>,
}

impl Library {
    /// Generates `count` top-level entries (movies, series, albums or photos) with canonical
    /// indices `0..count`. Shows also get seasons and episodes, music gets one artist per three
    /// albums, so [`items`](Self::items) can be longer than `count`.
    pub fn generate(kind: LibraryKind, count: u64, seed: u64) -> Library {
        Library::generate_range(kind, 0..count, seed)
    }

    /// Generates the top-level entries with canonical indices in `range`. Two libraries whose
    /// ranges overlap share those films, with the same titles and IMDb ids, whatever their seeds.
    pub fn generate_range(kind: LibraryKind, range: Range<u64>, seed: u64) -> Library {
        let (items, collections) = generate::items(kind, range, seed);
        let mut children = vec![Vec::new(); items.len()];
        for (position, item) in items.iter().enumerate() {
            if let Some(parent) = item.parent {
                children[parent].push(position);
            }
        }
        let mut library = Library {
            name: default_name(kind).to_owned(),
            kind,
            items,
            children,
            collections,
        };
        library.assign_keys(1);
        library
    }

    /// Sets the library's display name.
    pub fn named(mut self, name: impl Into<String>) -> Library {
        self.name = name.into();
        self
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    pub fn kind(&self) -> LibraryKind {
        self.kind
    }

    /// Returns all items, each parent before its children.
    pub fn items(&self) -> &[Item] {
        &self.items
    }

    pub fn collections(&self) -> &[Collection] {
        &self.collections
    }

    /// Finds an item by its server-local key.
    pub fn item_by_key(&self, key: u64) -> Option<&Item> {
        self.items.get(self.position_of(key)?)
    }

    /// Positions of the direct children of the item at `position`, in order.
    pub fn children_of(&self, position: usize) -> &[usize] {
        self.children.get(position).map_or(&[], Vec::as_slice)
    }

    /// Position of the item with `key`.
    pub fn position_of(&self, key: u64) -> Option<usize> {
        let first = self.items.first()?.key;
        let position = usize::try_from(key.checked_sub(first)?).ok()?;
        (self.items.get(position)?.key == key).then_some(position)
    }

    /// Numbers the items `first..` in order, then the collections after them. Returns the next
    /// free key, so a server can number several libraries without overlap.
    pub(crate) fn assign_keys(&mut self, first: u64) -> u64 {
        let mut next = first;
        for item in &mut self.items {
            item.key = next;
            next += 1;
        }
        for collection in &mut self.collections {
            collection.key = next;
            next += 1;
        }
        next
    }
}

fn default_name(kind: LibraryKind) -> &'static str {
    match kind {
        LibraryKind::Movies => "Movies",
        LibraryKind::Shows => "TV Shows",
        LibraryKind::Music => "Music",
        LibraryKind::Photos => "Photos",
    }
}

#[cfg(test)]
mod tests;
