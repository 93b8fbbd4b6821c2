//! Device profiles and groups: creation, unique names, changes and deletion.

use onesheet_domain::{Group, GroupMode, Profile};
use onesheet_store::{
    DeviceFilter, GroupChanges, NewDevice, NewGroup, NewProfile, ProfileChanges, Store, StoreError,
};
use serde_json::json;

use super::support::{new_device, open_store, overrides};

fn new_profile(name: &str) -> NewProfile {
    NewProfile {
        name: name.to_owned(),
        overrides: overrides(json!({"filter": {"content_rating_max": "PG"}})),
        created_at: 1_000,
    }
}

fn new_group(name: &str, mode: GroupMode) -> NewGroup {
    NewGroup {
        name: name.to_owned(),
        mode,
        overrides: overrides(json!({"screensaver": {"interval_seconds": 15}})),
        created_at: 1_000,
    }
}

#[tokio::test]
async fn profile_round_trips_and_lists_by_name() {
    let test = open_store().await;
    let store = &test.store;
    let kids = store.create_profile(&new_profile("Kids")).await.unwrap();
    let adults = store.create_profile(&new_profile("adults")).await.unwrap();

    assert_eq!(
        kids,
        Profile {
            id: kids.id,
            name: "Kids".to_owned(),
            overrides: overrides(json!({"filter": {"content_rating_max": "PG"}})),
            created_at: 1_000,
            updated_at: 1_000,
        }
    );
    assert_eq!(
        store.get_profile(kids.id).await.unwrap(),
        Some(kids.clone())
    );
    assert_eq!(store.get_profile(kids.id + 100).await.unwrap(), None);
    assert_eq!(store.list_profiles().await.unwrap(), vec![adults, kids]);
}

#[tokio::test]
async fn profile_name_is_unique_in_any_case() {
    let test = open_store().await;
    let store = &test.store;
    store.create_profile(&new_profile("Kids")).await.unwrap();
    let error = store
        .create_profile(&new_profile("KIDS"))
        .await
        .unwrap_err();
    assert!(
        matches!(error, StoreError::Conflict { what: "profile name", ref id } if id == "KIDS"),
        "{error}"
    );

    let other = store.create_profile(&new_profile("Adults")).await.unwrap();
    let rename = ProfileChanges {
        name: Some("ｋｉｄｓ".to_owned()),
        ..ProfileChanges::default()
    };
    let error = store
        .update_profile(other.id, &rename, 2_000)
        .await
        .unwrap_err();
    assert!(matches!(error, StoreError::Conflict { .. }), "{error}");
}

#[tokio::test]
async fn profile_update_changes_given_fields() {
    let test = open_store().await;
    let store = &test.store;
    let kids = store.create_profile(&new_profile("Kids")).await.unwrap();

    let renamed = store
        .update_profile(
            kids.id,
            &ProfileChanges {
                name: Some("Children".to_owned()),
                ..ProfileChanges::default()
            },
            2_000,
        )
        .await
        .unwrap()
        .unwrap();
    assert_eq!(renamed.name, "Children");
    assert_eq!(renamed.overrides, kids.overrides, "untouched");
    assert_eq!(renamed.updated_at, 2_000);
    assert_eq!(renamed.created_at, 1_000);

    let cleared = store
        .update_profile(
            kids.id,
            &ProfileChanges {
                overrides: Some(overrides(json!({}))),
                ..ProfileChanges::default()
            },
            3_000,
        )
        .await
        .unwrap()
        .unwrap();
    assert!(cleared.overrides.is_empty());
    assert_eq!(cleared.name, "Children");

    assert_eq!(
        store
            .update_profile(kids.id + 100, &ProfileChanges::default(), 3_000)
            .await
            .unwrap(),
        None
    );
}

