//! The contract every media source implements.

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use async_trait::async_trait;
use bytes::Bytes;
use onesheet_domain::{ImageRef, MediaItem, NowPlaying, SourceId};
use onesheet_upstream::UpstreamError;
use serde::Serialize;

/// Location of the bytes of one image.
#[derive(Debug, Clone)]
pub enum ImageBody {
    /// A file already checked to lie inside the source's root.
    File(PathBuf),
    /// Bytes fetched from a media server, at most the upstream client's image size cap.
    Bytes {
        bytes: Bytes,
        /// The media type the server sent; the image pipeline sniffs the bytes anyway.
        content_type: Option<String>,
    },
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
    /// A request to the media server failed; the upstream error names the cause and the URL
    /// with secrets removed.
    #[error("source {source_id}: {error}")]
    Upstream {
        source_id: SourceId,
        #[source]
        error: UpstreamError,
    },
    /// The server responded, but its content is unusable (an XML or HTML page where JSON was
    /// expected, a page that contradicts the previous one).
    #[error("source {source_id} sent an invalid response: {reason}")]
    InvalidResponse { source_id: SourceId, reason: String },
    /// The source has no credential, or its stored credential cannot be decrypted.
    #[error("source {source_id} has no usable credential: {reason}")]
    MissingCredential { source_id: SourceId, reason: String },
}

impl SourceError {
    /// Stable machine code for the admin API and status pages.
    pub fn code(&self) -> &'static str {
        match self {
            Self::Unavailable { .. } => "source-unavailable",
            Self::ImageNotFound { .. } => "image-not-found",
            Self::Io { .. } => "source-io",
            Self::Upstream { error, .. } => error.code(),
            Self::InvalidResponse { .. } => "source-invalid-response",
            Self::MissingCredential { .. } => "source-credential-missing",
        }
    }
}

/// Progress of a running refresh, shared between the source that fetches and the status API
/// that reads it. Counters only, so updating it per page costs two atomic stores.
#[derive(Debug, Clone, Default)]
pub struct RefreshProgress {
    inner: Arc<ProgressInner>,
}

#[derive(Debug, Default)]
struct ProgressInner {
    running: AtomicBool,
    fetched: AtomicU64,
    /// 0 while unknown.
    total: AtomicU64,
}

/// Progress of a running refresh as the status API shows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct ProgressView {
    pub fetched: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub total: Option<u64>,
}

impl RefreshProgress {
    pub fn start(&self) {
        self.inner.fetched.store(0, Ordering::Relaxed);
        self.inner.total.store(0, Ordering::Relaxed);
        self.inner.running.store(true, Ordering::Release);
    }

    /// Records the running totals after a page: items fetched so far and the total the server
    /// announced (which may grow while a library is being scanned).
    pub fn update(&self, fetched: u64, total: Option<u64>) {
        self.inner.fetched.store(fetched, Ordering::Relaxed);
        self.inner
            .total
            .store(total.unwrap_or(0), Ordering::Relaxed);
    }

    pub fn finish(&self) {
        self.inner.running.store(false, Ordering::Release);
    }

    pub fn is_running(&self) -> bool {
        self.inner.running.load(Ordering::Acquire)
    }

    pub fn view(&self) -> ProgressView {
        let total = self.inner.total.load(Ordering::Relaxed);
        ProgressView {
            fetched: self.inner.fetched.load(Ordering::Relaxed),
            total: (total > 0).then_some(total),
        }
    }
}

/// Server facts learned by a connection test.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ServerInfo {
    /// The name the server's owner gave it.
    pub name: String,
    /// Product as the server reports it, such as `Jellyfin Server` or `Plex Media Server`.
    pub product: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
}

