//! Admin accounts: first-run creation, usernames, passwords and removal.

use std::sync::Arc;

use onesheet_store::{AdminRemoval, NewApiToken, SqliteStore, Store, StoreError, StoredApiToken};

use super::support::{create_admin, new_admin, open_store, session};

#[tokio::test]
async fn first_admin_is_created_only_once() {
    let test = open_store().await;
    let store = &test.store;
    assert_eq!(store.count_admins().await.unwrap(), 0);

    let first = store
        .create_first_admin(&new_admin("alice", 1_000))
        .await
        .unwrap()
        .expect("the table was empty");
    assert_eq!(first.username, "alice");
    assert_eq!(first.password_changed_at, 1_000);
    assert!(!first.totp_enabled());
    assert_eq!(store.get_admin(first.id).await.unwrap(), Some(first));

    let second = store
        .create_first_admin(&new_admin("bob", 2_000))
        .await
        .unwrap();
    assert_eq!(second, None);
    assert_eq!(store.count_admins().await.unwrap(), 1);
    assert_eq!(store.get_admin_by_username("bob").await.unwrap(), None);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn first_admin_race_creates_exactly_one() {
    let test = open_store().await;

    // Distinct usernames, so only the empty-table check can stop the later tasks.
    let mut tasks = tokio::task::JoinSet::new();
    for index in 0..8 {
        let store: Arc<SqliteStore> = test.store.clone();
        tasks.spawn(async move {
            store
                .create_first_admin(&new_admin(&format!("admin{index}"), 1_000))
                .await
        });
    }
    let mut created = Vec::new();
    while let Some(result) = tasks.join_next().await {
        if let Some(admin) = result.unwrap().unwrap() {
            created.push(admin);
        }
    }

    assert_eq!(created.len(), 1, "created: {created:?}");
    assert_eq!(test.store.count_admins().await.unwrap(), 1);
    assert_eq!(test.store.list_admins().await.unwrap(), created);
}

#[tokio::test]
async fn username_conflict_ignores_case_and_width() {
    let test = open_store().await;
    let store = &test.store;
    create_admin(store, "Alice").await;

    for same_name in ["alice", "ALICE", "ａｌｉｃｅ"] {
        let error = store
            .create_admin(&new_admin(same_name, 2_000))
            .await
            .unwrap_err();
        assert!(
            matches!(&error, StoreError::Conflict { what: "admin username", id } if id == same_name),
            "{same_name}: {error}"
        );
    }
    assert_eq!(store.count_admins().await.unwrap(), 1);
}

#[tokio::test]
async fn username_lookup_ignores_case() {
    let test = open_store().await;
    let store = &test.store;
    let alice = create_admin(store, "Alice").await;

    let found = store.get_admin_by_username("aLiCe").await.unwrap();
    assert_eq!(found.as_ref().map(|admin| admin.id), Some(alice.id));
    assert_eq!(
        found.unwrap().username,
        "Alice",
        "the entered spelling is kept"
    );
    assert_eq!(store.get_admin_by_username("alice2").await.unwrap(), None);
    assert_eq!(store.get_admin(alice.id + 100).await.unwrap(), None);
}

#[tokio::test]
async fn admins_are_listed_oldest_first() {
    let test = open_store().await;
    let store = &test.store;
    let late = store.create_admin(&new_admin("late", 300)).await.unwrap();
    let early = store.create_admin(&new_admin("early", 100)).await.unwrap();

    let listed = store.list_admins().await.unwrap();
    assert_eq!(listed, vec![early, late]);
}

#[tokio::test]
async fn password_change_sets_hash_and_time() {
    let test = open_store().await;
    let store = &test.store;
    let alice = create_admin(store, "alice").await;

    assert!(
        store
            .change_password(alice.id, "$argon2id$new", 5_000)
            .await
            .unwrap()
    );
    let changed = store.get_admin(alice.id).await.unwrap().unwrap();
    assert_eq!(changed.password_hash, "$argon2id$new");
    assert_eq!(changed.password_changed_at, 5_000);
    assert_eq!(changed.created_at, alice.created_at);

    assert!(
        !store
            .change_password(alice.id + 100, "$argon2id$x", 5_000)
            .await
            .unwrap()
    );
}

#[tokio::test]
async fn password_upgrade_requires_current_hash() {
    let test = open_store().await;
    let store = &test.store;
    let imported = store
        .create_admin(&onesheet_store::NewAdmin {
            username: "carol".to_owned(),
            password_hash: "$2b$12$imported".to_owned(),
            created_at: 1_000,
        })
        .await
        .unwrap();

    // A password change that lands first wins over the rehash of the old password.
    assert!(
        store
            .change_password(imported.id, "$argon2id$changed", 2_000)
            .await
            .unwrap()
    );
    assert!(
        !store
            .upgrade_password_hash(imported.id, "$2b$12$imported", "$argon2id$rehash")
            .await
            .unwrap()
    );
    let current = store.get_admin(imported.id).await.unwrap().unwrap();
    assert_eq!(current.password_hash, "$argon2id$changed");

    assert!(
        store
            .upgrade_password_hash(imported.id, "$argon2id$changed", "$argon2id$stronger")
            .await
            .unwrap()
    );
    let upgraded = store.get_admin(imported.id).await.unwrap().unwrap();
    assert_eq!(upgraded.password_hash, "$argon2id$stronger");
    assert_eq!(
        upgraded.password_changed_at, 2_000,
        "a rehash is not a password change"
    );
}

#[tokio::test]
async fn admin_delete_cascades_to_sessions_and_codes() {
    let test = open_store().await;
    let store = &test.store;
    let alice = create_admin(store, "alice").await;
    let bob = create_admin(store, "bob").await;

    store
        .insert_session(&session("alice-session", alice.id, 1_000))
        .await
        .unwrap();
    store
        .insert_session(&session("bob-session", bob.id, 1_000))
        .await
        .unwrap();
    let codes = vec!["code-a".to_owned(), "code-b".to_owned()];
    store
        .replace_recovery_codes(alice.id, &codes, 1_000)
        .await
        .unwrap();
    store
        .replace_recovery_codes(bob.id, &codes, 1_000)
        .await
        .unwrap();
    let token = store
        .insert_api_token(&NewApiToken {
            name: "ci".to_owned(),
            scope: "read".to_owned(),
            token_hash: "token-hash".to_owned(),
            created_by: Some(alice.id),
            created_at: 1_000,
        })
        .await
        .unwrap();

    assert_eq!(
        store.delete_admin(alice.id).await.unwrap(),
        AdminRemoval::Removed
    );

    assert_eq!(store.get_admin(alice.id).await.unwrap(), None);
    assert_eq!(
        store.get_session("alice-session", 1_001).await.unwrap(),
        None
    );
    assert_eq!(
        store.count_unused_recovery_codes(alice.id).await.unwrap(),
        0
    );
    let orphan_token = store.get_active_api_token("token-hash").await.unwrap();
    assert_eq!(
        orphan_token,
        Some(StoredApiToken {
            created_by: None,
            ..token
        }),
        "tokens outlive their creator"
    );

    assert!(
        store
            .get_session("bob-session", 1_001)
            .await
            .unwrap()
            .is_some()
    );
    assert_eq!(store.count_unused_recovery_codes(bob.id).await.unwrap(), 2);
}

#[tokio::test]
async fn last_admin_is_never_deleted() {
    let test = open_store().await;
    let store = &test.store;
    let alice = create_admin(store, "alice").await;

    assert_eq!(
        store.delete_admin(alice.id).await.unwrap(),
        AdminRemoval::LastAdmin
    );
    assert_eq!(store.count_admins().await.unwrap(), 1);
    assert_eq!(
        store.delete_admin(alice.id + 100).await.unwrap(),
        AdminRemoval::NotFound
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn mutual_delete_race_keeps_one_admin() {
    let test = open_store().await;
    let alice = create_admin(&test.store, "alice").await;
    let bob = create_admin(&test.store, "bob").await;

    let first = {
        let store = test.store.clone();
        tokio::spawn(async move { store.delete_admin(bob.id).await })
    };
    let second = {
        let store = test.store.clone();
        tokio::spawn(async move { store.delete_admin(alice.id).await })
    };
    let mut outcomes = vec![
        first.await.unwrap().unwrap(),
        second.await.unwrap().unwrap(),
    ];
    outcomes.sort_by_key(|outcome| format!("{outcome:?}"));

    assert_eq!(
        outcomes,
        vec![AdminRemoval::LastAdmin, AdminRemoval::Removed]
    );
    assert_eq!(test.store.count_admins().await.unwrap(), 1);
}

#[tokio::test]
async fn accounts_survive_reopen() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("onesheet.db");
    let store = SqliteStore::open(&path).await.unwrap();
    let alice = create_admin(&store, "alice").await;
    store.close().await;

    let reopened = SqliteStore::open(&path).await.unwrap();
    assert_eq!(reopened.get_admin(alice.id).await.unwrap(), Some(alice));
}
