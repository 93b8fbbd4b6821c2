//! The admin pages: sign-in and the claim page, rendered under a base path, with the `next`
//! parameter checked and no inline code.

use std::sync::Arc;

use axum::body::Body;
use axum::http::Request;
use onesheet_server::accounts::{Accounts, SessionPolicy};
use onesheet_server::devices::{DeviceConfig, DeviceService};
use onesheet_store::{SecretKey, SqliteStore};
use serde_json::json;

use crate::support::{TestApp, TestResponse, jpeg};

const BASE: &str = "/posters";
const PASSWORD: &str = "harbour lantern quiet 58";

struct PagesApp {
    app: TestApp,
    setup_token: String,
    _data: tempfile::TempDir,
}

/// Builds an app under [`BASE`] with accounts (no admin yet) and the device service.
async fn pages_app() -> PagesApp {
    let data = tempfile::tempdir().unwrap();
    let store = Arc::new(
        SqliteStore::open(&data.path().join("accounts.db"))
            .await
            .unwrap(),
    );
    let accounts = Accounts::new(
        store,
        SecretKey::from_bytes(&[5; 32]),
        data.path(),
        SessionPolicy::default(),
    );
    let setup_token = accounts.open_setup().await.unwrap().unwrap();
    let accounts = Arc::new(accounts);
    let app = TestApp::with_files(&[("poster.jpg", jpeg(20, 30))], BASE)
        .await
        .with_state(|state| {
            let devices = DeviceService::new(
                state.store.clone(),
                state.settings.clone(),
                &SecretKey::from_bytes(&[6; 32]),
                DeviceConfig::default(),
            );
            state
                .with_accounts(accounts)
                .with_devices(Arc::new(devices))
        });
    PagesApp {
        app,
        setup_token,
        _data: data,
    }
}

impl PagesApp {
    /// Sends `GET path` (below the base path) as a browser would, with `cookie` if given.
    async fn page(&self, path: &str, cookie: Option<&str>) -> TestResponse {
        let mut request = Request::get(format!("{BASE}{path}"))
            .header("sec-fetch-site", "same-origin")
            .header("accept", "text/html");
        if let Some(cookie) = cookie {
            request = request.header("cookie", cookie);
        }
        self.app.send(request.body(Body::empty()).unwrap()).await
    }

    /// Creates the first admin through the setup API and returns its session cookie.
    async fn sign_in(&self) -> String {
        let body = json!({
            "setup_token": self.setup_token,
            "username": "admin",
            "password": PASSWORD,
        });
        let request = Request::post(format!("{BASE}/api/v1/setup"))
            .header("sec-fetch-site", "same-origin")
            .header("content-type", "application/json")
            .body(Body::from(body.to_string()))
            .unwrap();
        let response = self.app.send(request).await;
        assert_eq!(response.status, 201, "{}", text(&response));
        let set_cookie = response.header("set-cookie");
        set_cookie.split(';').next().unwrap().to_owned()
    }
}

fn text(response: &TestResponse) -> String {
    String::from_utf8_lossy(&response.body).into_owned()
}

/// Asserts that `response` is a page of ours: HTML, never cached, under the strict CSP.
fn assert_admin_page(response: &TestResponse, page_name: &str) {
    assert_eq!(response.status, 200, "{page_name}: {}", text(response));
    assert_eq!(
        response.header("content-type"),
        "text/html; charset=utf-8",
        "{page_name}"
    );
    assert_eq!(response.header("cache-control"), "no-store", "{page_name}");
    let policy = response.header("content-security-policy");
    assert!(
        policy.contains("script-src 'self'"),
        "{page_name}: {policy}"
    );
    assert!(!policy.contains("unsafe-inline"), "{page_name}: {policy}");
    assert_eq!(response.header("x-frame-options"), "DENY", "{page_name}");
}

#[tokio::test]
async fn claim_page_redirects_signed_out_visitor() {
    let pages = pages_app().await;

    let response = pages.page("/admin/devices/claim?code=k7m-2qx", None).await;
    assert_eq!(response.status, 303, "{}", text(&response));
    assert_eq!(
        response.header("location"),
        "/posters/admin/login?next=%2Fposters%2Fadmin%2Fdevices%2Fclaim%3Fcode%3Dk7m-2qx"
    );
    assert_eq!(response.header("cache-control"), "no-store");

    let without_code = pages.page("/admin/devices/claim", None).await;
    assert_eq!(without_code.status, 303);
    assert_eq!(
        without_code.header("location"),
        "/posters/admin/login?next=%2Fposters%2Fadmin%2Fdevices%2Fclaim"
    );

    // A session cookie that names no session counts as signed out.
    let stale = pages
        .page("/admin/devices/claim", Some("onesheet_session=unknown"))
        .await;
    assert_eq!(stale.status, 303);
}

