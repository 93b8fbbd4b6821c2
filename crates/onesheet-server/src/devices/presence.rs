//! What the server heard from each device recently, kept in memory and written to the store in
//! batches.
//!
//! A screen replies to a ping every 25 s and reports its status at every item change, so a fleet
//! of a thousand screens would cost dozens of writes a second if each were written at once.
//! The book marks an entry dirty instead, and the background task hands every dirty entry to
//! `Store::record_presence` in one transaction every few seconds. After a restart the stored
//! `last_seen_at` and status are back, and only the live sockets are lost.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

use onesheet_domain::device::presence::is_frozen;
use onesheet_domain::{DeviceId, DeviceStatus};
use onesheet_store::PresenceUpdate;
use serde::Serialize;

/// The transport that carries a device's connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Transport {
    #[serde(rename = "websocket")]
    WebSocket,
    /// HTTP long-polling, used when something between screen and server strips the WebSocket
    /// `Upgrade` header.
    LongPoll,
}

#[derive(Debug, Clone)]
struct Entry {
    /// Unix seconds of the last pong, message or poll.
    last_heard: i64,
    /// Generation of the open socket, or `None` without one.
    connection: Option<u64>,
    transport: Transport,
    address: Option<String>,
    user_agent: Option<String>,
    status: Option<DeviceStatus>,
    /// Unix seconds when the reported item or pause state last changed.
    item_changed_at: i64,
    /// The device's merged screensaver interval, for the frozen rule.
    interval_seconds: u32,
    freeze: Option<FreezeEpisode>,
    /// Start of a freeze episode that ended and is not yet reported, in unix seconds.
    ended_freeze: Option<i64>,
    dirty: bool,
}

/// Time between warnings about a screen that stays frozen.
pub(crate) const FROZEN_REMINDER_INTERVAL: Duration = Duration::from_secs(60 * 60);

/// Time after the first `reload` of a freeze episode before a second one. Each further
/// `reload` waits twice as long as the one before, up to [`RELOAD_RETRY_MAX`].
pub(crate) const RELOAD_RETRY_FIRST: Duration = Duration::from_secs(30 * 60);

/// Maximum time between two `reload` commands of one freeze episode.
pub(crate) const RELOAD_RETRY_MAX: Duration = Duration::from_secs(6 * 60 * 60);

/// The time from the frozen rule flagging a screen until the screen reports another item or a
/// pause. An episode lasts through disconnects and reconnects, so a screen that shows the same
/// item again after a reload is warned about and reloaded on the episode's schedule, not anew.
#[derive(Debug, Clone)]
struct FreezeEpisode {
    /// Unix seconds when the rule flagged the screen.
    since: i64,
    /// Unix seconds of the last warning about the episode.
    warned_at: i64,
    /// Unix seconds of the last `reload` sent in the episode.
    reloaded_at: Option<i64>,
    /// `reload` commands sent in the episode.
    reloads: u32,
}

impl FreezeEpisode {
    fn reload_due(&self, now: i64) -> bool {
        let Some(reloaded_at) = self.reloaded_at else {
            return true;
        };
        let doublings = self.reloads.saturating_sub(1).min(16);
        let wait = RELOAD_RETRY_FIRST
            .saturating_mul(1 << doublings)
            .min(RELOAD_RETRY_MAX);
        now.saturating_sub(reloaded_at) >= seconds(wait)
    }
}

fn seconds(duration: Duration) -> i64 {
    i64::try_from(duration.as_secs()).unwrap_or(i64::MAX)
}

/// The outcome of a frozen check for one device.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum FreezeChange {
    /// The rule flagged the screen, and a freeze episode began.
    Began,
    /// The screen is still frozen, and the last warning is at least [`FROZEN_REMINDER_INTERVAL`]
    /// old.
    Reminder,
    /// The screen is still frozen, and nothing is to be logged.
    Continues,
    /// The screen reported another item or a pause, which ended the episode.
    Recovered,
}

/// One device's result of [`PresenceBook::detect_frozen`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct FreezeReport {
    pub device_id: DeviceId,
    pub change: FreezeChange,
    /// Unix seconds when the episode began.
    pub since: i64,
    /// Whether a `reload` is due now. The book counts it as sent.
    pub reload: bool,
}

/// The in-memory presence of one device, for the admin API.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LiveState {
    pub last_heard_at: i64,
    pub connected: bool,
    pub transport: Transport,
    pub frozen: bool,
    /// The status the screen reported last, which reaches the store only at the next flush.
    #[serde(skip)]
    pub status: Option<DeviceStatus>,
}

