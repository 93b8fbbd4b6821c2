//! The live device feed `GET /api/v1/admin/devices/events`: access, the events a change
//! causes, the per-device filter and the limit on open streams.

use axum::http::StatusCode;
use http_body_util::BodyExt;
use onesheet_domain::{DeviceStatus, DisplayMode};
use onesheet_server::auth::Credential;
use onesheet_server::devices::{MAX_EVENT_STREAMS, MAX_EVENT_STREAMS_PER_CALLER};
use tower::ServiceExt;

use super::*;

/// Maximum wait for an expected event. Events arrive within the 250 ms coalescing window, so
/// this only bounds a failing test.
const EVENT_TIMEOUT: Duration = Duration::from_secs(5);

/// The client end of one event stream.
struct EventStream {
    body: Body,
    buffer: String,
}

impl EventStream {
    /// Opens the stream at `uri` with the admin token and asserts that it is one.
    async fn open(app: &DeviceApp, uri: &str) -> Self {
        let response = send_raw(app, uri, true).await;
        assert_eq!(response.status(), StatusCode::OK);
        let content_type = response.headers()["content-type"].to_str().unwrap();
        assert_eq!(content_type, "text/event-stream");
        Self {
            body: response.into_body(),
            buffer: String::new(),
        }
    }

    /// Returns the next event's name and JSON data, skipping keep-alive comments and the
    /// `retry` field. Returns `None` when the stream ends or no event arrives within `limit`.
    async fn next_within(&mut self, limit: Duration) -> Option<(String, Value)> {
        let deadline = tokio::time::Instant::now() + limit;
        loop {
            if let Some(end) = self.buffer.find("\n\n") {
                let block: String = self.buffer.drain(..end + 2).collect();
                let mut name = None;
                let mut data = String::new();
                for line in block.lines() {
                    if let Some(value) = line.strip_prefix("event:") {
                        name = Some(value.trim().to_owned());
                    } else if let Some(value) = line.strip_prefix("data:") {
                        data.push_str(value.trim());
                    }
                }
                if let Some(name) = name {
                    return Some((name, serde_json::from_str(&data).unwrap()));
                }
                continue;
            }
            let frame = tokio::time::timeout_at(deadline, self.body.frame()).await;
            let Ok(Some(Ok(frame))) = frame else {
                return None;
            };
            if let Ok(data) = frame.into_data() {
                self.buffer.push_str(std::str::from_utf8(&data).unwrap());
            }
        }
    }

    /// Reads events until one named `name` satisfies `accept`, and returns its data.
    async fn expect(
        &mut self,
        description: &str,
        name: &str,
        accept: impl Fn(&Value) -> bool,
    ) -> Value {
        let deadline = tokio::time::Instant::now() + EVENT_TIMEOUT;
        let mut seen = Vec::new();
        loop {
            let left = deadline.saturating_duration_since(tokio::time::Instant::now());
            match self.next_within(left).await {
                Some((event, data)) if event == name && accept(&data) => return data,
                Some(other) => seen.push(other),
                None => panic!("no event showed that {description}; received {seen:#?}"),
            }
        }
    }
}

/// Sends `GET uri`, with the admin token when `authorized`, and returns the unread response.
async fn send_raw(app: &DeviceApp, uri: &str, authorized: bool) -> axum::response::Response {
    let mut request = Request::builder().method("GET").uri(uri);
    if authorized {
        request = request.header("authorization", format!("Bearer {ADMIN_TOKEN}"));
    }
    let mut request = request.body(Body::empty()).unwrap();
    let loopback = SocketAddr::from(([127, 0, 0, 1], 50_000));
    request
        .extensions_mut()
        .insert(axum::extract::ConnectInfo(loopback));
    app.app.router.clone().oneshot(request).await.unwrap()
}

const EVENTS: &str = "/api/v1/admin/devices/events";

