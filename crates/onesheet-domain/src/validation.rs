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
