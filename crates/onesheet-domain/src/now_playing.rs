//! Playback sessions on media servers, and the events that tell a screen what changed.
//!
//! A source polls its server's session list and maps each session to a [`NowPlaying`]. The
//! caller keeps the previous list and passes both to [`diff`], which turns two snapshots into
//! start, pause, resume, progress and stop events. Sessions are matched by source and session
//! id, so two servers may use the same session ids without clashing.

use std::collections::{HashMap, HashSet};

use serde::{Deserialize, Serialize};

use crate::media::{ImageRef, MediaKind, SourceId};

/// Whether the player is advancing through the item.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PlaybackState {
    Playing,
    Paused,
    /// Waiting for data. Playback resumes on its own, so this is not a pause.
    Buffering,
}

/// The title a session plays, summarised for a "now playing" screen.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NowPlayingItem {
    /// The server's own key for the item, as in [`MediaItem::upstream_key`](crate::MediaItem).
    pub upstream_key: String,
    pub title: String,
    pub kind: MediaKind,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub year: Option<u16>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub poster: Option<ImageRef>,
}

/// One playback session on one media server.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NowPlaying {
    pub source: SourceId,
    /// The server's id for the session. It stays the same while one player plays, even across
    /// items.
    pub session_id: String,
    /// Name of the user account that plays.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user: Option<String>,
    /// Name of the device or client app that plays.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub player: Option<String>,
    pub item: NowPlayingItem,
    /// Playback position in milliseconds from the start of the item.
    pub position_ms: u64,
    /// Length of the item in milliseconds, when the server reports one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub duration_ms: Option<u64>,
    pub state: PlaybackState,
    /// Name of the library the item belongs to, when the server reports one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub library: Option<String>,
}

impl NowPlaying {
    fn key(&self) -> (&SourceId, &str) {
        (&self.source, &self.session_id)
    }
}

/// A change between two polls of the session lists. Each event carries the session as it is
/// now, except [`Stopped`](Self::Stopped), which carries it as it was last seen.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "event", rename_all = "lowercase")]
pub enum NowPlayingEvent {
    /// A new session, or a known session that moved on to another item.
    Started(NowPlaying),
    Paused(NowPlaying),
    Resumed(NowPlaying),
    /// Any other change: the position, buffering, the player's name.
    Progress(NowPlaying),
    /// The session ended, or it moved on to another item.
    Stopped(NowPlaying),
}

impl NowPlayingEvent {
    pub fn session(&self) -> &NowPlaying {
        match self {
            Self::Started(session)
            | Self::Paused(session)
            | Self::Resumed(session)
            | Self::Progress(session)
            | Self::Stopped(session) => session,
        }
    }
}

/// Lists the events that turn `previous` into `current`.
///
/// Sessions that disappeared come first, as [`NowPlayingEvent::Stopped`], in the order of
/// `previous`. Then each session of `current` in its order: a new one is
/// [`Started`](NowPlayingEvent::Started), one that plays another item than before is stopped
/// and started again, and one that changed otherwise is paused, resumed or progressed. An
/// unchanged session produces no event. When a list repeats a session, its first entry counts.
pub fn diff(previous: &[NowPlaying], current: &[NowPlaying]) -> Vec<NowPlayingEvent> {
    let mut before: HashMap<(&SourceId, &str), &NowPlaying> = HashMap::new();
    for session in previous {
        before.entry(session.key()).or_insert(session);
    }
    let now: HashSet<(&SourceId, &str)> = current.iter().map(NowPlaying::key).collect();

    let mut events = Vec::new();
    let mut stopped: HashSet<(&SourceId, &str)> = HashSet::new();
    for session in previous {
        if !now.contains(&session.key()) && stopped.insert(session.key()) {
            events.push(NowPlayingEvent::Stopped(session.clone()));
        }
    }

    let mut seen: HashSet<(&SourceId, &str)> = HashSet::new();
    for session in current {
        if !seen.insert(session.key()) {
            continue;
        }
        match before.get(&session.key()) {
            None => events.push(NowPlayingEvent::Started(session.clone())),
            Some(last) => events.extend(change(last, session)),
        }
    }
    events
}

