//! The per-device command queue: cap, delivery on reconnect, replies, expiry and history.

use onesheet_domain::{Command, CommandId, CommandState, DeviceId, DisplayMode};
use onesheet_store::{CommandReply, NewCommand, SqliteStore, Store, StoreError, StoredCommand};

use super::support::{create_device, device_id, open_store};

fn command(device: &DeviceId, command: Command, created_at: i64) -> NewCommand {
    NewCommand {
        device_id: device.clone(),
        command,
        created_at,
        expires_at: created_at + 300,
    }
}

async fn enqueue(store: &SqliteStore, device: &DeviceId, created_at: i64) -> StoredCommand {
    store
        .enqueue_command(&command(device, Command::Next, created_at), 100)
        .await
        .unwrap()
}

fn ids(commands: &[StoredCommand]) -> Vec<CommandId> {
    commands.iter().map(|command| command.id).collect()
}

#[tokio::test]
async fn command_round_trips() {
    let test = open_store().await;
    let store = &test.store;
    let device = create_device(store, "d1", "Hall").await.id;

    let pin = Command::Pin {
        item_id: "plex-0123456789abcdef".parse().unwrap(),
    };
    let queued = store
        .enqueue_command(&command(&device, pin.clone(), 1_000), 10)
        .await
        .unwrap();
    assert_eq!(
        queued,
        StoredCommand {
            id: queued.id,
            device_id: device.clone(),
            command: pin,
            state: CommandState::Queued,
            created_at: 1_000,
            expires_at: 1_300,
            delivered_at: None,
            acked_at: None,
            error: None,
        }
    );
    assert_eq!(
        store.get_command(queued.id).await.unwrap(),
        Some(queued.clone())
    );
    assert_eq!(
        store
            .get_command(CommandId(queued.id.0 + 100))
            .await
            .unwrap(),
        None
    );
}

#[tokio::test]
async fn full_queue_rejects_with_typed_error() {
    let test = open_store().await;
    let store = &test.store;
    let device = create_device(store, "d1", "Hall").await.id;

    for index in 0..3 {
        store
            .enqueue_command(&command(&device, Command::Next, 1_000 + index), 3)
            .await
            .unwrap();
    }
    let error = store
        .enqueue_command(&command(&device, Command::Reload, 1_010), 3)
        .await
        .unwrap_err();
    assert!(
        matches!(error, StoreError::QueueFull { ref device_id, limit: 3 } if device_id == "d1"),
        "{error}"
    );
    assert!(error.to_string().contains("full"), "{error}");

    // Another device's queue is separate.
    let other = create_device(store, "d2", "Bar").await.id;
    store
        .enqueue_command(&command(&other, Command::Next, 1_010), 3)
        .await
        .unwrap();
}

#[tokio::test]
async fn finished_and_expired_commands_free_the_queue() {
    let test = open_store().await;
    let store = &test.store;
    let device = create_device(store, "d1", "Hall").await.id;

    let first = store
        .enqueue_command(&command(&device, Command::Next, 1_000), 2)
        .await
        .unwrap();
    store
        .enqueue_command(&command(&device, Command::Next, 1_100), 2)
        .await
        .unwrap();
    assert!(
        store
            .finish_command(&device, first.id, None, 1_150)
            .await
            .unwrap()
    );
    store
        .enqueue_command(&command(&device, Command::Next, 1_200), 2)
        .await
        .unwrap();

    // The second command expires at 1_400, so at 1_400 it no longer counts, even before
    // `expire_commands` marks it.
    let error = store
        .enqueue_command(&command(&device, Command::Next, 1_399), 2)
        .await
        .unwrap_err();
    assert!(matches!(error, StoreError::QueueFull { .. }), "{error}");
    store
        .enqueue_command(&command(&device, Command::Next, 1_400), 2)
        .await
        .unwrap();
}

#[tokio::test]
async fn concurrent_enqueues_respect_the_cap() {
    let test = open_store().await;
    let store = &test.store;
    let device = create_device(store, "d1", "Hall").await.id;

    let tasks: Vec<_> = (0..20)
        .map(|index| {
            let store = store.clone();
            let device = device.clone();
            tokio::spawn(async move {
                store
                    .enqueue_command(&command(&device, Command::Next, 1_000 + index), 5)
                    .await
            })
        })
        .collect();
    let mut accepted = 0;
    let mut full = 0;
    for task in tasks {
        match task.await.unwrap() {
            Ok(_) => accepted += 1,
            Err(StoreError::QueueFull { .. }) => full += 1,
            Err(error) => panic!("unexpected error: {error}"),
        }
    }
    assert_eq!((accepted, full), (5, 15));
    assert_eq!(
        store
            .list_device_commands(&device, 100)
            .await
            .unwrap()
            .len(),
        5
    );
}

#[tokio::test]
async fn command_for_missing_device_is_not_found() {
    let test = open_store().await;
    let error = test
        .store
        .enqueue_command(&command(&device_id("ghost"), Command::Next, 1_000), 10)
        .await
        .unwrap_err();
    assert!(
        matches!(error, StoreError::NotFound { what: "device", ref id } if id == "ghost"),
        "{error}"
    );
}

