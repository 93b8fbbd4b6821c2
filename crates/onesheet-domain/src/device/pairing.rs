//! Pairing codes: the short code an unpaired screen shows and an admin types in to claim it.
//!
//! A code is [`PAIRING_CODE_LEN`] characters from an alphabet of 30 that leaves out `0`, `O`, `1`,
//! `I`, `L` and `U`, so no two characters look alike on a TV across a room. That gives 30^6, about
//! 729 million codes (29.4 bits). A code lives [`PAIRING_CODE_LIFETIME_SECONDS`] and works once;
//! together with the rate limit on claims, guessing a live code is impractical.
//!
//! With the code the screen receives a [`PairingTicket`], a 256-bit secret it keeps but never
//! shows. After a reconnect (a server restart, a network drop) the screen presents code and
//! ticket to resume waiting for the same claim, so someone who only read the code off the screen
//! cannot take the device's place.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use super::{SECRET_RANDOM_BYTES, check_secret_text};
use crate::validation::FieldError;

/// Characters of a pairing code.
pub const PAIRING_CODE_LEN: usize = 6;

/// How long a code can be claimed, in seconds.
pub const PAIRING_CODE_LIFETIME_SECONDS: i64 = 600;

/// Random bytes to pass to [`PairingCode::from_random`]. Each byte yields a character with
/// probability 15/16, so 16 bytes fall short of six characters with a probability of about
/// 3 in 10^10.
pub const PAIRING_CODE_RANDOM_BYTES: usize = 16;

/// The code alphabet: digits 2 to 9 and the letters other than I, L, O and U.
const ALPHABET: &[u8; 30] = b"23456789ABCDEFGHJKMNPQRSTVWXYZ";

/// Random bytes at or above this value are skipped. 240 is the largest multiple of 30 that
/// fits in a byte, so `byte % 30` of the accepted bytes is uniform.
const UNBIASED_LIMIT: u8 = 240;

/// Maximum length of the text [`PairingCode::from_str`] examines, in characters: a code with separators and
/// stray spaces fits easily.
const MAX_INPUT_CHARS: usize = 32;

/// A pairing code in canonical form: six characters of the code alphabet, uppercase, with no
/// separator. `Display` and serde use this form, and [`grouped`](Self::grouped) adds a dash for
/// screens. `Debug` prints `***`, so a code pending a claim does not reach the logs.
#[derive(Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct PairingCode(String);

impl PairingCode {
    /// Builds a code from random bytes that the caller draws from a CSPRNG, without modulo bias:
    /// bytes of [`UNBIASED_LIMIT`] or more are skipped. Returns `None` when the bytes run out
    /// before the code is complete. Pass [`PAIRING_CODE_RANDOM_BYTES`] bytes and draw again on
    /// `None`.
    pub fn from_random(bytes: &[u8]) -> Option<Self> {
        let code: String = bytes
            .iter()
            .filter(|&&byte| byte < UNBIASED_LIMIT)
            .take(PAIRING_CODE_LEN)
            .map(|&byte| char::from(ALPHABET[usize::from(byte % 30)]))
            .collect();
        (code.len() == PAIRING_CODE_LEN).then_some(Self(code))
    }

    /// Returns the canonical form, which the server hashes to store and find the code.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Returns the code as a screen shows it, such as `K7M-2QX`.
    pub fn grouped(&self) -> String {
        let (first, second) = self.0.split_at(PAIRING_CODE_LEN / 2);
        format!("{first}-{second}")
    }
}

/// Error from reading typed text as a pairing code.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PairingCodeError {
    #[error(
        "invalid pairing code: expected {PAIRING_CODE_LEN} letters and digits but found {found}. \
         Type the code exactly as the screen shows it"
    )]
    WrongLength { found: usize },
    #[error(
        "invalid pairing code: {character:?} never occurs in pairing codes, which contain no \
         0, 1, I, L, O or U. Type the code exactly as the screen shows it"
    )]
    InvalidCharacter { character: char },
}

impl FromStr for PairingCode {
    type Err = PairingCodeError;

    /// Reads a code as a person types it: lowercase letters are accepted, and spaces and dashes
    /// anywhere are ignored.
    fn from_str(input: &str) -> Result<Self, Self::Err> {
        let length = input.chars().count();
        if length > MAX_INPUT_CHARS {
            return Err(PairingCodeError::WrongLength { found: length });
        }

        let mut code = String::with_capacity(PAIRING_CODE_LEN);
        for character in input.chars() {
            if character.is_whitespace() || character == '-' {
                continue;
            }
            let upper = character.to_ascii_uppercase();
            let in_alphabet = u8::try_from(upper).is_ok_and(|byte| ALPHABET.contains(&byte));
            if !in_alphabet {
                return Err(PairingCodeError::InvalidCharacter { character });
            }
            code.push(upper);
        }

        if code.len() == PAIRING_CODE_LEN {
            Ok(Self(code))
        } else {
            Err(PairingCodeError::WrongLength { found: code.len() })
        }
    }
}

impl TryFrom<String> for PairingCode {
    type Error = PairingCodeError;

    fn try_from(value: String) -> Result<Self, Self::Error> {
        value.parse()
    }
}

impl From<PairingCode> for String {
    fn from(code: PairingCode) -> Self {
        code.0
    }
}

impl fmt::Display for PairingCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for PairingCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("PairingCode(***)")
    }
}

/// The secret that lets a screen resume waiting for the claim of its pairing code after a
/// reconnect: 64 lowercase hex digits. The store keeps a keyed hash. `Debug` prints `***`.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct PairingTicket(String);

