//! API tokens for automation: a name, a scope, shown once, stored as a hash, revocable.
//!
//! Tokens are accepted only in `Authorization: Bearer`, never in a query string, where they
//! would end up in proxy logs and browser history. Their last use is recorded at most once a
//! minute, so a busy script costs no write per request.

use std::fmt;

use onesheet_auth::ApiToken;
use onesheet_store::{NewApiToken, StoredApiToken};

use super::sessions::SignedIn;
use super::{AccountError, Accounts, Caller};

/// Maximum length of a token name, in characters.
pub const MAX_NAME_CHARS: usize = 64;

/// How often `last_used_at` is written for one token, at most.
const USE_RECORD_INTERVAL_SECONDS: i64 = 60;

/// What a token may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TokenScope {
    /// Read the admin API: status, sources, devices, the audit log.
    Read,
    /// Read, and command and configure devices.
    Devices,
    /// Everything an admin can do through the API, except managing accounts.
    Admin,
}

impl TokenScope {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Read => "read",
            Self::Devices => "devices",
            Self::Admin => "admin",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "read" => Some(Self::Read),
            "devices" => Some(Self::Devices),
            "admin" => Some(Self::Admin),
            _ => None,
        }
    }

    /// True when a token of this scope may do what `needed` allows.
    pub fn covers(self, needed: TokenScope) -> bool {
        match needed {
            Self::Read => true,
            Self::Devices => matches!(self, Self::Devices | Self::Admin),
            Self::Admin => self == Self::Admin,
        }
    }
}

impl fmt::Display for TokenScope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A token just created: the secret, shown once, and its record.
#[derive(Debug)]
pub struct NewToken {
    pub secret: ApiToken,
    pub record: StoredApiToken,
}

impl Accounts {
    pub async fn create_token(
        &self,
        signed_in: &SignedIn,
        name: &str,
        scope: TokenScope,
        caller: &Caller,
    ) -> Result<NewToken, AccountError> {
        let admin = self.signed_in_admin(signed_in).await?;
        let name = name.trim();
        if let Some(ch) = onesheet_domain::find_bidi_control(name) {
            return Err(AccountError::InvalidToken {
                message: onesheet_domain::bidi_control_message("token name", ch),
            });
        }
        if name.is_empty()
            || name.chars().count() > MAX_NAME_CHARS
            || name.chars().any(char::is_control)
        {
            return Err(AccountError::InvalidToken {
                message: format!(
                    "the token name must have 1 to {MAX_NAME_CHARS} visible characters, such as home-assistant"
                ),
            });
        }
        let secret = ApiToken::generate();
        let record = self
            .store
            .insert_api_token(&NewApiToken {
                name: name.to_owned(),
                scope: scope.as_str().to_owned(),
                token_hash: secret.hash(),
                created_by: Some(admin.id),
                created_at: self.now(),
            })
            .await?;
        self.audit(
            &admin.username,
            "token.created",
            Some(name),
            caller,
            Some(serde_json::json!({ "id": record.id, "scope": scope.as_str() })),
        )
        .await;
        Ok(NewToken { secret, record })
    }

    pub async fn tokens(&self) -> Result<Vec<StoredApiToken>, AccountError> {
        Ok(self.store.list_api_tokens().await?)
    }

    pub async fn revoke_token(
        &self,
        signed_in: &SignedIn,
        id: i64,
        caller: &Caller,
    ) -> Result<(), AccountError> {
        let admin = self.signed_in_admin(signed_in).await?;
        let token = self
            .store
            .get_api_token(id)
            .await?
            .ok_or(AccountError::NotFound { what: "API token" })?;
        if !self.store.revoke_api_token(id, self.now()).await? {
            return Err(AccountError::NotFound { what: "API token" });
        }
        self.audit(
            &admin.username,
            "token.revoked",
            Some(&token.name),
            caller,
            Some(serde_json::json!({ "id": id })),
        )
        .await;
        Ok(())
    }

    /// Finds the active token for a bearer value and records its use. Malformed, unknown and
    /// revoked tokens give `None`.
    pub async fn token(
        &self,
        bearer: &str,
        caller: &Caller,
    ) -> Result<Option<(StoredApiToken, TokenScope)>, AccountError> {
        let Ok(token) = ApiToken::parse(bearer) else {
            return Ok(None);
        };
        let Some(record) = self.store.get_active_api_token(&token.hash()).await? else {
            return Ok(None);
        };
        let Some(scope) = TokenScope::parse(&record.scope) else {
            return Ok(None);
        };
        let now = self.now();
        let stale = record
            .last_used_at
            .is_none_or(|used| now - used >= USE_RECORD_INTERVAL_SECONDS);
        if stale {
            self.store.record_api_token_use(record.id, now).await?;
            let actor = format!("token:{}", record.name);
            self.audit(
                &actor,
                "token.used",
                None,
                caller,
                Some(serde_json::json!({ "id": record.id })),
            )
            .await;
        }
        Ok(Some((record, scope)))
    }
}
