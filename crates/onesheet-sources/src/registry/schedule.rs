//! The background tasks of each running source: a refresh loop and a now-playing poller.
//!
//! A refresh loop refreshes its source at once, then every `refresh_minutes`, or sooner when an
//! admin requests a refresh. A loop runs one refresh at a time, so a request during a refresh gets
//! "already running" instead of starting a second listing of the same library.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use onesheet_domain::SourceId;
use tokio::sync::{Mutex, Notify};
use tokio::task::JoinHandle;
use tracing::Instrument;

use super::RefreshStart;
use super::settings::NowPlayingSettings;
use crate::catalog::Catalog;
use crate::now_playing::{NowPlayingHub, SessionFilter, poll_sessions};
use crate::source::MediaSource;

struct SourceTasks {
    refresh: JoinHandle<()>,
    poller: Option<JoinHandle<()>>,
}

impl SourceTasks {
    fn abort(&self) {
        self.refresh.abort();
        if let Some(poller) = &self.poller {
            poller.abort();
        }
    }
}

pub(super) struct Schedules {
    catalog: Arc<Catalog>,
    now_playing: Arc<NowPlayingHub>,
    tasks: Mutex<HashMap<SourceId, SourceTasks>>,
    /// Kept outside `tasks` so that `refresh_now` never waits for a lock held across a start.
    handles: std::sync::Mutex<HashMap<SourceId, RefreshHandle>>,
}

/// Trigger that wakes a refresh loop, and a flag set while it refreshes.
#[derive(Clone)]
struct RefreshHandle {
    trigger: Arc<Notify>,
    refreshing: Arc<AtomicBool>,
}

impl Schedules {
    pub(super) fn new(catalog: Arc<Catalog>, now_playing: Arc<NowPlayingHub>) -> Self {
        Self {
            catalog,
            now_playing,
            tasks: Mutex::new(HashMap::new()),
            handles: std::sync::Mutex::new(HashMap::new()),
        }
    }

    /// Starts (or restarts, after a settings change) the tasks of one source.
    pub(super) async fn start(
        &self,
        source: Arc<dyn MediaSource>,
        refresh_minutes: u32,
        now_playing: &NowPlayingSettings,
    ) {
        let id = source.id().clone();
        let trigger = Arc::new(Notify::new());
        let refreshing = Arc::new(AtomicBool::new(false));
        let interval = Duration::from_secs(u64::from(refresh_minutes) * 60);

        let refresh = tokio::spawn(
            refresh_loop(
                self.catalog.clone(),
                id.clone(),
                interval,
                trigger.clone(),
                refreshing.clone(),
            )
            // `parent: None` keeps the request that created the source out of every later log
            // line of its loop.
            .instrument(tracing::info_span!(parent: None, "refresh_loop", source.id = %id)),
        );
        let poller = now_playing.enabled.then(|| {
            tokio::spawn(
                poll_sessions(
                    source.clone(),
                    self.now_playing.clone(),
                    SessionFilter::from_settings(now_playing),
                    Duration::from_secs(u64::from(now_playing.poll_seconds)),
                )
                .instrument(tracing::info_span!(parent: None, "now_playing", source.id = %id)),
            )
        });

        let tasks = SourceTasks { refresh, poller };
        if let Some(previous) = self.tasks.lock().await.insert(id.clone(), tasks) {
            previous.abort();
        }
        if let Ok(mut handles) = self.handles.lock() {
            handles.insert(
                id,
                RefreshHandle {
                    trigger,
                    refreshing,
                },
            );
        }
    }

    pub(super) async fn stop(&self, id: &SourceId) {
        if let Some(tasks) = self.tasks.lock().await.remove(id) {
            tasks.abort();
        }
        if let Ok(mut handles) = self.handles.lock() {
            handles.remove(id);
        }
    }

    pub(super) async fn stop_all(&self) {
        for (_, tasks) in self.tasks.lock().await.drain() {
            tasks.abort();
        }
    }

    /// Wakes the source's refresh loop, unless it is refreshing already.
    pub(super) fn refresh_now(&self, id: &SourceId) -> RefreshStart {
        let handles = match self.handles.lock() {
            Ok(handles) => handles,
            Err(poisoned) => poisoned.into_inner(),
        };
        let Some(handle) = handles.get(id) else {
            return RefreshStart::AlreadyRunning;
        };
        if handle.refreshing.load(Ordering::Acquire) {
            return RefreshStart::AlreadyRunning;
        }
        handle.trigger.notify_one();
        RefreshStart::Started
    }
}

async fn refresh_loop(
    catalog: Arc<Catalog>,
    id: SourceId,
    interval: Duration,
    trigger: Arc<Notify>,
    refreshing: Arc<AtomicBool>,
) {
    loop {
        refreshing.store(true, Ordering::Release);
        catalog.refresh(&id, crate::now_unix()).await;
        refreshing.store(false, Ordering::Release);

        tokio::select! {
            () = tokio::time::sleep(interval) => {}
            () = trigger.notified() => {}
        }
    }
}
