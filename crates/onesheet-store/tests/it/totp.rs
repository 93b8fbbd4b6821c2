//! TOTP enrolment, replay protection and recovery codes.

use onesheet_store::{Store, StoreError};

use super::support::{create_admin, open_store};

#[tokio::test]
async fn enrolment_promotes_checked_pending_secret() {
    let test = open_store().await;
    let store = &test.store;
    let alice = create_admin(store, "alice").await;

    assert!(
        store
            .set_totp_pending(alice.id, Some(b"sealed-first"))
            .await
            .unwrap()
    );
    // A second enrolment replaces the first before the code of the first arrives.
    assert!(
        store
            .set_totp_pending(alice.id, Some(b"sealed-second"))
            .await
            .unwrap()
    );
    assert!(
        !store
            .confirm_totp(alice.id, b"sealed-first", 100)
            .await
            .unwrap()
    );

    assert!(
        store
            .confirm_totp(alice.id, b"sealed-second", 100)
            .await
            .unwrap()
    );
    let enrolled = store.get_admin(alice.id).await.unwrap().unwrap();
    assert!(enrolled.totp_enabled());
    assert_eq!(enrolled.totp_secret.as_deref(), Some(&b"sealed-second"[..]));
    assert_eq!(enrolled.totp_pending_secret, None);
    assert_eq!(enrolled.totp_last_step, Some(100));

    // The confirming code counts as used.
    assert!(!store.claim_totp_step(alice.id, 100).await.unwrap());
    assert!(store.claim_totp_step(alice.id, 101).await.unwrap());
}

#[tokio::test]
async fn confirm_without_pending_secret_fails() {
    let test = open_store().await;
    let store = &test.store;
    let alice = create_admin(store, "alice").await;

    assert!(!store.confirm_totp(alice.id, b"anything", 5).await.unwrap());
    let unchanged = store.get_admin(alice.id).await.unwrap().unwrap();
    assert!(!unchanged.totp_enabled());
    assert_eq!(unchanged.totp_last_step, None);
}

#[tokio::test]
async fn reenrolment_keeps_old_secret_until_confirmed() {
    let test = open_store().await;
    let store = &test.store;
    let alice = create_admin(store, "alice").await;
    store
        .set_totp_pending(alice.id, Some(b"old"))
        .await
        .unwrap();
    store.confirm_totp(alice.id, b"old", 10).await.unwrap();

    store
        .set_totp_pending(alice.id, Some(b"new"))
        .await
        .unwrap();
    let during = store.get_admin(alice.id).await.unwrap().unwrap();
    assert_eq!(during.totp_secret.as_deref(), Some(&b"old"[..]));
    assert_eq!(during.totp_pending_secret.as_deref(), Some(&b"new"[..]));

    // Abandoning the enrolment leaves the confirmed secret alone.
    store.set_totp_pending(alice.id, None).await.unwrap();
    let after = store.get_admin(alice.id).await.unwrap().unwrap();
    assert_eq!(after.totp_secret.as_deref(), Some(&b"old"[..]));
    assert_eq!(after.totp_pending_secret, None);
}

#[tokio::test]
async fn disable_clears_totp_state() {
    let test = open_store().await;
    let store = &test.store;
    let alice = create_admin(store, "alice").await;
    store
        .set_totp_pending(alice.id, Some(b"secret"))
        .await
        .unwrap();
    store.confirm_totp(alice.id, b"secret", 50).await.unwrap();
    store
        .set_totp_pending(alice.id, Some(b"pending"))
        .await
        .unwrap();

    assert!(store.disable_totp(alice.id).await.unwrap());
    let disabled = store.get_admin(alice.id).await.unwrap().unwrap();
    assert_eq!(disabled.totp_secret, None);
    assert_eq!(disabled.totp_pending_secret, None);
    assert_eq!(disabled.totp_last_step, None);

    assert!(!store.disable_totp(alice.id + 100).await.unwrap());
    assert!(
        !store
            .set_totp_pending(alice.id + 100, Some(b"x"))
            .await
            .unwrap()
    );
}

