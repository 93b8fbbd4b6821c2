//! Authentication of paired devices, pairing codes and their claim, and automatic admission.

use std::net::IpAddr;
use std::sync::atomic::Ordering;
use std::time::Instant;

use onesheet_domain::device::pairing::PAIRING_CODE_LIFETIME_SECONDS;
use onesheet_domain::device::validate_label;
use onesheet_domain::{
    DeviceId, DeviceRecord, DeviceSecret, PairingCode, PairingResume, PairingTicket,
    SettingsOverride,
};
use onesheet_store::{NewDevice, NewPairingCode, PairingClaim, StoreError};
use serde::Deserialize;
use subtle::ConstantTimeEq;
use tracing::{debug, info, warn};

use super::credentials::{
    DeviceCredential, new_device_id, new_pairing_code, new_secret, new_ticket,
};
use super::{DeviceError, DeviceService, quota};
use crate::security::LimitKey;

/// Draws of a new code after the store reported a collision with a live one. With 7 × 10^8
/// codes, a second collision in a row is already unlikely for a fleet of thousands of screens.
const CODE_DRAWS: usize = 5;

/// An admin's claim of a pairing code, with what the new device gets.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClaimRequest {
    /// The code as the screen shows it; case, spaces and dashes do not matter.
    pub code: String,
    pub name: String,
    #[serde(default)]
    pub location: Option<String>,
    #[serde(default)]
    pub profile_id: Option<i64>,
    #[serde(default)]
    pub group_id: Option<i64>,
}

/// A pairing code handed to a screen, with what the socket needs to wait for its claim.
pub(crate) struct PendingPairing {
    pub code: PairingCode,
    pub ticket: PairingTicket,
    pub code_hash: String,
    pub expires_at: i64,
}

/// The state of the pairing code that a reconnecting screen presents with its ticket.
pub(crate) enum Resumed {
    /// The code is still waiting for its claim, until `expires_at` (unix seconds).
    Waiting { code_hash: String, expires_at: i64 },
    /// An admin claimed the code while the screen was away.
    Claimed(DeviceId),
}

impl DeviceService {
    /// Checks a device's id and secret against the stored keyed hash. A valid credential is
    /// accepted whatever its address did before. Invalid ones count against the client's
    /// address, and once the address is blocked they get [`DeviceError::Blocked`] in place of
    /// [`DeviceError::InvalidCredentials`].
    ///
    /// Every screen behind one NAT shares an address, so a block checked before the lookup
    /// would let one bad client lock a whole venue out. The lookup is a primary-key read and an
    /// HMAC, and a secret has 256 bits, so checking every attempt is cheap and lets no guess
    /// through.
    pub async fn authenticate(
        &self,
        ip: Option<IpAddr>,
        device_id: &DeviceId,
        secret: &DeviceSecret,
    ) -> Result<DeviceRecord, DeviceError> {
        let stored = self
            .store
            .get_device_secret(device_id)
            .await
            .map_err(DeviceError::Store)?;
        let Some(stored) = stored else {
            return Err(self.reject_unknown(ip, device_id).await?);
        };
        if !self.hasher.secret_matches(secret, &stored.hash) {
            return Err(self.count_failure(ip, device_id));
        }

        if !stored.confirmed {
            // The first use of a secret ends its pairing ticket's right to a new one.
            self.store
                .confirm_device_secret(device_id, self.now())
                .await
                .map_err(DeviceError::Store)?;
        }
        match self
            .store
            .get_device(device_id)
            .await
            .map_err(DeviceError::Store)?
        {
            Some(record) if record.is_active() => Ok(record),
            // Revoked or merged between the two reads.
            Some(_) => Err(DeviceError::Revoked),
            None => Err(self.count_failure(ip, device_id)),
        }
    }

    /// Returns the error for a device id without an active secret: [`DeviceError::Revoked`]
    /// for a revoked or merged device, so its screen learns to pair again and its leftover
    /// cookie costs its address nothing, and a counted failure otherwise.
    ///
    /// NOTE: the store hides the secret hash of a revoked or merged device, so the secret is
    /// not checked here. A client that knows such a device's id learns that it was removed.
    async fn reject_unknown(
        &self,
        ip: Option<IpAddr>,
        device_id: &DeviceId,
    ) -> Result<DeviceError, DeviceError> {
        let removed = self
            .store
            .get_device(device_id)
            .await
            .map_err(DeviceError::Store)?
            .is_some_and(|record| !record.is_active());
        if removed {
            debug!(device.id = %device_id, client.ip = ?ip, "credential of a revoked or merged device rejected");
            return Ok(DeviceError::Revoked);
        }
        Ok(self.count_failure(ip, device_id))
    }

