//! Content addresses of cache entries.

use std::fmt;

use sha2::{Digest, Sha256};

/// 32-byte content address of one derived image.
///
/// The caller builds it from everything that determines the output bytes (the original's
/// digest, the request, the encoder settings), so equal keys always mean equal bytes.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub struct CacheKey([u8; 32]);

impl CacheKey {
    /// Hashes `parts` with SHA-256. Each part is preceded by its length as a little-endian
    /// `u64`, so `("ab", "c")` and `("a", "bc")` give different keys.
    pub fn from_parts(parts: &[&[u8]]) -> Self {
        let mut hasher = Sha256::new();
        for part in parts {
            hasher.update((part.len() as u64).to_le_bytes());
            hasher.update(part);
        }
        Self(hasher.finalize().into())
    }

    pub const fn from_bytes(bytes: [u8; 32]) -> Self {
        Self(bytes)
    }

    pub const fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }

    /// Returns the 64 lowercase hex digits that name the entry's file.
    pub fn to_hex(&self) -> String {
        hex::encode(self.0)
    }

    /// Parses 64 lowercase hex digits, the inverse of [`CacheKey::to_hex`]. Uppercase digits
    /// are rejected so that each key has exactly one file name.
    pub fn from_hex(text: &str) -> Option<Self> {
        // Hand-written because `open` parses every entry name, and this loop is several times
        // faster than `hex::decode_to_slice` there.
        let digits = text.as_bytes();
        if digits.len() != 64 {
            return None;
        }
        let mut bytes = [0u8; 32];
        for (byte, pair) in bytes.iter_mut().zip(digits.chunks_exact(2)) {
            *byte = (hex_digit(pair[0])? << 4) | hex_digit(pair[1])?;
        }
        Some(Self(bytes))
    }
}

const fn hex_digit(digit: u8) -> Option<u8> {
    match digit {
        b'0'..=b'9' => Some(digit - b'0'),
        b'a'..=b'f' => Some(digit - b'a' + 10),
        _ => None,
    }
}

impl fmt::Display for CacheKey {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(&self.to_hex())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parts_are_length_prefixed() {
        let joined_left = CacheKey::from_parts(&[b"ab", b"c"]);
        let joined_right = CacheKey::from_parts(&[b"a", b"bc"]);
        let single = CacheKey::from_parts(&[b"abc"]);

        assert_ne!(joined_left, joined_right);
        assert_ne!(joined_left, single);
        assert_eq!(joined_left, CacheKey::from_parts(&[b"ab", b"c"]));
    }

    #[test]
    fn hex_round_trips() {
        let key = CacheKey::from_parts(&[b"poster", b"1920"]);
        let text = key.to_hex();

        assert_eq!(text.len(), 64);
        assert_eq!(CacheKey::from_hex(&text), Some(key));
        assert_eq!(key.to_string(), text);
    }

    #[test]
    fn hex_rejects_other_spellings() {
        let text = CacheKey::from_parts(&[b"x"]).to_hex();

        assert_eq!(CacheKey::from_hex(&text.to_uppercase()), None);
        assert_eq!(CacheKey::from_hex(&text[..63]), None);
        assert_eq!(CacheKey::from_hex(&format!("{text}0")), None);
        assert_eq!(CacheKey::from_hex(&"g".repeat(64)), None);
    }
}
