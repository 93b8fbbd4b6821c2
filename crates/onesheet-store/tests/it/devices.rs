//! Device records: creation, filters, changes, secrets, revocation, deletion, duplicates and
//! merges.

use onesheet_domain::{Command, CommandState, DeviceRecord, GroupMode};
use onesheet_store::{
    DeviceChanges, DeviceFilter, DeviceMerge, NewCommand, NewDevice, NewGroup, NewProfile,
    SqliteStore, Store, StoreError, StoredSecret,
};
use serde_json::json;

use super::support::{create_device, device_id, new_device, open_store, overrides};

async fn create_profile(store: &SqliteStore, name: &str) -> i64 {
    let profile = NewProfile {
        name: name.to_owned(),
        overrides: overrides(json!({"screensaver": {"interval_seconds": 20}})),
        created_at: 1_000,
    };
    store.create_profile(&profile).await.unwrap().id
}

async fn create_group(store: &SqliteStore, name: &str) -> i64 {
    let group = NewGroup {
        name: name.to_owned(),
        mode: GroupMode::Distinct,
        overrides: overrides(json!({})),
        created_at: 1_000,
    };
    store.create_group(&group).await.unwrap().id
}

fn names(devices: &[DeviceRecord]) -> Vec<&str> {
    devices.iter().map(|device| device.name.as_str()).collect()
}

#[tokio::test]
async fn device_round_trips_every_field() {
    let test = open_store().await;
    let store = &test.store;
    let profile_id = create_profile(store, "Family").await;
    let group_id = create_group(store, "Bar wall").await;

    let new = NewDevice {
        location: Some("Lobby".to_owned()),
        profile_id: Some(profile_id),
        group_id: Some(group_id),
        overrides: overrides(json!({"filter": {"min_rating": 6.5}})),
        ..new_device("lobby-left", "Lobby left")
    };
    let created = store.create_device(&new).await.unwrap();
    assert_eq!(
        created,
        DeviceRecord {
            id: device_id("lobby-left"),
            name: "Lobby left".to_owned(),
            location: Some("Lobby".to_owned()),
            profile_id: Some(profile_id),
            group_id: Some(group_id),
            overrides: overrides(json!({"filter": {"min_rating": 6.5}})),
            created_at: 1_000,
            last_seen_at: None,
            last_address: Some("192.0.2.10".to_owned()),
            last_user_agent: Some("Mozilla/5.0 (SMART-TV; Linux; Tizen 6.0)".to_owned()),
            last_status: None,
            revoked_at: None,
            merged_into: None,
        }
    );
    assert_eq!(
        store.get_device(&device_id("lobby-left")).await.unwrap(),
        Some(created)
    );
    assert_eq!(store.get_device(&device_id("nobody")).await.unwrap(), None);
}

#[tokio::test]
async fn duplicate_device_id_conflicts() {
    let test = open_store().await;
    create_device(&test.store, "d1", "First").await;
    let error = test
        .store
        .create_device(&new_device("d1", "Second"))
        .await
        .unwrap_err();
    assert!(
        matches!(error, StoreError::Conflict { ref id, .. } if id == "d1"),
        "{error}"
    );
}

#[tokio::test]
async fn device_with_missing_profile_or_group_is_rejected() {
    let test = open_store().await;
    let store = &test.store;

    let error = store
        .create_device(&NewDevice {
            profile_id: Some(404),
            ..new_device("d1", "Hallway")
        })
        .await
        .unwrap_err();
    assert!(
        matches!(error, StoreError::NotFound { what: "device profile", ref id } if id == "404"),
        "{error}"
    );

    let error = store
        .create_device(&NewDevice {
            group_id: Some(405),
            ..new_device("d1", "Hallway")
        })
        .await
        .unwrap_err();
    assert!(
        matches!(error, StoreError::NotFound { what: "device group", ref id } if id == "405"),
        "{error}"
    );
    assert_eq!(store.get_device(&device_id("d1")).await.unwrap(), None);
}

