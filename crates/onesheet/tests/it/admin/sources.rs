//! The sources page against a fake Jellyfin. The test adds the server through the form and
//! tests it, then saves an unrelated change without retyping the key. It distinguishes a
//! rejected key from a working one and refreshes with progress until the items are counted.
//! Then it picks a library and excludes a genre from the server's lists, reports the server
//! unreachable once it stops, and deletes the source.

use onesheet_fakes::{FakeJellyfin, JellyfinConfig, Library, LibraryKind};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use super::{AdminSession, check_page, click, create_admin, fill, signed_in_browser, wait_for};
use crate::browser::Browser;
use crate::harness::{ServerOptions, TestServer};

const TEST: &str = "admin_sources_jellyfin";
const API_KEY: &str = "JELLYFIN_KEY_SOURCES";
const FILMS: u64 = 12;

async fn text_of(browser: &Browser, id: &str) -> String {
    browser
        .eval(&format!(
            "return document.getElementById({}).textContent;",
            serde_json::to_string(id).unwrap()
        ))
        .await
}

/// Clicks the button labelled `label` in the list's row of source `id`.
fn click_row_button(id: &str, label: &str) -> String {
    format!(
        "const row = document.querySelector('#sources-rows tr[data-id=\"{id}\"]'); \
         Array.from(row.querySelectorAll('button')) \
           .find(function (button) {{ return button.textContent === '{label}'; }}).click(); \
         return true;"
    )
}

async fn source(admin: &AdminSession, server: &TestServer, id: &str) -> Value {
    let (status, body) = admin
        .send(server, "GET", &format!("/api/v1/admin/sources/{id}"), None)
        .await;
    assert_eq!(status, 200, "{body}");
    body
}

async fn catalog_size(server: &TestServer) -> usize {
    let playlist: Value = server
        .get("/api/v1/playlist?limit=500")
        .await
        .json()
        .await
        .expect("read the playlist");
    playlist["items"].as_array().map_or(0, Vec::len)
}