#[derive(Default)]
pub(crate) struct PresenceBook {
    entries: Mutex<HashMap<DeviceId, Entry>>,
}

impl PresenceBook {
    /// Records a new connection of `generation`, over `transport`.
    pub(crate) fn connected(
        &self,
        device_id: &DeviceId,
        generation: Option<u64>,
        transport: Transport,
        address: Option<String>,
        user_agent: Option<String>,
        now: i64,
    ) {
        let mut entries = lock(&self.entries);
        let entry = entries.entry(device_id.clone()).or_insert_with(|| Entry {
            last_heard: now,
            connection: None,
            transport,
            address: None,
            user_agent: None,
            status: None,
            item_changed_at: now,
            interval_seconds: 0,
            freeze: None,
            ended_freeze: None,
            dirty: true,
        });
        entry.last_heard = entry.last_heard.max(now);
        if generation.is_some() {
            entry.connection = generation;
        }
        entry.transport = transport;
        entry.address = address.or(entry.address.take());
        entry.user_agent = user_agent.or(entry.user_agent.take());
        entry.dirty = true;
    }

    /// Clears the connection if it is still the one of `generation`. A freeze episode stays,
    /// so a screen that reconnects with the same item is not flagged again.
    pub(crate) fn disconnected(&self, device_id: &DeviceId, generation: u64) {
        let mut entries = lock(&self.entries);
        if let Some(entry) = entries.get_mut(device_id)
            && entry.connection == Some(generation)
        {
            entry.connection = None;
        }
    }

    pub(crate) fn heard(&self, device_id: &DeviceId, now: i64) {
        if let Some(entry) = lock(&self.entries).get_mut(device_id) {
            entry.last_heard = entry.last_heard.max(now);
            entry.dirty = true;
        }
    }

    pub(crate) fn status(&self, device_id: &DeviceId, status: DeviceStatus, now: i64) {
        if let Some(entry) = lock(&self.entries).get_mut(device_id) {
            let changed = entry.status.as_ref().is_none_or(|old| {
                old.current_item_id != status.current_item_id || old.paused != status.paused
            });
            if changed {
                entry.item_changed_at = now;
                if let Some(episode) = entry.freeze.take() {
                    entry.ended_freeze = Some(episode.since);
                }
            }
            entry.last_heard = entry.last_heard.max(now);
            entry.status = Some(status);
            entry.dirty = true;
        }
    }

    pub(crate) fn set_interval(&self, device_id: &DeviceId, interval_seconds: u32) {
        if let Some(entry) = lock(&self.entries).get_mut(device_id) {
            entry.interval_seconds = interval_seconds;
        }
    }

    pub(crate) fn forget(&self, device_id: &DeviceId) {
        lock(&self.entries).remove(device_id);
    }

    pub(crate) fn live_state(&self, device_id: &DeviceId) -> Option<LiveState> {
        lock(&self.entries).get(device_id).map(|entry| LiveState {
            last_heard_at: entry.last_heard,
            connected: entry.connection.is_some(),
            transport: entry.transport,
            frozen: entry.freeze.is_some(),
            status: entry.status.clone(),
        })
    }

    /// Takes the updates gathered since the last call, clearing their dirty marks.
    pub(crate) fn take_updates(&self) -> Vec<PresenceUpdate> {
        let mut entries = lock(&self.entries);
        entries
            .iter_mut()
            .filter(|(_, entry)| entry.dirty)
            .map(|(device_id, entry)| {
                entry.dirty = false;
                PresenceUpdate {
                    device_id: device_id.clone(),
                    seen_at: entry.last_heard,
                    address: entry.address.clone(),
                    user_agent: entry.user_agent.clone(),
                    status: entry.status.clone(),
                }
            })
            .collect()
    }

    /// Puts updates back after a failed write, so the next flush retries them. Entries that
    /// changed meanwhile are dirty anyway and carry newer values.
    pub(crate) fn restore_updates(&self, updates: &[PresenceUpdate]) {
        let mut entries = lock(&self.entries);
        for update in updates {
            if let Some(entry) = entries.get_mut(&update.device_id) {
                entry.dirty = true;
            }
        }
    }

