//! Fake Jellyfin and Emby servers: one implementation, two flavours.
//!
//! Emby's API is the ancestor of Jellyfin's, so both serve the same paths and JSON shapes
//! (checked against Jellyfin 10.11's OpenAPI description: `PublicSystemInfo`, `SystemInfo`,
//! `VirtualFolderInfo`, `BaseItemDto`, `BaseItemDtoQueryResult`, `SessionInfoDto`). The flavours
//! differ where the servers do:
//!
//! | | Jellyfin | Emby |
//! | --- | --- | --- |
//! | item ids | 32 hex digits | decimal numbers |
//! | `ProductName` in `/System/Info/Public` | `Jellyfin Server` | omitted |
//! | credentials | `Authorization: MediaBrowser Token="…"` or `?ApiKey=`, and the legacy forms only with [`JellyfinConfig::legacy_auth`] | `X-Emby-Token`, `X-MediaBrowser-Token`, `?api_key=`, `X-Emby-Authorization`, `Authorization` with the `Emby` or `MediaBrowser` scheme |
//! | base path | none by default | `/emby`, and the same routes without it |
//!
//! The routes' path segments and query parameter names match ignoring ASCII case, as on the
//! real servers.
//!
//! Image endpoints need no credentials unless [`JellyfinConfig::images_require_auth`] is set,
//! since Jellyfin serves images anonymously.

mod auth;
mod dto;
mod handlers;
mod ids;
mod listing;
mod query;

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};

use axum::Router;

use crate::control::{Control, ScriptDefaults};
use crate::library::Library;
use crate::recorder::Recorder;
use crate::server::{self, FakeServer, ServeSpec, StartError, Transport};
use crate::sessions::{NowPlaying, default_sessions};

use ids::IdIndex;

/// Server product a fake imitates.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flavour {
    Jellyfin,
    Emby,
}

/// Configuration of a fake Jellyfin or Emby server. `Default` gives an empty Jellyfin 10.11
/// server with API key `test-api-key`.
#[derive(Debug, Clone)]
pub struct JellyfinConfig {
    /// The API key the server accepts.
    pub api_key: String,
    /// Jellyfin only: also accept the transports Jellyfin calls legacy (`X-Emby-Token`,
    /// `X-MediaBrowser-Token`, `X-Emby-Authorization`, the `Emby` scheme, `?api_key=`). Jellyfin
    /// 10.11 accepts them by default; Jellyfin 12 rejects them by default, as this fake does.
    pub legacy_auth: bool,
    /// Path prefix such as `/jellyfin`, without a trailing slash. `None` takes the flavour's
    /// default: none for Jellyfin, `/emby` for Emby.
    pub base_path: Option<String>,
    pub server_name: String,
    /// Server id (`Id` of `/System/Info/Public`, `ServerId` of items), 32 hex digits.
    pub server_id: String,
    /// `Version` of `/System/Info/Public`. `None` takes `10.11.2` (Jellyfin) or `4.8.10.0`
    /// (Emby).
    pub version: Option<String>,
    /// `ProductName` of `/System/Info/Public`. `None` takes `Jellyfin Server` for Jellyfin and
    /// leaves the field out for Emby.
    pub product_name: Option<String>,
    pub libraries: Vec<Library>,
    /// Sessions for `/Sessions`. `None` takes [`default_sessions`].
    pub sessions: Option<Vec<NowPlaying>>,
    /// Reject image requests without credentials with 401, unlike a real server.
    pub images_require_auth: bool,
    /// Full size of a 2:3 primary image in pixels. Landscape and square primaries derive from
    /// its height and width.
    pub poster_size: (u32, u32),
    pub backdrop_size: (u32, u32),
    pub logo_size: (u32, u32),
    /// Add fields that no client knows to every object, as a newer server version would.
    pub unknown_fields: bool,
    pub transport: Transport,
    /// Id of the one user, for `/Users` and `/Users/{userId}/Items`.
    pub user_id: String,
    pub user_name: String,
}

impl Default for JellyfinConfig {
    fn default() -> Self {
        JellyfinConfig {
            api_key: "test-api-key".to_owned(),
            legacy_auth: false,
            base_path: None,
            server_name: "Fake Media Server".to_owned(),
            server_id: "5f1e2d3c4b5a69788796a5b4c3d2e1f0".to_owned(),
            version: None,
            product_name: None,
            libraries: Vec::new(),
            sessions: None,
            images_require_auth: false,
            poster_size: (600, 900),
            backdrop_size: (1280, 720),
            logo_size: (800, 310),
            unknown_fields: true,
            transport: Transport::Http,
            user_id: "0f9e8d7c6b5a49382716a5b4c3d2e1f0".to_owned(),
            user_name: "Zoë".to_owned(),
        }
    }
}