    /// Counts a failed device authentication against the client's address and returns the
    /// error for it. Logs a warning only when the failure blocks the address, so a stale screen
    /// that retries all day writes one line per block, not one per request.
    fn count_failure(&self, ip: Option<IpAddr>, device_id: &DeviceId) -> DeviceError {
        let keys: Vec<LimitKey> = ip.map(LimitKey::client).into_iter().collect();
        let now = Instant::now();
        if let Err(blocked) = self.auth_limiter.check(&keys, now) {
            debug!(device.id = %device_id, client.ip = ?ip, "device authentication failed from a blocked address");
            return DeviceError::Blocked {
                retry_after_seconds: blocked.retry_after_seconds(),
            };
        }
        if let Some(blocked) = self.auth_limiter.record_failure(&keys, now) {
            warn!(
                device.id = %device_id,
                client.ip = ?ip,
                retry_after_seconds = blocked.retry_after_seconds(),
                "invalid device credentials from this address are now blocked after repeated failures; valid credentials still pass"
            );
        } else {
            debug!(
                device.id = %device_id,
                client.ip = ?ip,
                "device authentication failed: unknown device or wrong secret"
            );
        }
        DeviceError::InvalidCredentials
    }

    /// Checks the credential of a display request. A credential verified within the last
    /// minute is accepted from memory, so screens cost no database lookup per request.
    pub async fn verify_credential(
        &self,
        ip: Option<IpAddr>,
        credential: &DeviceCredential,
    ) -> Result<DeviceId, DeviceError> {
        let hash = self.hasher.secret_hash(&credential.secret);
        if let Some(cached) = self.verified.get(&credential.device_id)
            && bool::from(cached.as_bytes().ct_eq(hash.as_bytes()))
        {
            return Ok(credential.device_id.clone());
        }

        let removals = self.removals.load(Ordering::SeqCst);
        let record = self
            .authenticate(ip, &credential.device_id, &credential.secret)
            .await?;
        self.remember_verified(&record.id, hash, removals);
        Ok(record.id)
    }

    /// Caches a verification whose lookup began when the removal counter read `removals`.
    ///
    /// A revoke, delete or merge that ran during the lookup may have found nothing to forget
    /// yet, so the result is cached only when none ran. The second check covers a removal
    /// between the first check and the insert, whose own forget may have come first.
    fn remember_verified(&self, device_id: &DeviceId, hash: String, removals: u64) {
        if self.removals.load(Ordering::SeqCst) != removals {
            return;
        }
        self.verified.insert(device_id.clone(), hash);
        if self.removals.load(Ordering::SeqCst) != removals {
            self.verified.invalidate(device_id);
        }
    }

    /// Forgets the cached verification of a device after it was revoked, deleted or merged, or
    /// got a new secret. Call it after the store write.
    pub(crate) fn forget_credential(&self, device_id: &DeviceId) {
        self.removals.fetch_add(1, Ordering::SeqCst);
        self.verified.invalidate(device_id);
    }

    /// Creates a pairing code for a screen at `ip`. New codes are rate limited per address.
    pub(crate) async fn start_pairing(
        &self,
        ip: Option<IpAddr>,
        user_agent: &str,
    ) -> Result<PendingPairing, DeviceError> {
        self.count_pairing_request(ip)?;

        let now = self.now();
        let expires_at = now + PAIRING_CODE_LIFETIME_SECONDS;
        for _ in 0..CODE_DRAWS {
            let code = new_pairing_code();
            let ticket = new_ticket();
            let code_hash = self.hasher.code_hash(&code);
            let stored = NewPairingCode {
                code_hash: code_hash.clone(),
                ticket_hash: self.hasher.ticket_hash(&ticket),
                created_at: now,
                expires_at,
                address: ip.map(|ip| ip.to_string()),
                user_agent: Some(user_agent.to_owned()),
            };
            match self.store.insert_pairing_code(&stored).await {
                Ok(()) => {
                    return Ok(PendingPairing {
                        code,
                        ticket,
                        code_hash,
                        expires_at,
                    });
                }
                Err(StoreError::Conflict { .. }) => continue,
                Err(error) => return Err(DeviceError::Store(error)),
            }
        }
        Err(DeviceError::Store(StoreError::Conflict {
            what: "pairing code",
            id: format!("{CODE_DRAWS} draws in a row"),
        }))
    }

