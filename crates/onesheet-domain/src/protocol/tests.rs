use serde_json::{Value, json};

use super::parse::{CLIENT_TYPES, SERVER_TYPES};
use super::*;
use crate::device::{DeviceStatus, SECRET_RANDOM_BYTES};
use crate::media::ItemId;
use crate::playlist::DisplayMode;
use crate::settings::overrides::validate_override;

const SECRET_HEX: &str = "1111111111111111111111111111111111111111111111111111111111111111";
const TICKET_HEX: &str = "2222222222222222222222222222222222222222222222222222222222222222";

fn device_id() -> DeviceId {
    "4f9c2d7e8a1b3c5d6e7f8091a2b3c4d5".parse().unwrap()
}

fn secret() -> DeviceSecret {
    DeviceSecret::from_random(&[0x11; SECRET_RANDOM_BYTES])
}

fn ticket() -> PairingTicket {
    PairingTicket::from_random(&[0x22; SECRET_RANDOM_BYTES])
}

fn item_id() -> ItemId {
    "plex-0123456789abcdef".parse().unwrap()
}

/// Asserts that `message` serializes to exactly `expected` and that `expected` parses back to
/// `message`, so a renamed field fails here before a client notices.
fn assert_client_shape(message: ClientMessage, expected: Value) {
    assert_eq!(serde_json::to_value(&message).unwrap(), expected);
    let parsed = parse_client_message(&expected.to_string(), MAX_MESSAGE_BYTES).unwrap();
    assert_eq!(parsed, message);
}

fn assert_server_shape(message: ServerMessage, expected: Value) {
    assert_eq!(serde_json::to_value(&message).unwrap(), expected);
    let parsed = parse_server_message(&expected.to_string(), MAX_MESSAGE_BYTES).unwrap();
    assert_eq!(parsed, message);
}

fn hello(auth: HelloAuth) -> ClientMessage {
    ClientMessage::Hello(Hello {
        auth,
        client_version: "0.4.1".to_owned(),
        user_agent: "Mozilla/5.0 (SMART-TV; Linux; Tizen 6.0)".to_owned(),
        screen: ScreenSize {
            width: 3840,
            height: 2160,
        },
    })
}

#[test]
fn hello_with_device_shape() {
    let message = hello(HelloAuth::Device {
        device_id: device_id(),
        secret: secret(),
    });
    assert_client_shape(
        message,
        json!({
            "type": "hello",
            "auth": {
                "method": "device",
                "device_id": "4f9c2d7e8a1b3c5d6e7f8091a2b3c4d5",
                "secret": SECRET_HEX,
            },
            "client_version": "0.4.1",
            "user_agent": "Mozilla/5.0 (SMART-TV; Linux; Tizen 6.0)",
            "screen": {"width": 3840, "height": 2160},
        }),
    );
}

#[test]
fn hello_asking_to_pair_shape() {
    let fresh = hello(HelloAuth::Pairing { resume: None });
    let mut expected = serde_json::to_value(&fresh).unwrap();
    assert_eq!(expected["auth"], json!({"method": "pairing"}));
    assert_client_shape(fresh, expected.clone());

    let resumed = hello(HelloAuth::Pairing {
        resume: Some(PairingResume {
            code: "K7M2QX".parse().unwrap(),
            ticket: ticket(),
        }),
    });
    expected["auth"] = json!({
        "method": "pairing",
        "resume": {"code": "K7M2QX", "ticket": TICKET_HEX},
    });
    assert_client_shape(resumed, expected);
}

#[test]
fn status_shape() {
    let message = ClientMessage::Status(DeviceStatus {
        current_item_id: Some(item_id()),
        mode: DisplayMode::Wallart,
        paused: true,
        resolution: ScreenSize {
            width: 1920,
            height: 1080,
        },
        version: "0.4.1".to_owned(),
        uptime_seconds: 86_400,
    });
    assert_client_shape(
        message,
        json!({
            "type": "status",
            "current_item_id": "plex-0123456789abcdef",
            "mode": "wallart",
            "paused": true,
            "resolution": {"width": 1920, "height": 1080},
            "version": "0.4.1",
            "uptime_seconds": 86_400,
        }),
    );
}

#[test]
fn ack_and_ping_shapes() {
    assert_client_shape(
        ClientMessage::ack_ok(CommandId(12)),
        json!({"type": "ack", "id": 12, "ok": true}),
    );
    assert_client_shape(
        ClientMessage::ack_failed(CommandId(13), "item not in catalog"),
        json!({"type": "ack", "id": 13, "ok": false, "error": "item not in catalog"}),
    );
    assert_client_shape(
        ClientMessage::Ping {
            client_time_ms: 1_700_000_000_123,
        },
        json!({"type": "ping", "client_time_ms": 1_700_000_000_123_i64}),
    );
}

