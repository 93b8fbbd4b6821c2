//! Device secrets, pairing codes and pairing tickets: drawing them, hashing them for the store,
//! and checking a presented secret against its stored hash.
//!
//! The store keeps HMAC-SHA256 values under a key derived from the server's secret key, never
//! the values themselves, so a copy of the database does not let anyone act as a screen or claim a code.
//! A plain hash would not do for pairing codes: six characters from a 30-letter alphabet are
//! about 7 × 10^8 values, which anyone holding the database could try in seconds.

use hmac::{Hmac, Mac};
use onesheet_domain::device::pairing::PAIRING_CODE_RANDOM_BYTES;
use onesheet_domain::device::{DEVICE_ID_RANDOM_BYTES, SECRET_RANDOM_BYTES};
use onesheet_domain::{DeviceId, DeviceSecret, PairingCode, PairingTicket};
use onesheet_store::SecretKey;
use rand::TryRngCore;
use rand::rngs::OsRng;
use sha2::Sha256;
use subtle::ConstantTimeEq;

/// The label of the key derived from the server's secret key for device credentials.
const KEY_LABEL: &str = "device-secret";

/// Name of the header that carries a device credential as `<id>:<secret>`.
pub const DEVICE_HEADER: &str = "x-onesheet-device";

/// Name of the cookie that carries a device credential as `<id>:<secret>`.
pub const DEVICE_COOKIE: &str = "onesheet_device";

/// Keyed hashing of device credentials. `Debug` prints `***`.
#[derive(Clone)]
pub(crate) struct CredentialHasher {
    key: [u8; 32],
}

impl std::fmt::Debug for CredentialHasher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("CredentialHasher(***)")
    }
}

impl CredentialHasher {
    pub(crate) fn new(key: &SecretKey) -> Self {
        Self {
            key: key.derive(KEY_LABEL),
        }
    }

    /// Returns the lowercase hex HMAC of `value` in the domain `kind`, so a secret, a code and a
    /// ticket with the same text never share a hash.
    fn hash(&self, kind: &str, value: &str) -> String {
        // HMAC accepts keys of any length, so this arm is never taken with a 32-byte key.
        let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(&self.key) else {
            return String::new();
        };
        mac.update(kind.as_bytes());
        mac.update(b"\0");
        mac.update(value.as_bytes());
        hex::encode(mac.finalize().into_bytes())
    }

    /// Returns the secret a claimed device receives: the HMAC of its pairing ticket and id. The
    /// same ticket and device always give the same secret, which cannot be computed without
    /// the server's key.
    pub(crate) fn secret_for_ticket(
        &self,
        ticket: &PairingTicket,
        device_id: &DeviceId,
    ) -> DeviceSecret {
        let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(&self.key) else {
            return new_secret();
        };
        for part in ["paired", ticket.expose(), device_id.as_str()] {
            mac.update(part.as_bytes());
            mac.update(b"\0");
        }
        let bytes: [u8; SECRET_RANDOM_BYTES] = mac.finalize().into_bytes().into();
        DeviceSecret::from_random(&bytes)
    }

    pub(crate) fn secret_hash(&self, secret: &DeviceSecret) -> String {
        self.hash("secret", secret.expose())
    }

    pub(crate) fn code_hash(&self, code: &PairingCode) -> String {
        self.hash("code", code.as_str())
    }

    pub(crate) fn ticket_hash(&self, ticket: &PairingTicket) -> String {
        self.hash("ticket", ticket.expose())
    }

    /// Compares the hash of `secret` with `stored` in constant time.
    pub(crate) fn secret_matches(&self, secret: &DeviceSecret, stored: &str) -> bool {
        let computed = self.secret_hash(secret);
        computed.as_bytes().ct_eq(stored.as_bytes()).into()
    }
}

/// Fills `buffer` from the operating system's CSPRNG.
///
/// Panics inside `rand` if the operating system cannot supply random bytes, as the account
/// tokens do: there is no safe fallback for a secret.
fn fill_random(buffer: &mut [u8]) {
    let mut rng = OsRng.unwrap_err();
    rand::RngCore::fill_bytes(&mut rng, buffer);
}

pub(crate) fn new_device_id() -> DeviceId {
    let mut bytes = [0u8; DEVICE_ID_RANDOM_BYTES];
    fill_random(&mut bytes);
    DeviceId::from_random(&bytes)
}

pub(crate) fn new_secret() -> DeviceSecret {
    let mut bytes = [0u8; SECRET_RANDOM_BYTES];
    fill_random(&mut bytes);
    DeviceSecret::from_random(&bytes)
}

pub(crate) fn new_ticket() -> PairingTicket {
    let mut bytes = [0u8; SECRET_RANDOM_BYTES];
    fill_random(&mut bytes);
    PairingTicket::from_random(&bytes)
}

/// Draws a pairing code, drawing again in the rare case that the bytes run short (see
/// [`PairingCode::from_random`]).
pub(crate) fn new_pairing_code() -> PairingCode {
    loop {
        let mut bytes = [0u8; PAIRING_CODE_RANDOM_BYTES];
        fill_random(&mut bytes);
        if let Some(code) = PairingCode::from_random(&bytes) {
            return code;
        }
    }
}

