//! The deterministic generator behind [`Library::generate`](super::Library::generate).
//!
//! Values come from a SplitMix64 hash of the canonical index (identity) or of the index plus
//! the seed (per-server variation). Generating an item therefore never depends on the items
//! before it, so any index range can be generated on its own.

use std::ops::Range;

use crate::hash::hash;

use super::media::{AudioFormat, DynamicRange, MediaInfo, Resolution};
use super::names::{
    ADJECTIVES, CHARACTERS, COUNTRIES, FIRST_NAMES, LAST_NAMES, MOVIE_GENRES, MUSIC_GENRES, NOUNS,
    OFFICIAL_RATINGS, RECORD_LABELS, SERIES_SUFFIXES, SPECIAL_MOVIE_TITLES, STUDIOS, TAGLINES,
};
use super::{
    Collection, ImageShape, ImageState, Images, Item, ItemKind, LibraryKind, Person, PersonKind,
    ProviderIds,
};

/// Start of the `added_at` range: 2020-09-13T12:26:40Z.
const ADDED_EPOCH: i64 = 1_600_000_000;
/// Width of the `added_at` range in seconds (about 4.7 years).
const ADDED_SPAN: u64 = 150_000_000;

/// Original titles in other scripts (German, Japanese, Spanish, Russian), given to some movies.
const ORIGINAL_TITLES: [&str; 4] = [
    "Die stille Bucht",
    "静かな港",
    "El último faro",
    "Тихая гавань",
];

const COLLECTION_TITLES: [&str; 3] = ["Staff Picks", "Festival Favourites", "Late Night"];

pub(super) fn items(
    kind: LibraryKind,
    range: Range<u64>,
    seed: u64,
) -> (Vec<Item>, Vec<Collection>) {
    let mut items = Vec::new();
    match kind {
        LibraryKind::Movies => {
            items.extend(range.map(|canonical| movie(canonical, seed)));
        }
        LibraryKind::Shows => {
            for canonical in range {
                push_series(&mut items, canonical, seed);
            }
        }
        LibraryKind::Music => {
            let first = range.start;
            for canonical in range {
                // Three albums per artist; a range that starts mid-artist still gets the artist.
                if canonical % 3 == 0 || canonical == first {
                    items.push(artist(canonical / 3, seed));
                }
                let artist_position = items
                    .iter()
                    .rposition(|item| item.kind == ItemKind::MusicArtist);
                items.push(album(canonical, seed, artist_position));
            }
        }
        LibraryKind::Photos => {
            items.extend(range.map(|canonical| photo(canonical, seed)));
        }
    }
    let collections = if kind == LibraryKind::Movies {
        collections(items.len())
    } else {
        Vec::new()
    };
    (items, collections)
}

/// Picks an element of a non-empty list by hash.
fn pick<T: Copy>(list: &[T], value: u64) -> T {
    list[(value % list.len() as u64) as usize]
}

/// Makes a two-word title, unique for the first 900 indices and numbered after that.
fn two_word_title(index: u64) -> String {
    let words = (ADJECTIVES.len() * NOUNS.len()) as u64;
    let combination = index % words;
    let adjective = ADJECTIVES[(combination / NOUNS.len() as u64) as usize];
    let noun = NOUNS[(combination % NOUNS.len() as u64) as usize];
    match index / words {
        0 => format!("{adjective} {noun}"),
        round => format!("{adjective} {noun} {}", round + 1),
    }
}

fn sort_title(title: &str) -> String {
    for article in ["The ", "A ", "An "] {
        if let Some(rest) = title.strip_prefix(article) {
            return rest.to_owned();
        }
    }
    title.to_owned()
}

fn person_name(number: u64) -> String {
    let first = pick(&FIRST_NAMES, hash(number, 1));
    let last = pick(&LAST_NAMES, hash(number, 2));
    format!("{first} {last}")
}

fn genres(canonical: u64, list: &[&str]) -> Vec<String> {
    let count = 1 + hash(canonical, 10) % 3;
    let start = hash(canonical, 11);
    // Consecutive entries of the list from a hashed start, so the genres are distinct.
    (0..count)
        .map(|offset| pick(list, start + offset).to_owned())
        .collect()
}

