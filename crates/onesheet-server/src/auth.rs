//! Authentication of admin requests: which proofs a request may carry and what each allows.
//!
//! A browser proves itself with the session cookie, and every change it asks for must also pass
//! the same-origin check, because a cookie is sent whatever site made the request. Scripts send
//! an API token (or the bootstrap `admin_token` from the configuration) as
//! `Authorization: Bearer <token>`; a header cannot be added by another site, so bearer
//! requests skip that check. A token in the query string is never accepted, because URLs end
//! up in logs and browser history.
//!
//! The proofs are extractors, so a handler that takes one cannot run unauthenticated.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use axum::extract::FromRequestParts;
use axum::http::header;
use axum::http::request::Parts;
use sha2::{Digest, Sha256};
use tokio::time::Instant;
use tracing::warn;

use crate::accounts::SESSION_COOKIE;
use crate::accounts::{Caller, SignedIn, TokenScope};
use crate::error::ApiError;
use crate::security::ClientAddress;
use crate::state::AppState;
use onesheet_auth::CsrfToken;

/// The configured bootstrap token, kept only as its SHA-256 digest.
#[derive(Clone)]
pub struct AdminToken {
    digest: [u8; 32],
}

impl std::fmt::Debug for AdminToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("AdminToken(***)")
    }
}

impl AdminToken {
    pub fn new(token: &str) -> Self {
        Self {
            digest: Sha256::digest(token.as_bytes()).into(),
        }
    }

    /// Compares digests in constant time: equal-length inputs, no early exit, so the time a
    /// wrong guess takes reveals nothing about how much of it was right.
    pub(crate) fn matches(&self, candidate: &str) -> bool {
        let candidate: [u8; 32] = Sha256::digest(candidate.as_bytes()).into();
        let difference = self
            .digest
            .iter()
            .zip(candidate)
            .fold(0u8, |acc, (a, b)| acc | (a ^ b));
        difference == 0
    }
}

/// Session cookies looked up per request. A browser sends one, or two when a sibling host
/// planted another; more only cost database lookups.
const MAX_SESSION_COOKIES: usize = 3;

/// Who is acting on an admin request.
#[derive(Debug, Clone)]
pub enum Actor {
    /// An admin signed in through the browser.
    Admin(SignedIn),
    /// An API token.
    Token {
        id: i64,
        name: String,
        scope: TokenScope,
    },
    /// The bootstrap token from the configuration.
    Bootstrap,
}

impl Actor {
    /// Returns the credential the request was admitted with.
    pub fn credential(&self) -> Credential {
        match self {
            Self::Admin(signed_in) => Credential::Session(signed_in.session_hash.clone()),
            Self::Token { id, .. } => Credential::Token(*id),
            Self::Bootstrap => Credential::Bootstrap,
        }
    }

    /// The name the audit log records.
    pub fn audit_name(&self) -> String {
        match self {
            Self::Admin(signed_in) => signed_in.username.clone(),
            Self::Token { name, .. } => format!("token:{name}"),
            Self::Bootstrap => "admin-token".to_owned(),
        }
    }
}

/// Proof that the request may use the admin API: a signed-in admin (with the same-origin check
/// on changes), an API token whose scope covers the method, or the bootstrap token. Take it as
/// a handler argument.
#[derive(Debug, Clone)]
pub struct AdminAccess {
    pub actor: Actor,
    pub caller: Caller,
}

/// Proof like [`AdminAccess`], except that an API token needs the `admin` scope for every
/// method, also for reads. It guards routes whose responses are as sensitive as a change, such
/// as the server log.
#[derive(Debug, Clone)]
pub struct FullAdminAccess(pub AdminAccess);

impl FromRequestParts<AppState> for FullAdminAccess {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        AdminAccess::authorize_scopes(parts, state, TokenScope::Admin, TokenScope::Admin)
            .await
            .map(Self)
    }
}

/// A signed-in admin whose second factor is done, for routes that manage the account itself
/// (password, two-factor, sessions, tokens). Tokens cannot reach these.
#[derive(Debug, Clone)]
pub struct AdminSession {
    pub signed_in: SignedIn,
    pub caller: Caller,
}

