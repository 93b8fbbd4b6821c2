//! Catalog filters: which items a screen may show, by library, genre, rating, year, content
//! rating, picture quality, age in the catalog and collection.
//!
//! A [`CatalogFilter`] is the configured form, with serde defaults that let every item through.
//! [`CatalogFilter::compile`] turns it into a [`CompiledFilter`] with names folded and the
//! content-rating ceiling parsed once, so checking an item builds no strings.
//!
//! Filters layer by narrowing: a library's own filter applies on top of the global one, and an
//! item is shown only when every filter passes it ([`matches_all`]).

mod content_rating;
#[cfg(test)]
mod tests;

use std::ops::RangeInclusive;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use unicode_normalization::UnicodeNormalization;

pub use content_rating::AgeRating;

use crate::media::{Badges, MediaItem, MediaKind, Ratings};
use crate::validation::ValidationErrors;

/// Accepted range of `min_rating`, on the 0 to 10 scale of [`Ratings`].
pub const RATING_RANGE: RangeInclusive<f32> = 0.0..=10.0;

/// Accepted range of `year_from` and `year_to`. Years outside it are typos, not film dates.
pub const YEAR_RANGE: RangeInclusive<u16> = 1850..=2200;

/// Accepted range of `added_within_days`: one day to 100 years.
pub const ADDED_WITHIN_DAYS_RANGE: RangeInclusive<u32> = 1..=36_500;

/// Maximum number of entries in each name list (libraries, genres, collections).
pub const MAX_LIST_ENTRIES: usize = 500;

/// Maximum entries of `kinds`: each kind of item once.
pub const MAX_KINDS: usize = 7;

/// Maximum length of one name in a list, in characters.
pub const MAX_NAME_CHARS: usize = 200;

const SECONDS_PER_DAY: i64 = 86_400;

/// Resolution labels that count as 4K or better, compared without regard to ASCII case.
const UHD_RESOLUTIONS: [&str; 7] = ["4k", "2160p", "2160", "uhd", "8k", "4320p", "4320"];

/// Rules for the catalog items a screen may show. Every field narrows the selection, and the
/// default value lets every item through.
///
/// Names in `libraries`, `genres_include`, `genres_exclude` and `collections` are compared
/// after Unicode NFC normalisation, lower-casing and collapsing runs of white space, so
/// `Science Fiction`, `science  fiction` and `SCIENCE FICTION` are the same genre.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(default, deny_unknown_fields)]
pub struct CatalogFilter {
    /// Library names an item must come from. Empty allows every library. An item with no
    /// library passes only when this is empty.
    pub libraries: Vec<String>,
    /// Genres of which an item must have at least one. Empty allows every genre.
    pub genres_include: Vec<String>,
    /// Genres that exclude an item when it has any of them.
    pub genres_exclude: Vec<String>,
    /// Minimum rating from 0 to 10. The audience rating counts when the item has one, else
    /// the critic rating. An item with neither fails while a minimum is set.
    pub min_rating: Option<f32>,
    /// First release year allowed, inclusive. An item with no year fails while either year
    /// bound is set.
    pub year_from: Option<u16>,
    /// Last release year allowed, inclusive.
    pub year_to: Option<u16>,
    /// Strictest content rating allowed, such as `PG-13`, `TV-14`, `12A` or `FSK 16`. Ratings
    /// from other systems are compared on the scale of minimum viewer ages in [`AgeRating`].
    pub content_rating_max: Option<String>,
    /// Whether items with no rating, or with a rating that is not recognised, pass while
    /// `content_rating_max` is set. Off by default, so a family-safe ceiling also hides
    /// items without a rating.
    pub allow_unrated: bool,
    /// Allow only items whose resolution is 4K (2160p) or higher.
    pub require_4k: bool,
    /// Allow only items with HDR or Dolby Vision video.
    pub require_hdr: bool,
    /// Maximum age of an item in the catalog, in days since the source first saw it. An item
    /// with no `added_at` fails while this is set.
    pub added_within_days: Option<u32>,
    /// Collections of which an item must be in at least one. Empty allows every item.
    pub collections: Vec<String>,
    /// Kinds of item allowed, such as `album` for a wall of music covers or `game` for games.
    /// Empty allows every kind.
    pub kinds: Vec<MediaKind>,
}

