//! What is sent, and how response bodies of the wrong type are reported.

use axum::Router;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::routing::get;
use onesheet_upstream::{
    HeaderName, HeaderValue, Request, ServerAddress, SourceOptions, UpstreamError,
};
use serde::Deserialize;
use serde_json::Value;

use crate::support::{Upstream, fast_policy, source_for};

fn html_login_page() -> Router {
    Router::new().route(
        "/web/index",
        get(|| async {
            (
                [("content-type", "text/html; charset=utf-8")],
                "<!DOCTYPE html><html><body><form>Sign in</form></body></html>",
            )
        }),
    )
}

#[tokio::test]
async fn html_page_is_not_json() {
    let upstream = Upstream::start(html_login_page()).await;
    let source = upstream.source(fast_policy());

    let error = source
        .get_json::<Value>(Request::json("test", "/web/index").query("X-Plex-Token", "supersecret"))
        .await
        .unwrap_err();

    assert_eq!(error.code(), "source-not-json");
    assert!(
        matches!(
            error,
            UpstreamError::UnexpectedContentType { html: true, .. }
        ),
        "{error:?}"
    );
    let message = error.to_string();
    let expected = format!(
        "expected JSON, got text/html from http://{}/web/index?X-Plex-Token=***",
        upstream.addr
    );
    assert!(message.starts_with(&expected), "{message}");
    assert!(!message.contains("supersecret"), "{message}");
    let stats = source.stats();
    assert_eq!(stats.last_error_code, Some("source-not-json"));
    assert!(!stats.last_error.unwrap().contains("supersecret"));
}

#[tokio::test]
async fn get_returns_any_content_type() {
    let router = Router::new().route(
        "/library/sections",
        get(|| async {
            (
                [("content-type", "text/xml;charset=utf-8")],
                "<MediaContainer size=\"0\"/>",
            )
        }),
    );
    let upstream = Upstream::start(router).await;
    let source = upstream.source(fast_policy());

    let response = source
        .get(Request::json("test", "/library/sections"))
        .await
        .unwrap();

    assert_eq!(response.status, 200);
    assert_eq!(
        response.content_type.as_deref(),
        Some("text/xml;charset=utf-8")
    );
    assert_eq!(response.media_type().as_deref(), Some("text/xml"));
    assert_eq!(&response.body[..], b"<MediaContainer size=\"0\"/>");

    let error = source
        .get_json::<Value>(Request::json("test", "/library/sections"))
        .await
        .unwrap_err();
    assert!(
        matches!(&error, UpstreamError::UnexpectedContentType { got, html: false, .. } if got == "text/xml"),
        "{error:?}"
    );
}

#[tokio::test]
async fn decode_error_names_path() {
    #[derive(Debug, Deserialize)]
    #[allow(dead_code)]
    struct Page {
        #[serde(rename = "Items")]
        items: Vec<Item>,
    }
    #[derive(Debug, Deserialize)]
    #[allow(dead_code)]
    struct Item {
        #[serde(rename = "ProductionYear")]
        year: u16,
    }
    let router = Router::new().route(
        "/Items",
        get(|| async { axum::Json(serde_json::json!({ "Items": [{ "ProductionYear": 1999 }, { "ProductionYear": "n/a" }] })) }),
    );
    let upstream = Upstream::start(router).await;
    let source = upstream.source(fast_policy());

    let error = source
        .get_json::<Page>(Request::json("test", "/Items"))
        .await
        .unwrap_err();

    let UpstreamError::Decode { detail, .. } = &error else {
        panic!("{error:?}");
    };
    assert!(detail.contains("Items[1].ProductionYear"), "{detail}");
}

#[tokio::test]
async fn headers_and_query_are_sent() {
    let router = Router::new().route("/jellyfin/Items/abc", get(|| async { "{}" }));
    let upstream = Upstream::start(router).await;
    let address = ServerAddress::parse(
        &format!("http://{}/jellyfin/", upstream.addr),
        None,
        None,
        None,
    )
    .unwrap();
    let source = source_for(address, fast_policy(), SourceOptions::default());
    let request = Request::json("test", "Items/abc")
        .query("Fields", "Genres,Overview")
        .query("api_key", "k&y")
        .secret_header(
            HeaderName::from_static("x-emby-token"),
            HeaderValue::from_static("token-1"),
        );

    source.get(request).await.unwrap();

    let seen = &upstream.log.requests()[0];
    assert_eq!(seen.path, "/jellyfin/Items/abc");
    assert_eq!(
        seen.query.as_deref(),
        Some("Fields=Genres%2COverview&api_key=k%26y")
    );
    assert_eq!(seen.headers["accept"], "application/json");
    assert_eq!(seen.headers["x-emby-token"], "token-1");
    assert!(
        seen.headers["user-agent"]
            .to_str()
            .unwrap()
            .starts_with("Onesheet/")
    );
}

