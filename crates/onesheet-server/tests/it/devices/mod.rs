//! The device protocol against the real router on a real socket, with a WebSocket client built
//! from the shared protocol types.

mod access;
mod admin;
mod commands;
mod events;
mod frozen;
mod groups;
mod hardening;
mod idle_proxy;
mod pairing;
mod pairing_qr;
mod poll;
mod socket;

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::Duration;

use axum::body::Body;
use axum::http::Request;
use futures::{SinkExt, StreamExt};
use onesheet_domain::device::ScreenSize;
use onesheet_domain::protocol::MAX_MESSAGE_BYTES;
use onesheet_domain::{
    ClientMessage, DeviceId, DeviceSecret, Hello, HelloAuth, PairingCode, PairingResume,
    PairingTicket, ServerMessage, parse_server_message,
};
use onesheet_server::accounts::unix_now;
use onesheet_server::auth::AdminToken;
use onesheet_server::devices::{DeviceConfig, DeviceService};
use onesheet_store::SecretKey;
use serde_json::{Value, json};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

use crate::support::{TestApp, TestResponse};

const ADMIN_TOKEN: &str = "device-tests-admin-token";

/// Maximum wait for one frame. Frames arrive within milliseconds on loopback, so this only
/// bounds a failing test.
const FRAME_TIMEOUT: Duration = Duration::from_secs(5);

pub struct DeviceApp {
    pub app: TestApp,
    pub service: Arc<DeviceService>,
    pub address: SocketAddr,
    pub clock: Arc<AtomicI64>,
}

/// Timings short enough for tests, with production limits otherwise.
pub fn test_config() -> DeviceConfig {
    DeviceConfig {
        ack_timeout: Duration::from_millis(300),
        flush_interval: Duration::from_millis(100),
        ..DeviceConfig::default()
    }
}

impl DeviceApp {
    pub async fn start() -> Self {
        Self::with_config(test_config()).await
    }

    pub async fn with_config(config: DeviceConfig) -> Self {
        Self::with_posters(config, 2).await
    }

    /// Starts the app over `posters` generated posters.
    pub async fn with_posters(config: DeviceConfig, posters: usize) -> Self {
        let clock = Arc::new(AtomicI64::new(unix_now()));
        let reading = clock.clone();
        let mut service = None;
        let app = TestApp::with_posters(posters).await.with_state(|state| {
            let built = DeviceService::new(
                state.store.clone(),
                state.settings.clone(),
                &SecretKey::from_bytes(&[9; 32]),
                config,
            )
            .with_clock(Arc::new(move || reading.load(Ordering::SeqCst)));
            let built = Arc::new(built);
            built.start_background();
            service = Some(built.clone());
            state
                .with_devices(built)
                .with_admin_token(AdminToken::new(ADMIN_TOKEN))
        });

        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = listener.local_addr().unwrap();
        let router = app.router.clone();
        // The project's own connection loop, as the binary serves: its timeouts and limits
        // apply to the upgraded device sockets too.
        tokio::spawn(async move {
            onesheet_server::listener::serve(listener, router, 1_000, None, std::future::pending())
                .await;
        });
        Self {
            app,
            service: service.unwrap(),
            address,
            clock,
        }
    }

    pub fn advance_clock(&self, seconds: i64) {
        self.clock.fetch_add(seconds, Ordering::SeqCst);
    }

    /// Opens the device WebSocket from loopback.
    pub async fn connect(&self) -> Screen {
        let url = format!("ws://{}/api/v1/devices/ws", self.address);
        let request = url.into_client_request().unwrap();
        let (socket, _) = tokio_tungstenite::connect_async(request).await.unwrap();
        Screen { socket }
    }

    /// Sends an admin API request with the bootstrap token.
    pub async fn admin(&self, method: &str, uri: &str, body: Option<Value>) -> TestResponse {
        let mut request = Request::builder()
            .method(method)
            .uri(uri)
            .header("authorization", format!("Bearer {ADMIN_TOKEN}"));
        let body = match body {
            Some(json) => {
                request = request.header("content-type", "application/json");
                Body::from(json.to_string())
            }
            None => Body::empty(),
        };
        self.app.send(request.body(body).unwrap()).await
    }

    /// Claims `code` as a device named `name` and returns the response.
    pub async fn claim(&self, code: &str, name: &str) -> TestResponse {
        self.admin(
            "POST",
            "/api/v1/admin/devices/claim",
            Some(json!({ "code": code, "name": name })),
        )
        .await
    }

