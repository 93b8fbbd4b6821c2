//! Devices: the screens an admin pairs, names, groups and commands.
//!
//! A device is identified by a [`DeviceId`] the server assigns when it admits the screen, and it
//! authenticates with a [`DeviceSecret`] that only the screen keeps. The store keeps only a keyed
//! hash of the secret. [`Profile`]s and [`Group`]s carry partial settings that layer under the device's
//! own overrides (see [`crate::settings::overrides`]). [`presence`] derives live, online or
//! offline from heartbeat times, and [`pairing`] makes and reads the short codes a new screen
//! shows.
//!
//! Nothing here draws random numbers or reads the clock: the caller passes random bytes from a
//! CSPRNG and the current time in, so tests can fix both.

pub mod pairing;
pub mod presence;

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::media::ItemId;
use crate::playlist::DisplayMode;
use crate::settings::overrides::SettingsOverride;
use crate::validation::FieldError;

pub use pairing::{PairingCode, PairingCodeError, PairingTicket};
pub use presence::{Presence, PresenceWindows};

/// Maximum length of a device id in bytes. Ids the server generates have 32 characters, and the
/// margin admits ids imported from other systems, such as UUIDs.
pub const DEVICE_ID_MAX_LEN: usize = 64;

/// Number of random bytes behind a generated [`DeviceId`]: 128 bits, so ids never collide in
/// practice.
pub const DEVICE_ID_RANDOM_BYTES: usize = 16;

/// Number of random bytes behind a [`DeviceSecret`] or a [`PairingTicket`]: 256 bits.
pub const SECRET_RANDOM_BYTES: usize = 32;

/// Maximum length of a device, profile or group name, and of a location, in characters.
pub const LABEL_MAX_CHARS: usize = 100;

/// Stable id of a device: 1 to [`DEVICE_ID_MAX_LEN`] ASCII letters, digits, dashes or
/// underscores, so it fits in a URL path and a log field without escaping.
///
/// Deserializing checks the same shape as [`FromStr`], so an id that arrives in a WebSocket
/// message is valid before any handler receives it.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct DeviceId(String);

impl DeviceId {
    /// Builds a new id from random bytes that the caller draws from a CSPRNG: 32 lowercase hex
    /// digits.
    pub fn from_random(bytes: &[u8; DEVICE_ID_RANDOM_BYTES]) -> Self {
        Self(hex::encode(bytes))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl FromStr for DeviceId {
    type Err = FieldError;

    fn from_str(value: &str) -> Result<Self, Self::Err> {
        let valid = !value.is_empty()
            && value.len() <= DEVICE_ID_MAX_LEN
            && value
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
        if valid {
            Ok(Self(value.to_owned()))
        } else {
            Err(FieldError::new(
                "device_id",
                format!(
                    "invalid device id {:?}: use 1 to {DEVICE_ID_MAX_LEN} ASCII letters, digits, \
                     dashes or underscores",
                    shorten(value)
                ),
            ))
        }
    }
}

impl TryFrom<String> for DeviceId {
    type Error = FieldError;

    fn try_from(value: String) -> Result<Self, Self::Error> {
        value.parse()
    }
}

impl From<DeviceId> for String {
    fn from(id: DeviceId) -> Self {
        id.0
    }
}

impl fmt::Display for DeviceId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The secret a paired screen presents in its `hello`: 64 lowercase hex digits (256 random
/// bits). The server sends it once and stores only a keyed hash. `Debug` prints `***`.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct DeviceSecret(String);

impl DeviceSecret {
    /// Builds a secret from random bytes that the caller draws from a CSPRNG.
    pub fn from_random(bytes: &[u8; SECRET_RANDOM_BYTES]) -> Self {
        Self(hex::encode(bytes))
    }

    /// Returns the secret's text, for hashing and for the one message that hands it to the screen.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for DeviceSecret {
    type Error = FieldError;

    fn try_from(value: String) -> Result<Self, Self::Error> {
        check_secret_text("secret", "device secret", &value)?;
        Ok(Self(value))
    }
}

impl From<DeviceSecret> for String {
    fn from(secret: DeviceSecret) -> Self {
        secret.0
    }
}

impl fmt::Debug for DeviceSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("DeviceSecret(***)")
    }
}

/// Checks the text form of a [`DeviceSecret`] or [`PairingTicket`]: exactly 64 lowercase hex
/// digits. The message never repeats the value, because it may be a real secret with a typo.
pub(crate) fn check_secret_text(
    field: &str,
    secret_kind: &str,
    value: &str,
) -> Result<(), FieldError> {
    let valid = value.len() == 2 * SECRET_RANDOM_BYTES
        && value
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b));
    if valid {
        Ok(())
    } else {
        Err(FieldError::new(
            field,
            format!(
                "invalid {secret_kind}: expected {} lowercase hex digits",
                2 * SECRET_RANDOM_BYTES
            ),
        ))
    }
}

