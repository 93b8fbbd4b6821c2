//! The source registry with a real SQLite store, a fake Jellyfin and the catalog.

use std::sync::Arc;
use std::time::Duration;

use onesheet_fakes::{
    FakeJellyfin, FakeServer, Fault, FaultRule, JellyfinConfig, Library, LibraryKind, StatusCode,
};
use onesheet_sources::Catalog;
use onesheet_sources::catalog::SourceState;
use onesheet_sources::now_playing::NowPlayingHub;
use onesheet_sources::registry::{RefreshStart, RegistryError, SourceInput, SourceRegistry};
use onesheet_store::{SecretKey, SqliteStore, Store};

use super::support::upstream_client;

const KEY: &str = "KEY_A";

struct Setup {
    registry: Arc<SourceRegistry>,
    catalog: Arc<Catalog>,
    store: Arc<dyn Store>,
    fake: FakeServer,
    _dir: tempfile::TempDir,
}

async fn setup() -> Setup {
    let dir = tempfile::tempdir().unwrap();
    let store: Arc<dyn Store> = Arc::new(
        SqliteStore::open(&dir.path().join("onesheet.db"))
            .await
            .unwrap(),
    );
    let catalog = Arc::new(Catalog::new(Vec::new(), dir.path().join("catalog.json")));
    let registry = SourceRegistry::new(
        store.clone(),
        SecretKey::from_bytes(&[7; 32]),
        upstream_client(),
        catalog.clone(),
        Arc::new(NowPlayingHub::new()),
    );
    let fake = FakeJellyfin::start(JellyfinConfig {
        api_key: KEY.to_owned(),
        libraries: vec![Library::generate(LibraryKind::Movies, 40, 9)],
        poster_size: (60, 90),
        backdrop_size: (96, 54),
        logo_size: (80, 31),
        ..JellyfinConfig::default()
    })
    .await
    .unwrap();
    Setup {
        registry,
        catalog,
        store,
        fake,
        _dir: dir,
    }
}

fn input(fake: &FakeServer, credential: Option<&str>) -> SourceInput {
    serde_json::from_value(serde_json::json!({
        "kind": "jellyfin",
        "name": "Living Room",
        "credential": credential,
        "settings": { "host": fake.base_url(), "now_playing": { "enabled": false } },
    }))
    .unwrap()
}

