//! Commands: queued in the store for every target device, sent at once to those with a live
//! socket, sent to the others after their next `welcome`, and finished by the screen's `ack`,
//! by the ack timeout or by expiry.
//!
//! The store keeps the queue and each command's state, so a restart loses nothing but the ack
//! deadlines below. A command delivered before a restart stays delivered and is sent again when
//! the device reconnects.

use std::collections::{HashMap, HashSet};
use std::sync::{Mutex, PoisonError};
use std::time::Instant;

use onesheet_domain::{Command, CommandId, CommandState, DeviceId, ServerMessage};
use onesheet_store::{CommandReply, NewCommand, StoredCommand};
use serde::Serialize;
use tracing::{debug, warn};

use super::{DeviceError, DeviceEvent, DeviceService};

/// The reason stored for a delivered command whose ack did not come in time.
pub const NO_ACK_REASON: &str = "no acknowledgement";

/// Maximum devices one request may command. A list this long, of ids up to 64 characters, fits
/// the 64 KiB body limit; larger fleets are commanded through their group.
pub const MAX_COMMAND_TARGETS: usize = 800;

/// Delivered commands waiting for their ack, with the deadline of each.
#[derive(Default)]
pub(crate) struct InFlight {
    deadlines: Mutex<HashMap<CommandId, (DeviceId, Instant)>>,
}

impl InFlight {
    fn insert(&self, id: CommandId, device_id: DeviceId, deadline: Instant) {
        lock(&self.deadlines).insert(id, (device_id, deadline));
    }

    /// Removes the entry of command `id` when it belongs to `device_id`. Command ids are
    /// sequential, so another device's ack must not cancel this command's ack timeout.
    fn remove(&self, id: CommandId, device_id: &DeviceId) {
        let mut deadlines = lock(&self.deadlines);
        if deadlines
            .get(&id)
            .is_some_and(|(owner, _)| owner == device_id)
        {
            deadlines.remove(&id);
        }
    }

    fn take_overdue(&self, now: Instant) -> Vec<(CommandId, DeviceId)> {
        let mut deadlines = lock(&self.deadlines);
        let overdue: Vec<(CommandId, DeviceId)> = deadlines
            .iter()
            .filter(|(_, (_, deadline))| *deadline <= now)
            .map(|(id, (device_id, _))| (*id, device_id.clone()))
            .collect();
        for (id, _) in &overdue {
            deadlines.remove(id);
        }
        overdue
    }
}

