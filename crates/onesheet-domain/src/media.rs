//! The media item: one poster-worthy title, normalised from whatever source it came from.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::validation::FieldError;

/// Identifier of a configured source, such as `local` or `demo`. Lowercase ASCII letters, digits
/// and dashes, so it can be part of an item id and a URL without escaping.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct SourceId(String);

impl SourceId {
    pub fn new(id: &str) -> Result<Self, FieldError> {
        let valid = !id.is_empty()
            && id.len() <= 32
            && id
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
        if valid {
            Ok(Self(id.to_owned()))
        } else {
            Err(FieldError::new(
                "source.id",
                format!(
                    "invalid source id {id:?}: use 1 to 32 lowercase letters, digits or dashes"
                ),
            ))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for SourceId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Stable item id: the source id, a dash, and 16 hex digits of SHA-256 over the source id and the
/// upstream key. It stays the same across rescans and restarts, and it reveals neither the file
/// path nor the upstream key it was made from.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct ItemId(String);

/// Number of hex digits after the source id. 64 bits keep collisions negligible for catalogs
/// of millions of items.
const ITEM_HASH_HEX_DIGITS: usize = 16;

impl ItemId {
    pub fn derive(source: &SourceId, upstream_key: &str) -> Self {
        let mut hasher = Sha256::new();
        hasher.update(source.as_str().as_bytes());
        hasher.update([0]);
        hasher.update(upstream_key.as_bytes());
        let digest = hex::encode(hasher.finalize());
        Self(format!("{source}-{}", &digest[..ITEM_HASH_HEX_DIGITS]))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl FromStr for ItemId {
    type Err = FieldError;

    /// Parses an id taken from a URL. Only the shape is checked here, so anything else (dots,
    /// slashes, percent signs, NUL) is rejected before it can reach a lookup or a path.
    fn from_str(value: &str) -> Result<Self, Self::Err> {
        let invalid = || {
            FieldError::new(
                "item",
                "invalid item id: expected a source id, a dash and 16 hex digits",
            )
        };
        let (source, hash) = value.rsplit_once('-').ok_or_else(invalid)?;
        SourceId::new(source).map_err(|_| invalid())?;
        let hash_ok = hash.len() == ITEM_HASH_HEX_DIGITS
            && hash
                .bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b));
        if hash_ok {
            Ok(Self(value.to_owned()))
        } else {
            Err(invalid())
        }
    }
}

impl fmt::Display for ItemId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum MediaKind {
    #[default]
    Movie,
    Show,
    Episode,
    Album,
    Artist,
    Game,
    Custom,
}

/// The artwork slots of an item, as they appear in image URLs (`/img/{item}/{kind}`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ImageKind {
    Poster,
    Background,
    Logo,
    Thumbnail,
}

impl ImageKind {
    pub const ALL: [ImageKind; 4] = [Self::Poster, Self::Background, Self::Logo, Self::Thumbnail];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Poster => "poster",
            Self::Background => "background",
            Self::Logo => "logo",
            Self::Thumbnail => "thumbnail",
        }
    }
}

impl FromStr for ImageKind {
    type Err = FieldError;

    fn from_str(value: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|kind| kind.as_str() == value)
            .ok_or_else(|| {
                FieldError::new(
                    "kind",
                    format!(
                        "invalid image kind {value:?}: expected poster, background, logo or thumbnail"
                    ),
                )
            })
    }
}

/// A source's handle on one image. The key means something only to the source that made it (a
/// path below a local media root, an upstream image path) and never leaves the server.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImageRef {
    pub key: String,
    /// Token that changes whenever the image bytes may have changed. It becomes the strong ETag
    /// and the `v` parameter of the public URL, which makes that URL safe to cache as immutable.
    pub version: String,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ItemImages {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub poster: Option<ImageRef>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub background: Option<ImageRef>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub logo: Option<ImageRef>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub thumbnail: Option<ImageRef>,
}

impl ItemImages {
    pub fn get(&self, kind: ImageKind) -> Option<&ImageRef> {
        match kind {
            ImageKind::Poster => self.poster.as_ref(),
            ImageKind::Background => self.background.as_ref(),
            ImageKind::Logo => self.logo.as_ref(),
            ImageKind::Thumbnail => self.thumbnail.as_ref(),
        }
    }

    pub fn slot_mut(&mut self, kind: ImageKind) -> &mut Option<ImageRef> {
        match kind {
            ImageKind::Poster => &mut self.poster,
            ImageKind::Background => &mut self.background,
            ImageKind::Logo => &mut self.logo,
            ImageKind::Thumbnail => &mut self.thumbnail,
        }
    }

    /// True when the item has something a screen can show full-size.
    pub fn is_displayable(&self) -> bool {
        self.poster.is_some() || self.background.is_some()
    }
}

/// Ratings on a 0 to 10 scale, whatever scale the source used.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Ratings {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub audience: Option<f32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub critic: Option<f32>,
}

/// Technical badges a cinema display shows beside the poster.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Badges {
    /// Vertical resolution class, such as `4k` or `1080p`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resolution: Option<String>,
    #[serde(default)]
    pub hdr: bool,
    #[serde(default)]
    pub dolby_vision: bool,
    #[serde(default)]
    pub atmos: bool,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExternalLinks {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub imdb_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tmdb_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trailer: Option<String>,
}

/// One title in the catalog, in the same shape whichever source produced it.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct MediaItem {
    pub id: Option<ItemId>,
    pub source: Option<SourceId>,
    /// The source's own key for the item; never sent to screens.
    pub upstream_key: String,
    pub kind: MediaKind,
    pub title: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub original_title: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub year: Option<u16>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tagline: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub overview: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub genres: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content_rating: Option<String>,
    #[serde(default)]
    pub ratings: Ratings,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub runtime_minutes: Option<u32>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub studios: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub directors: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub cast: Vec<String>,
    #[serde(default)]
    pub badges: Badges,
    #[serde(default)]
    pub images: ItemImages,
    #[serde(default)]
    pub links: ExternalLinks,
    /// Unix seconds when the source first saw the item.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub added_at: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub library: Option<String>,
    /// Built-in demo content, shown only while no real source has items.
    #[serde(default)]
    pub demo: bool,
}

impl MediaItem {
    /// Sets `source` and the derived `id` together, so the two can never disagree.
    pub fn assign_identity(&mut self, source: &SourceId) {
        self.id = Some(ItemId::derive(source, &self.upstream_key));
        self.source = Some(source.clone());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn item_id_is_stable_and_parses_back() {
        let source = SourceId::new("local").unwrap();
        let first = ItemId::derive(&source, "posters/Alien (1979).jpg");
        let second = ItemId::derive(&source, "posters/Alien (1979).jpg");
        assert_eq!(first, second);
        assert_eq!(first.as_str().parse::<ItemId>().unwrap(), first);
    }

    #[test]
    fn item_id_rejects_path_like_input() {
        for bad in [
            "",
            "..",
            "local-../etc",
            "local-0123456789abcdeg",
            "local-0123456789ABCDEF",
            "local-0123456789abcdef/..",
            "local-0123456789abcde\0",
            "/etc/passwd",
            "local%2f-0123456789abcdef",
        ] {
            assert!(bad.parse::<ItemId>().is_err(), "{bad:?} was accepted");
        }
    }

    #[test]
    fn image_kind_round_trips() {
        for kind in ImageKind::ALL {
            assert_eq!(kind.as_str().parse::<ImageKind>().unwrap(), kind);
        }
        assert!("poster.jpg".parse::<ImageKind>().is_err());
    }
}
