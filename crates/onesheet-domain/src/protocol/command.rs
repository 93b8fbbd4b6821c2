//! Commands an admin sends to screens, their ids and their states in the per-device queue.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::device::shorten;
use crate::media::ItemId;
use crate::playlist::DisplayMode;
use crate::settings::overrides::SettingsOverride;
use crate::validation::FieldError;

/// Id of a queued command, unique across devices. The screen echoes it in its `ack`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct CommandId(pub i64);

impl fmt::Display for CommandId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

/// An instruction for a screen. In JSON the variant is the `type` field, such as
/// `{"type": "pin", "item_id": "plex-0123456789abcdef"}`. The store keeps this JSON form.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Command {
    /// Show the next item now.
    Next,
    /// Show the previous item again.
    Previous,
    /// Stop advancing, keeping the current item on screen.
    Pause,
    /// Advance again after `pause`.
    Resume,
    /// Show this item and stay on it until `unpin`.
    Pin { item_id: ItemId },
    /// Return to the playlist after `pin`.
    Unpin,
    /// Reload the display page.
    Reload,
    /// Drop cached images and playlist pages, then reload.
    ClearCache,
    /// Black out the screen. The page stays connected, so `power_on` can wake it.
    PowerOff,
    /// End the black screen of `power_off`.
    PowerOn,
    /// Switch to another display mode.
    Navigate { mode: DisplayMode },
    /// Apply these overrides on top of the current settings at once. They hold until the next
    /// `welcome` or `settings` message replaces the screen's settings.
    ApplySettings { overrides: SettingsOverride },
    /// Show the device's name for a few seconds, so the admin can tell which screen it is.
    Identify,
}

impl Command {
    /// Returns the `type` value of the command, for logs and the audit trail.
    pub fn name(&self) -> &'static str {
        match self {
            Self::Next => "next",
            Self::Previous => "previous",
            Self::Pause => "pause",
            Self::Resume => "resume",
            Self::Pin { .. } => "pin",
            Self::Unpin => "unpin",
            Self::Reload => "reload",
            Self::ClearCache => "clear_cache",
            Self::PowerOff => "power_off",
            Self::PowerOn => "power_on",
            Self::Navigate { .. } => "navigate",
            Self::ApplySettings { .. } => "apply_settings",
            Self::Identify => "identify",
        }
    }
}

/// The stage of a command's life. `Queued` and `Delivered` are pending, and the other three are
/// final and never change again.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CommandState {
    /// Waiting for the device to connect.
    Queued,
    /// Sent over the device's socket, with no `ack` yet.
    Delivered,
    /// The device confirmed it carried the command out.
    Acked,
    /// The device reported an error, or the server gave up waiting for its `ack`.
    Failed,
    /// Its time to live ran out before the device acknowledged it.
    Expired,
}

impl CommandState {
    /// Returns the name used in JSON and in the database.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Queued => "queued",
            Self::Delivered => "delivered",
            Self::Acked => "acked",
            Self::Failed => "failed",
            Self::Expired => "expired",
        }
    }

    /// Returns whether the command still waits for the device: queued or delivered.
    pub fn is_pending(self) -> bool {
        matches!(self, Self::Queued | Self::Delivered)
    }
}

impl FromStr for CommandState {
    type Err = FieldError;

    fn from_str(value: &str) -> Result<Self, Self::Err> {
        match value {
            "queued" => Ok(Self::Queued),
            "delivered" => Ok(Self::Delivered),
            "acked" => Ok(Self::Acked),
            "failed" => Ok(Self::Failed),
            "expired" => Ok(Self::Expired),
            _ => Err(FieldError::new(
                "state",
                format!(
                    "invalid command state {:?}: expected queued, delivered, acked, failed or \
                     expired",
                    shorten(value)
                ),
            )),
        }
    }
}

impl fmt::Display for CommandState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn command_name_matches_json_type() {
        let commands = [
            Command::Next,
            Command::Previous,
            Command::Pause,
            Command::Resume,
            Command::Pin {
                item_id: serde_json::from_str(r#""plex-0123456789abcdef""#).unwrap(),
            },
            Command::Unpin,
            Command::Reload,
            Command::ClearCache,
            Command::PowerOff,
            Command::PowerOn,
            Command::Navigate {
                mode: DisplayMode::Wallart,
            },
            Command::ApplySettings {
                overrides: SettingsOverride::default(),
            },
            Command::Identify,
        ];
        for command in commands {
            let json = serde_json::to_value(&command).unwrap();
            assert_eq!(json["type"], command.name(), "{json}");
            let back: Command = serde_json::from_value(json).unwrap();
            assert_eq!(back, command);
        }
    }

    #[test]
    fn command_state_round_trips() {
        for state in [
            CommandState::Queued,
            CommandState::Delivered,
            CommandState::Acked,
            CommandState::Failed,
            CommandState::Expired,
        ] {
            assert_eq!(state.as_str().parse::<CommandState>().unwrap(), state);
            assert_eq!(
                serde_json::to_string(&state).unwrap(),
                format!("\"{state}\"")
            );
        }
        assert!(CommandState::Queued.is_pending());
        assert!(CommandState::Delivered.is_pending());
        assert!(!CommandState::Acked.is_pending());
        assert!("done".parse::<CommandState>().is_err());
    }
}
