//! Encryption of the secrets the database stores, such as media-server tokens.
//!
//! Each value is sealed with XChaCha20-Poly1305 under one 256-bit key. The 24-byte nonce is
//! random per value, which is safe at any number of values because the nonce space is large
//! enough that random nonces do not collide in practice. The caller passes associated data (for
//! example the row's id), so a sealed value copied into another row fails to open instead of
//! being accepted there.
//!
//! The key comes from configuration (`ONESHEET_SECRET_KEY` or `ONESHEET_SECRET_KEY_FILE`) or,
//! when neither is set, from `secret.key` in the data directory, generated on first use with
//! mode 0600. Losing that file makes the stored secrets unreadable; the sources then report that
//! their credentials must be entered again.

use std::fmt;
use std::io::Write;
use std::path::{Path, PathBuf};

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use chacha20poly1305::aead::{Aead, AeadCore, KeyInit, OsRng, Payload};
use chacha20poly1305::{Key, XChaCha20Poly1305, XNonce};
use tracing::{info, warn};

/// Length of the key in bytes.
pub const KEY_LEN: usize = 32;

/// First byte of every sealed value, so that a later change of cipher can tell old values apart.
const FORMAT_V1: u8 = 1;
const NONCE_LEN: usize = 24;
const TAG_LEN: usize = 16;

/// Name of the generated key file inside the data directory.
pub const KEY_FILE_NAME: &str = "secret.key";

#[derive(Debug, thiserror::Error)]
pub enum SecretError {
    #[error(
        "the secret key from {origin} is not a 256-bit key: expected 64 hex digits or 44 \
         base64 characters ({reason}); generate one with `openssl rand -base64 32`"
    )]
    InvalidKey { origin: String, reason: String },
    #[error("cannot read or create the secret key file {path}: {error}")]
    KeyFile {
        path: PathBuf,
        #[source]
        error: std::io::Error,
    },
    #[error(
        "the secret key file {path} can be read by other users (mode {mode:o}); \
         run `chmod 600 {path}`"
    )]
    KeyFileExposed { path: PathBuf, mode: u32 },
    /// Wrong key, damaged value or a value moved from another row: AEAD cannot tell which.
    #[error("a stored secret cannot be decrypted: the secret key changed or the value is damaged")]
    Undecryptable,
}

/// Origin of the key in use, for the start-up log and `config check`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeyOrigin {
    Configured,
    Generated(PathBuf),
    File(PathBuf),
}

/// The 256-bit key that seals stored secrets. Prints as `***`.
#[derive(Clone)]
pub struct SecretKey {
    cipher: XChaCha20Poly1305,
    /// Key for [`derive`](Self::derive), itself derived from the key, so no caller ever gets
    /// the sealing key's bytes.
    derivation: [u8; KEY_LEN],
}

impl fmt::Debug for SecretKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SecretKey(***)")
    }
}

impl SecretKey {
    /// Parses a key written as 64 hex digits or as standard base64 of 32 bytes. Surrounding
    /// whitespace is ignored, because key files usually end with a newline.
    pub fn parse(text: &str, origin: &str) -> Result<Self, SecretError> {
        let text = text.trim();
        let invalid = |reason: String| SecretError::InvalidKey {
            origin: origin.to_owned(),
            reason,
        };

        let bytes = if text.len() == 2 * KEY_LEN && text.bytes().all(|b| b.is_ascii_hexdigit()) {
            hex::decode(text).map_err(|error| invalid(format!("not hex: {error}")))?
        } else {
            STANDARD
                .decode(text)
                .map_err(|error| invalid(format!("not base64: {error}")))?
        };
        let bytes: [u8; KEY_LEN] = bytes
            .try_into()
            .map_err(|bytes: Vec<u8>| invalid(format!("decodes to {} bytes", bytes.len())))?;
        Ok(Self::from_bytes(&bytes))
    }

    pub fn from_bytes(bytes: &[u8; KEY_LEN]) -> Self {
        Self {
            cipher: XChaCha20Poly1305::new(Key::from_slice(bytes)),
            derivation: hmac_sha256(bytes, b"onesheet key derivation v1"),
        }
    }

    /// Returns a 256-bit key for one purpose, named by `label`, such as the key of the
    /// recovery-code hashes. Different labels give unrelated keys, and none reveals this key.
    pub fn derive(&self, label: &str) -> [u8; KEY_LEN] {
        hmac_sha256(&self.derivation, label.as_bytes())
    }

