//! Password login and password changes.
//!
//! Every attempt, for a known username or not, runs one argon2id verification, so the response
//! time does not tell which usernames exist. Attempts are limited per client address and per
//! account name (see [`FailureLimiter`](crate::security::FailureLimiter)); a blocked attempt is
//! rejected before any password is checked.

use std::time::Instant;

use onesheet_auth::{PasswordPolicy, SessionId, Verification};
use tracing::{info, warn};

use super::sessions::{SessionGrant, SignedIn};
use super::{AccountError, Accounts, Caller};
use crate::security::LimitKey;

/// What a correct password leads to.
#[derive(Debug)]
pub enum LoginOutcome {
    SignedIn(SessionGrant),
    /// The account has two-factor authentication: the session may only finish it.
    SecondFactorRequired(SessionGrant),
}

impl Accounts {
    /// Checks the password and starts a session. `previous_sessions` are the session cookie
    /// values the browser sent, which end here: a login never keeps an id that existed before
    /// it, whoever it belonged to.
    pub async fn login(
        &self,
        username: &str,
        password: &str,
        remember: bool,
        previous_sessions: &[&str],
        caller: &Caller,
    ) -> Result<LoginOutcome, AccountError> {
        let keys = limit_keys(caller, username);
        self.check_limit(&self.login_limiter, &keys)?;

        let admin = self.store.get_admin_by_username(username).await?;
        // A known account is named in the audit log; an unknown name is not stored, because
        // people type passwords into the username box.
        let actor = admin.as_ref().map_or_else(
            || "(unknown user)".to_owned(),
            |admin| admin.username.clone(),
        );
        let candidate = password.to_owned();
        let verification = match &admin {
            Some(admin) => {
                let stored = admin.password_hash.clone();
                self.hash_work(move || onesheet_auth::verify_password(&stored, &candidate))
                    .await?
            }
            None => {
                self.hash_work(move || onesheet_auth::verify_dummy(&candidate))
                    .await?;
                Verification::Rejected
            }
        };

        let (Some(admin), Verification::Accepted { rehash }) = (admin, verification) else {
            if let Verification::Unsupported { reason } = verification {
                warn!(
                    reason,
                    "a stored password hash cannot be used; reset the password with `onesheet admin reset-password`"
                );
            }
            self.audit(&actor, "login.failure", None, caller, None)
                .await;
            return Err(AccountError::InvalidCredentials);
        };

        self.login_limiter.record_success(&keys);
        for previous in previous_sessions {
            if let Ok(id) = SessionId::parse(previous) {
                self.store.delete_session(&id.hash()).await?;
            }
        }
        if rehash {
            self.upgrade_hash(&admin, password).await;
        }
        let pending = admin.totp_enabled();
        let grant = self
            .start_session(&admin, remember, pending, None, caller)
            .await?;
        self.audit(
            &admin.username,
            if pending {
                "login.password_ok"
            } else {
                "login.success"
            },
            None,
            caller,
            None,
        )
        .await;
        Ok(if pending {
            LoginOutcome::SecondFactorRequired(grant)
        } else {
            LoginOutcome::SignedIn(grant)
        })
    }

    /// Replaces an imported or outdated hash after a correct login. A failure only leaves the
    /// old hash in place, which still works.
    async fn upgrade_hash(&self, admin: &onesheet_store::AdminAccount, password: &str) {
        let password = password.to_owned();
        let hash = match self
            .hash_work(move || onesheet_auth::hash_password(&password))
            .await
        {
            Ok(Ok(hash)) => hash,
            Ok(Err(error)) => {
                warn!(%error, "could not rehash a password");
                return;
            }
            Err(error) => {
                warn!(%error, "could not rehash a password");
                return;
            }
        };
        match self
            .store
            .upgrade_password_hash(admin.id, &admin.password_hash, &hash)
            .await
        {
            Ok(true) => {
                info!(username = %admin.username, "password hash upgraded to the current argon2id parameters")
            }
            Ok(false) => {}
            Err(error) => warn!(%error, "could not store an upgraded password hash"),
        }
    }

    /// Changes the signed-in admin's password after checking the current one, and ends every
    /// other session of the admin.
    pub async fn change_password(
        &self,
        signed_in: &SignedIn,
        current: &str,
        new: &str,
        caller: &Caller,
    ) -> Result<(), AccountError> {
        let keys = [LimitKey::account(&signed_in.username)];
        self.check_limit(&self.login_limiter, &keys)?;
        let admin = self
            .store
            .get_admin(signed_in.admin_id)
            .await?
            .ok_or(AccountError::NotSignedIn)?;

        let stored = admin.password_hash.clone();
        let candidate = current.to_owned();
        let verification = self
            .hash_work(move || onesheet_auth::verify_password(&stored, &candidate))
            .await?;
        if !verification.is_accepted() {
            self.audit(
                &admin.username,
                "password.change_rejected",
                None,
                caller,
                None,
            )
            .await;
            return Err(AccountError::WrongPassword);
        }
        PasswordPolicy::default().check(new, &admin.username)?;

        let new = new.to_owned();
        let hash = self
            .hash_work(move || onesheet_auth::hash_password(&new))
            .await?
            .map_err(|error| AccountError::Internal(error.to_string()))?;
        self.store
            .change_password(admin.id, &hash, self.now())
            .await?;
        let ended = self
            .store
            .delete_admin_sessions(admin.id, Some(&signed_in.session_hash))
            .await?;
        self.audit(
            &admin.username,
            "password.changed",
            None,
            caller,
            Some(serde_json::json!({ "other_sessions_ended": ended })),
        )
        .await;
        Ok(())
    }

    /// Starts a limited attempt, counted as a failure until a success clears it.
    pub(super) fn check_limit(
        &self,
        limiter: &crate::security::FailureLimiter,
        keys: &[LimitKey],
    ) -> Result<(), AccountError> {
        limiter
            .try_attempt(keys, Instant::now())
            .map_err(|blocked| AccountError::Blocked {
                retry_after_seconds: blocked.retry_after_seconds(),
            })
    }
}

/// The buckets an attempt counts against: the client's address when known, and the account.
pub(super) fn limit_keys(caller: &Caller, username: &str) -> Vec<LimitKey> {
    let mut keys = vec![LimitKey::account(username)];
    if let Some(ip) = caller.ip {
        keys.push(LimitKey::client(ip));
    }
    keys
}
