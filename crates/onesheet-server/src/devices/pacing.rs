//! The pace of one socket: the ping schedule that detects a half-open connection, and the
//! token bucket that limits how fast a screen may send.

use std::time::Duration;

use tokio::time::Instant;

/// Messages over the rate limit before the socket is closed. The count starts again once the
/// screen has been quiet long enough to refill its whole burst.
const MAX_REJECTED_MESSAGES: u32 = 50;

/// The heartbeat's next action when its deadline passes.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Beat {
    Ping,
    /// Two pings in a row went unanswered.
    Dead,
}

/// The ping schedule: a ping every `interval`, and a ping unanswered for `pong_timeout` is
/// missed and sent again at once. The second miss in a row ends the connection, so a client
/// that stops sending pongs is dropped at most `interval + 2 × pong_timeout` after its last pong.
#[derive(Debug)]
pub(crate) struct Heartbeat {
    interval: Duration,
    pong_timeout: Duration,
    deadline: Instant,
    awaiting: bool,
    missed: u32,
}

impl Heartbeat {
    pub(crate) fn new(interval: Duration, pong_timeout: Duration) -> Self {
        Self {
            interval,
            pong_timeout,
            deadline: Instant::now() + interval,
            awaiting: false,
            missed: 0,
        }
    }

    pub(crate) fn deadline(&self) -> Instant {
        self.deadline
    }

    pub(crate) fn expired(&mut self, now: Instant) -> Beat {
        if self.awaiting {
            self.missed += 1;
            if self.missed >= 2 {
                return Beat::Dead;
            }
        }
        self.awaiting = true;
        self.deadline = now + self.pong_timeout;
        Beat::Ping
    }

    pub(crate) fn answered(&mut self) {
        if self.awaiting {
            self.awaiting = false;
            self.missed = 0;
            self.deadline = Instant::now() + self.interval;
        }
    }
}

#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Admission {
    Accepted,
    /// Over the rate. `first` is true for the first rejection since the last accepted message.
    Rejected {
        first: bool,
    },
    /// Over the rate for too long: close the connection.
    Flood,
}

/// A token bucket: `burst` messages at once, refilled at `per_second`.
#[derive(Debug)]
pub(crate) struct TokenBucket {
    burst: f64,
    per_second: f64,
    tokens: f64,
    updated: Instant,
    rejected: u32,
    rejecting: bool,
}

impl TokenBucket {
    pub(crate) fn new(burst: u32, per_second: u32) -> Self {
        Self {
            burst: f64::from(burst.max(1)),
            per_second: f64::from(per_second.max(1)),
            tokens: f64::from(burst.max(1)),
            updated: Instant::now(),
            rejected: 0,
            rejecting: false,
        }
    }

    pub(crate) fn take(&mut self, now: Instant) -> Admission {
        let elapsed = now.saturating_duration_since(self.updated).as_secs_f64();
        self.tokens = (self.tokens + elapsed * self.per_second).min(self.burst);
        self.updated = now;
        if self.tokens >= self.burst {
            self.rejected = 0;
        }

        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            self.rejecting = false;
            return Admission::Accepted;
        }
        self.rejected += 1;
        if self.rejected >= MAX_REJECTED_MESSAGES {
            return Admission::Flood;
        }
        let first = !self.rejecting;
        self.rejecting = true;
        Admission::Rejected { first }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bucket_admits_burst_then_rejects_then_closes() {
        let start = Instant::now();
        let mut bucket = TokenBucket::new(20, 5);
        for _ in 0..20 {
            assert_eq!(bucket.take(start), Admission::Accepted);
        }
        assert_eq!(bucket.take(start), Admission::Rejected { first: true });
        assert_eq!(bucket.take(start), Admission::Rejected { first: false });

        let later = start + Duration::from_millis(200);
        assert_eq!(bucket.take(later), Admission::Accepted);

        let mut last = Admission::Accepted;
        for _ in 0..MAX_REJECTED_MESSAGES {
            last = bucket.take(later);
        }
        assert_eq!(last, Admission::Flood);
    }

    #[test]
    fn bucket_forgets_rejections_after_refill() {
        let start = Instant::now();
        let mut bucket = TokenBucket::new(2, 1);
        for _ in 0..10 {
            bucket.take(start);
        }
        assert_eq!(
            bucket.take(start + Duration::from_secs(5)),
            Admission::Accepted
        );
        assert_eq!(bucket.rejected, 0);
    }

    #[tokio::test(start_paused = true)]
    async fn heartbeat_dies_after_two_missed_pongs() {
        let mut heartbeat = Heartbeat::new(Duration::from_secs(25), Duration::from_secs(10));
        let now = Instant::now();

        assert_eq!(heartbeat.expired(now), Beat::Ping);
        heartbeat.answered();
        assert_eq!(heartbeat.expired(now), Beat::Ping);
        assert_eq!(heartbeat.expired(now), Beat::Ping, "first miss sends again");
        assert_eq!(heartbeat.expired(now), Beat::Dead);
    }
}
