//! A warning that logs at most once per interval and counts what it held back.

use std::sync::Mutex;
use std::time::{Duration, Instant};

pub struct RateLimitedWarning {
    interval: Duration,
    state: Mutex<WarningState>,
}

struct WarningState {
    last: Option<Instant>,
    suppressed: u64,
}

impl RateLimitedWarning {
    pub fn new(interval: Duration) -> Self {
        Self {
            interval,
            state: Mutex::new(WarningState {
                last: None,
                suppressed: 0,
            }),
        }
    }

    /// Calls `log` with the number of warnings held back since the last one, unless a warning
    /// was logged within the interval.
    pub fn warn(&self, log: impl FnOnce(u64)) {
        let suppressed = {
            let Ok(mut state) = self.state.lock() else {
                return;
            };
            let now = Instant::now();
            if state
                .last
                .is_some_and(|last| now.duration_since(last) < self.interval)
            {
                state.suppressed += 1;
                return;
            }
            state.last = Some(now);
            std::mem::take(&mut state.suppressed)
        };
        log(suppressed);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn warning_is_rate_limited() {
        let warning = RateLimitedWarning::new(Duration::from_secs(3600));
        let mut logged = Vec::new();
        for _ in 0..5 {
            warning.warn(|suppressed| logged.push(suppressed));
        }
        assert_eq!(logged, vec![0]);

        let warning = RateLimitedWarning::new(Duration::ZERO);
        let mut logged = Vec::new();
        for _ in 0..3 {
            warning.warn(|suppressed| logged.push(suppressed));
        }
        assert_eq!(logged, vec![0, 0, 0]);
    }
}
