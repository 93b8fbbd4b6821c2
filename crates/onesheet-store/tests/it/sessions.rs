//! Server-side sessions: expiry, rotation and bulk removal.

use onesheet_store::{Store, StoreError, StoredSession};

use super::support::{create_admin, open_store, session};

#[tokio::test]
async fn session_round_trips_every_field() {
    let test = open_store().await;
    let store = &test.store;
    let alice = create_admin(store, "alice").await;
    let stored = StoredSession {
        second_factor_pending: true,
        remember: true,
        client_ip: None,
        ..session("hash-1", alice.id, 1_000)
    };

    store.insert_session(&stored).await.unwrap();
    assert_eq!(
        store.get_session("hash-1", 1_000).await.unwrap(),
        Some(stored.clone())
    );
    assert_eq!(store.get_session("hash-2", 1_000).await.unwrap(), None);

    let error = store.insert_session(&stored).await.unwrap_err();
    assert!(matches!(error, StoreError::Conflict { .. }), "{error}");
    assert!(!error.to_string().contains("hash-1"), "{error}");
}

#[tokio::test]
async fn session_for_missing_admin_is_rejected() {
    // Fails only while SQLite enforces foreign keys on this connection.
    let test = open_store().await;
    let error = test
        .store
        .insert_session(&session("orphan", 12_345, 1_000))
        .await
        .unwrap_err();
    assert!(matches!(error, StoreError::Query(_)), "{error}");
    assert_eq!(test.store.get_session("orphan", 1_000).await.unwrap(), None);
}

#[tokio::test]
async fn session_expires_after_idle_timeout() {
    let test = open_store().await;
    let store = &test.store;
    let alice = create_admin(store, "alice").await;
    store
        .insert_session(&session("idle", alice.id, 1_000))
        .await
        .unwrap();

    assert!(store.get_session("idle", 1_599).await.unwrap().is_some());
    assert_eq!(store.get_session("idle", 1_600).await.unwrap(), None);
}

#[tokio::test]
async fn touch_extends_idle_deadline() {
    let test = open_store().await;
    let store = &test.store;
    let alice = create_admin(store, "alice").await;
    store
        .insert_session(&session("active", alice.id, 1_000))
        .await
        .unwrap();

    assert!(store.touch_session("active", 1_500).await.unwrap());
    let touched = store.get_session("active", 2_000).await.unwrap().unwrap();
    assert_eq!(touched.last_seen_at, 1_500);

    // A late request with an older time does not move the deadline back.
    assert!(store.touch_session("active", 1_200).await.unwrap());
    let after_late_touch = store.get_session("active", 2_000).await.unwrap().unwrap();
    assert_eq!(after_late_touch.last_seen_at, 1_500);

    assert!(!store.touch_session("missing", 1_500).await.unwrap());
}

#[tokio::test]
async fn touch_does_not_revive_expired_session() {
    let test = open_store().await;
    let store = &test.store;
    let alice = create_admin(store, "alice").await;
    store
        .insert_session(&session("stale", alice.id, 1_000))
        .await
        .unwrap();

    assert!(!store.touch_session("stale", 1_600).await.unwrap());
    assert_eq!(store.get_session("stale", 1_600).await.unwrap(), None);
}

#[tokio::test]
async fn session_expires_at_absolute_time_despite_activity() {
    let test = open_store().await;
    let store = &test.store;
    let alice = create_admin(store, "alice").await;
    let short = StoredSession {
        expires_at: 2_000,
        ..session("short", alice.id, 1_000)
    };
    store.insert_session(&short).await.unwrap();

    assert!(store.touch_session("short", 1_500).await.unwrap());
    assert!(store.touch_session("short", 1_999).await.unwrap());
    assert!(store.get_session("short", 1_999).await.unwrap().is_some());
    assert_eq!(store.get_session("short", 2_000).await.unwrap(), None);
    assert!(!store.touch_session("short", 2_000).await.unwrap());
}

#[tokio::test]
async fn replace_session_rotates_id() {
    let test = open_store().await;
    let store = &test.store;
    let alice = create_admin(store, "alice").await;
    let pending = StoredSession {
        second_factor_pending: true,
        ..session("before-totp", alice.id, 1_000)
    };
    store.insert_session(&pending).await.unwrap();

    let complete = session("after-totp", alice.id, 1_010);
    assert!(
        store
            .replace_session("before-totp", &complete)
            .await
            .unwrap()
    );

    assert_eq!(store.get_session("before-totp", 1_010).await.unwrap(), None);
    assert_eq!(
        store.get_session("after-totp", 1_010).await.unwrap(),
        Some(complete)
    );
}

