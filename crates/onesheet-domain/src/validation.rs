//! Field-level validation errors shared by settings, queries and configuration.

/// One invalid value: which field, and what would be accepted instead.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, thiserror::Error)]
#[error("{field}: {message}")]
pub struct FieldError {
    /// Dotted path of the field, such as `screensaver.interval_seconds` or the query parameter name.
    pub field: String,
    /// What is wrong and what is allowed, written for the person who set the value.
    pub message: String,
}

impl FieldError {
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            field: field.into(),
            message: message.into(),
        }
    }
}

/// Every invalid field of one document, so a form can show them all at once.
#[derive(Debug, Clone, Default, PartialEq, Eq, thiserror::Error, serde::Serialize)]
#[error("{}", .errors.iter().map(ToString::to_string).collect::<Vec<_>>().join("; "))]
pub struct ValidationErrors {
    pub errors: Vec<FieldError>,
}

impl ValidationErrors {
    pub fn push(&mut self, field: impl Into<String>, message: impl Into<String>) {
        self.errors.push(FieldError::new(field, message));
    }

    pub fn is_empty(&self) -> bool {
        self.errors.is_empty()
    }

    /// Returns `Ok(())` when nothing was pushed, so validators can end with `errors.into_result()`.
    pub fn into_result(self) -> Result<(), Self> {
        if self.errors.is_empty() {
            Ok(())
        } else {
            Err(self)
        }
    }
}

impl From<FieldError> for ValidationErrors {
    fn from(error: FieldError) -> Self {
        Self {
            errors: vec![error],
        }
    }
}

/// Returns the first bidirectional formatting character in `text`: an embedding or override
/// (U+202A to U+202E), an isolate (U+2066 to U+2069) or a directional mark (U+200E, U+200F,
/// U+061C). These characters reorder the text around them, so a name that contains one can
/// display as a different name in the admin pages and the log.
pub fn find_bidi_control(text: &str) -> Option<char> {
    text.chars().find(|&ch| {
        matches!(
            ch,
            '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}' | '\u{200E}' | '\u{200F}' | '\u{061C}'
        )
    })
}

/// Builds the error message for a `field` that contains the bidirectional formatting character
/// `ch`.
pub fn bidi_control_message(field: &str, ch: char) -> String {
    format!(
        "invalid {field}: it contains the invisible bidirectional formatting character U+{:04X}, \
         which changes the order in which text displays. Type the {field} again without it",
        u32::from(ch)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bidi_controls_are_found() {
        for ch in [
            '\u{202A}', '\u{202B}', '\u{202C}', '\u{202D}', '\u{202E}', '\u{2066}', '\u{2067}',
            '\u{2068}', '\u{2069}', '\u{200E}', '\u{200F}', '\u{061C}',
        ] {
            let text = format!("Lobby{ch}tv");
            assert_eq!(
                find_bidi_control(&text),
                Some(ch),
                "U+{:04X}",
                u32::from(ch)
            );
        }
    }

    #[test]
    fn plain_names_have_no_bidi_controls() {
        for text in ["Lobby", "שלום", "مرحبا", "千と千尋", "Café – 2"] {
            assert_eq!(find_bidi_control(text), None, "{text}");
        }
    }

    #[test]
    fn bidi_message_names_the_character() {
        let message = bidi_control_message("name", '\u{202E}');

        assert!(message.contains("U+202E"), "{message}");
        assert!(message.contains("without it"), "{message}");
    }
}
