//! The Jellyfin and Emby source: the HTTP calls that feed the models and mappings of this
//! module.
//!
//! Jellyfin 10.11 and later reject the legacy token transports (`X-Emby-Token`, `api_key`), so
//! Jellyfin calls authenticate with `Authorization: MediaBrowser Token="…"` and nothing else:
//! without `Client` or `DeviceId` parts the server does not rewrite the device record of the
//! user the key belongs to. Emby keeps its own `X-Emby-Token` header.
//!
//! Items are listed per library with `StartIndex`/`Limit` paging, one request per page, so a
//! 25,000-item library never depends on one long response.

use std::sync::Arc;

use async_trait::async_trait;
use futures::StreamExt;
use onesheet_domain::{ImageRef, MediaItem, NowPlaying, SourceId};
use onesheet_upstream::{HeaderName, HeaderValue, Request, SourceClient, UpstreamError};
use tracing::{debug, info, instrument};

use super::{Flavour, MapContext, PublicSystemInfo, SessionInfo, VirtualFolder};
use super::{ItemsPage, is_untagged, map_items, map_sessions};
use crate::registry::settings::Selection;
use crate::source::{
    ImageBody, Library, MediaSource, Page, PreviousItems, RefreshProgress, ServerInfo, SourceError,
    list_pages,
};

/// Items per page. Large enough that a 25,000-item library takes 125 requests, small enough
/// that one page stays well under a second on a Raspberry Pi class server.
pub const PAGE_SIZE: u64 = 200;

/// Item types listed from libraries. Seasons and episodes are left out on purpose: a poster
/// display shows the series.
const ITEM_TYPES: &str = "Movie,Series,MusicAlbum,MusicArtist";

/// Fields requested beyond the defaults, all of which the mapping reads.
const FIELDS: &str = "Overview,Genres,Studios,People,ProviderIds,OfficialRating,CommunityRating,\
CriticRating,ProductionYear,RunTimeTicks,Taglines,DateCreated,PrimaryImageAspectRatio,\
MediaStreams,MediaSources,OriginalTitle";

/// Library kinds whose items can become posters; others (photos, books, live TV) are skipped
/// when the source reads every library.
const POSTER_LIBRARIES: &[&str] = &["movies", "tvshows", "music", "musicvideos", "mixed"];

/// Untagged images checked at once during a listing.
const UNTAGGED_CHECKS_IN_FLIGHT: usize = 4;

/// Largest side requested for an image: the biggest screens are 3840 pixels wide, and the
/// server's resize saves transferring 6000-pixel originals.
const MAX_IMAGE_SIDE: &str = "3840";

pub struct JellyfinSource {
    id: SourceId,
    flavour: Flavour,
    client: SourceClient,
    credential: Option<String>,
    selection: Selection,
    progress: RefreshProgress,
    /// The previous listing by upstream key, so unchanged items keep their allocation.
    previous: PreviousItems,
}

impl JellyfinSource {
    pub fn new(
        id: SourceId,
        flavour: Flavour,
        client: SourceClient,
        credential: Option<String>,
        selection: Selection,
    ) -> Self {
        Self {
            id,
            flavour,
            client,
            credential,
            selection,
            progress: RefreshProgress::default(),
            previous: PreviousItems::default(),
        }
    }

    fn upstream(&self, error: UpstreamError) -> SourceError {
        SourceError::Upstream {
            source_id: self.id.clone(),
            error,
        }
    }

    /// Adds the credential header of this flavour.
    fn authorised(&self, request: Request) -> Result<Request, SourceError> {
        let credential =
            self.credential
                .as_deref()
                .ok_or_else(|| SourceError::MissingCredential {
                    source_id: self.id.clone(),
                    reason:
                        "no API key entered; create one in the server's dashboard under API Keys"
                            .to_owned(),
                })?;
        let invalid = || SourceError::MissingCredential {
            source_id: self.id.clone(),
            reason: "the API key contains characters that cannot be sent in a header".to_owned(),
        };
        Ok(match self.flavour {
            Flavour::Jellyfin => {
                let value = HeaderValue::from_str(&format!("MediaBrowser Token=\"{credential}\""))
                    .map_err(|_| invalid())?;
                request.secret_header(HeaderName::from_static("authorization"), value)
            }
            Flavour::Emby => {
                let value = HeaderValue::from_str(credential).map_err(|_| invalid())?;
                request.secret_header(HeaderName::from_static("x-emby-token"), value)
            }
        })
    }

    async fn get_json<T: serde::de::DeserializeOwned>(
        &self,
        request: Request,
    ) -> Result<T, SourceError> {
        let request = self.authorised(request)?;
        self.client
            .get_json(request)
            .await
            .map_err(|error| self.upstream(error))
    }

