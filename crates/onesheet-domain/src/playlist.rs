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
}