/// Audience rating from 0 to 10. One item in six gets a whole number, which JSON still sends
/// as `8.0`.
fn community_rating(canonical: u64) -> f64 {
    if canonical.is_multiple_of(6) {
        (5 + hash(canonical, 20) % 5) as f64
    } else {
        (50 + hash(canonical, 21) % 45) as f64 / 10.0
    }
}

fn people(canonical: u64) -> Vec<Person> {
    let base = canonical * 16;
    let mut people = vec![
        Person {
            name: person_name(base),
            kind: PersonKind::Director,
            role: None,
            number: base,
        },
        Person {
            name: person_name(base + 1),
            kind: PersonKind::Writer,
            role: None,
            number: base + 1,
        },
    ];
    let actors = 3 + hash(canonical, 30) % 3;
    for offset in 0..actors {
        let number = base + 2 + offset;
        people.push(Person {
            name: person_name(number),
            kind: PersonKind::Actor,
            role: Some(pick(&CHARACTERS, hash(number, 31)).to_owned()),
            number,
        });
    }
    people
}

fn date(year: u16, value: u64) -> String {
    let month = 1 + value % 12;
    let day = 1 + (value / 12) % 28;
    format!("{year:04}-{month:02}-{day:02}")
}

fn added_at(canonical: u64, seed: u64) -> i64 {
    ADDED_EPOCH + (hash(canonical ^ seed.rotate_left(17), 40) % ADDED_SPAN) as i64
}

/// Artwork of a top-level item by the rules in the module table of [`super`].
fn top_level_images(variation: u64) -> Images {
    if variation % 13 == 5 {
        return Images {
            primary: ImageState::Absent,
            primary_shape: ImageShape::Poster,
            backdrops: 0,
            logo: ImageState::Absent,
        };
    }
    Images {
        primary: if variation % 13 == 8 {
            ImageState::Untagged
        } else {
            ImageState::Tagged
        },
        primary_shape: if variation % 17 == 3 {
            ImageShape::Landscape
        } else {
            ImageShape::Poster
        },
        backdrops: 1 + (variation % 3) as u8,
        // Items with an untagged poster list no image at all (`ImageTags: {}`).
        logo: if variation.is_multiple_of(3) || variation % 13 == 8 {
            ImageState::Absent
        } else {
            ImageState::Tagged
        },
    }
}

fn media(variation: u64, runtime_minutes: u32) -> MediaInfo {
    let (resolution, dynamic_range) = match variation % 5 {
        0 => {
            let range = match variation % 20 {
                0 => DynamicRange::DolbyVision { profile: 8 },
                10 => DynamicRange::DolbyVision { profile: 5 },
                5 => DynamicRange::Hdr10,
                15 => DynamicRange::Hdr10Plus,
                _ => DynamicRange::Sdr,
            };
            (Resolution::Uhd4k, range)
        }
        1 => (Resolution::Hd720, DynamicRange::Sdr),
        2 if variation % 4 == 2 => (Resolution::Sd, DynamicRange::Sdr),
        3 if variation % 8 == 3 => (Resolution::Hd1080, DynamicRange::Hlg),
        _ => (Resolution::Hd1080, DynamicRange::Sdr),
    };
    let (audio, channels) = match variation % 7 {
        0 => (AudioFormat::TrueHdAtmos, 8),
        3 => (AudioFormat::Eac3Atmos, 6),
        1 => (AudioFormat::DtsHdMa, 8),
        2 | 4 => (AudioFormat::Ac3, 6),
        5 => (AudioFormat::Eac3, 6),
        _ => (AudioFormat::Aac, 2),
    };
    let bitrate_kbps: u32 = match resolution {
        Resolution::Uhd4k => 58_000,
        Resolution::Hd1080 => 12_000,
        Resolution::Hd720 => 5_500,
        Resolution::Sd => 2_000,
    };
    let size_bytes = u64::from(bitrate_kbps) * 1000 / 8 * u64::from(runtime_minutes) * 60;
    MediaInfo {
        resolution,
        dynamic_range,
        video_codec: if resolution == Resolution::Uhd4k {
            "hevc"
        } else {
            "h264"
        },
        audio,
        channels,
        container: "mkv",
        size_bytes,
        bitrate_kbps,
    }
}