/// Starts fake Jellyfin servers.
#[derive(Debug)]
pub struct FakeJellyfin;

impl FakeJellyfin {
    /// Binds 127.0.0.1 on a free port and serves `config` as Jellyfin.
    pub async fn start(config: JellyfinConfig) -> Result<FakeServer, StartError> {
        start(Flavour::Jellyfin, config).await
    }
}

/// Starts fake Emby servers.
#[derive(Debug)]
pub struct FakeEmby;

impl FakeEmby {
    /// Binds 127.0.0.1 on a free port and serves `config` as Emby.
    pub async fn start(config: JellyfinConfig) -> Result<FakeServer, StartError> {
        start(Flavour::Emby, config).await
    }
}

/// Identity of the server, for the system-info endpoints and `ServerId` fields.
#[derive(Debug)]
struct Identity {
    server_name: String,
    server_id: String,
    version: String,
    product_name: Option<String>,
    user_id: String,
    user_name: String,
    /// Base URL, known once the listener is bound.
    local_address: OnceLock<String>,
}

/// Image sizes of one fake.
#[derive(Debug, Clone, Copy)]
struct ImageSizes {
    poster: (u32, u32),
    backdrop: (u32, u32),
    logo: (u32, u32),
}

/// Shared state of one fake Jellyfin or Emby server.
#[derive(Debug)]
struct JellyfinState {
    flavour: Flavour,
    identity: Identity,
    libraries: Arc<[Library]>,
    ids: IdIndex,
    control: Control,
    image_sizes: ImageSizes,
    images_require_auth: bool,
    unknown_fields: bool,
    /// Sorted and filtered item lists by query, so that paging through a large library costs
    /// one sort, then O(page) per page.
    listings: Mutex<HashMap<String, Arc<Vec<ids::ItemRef>>>>,
}

async fn start(flavour: Flavour, config: JellyfinConfig) -> Result<FakeServer, StartError> {
    let mut libraries = config.libraries;
    let mut next_key = 1;
    for library in &mut libraries {
        next_key = library.assign_keys(next_key);
    }
    let libraries: Arc<[Library]> = libraries.into();

    let base_path = config.base_path.unwrap_or_else(|| match flavour {
        Flavour::Jellyfin => String::new(),
        Flavour::Emby => "/emby".to_owned(),
    });
    let base_path = base_path.trim_end_matches('/').to_owned();
    let sessions = config
        .sessions
        .unwrap_or_else(|| default_sessions(&libraries));

    let control = Control::new(
        ScriptDefaults {
            token: config.api_key,
            legacy_auth: config.legacy_auth,
            sessions,
            unpaged_delay: std::time::Duration::ZERO,
            transcode_missing: Vec::new(),
        },
        true,
    );
    let state = Arc::new(JellyfinState {
        flavour,
        identity: Identity {
            server_name: config.server_name,
            version: config.version.unwrap_or_else(|| match flavour {
                Flavour::Jellyfin => "10.11.2".to_owned(),
                Flavour::Emby => "4.8.10.0".to_owned(),
            }),
            product_name: config.product_name.or_else(|| match flavour {
                Flavour::Jellyfin => Some("Jellyfin Server".to_owned()),
                // NOTE: Emby 4.x is reported to leave ProductName out of its public system
                // info; set `product_name` to test a server that sends it.
                Flavour::Emby => None,
            }),
            server_id: config.server_id.clone(),
            user_id: config.user_id,
            user_name: config.user_name,
            local_address: OnceLock::new(),
        },
        ids: IdIndex::new(flavour, &config.server_id, &libraries),
        libraries: libraries.clone(),
        control: control.clone(),
        image_sizes: ImageSizes {
            poster: config.poster_size,
            backdrop: config.backdrop_size,
            logo: config.logo_size,
        },
        images_require_auth: config.images_require_auth,
        unknown_fields: config.unknown_fields,
        listings: Mutex::new(HashMap::new()),
    });

    let api = handlers::router(state.clone());
    let router = match (flavour, base_path.as_str()) {
        // Emby serves its API under `/emby` and at the root alike.
        (Flavour::Emby, "") => api,
        (Flavour::Emby, prefix) => Router::new().nest(prefix, api.clone()).merge(api),
        (Flavour::Jellyfin, "") => api,
        (Flavour::Jellyfin, prefix) => Router::new().nest(prefix, api),
    };

    let server = server::start(ServeSpec {
        router,
        base_path: base_path.clone(),
        transport: config.transport,
        recorder: Recorder::new(&base_path, true),
        control,
        canonicalise: Some(handlers::canonical_path),
        libraries,
    })
    .await?;
    let _ = state
        .identity
        .local_address
        .set(server.base_url().to_owned());
    Ok(server)
}
