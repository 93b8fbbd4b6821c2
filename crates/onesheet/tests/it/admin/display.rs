//! The display settings page: a saved change reaches a paired screen without a reload, the
//! preview frame shows an unsaved change, and the history shows the change and reverts it. The
//! profiles page edits a profile's overrides with the same form and assigns a screen to it.

use serde_json::json;

use super::{AdminSession, check_page, click, create_admin, fill, signed_in_browser, wait_for};
use crate::browser::Browser;
use crate::devices::PAIRING_CODE_SHOWN;
use crate::harness::{ServerOptions, TestServer};

/// Field of the screensaver interval, as the settings form names it.
const INTERVAL_FIELD: &str = "setting-screensaver-interval-seconds";

/// Returns a script that reads the length of the screensaver's pan, the interval plus the
/// transition in milliseconds, from the stage of `document_expression`.
fn pan_length(document_expression: &str) -> String {
    format!(
        "const doc = {document_expression}; \
         const stage = doc && doc.getElementById('stage'); \
         return stage ? stage.style.getPropertyValue('--pan-ms') : '';"
    )
}

const PREVIEW_DOCUMENT: &str = "document.getElementById('preview').contentDocument";

/// Returns a script that returns true while the screensaver's pan in `document_expression` lasts
/// `expected`, such as `38500ms`.
fn pan_is(document_expression: &str, expected: &str) -> String {
    format!(
        "const read = function () {{ {} }}; return read() === '{expected}';",
        pan_length(document_expression)
    )
}

/// Returns a script that returns true while the pan lasts `expected` in a page that has not
/// reloaded since [`pair_screen`] marked it.
fn unreloaded_pan_is(document_expression: &str, expected: &str) -> String {
    format!(
        "const read = function () {{ {} }}; \
         return read() === '{expected}' && window.notReloaded === true;",
        pan_length(document_expression)
    )
}

/// Opens the screensaver in `screen`, claims it through the admin API and waits until it is
/// live. Marks the window, so a later check can tell that it never reloaded.
async fn pair_screen(screen: &Browser, server: &TestServer, admin: &AdminSession) -> String {
    screen
        .goto(&server.url("/screensaver?device_retry_ms=200"))
        .await;
    wait_for(screen, "the pairing code is shown", PAIRING_CODE_SHOWN).await;
    let code: String = screen
        .eval("return document.getElementById('pairing-overlay').dataset.code;")
        .await;
    let (status, claimed) = admin
        .send(
            server,
            "POST",
            "/api/v1/admin/devices/claim",
            Some(json!({ "code": code, "name": "Lobby" })),
        )
        .await;
    assert_eq!(status, 201, "claiming {code} failed: {claimed}");
    let device_id = claimed["device"]["id"].as_str().unwrap().to_owned();
    wait_for(
        screen,
        "the paired screen is live",
        "return document.body.dataset.device === 'live';",
    )
    .await;
    screen
        .eval::<bool>("window.notReloaded = true; return true;")
        .await;
    device_id
}

async fn read(browser: &Browser, script: &str) -> String {
    browser.eval(script).await
}