    async fn virtual_folders(&self) -> Result<Vec<VirtualFolder>, SourceError> {
        self.get_json(Request::json("libraries", "/Library/VirtualFolders"))
            .await
    }

    /// Lists one library page by page, reporting progress after each page.
    async fn list_library(
        &self,
        library_id: &str,
        context: &MapContext,
        fetched_before: u64,
        items: &mut Vec<Arc<MediaItem>>,
    ) -> Result<u64, SourceError> {
        let fetch = |start: u64| async move {
            let request = Request::json("items", "/Items")
                .query("ParentId", library_id)
                .query("Recursive", "true")
                .query("IncludeItemTypes", ITEM_TYPES)
                .query("Fields", FIELDS)
                .query("EnableImageTypes", "Primary,Backdrop,Logo,Thumb")
                .query("SortBy", "SortName")
                .query("StartIndex", start.to_string())
                .query("Limit", PAGE_SIZE.to_string());
            let page: ItemsPage = self.get_json(request).await?;
            Ok(Page {
                items: map_items(&page, self.flavour, context),
                received: page.items.len() as u64,
                total: Some(page.total_record_count),
            })
        };
        list_pages(fetch, &self.progress, fetched_before, items).await
    }

    /// Checks an image the server listed without a tag, as some servers do for images that
    /// exist. Asks for a 16-pixel rendition, so the check costs the server one cached resize
    /// and the network a few hundred bytes. Returns false when the server has no such image.
    async fn untagged_image_exists(&self, image: &ImageRef) -> bool {
        let result = match image_path(&image.key) {
            Some(path) => match self.authorised(
                Request::image("image-check", path)
                    .query("maxWidth", "16")
                    .query("maxHeight", "16"),
            ) {
                Ok(request) => self
                    .client
                    .get(request)
                    .await
                    .map(|response| !response.body.is_empty())
                    .map_err(|error| error.to_string()),
                Err(error) => Err(error.to_string()),
            },
            None => Ok(false),
        };
        match result {
            Ok(exists) => exists,
            Err(error) => {
                debug!(image.key = %image.key, %error, "untagged image is missing; item skipped");
                false
            }
        }
    }
}

/// Turns an image key into its server path. Keys are `{ItemId}/{ImageType}` or
/// `{ItemId}/Backdrop/{index}`, made by the mapping from plain ids; anything else did not come
/// from this source and gets `None`.
fn image_path(key: &str) -> Option<String> {
    let parts: Vec<&str> = key.split('/').collect();
    let plain = parts
        .iter()
        .all(|part| !part.is_empty() && part.chars().all(|c| c.is_ascii_alphanumeric()));
    if !plain {
        return None;
    }
    match parts.as_slice() {
        [item, image_type] => Some(format!("/Items/{item}/Images/{image_type}")),
        [item, image_type, index] => Some(format!("/Items/{item}/Images/{image_type}/{index}")),
        _ => None,
    }
}

#[async_trait]
impl MediaSource for JellyfinSource {
    fn id(&self) -> &SourceId {
        &self.id
    }

