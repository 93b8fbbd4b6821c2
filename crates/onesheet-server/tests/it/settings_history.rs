//! The settings history: versions with what each changed, the comparison of two versions, and
//! the revert that saves an old version as the newest. Also the check of unsaved settings, and
//! the headers that let only the settings editor frame a display page.

use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use axum::http::Request;
use onesheet_domain::DisplaySettings;
use onesheet_domain::ServerMessage;
use onesheet_server::accounts::{Accounts, SessionPolicy};
use onesheet_server::auth::AdminToken;
use onesheet_store::SecretKey;
use serde_json::{Value, json};

use crate::devices::DeviceApp;
use crate::support::{TestApp, TestResponse};

const TOKEN: &str = "settings-history-admin-token-0123";

/// Builds an app with admin accounts, so that changes leave audit events, and the bootstrap
/// token. The returned folder of the accounts must live as long as the app.
async fn history_app() -> (TestApp, tempfile::TempDir) {
    let data = tempfile::tempdir().unwrap();
    let app = TestApp::with_posters(1).await;
    let accounts = Accounts::new(
        app.state.store.clone(),
        SecretKey::from_bytes(&[5; 32]),
        data.path(),
        SessionPolicy::default(),
    );
    let app = app.with_state(|state| {
        state
            .with_accounts(Arc::new(accounts))
            .with_admin_token(AdminToken::new(TOKEN))
    });
    (app, data)
}

async fn send(app: &TestApp, method: &str, uri: &str, body: Option<Value>) -> TestResponse {
    let mut request = Request::builder()
        .method(method)
        .uri(uri)
        .header("authorization", format!("Bearer {TOKEN}"));
    let body = match body {
        Some(json) => {
            request = request.header("content-type", "application/json");
            Body::from(json.to_string())
        }
        None => Body::empty(),
    };
    app.send(request.body(body).unwrap()).await
}

fn text(response: &TestResponse) -> String {
    String::from_utf8_lossy(&response.body).into_owned()
}

/// Saves the defaults with `change` applied and returns the new version.
async fn save(app: &TestApp, change: impl FnOnce(&mut Value)) -> i64 {
    let mut settings = serde_json::to_value(DisplaySettings::default()).unwrap();
    change(&mut settings);
    let saved = send(app, "PUT", "/api/v1/admin/settings", Some(settings)).await;
    assert_eq!(saved.status, 200, "{}", text(&saved));
    saved.json()["version"].as_i64().unwrap()
}

/// Saves two versions: the interval at 20 seconds, then also the wallart density at 7.
async fn two_versions(app: &TestApp) -> (i64, i64) {
    let first = save(app, |settings| {
        settings["screensaver"]["interval_seconds"] = json!(20);
    })
    .await;
    let second = save(app, |settings| {
        settings["screensaver"]["interval_seconds"] = json!(20);
        settings["wallart"]["density"] = json!(7);
    })
    .await;
    (first, second)
}

#[tokio::test]
async fn history_lists_versions_with_changes() {
    let (app, _data) = history_app().await;
    let (first, second) = two_versions(&app).await;

    let listed = send(&app, "GET", "/api/v1/admin/settings/history", None).await;
    assert_eq!(listed.status, 200, "{}", text(&listed));
    let body = listed.json();
    let versions = body["versions"].as_array().unwrap();
    assert_eq!(versions.len(), 2, "{body}");
    assert_eq!(versions[0]["version"], second);
    assert_eq!(versions[0]["changed"], json!(["wallart.density"]));
    assert_eq!(versions[0]["created_by"], "admin-token");
    assert!(versions[0]["created_at"].as_i64().unwrap() > 0);
    // The first version is compared with the built-in defaults.
    assert_eq!(versions[1]["version"], first);
    assert_eq!(
        versions[1]["changed"],
        json!(["screensaver.interval_seconds"])
    );
    assert_eq!(body["next_before"], Value::Null);
}

#[tokio::test]
async fn history_pages_with_before() {
    let (app, _data) = history_app().await;
    let (first, second) = two_versions(&app).await;

    let page = send(&app, "GET", "/api/v1/admin/settings/history?limit=1", None).await;
    let body = page.json();
    assert_eq!(body["versions"][0]["version"], second);
    // The page's last version is compared with the one outside the page.
    assert_eq!(body["versions"][0]["changed"], json!(["wallart.density"]));
    assert_eq!(body["next_before"], second);

    let older = send(
        &app,
        "GET",
        &format!("/api/v1/admin/settings/history?limit=1&before={second}"),
        None,
    )
    .await;
    let body = older.json();
    assert_eq!(body["versions"][0]["version"], first);
    assert_eq!(body["next_before"], Value::Null);
}

