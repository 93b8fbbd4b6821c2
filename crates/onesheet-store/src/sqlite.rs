//! The default store: one SQLite file in the data directory.
//!
//! The `Store` methods for accounts, sessions, API tokens, the audit log and devices delegate
//! to one submodule per concept, so that this file keeps the connection set-up and the trait's
//! index.

mod admins;
mod audit;
mod commands;
mod device_merge;
mod devices;
mod pairing;
mod profiles;
mod sessions;
mod tokens;

use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::time::Duration;

use async_trait::async_trait;
use onesheet_domain::{CommandId, DeviceId, DeviceRecord, DisplaySettings, Group, Profile};
use sqlx::Row;
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};
use tracing::{info, instrument};

use crate::{
    AdminAccount, AdminRemoval, AuditEvent, AuditFilter, CommandReply, DeviceChanges, DeviceFilter,
    DeviceMerge, GroupChanges, NewAdmin, NewApiToken, NewAuditEvent, NewCommand, NewDevice,
    NewGroup, NewPairingCode, NewProfile, PairingClaim, PresenceUpdate, ProfileChanges,
    SettingsVersion, Store, StoreError, StoredApiToken, StoredCommand, StoredPairingCode,
    StoredSecret, StoredSession, StoredSettingsVersion, StoredSource, migrations,
};

const SOURCE_COLUMNS: &str =
    "id, kind, name, settings, credential, enabled, created_at, updated_at";

pub struct SqliteStore {
    pool: SqlitePool,
    path: PathBuf,
}

impl SqliteStore {
    /// Opens (creating if needed) the database file, switches it to WAL and runs pending
    /// migrations.
    #[instrument(skip_all, fields(db.path = %path.display()))]
    pub async fn open(path: &Path) -> Result<Self, StoreError> {
        let options = SqliteConnectOptions::new()
            .filename(path)
            .create_if_missing(true)
            // WAL lets readers run while a write commits; NORMAL sync is durable across a
            // process crash and loses at most the last commit on power loss, the usual WAL trade.
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            .busy_timeout(Duration::from_secs(5))
            .foreign_keys(true);
        Self::connect(options, path.to_path_buf()).await
    }

    /// Opens a database from a `sqlite:` URL such as `sqlite:///var/lib/onesheet/onesheet.db`.
    pub async fn open_url(url: &str) -> Result<Self, StoreError> {
        let options = SqliteConnectOptions::from_str(url)
            .map_err(|error| StoreError::Open {
                path: PathBuf::from("(database_url)"),
                error,
            })?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            .busy_timeout(Duration::from_secs(5))
            .foreign_keys(true);
        let path = options.get_filename().to_path_buf();
        Self::connect(options, path).await
    }

    async fn connect(options: SqliteConnectOptions, path: PathBuf) -> Result<Self, StoreError> {
        let pool = SqlitePoolOptions::new()
            .max_connections(4)
            .acquire_timeout(Duration::from_secs(10))
            .connect_with(options)
            .await
            .map_err(|error| StoreError::Open {
                path: path.clone(),
                error,
            })?;

        migrations::sqlite().run(&pool).await?;
        info!("database ready");

        Ok(Self { pool, path })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }
}

#[async_trait]
impl Store for SqliteStore {
    async fn ping(&self) -> Result<(), StoreError> {
        sqlx::query("SELECT 1").execute(&self.pool).await?;
        Ok(())
    }

    #[instrument(skip_all)]
    async fn current_settings(&self) -> Result<Option<SettingsVersion>, StoreError> {
        let row = sqlx::query(
            "SELECT version, document, created_at, created_by FROM settings_versions
             ORDER BY version DESC LIMIT 1",
        )
        .fetch_optional(&self.pool)
        .await?;
        let Some(row) = row else {
            return Ok(None);
        };

        let document: String = row.try_get("document")?;
        let settings: DisplaySettings =
            serde_json::from_str(&document).map_err(|error| StoreError::Corrupt {
                what: "display settings",
                error,
            })?;
        Ok(Some(SettingsVersion {
            version: row.try_get("version")?,
            settings,
            created_at: row.try_get("created_at")?,
            created_by: row.try_get("created_by")?,
        }))
    }

