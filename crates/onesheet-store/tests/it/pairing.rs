//! Pairing codes: storage, single-use claims, expiry, restarts and pruning.

use onesheet_store::{
    NewDevice, NewPairingCode, PairingClaim, SqliteStore, Store, StoreError, StoredPairingCode,
};

use super::support::{device_id, new_device, open_store};

fn new_code(code_hash: &str, created_at: i64) -> NewPairingCode {
    NewPairingCode {
        code_hash: code_hash.to_owned(),
        ticket_hash: format!("ticket-{code_hash}"),
        created_at,
        expires_at: created_at + 600,
        address: Some("198.51.100.4".to_owned()),
        user_agent: Some("Mozilla/5.0 (Linux; Android 12; TV)".to_owned()),
    }
}

/// Builds a device as the claim page creates it: no address or secret of its own yet.
fn claimed_device(id: &str) -> NewDevice {
    NewDevice {
        secret_hash: None,
        address: None,
        user_agent: None,
        ..new_device(id, "Lobby")
    }
}

#[tokio::test]
async fn code_is_found_by_ticket() {
    let test = open_store().await;
    let store = &test.store;
    store
        .insert_pairing_code(&new_code("code-a", 1_000))
        .await
        .unwrap();

    let found = store
        .get_pairing_code_by_ticket("ticket-code-a")
        .await
        .unwrap();
    assert_eq!(
        found,
        Some(StoredPairingCode {
            code_hash: "code-a".to_owned(),
            ticket_hash: "ticket-code-a".to_owned(),
            created_at: 1_000,
            expires_at: 1_600,
            used_at: None,
            device_id: None,
            address: Some("198.51.100.4".to_owned()),
            user_agent: Some("Mozilla/5.0 (Linux; Android 12; TV)".to_owned()),
        })
    );
    assert_eq!(
        store
            .get_pairing_code_by_ticket("ticket-other")
            .await
            .unwrap(),
        None
    );
}

#[tokio::test]
async fn claim_creates_device_and_marks_code_used() {
    let test = open_store().await;
    let store = &test.store;
    store
        .insert_pairing_code(&new_code("code-a", 1_000))
        .await
        .unwrap();

    let claim = store
        .claim_pairing_code("code-a", &claimed_device("d1"), 1_100)
        .await
        .unwrap();
    let PairingClaim::Claimed(device) = claim else {
        panic!("expected a claim, got {claim:?}");
    };
    assert_eq!(device.id, device_id("d1"));
    assert_eq!(device.name, "Lobby");
    assert_eq!(device.last_address.as_deref(), Some("198.51.100.4"));
    assert_eq!(
        device.last_user_agent.as_deref(),
        Some("Mozilla/5.0 (Linux; Android 12; TV)")
    );
    assert_eq!(
        store.get_device(&device.id).await.unwrap(),
        Some(*device.clone())
    );

    let code = store
        .get_pairing_code_by_ticket("ticket-code-a")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(code.used_at, Some(1_100));
    assert_eq!(code.device_id, Some(device.id));
    assert!(!code.is_claimable(1_100));

    let again = store
        .claim_pairing_code("code-a", &claimed_device("d2"), 1_200)
        .await
        .unwrap();
    assert_eq!(again, PairingClaim::AlreadyUsed);
    assert_eq!(store.get_device(&device_id("d2")).await.unwrap(), None);
}

#[tokio::test]
async fn claim_keeps_address_the_caller_sets() {
    let test = open_store().await;
    let store = &test.store;
    store
        .insert_pairing_code(&new_code("code-a", 1_000))
        .await
        .unwrap();
    let device = NewDevice {
        address: Some("203.0.113.8".to_owned()),
        ..claimed_device("d1")
    };
    let PairingClaim::Claimed(claimed) = store
        .claim_pairing_code("code-a", &device, 1_100)
        .await
        .unwrap()
    else {
        panic!("expected a claim");
    };
    assert_eq!(claimed.last_address.as_deref(), Some("203.0.113.8"));
    assert_eq!(
        claimed.last_user_agent.as_deref(),
        Some("Mozilla/5.0 (Linux; Android 12; TV)"),
        "missing value taken from the request"
    );
}

