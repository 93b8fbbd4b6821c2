//! The contract every media source implements.

use std::path::PathBuf;
use std::sync::Arc;

use async_trait::async_trait;
use onesheet_domain::{ImageRef, MediaItem, SourceId};

/// Location of the bytes of one image.
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

    /// Lists every item the source currently has, with `id` and `source` assigned. An item that
    /// has not changed since the previous call should come back as the same allocation: the
    /// catalog then keeps it as it is, so a rescan of a large library does not hold every item
    /// twice.
    async fn fetch_items(&self) -> Result<Vec<Arc<MediaItem>>, SourceError>;

    /// Takes the items restored from the saved catalog for this source, so that the next
    /// [`fetch_items`](Self::fetch_items) can return them unchanged instead of building copies.
    /// Sources without a cache ignore them.
    fn adopt(&self, _items: &[Arc<MediaItem>]) {}

    /// Resolves an image reference that this source put into one of its items.
    async fn open_image(&self, image: &ImageRef) -> Result<ImageBody, SourceError>;
}
