//! Pairing a screen from a phone: the screen shows its code, a second browser opens the claim
//! page from the screen's address, signs in, claims the code, and the screen starts showing
//! posters. That test runs under a base path, as behind a reverse proxy, and the test of
//! two-factor sign-in and sign-out runs at the root.

use std::time::Duration;

use onesheet_auth::TotpSecret;
use onesheet_auth::totp;
use serde_json::{Value, json};

use crate::admin::{AdminSession, PASSWORD, USERNAME, check_page, click, create_admin, fill};
use crate::browser::Browser;
use crate::harness::{ServerOptions, TestServer, http_client};

const SCREEN_NAME: &str = "Lobby left";
const PAIRING_TIMEOUT: Duration = Duration::from_secs(30);
const PAGE_TIMEOUT: Duration = Duration::from_secs(20);
const FIRST_SLIDE_TIMEOUT: Duration = Duration::from_secs(60);

const PAIRING_CODE_SHOWN: &str = r#"
    const overlay = document.getElementById('pairing-overlay');
    return !!overlay && !overlay.hidden && !!overlay.dataset.code;
"#;

const POSTER_SHOWN_WITHOUT_CARD: &str = r#"
    const overlay = document.getElementById('pairing-overlay');
    const poster = document.querySelector('#stage img.poster.current');
    return (!overlay || overlay.hidden) && document.body.dataset.device === 'live'
        && !!poster && poster.complete && poster.naturalWidth > 0;
"#;

const LOGIN_READY: &str = "return document.body.dataset.login === 'password';";

const CLAIM_READY: &str = r#"
    return document.body.dataset.claim === 'ready'
        && document.getElementById('profile').dataset.loaded === 'true'
        && document.getElementById('group').dataset.loaded === 'true';
"#;

/// Waits for `condition` in `browser`, failing with its URL and console on timeout.
async fn wait_for(browser: &Browser, description: &str, timeout: Duration, condition: &str) {
    if let Err(error) = browser.wait_until(description, timeout, condition).await {
        let url: String = browser.eval("return window.location.href;").await;
        panic!(
            "{error}\npage: {url}\n--- browser console ---\n{}",
            browser.console_messages().await.join("\n")
        );
    }
}

/// Returns the SEVERE console messages since the last read: script errors, failed requests
/// and CSP violations.
async fn console_errors(browser: &Browser) -> Vec<String> {
    browser
        .console_messages()
        .await
        .into_iter()
        .filter(|message| message.starts_with("SEVERE"))
        .collect()
}

/// Turns on two-factor sign-in for `admin` and returns the TOTP secret.
async fn enable_totp(server: &TestServer, admin: &AdminSession) -> TotpSecret {
    let client = http_client();
    let enrolment: Value = client
        .post(server.url("/api/v1/admin/account/totp"))
        .header("cookie", &admin.cookie)
        .header("x-csrf-token", &admin.csrf_token)
        .send()
        .await
        .expect("POST /api/v1/admin/account/totp")
        .json()
        .await
        .expect("read the enrolment");
    let secret = TotpSecret::from_base32(enrolment["secret"].as_str().unwrap()).unwrap();
    let code = totp::code_at(&secret, unix_now()).unwrap();
    let confirmed = client
        .post(server.url("/api/v1/admin/account/totp/confirm"))
        .header("cookie", &admin.cookie)
        .header("x-csrf-token", &admin.csrf_token)
        .json(&json!({ "code": code }))
        .send()
        .await
        .expect("POST /api/v1/admin/account/totp/confirm");
    assert_eq!(confirmed.status().as_u16(), 200, "confirming TOTP failed");
    secret
}

fn unix_now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