    /// Returns the configured key, or the one in `<data_dir>/secret.key`, creating that file
    /// with a fresh random key and mode 0600 when it does not exist yet.
    pub fn load_or_generate(
        configured: Option<&str>,
        data_dir: &Path,
    ) -> Result<(Self, KeyOrigin), SecretError> {
        if let Some(text) = configured {
            let key = Self::parse(text, "secret_key")?;
            return Ok((key, KeyOrigin::Configured));
        }

        let path = data_dir.join(KEY_FILE_NAME);
        match std::fs::read_to_string(&path) {
            Ok(text) => {
                check_private(&path)?;
                let key = Self::parse(&text, &path.display().to_string())?;
                Ok((key, KeyOrigin::File(path)))
            }
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => {
                let key = generate_key_file(&path)?;
                info!(path = %path.display(), "generated a secret key for stored credentials; back it up with the database");
                Ok((key, KeyOrigin::Generated(path)))
            }
            Err(error) => Err(SecretError::KeyFile { path, error }),
        }
    }

    /// Encrypts `plaintext`, binding it to `associated` (not stored, must be given again to
    /// open it).
    pub fn seal(&self, plaintext: &[u8], associated: &[u8]) -> Vec<u8> {
        let nonce = XChaCha20Poly1305::generate_nonce(&mut OsRng);
        let payload = Payload {
            msg: plaintext,
            aad: associated,
        };

        // Encryption fails only for messages longer than the cipher's 256 GiB limit, which no
        // credential reaches. An empty result would then fail to open rather than leak anything.
        let ciphertext = self.cipher.encrypt(&nonce, payload).unwrap_or_default();

        let mut sealed = Vec::with_capacity(1 + NONCE_LEN + ciphertext.len());
        sealed.push(FORMAT_V1);
        sealed.extend_from_slice(&nonce);
        sealed.extend_from_slice(&ciphertext);
        sealed
    }

    /// Decrypts a value made by [`seal`](Self::seal) with the same associated data.
    pub fn open(&self, sealed: &[u8], associated: &[u8]) -> Result<Vec<u8>, SecretError> {
        if sealed.len() < 1 + NONCE_LEN + TAG_LEN || sealed[0] != FORMAT_V1 {
            return Err(SecretError::Undecryptable);
        }
        let nonce = XNonce::from_slice(&sealed[1..1 + NONCE_LEN]);
        let payload = Payload {
            msg: &sealed[1 + NONCE_LEN..],
            aad: associated,
        };
        self.cipher
            .decrypt(nonce, payload)
            .map_err(|_| SecretError::Undecryptable)
    }
}

fn hmac_sha256(key: &[u8], message: &[u8]) -> [u8; KEY_LEN] {
    use hmac::{Hmac, Mac};

    // HMAC accepts keys of any length, so `new_from_slice` cannot fail here.
    match <Hmac<sha2::Sha256> as Mac>::new_from_slice(key) {
        Ok(mut mac) => {
            mac.update(message);
            mac.finalize().into_bytes().into()
        }
        Err(_) => [0; KEY_LEN],
    }
}

/// Writes a new random key with mode 0600. `create_new` makes a second process that races this
/// one fail instead of overwriting the key the first one already used.
fn generate_key_file(path: &Path) -> Result<SecretKey, SecretError> {
    let mut bytes = [0u8; KEY_LEN];
    let key = XChaCha20Poly1305::generate_key(&mut OsRng);
    bytes.copy_from_slice(&key);

    let file_error = |error| SecretError::KeyFile {
        path: path.to_path_buf(),
        error,
    };
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).map_err(file_error)?;
    }
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options.open(path).map_err(file_error)?;
    file.write_all(format!("{}\n", STANDARD.encode(bytes)).as_bytes())
        .and_then(|()| file.sync_all())
        .map_err(file_error)?;
    Ok(SecretKey::from_bytes(&bytes))
}

