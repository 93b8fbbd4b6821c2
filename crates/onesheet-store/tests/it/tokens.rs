//! API tokens: creation, lookup by hash, use and revocation.

use onesheet_store::{NewApiToken, Store, StoreError, StoredApiToken};

use super::support::{create_admin, open_store};

fn new_token(name: &str, hash: &str, created_by: Option<i64>, created_at: i64) -> NewApiToken {
    NewApiToken {
        name: name.to_owned(),
        scope: "devices".to_owned(),
        token_hash: hash.to_owned(),
        created_by,
        created_at,
    }
}

#[tokio::test]
async fn token_round_trips_and_is_found_by_hash() {
    let test = open_store().await;
    let store = &test.store;
    let alice = create_admin(store, "alice").await;

    let token = store
        .insert_api_token(&new_token(
            "home-assistant",
            "hash-ha",
            Some(alice.id),
            1_000,
        ))
        .await
        .unwrap();
    assert_eq!(
        token,
        StoredApiToken {
            id: token.id,
            name: "home-assistant".to_owned(),
            scope: "devices".to_owned(),
            token_hash: "hash-ha".to_owned(),
            created_by: Some(alice.id),
            created_at: 1_000,
            last_used_at: None,
            revoked_at: None,
        }
    );

    assert_eq!(
        store.get_active_api_token("hash-ha").await.unwrap(),
        Some(token.clone())
    );
    assert_eq!(
        store.get_api_token(token.id).await.unwrap(),
        Some(token.clone())
    );
    assert_eq!(
        store.get_active_api_token("hash-other").await.unwrap(),
        None
    );
    assert_eq!(store.get_api_token(token.id + 100).await.unwrap(), None);
}

#[tokio::test]
async fn command_line_token_has_no_creator() {
    let test = open_store().await;
    let token = test
        .store
        .insert_api_token(&new_token("cli", "hash-cli", None, 1_000))
        .await
        .unwrap();
    let stored = test.store.get_api_token(token.id).await.unwrap().unwrap();
    assert_eq!(stored.created_by, None);
}

#[tokio::test]
async fn duplicate_token_hash_conflicts() {
    let test = open_store().await;
    let store = &test.store;
    store
        .insert_api_token(&new_token("one", "same-hash", None, 1_000))
        .await
        .unwrap();
    let error = store
        .insert_api_token(&new_token("two", "same-hash", None, 1_001))
        .await
        .unwrap_err();
    assert!(matches!(error, StoreError::Conflict { .. }), "{error}");
    assert!(!error.to_string().contains("same-hash"), "{error}");
}

#[tokio::test]
async fn token_use_is_recorded() {
    let test = open_store().await;
    let store = &test.store;
    let token = store
        .insert_api_token(&new_token("ci", "hash-ci", None, 1_000))
        .await
        .unwrap();

    assert!(store.record_api_token_use(token.id, 1_500).await.unwrap());
    let used = store.get_api_token(token.id).await.unwrap().unwrap();
    assert_eq!(used.last_used_at, Some(1_500));
    assert!(
        !store
            .record_api_token_use(token.id + 100, 1_500)
            .await
            .unwrap()
    );
}

#[tokio::test]
async fn revoked_token_stops_matching() {
    let test = open_store().await;
    let store = &test.store;
    let token = store
        .insert_api_token(&new_token("ci", "hash-ci", None, 1_000))
        .await
        .unwrap();

    assert!(store.revoke_api_token(token.id, 2_000).await.unwrap());
    assert!(
        !store.revoke_api_token(token.id, 3_000).await.unwrap(),
        "already revoked"
    );
    assert!(!store.revoke_api_token(token.id + 100, 2_000).await.unwrap());

    assert_eq!(store.get_active_api_token("hash-ci").await.unwrap(), None);
    let revoked = store.get_api_token(token.id).await.unwrap().unwrap();
    assert_eq!(
        revoked.revoked_at,
        Some(2_000),
        "the first revocation time stays"
    );
}

#[tokio::test]
async fn tokens_are_listed_oldest_first_with_revoked() {
    let test = open_store().await;
    let store = &test.store;
    let late = store
        .insert_api_token(&new_token("late", "hash-late", None, 2_000))
        .await
        .unwrap();
    let early = store
        .insert_api_token(&new_token("early", "hash-early", None, 1_000))
        .await
        .unwrap();
    store.revoke_api_token(early.id, 3_000).await.unwrap();

    let listed = store.list_api_tokens().await.unwrap();
    let names: Vec<&str> = listed.iter().map(|token| token.name.as_str()).collect();
    assert_eq!(names, ["early", "late"]);
    assert_eq!(listed[0].revoked_at, Some(3_000));
    assert_eq!(listed[1], late);
}
