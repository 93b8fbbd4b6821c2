use std::collections::HashSet;

use axum::body::Body;
use axum::http::Request;

use crate::support::{TestApp, jpeg};

#[tokio::test]
async fn playlist_pages_through_every_item_once() {
    let app = TestApp::with_posters(25).await;
    let mut seen = HashSet::new();
    let mut uri = "/api/v1/playlist?mode=screensaver&limit=10".to_owned();
    loop {
        let response = app.get(&uri).await;
        assert_eq!(response.status, 200);
        let page = response.json();
        assert_eq!(page["total"], 25);
        for item in page["items"].as_array().unwrap() {
            assert!(seen.insert(item["id"].as_str().unwrap().to_owned()));
        }
        match page["next_cursor"].as_str() {
            Some(cursor) => uri = format!("/api/v1/playlist?limit=10&cursor={cursor}"),
            None => break,
        }
    }
    assert_eq!(seen.len(), 25);
}

#[tokio::test]
async fn playlist_item_has_only_public_fields() {
    let app = TestApp::with_posters(3).await;
    let page = app.get("/api/v1/playlist?limit=3").await.json();
    let item = &page["items"][0];
    let poster = item["images"]["poster"].as_str().unwrap();
    assert!(poster.starts_with("/img/local-"), "{poster}");
    assert!(poster.contains("/poster?v="), "{poster}");

    let text = serde_json::to_string(&page).unwrap();
    for leak in ["poster-0", ".jpg", "/tmp", "upstream_key", "media"] {
        assert!(!text.contains(leak), "response contains {leak:?}: {text}");
    }
}

