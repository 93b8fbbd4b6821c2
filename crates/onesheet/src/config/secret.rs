//! A configuration value that must never reach a log, a terminal or a serialized document.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// The text that `Debug`, `Display` and `Serialize` print in place of a secret.
pub const MASK: &str = "***";

/// A secret string, such as a database URL with a password in it or an encryption key.
///
/// `Debug`, `Display` and `Serialize` all print [`MASK`], so a secret that ends up in a
/// `tracing` field, an error message or a JSON dump stays hidden. The only way to read the value
/// is [`Secret::expose`], which makes each use easy to find.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    #[cfg(test)]
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }

    /// Returns the secret value itself, to be passed only to the code that needs it.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(MASK)
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(MASK)
    }
}

impl Serialize for Secret {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(MASK)
    }
}

impl<'de> Deserialize<'de> for Secret {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        String::deserialize(deserializer).map(Self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_and_display_are_masked() {
        let secret = Secret::new("hunter2");
        assert_eq!(format!("{secret:?}"), "***");
        assert_eq!(format!("{secret}"), "***");
        assert_eq!(format!("{:?}", Some(secret)), "Some(***)");
    }

    #[test]
    fn serialize_is_masked() {
        let json = serde_json::to_string(&Secret::new("hunter2")).unwrap();
        assert_eq!(json, "\"***\"");
    }

    #[test]
    fn expose_returns_value() {
        let secret: Secret = serde_json::from_str("\"hunter2\"").unwrap();
        assert_eq!(secret.expose(), "hunter2");
    }
}
