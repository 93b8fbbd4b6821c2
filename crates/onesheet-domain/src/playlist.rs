//! Playlist rules: query validation, the paging cursor and the display order.
//!
//! The order is a shuffle seeded by the catalog generation, so every request against one
//! snapshot sees the same order and a cursor keeps its meaning between pages. A new snapshot
//! brings a new order; a cursor from an older generation restarts at the beginning.

use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::validation::FieldError;

/// Items per page when the request names no limit, and the most a page may hold.
pub const DEFAULT_LIMIT: usize = 50;
pub const MAX_LIMIT: usize = 500;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum DisplayMode {
    #[default]
    Screensaver,
    Wallart,
    Cinema,
}

impl FromStr for DisplayMode {
    type Err = FieldError;

    fn from_str(value: &str) -> Result<Self, Self::Err> {
        match value {
            "screensaver" => Ok(Self::Screensaver),
            "wallart" => Ok(Self::Wallart),
            "cinema" => Ok(Self::Cinema),
            _ => Err(FieldError::new(
                "mode",
                format!("invalid mode {value:?}: expected screensaver, wallart or cinema"),
            )),
        }
    }
}

/// Position in the ordered playlist of one catalog generation. Its text form is `g{generation}.{offset}`
/// and is treated by clients as opaque.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cursor {
    pub generation: u64,
    pub offset: usize,
}

impl Cursor {
    pub fn encode(&self) -> String {
        format!("g{}.{}", self.generation, self.offset)
    }
}

impl FromStr for Cursor {
    type Err = FieldError;

    fn from_str(value: &str) -> Result<Self, Self::Err> {
        let invalid = || {
            FieldError::new(
                "cursor",
                "invalid cursor: pass back the next_cursor value of a previous page unchanged",
            )
        };
        if value.len() > 48 {
            return Err(invalid());
        }
        let rest = value.strip_prefix('g').ok_or_else(invalid)?;
        let (generation, offset) = rest.split_once('.').ok_or_else(invalid)?;
        let digits_only = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
        if !digits_only(generation) || !digits_only(offset) {
            return Err(invalid());
        }
        Ok(Self {
            generation: generation.parse().map_err(|_| invalid())?,
            offset: offset.parse().map_err(|_| invalid())?,
        })
    }
}

/// A validated playlist request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlaylistQuery {
    pub mode: DisplayMode,
    pub limit: usize,
    pub cursor: Option<Cursor>,
}

impl PlaylistQuery {
    /// Validates raw query values; each error names the parameter and the accepted range.
    pub fn parse(
        mode: Option<&str>,
        limit: Option<&str>,
        cursor: Option<&str>,
    ) -> Result<Self, FieldError> {
        let mode = mode.map(str::parse).transpose()?.unwrap_or_default();
        let limit = match limit {
            None => DEFAULT_LIMIT,
            Some(raw) => match raw.parse::<usize>() {
                Ok(n) if (1..=MAX_LIMIT).contains(&n) => n,
                _ => {
                    return Err(FieldError::new(
                        "limit",
                        format!("invalid limit {raw:?}: use a whole number from 1 to {MAX_LIMIT}"),
                    ));
                }
            },
        };
        let cursor = cursor.map(str::parse).transpose()?;
        Ok(Self {
            mode,
            limit,
            cursor,
        })
    }

    /// Offset to start from in the given generation's order.
    pub fn start_offset(&self, generation: u64) -> usize {
        match self.cursor {
            Some(cursor) if cursor.generation == generation => cursor.offset,
            _ => 0,
        }
    }
}

/// Returns the positions `0..len` in the display order of one generation: a Fisher-Yates
/// shuffle driven by SplitMix64 seeded with the generation, so the order is reproducible
/// without storing it.
pub fn display_order(len: usize, generation: u64) -> Vec<u32> {
    let mut order: Vec<u32> = (0..len as u32).collect();
    let mut state = generation ^ 0x9E37_79B9_7F4A_7C15;
    let mut next = || {
        state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    };
    for i in (1..order.len()).rev() {
        let j = (next() % (i as u64 + 1)) as usize;
        order.swap(i, j);
    }
    order
}

