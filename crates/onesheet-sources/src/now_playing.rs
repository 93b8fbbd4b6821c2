//! Now playing: polling each media server's sessions and publishing what changed.
//!
//! Every source with now playing enabled has a poller that requests the server's sessions every
//! few seconds, keeps the ones its filter accepts, and hands them to the [`NowPlayingHub`]. The
//! hub compares them with the previous poll and broadcasts start, pause, resume, progress and
//! stop events, which display pages consume. A failing server slows its poller down (doubling
//! up to a minute) but never stops it, and its sessions end with stop events so a screen does
//! not show a film as playing forever.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use onesheet_domain::now_playing::diff;
use onesheet_domain::{NowPlaying, NowPlayingEvent, SourceId};
use tokio::sync::broadcast;
use tracing::{debug, info, warn};

use crate::registry::settings::NowPlayingSettings;
use crate::source::MediaSource;

/// Events a slow subscriber may fall behind by before it misses some. A subscriber that lags
/// gets `RecvError::Lagged` and should re-read [`NowPlayingHub::sessions`].
const EVENT_BUFFER: usize = 256;

/// Maximum wait between two polls of a failing server.
const MAX_BACKOFF: Duration = Duration::from_secs(60);

/// The current sessions of every source and the channel their changes go out on.
pub struct NowPlayingHub {
    events: broadcast::Sender<NowPlayingEvent>,
    sessions: Mutex<HashMap<SourceId, Vec<NowPlaying>>>,
}

impl Default for NowPlayingHub {
    fn default() -> Self {
        Self::new()
    }
}

impl NowPlayingHub {
    pub fn new() -> Self {
        Self {
            events: broadcast::channel(EVENT_BUFFER).0,
            sessions: Mutex::new(HashMap::new()),
        }
    }

    pub fn subscribe(&self) -> broadcast::Receiver<NowPlayingEvent> {
        self.events.subscribe()
    }

    /// Returns every session playing now, across all sources.
    pub fn sessions(&self) -> Vec<NowPlaying> {
        let sessions = self.lock();
        let mut all: Vec<NowPlaying> = sessions.values().flatten().cloned().collect();
        all.sort_by(|a, b| (&a.source, &a.session_id).cmp(&(&b.source, &b.session_id)));
        all
    }

    /// Replaces one source's sessions and broadcasts the changes. Returns the events sent.
    pub fn publish(&self, source: &SourceId, current: Vec<NowPlaying>) -> Vec<NowPlayingEvent> {
        let events = {
            let mut sessions = self.lock();
            let previous = sessions.remove(source).unwrap_or_default();
            let events = diff(&previous, &current);
            if !current.is_empty() {
                sessions.insert(source.clone(), current);
            }
            events
        };
        for event in &events {
            // An error means no subscriber exists right now, which is normal.
            let _ = self.events.send(event.clone());
        }
        events
    }

