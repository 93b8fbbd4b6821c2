//! Single-use recovery codes that replace the TOTP code when the authenticator is lost.
//!
//! A code is ten characters of Crockford's base32 alphabet in lowercase, shown as `xxxxx-xxxxx`:
//! 50 random bits. The alphabet has no `i`, `l`, `o` or `u`, and [`normalize`] reads `o` as `0`
//! and `i` or `l` as `1`, so a code copied from paper by hand still matches.
//!
//! The store keeps HMAC-SHA256 of each code, not the code. A keyed fast hash is enough here,
//! unlike for passwords, because the codes are random: a copy of the database without the key
//! allows no guessing at all. With the key as well, finding one code still takes about 2^49 HMAC
//! evaluations on average, and a code only replaces the second factor, not the password. An
//! unsalted hash also lets the store find a code by equality instead of trying each stored hash.

use std::fmt;

use hmac::{Hmac, Mac};
use sha2::Sha256;

/// Number of codes a user usually receives at once.
pub const DEFAULT_CODE_COUNT: usize = 10;

/// Crockford's base32 alphabet, lowercase.
const ALPHABET: &[u8; 32] = b"0123456789abcdefghjkmnpqrstvwxyz";

/// Characters per code, without the dash.
const CODE_CHARS: usize = 10;

/// Maximum input length in characters that [`normalize`] examines. A typed code has 11
/// characters plus stray spaces.
const MAX_INPUT_CHARS: usize = 64;

/// Generates `count` new codes, formatted `xxxxx-xxxxx`.
pub fn generate_codes(count: usize) -> Vec<String> {
    (0..count).map(|_| generate_code()).collect()
}

fn generate_code() -> String {
    let random: [u8; CODE_CHARS] = crate::random::bytes();
    let mut code = String::with_capacity(CODE_CHARS + 1);

    for (index, byte) in random.iter().enumerate() {
        if index == CODE_CHARS / 2 {
            code.push('-');
        }
        // 256 is a multiple of 32, so the low five bits of a random byte are uniform.
        code.push(char::from(ALPHABET[usize::from(byte & 0x1f)]));
    }
    code
}

/// Returns the canonical form of a typed code (ten lowercase characters, no dash), or `None`
/// when the input cannot be a code.
///
/// Case, spaces and dashes are ignored, and the look-alikes `o`, `i` and `l` are read as `0`,
/// `1` and `1`.
pub fn normalize(input: &str) -> Option<String> {
    if input.chars().count() > MAX_INPUT_CHARS {
        return None;
    }

    let mut code = String::with_capacity(CODE_CHARS);
    for character in input.chars() {
        let character = match character.to_ascii_lowercase() {
            ' ' | '-' => continue,
            'o' => '0',
            'i' | 'l' => '1',
            other => other,
        };
        let Ok(byte) = u8::try_from(character) else {
            return None;
        };
        if !ALPHABET.contains(&byte) {
            return None;
        }
        code.push(character);
    }

    (code.len() == CODE_CHARS).then_some(code)
}

/// Hashes recovery codes with HMAC-SHA256 under a server key. `Debug` prints `***`.
///
/// The key must serve only this purpose and be stored outside the database.
#[derive(Clone)]
pub struct RecoveryHasher {
    key: [u8; 32],
}

impl RecoveryHasher {
    pub fn new(key: &[u8; 32]) -> Self {
        Self { key: *key }
    }

    /// Returns the lowercase hex HMAC-SHA256 of the code's canonical form, for storing at
    /// generation and for looking up what a user typed.
    ///
    /// Input that [`normalize`] rejects is hashed with an `invalid:` prefix, which no canonical
    /// code contains, so its hash never equals a stored one.
    pub fn hash(&self, code: &str) -> String {
        let canonical = normalize(code).unwrap_or_else(|| format!("invalid:{code}"));

        // HMAC accepts keys of any length, so this arm is never taken with a 32-byte key.
        let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(&self.key) else {
            return String::new();
        };
        mac.update(canonical.as_bytes());
        data_encoding::HEXLOWER.encode(&mac.finalize().into_bytes())
    }
}

impl fmt::Debug for RecoveryHasher {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("RecoveryHasher(***)")
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use std::collections::HashSet;

    use super::*;

    const KEY: [u8; 32] = [0x42; 32];

    #[test]
    fn generated_codes_have_expected_shape() {
        let codes = generate_codes(DEFAULT_CODE_COUNT);
        assert_eq!(codes.len(), 10);

        for code in &codes {
            assert_eq!(code.len(), 11, "{code}");
            assert_eq!(&code[5..6], "-", "{code}");
            assert!(
                code.bytes()
                    .filter(|byte| *byte != b'-')
                    .all(|byte| ALPHABET.contains(&byte)),
                "{code}"
            );
            assert_eq!(normalize(code).unwrap(), code.replace('-', ""));
        }
    }

