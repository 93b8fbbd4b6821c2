//! The WebSocket protocol between the server and display clients, as one typed definition that
//! the server and the tests of both sides share, so sender and receiver cannot disagree on a
//! field name.
//!
//! Every message is a JSON object whose `type` field names its kind, such as
//! `{"type": "ack", "id": 12, "ok": true}`. Fields a receiver does not know are ignored, so a
//! newer client can add one without breaking an older server. An unknown `type` is an error.
//! [`parse_client_message`] and [`parse_server_message`] read a frame and return a
//! [`ProtocolError`] whose [`code`](ProtocolError::code) fits an `error` frame.
//!
//! A session, as the protocol defines it:
//! 1. The client sends `hello` first, either with its device id and secret or asking to pair.
//! 2. A known device receives `welcome` with its merged settings and the server time. It sends
//!    `status` whenever what it shows changes, and `ping` now and then to measure the clock
//!    offset, to which the server replies with `pong`.
//! 3. An unpaired screen receives `pairing` with a code to show and a ticket to keep. When an
//!    admin claims the code, the screen receives `paired` with its id and secret, once, then
//!    `welcome`. After a reconnect it sends the code and ticket in `hello` to keep waiting.
//! 4. The server sends `command`, and the client answers each with an `ack` naming its id.
//!    `settings` replaces the settings after a change, and `revoked` ends the device's access.

mod command;
mod parse;

use serde::{Deserialize, Serialize};

use crate::device::{DeviceId, DeviceSecret, DeviceStatus, PairingCode, PairingTicket, ScreenSize};
use crate::settings::DisplaySettings;

pub use command::{Command, CommandId, CommandState};
pub use parse::{ProtocolError, parse_client_message, parse_server_message};

/// Maximum message size in bytes that the server accepts and sends.
pub const MAX_MESSAGE_BYTES: usize = 64 * 1024;

/// Maximum length of `user_agent` in a `hello`, in bytes. Browsers send about 100 to 300.
pub const MAX_USER_AGENT_BYTES: usize = 512;

/// Maximum length of the version text in `hello` and `status`, in bytes.
pub const MAX_VERSION_BYTES: usize = 64;

/// Maximum length of the error text in an `ack`, in bytes.
pub const MAX_ACK_ERROR_BYTES: usize = 1024;

/// A message from a display client to the server.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ClientMessage {
    /// The first message of every connection.
    Hello(Hello),
    /// The screen's current item, mode and state. Sent on every change, so the server can detect
    /// a frozen screen.
    Status(DeviceStatus),
    /// The reply to one `command`.
    Ack {
        id: CommandId,
        ok: bool,
        /// The error text when `ok` is false.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        error: Option<String>,
    },
    /// A clock probe. Browsers cannot send WebSocket pings or see the server's, so this message
    /// also lets the client notice a silent server.
    Ping {
        /// The client's clock at sending, in unix milliseconds.
        client_time_ms: i64,
    },
}

impl ClientMessage {
    /// Returns the `type` field of the message.
    pub fn type_name(&self) -> &'static str {
        match self {
            Self::Hello(_) => "hello",
            Self::Status(_) => "status",
            Self::Ack { .. } => "ack",
            Self::Ping { .. } => "ping",
        }
    }

    /// Builds the `ack` of a command that succeeded.
    pub fn ack_ok(id: CommandId) -> Self {
        Self::Ack {
            id,
            ok: true,
            error: None,
        }
    }

    /// Builds the `ack` of a command that failed.
    pub fn ack_failed(id: CommandId, error: impl Into<String>) -> Self {
        Self::Ack {
            id,
            ok: false,
            error: Some(error.into()),
        }
    }
}

/// The first message of a connection: who the client is and what it runs on.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Hello {
    pub auth: HelloAuth,
    /// Version of the display client, such as `0.4.1`.
    pub client_version: String,
    /// The browser's `navigator.userAgent`.
    pub user_agent: String,
    pub screen: ScreenSize,
}