    #[instrument(skip_all, fields(actor = created_by))]
    async fn save_settings(
        &self,
        settings: &DisplaySettings,
        created_by: &str,
        now_unix: i64,
    ) -> Result<i64, StoreError> {
        let document = serde_json::to_string(settings).map_err(|error| StoreError::Corrupt {
            what: "display settings",
            error,
        })?;
        let result = sqlx::query(
            "INSERT INTO settings_versions (document, created_at, created_by) VALUES (?, ?, ?)",
        )
        .bind(document)
        .bind(now_unix)
        .bind(created_by)
        .execute(&self.pool)
        .await?;
        Ok(result.last_insert_rowid())
    }

    #[instrument(skip_all)]
    async fn list_settings_versions(
        &self,
        limit: u32,
        before: Option<i64>,
    ) -> Result<Vec<StoredSettingsVersion>, StoreError> {
        let rows = sqlx::query(
            "SELECT version, document, created_at, created_by FROM settings_versions
             WHERE version < ? ORDER BY version DESC LIMIT ?",
        )
        .bind(before.unwrap_or(i64::MAX))
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(settings_version_from_row).collect()
    }

    #[instrument(skip_all, fields(settings.version = version))]
    async fn get_settings_version(
        &self,
        version: i64,
    ) -> Result<Option<StoredSettingsVersion>, StoreError> {
        let row = sqlx::query(
            "SELECT version, document, created_at, created_by FROM settings_versions
             WHERE version = ?",
        )
        .bind(version)
        .fetch_optional(&self.pool)
        .await?;
        row.as_ref().map(settings_version_from_row).transpose()
    }

    #[instrument(skip_all)]
    async fn list_sources(&self) -> Result<Vec<StoredSource>, StoreError> {
        let rows = sqlx::query(&format!(
            "SELECT {SOURCE_COLUMNS} FROM sources ORDER BY created_at, id"
        ))
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(source_from_row).collect()
    }

    #[instrument(skip_all, fields(source.id = id))]
    async fn get_source(&self, id: &str) -> Result<Option<StoredSource>, StoreError> {
        let row = sqlx::query(&format!(
            "SELECT {SOURCE_COLUMNS} FROM sources WHERE id = ?"
        ))
        .bind(id)
        .fetch_optional(&self.pool)
        .await?;
        row.as_ref().map(source_from_row).transpose()
    }

    #[instrument(skip_all, fields(source.id = %source.id))]
    async fn insert_source(&self, source: &StoredSource) -> Result<(), StoreError> {
        let result = sqlx::query(&format!(
            "INSERT INTO sources ({SOURCE_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?)"
        ))
        .bind(&source.id)
        .bind(&source.kind)
        .bind(&source.name)
        .bind(source.settings.to_string())
        .bind(source.credential.as_deref())
        .bind(source.enabled)
        .bind(source.created_at)
        .bind(source.updated_at)
        .execute(&self.pool)
        .await;
        match result {
            Ok(_) => Ok(()),
            Err(sqlx::Error::Database(error)) if error.is_unique_violation() => {
                Err(StoreError::Conflict {
                    what: "source id",
                    id: source.id.clone(),
                })
            }
            Err(error) => Err(error.into()),
        }
    }

    #[instrument(skip_all, fields(source.id = %source.id))]
    async fn update_source(&self, source: &StoredSource) -> Result<bool, StoreError> {
        let result = sqlx::query(
            "UPDATE sources SET kind = ?, name = ?, settings = ?, credential = ?, enabled = ?,
             updated_at = ? WHERE id = ?",
        )
        .bind(&source.kind)
        .bind(&source.name)
        .bind(source.settings.to_string())
        .bind(source.credential.as_deref())
        .bind(source.enabled)
        .bind(source.updated_at)
        .bind(&source.id)
        .execute(&self.pool)
        .await?;
        Ok(result.rows_affected() == 1)
    }

