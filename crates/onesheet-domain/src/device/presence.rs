//! Presence: whether a screen is live, online or offline, derived from when the server last
//! heard from it, and the rule that flags a frozen screen.
//!
//! Presence is never stored. The server keeps the time of the last pong, heartbeat or status per
//! device and derives presence on request, so a screen that goes quiet turns offline
//! without any timer writing to the database.

use serde::{Deserialize, Serialize};

/// A screen that has not reported a new item for this many of its intervals is frozen.
pub const FROZEN_AFTER_INTERVALS: i64 = 3;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Presence {
    /// Has an open WebSocket and replied recently: commands reach it at once.
    Live,
    /// Heard from recently but has no WebSocket: it is reconnecting, or it polls over HTTP
    /// because something on the way blocks WebSocket upgrades. Commands wait in its queue.
    Online,
    /// Not heard from within [`PresenceWindows::online_seconds`], or never.
    Offline,
}

/// Maximum silence for each presence, in seconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct PresenceWindows {
    /// Maximum silence of a connected screen that still counts as live.
    pub live_seconds: i64,
    /// Maximum silence that still counts as online.
    pub online_seconds: i64,
}

impl Default for PresenceWindows {
    /// 60 s live: with a ping every 25 s, two missed pongs take 50 s, and 10 s more absorb a
    /// slow network. 300 s online: long enough for a reconnect with the longest backoff (30 s)
    /// several times over, or for a polling client's interval.
    fn default() -> Self {
        Self {
            live_seconds: 60,
            online_seconds: 300,
        }
    }
}

impl Presence {
    /// Derives a device's presence at `now` (unix seconds) from `last_heard_at` (unix seconds of
    /// the last pong, heartbeat or status) and whether it has an open WebSocket.
    ///
    /// A `last_heard_at` later than `now`, which happens when the clock steps back, counts as
    /// heard this second.
    pub fn derive(
        last_heard_at: Option<i64>,
        connected: bool,
        now: i64,
        windows: &PresenceWindows,
    ) -> Self {
        let Some(last_heard_at) = last_heard_at else {
            return Self::Offline;
        };
        let silence = now.saturating_sub(last_heard_at).max(0);

        if connected && silence < windows.live_seconds {
            Self::Live
        } else if silence < windows.online_seconds {
            Self::Online
        } else {
            Self::Offline
        }
    }
}

/// Returns whether a screen counts as frozen: it has shown the same item since `item_changed_at`
/// (unix seconds) for [`FROZEN_AFTER_INTERVALS`] times its `interval_seconds` or longer.
///
/// Apply the rule only to live screens that are neither paused nor pinned to an item, because
/// those keep one item on purpose.
pub fn is_frozen(item_changed_at: i64, interval_seconds: u32, now: i64) -> bool {
    let limit = i64::from(interval_seconds).saturating_mul(FROZEN_AFTER_INTERVALS);
    now.saturating_sub(item_changed_at) >= limit
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn presence_by_silence_and_socket() {
        let windows = PresenceWindows::default();
        let now = 10_000;
        let cases = [
            // (last heard, connected, expected)
            (None, true, Presence::Offline),
            (Some(now), true, Presence::Live),
            (Some(now - 59), true, Presence::Live),
            (Some(now - 60), true, Presence::Online),
            (Some(now), false, Presence::Online),
            (Some(now - 299), false, Presence::Online),
            (Some(now - 299), true, Presence::Online),
            (Some(now - 300), true, Presence::Offline),
            (Some(now - 300), false, Presence::Offline),
            (Some(now + 30), true, Presence::Live),
            (Some(i64::MIN), false, Presence::Offline),
        ];
        for (last_heard, connected, expected) in cases {
            assert_eq!(
                Presence::derive(last_heard, connected, now, &windows),
                expected,
                "last heard {last_heard:?}, connected {connected}"
            );
        }
    }

    #[test]
    fn presence_serializes_in_snake_case() {
        assert_eq!(serde_json::to_string(&Presence::Live).unwrap(), r#""live""#);
        assert_eq!(
            serde_json::to_string(&Presence::Offline).unwrap(),
            r#""offline""#
        );
    }

    #[test]
    fn frozen_after_three_intervals() {
        assert!(!is_frozen(1_000, 10, 1_029));
        assert!(is_frozen(1_000, 10, 1_030));
        assert!(!is_frozen(1_000, 10, 900), "clock stepped back");
        assert!(!is_frozen(0, u32::MAX, i64::from(u32::MAX)));
    }
}
