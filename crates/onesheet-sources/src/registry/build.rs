//! Turning a stored source into a running [`MediaSource`].

use std::sync::Arc;

use onesheet_domain::SourceId;
use onesheet_upstream::{ServerAddress, SourceOptions, UpstreamClient};

use super::settings::{Selection, ServerKind, ServerSettings};
use crate::jellyfin::{Flavour, JellyfinSource};
use crate::plex::PlexSource;
use crate::source::{MediaSource, SourceError};

pub(super) struct BuildInput<'a> {
    pub id: SourceId,
    pub kind: ServerKind,
    pub address: ServerAddress,
    pub settings: &'a ServerSettings,
    pub credential: Option<String>,
    pub client: &'a UpstreamClient,
}

pub(super) fn build_source(input: BuildInput<'_>) -> Result<Arc<dyn MediaSource>, SourceError> {
    let options = SourceOptions {
        tls: input.settings.tls_options(),
        policy: None,
    };
    // A bad CA file fails here, naming the path, before anything is stored as running.
    let client = input
        .client
        .source(
            input.id.as_str(),
            input.kind.as_str(),
            input.address,
            options,
        )
        .map_err(|error| SourceError::Upstream {
            source_id: input.id.clone(),
            error,
        })?;
    let selection = Selection::from_settings(input.settings);

    let source: Arc<dyn MediaSource> = match input.kind {
        ServerKind::Plex => Arc::new(PlexSource::new(
            input.id,
            client,
            input.credential,
            selection.clone(),
        )),
        ServerKind::Jellyfin => Arc::new(JellyfinSource::new(
            input.id,
            Flavour::Jellyfin,
            client,
            input.credential,
            selection.clone(),
        )),
        ServerKind::Emby => Arc::new(JellyfinSource::new(
            input.id,
            Flavour::Emby,
            client,
            input.credential,
            selection.clone(),
        )),
    };
    Ok(source)
}
