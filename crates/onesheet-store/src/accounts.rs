//! Admin accounts, their TOTP state, server-side sessions and API tokens, as the store keeps
//! them.
//!
//! The store keeps only what cannot be used to log in: password hashes, TOTP secrets sealed with
//! [`SecretKey::seal`](crate::SecretKey::seal), and hashes of session ids, recovery codes and API
//! tokens. Callers do the hashing and sealing. The `Debug` output of every type here prints `***`
//! in place of those values, so a type logged with `?` leaks no hash.

use std::fmt;

use unicode_normalization::UnicodeNormalization;

/// An administrator account.
#[derive(Clone, PartialEq, Eq)]
pub struct AdminAccount {
    pub id: i64,
    /// The username as entered at creation.
    pub username: String,
    /// PHC string of an argon2id hash, or a bcrypt `$2b$` hash imported from elsewhere.
    pub password_hash: String,
    /// Unix seconds. Equal to `created_at` until the first change.
    pub password_changed_at: i64,
    /// The confirmed TOTP secret, sealed by the caller. `None` while TOTP is off.
    pub totp_secret: Option<Vec<u8>>,
    /// A sealed secret that an enrolment started and no code has confirmed yet.
    pub totp_pending_secret: Option<Vec<u8>>,
    /// The last accepted TOTP time step (RFC 6238 counter), so a code is accepted only once.
    pub totp_last_step: Option<i64>,
    /// Unix seconds.
    pub created_at: i64,
}

impl AdminAccount {
    pub fn totp_enabled(&self) -> bool {
        self.totp_secret.is_some()
    }
}

impl fmt::Debug for AdminAccount {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AdminAccount")
            .field("id", &self.id)
            .field("username", &self.username)
            .field("password_hash", &Redacted)
            .field("password_changed_at", &self.password_changed_at)
            .field("totp_secret", &redact(&self.totp_secret))
            .field("totp_pending_secret", &redact(&self.totp_pending_secret))
            .field("totp_last_step", &self.totp_last_step)
            .field("created_at", &self.created_at)
            .finish()
    }
}

/// An account to create. The caller validates the username and hashes the password.
#[derive(Clone, PartialEq, Eq)]
pub struct NewAdmin {
    pub username: String,
    pub password_hash: String,
    /// Unix seconds.
    pub created_at: i64,
}

impl fmt::Debug for NewAdmin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("NewAdmin")
            .field("username", &self.username)
            .field("password_hash", &Redacted)
            .field("created_at", &self.created_at)
            .finish()
    }
}

/// Result of [`Store::delete_admin`](crate::Store::delete_admin).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AdminRemoval {
    Removed,
    NotFound,
    /// The account is the only one left. Removing it would reopen first-run setup, so the store
    /// rejects the removal.
    LastAdmin,
}

/// A server-side admin session. The store keeps a hash of the session id, never the id itself.
#[derive(Clone, PartialEq, Eq)]
pub struct StoredSession {
    /// Hash of the session id, computed by the caller. Primary key.
    pub id_hash: String,
    pub admin_id: i64,
    /// Unix seconds.
    pub created_at: i64,
    /// Unix seconds of the last request that refreshed the session.
    pub last_seen_at: i64,
    /// The session expires this many seconds after `last_seen_at`.
    pub idle_timeout_seconds: i64,
    /// Unix seconds after which the session expires however active it is.
    pub expires_at: i64,
    /// The password was accepted but the TOTP or recovery code is still missing.
    pub second_factor_pending: bool,
    /// The user asked to stay signed in, so the cookie outlives the browser session.
    pub remember: bool,
    /// Client address at login, truncated by the caller.
    pub client_ip: Option<String>,
    /// `User-Agent` at login, truncated by the caller.
    pub user_agent: Option<String>,
    /// The CSRF token bound to this session, or its hash.
    pub csrf_token: String,
}

impl StoredSession {
    /// Returns whether the session is still valid at `now_unix`. It expires once the idle
    /// timeout has passed since `last_seen_at`, or at `expires_at`, whichever comes first.
    pub fn is_live(&self, now_unix: i64) -> bool {
        let idle_deadline = self.last_seen_at.saturating_add(self.idle_timeout_seconds);
        now_unix < idle_deadline && now_unix < self.expires_at
    }
}

impl fmt::Debug for StoredSession {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StoredSession")
            .field("id_hash", &Redacted)
            .field("admin_id", &self.admin_id)
            .field("created_at", &self.created_at)
            .field("last_seen_at", &self.last_seen_at)
            .field("idle_timeout_seconds", &self.idle_timeout_seconds)
            .field("expires_at", &self.expires_at)
            .field("second_factor_pending", &self.second_factor_pending)
            .field("remember", &self.remember)
            .field("client_ip", &self.client_ip)
            .field("user_agent", &self.user_agent)
            .field("csrf_token", &Redacted)
            .finish()
    }
}

/// An API token to create. The caller generates the token, shows it once and passes its hash.
#[derive(Clone, PartialEq, Eq)]
pub struct NewApiToken {
    pub name: String,
    /// `read`, `devices` or `admin`, validated by the caller.
    pub scope: String,
    pub token_hash: String,
    /// The admin who created the token, or `None` when the command line did.
    pub created_by: Option<i64>,
    /// Unix seconds.
    pub created_at: i64,
}

