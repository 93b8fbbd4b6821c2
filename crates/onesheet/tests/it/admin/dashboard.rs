//! The dashboard against a media server that rejects its key: the failing source shows its
//! error, the warnings name the missing second factor, and the figures refresh without a
//! reload.

use std::time::{Duration, Instant};

use onesheet_fakes::{FakeJellyfin, JellyfinConfig, Library, LibraryKind};
use serde_json::{Value, json};

use super::{AdminSession, check_page, create_admin, signed_in_browser, wait_for};
use crate::harness::{ServerOptions, TestServer};

const TEST: &str = "admin_dashboard_failing_source";

/// Waits until the status API reports source `id` as failing, and returns that source.
async fn wait_until_failing(admin: &AdminSession, server: &TestServer, id: &str) -> Value {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let (status, body) = admin
            .send(server, "GET", "/api/v1/admin/status", None)
            .await;
        assert_eq!(status, 200, "{body}");
        let found = body["sources"]
            .as_array()
            .and_then(|sources| sources.iter().find(|source| source["id"] == id).cloned());
        if let Some(source) = found.filter(|source| source["condition"] == "failing") {
            return source;
        }
        assert!(
            Instant::now() < deadline,
            "source {id} did not fail within 30 s: {body}\n{}",
            server.log_tail()
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

#[tokio::test]
async fn dashboard_shows_failing_source() {
    let fake = FakeJellyfin::start(JellyfinConfig {
        api_key: "THE_RIGHT_KEY".to_owned(),
        libraries: vec![Library::generate(LibraryKind::Movies, 4, 7)],
        ..JellyfinConfig::default()
    })
    .await
    .expect("start the fake Jellyfin");
    let server = TestServer::start(ServerOptions {
        media_posters: 3,
        ..ServerOptions::default()
    })
    .await;
    let admin = create_admin(&server).await;
    let (status, body) = admin
        .send(
            &server,
            "POST",
            "/api/v1/admin/sources",
            Some(json!({
                "kind": "jellyfin",
                "name": "Basement",
                "credential": "A_WRONG_KEY",
                "settings": { "host": fake.base_url() },
            })),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    let failing = wait_until_failing(&admin, &server, "basement").await;
    let error = failing["last_error"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    assert!(!error.is_empty(), "{failing}");

    let Some(browser) = signed_in_browser(&server, TEST, 1280, 800, "/admin").await else {
        return;
    };

    // The server-rendered page already shows the failure and the warning.
    let row_check = format!(
        "const row = document.querySelector('#source-rows tr[data-source=\"basement\"]'); \
         return !!row && !!row.querySelector('.badge.failing') \
           && row.textContent.indexOf({}) >= 0;",
        serde_json::to_string(&error).unwrap()
    );
    let shown: bool = browser.eval(&row_check).await;
    assert!(shown, "the failing source and its error are on the page");
    let warning: bool = browser
        .eval(
            "return !document.getElementById('warnings').hidden \
             && !!document.querySelector('#warning-list li[data-code=\"no-second-factor\"] a');",
        )
        .await;
    assert!(warning, "the missing second factor is flagged with a link");
    let local_items: String = browser
        .eval("return document.querySelector('[data-field=\"items\"]').textContent;")
        .await;
    assert_eq!(local_items, "3");
    check_page(&browser, "dashboard").await;

    // The module refreshes the figures from the status API and renders the same facts.
    wait_for(
        &browser,
        "the first refresh of the figures",
        "return document.body.dataset.refreshes === '1';",
    )
    .await;
    let refreshed: bool = browser.eval(&row_check).await;
    assert!(refreshed, "the refreshed page still shows the failure");
    let error_hidden: bool = browser
        .eval("return document.getElementById('dashboard-error').hidden;")
        .await;
    assert!(error_hidden, "the refresh succeeded");
    let events: i64 = browser
        .eval("return document.querySelectorAll('#audit-list li').length;")
        .await;
    assert!(events >= 2, "setup and the source creation are listed");
    check_page(&browser, "dashboard-refreshed").await;
    browser.close().await;
}
