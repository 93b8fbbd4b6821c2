//! The dashboard's status API: figures, source conditions, screens, recent audit events and
//! warnings.

use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::http::Request;
use onesheet_domain::DisplaySettings;
use onesheet_fakes::{FakeJellyfin, FakeServer, JellyfinConfig, Library, LibraryKind};
use onesheet_server::accounts::{Accounts, SessionPolicy};
use onesheet_server::auth::AdminToken;
use onesheet_server::devices::{DeviceConfig, DeviceService};
use onesheet_server::{AppState, BasePath};
use onesheet_sources::Catalog;
use onesheet_sources::now_playing::NowPlayingHub;
use onesheet_sources::registry::SourceRegistry;
use onesheet_store::{SecretKey, SqliteStore};
use onesheet_upstream::{ClientDefaults, UpstreamClient};
use serde_json::{Value, json};

use crate::support::{TestApp, TestResponse};

const TOKEN: &str = "status-token-for-tests-0123456789";
const PASSWORD: &str = "harbor pepper lantern 77";

struct StatusApp {
    app: TestApp,
    fake: FakeServer,
    setup_token: String,
}

/// Builds an app with accounts, the bootstrap token, sources, devices, a public URL on plain HTTP and
/// a data directory that other users can read.
async fn status_app() -> StatusApp {
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(
        SqliteStore::open(&dir.path().join("onesheet.db"))
            .await
            .unwrap(),
    );
    let catalog = Arc::new(Catalog::new(Vec::new(), dir.path().join("catalog.json")));
    let registry = SourceRegistry::new(
        store.clone(),
        SecretKey::from_bytes(&[3; 32]),
        UpstreamClient::new(ClientDefaults::default()).unwrap(),
        catalog.clone(),
        Arc::new(NowPlayingHub::new()),
    );
    let accounts = Accounts::new(
        store.clone(),
        SecretKey::from_bytes(&[4; 32]),
        dir.path(),
        SessionPolicy::default(),
    );
    let setup_token = accounts.open_setup().await.unwrap().unwrap();
    let state = AppState::new(
        catalog.clone(),
        store.clone(),
        DisplaySettings::default(),
        BasePath::new("").unwrap(),
    );
    let devices = DeviceService::new(
        store.clone(),
        state.settings.clone(),
        &SecretKey::from_bytes(&[9; 32]),
        DeviceConfig::default(),
    );
    set_mode(dir.path(), 0o755);
    let state = state
        .with_sources(registry)
        .with_admin_token(AdminToken::new(TOKEN))
        .with_accounts(Arc::new(accounts))
        .with_devices(Arc::new(devices))
        .with_public_url("http://posters.example.com")
        .with_data_dir(dir.path());
    let fake = FakeJellyfin::start(JellyfinConfig {
        api_key: "RIGHT_KEY".to_owned(),
        libraries: vec![Library::generate(LibraryKind::Movies, 5, 3)],
        ..JellyfinConfig::default()
    })
    .await
    .unwrap();
    StatusApp {
        app: TestApp {
            images: state.images.clone(),
            router: onesheet_server::router(state.clone()),
            state,
            catalog,
            media: dir.path().to_path_buf(),
            _dir: dir,
        },
        fake,
        setup_token,
    }
}

fn set_mode(path: &std::path::Path, mode: u32) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
}

async fn send(
    app: &TestApp,
    method: &str,
    uri: &str,
    auth: Auth<'_>,
    body: Option<Value>,
) -> TestResponse {
    let mut request = Request::builder()
        .method(method)
        .uri(uri)
        .header("sec-fetch-site", "same-origin");
    match auth {
        Auth::Token => request = request.header("authorization", format!("Bearer {TOKEN}")),
        Auth::Cookie(cookie) => request = request.header("cookie", cookie),
        Auth::None => {}
    }
    let body = match body {
        Some(json) => {
            request = request.header("content-type", "application/json");
            Body::from(json.to_string())
        }
        None => Body::empty(),
    };
    app.send(request.body(body).unwrap()).await
}

#[derive(Clone, Copy)]
enum Auth<'a> {
    Token,
    Cookie(&'a str),
    None,
}

async fn create_admin(app: &StatusApp) -> String {
    let response = send(
        &app.app,
        "POST",
        "/api/v1/setup",
        Auth::None,
        Some(json!({ "setup_token": app.setup_token, "username": "admin", "password": PASSWORD })),
    )
    .await;
    assert_eq!(response.status, 201);
    response
        .header("set-cookie")
        .split(';')
        .next()
        .unwrap()
        .to_owned()
}

/// Polls the status until `done` accepts it, failing after 30 seconds.
async fn wait_for_status(app: &TestApp, what: &str, done: impl Fn(&Value) -> bool) -> Value {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let response = send(app, "GET", "/api/v1/admin/status", Auth::Token, None).await;
        assert_eq!(response.status, 200);
        let body = response.json();
        if done(&body) {
            return body;
        }
        assert!(
            Instant::now() < deadline,
            "timed out waiting for {what}: {body}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

fn source<'a>(report: &'a Value, id: &str) -> &'a Value {
    report["sources"]
        .as_array()
        .unwrap()
        .iter()
        .find(|source| source["id"] == id)
        .unwrap_or(&Value::Null)
}

