//! Persistence behind the [`Store`] trait.
//!
//! Callers hold an `Arc<dyn Store>` and never see SQL, so PostgreSQL can be added as a second
//! implementation without touching them. [`atomic`] covers the files that live beside the
//! database (catalog snapshot, generated assets), which must never be left half-written.

pub mod atomic;
mod error;
mod migrations;
pub mod sqlite;

use async_trait::async_trait;
use onesheet_domain::DisplaySettings;

pub use error::StoreError;
pub use sqlite::SqliteStore;

/// One saved version of the display settings.
#[derive(Debug, Clone, PartialEq)]
pub struct SettingsVersion {
    pub version: i64,
    pub settings: DisplaySettings,
    /// Unix seconds.
    pub created_at: i64,
    pub created_by: String,
}

#[async_trait]
pub trait Store: Send + Sync + 'static {
    /// Checks that the database runs a trivial query. The readiness probe calls it.
    async fn ping(&self) -> Result<(), StoreError>;

    /// Returns the newest saved display settings, or `None` on a fresh install.
    async fn current_settings(&self) -> Result<Option<SettingsVersion>, StoreError>;

    /// Saves a new settings version and returns its number. The caller validates first.
    async fn save_settings(
        &self,
        settings: &DisplaySettings,
        created_by: &str,
        now_unix: i64,
    ) -> Result<i64, StoreError>;

    /// Waits for in-flight queries and closes every connection. Later calls fail.
    async fn close(&self);
}