    /// Connects a new screen that requests a pairing code, and returns it with its code and
    /// ticket.
    pub async fn show_code(&self) -> (Screen, PairingCode, PairingTicket) {
        let mut screen = self.connect().await;
        screen
            .send(&hello(HelloAuth::Pairing { resume: None }))
            .await;
        let shown = screen.next().await;
        let ServerMessage::Pairing { code, ticket, .. } = shown else {
            panic!("expected pairing, got {shown:?}");
        };
        (screen, code, ticket)
    }

    /// Pairs a new screen through the claim flow and returns its identity and live socket,
    /// after its `welcome`.
    pub async fn pair(&self, name: &str) -> (DeviceId, DeviceSecret, Screen) {
        let (mut screen, code, _) = self.show_code().await;
        let claimed = self.claim(code.as_str(), name).await;
        assert_eq!(
            claimed.status,
            201,
            "{}",
            String::from_utf8_lossy(&claimed.body)
        );

        let ServerMessage::Paired { device_id, secret } = screen.next().await else {
            panic!("expected paired");
        };
        let welcome = screen.next().await;
        assert!(
            matches!(welcome, ServerMessage::Welcome { .. }),
            "{welcome:?}"
        );
        (device_id, secret, screen)
    }

    /// Connects as a paired device and waits for its `welcome`.
    pub async fn reconnect(&self, device_id: &DeviceId, secret: &DeviceSecret) -> Screen {
        let mut screen = self.connect().await;
        screen.send(&device_hello(device_id, secret)).await;
        let welcome = screen.next().await;
        assert!(
            matches!(welcome, ServerMessage::Welcome { .. }),
            "{welcome:?}"
        );
        screen
    }

    /// Waits until `condition` holds, checking every 20 ms, for at most `limit`.
    pub async fn wait_for(&self, limit: Duration, mut condition: impl FnMut() -> bool) -> bool {
        let deadline = tokio::time::Instant::now() + limit;
        while tokio::time::Instant::now() < deadline {
            if condition() {
                return true;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        condition()
    }
}

pub fn hello(auth: HelloAuth) -> ClientMessage {
    ClientMessage::Hello(Hello {
        auth,
        client_version: "0.1.0".to_owned(),
        user_agent: "Mozilla/5.0 (X11; Linux x86_64) Chrome/120.0 Safari/537.36".to_owned(),
        screen: ScreenSize {
            width: 1920,
            height: 1080,
        },
    })
}

pub fn device_hello(device_id: &DeviceId, secret: &DeviceSecret) -> ClientMessage {
    hello(HelloAuth::Device {
        device_id: device_id.clone(),
        secret: secret.clone(),
    })
}

pub fn resume_hello(resume: PairingResume) -> ClientMessage {
    hello(HelloAuth::Pairing {
        resume: Some(resume),
    })
}

/// One screen's end of a device WebSocket.
pub struct Screen {
    pub socket: WebSocketStream<MaybeTlsStream<TcpStream>>,
}

impl Screen {
    pub async fn send(&mut self, message: &ClientMessage) {
        let text = serde_json::to_string(message).unwrap();
        self.send_text(&text).await;
    }

    pub async fn send_text(&mut self, text: &str) {
        self.socket.send(Message::text(text)).await.unwrap();
    }

    /// Returns the next message, skipping control frames. Panics on close or timeout.
    pub async fn next(&mut self) -> ServerMessage {
        match self.try_next().await {
            Some(message) => message,
            None => panic!("the socket closed or no message arrived in time"),
        }
    }

    /// Returns the next message, or `None` when the socket closes first.
    pub async fn try_next(&mut self) -> Option<ServerMessage> {
        loop {
            let frame = tokio::time::timeout(FRAME_TIMEOUT, self.socket.next())
                .await
                .expect("no frame arrived in time");
            match frame {
                Some(Ok(Message::Text(text))) => {
                    return Some(parse_server_message(text.as_str(), MAX_MESSAGE_BYTES).unwrap());
                }
                Some(Ok(Message::Ping(_) | Message::Pong(_))) => continue,
                Some(Ok(Message::Close(_))) | None | Some(Err(_)) => return None,
                Some(Ok(other)) => panic!("unexpected frame {other:?}"),
            }
        }
    }

    /// Asserts that the socket closes within the frame timeout, after any messages.
    pub async fn expect_closed(&mut self) {
        while let Some(message) = self.try_next().await {
            let _ = message;
        }
    }
}

/// Asserts that `message` is an `error` frame with `code` and returns its text.
pub fn expect_error(message: &ServerMessage, code: &str) -> String {
    let ServerMessage::Error {
        code: actual,
        message,
    } = message
    else {
        panic!("expected error {code}, got {message:?}");
    };
    assert_eq!(serde_json::to_value(actual).unwrap(), code, "{message}");
    message.clone()
}