impl fmt::Debug for NewApiToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("NewApiToken")
            .field("name", &self.name)
            .field("scope", &self.scope)
            .field("token_hash", &Redacted)
            .field("created_by", &self.created_by)
            .field("created_at", &self.created_at)
            .finish()
    }
}

/// An API token as stored, including revoked ones.
#[derive(Clone, PartialEq, Eq)]
pub struct StoredApiToken {
    pub id: i64,
    pub name: String,
    pub scope: String,
    pub token_hash: String,
    /// `None` when the command line created the token or its creator was deleted since.
    pub created_by: Option<i64>,
    /// Unix seconds.
    pub created_at: i64,
    /// Unix seconds.
    pub last_used_at: Option<i64>,
    /// Unix seconds. A revoked token no longer authenticates but stays listed.
    pub revoked_at: Option<i64>,
}

impl fmt::Debug for StoredApiToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StoredApiToken")
            .field("id", &self.id)
            .field("name", &self.name)
            .field("scope", &self.scope)
            .field("token_hash", &Redacted)
            .field("created_by", &self.created_by)
            .field("created_at", &self.created_at)
            .field("last_used_at", &self.last_used_at)
            .field("revoked_at", &self.revoked_at)
            .finish()
    }
}

/// Folds a username to the key that makes usernames unique. NFKC maps full-width and other
/// compatibility forms to their plain letters, and Unicode lowercasing removes case, so
/// `Admin`, `ADMIN` and `ａｄｍｉｎ` share one key.
pub fn username_key(username: &str) -> String {
    username.nfkc().collect::<String>().to_lowercase()
}

/// Placeholder printed by `Debug` in place of a hash or sealed value.
struct Redacted;

impl fmt::Debug for Redacted {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

fn redact<T>(value: &Option<T>) -> Option<Redacted> {
    value.as_ref().map(|_| Redacted)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_hides_hashes_and_secrets() {
        let admin = AdminAccount {
            id: 1,
            username: "alice".to_owned(),
            password_hash: "$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA".to_owned(),
            password_changed_at: 0,
            totp_secret: Some(b"sealed-secret".to_vec()),
            totp_pending_secret: None,
            totp_last_step: Some(7),
            created_at: 0,
        };
        let printed = format!("{admin:?}");
        assert!(!printed.contains("argon2id"), "{printed}");
        assert!(printed.contains("totp_secret: Some(***)"), "{printed}");
        assert!(printed.contains("totp_pending_secret: None"), "{printed}");
        assert!(printed.contains("alice"), "{printed}");

        let session = StoredSession {
            id_hash: "session-hash".to_owned(),
            admin_id: 1,
            created_at: 0,
            last_seen_at: 0,
            idle_timeout_seconds: 60,
            expires_at: 100,
            second_factor_pending: false,
            remember: false,
            client_ip: None,
            user_agent: None,
            csrf_token: "csrf-value".to_owned(),
        };
        let printed = format!("{session:?}");
        assert!(!printed.contains("session-hash"), "{printed}");
        assert!(!printed.contains("csrf-value"), "{printed}");

        let token = NewApiToken {
            name: "ci".to_owned(),
            scope: "read".to_owned(),
            token_hash: "token-hash".to_owned(),
            created_by: None,
            created_at: 0,
        };
        assert!(!format!("{token:?}").contains("token-hash"));
        let stored_token = StoredApiToken {
            id: 1,
            name: "ci".to_owned(),
            scope: "read".to_owned(),
            token_hash: "token-hash".to_owned(),
            created_by: None,
            created_at: 0,
            last_used_at: None,
            revoked_at: None,
        };
        assert!(!format!("{stored_token:?}").contains("token-hash"));
        let new_admin = NewAdmin {
            username: "bob".to_owned(),
            password_hash: "$2b$12$secret".to_owned(),
            created_at: 0,
        };
        assert!(!format!("{new_admin:?}").contains("$2b$"));
    }

    #[test]
    fn session_expires_at_idle_or_absolute_deadline() {
        let session = StoredSession {
            id_hash: String::new(),
            admin_id: 1,
            created_at: 1_000,
            last_seen_at: 1_000,
            idle_timeout_seconds: 600,
            expires_at: 1_500,
            second_factor_pending: false,
            remember: false,
            client_ip: None,
            user_agent: None,
            csrf_token: String::new(),
        };
        assert!(session.is_live(1_499));
        assert!(!session.is_live(1_500), "absolute expiry");

        let idle = StoredSession {
            expires_at: 10_000,
            ..session
        };
        assert!(idle.is_live(1_599));
        assert!(!idle.is_live(1_600), "idle expiry");
    }

    #[test]
    fn username_key_folds_case_and_width() {
        assert_eq!(username_key("Admin"), "admin");
        assert_eq!(username_key("ａｄｍｉｎ"), "admin");
        assert_eq!(username_key("ÄRGER"), "ärger");
        assert_ne!(username_key("admin"), username_key("admin2"));
    }
}