    /// Flags connected, unpaused screens that have shown one item for three of their intervals,
    /// and reports each device whose freeze episode began, ended, is due a reminder or, with
    /// `auto_reload`, is due a `reload`. Devices with nothing new are left out.
    ///
    /// The first `reload` of an episode is due when it begins, and each further one after the
    /// back-off of [`RELOAD_RETRY_FIRST`] doubling up to [`RELOAD_RETRY_MAX`].
    ///
    /// NOTE: a screen pinned to an item by a `pin` command keeps it on purpose but is flagged
    /// too, because its status does not say that it is pinned.
    pub(crate) fn detect_frozen(&self, now: i64, auto_reload: bool) -> Vec<FreezeReport> {
        let mut entries = lock(&self.entries);
        let mut reports = Vec::new();
        for (device_id, entry) in entries.iter_mut() {
            if let Some(since) = entry.ended_freeze.take() {
                reports.push(FreezeReport {
                    device_id: device_id.clone(),
                    change: FreezeChange::Recovered,
                    since,
                    reload: false,
                });
            }
            let Some(status) = &entry.status else {
                continue;
            };
            let candidate = entry.connection.is_some()
                && entry.transport == Transport::WebSocket
                && !status.paused
                && entry.interval_seconds > 0;
            if !candidate {
                continue;
            }

            let change = match &mut entry.freeze {
                Some(episode) => {
                    if now.saturating_sub(episode.warned_at) >= seconds(FROZEN_REMINDER_INTERVAL) {
                        episode.warned_at = now;
                        FreezeChange::Reminder
                    } else {
                        FreezeChange::Continues
                    }
                }
                None if is_frozen(entry.item_changed_at, entry.interval_seconds, now) => {
                    entry.freeze = Some(FreezeEpisode {
                        since: now,
                        warned_at: now,
                        reloaded_at: None,
                        reloads: 0,
                    });
                    FreezeChange::Began
                }
                None => continue,
            };
            let Some(episode) = &mut entry.freeze else {
                continue;
            };
            let reload = auto_reload && episode.reload_due(now);
            if reload {
                episode.reloaded_at = Some(now);
                episode.reloads = episode.reloads.saturating_add(1);
            }
            if change != FreezeChange::Continues || reload {
                reports.push(FreezeReport {
                    device_id: device_id.clone(),
                    change,
                    since: episode.since,
                    reload,
                });
            }
        }
        reports
    }
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use onesheet_domain::DisplayMode;
    use onesheet_domain::device::ScreenSize;

    use super::*;

    fn status(item: &str) -> DeviceStatus {
        DeviceStatus {
            current_item_id: Some(item.parse().unwrap()),
            mode: DisplayMode::Screensaver,
            paused: false,
            resolution: ScreenSize {
                width: 1920,
                height: 1080,
            },
            version: "1".to_owned(),
            uptime_seconds: 5,
        }
    }

    #[test]
    fn updates_are_taken_once() {
        let book = PresenceBook::default();
        let device: DeviceId = "screen".parse().unwrap();
        book.connected(&device, Some(1), Transport::WebSocket, None, None, 100);
        book.heard(&device, 125);

        let updates = book.take_updates();
        assert_eq!(updates.len(), 1);
        assert_eq!(updates[0].seen_at, 125);
        assert!(book.take_updates().is_empty());
    }

    #[test]
    fn stale_disconnect_keeps_new_connection() {
        let book = PresenceBook::default();
        let device: DeviceId = "screen".parse().unwrap();
        book.connected(&device, Some(1), Transport::WebSocket, None, None, 100);
        book.connected(&device, Some(2), Transport::WebSocket, None, None, 101);
        book.disconnected(&device, 1);

        assert!(book.live_state(&device).unwrap().connected);
        book.disconnected(&device, 2);
        assert!(!book.live_state(&device).unwrap().connected);
    }

    /// Returns a book with one connected screen that has a 10 s interval and reported `item` at
    /// unix second 1,000.
    fn showing(item: &str) -> (PresenceBook, DeviceId) {
        let book = PresenceBook::default();
        let device: DeviceId = "screen".parse().unwrap();
        book.connected(&device, Some(1), Transport::WebSocket, None, None, 1_000);
        book.set_interval(&device, 10);
        book.status(&device, status(item), 1_000);
        (book, device)
    }

    fn changes(reports: &[FreezeReport]) -> Vec<(FreezeChange, bool)> {
        reports
            .iter()
            .map(|report| (report.change, report.reload))
            .collect()
    }

    const ITEM: &str = "plex-0123456789abcdef";
    const OTHER_ITEM: &str = "plex-1123456789abcdef";