#[tokio::test]
async fn reconnect_takes_pending_commands_in_order() {
    let test = open_store().await;
    let store = &test.store;
    let device = create_device(store, "d1", "Hall").await.id;
    let other = create_device(store, "d2", "Bar").await.id;

    let first = enqueue(store, &device, 1_000).await;
    let second = store
        .enqueue_command(
            &command(
                &device,
                Command::Navigate {
                    mode: DisplayMode::Wallart,
                },
                1_010,
            ),
            100,
        )
        .await
        .unwrap();
    let acked = enqueue(store, &device, 1_020).await;
    let expired = NewCommand {
        expires_at: 1_100,
        ..command(&device, Command::Reload, 1_030)
    };
    let expired = store.enqueue_command(&expired, 100).await.unwrap();
    enqueue(store, &other, 1_000).await;

    store
        .finish_command(&device, acked.id, None, 1_050)
        .await
        .unwrap();

    let taken = store.take_pending_commands(&device, 1_200).await.unwrap();
    assert_eq!(ids(&taken), [first.id, second.id]);
    for command in &taken {
        assert_eq!(command.state, CommandState::Delivered);
        assert_eq!(command.delivered_at, Some(1_200));
    }
    assert_eq!(
        taken[1].command,
        Command::Navigate {
            mode: DisplayMode::Wallart
        }
    );
    let not_taken = store.get_command(expired.id).await.unwrap().unwrap();
    assert_eq!(not_taken.state, CommandState::Queued, "past its expiry");

    // Delivered but unanswered commands come again after the next reconnect.
    let again = store.take_pending_commands(&device, 1_250).await.unwrap();
    assert_eq!(ids(&again), [first.id, second.id]);
    assert_eq!(again[0].delivered_at, Some(1_250));

    assert!(
        store
            .take_pending_commands(&device_id("ghost"), 1_250)
            .await
            .unwrap()
            .is_empty()
    );
}

#[tokio::test]
async fn live_delivery_marks_only_queued_commands() {
    let test = open_store().await;
    let store = &test.store;
    let device = create_device(store, "d1", "Hall").await.id;
    let queued = enqueue(store, &device, 1_000).await;

    assert!(
        store
            .mark_command_delivered(queued.id, 1_001)
            .await
            .unwrap()
    );
    assert!(
        !store
            .mark_command_delivered(queued.id, 1_002)
            .await
            .unwrap(),
        "already delivered"
    );
    let delivered = store.get_command(queued.id).await.unwrap().unwrap();
    assert_eq!(delivered.state, CommandState::Delivered);
    assert_eq!(delivered.delivered_at, Some(1_001));
}

#[tokio::test]
async fn replies_recorded_once_for_owning_device() {
    let test = open_store().await;
    let store = &test.store;
    let device = create_device(store, "d1", "Hall").await.id;
    let other = create_device(store, "d2", "Bar").await.id;
    let ok = enqueue(store, &device, 1_000).await;
    let bad = enqueue(store, &device, 1_001).await;
    store.take_pending_commands(&device, 1_010).await.unwrap();

    assert!(
        !store
            .finish_command(&other, ok.id, None, 1_020)
            .await
            .unwrap(),
        "another device cannot answer it"
    );
    assert!(
        store
            .finish_command(&device, ok.id, None, 1_020)
            .await
            .unwrap()
    );
    assert!(
        store
            .finish_command(&device, bad.id, Some("item not in catalog"), 1_021)
            .await
            .unwrap()
    );
    assert!(
        !store
            .finish_command(&device, ok.id, Some("late error"), 1_030)
            .await
            .unwrap(),
        "a final state never changes"
    );

    let ok = store.get_command(ok.id).await.unwrap().unwrap();
    assert_eq!(ok.state, CommandState::Acked);
    assert_eq!(ok.acked_at, Some(1_020));
    assert_eq!(ok.error, None);
    let bad = store.get_command(bad.id).await.unwrap().unwrap();
    assert_eq!(bad.state, CommandState::Failed);
    assert_eq!(bad.error.as_deref(), Some("item not in catalog"));
}

#[tokio::test]
async fn expiry_marks_only_overdue_pending_commands() {
    let test = open_store().await;
    let store = &test.store;
    let device = create_device(store, "d1", "Hall").await.id;
    let queued = enqueue(store, &device, 1_000).await;
    let delivered = enqueue(store, &device, 1_001).await;
    store
        .mark_command_delivered(delivered.id, 1_002)
        .await
        .unwrap();
    let acked = enqueue(store, &device, 1_003).await;
    store
        .finish_command(&device, acked.id, None, 1_004)
        .await
        .unwrap();
    let young = enqueue(store, &device, 2_000).await;

    assert_eq!(store.expire_commands(1_299).await.unwrap(), 0);
    assert_eq!(store.expire_commands(1_301).await.unwrap(), 2);
    assert_eq!(
        store.expire_commands(1_301).await.unwrap(),
        0,
        "already expired"
    );

    for (id, state) in [
        (queued.id, CommandState::Expired),
        (delivered.id, CommandState::Expired),
        (acked.id, CommandState::Acked),
        (young.id, CommandState::Queued),
    ] {
        assert_eq!(store.get_command(id).await.unwrap().unwrap().state, state);
    }
    assert!(
        !store
            .finish_command(&device, queued.id, None, 1_400)
            .await
            .unwrap(),
        "a late ack does not revive an expired command"
    );
}