#[tokio::test]
async fn phone_claims_screen_through_admin_pages() {
    let server = TestServer::start(ServerOptions {
        base_path: Some("/posters".to_owned()),
        media_posters: 4,
        env: Vec::new(),
    })
    .await;
    create_admin(&server).await;
    let Some(screen) = Browser::launch("phone_claims_screen_screen", 1280, 720).await else {
        return;
    };
    let Some(phone) = Browser::launch("phone_claims_screen_phone", 390, 844).await else {
        return;
    };

    // The screen shows its code and the claim page's address.
    screen
        .goto(&server.url("/screensaver?interval=300&device_retry_ms=200"))
        .await;
    wait_for(
        &screen,
        "the pairing code is shown",
        PAIRING_TIMEOUT,
        PAIRING_CODE_SHOWN,
    )
    .await;
    let code: String = screen
        .eval("return document.getElementById('pairing-overlay').dataset.code;")
        .await;
    let address: String = screen
        .eval("return document.querySelector('#pairing-overlay .pairing-address').textContent;")
        .await;
    assert_eq!(address, server.url("/admin/devices/claim"));

    // Signed out, the claim URL of the QR code leads to the sign-in page, which returns to it.
    let claim_url = format!("{address}?code={code}");
    phone.goto(&claim_url).await;
    wait_for(
        &phone,
        "the sign-in form is ready",
        PAGE_TIMEOUT,
        LOGIN_READY,
    )
    .await;
    let next: String = phone
        .eval("return document.getElementById('login-form').dataset.next;")
        .await;
    assert_eq!(next, format!("/posters/admin/devices/claim?code={code}"));
    phone.eval::<bool>(&fill("username", USERNAME)).await;
    phone.eval::<bool>(&fill("password", PASSWORD)).await;
    check_page(&phone, "login").await;
    phone
        .eval::<bool>(&click("#login-form button[type=\"submit\"]"))
        .await;

    // Back on the claim page, the code is filled in from the address.
    wait_for(&phone, "the claim form is ready", PAGE_TIMEOUT, CLAIM_READY).await;
    let (path, code_field): (String, String) = phone
        .eval("return [window.location.pathname, document.getElementById('code').value];")
        .await;
    assert_eq!(path, "/posters/admin/devices/claim");
    assert_eq!(code_field, format!("{}-{}", &code[..3], &code[3..]));
    phone.eval::<bool>(&fill("name", SCREEN_NAME)).await;
    phone.eval::<bool>(&fill("location", "Front hall")).await;
    check_page(&phone, "claim").await;
    phone
        .eval::<bool>(&click("#claim-form button[type=\"submit\"]"))
        .await;

    wait_for(
        &phone,
        "the claim succeeds",
        PAGE_TIMEOUT,
        "return document.body.dataset.claim === 'claimed';",
    )
    .await;
    let result: String = phone
        .eval("return document.getElementById('claim-result-text').textContent;")
        .await;
    assert!(result.contains(SCREEN_NAME), "result: {result}");
    check_page(&phone, "claim-done").await;

    // The screen leaves the pairing card and shows posters.
    wait_for(
        &screen,
        "the screen shows posters without the pairing card",
        FIRST_SLIDE_TIMEOUT,
        POSTER_SHOWN_WITHOUT_CARD,
    )
    .await;

    // The same code a second time fails, and the error message advises getting a new code from the screen.
    phone.eval::<bool>(&click("#claim-another")).await;
    phone.eval::<bool>(&fill("code", &code)).await;
    phone.eval::<bool>(&fill("name", "Lobby right")).await;
    phone
        .eval::<bool>(&click("#claim-form button[type=\"submit\"]"))
        .await;
    wait_for(
        &phone,
        "the second claim of the code fails",
        PAGE_TIMEOUT,
        "return document.body.dataset.claim === 'failed';",
    )
    .await;
    let error: String = phone
        .eval("return document.getElementById('form-error').textContent;")
        .await;
    assert!(error.contains("new code"), "error: {error}");

    // Chromium logs the rejected claim as a failed request. Any other SEVERE message is a
    // script error or a CSP violation.
    let phone_errors: Vec<String> = console_errors(&phone)
        .await
        .into_iter()
        .filter(|message| !message.contains("/api/v1/admin/devices/claim"))
        .collect();
    assert!(
        phone_errors.is_empty(),
        "admin page console errors:\n{}",
        phone_errors.join("\n")
    );
    check_page(&phone, "claim-failed").await;
    let screen_errors = console_errors(&screen).await;
    assert!(
        screen_errors.is_empty(),
        "screen console errors:\n{}",
        screen_errors.join("\n")
    );

    phone.close().await;
    screen.close().await;
}