#[tokio::test]
async fn login_page_says_setup_is_required() {
    let pages = pages_app().await;

    let response = pages.page("/admin/login", None).await;
    assert_admin_page(&response, "login page before setup");
    let body = text(&response);
    assert!(body.contains("No admin account exists yet"), "{body}");
    assert!(body.contains("/posters/api/v1/setup"), "{body}");
    assert!(!body.contains("id=\"login-form\""), "{body}");

    pages.sign_in().await;
    let after = text(&pages.page("/admin/login", None).await);
    assert!(after.contains("id=\"login-form\""), "{after}");
    assert!(!after.contains("No admin account exists yet"), "{after}");
}

#[tokio::test]
async fn login_page_sanitises_next() {
    let pages = pages_app().await;
    let cookie = pages.sign_in().await;
    let fallback = "/posters/admin";

    let cases = [
        (
            "/posters/admin/devices/claim?code=K7M2QX",
            "/posters/admin/devices/claim?code=K7M2QX",
        ),
        ("https://evil.example/posters/admin/x", fallback),
        ("//evil.example/posters/admin/x", fallback),
        ("/\\evil.example/posters/admin/x", fallback),
        ("/posters/admin/../../evil", fallback),
        ("/posters/screensaver", fallback),
        ("/posters/api/v1/admin/devices", fallback),
        ("/admin/devices/claim", fallback),
        ("/posters/admin/login", fallback),
        ("javascript:alert(1)", fallback),
    ];
    for (next, expected) in cases {
        let query = url::form_urlencoded::Serializer::new(String::new())
            .append_pair("next", next)
            .finish();
        let path = format!("/admin/login?{query}");

        // Signed in, the page redirects at once.
        let response = pages.page(&path, Some(&cookie)).await;
        assert_eq!(response.status, 303, "next {next:?}: {}", text(&response));
        assert_eq!(response.header("location"), expected, "next {next:?}");

        // Signed out, the form carries the checked target.
        let form = text(&pages.page(&path, None).await);
        let attribute = format!("data-next=\"{}\"", expected.replace('&', "&amp;"));
        assert!(form.contains(&attribute), "next {next:?}: {form}");
    }

    // Without `next`, sign-in leads to the claim page.
    let response = pages.page("/admin/login", Some(&cookie)).await;
    assert_eq!(response.header("location"), fallback);
}

#[tokio::test]
async fn pages_render_under_base_path() {
    let pages = pages_app().await;

    let login = pages.page("/admin/login", None).await;
    assert_admin_page(&login, "login page");
    let login_body = text(&login);
    for expected in [
        "data-base=\"/posters\"",
        "href=\"/posters/assets/css/admin.css\"",
        "src=\"/posters/assets/js/admin/login.js\"",
    ] {
        assert!(
            login_body.contains(expected),
            "missing {expected}: {login_body}"
        );
    }

    let cookie = pages.sign_in().await;
    let claim = pages
        .page("/admin/devices/claim?code=k7m2qx", Some(&cookie))
        .await;
    assert_admin_page(&claim, "claim page");
    let claim_body = text(&claim);
    for expected in [
        "data-base=\"/posters\"",
        "href=\"/posters/assets/css/admin.css\"",
        "src=\"/posters/assets/js/admin/claim.js\"",
        "action=\"/posters/admin/devices/claim\"",
        "value=\"K7M-2QX\"",
        "Signed in as <strong>admin</strong>",
        "id=\"profile\"",
        "id=\"group\"",
    ] {
        assert!(
            claim_body.contains(expected),
            "missing {expected}: {claim_body}"
        );
    }

    // The scripts, the modules they import and the stylesheet are served under the base path.
    for asset in [
        "/assets/css/admin.css",
        "/assets/js/admin/login.js",
        "/assets/js/admin/claim.js",
        "/assets/js/admin/api.js",
        "/assets/js/admin/form.js",
    ] {
        let response = pages.page(asset, None).await;
        assert_eq!(response.status, 200, "{asset}");
    }

    // Outside the base path there is no admin page.
    let outside = pages
        .app
        .send(Request::get("/admin/login").body(Body::empty()).unwrap())
        .await;
    assert_eq!(outside.status, 404);
}

#[tokio::test]
async fn claim_page_flags_invalid_code() {
    let pages = pages_app().await;
    let cookie = pages.sign_in().await;

    let response = pages
        .page("/admin/devices/claim?code=OOO-111", Some(&cookie))
        .await;
    assert_admin_page(&response, "claim page with an invalid code");
    let body = text(&response);
    assert!(body.contains("value=\"OOO-111\""), "{body}");
    assert!(body.contains("aria-invalid=\"true\""), "{body}");
    assert!(body.contains("never occurs in pairing codes"), "{body}");

    // Markup in the query is escaped, never rendered.
    let injected = pages
        .page("/admin/devices/claim?code=%3Cscript%3Ex", Some(&cookie))
        .await;
    let body = text(&injected);
    assert!(!body.contains("<script>x"), "{body}");
    assert!(body.contains("&lt;script&gt;x"), "{body}");
}

