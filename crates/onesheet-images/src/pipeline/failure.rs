//! Why an image cannot be produced, in the terms a client and an admin need.

use std::sync::Arc;
use std::time::{Duration, Instant};

use super::ImageIdentity;
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
    /// The media server that stores the original failed or cannot be reached; not cached, so
    /// the next request tries again. `code` is the source's error code.
    #[error("{detail}")]
    Upstream { code: &'static str, detail: String },
}

/// Category of a cached failure. Each has a stable code for API errors and logs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FailureReason {
    NotFound,
    /// Over the byte, pixel or side limit, or the memory budget of one decode.
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
            LoadError::Io(_) | LoadError::Upstream { .. } => FailureReason::Processing,
        };
        Self {
            reason,
            detail: error.to_string(),
        }
    }

    pub fn from_derive(error: &DeriveError) -> Self {
        let reason = match error {
            DeriveError::InputTooLarge { .. }
            | DeriveError::TooManyPixels { .. }
            | DeriveError::OverMemoryBudget { .. } => FailureReason::TooLarge,
            DeriveError::UnknownFormat | DeriveError::Unsupported { .. } => {
                FailureReason::UnsupportedFormat
            }
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

/// Maximum time a failure that may pass by itself (a missing original) is remembered.
pub const TRANSIENT_FAILURE_TTL: Duration = Duration::from_secs(30);

/// Gives each remembered failure its lifetime by reason.
pub(super) struct FailureExpiry {
    pub failure_ttl: Duration,
}

impl moka::Expiry<ImageIdentity, Arc<ImageFailure>> for FailureExpiry {
    fn expire_after_create(
        &self,
        _image: &ImageIdentity,
        failure: &Arc<ImageFailure>,
        _created_at: Instant,
    ) -> Option<Duration> {
        Some(failure_lifetime(failure.reason, self.failure_ttl))
    }

    fn expire_after_update(
        &self,
        _image: &ImageIdentity,
        failure: &Arc<ImageFailure>,
        _updated_at: Instant,
        _remaining: Option<Duration>,
    ) -> Option<Duration> {
        Some(failure_lifetime(failure.reason, self.failure_ttl))
    }
}

/// Returns how long a failure is remembered: `failure_ttl` when the same bytes would fail the
/// same way again, and at most [`TRANSIENT_FAILURE_TTL`] otherwise.
pub(super) fn failure_lifetime(reason: FailureReason, failure_ttl: Duration) -> Duration {
    match reason {
        FailureReason::TooLarge
        | FailureReason::UnsupportedFormat
        | FailureReason::Invalid
        | FailureReason::Undecodable => failure_ttl,
        // A missing file may be back in a moment, and a processing failure is a bug that the
        // same bytes may not trigger again.
        FailureReason::NotFound | FailureReason::Processing => {
            failure_ttl.min(TRANSIENT_FAILURE_TTL)
        }
    }
}