/// The outcome of a command for one device.
#[derive(Debug, Clone, Serialize)]
pub struct CommandOutcome {
    pub device_id: DeviceId,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub command: Option<CommandView>,
    /// The reason the command was not queued.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// A queued command as the admin API shows it.
#[derive(Debug, Clone, Serialize)]
pub struct CommandView {
    pub id: CommandId,
    pub command: Command,
    pub state: CommandState,
    pub created_at: i64,
    pub expires_at: i64,
    pub delivered_at: Option<i64>,
    pub acked_at: Option<i64>,
    pub error: Option<String>,
}

impl From<StoredCommand> for CommandView {
    fn from(stored: StoredCommand) -> Self {
        Self {
            id: stored.id,
            command: stored.command,
            state: stored.state,
            created_at: stored.created_at,
            expires_at: stored.expires_at,
            delivered_at: stored.delivered_at,
            acked_at: stored.acked_at,
            error: stored.error,
        }
    }
}

impl DeviceService {
    /// Queues `command` for one device and sends it at once when the device is live.
    pub async fn send_command(
        &self,
        device_id: &DeviceId,
        command: &Command,
    ) -> Result<CommandView, DeviceError> {
        let record = self
            .store
            .get_device(device_id)
            .await
            .map_err(DeviceError::Store)?
            .filter(|record| record.is_active())
            .ok_or_else(|| DeviceError::DeviceNotFound(device_id.clone()))?;

        let now = self.now();
        let ttl = i64::try_from(self.config.command_ttl.as_secs()).unwrap_or(i64::MAX);
        let queued = NewCommand {
            device_id: record.id,
            command: command.clone(),
            created_at: now,
            expires_at: now.saturating_add(ttl),
        };
        let mut stored = self
            .store
            .enqueue_command(&queued, self.config.max_pending_commands)
            .await
            .map_err(|error| match error {
                onesheet_store::StoreError::NotFound { .. } => {
                    DeviceError::DeviceNotFound(device_id.clone())
                }
                other => DeviceError::from(other),
            })?;

        let message = ServerMessage::Command {
            id: stored.id,
            command: stored.command.clone(),
        };
        let sent = self.hub.send(device_id, message);
        if !sent {
            self.hub.wake_poller(device_id);
        }
        if sent {
            self.track_delivery(device_id, stored.id);
            match self.store.mark_command_delivered(stored.id, now).await {
                Ok(true) => {
                    stored.state = CommandState::Delivered;
                    stored.delivered_at = Some(now);
                }
                // The socket's queue read or the ack came first: report what the store holds.
                Ok(false) => {
                    if let Ok(Some(current)) = self.store.get_command(stored.id).await {
                        stored = current;
                    }
                }
                Err(error) => {
                    warn!(%error, command.id = %stored.id, "could not mark a command as delivered")
                }
            }
        }
        debug!(device.id = %device_id, command.id = %stored.id, command = stored.command.name(), state = %stored.state, "command queued");
        Ok(stored.into())
    }

    /// Queues `command` for each device and reports the outcome per device, so one unknown id
    /// or full queue does not stop the others.
    ///
    /// A broadcast to a fleet uses the store three times in all, not three times per screen. It
    /// reads the active device ids once, queues every command in one transaction, and marks the
    /// ones sent over live sockets as delivered in another. Sending itself is in memory.
    pub async fn send_commands(
        &self,
        device_ids: &[DeviceId],
        command: &Command,
    ) -> Vec<CommandOutcome> {
        if let [device_id] = device_ids {
            return vec![self.outcome(device_id, self.send_command(device_id, command).await)];
        }

        let active: HashSet<DeviceId> = match self.active_device_ids(None).await {
            Ok(active) => active.into_iter().collect(),
            Err(error) => {
                let message = DeviceError::Store(error).to_string();
                return device_ids
                    .iter()
                    .map(|device_id| failed_outcome(device_id, message.clone()))
                    .collect();
            }
        };
        let (known, unknown): (Vec<&DeviceId>, Vec<&DeviceId>) = device_ids
            .iter()
            .partition(|device_id| active.contains(*device_id));
        let known: Vec<DeviceId> = known.into_iter().cloned().collect();
        let mut outcomes = self.queue_and_send(&known, command).await;
        outcomes.extend(unknown.into_iter().map(|device_id| {
            self.outcome(
                device_id,
                Err(DeviceError::DeviceNotFound(device_id.clone())),
            )
        }));
        outcomes
    }

    /// Queues `command` for every active device, in one request however large the fleet.
    pub async fn send_fleet_command(
        &self,
        command: &Command,
    ) -> Result<Vec<CommandOutcome>, DeviceError> {
        let active = self
            .active_device_ids(None)
            .await
            .map_err(DeviceError::Store)?;
        Ok(self.queue_and_send(&active, command).await)
    }