impl CatalogFilter {
    /// Checks every field and returns all problems at once, each naming its field and the
    /// accepted values.
    pub fn validate(&self) -> Result<(), ValidationErrors> {
        let mut errors = ValidationErrors::default();

        validate_names(&mut errors, "libraries", &self.libraries);
        validate_names(&mut errors, "genres_include", &self.genres_include);
        validate_names(&mut errors, "genres_exclude", &self.genres_exclude);
        validate_names(&mut errors, "collections", &self.collections);
        if self.kinds.len() > MAX_KINDS {
            errors.push(
                "kinds",
                format!(
                    "invalid list of {} kinds: name each kind once, at most {MAX_KINDS}",
                    self.kinds.len()
                ),
            );
        }
        let included: Vec<String> = self.genres_include.iter().map(|g| fold(g)).collect();
        for genre in &self.genres_exclude {
            if included.contains(&fold(genre)) {
                errors.push(
                    "genres_exclude",
                    format!(
                        "invalid genre {genre:?}: it is also in genres_include, so remove it from one of the two lists"
                    ),
                );
            }
        }

        if let Some(rating) = self.min_rating
            && !RATING_RANGE.contains(&rating)
        {
            errors.push(
                "min_rating",
                format!(
                    "invalid minimum rating {rating}: use a number from {} to {}",
                    RATING_RANGE.start(),
                    RATING_RANGE.end()
                ),
            );
        }

        for (field, year) in [("year_from", self.year_from), ("year_to", self.year_to)] {
            if let Some(year) = year
                && !YEAR_RANGE.contains(&year)
            {
                errors.push(
                    field,
                    format!(
                        "invalid year {year}: use a year from {} to {}",
                        YEAR_RANGE.start(),
                        YEAR_RANGE.end()
                    ),
                );
            }
        }
        if let (Some(from), Some(to)) = (self.year_from, self.year_to)
            && from > to
        {
            errors.push(
                "year_to",
                format!("invalid year range {from} to {to}: year_to must not be before year_from"),
            );
        }

        if let Some(ceiling) = &self.content_rating_max
            && AgeRating::parse(ceiling).is_none()
        {
            errors.push(
                "content_rating_max",
                format!(
                    "invalid content rating ceiling {:?}: use a rating such as {}",
                    truncate(ceiling),
                    AgeRating::EXAMPLES
                ),
            );
        }

        if let Some(days) = self.added_within_days
            && !ADDED_WITHIN_DAYS_RANGE.contains(&days)
        {
            errors.push(
                "added_within_days",
                format!(
                    "invalid number of days {days}: use {} to {} days",
                    ADDED_WITHIN_DAYS_RANGE.start(),
                    ADDED_WITHIN_DAYS_RANGE.end()
                ),
            );
        }

        errors.into_result()
    }

    /// Prepares the filter for checking many items. Call [`CatalogFilter::validate`] first.
    ///
    /// Compiling never fails. Where an invalid value could widen the selection, it fails
    /// closed instead: a ceiling that is not a known rating compiles to
    /// [`AgeRating::ALL_AGES`], a NaN minimum rating lets no item through, and a name list
    /// of blank names matches no item.
    pub fn compile(&self) -> CompiledFilter {
        let ceiling = self
            .content_rating_max
            .as_deref()
            .map(|label| AgeRating::parse(label).unwrap_or(AgeRating::ALL_AGES));
        let added_within_seconds = self
            .added_within_days
            .map(|days| i64::from(days) * SECONDS_PER_DAY);

        CompiledFilter {
            libraries: fold_all(&self.libraries),
            genres_include: fold_all(&self.genres_include),
            genres_exclude: fold_all(&self.genres_exclude),
            min_rating: self.min_rating,
            year_from: self.year_from,
            year_to: self.year_to,
            ceiling,
            allow_unrated: self.allow_unrated,
            require_4k: self.require_4k,
            require_hdr: self.require_hdr,
            added_within_seconds,
            collections: fold_all(&self.collections),
            kinds: self.kinds.clone(),
        }
    }

