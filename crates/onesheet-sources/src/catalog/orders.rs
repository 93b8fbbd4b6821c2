//! Display orders for filters other than the global one, for screens whose profile, group,
//! own settings or time-of-day rules give them another filter.
//!
//! An order is computed from a snapshot's items and source weights with the same weighted
//! shuffle as the snapshot's own order, and cached by snapshot revision and filter. A fleet
//! of screens with a few distinct filters therefore costs a few computations per revision,
//! not one per request.

use std::sync::Arc;
use std::time::Duration;

use moka::sync::Cache;
use onesheet_domain::{CatalogFilter, CompiledFilter};

use super::{Snapshot, now_unix, order_by_weight};

/// Memory the cached orders may use, in bytes of positions: about 160 orders of a
/// 25,000-item catalog.
const ORDER_CACHE_BYTES: u64 = 16 * 1024 * 1024;

/// Time after which an unused order is dropped, so the orders of past revisions do not wait
/// for the size limit.
const ORDER_IDLE: Duration = Duration::from_secs(5 * 60);

/// The display order of one snapshot's items that pass one filter.
#[derive(Debug)]
pub struct FilteredOrder {
    /// Unique among the revisions of snapshots and filtered orders of one catalog, so pages
    /// rendered from this order can be cached under it as under a snapshot revision.
    pub revision: u64,
    /// Positions in the snapshot's `items`, as in [`Snapshot::order`].
    pub order: Vec<u32>,
}

/// Cached orders by snapshot revision and filter. The filter is keyed by its `Debug` text,
/// which names every field's value, so two filters share an entry only when they are equal.
pub(super) struct OrderCache(Cache<(u64, String), Arc<FilteredOrder>>);

pub(super) fn order_cache() -> OrderCache {
    OrderCache(
        Cache::builder()
            .max_capacity(ORDER_CACHE_BYTES)
            .weigher(|_key, order: &Arc<FilteredOrder>| {
                u32::try_from(order.order.len() * size_of::<u32>()).unwrap_or(u32::MAX)
            })
            .time_to_idle(ORDER_IDLE)
            .build(),
    )
}

impl OrderCache {
    /// Returns the cached order of `snapshot` for `filter`, computing it on a miss with a
    /// revision from `next_revision`. Concurrent misses for one key compute it once.
    pub(super) fn get_or_compute(
        &self,
        snapshot: &Snapshot,
        filter: &CatalogFilter,
        next_revision: impl FnOnce() -> u64,
    ) -> Arc<FilteredOrder> {
        let key = (snapshot.revision, format!("{filter:?}"));
        self.0.get_with(key, || {
            Arc::new(FilteredOrder {
                revision: next_revision(),
                order: snapshot.order_for(&filter.compile(), now_unix()),
            })
        })
    }
}

impl Snapshot {
    /// Returns the positions of the items that pass `filter`, in the weighted shuffle of this
    /// generation by each item's source weight. `now_unix` is the time against which
    /// `added_within_days` counts.
    pub fn order_for(&self, filter: &CompiledFilter, now_unix: i64) -> Vec<u32> {
        let weights: Vec<f32> = self
            .items
            .iter()
            .enumerate()
            .map(|(position, item)| {
                if filter.matches(item, now_unix) {
                    self.source_weights.get(position).copied().unwrap_or(1.0)
                } else {
                    0.0
                }
            })
            .collect();
        order_by_weight(&weights, self.items.len(), self.generation)
    }
}