    fn count_pairing_request(&self, ip: Option<IpAddr>) -> Result<(), DeviceError> {
        let Some(ip) = ip else {
            return Ok(());
        };
        self.pairing_quota
            .take(LimitKey::client(ip), Instant::now())
            .map_err(|wait| {
                let retry_after_seconds = quota::retry_after_seconds(wait);
                debug!(client.ip = %ip, retry_after_seconds, "pairing code request rejected: over this address's budget");
                DeviceError::Blocked {
                    retry_after_seconds,
                }
            })
    }

    /// Counts an automatic admission from `ip`. Trusted networks may bring a whole venue of new
    /// screens at once behind one address, so this allows far more than new pairing codes do,
    /// and still stops a runaway script from filling the store with device records.
    fn count_admission(&self, ip: IpAddr) -> Result<(), DeviceError> {
        self.admission_limiter
            .try_attempt(&[LimitKey::client(ip)], Instant::now())
            .map_err(|blocked| {
                let retry_after_seconds = blocked.retry_after_seconds();
                warn!(client.ip = %ip, retry_after_seconds, "automatic admission paused for this address: too many new screens at once");
                DeviceError::Blocked {
                    retry_after_seconds,
                }
            })
    }

    /// Finds the code of a screen that reconnects with its code and ticket.
    pub(crate) async fn resume_pairing(
        &self,
        resume: &PairingResume,
    ) -> Result<Resumed, DeviceError> {
        let ticket_hash = self.hasher.ticket_hash(&resume.ticket);
        let code_hash = self.hasher.code_hash(&resume.code);
        let stored = self
            .store
            .get_pairing_code_by_ticket(&ticket_hash)
            .await
            .map_err(DeviceError::Store)?
            .filter(|stored| bool::from(stored.code_hash.as_bytes().ct_eq(code_hash.as_bytes())))
            .ok_or(DeviceError::CodeNotFound)?;

        let claimable = stored.is_claimable(self.now());
        match (stored.used_at, stored.device_id) {
            (Some(_), Some(device_id)) => Ok(Resumed::Claimed(device_id)),
            (Some(_), None) => Err(DeviceError::CodeUsed),
            (None, _) if claimable => Ok(Resumed::Waiting {
                code_hash,
                expires_at: stored.expires_at,
            }),
            (None, _) => Err(DeviceError::CodeExpired),
        }
    }

    /// Derives the secret of a device whose code was just claimed from the screen's pairing
    /// ticket and stores its hash. Returns `None` when the device has authenticated with a
    /// secret already: from then on its ticket gets nothing.
    ///
    /// The derivation makes the hand-over repeatable. A socket that closed as the claim
    /// arrived, and the screen's next connection with the same ticket, hand out the same
    /// secret, in whichever order they run.
    pub(crate) async fn issue_secret(
        &self,
        device_id: &DeviceId,
        ticket: &PairingTicket,
    ) -> Result<Option<(DeviceRecord, DeviceSecret)>, DeviceError> {
        let secret = self.hasher.secret_for_ticket(ticket, device_id);
        let issued = self
            .store
            .issue_device_secret(device_id, &self.hasher.secret_hash(&secret))
            .await
            .map_err(DeviceError::Store)?;
        if !issued {
            return Ok(None);
        }
        self.forget_credential(device_id);
        let record = self
            .store
            .get_device(device_id)
            .await
            .map_err(DeviceError::Store)?
            .ok_or_else(|| DeviceError::DeviceNotFound(device_id.clone()))?;
        Ok(Some((record, secret)))
    }

    /// Admits a screen from a trusted network without a claim: creates the device, named after
    /// its browser and a short id, with a fresh secret.
    pub(crate) async fn admit(
        &self,
        ip: IpAddr,
        user_agent: &str,
    ) -> Result<(DeviceRecord, DeviceSecret), DeviceError> {
        self.count_admission(ip)?;

        let id = new_device_id();
        let secret = new_secret();
        let device = NewDevice {
            name: name_from_user_agent(user_agent, &id),
            id,
            location: None,
            profile_id: None,
            group_id: None,
            overrides: SettingsOverride::default(),
            secret_hash: Some(self.hasher.secret_hash(&secret)),
            created_at: self.now(),
            address: Some(ip.to_string()),
            user_agent: Some(user_agent.to_owned()),
        };
        let record = self.store.create_device(&device).await?;
        self.events.changed(&record.id);
        info!(device.id = %record.id, client.ip = %ip, name = %record.name, "device admitted automatically from a trusted network");
        Ok((record, secret))
    }