    /// Queues `command` for each of `device_ids`, which the caller found active, sends it to
    /// the live ones and reports the outcome per device.
    async fn queue_and_send(
        &self,
        device_ids: &[DeviceId],
        command: &Command,
    ) -> Vec<CommandOutcome> {
        let now = self.now();
        let ttl = i64::try_from(self.config.command_ttl.as_secs()).unwrap_or(i64::MAX);
        let queued: Vec<NewCommand> = device_ids
            .iter()
            .map(|device_id| NewCommand {
                device_id: device_id.clone(),
                command: command.clone(),
                created_at: now,
                expires_at: now.saturating_add(ttl),
            })
            .collect();
        let stored = match self
            .store
            .enqueue_commands(&queued, self.config.max_pending_commands)
            .await
        {
            Ok(stored) => stored,
            Err(error) => {
                let message = DeviceError::from(error).to_string();
                return device_ids
                    .iter()
                    .map(|device_id| failed_outcome(device_id, message.clone()))
                    .collect();
            }
        };

        // Sends every queued command to its live socket, then records the deliveries in one go.
        let mut sent_ids = Vec::new();
        let mut outcomes = Vec::with_capacity(device_ids.len());
        for (device_id, result) in device_ids.iter().zip(stored) {
            let mut stored = match result {
                Ok(stored) => stored,
                Err(error) => {
                    outcomes.push(self.outcome(device_id, Err(DeviceError::from(error))));
                    continue;
                }
            };
            let message = ServerMessage::Command {
                id: stored.id,
                command: stored.command.clone(),
            };
            if self.hub.send(device_id, message) {
                self.track_delivery(device_id, stored.id);
                sent_ids.push(stored.id);
                stored.state = CommandState::Delivered;
                stored.delivered_at = Some(now);
            } else {
                self.hub.wake_poller(device_id);
            }
            outcomes.push(self.outcome(device_id, Ok(stored.into())));
        }
        if !sent_ids.is_empty()
            && let Err(error) = self.store.mark_commands_delivered(&sent_ids, now).await
        {
            warn!(%error, commands = sent_ids.len(), "could not mark broadcast commands as delivered");
        }
        debug!(
            command = command.name(),
            devices = device_ids.len(),
            sent = sent_ids.len(),
            "command broadcast"
        );
        outcomes
    }

    /// Returns the ids of the active devices (not revoked, not merged), all of them or those of
    /// one group, in the store's order.
    pub(super) async fn active_device_ids(
        &self,
        group_id: Option<i64>,
    ) -> Result<Vec<DeviceId>, onesheet_store::StoreError> {
        self.store.list_active_device_ids(group_id).await
    }

    fn outcome(
        &self,
        device_id: &DeviceId,
        result: Result<CommandView, DeviceError>,
    ) -> CommandOutcome {
        match result {
            Ok(view) => CommandOutcome {
                device_id: device_id.clone(),
                command: Some(view),
                error: None,
            },
            Err(error) => failed_outcome(device_id, error.to_string()),
        }
    }

    /// Queues `command` for every active device of the group.
    pub async fn send_group_command(
        &self,
        group_id: i64,
        command: &Command,
    ) -> Result<Vec<CommandOutcome>, DeviceError> {
        self.store
            .get_group(group_id)
            .await
            .map_err(DeviceError::Store)?
            .ok_or(DeviceError::GroupNotFound(group_id))?;
        let members = self
            .active_device_ids(Some(group_id))
            .await
            .map_err(DeviceError::Store)?;
        Ok(self.queue_and_send(&members, command).await)
    }

    /// Marks the device's pending commands as delivered and returns them as messages, for a
    /// socket that has just sent `welcome`.
    pub(crate) async fn take_pending(&self, device_id: &DeviceId) -> Vec<ServerMessage> {
        let pending = match self
            .store
            .take_pending_commands(device_id, self.now())
            .await
        {
            Ok(pending) => pending,
            Err(error) => {
                warn!(%error, device.id = %device_id, "could not read the device's queued commands; they are sent at its next connect");
                return Vec::new();
            }
        };
        pending
            .into_iter()
            .map(|stored| {
                self.track_delivery(device_id, stored.id);
                ServerMessage::Command {
                    id: stored.id,
                    command: stored.command,
                }
            })
            .collect()
    }

