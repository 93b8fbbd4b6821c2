//! Request budgets per key, such as a client address or a device: a token bucket each, kept in a
//! bounded table that drops idle keys.
//!
//! Unlike [`FailureLimiter`](crate::security::FailureLimiter), which counts failures and never
//! refunds them until a success or a quiet hour, a budget refills with time. That suits requests
//! that are normal in moderation, such as new pairing codes or long polls.

use std::hash::Hash;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use moka::sync::Cache;

/// A budget of `burst` requests at once, refilled at `per_minute`.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Budget {
    pub burst: u32,
    pub per_minute: u32,
}

#[derive(Debug)]
struct Tokens {
    available: f64,
    updated: Instant,
}

/// Token buckets per key. Clones share the buckets.
#[derive(Clone)]
pub(crate) struct Quota<K> {
    budget: Budget,
    buckets: Cache<K, Arc<Mutex<Tokens>>>,
}

impl<K> std::fmt::Debug for Quota<K> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Quota")
            .field("budget", &self.budget)
            .field("keys", &self.buckets.entry_count())
            .finish()
    }
}

impl<K: Hash + Eq + Send + Sync + 'static> Quota<K> {
    /// Keeps at most `max_keys` buckets. A bucket idle long enough to refill completely is
    /// forgotten, which loses nothing because a new bucket starts full.
    pub(crate) fn new(budget: Budget, max_keys: u64) -> Self {
        let refill = Duration::from_secs_f64(
            60.0 * f64::from(budget.burst.max(1)) / f64::from(budget.per_minute.max(1)),
        );
        Self {
            budget,
            buckets: Cache::builder()
                .max_capacity(max_keys)
                .time_to_idle(refill)
                .build(),
        }
    }

    /// Takes one request from `key`'s budget. Returns the wait until the next token when the
    /// budget is spent.
    pub(crate) fn take(&self, key: K, now: Instant) -> Result<(), Duration> {
        let burst = f64::from(self.budget.burst.max(1));
        let per_second = f64::from(self.budget.per_minute.max(1)) / 60.0;
        let bucket = self.buckets.get_with(key, || {
            Arc::new(Mutex::new(Tokens {
                available: burst,
                updated: now,
            }))
        });
        let mut tokens = bucket.lock().unwrap_or_else(PoisonError::into_inner);
        let elapsed = now.saturating_duration_since(tokens.updated).as_secs_f64();
        tokens.available = (tokens.available + elapsed * per_second).min(burst);
        tokens.updated = now;
        if tokens.available >= 1.0 {
            tokens.available -= 1.0;
            return Ok(());
        }
        Err(Duration::from_secs_f64(
            (1.0 - tokens.available) / per_second,
        ))
    }
}

/// Whole seconds for `Retry-After`, rounded up and at least one.
pub(crate) fn retry_after_seconds(wait: Duration) -> u32 {
    let seconds = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
    u32::try_from(seconds.max(1)).unwrap_or(u32::MAX)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn budget_allows_burst_then_refills() {
        let quota = Quota::new(
            Budget {
                burst: 3,
                per_minute: 60,
            },
            10,
        );
        let start = Instant::now();
        for _ in 0..3 {
            assert!(quota.take("a", start).is_ok());
        }
        let wait = quota.take("a", start).unwrap_err();
        assert_eq!(retry_after_seconds(wait), 1);
        assert!(
            quota.take("b", start).is_ok(),
            "other keys keep their budget"
        );
        assert!(quota.take("a", start + Duration::from_secs(1)).is_ok());
        assert!(quota.take("a", start + Duration::from_secs(1)).is_err());
    }
}
