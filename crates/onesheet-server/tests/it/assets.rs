//! The embedded display assets: gzip for text files (scripts, styles, SVG) when the client
//! accepts it, with an ETag per variant, and plain bytes otherwise.

use std::io::Read;

use axum::body::Body;
use axum::http::Request;
use flate2::read::GzDecoder;

use crate::support::{TestApp, TestResponse};

const SCRIPT: &str = "/assets/js/common/pool.js";

async fn get_with(app: &TestApp, uri: &str, headers: &[(&str, &str)]) -> TestResponse {
    let mut request = Request::get(uri);
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    app.send(request.body(Body::empty()).unwrap()).await
}

fn gunzip(body: &[u8]) -> Vec<u8> {
    let mut plain = Vec::new();
    GzDecoder::new(body)
        .read_to_end(&mut plain)
        .expect("the body is gzip");
    plain
}

#[tokio::test]
async fn scripts_are_gzipped_when_accepted() {
    let app = TestApp::with_posters(1).await;

    let plain = get_with(&app, SCRIPT, &[]).await;
    assert_eq!(plain.status, 200);
    assert!(plain.headers.get("content-encoding").is_none());
    assert_eq!(plain.header("vary"), "accept-encoding");

    let compressed = get_with(&app, SCRIPT, &[("accept-encoding", "gzip, br")]).await;
    assert_eq!(compressed.status, 200);
    assert_eq!(compressed.header("content-encoding"), "gzip");
    assert_eq!(compressed.header("vary"), "accept-encoding");
    assert_eq!(
        compressed.header("content-type"),
        plain.header("content-type")
    );
    assert!(compressed.body.len() < plain.body.len() / 2);
    assert_eq!(gunzip(&compressed.body), plain.body);

    // Each variant has its own ETag, and each revalidates to 304.
    let plain_tag = plain.header("etag").to_owned();
    let compressed_tag = compressed.header("etag").to_owned();
    assert_ne!(plain_tag, compressed_tag);
    let revalidated = get_with(
        &app,
        SCRIPT,
        &[
            ("accept-encoding", "gzip"),
            ("if-none-match", &compressed_tag),
        ],
    )
    .await;
    assert_eq!(revalidated.status, 304);
    let revalidated = get_with(&app, SCRIPT, &[("if-none-match", &plain_tag)]).await;
    assert_eq!(revalidated.status, 304);

    // A client that refuses gzip gets the plain bytes.
    let refused = get_with(&app, SCRIPT, &[("accept-encoding", "gzip;q=0")]).await;
    assert!(refused.headers.get("content-encoding").is_none());
    assert_eq!(refused.body, plain.body);
}

#[tokio::test]
async fn svg_icon_is_gzipped_as_text() {
    let app = TestApp::with_posters(1).await;
    let icon = get_with(
        &app,
        "/assets/img/favicon.svg",
        &[("accept-encoding", "gzip")],
    )
    .await;
    assert_eq!(icon.status, 200);
    assert_eq!(icon.header("content-encoding"), "gzip");
    assert!(gunzip(&icon.body).starts_with(b"<svg"));
}
