//! What the server heard from each device recently, kept in memory and written to the store in
//! batches.
//!
//! A screen answers a ping every 25 s and reports its status at every item change, so a fleet
//! of a thousand screens would cost dozens of writes a second if each were written at once.
//! The book marks an entry dirty instead, and the background task hands every dirty entry to
//! `Store::record_presence` in one transaction every few seconds. After a restart the stored
//! `last_seen_at` and status are back, and only the live sockets are lost.

use std::collections::HashMap;
use std::sync::Mutex;

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
    frozen: bool,
    dirty: bool,
}

/// The in-memory presence of one device, for the admin API.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LiveState {
    pub last_heard_at: i64,
    pub connected: bool,
    pub transport: Transport,
    pub frozen: bool,
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
            frozen: false,
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

    /// Clears the connection if it is still the one of `generation`.
    pub(crate) fn disconnected(&self, device_id: &DeviceId, generation: u64) {
        let mut entries = lock(&self.entries);
        if let Some(entry) = entries.get_mut(device_id)
            && entry.connection == Some(generation)
        {
            entry.connection = None;
            entry.frozen = false;
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
                entry.frozen = false;
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
            frozen: entry.frozen,
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
    /// and returns those flagged by this call.
    ///
    /// NOTE: a screen pinned to an item by a `pin` command keeps it on purpose but is flagged
    /// too, because its status does not say that it is pinned.
    pub(crate) fn detect_frozen(&self, now: i64) -> Vec<DeviceId> {
        let mut entries = lock(&self.entries);
        let mut newly_frozen = Vec::new();
        for (device_id, entry) in entries.iter_mut() {
            let Some(status) = &entry.status else {
                continue;
            };
            let candidate = entry.connection.is_some()
                && entry.transport == Transport::WebSocket
                && !status.paused
                && entry.interval_seconds > 0;
            if candidate
                && !entry.frozen
                && is_frozen(entry.item_changed_at, entry.interval_seconds, now)
            {
                entry.frozen = true;
                newly_frozen.push(device_id.clone());
            }
        }
        newly_frozen
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

    #[test]
    fn frozen_after_three_intervals_without_change() {
        let book = PresenceBook::default();
        let device: DeviceId = "screen".parse().unwrap();
        let item = "plex-0123456789abcdef";
        book.connected(&device, Some(1), Transport::WebSocket, None, None, 1_000);
        book.set_interval(&device, 10);
        book.status(&device, status(item), 1_000);

        book.status(&device, status(item), 1_020);
        assert!(book.detect_frozen(1_029).is_empty());
        assert_eq!(book.detect_frozen(1_030), vec![device.clone()]);
        assert!(book.detect_frozen(1_040).is_empty(), "flagged once");

        book.status(&device, status("plex-1123456789abcdef"), 1_041);
        assert!(!book.live_state(&device).unwrap().frozen);
    }
}
