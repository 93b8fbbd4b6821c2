//! Kodi-style `.nfo` files: metadata written next to the artwork by Kodi, Jellyfin, Emby,
//! tinyMediaManager and similar tools.
//!
//! Only the fields a poster display uses are read. A file that is too large, not UTF-8 or not
//! well-formed XML is reported as an error, and the scanner treats it as absent.

use std::fs::File;
use std::io::Read;
use std::path::Path;

use onesheet_domain::{MediaItem, MediaKind};
use quick_xml::Reader;
use quick_xml::escape::resolve_predefined_entity;
use quick_xml::events::{BytesStart, Event};

/// Largest NFO read. Real ones are a few KiB, up to a few hundred with long cast lists.
pub(crate) const MAX_NFO_BYTES: u64 = 1024 * 1024;

/// Metadata read from one NFO file; `None` and empty lists mean "not given".
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct NfoData {
    pub kind: Option<MediaKind>,
    pub title: Option<String>,
    pub original_title: Option<String>,
    pub year: Option<u16>,
    pub tagline: Option<String>,
    pub overview: Option<String>,
    pub genres: Vec<String>,
    pub content_rating: Option<String>,
    /// Audience rating on a 0 to 10 scale.
    pub rating: Option<f32>,
    pub runtime_minutes: Option<u32>,
    pub studios: Vec<String>,
    pub directors: Vec<String>,
    pub cast: Vec<String>,
    pub imdb_id: Option<String>,
    pub tmdb_id: Option<String>,
    pub trailer: Option<String>,
}

#[derive(Debug, thiserror::Error)]
pub(crate) enum NfoError {
    #[error("failed to read NFO: {0}")]
    Io(#[from] std::io::Error),
    #[error("NFO is {size} bytes, more than the {MAX_NFO_BYTES} bytes allowed")]
    TooLarge { size: u64 },
    #[error("NFO is not valid UTF-8")]
    NotUtf8,
    #[error("NFO is not well-formed XML: {0}")]
    Malformed(String),
}

/// Reads and parses an NFO file. `Ok(None)` means the file contains no metadata Onesheet uses,
/// such as Kodi's URL-only NFOs or an unknown root element.
pub(crate) fn read_nfo(path: &Path) -> Result<Option<NfoData>, NfoError> {
    let file = File::open(path)?;
    let size = file.metadata()?.len();
    if size > MAX_NFO_BYTES {
        return Err(NfoError::TooLarge { size });
    }

    // The limit on the read protects against a file that grows after the size check.
    let mut bytes = Vec::with_capacity(size as usize);
    file.take(MAX_NFO_BYTES + 1).read_to_end(&mut bytes)?;
    if bytes.len() as u64 > MAX_NFO_BYTES {
        return Err(NfoError::TooLarge {
            size: bytes.len() as u64,
        });
    }

    let text = std::str::from_utf8(&bytes).map_err(|_| NfoError::NotUtf8)?;
    parse_nfo(text)
}

/// Parses NFO text. Anything after the root element (Kodi allows a URL line there) is ignored.
pub(crate) fn parse_nfo(text: &str) -> Result<Option<NfoData>, NfoError> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut reader = Reader::from_str(text);
    let mut parser = NfoParser::default();

    loop {
        let event = reader
            .read_event()
            .map_err(|error| NfoError::Malformed(error.to_string()))?;
        match event {
            Event::Start(start) => {
                if parser.stack.is_empty() && root_kind(&start).is_none() {
                    return Ok(None);
                }
                parser.open(&start);
            }
            Event::End(_) => {
                parser.close();
                if parser.stack.is_empty() {
                    return Ok(Some(parser.finish()));
                }
            }
            Event::Text(text) => {
                let decoded = text
                    .decode()
                    .map_err(|error| NfoError::Malformed(error.to_string()))?;
                parser.text.push_str(&decoded);
            }
            Event::CData(data) => {
                let decoded = data
                    .decode()
                    .map_err(|error| NfoError::Malformed(error.to_string()))?;
                parser.text.push_str(&decoded);
            }
            Event::GeneralRef(reference) => {
                let resolved = reference
                    .resolve_char_ref()
                    .map_err(|error| NfoError::Malformed(error.to_string()))?;
                let name = reference
                    .decode()
                    .map_err(|error| NfoError::Malformed(error.to_string()))?;
                match (resolved, resolve_predefined_entity(&name)) {
                    (Some(c), _) => parser.text.push(c),
                    (None, Some(entity)) => parser.text.push_str(entity),
                    (None, None) => {
                        return Err(NfoError::Malformed(format!("unknown entity &{name};")));
                    }
                }
            }
            Event::Empty(start) if parser.stack.is_empty() => {
                return Ok(root_kind(&start).map(|kind| NfoData {
                    kind: Some(kind),
                    ..NfoData::default()
                }));
            }
            Event::Eof if parser.stack.is_empty() => return Ok(None),
            Event::Eof => {
                return Err(NfoError::Malformed(format!(
                    "the file ends inside <{}>",
                    parser.stack.join("><")
                )));
            }
            _ => {}
        }
    }
}

