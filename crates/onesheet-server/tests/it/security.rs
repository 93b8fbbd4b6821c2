//! Response headers and client identification, through the whole router.

use onesheet_server::security::TrustedProxies;

use crate::support::TestApp;

async fn behind_proxy() -> TestApp {
    TestApp::with_posters(1).await.with_state(|state| {
        state.with_trusted_proxies(TrustedProxies::parse(&["10.0.0.2"]).unwrap())
    })
}

#[tokio::test]
async fn every_response_has_security_headers() {
    let app = TestApp::with_posters(1).await;
    let item = app.first_item_id();
    let uris = [
        "/screensaver".to_owned(),
        "/health".to_owned(),
        "/api/v1/playlist".to_owned(),
        format!("/img/{item}/poster"),
        format!("/img/{item}/poster?w=240"),
        "/nope".to_owned(),
        "/api/v1/playlist?limit=abc".to_owned(),
    ];
    for uri in &uris {
        let response = app.get(uri).await;
        for (name, expected) in [
            ("x-content-type-options", "nosniff"),
            ("referrer-policy", "no-referrer"),
            ("cross-origin-opener-policy", "same-origin"),
            ("cross-origin-resource-policy", "same-origin"),
        ] {
            assert_eq!(response.header(name), expected, "{name} on {uri}");
        }
        let csp = response.header("content-security-policy");
        assert!(
            !csp.contains("unsafe-inline") && !csp.contains("unsafe-eval"),
            "{uri}: {csp}"
        );
        assert!(csp.contains("frame-ancestors 'none'"), "{uri}: {csp}");
        assert!(response.headers.contains_key("permissions-policy"), "{uri}");
    }
}

#[tokio::test]
async fn hsts_only_over_https() {
    let app = behind_proxy().await;
    let https = [("x-forwarded-proto", "https")];

    let proxied = app.get_from("/health", "10.0.0.2:5000", &https).await;
    assert_eq!(
        proxied.header("strict-transport-security"),
        "max-age=31536000"
    );

    // The same header from a peer that is not a trusted proxy proves nothing.
    let spoofed = app.get_from("/health", "192.0.2.50:5000", &https).await;
    assert!(!spoofed.headers.contains_key("strict-transport-security"));

    let plain = app.get_from("/health", "10.0.0.2:5000", &[]).await;
    assert!(!plain.headers.contains_key("strict-transport-security"));
}

#[tokio::test]
async fn cors_is_off_unless_origins_are_listed() {
    let origin = [("origin", "https://dashboard.example")];
    let app = TestApp::with_posters(1).await;
    let response = app
        .get_from("/api/v1/playlist", "192.0.2.1:1", &origin)
        .await;
    assert!(!response.headers.contains_key("access-control-allow-origin"));

    let app = TestApp::with_posters(1).await.with_state(|state| {
        state.with_cors_origins(vec!["https://dashboard.example".parse().unwrap()])
    });
    let listed = app
        .get_from("/api/v1/playlist", "192.0.2.1:1", &origin)
        .await;
    assert_eq!(
        listed.header("access-control-allow-origin"),
        "https://dashboard.example"
    );
    assert!(
        !listed
            .headers
            .contains_key("access-control-allow-credentials")
    );

    let other = [("origin", "https://evil.example")];
    let unlisted = app
        .get_from("/api/v1/playlist", "192.0.2.1:1", &other)
        .await;
    assert!(!unlisted.headers.contains_key("access-control-allow-origin"));
}
