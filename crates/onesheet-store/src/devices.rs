//! Devices, their profiles and groups, pairing codes and command queues, as the store keeps them.
//!
//! The records themselves ([`DeviceRecord`], [`Profile`], [`Group`]) are domain types, and this
//! module adds what it takes to create, change and find them. As for accounts, the store keeps
//! only keyed hashes of device secrets, pairing codes and pairing tickets. The server computes
//! them, and the `Debug` output of every type here prints `***` in their place.
//!
//! Times are unix seconds throughout.

use std::fmt;

use onesheet_domain::{
    Command, CommandId, CommandState, DeviceId, DeviceRecord, DeviceStatus, GroupMode,
    SettingsOverride,
};
use unicode_normalization::UnicodeNormalization;

/// A device to create, after a pairing claim or an automatic admission. The caller checks name
/// and location with [`onesheet_domain::device::validate_label`] first.
#[derive(Clone, PartialEq)]
pub struct NewDevice {
    /// Drawn by the server with [`DeviceId::from_random`].
    pub id: DeviceId,
    pub name: String,
    pub location: Option<String>,
    pub profile_id: Option<i64>,
    pub group_id: Option<i64>,
    pub overrides: SettingsOverride,
    /// Keyed hash of the device secret, or `None` to issue the secret later with
    /// [`Store::issue_device_secret`](crate::Store::issue_device_secret).
    pub secret_hash: Option<String>,
    pub created_at: i64,
    /// Client address of the screen, recorded as its last address.
    pub address: Option<String>,
    /// `User-Agent` of the screen, recorded as its last user agent.
    pub user_agent: Option<String>,
}

impl fmt::Debug for NewDevice {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("NewDevice")
            .field("id", &self.id)
            .field("name", &self.name)
            .field("location", &self.location)
            .field("profile_id", &self.profile_id)
            .field("group_id", &self.group_id)
            .field("overrides", &self.overrides)
            .field("secret_hash", &self.secret_hash.as_ref().map(|_| Redacted))
            .field("created_at", &self.created_at)
            .field("address", &self.address)
            .field("user_agent", &self.user_agent)
            .finish()
    }
}

/// Selects devices for [`Store::list_devices`](crate::Store::list_devices). Every condition that
/// is set must match. `Default` selects every device that was not merged into another.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DeviceFilter {
    /// Keeps devices with exactly this location.
    pub location: Option<String>,
    pub group_id: Option<i64>,
    pub profile_id: Option<i64>,
    /// Keeps devices whose name contains this text, ignoring letter case and character width.
    /// Empty text matches every device.
    pub search: Option<String>,
    /// Also lists records that were merged into another device.
    pub include_merged: bool,
}

/// Changes to a device for [`Store::update_device`](crate::Store::update_device). `None` leaves
/// a field as it is, and `Some(None)` clears an optional one.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct DeviceChanges {
    pub name: Option<String>,
    pub location: Option<Option<String>>,
    pub profile_id: Option<Option<i64>>,
    pub group_id: Option<Option<i64>>,
    /// Replaces the whole override document. An empty one clears it.
    pub overrides: Option<SettingsOverride>,
}

/// Result of [`Store::merge_devices`](crate::Store::merge_devices).
#[derive(Debug, Clone, PartialEq)]
pub enum DeviceMerge {
    /// The surviving record as it is after the merge.
    Merged(Box<DeviceRecord>),
    /// No device has this id.
    NotFound(DeviceId),
    /// This device was merged into another record earlier, so it can take part in no merge.
    AlreadyMerged(DeviceId),
    /// Survivor and retired record are the same device.
    SameDevice,
}

/// One heartbeat or status for [`Store::record_presence`](crate::Store::record_presence).
/// `None` fields leave the stored value as it is.
#[derive(Debug, Clone, PartialEq)]
pub struct PresenceUpdate {
    pub device_id: DeviceId,
    /// When the server heard from the device. `last_seen_at` never moves backwards.
    pub seen_at: i64,
    pub address: Option<String>,
    pub user_agent: Option<String>,
    pub status: Option<DeviceStatus>,
}

/// The keyed hash of a device's secret, from [`Store::get_device_secret`](crate::Store::get_device_secret).
#[derive(Clone, PartialEq, Eq)]
pub struct StoredSecret {
    pub hash: String,
    /// Whether the device has authenticated with this secret at least once.
    pub confirmed: bool,
}

impl fmt::Debug for StoredSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StoredSecret")
            .field("hash", &Redacted)
            .field("confirmed", &self.confirmed)
            .finish()
    }
}

/// A pairing code to store, with the ticket the screen received alongside it.
#[derive(Clone, PartialEq, Eq)]
pub struct NewPairingCode {
    /// Keyed hash of the code's canonical form ([`onesheet_domain::PairingCode::as_str`]).
    pub code_hash: String,
    /// Keyed hash of the pairing ticket.
    pub ticket_hash: String,
    pub created_at: i64,
    /// The code can be claimed until this moment, exclusive.
    pub expires_at: i64,
    /// Client address of the screen that asked, shown on the claim page.
    pub address: Option<String>,
    /// `User-Agent` of the screen that asked, shown on the claim page.
    pub user_agent: Option<String>,
}

impl fmt::Debug for NewPairingCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("NewPairingCode")
            .field("code_hash", &Redacted)
            .field("ticket_hash", &Redacted)
            .field("created_at", &self.created_at)
            .field("expires_at", &self.expires_at)
            .field("address", &self.address)
            .field("user_agent", &self.user_agent)
            .finish()
    }
}