#[tokio::test]
async fn version_detail_lists_old_and_new_values() {
    let (app, _data) = history_app().await;
    let (first, second) = two_versions(&app).await;

    let detail = send(
        &app,
        "GET",
        &format!("/api/v1/admin/settings/history/{second}"),
        None,
    )
    .await;
    assert_eq!(detail.status, 200, "{}", text(&detail));
    let body = detail.json();
    assert_eq!(body["compare"], "previous");
    assert_eq!(body["compared_version"], first);
    assert_eq!(
        body["changes"],
        json!([{ "key": "wallart.density", "old": 5, "new": 7 }])
    );
    assert_eq!(body["settings"]["wallart"]["density"], 7);
    assert_eq!(body["revertible"], true);

    // Against the current settings, the changes are what a revert would do.
    let against_current = send(
        &app,
        "GET",
        &format!("/api/v1/admin/settings/history/{first}?compare=current"),
        None,
    )
    .await;
    let body = against_current.json();
    assert_eq!(body["compared_version"], second);
    assert_eq!(
        body["changes"],
        json!([{ "key": "wallart.density", "old": 7, "new": 5 }])
    );

    let oldest = send(
        &app,
        "GET",
        &format!("/api/v1/admin/settings/history/{first}"),
        None,
    )
    .await;
    assert_eq!(oldest.json()["compared_version"], 0);
}

#[tokio::test]
async fn revert_saves_a_new_version_and_audits() {
    let (app, _data) = history_app().await;
    let (first, second) = two_versions(&app).await;

    let reverted = send(
        &app,
        "POST",
        &format!("/api/v1/admin/settings/history/{first}/revert"),
        None,
    )
    .await;
    assert_eq!(reverted.status, 200, "{}", text(&reverted));
    let body = reverted.json();
    assert_eq!(body["version"], second + 1);
    assert_eq!(body["reverted_to"], first);
    assert_eq!(body["changed"], json!(["wallart.density"]));
    assert_eq!(body["screens_updated"], 0);
    assert_eq!(body["settings"]["wallart"]["density"], 5);

    let current = send(&app, "GET", "/api/v1/admin/settings", None).await;
    assert_eq!(current.json()["version"], second + 1);
    assert_eq!(current.json()["settings"]["wallart"]["density"], 5);
    assert_eq!(
        app.state
            .settings
            .load()
            .settings
            .screensaver
            .interval_seconds,
        20
    );

    let audit = send(
        &app,
        "GET",
        "/api/v1/admin/audit?action=settings.reverted",
        None,
    )
    .await;
    assert_eq!(audit.status, 200, "{}", text(&audit));
    let events = audit.json()["events"].as_array().unwrap().clone();
    assert_eq!(events.len(), 1, "{events:?}");
    assert_eq!(events[0]["actor"], "admin-token");
    assert_eq!(events[0]["detail"]["reverted_to"], first);
    assert_eq!(events[0]["detail"]["version"], second + 1);
    assert_eq!(events[0]["detail"]["changed"], json!(["wallart.density"]));
}

#[tokio::test]
async fn revert_reaches_live_screens() {
    let app = DeviceApp::start().await;
    let mut settings = serde_json::to_value(DisplaySettings::default()).unwrap();
    settings["screensaver"]["interval_seconds"] = json!(40);
    let first = app
        .admin("PUT", "/api/v1/admin/settings", Some(settings.clone()))
        .await;
    assert_eq!(first.status, 200);
    settings["screensaver"]["interval_seconds"] = json!(50);
    let second = app
        .admin("PUT", "/api/v1/admin/settings", Some(settings))
        .await;
    assert_eq!(second.status, 200);
    let (_, _, mut screen) = app.pair("Lobby").await;

    let version = first.json()["version"].as_i64().unwrap();
    let reverted = app
        .admin(
            "POST",
            &format!("/api/v1/admin/settings/history/{version}/revert"),
            None,
        )
        .await;
    assert_eq!(reverted.status, 200, "{}", text(&reverted));
    assert_eq!(reverted.json()["screens_updated"], 1);
    let pushed = tokio::time::timeout(Duration::from_secs(1), screen.next())
        .await
        .expect("no settings within 1 s");
    let ServerMessage::Settings { settings } = pushed else {
        panic!("expected settings, got {pushed:?}");
    };
    assert_eq!(settings.screensaver.interval_seconds, 40);
}

