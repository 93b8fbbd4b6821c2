//! The rules a new password must pass: a length range, no common password, not the username and
//! not one short pattern repeated.
//!
//! There are no composition rules (no required digit or symbol). Length and a block list of
//! common choices resist guessing better, and composition rules push users towards `Password1!`.

use std::collections::HashSet;
use std::sync::LazyLock;

use unicode_normalization::UnicodeNormalization;

/// Common passwords, lowercase, one per line, `#` lines are comments.
const COMMON_PASSWORDS_TEXT: &str = include_str!("common_passwords.txt");

static COMMON_PASSWORDS: LazyLock<HashSet<&'static str>> = LazyLock::new(|| {
    COMMON_PASSWORDS_TEXT
        .lines()
        .filter(|line| !line.is_empty() && !line.starts_with('#'))
        .collect()
});

/// Maximum length of a unit whose repetition counts as a repeated pattern (`abcdabcdabcd`).
const MAX_REPEATED_UNIT_CHARS: usize = 4;

/// Minimum and maximum password length, in Unicode scalar values (`char`s) after NFKC
/// normalization, which is also the form that gets hashed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PasswordPolicy {
    pub min_chars: usize,
    /// Bounds the work of hashing and the size of a login request.
    pub max_chars: usize,
}

impl PasswordPolicy {
    pub const DEFAULT_MIN_CHARS: usize = 12;
    pub const DEFAULT_MAX_CHARS: usize = 256;

    /// Checks a new password for `username` and returns the first rule it breaks.
    ///
    /// Checks run in this order: length, repeated pattern, equal to the username, common
    /// password. Case is ignored when comparing with the username and the common list.
    pub fn check(&self, password: &str, username: &str) -> Result<(), PolicyViolation> {
        // Counting before normalizing keeps a huge input from being normalized first.
        let raw_length = password.chars().count();
        if raw_length > self.max_chars {
            return Err(PolicyViolation::TooLong {
                length: raw_length,
                max: self.max_chars,
            });
        }

        let normalized: String = password.nfkc().collect();
        let length = normalized.chars().count();
        if length > self.max_chars {
            return Err(PolicyViolation::TooLong {
                length,
                max: self.max_chars,
            });
        }
        if length < self.min_chars {
            return Err(PolicyViolation::TooShort {
                length,
                min: self.min_chars,
            });
        }

        let folded = normalized.to_lowercase();
        if is_repeated_pattern(&folded) {
            return Err(PolicyViolation::RepeatedPattern);
        }

        let username: String = username.nfkc().collect::<String>().to_lowercase();
        // The username itself, or the username repeated (`adminadminadmin`), guessed first by
        // anyone who knows the name.
        if !username.is_empty()
            && folded.len().is_multiple_of(username.len())
            && folded
                .as_bytes()
                .chunks(username.len())
                .all(|chunk| chunk == username.as_bytes())
        {
            return Err(PolicyViolation::SameAsUsername);
        }

        if COMMON_PASSWORDS.contains(folded.as_str()) {
            return Err(PolicyViolation::Common);
        }

        Ok(())
    }
}

impl Default for PasswordPolicy {
    fn default() -> Self {
        Self {
            min_chars: Self::DEFAULT_MIN_CHARS,
            max_chars: Self::DEFAULT_MAX_CHARS,
        }
    }
}

/// A rule that a new password breaks. The message names the rule and how to fix it, and is
/// written to be shown to the user as is. No variant carries the password.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PolicyViolation {
    #[error(
        "the password is too short ({length} characters): use at least {min} characters, for \
         example a sentence of four words"
    )]
    TooShort { length: usize, min: usize },

    #[error("the password is too long ({length} characters): use at most {max} characters")]
    TooLong { length: usize, max: usize },

    #[error(
        "the password repeats one short pattern, such as `aaaa` or `abab`: use words or \
         characters that do not repeat"
    )]
    RepeatedPattern,

    #[error(
        "the password is the username, or the username repeated: choose a password that differs from it"
    )]
    SameAsUsername,

    #[error(
        "the password is on the list of common passwords that attackers try first: choose \
         another, for example a sentence of four unrelated words"
    )]
    Common,
}