#[tokio::test]
async fn replace_of_missing_session_changes_nothing() {
    let test = open_store().await;
    let store = &test.store;
    let alice = create_admin(store, "alice").await;

    let new = session("new", alice.id, 1_000);
    assert!(!store.replace_session("logged-out", &new).await.unwrap());
    assert_eq!(store.get_session("new", 1_000).await.unwrap(), None);
}

#[tokio::test]
async fn failed_replace_keeps_old_session() {
    let test = open_store().await;
    let store = &test.store;
    let alice = create_admin(store, "alice").await;
    store
        .insert_session(&session("old", alice.id, 1_000))
        .await
        .unwrap();
    store
        .insert_session(&session("taken", alice.id, 1_000))
        .await
        .unwrap();

    let error = store
        .replace_session("old", &session("taken", alice.id, 1_010))
        .await
        .unwrap_err();
    assert!(matches!(error, StoreError::Conflict { .. }), "{error}");
    assert!(store.get_session("old", 1_010).await.unwrap().is_some());
}

#[tokio::test]
async fn delete_session_reports_whether_it_existed() {
    let test = open_store().await;
    let store = &test.store;
    let alice = create_admin(store, "alice").await;
    store
        .insert_session(&session("one", alice.id, 1_000))
        .await
        .unwrap();

    assert!(store.delete_session("one").await.unwrap());
    assert!(!store.delete_session("one").await.unwrap());
    assert_eq!(store.get_session("one", 1_000).await.unwrap(), None);
}

#[tokio::test]
async fn delete_admin_sessions_keeps_named_one() {
    let test = open_store().await;
    let store = &test.store;
    let alice = create_admin(store, "alice").await;
    let bob = create_admin(store, "bob").await;
    for hash in ["a1", "a2", "a3"] {
        store
            .insert_session(&session(hash, alice.id, 1_000))
            .await
            .unwrap();
    }
    store
        .insert_session(&session("b1", bob.id, 1_000))
        .await
        .unwrap();

    let deleted = store
        .delete_admin_sessions(alice.id, Some("a2"))
        .await
        .unwrap();
    assert_eq!(deleted, 2);
    assert!(store.get_session("a2", 1_000).await.unwrap().is_some());
    assert_eq!(store.get_session("a1", 1_000).await.unwrap(), None);
    assert_eq!(store.get_session("a3", 1_000).await.unwrap(), None);
    assert!(
        store.get_session("b1", 1_000).await.unwrap().is_some(),
        "other accounts keep their sessions"
    );

    assert_eq!(
        store.delete_admin_sessions(alice.id, None).await.unwrap(),
        1
    );
    assert_eq!(store.get_session("a2", 1_000).await.unwrap(), None);
}

#[tokio::test]
async fn list_admin_sessions_returns_live_ones_recent_first() {
    let test = open_store().await;
    let store = &test.store;
    let alice = create_admin(store, "alice").await;
    let bob = create_admin(store, "bob").await;
    store
        .insert_session(&session("older", alice.id, 1_000))
        .await
        .unwrap();
    store
        .insert_session(&session("newer", alice.id, 1_200))
        .await
        .unwrap();
    store
        .insert_session(&session("expired", alice.id, 100))
        .await
        .unwrap();
    store
        .insert_session(&session("bobs", bob.id, 1_200))
        .await
        .unwrap();

    let listed = store.list_admin_sessions(alice.id, 1_300).await.unwrap();
    let hashes: Vec<&str> = listed.iter().map(|s| s.id_hash.as_str()).collect();
    assert_eq!(hashes, ["newer", "older"]);
}

#[tokio::test]
async fn delete_expired_sessions_counts_removed() {
    let test = open_store().await;
    let store = &test.store;
    let alice = create_admin(store, "alice").await;
    store
        .insert_session(&session("idle-expired", alice.id, 100))
        .await
        .unwrap();
    store
        .insert_session(&StoredSession {
            expires_at: 1_200,
            ..session("absolute-expired", alice.id, 1_000)
        })
        .await
        .unwrap();
    store
        .insert_session(&session("live", alice.id, 1_200))
        .await
        .unwrap();

    assert_eq!(store.delete_expired_sessions(1_300).await.unwrap(), 2);
    assert_eq!(store.delete_expired_sessions(1_300).await.unwrap(), 0);
    assert!(store.get_session("live", 1_300).await.unwrap().is_some());
    assert_eq!(
        store
            .list_admin_sessions(alice.id, 1_300)
            .await
            .unwrap()
            .len(),
        1
    );
}
