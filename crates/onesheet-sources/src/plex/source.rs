//! The Plex source: the HTTP calls that feed the models and mappings of this module.
//!
//! Every call sends the token in the `X-Plex-Token` header and exactly `Accept:
//! application/json`, because Plex sends XML for any other Accept value. A body that still
//! arrives as XML is parsed as XML; an HTML page fails the refresh with an error naming it, never
//! as an empty library.
//!
//! Sections are listed in pages with `X-Plex-Container-Start` and `X-Plex-Container-Size`, one
//! request per page, because one unpaged request for a 25,000-item section can take longer than
//! any sensible timeout. Images are fetched by the server, through Plex's photo transcoder where
//! that makes them smaller, so the token never reaches a screen.

use std::sync::Arc;

use async_trait::async_trait;
use onesheet_domain::{ImageRef, MediaItem, NowPlaying, SourceId};
use onesheet_upstream::{HeaderName, HeaderValue, Request, SourceClient, UpstreamError};
use tracing::{info, instrument};

use super::{
    MapContext, MediaContainer, SetKind, map_collection, map_container, map_sessions,
    parse_container,
};
use crate::registry::settings::Selection;
use crate::source::{
    ImageBody, Library, MediaSource, Page, PreviousItems, RefreshProgress, ServerInfo, SourceError,
    list_pages,
};

/// Entries per page; see the Jellyfin source for the reasoning behind the size.
pub const PAGE_SIZE: u64 = 200;

/// Largest side asked of the photo transcoder: the biggest screens are 3840 pixels wide.
const MAX_IMAGE_SIDE: &str = "3840";

/// Most collections and playlists read per refresh; each costs one request for its members.
const MAX_SETS: usize = 200;

/// Section types that hold posters, with the Plex `type` numbers of the entries listed from
/// them: movies (1), shows (2), and for music the albums (9), whose covers make the posters.
const SECTION_TYPES: &[(&str, &str)] = &[("movie", "1"), ("show", "2"), ("artist", "9")];

pub struct PlexSource {
    id: SourceId,
    client: SourceClient,
    token: Option<String>,
    selection: Selection,
    progress: RefreshProgress,
    previous: PreviousItems,
}