/// Any live session, also one still waiting for its second factor: for finishing that factor
/// and for logging out.
#[derive(Debug, Clone)]
pub struct AnySession {
    pub signed_in: SignedIn,
    pub caller: Caller,
}

/// The caller of any request, for routes open without a session (setup, login).
#[derive(Debug, Clone)]
pub struct RequestCaller {
    pub caller: Caller,
    pub https: bool,
}

impl FromRequestParts<AppState> for RequestCaller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &AppState) -> Result<Self, ApiError> {
        Ok(Self {
            caller: caller_of(parts),
            https: parts
                .extensions
                .get::<ClientAddress>()
                .is_some_and(|client| client.https),
        })
    }
}

/// Proof that the request may manage the screen fleet: devices, their profiles and groups,
/// and commands. It admits what [`AdminAccess`] admits, and also API tokens of the `devices`
/// scope for changes, so a script that pairs and commands screens needs no `admin` token.
#[derive(Debug, Clone)]
pub struct DeviceAccess(pub AdminAccess);

impl FromRequestParts<AppState> for DeviceAccess {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        AdminAccess::authorize(parts, state, TokenScope::Devices)
            .await
            .map(Self)
    }
}

impl FromRequestParts<AppState> for AdminAccess {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        Self::authorize(parts, state, TokenScope::Admin).await
    }
}

impl AdminAccess {
    /// Admits the request as [`AdminAccess`] describes, with API tokens needing `read` for
    /// safe methods and `change_scope` for the others.
    async fn authorize(
        parts: &mut Parts,
        state: &AppState,
        change_scope: TokenScope,
    ) -> Result<Self, ApiError> {
        Self::authorize_scopes(parts, state, TokenScope::Read, change_scope).await
    }

    /// Admits the request with API tokens needing `read_scope` for safe methods and
    /// `change_scope` for the others.
    async fn authorize_scopes(
        parts: &mut Parts,
        state: &AppState,
        read_scope: TokenScope,
        change_scope: TokenScope,
    ) -> Result<Self, ApiError> {
        let caller = caller_of(parts);
        if state.admin_token.is_none() && state.accounts.is_none() {
            return Err(ApiError::Disabled {
                reason: "the admin API is off: set admin_token (ONESHEET_ADMIN_TOKEN or ONESHEET_ADMIN_TOKEN_FILE) and restart",
            });
        }

        if let Some(header) = parts.headers.get(header::AUTHORIZATION) {
            let token = bearer_token(header)?;
            let needed = if parts.method.is_safe() {
                read_scope
            } else {
                change_scope
            };
            if let Some(accounts) = &state.accounts
                && let Some((record, scope)) = accounts.token(token, &caller).await?
            {
                if !scope.covers(needed) {
                    return Err(ApiError::Forbidden {
                        reason: "this API token's scope does not allow this request: create a token with a wider scope",
                    });
                }
                let actor = Actor::Token {
                    id: record.id,
                    name: record.name,
                    scope,
                };
                return Ok(Self { actor, caller });
            }
            if let Some(expected) = &state.admin_token
                && expected.matches(token)
            {
                return Ok(Self {
                    actor: Actor::Bootstrap,
                    caller,
                });
            }
            return Err(ApiError::Unauthorized {
                reason: "admin token rejected",
            });
        }

        let session = AdminSession::from_request_parts(parts, state).await?;
        Ok(Self {
            actor: Actor::Admin(session.signed_in),
            caller: session.caller,
        })
    }
}

impl FromRequestParts<AppState> for AdminSession {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let session = AnySession::from_request_parts(parts, state).await?;
        if session.signed_in.second_factor_pending {
            return Err(ApiError::Unauthorized {
                reason: "finish signing in: enter the code from your authenticator app",
            });
        }
        Ok(Self {
            signed_in: session.signed_in,
            caller: session.caller,
        })
    }
}

