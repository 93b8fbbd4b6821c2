//! The security page: two-factor enrolment and sign-in with a code, signing out other
//! sessions, API tokens, and the audit log's filters and paging.

use onesheet_auth::TotpSecret;
use onesheet_auth::totp;
use serde_json::{Value, json};

use super::{
    PASSWORD, USERNAME, check_page, click, create_admin, fill, signed_in_browser, wait_for,
};
use crate::browser::Browser;
use crate::harness::{ServerOptions, TestServer, http_client};

const SECURITY_PATH: &str = "/admin/security";

const SECURITY_READY: &str = "return document.body.dataset.security === 'ready';";

fn unix_now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

/// Signs in through the API, as a second browser would, and returns the session cookie.
async fn api_login(server: &TestServer) -> String {
    let response = http_client()
        .post(server.url("/api/v1/auth/login"))
        .json(&json!({ "username": USERNAME, "password": PASSWORD }))
        .send()
        .await
        .expect("POST /api/v1/auth/login");
    assert_eq!(response.status().as_u16(), 200, "signing in failed");
    response.headers()["set-cookie"]
        .to_str()
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_owned()
}

/// Returns the status of `GET path` sent with `header: value` only, without a CSRF token.
async fn status_with(server: &TestServer, path: &str, header: &str, value: &str) -> u16 {
    http_client()
        .get(server.url(path))
        .header(header, value)
        .send()
        .await
        .unwrap_or_else(|error| panic!("GET {path} failed: {error}"))
        .status()
        .as_u16()
}

/// Scrolls the element `id` to the top of the window, so a screenshot shows it.
async fn scroll_to(browser: &Browser, id: &str) {
    browser
        .eval::<bool>(&format!(
            "document.getElementById({}).scrollIntoView(); return true;",
            serde_json::to_string(id).unwrap()
        ))
        .await;
}

/// Returns the number of rows that the page reports in the table body `id`.
async fn row_count(browser: &Browser, id: &str) -> String {
    browser
        .eval(&format!(
            "return document.getElementById({}).dataset.count || '';",
            serde_json::to_string(id).unwrap()
        ))
        .await
}

/// Returns how many times the audit log has finished loading.
async fn audit_loads(browser: &Browser) -> u32 {
    let loads: String = browser
        .eval("return document.getElementById('audit').dataset.loads || '0';")
        .await;
    loads.parse().unwrap()
}

/// Waits for the audit log load after `previous` to finish.
async fn wait_for_audit_load(browser: &Browser, previous: u32, description: &str) {
    wait_for(
        browser,
        description,
        &format!(
            "return parseInt(document.getElementById('audit').dataset.loads || '0', 10) > {previous};"
        ),
    )
    .await;
}

