//! Coalescing of identical requests that are in flight at the same time.
//!
//! A catalog refresh and a burst of screens asking for the same poster send the same GET many
//! times at once. The first caller starts the request; later callers with the same key await
//! the same shared future and get a clone of its result. The map keeps only a weak handle, so
//! when every caller has given up the request is dropped (and its connection slot freed)
//! instead of running on with no caller waiting. A guard inside the future removes the entry when the
//! future completes or is dropped, so the next identical request starts afresh.

use std::collections::HashMap;
use std::hash::Hash;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError, Weak};

use futures::FutureExt;
use futures::future::{BoxFuture, Shared, WeakShared};

type SharedFuture<V> = Shared<BoxFuture<'static, V>>;

pub(crate) struct InFlight<K, V: Clone> {
    entries: Mutex<HashMap<K, Entry<V>>>,
    next_id: AtomicU64,
}

impl<K, V: Clone> std::fmt::Debug for InFlight<K, V> {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter.debug_struct("InFlight").finish_non_exhaustive()
    }
}

struct Entry<V: Clone> {
    id: u64,
    future: WeakShared<BoxFuture<'static, V>>,
}

impl<K, V> InFlight<K, V>
where
    K: Eq + Hash + Clone + Send + Sync + 'static,
    V: Clone + Send + Sync + 'static,
{
    pub(crate) fn new() -> Self {
        Self {
            entries: Mutex::new(HashMap::new()),
            next_id: AtomicU64::new(0),
        }
    }

    /// Returns the in-flight future for `key`, starting it with `start` when there is none.
    /// The flag is true when the caller joined a request another caller started.
    pub(crate) fn join_or_start<F>(self: &Arc<Self>, key: K, start: F) -> (SharedFuture<V>, bool)
    where
        F: FnOnce() -> BoxFuture<'static, V>,
    {
        let mut entries = self.lock();
        if let Some(shared) = entries.get(&key).and_then(|entry| entry.future.upgrade()) {
            return (shared, true);
        }

        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let guard = RemoveOnDrop {
            map: Arc::downgrade(self),
            key: key.clone(),
            id,
        };
        let inner = start();
        let future = async move {
            let _guard = guard;
            inner.await
        }
        .boxed()
        .shared();

        // `downgrade` is `None` only for a future that already completed, and this one has
        // not been polled yet.
        if let Some(weak) = future.downgrade() {
            entries.insert(key, Entry { id, future: weak });
        }
        (future, false)
    }

    fn lock(&self) -> MutexGuard<'_, HashMap<K, Entry<V>>> {
        // The map holds only weak handles, so a poisoned map is still usable.
        self.entries.lock().unwrap_or_else(PoisonError::into_inner)
    }

    #[cfg(test)]
    fn len(&self) -> usize {
        self.lock().len()
    }
}

/// Removes its own entry, and not a newer one for the same key, when the request future ends.
struct RemoveOnDrop<K: Eq + Hash, V: Clone> {
    map: Weak<InFlight<K, V>>,
    key: K,
    id: u64,
}

impl<K: Eq + Hash, V: Clone> Drop for RemoveOnDrop<K, V> {
    fn drop(&mut self) {
        let Some(map) = self.map.upgrade() else {
            return;
        };
        // Never called with the lock held: `join_or_start` drops no strong future handle
        // while it holds the lock, and only the last strong handle drops this guard.
        let mut entries = map.entries.lock().unwrap_or_else(PoisonError::into_inner);
        if entries
            .get(&self.key)
            .is_some_and(|entry| entry.id == self.id)
        {
            entries.remove(&self.key);
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::AtomicUsize;
    use std::time::Duration;

    use super::*;

    #[tokio::test]
    async fn identical_keys_share_one_run() {
        let map: Arc<InFlight<&'static str, u32>> = Arc::new(InFlight::new());
        let runs = Arc::new(AtomicUsize::new(0));
        let start = |runs: Arc<AtomicUsize>| {
            move || {
                async move {
                    runs.fetch_add(1, Ordering::SeqCst);
                    tokio::time::sleep(Duration::from_millis(20)).await;
                    7
                }
                .boxed()
            }
        };

        let (first, first_joined) = map.join_or_start("a", start(runs.clone()));
        let (second, second_joined) = map.join_or_start("a", start(runs.clone()));
        let (other, _) = map.join_or_start("b", start(runs.clone()));

        assert!(!first_joined);
        assert!(second_joined);
        assert_eq!((first.await, second.await, other.await), (7, 7, 7));
        assert_eq!(runs.load(Ordering::SeqCst), 2);
        assert_eq!(map.len(), 0);
    }

    #[tokio::test]
    async fn abandoned_request_is_dropped_and_restarted() {
        let map: Arc<InFlight<&'static str, u32>> = Arc::new(InFlight::new());
        let dropped = Arc::new(AtomicUsize::new(0));

        struct Flag(Arc<AtomicUsize>);
        impl Drop for Flag {
            fn drop(&mut self) {
                self.0.fetch_add(1, Ordering::SeqCst);
            }
        }

        let flag = Flag(dropped.clone());
        let (pending, _) = map.join_or_start("a", move || {
            async move {
                let _flag = flag;
                futures::future::pending::<u32>().await
            }
            .boxed()
        });
        let timed_out = tokio::time::timeout(Duration::from_millis(10), pending).await;

        assert!(timed_out.is_err());
        assert_eq!(dropped.load(Ordering::SeqCst), 1);
        assert_eq!(map.len(), 0);
        let (fresh, joined) = map.join_or_start("a", || async { 3 }.boxed());
        assert!(!joined);
        assert_eq!(fresh.await, 3);
    }
}
