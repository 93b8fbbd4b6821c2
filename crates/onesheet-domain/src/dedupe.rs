//! De-duplication across sources: one film on several servers appears once in the catalog.
//!
//! Two items are the same title when they are of the same kind and either
//!
//! - share an external id (IMDb, TMDB or TVDB), compared as numbers so `tt0133093`,
//!   `TT133093` and `imdb://tt0133093` agree, or
//! - have equal [`title_key`]s and equal years, both years present. This rule applies only to
//!   movies, shows, games and custom items, because an episode or album title names its item
//!   only together with the show or artist, which [`MediaItem`] does not carry. It also never
//!   joins two groups that carry different ids from the same provider, because those are
//!   different titles that happen to share a name and year, nor two items of the same source,
//!   because one library holding two titles of one name and year (two posters of a film in a
//!   folder, a remake released the same year) means the owner wants both.
//!
//! Sameness is transitive: when A and B share an IMDb id and B and C share title and year, all
//! three are one title. A disjoint-set forest (union-find) over item positions builds these
//! groups. Hash maps from each id and title key to the items that carry it find the pairs,
//! so the work grows linearly with the catalog, plus a scan over the distinct groups that
//! share one title key, kind and year.

use std::collections::HashMap;
use std::collections::hash_map::Entry;
use std::sync::Arc;

use unicode_normalization::char::{decompose_compatible, is_combining_mark};

use crate::media::{ExternalLinks, MediaItem, MediaKind};

/// English articles dropped from the start of a title, or from its end after a comma.
const ARTICLES: [&str; 3] = ["the", "a", "an"];

/// A catalog with each title once.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Deduped {
    /// One item per title, in the order of each title's first appearance in the input.
    pub items: Vec<Arc<MediaItem>>,
    /// Number of input items left out because another item represents their title.
    pub duplicates: usize,
}

/// Keeps one item per title. See the module documentation for when two items are the same.
///
/// The input is in source priority order, and each title keeps its first item unless that
/// item has no poster and a duplicate has one. Then the title keeps the duplicate with a
/// poster that has the most artwork slots filled, the earliest one on a tie. Most layouts
/// need a poster, so a poster outweighs source priority.
pub fn dedupe(items: &[Arc<MediaItem>]) -> Deduped {
    let mut facts: Vec<ItemFacts<'_>> = Vec::with_capacity(items.len());
    let mut ids: Vec<ExternalIds> = Vec::with_capacity(items.len());
    for item in items {
        facts.push(ItemFacts::of(item));
        ids.push(ExternalIds::of(&item.links));
    }
    let mut groups = DisjointSets::new(ids);

    // Items that share any id are one title.
    let mut first_with_id: HashMap<(MediaKind, Provider, u64), usize> =
        HashMap::with_capacity(items.len());
    for (index, item) in facts.iter().enumerate() {
        let item_ids = groups.ids[index];
        for (provider, id) in item_ids.keys() {
            match first_with_id.entry((item.kind, provider, id)) {
                Entry::Occupied(first) => groups.union(*first.get(), index),
                Entry::Vacant(slot) => {
                    slot.insert(index);
                }
            }
        }
    }

    // Items with equal title keys and years are one title unless their groups carry
    // conflicting ids. Each bucket lists one member of every distinct group seen with that
    // key, which is one entry unless different titles share a name and year. The lists are
    // chained through one shared vector, so a bucket costs no allocation of its own.
    let mut first_entry: HashMap<(MediaKind, u16, String), usize> =
        HashMap::with_capacity(items.len());
    let mut entries: Vec<BucketEntry> = Vec::with_capacity(items.len());
    for (index, item) in facts.iter().enumerate() {
        let Some(year) = item.year.filter(|_| matches_by_title(item.kind)) else {
            continue;
        };
        let key = title_key(item.title);
        if key.is_empty() {
            continue;
        }

        let new_entry = entries.len();
        let mut cursor = match first_entry.entry((item.kind, year, key)) {
            Entry::Occupied(first) => *first.get(),
            Entry::Vacant(slot) => {
                slot.insert(new_entry);
                entries.push(BucketEntry::new(index));
                continue;
            }
        };
        loop {
            let entry = entries[cursor];
            // Items without a source (built by hand, not by a source) may always join.
            let other_source = match (facts[entry.member].source, item.source) {
                (Some(a), Some(b)) => a != b,
                _ => true,
            };
            if other_source && groups.can_join(entry.member, index) {
                groups.union(entry.member, index);
                break;
            }
            match entry.next {
                Some(next) => cursor = next,
                None => {
                    entries[cursor].next = Some(new_entry);
                    entries.push(BucketEntry::new(index));
                    break;
                }
            }
        }
    }

    let chosen = pick_representatives(&facts, &mut groups);
    Deduped {
        duplicates: items.len() - chosen.len(),
        items: chosen
            .into_iter()
            .map(|index| Arc::clone(&items[index]))
            .collect(),
    }
}

