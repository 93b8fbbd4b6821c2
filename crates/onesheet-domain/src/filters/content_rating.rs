//! Content ratings from every common system, placed on one scale of minimum viewer ages.
//!
//! Servers send ratings in many forms: `PG-13`, `Rated R`, Plex's country prefix `us/PG-13`,
//! Jellyfin's `DE-12`, the German `FSK 16`, bare ages such as `12+`. A ceiling written in one
//! system must still hold against items rated in another, so each label maps to the youngest
//! age it admits without an adult. Comparing ages then compares ratings across systems.
//!
//! Ratings that carry no age (US `PG`, UK `PG`, US TV `TV-PG`) sit at 8. The UK board (BBFC)
//! states that a `PG` film should not unsettle a child of around eight or older. US `R` and
//! `TV-MA` sit at 17, the age below which `R` requires an adult. Where one label means
//! different ages in different systems, the higher age wins, so a ceiling never lets through
//! more than a viewer of either system expects.

use std::fmt;

/// Maximum label length, in bytes after spaces and dashes are removed. Real labels are
/// at most about ten characters, so anything longer is unrated.
const MAX_LABEL_LEN: usize = 24;

/// Highest bare age read from a label such as `16+` or `FSK 16`. Larger numbers are not age
/// ratings, so such labels count as unrated.
const MAX_AGE: u8 = 21;

/// A content rating as the youngest viewer age it admits without an adult: 0 for `G`,
/// 13 for `PG-13`, 18 for `NC-17`. A higher age is a stricter rating.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct AgeRating(u8);

impl AgeRating {
    /// The strictest rating, below every real one. A filter uses it as the ceiling when its
    /// configured ceiling cannot be parsed, so such a filter shows only all-ages items.
    pub const ALL_AGES: Self = Self(0);

    /// Labels shown in error messages as examples of accepted ceilings.
    pub const EXAMPLES: &str =
        "G, PG, PG-13, R, NC-17, TV-Y7, TV-PG, TV-14, TV-MA, U, 12A, 15, 18, FSK-12 or 16+";

    /// Creates the rating that admits viewers from `age` years on.
    pub const fn from_min_age(age: u8) -> Self {
        Self(age)
    }

    /// Youngest viewer age, in years.
    pub const fn min_age(self) -> u8 {
        self.0
    }

    /// Parses a label as a server sends it. Returns `None` for unrated labels (`NR`,
    /// `Unrated`, `Not Rated`) and for every label not listed here, so an unknown rating is
    /// treated as unrated, never as a guess.
    ///
    /// Case, spaces, dashes, underscores and dots are ignored, and so is a leading `Rated`.
    /// A country code before a slash (`us/PG-13`, as Plex sends it) is dropped. A two-letter
    /// country code before a dash (`DE-12`, as Jellyfin sends it) is dropped only when the
    /// whole label is not a rating itself, so `TV-14` keeps its meaning. The code must also
    /// differ from the rating prefixes `PG`, `TV`, `NC`, `MA` and `AB`.
    pub fn parse(label: &str) -> Option<Self> {
        let label = label.trim();
        let label = match label.rsplit_once('/') {
            Some((_, rating)) => rating,
            None => label,
        };
        if let Some(rating) = parse_without_country(label) {
            return Some(rating);
        }

        // Two-letter rating prefixes are never read as countries, so the typo `PG-14` does not
        // become a bare 14.
        const RATING_PREFIXES: [&str; 5] = ["PG", "TV", "NC", "MA", "AB"];
        let (country, rating) = label.split_once('-')?;
        let is_country = country.len() == 2
            && country.bytes().all(|b| b.is_ascii_alphabetic())
            && !RATING_PREFIXES
                .iter()
                .any(|prefix| country.eq_ignore_ascii_case(prefix));
        if is_country {
            parse_without_country(rating)
        } else {
            None
        }
    }
}

impl fmt::Display for AgeRating {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "age {}+", self.0)
    }
}

/// Parses a label with no country code. The label is first reduced to upper-case ASCII
/// letters, digits and `+` in a stack buffer, so parsing allocates nothing.
fn parse_without_country(label: &str) -> Option<AgeRating> {
    let mut buffer = [0u8; MAX_LABEL_LEN];
    let mut len = 0;
    for byte in label.bytes() {
        if matches!(byte, b' ' | b'-' | b'_' | b'.') {
            continue;
        }
        if !(byte.is_ascii_alphanumeric() || byte == b'+') || len == MAX_LABEL_LEN {
            return None;
        }
        buffer[len] = byte.to_ascii_uppercase();
        len += 1;
    }
    let compact = std::str::from_utf8(&buffer[..len]).ok()?;
    let compact = match compact.strip_prefix("RATED") {
        Some(rest) if !rest.is_empty() => rest,
        _ => compact,
    };

    named_rating(compact)
        .unwrap_or_else(|| numbered_rating(compact))
        .map(AgeRating)
}

