//! Reading frames into typed messages, with errors precise enough for an `error` frame.

use serde::de::DeserializeOwned;
use serde_json::Value;

use super::{
    ClientMessage, ErrorCode, MAX_ACK_ERROR_BYTES, MAX_USER_AGENT_BYTES, MAX_VERSION_BYTES,
    ServerMessage,
};
use crate::device::shorten;
use crate::media::ItemId;

/// `type` values of [`ClientMessage`], in declaration order.
pub(super) const CLIENT_TYPES: &[&str] = &["hello", "status", "ack", "ping"];

/// `type` values of [`ServerMessage`], in declaration order.
pub(super) const SERVER_TYPES: &[&str] = &[
    "welcome", "pairing", "paired", "command", "settings", "error", "revoked", "pong",
];

/// Error from parsing a frame into a message.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProtocolError {
    #[error("message too large: {size} bytes, the limit is {limit} bytes")]
    TooLarge { size: usize, limit: usize },
    /// Not JSON, not an object, or no string `type`.
    #[error("malformed message: {detail}")]
    Malformed { detail: String },
    /// `type_name` is cut to 40 characters, because it is echoed back to the sender.
    #[error("unknown message type {type_name:?}: expected {}", .expected.join(", "))]
    UnknownType {
        type_name: String,
        expected: &'static [&'static str],
    },
    /// A known type whose fields are missing, of the wrong type, or too long.
    #[error("invalid {type_name} message: {detail}")]
    Invalid {
        type_name: &'static str,
        detail: String,
    },
}

impl ProtocolError {
    /// Returns the code of the `error` frame that reports this error to the client.
    pub fn code(&self) -> ErrorCode {
        match self {
            Self::TooLarge { .. } => ErrorCode::MessageTooLarge,
            Self::Malformed { .. } => ErrorCode::MalformedMessage,
            Self::UnknownType { .. } => ErrorCode::UnknownType,
            Self::Invalid { .. } => ErrorCode::InvalidMessage,
        }
    }
}

/// Parses a frame a display client sent. Frames longer than `max_bytes` are rejected before
/// parsing, and text fields are checked against their limits, such as
/// [`MAX_USER_AGENT_BYTES`].
pub fn parse_client_message(text: &str, max_bytes: usize) -> Result<ClientMessage, ProtocolError> {
    let message: ClientMessage = parse(text, max_bytes, CLIENT_TYPES)?;
    check_client_limits(&message).map_err(|detail| ProtocolError::Invalid {
        type_name: message.type_name(),
        detail,
    })?;
    Ok(message)
}

/// Parses a frame the server sent, for clients written in Rust such as the test clients and the
/// load tool.
pub fn parse_server_message(text: &str, max_bytes: usize) -> Result<ServerMessage, ProtocolError> {
    parse(text, max_bytes, SERVER_TYPES)
}

fn parse<M: DeserializeOwned>(
    text: &str,
    max_bytes: usize,
    types: &'static [&'static str],
) -> Result<M, ProtocolError> {
    if text.len() > max_bytes {
        return Err(ProtocolError::TooLarge {
            size: text.len(),
            limit: max_bytes,
        });
    }

    // The happy path parses once. Only a frame that fails is parsed again, into a plain value,
    // to tell an unknown type from bad fields.
    serde_json::from_str(text).map_err(|error| classify(text, &error, types))
}

fn classify(
    text: &str,
    error: &serde_json::Error,
    types: &'static [&'static str],
) -> ProtocolError {
    let malformed = |detail: String| ProtocolError::Malformed { detail };

    let value: Value = match serde_json::from_str(text) {
        Ok(value) => value,
        Err(error) => return malformed(format!("not JSON: {error}")),
    };
    let Value::Object(object) = value else {
        return malformed("expected a JSON object with a \"type\" field".to_owned());
    };
    let type_name = match object.get("type") {
        Some(Value::String(type_name)) => type_name,
        Some(_) => return malformed("the \"type\" field must be a string".to_owned()),
        None => return malformed("missing \"type\" field".to_owned()),
    };

    match types.iter().find(|known| *known == type_name) {
        Some(known) => ProtocolError::Invalid {
            type_name: known,
            detail: error.to_string(),
        },
        None => ProtocolError::UnknownType {
            type_name: shorten(type_name),
            expected: types,
        },
    }
}

/// Checks the text fields a client controls against their limits, so that a client cannot
/// make the server store or log 60 KiB of user agent.
fn check_client_limits(message: &ClientMessage) -> Result<(), String> {
    match message {
        ClientMessage::Hello(hello) => {
            check_length("user_agent", &hello.user_agent, MAX_USER_AGENT_BYTES)?;
            // Ids, secrets, codes and tickets in `auth` check their own shape when deserialized.
            check_length("client_version", &hello.client_version, MAX_VERSION_BYTES)
        }
        ClientMessage::Status(status) => {
            // `ItemId` deserializes without checks, so the shape is checked here before the
            // server stores the status.
            if let Some(item_id) = &status.current_item_id
                && let Err(error) = item_id.as_str().parse::<ItemId>()
            {
                return Err(format!("current_item_id: {}", error.message));
            }
            check_length("version", &status.version, MAX_VERSION_BYTES)
        }
        ClientMessage::Ack { error, .. } => match error {
            Some(error) => check_length("error", error, MAX_ACK_ERROR_BYTES),
            None => Ok(()),
        },
        ClientMessage::Ping { .. } => Ok(()),
    }
}

fn check_length(field: &str, value: &str, max_bytes: usize) -> Result<(), String> {
    if value.len() > max_bytes {
        Err(format!(
            "{field} is {} bytes long, the limit is {max_bytes} bytes",
            value.len()
        ))
    } else {
        Ok(())
    }
}