#[tokio::test]
async fn history_rejects_bad_values() {
    let (app, _data) = history_app().await;
    let (first, _) = two_versions(&app).await;

    for (uri, field) in [
        ("/api/v1/admin/settings/history?limit=0", "limit"),
        ("/api/v1/admin/settings/history?limit=101", "limit"),
        ("/api/v1/admin/settings/history?limit=many", "query"),
        ("/api/v1/admin/settings/history?limt=5", "query"),
        ("/api/v1/admin/settings/history/three", "version"),
        ("/api/v1/admin/settings/history/0", "version"),
    ] {
        let response = send(&app, "GET", uri, None).await;
        assert_eq!(response.status, 400, "{uri}: {}", text(&response));
        assert_eq!(response.json()["error"]["field"], field, "{uri}");
    }

    let sideways = send(
        &app,
        "GET",
        &format!("/api/v1/admin/settings/history/{first}?compare=sideways"),
        None,
    )
    .await;
    assert_eq!(sideways.status, 400, "{}", text(&sideways));
    assert!(
        sideways.json()["error"]["message"]
            .as_str()
            .unwrap()
            .contains("compare=previous"),
        "{}",
        text(&sideways)
    );

    let missing = send(&app, "GET", "/api/v1/admin/settings/history/999", None).await;
    assert_eq!(missing.status, 404, "{}", text(&missing));
    let revert_missing = send(
        &app,
        "POST",
        "/api/v1/admin/settings/history/999/revert",
        None,
    )
    .await;
    assert_eq!(revert_missing.status, 404, "{}", text(&revert_missing));
}

#[tokio::test]
async fn history_needs_admin_access() {
    let (app, _data) = history_app().await;
    for (method, uri) in [
        ("GET", "/api/v1/admin/settings/history"),
        ("GET", "/api/v1/admin/settings/history/1"),
        ("POST", "/api/v1/admin/settings/history/1/revert"),
        ("POST", "/api/v1/admin/settings/preview"),
    ] {
        let request = Request::builder()
            .method(method)
            .uri(uri)
            .header("content-type", "application/json")
            .body(Body::from("{}"))
            .unwrap();
        let response = app.send(request).await;
        assert_eq!(response.status, 401, "{method} {uri}");
    }
}

