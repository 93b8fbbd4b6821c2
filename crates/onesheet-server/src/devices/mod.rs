//! Devices on the server side: pairing, the live WebSocket of each screen, commands, presence
//! and layered settings, behind the [`DeviceService`] facade that handlers and tests call.
//!
//! # The screen's side of the protocol
//!
//! Messages are the typed JSON frames of `onesheet_domain::protocol`. `{base}` is the base path.
//!
//! 1. The screen opens `GET {base}/api/v1/devices/ws`. The upgrade request must pass the
//!    display access rule: loopback, `display_networks`, `public_displays`, an admin, or a
//!    valid device credential in the `X-Onesheet-Device` header or the `onesheet_device`
//!    cookie. A browser's `Origin` must be this server's own or in `cors_origins`, and the
//!    sockets open in total and from the client's address must be under `device_max_sockets`
//!    (503) and `device_max_sockets_per_address` (429).
//! 2. Its first message must arrive within 10 s and be `hello`, or the server sends `error`
//!    (`hello-timeout` or `unexpected-message`) and closes. With `auth.method = "device"` the
//!    id and secret are checked against the stored keyed hash, and the server sends
//!    `welcome`. A wrong secret gets `error` with code `invalid-credentials`, and the socket
//!    closes. Failures count against the client address, and once the address is blocked its
//!    wrong secrets get `rate-limited`, while valid ones still pass. A revoked or merged device
//!    gets `revoked`.
//! 3. With `auth.method = "pairing"` and a client address inside `device_auto_admit`, the
//!    server creates the device at once and sends `paired`, then `welcome`. Otherwise it sends
//!    `pairing` with a code (10 min, single use) and a ticket, and the socket waits. When an
//!    admin claims the code (`POST {base}/api/v1/admin/devices/claim`), the waiting socket gets
//!    `paired` and `welcome`. A screen that reconnects meanwhile sends `auth.resume` with code
//!    and ticket: it waits again, or gets `paired` at once if the claim happened while it was
//!    away. Requests for new codes are rate limited per address (`pairing-unavailable`).
//! 4. The screen keeps the secret and calls `POST {base}/api/v1/devices/session` with
//!    `X-Onesheet-Device: <id>:<secret>`. The response sets the same value as an HttpOnly,
//!    SameSite=Strict cookie, so display pages and images load with it from anywhere. A device
//!    credential opens display routes only, never admin routes.
//! 5. A device has one live socket. A newer authenticated socket replaces the older one, which
//!    gets `error` with code `replaced` and closes.
//! 6. The server sends a WebSocket ping every 25 s. A ping unanswered for 10 s is sent again,
//!    and a second miss closes the socket, so a half-open connection ends within 45 s of its
//!    last pong. The screen's own `ping` message is answered with `pong` and the server time.
//! 7. Frames are limited to 64 KiB, and each socket may send 20 messages at once and 5 a
//!    second after that. Over the rate the server answers `rate-limited` and drops the
//!    messages, and a client that keeps flooding is disconnected. The ack of a command that
//!    this socket delivered and that is not acknowledged yet costs nothing. Malformed JSON, an unknown
//!    `type` and invalid fields get an `error` frame, and the connection stays.
//! 8. Commands arrive as `command` with an id, and the screen answers each with `ack`. Commands
//!    for an offline screen wait in its queue and arrive after its next `welcome`.
//! 9. `settings` replaces the merged settings whenever the global settings or the device's
//!    profile, group or own overrides change. `revoked` ends the device's access, and the
//!    socket closes.
//!
//! Screens behind a proxy that strips `Upgrade` use `GET {base}/api/v1/devices/poll` (waits up
//! to 25 s for commands or new settings) and `POST {base}/api/v1/devices/poll` (status and
//! acks) instead. Their first poll adds `?welcome=true` and gets `welcome` at once. A device
//! may make 60 such requests at once and 2 a second after that. A revoked or merged device
//! gets `401 device-revoked` there and from `session`, and the response clears its cookie.

mod commands;
mod credentials;
mod dealing;
mod error;
mod events;
mod pacing;
mod pairing;
mod poll;
mod presence;
mod quota;
mod records;
mod schedule;
mod settings;
mod slots;
mod socket;

use std::net::IpAddr;
use std::sync::atomic::AtomicU64;
use std::sync::{Arc, Weak};
use std::time::{Duration, Instant};

use arc_swap::ArcSwap;
use ipnet::IpNet;
use moka::sync::Cache;
use onesheet_domain::{Command, DeviceId, FieldError, PresenceWindows};
use onesheet_store::{SecretKey, Store};
use tracing::{debug, info, warn};

