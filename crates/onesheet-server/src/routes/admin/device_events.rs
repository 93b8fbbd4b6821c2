//! `GET /api/v1/admin/devices/events`: the live feed of the screens table and the screen
//! page, as server-sent events.
//!
//! The stream sends these events:
//!
//! - `device`: a device that changed, as `GET /api/v1/admin/devices` lists it.
//! - `removed`: `{"id": …}` of a deleted device.
//! - `command`: `{"device_id": …, "command_id": …, "ok": …}` when a screen acknowledged a
//!   command, or the command failed because no ack came in time.
//! - `resync`: the stream dropped changes because it fell behind, so the client reloads the
//!   whole list.
//!
//! With `?device=<id>` the stream carries only that device's events. Changes are gathered for
//! [`COALESCE_WINDOW`], and each changed device is loaded once per window, so a screen that
//! reports three times in a burst costs one store read per stream. The stream ends after
//! [`MAX_STREAM_AGE`], and the browser's `EventSource` then reconnects through the access
//! check. The stream also checks its session or token every [`crate::auth::FEED_RECHECK_INTERVAL`] and ends
//! when it was signed out, expired or revoked. Every stream also ends at the server's shutdown,
//! so none delays the drain of requests in flight.

use std::collections::VecDeque;
use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use onesheet_domain::{DeviceId, FieldError};
use serde::{Deserialize, Serialize};
use serde_json::json;
use tokio::sync::broadcast::error::RecvError;
use tokio::sync::watch;
use tokio::time::{Instant, sleep_until};
use tracing::{debug, warn};

use crate::auth::{DeviceAccess, FeedAccess};
use crate::devices::{
    DeviceDetail, DeviceError, DeviceEvent, DeviceService, DeviceView, EventSubscription,
    MAX_EVENT_STREAMS, MAX_EVENT_STREAMS_PER_CALLER, SubscribeRejection,
};
use crate::error::ApiError;
use crate::routes::table::RouteTable;
use crate::state::AppState;

/// Time over which changes are gathered before the changed devices are loaded.
const COALESCE_WINDOW: Duration = Duration::from_millis(250);

/// Distinct changed devices one window may gather. Past this many, loading each would cost
/// more than the client reloading the list, so the stream sends `resync` instead.
const MAX_CHANGED_PER_WINDOW: usize = 200;

/// Lifetime of one stream. The browser reconnects after it, which re-checks the session.
const MAX_STREAM_AGE: Duration = Duration::from_secs(10 * 60);

/// Time the browser waits before reconnecting after the stream ends, in milliseconds.
const RECONNECT_MILLIS: u64 = 2_000;

pub(super) fn routes() -> RouteTable {
    RouteTable::new().get("/api/v1/admin/devices/events", events)
}

/// Query of the event stream.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct EventQuery {
    /// The only device whose events the stream carries.
    device: Option<DeviceId>,
}

/// A device as the screens table shows it: the API's view and the title of the item on screen.
#[derive(Debug, Serialize)]
pub(super) struct DeviceRow {
    #[serde(flatten)]
    device: DeviceView,
    /// Title of the catalog item the screen reported last. `None` without a status, or when
    /// the item left the catalog.
    current_title: Option<String>,
}

impl DeviceRow {
    pub(super) fn new(state: &AppState, device: DeviceView) -> Self {
        let current_title = current_title(state, &device);
        Self {
            device,
            current_title,
        }
    }
}

/// A device's detail with the title of the item on screen, for the screen page.
#[derive(Debug, Serialize)]
pub(super) struct DetailWithTitle {
    #[serde(flatten)]
    detail: DeviceDetail,
    current_title: Option<String>,
}

impl DetailWithTitle {
    pub(super) fn new(state: &AppState, detail: DeviceDetail) -> Self {
        let current_title = current_title(state, &detail.device);
        Self {
            detail,
            current_title,
        }
    }
}

fn current_title(state: &AppState, device: &DeviceView) -> Option<String> {
    let item_id = device
        .record
        .last_status
        .as_ref()?
        .current_item_id
        .as_ref()?;
    let snapshot = state.catalog.snapshot();
    snapshot.get(item_id).map(|item| item.title.clone())
}

async fn events(
    DeviceAccess(access): DeviceAccess,
    State(state): State<AppState>,
    query: Result<Query<EventQuery>, QueryRejection>,
) -> Result<Response, ApiError> {
    let Query(query) = query.map_err(|rejection| {
        ApiError::InvalidInput(FieldError::new(
            "query",
            format!(
                "invalid event stream query: {}. Use device=<device id> or no query",
                rejection.body_text()
            ),
        ))
    })?;
    let service = state.devices.clone().ok_or(ApiError::Disabled {
        reason: "devices are not available on this server",
    })?;
    let credential = access.actor.credential();
    let subscription = match service.subscribe(&credential) {
        Ok(subscription) => subscription,
        Err(SubscribeRejection::ServerFull) => {
            warn!(
                max_streams = MAX_EVENT_STREAMS,
                "device event stream rejected: too many open streams"
            );
            return Err(ApiError::Busy {
                reason: format!(
                    "{MAX_EVENT_STREAMS} live screen feeds are open already: close other admin \
                     tabs showing screens, or retry in a minute"
                ),
                retry_after_seconds: 60,
            });
        }
        Err(SubscribeRejection::CallerFull) => {
            warn!(
                actor = %access.actor.audit_name(),
                max_streams = MAX_EVENT_STREAMS_PER_CALLER,
                "device event stream rejected: too many open streams for one caller"
            );
            return Err(ApiError::Busy {
                reason: format!(
                    "this session or token has {MAX_EVENT_STREAMS_PER_CALLER} live screen feeds \
                     open already: close other admin tabs showing screens, or retry in a minute"
                ),
                retry_after_seconds: 60,
            });
        }
    };

    let feed = Feed {
        access: FeedAccess::new(state.clone(), credential),
        state,
        service,
        subscription,
        only: query.device,
        ready: VecDeque::from([Event::default().retry(Duration::from_millis(RECONNECT_MILLIS))]),
        ends_at: Instant::now() + MAX_STREAM_AGE,
        ended: false,
    };
    let stream = futures::stream::unfold(feed, |mut feed| async move {
        let event = feed.next_event().await?;
        Some((Ok::<Event, Infallible>(event), feed))
    });
    Ok(Sse::new(stream)
        .keep_alive(KeepAlive::default())
        .into_response())
}

