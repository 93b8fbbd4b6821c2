//! Derived images: `/img/{item}/{kind}?w=&h=&fit=` over real files.

use std::sync::Arc;

use axum::body::Body;
use axum::http::Request;

use crate::support::{TestApp, TestResponse, gradient_jpeg, jpeg};

/// Builds an AVIF container whose header declares `width`×`height`: the file type, the image
/// size property and a media data box. Its payload is never decoded.
fn avif_container(width: u32, height: u32) -> Vec<u8> {
    fn boxed(kind: &[u8; 4], body: &[u8]) -> Vec<u8> {
        let mut out = ((body.len() + 8) as u32).to_be_bytes().to_vec();
        out.extend_from_slice(kind);
        out.extend_from_slice(body);
        out
    }
    let mut ispe = vec![0; 4];
    ispe.extend_from_slice(&width.to_be_bytes());
    ispe.extend_from_slice(&height.to_be_bytes());
    let mut meta = vec![0; 4];
    meta.extend(boxed(b"iprp", &boxed(b"ipco", &boxed(b"ispe", &ispe))));

    let mut file = boxed(b"ftyp", b"avif\0\0\0\0avifmif1");
    file.extend(boxed(b"meta", &meta));
    file.extend(boxed(b"mdat", &[0; 64]));
    file
}

fn bmp(width: u32, height: u32) -> Vec<u8> {
    let image = image::RgbImage::from_pixel(width, height, image::Rgb([20, 40, 220]));
    let mut bytes = Vec::new();
    image::DynamicImage::ImageRgb8(image)
        .write_to(
            &mut std::io::Cursor::new(&mut bytes),
            image::ImageFormat::Bmp,
        )
        .unwrap();
    bytes
}

/// Encodes a real 16×16 JPEG and patches its frame header to declare 10000×10000 pixels.
fn jpeg_claiming_10000_square() -> Vec<u8> {
    let mut bytes = jpeg(16, 16);
    let sof = bytes
        .windows(2)
        .position(|pair| pair == [0xFF, 0xC0])
        .unwrap();
    bytes[sof + 5..sof + 9].copy_from_slice(&[0x27, 0x10, 0x27, 0x10]);
    bytes
}

fn item_id(app: &TestApp, file: &str) -> String {
    let snapshot = app.catalog.snapshot();
    let item = snapshot
        .items
        .iter()
        .find(|item| item.upstream_key == file)
        .unwrap();
    item.id.as_ref().unwrap().to_string()
}

fn decoded_size(response: &TestResponse) -> (u32, u32) {
    let image = image::load_from_memory(&response.body).unwrap();
    (image.width(), image.height())
}

async fn get_with(app: &TestApp, uri: &str, headers: &[(&str, &str)]) -> TestResponse {
    let mut request = Request::get(uri);
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    app.send(request.body(Body::empty()).unwrap()).await
}

#[tokio::test]
async fn derived_jpeg_snaps_width_to_ladder() {
    let app = TestApp::with_files(&[("a.jpg", gradient_jpeg(1000, 1500))], "").await;
    let id = app.first_item_id();

    // 300 snaps up to the 360 step; the height follows the aspect ratio.
    let response = app.get(&format!("/img/{id}/poster?v=v0&w=300")).await;
    assert_eq!(response.status, 200);
    assert_eq!(response.header("content-type"), "image/jpeg");
    assert_eq!(decoded_size(&response), (360, 540));
    assert_eq!(response.header("vary"), "Accept, User-Agent");
    assert_eq!(
        response.header("cache-control"),
        "public, max-age=31536000, immutable"
    );

    let etag = response.header("etag");
    assert!(etag.starts_with('"'), "a strong tag is quoted: {etag}");
    assert_ne!(etag, "\"v0\"", "a variant has its own tag");
}

#[tokio::test]
async fn contain_and_cover_fit_the_box() {
    let app = TestApp::with_files(&[("a.jpg", gradient_jpeg(1000, 1500))], "").await;
    let id = app.first_item_id();

    let contain = app.get(&format!("/img/{id}/poster?w=480&h=480")).await;
    assert_eq!(contain.status, 200);
    assert_eq!(decoded_size(&contain), (320, 480));

    let cover = app
        .get(&format!("/img/{id}/poster?w=480&h=480&fit=cover"))
        .await;
    assert_eq!(cover.status, 200);
    assert_eq!(decoded_size(&cover), (480, 480));

    // A box larger than the original never scales it up.
    let small = TestApp::with_files(&[("b.jpg", gradient_jpeg(200, 300))], "").await;
    let small_id = small.first_item_id();
    let response = small.get(&format!("/img/{small_id}/poster?w=1920")).await;
    assert_eq!(decoded_size(&response), (200, 300));
}

