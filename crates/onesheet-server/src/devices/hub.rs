//! The live sockets: which device has an open, authenticated WebSocket, and which unpaired screens
//! wait for the claim of their pairing code.
//!
//! Each registration gets a generation number. A new socket of the same device replaces the old
//! registration, and the old socket's cleanup passes its own generation to
//! [`Hub::unregister`], which then removes nothing. Without the number, an old socket that closes
//! after its replacement registered would unregister the new one and leave the device
//! unreachable although it is connected.
//!
//! The hub keeps the only sender of each socket's queue, so removing a registration closes the
//! queue, and the socket's loop then ends. Locks are never held across an `.await`.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use onesheet_domain::{DeviceId, ServerMessage};
use tokio::sync::{Notify, mpsc, oneshot};

/// Messages queued for one socket. A socket that falls this far behind is slow or gone, and
/// further messages wait in the store (commands) or are recomputed at the next connect
/// (settings).
pub(crate) const OUTGOING_CAPACITY: usize = 16;

/// A message for a socket's loop from the rest of the server.
#[derive(Debug)]
pub(crate) enum Outgoing {
    Send(ServerMessage),
    /// Send the message, then close the connection.
    Close(ServerMessage),
}

struct Live {
    generation: u64,
    sender: mpsc::Sender<Outgoing>,
}

struct Waiter {
    generation: u64,
    sender: oneshot::Sender<DeviceId>,
}

#[derive(Default)]
pub(crate) struct Hub {
    live: Mutex<HashMap<DeviceId, Live>>,
    /// Sockets waiting for a claim, by the keyed hash of their pairing code.
    waiting: Mutex<HashMap<String, Waiter>>,
    /// Wake-ups of devices that poll over HTTP instead of holding a socket.
    pollers: Mutex<HashMap<DeviceId, Arc<Notify>>>,
    next_generation: AtomicU64,
}

impl Hub {
    fn generation(&self) -> u64 {
        self.next_generation.fetch_add(1, Ordering::Relaxed) + 1
    }

    /// Registers the socket of `device_id` and returns its generation and queue. An older
    /// registration of the device is dropped, which closes its queue: its loop sends `error`
    /// with code `replaced` and closes.
    pub(crate) fn register(&self, device_id: &DeviceId) -> (u64, mpsc::Receiver<Outgoing>) {
        let generation = self.generation();
        let (sender, receiver) = mpsc::channel(OUTGOING_CAPACITY);
        let replaced = lock(&self.live).insert(device_id.clone(), Live { generation, sender });
        drop(replaced);
        (generation, receiver)
    }

    /// Removes the registration of `device_id` if it is still the one of `generation`. Returns
    /// whether it was.
    pub(crate) fn unregister(&self, device_id: &DeviceId, generation: u64) -> bool {
        let mut live = lock(&self.live);
        match live.get(device_id) {
            Some(entry) if entry.generation == generation => {
                live.remove(device_id);
                true
            }
            _ => false,
        }
    }

    /// Queues `message` for the device's socket. Returns false when the device has no socket or
    /// its queue is full.
    pub(crate) fn send(&self, device_id: &DeviceId, message: ServerMessage) -> bool {
        let live = lock(&self.live);
        live.get(device_id)
            .is_some_and(|entry| entry.sender.try_send(Outgoing::Send(message)).is_ok())
    }

    /// Sends `message` as the last one on the device's socket and removes its registration.
    /// Returns whether the device had a socket.
    pub(crate) fn close(&self, device_id: &DeviceId, message: ServerMessage) -> bool {
        let Some(entry) = lock(&self.live).remove(device_id) else {
            return false;
        };
        // A full queue drops the message, and removing the sender still closes the socket.
        let _ = entry.sender.try_send(Outgoing::Close(message));
        true
    }

    pub(crate) fn is_live(&self, device_id: &DeviceId) -> bool {
        lock(&self.live).contains_key(device_id)
    }

    pub(crate) fn live_ids(&self) -> Vec<DeviceId> {
        lock(&self.live).keys().cloned().collect()
    }

    pub(crate) fn live_count(&self) -> usize {
        lock(&self.live).len()
    }

