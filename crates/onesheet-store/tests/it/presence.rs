//! Batched presence writes: last seen, address, user agent and status.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use onesheet_domain::{DeviceStatus, DisplayMode, ScreenSize};
use onesheet_store::{DeviceFilter, NewDevice, PresenceUpdate, Store};

use super::support::{create_device, device_id, new_device, open_store};

fn status(item: Option<&str>, uptime_seconds: u64) -> DeviceStatus {
    DeviceStatus {
        current_item_id: item.map(|item| item.parse().unwrap()),
        mode: DisplayMode::Screensaver,
        paused: false,
        resolution: ScreenSize {
            width: 1920,
            height: 1080,
        },
        version: "0.4.1".to_owned(),
        uptime_seconds,
    }
}

fn heartbeat(id: &str, seen_at: i64) -> PresenceUpdate {
    PresenceUpdate {
        device_id: device_id(id),
        seen_at,
        address: None,
        user_agent: None,
        status: None,
    }
}

#[tokio::test]
async fn presence_update_writes_every_field() {
    let test = open_store().await;
    let store = &test.store;
    create_device(store, "d1", "Hall").await;

    let update = PresenceUpdate {
        address: Some("192.0.2.55".to_owned()),
        user_agent: Some("Mozilla/5.0 (Windows NT 10.0)".to_owned()),
        status: Some(status(Some("plex-0123456789abcdef"), 60)),
        ..heartbeat("d1", 2_000)
    };
    assert_eq!(store.record_presence(&[update]).await.unwrap(), 1);

    let device = store.get_device(&device_id("d1")).await.unwrap().unwrap();
    assert_eq!(device.last_seen_at, Some(2_000));
    assert_eq!(device.last_address.as_deref(), Some("192.0.2.55"));
    assert_eq!(
        device.last_user_agent.as_deref(),
        Some("Mozilla/5.0 (Windows NT 10.0)")
    );
    assert_eq!(
        device.last_status,
        Some(status(Some("plex-0123456789abcdef"), 60))
    );
}

#[tokio::test]
async fn heartbeat_keeps_fields_and_never_rewinds() {
    let test = open_store().await;
    let store = &test.store;
    create_device(store, "d1", "Hall").await;
    let with_status = PresenceUpdate {
        status: Some(status(None, 5)),
        ..heartbeat("d1", 2_000)
    };
    store.record_presence(&[with_status]).await.unwrap();

    store
        .record_presence(&[heartbeat("d1", 1_500)])
        .await
        .unwrap();
    let device = store.get_device(&device_id("d1")).await.unwrap().unwrap();
    assert_eq!(device.last_seen_at, Some(2_000), "an older time is ignored");
    assert_eq!(device.last_address.as_deref(), Some("192.0.2.10"));
    assert_eq!(device.last_status, Some(status(None, 5)));

    store
        .record_presence(&[heartbeat("d1", 2_500)])
        .await
        .unwrap();
    let device = store.get_device(&device_id("d1")).await.unwrap().unwrap();
    assert_eq!(device.last_seen_at, Some(2_500));
}

#[tokio::test]
async fn batch_applies_in_order_skipping_unknown() {
    let test = open_store().await;
    let store = &test.store;
    create_device(store, "d1", "Hall").await;

    let updates = [
        PresenceUpdate {
            status: Some(status(None, 1)),
            ..heartbeat("d1", 2_000)
        },
        heartbeat("ghost", 2_000),
        PresenceUpdate {
            status: Some(status(None, 2)),
            ..heartbeat("d1", 2_001)
        },
    ];
    assert_eq!(store.record_presence(&updates).await.unwrap(), 2);
    let device = store.get_device(&device_id("d1")).await.unwrap().unwrap();
    assert_eq!(device.last_status.unwrap().uptime_seconds, 2);

    assert_eq!(store.record_presence(&[]).await.unwrap(), 0);
}

#[tokio::test]
async fn presence_batch_commits_at_once() {
    let test = open_store().await;
    let store = &test.store;
    let ids: Vec<String> = (0..1_000)
        .map(|index| format!("screen-{index:04}"))
        .collect();
    for id in &ids {
        store
            .create_device(&NewDevice {
                address: None,
                ..new_device(id, id)
            })
            .await
            .unwrap();
    }

    // A reader polls while the batch runs. With one transaction it observes either no update
    // or all of them, never a part.
    let done = Arc::new(AtomicBool::new(false));
    let reader = {
        let store = store.clone();
        let done = done.clone();
        tokio::spawn(async move {
            let mut observed = Vec::new();
            loop {
                let finished = done.load(Ordering::Acquire);
                let devices = store.list_devices(&DeviceFilter::default()).await.unwrap();
                let seen = devices
                    .iter()
                    .filter(|device| device.last_seen_at == Some(5_000))
                    .count();
                observed.push(seen);
                if finished {
                    return observed;
                }
                tokio::task::yield_now().await;
            }
        })
    };

    let updates: Vec<PresenceUpdate> = ids
        .iter()
        .enumerate()
        .map(|(index, id)| PresenceUpdate {
            address: Some(format!("10.0.{}.{}", index / 250, index % 250)),
            status: Some(status(None, index as u64)),
            ..heartbeat(id, 5_000)
        })
        .collect();
    assert_eq!(store.record_presence(&updates).await.unwrap(), 1_000);
    done.store(true, Ordering::Release);

    let observed = reader.await.unwrap();
    assert!(
        observed.iter().all(|&seen| seen == 0 || seen == 1_000),
        "a reader saw part of the batch: {observed:?}"
    );
    assert_eq!(observed.last(), Some(&1_000));

    let devices = store.list_devices(&DeviceFilter::default()).await.unwrap();
    assert_eq!(devices.len(), 1_000);
    for device in &devices {
        let index: u64 = device.id.as_str()["screen-".len()..].parse().unwrap();
        assert_eq!(device.last_seen_at, Some(5_000));
        assert_eq!(device.last_status.as_ref().unwrap().uptime_seconds, index);
        assert_eq!(
            device.last_address,
            Some(format!("10.0.{}.{}", index / 250, index % 250))
        );
    }
}