    #[test]
    fn generated_codes_are_distinct() {
        let codes: HashSet<String> = generate_codes(200).into_iter().collect();

        assert_eq!(codes.len(), 200);
    }

    #[test]
    fn generated_codes_use_whole_alphabet() {
        // 2,000 characters cover all 32 symbols unless the mapping is broken: the chance that
        // a uniform source misses one is about 32 * (31/32)^2000, below 10^-26.
        let seen: HashSet<char> = generate_codes(200)
            .concat()
            .chars()
            .filter(|character| *character != '-')
            .collect();

        assert_eq!(seen.len(), 32);
    }

    #[test]
    fn alphabet_carries_50_bits() {
        assert_eq!(ALPHABET.len(), 32);
        assert_eq!(CODE_CHARS * 5, 50);
        let unique: HashSet<&u8> = ALPHABET.iter().collect();
        assert_eq!(unique.len(), 32);
    }

    #[test]
    fn normalize_ignores_case_spaces_and_dashes() {
        for input in [
            "ab3de-fg7hj",
            "AB3DE-FG7HJ",
            "ab3de fg7hj",
            " ab3defg7hj ",
            "ab-3d-e-fg-7hj",
        ] {
            assert_eq!(normalize(input).as_deref(), Some("ab3defg7hj"), "{input:?}");
        }
    }

    #[test]
    fn normalize_reads_look_alikes() {
        assert_eq!(normalize("oO1iI-lLabc").as_deref(), Some("0011111abc"));
    }

    #[test]
    fn normalize_rejects_non_codes() {
        for input in [
            "",
            "ab3de-fg7h",
            "ab3de-fg7hjk",
            "ab3de-fg7hu",
            "ab3de_fg7hj",
            "ab3dé-fg7hj",
            "ab3de\tfg7hj",
            &format!("{}ab3defg7hj", " ".repeat(60)),
        ] {
            assert_eq!(normalize(input), None, "{input:?}");
        }
    }

    #[test]
    fn hash_is_hex_hmac_of_canonical_form() {
        let hasher = RecoveryHasher::new(&KEY);
        let hash = hasher.hash("AB3DE-FG7HJ");

        // The same value, computed with the `hmac` crate directly.
        let mut mac = Hmac::<Sha256>::new_from_slice(&KEY).unwrap();
        mac.update(b"ab3defg7hj");
        assert_eq!(
            hash,
            data_encoding::HEXLOWER.encode(&mac.finalize().into_bytes())
        );
        assert_eq!(hash.len(), 64);
    }

    #[test]
    fn hash_matches_every_spelling_of_a_code() {
        let hasher = RecoveryHasher::new(&KEY);
        let stored = hasher.hash("0b1de-fg7hj");

        for typed in ["0B1DE-FG7HJ", "ob1de fg7hj", "0bide-fg7hj", "0BLDEFG7HJ"] {
            assert_eq!(hasher.hash(typed), stored, "{typed}");
        }
    }

    #[test]
    fn hash_depends_on_key_and_code() {
        let hasher = RecoveryHasher::new(&KEY);
        let other_key = RecoveryHasher::new(&[0x43; 32]);

        assert_ne!(hasher.hash("ab3de-fg7hj"), other_key.hash("ab3de-fg7hj"));
        assert_ne!(hasher.hash("ab3de-fg7hj"), hasher.hash("ab3de-fg7hk"));
    }

    #[test]
    fn hash_of_invalid_input_matches_no_code() {
        let hasher = RecoveryHasher::new(&KEY);

        // `u` is outside the alphabet, and the padded code is longer than `normalize` reads.
        let padded = format!("{}ab3de-fg7hj", " ".repeat(60));
        for invalid in ["ab3de-fg7hu", padded.as_str()] {
            assert_ne!(
                hasher.hash(invalid),
                hasher.hash("ab3de-fg7hj"),
                "{invalid:?}"
            );
        }

        // What is hashed is the prefixed input.
        let mut mac = Hmac::<Sha256>::new_from_slice(&KEY).unwrap();
        mac.update(b"invalid:ab3de-fg7hu");
        assert_eq!(
            hasher.hash("ab3de-fg7hu"),
            data_encoding::HEXLOWER.encode(&mac.finalize().into_bytes())
        );
    }

    #[test]
    fn debug_hides_key() {
        assert_eq!(
            format!("{:?}", RecoveryHasher::new(&KEY)),
            "RecoveryHasher(***)"
        );
    }
}
