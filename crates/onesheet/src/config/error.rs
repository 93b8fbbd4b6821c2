//! Errors of loading the configuration, worded to be printed as they are before exit code 2.
//!
//! Each message names the key, where its value came from and what would be accepted, because
//! the person reading it is fixing a file or a container definition, not reading the code.
//! The value of a secret key is never part of a message.

use std::io;
use std::path::PathBuf;

use super::Origin;

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error(
        "configuration file {} not found; check --config or ONESHEET_CONFIG",
        path.display()
    )]
    FileNotFound { path: PathBuf },

    // The I/O error is part of the message, and not a `#[source]`, so that the message printed
    // alone is complete.
    #[error("failed to read configuration file {}: {error}", path.display())]
    ReadFile { path: PathBuf, error: io::Error },

    #[error("invalid TOML in {}{}: {message}", path.display(), position_text(*position))]
    Syntax {
        path: PathBuf,
        /// Position where the parser stopped, or `None` if it reported none.
        position: Option<TextPosition>,
        message: String,
    },

    #[error("unknown key \"{key}\" {}: {}", origin.location(), suggestion_text(origin, suggestion.as_deref()))]
    UnknownKey {
        /// Dotted key name, such as `log.formt`.
        key: String,
        origin: Origin,
        /// The closest valid key, if one is close enough to be the intended one.
        suggestion: Option<&'static str>,
    },

    #[error("invalid value for {key} {}: {}expected {expected}", origin.location(), value_text(value.as_deref()))]
    InvalidValue {
        key: String,
        origin: Origin,
        /// The value as the source spelled it, or `None` for a secret key.
        value: Option<String>,
        expected: &'static str,
    },

    #[error("failed to read {var} ({}): {error}", path.display())]
    SecretFile {
        var: String,
        path: PathBuf,
        error: io::Error,
    },

    #[error("both {var} and {file_var} are set; set only one of them")]
    SecretSetTwice { var: String, file_var: String },

    #[error("{set} is set {} but {missing} is not: set both to serve HTTPS, or neither", origin.location())]
    IncompletePair {
        set: &'static str,
        origin: Origin,
        missing: &'static str,
    },

    #[error("force_https is on {} but public_url {}: set public_url to the https:// address browsers use, such as https://posters.example.com, or turn force_https off", origin.location(), public_url_text(public_url.as_deref()))]
    ForceHttpsWithoutHttpsUrl {
        origin: Origin,
        /// The normalized `public_url`, which is not secret.
        public_url: Option<String>,
    },

    #[error("environment variable {var} is not valid UTF-8")]
    NotUnicode { var: String },

    /// A figment error that has no key to report, which the checks before extraction should
    /// prevent. The message is figment's own.
    #[error("invalid configuration: {message}")]
    Other { message: String },
}

/// A 1-based line and column in a text, the column counted in characters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TextPosition {
    pub line: usize,
    pub column: usize,
}

impl TextPosition {
    /// Converts a byte offset, as parsers report it, to a line and column. An offset past the
    /// end or inside a character counts as the nearest character boundary before it.
    pub fn at_offset(text: &str, offset: usize) -> Self {
        let mut end = offset.min(text.len());
        while !text.is_char_boundary(end) {
            end -= 1;
        }
        let before = &text[..end];
        let line_start = before.rfind('\n').map_or(0, |newline| newline + 1);
        Self {
            line: before.matches('\n').count() + 1,
            column: before[line_start..].chars().count() + 1,
        }
    }
}

fn position_text(position: Option<TextPosition>) -> String {
    match position {
        Some(TextPosition { line, column }) => format!(" at line {line}, column {column}"),
        None => String::new(),
    }
}

fn suggestion_text(origin: &Origin, suggestion: Option<&str>) -> String {
    let Some(key) = suggestion else {
        return format!("valid keys are {}", super::keys::list());
    };
    match origin {
        Origin::Env(_) => format!("did you mean {}?", super::keys::env_var(key)),
        _ => format!("did you mean \"{key}\"?"),
    }
}

fn public_url_text(public_url: Option<&str>) -> String {
    match public_url {
        Some(url) => format!("is {url:?}"),
        None => "is unset".to_owned(),
    }
}

fn value_text(value: Option<&str>) -> String {
    match value {
        Some(value) => format!("{value}: "),
        None => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_key_in_file() {
        let error = ConfigError::UnknownKey {
            key: "lisen".to_owned(),
            origin: Origin::File(PathBuf::from("/etc/onesheet.toml")),
            suggestion: Some("listen"),
        };
        assert_eq!(
            error.to_string(),
            "unknown key \"lisen\" in /etc/onesheet.toml: did you mean \"listen\"?"
        );
    }

    #[test]
    fn unknown_key_in_env() {
        let error = ConfigError::UnknownKey {
            key: "log_format".to_owned(),
            origin: Origin::Env("ONESHEET_LOG_FORMAT".to_owned()),
            suggestion: Some("log.format"),
        };
        assert_eq!(
            error.to_string(),
            "unknown key \"log_format\" from ONESHEET_LOG_FORMAT: did you mean ONESHEET_LOG__FORMAT?"
        );
    }

    #[test]
    fn unknown_key_without_suggestion_lists_keys() {
        let error = ConfigError::UnknownKey {
            key: "zzz".to_owned(),
            origin: Origin::Env("ONESHEET_ZZZ".to_owned()),
            suggestion: None,
        };
        let message = error.to_string();
        assert!(
            message.starts_with("unknown key \"zzz\" from ONESHEET_ZZZ: valid keys are listen, ")
        );
        assert!(message.ends_with("images.deadline_seconds"), "{message}");
    }

    #[test]
    fn text_position_counts_characters() {
        let text = "a = 1\nlog = \"é\" x\n";
        assert_eq!(
            TextPosition::at_offset(text, 0),
            TextPosition { line: 1, column: 1 }
        );
        assert_eq!(
            TextPosition::at_offset(text, 6),
            TextPosition { line: 2, column: 1 }
        );
        // "x" follows 'é', which is two bytes but one column.
        let x = text.find('x').unwrap();
        assert_eq!(
            TextPosition::at_offset(text, x),
            TextPosition {
                line: 2,
                column: 11
            }
        );
        assert_eq!(
            TextPosition::at_offset(text, 999),
            TextPosition { line: 3, column: 1 }
        );
    }

    #[test]
    fn invalid_value_without_secret() {
        let error = ConfigError::InvalidValue {
            key: "secret_key".to_owned(),
            origin: Origin::Env("ONESHEET_SECRET_KEY".to_owned()),
            value: None,
            expected: "a non-empty string",
        };
        assert_eq!(
            error.to_string(),
            "invalid value for secret_key from ONESHEET_SECRET_KEY: expected a non-empty string"
        );
    }
}