/// The fields of one item that de-duplication reads. An item is about 900 bytes spread over
/// several allocations, so one quick pass copies these into a compact vector. Loads of
/// different items then overlap in that pass, and later passes do not wait on memory for
/// every item again.
struct ItemFacts<'a> {
    kind: MediaKind,
    year: Option<u16>,
    title: &'a str,
    source: Option<&'a crate::media::SourceId>,
    has_poster: bool,
    /// Number of artwork slots filled.
    artwork: usize,
}

impl<'a> ItemFacts<'a> {
    fn of(item: &'a MediaItem) -> Self {
        Self {
            kind: item.kind,
            year: item.year,
            title: &item.title,
            source: item.source.as_ref(),
            has_poster: item.images.poster.is_some(),
            artwork: item.images.iter().count(),
        }
    }
}

/// One group in the list of groups that share a title key.
#[derive(Debug, Clone, Copy)]
struct BucketEntry {
    /// Any item of the group.
    member: usize,
    /// The next entry of the same bucket, in order of first appearance.
    next: Option<usize>,
}

impl BucketEntry {
    fn new(member: usize) -> Self {
        Self { member, next: None }
    }
}

/// Walks the items in input order and picks the item that represents each group, following
/// the poster rule of [`dedupe`]. Returns the chosen positions in order of each group's first
/// item.
fn pick_representatives(facts: &[ItemFacts<'_>], groups: &mut DisjointSets) -> Vec<usize> {
    const UNSEEN: usize = usize::MAX;

    // For each group root, the position of the group in the output.
    let mut slot_of_root = vec![UNSEEN; facts.len()];
    // For each output position, the group's first item and its current choice.
    let mut first_and_chosen: Vec<(usize, usize)> = Vec::new();

    for (index, item) in facts.iter().enumerate() {
        let root = groups.find(index);
        if slot_of_root[root] == UNSEEN {
            slot_of_root[root] = first_and_chosen.len();
            first_and_chosen.push((index, index));
            continue;
        }

        let (first, chosen) = &mut first_and_chosen[slot_of_root[root]];
        if facts[*first].has_poster || !item.has_poster {
            continue;
        }
        let current = &facts[*chosen];
        if !current.has_poster || item.artwork > current.artwork {
            *chosen = index;
        }
    }

    first_and_chosen
        .into_iter()
        .map(|(_, chosen)| chosen)
        .collect()
}

/// Returns whether a title and year are enough to identify an item of this kind.
fn matches_by_title(kind: MediaKind) -> bool {
    match kind {
        MediaKind::Movie | MediaKind::Show | MediaKind::Game | MediaKind::Custom => true,
        MediaKind::Episode | MediaKind::Album | MediaKind::Artist => false,
    }
}

/// Reduces a title to the key that title matching compares. The steps are Unicode NFKD with
/// combining marks removed, lower case, and removal of apostrophes and dots. Other
/// punctuation becomes a word break, and `&` becomes `and`. One English article is dropped
/// from the start (`The Matrix`) or from the end after a comma (`Matrix, The`), unless it is
/// the whole title. Words are joined by single spaces.
///
/// Both `The Matrix` and `Matrix, The` become `matrix`, and `Amélie` becomes `amelie`.
pub fn title_key(title: &str) -> String {
    let is_article = |word: &str| ARTICLES.iter().any(|a| word.eq_ignore_ascii_case(a));
    let body = match title.rsplit_once(',') {
        Some((head, tail)) if is_article(tail.trim()) && !head.trim().is_empty() => head,
        _ => title,
    };

    let mut key = KeyBuilder::with_capacity(body.len());
    for c in body.chars() {
        if c.is_ascii() {
            key.push(c.to_ascii_lowercase());
            continue;
        }
        // Decomposing one character at a time gives NFKD without its canonical reordering,
        // which only reorders the combining marks that are removed here anyway. Lower-casing
        // comes before the marks are removed, because it can add one: `İ` becomes `i` and a
        // combining dot. Final sigma `ς` becomes `σ`, because lower-casing one character at a
        // time turns `Σ` into `σ` in every position.
        decompose_compatible(c, |part| {
            for lower in part.to_lowercase() {
                if !is_combining_mark(lower) {
                    key.push(if lower == 'ς' { 'σ' } else { lower });
                }
            }
        });
    }

    let mut key = key.key;
    if let Some((first, _)) = key.split_once(' ')
        && is_article(first)
    {
        let article_len = first.len() + 1;
        key.drain(..article_len);
    }
    key
}

/// Joins folded title characters into words separated by single spaces.
struct KeyBuilder {
    key: String,
    /// Whether a word break came after the last character pushed.
    gap: bool,
}

impl KeyBuilder {
    fn with_capacity(capacity: usize) -> Self {
        Self {
            key: String::with_capacity(capacity),
            gap: false,
        }
    }

    /// Adds one character that is already lower case. ASCII characters take the inlined
    /// path, because they are most of most titles and a call per character would cost more
    /// than the work inside.
    #[inline(always)]
    fn push(&mut self, c: char) {
        if c.is_ascii_alphanumeric() {
            self.push_word_char(c);
        } else if c.is_ascii() {
            self.push_ascii_separator(c);
        } else if c.is_alphanumeric() {
            self.push_word_char(c);
        } else if c != '’' {
            // The right single quotation mark is an apostrophe, removed like `'`.
            self.gap = true;
        }
    }

    #[inline(always)]
    fn push_word_char(&mut self, c: char) {
        if self.gap && !self.key.is_empty() {
            self.key.push(' ');
        }
        self.gap = false;
        self.key.push(c);
    }

    fn push_ascii_separator(&mut self, c: char) {
        match c {
            // Removed within a word, so `Ocean's` and `Oceans`, `S.W.A.T.` and `SWAT` agree.
            '\'' | '.' => {}
            '&' => {
                if !self.key.is_empty() {
                    self.key.push(' ');
                }
                self.key.push_str("and");
                self.gap = true;
            }
            _ => self.gap = true,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Provider {
    Imdb,
    Tmdb,
    Tvdb,
}

/// An item's external ids as numbers. `None` where the item has no id or an id that does not
/// parse, which then matches nothing.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
struct ExternalIds {
    imdb: Option<u64>,
    tmdb: Option<u64>,
    tvdb: Option<u64>,
}

impl ExternalIds {
    fn of(links: &ExternalLinks) -> Self {
        Self {
            imdb: links.imdb_id.as_deref().and_then(imdb_number),
            tmdb: links.tmdb_id.as_deref().and_then(numeric_id),
            tvdb: links.tvdb_id.as_deref().and_then(numeric_id),
        }
    }

    fn keys(&self) -> impl Iterator<Item = (Provider, u64)> {
        [
            (Provider::Imdb, self.imdb),
            (Provider::Tmdb, self.tmdb),
            (Provider::Tvdb, self.tvdb),
        ]
        .into_iter()
        .filter_map(|(provider, id)| id.map(|id| (provider, id)))
    }

    /// Returns whether no provider has a different id in each.
    fn agrees_with(&self, other: &Self) -> bool {
        let agree = |a: Option<u64>, b: Option<u64>| a.is_none() || b.is_none() || a == b;
        agree(self.imdb, other.imdb) && agree(self.tmdb, other.tmdb) && agree(self.tvdb, other.tvdb)
    }

    /// Combines the ids of two groups: each provider's id from `self`, else from `other`.
    fn merged(&self, other: &Self) -> Self {
        Self {
            imdb: self.imdb.or(other.imdb),
            tmdb: self.tmdb.or(other.tmdb),
            tvdb: self.tvdb.or(other.tvdb),
        }
    }
}

/// Drops the `imdb://` style scheme that Plex puts in its GUIDs and anything after `?`.
fn strip_guid_syntax(raw: &str) -> &str {
    let raw = raw.trim();
    let raw = match raw.rfind(':') {
        Some(colon) if raw[colon + 1..].starts_with("//") => &raw[colon + 3..],
        _ => raw,
    };
    raw.split_once('?').map_or(raw, |(id, _)| id)
}

/// Reads an IMDb id such as `tt0133093` as its number, ignoring case and leading zeros.
fn imdb_number(raw: &str) -> Option<u64> {
    let raw = strip_guid_syntax(raw);
    let prefix = raw.get(..2)?;
    if !prefix.eq_ignore_ascii_case("tt") {
        return None;
    }
    numeric_id(&raw[2..])
}

/// Reads a TMDB or TVDB id. Zero, which some servers send for "no id", is no id.
fn numeric_id(raw: &str) -> Option<u64> {
    let raw = strip_guid_syntax(raw);
    if raw.is_empty() || !raw.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    raw.parse().ok().filter(|&id| id != 0)
}

/// Union-find over item positions with path halving and union by size. Each root also
/// stores the external ids of its whole group, for the conflict check of title matching.
struct DisjointSets {
    parent: Vec<usize>,
    size: Vec<usize>,
    ids: Vec<ExternalIds>,
}

impl DisjointSets {
    /// Starts with every item in a group of its own, carrying its own ids.
    fn new(ids: Vec<ExternalIds>) -> Self {
        Self {
            parent: (0..ids.len()).collect(),
            size: vec![1; ids.len()],
            ids,
        }
    }

    fn find(&mut self, mut index: usize) -> usize {
        while self.parent[index] != index {
            self.parent[index] = self.parent[self.parent[index]];
            index = self.parent[index];
        }
        index
    }

    fn union(&mut self, a: usize, b: usize) {
        let (a, b) = (self.find(a), self.find(b));
        if a == b {
            return;
        }
        let (root, child) = if self.size[a] >= self.size[b] {
            (a, b)
        } else {
            (b, a)
        };
        self.parent[child] = root;
        self.size[root] += self.size[child];
        // `a` is the earlier group, so its ids win where the two disagree.
        let merged = self.ids[a].merged(&self.ids[b]);
        self.ids[root] = merged;
    }

    /// Returns whether the groups of `a` and `b` may become one, because they already are or
    /// because their ids do not conflict.
    fn can_join(&mut self, a: usize, b: usize) -> bool {
        let (a, b) = (self.find(a), self.find(b));
        a == b || self.ids[a].agrees_with(&self.ids[b])
    }
}

#[cfg(test)]
mod tests {

    use super::*;
    use crate::media::{ImageRef, ItemImages};

    fn movie(title: &str, year: Option<u16>) -> MediaItem {
        MediaItem {
            upstream_key: title.to_owned(),
            kind: MediaKind::Movie,
            title: title.to_owned(),
            year,
            images: ItemImages {
                poster: Some(ImageRef::new("poster.jpg", "1")),
                ..ItemImages::default()
            },
            ..MediaItem::default()
        }
    }

    #[test]
    fn same_source_title_twins_stay() {
        let from = |source: &str, key: &str| {
            let mut item = with_key(movie("Heat", Some(1995)), key);
            item.source = Some(crate::media::SourceId::new(source).unwrap());
            item
        };
        let deduped = dedupe(&arcs(vec![
            from("local", "a"),
            from("local", "b"),
            from("plex", "c"),
        ]));
        assert_eq!(kept_keys(&deduped), ["a", "b"]);
        assert_eq!(deduped.duplicates, 1);
    }

    fn with_imdb(mut item: MediaItem, id: &str) -> MediaItem {
        item.links.imdb_id = Some(id.to_owned());
        item
    }

    fn with_key(mut item: MediaItem, key: &str) -> MediaItem {
        item.upstream_key = key.to_owned();
        item
    }

    fn arcs(items: Vec<MediaItem>) -> Vec<Arc<MediaItem>> {
        items.into_iter().map(Arc::new).collect()
    }

    fn kept_keys(deduped: &Deduped) -> Vec<&str> {
        deduped
            .items
            .iter()
            .map(|item| item.upstream_key.as_str())
            .collect()
    }

    #[test]
    fn imdb_id_merges_different_titles() {
        let items = arcs(vec![
            with_key(
                with_imdb(movie("The Matrix", Some(1999)), "tt0133093"),
                "plex",
            ),
            with_key(
                with_imdb(movie("Matrix", Some(1998)), "TT133093"),
                "jellyfin",
            ),
        ]);
        let deduped = dedupe(&items);
        assert_eq!(kept_keys(&deduped), ["plex"]);
        assert_eq!(deduped.duplicates, 1);
    }

    #[test]
    fn imdb_id_forms_normalise() {
        for (a, b) in [
            ("tt0133093", "TT0133093"),
            ("tt0133093", "tt133093"),
            ("tt0133093", " imdb://tt0133093 "),
            ("tt0133093", "com.plexapp.agents.imdb://tt0133093?lang=en"),
        ] {
            assert_eq!(imdb_number(a), imdb_number(b), "{a} vs {b}");
            assert!(imdb_number(a).is_some(), "{a}");
        }
        for bad in ["", "tt", "0133093", "nm0000206", "tt01x3", "tt-1"] {
            assert_eq!(imdb_number(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn numeric_ids_normalise() {
        assert_eq!(numeric_id("603"), Some(603));
        assert_eq!(numeric_id("0603"), Some(603));
        assert_eq!(numeric_id("tmdb://603"), Some(603));
        for bad in [
            "",
            "0",
            "abc",
            "60 3",
            "-603",
            "603.0",
            "99999999999999999999999",
        ] {
            assert_eq!(numeric_id(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn tmdb_and_tvdb_ids_merge() {
        let mut a = movie("Heat", Some(1995));
        a.links.tmdb_id = Some("949".to_owned());
        let mut b = movie("Heat (Director's Cut)", None);
        b.links.tmdb_id = Some("tmdb://949".to_owned());
        let mut c = movie("Twin Peaks", Some(1990));
        c.kind = MediaKind::Show;
        c.links.tvdb_id = Some("70533".to_owned());
        let mut d = movie("Twin Peaks (Original)", None);
        d.kind = MediaKind::Show;
        d.links.tvdb_id = Some("70533".to_owned());

        let deduped = dedupe(&arcs(vec![a, b, c, d]));
        assert_eq!(deduped.items.len(), 2);
        assert_eq!(deduped.duplicates, 2);
    }

    #[test]
    fn title_and_year_merge() {
        let items = arcs(vec![
            with_key(movie("The Matrix", Some(1999)), "first"),
            with_key(movie("Matrix, The", Some(1999)), "second"),
            with_key(movie("the  matrix!", Some(1999)), "third"),
        ]);
        let deduped = dedupe(&items);
        assert_eq!(kept_keys(&deduped), ["first"]);
        assert_eq!(deduped.duplicates, 2);
    }

    #[test]
    fn different_years_stay_separate() {
        let items = arcs(vec![movie("Dune", Some(1984)), movie("Dune", Some(2021))]);
        let deduped = dedupe(&items);
        assert_eq!(deduped.items.len(), 2);
        assert_eq!(deduped.duplicates, 0);
    }

    #[test]
    fn missing_year_stays_separate() {
        let items = arcs(vec![movie("Dune", Some(2021)), movie("Dune", None)]);
        assert_eq!(dedupe(&items).items.len(), 2);

        let items = arcs(vec![movie("Dune", None), movie("Dune", None)]);
        assert_eq!(dedupe(&items).items.len(), 2);
    }

    #[test]
    fn kind_mismatch_stays_separate() {
        let mut show = with_imdb(movie("Fargo", Some(2014)), "tt2802850");
        show.kind = MediaKind::Show;
        let film = with_imdb(movie("Fargo", Some(2014)), "tt2802850");
        let deduped = dedupe(&arcs(vec![film, show]));
        assert_eq!(deduped.items.len(), 2);
        assert_eq!(deduped.duplicates, 0);
    }

    #[test]
    fn transitive_chain_merges() {
        // A and B share an IMDb id, B and C share title and year, C and D share a TMDB id.
        let a = with_key(with_imdb(movie("Alien", Some(1979)), "tt0078748"), "a");
        let b = with_key(
            with_imdb(movie("Alien: Director's Cut", Some(1979)), "tt0078748"),
            "b",
        );
        let mut c = with_key(movie("Alien - Director's Cut", Some(1979)), "c");
        c.links.tmdb_id = Some("348".to_owned());
        let mut d = with_key(movie("Alien 4K", None), "d");
        d.links.tmdb_id = Some("348".to_owned());
        let other = with_key(movie("Aliens", Some(1986)), "other");

        let deduped = dedupe(&arcs(vec![a, other, b, c, d]));
        assert_eq!(kept_keys(&deduped), ["a", "other"]);
        assert_eq!(deduped.duplicates, 3);
    }

    #[test]
    fn chain_order_does_not_matter() {
        // C is linked to A only through B, which comes last.
        let a = with_key(with_imdb(movie("Alien", Some(1979)), "tt0078748"), "a");
        let c = with_key(movie("Alien (Director's Cut)", Some(1979)), "c");
        let b = with_key(
            with_imdb(movie("Alien - Director's Cut", Some(1979)), "tt0078748"),
            "b",
        );
        let deduped = dedupe(&arcs(vec![a, c, b]));
        assert_eq!(kept_keys(&deduped), ["a"]);
        assert_eq!(deduped.duplicates, 2);
    }

    #[test]
    fn conflicting_ids_block_title_match() {
        let first = with_key(with_imdb(movie("Halloween", Some(2018)), "tt1502407"), "a");
        let second = with_key(with_imdb(movie("Halloween", Some(2018)), "tt9999999"), "b");
        let bare = with_key(movie("Halloween", Some(2018)), "c");
        let deduped = dedupe(&arcs(vec![first, second, bare]));
        // The item without ids joins the first group, and the conflicting one stays apart.
        assert_eq!(kept_keys(&deduped), ["a", "b"]);
        assert_eq!(deduped.duplicates, 1);
    }

    #[test]
    fn title_match_finds_compatible_group() {
        let with_tmdb = |mut item: MediaItem, id: &str| {
            item.links.tmdb_id = Some(id.to_owned());
            item
        };
        let halloween = |key: &str| with_key(movie("Halloween", Some(2018)), key);
        let a = with_tmdb(with_imdb(halloween("a"), "tt1"), "1");
        let b = with_tmdb(with_imdb(halloween("b"), "tt2"), "2");
        let c = with_imdb(halloween("c"), "tt3");
        // Conflicts with the TMDB ids of a and b, so it can only join c.
        let d = with_tmdb(halloween("d"), "3");
        // Conflicts with a, b and with c, which now carries d's TMDB id.
        let e = with_tmdb(halloween("e"), "4");

        let items = arcs(vec![a, b, c, d, e]);
        let deduped = dedupe(&items);
        assert_eq!(kept_keys(&deduped), ["a", "b", "c", "e"]);
        assert_eq!(deduped.duplicates, 1);
    }

    #[test]
    fn episodes_do_not_match_by_title() {
        let mut first = movie("Pilot", Some(2010));
        first.kind = MediaKind::Episode;
        let mut second = first.clone();
        second.upstream_key = "other show".to_owned();
        let deduped = dedupe(&arcs(vec![first, second]));
        assert_eq!(deduped.items.len(), 2);
    }

    #[test]
    fn keeps_first_when_it_has_poster() {
        let first = with_key(movie("Heat", Some(1995)), "first");
        let mut richer = with_key(movie("Heat", Some(1995)), "richer");
        richer.images.background = Some(ImageRef::new("bg.jpg", "1"));
        richer.images.logo = Some(ImageRef::new("logo.png", "1"));
        let deduped = dedupe(&arcs(vec![first, richer]));
        assert_eq!(kept_keys(&deduped), ["first"]);
    }

    #[test]
    fn posterless_first_yields_to_richest_poster() {
        let mut bare = with_key(movie("Heat", Some(1995)), "bare");
        bare.images = ItemImages {
            background: Some(ImageRef::new("bg.jpg", "1")),
            ..ItemImages::default()
        };
        let poster_only = with_key(movie("Heat", Some(1995)), "poster-only");
        let mut full = with_key(movie("Heat", Some(1995)), "full");
        full.images.background = Some(ImageRef::new("bg.jpg", "1"));
        full.images.logo = Some(ImageRef::new("logo.png", "1"));
        let mut also_full = full.clone();
        also_full.upstream_key = "also-full".to_owned();

        let deduped = dedupe(&arcs(vec![bare, poster_only, full, also_full]));
        assert_eq!(kept_keys(&deduped), ["full"]);
        assert_eq!(deduped.duplicates, 3);
    }

    #[test]
    fn posterless_group_keeps_first() {
        let mut first = with_key(movie("Heat", Some(1995)), "first");
        first.images = ItemImages::default();
        let mut second = with_key(movie("Heat", Some(1995)), "second");
        second.images = ItemImages {
            background: Some(ImageRef::new("bg.jpg", "1")),
            ..ItemImages::default()
        };
        let deduped = dedupe(&arcs(vec![first, second]));
        assert_eq!(kept_keys(&deduped), ["first"]);
    }

    #[test]
    fn output_follows_first_appearance() {
        let items = arcs(vec![
            with_key(movie("B", Some(2000)), "b1"),
            with_key(movie("A", Some(2000)), "a1"),
            with_key(movie("B", Some(2000)), "b2"),
            with_key(movie("C", Some(2000)), "c1"),
            with_key(movie("A", Some(2000)), "a2"),
        ]);
        let deduped = dedupe(&items);
        assert_eq!(kept_keys(&deduped), ["b1", "a1", "c1"]);
        assert_eq!(deduped.duplicates, 2);
    }

    #[test]
    fn kept_items_share_allocation() {
        let items = arcs(vec![movie("Heat", Some(1995))]);
        let deduped = dedupe(&items);
        assert!(Arc::ptr_eq(&deduped.items[0], &items[0]));
    }

    #[test]
    fn empty_input_is_empty() {
        assert_eq!(dedupe(&[]), Deduped::default());
    }

    #[test]
    fn title_key_agrees_with_full_nfkd() {
        use unicode_normalization::UnicodeNormalization;

        let full_nfkd_key = |title: &str| {
            let mut key = KeyBuilder::with_capacity(title.len());
            title
                .nfkd()
                .flat_map(char::to_lowercase)
                .filter(|&c| !is_combining_mark(c))
                .map(|c| if c == 'ς' { 'σ' } else { c })
                .for_each(|c| key.push(c));
            key.key
        };
        for title in [
            "Amélie",
            "Ame\u{301}\u{327}lie",
            "Ｆｕｌｌ Ｗｉｄｔｈ",
            "ﬁnal ﬂight",
            "Rocky Ⅻ",
            "한국 영화",
            "Ångström Ǆ",
            "ﾃｽﾄ ｶﾞ",
            "İstanbul",
            "ΣΟΦΙΑΣ σοφιας",
            "① ② ③",
            "Æon Flux",
            "Straße",
        ] {
            assert_eq!(title_key(title), full_nfkd_key(title), "{title:?}");
        }
    }

    #[test]
    fn title_key_normalises() {
        let cases = [
            ("The Matrix", "matrix"),
            ("Matrix, The", "matrix"),
            ("  THE   MATRIX  ", "matrix"),
            ("A Quiet Place", "quiet place"),
            ("Quiet Place, A", "quiet place"),
            (
                "An American Werewolf in London",
                "american werewolf in london",
            ),
            ("Amélie", "amelie"),
            ("Ame\u{301}lie", "amelie"),
            ("Léon: The Professional", "leon the professional"),
            ("Ocean's Eleven", "oceans eleven"),
            ("Ocean’s Eleven", "oceans eleven"),
            ("S.W.A.T.", "swat"),
            ("Spider-Man", "spider man"),
            ("Fast & Furious", "fast and furious"),
            ("ＡＢＣ", "abc"),
            ("Se7en", "se7en"),
            ("The", "the"),
            ("A", "a"),
            ("Them", "them"),
            ("Anatomy of a Fall", "anatomy of a fall"),
            (
                "Crouching Tiger, Hidden Dragon",
                "crouching tiger hidden dragon",
            ),
            ("千と千尋の神隠し", "千と千尋の神隠し"),
            ("!!!", ""),
            ("İstanbul", "istanbul"),
            ("ΟΔΥΣΣΕΥΣ", "οδυσσευσ"),
            ("Οδυσσευς", "οδυσσευσ"),
            ("Rock & Roll", "rock and roll"),
            ("&", "and"),
            ("Matrix,The", "matrix"),
            ("Matrix, Reloaded", "matrix reloaded"),
        ];
        for (title, expected) in cases {
            assert_eq!(title_key(title), expected, "{title:?}");
        }
    }
}