/// Lists the events for one session seen in both polls.
fn change(last: &NowPlaying, session: &NowPlaying) -> Vec<NowPlayingEvent> {
    if last.item.upstream_key != session.item.upstream_key {
        return vec![
            NowPlayingEvent::Stopped(last.clone()),
            NowPlayingEvent::Started(session.clone()),
        ];
    }

    let was_paused = last.state == PlaybackState::Paused;
    let is_paused = session.state == PlaybackState::Paused;
    let event = match (was_paused, is_paused) {
        (false, true) => NowPlayingEvent::Paused(session.clone()),
        (true, false) => NowPlayingEvent::Resumed(session.clone()),
        _ if last != session => NowPlayingEvent::Progress(session.clone()),
        _ => return Vec::new(),
    };
    vec![event]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn session(source: &str, id: &str, key: &str, position_ms: u64) -> NowPlaying {
        NowPlaying {
            source: SourceId::new(source).unwrap(),
            session_id: id.to_owned(),
            user: Some("alex".to_owned()),
            player: Some("Living Room TV".to_owned()),
            item: NowPlayingItem {
                upstream_key: key.to_owned(),
                title: format!("Title {key}"),
                kind: MediaKind::Movie,
                year: Some(1999),
                poster: Some(ImageRef::new(
                    format!("/library/metadata/{key}/thumb/1"),
                    "1",
                )),
            },
            position_ms,
            duration_ms: Some(7_200_000),
            state: PlaybackState::Playing,
            library: Some("Movies".to_owned()),
        }
    }

    fn with_state(mut session: NowPlaying, state: PlaybackState) -> NowPlaying {
        session.state = state;
        session
    }

    fn names(events: &[NowPlayingEvent]) -> Vec<(&'static str, String)> {
        events
            .iter()
            .map(|event| {
                let name = match event {
                    NowPlayingEvent::Started(_) => "started",
                    NowPlayingEvent::Paused(_) => "paused",
                    NowPlayingEvent::Resumed(_) => "resumed",
                    NowPlayingEvent::Progress(_) => "progress",
                    NowPlayingEvent::Stopped(_) => "stopped",
                };
                let session = event.session();
                (
                    name,
                    format!("{}/{}", session.session_id, session.item.upstream_key),
                )
            })
            .collect()
    }

    #[test]
    fn diff_new_session_starts() {
        let events = diff(&[], &[session("plex", "s1", "10", 0)]);
        assert_eq!(names(&events), [("started", "s1/10".to_owned())]);
    }

    #[test]
    fn diff_missing_session_stops_with_last_state() {
        let last = session("plex", "s1", "10", 5_000);
        let events = diff(std::slice::from_ref(&last), &[]);
        assert_eq!(events, [NowPlayingEvent::Stopped(last)]);
    }

    #[test]
    fn diff_unchanged_session_is_silent() {
        let sessions = [session("plex", "s1", "10", 5_000)];
        assert!(diff(&sessions, &sessions).is_empty());
    }

    #[test]
    fn diff_pause_and_resume() {
        let playing = session("plex", "s1", "10", 5_000);
        let paused = with_state(playing.clone(), PlaybackState::Paused);

        let events = diff(
            std::slice::from_ref(&playing),
            std::slice::from_ref(&paused),
        );
        assert_eq!(events, [NowPlayingEvent::Paused(paused.clone())]);

        let events = diff(
            std::slice::from_ref(&paused),
            std::slice::from_ref(&playing),
        );
        assert_eq!(events, [NowPlayingEvent::Resumed(playing)]);
    }

    #[test]
    fn diff_buffering_is_not_a_pause() {
        let playing = session("plex", "s1", "10", 5_000);
        let buffering = with_state(playing.clone(), PlaybackState::Buffering);

        let events = diff(
            std::slice::from_ref(&playing),
            std::slice::from_ref(&buffering),
        );
        assert_eq!(events, [NowPlayingEvent::Progress(buffering.clone())]);

        let paused = with_state(playing.clone(), PlaybackState::Paused);
        let events = diff(
            std::slice::from_ref(&paused),
            std::slice::from_ref(&buffering),
        );
        assert_eq!(events, [NowPlayingEvent::Resumed(buffering)]);
    }

    #[test]
    fn diff_position_change_is_progress() {
        let events = diff(
            &[session("plex", "s1", "10", 5_000)],
            &[session("plex", "s1", "10", 15_000)],
        );
        assert_eq!(names(&events), [("progress", "s1/10".to_owned())]);
        assert_eq!(events[0].session().position_ms, 15_000);
    }

    #[test]
    fn diff_new_item_in_session_stops_then_starts() {
        let events = diff(
            &[session("plex", "s1", "10", 5_000)],
            &[session("plex", "s1", "11", 0)],
        );
        assert_eq!(
            names(&events),
            [
                ("stopped", "s1/10".to_owned()),
                ("started", "s1/11".to_owned())
            ]
        );
    }

    #[test]
    fn diff_keys_sessions_by_source_too() {
        let events = diff(
            &[session("plex", "s1", "10", 0)],
            &[session("jellyfin", "s1", "10", 0)],
        );
        assert_eq!(
            names(&events),
            [
                ("stopped", "s1/10".to_owned()),
                ("started", "s1/10".to_owned())
            ]
        );
        let sources: Vec<&str> = events
            .iter()
            .map(|event| event.session().source.as_str())
            .collect();
        assert_eq!(sources, ["plex", "jellyfin"]);
    }

    #[test]
    fn diff_counts_first_of_repeated_sessions() {
        let first = session("plex", "s1", "10", 5_000);
        let repeat = session("plex", "s1", "10", 9_000);

        let events = diff(
            &[first.clone(), repeat.clone()],
            std::slice::from_ref(&first),
        );
        assert!(events.is_empty(), "{events:?}");

        let events = diff(&[], &[first.clone(), repeat]);
        assert_eq!(events, [NowPlayingEvent::Started(first)]);
    }

    #[test]
    fn diff_orders_stops_before_current_sessions() {
        let events = diff(
            &[
                session("plex", "gone", "1", 0),
                session("plex", "kept", "2", 0),
            ],
            &[
                session("plex", "new", "3", 0),
                session("plex", "kept", "2", 1_000),
            ],
        );
        assert_eq!(
            names(&events),
            [
                ("stopped", "gone/1".to_owned()),
                ("started", "new/3".to_owned()),
                ("progress", "kept/2".to_owned()),
            ]
        );
    }

    #[test]
    fn event_serializes_with_tag_and_round_trips() {
        let event = NowPlayingEvent::Paused(with_state(
            session("plex", "s1", "10", 5_000),
            PlaybackState::Paused,
        ));
        let json = serde_json::to_value(&event).unwrap();
        assert_eq!(json["event"], "paused");
        assert_eq!(json["state"], "paused");
        assert_eq!(json["session_id"], "s1");
        assert_eq!(json["item"]["kind"], "movie");
        assert_eq!(json["position_ms"], 5_000);

        let back: NowPlayingEvent = serde_json::from_value(json).unwrap();
        assert_eq!(back, event);
    }
}