#[tokio::test]
async fn interval_change_previews_saves_and_reverts() {
    let server = TestServer::start(ServerOptions {
        base_path: None,
        media_posters: 4,
        env: Vec::new(),
    })
    .await;
    let admin = create_admin(&server).await;

    // Version 1: the defaults, so that the change below has a version to go back to.
    let (status, defaults) = admin
        .send(&server, "GET", "/api/v1/admin/settings", None)
        .await;
    assert_eq!(status, 200, "{defaults}");
    let (status, saved) = admin
        .send(
            &server,
            "PUT",
            "/api/v1/admin/settings",
            Some(defaults["settings"].clone()),
        )
        .await;
    assert_eq!(status, 200, "{saved}");
    let first_version = saved["version"].as_i64().unwrap();

    let Some(screen) = Browser::launch("admin_display_screen", 1280, 720).await else {
        return;
    };
    pair_screen(&screen, &server, &admin).await;
    // 10 s interval and 1.5 s transition, the defaults.
    wait_for(
        &screen,
        "the screen runs with the default interval",
        &pan_is("document", "11500ms"),
    )
    .await;

    let Some(browser) =
        signed_in_browser(&server, "admin_display", 1280, 800, "/admin/display").await
    else {
        return;
    };
    wait_for(
        &browser,
        "the settings form and the history are ready",
        "return document.body.dataset.display === 'ready' && document.body.dataset.history === 'ready';",
    )
    .await;
    wait_for(
        &browser,
        "the preview shows the saved settings",
        &format!(
            "const doc = {PREVIEW_DOCUMENT}; \
             return !!doc && doc.body.dataset.preview === 'ready' \
                 && Number(doc.body.dataset.previewCount || 0) >= 1;"
        ),
    )
    .await;
    let interval: String = read(
        &browser,
        &format!("return document.getElementById('{INTERVAL_FIELD}').value;"),
    )
    .await;
    assert_eq!(interval, "10");
    check_page(&browser, "display").await;

    // The wallart page takes the preview too.
    browser
        .eval::<bool>(
            "const mode = document.getElementById('preview-mode'); mode.value = 'wallart'; \
             mode.dispatchEvent(new Event('change')); return true;",
        )
        .await;
    wait_for(
        &browser,
        "the preview frame shows the wallart with the unsaved settings",
        &format!(
            "const doc = {PREVIEW_DOCUMENT}; \
             return !!doc && doc.location.pathname === '/wallart' \
                 && doc.body.dataset.preview === 'ready' \
                 && Number(doc.body.dataset.previewCount || 0) >= 1;"
        ),
    )
    .await;
    browser
        .eval::<bool>(
            "const mode = document.getElementById('preview-mode'); mode.value = 'screensaver'; \
             mode.dispatchEvent(new Event('change')); return true;",
        )
        .await;
    wait_for(
        &browser,
        "the preview frame shows the screensaver again",
        &format!(
            "const doc = {PREVIEW_DOCUMENT}; \
             return !!doc && doc.location.pathname === '/screensaver' \
                 && doc.body.dataset.preview === 'ready' \
                 && Number(doc.body.dataset.previewCount || 0) >= 1;"
        ),
    )
    .await;

    // A value out of range gets the server's message beside the field before any save.
    browser.eval::<bool>(&fill(INTERVAL_FIELD, "4000")).await;
    wait_for(
        &browser,
        "the interval field shows the server's range error",
        &format!(
            "const error = document.getElementById('{INTERVAL_FIELD}-error'); \
             return !error.hidden && error.textContent.indexOf('3600') !== -1 \
                 && document.getElementById('{INTERVAL_FIELD}').getAttribute('aria-invalid') === 'true';"
        ),
    )
    .await;

    // An unsaved change reaches the preview, and only the preview.
    browser.eval::<bool>(&fill(INTERVAL_FIELD, "37")).await;
    wait_for(
        &browser,
        "the preview runs with the unsaved 37 s interval",
        &pan_is(PREVIEW_DOCUMENT, "38500ms"),
    )
    .await;
    wait_for(
        &browser,
        "the range error is gone once the value is valid",
        &format!("return document.getElementById('{INTERVAL_FIELD}-error').hidden;"),
    )
    .await;
    // A sleep window is a row of its own, and an invalid time is marked on the list.
    browser
        .eval::<bool>(&click("[data-path=\"display.sleep\"] fieldset > button"))
        .await;
    browser
        .eval::<bool>(&fill("setting-display-sleep-0-from", "25:00"))
        .await;
    wait_for(
        &browser,
        "the sleep list shows the server's error for the invalid time",
        "const error = document.getElementById('setting-display-sleep-error'); \
         return !error.hidden && error.textContent.indexOf('[0].from') === 0 \
             && error.textContent.indexOf('HH:MM') !== -1;",
    )
    .await;
    browser
        .eval::<bool>(&click("[data-path=\"display.sleep\"] .entry button"))
        .await;
    wait_for(
        &browser,
        "the removed window takes its error along",
        "return document.querySelectorAll('[data-path=\"display.sleep\"] .entry').length === 0 \
             && document.getElementById('setting-display-sleep-error').hidden;",
    )
    .await;

    // The browser logs the rejected check as a failed request, and nothing else went wrong.
    let unexpected: Vec<String> = browser
        .console_messages()
        .await
        .into_iter()
        .filter(|message| message.starts_with("SEVERE") || message.contains("Content Security"))
        .filter(|message| !message.contains("/api/v1/admin/settings/preview - Failed to load resource: the server responded with a status of 400"))
        .collect();
    assert!(unexpected.is_empty(), "{unexpected:#?}");
    let screen_pan: String = read(&screen, &pan_length("document")).await;
    assert_eq!(screen_pan, "11500ms", "the screen took an unsaved change");

    // Saving pushes the change to the paired screen, which applies it without a reload.
    browser
        .eval::<bool>(&click("#settings-form button[type=\"submit\"]"))
        .await;
    wait_for(
        &browser,
        "the settings are saved",
        "return document.body.dataset.display === 'saved';",
    )
    .await;
    let status: String = read(
        &browser,
        "return document.getElementById('form-status').textContent;",
    )
    .await;
    assert!(
        status.contains("1 setting changed") && status.contains("sent to 1 screen"),
        "{status}"
    );
    wait_for(
        &screen,
        "the paired screen runs with the saved 37 s interval",
        &unreloaded_pan_is("document", "38500ms"),
    )
    .await;

    // The history lists the new version; its changes name the interval with both values.
    wait_for(
        &browser,
        "the history lists the saved version",
        &format!(
            "return document.body.dataset.history === 'ready' \
                 && document.querySelectorAll('#history-rows tr').length === 2 \
                 && document.querySelector('#history-rows tr').dataset.version === '{}';",
            first_version + 1
        ),
    )
    .await;
    browser
        .eval::<bool>(&click("#history-rows tr:first-child td.actions button"))
        .await;
    wait_for(
        &browser,
        "the changes of the new version are shown",
        "const detail = document.getElementById('history-detail'); \
         return !detail.hidden && document.querySelectorAll('#history-detail-rows tr').length === 1;",
    )
    .await;
    let change: Vec<String> = browser
        .eval(
            "return Array.from(document.querySelectorAll('#history-detail-rows tr:first-child > *'))\
                 .map(function (cell) { return cell.textContent; });",
        )
        .await;
    assert_eq!(change, ["screensaver.interval_seconds", "10", "37"]);
    check_page(&browser, "display-history").await;

    // Reverting to version 1 saves it as version 3 and brings the screen back to 10 s.
    browser
        .eval::<bool>(&click(&format!(
            "#history-rows tr[data-version=\"{first_version}\"] button[aria-label^=\"Revert\"]"
        )))
        .await;
    wait_for(
        &browser,
        "the revert is saved and listed",
        &format!(
            "return document.getElementById('form-status').textContent.indexOf('Reverted to version {first_version}') === 0 \
                 && document.body.dataset.history === 'ready' \
                 && document.querySelector('#history-rows tr').dataset.version === '{}';",
            first_version + 2
        ),
    )
    .await;
    let interval: String = read(
        &browser,
        &format!("return document.getElementById('{INTERVAL_FIELD}').value;"),
    )
    .await;
    assert_eq!(
        interval, "10",
        "the form does not show the restored settings"
    );
    wait_for(
        &screen,
        "the paired screen runs with the restored 10 s interval",
        &unreloaded_pan_is("document", "11500ms"),
    )
    .await;
    let (_, current) = admin
        .send(&server, "GET", "/api/v1/admin/settings", None)
        .await;
    assert_eq!(current["version"], first_version + 2);
    assert_eq!(current["settings"]["screensaver"]["interval_seconds"], 10);

    browser.close().await;
    screen.close().await;
}

