//! Titles, years and artwork roles from file and folder names.
//!
//! Handles the layouts people actually use: `Blade Runner (1982).jpg`, scene-style
//! `Blade.Runner.1982.1080p.BluRay.x264.jpg`, Kodi's `Name (Year)-poster.jpg` suffixes, and
//! folders such as `Blade Runner (1982)/poster.jpg` where the file name is generic and the
//! title comes from the folder. Every function here is pure.

use std::time::{SystemTime, UNIX_EPOCH};

use unicode_normalization::UnicodeNormalization;

/// The artwork slot a file fills.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum Artwork {
    Poster,
    Background,
    Logo,
}

/// Classification of a file stem: unused artwork, or artwork with an optional role.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum StemKind<'a> {
    /// Artwork Onesheet does not show (season posters, banners, disc art): skipped quietly.
    Unused,
    Art {
        /// The stem without a Kodi role suffix.
        base: &'a str,
        /// The role a Kodi suffix or generic name sets, which overrides the folder.
        role: Option<Artwork>,
        /// True for names such as `poster` or `fanart` that carry no title, so the title
        /// comes from the parent folder.
        generic: bool,
    },
}

/// A title and year read from a name, the title NFC-normalised and trimmed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ParsedTitle {
    pub title: String,
    pub year: Option<u16>,
}

/// Generic stems and the role they imply (`None`: the folder decides).
const GENERIC_STEMS: [(&str, Option<Artwork>); 11] = [
    ("poster", Some(Artwork::Poster)),
    ("folder", None),
    ("cover", None),
    ("default", None),
    ("movie", None),
    ("show", None),
    ("fanart", Some(Artwork::Background)),
    ("background", Some(Artwork::Background)),
    ("backdrop", Some(Artwork::Background)),
    ("logo", Some(Artwork::Logo)),
    ("clearlogo", Some(Artwork::Logo)),
];

/// Kodi suffixes after the last dash, and the role they set.
const ROLE_SUFFIXES: [(&str, Artwork); 6] = [
    ("poster", Artwork::Poster),
    ("fanart", Artwork::Background),
    ("background", Artwork::Background),
    ("backdrop", Artwork::Background),
    ("clearlogo", Artwork::Logo),
    ("logo", Artwork::Logo),
];

/// Kodi artwork types with no slot in Onesheet, as suffixes or whole stems.
const UNUSED_ART: [&str; 9] = [
    "banner",
    "thumb",
    "landscape",
    "disc",
    "discart",
    "clearart",
    "characterart",
    "keyart",
    "extrafanart",
];

/// Scene release tags that end a title when no year does. Words that also occur in titles
/// ("web", "extended", "proper") are left out on purpose.
const RELEASE_TAGS: [&str; 37] = [
    "4k", "8k", "uhd", "bluray", "blu-ray", "bdrip", "brrip", "bdremux", "dvdrip", "dvdscr",
    "hdrip", "webrip", "web-dl", "webdl", "hdtv", "remux", "x264", "x265", "h264", "h265", "hevc",
    "avc", "xvid", "divx", "av1", "10bit", "8bit", "hdr", "hdr10", "hdr10+", "dovi", "sdr", "dts",
    "truehd", "atmos", "aac", "ac3",
];

/// Earliest year accepted as a release year; the first films date from the late 1880s.
const EARLIEST_YEAR: u16 = 1880;

/// Latest year accepted inside brackets, which already mark the number as a year.
const LATEST_BRACKETED_YEAR: u16 = 2100;

/// Classifies a file stem (the name without its extension).
pub(crate) fn classify_stem(stem: &str) -> StemKind<'_> {
    let lower = stem.to_lowercase();

    if is_season_art(&lower) || UNUSED_ART.contains(&lower.as_str()) {
        return StemKind::Unused;
    }

    if let Some(role) = generic_role(&lower) {
        return StemKind::Art {
            base: stem,
            role,
            generic: true,
        };
    }

    if let Some((base, suffix)) = stem.rsplit_once('-') {
        let suffix = suffix.to_lowercase();
        if UNUSED_ART.contains(&suffix.as_str()) {
            return StemKind::Unused;
        }
        if let Some(&(_, role)) = ROLE_SUFFIXES.iter().find(|(name, _)| *name == suffix) {
            let base = base.trim();
            let generic = base.is_empty() || generic_role(&base.to_lowercase()).is_some();
            return StemKind::Art {
                base,
                role: Some(role),
                generic,
            };
        }
    }

    StemKind::Art {
        base: stem,
        role: None,
        generic: false,
    }
}

fn generic_role(lower: &str) -> Option<Option<Artwork>> {
    GENERIC_STEMS
        .iter()
        .find(|(name, _)| *name == lower)
        .map(|&(_, role)| role)
}

/// Kodi season artwork: `season01-poster`, `season-all-fanart`, `season-specials-banner`.
fn is_season_art(lower: &str) -> bool {
    let Some(rest) = lower.strip_prefix("season") else {
        return false;
    };
    rest.starts_with("-all")
        || rest.starts_with("-specials")
        || rest.starts_with(|c: char| c.is_ascii_digit())
}

