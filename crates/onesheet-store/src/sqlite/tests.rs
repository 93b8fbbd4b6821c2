use super::*;

#[tokio::test]
async fn settings_round_trip_and_survive_reopen() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("onesheet.db");
    let store = SqliteStore::open(&path).await.unwrap();
    assert!(store.current_settings().await.unwrap().is_none());

    let mut settings = DisplaySettings::default();
    settings.screensaver.interval_seconds = 25;
    let version = store
        .save_settings(&settings, "test", 1_700_000_000)
        .await
        .unwrap();
    store.close().await;

    let reopened = SqliteStore::open(&path).await.unwrap();
    let current = reopened.current_settings().await.unwrap().unwrap();
    assert_eq!(current.version, version);
    assert_eq!(current.settings, settings);
    reopened.ping().await.unwrap();
}

fn source(id: &str, created_at: i64) -> StoredSource {
    StoredSource {
        id: id.to_owned(),
        kind: "jellyfin".to_owned(),
        name: format!("Jellyfin {id}"),
        settings: serde_json::json!({ "address": { "host": "media.example.org" } }),
        credential: Some(vec![1, 2, 3]),
        enabled: true,
        created_at,
        updated_at: created_at,
    }
}

#[tokio::test]
async fn sources_round_trip_and_survive_reopen() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("onesheet.db");
    let store = SqliteStore::open(&path).await.unwrap();
    assert!(store.list_sources().await.unwrap().is_empty());

    store.insert_source(&source("b", 20)).await.unwrap();
    store.insert_source(&source("a", 10)).await.unwrap();
    let mut changed = source("b", 20);
    changed.name = "Living room".to_owned();
    changed.credential = None;
    changed.enabled = false;
    changed.updated_at = 30;
    assert!(store.update_source(&changed).await.unwrap());
    store.close().await;

    let reopened = SqliteStore::open(&path).await.unwrap();
    let listed = reopened.list_sources().await.unwrap();
    assert_eq!(listed, vec![source("a", 10), changed.clone()]);
    assert_eq!(reopened.get_source("b").await.unwrap(), Some(changed));
    assert_eq!(reopened.get_source("zzz").await.unwrap(), None);
}

#[tokio::test]
async fn duplicate_source_id_conflicts() {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(&dir.path().join("onesheet.db"))
        .await
        .unwrap();
    store.insert_source(&source("a", 1)).await.unwrap();
    let error = store.insert_source(&source("a", 2)).await.unwrap_err();
    assert!(matches!(error, StoreError::Conflict { .. }), "{error}");
}

#[tokio::test]
async fn missing_source_update_and_delete_report_false() {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(&dir.path().join("onesheet.db"))
        .await
        .unwrap();
    assert!(!store.update_source(&source("ghost", 1)).await.unwrap());
    assert!(!store.delete_source("ghost").await.unwrap());
    store.insert_source(&source("a", 1)).await.unwrap();
    assert!(store.delete_source("a").await.unwrap());
    assert!(store.list_sources().await.unwrap().is_empty());
}

#[tokio::test]
async fn database_uses_wal_journal() {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(&dir.path().join("onesheet.db"))
        .await
        .unwrap();
    let mode: String = sqlx::query_scalar("PRAGMA journal_mode")
        .fetch_one(&store.pool)
        .await
        .unwrap();
    assert_eq!(mode, "wal");
}

#[tokio::test]
async fn damaged_settings_row_is_reported() {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(&dir.path().join("onesheet.db"))
        .await
        .unwrap();
    sqlx::query(
        "INSERT INTO settings_versions (document, created_at, created_by) VALUES ('{', 0, 'x')",
    )
    .execute(&store.pool)
    .await
    .unwrap();
    let error = store.current_settings().await.unwrap_err();
    assert!(matches!(error, StoreError::Corrupt { .. }), "{error}");
}

#[tokio::test]
async fn settings_versions_are_listed_newest_first() {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(&dir.path().join("onesheet.db"))
        .await
        .unwrap();
    let mut versions = Vec::new();
    for seconds in [10, 20, 30] {
        let mut settings = DisplaySettings::default();
        settings.screensaver.interval_seconds = seconds;
        let version = store
            .save_settings(&settings, "alice", 1_700_000_000 + i64::from(seconds))
            .await
            .unwrap();
        versions.push(version);
    }

    let listed = store.list_settings_versions(2, None).await.unwrap();
    let numbers: Vec<i64> = listed.iter().map(|saved| saved.version).collect();
    assert_eq!(numbers, [versions[2], versions[1]]);
    assert_eq!(listed[0].document["screensaver"]["interval_seconds"], 30);
    assert_eq!(listed[0].created_by, "alice");
    assert_eq!(listed[0].created_at, 1_700_000_030);

    let older = store
        .list_settings_versions(10, Some(versions[1]))
        .await
        .unwrap();
    let numbers: Vec<i64> = older.iter().map(|saved| saved.version).collect();
    assert_eq!(numbers, [versions[0]]);

    let first = store.get_settings_version(versions[0]).await.unwrap();
    assert_eq!(
        first.map(|saved| saved.document["screensaver"]["interval_seconds"].clone()),
        Some(serde_json::json!(10))
    );
    assert!(store.get_settings_version(9_999).await.unwrap().is_none());
}
