use axum::body::Body;
use axum::http::Request;

use crate::support::{TestApp, jpeg, png};

#[tokio::test]
async fn image_has_sniffed_type_etag_and_immutable_cache() {
    // A PNG saved with a .jpg name: the type must come from the bytes.
    let app = TestApp::with_files(&[("a.jpg", png(10, 15))], "").await;
    let id = app.first_item_id();
    let response = app.get(&format!("/img/{id}/poster?v=v0")).await;
    assert_eq!(response.status, 200);
    assert_eq!(response.header("content-type"), "image/png");
    assert_eq!(response.header("etag"), "\"v0\"");
    assert_eq!(
        response.header("cache-control"),
        "public, max-age=31536000, immutable"
    );
    assert_eq!(response.body, png(10, 15));

    let unversioned = app.get(&format!("/img/{id}/poster")).await;
    assert!(!unversioned.header("cache-control").contains("immutable"));
}

#[tokio::test]
async fn image_answers_304_for_matching_etag() {
    let app = TestApp::with_files(&[("a.jpg", jpeg(10, 15))], "").await;
    let id = app.first_item_id();
    let response = app
        .send(
            Request::get(format!("/img/{id}/poster?v=v0"))
                .header("if-none-match", "\"v0\"")
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    assert_eq!(response.status, 304);
    assert!(response.body.is_empty());
    assert_eq!(response.header("etag"), "\"v0\"");
}

#[tokio::test]
async fn image_serves_byte_ranges() {
    let bytes = jpeg(40, 60);
    let app = TestApp::with_files(&[("a.jpg", bytes.clone())], "").await;
    let id = app.first_item_id();
    let response = app
        .send(
            Request::get(format!("/img/{id}/poster"))
                .header("range", "bytes=0-9")
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    assert_eq!(response.status, 206);
    assert_eq!(response.body, bytes[..10]);
    assert_eq!(response.header("content-type"), "image/jpeg");
    assert!(response.header("content-range").starts_with("bytes 0-9/"));
}

#[tokio::test]
async fn html_disguised_as_jpeg_is_unprocessable() {
    let app = TestApp::with_files(
        &[("fake.jpg", b"<!DOCTYPE html><html>login</html>".to_vec())],
        "",
    )
    .await;
    let id = app.first_item_id();
    let response = app.get(&format!("/img/{id}/poster")).await;
    assert_eq!(response.status, 422);
    assert_eq!(response.json()["error"]["code"], "image-unprocessable");
}

#[tokio::test]
async fn missing_image_slot_is_not_found() {
    let app = TestApp::with_files(&[("a.jpg", jpeg(10, 10))], "").await;
    let id = app.first_item_id();
    let response = app.get(&format!("/img/{id}/background")).await;
    assert_eq!(response.status, 404);
}

#[tokio::test]
async fn file_deleted_after_scan_is_not_found() {
    let app = TestApp::with_files(&[("gone.jpg", jpeg(10, 10))], "").await;
    let id = app.first_item_id();
    std::fs::remove_file(app.media.join("gone.jpg")).unwrap();

    // The catalog still lists the item until the next scan, but its file is gone.
    let response = app.get(&format!("/img/{id}/poster")).await;
    assert_eq!(response.status, 404);
    assert_eq!(response.json()["error"]["code"], "not-found");
}

#[tokio::test]
async fn traversal_attempts_never_reach_the_file_system() {
    let app = TestApp::with_posters(1).await;
    let id = app.first_item_id();
    let attempts = [
        "/img/../../etc/passwd".to_owned(),
        "/img/%2e%2e/poster".to_owned(),
        "/img/..%2f..%2fetc%2fpasswd/poster".to_owned(),
        "/img/local-0123456789abcdef%2f..%2f/poster".to_owned(),
        "/img/%2fetc%2fpasswd/poster".to_owned(),
        "/img/local-0123456789abcdef%00/poster".to_owned(),
        format!("/img/{id}/..%2f..%2fposter"),
        format!("/img/{id}/poster%00.jpg"),
        format!("/img/{id}/%2e%2e"),
        "/img/local-0123456789abcdef/poster".to_owned(),
        "/img/%ff%fe/poster".to_owned(),
        "/assets/../Cargo.toml".to_owned(),
        "/assets/%2e%2e/%2e%2e/Cargo.toml".to_owned(),
        "/assets/.hidden".to_owned(),
    ];
    for uri in attempts {
        let response = app.get(&uri).await;
        assert!(
            response.status == 400 || response.status == 404,
            "{uri} answered {}",
            response.status
        );
        assert!(!String::from_utf8_lossy(&response.body).contains("root:"));
    }
}

#[tokio::test]
async fn invalid_image_kind_names_the_allowed_values() {
    let app = TestApp::with_posters(1).await;
    let id = app.first_item_id();
    let response = app.get(&format!("/img/{id}/cover")).await;
    assert_eq!(response.status, 400);
    let body = response.json();
    assert_eq!(body["error"]["field"], "kind");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("poster, background, logo or thumbnail")
    );
}

#[tokio::test]
async fn head_request_sends_headers_without_body() {
    let bytes = jpeg(40, 60);
    let app = TestApp::with_files(&[("a.jpg", bytes.clone())], "").await;
    let id = app.first_item_id();
    let response = app
        .send(
            Request::head(format!("/img/{id}/poster"))
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    assert_eq!(response.status, 200);
    assert_eq!(response.header("content-type"), "image/jpeg");
    assert_eq!(response.header("content-length"), bytes.len().to_string());
    assert!(response.body.is_empty());
}

#[tokio::test]
async fn whole_file_response_advertises_ranges_and_date() {
    let app = TestApp::with_files(&[("a.jpg", jpeg(40, 60))], "").await;
    let id = app.first_item_id();
    let response = app.get(&format!("/img/{id}/poster")).await;
    assert_eq!(response.header("accept-ranges"), "bytes");
    assert!(response.header("last-modified").ends_with("GMT"));
}

#[tokio::test]
async fn if_range_with_other_etag_sends_whole_file() {
    let bytes = jpeg(40, 60);
    let app = TestApp::with_files(&[("a.jpg", bytes.clone())], "").await;
    let id = app.first_item_id();
    let stale = app
        .send(
            Request::get(format!("/img/{id}/poster"))
                .header("range", "bytes=0-9")
                .header("if-range", "\"old-version\"")
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    assert_eq!(stale.status, 200);
    assert_eq!(stale.body, bytes);

    let current = app
        .send(
            Request::get(format!("/img/{id}/poster"))
                .header("range", "bytes=0-9")
                .header("if-range", "\"v0\"")
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    assert_eq!(current.status, 206);
    assert_eq!(current.body, bytes[..10]);
}
