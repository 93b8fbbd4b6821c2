//! Fake Plex Media Server.
//!
//! Shapes follow Plex's OpenAPI description (`MediaContainer`, `Metadata`, `Media`, `Part`,
//! `Stream`, `Directory`, tags) and what servers send in practice where the description is
//! silent (Dolby Vision `DOVI*` stream attributes, `Guid` only with `includeGuids=1`).
//!
//! Behaviour worth knowing:
//! - The token goes in the `X-Plex-Token` header or query parameter. Without it every route but
//!   `/identity` returns 401.
//! - JSON only when the request's `Accept` header is exactly `application/json`. Any other
//!   value, or none, gets the XML form of the same `MediaContainer` as `application/xml`.
//! - `/library/sections/{key}/all` pages with `X-Plex-Container-Start` and
//!   `X-Plex-Container-Size` (headers or query parameters). A request without a size waits
//!   [`PlexConfig::unpaged_delay`] (15 s by default) before answering, as a huge section does.
//! - `/library/metadata/{key}/thumb/{version}` serves the full-size original whatever `width`
//!   or `height` says; `/photo/:/transcode` resizes.

mod handlers;
mod metadata;
mod respond;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::control::{Control, ScriptDefaults};
use crate::library::Library;
use crate::recorder::Recorder;
use crate::server::{self, FakeServer, ServeSpec, StartError, Transport};
use crate::sessions::{NowPlaying, default_sessions};

/// A Plex playlist of library items.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Playlist {
    pub title: String,
    /// Items by library index and item position.
    pub items: Vec<(usize, usize)>,
}

/// Configuration of a fake Plex server. `Default` gives an empty server with token
/// `test-plex-token`.
#[derive(Debug, Clone)]
pub struct PlexConfig {
    /// The token the server accepts.
    pub token: String,
    /// Path prefix such as `/plex` (as behind a reverse proxy), without a trailing slash.
    pub base_path: String,
    pub friendly_name: String,
    /// `machineIdentifier`, 40 hex digits.
    pub machine_identifier: String,
    pub version: String,
    pub libraries: Vec<Library>,
    /// Playlists for `/playlists`. `None` makes one of the first ten items of the first
    /// library.
    pub playlists: Option<Vec<Playlist>>,
    /// Sessions for `/status/sessions`. `None` takes [`default_sessions`].
    pub sessions: Option<Vec<NowPlaying>>,
    /// How long a section listing without a page size waits before it responds.
    pub unpaged_delay: Duration,
    /// Item keys whose artwork `/photo/:/transcode` rejects with 404.
    pub transcode_missing: Vec<u64>,
    /// Size in pixels of a 2:3 poster original. Landscape and square posters derive from its
    /// height and width. Small values keep tests fast.
    pub poster_size: (u32, u32),
    pub art_size: (u32, u32),
    pub logo_size: (u32, u32),
    /// Include `Part.Stream` in section listings. Real servers send streams only in
    /// `/library/metadata/{key}`; turn this off to test a client against that.
    pub streams_in_listings: bool,
    /// Add attributes that no client knows to every object, as a newer server would.
    pub unknown_fields: bool,
    pub transport: Transport,
}

impl Default for PlexConfig {
    fn default() -> Self {
        PlexConfig {
            token: "test-plex-token".to_owned(),
            base_path: String::new(),
            friendly_name: "Fake Plex".to_owned(),
            machine_identifier: "3f2a9c1d7e6b5a4f3e2d1c0b9a8f7e6d5c4b3a29".to_owned(),
            version: "1.41.3.9314-a0bfb8370".to_owned(),
            libraries: Vec::new(),
            playlists: None,
            sessions: None,
            unpaged_delay: Duration::from_secs(15),
            transcode_missing: Vec::new(),
            poster_size: (2400, 3600),
            art_size: (1920, 1080),
            logo_size: (800, 310),
            streams_in_listings: true,
            unknown_fields: true,
            transport: Transport::Http,
        }
    }
}

/// Starts fake Plex servers.
#[derive(Debug)]
pub struct FakePlex;

