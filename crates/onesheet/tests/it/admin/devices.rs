//! The screens table and the screen page against a real screensaver page in a second browser:
//! live status without a reload, commands from both pages, renaming, and the offline status
//! when the screen's browser closes.

use std::time::Duration;

use serde_json::json;

use super::{AdminSession, check_page, click, create_admin, fill, signed_in_browser, wait_for};
use crate::browser::Browser;
use crate::harness::{ServerOptions, TestServer};

/// Covers pairing, the first poster, and a command's round trip on a loaded machine.
const SCREEN_TIMEOUT: Duration = Duration::from_secs(60);

const PAIRING_CODE_SHOWN: &str = r#"
    const overlay = document.getElementById('pairing-overlay');
    return !!overlay && !overlay.hidden && !!overlay.dataset.code
        && document.body.dataset.pairing === 'shown';
"#;

const FIRST_POSTER_LOADED: &str = r#"
    const poster = document.querySelector('#stage img.poster.current');
    return !!document.body.dataset.currentItem && !!poster && poster.complete && poster.naturalWidth > 0;
"#;

/// Waits on the screen's browser, failing with its console on timeout.
async fn wait_for_screen(screen: &Browser, description: &str, condition: &str) {
    if let Err(error) = screen
        .wait_until(description, SCREEN_TIMEOUT, condition)
        .await
    {
        panic!(
            "{error}\n--- screen console ---\n{}",
            screen.console_messages().await.join("\n")
        );
    }
}

/// Opens the screensaver in `screen`, claims its code as `name` through the admin API, and
/// returns the device id once the page shows its first poster.
async fn pair_screen(
    screen: &Browser,
    server: &TestServer,
    admin: &AdminSession,
    name: &str,
) -> String {
    // A long interval, so only commands change the poster within the test's timeouts.
    screen
        .goto(&server.url("/screensaver?interval=300&device_retry_ms=200"))
        .await;
    wait_for_screen(screen, "the pairing code is shown", PAIRING_CODE_SHOWN).await;
    let code: String = screen
        .eval("return document.getElementById('pairing-overlay').dataset.code;")
        .await;
    let (status, claimed) = admin
        .send(
            server,
            "POST",
            "/api/v1/admin/devices/claim",
            Some(json!({ "code": code, "name": name })),
        )
        .await;
    assert_eq!(status, 201, "claiming {code} failed: {claimed}");
    let device_id = claimed["device"]["id"].as_str().unwrap().to_owned();
    wait_for_screen(screen, "the first poster is shown", FIRST_POSTER_LOADED).await;
    device_id
}

async fn current_item(screen: &Browser) -> String {
    screen
        .eval("return document.body.dataset.currentItem || '';")
        .await
}

/// Returns a script that is true once the screen shows an item other than `item`.
fn shows_other_than(item: &str) -> String {
    format!(
        "return !!document.body.dataset.currentItem && document.body.dataset.currentItem !== {};",
        serde_json::to_string(item).unwrap()
    )
}

