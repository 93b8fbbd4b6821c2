//! The server log API: recent lines as JSON, the live stream of server-sent events, and the
//! download, all redacted and filtered by level.

use std::time::Duration;

use axum::body::Body;
use axum::http::Request;
use http_body_util::BodyExt;
use onesheet_server::auth::{AdminToken, Credential};
use onesheet_server::logs::{LogLevel, MAX_LOG_STREAMS, MAX_LOG_STREAMS_PER_CALLER};
use tower::ServiceExt;

use crate::support::{TestApp, TestResponse};

const TOKEN: &str = "logs-token-for-tests-0123456789";

async fn logs_app() -> TestApp {
    TestApp::with_posters(1)
        .await
        .with_state(|state| state.with_admin_token(AdminToken::new(TOKEN)))
}

fn get(uri: &str, token: Option<&str>) -> Request<Body> {
    let mut request = Request::get(uri);
    if let Some(token) = token {
        request = request.header("authorization", format!("Bearer {token}"));
    }
    request.body(Body::empty()).unwrap()
}

async fn send(app: &TestApp, uri: &str) -> TestResponse {
    app.send(get(uri, Some(TOKEN))).await
}

fn texts(response: &TestResponse) -> Vec<String> {
    response.json()["lines"]
        .as_array()
        .unwrap()
        .iter()
        .map(|line| line["text"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn log_routes_need_credentials() {
    let app = logs_app().await;
    for uri in [
        "/api/v1/admin/logs",
        "/api/v1/admin/logs/stream",
        "/api/v1/admin/logs/download",
    ] {
        assert_eq!(app.send(get(uri, None)).await.status, 401, "{uri}");
        assert_eq!(
            app.send(get(uri, Some("wrong-token"))).await.status,
            401,
            "{uri} with a wrong token"
        );
    }
}

#[tokio::test]
async fn recent_lines_are_redacted() {
    let app = logs_app().await;
    let logs = &app.state.logs;
    logs.push(
        LogLevel::Info,
        "INFO no admin account yet: create one with POST /api/v1/setup and the setup token \
         Zx9_kQ2mV8pL4nR7tY1wE5uI3oA6sD0fG2hJ4kL6zX8 (also in the file named here)",
    );
    logs.push(
        LogLevel::Warn,
        "WARN refresh failed url=http://plex.lan:32400/library/sections/1/all?X-Plex-Token=PLEXTOKEN123&type=1",
    );
    logs.push(
        LogLevel::Warn,
        "WARN GET http://jf.lan:8096/Items?api_key=JELLYKEY456&Limit=50 failed",
    );

    let response = send(&app, "/api/v1/admin/logs").await;
    assert_eq!(response.status, 200);
    assert_eq!(response.header("cache-control"), "no-store");
    let body = String::from_utf8_lossy(&response.body).into_owned();
    for secret in ["Zx9_kQ2mV8pL", "PLEXTOKEN123", "JELLYKEY456"] {
        assert!(!body.contains(secret), "{secret} leaked: {body}");
    }
    let lines = texts(&response);
    assert_eq!(lines.len(), 3, "{lines:?}");
    assert!(
        lines[0].contains("the setup token [redacted] (also"),
        "{}",
        lines[0]
    );
    assert!(
        lines[1].contains("X-Plex-Token=[redacted]&type=1"),
        "{}",
        lines[1]
    );
    assert!(
        lines[2].contains("api_key=[redacted]&Limit=50"),
        "{}",
        lines[2]
    );
}

#[tokio::test]
async fn level_filter_keeps_more_severe_lines() {
    let app = logs_app().await;
    let logs = &app.state.logs;
    logs.push(LogLevel::Debug, "a debug line");
    logs.push(LogLevel::Info, "an info line");
    logs.push(LogLevel::Warn, "a warning");
    logs.push(LogLevel::Error, "an error");

    assert_eq!(
        texts(&send(&app, "/api/v1/admin/logs").await),
        ["an info line", "a warning", "an error"]
    );
    assert_eq!(
        texts(&send(&app, "/api/v1/admin/logs?level=warn").await),
        ["a warning", "an error"]
    );
    assert_eq!(
        texts(&send(&app, "/api/v1/admin/logs?level=debug&limit=2").await),
        ["a warning", "an error"]
    );
    let levels: Vec<String> = send(&app, "/api/v1/admin/logs?level=error").await.json()["lines"]
        .as_array()
        .unwrap()
        .iter()
        .map(|line| line["level"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(levels, ["error"]);
}

#[tokio::test]
async fn invalid_queries_name_the_value() {
    let app = logs_app().await;
    let response = send(&app, "/api/v1/admin/logs?level=loud").await;
    assert_eq!(response.status, 400);
    let error = &response.json()["error"];
    assert_eq!(error["field"], "level");
    let message = error["message"].as_str().unwrap();
    assert!(message.contains("\"loud\""), "{message}");
    assert!(message.contains("warn"), "{message}");

    let response = send(&app, "/api/v1/admin/logs?limit=0").await;
    assert_eq!(response.status, 400);
    assert_eq!(response.json()["error"]["field"], "limit");

    let response = send(&app, "/api/v1/admin/logs/stream?level=verbose").await;
    assert_eq!(response.status, 400);

    let response = send(&app, "/api/v1/admin/logs?colour=red").await;
    assert_eq!(response.status, 400);
}

#[tokio::test]
async fn download_is_a_text_attachment() {
    let app = logs_app().await;
    app.state.logs.push(LogLevel::Info, "first line");
    app.state
        .logs
        .push(LogLevel::Warn, "second line password=hunter22");

    let response = send(&app, "/api/v1/admin/logs/download").await;
    assert_eq!(response.status, 200);
    assert_eq!(response.header("content-type"), "text/plain; charset=utf-8");
    let disposition = response.header("content-disposition");
    assert!(
        disposition.starts_with("attachment; filename=\"onesheet-log-"),
        "{disposition}"
    );
    assert!(disposition.ends_with(".txt\""), "{disposition}");
    let text = String::from_utf8(response.body.clone()).unwrap();
    assert_eq!(text, "first line\nsecond line password=[redacted]\n");

    let warnings = send(&app, "/api/v1/admin/logs/download?level=warn").await;
    assert_eq!(
        String::from_utf8(warnings.body).unwrap(),
        "second line password=[redacted]\n"
    );
}

/// Reads the stream until `expected` appears in its text, failing after ten seconds.
async fn read_until(body: &mut Body, text: &mut String, expected: &str) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while !text.contains(expected) {
        let frame = tokio::time::timeout_at(deadline, body.frame())
            .await
            .unwrap_or_else(|_| panic!("timed out waiting for {expected:?}; got:\n{text}"))
            .expect("the stream ended")
            .expect("the stream failed");
        if let Ok(data) = frame.into_data() {
            text.push_str(&String::from_utf8_lossy(&data));
        }
    }
}

#[tokio::test]
async fn stream_delivers_lines_written_after_connect() {
    let app = logs_app().await;
    app.state.logs.push(LogLevel::Info, "before the connection");

    let response = app
        .router
        .clone()
        .oneshot(get("/api/v1/admin/logs/stream?level=info", Some(TOKEN)))
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["content-type"], "text/event-stream");
    assert_eq!(response.headers()["cache-control"], "no-store");
    let mut body = response.into_body();
    let mut text = String::new();
    read_until(&mut body, &mut text, "before the connection").await;

    app.state.logs.push(LogLevel::Debug, "below the level");
    app.state
        .logs
        .push(LogLevel::Warn, "after the connection token=SECRET777");
    read_until(&mut body, &mut text, "after the connection").await;
    assert!(text.contains("event: line"), "{text}");
    let third = format!("id: {:x}.3", app.state.logs.boot_id());
    assert!(text.contains(&third), "{text}");
    assert!(!text.contains("below the level"), "{text}");
    assert!(!text.contains("SECRET777"), "{text}");

    // At shutdown the stream ends instead of holding the drain.
    app.state.logs.close();
    let ended = tokio::time::timeout(Duration::from_secs(5), async {
        while let Some(frame) = body.frame().await {
            frame.unwrap();
        }
    })
    .await;
    assert!(ended.is_ok(), "the stream did not end after close");
}

#[tokio::test]
async fn reconnect_resumes_after_last_event_id() {
    let app = logs_app().await;
    for number in 1..=5 {
        app.state
            .logs
            .push(LogLevel::Info, &format!("line {number}"));
    }
    let request = Request::get("/api/v1/admin/logs/stream")
        .header("authorization", format!("Bearer {TOKEN}"))
        .header("last-event-id", format!("{:x}.3", app.state.logs.boot_id()))
        .body(Body::empty())
        .unwrap();
    let response = app.router.clone().oneshot(request).await.unwrap();
    let mut body = response.into_body();
    let mut text = String::new();
    read_until(&mut body, &mut text, "line 5").await;
    assert!(text.contains("line 4"), "{text}");
    assert!(!text.contains("line 3"), "{text}");
}

#[tokio::test]
async fn slow_reader_gets_a_skipped_marker() {
    let app = logs_app().await;
    let response = app
        .router
        .clone()
        .oneshot(get("/api/v1/admin/logs/stream", Some(TOKEN)))
        .await
        .unwrap();
    let mut body = response.into_body();

    // Nothing reads the stream while 50 more lines than its queue has room for are written.
    let total = onesheet_server::logs::LIVE_QUEUE + 50;
    for number in 0..total {
        app.state
            .logs
            .push(LogLevel::Info, &format!("flood {number}"));
    }
    let mut text = String::new();
    let last = format!("flood {}", total - 1);
    read_until(&mut body, &mut text, &last).await;
    assert!(text.contains("event: skipped\ndata: 50"), "{text}");
    assert!(!text.contains("\"flood 49\""), "{text}");
}

#[tokio::test]
async fn id_from_another_boot_gets_the_backlog() {
    let app = logs_app().await;
    for number in 1..=3 {
        app.state
            .logs
            .push(LogLevel::Info, &format!("line {number}"));
    }
    // A browser that saw line 2 of an earlier run of the server reconnects.
    let earlier = app.state.logs.boot_id().wrapping_sub(1);
    let request = Request::get("/api/v1/admin/logs/stream")
        .header("authorization", format!("Bearer {TOKEN}"))
        .header("last-event-id", format!("{earlier:x}.2"))
        .body(Body::empty())
        .unwrap();
    let response = app.router.clone().oneshot(request).await.unwrap();
    let mut body = response.into_body();
    let mut text = String::new();
    read_until(&mut body, &mut text, "line 3").await;
    assert!(text.contains("line 1"), "{text}");
}

/// Opens `GET /api/v1/admin/logs/stream` with the test token and returns the unread response.
async fn open_stream(app: &TestApp) -> axum::response::Response {
    app.router
        .clone()
        .oneshot(get("/api/v1/admin/logs/stream", Some(TOKEN)))
        .await
        .unwrap()
}

/// Asserts that `response` is a 503 busy response with `Retry-After`.
async fn assert_busy(response: axum::response::Response) {
    assert_eq!(response.status(), 503);
    assert!(response.headers().contains_key("retry-after"));
    let body = response.into_body().collect().await.unwrap().to_bytes();
    let error: serde_json::Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(error["error"]["code"], "busy", "{error}");
}

#[tokio::test]
async fn one_caller_cannot_take_every_stream() {
    let app = logs_app().await;
    let mut streams = Vec::new();
    for _ in 0..MAX_LOG_STREAMS_PER_CALLER {
        let response = open_stream(&app).await;
        assert_eq!(response.status(), 200);
        streams.push(response);
    }

    assert_busy(open_stream(&app).await).await;
    assert!(app.state.logs.open_stream(&Credential::Token(1)).is_ok());

    // Closing a stream frees its slot.
    streams.pop();
    assert_eq!(open_stream(&app).await.status(), 200);
}

#[tokio::test]
async fn open_streams_are_bounded() {
    let app = logs_app().await;
    let mut others = Vec::new();
    for id in 0..MAX_LOG_STREAMS {
        let caller = Credential::Token(i64::try_from(id / MAX_LOG_STREAMS_PER_CALLER).unwrap());
        others.push(app.state.logs.open_stream(&caller).unwrap());
    }

    assert_busy(open_stream(&app).await).await;

    others.pop();
    assert_eq!(open_stream(&app).await.status(), 200);
}