    #[instrument(skip_all, fields(source.id = id))]
    async fn delete_source(&self, id: &str) -> Result<bool, StoreError> {
        let result = sqlx::query("DELETE FROM sources WHERE id = ?")
            .bind(id)
            .execute(&self.pool)
            .await?;
        Ok(result.rows_affected() == 1)
    }

    async fn create_first_admin(
        &self,
        admin: &NewAdmin,
    ) -> Result<Option<AdminAccount>, StoreError> {
        admins::create_first_admin(&self.pool, admin).await
    }

    async fn create_admin(&self, admin: &NewAdmin) -> Result<AdminAccount, StoreError> {
        admins::create_admin(&self.pool, admin).await
    }

    async fn count_admins(&self) -> Result<u64, StoreError> {
        admins::count_admins(&self.pool).await
    }

    async fn get_admin(&self, id: i64) -> Result<Option<AdminAccount>, StoreError> {
        admins::get_admin(&self.pool, id).await
    }

    async fn get_admin_by_username(
        &self,
        username: &str,
    ) -> Result<Option<AdminAccount>, StoreError> {
        admins::get_admin_by_username(&self.pool, username).await
    }

    async fn list_admins(&self) -> Result<Vec<AdminAccount>, StoreError> {
        admins::list_admins(&self.pool).await
    }

    async fn change_password(
        &self,
        admin_id: i64,
        password_hash: &str,
        now_unix: i64,
    ) -> Result<bool, StoreError> {
        admins::change_password(&self.pool, admin_id, password_hash, now_unix).await
    }

    async fn upgrade_password_hash(
        &self,
        admin_id: i64,
        current_hash: &str,
        new_hash: &str,
    ) -> Result<bool, StoreError> {
        admins::upgrade_password_hash(&self.pool, admin_id, current_hash, new_hash).await
    }

    async fn delete_admin(&self, admin_id: i64) -> Result<AdminRemoval, StoreError> {
        admins::delete_admin(&self.pool, admin_id).await
    }

    async fn set_totp_pending(
        &self,
        admin_id: i64,
        sealed_secret: Option<&[u8]>,
    ) -> Result<bool, StoreError> {
        admins::set_totp_pending(&self.pool, admin_id, sealed_secret).await
    }

    async fn confirm_totp(
        &self,
        admin_id: i64,
        pending: &[u8],
        step: i64,
    ) -> Result<bool, StoreError> {
        admins::confirm_totp(&self.pool, admin_id, pending, step).await
    }

    async fn disable_totp(&self, admin_id: i64) -> Result<bool, StoreError> {
        admins::disable_totp(&self.pool, admin_id).await
    }

    async fn claim_totp_step(&self, admin_id: i64, step: i64) -> Result<bool, StoreError> {
        admins::claim_totp_step(&self.pool, admin_id, step).await
    }

    async fn replace_recovery_codes(
        &self,
        admin_id: i64,
        code_hashes: &[String],
        now_unix: i64,
    ) -> Result<(), StoreError> {
        admins::replace_recovery_codes(&self.pool, admin_id, code_hashes, now_unix).await
    }

    async fn count_unused_recovery_codes(&self, admin_id: i64) -> Result<u64, StoreError> {
        admins::count_unused_recovery_codes(&self.pool, admin_id).await
    }

    async fn use_recovery_code(
        &self,
        admin_id: i64,
        code_hash: &str,
        now_unix: i64,
    ) -> Result<bool, StoreError> {
        admins::use_recovery_code(&self.pool, admin_id, code_hash, now_unix).await
    }

    async fn insert_session(&self, session: &StoredSession) -> Result<(), StoreError> {
        sessions::insert_session(&self.pool, session).await
    }

    async fn get_session(
        &self,
        id_hash: &str,
        now_unix: i64,
    ) -> Result<Option<StoredSession>, StoreError> {
        sessions::get_session(&self.pool, id_hash, now_unix).await
    }