#[tokio::test]
async fn screens_update_live_and_take_commands() {
    let server = TestServer::start(ServerOptions {
        base_path: None,
        media_posters: 4,
        env: Vec::new(),
    })
    .await;
    let admin = create_admin(&server).await;
    let Some(browser) =
        signed_in_browser(&server, "admin_screens", 1280, 800, "/admin/devices").await
    else {
        return;
    };
    wait_for(
        &browser,
        "the empty screens table is ready and live",
        "return document.body.dataset.screens === 'ready' && document.body.dataset.live === 'open';",
    )
    .await;
    check_page(&browser, "screens-empty").await;
    // A reload would drop this marker, so it proves that rows arrive through the feed.
    browser
        .eval::<bool>("window.screensMarker = 'kept'; return true;")
        .await;

    let Some(screen) = Browser::launch("admin_screens_display", 1280, 720).await else {
        return;
    };
    let device_id = pair_screen(&screen, &server, &admin, "Lobby").await;
    let row = format!("tr[data-device-id=\"{device_id}\"]");
    wait_for(
        &browser,
        "the paired screen appears online in the table",
        &format!(
            "const row = document.querySelector('{row}'); \
             return !!row && row.dataset.status === 'online';"
        ),
    )
    .await;
    let marker: String = browser.eval("return window.screensMarker || '';").await;
    assert_eq!(
        marker, "kept",
        "the table reloaded instead of updating live"
    );
    let name: String = browser
        .eval(&format!(
            "return document.querySelector('{row} td:nth-child(2)').textContent;"
        ))
        .await;
    assert_eq!(name, "Lobby");
    wait_for(
        &browser,
        "the row names the poster on screen",
        &format!(
            "const cell = document.querySelector('{row} td:nth-child(7)'); \
             return !!cell && cell.textContent !== '\u{2014}';"
        ),
    )
    .await;
    check_page(&browser, "screens").await;

    // Next, from the table's bulk actions.
    let first_item = current_item(&screen).await;
    browser
        .eval::<bool>(&click(&format!("{row} input.row-select")))
        .await;
    browser
        .eval::<bool>(&click("#bulk button[data-command=\"next\"]"))
        .await;
    wait_for_screen(
        &screen,
        "next from the table shows another poster",
        &shows_other_than(&first_item),
    )
    .await;
    wait_for(
        &browser,
        "the table counts the acknowledgement",
        "return document.body.dataset.acked === '1' \
         && document.getElementById('form-status').textContent.indexOf('1 acknowledged') >= 0;",
    )
    .await;
    check_page(&browser, "screens-bulk").await;

    // The screen page, on a phone.
    browser.set_viewport(390, 844).await;
    browser
        .eval::<bool>(&click(&format!("{row} td:nth-child(2) a")))
        .await;
    wait_for(
        &browser,
        "the screen page is ready and live",
        &format!(
            "return window.location.pathname === '/admin/devices/{device_id}' \
             && document.body.dataset.screen === 'ready' && document.body.dataset.live === 'open' \
             && document.getElementById('fact-status').dataset.status === 'online';"
        ),
    )
    .await;
    wait_for(
        &browser,
        "the poster thumbnail loads",
        "const img = document.getElementById('poster'); \
         return !img.hidden && img.complete && img.naturalWidth > 0;",
    )
    .await;
    check_page(&browser, "screen").await;

    // Next, from the screen page, with its history.
    let second_item = current_item(&screen).await;
    browser
        .eval::<bool>(&click("#command-buttons button[data-command=\"next\"]"))
        .await;
    wait_for_screen(
        &screen,
        "next from the screen page shows another poster",
        &shows_other_than(&second_item),
    )
    .await;
    wait_for(
        &browser,
        "the page shows the acknowledgement",
        "const newest = document.querySelector('#command-history tbody tr'); \
         return !!newest && newest.dataset.state === 'acked' \
         && document.getElementById('command-status').textContent.indexOf('acknowledged') >= 0;",
    )
    .await;
    let third_item = current_item(&screen).await;
    wait_for(
        &browser,
        "the page names the new poster",
        &format!(
            "return document.getElementById('poster-title').dataset.itemId === {};",
            serde_json::to_string(&third_item).unwrap()
        ),
    )
    .await;

    // Rename.
    browser.eval::<bool>(&fill("name", "Lobby left")).await;
    browser
        .eval::<bool>(&click("#screen-form button[type=\"submit\"]"))
        .await;
    wait_for(
        &browser,
        "the new name is saved",
        "return document.getElementById('form-status').textContent.indexOf('Saved') === 0 \
         && document.querySelector('main h1').textContent === 'Lobby left';",
    )
    .await;
    let (status, detail) = admin
        .send(
            &server,
            "GET",
            &format!("/api/v1/admin/devices/{device_id}"),
            None,
        )
        .await;
    assert_eq!(status, 200, "{detail}");
    assert_eq!(detail["device"]["name"], "Lobby left");
    check_page(&browser, "screen-saved").await;

    // Closing the screen's browser turns it offline on the page without a reload.
    browser
        .eval::<bool>("window.screenMarker = 'kept'; return true;")
        .await;
    screen.close().await;
    wait_for(
        &browser,
        "the screen turns offline",
        "return document.getElementById('fact-status').dataset.status === 'offline';",
    )
    .await;
    let marker: String = browser.eval("return window.screenMarker || '';").await;
    assert_eq!(marker, "kept", "the page reloaded instead of updating live");
    browser.close().await;
}

