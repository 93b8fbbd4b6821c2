//! Change notification for the media folder, so the catalog can rescan soon after a file is
//! added, replaced or removed.
//!
//! File events arrive in bursts (a copy of one poster alone produces create, several modify and
//! close events). [`LocalWatch::changed`] turns each burst into one signal: it returns once no
//! event has arrived for [`QUIET_PERIOD`], or [`MAX_DELAY`] after the first event of the burst,
//! whichever comes first.

use std::time::Duration;

use notify::event::{EventKind, MetadataKind, ModifyKind};
use notify::{RecommendedWatcher, RecursiveMode, Watcher};
use tokio::sync::mpsc;
use tokio::time::{Instant, timeout_at};
use tracing::{debug, warn};

use super::LocalFolderSource;
use crate::SourceError;

/// Time without events that ends a burst.
pub(crate) const QUIET_PERIOD: Duration = Duration::from_millis(300);

/// Maximum time from the first event of a burst to the signal, so a long copy still shows
/// its first files within about a second.
pub(crate) const MAX_DELAY: Duration = Duration::from_secs(1);

/// A running watch on a media folder. Dropping it stops the watch.
#[derive(Debug)]
pub struct LocalWatch {
    /// Kept only so the watch lives as long as this value.
    _watcher: RecommendedWatcher,
    events: mpsc::Receiver<()>,
    /// When the burst being debounced began, kept here so a cancelled `changed` call does
    /// not lose it.
    burst_started: Option<Instant>,
}

impl LocalFolderSource {
    /// Starts watching the media folder and its subfolders for changes.
    ///
    /// Fails when the folder is missing or the platform rejects the watch. On Linux the usual
    /// cause is the inotify limit `fs.inotify.max_user_watches`, because every subfolder
    /// takes one watch.
    pub fn watch(&self) -> Result<LocalWatch, SourceError> {
        let unavailable = |reason: String| SourceError::Unavailable {
            source_id: self.id.clone(),
            reason,
        };

        if !self.root.is_dir() {
            return Err(unavailable(format!(
                "media folder {} does not exist: create it before watching it",
                self.root.display()
            )));
        }

        // Capacity 1: while a signal is pending, further events add nothing.
        let (sender, events) = mpsc::channel(1);
        let handler = move |result: notify::Result<notify::Event>| {
            let relevant = match &result {
                Ok(event) => is_change(&event.kind),
                Err(error) => {
                    // A lost event (such as an inotify queue overflow) may hide a change, so
                    // it triggers a rescan like any other event.
                    warn!(%error, "file watch reported an error; rescanning");
                    true
                }
            };
            if relevant {
                // A full channel already contains a signal, and a closed one has no reader.
                let _ = sender.try_send(());
            }
        };

        let mut watcher = notify::recommended_watcher(handler).map_err(|error| {
            unavailable(format!(
                "failed to start watching media folder {}: {error}",
                self.root.display()
            ))
        })?;
        watcher
            .watch(&self.root, RecursiveMode::Recursive)
            .map_err(|error| {
                unavailable(format!(
                    "failed to watch media folder {}: {error}",
                    self.root.display()
                ))
            })?;

        debug!(source = %self.id, root = %self.root.display(), "watching media folder");
        Ok(LocalWatch {
            _watcher: watcher,
            events,
            burst_started: None,
        })
    }
}

impl LocalWatch {
    /// Waits for the next burst of changes and returns `Some(())` after it, or `None` when
    /// the watcher has stopped.
    ///
    /// Cancel-safe: when the future is dropped mid-burst, the next call finishes that burst
    /// instead of waiting for a new one, so it can sit in a `tokio::select!` loop.
    pub async fn changed(&mut self) -> Option<()> {
        let burst_started = match self.burst_started {
            Some(started) => started,
            None => {
                self.events.recv().await?;
                let started = Instant::now();
                self.burst_started = Some(started);
                started
            }
        };
        let deadline = burst_started + MAX_DELAY;

        loop {
            let quiet_until = (Instant::now() + QUIET_PERIOD).min(deadline);
            match timeout_at(quiet_until, self.events.recv()).await {
                Ok(Some(())) if Instant::now() < deadline => continue,
                // The deadline passed, the burst went quiet, or the watcher stopped after
                // this burst: report the burst either way.
                Ok(Some(())) | Ok(None) | Err(_) => break,
            }
        }

        self.burst_started = None;
        Some(())
    }
}

/// Returns false for reads and access-time updates. They change nothing a scan reads, and the
/// scan itself opens every new file, so counting them would make each scan trigger the next.
fn is_change(kind: &EventKind) -> bool {
    !matches!(
        kind,
        EventKind::Access(_) | EventKind::Modify(ModifyKind::Metadata(MetadataKind::AccessTime))
    )
}

#[cfg(test)]
mod tests {
    use std::time::Instant as StdInstant;

    use onesheet_domain::SourceId;

    use super::*;

    fn source(root: &std::path::Path) -> LocalFolderSource {
        LocalFolderSource::new(SourceId::new("local").unwrap(), root.to_owned())
    }

    #[tokio::test]
    async fn new_file_signals_within_two_seconds() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("posters")).unwrap();
        let mut watch = source(dir.path()).watch().unwrap();

        let started = StdInstant::now();
        std::fs::write(dir.path().join("posters").join("Heat (1995).jpg"), b"bytes").unwrap();
        let signal = tokio::time::timeout(Duration::from_secs(2), watch.changed()).await;

        assert_eq!(signal, Ok(Some(())));
        assert!(started.elapsed() < Duration::from_secs(2));
    }

    #[tokio::test]
    async fn burst_gives_one_signal() {
        let dir = tempfile::tempdir().unwrap();
        let mut watch = source(dir.path()).watch().unwrap();

        for index in 0..20 {
            std::fs::write(dir.path().join(format!("file{index}.jpg")), b"bytes").unwrap();
        }
        let first = tokio::time::timeout(Duration::from_secs(2), watch.changed()).await;
        assert_eq!(first, Ok(Some(())));

        let second = tokio::time::timeout(Duration::from_millis(800), watch.changed()).await;
        assert!(second.is_err(), "a second signal arrived: {second:?}");
    }

    #[tokio::test]
    async fn cancelled_wait_keeps_burst() {
        let dir = tempfile::tempdir().unwrap();
        let mut watch = source(dir.path()).watch().unwrap();

        std::fs::write(dir.path().join("poster.jpg"), b"bytes").unwrap();
        // Long enough to take the first event, too short to finish the quiet period.
        let cancelled = tokio::time::timeout(Duration::from_millis(150), watch.changed()).await;
        assert!(cancelled.is_err(), "{cancelled:?}");

        let resumed = tokio::time::timeout(Duration::from_secs(2), watch.changed()).await;
        assert_eq!(resumed, Ok(Some(())));
    }

    #[tokio::test]
    async fn reading_files_gives_no_signal() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("poster.jpg");
        std::fs::write(&file, b"bytes").unwrap();
        let mut watch = source(dir.path()).watch().unwrap();

        for _ in 0..5 {
            std::fs::read(&file).unwrap();
        }
        let signal = tokio::time::timeout(Duration::from_millis(800), watch.changed()).await;

        assert!(signal.is_err(), "reading produced a signal: {signal:?}");
    }

    #[test]
    fn missing_folder_is_unavailable() {
        let dir = tempfile::tempdir().unwrap();
        let error = source(&dir.path().join("absent")).watch().unwrap_err();
        assert!(error.to_string().contains("does not exist"), "{error}");
    }
}
