//! Lockout after repeated failures: login, second factor and pairing attempts.
//!
//! Each attempt is checked against several buckets at once, typically the client's address and
//! the account it names. The first five failures in a bucket cost nothing, so a typo never
//! locks anyone out. After that every failure blocks the bucket for twice as long as the one
//! before, from one second up to fifteen minutes, and a blocked attempt gets
//! `429` and `Retry-After` without checking the password at all. A success clears the
//! buckets it was checked against.
//!
//! Buckets are keyed by what the caller passes, so another user's failures never reach an
//! account's bucket and a flood from one address never blocks a different address. IPv6
//! addresses are grouped by their /64, because one home or one cloud machine gets a whole /64
//! and could otherwise rotate through it. The table is bounded and forgets a bucket an hour
//! after its last failure.

use std::net::IpAddr;
use std::sync::Arc;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use moka::sync::Cache;

/// How lockouts grow and how much the limiter remembers.
#[derive(Debug, Clone, Copy)]
pub struct LockoutPolicy {
    /// Failures allowed before the first block.
    pub free_failures: u32,
    /// Block after the first failure past the free ones; doubles with each further failure.
    pub first_block: Duration,
    pub max_block: Duration,
    /// A bucket without failures for this long is forgotten.
    pub forget_after: Duration,
    /// Buckets kept at most; the least recently used go first.
    pub max_buckets: u64,
}

impl Default for LockoutPolicy {
    fn default() -> Self {
        Self {
            free_failures: 5,
            first_block: Duration::from_secs(1),
            max_block: Duration::from_secs(15 * 60),
            forget_after: Duration::from_secs(60 * 60),
            max_buckets: 100_000,
        }
    }
}

/// What a bucket counts failures for.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum LimitKey {
    /// A client address; IPv6 addresses stand for their /64.
    Client(IpAddr),
    /// An account name, compared without case. Unknown names get buckets too, so a probe
    /// cannot tell them apart from real ones by how they are limited.
    Account(String),
}

impl LimitKey {
    pub fn client(ip: IpAddr) -> Self {
        match ip {
            IpAddr::V6(v6) => {
                let mut octets = v6.octets();
                octets[8..].fill(0);
                Self::Client(IpAddr::from(octets))
            }
            v4 => Self::Client(v4),
        }
    }

    /// Keys an account name the way the store matches names (Unicode compatibility forms and
    /// case folded), so `ａｄｍｉｎ` and `ADMIN` count against the same bucket as `admin`.
    pub fn account(name: &str) -> Self {
        Self::Account(onesheet_store::username_key(name.trim()))
    }
}

#[derive(Debug, Default)]
struct Bucket {
    failures: u32,
    blocked_until: Option<Instant>,
}

/// An attempt rejected because a bucket is blocked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Blocked {
    pub retry_after: Duration,
}

impl Blocked {
    /// Whole seconds for `Retry-After`, rounded up so a client never retries too early.
    pub fn retry_after_seconds(&self) -> u32 {
        let seconds = self.retry_after.as_secs() + u64::from(self.retry_after.subsec_nanos() > 0);
        u32::try_from(seconds.max(1)).unwrap_or(u32::MAX)
    }
}

/// Failure counters for one kind of attempt. Cheap to clone; clones share the counters.
#[derive(Clone)]
pub struct FailureLimiter {
    policy: LockoutPolicy,
    buckets: Cache<LimitKey, Arc<Mutex<Bucket>>>,
}

impl std::fmt::Debug for FailureLimiter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FailureLimiter")
            .field("policy", &self.policy)
            .field("buckets", &self.buckets.entry_count())
            .finish()
    }
}

impl FailureLimiter {
    pub fn new(policy: LockoutPolicy) -> Self {
        let buckets = Cache::builder()
            .max_capacity(policy.max_buckets)
            .time_to_idle(policy.forget_after)
            .build();
        Self { policy, buckets }
    }

    /// Refuses the attempt when any of `keys` is blocked at `now`, with the longest wait.
    /// Checking creates no bucket.
    pub fn check(&self, keys: &[LimitKey], now: Instant) -> Result<(), Blocked> {
        let longest = keys
            .iter()
            .filter_map(|key| self.buckets.get(key))
            .filter_map(|bucket| {
                let bucket = bucket
                    .lock()
                    .unwrap_or_else(|poisoned| poisoned.into_inner());
                bucket
                    .blocked_until
                    .and_then(|until| until.checked_duration_since(now))
                    .filter(|wait| !wait.is_zero())
            })
            .max();
        match longest {
            Some(retry_after) => Err(Blocked { retry_after }),
            None => Ok(()),
        }
    }

