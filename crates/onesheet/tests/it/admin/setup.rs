//! The setup wizard on a fresh server, end to end: setup token, admin account, two-factor
//! enrolment, a fake Jellyfin as the first source with its connection test, its libraries,
//! and the addresses for screens. Also a reload in the middle, the back button, and the
//! wizard closing once it is done.

use onesheet_auth::totp::{self, TotpSecret};
use onesheet_fakes::{FakeJellyfin, FakeServer, JellyfinConfig, Library, LibraryKind};
use serde_json::{Value, json};

use super::{PASSWORD, USERNAME, check_page, click, fill, get_unfollowed, wait_for};
use crate::browser::Browser;
use crate::harness::{ServerOptions, TestServer, http_client};

const TEST: &str = "admin_setup_wizard";
const API_KEY: &str = "JELLYFIN_KEY_WIZARD";

async fn start_jellyfin() -> FakeServer {
    FakeJellyfin::start(JellyfinConfig {
        api_key: API_KEY.to_owned(),
        libraries: vec![
            Library::generate(LibraryKind::Movies, 8, 31).named("Films"),
            Library::generate(LibraryKind::Shows, 4, 32).named("Series"),
        ],
        poster_size: (200, 300),
        ..JellyfinConfig::default()
    })
    .await
    .expect("start the fake Jellyfin")
}

fn unix_now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

/// Waits until the wizard shows `step` and its module has set it up.
async fn wait_for_step(browser: &Browser, step: u8) {
    wait_for(
        browser,
        &format!("the wizard shows step {step}"),
        &format!(
            "return document.body.dataset.wizard === '{step}' \
             && !document.getElementById('step-{step}').hidden;"
        ),
    )
    .await;
}

async fn text_of(browser: &Browser, id: &str) -> String {
    browser
        .eval(&format!(
            "return document.getElementById({}).textContent;",
            serde_json::to_string(id).unwrap()
        ))
        .await
}