#[tokio::test]
async fn screens_bulk_assign_merge_and_revoke() {
    let server = TestServer::start(ServerOptions {
        base_path: None,
        media_posters: 4,
        env: Vec::new(),
    })
    .await;
    let admin = create_admin(&server).await;
    let (status, group) = admin
        .send(
            &server,
            "POST",
            "/api/v1/admin/groups",
            Some(json!({ "name": "Bar" })),
        )
        .await;
    assert_eq!(status, 201, "{group}");
    let group_id = group["id"].as_i64().unwrap();

    let Some(screen) = Browser::launch("admin_screens_merge_display", 1280, 720).await else {
        return;
    };
    let old_id = pair_screen(&screen, &server, &admin, "Old record").await;
    // The screen loses its storage and pairs again, as a reset TV would.
    screen
        .eval::<bool>("localStorage.clear(); return true;")
        .await;
    let new_id = pair_screen(&screen, &server, &admin, "New record").await;
    assert_ne!(old_id, new_id);

    let Some(browser) =
        signed_in_browser(&server, "admin_screens_phone", 390, 844, "/admin/devices").await
    else {
        return;
    };
    wait_for(
        &browser,
        "both records are listed",
        &format!(
            "return document.body.dataset.screens === 'ready' \
             && !!document.querySelector('tr[data-device-id=\"{old_id}\"]') \
             && !!document.querySelector('tr[data-device-id=\"{new_id}\"][data-status=\"online\"]');"
        ),
    )
    .await;
    wait_for(
        &browser,
        "the groups are loaded",
        &format!("return !!document.querySelector('#bulk-group option[value=\"{group_id}\"]');"),
    )
    .await;
    check_page(&browser, "screens-phone").await;

    // Assign both records to the group.
    browser.eval::<bool>(&click("#select-all")).await;
    browser
        .eval::<bool>(&fill("bulk-group", &group_id.to_string()))
        .await;
    browser.eval::<bool>(&click("#bulk-assign-group")).await;
    wait_for(
        &browser,
        "both screens are in the group",
        "return document.getElementById('form-status').textContent \
             === 'Assigning: done for 2 of 2 screens.' \
         && Array.from(document.querySelectorAll('#screens tbody tr td:nth-child(9)')) \
             .every(function (cell) { return cell.textContent === 'Bar'; });",
    )
    .await;
    let (_, detail) = admin
        .send(
            &server,
            "GET",
            &format!("/api/v1/admin/devices/{old_id}"),
            None,
        )
        .await;
    assert_eq!(detail["device"]["group_id"], group_id);

    // Merge the old record into the new one from the new one's page.
    browser
        .goto(&server.url(&format!("/admin/devices/{new_id}")))
        .await;
    wait_for(
        &browser,
        "the screen page is ready with the merge choices",
        &format!(
            "return document.body.dataset.screen === 'ready' \
             && !!document.querySelector('#merge-retired option[value=\"{old_id}\"]');"
        ),
    )
    .await;
    browser.eval::<bool>(&fill("merge-retired", &old_id)).await;
    browser
        .eval::<bool>(&click("#merge-form button[type=\"submit\"]"))
        .await;
    wait_for(
        &browser,
        "the merge asks for confirmation",
        "return document.getElementById('confirm').open;",
    )
    .await;
    check_page(&browser, "screen-merge-confirm").await;
    browser.eval::<bool>(&click("#confirm-yes")).await;
    wait_for(
        &browser,
        "the merge is done",
        "return document.getElementById('form-status').textContent.indexOf('is merged') >= 0;",
    )
    .await;
    let (_, retired) = admin
        .send(
            &server,
            "GET",
            &format!("/api/v1/admin/devices/{old_id}"),
            None,
        )
        .await;
    assert_eq!(retired["device"]["merged_into"], new_id.as_str());

    // Revoke the new record from the table, after the confirmation.
    browser.goto(&server.url("/admin/devices")).await;
    let new_row = format!("tr[data-device-id=\"{new_id}\"]");
    wait_for(
        &browser,
        "the table leaves the merged record out",
        &format!(
            "return document.body.dataset.screens === 'ready' \
             && !!document.querySelector('{new_row}') \
             && !document.querySelector('tr[data-device-id=\"{old_id}\"]');"
        ),
    )
    .await;
    browser
        .eval::<bool>(&click(&format!("{new_row} input.row-select")))
        .await;
    browser.eval::<bool>(&click("#bulk-revoke")).await;
    wait_for(
        &browser,
        "the revoke asks for confirmation",
        "return document.getElementById('confirm').open;",
    )
    .await;
    browser.eval::<bool>(&click("#confirm-yes")).await;
    wait_for(
        &browser,
        "the revoked screen is marked live",
        &format!(
            "return document.getElementById('form-status').textContent \
                 === 'Revoking: done for 1 of 1 screens.' \
             && document.querySelector('{new_row}').dataset.status === 'revoked';"
        ),
    )
    .await;
    wait_for_screen(
        &screen,
        "the revoked screen shows a pairing code again",
        PAIRING_CODE_SHOWN,
    )
    .await;
    check_page(&browser, "screens-revoked").await;
    screen.close().await;
    browser.close().await;
}