/// Size of a screen in physical pixels (CSS pixels times `devicePixelRatio`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScreenSize {
    pub width: u32,
    pub height: u32,
}

/// The state a screen last reported in its `status` message.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DeviceStatus {
    /// The item on screen, or `None` while the screen shows no item (loading, empty catalog).
    pub current_item_id: Option<ItemId>,
    pub mode: DisplayMode,
    pub paused: bool,
    pub resolution: ScreenSize,
    /// Version of the display client, such as `0.4.1`.
    pub version: String,
    /// Seconds since the display page loaded.
    pub uptime_seconds: u64,
}

/// A stored device: identity, assignments and last reported state. Presence is not stored here: the server derives it from the
/// live socket and `last_seen_at` with [`Presence::derive`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DeviceRecord {
    pub id: DeviceId,
    pub name: String,
    /// Free text such as `Lobby` or `Screen 3, bar`. `None` when the admin set none.
    pub location: Option<String>,
    pub profile_id: Option<i64>,
    pub group_id: Option<i64>,
    /// The device's own settings, layered over its group's and profile's.
    pub overrides: SettingsOverride,
    /// Unix seconds.
    pub created_at: i64,
    /// Unix seconds of the last heartbeat or status the store recorded. `None` before the first.
    pub last_seen_at: Option<i64>,
    /// Client address of the last connection, as text.
    pub last_address: Option<String>,
    /// `User-Agent` of the last connection.
    pub last_user_agent: Option<String>,
    pub last_status: Option<DeviceStatus>,
    /// Unix seconds of the revocation. A revoked device can no longer authenticate.
    pub revoked_at: Option<i64>,
    /// The record this one was merged into. A merged record stays, with its name, for the admin
    /// to see, but it can no longer authenticate and has no location, profile, group or
    /// overrides of its own: those moved to the surviving record.
    pub merged_into: Option<DeviceId>,
}

impl DeviceRecord {
    pub fn is_revoked(&self) -> bool {
        self.revoked_at.is_some()
    }

    /// Returns whether the device may still authenticate: neither revoked nor merged into another
    /// record.
    pub fn is_active(&self) -> bool {
        self.revoked_at.is_none() && self.merged_into.is_none()
    }
}

/// A named set of settings overrides that devices share, such as `Family room` or `Bar`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Profile {
    pub id: i64,
    pub name: String,
    pub overrides: SettingsOverride,
    /// Unix seconds.
    pub created_at: i64,
    /// Unix seconds.
    pub updated_at: i64,
}

/// Screens that belong together, such as the four screens above one bar. A group's overrides
/// layer between its devices' profile and their own overrides, and its mode sets how its screens
/// choose items relative to each other.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Group {
    pub id: i64,
    /// Unique among groups.
    pub name: String,
    pub mode: GroupMode,
    pub overrides: SettingsOverride,
    /// Unix seconds.
    pub created_at: i64,
    /// Unix seconds.
    pub updated_at: i64,
}