    /// Claims a pairing code for a new device and wakes the screen that waits for it.
    pub async fn claim(&self, request: &ClaimRequest) -> Result<DeviceRecord, DeviceError> {
        let code: PairingCode = request.code.parse()?;
        let name = validate_label("name", &request.name)?;
        let location = request
            .location
            .as_deref()
            .filter(|location| !location.trim().is_empty())
            .map(|location| validate_label("location", location))
            .transpose()?;

        let code_hash = self.hasher.code_hash(&code);
        let device = NewDevice {
            id: new_device_id(),
            name,
            location,
            profile_id: request.profile_id,
            group_id: request.group_id,
            overrides: SettingsOverride::default(),
            secret_hash: None,
            created_at: self.now(),
            address: None,
            user_agent: None,
        };
        match self
            .store
            .claim_pairing_code(&code_hash, &device, self.now())
            .await?
        {
            PairingClaim::Claimed(record) => {
                let waiting = self.hub.notify_claim(&code_hash, record.id.clone());
                self.events.changed(&record.id);
                info!(device.id = %record.id, screen_waiting = waiting, "pairing code claimed");
                Ok(*record)
            }
            PairingClaim::NotFound => Err(DeviceError::CodeNotFound),
            PairingClaim::Expired => Err(DeviceError::CodeExpired),
            PairingClaim::AlreadyUsed => Err(DeviceError::CodeUsed),
        }
    }
}

/// Names an automatically admitted screen after its browser and platform, such as
/// `Chrome on Android 3f2b`, so the admin can tell screens apart before renaming them.
pub(crate) fn name_from_user_agent(user_agent: &str, id: &DeviceId) -> String {
    const PLATFORMS: [(&str, &str); 9] = [
        ("Tizen", "Tizen"),
        ("webOS", "webOS"),
        ("CrOS", "ChromeOS"),
        ("Android", "Android"),
        ("iPad", "iPadOS"),
        ("iPhone", "iOS"),
        ("Windows", "Windows"),
        ("Macintosh", "macOS"),
        ("Linux", "Linux"),
    ];
    const BROWSERS: [(&str, &str); 5] = [
        ("Firefox/", "Firefox"),
        ("Edg/", "Edge"),
        ("SamsungBrowser/", "Samsung Internet"),
        ("Chrome/", "Chrome"),
        ("Safari/", "Safari"),
    ];
    let platform = PLATFORMS
        .iter()
        .find(|(token, _)| user_agent.contains(token))
        .map(|(_, name)| *name);
    let browser = BROWSERS
        .iter()
        .find(|(token, _)| user_agent.contains(token))
        .map(|(_, name)| *name);
    let short_id: String = id.as_str().chars().take(4).collect();
    match (browser, platform) {
        (Some(browser), Some(platform)) => format!("{browser} on {platform} {short_id}"),
        (Some(name), None) | (None, Some(name)) => format!("{name} {short_id}"),
        (None, None) => format!("Screen {short_id}"),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[tokio::test]
    async fn removal_during_lookup_is_not_cached() {
        use std::sync::Arc;

        use arc_swap::ArcSwap;
        use onesheet_store::{SecretKey, SqliteStore};

        use crate::devices::DeviceConfig;
        use crate::state::TaggedSettings;

        let dir = tempfile::tempdir().unwrap();
        let store = SqliteStore::open(&dir.path().join("onesheet.db"))
            .await
            .unwrap();
        let global = Arc::new(ArcSwap::from_pointee(TaggedSettings::new(
            Default::default(),
        )));
        let service = DeviceService::new(
            Arc::new(store),
            global,
            &SecretKey::from_bytes(&[1; 32]),
            DeviceConfig::default(),
        );
        let device_id = new_device_id();

        // A revoke that ran while the lookup read the store.
        let before = service.removals.load(Ordering::SeqCst);
        service.forget_credential(&device_id);
        service.remember_verified(&device_id, "hash".to_owned(), before);
        assert!(service.verified.get(&device_id).is_none());

        let now = service.removals.load(Ordering::SeqCst);
        service.remember_verified(&device_id, "hash".to_owned(), now);
        assert!(service.verified.get(&device_id).is_some());
    }

    #[test]
    fn names_come_from_browser_and_platform() {
        let id: DeviceId = "3f2b8c1e".parse().unwrap();
        let cases = [
            (
                "Mozilla/5.0 (Linux; Android 12) AppleWebKit/537.36 Chrome/120.0 Safari/537.36",
                "Chrome on Android 3f2b",
            ),
            (
                "Mozilla/5.0 (SMART-TV; Linux; Tizen 6.0) SamsungBrowser/4.0 Safari/537.36",
                "Samsung Internet on Tizen 3f2b",
            ),
            ("curl/8.0", "Screen 3f2b"),
        ];
        for (agent, expected) in cases {
            assert_eq!(name_from_user_agent(agent, &id), expected, "{agent}");
        }
    }
}
