//! First run: the one-time setup token that lets someone create the first admin.
//!
//! While no admin exists, anyone who can reach the server could otherwise claim it. The token
//! proves that the person at `/setup` can also read the server's log or its data folder. It is
//! generated at every start while setup is open, written to `data/setup-token` with mode 0600,
//! and forgotten once the first admin exists; from then on no request without a session can
//! create or change an admin.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use onesheet_auth::SessionId;
use onesheet_store::NewAdmin;
use sha2::{Digest, Sha256};
use tracing::{info, warn};

use super::sessions::SessionGrant;
use super::{AccountError, Accounts, Caller};

/// File name of the setup token inside the data folder.
pub const SETUP_TOKEN_FILE: &str = "setup-token";

pub(super) struct SetupToken {
    path: PathBuf,
    /// SHA-256 of the current token; `None` once setup is done or before it was opened.
    digest: Mutex<Option<[u8; 32]>>,
}

impl SetupToken {
    pub(super) fn new(data_dir: &Path) -> Self {
        Self {
            path: data_dir.join(SETUP_TOKEN_FILE),
            digest: Mutex::new(None),
        }
    }

    fn set(&self, digest: Option<[u8; 32]>) {
        *self
            .digest
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner()) = digest;
    }

    /// Compares in constant time against the current token.
    fn matches(&self, candidate: &str) -> bool {
        let current = *self
            .digest
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        let Some(current) = current else {
            return false;
        };
        let candidate: [u8; 32] = Sha256::digest(candidate.trim().as_bytes()).into();
        current
            .iter()
            .zip(candidate)
            .fold(0u8, |acc, (a, b)| acc | (a ^ b))
            == 0
    }

    fn remove_file(&self) {
        match std::fs::remove_file(&self.path) {
            Ok(()) => {}
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => {}
            Err(error) => {
                warn!(path = %self.path.display(), %error, "could not remove the setup token file; delete it by hand")
            }
        }
    }
}

impl Accounts {
    /// True while no admin exists.
    pub async fn setup_open(&self) -> Result<bool, AccountError> {
        Ok(self.store.count_admins().await? == 0)
    }

    /// Opens setup when no admin exists: makes a new token, writes it to the token file with
    /// mode 0600 and logs it. Returns the token, or `None` when an admin exists (and removes a
    /// leftover token file).
    pub async fn open_setup(&self) -> Result<Option<String>, AccountError> {
        if !self.setup_open().await? {
            self.setup.set(None);
            self.setup.remove_file();
            return Ok(None);
        }

        // 256 random bits in URL-safe base64, the same form as a session id.
        let token = SessionId::generate().as_str().to_owned();
        write_private(&self.setup.path, &token).map_err(|error| {
            AccountError::Internal(format!(
                "cannot write the setup token to {}: {error}",
                self.setup.path.display()
            ))
        })?;
        self.setup
            .set(Some(Sha256::digest(token.as_bytes()).into()));
        // The session cookie's path is the base path, where the setup wizard lives too.
        let base = self.policy.cookie_path.trim_end_matches('/');
        // In the message rather than a field: log redaction removes fields named like tokens,
        // and this one must reach the admin reading the log.
        info!(
            file = %self.setup.path.display(),
            "no admin account yet: create one in the setup wizard at {base}/admin/setup, or with POST {base}/api/v1/setup, using the setup token {token} (also in the file named here); the README's 'Admin account' section shows how"
        );
        Ok(Some(token))
    }

    /// Creates the first admin and signs them in. Fails when the token is wrong or an admin
    /// exists already, also when two requests race: the store inserts only into an empty table.
    pub async fn create_first_admin(
        &self,
        setup_token: &str,
        username: &str,
        password: &str,
        caller: &Caller,
    ) -> Result<SessionGrant, AccountError> {
        if !self.setup_open().await? {
            return Err(AccountError::SetupDone);
        }
        if !self.setup.matches(setup_token) {
            self.audit("setup", "setup.token_rejected", None, caller, None)
                .await;
            return Err(AccountError::SetupTokenRejected);
        }
        let username = validate_username(username)?;
        onesheet_auth::PasswordPolicy::default().check(password, &username)?;

        let password = password.to_owned();
        let hash = self
            .hash_work(move || onesheet_auth::hash_password(&password))
            .await?
            .map_err(|error| AccountError::Internal(error.to_string()))?;
        let new = NewAdmin {
            username: username.clone(),
            password_hash: hash,
            created_at: self.now(),
        };
        let Some(admin) = self.store.create_first_admin(&new).await? else {
            return Err(AccountError::SetupDone);
        };

        self.setup.set(None);
        self.setup.remove_file();
        self.audit(
            "setup",
            "admin.created",
            Some(&admin.username),
            caller,
            None,
        )
        .await;
        info!(username = %admin.username, "first admin created; setup is closed");
        self.start_session(&admin, false, false, None, caller).await
    }
}

/// Trims a username and checks it: 1 to 64 characters, no control characters.
pub(super) fn validate_username(username: &str) -> Result<String, AccountError> {
    let username = username.trim();
    let invalid = |message: &str| AccountError::InvalidUsername {
        message: message.to_owned(),
    };
    if username.is_empty() {
        return Err(invalid(
            "the username is empty: choose a name such as admin",
        ));
    }
    if username.chars().count() > 64 {
        return Err(invalid("the username is longer than 64 characters"));
    }
    if super::has_hidden_characters(username) {
        return Err(invalid(
            "the username contains invisible or direction-changing characters: type it with visible letters only",
        ));
    }
    Ok(username.to_owned())
}

/// Writes `text` to a new file readable by this user only, replacing an older one.
fn write_private(path: &Path, text: &str) -> std::io::Result<()> {
    use std::os::unix::fs::OpenOptionsExt;

    if let Some(folder) = path.parent() {
        std::fs::create_dir_all(folder)?;
    }
    // Removing first means the new file is created with 0600 even if an old one was wider.
    match std::fs::remove_file(path) {
        Ok(()) => {}
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => {}
        Err(error) => return Err(error),
    }
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)?;
    writeln!(file, "{text}")
}