#[tokio::test]
async fn redirect_is_not_followed() {
    let elsewhere = Upstream::start(Router::new().route("/", get(|| async { "{}" }))).await;
    let target = format!("http://{}/", elsewhere.addr);
    let router = Router::new().route(
        "/login",
        get(move || {
            let target = target.clone();
            async move { (StatusCode::FOUND, [("location", target)]).into_response() }
        }),
    );
    let upstream = Upstream::start(router).await;
    let source = upstream.source(fast_policy());

    let error = source
        .get(Request::json("test", "/login"))
        .await
        .unwrap_err();

    assert!(
        matches!(error, UpstreamError::Status { status: 302, .. }),
        "{error:?}"
    );
    assert!(
        error.to_string().contains("redirects are not followed"),
        "{error}"
    );
    assert!(
        error
            .to_string()
            .contains(&format!("(Location: http://{}/)", elsewhere.addr)),
        "{error}"
    );
    assert_eq!(upstream.log.count("/login"), 1);
    assert!(elsewhere.log.requests().is_empty());
}

#[tokio::test]
async fn redirect_location_is_redacted() {
    let router = Router::new().route(
        "/web",
        get(|| async {
            (
                StatusCode::MOVED_PERMANENTLY,
                [(
                    "location",
                    "https://admin:hunter2@media.example.org/jellyfin/?api_key=hunter2&x=1",
                )],
            )
                .into_response()
        }),
    );
    let upstream = Upstream::start(router).await;
    let source = upstream.source(fast_policy());

    let error = source.get(Request::json("test", "/web")).await.unwrap_err();

    let UpstreamError::Status {
        status, location, ..
    } = &error
    else {
        panic!("{error:?}");
    };
    assert_eq!(*status, 301);
    assert_eq!(
        location.as_deref(),
        Some("https://media.example.org/jellyfin/?api_key=***&x=1")
    );
    assert!(!error.to_string().contains("hunter2"), "{error}");
}

#[tokio::test]
async fn relative_redirect_location_is_resolved() {
    let router = Router::new().route(
        "/jellyfin/System/Info",
        get(|| async { (StatusCode::FOUND, [("location", "../web/index.html")]).into_response() }),
    );
    let upstream = Upstream::start(router).await;
    let source = upstream.source(fast_policy());

    let error = source
        .get(Request::json("test", "/jellyfin/System/Info").query("api_key", "hunter2"))
        .await
        .unwrap_err();

    let expected = format!(
        "(Location: http://{}/jellyfin/web/index.html)",
        upstream.addr
    );
    assert!(error.to_string().contains(&expected), "{error}");
    assert!(!error.to_string().contains("hunter2"), "{error}");
}

#[tokio::test]
async fn status_without_location_omits_it() {
    let router = Router::new().route(
        "/moved",
        get(|| async { StatusCode::FOUND.into_response() }),
    );
    let upstream = Upstream::start(router).await;
    let source = upstream.source(fast_policy());

    let error = source
        .get(Request::json("test", "/moved"))
        .await
        .unwrap_err();

    assert!(
        matches!(
            error,
            UpstreamError::Status {
                status: 302,
                location: None,
                ..
            }
        ),
        "{error:?}"
    );
    assert!(!error.to_string().contains("Location"), "{error}");
}

#[tokio::test]
async fn etag_is_returned() {
    let router = Router::new().route(
        "/photo/poster.jpg",
        get(|| async {
            (
                [("content-type", "image/jpeg"), ("etag", "\"v1\"")],
                vec![0xFFu8, 0xD8, 0xFF],
            )
        }),
    );
    let upstream = Upstream::start(router).await;
    let source = upstream.source(fast_policy());

    let response = source
        .get(Request::image("image", "/photo/poster.jpg"))
        .await
        .unwrap();

    assert_eq!(response.etag.as_deref(), Some("\"v1\""));
    assert_eq!(&response.body[..], &[0xFF, 0xD8, 0xFF]);
    assert_eq!(upstream.log.requests()[0].headers["accept"], "image/*");
}
