//! Server-side sessions and the cookie that carries their id.
//!
//! The cookie contains 256 random bits; the store keeps only their SHA-256, so a copy of the
//! database opens no session. A session ends after a period without requests (30 minutes, or
//! 30 days when "remember me" was ticked) and in any case a fixed time after login (7 days). Login and the second factor each issue a new
//! id and delete the old one, so an id planted in a browser before login is worth nothing after.

use std::time::Duration;

use onesheet_auth::{CsrfToken, SessionId};
use onesheet_store::{AdminAccount, StoredSession};

use super::{AccountError, Accounts, Caller};

/// Name of the session cookie.
pub const SESSION_COOKIE: &str = "onesheet_session";

/// `last_seen_at` is written at most this often per session, so browsing costs no write per
/// request.
const TOUCH_INTERVAL_SECONDS: i64 = 60;

/// When the session cookie gets the `Secure` attribute.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum CookieSecure {
    /// When the request came over HTTPS, directly or through a trusted proxy.
    #[default]
    Auto,
    Always,
    /// Never; for testing setups only.
    Never,
}

#[derive(Debug, Clone)]
pub struct SessionPolicy {
    pub idle: Duration,
    pub remember_idle: Duration,
    pub absolute: Duration,
    pub cookie_secure: CookieSecure,
    /// The cookie's `Path`: the base path, or `/`.
    pub cookie_path: String,
}

impl Default for SessionPolicy {
    fn default() -> Self {
        Self {
            idle: Duration::from_secs(30 * 60),
            remember_idle: Duration::from_secs(30 * 24 * 60 * 60),
            absolute: Duration::from_secs(7 * 24 * 60 * 60),
            cookie_secure: CookieSecure::Auto,
            cookie_path: "/".to_owned(),
        }
    }
}

impl SessionPolicy {
    /// The `Set-Cookie` value that stores `id` in the browser. A remembered session outlives
    /// the browser; any other one ends with it.
    pub fn cookie(&self, id: &SessionId, remember: bool, https: bool) -> String {
        let mut cookie = format!(
            "{SESSION_COOKIE}={}; Path={}; HttpOnly; SameSite=Lax",
            id.as_str(),
            self.cookie_path
        );
        if remember {
            let max_age = self.remember_idle.min(self.absolute).as_secs();
            cookie.push_str(&format!("; Max-Age={max_age}"));
        }
        if self.secure(https) {
            cookie.push_str("; Secure");
        }
        cookie
    }

    /// The `Set-Cookie` value that deletes the session cookie.
    pub fn clear_cookie(&self, https: bool) -> String {
        let mut cookie = format!(
            "{SESSION_COOKIE}=; Path={}; HttpOnly; SameSite=Lax; Max-Age=0",
            self.cookie_path
        );
        if self.secure(https) {
            cookie.push_str("; Secure");
        }
        cookie
    }

    fn secure(&self, https: bool) -> bool {
        match self.cookie_secure {
            CookieSecure::Auto => https,
            CookieSecure::Always => true,
            CookieSecure::Never => false,
        }
    }

    fn idle_seconds(&self, remember: bool) -> i64 {
        let idle = if remember {
            self.remember_idle
        } else {
            self.idle
        };
        i64::try_from(idle.as_secs()).unwrap_or(i64::MAX)
    }

    /// Seconds from login to the absolute end, remembered or not.
    fn lifetime_seconds(&self) -> i64 {
        i64::try_from(self.absolute.as_secs()).unwrap_or(i64::MAX)
    }
}

/// A new session: the id for the cookie (shown once) and what the store keeps.
#[derive(Debug)]
pub struct SessionGrant {
    pub id: SessionId,
    pub remember: bool,
    pub second_factor_pending: bool,
    pub username: String,
    pub csrf_token: String,
}

/// A signed-in admin, found from a session cookie.
#[derive(Debug, Clone)]
pub struct SignedIn {
    pub admin_id: i64,
    pub username: String,
    pub session_hash: String,
    pub csrf_token: String,
    /// True between a correct password and the second factor. Such a session can only finish
    /// the second factor or log out.
    pub second_factor_pending: bool,
    pub remember: bool,
    pub expires_at: i64,
}