    async fn touch_session(&self, id_hash: &str, now_unix: i64) -> Result<bool, StoreError> {
        sessions::touch_session(&self.pool, id_hash, now_unix).await
    }

    async fn delete_session(&self, id_hash: &str) -> Result<bool, StoreError> {
        sessions::delete_session(&self.pool, id_hash).await
    }

    async fn replace_session(
        &self,
        old_id_hash: &str,
        new: &StoredSession,
    ) -> Result<bool, StoreError> {
        sessions::replace_session(&self.pool, old_id_hash, new).await
    }

    async fn delete_admin_sessions(
        &self,
        admin_id: i64,
        keep_id_hash: Option<&str>,
    ) -> Result<u64, StoreError> {
        sessions::delete_admin_sessions(&self.pool, admin_id, keep_id_hash).await
    }

    async fn list_admin_sessions(
        &self,
        admin_id: i64,
        now_unix: i64,
    ) -> Result<Vec<StoredSession>, StoreError> {
        sessions::list_admin_sessions(&self.pool, admin_id, now_unix).await
    }

    async fn delete_expired_sessions(&self, now_unix: i64) -> Result<u64, StoreError> {
        sessions::delete_expired_sessions(&self.pool, now_unix).await
    }

    async fn insert_api_token(&self, token: &NewApiToken) -> Result<StoredApiToken, StoreError> {
        tokens::insert_api_token(&self.pool, token).await
    }

    async fn get_api_token(&self, id: i64) -> Result<Option<StoredApiToken>, StoreError> {
        tokens::get_api_token(&self.pool, id).await
    }

    async fn get_active_api_token(
        &self,
        token_hash: &str,
    ) -> Result<Option<StoredApiToken>, StoreError> {
        tokens::get_active_api_token(&self.pool, token_hash).await
    }

    async fn record_api_token_use(&self, id: i64, now_unix: i64) -> Result<bool, StoreError> {
        tokens::record_api_token_use(&self.pool, id, now_unix).await
    }

    async fn revoke_api_token(&self, id: i64, now_unix: i64) -> Result<bool, StoreError> {
        tokens::revoke_api_token(&self.pool, id, now_unix).await
    }

    async fn list_api_tokens(&self) -> Result<Vec<StoredApiToken>, StoreError> {
        tokens::list_api_tokens(&self.pool).await
    }

    async fn append_audit_event(&self, event: &NewAuditEvent) -> Result<i64, StoreError> {
        audit::append_audit_event(&self.pool, event).await
    }

    async fn list_audit_events(&self, filter: &AuditFilter) -> Result<Vec<AuditEvent>, StoreError> {
        audit::list_audit_events(&self.pool, filter).await
    }

    async fn prune_audit_events(&self, cutoff_unix: i64) -> Result<u64, StoreError> {
        audit::prune_audit_events(&self.pool, cutoff_unix).await
    }

    async fn create_device(&self, device: &NewDevice) -> Result<DeviceRecord, StoreError> {
        devices::create_device(&self.pool, device).await
    }

    async fn get_device(&self, id: &DeviceId) -> Result<Option<DeviceRecord>, StoreError> {
        devices::get_device(&self.pool, id).await
    }

    async fn list_devices(&self, filter: &DeviceFilter) -> Result<Vec<DeviceRecord>, StoreError> {
        devices::list_devices(&self.pool, filter).await
    }

    async fn list_active_device_ids(
        &self,
        group_id: Option<i64>,
    ) -> Result<Vec<DeviceId>, StoreError> {
        devices::list_active_device_ids(&self.pool, group_id).await
    }

    async fn get_device_secret(&self, id: &DeviceId) -> Result<Option<StoredSecret>, StoreError> {
        devices::get_device_secret(&self.pool, id).await
    }

    async fn issue_device_secret(
        &self,
        id: &DeviceId,
        secret_hash: &str,
    ) -> Result<bool, StoreError> {
        devices::issue_device_secret(&self.pool, id, secret_hash).await
    }