/// Reads a title and an optional year from a file stem or folder name.
pub(crate) fn parse_title(name: &str) -> ParsedTitle {
    let name: String = name.nfc().collect();
    let name = remove_braced_tags(&name).replace('_', " ");

    if let Some((before, year)) = find_bracketed_year(&name) {
        let title = tidy_title(before);
        if !title.is_empty() {
            return ParsedTitle {
                title,
                year: Some(year),
            };
        }
    }

    // Scene names use dots as separators and have no spaces at all.
    let spaced = if name.contains(' ') {
        name.clone()
    } else {
        name.replace('.', " ")
    };
    let tokens: Vec<&str> = spaced.split_whitespace().collect();
    let first_tag = tokens
        .iter()
        .position(|token| is_release_tag(token))
        .unwrap_or(tokens.len());

    // The year is the last year-like token before the tags, and never the first token, so
    // `1917` and `2001 A Space Odyssey` keep their numbers as titles.
    let latest = latest_bare_year();
    let year_index = (1..first_tag)
        .rev()
        .find(|&index| bare_year(tokens[index], latest).is_some());

    let (title_end, year) = match year_index {
        Some(index) => (index, bare_year(tokens[index], latest)),
        None => (first_tag, None),
    };
    let title = tidy_title(&tokens[..title_end].join(" "));

    if title.is_empty() {
        return ParsedTitle {
            title: tidy_title(&name),
            year: None,
        };
    }
    ParsedTitle { title, year }
}

/// Normalises a title for matching artwork to items: NFC, lower case, and runs of anything
/// but letters and digits collapsed to one space, so `Blade Runner` and `blade.runner` and
/// `Blade  Runner -` agree.
///
/// NOTE: `to_lowercase` is Unicode lower-casing, not full case folding, so a few pairs such as
/// `STRASSE` and `straße` do not match.
pub(crate) fn title_key(title: &str) -> String {
    let lowered: String = title.nfc().flat_map(char::to_lowercase).collect();
    lowered
        .split(|c: char| !c.is_alphanumeric())
        .filter(|word| !word.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

/// Removes Plex-style `{imdb-tt0083658}` and `{edition-...}` tags.
fn remove_braced_tags(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    let mut depth = 0usize;
    for c in name.chars() {
        match c {
            '{' => depth += 1,
            '}' if depth > 0 => depth -= 1,
            _ if depth == 0 => out.push(c),
            _ => {}
        }
    }
    out
}

/// Finds the last `(YYYY)` or `[YYYY]` and returns the text before it and the year.
fn find_bracketed_year(name: &str) -> Option<(&str, u16)> {
    let bytes = name.as_bytes();
    (0..bytes.len().saturating_sub(5)).rev().find_map(|start| {
        let window = &bytes[start..start + 6];
        let closes = matches!((window[0], window[5]), (b'(', b')') | (b'[', b']'));
        if !closes || !window[1..5].iter().all(u8::is_ascii_digit) {
            return None;
        }
        let year: u16 = name.get(start + 1..start + 5)?.parse().ok()?;
        let plausible = (EARLIEST_YEAR..=LATEST_BRACKETED_YEAR).contains(&year);
        plausible.then(|| (&name[..start], year))
    })
}

/// Parses a bare four-digit year no later than `latest`, ignoring surrounding brackets.
fn bare_year(token: &str, latest: u16) -> Option<u16> {
    let token = token.trim_matches(|c| matches!(c, '(' | ')' | '[' | ']'));
    if token.len() != 4 || !token.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let year: u16 = token.parse().ok()?;
    (EARLIEST_YEAR..=latest).contains(&year).then_some(year)
}

/// Returns the latest year a bare number may be: two years after the current one, so that
/// titles such as `Blade Runner 2049` are not read as a year.
fn latest_bare_year() -> u16 {
    const SECONDS_PER_YEAR: u64 = 31_556_952;
    let seconds = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |elapsed| elapsed.as_secs());
    let current = 1970 + seconds / SECONDS_PER_YEAR;
    u16::try_from(current + 2).unwrap_or(LATEST_BRACKETED_YEAR)
}

fn is_release_tag(token: &str) -> bool {
    let token = token
        .trim_matches(|c| matches!(c, '(' | ')' | '[' | ']' | ','))
        .to_lowercase();
    if RELEASE_TAGS.contains(&token.as_str()) {
        return true;
    }

    // Resolutions such as 720p, 1080p, 1080i and 2160p.
    let Some(digits) = token.strip_suffix('p').or_else(|| token.strip_suffix('i')) else {
        return false;
    };
    matches!(
        digits,
        "360" | "480" | "540" | "576" | "720" | "1080" | "1440" | "2160" | "4320"
    )
}

/// Collapses whitespace and trims spaces and dashes left over from a removed year or tag.
fn tidy_title(raw: &str) -> String {
    let collapsed = raw.split_whitespace().collect::<Vec<_>>().join(" ");
    collapsed
        .trim_matches(|c: char| c.is_whitespace() || c == '-')
        .to_owned()
}

#[cfg(test)]
mod tests;