/// Returns the indices of `weights` in a weighted random order without repeats, reproducible
/// for a given `seed`.
///
/// This is the Efraimidis–Spirakis weighted sampling without replacement ("Weighted random
/// sampling with a reservoir", Information Processing Letters 97(5), 181–185, 2006,
/// doi:10.1016/j.ipl.2005.11.003). Each index draws `u` uniform in (0, 1] and gets the key
/// `u^(1/w)`, and the order is by key, largest first. The key is computed as `ln(u) / w`,
/// which orders the same way without underflowing for small weights. The sort makes the
/// whole call O(n log n).
///
/// The result has these properties:
/// - Every index with a finite positive weight appears exactly once. Indices whose weight is
///   zero, negative, infinite or NaN are left out.
/// - The first index is `i` with probability `w_i / Σw`, and each later position follows the
///   same rule among the indices not yet placed. An item of weight 3 leads three times as
///   often as one of weight 1.
/// - With equal weights every permutation is equally likely.
/// - The draw covers the whole pool at once, so a library's share of any prefix of the order
///   is its share of the total weight. A library of 10 items beside one of 1,000 at equal
///   weights fills about 1 % of the first positions, not half of them as taking turns
///   between libraries would.
///
/// Each index draws from the same position of a SplitMix64 stream seeded with `seed`, so an
/// index keeps its key when the weights of other indices change. Only the first
/// `u32::MAX` weights are considered.
pub fn weighted_order(weights: &[f32], seed: u64) -> Vec<u32> {
    let mut random = SplitMix64::new(seed);
    let mut keyed: Vec<(f64, u32)> = Vec::with_capacity(weights.len());
    for (&weight, index) in weights.iter().zip(0..u32::MAX) {
        let u = random.next_unit();
        if weight.is_finite() && weight > 0.0 {
            keyed.push((u.ln() / f64::from(weight), index));
        }
    }

    // Larger keys first. Equal keys, which only equal draws produce, keep index order so
    // the result stays reproducible.
    keyed.sort_unstable_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
    keyed.into_iter().map(|(_, index)| index).collect()
}

/// The SplitMix64 generator of [`display_order`] as a reusable stream.
struct SplitMix64 {
    state: u64,
}

impl SplitMix64 {
    const GOLDEN_GAMMA: u64 = 0x9E37_79B9_7F4A_7C15;

    fn new(seed: u64) -> Self {
        Self {
            state: seed ^ Self::GOLDEN_GAMMA,
        }
    }

