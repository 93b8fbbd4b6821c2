//! Why an image cannot be produced, in the terms a client and an admin need.

use crate::derive::DeriveError;

/// Failure to read an original, reported by the caller's loader.
#[derive(Debug, Clone, thiserror::Error)]
pub enum LoadError {
    /// The source no longer has the image (file deleted, upstream 404).
    #[error("the original image was not found")]
    NotFound,
    #[error("the original is {bytes} bytes, over the limit of {max}")]
    TooLarge { bytes: u64, max: u64 },
    /// A transient read error; not cached, so the next request tries again.
    #[error("reading the original failed: {0}")]
    Io(String),
}

/// Category of a cached failure. Each has a stable code for API errors and logs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FailureReason {
    NotFound,
    /// Over the byte, pixel or side limit.
    TooLarge,
    UnsupportedFormat,
    /// Empty, truncated or otherwise broken before any pixel was decoded.
    Invalid,
    /// The decoder rejected the data.
    Undecodable,
    /// Resizing or encoding failed, which points at a bug rather than the file.
    Processing,
}

impl FailureReason {
    pub fn code(self) -> &'static str {
        match self {
            Self::NotFound => "image-not-found",
            Self::TooLarge => "image-too-large",
            Self::UnsupportedFormat => "image-unsupported-format",
            Self::Invalid => "image-invalid",
            Self::Undecodable => "image-undecodable",
            Self::Processing => "image-processing-failed",
        }
    }
}

/// A failure remembered for one image version.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{detail}")]
pub struct ImageFailure {
    pub reason: FailureReason,
    /// Client-safe description: it names the limit or the defect, never a path.
    pub detail: String,
}

impl ImageFailure {
    pub fn from_load(error: LoadError) -> Self {
        let reason = match error {
            LoadError::NotFound => FailureReason::NotFound,
            LoadError::TooLarge { .. } => FailureReason::TooLarge,
            LoadError::Io(_) => FailureReason::Processing,
        };
        Self {
            reason,
            detail: error.to_string(),
        }
    }

    pub fn from_derive(error: &DeriveError) -> Self {
        let reason = match error {
            DeriveError::InputTooLarge { .. } | DeriveError::TooManyPixels { .. } => {
                FailureReason::TooLarge
            }
            DeriveError::UnknownFormat => FailureReason::UnsupportedFormat,
            DeriveError::Invalid(_) => FailureReason::Invalid,
            DeriveError::Decode(_) => FailureReason::Undecodable,
            _ => FailureReason::Processing,
        };
        Self {
            reason,
            detail: error.to_string(),
        }
    }
}