impl PlexSource {
    pub fn new(
        id: SourceId,
        client: SourceClient,
        token: Option<String>,
        selection: Selection,
    ) -> Self {
        Self {
            id,
            client,
            token,
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

    fn authorised(&self, request: Request) -> Result<Request, SourceError> {
        let token = self
            .token
            .as_deref()
            .ok_or_else(|| SourceError::MissingCredential {
                source_id: self.id.clone(),
                reason: "no Plex token entered".to_owned(),
            })?;
        let token = HeaderValue::from_str(token).map_err(|_| SourceError::MissingCredential {
            source_id: self.id.clone(),
            reason: "the Plex token contains characters that cannot be sent in a header".to_owned(),
        })?;
        Ok(request
            .secret_header(HeaderName::from_static("x-plex-token"), token)
            .header(
                HeaderName::from_static("x-plex-product"),
                HeaderValue::from_static("Onesheet"),
            ))
    }

    /// Sends an API request and parses the container from JSON or XML.
    async fn container(&self, request: Request) -> Result<MediaContainer, SourceError> {
        let request = self.authorised(request)?;
        let response = self
            .client
            .get(request)
            .await
            .map_err(|error| self.upstream(error))?;
        parse_container(&response.body, response.content_type.as_deref()).map_err(|error| {
            SourceError::InvalidResponse {
                source_id: self.id.clone(),
                reason: format!("{error} (from {})", response.url_redacted),
            }
        })
    }

    async fn sections(&self) -> Result<Vec<super::Directory>, SourceError> {
        let container = self
            .container(Request::json("libraries", "/library/sections"))
            .await?;
        Ok(container.directories)
    }

    /// Lists one section page by page, reporting progress after each page.
    async fn list_section(
        &self,
        key: &str,
        entry_type: &str,
        context: &MapContext,
        fetched_before: u64,
        items: &mut Vec<Arc<MediaItem>>,
    ) -> Result<u64, SourceError> {
        let fetch = |start: u64| async move {
            let request = Request::json("items", format!("/library/sections/{key}/all"))
                .query("type", entry_type)
                .query("includeGuids", "1")
                .header(
                    HeaderName::from_static("x-plex-container-start"),
                    HeaderValue::from(start),
                )
                .header(
                    HeaderName::from_static("x-plex-container-size"),
                    HeaderValue::from(PAGE_SIZE),
                );
            let page = self.container(request).await?;
            Ok(Page {
                items: map_container(&page, context),
                received: page.metadata.len() as u64,
                // A server that ignores the paging headers sends everything at once without a
                // total; the received count is then the total.
                total: page.total_size,
            })
        };
        list_pages(fetch, &self.progress, fetched_before, items).await
    }

    async fn fetch_all(&self) -> Result<Vec<Arc<MediaItem>>, SourceError> {
        let sections = self.sections().await?;
        let mut mapped = Vec::new();
        let mut fetched = 0u64;
        for section in &sections {
            let (Some(key), Some(kind)) = (section.key.as_deref(), section.kind.as_deref()) else {
                continue;
            };
            let Some((_, entry_type)) = SECTION_TYPES.iter().find(|(name, _)| *name == kind) else {
                continue;
            };
            if !self.selection.libraries.is_empty()
                && !self.selection.libraries.iter().any(|id| id == key)
            {
                continue;
            }
            let context = MapContext {
                library: section.title.clone(),
                collection: None,
            };
            fetched += self
                .list_section(key, entry_type, &context, fetched, &mut mapped)
                .await?;
        }
        self.add_set_titles(&sections, &mut mapped).await?;
        let now = crate::now_unix();
        mapped.retain(|item| self.selection.filters.accepts(item, now));
        let items = self.previous.share(&self.id, mapped);
        info!(items = items.len(), listed = fetched, "listing finished");
        Ok(items)
    }

    /// Records on each item the titles of the collections and playlists that hold it, so
    /// filters can select by them. Reads the collections of the sections read and the
    /// server's video and music playlists, at most [`MAX_SETS`] in all.
    async fn add_set_titles(
        &self,
        sections: &[super::Directory],
        items: &mut [Arc<MediaItem>],
    ) -> Result<(), SourceError> {
        let mut sets = Vec::new();
        for section in sections {
            let Some(key) = section.key.as_deref() else {
                continue;
            };
            if !self.selection.libraries.is_empty()
                && !self.selection.libraries.iter().any(|id| id == key)
            {
                continue;
            }
            let listing = self
                .container(Request::json(
                    "collections",
                    format!("/library/sections/{key}/collections"),
                ))
                .await?;
            sets.extend(
                listing
                    .metadata
                    .iter()
                    .filter_map(|entry| map_collection(entry, &MapContext::default())),
            );
        }
        let playlists = self
            .container(Request::json("playlists", "/playlists"))
            .await?;
        sets.extend(
            playlists
                .metadata
                .iter()
                .filter_map(|entry| map_collection(entry, &MapContext::default())),
        );
        if sets.len() > MAX_SETS {
            info!(
                sets = sets.len(),
                kept = MAX_SETS,
                "more collections and playlists than are read per refresh"
            );
            sets.truncate(MAX_SETS);
        }

        let mut by_key: std::collections::HashMap<String, Vec<&str>> =
            std::collections::HashMap::new();
        let mut members_of = Vec::with_capacity(sets.len());
        for set in &sets {
            let path = match set.kind {
                SetKind::Collection => {
                    format!("/library/collections/{}/children", set.upstream_key)
                }
                SetKind::Playlist => format!("/playlists/{}/items", set.upstream_key),
            };
            members_of.push(self.container(Request::json("set-members", path)).await?);
        }
        for (set, members) in sets.iter().zip(&members_of) {
            for member in &members.metadata {
                if let Some(key) = member.rating_key.as_deref() {
                    by_key.entry(key.to_owned()).or_default().push(&set.title);
                }
            }
        }
        for item in items.iter_mut() {
            let Some(titles) = by_key.get(&item.upstream_key) else {
                continue;
            };
            // The listing's items are not shared yet, so this changes them without a copy.
            let item = Arc::make_mut(item);
            for title in titles {
                if !item.collections.iter().any(|known| known == title) {
                    item.collections.push((*title).to_owned());
                }
            }
        }
        Ok(())
    }

    async fn fetch_image(&self, request: Request) -> Result<ImageBody, SourceError> {
        let not_found = || SourceError::ImageNotFound {
            source_id: self.id.clone(),
        };
        let request = self.authorised(request)?;
        let response = self
            .client
            .get(request)
            .await
            .map_err(|error| match error {
                UpstreamError::NotFound { .. } => not_found(),
                other => self.upstream(other),
            })?;
        // The transcoder reports some failures as an empty 200, which is no image.
        if response.body.is_empty() {
            return Err(not_found());
        }
        Ok(ImageBody::Bytes {
            bytes: response.body,
            content_type: response.content_type,
        })
    }
}

/// True for an image path this source may have written: a server path under `/library/`
/// made of plain segments. Rejects anything that could reach another endpoint or host.
fn is_library_path(key: &str) -> bool {
    key.starts_with("/library/")
        && key.len() < 512
        && key.split('/').skip(1).all(|segment| {
            !segment.is_empty()
                && segment != ".."
                && segment
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
        })
}

#[async_trait]
impl MediaSource for PlexSource {
    fn id(&self) -> &SourceId {
        &self.id
    }

    fn kind(&self) -> &'static str {
        "plex"
    }

    fn adopt(&self, items: &[Arc<MediaItem>]) {
        self.previous.adopt(items);
    }

    #[instrument(skip_all, fields(source.id = %self.id, source.kind = "plex"))]
    async fn fetch_items(&self) -> Result<Vec<Arc<MediaItem>>, SourceError> {
        self.progress.start();
        let result = self.fetch_all().await;
        self.progress.finish();
        result
    }

    async fn open_image(&self, image: &ImageRef) -> Result<ImageBody, SourceError> {
        if !is_library_path(&image.key) {
            return Err(SourceError::ImageNotFound {
                source_id: self.id.clone(),
            });
        }

        // The transcoder scales 6000-pixel originals down before they cross the network. The
        // plain path is the fallback, because some servers have the transcoder disabled.
        let transcoded = Request::image("image", "/photo/:/transcode")
            .query("url", image.key.clone())
            .query("width", MAX_IMAGE_SIDE)
            .query("height", MAX_IMAGE_SIDE)
            .query("minSize", "1")
            .query("upscale", "0");
        match self.fetch_image(transcoded).await {
            Err(SourceError::ImageNotFound { .. }) => {
                self.fetch_image(Request::image("image", image.key.clone()))
                    .await
            }
            other => other,
        }
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
        // `/identity` answers without a token, so a wrong token and a wrong server are told
        // apart.
        let response = self
            .client
            .get(Request::json("identity", "/identity"))
            .await
            .map_err(|error| self.upstream(error))?;
        let identity = parse_container(&response.body, response.content_type.as_deref())
            .ok()
            .filter(|container| container.machine_identifier.is_some())
            .ok_or_else(|| SourceError::InvalidResponse {
                source_id: self.id.clone(),
                reason: format!(
                    "{} did not answer as Plex Media Server; check the source kind and address",
                    response.url_redacted
                ),
            })?;

        let root = self.container(Request::json("server", "/")).await?;
        Ok(ServerInfo {
            name: root.friendly_name.unwrap_or_default(),
            product: "Plex Media Server".to_owned(),
            version: identity.version.or(root.version),
        })
    }

    async fn libraries(&self) -> Result<Vec<Library>, SourceError> {
        let sections = self.sections().await?;
        Ok(sections
            .into_iter()
            .filter_map(|section| {
                let kind = match section.kind.as_deref()? {
                    "movie" => "movies",
                    "show" => "shows",
                    "artist" => "music",
                    other => other,
                };
                Some(Library {
                    id: section.key?,
                    name: section.title.unwrap_or_default(),
                    kind: kind.to_owned(),
                })
            })
            .collect())
    }

    async fn now_playing(&self) -> Result<Vec<NowPlaying>, SourceError> {
        let container = self
            .container(Request::json("sessions", "/status/sessions"))
            .await?;
        Ok(map_sessions(&container, &self.id))
    }
}

#[cfg(test)]
mod tests {
    use super::is_library_path;

    #[test]
    fn library_path_check() {
        assert!(is_library_path("/library/metadata/123/thumb/1700000000"));
        assert!(is_library_path("/library/metadata/9/clearLogo/1700000000"));
        for bad in [
            "/photo/:/transcode",
            "/library/../identity",
            "/library//x",
            "http://169.254.169.254/latest",
            "/library/metadata/1?X-Plex-Token=x",
            "library/metadata/1",
        ] {
            assert!(!is_library_path(bad), "{bad}");
        }
    }
}