impl Accounts {
    /// Creates a session for `admin`, replacing `previous` (by hash) when given, so the id
    /// changes at every step up.
    pub(super) async fn start_session(
        &self,
        admin: &AdminAccount,
        remember: bool,
        second_factor_pending: bool,
        previous: Option<&str>,
        caller: &Caller,
    ) -> Result<SessionGrant, AccountError> {
        let now = self.now();
        let id = SessionId::generate();
        let csrf_token = CsrfToken::generate().as_str().to_owned();
        let record = StoredSession {
            id_hash: id.hash(),
            admin_id: admin.id,
            created_at: now,
            last_seen_at: now,
            idle_timeout_seconds: self.policy.idle_seconds(remember),
            expires_at: now.saturating_add(self.policy.lifetime_seconds()),
            second_factor_pending,
            remember,
            client_ip: caller.ip.map(|ip| ip.to_string()),
            user_agent: caller.user_agent.clone(),
            csrf_token: csrf_token.clone(),
        };
        match previous {
            Some(previous) => {
                if !self.store.replace_session(previous, &record).await? {
                    return Err(AccountError::NotSignedIn);
                }
            }
            None => self.store.insert_session(&record).await?,
        }
        Ok(SessionGrant {
            id,
            remember,
            second_factor_pending,
            username: admin.username.clone(),
            csrf_token,
        })
    }

    /// Finds the live session for a cookie value. Malformed, unknown and expired ids all give
    /// `None`.
    pub async fn session(&self, cookie_value: &str) -> Result<Option<SignedIn>, AccountError> {
        let Ok(id) = SessionId::parse(cookie_value) else {
            return Ok(None);
        };
        let now = self.now();
        let hash = id.hash();
        let Some(session) = self.store.get_session(&hash, now).await? else {
            return Ok(None);
        };
        let Some(admin) = self.store.get_admin(session.admin_id).await? else {
            return Ok(None);
        };
        if now - session.last_seen_at >= TOUCH_INTERVAL_SECONDS {
            self.store.touch_session(&hash, now).await?;
        }
        Ok(Some(SignedIn {
            admin_id: admin.id,
            username: admin.username,
            session_hash: hash,
            csrf_token: session.csrf_token,
            second_factor_pending: session.second_factor_pending,
            remember: session.remember,
            expires_at: session
                .expires_at
                .min(now.saturating_add(session.idle_timeout_seconds)),
        }))
    }

    /// Returns whether the session with this id hash is still live, without counting the check
    /// as use of the session.
    pub async fn session_is_live(&self, session_hash: &str) -> Result<bool, AccountError> {
        Ok(self
            .store
            .get_session(session_hash, self.now())
            .await?
            .is_some())
    }

    pub async fn logout(&self, signed_in: &SignedIn, caller: &Caller) -> Result<(), AccountError> {
        self.store.delete_session(&signed_in.session_hash).await?;
        self.audit(&signed_in.username, "logout", None, caller, None)
            .await;
        Ok(())
    }

    /// Ends every session of the admin, this one included.
    pub async fn logout_everywhere(
        &self,
        signed_in: &SignedIn,
        caller: &Caller,
    ) -> Result<u64, AccountError> {
        let ended = self
            .store
            .delete_admin_sessions(signed_in.admin_id, None)
            .await?;
        self.audit(
            &signed_in.username,
            "logout.everywhere",
            None,
            caller,
            Some(serde_json::json!({ "sessions": ended })),
        )
        .await;
        Ok(ended)
    }

    /// The admin's live sessions, most recently used first.
    pub async fn sessions_of(
        &self,
        signed_in: &SignedIn,
    ) -> Result<Vec<StoredSession>, AccountError> {
        Ok(self
            .store
            .list_admin_sessions(signed_in.admin_id, self.now())
            .await?)
    }

    /// Ends one of the admin's own sessions, named by its hash.
    pub async fn revoke_session(
        &self,
        signed_in: &SignedIn,
        session_hash: &str,
        caller: &Caller,
    ) -> Result<(), AccountError> {
        let owned = self
            .sessions_of(signed_in)
            .await?
            .iter()
            .any(|session| session.id_hash == session_hash);
        if !owned || !self.store.delete_session(session_hash).await? {
            return Err(AccountError::NotFound { what: "session" });
        }
        self.audit(&signed_in.username, "session.revoked", None, caller, None)
            .await;
        Ok(())
    }

    /// Ends every session of the admin except `signed_in`'s own, and returns how many ended.
    pub async fn revoke_other_sessions(
        &self,
        signed_in: &SignedIn,
        caller: &Caller,
    ) -> Result<u64, AccountError> {
        let ended = self
            .store
            .delete_admin_sessions(signed_in.admin_id, Some(&signed_in.session_hash))
            .await?;
        self.audit(
            &signed_in.username,
            "session.revoked_others",
            None,
            caller,
            Some(serde_json::json!({ "sessions": ended })),
        )
        .await;
        Ok(ended)
    }
}