use crate::accounts::{Clock, unix_now};
use crate::security::{FailureLimiter, LimitKey, LockoutPolicy};
use crate::state::TaggedSettings;

pub use commands::{CommandOutcome, CommandView, MAX_COMMAND_TARGETS, NO_ACK_REASON};
pub use credentials::{DEVICE_COOKIE, DEVICE_HEADER, DeviceCredential};
pub use dealing::{Deal, Share};
pub use error::DeviceError;
pub use events::{
    DeviceEvent, EVENT_BUFFER, EventSubscription, MAX_EVENT_STREAMS, MAX_EVENT_STREAMS_PER_CALLER,
    SubscribeRejection,
};
pub use pairing::ClaimRequest;
pub use poll::{MAX_REPORT_MESSAGES, POLL_WAIT};
pub use presence::{LiveState, Transport};
pub use records::{
    DeviceDetail, DeviceListFilter, DeviceUpdate, DeviceView, GroupInput, ProfileInput,
};
pub use schedule::Schedule;
pub use settings::{ScreenFilter, SettingsScope};
pub use slots::{SocketLimit, SocketPermit};
pub(crate) use socket::{SocketClient, run_socket};

use commands::InFlight;
use credentials::CredentialHasher;
use hub::Hub;
use presence::{FreezeChange, PresenceBook};

mod hub;

/// Limits and timings of the device service. `Default` gives the production values, and tests
/// shorten the timings.
#[derive(Debug, Clone)]
pub struct DeviceConfig {
    /// Networks whose screens are admitted without a claim. Empty: every screen pairs.
    pub auto_admit: Vec<IpNet>,
    /// Time between WebSocket pings.
    pub ping_interval: Duration,
    /// Time a ping may go unanswered before it counts as missed. Two misses close the socket.
    pub pong_timeout: Duration,
    /// Time from the upgrade to the `hello` message.
    pub hello_timeout: Duration,
    /// Time a delivered command may wait for its `ack` before it fails.
    pub ack_timeout: Duration,
    /// Time a command may wait in the queue before it expires.
    pub command_ttl: Duration,
    /// Pending commands per device.
    pub max_pending_commands: u32,
    /// Time between presence writes.
    pub flush_interval: Duration,
    /// Messages a socket may send at once.
    pub message_burst: u32,
    /// Messages a socket may send per second after the burst.
    pub messages_per_second: u32,
    /// Sends `reload` to a screen that the frozen rule flags.
    pub auto_recover_frozen: bool,
    /// Open device WebSockets at most, from the upgrade to the close.
    pub max_sockets: usize,
    /// Open device WebSockets at most per client address (IPv6: per /64).
    pub max_sockets_per_address: usize,
    pub presence_windows: PresenceWindows,
}

impl Default for DeviceConfig {
    fn default() -> Self {
        Self {
            auto_admit: Vec::new(),
            ping_interval: Duration::from_secs(25),
            pong_timeout: Duration::from_secs(10),
            hello_timeout: Duration::from_secs(10),
            ack_timeout: Duration::from_secs(30),
            command_ttl: Duration::from_secs(600),
            max_pending_commands: 50,
            flush_interval: Duration::from_secs(5),
            message_burst: 20,
            messages_per_second: 5,
            auto_recover_frozen: false,
            max_sockets: DEFAULT_MAX_SOCKETS,
            max_sockets_per_address: DEFAULT_MAX_SOCKETS_PER_ADDRESS,
            presence_windows: PresenceWindows::default(),
        }
    }
}

/// Default of [`DeviceConfig::max_sockets`]: twice the 10,000 screens of the fleet benchmark,
/// and below the usual open-file limits of a service.
pub const DEFAULT_MAX_SOCKETS: usize = 20_000;

/// Default of [`DeviceConfig::max_sockets_per_address`]: room for a large venue behind one
/// NAT, while one client cannot take the whole server's share.
pub const DEFAULT_MAX_SOCKETS_PER_ADDRESS: usize = 256;

/// Time between runs of the command expiry and the pairing-code cleanup.
const EXPIRY_INTERVAL: Duration = Duration::from_secs(30);

/// How long a verified device credential is trusted without a database lookup. A revocation
/// clears it at once, so this only bounds the cost of display requests.
const CREDENTIAL_CACHE_TTL: Duration = Duration::from_secs(60);