    fn kind(&self) -> &'static str {
        self.flavour.as_str()
    }

    fn adopt(&self, items: &[Arc<MediaItem>]) {
        self.previous.adopt(items);
    }

    #[instrument(skip_all, fields(source.id = %self.id, source.kind = self.flavour.as_str()))]
    async fn fetch_items(&self) -> Result<Vec<Arc<MediaItem>>, SourceError> {
        self.progress.start();
        let result = self.fetch_all().await;
        self.progress.finish();
        result
    }

    async fn open_image(&self, image: &ImageRef) -> Result<ImageBody, SourceError> {
        let not_found = || SourceError::ImageNotFound {
            source_id: self.id.clone(),
        };
        let path = image_path(&image.key).ok_or_else(not_found)?;
        let mut request = Request::image("image", path)
            .query("maxWidth", MAX_IMAGE_SIDE)
            .query("maxHeight", MAX_IMAGE_SIDE)
            .query("quality", "90");
        if !is_untagged(image) {
            request = request.query("tag", image.version.clone());
        }
        let request = self.authorised(request)?;
        let response = self
            .client
            .get(request)
            .await
            .map_err(|error| match error {
                UpstreamError::NotFound { .. } => not_found(),
                other => self.upstream(other),
            })?;
        // Some transcoders send a 200 with an empty body on failure. Caching it as an image would
        // show a blank tile until the cache expires.
        if response.body.is_empty() {
            return Err(not_found());
        }
        Ok(ImageBody::Bytes {
            bytes: response.body,
            content_type: response.content_type,
        })
    }

    fn progress(&self) -> Option<RefreshProgress> {
        Some(self.progress.clone())
    }

    fn weight(&self) -> f32 {
        self.selection.weight
    }

    fn client_stats(&self) -> Option<onesheet_upstream::SourceStats> {
        Some(self.client.stats())
    }

    #[instrument(skip_all, fields(source.id = %self.id))]
    async fn test_connection(&self) -> Result<ServerInfo, SourceError> {
        // The public endpoint needs no key, so a wrong key and a wrong server give different errors.
        let info: PublicSystemInfo = self
            .client
            .get_json(Request::json("system-info", "/System/Info/Public"))
            .await
            .map_err(|error| self.upstream(error))?;
        // Emby leaves `ProductName` out of its public info; Jellyfin always sends it. Without
        // either a name or an id the response is not from either server.
        let looks_like_server = info.server_name.is_some() || info.id.is_some();
        let product = match info.product_name.clone() {
            Some(product) => product,
            None if looks_like_server => "Emby Server".to_owned(),
            None => "an unknown product".to_owned(),
        };
        if Flavour::from_product_name(&product) != Some(self.flavour) {
            return Err(SourceError::InvalidResponse {
                source_id: self.id.clone(),
                reason: format!(
                    "the server at this address reports product {product:?}, not {}; check the \
                     source kind and address",
                    self.flavour.as_str()
                ),
            });
        }

        // An authenticated call proves the key.
        self.virtual_folders().await?;
        Ok(ServerInfo {
            name: info.server_name.unwrap_or_default(),
            product,
            version: info.version,
        })
    }

    async fn libraries(&self) -> Result<Vec<Library>, SourceError> {
        let folders = self.virtual_folders().await?;
        Ok(folders
            .into_iter()
            .filter_map(|folder| {
                Some(Library {
                    id: folder.item_id?,
                    name: folder.name.unwrap_or_default(),
                    kind: folder.collection_type.unwrap_or_else(|| "mixed".to_owned()),
                })
            })
            .collect())
    }

    async fn now_playing(&self) -> Result<Vec<NowPlaying>, SourceError> {
        let sessions: Vec<SessionInfo> = self
            .get_json(Request::json("sessions", "/Sessions").query("ActiveWithinSeconds", "960"))
            .await?;
        Ok(map_sessions(&sessions, self.flavour, &self.id))
    }
}

impl JellyfinSource {
    async fn fetch_all(&self) -> Result<Vec<Arc<MediaItem>>, SourceError> {
        let folders = self.virtual_folders().await?;
        let selected: Vec<&VirtualFolder> = folders
            .iter()
            .filter(
                |folder| match (&folder.item_id, self.selection.libraries.is_empty()) {
                    (None, _) => false,
                    (Some(_), true) => folder
                        .collection_type
                        .as_deref()
                        .is_none_or(|kind| POSTER_LIBRARIES.contains(&kind)),
                    (Some(id), false) => self.selection.libraries.contains(id),
                },
            )
            .collect();
        if !self.selection.libraries.is_empty() && selected.len() < self.selection.libraries.len() {
            debug!(
                configured = self.selection.libraries.len(),
                found = selected.len(),
                "some configured libraries no longer exist on the server"
            );
        }

        let mut mapped = Vec::new();
        let mut fetched = 0u64;
        for folder in selected {
            let Some(library_id) = folder.item_id.as_deref() else {
                continue;
            };
            let context = MapContext {
                library: folder.name.clone(),
                collection: None,
            };
            fetched += self
                .list_library(library_id, &context, fetched, &mut mapped)
                .await?;
        }

        // Items whose only poster came without a tag are kept only if the image exists. Items
        // kept by an earlier listing are not checked again.
        // Checked a few at a time; the client's per-source limit caps them anyway.
        let checks = futures::stream::iter(mapped.into_iter().map(|item| async {
            let untagged =
                item.images.poster.as_ref().filter(|image| {
                    is_untagged(image) && !self.previous.contains(&item.upstream_key)
                });
            match untagged {
                Some(poster) if !self.untagged_image_exists(poster).await => None,
                _ => Some(item),
            }
        }));
        let mut items: Vec<Arc<MediaItem>> = checks
            .buffered(UNTAGGED_CHECKS_IN_FLIGHT)
            .filter_map(std::future::ready)
            .collect()
            .await;

        let now = crate::now_unix();
        items.retain(|item| self.selection.filters.accepts(item, now));
        let items = self.previous.share(&self.id, items);
        info!(items = items.len(), listed = fetched, "listing finished");
        Ok(items)
    }
}