/// The rule by which the screens of one group pick their items.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum GroupMode {
    /// Each screen follows its own playlist.
    #[default]
    Independent,
    /// Screens never show the same item at the same moment: the server deals items to them
    /// from one shared shuffle.
    Distinct,
    /// Every screen shows the same item and switches at the same moment, timed by the server
    /// clock.
    Synchronised,
}

impl GroupMode {
    /// Returns the name used in JSON and in the database.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Independent => "independent",
            Self::Distinct => "distinct",
            Self::Synchronised => "synchronised",
        }
    }
}

impl FromStr for GroupMode {
    type Err = FieldError;

    fn from_str(value: &str) -> Result<Self, Self::Err> {
        match value {
            "independent" => Ok(Self::Independent),
            "distinct" => Ok(Self::Distinct),
            "synchronised" => Ok(Self::Synchronised),
            _ => Err(FieldError::new(
                "mode",
                format!(
                    "invalid group mode {:?}: expected independent, distinct or synchronised",
                    shorten(value)
                ),
            )),
        }
    }
}

impl fmt::Display for GroupMode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Checks a device, profile or group name, or a location, and returns it without surrounding
/// white space. It must keep 1 to [`LABEL_MAX_CHARS`] characters after trimming and contain
/// no control characters, which could break a log line or the admin page's layout, and no
/// bidirectional formatting characters, which could make it display as another name.
pub fn validate_label(field: &str, value: &str) -> Result<String, FieldError> {
    let trimmed = value.trim();
    let length = trimmed.chars().count();

    if length == 0 {
        return Err(FieldError::new(
            field,
            format!("missing {field}: enter 1 to {LABEL_MAX_CHARS} characters"),
        ));
    }
    if length > LABEL_MAX_CHARS {
        return Err(FieldError::new(
            field,
            format!("invalid {field}: {length} characters, use at most {LABEL_MAX_CHARS}"),
        ));
    }
    if trimmed.chars().any(char::is_control) {
        return Err(FieldError::new(
            field,
            format!("invalid {field}: remove the control characters such as line breaks or tabs"),
        ));
    }
    if let Some(ch) = crate::validation::find_bidi_control(trimmed) {
        return Err(FieldError::new(
            field,
            crate::validation::bidi_control_message(field, ch),
        ));
    }
    Ok(trimmed.to_owned())
}