fn movie(canonical: u64, seed: u64) -> Item {
    let variation = canonical.wrapping_add(seed);
    let sparse = variation % 9 == 4;
    let title = match SPECIAL_MOVIE_TITLES.get(canonical as usize) {
        Some(special) => (*special).to_owned(),
        None => two_word_title(canonical - SPECIAL_MOVIE_TITLES.len() as u64),
    };
    let year = 1950 + (hash(canonical, 3) % 76) as u16;
    let runtime_minutes = 80 + (hash(canonical, 4) % 100) as u32;
    let added_at = added_at(canonical, seed);

    let mut item = Item {
        key: 0,
        kind: ItemKind::Movie,
        canonical,
        parent: None,
        grandparent: None,
        index_number: None,
        sort_title: sort_title(&title),
        original_title: (canonical % 11 == 7)
            .then(|| pick(&ORIGINAL_TITLES, hash(canonical, 5)).to_owned()),
        year: Some(year),
        premiere_date: Some(date(year, hash(canonical, 6))),
        overview: Some(format!(
            "In {year}, a {} {} draws strangers into one long night.",
            pick(&ADJECTIVES, hash(canonical, 7)).to_lowercase(),
            pick(&NOUNS, hash(canonical, 8)).to_lowercase(),
        )),
        tagline: canonical
            .is_multiple_of(2)
            .then(|| pick(&TAGLINES, hash(canonical, 9)).to_owned()),
        genres: genres(canonical, &MOVIE_GENRES),
        official_rating: OFFICIAL_RATINGS[(canonical % 6) as usize].map(str::to_owned),
        community_rating: Some(community_rating(canonical)),
        critic_rating: Some((40 + hash(canonical, 22) % 60) as f64),
        studios: vec![pick(&STUDIOS, hash(canonical, 12)).to_owned()],
        countries: vec![pick(&COUNTRIES, hash(canonical, 13)).to_owned()],
        people: people(canonical),
        provider_ids: ProviderIds {
            imdb: Some(format!("tt{:07}", 1_100_000 + canonical)),
            tmdb: Some((10_000 + canonical * 3).to_string()),
            tvdb: None,
            musicbrainz: None,
        },
        runtime_minutes: Some(runtime_minutes),
        added_at,
        updated_at: added_at + (hash(canonical, 41) % 1_000_000) as i64,
        images: top_level_images(variation),
        media: Some(media(variation, runtime_minutes)),
        sparse,
        title,
    };
    if sparse {
        strip_optional(&mut item);
    }
    item
}

/// Removes the fields that servers leave out when their metadata agents found nothing.
fn strip_optional(item: &mut Item) {
    item.overview = None;
    item.tagline = None;
    item.official_rating = None;
    item.community_rating = None;
    item.critic_rating = None;
    item.studios.clear();
    item.countries.clear();
    item.people.clear();
    item.original_title = None;
}

