//! Scripted failures: the misbehaviour itself ([`Fault`]), the requests it applies to
//! ([`FaultRule`]), and a request budget per time window ([`RateLimit`]).

use std::time::Duration;

use axum::http::StatusCode;

use crate::pattern::PathPattern;

/// A way for a fake to misbehave on one request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fault {
    /// Responds with this status and a short `text/plain` body, for 401, 404, 500, 503 and the
    /// like.
    Status(StatusCode),
    /// Responds with 429 and `Retry-After` set to this many seconds.
    TooManyRequests { retry_after_secs: u64 },
    /// Waits this long, then responds normally. Longer than the client's timeout, it is a
    /// timeout.
    Delay(Duration),
    /// Sends the normal status and headers with the full `Content-Length`, then half of the body,
    /// then closes the connection.
    TruncatedBody,
    /// Responds with 200 `text/html` and a sign-in page, as a single-sign-on proxy in front of the
    /// server does.
    HtmlLoginPage,
    /// Responds with XML (`application/xml`) where the client expects JSON: Plex's own XML form of
    /// the response, or the JSON document converted to XML for Jellyfin and Emby.
    XmlInsteadOfJson,
    /// Responds with the normal status and content type but an empty body (`Content-Length: 0`),
    /// as a failing image transcoder does.
    EmptyBody,
}

/// Identifies a rule added with [`Control::add_fault`](crate::Control::add_fault).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct FaultId(pub(crate) u64);

/// When a [`Fault`] applies.
///
/// A rule applies to requests whose path, without the server's base path, matches its
/// pattern. Further conditions narrow it down: [`on_page`](Self::on_page) and
/// [`on_request`](Self::on_request); [`once`](Self::once) and [`times`](Self::times) limit how
/// often it fires. Without them it fires on every matching request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FaultRule {
    pub(crate) pattern: String,
    pub(crate) fault: Fault,
    pub(crate) page: Option<u64>,
    pub(crate) request: Option<u64>,
    pub(crate) remaining: Option<u64>,
}

impl FaultRule {
    /// Applies `fault` to requests whose path matches `pattern`. In patterns, `*` matches any
    /// text within one path segment and `**` any text across segments:
    /// `/library/sections/*/all`, `/Items/**`.
    pub fn new(pattern: impl Into<String>, fault: Fault) -> FaultRule {
        FaultRule {
            pattern: pattern.into(),
            fault,
            page: None,
            request: None,
            remaining: None,
        }
    }

    /// Fires only on page `page`, counted from 0: the request's start index divided by its page
    /// size. The start and size come from `X-Plex-Container-Start` / `X-Plex-Container-Size`
    /// (header or query) or from Jellyfin's `StartIndex` / `Limit`. Requests without a page
    /// size never match.
    pub fn on_page(mut self, page: u64) -> FaultRule {
        self.page = Some(page);
        self
    }

    /// Fires only on the `n`th request (from 1) that matches the pattern, counting every
    /// matching request whatever its page.
    pub fn on_request(mut self, n: u64) -> FaultRule {
        self.request = Some(n);
        self
    }

    /// Fires at most once.
    pub fn once(self) -> FaultRule {
        self.times(1)
    }

    /// Fires at most `count` times.
    pub fn times(mut self, count: u64) -> FaultRule {
        self.remaining = Some(count);
        self
    }
}

/// A rule in force on a running server, with its counters.
#[derive(Debug)]
pub(crate) struct ActiveFault {
    pub(crate) id: FaultId,
    rule: FaultRule,
    pattern: PathPattern,
    /// Matching requests seen so far, for [`FaultRule::on_request`].
    seen: u64,
    /// Times the fault fired.
    pub(crate) hits: u64,
}

impl ActiveFault {
    pub(crate) fn new(id: FaultId, rule: FaultRule, ignore_case: bool) -> ActiveFault {
        ActiveFault {
            id,
            pattern: PathPattern::new(&rule.pattern, ignore_case),
            rule,
            seen: 0,
            hits: 0,
        }
    }

    /// Counts the request if it matches and returns the fault when the rule fires on it. With
    /// `may_fire` false (an earlier rule already fired) it only counts.
    pub(crate) fn check(
        &mut self,
        route: &str,
        page: Option<u64>,
        may_fire: bool,
    ) -> Option<Fault> {
        if !self.pattern.matches(route) {
            return None;
        }
        self.seen += 1;

        if !may_fire {
            return None;
        }
        if self.rule.request.is_some_and(|n| n != self.seen) {
            return None;
        }
        if self.rule.page.is_some() && self.rule.page != page {
            return None;
        }
        if self.rule.remaining == Some(0) {
            return None;
        }

        if let Some(remaining) = &mut self.rule.remaining {
            *remaining -= 1;
        }
        self.hits += 1;
        Some(self.rule.fault.clone())
    }
}