    /// Ends every session of a source that was removed or disabled.
    pub fn clear_source(&self, source: &SourceId) {
        self.publish(source, Vec::new());
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<SourceId, Vec<NowPlaying>>> {
        // The map is replaced entry by entry, so a panic elsewhere cannot leave it half-written.
        self.sessions
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

/// Session filter for displays: by user, player and library, compared case-insensitively.
/// An empty list accepts everything.
#[derive(Debug, Clone, Default)]
pub struct SessionFilter {
    users: Vec<String>,
    players: Vec<String>,
    libraries: Vec<String>,
}

impl SessionFilter {
    pub fn from_settings(settings: &NowPlayingSettings) -> Self {
        let lower = |list: &[String]| list.iter().map(|entry| entry.to_lowercase()).collect();
        Self {
            users: lower(&settings.users),
            players: lower(&settings.players),
            libraries: lower(&settings.libraries),
        }
    }

    pub fn accepts(&self, session: &NowPlaying) -> bool {
        let allowed = |list: &[String], value: Option<&str>| {
            list.is_empty()
                || value
                    .is_some_and(|value| list.iter().any(|entry| *entry == value.to_lowercase()))
        };
        allowed(&self.users, session.user.as_deref())
            && allowed(&self.players, session.player.as_deref())
            && allowed(&self.libraries, session.library.as_deref())
    }
}

/// Polls one source's sessions until the task is aborted.
pub async fn poll_sessions(
    source: Arc<dyn MediaSource>,
    hub: Arc<NowPlayingHub>,
    filter: SessionFilter,
    interval: Duration,
) {
    let id = source.id().clone();
    let mut wait = interval;
    let mut failing = false;
    loop {
        match source.now_playing().await {
            Ok(sessions) => {
                if failing {
                    info!("now-playing polling recovered");
                    failing = false;
                }
                wait = interval;
                let accepted: Vec<NowPlaying> = sessions
                    .into_iter()
                    .filter(|session| filter.accepts(session))
                    .collect();
                let events = hub.publish(&id, accepted);
                if !events.is_empty() {
                    debug!(events = events.len(), "now-playing changes published");
                }
            }
            Err(error) => {
                // One warning per failure streak; the sessions end so no screen keeps showing a
                // film that may have stopped.
                if !failing {
                    warn!(%error, code = error.code(), "now-playing polling failed; retrying with backoff");
                    failing = true;
                    hub.clear_source(&id);
                }
                wait = (wait * 2).min(MAX_BACKOFF.max(interval));
            }
        }
        tokio::time::sleep(wait).await;
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use onesheet_domain::{MediaKind, NowPlayingItem, PlaybackState};

    use super::*;

    fn session(source: &str, id: &str, user: &str, state: PlaybackState) -> NowPlaying {
        NowPlaying {
            source: SourceId::new(source).unwrap(),
            session_id: id.to_owned(),
            user: Some(user.to_owned()),
            player: Some("Living Room TV".to_owned()),
            item: NowPlayingItem {
                upstream_key: "42".to_owned(),
                title: "Heat".to_owned(),
                kind: MediaKind::Movie,
                year: Some(1995),
                poster: None,
            },
            position_ms: 1000,
            duration_ms: Some(10_000),
            state,
            library: Some("Movies".to_owned()),
        }
    }

    #[test]
    fn hub_broadcasts_start_and_stop() {
        let hub = NowPlayingHub::new();
        let mut events = hub.subscribe();
        let source = SourceId::new("plex").unwrap();

        hub.publish(
            &source,
            vec![session("plex", "s1", "ann", PlaybackState::Playing)],
        );
        assert!(matches!(
            events.try_recv().unwrap(),
            NowPlayingEvent::Started(_)
        ));
        assert_eq!(hub.sessions().len(), 1);

        hub.clear_source(&source);
        assert!(matches!(
            events.try_recv().unwrap(),
            NowPlayingEvent::Stopped(_)
        ));
        assert!(hub.sessions().is_empty());
    }

    #[test]
    fn hub_keeps_sources_apart() {
        let hub = NowPlayingHub::new();
        let plex = SourceId::new("plex").unwrap();
        let jellyfin = SourceId::new("jellyfin").unwrap();
        hub.publish(
            &plex,
            vec![session("plex", "s1", "ann", PlaybackState::Playing)],
        );
        hub.publish(
            &jellyfin,
            vec![session("jellyfin", "s1", "bob", PlaybackState::Paused)],
        );
        hub.publish(&plex, Vec::new());
        let left = hub.sessions();
        assert_eq!(left.len(), 1);
        assert_eq!(left[0].source, jellyfin);
    }

    #[test]
    fn filter_matches_case_insensitively() {
        let filter = SessionFilter::from_settings(&NowPlayingSettings {
            users: vec!["Ann".to_owned()],
            players: vec!["living room tv".to_owned()],
            ..NowPlayingSettings::default()
        });
        assert!(filter.accepts(&session("plex", "s", "ann", PlaybackState::Playing)));
        assert!(!filter.accepts(&session("plex", "s", "bob", PlaybackState::Playing)));

        let mut no_player = session("plex", "s", "ann", PlaybackState::Playing);
        no_player.player = None;
        assert!(!filter.accepts(&no_player));
        assert!(SessionFilter::default().accepts(&no_player));
    }
}
