//! Word lists the generator combines into titles, people, studios and genres.
//!
//! The lists mix scripts on purpose: accented Latin, CJK, Arabic (right to left) and emoji, so
//! every consumer of a fake library meets them without asking.

/// Titles of the first movies of every library, in canonical order. Each one exercises a
/// different text path: a combining-free accent, CJK, right-to-left Arabic and a leading emoji.
pub const SPECIAL_MOVIE_TITLES: [&str; 4] = ["Amélie", "千と千尋の神隠し", "وجدة", "🎬 Premiere"];

pub const ADJECTIVES: [&str; 30] = [
    "Silent",
    "Crimson",
    "Hidden",
    "Last",
    "Electric",
    "Frozen",
    "Golden",
    "Broken",
    "Distant",
    "Midnight",
    "Northern",
    "Paper",
    "Quiet",
    "Restless",
    "Scarlet",
    "Shallow",
    "Sleeping",
    "Southern",
    "Stolen",
    "Sudden",
    "Tender",
    "Twisted",
    "Velvet",
    "Wandering",
    "Wild",
    "Winter",
    "Burning",
    "Hollow",
    "Lonely",
    "Bright",
];

pub const NOUNS: [&str; 30] = [
    "Harbor",
    "Orchard",
    "Signal",
    "Kingdom",
    "Garden",
    "Horizon",
    "Lantern",
    "Mirror",
    "Meadow",
    "Parade",
    "Railway",
    "Summit",
    "Tide",
    "Voyage",
    "Echo",
    "Frontier",
    "Citadel",
    "Canyon",
    "Circus",
    "Compass",
    "Island",
    "Lighthouse",
    "Marathon",
    "Monsoon",
    "Observatory",
    "Passage",
    "Quarry",
    "Reef",
    "Satellite",
    "Tower",
];

/// Endings for series titles, joined to a noun ("Harbor Files").
pub const SERIES_SUFFIXES: [&str; 8] = [
    "Files",
    "Chronicles",
    "Diaries",
    "Station",
    "Heights",
    "Academy",
    "Detectives",
    "Saga",
];

pub const FIRST_NAMES: [&str; 20] = [
    "Zoë", "José", "Ingrid", "Kenji", "Amara", "Lars", "Noor", "Mateo", "Saoirse", "Dmitri",
    "Hélène", "Tomás", "Yuki", "Björn", "Chiara", "Farid", "Maren", "Olu", "Priya", "Renée",
];

pub const LAST_NAMES: [&str; 20] = [
    "Marlowe",
    "Okafor",
    "Lindqvist",
    "Tanaka",
    "Ferreira",
    "Novak",
    "Haddad",
    "Castellanos",
    "Brennan",
    "Petrov",
    "Dubois",
    "Åkesson",
    "Moreau",
    "Nakamura",
    "Rossi",
    "Kowalczyk",
    "Mbeki",
    "Sørensen",
    "Iyer",
    "Quintero",
];

pub const CHARACTERS: [&str; 12] = [
    "The Keeper",
    "Detective Hale",
    "Captain Ora",
    "Young Mira",
    "The Stranger",
    "Dr. Voss",
    "Lena",
    "Old Tomas",
    "The Pilot",
    "Sister Agnes",
    "Kai",
    "Mayor Brandt",
];

pub const STUDIOS: [&str; 10] = [
    "Northlight Pictures",
    "Studio Kōmori",
    "Harborline Films",
    "Red Meridian",
    "Atlas & Finch",
    "Lumière Nouvelle",
    "Blue Quarry Media",
    "Paper Lantern Studio",
    "Wildframe",
    "Cinémathèque Sud",
];

pub const RECORD_LABELS: [&str; 5] = [
    "Static Bloom Records",
    "Night Ferry",
    "Ørsted Sound",
    "Vinyl Orchard",
    "Low Tide Music",
];

pub const MOVIE_GENRES: [&str; 12] = [
    "Drama",
    "Comedy",
    "Thriller",
    "Science Fiction",
    "Animation",
    "Documentary",
    "Romance",
    "Horror",
    "Adventure",
    "Mystery",
    "Family",
    "Crime",
];

pub const MUSIC_GENRES: [&str; 6] = ["Jazz", "Electronic", "Folk", "Rock", "Classical", "Hip-Hop"];

pub const COUNTRIES: [&str; 8] = [
    "France",
    "Japan",
    "Saudi Arabia",
    "United States of America",
    "Denmark",
    "Brazil",
    "Nigeria",
    "South Korea",
];

/// Official ratings in rotation. `None` stands for an item the server has no rating for.
pub const OFFICIAL_RATINGS: [Option<&str>; 6] = [
    Some("PG-13"),
    Some("R"),
    Some("TV-MA"),
    Some("PG"),
    Some("G"),
    None,
];

pub const TAGLINES: [&str; 6] = [
    "Some doors only open once.",
    "Nobody leaves the island.",
    "The signal was never meant for us.",
    "Every map lies a little.",
    "Midnight changes everyone.",
    "Hope travels light.",
];