/// The state of one stream between two events.
struct Feed {
    access: FeedAccess,
    state: AppState,
    service: Arc<DeviceService>,
    subscription: EventSubscription,
    only: Option<DeviceId>,
    /// Events built and not yet sent.
    ready: VecDeque<Event>,
    ends_at: Instant,
    ended: bool,
}

/// Changes gathered in one window.
#[derive(Default)]
struct Window {
    changed: Vec<DeviceId>,
    resync: bool,
}

impl Feed {
    /// Returns the next event to send, or `None` when the stream ends.
    async fn next_event(&mut self) -> Option<Event> {
        loop {
            if let Some(event) = self.ready.pop_front() {
                return Some(event);
            }
            if self.ended {
                return None;
            }
            if !self.access.still_valid().await {
                debug!("device event stream ends because its session or token is no longer valid");
                return None;
            }

            let mut window = Window::default();
            tokio::select! {
                received = self.subscription.receiver.recv() => self.take(received, &mut window),
                () = sleep_until(self.access.next_check()) => continue,
                () = sleep_until(self.ends_at) => {
                    debug!("device event stream reached its maximum age and ends");
                    return None;
                }
                () = shutting_down(&mut self.subscription.closed) => {
                    debug!("device event stream ends for the server's shutdown");
                    return None;
                }
            }
            let window_ends = Instant::now() + COALESCE_WINDOW;
            while !self.ended && !window.resync {
                tokio::select! {
                    received = self.subscription.receiver.recv() => self.take(received, &mut window),
                    () = sleep_until(window_ends) => break,
                }
            }
            self.load(window).await;
        }
    }

    /// Adds one received event to the window, or queues it at once when it needs no load.
    fn take(&mut self, received: Result<DeviceEvent, RecvError>, window: &mut Window) {
        let event = match received {
            Ok(event) => event,
            Err(RecvError::Lagged(missed)) => {
                debug!(
                    missed,
                    "device event stream fell behind; the client reloads the list"
                );
                window.resync = true;
                return;
            }
            Err(RecvError::Closed) => {
                self.ended = true;
                return;
            }
        };
        let device_id = match &event {
            DeviceEvent::Changed(id) | DeviceEvent::Removed(id) => id,
            DeviceEvent::CommandFinished { device_id, .. } => device_id,
        };
        if self.only.as_ref().is_some_and(|only| only != device_id) {
            return;
        }
        match event {
            DeviceEvent::Changed(id) => {
                if !window.changed.contains(&id) {
                    window.changed.push(id);
                }
                if window.changed.len() > MAX_CHANGED_PER_WINDOW {
                    window.resync = true;
                }
            }
            DeviceEvent::Removed(id) => {
                window.changed.retain(|changed| *changed != id);
                self.ready.push_back(removed_event(&id));
            }
            DeviceEvent::CommandFinished {
                device_id,
                command_id,
                ok,
            } => {
                let data = json!({ "device_id": device_id, "command_id": command_id, "ok": ok });
                self.ready
                    .push_back(Event::default().event("command").data(data.to_string()));
            }
        }
    }

    /// Loads the devices of the window and queues an event for each.
    async fn load(&mut self, window: Window) {
        if window.resync {
            self.ready
                .push_back(Event::default().event("resync").data("{}"));
            return;
        }
        for device_id in window.changed {
            match self.service.device_view(&device_id).await {
                Ok(view) => {
                    let row = DeviceRow::new(&self.state, view);
                    match Event::default().event("device").json_data(&row) {
                        Ok(event) => self.ready.push_back(event),
                        Err(error) => {
                            warn!(%error, device.id = %device_id, "could not encode a device event");
                        }
                    }
                }
                Err(DeviceError::DeviceNotFound(_)) => {
                    self.ready.push_back(removed_event(&device_id));
                }
                Err(error) => {
                    warn!(%error, device.id = %device_id, "could not load a changed device for the event stream, so the client reloads the list");
                    self.ready
                        .push_back(Event::default().event("resync").data("{}"));
                    return;
                }
            }
        }
    }
}

/// Waits until the service closes its event streams. A dropped service counts as closed.
async fn shutting_down(closed: &mut watch::Receiver<bool>) {
    // The guard that `wait_for` returns is dropped here, before the caller's next await.
    let _ = closed.wait_for(|closed| *closed).await;
}

fn removed_event(device_id: &DeviceId) -> Event {
    let data = json!({ "id": device_id });
    Event::default().event("removed").data(data.to_string())
}