fn push_series(items: &mut Vec<Item>, canonical: u64, seed: u64) {
    let variation = canonical.wrapping_add(seed);
    let sparse = variation % 9 == 4;
    let noun = pick(&NOUNS, hash(canonical, 50));
    let suffix = pick(&SERIES_SUFFIXES, hash(canonical, 51));
    let title = match canonical {
        0..=239 => format!("The {noun} {suffix}"),
        _ => format!("The {noun} {suffix} {}", canonical / 240 + 1),
    };
    let year = 1990 + (hash(canonical, 3) % 36) as u16;
    let added_at = added_at(canonical, seed);
    let series_position = items.len();

    let mut series = Item {
        key: 0,
        kind: ItemKind::Series,
        canonical,
        parent: None,
        grandparent: None,
        index_number: None,
        sort_title: sort_title(&title),
        original_title: None,
        year: Some(year),
        premiere_date: Some(date(year, hash(canonical, 6))),
        overview: Some(format!(
            "Season after season, the people of {} keep one secret.",
            noun.to_lowercase()
        )),
        tagline: None,
        genres: genres(canonical, &MOVIE_GENRES),
        official_rating: OFFICIAL_RATINGS[(canonical % 6) as usize].map(str::to_owned),
        community_rating: Some(community_rating(canonical)),
        critic_rating: None,
        studios: vec![pick(&STUDIOS, hash(canonical, 12)).to_owned()],
        countries: vec![pick(&COUNTRIES, hash(canonical, 13)).to_owned()],
        people: people(canonical + 1_000_000),
        provider_ids: ProviderIds {
            imdb: Some(format!("tt{:07}", 5_100_000 + canonical)),
            tmdb: Some((60_000 + canonical * 3).to_string()),
            tvdb: Some((70_000 + canonical).to_string()),
            musicbrainz: None,
        },
        runtime_minutes: Some(45),
        added_at,
        updated_at: added_at + 86_400,
        images: top_level_images(variation),
        media: None,
        sparse,
        title,
    };
    if sparse {
        strip_optional(&mut series);
    }
    let series_year = series.year;
    items.push(series);

    let seasons = 1 + (canonical % 3) as u32;
    for season_number in 1..=seasons {
        let season_position = items.len();
        let season_variation = variation + u64::from(season_number);
        items.push(Item {
            key: 0,
            kind: ItemKind::Season,
            canonical,
            parent: Some(series_position),
            grandparent: None,
            index_number: Some(season_number),
            title: format!("Season {season_number}"),
            sort_title: format!("Season {season_number}"),
            original_title: None,
            year: series_year.map(|year| year + season_number as u16 - 1),
            premiere_date: None,
            overview: None,
            tagline: None,
            genres: Vec::new(),
            official_rating: None,
            community_rating: None,
            critic_rating: None,
            studios: Vec::new(),
            countries: Vec::new(),
            people: Vec::new(),
            provider_ids: ProviderIds::default(),
            runtime_minutes: None,
            added_at: added_at + i64::from(season_number),
            updated_at: added_at + 86_400,
            images: Images {
                // Every fourth season has no poster of its own, so clients fall back to the
                // series poster.
                primary: if season_variation.is_multiple_of(4) {
                    ImageState::Absent
                } else {
                    ImageState::Tagged
                },
                primary_shape: ImageShape::Poster,
                backdrops: 0,
                logo: ImageState::Absent,
            },
            media: None,
            sparse: true,
        });

        let episodes = 2 + ((canonical + u64::from(season_number)) % 4) as u32;
        for episode_number in 1..=episodes {
            items.push(episode(
                canonical,
                variation,
                season_number,
                episode_number,
                series_position,
                season_position,
                added_at,
            ));
        }
    }
}

fn episode(
    canonical: u64,
    variation: u64,
    season_number: u32,
    episode_number: u32,
    series_position: usize,
    season_position: usize,
    series_added_at: i64,
) -> Item {
    let episode_id =
        canonical * 10_000 + u64::from(season_number) * 100 + u64::from(episode_number);
    let episode_variation = variation + u64::from(season_number) + u64::from(episode_number);
    let title = two_word_title(hash(episode_id, 60) % 900);
    let runtime_minutes = 40 + (hash(episode_id, 61) % 20) as u32;
    let added_at = series_added_at + i64::from(season_number) * 1000 + i64::from(episode_number);
    Item {
        key: 0,
        kind: ItemKind::Episode,
        canonical,
        parent: Some(season_position),
        grandparent: Some(series_position),
        index_number: Some(episode_number),
        sort_title: title.clone(),
        title,
        original_title: None,
        year: None,
        premiere_date: None,
        overview: Some("Someone returns with news nobody wants.".to_owned()),
        tagline: None,
        genres: Vec::new(),
        official_rating: None,
        community_rating: Some(community_rating(episode_id)),
        critic_rating: None,
        studios: Vec::new(),
        countries: Vec::new(),
        people: Vec::new(),
        provider_ids: ProviderIds {
            imdb: None,
            tmdb: None,
            tvdb: Some((9_000_000 + episode_id).to_string()),
            musicbrainz: None,
        },
        runtime_minutes: Some(runtime_minutes),
        added_at,
        updated_at: added_at,
        images: Images {
            // Episode stills are landscape. Every third episode has none, so clients fall back
            // to the season or series poster.
            primary: if episode_variation.is_multiple_of(3) {
                ImageState::Absent
            } else {
                ImageState::Tagged
            },
            primary_shape: ImageShape::Landscape,
            backdrops: 0,
            logo: ImageState::Absent,
        },
        media: Some(media(episode_variation, runtime_minutes)),
        sparse: false,
    }
}