/// The device service: pairing, live sockets, commands, presence and settings push.
pub struct DeviceService {
    store: Arc<dyn Store>,
    /// The global settings, shared with the app state's `settings`.
    global: Arc<ArcSwap<TaggedSettings>>,
    hasher: CredentialHasher,
    hub: Hub,
    presence: PresenceBook,
    in_flight: InFlight,
    /// Command replies waiting for the running writer; see [`DeviceService::acknowledge`].
    replies: commands::PendingReplies,
    config: DeviceConfig,
    /// Failed device authentications, per client address.
    auth_limiter: FailureLimiter,
    /// Requests for new pairing codes, per client address.
    pairing_quota: quota::Quota<LimitKey>,
    /// Long-poll requests, per device.
    poll_quota: quota::Quota<DeviceId>,
    /// Open device WebSockets, in total and per client address.
    sockets: slots::SocketSlots,
    /// Automatic admissions from `auto_admit` networks, per client address.
    admission_limiter: FailureLimiter,
    /// Devices whose credential was verified recently, with the keyed hash that matched.
    verified: Cache<DeviceId, String>,
    /// Revokes, deletes and merges so far, so a verification that overlapped one is not
    /// cached; see [`DeviceService::verify_credential`].
    removals: AtomicU64,
    /// Each device's share of the playlist in a distinct or synchronised group; see [`dealing`].
    deals: dealing::DealCache,
    /// Each device's filter settings for the playlist; see [`DeviceService::screen_filter`].
    screen_filters: settings::ScreenFilterCache,
    /// Changes of devices, for the admin UI's live table.
    events: events::EventFeed,
    clock: Clock,
}

impl std::fmt::Debug for DeviceService {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DeviceService")
            .field("config", &self.config)
            .field("live", &self.hub.live_count())
            .finish_non_exhaustive()
    }
}

impl DeviceService {
    /// `global` is the shared global settings of the app state. `key` is the server's secret
    /// key, from which the key of the credential hashes is derived.
    pub fn new(
        store: Arc<dyn Store>,
        global: Arc<ArcSwap<TaggedSettings>>,
        key: &SecretKey,
        config: DeviceConfig,
    ) -> Self {
        // A code only costs a row that expires after 10 minutes, and an unpaired screen requests
        // a new one every 10 minutes. So a venue may set up 200 screens behind one router
        // at once and keep them waiting, while a flood from one address stays near 400 rows.
        let pairing_budget = quota::Budget {
            burst: 200,
            per_minute: 20,
        };
        // A venue may switch on hundreds of screens behind one address. Past 500 admissions, the
        // next waits a second, and each further wait doubles up to a minute. The count resets
        // after a quarter of an hour without admissions.
        let admission_policy = LockoutPolicy {
            free_failures: 500,
            first_block: Duration::from_secs(1),
            max_block: Duration::from_secs(60),
            forget_after: Duration::from_secs(15 * 60),
            ..LockoutPolicy::default()
        };
        let sockets = slots::SocketSlots::new(config.max_sockets, config.max_sockets_per_address);
        Self {
            store,
            global,
            hasher: CredentialHasher::new(key),
            hub: Hub::default(),
            presence: PresenceBook::default(),
            in_flight: InFlight::default(),
            replies: commands::PendingReplies::default(),
            config,
            auth_limiter: FailureLimiter::new(LockoutPolicy::default()),
            pairing_quota: quota::Quota::new(pairing_budget, 100_000),
            poll_quota: quota::Quota::new(poll::POLL_BUDGET, 100_000),
            sockets,
            admission_limiter: FailureLimiter::new(admission_policy),
            verified: Cache::builder()
                .max_capacity(100_000)
                .time_to_live(CREDENTIAL_CACHE_TTL)
                .build(),
            removals: AtomicU64::new(0),
            deals: dealing::deal_cache(),
            screen_filters: settings::screen_filter_cache(),
            events: events::EventFeed::default(),
            clock: Arc::new(unix_now),
        }
    }

    /// Replaces the clock, for tests.
    pub fn with_clock(mut self, clock: Clock) -> Self {
        self.clock = clock;
        self
    }

    pub fn config(&self) -> &DeviceConfig {
        &self.config
    }

    fn now(&self) -> i64 {
        (self.clock)()
    }

    /// Returns whether the device has an open WebSocket on this server.
    pub fn is_live(&self, device_id: &DeviceId) -> bool {
        self.hub.is_live(device_id)
    }

    fn auto_admits(&self, ip: IpAddr) -> bool {
        self.config
            .auto_admit
            .iter()
            .any(|network| network.contains(&ip))
    }

