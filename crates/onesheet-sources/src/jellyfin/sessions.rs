//! Jellyfin and Emby sessions (`/Sessions`) to now-playing entries.

use onesheet_domain::{MediaKind, NowPlaying, NowPlayingItem, PlaybackState, SourceId};
use tracing::debug;

use super::Flavour;
use super::art::{item_images, valid_id};
use super::map::{TICKS_PER_MS, item_id, item_title, short_text};
use super::model::{BaseItemDto, SessionInfo};

/// Maps every session that plays something, skipping those [`map_session`] skips.
pub fn map_sessions(
    sessions: &[SessionInfo],
    flavour: Flavour,
    source: &SourceId,
) -> Vec<NowPlaying> {
    sessions
        .iter()
        .filter_map(|session| map_session(session, flavour, source))
        .collect()
}

/// Maps one session.
///
/// Returns `None` for idle sessions (no `NowPlayingItem`), without a log line because most
/// sessions are idle. Returns `None` with a debug log line for trailers, extras and cinema
/// pre-rolls (type `Trailer`, or any `ExtraType`), for types other than movies, episodes and
/// music tracks, and for sessions or items without a usable id or name. A music track is
/// reported as its album, whose cover a screen shows, so consecutive tracks of one album read
/// as progress and not as a new title each time.
pub fn map_session(
    session: &SessionInfo,
    flavour: Flavour,
    source: &SourceId,
) -> Option<NowPlaying> {
    let item = session.now_playing_item.as_ref()?;
    let server_kind = item.kind.as_deref().unwrap_or_default();
    let skip = |reason: &str| {
        debug!(
            server = flavour.as_str(),
            item.id = item.id.as_deref().unwrap_or_default(),
            item.kind = server_kind,
            reason,
            "skipping session"
        );
        None
    };

    let extra = item
        .extra_type
        .as_deref()
        .is_some_and(|extra| !extra.is_empty() && extra != "Unknown");
    if server_kind == "Trailer" || extra {
        return skip("trailers, extras and pre-rolls are not shown as now playing");
    }
    let kind = match server_kind {
        "Movie" => MediaKind::Movie,
        "Episode" => MediaKind::Episode,
        "Audio" => MediaKind::Album,
        _ => return skip("the type is not shown as now playing"),
    };
    let Some(session_id) = session
        .id
        .as_deref()
        .map(str::trim)
        .filter(|id| !id.is_empty() && id.len() <= 128)
    else {
        return skip("the session has no Id");
    };
    let Some(id) = item_id(item) else {
        return skip("the item has no usable Id");
    };
    let Some((upstream_key, title)) = key_and_title(item, &id, server_kind) else {
        return skip("the item has no Name");
    };

    let play_state = session.play_state.as_ref();
    let position_ticks = play_state
        .and_then(|state| state.position_ticks)
        .unwrap_or(0);
    let paused = play_state.is_some_and(|state| state.is_paused);

    Some(NowPlaying {
        source: source.clone(),
        session_id: session_id.to_owned(),
        user: session.user_name.as_deref().and_then(short_text),
        player: session
            .device_name
            .as_deref()
            .or(session.client.as_deref())
            .and_then(short_text),
        item: NowPlayingItem {
            upstream_key,
            title,
            kind,
            year: item
                .production_year
                .and_then(|year| u16::try_from(year).ok()),
            poster: item_images(item, &id, server_kind).poster,
        },
        position_ms: milliseconds(position_ticks).unwrap_or(0),
        duration_ms: item
            .run_time_ticks
            .and_then(milliseconds)
            .filter(|duration| *duration > 0),
        state: if paused {
            PlaybackState::Paused
        } else {
            PlaybackState::Playing
        },
        library: None,
    })
}

/// Picks the key and title a session reports: the album's for a music track, else the item's.
fn key_and_title(item: &BaseItemDto, id: &str, server_kind: &str) -> Option<(String, String)> {
    if server_kind == "Audio" {
        let album_id = item
            .album_id
            .as_deref()
            .filter(|album_id| valid_id(album_id));
        let album = item.album.as_deref().and_then(short_text);
        let title = album.or_else(|| item_title(item, server_kind))?;
        return Some((album_id.unwrap_or(id).to_owned(), title));
    }
    Some((id.to_owned(), item_title(item, server_kind)?))
}

fn milliseconds(ticks: i64) -> Option<u64> {
    u64::try_from(ticks / TICKS_PER_MS).ok()
}