fn artist(artist_index: u64, seed: u64) -> Item {
    let number = 50_000_000 + artist_index;
    let title = person_name(number);
    let variation = artist_index.wrapping_add(seed);
    let added_at = added_at(number, seed);
    Item {
        key: 0,
        kind: ItemKind::MusicArtist,
        canonical: artist_index,
        parent: None,
        grandparent: None,
        index_number: None,
        sort_title: title.clone(),
        title,
        original_title: None,
        year: None,
        premiere_date: None,
        overview: Some("A band that plays only at dawn.".to_owned()),
        tagline: None,
        genres: genres(number, &MUSIC_GENRES),
        official_rating: None,
        community_rating: None,
        critic_rating: None,
        studios: Vec::new(),
        countries: vec![pick(&COUNTRIES, hash(number, 13)).to_owned()],
        people: Vec::new(),
        provider_ids: ProviderIds {
            musicbrainz: Some(musicbrainz_id(number)),
            ..ProviderIds::default()
        },
        runtime_minutes: None,
        added_at,
        updated_at: added_at,
        images: Images {
            primary: if variation % 5 == 4 {
                ImageState::Absent
            } else {
                ImageState::Tagged
            },
            primary_shape: ImageShape::Square,
            backdrops: 1,
            logo: ImageState::Absent,
        },
        media: None,
        sparse: false,
    }
}

fn album(canonical: u64, seed: u64, artist_position: Option<usize>) -> Item {
    let variation = canonical.wrapping_add(seed);
    let number = 60_000_000 + canonical;
    let title = two_word_title(hash(number, 70) % 900);
    let year = 1960 + (hash(number, 3) % 66) as u16;
    let added_at = added_at(number, seed);
    let mut images = top_level_images(variation);
    images.primary_shape = ImageShape::Square;
    images.logo = ImageState::Absent;
    Item {
        key: 0,
        kind: ItemKind::MusicAlbum,
        canonical,
        parent: artist_position,
        grandparent: None,
        index_number: None,
        sort_title: sort_title(&title),
        title,
        original_title: None,
        year: Some(year),
        premiere_date: Some(date(year, hash(number, 6))),
        overview: None,
        tagline: None,
        genres: genres(number, &MUSIC_GENRES),
        official_rating: None,
        community_rating: None,
        critic_rating: None,
        studios: vec![pick(&RECORD_LABELS, hash(number, 12)).to_owned()],
        countries: Vec::new(),
        people: Vec::new(),
        provider_ids: ProviderIds {
            musicbrainz: Some(musicbrainz_id(number)),
            ..ProviderIds::default()
        },
        runtime_minutes: Some(35 + (hash(number, 4) % 40) as u32),
        added_at,
        updated_at: added_at,
        images,
        media: None,
        sparse: false,
    }
}

fn photo(canonical: u64, seed: u64) -> Item {
    let title = format!("IMG_{:04}", canonical + 1);
    let added_at = added_at(canonical + 80_000_000, seed);
    Item {
        key: 0,
        kind: ItemKind::Photo,
        canonical,
        parent: None,
        grandparent: None,
        index_number: None,
        sort_title: title.clone(),
        title,
        original_title: None,
        year: Some(2015 + (canonical % 10) as u16),
        premiere_date: None,
        overview: None,
        tagline: None,
        genres: Vec::new(),
        official_rating: None,
        community_rating: None,
        critic_rating: None,
        studios: Vec::new(),
        countries: Vec::new(),
        people: Vec::new(),
        provider_ids: ProviderIds::default(),
        runtime_minutes: None,
        added_at,
        updated_at: added_at,
        images: Images {
            primary: ImageState::Tagged,
            primary_shape: if canonical.is_multiple_of(2) {
                ImageShape::Landscape
            } else {
                ImageShape::Poster
            },
            backdrops: 0,
            logo: ImageState::Absent,
        },
        media: None,
        sparse: true,
    }
}

/// Derives a MusicBrainz-shaped id (UUID text) from a number.
fn musicbrainz_id(number: u64) -> String {
    let high = hash(number, 90);
    let low = hash(number, 91);
    format!(
        "{:08x}-{:04x}-4{:03x}-8{:03x}-{:012x}",
        high >> 32,
        (high >> 16) & 0xffff,
        high & 0xfff,
        low >> 52,
        low & 0xffff_ffff_ffff
    )
}

/// Up to three collections of up to eight movies each, one per twenty movies.
fn collections(movie_count: usize) -> Vec<Collection> {
    if movie_count < 4 {
        return Vec::new();
    }
    let count = (movie_count / 20 + 1).min(COLLECTION_TITLES.len());
    (0..count)
        .map(|index| Collection {
            key: 0,
            title: COLLECTION_TITLES[index].to_owned(),
            members: (index..movie_count).step_by(index + 2).take(8).collect(),
        })
        .collect()
}