impl FromRequestParts<AppState> for AnySession {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        // Routes that take a session and no token manage the account itself, so the message
        // for a caller who sent a token explains that tokens cannot do this.
        let not_signed_in = if parts.headers.contains_key(header::AUTHORIZATION) {
            ApiError::Unauthorized {
                reason: "this request needs a signed-in admin: API tokens and the admin token cannot manage accounts, sessions or tokens",
            }
        } else {
            ApiError::Unauthorized {
                reason: "sign in first, or send an API token as Authorization: Bearer <token>",
            }
        };
        let Some(accounts) = &state.accounts else {
            return Err(not_signed_in);
        };
        // A second cookie of the same name may have been planted by a sibling host; the first
        // one that names a live session wins.
        let mut found = None;
        for value in session_cookies(&parts.headers).take(MAX_SESSION_COOKIES) {
            if let Some(signed_in) = accounts.session(value).await? {
                found = Some(signed_in);
                break;
            }
        }
        let signed_in = found.ok_or(not_signed_in)?;
        check_same_origin(parts, Some(&signed_in.csrf_token))?;
        Ok(Self {
            signed_in,
            caller: caller_of(parts),
        })
    }
}

/// Time between two checks that a live feed's credential is still valid. A revoked session or
/// token stops receiving within about this time.
pub const FEED_RECHECK_INTERVAL: Duration = Duration::from_secs(10);

/// The session or token that admitted a request. Long-lived responses keep it to check it
/// again, and count their streams per credential.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Credential {
    /// A browser session, by the hash of its id.
    Session(String),
    /// An API token, by its id.
    Token(i64),
    /// The bootstrap token from the configuration, which stays valid while the server runs.
    Bootstrap,
}

/// The periodic validity check of one live feed's credential.
pub struct FeedAccess {
    state: AppState,
    credential: Credential,
    next_check: Instant,
}

impl FeedAccess {
    pub fn new(state: AppState, credential: Credential) -> Self {
        Self {
            state,
            credential,
            next_check: Instant::now() + FEED_RECHECK_INTERVAL,
        }
    }

    /// Time of the next check. A feed waits for it next to its events, then calls
    /// [`Self::still_valid`].
    pub fn next_check(&self) -> Instant {
        self.next_check
    }

    /// Checks the credential again when the check is due, and returns false when the session
    /// ended or the token was revoked. A failed lookup also returns false, so the feed ends and
    /// the client reconnects through the normal access check.
    pub async fn still_valid(&mut self) -> bool {
        let now = Instant::now();
        if now < self.next_check {
            return true;
        }
        self.next_check = now + FEED_RECHECK_INTERVAL;
        let checked = match &self.credential {
            Credential::Bootstrap => Ok(true),
            Credential::Session(hash) => match &self.state.accounts {
                Some(accounts) => accounts
                    .session_is_live(hash)
                    .await
                    .map_err(|error| error.to_string()),
                None => Ok(false),
            },
            Credential::Token(id) => self
                .state
                .store
                .get_api_token(*id)
                .await
                .map(|token| token.is_some_and(|token| token.revoked_at.is_none()))
                .map_err(|error| error.to_string()),
        };
        checked.unwrap_or_else(|error| {
            warn!(%error, "checking a live feed's session or token failed, so the feed ends");
            false
        })
    }
}

/// Counts of open live feeds per credential, capped at one maximum for each.
#[derive(Debug)]
pub struct FeedSlots {
    max_per_credential: usize,
    open: Arc<Mutex<HashMap<Credential, usize>>>,
}

impl FeedSlots {
    pub fn new(max_per_credential: usize) -> Self {
        Self {
            max_per_credential,
            open: Arc::default(),
        }
    }

    pub fn max_per_credential(&self) -> usize {
        self.max_per_credential
    }

    /// Takes a slot for one more feed of `credential`, or returns `None` when it has the
    /// maximum open already. Dropping the slot frees it.
    pub fn try_take(&self, credential: &Credential) -> Option<FeedSlot> {
        let mut open = self.open.lock().unwrap_or_else(PoisonError::into_inner);
        let count = open.entry(credential.clone()).or_insert(0);
        if *count >= self.max_per_credential {
            return None;
        }
        *count += 1;
        Some(FeedSlot {
            open: Arc::clone(&self.open),
            credential: credential.clone(),
        })
    }
}

/// One open feed counted in [`FeedSlots`].
#[derive(Debug)]
pub struct FeedSlot {
    open: Arc<Mutex<HashMap<Credential, usize>>>,
    credential: Credential,
}

