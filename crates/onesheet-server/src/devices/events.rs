//! The feed of device changes behind the admin UI's live screens table.
//!
//! The service publishes a [`DeviceEvent`] when a device connects, disconnects, reports a
//! status, freezes or recovers, finishes a command, or when an admin claims, changes, revokes,
//! merges or deletes it. An event carries ids only, so publishing costs no store read and a
//! status report from every screen of a fleet stays cheap. Each subscriber loads the current
//! view of the devices that changed, once per burst (see `routes::admin::device_events`).
//!
//! The channel is a `tokio::sync::broadcast` of [`EVENT_BUFFER`] events. A subscriber that
//! falls further behind loses the oldest ones and learns how many, so it can reload everything
//! instead. At most [`MAX_EVENT_STREAMS`] subscribers exist at once, and at most
//! [`MAX_EVENT_STREAMS_PER_CALLER`] of them share one session or token.

use std::sync::Arc;

use onesheet_domain::{CommandId, DeviceId};
use tokio::sync::{OwnedSemaphorePermit, Semaphore, broadcast, watch};

use super::DeviceService;
use crate::auth::{Credential, FeedSlot, FeedSlots};

/// Events the channel keeps for its slowest subscriber. A fleet of 10,000 screens that
/// reconnects at once overflows it, and subscribers then reload their whole list.
pub const EVENT_BUFFER: usize = 1024;

/// Maximum open subscriptions. Each admin tab with the screens table or a screen page opens
/// one, so this leaves room for many admins while capping the store reads they cause.
pub const MAX_EVENT_STREAMS: usize = 32;

/// Maximum open subscriptions of one session or API token, so that one caller cannot take
/// every slot of [`MAX_EVENT_STREAMS`]. An admin has about one per open tab.
pub const MAX_EVENT_STREAMS_PER_CALLER: usize = 4;

/// Reason a subscription was rejected.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SubscribeRejection {
    /// [`MAX_EVENT_STREAMS`] subscriptions are open.
    ServerFull,
    /// The caller has [`MAX_EVENT_STREAMS_PER_CALLER`] subscriptions open.
    CallerFull,
}

/// A change of one device.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DeviceEvent {
    /// Something in the device's view may have changed: presence, status, record or settings.
    Changed(DeviceId),
    /// The device's record was deleted.
    Removed(DeviceId),
    /// A delivered command was acknowledged by the screen, or failed without an ack in time.
    CommandFinished {
        device_id: DeviceId,
        command_id: CommandId,
        ok: bool,
    },
}

pub(crate) struct EventFeed {
    sender: broadcast::Sender<DeviceEvent>,
    streams: Arc<Semaphore>,
    per_caller: FeedSlots,
    /// Turns true at shutdown, so open streams end instead of holding the server's drain.
    closed: watch::Sender<bool>,
}

impl Default for EventFeed {
    fn default() -> Self {
        let (sender, _) = broadcast::channel(EVENT_BUFFER);
        Self {
            sender,
            streams: Arc::new(Semaphore::new(MAX_EVENT_STREAMS)),
            per_caller: FeedSlots::new(MAX_EVENT_STREAMS_PER_CALLER),
            closed: watch::Sender::new(false),
        }
    }
}

impl EventFeed {
    /// Sends `event` to every subscriber. Without subscribers the event is dropped.
    pub(crate) fn publish(&self, event: DeviceEvent) {
        let _ = self.sender.send(event);
    }

    pub(crate) fn changed(&self, device_id: &DeviceId) {
        self.publish(DeviceEvent::Changed(device_id.clone()));
    }
}

/// One subscriber's receiver, with the permits that count it against [`MAX_EVENT_STREAMS`] and
/// [`MAX_EVENT_STREAMS_PER_CALLER`]. Dropping it frees both.
pub struct EventSubscription {
    pub receiver: broadcast::Receiver<DeviceEvent>,
    /// Turns true when [`DeviceService::close_event_streams`] runs.
    pub closed: watch::Receiver<bool>,
    _permit: OwnedSemaphorePermit,
    _caller_slot: FeedSlot,
}

impl DeviceService {
    /// Subscribes `caller` to the device events published from now on, unless the server or
    /// the caller has its maximum of subscriptions open already.
    pub fn subscribe(&self, caller: &Credential) -> Result<EventSubscription, SubscribeRejection> {
        let caller_slot = self
            .events
            .per_caller
            .try_take(caller)
            .ok_or(SubscribeRejection::CallerFull)?;
        let permit = self
            .events
            .streams
            .clone()
            .try_acquire_owned()
            .map_err(|_| SubscribeRejection::ServerFull)?;
        Ok(EventSubscription {
            receiver: self.events.sender.subscribe(),
            closed: self.events.closed.subscribe(),
            _permit: permit,
            _caller_slot: caller_slot,
        })
    }

    /// Ends every open subscription, at shutdown. Later subscriptions end at once too.
    pub fn close_event_streams(&self) {
        self.events.closed.send_replace(true);
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn subscriber_receives_published_change() {
        let feed = EventFeed::default();
        let mut receiver = feed.sender.subscribe();
        let device: DeviceId = "screen".parse().unwrap();

        feed.changed(&device);

        assert_eq!(receiver.try_recv().unwrap(), DeviceEvent::Changed(device));
    }

    #[test]
    fn slow_subscriber_learns_it_lagged() {
        let feed = EventFeed::default();
        let mut receiver = feed.sender.subscribe();
        let device: DeviceId = "screen".parse().unwrap();

        for _ in 0..EVENT_BUFFER + 5 {
            feed.changed(&device);
        }

        assert!(matches!(
            receiver.try_recv(),
            Err(broadcast::error::TryRecvError::Lagged(5))
        ));
    }
}