    /// Returns the wake-up of the device's long poll, creating it on the first poll.
    pub(crate) fn poller(&self, device_id: &DeviceId) -> Arc<Notify> {
        lock(&self.pollers)
            .entry(device_id.clone())
            .or_default()
            .clone()
    }

    /// Wakes the device's long poll, if it ever polled. A wake-up with no poll waiting is kept
    /// for the next one.
    pub(crate) fn wake_poller(&self, device_id: &DeviceId) {
        if let Some(notify) = lock(&self.pollers).get(device_id) {
            notify.notify_one();
        }
    }

    /// Returns the devices that poll over HTTP and have no socket.
    pub(crate) fn poller_ids(&self) -> Vec<DeviceId> {
        let pollers: Vec<DeviceId> = lock(&self.pollers).keys().cloned().collect();
        let live = lock(&self.live);
        pollers
            .into_iter()
            .filter(|device_id| !live.contains_key(device_id))
            .collect()
    }

    pub(crate) fn forget_poller(&self, device_id: &DeviceId) {
        lock(&self.pollers).remove(device_id);
    }

    /// Registers a socket waiting for the claim of the code with `code_hash`. A socket that
    /// waited for the same code before is dropped from the list, and its receiver reports a
    /// closed channel.
    pub(crate) fn wait_for_claim(&self, code_hash: &str) -> (u64, oneshot::Receiver<DeviceId>) {
        let generation = self.generation();
        let (sender, receiver) = oneshot::channel();
        lock(&self.waiting).insert(code_hash.to_owned(), Waiter { generation, sender });
        (generation, receiver)
    }

    /// Removes the waiter of `code_hash` if it is still the one of `generation`.
    pub(crate) fn stop_waiting(&self, code_hash: &str, generation: u64) {
        let mut waiting = lock(&self.waiting);
        if waiting
            .get(code_hash)
            .is_some_and(|waiter| waiter.generation == generation)
        {
            waiting.remove(code_hash);
        }
    }

    /// Tells the socket waiting for `code_hash`, if any, that an admin claimed the code as
    /// `device_id`. Returns whether a socket was waiting.
    pub(crate) fn notify_claim(&self, code_hash: &str, device_id: DeviceId) -> bool {
        let waiter = lock(&self.waiting).remove(code_hash);
        waiter.is_some_and(|waiter| waiter.sender.send(device_id).is_ok())
    }
}

/// Locks a mutex, recovering the data from a panic in another holder: every critical section
/// here is one map operation, which leaves the map consistent.
fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    fn id(text: &str) -> DeviceId {
        text.parse().unwrap()
    }

    #[test]
    fn old_generation_cannot_unregister_new_socket() {
        let hub = Hub::default();
        let device = id("screen-1");
        let (old, mut old_queue) = hub.register(&device);
        let (new, _new_queue) = hub.register(&device);

        assert!(old_queue.try_recv().is_err(), "old queue is closed");
        assert!(!hub.unregister(&device, old));
        assert!(hub.is_live(&device));
        assert!(hub.unregister(&device, new));
        assert!(!hub.is_live(&device));
    }

    #[test]
    fn close_sends_last_message_and_removes() {
        let hub = Hub::default();
        let device = id("screen-2");
        let (_, mut queue) = hub.register(&device);

        assert!(hub.close(&device, ServerMessage::Revoked));
        assert!(matches!(
            queue.try_recv().unwrap(),
            Outgoing::Close(ServerMessage::Revoked)
        ));
        assert!(!hub.send(&device, ServerMessage::Revoked));
    }

    #[test]
    fn claim_reaches_the_latest_waiter_only() {
        let hub = Hub::default();
        let (first, mut first_receiver) = hub.wait_for_claim("hash");
        let (_, mut second_receiver) = hub.wait_for_claim("hash");

        hub.stop_waiting("hash", first);
        assert!(first_receiver.try_recv().is_err());
        assert!(hub.notify_claim("hash", id("screen-3")));
        assert_eq!(second_receiver.try_recv().unwrap(), id("screen-3"));
        assert!(!hub.notify_claim("hash", id("screen-3")));
    }
}
