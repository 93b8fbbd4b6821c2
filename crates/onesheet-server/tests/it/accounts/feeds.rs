//! Live feeds (the server log and the device events) end soon after the session or API token
//! that opened them is revoked, and keep streaming for a caller that is still valid.

use std::time::Duration;

use axum::response::Response;
use http_body_util::BodyExt;
use onesheet_server::auth::FEED_RECHECK_INTERVAL;
use tower::ServiceExt;

use super::scopes::{fleet_app, token};
use super::*;

const LOG_STREAM: &str = "/api/v1/admin/logs/stream";
const DEVICE_EVENTS: &str = "/api/v1/admin/devices/events";

/// Slack after the re-check interval for a revoked feed to end.
const END_SLACK: Duration = Duration::from_secs(5);

/// How a test request proves itself.
enum Proof<'a> {
    Cookie(&'a str),
    Bearer(&'a str),
}

/// Opens the feed at `uri` and asserts that it is an event stream.
async fn open(app: &AccountsApp, uri: &str, proof: &Proof<'_>) -> Response {
    let mut request = match proof {
        Proof::Cookie(cookie) => request("GET", uri, PEER, Some(cookie), None),
        Proof::Bearer(_) => request("GET", uri, PEER, None, None),
    };
    if let Proof::Bearer(token) = proof {
        let value = format!("Bearer {token}").parse().unwrap();
        request.headers_mut().insert("authorization", value);
    }
    let response = app.app.router.clone().oneshot(request).await.unwrap();
    assert_eq!(response.status(), 200, "{uri}");
    assert_eq!(response.headers()["content-type"], "text/event-stream");
    response
}

/// Reads `feed` until the server ends it, and fails when that takes longer than `limit`.
async fn assert_ends_within(feed: Response, limit: Duration, name: &str) {
    let mut body = feed.into_body();
    let ended = tokio::time::timeout(limit, async {
        while let Some(frame) = body.frame().await {
            if frame.is_err() {
                break;
            }
        }
    })
    .await;
    assert!(
        ended.is_ok(),
        "{name} still streams {limit:?} after revocation"
    );
}

/// Asserts that `feed` has not ended: it sends a frame or nothing within a second.
async fn assert_open(feed: &mut Response, name: &str) {
    let next = tokio::time::timeout(Duration::from_secs(1), feed.body_mut().frame()).await;
    if let Ok(frame) = next {
        assert!(frame.is_some(), "{name} ended for a valid caller");
    }
}

#[tokio::test]
async fn revoked_session_ends_its_feeds() {
    let (app, first) = fleet_app().await;
    let second = session_cookie(&app.login(PASSWORD).await);
    let mut kept_log = open(&app, LOG_STREAM, &Proof::Cookie(&first)).await;
    let mut kept_events = open(&app, DEVICE_EVENTS, &Proof::Cookie(&first)).await;
    let log = open(&app, LOG_STREAM, &Proof::Cookie(&second)).await;
    let events = open(&app, DEVICE_EVENTS, &Proof::Cookie(&second)).await;

    let sessions = app
        .send("GET", "/api/v1/admin/account/sessions", Some(&first), None)
        .await
        .json();
    let other = sessions["sessions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|session| session["current"] == false)
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let revoked = app
        .send(
            "DELETE",
            &format!("/api/v1/admin/account/sessions/{other}"),
            Some(&first),
            None,
        )
        .await;
    assert_eq!(revoked.status, 204);

    let limit = FEED_RECHECK_INTERVAL + END_SLACK;
    tokio::join!(
        assert_ends_within(log, limit, "the log stream"),
        assert_ends_within(events, limit, "the device event stream"),
    );
    // Both kept feeds passed a re-check by now, because they opened first.
    assert_open(&mut kept_log, "the first session's log stream").await;
    assert_open(&mut kept_events, "the first session's device event stream").await;
}

#[tokio::test]
async fn revoked_token_ends_its_feeds() {
    let (app, cookie) = fleet_app().await;
    let secret = token(&app, &cookie, "admin").await;
    let log = open(&app, LOG_STREAM, &Proof::Bearer(&secret)).await;
    let events = open(&app, DEVICE_EVENTS, &Proof::Bearer(&secret)).await;

    let tokens = app
        .send("GET", "/api/v1/admin/tokens", Some(&cookie), None)
        .await
        .json();
    let id = tokens["tokens"][0]["id"].as_i64().unwrap();
    let revoked = app
        .send(
            "DELETE",
            &format!("/api/v1/admin/tokens/{id}"),
            Some(&cookie),
            None,
        )
        .await;
    assert_eq!(revoked.status, 204);

    let limit = FEED_RECHECK_INTERVAL + END_SLACK;
    tokio::join!(
        assert_ends_within(log, limit, "the log stream"),
        assert_ends_within(events, limit, "the device event stream"),
    );
}
