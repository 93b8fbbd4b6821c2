//! Random bearer secrets: session ids, API tokens and CSRF tokens.
//!
//! Each contains 256 random bits, written as 43 characters of unpadded base64url (RFC 4648
//! section 5) so it fits a cookie, a header or a form field unescaped. Parsing is strict: the
//! exact length, only the base64url alphabet and the canonical encoding, so one secret has
//! exactly one spelling and its hash is a stable lookup key.
//!
//! The store keeps only `hash()`: lowercase hex SHA-256 of the token text exactly as it travels,
//! prefix included. A fast hash suffices because the input has 256 random bits. `Debug` prints
//! `***`, and none of these types implements `Display`, so `%` formatting in a log call does not
//! compile.

use std::fmt;

use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use crate::AuthError;

/// Random bytes per token.
const TOKEN_BYTES: usize = 32;

/// Characters of unpadded base64url for [`TOKEN_BYTES`] bytes.
const ENCODED_CHARS: usize = 43;

/// Prefix of every API token, so a leaked token is recognisable in logs, repositories and
/// secret scanners.
pub const API_TOKEN_PREFIX: &str = "ost_";

/// A server-side session id, sent as the session cookie's value.
#[derive(Clone)]
pub struct SessionId {
    text: String,
}

impl SessionId {
    pub fn generate() -> Self {
        Self {
            text: generate_text(),
        }
    }

    /// Parses a cookie value.
    pub fn parse(text: &str) -> Result<Self, AuthError> {
        validate_text(text, "session id")?;
        Ok(Self {
            text: text.to_owned(),
        })
    }

    /// Returns the secret text, for the `Set-Cookie` header only.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// Returns the lowercase hex SHA-256 of the id, the only form the store keeps.
    pub fn hash(&self) -> String {
        sha256_hex(&self.text)
    }
}

impl fmt::Debug for SessionId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SessionId(***)")
    }
}

/// An API token: `ost_` followed by 43 base64url characters (47 in all).
#[derive(Clone)]
pub struct ApiToken {
    text: String,
}

impl ApiToken {
    pub fn generate() -> Self {
        Self {
            text: format!("{API_TOKEN_PREFIX}{}", generate_text()),
        }
    }

    /// Parses a token from an `Authorization: Bearer` header. The prefix is case-sensitive.
    pub fn parse(text: &str) -> Result<Self, AuthError> {
        let Some(secret) = text.strip_prefix(API_TOKEN_PREFIX) else {
            return Err(AuthError::InvalidToken {
                kind: "API token",
                reason: "expected the `ost_` prefix",
            });
        };
        validate_text(secret, "API token")?;
        Ok(Self {
            text: text.to_owned(),
        })
    }

    /// Returns the secret text, prefix included, to show once when the token is created.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// Returns the lowercase hex SHA-256 of the whole token text, the only form the store keeps.
    pub fn hash(&self) -> String {
        sha256_hex(&self.text)
    }
}

impl fmt::Debug for ApiToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ApiToken(***)")
    }
}

/// A CSRF token bound to one session, echoed by the browser in a header or form field.
#[derive(Clone)]
pub struct CsrfToken {
    text: String,
}

impl CsrfToken {
    pub fn generate() -> Self {
        Self {
            text: generate_text(),
        }
    }

    /// Parses a token kept with the session.
    pub fn parse(text: &str) -> Result<Self, AuthError> {
        validate_text(text, "CSRF token")?;
        Ok(Self {
            text: text.to_owned(),
        })
    }

    /// Returns the secret text, for the page or header that hands it to the browser.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// Returns the lowercase hex SHA-256 of the token, for a store that keeps only hashes.
    pub fn hash(&self) -> String {
        sha256_hex(&self.text)
    }

    /// Compares a submitted value with this token in constant time. Input of the wrong length
    /// returns false at once, which reveals only the length, and that is public.
    pub fn equals(&self, submitted: &str) -> bool {
        self.text.as_bytes().ct_eq(submitted.as_bytes()).into()
    }
}

impl fmt::Debug for CsrfToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("CsrfToken(***)")
    }
}

fn generate_text() -> String {
    let bytes: [u8; TOKEN_BYTES] = crate::random::bytes();
    data_encoding::BASE64URL_NOPAD.encode(&bytes)
}

fn validate_text(text: &str, kind: &'static str) -> Result<(), AuthError> {
    if text.len() != ENCODED_CHARS {
        return Err(AuthError::InvalidToken {
            kind,
            reason: "expected 43 characters",
        });
    }
    let in_alphabet = text
        .bytes()
        .all(|byte| byte.is_ascii_alphanumeric() || byte == b'-' || byte == b'_');
    if !in_alphabet {
        return Err(AuthError::InvalidToken {
            kind,
            reason: "expected only the characters A-Z, a-z, 0-9, `-` and `_`",
        });
    }

    // 43 characters carry 258 bits, so the last character has two spare bits. The decoder
    // rejects them unless they are zero, which leaves one spelling per token.
    match data_encoding::BASE64URL_NOPAD.decode(text.as_bytes()) {
        Ok(bytes) if bytes.len() == TOKEN_BYTES => Ok(()),
        _ => Err(AuthError::InvalidToken {
            kind,
            reason: "not a canonical base64url encoding of 32 bytes",
        }),
    }
}

