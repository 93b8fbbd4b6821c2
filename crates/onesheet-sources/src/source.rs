//! The contract every media source implements.

use std::path::PathBuf;

use async_trait::async_trait;
use onesheet_domain::{ImageRef, MediaItem, SourceId};

/// Where the bytes of one image can be read.
#[derive(Debug, Clone)]
pub enum ImageBody {
    /// A file already checked to lie inside the source's root.
    File(PathBuf),
}

#[derive(Debug, thiserror::Error)]
pub enum SourceError {
    /// The source's root folder or server cannot be read at all.
    #[error("source {source_id} is unavailable: {reason}")]
    Unavailable { source_id: SourceId, reason: String },
    /// The image key names nothing this source can serve (deleted, or outside its root).
    #[error("image not found in source {source_id}")]
    ImageNotFound { source_id: SourceId },
    #[error("I/O error in source {source_id}: {error}")]
    Io {
        source_id: SourceId,
        #[source]
        error: std::io::Error,
    },
}

/// A place Onesheet reads media from: a local folder, a media server, a metadata service.
#[async_trait]
pub trait MediaSource: Send + Sync + 'static {
    fn id(&self) -> &SourceId;

    /// Short name of the source type for logs and status, such as `local` or `demo`.
    fn kind(&self) -> &'static str;

    /// Lists every item the source currently has, with `id` and `source` assigned.
    async fn fetch_items(&self) -> Result<Vec<MediaItem>, SourceError>;

    /// Resolves an image reference that this source put into one of its items.
    async fn open_image(&self, image: &ImageRef) -> Result<ImageBody, SourceError>;
}
