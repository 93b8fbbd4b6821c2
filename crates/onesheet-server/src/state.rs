//! Shared state handed to every handler.

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use arc_swap::ArcSwap;
use axum::http::HeaderValue;
use bytes::Bytes;
use moka::sync::Cache;
use onesheet_domain::settings::TimeOfDay;
use onesheet_domain::{DisplayMode, DisplaySettings, FieldError};
use onesheet_images::pipeline::{ImagePipeline, PipelineConfig};
use onesheet_sources::Catalog;
use onesheet_sources::now_playing::NowPlayingHub;
use onesheet_sources::registry::SourceRegistry;

use crate::accounts::Accounts;
use crate::auth::AdminToken;
use crate::devices::DeviceService;
use crate::logs::LogBuffer;
use crate::security::{DisplayAccess, TrustedProxies};
use onesheet_store::Store;

/// The path prefix the whole site lives under: empty for the root, else `/` followed by
/// segments with no trailing slash, such as `/posters`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BasePath(Arc<str>);

impl BasePath {
    /// Accepts the normalised form only (the configuration loader normalises user input).
    pub fn new(path: &str) -> Result<Self, FieldError> {
        let valid = path.is_empty()
            || (path.starts_with('/')
                && !path.ends_with('/')
                && !path.contains("//")
                && path
                    .split('/')
                    .all(|segment| segment != ".." && segment != "."));
        if valid {
            Ok(Self(Arc::from(path)))
        } else {
            Err(FieldError::new(
                "base_path",
                format!("invalid base path {path:?}: expected empty or a path such as /posters"),
            ))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Everything handlers share, behind one `Arc`: axum clones the state for every extractor and
/// layer that takes it, so a clone must cost one reference count, not one per field.
#[derive(Clone)]
pub struct AppState(Arc<SharedState>);

impl std::ops::Deref for AppState {
    type Target = SharedState;

    fn deref(&self) -> &SharedState {
        &self.0
    }
}

/// The fields of [`AppState`].
#[derive(Clone)]
pub struct SharedState {
    pub catalog: Arc<Catalog>,
    pub store: Arc<dyn Store>,
    /// Current display settings with a content tag used as their ETag.
    pub settings: Arc<ArcSwap<TaggedSettings>>,
    pub base_path: BasePath,
    pub started_at: Instant,
    /// Derived images: memory and disk caches, and the bounded decoding pool.
    pub images: Arc<ImagePipeline>,
    /// Rendered playlist pages. Every screen of a fleet requests the same few pages of one
    /// generation, so most requests are served without serialising anything.
    pub(crate) playlist_pages: Cache<PageKey, RenderedPage>,
    /// Configured media-server sources; `None` when the server runs without the admin API's
    /// source management (some tests).
    pub sources: Option<Arc<SourceRegistry>>,
    /// Sessions playing on the media servers.
    pub now_playing: Arc<NowPlayingHub>,
    /// The bootstrap admin token; `None` switches the admin API off.
    pub admin_token: Option<AdminToken>,
    /// Proxies whose forwarding headers name the client; see [`ClientAddress`].
    ///
    /// [`ClientAddress`]: crate::security::ClientAddress
    pub trusted_proxies: Arc<TrustedProxies>,
    /// Admin accounts and sessions; `None` leaves only the bootstrap token (some tests).
    pub accounts: Option<Arc<Accounts>>,
    /// Origins whose pages may read responses across origins (CORS). Empty: none.
    pub cors_origins: Arc<[HeaderValue]>,
    /// The public HTTPS URL, without a trailing slash, that requests known to use plain HTTP
    /// are redirected to. `None` serves plain HTTP as it comes.
    pub force_https: Option<Arc<str>>,
    /// The configured external URL of the base path, without a trailing slash, for links such as
    /// the pairing QR code. `None` builds them from the request's `Host`.
    pub public_url: Option<Arc<str>>,
    /// The rule for the clients that may use display pages, the display API and images without
    /// signing in.
    pub display_access: Arc<DisplayAccess>,
    /// Maximum time a request may take before it gets 503.
    pub request_timeout: Duration,
    /// Paired screens, their sockets and commands; `None` switches the device routes off
    /// (some tests).
    pub devices: Option<Arc<DeviceService>>,
    /// The local time of day in the server's time zone, against which filter rules run.
    pub time_of_day: TimeOfDayClock,
    /// The server's recent log lines for the admin log page. Empty unless the binary's logger
    /// feeds it.
    pub logs: Arc<LogBuffer>,
    /// The data directory, whose permissions the admin dashboard checks; `None` skips the
    /// check (some tests).
    pub data_dir: Option<Arc<Path>>,
}

/// Function that returns the local time of day, by default [`local_time_of_day`].
pub type TimeOfDayClock = Arc<dyn Fn() -> TimeOfDay + Send + Sync>;

/// Returns the time of day in the time zone of `TZ`, else of `/etc/localtime`, else UTC, as
/// jiff resolves it. Daylight-saving changes apply at once.
pub fn local_time_of_day() -> TimeOfDay {
    let now = jiff::Zoned::now();
    let hour = u8::try_from(now.hour()).unwrap_or(0);
    let minute = u8::try_from(now.minute()).unwrap_or(0);
    TimeOfDay::new(hour, minute).unwrap_or(TimeOfDay::MIDNIGHT)
}

/// A serialised playlist page, its gzip-compressed copy and its ETag. The copy is made once per
/// page, so screens that accept gzip (every browser does) cost no compression per request.
#[derive(Clone)]
pub(crate) struct RenderedPage {
    pub body: Bytes,
    pub gzip: Bytes,
    pub etag: Arc<str>,
}

/// Identifies one rendered playlist page: snapshot revision, mode, limit, start offset, and the
/// slot and count of a distinct group's share (0 and 1 for the whole playlist).
pub(crate) type PageKey = (u64, DisplayMode, usize, usize, usize, usize);

/// Maximum time a request may take by default. Three times the image deadline, so a derived
/// image that misses its own deadline reports that instead.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(60);

/// Memory the rendered-page cache may use, in bytes of JSON.
const PLAYLIST_CACHE_BYTES: u64 = 8 * 1024 * 1024;

impl AppState {
    pub fn new(
        catalog: Arc<Catalog>,
        store: Arc<dyn Store>,
        settings: DisplaySettings,
        base_path: BasePath,
    ) -> Self {
        Self(Arc::new(SharedState {
            catalog,
            store,
            settings: Arc::new(ArcSwap::from_pointee(TaggedSettings::new(settings))),
            base_path,
            started_at: Instant::now(),
            images: Arc::new(ImagePipeline::new(PipelineConfig::default(), None)),
            playlist_pages: Cache::builder()
                .max_capacity(PLAYLIST_CACHE_BYTES)
                .weigher(|_key, page: &RenderedPage| {
                    u32::try_from(page.body.len() + page.gzip.len()).unwrap_or(u32::MAX)
                })
                .build(),
            sources: None,
            now_playing: Arc::new(NowPlayingHub::new()),
            admin_token: None,
            trusted_proxies: Arc::default(),
            accounts: None,
            cors_origins: Arc::from(Vec::new()),
            force_https: None,
            public_url: None,
            display_access: Arc::default(),
            request_timeout: REQUEST_TIMEOUT,
            devices: None,
            time_of_day: Arc::new(local_time_of_day),
            logs: Arc::default(),
            data_dir: None,
        }))
    }

    /// Returns the fields for a builder to change. Builders run before the router is built,
    /// when this is the only reference, so nothing is copied.
    fn shared_mut(&mut self) -> &mut SharedState {
        Arc::make_mut(&mut self.0)
    }

    /// Adds source management and the registry's now-playing hub.
    pub fn with_sources(mut self, registry: Arc<SourceRegistry>) -> Self {
        self.shared_mut().now_playing = registry.now_playing().clone();
        self.shared_mut().sources = Some(registry);
        self
    }

    /// Switches the admin API on, protected by `token`.
    pub fn with_admin_token(mut self, token: AdminToken) -> Self {
        self.shared_mut().admin_token = Some(token);
        self
    }

    /// Switches on device pairing, the device WebSocket and the device admin API.
    pub fn with_devices(mut self, devices: Arc<DeviceService>) -> Self {
        self.shared_mut().devices = Some(devices);
        self
    }

    /// Switches on admin accounts, login and sessions.
    pub fn with_accounts(mut self, accounts: Arc<Accounts>) -> Self {
        self.shared_mut().accounts = Some(accounts);
        self
    }

    /// Lets pages from `origins` (such as `https://dashboard.example`) read responses.
    pub fn with_cors_origins(mut self, origins: Vec<HeaderValue>) -> Self {
        self.shared_mut().cors_origins = Arc::from(origins);
        self
    }

    /// Redirects requests that arrived over plain HTTP to `public_url` (such as
    /// `https://posters.example.com`, the address of the base path), keeping their path below
    /// the base path and their query. The caller checks that the URL uses https.
    pub fn with_force_https(mut self, public_url: &str) -> Self {
        self.shared_mut().force_https = Some(Arc::from(public_url.trim_end_matches('/')));
        self
    }

    /// Builds links for other devices, such as the pairing QR code, on `public_url` (such as
    /// `https://posters.example.com`, the address of the base path) instead of the request's
    /// `Host`.
    pub fn with_public_url(mut self, public_url: &str) -> Self {
        self.shared_mut().public_url = Some(Arc::from(public_url.trim_end_matches('/')));
        self
    }

    /// Believes the forwarding headers of requests from `proxies`.
    pub fn with_trusted_proxies(mut self, proxies: TrustedProxies) -> Self {
        self.shared_mut().trusted_proxies = Arc::new(proxies);
        self
    }

    /// Changes how long a request may take before it gets 503.
    pub fn with_request_timeout(mut self, timeout: Duration) -> Self {
        self.shared_mut().request_timeout = timeout;
        self
    }

    /// Sets which clients may use display routes; [`AppState::new`] allows loopback only.
    pub fn with_display_access(mut self, access: DisplayAccess) -> Self {
        self.shared_mut().display_access = Arc::new(access);
        self
    }

    /// Replaces the clock of the time of day that filter rules run against, for tests.
    pub fn with_time_of_day(mut self, clock: TimeOfDayClock) -> Self {
        self.shared_mut().time_of_day = clock;
        self
    }

    /// Shows `logs`, which the logger fills, on the admin log page.
    pub fn with_logs(mut self, logs: Arc<LogBuffer>) -> Self {
        self.shared_mut().logs = logs;
        self
    }

    /// Lets the admin dashboard check the permissions of `data_dir` and its secret files.
    pub fn with_data_dir(mut self, data_dir: &Path) -> Self {
        self.shared_mut().data_dir = Some(Arc::from(data_dir));
        self
    }

    /// Replaces the image service, which [`AppState::new`] creates with no disk cache.
    pub fn with_images(mut self, images: Arc<ImagePipeline>) -> Self {
        self.shared_mut().images = images;
        self
    }
}

/// Display settings and the tag that changes whenever they do.
#[derive(Debug, Clone)]
pub struct TaggedSettings {
    pub settings: DisplaySettings,
    pub tag: String,
}

impl TaggedSettings {
    pub fn new(settings: DisplaySettings) -> Self {
        let tag = match serde_json::to_vec(&settings) {
            Ok(bytes) => format!("{:016x}", fnv1a(&bytes)),
            Err(_) => "0".to_owned(),
        };
        Self { settings, tag }
    }
}

/// FNV-1a, 64 bit: a fast, stable content tag; not a security boundary.
pub(crate) fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |hash, &byte| {
        (hash ^ u64::from(byte)).wrapping_mul(0x0100_0000_01b3)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base_path_accepts_normalised_forms_only() {
        for good in ["", "/posters", "/a/b"] {
            assert!(BasePath::new(good).is_ok(), "{good}");
        }
        for bad in ["/", "posters", "/posters/", "//x", "/a/../b", "/."] {
            assert!(BasePath::new(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn settings_tag_follows_content() {
        let first = TaggedSettings::new(DisplaySettings::default());
        let mut changed = DisplaySettings::default();
        changed.screensaver.interval_seconds = 30;
        assert_eq!(
            first.tag,
            TaggedSettings::new(DisplaySettings::default()).tag
        );
        assert_ne!(first.tag, TaggedSettings::new(changed).tag);
    }
}