    fn next_u64(&mut self) -> u64 {
        self.state = self.state.wrapping_add(Self::GOLDEN_GAMMA);
        let mut z = self.state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Draws a uniform number from (0, 1] with 53 random bits. Zero is excluded because its
    /// logarithm is minus infinity.
    fn next_unit(&mut self) -> f64 {
        const SCALE: f64 = 1.0 / (1u64 << 53) as f64;
        ((self.next_u64() >> 11) + 1) as f64 * SCALE
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursor_round_trips() {
        let cursor = Cursor {
            generation: 7,
            offset: 150,
        };
        assert_eq!(cursor.encode().parse::<Cursor>().unwrap(), cursor);
    }

    #[test]
    fn cursor_rejects_garbage() {
        for bad in [
            "",
            "g",
            "g1",
            "g1.",
            "g.1",
            "x1.2",
            "g1.2.3",
            "g-1.2",
            "g1.+2",
            "g99999999999999999999.1",
        ] {
            let error = bad.parse::<Cursor>().unwrap_err();
            assert_eq!(error.field, "cursor", "{bad:?}");
        }
    }

    #[test]
    fn limit_out_of_range_names_range() {
        for bad in ["0", "501", "-1", "ten", "1.5", ""] {
            let error = PlaylistQuery::parse(None, Some(bad), None).unwrap_err();
            assert_eq!(error.field, "limit");
            assert!(error.message.contains("1 to 500"), "{}", error.message);
        }
    }

    #[test]
    fn unknown_mode_is_rejected() {
        let error = PlaylistQuery::parse(Some("kiosk"), None, None).unwrap_err();
        assert_eq!(error.field, "mode");
    }

    #[test]
    fn stale_cursor_restarts_at_zero() {
        let query = PlaylistQuery::parse(None, None, Some("g3.40")).unwrap();
        assert_eq!(query.start_offset(3), 40);
        assert_eq!(query.start_offset(4), 0);
    }

    #[test]
    fn display_order_is_a_reproducible_permutation() {
        let order = display_order(1000, 42);
        assert_eq!(order, display_order(1000, 42));
        let mut sorted = order.clone();
        sorted.sort_unstable();
        assert_eq!(sorted, (0..1000).collect::<Vec<u32>>());
        assert_ne!(order, display_order(1000, 43));
    }

    /// Seeds of the statistical tests. The results are deterministic, and the tolerances are
    /// about four standard deviations wide, so another seed set would pass too.
    const SEEDS: std::ops::Range<u64> = 0..2_000;

    fn lead_counts(weights: &[f32]) -> Vec<u32> {
        let mut counts = vec![0u32; weights.len()];
        for seed in SEEDS {
            let first = weighted_order(weights, seed)[0];
            counts[first as usize] += 1;
        }
        counts
    }

    #[test]
    fn weighted_order_is_reproducible_permutation() {
        let weights: Vec<f32> = (0..500).map(|i| 1.0 + (i % 7) as f32).collect();
        let order = weighted_order(&weights, 9);
        assert_eq!(order, weighted_order(&weights, 9));
        assert_ne!(order, weighted_order(&weights, 10));

        let mut sorted = order.clone();
        sorted.sort_unstable();
        assert_eq!(sorted, (0..500).collect::<Vec<u32>>());
    }

    #[test]
    fn weighted_order_skips_unusable_weights() {
        let weights = [
            1.0,
            0.0,
            -2.0,
            f32::NAN,
            f32::INFINITY,
            f32::NEG_INFINITY,
            -0.0,
            2.5,
            f32::MIN_POSITIVE,
        ];
        for seed in 0..50 {
            let mut order = weighted_order(&weights, seed);
            order.sort_unstable();
            assert_eq!(order, [0, 7, 8], "seed {seed}");
        }
        assert!(weighted_order(&[], 1).is_empty());
        assert!(weighted_order(&[0.0, f32::NAN], 1).is_empty());
    }

    #[test]
    fn weighted_order_keys_ignore_other_weights() {
        // Dropping an index leaves the relative order of the others unchanged.
        let weights = [1.0, 2.0, 3.0, 4.0, 5.0, 6.0];
        let mut without_third = weights;
        without_third[2] = 0.0;
        for seed in 0..50 {
            let expected: Vec<u32> = weighted_order(&weights, seed)
                .into_iter()
                .filter(|&index| index != 2)
                .collect();
            assert_eq!(
                weighted_order(&without_third, seed),
                expected,
                "seed {seed}"
            );
        }
    }

    #[test]
    fn weight_three_leads_three_times_as_often() {
        let weights = [3.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0];
        let counts = lead_counts(&weights);

        // Expected: 2000 × 3/9 ≈ 667 for the heavy item, 2000 × 1/9 ≈ 222 for each light one.
        let heavy = f64::from(counts[0]);
        let light = counts[1..].iter().map(|&c| f64::from(c)).sum::<f64>() / 6.0;
        let ratio = heavy / light;
        assert!(
            (2.6..=3.4).contains(&ratio),
            "ratio {ratio}, counts {counts:?}"
        );
        assert!((600.0..=735.0).contains(&heavy), "heavy {heavy}");
    }

    #[test]
    fn leader_follows_weight_share() {
        let weights = [1.0, 2.0, 3.0, 4.0];
        let counts = lead_counts(&weights);
        for (index, &count) in counts.iter().enumerate() {
            let expected = 2_000.0 * f64::from(weights[index]) / 10.0;
            let tolerance = 4.0 * (expected * (1.0 - expected / 2_000.0)).sqrt();
            assert!(
                (f64::from(count) - expected).abs() <= tolerance,
                "index {index}: {count} leads, expected {expected} ± {tolerance:.0}"
            );
        }
    }

    #[test]
    fn equal_weights_give_uniform_positions() {
        // Each of 5 items should take each of 5 positions in about 1/5 of the orders.
        let weights = [1.5; 5];
        let mut counts = [[0u32; 5]; 5];
        for seed in SEEDS {
            for (position, index) in weighted_order(&weights, seed).into_iter().enumerate() {
                counts[index as usize][position] += 1;
            }
        }
        // 400 expected per cell, standard deviation about 18.
        for (index, row) in counts.iter().enumerate() {
            for (position, &count) in row.iter().enumerate() {
                assert!(
                    (328..=472).contains(&count),
                    "item {index} at position {position}: {count}"
                );
            }
        }
    }

    #[test]
    fn small_library_is_not_overrepresented() {
        // Indices 0..10 are a small library, 10..1010 a large one, all at equal weight.
        let weights = [1.0f32; 1_010];
        let mut small_in_prefix = 0u32;
        for seed in SEEDS {
            let order = weighted_order(&weights, seed);
            small_in_prefix += order[..100].iter().filter(|&&index| index < 10).count() as u32;
        }

        // Expected share 10/1010 ≈ 0.99 % of 200,000 positions, about 1,980 ± 44.
        let share = f64::from(small_in_prefix) / (SEEDS.end as f64 * 100.0);
        assert!((0.0090..=0.0108).contains(&share), "share {share}");
    }
}