#[tokio::test]
async fn two_factor_enrolment_and_sign_in() {
    let server = TestServer::start(ServerOptions::default()).await;
    create_admin(&server).await;
    let Some(browser) = signed_in_browser(
        &server,
        "admin_security_two_factor",
        1280,
        800,
        SECURITY_PATH,
    )
    .await
    else {
        return;
    };
    wait_for(
        &browser,
        "the security page is ready with two-factor sign-in off",
        "return document.body.dataset.security === 'ready' \
            && document.getElementById('two-factor').dataset.totp === 'off';",
    )
    .await;
    check_page(&browser, "security").await;

    // Enrolment shows the QR code as an image and the key as text.
    browser.eval::<bool>(&click("#totp-begin")).await;
    wait_for(
        &browser,
        "the QR code and the key are shown",
        "const image = document.getElementById('totp-qr'); \
         return document.getElementById('two-factor').dataset.totp === 'enrolling' \
            && image.complete && image.naturalWidth > 0 \
            && document.getElementById('totp-secret').textContent.length > 0;",
    )
    .await;
    scroll_to(&browser, "two-factor").await;
    check_page(&browser, "security-two-factor-enrol").await;
    let displayed_key: String = browser
        .eval("return document.getElementById('totp-secret').textContent;")
        .await;
    let secret =
        TotpSecret::from_base32(&displayed_key.replace(' ', "")).expect("the key is base32");

    // A wrong code keeps enrolment open and marks the field.
    let right_code = totp::code_at(&secret, unix_now()).unwrap();
    let wrong_code = if right_code == "000000" {
        "111111"
    } else {
        "000000"
    };
    browser.eval::<bool>(&fill("totp-code", wrong_code)).await;
    browser
        .eval::<bool>(&click("#totp-confirm-form button[type=\"submit\"]"))
        .await;
    wait_for(
        &browser,
        "the wrong code is reported",
        "return document.getElementById('totp-code').getAttribute('aria-invalid') === 'true' \
            && !document.getElementById('two-factor-alert').hidden \
            && !document.querySelector('#totp-confirm-form button').disabled;",
    )
    .await;
    let state: String = browser
        .eval("return document.getElementById('two-factor').dataset.totp;")
        .await;
    assert_eq!(state, "enrolling");
    // Chromium logs the rejected code as a failed request, and reading the console clears it.
    let logged = browser.console_messages().await;
    assert!(
        logged
            .iter()
            .filter(|message| message.starts_with("SEVERE"))
            .all(|message| message.contains("/api/v1/admin/account/totp/confirm")),
        "unexpected console errors:\n{}",
        logged.join("\n")
    );

    browser.eval::<bool>(&fill("totp-code", &right_code)).await;
    browser
        .eval::<bool>(&click("#totp-confirm-form button[type=\"submit\"]"))
        .await;
    wait_for(
        &browser,
        "ten recovery codes are shown",
        "return document.getElementById('two-factor').dataset.totp === 'recovery' \
            && document.querySelectorAll('#recovery-codes li').length === 10 \
            && document.getElementById('recovery-download').href.indexOf('blob:') === 0;",
    )
    .await;
    scroll_to(&browser, "totp-recovery").await;
    check_page(&browser, "security-recovery-codes").await;
    let codes: Vec<String> = browser
        .eval(
            "return Array.from(document.querySelectorAll('#recovery-codes li')) \
                .map(function (item) { return item.textContent; });",
        )
        .await;
    let key_cleared: bool = browser
        .eval(
            "return document.getElementById('totp-secret').textContent === '' \
                && !document.getElementById('totp-qr').hasAttribute('src');",
        )
        .await;
    assert!(key_cleared, "the key stays on the page after enrolment");

    browser.eval::<bool>(&click("#recovery-done")).await;
    wait_for(
        &browser,
        "two-factor sign-in shows as on",
        "return document.getElementById('two-factor').dataset.totp === 'on' \
            && document.getElementById('two-factor-summary').textContent.indexOf('10 recovery codes') >= 0;",
    )
    .await;

    // Sign out, then in again: the password alone is not enough now.
    browser.eval::<bool>(&click("#sign-out")).await;
    wait_for(
        &browser,
        "sign-out opens the sign-in page",
        "return document.body.dataset.login === 'password';",
    )
    .await;
    browser
        .goto(&server.url("/admin/login?next=%2Fadmin%2Fsecurity"))
        .await;
    wait_for(
        &browser,
        "the sign-in form is ready",
        "return document.body.dataset.login === 'password';",
    )
    .await;
    browser.eval::<bool>(&fill("username", USERNAME)).await;
    browser.eval::<bool>(&fill("password", PASSWORD)).await;
    browser
        .eval::<bool>(&click("#login-form button[type=\"submit\"]"))
        .await;
    wait_for(
        &browser,
        "the code form is shown",
        "return document.body.dataset.login === 'second-factor';",
    )
    .await;
    // The next step's code is inside the server's window and newer than the one that
    // confirmed enrolment, so it is no replay.
    let next_code = totp::code_at(&secret, unix_now() + 30).unwrap();
    browser
        .eval::<bool>(&fill("second-factor-code", &next_code))
        .await;
    browser
        .eval::<bool>(&click("#second-factor-form button[type=\"submit\"]"))
        .await;
    wait_for(
        &browser,
        "the security page opens with two-factor sign-in on",
        "return window.location.pathname === '/admin/security' \
            && document.body.dataset.security === 'ready' \
            && document.getElementById('two-factor').dataset.totp === 'on';",
    )
    .await;

    // A recovery code and the password turn it off again.
    browser
        .eval::<bool>(&fill("disable-password", PASSWORD))
        .await;
    browser.eval::<bool>(&fill("disable-code", &codes[0])).await;
    browser
        .eval::<bool>(&click("#totp-disable-form button[type=\"submit\"]"))
        .await;
    wait_for(
        &browser,
        "two-factor sign-in shows as off",
        "return document.getElementById('two-factor').dataset.totp === 'off' \
            && document.getElementById('two-factor-status').textContent.indexOf('is off') >= 0;",
    )
    .await;
    scroll_to(&browser, "two-factor").await;
    check_page(&browser, "security-two-factor-off").await;
    browser.close().await;
}