#[tokio::test]
async fn deleting_profile_clears_device_reference() {
    let test = open_store().await;
    let store = &test.store;
    let kids = store.create_profile(&new_profile("Kids")).await.unwrap();
    let device = store
        .create_device(&NewDevice {
            profile_id: Some(kids.id),
            ..new_device("d1", "Playroom")
        })
        .await
        .unwrap();

    assert!(store.delete_profile(kids.id).await.unwrap());
    assert!(!store.delete_profile(kids.id).await.unwrap());
    assert_eq!(store.get_profile(kids.id).await.unwrap(), None);

    let after = store.get_device(&device.id).await.unwrap().unwrap();
    assert_eq!(after.profile_id, None);
    assert_eq!(after.name, "Playroom", "the device stays");
}

#[tokio::test]
async fn group_round_trips_every_mode() {
    let test = open_store().await;
    let store = &test.store;
    let modes = [
        ("Hall", GroupMode::Independent),
        ("Bar wall", GroupMode::Distinct),
        ("Cinema row", GroupMode::Synchronised),
    ];
    let mut created = Vec::new();
    for (name, mode) in modes {
        let group = store.create_group(&new_group(name, mode)).await.unwrap();
        assert_eq!(
            group,
            Group {
                id: group.id,
                name: name.to_owned(),
                mode,
                overrides: overrides(json!({"screensaver": {"interval_seconds": 15}})),
                created_at: 1_000,
                updated_at: 1_000,
            }
        );
        assert_eq!(
            store.get_group(group.id).await.unwrap(),
            Some(group.clone())
        );
        created.push(group);
    }

    let names: Vec<String> = store
        .list_groups()
        .await
        .unwrap()
        .into_iter()
        .map(|group| group.name)
        .collect();
    assert_eq!(names, ["Bar wall", "Cinema row", "Hall"]);
    assert_eq!(store.get_group(created[2].id + 100).await.unwrap(), None);
}

#[tokio::test]
async fn group_name_is_unique_and_changes_apply() {
    let test = open_store().await;
    let store = &test.store;
    let bar = store
        .create_group(&new_group("Bar", GroupMode::Independent))
        .await
        .unwrap();
    let error = store
        .create_group(&new_group("bar", GroupMode::Distinct))
        .await
        .unwrap_err();
    assert!(
        matches!(
            error,
            StoreError::Conflict {
                what: "group name",
                ..
            }
        ),
        "{error}"
    );

    let changed = store
        .update_group(
            bar.id,
            &GroupChanges {
                mode: Some(GroupMode::Synchronised),
                overrides: Some(overrides(json!({"screensaver": {"show_title": false}}))),
                ..GroupChanges::default()
            },
            2_000,
        )
        .await
        .unwrap()
        .unwrap();
    assert_eq!(changed.mode, GroupMode::Synchronised);
    assert_eq!(changed.name, "Bar");
    assert_eq!(
        changed.overrides,
        overrides(json!({"screensaver": {"show_title": false}}))
    );
    assert_eq!(changed.updated_at, 2_000);

    let renamed = store
        .update_group(
            bar.id,
            &GroupChanges {
                name: Some("Bar wall".to_owned()),
                ..GroupChanges::default()
            },
            3_000,
        )
        .await
        .unwrap()
        .unwrap();
    assert_eq!(renamed.name, "Bar wall");
    assert_eq!(renamed.mode, GroupMode::Synchronised, "untouched");

    assert_eq!(
        store
            .update_group(bar.id + 100, &GroupChanges::default(), 3_000)
            .await
            .unwrap(),
        None
    );
}

#[tokio::test]
async fn deleting_group_keeps_its_devices() {
    let test = open_store().await;
    let store = &test.store;
    let bar = store
        .create_group(&new_group("Bar", GroupMode::Distinct))
        .await
        .unwrap();
    for id in ["d1", "d2"] {
        store
            .create_device(&NewDevice {
                group_id: Some(bar.id),
                ..new_device(id, id)
            })
            .await
            .unwrap();
    }

    assert!(store.delete_group(bar.id).await.unwrap());
    assert!(!store.delete_group(bar.id).await.unwrap());

    let devices = store.list_devices(&DeviceFilter::default()).await.unwrap();
    assert_eq!(devices.len(), 2);
    assert!(devices.iter().all(|device| device.group_id.is_none()));
}