    #[test]
    fn frozen_after_three_intervals_without_change() {
        let (book, device) = showing(ITEM);

        book.status(&device, status(ITEM), 1_020);
        assert!(book.detect_frozen(1_029, false).is_empty());
        let reports = book.detect_frozen(1_030, false);
        assert_eq!(reports.len(), 1);
        assert_eq!(reports[0].device_id, device);
        assert_eq!(reports[0].since, 1_030);
        assert_eq!(changes(&reports), vec![(FreezeChange::Began, false)]);
        assert!(book.live_state(&device).unwrap().frozen);
    }

    #[test]
    fn frozen_warning_repeats_hourly_only() {
        let (book, _) = showing(ITEM);
        let began = 1_030;
        assert_eq!(
            changes(&book.detect_frozen(began, false)),
            vec![(FreezeChange::Began, false)]
        );

        let hour = seconds(FROZEN_REMINDER_INTERVAL);
        for now in (began + 5..began + hour).step_by(5) {
            assert!(book.detect_frozen(now, false).is_empty(), "at {now}");
        }
        assert_eq!(
            changes(&book.detect_frozen(began + hour, false)),
            vec![(FreezeChange::Reminder, false)]
        );
        assert!(book.detect_frozen(began + hour + 5, false).is_empty());
    }

    #[test]
    fn frozen_episode_survives_reconnect() {
        let (book, device) = showing(ITEM);
        assert_eq!(book.detect_frozen(1_030, false).len(), 1);

        book.disconnected(&device, 1);
        assert!(book.detect_frozen(1_035, false).is_empty());
        book.connected(&device, Some(2), Transport::WebSocket, None, None, 1_040);
        book.status(&device, status(ITEM), 1_041);

        assert!(book.detect_frozen(1_045, false).is_empty());
        assert!(book.live_state(&device).unwrap().frozen);
    }

    #[test]
    fn new_item_reports_recovery_once() {
        let (book, device) = showing(ITEM);
        assert_eq!(book.detect_frozen(1_030, false).len(), 1);

        book.status(&device, status(OTHER_ITEM), 1_041);
        assert!(!book.live_state(&device).unwrap().frozen);
        let reports = book.detect_frozen(1_045, false);
        assert_eq!(changes(&reports), vec![(FreezeChange::Recovered, false)]);
        assert_eq!(reports[0].since, 1_030);
        assert!(book.detect_frozen(1_050, false).is_empty());
    }

    #[test]
    fn reload_backs_off_within_episode() {
        let (book, device) = showing(ITEM);
        let began = 1_030;
        assert_eq!(
            changes(&book.detect_frozen(began, true)),
            vec![(FreezeChange::Began, true)]
        );

        // The reloaded screen reconnects and shows the same item again.
        book.disconnected(&device, 1);
        book.connected(
            &device,
            Some(2),
            Transport::WebSocket,
            None,
            None,
            began + 10,
        );
        book.status(&device, status(ITEM), began + 11);
        let first_retry = seconds(RELOAD_RETRY_FIRST);
        for now in (began + 5..began + first_retry).step_by(5) {
            assert!(book.detect_frozen(now, true).is_empty(), "at {now}");
        }
        assert_eq!(
            changes(&book.detect_frozen(began + first_retry, true)),
            vec![(FreezeChange::Continues, true)]
        );

        // The second retry waits twice as long.
        let second = began + first_retry;
        let early = book.detect_frozen(second + first_retry, true);
        assert!(early.iter().all(|report| !report.reload), "{early:?}");
        let reports = book.detect_frozen(second + 2 * first_retry, true);
        assert!(reports.iter().all(|report| report.reload), "{reports:?}");
        assert_eq!(reports.len(), 1);

        // The wait stops growing at the maximum.
        let mut episode = FreezeEpisode {
            since: 0,
            warned_at: 0,
            reloaded_at: Some(0),
            reloads: 40,
        };
        assert!(!episode.reload_due(seconds(RELOAD_RETRY_MAX) - 1));
        assert!(episode.reload_due(seconds(RELOAD_RETRY_MAX)));
        episode.reloaded_at = None;
        assert!(episode.reload_due(0));
    }

    #[test]
    fn paused_screen_is_not_flagged() {
        let book = PresenceBook::default();
        let device: DeviceId = "screen".parse().unwrap();
        book.connected(&device, Some(1), Transport::WebSocket, None, None, 1_000);
        book.set_interval(&device, 10);
        let mut paused = status(ITEM);
        paused.paused = true;
        book.status(&device, paused, 1_000);

        assert!(book.detect_frozen(5_000, true).is_empty());
    }
}