    /// Checks one item. This compiles the filter on every call, so use [`CompiledFilter`]
    /// for a whole catalog.
    pub fn matches(&self, item: &MediaItem, now_unix: i64) -> bool {
        self.compile().matches(item, now_unix)
    }
}

/// A [`CatalogFilter`] prepared for checking many items: names folded once, the ceiling
/// parsed once and days turned into seconds.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CompiledFilter {
    libraries: Vec<String>,
    genres_include: Vec<String>,
    genres_exclude: Vec<String>,
    min_rating: Option<f32>,
    year_from: Option<u16>,
    year_to: Option<u16>,
    ceiling: Option<AgeRating>,
    allow_unrated: bool,
    require_4k: bool,
    require_hdr: bool,
    added_within_seconds: Option<i64>,
    collections: Vec<String>,
    kinds: Vec<MediaKind>,
}

impl CompiledFilter {
    /// Returns whether the item passes every rule. `now_unix` is the current time in Unix
    /// seconds, against which `added_within_days` counts.
    pub fn matches(&self, item: &MediaItem, now_unix: i64) -> bool {
        // The cheap field checks come first, so an item that fails one of them never reaches
        // the string comparisons.
        (self.kinds.is_empty() || self.kinds.contains(&item.kind))
            && self.matches_badges(&item.badges)
            && self.matches_year(item.year)
            && self.matches_rating(&item.ratings)
            && self.matches_added(item.added_at, now_unix)
            && self.matches_library(item.library.as_deref())
            && self.matches_collections(&item.collections)
            && self.matches_genres(&item.genres)
            && self.matches_content_rating(item.content_rating.as_deref())
    }

    fn matches_badges(&self, badges: &Badges) -> bool {
        let uhd = || {
            badges.resolution.as_deref().is_some_and(|resolution| {
                let resolution = resolution.trim();
                UHD_RESOLUTIONS
                    .iter()
                    .any(|label| resolution.eq_ignore_ascii_case(label))
            })
        };
        (!self.require_4k || uhd()) && (!self.require_hdr || badges.hdr || badges.dolby_vision)
    }

    fn matches_year(&self, year: Option<u16>) -> bool {
        if self.year_from.is_none() && self.year_to.is_none() {
            return true;
        }
        let Some(year) = year else {
            return false;
        };
        self.year_from.is_none_or(|from| year >= from) && self.year_to.is_none_or(|to| year <= to)
    }

    fn matches_rating(&self, ratings: &Ratings) -> bool {
        let Some(minimum) = self.min_rating else {
            return true;
        };
        // Comparisons with NaN are false, so a NaN minimum or rating fails the item.
        let rating = ratings
            .audience
            .filter(|r| r.is_finite())
            .or(ratings.critic.filter(|r| r.is_finite()));
        rating.is_some_and(|rating| rating >= minimum)
    }

    fn matches_added(&self, added_at: Option<i64>, now_unix: i64) -> bool {
        let Some(window) = self.added_within_seconds else {
            return true;
        };
        // An item added exactly `window` seconds ago still passes. A timestamp in the future,
        // as a source with a fast clock may send, passes too.
        added_at.is_some_and(|added| added >= now_unix.saturating_sub(window))
    }

    fn matches_library(&self, library: Option<&str>) -> bool {
        self.libraries.is_empty()
            || library.is_some_and(|library| contains_folded(&self.libraries, library))
    }

    fn matches_collections(&self, collections: &[String]) -> bool {
        self.collections.is_empty()
            || collections
                .iter()
                .any(|collection| contains_folded(&self.collections, collection))
    }