#[test]
fn welcome_and_settings_shapes() {
    let settings = crate::DisplaySettings::default();
    let settings_json = serde_json::to_value(&settings).unwrap();

    assert_server_shape(
        ServerMessage::Welcome {
            device_id: device_id(),
            name: "Lobby left".to_owned(),
            settings: Box::new(settings.clone()),
            server_time_ms: 1_700_000_000_456,
        },
        json!({
            "type": "welcome",
            "device_id": "4f9c2d7e8a1b3c5d6e7f8091a2b3c4d5",
            "name": "Lobby left",
            "settings": settings_json,
            "server_time_ms": 1_700_000_000_456_i64,
        }),
    );
    assert_server_shape(
        ServerMessage::Settings {
            settings: Box::new(settings),
        },
        json!({"type": "settings", "settings": settings_json}),
    );
}

#[test]
fn pairing_and_paired_shapes() {
    assert_server_shape(
        ServerMessage::Pairing {
            code: "K7M2QX".parse().unwrap(),
            ticket: ticket(),
            expires_at: 1_700_000_600,
            server_time_ms: 1_700_000_000_000,
            claim_path: "/admin/devices/claim?code=K7M2QX".to_owned(),
        },
        json!({
            "type": "pairing",
            "code": "K7M2QX",
            "ticket": TICKET_HEX,
            "expires_at": 1_700_000_600,
            "server_time_ms": 1_700_000_000_000_i64,
            "claim_path": "/admin/devices/claim?code=K7M2QX",
        }),
    );
    assert_server_shape(
        ServerMessage::Paired {
            device_id: device_id(),
            secret: secret(),
        },
        json!({
            "type": "paired",
            "device_id": "4f9c2d7e8a1b3c5d6e7f8091a2b3c4d5",
            "secret": SECRET_HEX,
        }),
    );
}

#[test]
fn command_shapes() {
    let overrides = validate_override(&json!({"screensaver": {"interval_seconds": 20}})).unwrap();
    let cases = [
        (Command::Next, json!({"type": "next"})),
        (Command::Previous, json!({"type": "previous"})),
        (Command::Pause, json!({"type": "pause"})),
        (Command::Resume, json!({"type": "resume"})),
        (
            Command::Pin { item_id: item_id() },
            json!({"type": "pin", "item_id": "plex-0123456789abcdef"}),
        ),
        (Command::Unpin, json!({"type": "unpin"})),
        (Command::Reload, json!({"type": "reload"})),
        (Command::ClearCache, json!({"type": "clear_cache"})),
        (Command::PowerOff, json!({"type": "power_off"})),
        (Command::PowerOn, json!({"type": "power_on"})),
        (
            Command::Navigate {
                mode: DisplayMode::Cinema,
            },
            json!({"type": "navigate", "mode": "cinema"}),
        ),
        (
            Command::ApplySettings { overrides },
            json!({
                "type": "apply_settings",
                "overrides": {"screensaver": {"interval_seconds": 20}},
            }),
        ),
        (Command::Identify, json!({"type": "identify"})),
    ];

    for (command, command_json) in cases {
        assert_server_shape(
            ServerMessage::Command {
                id: CommandId(7),
                command,
            },
            json!({"type": "command", "id": 7, "command": command_json}),
        );
    }
}

#[test]
fn error_revoked_and_pong_shapes() {
    assert_server_shape(
        ServerMessage::Error {
            code: ErrorCode::UnknownType,
            message: "unknown message type \"selfie\"".to_owned(),
        },
        json!({
            "type": "error",
            "code": "unknown-type",
            "message": "unknown message type \"selfie\"",
        }),
    );
    assert_server_shape(ServerMessage::Revoked, json!({"type": "revoked"}));
    assert_server_shape(
        ServerMessage::Pong {
            client_time_ms: 5,
            server_time_ms: 9,
        },
        json!({"type": "pong", "client_time_ms": 5, "server_time_ms": 9}),
    );
}

#[test]
fn error_codes_are_kebab_case() {
    let cases = [
        (ErrorCode::MalformedMessage, "malformed-message"),
        (ErrorCode::UnknownType, "unknown-type"),
        (ErrorCode::InvalidMessage, "invalid-message"),
        (ErrorCode::MessageTooLarge, "message-too-large"),
        (ErrorCode::UnexpectedMessage, "unexpected-message"),
        (ErrorCode::HelloTimeout, "hello-timeout"),
        (ErrorCode::InvalidCredentials, "invalid-credentials"),
        (ErrorCode::PairingUnavailable, "pairing-unavailable"),
        (ErrorCode::PairingExpired, "pairing-expired"),
        (ErrorCode::RateLimited, "rate-limited"),
        (ErrorCode::Replaced, "replaced"),
        (ErrorCode::Internal, "internal"),
    ];
    for (code, text) in cases {
        assert_eq!(serde_json::to_value(code).unwrap(), json!(text));
    }
}