#[tokio::test]
async fn list_filters_by_each_field() {
    let test = open_store().await;
    let store = &test.store;
    let family = create_profile(store, "Family").await;
    let bar = create_group(store, "Bar").await;

    let devices = [
        NewDevice {
            location: Some("Lobby".to_owned()),
            profile_id: Some(family),
            ..new_device("d1", "Lobby Left")
        },
        NewDevice {
            location: Some("Lobby".to_owned()),
            group_id: Some(bar),
            ..new_device("d2", "lobby right")
        },
        NewDevice {
            location: Some("Bar".to_owned()),
            group_id: Some(bar),
            profile_id: Some(family),
            ..new_device("d3", "Bar 100% Ｗｉｄｅ")
        },
        new_device("d4", "Attic"),
    ];
    for device in &devices {
        store.create_device(device).await.unwrap();
    }

    let list = |filter: DeviceFilter| async move { store.list_devices(&filter).await.unwrap() };

    let all = list(DeviceFilter::default()).await;
    assert_eq!(
        names(&all),
        ["Attic", "Bar 100% Ｗｉｄｅ", "Lobby Left", "lobby right"],
        "ordered by folded name"
    );

    let lobby = list(DeviceFilter {
        location: Some("Lobby".to_owned()),
        ..DeviceFilter::default()
    })
    .await;
    assert_eq!(names(&lobby), ["Lobby Left", "lobby right"]);

    let in_bar = list(DeviceFilter {
        group_id: Some(bar),
        ..DeviceFilter::default()
    })
    .await;
    assert_eq!(names(&in_bar), ["Bar 100% Ｗｉｄｅ", "lobby right"]);

    let family_bar = list(DeviceFilter {
        group_id: Some(bar),
        profile_id: Some(family),
        ..DeviceFilter::default()
    })
    .await;
    assert_eq!(names(&family_bar), ["Bar 100% Ｗｉｄｅ"]);

    let searches = [
        ("LOBBY", vec!["Lobby Left", "lobby right"]),
        ("wide", vec!["Bar 100% Ｗｉｄｅ"]),
        ("100%", vec!["Bar 100% Ｗｉｄｅ"]),
        ("%", vec!["Bar 100% Ｗｉｄｅ"]),
        ("_", vec![]),
        (
            "",
            vec!["Attic", "Bar 100% Ｗｉｄｅ", "Lobby Left", "lobby right"],
        ),
    ];
    for (search, expected) in searches {
        let found = list(DeviceFilter {
            search: Some(search.to_owned()),
            ..DeviceFilter::default()
        })
        .await;
        assert_eq!(names(&found), expected, "search {search:?}");
    }
}

#[tokio::test]
async fn update_changes_only_given_fields() {
    let test = open_store().await;
    let store = &test.store;
    let family = create_profile(store, "Family").await;
    let bar = create_group(store, "Bar").await;
    let created = store
        .create_device(&NewDevice {
            location: Some("Lobby".to_owned()),
            ..new_device("d1", "Hallway")
        })
        .await
        .unwrap();

    let unchanged = store
        .update_device(&created.id, &DeviceChanges::default())
        .await
        .unwrap();
    assert_eq!(unchanged, Some(created.clone()));

    let changes = DeviceChanges {
        name: Some("Foyer".to_owned()),
        profile_id: Some(Some(family)),
        group_id: Some(Some(bar)),
        overrides: Some(overrides(json!({"screensaver": {"show_logo": false}}))),
        ..DeviceChanges::default()
    };
    let updated = store
        .update_device(&created.id, &changes)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(updated.name, "Foyer");
    assert_eq!(updated.location.as_deref(), Some("Lobby"), "untouched");
    assert_eq!(updated.profile_id, Some(family));
    assert_eq!(updated.group_id, Some(bar));
    assert_eq!(
        updated.overrides,
        overrides(json!({"screensaver": {"show_logo": false}}))
    );

    let cleared = store
        .update_device(
            &created.id,
            &DeviceChanges {
                location: Some(None),
                group_id: Some(None),
                overrides: Some(overrides(json!({}))),
                ..DeviceChanges::default()
            },
        )
        .await
        .unwrap()
        .unwrap();
    assert_eq!(cleared.location, None);
    assert_eq!(cleared.group_id, None);
    assert_eq!(cleared.profile_id, Some(family), "untouched");
    assert!(cleared.overrides.is_empty());

    let found = store
        .list_devices(&DeviceFilter {
            search: Some("foyer".to_owned()),
            ..DeviceFilter::default()
        })
        .await
        .unwrap();
    assert_eq!(names(&found), ["Foyer"], "search follows the new name");
}