#[tokio::test]
async fn event_stream_requires_admin() {
    let app = DeviceApp::start().await;

    let response = send_raw(&app, EVENTS, false).await;

    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn event_stream_rejects_unknown_query() {
    let app = DeviceApp::start().await;

    let unknown = send_raw(&app, &format!("{EVENTS}?status=live"), true).await;
    let invalid_id = send_raw(&app, &format!("{EVENTS}?device=no%20spaces"), true).await;

    assert_eq!(unknown.status(), StatusCode::BAD_REQUEST);
    assert_eq!(invalid_id.status(), StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn event_stream_follows_a_screen() {
    let app = DeviceApp::start().await;
    let mut stream = EventStream::open(&app, EVENTS).await;

    let (device_id, _secret, mut screen) = app.pair("Lobby").await;
    let id = device_id.as_str().to_owned();
    let online = stream
        .expect("the paired screen is online", "device", |data| {
            data["id"] == id.as_str() && data["transport"] == "websocket"
        })
        .await;
    assert_eq!(online["name"], "Lobby");
    assert_eq!(online["presence"], "live");

    // A status report names the item on screen, with its title from the catalog.
    let item = app.app.first_item_id();
    let status = DeviceStatus {
        current_item_id: Some(item.parse().unwrap()),
        mode: DisplayMode::Screensaver,
        paused: false,
        resolution: ScreenSize {
            width: 1920,
            height: 1080,
        },
        version: "0.1.0".to_owned(),
        uptime_seconds: 3,
    };
    screen.send(&ClientMessage::Status(status)).await;
    let reported = stream
        .expect("the status reached the feed", "device", |data| {
            data["id"] == id.as_str() && data["last_status"]["current_item_id"] == item.as_str()
        })
        .await;
    assert!(
        reported["current_title"]
            .as_str()
            .is_some_and(|title| !title.is_empty()),
        "{reported}"
    );

    // The screen's ack of a command arrives as a `command` event.
    let sent = app
        .admin(
            "POST",
            &format!("/api/v1/admin/devices/{id}/commands"),
            Some(json!({ "command": { "type": "next" } })),
        )
        .await;
    assert_eq!(sent.status, 201);
    let ServerMessage::Command { id: command_id, .. } = screen.next().await else {
        panic!("expected the command");
    };
    screen
        .send(&ClientMessage::Ack {
            id: command_id,
            ok: true,
            error: None,
        })
        .await;
    let finished = stream
        .expect("the ack reached the feed", "command", |data| {
            data["device_id"] == id.as_str()
        })
        .await;
    assert_eq!(finished["command_id"], json!(command_id));
    assert_eq!(finished["ok"], true);

    // Closing the socket turns the screen offline in the feed.
    drop(screen);
    let offline = stream
        .expect(
            "the closed screen is no longer connected",
            "device",
            |data| data["id"] == id.as_str() && data["transport"].is_null(),
        )
        .await;
    assert_ne!(offline["presence"], "live");

    // Deleting the record removes it.
    let deleted = app
        .admin("DELETE", &format!("/api/v1/admin/devices/{id}"), None)
        .await;
    assert_eq!(deleted.status, 204);
    stream
        .expect("the deleted screen is removed", "removed", |data| {
            data["id"] == id.as_str()
        })
        .await;
}

#[tokio::test]
async fn device_query_limits_the_stream() {
    let app = DeviceApp::start().await;
    let (first, _first_secret, first_screen) = app.pair("First").await;
    let mut stream = EventStream::open(&app, &format!("{EVENTS}?device={first}")).await;

    let (_second, _second_secret, second_screen) = app.pair("Second").await;
    drop(second_screen);
    drop(first_screen);

    let data = stream
        .expect("the followed screen disconnected", "device", |_| true)
        .await;
    assert_eq!(
        data["id"],
        first.as_str(),
        "only the followed screen is sent"
    );
    while let Some((name, data)) = stream.next_within(Duration::from_millis(500)).await {
        assert_eq!(data["id"], first.as_str(), "unexpected {name} event {data}");
    }
}

/// Asserts that `response` is a 503 busy response with `Retry-After`.
async fn assert_busy(response: axum::response::Response) {
    assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert!(response.headers().contains_key("retry-after"));
    let body = response.into_body().collect().await.unwrap().to_bytes();
    let error: Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(error["error"]["code"], "busy", "{error}");
}

#[tokio::test]
async fn open_streams_are_bounded() {
    let app = DeviceApp::start().await;
    // Other callers, each within its own limit, take every slot but one.
    let mut others = Vec::new();
    for id in 0..MAX_EVENT_STREAMS - 1 {
        let caller = Credential::Token(i64::try_from(id).unwrap());
        others.push(app.service.subscribe(&caller).unwrap());
    }
    let mut stream = Some(EventStream::open(&app, EVENTS).await);

    assert_busy(send_raw(&app, EVENTS, true).await).await;

    // Closing a stream frees its slot.
    stream.take();
    let reopened = send_raw(&app, EVENTS, true).await;
    assert_eq!(reopened.status(), StatusCode::OK);
}

#[tokio::test]
async fn one_caller_cannot_take_every_stream() {
    let app = DeviceApp::start().await;
    let mut streams = Vec::new();
    for _ in 0..MAX_EVENT_STREAMS_PER_CALLER {
        streams.push(EventStream::open(&app, EVENTS).await);
    }

    assert_busy(send_raw(&app, EVENTS, true).await).await;
    assert!(app.service.subscribe(&Credential::Token(1)).is_ok());

    streams.pop();
    let reopened = send_raw(&app, EVENTS, true).await;
    assert_eq!(reopened.status(), StatusCode::OK);
}

#[tokio::test]
async fn shutdown_ends_open_streams() {
    let app = DeviceApp::start().await;
    let mut stream = EventStream::open(&app, EVENTS).await;

    app.service.close_event_streams();

    let ended = tokio::time::timeout(EVENT_TIMEOUT, async {
        while let Some(frame) = stream.body.frame().await {
            frame.unwrap();
        }
    })
    .await;
    assert!(ended.is_ok(), "the stream stayed open after the shutdown");
}