#[tokio::test]
async fn wizard_sets_up_fresh_server() {
    let Some(browser) = Browser::launch(TEST, 390, 844).await else {
        return;
    };
    let fake = start_jellyfin().await;
    let server = TestServer::start(ServerOptions::default()).await;

    // The sign-in page of a fresh server leads to the wizard.
    browser.goto(&server.url("/admin/login")).await;
    wait_for(
        &browser,
        "the sign-in page links to the wizard",
        "return document.getElementById('setup-link') !== null;",
    )
    .await;
    browser.eval::<bool>(&click("#setup-link")).await;
    wait_for_step(&browser, 1).await;
    check_page(&browser, "setup-token").await;

    // A wrong token comes back to step 1 with the reason beside the field.
    browser
        .eval::<bool>(&fill("setup-token", "not-the-token"))
        .await;
    browser
        .eval::<bool>(&click("#token-form button[type=\"submit\"]"))
        .await;
    wait_for_step(&browser, 2).await;
    browser.eval::<bool>(&fill("username", USERNAME)).await;
    browser.eval::<bool>(&fill("new-password", PASSWORD)).await;
    browser
        .eval::<bool>(&fill("repeat-password", PASSWORD))
        .await;
    check_page(&browser, "setup-account").await;
    browser
        .eval::<bool>(&click("#account-form button[type=\"submit\"]"))
        .await;
    wait_for_step(&browser, 1).await;
    wait_for(
        &browser,
        "the token field shows the rejection",
        "return document.getElementById('setup-token').getAttribute('aria-invalid') === 'true';",
    )
    .await;
    // The rejected request is the one failure the console may show, so it is read away here.
    let console = browser.console_messages().await;
    assert!(
        console
            .iter()
            .any(|message| message.contains("/api/v1/setup") && message.contains("401")),
        "{console:?}"
    );

    let token = std::fs::read_to_string(server.data_dir().join("setup-token"))
        .expect("read the setup token")
        .trim()
        .to_owned();
    browser.eval::<bool>(&fill("setup-token", &token)).await;
    browser
        .eval::<bool>(&click("#token-form button[type=\"submit\"]"))
        .await;
    wait_for_step(&browser, 2).await;
    browser
        .eval::<bool>(&click("#account-form button[type=\"submit\"]"))
        .await;
    wait_for_step(&browser, 3).await;
    let search: String = browser.eval("return window.location.search;").await;
    assert_eq!(search, "?step=3", "the step is kept in the address");
    check_page(&browser, "setup-two-factor").await;

    // Two-factor enrolment with a code computed from the key the page shows.
    browser.eval::<bool>(&click("#totp-begin")).await;
    wait_for(
        &browser,
        "the QR code and the key are shown",
        "return !document.getElementById('totp-enrol').hidden \
         && document.getElementById('totp-secret').textContent.length > 0 \
         && document.getElementById('totp-qr').complete \
         && document.getElementById('totp-qr').naturalWidth > 0;",
    )
    .await;
    check_page(&browser, "setup-two-factor-qr").await;
    let secret = TotpSecret::from_base32(&text_of(&browser, "totp-secret").await)
        .expect("the page shows a base32 key");
    let code = totp::code_at(&secret, unix_now()).unwrap();
    browser.eval::<bool>(&fill("totp-code", &code)).await;
    browser
        .eval::<bool>(&click("#totp-form button[type=\"submit\"]"))
        .await;
    wait_for(
        &browser,
        "the recovery codes are shown",
        "return !document.getElementById('recovery').hidden \
         && document.querySelectorAll('#recovery-codes li').length === 10;",
    )
    .await;
    check_page(&browser, "setup-recovery-codes").await;
    browser.eval::<bool>(&click("#totp-next")).await;
    wait_for_step(&browser, 4).await;
    check_page(&browser, "setup-source-local").await;

    // A reload resumes at the same step, signed in.
    let url: String = browser.eval("return window.location.href;").await;
    browser.goto(&url).await;
    wait_for_step(&browser, 4).await;

    // A key the server rejects is reported as such, and the corrected key passes.
    browser.eval::<bool>(&click("#kind-jellyfin")).await;
    browser
        .eval::<bool>(&fill("source-name", "Living room"))
        .await;
    browser
        .eval::<bool>(&fill("source-host", fake.base_url()))
        .await;
    browser
        .eval::<bool>(&fill("source-credential", "WRONG_KEY"))
        .await;
    browser
        .eval::<bool>(&click("#wizard-source-form button[type=\"submit\"]"))
        .await;
    wait_for(
        &browser,
        "the test reports the rejected key",
        "return document.body.dataset.test === 'source-auth-rejected';",
    )
    .await;
    let rejected = text_of(&browser, "wizard-test-text").await;
    assert!(rejected.contains("rejected"), "{rejected}");
    check_page(&browser, "setup-source-rejected").await;

    browser
        .eval::<bool>(&fill("source-credential", API_KEY))
        .await;
    browser
        .eval::<bool>(&click("#wizard-source-form button[type=\"submit\"]"))
        .await;
    wait_for(
        &browser,
        "the test passes",
        "return document.body.dataset.test === 'ok';",
    )
    .await;
    let passed = text_of(&browser, "wizard-test-text").await;
    assert!(passed.contains("2 libraries"), "{passed}");
    check_page(&browser, "setup-source-tested").await;

    browser.eval::<bool>(&click("#source-next")).await;
    wait_for_step(&browser, 5).await;
    wait_for(
        &browser,
        "the libraries are listed",
        "return document.querySelectorAll('#wizard-libraries input').length === 2;",
    )
    .await;
    check_page(&browser, "setup-libraries").await;

    // Back returns to the source, whose fields are kept, and forward again.
    browser.eval::<bool>(&click("#step-5 [data-back]")).await;
    wait_for_step(&browser, 4).await;
    let name: String = browser
        .eval("return document.getElementById('source-name').value;")
        .await;
    assert_eq!(name, "Living room");
    browser.eval::<bool>(&click("#source-next")).await;
    wait_for_step(&browser, 5).await;
    wait_for(
        &browser,
        "the libraries are listed again",
        "return document.querySelectorAll('#wizard-libraries input').length === 2;",
    )
    .await;

    let films: String = browser
        .eval(
            "const box = Array.from(document.querySelectorAll('#wizard-libraries input')) \
               .find(function (input) { return input.labels[0].textContent.indexOf('Films') === 0; }); \
             box.click(); return box.value;",
        )
        .await;
    browser.eval::<bool>(&click("#libraries-next")).await;
    wait_for_step(&browser, 6).await;
    let links: Vec<String> = browser
        .eval(
            "return Array.from(document.querySelectorAll('.display-url')) \
               .map(function (link) { return link.textContent; });",
        )
        .await;
    assert_eq!(
        links,
        [
            server.url("/screensaver"),
            server.url("/wallart"),
            server.url("/cinema")
        ]
    );
    check_page(&browser, "setup-screens").await;

    // The source reads the ticked library only.
    let cookie = session_cookie(&browser).await;
    let source: Value = http_client()
        .get(server.url("/api/v1/admin/sources/living-room"))
        .header("cookie", &cookie)
        .send()
        .await
        .expect("GET the source")
        .json()
        .await
        .expect("read the source");
    assert_eq!(source["settings"]["libraries"], json!([films]));
    assert_eq!(source["credential_set"], true);

    // The account signs in with a second factor now.
    let login: Value = http_client()
        .post(server.url("/api/v1/auth/login"))
        .json(&json!({ "username": USERNAME, "password": PASSWORD }))
        .send()
        .await
        .expect("POST /api/v1/auth/login")
        .json()
        .await
        .expect("read the login answer");
    assert_eq!(login["status"], "second-factor-required");

    // Done: the wizard without a step is closed and leads to the dashboard.
    browser.eval::<bool>(&click("#wizard-done")).await;
    wait_for(
        &browser,
        "the dashboard opens",
        "return window.location.pathname === '/admin' && document.body.dataset.shell === 'ready';",
    )
    .await;
    let (status, location) = get_unfollowed(&server, "/admin/setup").await;
    assert_eq!(status, 303);
    assert_eq!(location.as_deref(), Some("/admin"));
    browser.close().await;
}

/// Returns `name=value` of the browser's session cookie, for API calls as the same admin.
async fn session_cookie(browser: &Browser) -> String {
    let cookies = browser.cdp("Network.getCookies", json!({})).await;
    let cookie = cookies["cookies"]
        .as_array()
        .and_then(|cookies| cookies.first())
        .unwrap_or_else(|| panic!("the browser has no session cookie: {cookies}"));
    format!(
        "{}={}",
        cookie["name"].as_str().unwrap(),
        cookie["value"].as_str().unwrap()
    )
}