#[tokio::test]
async fn playlist_revalidates_with_etag() {
    let app = TestApp::with_posters(3).await;
    let first = app.get("/api/v1/playlist?limit=2").await;
    let etag = first.header("etag").to_owned();
    assert!(etag.starts_with("W/\""), "{etag}");

    let again = app
        .send(
            Request::get("/api/v1/playlist?limit=2")
                .header("if-none-match", &etag)
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    assert_eq!(again.status, 304);
    assert!(again.body.is_empty());

    let other_page = app.get("/api/v1/playlist?limit=3").await;
    assert_ne!(other_page.header("etag"), etag);
}

#[tokio::test]
async fn playlist_is_compressed_when_asked() {
    let app = TestApp::with_posters(40).await;
    let response = app
        .send(
            Request::get("/api/v1/playlist?limit=40")
                .header("accept-encoding", "gzip")
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    assert_eq!(response.status, 200);
    assert_eq!(response.header("content-encoding"), "gzip");
    assert_eq!(response.header("vary"), "accept-encoding");

    let plain = app.get("/api/v1/playlist?limit=40").await;
    assert!(plain.headers.get("content-encoding").is_none());
    assert_eq!(plain.header("etag"), response.header("etag"));
    let mut decoded = Vec::new();
    std::io::Read::read_to_end(
        &mut flate2::read::GzDecoder::new(&response.body[..]),
        &mut decoded,
    )
    .unwrap();
    assert_eq!(decoded, plain.body.to_vec());
    assert!(response.body.len() * 3 < plain.body.len());
}

#[tokio::test]
async fn playlist_gzip_refused_with_zero_quality() {
    let app = TestApp::with_posters(5).await;
    let response = app
        .send(
            Request::get("/api/v1/playlist")
                .header("accept-encoding", "gzip;q=0, br")
                .body(Body::empty())
                .unwrap(),
        )
        .await;

    assert_eq!(response.status, 200);
    assert!(response.headers.get("content-encoding").is_none());
}

#[tokio::test]
async fn invalid_query_values_name_the_parameter() {
    let app = TestApp::with_posters(2).await;
    let cases = [
        ("limit=0", "limit", "1 to 500"),
        ("limit=100000", "limit", "1 to 500"),
        ("limit=abc", "limit", "1 to 500"),
        ("mode=kiosk", "mode", "screensaver, wallart or cinema"),
        ("cursor=../../etc", "cursor", "next_cursor"),
        ("cursor=g1.%00", "cursor", "next_cursor"),
        ("limit=1&limit=2", "query", "duplicate"),
    ];
    for (query, field, hint) in cases {
        let response = app.get(&format!("/api/v1/playlist?{query}")).await;
        assert_eq!(response.status, 400, "{query}");
        let body = response.json();
        assert_eq!(body["error"]["field"], field, "{query}");
        assert_eq!(body["error"]["code"], "invalid-input");
        let message = body["error"]["message"].as_str().unwrap();
        assert!(message.contains(hint), "{query}: {message}");
        assert_eq!(
            body["error"]["request_id"].as_str().unwrap(),
            response.header("x-request-id")
        );
    }
}

#[tokio::test]
async fn stale_cursor_restarts_from_the_first_page() {
    let app = TestApp::with_posters(5).await;
    let fresh = app.get("/api/v1/playlist?limit=2").await.json();
    let stale = app
        .get("/api/v1/playlist?limit=2&cursor=g999.4")
        .await
        .json();
    assert_eq!(fresh["items"], stale["items"]);
}

#[tokio::test]
async fn display_settings_carry_defaults_and_etag() {
    let app = TestApp::with_posters(1).await;
    let response = app.get("/api/v1/display-settings").await;
    assert_eq!(response.status, 200);
    let body = response.json();
    assert_eq!(body["screensaver"]["interval_seconds"], 10);
    assert!(body["server_time_ms"].as_u64().unwrap() > 1_600_000_000_000);

    let etag = response.header("etag").to_owned();
    let again = app
        .send(
            Request::get("/api/v1/display-settings")
                .header("if-none-match", etag)
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    assert_eq!(again.status, 304);
}

#[tokio::test]
async fn playlist_follows_a_new_generation() {
    let app = TestApp::with_posters(2).await;
    let first = app.get("/api/v1/playlist?limit=10").await.json();
    assert_eq!(first["total"], 2);

    std::fs::write(
        app.media.join("poster-new.jpg"),
        crate::support::jpeg(20, 30),
    )
    .unwrap();
    app.catalog.refresh_all().await;

    let second = app.get("/api/v1/playlist?limit=10").await.json();
    assert_eq!(second["total"], 3);
    assert_eq!(
        second["generation"],
        first["generation"].as_u64().unwrap() + 1
    );
    assert_eq!(second["items"].as_array().unwrap().len(), 3);
}

/// Encodes a solid PNG, which decodes back to exactly `rgb`.
fn solid_png(rgb: [u8; 3]) -> Vec<u8> {
    let image = image::RgbImage::from_pixel(20, 30, image::Rgb(rgb));
    let mut bytes = Vec::new();
    image::DynamicImage::ImageRgb8(image)
        .write_to(
            &mut std::io::Cursor::new(&mut bytes),
            image::ImageFormat::Png,
        )
        .unwrap();
    bytes
}

#[tokio::test]
async fn playlist_shows_palette_and_thumbhash_once_known() {
    let files = [
        ("a-red.png", solid_png([200, 30, 40])),
        ("b-teal.png", solid_png([10, 120, 130])),
    ];
    let app = TestApp::with_files(&files, "").await;

    let before = app.get("/api/v1/playlist").await.json();
    for item in before["items"].as_array().unwrap() {
        assert!(item.get("palette").is_none(), "{item}");
        assert!(item.get("thumbhash").is_none(), "{item}");
    }

    app.catalog.start_enrichment();
    tokio::time::timeout(
        std::time::Duration::from_secs(60),
        app.catalog.enrichment_settled(),
    )
    .await
    .expect("palettes were never computed");

    // The cached page of the same generation is replaced, and screens' cursors stay valid.
    let after = app.get("/api/v1/playlist").await.json();
    assert_eq!(after["generation"], before["generation"]);
    let mut palettes: Vec<String> = Vec::new();
    for item in after["items"].as_array().unwrap() {
        let palette = item["palette"].as_array().unwrap();
        assert_eq!(palette.len(), 1, "{item}");
        palettes.push(palette[0].as_str().unwrap().to_owned());

        let thumbhash = item["thumbhash"].as_str().unwrap();
        assert!(
            !thumbhash.is_empty() && thumbhash.len() <= 64,
            "{thumbhash}"
        );
        assert!(
            thumbhash
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"+/=".contains(&b)),
            "{thumbhash}"
        );
    }
    palettes.sort();
    assert_eq!(palettes, ["#0a7882", "#c81e28"]);
}

#[tokio::test]
async fn item_qr_leads_to_its_public_page() {
    let app = TestApp::with_files(
        &[("linked.jpg", jpeg(20, 30)), ("nolink.jpg", jpeg(20, 30))],
        "",
    )
    .await;
    let page = app.get("/api/v1/playlist").await.json();
    let items = page["items"].as_array().unwrap();
    let with_link = items.iter().find(|item| item["year"] == 1980).unwrap();
    let without = items.iter().find(|item| item["year"] == 1981).unwrap();
    let qr = with_link["images"]["qr"].as_str().unwrap();

    let response = app.get(qr).await;
    let missing = app
        .get(&format!(
            "/api/v1/items/{}/qr",
            without["id"].as_str().unwrap()
        ))
        .await;

    assert!(without["images"].get("qr").is_none(), "{without}");
    assert_eq!(response.status, 200);
    assert_eq!(response.header("content-type"), "image/svg+xml");
    assert!(response.body.starts_with(b"<svg"));
    assert_eq!(missing.status, 404);
}