#[tokio::test]
async fn totp_step_is_claimed_once_and_in_order() {
    let test = open_store().await;
    let store = &test.store;
    let alice = create_admin(store, "alice").await;
    let bob = create_admin(store, "bob").await;

    assert!(store.claim_totp_step(alice.id, 1_000).await.unwrap());
    assert!(
        !store.claim_totp_step(alice.id, 1_000).await.unwrap(),
        "same step twice"
    );
    assert!(
        !store.claim_totp_step(alice.id, 999).await.unwrap(),
        "older step"
    );
    assert!(store.claim_totp_step(alice.id, 1_001).await.unwrap());
    assert!(
        store.claim_totp_step(bob.id, 1_000).await.unwrap(),
        "steps are per account"
    );
    assert!(!store.claim_totp_step(alice.id + 100, 5).await.unwrap());

    let stored = store.get_admin(alice.id).await.unwrap().unwrap();
    assert_eq!(stored.totp_last_step, Some(1_001));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_claims_of_one_step_have_one_winner() {
    let test = open_store().await;
    let alice = create_admin(&test.store, "alice").await;

    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..8 {
        let store = test.store.clone();
        tasks.spawn(async move { store.claim_totp_step(alice.id, 42).await });
    }
    let mut winners = 0;
    while let Some(result) = tasks.join_next().await {
        if result.unwrap().unwrap() {
            winners += 1;
        }
    }
    assert_eq!(winners, 1);
}

fn code_hashes(prefix: &str) -> Vec<String> {
    (0..10).map(|index| format!("{prefix}-{index}")).collect()
}

#[tokio::test]
async fn recovery_codes_are_single_use() {
    let test = open_store().await;
    let store = &test.store;
    let alice = create_admin(store, "alice").await;
    let bob = create_admin(store, "bob").await;
    assert_eq!(
        store.count_unused_recovery_codes(alice.id).await.unwrap(),
        0
    );

    store
        .replace_recovery_codes(alice.id, &code_hashes("a"), 1_000)
        .await
        .unwrap();
    assert_eq!(
        store.count_unused_recovery_codes(alice.id).await.unwrap(),
        10
    );

    assert!(
        store
            .use_recovery_code(alice.id, "a-3", 2_000)
            .await
            .unwrap()
    );
    assert!(
        !store
            .use_recovery_code(alice.id, "a-3", 2_001)
            .await
            .unwrap(),
        "second use"
    );
    assert!(
        !store
            .use_recovery_code(alice.id, "a-99", 2_000)
            .await
            .unwrap()
    );
    assert!(
        !store.use_recovery_code(bob.id, "a-4", 2_000).await.unwrap(),
        "another account's code"
    );
    assert_eq!(
        store.count_unused_recovery_codes(alice.id).await.unwrap(),
        9
    );
}

#[tokio::test]
async fn recovery_code_replacement_discards_old_codes() {
    let test = open_store().await;
    let store = &test.store;
    let alice = create_admin(store, "alice").await;
    store
        .replace_recovery_codes(alice.id, &code_hashes("old"), 1_000)
        .await
        .unwrap();
    store
        .use_recovery_code(alice.id, "old-0", 1_500)
        .await
        .unwrap();

    store
        .replace_recovery_codes(alice.id, &code_hashes("new"), 2_000)
        .await
        .unwrap();
    assert_eq!(
        store.count_unused_recovery_codes(alice.id).await.unwrap(),
        10
    );
    assert!(
        !store
            .use_recovery_code(alice.id, "old-1", 2_100)
            .await
            .unwrap()
    );
    assert!(
        store
            .use_recovery_code(alice.id, "new-1", 2_100)
            .await
            .unwrap()
    );
}

#[tokio::test]
async fn duplicate_recovery_code_keeps_previous_set() {
    let test = open_store().await;
    let store = &test.store;
    let alice = create_admin(store, "alice").await;
    store
        .replace_recovery_codes(alice.id, &code_hashes("old"), 1_000)
        .await
        .unwrap();

    let duplicated = vec!["same".to_owned(), "same".to_owned()];
    let error = store
        .replace_recovery_codes(alice.id, &duplicated, 2_000)
        .await
        .unwrap_err();
    assert!(matches!(error, StoreError::Conflict { .. }), "{error}");
    assert!(!error.to_string().contains("same"), "{error}");

    assert_eq!(
        store.count_unused_recovery_codes(alice.id).await.unwrap(),
        10
    );
    assert!(
        store
            .use_recovery_code(alice.id, "old-2", 2_100)
            .await
            .unwrap()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_uses_of_one_code_have_one_winner() {
    let test = open_store().await;
    let alice = create_admin(&test.store, "alice").await;
    test.store
        .replace_recovery_codes(alice.id, &code_hashes("c"), 1_000)
        .await
        .unwrap();

    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..8 {
        let store = test.store.clone();
        tasks.spawn(async move { store.use_recovery_code(alice.id, "c-5", 2_000).await });
    }
    let mut winners = 0;
    while let Some(result) = tasks.join_next().await {
        if result.unwrap().unwrap() {
            winners += 1;
        }
    }
    assert_eq!(winners, 1);
    assert_eq!(
        test.store
            .count_unused_recovery_codes(alice.id)
            .await
            .unwrap(),
        9
    );
}