/// A budget of requests per fixed time window, past which the fake responds with 429 and
/// `Retry-After`, as a throttling upstream does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RateLimit {
    pub(crate) pattern: Option<String>,
    pub(crate) max_requests: u32,
    pub(crate) window: Duration,
    pub(crate) retry_after: Option<Duration>,
}

impl RateLimit {
    /// Allows `max_requests` requests per `window`. The first counted request starts a window;
    /// rejected requests count too. `Retry-After` defaults to the time left in the window,
    /// rounded up to whole seconds.
    pub fn new(max_requests: u32, window: Duration) -> RateLimit {
        RateLimit {
            pattern: None,
            max_requests,
            window,
            retry_after: None,
        }
    }

    /// Counts only requests whose path matches `pattern` (syntax of [`FaultRule::new`]).
    pub fn on_path(mut self, pattern: impl Into<String>) -> RateLimit {
        self.pattern = Some(pattern.into());
        self
    }

    /// Sends this fixed `Retry-After` (whole seconds, rounded up) on every 429.
    pub fn retry_after(mut self, delay: Duration) -> RateLimit {
        self.retry_after = Some(delay);
        self
    }
}

/// A rate limit in force, with its current window.
#[derive(Debug)]
pub(crate) struct RateLimitState {
    limit: RateLimit,
    pattern: Option<PathPattern>,
    window_start: Option<tokio::time::Instant>,
    count: u32,
}

impl RateLimitState {
    pub(crate) fn new(limit: RateLimit, ignore_case: bool) -> RateLimitState {
        RateLimitState {
            pattern: limit
                .pattern
                .as_deref()
                .map(|pattern| PathPattern::new(pattern, ignore_case)),
            limit,
            window_start: None,
            count: 0,
        }
    }

    /// Counts the request and returns the `Retry-After` seconds when it is over the budget.
    pub(crate) fn check(&mut self, route: &str, now: tokio::time::Instant) -> Option<u64> {
        if self
            .pattern
            .as_ref()
            .is_some_and(|pattern| !pattern.matches(route))
        {
            return None;
        }

        let start = match self.window_start {
            Some(start) if now.duration_since(start) < self.limit.window => start,
            _ => {
                self.window_start = Some(now);
                self.count = 0;
                now
            }
        };
        self.count = self.count.saturating_add(1);
        if self.count <= self.limit.max_requests {
            return None;
        }

        let wait = self
            .limit
            .retry_after
            .unwrap_or_else(|| self.limit.window.saturating_sub(now.duration_since(start)));
        Some(whole_seconds_up(wait))
    }
}

fn whole_seconds_up(duration: Duration) -> u64 {
    duration.as_secs() + u64::from(duration.subsec_nanos() > 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn active(rule: FaultRule) -> ActiveFault {
        ActiveFault::new(FaultId(1), rule, false)
    }

    #[test]
    fn once_on_page_fires_once() {
        let mut fault = active(
            FaultRule::new("/a/*", Fault::Status(StatusCode::SERVICE_UNAVAILABLE))
                .on_page(2)
                .once(),
        );
        assert_eq!(fault.check("/a/x", Some(1), true), None);
        assert_eq!(
            fault.check("/a/x", Some(2), true),
            Some(Fault::Status(StatusCode::SERVICE_UNAVAILABLE))
        );
        assert_eq!(fault.check("/a/x", Some(2), true), None);
        assert_eq!(fault.check("/b/x", Some(2), true), None);
        assert_eq!(fault.hits, 1);
    }

    #[test]
    fn on_request_counts_matching_requests() {
        let mut fault = active(FaultRule::new("/a", Fault::TruncatedBody).on_request(3));
        assert_eq!(fault.check("/a", None, true), None);
        assert_eq!(fault.check("/other", None, true), None);
        assert_eq!(fault.check("/a", None, true), None);
        assert_eq!(fault.check("/a", None, true), Some(Fault::TruncatedBody));
        assert_eq!(fault.check("/a", None, true), None);
    }

    #[test]
    fn rate_limit_rejects_past_budget_until_window_ends() {
        let mut state = RateLimitState::new(RateLimit::new(2, Duration::from_secs(10)), false);
        let start = tokio::time::Instant::now();
        assert_eq!(state.check("/x", start), None);
        assert_eq!(state.check("/x", start), None);
        assert_eq!(
            state.check("/x", start + Duration::from_millis(2500)),
            Some(8)
        );
        assert_eq!(state.check("/x", start + Duration::from_secs(10)), None);
    }

    #[test]
    fn rate_limit_fixed_retry_after_and_path_filter() {
        let limit = RateLimit::new(1, Duration::from_secs(10))
            .on_path("/3/**")
            .retry_after(Duration::from_secs(3));
        let mut state = RateLimitState::new(limit, false);
        let now = tokio::time::Instant::now();
        assert_eq!(state.check("/3/movie/1", now), None);
        assert_eq!(state.check("/other", now), None);
        assert_eq!(state.check("/3/movie/2", now), Some(3));
    }
}