#[tokio::test]
async fn webp_only_when_accept_names_it() {
    let app = TestApp::with_files(&[("a.jpg", gradient_jpeg(600, 900))], "").await;
    let id = app.first_item_id();
    let uri = format!("/img/{id}/poster?w=240");

    let webp = get_with(&app, &uri, &[("accept", "image/avif,image/webp,*/*;q=0.8")]).await;
    assert_eq!(webp.status, 200);
    assert_eq!(webp.header("content-type"), "image/webp");
    assert_eq!(&webp.body[8..12], b"WEBP");

    let wildcard = get_with(&app, &uri, &[("accept", "*/*")]).await;
    assert_eq!(wildcard.header("content-type"), "image/jpeg");
    assert_ne!(webp.header("etag"), wildcard.header("etag"));
}

#[tokio::test]
async fn derived_etag_answers_304_without_work() {
    let app = TestApp::with_files(&[("a.jpg", gradient_jpeg(600, 900))], "").await;
    let id = app.first_item_id();
    let uri = format!("/img/{id}/poster?v=v0&w=480");

    let first = app.get(&uri).await;
    let etag = first.header("etag").to_owned();
    let revalidated = get_with(&app, &uri, &[("if-none-match", &etag)]).await;
    assert_eq!(revalidated.status, 304);
    assert!(revalidated.body.is_empty());
    assert_eq!(revalidated.header("etag"), etag);
    assert_eq!(revalidated.header("vary"), "Accept, User-Agent");
    assert_eq!(app.images.stats().derivations, 1);

    // Sizes that snap to the same step share one variant and one tag.
    let snapped = app.get(&format!("/img/{id}/poster?v=v0&w=400")).await;
    assert_eq!(snapped.header("etag"), etag);
    assert_eq!(app.images.stats().derivations, 1);
}

#[tokio::test]
async fn invalid_size_parameters_name_the_field() {
    let app = TestApp::with_posters(1).await;
    let id = app.first_item_id();
    for (query, field) in [
        ("w=0", "w"),
        ("w=wide", "w"),
        ("h=99999999999", "h"),
        ("w=100&fit=fill", "fit"),
        ("fit=cover", "fit"),
        ("w=100&w=200", "w"),
    ] {
        let response = app.get(&format!("/img/{id}/poster?{query}")).await;
        assert_eq!(response.status, 400, "query {query}");
        assert_eq!(response.json()["error"]["field"], field, "query {query}");
    }
    assert_eq!(app.images.stats().derivations, 0);
}

#[tokio::test]
async fn size_errors_quote_the_value_as_sent() {
    let app = TestApp::with_posters(1).await;
    let id = app.first_item_id();

    let response = app.get(&format!("/img/{id}/poster?w=+240")).await;

    assert_eq!(response.status, 400);
    let body = response.json();
    assert_eq!(body["error"]["field"], "w");
    assert_eq!(
        body["error"]["message"],
        "w: invalid value \"+240\": expected a whole number of pixels from 1 to 20000"
    );
}

#[tokio::test]
async fn malformed_webp_quality_gets_jpeg() {
    let app = TestApp::with_files(&[("a.jpg", gradient_jpeg(600, 900))], "").await;
    let id = app.first_item_id();
    let uri = format!("/img/{id}/poster?w=240");

    for accept in ["image/webp;q=abc", "image/webp;q=1.5"] {
        let response = get_with(&app, &uri, &[("accept", accept)]).await;
        assert_eq!(response.status, 200, "{accept}");
        assert_eq!(response.header("content-type"), "image/jpeg", "{accept}");
    }
}

#[tokio::test]
async fn bmp_avif_and_lying_jpeg_originals() {
    let app = TestApp::with_files(
        &[
            ("a.bmp", bmp(600, 900)),
            ("b.avif", avif_container(600, 900)),
            ("c.jpg", jpeg_claiming_10000_square()),
        ],
        "",
    )
    .await;

    let resized = app
        .get(&format!("/img/{}/poster?w=240", item_id(&app, "a.bmp")))
        .await;
    assert_eq!(resized.status, 200);
    assert_eq!(decoded_size(&resized), (240, 360));

    let avif = app
        .get(&format!("/img/{}/poster?w=240", item_id(&app, "b.avif")))
        .await;
    assert_eq!(avif.status, 422);
    let body = avif.json();
    assert_eq!(body["error"]["code"], "image-unsupported-format", "{body}");
    let message = body["error"]["message"].as_str().unwrap();
    assert!(
        message.contains("convert the file to JPEG or WebP"),
        "{message}"
    );

    let lying = app
        .get(&format!("/img/{}/poster?w=240", item_id(&app, "c.jpg")))
        .await;
    assert_eq!(lying.status, 422);
    assert_eq!(lying.json()["error"]["code"], "image-invalid");
}

