//! Persistence behind the [`Store`] trait.
//!
//! Callers hold an `Arc<dyn Store>` and never see SQL, so PostgreSQL can be added as a second
//! implementation without touching them. [`atomic`] covers the files that live beside the
//! database (catalog snapshot, generated assets), which must never be left half-written.

pub mod atomic;
mod error;
mod migrations;
pub mod secrets;
pub mod sqlite;

use async_trait::async_trait;
use onesheet_domain::DisplaySettings;

pub use error::StoreError;
pub use secrets::{KeyOrigin, SecretError, SecretKey};
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

/// One configured media source as stored. The store keeps `settings` as an opaque JSON document
/// and `credential` as sealed bytes: the sources layer validates the first and seals the second.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredSource {
    pub id: String,
    pub kind: String,
    pub name: String,
    pub settings: serde_json::Value,
    /// Sealed with [`SecretKey::seal`], bound to `id`.
    pub credential: Option<Vec<u8>>,
    pub enabled: bool,
    /// Unix seconds.
    pub created_at: i64,
    /// Unix seconds.
    pub updated_at: i64,
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

    /// Returns every configured source, ordered by creation time.
    async fn list_sources(&self) -> Result<Vec<StoredSource>, StoreError>;

    async fn get_source(&self, id: &str) -> Result<Option<StoredSource>, StoreError>;

    /// Adds a source; fails with [`StoreError::Conflict`] when the id is taken.
    async fn insert_source(&self, source: &StoredSource) -> Result<(), StoreError>;

    /// Replaces every column of the source with `source.id` except `created_at`. Returns false
    /// when no such source exists.
    async fn update_source(&self, source: &StoredSource) -> Result<bool, StoreError>;

    /// Returns false when no such source exists.
    async fn delete_source(&self, id: &str) -> Result<bool, StoreError>;

    /// Waits for in-flight queries and closes every connection. Later calls fail.
    async fn close(&self);
}
