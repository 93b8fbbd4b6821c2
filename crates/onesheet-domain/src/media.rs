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

#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default, schemars::JsonSchema,
)]
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
    /// Palette and placeholder of the image at this `version`, filled in by the catalog after
    /// the source listed the image. `None` until computed, or when the image cannot be decoded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub appearance: Option<ImageAppearance>,
}

impl ImageRef {
    /// Creates a reference whose appearance is not known yet.
    pub fn new(key: impl Into<String>, version: impl Into<String>) -> Self {
        Self {
            key: key.into(),
            version: version.into(),
            appearance: None,
        }
    }
}

/// Maximum number of colours in an [`ImageAppearance`] palette read back from disk.
pub const MAX_PALETTE_COLORS: usize = 8;

/// Maximum length of an [`ImageAppearance`] ThumbHash read back from disk, in base64
/// characters. A ThumbHash is at most 25 bytes, which is 36 characters of padded base64.
pub const MAX_THUMBHASH_CHARS: usize = 64;

/// A colour in sRGB with 8 bits per channel. Its text and JSON form is the CSS hex notation
/// `#rrggbb`, written in lower case.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Rgb {
    pub r: u8,
    pub g: u8,
    pub b: u8,
}

impl Rgb {
    pub const fn new(r: u8, g: u8, b: u8) -> Self {
        Self { r, g, b }
    }
}

impl fmt::Display for Rgb {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "#{:02x}{:02x}{:02x}", self.r, self.g, self.b)
    }
}

impl FromStr for Rgb {
    type Err = FieldError;

    /// Parses `#rrggbb` in either case. The short form `#rgb` and colour names are rejected.
    fn from_str(value: &str) -> Result<Self, Self::Err> {
        let invalid = || {
            FieldError::new(
                "color",
                format!("invalid colour {value:?}: expected # and six hex digits, such as #1a2b3c"),
            )
        };
        let digits = value.strip_prefix('#').ok_or_else(invalid)?;
        if digits.len() != 6 || !digits.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(invalid());
        }
        let channel =
            |at: usize| u8::from_str_radix(&digits[at..at + 2], 16).map_err(|_| invalid());
        Ok(Self::new(channel(0)?, channel(2)?, channel(4)?))
    }
}

impl Serialize for Rgb {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Rgb {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct RgbVisitor;

        impl serde::de::Visitor<'_> for RgbVisitor {
            type Value = Rgb;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a colour written as #rrggbb")
            }

            fn visit_str<E: serde::de::Error>(self, value: &str) -> Result<Rgb, E> {
                // The parse error quotes the value, so a long one is rejected without it.
                if value.len() != "#rrggbb".len() {
                    return Err(E::custom(format_args!(
                        "invalid colour of {} characters: expected #rrggbb",
                        value.len()
                    )));
                }
                value.parse().map_err(E::custom)
            }
        }

        deserializer.deserialize_str(RgbVisitor)
    }
}

/// Dominant colours and blurred placeholder of one image version, computed once from its pixels.
/// A screen shows them before and around the image itself.
///
/// Deserialising rejects more than [`MAX_PALETTE_COLORS`] colours and a ThumbHash longer than
/// [`MAX_THUMBHASH_CHARS`] or outside the base64 alphabet, before storing either, so an edited
/// catalog file cannot make the server hold large values.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImageAppearance {
    /// Dominant colours, the one covering the largest area first. Onesheet computes at most five,
    /// and none for an image without an opaque pixel.
    #[serde(deserialize_with = "deserialize_palette")]
    pub palette: Vec<Rgb>,
    /// The image's ThumbHash in standard base64 with padding: a placeholder of about 25 bytes
    /// that a page decodes into a blurred preview.
    #[serde(deserialize_with = "deserialize_thumbhash")]
    pub thumbhash: String,
}