/// Rejects a key file that group or others can read, as ssh does for private keys.
fn check_private(path: &Path) -> Result<(), SecretError> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let metadata = std::fs::metadata(path).map_err(|error| SecretError::KeyFile {
            path: path.to_path_buf(),
            error,
        })?;
        let mode = metadata.permissions().mode() & 0o777;
        if mode & 0o077 != 0 {
            warn!(path = %path.display(), mode = format!("{mode:o}"), "secret key file is readable by other users");
            return Err(SecretError::KeyFileExposed {
                path: path.to_path_buf(),
                mode,
            });
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    const HEX_KEY: &str = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f";

    #[test]
    fn seal_and_open_round_trip() {
        let key = SecretKey::parse(HEX_KEY, "test").unwrap();
        let sealed = key.seal(b"plex-token", b"source:living-room");
        assert!(!sealed.windows(10).any(|w| w == b"plex-token"));
        assert_eq!(
            key.open(&sealed, b"source:living-room").unwrap(),
            b"plex-token"
        );
    }

    #[test]
    fn nonces_differ_between_seals() {
        let key = SecretKey::parse(HEX_KEY, "test").unwrap();
        assert_ne!(key.seal(b"same", b"a"), key.seal(b"same", b"a"));
    }

    #[test]
    fn open_rejects_other_row() {
        let key = SecretKey::parse(HEX_KEY, "test").unwrap();
        let sealed = key.seal(b"token", b"source:a");
        assert!(matches!(
            key.open(&sealed, b"source:b"),
            Err(SecretError::Undecryptable)
        ));
    }

    #[test]
    fn derived_keys_depend_on_key_and_label() {
        let key = SecretKey::parse(HEX_KEY, "test").unwrap();
        let other = SecretKey::from_bytes(&[9; KEY_LEN]);
        assert_ne!(key.derive("recovery"), other.derive("recovery"));
        assert_ne!(key.derive("recovery"), key.derive("sessions"));
        assert_eq!(
            key.derive("recovery"),
            SecretKey::parse(HEX_KEY, "again")
                .unwrap()
                .derive("recovery")
        );
    }

    #[test]
    fn open_rejects_other_key_and_damage() {
        let key = SecretKey::parse(HEX_KEY, "test").unwrap();
        let other = SecretKey::from_bytes(&[9; KEY_LEN]);
        let mut sealed = key.seal(b"token", b"a");
        assert!(other.open(&sealed, b"a").is_err());

        let last = sealed.len() - 1;
        sealed[last] ^= 1;
        assert!(key.open(&sealed, b"a").is_err());
        assert!(key.open(&sealed[..10], b"a").is_err());
        assert!(key.open(&[], b"a").is_err());
    }

    #[test]
    fn parse_accepts_hex_and_base64() {
        let from_hex = SecretKey::parse(&format!("  {HEX_KEY}\n"), "test").unwrap();
        let base64 = STANDARD.encode(hex::decode(HEX_KEY).unwrap());
        let from_base64 = SecretKey::parse(&base64, "test").unwrap();
        let sealed = from_hex.seal(b"x", b"");
        assert_eq!(from_base64.open(&sealed, b"").unwrap(), b"x");
    }

    #[test]
    fn parse_rejects_short_and_garbage() {
        for text in ["", "abc", "correct horse battery staple", &HEX_KEY[..62]] {
            let error = SecretKey::parse(text, "ONESHEET_SECRET_KEY").unwrap_err();
            let message = error.to_string();
            assert!(message.contains("ONESHEET_SECRET_KEY"), "{message}");
            assert!(message.contains("openssl rand"), "{message}");
        }
    }

    #[cfg(unix)]
    #[test]
    fn generated_key_file_is_private_and_reused() {
        use std::os::unix::fs::PermissionsExt;

        let dir = tempfile::tempdir().unwrap();
        let (first, origin) = SecretKey::load_or_generate(None, dir.path()).unwrap();
        let path = dir.path().join(KEY_FILE_NAME);
        assert_eq!(origin, KeyOrigin::Generated(path.clone()));
        let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);

        let sealed = first.seal(b"token", b"a");
        let (second, origin) = SecretKey::load_or_generate(None, dir.path()).unwrap();
        assert_eq!(origin, KeyOrigin::File(path));
        assert_eq!(second.open(&sealed, b"a").unwrap(), b"token");
    }

    #[cfg(unix)]
    #[test]
    fn readable_key_file_is_rejected() {
        use std::os::unix::fs::PermissionsExt;

        let dir = tempfile::tempdir().unwrap();
        SecretKey::load_or_generate(None, dir.path()).unwrap();
        let path = dir.path().join(KEY_FILE_NAME);
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
        let error = SecretKey::load_or_generate(None, dir.path()).unwrap_err();
        assert!(
            matches!(error, SecretError::KeyFileExposed { .. }),
            "{error}"
        );
        assert!(error.to_string().contains("chmod 600"), "{error}");
    }

    #[test]
    fn configured_key_wins_over_file() {
        let dir = tempfile::tempdir().unwrap();
        let (_, origin) = SecretKey::load_or_generate(Some(HEX_KEY), dir.path()).unwrap();
        assert_eq!(origin, KeyOrigin::Configured);
        assert!(!dir.path().join(KEY_FILE_NAME).exists());
    }

    #[test]
    fn debug_hides_key() {
        let key = SecretKey::parse(HEX_KEY, "test").unwrap();
        assert_eq!(format!("{key:?}"), "SecretKey(***)");
    }
}