fn root_kind(start: &BytesStart<'_>) -> Option<MediaKind> {
    match start.local_name().as_ref() {
        b"movie" => Some(MediaKind::Movie),
        b"tvshow" => Some(MediaKind::Show),
        b"episodedetails" => Some(MediaKind::Episode),
        _ => None,
    }
}

/// One `<rating>` inside `<ratings>`.
#[derive(Debug, Clone, Copy)]
struct RatingEntry {
    is_default: bool,
    max: f32,
    value: Option<f32>,
}

#[derive(Debug, Default)]
struct NfoParser {
    /// Open element names, lower-cased, root first.
    stack: Vec<String>,
    /// Text of the innermost element, collected until it closes.
    text: String,
    /// The `type` attribute of the open `<uniqueid>`.
    unique_id_type: Option<String>,
    ratings: Vec<RatingEntry>,
    /// The rating chosen from a closed `<ratings>` block.
    block_rating: Option<f32>,
    data: NfoData,
}

impl NfoParser {
    fn open(&mut self, start: &BytesStart<'_>) {
        let name = String::from_utf8_lossy(start.local_name().as_ref()).to_lowercase();
        if self.stack.is_empty() {
            self.data.kind = root_kind(start);
        }

        let is_root_child = self.stack.len() == 1;
        let in_ratings = self.stack.len() == 2 && self.stack[1] == "ratings";
        if name == "uniqueid" && is_root_child {
            self.unique_id_type = attribute(start, b"type").map(|value| value.to_lowercase());
        }
        if name == "rating" && in_ratings {
            let max = attribute(start, b"max")
                .and_then(|value| value.parse::<f32>().ok())
                .filter(|max| *max > 0.0)
                .unwrap_or(10.0);
            self.ratings.push(RatingEntry {
                is_default: attribute(start, b"default").is_some_and(|value| value == "true"),
                max,
                value: None,
            });
        }

        self.stack.push(name);
        self.text.clear();
    }

    fn close(&mut self) {
        let text = std::mem::take(&mut self.text);
        let value = cap_chars(text.trim(), MAX_FIELD_CHARS);
        if !value.is_empty() {
            self.store(value);
        }
        self.stack.pop();
        if self.stack.len() == 1 {
            self.finish_ratings();
        }
    }

    fn store(&mut self, value: &str) {
        let owned = || Some(value.to_owned());
        // The open elements below the root.
        let path: Vec<&str> = self.stack.iter().skip(1).map(String::as_str).collect();
        let data = &mut self.data;

        match path.as_slice() {
            ["title"] => data.title = owned(),
            ["originaltitle"] => data.original_title = owned(),
            ["year"] => data.year = parse_year(value).or(data.year),
            ["premiered" | "releasedate" | "aired"] if data.year.is_none() => {
                data.year = parse_year(value);
            }
            ["tagline"] => data.tagline = owned(),
            ["plot"] => data.overview = owned(),
            ["outline"] if data.overview.is_none() => data.overview = owned(),
            ["genre"] => push_unique_split(&mut data.genres, value),
            ["mpaa"] => data.content_rating = Some(clean_content_rating(value)),
            ["rating"] => {
                data.rating = parse_decimal(value).map(|rating| rating.clamp(0.0, 10.0));
            }
            ["ratings", "rating", "value"] => {
                if let Some(entry) = self.ratings.last_mut() {
                    entry.value = parse_decimal(value);
                }
            }
            ["runtime"] => data.runtime_minutes = parse_leading_number(value),
            ["studio"] => push_unique(&mut data.studios, value),
            ["director"] => push_unique(&mut data.directors, value),
            ["actor", "name"] => push_unique(&mut data.cast, value),
            ["uniqueid"] => match self.unique_id_type.as_deref() {
                Some("imdb") if value.starts_with("tt") => data.imdb_id = owned(),
                Some("tmdb") if value.bytes().all(|b| b.is_ascii_digit()) => {
                    data.tmdb_id = owned();
                }
                _ => {}
            },
            // Older NFOs put the IMDb id in <id>; TV shows put a TVDB number there instead.
            ["id"] if value.starts_with("tt") && data.imdb_id.is_none() => data.imdb_id = owned(),
            ["tmdbid"] if data.tmdb_id.is_none() => data.tmdb_id = owned(),
            ["trailer"] => data.trailer = trailer_url(value),
            _ => {}
        }
    }

    /// Returns the data once the root element has closed. A rating from `<ratings>` replaces
    /// a plain `<rating>`, because the block is the newer format.
    fn finish(mut self) -> NfoData {
        if self.block_rating.is_some() {
            self.data.rating = self.block_rating;
        }
        self.data
    }

    /// Chooses the rating marked `default="true"`, else the first, scaled to 0 to 10.
    fn finish_ratings(&mut self) {
        let chosen = self
            .ratings
            .iter()
            .find(|entry| entry.is_default && entry.value.is_some())
            .or_else(|| self.ratings.iter().find(|entry| entry.value.is_some()));
        if let Some(RatingEntry {
            max,
            value: Some(value),
            ..
        }) = chosen.copied()
        {
            self.block_rating = Some((value / max * 10.0).clamp(0.0, 10.0));
        }
        self.ratings.clear();
    }
}