    async fn confirm_device_secret(&self, id: &DeviceId, now: i64) -> Result<(), StoreError> {
        devices::confirm_device_secret(&self.pool, id, now).await
    }

    async fn update_device(
        &self,
        id: &DeviceId,
        changes: &DeviceChanges,
    ) -> Result<Option<DeviceRecord>, StoreError> {
        devices::update_device(&self.pool, id, changes).await
    }

    async fn revoke_device(&self, id: &DeviceId, now_unix: i64) -> Result<bool, StoreError> {
        devices::revoke_device(&self.pool, id, now_unix).await
    }

    async fn delete_device(&self, id: &DeviceId) -> Result<bool, StoreError> {
        devices::delete_device(&self.pool, id).await
    }

    async fn merge_devices(
        &self,
        survivor: &DeviceId,
        retired: &DeviceId,
        now_unix: i64,
    ) -> Result<DeviceMerge, StoreError> {
        device_merge::merge_devices(&self.pool, survivor, retired, now_unix).await
    }

    async fn find_possible_duplicates(
        &self,
        id: &DeviceId,
    ) -> Result<Vec<DeviceRecord>, StoreError> {
        device_merge::find_possible_duplicates(&self.pool, id).await
    }

    async fn record_presence(&self, updates: &[PresenceUpdate]) -> Result<u64, StoreError> {
        devices::record_presence(&self.pool, updates).await
    }

    async fn insert_pairing_code(&self, code: &NewPairingCode) -> Result<(), StoreError> {
        pairing::insert_pairing_code(&self.pool, code).await
    }

    async fn claim_pairing_code(
        &self,
        code_hash: &str,
        device: &NewDevice,
        now_unix: i64,
    ) -> Result<PairingClaim, StoreError> {
        pairing::claim_pairing_code(&self.pool, code_hash, device, now_unix).await
    }

    async fn get_pairing_code_by_ticket(
        &self,
        ticket_hash: &str,
    ) -> Result<Option<StoredPairingCode>, StoreError> {
        pairing::get_pairing_code_by_ticket(&self.pool, ticket_hash).await
    }

    async fn prune_pairing_codes(&self, now_unix: i64) -> Result<u64, StoreError> {
        pairing::prune_pairing_codes(&self.pool, now_unix).await
    }

    async fn create_profile(&self, profile: &NewProfile) -> Result<Profile, StoreError> {
        profiles::create_profile(&self.pool, profile).await
    }

    async fn get_profile(&self, id: i64) -> Result<Option<Profile>, StoreError> {
        profiles::get_profile(&self.pool, id).await
    }

    async fn list_profiles(&self) -> Result<Vec<Profile>, StoreError> {
        profiles::list_profiles(&self.pool).await
    }

    async fn update_profile(
        &self,
        id: i64,
        changes: &ProfileChanges,
        now_unix: i64,
    ) -> Result<Option<Profile>, StoreError> {
        profiles::update_profile(&self.pool, id, changes, now_unix).await
    }

    async fn delete_profile(&self, id: i64) -> Result<bool, StoreError> {
        profiles::delete_profile(&self.pool, id).await
    }

    async fn create_group(&self, group: &NewGroup) -> Result<Group, StoreError> {
        profiles::create_group(&self.pool, group).await
    }

    async fn get_group(&self, id: i64) -> Result<Option<Group>, StoreError> {
        profiles::get_group(&self.pool, id).await
    }

    async fn list_groups(&self) -> Result<Vec<Group>, StoreError> {
        profiles::list_groups(&self.pool).await
    }

    async fn update_group(
        &self,
        id: i64,
        changes: &GroupChanges,
        now_unix: i64,
    ) -> Result<Option<Group>, StoreError> {
        profiles::update_group(&self.pool, id, changes, now_unix).await
    }

    async fn delete_group(&self, id: i64) -> Result<bool, StoreError> {
        profiles::delete_group(&self.pool, id).await
    }