fn sha256_hex(text: &str) -> String {
    data_encoding::HEXLOWER.encode(&Sha256::digest(text.as_bytes()))
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;

    /// A valid token text: 32 bytes of 0x01 in unpadded base64url.
    const VALID: &str = "AQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQE";

    fn reason(error: AuthError) -> &'static str {
        match error {
            AuthError::InvalidToken { reason, .. } => reason,
            other => panic!("unexpected error {other}"),
        }
    }

    #[test]
    fn session_id_has_43_base64url_characters() {
        let id = SessionId::generate();

        assert_eq!(id.as_str().len(), 43);
        assert!(
            id.as_str()
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'),
            "{}",
            id.as_str()
        );
        assert_eq!(SessionId::parse(id.as_str()).unwrap().as_str(), id.as_str());
    }

    #[test]
    fn session_ids_differ() {
        assert_ne!(
            SessionId::generate().as_str(),
            SessionId::generate().as_str()
        );
    }

    #[test]
    fn parse_accepts_known_encoding() {
        assert_eq!(
            data_encoding::BASE64URL_NOPAD.encode(&[1u8; 32]),
            VALID,
            "test constant"
        );
        assert!(SessionId::parse(VALID).is_ok());
        assert!(CsrfToken::parse(VALID).is_ok());
    }

    #[test]
    fn parse_rejects_wrong_length() {
        for text in ["", &VALID[..42], &format!("{VALID}A"), &format!("{VALID}=")] {
            let error = SessionId::parse(text).unwrap_err();
            assert_eq!(reason(error), "expected 43 characters", "{text:?}");
        }
    }

    #[test]
    fn parse_rejects_characters_outside_base64url() {
        for bad in ['+', '/', '=', ' ', '.', '%', 'é'] {
            // Replace one character and keep 43 bytes where the replacement is ASCII.
            let text = format!("{bad}{}", &VALID[1..]);
            let error = SessionId::parse(&text).unwrap_err();
            let expected = if bad.is_ascii() {
                "expected only the characters A-Z, a-z, 0-9, `-` and `_`"
            } else {
                "expected 43 characters"
            };
            assert_eq!(reason(error), expected, "{text:?}");
        }
    }

    #[test]
    fn parse_rejects_non_canonical_last_character() {
        // `E` ends VALID with spare bits 00; `F` sets one of them, which decodes to the same
        // bytes under a lenient decoder.
        let text = format!("{}F", &VALID[..42]);
        let error = SessionId::parse(&text).unwrap_err();

        assert_eq!(
            reason(error),
            "not a canonical base64url encoding of 32 bytes"
        );
    }

    #[test]
    fn hash_is_sha256_hex_of_text() {
        let id = SessionId::parse(VALID).unwrap();
        let expected = data_encoding::HEXLOWER.encode(&Sha256::digest(VALID.as_bytes()));

        assert_eq!(id.hash(), expected);
        assert_eq!(id.hash().len(), 64);
        assert_ne!(id.hash(), SessionId::generate().hash());
    }

    #[test]
    fn api_token_has_prefix_and_round_trips() {
        let token = ApiToken::generate();

        assert!(token.as_str().starts_with("ost_"), "{}", token.as_str());
        assert_eq!(token.as_str().len(), 47);
        let parsed = ApiToken::parse(token.as_str()).unwrap();
        assert_eq!(parsed.hash(), token.hash());
    }

    #[test]
    fn api_token_hash_covers_prefix() {
        let token = ApiToken::parse(&format!("ost_{VALID}")).unwrap();
        let expected = data_encoding::HEXLOWER.encode(&Sha256::digest(format!("ost_{VALID}")));

        assert_eq!(token.hash(), expected);
    }

    #[test]
    fn api_token_parse_is_strict() {
        let missing = ApiToken::parse(VALID).unwrap_err();
        assert_eq!(reason(missing), "expected the `ost_` prefix");

        let upper = ApiToken::parse(&format!("OST_{VALID}")).unwrap_err();
        assert_eq!(reason(upper), "expected the `ost_` prefix");

        let short = ApiToken::parse(&format!("ost_{}", &VALID[..42])).unwrap_err();
        assert_eq!(reason(short), "expected 43 characters");

        let spaced = ApiToken::parse(&format!(" ost_{VALID}")).unwrap_err();
        assert_eq!(reason(spaced), "expected the `ost_` prefix");
    }

    #[test]
    fn csrf_equals_only_same_text() {
        let token = CsrfToken::generate();

        assert!(token.equals(token.as_str()));
        assert!(!token.equals(""));
        assert!(!token.equals(&token.as_str()[..42]));
        assert!(!token.equals(&format!("{}x", token.as_str())));
        assert!(!token.equals(CsrfToken::generate().as_str()));

        let mut flipped = token.as_str().to_owned().into_bytes();
        flipped[42] = if flipped[42] == b'A' { b'B' } else { b'A' };
        assert!(!token.equals(&String::from_utf8(flipped).unwrap()));
    }

    #[test]
    fn debug_hides_secrets() {
        let session = SessionId::parse(VALID).unwrap();
        let api = ApiToken::parse(&format!("ost_{VALID}")).unwrap();
        let csrf = CsrfToken::parse(VALID).unwrap();

        assert_eq!(format!("{session:?}"), "SessionId(***)");
        assert_eq!(format!("{api:?}"), "ApiToken(***)");
        assert_eq!(format!("{csrf:?}"), "CsrfToken(***)");
    }

    #[test]
    fn error_message_omits_token_text() {
        let text = format!("{}!", &VALID[..42]);
        let message = SessionId::parse(&text).unwrap_err().to_string();

        assert!(!message.contains(&VALID[..20]), "{message}");
        assert!(message.starts_with("invalid session id:"), "{message}");
    }
}
