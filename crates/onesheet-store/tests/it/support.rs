//! Fixtures shared by the store tests.

use std::sync::Arc;

use onesheet_domain::{DeviceId, DeviceRecord, SettingsOverride};
use onesheet_store::{AdminAccount, NewAdmin, NewDevice, SqliteStore, Store, StoredSession};

/// A store on a fresh database file. The folder lives as long as the value.
pub struct TestStore {
    pub store: Arc<SqliteStore>,
    _dir: tempfile::TempDir,
}

pub async fn open_store() -> TestStore {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(&dir.path().join("onesheet.db"))
        .await
        .unwrap();
    TestStore {
        store: Arc::new(store),
        _dir: dir,
    }
}

pub fn new_admin(username: &str, created_at: i64) -> NewAdmin {
    NewAdmin {
        username: username.to_owned(),
        password_hash: format!("$argon2id$v=19$m=19456,t=2,p=1$salt${username}"),
        created_at,
    }
}

pub async fn create_admin(store: &SqliteStore, username: &str) -> AdminAccount {
    store
        .create_admin(&new_admin(username, 1_000))
        .await
        .unwrap()
}

/// Builds a session last seen at `now`, with a ten-minute idle timeout and a one-day absolute expiry.
pub fn session(id_hash: &str, admin_id: i64, now: i64) -> StoredSession {
    StoredSession {
        id_hash: id_hash.to_owned(),
        admin_id,
        created_at: now,
        last_seen_at: now,
        idle_timeout_seconds: 600,
        expires_at: now + 86_400,
        second_factor_pending: false,
        remember: false,
        client_ip: Some("192.0.2.7".to_owned()),
        user_agent: Some("Mozilla/5.0 (X11; Linux x86_64)".to_owned()),
        csrf_token: format!("csrf-{id_hash}"),
    }
}

/// Builds a device with a secret hash, last seen from one address and browser.
pub fn new_device(id: &str, name: &str) -> NewDevice {
    NewDevice {
        id: device_id(id),
        name: name.to_owned(),
        location: None,
        profile_id: None,
        group_id: None,
        overrides: SettingsOverride::default(),
        secret_hash: Some(format!("secret-hash-{id}")),
        created_at: 1_000,
        address: Some("192.0.2.10".to_owned()),
        user_agent: Some("Mozilla/5.0 (SMART-TV; Linux; Tizen 6.0)".to_owned()),
    }
}

pub async fn create_device(store: &SqliteStore, id: &str, name: &str) -> DeviceRecord {
    store.create_device(&new_device(id, name)).await.unwrap()
}

pub fn device_id(id: &str) -> DeviceId {
    id.parse().unwrap()
}

/// Builds a settings override from JSON, checked as the admin API would check it.
pub fn overrides(document: serde_json::Value) -> SettingsOverride {
    onesheet_domain::settings::overrides::validate_override(&document).unwrap()
}
