//! The audit log: who changed what and when, kept until the retention cutoff prunes it.

/// The largest page [`Store::list_audit_events`](crate::Store::list_audit_events) returns,
/// whatever limit the filter requests.
pub const AUDIT_PAGE_MAX: u32 = 500;

/// An event to append.
#[derive(Debug, Clone, PartialEq)]
pub struct NewAuditEvent {
    /// Unix seconds.
    pub at: i64,
    /// Username, `setup`, `cli`, `token:<name>` or `system`.
    pub actor: String,
    /// Dotted action name such as `login.success`, `totp.enabled` or `source.updated`.
    pub action: String,
    /// The object acted on, such as a username or a source id.
    pub target: Option<String>,
    pub ip: Option<String>,
    pub user_agent: Option<String>,
    /// Extra facts about the event. Never a secret.
    pub detail: Option<serde_json::Value>,
}

/// A stored event. Ids grow with every append and are never reused, so they order events and
/// serve as the paging cursor.
#[derive(Debug, Clone, PartialEq)]
pub struct AuditEvent {
    pub id: i64,
    /// Unix seconds.
    pub at: i64,
    pub actor: String,
    pub action: String,
    pub target: Option<String>,
    pub ip: Option<String>,
    pub user_agent: Option<String>,
    /// A detail that no longer parses as JSON comes back as a JSON string of the raw text.
    pub detail: Option<serde_json::Value>,
}

/// Selects events for [`Store::list_audit_events`](crate::Store::list_audit_events). Every
/// condition that is set must match. `Default` selects the newest [`AUDIT_PAGE_MAX`] events.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AuditFilter {
    /// Keeps actions that start with this text, compared byte for byte: `login.` matches
    /// `login.success` and `login.failure`.
    pub action_prefix: Option<String>,
    /// Keeps events of exactly this actor.
    pub actor: Option<String>,
    /// Keeps events with `at >= since` (unix seconds).
    pub since: Option<i64>,
    /// Keeps events with `at < until` (unix seconds).
    pub until: Option<i64>,
    /// Paging cursor: keeps events with `id < before_id`. Pass the smallest id of the previous
    /// page to get the next one.
    pub before_id: Option<i64>,
    /// Page size, capped at [`AUDIT_PAGE_MAX`]. `None` means the cap.
    pub limit: Option<u32>,
}

impl AuditFilter {
    /// Returns the page size to query: the requested limit, at most [`AUDIT_PAGE_MAX`].
    pub fn effective_limit(&self) -> u32 {
        self.limit.unwrap_or(AUDIT_PAGE_MAX).min(AUDIT_PAGE_MAX)
    }
}