    /// Starts an attempt: rejects it when any bucket of `keys` is blocked at `now`, and
    /// otherwise counts it as a failure in all of them at once, before the slow check runs.
    /// A success then clears the buckets with [`record_success`](Self::record_success).
    ///
    /// Counting up front matters for parallel requests: were the failure counted only after a
    /// password check of tens of milliseconds, a burst of a hundred requests would all pass the
    /// check before the first one counted.
    pub fn try_attempt(&self, keys: &[LimitKey], now: Instant) -> Result<(), Blocked> {
        let buckets: Vec<Arc<Mutex<Bucket>>> = keys
            .iter()
            .map(|key| self.buckets.get_with(key.clone(), Default::default))
            .collect();
        // Callers pass keys in one fixed order (account, then client), so two attempts never
        // wait for each other's locks in a cycle.
        let mut guards: Vec<_> = buckets
            .iter()
            .map(|bucket| {
                bucket
                    .lock()
                    .unwrap_or_else(|poisoned| poisoned.into_inner())
            })
            .collect();

        let longest = guards
            .iter()
            .filter_map(|bucket| bucket.blocked_until)
            .filter_map(|until| until.checked_duration_since(now))
            .filter(|wait| !wait.is_zero())
            .max();
        if let Some(retry_after) = longest {
            return Err(Blocked { retry_after });
        }

        for bucket in &mut guards {
            bucket.failures = bucket.failures.saturating_add(1);
            if let Some(block) = self.block_after(bucket.failures) {
                bucket.blocked_until = Some(now + block);
            }
        }
        Ok(())
    }

    /// Counts a failure in every bucket of `keys`. Returns the block it started, if any.
    pub fn record_failure(&self, keys: &[LimitKey], now: Instant) -> Option<Blocked> {
        keys.iter()
            .filter_map(|key| {
                let bucket = self.buckets.get_with(key.clone(), Default::default);
                let mut bucket = bucket
                    .lock()
                    .unwrap_or_else(|poisoned| poisoned.into_inner());
                bucket.failures = bucket.failures.saturating_add(1);
                let block = self.block_after(bucket.failures)?;
                bucket.blocked_until = Some(now + block);
                Some(Blocked { retry_after: block })
            })
            .max_by_key(|blocked| blocked.retry_after)
    }

    /// Clears the buckets of `keys` after a successful attempt.
    pub fn record_success(&self, keys: &[LimitKey]) {
        for key in keys {
            self.buckets.invalidate(key);
        }
    }

