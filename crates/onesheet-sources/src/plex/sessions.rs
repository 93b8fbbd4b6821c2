//! Plex playback sessions (`/status/sessions`) to now-playing entries.

use onesheet_domain::{MediaKind, NowPlaying, NowPlayingItem, PlaybackState, SourceId};
use tracing::debug;

use super::art::item_images;
use super::map::{item_title, rating_key, short_text};
use super::model::{MediaContainer, Metadata};

/// Maps every session of a `/status/sessions` response, skipping those [`map_session`] skips.
pub fn map_sessions(container: &MediaContainer, source: &SourceId) -> Vec<NowPlaying> {
    container
        .metadata
        .iter()
        .filter_map(|metadata| map_session(metadata, source))
        .collect()
}

/// Maps one session entry.
///
/// Returns `None`, with a debug log line, for trailers, extras and cinema pre-rolls (type
/// `clip`, or any `extraType`), for types other than movies, episodes and music tracks, and for
/// entries without a session id, `ratingKey` or title. A music track is reported as its album,
/// whose cover a screen shows, so consecutive tracks of one album read as progress and not as a
/// new title each time.
pub fn map_session(metadata: &Metadata, source: &SourceId) -> Option<NowPlaying> {
    let plex_kind = metadata.kind.as_deref().unwrap_or_default();
    let skip = |reason: &str| {
        debug!(
            plex.rating_key = metadata.rating_key.as_deref().unwrap_or_default(),
            plex.kind = plex_kind,
            reason,
            "skipping Plex session"
        );
        None
    };

    if plex_kind == "clip" || metadata.extra_type.is_some() {
        return skip("trailers, extras and pre-rolls are not shown as now playing");
    }
    let kind = match plex_kind {
        "movie" => MediaKind::Movie,
        "episode" => MediaKind::Episode,
        "track" => MediaKind::Album,
        _ => return skip("the type is not shown as now playing"),
    };
    let Some(session_id) = session_id(metadata) else {
        return skip("the session has no id");
    };

    let (upstream_key, title) = if plex_kind == "track" {
        let album_key = metadata
            .parent_rating_key
            .as_deref()
            .map(str::trim)
            .filter(|key| !key.is_empty())
            .map(str::to_owned);
        let album_title = metadata.parent_title.as_deref().and_then(short_text);
        (
            album_key.or_else(|| rating_key(metadata)),
            album_title.or_else(|| item_title(metadata, plex_kind)),
        )
    } else {
        (rating_key(metadata), item_title(metadata, plex_kind))
    };
    let (Some(upstream_key), Some(title)) = (upstream_key, title) else {
        return skip("the item has no ratingKey or title");
    };

    let player = metadata.player.as_ref();
    let state = match player.and_then(|player| player.state.as_deref()) {
        Some("paused") => PlaybackState::Paused,
        Some("buffering") => PlaybackState::Buffering,
        _ => PlaybackState::Playing,
    };

    Some(NowPlaying {
        source: source.clone(),
        session_id,
        user: metadata
            .user
            .as_ref()
            .and_then(|user| user.title.as_deref())
            .and_then(short_text),
        player: player
            .and_then(|player| player.title.as_deref().or(player.product.as_deref()))
            .and_then(short_text),
        item: NowPlayingItem {
            upstream_key,
            title,
            kind,
            year: metadata.year,
            poster: item_images(metadata, plex_kind).poster,
        },
        position_ms: metadata.view_offset.unwrap_or(0),
        duration_ms: metadata.duration.filter(|duration| *duration > 0),
        state,
        library: metadata
            .library_section_title
            .as_deref()
            .and_then(short_text),
    })
}

/// Picks the playback session's id, else the session number, else the player's id.
fn session_id(metadata: &Metadata) -> Option<String> {
    let session = metadata
        .session
        .as_ref()
        .and_then(|session| session.id.as_deref());
    let player = metadata
        .player
        .as_ref()
        .and_then(|player| player.machine_identifier.as_deref());
    [session, metadata.session_key.as_deref(), player]
        .into_iter()
        .flatten()
        .map(str::trim)
        .find(|id| !id.is_empty() && id.len() <= 128)
        .map(str::to_owned)
}