#[tokio::test]
async fn history_is_newest_first_and_pruned() {
    let test = open_store().await;
    let store = &test.store;
    let device = create_device(store, "d1", "Hall").await.id;
    let old_acked = enqueue(store, &device, 1_000).await;
    let old_pending = enqueue(store, &device, 1_001).await;
    let new_acked = enqueue(store, &device, 5_000).await;
    for id in [old_acked.id, new_acked.id] {
        store
            .finish_command(&device, id, None, 5_001)
            .await
            .unwrap();
    }

    let listed = store.list_device_commands(&device, 10).await.unwrap();
    assert_eq!(ids(&listed), [new_acked.id, old_pending.id, old_acked.id]);
    let page = store.list_device_commands(&device, 2).await.unwrap();
    assert_eq!(ids(&page), [new_acked.id, old_pending.id]);

    assert_eq!(store.prune_commands(2_000).await.unwrap(), 1);
    let listed = store.list_device_commands(&device, 10).await.unwrap();
    assert_eq!(
        ids(&listed),
        [new_acked.id, old_pending.id],
        "pending commands stay however old"
    );
}

#[tokio::test]
async fn queued_commands_survive_restart() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("onesheet.db");
    let store = SqliteStore::open(&path).await.unwrap();
    let device = create_device(&store, "d1", "Hall").await.id;
    let queued = enqueue(&store, &device, 1_000).await;
    store.close().await;

    let reopened = SqliteStore::open(&path).await.unwrap();
    let taken = reopened
        .take_pending_commands(&device, 1_100)
        .await
        .unwrap();
    assert_eq!(ids(&taken), [queued.id]);
}

#[tokio::test]
async fn batch_reports_each_command_alone() {
    let test = open_store().await;
    let store = &test.store;
    let first = create_device(store, "d1", "Left").await.id;
    let full = create_device(store, "d2", "Right").await.id;
    enqueue(store, &full, 1_900).await;
    let missing = device_id("nobody");
    let batch = [
        command(&first, Command::Next, 2_000),
        command(&full, Command::Next, 2_000),
        command(&missing, Command::Next, 2_000),
    ];

    let outcomes = store.enqueue_commands(&batch, 1).await.unwrap();
    let queued = outcomes[0].as_ref().unwrap().id;
    let marked = store
        .mark_commands_delivered(&[queued, queued], 2_001)
        .await
        .unwrap();

    assert_eq!(outcomes.len(), 3);
    assert!(matches!(outcomes[1], Err(StoreError::QueueFull { .. })));
    assert!(matches!(outcomes[2], Err(StoreError::NotFound { .. })));
    assert_eq!(marked, [true, false]);
    let stored = store.get_command(queued).await.unwrap().unwrap();
    assert_eq!(stored.state, CommandState::Delivered);
    assert_eq!(stored.delivered_at, Some(2_001));

    let reply = |device: &DeviceId| CommandReply {
        device_id: device.clone(),
        id: queued,
        error: None,
        at: 2_002,
    };
    let finished = store
        .finish_commands(&[reply(&full), reply(&first), reply(&first)])
        .await
        .unwrap();
    assert_eq!(finished, [false, true, false]);
    let acked = store.get_command(queued).await.unwrap().unwrap();
    assert_eq!(acked.state, CommandState::Acked);
    assert_eq!(acked.acked_at, Some(2_002));
}

#[tokio::test]
async fn large_batch_keeps_ids_with_devices() {
    let test = open_store().await;
    let store = &test.store;
    let mut devices = Vec::new();
    for index in 0..600 {
        let name = format!("d{index}");
        devices.push(create_device(store, &name, &name).await.id);
    }
    // One device has a command waiting already, so its second one finds the queue full.
    enqueue(store, &devices[7], 1_900).await;

    // Each device twice, in two passes, so one statement of 500 rows contains both kinds.
    let batch: Vec<NewCommand> = devices
        .iter()
        .chain(devices.iter())
        .map(|device| command(device, Command::Identify, 2_000))
        .collect();
    let outcomes = store.enqueue_commands(&batch, 2).await.unwrap();

    assert_eq!(outcomes.len(), 1_200);
    assert!(matches!(
        outcomes[600 + 7],
        Err(StoreError::QueueFull { .. })
    ));
    let mut seen = std::collections::HashSet::new();
    for (given, outcome) in batch.iter().zip(&outcomes) {
        let Ok(queued) = outcome else { continue };
        assert!(seen.insert(queued.id), "id {} given twice", queued.id);
        let stored = store.get_command(queued.id).await.unwrap().unwrap();
        assert_eq!(stored.device_id, given.device_id);
        assert_eq!(stored.command, Command::Identify);
    }
    assert_eq!(seen.len(), 1_199);
}