/// Returns true when `text` is one unit of at most [`MAX_REPEATED_UNIT_CHARS`] characters
/// repeated at least twice, such as `aaaaaaaaaaaa` or `abcabcabcabc`.
fn is_repeated_pattern(text: &str) -> bool {
    let chars: Vec<char> = text.chars().collect();

    (1..=MAX_REPEATED_UNIT_CHARS).any(|unit| {
        chars.len() >= unit * 2
            && chars.len().is_multiple_of(unit)
            && chars.chunks(unit).all(|chunk| chunk == &chars[..unit])
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;

    fn check(password: &str) -> Result<(), PolicyViolation> {
        PasswordPolicy::default().check(password, "alice")
    }

    #[test]
    fn accepts_long_uncommon_passphrase() {
        assert_eq!(check("velvet lantern orbits quietly"), Ok(()));
        assert_eq!(check("Tr4m-Kettle-9-Orchid"), Ok(()));
    }

    #[test]
    fn rejects_eleven_characters() {
        assert_eq!(
            check("abcdefghij1"),
            Err(PolicyViolation::TooShort {
                length: 11,
                min: 12
            })
        );
        assert_eq!(check("abcdefghij1x"), Ok(()));
    }

    #[test]
    fn counts_characters_not_bytes() {
        // Eleven characters of two bytes each: 22 bytes, still too short.
        let eleven = "é".repeat(10) + "x";
        assert_eq!(eleven.len(), 21);
        assert_eq!(
            check(&eleven),
            Err(PolicyViolation::TooShort {
                length: 11,
                min: 12
            })
        );

        // Twelve emoji are 48 bytes and pass.
        assert_eq!(check("🎬🎞🍿📽🎥🎟🎭🎤🎧🎼🎹🥁"), Ok(()));
    }

    #[test]
    fn counts_after_normalization() {
        // U+0065 U+0301 composes to one `é` under NFKC: 13 code points become 12 characters.
        let decomposed = "cafe\u{301} au lait";
        assert_eq!(decomposed.chars().count(), 13);
        assert_eq!(check(decomposed), Ok(()));

        // Twelve code points that compose to eleven characters are too short.
        let short = "cafe\u{301} au lai";
        assert_eq!(short.chars().count(), 12);
        assert_eq!(
            check(short),
            Err(PolicyViolation::TooShort {
                length: 11,
                min: 12
            })
        );
    }

    #[test]
    fn rejects_over_maximum() {
        let policy = PasswordPolicy::default();
        let at_max = "wxyz".repeat(63) + "abcd";
        assert_eq!(at_max.chars().count(), 256);
        assert_eq!(policy.check(&at_max, "alice"), Ok(()));

        let over = at_max.clone() + "e";
        assert_eq!(
            policy.check(&over, "alice"),
            Err(PolicyViolation::TooLong {
                length: 257,
                max: 256
            })
        );
    }

    #[test]
    fn rejects_repeated_patterns() {
        for password in [
            "aaaaaaaaaaaa",
            "AAAAAAAAAAAAAAAA",
            "111111111111",
            "abababababab",
            "abcabcabcabc",
            "AbcdABCDabcd",
            "1!1!1!1!1!1!",
        ] {
            assert_eq!(
                check(password),
                Err(PolicyViolation::RepeatedPattern),
                "{password}"
            );
        }
    }

    #[test]
    fn allows_repetition_of_longer_units() {
        // A five-character unit is outside the rule.
        assert_eq!(check("tulipTULIPtulip"), Ok(()));
        // Repetition that does not fill the whole password is fine.
        assert_eq!(check("aaaaaaaaaaab"), Ok(()));
    }

    #[test]
    fn rejects_username_ignoring_case() {
        let policy = PasswordPolicy::default();

        assert_eq!(
            policy.check("Projectionist", "projectionist"),
            Err(PolicyViolation::SameAsUsername)
        );
        assert_eq!(
            policy.check("projectionist", "ＰＲＯＪＥＣＴＩＯＮＩＳＴ"),
            Err(PolicyViolation::SameAsUsername)
        );
        assert_eq!(policy.check("projectionist1", "projectionist"), Ok(()));
        assert_eq!(
            policy.check("admin3admin3admin3", "admin3"),
            Err(PolicyViolation::SameAsUsername)
        );
        assert_eq!(
            policy.check("Admin3ADMIN3admin3", "admin3"),
            Err(PolicyViolation::SameAsUsername)
        );
    }

    #[test]
    fn empty_username_matches_nothing() {
        assert_eq!(
            PasswordPolicy::default().check("velvet lantern orbits", ""),
            Ok(())
        );
    }

    #[test]
    fn rejects_common_passwords_ignoring_case() {
        for password in [
            "password1234",
            "Password1234",
            "PASSWORD1234",
            "123456789012",
            "qwertyuiopas",
            "1q2w3e4r5t6y",
            "iloveyou1234",
            "correcthorsebatterystaple",
            "Correct Horse Battery Staple",
            "qwerty123456",
            "!qaz@wsx#edc",
            "sunshine2024",
        ] {
            assert_eq!(check(password), Err(PolicyViolation::Common), "{password}");
        }
    }

    #[test]
    fn common_list_is_well_formed() {
        let entries: Vec<&str> = COMMON_PASSWORDS_TEXT
            .lines()
            .filter(|line| !line.starts_with('#'))
            .collect();

        assert!(entries.len() >= 3000, "{} entries", entries.len());
        assert_eq!(entries.len(), COMMON_PASSWORDS.len(), "duplicate entries");

        for entry in entries {
            assert_eq!(entry, entry.to_lowercase(), "{entry}");
            assert!(entry.chars().count() >= 12, "{entry}");
            assert_eq!(entry, entry.trim(), "{entry:?}");
        }
    }

    #[test]
    fn messages_name_rule_and_fix() {
        let short = check("short").unwrap_err().to_string();
        assert!(short.contains("at least 12 characters"), "{short}");
        assert!(short.contains("sentence of four words"), "{short}");

        let common = check("password1234").unwrap_err().to_string();
        assert!(common.contains("common passwords"), "{common}");
        assert!(!common.contains("password1234"), "{common}");
    }
}