async fn wait_for_items(catalog: &Catalog) -> usize {
    for _ in 0..200 {
        let count = catalog.snapshot().items.len();
        if count > 0 {
            return count;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    panic!("the source's items never reached the catalog");
}

/// Waits up to 5 s for a file to exist. The catalog is saved by renaming a complete temporary
/// file, so an existing file is whole.
async fn wait_for_file(path: &std::path::Path) {
    for _ in 0..200 {
        if path.exists() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    panic!("{} was never written", path.display());
}

/// Waits up to 5 s for the first source's status to reach `expected`.
async fn wait_for_state(catalog: &Catalog, expected: SourceState) {
    let mut state = SourceState::Pending;
    for _ in 0..200 {
        state = catalog.health()[0].state;
        if state == expected {
            return;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    assert_eq!(state, expected, "the source's status never changed");
}

#[tokio::test]
async fn create_seals_credential_and_hides_it() {
    let setup = setup().await;
    let view = setup
        .registry
        .create(input(&setup.fake, Some(KEY)), 1_700_000_000)
        .await
        .unwrap();

    assert_eq!(view.id.as_str(), "living-room");
    assert!(view.credential_set);
    let shown = serde_json::to_string(&view).unwrap();
    assert!(!shown.contains(KEY), "{shown}");

    let stored = setup
        .store
        .get_source("living-room")
        .await
        .unwrap()
        .unwrap();
    let sealed = stored.credential.unwrap();
    assert!(!sealed.windows(KEY.len()).any(|w| w == KEY.as_bytes()));
    assert!(!stored.settings.to_string().contains(KEY));

    assert!(wait_for_items(&setup.catalog).await > 0);
}

#[tokio::test]
async fn masked_update_keeps_credential_and_clear_removes_it() {
    let setup = setup().await;
    setup
        .registry
        .create(input(&setup.fake, Some(KEY)), 1)
        .await
        .unwrap();
    let sealed = setup
        .store
        .get_source("living-room")
        .await
        .unwrap()
        .unwrap()
        .credential;

    for placeholder in [Some("***"), Some(""), None] {
        let mut update = input(&setup.fake, placeholder);
        update.name = "Living Room TV".to_owned();
        setup
            .registry
            .update("living-room", update, 2)
            .await
            .unwrap();
        let stored = setup
            .store
            .get_source("living-room")
            .await
            .unwrap()
            .unwrap();
        assert_eq!(stored.credential, sealed, "{placeholder:?}");
        assert_eq!(stored.name, "Living Room TV");
    }
    let report = setup.registry.test("living-room").await.unwrap();
    assert!(report.ok, "{report:?}");
    assert!(!report.libraries.is_empty());

    let mut clear = input(&setup.fake, None);
    clear.clear_credential = true;
    let view = setup
        .registry
        .update("living-room", clear, 3)
        .await
        .unwrap();
    assert!(!view.credential_set);
    let report = setup.registry.test("living-room").await.unwrap();
    assert_eq!(report.error.unwrap().code, "source-credential-missing");
}

#[tokio::test]
async fn invalid_input_names_every_field() {
    let setup = setup().await;
    let bad: SourceInput = serde_json::from_value(serde_json::json!({
        "kind": "jellyfin",
        "name": " ",
        "settings": { "host": "https://media.example.org", "https": false, "refresh_minutes": 1 },
    }))
    .unwrap();
    let Err(RegistryError::Invalid(errors)) = setup.registry.create(bad, 1).await else {
        panic!("invalid input must be rejected");
    };
    let fields: Vec<&str> = errors.errors.iter().map(|e| e.field.as_str()).collect();
    assert!(fields.contains(&"name"), "{fields:?}");
    assert!(fields.contains(&"settings.https"), "{fields:?}");
    assert!(fields.contains(&"settings.refresh_minutes"), "{fields:?}");
    assert!(setup.store.list_sources().await.unwrap().is_empty());
}

#[tokio::test]
async fn test_tells_rejection_from_outage() {
    let setup = setup().await;
    setup
        .registry
        .create(input(&setup.fake, Some("wrong-key")), 1)
        .await
        .unwrap();
    let report = setup.registry.test("living-room").await.unwrap();
    assert!(!report.ok);
    assert_eq!(report.error.unwrap().code, "source-auth-rejected");

    // A port nothing listens on: the server is down, the key is not to blame.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let address = closed.local_addr().unwrap();
    drop(closed);
    let down: SourceInput = serde_json::from_value(serde_json::json!({
        "kind": "jellyfin",
        "name": "Down",
        "credential": KEY,
        "settings": { "host": format!("http://{address}"), "now_playing": { "enabled": false } },
    }))
    .unwrap();
    setup.registry.create(down, 1).await.unwrap();
    let report = setup.registry.test("down").await.unwrap();
    assert_eq!(report.error.unwrap().code, "source-unreachable");
}

#[tokio::test]
async fn failing_source_keeps_its_items() {
    let setup = setup().await;
    setup
        .registry
        .create(input(&setup.fake, Some(KEY)), 1)
        .await
        .unwrap();
    let count = wait_for_items(&setup.catalog).await;

    setup.fake.control().add_fault(FaultRule::new(
        "/Library/VirtualFolders",
        Fault::Status(StatusCode::INTERNAL_SERVER_ERROR),
    ));
    // The first refresh may still be saving the catalog when its items appear.
    let mut started = RefreshStart::AlreadyRunning;
    for _ in 0..200 {
        started = setup.registry.refresh("living-room").await.unwrap();
        if started == RefreshStart::Started {
            break;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    assert_eq!(started, RefreshStart::Started);
    let mut state = SourceState::Ok;
    for _ in 0..200 {
        state = setup.catalog.health()[0].state;
        if state == SourceState::Failing {
            break;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    assert_eq!(state, SourceState::Failing);
    assert_eq!(setup.catalog.snapshot().items.len(), count);
    let view = setup.registry.get("living-room").await.unwrap();
    let status = view.status.unwrap();
    assert_eq!(status.last_error_code, Some("source-http-status"));
}

#[tokio::test]
async fn delete_removes_items_and_row() {
    let setup = setup().await;
    setup
        .registry
        .create(input(&setup.fake, Some(KEY)), 1)
        .await
        .unwrap();
    wait_for_items(&setup.catalog).await;

    setup.registry.delete("living-room").await.unwrap();
    assert!(setup.catalog.snapshot().items.is_empty());
    assert!(setup.store.list_sources().await.unwrap().is_empty());
    assert!(matches!(
        setup.registry.delete("living-room").await,
        Err(RegistryError::NotFound { .. })
    ));
}

#[tokio::test]
async fn restart_loads_stored_sources() {
    let setup = setup().await;
    setup
        .registry
        .create(input(&setup.fake, Some(KEY)), 1)
        .await
        .unwrap();
    setup.registry.shutdown().await;

    // A second registry over the same store and key, as after a restart.
    let catalog = Arc::new(Catalog::new(
        Vec::new(),
        setup._dir.path().join("catalog-2.json"),
    ));
    let registry = SourceRegistry::new(
        setup.store.clone(),
        SecretKey::from_bytes(&[7; 32]),
        upstream_client(),
        catalog.clone(),
        Arc::new(NowPlayingHub::new()),
    );
    assert_eq!(registry.load_all().await.unwrap(), 1);
    registry.start_schedules().await;
    assert!(wait_for_items(&catalog).await > 0);

    // With another key the stored credential cannot be opened: the source is skipped, not
    // fatal.
    let other = SourceRegistry::new(
        setup.store.clone(),
        SecretKey::from_bytes(&[8; 32]),
        upstream_client(),
        Arc::new(Catalog::new(
            Vec::new(),
            setup._dir.path().join("catalog-3.json"),
        )),
        Arc::new(NowPlayingHub::new()),
    );
    assert_eq!(other.load_all().await.unwrap(), 0);
    let report = other.test("living-room").await.unwrap();
    assert_eq!(report.error.unwrap().code, "source-credential-missing");
}

fn field_names(error: RegistryError) -> Vec<String> {
    let RegistryError::Invalid(errors) = error else {
        panic!("expected invalid input, got {error}");
    };
    errors.errors.into_iter().map(|e| e.field).collect()
}

#[tokio::test]
async fn built_in_ids_are_reserved() {
    let setup = setup().await;
    for id in ["local", "demo"] {
        let mut taken = input(&setup.fake, Some(KEY));
        taken.id = Some(id.to_owned());
        let fields = field_names(setup.registry.create(taken, 1).await.unwrap_err());
        assert_eq!(fields, ["id"], "{id}");
    }
    let mut named = input(&setup.fake, Some(KEY));
    named.name = "Local".to_owned();
    let fields = field_names(setup.registry.create(named, 1).await.unwrap_err());
    assert_eq!(fields, ["id"]);
}

#[tokio::test]
async fn new_address_needs_credential_again() {
    let setup = setup().await;
    setup
        .registry
        .create(input(&setup.fake, Some(KEY)), 1)
        .await
        .unwrap();

    let mut moved = input(&setup.fake, Some("***"));
    moved.settings.host = "127.0.0.1:9".to_owned();
    let fields = field_names(
        setup
            .registry
            .update("living-room", moved.clone(), 2)
            .await
            .unwrap_err(),
    );
    assert_eq!(fields, ["credential"]);

    // The same address typed another way is the same server.
    let mut same = input(&setup.fake, None);
    same.settings.host = format!("{}/", setup.fake.base_url());
    setup.registry.update("living-room", same, 3).await.unwrap();

    moved.credential = Some("NEW_KEY".to_owned());
    setup
        .registry
        .update("living-room", moved, 4)
        .await
        .unwrap();
}

#[tokio::test]
async fn weaker_tls_needs_credential_again() {
    let setup = setup().await;
    setup
        .registry
        .create(input(&setup.fake, Some(KEY)), 1)
        .await
        .unwrap();
    let ca_dir = tempfile::tempdir().unwrap();
    let ca_file = ca_dir.path().join("home-ca.pem");
    std::fs::write(&ca_file, "not a certificate").unwrap();

    let mut unverified = input(&setup.fake, Some("***"));
    unverified.settings.tls.verify = false;
    let mut other_ca = input(&setup.fake, None);
    other_ca.settings.tls.ca_file = Some(ca_file);
    for (case, update, named) in [
        ("verify off", unverified.clone(), "settings.tls.verify"),
        ("new ca_file", other_ca, "settings.tls.ca_file"),
    ] {
        let RegistryError::Invalid(errors) = setup
            .registry
            .update("living-room", update, 2)
            .await
            .unwrap_err()
        else {
            panic!("{case}: expected invalid input");
        };
        assert_eq!(errors.errors.len(), 1, "{case}: {errors}");
        assert_eq!(errors.errors[0].field, "credential", "{case}");
        let message = &errors.errors[0].message;
        assert!(message.contains(named), "{case}: {message}");
        assert!(
            message.contains("enter the credential again"),
            "{case}: {message}"
        );
    }
    let stored = setup
        .store
        .get_source("living-room")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(stored.settings["tls"]["verify"], true);

    unverified.credential = Some(KEY.to_owned());
    let view = setup
        .registry
        .update("living-room", unverified, 3)
        .await
        .unwrap();
    assert!(view.credential_set);

    // Turning the checks back on needs no credential.
    setup
        .registry
        .update("living-room", input(&setup.fake, None), 4)
        .await
        .unwrap();
}

#[tokio::test]
async fn unreadable_ca_file_is_rejected_before_saving() {
    let setup = setup().await;
    let mut bad = input(&setup.fake, Some(KEY));
    bad.settings.tls.ca_file = Some("/nonexistent/home-ca.pem".into());
    let fields = field_names(setup.registry.create(bad, 1).await.unwrap_err());
    assert_eq!(fields, ["settings.tls.ca_file"]);
    assert!(setup.store.list_sources().await.unwrap().is_empty());
}

#[tokio::test]
async fn quotes_in_credential_are_rejected() {
    let setup = setup().await;
    let injected = input(&setup.fake, Some("abc\", DeviceId=\"evil"));
    let fields = field_names(setup.registry.create(injected, 1).await.unwrap_err());
    assert_eq!(fields, ["credential"]);
}

#[tokio::test]
async fn source_that_cannot_start_keeps_items_and_fails_visibly() {
    let setup = setup().await;
    setup
        .registry
        .create(input(&setup.fake, Some(KEY)), 1)
        .await
        .unwrap();
    wait_for_items(&setup.catalog).await;
    // The restart below reads the saved catalog, which is written after the items are served.
    let saved = setup._dir.path().join("catalog.json");
    wait_for_file(&saved).await;
    setup.registry.shutdown().await;

    // After a restart with another secret key, the credential cannot be opened.
    let catalog = Arc::new(Catalog::new(Vec::new(), saved));
    let registry = SourceRegistry::new(
        setup.store.clone(),
        SecretKey::from_bytes(&[8; 32]),
        upstream_client(),
        catalog.clone(),
        Arc::new(NowPlayingHub::new()),
    );
    assert_eq!(registry.load_all().await.unwrap(), 0);
    catalog.restore().await;
    registry.start_schedules().await;

    wait_for_state(&catalog, SourceState::Failing).await;
    assert!(!catalog.snapshot().items.is_empty(), "saved items stay");
    let view = registry.get("living-room").await.unwrap();
    assert!(
        view.status
            .unwrap()
            .last_error
            .unwrap()
            .contains("credential")
    );
}

#[tokio::test]
async fn damaged_row_does_not_hide_others() {
    let setup = setup().await;
    setup
        .registry
        .create(input(&setup.fake, Some(KEY)), 1)
        .await
        .unwrap();
    let mut broken = setup
        .store
        .get_source("living-room")
        .await
        .unwrap()
        .unwrap();
    broken.id = "broken".to_owned();
    broken.settings = serde_json::Value::String("{not json".to_owned());
    broken.credential = None;
    setup.store.insert_source(&broken).await.unwrap();

    let listed = setup.registry.list().await.unwrap();
    let ids: Vec<&str> = listed.iter().map(|view| view.id.as_str()).collect();
    assert_eq!(ids, ["living-room"]);
    setup.registry.delete("broken").await.unwrap();
}