/// Looks up a label that is a name rather than an age. The outer `None` means the label is
/// not listed here, and `Some(None)` means it is listed as unrated.
fn named_rating(compact: &str) -> Option<Option<u8>> {
    let age = match compact {
        "" | "NR" | "UR" | "UNRATED" | "NOTRATED" | "NONE" => return Some(None),

        // US film (MPA), US TV, UK (BBFC), ESRB games (EC, E), and "all ages" in English,
        // French (TP, tous publics) and Dutch (AL, alle leeftijden).
        "G" | "TVY" | "TVG" | "U" | "UC" | "EC" | "E" | "ALL" | "TP" | "AL" => 0,
        "TVY7" | "TVY7FV" => 7,
        "PG" | "TVPG" => 8,
        "E10+" => 10,
        // UK and Irish "A" ratings and Japan's PG12 admit younger viewers with an adult.
        // Their age is still the age for viewers on their own.
        "12A" | "PG12" => 12,
        "PG13" | "T" => 13,
        "TV14" => 14,
        "15A" => 15,
        // `M` is ESRB Mature (17+) and Australian Mature (15+). The stricter reading wins.
        "R" | "TVMA" | "M" => 17,
        "NC17" | "X" | "XXX" | "AO" => 18,
        _ => return None,
    };
    Some(Some(age))
}

/// Reads an age with one of the prefixes that rating systems put before it: none (`12`,
/// `16+`), `FSK`/`FSKAB`/`AB`/`USK` (Germany), `PEGI` (European games), `K` (Finland), `R`,
/// `M`, `MA`, `NC` (Japan, New Zealand, Australia, Singapore). A trailing `+` is allowed.
/// `PG` takes no number here, so a typo such as `PG-14` stays unknown instead of passing.
fn numbered_rating(compact: &str) -> Option<u8> {
    const PREFIXES: [&str; 11] = [
        "", "FSKAB", "FSK", "AB", "USK", "PEGI", "K", "R", "MA", "M", "NC",
    ];

    let compact = compact.strip_suffix('+').unwrap_or(compact);
    let digits_start = compact.find(|c: char| c.is_ascii_digit())?;
    let (prefix, digits) = compact.split_at(digits_start);
    let valid_digits =
        (1..=2).contains(&digits.len()) && digits.bytes().all(|b| b.is_ascii_digit());
    if !PREFIXES.contains(&prefix) || !valid_digits {
        return None;
    }

    let age: u8 = digits.parse().ok()?;
    (age <= MAX_AGE).then_some(age)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn age(label: &str) -> Option<u8> {
        AgeRating::parse(label).map(AgeRating::min_age)
    }

    #[test]
    fn us_film_ladder_is_ordered() {
        let ladder = ["G", "PG", "PG-13", "R", "NC-17"];
        for pair in ladder.windows(2) {
            assert!(age(pair[0]) < age(pair[1]), "{} !< {}", pair[0], pair[1]);
        }
        assert_eq!(age("G"), Some(0));
        assert_eq!(age("PG-13"), Some(13));
        assert_eq!(age("NC-17"), Some(18));
    }

    #[test]
    fn us_tv_ladder_is_ordered() {
        for low in ["TV-Y", "TV-Y7", "TV-G"] {
            assert!(age(low) < age("TV-PG"), "{low} !< TV-PG");
        }
        assert!(age("TV-PG") < age("TV-14"));
        assert!(age("TV-14") < age("TV-MA"));
        assert_eq!(age("TV-Y7-FV"), age("TV-Y7"));
    }

    #[test]
    fn systems_share_one_scale() {
        assert_eq!(age("TV-G"), age("G"));
        assert_eq!(age("TV-PG"), age("PG"));
        assert!(age("PG-13") < age("TV-14"));
        assert_eq!(age("TV-MA"), age("R"));
        assert_eq!(age("U"), age("G"));
        assert!(age("12A") < age("PG-13"));
        assert!(age("15") > age("PG-13"));
        assert!(age("15") < age("R"));
        assert_eq!(age("18"), age("NC-17"));
    }

    #[test]
    fn uk_and_german_labels_parse() {
        let cases = [
            ("U", 0),
            ("PG", 8),
            ("12", 12),
            ("12A", 12),
            ("15", 15),
            ("18", 18),
            ("R18", 18),
            ("FSK-0", 0),
            ("FSK 6", 6),
            ("FSK12", 12),
            ("fsk-16", 16),
            ("FSK ab 18", 18),
            ("ab 12", 12),
            ("USK 16", 16),
            ("PEGI 7", 7),
        ];
        for (label, expected) in cases {
            assert_eq!(age(label), Some(expected), "{label}");
        }
    }

    #[test]
    fn server_forms_parse() {
        let cases = [
            ("Rated R", 17),
            ("rated pg-13", 13),
            ("us/PG-13", 13),
            ("gb/15", 15),
            ("de/FSK 12", 12),
            ("DE-12", 12),
            ("FR-16", 16),
            ("12+", 12),
            ("0+", 0),
            ("MA15+", 15),
            ("R18+", 18),
            ("NC16", 16),
            ("PG13", 13),
            ("PG12", 12),
            ("tv-ma", 17),
            (" TV-14 ", 14),
            ("TV_PG", 8),
        ];
        for (label, expected) in cases {
            assert_eq!(age(label), Some(expected), "{label}");
        }
    }

    #[test]
    fn unrated_and_unknown_labels_are_none() {
        for label in [
            "",
            "NR",
            "Unrated",
            "Not Rated",
            "not-rated",
            "us/NR",
            "Approved",
            "PG-14X",
            "PG-14",
            "TV-15",
            "NC-16X",
            "TV-MB",
            "99",
            "12345",
            "FSK 99",
            "XY12",
            "Größer 12",
            "de/",
            "ZZZ-12",
            "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
        ] {
            assert_eq!(age(label), None, "{label:?}");
        }
    }

    #[test]
    fn ambiguous_m_takes_stricter_reading() {
        assert_eq!(age("M"), Some(17));
    }
}
