//! Authentication of admin requests.
//!
//! Until admin accounts exist, the admin API is protected by one bootstrap token from the
//! configuration (`admin_token`). A request proves it with `Authorization: Bearer <token>`;
//! a token in the query string is never accepted, because URLs end up in logs and browser
//! history. Without a configured token the admin API is switched off.
//!
//! [`AdminAccess`] is an extractor, so a handler that takes it cannot run unauthenticated, and
//! a later login layer can replace how it is satisfied without touching the handlers.

use axum::extract::FromRequestParts;
use axum::http::header;
use axum::http::request::Parts;
use sha2::{Digest, Sha256};

use crate::error::ApiError;
use crate::state::AppState;

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
    fn matches(&self, candidate: &str) -> bool {
        let candidate: [u8; 32] = Sha256::digest(candidate.as_bytes()).into();
        let difference = self
            .digest
            .iter()
            .zip(candidate)
            .fold(0u8, |acc, (a, b)| acc | (a ^ b));
        difference == 0
    }
}

/// Proof that the request carries the admin token. Take it as a handler argument.
#[derive(Debug, Clone, Copy)]
pub struct AdminAccess;

impl FromRequestParts<AppState> for AdminAccess {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let Some(expected) = &state.admin_token else {
            return Err(ApiError::Disabled {
                reason: "the admin API is off: set admin_token (ONESHEET_ADMIN_TOKEN or ONESHEET_ADMIN_TOKEN_FILE) and restart",
            });
        };
        let header = parts
            .headers
            .get(header::AUTHORIZATION)
            .and_then(|value| value.to_str().ok())
            .ok_or(ApiError::Unauthorized {
                reason: "missing admin token: send it as Authorization: Bearer <token>",
            })?;
        // The scheme name is case-insensitive (RFC 9110, section 11.1).
        let token = header
            .split_once(' ')
            .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
            .map(|(_, token)| token.trim())
            .ok_or(ApiError::Unauthorized {
                reason: "invalid Authorization header: expected Bearer <token>",
            })?;
        if !expected.matches(token) {
            return Err(ApiError::Unauthorized {
                reason: "admin token rejected",
            });
        }
        Ok(AdminAccess)
    }
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
    fn debug_hides_digest() {
        assert_eq!(format!("{:?}", AdminToken::new("x")), "AdminToken(***)");
    }
}