#[tokio::test]
async fn sessions_signed_out_from_phone() {
    let server = TestServer::start(ServerOptions::default()).await;
    let admin = create_admin(&server).await;
    let Some(browser) =
        signed_in_browser(&server, "admin_security_sessions", 390, 844, SECURITY_PATH).await
    else {
        return;
    };
    wait_for(
        &browser,
        "the page lists the API session and the browser's",
        "return document.body.dataset.security === 'ready' \
            && document.getElementById('sessions-rows').dataset.count === '2';",
    )
    .await;
    let (page_width, viewport_width): (u32, u32) = browser
        .eval(
            "return [document.documentElement.scrollWidth, \
                document.documentElement.clientWidth];",
        )
        .await;
    assert!(
        page_width <= viewport_width,
        "the page scrolls sideways on a phone: {page_width} px wide in {viewport_width} px"
    );
    scroll_to(&browser, "sessions").await;
    check_page(&browser, "security-phone").await;
    let current_rows: u32 = browser
        .eval("return document.querySelectorAll('#sessions-rows tr.current').length;")
        .await;
    assert_eq!(current_rows, 1, "exactly one row is this session");

    // Sign out the other session by its own button.
    browser.eval::<bool>(&click("#sessions-rows button")).await;
    wait_for(
        &browser,
        "the other session is gone from the list",
        "return document.getElementById('sessions-rows').dataset.count === '1' \
            && document.getElementById('sessions-status').textContent.indexOf('signed out') >= 0;",
    )
    .await;
    let (status, body) = admin
        .send(&server, "GET", "/api/v1/auth/session", None)
        .await;
    assert_eq!(status, 401, "the revoked session still works: {body}");

    // Two more sessions elsewhere, then all of them at once.
    let second = api_login(&server).await;
    let third = api_login(&server).await;
    browser.goto(&server.url(SECURITY_PATH)).await;
    wait_for(
        &browser,
        "the page lists three sessions",
        "return document.body.dataset.security === 'ready' \
            && document.getElementById('sessions-rows').dataset.count === '3' \
            && !document.getElementById('revoke-others').disabled;",
    )
    .await;
    browser.eval::<bool>(&click("#revoke-others")).await;
    wait_for(
        &browser,
        "only this session is left",
        "return document.getElementById('sessions-rows').dataset.count === '1' \
            && document.getElementById('revoke-others').disabled \
            && document.getElementById('sessions-status').textContent.indexOf('2 other sessions') >= 0;",
    )
    .await;
    scroll_to(&browser, "sessions").await;
    check_page(&browser, "security-sessions-signed-out").await;
    for cookie in [&second, &third] {
        assert_eq!(
            status_with(&server, "/api/v1/auth/session", "cookie", cookie).await,
            401
        );
    }
    assert_eq!(row_count(&browser, "sessions-rows").await, "1");
    browser.close().await;
}

