//! A circuit breaker per source.
//!
//! After `failure_threshold` consecutive failed requests the breaker opens: requests fail at
//! once with `CircuitOpen` for `cool_down`, so a server that is down is not hammered by every
//! refresh and image request, and callers get an error without waiting for timeouts. Then it
//! is half-open: one trial request goes through while the others still fail at once. The
//! trial's success closes the breaker; its failure opens it for another cool-down.
//!
//! Only failures that say the server is unwell count (network errors, timeouts, TLS, 408, 429,
//! 5xx). Any other response, a 404 or 401 included, shows that the server is up and counts as a
//! success.

use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use serde::Serialize;
use tokio::time::Instant;

/// Circuit breaker settings of a source.
#[derive(Debug, Clone)]
pub struct BreakerPolicy {
    /// Consecutive failed requests that open the breaker; at least 1.
    pub failure_threshold: u32,
    /// How long the breaker stays open before it lets one trial request through.
    pub cool_down: Duration,
}

impl Default for BreakerPolicy {
    fn default() -> Self {
        Self {
            failure_threshold: 5,
            cool_down: Duration::from_secs(30),
        }
    }
}

/// Breaker state as shown in [`SourceStats`](crate::SourceStats).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum BreakerState {
    Closed,
    Open,
    HalfOpen,
}

#[derive(Debug, Clone, Copy)]
enum State {
    Closed { failures: u32 },
    Open { until: Instant },
    HalfOpen { trial_in_flight: bool },
}

/// A state change worth a log line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Transition {
    Opened { until: Instant },
    Closed,
}

#[derive(Debug)]
pub(crate) struct Breaker {
    policy: BreakerPolicy,
    state: Mutex<State>,
}

/// Leave to send one request. A trial ticket that is dropped without an outcome (its request
/// was cancelled) frees the half-open slot for the next request.
#[derive(Debug)]
pub(crate) struct Ticket<'a> {
    breaker: &'a Breaker,
    trial: bool,
    settled: bool,
}

impl Breaker {
    pub(crate) fn new(policy: BreakerPolicy) -> Self {
        Self {
            policy,
            state: Mutex::new(State::Closed { failures: 0 }),
        }
    }

    /// Returns a ticket to send a request, or the instant the breaker stays open until.
    pub(crate) fn admit(&self, now: Instant) -> Result<Ticket<'_>, Instant> {
        let mut state = self.lock();
        match *state {
            State::Closed { .. } => Ok(self.ticket(false)),
            State::Open { until } if now < until => Err(until),
            State::Open { .. }
            | State::HalfOpen {
                trial_in_flight: false,
            } => {
                *state = State::HalfOpen {
                    trial_in_flight: true,
                };
                Ok(self.ticket(true))
            }
            State::HalfOpen {
                trial_in_flight: true,
            } => Err(now),
        }
    }

    /// Returns the public state and, when open, the instant it stays open until.
    pub(crate) fn state(&self) -> (BreakerState, Option<Instant>) {
        match *self.lock() {
            State::Closed { .. } => (BreakerState::Closed, None),
            State::Open { until } => (BreakerState::Open, Some(until)),
            State::HalfOpen { .. } => (BreakerState::HalfOpen, None),
        }
    }

    fn ticket(&self, trial: bool) -> Ticket<'_> {
        Ticket {
            breaker: self,
            trial,
            settled: false,
        }
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // The state is a plain value that is always consistent, so a panic elsewhere while the
        // lock was held leaves nothing to repair.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl Ticket<'_> {
    /// Records the outcome of the request; `failed` is true only for failures that count
    /// against the server.
    pub(crate) fn record(mut self, failed: bool, now: Instant) -> Option<Transition> {
        self.settled = true;
        let breaker = self.breaker;
        let mut state = breaker.lock();
        let open = State::Open {
            until: now + breaker.policy.cool_down,
        };

        match (*state, failed) {
            (State::Closed { .. }, false) => {
                *state = State::Closed { failures: 0 };
                None
            }
            (State::Closed { failures }, true) => {
                let failures = failures.saturating_add(1);
                if failures >= breaker.policy.failure_threshold.max(1) {
                    *state = open;
                    Some(Transition::Opened {
                        until: now + breaker.policy.cool_down,
                    })
                } else {
                    *state = State::Closed { failures };
                    None
                }
            }
            // Only the trial's own outcome moves a half-open breaker. Requests admitted before
            // the breaker opened may still finish, and their late results are ignored.
            (State::HalfOpen { .. }, false) if self.trial => {
                *state = State::Closed { failures: 0 };
                Some(Transition::Closed)
            }
            (State::HalfOpen { .. }, true) if self.trial => {
                *state = open;
                Some(Transition::Opened {
                    until: now + breaker.policy.cool_down,
                })
            }
            (State::HalfOpen { .. } | State::Open { .. }, _) => None,
        }
    }
}