#[tokio::test]
async fn update_of_missing_device_or_reference() {
    let test = open_store().await;
    let store = &test.store;
    let changes = DeviceChanges {
        name: Some("Ghost".to_owned()),
        ..DeviceChanges::default()
    };
    assert_eq!(
        store
            .update_device(&device_id("ghost"), &changes)
            .await
            .unwrap(),
        None
    );

    let created = create_device(store, "d1", "Hallway").await;
    let error = store
        .update_device(
            &created.id,
            &DeviceChanges {
                group_id: Some(Some(77)),
                ..DeviceChanges::default()
            },
        )
        .await
        .unwrap_err();
    assert!(
        matches!(
            error,
            StoreError::NotFound {
                what: "device group",
                ..
            }
        ),
        "{error}"
    );
    assert_eq!(store.get_device(&created.id).await.unwrap(), Some(created));
}

#[tokio::test]
async fn device_secret_is_issued_once() {
    let test = open_store().await;
    let store = &test.store;
    let id = device_id("d1");
    store
        .create_device(&NewDevice {
            secret_hash: None,
            ..new_device("d1", "Hallway")
        })
        .await
        .unwrap();

    let secret = |hash: &str, confirmed| {
        Some(StoredSecret {
            hash: hash.to_owned(),
            confirmed,
        })
    };
    assert_eq!(store.get_device_secret(&id).await.unwrap(), None);
    assert!(store.issue_device_secret(&id, "hash-one").await.unwrap());
    assert_eq!(
        store.get_device_secret(&id).await.unwrap(),
        secret("hash-one", false)
    );

    // An unused secret may be replaced; a confirmed one never is.
    assert!(store.issue_device_secret(&id, "hash-two").await.unwrap());
    store.confirm_device_secret(&id, 1_500).await.unwrap();
    store.confirm_device_secret(&id, 1_600).await.unwrap();
    assert!(
        !store.issue_device_secret(&id, "hash-three").await.unwrap(),
        "a confirmed secret stays"
    );
    assert_eq!(
        store.get_device_secret(&id).await.unwrap(),
        secret("hash-two", true)
    );
    assert_eq!(
        store.get_device_secret(&device_id("ghost")).await.unwrap(),
        None
    );

    assert!(store.revoke_device(&id, 2_000).await.unwrap());
    assert_eq!(store.get_device_secret(&id).await.unwrap(), None);
}

#[tokio::test]
async fn revoke_keeps_first_time() {
    let test = open_store().await;
    let store = &test.store;
    let created = create_device(store, "d1", "Hallway").await;

    assert!(store.revoke_device(&created.id, 2_000).await.unwrap());
    assert!(!store.revoke_device(&created.id, 3_000).await.unwrap());
    assert!(
        !store
            .revoke_device(&device_id("ghost"), 2_000)
            .await
            .unwrap()
    );

    let revoked = store.get_device(&created.id).await.unwrap().unwrap();
    assert_eq!(revoked.revoked_at, Some(2_000));
    assert!(!revoked.is_active());
    assert!(
        !store
            .issue_device_secret(&created.id, "late")
            .await
            .unwrap()
    );
}

#[tokio::test]
async fn delete_cascades_and_clears_merge_links() {
    let test = open_store().await;
    let store = &test.store;
    let old = create_device(store, "old", "Hallway").await;
    let new = create_device(store, "new", "New screen").await;
    store
        .enqueue_command(
            &NewCommand {
                device_id: new.id.clone(),
                command: Command::Reload,
                created_at: 1_000,
                expires_at: 2_000,
            },
            10,
        )
        .await
        .unwrap();
    store.merge_devices(&new.id, &old.id, 1_100).await.unwrap();

    assert!(store.delete_device(&new.id).await.unwrap());
    assert!(!store.delete_device(&new.id).await.unwrap());
    assert_eq!(store.get_device(&new.id).await.unwrap(), None);
    assert!(
        store
            .list_device_commands(&new.id, 10)
            .await
            .unwrap()
            .is_empty()
    );

    let retired = store.get_device(&old.id).await.unwrap().unwrap();
    assert_eq!(retired.merged_into, None, "link to the deleted survivor");
}

