//! Synchronised groups: screens that show the same item and switch at the same moment.
//!
//! Time since the group's anchor is cut into slots of one interval each, and slot `n` shows
//! the item at position `n mod len` of the shared playlist order. A screen reads the slot for
//! the current server time, so its switch moments depend on the server clock and not on when
//! the page loaded. The anchor is the group's creation time, which never changes, and the
//! interval is the one of the group's merged settings, so every member computes the same slot.
//! A change of interval moves every member to another slot at once, because each one reads the
//! new interval from its next playlist page.

use std::sync::Arc;
use std::time::Duration;

use onesheet_domain::SettingsOverride;
use onesheet_domain::settings::overrides::merge;
use tracing::warn;

use super::DeviceService;

/// The clock of a synchronised group: where its slots start and how long each one lasts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Schedule {
    /// Start of slot 0, in unix milliseconds.
    pub anchor_ms: i64,
    /// Length of one slot, at least 1 ms.
    pub interval: Duration,
}

impl Schedule {
    /// Returns the slot running at `now_ms` (unix milliseconds). Before the anchor, which a
    /// server clock set back can cause, it returns slot 0.
    pub fn slot_at(&self, now_ms: i64) -> u64 {
        let interval = self.interval_ms();
        let elapsed = now_ms.saturating_sub(self.anchor_ms).max(0);
        // Both operands are positive here, so the division rounds down.
        (elapsed as u64) / interval
    }

    /// Returns the start of `slot` in unix milliseconds, saturating at `i64::MAX`.
    pub fn slot_start_ms(&self, slot: u64) -> i64 {
        let offset = slot.saturating_mul(self.interval_ms());
        self.anchor_ms
            .saturating_add(i64::try_from(offset).unwrap_or(i64::MAX))
    }

    /// Returns the position in a playlist of `len` items that `slot` shows, or None for an
    /// empty playlist.
    pub fn position(slot: u64, len: usize) -> Option<usize> {
        let len = u64::try_from(len).ok().filter(|len| *len > 0)?;
        usize::try_from(slot % len).ok()
    }

    /// Returns the slot length in milliseconds, at least 1.
    pub fn interval_ms(&self) -> u64 {
        u64::try_from(self.interval.as_millis())
            .unwrap_or(u64::MAX)
            .max(1)
    }
}

/// The fields of a synchronised group that a cached share keeps. The interval is read from the
/// live global settings at each request, so a change of the global interval needs no cache
/// flush.
#[derive(Debug, Clone)]
pub(super) struct SynchronisedGroup {
    pub anchor_ms: i64,
    pub overrides: Arc<SettingsOverride>,
}

impl DeviceService {
    /// Returns the schedule of a synchronised group: its anchor, and the interval of the global
    /// settings merged with the group's overrides. Profile and device overrides are left out,
    /// because members that differ in them must still share one interval. Overrides that no
    /// longer merge are logged and the global interval is used, as [`Self::settings_for`] does.
    pub(super) fn schedule_of(&self, group: &SynchronisedGroup) -> Schedule {
        let global = self.global.load();
        let seconds = match merge(&global.settings, &[group.overrides.as_ref()]) {
            Ok(settings) => settings.screensaver.interval_seconds,
            Err(errors) => {
                warn!(%errors, "the overrides of a synchronised group do not merge, so its screens use the global interval");
                global.settings.screensaver.interval_seconds
            }
        };
        Schedule {
            anchor_ms: group.anchor_ms,
            interval: Duration::from_secs(u64::from(seconds)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn schedule(anchor_ms: i64, interval_ms: u64) -> Schedule {
        Schedule {
            anchor_ms,
            interval: Duration::from_millis(interval_ms),
        }
    }

    #[test]
    fn slot_changes_at_each_boundary() {
        let schedule = schedule(1_000, 2_000);

        assert_eq!(schedule.slot_at(1_000), 0);
        assert_eq!(schedule.slot_at(2_999), 0);
        assert_eq!(schedule.slot_at(3_000), 1);
        assert_eq!(schedule.slot_at(21_000), 10);
    }

    #[test]
    fn slot_before_the_anchor_is_zero() {
        let schedule = schedule(10_000, 2_000);

        assert_eq!(schedule.slot_at(9_999), 0);
        assert_eq!(schedule.slot_at(i64::MIN), 0);
    }

    #[test]
    fn slot_start_inverts_slot_at() {
        let schedule = schedule(1_700_000_000_123, 7_000);

        for slot in [0, 1, 2, 1_000, 123_456] {
            let start = schedule.slot_start_ms(slot);
            assert_eq!(schedule.slot_at(start), slot, "start of slot {slot}");
            assert_eq!(schedule.slot_at(start - 1), slot.saturating_sub(1));
        }
    }

    #[test]
    fn position_wraps_around_the_playlist() {
        assert_eq!(Schedule::position(0, 3), Some(0));
        assert_eq!(Schedule::position(4, 3), Some(1));
        assert_eq!(Schedule::position(u64::MAX, 10), Some(5));
        assert_eq!(Schedule::position(4, 0), None);
    }

    #[test]
    fn zero_interval_counts_as_one_millisecond() {
        let schedule = schedule(0, 0);

        assert_eq!(schedule.interval_ms(), 1);
        assert_eq!(schedule.slot_at(5), 5);
    }

    #[test]
    fn far_slots_saturate() {
        let schedule = schedule(0, 1_000);

        assert_eq!(schedule.slot_start_ms(u64::MAX), i64::MAX);
        assert_eq!(schedule.slot_at(i64::MAX), i64::MAX as u64 / 1_000);
    }
}
