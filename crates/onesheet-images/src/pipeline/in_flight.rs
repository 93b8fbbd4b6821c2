//! The lookups in flight, one per variant, so every request for a variant waits on the same
//! lookup, including requests that come after an earlier one gave up at its deadline.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use tokio::sync::watch;

use super::{Outcome, Shared};
use crate::cache::disk::CacheKey;

/// A lookup that has not ended: the id of its task, and the channel its outcome is sent on.
struct InFlight {
    id: u64,
    outcome: watch::Receiver<Option<Outcome>>,
}

/// Lookups that have not ended, by variant. The lock is held only for one map operation at a
/// time, never across an await.
#[derive(Default)]
pub(super) struct InFlightLookups {
    lookups: Mutex<HashMap<CacheKey, InFlight>>,
    next_id: AtomicU64,
}

/// Result of [`InFlightLookups::join_or_insert`].
pub(super) enum Joined {
    /// A lookup of the variant is running; its outcome arrives on this channel.
    InFlight(watch::Receiver<Option<Outcome>>),
    /// No lookup was running, so one was registered. The caller starts it, sends its outcome
    /// on `sender`, and removes it with an [`InFlightGuard`] of the same `id`.
    Started {
        id: u64,
        sender: watch::Sender<Option<Outcome>>,
        outcome: watch::Receiver<Option<Outcome>>,
    },
}

impl InFlightLookups {
    /// Joins the lookup of `key` in flight, or registers a new one.
    pub(super) fn join_or_insert(&self, key: CacheKey) -> Joined {
        let mut lookups = self.lock();
        if let Some(lookup) = lookups.get(&key) {
            return Joined::InFlight(lookup.outcome.clone());
        }

        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let (sender, outcome) = watch::channel(None);
        lookups.insert(
            key,
            InFlight {
                id,
                outcome: outcome.clone(),
            },
        );
        Joined::Started {
            id,
            sender,
            outcome,
        }
    }

    /// Removes the lookup of `key` if it is still the one with `id`.
    fn remove(&self, key: &CacheKey, id: u64) {
        let mut lookups = self.lock();
        if lookups.get(key).is_some_and(|lookup| lookup.id == id) {
            lookups.remove(key);
        }
    }

    /// Locks the map, ignoring poisoning: every critical section is a single map operation, so
    /// a panic cannot leave it half-changed.
    fn lock(&self) -> MutexGuard<'_, HashMap<CacheKey, InFlight>> {
        self.lookups.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// Removes a lookup from the in-flight map when its task ends, however it ends, so a lookup
/// that panicked cannot leave later requests waiting on a channel that no task sends on.
pub(super) struct InFlightGuard {
    shared: Arc<Shared>,
    key: CacheKey,
    id: u64,
}

impl InFlightGuard {
    pub(super) fn new(shared: Arc<Shared>, key: CacheKey, id: u64) -> Self {
        Self { shared, key, id }
    }
}

impl Drop for InFlightGuard {
    fn drop(&mut self) {
        self.shared.in_flight.remove(&self.key, self.id);
    }
}