#[tokio::test]
async fn duplicates_share_address_and_user_agent() {
    let test = open_store().await;
    let store = &test.store;
    let original = create_device(store, "d1", "Hallway").await;
    let again = create_device(store, "d2", "New screen").await;
    store
        .create_device(&NewDevice {
            address: Some("192.0.2.99".to_owned()),
            ..new_device("d3", "Other address")
        })
        .await
        .unwrap();
    store
        .create_device(&NewDevice {
            user_agent: Some("Mozilla/5.0 (Android 12)".to_owned()),
            ..new_device("d4", "Other browser")
        })
        .await
        .unwrap();
    store
        .create_device(&NewDevice {
            address: None,
            user_agent: None,
            ..new_device("d5", "Unknown")
        })
        .await
        .unwrap();

    let found = store.find_possible_duplicates(&again.id).await.unwrap();
    assert_eq!(found, vec![original.clone()]);
    let found = store.find_possible_duplicates(&original.id).await.unwrap();
    assert_eq!(names(&found), ["New screen"]);
    assert!(
        store
            .find_possible_duplicates(&device_id("d5"))
            .await
            .unwrap()
            .is_empty(),
        "no address recorded"
    );

    store
        .merge_devices(&again.id, &original.id, 2_000)
        .await
        .unwrap();
    assert!(
        store
            .find_possible_duplicates(&again.id)
            .await
            .unwrap()
            .is_empty(),
        "a merged record is no longer a duplicate"
    );
}

#[tokio::test]
async fn merge_moves_settings_and_retires_record() {
    let test = open_store().await;
    let store = &test.store;
    let family = create_profile(store, "Family").await;
    let bar = create_group(store, "Bar").await;
    let old = store
        .create_device(&NewDevice {
            location: Some("Hall".to_owned()),
            profile_id: Some(family),
            group_id: Some(bar),
            overrides: overrides(json!({"screensaver": {"show_year": false}})),
            ..new_device("old", "Hallway")
        })
        .await
        .unwrap();
    let new = create_device(store, "new", "New screen").await;

    let merged = store.merge_devices(&new.id, &old.id, 2_000).await.unwrap();
    let DeviceMerge::Merged(survivor) = merged else {
        panic!("expected a merge, got {merged:?}");
    };
    assert_eq!(survivor.id, new.id);
    assert_eq!(survivor.name, "Hallway");
    assert_eq!(survivor.location.as_deref(), Some("Hall"));
    assert_eq!(survivor.profile_id, Some(family));
    assert_eq!(survivor.group_id, Some(bar));
    assert_eq!(
        survivor.overrides,
        overrides(json!({"screensaver": {"show_year": false}}))
    );
    assert_eq!(survivor.created_at, new.created_at);
    assert_eq!(
        store.get_device(&new.id).await.unwrap(),
        Some(*survivor.clone())
    );

    let retired = store.get_device(&old.id).await.unwrap().unwrap();
    assert_eq!(retired.merged_into, Some(new.id.clone()));
    assert_eq!(retired.name, "Hallway", "kept for the admin to recognise");
    assert_eq!(retired.location, None);
    assert_eq!(retired.profile_id, None);
    assert_eq!(retired.group_id, None);
    assert!(retired.overrides.is_empty());
    assert!(!retired.is_active());
    assert_eq!(
        store.get_device_secret(&old.id).await.unwrap(),
        None,
        "the retired record can no longer authenticate"
    );

    let listed = store.list_devices(&DeviceFilter::default()).await.unwrap();
    assert_eq!(listed, vec![*survivor]);
    let with_merged = store
        .list_devices(&DeviceFilter {
            include_merged: true,
            ..DeviceFilter::default()
        })
        .await
        .unwrap();
    assert_eq!(with_merged.len(), 2);
}