#[tokio::test]
async fn status_needs_credentials() {
    let app = status_app().await;
    let response = send(&app.app, "GET", "/api/v1/admin/status", Auth::None, None).await;
    assert_eq!(response.status, 401);
}

#[tokio::test]
async fn status_reports_health_catalog_and_screens() {
    let app = status_app().await;
    let response = send(&app.app, "GET", "/api/v1/admin/status", Auth::Token, None).await;
    assert_eq!(response.status, 200);
    assert_eq!(response.header("cache-control"), "no-store");
    let report = response.json();

    let health = &report["health"];
    assert_eq!(health["version"], env!("CARGO_PKG_VERSION"));
    assert!(health["uptime_seconds"].is_u64(), "{health}");
    assert!(
        health["resident_memory_bytes"].as_u64().unwrap() > 1024 * 1024,
        "{health}"
    );
    assert!(health["image_memory_cache"]["max_bytes"].as_u64().unwrap() > 0);
    assert!(health["image_memory_cache"]["hit_rate"].is_null());
    assert!(health["image_disk_cache"].is_null());

    assert_eq!(report["catalog"]["items"], 0);
    assert_eq!(
        report["screens"],
        json!({ "total": 0, "online": 0, "offline": 0, "frozen": 0 })
    );
    assert!(report["generated_at"].as_i64().unwrap() > 1_700_000_000);
}

#[tokio::test]
async fn failing_source_shows_its_error() {
    let app = status_app().await;
    let created = send(
        &app.app,
        "POST",
        "/api/v1/admin/sources",
        Auth::Token,
        Some(json!({
            "kind": "jellyfin",
            "name": "Basement",
            "credential": "WRONG_KEY",
            "settings": { "host": app.fake.base_url() },
        })),
    )
    .await;
    assert_eq!(created.status, 201);

    let report = wait_for_status(&app.app, "the source to fail", |report| {
        source(report, "basement")["condition"] == "failing"
    })
    .await;
    let basement = source(&report, "basement");
    assert_eq!(basement["name"], "Basement");
    assert_eq!(basement["kind"], "jellyfin");
    assert_eq!(basement["last_error_code"], "source-auth-rejected");
    assert!(
        basement["last_error"].as_str().unwrap().len() > 5,
        "{basement}"
    );
    assert!(basement["last_success_unix"].is_null());
    let text = report.to_string();
    assert!(!text.contains("WRONG_KEY"), "{text}");

    // The creation is among the recent audit events.
    assert_eq!(report["audit"][0]["action"], "source.created");
    assert_eq!(report["audit"][0]["target"], "basement");
}

#[tokio::test]
async fn disabled_source_is_listed() {
    let app = status_app().await;
    let created = send(
        &app.app,
        "POST",
        "/api/v1/admin/sources",
        Auth::Token,
        Some(json!({
            "kind": "jellyfin",
            "name": "Attic",
            "enabled": false,
            "credential": "RIGHT_KEY",
            "settings": { "host": app.fake.base_url() },
        })),
    )
    .await;
    assert_eq!(
        created.status,
        201,
        "{}",
        String::from_utf8_lossy(&created.body)
    );
    let report = send(&app.app, "GET", "/api/v1/admin/status", Auth::Token, None)
        .await
        .json();
    assert_eq!(source(&report, "attic")["condition"], "disabled");
}

#[tokio::test]
async fn warnings_name_the_fixes() {
    let app = status_app().await;
    let cookie = create_admin(&app).await;

    let report = send(
        &app.app,
        "GET",
        "/api/v1/admin/status",
        Auth::Cookie(&cookie),
        None,
    )
    .await
    .json();
    let warnings = report["warnings"].as_array().unwrap();
    let codes: Vec<&str> = warnings
        .iter()
        .map(|warning| warning["code"].as_str().unwrap())
        .collect();
    assert!(codes.contains(&"no-second-factor"), "{codes:?}");
    assert!(codes.contains(&"public-url-without-tls"), "{codes:?}");
    assert!(codes.contains(&"data-files-readable"), "{codes:?}");

    let second_factor = warnings
        .iter()
        .find(|warning| warning["code"] == "no-second-factor")
        .unwrap();
    assert_eq!(second_factor["link"], "/admin/security");
    let readable = warnings
        .iter()
        .find(|warning| warning["code"] == "data-files-readable")
        .unwrap();
    assert!(
        readable["message"].as_str().unwrap().contains("chmod 700"),
        "{readable}"
    );

    // A token has no second factor to warn about, and a private folder gives no warning.
    set_mode(&app.app.media, 0o700);
    set_mode(&app.app.media.join("onesheet.db"), 0o600);
    let report = send(&app.app, "GET", "/api/v1/admin/status", Auth::Token, None)
        .await
        .json();
    let codes: Vec<String> = report["warnings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|warning| warning["code"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(codes, ["public-url-without-tls"]);
}