impl Drop for FeedSlot {
    fn drop(&mut self) {
        let mut open = self.open.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(count) = open.get_mut(&self.credential) {
            *count = count.saturating_sub(1);
            if *count == 0 {
                open.remove(&self.credential);
            }
        }
    }
}

/// Refuses a state-changing request that a browser sent from another site. Passes when the
/// request carries the session's CSRF token in `X-CSRF-Token`, or when the browser reports it is
/// same-origin (`Sec-Fetch-Site`) or sends an `Origin` equal to this server's. With `csrf_token`
/// `None` (no session yet: login, setup), a request with neither header passes, because only
/// scripts omit both and they cannot carry a victim's cookies.
pub(crate) fn check_same_origin(parts: &Parts, csrf_token: Option<&str>) -> Result<(), ApiError> {
    if parts.method.is_safe() {
        return Ok(());
    }
    let rejected = ApiError::Forbidden {
        reason: "cross-site request rejected: send the request from this server's own pages, or send the X-CSRF-Token header from GET /api/v1/auth/session",
    };

    if let (Some(expected), Some(sent)) = (csrf_token, parts.headers.get("x-csrf-token")) {
        let matches = sent
            .to_str()
            .is_ok_and(|sent| CsrfToken::parse(expected).is_ok_and(|token| token.equals(sent)));
        return if matches { Ok(()) } else { Err(rejected) };
    }

    if let Some(site) = parts.headers.get("sec-fetch-site") {
        return if site.as_bytes() == b"same-origin" {
            Ok(())
        } else {
            Err(rejected)
        };
    }

    if let Some(origin) = parts.headers.get(header::ORIGIN) {
        return if origin.to_str().ok() == own_origin(parts).as_deref() {
            Ok(())
        } else {
            Err(rejected)
        };
    }

    match csrf_token {
        None => Ok(()),
        Some(_) => Err(rejected),
    }
}

/// This server's origin as the browser sees it: the scheme the client used and the `Host`.
fn own_origin(parts: &Parts) -> Option<String> {
    let host = parts.headers.get(header::HOST)?.to_str().ok()?;
    let https = parts
        .extensions
        .get::<ClientAddress>()
        .is_some_and(|client| client.https);
    Some(format!("{}://{host}", if https { "https" } else { "http" }))
}

/// The values of every session cookie in the request.
pub(crate) fn session_cookies(headers: &axum::http::HeaderMap) -> impl Iterator<Item = &str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .filter(|(name, _)| *name == SESSION_COOKIE)
        .map(|(_, value)| value.trim())
}

fn bearer_token(header: &axum::http::HeaderValue) -> Result<&str, ApiError> {
    let header = header.to_str().map_err(|_| ApiError::Unauthorized {
        reason: "invalid Authorization header: expected Bearer <token>",
    })?;
    // The scheme name is case-insensitive (RFC 9110, section 11.1).
    header
        .split_once(' ')
        .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
        .map(|(_, token)| token.trim())
        .ok_or(ApiError::Unauthorized {
            reason: "invalid Authorization header: expected Bearer <token>",
        })
}

fn caller_of(parts: &Parts) -> Caller {
    let ip = parts
        .extensions
        .get::<ClientAddress>()
        .map(|client| client.ip);
    let agent = parts
        .headers
        .get(header::USER_AGENT)
        .and_then(|value| value.to_str().ok());
    Caller::new(ip, agent)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn token_matches_only_itself() {
        let token = AdminToken::new("correct-horse-battery");
        assert!(token.matches("correct-horse-battery"));
        assert!(!token.matches("correct-horse-batter"));
        assert!(!token.matches(""));
    }

    #[test]
    fn feed_slots_cap_each_credential() {
        let slots = FeedSlots::new(2);
        let token = Credential::Token(7);
        let first = slots.try_take(&token);
        let second = slots.try_take(&token);

        assert!(first.is_some());
        assert!(second.is_some());
        assert!(slots.try_take(&token).is_none());
        assert!(slots.try_take(&Credential::Bootstrap).is_some());

        drop(first);
        assert!(slots.try_take(&token).is_some());
    }

    #[test]
    fn debug_hides_digest() {
        assert_eq!(format!("{:?}", AdminToken::new("x")), "AdminToken(***)");
    }
}