#[tokio::test]
async fn preview_checks_without_saving() {
    let (app, _data) = history_app().await;
    let mut settings = serde_json::to_value(DisplaySettings::default()).unwrap();
    settings["screensaver"]["interval_seconds"] = json!(4000);

    let rejected = send(
        &app,
        "POST",
        "/api/v1/admin/settings/preview",
        Some(settings.clone()),
    )
    .await;
    assert_eq!(rejected.status, 400, "{}", text(&rejected));
    let fields: Vec<String> = rejected.json()["error"]["fields"]
        .as_array()
        .unwrap()
        .iter()
        .map(|field| field["field"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(fields, ["screensaver.interval_seconds"]);

    settings["screensaver"]["interval_seconds"] = json!(12);
    let accepted = send(
        &app,
        "POST",
        "/api/v1/admin/settings/preview",
        Some(settings),
    )
    .await;
    assert_eq!(accepted.status, 200, "{}", text(&accepted));
    assert_eq!(
        accepted.json()["settings"]["screensaver"]["interval_seconds"],
        12
    );

    let history = send(&app, "GET", "/api/v1/admin/settings/history", None).await;
    assert_eq!(
        history.json()["versions"],
        json!([]),
        "a preview saved a version"
    );
    assert_eq!(
        app.state
            .settings
            .load()
            .settings
            .screensaver
            .interval_seconds,
        10
    );
}

#[tokio::test]
async fn preview_pages_allow_same_origin_framing() {
    let (app, _data) = history_app().await;

    for page in ["/screensaver", "/wallart", "/cinema"] {
        let plain = app.get(page).await;
        assert_eq!(plain.status, 200, "{page}");
        assert!(
            plain
                .header("content-security-policy")
                .contains("frame-ancestors 'none'"),
            "{page}"
        );
        assert_eq!(plain.header("x-frame-options"), "DENY", "{page}");

        let preview = app.get(&format!("{page}?preview=1")).await;
        assert_eq!(preview.status, 200, "{page}");
        let policy = preview.header("content-security-policy");
        assert!(
            policy.contains("frame-ancestors 'self'"),
            "{page}: {policy}"
        );
        assert!(policy.contains("script-src 'self'"), "{page}: {policy}");
        assert_eq!(preview.header("x-frame-options"), "SAMEORIGIN", "{page}");

        let other_value = app.get(&format!("{page}?preview=yes")).await;
        assert_eq!(other_value.header("x-frame-options"), "DENY", "{page}");
    }

    // Assets and the API stay unframeable even with the parameter.
    let api = app.get("/api/v1/display-settings?preview=1").await;
    assert_eq!(api.header("x-frame-options"), "DENY");
}

#[tokio::test]
async fn revert_to_current_settings_saves_nothing() {
    let (app, _data) = history_app().await;
    let first = save(&app, |settings| {
        settings["screensaver"]["interval_seconds"] = json!(20);
    })
    .await;
    // The same settings saved again: version 2 equals version 1 and the current settings.
    let second = save(&app, |settings| {
        settings["screensaver"]["interval_seconds"] = json!(20);
    })
    .await;

    let reverted = send(
        &app,
        "POST",
        &format!("/api/v1/admin/settings/history/{first}/revert"),
        None,
    )
    .await;
    assert_eq!(reverted.status, 200, "{}", text(&reverted));
    let body = reverted.json();
    assert_eq!(body["version"], second);
    assert_eq!(body["changed"], json!([]));
    assert_eq!(body["reverted_to"], first);
    assert_eq!(body["screens_updated"], 0);
    assert_eq!(body["settings"]["screensaver"]["interval_seconds"], 20);

    let history = send(&app, "GET", "/api/v1/admin/settings/history", None).await;
    let versions = history.json()["versions"].as_array().unwrap().clone();
    assert_eq!(versions.len(), 2, "a revert saved a version: {versions:?}");
    let audit = send(
        &app,
        "GET",
        "/api/v1/admin/audit?action=settings.reverted",
        None,
    )
    .await;
    assert_eq!(audit.status, 200, "{}", text(&audit));
    assert_eq!(audit.json()["events"], json!([]));
}

#[tokio::test]
async fn settings_writes_need_a_json_object() {
    let (app, _data) = history_app().await;
    let defaults = serde_json::to_value(DisplaySettings::default()).unwrap();

    for (method, uri) in [
        ("POST", "/api/v1/admin/settings/preview"),
        ("PUT", "/api/v1/admin/settings"),
    ] {
        let array = send(&app, method, uri, Some(json!([]))).await;
        assert_eq!(array.status, 400, "{method} {uri}: {}", text(&array));
        let message = array.json()["error"]["message"]
            .as_str()
            .unwrap()
            .to_owned();
        assert!(message.contains("JSON object"), "{method} {uri}: {message}");

        let request = Request::builder()
            .method(method)
            .uri(uri)
            .header("authorization", format!("Bearer {TOKEN}"))
            .header("content-type", "text/plain")
            .body(Body::from(defaults.to_string()))
            .unwrap();
        let plain = app.send(request).await;
        assert_eq!(plain.status, 400, "{method} {uri}: {}", text(&plain));
        let message = plain.json()["error"]["message"]
            .as_str()
            .unwrap()
            .to_owned();
        assert!(
            message.contains("Content-Type: application/json"),
            "{method} {uri}: {message}"
        );
    }

    let history = send(&app, "GET", "/api/v1/admin/settings/history", None).await;
    assert_eq!(history.json()["versions"], json!([]));
}

#[tokio::test]
async fn wrong_method_on_api_route_names_allow_header() {
    let (app, _data) = history_app().await;

    let response = send(&app, "DELETE", "/api/v1/admin/settings/preview", None).await;

    assert_eq!(response.status, 405, "{}", text(&response));
    assert_eq!(response.header("allow"), "POST");
    let message = response.json()["error"]["message"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(message.contains("Allow header"), "{message}");
    assert!(!message.contains("display"), "{message}");
}