    fn track_delivery(&self, device_id: &DeviceId, id: CommandId) {
        let deadline = Instant::now() + self.config.ack_timeout;
        self.in_flight.insert(id, device_id.clone(), deadline);
    }

    /// Records the screen's `ack`. An ack for a command that is not pending, or that belongs to
    /// another device, is ignored.
    ///
    /// Acks are written as a group commit: the first ack writes at once, and the acks that
    /// arrive while that write runs are written together after it, in one transaction. A fleet
    /// replying to a broadcast would otherwise queue ten thousand writers on SQLite's single
    /// write lock, and some would time out.
    pub(crate) async fn acknowledge(
        &self,
        device_id: &DeviceId,
        id: CommandId,
        error: Option<&str>,
    ) {
        self.in_flight.remove(id, device_id);
        let reply = CommandReply {
            device_id: device_id.clone(),
            id,
            error: error.map(str::to_owned),
            at: self.now(),
        };
        if !self.replies.push(reply) {
            // The writer that is running takes this reply with its next batch.
            return;
        }

        while let Some(batch) = self.replies.take_batch() {
            match self.store.finish_commands(&batch).await {
                Ok(finished) => {
                    for (reply, finished) in batch.iter().zip(finished) {
                        if finished {
                            self.events.publish(DeviceEvent::CommandFinished {
                                device_id: reply.device_id.clone(),
                                command_id: reply.id,
                                ok: reply.error.is_none(),
                            });
                        }
                        debug!(device.id = %reply.device_id, command.id = %reply.id, ok = reply.error.is_none(), finished, "command reply recorded");
                    }
                }
                Err(error) => {
                    warn!(%error, replies = batch.len(), "could not record command replies");
                }
            }
        }
    }

    /// Fails the delivered commands whose ack is overdue.
    pub(crate) async fn fail_overdue_acks(&self) {
        let now = self.now();
        for (id, device_id) in self.in_flight.take_overdue(Instant::now()) {
            match self
                .store
                .finish_command(&device_id, id, Some(NO_ACK_REASON), now)
                .await
            {
                Ok(true) => {
                    warn!(device.id = %device_id, command.id = %id, "command failed: no acknowledgement in time");
                    self.events.publish(DeviceEvent::CommandFinished {
                        device_id,
                        command_id: id,
                        ok: false,
                    });
                }
                Ok(false) => {}
                Err(error) => {
                    warn!(%error, command.id = %id, "could not fail an unacknowledged command")
                }
            }
        }
    }

    /// Returns the device's commands in every state, newest first.
    pub async fn list_commands(
        &self,
        device_id: &DeviceId,
        limit: u32,
    ) -> Result<Vec<CommandView>, DeviceError> {
        Ok(self
            .store
            .list_device_commands(device_id, limit)
            .await
            .map_err(DeviceError::Store)?
            .into_iter()
            .map(CommandView::from)
            .collect())
    }
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

fn failed_outcome(device_id: &DeviceId, error: String) -> CommandOutcome {
    CommandOutcome {
        device_id: device_id.clone(),
        command: None,
        error: Some(error),
    }
}

/// Command replies waiting to be written, and whether a writer is running.
#[derive(Default)]
pub(super) struct PendingReplies {
    state: Mutex<(Vec<CommandReply>, bool)>,
}

impl PendingReplies {
    /// Adds a reply. Returns true when the caller becomes the writer, because none is running.
    fn push(&self, reply: CommandReply) -> bool {
        let mut state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        state.0.push(reply);
        let start_writing = !state.1;
        state.1 = true;
        start_writing
    }

    /// Takes every waiting reply for the writer, or ends its turn when there are none. Both
    /// happen under one lock, so a reply pushed meanwhile is never left without a writer.
    fn take_batch(&self) -> Option<Vec<CommandReply>> {
        let mut state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        if state.0.is_empty() {
            state.1 = false;
            return None;
        }
        Some(std::mem::take(&mut state.0))
    }
}