    /// The block that the `failures`-th failure starts: none for the free ones, then
    /// `first_block` doubled per further failure, at most `max_block`.
    fn block_after(&self, failures: u32) -> Option<Duration> {
        let past_free = failures.checked_sub(self.policy.free_failures)?;
        if past_free == 0 {
            return None;
        }
        let doublings = (past_free - 1).min(30);
        let block = self.policy.first_block.saturating_mul(1u32 << doublings);
        Some(block.min(self.policy.max_block))
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    fn limiter() -> FailureLimiter {
        FailureLimiter::new(LockoutPolicy::default())
    }

    fn keys(ip: &str, account: &str) -> Vec<LimitKey> {
        vec![
            LimitKey::client(ip.parse().unwrap()),
            LimitKey::account(account),
        ]
    }

    #[test]
    fn five_failures_are_free_then_blocks_double() {
        let limiter = limiter();
        let now = Instant::now();
        let attempt = keys("192.0.2.1", "admin");
        for _ in 0..5 {
            assert_eq!(limiter.record_failure(&attempt, now), None);
            assert!(limiter.check(&attempt, now).is_ok());
        }
        let blocks: Vec<u64> = (0..4)
            .map(|_| {
                limiter
                    .record_failure(&attempt, now)
                    .unwrap()
                    .retry_after
                    .as_secs()
            })
            .collect();
        assert_eq!(blocks, [1, 2, 4, 8]);
        let blocked = limiter.check(&attempt, now).unwrap_err();
        assert_eq!(blocked.retry_after_seconds(), 8);
        assert!(
            limiter
                .check(&attempt, now + Duration::from_secs(8))
                .is_ok()
        );
    }

    #[test]
    fn blocks_stop_growing_at_the_maximum() {
        let limiter = limiter();
        let now = Instant::now();
        let attempt = [LimitKey::account("admin")];
        let mut last = None;
        for _ in 0..40 {
            last = limiter.record_failure(&attempt, now);
        }
        assert_eq!(last.unwrap().retry_after, Duration::from_secs(15 * 60));
    }

    #[test]
    fn other_accounts_and_addresses_are_unaffected() {
        let limiter = limiter();
        let now = Instant::now();
        for _ in 0..8 {
            limiter.record_failure(&keys("192.0.2.1", "admin"), now);
        }
        assert!(limiter.check(&keys("192.0.2.1", "admin"), now).is_err());
        assert!(limiter.check(&keys("198.51.100.2", "alice"), now).is_ok());
        // The attacker's address is blocked for every account it tries.
        assert!(limiter.check(&keys("192.0.2.1", "alice"), now).is_err());
        // And the attacked account is blocked from every address.
        assert!(limiter.check(&keys("198.51.100.2", "ADMIN"), now).is_err());
    }

    #[test]
    fn success_clears_the_buckets() {
        let limiter = limiter();
        let now = Instant::now();
        let attempt = keys("192.0.2.1", "admin");
        for _ in 0..5 {
            limiter.record_failure(&attempt, now);
        }
        limiter.record_success(&attempt);
        assert_eq!(limiter.record_failure(&attempt, now), None);
    }

    #[test]
    fn ipv6_addresses_share_their_64() {
        let first = LimitKey::client("2001:db8:1:2:aaaa::1".parse().unwrap());
        let second = LimitKey::client("2001:db8:1:2:bbbb::9".parse().unwrap());
        let other = LimitKey::client("2001:db8:1:3::1".parse().unwrap());
        assert_eq!(first, second);
        assert_ne!(first, other);
    }

    #[test]
    fn checking_creates_no_bucket() {
        let limiter = limiter();
        for n in 0..100 {
            let _ = limiter.check(&[LimitKey::account(&format!("user{n}"))], Instant::now());
        }
        limiter.buckets.run_pending_tasks();
        assert_eq!(limiter.buckets.entry_count(), 0);
    }

    #[test]
    fn attempts_count_before_they_finish() {
        let limiter = limiter();
        let now = Instant::now();
        let attempt = keys("192.0.2.1", "admin");
        // Six attempts start before any finishes: the sixth is let through and starts the
        // first block, so the seventh is rejected at once.
        for _ in 0..6 {
            assert!(limiter.try_attempt(&attempt, now).is_ok());
        }
        let blocked = limiter.try_attempt(&attempt, now).unwrap_err();
        assert_eq!(blocked.retry_after, Duration::from_secs(1));
    }

    #[test]
    fn parallel_attempts_pass_at_most_the_free_ones() {
        let limiter = limiter();
        let now = Instant::now();
        let passed = std::sync::atomic::AtomicUsize::new(0);
        std::thread::scope(|scope| {
            for _ in 0..16 {
                scope.spawn(|| {
                    for _ in 0..10 {
                        if limiter
                            .try_attempt(&keys("192.0.2.1", "admin"), now)
                            .is_ok()
                        {
                            passed.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                        }
                    }
                });
            }
        });
        assert_eq!(passed.into_inner(), 6);
    }

    #[test]
    fn success_after_an_attempt_clears_it() {
        let limiter = limiter();
        let now = Instant::now();
        let attempt = keys("192.0.2.1", "admin");
        for _ in 0..20 {
            limiter.try_attempt(&attempt, now).unwrap();
            limiter.record_success(&attempt);
        }
        assert!(limiter.check(&attempt, now).is_ok());
    }

    #[test]
    fn account_keys_fold_like_usernames() {
        assert_eq!(
            LimitKey::account("ａｄｍｉｎ"),
            LimitKey::account(" Admin ")
        );
    }

    #[test]
    fn retry_after_rounds_up() {
        let blocked = Blocked {
            retry_after: Duration::from_millis(1500),
        };
        assert_eq!(blocked.retry_after_seconds(), 2);
        let tiny = Blocked {
            retry_after: Duration::from_millis(1),
        };
        assert_eq!(tiny.retry_after_seconds(), 1);
    }
}
