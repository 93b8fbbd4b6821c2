//! When to retry a failed request and how long to wait first.
//!
//! The wait is exponential backoff with full jitter: a random time between zero and
//! `base_delay * 2^(retry - 1)`, capped at `max_delay`. The jitter spreads the retries of many
//! sources that failed together (a media server restarting) so they do not return in step.
//! A `Retry-After` header on 429 or 503 is a floor: the next attempt is never sent sooner.

use std::time::{Duration, SystemTime};

use rand::Rng;

/// Retry settings of a source.
#[derive(Debug, Clone)]
pub struct RetryPolicy {
    /// Attempts per request, the first one included; at least 1.
    pub max_attempts: u32,
    /// Backoff ceiling of the first retry.
    pub base_delay: Duration,
    /// Backoff ceiling of any retry.
    pub max_delay: Duration,
    /// Longest `Retry-After` the client waits for. A longer one ends the request with its
    /// error (`RateLimited` for a 429) instead of holding a refresh for minutes.
    pub max_retry_after: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            max_attempts: 4,
            base_delay: Duration::from_millis(500),
            max_delay: Duration::from_secs(30),
            max_retry_after: Duration::from_secs(120),
        }
    }
}

impl RetryPolicy {
    /// Returns the backoff before retry number `retry` (1 for the second attempt), drawn with
    /// full jitter from `random`.
    pub(crate) fn backoff(&self, retry: u32, random: &mut impl Rng) -> Duration {
        let ceiling = self.backoff_ceiling(retry);
        let millis = u64::try_from(ceiling.as_millis()).unwrap_or(u64::MAX);
        Duration::from_millis(random.random_range(0..=millis))
    }

    /// Returns `min(max_delay, base_delay * 2^(retry - 1))` without overflowing.
    pub(crate) fn backoff_ceiling(&self, retry: u32) -> Duration {
        let doublings = retry.saturating_sub(1).min(31);
        self.base_delay
            .checked_mul(1 << doublings)
            .unwrap_or(self.max_delay)
            .min(self.max_delay)
    }
}

/// Parses a `Retry-After` value: delay seconds, or an HTTP date (RFC 9110, section 10.2.3).
/// A date in the past means no wait. Returns `None` for a value that is neither.
pub(crate) fn parse_retry_after(value: &str, now: SystemTime) -> Option<Duration> {
    let value = value.trim();
    if let Ok(seconds) = value.parse::<u64>() {
        return Some(Duration::from_secs(seconds));
    }
    let date = httpdate::parse_http_date(value).ok()?;
    Some(date.duration_since(now).unwrap_or(Duration::ZERO))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use rand::SeedableRng;
    use rand::rngs::StdRng;

    use super::*;

    #[test]
    fn backoff_ceiling_doubles_up_to_cap() {
        let policy = RetryPolicy::default();

        assert_eq!(policy.backoff_ceiling(1), Duration::from_millis(500));
        assert_eq!(policy.backoff_ceiling(2), Duration::from_secs(1));
        assert_eq!(policy.backoff_ceiling(3), Duration::from_secs(2));
        assert_eq!(policy.backoff_ceiling(7), Duration::from_secs(30));
        assert_eq!(policy.backoff_ceiling(u32::MAX), Duration::from_secs(30));
    }

    #[test]
    fn backoff_stays_within_ceiling_and_varies() {
        let policy = RetryPolicy::default();
        let mut random = StdRng::seed_from_u64(7);

        let draws: Vec<Duration> = (0..200).map(|_| policy.backoff(3, &mut random)).collect();

        assert!(draws.iter().all(|draw| *draw <= Duration::from_secs(2)));
        assert!(draws.iter().any(|draw| *draw < Duration::from_millis(500)));
        assert!(draws.iter().any(|draw| *draw > Duration::from_millis(1500)));
    }

    #[test]
    fn retry_after_seconds_and_dates() {
        let now = httpdate::parse_http_date("Wed, 21 Oct 2015 07:28:00 GMT").unwrap();

        assert_eq!(
            parse_retry_after("120", now),
            Some(Duration::from_secs(120))
        );
        assert_eq!(parse_retry_after(" 0 ", now), Some(Duration::ZERO));
        assert_eq!(
            parse_retry_after("Wed, 21 Oct 2015 07:28:30 GMT", now),
            Some(Duration::from_secs(30))
        );
        assert_eq!(
            parse_retry_after("Wed, 21 Oct 2015 07:00:00 GMT", now),
            Some(Duration::ZERO)
        );
        assert_eq!(parse_retry_after("soon", now), None);
        assert_eq!(parse_retry_after("-5", now), None);
    }
}
