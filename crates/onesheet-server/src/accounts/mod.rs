//! Admin accounts: first-run setup, login with an optional second factor, server-side sessions,
//! API tokens, and the audit trail of all of it.
//!
//! [`Accounts`] is the service the handlers call; it owns the rules (who may do what, how long
//! a session lives, when an attempt is rejected) and leaves HTTP to `routes::auth` and the
//! extractors in `crate::auth`. Password hashing costs tens of milliseconds of CPU, so it runs
//! on the blocking pool behind a small semaphore: a flood of logins queues there and never
//! takes the threads that serve screens.

mod error;
mod login;
mod second_factor;
mod sessions;
mod setup;
mod tokens;

use std::net::IpAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use onesheet_auth::RecoveryHasher;
use onesheet_store::{NewAuditEvent, SecretKey, Store};
use tokio::sync::Semaphore;
use tracing::warn;

use crate::security::{FailureLimiter, LockoutPolicy};

pub use error::AccountError;
pub use login::LoginOutcome;
pub use second_factor::{SecondFactor, TotpEnrolment};
pub use sessions::{CookieSecure, SESSION_COOKIE, SessionGrant, SessionPolicy, SignedIn};
pub use tokens::{MAX_NAME_CHARS as MAX_TOKEN_NAME_CHARS, NewToken, TokenScope};

/// Password hashes computed at once. Each takes one core for tens of milliseconds.
const HASHING_SLOTS: usize = 2;

/// Maximum time a login waits for a hashing slot before it is rejected as busy.
const HASHING_WAIT: Duration = Duration::from_secs(10);

/// Maximum length of the user agent kept with a session or an audit event.
const MAX_USER_AGENT_CHARS: usize = 200;

/// Who is making a request, as far as accounts and the audit log care.
#[derive(Debug, Clone, Default)]
pub struct Caller {
    pub ip: Option<IpAddr>,
    pub user_agent: Option<String>,
}

impl Caller {
    pub fn new(ip: Option<IpAddr>, user_agent: Option<&str>) -> Self {
        Self {
            ip,
            user_agent: user_agent.map(|agent| agent.chars().take(MAX_USER_AGENT_CHARS).collect()),
        }
    }
}

/// Returns the current Unix time in seconds. Replaceable in tests to reach TOTP step edges and
/// session expiry without waiting.
pub type Clock = Arc<dyn Fn() -> i64 + Send + Sync>;

pub struct Accounts {
    store: Arc<dyn Store>,
    key: SecretKey,
    recovery: RecoveryHasher,
    hashing: Semaphore,
    login_limiter: FailureLimiter,
    second_factor_limiter: FailureLimiter,
    policy: SessionPolicy,
    setup: setup::SetupToken,
    clock: Clock,
}

impl std::fmt::Debug for Accounts {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Accounts")
            .field("policy", &self.policy)
            .finish_non_exhaustive()
    }
}

impl Accounts {
    /// `data_dir` contains the setup token file while no admin exists.
    pub fn new(
        store: Arc<dyn Store>,
        key: SecretKey,
        data_dir: &Path,
        policy: SessionPolicy,
    ) -> Self {
        let recovery = RecoveryHasher::new(&key.derive("recovery codes"));
        Self {
            store,
            key,
            recovery,
            hashing: Semaphore::new(HASHING_SLOTS),
            login_limiter: FailureLimiter::new(LockoutPolicy::default()),
            second_factor_limiter: FailureLimiter::new(LockoutPolicy::default()),
            policy,
            setup: setup::SetupToken::new(data_dir),
            clock: Arc::new(unix_now),
        }
    }

    /// Replaces the clock, for tests.
    pub fn with_clock(mut self, clock: Clock) -> Self {
        self.clock = clock;
        self
    }

    pub fn policy(&self) -> &SessionPolicy {
        &self.policy
    }

    fn now(&self) -> i64 {
        (self.clock)()
    }

    /// Runs CPU-heavy password work on the blocking pool, at most [`HASHING_SLOTS`] at once.
    async fn hash_work<T: Send + 'static>(
        &self,
        work: impl FnOnce() -> T + Send + 'static,
    ) -> Result<T, AccountError> {
        let _slot = tokio::time::timeout(HASHING_WAIT, self.hashing.acquire())
            .await
            .map_err(|_| AccountError::Busy)?
            .map_err(|_| AccountError::Busy)?;
        tokio::task::spawn_blocking(work)
            .await
            .map_err(|error| AccountError::Internal(format!("password hashing stopped: {error}")))
    }

    /// Appends an audit event, also for actions taken elsewhere, such as a source change. A
    /// failure to write it is logged and does not undo the action, which has already happened.
    pub async fn audit(
        &self,
        actor: &str,
        action: &str,
        target: Option<&str>,
        caller: &Caller,
        detail: Option<serde_json::Value>,
    ) {
        let event = NewAuditEvent {
            at: self.now(),
            actor: actor.to_owned(),
            action: action.to_owned(),
            target: target.map(str::to_owned),
            ip: caller.ip.map(|ip| ip.to_string()),
            user_agent: caller.user_agent.clone(),
            detail,
        };
        if let Err(error) = self.store.append_audit_event(&event).await {
            warn!(action, %error, "could not write an audit event");
        }
    }
}

impl Accounts {
    /// Returns audit events, newest first, for the admin API.
    pub async fn audit_events(
        &self,
        filter: &onesheet_store::AuditFilter,
    ) -> Result<Vec<onesheet_store::AuditEvent>, AccountError> {
        Ok(self.store.list_audit_events(filter).await?)
    }
}

/// True when `text` contains characters that change how a name displays without being seen:
/// controls, zero-width characters, soft hyphens, byte-order marks and bidirectional overrides
/// (`ad\u{202e}nim` shows as `admin`). Names in the audit log and token list must read as stored.
pub(crate) fn has_hidden_characters(text: &str) -> bool {
    text.chars().any(|character| {
        character.is_control()
            || matches!(
                character,
                '\u{00ad}'
                    | '\u{061c}'
                    | '\u{180e}'
                    | '\u{200b}'..='\u{200f}'
                    | '\u{202a}'..='\u{202e}'
                    | '\u{2060}'..='\u{2064}'
                    | '\u{2066}'..='\u{2069}'
                    | '\u{feff}'
            )
    })
}

/// Returns seconds since the Unix epoch, or 0 on a clock set before 1970.
pub fn unix_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |elapsed| {
            i64::try_from(elapsed.as_secs()).unwrap_or(i64::MAX)
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hidden_characters_are_found() {
        for name in [
            "ad\u{202e}min",
            "ad\u{200b}min",
            "\u{feff}admin",
            "ad\nmin",
            "ad\u{2066}min",
        ] {
            assert!(has_hidden_characters(name), "{name:?}");
        }
        for name in ["admin", "Zoë", "映画館", "home-assistant"] {
            assert!(!has_hidden_characters(name), "{name:?}");
        }
    }
}
