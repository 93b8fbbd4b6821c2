//! The QR code on the pairing card: it loads under the page's CSP and leads to the page that
//! claims the code, under the base path.

use super::{PAIRING_CODE_SHOWN, PAIRING_TIMEOUT, console_errors, start_server, wait_for};
use crate::browser::Browser;
use crate::harness::http_client;

const QR_SHOWN: &str = r#"
    const image = document.getElementById('pairing-qr');
    return !!image && !image.hidden && image.complete && image.naturalWidth > 0
        && getComputedStyle(image).display !== 'none';
"#;

#[tokio::test]
async fn pairing_card_shows_claim_qr() {
    let server = start_server(Some("/posters")).await;
    let Some(browser) = Browser::launch("pairing_card_shows_claim_qr", 1280, 720).await else {
        return;
    };
    browser
        .goto(&server.url("/screensaver?interval=300&device_retry_ms=200"))
        .await;
    wait_for(
        &browser,
        "the pairing code is shown",
        PAIRING_TIMEOUT,
        PAIRING_CODE_SHOWN,
    )
    .await;
    wait_for(&browser, "the QR code is shown", PAIRING_TIMEOUT, QR_SHOWN).await;
    let code: String = browser
        .eval("return document.getElementById('pairing-overlay').dataset.code;")
        .await;
    let source: String = browser
        .eval("return document.getElementById('pairing-qr').src;")
        .await;
    assert_eq!(
        source,
        server.url(&format!("/api/v1/devices/pairing-qr?code={code}"))
    );
    browser.screenshot("pairing_card_shows_claim_qr").await;

    // The image encodes the claim page's absolute URL under the base path.
    let response = http_client()
        .get(&source)
        .send()
        .await
        .unwrap_or_else(|error| panic!("GET {source} failed: {error}"));
    assert_eq!(response.status().as_u16(), 200);
    assert_eq!(
        response
            .headers()
            .get("content-type")
            .and_then(|value| value.to_str().ok()),
        Some("image/svg+xml")
    );
    let svg = response.text().await.expect("read the QR code");
    let claim_url = server.url(&format!("/admin/devices/claim?code={code}"));
    let expected = onesheet_auth::totp::qr_svg(&claim_url).expect("draw the expected QR code");
    assert_eq!(svg, expected, "the QR code does not encode {claim_url}");

    // CSP violations and failed loads are SEVERE console messages.
    let errors = console_errors(&browser, false).await;
    assert!(errors.is_empty(), "console errors:\n{}", errors.join("\n"));
    browser.close().await;
}
