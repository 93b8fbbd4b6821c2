//! Persistence behind the [`Store`] trait.
//!
//! Callers hold an `Arc<dyn Store>` and never see SQL, so PostgreSQL can be added as a second
//! implementation without touching them. [`atomic`] covers the files that live beside the
//! database (catalog snapshot, generated assets), which must never be left half-written.
//! [`accounts`] and [`audit`] define the stored forms of admin accounts, sessions, API tokens
//! and audit events. [`devices`] does the same for devices, their profiles and groups, pairing
//! codes and command queues.

pub mod accounts;
pub mod atomic;
pub mod audit;
pub mod devices;
mod error;
mod migrations;
pub mod secrets;
pub mod sqlite;

use async_trait::async_trait;
use onesheet_domain::{CommandId, DeviceId, DeviceRecord, DisplaySettings, Group, Profile};

pub use accounts::{
    AdminAccount, AdminRemoval, NewAdmin, NewApiToken, StoredApiToken, StoredSession, username_key,
};
pub use audit::{AUDIT_PAGE_MAX, AuditEvent, AuditFilter, NewAuditEvent};
pub use devices::{
    CommandReply, DeviceChanges, DeviceFilter, DeviceMerge, GroupChanges, NewCommand, NewDevice,
    NewGroup, NewPairingCode, NewProfile, PairingClaim, PresenceUpdate, ProfileChanges,
    StoredCommand, StoredPairingCode, StoredSecret,
};
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

