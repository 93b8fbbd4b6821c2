//! Who may load display pages, the display API and images: loopback, the configured networks,
//! everybody with `public_displays`, and admins from anywhere.

use onesheet_server::auth::AdminToken;
use onesheet_server::security::{DEFAULT_DISPLAY_NETWORKS, DisplayAccess, TrustedProxies};

use crate::support::TestApp;

const OUTSIDE: &str = "203.0.113.9:51000";
const LAN: &str = "192.168.1.40:51000";

async fn home_network_app() -> TestApp {
    TestApp::with_posters(1).await.with_state(|state| {
        state.with_display_access(DisplayAccess::parse(&DEFAULT_DISPLAY_NETWORKS, false).unwrap())
    })
}

/// Lists every display route from the router's own list, with real values in its path parameters.
fn display_uris(app: &TestApp) -> Vec<String> {
    let item = app.first_item_id();
    let routes = onesheet_server::display_routes();
    assert!(routes.len() >= 5, "display routes: {routes:?}");
    routes
        .iter()
        .map(|(path, method)| {
            assert_eq!(method, "GET", "{path}");
            path.replace("{item}", &item).replace("{kind}", "poster")
        })
        .collect()
}

#[tokio::test]
async fn display_routes_reject_outside_clients() {
    let app = home_network_app().await;

    for uri in display_uris(&app) {
        let refused = app.get_from(&uri, OUTSIDE, &[]).await;
        assert_eq!(refused.status, 403, "{uri}");
        let body = refused.json();
        assert_eq!(body["error"]["code"], "display-not-allowed", "{uri}");
        let message = body["error"]["message"].as_str().unwrap();
        assert!(message.contains("203.0.113.9"), "{message}");
        assert!(message.contains("display_networks"), "{message}");

        let allowed = app.get_from(&uri, LAN, &[]).await;
        assert_eq!(allowed.status, 200, "{uri} from the LAN");
        let local = app.get_from(&uri, "127.0.0.1:40000", &[]).await;
        assert_eq!(local.status, 200, "{uri} from loopback");
    }
}

#[tokio::test]
async fn rejection_contains_no_catalog_data() {
    let app = home_network_app().await;
    let item = app.first_item_id();

    let refused = app.get_from("/api/v1/playlist", OUTSIDE, &[]).await;

    let text = String::from_utf8_lossy(&refused.body);
    assert!(!text.contains(&item), "{text}");
    assert!(!text.contains("items"), "{text}");
}

#[tokio::test]
async fn health_and_assets_stay_open() {
    let app = home_network_app().await;

    for uri in ["/health", "/assets/css/screensaver.css", "/"] {
        let response = app.get_from(uri, OUTSIDE, &[]).await;
        assert!(
            matches!(response.status, 200 | 307),
            "{uri}: {}",
            response.status
        );
    }
}

#[tokio::test]
async fn public_displays_open_every_route() {
    let app = TestApp::with_posters(1).await.with_state(|state| {
        state.with_display_access(DisplayAccess::parse::<&str>(&[], true).unwrap())
    });

    for uri in display_uris(&app) {
        let response = app.get_from(&uri, OUTSIDE, &[]).await;
        assert_eq!(response.status, 200, "{uri}");
    }
}

#[tokio::test]
async fn admin_token_previews_from_anywhere() {
    let app = home_network_app().await.with_state(|state| {
        state.with_admin_token(AdminToken::new("a-long-bootstrap-token-for-tests"))
    });

    let with_token = app
        .get_from(
            "/api/v1/playlist",
            OUTSIDE,
            &[("authorization", "Bearer a-long-bootstrap-token-for-tests")],
        )
        .await;
    assert_eq!(with_token.status, 200);

    let wrong_token = app
        .get_from(
            "/api/v1/playlist",
            OUTSIDE,
            &[("authorization", "Bearer not-the-token")],
        )
        .await;
    assert_eq!(wrong_token.status, 403);
    assert_eq!(wrong_token.json()["error"]["code"], "display-not-allowed");
}

#[tokio::test]
async fn unknown_proxy_on_loopback_rejected() {
    let app = home_network_app().await;

    for header in ["x-forwarded-for", "forwarded", "x-real-ip"] {
        let value = if header == "forwarded" {
            "for=192.168.1.40"
        } else {
            "192.168.1.40"
        };
        let response = app
            .get_from("/api/v1/playlist", "127.0.0.1:40000", &[(header, value)])
            .await;
        assert_eq!(response.status, 403, "{header}");
        let message = response.json()["error"]["message"]
            .as_str()
            .unwrap()
            .to_owned();
        assert!(message.contains("trusted_proxies"), "{message}");
    }
}

#[tokio::test]
async fn trusted_proxy_forwards_the_real_client() {
    let app = home_network_app().await.with_state(|state| {
        state.with_trusted_proxies(TrustedProxies::parse(&["127.0.0.1"]).unwrap())
    });

    let lan = app
        .get_from(
            "/api/v1/playlist",
            "127.0.0.1:40000",
            &[("x-forwarded-for", "192.168.1.40")],
        )
        .await;
    assert_eq!(lan.status, 200);

    let internet = app
        .get_from(
            "/api/v1/playlist",
            "127.0.0.1:40000",
            &[("x-forwarded-for", "203.0.113.9")],
        )
        .await;
    assert_eq!(internet.status, 403);
    let message = internet.json()["error"]["message"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(message.contains("203.0.113.9"), "{message}");
}

#[tokio::test]
async fn forged_forwarding_from_outside_gains_nothing() {
    let app = home_network_app().await;

    let response = app
        .get_from(
            "/api/v1/playlist",
            OUTSIDE,
            &[("x-forwarded-for", "127.0.0.1")],
        )
        .await;

    assert_eq!(response.status, 403);
}

#[tokio::test]
async fn unreadable_forwarding_from_a_trusted_proxy_is_rejected() {
    let app = home_network_app().await.with_state(|state| {
        state.with_trusted_proxies(TrustedProxies::parse(&["127.0.0.1"]).unwrap())
    });

    for header in [
        ("x-real-ip", "192.168.1.40"),
        ("forwarded", "for=192.168.1.40"),
        ("x-forwarded-for", "unknown"),
        ("x-forwarded-for", ""),
    ] {
        let response = app
            .get_from("/api/v1/playlist", "127.0.0.1:40000", &[header])
            .await;
        assert_eq!(response.status, 403, "{header:?}");
        let message = response.json()["error"]["message"]
            .as_str()
            .unwrap()
            .to_owned();
        assert!(message.contains("X-Forwarded-For"), "{message}");
    }
}

#[tokio::test]
async fn odd_byte_before_the_proxy_entry_hides_nothing() {
    let app = home_network_app().await.with_state(|state| {
        state.with_trusted_proxies(TrustedProxies::parse(&["127.0.0.1"]).unwrap())
    });
    let mut request = axum::http::Request::get("/api/v1/playlist")
        .header(
            "x-forwarded-for",
            axum::http::HeaderValue::from_bytes(b"\xff, 203.0.113.9").unwrap(),
        )
        .body(axum::body::Body::empty())
        .unwrap();
    let peer: std::net::SocketAddr = "127.0.0.1:40000".parse().unwrap();
    request
        .extensions_mut()
        .insert(axum::extract::ConnectInfo(peer));

    let response = app.send(request).await;

    assert_eq!(response.status, 403);
    let message = response.json()["error"]["message"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(message.contains("203.0.113.9"), "{message}");
}
