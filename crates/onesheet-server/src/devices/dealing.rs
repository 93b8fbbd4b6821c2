//! Distinct groups: screens side by side that never show the same item at the same moment.
//!
//! The group's members, ordered by id, each take one residue class of the shared playlist
//! order: with three members, the first shows positions 0, 3, 6 and so on, the second 1, 4, 7.
//! Their sequences share no item whatever their timing, so the screens need no clock
//! agreement. A member that is offline leaves its share unshown rather than reshuffling the
//! others.
//!
//! Synchronised groups are the other shared mode: their members get the whole order and a
//! schedule, see [`super::schedule`].

use std::sync::Arc;
use std::time::Duration;

use moka::sync::Cache;
use onesheet_domain::{DeviceId, GroupMode};
use tracing::warn;

use super::DeviceService;
use super::schedule::{Schedule, SynchronisedGroup};

/// How long a device's share is reused. Group changes reach the playlist within this time, and
/// a fleet's playlist requests cost no store query each.
const DEAL_CACHE_TTL: Duration = Duration::from_secs(10);

/// One device's share of a distinct group's playlist: positions `slot`, `slot + count`, ...
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Deal {
    pub slot: usize,
    pub count: usize,
}

impl Deal {
    /// The share of a screen outside any distinct group: every position.
    pub const WHOLE: Self = Self { slot: 0, count: 1 };

    /// Returns the number of positions of a playlist of `len` items in this share.
    pub fn len(&self, len: usize) -> usize {
        if self.slot >= len {
            return 0;
        }
        (len - self.slot).div_ceil(self.count)
    }

    /// Returns the playlist position of the `index`-th item of this share.
    pub fn position(&self, index: usize) -> usize {
        self.slot + index * self.count
    }
}

/// The part of the playlist order a screen shows, and for a synchronised group when it shows
/// each item.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Share {
    /// Positions of the order in turn: a distinct group's residue class, else every position.
    Dealt(Deal),
    /// Every position, one per slot of the group's schedule.
    Synchronised(Schedule),
}

impl Share {
    /// The share of a screen outside any shared group: every position, at its own pace.
    pub const WHOLE: Self = Self::Dealt(Deal::WHOLE);
}

/// A device's share as cached. A synchronised group keeps its overrides, so the interval
/// follows the global settings without a cache flush.
#[derive(Debug, Clone)]
pub(super) enum CachedShare {
    Dealt(Deal),
    Synchronised(SynchronisedGroup),
}

/// Cached shares, by device.
pub(super) type DealCache = Cache<DeviceId, CachedShare>;

pub(super) fn deal_cache() -> DealCache {
    Cache::builder()
        .max_capacity(100_000)
        .time_to_live(DEAL_CACHE_TTL)
        .build()
}

impl DeviceService {
    /// Returns the share of the playlist that `device` shows: its slot in its group when the
    /// group is distinct, the group's schedule when it is synchronised, else the whole
    /// playlist. A store failure falls back to the whole playlist, because a screen showing a
    /// duplicate is better than a blank one.
    pub async fn share(&self, device: &DeviceId) -> Share {
        let cached = match self.deals.get(device) {
            Some(cached) => cached,
            None => match self.compute_share(device).await {
                Ok(cached) => {
                    self.deals.insert(device.clone(), cached.clone());
                    cached
                }
                Err(error) => {
                    warn!(device.id = %device, %error, "cannot read the device's group; showing the whole playlist");
                    return Share::WHOLE;
                }
            },
        };
        match cached {
            CachedShare::Dealt(deal) => Share::Dealt(deal),
            CachedShare::Synchronised(group) => Share::Synchronised(self.schedule_of(&group)),
        }
    }

    /// Drops every cached share. Called before a change that may alter a group's members or
    /// mode, so the next playlist request deals again. A request dealt while the change is
    /// being written may keep the old share until it expires.
    pub(super) fn forget_deals(&self) {
        self.deals.invalidate_all();
    }

    async fn compute_share(
        &self,
        device: &DeviceId,
    ) -> Result<CachedShare, onesheet_store::StoreError> {
        const WHOLE: CachedShare = CachedShare::Dealt(Deal::WHOLE);
        let Some(record) = self.store.get_device(device).await? else {
            return Ok(WHOLE);
        };
        let Some(group_id) = record.group_id else {
            return Ok(WHOLE);
        };
        let Some(group) = self.store.get_group(group_id).await? else {
            return Ok(WHOLE);
        };
        match group.mode {
            GroupMode::Independent => return Ok(WHOLE),
            GroupMode::Synchronised => {
                return Ok(CachedShare::Synchronised(SynchronisedGroup {
                    anchor_ms: group.created_at.saturating_mul(1000),
                    overrides: Arc::new(group.overrides),
                }));
            }
            GroupMode::Distinct => {}
        }

        let mut members = self.active_device_ids(Some(group_id)).await?;
        members.sort();
        let slot = members.iter().position(|member| member == device);
        Ok(match slot {
            Some(slot) => CachedShare::Dealt(Deal {
                slot,
                count: members.len(),
            }),
            None => WHOLE,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shares_split_every_position_once() {
        let len = 10;
        let shares: Vec<Vec<usize>> = (0..3)
            .map(|slot| {
                let deal = Deal { slot, count: 3 };
                (0..deal.len(len))
                    .map(|index| deal.position(index))
                    .collect()
            })
            .collect();

        assert_eq!(shares[0], [0, 3, 6, 9]);
        assert_eq!(shares[1], [1, 4, 7]);
        assert_eq!(shares[2], [2, 5, 8]);
    }

    #[test]
    fn share_of_a_short_playlist_may_be_empty() {
        let deal = Deal { slot: 4, count: 5 };

        assert_eq!(deal.len(3), 0);
        assert_eq!(Deal::WHOLE.len(3), 3);
    }
}