#[tokio::test]
async fn second_factor_sign_in_and_sign_out() {
    let server = TestServer::start(ServerOptions::default()).await;
    let admin = create_admin(&server).await;
    let secret = enable_totp(&server, &admin).await;
    let Some(phone) = Browser::launch("second_factor_sign_in_and_sign_out", 390, 844).await else {
        return;
    };

    phone
        .goto(&server.url("/admin/login?next=%2Fadmin%2Fdevices%2Fclaim"))
        .await;
    wait_for(
        &phone,
        "the sign-in form is ready",
        PAGE_TIMEOUT,
        LOGIN_READY,
    )
    .await;
    check_page(&phone, "login-empty").await;
    phone.eval::<bool>(&fill("username", USERNAME)).await;
    phone.eval::<bool>(&fill("password", PASSWORD)).await;
    phone
        .eval::<bool>(&click("#login-form button[type=\"submit\"]"))
        .await;
    wait_for(
        &phone,
        "the code form is shown",
        PAGE_TIMEOUT,
        "return document.body.dataset.login === 'second-factor' \
            && !document.getElementById('second-factor-form').hidden \
            && document.getElementById('login-form').hidden;",
    )
    .await;
    check_page(&phone, "login-code").await;

    // A wrong code keeps the form and shows the server's message.
    let right_code = totp::code_at(&secret, unix_now() + 30).unwrap();
    let wrong_code = if right_code == "000000" {
        "111111"
    } else {
        "000000"
    };
    phone
        .eval::<bool>(&fill("second-factor-code", wrong_code))
        .await;
    phone
        .eval::<bool>(&click("#second-factor-form button[type=\"submit\"]"))
        .await;
    wait_for(
        &phone,
        "the wrong code is reported",
        PAGE_TIMEOUT,
        "const error = document.getElementById('form-error'); \
         return !error.hidden && error.textContent.length > 0 \
            && !document.querySelector('#second-factor-form button').disabled;",
    )
    .await;
    // Chromium logs the rejected code as a failed request. Any other SEVERE message is a
    // script error or a CSP violation.
    let errors: Vec<String> = console_errors(&phone)
        .await
        .into_iter()
        .filter(|message| !message.contains("/api/v1/auth/second-factor"))
        .collect();
    assert!(errors.is_empty(), "console errors:\n{}", errors.join("\n"));
    check_page(&phone, "login-second-factor").await;

    // The code of the next step is within the server's window and newer than the one that
    // confirmed enrolment, so it is not a replay.
    phone
        .eval::<bool>(&fill("second-factor-code", &right_code))
        .await;
    phone
        .eval::<bool>(&click("#second-factor-form button[type=\"submit\"]"))
        .await;
    wait_for(&phone, "the claim form is ready", PAGE_TIMEOUT, CLAIM_READY).await;
    let (path, code_field): (String, String) = phone
        .eval("return [window.location.pathname, document.getElementById('code').value];")
        .await;
    assert_eq!(path, "/admin/devices/claim");
    assert_eq!(code_field, "");

    // Signing out returns to the sign-in page, and the claim page then redirects there again.
    phone.eval::<bool>(&click("#sign-out")).await;
    wait_for(
        &phone,
        "the sign-in form is back",
        PAGE_TIMEOUT,
        LOGIN_READY,
    )
    .await;
    phone.goto(&server.url("/admin/devices/claim")).await;
    wait_for(
        &phone,
        "the signed-out claim page leads to sign-in",
        PAGE_TIMEOUT,
        LOGIN_READY,
    )
    .await;

    // Chromium logs the rejected code as a failed request. Any other SEVERE message is a
    // script error or a CSP violation.
    let errors: Vec<String> = console_errors(&phone)
        .await
        .into_iter()
        .filter(|message| !message.contains("/api/v1/auth/second-factor"))
        .collect();
    assert!(errors.is_empty(), "console errors:\n{}", errors.join("\n"));
    phone.close().await;
}