    /// Starts the background task that writes presence in batches, fails commands whose ack is
    /// overdue, flags frozen screens, expires commands and prunes pairing codes. The task ends
    /// when the service is dropped.
    pub fn start_background(self: &Arc<Self>) -> tokio::task::JoinHandle<()> {
        let weak: Weak<Self> = Arc::downgrade(self);
        let tick = self
            .config
            .flush_interval
            .min(self.config.ack_timeout / 2)
            .max(Duration::from_millis(50));
        tokio::spawn(async move {
            let mut ticker = tokio::time::interval(tick);
            ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            let mut last_flush = Instant::now();
            let mut last_expiry: Option<Instant> = None;
            loop {
                ticker.tick().await;
                let Some(service) = weak.upgrade() else {
                    debug!("device service dropped: background task stops");
                    return;
                };

                service.fail_overdue_acks().await;
                if last_flush.elapsed() >= service.config.flush_interval {
                    service.flush_presence().await;
                    service.recover_frozen().await;
                    last_flush = Instant::now();
                }
                if last_expiry.is_none_or(|at| at.elapsed() >= EXPIRY_INTERVAL) {
                    service.expire().await;
                    last_expiry = Some(Instant::now());
                }
            }
        })
    }

    /// Writes the presence gathered since the last flush in one batch.
    pub async fn flush_presence(&self) {
        let updates = self.presence.take_updates();
        if updates.is_empty() {
            return;
        }
        if let Err(error) = self.store.record_presence(&updates).await {
            warn!(%error, devices = updates.len(), "could not write device presence; retrying at the next flush");
            self.presence.restore_updates(&updates);
        }
    }

    /// Flags frozen screens and logs each freeze episode: a warning when it begins, a reminder
    /// at most every [`presence::FROZEN_REMINDER_INTERVAL`], and an info line when it ends.
    /// With `auto_recover_frozen`, sends `reload` when the episode begins and again on the
    /// back-off that [`PresenceBook::detect_frozen`] describes.
    async fn recover_frozen(&self) {
        let now = self.now();
        let auto_recover = self.config.auto_recover_frozen;
        for report in self.presence.detect_frozen(now, auto_recover) {
            let device_id = &report.device_id;
            let frozen_seconds = now.saturating_sub(report.since);
            if matches!(report.change, FreezeChange::Began | FreezeChange::Recovered) {
                self.events.changed(device_id);
            }
            match report.change {
                FreezeChange::Began => {
                    warn!(device.id = %device_id, auto_recover, "device looks frozen: the same item for three of its intervals");
                }
                FreezeChange::Reminder => {
                    warn!(device.id = %device_id, auto_recover, frozen_seconds, "device is still frozen: the same item since the first warning");
                }
                FreezeChange::Recovered => {
                    info!(device.id = %device_id, frozen_seconds, "frozen device recovered: it reported another item or a pause");
                }
                FreezeChange::Continues => {}
            }
            if !report.reload {
                continue;
            }
            match self.send_command(device_id, &Command::Reload).await {
                Ok(_) => {
                    info!(device.id = %device_id, frozen_seconds, "sent reload to a frozen device")
                }
                Err(error) => {
                    warn!(%error, device.id = %device_id, "could not send reload to a frozen device");
                }
            }
        }
    }

    async fn expire(&self) {
        let now = self.now();
        match self.store.expire_commands(now).await {
            Ok(0) => {}
            Ok(expired) => debug!(expired, "device commands expired"),
            Err(error) => warn!(%error, "could not expire device commands"),
        }
        if let Err(error) = self.store.prune_pairing_codes(now).await {
            warn!(%error, "could not prune expired pairing codes");
        }
    }
}

/// Parses `device_auto_admit` entries: CIDR ranges such as `192.168.1.0/24` or single
/// addresses such as `10.0.0.7`.
pub fn parse_networks<S: AsRef<str>>(entries: &[S]) -> Result<Vec<IpNet>, FieldError> {
    entries
        .iter()
        .map(|entry| {
            let entry = entry.as_ref().trim();
            entry
                .parse::<IpNet>()
                .or_else(|_| entry.parse::<IpAddr>().map(IpNet::from))
                .map_err(|_| {
                    FieldError::new(
                        "device_auto_admit",
                        format!(
                            "{entry:?} is not an IP address or a CIDR range such as 192.168.1.0/24 or 10.0.0.7"
                        ),
                    )
                })
        })
        .collect()
}

/// Returns the wall clock in unix milliseconds, for `server_time_ms`.
fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |elapsed| {
            i64::try_from(elapsed.as_millis()).unwrap_or(i64::MAX)
        })
}