/// One saved version of the display settings with its document as stored, not yet read into
/// [`DisplaySettings`], so that the history still lists a version that an older release wrote
/// with a setting this release no longer reads.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredSettingsVersion {
    pub version: i64,
    pub document: serde_json::Value,
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

    /// Returns up to `limit` saved settings versions, newest first, of those older than
    /// `before` when it is set. Every saved version is kept.
    async fn list_settings_versions(
        &self,
        limit: u32,
        before: Option<i64>,
    ) -> Result<Vec<StoredSettingsVersion>, StoreError>;

    /// Returns one saved settings version, or `None` when no such version exists.
    async fn get_settings_version(
        &self,
        version: i64,
    ) -> Result<Option<StoredSettingsVersion>, StoreError>;

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

    // Admin accounts.

    /// Creates the first admin account, but only while no account exists. Returns `None` when
    /// one exists already. The check and the insert are one statement, so of two setup requests
    /// that race, exactly one creates an account.
    async fn create_first_admin(
        &self,
        admin: &NewAdmin,
    ) -> Result<Option<AdminAccount>, StoreError>;

    /// Creates another admin account. Fails with [`StoreError::Conflict`] when the username is
    /// taken in any letter case or character width.
    async fn create_admin(&self, admin: &NewAdmin) -> Result<AdminAccount, StoreError>;

    async fn count_admins(&self) -> Result<u64, StoreError>;

    async fn get_admin(&self, id: i64) -> Result<Option<AdminAccount>, StoreError>;

    /// Finds an account by username, ignoring letter case and character width.
    async fn get_admin_by_username(
        &self,
        username: &str,
    ) -> Result<Option<AdminAccount>, StoreError>;

    /// Returns every account, oldest first.
    async fn list_admins(&self) -> Result<Vec<AdminAccount>, StoreError>;

    /// Sets a new password hash and `password_changed_at`. Returns false when no such account
    /// exists. The caller ends the account's other sessions separately.
    async fn change_password(
        &self,
        admin_id: i64,
        password_hash: &str,
        now_unix: i64,
    ) -> Result<bool, StoreError>;

    /// Replaces the password hash with a rehash of the same password, for example an imported
    /// bcrypt hash with argon2id after a login. `password_changed_at` stays. Returns false,
    /// changing nothing, when the stored hash is no longer `current_hash`, so a rehash cannot
    /// undo a password change that happened meanwhile.
    async fn upgrade_password_hash(
        &self,
        admin_id: i64,
        current_hash: &str,
        new_hash: &str,
    ) -> Result<bool, StoreError>;

    /// Deletes an account with its sessions and recovery codes. API tokens it created stay,
    /// with `created_by` cleared. Returns [`AdminRemoval::LastAdmin`], deleting nothing, when
    /// the account is the only one left.
    async fn delete_admin(&self, admin_id: i64) -> Result<AdminRemoval, StoreError>;

    // TOTP and recovery codes.

    /// Stores a sealed secret that waits for its first code, or clears it with `None`. A
    /// confirmed secret stays in use until [`confirm_totp`](Self::confirm_totp) replaces it.
    /// Returns false when no such account exists.
    async fn set_totp_pending(
        &self,
        admin_id: i64,
        sealed_secret: Option<&[u8]>,
    ) -> Result<bool, StoreError>;

    /// Makes the pending secret the account's TOTP secret and records `step`, the time step of
    /// the code that confirmed it, as used. Returns false, changing nothing, unless the pending
    /// secret is still `pending`, the value the caller checked the code against.
    async fn confirm_totp(
        &self,
        admin_id: i64,
        pending: &[u8],
        step: i64,
    ) -> Result<bool, StoreError>;

    /// Clears the TOTP secret, any pending secret and the last accepted step. Recovery codes
    /// stay. Returns false when no such account exists.
    async fn disable_totp(&self, admin_id: i64) -> Result<bool, StoreError>;

    /// Records `step` as the last accepted TOTP time step if it is later than the one recorded.
    /// Returns false for a step already used or older, so a code is accepted once even when two
    /// requests carry it at the same moment.
    async fn claim_totp_step(&self, admin_id: i64, step: i64) -> Result<bool, StoreError>;

    /// Replaces all of the account's recovery codes with `code_hashes`, all unused.
    async fn replace_recovery_codes(
        &self,
        admin_id: i64,
        code_hashes: &[String],
        now_unix: i64,
    ) -> Result<(), StoreError>;

    async fn count_unused_recovery_codes(&self, admin_id: i64) -> Result<u64, StoreError>;

    /// Marks the code with `code_hash` as used. Returns false when the account has no such
    /// unused code, so each code works once even under concurrent requests.
    async fn use_recovery_code(
        &self,
        admin_id: i64,
        code_hash: &str,
        now_unix: i64,
    ) -> Result<bool, StoreError>;

    // Sessions.

    /// Inserts a session. Fails with [`StoreError::Conflict`] when a session with this id hash
    /// exists.
    async fn insert_session(&self, session: &StoredSession) -> Result<(), StoreError>;

    /// Returns the session with this id hash unless it has expired at `now_unix` (see
    /// [`StoredSession::is_live`]).
    async fn get_session(
        &self,
        id_hash: &str,
        now_unix: i64,
    ) -> Result<Option<StoredSession>, StoreError>;

    /// Sets `last_seen_at` to `now_unix`. Returns false when the session is missing or has
    /// expired, because an expired session must not come back to life.
    async fn touch_session(&self, id_hash: &str, now_unix: i64) -> Result<bool, StoreError>;

    /// Returns false when no such session exists.
    async fn delete_session(&self, id_hash: &str) -> Result<bool, StoreError>;

    /// Deletes the session `old_id_hash` and inserts `new` in one transaction, to rotate the id
    /// at login and after the second factor. Returns false, changing nothing, when the old
    /// session no longer exists, for example because it was logged out meanwhile.
    async fn replace_session(
        &self,
        old_id_hash: &str,
        new: &StoredSession,
    ) -> Result<bool, StoreError>;

    /// Deletes every session of the account except `keep_id_hash`, and returns the number deleted.
    async fn delete_admin_sessions(
        &self,
        admin_id: i64,
        keep_id_hash: Option<&str>,
    ) -> Result<u64, StoreError>;

    /// Returns the account's live sessions at `now_unix`, including those still waiting for the
    /// second factor, most recently seen first.
    async fn list_admin_sessions(
        &self,
        admin_id: i64,
        now_unix: i64,
    ) -> Result<Vec<StoredSession>, StoreError>;

    /// Deletes every session that has expired at `now_unix` and returns the number deleted.
    async fn delete_expired_sessions(&self, now_unix: i64) -> Result<u64, StoreError>;

    // API tokens.

    /// Inserts a token and returns it with its new id. Fails with [`StoreError::Conflict`] when
    /// a token with this hash exists.
    async fn insert_api_token(&self, token: &NewApiToken) -> Result<StoredApiToken, StoreError>;

    async fn get_api_token(&self, id: i64) -> Result<Option<StoredApiToken>, StoreError>;

    /// Returns the token with this hash unless it was revoked.
    async fn get_active_api_token(
        &self,
        token_hash: &str,
    ) -> Result<Option<StoredApiToken>, StoreError>;

    /// Sets `last_used_at`. Returns false when no such token exists.
    async fn record_api_token_use(&self, id: i64, now_unix: i64) -> Result<bool, StoreError>;

    /// Sets `revoked_at`. Returns false when no such token exists or it was already revoked.
    async fn revoke_api_token(&self, id: i64, now_unix: i64) -> Result<bool, StoreError>;

    /// Returns every token, revoked ones included, oldest first.
    async fn list_api_tokens(&self) -> Result<Vec<StoredApiToken>, StoreError>;

    // Audit log.

    /// Appends an event and returns its id.
    async fn append_audit_event(&self, event: &NewAuditEvent) -> Result<i64, StoreError>;

    /// Returns the events that match `filter`, newest (highest id) first, at most
    /// [`AUDIT_PAGE_MAX`] of them.
    async fn list_audit_events(&self, filter: &AuditFilter) -> Result<Vec<AuditEvent>, StoreError>;

    /// Deletes the events with `at` before `cutoff_unix` and returns the number deleted.
    async fn prune_audit_events(&self, cutoff_unix: i64) -> Result<u64, StoreError>;

    // Devices.

    /// Creates a device. Fails with [`StoreError::Conflict`] when the id is taken and with
    /// [`StoreError::NotFound`] when its profile or group does not exist.
    async fn create_device(&self, device: &NewDevice) -> Result<DeviceRecord, StoreError>;

    /// Returns the device, merged and revoked ones included.
    async fn get_device(&self, id: &DeviceId) -> Result<Option<DeviceRecord>, StoreError>;

    /// Returns the devices that match `filter`, ordered by name. Presence is not stored, so the
    /// caller filters by it after deriving it.
    ///
    /// NOTE: the list is not paged. That suits fleets of a few thousand screens, but a larger
    /// one needs a cursor, as the audit log has.
    async fn list_devices(&self, filter: &DeviceFilter) -> Result<Vec<DeviceRecord>, StoreError>;

    /// Returns the ids of the active devices (not revoked, not merged), all of them or those of
    /// one group, ordered by id. Reads no other column, so a fleet-wide command costs one
    /// narrow query.
    async fn list_active_device_ids(
        &self,
        group_id: Option<i64>,
    ) -> Result<Vec<DeviceId>, StoreError>;

    /// Returns the keyed hash of the device's secret, for the caller to compare in constant
    /// time. Returns `None` when the device does not exist, was revoked or merged, or has no
    /// secret yet, so that every such device fails authentication the same way.
    async fn get_device_secret(&self, id: &DeviceId) -> Result<Option<StoredSecret>, StoreError>;

    /// Stores the keyed hash of the device's secret, replacing any earlier one, but only for an
    /// active device that has never authenticated with a secret. Returns false otherwise, so a
    /// secret in use is never replaced.
    async fn issue_device_secret(
        &self,
        id: &DeviceId,
        secret_hash: &str,
    ) -> Result<bool, StoreError>;

    /// Records the device's first authentication with its secret, after which
    /// [`Store::issue_device_secret`] no longer replaces it. Later calls change nothing.
    async fn confirm_device_secret(&self, id: &DeviceId, now: i64) -> Result<(), StoreError>;

    /// Applies the changes and returns the device as it is now, or `None` when no such device
    /// exists. Fails with [`StoreError::NotFound`] when the new profile or group does not exist.
    async fn update_device(
        &self,
        id: &DeviceId,
        changes: &DeviceChanges,
    ) -> Result<Option<DeviceRecord>, StoreError>;

    /// Sets `revoked_at`, after which the device can no longer authenticate. Returns false when
    /// no such device exists or it was already revoked, and the first revocation time stays.
    async fn revoke_device(&self, id: &DeviceId, now_unix: i64) -> Result<bool, StoreError>;

    /// Deletes the device with its command history and pairing codes. Records merged into it
    /// keep their rows with `merged_into` cleared. Returns false when no such device exists.
    async fn delete_device(&self, id: &DeviceId) -> Result<bool, StoreError>;

    /// Merges `retired` into `survivor` in one transaction. The survivor takes the retired
    /// record's name, and its location, profile, group and overrides where it has them. The
    /// retired record stays, with `merged_into` set and those fields cleared, so it can no
    /// longer authenticate. Its pending commands fail, and records merged into it earlier now
    /// point at the survivor.
    async fn merge_devices(
        &self,
        survivor: &DeviceId,
        retired: &DeviceId,
        now_unix: i64,
    ) -> Result<DeviceMerge, StoreError>;

    /// Returns the other unmerged devices whose last address and user agent both equal this
    /// device's, oldest first: probably the same screen after it lost its storage. Empty when
    /// the device has no address or user agent recorded.
    async fn find_possible_duplicates(
        &self,
        id: &DeviceId,
    ) -> Result<Vec<DeviceRecord>, StoreError>;

    /// Writes a batch of heartbeats and statuses in one transaction, in order, and returns the
    /// number of devices updated. Updates for unknown devices are skipped. The server collects
    /// updates and calls this every few seconds, never once per heartbeat.
    async fn record_presence(&self, updates: &[PresenceUpdate]) -> Result<u64, StoreError>;

    // Pairing codes.

    /// Stores a pairing code. Fails with [`StoreError::Conflict`] when a code with this hash is
    /// live or claimed, or the ticket hash is taken, and the caller then draws a new code. An
    /// unclaimed expired code is replaced.
    async fn insert_pairing_code(&self, code: &NewPairingCode) -> Result<(), StoreError>;

    /// Claims the code with `code_hash` and creates `device` in one transaction. Of concurrent
    /// claims of one code, exactly one returns [`PairingClaim::Claimed`]. The device takes the
    /// address and user agent of the pairing request unless `device` sets its own.
    async fn claim_pairing_code(
        &self,
        code_hash: &str,
        device: &NewDevice,
        now_unix: i64,
    ) -> Result<PairingClaim, StoreError>;

    /// Finds a pairing code, pending or claimed, by the hash of its ticket, for a screen that
    /// reconnects while it waits. The caller checks that the code in the request matches.
    async fn get_pairing_code_by_ticket(
        &self,
        ticket_hash: &str,
    ) -> Result<Option<StoredPairingCode>, StoreError>;

    /// Deletes the codes that expired by `now_unix`, except claimed ones whose device still
    /// waits for its secret, and returns the number deleted.
    async fn prune_pairing_codes(&self, now_unix: i64) -> Result<u64, StoreError>;

    // Device profiles and groups.

    /// Creates a profile. Fails with [`StoreError::Conflict`] when the name is taken in any
    /// letter case.
    async fn create_profile(&self, profile: &NewProfile) -> Result<Profile, StoreError>;

    async fn get_profile(&self, id: i64) -> Result<Option<Profile>, StoreError>;

    /// Returns every profile, ordered by name.
    async fn list_profiles(&self) -> Result<Vec<Profile>, StoreError>;

    /// Applies the changes and sets `updated_at`. Returns `None` when no such profile exists and
    /// fails with [`StoreError::Conflict`] when the new name is taken.
    async fn update_profile(
        &self,
        id: i64,
        changes: &ProfileChanges,
        now_unix: i64,
    ) -> Result<Option<Profile>, StoreError>;

    /// Deletes the profile. Its devices keep running without one. Returns false when no such
    /// profile exists.
    async fn delete_profile(&self, id: i64) -> Result<bool, StoreError>;

    /// Creates a group. Fails with [`StoreError::Conflict`] when the name is taken in any
    /// letter case.
    async fn create_group(&self, group: &NewGroup) -> Result<Group, StoreError>;

    async fn get_group(&self, id: i64) -> Result<Option<Group>, StoreError>;

    /// Returns every group, ordered by name.
    async fn list_groups(&self) -> Result<Vec<Group>, StoreError>;

    /// Applies the changes and sets `updated_at`. Returns `None` when no such group exists and
    /// fails with [`StoreError::Conflict`] when the new name is taken.
    async fn update_group(
        &self,
        id: i64,
        changes: &GroupChanges,
        now_unix: i64,
    ) -> Result<Option<Group>, StoreError>;

    /// Deletes the group. Its devices stay, without a group. Returns false when no such group
    /// exists.
    async fn delete_group(&self, id: i64) -> Result<bool, StoreError>;

    // Device commands.

    /// Queues a command unless the device already has `max_pending` unexpired commands
    /// waiting, which fails with [`StoreError::QueueFull`]. Fails with [`StoreError::NotFound`]
    /// when the device does not exist.
    async fn enqueue_command(
        &self,
        command: &NewCommand,
        max_pending: u32,
    ) -> Result<StoredCommand, StoreError>;

    /// Queues many commands at once, as [`enqueue_command`](Self::enqueue_command) does for
    /// one, and reports each command's outcome in order. Fails as a whole only when the
    /// database does.
    async fn enqueue_commands(
        &self,
        commands: &[NewCommand],
        max_pending: u32,
    ) -> Result<Vec<Result<StoredCommand, StoreError>>, StoreError>;

    async fn get_command(&self, id: CommandId) -> Result<Option<StoredCommand>, StoreError>;

    /// Marks many queued commands as delivered at once. Returns, per id, whether it was queued.
    async fn mark_commands_delivered(
        &self,
        ids: &[CommandId],
        now_unix: i64,
    ) -> Result<Vec<bool>, StoreError>;

    /// Marks a queued command as sent over a live socket. Returns false unless it was queued.
    async fn mark_command_delivered(
        &self,
        id: CommandId,
        now_unix: i64,
    ) -> Result<bool, StoreError>;

    /// Marks every unexpired pending command of the device as delivered and returns them,
    /// oldest first, for a device that has just connected. Commands delivered before but not
    /// acknowledged are included, so a command sent into a dead connection is not lost.
    async fn take_pending_commands(
        &self,
        device_id: &DeviceId,
        now_unix: i64,
    ) -> Result<Vec<StoredCommand>, StoreError>;

    /// Records the device's reply to one of its pending commands: acked when `error` is `None`,
    /// failed otherwise. The server also calls it with an error when an ack times out. Returns
    /// false when the command is not pending or belongs to another device.
    async fn finish_command(
        &self,
        device_id: &DeviceId,
        id: CommandId,
        error: Option<&str>,
        now_unix: i64,
    ) -> Result<bool, StoreError>;

    /// Records many replies in one transaction, as [`finish_command`](Self::finish_command) does
    /// for one, so a fleet acknowledging a broadcast costs one commit. Returns, per reply,
    /// whether its command was pending.
    async fn finish_commands(&self, replies: &[CommandReply]) -> Result<Vec<bool>, StoreError>;

    /// Marks every pending command whose `expires_at` has passed as expired and returns the
    /// number marked.
    async fn expire_commands(&self, now_unix: i64) -> Result<u64, StoreError>;

    /// Returns the device's commands in every state, newest first, at most `limit` of them.
    async fn list_device_commands(
        &self,
        device_id: &DeviceId,
        limit: u32,
    ) -> Result<Vec<StoredCommand>, StoreError>;

    /// Deletes the finished commands (acked, failed or expired) created before `cutoff_unix`
    /// and returns the number deleted.
    async fn prune_commands(&self, cutoff_unix: i64) -> Result<u64, StoreError>;

    /// Waits for in-flight queries and closes every connection. Later calls fail.
    async fn close(&self);
}