/// The credentials a client presents in `hello`. In JSON the variant is the `method` field.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "method", rename_all = "snake_case")]
pub enum HelloAuth {
    /// A paired device.
    Device {
        device_id: DeviceId,
        secret: DeviceSecret,
    },
    /// A screen without an identity, asking for a pairing code, or presenting the code and
    /// ticket it received before a reconnect.
    Pairing {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        resume: Option<PairingResume>,
    },
}

/// The pairing code a screen shows and the ticket it received with it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PairingResume {
    pub code: PairingCode,
    pub ticket: PairingTicket,
}

/// A message from the server to a display client.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ServerMessage {
    /// The reply to a paired device's `hello`.
    Welcome {
        device_id: DeviceId,
        name: String,
        /// Global settings merged with the profile, group and device overrides. Boxed, like
        /// the settings of [`ServerMessage::Settings`], because every socket's outgoing queue
        /// allocates its slots at the size of the largest message.
        settings: Box<DisplaySettings>,
        /// The server's clock, in unix milliseconds.
        server_time_ms: i64,
    },
    /// A code for an unpaired screen to show.
    Pairing {
        code: PairingCode,
        /// Kept by the screen, never shown. See [`PairingResume`].
        ticket: PairingTicket,
        /// Unix seconds after which the code can no longer be claimed.
        expires_at: i64,
        /// The server's clock, in unix milliseconds, so the screen can show the time left
        /// however wrong its own clock is.
        server_time_ms: i64,
        /// Path of the admin page that claims the code, such as `/admin/devices/claim?code=K7M2QX`,
        /// for the QR code. The screen prefixes its own origin.
        claim_path: String,
    },
    /// The identity an admin's claim gave the screen. Sent once. The screen stores both values
    /// and uses them in every later `hello`.
    Paired {
        device_id: DeviceId,
        secret: DeviceSecret,
    },
    /// A command to carry out and acknowledge.
    Command { id: CommandId, command: Command },
    /// New merged settings after an admin changed a layer that applies to the device.
    Settings { settings: Box<DisplaySettings> },
    /// Something the client sent was rejected. The connection may stay open or close after it.
    Error { code: ErrorCode, message: String },
    /// The device was revoked or merged into another record. The server closes the connection
    /// after this message, and the client should forget its secret and ask to pair again.
    Revoked,
    /// The reply to a `ping`.
    Pong {
        /// The `client_time_ms` of the `ping`, echoed.
        client_time_ms: i64,
        /// The server's clock when it replied, in unix milliseconds.
        server_time_ms: i64,
    },
}

impl ServerMessage {
    /// Returns the `type` field of the message.
    pub fn type_name(&self) -> &'static str {
        match self {
            Self::Welcome { .. } => "welcome",
            Self::Pairing { .. } => "pairing",
            Self::Paired { .. } => "paired",
            Self::Command { .. } => "command",
            Self::Settings { .. } => "settings",
            Self::Error { .. } => "error",
            Self::Revoked => "revoked",
            Self::Pong { .. } => "pong",
        }
    }
}

/// Stable machine codes of the `error` message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ErrorCode {
    /// Not JSON, not an object, or no `type` field.
    MalformedMessage,
    /// A `type` the receiver does not recognise.
    UnknownType,
    /// A known `type` with missing or wrong fields.
    InvalidMessage,
    /// Longer than [`MAX_MESSAGE_BYTES`] or the limit in force.
    MessageTooLarge,
    /// A message that is not allowed at this point, such as `status` before `hello`.
    UnexpectedMessage,
    /// No `hello` arrived in time after the connection opened.
    HelloTimeout,
    /// Unknown device, wrong secret, or a device that can no longer authenticate.
    InvalidCredentials,
    /// The server does not hand out pairing codes now, for example after too many requests.
    PairingUnavailable,
    /// The code in `resume` expired, was used, or does not match its ticket.
    PairingExpired,
    /// Too many messages in a short time.
    RateLimited,
    /// A newer connection of the same device took over, so this one closes.
    Replaced,
    /// An internal server error. The client may retry later.
    Internal,
}

#[cfg(test)]
mod tests;
