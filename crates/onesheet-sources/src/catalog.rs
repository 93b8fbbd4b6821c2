//! Catalog (being written).
pub struct Catalog;
pub struct Snapshot;
pub struct SourceHealth;
pub struct SourceState;
