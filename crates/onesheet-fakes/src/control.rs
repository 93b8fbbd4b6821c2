//! The handle that changes a running fake's behaviour: faults, rate limit, credentials and the
//! scripted values each fake reads on every request.

use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use crate::fault::{ActiveFault, Fault, FaultId, FaultRule, RateLimit, RateLimitState};
use crate::sessions::NowPlaying;

/// Scripted state that a test may change while the fake runs.
#[derive(Debug)]
struct Script {
    faults: Vec<ActiveFault>,
    next_fault_id: u64,
    rate_limit: Option<RateLimitState>,
    token: String,
    legacy_auth: bool,
    sessions: Vec<NowPlaying>,
    unpaged_delay: Duration,
    transcode_missing: Vec<u64>,
}

/// Initial values of the scripted state, taken from each fake's configuration.
#[derive(Debug, Clone)]
pub(crate) struct ScriptDefaults {
    pub(crate) token: String,
    pub(crate) legacy_auth: bool,
    pub(crate) sessions: Vec<NowPlaying>,
    pub(crate) unpaged_delay: Duration,
    pub(crate) transcode_missing: Vec<u64>,
}

/// Cloneable handle to a running fake's scripted behaviour. Changes apply from the next request
/// on; requests already in flight keep what they read.
#[derive(Debug, Clone)]
pub struct Control {
    script: Arc<Mutex<Script>>,
    /// Whether fault and rate-limit patterns match paths ignoring ASCII case.
    ignore_case: bool,
}

impl Control {
    pub(crate) fn new(defaults: ScriptDefaults, ignore_case: bool) -> Control {
        let script = Script {
            faults: Vec::new(),
            next_fault_id: 1,
            rate_limit: None,
            token: defaults.token,
            legacy_auth: defaults.legacy_auth,
            sessions: defaults.sessions,
            unpaged_delay: defaults.unpaged_delay,
            transcode_missing: defaults.transcode_missing,
        };
        Control {
            script: Arc::new(Mutex::new(script)),
            ignore_case,
        }
    }

    /// Adds a fault rule. Rules are checked in the order they were added and the first that
    /// fires decides the response.
    pub fn add_fault(&self, rule: FaultRule) -> FaultId {
        let mut script = self.lock();
        let id = FaultId(script.next_fault_id);
        script.next_fault_id += 1;
        script
            .faults
            .push(ActiveFault::new(id, rule, self.ignore_case));
        id
    }

    /// Removes one fault rule; unknown ids are ignored.
    pub fn remove_fault(&self, id: FaultId) {
        self.lock().faults.retain(|fault| fault.id != id);
    }

    pub fn clear_faults(&self) {
        self.lock().faults.clear();
    }

    /// Returns how many times the rule has fired so far (0 for an unknown or removed rule).
    pub fn fault_hits(&self, id: FaultId) -> u64 {
        self.lock()
            .faults
            .iter()
            .find(|fault| fault.id == id)
            .map_or(0, |fault| fault.hits)
    }

    /// Sets or removes the rate limit. Setting one starts with a fresh window.
    pub fn set_rate_limit(&self, limit: Option<RateLimit>) {
        self.lock().rate_limit = limit.map(|limit| RateLimitState::new(limit, self.ignore_case));
    }

    /// Replaces the accepted credential: the Jellyfin or Emby API key, or the Plex token.
    pub fn set_token(&self, token: impl Into<String>) {
        self.lock().token = token.into();
    }

    /// Turns Jellyfin's legacy authorization on or off; see
    /// [`JellyfinConfig::legacy_auth`](crate::JellyfinConfig::legacy_auth). Emby ignores it.
    pub fn set_legacy_auth(&self, enabled: bool) {
        self.lock().legacy_auth = enabled;
    }

    /// Replaces the sessions that `/Sessions` and `/status/sessions` report.
    pub fn set_sessions(&self, sessions: Vec<NowPlaying>) {
        self.lock().sessions = sessions;
    }

    /// Sets how long Plex waits before it responds to a library listing without a page size.
    pub fn set_unpaged_delay(&self, delay: Duration) {
        self.lock().unpaged_delay = delay;
    }

    /// Sets the Plex item keys whose artwork `/photo/:/transcode` responds to with 404.
    pub fn set_transcode_missing(&self, keys: Vec<u64>) {
        self.lock().transcode_missing = keys;
    }

    pub(crate) fn token(&self) -> String {
        self.lock().token.clone()
    }

    pub(crate) fn legacy_auth(&self) -> bool {
        self.lock().legacy_auth
    }

    pub(crate) fn sessions(&self) -> Vec<NowPlaying> {
        self.lock().sessions.clone()
    }

    pub(crate) fn unpaged_delay(&self) -> Duration {
        self.lock().unpaged_delay
    }

    pub(crate) fn is_transcode_missing(&self, key: u64) -> bool {
        self.lock().transcode_missing.contains(&key)
    }

    /// Counts the request against the rate limit; returns `Retry-After` seconds when over it.
    pub(crate) fn check_rate_limit(&self, route: &str) -> Option<u64> {
        let now = tokio::time::Instant::now();
        self.lock()
            .rate_limit
            .as_mut()
            .and_then(|state| state.check(route, now))
    }

    /// Counts the request against every fault rule and returns the first fault that fires.
    pub(crate) fn take_fault(&self, route: &str, page: Option<u64>) -> Option<Fault> {
        let mut script = self.lock();
        // Every rule counts the request, so `on_request` counts stay true even when an earlier
        // rule fires.
        let mut fired = None;
        for fault in &mut script.faults {
            if let Some(fault) = fault.check(route, page, fired.is_none()) {
                fired = Some(fault);
            }
        }
        fired
    }

    fn lock(&self) -> MutexGuard<'_, Script> {
        // Every update is a single assignment or push, so a poisoned lock still holds
        // consistent state.
        self.script.lock().unwrap_or_else(PoisonError::into_inner)
    }
}