#[tokio::test]
async fn merge_keeps_survivor_values_as_fallback() {
    let test = open_store().await;
    let store = &test.store;
    let family = create_profile(store, "Family").await;
    let old = create_device(store, "old", "Hallway").await;
    let new = store
        .create_device(&NewDevice {
            location: Some("Foyer".to_owned()),
            profile_id: Some(family),
            overrides: overrides(json!({"screensaver": {"layout": "poster"}})),
            ..new_device("new", "New screen")
        })
        .await
        .unwrap();

    let DeviceMerge::Merged(survivor) = store.merge_devices(&new.id, &old.id, 2_000).await.unwrap()
    else {
        panic!("expected a merge");
    };
    assert_eq!(survivor.name, "Hallway");
    assert_eq!(survivor.location.as_deref(), Some("Foyer"));
    assert_eq!(survivor.profile_id, Some(family));
    assert_eq!(
        survivor.overrides,
        overrides(json!({"screensaver": {"layout": "poster"}}))
    );
}

#[tokio::test]
async fn merge_rejects_same_missing_and_merged_records() {
    let test = open_store().await;
    let store = &test.store;
    let a = create_device(store, "a", "A").await;
    let b = create_device(store, "b", "B").await;
    let c = create_device(store, "c", "C").await;
    let ghost = device_id("ghost");

    assert_eq!(
        store.merge_devices(&a.id, &a.id, 2_000).await.unwrap(),
        DeviceMerge::SameDevice
    );
    assert_eq!(
        store.merge_devices(&a.id, &ghost, 2_000).await.unwrap(),
        DeviceMerge::NotFound(ghost.clone())
    );
    assert_eq!(
        store.merge_devices(&ghost, &a.id, 2_000).await.unwrap(),
        DeviceMerge::NotFound(ghost)
    );

    assert!(matches!(
        store.merge_devices(&b.id, &a.id, 2_000).await.unwrap(),
        DeviceMerge::Merged(_)
    ));
    assert_eq!(
        store.merge_devices(&c.id, &a.id, 2_100).await.unwrap(),
        DeviceMerge::AlreadyMerged(a.id.clone())
    );
    assert_eq!(
        store.merge_devices(&a.id, &c.id, 2_100).await.unwrap(),
        DeviceMerge::AlreadyMerged(a.id.clone())
    );
    assert_eq!(
        store.get_device(&c.id).await.unwrap(),
        Some(c),
        "a rejected merge changes nothing"
    );
}

#[tokio::test]
async fn merge_fails_commands_and_repoints_links() {
    let test = open_store().await;
    let store = &test.store;
    let first = create_device(store, "first", "Hallway").await;
    let second = create_device(store, "second", "Hallway again").await;
    let third = create_device(store, "third", "Hallway at last").await;

    let queued = store
        .enqueue_command(
            &NewCommand {
                device_id: second.id.clone(),
                command: Command::Identify,
                created_at: 1_000,
                expires_at: 9_000,
            },
            10,
        )
        .await
        .unwrap();

    store
        .merge_devices(&second.id, &first.id, 1_500)
        .await
        .unwrap();
    store
        .merge_devices(&third.id, &second.id, 2_000)
        .await
        .unwrap();

    let first_now = store.get_device(&first.id).await.unwrap().unwrap();
    assert_eq!(first_now.merged_into, Some(third.id.clone()));

    let command = store.get_command(queued.id).await.unwrap().unwrap();
    assert_eq!(command.state, CommandState::Failed);
    assert_eq!(command.acked_at, Some(2_000));
    assert_eq!(command.error.as_deref(), Some("device merged into third"));
}

#[tokio::test]
async fn active_ids_skip_revoked_and_other_groups() {
    let test = open_store().await;
    let store = &test.store;
    let group = create_group(store, "Bar").await;
    for (id, group_id) in [("d1", Some(group)), ("d2", None), ("d3", Some(group))] {
        store
            .create_device(&NewDevice {
                group_id,
                ..new_device(id, id)
            })
            .await
            .unwrap();
    }
    assert!(store.revoke_device(&device_id("d3"), 2_000).await.unwrap());

    let all = store.list_active_device_ids(None).await.unwrap();
    assert_eq!(all, vec![device_id("d1"), device_id("d2")]);
    let members = store.list_active_device_ids(Some(group)).await.unwrap();
    assert_eq!(members, vec![device_id("d1")]);
}