/// One library (Plex section, Jellyfin virtual folder) a source can read.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Library {
    /// The id the settings' `libraries` list takes.
    pub id: String,
    pub name: String,
    /// `movies`, `shows`, `music` or the server's own word for other kinds.
    pub kind: String,
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

    /// Takes items that the catalog keeps for this source: those restored from the saved
    /// catalog, and those that gained palettes and placeholders since the source returned them.
    /// Each replaces the cached item with the same upstream key, so that the next
    /// [`fetch_items`](Self::fetch_items) returns the catalog's allocation for an unchanged item
    /// instead of a copy, and the source's cache never keeps a second copy of the catalog.
    /// Sources without a cache ignore them.
    fn adopt(&self, _items: &[Arc<MediaItem>]) {}

    /// Resolves an image reference that this source put into one of its items.
    async fn open_image(&self, image: &ImageRef) -> Result<ImageBody, SourceError>;

    /// Progress of the refresh in flight, for sources whose listing takes long enough to be
    /// worth showing (media servers page through thousands of items).
    fn progress(&self) -> Option<RefreshProgress> {
        None
    }

    /// Request counts, failures, retries and breaker state of the source's HTTP client, for
    /// sources that talk to a server.
    fn client_stats(&self) -> Option<onesheet_upstream::SourceStats> {
        None
    }

    /// Relative share of the display order for this source's items: 2.0 shows them twice as
    /// often as items of weight 1.0.
    fn weight(&self) -> f32 {
        1.0
    }

    /// Checks that the source is reachable and accepts its credential. Sources without a
    /// server (a local folder) succeed with their own description.
    async fn test_connection(&self) -> Result<ServerInfo, SourceError> {
        Ok(ServerInfo {
            name: self.id().to_string(),
            product: self.kind().to_owned(),
            version: None,
        })
    }

    /// Lists the libraries the source can read. Empty for sources without libraries.
    async fn libraries(&self) -> Result<Vec<Library>, SourceError> {
        Ok(Vec::new())
    }

    /// Lists the playback sessions running now. Empty for sources that play nothing.
    async fn now_playing(&self) -> Result<Vec<NowPlaying>, SourceError> {
        Ok(Vec::new())
    }
}

/// The items a media-server source returned last, by upstream key, so that a refresh hands
/// back the same allocation for every item that did not change (see
/// [`MediaSource::fetch_items`]).
#[derive(Debug, Default)]
pub(crate) struct PreviousItems {
    items: std::sync::Mutex<std::collections::HashMap<String, Arc<MediaItem>>>,
}

impl PreviousItems {
    fn lock(&self) -> std::sync::MutexGuard<'_, std::collections::HashMap<String, Arc<MediaItem>>> {
        // Each update replaces the whole map, so a panic elsewhere cannot leave it half-written.
        self.items
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Remembers items from the catalog in place of the cached ones with the same upstream key.
    pub(crate) fn adopt(&self, items: &[Arc<MediaItem>]) {
        self.lock().extend(
            items
                .iter()
                .map(|item| (item.upstream_key.clone(), item.clone())),
        );
    }

    pub(crate) fn contains(&self, upstream_key: &str) -> bool {
        self.lock().contains_key(upstream_key)
    }

    /// Assigns identities, reuses the previous allocation of unchanged items, and remembers
    /// the result for the next refresh. The items come fresh from [`list_pages`], so each one
    /// is unique and gets its identity without being copied.
    pub(crate) fn share(
        &self,
        source: &SourceId,
        items: Vec<Arc<MediaItem>>,
    ) -> Vec<Arc<MediaItem>> {
        let mut previous = self.lock();
        // A new vector of the exact length, because the listing's vector grew by doubling and
        // collecting in place would keep its spare capacity for as long as the catalog keeps
        // the items.
        let mut shared = Vec::with_capacity(items.len());
        for mut item in items {
            Arc::make_mut(&mut item).assign_identity(source);
            match previous.get(&item.upstream_key) {
                Some(old) if same_but_appearance(old, &item) => shared.push(Arc::clone(old)),
                _ => shared.push(item),
            }
        }
        *previous = shared
            .iter()
            .map(|item| (item.upstream_key.clone(), Arc::clone(item)))
            .collect();
        shared
    }
}

/// True when `old` equals `new` apart from the appearances (palettes, placeholders) that the
/// catalog added to `old`'s images. A fresh listing or scan never has them, so `new` must not
/// either.
///
/// Compares field by field instead of comparing a copy of `old` without its appearances, which
/// would copy every item of a large library on each refresh.
pub(crate) fn same_but_appearance(old: &MediaItem, new: &MediaItem) -> bool {
    // Destructured without `..`, so that a field added to MediaItem fails to compile here
    // instead of being left out of the comparison.
    let MediaItem {
        id,
        source,
        upstream_key,
        kind,
        title,
        original_title,
        year,
        tagline,
        overview,
        genres,
        content_rating,
        ratings,
        runtime_minutes,
        studios,
        directors,
        cast,
        badges,
        images,
        links,
        added_at,
        library,
        collections,
        demo,
    } = old;
    let same_images = onesheet_domain::ImageKind::ALL
        .into_iter()
        .all(
            |image_kind| match (images.get(image_kind), new.images.get(image_kind)) {
                (Some(old_image), Some(new_image)) => {
                    old_image.key == new_image.key
                        && old_image.version == new_image.version
                        && new_image.appearance.is_none()
                }
                (None, None) => true,
                _ => false,
            },
        );
    same_images
        && *id == new.id
        && *source == new.source
        && *upstream_key == new.upstream_key
        && *kind == new.kind
        && *title == new.title
        && *original_title == new.original_title
        && *year == new.year
        && *tagline == new.tagline
        && *overview == new.overview
        && *genres == new.genres
        && *content_rating == new.content_rating
        && *ratings == new.ratings
        && *runtime_minutes == new.runtime_minutes
        && *studios == new.studios
        && *directors == new.directors
        && *cast == new.cast
        && *badges == new.badges
        && *links == new.links
        && *added_at == new.added_at
        && *library == new.library
        && *collections == new.collections
        && *demo == new.demo
}

