use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The cause is kept as the source only, so a report that prints the chain names it once.
    #[error(
        "cannot open the database at {path}: check that its folder exists and is writable by this user"
    )]
    Open {
        path: PathBuf,
        #[source]
        error: sqlx::Error,
    },
    #[error("database migration failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("database query failed: {0}")]
    Query(#[from] sqlx::Error),
    /// A stored document no longer parses, for example after a manual edit of the database.
    #[error("stored {what} is damaged: {error}")]
    Corrupt {
        what: &'static str,
        #[source]
        error: serde_json::Error,
    },
    /// `id` is the id or unique key that is taken, or a placeholder when that key is a hash.
    #[error("{what} already exists: {id}")]
    Conflict { what: &'static str, id: String },
    /// A row that the operation refers to does not exist, such as the profile a device is
    /// assigned to or the device a command is queued for.
    #[error("{what} not found: {id}")]
    NotFound { what: &'static str, id: String },
    /// The device's command queue contains `limit` pending commands already.
    #[error(
        "the command queue of device {device_id} is full ({limit} pending commands): wait until \
         the device reconnects or its commands expire"
    )]
    QueueFull { device_id: String, limit: u32 },
    #[error("cannot write {path}: {error}")]
    File {
        path: PathBuf,
        #[source]
        error: std::io::Error,
    },
}