#[tokio::test]
async fn broken_originals_fail_once_with_a_reason() {
    let truncated = gradient_jpeg(400, 600)[..500].to_vec();
    let cases: [(&str, Vec<u8>, u16, &str); 4] = [
        ("a-truncated.jpg", truncated, 422, "image-invalid"),
        ("b-empty.jpg", Vec::new(), 422, "image-invalid"),
        (
            "c-page.jpg",
            b"<!DOCTYPE html><html><body>Not found</body></html>".to_vec(),
            422,
            "image-unsupported-format",
        ),
        (
            "d-unknown.jpg",
            b"GIF87a-not-really-but-close-enough-to-fool-nobody".to_vec(),
            422,
            "image-invalid",
        ),
    ];
    let files: Vec<(&str, Vec<u8>)> = cases
        .iter()
        .map(|(name, bytes, _, _)| (*name, bytes.clone()))
        .collect();
    let app = TestApp::with_files(&files, "").await;
    let snapshot = app.catalog.snapshot();

    for (name, _, status, code) in &cases {
        let item = snapshot
            .items
            .iter()
            .find(|item| item.upstream_key == *name)
            .unwrap();
        let id = item.id.as_ref().unwrap();
        for width in [240, 720] {
            let response = app.get(&format!("/img/{id}/poster?w={width}")).await;
            assert_eq!(response.status, *status, "{name} at {width}");
            let body = response.json();
            assert_eq!(body["error"]["code"], *code, "{name}: {body}");
            assert!(body["error"]["request_id"].is_string());
        }
    }

    // The second size of each file came from the failure cache.
    let stats = app.images.stats();
    assert_eq!(stats.failures, cases.len() as u64);
    assert!(stats.derivations <= cases.len() as u64);
}

#[tokio::test]
async fn deleted_original_is_not_found() {
    let app = TestApp::with_posters(1).await;
    let id = app.first_item_id();
    std::fs::remove_file(app.media.join("poster-000.jpg")).unwrap();

    let response = app.get(&format!("/img/{id}/poster?w=240")).await;
    assert_eq!(response.status, 404);
    assert_eq!(response.json()["error"]["code"], "image-not-found");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn hundred_concurrent_misses_decode_once() {
    let app = Arc::new(TestApp::with_files(&[("a.jpg", gradient_jpeg(1200, 1800))], "").await);
    let id = app.first_item_id();

    let mut requests = Vec::new();
    for _ in 0..100 {
        let app = Arc::clone(&app);
        let uri = format!("/img/{id}/poster?w=720");
        requests.push(tokio::spawn(async move { app.get(&uri).await }));
    }
    let mut bodies = Vec::new();
    for request in requests {
        let response = request.await.unwrap();
        assert_eq!(response.status, 200);
        bodies.push(response.body);
    }

    assert_eq!(app.images.stats().derivations, 1);
    assert!(bodies.windows(2).all(|pair| pair[0] == pair[1]));
}

#[tokio::test]
async fn original_is_still_served_without_size() {
    let bytes = jpeg(40, 60);
    let app = TestApp::with_files(&[("a.jpg", bytes.clone())], "").await;
    let id = app.first_item_id();
    let response = app.get(&format!("/img/{id}/poster?v=v0")).await;
    assert_eq!(response.status, 200);
    assert_eq!(response.body, bytes);
    assert_eq!(response.header("etag"), "\"v0\"");
    assert_eq!(app.images.stats().derivations, 0);
}

/// Encodes a lossless WebP, the format some media servers keep artwork in.
fn webp(width: u32, height: u32) -> Vec<u8> {
    let image = image::RgbImage::from_fn(width, height, |x, y| {
        image::Rgb([(x * 255 / width) as u8, (y * 255 / height) as u8, 90])
    });
    let mut bytes = Vec::new();
    image::DynamicImage::ImageRgb8(image)
        .write_to(
            &mut std::io::Cursor::new(&mut bytes),
            image::ImageFormat::WebP,
        )
        .unwrap();
    bytes
}

#[tokio::test]
async fn webp_original_resized_to_jpeg_for_old_safari() {
    // Safari 12.1 on iOS 12.5, which cannot show WebP. Its image `Accept` header is the one
    // Safari sent before iOS 14 and macOS Big Sur (MDN, "List of default Accept values").
    const SAFARI_12: &str = "Mozilla/5.0 (iPad; CPU OS 12_5 like Mac OS X) AppleWebKit/605.1.15 \
                             (KHTML, like Gecko) Version/12.1 Mobile/15E148 Safari/604.1";
    const SAFARI_12_ACCEPT: &str = "image/png,image/svg+xml,image/*;q=0.8,video/*;q=0.8,*/*;q=0.5";

    let app = TestApp::with_files(&[("a.webp", webp(600, 900))], "").await;
    let id = app.first_item_id();
    let uri = format!("/img/{id}/poster?w=240");

    for accept in [SAFARI_12_ACCEPT, "*/*", "image/*"] {
        let response = get_with(&app, &uri, &[("accept", accept), ("user-agent", SAFARI_12)]).await;
        assert_eq!(response.status, 200, "Accept: {accept}");
        assert_eq!(
            response.header("content-type"),
            "image/jpeg",
            "Accept: {accept}"
        );
        assert_eq!(&response.body[..3], [0xFF, 0xD8, 0xFF], "Accept: {accept}");
        assert_eq!(
            response.header("vary"),
            "Accept, User-Agent",
            "Accept: {accept}"
        );
    }

    let webp = get_with(&app, &uri, &[("accept", "image/webp,*/*")]).await;
    assert_eq!(webp.status, 200);
    assert_eq!(webp.header("content-type"), "image/webp");
    assert_eq!(&webp.body[8..12], b"WEBP");
    assert_eq!(webp.header("vary"), "Accept, User-Agent");
}