#[tokio::test]
async fn profile_overrides_reach_an_assigned_screen() {
    let server = TestServer::start(ServerOptions {
        base_path: None,
        media_posters: 4,
        env: Vec::new(),
    })
    .await;
    let admin = create_admin(&server).await;
    let Some(screen) = Browser::launch("admin_profiles_screen", 1280, 720).await else {
        return;
    };
    let device_id = pair_screen(&screen, &server, &admin).await;
    wait_for(
        &screen,
        "the screen runs with the default interval",
        &pan_is("document", "11500ms"),
    )
    .await;

    let Some(browser) =
        signed_in_browser(&server, "admin_profiles", 390, 844, "/admin/profiles").await
    else {
        return;
    };
    wait_for(
        &browser,
        "the profiles page is ready",
        "return document.body.dataset.profiles === 'ready';",
    )
    .await;
    check_page(&browser, "profiles").await;

    // An empty name is rejected beside the field, before any request.
    browser
        .eval::<bool>(&click("#profile-create button[type=\"submit\"]"))
        .await;
    let error: String = read(
        &browser,
        "return document.getElementById('profile-name-error').textContent;",
    )
    .await;
    assert!(error.contains("Enter a name"), "{error}");

    browser
        .eval::<bool>(&fill("profile-name", "Lobby screens"))
        .await;
    browser
        .eval::<bool>(&click("#profile-create button[type=\"submit\"]"))
        .await;
    wait_for(
        &browser,
        "the new profile opens in the editor",
        "return (document.body.dataset.editing || '').indexOf('profile-') === 0 \
             && !document.getElementById('layer-editor').hidden;",
    )
    .await;
    let editing: String = read(&browser, "return document.body.dataset.editing;").await;
    let profile_id: i64 = editing.trim_start_matches("profile-").parse().unwrap();

    // Not overridden yet: the field shows the inherited 10 s and cannot be edited.
    let inherited: (String, bool) = browser
        .eval(
            "const field = document.getElementById('override-screensaver-interval-seconds'); \
             return [field.value, field.disabled];",
        )
        .await;
    assert_eq!(inherited, ("10".to_owned(), true));

    browser
        .eval::<bool>(&click("#override-screensaver-interval-seconds-override"))
        .await;
    browser
        .eval::<bool>(&fill("override-screensaver-interval-seconds", "25"))
        .await;
    let screen_box = format!("#screen-{device_id}");
    browser.eval::<bool>(&click(&screen_box)).await;
    browser
        .eval::<bool>(&click("#layer-form button[type=\"submit\"]"))
        .await;
    wait_for(
        &browser,
        "the profile is saved and the screen assigned",
        "return document.body.dataset.profiles === 'saved';",
    )
    .await;
    let status: String = read(
        &browser,
        "return document.getElementById('form-status').textContent;",
    )
    .await;
    assert!(
        status.contains("1 overridden setting") && status.contains("1 screen added"),
        "{status}"
    );
    check_page(&browser, "profiles-editor").await;

    let (_, profile) = admin
        .send(
            &server,
            "GET",
            &format!("/api/v1/admin/profiles/{profile_id}"),
            None,
        )
        .await;
    assert_eq!(
        profile["overrides"],
        json!({ "screensaver": { "interval_seconds": 25 } })
    );
    let (_, device) = admin
        .send(
            &server,
            "GET",
            &format!("/api/v1/admin/devices/{device_id}"),
            None,
        )
        .await;
    assert_eq!(device["device"]["profile_id"], profile_id, "{device}");
    wait_for(
        &screen,
        "the assigned screen runs with the profile's 25 s interval",
        &unreloaded_pan_is("document", "26500ms"),
    )
    .await;

    // Unchecking the override returns the setting to inherit, and the profile sends nothing.
    browser
        .eval::<bool>(&click("#override-screensaver-interval-seconds-override"))
        .await;
    browser
        .eval::<bool>(&click("#layer-form button[type=\"submit\"]"))
        .await;
    wait_for(
        &browser,
        "the profile is saved without overrides",
        "return document.body.dataset.profiles === 'saved' \
             && document.getElementById('form-status').textContent.indexOf('0 overridden settings') !== -1;",
    )
    .await;
    let (_, profile) = admin
        .send(
            &server,
            "GET",
            &format!("/api/v1/admin/profiles/{profile_id}"),
            None,
        )
        .await;
    assert_eq!(profile["overrides"], json!({}));
    wait_for(
        &screen,
        "the screen is back on the inherited 10 s interval",
        &pan_is("document", "11500ms"),
    )
    .await;

    // A preset fills the overrides with its own settings.
    browser
        .eval::<bool>(
            "const preset = document.getElementById('layer-preset'); preset.value = 'lobby'; \
             preset.dispatchEvent(new Event('change')); return true;",
        )
        .await;
    let header: (bool, String) = browser
        .eval(
            "return [document.getElementById('override-cinema-header-text-override').checked, \
                     document.getElementById('override-cinema-header-text').value];",
        )
        .await;
    assert_eq!(header, (true, "Now showing".to_owned()));

    browser.close().await;
    screen.close().await;
}