/// Cuts a rejected value to 40 characters for an error message, so a huge input cannot make
/// the message huge.
pub(crate) fn shorten(value: &str) -> String {
    const MAX_CHARS: usize = 40;
    if value.chars().count() <= MAX_CHARS {
        value.to_owned()
    } else {
        let mut short: String = value.chars().take(MAX_CHARS).collect();
        short.push('…');
        short
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn device_id_from_random_is_hex() {
        let id = DeviceId::from_random(&[0xab; DEVICE_ID_RANDOM_BYTES]);
        assert_eq!(id.as_str(), "ab".repeat(16));
        assert_eq!(id.as_str().parse::<DeviceId>().unwrap(), id);
    }

    #[test]
    fn device_id_accepts_uuid_and_rejects_odd_characters() {
        assert!(
            "3f2b8c1e-9d4a-4b7e-8f00-1234567890ab"
                .parse::<DeviceId>()
                .is_ok()
        );
        assert!("hall_way-1".parse::<DeviceId>().is_ok());

        for bad in ["", "a/b", "a b", "a.b", "é", "a\0"] {
            let error = bad.parse::<DeviceId>().unwrap_err();
            assert_eq!(error.field, "device_id", "{bad:?}");
        }
        let too_long = "a".repeat(DEVICE_ID_MAX_LEN + 1);
        assert!(too_long.parse::<DeviceId>().is_err());
    }

    #[test]
    fn device_id_error_shortens_huge_input() {
        let huge = "/".repeat(10_000);
        let error = huge.parse::<DeviceId>().unwrap_err();
        assert!(error.message.len() < 200, "{}", error.message);
    }

    #[test]
    fn device_id_deserialization_validates() {
        let parsed: Result<DeviceId, _> = serde_json::from_str(r#""../etc""#);
        assert!(parsed.is_err());
        let parsed: DeviceId = serde_json::from_str(r#""abc-123""#).unwrap();
        assert_eq!(parsed.as_str(), "abc-123");
    }

    #[test]
    fn secret_debug_is_redacted() {
        let secret = DeviceSecret::from_random(&[7; SECRET_RANDOM_BYTES]);
        assert_eq!(format!("{secret:?}"), "DeviceSecret(***)");
        assert_eq!(secret.expose(), "07".repeat(32));
    }

    #[test]
    fn secret_deserialization_checks_format() {
        let good = format!("\"{}\"", "0a".repeat(32));
        assert!(serde_json::from_str::<DeviceSecret>(&good).is_ok());

        let upper = format!("\"{}\"", "0A".repeat(32));
        let short = format!("\"{}\"", "0a".repeat(31));
        for bad in [upper, short, "\"\"".to_owned()] {
            let error = serde_json::from_str::<DeviceSecret>(&bad).unwrap_err();
            assert!(error.to_string().contains("64 lowercase hex"), "{error}");
            assert!(!error.to_string().contains("0A0A"), "{error}");
        }
    }

    #[test]
    fn group_mode_round_trips_through_text_and_json() {
        for mode in [
            GroupMode::Independent,
            GroupMode::Distinct,
            GroupMode::Synchronised,
        ] {
            assert_eq!(mode.as_str().parse::<GroupMode>().unwrap(), mode);
            let json = serde_json::to_string(&mode).unwrap();
            assert_eq!(json, format!("\"{}\"", mode.as_str()));
        }
        let error = "synchronized".parse::<GroupMode>().unwrap_err();
        assert!(error.message.contains("synchronised"), "{}", error.message);
    }

    #[test]
    fn label_is_trimmed_and_bounded() {
        assert_eq!(validate_label("name", "  Lobby  ").unwrap(), "Lobby");
        assert_eq!(validate_label("name", "   ").unwrap_err().field, "name");
        assert!(validate_label("name", &"x".repeat(LABEL_MAX_CHARS)).is_ok());
        assert!(validate_label("name", &"x".repeat(LABEL_MAX_CHARS + 1)).is_err());
        let error = validate_label("location", "Bar\nscreen").unwrap_err();
        assert!(error.message.contains("control"), "{}", error.message);
    }

    #[test]
    fn label_rejects_bidi_controls() {
        let error = validate_label("name", "Lobby\u{202E}vt").unwrap_err();

        assert_eq!(error.field, "name");
        assert!(error.message.contains("U+202E"), "{}", error.message);
        assert!(validate_label("name", "\u{2066}Hall\u{2069}").is_err());
        assert!(validate_label("name", "Hall\u{061C}").is_err());
        assert!(validate_label("name", "מסדרון").is_ok());
    }

    #[test]
    fn merged_or_revoked_device_is_inactive() {
        let record = DeviceRecord {
            id: "d1".parse().unwrap(),
            name: "Hallway".to_owned(),
            location: None,
            profile_id: None,
            group_id: None,
            overrides: SettingsOverride::default(),
            created_at: 0,
            last_seen_at: None,
            last_address: None,
            last_user_agent: None,
            last_status: None,
            revoked_at: None,
            merged_into: None,
        };
        assert!(record.is_active());

        let revoked = DeviceRecord {
            revoked_at: Some(5),
            ..record.clone()
        };
        assert!(revoked.is_revoked());
        assert!(!revoked.is_active());

        let merged = DeviceRecord {
            merged_into: Some("d2".parse().unwrap()),
            ..record
        };
        assert!(!merged.is_active());
    }
}
