//! Playback sessions ("now playing") that the fakes report, in a server-neutral form.

use std::time::Duration;

use crate::library::{ItemKind, Library};

/// Content of a session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PlayingItem {
    /// An item of the fake's libraries, by library index and item position.
    Library { library: usize, position: usize },
    /// A trailer shown before the feature. Poster displays are expected to ignore it.
    Trailer { title: String },
    /// A cinema pre-roll clip. Poster displays are expected to ignore it.
    PreRoll { title: String },
    /// Nothing: the client is connected but idle.
    Nothing,
}

/// One client session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NowPlaying {
    pub user: String,
    /// Client application name ("Jellyfin Web", "Plex for LG").
    pub client: String,
    pub device: String,
    pub item: PlayingItem,
    /// Playback position.
    pub position: Duration,
    pub paused: bool,
}

/// Sessions of a fake that was not given any: the first movie playing, the first episode
/// paused, a trailer, a pre-roll and an idle client, as far as the libraries allow.
pub fn default_sessions(libraries: &[Library]) -> Vec<NowPlaying> {
    let mut sessions = Vec::new();
    if let Some(item) = first_of_kind(libraries, ItemKind::Movie) {
        sessions.push(NowPlaying {
            user: "Zoë".to_owned(),
            client: "Living Room TV".to_owned(),
            device: "LG OLED65".to_owned(),
            item,
            position: Duration::from_secs(1_234),
            paused: false,
        });
    }
    if let Some(item) = first_of_kind(libraries, ItemKind::Episode) {
        sessions.push(NowPlaying {
            user: "José".to_owned(),
            client: "Web Browser".to_owned(),
            device: "Firefox".to_owned(),
            item,
            position: Duration::from_secs(600),
            paused: true,
        });
    }
    sessions.push(NowPlaying {
        user: "Zoë".to_owned(),
        client: "Home Cinema".to_owned(),
        device: "Apple TV".to_owned(),
        item: PlayingItem::Trailer {
            title: "Coming Soon: Velvet Horizon".to_owned(),
        },
        position: Duration::from_secs(42),
        paused: false,
    });
    sessions.push(NowPlaying {
        user: "Lobby".to_owned(),
        client: "Cinema Screen".to_owned(),
        device: "Projector".to_owned(),
        item: PlayingItem::PreRoll {
            title: "Please Silence Your Phones".to_owned(),
        },
        position: Duration::from_secs(5),
        paused: false,
    });
    sessions.push(NowPlaying {
        user: "Ingrid".to_owned(),
        client: "Android".to_owned(),
        device: "Pixel 8".to_owned(),
        item: PlayingItem::Nothing,
        position: Duration::ZERO,
        paused: false,
    });
    sessions
}

fn first_of_kind(libraries: &[Library], kind: ItemKind) -> Option<PlayingItem> {
    libraries
        .iter()
        .enumerate()
        .find_map(|(library_index, library)| {
            let position = library.items().iter().position(|item| item.kind == kind)?;
            Some(PlayingItem::Library {
                library: library_index,
                position,
            })
        })
}
