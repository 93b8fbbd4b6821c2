//! Admission to the blocking threads that decode and resize.
//!
//! Tokio's blocking pool grows to hundreds of threads, so without a bound a burst of cold
//! requests would decode hundreds of posters at once and multiply peak memory. A semaphore
//! holds derivations to one per worker, and a counter bounds how many may wait: past it a
//! request is turned away at once with an estimate of when to retry, instead of queueing for
//! longer than any screen would wait.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::Duration;

use serde::Serialize;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

pub struct WorkPool {
    permits: Arc<Semaphore>,
    workers: usize,
    queue: usize,
    waiting: AtomicUsize,
    rejected: AtomicU64,
}

/// The queue is full; retry after the given estimate.
#[derive(Debug, Clone, Copy)]
pub struct Busy {
    pub retry_after_seconds: u32,
}

#[derive(Debug, Clone, Serialize)]
pub struct PoolStats {
    pub workers: usize,
    pub active: usize,
    pub queue: usize,
    pub waiting: usize,
    pub rejected: u64,
}

/// Longest Retry-After suggested; beyond it the estimate says little.
const MAX_RETRY_AFTER_SECONDS: u32 = 60;

impl WorkPool {
    /// `workers` derivations at once (at least one), and up to `queue` waiting.
    pub fn new(workers: usize, queue: usize) -> Self {
        let workers = workers.max(1);
        Self {
            permits: Arc::new(Semaphore::new(workers)),
            workers,
            queue,
            waiting: AtomicUsize::new(0),
            rejected: AtomicU64::new(0),
        }
    }

    /// Waits for a worker, or returns [`Busy`] at once when the queue is full. `mean` is the
    /// mean time of one job, for the retry estimate.
    pub async fn acquire(&self, mean: Duration) -> Result<OwnedSemaphorePermit, Busy> {
        if let Ok(permit) = Arc::clone(&self.permits).try_acquire_owned() {
            return Ok(permit);
        }

        let ahead = self.waiting.fetch_add(1, Ordering::SeqCst);
        let _waiting = WaitingGuard(&self.waiting);
        let busy = Busy {
            retry_after_seconds: self.retry_after(ahead, mean),
        };
        if ahead >= self.queue {
            self.rejected.fetch_add(1, Ordering::Relaxed);
            return Err(busy);
        }
        // The semaphore is never closed, so an error here cannot happen; busy is the safe answer.
        Arc::clone(&self.permits)
            .acquire_owned()
            .await
            .map_err(|_closed| busy)
    }

    pub fn stats(&self) -> PoolStats {
        PoolStats {
            workers: self.workers,
            active: self.workers - self.permits.available_permits().min(self.workers),
            queue: self.queue,
            waiting: self.waiting.load(Ordering::Relaxed),
            rejected: self.rejected.load(Ordering::Relaxed),
        }
    }

    /// Time for the jobs ahead to drain across all workers, rounded up to whole seconds.
    fn retry_after(&self, ahead: usize, mean: Duration) -> u32 {
        let jobs = u32::try_from(ahead + 1).unwrap_or(u32::MAX);
        let workers = u32::try_from(self.workers).unwrap_or(1);
        let drain = mean.saturating_mul(jobs) / workers;
        let seconds = u32::try_from(drain.as_secs()).unwrap_or(u32::MAX);
        let seconds = if drain.subsec_nanos() > 0 {
            seconds.saturating_add(1)
        } else {
            seconds
        };
        seconds.clamp(1, MAX_RETRY_AFTER_SECONDS)
    }
}

/// Takes a waiter off the count however the wait ends, including cancellation.
struct WaitingGuard<'a>(&'a AtomicUsize);

impl Drop for WaitingGuard<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn full_queue_is_rejected_with_retry_estimate() {
        let pool = Arc::new(WorkPool::new(1, 1));
        let held = pool.acquire(Duration::from_millis(10)).await.unwrap();

        let waiter = {
            let pool = Arc::clone(&pool);
            tokio::spawn(async move { pool.acquire(Duration::from_millis(10)).await.is_ok() })
        };
        while pool.stats().waiting == 0 {
            tokio::task::yield_now().await;
        }

        let busy = pool.acquire(Duration::from_secs(3)).await.unwrap_err();
        assert_eq!(busy.retry_after_seconds, 6);
        assert_eq!(pool.stats().rejected, 1);

        drop(held);
        assert!(waiter.await.unwrap());
        assert_eq!(pool.stats().waiting, 0);
    }

    #[tokio::test]
    async fn cancelled_waiter_leaves_the_queue() {
        let pool = Arc::new(WorkPool::new(1, 4));
        let _held = pool.acquire(Duration::ZERO).await.unwrap();
        let wait = tokio::time::timeout(Duration::from_millis(20), pool.acquire(Duration::ZERO));
        assert!(wait.await.is_err());
        assert_eq!(pool.stats().waiting, 0);
        assert_eq!(pool.stats().active, 1);
    }

    #[test]
    fn retry_after_is_clamped() {
        let pool = WorkPool::new(2, 8);
        assert_eq!(pool.retry_after(0, Duration::ZERO), 1);
        assert_eq!(pool.retry_after(3, Duration::from_millis(500)), 1);
        assert_eq!(pool.retry_after(1000, Duration::from_secs(10)), 60);
    }
}