/// A stored pairing code, pending or claimed.
#[derive(Clone, PartialEq, Eq)]
pub struct StoredPairingCode {
    pub code_hash: String,
    pub ticket_hash: String,
    pub created_at: i64,
    pub expires_at: i64,
    /// When an admin claimed the code. `None` while it waits.
    pub used_at: Option<i64>,
    /// The device the claim created.
    pub device_id: Option<DeviceId>,
    pub address: Option<String>,
    pub user_agent: Option<String>,
}

impl StoredPairingCode {
    /// Returns whether the code can still be claimed at `now`.
    pub fn is_claimable(&self, now: i64) -> bool {
        self.used_at.is_none() && now < self.expires_at
    }
}

impl fmt::Debug for StoredPairingCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StoredPairingCode")
            .field("code_hash", &Redacted)
            .field("ticket_hash", &Redacted)
            .field("created_at", &self.created_at)
            .field("expires_at", &self.expires_at)
            .field("used_at", &self.used_at)
            .field("device_id", &self.device_id)
            .field("address", &self.address)
            .field("user_agent", &self.user_agent)
            .finish()
    }
}

/// Result of [`Store::claim_pairing_code`](crate::Store::claim_pairing_code).
#[derive(Debug, Clone, PartialEq)]
pub enum PairingClaim {
    /// The code was valid, and this is the new device.
    Claimed(Box<DeviceRecord>),
    /// No code has this hash, or it was pruned.
    NotFound,
    Expired,
    /// Another claim used the code first.
    AlreadyUsed,
}

#[derive(Debug, Clone, PartialEq)]
pub struct NewProfile {
    pub name: String,
    pub overrides: SettingsOverride,
    pub created_at: i64,
}

/// Changes to a profile. `None` leaves a field as it is.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ProfileChanges {
    pub name: Option<String>,
    pub overrides: Option<SettingsOverride>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct NewGroup {
    pub name: String,
    pub mode: GroupMode,
    pub overrides: SettingsOverride,
    pub created_at: i64,
}

/// Changes to a group. `None` leaves a field as it is.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct GroupChanges {
    pub name: Option<String>,
    pub mode: Option<GroupMode>,
    pub overrides: Option<SettingsOverride>,
}

/// A device's reply to one of its commands, for [`Store::finish_commands`](crate::Store::finish_commands).
#[derive(Debug, Clone, PartialEq)]
pub struct CommandReply {
    pub device_id: DeviceId,
    pub id: CommandId,
    /// `None` for an ack, the device's error text for a failure.
    pub error: Option<String>,
    /// Unix seconds.
    pub at: i64,
}

/// A command to queue for one device.
#[derive(Debug, Clone, PartialEq)]
pub struct NewCommand {
    pub device_id: DeviceId,
    pub command: Command,
    pub created_at: i64,
    /// After this moment a command that is still pending counts as expired.
    pub expires_at: i64,
}

/// A queued command and what became of it.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredCommand {
    pub id: CommandId,
    pub device_id: DeviceId,
    pub command: Command,
    pub state: CommandState,
    pub created_at: i64,
    pub expires_at: i64,
    /// When the command was last sent to the device.
    pub delivered_at: Option<i64>,
    /// When the device acknowledged or reported failure, or the server gave up waiting.
    pub acked_at: Option<i64>,
    /// The device's error text, or the reason the server failed the command.
    pub error: Option<String>,
}

/// Folds a name to the key that makes profile and group names unique and that device search
/// matches: NFKC, then Unicode lowercase, so `Bar`, `BAR` and `ＢＡＲ` share one key.
pub fn name_key(name: &str) -> String {
    name.nfkc().collect::<String>().to_lowercase()
}

/// Placeholder printed by `Debug` in place of a hash.
struct Redacted;

impl fmt::Debug for Redacted {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_hides_hashes() {
        let device = NewDevice {
            id: "d1".parse().unwrap(),
            name: "Lobby".to_owned(),
            location: None,
            profile_id: None,
            group_id: None,
            overrides: SettingsOverride::default(),
            secret_hash: Some("secret-hash-value".to_owned()),
            created_at: 0,
            address: None,
            user_agent: None,
        };
        let printed = format!("{device:?}");
        assert!(!printed.contains("secret-hash-value"), "{printed}");
        assert!(printed.contains("secret_hash: Some(***)"), "{printed}");

        let code = NewPairingCode {
            code_hash: "code-hash-value".to_owned(),
            ticket_hash: "ticket-hash-value".to_owned(),
            created_at: 0,
            expires_at: 600,
            address: None,
            user_agent: None,
        };
        let printed = format!("{code:?}");
        assert!(!printed.contains("code-hash-value"), "{printed}");
        assert!(!printed.contains("ticket-hash-value"), "{printed}");

        let stored = StoredPairingCode {
            code_hash: "code-hash-value".to_owned(),
            ticket_hash: "ticket-hash-value".to_owned(),
            created_at: 0,
            expires_at: 600,
            used_at: None,
            device_id: None,
            address: None,
            user_agent: None,
        };
        let printed = format!("{stored:?}");
        assert!(!printed.contains("hash-value"), "{printed}");
        assert!(stored.is_claimable(599));
        assert!(!stored.is_claimable(600));
    }

    #[test]
    fn name_key_folds_case_and_width() {
        assert_eq!(name_key("Bar"), "bar");
        assert_eq!(name_key("ＢＡＲ"), "bar");
        assert_ne!(name_key("Bar 1"), name_key("Bar 2"));
    }
}