    async fn enqueue_command(
        &self,
        command: &NewCommand,
        max_pending: u32,
    ) -> Result<StoredCommand, StoreError> {
        commands::enqueue_command(&self.pool, command, max_pending).await
    }

    async fn enqueue_commands(
        &self,
        commands: &[NewCommand],
        max_pending: u32,
    ) -> Result<Vec<Result<StoredCommand, StoreError>>, StoreError> {
        commands::enqueue_commands(&self.pool, commands, max_pending).await
    }

    async fn get_command(&self, id: CommandId) -> Result<Option<StoredCommand>, StoreError> {
        commands::get_command(&self.pool, id).await
    }

    async fn mark_commands_delivered(
        &self,
        ids: &[CommandId],
        now_unix: i64,
    ) -> Result<Vec<bool>, StoreError> {
        commands::mark_commands_delivered(&self.pool, ids, now_unix).await
    }

    async fn mark_command_delivered(
        &self,
        id: CommandId,
        now_unix: i64,
    ) -> Result<bool, StoreError> {
        commands::mark_command_delivered(&self.pool, id, now_unix).await
    }

    async fn take_pending_commands(
        &self,
        device_id: &DeviceId,
        now_unix: i64,
    ) -> Result<Vec<StoredCommand>, StoreError> {
        commands::take_pending_commands(&self.pool, device_id, now_unix).await
    }

    async fn finish_command(
        &self,
        device_id: &DeviceId,
        id: CommandId,
        error: Option<&str>,
        now_unix: i64,
    ) -> Result<bool, StoreError> {
        commands::finish_command(&self.pool, device_id, id, error, now_unix).await
    }

    async fn finish_commands(&self, replies: &[CommandReply]) -> Result<Vec<bool>, StoreError> {
        commands::finish_commands(&self.pool, replies).await
    }

    async fn expire_commands(&self, now_unix: i64) -> Result<u64, StoreError> {
        commands::expire_commands(&self.pool, now_unix).await
    }

    async fn list_device_commands(
        &self,
        device_id: &DeviceId,
        limit: u32,
    ) -> Result<Vec<StoredCommand>, StoreError> {
        commands::list_device_commands(&self.pool, device_id, limit).await
    }

    async fn prune_commands(&self, cutoff_unix: i64) -> Result<u64, StoreError> {
        commands::prune_commands(&self.pool, cutoff_unix).await
    }

    async fn close(&self) {
        self.pool.close().await;
        info!(db.path = %self.path.display(), "database closed");
    }
}

fn source_from_row(row: &sqlx::sqlite::SqliteRow) -> Result<StoredSource, StoreError> {
    // A document damaged by hand comes back as a JSON string holding the raw text, so one
    // bad row fails only its own source when the sources layer parses it, never the list.
    let settings: String = row.try_get("settings")?;
    let settings = serde_json::from_str(&settings).unwrap_or(serde_json::Value::String(settings));
    Ok(StoredSource {
        id: row.try_get("id")?,
        kind: row.try_get("kind")?,
        name: row.try_get("name")?,
        settings,
        credential: row.try_get("credential")?,
        enabled: row.try_get("enabled")?,
        created_at: row.try_get("created_at")?,
        updated_at: row.try_get("updated_at")?,
    })
}

/// Reads a settings version row. A document that is not JSON at all is reported as corrupt,
/// and one that is JSON is returned whatever its keys.
fn settings_version_from_row(
    row: &sqlx::sqlite::SqliteRow,
) -> Result<StoredSettingsVersion, StoreError> {
    let document: String = row.try_get("document")?;
    let document = serde_json::from_str(&document).map_err(|error| StoreError::Corrupt {
        what: "display settings",
        error,
    })?;
    Ok(StoredSettingsVersion {
        version: row.try_get("version")?,
        document,
        created_at: row.try_get("created_at")?,
        created_by: row.try_get("created_by")?,
    })
}

#[cfg(test)]
mod tests;