#[tokio::test]
async fn tokens_and_audit_log() {
    let server = TestServer::start(ServerOptions::default()).await;
    let admin = create_admin(&server).await;
    let Some(browser) =
        signed_in_browser(&server, "admin_security_tokens", 1280, 800, SECURITY_PATH).await
    else {
        return;
    };
    wait_for(&browser, "the security page is ready", SECURITY_READY).await;
    assert_eq!(row_count(&browser, "tokens-rows").await, "0");

    // Create a token: it is shown once and works at once.
    browser
        .eval::<bool>(&fill("token-name", "home-assistant"))
        .await;
    browser.eval::<bool>(&fill("token-scope", "devices")).await;
    browser
        .eval::<bool>(&click("#token-form button[type=\"submit\"]"))
        .await;
    wait_for(
        &browser,
        "the new token is shown and listed",
        "return !document.getElementById('token-created').hidden \
            && document.getElementById('token-value').value.length > 0 \
            && document.getElementById('tokens-rows').dataset.count === '1';",
    )
    .await;
    scroll_to(&browser, "tokens").await;
    check_page(&browser, "security-token-created").await;
    let token: String = browser
        .eval("return document.getElementById('token-value').value;")
        .await;
    let bearer = format!("Bearer {token}");
    assert_eq!(
        status_with(&server, "/api/v1/admin/audit", "authorization", &bearer).await,
        200
    );
    let scope: String = browser
        .eval("return document.querySelector('#tokens-rows td[data-label=\"Scope\"]').textContent;")
        .await;
    assert_eq!(scope, "devices");

    // Revoke it from its row: the page clears the token, and the server rejects it.
    browser.eval::<bool>(&click("#tokens-rows button")).await;
    wait_for(
        &browser,
        "the token shows as revoked",
        "return document.getElementById('token-created').hidden \
            && document.getElementById('token-value').value === '' \
            && document.querySelector('#tokens-rows tr.revoked') !== null;",
    )
    .await;
    assert_eq!(
        status_with(&server, "/api/v1/admin/audit", "authorization", &bearer).await,
        401
    );

    // Enough token events for two pages of 25.
    for index in 0..26 {
        let (status, body) = admin
            .send(
                &server,
                "POST",
                "/api/v1/admin/tokens",
                Some(json!({ "name": format!("script-{index}"), "scope": "read" })),
            )
            .await;
        assert_eq!(status, 201, "{body}");
    }
    let (_, all) = admin
        .send(&server, "GET", "/api/v1/admin/audit?action=token.", None)
        .await;
    let token_events = all["events"].as_array().map_or(0, Vec::len);
    assert!(token_events > 25, "too few for two pages: {all}");
    assert!(token_events <= 50, "too many for two pages: {all}");

    let loads = audit_loads(&browser).await;
    browser.eval::<bool>(&fill("audit-action", "token.")).await;
    browser.eval::<bool>(&fill("audit-limit", "25")).await;
    browser
        .eval::<bool>(&click("#audit-form button[type=\"submit\"]"))
        .await;
    wait_for_audit_load(&browser, loads, "the filtered audit log loads").await;
    assert_eq!(row_count(&browser, "audit-rows").await, "25");
    let actions: Vec<String> = browser
        .eval(
            "return Array.from(document.querySelectorAll('#audit-rows td[data-label=\"Action\"]')) \
                .map(function (cell) { return cell.textContent; });",
        )
        .await;
    assert!(
        actions.iter().all(|action| action.starts_with("token.")),
        "{actions:?}"
    );
    scroll_to(&browser, "audit").await;
    check_page(&browser, "security-audit-filtered").await;

    // The older page contains the rest, and then there is nothing older.
    let loads = audit_loads(&browser).await;
    browser.eval::<bool>(&click("#audit-older")).await;
    wait_for_audit_load(&browser, loads, "the older page loads").await;
    assert_eq!(
        row_count(&browser, "audit-rows").await,
        (token_events - 25).to_string()
    );
    let (older_disabled, newest_disabled): (bool, bool) = browser
        .eval(
            "return [document.getElementById('audit-older').disabled, \
                document.getElementById('audit-newest').disabled];",
        )
        .await;
    assert!(older_disabled, "the last page offers older events");
    assert!(!newest_disabled, "an older page offers no way back");

    // An actor with no events, then a time range that ends before it starts.
    let loads = audit_loads(&browser).await;
    browser.eval::<bool>(&fill("audit-actor", "nobody")).await;
    browser
        .eval::<bool>(&click("#audit-form button[type=\"submit\"]"))
        .await;
    wait_for_audit_load(&browser, loads, "the audit log of nobody loads").await;
    assert_eq!(row_count(&browser, "audit-rows").await, "0");
    let empty: String = browser
        .eval("return document.getElementById('audit-rows').textContent;")
        .await;
    assert!(empty.contains("No events match"), "{empty}");

    browser
        .eval::<bool>(&fill("audit-since", "2030-01-02T00:00"))
        .await;
    browser
        .eval::<bool>(&fill("audit-until", "2030-01-01T00:00"))
        .await;
    browser
        .eval::<bool>(&click("#audit-form button[type=\"submit\"]"))
        .await;
    wait_for(
        &browser,
        "the reversed range is marked",
        "return document.getElementById('audit-until').getAttribute('aria-invalid') === 'true' \
            && !document.getElementById('audit-alert').hidden;",
    )
    .await;
    scroll_to(&browser, "audit").await;
    check_page(&browser, "security-audit-invalid-range").await;

    // Clearing the filters shows every event again.
    let loads = audit_loads(&browser).await;
    browser.eval::<bool>(&click("#audit-clear")).await;
    wait_for_audit_load(&browser, loads, "the unfiltered audit log loads").await;
    let cleared: Value = browser
        .eval(
            "return { rows: parseInt(document.getElementById('audit-rows').dataset.count, 10), \
                invalid: document.querySelectorAll('#audit-form [aria-invalid=\"true\"]').length };",
        )
        .await;
    assert!(cleared["rows"].as_u64().unwrap() > 25, "{cleared}");
    assert_eq!(cleared["invalid"], 0, "{cleared}");
    browser.close().await;
}