#[tokio::test]
async fn jellyfin_source_added_through_page() {
    let fake = FakeJellyfin::start(JellyfinConfig {
        api_key: API_KEY.to_owned(),
        libraries: vec![Library::generate(LibraryKind::Movies, FILMS, 41).named("Films")],
        poster_size: (200, 300),
        ..JellyfinConfig::default()
    })
    .await
    .expect("start the fake Jellyfin");
    let server = TestServer::start(ServerOptions {
        media_posters: 2,
        ..ServerOptions::default()
    })
    .await;
    let admin = create_admin(&server).await;
    let before = catalog_size(&server).await;

    let Some(browser) = signed_in_browser(&server, TEST, 1280, 800, "/admin/sources").await else {
        return;
    };
    wait_for(
        &browser,
        "the list is loaded",
        "return document.body.dataset.sources === 'ready';",
    )
    .await;
    let empty: bool = browser
        .eval("return !document.getElementById('sources-empty').hidden;")
        .await;
    assert!(empty, "a fresh server lists no media server");
    check_page(&browser, "sources-empty").await;

    // Add the server. Saving a new source tests it at once.
    browser.eval::<bool>(&click("#add-source")).await;
    browser.eval::<bool>(&fill("kind", "jellyfin")).await;
    browser.eval::<bool>(&fill("name", "Living room")).await;
    browser.eval::<bool>(&fill("host", fake.base_url())).await;
    browser.eval::<bool>(&fill("credential", API_KEY)).await;
    check_page(&browser, "sources-add").await;
    browser
        .eval::<bool>(&click("#source-form button[type=\"submit\"]"))
        .await;
    wait_for(
        &browser,
        "the new source passes its test",
        "return document.body.dataset.test === 'ok';",
    )
    .await;
    wait_for(
        &browser,
        "the editor lists the server's libraries",
        "return document.querySelectorAll('#library-choices input').length === 1;",
    )
    .await;
    let credential: String = browser
        .eval("return document.getElementById('credential').value;")
        .await;
    assert_eq!(credential, "", "the key never comes back to the page");
    let state = text_of(&browser, "credential-state").await;
    assert!(state.contains("is stored"), "{state}");
    check_page(&browser, "sources-edit").await;

    // An unrelated change saved with the key field empty keeps the stored key.
    browser.eval::<bool>(&fill("name", "Den")).await;
    browser.eval::<bool>(&fill("refresh-minutes", "45")).await;
    browser
        .eval::<bool>(&click("#source-form button[type=\"submit\"]"))
        .await;
    wait_for(
        &browser,
        "the change is saved",
        "return document.getElementById('form-status').textContent === 'Saved Den.';",
    )
    .await;
    let saved = source(&admin, &server, "living-room").await;
    assert_eq!(saved["name"], "Den");
    assert_eq!(saved["settings"]["refresh_minutes"], 45);
    assert_eq!(saved["credential_set"], true);
    browser.eval::<bool>(&click("#test-source")).await;
    wait_for(
        &browser,
        "the test passes with the kept key",
        "return document.body.dataset.test === 'ok' \
         && document.getElementById('form-status').textContent === 'Connection test passed.';",
    )
    .await;

    // The server stops accepting the key, and the test reports the key as rejected.
    fake.control().set_token("ANOTHER_KEY");
    browser
        .eval::<bool>("document.body.dataset.test = ''; return true;")
        .await;
    browser.eval::<bool>(&click("#test-source")).await;
    wait_for(
        &browser,
        "the test reports the rejected key",
        "return document.body.dataset.test === 'source-auth-rejected';",
    )
    .await;
    let rejected = text_of(&browser, "test-result-text").await;
    assert!(rejected.contains("rejected the API key"), "{rejected}");
    check_page(&browser, "sources-rejected").await;
    fake.control().set_token(API_KEY);

    // Refresh now from the list, with progress until the items are counted.
    browser.eval::<bool>(&click("#cancel-edit")).await;
    browser
        .eval::<bool>(&click_row_button("living-room", "Refresh now"))
        .await;
    wait_for(
        &browser,
        "the refresh finishes",
        "return document.body.dataset.refresh === 'done';",
    )
    .await;
    let items: String = browser
        .eval(
            "return document.querySelector('#sources-rows tr[data-id=\"living-room\"] .source-items') \
               .textContent;",
        )
        .await;
    let items: usize = items.parse().expect("the items cell holds a count");
    // Films without any artwork stay out of the catalog.
    assert!(items > 0, "no film was counted");
    assert!(items <= FILMS as usize, "{items} items from {FILMS} films");
    let status = text_of(&browser, "form-status").await;
    assert_eq!(status, format!("Refreshed Den: {items} items."));
    check_page(&browser, "sources-list").await;

    // On a phone the rows stack into labelled lines.
    browser.set_viewport(390, 844).await;
    let stacked: bool = browser
        .eval("return getComputedStyle(document.querySelector('#sources-rows td')).display === 'block';")
        .await;
    assert!(stacked, "the table keeps its columns on a phone");
    check_page(&browser, "sources-phone").await;
    browser.set_viewport(1280, 800).await;
    assert_eq!(
        catalog_size(&server).await,
        before + items,
        "the films joined the catalog"
    );

    // The pickers come from the server: exclude one genre of the films and pick the library.
    browser
        .eval::<bool>(&click_row_button("living-room", "Edit"))
        .await;
    wait_for(
        &browser,
        "the genres and the libraries are loaded",
        "return document.querySelectorAll('#genres-exclude option').length > 0 \
         && document.querySelectorAll('#library-choices input').length === 1;",
    )
    .await;
    let genre: String = browser
        .eval(
            "const option = document.querySelector('#genres-exclude option'); \
             option.selected = true; return option.value;",
        )
        .await;
    let library: String = browser
        .eval(
            "const box = document.querySelector('#library-choices input'); \
             box.click(); return box.value;",
        )
        .await;
    check_page(&browser, "sources-pickers").await;
    browser
        .eval::<bool>(&click("#source-form button[type=\"submit\"]"))
        .await;
    wait_for(
        &browser,
        "the filter is saved",
        "return document.getElementById('form-status').textContent === 'Saved Den.';",
    )
    .await;
    let filtered = source(&admin, &server, "living-room").await;
    assert_eq!(
        filtered["settings"]["filter"]["genres_exclude"],
        json!([genre])
    );
    assert_eq!(filtered["settings"]["libraries"], json!([library]));
    assert_eq!(filtered["credential_set"], true);

    // Saving restarts the source, whose next refresh leaves out the films of that genre.
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let status = source(&admin, &server, "living-room").await["status"].clone();
        let count = status["items"].as_u64().unwrap_or(0) as usize;
        if status["state"] == "ok" && count > 0 && count < items {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the genre filter never reduced the {items} items: {status}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    // With the server gone, the test reports an outage rather than a bad key, and the key stays.
    fake.shutdown().await;
    browser
        .eval::<bool>("document.body.dataset.test = ''; return true;")
        .await;
    browser.eval::<bool>(&click("#test-source")).await;
    wait_for(
        &browser,
        "the test reports the unreachable server",
        "return document.body.dataset.test === 'source-unreachable';",
    )
    .await;
    let outage = text_of(&browser, "test-result-text").await;
    assert!(outage.contains("could not be reached"), "{outage}");
    assert!(outage.contains("credential is kept"), "{outage}");
    let kept = source(&admin, &server, "living-room").await;
    assert_eq!(kept["credential_set"], true);

    // Delete after confirming.
    browser
        .eval::<bool>(&click_row_button("living-room", "Delete"))
        .await;
    wait_for(
        &browser,
        "the confirmation opens",
        "return document.getElementById('delete-dialog').open;",
    )
    .await;
    check_page(&browser, "sources-delete").await;
    browser.eval::<bool>(&click("#delete-confirm")).await;
    wait_for(
        &browser,
        "the list is empty again",
        "return !document.getElementById('sources-empty').hidden \
         && document.getElementById('form-status').textContent === 'Deleted Den.';",
    )
    .await;
    let (status, _) = admin
        .send(&server, "GET", "/api/v1/admin/sources/living-room", None)
        .await;
    assert_eq!(status, 404);
    assert_eq!(catalog_size(&server).await, before);
    browser.close().await;
}