fn deserialize_palette<'de, D: serde::Deserializer<'de>>(
    deserializer: D,
) -> Result<Vec<Rgb>, D::Error> {
    struct PaletteVisitor;

    impl<'de> serde::de::Visitor<'de> for PaletteVisitor {
        type Value = Vec<Rgb>;

        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            write!(f, "a list of at most {MAX_PALETTE_COLORS} colours")
        }

        fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<Vec<Rgb>, A::Error> {
            let mut palette = Vec::new();
            while let Some(color) = seq.next_element::<Rgb>()? {
                if palette.len() == MAX_PALETTE_COLORS {
                    return Err(serde::de::Error::invalid_length(palette.len() + 1, &self));
                }
                palette.push(color);
            }
            Ok(palette)
        }
    }

    deserializer.deserialize_seq(PaletteVisitor)
}

fn deserialize_thumbhash<'de, D: serde::Deserializer<'de>>(
    deserializer: D,
) -> Result<String, D::Error> {
    struct ThumbHashVisitor;

    impl serde::de::Visitor<'_> for ThumbHashVisitor {
        type Value = String;

        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            write!(
                f,
                "a base64 ThumbHash of at most {MAX_THUMBHASH_CHARS} characters"
            )
        }

        fn visit_str<E: serde::de::Error>(self, value: &str) -> Result<String, E> {
            let base64 = value
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'/' | b'='));
            // The message leaves the value out, because it may be long.
            if value.len() > MAX_THUMBHASH_CHARS {
                return Err(E::custom(format_args!(
                    "invalid ThumbHash of {} characters: expected at most {MAX_THUMBHASH_CHARS}",
                    value.len()
                )));
            }
            if !base64 {
                return Err(E::custom(
                    "invalid ThumbHash: expected only base64 characters (A-Z, a-z, 0-9, +, / and =)",
                ));
            }
            Ok(value.to_owned())
        }
    }

    deserializer.deserialize_str(ThumbHashVisitor)
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

    /// Iterates over the images the item has, in the order of [`ImageKind::ALL`].
    pub fn iter(&self) -> impl Iterator<Item = (ImageKind, &ImageRef)> {
        ImageKind::ALL
            .into_iter()
            .filter_map(|kind| self.get(kind).map(|image| (kind, image)))
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
    /// Resolution class: `4K`, `1080p`, `720p` or `SD`.
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
    pub tvdb_id: Option<String>,
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
    /// Titles of the collections and playlists on the source that contain the item.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub collections: Vec<String>,
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

    fn appearance_json(palette_len: usize, thumbhash: &str) -> String {
        let palette = vec!["\"#102030\""; palette_len].join(",");
        format!(
            r#"{{"key":"a.jpg","version":"v1","appearance":{{"palette":[{palette}],"thumbhash":"{thumbhash}"}}}}"#
        )
    }

    #[test]
    fn rgb_round_trips_as_hex() {
        let color = Rgb::new(0x0a, 0xbc, 0xff);
        assert_eq!(color.to_string(), "#0abcff");
        assert_eq!(serde_json::to_string(&color).unwrap(), r##""#0abcff""##);
        assert_eq!(
            serde_json::from_str::<Rgb>(r##""#0ABCff""##).unwrap(),
            color
        );
        assert_eq!("#0abcff".parse::<Rgb>().unwrap(), color);
    }

    #[test]
    fn rgb_rejects_other_notations() {
        for bad in [
            "", "#", "0abcff", "#abc", "#0abcf", "#0abcfff", "#0abcfg", "#+1+2+3", "red", "#ééé",
        ] {
            assert!(bad.parse::<Rgb>().is_err(), "{bad:?} was accepted");
        }
    }

    #[test]
    fn image_ref_without_appearance_loads() {
        let image: ImageRef = serde_json::from_str(r#"{"key":"a.jpg","version":"v1"}"#).unwrap();
        assert_eq!(image, ImageRef::new("a.jpg", "v1"));
        assert_eq!(
            serde_json::to_string(&image).unwrap(),
            r#"{"key":"a.jpg","version":"v1"}"#
        );
    }

    #[test]
    fn image_appearance_round_trips() {
        let image = ImageRef {
            appearance: Some(ImageAppearance {
                palette: vec![Rgb::new(16, 32, 48), Rgb::new(255, 255, 255)],
                thumbhash: "1QcSHQRnh493V4dIh4eXh1h4kJUI".to_owned(),
            }),
            ..ImageRef::new("a.jpg", "v1")
        };
        let json = serde_json::to_string(&image).unwrap();
        assert!(
            json.contains(r##""palette":["#102030","#ffffff"]"##),
            "{json}"
        );
        assert_eq!(serde_json::from_str::<ImageRef>(&json).unwrap(), image);
    }

    #[test]
    fn image_appearance_bounds_palette_length() {
        let full = appearance_json(MAX_PALETTE_COLORS, "AAAA");
        let palette = serde_json::from_str::<ImageRef>(&full)
            .unwrap()
            .appearance
            .unwrap()
            .palette;
        assert_eq!(palette.len(), MAX_PALETTE_COLORS);

        let over = appearance_json(MAX_PALETTE_COLORS + 1, "AAAA");
        let error = serde_json::from_str::<ImageRef>(&over).unwrap_err();
        assert!(error.to_string().contains("at most 8 colours"), "{error}");
    }

    #[test]
    fn image_appearance_bounds_thumbhash() {
        let longest = "A".repeat(MAX_THUMBHASH_CHARS);
        assert!(serde_json::from_str::<ImageRef>(&appearance_json(1, &longest)).is_ok());

        let too_long = "A".repeat(MAX_THUMBHASH_CHARS + 1);
        let error = serde_json::from_str::<ImageRef>(&appearance_json(1, &too_long)).unwrap_err();
        assert!(error.to_string().contains("65 characters"), "{error}");

        for bad in ["AA AA", "AA<b>", "AA\\u0000"] {
            assert!(
                serde_json::from_str::<ImageRef>(&appearance_json(1, bad)).is_err(),
                "{bad:?} was accepted"
            );
        }
    }

    #[test]
    fn image_appearance_rejects_long_colour_without_echoing_it() {
        let long = format!("#{}", "a".repeat(10_000));
        let json = format!(
            r#"{{"key":"a.jpg","version":"v1","appearance":{{"palette":["{long}"],"thumbhash":"AAAA"}}}}"#
        );
        let error = serde_json::from_str::<ImageRef>(&json)
            .unwrap_err()
            .to_string();
        assert!(error.contains("10001 characters"), "{error}");
        assert!(error.len() < 200, "{error}");
    }

    #[test]
    fn media_item_saved_before_collections_loads() {
        let json = r#"{"id":null,"source":null,"upstream_key":"k","kind":"movie","title":"Heat","links":{"imdb_id":"tt0113277"}}"#;
        let item: MediaItem = serde_json::from_str(json).unwrap();
        assert!(item.collections.is_empty());
        assert_eq!(item.links.tvdb_id, None);
        assert_eq!(item.links.imdb_id.as_deref(), Some("tt0113277"));

        let written = serde_json::to_string(&item).unwrap();
        assert!(!written.contains("collections"), "{written}");
        assert!(!written.contains("tvdb_id"), "{written}");
    }

    #[test]
    fn item_images_iterate_in_kind_order() {
        let images = ItemImages {
            poster: Some(ImageRef::new("p.jpg", "1")),
            logo: Some(ImageRef::new("l.png", "2")),
            ..ItemImages::default()
        };
        let kinds: Vec<ImageKind> = images.iter().map(|(kind, _)| kind).collect();
        assert_eq!(kinds, [ImageKind::Poster, ImageKind::Logo]);
    }

    #[test]
    fn image_kind_round_trips() {
        for kind in ImageKind::ALL {
            assert_eq!(kind.as_str().parse::<ImageKind>().unwrap(), kind);
        }
        assert!("poster.jpg".parse::<ImageKind>().is_err());
    }
}