impl PairingTicket {
    /// Builds a ticket from random bytes that the caller draws from a CSPRNG.
    pub fn from_random(bytes: &[u8; SECRET_RANDOM_BYTES]) -> Self {
        Self(hex::encode(bytes))
    }

    /// Returns the ticket's text, for hashing and for the message that hands it to the screen.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for PairingTicket {
    type Error = FieldError;

    fn try_from(value: String) -> Result<Self, Self::Error> {
        check_secret_text("ticket", "pairing ticket", &value)?;
        Ok(Self(value))
    }
}

impl From<PairingTicket> for String {
    fn from(ticket: PairingTicket) -> Self {
        ticket.0
    }
}

impl fmt::Debug for PairingTicket {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("PairingTicket(***)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn alphabet_has_no_lookalikes() {
        for lookalike in b"01ILOU" {
            assert!(!ALPHABET.contains(lookalike), "{}", char::from(*lookalike));
        }
        let mut sorted = ALPHABET.to_vec();
        sorted.dedup();
        assert_eq!(sorted.len(), ALPHABET.len(), "no repeated character");
        assert_eq!(usize::from(UNBIASED_LIMIT) % ALPHABET.len(), 0);
        assert!(usize::from(UNBIASED_LIMIT) + ALPHABET.len() > 256);
    }

    #[test]
    fn code_from_random_maps_bytes_to_alphabet() {
        let code = PairingCode::from_random(&[0, 1, 29, 30, 59, 239]).unwrap();
        assert_eq!(code.as_str(), "23Z2ZZ");
    }

    #[test]
    fn code_from_random_skips_biased_bytes() {
        let code = PairingCode::from_random(&[240, 255, 0, 250, 1, 2, 3, 4, 5]).unwrap();
        assert_eq!(code.as_str(), "234567");
    }

    #[test]
    fn code_from_random_needs_enough_bytes() {
        assert_eq!(PairingCode::from_random(&[0; 5]), None);
        assert_eq!(PairingCode::from_random(&[245; 64]), None);
    }

    #[test]
    fn every_byte_below_limit_is_equally_likely() {
        // Feeding each accepted byte value once must give every character the same count.
        let bytes: Vec<u8> = (0..=255).collect();
        let mut counts = [0usize; 30];
        for chunk in bytes.chunks(PAIRING_CODE_LEN) {
            let padded: Vec<u8> = chunk.iter().copied().chain([0; 6]).collect();
            let code = PairingCode::from_random(&padded).unwrap();
            let accepted = chunk.iter().filter(|&&b| b < UNBIASED_LIMIT).count();
            for character in code.as_str().bytes().take(accepted) {
                let index = ALPHABET.iter().position(|&c| c == character).unwrap();
                counts[index] += 1;
            }
        }
        assert!(counts.iter().all(|&count| count == 8), "{counts:?}");
    }

    #[test]
    fn code_parse_accepts_lowercase_spaces_and_dashes() {
        for typed in ["K7M2QX", "k7m-2qx", " k7m 2qx ", "K-7-M-2-Q-X", "k7m\t2qx"] {
            let code: PairingCode = typed.parse().unwrap();
            assert_eq!(code.as_str(), "K7M2QX", "{typed:?}");
        }
    }

    #[test]
    fn code_parse_rejects_lookalikes_and_wrong_length() {
        assert_eq!(
            "K7M2Q0".parse::<PairingCode>(),
            Err(PairingCodeError::InvalidCharacter { character: '0' })
        );
        assert_eq!(
            "k7m2qo".parse::<PairingCode>(),
            Err(PairingCodeError::InvalidCharacter { character: 'o' })
        );
        assert_eq!(
            "K7M2Q".parse::<PairingCode>(),
            Err(PairingCodeError::WrongLength { found: 5 })
        );
        assert_eq!(
            "K7M2QXX".parse::<PairingCode>(),
            Err(PairingCodeError::WrongLength { found: 7 })
        );
        assert!("Ｋ7M2QX".parse::<PairingCode>().is_err(), "full-width K");
        assert!(" ".repeat(1_000).parse::<PairingCode>().is_err());
    }

    #[test]
    fn code_error_names_the_fix() {
        let error = "K7M2QO".parse::<PairingCode>().unwrap_err();
        assert!(
            error.to_string().contains("no 0, 1, I, L, O or U"),
            "{error}"
        );
    }

    #[test]
    fn code_display_forms() {
        let code: PairingCode = "k7m2qx".parse().unwrap();
        assert_eq!(code.to_string(), "K7M2QX");
        assert_eq!(code.grouped(), "K7M-2QX");
        assert_eq!(format!("{code:?}"), "PairingCode(***)");
        assert_eq!(serde_json::to_string(&code).unwrap(), r#""K7M2QX""#);
        let parsed: PairingCode = serde_json::from_str(r#""k7m-2qx""#).unwrap();
        assert_eq!(parsed, code);
    }

    #[test]
    fn ticket_round_trips_and_hides_in_debug() {
        let ticket = PairingTicket::from_random(&[0xfe; SECRET_RANDOM_BYTES]);
        let json = serde_json::to_string(&ticket).unwrap();
        let parsed: PairingTicket = serde_json::from_str(&json).unwrap();
        assert_eq!(parsed, ticket);
        assert_eq!(format!("{ticket:?}"), "PairingTicket(***)");
        assert!(serde_json::from_str::<PairingTicket>(r#""short""#).is_err());
    }
}