#[tokio::test]
async fn pairing_code_is_single_use() {
    let test = open_store().await;
    let store = &test.store;
    store
        .insert_pairing_code(&new_code("code-a", 1_000))
        .await
        .unwrap();

    let claims = (0..8).map(|index| {
        let store = store.clone();
        tokio::spawn(async move {
            store
                .claim_pairing_code("code-a", &claimed_device(&format!("d{index}")), 1_100)
                .await
                .unwrap()
        })
    });
    let mut outcomes = Vec::new();
    for claim in claims.collect::<Vec<_>>() {
        outcomes.push(claim.await.unwrap());
    }

    let claimed: Vec<_> = outcomes
        .iter()
        .filter(|outcome| matches!(outcome, PairingClaim::Claimed(_)))
        .collect();
    assert_eq!(claimed.len(), 1, "{outcomes:?}");
    let used = outcomes
        .iter()
        .filter(|outcome| **outcome == PairingClaim::AlreadyUsed)
        .count();
    assert_eq!(used, 7, "{outcomes:?}");

    let devices = store.list_devices(&Default::default()).await.unwrap();
    assert_eq!(devices.len(), 1, "only the winning claim created a device");
}

#[tokio::test]
async fn expired_and_unknown_codes_cannot_be_claimed() {
    let test = open_store().await;
    let store = &test.store;
    store
        .insert_pairing_code(&new_code("code-a", 1_000))
        .await
        .unwrap();

    assert_eq!(
        store
            .claim_pairing_code("code-a", &claimed_device("d1"), 1_600)
            .await
            .unwrap(),
        PairingClaim::Expired
    );
    assert_eq!(
        store
            .claim_pairing_code("code-b", &claimed_device("d1"), 1_100)
            .await
            .unwrap(),
        PairingClaim::NotFound
    );
    assert_eq!(store.get_device(&device_id("d1")).await.unwrap(), None);

    assert!(matches!(
        store
            .claim_pairing_code("code-a", &claimed_device("d1"), 1_599)
            .await
            .unwrap(),
        PairingClaim::Claimed(_)
    ));
}

#[tokio::test]
async fn failed_claim_leaves_code_unused() {
    let test = open_store().await;
    let store = &test.store;
    store
        .insert_pairing_code(&new_code("code-a", 1_000))
        .await
        .unwrap();
    store
        .create_device(&new_device("taken", "Taken"))
        .await
        .unwrap();

    let error = store
        .claim_pairing_code("code-a", &claimed_device("taken"), 1_100)
        .await
        .unwrap_err();
    assert!(matches!(error, StoreError::Conflict { .. }), "{error}");

    let missing_profile = NewDevice {
        profile_id: Some(99),
        ..claimed_device("d1")
    };
    let error = store
        .claim_pairing_code("code-a", &missing_profile, 1_100)
        .await
        .unwrap_err();
    assert!(
        matches!(
            error,
            StoreError::NotFound {
                what: "device profile",
                ..
            }
        ),
        "{error}"
    );
    assert_eq!(store.get_device(&device_id("d1")).await.unwrap(), None);

    let code = store
        .get_pairing_code_by_ticket("ticket-code-a")
        .await
        .unwrap()
        .unwrap();
    assert!(code.is_claimable(1_100), "{code:?}");
}