/// A device id and secret as a screen presents them in the header or cookie: `<id>:<secret>`.
#[derive(Clone)]
pub struct DeviceCredential {
    pub device_id: DeviceId,
    pub secret: DeviceSecret,
}

impl std::fmt::Debug for DeviceCredential {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DeviceCredential")
            .field("device_id", &self.device_id)
            .field("secret", &self.secret)
            .finish()
    }
}

impl DeviceCredential {
    /// Reads `<id>:<secret>`. Returns `None` for any other shape, without saying which part is
    /// wrong, because the value may be a real secret with a typo.
    pub fn parse(text: &str) -> Option<Self> {
        let (id, secret) = text.trim().split_once(':')?;
        Some(Self {
            device_id: id.parse().ok()?,
            secret: DeviceSecret::try_from(secret.to_owned()).ok()?,
        })
    }

    /// Returns the `<id>:<secret>` text for the cookie.
    pub fn to_header_value(&self) -> String {
        format!("{}:{}", self.device_id, self.secret.expose())
    }

    /// Finds a credential in the request's device header or, failing that, its device cookie.
    pub fn from_headers(headers: &axum::http::HeaderMap) -> Option<Self> {
        if let Some(value) = headers.get(DEVICE_HEADER) {
            return value.to_str().ok().and_then(Self::parse);
        }
        Self::from_cookie(headers)
    }

    /// Finds a credential in the request's device cookie.
    pub fn from_cookie(headers: &axum::http::HeaderMap) -> Option<Self> {
        headers
            .get_all(axum::http::header::COOKIE)
            .iter()
            .filter_map(|value| value.to_str().ok())
            .flat_map(|value| value.split(';'))
            .filter_map(|pair| pair.trim().split_once('='))
            .filter(|(name, _)| *name == DEVICE_COOKIE)
            .find_map(|(_, value)| Self::parse(value))
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    fn hasher() -> CredentialHasher {
        CredentialHasher::new(&SecretKey::from_bytes(&[3; 32]))
    }

    #[test]
    fn ticket_secret_is_repeatable() {
        let hasher = hasher();
        let ticket = PairingTicket::from_random(&[7; SECRET_RANDOM_BYTES]);
        let other_ticket = PairingTicket::from_random(&[8; SECRET_RANDOM_BYTES]);
        let device: DeviceId = "d-one".parse().unwrap();
        let other_device: DeviceId = "d-two".parse().unwrap();

        let secret = hasher.secret_for_ticket(&ticket, &device);
        assert_eq!(
            secret.expose(),
            hasher.secret_for_ticket(&ticket, &device).expose()
        );
        assert_ne!(
            secret.expose(),
            hasher.secret_for_ticket(&other_ticket, &device).expose()
        );
        assert_ne!(
            secret.expose(),
            hasher.secret_for_ticket(&ticket, &other_device).expose()
        );
        let other_key = CredentialHasher::new(&SecretKey::from_bytes(&[4; 32]));
        assert_ne!(
            secret.expose(),
            other_key.secret_for_ticket(&ticket, &device).expose()
        );
    }

    #[test]
    fn secret_matches_only_its_hash() {
        let hasher = hasher();
        let secret = new_secret();
        let stored = hasher.secret_hash(&secret);

        assert!(hasher.secret_matches(&secret, &stored));
        assert!(!hasher.secret_matches(&new_secret(), &stored));
        assert!(!hasher.secret_matches(&secret, ""));
    }

    #[test]
    fn hash_domains_differ() {
        let hasher = hasher();
        let text = "1".repeat(64);
        let secret = DeviceSecret::try_from(text.clone()).unwrap();
        let ticket = PairingTicket::try_from(text).unwrap();

        assert_ne!(hasher.secret_hash(&secret), hasher.ticket_hash(&ticket));
    }

    #[test]
    fn hash_depends_on_server_key() {
        let other = CredentialHasher::new(&SecretKey::from_bytes(&[4; 32]));
        let code: PairingCode = "K7M2QX".parse().unwrap();

        assert_ne!(hasher().code_hash(&code), other.code_hash(&code));
    }

    #[test]
    fn credential_parses_header_and_cookie() {
        let id = new_device_id();
        let secret = new_secret();
        let text = format!("{id}:{}", secret.expose());

        let mut headers = axum::http::HeaderMap::new();
        headers.insert(DEVICE_HEADER, text.parse().unwrap());
        let found = DeviceCredential::from_headers(&headers).unwrap();
        assert_eq!(found.device_id, id);

        let mut headers = axum::http::HeaderMap::new();
        let cookie = format!("other=1; {DEVICE_COOKIE}={text}");
        headers.insert(axum::http::header::COOKIE, cookie.parse().unwrap());
        assert!(DeviceCredential::from_headers(&headers).is_some());

        for bad in ["", "abc", "abc:short", ":", "a/b:0000"] {
            assert!(DeviceCredential::parse(bad).is_none(), "{bad:?}");
        }
    }

    #[test]
    fn debug_hides_secret() {
        let credential = DeviceCredential {
            device_id: new_device_id(),
            secret: new_secret(),
        };
        let printed = format!("{credential:?}");
        assert!(!printed.contains(credential.secret.expose()), "{printed}");
    }
}