impl FakePlex {
    /// Binds 127.0.0.1 on a free port and serves `config` as Plex.
    pub async fn start(config: PlexConfig) -> Result<FakeServer, StartError> {
        start(config).await
    }
}

/// A Plex playlist with its assigned key.
#[derive(Debug)]
struct KeyedPlaylist {
    key: u64,
    playlist: Playlist,
}

/// Target of a numeric key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum KeyTarget {
    Item { library: usize, position: usize },
    Collection { library: usize, index: usize },
}

#[derive(Debug)]
struct PlexState {
    friendly_name: String,
    machine_identifier: String,
    version: String,
    libraries: Arc<[Library]>,
    keys: HashMap<u64, KeyTarget>,
    playlists: Vec<KeyedPlaylist>,
    control: Control,
    poster_size: (u32, u32),
    art_size: (u32, u32),
    logo_size: (u32, u32),
    streams_in_listings: bool,
    unknown_fields: bool,
    /// Sorted position lists per section, type and sort, so paging costs O(page) after the
    /// first page.
    listings: Mutex<HashMap<String, Arc<Vec<usize>>>>,
}

async fn start(config: PlexConfig) -> Result<FakeServer, StartError> {
    let mut libraries = config.libraries;
    let mut next_key = 1;
    for library in &mut libraries {
        next_key = library.assign_keys(next_key);
    }

    let mut keys = HashMap::new();
    for (library_index, library) in libraries.iter().enumerate() {
        for (position, item) in library.items().iter().enumerate() {
            keys.insert(
                item.key,
                KeyTarget::Item {
                    library: library_index,
                    position,
                },
            );
        }
        for (index, collection) in library.collections().iter().enumerate() {
            keys.insert(
                collection.key,
                KeyTarget::Collection {
                    library: library_index,
                    index,
                },
            );
        }
    }

    let playlists = config
        .playlists
        .unwrap_or_else(|| default_playlists(&libraries));
    let playlists = playlists
        .into_iter()
        .map(|playlist| {
            let key = next_key;
            next_key += 1;
            KeyedPlaylist { key, playlist }
        })
        .collect();

    let libraries: Arc<[Library]> = libraries.into();
    let sessions = config
        .sessions
        .unwrap_or_else(|| default_sessions(&libraries));
    let control = Control::new(
        ScriptDefaults {
            token: config.token,
            legacy_auth: false,
            sessions,
            unpaged_delay: config.unpaged_delay,
            transcode_missing: config.transcode_missing,
        },
        false,
    );
    let state = Arc::new(PlexState {
        friendly_name: config.friendly_name,
        machine_identifier: config.machine_identifier,
        version: config.version,
        libraries: libraries.clone(),
        keys,
        playlists,
        control: control.clone(),
        poster_size: config.poster_size,
        art_size: config.art_size,
        logo_size: config.logo_size,
        streams_in_listings: config.streams_in_listings,
        unknown_fields: config.unknown_fields,
        listings: Mutex::new(HashMap::new()),
    });

    let base_path = config.base_path.trim_end_matches('/').to_owned();
    let api = handlers::router(state);
    let router = if base_path.is_empty() {
        api
    } else {
        axum::Router::new()
            .without_v07_checks()
            .nest(&base_path, api)
    };

    server::start(ServeSpec {
        router,
        base_path: base_path.clone(),
        transport: config.transport,
        recorder: Recorder::new(&base_path, false),
        control,
        canonicalise: None,
        libraries,
    })
    .await
}

fn default_playlists(libraries: &[Library]) -> Vec<Playlist> {
    let Some(first) = libraries.first() else {
        return Vec::new();
    };
    let items: Vec<(usize, usize)> = first
        .items()
        .iter()
        .enumerate()
        .filter(|(_, item)| item.parent.is_none())
        .take(10)
        .map(|(position, _)| (0, position))
        .collect();
    if items.is_empty() {
        return Vec::new();
    }
    vec![Playlist {
        title: "Lobby Rotation".to_owned(),
        items,
    }]
}