/// A listing logs its progress each time it passes another multiple of this many entries.
const PROGRESS_LOG_EVERY: u64 = 5_000;

/// Pages of a listing requested at once after the first. The upstream client's per-source
/// limit (4 by default) still caps the requests in flight.
const PAGES_IN_FLIGHT: usize = 3;

/// One page of a paged listing, already mapped.
pub(crate) struct Page {
    /// Items without identity yet; [`PreviousItems::share`] assigns it.
    pub items: Vec<MediaItem>,
    /// Entries the server sent, mapped or not.
    pub received: u64,
    /// Entries across all pages, as the server announced them.
    pub total: Option<u64>,
}

/// Lists a paged collection: the first page alone, because it gives the total and the
/// server's real page size (servers cap `Limit`), then the other pages a few at a time, in
/// order. Pages that appeared while listing are read one by one at the end. Returns the
/// number of entries received.
///
/// Each page's items move into their own allocations as the page arrives, so that `items`
/// grows by one pointer per item. A vector of whole items (896 bytes each at the time of
/// writing) grows to over 20 MiB for a 25,000-item library, and glibc keeps such a buffer as
/// free memory once it is dropped.
pub(crate) async fn list_pages<F, Fut>(
    fetch: F,
    progress: &RefreshProgress,
    fetched_before: u64,
    items: &mut Vec<Arc<MediaItem>>,
) -> Result<u64, SourceError>
where
    F: Fn(u64) -> Fut,
    Fut: std::future::Future<Output = Result<Page, SourceError>>,
{
    use futures::StreamExt;

    let first = fetch(0).await?;
    let step = first.received;
    let mut received = first.received;
    let mut total = first.total.unwrap_or(received).max(received);
    items.extend(first.items.into_iter().map(Arc::new));
    progress.update(fetched_before + received, Some(fetched_before + total));
    if step == 0 || received >= total {
        return Ok(received);
    }

    let starts: Vec<u64> = (1..total.div_ceil(step)).map(|page| page * step).collect();
    let mut pages = futures::stream::iter(starts.into_iter().map(&fetch)).buffered(PAGES_IN_FLIGHT);
    let mut last_full = true;
    while let Some(page) = pages.next().await {
        let page = page?;
        received += page.received;
        total = page.total.unwrap_or(total).max(received);
        last_full = page.received >= step;
        items.extend(page.items.into_iter().map(Arc::new));
        if (received - page.received) / PROGRESS_LOG_EVERY != received / PROGRESS_LOG_EVERY {
            tracing::info!(
                fetched = fetched_before + received,
                total = fetched_before + total,
                "listing in progress"
            );
        }
        progress.update(fetched_before + received, Some(fetched_before + total));
        // An empty page means the collection shrank during the listing; the pages after it
        // would be empty too.
        if page.received == 0 {
            return Ok(received);
        }
    }

    // The collection grew while it was listed: read what was added, one page at a time.
    while last_full && received < total {
        let page = fetch(received).await?;
        received += page.received;
        total = page.total.unwrap_or(total).max(received);
        last_full = page.received >= step;
        items.extend(page.items.into_iter().map(Arc::new));
        progress.update(fetched_before + received, Some(fetched_before + total));
        if page.received == 0 {
            break;
        }
    }
    Ok(received)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use std::sync::Mutex;

    use onesheet_domain::ItemId;

    use super::*;

    /// Lists `total` entries served `cap` at a time, whatever the client requests, from a
    /// collection that grows by `growth` entries after the first page.
    async fn list(total: u64, cap: u64, growth: u64) -> (u64, Vec<u64>) {
        let size = Mutex::new(total);
        let starts = Mutex::new(Vec::new());
        let fetch = |start: u64| {
            starts.lock().unwrap().push(start);
            let now = *size.lock().unwrap();
            if start == 0 {
                *size.lock().unwrap() += growth;
            }
            async move {
                let received = now.saturating_sub(start).min(cap);
                Ok(Page {
                    items: (start..start + received)
                        .map(|key| MediaItem {
                            upstream_key: key.to_string(),
                            ..MediaItem::default()
                        })
                        .collect(),
                    received,
                    total: Some(now),
                })
            }
        };
        let mut items = Vec::new();
        let received = list_pages(fetch, &RefreshProgress::default(), 0, &mut items)
            .await
            .unwrap();
        let keys: Vec<u64> = items
            .iter()
            .map(|i| i.upstream_key.parse().unwrap())
            .collect();
        assert_eq!(keys, (0..received).collect::<Vec<_>>(), "in order, no gaps");
        let mut starts = starts.into_inner().unwrap();
        starts.sort_unstable();
        (received, starts)
    }

    #[tokio::test]
    async fn pages_follow_server_page_size() {
        let (received, starts) = list(250, 100, 0).await;
        assert_eq!(received, 250);
        assert_eq!(starts, [0, 100, 200]);
    }

    #[tokio::test]
    async fn growth_during_listing_is_read() {
        let (received, _) = list(250, 100, 30).await;
        assert_eq!(received, 280);
    }

    #[tokio::test]
    async fn empty_listing_makes_one_request() {
        let (received, starts) = list(0, 100, 0).await;
        assert_eq!(received, 0);
        assert_eq!(starts, [0]);
    }

    /// An item as a fresh listing returns it: no identity, and a poster without appearance.
    fn listed(key: &str, title: &str) -> Arc<MediaItem> {
        Arc::new(MediaItem {
            upstream_key: key.to_owned(),
            title: title.to_owned(),
            images: onesheet_domain::ItemImages {
                poster: Some(ImageRef::new(format!("{key}/Primary"), "tag1")),
                ..onesheet_domain::ItemImages::default()
            },
            ..MediaItem::default()
        })
    }

    fn with_palette(item: &MediaItem) -> Arc<MediaItem> {
        let mut enriched = item.clone();
        if let Some(poster) = enriched.images.poster.as_mut() {
            poster.appearance = Some(onesheet_domain::media::ImageAppearance {
                palette: vec![onesheet_domain::media::Rgb::new(10, 20, 30)],
                thumbhash: "AAAA".to_owned(),
            });
        }
        Arc::new(enriched)
    }

    #[test]
    fn share_assigns_identity_and_reuses_unchanged() {
        let source = SourceId::new("jellyfin").unwrap();
        let previous = PreviousItems::default();
        let first = previous.share(&source, vec![listed("a", "Alien"), listed("h", "Heat")]);

        assert_eq!(first.len(), 2);
        assert_eq!(first[0].source.as_ref(), Some(&source));
        assert_eq!(first[0].id, Some(ItemId::derive(&source, "a")));

        let second = previous.share(&source, vec![listed("a", "Alien"), listed("h", "Heat 2")]);
        assert!(Arc::ptr_eq(&first[0], &second[0]), "unchanged item copied");
        assert!(!Arc::ptr_eq(&first[1], &second[1]), "changed item kept");
        assert_eq!(second[1].title, "Heat 2");
    }

    #[test]
    fn share_returns_adopted_items_with_palettes() {
        let source = SourceId::new("jellyfin").unwrap();
        let previous = PreviousItems::default();
        let first = previous.share(&source, vec![listed("a", "Alien"), listed("h", "Heat")]);
        let enriched = with_palette(&first[0]);
        previous.adopt(std::slice::from_ref(&enriched));

        let second = previous.share(&source, vec![listed("a", "Alien"), listed("h", "Heat")]);

        assert!(
            Arc::ptr_eq(&second[0], &enriched),
            "the catalog's copy was not reused"
        );
        assert!(Arc::ptr_eq(&second[1], &first[1]));
    }

    #[test]
    fn same_but_appearance_compares_everything_else() {
        let source = SourceId::new("plex").unwrap();
        let mut fresh = (*listed("a", "Alien")).clone();
        fresh.assign_identity(&source);
        let old = with_palette(&fresh);

        assert!(same_but_appearance(&old, &fresh));

        let mut retitled = fresh.clone();
        retitled.year = Some(1979);
        assert!(!same_but_appearance(&old, &retitled), "other field");

        let mut new_version = fresh.clone();
        if let Some(poster) = new_version.images.poster.as_mut() {
            poster.version = "tag2".to_owned();
        }
        assert!(!same_but_appearance(&old, &new_version), "image version");

        let mut without_poster = fresh.clone();
        without_poster.images.poster = None;
        assert!(!same_but_appearance(&old, &without_poster), "image removed");

        assert!(
            !same_but_appearance(&old, &with_palette(&fresh)),
            "new has a palette"
        );
    }
}
