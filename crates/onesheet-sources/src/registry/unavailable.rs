//! A stand-in for a configured source that cannot start, such as one whose stored credential
//! the current secret key cannot open.

use std::sync::Arc;

use async_trait::async_trait;
use onesheet_domain::{ImageRef, MediaItem, SourceId};

use crate::source::{ImageBody, MediaSource, SourceError};

/// Fails every refresh with the reason it cannot start, so the catalog keeps the source's
/// saved items and shows it as failing until an admin fixes it.
pub(super) struct UnavailableSource {
    id: SourceId,
    kind: &'static str,
    reason: String,
}

impl UnavailableSource {
    pub(super) fn new(id: SourceId, kind: &'static str, reason: String) -> Self {
        Self { id, kind, reason }
    }

    fn error(&self) -> SourceError {
        SourceError::Unavailable {
            source_id: self.id.clone(),
            reason: self.reason.clone(),
        }
    }
}

#[async_trait]
impl MediaSource for UnavailableSource {
    fn id(&self) -> &SourceId {
        &self.id
    }

    fn kind(&self) -> &'static str {
        self.kind
    }

    async fn fetch_items(&self) -> Result<Vec<Arc<MediaItem>>, SourceError> {
        Err(self.error())
    }

    async fn open_image(&self, _image: &ImageRef) -> Result<ImageBody, SourceError> {
        Err(self.error())
    }
}
