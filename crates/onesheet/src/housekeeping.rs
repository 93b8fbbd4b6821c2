//! Store clean-up that runs beside the server: expired sessions and audit events past their
//! retention. Neither is needed for correctness (expired sessions are refused when read), but
//! without it both tables grow for as long as the server runs.

use std::sync::Arc;
use std::time::Duration;

use onesheet_server::accounts::unix_now;
use onesheet_store::Store;
use tracing::{info, warn};

/// How often the clean-up runs. The first run is at start.
const INTERVAL: Duration = Duration::from_secs(60 * 60);

const SECONDS_PER_DAY: i64 = 24 * 60 * 60;

/// Starts the hourly clean-up. `audit_retention_days` of 0 keeps audit events forever.
pub fn start(store: Arc<dyn Store>, audit_retention_days: u32) {
    tokio::spawn(async move {
        let mut ticks = tokio::time::interval(INTERVAL);
        ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            ticks.tick().await;
            run_once(store.as_ref(), audit_retention_days, unix_now()).await;
        }
    });
}

/// Deletes what has expired by `now_unix`. Failures are logged and retried on the next run.
pub async fn run_once(store: &dyn Store, audit_retention_days: u32, now_unix: i64) {
    match store.delete_expired_sessions(now_unix).await {
        Ok(0) => {}
        Ok(deleted) => info!(deleted, "removed expired admin sessions"),
        Err(error) => warn!(%error, "failed to remove expired admin sessions; retrying in an hour"),
    }

    if audit_retention_days == 0 {
        return;
    }
    let cutoff = now_unix.saturating_sub(i64::from(audit_retention_days) * SECONDS_PER_DAY);
    match store.prune_audit_events(cutoff).await {
        Ok(0) => {}
        Ok(deleted) => info!(
            deleted,
            retention_days = audit_retention_days,
            "removed audit events past their retention"
        ),
        Err(error) => warn!(%error, "failed to prune the audit log; retrying in an hour"),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use onesheet_store::{NewAuditEvent, SqliteStore};

    use super::*;

    const NOW: i64 = 1_796_428_800;

    fn event(at: i64, action: &str) -> NewAuditEvent {
        NewAuditEvent {
            at,
            actor: "system".to_owned(),
            action: action.to_owned(),
            target: None,
            ip: None,
            user_agent: None,
            detail: None,
        }
    }

    async fn store_with_events() -> (SqliteStore, tempfile::TempDir) {
        let dir = tempfile::tempdir().unwrap();
        let store = SqliteStore::open(&dir.path().join("db.sqlite"))
            .await
            .unwrap();
        for (age_days, action) in [(400, "old"), (31, "last-month"), (1, "yesterday")] {
            store
                .append_audit_event(&event(NOW - age_days * SECONDS_PER_DAY, action))
                .await
                .unwrap();
        }
        (store, dir)
    }

    async fn actions(store: &SqliteStore) -> Vec<String> {
        let events = store.list_audit_events(&Default::default()).await.unwrap();
        events.into_iter().map(|event| event.action).collect()
    }

    #[tokio::test]
    async fn audit_events_past_retention_removed() {
        let (store, _dir) = store_with_events().await;

        run_once(&store, 30, NOW).await;

        assert_eq!(actions(&store).await, ["yesterday"]);
    }

    #[tokio::test]
    async fn zero_retention_keeps_everything() {
        let (store, _dir) = store_with_events().await;

        run_once(&store, 0, NOW).await;

        assert_eq!(actions(&store).await, ["yesterday", "last-month", "old"]);
    }
}