#[tokio::test]
async fn password_changed_from_page() {
    const NEW_PASSWORD: &str = "harbour window lantern 77";
    let server = TestServer::start(ServerOptions::default()).await;
    let admin = create_admin(&server).await;
    let Some(browser) =
        signed_in_browser(&server, "admin_security_password", 1280, 800, SECURITY_PATH).await
    else {
        return;
    };
    wait_for(&browser, "the security page is ready", SECURITY_READY).await;

    // The page checks the length, and that both new passwords match, before sending anything.
    browser
        .eval::<bool>(&fill("current-password", PASSWORD))
        .await;
    browser.eval::<bool>(&fill("new-password", "short")).await;
    browser
        .eval::<bool>(&fill("repeat-password", "shorter"))
        .await;
    browser
        .eval::<bool>(&click("#password-form button[type=\"submit\"]"))
        .await;
    wait_for(
        &browser,
        "the short and differing passwords are marked",
        "return document.getElementById('new-password').getAttribute('aria-invalid') === 'true' \
            && document.getElementById('repeat-password').getAttribute('aria-invalid') === 'true' \
            && !document.getElementById('password-alert').hidden;",
    )
    .await;
    check_page(&browser, "security-password-invalid").await;

    // A wrong current password is the server's to reject, and the page marks that field.
    browser
        .eval::<bool>(&fill("current-password", "not the password at all"))
        .await;
    browser
        .eval::<bool>(&fill("new-password", NEW_PASSWORD))
        .await;
    browser
        .eval::<bool>(&fill("repeat-password", NEW_PASSWORD))
        .await;
    browser
        .eval::<bool>(&click("#password-form button[type=\"submit\"]"))
        .await;
    wait_for(
        &browser,
        "the wrong current password is marked",
        "return document.getElementById('current-password').getAttribute('aria-invalid') === 'true' \
            && document.getElementById('new-password').getAttribute('aria-invalid') === null \
            && !document.querySelector('#password-form button[type=\"submit\"]').disabled;",
    )
    .await;
    let logged = browser.console_messages().await;
    assert!(
        logged
            .iter()
            .filter(|message| message.starts_with("SEVERE"))
            .all(|message| message.contains("/api/v1/admin/account/password")),
        "unexpected console errors:\n{}",
        logged.join("\n")
    );

    browser
        .eval::<bool>(&fill("current-password", PASSWORD))
        .await;
    browser
        .eval::<bool>(&click("#password-form button[type=\"submit\"]"))
        .await;
    wait_for(
        &browser,
        "the password is changed and the other session is gone",
        "return document.getElementById('password-status').textContent.indexOf('Password changed') === 0 \
            && document.getElementById('current-password').value === '' \
            && document.getElementById('sessions-rows').dataset.count === '1';",
    )
    .await;
    check_page(&browser, "security-password-changed").await;

    let (status, body) = admin
        .send(&server, "GET", "/api/v1/auth/session", None)
        .await;
    assert_eq!(status, 401, "the other session survived: {body}");
    let login = http_client()
        .post(server.url("/api/v1/auth/login"))
        .json(&json!({ "username": USERNAME, "password": NEW_PASSWORD }))
        .send()
        .await
        .expect("POST /api/v1/auth/login");
    assert_eq!(login.status().as_u16(), 200, "the new password is rejected");
    browser.close().await;
}