#[tokio::test]
async fn code_hash_conflicts_until_expiry() {
    let test = open_store().await;
    let store = &test.store;
    store
        .insert_pairing_code(&new_code("code-a", 1_000))
        .await
        .unwrap();

    let mut again = new_code("code-a", 1_100);
    again.ticket_hash = "ticket-fresh".to_owned();
    let error = store.insert_pairing_code(&again).await.unwrap_err();
    assert!(matches!(error, StoreError::Conflict { .. }), "{error}");
    assert!(!error.to_string().contains("code-a"), "{error}");

    let mut same_ticket = new_code("code-b", 1_100);
    same_ticket.ticket_hash = "ticket-code-a".to_owned();
    let error = store.insert_pairing_code(&same_ticket).await.unwrap_err();
    assert!(matches!(error, StoreError::Conflict { .. }), "{error}");

    let mut after_expiry = new_code("code-a", 1_600);
    after_expiry.ticket_hash = "ticket-fresh".to_owned();
    store.insert_pairing_code(&after_expiry).await.unwrap();
    let replaced = store
        .get_pairing_code_by_ticket("ticket-fresh")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(replaced.expires_at, 2_200);
    assert_eq!(
        store
            .get_pairing_code_by_ticket("ticket-code-a")
            .await
            .unwrap(),
        None
    );
}

#[tokio::test]
async fn claimed_code_is_never_replaced() {
    let test = open_store().await;
    let store = &test.store;
    store
        .insert_pairing_code(&new_code("code-a", 1_000))
        .await
        .unwrap();
    store
        .claim_pairing_code("code-a", &claimed_device("d1"), 1_100)
        .await
        .unwrap();

    let mut later = new_code("code-a", 5_000);
    later.ticket_hash = "ticket-later".to_owned();
    let error = store.insert_pairing_code(&later).await.unwrap_err();
    assert!(matches!(error, StoreError::Conflict { .. }), "{error}");
}

#[tokio::test]
async fn prune_keeps_claims_waiting_for_their_secret() {
    let test = open_store().await;
    let store = &test.store;
    for (hash, created_at) in [
        ("pending-live", 2_000),
        ("pending-old", 1_000),
        ("claimed-waiting", 1_000),
        ("claimed-done", 1_000),
        ("claimed-revoked", 1_000),
    ] {
        store
            .insert_pairing_code(&new_code(hash, created_at))
            .await
            .unwrap();
    }
    for (hash, device) in [
        ("claimed-waiting", "waiting"),
        ("claimed-done", "done"),
        ("claimed-revoked", "revoked"),
    ] {
        store
            .claim_pairing_code(hash, &claimed_device(device), 1_100)
            .await
            .unwrap();
    }
    store
        .issue_device_secret(&device_id("done"), "secret")
        .await
        .unwrap();
    store
        .revoke_device(&device_id("revoked"), 1_200)
        .await
        .unwrap();

    assert_eq!(store.prune_pairing_codes(1_600).await.unwrap(), 3);
    let remaining = remaining_tickets(store).await;
    assert_eq!(remaining, ["ticket-claimed-waiting", "ticket-pending-live"]);

    assert!(store.delete_device(&device_id("waiting")).await.unwrap());
    assert_eq!(
        remaining_tickets(store).await,
        ["ticket-pending-live"],
        "deleting the device deletes its code"
    );
}

async fn remaining_tickets(store: &SqliteStore) -> Vec<&'static str> {
    let mut remaining = Vec::new();
    for ticket in [
        "ticket-pending-live",
        "ticket-pending-old",
        "ticket-claimed-waiting",
        "ticket-claimed-done",
        "ticket-claimed-revoked",
    ] {
        if store
            .get_pairing_code_by_ticket(ticket)
            .await
            .unwrap()
            .is_some()
        {
            remaining.push(ticket);
        }
    }
    remaining.sort_unstable();
    remaining
}

#[tokio::test]
async fn pending_code_survives_restart() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("onesheet.db");
    let store = SqliteStore::open(&path).await.unwrap();
    store
        .insert_pairing_code(&new_code("code-a", 1_000))
        .await
        .unwrap();
    store.close().await;

    let reopened = SqliteStore::open(&path).await.unwrap();
    let code = reopened
        .get_pairing_code_by_ticket("ticket-code-a")
        .await
        .unwrap()
        .unwrap();
    assert!(code.is_claimable(1_100));
    assert!(matches!(
        reopened
            .claim_pairing_code("code-a", &claimed_device("d1"), 1_100)
            .await
            .unwrap(),
        PairingClaim::Claimed(_)
    ));
}