impl NfoData {
    /// Overwrites the item's fields with every value this NFO gives.
    pub(crate) fn apply_to(&self, item: &mut MediaItem) {
        let replace = |slot: &mut Option<String>, value: &Option<String>| {
            if value.is_some() {
                slot.clone_from(value);
            }
        };
        let replace_list = |slot: &mut Vec<String>, values: &Vec<String>| {
            if !values.is_empty() {
                slot.clone_from(values);
            }
        };

        if let Some(kind) = self.kind {
            item.kind = kind;
        }
        if let Some(title) = &self.title {
            item.title.clone_from(title);
        }
        if self.year.is_some() {
            item.year = self.year;
        }
        if self.rating.is_some() {
            item.ratings.audience = self.rating;
        }
        if self.runtime_minutes.is_some() {
            item.runtime_minutes = self.runtime_minutes;
        }

        replace(&mut item.original_title, &self.original_title);
        replace(&mut item.tagline, &self.tagline);
        replace(&mut item.overview, &self.overview);
        replace(&mut item.content_rating, &self.content_rating);
        replace(&mut item.links.imdb_id, &self.imdb_id);
        replace(&mut item.links.tmdb_id, &self.tmdb_id);
        replace(&mut item.links.trailer, &self.trailer);
        replace_list(&mut item.genres, &self.genres);
        replace_list(&mut item.studios, &self.studios);
        replace_list(&mut item.directors, &self.directors);
        replace_list(&mut item.cast, &self.cast);
    }
}

fn attribute(start: &BytesStart<'_>, name: &[u8]) -> Option<String> {
    let attribute = start.try_get_attribute(name).ok().flatten()?;
    let value = attribute.unescape_value().ok()?;
    Some(value.trim().to_owned())
}

/// Reads the year from `1982` or from a date such as `1982-06-25`.
fn parse_year(value: &str) -> Option<u16> {
    let digits = value.get(..4)?;
    let year: u16 = digits.parse().ok()?;
    (1870..=2200).contains(&year).then_some(year)
}

/// Parses `7.5`, and also `7,5` as some locales write it.
fn parse_decimal(value: &str) -> Option<f32> {
    let number: f32 = value.replace(',', ".").parse().ok()?;
    number.is_finite().then_some(number)
}

/// Reads the leading digits of values such as `117` or `117 min`.
fn parse_leading_number(value: &str) -> Option<u32> {
    let digits: String = value.chars().take_while(char::is_ascii_digit).collect();
    digits.parse().ok().filter(|minutes| *minutes > 0)
}

/// Strips the wrappers tools add around a certification: `Rated PG-13` and `US:PG-13` both
/// become `PG-13`.
fn clean_content_rating(value: &str) -> String {
    let value = value
        .split_once(':')
        .filter(|(country, _)| {
            country.len() == 2 && country.bytes().all(|b| b.is_ascii_alphabetic())
        })
        .map_or(value, |(_, rating)| rating.trim());
    let has_prefix = value
        .get(..6)
        .is_some_and(|prefix| prefix.eq_ignore_ascii_case("rated "));
    if has_prefix {
        value[6..].trim().to_owned()
    } else {
        value.to_owned()
    }
}

/// Maximum text kept from one NFO element, in characters. A plot runs to about a thousand, and
/// the cap keeps a crafted file from putting megabytes of text into every playlist response.
const MAX_FIELD_CHARS: usize = 4000;
/// Most entries kept in one list (genres, studios, directors, cast).
const MAX_LIST_ENTRIES: usize = 50;

fn cap_chars(value: &str, max: usize) -> &str {
    match value.char_indices().nth(max) {
        Some((end, _)) => value[..end].trim_end(),
        None => value,
    }
}

fn push_unique(list: &mut Vec<String>, value: &str) {
    if list.len() < MAX_LIST_ENTRIES && !list.iter().any(|existing| existing == value) {
        list.push(value.to_owned());
    }
}

/// Some tools write all genres into one element, separated by slashes.
fn push_unique_split(list: &mut Vec<String>, value: &str) {
    for part in value
        .split('/')
        .map(str::trim)
        .filter(|part| !part.is_empty())
    {
        push_unique(list, part);
    }
}

/// Keeps web trailer links and turns Kodi's YouTube add-on links into YouTube URLs, because a
/// screen cannot open `plugin://` links. Other links are dropped.
fn trailer_url(value: &str) -> Option<String> {
    if value.starts_with("https://") || value.starts_with("http://") {
        return Some(value.to_owned());
    }

    let query = value
        .strip_prefix("plugin://plugin.video.youtube/")?
        .split_once('?')?
        .1;
    let video_id = query.split('&').find_map(|pair| {
        let (key, id) = pair.split_once('=')?;
        matches!(key, "videoid" | "video_id").then_some(id)
    })?;
    let valid = !video_id.is_empty()
        && video_id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    valid.then(|| format!("https://www.youtube.com/watch?v={video_id}"))
}

#[cfg(test)]
mod tests;