    fn matches_genres(&self, genres: &[String]) -> bool {
        let included = self.genres_include.is_empty()
            || genres
                .iter()
                .any(|genre| contains_folded(&self.genres_include, genre));
        included
            && !genres
                .iter()
                .any(|genre| contains_folded(&self.genres_exclude, genre))
    }

    fn matches_content_rating(&self, label: Option<&str>) -> bool {
        let Some(ceiling) = self.ceiling else {
            return true;
        };
        match label.and_then(AgeRating::parse) {
            Some(rating) => rating <= ceiling,
            None => self.allow_unrated,
        }
    }
}

/// Returns whether every filter passes the item, so each filter can only narrow the ones
/// before it: pass the global filter and then the item's library filter. An empty slice
/// passes every item.
pub fn matches_all(filters: &[&CompiledFilter], item: &MediaItem, now_unix: i64) -> bool {
    filters.iter().all(|filter| filter.matches(item, now_unix))
}

/// Folds a name for comparison: NFC normalisation, Unicode lower case, and words joined by
/// single spaces.
fn fold(name: &str) -> String {
    folded_chars(name).collect()
}

/// Yields the characters of the folded form of `name` without building a string. Final
/// sigma `ς` becomes `σ`, because lower-casing one character at a time turns `Σ` into `σ`
/// in every position.
fn folded_chars(name: &str) -> impl Iterator<Item = char> + '_ {
    let mut started = false;
    let mut gap = false;
    name.nfc()
        .flat_map(char::to_lowercase)
        .flat_map(move |c| {
            if c.is_whitespace() {
                gap = started;
                return [None, None];
            }
            let space = gap.then_some(' ');
            started = true;
            gap = false;
            [space, Some(if c == 'ς' { 'σ' } else { c })]
        })
        .flatten()
}

/// Folds every name. A blank name folds to the empty string and stays in the list, so a
/// list of only blank names still restricts the selection, and matches no item.
fn fold_all(names: &[String]) -> Vec<String> {
    names.iter().map(|name| fold(name)).collect()
}

/// Returns whether `value`, folded, equals one of the `folded` names, without building a
/// string. ASCII values, the common case for genres and library names, are compared word by
/// word, and other values character by character as they are folded.
fn contains_folded(folded: &[String], value: &str) -> bool {
    if folded.is_empty() {
        return false;
    }
    if !value.is_ascii() {
        return folded
            .iter()
            .any(|name| folded_chars(value).eq(name.chars()));
    }
    folded.iter().any(|name| {
        let mut expected = name.split(' ');
        let mut words = value.split_ascii_whitespace();
        loop {
            match (words.next(), expected.next()) {
                (None, None) => return true,
                (Some(word), Some(expected)) if word.eq_ignore_ascii_case(expected) => {}
                _ => return false,
            }
        }
    })
}

fn validate_names(errors: &mut ValidationErrors, field: &str, names: &[String]) {
    if names.len() > MAX_LIST_ENTRIES {
        errors.push(
            field,
            format!(
                "invalid list of {} names: use at most {MAX_LIST_ENTRIES}",
                names.len()
            ),
        );
    }
    for name in names {
        if name.trim().is_empty() {
            errors.push(field, "invalid empty name: remove it or write the name out");
        } else if name.chars().count() > MAX_NAME_CHARS {
            errors.push(
                field,
                format!(
                    "invalid name {:?}: use at most {MAX_NAME_CHARS} characters",
                    truncate(name)
                ),
            );
        }
    }
}

/// Shortens a value quoted in an error message, so a pasted paragraph does not fill the page.
fn truncate(value: &str) -> String {
    const SHOWN_CHARS: usize = 40;
    if value.chars().count() <= SHOWN_CHARS {
        value.to_owned()
    } else {
        let head: String = value.chars().take(SHOWN_CHARS).collect();
        format!("{head}…")
    }
}