#[tokio::test]
async fn admin_pages_have_no_inline_code() {
    let pages = pages_app().await;
    let setup = text(&pages.page("/admin/login", None).await);
    let cookie = pages.sign_in().await;
    let login = text(&pages.page("/admin/login", None).await);
    let claim = text(&pages.page("/admin/devices/claim", Some(&cookie)).await);

    for (name, body) in [("setup", &setup), ("login", &login), ("claim", &claim)] {
        let lower = body.to_ascii_lowercase();
        assert!(
            !lower.contains("<style"),
            "{name} page has a <style> element"
        );
        assert!(
            !lower.contains(" style="),
            "{name} page has a style attribute"
        );
        assert!(
            !lower.contains("\"javascript:"),
            "{name} page has a javascript: URL"
        );
        for (index, _) in lower.match_indices("<script") {
            let tag_end = lower[index..].find('>').unwrap() + index;
            let tag = &lower[index..tag_end];
            assert!(
                tag.contains(" src="),
                "{name} page has an inline script: {tag}"
            );
            assert!(
                lower[tag_end + 1..].starts_with("</script>"),
                "{name} page has a script with content"
            );
        }
        // Event handler attributes such as onclick= are inline scripts too.
        let handler = lower.split(|c: char| c.is_whitespace()).any(|word| {
            word.starts_with("on")
                && word
                    .split_once('=')
                    .is_some_and(|(name, _)| name.chars().all(|c| c.is_ascii_alphabetic()))
        });
        assert!(!handler, "{name} page has an event handler attribute");
    }
}

#[tokio::test]
async fn setup_wizard_follows_setup_state() {
    let pages = pages_app().await;

    // While no admin exists, the wizard starts at the token, and the sign-in page links to it.
    let open = pages.page("/admin/setup", None).await;
    assert_admin_page(&open, "setup wizard");
    let body = text(&open);
    for expected in [
        "src=\"/posters/assets/js/admin/setup.js\"",
        "data-step=\"1\"",
        "Step 1 of 6: Setup token",
        "data/setup-token",
    ] {
        assert!(body.contains(expected), "missing {expected}: {body}");
    }
    assert!(!body.contains("data-csrf-token"), "{body}");
    let login = text(&pages.page("/admin/login", None).await);
    assert!(login.contains("href=\"/posters/admin/setup\""), "{login}");

    // Once the admin exists, the wizard is closed unless a later step is resumed.
    let cookie = pages.sign_in().await;
    let closed = pages.page("/admin/setup", Some(&cookie)).await;
    assert_eq!(closed.status, 303);
    assert_eq!(closed.header("location"), "/posters/admin");
    let earlier = pages.page("/admin/setup?step=2", Some(&cookie)).await;
    assert_eq!(earlier.status, 303, "steps 1 and 2 cannot run again");

    let resumed = pages.page("/admin/setup?step=5", Some(&cookie)).await;
    assert_admin_page(&resumed, "setup wizard at step 5");
    let body = text(&resumed);
    assert!(body.contains("Step 5 of 6: Libraries"), "{body}");
    assert!(body.contains("data-csrf-token=\""), "{body}");

    // A signed-out visitor resuming a step signs in first and comes back.
    let signed_out = pages.page("/admin/setup?step=4", None).await;
    assert_eq!(signed_out.status, 303);
    assert_eq!(
        signed_out.header("location"),
        "/posters/admin/login?next=%2Fposters%2Fadmin%2Fsetup%3Fstep%3D4"
    );
}

#[tokio::test]
async fn setup_and_sources_pages_have_no_inline_code() {
    let pages = pages_app().await;
    let setup = text(&pages.page("/admin/setup", None).await);
    let cookie = pages.sign_in().await;
    let resumed = text(&pages.page("/admin/setup?step=3", Some(&cookie)).await);
    let sources = pages.page("/admin/sources", Some(&cookie)).await;
    assert_admin_page(&sources, "sources page");
    let sources = text(&sources);

    for (name, body) in [
        ("setup", &setup),
        ("resumed setup", &resumed),
        ("sources", &sources),
    ] {
        let lower = body.to_ascii_lowercase();
        assert!(
            !lower.contains("<style"),
            "{name} page has a <style> element"
        );
        assert!(
            !lower.contains(" style="),
            "{name} page has a style attribute"
        );
        for (index, _) in lower.match_indices("<script") {
            let tag_end = lower[index..].find('>').unwrap() + index;
            assert!(
                lower[index..tag_end].contains(" src="),
                "{name} page has an inline script"
            );
        }
    }
}