#[test]
fn type_lists_match_the_enums() {
    let client = [
        hello(HelloAuth::Pairing { resume: None }),
        ClientMessage::Status(DeviceStatus {
            current_item_id: None,
            mode: DisplayMode::Screensaver,
            paused: false,
            resolution: ScreenSize {
                width: 1,
                height: 1,
            },
            version: String::new(),
            uptime_seconds: 0,
        }),
        ClientMessage::ack_ok(CommandId(1)),
        ClientMessage::Ping { client_time_ms: 0 },
    ];
    let names: Vec<&str> = client.iter().map(ClientMessage::type_name).collect();
    assert_eq!(names, CLIENT_TYPES);
    for message in &client {
        assert_eq!(
            serde_json::to_value(message).unwrap()["type"],
            message.type_name()
        );
    }

    let server = [
        ServerMessage::Welcome {
            device_id: device_id(),
            name: String::new(),
            settings: Box::default(),
            server_time_ms: 0,
        },
        ServerMessage::Pairing {
            code: "K7M2QX".parse().unwrap(),
            ticket: ticket(),
            expires_at: 0,
            server_time_ms: 0,
            claim_path: String::new(),
        },
        ServerMessage::Paired {
            device_id: device_id(),
            secret: secret(),
        },
        ServerMessage::Command {
            id: CommandId(1),
            command: Command::Next,
        },
        ServerMessage::Settings {
            settings: Box::default(),
        },
        ServerMessage::Error {
            code: ErrorCode::Internal,
            message: String::new(),
        },
        ServerMessage::Revoked,
        ServerMessage::Pong {
            client_time_ms: 0,
            server_time_ms: 0,
        },
    ];
    let names: Vec<&str> = server.iter().map(ServerMessage::type_name).collect();
    assert_eq!(names, SERVER_TYPES);
    for message in &server {
        assert_eq!(
            serde_json::to_value(message).unwrap()["type"],
            message.type_name()
        );
    }
}