impl Drop for Ticket<'_> {
    fn drop(&mut self) {
        if self.trial && !self.settled {
            let mut state = self.breaker.lock();
            if let State::HalfOpen { .. } = *state {
                *state = State::HalfOpen {
                    trial_in_flight: false,
                };
            }
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    fn breaker() -> Breaker {
        Breaker::new(BreakerPolicy {
            failure_threshold: 3,
            cool_down: Duration::from_secs(30),
        })
    }

    fn fail(breaker: &Breaker, now: Instant) -> Option<Transition> {
        breaker.admit(now).unwrap().record(true, now)
    }

    #[test]
    fn opens_after_consecutive_failures() {
        let breaker = breaker();
        let now = Instant::now();

        assert_eq!(fail(&breaker, now), None);
        assert_eq!(fail(&breaker, now), None);
        assert_eq!(
            fail(&breaker, now),
            Some(Transition::Opened {
                until: now + Duration::from_secs(30)
            })
        );

        assert_eq!(breaker.state().0, BreakerState::Open);
        assert_eq!(
            breaker.admit(now + Duration::from_secs(29)).unwrap_err(),
            now + Duration::from_secs(30)
        );
    }

    #[test]
    fn success_resets_count() {
        let breaker = breaker();
        let now = Instant::now();

        fail(&breaker, now);
        fail(&breaker, now);
        breaker.admit(now).unwrap().record(false, now);
        fail(&breaker, now);
        fail(&breaker, now);

        assert_eq!(breaker.state().0, BreakerState::Closed);
    }

    #[test]
    fn half_open_admits_one_trial() {
        let breaker = breaker();
        let now = Instant::now();
        for _ in 0..3 {
            fail(&breaker, now);
        }
        let later = now + Duration::from_secs(30);

        let trial = breaker.admit(later).unwrap();

        assert_eq!(breaker.state().0, BreakerState::HalfOpen);
        assert!(breaker.admit(later).is_err());
        assert_eq!(trial.record(false, later), Some(Transition::Closed));
        assert_eq!(breaker.state().0, BreakerState::Closed);
        assert!(breaker.admit(later).is_ok());
    }

    #[test]
    fn failed_trial_reopens() {
        let breaker = breaker();
        let now = Instant::now();
        for _ in 0..3 {
            fail(&breaker, now);
        }
        let later = now + Duration::from_secs(31);

        let transition = breaker.admit(later).unwrap().record(true, later);

        assert_eq!(
            transition,
            Some(Transition::Opened {
                until: later + Duration::from_secs(30)
            })
        );
        assert!(breaker.admit(later + Duration::from_secs(1)).is_err());
    }

    #[test]
    fn dropped_trial_frees_slot() {
        let breaker = breaker();
        let now = Instant::now();
        for _ in 0..3 {
            fail(&breaker, now);
        }
        let later = now + Duration::from_secs(30);

        drop(breaker.admit(later).unwrap());

        assert!(breaker.admit(later).is_ok());
    }

    #[test]
    fn late_result_of_old_request_is_ignored() {
        let breaker = breaker();
        let now = Instant::now();
        let slow = breaker.admit(now).unwrap();
        for _ in 0..3 {
            fail(&breaker, now);
        }

        assert_eq!(slow.record(false, now), None);
        assert_eq!(breaker.state().0, BreakerState::Open);
    }
}
