//! `GET /api/v1/devices/pairing-qr`: the QR code on a screen's pairing card, which leads to the
//! page that claims its code.

use super::*;

use onesheet_auth::totp::qr_svg;

const CODE: &str = "K7M2QX";

fn qr_request(query: &str, host: Option<&str>) -> Request<Body> {
    let mut request = Request::get(format!("/api/v1/devices/pairing-qr?{query}"));
    if let Some(host) = host {
        request = request.header("host", host);
    }
    request.body(Body::empty()).unwrap()
}

fn body_text(response: &TestResponse) -> String {
    String::from_utf8(response.body.clone()).unwrap()
}

#[tokio::test]
async fn pairing_qr_encodes_claim_url() {
    let app = DeviceApp::start().await;
    let response = app
        .app
        .send(qr_request(&format!("code={CODE}"), Some("10.0.0.5:8080")))
        .await;

    assert_eq!(response.status, 200, "{}", body_text(&response));
    assert_eq!(response.header("content-type"), "image/svg+xml");
    assert!(
        response.header("cache-control").contains("max-age="),
        "{:?}",
        response.headers
    );
    let svg = body_text(&response);
    let expected = qr_svg(&format!(
        "http://10.0.0.5:8080/admin/devices/claim?code={CODE}"
    ))
    .unwrap();
    assert_eq!(svg, expected, "the QR code encodes another URL");

    // Markup that a strict CSP serves as an image: one rect and one path, nothing active.
    assert!(svg.starts_with("<svg"), "{svg}");
    for banned in ["<script", "style", "href", "<foreignObject", "<?xml"] {
        assert!(!svg.contains(banned), "the SVG contains {banned}: {svg}");
    }
    assert!(
        !response.header("content-security-policy").is_empty(),
        "{:?}",
        response.headers
    );
}

#[tokio::test]
async fn pairing_qr_accepts_code_as_typed() {
    let app = DeviceApp::start().await;
    let typed = app
        .app
        .send(qr_request("code=k7m-2qx", Some("127.0.0.1:9000")))
        .await;
    let canonical = app
        .app
        .send(qr_request(&format!("code={CODE}"), Some("127.0.0.1:9000")))
        .await;

    assert_eq!(typed.status, 200, "{}", body_text(&typed));
    assert_eq!(typed.body, canonical.body);
}

#[tokio::test]
async fn pairing_qr_rejects_invalid_code() {
    let app = DeviceApp::start().await;
    for (query, named) in [
        ("code=K7M2Q0", "K7M2Q0"),
        ("code=K7M2", "K7M2"),
        ("code=https%3A%2F%2Fevil.example", "https://evil.example"),
    ] {
        let response = app.app.send(qr_request(query, Some("127.0.0.1"))).await;
        assert_eq!(response.status, 400, "query {query}");
        let body = response.json();
        assert_eq!(body["error"]["field"], "code", "query {query}: {body}");
        let message = body["error"]["message"].as_str().unwrap();
        assert!(
            message.contains(named),
            "query {query}: the message does not name {named}: {message}"
        );
    }
}

#[tokio::test]
async fn pairing_qr_takes_no_other_text() {
    let app = DeviceApp::start().await;
    for query in ["", &format!("code={CODE}&text=https%3A%2F%2Fevil.example")] {
        let response = app.app.send(qr_request(query, Some("127.0.0.1"))).await;
        assert_eq!(response.status, 400, "query {query:?}");
    }

    let odd_host = app
        .app
        .send(qr_request(
            &format!("code={CODE}"),
            Some("user@evil.example"),
        ))
        .await;
    assert_eq!(odd_host.status, 400);
    assert_eq!(odd_host.json()["error"]["field"], "Host");
}

#[tokio::test]
async fn pairing_qr_prefers_public_url_over_host() {
    let app = TestApp::with_posters(1)
        .await
        .with_state(|state| state.with_public_url("https://posters.example.com/screens/"));
    let response = app
        .send(qr_request(&format!("code={CODE}"), Some("evil.example")))
        .await;

    assert_eq!(response.status, 200, "{}", body_text(&response));
    let expected = qr_svg(&format!(
        "https://posters.example.com/screens/admin/devices/claim?code={CODE}"
    ))
    .unwrap();
    assert_eq!(body_text(&response), expected);
}

#[tokio::test]
async fn pairing_qr_follows_display_access() {
    let app = DeviceApp::start().await;
    let response = app
        .app
        .get_from(
            &format!("/api/v1/devices/pairing-qr?code={CODE}"),
            "203.0.113.9:4000",
            &[("host", "posters.example.com")],
        )
        .await;
    assert_eq!(response.status, 403, "{}", body_text(&response));
}