#[test]
fn unknown_type_is_named() {
    let error = parse_client_message(r#"{"type": "selfie", "smile": true}"#, 1024).unwrap_err();
    assert_eq!(
        error,
        ProtocolError::UnknownType {
            type_name: "selfie".to_owned(),
            expected: CLIENT_TYPES,
        }
    );
    assert_eq!(error.code(), ErrorCode::UnknownType);
    assert!(
        error
            .to_string()
            .contains("expected hello, status, ack, ping"),
        "{error}"
    );

    // A server message type is unknown to the client parser and the other way round.
    let error = parse_client_message(r#"{"type": "welcome"}"#, 1024).unwrap_err();
    assert_eq!(error.code(), ErrorCode::UnknownType);
    let error = parse_server_message(r#"{"type": "hello"}"#, 1024).unwrap_err();
    assert_eq!(error.code(), ErrorCode::UnknownType);
}

#[test]
fn unknown_type_name_is_shortened() {
    let frame = json!({"type": "x".repeat(5_000)}).to_string();
    let ProtocolError::UnknownType { type_name, .. } =
        parse_client_message(&frame, MAX_MESSAGE_BYTES).unwrap_err()
    else {
        panic!("expected an unknown type");
    };
    assert!(type_name.chars().count() <= 41, "{}", type_name.len());
}

#[test]
fn oversized_frame_is_rejected_before_parsing() {
    // Not even JSON: the size check must come first.
    let frame = "{".repeat(2_000);
    let error = parse_client_message(&frame, 1_000).unwrap_err();
    assert_eq!(
        error,
        ProtocolError::TooLarge {
            size: 2_000,
            limit: 1_000
        }
    );
    assert_eq!(error.code(), ErrorCode::MessageTooLarge);

    let ping = r#"{"type":"ping","client_time_ms":1}"#;
    assert!(parse_client_message(ping, ping.len()).is_ok());
    assert!(parse_client_message(ping, ping.len() - 1).is_err());
}

#[test]
fn malformed_frames_table() {
    let cases = [
        ("not json", "not JSON"),
        ("", "not JSON"),
        ("[1, 2]", "JSON object"),
        (r#""hello""#, "JSON object"),
        (r#"{"kind": "hello"}"#, "missing \"type\""),
        (r#"{"type": 5}"#, "must be a string"),
        (r#"{"type": "ping""#, "not JSON"),
    ];
    for (frame, detail) in cases {
        let error = parse_client_message(frame, 1024).unwrap_err();
        assert_eq!(error.code(), ErrorCode::MalformedMessage, "{frame}");
        assert!(error.to_string().contains(detail), "{frame}: {error}");
    }
}

#[test]
fn invalid_fields_table() {
    let long_agent = "a".repeat(MAX_USER_AGENT_BYTES + 1);
    let long_error = "e".repeat(MAX_ACK_ERROR_BYTES + 1);
    let cases = [
        (json!({"type": "ping"}), "ping", "client_time_ms"),
        (
            json!({"type": "ack", "id": "7", "ok": true}),
            "ack",
            "invalid type",
        ),
        (
            json!({"type": "ack", "id": 7, "ok": false, "error": long_error}),
            "ack",
            "error is 1025 bytes",
        ),
        (
            json!({"type": "hello", "auth": {"method": "password"}, "client_version": "1",
                   "user_agent": "x", "screen": {"width": 1, "height": 1}}),
            "hello",
            "password",
        ),
        (
            json!({"type": "hello",
                   "auth": {"method": "device", "device_id": "../../etc", "secret": SECRET_HEX},
                   "client_version": "1", "user_agent": "x",
                   "screen": {"width": 1, "height": 1}}),
            "hello",
            "invalid device id",
        ),
        (
            json!({"type": "hello",
                   "auth": {"method": "device", "device_id": "d1", "secret": "hunter2"},
                   "client_version": "1", "user_agent": "x",
                   "screen": {"width": 1, "height": 1}}),
            "hello",
            "64 lowercase hex",
        ),
        (
            json!({"type": "hello", "auth": {"method": "pairing"}, "client_version": "1",
                   "user_agent": long_agent, "screen": {"width": 1, "height": 1}}),
            "hello",
            "user_agent is 513 bytes",
        ),
        (
            json!({"type": "status", "current_item_id": null, "mode": "slideshow",
                   "paused": false, "resolution": {"width": 1, "height": 1},
                   "version": "1", "uptime_seconds": 3}),
            "status",
            "slideshow",
        ),
        (
            json!({"type": "status", "current_item_id": "../../etc/passwd", "mode": "wallart",
                   "paused": false, "resolution": {"width": 1, "height": 1},
                   "version": "1", "uptime_seconds": 3}),
            "status",
            "current_item_id: invalid item id",
        ),
    ];

    for (frame, type_name, detail) in cases {
        let error = parse_client_message(&frame.to_string(), MAX_MESSAGE_BYTES).unwrap_err();
        let ProtocolError::Invalid {
            type_name: found,
            detail: found_detail,
        } = &error
        else {
            panic!("{frame}: expected invalid fields, got {error:?}");
        };
        assert_eq!(*found, type_name, "{frame}");
        assert!(found_detail.contains(detail), "{frame}: {found_detail}");
        assert_eq!(error.code(), ErrorCode::InvalidMessage);
    }
}

#[test]
fn invalid_secret_is_not_echoed() {
    let almost_secret = format!("{}Z", &SECRET_HEX[..63]);
    let frame = json!({"type": "hello",
        "auth": {"method": "device", "device_id": "d1", "secret": almost_secret},
        "client_version": "1", "user_agent": "x", "screen": {"width": 1, "height": 1}});
    let error = parse_client_message(&frame.to_string(), MAX_MESSAGE_BYTES).unwrap_err();
    assert!(!error.to_string().contains(&almost_secret), "{error}");
}

#[test]
fn unknown_fields_are_ignored() {
    let frame = r#"{"type": "ping", "client_time_ms": 3, "added_in_a_later_version": [1]}"#;
    let parsed = parse_client_message(frame, 1024).unwrap();
    assert_eq!(parsed, ClientMessage::Ping { client_time_ms: 3 });
}

#[test]
fn debug_of_messages_hides_secrets() {
    let message = hello(HelloAuth::Device {
        device_id: device_id(),
        secret: secret(),
    });
    let printed = format!("{message:?}");
    assert!(!printed.contains(SECRET_HEX), "{printed}");

    let paired = ServerMessage::Pairing {
        code: "K7M2QX".parse().unwrap(),
        ticket: ticket(),
        expires_at: 0,
        server_time_ms: 0,
        claim_path: String::new(),
    };
    let printed = format!("{paired:?}");
    assert!(!printed.contains(TICKET_HEX), "{printed}");
    assert!(!printed.contains("K7M2QX"), "{printed}");
}
